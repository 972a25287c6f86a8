/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapcow-internal.h"

SNAPCOW_EXPORT const char *snapcow_chunk_kernel_problem(uint64_t sectors)
{
	if (sectors == 0)
		return "chunk size is zero";
	if (sectors & (sectors - 1))
		return "chunk size is not a power of two";
	if (sectors > SNAPCOW_KERNEL_MAX_CHUNK_SECTORS)
		return "chunk size is larger than the kernel's limit (INT_MAX >> 9 sectors)";
	return NULL;
}

SNAPCOW_EXPORT const char *snapcow_chunk_lvm_problem(uint64_t sectors)
{
	if (sectors == 0 || (sectors & (sectors - 1)))
		return "chunk size is not a power of two";
	if (sectors < SNAPCOW_LVM_MIN_CHUNK_SECTORS)
		return "chunk size is below LVM's minimum of 8 sectors (4 KiB)";
	if (sectors > SNAPCOW_LVM_MAX_CHUNK_SECTORS)
		return "chunk size is above LVM's maximum of 1024 sectors (512 KiB)";
	return NULL;
}

SNAPCOW_EXPORT uint64_t snapcow_area_chunk(uint32_t per_area, uint64_t area)
{
	return 1 + ((uint64_t)per_area + 1) * area;
}

SNAPCOW_EXPORT int snapcow_chunk_is_metadata(uint32_t per_area, uint64_t chunk)
{
	return chunk == 0 || chunk % ((uint64_t)per_area + 1) == 1;
}

static int parse_header(struct snapcow_store *s)
{
	struct snapcow_disk_header dh;
	const char *why;
	int r;

	if (s->size < sizeof(dh)) {
		log_err("%s: store is %llu bytes, too small for a header", s->name,
			(unsigned long long)s->size);
		return SNAPCOW_ERR_TOO_SMALL;
	}
	r = snapcow_pread_full(s->fd, &dh, sizeof(dh), 0);
	if (r < 0) {
		log_err("%s: cannot read header at offset 0: %s", s->name, snapcow_strerror(r));
		return r;
	}
	s->hdr.magic = le32toh(dh.magic);
	s->hdr.valid = le32toh(dh.valid);
	s->hdr.version = le32toh(dh.version);
	s->hdr.chunk_sectors = le32toh(dh.chunk_size);
	if (s->flags & SNAPCOW_OPEN_RAW)
		return 0;

	if (s->hdr.magic == 0) {
		log_err("%s: offset 0: magic is 0: the kernel would treat this as a new store "
			"and overwrite its table", s->name);
		return SNAPCOW_ERR_NEW;
	}
	if (s->hdr.magic != SNAPCOW_MAGIC) {
		log_err("%s: offset 0: bad magic 0x%08x (expected 0x%08x \"SnAp\")", s->name,
			s->hdr.magic, SNAPCOW_MAGIC);
		return SNAPCOW_ERR_MAGIC;
	}
	if (s->hdr.version != SNAPCOW_DISK_VERSION) {
		log_err("%s: offset 8: unsupported version %u (the kernel only loads version 1)",
			s->name, s->hdr.version);
		return SNAPCOW_ERR_VERSION;
	}
	why = snapcow_chunk_kernel_problem(s->hdr.chunk_sectors);
	if (why) {
		log_err("%s: offset 12: chunk size %u sectors: %s", s->name,
			s->hdr.chunk_sectors, why);
		return SNAPCOW_ERR_CHUNK_SIZE;
	}
	s->chunk_bytes = s->hdr.chunk_sectors * SNAPCOW_SECTOR_SIZE;
	s->per_area = s->chunk_bytes / SNAPCOW_RECORD_SIZE;
	if (s->size < 2ULL * s->chunk_bytes) {
		log_err("%s: store is %llu bytes, smaller than the header chunk and first "
			"metadata area (%llu bytes)", s->name, (unsigned long long)s->size,
			2ULL * s->chunk_bytes);
		return SNAPCOW_ERR_TOO_SMALL;
	}
	if (s->hdr.valid > 1)
		log_warn("%s: offset 4: valid flag is %u; the kernel treats any non-zero "
			 "value as valid", s->name, s->hdr.valid);
	why = snapcow_chunk_lvm_problem(s->hdr.chunk_sectors);
	if (why)
		log_info("%s: chunk size %u sectors: %s", s->name, s->hdr.chunk_sectors, why);
	return 0;
}

static int store_init(int fd, int own_fd, const char *name, unsigned int flags,
		      struct snapcow_store **out)
{
	struct snapcow_store *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->own_fd = own_fd;
	s->flags = flags;
	s->name = strdup(name ? name : "(store)");
	if (!s->name) {
		free(s);
		return -ENOMEM;
	}
	r = snapcow_fd_size(fd, &s->size, &s->is_blockdev);
	if (r < 0) {
		log_err("%s: %s", s->name,
			r == -EINVAL ? "not a regular file or block device" : snapcow_strerror(r));
		goto fail;
	}
	r = parse_header(s);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	s->own_fd = 0;
	snapcow_store_free(s);
	return r;
}

SNAPCOW_EXPORT int snapcow_store_open(const char *path, unsigned int flags,
				      struct snapcow_store **out)
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
		log_err("%s: cannot open: %s", path, snapcow_strerror(r));
		return r;
	}
	r = store_init(fd, 1, path, flags, out);
	if (r < 0)
		close(fd);
	return r;
}

SNAPCOW_EXPORT int snapcow_store_open_fd(int fd, const char *name, unsigned int flags,
					 struct snapcow_store **out)
{
	if (fd < 0 || !out)
		return -EINVAL;
	return store_init(fd, 0, name, flags, out);
}

SNAPCOW_EXPORT void snapcow_store_free(struct snapcow_store *s)
{
	if (!s)
		return;
	if (s->own_fd)
		close(s->fd);
	free(s->name);
	free(s);
}

SNAPCOW_EXPORT const struct snapcow_header *snapcow_store_header(const struct snapcow_store *s)
{
	return &s->hdr;
}

SNAPCOW_EXPORT const char *snapcow_store_name(const struct snapcow_store *s)
{
	return s->name;
}

SNAPCOW_EXPORT int snapcow_store_fd(const struct snapcow_store *s)
{
	return s->fd;
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
	return s->chunk_bytes ? s->size / s->chunk_bytes : 0;
}

SNAPCOW_EXPORT uint32_t snapcow_store_per_area(const struct snapcow_store *s)
{
	return s->per_area;
}

SNAPCOW_EXPORT int snapcow_store_read_chunk(struct snapcow_store *s, uint64_t chunk, void *buf)
{
	if (!s->chunk_bytes || chunk >= snapcow_store_chunks(s))
		return -EINVAL;
	return snapcow_pread_full(s->fd, buf, s->chunk_bytes, chunk * s->chunk_bytes);
}
