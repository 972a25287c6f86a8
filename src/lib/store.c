/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening a store: its header, its layout, and the one area reader. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapcow-internal.h"

/* How loud store_open is about each header problem: the kernel's refusals
 * are errors, an odd valid flag a warning, LVM's chunk rule a note; the
 * rest (invalid, partial chunk) is snapcow_store_check()'s to report. */
static int open_priority(const struct snapcow_problem *p)
{
	if (p->severity <= LOG_ERR)
		return LOG_ERR;
	if (!strcmp(p->code, "valid-flag"))
		return LOG_WARNING;
	if (!strcmp(p->code, "chunk-size-lvm"))
		return LOG_INFO;
	return LOG_DEBUG;
}

static void log_header_problem(void *data, const struct snapcow_problem *p)
{
	const struct snapcow_store *s = data;

	snapcow_log(s->ctx, open_priority(p), "%s: %s", s->name, p->message);
}

static int read_header(struct snapcow_store *s)
{
	struct snapcow_disk_header dh = { 0 };
	int r;

	if (s->size >= sizeof(dh)) {
		r = snapcow_dev_pread(s->dev, &dh, sizeof(dh), 0);
		if (r < 0) {
			log_err(s->ctx, "%s: cannot read the header at offset 0: %s", s->name,
				snapcow_strerror(r));
			return r;
		}
	}
	s->hdr.magic = le32toh(dh.magic);
	s->hdr.valid = le32toh(dh.valid);
	s->hdr.version = le32toh(dh.version);
	s->hdr.chunk_sectors = le32toh(dh.chunk_size);
	if (!(s->flags & SNAPCOW_OPEN_RAW)) {
		r = snapcow_header_check(&s->hdr, s->size, log_header_problem, s);
		if (r < 0)
			return r;
	} else if (s->size < sizeof(dh)) {
		return SNAPCOW_ERR_TOO_SMALL;
	}
	/* A raw open of a header the kernel refuses has no layout. */
	r = snapcow_geometry_init(&s->geo, s->hdr.chunk_sectors, s->size);
	if (r < 0)
		return (s->flags & SNAPCOW_OPEN_RAW) ? 0 : r;
	s->chunk_bytes = s->geo.chunk_bytes;
	s->per_area = s->geo.per_area;
	return 0;
}

/* A store reading through @dev (or, with @fd >= 0, through a dev of its own
 * over @fd). */
static int store_init(struct snapcow_ctx *ctx, int fd, const struct snapcow_dev *dev,
		      const char *name, unsigned int flags, struct snapcow_store **out)
{
	struct snapcow_store *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = snapcow_ctx_ref(ctx);
	s->fd = fd;
	s->flags = flags;
	s->name = strdup(name ? name : "(store)");
	if (!s->name) {
		snapcow_store_free(s);
		return -ENOMEM;
	}
	if (fd >= 0) {
		r = snapcow_dev_new_fd(fd, s->name, &s->own_dev);
		if (r < 0) {
			log_err(ctx, "cannot open %s: %s", s->name, r == -EINVAL ?
				"not a regular file or block device" : snapcow_strerror(r));
			goto fail;
		}
		dev = s->own_dev;
	}
	s->dev = dev;
	s->size = snapcow_dev_size(dev);
	s->is_blockdev = snapcow_dev_is_blockdev(dev);
	r = read_header(s);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	snapcow_store_free(s);
	return r;
}

SNAPCOW_EXPORT int snapcow_store_open(struct snapcow_ctx *ctx, const char *path,
				      unsigned int flags, struct snapcow_store **out)
{
	int oflags = O_CLOEXEC;
	int fd, r;

	if (!path || !out)
		return -EINVAL;
	oflags |= (flags & SNAPCOW_OPEN_RDWR) ? O_RDWR : O_RDONLY;
	if (flags & SNAPCOW_OPEN_EXCL)
		oflags |= O_EXCL;
	fd = open(path, oflags);
	if (fd < 0) {
		r = -errno;
		log_err(ctx, "cannot open %s: %s", path, snapcow_strerror(r));
		return r;
	}
	r = store_init(ctx, fd, NULL, path, flags, out);
	if (r < 0)
		close(fd);
	else
		(*out)->own_fd = 1;
	return r;
}

SNAPCOW_EXPORT int snapcow_store_open_fd(struct snapcow_ctx *ctx, int fd, const char *name,
					 unsigned int flags, struct snapcow_store **out)
{
	if (fd < 0 || !out)
		return -EINVAL;
	return store_init(ctx, fd, NULL, name, flags, out);
}

SNAPCOW_EXPORT int snapcow_store_open_dev(struct snapcow_ctx *ctx, const struct snapcow_dev *dev,
					  unsigned int flags, struct snapcow_store **out)
{
	if (!dev || !out)
		return -EINVAL;
	return store_init(ctx, snapcow_dev_fd(dev) >= 0 && (flags & SNAPCOW_OPEN_RDWR) ?
			  snapcow_dev_fd(dev) : -1, dev, snapcow_dev_name(dev), flags, out);
}

