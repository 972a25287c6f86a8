/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Safe in-place rewrites of a store's header, and undo files.
 *
 * Order of a rewrite, so that a crash at any point leaves either the old or
 * the new header and, once the store may have changed, an undo file:
 *   1. read the header chunk;
 *   2. write the undo file (O_EXCL), fsync it, fsync its directory;
 *   3. pwrite only the bytes that change (one sector-aligned 4-byte write,
 *      which a disk writes entirely or not at all), fsync the store;
 *   4. drop the store's cached pages and read the chunk back to compare.
 * The undo file format is documented in snapcow.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "snapcow-internal.h"

struct undo_disk {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;
	uint32_t kind;
	uint32_t ranges; /* version 2; 0 in version 1 */
	uint64_t dev;
	uint64_t ino;
	uint64_t rdev;
	uint64_t store_bytes;
	uint64_t saved_offset;
	uint32_t saved_length;
	uint32_t changed_length;
	uint64_t changed_offset;
	uint64_t created;
	unsigned char new_bytes[8];
	char dm_uuid[128];
	char program[24];
	uint32_t data_crc;
	uint32_t header_crc;
} __attribute__((packed));
static_assert(sizeof(struct undo_disk) == SNAPCOW_UNDO_HEADER_SIZE, "undo header is 256 bytes");

/* Largest saved range we accept when reading an undo file: the largest
 * header chunk the kernel allows is 1 GiB; LVM's is 512 KiB. */
#define UNDO_MAX_LENGTH (1U << 30)

/* A saved range of a version 2 file, and where its bytes are in the file. */
struct undo_range {
	uint64_t offset;
	uint64_t length;
	uint64_t file_pos;
};

struct snapcow_undo {
	struct snapcow_identity id;
	uint32_t version;
	/* version 1: one range, in memory */
	uint64_t offset;
	uint32_t length;
	uint64_t changed_offset;
	uint32_t changed_length;
	unsigned char new_bytes[8];
	unsigned char *data;
	/* version 2: ranges read from the file when applied */
	struct undo_range *ranges;
	uint32_t nranges;
	uint64_t bytes;
	char *path;
};

/* CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320), a byte at a time
 * from a table: a ranges file holds every metadata chunk of a store. */
static uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const unsigned char *p = buf;

	if (!table[1]) {
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ (0xedb88320U & (0U - (c & 1U)));
			table[n] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

const char *snapcow_rewrite_strerror(int err)
{
	switch (err) {
	case SNAPCOW_ERR_UNDO_FORMAT:
		return "not a snaprescue undo file (bad magic or version)";
	case SNAPCOW_ERR_UNDO_CHECKSUM:
		return "undo file is damaged (checksum mismatch)";
	case SNAPCOW_ERR_UNDO_IDENTITY:
		return "undo file was made for another store";
	case SNAPCOW_ERR_UNDO_CONTENT:
		return "store does not hold what the undo file expects";
	case SNAPCOW_ERR_VERIFY:
		return "read back after writing differs";
	}
	return NULL;
}

static void read_dm_uuid(uint64_t rdev, char *uuid, size_t len)
{
	char path[96];
	ssize_t n;
	int fd;

	uuid[0] = '\0';
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/dm/uuid", major((dev_t)rdev),
		 minor((dev_t)rdev));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, uuid, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	uuid[n] = '\0';
	uuid[strcspn(uuid, "\n")] = '\0';
}

SNAPCOW_EXPORT int snapcow_identity_get(int fd, struct snapcow_identity *id)
{
	struct stat st;
	int r, blk;

	if (fd < 0 || !id)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	memset(id, 0, sizeof(*id));
	r = snapcow_fd_size(fd, &id->size, &blk);
	if (r < 0)
		return r;
	if (S_ISREG(st.st_mode)) {
		id->kind = SNAPCOW_IDENT_FILE;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	} else if (S_ISBLK(st.st_mode)) {
		id->kind = SNAPCOW_IDENT_BLOCK;
		id->rdev = st.st_rdev;
		read_dm_uuid(id->rdev, id->dm_uuid, sizeof(id->dm_uuid));
	} else {
		return -EINVAL;
	}
	return 0;
}

static const char *strip_temp(const char *uuid)
{
	size_t n = strlen(SNAPCOW_TEMP_UUID_PREFIX);

	return strncmp(uuid, SNAPCOW_TEMP_UUID_PREFIX, n) ? uuid : uuid + n;
}

