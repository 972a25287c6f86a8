/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checking a dump before it is written (see dump_check() in dump.h): a
 * visitor that asks libsnapcow about every rule of the format (the header,
 * the layout, each record, each chunk used once) and itself only about
 * the dump's own structure.  The table check is fed each area as the
 * on-disk records the writer will write.
 *
 * The table check remembers which chunks are in use, not where: when it
 * reports a chunk used twice, the dump is read again (XML is parsed again,
 * JSON is kept) to name the line of the record and of the earlier one.
 * Memory: one area of records, and the table check's bitmaps (one bit per
 * chunk of the store, 2 MiB per 2^24 old chunks in use).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "dump.h"
#include "tool.h"

struct disk_record {
	uint64_t old_chunk; /* little-endian, as on disk */
	uint64_t new_chunk;
};

struct check {
	const char *name;
	uint64_t size_override;
	struct dump_summary sum;
	struct dump_pos header_pos;
	uint64_t cur_area;        /* the area @recs holds */
	struct disk_record *recs;
	struct snapcow_table_check *tc;
	/* the first problem the table check reported */
	int problem;
	int64_t p_area, p_index;
	char p_code[32];
	char p_msg[512];
};

static const char *where(const struct dump_pos *pos, int exc, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (pos && pos->line)
		n = snprintf(buf, len, "line %lu: ", pos->line);
	if (pos && exc)
		snprintf(buf + n, len - (size_t)n, "area %" PRIu64 " exception %" PRIu64 ": ",
			 pos->area, pos->index);
	return buf;
}

/* Print "<dump>: <where><message>" and return 1 (stop). */
static int bad(const struct check *c, const struct dump_pos *pos, int exc, const char *fmt, ...)
	PRINTF_LIKE(4, 5);

