/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapcow-internal.h"

struct snapcow_iter {
	struct snapcow_store *s;
	unsigned char *area;     /* current area's chunk */
	uint64_t cur_area;       /* area held in @area */
	uint32_t next_index;     /* next record to return */
	uint32_t last_index;     /* record last returned */
	uint64_t last_area;
	int loaded;
	int done;
};

SNAPCOW_EXPORT int snapcow_iter_new(struct snapcow_store *s, struct snapcow_iter **out)
{
	struct snapcow_iter *it;

	if (!s || !out || !s->chunk_bytes)
		return -EINVAL;
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->area = malloc(s->chunk_bytes);
	if (!it->area) {
		free(it);
		return -ENOMEM;
	}
	it->s = s;
	*out = it;
	return 0;
}

SNAPCOW_EXPORT void snapcow_iter_free(struct snapcow_iter *it)
{
	if (!it)
		return;
	free(it->area);
	free(it);
}

static int load_area(struct snapcow_iter *it, uint64_t area)
{
	struct snapcow_store *s = it->s;
	uint64_t chunk = snapcow_area_chunk(s->per_area, area);
	int r;

	if (chunk >= snapcow_store_chunks(s)) {
		log_err("%s: area %llu is full but area %llu would be at chunk %llu "
			"(byte offset %llu), past the end of the store (%llu chunks): "
			"the table has no terminator",
			s->name, (unsigned long long)(area - 1), (unsigned long long)area,
			(unsigned long long)chunk,
			(unsigned long long)(chunk * s->chunk_bytes),
			(unsigned long long)snapcow_store_chunks(s));
		return SNAPCOW_ERR_TABLE;
	}
	r = snapcow_pread_full(s->fd, it->area, s->chunk_bytes, chunk * s->chunk_bytes);
	if (r < 0) {
		log_err("%s: cannot read metadata area %llu at byte offset %llu: %s", s->name,
			(unsigned long long)area, (unsigned long long)(chunk * s->chunk_bytes),
			snapcow_strerror(r));
		return r;
	}
	it->cur_area = area;
	it->next_index = 0;
	it->loaded = 1;
	return 0;
}

SNAPCOW_EXPORT int snapcow_iter_next(struct snapcow_iter *it, struct snapcow_exception *e)
{
	const struct snapcow_disk_exception *de;
	uint64_t new_chunk;
	int r;

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
	de = (const struct snapcow_disk_exception *)it->area + it->next_index;
	new_chunk = le64toh(de->new_chunk);
	if (new_chunk == 0) {
		it->done = 1;
		it->last_area = it->cur_area;
		it->last_index = it->next_index;
		return 1;
	}
	e->old_chunk = le64toh(de->old_chunk);
	e->new_chunk = new_chunk;
	it->last_area = it->cur_area;
	it->last_index = it->next_index;
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
		       uint64_t *last_area, uint32_t *last_n)
{
	const struct snapcow_disk_exception *rec;
	uint64_t area = 0, chunks = snapcow_store_chunks(s);
	unsigned char *buf;
	uint32_t n;
	int r = 0;

	buf = malloc(s->chunk_bytes);
	if (!buf)
		return -ENOMEM;
	rec = (const struct snapcow_disk_exception *)buf;
	*last_area = 0;
	*last_n = 0;
	for (;;) {
		uint64_t chunk = snapcow_area_chunk(s->per_area, area);

		if (chunk >= chunks) {
			log_err("%s: area %llu is full but area %llu would be at chunk %llu "
				"(byte offset %llu), past the end of the store (%llu chunks): "
				"the table has no terminator",
				s->name, (unsigned long long)(area - 1), (unsigned long long)area,
				(unsigned long long)chunk,
				(unsigned long long)(chunk * s->chunk_bytes),
				(unsigned long long)chunks);
			*last_area = area - 1;
			*last_n = s->per_area;
			r = SNAPCOW_ERR_TABLE;
			break;
		}
		r = snapcow_pread_full(s->fd, buf, s->chunk_bytes, chunk * s->chunk_bytes);
		if (r < 0) {
			log_err("%s: cannot read metadata area %llu at byte offset %llu: %s",
				s->name, (unsigned long long)area,
				(unsigned long long)(chunk * s->chunk_bytes), snapcow_strerror(r));
			break;
		}
		for (n = 0; n < s->per_area; n++)
			if (!rec[n].new_chunk) /* zero in any byte order */
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
		area++;
	}
	free(buf);
	return r;
}

