/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_repair's report: what was wrong, every record dropped or lost, the
 * repaired table and what was written, as lines or one JSON object. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonout.h"
#include "repair.h"
#include "tool.h"
#include "undo.h"

static const char *chunk_source(enum snapcow_chunk_source s)
{
	switch (s) {
	case SNAPCOW_CHUNK_FROM_HEADER:
		return "header";
	case SNAPCOW_CHUNK_FROM_OPTION:
		return "option";
	case SNAPCOW_CHUNK_FROM_HINT:
		return "lvm";
	case SNAPCOW_CHUNK_FROM_LAYOUT:
		return "layout";
	}
	return "?";
}

static const char *chunk_source_words(enum snapcow_chunk_source s)
{
	switch (s) {
	case SNAPCOW_CHUNK_FROM_HEADER:
		return "the header's";
	case SNAPCOW_CHUNK_FROM_OPTION:
		return "from --chunk-size";
	case SNAPCOW_CHUNK_FROM_HINT:
		return "the LVM metadata's";
	case SNAPCOW_CHUNK_FROM_LAYOUT:
		return "found from the layout: the areas hold records of their own data chunks";
	}
	return "?";
}

/* What was wrong with the header, in words. */
static const char *header_words(const struct snapcow_repair_summary *sum, char *buf, size_t len)
{
	const struct snapcow_header *h = &sum->header;
	const char *p = sum->header_problem;

	if (!p)
		snprintf(buf, len, "fine");
	else if (!strcmp(p, "magic-zero"))
		snprintf(buf, len, "magic is 0 (the kernel would take it as a new store and wipe "
			 "its table)");
	else if (!strcmp(p, "bad-magic"))
		snprintf(buf, len, "bad magic 0x%08" PRIx32 " (the kernel refuses it)", h->magic);
	else if (!strcmp(p, "bad-version"))
		snprintf(buf, len, "version %" PRIu32 " (the kernel only loads version 1)",
			 h->version);
	else if (!strcmp(p, "bad-chunk-size"))
		snprintf(buf, len, "chunk size %" PRIu32 " sectors (%s)", h->chunk_sectors,
			 snapcow_chunk_kernel_problem(h->chunk_sectors));
	else if (!strcmp(p, "chunk-size-option"))
		snprintf(buf, len, "chunk size %" PRIu32 " sectors, --chunk-size says %" PRIu32,
			 h->chunk_sectors, sum->geo.chunk_sectors);
	else if (!strcmp(p, "chunk-size-table"))
		snprintf(buf, len, "chunk size %" PRIu32 " sectors, but the table is laid out in "
			 "chunks of %" PRIu32, h->chunk_sectors, sum->geo.chunk_sectors);
	else
		snprintf(buf, len, "%s", p);
	return buf;
}

/* Why a record is dropped, in words. */
static const char *drop_words(const struct snapcow_repair_summary *sum,
			      const struct snapcow_repair_drop *d, char *buf, size_t len)
{
	static const enum snapcow_record_rule rules[] = {
		SNAPCOW_RECORD_END, SNAPCOW_RECORD_TOO_LARGE, SNAPCOW_RECORD_PAST_END,
		SNAPCOW_RECORD_METADATA, SNAPCOW_RECORD_TWICE,
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(d->code, snapcow_record_rule_code(rules[i])))
			return snapcow_record_describe(&sum->geo, rules[i], d->new_chunk, buf, len);
	if (!strcmp(d->code, "old-chunk-twice"))
		snprintf(buf, len, "old chunk %" PRIu64 " is also mapped by area %" PRIu64 " record %"
			 PRIu32 " (new chunk %" PRIu64 "), the record the kernel uses", d->old_chunk,
			 d->kept_area, d->kept_index, d->kept_new_chunk);
	else if (!strcmp(d->code, "old-chunk-past-origin"))
		snprintf(buf, len, "old chunk %" PRIu64 " is past the end of the origin", d->old_chunk);
	else if (!strcmp(d->code, "no-room-for-terminator"))
		snprintf(buf, len, "the last area would be full with no room in the store for the "
			 "area after it");
	else
		snprintf(buf, len, "%s", d->code);
	return buf;
}

