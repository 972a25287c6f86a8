/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Safe in-place rewrites of a store, and undo files.
 *
 * Order of a rewrite, so that a crash at any point leaves either the old or
 * the new bytes and, once the store may have changed, an undo file:
 *   1. read the bytes about to change;
 *   2. write the undo file (O_EXCL), fsync it, fsync its directory;
 *   3. pwrite only the bytes that change (the valid flag: one
 *      sector-aligned 4-byte write, which a disk writes entirely or not at
 *      all), fsync the store;
 *   4. drop the store's cached pages and read the bytes back to compare.
 * Named fault points (enum snapcow_rewrite_step) let a test kill the
 * process between the steps.  The undo file format is documented in
 * snapcow.h: version 3 is written; versions 1 (one range and its changed
 * bytes, snap_setvalid 0.1) and 2 (ranges, snap_restore 0.1) are read.
 * A change to several devices (snap_merge: the store and the origin) is
 * one file of several parts, each a version 3 undo file of its own laid
 * after the one before, numbered in header bytes 88..95.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "snapcow-internal.h"

#define UNDO_V1 1U
#define UNDO_V2 2U

struct undo_disk {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;
	uint32_t kind;
	uint32_t ranges;        /* versions 2 and 3; 0 in version 1 */
	uint64_t dev;
	uint64_t ino;
	uint64_t rdev;
	uint64_t store_bytes;
	uint64_t v1_saved_offset; /* version 1 only, as the rest of this block */
	uint32_t v1_saved_length;
	uint32_t v1_changed_length;
	uint64_t v1_changed_offset;
	uint64_t created;
	unsigned char v1_new_bytes[8]; /* version 3: part number and parts (u32 each) */
	char dm_uuid[128];
	char program[24];
	uint32_t data_crc;
	uint32_t header_crc;
} __attribute__((packed));
static_assert(sizeof(struct undo_disk) == SNAPCOW_UNDO_HEADER_SIZE, "undo header is 256 bytes");

/* A version 3 range record; version 2 has only the first two fields. */
struct undo_disk_range {
	uint64_t offset;
	uint64_t length;
	uint64_t changed_offset;
	uint64_t changed_length;
} __attribute__((packed));
static_assert(sizeof(struct undo_disk_range) == 32, "undo range is 32 bytes");

/* Largest saved range: the largest header chunk the kernel allows is 1 GiB. */
#define UNDO_MAX_LENGTH (1ULL << 30)
/* Bytes moved at a time between an undo file and the store. */
#define PIECE ((size_t)1 << 20)
/* Saved bytes are synced in batches of this size while they are written,
 * so that a large undo file does not pile up in the page cache. */
#define UNDO_SYNC_BYTES ((uint64_t)64 << 20)

struct range {
	struct snapcow_undo_range r;
	uint64_t file_pos; /* where its saved bytes are in the file */
};

struct snapcow_undo {
	struct snapcow_ctx *ctx;
	struct snapcow_identity id;
	uint32_t version;
	struct range *ranges;
	uint32_t nranges;
	uint64_t bytes;
	int fd;
	int own_fd;               /* the first part owns the file */
	char *path;
	uint64_t base;            /* where the part starts in the file */
	uint32_t part, parts;     /* its number, and how many (1: a plain file) */
	int sorted;               /* ranges in increasing, disjoint order */
	struct snapcow_undo *next; /* the next part, owned by this one */
};

/* ---- Identity --------------------------------------------------------- */

SNAPCOW_EXPORT int snapcow_identity_get(int fd, struct snapcow_identity *id)
{
	struct stat st;
	int r;

	if (fd < 0 || !id)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	memset(id, 0, sizeof(*id));
	r = fd_size(fd, &st, &id->size);
	if (r < 0)
		return r;
	if (S_ISREG(st.st_mode)) {
		id->kind = SNAPCOW_IDENT_FILE;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	} else {
		id->kind = SNAPCOW_IDENT_BLOCK;
		id->rdev = st.st_rdev;
	}
	return 0;
}

SNAPCOW_EXPORT int snapcow_identity_match(const struct snapcow_identity *saved,
					  const struct snapcow_identity *cur)
{
	if (!saved || !cur || saved->kind != cur->kind || saved->size != cur->size)
		return 0;
	if (saved->kind == SNAPCOW_IDENT_FILE)
		return saved->dev == cur->dev && saved->ino == cur->ino;
	if (saved->dm_uuid[0] && cur->dm_uuid[0])
		return !strcmp(saved->dm_uuid, cur->dm_uuid);
	return saved->rdev == cur->rdev;
}

