/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The read-ahead of the metadata areas (src/lib/areas.c): for 1, 2, 3 and
 * 9 threads, the iterator, the figures and the check give the same records,
 * figures, problems and messages as one thread, around every batch boundary
 * (64 areas of 4 KiB chunks, 512 of 512-byte chunks), for a table that
 * ends inside a batch, at its first or last area, with a full last area,
 * with no terminator at all, with problems late in the table, and with a
 * read error in the table (reported at that area) or past its end (never
 * seen). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <syslog.h>
#include "unit.h"

static const unsigned int threads[] = { 1, 2, 3, 9 };

/* Everything a walk produces, folded into a few numbers. */
struct outcome {
	int scan_r, check_r, iter_r;
	struct snapcow_stats st;
	uint64_t iter_n, iter_hash;
	uint64_t errors, warnings, problems_hash;
	uint64_t log_hash, log_lines;
};

static uint64_t fold(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;
}

static uint64_t fold_str(uint64_t h, const char *s)
{
	while (*s)
		h = fold(h, (unsigned char)*s++);
	return fold(h, 0);
}

static void log_fn(void *data, int priority, const char *msg)
{
	struct outcome *o = data;

	o->log_hash = fold_str(fold(o->log_hash, (uint64_t)priority), msg);
	o->log_lines++;
}

static void problem(void *data, const struct snapcow_problem *p)
{
	struct outcome *o = data;

	o->problems_hash = fold_str(fold(fold(o->problems_hash, p->offset), (uint64_t)p->severity),
				    p->message);
}

static void run(const struct snapcow_dev *dev, unsigned int nthreads, struct outcome *o)
{
	struct snapcow_check_options opt = { .skip_data_scan = 1 };
	struct snapcow_check_result res;
	struct snapcow_exception e;
	struct snapcow_iter *it;
	struct snapcow_store *s;
	struct snapcow_ctx *ctx;
	int r;

	memset(o, 0, sizeof(*o));
	if (snapcow_ctx_new(&ctx) < 0)
		exit(1);
	snapcow_ctx_set_log_fn(ctx, log_fn, o);
	snapcow_ctx_set_threads(ctx, nthreads);
	CHECK_EQ(snapcow_ctx_get_threads(ctx), nthreads);
	r = snapcow_store_open_dev(ctx, dev, 0, &s);
	if (r < 0) {
		fprintf(stderr, "open: %s\n", snapcow_strerror(r));
		exit(1);
	}
	o->scan_r = snapcow_store_scan(s, &o->st);
	o->check_r = snapcow_store_check(s, &opt, problem, o, &res);
	if (o->check_r == 0) {
		o->errors = res.errors;
		o->warnings = res.warnings;
	}
	CHECK_EQ(snapcow_iter_new(s, &it), 0);
	while ((r = snapcow_iter_next(it, &e)) == 0) {
		o->iter_n++;
		o->iter_hash = fold(fold(o->iter_hash, e.old_chunk), e.new_chunk);
		o->iter_hash = fold(o->iter_hash, snapcow_iter_offset(it));
	}
	o->iter_r = r;
	snapcow_iter_free(it);
	snapcow_store_free(s);
	snapcow_ctx_unref(ctx);
}

static int same(const struct outcome *a, const struct outcome *b)
{
	return a->scan_r == b->scan_r && a->check_r == b->check_r && a->iter_r == b->iter_r &&
	       !memcmp(&a->st, &b->st, sizeof(a->st)) && a->iter_n == b->iter_n &&
	       a->iter_hash == b->iter_hash && a->errors == b->errors &&
	       a->warnings == b->warnings && a->problems_hash == b->problems_hash &&
	       a->log_hash == b->log_hash && a->log_lines == b->log_lines;
}

/* The outcome for every thread count equals one thread's; returns it. */
static struct outcome all_threads(const char *what, const struct snapcow_dev *dev)
{
	struct outcome one, o;

	run(dev, 1, &one);
	for (size_t i = 1; i < sizeof(threads) / sizeof(threads[0]); i++) {
		run(dev, threads[i], &o);
		if (!same(&one, &o)) {
			fprintf(stderr, "%s: %u threads differ from 1 (iter %" PRIu64 "/%" PRIu64
				" r %d/%d, check %d/%d errors %" PRIu64 "/%" PRIu64 ", log %" PRIu64
				"/%" PRIu64 ")\n", what, threads[i], o.iter_n, one.iter_n, o.iter_r,
				one.iter_r, o.check_r, one.check_r, o.errors, one.errors,
				o.log_lines, one.log_lines);
			unit_failures++;
		}
	}
	return one;
}

static struct outcome fd_case(const char *what, int fd)
{
	struct snapcow_dev *d;
	struct outcome o;

	CHECK_EQ(snapcow_dev_new_fd(fd, what, &d), 0);
	o = all_threads(what, d);
	snapcow_dev_free(d);
	return o;
}

/* A generated store of @n exceptions: figures as for one thread, checked
 * against the count. */