/* "the header, areas 2..5, 7" of the changed chunks. */
static void print_changed(const struct snapcow_repair *r)
{
	const struct snapcow_repair_summary *sum = snapcow_repair_summary(r);
	uint64_t i, c, run_first = 0, run_last = 0, per = sum->geo.per_area + 1;
	int any = 0, runs = 0;

	for (i = 0; snapcow_repair_changed(r, i, &c) == 0; i++) {
		uint64_t a = (c - 1) / per;

		if (!c) {
			printf(" the header");
			any = 1;
			continue;
		}
		if (runs && a == run_last + 1) {
			run_last = a;
			continue;
		}
		if (runs)
			printf(run_first == run_last ? " %" PRIu64 "," : " %" PRIu64 "..%" PRIu64 ",",
			       run_first, run_last);
		else
			printf("%s area%s", any ? "," : "", sum->changed_chunks - any > 1 ? "s" : "");
		run_first = run_last = a;
		runs = 1;
	}
	if (runs)
		printf(run_first == run_last ? " %" PRIu64 : " %" PRIu64 "..%" PRIu64, run_first,
		       run_last);
	printf("\n");
}

static void print_records(const struct repair_report *rp)
{
	const struct snapcow_repair_summary *sum = snapcow_repair_summary(rp->repair);
	struct snapcow_repair_drop d;
	struct snapcow_repair_hole h;
	uint64_t i, first, last, n;
	char why[256];

	for (i = 0; snapcow_repair_drop(rp->repair, i, &d) == 0; i++)
		printf("%s: dropped area %" PRIu64 " record %" PRIu32 " (byte offset %" PRIu64
		       "): old chunk %" PRIu64 ", new chunk %" PRIu64 ": %s\n", rp->store, d.area,
		       d.index, d.offset, d.old_chunk, d.new_chunk,
		       drop_words(sum, &d, why, sizeof(why)));
	for (i = 0; snapcow_repair_hole(rp->repair, i, &h, &first, &last, &n) == 0; i++) {
		printf("%s: lost area %" PRIu64 " records %" PRIu32 "..%" PRIu32 ": zeroed (the "
		       "kernel ends the table at the first one); what they mapped is unknown", rp->store,
		       h.area, h.first, h.first + h.count - 1);
		if (n)
			printf(", their data is probably in the %" PRIu64 " chunk%s of %" PRIu64 "..%"
			       PRIu64 " no record names", n, n == 1 ? "" : "s", first, last);
		printf("\n");
	}
}

static void print_outcome(const struct repair_report *rp)
{
	const struct snapcow_repair_summary *sum = snapcow_repair_summary(rp->repair);

	switch (rp->outcome) {
	case REPAIR_NOTHING:
		printf("%s: nothing to repair\n", rp->store);
		break;
	case REPAIR_REPORTED:
		printf("%s: not repaired: nothing was written (%s)\n", rp->store,
		       rp->output || rp->in_place ? "dry run" :
		       "-o NEW_STORE or --in-place --undo FILE writes the repair");
		break;
	case REPAIR_WRITTEN:
		if (rp->output) {
			printf("%s: repaired into %s (a new store: header, table and the data of the "
			       "%" PRIu64 " exceptions kept)\n", rp->store, rp->output, sum->kept);
			break;
		}
		printf("%s: repaired in place: %" PRIu64 " metadata chunk%s written, synced and read "
		       "back; the old ones are saved in %s\n", rp->store, sum->changed_chunks,
		       sum->changed_chunks == 1 ? "" : "s", rp->undo);
		undo_print_command("to undo: ", rp->undo, rp->store);
		break;
	case REPAIR_FAILED:
		printf("%s: not repaired: writing failed (see above)\n", rp->store);
		break;
	}
}

