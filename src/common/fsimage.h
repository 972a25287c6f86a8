/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A temporary image of a snapshot view for a filesystem's own tools (which
 * read files, not views): a sparse file of the view's size in a new
 * directory under $TMPDIR (default /var/tmp), filled with the ranges asked
 * for (all of it, or only the superblocks and the log) through
 * extract_copy_sparse(): holes for zeros, copy_file_range() for origin
 * data.  Removed with its directory by fsimage_remove(), at exit, and on
 * SIGINT/SIGTERM.  Its path is shown as "<view>" in the tools' outputs.
 */
#ifndef SNAPRESCUE_FSIMAGE_H
#define SNAPRESCUE_FSIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "snapcow.h"

struct fsimage {
	char dir[4096];
	char path[4200];
	uint64_t size;   /* bytes, the view's */
	uint64_t copied; /* data bytes written so far (holes not counted) */
	uint64_t ns;     /* time spent copying */
};

/* A new directory "$TMPDIR/@prefix.XXXXXX" and in it an empty file
 * "view.img" of @size bytes.  Returns: 0, or -errno and @why ("cannot
 * create a temporary directory in /var/tmp: ..."). */
int fsimage_create(struct fsimage *im, const char *prefix, uint64_t size, char *why,
		   size_t len);

/* Copy [@off, @off + @len) of @v (clipped to the view) into the image at
 * the same offsets.  Returns: 0 or -errno. */
int fsimage_copy(struct fsimage *im, struct snapcow_view *v, uint64_t off, uint64_t len);

/* Remove the image and its directory (again: a no-op). */
void fsimage_remove(struct fsimage *im);

/* Replace the image's path in @text by "<view>" (in place). */
void fsimage_hide_path(const struct fsimage *im, char *text);

/* "N MiB copied in T s" of @im, into @buf.  Returns: @buf. */
const char *fsimage_cost(const struct fsimage *im, char *buf, size_t len);

#endif
