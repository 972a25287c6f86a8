/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The repair's decisions (src/lib/repair.c) on generated stores: what is
 * kept and dropped, why, the chunk size chosen, the holes, the trim, and
 * that the layout it writes is one the checker finds clean. */
#include <errno.h>
#include <string.h>
#include "unit.h"

static struct snapcow_dev *dev_of(int fd)
{
	struct snapcow_dev *d;

	CHECK_EQ(snapcow_dev_new_fd(fd, "unit-store", &d), 0);
	return d;
}

static struct snapcow_repair *repair(int fd, const struct snapcow_repair_options *opt,
				     struct snapcow_dev **d)
{
	struct snapcow_repair *r = NULL;

	*d = dev_of(fd);
	CHECK_EQ(snapcow_repair_new(NULL, *d, opt, &r), 0);
	return r;
}

static int sink_fd(void *data, const void *buf, size_t len, uint64_t offset)
{
	int fd = *(int *)data;

	return pwrite(fd, buf, len, (off_t)offset) == (ssize_t)len ? 0 : -EIO;
}

/* Write the repair onto @fd in place (metadata only) and check it. */
static void apply_and_check(int fd, struct snapcow_repair *r, uint64_t want_exceptions)
{
	struct snapcow_check_result res;
	struct snapcow_store *s;
	struct snapcow_repair *again;
	struct snapcow_dev *d;

	CHECK_EQ(snapcow_repair_write(r, sink_fd, &fd), 0);
	s = unit_open(fd);
	CHECK_EQ(snapcow_store_check(s, &(struct snapcow_check_options){ .skip_data_scan = 1 },
				     NULL, NULL, &res), 0);
	CHECK_EQ(res.errors, 0);
	CHECK_EQ(res.stats.exceptions, want_exceptions);
	snapcow_store_free(s);
	again = repair(fd, NULL, &d);
	CHECK_EQ(snapcow_repair_summary(again)->changed_chunks, 0);
	snapcow_repair_free(again);
	snapcow_dev_free(d);
}

static const char *drop_code(struct snapcow_repair *r, uint64_t i)
{
	struct snapcow_repair_drop dr;

	return snapcow_repair_drop(r, i, &dr) == 0 ? dr.code : "none";
}

