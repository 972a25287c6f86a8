/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules module: geometry, record rules, header rules, the kernel's
 * figures, and library contexts (each its own log). */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "unit.h"

struct seen {
	int n, errors, warnings;
	char last_code[64];
	char last_msg[256];
};

static void on_problem(void *data, const struct snapcow_problem *p)
{
	struct seen *s = data;

	s->n++;
	if (p->severity <= LOG_ERR)
		s->errors++;
	else
		s->warnings++;
	snprintf(s->last_code, sizeof(s->last_code), "%s", p->code);
	snprintf(s->last_msg, sizeof(s->last_msg), "%s", p->message);
}

static int header(uint32_t magic, uint32_t valid, uint32_t version, uint32_t chunk, uint64_t size,
		  struct seen *s)
{
	struct snapcow_header h = { magic, valid, version, chunk };

	memset(s, 0, sizeof(*s));
	return snapcow_header_check(&h, size, on_problem, s);
}

static void test_geometry_and_records(void)
{
	struct snapcow_geometry g;
	char buf[160];

	CHECK_EQ(snapcow_geometry_init(&g, 3, 1 << 20), SNAPCOW_ERR_CHUNK_SIZE);
	CHECK_EQ(snapcow_geometry_init(&g, 8, 4096), SNAPCOW_ERR_TOO_SMALL);
	CHECK_EQ(snapcow_geometry_init(&g, 8, 300 * 4096 + 100), 0);
	CHECK_EQ(g.chunk_bytes, 4096);
	CHECK_EQ(g.per_area, 256);
	CHECK_EQ(g.chunks, 300);
	CHECK_EQ(snapcow_geometry_area_fits(&g, 0), 1);
	CHECK_EQ(snapcow_geometry_area_fits(&g, 1), 1);   /* chunk 258 */
	CHECK_EQ(snapcow_geometry_area_fits(&g, 2), 0);   /* chunk 515 */
	CHECK_EQ(snapcow_geometry_area_fits(&g, UINT64_MAX), 0);

	CHECK_EQ(snapcow_record_check(&g, 0), SNAPCOW_RECORD_END);
	CHECK_EQ(snapcow_record_check(&g, 2), SNAPCOW_RECORD_OK);
	CHECK_EQ(snapcow_record_check(&g, 258), SNAPCOW_RECORD_METADATA);
	CHECK_EQ(snapcow_record_check(&g, 299), SNAPCOW_RECORD_OK);
	CHECK_EQ(snapcow_record_check(&g, 300), SNAPCOW_RECORD_PAST_END);
	CHECK_EQ(snapcow_record_check(&g, 1ULL << 56), SNAPCOW_RECORD_TOO_LARGE);
	CHECK(!strcmp(snapcow_record_rule_code(SNAPCOW_RECORD_METADATA), "new-chunk-metadata"));
	snapcow_record_describe(&g, SNAPCOW_RECORD_PAST_END, 900, buf, sizeof(buf));
	CHECK(!strcmp(buf, "new chunk 900 is past the end of the store (300 chunks)"));

	/* next_free: at least 2, an area chunk it lands on is skipped */
	CHECK_EQ(snapcow_next_free_finish(256, 0), 2);
	CHECK_EQ(snapcow_next_free_finish(256, 258), 259);
	CHECK_EQ(snapcow_next_free_finish(256, 257), 257);
}

