/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Walking the exception table, built on snapcow_store_read_area(): the
 * iterator, the area walk, the kernel's figures and the uncommitted-data
 * scan. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapcow-internal.h"

struct snapcow_iter {
	struct snapcow_store *s;
	struct snapcow_areas *areas;
	const struct snapcow_disk_exception *area; /* current area's records */
	uint64_t cur_area;       /* area held in @area */
	uint32_t live;           /* its records before the terminator */
	uint32_t next_index;     /* next record to return */
	uint32_t last_index;     /* record last returned */
	uint64_t last_area;
	int loaded;
	int done;
};

SNAPCOW_EXPORT int snapcow_iter_new(struct snapcow_store *s, struct snapcow_iter **out)
{
	struct snapcow_iter *it;
	int r;

	if (!s || !out || !s->chunk_bytes)
		return -EINVAL;
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	r = snapcow_areas_open(s, 1, &it->areas);
	if (r < 0) {
		free(it);
		return r;
	}
	it->s = s;
	*out = it;
	return 0;
}

SNAPCOW_EXPORT void snapcow_iter_free(struct snapcow_iter *it)
{
	if (!it)
		return;
	snapcow_areas_close(it->areas);
	free(it);
}

/* The next area, @area (the areas come in order). */
static int load_area(struct snapcow_iter *it, uint64_t area)
{
	int r = snapcow_areas_next(it->areas, &it->area, &it->live);

	if (r < 0)
		return r;
	it->cur_area = area;
	it->next_index = 0;
	it->loaded = 1;
	return 0;
}

SNAPCOW_EXPORT int snapcow_iter_next(struct snapcow_iter *it, struct snapcow_exception *e)
{
	const struct snapcow_disk_exception *de;
	int r;

	if (!it || !e)
		return -EINVAL;
	if (it->done)
		return 1;
	if (!it->loaded) {
		r = load_area(it, 0);
		if (r < 0)
			return r;
	} else if (it->next_index == it->s->per_area) {
		/* The area is full: the kernel goes on to the next one. */
		r = load_area(it, it->cur_area + 1);
		if (r < 0)
			return r;
	}
	it->last_area = it->cur_area;
	it->last_index = it->next_index;
	if (it->next_index == it->live) {
		it->done = 1;
		return 1;
	}
	de = it->area + it->next_index;
	e->old_chunk = le64toh(de->old_chunk);
	e->new_chunk = le64toh(de->new_chunk);
	it->next_index++;
	return 0;
}

SNAPCOW_EXPORT uint64_t snapcow_iter_area(const struct snapcow_iter *it)
{
	return it->last_area;
}

SNAPCOW_EXPORT uint32_t snapcow_iter_index(const struct snapcow_iter *it)
{
	return it->last_index;
}

SNAPCOW_EXPORT uint64_t snapcow_iter_offset(const struct snapcow_iter *it)
{
	return snapcow_area_chunk(it->s->per_area, it->last_area) * it->s->chunk_bytes +
	       (uint64_t)it->last_index * SNAPCOW_RECORD_SIZE;
}

int snapcow_walk_areas(struct snapcow_store *s, snapcow_area_fn fn, void *data,
		       uint64_t *last_area, uint32_t *last_n, int log_no_terminator)
{
	const struct snapcow_disk_exception *rec;
	struct snapcow_areas *areas;
	uint64_t area;
	uint32_t n;
	int r;

	r = snapcow_areas_open(s, log_no_terminator, &areas);
	if (r < 0)
		return r;
	*last_area = 0;
	*last_n = 0;
	for (area = 0;; area++) {
		r = snapcow_areas_next(areas, &rec, &n);
		if (r == SNAPCOW_ERR_TABLE) {
			*last_n = s->per_area; /* *last_area: the full one before */
			break;
		}
		if (r < 0)
			break;
		r = fn ? fn(data, area, rec, n) : 0;
		if (r < 0)
			break;
		*last_area = area;
		*last_n = n;
		if (n < s->per_area) {
			r = 0;
			break;
		}
	}
	snapcow_areas_close(areas);
	return r;
}