int main(void)
{
	struct gen_opts o = { .chunk_sectors = 8, .exceptions = 600, .valid = 1, .data = 1,
			      .order = GEN_SHUFFLE, .seed = 3 };
	const struct snapcow_repair_summary *sum;
	struct snapcow_repair_drop dr;
	struct snapcow_repair_hole h;
	struct snapcow_repair *r;
	struct snapcow_dev *d;
	uint64_t first, last, n, old0;
	int fd;

	/* a clean store: nothing changes */
	fd = unit_store(&o);
	r = repair(fd, NULL, &d);
	sum = snapcow_repair_summary(r);
	CHECK_EQ(sum->kept, 600);
	CHECK_EQ(sum->dropped, 0);
	CHECK_EQ(sum->changed_chunks, 0);
	CHECK_EQ(sum->kernel_exceptions, 600);
	CHECK(sum->kernel_loads);
	CHECK_EQ(sum->chunk_source, SNAPCOW_CHUNK_FROM_HEADER);
	snapcow_repair_free(r);
	snapcow_dev_free(d);

	/* each record rule, in table order, with the record kept instead */
	CHECK_EQ(pread(fd, &old0, 8, (off_t)unit_rec(4096, 0, 0)), 8);
	unit_pwrite64(fd, unit_rec(4096, 0, 9) + 8, 100000);             /* past the end */
	unit_pwrite64(fd, unit_rec(4096, 1, 1) + 8, 1);                  /* area 0's chunk */
	unit_pwrite64(fd, unit_rec(4096, 1, 3) + 8, 1ULL << 60);         /* too large */
	unit_pwrite64(fd, unit_rec(4096, 2, 7), le64toh(old0));          /* old chunk twice */
	r = repair(fd, NULL, &d);
	sum = snapcow_repair_summary(r);
	CHECK_EQ(sum->dropped, 4);
	CHECK_EQ(sum->kept, 596);
	CHECK(!strcmp(drop_code(r, 0), "new-chunk-past-end"));
	CHECK(!strcmp(drop_code(r, 1), "new-chunk-metadata"));
	CHECK(!strcmp(drop_code(r, 2), "new-chunk-too-large"));
	CHECK(!strcmp(drop_code(r, 3), "old-chunk-twice"));
	CHECK_EQ(snapcow_repair_drop(r, 3, &dr), 0);
	CHECK_EQ(dr.area, 2);
	CHECK_EQ(dr.index, 7);
	CHECK_EQ(dr.kept_area, 0); /* the earlier record: no run merged it */
	CHECK_EQ(dr.kept_index, 0);
	CHECK_EQ(snapcow_repair_drop(r, 4, &dr), -EINVAL);
	CHECK_EQ(sum->changed_chunks, 3); /* areas 0, 1 and 2 */
	apply_and_check(fd, r, 596);
	snapcow_repair_free(r);
	snapcow_dev_free(d);
	close(fd);

	/* a torn area: a sector of area 1 zeroed; the rest of area 1 and area
	 * 2 recovered, the hole's data chunks named */
	fd = unit_store(&o);
	{
		unsigned char z[512] = { 0 };
		CHECK_EQ(pwrite(fd, z, 512, (off_t)unit_rec(4096, 1, 32)), 512);
	}
	r = repair(fd, NULL, &d);
	sum = snapcow_repair_summary(r);
	CHECK_EQ(sum->kernel_exceptions, 256 + 32);
	CHECK_EQ(sum->lost, 32);
	CHECK_EQ(sum->kept, 568);
	CHECK_EQ(sum->recovered, 568 - 288);
	CHECK_EQ(snapcow_repair_hole(r, 0, &h, &first, &last, &n), 0);
	CHECK_EQ(h.area, 1);
	CHECK_EQ(h.first, 32);
	CHECK_EQ(h.count, 32);
	CHECK_EQ(n, 32);
	CHECK(first > 258 && last < 515);
	apply_and_check(fd, r, 568);
	snapcow_repair_free(r);
	snapcow_dev_free(d);
	close(fd);

	/* a zeroed header: the chunk size from the layout; with nothing that
	 * looks like a table, refused unless the caller gives one */
	o.exceptions = 40;
	fd = unit_store(&o);
	unit_pwrite64(fd, 0, 0);
	unit_pwrite64(fd, 8, 0);
	r = repair(fd, NULL, &d);
	sum = snapcow_repair_summary(r);
	CHECK_EQ(sum->chunk_source, SNAPCOW_CHUNK_FROM_LAYOUT);
	CHECK_EQ(sum->geo.chunk_sectors, 8);
	CHECK(!strcmp(sum->header_problem, "magic-zero"));
	CHECK_EQ(sum->new_header.valid, 1);
	CHECK(sum->header_changed);
	apply_and_check(fd, r, 40);
	snapcow_repair_free(r);
	snapcow_dev_free(d);
	close(fd);
	o.exceptions = 0;
	fd = unit_store(&o);
	unit_pwrite64(fd, 0, 0);
	d = dev_of(fd);
	r = NULL;
	CHECK_EQ(snapcow_repair_new(NULL, d, NULL, &r), SNAPCOW_ERR_CHUNK_SIZE);
	CHECK(r == NULL);
	CHECK_EQ(snapcow_repair_new(NULL, d, &(struct snapcow_repair_options){ .hint_chunk_sectors = 8 },
				    &r), 0);
	CHECK_EQ(snapcow_repair_summary(r)->chunk_source, SNAPCOW_CHUNK_FROM_HINT);
	snapcow_repair_free(r);
	CHECK_EQ(snapcow_repair_new(NULL, d, &(struct snapcow_repair_options){ .chunk_sectors = 3 },
				    &r), -EINVAL);
	snapcow_dev_free(d);
	close(fd);

	/* old chunks past the origin */
	o.exceptions = 300;
	o.order = GEN_SEQ;
	fd = unit_store(&o);
	r = repair(fd, &(struct snapcow_repair_options){ .origin_bytes = 256 * 4096 }, &d);
	CHECK_EQ(snapcow_repair_summary(r)->dropped, 44);
	CHECK(!strcmp(drop_code(r, 0), "old-chunk-past-origin"));
	snapcow_repair_free(r);
	snapcow_dev_free(d);
	close(fd);

	/* area 0 full and the store ends at area 1's chunk: the last record
	 * goes so that the table ends in area 0 */
	o.exceptions = 256;
	fd = unit_store(&o);
	CHECK_EQ(ftruncate(fd, 258 * 4096), 0);
	r = repair(fd, NULL, &d);
	sum = snapcow_repair_summary(r);
	CHECK_EQ(sum->kept, 255);
	CHECK_EQ(sum->cut_area, 1);
	CHECK(!strcmp(drop_code(r, 0), "no-room-for-terminator"));
	CHECK(!sum->kernel_walks);
	apply_and_check(fd, r, 255);
	snapcow_repair_free(r);
	snapcow_dev_free(d);
	close(fd);
	return unit_done("repair");
}
