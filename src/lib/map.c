/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapcow-internal.h"

/*
 * A sorted array of (old, new) pairs, 16 bytes per exception while it is
 * built too: the table is read into it in order, sorted in place (no second
 * array), and only when two records map one old chunk is the table read a
 * second time, for the records of those groups of 256 old chunks with their
 * places in the table, so that the one the kernel's lookup finds wins
 * (snapcow_resolve_old_twice(), rules.c).
 */

struct snapcow_map {
	struct snapcow_exception *e;
	uint64_t n;
	uint64_t duplicates;
};

/* ---- An in-place sort by (old, new): introsort ------------------------- */

static inline int less(const struct snapcow_exception *a, const struct snapcow_exception *b)
{
	return a->old_chunk != b->old_chunk ? a->old_chunk < b->old_chunk
					     : a->new_chunk < b->new_chunk;
}

static inline void swap_e(struct snapcow_exception *a, struct snapcow_exception *b)
{
	struct snapcow_exception t = *a;

	*a = *b;
	*b = t;
}

static void insertion_sort(struct snapcow_exception *e, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++) {
		struct snapcow_exception x = e[i];
		uint64_t j = i;

		for (; j > 0 && less(&x, &e[j - 1]); j--)
			e[j] = e[j - 1];
		e[j] = x;
	}
}

static void sift_down(struct snapcow_exception *e, uint64_t i, uint64_t n)
{
	for (;;) {
		uint64_t c = 2 * i + 1;

		if (c >= n)
			return;
		if (c + 1 < n && less(&e[c], &e[c + 1]))
			c++;
		if (!less(&e[i], &e[c]))
			return;
		swap_e(&e[i], &e[c]);
		i = c;
	}
}

static void heap_sort(struct snapcow_exception *e, uint64_t n)
{
	for (uint64_t i = n / 2; i-- > 0;)
		sift_down(e, i, n);
	for (uint64_t i = n; i-- > 1;) {
		swap_e(&e[0], &e[i]);
		sift_down(e, 0, i);
	}
}

static void intro_sort(struct snapcow_exception *e, uint64_t n, unsigned int depth)
{
	while (n > 16) {
		struct snapcow_exception p, *a = &e[0], *b = &e[n / 2], *c = &e[n - 1];
		uint64_t i, j;

		if (!depth--) {
			heap_sort(e, n);
			return;
		}
		/* the median of three as the pivot's value (Hoare's partition) */
		if (less(b, a))
			swap_e(a, b);
		if (less(c, b)) {
			swap_e(b, c);
			if (less(b, a))
				swap_e(a, b);
		}
		p = *b;
		i = (uint64_t)-1;
		j = n;
		for (;;) {
			do
				i++;
			while (less(&e[i], &p));
			do
				j--;
			while (less(&p, &e[j]));
			if (i >= j)
				break;
			swap_e(&e[i], &e[j]);
		}
		/* [0, j] and (j, n): recurse into the smaller, loop on the larger */
		if (j + 1 < n - j - 1) {
			intro_sort(e, j + 1, depth);
			e += j + 1;
			n -= j + 1;
		} else {
			intro_sort(e + j + 1, n - j - 1, depth);
			n = j + 1;
		}
	}
	insertion_sort(e, n);
}

static void sort_pairs(struct snapcow_exception *e, uint64_t n)
{
	unsigned int depth = 0;

	for (uint64_t m = n; m > 1; m >>= 1)
		depth += 2;
	intro_sort(e, n, depth);
}

/* ---- Old chunks mapped twice: the kernel's choice ---------------------- */

static int cmp_rec(const void *a, const void *b)
{
	const struct snapcow_rec *x = a, *y = b;

	if (x->old_chunk != y->old_chunk)
		return x->old_chunk < y->old_chunk ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : (x > y);
}

/* The groups (old chunk >> 8) of sorted @e that hold an old chunk twice. */
static int dup_groups(const struct snapcow_exception *e, uint64_t n, uint64_t **out,
		      uint64_t *count)
{
	uint64_t *g = NULL, ng = 0, cap = 0;

	for (uint64_t i = 0; i + 1 < n; i++) {
		uint64_t grp = e[i].old_chunk >> 8;

		if (e[i].old_chunk != e[i + 1].old_chunk || (ng && g[ng - 1] == grp))
			continue;
		if (ng == cap) {
			void *p = realloc(g, (cap = cap ? 2 * cap : 64) * sizeof(*g));

			if (!p) {
				free(g);
				return -ENOMEM;
			}
			g = p;
		}
		g[ng++] = grp;
	}
	*out = g;
	*count = ng;
	return 0;
}

static int in_groups(const uint64_t *g, uint64_t ng, uint64_t old_chunk)
{
	uint64_t grp = old_chunk >> 8;

	return ng && bsearch(&grp, g, ng, sizeof(*g), cmp_u64) != NULL;
}

/* The records of groups @g, with their places in the table, sorted by old
 * chunk then place, losers marked. */
static int group_records(struct snapcow_store *s, const uint64_t *g, uint64_t ng,
			 struct snapcow_rec **out, uint64_t *count, uint64_t *losers)
{
	struct snapcow_rec *b = NULL;
	struct snapcow_exception ex;
	struct snapcow_iter *it;
	uint64_t n = 0, cap = 0, seq = 0;
	int r = snapcow_iter_new(s, &it);