SNAPCOW_EXPORT int snapcow_identity_match(const struct snapcow_identity *saved,
					  const struct snapcow_identity *cur)
{
	if (!saved || !cur || saved->kind != cur->kind || saved->size != cur->size)
		return 0;
	if (saved->kind == SNAPCOW_IDENT_FILE)
		return saved->dev == cur->dev && saved->ino == cur->ino;
	if (saved->dm_uuid[0] && cur->dm_uuid[0])
		return !strcmp(strip_temp(saved->dm_uuid), strip_temp(cur->dm_uuid));
	return saved->rdev == cur->rdev;
}

/* fsync the directory holding @path, so that the new name is durable. */
static int fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
	} else {
		if (fsync(fd) < 0 && errno != EINVAL)
			r = -errno;
		close(fd);
	}
	free(copy);
	return r;
}

/* The header fields both versions share. */
static void fill_header(struct undo_disk *h, uint32_t version, const struct snapcow_identity *id,
			const char *program)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, SNAPCOW_UNDO_MAGIC, 8);
	h->version = htole32(version);
	h->header_bytes = htole32(SNAPCOW_UNDO_HEADER_SIZE);
	h->kind = htole32(id->kind);
	h->dev = htole64(id->dev);
	h->ino = htole64(id->ino);
	h->rdev = htole64(id->rdev);
	h->store_bytes = htole64(id->size);
	h->created = htole64((uint64_t)time(NULL));
	memcpy(h->dm_uuid, id->dm_uuid, strnlen(id->dm_uuid, sizeof(h->dm_uuid)));
	if (program)
		memcpy(h->program, program, strnlen(program, sizeof(h->program) - 1));
}

/* Create @path (O_EXCL) for writing; logs. */
static int create_undo(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		log_err("%s: cannot create undo file: %s", path, snapcow_strerror(-errno));
	return fd < 0 ? -errno : fd;
}

/* After the body: write the header (its CRC now final), fsync and close
 * the file, fsync its directory; on any error remove it.  Returns @r or
 * the first error. */
static int finish_undo(int fd, const char *path, struct undo_disk *h, int r)
{
	if (!r) {
		h->header_crc = htole32(crc32_update(0, h, offsetof(struct undo_disk, header_crc)));
		r = snapcow_pwrite_full(fd, h, sizeof(*h), 0);
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r)
		r = fsync_parent(path);
	if (r) {
		log_err("%s: cannot write undo file: %s", path, snapcow_strerror(r));
		unlink(path);
	}
	return r;
}

static int write_undo(const char *path, const struct snapcow_identity *id, const char *program,
		      uint64_t offset, const unsigned char *data, uint32_t length,
		      uint64_t changed_offset, const unsigned char *new_bytes,
		      uint32_t changed_length)
{
	struct undo_disk h;
	int fd, r;

	fill_header(&h, SNAPCOW_UNDO_VERSION, id, program);
	h.saved_offset = htole64(offset);
	h.saved_length = htole32(length);
	h.changed_length = htole32(changed_length);
	h.changed_offset = htole64(changed_offset);
	memcpy(h.new_bytes, new_bytes, changed_length);
	h.data_crc = htole32(crc32_update(0, data, length));
	fd = create_undo(path);
	if (fd < 0)
		return fd;
	r = snapcow_pwrite_full(fd, data, length, sizeof(h));
	return finish_undo(fd, path, &h, r);
}

