/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read a filesystem inside a snapshot view without the kernel: a libext2fs
 * io_manager that reads through snapcow_view_pread() and refuses every
 * write, and libblkid probing of the view.  Tool-side: libsnapcow itself
 * never depends on ext2fs or blkid.
 */
#ifndef SNAPRESCUE_EXT2VIEW_H
#define SNAPRESCUE_EXT2VIEW_H

#include <ext2fs/ext2fs.h>

#include "snapcow.h"

/* Open the ext2/3/4 filesystem on @v read-only (@flags are added to
 * EXT2_FLAG_64BITS; EXT2_FLAG_RW is refused).  @name is used in messages.
 * Not thread safe (one open at a time).  Returns: 0 or a libext2fs error
 * code (com_err: error_message()). */
errcode_t ext2view_open(struct snapcow_view *v, const char *name, int flags,
			ext2_filsys *out);

/* The io_manager itself: reads go to the view; write_blk*, write_byte,
 * discard and zeroout fail with EXT2_ET_RO_FILSYS. */
extern io_manager ext2view_io_manager;

/* Writes attempted through the manager since the process started (every
 * one was refused). */
unsigned long ext2view_refused_writes(void);

/* Probe the view with libblkid (its first and last MiB, exposed
 * through a memory file; nothing is written anywhere else).
 * Returns: as fsprobe_fd() (fsprobe.h): 1 and the type (e.g. "ext4",
 * "xfs") in @type, 0 when libblkid finds no signature, 2 when it finds
 * several, or a negative errno. */
int ext2view_probe(struct snapcow_view *v, char *type, size_t len);

/* Open the ext2/3/4 filesystem of the view of @store that
 * ext2view_probe() said is ext2/3/4 (@probed 1) or found no signature on
 * (@probed 0), or end the tool with exit @operr.  The caller has
 * registered the ext2 com_err table.  Returns: 0. */
int ext2view_open_or_exit(struct snapcow_view *v, const char *store, int probed, int operr,
			  ext2_filsys *out);

#endif
