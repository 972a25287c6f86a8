/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dump writers: three visitors (see dump.h) that print what they
 * visit as snap_dump's XML, JSON or human text.  An area is printed when
 * its first exception comes (or, empty, at its end), so that an empty
 * area is one element.  JSON values and records are serialized by json-c,
 * one at a time through objects made once; only the arrays and the
 * objects that hold them are framed here, so memory does not grow with
 * the table.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "dump.h"
#include "tool.h"

#define JSON_FLAGS JSON_C_TO_STRING_SPACED

struct dump_writer {
	FILE *f;
	enum dump_format format;
	uint64_t area, chunk;  /* the area being visited */
	uint64_t exceptions, areas;
	int areas_open;        /* JSON: the "areas" array has an element */
	struct json_object *num;            /* JSON: one number */
	struct json_object *rec, *old, *new; /* JSON: one record */
};

static int status(const struct dump_writer *w)
{
	return ferror(w->f) ? -EIO : 0;
}

/* ---- XML ------------------------------------------------------------------ */

static int xml_header(void *data, const struct dump_pos *pos, const struct dump_header *h)
{
	struct dump_writer *w = data;

	(void)pos;
	fprintf(w->f,
		"<snapshot_store magic=\"0x%08" PRIx64 "\" valid=\"%" PRIu64 "\" version=\"%" PRIu64
		"\" chunk_sectors=\"%" PRIu64 "\" store_size=\"%" PRIu64
		"\" exceptions_per_area=\"%" PRIu64 "\">\n",
		h->magic, h->valid, h->version, h->chunk_sectors, h->store_size, h->per_area);
	return status(w);
}

static int any_area(void *data, const struct dump_pos *pos, uint64_t index, uint64_t chunk)
{
	struct dump_writer *w = data;

	(void)pos;
	w->area = index;
	w->chunk = chunk;
	w->areas++;
	return 0;
}

static int xml_exception(void *data, const struct dump_pos *pos, uint64_t old_chunk,
			 uint64_t new_chunk)
{
	struct dump_writer *w = data;

	if (pos->index == 0)
		fprintf(w->f, "  <area index=\"%" PRIu64 "\" chunk=\"%" PRIu64 "\">\n", w->area,
			w->chunk);
	fprintf(w->f, "    <exception old=\"%" PRIu64 "\" new=\"%" PRIu64 "\"/>\n", old_chunk,
		new_chunk);
	w->exceptions++;
	return 0;
}

static int xml_area_end(void *data, const struct dump_pos *pos, uint64_t count)
{
	struct dump_writer *w = data;

	(void)pos;
	if (count)
		fputs("  </area>\n", w->f);
	else
		fprintf(w->f, "  <area index=\"%" PRIu64 "\" chunk=\"%" PRIu64 "\"/>\n", w->area,
			w->chunk);
	return status(w);
}

static int xml_end(void *data, const struct dump_pos *pos, int incomplete, uint64_t area)
{
	struct dump_writer *w = data;

	(void)pos;
	if (incomplete)
		fprintf(w->f, "  <incomplete area=\"%" PRIu64 "\"/>\n", area);
	fputs("</snapshot_store>\n", w->f);
	return status(w);
}

/* ---- JSON ----------------------------------------------------------------- */

/* @v as json-c writes it (the text lives in the object until its next use). */
static const char *jnum(struct dump_writer *w, uint64_t v)
{
	json_object_set_uint64(w->num, v);
	return json_object_to_json_string_ext(w->num, JSON_FLAGS);
}

/* Print @o (a new object, freed here) as json-c writes it. */
static int jput(struct dump_writer *w, struct json_object *o)
{
	const char *s = o ? json_object_to_json_string_ext(o, JSON_FLAGS) : NULL;

	if (s)
		fputs(s, w->f);
	json_object_put(o);
	return s ? 0 : -ENOMEM;
}

static int json_header(void *data, const struct dump_pos *pos, const struct dump_header *h)
{
	static const char *const keys[] = { "valid", "version", "chunk_sectors", "store_size",
		"exceptions_per_area" };
	const uint64_t vals[] = { h->valid, h->version, h->chunk_sectors, h->store_size,
		h->per_area };
	struct dump_writer *w = data;
	char magic[24];
	size_t i;

	(void)pos;
	snprintf(magic, sizeof(magic), "0x%08" PRIx64, h->magic);
	fputs("{\n  \"snapshot_store\": {\n    \"magic\": ", w->f);
	if (jput(w, json_object_new_string(magic)))
		return -ENOMEM;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		fprintf(w->f, ",\n    \"%s\": %s", keys[i], jnum(w, vals[i]));
	fputs(",\n    \"areas\": [", w->f);
	return status(w);
}

/* Start the element of area @w->area in "areas". */
static void json_area_open(struct dump_writer *w)
{
	fprintf(w->f, "%s\n      ", w->areas_open ? "," : "");
	w->areas_open = 1;
}

static int json_exception(void *data, const struct dump_pos *pos, uint64_t old_chunk,
			  uint64_t new_chunk)
{
	struct dump_writer *w = data;

	if (pos->index == 0) {
		json_area_open(w);
		fprintf(w->f, "{ \"index\": %s", jnum(w, w->area));
		fprintf(w->f, ", \"chunk\": %s, \"exceptions\": [", jnum(w, w->chunk));
	}
	json_object_set_uint64(w->old, old_chunk);
	json_object_set_uint64(w->new, new_chunk);
	fprintf(w->f, "%s\n        %s", pos->index ? "," : "",
		json_object_to_json_string_ext(w->rec, JSON_FLAGS));
	w->exceptions++;
	return 0;
}

