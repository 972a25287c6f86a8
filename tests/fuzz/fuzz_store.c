/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target, the store's hot path: any bytes as a store with chunks of
 * at most 8 KiB, over an origin of VIEW_CHUNKS chunks (a pattern made
 * once).  Opens it (from a memfd), checks it, builds the map and the view
 * and then cross-checks what the library says (a disagreement abort()s):
 *  - for every chunk of the view: snapcow_map_lookup() and
 *    snapcow_view_extent() name the same source, and snapcow_view_pread()
 *    returns that source's bytes: the store's chunk, or the origin's; a
 *    chunk the store does not hold is a read error, never other bytes;
 *  - the table walk (snapcow_iter) against the map: every record's old
 *    chunk is mapped, to its own new chunk when it is the only record of
 *    that old chunk, to one of its records' otherwise; records = map count
 *    + duplicates;
 *  - snapcow_store_check() never calls a store clean (0 errors, table
 *    complete) whose map has duplicates or disagrees with the walk.
 * fuzz_store_whole is the slow target: any chunk size, a 1 MiB view.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "snapcow.h"

#define MAX_CHUNK 8192U
#define VIEW_CHUNKS 48U
#define ORIGIN_BYTES (VIEW_CHUNKS * MAX_CHUNK)

static unsigned char *origin;
static int origin_fd = -1;

static void ignore_problem(void *d, const struct snapcow_problem *p)
{
	(void)d;
	(void)p;
}

static void make_origin(void)
{
	uint32_t i;

	origin = malloc(ORIGIN_BYTES);
	if (!origin)
		abort();
	for (i = 0; i < ORIGIN_BYTES; i++) /* differs in every sector */
		origin[i] = (unsigned char)((i >> 9) * 37 + (i & 511) + 1);
	origin_fd = fuzz_memfd(origin, ORIGIN_BYTES);
	if (origin_fd < 0)
		abort();
}

struct rec {
	uint64_t old_chunk, new_chunk;
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->old_chunk < y->old_chunk ? -1 : x->old_chunk > y->old_chunk;
}

/* The table walk against the map; returns the number of records, or -1
 * when the walk fails (so the map could not be built either). */
static int64_t check_walk(struct snapcow_store *s, const struct snapcow_map *m)
{
	struct snapcow_iter *it;
	struct snapcow_exception e;
	struct rec *r = NULL;
	size_t n = 0, cap = 0, i, j;
	uint64_t got;
	int rc;

	if (snapcow_iter_new(s, &it) < 0)
		return -1;
	while ((rc = snapcow_iter_next(it, &e)) == 0) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			r = realloc(r, cap * sizeof(*r));
			if (!r)
				abort();
		}
		r[n].old_chunk = e.old_chunk;
		r[n++].new_chunk = e.new_chunk;
	}
	snapcow_iter_free(it);
	FUZZ_CHECK(rc == 1, "the map was built but the table walk failed (%d)", rc);
	if (n)
		qsort(r, n, sizeof(*r), rec_cmp);
	for (i = 0; i < n; i = j) {
		int found = 0;

		FUZZ_CHECK(snapcow_map_lookup(m, r[i].old_chunk, &got) == 1,
			   "old chunk %llu is in the table but not in the map",
			   (unsigned long long)r[i].old_chunk);
		for (j = i; j < n && r[j].old_chunk == r[i].old_chunk; j++)
			found |= r[j].new_chunk == got;
		FUZZ_CHECK(found, "old chunk %llu: the map says chunk %llu, no record says so",
			   (unsigned long long)r[i].old_chunk, (unsigned long long)got);
	}
	free(r);
	return (int64_t)n;
}

