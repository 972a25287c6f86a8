/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_info: show the header and table figures of a dm-snapshot exception
 * store, as the kernel would compute them, and what the kernel will do
 * with it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <json-c/json.h>

#include "snapcow.h"
#include "tool.h"
#include "volume.h"

enum { FORMAT_HUMAN, FORMAT_JSON };

static void NORETURN usage(void)
{
	printf("Usage: %s [options] STORE|VG/LV\n"
	       "\n"
	       "Show the header and exception table figures of a dm-snapshot store\n"
	       "(the COW device of an LVM snapshot, or the snapshot or sparse volume VG/LV)\n"
	       "and what the kernel will do with it.\n"
	       "\n"
	       "Options:\n"
	       "  -f, --format human|json  output format (default human)\n"
	       "  -q, --quiet              do not print warnings\n"
	       VOLUME_HELP
	       TOOL_THREADS_HELP
	       "  -h, --help               display this help\n"
	       "  -V, --version            display version\n"
	       "\n"
	       "See snap_info(8).\n",
	       program_name);
	exit(EXIT_OK);
}

static const char *kernel_action(const struct snapcow_header *h, int full)
{
	if (h->valid == 0)
		return "marks the snapshot Invalid: it reads no exceptions and fails all I/O "
		       "to the snapshot";
	if (full)
		return "loads the table; the store is full: the next write that needs a new "
		       "chunk invalidates the snapshot";
	return "loads the table";
}

static void human_line(const char *key, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void human_line(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%-19s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The smallest store that keeps every exception, in bytes. */
static uint64_t smallest_bytes(struct snapcow_store *s, const struct snapcow_stats *st)
{
	return snapcow_stats_smallest(snapcow_store_geometry(s), st) * snapcow_store_chunk_bytes(s);
}

static void print_json(struct snapcow_store *s, const struct volume *v,
		       const struct snapcow_stats *st, const struct snapcow_uncommitted *u,
		       int scanned, int full)
{
	const struct snapcow_header *h = snapcow_store_header(s);
	uint32_t cb = snapcow_store_chunk_bytes(s);
	uint64_t smallest = smallest_bytes(s, st);
	struct json_object *o = json_object_new_object();

	if (v->kind != VOLUME_OTHER) {
		json_object_object_add(o, "vg", json_object_new_string(v->vg));
		json_object_object_add(o, "lv", json_object_new_string(v->lv));
		json_object_object_add(o, "kind", json_object_new_string(
						 v->kind == VOLUME_SPARSE ? "sparse" : "snapshot"));
		json_object_object_add(o, "origin", v->kind == VOLUME_SPARSE ? NULL :
				       json_object_new_string(v->snap.origin->name));
		json_object_object_add(o, "merging", json_object_new_boolean(v->snap.merging));
	}

	json_object_object_add(o, "valid", json_object_new_boolean(h->valid != 0));
	json_object_object_add(o, "version", json_object_new_uint64(h->version));
	json_object_object_add(o, "chunk_sectors", json_object_new_uint64(h->chunk_sectors));
	json_object_object_add(o, "chunk_size", json_object_new_uint64(cb));
	json_object_object_add(o, "exceptions", json_object_new_uint64(st->exceptions));
	json_object_object_add(o, "areas", json_object_new_uint64(st->areas));
	json_object_object_add(o, "next_free_chunk", json_object_new_uint64(st->next_free));
	json_object_object_add(o, "store_size",
			       json_object_new_uint64(snapcow_store_size(s)));
	json_object_object_add(o, "allocated_sectors",
			       json_object_new_uint64(st->allocated_sectors));
	json_object_object_add(o, "metadata_sectors",
			       json_object_new_uint64(st->metadata_sectors));
	json_object_object_add(o, "full", json_object_new_boolean(full));
	json_object_object_add(o, "smallest_size", json_object_new_uint64(smallest));
	json_object_object_add(o, "room_above_smallest", json_object_new_uint64(
		snapcow_store_size(s) > smallest ? snapcow_store_size(s) - smallest : 0));
	json_object_object_add(o, "uncommitted_chunks",
			       scanned ? json_object_new_uint64(u->chunks) : NULL);
	json_object_object_add(o, "kernel",
			       json_object_new_string(h->valid ? "load" : "invalid"));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_SPACED));
	json_object_put(o);
}

/* "smallest size:" and the room above it (or how much is missing). */
static void print_smallest(struct snapcow_store *s, const struct snapcow_stats *st)
{
	uint64_t min = smallest_bytes(s, st), size = snapcow_store_size(s);
	char b1[32], b2[32];

	if (size >= min)
		human_line("smallest size:", "%" PRIu64 " bytes (%s) keeps every exception; %"
			   PRIu64 " bytes (%s) above it", min, format_size(min, b1, sizeof(b1)),
			   size - min, format_size(size - min, b2, sizeof(b2)));
	else
		human_line("smallest size:", "%" PRIu64 " bytes (%s) keeps every exception; the "
			   "store is %" PRIu64 " bytes (%s) short of it", min,
			   format_size(min, b1, sizeof(b1)), min - size,
			   format_size(min - size, b2, sizeof(b2)));
}

