/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The table check's old-chunk set (check.c: blocks that start small and
 * grow, a directory that grows, the spill list) against a brute force
 * count: every record whose old chunk an earlier record mapped is one
 * "old-chunk-twice" error, whatever the order, spread and origin size. */
#include <endian.h>
#include <string.h>
#include "unit.h"

struct count {
	uint64_t twice, past;
};

static void on_problem(void *data, const struct snapcow_problem *p)
{
	struct count *c = data;

	c->twice += !strcmp(p->code, "old-chunk-twice");
	c->past += !strcmp(p->code, "old-chunk-past-origin");
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int cmp64(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* @n records with old chunks below @spread (0: ascending; a few at 2^40 and up), one in
 * @dup_every a copy of an earlier one; checked with @origin_chunks (0:
 * unknown). */
static void one(uint64_t n, uint64_t spread, uint64_t dup_every, uint64_t origin_chunks,
		uint64_t seed)
{
	struct snapcow_check_options opt = { .origin_bytes = origin_chunks * 4096 };
	struct snapcow_table_check *tc;
	struct snapcow_check_result res;
	struct snapcow_geometry g;
	struct count got = { 0, 0 };
	uint64_t *old = calloc(n, sizeof(*old)), *rec = calloc(2 * 256, sizeof(*rec));
	uint64_t i, want = 0, past = 0, x = seed, per = 256, area = 0;

	CHECK(old && rec);
	for (i = 0; i < n; i++) {
		if (i && rnd(&x) % dup_every == 0)
			old[i] = old[rnd(&x) % i];
		else if (rnd(&x) % 97 == 0)
			old[i] = ((uint64_t)1 << 40) + rnd(&x) % 1000;
		else if (!spread) /* ascending, as a copy writes: blocks grow late */
			old[i] = i * 97 + rnd(&x) % 50;
		else
			old[i] = rnd(&x) % spread;
	}
	CHECK_EQ(snapcow_geometry_init(&g, 8, (n / per + 2 + n) * 4096 * 2), 0);
	CHECK_EQ(snapcow_table_check_new(NULL, &g, &opt, on_problem, &got, &tc), 0);
	for (i = 0; i < n; i += per, area++) {
		uint64_t k, m = n - i < per ? n - i : per;

		for (k = 0; k < m; k++) {
			rec[2 * k] = htole64(old[i + k]);
			rec[2 * k + 1] = htole64(2 + area * (per + 1) + 1 + k);
		}
		CHECK_EQ(snapcow_table_check_area(tc, area, rec, (uint32_t)m), 0);
	}
	CHECK_EQ(snapcow_table_check_finish(tc, 1, &res), 0);
	snapcow_table_check_free(tc);
	for (i = 0; i < n; i++)
		if (origin_chunks && old[i] >= origin_chunks) {
			past++;
			old[i] = UINT64_MAX; /* never counted as twice */
		}
	qsort(old, n, sizeof(*old), cmp64);
	for (i = 1; i < n; i++)
		want += old[i] == old[i - 1] && old[i] != UINT64_MAX;
	CHECK_EQ(got.twice, want);
	CHECK_EQ(got.past, past);
	free(old);
	free(rec);
}

int main(void)
{
	one(0, 1, 2, 0, 1);
	one(100, 10, 3, 0, 2);                       /* dense, many twice */
	one(5000, 1 << 20, 50, 0, 3);               /* block 0 grows to 128 KiB */
	one(5000, (uint64_t)1 << 27, 40, 0, 4);     /* 8 blocks, full size */
	one(5000, (uint64_t)1 << 27, 40, 3 << 24, 5); /* a known origin cuts them */
	one(20000, (uint64_t)1 << 33, 20, 0, 6);    /* past the 64 MiB budget: spilled */
	one(3000, 5000, 30, 4000, 7);               /* small origin, records past it */
	one(200000, 0, 100, 0, 8);                  /* grown area after area, into block 1 */
	return unit_done("check_oldset");
}