SNAPCOW_EXPORT void snapcow_store_free(struct snapcow_store *s)
{
	if (!s)
		return;
	if (s->own_fd)
		close(s->fd);
	snapcow_dev_free(s->own_dev);
	snapcow_ctx_unref(s->ctx);
	free(s->name);
	free(s);
}

SNAPCOW_EXPORT struct snapcow_ctx *snapcow_store_ctx(const struct snapcow_store *s)
{
	return s->ctx;
}

SNAPCOW_EXPORT const struct snapcow_header *snapcow_store_header(const struct snapcow_store *s)
{
	return &s->hdr;
}

SNAPCOW_EXPORT const struct snapcow_geometry *snapcow_store_geometry(const struct snapcow_store *s)
{
	return &s->geo;
}

SNAPCOW_EXPORT const char *snapcow_store_name(const struct snapcow_store *s)
{
	return s->name;
}

SNAPCOW_EXPORT int snapcow_store_fd(const struct snapcow_store *s)
{
	return s->fd >= 0 ? s->fd : snapcow_dev_fd(s->dev);
}

SNAPCOW_EXPORT const struct snapcow_dev *snapcow_store_dev(const struct snapcow_store *s)
{
	return s->dev;
}

SNAPCOW_EXPORT uint64_t snapcow_store_size(const struct snapcow_store *s)
{
	return s->size;
}

SNAPCOW_EXPORT uint32_t snapcow_store_chunk_bytes(const struct snapcow_store *s)
{
	return s->chunk_bytes;
}

SNAPCOW_EXPORT uint64_t snapcow_store_chunks(const struct snapcow_store *s)
{
	return s->geo.chunks;
}

SNAPCOW_EXPORT uint32_t snapcow_store_per_area(const struct snapcow_store *s)
{
	return s->per_area;
}

SNAPCOW_EXPORT int snapcow_store_read_chunk(struct snapcow_store *s, uint64_t chunk, void *buf)
{
	if (!s || !s->chunk_bytes || chunk >= s->geo.chunks)
		return -EINVAL;
	return snapcow_dev_pread(s->dev, buf, s->chunk_bytes, chunk * s->chunk_bytes);
}

SNAPCOW_EXPORT int snapcow_store_read_area(struct snapcow_store *s, uint64_t area, void *buf,
					   uint32_t *live)
{
	return snapcow_read_area(s, area, buf, live, 1);
}

int snapcow_area_fits(struct snapcow_store *s, uint64_t area, int log_no_terminator)
{
	uint64_t chunk = snapcow_area_chunk(s->per_area, area);

	if (snapcow_geometry_area_fits(&s->geo, area))
		return 0;
	if (log_no_terminator)
		log_err(s->ctx, "%s: area %" PRIu64 " is full but area %" PRIu64 " would be at "
			"chunk %" PRIu64 " (byte offset %" PRIu64 "), past the end of the store "
			"(%" PRIu64 " chunks): the table has no terminator", s->name, area - 1, area,
			chunk, chunk * s->chunk_bytes, s->geo.chunks);
	return SNAPCOW_ERR_TABLE;
}

int snapcow_area_pread(struct snapcow_store *s, uint64_t area, void *buf)
{
	return snapcow_dev_pread(s->dev, buf, s->chunk_bytes,
				 snapcow_area_chunk(s->per_area, area) * s->chunk_bytes);
}

int snapcow_area_read_failed(struct snapcow_store *s, uint64_t area, int err)
{
	log_err(s->ctx, "%s: cannot read metadata area %" PRIu64 " at byte offset %" PRIu64 ": %s",
		s->name, area, snapcow_area_chunk(s->per_area, area) * s->chunk_bytes,
		snapcow_strerror(err));
	return err;
}

uint32_t snapcow_area_live(const struct snapcow_store *s, const void *buf)
{
	const struct snapcow_disk_exception *rec = buf;
	uint32_t n;

	/* The kernel stops at the first record whose new_chunk is 0. */
	for (n = 0; n < s->per_area; n++)
		if (!rec[n].new_chunk) /* zero in any byte order */
			break;
	return n;
}

int snapcow_read_area(struct snapcow_store *s, uint64_t area, void *buf, uint32_t *live,
		      int log_no_terminator)
{
	int r;

	if (!s || !buf || !live || !s->chunk_bytes)
		return -EINVAL;
	r = snapcow_area_fits(s, area, log_no_terminator);
	if (r < 0)
		return r;
	r = snapcow_area_pread(s, area, buf);
	if (r < 0)
		return snapcow_area_read_failed(s, area, r);
	*live = snapcow_area_live(s, buf);
	return 0;
}
