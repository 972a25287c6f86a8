/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Repairing a store: which records to keep and the layout to write them in
 * (snapcow.h, "Repair").  Every verdict on a record is a rule of rules.c
 * reported by the streaming table check (check.c); the layout is the
 * writer's (writer.c).  The table is read one area at a time, in passes:
 *   1. walk the candidates and feed them to the table check: each record
 *      problem is a drop, each old chunk seen twice marks its group of 256;
 *   2. collect the surviving records of the marked groups and keep, per old
 *      chunk, the one the kernel's lookup finds (snapcow_resolve_old_twice);
 *   3. count what is kept, trim the tail when the last area would have no
 *      room after it, and compute the figures and the holes' data;
 *   4. lay the result out through a writer whose sink compares each chunk
 *      with the store: the chunks a repair changes.
 * The chunk size comes first: the caller's, the header's (unless its table
 * is garbage where another size holds a sane one), LVM's hint, or the one at
 * which the areas hold records pointing into their own data chunks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "snapcow-internal.h"

/* Chunk sizes tried when looking for the layout: 1 to 1024 sectors (LVM's
 * largest); the kernel takes larger ones, which only --chunk-size reaches. */
#define LAYOUT_MAX_SECTORS 1024U
/* Areas looked at to judge a chunk size. */
#define LAYOUT_AREAS 4

struct hole_rec {
	struct snapcow_repair_hole h;
	uint64_t data_chunks, data_first, data_last;
};

struct snapcow_repair {
	struct snapcow_ctx *ctx;
	const struct snapcow_dev *dev;
	const char *name;
	struct snapcow_repair_options opt;
	struct snapcow_repair_summary sum;
	struct snapcow_geometry geo;
	unsigned char *area;              /* one chunk: the area being walked */
	unsigned char *cmp;               /* one chunk: pass 4's read of the store */
	struct snapcow_repair_drop *drops;
	uint64_t ndrops, capdrops;
	struct hole_rec *holes;
	uint64_t nholes, capholes;
	uint64_t *groups;                 /* old_chunk >> 8 of the duplicates */
	uint64_t ngroups, capgroups;
	uint64_t *changed;
	uint64_t nchanged, capchanged;
	uint64_t keep_limit;              /* records written (the rest: no room) */
	uint64_t stop_area;               /* where the kernel's walk stops (a hole) */
	uint32_t stop_index;
	int stopped;
	struct snapcow_table_check *tc;   /* pass 1 */
	void *pass;                       /* the running pass's own state */
	int err;                          /* first error inside a callback */
};

/* Append one element of @size to the array *@a of *@n (capacity *@cap). */
static int grow(void **a, uint64_t *n, uint64_t *cap, size_t size)
{
	if (*n == *cap) {
		uint64_t nc = *cap ? *cap * 2 : 64;
		void *p = realloc(*a, nc * size);

		if (!p)
			return -ENOMEM;
		*a = p;
		*cap = nc;
	}
	(*n)++;
	return 0;
}

static int add_drop(struct snapcow_repair *r, uint64_t area, uint32_t index, uint64_t old_chunk,
		    uint64_t new_chunk, const char *code)
{
	struct snapcow_repair_drop *d;

	if (grow((void **)&r->drops, &r->ndrops, &r->capdrops, sizeof(*r->drops)) < 0)
		return -ENOMEM;
	d = &r->drops[r->ndrops - 1];
	memset(d, 0, sizeof(*d));
	d->area = area;
	d->index = index;
	d->offset = snapcow_area_chunk(r->geo.per_area, area) * r->geo.chunk_bytes +
		    (uint64_t)index * SNAPCOW_RECORD_SIZE;
	d->old_chunk = old_chunk;
	d->new_chunk = new_chunk;
	d->code = code;
	return 0;
}

static int cmp_drop(const void *a, const void *b)
{
	const struct snapcow_repair_drop *x = a, *y = b;

	if (x->area != y->area)
		return x->area < y->area ? -1 : 1;
	return x->index < y->index ? -1 : (x->index > y->index);
}

/* Table order, one drop per record (the first reason found). */
static void sort_drops(struct snapcow_repair *r)
{
	uint64_t i, w = 0;

	if (r->ndrops)
		qsort(r->drops, r->ndrops, sizeof(*r->drops), cmp_drop);
	for (i = 0; i < r->ndrops; i++)
		if (!w || cmp_drop(&r->drops[w - 1], &r->drops[i]))
			r->drops[w++] = r->drops[i];
	r->ndrops = w;
}

static int is_dropped(const struct snapcow_repair *r, uint64_t area, uint32_t index)
{
	const struct snapcow_repair_drop key = { .area = area, .index = index };

	return r->ndrops && bsearch(&key, r->drops, r->ndrops, sizeof(key), cmp_drop);
}