static const char *describe(const struct snapcow_identity *id, char *buf, size_t len)
{
	if (id->kind == SNAPCOW_IDENT_FILE)
		snprintf(buf, len, "regular file (device %u:%u, inode %" PRIu64 "), %" PRIu64 " bytes",
			 major((dev_t)id->dev), minor((dev_t)id->dev), id->ino, id->size);
	else
		snprintf(buf, len, "block device %u:%u%s%.64s%s, %" PRIu64 " bytes",
			 major((dev_t)id->rdev), minor((dev_t)id->rdev),
			 id->dm_uuid[0] ? " (dm uuid " : "", id->dm_uuid, id->dm_uuid[0] ? ")" : "",
			 id->size);
	return buf;
}

/* ---- Writing an undo file (version 3) --------------------------------- */

static void fill_header(struct undo_disk *h, const struct snapcow_identity *id,
			const char *program, uint32_t part, uint32_t parts)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, SNAPCOW_UNDO_MAGIC, 8);
	h->version = htole32(SNAPCOW_UNDO_VERSION);
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
	if (parts > 1) {
		uint32_t le[2] = { htole32(part), htole32(parts) };

		memcpy(h->v1_new_bytes, le, sizeof(le));
	}
}

/* Close the undo file, fsync it and its directory; on any error (@r or
 * now) remove it.  Returns @r or the first error. */
static int finish_undo(struct snapcow_ctx *ctx, int fd, const char *path, int r)
{
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r)
		r = fsync_parent(path);
	if (r) {
		log_err(ctx, "%s: cannot write undo file: %s", path, snapcow_strerror(r));
		unlink(path);
	}
	return r;
}

/* Clip @in to a store of @size bytes: 0 when nothing is left. */
static int clip_range(const struct snapcow_undo_range *in, uint64_t size,
		      struct snapcow_undo_range *out)
{
	uint64_t cend;

	*out = *in;
	if (out->offset >= size || !out->length)
		return 0;
	if (out->length > size - out->offset)
		out->length = size - out->offset;
	if (out->changed_offset < out->offset)
		out->changed_offset = out->offset;
	cend = in->changed_offset + in->changed_length < in->changed_offset ?
		       UINT64_MAX : in->changed_offset + in->changed_length;
	if (cend > out->offset + out->length)
		cend = out->offset + out->length;
	out->changed_length = cend > out->changed_offset ? cend - out->changed_offset : 0;
	return 1;
}

/* Copy one range from the store into the undo file at *@pos. */
static int save_range(struct snapcow_ctx *ctx, const struct snapcow_dev *d, int ufd,
		      const struct snapcow_undo_range *g, unsigned char *buf, uint64_t *pos,
		      uint32_t *crc)
{
	struct undo_disk_range rec = { htole64(g->offset), htole64(g->length),
				       htole64(g->changed_offset), htole64(g->changed_length) };
	int r;

	*crc = crc32_update(*crc, &rec, sizeof(rec));
	r = pwrite_full(ufd, &rec, sizeof(rec), *pos);
	*pos += sizeof(rec);
	for (uint64_t done = 0; !r && done < g->length; done += PIECE) {
		size_t n = g->length - done < PIECE ? (size_t)(g->length - done) : PIECE;

		r = snapcow_dev_pread(d, buf, n, g->offset + done);
		if (r < 0) {
			log_err(ctx, "cannot read the store at offset %" PRIu64 ": %s",
				g->offset + done, snapcow_strerror(r));
			break;
		}
		*crc = crc32_update(*crc, buf, n);
		r = pwrite_full(ufd, buf, n, *pos + done);
		if (!r && (*pos + done) / UNDO_SYNC_BYTES != (*pos + done + n) / UNDO_SYNC_BYTES &&
		    fdatasync(ufd) < 0)
			r = -errno;
	}
	*pos += g->length;
	return r;
}

/* Part @index of @nparts at *@pos: the ranges after the header's slot,
 * then the header with its final count and CRCs. */
static int save_part(struct snapcow_ctx *ctx, int ufd, const struct snapcow_undo_part *p,
		     uint32_t index, uint32_t nparts, const char *program, unsigned char *buf,
		     uint64_t *pos)
{
	const struct snapcow_identity *id = p->identity;
	uint64_t base = *pos;
	uint32_t crc = 0, count = 0;
	struct undo_disk h;
	int r = 0;

	if (!p->dev || !id || (!p->ranges && p->n) || p->n > UINT32_MAX)
		return -EINVAL;
	fill_header(&h, id, program, index, nparts);
	*pos += sizeof(h);
	for (size_t i = 0; i < p->n && !r; i++) {
		struct snapcow_undo_range g;

		if (!clip_range(&p->ranges[i], id->size, &g))
			continue;
		if (g.length > UNDO_MAX_LENGTH) {
			r = -EINVAL;
			break;
		}
		r = save_range(ctx, p->dev, ufd, &g, buf, pos, &crc);
		count++;
	}
	if (r)
		return r;
	h.ranges = htole32(count);
	h.data_crc = htole32(crc);
	h.header_crc = htole32(crc32_update(0, &h, offsetof(struct undo_disk, header_crc)));
	return pwrite_full(ufd, &h, sizeof(h), base);
}

