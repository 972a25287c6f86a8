/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Byte sources: a store cut into pieces on two files (as an LVM volume's
 * segments lie on two PVs) reads exactly as the contiguous store, and
 * writes land in the pieces' files. */
#include <errno.h>
#include <string.h>

#include "shared.h"
#include "unit.h"

static void copy(int from, uint64_t off, uint64_t len, int to, uint64_t at)
{
	static unsigned char buf[1 << 16];

	while (len) {
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);

		if (pread(from, buf, n, (off_t)off) != (ssize_t)n ||
		    pwrite(to, buf, n, (off_t)at) != (ssize_t)n) {
			perror("copy");
			exit(1);
		}
		off += n;
		at += n;
		len -= n;
	}
}

int main(void)
{
	struct gen_opts o = { .exceptions = 700, .order = GEN_SHUFFLE, .seed = 5, .data = 1 };
	int fd = unit_store(&o), a = memfd_create("a", MFD_CLOEXEC), b = memfd_create("b", MFD_CLOEXEC);
	struct snapcow_store *whole = unit_open(fd), *cut;
	struct snapcow_stats s1, s2;
	struct snapcow_dev *dev, *zeros;
	struct snapcow_dev_piece p[3];
	uint64_t size = snapcow_store_size(whole), third = size / 3 / 4096 * 4096;
	uint64_t data, hole, at;
	unsigned char x[8192], y[8192];
	int pfd;

	/* pieces: [0, third) from a at 1 MiB, [third, 2 third) from b at 0,
	 * the rest from a at 8 MiB: on both "PVs", out of order */
	copy(fd, 0, third, a, 1 << 20);
	copy(fd, third, third, b, 0);
	copy(fd, 2 * third, size - 2 * third, a, 8 << 20);
	p[0] = (struct snapcow_dev_piece){ third, a, 1 << 20 };
	p[1] = (struct snapcow_dev_piece){ third, b, 0 };
	p[2] = (struct snapcow_dev_piece){ size - 2 * third, a, 8 << 20 };
	CHECK_EQ(snapcow_dev_new_pieces("cut", p, 3, &dev), 0);
	CHECK_EQ(snapcow_dev_size(dev), size);
	CHECK_EQ(snapcow_dev_fd(dev), -1);
	CHECK_EQ(snapcow_dev_locate(dev, third + 5, &pfd, &at, &data), 0);
	CHECK_EQ(pfd, b);
	CHECK_EQ(at, 5);
	CHECK_EQ(data, third - 5);
	/* a read across two pieces */
	CHECK_EQ(snapcow_dev_pread(dev, x, sizeof(x), third - 4096), 0);
	CHECK_EQ(pread(fd, y, sizeof(y), (off_t)(third - 4096)), (ssize_t)sizeof(y));
	CHECK(!memcmp(x, y, sizeof(x)));
	CHECK_EQ(snapcow_dev_pread(dev, x, 16, size - 8), -EIO);

	/* a write across two pieces lands in both files, as a read sees it */
	memset(x, 0x5a, sizeof(x));
	CHECK_EQ(snapcow_dev_pwrite(dev, x, sizeof(x), third - 4096), 0);
	CHECK_EQ(snapcow_dev_sync(dev), 0);
	CHECK_EQ(pread(a, y, 4096, (off_t)((1 << 20) + third - 4096)), 4096);
	CHECK(!memcmp(x, y, 4096));
	CHECK_EQ(pread(b, y, 4096, 0), 4096);
	CHECK(!memcmp(x + 4096, y, 4096));
	CHECK_EQ(snapcow_dev_pwrite(dev, x, 16, size - 8), -EIO);
	copy(fd, third - 4096, sizeof(x), a, (1 << 20) + third - 4096);
	copy(fd, third, 4096, b, 0);
	/* (the original bytes copied back for what follows) */
	CHECK_EQ(snapcow_dev_pread(dev, x, sizeof(x), third - 4096), 0);
	CHECK_EQ(pread(fd, y, sizeof(y), (off_t)(third - 4096)), (ssize_t)sizeof(y));
	CHECK(!memcmp(x, y, sizeof(x)));

	/* the store through the pieces: the same figures, map and view; it
	 * may be opened for writing (snapcow_store_merge_shrink writes through
	 * the dev) but the valid flag needs one descriptor */
	CHECK_EQ(snapcow_store_open_dev(NULL, dev, SNAPCOW_OPEN_RDWR, &cut), 0);
	{
		struct snapcow_rewrite_options ro = { .undo_path = "/nonexistent/x.undo" };

		CHECK_EQ(snapcow_store_set_valid(cut, 0, &ro), -EBADF);
	}
	snapcow_store_free(cut);
	CHECK_EQ(snapcow_store_open_dev(NULL, dev, 0, &cut), 0);
	CHECK_EQ(snapcow_store_fd(cut), -1);
	CHECK_EQ(snapcow_store_scan(whole, &s1), 0);
	CHECK_EQ(snapcow_store_scan(cut, &s2), 0);
	CHECK(!memcmp(&s1, &s2, sizeof(s1)));
	{
		struct snapcow_map *m1, *m2;
		struct snapcow_view *v1, *v2;
		uint64_t vsize = 4 << 20;

		CHECK_EQ(snapcow_map_new(whole, &m1), 0);
		CHECK_EQ(snapcow_map_new(cut, &m2), 0);
		CHECK_EQ(snapcow_view_new(whole, m1, -1, vsize, &v1), 0);
		CHECK_EQ(snapcow_view_new_dev(cut, m2, NULL, vsize, &v2), 0);
		for (uint64_t off = 0; off < vsize; off += sizeof(x)) {
			CHECK_EQ(snapcow_view_pread(v1, x, sizeof(x), off), (ssize_t)sizeof(x));
			CHECK_EQ(snapcow_view_pread(v2, y, sizeof(y), off), (ssize_t)sizeof(y));
			if (memcmp(x, y, sizeof(x))) {
				CHECK(!"views differ");
				break;
			}
		}
		snapcow_view_free(v1);
		snapcow_view_free(v2);
	}

	/* zero pieces are holes; sparse files' holes are skipped */
	p[0] = (struct snapcow_dev_piece){ 1 << 20, -1, 0 };
	p[1] = (struct snapcow_dev_piece){ 1 << 20, a, 1 << 20 };
	CHECK_EQ(snapcow_dev_new_pieces("z", p, 2, &zeros), 0);
	CHECK_EQ(snapcow_dev_next_data(zeros, 0, &data, &hole), 0);
	CHECK_EQ(data, 1 << 20);
	CHECK_EQ(snapcow_dev_pread(zeros, x, 16, 100), 0);
	CHECK(is_zero(x, 16));
	CHECK_EQ(snapcow_dev_pwrite(zeros, x, 16, 100), -EROFS);
	p[0].length = 0;
	snapcow_dev_free(zeros);
	CHECK_EQ(snapcow_dev_new_pieces("bad", p, 2, &zeros), -EINVAL);
	snapcow_store_free(cut);
	snapcow_dev_free(dev);
	snapcow_store_free(whole);
	return unit_done("dev");
}