/* ---- The candidates ----------------------------------------------------- */

/* Called with each run of candidate records: @rec[@first..@first+@n) of
 * @area; @seq is the first one's place among all candidates. */
typedef int (*run_fn)(struct snapcow_repair *r, uint64_t area, const struct snapcow_disk_exception *rec,
		      uint32_t first, uint32_t n, uint64_t seq);

static int any_set(const struct snapcow_disk_exception *rec, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		if (rec[i].old_chunk || rec[i].new_chunk)
			return 1;
	return 0;
}

/* The zeroed records of a torn area (@note: pass 1 records them): one with
 * an old chunk is a drop (new chunk 0), all-zero runs are holes (the last
 * run, when the area ends the table, is its end, not a hole). */
static int note_zeros(struct snapcow_repair *r, uint64_t area, const struct snapcow_disk_exception *rec,
		      uint32_t from, uint32_t to, int at_end)
{
	uint32_t i = from;

	while (i < to) {
		uint32_t start = i;

		if (rec[i].old_chunk) {
			if (add_drop(r, area, i, le64toh(rec[i].old_chunk), 0, "new-chunk-zero") < 0)
				return -ENOMEM;
			i++;
			continue;
		}
		while (i < to && !rec[i].old_chunk)
			i++;
		if (at_end && i == to && !any_set(rec, start, r->geo.per_area))
			break;
		if (grow((void **)&r->holes, &r->nholes, &r->capholes, sizeof(*r->holes)) < 0)
			return -ENOMEM;
		memset(&r->holes[r->nholes - 1], 0, sizeof(*r->holes));
		r->holes[r->nholes - 1].h = (struct snapcow_repair_hole){ area, start, i - start };
	}
	return 0;
}

/* One torn area: its runs of records with a new chunk go to @fn. */
static int walk_torn(struct snapcow_repair *r, uint64_t area, const struct snapcow_disk_exception *rec,
		     run_fn fn, int note, uint64_t *seq)
{
	const uint32_t per = r->geo.per_area;
	const int at_end = !rec[per - 1].new_chunk;
	uint32_t i = 0, start;
	int e;

	while (i < per) {
		start = i;
		if (rec[i].new_chunk) {
			while (i < per && rec[i].new_chunk)
				i++;
			e = fn(r, area, rec, start, i - start, *seq);
			*seq += i - start;
		} else {
			while (i < per && !rec[i].new_chunk)
				i++;
			e = note ? note_zeros(r, area, rec, start, i, at_end) : 0;
		}
		if (e)
			return e;
	}
	return 0;
}

/*
 * Walk the candidates as the kernel walks the table, one area at a time,
 * except that an area with anything after its terminator is torn: its other
 * records are candidates too, and the walk goes on after it when its last
 * record is set (it was full).  An area past the end of the store ends the
 * walk (the table had no terminator: phase 3 trims).
 */
static int walk(struct snapcow_repair *r, run_fn fn, int note)
{
	const struct snapcow_geometry *g = &r->geo;
	const struct snapcow_disk_exception *rec = (const void *)r->area;
	uint64_t area, seq = 0;
	uint32_t live;
	int e;

	for (area = 0; snapcow_geometry_area_fits(g, area); area++) {
		uint64_t off = snapcow_area_chunk(g->per_area, area) * g->chunk_bytes;

		e = snapcow_dev_pread(r->dev, r->area, g->chunk_bytes, off);
		if (e < 0) {
			log_err(r->ctx, "%s: cannot read metadata area %" PRIu64 " at byte offset %"
				PRIu64 ": %s", r->name, area, off, snapcow_strerror(e));
			return e;
		}
		for (live = 0; live < g->per_area && rec[live].new_chunk; live++)
			;
		if (live == g->per_area || !any_set(rec, live, g->per_area)) {
			e = live ? fn(r, area, rec, 0, live, seq) : 0;
			seq += live;
			if (e || live < g->per_area)
				return e;
			continue;
		}
		if (note && !r->stopped) {
			r->stopped = 1;
			r->stop_area = area;
			r->stop_index = live;
		}
		e = walk_torn(r, area, rec, fn, note, &seq);
		if (e || !rec[g->per_area - 1].new_chunk)
			return e;
	}
	if (note && area)
		r->sum.cut_area = (int64_t)area;
	return 0;
}

/* ---- Pass 1: the table check's verdicts ------------------------------- */

static int add_group(struct snapcow_repair *r, uint64_t old_chunk)
{
	if (grow((void **)&r->groups, &r->ngroups, &r->capgroups, sizeof(*r->groups)) < 0)
		return -ENOMEM;
	r->groups[r->ngroups - 1] = old_chunk >> 8;
	return 0;
}

