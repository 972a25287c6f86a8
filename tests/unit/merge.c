/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapcow_store_merge_shrink() zeroes the tail of the table the way the
 * kernel commits a merge (the table stays a prefix, only the records'
 * bytes change, area by area from the last); undo files of several parts
 * keep each device's bytes apart and put both back. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "shared.h"
#include "unit.h"

static unsigned char *slurp(int fd, uint64_t *len)
{
	struct stat st;
	unsigned char *b;

	if (fstat(fd, &st) < 0)
		exit(1);
	*len = (uint64_t)st.st_size;
	b = malloc(*len ? *len : 1);
	if (!b || pread_full(fd, b, *len, 0) < 0)
		exit(1);
	return b;
}

struct calls {
	uint64_t area[16], left[16];
	int n, stop_after;
};

static int on_area(void *data, uint64_t area, uint64_t left)
{
	struct calls *c = data;

	if (c->n < 16) {
		c->area[c->n] = area;
		c->left[c->n] = left;
	}
	c->n++;
	return c->stop_after && c->n == c->stop_after ? 42 : 0;
}

/* The first @n records of @s equal those of @before (same store, earlier). */
static int is_prefix(int fd, const unsigned char *before, uint64_t n)
{
	struct snapcow_store *s = unit_open(fd);
	struct snapcow_exception e;
	struct snapcow_iter *it;
	uint64_t i = 0;
	int r, ok = 1;

	if (snapcow_iter_new(s, &it) < 0)
		exit(1);
	while ((r = snapcow_iter_next(it, &e)) == 0) {
		uint64_t off = snapcow_iter_offset(it), old, nc;

		memcpy(&old, before + off, 8);
		memcpy(&nc, before + off + 8, 8);
		ok &= le64toh(old) == e.old_chunk && le64toh(nc) == e.new_chunk;
		i++;
	}
	snapcow_iter_free(it);
	snapcow_store_free(s);
	return ok && r == 1 && i == n;
}

static void test_shrink(void)
{
	struct gen_opts o = { .exceptions = 700, .order = GEN_SHUFFLE, .seed = 9, .data = 1,
			      .valid = 1 };
	int fd = unit_store(&o);
	struct snapcow_store *s, *ro = unit_open(fd);
	struct snapcow_stats st;
	struct calls c = { .n = 0 };
	uint64_t len, len2;
	unsigned char *before = slurp(fd, &len), *after;

	CHECK_EQ(snapcow_store_merge_shrink(ro, 1, NULL, NULL), -EBADF);
	snapcow_store_free(ro);
	CHECK_EQ(snapcow_store_open_fd(NULL, fd, "unit-store", SNAPCOW_OPEN_RDWR, &s), 0);
	CHECK_EQ(snapcow_store_merge_shrink(s, 701, NULL, NULL), -EINVAL);
	/* 700 -> 600: only area 2 (records 512..699) is touched */
	CHECK_EQ(snapcow_store_merge_shrink(s, 100, on_area, &c), 0);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.area[0], 2);
	CHECK_EQ(c.left[0], 600);
	CHECK(is_prefix(fd, before, 600));
	after = slurp(fd, &len2);
	CHECK_EQ(len2, len);
	/* the bytes that changed are exactly records 600..699 of area 2 */
	for (uint64_t i = 0; i < len; i++) {
		uint64_t a2 = unit_rec(4096, 2, 0);
		int in = i >= a2 + 88 * 16 && i < a2 + 188 * 16;

		if (in ? after[i] != 0 : after[i] != before[i]) {
			CHECK(!"a byte outside the zeroed records changed (or one inside did not)");
			break;
		}
	}
	free(after);
	/* the rest, stopped by the callback after the first area */
	c = (struct calls){ .stop_after = 1 };
	CHECK_EQ(snapcow_store_merge_shrink(s, 600, on_area, &c), 42);
	CHECK_EQ(c.left[0], 512);
	CHECK(is_prefix(fd, before, 512));
	c = (struct calls){ .n = 0 };
	CHECK_EQ(snapcow_store_merge_shrink(s, 512, on_area, &c), 0);
	CHECK_EQ(c.n, 2);
	CHECK_EQ(c.area[0], 1);
	CHECK_EQ(c.left[0], 256);
	CHECK_EQ(c.area[1], 0);
	CHECK_EQ(c.left[1], 0);
	/* merged: the kernel's figures for an empty store, header kept */
	CHECK_EQ(snapcow_store_scan(s, &st), 0);
	CHECK_EQ(st.exceptions, 0);
	CHECK_EQ(st.areas, 1);
	CHECK_EQ(st.next_free, 2);
	CHECK_EQ(st.allocated_sectors, st.metadata_sectors);
	after = slurp(fd, &len2);
	CHECK(!memcmp(after, before, 4096));
	CHECK(is_zero(after + 4096, 4096));
	/* data chunks stay as they were */
	CHECK(!memcmp(after + 2 * 4096, before + 2 * 4096, 255 * 4096));
	free(after);
	CHECK_EQ(snapcow_store_merge_shrink(s, 0, on_area, &c), 0);
	snapcow_store_free(s);
	free(before);
	close(fd);
}

