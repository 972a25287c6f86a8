/* SPDX-License-Identifier: GPL-2.0-or-later */
/* extract_copy_sparse() against the view read whole with
 * snapcow_view_pread(): the same bytes for whole and unaligned ranges, a
 * range past the end of the view, origin and zero views; nothing written
 * outside the range; and every all-zero 4 KiB block of the output left a
 * hole (zero COW chunks, zero origin runs). */
#include <errno.h>
#include <string.h>

#include "extract.h"
#include "unit.h"

#define OSIZE (2u * 1024 * 1024 + 1000) /* partial last chunk */

static unsigned char *read_all(int fd, size_t len)
{
	unsigned char *buf = calloc(1, len ? len : 1);

	if (!buf || pread(fd, buf, len, 0) != (ssize_t)len) {
		perror("pread");
		exit(1);
	}
	return buf;
}

static int new_file(size_t size)
{
	int fd = memfd_create("unit-out", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		perror("memfd");
		exit(77);
	}
	return fd;
}

/* The origin: its pattern, with chunks 100..149 and the second MiB left
 * zero (a hole of the memory file). */
static int make_origin(void)
{
	int fd = new_file(OSIZE);
	uint64_t i, w;

	for (i = 0; i < (1u << 20); i += 8) {
		if (i / 4096 >= 100 && i / 4096 < 150)
			continue;
		w = htole64(gen_origin_word(i));
		if (pwrite(fd, &w, 8, (off_t)i) != 8)
			exit(1);
	}
	w = htole64(gen_origin_word(OSIZE - 8));
	if (pwrite(fd, &w, 8, OSIZE - 8) != 8)
		exit(1);
	return fd;
}

/* Every all-zero 4 KiB block of [off, off + len) of @fd is a hole. */
static void check_holes(int fd, const unsigned char *b, uint64_t off, uint64_t len)
{
	uint64_t p, end = off + len, size = OSIZE;

	for (p = off & ~4095ULL; p < end && p < size; p += 4096) {
		size_t n = size - p < 4096 ? (size_t)(size - p) : 4096;
		off_t d = lseek(fd, (off_t)p, SEEK_DATA);
		int zero = 1;

		for (size_t k = 0; k < n; k++)
			zero &= !b[p + k];
		if (zero && d == (off_t)p) {
			fprintf(stderr, "zero block at %" PRIu64 " is not a hole\n", p);
			unit_failures++;
			return;
		}
	}
}

static void compare(struct snapcow_view *v, uint64_t off, uint64_t len)
{
	int b = new_file(OSIZE);
	uint64_t cb = 0, end = off + len > OSIZE ? OSIZE : off + len;
	unsigned char *ba = calloc(1, OSIZE), *bb;

	/* what the view holds in the range, zeros elsewhere */
	if (!ba || (off < end && snapcow_view_pread(v, ba + off, end - off, off) !=
				 (ssize_t)(end - off)))
		exit(1);
	CHECK_EQ(extract_copy_sparse(v, b, off, len, &cb), 0);
	bb = read_all(b, OSIZE);
	if (memcmp(ba, bb, OSIZE)) {
		fprintf(stderr, "[%" PRIu64 ", +%" PRIu64 "): the copy differs from the view\n",
			off, len);
		unit_failures++;
	}
	CHECK(cb <= (off < end ? end - off : 0));
	check_holes(b, bb, off, len);
	free(ba);
	free(bb);
	close(b);
}

static void zero_cow_chunk(int fd, struct snapcow_store *s, uint64_t old_chunk)
{
	static unsigned char zeros[4096];
	struct snapcow_map *m;
	uint64_t nc = 0;

	CHECK_EQ(snapcow_map_new(s, &m), 0);
	CHECK_EQ(snapcow_map_lookup(m, old_chunk, &nc), 1);
	if (pwrite(fd, zeros, sizeof(zeros), (off_t)(nc * 4096)) != sizeof(zeros))
		exit(1);
	snapcow_map_free(m);
}

int main(void)
{
	struct gen_opts o = { .chunk_sectors = 8, .exceptions = 200, .valid = 1, .data = 1,
			      .old_base = 10, .old_stride = 2, .order = GEN_SHUFFLE, .seed = 9 };
	const uint64_t ranges[][2] = {
		{ 0, OSIZE }, { 12345, 700001 }, { 4096 * 120, 4096 * 40 + 3 },
		{ OSIZE - 5000, 100000 }, { 7, 0 }, { OSIZE + 10, 10 },
	};
	struct snapcow_store *s;
	struct snapcow_view *v;
	struct snapcow_map *m;
	int fd, ofd, zo;
	size_t i;

	fd = unit_store(&o);
	s = unit_open(fd);
	zero_cow_chunk(fd, s, 30); /* a remapped chunk of zeros */
	ofd = make_origin();
	for (zo = 0; zo < 2; zo++) {
		CHECK_EQ(snapcow_map_new(s, &m), 0);
		CHECK_EQ(snapcow_view_new(s, m, zo ? -1 : ofd, OSIZE, &v), 0);
		for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
			compare(v, ranges[i][0], ranges[i][1]);
		snapcow_view_free(v);
	}
	CHECK_EQ(snapcow_map_new(s, &m), 0);
	CHECK_EQ(snapcow_view_new(s, m, ofd, OSIZE, &v), 0);
	CHECK_EQ(extract_copy_sparse(v, ofd, UINT64_MAX - 5, 10, NULL), -EINVAL);
	snapcow_view_free(v);
	snapcow_store_free(s);
	close(ofd);
	close(fd);
	return unit_done("extract");
}
