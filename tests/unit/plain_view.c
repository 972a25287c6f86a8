/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A plain view (no store) over pieces, as a thin volume is built: data
 * pieces out of order on one file, zero pieces between them; extents
 * follow the pieces, reads give the pieces' bytes, and the checks hold. */
#include <errno.h>
#include <string.h>

#include "unit.h"

int main(void)
{
	int fd = memfd_create("data", MFD_CLOEXEC);
	/* volume: [data 8K..12K) [zeros 4K] [data 0..4K) [zeros 2K] */
	struct snapcow_dev_piece p[4] = {
		{ 4096, fd, 8192 }, { 4096, -1, 0 }, { 4096, fd, 0 }, { 2048, -1, 0 },
	};
	unsigned char block[4096], got[14336], want[14336];
	struct snapcow_extent e;
	struct snapcow_view *v;
	struct snapcow_dev *d;

	for (int i = 0; i < 3; i++) {
		memset(block, 'a' + i, sizeof(block));
		if (pwrite(fd, block, sizeof(block), i * 4096) != (ssize_t)sizeof(block))
			return 1;
	}
	CHECK_EQ(snapcow_dev_new_pieces("thin", p, 4, &d), 0);
	CHECK_EQ(snapcow_view_new_plain(NULL, d, snapcow_dev_size(d) + 1, &v), -EINVAL);
	CHECK_EQ(snapcow_view_new_plain(NULL, d, 14336, &v), 0);
	CHECK(snapcow_view_map(v) == NULL);
	CHECK(snapcow_view_origin(v) == d);
	CHECK_EQ(snapcow_view_extent(v, 0, &e), 0);
	CHECK_EQ(e.source, SNAPCOW_SRC_ORIGIN);
	CHECK_EQ(e.length, 4096);
	CHECK_EQ(snapcow_view_extent(v, 5000, &e), 0);
	CHECK_EQ(e.source, SNAPCOW_SRC_ZERO);
	CHECK_EQ(e.offset, 5000);
	CHECK_EQ(e.length, 8192 - 5000);
	CHECK_EQ(snapcow_view_extent(v, 12288, &e), 0);
	CHECK_EQ(e.source, SNAPCOW_SRC_ZERO);
	CHECK_EQ(e.length, 2048);
	CHECK_EQ(snapcow_view_extent(v, 14336, &e), 1);
	memset(want, 'c', 4096);
	memset(want + 4096, 0, 4096);
	memset(want + 8192, 'a', 4096);
	memset(want + 12288, 0, 2048);
	CHECK_EQ(snapcow_view_pread(v, got, sizeof(got), 0), sizeof(got));
	CHECK(!memcmp(got, want, sizeof(got)));
	CHECK_EQ(snapcow_view_pread(v, got, 100, 14300), 36); /* short at the end */
	snapcow_view_free(v);
	/* a shorter view of the same pieces ends inside one */
	CHECK_EQ(snapcow_view_new_plain(NULL, d, 6000, &v), 0);
	CHECK_EQ(snapcow_view_extent(v, 4096, &e), 0);
	CHECK_EQ(e.length, 6000 - 4096);
	snapcow_view_free(v);
	snapcow_dev_free(d);
	close(fd);
	return unit_done("plain_view");
}