SNAPCOW_EXPORT int snapcow_undo_save_parts(struct snapcow_ctx *ctx, const char *path,
					   const struct snapcow_undo_part *parts, size_t n,
					   const char *program)
{
	unsigned char *buf;
	uint64_t pos = 0;
	int ufd, r = 0;

	if (!path || !parts || !n || n > UINT32_MAX)
		return -EINVAL;
	buf = malloc(PIECE);
	if (!buf)
		return -ENOMEM;
	ufd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (ufd < 0) {
		r = -errno;
		log_err(ctx, "%s: cannot create undo file: %s", path, snapcow_strerror(r));
		free(buf);
		return r;
	}
	for (size_t i = 0; i < n && !r; i++)
		r = save_part(ctx, ufd, &parts[i], (uint32_t)i, (uint32_t)n, program, buf, &pos);
	free(buf);
	return finish_undo(ctx, ufd, path, r);
}

SNAPCOW_EXPORT int snapcow_undo_save(struct snapcow_ctx *ctx, int fd,
				     const struct snapcow_identity *idp, const char *path,
				     const struct snapcow_undo_range *ranges, size_t n,
				     const char *program)
{
	struct snapcow_undo_part part = { .ranges = ranges, .n = n };
	struct snapcow_identity id;
	struct snapcow_dev *d;
	int r;

	if (fd < 0 || !path || (!ranges && n) || n > UINT32_MAX)
		return -EINVAL;
	if (idp) {
		id = *idp;
	} else {
		r = snapcow_identity_get(fd, &id);
		if (r < 0)
			return r;
	}
	r = snapcow_dev_new_fd(fd, "store", &d);
	if (r < 0)
		return r;
	part.dev = d;
	part.identity = &id;
	r = snapcow_undo_save_parts(ctx, path, &part, 1, program);
	snapcow_dev_free(d);
	return r;
}

/* ---- The valid flag --------------------------------------------------- */

static void step(const struct snapcow_rewrite_options *opt, enum snapcow_rewrite_step s)
{
	if (opt->step_fn)
		opt->step_fn(opt->step_data, s);
}

/* Write the 4 bytes, sync, drop the cache and read the chunk back into
 * @back; compare it with @old carrying the new field. */
static int write_field(struct snapcow_store *s, unsigned char *old, unsigned char *back,
		       uint64_t field, uint32_t le, const struct snapcow_rewrite_options *opt)
{
	int r = pwrite_full(s->fd, &le, 4, field);

	if (r < 0) {
		log_err(s->ctx, "%s: cannot write 4 bytes at offset %" PRIu64 ": %s", s->name, field,
			snapcow_strerror(r));
		return r;
	}
	if (fsync(s->fd) < 0) {
		r = -errno;
		log_err(s->ctx, "%s: fsync failed: %s", s->name, snapcow_strerror(r));
		return r;
	}
	step(opt, SNAPCOW_STEP_AFTER_WRITE);
	r = sync_and_drop(s->fd);
	if (!r)
		r = pread_full(s->fd, back, s->chunk_bytes, 0);
	if (r < 0) {
		log_err(s->ctx, "%s: cannot read back offset 0: %s", s->name, snapcow_strerror(r));
		return r;
	}
	memcpy(old + field, &le, 4);
	if (memcmp(old, back, s->chunk_bytes)) {
		log_err(s->ctx, "%s: header chunk read back after the write differs from what was "
			"written", s->name);
		return SNAPCOW_ERR_VERIFY;
	}
	return 0;
}

SNAPCOW_EXPORT int snapcow_store_set_valid(struct snapcow_store *s, uint32_t valid,
					   const struct snapcow_rewrite_options *opt)
{
	const uint64_t field = offsetof(struct snapcow_disk_header, valid);
	const struct snapcow_undo_range hdr = { 0, s ? s->chunk_bytes : 0, field, 4 };
	unsigned char *old = NULL, *back = NULL;
	uint32_t le = htole32(valid), cur;
	int r;

	if (!s || !opt || !opt->undo_path || !s->chunk_bytes)
		return -EINVAL;
	if (!(s->flags & SNAPCOW_OPEN_RDWR) || s->fd < 0)
		return -EBADF;
	old = malloc(s->chunk_bytes);
	back = malloc(s->chunk_bytes);
	if (!old || !back) {
		r = -ENOMEM;
		goto out;
	}
	r = pread_full(s->fd, old, s->chunk_bytes, 0);
	if (r < 0) {
		log_err(s->ctx, "%s: cannot read header chunk at offset 0: %s", s->name,
			snapcow_strerror(r));
		goto out;
	}
	memcpy(&cur, old + field, 4);
	if (cur == le) {
		r = 1;
		goto out;
	}
	step(opt, SNAPCOW_STEP_BEFORE_UNDO);
	r = snapcow_undo_save(s->ctx, s->fd, opt->identity, opt->undo_path, &hdr, 1, opt->program);
	if (r < 0)
		goto out;
	step(opt, SNAPCOW_STEP_AFTER_UNDO);
	r = write_field(s, old, back, field, le, opt);
	if (r == 0)
		s->hdr.valid = valid;
out:
	free(old);
	free(back);
	return r;
}