SNAPCOW_EXPORT int snapcow_undo_save(int fd, const char *path, const struct snapcow_range *ranges,
				     size_t n, const char *program)
{
	struct snapcow_identity id;
	struct undo_disk h;
	unsigned char *buf = NULL;
	uint64_t pos = sizeof(h), cap = 0;
	uint32_t crc = 0, count = 0;
	int ufd, r;

	if (fd < 0 || !path || (!ranges && n) || n > UINT32_MAX)
		return -EINVAL;
	r = snapcow_identity_get(fd, &id);
	if (r < 0)
		return r;
	fill_header(&h, SNAPCOW_UNDO_VERSION_RANGES, &id, program);
	ufd = create_undo(path);
	if (ufd < 0)
		return ufd;
	for (size_t i = 0; i < n && !r; i++) {
		uint64_t off = ranges[i].offset, len = ranges[i].length, rec[2];

		if (off >= id.size)
			continue;
		if (len > id.size - off)
			len = id.size - off;
		if (!len)
			continue;
		if (len > UNDO_MAX_LENGTH) {
			r = -EINVAL;
			break;
		}
		if (len > cap) {
			unsigned char *nb = realloc(buf, len);

			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
			cap = len;
		}
		r = snapcow_pread_full(fd, buf, len, off);
		if (r < 0) {
			log_err("cannot read the store at offset %llu: %s", (unsigned long long)off,
				snapcow_strerror(r));
			break;
		}
		rec[0] = htole64(off);
		rec[1] = htole64(len);
		crc = crc32_update(crc32_update(crc, rec, sizeof(rec)), buf, len);
		r = snapcow_pwrite_full(ufd, rec, sizeof(rec), pos);
		if (!r)
			r = snapcow_pwrite_full(ufd, buf, len, pos + sizeof(rec));
		pos += sizeof(rec) + len;
		count++;
	}
	free(buf);
	h.ranges = htole32(count);
	h.data_crc = htole32(crc);
	return finish_undo(ufd, path, &h, r);
}

/* Sync @fd, drop its cached pages and read @len bytes at @off into @buf:
 * the read then comes from the device, not from what we just wrote. */
