/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_rmap: what lives in the chunks a dm-snapshot store holds, for the
 * filesystem in the snapshot view: every exception's origin chunk ->
 * filesystem blocks -> owning inodes -> paths, plus the metadata and free
 * space; with --uncommitted also the data chunks past the table's end.
 * By family:
 *   rmap_ext2.c   libextfs: one pass over the inodes against a bitmap of the
 *                 changed blocks
 *   rmap_xfs.c    xfs_db -r on a temporary copy: the reverse-mapping btree
 *                 (fsmap) when the filesystem has one, else blockget and
 *                 blockuse; a dirty log is replayed on the copy first
 *   rmap_btrfs.c  btrfs inspect-internal dump-tree on a temporary copy: the
 *                 chunk tree (device -> logical), the extent tree (logical ->
 *                 owners) and the filesystem trees (inode -> path)
 * Each fills a struct rmap_report (rmap_report.h), printed the same way.
 */
#ifndef SNAPRESCUE_RMAP_H
#define SNAPRESCUE_RMAP_H

#include "fsview.h"
#include "rmap_report.h"

/* Map the exceptions of @fv's view to what its filesystem holds there and
 * print it in @fv->format; an ext2 filesystem is closed here (@fv->fs is
 * NULL after).  Failures end the tool (exit 1).  Returns: EXIT_OK, or
 * EXIT_FAIL if libext2fs attempted a write (refused). */
int rmap_view(struct fsview *fv, const struct rmap_opts *o);

int rmap_ext2(struct fsview *fv, const struct rmap_opts *o);
int rmap_xfs(struct fsview *fv, const struct rmap_opts *o);
int rmap_btrfs(struct fsview *fv, const struct rmap_opts *o);

#endif