/* ---- Reading an undo file --------------------------------------------- */

static int add_range(struct snapcow_undo *u, const struct snapcow_undo_range *g, uint64_t pos,
		     uint64_t pos_rec)
{
	uint64_t cend = g->changed_offset + g->changed_length;

	if (!g->length || g->length > UNDO_MAX_LENGTH || g->offset + g->length < g->offset ||
	    g->changed_offset < g->offset || cend < g->changed_offset ||
	    cend > g->offset + g->length) {
		log_err(u->ctx, "%s: offset %" PRIu64 ": range %u is %" PRIu64 "+%" PRIu64 " (changed %"
			PRIu64 "+%" PRIu64 "): not a valid range", u->path, pos_rec, u->nranges,
			g->offset, g->length, g->changed_offset, g->changed_length);
		return SNAPCOW_ERR_UNDO_FORMAT;
	}
	if (u->nranges) {
		const struct snapcow_undo_range *prev = &u->ranges[u->nranges - 1].r;

		u->sorted &= g->offset >= prev->offset + prev->length;
	}
	u->ranges[u->nranges].r = *g;
	u->ranges[u->nranges].file_pos = pos;
	u->nranges++;
	u->bytes += g->length;
	return 0;
}

/* A buffer for pieces of at most @most bytes (PIECE at most): the loops
 * below read min(PIECE, what is left), so a small undo file needs a small
 * buffer, not 1 MiB on every open. */
static unsigned char *piece_buf(uint64_t most)
{
	return malloc(most < PIECE ? (most ? (size_t)most : 1) : PIECE);
}

/* CRC of @len bytes of the undo file at @pos, continuing @crc. */
static int crc_file(struct snapcow_undo *u, uint64_t pos, uint64_t len, uint32_t *crc,
		    unsigned char *buf)
{
	for (uint64_t done = 0; done < len; done += PIECE) {
		size_t n = len - done < PIECE ? (size_t)(len - done) : PIECE;
		int r = pread_full(u->fd, buf, n, pos + done);

		if (r < 0) {
			log_err(u->ctx, "%s: cannot read: %s", u->path, snapcow_strerror(r));
			return r;
		}
		*crc = crc32_update(*crc, buf, n);
	}
	return 0;
}

static int truncated(struct snapcow_undo *u, uint64_t pos, const char *where, uint32_t i,
		     uint32_t n)
{
	log_err(u->ctx, "%s: offset %" PRIu64 ": the file ends %s range %u of %u: the undo file is "
		"truncated", u->path, pos, where, i, n);
	return SNAPCOW_ERR_UNDO_CHECKSUM;
}

/* Versions 2 and 3: index the ranges of the part at u->base, check its
 * CRC; *@end is where it ends (the file must end there after the last). */
static int read_ranges(struct snapcow_undo *u, const struct undo_disk *h, uint64_t size,
		       uint64_t *end)
{
	const size_t reclen = u->version == UNDO_V2 ? 16 : sizeof(struct undo_disk_range);
	uint32_t n = le32toh(h->ranges), crc = 0;
	uint64_t pos = u->base + sizeof(*h);
	unsigned char *buf;
	int r = 0;

	if (h->v1_saved_length || h->v1_changed_length || n > (size - pos) / reclen) {
		log_err(u->ctx, "%s: inconsistent range count in the undo header", u->path);
		return SNAPCOW_ERR_UNDO_FORMAT;
	}
	u->ranges = calloc(n ? n : 1, sizeof(*u->ranges));
	buf = piece_buf(size - pos); /* every range lies before @size */
	if (!u->ranges || !buf) {
		free(buf);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n && !r; i++) {
		struct undo_disk_range rec = { 0 };
		struct snapcow_undo_range g;

		if (size - pos < reclen) {
			r = truncated(u, pos, "before", i, n);
			break;
		}
		r = pread_full(u->fd, &rec, reclen, pos);
		if (r < 0)
			break;
		crc = crc32_update(crc, &rec, reclen);
		g.offset = le64toh(rec.offset);
		g.length = le64toh(rec.length);
		g.changed_offset = u->version == UNDO_V2 ? g.offset : le64toh(rec.changed_offset);
		g.changed_length = u->version == UNDO_V2 ? g.length : le64toh(rec.changed_length);
		r = add_range(u, &g, pos + reclen, pos);
		if (r < 0)
			break;
		if (size - pos - reclen < g.length) {
			r = truncated(u, pos, "inside", i, n);
			break;
		}
		r = crc_file(u, pos + reclen, g.length, &crc, buf);
		pos += reclen + g.length;
	}
	free(buf);
	*end = pos;
	if (!r && pos != size && u->part + 1 == u->parts) {
		log_err(u->ctx, "%s: offset %" PRIu64 ": %" PRIu64 " bytes after the last range: the "
			"undo file is damaged", u->path, pos, size - pos);
		return SNAPCOW_ERR_UNDO_CHECKSUM;
	}
	if (!r && crc != le32toh(h->data_crc)) {
		log_err(u->ctx, "%s: checksum of the saved bytes does not match: the undo file is "
			"damaged", u->path);
		r = SNAPCOW_ERR_UNDO_CHECKSUM;
	}
	return r;
}

