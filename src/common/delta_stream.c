/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The delta stream's records, writer and reader (see delta_stream.h and
 * snapcow-delta(5)).  The on-disk structs below are the one definition of
 * the format: the writer fills them, the reader checks them.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "delta_stream.h"
#include "shared.h"

struct disk_header {
	char magic[8];
	uint32_t version, header_bytes, kind, flags;
	uint64_t size;
	uint32_t chunk_bytes, target_kind;
	uint64_t table_exceptions, table_xxh, created, data_bytes, undoes;
	uint64_t target_dev, target_ino, target_rdev;
	char program[24], source[128], origin_uuid[128], snapshot_uuid[128], target_uuid[128];
	unsigned char reserved[376];
	uint64_t xxh; /* of bytes 0..1015 */
};
_Static_assert(sizeof(struct disk_header) == DSTREAM_HEADER_BYTES, "header size");

struct disk_record {
	uint32_t tag, flags;
	uint64_t offset, length, stored, data_xxh;
	uint64_t xxh; /* of bytes 0..39, seeded with the record's sequence number */
};
_Static_assert(sizeof(struct disk_record) == DSTREAM_RECORD_BYTES, "record size");

struct disk_progress {
	uint64_t next_run, fwd_pos, chain, written, skipped, last_off, last_len, last_xxh;
};
_Static_assert(sizeof(struct disk_progress) == DSTREAM_PROGRESS_BYTES, "progress size");

struct disk_end {
	uint64_t runs, data_bytes, records, stream_xxh;
};
_Static_assert(sizeof(struct disk_end) == DSTREAM_END_BYTES, "end size");

#define HEADER_SUMMED offsetof(struct disk_header, xxh)
#define RECORD_SUMMED offsetof(struct disk_record, xxh)

static const char *const error_names[] = {
	[DSTREAM_E_IO] = "read-error",
	[DSTREAM_E_MAGIC] = "bad-magic",
	[DSTREAM_E_VERSION] = "bad-version",
	[DSTREAM_E_HEADER] = "bad-header",
	[DSTREAM_E_RECORD] = "bad-record",
	[DSTREAM_E_DATA] = "bad-run-checksum",
	[DSTREAM_E_COMPRESSED] = "bad-compressed-data",
	[DSTREAM_E_ORDER] = "bad-run-order",
	[DSTREAM_E_TRUNCATED] = "truncated",
	[DSTREAM_E_NO_END] = "no-end-record",
	[DSTREAM_E_END] = "bad-end-record",
	[DSTREAM_E_TRAILING] = "trailing-data",
	[DSTREAM_E_NOMEM] = "out-of-memory",
};

const char *dstream_error_name(int err)
{
	if (err < 0)
		err = -err;
	if (err <= 0 || (size_t)err >= sizeof(error_names) / sizeof(error_names[0]))
		return "unknown-error";
	return error_names[err];
}

