/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lookup map (duplicates: the record the kernel's lookup finds wins) and
 * the snapshot view:
 * extents and pread across chunk boundaries and a partial last chunk,
 * checked word by word against the stamped patterns. */
#include <errno.h>
#include <string.h>
#include "unit.h"

/* Expected view word at byte @off: stride-3 old chunks 0,3,6,... are
 * remapped (n of them), the rest from the origin pattern or zero. */
static uint64_t want_word(uint64_t off, uint64_t n, int zero_origin)
{
	uint64_t chunk = off / 4096;

	if (chunk % 3 == 0 && chunk / 3 < n)
		return gen_cow_word(chunk, off % 4096);
	return zero_origin ? 0 : gen_origin_word(off);
}

static void verify(struct snapcow_view *v, uint64_t off, size_t len, uint64_t n, int zo)
{
	unsigned char *buf = malloc(len);
	uint64_t i, size = snapcow_view_size(v);
	ssize_t got;
	size_t want = off >= size ? 0 : (size - off < len ? (size_t)(size - off) : len);

	got = snapcow_view_pread(v, buf, len, off);
	CHECK_EQ(got, want);
	for (i = 0; got > 0 && i < (uint64_t)got; i += 8) {
		uint64_t w = 0, e = htole64(want_word((off + i) & ~7ULL, n, zo));
		size_t k = (size_t)((off + i) % 8), m = (size_t)got - i < 8 ? (size_t)got - i : 8;
		/* reads here are 8-byte aligned */
		CHECK_EQ(k, 0);
		memcpy(&w, buf + i, m);
		if (m < 8)
			e &= (1ULL << (8 * m)) - 1;
		if (w != e) {
			fprintf(stderr, "view word at %" PRIu64 ": %016" PRIx64 " != %016" PRIx64 "\n",
				off + i, w, e);
			unit_failures++;
			break;
		}
	}
	free(buf);
}

/*
 * The tables of tests/vm/scenarios/repair-kernel's duplicate probe, in which
 * the kernel (6.1) found: old 300 -> new 2 (a plain duplicate: the earlier
 * record), 801 -> 6 (the later record extends the run 800..801), 1301 -> 9
 * (the earlier record is part of a run), 2301 -> 10 (the later one joins a
 * run started below it) and 3000 -> 11.  The scenario compares the kernel
 * with snap_extract on the same table in the same run; this keeps the rule.
 */
static void kernel_duplicates(void)
{
	static const uint64_t rec[][2] = {
		{ 300, 2 }, { 300, 3 },
		{ 800, 5 }, { 801, 7 }, { 801, 6 },
		{ 1300, 8 }, { 1301, 9 }, { 1301, 4 },
		{ 2301, 5 }, { 2300, 9 }, { 2301, 10 },
		{ 3000, 11 }, { 3001, 12 }, { 3000, 13 },
	};
	static const uint64_t want[][2] = {
		{ 300, 2 }, { 800, 5 }, { 801, 6 }, { 1300, 8 }, { 1301, 9 },
		{ 2300, 9 }, { 2301, 10 }, { 3000, 11 }, { 3001, 12 },
	};
	struct gen_opts o = { .chunk_sectors = 8, .exceptions = 14, .valid = 1 };
	struct snapcow_store *s;
	struct snapcow_map *m;
	uint64_t nc;
	size_t i;
	int fd = unit_store(&o);

	for (i = 0; i < sizeof(rec) / sizeof(rec[0]); i++) {
		unit_pwrite64(fd, unit_rec(4096, 0, i), rec[i][0]);
		unit_pwrite64(fd, unit_rec(4096, 0, i) + 8, rec[i][1]);
	}
	s = unit_open(fd);
	CHECK_EQ(snapcow_map_new(s, &m), 0);
	CHECK_EQ(snapcow_map_duplicates(m), 5);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		nc = 0;
		CHECK_EQ(snapcow_map_lookup(m, want[i][0], &nc), 1);
		CHECK_EQ(nc, want[i][1]);
	}
	snapcow_map_free(m);
	snapcow_store_free(s);
	close(fd);
}

