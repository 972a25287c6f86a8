/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The writer rejects bad records and lays out the zeroed area after a full
 * one; the check finds each kind of problem (by code). */
#include <errno.h>
#include <string.h>
#include <syslog.h>
#include "unit.h"

struct seen {
	char codes[32][32];
	int n;
};

static void on_problem(void *data, const struct snapcow_problem *p)
{
	struct seen *s = data;

	if (s->n < 32)
		snprintf(s->codes[s->n++], 32, "%s", p->code);
}

static int saw(const struct seen *s, const char *code)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += !strcmp(s->codes[i], code);
	return n;
}

/* Check a fresh 300-exception store after @poke changes record (a, i). */
static struct seen check_poked(uint64_t off, uint64_t val, uint64_t origin_bytes,
			       struct snapcow_check_result *res)
{
	struct gen_opts o = { .chunk_sectors = 8, .exceptions = 300, .valid = 1 };
	struct snapcow_check_options opt = { .origin_bytes = origin_bytes };
	struct seen seen = { .n = 0 };
	struct snapcow_store *s;
	int fd = unit_store(&o);

	if (off)
		unit_pwrite64(fd, off, val);
	s = unit_open(fd);
	CHECK_EQ(snapcow_store_check(s, &opt, on_problem, &seen, res), 0);
	snapcow_store_free(s);
	close(fd);
	return seen;
}

int main(void)
{
	struct snapcow_check_result res;
	struct snapcow_exception e;
	struct snapcow_writer *w;
	struct seen sn;
	unsigned char buf[4096], zero[4096] = { 0 };
	uint64_t i;
	int fd;

	fd = memfd_create("w", MFD_CLOEXEC);
	CHECK_EQ(snapcow_writer_new(NULL, fd, "w", 3, 1 << 20, &w), -EINVAL);
	CHECK_EQ(snapcow_writer_new(NULL, fd, "w", 8, 4096, &w), -EINVAL);
	CHECK_EQ(snapcow_writer_new(NULL, fd, "w", 8, 300 * 4096, &w), 0);
	e.old_chunk = 1;
	e.new_chunk = 0;
	CHECK_EQ(snapcow_writer_add(w, &e), SNAPCOW_ERR_RECORD);
	e.new_chunk = 1;
	CHECK_EQ(snapcow_writer_add(w, &e), SNAPCOW_ERR_RECORD);
	e.new_chunk = 258;
	CHECK_EQ(snapcow_writer_add(w, &e), SNAPCOW_ERR_RECORD);
	e.new_chunk = 300;
	CHECK_EQ(snapcow_writer_add(w, &e), SNAPCOW_ERR_RECORD);
	e.new_chunk = 1ULL << 56;
	CHECK_EQ(snapcow_writer_add(w, &e), SNAPCOW_ERR_RECORD);
	/* fill area 0 exactly; area 1 must come out zeroed even over garbage */
	memset(buf, 0xab, sizeof(buf));
	CHECK_EQ(pwrite(fd, buf, 4096, 258 * 4096), 4096);
	for (i = 0; i < 256; i++) {
		e.old_chunk = i;
		e.new_chunk = i + 2;
		CHECK_EQ(snapcow_writer_add(w, &e), 0);
	}
	CHECK_EQ(snapcow_writer_finish(w, 1), 0);
	snapcow_writer_free(w);
	CHECK_EQ(pread(fd, buf, 4096, 258 * 4096), 4096);
	CHECK(memcmp(buf, zero, 4096) == 0);
	CHECK_EQ(pread(fd, buf, 16, 0), 16);
	CHECK(memcmp(buf, "SnAp\1\0\0\0\1\0\0\0\10\0\0\0", 16) == 0);
	CHECK_EQ(pread(fd, buf, 16, 4096 + 255 * 16), 16);
	CHECK_EQ(le64toh(*(uint64_t *)(void *)(buf + 8)), 257);
	close(fd);

	/* a store too small for the zeroed area after a full one: refused */
	fd = memfd_create("w2", MFD_CLOEXEC);
	CHECK_EQ(snapcow_writer_new(NULL, fd, "w2", 8, 258 * 4096, &w), 0);
	for (i = 0; i < 256; i++) {
		e.old_chunk = i;
		e.new_chunk = i + 2;
		CHECK_EQ(snapcow_writer_add(w, &e), 0);
	}
	CHECK_EQ(snapcow_writer_finish(w, 1), -ENOSPC);
	snapcow_writer_free(w);
	close(fd);

	/* the check: clean, then one problem of each kind */
	sn = check_poked(0, 0, 0, &res);
	CHECK_EQ(res.errors + res.warnings, 0);
	CHECK_EQ(res.table_complete, 1);
	CHECK_EQ(res.stats.exceptions, 300);
	sn = check_poked(unit_rec(4096, 0, 3) + 8, 5000, 0, &res);
	CHECK_EQ(saw(&sn, "new-chunk-past-end"), 1);
	CHECK_EQ(res.errors, 1);
	sn = check_poked(unit_rec(4096, 0, 3) + 8, 258, 0, &res);
	CHECK_EQ(saw(&sn, "new-chunk-metadata"), 1);
	sn = check_poked(unit_rec(4096, 0, 3) + 8, 1ULL << 60, 0, &res);
	CHECK_EQ(saw(&sn, "new-chunk-too-large"), 1);
	sn = check_poked(unit_rec(4096, 1, 3) + 8, 2, 0, &res);
	CHECK_EQ(saw(&sn, "new-chunk-twice"), 1);
	sn = check_poked(unit_rec(4096, 1, 3), 0, 0, &res);
	CHECK_EQ(saw(&sn, "old-chunk-twice"), 1);
	sn = check_poked(0, 0, 290 * 4096, &res);
	CHECK_EQ(saw(&sn, "old-chunk-past-origin"), 10);
	sn = check_poked(unit_rec(4096, 1, 100), 77, 0, &res);
	CHECK_EQ(saw(&sn, "records-after-end"), 1);
	CHECK_EQ(res.warnings, 1);
	CHECK_EQ(res.errors, 0);
	/* bytes 4..11: valid flag, then version 1 */
	sn = check_poked(4, 1ULL << 32 | 0, 0, &res);
	CHECK_EQ(saw(&sn, "invalid"), 1);
	sn = check_poked(4, 1ULL << 32 | 7, 0, &res);
	CHECK_EQ(saw(&sn, "valid-flag"), 1);
	CHECK_EQ(res.errors, 0);
	return unit_done("writer_check");
}