const char *dstream_kind_name(uint32_t kind)
{
	static const char *const names[] = { "unknown", "changes", "snapshot", "full", "undo" };

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

uint64_t dstream_xxh(const void *data, size_t len)
{
	return XXH3_64bits(data, len);
}

uint64_t dstream_chain(uint64_t chain, uint64_t off, uint64_t len, uint64_t xxh)
{
	const uint64_t v[4] = { htole64(chain), htole64(off), htole64(len), htole64(xxh) };

	return XXH3_64bits(v, sizeof(v));
}

int dstream_table_xxh(const struct snapcow_map *m, uint64_t *out)
{
	XXH3_state_t *h = XXH3_createState();
	struct snapcow_exception e;
	uint64_t from = 0, pair[2];

	if (!h)
		return -ENOMEM;
	XXH3_64bits_reset(h);
	while (snapcow_map_next(m, from, &e) == 0) {
		pair[0] = htole64(e.old_chunk);
		pair[1] = htole64(e.new_chunk);
		XXH3_64bits_update(h, pair, sizeof(pair));
		if (e.old_chunk == UINT64_MAX)
			break;
		from = e.old_chunk + 1;
	}
	*out = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	return 0;
}

/* ---- The header, both ways ---------------------------------------------- */

static void copy_str(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t n = strnlen(src, slen);

	if (n >= dlen)
		n = dlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A NUL-padded field (not NUL-terminated when full; the header is zeroed). */
static void pad_str(char *dst, size_t dlen, const char *src)
{
	memcpy(dst, src, strnlen(src, dlen));
}

static void header_encode(const struct dstream_header *h, struct disk_header *d)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->magic, DSTREAM_MAGIC, 8);
	d->version = htole32(DSTREAM_VERSION);
	d->header_bytes = htole32(DSTREAM_HEADER_BYTES);
	d->kind = htole32(h->kind);
	d->flags = htole32(h->flags);
	d->size = htole64(h->size);
	d->chunk_bytes = htole32(h->chunk_bytes);
	d->target_kind = htole32(h->target.kind);
	d->table_exceptions = htole64(h->table_exceptions);
	d->table_xxh = htole64(h->table_xxh);
	d->created = htole64(h->created);
	d->data_bytes = htole64(h->data_bytes);
	d->undoes = htole64(h->undoes);
	d->target_dev = htole64(h->target.dev);
	d->target_ino = htole64(h->target.ino);
	d->target_rdev = htole64(h->target.rdev);
	pad_str(d->program, sizeof(d->program), h->program);
	pad_str(d->source, sizeof(d->source), h->source);
	pad_str(d->origin_uuid, sizeof(d->origin_uuid), h->origin_uuid);
	pad_str(d->snapshot_uuid, sizeof(d->snapshot_uuid), h->snapshot_uuid);
	pad_str(d->target_uuid, sizeof(d->target_uuid), h->target.dm_uuid);
	d->xxh = htole64(XXH3_64bits(d, HEADER_SUMMED));
}

static void header_decode(const struct disk_header *d, struct dstream_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = le32toh(d->version);
	h->kind = le32toh(d->kind);
	h->flags = le32toh(d->flags);
	h->size = le64toh(d->size);
	h->chunk_bytes = le32toh(d->chunk_bytes);
	h->target.kind = le32toh(d->target_kind);
	h->table_exceptions = le64toh(d->table_exceptions);
	h->table_xxh = le64toh(d->table_xxh);
	h->created = le64toh(d->created);
	h->data_bytes = le64toh(d->data_bytes);
	h->undoes = le64toh(d->undoes);
	h->target.dev = le64toh(d->target_dev);
	h->target.ino = le64toh(d->target_ino);
	h->target.rdev = le64toh(d->target_rdev);
	h->target.size = h->size;
	copy_str(h->program, sizeof(h->program), d->program, sizeof(d->program));
	copy_str(h->source, sizeof(h->source), d->source, sizeof(d->source));
	copy_str(h->origin_uuid, sizeof(h->origin_uuid), d->origin_uuid, sizeof(d->origin_uuid));
	copy_str(h->snapshot_uuid, sizeof(h->snapshot_uuid), d->snapshot_uuid,
		 sizeof(d->snapshot_uuid));
	copy_str(h->target.dm_uuid, sizeof(h->target.dm_uuid), d->target_uuid,
		 sizeof(d->target_uuid));
}

/* The stream's id: its header without the creation time and program. */
static uint64_t header_id(const struct disk_header *d)
{
	struct disk_header c = *d;

	c.created = 0;
	memset(c.program, 0, sizeof(c.program));
	return XXH3_64bits(&c, HEADER_SUMMED);
}