/* Version 1: one range at offset 256 and its changed bytes. */
static int read_v1(struct snapcow_undo *u, const struct undo_disk *h, uint64_t size)
{
	struct snapcow_undo_range g = { le64toh(h->v1_saved_offset), le32toh(h->v1_saved_length),
					le64toh(h->v1_changed_offset),
					le32toh(h->v1_changed_length) };
	unsigned char *buf;
	uint32_t crc = 0;
	int r;

	u->ranges = calloc(1, sizeof(*u->ranges));
	if (!u->ranges)
		return -ENOMEM;
	if (!g.changed_length || g.changed_length > sizeof(h->v1_new_bytes) ||
	    add_range(u, &g, sizeof(*h), 56) < 0) {
		log_err(u->ctx, "%s: inconsistent ranges in the undo header", u->path);
		return SNAPCOW_ERR_UNDO_FORMAT;
	}
	if (size != sizeof(*h) + g.length) {
		log_err(u->ctx, "%s: %" PRIu64 " bytes, expected %" PRIu64 ": the undo file is "
			"truncated or damaged", u->path, size, sizeof(*h) + g.length);
		return SNAPCOW_ERR_UNDO_CHECKSUM;
	}
	buf = piece_buf(g.length);
	if (!buf)
		return -ENOMEM;
	r = crc_file(u, sizeof(*h), g.length, &crc, buf);
	free(buf);
	if (!r && crc != le32toh(h->data_crc)) {
		log_err(u->ctx, "%s: checksum of the saved bytes does not match: the undo file is "
			"damaged", u->path);
		r = SNAPCOW_ERR_UNDO_CHECKSUM;
	}
	return r;
}

/* The part number and count of a version 3 header (0 of 1 otherwise). */
static void header_part(const struct undo_disk *h, uint32_t version, uint32_t *part,
			uint32_t *parts)
{
	uint32_t le[2];

	memcpy(le, h->v1_new_bytes, sizeof(le));
	*part = version == SNAPCOW_UNDO_VERSION ? le32toh(le[0]) : 0;
	*parts = version == SNAPCOW_UNDO_VERSION ? le32toh(le[1]) : 0;
	if (!*parts)
		*parts = 1;
}

/* Magic, version, header CRC, part number and identity of the header at
 * u->base (the start of the file, or of a later part). */
static int read_header(struct snapcow_undo *u, struct undo_disk *h, uint64_t size)
{
	const uint64_t b = u->base;
	uint32_t part, parts;
	int r;

	if (size < sizeof(*h) || size - sizeof(*h) < b) {
		if (b)
			log_err(u->ctx, "%s: offset %" PRIu64 ": the file ends before part %u of %u: "
				"the undo file is truncated", u->path, b, u->part + 1, u->parts);
		else
			log_err(u->ctx, "%s: %" PRIu64 " bytes, too small for an undo file", u->path,
				size);
		return b ? SNAPCOW_ERR_UNDO_CHECKSUM : SNAPCOW_ERR_UNDO_FORMAT;
	}
	r = pread_full(u->fd, h, sizeof(*h), b);
	if (r < 0) {
		log_err(u->ctx, "%s: cannot read offset %" PRIu64 ": %s", u->path, b,
			snapcow_strerror(r));
		return r;
	}
	if (memcmp(h->magic, SNAPCOW_UNDO_MAGIC, 8)) {
		log_err(u->ctx, "%s: offset %" PRIu64 ": bad magic (expected \"%s\")", u->path, b,
			SNAPCOW_UNDO_MAGIC);
		return SNAPCOW_ERR_UNDO_FORMAT;
	}
	u->version = le32toh(h->version);
	if (u->version < UNDO_V1 || u->version > SNAPCOW_UNDO_VERSION ||
	    le32toh(h->header_bytes) != SNAPCOW_UNDO_HEADER_SIZE || (b && u->version < UNDO_V2)) {
		log_err(u->ctx, "%s: offset %" PRIu64 ": unsupported undo file version %u", u->path,
			b + 8, u->version);
		return SNAPCOW_ERR_UNDO_FORMAT;
	}
	if (le32toh(h->header_crc) != crc32_update(0, h, offsetof(struct undo_disk, header_crc))) {
		log_err(u->ctx, "%s: offset %" PRIu64 ": header checksum mismatch: the undo file is "
			"damaged", u->path, b + 252);
		return SNAPCOW_ERR_UNDO_CHECKSUM;
	}
	header_part(h, u->version, &part, &parts);
	if (part != u->part || (b && parts != u->parts) || part >= parts) {
		log_err(u->ctx, "%s: offset %" PRIu64 ": header says part %u of %u where part %u "
			"was expected: the undo file is damaged", u->path, b + 88, part + 1, parts,
			u->part + 1);
		return SNAPCOW_ERR_UNDO_CHECKSUM;
	}
	u->parts = parts;
	u->id.kind = le32toh(h->kind);
	u->id.dev = le64toh(h->dev);
	u->id.ino = le64toh(h->ino);
	u->id.rdev = le64toh(h->rdev);
	u->id.size = le64toh(h->store_bytes);
	memcpy(u->id.dm_uuid, h->dm_uuid, sizeof(h->dm_uuid));
	u->id.dm_uuid[sizeof(h->dm_uuid)] = '\0';
	if (u->id.kind != SNAPCOW_IDENT_FILE && u->id.kind != SNAPCOW_IDENT_BLOCK) {
		log_err(u->ctx, "%s: offset %" PRIu64 ": unknown store kind %u", u->path, b + 16,
			u->id.kind);
		return SNAPCOW_ERR_UNDO_FORMAT;
	}
	return 0;
}