static int sync_and_reread(int fd, const char *name, void *buf, size_t len, uint64_t off)
{
	int r;

	if (fsync(fd) < 0) {
		r = -errno;
		log_err("%s: fsync failed: %s", name, snapcow_strerror(r));
		return r;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	r = snapcow_pread_full(fd, buf, len, off);
	if (r < 0)
		log_err("%s: cannot read back offset %llu: %s", name, (unsigned long long)off,
			snapcow_strerror(r));
	return r;
}

SNAPCOW_EXPORT int snapcow_store_set_valid(struct snapcow_store *s, uint32_t valid,
					   const struct snapcow_rewrite_options *opt)
{
	const uint64_t field = offsetof(struct snapcow_disk_header, valid);
	unsigned char *old = NULL, *back = NULL;
	struct snapcow_identity id;
	uint32_t le = htole32(valid), cur;
	int r;

	if (!s || !opt || !opt->undo_path || !s->chunk_bytes)
		return -EINVAL;
	if (!(s->flags & SNAPCOW_OPEN_RDWR))
		return -EBADF;
	old = malloc(s->chunk_bytes);
	back = malloc(s->chunk_bytes);
	if (!old || !back) {
		r = -ENOMEM;
		goto out;
	}
	r = snapcow_pread_full(s->fd, old, s->chunk_bytes, 0);
	if (r < 0) {
		log_err("%s: cannot read header chunk at offset 0: %s", s->name,
			snapcow_strerror(r));
		goto out;
	}
	memcpy(&cur, old + field, 4);
	if (cur == le) {
		r = 1;
		goto out;
	}
	r = snapcow_identity_get(s->fd, &id);
	if (r < 0)
		goto out;

	if (opt->step_fn)
		opt->step_fn(opt->step_data, SNAPCOW_STEP_BEFORE_UNDO);
	r = write_undo(opt->undo_path, &id, opt->program, 0, old, s->chunk_bytes, field,
		       (const unsigned char *)&le, 4);
	if (r < 0)
		goto out;
	if (opt->step_fn)
		opt->step_fn(opt->step_data, SNAPCOW_STEP_AFTER_UNDO);

	r = snapcow_pwrite_full(s->fd, &le, 4, field);
	if (r < 0) {
		log_err("%s: cannot write 4 bytes at offset %llu: %s", s->name,
			(unsigned long long)field, snapcow_strerror(r));
		goto out;
	}
	if (fsync(s->fd) < 0) {
		r = -errno;
		log_err("%s: fsync failed: %s", s->name, snapcow_strerror(r));
		goto out;
	}
	if (opt->step_fn)
		opt->step_fn(opt->step_data, SNAPCOW_STEP_AFTER_WRITE);

	r = sync_and_reread(s->fd, s->name, back, s->chunk_bytes, 0);
	if (r < 0)
		goto out;
	memcpy(old + field, &le, 4);
	if (memcmp(old, back, s->chunk_bytes)) {
		log_err("%s: header chunk read back after the write differs from what was "
			"written", s->name);
		r = SNAPCOW_ERR_VERIFY;
		goto out;
	}
	s->hdr.valid = valid;
	r = 0;
out:
	free(old);
	free(back);
	return r;
}

/* Bytes moved at a time between a ranges file and the store. */
#define PIECE ((size_t)1 << 20)

/* Index the ranges of a version 2 file and check its size and CRC. */
static int read_ranges(int fd, const char *path, const struct undo_disk *h, uint64_t size,
		       struct snapcow_undo *u)
{
	uint64_t pos = sizeof(*h);
	uint32_t crc = 0;
	unsigned char *buf = NULL;
	int r = 0;

	u->nranges = le32toh(h->ranges);
	if (h->saved_length || h->changed_length || u->nranges > (size - pos) / 16) {
		log_err("%s: inconsistent range count in the undo header", path);
		return SNAPCOW_ERR_UNDO_FORMAT;
	}
	u->ranges = calloc(u->nranges ? u->nranges : 1, sizeof(*u->ranges));
	buf = malloc(PIECE);
	if (!u->ranges || !buf) {
		free(buf);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < u->nranges; i++) {
		uint64_t rec[2], off, len;

		if (size - pos < sizeof(rec)) {
			log_err("%s: offset %llu: the file ends before range %u of %u: the undo "
				"file is truncated", path, (unsigned long long)pos, i, u->nranges);
			r = SNAPCOW_ERR_UNDO_CHECKSUM;
			break;
		}
		r = snapcow_pread_full(fd, rec, sizeof(rec), pos);
		if (r < 0)
			break;
		off = le64toh(rec[0]);
		len = le64toh(rec[1]);
		if (!len || len > UNDO_MAX_LENGTH || off + len < off) {
			log_err("%s: offset %llu: range %u is %llu+%llu: not a valid range", path,
				(unsigned long long)pos, i, (unsigned long long)off,
				(unsigned long long)len);
			r = SNAPCOW_ERR_UNDO_FORMAT;
			break;
		}
		if (size - pos - sizeof(rec) < len) {
			log_err("%s: offset %llu: the file ends inside range %u of %u: the undo "
				"file is truncated", path, (unsigned long long)pos, i, u->nranges);
			r = SNAPCOW_ERR_UNDO_CHECKSUM;
			break;
		}
		crc = crc32_update(crc, rec, sizeof(rec));
		u->ranges[i] = (struct undo_range){ off, len, pos + sizeof(rec) };
		for (uint64_t done = 0; done < len && !r; done += PIECE) {
			size_t n = len - done < PIECE ? (size_t)(len - done) : PIECE;

			r = snapcow_pread_full(fd, buf, n, pos + sizeof(rec) + done);
			crc = crc32_update(crc, buf, n);
		}
		if (r < 0)
			break;
		pos += sizeof(rec) + len;
		u->bytes += len;
	}
	free(buf);
	if (!r && pos != size) {
		log_err("%s: offset %llu: %llu bytes after the last range: the undo file is damaged",
			path, (unsigned long long)pos, (unsigned long long)(size - pos));
		return SNAPCOW_ERR_UNDO_CHECKSUM;
	}
	if (r < 0 && r != SNAPCOW_ERR_UNDO_FORMAT && r != SNAPCOW_ERR_UNDO_CHECKSUM)
		log_err("%s: cannot read: %s", path, snapcow_strerror(r));
	if (!r && crc != le32toh(h->data_crc)) {
		log_err("%s: checksum of the saved ranges does not match: the undo file is damaged",
			path);
		r = SNAPCOW_ERR_UNDO_CHECKSUM;
	}
	return r;
}

SNAPCOW_EXPORT int snapcow_undo_open(const char *path, struct snapcow_undo **out)
{
	struct snapcow_undo *u = NULL;
	struct undo_disk h;
	uint64_t size;
	int fd, r, blk;

	if (!path || !out)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		log_err("%s: cannot open: %s", path, snapcow_strerror(r));
		return r;
	}
	r = snapcow_fd_size(fd, &size, &blk);
	if (r < 0 || blk) {
		log_err("%s: not a regular file", path);
		r = r < 0 ? r : -EINVAL;
		goto fail;
	}
	if (size < sizeof(h)) {
		log_err("%s: %llu bytes, too small for an undo file", path,
			(unsigned long long)size);
		r = SNAPCOW_ERR_UNDO_FORMAT;
		goto fail;
	}
	r = snapcow_pread_full(fd, &h, sizeof(h), 0);
	if (r < 0) {
		log_err("%s: cannot read offset 0: %s", path, snapcow_strerror(r));
		goto fail;
	}
	if (memcmp(h.magic, SNAPCOW_UNDO_MAGIC, 8)) {
		log_err("%s: offset 0: bad magic (expected \"%s\")", path, SNAPCOW_UNDO_MAGIC);
		r = SNAPCOW_ERR_UNDO_FORMAT;
		goto fail;
	}
	if ((le32toh(h.version) != SNAPCOW_UNDO_VERSION &&
	     le32toh(h.version) != SNAPCOW_UNDO_VERSION_RANGES) ||
	    le32toh(h.header_bytes) != SNAPCOW_UNDO_HEADER_SIZE) {
		log_err("%s: offset 8: unsupported undo file version %u", path,
			le32toh(h.version));
		r = SNAPCOW_ERR_UNDO_FORMAT;
		goto fail;
	}
	if (le32toh(h.header_crc) != crc32_update(0, &h, offsetof(struct undo_disk, header_crc))) {
		log_err("%s: offset 252: header checksum mismatch: the undo file is damaged", path);
		r = SNAPCOW_ERR_UNDO_CHECKSUM;
		goto fail;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		r = -ENOMEM;
		goto fail;
	}
	u->id.kind = le32toh(h.kind);
	u->id.dev = le64toh(h.dev);
	u->id.ino = le64toh(h.ino);
	u->id.rdev = le64toh(h.rdev);
	u->id.size = le64toh(h.store_bytes);
	memcpy(u->id.dm_uuid, h.dm_uuid, sizeof(h.dm_uuid));
	u->id.dm_uuid[sizeof(h.dm_uuid)] = '\0';
	u->version = le32toh(h.version);
	u->path = strdup(path);
	if (!u->path) {
		r = -ENOMEM;
		goto fail;
	}
	if (u->id.kind != SNAPCOW_IDENT_FILE && u->id.kind != SNAPCOW_IDENT_BLOCK) {
		log_err("%s: offset 16: unknown store kind %u", path, u->id.kind);
		r = SNAPCOW_ERR_UNDO_FORMAT;
		goto fail;
	}
	if (u->version == SNAPCOW_UNDO_VERSION_RANGES) {
		r = read_ranges(fd, path, &h, size, u);
		if (r < 0)
			goto fail;
		close(fd);
		*out = u;
		return 0;
	}
	u->offset = le64toh(h.saved_offset);
	u->length = le32toh(h.saved_length);
	u->changed_offset = le64toh(h.changed_offset);
	u->changed_length = le32toh(h.changed_length);
	memcpy(u->new_bytes, h.new_bytes, sizeof(h.new_bytes));
	if (u->length == 0 || u->length > UNDO_MAX_LENGTH || u->changed_length == 0 ||
	    u->changed_length > sizeof(u->new_bytes) || u->changed_offset < u->offset ||
	    u->changed_offset - u->offset > u->length - u->changed_length) {
		log_err("%s: inconsistent ranges in the undo header", path);
		r = SNAPCOW_ERR_UNDO_FORMAT;
		goto fail;
	}
	if (size != sizeof(h) + (uint64_t)u->length) {
		log_err("%s: %llu bytes, expected %llu: the undo file is truncated or damaged",
			path, (unsigned long long)size,
			(unsigned long long)(sizeof(h) + (uint64_t)u->length));
		r = SNAPCOW_ERR_UNDO_CHECKSUM;
		goto fail;
	}
	u->data = malloc(u->length);
	if (!u->data) {
		r = -ENOMEM;
		goto fail;
	}
	r = snapcow_pread_full(fd, u->data, u->length, sizeof(h));
	if (r < 0) {
		log_err("%s: cannot read offset %zu: %s", path, sizeof(h), snapcow_strerror(r));
		goto fail;
	}
	if (crc32_update(0, u->data, u->length) != le32toh(h.data_crc)) {
		log_err("%s: checksum of the saved bytes does not match: the undo file is damaged",
			path);
		r = SNAPCOW_ERR_UNDO_CHECKSUM;
		goto fail;
	}
	close(fd);
	*out = u;
	return 0;
fail:
	close(fd);
	snapcow_undo_free(u);
	return r;
}