static void progress_encode(const struct dstream_progress *p, struct disk_progress *d)
{
	d->next_run = htole64(p->next_run);
	d->fwd_pos = htole64(p->fwd_pos);
	d->chain = htole64(p->chain);
	d->written = htole64(p->written);
	d->skipped = htole64(p->skipped);
	d->last_off = htole64(p->last_off);
	d->last_len = htole64(p->last_len);
	d->last_xxh = htole64(p->last_xxh);
}

static void progress_decode(const struct disk_progress *d, struct dstream_progress *p)
{
	p->next_run = le64toh(d->next_run);
	p->fwd_pos = le64toh(d->fwd_pos);
	p->chain = le64toh(d->chain);
	p->written = le64toh(d->written);
	p->skipped = le64toh(d->skipped);
	p->last_off = le64toh(d->last_off);
	p->last_len = le64toh(d->last_len);
	p->last_xxh = le64toh(d->last_xxh);
}

/* ---- State ---------------------------------------------------------------- */

int dstream_state_copy(struct dstream_state *dst, const struct dstream_state *src)
{
	XXH3_state_t *h = dst->hash ? dst->hash : XXH3_createState();

	if (!h)
		return -ENOMEM;
	*dst = *src;
	dst->hash = h;
	XXH3_copyState(h, src->hash);
	return 0;
}

void dstream_state_free(struct dstream_state *st)
{
	if (st->hash)
		XXH3_freeState(st->hash);
	st->hash = NULL;
}

static uint64_t state_runs(const struct dstream_state *st, uint64_t *bytes)
{
	if (bytes)
		*bytes = st->data_bytes;
	return st->runs;
}

/* ---- Writing ----------------------------------------------------------------- */

struct dstream_writer {
	int fd;
	int level;
	ZSTD_CCtx *cctx;
	void *zbuf;
	size_t zcap;
	struct dstream_state st;
};

