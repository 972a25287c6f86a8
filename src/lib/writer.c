/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing a new store laid out exactly as the kernel lays it out. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapcow-internal.h"

struct snapcow_writer {
	struct snapcow_ctx *ctx;
	int fd;
	char *name;
	struct snapcow_geometry geo;
	snapcow_sink_fn sink;
	void *sink_data;
	unsigned char *area;
	uint64_t cur_area;
	uint32_t fill;
	uint64_t count;
	uint64_t max_plus_one; /* largest new_chunk + 1 */
	int finished;
};

/* Check the size of @fd against the store's and grow a regular file. */
static int size_target(struct snapcow_ctx *ctx, int fd, const char *name, uint64_t *store_bytes)
{
	struct stat st;
	uint64_t size;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	r = fd_size(fd, &st, &size);
	if (r < 0)
		return r;
	if (!*store_bytes)
		*store_bytes = size;
	if (size >= *store_bytes)
		return 0;
	if (S_ISBLK(st.st_mode)) {
		log_err(ctx, "%s: device is %" PRIu64 " bytes, the store needs %" PRIu64, name,
			size, *store_bytes);
		return -ENOSPC;
	}
	return ftruncate(fd, (off_t)*store_bytes) < 0 ? -errno : 0;
}

SNAPCOW_EXPORT int snapcow_writer_new(struct snapcow_ctx *ctx, int fd, const char *name,
				      uint32_t chunk_sectors, uint64_t store_bytes,
				      struct snapcow_writer **out)
{
	struct snapcow_writer *w;
	const char *why;
	int r;

	if (!out || (fd < 0 && !store_bytes))
		return -EINVAL;
	if (!name)
		name = "(store)";
	why = snapcow_chunk_kernel_problem(chunk_sectors);
	if (why) {
		log_err(ctx, "%s: chunk size %" PRIu32 " sectors: %s", name, chunk_sectors, why);
		return -EINVAL;
	}
	if (fd >= 0) {
		r = size_target(ctx, fd, name, &store_bytes);
		if (r < 0)
			return r;
	}
	if (snapcow_geometry_init(&(struct snapcow_geometry){ 0 }, chunk_sectors, store_bytes)) {
		log_err(ctx, "%s: store size %" PRIu64 " bytes is smaller than the header chunk "
			"and first area", name, store_bytes);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ctx = snapcow_ctx_ref(ctx);
	w->fd = fd;
	snapcow_geometry_init(&w->geo, chunk_sectors, store_bytes);
	w->max_plus_one = 2;
	w->name = strdup(name);
	w->area = calloc(1, w->geo.chunk_bytes);
	if (!w->name || !w->area) {
		snapcow_writer_free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

SNAPCOW_EXPORT void snapcow_writer_set_sink(struct snapcow_writer *w, snapcow_sink_fn fn,
					    void *data)
{
	if (!w)
		return;
	w->sink = fn;
	w->sink_data = data;
}

static int put(struct snapcow_writer *w, uint64_t chunk)
{
	uint64_t off = chunk * w->geo.chunk_bytes;

	if (w->sink)
		return w->sink(w->sink_data, w->area, w->geo.chunk_bytes, off);
	return pwrite_full(w->fd, w->area, w->geo.chunk_bytes, off);
}

static int write_area(struct snapcow_writer *w)
{
	uint64_t chunk = snapcow_area_chunk(w->geo.per_area, w->cur_area);
	int r;

	if (!snapcow_geometry_area_fits(&w->geo, w->cur_area)) {
		log_err(w->ctx, "%s: metadata area %" PRIu64 " would be at chunk %" PRIu64 ", past "
			"the end of the store (%" PRIu64 " chunks)", w->name, w->cur_area, chunk,
			w->geo.chunks);
		return -ENOSPC;
	}
	r = put(w, chunk);
	if (r < 0)
		log_err(w->ctx, "%s: cannot write metadata area %" PRIu64 " at byte offset %" PRIu64
			": %s", w->name, w->cur_area, chunk * w->geo.chunk_bytes,
			snapcow_strerror(r));
	return r;
}

SNAPCOW_EXPORT int snapcow_writer_add(struct snapcow_writer *w, const struct snapcow_exception *e)
{
	struct snapcow_disk_exception *de;
	enum snapcow_record_rule rule;
	char why[160];
	int r;

	if (!w || !e || w->finished)
		return -EINVAL;
	rule = snapcow_record_check(&w->geo, e->new_chunk);
	if (rule != SNAPCOW_RECORD_OK) {
		log_err(w->ctx, "%s: exception %" PRIu64 " (old %" PRIu64 "): %s", w->name, w->count,
			e->old_chunk, snapcow_record_describe(&w->geo, rule, e->new_chunk, why,
							      sizeof(why)));
		return SNAPCOW_ERR_RECORD;
	}
	de = (struct snapcow_disk_exception *)w->area + w->fill;
	de->old_chunk = htole64(e->old_chunk);
	de->new_chunk = htole64(e->new_chunk);
	if (e->new_chunk >= w->max_plus_one)
		w->max_plus_one = e->new_chunk + 1;
	w->fill++;
	w->count++;
	if (w->fill == w->geo.per_area) {
		r = write_area(w);
		if (r < 0)
			return r;
		memset(w->area, 0, w->geo.chunk_bytes);
		w->fill = 0;
		w->cur_area++;
	}
	return 0;
}

SNAPCOW_EXPORT int snapcow_writer_finish(struct snapcow_writer *w, uint32_t valid)
{
	struct snapcow_disk_header *dh;
	int r;

	if (!w || w->finished)
		return -EINVAL;
	/* The partial last area, or the zeroed area after a full one. */
	r = write_area(w);
	if (r < 0)
		return r;
	memset(w->area, 0, w->geo.chunk_bytes);
	dh = (struct snapcow_disk_header *)w->area;
	dh->magic = htole32(SNAPCOW_MAGIC);
	dh->valid = htole32(valid);
	dh->version = htole32(SNAPCOW_DISK_VERSION);
	dh->chunk_size = htole32(w->geo.chunk_sectors);
	r = put(w, 0);
	if (r < 0) {
		log_err(w->ctx, "%s: cannot write header: %s", w->name, snapcow_strerror(r));
		return r;
	}
	if (!w->sink && fsync(w->fd) < 0) {
		r = -errno;
		log_err(w->ctx, "%s: fsync: %s", w->name, snapcow_strerror(r));
		return r;
	}
	w->finished = 1;
	return 0;
}

SNAPCOW_EXPORT void snapcow_writer_stats(const struct snapcow_writer *w, struct snapcow_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->exceptions = w->count;
	/* The area being filled (or the zeroed one after a full area). */
	st->areas = w->cur_area + 1;
	st->last_area_full = w->cur_area > 0 && w->fill == 0;
	st->next_free = w->max_plus_one;
	snapcow_stats_finish(&w->geo, st);
}

SNAPCOW_EXPORT void snapcow_writer_free(struct snapcow_writer *w)
{
	if (!w)
		return;
	snapcow_ctx_unref(w->ctx);
	free(w->area);
	free(w->name);
	free(w);
}