SNAPCOW_EXPORT uint32_t snapcow_undo_ranges(const struct snapcow_undo *u)
{
	return u->version == SNAPCOW_UNDO_VERSION_RANGES ? u->nranges : 1;
}

SNAPCOW_EXPORT uint64_t snapcow_undo_bytes(const struct snapcow_undo *u)
{
	return u->version == SNAPCOW_UNDO_VERSION_RANGES ? u->bytes : u->length;
}

SNAPCOW_EXPORT const struct snapcow_identity *snapcow_undo_identity(const struct snapcow_undo *u)
{
	return &u->id;
}

SNAPCOW_EXPORT uint64_t snapcow_undo_offset(const struct snapcow_undo *u)
{
	return u->offset;
}

SNAPCOW_EXPORT uint32_t snapcow_undo_length(const struct snapcow_undo *u)
{
	return u->length;
}

SNAPCOW_EXPORT uint64_t snapcow_undo_changed_offset(const struct snapcow_undo *u)
{
	return u->changed_offset;
}

SNAPCOW_EXPORT uint32_t snapcow_undo_changed_length(const struct snapcow_undo *u)
{
	return u->changed_length;
}

SNAPCOW_EXPORT const unsigned char *snapcow_undo_data(const struct snapcow_undo *u)
{
	return u->data;
}

