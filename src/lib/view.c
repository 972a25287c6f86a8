/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "snapcow-internal.h"

struct snapcow_view {
	struct snapcow_store *s;          /* NULL: a plain view of @origin */
	struct snapcow_ctx *ctx;          /* a plain view's (a reference) */
	struct snapcow_map *map;
	const struct snapcow_dev *origin; /* NULL: the zero target */
	struct snapcow_dev *own_origin;   /* made from an origin fd */
	uint64_t size;
};

SNAPCOW_EXPORT int snapcow_view_new_dev(struct snapcow_store *s, struct snapcow_map *map,
					const struct snapcow_dev *origin, uint64_t size,
					struct snapcow_view **out)
{
	struct snapcow_view *v;

	if (!s || !map || !out || !s->chunk_bytes)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->s = s;
	v->map = map;
	v->origin = origin;
	v->size = size;
	*out = v;
	return 0;
}

SNAPCOW_EXPORT int snapcow_view_new_plain(struct snapcow_ctx *ctx, const struct snapcow_dev *dev,
					  uint64_t size, struct snapcow_view **out)
{
	struct snapcow_view *v;

	if (!dev || !out || size > snapcow_dev_size(dev))
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->ctx = snapcow_ctx_ref(ctx);
	v->origin = dev;
	v->size = size;
	*out = v;
	return 0;
}

SNAPCOW_EXPORT int snapcow_view_new(struct snapcow_store *s, struct snapcow_map *map,
				    int origin_fd, uint64_t size, struct snapcow_view **out)
{
	struct snapcow_dev *d = NULL;
	int r;

	if (origin_fd >= 0 && (r = snapcow_dev_new_fd(origin_fd, "origin", &d)) < 0)
		return r == -ENOMEM ? r : -EINVAL;
	r = snapcow_view_new_dev(s, map, d, size, out);
	if (r < 0)
		snapcow_dev_free(d);
	else
		(*out)->own_origin = d;
	return r;
}

SNAPCOW_EXPORT void snapcow_view_free(struct snapcow_view *v)
{
	if (!v)
		return;
	snapcow_map_free(v->map);
	snapcow_dev_free(v->own_origin);
	snapcow_ctx_unref(v->ctx);
	free(v);
}

SNAPCOW_EXPORT const struct snapcow_dev *snapcow_view_origin(const struct snapcow_view *v)
{
	return v->origin;
}

SNAPCOW_EXPORT uint64_t snapcow_view_size(const struct snapcow_view *v)
{
	return v->size;
}

SNAPCOW_EXPORT const struct snapcow_map *snapcow_view_map(const struct snapcow_view *v)
{
	return v->map;
}

/* A plain view: one extent per piece of the dev, zero pieces as zeros. */
static void plain_extent(const struct snapcow_view *v, uint64_t offset, struct snapcow_extent *ext)
{
	uint64_t at, left;
	int fd;

	snapcow_dev_locate(v->origin, offset, &fd, &at, &left);
	ext->source = fd < 0 ? SNAPCOW_SRC_ZERO : SNAPCOW_SRC_ORIGIN;
	ext->source_offset = offset;
	ext->length = left < v->size - offset ? left : v->size - offset;
}

SNAPCOW_EXPORT int snapcow_view_extent(const struct snapcow_view *v, uint64_t offset,
				       struct snapcow_extent *ext)
{
	uint64_t cb, chunk, end, run, new_chunk = 0, next_old;

	if (!ext)
		return -EINVAL;
	if (offset >= v->size)
		return 1;
	ext->offset = offset;
	if (!v->s) {
		plain_extent(v, offset, ext);
		return 0;
	}
	cb = v->s->chunk_bytes;
	chunk = offset / cb;
	/* Extend over chunks that are consecutive on both sides. */
	run = snapcow_map_run(v->map, chunk, &new_chunk, &next_old);
	if (run) {
		end = (chunk + run) * cb;
		ext->source = SNAPCOW_SRC_COW;
		ext->source_offset = new_chunk * cb + (offset - chunk * cb);
		/* A corrupt new_chunk whose byte offset overflows: make the read
		 * fail instead of reading a wrapped-around offset. */
		if (new_chunk > (UINT64_MAX - cb) / cb)
			ext->source_offset = UINT64_MAX;
	} else {
		/* A huge old_chunk must not wrap around to an end at @offset
		 * (a zero-length extent: view_pread looped forever). */
		if (next_old <= v->size / cb)
			end = next_old * cb;
		else
			end = v->size;
		ext->source = v->origin ? SNAPCOW_SRC_ORIGIN : SNAPCOW_SRC_ZERO;
		ext->source_offset = offset;
	}
	if (end > v->size || end < offset)
		end = v->size;
	ext->length = end - offset;
	return 0;
}

SNAPCOW_EXPORT ssize_t snapcow_view_pread(struct snapcow_view *v, void *buf, size_t len,
					  uint64_t offset)
{
	struct snapcow_extent ext;
	char *p = buf;
	size_t done = 0;
	int r;

	if (offset >= v->size)
		return 0;
	if (len > v->size - offset)
		len = (size_t)(v->size - offset);
	while (done < len) {
		size_t n;

		r = snapcow_view_extent(v, offset + done, &ext);
		if (r != 0)
			return r < 0 ? r : -EIO;
		n = ext.length < len - done ? (size_t)ext.length : len - done;
		switch (ext.source) {
		case SNAPCOW_SRC_ZERO:
			memset(p + done, 0, n);
			r = 0;
			break;
		case SNAPCOW_SRC_ORIGIN:
			r = snapcow_dev_pread(v->origin, p + done, n, ext.source_offset);
			if (r < 0)
				log_err(v->s ? v->s->ctx : v->ctx, "origin: cannot read %zu bytes at byte offset %"
					PRIu64 ": %s", n, ext.source_offset, snapcow_strerror(r));
			break;
		default:
			r = snapcow_dev_pread(v->s->dev, p + done, n, ext.source_offset);
			if (r < 0)
				log_err(v->s->ctx, "%s: cannot read %zu bytes at byte offset %" PRIu64
					": %s", v->s->name, n, ext.source_offset, snapcow_strerror(r));
			break;
		}
		if (r < 0)
			return r;
		done += n;
	}
	return (ssize_t)done;
}