static void test_header(void)
{
	struct seen s;

	CHECK_EQ(header(0, 1, 1, 8, 8, &s), SNAPCOW_ERR_TOO_SMALL);
	CHECK(!strcmp(s.last_code, "too-small"));
	CHECK_EQ(header(0, 1, 1, 8, 1 << 20, &s), SNAPCOW_ERR_NEW);
	CHECK_EQ(header(0x12345678, 1, 1, 8, 1 << 20, &s), SNAPCOW_ERR_MAGIC);
	CHECK(strstr(s.last_msg, "offset 0: bad magic 0x12345678") != NULL);
	CHECK_EQ(header(SNAPCOW_MAGIC, 1, 2, 8, 1 << 20, &s), SNAPCOW_ERR_VERSION);
	CHECK_EQ(header(SNAPCOW_MAGIC, 1, 1, 3, 1 << 20, &s), SNAPCOW_ERR_CHUNK_SIZE);
	CHECK_EQ(header(SNAPCOW_MAGIC, 1, 1, 8, 4096, &s), SNAPCOW_ERR_TOO_SMALL);
	CHECK_EQ(s.errors, 1);
	/* a clean header: nothing said */
	CHECK_EQ(header(SNAPCOW_MAGIC, 1, 1, 8, 1 << 20, &s), 0);
	CHECK_EQ(s.n, 0);
	/* warnings only */
	CHECK_EQ(header(SNAPCOW_MAGIC, 0, 1, 8, 1 << 20, &s), 0);
	CHECK(!strcmp(s.last_code, "invalid"));
	CHECK_EQ(header(SNAPCOW_MAGIC, 7, 1, 4, (1 << 20) + 100, &s), 0);
	CHECK_EQ(s.warnings, 3); /* valid-flag, chunk-size-lvm, partial-chunk */
	CHECK_EQ(s.errors, 0);
}

static void test_stats(void)
{
	struct snapcow_geometry g;
	struct snapcow_stats st = { .exceptions = 256, .areas = 2, .next_free = 258,
				    .last_area_full = 1 };

	/* 256 exceptions at chunks 2..257: the kernel's figures */
	snapcow_geometry_init(&g, 8, 4 << 20);
	snapcow_stats_finish(&g, &st);
	CHECK_EQ(st.next_free, 259);
	CHECK_EQ(st.allocated_sectors, 259 * 8);
	CHECK_EQ(st.metadata_sectors, 3 * 8);
	CHECK_EQ(st.total_sectors, 8192);
	CHECK_EQ(st.full, 0);
	/* full: no room for one more chunk at next_free (the kernel's test) */
	snapcow_geometry_init(&g, 8, 259 * 4096);
	st.next_free = 258;
	snapcow_stats_finish(&g, &st);
	CHECK_EQ(st.full, 1);
	snapcow_geometry_init(&g, 8, 260 * 4096);
	st.next_free = 258;
	snapcow_stats_finish(&g, &st);
	CHECK_EQ(st.full, 0);
}

/* Two contexts log apart: a store opened with one never reaches the
 * other's function, and a NULL context says nothing. */
static int logged_a, logged_b;

static void log_a(void *data, int prio, const char *msg)
{
	(void)data, (void)prio, (void)msg;
	logged_a++;
}

static void log_b(void *data, int prio, const char *msg)
{
	(void)data, (void)prio, (void)msg;
	logged_b++;
}

static void test_ctx(void)
{
	struct snapcow_ctx *a, *b;
	struct snapcow_store *s;

	CHECK_EQ(snapcow_ctx_new(&a), 0);
	CHECK_EQ(snapcow_ctx_new(&b), 0);
	snapcow_ctx_set_log_fn(a, log_a, NULL);
	snapcow_ctx_set_log_fn(b, log_b, NULL);
	CHECK_EQ(snapcow_ctx_get_log_priority(a), LOG_WARNING);
	CHECK_EQ(snapcow_store_open(a, "/nonexistent/store", 0, &s), -ENOENT);
	CHECK_EQ(logged_a, 1);
	CHECK_EQ(logged_b, 0);
	snapcow_ctx_set_log_priority(b, -1);
	CHECK_EQ(snapcow_store_open(b, "/nonexistent/store", 0, &s), -ENOENT);
	CHECK_EQ(logged_b, 0);
	CHECK_EQ(snapcow_store_open(NULL, "/nonexistent/store", 0, &s), -ENOENT);
	CHECK(snapcow_ctx_ref(a) == a);
	snapcow_ctx_unref(a);
	snapcow_ctx_unref(a);
	snapcow_ctx_unref(b);
	CHECK(!strcmp(snapcow_strerror(SNAPCOW_ERR_UNDO_CONTENT),
		      "store does not hold what the undo file expects"));
}

int main(void)
{
	test_geometry_and_records();
	test_header();
	test_stats();
	test_ctx();
	return unit_done("rules");
}
