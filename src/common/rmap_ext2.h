/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What lives in the chunks a dm-snapshot store holds, for an ext2/3/4
 * filesystem in the snapshot view (snap_rmap): every exception's origin
 * chunk -> filesystem blocks -> owning inodes -> paths, plus the metadata
 * (superblocks, group descriptors, bitmaps, inode tables, journal) and free
 * space; with --uncommitted also the data chunks past the table's end.
 */
#ifndef SNAPRESCUE_RMAP_EXT2_H
#define SNAPRESCUE_RMAP_EXT2_H

#include <stdint.h>

#include "fsview.h"

struct rmap_ext2_opts {
	uint64_t from, to; /* only exceptions whose origin chunk is in from..to */
	int uncommitted;   /* also the data chunks past next_free (and, on a zero
			      origin, the files whose data they may hold) */
	int trust;         /* also the files and metadata with blocks in the part of
			      the view that may be newer than the snapshot (trust.h) */
};

/* Map the exceptions of @fv's view to what the filesystem @fv has open
 * holds there and print it in @fv->format; the filesystem is closed here
 * (@fv->fs is NULL after).  Failures end the tool (exit 1).  Returns:
 * EXIT_OK, or EXIT_FAIL if libext2fs attempted a write (refused). */
int rmap_ext2(struct fsview *fv, const struct rmap_ext2_opts *o);

#endif