static struct snapcow_undo *undo_alloc(struct snapcow_ctx *ctx, const char *path)
{
	struct snapcow_undo *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->ctx = snapcow_ctx_ref(ctx);
	u->path = strdup(path);
	u->fd = -1;
	u->parts = 1;
	u->sorted = 1;
	if (!u->path) {
		snapcow_undo_free(u);
		return NULL;
	}
	return u;
}

/* The parts after the first, each at the end of the one before. */
static int read_more_parts(struct snapcow_undo *first, uint64_t size, uint64_t end)
{
	struct snapcow_undo *prev = first;
	struct undo_disk h;
	int r = 0;

	for (uint32_t i = 1; i < first->parts && !r; i++) {
		struct snapcow_undo *u = undo_alloc(first->ctx, first->path);

		if (!u)
			return -ENOMEM;
		prev->next = u;
		prev = u;
		u->fd = first->fd;
		u->base = end;
		u->part = i;
		u->parts = first->parts;
		r = read_header(u, &h, size);
		if (!r)
			r = read_ranges(u, &h, size, &end);
	}
	return r;
}

static int open_undo(struct snapcow_ctx *ctx, const char *path, int all_parts,
		     struct snapcow_undo **out)
{
	struct snapcow_undo *u;
	struct undo_disk h;
	struct stat st;
	uint64_t size, end = 0;
	int r;

	if (!path || !out)
		return -EINVAL;
	u = undo_alloc(ctx, path);
	if (!u)
		return -ENOMEM;
	u->fd = open(path, O_RDONLY | O_CLOEXEC);
	u->own_fd = u->fd >= 0;
	if (u->fd < 0) {
		r = -errno;
		log_err(ctx, "cannot open %s: %s", path, snapcow_strerror(r));
		goto fail;
	}
	if (fstat(u->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		log_err(ctx, "cannot open %s: %s", path,
			r == -EINVAL ? "not a regular file" : snapcow_strerror(r));
		goto fail;
	}
	size = (uint64_t)st.st_size;
	r = read_header(u, &h, size);
	if (!r && u->parts > 1 && !all_parts) {
		log_err(ctx, "%s: holds the undo of a change to %u devices (written by %.23s): "
			"apply it with %.23s --undo-apply", path, u->parts, h.program, h.program);
		r = SNAPCOW_ERR_UNDO_FORMAT;
	}
	if (!r)
		r = u->version == UNDO_V1 ? read_v1(u, &h, size) : read_ranges(u, &h, size, &end);
	if (!r)
		r = read_more_parts(u, size, end);
	if (r < 0)
		goto fail;
	*out = u;
	return 0;
fail:
	snapcow_undo_free(u);
	return r;
}

SNAPCOW_EXPORT int snapcow_undo_open(struct snapcow_ctx *ctx, const char *path,
				     struct snapcow_undo **out)
{
	return open_undo(ctx, path, 0, out);
}

SNAPCOW_EXPORT int snapcow_undo_open_parts(struct snapcow_ctx *ctx, const char *path,
					   struct snapcow_undo **out)
{
	return open_undo(ctx, path, 1, out);
}

SNAPCOW_EXPORT uint32_t snapcow_undo_parts(const struct snapcow_undo *u)
{
	return u->parts;
}

SNAPCOW_EXPORT const struct snapcow_undo *snapcow_undo_next_part(const struct snapcow_undo *u)
{
	return u ? u->next : NULL;
}

SNAPCOW_EXPORT uint32_t snapcow_undo_ranges(const struct snapcow_undo *u)
{
	return u->nranges;
}

SNAPCOW_EXPORT uint64_t snapcow_undo_bytes(const struct snapcow_undo *u)
{
	return u->bytes;
}

SNAPCOW_EXPORT const struct snapcow_identity *snapcow_undo_identity(const struct snapcow_undo *u)
{
	return &u->id;
}

SNAPCOW_EXPORT int snapcow_undo_range(const struct snapcow_undo *u, uint32_t i,
				      struct snapcow_undo_range *r)
{
	if (!u || !r || i >= u->nranges)
		return -EINVAL;
	*r = u->ranges[i].r;
	return 0;
}

/* The range holding [@offset, @offset + @len), or NULL: a binary search
 * when the ranges are in order (as every writer saves them), else a walk. */
static const struct range *find_saved(const struct snapcow_undo *u, uint64_t offset, size_t len)
{
	uint32_t lo = 0, hi = u->nranges;

	if (u->sorted) {
		while (hi - lo > 1) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (u->ranges[mid].r.offset <= offset)
				lo = mid;
			else
				hi = mid;
		}
		hi = lo + 1 < u->nranges ? lo + 1 : u->nranges;
	}
	for (uint32_t i = lo; i < hi; i++) {
		const struct range *g = &u->ranges[i];

		if (offset >= g->r.offset && len <= g->r.length &&
		    offset - g->r.offset <= g->r.length - len)
			return g;
	}
	return NULL;
}

