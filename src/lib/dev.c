/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A byte source: one descriptor, or pieces of several laid end to end as
 * device-mapper's linear target lays them (an LVM volume's segments on
 * physical volumes given as image files), with zero pieces for holes and
 * the zero target.  Stores and origins are read through it, and written
 * through it when its descriptors were opened for writing (snap_merge).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapcow-internal.h"

struct piece {
	uint64_t start;     /* in the dev */
	uint64_t length;
	int fd;             /* -1: zeros */
	uint64_t fd_offset;
	int seek_holes;     /* a regular file: SEEK_DATA/SEEK_HOLE tell its holes */
};

struct snapcow_dev {
	char *name;
	uint64_t size;
	struct piece *p;
	size_t n;
	int single_fd;      /* one piece over one whole descriptor, else -1 */
	int is_blockdev;    /* that descriptor is a block device */
};

static int seekable(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static struct snapcow_dev *dev_alloc(const char *name, size_t n)
{
	struct snapcow_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->name = strdup(name ? name : "(device)");
	d->p = calloc(n ? n : 1, sizeof(*d->p));
	d->single_fd = -1;
	if (!d->name || !d->p) {
		snapcow_dev_free(d);
		return NULL;
	}
	return d;
}

SNAPCOW_EXPORT int snapcow_dev_new_fd(int fd, const char *name, struct snapcow_dev **out)
{
	struct snapcow_dev *d;
	struct stat st;
	uint64_t size;
	int r;

	if (fd < 0 || !out)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	r = fd_size(fd, &st, &size);
	if (r < 0)
		return r;
	d = dev_alloc(name, 1);
	if (!d)
		return -ENOMEM;
	d->p[0] = (struct piece){ 0, size, fd, 0, S_ISREG(st.st_mode) };
	d->n = 1;
	d->size = size;
	d->single_fd = fd;
	d->is_blockdev = S_ISBLK(st.st_mode);
	*out = d;
	return 0;
}

SNAPCOW_EXPORT int snapcow_dev_new_pieces(const char *name, const struct snapcow_dev_piece *pieces,
					  size_t n, struct snapcow_dev **out)
{
	struct snapcow_dev *d;
	uint64_t at = 0;

	if (!out || (!pieces && n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!pieces[i].length || at + pieces[i].length < at ||
		    pieces[i].fd_offset + pieces[i].length < pieces[i].fd_offset)
			return -EINVAL;
		else
			at += pieces[i].length;
	d = dev_alloc(name, n);
	if (!d)
		return -ENOMEM;
	at = 0;
	for (size_t i = 0; i < n; i++) {
		d->p[i] = (struct piece){ at, pieces[i].length, pieces[i].fd, pieces[i].fd_offset,
					  seekable(pieces[i].fd) };
		at += pieces[i].length;
	}
	d->n = n;
	d->size = at;
	*out = d;
	return 0;
}

SNAPCOW_EXPORT void snapcow_dev_free(struct snapcow_dev *d)
{
	if (!d)
		return;
	free(d->name);
	free(d->p);
	free(d);
}

SNAPCOW_EXPORT uint64_t snapcow_dev_size(const struct snapcow_dev *d)
{
	return d->size;
}

SNAPCOW_EXPORT const char *snapcow_dev_name(const struct snapcow_dev *d)
{
	return d->name;
}

SNAPCOW_EXPORT int snapcow_dev_fd(const struct snapcow_dev *d)
{
	return d->single_fd;
}

int snapcow_dev_is_blockdev(const struct snapcow_dev *d)
{
	return d->is_blockdev;
}

/* The piece holding @off (< size). */
static const struct piece *find(const struct snapcow_dev *d, uint64_t off)
{
	size_t lo = 0, hi = d->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->p[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	return &d->p[lo];
}

SNAPCOW_EXPORT int snapcow_dev_locate(const struct snapcow_dev *d, uint64_t off, int *fd,
				      uint64_t *fd_offset, uint64_t *length)
{
	const struct piece *p;

	if (!d || !fd || !fd_offset || !length || off >= d->size)
		return -EINVAL;
	p = find(d, off);
	*fd = p->fd;
	*fd_offset = p->fd_offset + (off - p->start);
	*length = p->length - (off - p->start);
	return 0;
}

/* Read (or, with @write, write) @len bytes at @off, piece by piece. */
static int dev_io(const struct snapcow_dev *d, char *b, size_t len, uint64_t off, int write)
{
	if (!d || off > d->size || len > d->size - off)
		return off <= (uint64_t)INT64_MAX ? -EIO : -EINVAL;
	while (len) {
		int fd;
		uint64_t at, left;
		size_t n;
		int r;

		snapcow_dev_locate(d, off, &fd, &at, &left);
		n = left < len ? (size_t)left : len;
		if (fd < 0 && write)
			return -EROFS; /* a zero piece holds nothing */
		if (fd < 0)
			memset(b, 0, n);
		else if ((r = write ? pwrite_full(fd, b, n, at) : pread_full(fd, b, n, at)) < 0)
			return r;
		b += n;
		off += n;
		len -= n;
	}
	return 0;
}

SNAPCOW_EXPORT int snapcow_dev_pread(const struct snapcow_dev *d, void *buf, size_t len,
				     uint64_t off)
{
	return dev_io(d, buf, len, off, 0);
}

SNAPCOW_EXPORT int snapcow_dev_pwrite(const struct snapcow_dev *d, const void *buf, size_t len,
				      uint64_t off)
{
	return dev_io(d, (char *)buf, len, off, 1);
}

SNAPCOW_EXPORT int snapcow_dev_sync(const struct snapcow_dev *d)
{
	if (!d)
		return -EINVAL;
	for (size_t i = 0; i < d->n; i++) {
		int fd = d->p[i].fd, seen = 0, r;

		for (size_t k = 0; k < i && !seen; k++)
			seen = d->p[k].fd == fd;
		if (fd < 0 || seen)
			continue;
		r = sync_and_drop(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Data at or after @off inside piece @p: 1 with [*data, *hole) (dev
 * offsets), 0 when the rest of the piece is a hole, or -errno. */
static int piece_data(const struct piece *p, uint64_t off, uint64_t *data, uint64_t *hole)
{
	uint64_t end = p->start + p->length;
	off_t d, h;

	if (p->fd < 0)
		return 0;
	if (!p->seek_holes) {
		*data = off;
		*hole = end;
		return 1;
	}
	d = lseek(p->fd, (off_t)(p->fd_offset + (off - p->start)), SEEK_DATA);
	if (d < 0)
		return errno == ENXIO ? 0 : -errno;
	if ((uint64_t)d >= p->fd_offset + p->length)
		return 0;
	h = lseek(p->fd, d, SEEK_HOLE);
	if (h < 0)
		return -errno;
	*data = p->start + ((uint64_t)d - p->fd_offset);
	*hole = p->start + ((uint64_t)h - p->fd_offset);
	if (*hole > end)
		*hole = end;
	return 1;
}

SNAPCOW_EXPORT int snapcow_dev_next_data(const struct snapcow_dev *d, uint64_t off,
					 uint64_t *data, uint64_t *hole)
{
	if (!d || !data || !hole)
		return -EINVAL;
	while (off < d->size) {
		const struct piece *p = find(d, off);
		int r = piece_data(p, off, data, hole);

		if (r)
			return r < 0 ? r : 0;
		off = p->start + p->length;
	}
	return 1;
}