uint64_t snapcow_next_free_finish(const struct snapcow_store *s, uint64_t next_free)
{
	if (next_free % ((uint64_t)s->per_area + 1) == 1)
		next_free++;
	return next_free;
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
	r = snapcow_walk_areas(s, scan_area, &out, &last_area, &last_n);
	if (r < 0)
		return r;
	/* The terminating record (or the zeroed area) is in the last area read. */
	out.areas = last_area + 1;
	out.last_area_full = last_area > 0 && last_n == 0;
	out.next_free = snapcow_next_free_finish(s, out.next_free);
	out.total_sectors = s->size / SNAPCOW_SECTOR_SIZE;
	out.allocated_sectors = out.next_free * s->hdr.chunk_sectors;
	out.metadata_sectors = (out.areas + 1) * s->hdr.chunk_sectors;
	out.full = out.total_sectors < (out.next_free + 1) * s->hdr.chunk_sectors;
	*st = out;
	return 0;
}

SNAPCOW_EXPORT int snapcow_store_scan_uncommitted(struct snapcow_store *s, uint64_t next_free,
						  struct snapcow_uncommitted *u)
{
	return snapcow_store_scan_uncommitted_fn(s, next_free, NULL, NULL, u);
}

SNAPCOW_EXPORT int snapcow_store_scan_uncommitted_fn(struct snapcow_store *s, uint64_t next_free,
						     snapcow_chunk_fn fn, void *fn_data,
						     struct snapcow_uncommitted *u)
{
	const size_t batch_chunks_max = 256;
	struct snapcow_uncommitted out = { 0 };
	uint64_t chunks = snapcow_store_chunks(s);
	uint64_t last_data = chunks ? chunks - 1 : 0;
	uint64_t c = next_free;
	unsigned char *buf;
	size_t batch;
	int r = 0;

	if (!s || !u)
		return -EINVAL;
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

		if (!s->is_blockdev) {
			/* Skip the holes of a sparse file without reading them. */
			off_t data = lseek(s->fd, (off_t)(c * s->chunk_bytes), SEEK_DATA);
			off_t hole;

			if (data < 0) {
				if (errno == ENXIO)
					break;
				r = -errno;
				break;
			}
			if ((uint64_t)data / s->chunk_bytes > c)
				c = (uint64_t)data / s->chunk_bytes;
			if (c >= chunks)
				break;
			hole = lseek(s->fd, (off_t)(c * s->chunk_bytes), SEEK_HOLE);
			if (hole > 0) {
				limit = ((uint64_t)hole + s->chunk_bytes - 1) / s->chunk_bytes;
				if (limit > chunks)
					limit = chunks;
				if (limit <= c)
					limit = c + 1;
			}
		}
		if (c + n > limit)
			n = limit - c;
		r = snapcow_pread_full(s->fd, buf, n * s->chunk_bytes, c * s->chunk_bytes);
		if (r < 0) {
			log_err("%s: cannot read data chunks at byte offset %llu: %s", s->name,
				(unsigned long long)(c * s->chunk_bytes), snapcow_strerror(r));
			break;
		}
		for (i = 0; i < n; i++) {
			uint64_t chunk = c + i;

			if (snapcow_chunk_is_metadata(s->per_area, chunk))
				continue;
			if (snapcow_is_zero(buf + i * s->chunk_bytes, s->chunk_bytes))
				continue;
			if (!out.chunks)
				out.first = chunk;
			out.chunks++;
			out.last = chunk;
			if (chunk == last_data)
				out.reaches_end = 1;
			if (fn) {
				r = fn(fn_data, chunk);
				if (r)
					break;
			}
		}
		if (r)
			break;
		c += n;
	}
	free(buf);
	if (r < 0)
		return r;
	*u = out;
	return 0;
}
