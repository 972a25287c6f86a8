/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading snap_dump's XML and JSON dumps (tool-only, never in libsnapcow).
 *
 * The reader parses with expat (XML) or json-c (JSON), chosen by the first
 * non-blank byte, and calls back in table order: header, then for each area
 * area() / exception()... / area_end(), then end().  It checks the syntax
 * (well-formed document, known elements and attributes, all attributes
 * present, unsigned integers that fit in 64 bits); the meaning of the values
 * is the caller's to check.  A reader can be run more than once (validate,
 * then write): XML is parsed again from the start, JSON is kept parsed.
 */
#ifndef SNAPRESCUE_DUMPFMT_H
#define SNAPRESCUE_DUMPFMT_H

#include <stddef.h>
#include <stdint.h>

enum dump_format { DUMP_XML, DUMP_JSON };

/* Where a callback's item is: @line is 0 when unknown (JSON). */
struct dump_pos {
	unsigned long line;
	uint64_t area;     /* area index as read (or the area's position) */
	uint64_t index;    /* exception's index within its area */
	uint64_t record;   /* exception's position in the whole table */
};

struct dump_header {
	uint64_t magic;
	uint64_t valid;
	uint64_t version;
	uint64_t chunk_sectors;
	uint64_t store_size;
	uint64_t per_area; /* exceptions_per_area */
};

struct dump_ops {
	int (*header)(void *data, const struct dump_pos *pos, const struct dump_header *h);
	int (*area)(void *data, const struct dump_pos *pos, uint64_t index, uint64_t chunk);
	int (*exception)(void *data, const struct dump_pos *pos, uint64_t old_chunk,
			 uint64_t new_chunk);
	int (*area_end)(void *data, const struct dump_pos *pos, uint64_t count);
	/* @incomplete: the dump says snap_dump could not read the whole
	 * table (it stopped in area @incomplete_area). */
	int (*end)(void *data, const struct dump_pos *pos, int incomplete,
		   uint64_t incomplete_area);
};

struct dump_reader;

/* Open @path ("-" is stdin) and detect the format.  On failure, prints the
 * reason (naming @path) and returns a negative errno. */
int dump_reader_open(const char *path, struct dump_reader **out);
enum dump_format dump_reader_format(const struct dump_reader *r);
/* Parse the whole dump, calling @ops.  A callback returning non-zero stops
 * the parse and that value is returned (the callback prints its message).
 * Syntax errors are printed as "<path>: line N: ..." and return -EINVAL.
 * Returns: 0, the callback's value, or a negative errno. */
int dump_reader_run(struct dump_reader *r, const struct dump_ops *ops, void *data);
void dump_reader_free(struct dump_reader *r);

/* Parse an unsigned decimal (or 0x hex) number with no sign, blanks or
 * leading zeros.  Returns 0, -EINVAL (not a number; "negative" when it
 * starts with '-') or -ERANGE (does not fit in 64 bits). */
int dump_parse_u64(const char *s, uint64_t *out);

#endif
