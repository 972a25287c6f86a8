/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lookup map's build (in-place sort, duplicates resolved from a second
 * walk of their groups only) against a reference built the plain way: every
 * record with its place in the table, sorted by old chunk then place, and
 * snapcow_resolve_old_twice() on the whole array.  Random tables of 0 to
 * 200 000 records, old chunks drawn from ranges small enough for many
 * doubles (and groups of 256 with several), sorted, reversed and random
 * orders; the map's pairs must equal the reference's winners one by one,
 * and its duplicate count their losers. */
#include <errno.h>
#include <string.h>
#include "unit.h"
#include "../../src/lib/snapcow-internal.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct snapcow_rec *x = a, *y = b;

	if (x->old_chunk != y->old_chunk)
		return x->old_chunk < y->old_chunk ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* A store of @n records with old chunks from @old_of(i); new chunks the
 * kernel's way.  Returns its fd; the records in @rec. */
static int make_store(uint64_t n, uint64_t range, int order, struct snapcow_rec *rec)
{
	uint64_t per = 256, nf = 2, size = 4096 * (gen_next_free(per, n) + 2 + n / per + 2);
	int fd = memfd_create("map-build", MFD_CLOEXEC);
	struct snapcow_writer *w;

	CHECK(fd >= 0);
	CHECK_EQ(snapcow_writer_new(NULL, fd, "map-build", 8, size, &w), 0);
	for (uint64_t i = 0; i < n; i++) {
		struct snapcow_exception e;

		e.old_chunk = order == 0 ? next_rand() % range :
			      order == 1 ? i / 3 : (n - i) / 2;
		e.new_chunk = nf;
		nf = gen_advance((uint32_t)per, nf);
		CHECK_EQ(snapcow_writer_add(w, &e), 0);
		rec[i] = (struct snapcow_rec){ e.old_chunk, e.new_chunk, i };
	}
	CHECK_EQ(snapcow_writer_finish(w, 1), 0);
	snapcow_writer_free(w);
	return fd;
}

static void one(uint64_t n, uint64_t range, int order)
{
	struct snapcow_rec *rec = malloc((n ? n : 1) * sizeof(*rec));
	struct snapcow_exception e;
	struct snapcow_store *s;
	struct snapcow_map *m;
	uint64_t losers = 0, k = 0, from = 0, got = 0;
	int fd = make_store(n, range, order, rec), bad = 0;

	s = unit_open(fd);
	CHECK_EQ(snapcow_map_new(s, &m), 0);
	qsort(rec, n, sizeof(*rec), cmp_ref);
	CHECK_EQ(snapcow_resolve_old_twice(rec, n, &losers), 0);
	CHECK_EQ(snapcow_map_duplicates(m), losers);
	while (snapcow_map_next(m, from, &e) == 0) {
		while (k < n && (rec[k].seq & SNAPCOW_REC_LOSER))
			k++;
		if (k >= n || rec[k].old_chunk != e.old_chunk || rec[k].new_chunk != e.new_chunk) {
			bad++;
			break;
		}
		k++;
		got++;
		from = e.old_chunk + 1;
	}
	CHECK_EQ(got, n - losers);
	CHECK_EQ(snapcow_map_count(m), n - losers);
	if (bad)
		fprintf(stderr, "n %" PRIu64 " range %" PRIu64 " order %d: map differs at %" PRIu64
			"\n", n, range, order, got);
	CHECK(!bad);
	snapcow_map_free(m);
	snapcow_store_free(s);
	close(fd);
	free(rec);
}

int main(void)
{
	static const uint64_t sizes[] = { 0, 1, 2, 17, 255, 256, 257, 5000, 65536, 200000 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t n = sizes[i];

		one(n, n * 4 + 1, 0);     /* a few doubles */
		one(n, n / 4 + 1, 0);     /* many, in many groups */
		one(n, n > 65536 ? 3000 : 300, 0); /* a handful of groups, crowded */
		one(n, n + 1, 1);         /* ascending runs of three */
		one(n, n + 1, 2);         /* descending pairs */
	}
	return unit_done("map_build");
}
