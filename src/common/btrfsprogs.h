/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * btrfs through its own tools (btrfs-progs), as fsck_btrfs.c, rmap_btrfs.c
 * and devcheck.c read it: "btrfs inspect-internal dump-super -a" for the
 * superblock copies and "btrfs inspect-internal dump-tree" for the trees,
 * their output parsed line by line.  Tool-side only; nothing here writes
 * an image or a device.
 */
#ifndef SNAPRESCUE_BTRFSPROGS_H
#define SNAPRESCUE_BTRFSPROGS_H

#include <stddef.h>
#include <stdint.h>

#include "fsckrun.h"

#define BTRFS_SB_COPIES 3

/* Where the superblock copies live: 64 KiB, 64 MiB, 256 GiB. */
extern const uint64_t btrfs_sb_offset[BTRFS_SB_COPIES];

struct btrfs_super_copy {
	int seen; /* dump-super printed it */
	int csum_ok, magic_ok;
	uint64_t generation;
};

/* What dump-super says: every copy's state, the primary's figures. */
struct btrfs_sb {
	struct btrfs_super_copy copy[BTRFS_SB_COPIES];
	uint64_t total_bytes, bytes_used, num_devices, log_root, devid;
	unsigned int sectorsize, nodesize;
	char fsid[40], label[260], csum_type[32];
	char features[512]; /* compat_ro and incompat flag names, lower case */
	char flags[128];
	int dev_fsid_ok;
};

/* "btrfs inspect-internal dump-super -a @image" into @sb.  Returns: 0, -1
 * with @why when it could not run, -2 when btrfs is not found (@why names
 * its package). */
int btrfs_dump_super(const char *image, struct btrfs_sb *sb, char *why, size_t len);

#endif
