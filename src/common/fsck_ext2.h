/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ext2/3/4 check of a snapshot view (snap_fsck): features, state,
 * superblock, group descriptor and bitmap checksums, free counts and the
 * orphan list, read through libext2fs without the kernel; with --full also
 * e2fsck -fn on a sparse copy of the view.  It fills a struct fsck_report
 * (fsck_report.h), whose verdict and output it uses.
 */
#ifndef SNAPRESCUE_FSCK_EXT2_H
#define SNAPRESCUE_FSCK_EXT2_H

#include "fsview.h"

struct fsck_ext2_opts {
	int full;  /* also run e2fsck -fn on a copy of the view */
	int quiet; /* human output only when the verdict is not clean */
};

/* Check the filesystem @fv has open (it is closed here: @fv->fs is NULL
 * after), print the report in @fv->format.  Operational failures end the
 * tool (exit 8).  Returns: the fsck exit code (0 clean, 4, 8). */
int fsck_ext2(struct fsview *fv, const struct fsck_ext2_opts *o);

#endif