SNAPCOW_EXPORT const unsigned char *snapcow_undo_new_bytes(const struct snapcow_undo *u)
{
	return u->new_bytes;
}

static const char *describe(const struct snapcow_identity *id, char *buf, size_t len)
{
	if (id->kind == SNAPCOW_IDENT_FILE)
		snprintf(buf, len, "regular file (device %u:%u, inode %llu), %llu bytes",
			 major((dev_t)id->dev), minor((dev_t)id->dev), (unsigned long long)id->ino,
			 (unsigned long long)id->size);
	else
		snprintf(buf, len, "block device %u:%u%s%.64s%s, %llu bytes", major((dev_t)id->rdev),
			 minor((dev_t)id->rdev), id->dm_uuid[0] ? " (dm uuid " : "", id->dm_uuid,
			 id->dm_uuid[0] ? ")" : "", (unsigned long long)id->size);
	return buf;
}

/* Copy every range of @u from its file to the store on @fd (@verify: compare
 * instead of writing).  Returns 0, SNAPCOW_ERR_VERIFY or a negative errno. */
static int copy_ranges(const struct snapcow_undo *u, int ufd, int fd, int verify)
{
	unsigned char *a = malloc(PIECE), *b = verify ? malloc(PIECE) : NULL;
	int r = (!a || (verify && !b)) ? -ENOMEM : 0;

	for (uint32_t i = 0; i < u->nranges && !r; i++) {
		const struct undo_range *g = &u->ranges[i];

		for (uint64_t done = 0; done < g->length && !r; done += PIECE) {
			size_t n = g->length - done < PIECE ? (size_t)(g->length - done) : PIECE;
			uint64_t at = g->offset + done;

			r = snapcow_pread_full(ufd, a, n, g->file_pos + done);
			if (r < 0) {
				log_err("%s: cannot read: %s", u->path, snapcow_strerror(r));
			} else if (!verify) {
				r = snapcow_pwrite_full(fd, a, n, at);
				if (r < 0)
					log_err("%s: cannot write %zu bytes at offset %llu: %s",
						u->path, n, (unsigned long long)at,
						snapcow_strerror(r));
			} else {
				r = snapcow_pread_full(fd, b, n, at);
				if (r < 0)
					log_err("%s: cannot read back offset %llu: %s", u->path,
						(unsigned long long)at, snapcow_strerror(r));
				else if (memcmp(a, b, n)) {
					log_err("%s: store read back at offset %llu differs from the "
						"saved bytes", u->path, (unsigned long long)at);
					r = SNAPCOW_ERR_VERIFY;
				}
			}
		}
	}
	free(a);
	free(b);
	return r;
}

/* Version 2: write every range back, put a regular file's size back, sync,
 * drop the cached pages and compare every range. */
