/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thin-pool metadata read straight from its device or image, without the
 * kernel and without thin_dump.  Tool-side: the format is dm-thin's
 * (drivers/md/dm-thin-metadata.c on persistent-data's btrees and space
 * maps, drivers/md/persistent-data/), not libsnapcow's.
 *
 *   block 0  the superblock: crc32c of bytes 4..4095 (seed ~0, XOR 160774)
 *            at byte 0, its own block number at 8, magic 27022010 at 32,
 *            version, time, transaction id at 48, held_root (the superblock
 *            copy of a metadata snapshot) at 56, the data space map root at
 *            64 (its first field: the data device in blocks), the mapping
 *            tree root at 320, the device details root at 328, the data
 *            block size in sectors at 336, the metadata block size (8) at
 *            340, metadata blocks at 344
 *   nodes    4096-byte btree nodes: crc32c of bytes 4.. (XOR 121107) at 0,
 *            flags (1 internal, 2 leaf) at 4, block number at 8, nr_entries
 *            at 16, max_entries at 20, value_size at 24, keys (le64) from 32,
 *            then the values; internal values are child block numbers
 *   trees    mapping: device id -> the root of that device's tree, virtual
 *            block -> data block << 24 | time; details: device id ->
 *            mapped blocks, transaction id, creation and snapshot time
 *
 * Every node is checked before it is used: checksum, block number, flags,
 * counts, sizes, keys strictly increasing and inside the key range its
 * parent gives it.  A node that fails loses exactly that range, which is
 * reported (struct thin_lost), never left as a silent hole.  Memory: one
 * block per tree level, plus 24 bytes per run of consecutive mappings.
 */
#ifndef SNAPRESCUE_THIN_META_H
#define SNAPRESCUE_THIN_META_H

#include <stddef.h>
#include <stdint.h>

#include "snapcow.h"

#define THIN_META_BLOCK 4096U
#define THIN_META_MAGIC 27022010ULL
#define THIN_NEEDS_CHECK 1U /* superblock flags bit 0 */

struct thin_super {
	uint32_t flags, version, time;
	uint64_t trans_id;
	uint64_t held_root;          /* a metadata snapshot's superblock, 0: none */
	uint64_t mapping_root, details_root;
	uint32_t data_block_sectors;
	uint64_t data_blocks;        /* the data device, in data blocks */
	uint64_t meta_blocks;
};

struct thin_device {
	uint64_t id;
	uint64_t root;               /* of its mapping tree; 0 if lost */
	int has_details;             /* the four fields below were read */
	uint64_t mapped_blocks, trans_id;
	uint32_t creation_time, snapshotted_time;
};

/* Keys [begin, last] (virtual blocks, or device ids) whose entries could
 * not be read: they were below metadata block @block, which failed @why. */
struct thin_lost {
	uint64_t begin, last;
	uint64_t block;
	char why[160];
};

/* Virtual blocks [vblock, vblock + len) map to data blocks [dblock, ...). */
struct thin_run {
	uint64_t vblock, dblock, len;
};

struct thin_map {
	struct thin_run *runs;
	size_t nruns;
	struct thin_lost *lost;
	size_t nlost;
	uint64_t mapped; /* blocks in the runs */
};

struct thin_meta {
	const struct snapcow_dev *dev;
	const char *name;
	struct thin_super sb;        /* the one read (a metadata snapshot's with use_held) */
	struct thin_super top;       /* block 0's, always */
	int held;                    /* sb is the metadata snapshot's */
	uint64_t dev_blocks;         /* metadata device size in blocks */
	struct thin_device *devs;    /* by id */
	size_t ndevs;
	struct thin_lost *lost;      /* device ids lost from the mapping or details tree */
	size_t nlost;
};

/* Read the superblock of @dev (named @name in messages) and the list of
 * thin devices; with @use_held, through the metadata snapshot whose
 * superblock copy block 0's held_root names (a live pool's stable copy).
 * Returns: 0 and *@tm filled (free with thin_meta_close()), -EINVAL with
 * "offset N: what is wrong" in @why (not thin metadata, a checksum, a
 * field out of range, no metadata snapshot), -EIO (@why says where), or
 * -ENOMEM. */
int thin_meta_open(const struct snapcow_dev *dev, const char *name, int use_held,
		   struct thin_meta *tm, char *why, size_t len);
void thin_meta_close(struct thin_meta *tm);

/* Returns: the device @id of @tm, or NULL. */
const struct thin_device *thin_meta_device(const struct thin_meta *tm, uint64_t id);

/* The ids of @tm's devices, "1, 2, 5" into @buf.  Returns: @buf. */
const char *thin_meta_ids(const struct thin_meta *tm, char *buf, size_t len);

/* Walk the mapping tree of device @d: runs of mappings in virtual block
 * order and the lost ranges.  Returns: 0 and *@m (free with
 * thin_map_free()), or -ENOMEM. */
int thin_meta_map(const struct thin_meta *tm, const struct thin_device *d, struct thin_map *m);
void thin_map_free(struct thin_map *m);

/* "needs_check" or "" for superblock flags @flags. */
const char *thin_flags_name(uint32_t flags);

#endif
