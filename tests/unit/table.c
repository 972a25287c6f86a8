/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Iterator end conditions and the scan's figures against the kernel's
 * formulas (dm-snap-persistent.c: next_free, persistent_usage, the
 * (next_free + 1) * chunk_size > size test). */
#include <errno.h>
#include "unit.h"

static void scan_case(uint32_t cs, uint64_t n, uint64_t size)
{
	struct gen_opts o = { .chunk_sectors = cs, .exceptions = n, .valid = 1, .size = size,
			      .order = GEN_SHUFFLE, .seed = n + 1 };
	uint32_t per = cs * 512 / 16;
	int fd = unit_store(&o);
	struct snapcow_store *s = unit_open(fd);
	struct snapcow_stats st;
	uint64_t nf = gen_next_free(per, n), areas = n / per + 1;
	uint64_t bytes = size ? size : gen_default_size(&o);

	CHECK_EQ(snapcow_store_scan(s, &st), 0);
	CHECK_EQ(st.exceptions, n);
	CHECK_EQ(st.areas, areas);
	CHECK_EQ(st.next_free, nf);
	CHECK_EQ(st.total_sectors, bytes / 512);
	CHECK_EQ(st.allocated_sectors, nf * cs);
	CHECK_EQ(st.metadata_sectors, (areas + 1) * cs);
	CHECK_EQ(st.full, bytes / 512 < (nf + 1) * cs);
	CHECK_EQ(st.last_area_full, n && n % per == 0);
	snapcow_store_free(s);
	close(fd);
}

int main(void)
{
	struct gen_opts o = { .chunk_sectors = 8, .exceptions = 256, .valid = 1 };
	struct snapcow_exception e;
	struct snapcow_iter *it;
	struct snapcow_store *s;
	struct snapcow_stats st;
	uint64_t n;
	int fd, r;

	scan_case(8, 0, 0);
	scan_case(8, 1, 0);
	scan_case(8, 255, 0);
	scan_case(8, 256, 0);
	scan_case(8, 257, 0);
	scan_case(8, 1300, 0);
	scan_case(1, 100, 0);   /* 32 records per area */
	scan_case(16, 1024, 0);
	scan_case(8, 14, 65536); /* exactly full */
	scan_case(8, 13, 65536); /* room for one */
	scan_case(8, 0, 8192);   /* header + area only: full */

	/* A full area followed by a zeroed one: the walk reads area 1 and
	 * stops at its first record. */
	fd = unit_store(&o);
	s = unit_open(fd);
	CHECK_EQ(snapcow_iter_new(s, &it), 0);
	for (n = 0; (r = snapcow_iter_next(it, &e)) == 0; n++)
		CHECK_EQ(e.new_chunk, n + 2);
	CHECK_EQ(r, 1);
	CHECK_EQ(n, 256);
	CHECK_EQ(snapcow_iter_area(it), 1);
	CHECK_EQ(snapcow_iter_index(it), 0);
	CHECK_EQ(snapcow_iter_offset(it), 258 * 4096);
	CHECK_EQ(snapcow_iter_next(it, &e), 1); /* stays at the end */
	snapcow_iter_free(it);
	snapcow_store_free(s);

	/* Truncate before area 1: no terminator. */
	CHECK_EQ(ftruncate(fd, 258 * 4096), 0);
	s = unit_open(fd);
	CHECK_EQ(snapcow_iter_new(s, &it), 0);
	for (n = 0; (r = snapcow_iter_next(it, &e)) == 0; n++)
		;
	CHECK_EQ(n, 256);
	CHECK_EQ(r, SNAPCOW_ERR_TABLE);
	snapcow_iter_free(it);
	CHECK_EQ(snapcow_store_scan(s, &st), SNAPCOW_ERR_TABLE);
	snapcow_store_free(s);
	close(fd);

	/* new_chunk 0 in the middle ends the table; a zero old_chunk does not. */
	o.exceptions = 20;
	fd = unit_store(&o);
	unit_pwrite64(fd, unit_rec(4096, 0, 3), 0);       /* old chunk 0 is fine */
	unit_pwrite64(fd, unit_rec(4096, 0, 7) + 8, 0);   /* new chunk 0: end */
	s = unit_open(fd);
	CHECK_EQ(snapcow_store_scan(s, &st), 0);
	CHECK_EQ(st.exceptions, 7);
	CHECK_EQ(st.next_free, 9);
	snapcow_store_free(s);

	/* Out of order new chunks: next_free is max + 1, skipping an area. */
	unit_pwrite64(fd, unit_rec(4096, 0, 7) + 8, 257); /* max: next is area 1 */
	s = unit_open(fd);
	CHECK_EQ(snapcow_store_scan(s, &st), 0);
	CHECK_EQ(st.exceptions, 20);
	CHECK_EQ(st.next_free, 259);
	snapcow_store_free(s);
	close(fd);

	/* Uncommitted data: counted from next_free, metadata chunks skipped. */
	o.exceptions = 10;
	o.uncommitted = 5;
	o.data = 1;
	fd = unit_store(&o);
	s = unit_open(fd);
	{
		struct snapcow_uncommitted u;
		CHECK_EQ(snapcow_store_scan_uncommitted(s, 12, NULL, NULL, &u), 0);
		CHECK_EQ(u.chunks, 5);
		CHECK_EQ(u.first, 12);
		CHECK_EQ(u.last, 16);
		CHECK_EQ(u.reaches_end, 0); /* one free chunk left at 17 */
		CHECK_EQ(snapcow_store_scan_uncommitted(s, 14, NULL, NULL, &u), 0);
		CHECK_EQ(u.chunks, 3);
		CHECK_EQ(snapcow_store_scan_uncommitted(s, 1000, NULL, NULL, &u), 0);
		CHECK_EQ(u.chunks, 0);
	}
	snapcow_store_free(s);
	close(fd);

	/* Bad arguments are refused before anything is dereferenced (the
	 * store pointer was used before its NULL check). */
	{
		struct snapcow_uncommitted u;

		CHECK_EQ(snapcow_store_scan_uncommitted(NULL, 2, NULL, NULL, &u), -EINVAL);
		CHECK_EQ(snapcow_store_scan(NULL, &st), -EINVAL);
	}
	return unit_done("table");
}