static int bad(const struct check *c, const struct dump_pos *pos, int exc, const char *fmt, ...)
{
	char w[96], m[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	warnx("%s: %s%s", c->name, where(pos, exc, w, sizeof(w)), m);
	return 1;
}

/* ---- Header ----------------------------------------------------------------- */

/* The header's problems, without the "offset N: " of a store's header
 * field (a dump has lines, not offsets).  A dump of an invalid store is
 * restored invalid without a word: the user has the dump in hand. */
static void header_problem(void *data, const struct snapcow_problem *p)
{
	struct check *c = data;
	const char *msg = p->message;
	size_t n = strncmp(msg, "offset ", 7) ? 0 : strspn(msg + 7, "0123456789");

	if (n && !strncmp(msg + 7 + n, ": ", 2))
		msg += 7 + n + 2;
	if (p->severity <= LOG_ERR)
		bad(c, &c->header_pos, 0, "%s", msg);
	else if (strcmp(p->code, "invalid") && tool_verbosity() > 0)
		warnx("warning: %s: %s", c->name, msg);
}

static void table_problem(void *data, const struct snapcow_problem *p);

static int on_header(void *data, const struct dump_pos *pos, const struct dump_header *h)
{
	static const char *const names[] = { "magic", "valid", "version", "chunk_sectors" };
	const uint64_t v[] = { h->magic, h->valid, h->version, h->chunk_sectors };
	struct check *c = data;
	struct snapcow_geometry *g = &c->sum.geo;
	uint64_t size = c->size_override ? c->size_override : h->store_size;
	struct snapcow_header sh;
	size_t i;
	int r;

	for (i = 0; i < 4; i++)
		if (v[i] > UINT32_MAX)
			return bad(c, pos, 0, "%s %" PRIu64 " does not fit in the header's 32-bit field",
				   names[i], v[i]);
	sh = (struct snapcow_header){ (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2],
				      (uint32_t)v[3] };
	c->header_pos = *pos;
	if (snapcow_header_check(&sh, size, header_problem, c))
		return 1;
	r = snapcow_geometry_init(g, sh.chunk_sectors, size);
	if (r < 0)
		return bad(c, pos, 0, "%s", snapcow_strerror(r));
	if (h->per_area != g->per_area)
		return bad(c, pos, 0, "exceptions_per_area %" PRIu64 " does not match chunk_sectors "
			   "%" PRIu32 " (%" PRIu32 " exceptions per area)", h->per_area,
			   g->chunk_sectors, g->per_area);
	if (size % SNAPCOW_SECTOR_SIZE)
		return bad(c, pos, 0, "store size %" PRIu64 " is not a whole number of 512-byte "
			   "sectors", size);
	c->sum.valid = sh.valid;
	c->recs = calloc(g->per_area, sizeof(*c->recs));
	if (!c->recs || snapcow_table_check_new(tool_ctx(), g, NULL, table_problem, c, &c->tc))
		return bad(c, pos, 0, "out of memory for checking a store of %" PRIu64 " chunks",
			   g->chunks);
	return 0;
}

/* ---- Areas and records ------------------------------------------------------ */

/* The table check's first error; reported once the parse has stopped. */
static void table_problem(void *data, const struct snapcow_problem *p)
{
	struct check *c = data;

	if (c->problem || p->severity > LOG_ERR)
		return;
	c->problem = 1;
	c->p_area = p->area;
	c->p_index = p->index;
	snprintf(c->p_code, sizeof(c->p_code), "%s", p->code);
	snprintf(c->p_msg, sizeof(c->p_msg), "%s", p->message);
}

static int on_area(void *data, const struct dump_pos *pos, uint64_t index, uint64_t chunk)
{
	struct check *c = data;
	const struct snapcow_geometry *g = &c->sum.geo;
	uint64_t want = snapcow_area_chunk(g->per_area, c->sum.areas);
	struct snapcow_check_result res;

	if (index != c->sum.areas)
		return bad(c, pos, 0, "area index %" PRIu64 ", expected %" PRIu64, index,
			   c->sum.areas);
	if (index > 0 && c->sum.last_count < g->per_area)
		return bad(c, pos, 0, "area %" PRIu64 " follows area %" PRIu64 ", which is not full "
			   "(%" PRIu64 " of %" PRIu32 " exceptions): the kernel stops at the first "
			   "area that is not full", index, index - 1, c->sum.last_count, g->per_area);
	if (chunk != want)
		return bad(c, pos, 0, "area %" PRIu64 " is at chunk %" PRIu64 ", not %" PRIu64,
			   index, want, chunk);
	if (!snapcow_geometry_area_fits(g, index)) {
		/* After a full area: the kernel's "no terminator". */
		if (snapcow_table_check_finish(c->tc, 0, &res) == 0 && c->problem) {
			c->problem = 0; /* said here, at the area */
			return bad(c, pos, 0, "%s", c->p_msg);
		}
		return bad(c, pos, 0, "area %" PRIu64 " at chunk %" PRIu64 " is past the end of "
			   "the store (%" PRIu64 " chunks)", index, chunk, g->chunks);
	}
	c->cur_area = index;
	c->sum.areas++;
	return 0;
}

static int on_exception(void *data, const struct dump_pos *pos, uint64_t old_chunk,
			uint64_t new_chunk)
{
	struct check *c = data;
	const struct snapcow_geometry *g = &c->sum.geo;
	enum snapcow_record_rule rule;
	char why[160];

	if (pos->index >= g->per_area)
		return bad(c, pos, 1, "area %" PRIu64 " has more than %" PRIu32 " exceptions",
			   pos->area, g->per_area);
	rule = snapcow_record_check(g, new_chunk);
	if (rule != SNAPCOW_RECORD_OK)
		return bad(c, pos, 1, "%s",
			   snapcow_record_describe(g, rule, new_chunk, why, sizeof(why)));
	c->recs[pos->index].old_chunk = htole64(old_chunk);
	c->recs[pos->index].new_chunk = htole64(new_chunk);
	c->sum.exceptions++;
	return 0;
}

/* The table check ran out of memory: that, not a half-checked problem. */
static int out_of_memory(struct check *c, const struct dump_pos *pos)
{
	c->problem = 0;
	return bad(c, pos, 0, "out of memory checking the table");
}

static int on_area_end(void *data, const struct dump_pos *pos, uint64_t count)
{
	struct check *c = data;

	c->sum.last_count = count;
	if (snapcow_table_check_area(c->tc, c->cur_area, c->recs, (uint32_t)count) < 0)
		return out_of_memory(c, pos);
	return c->problem;
}

static int on_end(void *data, const struct dump_pos *pos, int incomplete, uint64_t area)
{
	struct check *c = data;
	const struct snapcow_geometry *g = &c->sum.geo;
	struct snapcow_check_result res;

	if (incomplete)
		return bad(c, pos, 0, "the dump is marked incomplete: snap_dump could not read the "
			   "table from area %" PRIu64 " on, so restoring it would silently drop "
			   "what follows", area);
	if (c->sum.last_count == g->per_area)
		return bad(c, pos, 0, "area %" PRIu64 " is full and is the last area: the table has "
			   "no terminator (add an empty area %" PRIu64 " at chunk %" PRIu64 " to write "
			   "one)", c->sum.areas - 1, c->sum.areas,
			   snapcow_area_chunk(g->per_area, c->sum.areas));
	if (snapcow_table_check_finish(c->tc, 1, &res) < 0)
		return out_of_memory(c, pos);
	return c->problem;
}

static const struct dump_visitor check_visitor = {
	.header = on_header,
	.area = on_area,
	.exception = on_exception,
	.area_end = on_area_end,
	.end = on_end,
};

/* ---- Naming the records of a problem ---------------------------------------- */

/* What to find when the dump is read again: record @index of area @area
 * (its position and chunks) and, with @kind 1 (old) or 2 (new), the first
 * earlier record whose chunk of that kind is @value. */
struct locate {
	uint64_t area, index;
	int kind;
	uint64_t value;
	int found, found_first;
	struct dump_pos pos, first;
	uint64_t old_chunk, new_chunk;
};

static int locate_exception(void *data, const struct dump_pos *pos, uint64_t old_chunk,
			    uint64_t new_chunk)
{
	struct locate *l = data;

	if (pos->area == l->area && pos->index == l->index) {
		l->found = 1;
		l->pos = *pos;
		l->old_chunk = old_chunk;
		l->new_chunk = new_chunk;
		return 1;
	}
	if (!l->found_first && l->kind && (l->kind == 1 ? old_chunk : new_chunk) == l->value) {
		l->found_first = 1;
		l->first = *pos;
	}
	return 0;
}

/* Read the dump again for @l. */
static void locate(struct dump_reader *r, struct locate *l)
{
	static const struct dump_visitor v = { .exception = locate_exception };

	l->found = l->found_first = 0;
	dump_reader_run(r, &v, l);
}

/* Print the table check's problem at its record, naming the earlier one. */
static void report_problem(struct check *c, struct dump_reader *r)
{
	struct locate l = { .area = (uint64_t)c->p_area, .index = (uint64_t)c->p_index };
	const char *msg = strstr(c->p_msg, "): "), *old = strstr(c->p_code, "old-");
	char w[96], first[96] = "";

	if (c->p_index < 0 || !msg) {
		bad(c, NULL, 0, "%s", c->p_msg);
		return;
	}
	msg += 3; /* the library's "area A record I (byte offset O): " */
	l.kind = old ? 1 : 2;
	if (l.area == c->cur_area && l.index < c->sum.last_count) {
		l.value = le64toh(old ? c->recs[l.index].old_chunk : c->recs[l.index].new_chunk);
	} else {
		locate(r, &l); /* the record is in an earlier area: its chunks first */
		l.value = old ? l.old_chunk : l.new_chunk;
	}
	locate(r, &l);
	if (!l.found)
		l.pos = (struct dump_pos){ .area = l.area, .index = l.index };
	if (l.found_first && l.first.line)
		snprintf(first, sizeof(first), " (area %" PRIu64 " exception %" PRIu64 ", line %lu)",
			 l.first.area, l.first.index, l.first.line);
	else if (l.found_first)
		snprintf(first, sizeof(first), " (area %" PRIu64 " exception %" PRIu64 ")",
			 l.first.area, l.first.index);
	warnx("%s: %s%s%s", c->name, where(&l.pos, 1, w, sizeof(w)), msg, first);
}

int dump_check(struct dump_reader *r, uint64_t store_size, struct dump_summary *out)
{
	struct check c = { .name = dump_reader_name(r), .size_override = store_size };
	int ret;

	ret = dump_reader_run(r, &check_visitor, &c);
	if (ret == 1 && c.problem)
		report_problem(&c, r);
	snapcow_table_check_free(c.tc);
	free(c.recs);
	if (!ret)
		*out = c.sum;
	return ret;
}
