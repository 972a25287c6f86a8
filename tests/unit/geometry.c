/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Geometry and chunk size rules. */
#include "unit.h"

int main(void)
{
	uint64_t c;

	/* 4 KiB chunks: 256 records per area; areas at 1, 258, 515, ... */
	CHECK_EQ(snapcow_area_chunk(256, 0), 1);
	CHECK_EQ(snapcow_area_chunk(256, 1), 258);
	CHECK_EQ(snapcow_area_chunk(256, 4), 1029);
	CHECK_EQ(snapcow_area_chunk(32768, 2), 65539);
	for (c = 0; c < 2000; c++)
		CHECK_EQ(snapcow_chunk_is_metadata(256, c), c == 0 || (c >= 1 && (c - 1) % 257 == 0));
	/* the allocator never hands out a metadata chunk */
	for (c = 2; c < 5000; c = gen_advance(256, c))
		CHECK(!snapcow_chunk_is_metadata(256, c));
	CHECK_EQ(gen_next_free(256, 0), 2);
	CHECK_EQ(gen_next_free(256, 255), 257);
	CHECK_EQ(gen_next_free(256, 256), 259); /* 258 is area 1 */

	/* kernel rules */
	CHECK(snapcow_chunk_kernel_problem(0) != NULL);
	CHECK(snapcow_chunk_kernel_problem(3) != NULL);
	CHECK(snapcow_chunk_kernel_problem(1) == NULL);
	CHECK(snapcow_chunk_kernel_problem(8) == NULL);
	CHECK(snapcow_chunk_kernel_problem(1U << 21) == NULL);      /* 1 GiB: 2^21 < INT_MAX >> 9 */
	CHECK(snapcow_chunk_kernel_problem(1U << 22) != NULL);      /* 2^22 > 4194303 */
	CHECK(snapcow_chunk_kernel_problem(1ULL << 31) != NULL);
	CHECK(snapcow_chunk_kernel_problem(1ULL << 40) != NULL);
	/* LVM rules */
	CHECK(snapcow_chunk_lvm_problem(4) != NULL);
	CHECK(snapcow_chunk_lvm_problem(8) == NULL);
	CHECK(snapcow_chunk_lvm_problem(1024) == NULL);
	CHECK(snapcow_chunk_lvm_problem(2048) != NULL);
	CHECK(snapcow_chunk_lvm_problem(24) != NULL);
	CHECK(snapcow_chunk_lvm_problem(0) != NULL);
	/* error strings */
	CHECK(snapcow_strerror(SNAPCOW_ERR_MAGIC) != NULL);
	CHECK(snapcow_strerror(-ENOENT) != NULL);
	CHECK(snapcow_strerror(12345) != NULL);
	return unit_done("geometry");
}
