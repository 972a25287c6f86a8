/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the kernel's merge does to a store (drivers/md/dm-snap-persistent.c,
 * persistent_prepare_merge() and persistent_commit_merge()): once the
 * chunks of the last exceptions are on the origin, those records are
 * zeroed (both fields), from the tail of the table backwards, and their
 * metadata area is rewritten; when an area is empty the merge goes on in
 * the area before it.  The header is kept (valid stays 1) and the data
 * chunks are left as they are.  The table the kernel would load is a prefix
 * of the old one at every moment: a merge cut short is resumed from what is
 * left, by the kernel on the next activation or by snap_merge.
 *
 * Record i of a table lies in area i / per_area at index i % per_area
 * (every area but the last is full: snapcow_walk_areas()), so the last n
 * records are found without reading the areas in front of them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "snapcow-internal.h"

/* Zero records [@from, @to) of area @area, write the chunk, sync, read it
 * back.  @buf and @back are chunk bytes long. */
static int shrink_area(struct snapcow_store *s, uint64_t area, uint32_t from, uint32_t to,
		       unsigned char *buf, unsigned char *back)
{
	uint64_t off = snapcow_area_chunk(s->per_area, area) * s->chunk_bytes;
	int r = snapcow_dev_pread(s->dev, buf, s->chunk_bytes, off);

	if (r < 0) {
		log_err(s->ctx, "%s: cannot read metadata area %" PRIu64 " at byte offset %" PRIu64
			": %s", s->name, area, off, snapcow_strerror(r));
		return r;
	}
	memset(buf + (size_t)from * SNAPCOW_RECORD_SIZE, 0,
	       (size_t)(to - from) * SNAPCOW_RECORD_SIZE);
	r = snapcow_dev_pwrite(s->dev, buf, s->chunk_bytes, off);
	if (r < 0) {
		log_err(s->ctx, "%s: cannot write metadata area %" PRIu64 " at byte offset %" PRIu64
			": %s", s->name, area, off, snapcow_strerror(r));
		return r;
	}
	r = snapcow_dev_sync(s->dev);
	if (r < 0) {
		log_err(s->ctx, "%s: fsync failed: %s", s->name, snapcow_strerror(r));
		return r;
	}
	r = snapcow_dev_pread(s->dev, back, s->chunk_bytes, off);
	if (r < 0) {
		log_err(s->ctx, "%s: cannot read back metadata area %" PRIu64 " at byte offset %"
			PRIu64 ": %s", s->name, area, off, snapcow_strerror(r));
		return r;
	}
	if (memcmp(buf, back, s->chunk_bytes)) {
		log_err(s->ctx, "%s: metadata area %" PRIu64 " read back at byte offset %" PRIu64
			" differs from what was written", s->name, area, off);
		return SNAPCOW_ERR_VERIFY;
	}
	return 0;
}

SNAPCOW_EXPORT int snapcow_store_merge_shrink(struct snapcow_store *s, uint64_t n,
					      snapcow_shrink_fn fn, void *data)
{
	unsigned char *buf = NULL, *back = NULL;
	struct snapcow_stats st;
	uint64_t left, target;
	int r;

	if (!s || !s->chunk_bytes)
		return -EINVAL;
	if (!(s->flags & SNAPCOW_OPEN_RDWR))
		return -EBADF;
	r = snapcow_store_scan(s, &st);
	if (r < 0)
		return r;
	if (n > st.exceptions) {
		log_err(s->ctx, "%s: cannot remove %" PRIu64 " records: the table holds %" PRIu64,
			s->name, n, st.exceptions);
		return -EINVAL;
	}
	buf = malloc(s->chunk_bytes);
	back = malloc(s->chunk_bytes);
	r = buf && back ? 0 : -ENOMEM;
	left = st.exceptions;
	target = st.exceptions - n;
	while (!r && left > target) {
		uint64_t area = (left - 1) / s->per_area, first = area * s->per_area;

		if (first < target)
			first = target;
		r = shrink_area(s, area, (uint32_t)(first - area * s->per_area),
				(uint32_t)(left - area * s->per_area), buf, back);
		if (r)
			break;
		left = first;
		if (fn)
			r = fn(data, area, left);
	}
	free(buf);
	free(back);
	return r;
}
