/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "snapcow-internal.h"

/*
 * Old chunks in use: a directory of 2 MiB bitmap blocks, each covering 2^24
 * consecutive old chunks (64 GiB of origin at 4 KiB chunks), allocated when
 * first touched (calloc: the kernel hands out zero pages as they are
 * written).  A 1 TiB origin at 4 KiB chunks needs 16 blocks.  Past the block
 * budget (64 MiB) or past the directory (old chunk >= 2^40), chunks go to a
 * spill list that is sorted at the end, so the check stays correct on
 * pathological tables while real ones stay small and cache friendly.
 */
#define BLOCK_SHIFT 24
#define BLOCK_BYTES ((size_t)1 << (BLOCK_SHIFT - 3))
#define DIR_ENTRIES ((uint64_t)1 << 16)
#define BLOCK_BUDGET ((uint64_t)64 << 20)

struct spill {
	uint64_t old_chunk;
	uint64_t offset;
};

struct oldset {
	unsigned char **dir;
	uint64_t bytes;
	struct spill *spill;
	uint64_t nspill, capspill;
};

/* A zeroed block, 2 MiB aligned and backed by a huge page where the kernel
 * allows it: scattered tables hit it at random, and one TLB entry instead
 * of 512 is most of the difference. */
static unsigned char *alloc_block(void)
{
	void *p = NULL;

	if (posix_memalign(&p, BLOCK_BYTES, BLOCK_BYTES))
		return NULL;
	madvise(p, BLOCK_BYTES, MADV_HUGEPAGE);
	memset(p, 0, BLOCK_BYTES);
	return p;
}

/* The bitmap byte for @chunk, allocating its block; NULL: spill it. */
static unsigned char *oldset_byte(struct oldset *o, uint64_t chunk, int *err)
{
	uint64_t blk = chunk >> BLOCK_SHIFT;

	if (blk >= DIR_ENTRIES)
		return NULL;
	if (!o->dir) {
		o->dir = calloc(DIR_ENTRIES, sizeof(*o->dir));
		if (!o->dir) {
			*err = -ENOMEM;
			return NULL;
		}
	}
	if (!o->dir[blk]) {
		if (o->bytes + BLOCK_BYTES > BLOCK_BUDGET)
			return NULL;
		o->dir[blk] = alloc_block();
		if (!o->dir[blk]) {
			*err = -ENOMEM;
			return NULL;
		}
		o->bytes += BLOCK_BYTES;
	}
	return o->dir[blk] + ((chunk & (((uint64_t)1 << BLOCK_SHIFT) - 1)) >> 3);
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

	if (o->dir)
		for (i = 0; i < DIR_ENTRIES; i++)
			free(o->dir[i]);
	free(o->dir);
	free(o->spill);
}

static int cmp_spill(const void *a, const void *b)
{
	const struct spill *x = a, *y = b;

	if (x->old_chunk != y->old_chunk)
		return x->old_chunk < y->old_chunk ? -1 : 1;
	return x->offset < y->offset ? -1 : (x->offset > y->offset);
}

struct checker {
	struct snapcow_store *s;
	snapcow_problem_fn fn;
	void *data;
	struct snapcow_check_result *res;
	/* the walk */
	struct oldset olds;
	unsigned char *newbits;  /* store chunks in use; header and areas pre-set */
	unsigned char **oldbyte; /* per record of the current area */
	uint64_t chunks;
	uint64_t origin_chunks;
	uint64_t next_free;
};

static void report(struct checker *c, int severity, const char *code, int64_t area,
		   int64_t index, uint64_t offset, const char *fmt, ...)
	SNAPCOW_PRINTF(7, 8);

