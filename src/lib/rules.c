/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's (and LVM's) rules for an exception store, once: chunk sizes,
 * where the areas are, what a header and a record may hold, how the kernel
 * computes next_free and its status line.  Everything else in the library,
 * and the tools' dump reader, asks here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapcow-internal.h"

/* Kernel limit on the chunk size: INT_MAX >> SECTOR_SHIFT sectors. */
#define KERNEL_MAX_CHUNK_SECTORS (0x7fffffffU >> 9)
#define LVM_MIN_CHUNK_SECTORS 8U
#define LVM_MAX_CHUNK_SECTORS 1024U

SNAPCOW_EXPORT const char *snapcow_chunk_kernel_problem(uint64_t sectors)
{
	if (sectors == 0)
		return "chunk size is zero";
	if (sectors & (sectors - 1))
		return "chunk size is not a power of two";
	if (sectors > KERNEL_MAX_CHUNK_SECTORS)
		return "chunk size is larger than the kernel's limit (INT_MAX >> 9 sectors)";
	return NULL;
}

SNAPCOW_EXPORT const char *snapcow_chunk_lvm_problem(uint64_t sectors)
{
	if (sectors == 0 || (sectors & (sectors - 1)))
		return "chunk size is not a power of two";
	if (sectors < LVM_MIN_CHUNK_SECTORS)
		return "chunk size is below LVM's minimum of 8 sectors (4 KiB)";
	if (sectors > LVM_MAX_CHUNK_SECTORS)
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

SNAPCOW_EXPORT uint64_t snapcow_next_free_finish(uint32_t per_area, uint64_t max_plus_one)
{
	if (max_plus_one < 2)
		max_plus_one = 2;
	if (max_plus_one % ((uint64_t)per_area + 1) == 1)
		max_plus_one++;
	return max_plus_one;
}

SNAPCOW_EXPORT int snapcow_geometry_init(struct snapcow_geometry *g, uint64_t chunk_sectors,
					 uint64_t store_bytes)
{
	struct snapcow_geometry out;

	if (!g)
		return -EINVAL;
	if (snapcow_chunk_kernel_problem(chunk_sectors))
		return SNAPCOW_ERR_CHUNK_SIZE;
	out.chunk_sectors = (uint32_t)chunk_sectors;
	out.chunk_bytes = out.chunk_sectors * SNAPCOW_SECTOR_SIZE;
	out.per_area = out.chunk_bytes / SNAPCOW_RECORD_SIZE;
	out.store_bytes = store_bytes;
	out.chunks = store_bytes / out.chunk_bytes;
	if (out.chunks < 2)
		return SNAPCOW_ERR_TOO_SMALL;
	*g = out;
	return 0;
}

SNAPCOW_EXPORT int snapcow_geometry_area_fits(const struct snapcow_geometry *g, uint64_t area)
{
	/* Past 2^64 / (per_area + 1) the chunk number would wrap. */
	if (area > (UINT64_MAX - 1) / ((uint64_t)g->per_area + 1))
		return 0;
	return snapcow_area_chunk(g->per_area, area) < g->chunks;
}

SNAPCOW_EXPORT enum snapcow_record_rule snapcow_record_check(const struct snapcow_geometry *g,
							     uint64_t new_chunk)
{
	if (new_chunk == 0)
		return SNAPCOW_RECORD_END;
	if (new_chunk >= SNAPCOW_NEW_CHUNK_LIMIT)
		return SNAPCOW_RECORD_TOO_LARGE;
	if (new_chunk >= g->chunks)
		return SNAPCOW_RECORD_PAST_END;
	if (snapcow_chunk_is_metadata(g->per_area, new_chunk))
		return SNAPCOW_RECORD_METADATA;
	return SNAPCOW_RECORD_OK;
}

SNAPCOW_EXPORT const char *snapcow_record_rule_code(enum snapcow_record_rule rule)
{
	switch (rule) {
	case SNAPCOW_RECORD_OK:
		return "ok";
	case SNAPCOW_RECORD_END:
		return "new-chunk-zero";
	case SNAPCOW_RECORD_TOO_LARGE:
		return "new-chunk-too-large";
	case SNAPCOW_RECORD_PAST_END:
		return "new-chunk-past-end";
	case SNAPCOW_RECORD_METADATA:
		return "new-chunk-metadata";
	case SNAPCOW_RECORD_TWICE:
		return "new-chunk-twice";
	}
	return "unknown";
}

SNAPCOW_EXPORT const char *snapcow_record_describe(const struct snapcow_geometry *g,
						   enum snapcow_record_rule rule,
						   uint64_t new_chunk, char *buf, size_t len)
{
	switch (rule) {
	case SNAPCOW_RECORD_OK:
		snprintf(buf, len, "new chunk %" PRIu64 " is fine", new_chunk);
		break;
	case SNAPCOW_RECORD_END:
		snprintf(buf, len, "new chunk is 0 (that would end the table here)");
		break;
	case SNAPCOW_RECORD_TOO_LARGE:
		snprintf(buf, len, "new chunk %" PRIu64 " is 2^56 or more (corrupt: the kernel "
			 "keeps a run count there)", new_chunk);
		break;
	case SNAPCOW_RECORD_PAST_END:
		snprintf(buf, len, "new chunk %" PRIu64 " is past the end of the store (%" PRIu64
			 " chunks)", new_chunk, g->chunks);
		break;
	case SNAPCOW_RECORD_METADATA:
		snprintf(buf, len, "new chunk %" PRIu64 " is the location of a metadata area",
			 new_chunk);
		break;
	case SNAPCOW_RECORD_TWICE:
		snprintf(buf, len, "new chunk %" PRIu64 " is already used by an earlier record",
			 new_chunk);
		break;
	}
	return buf;
}

static void header_problem(snapcow_problem_fn fn, void *data, int severity, const char *code,
			   uint64_t offset, const char *fmt, ...) SNAPCOW_PRINTF(6, 7);

static void header_problem(snapcow_problem_fn fn, void *data, int severity, const char *code,
			   uint64_t offset, const char *fmt, ...)
{
	struct snapcow_problem p = { .severity = severity, .code = code, .area = -1,
				     .index = -1, .offset = offset };
	char msg[256];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p.message = msg;
	fn(data, &p);
}

SNAPCOW_EXPORT int snapcow_header_check(const struct snapcow_header *h, uint64_t store_bytes,
					snapcow_problem_fn fn, void *data)
{
	uint64_t chunk_bytes;
	const char *why;

	if (!h)
		return -EINVAL;
	if (store_bytes < sizeof(struct snapcow_disk_header)) {
		header_problem(fn, data, LOG_ERR, "too-small", 0, "store is %" PRIu64 " bytes, "
			       "too small for a header", store_bytes);
		return SNAPCOW_ERR_TOO_SMALL;
	}
	if (h->magic == 0) {
		header_problem(fn, data, LOG_ERR, "magic-zero", 0, "offset 0: magic is 0: the "
			       "kernel would treat this as a new store and overwrite its table");
		return SNAPCOW_ERR_NEW;
	}
	if (h->magic != SNAPCOW_MAGIC) {
		header_problem(fn, data, LOG_ERR, "bad-magic", 0, "offset 0: bad magic 0x%08" PRIx32
			       " (expected 0x%08x \"SnAp\")", h->magic, SNAPCOW_MAGIC);
		return SNAPCOW_ERR_MAGIC;
	}
	if (h->version != SNAPCOW_DISK_VERSION) {
		header_problem(fn, data, LOG_ERR, "bad-version", 8, "offset 8: unsupported version "
			       "%" PRIu32 " (the kernel only loads version 1)", h->version);
		return SNAPCOW_ERR_VERSION;
	}
	why = snapcow_chunk_kernel_problem(h->chunk_sectors);
	if (why) {
		header_problem(fn, data, LOG_ERR, "bad-chunk-size", 12, "offset 12: chunk size "
			       "%" PRIu32 " sectors: %s", h->chunk_sectors, why);
		return SNAPCOW_ERR_CHUNK_SIZE;
	}
	chunk_bytes = (uint64_t)h->chunk_sectors * SNAPCOW_SECTOR_SIZE;
	if (store_bytes < 2 * chunk_bytes) {
		header_problem(fn, data, LOG_ERR, "too-small", 0, "store is %" PRIu64 " bytes, "
			       "smaller than the header chunk and first metadata area (%" PRIu64
			       " bytes)", store_bytes, 2 * chunk_bytes);
		return SNAPCOW_ERR_TOO_SMALL;
	}
	if (h->valid == 0)
		header_problem(fn, data, LOG_WARNING, "invalid", 4, "store is marked invalid "
			       "(valid flag 0 at byte 4): the kernel will not load its table");
	else if (h->valid != 1)
		header_problem(fn, data, LOG_WARNING, "valid-flag", 4, "offset 4: valid flag is "
			       "%" PRIu32 " (expected 0 or 1; the kernel treats any non-zero value "
			       "as valid)", h->valid);
	why = snapcow_chunk_lvm_problem(h->chunk_sectors);
	if (why)
		header_problem(fn, data, LOG_WARNING, "chunk-size-lvm", 12, "chunk size %" PRIu32
			       " sectors: %s (the kernel accepts it)", h->chunk_sectors, why);
	if (store_bytes % chunk_bytes)
		header_problem(fn, data, LOG_WARNING, "partial-chunk", store_bytes / chunk_bytes *
			       chunk_bytes, "store size %" PRIu64 " is not a multiple of the chunk "
			       "size; the last %" PRIu64 " bytes are unused", store_bytes,
			       store_bytes % chunk_bytes);
	return 0;
}

SNAPCOW_EXPORT void snapcow_stats_finish(const struct snapcow_geometry *g, struct snapcow_stats *st)
{
	st->next_free = snapcow_next_free_finish(g->per_area, st->next_free);
	st->total_sectors = g->store_bytes / SNAPCOW_SECTOR_SIZE;
	st->allocated_sectors = st->next_free * g->chunk_sectors;
	st->metadata_sectors = (st->areas + 1) * g->chunk_sectors;
	/* The kernel's test before allocating: (next_free + 1) * chunk > size. */
	st->full = st->total_sectors < (st->next_free + 1) * g->chunk_sectors;
}

SNAPCOW_EXPORT uint64_t snapcow_stats_smallest(const struct snapcow_geometry *g,
					       const struct snapcow_stats *st)
{
	uint64_t last = snapcow_area_chunk(g->per_area, st->areas ? st->areas - 1 : 0) + 1;

	return st->next_free > last ? st->next_free : last;
}

/* ---- Which record the kernel uses for an old chunk mapped twice --------- */

/*
 * dm-snapshot keeps the loaded table in a hash of lists (dm-snap.c,
 * dm_insert_exception(), dm_lookup_exception()); the complete table hashes
 * old_chunk >> DM_CHUNK_CONSECUTIVE_BITS (8), so each group of 256 old
 * chunks has one list (others may share it, but they never merge with or
 * cover its chunks).  A list is ordered by old_chunk; a record consecutive
 * (old and new) with the end of an entry found before the first larger
 * entry extends it, one consecutive with the start of that larger entry
 * extends it downwards, any other is inserted there, after the entries of
 * equal old_chunk.  A lookup takes the first entry covering the chunk.
 * So of two records for one old chunk the earlier wins, unless the later
 * one joined a run of consecutive chunks that comes first in the list
 * (seen by the kernel: tests/vm/scenarios/repair-kernel).  The simulation
 * is exact up to KLIST_MAX entries in one group (only a garbage table has
 * more); past that, further records are appended (the earlier wins).
 */
#define KLIST_MAX 65536U

struct kentry {
	uint64_t old_chunk, new_chunk, count; /* old..old+count -> new..new+count */
};

struct klist {
	struct kentry *e;
	size_t n, cap;
};

static int klist_insert(struct klist *l, uint64_t old_chunk, uint64_t new_chunk)
{
	size_t i;

	for (i = 0; i < l->n && l->n < KLIST_MAX; i++) {
		struct kentry *e = &l->e[i];

		if (old_chunk == e->old_chunk + e->count + 1 && new_chunk == e->new_chunk + e->count + 1) {
			e->count++;
			return 0;
		}
		if (old_chunk == e->old_chunk - 1 && new_chunk == e->new_chunk - 1) {
			e->count++;
			e->old_chunk--;
			e->new_chunk--;
			return 0;
		}
		if (old_chunk < e->old_chunk)
			break;
	}
	if (l->n >= KLIST_MAX)
		i = l->n;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->e, nc * sizeof(*l->e));
		if (!p)
			return -ENOMEM;
		l->e = p;
		l->cap = nc;
	}
	memmove(&l->e[i + 1], &l->e[i], (l->n - i) * sizeof(*l->e));
	l->e[i] = (struct kentry){ old_chunk, new_chunk, 0 };
	l->n++;
	return 0;
}