static int writer_alloc(int fd, int zstd_level, struct dstream_writer **out)
{
	struct dstream_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->level = zstd_level;
	w->st.hash = XXH3_createState();
	if (zstd_level > 0) {
		w->cctx = ZSTD_createCCtx();
		w->zcap = ZSTD_compressBound(DSTREAM_RUN_MAX);
		w->zbuf = malloc(w->zcap);
	}
	if (!w->st.hash || (zstd_level > 0 && (!w->cctx || !w->zbuf))) {
		dstream_writer_free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

static int put(struct dstream_writer *w, const void *buf, size_t len)
{
	int r = write_full(w->fd, buf, len);

	if (r < 0)
		return r;
	XXH3_64bits_update(w->st.hash, buf, len);
	w->st.pos += len;
	return 0;
}

static int put_record(struct dstream_writer *w, uint32_t tag, uint32_t flags, uint64_t off,
		      uint64_t len, const void *stored, size_t n, uint64_t data_xxh)
{
	struct disk_record d = {
		.tag = htole32(tag), .flags = htole32(flags), .offset = htole64(off),
		.length = htole64(len), .stored = htole64(n), .data_xxh = htole64(data_xxh),
	};
	int r;

	d.xxh = htole64(XXH3_64bits_withSeed(&d, RECORD_SUMMED, w->st.records));
	r = put(w, &d, sizeof(d));
	if (!r && n)
		r = put(w, stored, n);
	if (!r)
		w->st.records++;
	return r;
}

int dstream_writer_new(int fd, struct dstream_header *h, int zstd_level,
		       struct dstream_writer **out)
{
	struct dstream_writer *w;
	struct disk_header d;
	int r = writer_alloc(fd, zstd_level, &w);

	if (r < 0)
		return r;
	XXH3_64bits_reset(w->st.hash);
	header_encode(h, &d);
	h->id = header_id(&d);
	r = put(w, &d, sizeof(d));
	if (r < 0) {
		dstream_writer_free(w);
		return r;
	}
	*out = w;
	return 0;
}

int dstream_writer_continue(int fd, const struct dstream_state *st, int zstd_level,
			    struct dstream_writer **out)
{
	struct dstream_writer *w;
	int r = writer_alloc(fd, zstd_level, &w);

	if (r < 0)
		return r;
	XXH3_copyState(w->st.hash, st->hash);
	w->st.pos = st->pos;
	w->st.records = st->records;
	w->st.runs = st->runs;
	w->st.data_bytes = st->data_bytes;
	w->st.prev_end = st->prev_end;
	*out = w;
	return 0;
}

int dstream_writer_run(struct dstream_writer *w, uint64_t offset, const void *data, size_t len,
		       uint64_t *xxh)
{
	uint64_t sum;
	const void *stored = data;
	size_t n = len;
	uint32_t flags = 0;
	int r;

	if (!len || len > DSTREAM_RUN_MAX || offset < w->st.prev_end || offset + len < offset)
		return -EINVAL;
	sum = XXH3_64bits(data, len);
	if (w->level > 0) {
		size_t z = ZSTD_compressCCtx(w->cctx, w->zbuf, w->zcap, data, len, w->level);

		if (!ZSTD_isError(z) && z < len) {
			stored = w->zbuf;
			n = z;
			flags = DSTREAM_RUN_ZSTD;
		}
	}
	r = put_record(w, DSTREAM_TAG_RUN, flags, offset, len, stored, n, sum);
	if (r < 0)
		return r;
	w->st.prev_end = offset + len;
	w->st.runs++;
	w->st.data_bytes += len;
	if (xxh)
		*xxh = sum;
	return 0;
}

int dstream_writer_zero(struct dstream_writer *w, uint64_t offset, uint64_t len)
{
	int r;

	if (!len || len > DSTREAM_RUN_MAX || offset < w->st.prev_end || offset + len < offset)
		return -EINVAL;
	r = put_record(w, DSTREAM_TAG_ZERO, 0, offset, len, NULL, 0, 0);
	if (r < 0)
		return r;
	w->st.prev_end = offset + len;
	w->st.runs++;
	return 0;
}

int dstream_writer_progress(struct dstream_writer *w, uint32_t tag,
			    const struct dstream_progress *p)
{
	struct disk_progress d;

	progress_encode(p, &d);
	return put_record(w, tag, 0, 0, 0, &d, sizeof(d), XXH3_64bits(&d, sizeof(d)));
}

int dstream_writer_end(struct dstream_writer *w)
{
	struct disk_end d = {
		.runs = htole64(w->st.runs), .data_bytes = htole64(w->st.data_bytes),
		.records = htole64(w->st.records),
		.stream_xxh = htole64(XXH3_64bits_digest(w->st.hash)),
	};

	return put_record(w, DSTREAM_TAG_END, 0, 0, 0, &d, sizeof(d), XXH3_64bits(&d, sizeof(d)));
}

uint64_t dstream_writer_pos(const struct dstream_writer *w)
{
	return w->st.pos;
}

uint64_t dstream_writer_runs(const struct dstream_writer *w, uint64_t *bytes)
{
	return state_runs(&w->st, bytes);
}

void dstream_writer_free(struct dstream_writer *w)
{
	if (!w)
		return;
	dstream_state_free(&w->st);
	ZSTD_freeCCtx(w->cctx);
	free(w->zbuf);
	free(w);
}

/* ---- Reading ----------------------------------------------------------------- */

struct dstream_reader {
	int fd;
	char *name;
	struct dstream_header h;
	struct dstream_state st;
	ZSTD_DCtx *dctx;
	unsigned char *buf; /* stored bytes of the record being read */
	unsigned char *out; /* a compressed run's data */
	size_t buf_cap, out_cap; /* grown to the largest record read so far */
	int done;
	char err[768];
};

static int fail(struct dstream_reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Say what is wrong at the current stream offset; returns -@code. */
static int fail(struct dstream_reader *r, int code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "%s: byte offset %" PRIu64 ": %s (%s)", r->name,
		 r->st.pos, msg, dstream_error_name(code));
	return -code;
}

/* Read exactly @len bytes.  Returns: 0; 1 at the end of the stream before
 * the first byte; -DSTREAM_E_TRUNCATED after a part (*@got: how much). */
static int take(struct dstream_reader *r, void *buf, size_t len, size_t *got)
{
	ssize_t n = read_upto(r->fd, buf, len);

	*got = n > 0 ? (size_t)n : 0;
	if (n < 0)
		return fail(r, DSTREAM_E_IO, "cannot read: %s", strerror((int)-n));
	if (n == 0 && len)
		return 1;
	return (size_t)n < len ? -DSTREAM_E_TRUNCATED : 0;
}

static int read_header(struct dstream_reader *r)
{
	struct disk_header d;
	size_t got;
	int t = take(r, &d, sizeof(d), &got);

	if (t < 0 && t != -DSTREAM_E_TRUNCATED)
		return t;
	if (got < 8 || memcmp(d.magic, DSTREAM_MAGIC, 8))
		return fail(r, DSTREAM_E_MAGIC, "not a delta stream (no \"%s\" magic at byte 0)",
			    DSTREAM_MAGIC);
	if (got >= 12 && le32toh(d.version) != DSTREAM_VERSION)
		return fail(r, DSTREAM_E_VERSION, "stream version %" PRIu32 ", this snap_apply "
			    "reads version %u", le32toh(d.version), DSTREAM_VERSION);
	if (t)
		return fail(r, DSTREAM_E_TRUNCATED, "the stream ends inside its %u-byte header "
			    "(%zu bytes)", DSTREAM_HEADER_BYTES, got);
	if (le64toh(d.xxh) != XXH3_64bits(&d, HEADER_SUMMED))
		return fail(r, DSTREAM_E_HEADER, "header checksum mismatch (bytes 0..%zu damaged)",
			    HEADER_SUMMED - 1);
	if (le32toh(d.header_bytes) != DSTREAM_HEADER_BYTES || !le64toh(d.size) ||
	    le32toh(d.kind) < DSTREAM_CHANGES || le32toh(d.kind) > DSTREAM_UNDO)
		return fail(r, DSTREAM_E_HEADER, "header size %" PRIu32 ", kind %" PRIu32
			    ", volume size %" PRIu64 ": not a header this version writes",
			    le32toh(d.header_bytes), le32toh(d.kind), le64toh(d.size));
	header_decode(&d, &r->h);
	r->h.id = header_id(&d);
	XXH3_64bits_update(r->st.hash, &d, sizeof(d));
	r->st.pos = sizeof(d);
	return 0;
}

/* Room for @n bytes in *@p (*@cap of them now): the buffers grow to the
 * largest record read, so that a stream of small runs needs little memory
 * (and a reader costs no 16 MiB of buffers before its first record).
 * Returns: 0 or -DSTREAM_E_NOMEM. */
static int grow(unsigned char **p, size_t *cap, size_t n)
{
	size_t c = *cap ? *cap : 4096;
	unsigned char *q;

	if (n <= *cap)
		return 0;
	while (c < n)
		c *= 2;
	q = realloc(*p, c);
	if (!q)
		return -DSTREAM_E_NOMEM;
	*p = q;
	*cap = c;
	return 0;
}

int dstream_reader_new(int fd, const char *name, struct dstream_reader **out)
{
	struct dstream_reader *r = calloc(1, sizeof(*r));
	int e;

	*out = NULL;
	if (!r)
		return -DSTREAM_E_NOMEM;
	r->fd = fd;
	r->name = strdup(name);
	r->st.hash = XXH3_createState();
	if (!r->name || !r->st.hash || grow(&r->buf, &r->buf_cap, 1) < 0) {
		dstream_reader_free(r);
		return -DSTREAM_E_NOMEM;
	}
	XXH3_64bits_reset(r->st.hash);
	*out = r;
	e = read_header(r);
	if (e < 0)
		r->done = -1;
	return e;
}

const struct dstream_header *dstream_reader_header(const struct dstream_reader *r)
{
	return &r->h;
}

const char *dstream_reader_error(const struct dstream_reader *r)
{
	return r->err;
}

/* A RUN or ZERO record's fields: sizes, and the order of the runs. */
static int check_run_record(struct dstream_reader *r, const struct dstream_record *rec,
			    uint64_t stored)
{
	int zero = rec->tag == DSTREAM_TAG_ZERO;
	int bad = !rec->length || rec->length > DSTREAM_RUN_MAX;

	if (zero)
		bad |= rec->flags || stored || rec->xxh;
	else if (rec->flags & ~DSTREAM_RUN_ZSTD)
		bad = 1;
	else
		bad |= rec->flags ? !stored || stored > ZSTD_COMPRESSBOUND(DSTREAM_RUN_MAX) :
				    stored != rec->length;
	if (bad)
		return fail(r, DSTREAM_E_RECORD, "%srun %" PRIu64 ": flags 0x%" PRIx32 ", length %"
			    PRIu64 ", %" PRIu64 " bytes stored: not a valid %srun (at most %u bytes)",
			    zero ? "zero " : "", rec->run, rec->flags, rec->length, stored,
			    zero ? "zero " : "", DSTREAM_RUN_MAX);
	if (rec->offset < r->st.prev_end || rec->offset > r->h.size ||
	    rec->length > r->h.size - rec->offset ||
	    (r->h.kind == DSTREAM_FULL && rec->offset != r->st.prev_end))
		return fail(r, DSTREAM_E_ORDER, "run %" PRIu64 " (volume bytes %" PRIu64 "..%" PRIu64
			    "): %s", rec->run, rec->offset, rec->offset + rec->length - 1,
			    rec->offset < r->st.prev_end ? "starts before the end of the run before it" :
			    rec->offset > r->st.prev_end && rec->offset <= r->h.size &&
			    rec->length <= r->h.size - rec->offset ?
			    "leaves a gap after the run before it (a full stream covers the volume)" :
			    "past the end of the volume");
	return 0;
}

/* A record header's fields, before its stored bytes are read. */
static int check_record(struct dstream_reader *r, const struct disk_record *d,
			struct dstream_record *rec, uint64_t *stored)
{
	uint64_t seq = r->st.records;

	if (le64toh(d->xxh) != XXH3_64bits_withSeed(d, RECORD_SUMMED, seq))
		return fail(r, DSTREAM_E_RECORD, "record %" PRIu64 " (after run %" PRIu64 "): "
			    "record header checksum mismatch (damaged, or a record is missing or "
			    "repeated)", seq, r->st.runs);
	memset(rec, 0, sizeof(*rec));
	rec->tag = le32toh(d->tag);
	rec->flags = le32toh(d->flags);
	rec->offset = le64toh(d->offset);
	rec->length = le64toh(d->length);
	rec->xxh = le64toh(d->data_xxh);
	rec->index = seq;
	rec->run = r->st.runs;
	rec->pos = r->st.pos;
	*stored = le64toh(d->stored);
	switch (rec->tag) {
	case DSTREAM_TAG_RUN:
	case DSTREAM_TAG_ZERO:
		return check_run_record(r, rec, *stored);
	case DSTREAM_TAG_SAVE:
	case DSTREAM_TAG_DONE:
		if (r->h.kind == DSTREAM_UNDO && *stored == DSTREAM_PROGRESS_BYTES && !rec->flags)
			return 0;
		break;
	case DSTREAM_TAG_END:
		if (*stored == DSTREAM_END_BYTES && !rec->flags)
			return 0;
		break;
	}
	return fail(r, DSTREAM_E_RECORD, "record %" PRIu64 ": tag 0x%08" PRIx32 " with %" PRIu64
		    " bytes: not a record a %s stream has", seq, rec->tag, *stored,
		    dstream_kind_name(r->h.kind));
}

/* A run's data, checked; *@data points at it. */
static int check_run(struct dstream_reader *r, struct dstream_record *rec, size_t stored,
		     const void **data)
{
	const void *p = r->buf;

	if (rec->flags & DSTREAM_RUN_ZSTD) {
		size_t n;

		if (!r->dctx && !(r->dctx = ZSTD_createDCtx()))
			return fail(r, DSTREAM_E_NOMEM, "out of memory");
		if (grow(&r->out, &r->out_cap, (size_t)rec->length) < 0)
			return fail(r, DSTREAM_E_NOMEM, "out of memory");
		/* room for the run's length only: a frame that holds more is
		 * of the wrong length too */
		n = ZSTD_decompressDCtx(r->dctx, r->out, (size_t)rec->length, r->buf, stored);
		if (ZSTD_isError(n) && ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
			n = (size_t)rec->length + 1;
		if (ZSTD_isError(n) || n != rec->length)
			return fail(r, DSTREAM_E_COMPRESSED, "run %" PRIu64 " (volume bytes %" PRIu64
				    "..%" PRIu64 "): compressed data %s", rec->run, rec->offset,
				    rec->offset + rec->length - 1,
				    ZSTD_isError(n) ? ZSTD_getErrorName(n) : "of the wrong length");
		p = r->out;
	}
	if (XXH3_64bits(p, rec->length) != rec->xxh)
		return fail(r, DSTREAM_E_DATA, "run %" PRIu64 " (volume bytes %" PRIu64 "..%" PRIu64
			    "): data checksum mismatch", rec->run, rec->offset,
			    rec->offset + rec->length - 1);
	*data = p;
	return 0;
}

/* The END record's body against what was read; then nothing may follow. */
static int check_end(struct dstream_reader *r, struct dstream_record *rec, uint64_t stream_xxh)
{
	const struct disk_end *d = (const struct disk_end *)r->buf;
	unsigned char extra;
	size_t got;
	int t;

	rec->end.runs = le64toh(d->runs);
	rec->end.data_bytes = le64toh(d->data_bytes);
	rec->end.records = le64toh(d->records);
	rec->end.stream_xxh = le64toh(d->stream_xxh);
	if (r->h.kind == DSTREAM_FULL && r->st.prev_end != r->h.size)
		return fail(r, DSTREAM_E_ORDER, "end record after volume byte %" PRIu64 " of %"
			    PRIu64 ": a full stream covers the volume", r->st.prev_end, r->h.size);
	if (rec->end.runs != r->st.runs || rec->end.data_bytes != r->st.data_bytes ||
	    rec->end.records != rec->index || rec->end.stream_xxh != stream_xxh)
		return fail(r, DSTREAM_E_END, "end record: %" PRIu64 " runs, %" PRIu64 " bytes, %"
			    PRIu64 " records, stream checksum %016" PRIx64 "; the stream had %"
			    PRIu64 ", %" PRIu64 ", %" PRIu64 ", %016" PRIx64, rec->end.runs,
			    rec->end.data_bytes, rec->end.records, rec->end.stream_xxh, r->st.runs,
			    r->st.data_bytes, rec->index, stream_xxh);
	t = take(r, &extra, 1, &got);
	if (t < 0)
		return t;
	if (!t)
		return fail(r, DSTREAM_E_TRAILING, "bytes follow the end record");
	return 0;
}

static int body_checked(struct dstream_reader *r, struct dstream_record *rec, size_t stored)
{
	if (XXH3_64bits(r->buf, stored) != rec->xxh)
		return fail(r, DSTREAM_E_RECORD, "record %" PRIu64 ": body checksum mismatch",
			    rec->index);
	return 0;
}

/* Read the record's stored bytes into r->buf. */
static int take_stored(struct dstream_reader *r, const struct dstream_record *rec, size_t stored)
{
	size_t got;
	int t;

	if (grow(&r->buf, &r->buf_cap, stored) < 0)
		return fail(r, DSTREAM_E_NOMEM, "out of memory");
	t = take(r, r->buf, stored, &got);
	if (t == 0 || t == -DSTREAM_E_IO)
		return t;
	if (rec->tag == DSTREAM_TAG_RUN)
		return fail(r, DSTREAM_E_TRUNCATED, "the stream ends inside run %" PRIu64
			    " (volume bytes %" PRIu64 "..%" PRIu64 "): %zu of %zu bytes", rec->run,
			    rec->offset, rec->offset + rec->length - 1, got, stored);
	return fail(r, DSTREAM_E_TRUNCATED, "the stream ends inside record %" PRIu64, rec->index);
}

static int next_record(struct dstream_reader *r, struct dstream_record *rec, const void **data)
{
	struct disk_record d;
	uint64_t stored = 0, before;
	size_t got;
	int t = take(r, &d, sizeof(d), &got);

	if (t == 1)
		return fail(r, DSTREAM_E_NO_END, "the stream ends after %" PRIu64 " runs (%" PRIu64
			    " bytes) without its end record", r->st.runs, r->st.data_bytes);
	if (t == -DSTREAM_E_TRUNCATED)
		return fail(r, DSTREAM_E_TRUNCATED, "the stream ends inside a record header "
			    "(%zu of %u bytes) after run %" PRIu64, got, DSTREAM_RECORD_BYTES,
			    r->st.runs);
	if (t < 0)
		return t;
	t = check_record(r, &d, rec, &stored);
	if (t == 0)
		t = take_stored(r, rec, (size_t)stored);
	if (t < 0)
		return t;
	before = XXH3_64bits_digest(r->st.hash);
	if (rec->tag == DSTREAM_TAG_RUN)
		t = check_run(r, rec, (size_t)stored, data);
	else if (rec->tag != DSTREAM_TAG_ZERO)
		t = body_checked(r, rec, (size_t)stored);
	if (t < 0)
		return t;
	XXH3_64bits_update(r->st.hash, &d, sizeof(d));
	XXH3_64bits_update(r->st.hash, r->buf, (size_t)stored);
	r->st.pos += sizeof(d) + stored;
	rec->end_pos = r->st.pos;
	if (rec->tag == DSTREAM_TAG_END) {
		t = check_end(r, rec, before);
		return t < 0 ? t : 1;
	}
	r->st.records++;
	if (rec->tag == DSTREAM_TAG_RUN || rec->tag == DSTREAM_TAG_ZERO) {
		r->st.runs++;
		r->st.data_bytes += rec->tag == DSTREAM_TAG_RUN ? rec->length : 0;
		r->st.prev_end = rec->offset + rec->length;
	} else {
		progress_decode((const struct disk_progress *)r->buf, &rec->progress);
	}
	return 0;
}

int dstream_reader_next(struct dstream_reader *r, struct dstream_record *rec, const void **data)
{
	int e;

	*data = NULL;
	if (r->done)
		return r->done > 0 ? 1 : -DSTREAM_E_IO;
	e = next_record(r, rec, data);
	if (e)
		r->done = e > 0 ? 1 : -1;
	return e;
}

void dstream_reader_state(const struct dstream_reader *r, struct dstream_state *st)
{
	*st = r->st;
}

uint64_t dstream_reader_runs(const struct dstream_reader *r, uint64_t *bytes)
{
	return state_runs(&r->st, bytes);
}

void dstream_reader_free(struct dstream_reader *r)
{
	if (!r)
		return;
	dstream_state_free(&r->st);
	ZSTD_freeDCtx(r->dctx);
	free(r->buf);
	free(r->out);
	free(r->name);
	free(r);
}
