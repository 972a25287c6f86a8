/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Write a snapshot view out as a sparse file or a stream: the engine of
 * snap_extract, for every tool that needs the view as a plain image (a
 * temporary copy to check, a mount, a delta).  Tool-side only.
 *
 * The view is walked as extents.  Runs of origin chunks go through
 * copy_file_range() segment by segment of the origin's data
 * (SEEK_DATA/SEEK_HOLE keep its holes); COW data and everything that
 * cannot be copied in the kernel goes through a staging buffer that covers
 * one contiguous range of the output and is written with a few large
 * pwrite()s, skipping all-zero blocks so that they stay holes.  Memory:
 * 9 MiB (the staging buffer and a block of zeros for streams).
 */
#ifndef SNAPRESCUE_EXTRACT_H
#define SNAPRESCUE_EXTRACT_H

#include <stdint.h>

#include "snapcow.h"
#include "viewopt.h"

struct extract_options {
	const char *output;    /* the file to create, or "-" for stdout */
	int force;             /* replace an existing regular file, once complete */
	const char *progress;  /* progress bar label, NULL for none (shown on a
				  terminal unless quiet: progress_init()) */
};

/* Write the whole view of @vs to @opt->output.
 *
 * A file is created with O_EXCL; with @opt->force an existing regular file
 * is replaced by a temporary file written next to it and renamed over it at
 * the end.  Never the store or the origin of @vs (compared by device and
 * inode, through links), never a terminal as stdout.  The file is sized to
 * the view, holes are left for zero extents and all-zero chunks, and it is
 * fsynced before the call returns 0.  On any failure, and on SIGINT,
 * SIGTERM or SIGHUP while it is written, the file created is removed
 * (handlers restored afterwards).  A stream gets every byte, zeros too.
 *
 * Each failure is printed ("<tool>: cannot write OUT at byte offset N:
 * ...").  *@written (may be NULL): bytes written (to a file: its data, holes
 * not counted).  Returns: 0 or a negative errno. */
int extract_view(const struct viewset *vs, const struct extract_options *opt,
		 uint64_t *written);

/* Copy [@off, @off + @len) of the view into @fd at the same offsets,
 * leaving zero extents and all-zero 4 KiB blocks as holes (@fd is sized by
 * the caller; a range past the end of the view is left alone).  Reads go
 * through snapcow_view_pread() (whose failures the library logs); nothing
 * is printed.  *@copied (may be NULL): bytes written.  Returns: 0 or a
 * negative errno. */
int extract_copy_sparse(struct snapcow_view *v, int fd, uint64_t off, uint64_t len,
			uint64_t *copied);

#endif