SNAPCOW_EXPORT int snapcow_undo_read_saved(const struct snapcow_undo *u, uint64_t offset,
					   void *buf, size_t len)
{
	const struct range *g = u ? find_saved(u, offset, len) : NULL;

	if (!g)
		return -EINVAL;
	return pread_full(u->fd, buf, len, g->file_pos + (offset - g->r.offset));
}

SNAPCOW_EXPORT void snapcow_undo_free(struct snapcow_undo *u)
{
	while (u) {
		struct snapcow_undo *next = u->next;

		if (u->own_fd)
			close(u->fd);
		snapcow_ctx_unref(u->ctx);
		free(u->ranges);
		free(u->path);
		free(u);
		u = next;
	}
}

/* ---- Applying an undo file -------------------------------------------- */

/* Compare range @g with the store: *@differs when it holds other bytes;
 * SNAPCOW_ERR_UNDO_CONTENT when they differ outside the changed part. */
static int compare_range(const struct snapcow_undo *u, const struct snapcow_dev *d,
			 const struct range *g, unsigned char *a, unsigned char *b, int *differs)
{
	const struct snapcow_undo_range *r = &g->r;

	for (uint64_t done = 0; done < r->length; done += PIECE) {
		size_t n = r->length - done < PIECE ? (size_t)(r->length - done) : PIECE;
		uint64_t at = r->offset + done;
		int e = pread_full(u->fd, a, n, g->file_pos + done);

		if (!e)
			e = snapcow_dev_pread(d, b, n, at);
		if (e < 0) {
			log_err(u->ctx, "%s: cannot read the store at offset %" PRIu64 ": %s", u->path,
				at, e == -EIO ? "it is shorter than the saved range" :
				snapcow_strerror(e));
			return e == -EIO ? SNAPCOW_ERR_UNDO_CONTENT : e;
		}
		if (!memcmp(a, b, n))
			continue;
		*differs = 1;
		for (size_t i = 0; i < n; i++) {
			if (a[i] == b[i] || (at + i >= r->changed_offset &&
					     at + i - r->changed_offset < r->changed_length))
				continue;
			log_err(u->ctx, "%s: the store differs from the saved bytes at offset %" PRIu64
				", outside the changed range %" PRIu64 "..%" PRIu64 ": it was changed "
				"since; not restoring", u->path, at + i, r->changed_offset,
				r->changed_offset + r->changed_length - 1);
			return SNAPCOW_ERR_UNDO_CONTENT;
		}
	}
	return 0;
}

/* Copy every range from the undo file to the store (@verify: compare). */
static int copy_ranges(const struct snapcow_undo *u, const struct snapcow_dev *d, int verify,
		       unsigned char *a, unsigned char *b)
{
	int r = 0;

	for (uint32_t i = 0; i < u->nranges && !r; i++) {
		const struct range *g = &u->ranges[i];

		for (uint64_t done = 0; done < g->r.length && !r; done += PIECE) {
			size_t n = g->r.length - done < PIECE ? (size_t)(g->r.length - done) : PIECE;
			uint64_t at = g->r.offset + done;

			r = pread_full(u->fd, a, n, g->file_pos + done);
			if (r < 0)
				log_err(u->ctx, "%s: cannot read: %s", u->path, snapcow_strerror(r));
			else if (!verify && (r = snapcow_dev_pwrite(d, a, n, at)) < 0)
				log_err(u->ctx, "%s: cannot write %zu bytes at offset %" PRIu64 ": %s",
					u->path, n, at, snapcow_strerror(r));
			else if (verify && (r = snapcow_dev_pread(d, b, n, at)) < 0)
				log_err(u->ctx, "%s: cannot read back offset %" PRIu64 ": %s", u->path,
					at, snapcow_strerror(r));
			else if (verify && memcmp(a, b, n)) {
				log_err(u->ctx, "%s: store read back at offset %" PRIu64 " differs from "
					"the saved bytes", u->path, at);
				r = SNAPCOW_ERR_VERIFY;
			}
		}
	}
	return r;
}

