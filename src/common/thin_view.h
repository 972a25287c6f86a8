/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A thin volume read without activating its pool: its device's mappings
 * from the pool's metadata (thin_meta.h) turned into pieces of the pool's
 * data device, zero pieces for what is not mapped, as one struct
 * snapcow_dev that a plain libsnapcow view reads (snap_extract, snap_fsck
 * and snap_rmap take it through viewopt like any other view).  The ranges
 * whose mappings could not be read are listed, and read as zeros.
 * Tool-side.
 */
#ifndef SNAPRESCUE_THIN_VIEW_H
#define SNAPRESCUE_THIN_VIEW_H

#include <stdint.h>
#include <sys/stat.h>

#include "snapcow.h"
#include "thin_meta.h"

struct thin_volume {
	struct thin_meta tm;
	struct thin_map map;
	const struct thin_device *dev;
	uint64_t id;
	uint32_t block_bytes;
	uint64_t size;             /* bytes the volume shows */
	int size_guessed;          /* no size given: the end of the last mapping */
	const struct snapcow_dev *meta, *data; /* the pool's devices (not ours) */
	struct snapcow_dev *pieces;            /* the volume */
	uint64_t lost_blocks;      /* blocks of the volume in lost ranges */
	size_t nlost;              /* lost ranges inside the volume */
};

/* Open thin device @id of the pool whose metadata is @meta (@meta_name in
 * messages) and whose data is @data: @size bytes (0: not known, the end of
 * the last mapping, with a warning), through the metadata snapshot with
 * @use_held.  Every failure is printed and ends the tool with @code: not
 * thin metadata, no device @id (the ids that exist are listed), a mapping
 * past the end of @data.  Lost ranges are printed as warnings. */
void thin_volume_open(struct thin_volume *tv, const struct snapcow_dev *meta, const char *meta_name,
		      const struct snapcow_dev *data, uint64_t id, uint64_t size, int use_held,
		      int code);
void thin_volume_close(struct thin_volume *tv);

/* Returns: 1 if a piece of the metadata or data device reads @st. */
int thin_volume_reads(const struct thin_volume *tv, const struct stat *st);

/* Call @fn for each lost range inside the volume, in bytes [off, off + len). */
void thin_volume_lost(const struct thin_volume *tv,
		      void (*fn)(void *data, uint64_t off, uint64_t len, const struct thin_lost *l),
		      void *data);

/* Print "partial: N ranges (B bytes) of thin device ID could not be mapped
 * ..." on stderr when some were lost.  Returns: 1 if some were, else 0. */
int thin_volume_warn_partial(const struct thin_volume *tv);

#endif