/* What the kernel makes of the store as it is. */
static void print_kernel_now(const char *store, const struct snapcow_repair_summary *sum)
{
	const char *p = sum->header_problem;

	if (p && !strcmp(p, "magic-zero"))
		printf("%s: the kernel would wipe the table now (magic 0)\n", store);
	else if (p && strncmp(p, "chunk-size-", 11))
		printf("%s: the kernel refuses the store now (its header)\n", store);
	else if (!sum->kernel_walks)
		printf("%s: the kernel cannot load the table now (no terminator)\n", store);
	else
		printf("%s: the kernel %s %" PRIu64 " exceptions now%s%s\n", store,
		       sum->kernel_loads ? "loads" : "has", sum->kernel_exceptions,
		       sum->kernel_loads ? "" : " but loads none: the store is marked invalid",
		       p ? " (read in chunks of the header's size)" : "");
}

void repair_report_human(const struct repair_report *rp)
{
	const struct snapcow_repair_summary *sum = snapcow_repair_summary(rp->repair);
	const struct snapcow_stats *st = &sum->stats;
	char b[256];

	printf("%s: chunk size %" PRIu32 " sectors (%s), %" PRIu64 " chunks\n", rp->store,
	       sum->geo.chunk_sectors, chunk_source_words(sum->chunk_source), sum->geo.chunks);
	printf("%s: header: %s", rp->store, header_words(sum, b, sizeof(b)));
	if (sum->header_changed)
		printf("; written %s", sum->valid_reason);
	printf("\n");
	print_kernel_now(rp->store, sum);
	if (sum->cut_area >= 0)
		printf("%s: the table goes on in area %" PRId64 " (chunk %" PRIu64 "), past the end of "
		       "the store: it was cut short, what that area held is lost\n", rp->store,
		       sum->cut_area, snapcow_area_chunk(sum->geo.per_area, (uint64_t)sum->cut_area));
	print_records(rp);
	printf("%s: %" PRIu64 " records: %" PRIu64 " kept", rp->store, sum->candidates, sum->kept);
	if (sum->recovered)
		printf(" (%" PRIu64 " the kernel does not load now)", sum->recovered);
	printf(", %" PRIu64 " dropped", sum->dropped);
	if (sum->lost)
		printf("; %" PRIu64 " more lost in holes", sum->lost);
	printf("\n");
	printf("%s: repaired table: %" PRIu64 " exceptions in %" PRIu64 " area%s, next free chunk %"
	       PRIu64 ", allocated %" PRIu64 " sectors, metadata %" PRIu64 " sectors%s\n", rp->store,
	       st->exceptions, st->areas, st->areas == 1 ? "" : "s", st->next_free,
	       st->allocated_sectors, st->metadata_sectors, st->full ? ", full" : "");
	if (sum->changed_chunks) {
		printf("%s: %" PRIu64 " metadata chunk%s %s:", rp->store, sum->changed_chunks,
		       sum->changed_chunks == 1 ? "" : "s",
		       rp->outcome == REPAIR_WRITTEN ? "changed" : "to rewrite");
		print_changed(rp->repair);
	}
	print_outcome(rp);
}

/* ---- JSON --------------------------------------------------------------- */