static int json_area_end(void *data, const struct dump_pos *pos, uint64_t count)
{
	struct dump_writer *w = data;
	struct json_object *a;

	(void)pos;
	if (count) {
		fputs("\n      ] }", w->f);
		return status(w);
	}
	/* An empty area is a whole object: json-c writes it. */
	json_area_open(w);
	a = json_object_new_object();
	if (!a || json_object_object_add(a, "index", json_object_new_uint64(w->area)) ||
	    json_object_object_add(a, "chunk", json_object_new_uint64(w->chunk)) ||
	    json_object_object_add(a, "exceptions", json_object_new_array())) {
		json_object_put(a);
		return -ENOMEM;
	}
	return jput(w, a) ? -ENOMEM : status(w);
}

static int json_end(void *data, const struct dump_pos *pos, int incomplete, uint64_t area)
{
	struct dump_writer *w = data;
	struct json_object *inc;

	(void)pos;
	fputs(w->areas_open ? "\n    ]" : "]", w->f);
	if (incomplete) {
		fputs(",\n    \"incomplete\": ", w->f);
		inc = json_object_new_object();
		if (!inc || json_object_object_add(inc, "area", json_object_new_uint64(area))) {
			json_object_put(inc);
			return -ENOMEM;
		}
		if (jput(w, inc))
			return -ENOMEM;
	}
	fputs("\n  }\n}\n", w->f);
	return status(w);
}

/* ---- Human ---------------------------------------------------------------- */

static int human_header(void *data, const struct dump_pos *pos, const struct dump_header *h)
{
	struct dump_writer *w = data;
	char buf[32];

	(void)pos;
	fprintf(w->f,
		"magic                0x%08" PRIx64 " (SnAp)\n"
		"valid                %" PRIu64 "%s\n"
		"version              %" PRIu64 "\n"
		"chunk_sectors        %" PRIu64 " (%" PRIu64 " bytes)\n"
		"store_size           %" PRIu64 " (%s)\n"
		"exceptions_per_area  %" PRIu64 "\n\n"
		"%8s %12s %6s %20s %20s\n",
		h->magic, h->valid, h->valid ? "" : " (invalidated)", h->version, h->chunk_sectors,
		h->chunk_sectors * SNAPCOW_SECTOR_SIZE, h->store_size,
		format_size(h->store_size, buf, sizeof(buf)), h->per_area, "area", "chunk", "index",
		"old_chunk", "new_chunk");
	return status(w);
}

static int human_exception(void *data, const struct dump_pos *pos, uint64_t old_chunk,
			   uint64_t new_chunk)
{
	struct dump_writer *w = data;

	fprintf(w->f, "%8" PRIu64 " %12" PRIu64 " %6" PRIu64 " %20" PRIu64 " %20" PRIu64 "\n",
		w->area, w->chunk, pos->index, old_chunk, new_chunk);
	w->exceptions++;
	return 0;
}

static int human_area_end(void *data, const struct dump_pos *pos, uint64_t count)
{
	struct dump_writer *w = data;

	(void)pos;
	if (!count)
		fprintf(w->f, "%8" PRIu64 " %12" PRIu64 " %6s  (empty)\n", w->area, w->chunk, "-");
	return status(w);
}

static int human_end(void *data, const struct dump_pos *pos, int incomplete, uint64_t area)
{
	struct dump_writer *w = data;

	(void)pos;
	fprintf(w->f, "\n%" PRIu64 " exception%s in %" PRIu64 " area%s\n", w->exceptions,
		w->exceptions == 1 ? "" : "s", w->areas, w->areas == 1 ? "" : "s");
	if (incomplete)
		fprintf(w->f, "INCOMPLETE: area %" PRIu64 " could not be read; the table may go on\n",
			area);
	return status(w);
}

/* ---- The writer ----------------------------------------------------------- */

static const struct dump_visitor writers[] = {
	[DUMP_XML] = { xml_header, any_area, xml_exception, xml_area_end, xml_end },
	[DUMP_JSON] = { json_header, any_area, json_exception, json_area_end, json_end },
	[DUMP_HUMAN] = { human_header, any_area, human_exception, human_area_end, human_end },
};

int dump_writer_new(FILE *f, enum dump_format format, struct dump_writer **out)
{
	struct dump_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->f = f;
	w->format = format;
	if (format == DUMP_JSON) {
		w->num = json_object_new_uint64(0);
		w->rec = json_object_new_object();
		w->old = json_object_new_uint64(0);
		w->new = json_object_new_uint64(0);
		/* The record owns old and new once added. */
		if (!w->num || !w->rec || !w->old || !w->new ||
		    json_object_object_add(w->rec, "old", json_object_get(w->old)) ||
		    json_object_object_add(w->rec, "new", json_object_get(w->new))) {
			dump_writer_free(w);
			return -ENOMEM;
		}
	}
	*out = w;
	return 0;
}

const struct dump_visitor *dump_writer_visitor(const struct dump_writer *w)
{
	return &writers[w->format];
}

void dump_writer_free(struct dump_writer *w)
{
	if (!w)
		return;
	json_object_put(w->num);
	json_object_put(w->rec);
	json_object_put(w->old);
	json_object_put(w->new);
	free(w);
}