/* A table that fills its last area ends with a zeroed area: that one is
 * not rewritten, the shrink starts in the full one before it. */
static void test_full_area(void)
{
	struct gen_opts o = { .exceptions = 512, .valid = 1 };
	int fd = unit_store(&o);
	struct snapcow_store *s;
	struct calls c = { .n = 0 };
	struct snapcow_stats st;

	CHECK_EQ(snapcow_store_open_fd(NULL, fd, "unit-store", SNAPCOW_OPEN_RDWR, &s), 0);
	CHECK_EQ(snapcow_store_merge_shrink(s, 1, on_area, &c), 0);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.area[0], 1);
	CHECK_EQ(snapcow_store_scan(s, &st), 0);
	CHECK_EQ(st.exceptions, 511);
	CHECK_EQ(st.areas, 2);
	snapcow_store_free(s);
	close(fd);
}

static int mem(const char *name, uint64_t size, unsigned char fill)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	unsigned char *b = malloc(size);

	if (fd < 0 || !b)
		exit(77);
	memset(b, fill, size);
	if (pwrite_full(fd, b, size, 0) < 0)
		exit(1);
	free(b);
	return fd;
}

static void test_parts(void)
{
	char path[] = "/tmp/unit-merge-undo.XXXXXX";
	int tfd = mkstemp(path), a = mem("a", 65536, 0xaa), b = mem("b", 1 << 20, 0xbb);
	struct snapcow_identity ia, ib;
	struct snapcow_dev *da, *db;
	struct snapcow_undo_range ra[2] = { { 0, 4096, 0, 4096 }, { 8192, 100, 8192, 100 } };
	struct snapcow_undo_range rb[1] = { { 4096, 65536, 4096, 65536 } };
	struct snapcow_undo_part parts[2];
	struct snapcow_undo *u;
	const struct snapcow_undo *p2;
	unsigned char x[4096];
	uint64_t ulen;
	unsigned char *ufile;

	if (tfd < 0)
		exit(77);
	close(tfd);
	unlink(path);
	CHECK_EQ(snapcow_identity_get(a, &ia), 0);
	CHECK_EQ(snapcow_identity_get(b, &ib), 0);
	snprintf(ib.dm_uuid, sizeof(ib.dm_uuid), "LVM-test-real");
	CHECK_EQ(snapcow_dev_new_fd(a, "a", &da), 0);
	CHECK_EQ(snapcow_dev_new_fd(b, "b", &db), 0);
	parts[0] = (struct snapcow_undo_part){ da, &ia, ra, 2 };
	parts[1] = (struct snapcow_undo_part){ db, &ib, rb, 1 };
	CHECK_EQ(snapcow_undo_save_parts(NULL, path, parts, 2, "unit"), 0);
	CHECK_EQ(snapcow_undo_save_parts(NULL, path, parts, 2, "unit"), -EEXIST);
	/* a reader of one part refuses it: one part alone would break both */
	CHECK_EQ(snapcow_undo_open(NULL, path, &u), SNAPCOW_ERR_UNDO_FORMAT);
	CHECK_EQ(snapcow_undo_open_parts(NULL, path, &u), 0);
	CHECK_EQ(snapcow_undo_parts(u), 2);
	CHECK_EQ(snapcow_undo_ranges(u), 2);
	CHECK_EQ(snapcow_undo_bytes(u), 4196);
	p2 = snapcow_undo_next_part(u);
	CHECK(p2 != NULL);
	CHECK(p2 && !snapcow_undo_next_part(p2));
	CHECK(p2 && !strcmp(snapcow_undo_identity(p2)->dm_uuid, "LVM-test-real"));
	CHECK(p2 && snapcow_undo_bytes(p2) == 65536);
	/* change both, put both back; the parts keep their devices apart */
	memset(x, 0x11, sizeof(x));
	CHECK_EQ(pwrite_full(a, x, 4096, 0), 0);
	CHECK_EQ(pwrite_full(b, x, 4096, 8192), 0);
	CHECK_EQ(snapcow_undo_apply_dev(u, db, &ib, SNAPCOW_UNDO_DRY_RUN), SNAPCOW_ERR_UNDO_IDENTITY);
	CHECK_EQ(snapcow_undo_apply_dev(u, da, &ia, 0), 0);
	CHECK(p2 && snapcow_undo_apply_dev(p2, db, &ib, 0) == 0);
	CHECK(p2 && snapcow_undo_apply_dev(p2, db, &ib, 0) == 1);
	CHECK_EQ(pread_full(a, x, 4096, 0), 0);
	CHECK(x[0] == 0xaa && x[4095] == 0xaa);
	CHECK_EQ(pread_full(b, x, 4096, 8192), 0);
	CHECK(x[0] == 0xbb && x[4095] == 0xbb);
	/* the saved bytes of each range are found (ranges in order: a binary
	 * search; out of order: a walk) */
	CHECK_EQ(snapcow_undo_read_saved(u, 8192 + 50, x, 50), 0);
	CHECK(x[0] == 0xaa && x[49] == 0xaa);
	CHECK_EQ(snapcow_undo_read_saved(u, 8192 + 50, x, 51), -EINVAL);
	CHECK_EQ(snapcow_undo_read_saved(u, 4096, x, 1), -EINVAL);
	snapcow_undo_free(u);
	{
		struct snapcow_undo_range rev[2] = { ra[1], ra[0] };
		struct snapcow_undo_part one = { da, &ia, rev, 2 };

		unlink(path);
		CHECK_EQ(snapcow_undo_save_parts(NULL, path, &one, 1, "unit"), 0);
		CHECK_EQ(snapcow_undo_open(NULL, path, &u), 0);
		CHECK_EQ(snapcow_undo_read_saved(u, 8192, x, 100), 0);
		CHECK_EQ(snapcow_undo_read_saved(u, 0, x, 4096), 0);
		CHECK(x[0] == 0xaa && x[4095] == 0xaa);
		snapcow_undo_free(u);
		unlink(path);
		CHECK_EQ(snapcow_undo_save_parts(NULL, path, parts, 2, "unit"), 0);
	}
	/* the file cut inside the second part, or with bytes after it */
	tfd = open(path, O_RDWR);
	ufile = slurp(tfd, &ulen);
	CHECK_EQ(ftruncate(tfd, (off_t)(ulen - 10)), 0);
	CHECK_EQ(snapcow_undo_open_parts(NULL, path, &u), SNAPCOW_ERR_UNDO_CHECKSUM);
	CHECK_EQ(pwrite_full(tfd, ufile, ulen, 0), 0);
	CHECK_EQ(pwrite_full(tfd, "x", 1, ulen), 0);
	CHECK_EQ(snapcow_undo_open_parts(NULL, path, &u), SNAPCOW_ERR_UNDO_CHECKSUM);
	/* only the first part: its header says 2 parts, the second is missing */
	CHECK_EQ(ftruncate(tfd, (off_t)(256 + 2 * 32 + 4196)), 0);
	CHECK_EQ(snapcow_undo_open_parts(NULL, path, &u), SNAPCOW_ERR_UNDO_CHECKSUM);
	free(ufile);
	close(tfd);
	unlink(path);
	snapcow_dev_free(da);
	snapcow_dev_free(db);
	close(a);
	close(b);
}

int main(void)
{
	test_shrink();
	test_full_area();
	test_parts();
	return unit_done("merge");
}