static void gen_case(uint32_t cs, uint64_t n, uint64_t size)
{
	struct gen_opts g = { .chunk_sectors = cs, .exceptions = n, .valid = 1, .size = size,
			      .order = GEN_SHUFFLE, .seed = n };
	char what[96];
	int fd = unit_store(&g);
	struct outcome o;

	snprintf(what, sizeof(what), "%u sectors, %" PRIu64 " exceptions, size %" PRIu64, cs, n,
		 size);
	o = fd_case(what, fd);
	if (size == 0) {
		CHECK_EQ(o.scan_r, 0);
		CHECK_EQ(o.iter_n, n);
		CHECK_EQ(o.st.exceptions, n);
		CHECK_EQ(o.errors, 0);
	}
	close(fd);
}

/* 130 full areas filling the store, and @extra chunks after them: none,
 * no terminator; one, the zeroed area 130 that ends the table. */
static struct outcome full_case(uint64_t extra)
{
	uint64_t chunks = 1 + 130 * 257 + extra;
	struct gen_opts g = { .chunk_sectors = 8, .exceptions = 130 * 256 - 1, .valid = 1,
			      .seed = 9, .size = 4096 * chunks };
	int fd = unit_store(&g);
	struct outcome o;

	/* the last record of area 129: old chunk 10^6, new chunk the last one */
	unit_pwrite64(fd, unit_rec(4096, 129, 255), 1000000);
	unit_pwrite64(fd, unit_rec(4096, 129, 255) + 8, 1 + 130 * 257 - 1);
	o = fd_case(extra ? "full last area" : "no terminator", fd);
	close(fd);
	return o;
}

/* Problems late in the table: a duplicate old chunk in area @a, records
 * after the terminator. */
static void corrupt_case(void)
{
	struct gen_opts g = { .chunk_sectors = 8, .exceptions = 256 * 200 + 17, .valid = 1,
			      .seed = 5 };
	int fd = unit_store(&g);
	struct outcome o;

	/* area 150 record 3 takes the old chunk of area 2 record 0 */
	unit_pwrite64(fd, unit_rec(4096, 150, 3), 512);
	unit_pwrite64(fd, unit_rec(4096, 149, 9) + 8, 7); /* a data chunk already used */
	unit_pwrite64(fd, unit_rec(4096, 200, 40), 99);   /* after the terminator */
	unit_pwrite64(fd, unit_rec(4096, 200, 40) + 8, 123456);
	o = fd_case("corrupt late", fd);
	CHECK(o.errors >= 2);
	CHECK(o.warnings >= 1);
	close(fd);
}

/* A table read through pieces, one of which cannot be read (a directory:
 * EISDIR) from byte @bad for @len bytes. */
static struct outcome error_case(const char *what, uint64_t n, uint64_t bad, uint64_t len)
{
	struct gen_opts g = { .chunk_sectors = 8, .exceptions = n, .valid = 1, .seed = 3,
			      .size = 4096ULL * (1 + 400 * 257) };
	int fd = unit_store(&g), dir = open(".", O_RDONLY | O_DIRECTORY);
	uint64_t size = (uint64_t)lseek(fd, 0, SEEK_END);
	struct snapcow_dev_piece p[3] = {
		{ bad, fd, 0 }, { len, dir, 0 }, { size - bad - len, fd, bad + len },
	};
	struct snapcow_dev *d;
	struct outcome o;

	CHECK(dir >= 0);
	CHECK_EQ(snapcow_dev_new_pieces(what, p, 3, &d), 0);
	o = all_threads(what, d);
	snapcow_dev_free(d);
	close(dir);
	close(fd);
	return o;
}

int main(void)
{
	static const uint64_t k[] = { 0, 1, 2, 3, 5 };
	struct outcome o;

	/* 4 KiB chunks: 256 records an area, 64 areas a batch */
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		uint64_t b = k[i] * 64 * 256;

		gen_case(8, b, 0);
		gen_case(8, b + 1, 0);
		gen_case(8, b ? b - 1 : 7, 0);
		gen_case(8, b + 256, 0);
		gen_case(8, b + 63 * 256 + 5, 0);
	}
	/* 512-byte chunks: 32 records an area, 512 areas a batch */
	gen_case(1, 3 * 512 * 32, 0);
	gen_case(1, 3 * 512 * 32 + 31, 0);
	gen_case(1, 2 * 512 * 32 - 32, 0);
	/* no terminator: the table fills the store (a full last area, then
	 * the end of the store) */
	o = full_case(0);
	CHECK_EQ(o.scan_r, SNAPCOW_ERR_TABLE);
	CHECK_EQ(o.iter_n, 130 * 256);
	o = full_case(1);
	CHECK_EQ(o.scan_r, 0);
	CHECK_EQ(o.iter_n, 130 * 256);
	corrupt_case();

	/* area 100 of 200 unreadable: reported there, with one thread's words */
	o = error_case("read error in the table", 200 * 256 + 3, 4096 * (1 + 100 * 257), 4096);
	CHECK_EQ(o.scan_r, -EISDIR);
	CHECK_EQ(o.iter_r, -EISDIR);
	CHECK_EQ(o.iter_n, 100 * 256);
	CHECK(o.log_lines >= 1);
	/* area 300 unreadable, the table ends in area 200: never read */
	o = error_case("read error past the table", 200 * 256 + 3, 4096 * (1 + 300 * 257), 4096);
	CHECK_EQ(o.scan_r, 0);
	CHECK_EQ(o.iter_n, 200 * 256 + 3);
	CHECK_EQ(o.log_lines, 0);
	return unit_done("areas");
}
