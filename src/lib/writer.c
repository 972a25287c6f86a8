/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapcow-internal.h"

struct snapcow_writer {
	int fd;
	char *name;
	uint32_t chunk_sectors;
	uint32_t chunk_bytes;
	uint32_t per_area;
	uint64_t chunks;
	unsigned char *area;
	uint64_t cur_area;
	uint32_t fill;
	uint64_t count;
	int finished;
};

SNAPCOW_EXPORT int snapcow_writer_new(int fd, const char *name, uint32_t chunk_sectors,
				      uint64_t store_bytes, struct snapcow_writer **out)
{
	struct snapcow_writer *w;
	const char *why;
	uint64_t size;
	int blk, r;

	if (fd < 0 || !out)
		return -EINVAL;
	if (!name)
		name = "(store)";
	why = snapcow_chunk_kernel_problem(chunk_sectors);
	if (why) {
		log_err("%s: chunk size %u sectors: %s", name, chunk_sectors, why);
		return -EINVAL;
	}
	r = snapcow_fd_size(fd, &size, &blk);
	if (r < 0)
		return r;
	if (!store_bytes)
		store_bytes = size;
	if (store_bytes < 2ULL * chunk_sectors * SNAPCOW_SECTOR_SIZE) {
		log_err("%s: store size %llu bytes is smaller than the header chunk and "
			"first area", name, (unsigned long long)store_bytes);
		return -EINVAL;
	}
	if (size < store_bytes) {
		if (blk) {
			log_err("%s: device is %llu bytes, the store needs %llu", name,
				(unsigned long long)size, (unsigned long long)store_bytes);
			return -ENOSPC;
		}
		if (ftruncate(fd, (off_t)store_bytes) < 0)
			return -errno;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->chunk_sectors = chunk_sectors;
	w->chunk_bytes = chunk_sectors * SNAPCOW_SECTOR_SIZE;
	w->per_area = w->chunk_bytes / SNAPCOW_RECORD_SIZE;
	w->chunks = store_bytes / w->chunk_bytes;
	w->name = strdup(name);
	w->area = calloc(1, w->chunk_bytes);
	if (!w->name || !w->area) {
		snapcow_writer_free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

static int write_area(struct snapcow_writer *w)
{
	uint64_t chunk = snapcow_area_chunk(w->per_area, w->cur_area);
	int r;

	if (chunk >= w->chunks) {
		log_err("%s: metadata area %llu would be at chunk %llu, past the end of the "
			"store (%llu chunks)", w->name, (unsigned long long)w->cur_area,
			(unsigned long long)chunk, (unsigned long long)w->chunks);
		return -ENOSPC;
	}
	r = snapcow_pwrite_full(w->fd, w->area, w->chunk_bytes, chunk * w->chunk_bytes);
	if (r < 0)
		log_err("%s: cannot write metadata area %llu at byte offset %llu: %s", w->name,
			(unsigned long long)w->cur_area,
			(unsigned long long)(chunk * w->chunk_bytes), snapcow_strerror(r));
	return r;
}

SNAPCOW_EXPORT int snapcow_writer_add(struct snapcow_writer *w, const struct snapcow_exception *e)
{
	struct snapcow_disk_exception *de;
	int r;

	if (!w || !e || w->finished)
		return -EINVAL;
	if (e->new_chunk == 0 || e->new_chunk >= SNAPCOW_NEW_CHUNK_LIMIT ||
	    e->new_chunk >= w->chunks || snapcow_chunk_is_metadata(w->per_area, e->new_chunk)) {
		log_err("%s: exception %llu (old %llu, new %llu): new chunk %s", w->name,
			(unsigned long long)w->count, (unsigned long long)e->old_chunk,
			(unsigned long long)e->new_chunk,
			e->new_chunk == 0 ? "is 0 (would end the table)" :
			e->new_chunk >= w->chunks ? "is past the end of the store" :
			e->new_chunk >= SNAPCOW_NEW_CHUNK_LIMIT ? "is 2^56 or more" :
			"is the header or a metadata area");
		return SNAPCOW_ERR_RECORD;
	}
	de = (struct snapcow_disk_exception *)w->area + w->fill;
	de->old_chunk = htole64(e->old_chunk);
	de->new_chunk = htole64(e->new_chunk);
	w->fill++;
	w->count++;
	if (w->fill == w->per_area) {
		r = write_area(w);
		if (r < 0)
			return r;
		memset(w->area, 0, w->chunk_bytes);
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
	memset(w->area, 0, w->chunk_bytes);
	dh = (struct snapcow_disk_header *)w->area;
	dh->magic = htole32(SNAPCOW_MAGIC);
	dh->valid = htole32(valid);
	dh->version = htole32(SNAPCOW_DISK_VERSION);
	dh->chunk_size = htole32(w->chunk_sectors);
	r = snapcow_pwrite_full(w->fd, w->area, w->chunk_bytes, 0);
	if (r < 0) {
		log_err("%s: cannot write header: %s", w->name, snapcow_strerror(r));
		return r;
	}
	if (fsync(w->fd) < 0) {
		r = -errno;
		log_err("%s: fsync: %s", w->name, snapcow_strerror(r));
		return r;
	}
	w->finished = 1;
	return 0;
}

SNAPCOW_EXPORT void snapcow_writer_free(struct snapcow_writer *w)
{
	if (!w)
		return;
	free(w->area);
	free(w->name);
	free(w);
}
