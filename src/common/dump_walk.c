/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A store's header and table, visited the way the kernel walks them (see
 * dump.h): libsnapcow's area reader, one area in memory at a time. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "dump.h"
#include "tool.h"

static int visit_header(struct snapcow_store *s, const struct dump_visitor *v, void *data)
{
	const struct snapcow_header *h = snapcow_store_header(s);
	const struct dump_header dh = {
		.magic = h->magic,
		.valid = h->valid,
		.version = h->version,
		.chunk_sectors = h->chunk_sectors,
		.store_size = snapcow_store_size(s),
		.per_area = snapcow_store_per_area(s),
	};
	const struct dump_pos pos = { 0 };

	return dump_visit(v, header, data, &pos, &dh);
}

/* Area @pos->area: its @live records in @buf. */
static int visit_area(const struct dump_visitor *v, void *data, struct dump_pos *pos,
		      uint32_t per_area, const unsigned char *buf, uint32_t live)
{
	const struct { uint64_t old_chunk, new_chunk; } *rec = (const void *)buf;
	uint32_t i;
	int r;

	r = dump_visit(v, area, data, pos, pos->area, snapcow_area_chunk(per_area, pos->area));
	for (i = 0; i < live && !r; i++, pos->record++) {
		pos->index = i;
		r = dump_visit(v, exception, data, pos, le64toh(rec[i].old_chunk),
			       le64toh(rec[i].new_chunk));
	}
	return r ? r : dump_visit(v, area_end, data, pos, live);
}

int dump_walk_store(struct snapcow_store *s, const struct dump_visitor *v, void *data,
		    struct dump_walk_result *res)
{
	uint32_t per = snapcow_store_per_area(s), live = 0;
	struct dump_pos pos = { 0 };
	unsigned char *buf;
	int r, err = 0;

	buf = malloc(snapcow_store_chunk_bytes(s));
	if (!buf)
		return -ENOMEM;
	*res = (struct dump_walk_result){ 0 };
	r = visit_header(s, v, data);
	for (pos.area = 0; !r; pos.area++) {
		err = snapcow_store_read_area(s, pos.area, buf, &live);
		if (err < 0)
			break;
		r = visit_area(v, data, &pos, per, buf, live);
		res->exceptions += live;
		res->areas++;
		if (live < per)
			break;
	}
	free(buf);
	if (r)
		return r; /* a callback stopped the walk */
	res->end_area = pos.area;
	res->end_index = err ? 0 : live;
	res->error = err;
	r = dump_visit(v, end, data, &pos, err != 0, pos.area);
	return r ? r : err;
}

/* Non-zero bytes of chunk @chunk from byte @from on. */
static uint64_t nonzero_from(struct snapcow_store *s, unsigned char *buf, uint64_t chunk,
			     uint64_t from)
{
	uint32_t cb = snapcow_store_chunk_bytes(s);
	uint64_t n = 0, i;

	if (snapcow_store_read_chunk(s, chunk, buf) < 0)
		return 0;
	for (i = from; i < cb; i++)
		n += buf[i] != 0;
	return n;
}

void dump_warn_leftovers(struct snapcow_store *s, const struct dump_walk_result *res)
{
	uint32_t cb = snapcow_store_chunk_bytes(s);
	uint64_t chunk = snapcow_area_chunk(snapcow_store_per_area(s), res->end_area);
	uint64_t from = (uint64_t)res->end_index * SNAPCOW_RECORD_SIZE, n;
	unsigned char *buf = malloc(cb);

	if (!buf || res->error) {
		free(buf);
		return;
	}
	n = nonzero_from(s, buf, 0, sizeof(struct snapcow_header));
	if (n)
		warnx("warning: %s: %" PRIu64 " non-zero bytes in the header chunk after the header "
		      "(byte offsets 16..%" PRIu32 ") are not in the dump", snapcow_store_name(s),
		      n, cb - 1);
	n = nonzero_from(s, buf, chunk, from);
	if (n)
		warnx("warning: %s: %" PRIu64 " non-zero bytes in area %" PRIu64 " from the end of "
		      "the table (byte offset %" PRIu64 ") on are not in the dump",
		      snapcow_store_name(s), n, res->end_area, chunk * cb + from);
	free(buf);
}