static int apply_ranges(const struct snapcow_undo *u, int fd, const struct snapcow_identity *cur,
			unsigned int flags)
{
	int ufd, r;

	if (cur->kind == SNAPCOW_IDENT_BLOCK && cur->size != u->id.size)
		log_warn("%s: the store is %llu bytes, it was %llu when the undo file was written",
			 u->path, (unsigned long long)cur->size, (unsigned long long)u->id.size);
	if (flags & SNAPCOW_UNDO_DRY_RUN)
		return 0;
	ufd = open(u->path, O_RDONLY | O_CLOEXEC);
	if (ufd < 0) {
		r = -errno;
		log_err("%s: cannot open: %s", u->path, snapcow_strerror(r));
		return r;
	}
	r = copy_ranges(u, ufd, fd, 0);
	if (!r && cur->kind == SNAPCOW_IDENT_FILE && cur->size != u->id.size &&
	    ftruncate(fd, (off_t)u->id.size) < 0) {
		r = -errno;
		log_err("%s: cannot set the store's size back to %llu bytes: %s", u->path,
			(unsigned long long)u->id.size, snapcow_strerror(r));
	}
	if (!r && fsync(fd) < 0) {
		r = -errno;
		log_err("%s: fsync of the store failed: %s", u->path, snapcow_strerror(r));
	}
	if (!r) {
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		r = copy_ranges(u, ufd, fd, 1);
	}
	close(ufd);
	return r;
}

SNAPCOW_EXPORT int snapcow_undo_apply(const struct snapcow_undo *u, int fd, unsigned int flags)
{
	struct snapcow_identity cur, want;
	unsigned char *now = NULL;
	uint64_t rel;
	int r;

	if (!u || fd < 0)
		return -EINVAL;
	r = snapcow_identity_get(fd, &cur);
	if (r < 0) {
		log_err("%s: cannot identify the store: %s", u->path, snapcow_strerror(r));
		return r;
	}
	want = u->id;
	if (u->version == SNAPCOW_UNDO_VERSION_RANGES)
		want.size = cur.size; /* the write may have resized a file: put back below */
	if (!snapcow_identity_match(&want, &cur)) {
		if (!(flags & SNAPCOW_UNDO_ANY_IDENTITY)) {
			char a[200], b[200];

			log_err("%s: made for another store: %s; this store: %s", u->path,
				describe(&u->id, a, sizeof(a)), describe(&cur, b, sizeof(b)));
			return SNAPCOW_ERR_UNDO_IDENTITY;
		}
		log_warn("%s: made for another store; applying anyway", u->path);
	}
	if (u->version == SNAPCOW_UNDO_VERSION_RANGES)
		return apply_ranges(u, fd, &cur, flags);
	if (cur.size < u->offset + u->length) {
		log_err("%s: store is %llu bytes, too small for the saved range", u->path,
			(unsigned long long)cur.size);
		return SNAPCOW_ERR_UNDO_CONTENT;
	}
	now = malloc(u->length);
	if (!now)
		return -ENOMEM;
	r = snapcow_pread_full(fd, now, u->length, u->offset);
	if (r < 0) {
		log_err("%s: cannot read the store at offset %llu: %s", u->path,
			(unsigned long long)u->offset, snapcow_strerror(r));
		goto out;
	}
	if (!memcmp(now, u->data, u->length)) {
		r = 1;
		goto out;
	}
	rel = u->changed_offset - u->offset;
	for (uint64_t i = 0; i < u->length; i++) {
		if (i >= rel && i < rel + u->changed_length)
			continue;
		if (now[i] != u->data[i]) {
			log_err("%s: the store differs from the saved bytes at offset %llu, outside "
				"the changed range %llu..%llu: it was changed since; not restoring",
				u->path, (unsigned long long)(u->offset + i),
				(unsigned long long)u->changed_offset,
				(unsigned long long)(u->changed_offset + u->changed_length - 1));
			r = SNAPCOW_ERR_UNDO_CONTENT;
			goto out;
		}
	}
	if (flags & SNAPCOW_UNDO_DRY_RUN) {
		r = 0;
		goto out;
	}
	r = snapcow_pwrite_full(fd, u->data + rel, u->changed_length, u->changed_offset);
	if (r < 0) {
		log_err("%s: cannot write %u bytes at offset %llu: %s", u->path, u->changed_length,
			(unsigned long long)u->changed_offset, snapcow_strerror(r));
		goto out;
	}
	r = sync_and_reread(fd, u->path, now, u->length, u->offset);
	if (r < 0)
		goto out;
	if (memcmp(now, u->data, u->length)) {
		log_err("%s: store read back after restoring differs from the saved bytes",
			u->path);
		r = SNAPCOW_ERR_VERIFY;
		goto out;
	}
	r = 0;
out:
	free(now);
	return r;
}

SNAPCOW_EXPORT void snapcow_undo_free(struct snapcow_undo *u)
{
	if (!u)
		return;
	free(u->ranges);
	free(u->data);
	free(u->path);
	free(u);
}
