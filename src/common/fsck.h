/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_fsck's check of the filesystem in a snapshot view, by family:
 *   fsck_ext2.c   ext2/3/4 read through libext2fs; --full: e2fsck -fn
 *   fsck_xfs.c    superblocks, AG headers and the log state through xfs_db
 *                 and xfs_logprint on a partial temporary copy; --full: the
 *                 log replayed by a private mount of a whole copy, then
 *                 xfs_repair -n
 *   fsck_btrfs.c  the superblock copies through btrfs inspect-internal
 *                 dump-super; --full: btrfs check --readonly on a copy
 * Each fills a struct fsck_report (fsck_report.h), whose verdict and output
 * they share.  The store and the origin are never written.
 */
#ifndef SNAPRESCUE_FSCK_H
#define SNAPRESCUE_FSCK_H

#include "fsview.h"

struct fsck_opts {
	int full;          /* also run the filesystem's checker on a copy of the view */
	int quiet;         /* human output only when the verdict is not clean */
	int no_log_replay; /* --full, XFS: do not replay a dirty log on the copy */
};

/* Check the filesystem @fv has open or probed (an ext2 one is closed here:
 * @fv->fs is NULL after), print the report in @fv->format.  Operational
 * failures end the tool (exit 8).  Returns: the fsck exit code (0 clean,
 * 4, 8). */
int fsck_view(struct fsview *fv, const struct fsck_opts *o);

int fsck_ext2(struct fsview *fv, const struct fsck_opts *o);
int fsck_xfs(struct fsview *fv, const struct fsck_opts *o);
int fsck_btrfs(struct fsview *fv, const struct fsck_opts *o);

#endif
