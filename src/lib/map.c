/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapcow-internal.h"

/*
 * A sorted array of (old, new) pairs: 16 bytes per exception once built.
 * While building, each entry also carries its position in the table (24
 * bytes) so that, of two records with the same old_chunk, the one the
 * kernel's lookup finds wins (snapcow_resolve_old_twice(), rules.c); the
 * array is then compacted in place.
 */

struct snapcow_map {
	struct snapcow_exception *e;
	uint64_t n;
	uint64_t duplicates;
};

static int cmp_build(const void *a, const void *b)
{
	const struct snapcow_rec *x = a, *y = b;

	if (x->old_chunk != y->old_chunk)
		return x->old_chunk < y->old_chunk ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

SNAPCOW_EXPORT int snapcow_map_new(struct snapcow_store *s, struct snapcow_map **out)
{
	struct snapcow_rec *b = NULL;
	struct snapcow_exception ex, *e;
	struct snapcow_iter *it;
	struct snapcow_map *m;
	uint64_t n = 0, cap = 0, i, w;
	int r;

	if (!s || !out)
		return -EINVAL;
	r = snapcow_iter_new(s, &it);
	if (r < 0)
		return r;
	while ((r = snapcow_iter_next(it, &ex)) == 0) {
		if (n == cap) {
			uint64_t ncap = cap ? cap * 2 : 1024;
			void *p = realloc(b, ncap * sizeof(*b));
			if (!p) {
				r = -ENOMEM;
				break;
			}
			b = p;
			cap = ncap;
		}
		b[n].old_chunk = ex.old_chunk;
		b[n].new_chunk = ex.new_chunk;
		b[n].seq = n;
		n++;
	}
	snapcow_iter_free(it);
	if (r < 0) {
		free(b);
		return r;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		free(b);
		return -ENOMEM;
	}
	if (n)
		qsort(b, n, sizeof(*b), cmp_build);
	r = snapcow_resolve_old_twice(b, n, &m->duplicates);
	if (r < 0) {
		free(b);
		free(m);
		return r;
	}
	/* Compact in place: the 16-byte output never overtakes the 24-byte input. */
	e = (struct snapcow_exception *)b;
	for (i = 0, w = 0; i < n; i++) {
		if (b[i].seq & SNAPCOW_REC_LOSER)
			continue;
		ex.old_chunk = b[i].old_chunk;
		ex.new_chunk = b[i].new_chunk;
		e[w++] = ex;
	}
	if (w) {
		void *p = realloc(e, w * sizeof(*e));
		m->e = p ? p : e;
	} else {
		free(b);
	}
	m->n = w;
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