static void print_human(struct snapcow_store *s, const struct volume *v, const char *path,
			const struct snapcow_stats *st, const struct snapcow_uncommitted *u,
			int scanned, int full)
{
	const struct snapcow_header *h = snapcow_store_header(s);
	uint32_t cb = snapcow_store_chunk_bytes(s);
	char b1[32];

	if (v->kind == VOLUME_OTHER) {
		human_line("store:", "%s", path);
	} else {
		if (v->kind == VOLUME_SPARSE)
			human_line("volume:", "%s/%s, sparse volume (the origin is the zero "
				   "target), %s%s", v->vg, v->lv, format_size(v->size, b1, sizeof(b1)),
				   v->snap.merging ? ", merging" : "");
		else
			human_line("volume:", "%s/%s, snapshot of %s/%s, %s%s", v->vg, v->lv, v->vg,
				   v->snap.origin->name, format_size(v->size, b1, sizeof(b1)),
				   v->snap.merging ? ", merging" : "");
		human_line("store:", "the COW, %s", v->cow_where);
	}
	human_line("valid:", "%s (flag %" PRIu32 ")", h->valid ? "yes" : "no", h->valid);
	human_line("version:", "%" PRIu32, h->version);
	human_line("chunk size:", "%" PRIu32 " sectors (%s)", h->chunk_sectors,
		   format_size(cb, b1, sizeof(b1)));
	human_line("store size:", "%" PRIu64 " bytes (%s), %" PRIu64 " chunks",
		   snapcow_store_size(s), format_size(snapcow_store_size(s), b1, sizeof(b1)),
		   snapcow_store_chunks(s));
	human_line("exceptions:", "%" PRIu64 " (%s of data)", st->exceptions,
		   format_size(st->exceptions * cb, b1, sizeof(b1)));
	human_line("metadata areas:", "%" PRIu64 " (%" PRIu32 " exceptions each)", st->areas,
		   snapcow_store_per_area(s));
	human_line("next free chunk:", "%" PRIu64, st->next_free);
	human_line("allocated:", "%" PRIu64 " sectors (%s) of %" PRIu64, st->allocated_sectors,
		   format_size(st->allocated_sectors * SNAPCOW_SECTOR_SIZE, b1, sizeof(b1)),
		   st->total_sectors);
	human_line("metadata:", "%" PRIu64 " sectors (%s)", st->metadata_sectors,
		   format_size(st->metadata_sectors * SNAPCOW_SECTOR_SIZE, b1, sizeof(b1)));
	human_line("full:", "%s", full ? "yes" : "no");
	print_smallest(s, st);
	if (!scanned)
		human_line("uncommitted chunks:", "not scanned (the store is valid)");
	else if (!u->chunks)
		human_line("uncommitted chunks:", "0");
	else
		human_line("uncommitted chunks:", "%" PRIu64 " (chunks %" PRIu64 "..%" PRIu64 "%s)",
			   u->chunks, u->first, u->last,
			   u->reaches_end ? ", up to the end of the store" : "");
	human_line("kernel:", "%s", kernel_action(h, full));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		VOLUME_LONGOPTS,
		TOOL_THREADS_LONGOPT,
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "human", "json", NULL };
	struct snapcow_uncommitted u = { 0 };
	struct volume_opts vo = { 0 };
	const struct snapcow_header *h;
	struct volume v;
	struct snapcow_store *s;
	struct snapcow_stats st;
	int format = FORMAT_HUMAN, scanned = 0, full, c, r;
	unsigned long mark;
	const char *path;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, "f:qhV", longopts, NULL)) != -1) {
		if (tool_threads_option(c, optarg, EXIT_FAIL))
			continue;
		if (volume_parse(&vo, c, optarg, EXIT_FAIL))
			continue;
		switch (c) {
		case 'f':
			format = parse_format(optarg, formats, EXIT_FAIL);
			break;
		case 'q':
			tool_set_verbosity(0);
			break;
		default:
			tool_std_option(c, usage, EXIT_FAIL);
		}
	}
	path = one_operand(argc, argv, optind, "store", EXIT_FAIL);

	s = volume_store_open(&vo, path, &v, EXIT_FAIL);
	h = snapcow_store_header(s);
	mark = tool_lib_errors();
	r = snapcow_store_scan(s, &st);
	if (r < 0)
		lib_failed(EXIT_FAIL, mark, r, "%s: cannot read the exception table", path);
	/*
	 * An invalidated store may have data the kernel allocated past the
	 * committed table's next_free (its in-memory next_free went further
	 * before the overflow).  Only invalid stores are scanned: a valid
	 * store's table is the kernel's whole truth, and the scan reads every
	 * free chunk.
	 */
	if (h->valid == 0) {
		r = snapcow_store_scan_uncommitted(s, st.next_free, NULL, NULL, &u);
		if (r < 0)
			lib_failed(EXIT_FAIL, mark, r, "%s: cannot read past the table", path);
		scanned = 1;
	}
	full = st.full || (scanned && u.reaches_end);

	if (format == FORMAT_JSON)
		print_json(s, &v, &st, &u, scanned, full);
	else
		print_human(s, &v, path, &st, &u, scanned, full);
	snapcow_store_free(s);
	volume_close(&v);
	return EXIT_OK;
}