static int scan_area(void *data, uint64_t area, const struct snapcow_disk_exception *rec,
		     uint32_t n)
{
	struct snapcow_stats *st = data;
	uint64_t max = st->next_free;
	uint32_t i;

	(void)area;
	for (i = 0; i < n; i++) {
		uint64_t nc = le64toh(rec[i].new_chunk);
		max = nc >= max ? nc + 1 : max;
	}
	st->next_free = max;
	st->exceptions += n;
	return 0;
}

SNAPCOW_EXPORT int snapcow_store_scan(struct snapcow_store *s, struct snapcow_stats *st)
{
	struct snapcow_stats out;
	uint64_t last_area;
	uint32_t last_n;
	int r;

	if (!s || !st || !s->chunk_bytes)
		return -EINVAL;
	memset(&out, 0, sizeof(out));
	out.next_free = 2; /* header and first area */
	r = snapcow_walk_areas(s, scan_area, &out, &last_area, &last_n, 1);
	if (r < 0)
		return r;
	/* The terminating record (or the zeroed area) is in the last area read. */
	out.areas = last_area + 1;
	out.last_area_full = last_area > 0 && last_n == 0;
	snapcow_stats_finish(&s->geo, &out);
	*st = out;
	return 0;
}

/* Where the data at or after chunk @c is: *@c moves to it and *@limit to
 * the hole after it.  Returns 0, 1 when only holes are left, or -errno. */
static int next_data(struct snapcow_store *s, uint64_t *c, uint64_t *limit)
{
	uint64_t data, hole;
	int r = snapcow_dev_next_data(s->dev, *c * s->chunk_bytes, &data, &hole);

	if (r)
		return r;
	if (data / s->chunk_bytes > *c)
		*c = data / s->chunk_bytes;
	if (*c >= s->geo.chunks)
		return 1;
	*limit = (hole + s->chunk_bytes - 1) / s->chunk_bytes;
	if (*limit > s->geo.chunks)
		*limit = s->geo.chunks;
	if (*limit <= *c)
		*limit = *c + 1;
	return 0;
}

SNAPCOW_EXPORT int snapcow_store_scan_uncommitted(struct snapcow_store *s, uint64_t next_free,
						  snapcow_chunk_fn fn, void *fn_data,
						  struct snapcow_uncommitted *u)
{
	const size_t batch_chunks_max = 256;
	struct snapcow_uncommitted out = { 0 };
	uint64_t chunks, last_data, c = next_free;
	unsigned char *buf;
	size_t batch;
	int r = 0;

	if (!s || !u || !s->chunk_bytes)
		return -EINVAL;
	chunks = s->geo.chunks;
	last_data = chunks ? chunks - 1 : 0;
	while (last_data > 0 && snapcow_chunk_is_metadata(s->per_area, last_data))
		last_data--;
	batch = s->chunk_bytes >= (1U << 20) ? 1 : (1U << 20) / s->chunk_bytes;
	if (batch > batch_chunks_max)
		batch = batch_chunks_max;
	buf = malloc(batch * s->chunk_bytes);
	if (!buf)
		return -ENOMEM;

	while (c < chunks) {
		uint64_t n = batch, i, limit = chunks;

		/* Skip the holes of a sparse file without reading them. */
		r = next_data(s, &c, &limit);
		if (r) {
			r = r > 0 ? 0 : r;
			break;
		}
		if (c + n > limit)
			n = limit - c;
		r = snapcow_dev_pread(s->dev, buf, n * s->chunk_bytes, c * s->chunk_bytes);
		if (r < 0) {
			log_err(s->ctx, "%s: cannot read data chunks at byte offset %" PRIu64 ": %s",
				s->name, c * s->chunk_bytes, snapcow_strerror(r));
			break;
		}
		for (i = 0; i < n && !r; i++) {
			uint64_t chunk = c + i;

			if (snapcow_chunk_is_metadata(s->per_area, chunk) ||
			    is_zero(buf + i * s->chunk_bytes, s->chunk_bytes))
				continue;
			if (!out.chunks)
				out.first = chunk;
			out.chunks++;
			out.last = chunk;
			if (chunk == last_data)
				out.reaches_end = 1;
			if (fn)
				r = fn(fn_data, chunk);
		}
		if (r)
			break;
		c += n;
	}
	free(buf);
	if (r)
		return r;
	*u = out;
	return 0;
}