static void report(struct checker *c, int severity, const char *code, int64_t area,
		   int64_t index, uint64_t offset, const char *fmt, ...)
{
	struct snapcow_problem p;
	char msg[512];
	va_list ap;

	if (severity <= LOG_ERR)
		c->res->errors++;
	else
		c->res->warnings++;
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

static void check_header(struct checker *c)
{
	const struct snapcow_header *h = &c->s->hdr;
	const char *why;

	if (h->valid == 0)
		report(c, LOG_WARNING, "invalid", -1, -1, 4,
		       "store is marked invalid (valid flag 0 at byte 4): the kernel will not "
		       "load its table");
	else if (h->valid != 1)
		report(c, LOG_WARNING, "valid-flag", -1, -1, 4,
		       "valid flag is %" PRIu32 " (expected 0 or 1; the kernel treats it as valid)",
		       h->valid);
	why = snapcow_chunk_lvm_problem(h->chunk_sectors);
	if (why)
		report(c, LOG_WARNING, "chunk-size-lvm", -1, -1, 12,
		       "chunk size %" PRIu32 " sectors: %s (the kernel accepts it)",
		       h->chunk_sectors, why);
	if (c->s->size % c->s->chunk_bytes)
		report(c, LOG_WARNING, "partial-chunk", -1, -1,
		       snapcow_store_chunks(c->s) * c->s->chunk_bytes,
		       "store size %" PRIu64 " is not a multiple of the chunk size; the last %" PRIu64
		       " bytes are unused", c->s->size, c->s->size % c->s->chunk_bytes);
}

/* Records after the terminator: the kernel ignores them, but they show a
 * torn or overwritten area. */
static int check_tail(struct checker *c, uint64_t area, uint32_t term)
{
	struct snapcow_store *s = c->s;
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

static void report_new_chunk(struct checker *c, int64_t area, int64_t idx, uint64_t off,
			     uint64_t nc)
{
	if (nc >= SNAPCOW_NEW_CHUNK_LIMIT)
		report(c, LOG_ERR, "new-chunk-too-large", area, idx, off,
		       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): new chunk "
		       "%" PRIu64 " is 2^56 or more (corrupt: the kernel keeps a run count there)",
		       area, idx, off, nc);
	else if (nc >= c->chunks)
		report(c, LOG_ERR, "new-chunk-past-end", area, idx, off,
		       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): new chunk "
		       "%" PRIu64 " is past the end of the store (%" PRIu64 " chunks)",
		       area, idx, off, nc, c->chunks);
	else if (snapcow_chunk_is_metadata(c->s->per_area, nc))
		report(c, LOG_ERR, "new-chunk-metadata", area, idx, off,
		       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): new chunk "
		       "%" PRIu64 " is the %s", area, idx, off, nc,
		       nc == 0 ? "header" : "location of a metadata area");
	else
		report(c, LOG_ERR, "new-chunk-twice", area, idx, off,
		       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): new chunk "
		       "%" PRIu64 " is already used by an earlier record", area, idx, off, nc);
}

/*
 * One area: first find (and prefetch) every record's old-chunk bitmap byte,
 * then test and set.  The bitmaps are hit at random for a scattered table;
 * touching them in two passes lets the memory accesses overlap.
 */
static int check_area(void *data, uint64_t area, const struct snapcow_disk_exception *rec,
		      uint32_t n)
{
	struct checker *c = data;
	const uint64_t base = snapcow_area_chunk(c->s->per_area, area) * c->s->chunk_bytes;
	uint64_t next_free = c->next_free;
	uint32_t i;
	int err = 0;

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
	for (i = 0; i < n; i++) {
		uint64_t oc = le64toh(rec[i].old_chunk);
		uint64_t nc = le64toh(rec[i].new_chunk);
		uint64_t off = base + (uint64_t)i * SNAPCOW_RECORD_SIZE;
		unsigned char bit, *p;

		next_free = nc >= next_free ? nc + 1 : next_free;
		if (nc < c->chunks && !(c->newbits[nc >> 3] & (1U << (nc & 7))))
			c->newbits[nc >> 3] |= (unsigned char)(1U << (nc & 7));
		else
			report_new_chunk(c, (int64_t)area, i, off, nc);

		p = c->oldbyte[i];
		if (!p) {
			if (c->origin_chunks && oc >= c->origin_chunks) {
				report(c, LOG_ERR, "old-chunk-past-origin", (int64_t)area, i, off,
				       "area %" PRIu64 " record %" PRIu32 " (byte offset %" PRIu64
				       "): old chunk %" PRIu64 " is past the end of the origin (%"
				       PRIu64 " chunks)", area, i, off, oc, c->origin_chunks);
				continue;
			}
			err = oldset_spill(&c->olds, oc, off);
			if (err)
				return err;
			continue;
		}
		bit = (unsigned char)(1U << (oc & 7));
		if (*p & bit)
			report(c, LOG_ERR, "old-chunk-twice", (int64_t)area, i, off,
			       "area %" PRIu64 " record %" PRIu32 " (byte offset %" PRIu64 "): old "
			       "chunk %" PRIu64 " is already mapped by an earlier record", area, i,
			       off, oc);
		*p |= bit;
	}
	c->next_free = next_free;
	c->res->stats.exceptions += n;
	return 0;
}

SNAPCOW_EXPORT int snapcow_store_check(struct snapcow_store *s,
				       const struct snapcow_check_options *opt,
				       snapcow_problem_fn fn, void *data,
				       struct snapcow_check_result *res)
{
	struct snapcow_check_options defaults = { 0 };
	struct snapcow_check_result out;
	struct checker c = { .s = s, .fn = fn, .data = data, .res = &out };
	uint64_t i, last_area, areas_in_store;
	uint32_t last_n;
	int r;