/* A record problem: drop it (an old chunk seen twice: resolved in pass 2). */
static void on_problem(void *data, const struct snapcow_problem *p)
{
	struct snapcow_repair *r = data;
	struct snapcow_disk_exception de;
	int e;

	if (p->area < 0 || p->index < 0 || r->err)
		return;
	e = snapcow_dev_pread(r->dev, &de, sizeof(de), p->offset);
	if (!e && !strcmp(p->code, "old-chunk-twice"))
		e = add_group(r, le64toh(de.old_chunk));
	else if (!e)
		e = add_drop(r, (uint64_t)p->area, (uint32_t)p->index, le64toh(de.old_chunk),
			     le64toh(de.new_chunk), p->code);
	if (e)
		r->err = e;
}

static int pass1_run(struct snapcow_repair *r, uint64_t area, const struct snapcow_disk_exception *rec,
		     uint32_t first, uint32_t n, uint64_t seq)
{
	(void)seq;
	return snapcow_table_check_part(r->tc, area, first, rec + first, n);
}

static int cmp_u64(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : (*x > *y);
}

static int pass1(struct snapcow_repair *r)
{
	struct snapcow_check_options copt = { .origin_bytes = r->opt.origin_bytes };
	struct snapcow_check_result res;
	uint64_t i, w = 0;
	int e;

	e = snapcow_table_check_new(NULL, &r->geo, &copt, on_problem, r, &r->tc);
	if (e < 0)
		return e;
	e = walk(r, pass1_run, 1);
	if (!e)
		e = snapcow_table_check_finish(r->tc, 1, &res);
	snapcow_table_check_free(r->tc);
	r->tc = NULL;
	if (!e)
		e = r->err;
	if (e)
		return e;
	sort_drops(r);
	if (r->ngroups)
		qsort(r->groups, r->ngroups, sizeof(*r->groups), cmp_u64);
	for (i = 0; i < r->ngroups; i++)
		if (!w || r->groups[w - 1] != r->groups[i])
			r->groups[w++] = r->groups[i];
	r->ngroups = w;
	return 0;
}

/* ---- Pass 2: old chunks mapped twice ----------------------------------- */

struct pass2 {
	struct snapcow_rec *rec;     /* seq: index into @where */
	struct snapcow_repair_drop *where; /* area, index of each */
	uint64_t n, cap, capw;
};

static int in_groups(const struct snapcow_repair *r, uint64_t old_chunk)
{
	uint64_t g = old_chunk >> 8;

	return bsearch(&g, r->groups, r->ngroups, sizeof(g), cmp_u64) != NULL;
}

