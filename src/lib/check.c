/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>

#include "snapcow-internal.h"

/*
 * Old chunks in use: a directory of 2 MiB bitmap blocks, each covering 2^24
 * consecutive old chunks (64 GiB of origin at 4 KiB chunks), allocated when
 * first touched (calloc: the kernel hands out zero pages as they are
 * written).  A 1 TiB origin at 4 KiB chunks needs 16 blocks.  Past the block
 * budget (64 MiB) or past the directory (old chunk >= 2^40), chunks go to a
 * spill list that is sorted at the end, so the check stays correct on
 * pathological tables while real ones stay small and cache friendly.
 * A block starts at 4 KiB and doubles as higher chunks of it are touched
 * (a small table zeroes and frees kilobytes, not 2.5 MiB, on every check);
 * the budget counts every block touched at its full size, so which chunks
 * spill does not depend on the order they come in.  When the origin's size
 * is known, the directory and the last block cover only its chunks.
 */
#define BLOCK_SHIFT 24
#define BLOCK_BYTES ((size_t)1 << (BLOCK_SHIFT - 3))
#define BLOCK_FIRST ((size_t)4096)
#define DIR_ENTRIES ((uint64_t)1 << 16)
#define BLOCK_BUDGET ((uint64_t)64 << 20)

struct spill {
	uint64_t old_chunk;
	uint64_t offset;
};

struct oldset {
	unsigned char **dir;
	size_t *len;            /* bytes of each block so far */
	uint64_t ndir;          /* directory entries so far (at most DIR_ENTRIES) */
	uint64_t origin_chunks; /* 0: unknown */
	uint64_t bytes;         /* allocated */
	uint64_t budget;        /* the touched blocks at their full size */
	uint64_t moves;         /* blocks moved by growing: pointers into them are stale */
	struct spill *spill;
	uint64_t nspill, capspill;
};

/* A zeroed full block, 2 MiB aligned and backed by a huge page where the
 * kernel allows it: scattered tables hit it at random, and one TLB entry
 * instead of 512 is most of the difference. */
static unsigned char *alloc_block(void)
{
	void *p = NULL;

	if (posix_memalign(&p, BLOCK_BYTES, BLOCK_BYTES))
		return NULL;
	madvise(p, BLOCK_BYTES, MADV_HUGEPAGE);
	memset(p, 0, BLOCK_BYTES);
	return p;
}

/* Block @blk's full size: BLOCK_BYTES, or what a known origin needs. */
static size_t block_full(const struct oldset *o, uint64_t blk)
{
	uint64_t first = blk << BLOCK_SHIFT;

	if (o->origin_chunks && o->origin_chunks - first < ((uint64_t)1 << BLOCK_SHIFT))
		return (size_t)((o->origin_chunks - first + 7) / 8);
	return BLOCK_BYTES;
}

/* Grow block @blk to hold byte @at (zeroed).  Returns: 0 or -ENOMEM. */
static int block_grow(struct oldset *o, uint64_t blk, size_t at)
{
	size_t full = block_full(o, blk), old = o->len[blk], len = old ? old : BLOCK_FIRST;
	unsigned char *p;

	while (len <= at)
		len *= 2;
	len = len > full ? full : len;
	if (len == BLOCK_BYTES) {
		p = alloc_block();
		if (p && old)
			memcpy(p, o->dir[blk], old);
		if (p)
			free(o->dir[blk]);
	} else {
		p = realloc(o->dir[blk], len);
		if (p)
			memset(p + old, 0, len - old);
	}
	if (!p)
		return -ENOMEM;
	o->moves += old != 0;
	o->dir[blk] = p;
	o->len[blk] = len;
	o->bytes += len - old;
	return 0;
}

/* Make room in the directory for block @blk.  Returns: 0, -1 when @blk
 * is past the directory's limit (spill), or -1 and *@err -ENOMEM. */
