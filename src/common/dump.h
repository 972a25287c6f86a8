/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dumps of a store's header and exception table (tool-only, never in
 * libsnapcow), built around one visitor, after thin-provisioning-tools'
 * thin/ir.rs and xml.rs.  A visitor is called in table order:
 *
 *   header, then for each area: area, exception..., area_end; then end.
 *
 * Two things call a visitor:
 *  - dump_walk_store(): a store, through libsnapcow's area reader, the way
 *    the kernel walks it (dump_walk.c);
 *  - the dump reader: snap_dump's XML (expat) or JSON (json-c) text
 *    (dump_read.c).  It checks the syntax only (a well-formed document,
 *    known elements/keys and attributes, all of them present, unsigned
 *    integers that fit in 64 bits); what the values mean is the visitor's
 *    to check.
 * Visitors: the writers of the XML, JSON (through json-c) and human texts
 * (dump_write.c), and snap_restore's check against the kernel's rules
 * (dump_check.c) and its writer pass (restore.c).
 *
 * Memory: the store walk holds one chunk; the writers one record; the XML
 * reader streams; the JSON reader keeps the parsed document (json-c has no
 * streaming parser).
 */
#ifndef SNAPRESCUE_DUMP_H
#define SNAPRESCUE_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapcow.h"

enum dump_format { DUMP_XML, DUMP_JSON, DUMP_HUMAN };

/* Where a callback's item is: @line is 0 when unknown (JSON, a store). */
struct dump_pos {
	unsigned long line;
	uint64_t area;     /* area index as read (or the area's position) */
	uint64_t index;    /* exception's index within its area */
	uint64_t record;   /* exception's position in the whole table */
};

/* The header as a dump holds it: 64-bit values, whatever the text said. */
struct dump_header {
	uint64_t magic;
	uint64_t valid;
	uint64_t version;
	uint64_t chunk_sectors;
	uint64_t store_size;
	uint64_t per_area; /* exceptions_per_area */
};

/* A member may be NULL (nothing to do).  A callback returning non-zero
 * stops the walk or the parse, which returns that value. */
struct dump_visitor {
	int (*header)(void *data, const struct dump_pos *pos, const struct dump_header *h);
	int (*area)(void *data, const struct dump_pos *pos, uint64_t index, uint64_t chunk);
	int (*exception)(void *data, const struct dump_pos *pos, uint64_t old_chunk,
			 uint64_t new_chunk);
	int (*area_end)(void *data, const struct dump_pos *pos, uint64_t count);
	/* @incomplete: the table could not be read to its end (it stopped
	 * before area @incomplete_area). */
	int (*end)(void *data, const struct dump_pos *pos, int incomplete,
		   uint64_t incomplete_area);
};

/* Call visitor @v's callback @cb, if it has one: 0 when it has none. */
#define dump_visit(v, cb, ...) ((v)->cb ? (v)->cb(__VA_ARGS__) : 0)

/* ---- Reading a dump (dump_read.c) ---------------------------------------- */

struct dump_reader;

/* Open @path ("-" is stdin: kept in a temporary file, as a dump may be
 * read more than once) and detect the format from the first non-blank
 * byte.  On failure, prints the reason (naming @path) and returns a
 * negative errno. */
int dump_reader_open(const char *path, struct dump_reader **out);
/* DUMP_XML or DUMP_JSON. */
enum dump_format dump_reader_format(const struct dump_reader *r);
/* The path given at open. */
const char *dump_reader_name(const struct dump_reader *r);
/* Parse the whole dump (again from the start on every call), calling @v.
 * Syntax errors are printed as "<path>: line N: ..." and return -EINVAL.
 * Returns: 0, what a callback returned, or a negative errno. */
int dump_reader_run(struct dump_reader *r, const struct dump_visitor *v, void *data);
void dump_reader_free(struct dump_reader *r);

/* ---- Writing a dump (dump_write.c) --------------------------------------- */

struct dump_writer;

/* A writer of @format text to @f (which stays the caller's).  JSON goes
 * through json-c one value or record at a time: memory does not grow
 * with the table.  Returns 0 or -ENOMEM. */
int dump_writer_new(FILE *f, enum dump_format format, struct dump_writer **out);
/* The visitor to call with the writer as its data; a callback returns
 * -EIO once @f has a write error. */
const struct dump_visitor *dump_writer_visitor(const struct dump_writer *w);
void dump_writer_free(struct dump_writer *w);

/* ---- Walking a store (dump_walk.c) --------------------------------------- */

struct dump_walk_result {
	uint64_t exceptions; /* records visited */
	uint64_t areas;      /* areas visited */
	uint64_t end_area;   /* the area holding the terminator, or the one
				that could not be read */
	uint32_t end_index;  /* the terminator's index in it */
	int error;           /* 0: read to its terminator; else the area
				reader's error for area end_area */
};

/* Visit store @s: its header, then its table area by area as the kernel
 * walks it (snapcow_store_read_area(): up to the first record whose
 * new_chunk is 0; the next area only after a full one, so a full area's
 * zeroed successor is visited, empty).  When an area cannot be read
 * (logged by libsnapcow), end() says incomplete and @res->error is set.
 * Memory: one chunk.
 * Returns: 0, what a callback returned (the walk stops there), or
 * @res->error. */
int dump_walk_store(struct snapcow_store *s, const struct dump_visitor *v, void *data,
		    struct dump_walk_result *res);

/* Warn about the bytes a dump cannot carry: non-zero bytes after the
 * header in the header chunk, and after the terminator in the last area
 * of walk @res (nothing when it did not reach the terminator). */
void dump_warn_leftovers(struct snapcow_store *s, const struct dump_walk_result *res);

/* ---- Checking a dump against the kernel's rules (dump_check.c) ----------- */

/* What a dump that passed the check describes. */
struct dump_summary {
	struct snapcow_geometry geo; /* chunk size and the store size used */
	uint32_t valid;
	uint64_t exceptions;
	uint64_t areas;      /* areas in the dump, the terminating one included */
	uint64_t last_count; /* exceptions in its last area */
};

/* Read the dump @r through libsnapcow's rules: the header
 * (snapcow_header_check, for a store of @store_size bytes, or the dump's
 * store_size when 0), the layout (snapcow_geometry_*), every record
 * (snapcow_record_check) and every new and old chunk used once
 * (snapcow_table_check_*, fed the on-disk records the writer will write),
 * plus what is about the dump itself: areas numbered 0, 1, ... at their
 * chunks, none after an area that is not full, at most exceptions_per_area
 * exceptions in an area, a full area followed by the empty one that
 * terminates the table, no "incomplete" mark.  The first problem is printed
 * as "<dump>: line N: area A exception I: ..." and the check stops there.
 * Returns: 0 and *@out, 1 after a problem, or a negative errno (-EINVAL
 * for a syntax error, printed by the reader). */
int dump_check(struct dump_reader *r, uint64_t store_size, struct dump_summary *out);

#endif