static int pass2_run(struct snapcow_repair *r, uint64_t area, const struct snapcow_disk_exception *rec,
		     uint32_t first, uint32_t n, uint64_t seq)
{
	struct pass2 *p2 = r->pass;

	(void)seq;
	for (uint32_t i = first; i < first + n; i++) {
		uint64_t oc = le64toh(rec[i].old_chunk), idx = p2->n, wn = p2->n;

		if (!in_groups(r, oc) || is_dropped(r, area, i))
			continue;
		if (grow((void **)&p2->rec, &p2->n, &p2->cap, sizeof(*p2->rec)) < 0 ||
		    grow((void **)&p2->where, &wn, &p2->capw, sizeof(*p2->where)) < 0)
			return -ENOMEM;
		p2->rec[idx] = (struct snapcow_rec){ oc, le64toh(rec[i].new_chunk), idx };
		p2->where[idx] = (struct snapcow_repair_drop){ .area = area, .index = i };
	}
	return 0;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct snapcow_rec *x = a, *y = b;

	if (x->old_chunk != y->old_chunk)
		return x->old_chunk < y->old_chunk ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Drop the losers of each old chunk, naming the record kept for it. */
static int drop_losers(struct snapcow_repair *r, struct pass2 *p2)
{
	uint64_t i, j, k, win;

	for (i = 0; i < p2->n; i = j) {
		for (j = i + 1; j < p2->n && p2->rec[j].old_chunk == p2->rec[i].old_chunk; j++)
			;
		for (win = i; win < j && (p2->rec[win].seq & SNAPCOW_REC_LOSER); win++)
			;
		for (k = i; k < j && win < j; k++) {
			const struct snapcow_rec *x = &p2->rec[k];
			const struct snapcow_repair_drop *at = &p2->where[x->seq & ~SNAPCOW_REC_LOSER];
			const struct snapcow_repair_drop *kept = &p2->where[p2->rec[win].seq];
			struct snapcow_repair_drop *d;

			if (!(x->seq & SNAPCOW_REC_LOSER))
				continue;
			if (add_drop(r, at->area, at->index, x->old_chunk, x->new_chunk,
				     "old-chunk-twice") < 0)
				return -ENOMEM;
			d = &r->drops[r->ndrops - 1];
			d->kept_area = kept->area;
			d->kept_index = kept->index;
			d->kept_new_chunk = p2->rec[win].new_chunk;
		}
	}
	return 0;
}

static int pass2(struct snapcow_repair *r)
{
	struct pass2 p2 = { 0 };
	uint64_t losers;
	int e;

	if (!r->ngroups)
		return 0;
	r->pass = &p2;
	e = walk(r, pass2_run, 0);
	r->pass = NULL;
	if (!e && p2.n) {
		qsort(p2.rec, p2.n, sizeof(*p2.rec), cmp_rec);
		e = snapcow_resolve_old_twice(p2.rec, p2.n, &losers);
	}
	if (!e)
		e = drop_losers(r, &p2);
	free(p2.rec);
	free(p2.where);
	if (!e)
		sort_drops(r);
	return e;
}

/* ---- Pass 3: what is kept --------------------------------------------- */

struct pass3 {
	uint64_t kept, max_new;
	uint64_t limit;       /* past this many kept records: no room, dropped */
	unsigned char **bits; /* per hole: the chunks of its area's range named */
	struct snapcow_repair_drop *noroom; /* those, added after the walk */
	uint64_t nnoroom, capnoroom;
};

/* A kept record's data chunk, for the holes whose area's range holds it. */
static void mark_hole_data(struct snapcow_repair *r, struct pass3 *p3, uint64_t nc)
{
	for (uint64_t h = 0; p3->bits && h < r->nholes; h++) {
		uint64_t base = snapcow_area_chunk(r->geo.per_area, r->holes[h].h.area);

		if (nc > base && nc - base <= r->geo.per_area)
			p3->bits[h][(nc - base - 1) >> 3] |= (unsigned char)(1U << ((nc - base - 1) & 7));
	}
}

static int pass3_run(struct snapcow_repair *r, uint64_t area, const struct snapcow_disk_exception *rec,
		     uint32_t first, uint32_t n, uint64_t seq)
{
	struct pass3 *p3 = r->pass;

	(void)seq;
	for (uint32_t i = first; i < first + n; i++) {
		uint64_t nc = le64toh(rec[i].new_chunk);

		if (is_dropped(r, area, i))
			continue;
		if (p3->kept >= p3->limit) {
			if (grow((void **)&p3->noroom, &p3->nnoroom, &p3->capnoroom,
				 sizeof(*p3->noroom)) < 0)
				return -ENOMEM;
			p3->noroom[p3->nnoroom - 1] = (struct snapcow_repair_drop){
				.area = area, .index = i, .old_chunk = le64toh(rec[i].old_chunk),
				.new_chunk = nc };
			continue;
		}
		p3->kept++;
		p3->max_new = nc > p3->max_new ? nc : p3->max_new;
		mark_hole_data(r, p3, nc);
		if (r->stopped && (area > r->stop_area ||
				   (area == r->stop_area && i >= r->stop_index)))
			r->sum.recovered++;
	}
	return 0;
}

/* The chunks of each hole's area's range that no kept record names. */
static void finish_holes(struct snapcow_repair *r, struct pass3 *p3)
{
	for (uint64_t h = 0; p3->bits && h < r->nholes; h++) {
		struct hole_rec *hr = &r->holes[h];
		uint64_t base = snapcow_area_chunk(r->geo.per_area, hr->h.area);

		for (uint32_t i = 0; i < r->geo.per_area; i++) {
			uint64_t c = base + 1 + i;

			if (c >= r->geo.chunks || (p3->bits[h][i >> 3] & (1U << (i & 7))))
				continue;
			if (!hr->data_chunks++)
				hr->data_first = c;
			hr->data_last = c;
		}
	}
}

static int count_kept(struct snapcow_repair *r, struct pass3 *p3)
{
	int e;

	p3->kept = 0;
	p3->max_new = 1;
	r->sum.recovered = 0;
	r->pass = p3;
	e = walk(r, pass3_run, 0);
	r->pass = NULL;
	return e;
}

static int pass3(struct snapcow_repair *r)
{
	const struct snapcow_geometry *g = &r->geo;
	struct pass3 p3 = { .limit = UINT64_MAX };
	struct snapcow_stats *st = &r->sum.stats;
	uint64_t h;
	int e = 0;

	if (r->nholes) {
		p3.bits = calloc(r->nholes, sizeof(*p3.bits));
		for (h = 0; p3.bits && h < r->nholes; h++)
			if (!(p3.bits[h] = calloc(1, g->per_area / 8 + 1)))
				e = -ENOMEM;
		if (!p3.bits)
			e = -ENOMEM;
	}
	if (!e)
		e = count_kept(r, &p3);
	/* The area after the last record must fit: else the last ones go. */
	if (!e && !snapcow_geometry_area_fits(g, p3.kept / g->per_area)) {
		p3.limit = (g->chunks - 2) / ((uint64_t)g->per_area + 1) * g->per_area +
			   g->per_area - 1;
		for (h = 0; p3.bits && h < r->nholes; h++)
			memset(p3.bits[h], 0, g->per_area / 8 + 1);
		e = count_kept(r, &p3);
		for (h = 0; !e && h < p3.nnoroom; h++)
			e = add_drop(r, p3.noroom[h].area, p3.noroom[h].index, p3.noroom[h].old_chunk,
				     p3.noroom[h].new_chunk, "no-room-for-terminator");
		if (!e)
			sort_drops(r);
	}
	if (!e) {
		finish_holes(r, &p3);
		memset(st, 0, sizeof(*st));
		st->exceptions = p3.kept;
		st->areas = p3.kept / g->per_area + 1;
		st->last_area_full = p3.kept && p3.kept % g->per_area == 0;
		st->next_free = p3.max_new + 1;
		snapcow_stats_finish(g, st);
		r->sum.kept = p3.kept;
		r->keep_limit = p3.kept;
	}
	for (h = 0; p3.bits && h < r->nholes; h++)
		free(p3.bits[h]);
	free(p3.bits);
	free(p3.noroom);
	return e;
}

/* ---- Laying it out ------------------------------------------------------ */

struct records_walk {
	int (*fn)(void *data, const struct snapcow_exception *e);
	void *data;
	uint64_t done;
};

static int records_run(struct snapcow_repair *r, uint64_t area,
		       const struct snapcow_disk_exception *rec, uint32_t first, uint32_t n,
		       uint64_t seq)
{
	struct records_walk *w = r->pass;

	(void)seq;
	for (uint32_t i = first; i < first + n && w->done < r->keep_limit; i++) {
		struct snapcow_exception e = { le64toh(rec[i].old_chunk), le64toh(rec[i].new_chunk) };
		int ret;

		if (is_dropped(r, area, i))
			continue;
		w->done++;
		ret = w->fn(w->data, &e);
		if (ret)
			return ret;
	}
	return 0;
}

SNAPCOW_EXPORT int snapcow_repair_records(struct snapcow_repair *r,
					  int (*fn)(void *data, const struct snapcow_exception *e),
					  void *data)
{
	struct records_walk w = { fn, data, 0 };
	int e;

	if (!r || !fn)
		return -EINVAL;
	r->pass = &w;
	e = walk(r, records_run, 0);
	r->pass = NULL;
	return e;
}

static int add_to_writer(void *data, const struct snapcow_exception *e)
{
	return snapcow_writer_add(data, e);
}

SNAPCOW_EXPORT int snapcow_repair_write(struct snapcow_repair *r, snapcow_sink_fn fn, void *data)
{
	struct snapcow_writer *w;
	int e;

	if (!r || !fn)
		return -EINVAL;
	e = snapcow_writer_new(r->ctx, -1, r->name, r->geo.chunk_sectors, r->geo.store_bytes, &w);
	if (e < 0)
		return e;
	snapcow_writer_set_sink(w, fn, data);
	e = snapcow_repair_records(r, add_to_writer, w);
	if (!e)
		e = snapcow_writer_finish(w, r->sum.new_header.valid);
	snapcow_writer_free(w);
	return e;
}

/* Pass 4's sink: a chunk of the repaired store that differs from the store. */
static int compare_chunk(void *data, const void *buf, size_t len, uint64_t offset)
{
	struct snapcow_repair *r = data;
	int e = snapcow_dev_pread(r->dev, r->cmp, len, offset);

	if (e < 0) {
		log_err(r->ctx, "%s: cannot read %zu bytes at byte offset %" PRIu64 ": %s", r->name,
			len, offset, snapcow_strerror(e));
		return e;
	}
	if (!memcmp(buf, r->cmp, len))
		return 0;
	if (grow((void **)&r->changed, &r->nchanged, &r->capchanged, sizeof(*r->changed)) < 0)
		return -ENOMEM;
	r->changed[r->nchanged - 1] = offset / r->geo.chunk_bytes;
	return 0;
}

static int pass4(struct snapcow_repair *r)
{
	int e;

	r->nchanged = 0;
	e = snapcow_repair_write(r, compare_chunk, r);
	if (e < 0)
		return e;
	if (r->nchanged)
		qsort(r->changed, r->nchanged, sizeof(*r->changed), cmp_u64);
	r->sum.changed_chunks = r->nchanged;
	r->sum.header_changed = r->nchanged && r->changed[0] == 0;
	return 0;
}

/* ---- The chunk size --------------------------------------------------- */

/* How well a table fits chunks of @cs sectors: records before the kernel's
 * terminator in the first areas that point into their own area's data
 * chunks (@sane) and that break a rule (@bad).  Returns: 0, or -1 when the
 * store cannot have that chunk size. */
static int layout_score(struct snapcow_repair *r, uint64_t cs, uint64_t *sane, uint64_t *bad)
{
	struct snapcow_geometry g;
	const struct snapcow_disk_exception *rec;
	unsigned char *buf;
	uint64_t a;
	uint32_t i;

	*sane = *bad = 0;
	if (snapcow_geometry_init(&g, cs, snapcow_dev_size(r->dev)) < 0)
		return -1;
	buf = malloc(g.chunk_bytes);
	if (!buf)
		return -1;
	rec = (const void *)buf;
	for (a = 0; a < LAYOUT_AREAS && snapcow_geometry_area_fits(&g, a); a++) {
		uint64_t base = snapcow_area_chunk(g.per_area, a);

		if (snapcow_dev_pread(r->dev, buf, g.chunk_bytes, base * g.chunk_bytes) < 0)
			break;
		for (i = 0; i < g.per_area && rec[i].new_chunk; i++) {
			uint64_t nc = le64toh(rec[i].new_chunk);

			if (snapcow_record_check(&g, nc) != SNAPCOW_RECORD_OK)
				(*bad)++;
			else if (nc > base && nc - base <= g.per_area)
				(*sane)++;
		}
		if (i < g.per_area)
			break;
	}
	free(buf);
	return 0;
}

/* The chunk size, other than @skip, whose table fits best (no bad record,
 * the most sane ones; the smallest on a tie), or 0 if none holds any. */
static uint32_t best_layout(struct snapcow_repair *r, uint64_t skip, uint64_t *best_sane)
{
	uint64_t sane, bad;
	uint32_t cs, best = 0;

	*best_sane = 0;
	for (cs = 1; cs <= LAYOUT_MAX_SECTORS; cs <<= 1) {
		if (cs == skip || layout_score(r, cs, &sane, &bad) < 0 || bad || !sane)
			continue;
		if (sane > *best_sane) {
			*best_sane = sane;
			best = cs;
		}
	}
	return best;
}

/* Bytes after the header in the header chunk of @cs sectors: the table was
 * written with a smaller chunk size (a kernel-made header chunk is zero). */
static int header_chunk_dirty(struct snapcow_repair *r, uint64_t cs)
{
	uint64_t len = cs * SNAPCOW_SECTOR_SIZE - sizeof(struct snapcow_disk_header);
	unsigned char *buf = malloc(len);
	int dirty = 0;

	if (buf && snapcow_dev_pread(r->dev, buf, len, sizeof(struct snapcow_disk_header)) == 0)
		dirty = !is_zero(buf, len);
	free(buf);
	return dirty;
}

/* A usable header's chunk size, unless its table is garbage or empty where
 * the hint holds a sane one, or garbage (or, with a dirty header chunk,
 * empty) where another size holds a sane one. */
static uint32_t check_header_chunk(struct snapcow_repair *r, uint32_t cs)
{
	uint64_t sane, bad, alt_sane = 0, alt_bad = 1;
	uint32_t alt = r->opt.hint_chunk_sectors;

	if (layout_score(r, cs, &sane, &bad) < 0)
		return cs;
	if (alt && alt != cs && (bad || !sane) &&
	    layout_score(r, alt, &alt_sane, &alt_bad) == 0 && !alt_bad && alt_sane > sane) {
		r->sum.chunk_source = SNAPCOW_CHUNK_FROM_HINT;
		r->sum.header_problem = "chunk-size-table";
		return alt;
	}
	if (!bad && (sane || !header_chunk_dirty(r, cs)))
		return cs;
	alt = best_layout(r, cs, &alt_sane);
	if (!alt || alt_sane <= sane)
		return cs;
	r->sum.chunk_source = SNAPCOW_CHUNK_FROM_LAYOUT;
	r->sum.header_problem = "chunk-size-table";
	return alt;
}

static void first_error(void *data, const struct snapcow_problem *p)
{
	const char **code = data;

	if (p->severity <= LOG_ERR && !*code)
		*code = p->code;
}

/* Pick the chunk size and its source; sets r->geo.  A header the kernel
 * refuses is rebuilt only with a chunk size given (the caller's, LVM's) or
 * where a table is found: a store whose header and table are both gone
 * cannot be told from something else.  Returns: 0 or an error. */
static int choose_geometry(struct snapcow_repair *r)
{
	const struct snapcow_header *h = &r->sum.header;
	const char *code = NULL;
	uint64_t sane = 0, bad;
	uint32_t cs = 0;
	int hr, e;

	hr = snapcow_header_check(h, snapcow_dev_size(r->dev), first_error, &code);
	r->sum.header_problem = hr ? code : NULL;
	if (r->opt.chunk_sectors) {
		cs = r->opt.chunk_sectors;
		r->sum.chunk_source = SNAPCOW_CHUNK_FROM_OPTION;
		if (!hr && h->chunk_sectors != cs)
			r->sum.header_problem = "chunk-size-option";
	} else if (!hr) {
		cs = check_header_chunk(r, h->chunk_sectors);
	} else if (r->opt.hint_chunk_sectors) {
		cs = r->opt.hint_chunk_sectors;
		r->sum.chunk_source = SNAPCOW_CHUNK_FROM_HINT;
	} else if (!snapcow_chunk_kernel_problem(h->chunk_sectors) &&
		   layout_score(r, h->chunk_sectors, &sane, &bad) == 0 && sane) {
		cs = h->chunk_sectors;
	} else if ((cs = best_layout(r, 0, &sane))) {
		r->sum.chunk_source = SNAPCOW_CHUNK_FROM_LAYOUT;
	} else {
		log_err(r->ctx, "%s: the kernel refuses the header (%s) and no chunk size of 1 to %u "
			"sectors finds a table: this may not be a snapshot store; give the chunk "
			"size to rebuild its header anyway", r->name, code ? code : "?",
			LAYOUT_MAX_SECTORS);
		return SNAPCOW_ERR_CHUNK_SIZE;
	}
	e = snapcow_geometry_init(&r->geo, cs, snapcow_dev_size(r->dev));
	if (e == SNAPCOW_ERR_TOO_SMALL)
		log_err(r->ctx, "%s: %" PRIu64 " bytes, smaller than a header chunk and an area of %"
			PRIu32 " sectors: nothing to repair", r->name, snapcow_dev_size(r->dev), cs);
	else if (e < 0)
		log_err(r->ctx, "%s: chunk size %" PRIu32 " sectors: %s", r->name, cs,
			snapcow_chunk_kernel_problem(cs) ? snapcow_chunk_kernel_problem(cs) :
			snapcow_strerror(e));
	r->sum.geo = r->geo;
	return e;
}

/* ---- The header and the figures --------------------------------------- */

static int read_header(struct snapcow_repair *r)
{
	struct snapcow_disk_header dh;
	struct snapcow_header *h = &r->sum.header;
	int e;

	if (snapcow_dev_size(r->dev) < sizeof(dh)) {
		log_err(r->ctx, "%s: %" PRIu64 " bytes, too small for a header: nothing to repair",
			r->name, snapcow_dev_size(r->dev));
		return SNAPCOW_ERR_TOO_SMALL;
	}
	e = snapcow_dev_pread(r->dev, &dh, sizeof(dh), 0);
	if (e < 0) {
		log_err(r->ctx, "%s: cannot read the header at offset 0: %s", r->name,
			snapcow_strerror(e));
		return e;
	}
	h->magic = le32toh(dh.magic);
	h->valid = le32toh(dh.valid);
	h->version = le32toh(dh.version);
	h->chunk_sectors = le32toh(dh.chunk_size);
	return 0;
}

/* What the kernel loads now: the header as it is, the table as it walks
 * it (snapcow_store_scan(), diagnostics dropped).  Returns: 1 if it walks
 * the table (valid or not), else 0. */
static int kernel_now(struct snapcow_repair *r)
{
	struct snapcow_store *s;
	struct snapcow_stats st;
	int walks = 0;

	if (snapcow_store_open_dev(NULL, r->dev, 0, &s) < 0)
		return 0;
	if (snapcow_store_scan(s, &st) == 0) {
		r->sum.kernel_exceptions = st.exceptions;
		r->sum.kernel_loads = r->sum.header.valid != 0;
		r->sum.kernel_walks = walks = 1;
	}
	snapcow_store_free(s);
	return walks;
}

/* Non-zero data in the store's last data chunk: the kernel filled it, as an
 * overflow does (snap_info's heuristic for an invalid store). */
static int reaches_end(struct snapcow_repair *r)
{
	uint64_t c = r->geo.chunks - 1;
	int set = 0;

	while (c > 1 && snapcow_chunk_is_metadata(r->geo.per_area, c))
		c--;
	if (snapcow_dev_pread(r->dev, r->area, r->geo.chunk_bytes, c * r->geo.chunk_bytes) == 0)
		set = !is_zero(r->area, r->geo.chunk_bytes);
	return set;
}

/* The header to write: the old valid flag when the old header is a store's
 * ("SnAp"), else valid unless the store looks overflowed. */
static void new_header(struct snapcow_repair *r)
{
	const struct snapcow_header *h = &r->sum.header;
	struct snapcow_header *n = &r->sum.new_header;

	n->magic = SNAPCOW_MAGIC;
	n->version = SNAPCOW_DISK_VERSION;
	n->chunk_sectors = r->geo.chunk_sectors;
	if (h->magic == SNAPCOW_MAGIC) {
		n->valid = h->valid;
		r->sum.valid_reason = h->valid ? "valid, as the old header says" :
						 "invalid, as the old header says";
	} else if (r->sum.stats.full || reaches_end(r)) {
		n->valid = 0;
		r->sum.valid_reason = "invalid: the old flag is lost and the store is full, as "
				      "after an overflow";
	} else {
		n->valid = 1;
		r->sum.valid_reason = "valid: the old flag is lost and the store is not full";
	}
}

SNAPCOW_EXPORT int snapcow_repair_new(struct snapcow_ctx *ctx, const struct snapcow_dev *dev,
				      const struct snapcow_repair_options *opt,
				      struct snapcow_repair **out)
{
	struct snapcow_repair *r;
	int e;

	if (!dev || !out)
		return -EINVAL;
	if (opt && opt->chunk_sectors && snapcow_chunk_kernel_problem(opt->chunk_sectors))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ctx = snapcow_ctx_ref(ctx);
	r->sum.cut_area = -1;
	r->dev = dev;
	r->name = snapcow_dev_name(dev);
	if (opt)
		r->opt = *opt;
	e = read_header(r);
	if (!e)
		e = choose_geometry(r);
	if (!e && (!(r->area = malloc(r->geo.chunk_bytes)) || !(r->cmp = malloc(r->geo.chunk_bytes))))
		e = -ENOMEM;
	if (!e)
		e = pass1(r);
	if (!e)
		e = pass2(r);
	if (!e)
		e = pass3(r);
	if (!e) {
		/* the kernel reads none of this table: a header it refuses, a
		 * table it cannot walk, or another chunk size */
		if (!kernel_now(r) || r->geo.chunk_sectors != r->sum.header.chunk_sectors)
			r->sum.recovered = r->sum.kept;
		new_header(r);
		e = pass4(r);
	}
	if (e) {
		snapcow_repair_free(r);
		return e;
	}
	r->sum.dropped = r->ndrops;
	for (uint64_t h = 0; h < r->nholes; h++)
		r->sum.lost += r->holes[h].h.count;
	r->sum.candidates = r->sum.kept + r->ndrops;
	*out = r;
	return 0;
}

SNAPCOW_EXPORT const struct snapcow_repair_summary *snapcow_repair_summary(const struct snapcow_repair *r)
{
	return &r->sum;
}

SNAPCOW_EXPORT int snapcow_repair_drop(const struct snapcow_repair *r, uint64_t i,
				       struct snapcow_repair_drop *d)
{
	if (!r || !d || i >= r->ndrops)
		return -EINVAL;
	*d = r->drops[i];
	return 0;
}

SNAPCOW_EXPORT int snapcow_repair_hole(const struct snapcow_repair *r, uint64_t i,
				       struct snapcow_repair_hole *h, uint64_t *data_first,
				       uint64_t *data_last, uint64_t *data_chunks)
{
	if (!r || !h || i >= r->nholes)
		return -EINVAL;
	*h = r->holes[i].h;
	if (data_first)
		*data_first = r->holes[i].data_first;
	if (data_last)
		*data_last = r->holes[i].data_last;
	if (data_chunks)
		*data_chunks = r->holes[i].data_chunks;
	return 0;
}

SNAPCOW_EXPORT int snapcow_repair_changed(const struct snapcow_repair *r, uint64_t i,
					  uint64_t *chunk)
{
	if (!r || !chunk || i >= r->nchanged)
		return -EINVAL;
	*chunk = r->changed[i];
	return 0;
}

SNAPCOW_EXPORT void snapcow_repair_free(struct snapcow_repair *r)
{
	if (!r)
		return;
	snapcow_table_check_free(r->tc);
	snapcow_ctx_unref(r->ctx);
	free(r->area);
	free(r->cmp);
	free(r->drops);
	free(r->holes);
	free(r->groups);
	free(r->changed);
	free(r);
}