/* Every chunk of the view: map, extent and bytes agree. */
static void check_view(struct snapcow_view *v, const struct snapcow_map *m, uint32_t cb,
		       const uint8_t *data, size_t size)
{
	static unsigned char buf[MAX_CHUNK];
	struct snapcow_extent ext;
	uint64_t c, nc;
	ssize_t got;

	for (c = 0; c < VIEW_CHUNKS; c++) {
		int mapped = snapcow_map_lookup(m, c, &nc) == 1;

		FUZZ_CHECK(snapcow_view_extent(v, c * cb, &ext) == 0, "no extent at chunk %llu",
			   (unsigned long long)c);
		FUZZ_CHECK(ext.offset == c * cb && ext.length >= cb, "extent of chunk %llu: %llu+%llu",
			   (unsigned long long)c, (unsigned long long)ext.offset,
			   (unsigned long long)ext.length);
		if (mapped)
			/* an offset past 2^64 is UINT64_MAX (view.c): a read error */
			FUZZ_CHECK(ext.source == SNAPCOW_SRC_COW &&
				   ext.source_offset == (nc > (UINT64_MAX - cb) / cb ? UINT64_MAX : nc * cb),
				   "chunk %llu: map says store chunk %llu, extent says source %d at %llu",
				   (unsigned long long)c, (unsigned long long)nc, ext.source,
				   (unsigned long long)ext.source_offset);
		else
			FUZZ_CHECK(ext.source == SNAPCOW_SRC_ORIGIN && ext.source_offset == c * cb,
				   "chunk %llu: not in the map, extent says source %d at %llu",
				   (unsigned long long)c, ext.source,
				   (unsigned long long)ext.source_offset);
		got = snapcow_view_pread(v, buf, cb, c * cb);
		if (!mapped) {
			FUZZ_CHECK(got == (ssize_t)cb && !memcmp(buf, origin + c * cb, cb),
				   "chunk %llu: not remapped, the view's bytes are not the origin's",
				   (unsigned long long)c);
		} else if (nc < size / cb) {
			FUZZ_CHECK(got == (ssize_t)cb && !memcmp(buf, data + nc * cb, cb),
				   "chunk %llu: the view's bytes are not store chunk %llu's",
				   (unsigned long long)c, (unsigned long long)nc);
		} else {
			FUZZ_CHECK(got < 0, "chunk %llu: store chunk %llu is past the store's end, "
				   "the view read %zd bytes", (unsigned long long)c,
				   (unsigned long long)nc, got);
		}
	}
	/* reads that cross chunks and the view's end */
	snapcow_view_pread(v, buf, sizeof(buf), cb / 2 + 3);
	snapcow_view_pread(v, buf, sizeof(buf), (uint64_t)VIEW_CHUNKS * cb - 100);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapcow_check_options opt = { 0 };
	struct snapcow_check_result res;
	struct snapcow_store *s;
	struct snapcow_map *m;
	struct snapcow_view *v;
	uint32_t cb;
	int64_t n;
	int fd;

	if (!origin)
		make_origin();
	/* 16 bytes of header give the chunk size: refuse big ones before
	 * the memfd is made (fuzz_store_whole takes them) */
	if (size >= 16) {
		uint32_t cs = (uint32_t)data[12] | (uint32_t)data[13] << 8 |
			      (uint32_t)data[14] << 16 | (uint32_t)data[15] << 24;

		if (cs > MAX_CHUNK / 512)
			return 0;
	}
	fd = fuzz_memfd(data, size);
	if (fd < 0)
		return 0;
	if (snapcow_store_open_fd(tool_ctx(), fd, "fuzz", 0, &s) < 0)
		goto out;
	cb = snapcow_store_chunk_bytes(s);
	if (cb > MAX_CHUNK)
		goto free;
	opt.origin_bytes = (uint64_t)VIEW_CHUNKS * cb;
	if (snapcow_store_check(s, &opt, ignore_problem, NULL, &res) < 0)
		res.errors = 1;
	if (snapcow_map_new(s, &m) < 0) {
		FUZZ_CHECK(res.errors || !res.table_complete,
			   "the check found a clean store whose map cannot be built");
		goto free;
	}
	n = check_walk(s, m);
	FUZZ_CHECK(n >= 0 && (uint64_t)n == snapcow_map_count(m) + snapcow_map_duplicates(m),
		   "%lld records, map: %llu chunks + %llu duplicates", (long long)n,
		   (unsigned long long)snapcow_map_count(m),
		   (unsigned long long)snapcow_map_duplicates(m));
	FUZZ_CHECK(res.errors || !res.table_complete || snapcow_map_duplicates(m) == 0,
		   "the check found a clean store whose table maps an old chunk twice");
	if (snapcow_view_new(s, m, origin_fd, opt.origin_bytes, &v) < 0) {
		snapcow_map_free(m);
		goto free;
	}
	check_view(v, m, cb, data, size);
	snapcow_view_free(v);
free:
	snapcow_store_free(s);
out:
	fuzz_memfd_close(fd);
	return 0;
}

#include "replay.h"