static int dir_grow(struct oldset *o, uint64_t blk, int *err)
{
	uint64_t limit = DIR_ENTRIES, n;
	unsigned char **d;
	size_t *l;

	if (o->origin_chunks && (o->origin_chunks - 1) >> BLOCK_SHIFT < DIR_ENTRIES)
		limit = ((o->origin_chunks - 1) >> BLOCK_SHIFT) + 1;
	if (blk >= limit)
		return -1;
	n = blk + 1 > 2 * o->ndir ? blk + 1 : 2 * o->ndir;
	n = n > limit ? limit : n;
	d = realloc(o->dir, n * sizeof(*d));
	if (d)
		o->dir = d;
	l = d ? realloc(o->len, n * sizeof(*l)) : NULL;
	if (!l) {
		*err = -ENOMEM;
		return -1;
	}
	o->len = l;
	memset(d + o->ndir, 0, (n - o->ndir) * sizeof(*d));
	memset(l + o->ndir, 0, (n - o->ndir) * sizeof(*l));
	o->ndir = n;
	return 0;
}

/* The bitmap byte for @chunk, allocating or growing its block; NULL: spill
 * it.  Callers pass chunks inside a known origin only. */
static unsigned char *oldset_byte(struct oldset *o, uint64_t chunk, int *err)
{
	uint64_t blk = chunk >> BLOCK_SHIFT;
	size_t at = (size_t)((chunk & (((uint64_t)1 << BLOCK_SHIFT) - 1)) >> 3);

	if (blk >= o->ndir && dir_grow(o, blk, err) < 0)
		return NULL;
	if (!o->len[blk]) {
		if (o->budget + block_full(o, blk) > BLOCK_BUDGET)
			return NULL;
		o->budget += block_full(o, blk);
	}
	if (at >= o->len[blk] && block_grow(o, blk, at) < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	return o->dir[blk] + at;
}

static int oldset_spill(struct oldset *o, uint64_t chunk, uint64_t offset)
{
	if (o->nspill == o->capspill) {
		uint64_t nc = o->capspill ? o->capspill * 2 : 4096;
		void *p = realloc(o->spill, nc * sizeof(*o->spill));
		if (!p)
			return -ENOMEM;
		o->spill = p;
		o->capspill = nc;
	}
	o->spill[o->nspill].old_chunk = chunk;
	o->spill[o->nspill].offset = offset;
	o->nspill++;
	return 0;
}

static void oldset_free(struct oldset *o)
{
	uint64_t i;

	if (o->len)
		for (i = 0; i < o->ndir; i++)
			if (o->len[i])
				free(o->dir[i]);
	free(o->dir);
	free(o->len);
	free(o->spill);
}

static int cmp_spill(const void *a, const void *b)
{
	const struct spill *x = a, *y = b;

	if (x->old_chunk != y->old_chunk)
		return x->old_chunk < y->old_chunk ? -1 : 1;
	return x->offset < y->offset ? -1 : (x->offset > y->offset);
}

struct snapcow_table_check {
	struct snapcow_ctx *ctx;
	struct snapcow_geometry geo;
	snapcow_problem_fn fn;
	void *data;
	uint64_t errors, warnings, exceptions;
	struct oldset olds;
	unsigned char *newbits;  /* store chunks in use; header and areas pre-set */
	unsigned char **oldbyte; /* per record of the current area */
	uint64_t origin_chunks;
	uint64_t next_free;      /* largest new_chunk + 1 */
	uint64_t past_n, past_max; /* records past the end of the store (below 2^56) */
	uint32_t area_huge;      /* records of the last area with new_chunk >= 2^56 */
	uint64_t last_area;
	uint32_t last_n;
	int any_area;
};

static void report(struct snapcow_table_check *c, int severity, const char *code, int64_t area,
		   int64_t index, uint64_t offset, const char *fmt, ...)
	SNAPCOW_PRINTF(7, 8);

static void report(struct snapcow_table_check *c, int severity, const char *code, int64_t area,
		   int64_t index, uint64_t offset, const char *fmt, ...)
{
	struct snapcow_problem p;
	char msg[512];
	va_list ap;

	if (severity <= LOG_ERR)
		c->errors++;
	else
		c->warnings++;
	if (!c->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p.severity = severity;
	p.code = code;
	p.area = area;
	p.index = index;
	p.offset = offset;
	p.message = msg;
	c->fn(c->data, &p);
}

static void report_new_chunk(struct snapcow_table_check *c, int64_t area, int64_t idx,
			     uint64_t off, uint64_t nc)
{
	enum snapcow_record_rule rule = snapcow_record_check(&c->geo, nc);
	char why[160];

	if (rule == SNAPCOW_RECORD_OK)
		rule = SNAPCOW_RECORD_TWICE; /* the slow path: its bit was set */
	report(c, LOG_ERR, snapcow_record_rule_code(rule), area, idx, off,
	       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): %s", area, idx, off,
	       snapcow_record_describe(&c->geo, rule, nc, why, sizeof(why)));
}

static void report_old_twice(struct snapcow_table_check *c, uint64_t area, uint64_t idx,
			     uint64_t off, uint64_t oc)
{
	report(c, LOG_ERR, "old-chunk-twice", (int64_t)area, (int64_t)idx, off,
	       "area %" PRIu64 " record %" PRIu64 " (byte offset %" PRIu64 "): old chunk %" PRIu64
	       " is already mapped by an earlier record", area, idx, off, oc);
}

SNAPCOW_EXPORT int snapcow_table_check_new(struct snapcow_ctx *ctx,
					   const struct snapcow_geometry *g,
					   const struct snapcow_check_options *opt,
					   snapcow_problem_fn fn, void *data,
					   struct snapcow_table_check **out)
{
	struct snapcow_table_check *c;
	uint64_t i, areas_in_store;

	if (!g || !out || !g->chunk_bytes)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ctx = snapcow_ctx_ref(ctx);
	c->geo = *g;
	c->fn = fn;
	c->data = data;
	c->next_free = 2;
	if (opt && opt->origin_bytes)
		c->origin_chunks = (opt->origin_bytes + g->chunk_bytes - 1) / g->chunk_bytes;
	c->olds.origin_chunks = c->origin_chunks;
	c->newbits = calloc(1, g->chunks / 8 + 1);
	c->oldbyte = calloc(g->per_area, sizeof(*c->oldbyte));
	if (!c->newbits || !c->oldbyte) {
		snapcow_table_check_free(c);
		return -ENOMEM;
	}
	/* The header and every area chunk count as used: a record that points
	 * at one takes the slow path, which says which it is. */
	c->newbits[0] |= 1;
	areas_in_store = (g->chunks + g->per_area) / ((uint64_t)g->per_area + 1);
	for (i = 0; i < areas_in_store; i++) {
		uint64_t ac = snapcow_area_chunk(g->per_area, i);
		if (ac < g->chunks)
			c->newbits[ac >> 3] |= (unsigned char)(1U << (ac & 7));
	}
	*out = c;
	return 0;
}

SNAPCOW_EXPORT int snapcow_table_check_area(struct snapcow_table_check *c, uint64_t area,
					    const void *records, uint32_t n)
{
	return snapcow_table_check_part(c, area, 0, records, n);
}

/* Every record's old-chunk bitmap byte into c->oldbyte (prefetched); again
 * when a block grew, moving the bytes found before.  Returns: 0 or -ENOMEM. */
static int find_old_bytes(struct snapcow_table_check *c,
			  const struct snapcow_disk_exception *rec, uint32_t n)
{
	uint64_t moves = c->olds.moves;
	uint32_t i;
	int err = 0, again;

	do {
		for (i = 0; i < n; i++) {
			uint64_t oc = le64toh(rec[i].old_chunk);
			unsigned char *p = NULL;

			if (!c->origin_chunks || oc < c->origin_chunks) {
				p = oldset_byte(&c->olds, oc, &err);
				if (err)
					return err;
				if (p)
					__builtin_prefetch(p, 1);
			}
			c->oldbyte[i] = p;
		}
		again = c->olds.moves != moves;
		moves = c->olds.moves;
	} while (again);
	return 0;
}

/*
 * Records @first.. of an area: first find (and prefetch) every record's
 * old-chunk bitmap byte, then test and set.  The bitmaps are hit at random
 * for a scattered table; touching them in two passes lets the memory
 * accesses overlap.
 */
int snapcow_table_check_part(struct snapcow_table_check *c, uint64_t area, uint32_t first,
			     const void *records, uint32_t n)
{
	const struct snapcow_disk_exception *rec = records;
	const uint64_t base = snapcow_area_chunk(c->geo.per_area, area) * c->geo.chunk_bytes +
			      (uint64_t)first * SNAPCOW_RECORD_SIZE;
	uint64_t next_free = c->next_free;
	uint32_t i;
	int err = 0;

	if (!c || first > c->geo.per_area || n > c->geo.per_area - first)
		return -EINVAL;
	if (!c->any_area || c->last_area != area)
		c->area_huge = 0;
	err = find_old_bytes(c, rec, n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		uint64_t oc = le64toh(rec[i].old_chunk);
		uint64_t nc = le64toh(rec[i].new_chunk);
		uint64_t off = base + (uint64_t)i * SNAPCOW_RECORD_SIZE;
		unsigned char bit, *p;

		next_free = nc >= next_free ? nc + 1 : next_free;
		if (nc < c->geo.chunks && !(c->newbits[nc >> 3] & (1U << (nc & 7))))
			c->newbits[nc >> 3] |= (unsigned char)(1U << (nc & 7));
		else
			report_new_chunk(c, (int64_t)area, (int64_t)first + i, off, nc);
		if (nc >= c->geo.chunks && nc < SNAPCOW_NEW_CHUNK_LIMIT) {
			c->past_n++;
			c->past_max = nc > c->past_max ? nc : c->past_max;
		}
		c->area_huge += nc >= SNAPCOW_NEW_CHUNK_LIMIT;

		p = c->oldbyte[i];
		if (!p) {
			if (c->origin_chunks && oc >= c->origin_chunks) {
				report(c, LOG_ERR, "old-chunk-past-origin", (int64_t)area, first + i,
				       off, "area %" PRIu64 " record %" PRIu32 " (byte offset %" PRIu64
				       "): old chunk %" PRIu64 " is past the end of the origin (%"
				       PRIu64 " chunks)", area, first + i, off, oc, c->origin_chunks);
				continue;
			}
			err = oldset_spill(&c->olds, oc, off);
			if (err)
				return err;
			continue;
		}
		bit = (unsigned char)(1U << (oc & 7));
		if (*p & bit)
			report_old_twice(c, area, first + i, off, oc);
		*p |= bit;
	}
	c->next_free = next_free;
	c->exceptions += n;
	c->last_area = area;
	c->last_n = first + n;
	c->any_area = 1;
	return 0;
}

/*
 * A store cut below its table (a COW reduced too far, lvm2 issues #163 and
 * #164): a full area of sane records with no room for the next one (a
 * full area of garbage is not a cut), or records past the end that fill
 * at least half of the chunks between the end and the largest of them
 * (the kernel allocates upwards, so a cut takes the highest chunks; one
 * stray value far past the end is a bad record, not a cut).  One error,
 * naming how much is missing.
 */
static void report_truncated(struct snapcow_table_check *c, int complete)
{
	const struct snapcow_geometry *g = &c->geo;
	uint64_t need = 0, span = c->past_max - g->chunks + 1;
	char have[32], want[32];

	if (c->past_n && c->past_n >= (span + 1) / 2)
		need = c->past_max + 1;
	if (!complete && c->area_huge * 2 < g->per_area) {
		uint64_t term = snapcow_area_chunk(g->per_area, c->any_area ? c->last_area + 1 : 0);
		need = term + 1 > need ? term + 1 : need;
	}
	if (!need)
		return;
	snprintf(have, sizeof(have), "%" PRIu64, g->store_bytes);
	snprintf(want, sizeof(want), "%" PRIu64, need * g->chunk_bytes);
	report(c, LOG_ERR, "store-truncated", -1, -1, g->store_bytes, "the store is %s bytes (%"
	       PRIu64 " chunks) but its table needs at least %s bytes (%" PRIu64 " chunks): it "
	       "was cut short by at least %" PRIu64 " bytes (a COW reduced below its table?)",
	       have, g->chunks, want, need, need * g->chunk_bytes - g->store_bytes);
}

/* Old chunks past the bitmaps' budget: sorted once at the end. */
static void check_spill(struct snapcow_table_check *c)
{
	struct spill *sp = c->olds.spill;
	uint64_t i, cb = c->geo.chunk_bytes;

	if (c->olds.nspill < 2)
		return;
	qsort(sp, c->olds.nspill, sizeof(*sp), cmp_spill);
	for (i = 1; i < c->olds.nspill; i++) {
		if (sp[i].old_chunk != sp[i - 1].old_chunk)
			continue;
		report_old_twice(c, (sp[i].offset / cb - 1) / ((uint64_t)c->geo.per_area + 1),
				 (sp[i].offset % cb) / SNAPCOW_RECORD_SIZE, sp[i].offset,
				 sp[i].old_chunk);
	}
}

SNAPCOW_EXPORT int snapcow_table_check_finish(struct snapcow_table_check *c, int complete,
					      struct snapcow_check_result *res)
{
	struct snapcow_check_result out;

	if (!c || !res)
		return -EINVAL;
	memset(&out, 0, sizeof(out));
	if (!complete) {
		uint64_t area = c->any_area ? c->last_area + 1 : 0;
		uint64_t chunk = snapcow_area_chunk(c->geo.per_area, area);

		report(c, LOG_ERR, "no-terminator", (int64_t)area, -1, chunk * c->geo.chunk_bytes,
		       "area %" PRIu64 " is full and area %" PRIu64 " (chunk %" PRIu64 ", byte offset %"
		       PRIu64 ") is past the end of the store: the table has no terminator and the "
		       "kernel cannot load it", area - 1, area, chunk, chunk * c->geo.chunk_bytes);
	}
	report_truncated(c, complete);
	check_spill(c);
	out.table_complete = complete;
	out.stats.exceptions = c->exceptions;
	out.stats.areas = c->last_area + 1;
	out.stats.last_area_full = complete && c->last_area > 0 && c->last_n == 0;
	out.stats.next_free = c->next_free;
	snapcow_stats_finish(&c->geo, &out.stats);
	out.errors = c->errors;
	out.warnings = c->warnings;
	out.memory_bytes = c->geo.chunks / 8 + 1 + c->olds.bytes +
			   c->olds.ndir * (sizeof(*c->olds.dir) + sizeof(*c->olds.len)) +
			   c->olds.capspill * sizeof(struct spill);
	*res = out;
	return 0;
}

SNAPCOW_EXPORT void snapcow_table_check_free(struct snapcow_table_check *c)
{
	if (!c)
		return;
	oldset_free(&c->olds);
	free(c->newbits);
	free(c->oldbyte);
	snapcow_ctx_unref(c->ctx);
	free(c);
}

/* ---- The whole store ---------------------------------------------------- */

/* The header's warnings, counted with the table's problems. */
static void header_warning(void *data, const struct snapcow_problem *p)
{
	struct snapcow_table_check *c = data;

	report(c, p->severity, p->code, -1, -1, p->offset, "%s", p->message);
}

static int walk_area(void *data, uint64_t area, const struct snapcow_disk_exception *rec,
		     uint32_t n)
{
	return snapcow_table_check_area(data, area, rec, n);
}

/* Records after the terminator: the kernel ignores them, but they show a
 * torn or overwritten area. */
static int check_tail(struct snapcow_table_check *c, struct snapcow_store *s, uint64_t area,
		      uint32_t term)
{
	uint64_t chunk = snapcow_area_chunk(s->per_area, area);
	const struct snapcow_disk_exception *de;
	uint64_t nonzero = 0, first = 0;
	unsigned char *buf;
	uint32_t i;
	int r;

	buf = malloc(s->chunk_bytes);
	if (!buf)
		return -ENOMEM;
	r = snapcow_store_read_chunk(s, chunk, buf);
	if (r < 0) {
		free(buf);
		return r;
	}
	de = (const struct snapcow_disk_exception *)buf;
	for (i = term; i < s->per_area; i++) {
		if (de[i].old_chunk || de[i].new_chunk) {
			if (!nonzero)
				first = i;
			nonzero++;
		}
	}
	free(buf);
	if (nonzero)
		report(c, LOG_WARNING, "records-after-end", (int64_t)area, (int64_t)first,
		       chunk * s->chunk_bytes + first * SNAPCOW_RECORD_SIZE,
		       "area %" PRIu64 ": %" PRIu64 " non-zero records after the end of the table "
		       "(first at index %" PRIu64 "); the kernel ignores them",
		       area, nonzero, first);
	return 0;
}

/* The rest of the header chunk is zero on a store the kernel wrote.  Bytes
 * there usually mean the header's chunk size is larger than the one the
 * table was written with (the kernel then reads area 0 from the wrong place
 * and loads a wrong, often empty, table). */
static int check_header_chunk(struct snapcow_table_check *c, struct snapcow_store *s)
{
	unsigned char *buf = malloc(s->chunk_bytes);
	uint32_t i;
	int r;

	if (!buf)
		return -ENOMEM;
	r = snapcow_store_read_chunk(s, 0, buf);
	for (i = sizeof(struct snapcow_disk_header); !r && i < s->chunk_bytes && !buf[i]; i++)
		;
	free(buf);
	if (r < 0) {
		log_err(s->ctx, "%s: cannot read the header chunk: %s", s->name, snapcow_strerror(r));
		return r;
	}
	if (i < s->chunk_bytes)
		report(c, LOG_WARNING, "header-not-zero", -1, -1, i, "header chunk has non-zero "
		       "bytes after the header (first at byte offset %" PRIu32 "): was the table "
		       "written with a smaller chunk size than the header's %" PRIu32 " sectors?",
		       i, s->hdr.chunk_sectors);
	return 0;
}

static int scan_data(struct snapcow_table_check *c, struct snapcow_store *s,
		     struct snapcow_check_result *res)
{
	struct snapcow_uncommitted *u = &res->uncommitted;
	int r;

	r = snapcow_store_scan_uncommitted(s, res->stats.next_free, NULL, NULL, u);
	if (r < 0)
		return r;
	if (u->chunks)
		report(c, LOG_WARNING, "uncommitted-data", -1, -1, u->first * s->chunk_bytes,
		       "%" PRIu64 " data chunk%s past next_free (chunk %" PRIu64 ") hold%s non-zero "
		       "data, chunks %" PRIu64 "..%" PRIu64 ": writes the kernel never committed "
		       "to the table (or stale data)", u->chunks, u->chunks == 1 ? "" : "s",
		       res->stats.next_free, u->chunks == 1 ? "s" : "", u->first, u->last);
	return 0;
}

SNAPCOW_EXPORT int snapcow_store_check(struct snapcow_store *s,
				       const struct snapcow_check_options *opt,
				       snapcow_problem_fn fn, void *data,
				       struct snapcow_check_result *res)
{
	struct snapcow_check_options defaults = { 0 };
	struct snapcow_table_check *c;
	struct snapcow_check_result out;
	uint64_t last_area;
	uint32_t last_n;
	int r;

	if (!s || !res || !s->chunk_bytes)
		return -EINVAL;
	if (!opt)
		opt = &defaults;
	r = snapcow_table_check_new(s->ctx, &s->geo, opt, fn, data, &c);
	if (r < 0)
		return r;
	snapcow_header_check(&s->hdr, s->size, header_warning, c);
	r = snapcow_walk_areas(s, walk_area, c, &last_area, &last_n, 0);
	if (r < 0 && r != SNAPCOW_ERR_TABLE)
		goto out;
	if (r == 0) {
		r = check_tail(c, s, last_area, last_n);
		if (r < 0)
			goto out;
	}
	snapcow_table_check_finish(c, r == 0, &out);
	r = 0;
	if (!opt->skip_data_scan && out.table_complete)
		r = scan_data(c, s, &out);
	if (!r)
		r = check_header_chunk(c, s);
	if (r < 0)
		goto out;
	out.errors = c->errors;
	out.warnings = c->warnings;
	*res = out;
	r = 0;
out:
	snapcow_table_check_free(c);
	return r;
}