static int check_identity(const struct snapcow_undo *u, const struct snapcow_identity *cur,
			  unsigned int flags)
{
	struct snapcow_identity want = u->id;
	char a[200], b[200];

	want.size = cur->size; /* a write may have grown a file: put back below */
	if (snapcow_identity_match(&want, cur))
		return 0;
	if (flags & SNAPCOW_UNDO_ANY_IDENTITY) {
		log_warn(u->ctx, "%s: made for another store; applying anyway", u->path);
		return 0;
	}
	log_err(u->ctx, "%s: made for another store: %s; this store: %s", u->path,
		describe(&u->id, a, sizeof(a)), describe(cur, b, sizeof(b)));
	return SNAPCOW_ERR_UNDO_IDENTITY;
}

/* Write every range back, give a regular file its size back, sync, drop
 * the cached pages and compare. */
static int restore_ranges(const struct snapcow_undo *u, const struct snapcow_dev *d,
			  const struct snapcow_identity *cur, unsigned char *a, unsigned char *b)
{
	struct snapcow_dev *resized = NULL;
	int fd = snapcow_dev_fd(d);
	int r = copy_ranges(u, d, 0, a, b);

	if (!r && cur->kind == SNAPCOW_IDENT_FILE && cur->size != u->id.size && fd >= 0) {
		if (ftruncate(fd, (off_t)u->id.size) < 0) {
			r = -errno;
			log_err(u->ctx, "%s: cannot set the store's size back to %" PRIu64 " bytes: %s",
				u->path, u->id.size, snapcow_strerror(r));
		} else if ((r = snapcow_dev_new_fd(fd, snapcow_dev_name(d), &resized)) == 0) {
			d = resized; /* read back within the size given back */
		}
	}
	if (!r && (r = snapcow_dev_sync(d)) < 0)
		log_err(u->ctx, "%s: fsync of the store failed: %s", u->path, snapcow_strerror(r));
	if (!r)
		r = copy_ranges(u, d, 1, a, b);
	snapcow_dev_free(resized);
	return r;
}

SNAPCOW_EXPORT int snapcow_undo_apply_dev(const struct snapcow_undo *u,
					  const struct snapcow_dev *d,
					  const struct snapcow_identity *cur, unsigned int flags)
{
	unsigned char *a, *b;
	uint64_t most = 0;
	int r, differs = 0;

	if (!u || !d || !cur)
		return -EINVAL;
	r = check_identity(u, cur, flags);
	if (r < 0)
		return r;
	if (cur->kind == SNAPCOW_IDENT_BLOCK && cur->size != u->id.size)
		log_warn(u->ctx, "%s: the store is %" PRIu64 " bytes, it was %" PRIu64 " when the "
			 "undo file was written", u->path, cur->size, u->id.size);
	for (uint32_t i = 0; i < u->nranges; i++)
		most = u->ranges[i].r.length > most ? u->ranges[i].r.length : most;
	a = piece_buf(most);
	b = piece_buf(most);
	r = a && b ? 0 : -ENOMEM;
	for (uint32_t i = 0; i < u->nranges && !r; i++)
		r = compare_range(u, d, &u->ranges[i], a, b, &differs);
	if (!r && !differs && (cur->kind == SNAPCOW_IDENT_BLOCK || cur->size == u->id.size))
		r = 1; /* already holds the saved bytes */
	else if (!r && !(flags & SNAPCOW_UNDO_DRY_RUN))
		r = restore_ranges(u, d, cur, a, b);
	free(a);
	free(b);
	return r;
}

SNAPCOW_EXPORT int snapcow_undo_apply(const struct snapcow_undo *u, int fd,
				      const struct snapcow_identity *curp, unsigned int flags)
{
	struct snapcow_identity cur;
	struct snapcow_dev *d;
	int r;

	if (!u || fd < 0)
		return -EINVAL;
	if (curp) {
		cur = *curp;
	} else if ((r = snapcow_identity_get(fd, &cur)) < 0) {
		log_err(u->ctx, "%s: cannot identify the store: %s", u->path, snapcow_strerror(r));
		return r;
	}
	r = snapcow_dev_new_fd(fd, "store", &d);
	if (r < 0) {
		log_err(u->ctx, "%s: cannot identify the store: %s", u->path, snapcow_strerror(r));
		return r;
	}
	r = snapcow_undo_apply_dev(u, d, &cur, flags);
	snapcow_dev_free(d);
	return r;
}