static json_object *drops_json(const struct snapcow_repair *r)
{
	const struct snapcow_repair_summary *sum = snapcow_repair_summary(r);
	json_object *a = json_object_new_array();
	struct snapcow_repair_drop d;
	char why[256];

	for (uint64_t i = 0; snapcow_repair_drop(r, i, &d) == 0; i++) {
		json_object *o = json_object_new_object();

		json_add_u64(o, "area", d.area);
		json_add_u64(o, "index", d.index);
		json_add_u64(o, "offset", d.offset);
		json_add_u64(o, "old_chunk", d.old_chunk);
		json_add_u64(o, "new_chunk", d.new_chunk);
		json_add_str(o, "reason", d.code);
		json_add_str(o, "message", drop_words(sum, &d, why, sizeof(why)));
		if (!strcmp(d.code, "old-chunk-twice")) {
			json_object *k = json_object_new_object();

			json_add_u64(k, "area", d.kept_area);
			json_add_u64(k, "index", d.kept_index);
			json_add_u64(k, "new_chunk", d.kept_new_chunk);
			json_object_object_add(o, "kept", k);
		}
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *holes_json(const struct snapcow_repair *r)
{
	json_object *a = json_object_new_array();
	struct snapcow_repair_hole h;
	uint64_t first, last, n;

	for (uint64_t i = 0; snapcow_repair_hole(r, i, &h, &first, &last, &n) == 0; i++) {
		json_object *o = json_object_new_object();

		json_add_u64(o, "area", h.area);
		json_add_u64(o, "first", h.first);
		json_add_u64(o, "count", h.count);
		json_add_u64(o, "unnamed_data_chunks", n);
		json_object_object_add(o, "unnamed_first", n ? json_object_new_uint64(first) : NULL);
		json_object_object_add(o, "unnamed_last", n ? json_object_new_uint64(last) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *header_json(const struct snapcow_repair_summary *sum)
{
	json_object *o = json_object_new_object();
	char b[256];

	json_add_str(o, "problem", sum->header_problem);
	json_add_str(o, "message", sum->header_problem ? header_words(sum, b, sizeof(b)) : NULL);
	json_object_object_add(o, "rebuilt", json_object_new_boolean(sum->header_changed));
	json_add_u64(o, "valid", sum->new_header.valid);
	json_add_str(o, "valid_reason", sum->header_changed ? sum->valid_reason : NULL);
	return o;
}

static json_object *table_json(const struct snapcow_stats *st)
{
	json_object *o = json_object_new_object();

	json_add_u64(o, "exceptions", st->exceptions);
	json_add_u64(o, "areas", st->areas);
	json_add_u64(o, "next_free_chunk", st->next_free);
	json_add_u64(o, "allocated_sectors", st->allocated_sectors);
	json_add_u64(o, "metadata_sectors", st->metadata_sectors);
	json_object_object_add(o, "full", json_object_new_boolean(st->full));
	return o;
}

static const char *outcome_word(enum repair_outcome o)
{
	static const char *const w[] = { "nothing to repair", "not written", "repaired", "failed" };

	return w[o];
}

void repair_report_json(const struct repair_report *rp)
{
	const struct snapcow_repair_summary *sum = snapcow_repair_summary(rp->repair);
	json_object *o = json_object_new_object(), *ch = json_object_new_array();
	uint64_t c;

	json_add_str(o, "store", rp->store);
	json_add_u64(o, "chunk_sectors", sum->geo.chunk_sectors);
	json_add_str(o, "chunk_size_from", chunk_source(sum->chunk_source));
	json_object_object_add(o, "header", header_json(sum));
	json_object_object_add(o, "kernel_loads_now", json_object_new_boolean(sum->kernel_loads));
	json_object_object_add(o, "cut_area", sum->cut_area < 0 ? NULL :
			       json_object_new_int64(sum->cut_area));
	json_add_u64(o, "kernel_exceptions_now", sum->kernel_exceptions);
	json_add_u64(o, "records", sum->candidates);
	json_add_u64(o, "kept", sum->kept);
	json_add_u64(o, "recovered", sum->recovered);
	json_add_u64(o, "dropped", sum->dropped);
	json_add_u64(o, "lost", sum->lost);
	json_object_object_add(o, "dropped_records", drops_json(rp->repair));
	json_object_object_add(o, "holes", holes_json(rp->repair));
	json_object_object_add(o, "repaired_table", table_json(&sum->stats));
	for (uint64_t i = 0; snapcow_repair_changed(rp->repair, i, &c) == 0; i++)
		json_object_array_add(ch, json_object_new_uint64(c));
	json_object_object_add(o, "changed_chunks", ch);
	json_add_str(o, "result", outcome_word(rp->outcome));
	json_add_str(o, "output", rp->outcome == REPAIR_WRITTEN ? rp->output : NULL);
	json_add_str(o, "undo", rp->outcome == REPAIR_WRITTEN && rp->in_place ? rp->undo : NULL);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_SPACED |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