int main(void)
{
	struct gen_opts o = { .chunk_sectors = 8, .exceptions = 300, .valid = 1, .data = 1,
			      .old_stride = 3, .order = GEN_SHUFFLE, .seed = 5 };
	uint64_t osize = 1000 * 4096 + 1000; /* partial last chunk */
	struct snapcow_exception e;
	struct snapcow_extent ext;
	struct snapcow_store *s;
	struct snapcow_map *m;
	struct snapcow_view *v;
	uint64_t nc, i;
	int fd, ofd;
	unsigned char *obuf;

	fd = unit_store(&o);
	s = unit_open(fd);
	CHECK_EQ(snapcow_map_new(s, &m), 0);
	CHECK_EQ(snapcow_map_count(m), 300);
	CHECK_EQ(snapcow_map_duplicates(m), 0);
	CHECK_EQ(snapcow_map_lookup(m, 3, &nc), 1);
	CHECK(!snapcow_chunk_is_metadata(256, nc));
	CHECK_EQ(snapcow_map_lookup(m, 4, &nc), 0);
	CHECK_EQ(snapcow_map_lookup(m, 900, &nc), 0);
	/* the header's iterator rule: 0 with an item, 1 at the end */
	CHECK_EQ(snapcow_map_next(m, 4, &e), 0);
	CHECK_EQ(e.old_chunk, 6);
	CHECK_EQ(snapcow_map_next(m, 898, &e), 1);

	/* origin image with its own pattern */
	ofd = memfd_create("origin", MFD_CLOEXEC);
	obuf = malloc(osize + 8);
	for (i = 0; i < osize; i += 8) {
		uint64_t w = htole64(gen_origin_word(i));
		memcpy(obuf + i, &w, 8);
	}
	CHECK_EQ(pwrite(ofd, obuf, osize, 0), (ssize_t)osize);
	free(obuf);

	CHECK_EQ(snapcow_view_new(s, m, ofd, osize, &v), 0);
	CHECK_EQ(snapcow_view_extent(v, 0, &ext), 0);
	CHECK_EQ(ext.source, SNAPCOW_SRC_COW);
	CHECK_EQ(ext.length, 4096);
	CHECK_EQ(snapcow_view_extent(v, 4096 + 100, &ext), 0);
	CHECK_EQ(ext.source, SNAPCOW_SRC_ORIGIN);
	CHECK_EQ(ext.length, 2 * 4096 - 100);
	CHECK_EQ(ext.source_offset, 4096 + 100);
	CHECK_EQ(snapcow_view_extent(v, 900 * 4096, &ext), 0); /* past the last remap */
	CHECK_EQ(ext.length, osize - 900 * 4096);
	CHECK_EQ(snapcow_view_extent(v, osize, &ext), 1);
	verify(v, 0, (size_t)osize, 300, 0);         /* all of it */
	verify(v, 4096 - 8, 16, 300, 0);             /* across a boundary */
	verify(v, 3 * 4096 - 64, 4096 + 128, 300, 0);
	verify(v, osize - 1000 - 8, 4096, 300, 0);   /* short at the end */
	verify(v, osize + 8, 64, 300, 0);            /* past the end: 0 bytes */
	snapcow_view_free(v);

	/* zero origin (--virtualsize) */
	CHECK_EQ(snapcow_map_new(s, &m), 0);
	CHECK_EQ(snapcow_view_new(s, m, -1, osize, &v), 0);
	CHECK_EQ(snapcow_view_extent(v, 4096, &ext), 0);
	CHECK_EQ(ext.source, SNAPCOW_SRC_ZERO);
	verify(v, 0, (size_t)osize, 300, 1);
	snapcow_view_free(v);
	snapcow_store_free(s);

	/* duplicates: old chunk 3 also in the last record (area 1 index 43,
	 * new chunk 302): the kernel's lookup finds the earlier record */
	s = unit_open(fd);
	CHECK_EQ(snapcow_map_new(s, &m), 0);
	CHECK_EQ(snapcow_map_lookup(m, 3, &i), 1);
	snapcow_map_free(m);
	snapcow_store_free(s);
	unit_pwrite64(fd, unit_rec(4096, 1, 43), 3);
	s = unit_open(fd);
	CHECK_EQ(snapcow_map_new(s, &m), 0);
	CHECK_EQ(snapcow_map_count(m), 299);
	CHECK_EQ(snapcow_map_duplicates(m), 1);
	CHECK_EQ(snapcow_map_lookup(m, 3, &nc), 1);
	CHECK_EQ(nc, i);
	snapcow_map_free(m);
	snapcow_store_free(s);
	kernel_duplicates();

	/* Corrupt huge chunks (found by libFuzzer): an old chunk whose byte
	 * offset wraps to 0 made view_pread loop forever; a new chunk whose
	 * offset wraps must fail the read, not read another place. */
	close(fd);
	o.exceptions = 1;
	fd = unit_store(&o);
	unit_pwrite64(fd, unit_rec(4096, 0, 0), 1ULL << 52);      /* old: 2^52 * 4096 = 2^64 */
	s = unit_open(fd);
	CHECK_EQ(snapcow_map_new(s, &m), 0);
	CHECK_EQ(snapcow_view_new(s, m, -1, 8192, &v), 0);
	CHECK_EQ(snapcow_view_extent(v, 0, &ext), 0);
	CHECK_EQ(ext.length, 8192);
	{
		unsigned char b[8192];
		CHECK_EQ(snapcow_view_pread(v, b, sizeof(b), 0), 8192);
	}
	snapcow_view_free(v);
	snapcow_store_free(s);
	unit_pwrite64(fd, unit_rec(4096, 0, 0), 0);
	unit_pwrite64(fd, unit_rec(4096, 0, 0) + 8, (1ULL << 52) + 2); /* new: wraps to 8192 */
	s = unit_open(fd);
	CHECK_EQ(snapcow_map_new(s, &m), 0);
	CHECK_EQ(snapcow_view_new(s, m, -1, 8192, &v), 0);
	{
		unsigned char b[4096];
		CHECK(snapcow_view_pread(v, b, sizeof(b), 0) < 0);
	}
	snapcow_view_free(v);
	snapcow_store_free(s);
	close(fd);
	close(ofd);
	return unit_done("map_view");
}
