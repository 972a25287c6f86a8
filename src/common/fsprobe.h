/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which filesystem a device, an image or a snapshot view holds: libblkid's
 * superblock probe, the one way every tool asks (ext2view_probe() for a
 * view, snap_resurrect for the volume it brought back).
 */
#ifndef SNAPRESCUE_FSPROBE_H
#define SNAPRESCUE_FSPROBE_H

#include <stddef.h>
#include <stdint.h>

/* Probe the first @size bytes of @fd with libblkid (a safe probe: several
 * signatures are not guessed between).  Returns: 1 and the type (e.g.
 * "ext4", "xfs", "btrfs") in @type, 0 when libblkid finds no signature, 2
 * when it finds several (@type then says "several signatures"), or a
 * negative errno. */
int fsprobe_fd(int fd, uint64_t size, char *type, size_t len);

/* The same for the device or file @path, opened read-only; its cached
 * pages are dropped first (a device-mapper device may have been reloaded
 * under it).  Returns: as fsprobe_fd(), -errno when it cannot be opened. */
int fsprobe_path(const char *path, char *type, size_t len);

/* The filesystem families the tools check and map. */
enum fs_family {
	FS_OTHER,
	FS_EXT2, /* ext2, ext3, ext4 (libext2fs) */
	FS_XFS,
	FS_BTRFS,
};

/* Returns: the family of a libblkid type name. */
enum fs_family fs_family_of(const char *type);

#endif
