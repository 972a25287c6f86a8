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
	uint32_t reserved;
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

struct snapcow_undo {
	struct snapcow_identity id;
	uint64_t offset;
	uint32_t length;
	uint64_t changed_offset;
	uint32_t changed_length;
	unsigned char new_bytes[8];
	unsigned char *data;
	char *path;
};

/* CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320), bitwise: the
 * ranges checked here are one header chunk. */
static uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1U)));
	}
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

static int write_undo(const char *path, const struct snapcow_identity *id, const char *program,
		      uint64_t offset, const unsigned char *data, uint32_t length,
		      uint64_t changed_offset, const unsigned char *new_bytes,
		      uint32_t changed_length)
{
	struct undo_disk h;
	int fd, r;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SNAPCOW_UNDO_MAGIC, 8);
	h.version = htole32(SNAPCOW_UNDO_VERSION);
	h.header_bytes = htole32(SNAPCOW_UNDO_HEADER_SIZE);
	h.kind = htole32(id->kind);
	h.dev = htole64(id->dev);
	h.ino = htole64(id->ino);
	h.rdev = htole64(id->rdev);
	h.store_bytes = htole64(id->size);
	h.saved_offset = htole64(offset);
	h.saved_length = htole32(length);
	h.changed_length = htole32(changed_length);
	h.changed_offset = htole64(changed_offset);
	h.created = htole64((uint64_t)time(NULL));
	memcpy(h.new_bytes, new_bytes, changed_length);
	memcpy(h.dm_uuid, id->dm_uuid, strnlen(id->dm_uuid, sizeof(h.dm_uuid)));
	if (program)
		memcpy(h.program, program, strnlen(program, sizeof(h.program) - 1));
	h.data_crc = htole32(crc32_update(0, data, length));
	h.header_crc = htole32(crc32_update(0, &h, offsetof(struct undo_disk, header_crc)));

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		log_err("%s: cannot create undo file: %s", path, snapcow_strerror(r));
		return r;
	}
	r = snapcow_pwrite_full(fd, &h, sizeof(h), 0);
	if (!r)
		r = snapcow_pwrite_full(fd, data, length, sizeof(h));
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
	if (le32toh(h.version) != SNAPCOW_UNDO_VERSION ||
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
	u->offset = le64toh(h.saved_offset);
	u->length = le32toh(h.saved_length);
	u->changed_offset = le64toh(h.changed_offset);
	u->changed_length = le32toh(h.changed_length);
	memcpy(u->new_bytes, h.new_bytes, sizeof(h.new_bytes));
	if (u->length == 0 || u->length > UNDO_MAX_LENGTH || u->changed_length == 0 ||
	    u->changed_length > sizeof(u->new_bytes) || u->changed_offset < u->offset ||
	    u->changed_offset - u->offset > u->length - u->changed_length ||
	    (u->id.kind != SNAPCOW_IDENT_FILE && u->id.kind != SNAPCOW_IDENT_BLOCK)) {
		log_err("%s: inconsistent ranges or kind in the undo header", path);
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
	u->path = strdup(path);
	if (!u->data || !u->path) {
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

SNAPCOW_EXPORT int snapcow_undo_apply(const struct snapcow_undo *u, int fd, unsigned int flags)
{
	struct snapcow_identity cur;
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
	if (!snapcow_identity_match(&u->id, &cur)) {
		if (!(flags & SNAPCOW_UNDO_ANY_IDENTITY)) {
			char a[200], b[200];

			log_err("%s: made for another store: %s; this store: %s", u->path,
				describe(&u->id, a, sizeof(a)), describe(&cur, b, sizeof(b)));
			return SNAPCOW_ERR_UNDO_IDENTITY;
		}
		log_warn("%s: made for another store; applying anyway", u->path);
	}
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
	free(u->data);
	free(u->path);
	free(u);
}