	if (!s || !res || !s->chunk_bytes)
		return -EINVAL;
	if (!opt)
		opt = &defaults;
	memset(&out, 0, sizeof(out));
	c.chunks = snapcow_store_chunks(s);
	c.next_free = 2;
	if (opt->origin_bytes)
		c.origin_chunks = (opt->origin_bytes + s->chunk_bytes - 1) / s->chunk_bytes;
	check_header(&c);

	r = -ENOMEM;
	c.newbits = calloc(1, c.chunks / 8 + 1);
	c.oldbyte = calloc(s->per_area, sizeof(*c.oldbyte));
	if (!c.newbits || !c.oldbyte)
		goto out;
	/* The header and every area chunk count as used: a record that points
	 * at one takes the slow path, which says which it is. */
	c.newbits[0] |= 1;
	areas_in_store = (c.chunks + s->per_area) / ((uint64_t)s->per_area + 1);
	for (i = 0; i < areas_in_store; i++) {
		uint64_t ac = snapcow_area_chunk(s->per_area, i);
		if (ac < c.chunks)
			c.newbits[ac >> 3] |= (unsigned char)(1U << (ac & 7));
	}

	r = snapcow_walk_areas(s, check_area, &c, &last_area, &last_n);
	if (r == SNAPCOW_ERR_TABLE) {
		uint64_t area = last_area + 1;
		uint64_t chunk = snapcow_area_chunk(s->per_area, area);
		report(&c, LOG_ERR, "no-terminator", (int64_t)area, -1, chunk * s->chunk_bytes,
		       "area %" PRIu64 " is full and area %" PRIu64 " (chunk %" PRIu64 ", byte offset %"
		       PRIu64 ") is past the end of the store: the table has no terminator and the "
		       "kernel cannot load it", area - 1, area, chunk, chunk * s->chunk_bytes);
		out.stats.areas = area;
	} else if (r < 0) {
		goto out;
	} else {
		out.table_complete = 1;
		out.stats.areas = last_area + 1;
		out.stats.last_area_full = last_area > 0 && last_n == 0;
		r = check_tail(&c, last_area, last_n);
		if (r < 0)
			goto out;
	}
	if (c.olds.nspill > 1) {
		struct spill *sp = c.olds.spill;
		qsort(sp, c.olds.nspill, sizeof(*sp), cmp_spill);
		for (i = 1; i < c.olds.nspill; i++)
			if (sp[i].old_chunk == sp[i - 1].old_chunk) {
				uint64_t chunk = sp[i].offset / s->chunk_bytes;
				uint64_t area = (chunk - 1) / ((uint64_t)s->per_area + 1);
				uint64_t idx = (sp[i].offset % s->chunk_bytes) / SNAPCOW_RECORD_SIZE;
				report(&c, LOG_ERR, "old-chunk-twice", (int64_t)area, (int64_t)idx,
				       sp[i].offset, "area %" PRIu64 " record %" PRIu64 " (byte offset %"
				       PRIu64 "): old chunk %" PRIu64 " is already mapped by an earlier "
				       "record", area, idx, sp[i].offset, sp[i].old_chunk);
			}
	}

	out.stats.next_free = snapcow_next_free_finish(s, c.next_free);
	out.stats.total_sectors = s->size / SNAPCOW_SECTOR_SIZE;
	out.stats.allocated_sectors = out.stats.next_free * s->hdr.chunk_sectors;
	out.stats.metadata_sectors = (out.stats.areas + 1) * s->hdr.chunk_sectors;
	out.stats.full = out.stats.total_sectors < (out.stats.next_free + 1) * s->hdr.chunk_sectors;
	out.memory_bytes = c.chunks / 8 + 1 + c.olds.bytes +
			   (c.olds.dir ? DIR_ENTRIES * sizeof(*c.olds.dir) : 0) +
			   c.olds.capspill * sizeof(struct spill);

	if (!opt->skip_data_scan && out.table_complete) {
		r = snapcow_store_scan_uncommitted(s, out.stats.next_free, &out.uncommitted);
		if (r < 0)
			goto out;
		if (out.uncommitted.chunks)
			report(&c, LOG_WARNING, "uncommitted-data", -1, -1,
			       out.uncommitted.first * s->chunk_bytes,
			       "%" PRIu64 " data chunk%s past next_free (chunk %" PRIu64 ") hold%s non-zero "
			       "data, chunks %" PRIu64 "..%" PRIu64 ": writes the kernel never committed "
			       "to the table (or stale data)", out.uncommitted.chunks,
			       out.uncommitted.chunks == 1 ? "" : "s", out.stats.next_free,
			       out.uncommitted.chunks == 1 ? "s" : "", out.uncommitted.first,
			       out.uncommitted.last);
	}
	*res = out;
	r = 0;
out:
	oldset_free(&c.olds);
	free(c.newbits);
	free(c.oldbyte);
	return r;
}
