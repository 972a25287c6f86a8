/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapcow-internal.h"

/*
 * Paged bitset for old chunks: 4 KiB pages (32768 chunks each) found
 * through an open-addressing hash of page numbers.  Once the page budget is
 * spent, further chunks whose page does not exist go to a spill list that
 * is sorted at the end, so the check stays correct on pathological tables
 * while typical ones (old chunks clustered on a real origin) stay small.
 */
#define PAGE_BITS 15
#define PAGE_BYTES ((1U << PAGE_BITS) / 8)
#define PAGE_BUDGET (64ULL << 20)

struct page_slot {
	uint64_t key; /* page number + 1; 0 = empty */
	unsigned char *bits;
};

struct spill {
	uint64_t old_chunk;
	uint64_t offset;
};

struct oldset {
	struct page_slot *slots;
	uint64_t nslots, used;
	uint64_t bytes, peak;
	struct spill *spill;
	uint64_t nspill, capspill;
};

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static int oldset_grow(struct oldset *o)
{
	uint64_t n = o->nslots ? o->nslots * 2 : 1024, i;
	struct page_slot *ns = calloc(n, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (i = 0; i < o->nslots; i++) {
		uint64_t h;
		if (!o->slots[i].key)
			continue;
		h = hash64(o->slots[i].key) & (n - 1);
		while (ns[h].key)
			h = (h + 1) & (n - 1);
		ns[h] = o->slots[i];
	}
	free(o->slots);
	o->slots = ns;
	o->nslots = n;
	return 0;
}

/* Returns 1 if @chunk was already set, 0 if newly set, <0 on error. */
static int oldset_test_and_set(struct oldset *o, uint64_t chunk, uint64_t offset)
{
	uint64_t key = (chunk >> PAGE_BITS) + 1, h;
	unsigned bit = (unsigned)(chunk & ((1U << PAGE_BITS) - 1));
	struct page_slot *slot;
	int r;

	if ((o->used + 1) * 2 > o->nslots) {
		r = oldset_grow(o);
		if (r < 0)
			return r;
	}
	h = hash64(key) & (o->nslots - 1);
	while (o->slots[h].key && o->slots[h].key != key)
		h = (h + 1) & (o->nslots - 1);
	slot = &o->slots[h];
	if (!slot->key) {
		if (o->bytes + PAGE_BYTES > PAGE_BUDGET) {
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
		slot->bits = calloc(1, PAGE_BYTES);
		if (!slot->bits)
			return -ENOMEM;
		slot->key = key;
		o->used++;
		o->bytes += PAGE_BYTES;
	}
	if (slot->bits[bit / 8] & (1U << (bit % 8)))
		return 1;
	slot->bits[bit / 8] |= (unsigned char)(1U << (bit % 8));
	return 0;
}

static void oldset_free(struct oldset *o)
{
	uint64_t i;

	for (i = 0; i < o->nslots; i++)
		free(o->slots[i].bits);
	free(o->slots);
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

SNAPCOW_EXPORT int snapcow_store_check(struct snapcow_store *s,
				       const struct snapcow_check_options *opt,
				       snapcow_problem_fn fn, void *data,
				       struct snapcow_check_result *res)
{
	struct snapcow_check_options defaults = { 0 };
	struct snapcow_check_result out;
	struct checker c = { s, fn, data, &out };
	struct oldset olds = { 0 };
	struct snapcow_exception e;
	struct snapcow_iter *it = NULL;
	unsigned char *newbits = NULL;
	uint64_t chunks, origin_chunks = 0, next_free = 2, stride, i;
	int r;

	if (!s || !res || !s->chunk_bytes)
		return -EINVAL;
	if (!opt)
		opt = &defaults;
	memset(&out, 0, sizeof(out));
	chunks = snapcow_store_chunks(s);
	if (opt->origin_bytes)
		origin_chunks = (opt->origin_bytes + s->chunk_bytes - 1) / s->chunk_bytes;
	check_header(&c);

	newbits = calloc(1, chunks / 8 + 1);
	if (!newbits)
		return -ENOMEM;
	r = snapcow_iter_new(s, &it);
	if (r < 0)
		goto out;
	while ((r = snapcow_iter_next(it, &e)) == 0) {
		int64_t area = (int64_t)snapcow_iter_area(it);
		int64_t idx = snapcow_iter_index(it);
		uint64_t off = snapcow_iter_offset(it);

		out.stats.exceptions++;
		if (e.new_chunk >= next_free)
			next_free = e.new_chunk + 1;
		if (e.new_chunk >= SNAPCOW_NEW_CHUNK_LIMIT) {
			report(&c, LOG_ERR, "new-chunk-too-large", area, idx, off,
			       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): new chunk "
			       "%" PRIu64 " is 2^56 or more (corrupt: the kernel keeps a run count there)",
			       area, idx, off, e.new_chunk);
		} else if (e.new_chunk >= chunks) {
			report(&c, LOG_ERR, "new-chunk-past-end", area, idx, off,
			       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): new chunk "
			       "%" PRIu64 " is past the end of the store (%" PRIu64 " chunks)",
			       area, idx, off, e.new_chunk, chunks);
		} else if (snapcow_chunk_is_metadata(s->per_area, e.new_chunk)) {
			report(&c, LOG_ERR, "new-chunk-metadata", area, idx, off,
			       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): new chunk "
			       "%" PRIu64 " is the %s", area, idx, off, e.new_chunk,
			       e.new_chunk == 0 ? "header" : "location of a metadata area");
		} else if (newbits[e.new_chunk / 8] & (1U << (e.new_chunk % 8))) {
			report(&c, LOG_ERR, "new-chunk-twice", area, idx, off,
			       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): new chunk "
			       "%" PRIu64 " is already used by an earlier record", area, idx, off,
			       e.new_chunk);
		} else {
			newbits[e.new_chunk / 8] |= (unsigned char)(1U << (e.new_chunk % 8));
		}
		if (origin_chunks && e.old_chunk >= origin_chunks) {
			report(&c, LOG_ERR, "old-chunk-past-origin", area, idx, off,
			       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): old chunk "
			       "%" PRIu64 " is past the end of the origin (%" PRIu64 " chunks)",
			       area, idx, off, e.old_chunk, origin_chunks);
			continue;
		}
		r = oldset_test_and_set(&olds, e.old_chunk, off);
		if (r < 0)
			goto out;
		if (r == 1)
			report(&c, LOG_ERR, "old-chunk-twice", area, idx, off,
			       "area %" PRId64 " record %" PRId64 " (byte offset %" PRIu64 "): old chunk "
			       "%" PRIu64 " is already mapped by an earlier record", area, idx, off,
			       e.old_chunk);
		r = 0;
	}
	if (r == SNAPCOW_ERR_TABLE) {
		uint64_t area = snapcow_iter_area(it) + 1;
		uint64_t chunk = snapcow_area_chunk(s->per_area, area);
		report(&c, LOG_ERR, "no-terminator", (int64_t)area, -1, chunk * s->chunk_bytes,
		       "area %" PRIu64 " is full and area %" PRIu64 " (chunk %" PRIu64 ", byte offset %"
		       PRIu64 ") is past the end of the store: the table has no terminator and the "
		       "kernel cannot load it", area - 1, area, chunk, chunk * s->chunk_bytes);
		r = 0;
		out.stats.areas = area;
	} else if (r < 0) {
		goto out;
	} else {
		out.table_complete = 1;
		out.stats.areas = snapcow_iter_area(it) + 1;
		out.stats.last_area_full = snapcow_iter_area(it) > 0 && snapcow_iter_index(it) == 0;
		r = check_tail(&c, snapcow_iter_area(it), snapcow_iter_index(it));
		if (r < 0)
			goto out;
	}
	if (olds.nspill > 1) {
		qsort(olds.spill, olds.nspill, sizeof(*olds.spill), cmp_spill);
		for (i = 1; i < olds.nspill; i++)
			if (olds.spill[i].old_chunk == olds.spill[i - 1].old_chunk)
				report(&c, LOG_ERR, "old-chunk-twice", -1, -1, olds.spill[i].offset,
				       "byte offset %" PRIu64 ": old chunk %" PRIu64 " is already mapped "
				       "by an earlier record", olds.spill[i].offset,
				       olds.spill[i].old_chunk);
	}

	stride = (uint64_t)s->per_area + 1;
	if (next_free % stride == 1)
		next_free++;
	out.stats.next_free = next_free;
	out.stats.total_sectors = s->size / SNAPCOW_SECTOR_SIZE;
	out.stats.allocated_sectors = next_free * s->hdr.chunk_sectors;
	out.stats.metadata_sectors = (out.stats.areas + 1) * s->hdr.chunk_sectors;
	out.stats.full = out.stats.total_sectors < (next_free + 1) * s->hdr.chunk_sectors;
	out.memory_bytes = chunks / 8 + 1 + olds.bytes + olds.nslots * sizeof(struct page_slot) +
			   olds.capspill * sizeof(struct spill);

	if (!opt->skip_data_scan && out.table_complete) {
		r = snapcow_store_scan_uncommitted(s, next_free, &out.uncommitted);
		if (r < 0)
			goto out;
		if (out.uncommitted.chunks)
			report(&c, LOG_WARNING, "uncommitted-data", -1, -1,
			       out.uncommitted.first * s->chunk_bytes,
			       "%" PRIu64 " data chunks past next_free (chunk %" PRIu64 ") hold non-zero "
			       "data, chunks %" PRIu64 "..%" PRIu64 ": writes the kernel never committed "
			       "to the table (or stale data)", out.uncommitted.chunks, next_free,
			       out.uncommitted.first, out.uncommitted.last);
	}
	*res = out;
	r = 0;
out:
	snapcow_iter_free(it);
	oldset_free(&olds);
	free(newbits);
	return r;
}