/* Returns: 1 and *@new_chunk for the first entry covering @chunk, else 0. */
static int klist_lookup(const struct klist *l, uint64_t chunk, uint64_t *new_chunk)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct kentry *e = &l->e[i];

		if (chunk >= e->old_chunk && chunk - e->old_chunk <= e->count) {
			*new_chunk = e->new_chunk + (chunk - e->old_chunk);
			return 1;
		}
	}
	return 0;
}

static int cmp_rec_seq(const void *a, const void *b)
{
	const struct snapcow_rec *x = a, *y = b;
	uint64_t sx = x->seq & ~SNAPCOW_REC_LOSER, sy = y->seq & ~SNAPCOW_REC_LOSER;

	return sx < sy ? -1 : (sx > sy);
}

/* One group of old chunks, @b[0..n) (sorted by old chunk, then seq). */
static int resolve_group(struct snapcow_rec *b, uint64_t n, uint64_t *losers)
{
	struct snapcow_rec *by_seq = malloc(n * sizeof(*by_seq));
	struct klist l = { 0 };
	uint64_t i, j, w = 0;
	int r = 0;

	if (!by_seq)
		return -ENOMEM;
	memcpy(by_seq, b, n * sizeof(*b));
	qsort(by_seq, n, sizeof(*by_seq), cmp_rec_seq);
	for (i = 0; i < n && !r; i++)
		r = klist_insert(&l, by_seq[i].old_chunk, by_seq[i].new_chunk);
	free(by_seq);
	for (i = 0; i < n && !r; i = j) {
		int found;

		for (j = i + 1; j < n && b[j].old_chunk == b[i].old_chunk; j++)
			;
		if (j - i < 2)
			continue;
		found = klist_lookup(&l, b[i].old_chunk, &w);
		/* the winner: the first record (in table order) with that mapping */
		for (uint64_t k = i; k < j; k++) {
			if (found && b[k].new_chunk == w) {
				found = 0;
				continue;
			}
			b[k].seq |= SNAPCOW_REC_LOSER;
			(*losers)++;
		}
		if (found) { /* cannot happen: keep the earliest */
			b[i].seq &= ~SNAPCOW_REC_LOSER;
			(*losers)--;
		}
	}
	free(l.e);
	return r;
}

int snapcow_resolve_old_twice(struct snapcow_rec *b, uint64_t n, uint64_t *losers)
{
	uint64_t i = 0, start, end;
	int r;

	*losers = 0;
	while (i + 1 < n) {
		if (b[i].old_chunk != b[i + 1].old_chunk) {
			i++;
			continue;
		}
		/* a duplicate: resolve its whole group of 256 old chunks */
		for (start = i; start > 0 && b[start - 1].old_chunk >> 8 == b[i].old_chunk >> 8;)
			start--;
		for (end = i + 1; end < n && b[end].old_chunk >> 8 == b[i].old_chunk >> 8;)
			end++;
		r = resolve_group(b + start, end - start, losers);
		if (r < 0)
			return r;
		i = end;
	}
	return 0;
}