	while (r == 0 && (r = snapcow_iter_next(it, &ex)) == 0) {
		if (!in_groups(g, ng, ex.old_chunk)) {
			seq++;
			continue;
		}
		if (n == cap) {
			void *p = realloc(b, (cap = cap ? 2 * cap : 256) * sizeof(*b));

			if (!p) {
				r = -ENOMEM;
				break;
			}
			b = p;
		}
		b[n++] = (struct snapcow_rec){ ex.old_chunk, ex.new_chunk, seq++ };
	}
	snapcow_iter_free(it);
	if (r > 0)
		r = 0;
	if (!r && n) {
		qsort(b, n, sizeof(*b), cmp_rec);
		r = snapcow_resolve_old_twice(b, n, losers);
	}
	if (r < 0) {
		free(b);
		return r;
	}
	*out = b;
	*count = n;
	return 0;
}

/* Sorted @e[0..*n) with the losers of doubled old chunks taken out: the
 * entries of each group holding one are replaced by that group's winners
 * (never more of them than entries). */
static int resolve_dups(struct snapcow_store *s, struct snapcow_exception *e, uint64_t *n,
			uint64_t *duplicates)
{
	struct snapcow_rec *b = NULL;
	uint64_t *g = NULL, ng = 0, nb = 0, i, k = 0, w = 0;
	int r = dup_groups(e, *n, &g, &ng);

	*duplicates = 0;
	if (r < 0 || !ng) {
		free(g);
		return r;
	}
	r = group_records(s, g, ng, &b, &nb, duplicates);
	if (r < 0) {
		free(g);
		return r;
	}
	for (i = 0; i < *n;) {
		uint64_t grp = e[i].old_chunk >> 8;

		if (!in_groups(g, ng, e[i].old_chunk)) {
			e[w++] = e[i++];
			continue;
		}
		while (k < nb && b[k].old_chunk >> 8 < grp)
			k++;
		for (; k < nb && b[k].old_chunk >> 8 == grp; k++)
			if (!(b[k].seq & SNAPCOW_REC_LOSER))
				e[w++] = (struct snapcow_exception){ b[k].old_chunk, b[k].new_chunk };
		while (i < *n && e[i].old_chunk >> 8 == grp)
			i++;
	}
	*n = w;
	free(b);
	free(g);
	return 0;
}

SNAPCOW_EXPORT int snapcow_map_new(struct snapcow_store *s, struct snapcow_map **out)
{
	struct snapcow_exception ex, *e = NULL;
	struct snapcow_iter *it;
	struct snapcow_map *m;
	uint64_t n = 0, cap = 0;
	int r;

	if (!s || !out)
		return -EINVAL;
	r = snapcow_iter_new(s, &it);
	if (r < 0)
		return r;
	/* realloc() of a large block moves pages (mremap) without copying or
	 * touching the room it adds: the RSS is what is filled in */
	while ((r = snapcow_iter_next(it, &ex)) == 0) {
		if (n == cap) {
			uint64_t ncap = cap ? cap * 2 : 1024;
			void *p = realloc(e, ncap * sizeof(*e));
			if (!p) {
				r = -ENOMEM;
				break;
			}
			e = p;
			cap = ncap;
		}
		e[n++] = ex;
	}
	snapcow_iter_free(it);
	m = r < 0 ? NULL : calloc(1, sizeof(*m));
	if (!m) {
		free(e);
		return r < 0 ? r : -ENOMEM;
	}
	sort_pairs(e, n);
	r = resolve_dups(s, e, &n, &m->duplicates);
	if (r < 0) {
		free(e);
		free(m);
		return r;
	}
	if (n) {
		void *p = realloc(e, n * sizeof(*e));
		m->e = p ? p : e;
	} else {
		free(e);
	}
	m->n = n;
	*out = m;
	return 0;
}

static uint64_t lower_bound(const struct snapcow_map *m, uint64_t old_chunk)
{
	uint64_t lo = 0, hi = m->n;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (m->e[mid].old_chunk < old_chunk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

SNAPCOW_EXPORT int snapcow_map_lookup(const struct snapcow_map *m, uint64_t old_chunk,
				      uint64_t *new_chunk)
{
	uint64_t i;

	if (!m)
		return 0;
	i = lower_bound(m, old_chunk);
	if (i < m->n && m->e[i].old_chunk == old_chunk) {
		if (new_chunk)
			*new_chunk = m->e[i].new_chunk;
		return 1;
	}
	return 0;
}

SNAPCOW_EXPORT int snapcow_map_next(const struct snapcow_map *m, uint64_t from,
				    struct snapcow_exception *e)
{
	uint64_t i;

	if (!m || !e)
		return -EINVAL;
	i = lower_bound(m, from);
	if (i >= m->n)
		return 1;
	*e = m->e[i];
	return 0;
}

uint64_t snapcow_map_run(const struct snapcow_map *m, uint64_t chunk, uint64_t *new_chunk,
			 uint64_t *next_old)
{
	uint64_t i = lower_bound(m, chunk), j;

	*next_old = i < m->n ? m->e[i].old_chunk : UINT64_MAX;
	if (i >= m->n || m->e[i].old_chunk != chunk)
		return 0;
	*new_chunk = m->e[i].new_chunk;
	for (j = i + 1; j < m->n; j++)
		if (m->e[j].old_chunk != chunk + (j - i) || m->e[j].new_chunk != *new_chunk + (j - i))
			break;
	return j - i;
}

SNAPCOW_EXPORT uint64_t snapcow_map_count(const struct snapcow_map *m)
{
	return m->n;
}

SNAPCOW_EXPORT uint64_t snapcow_map_duplicates(const struct snapcow_map *m)
{
	return m->duplicates;
}

SNAPCOW_EXPORT void snapcow_map_free(struct snapcow_map *m)
{
	if (!m)
		return;
	free(m->e);
	free(m);
}
