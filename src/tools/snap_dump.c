/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_dump: print a dm-snapshot exception store's header and whole
 * exception table as XML, JSON or a human-readable table.  Streams: memory
 * does not grow with the table.  Works on invalidated stores; an unreadable
 * or unterminated table is dumped as far as it can be read, marked
 * incomplete, reported on stderr, and the exit status is 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapcow.h"
#include "tool.h"

enum fmt { FMT_XML, FMT_JSON, FMT_HUMAN };

struct out {
	FILE *f;
	enum fmt fmt;
	int first_area;   /* JSON: no comma before the next area */
	int first_exc;    /* JSON: no comma before the next exception */
};

static void usage(void)
{
	printf("Usage: %s [options] STORE\n\n"
	       "Print the header and the whole exception table of a device-mapper\n"
	       "snapshot store (the COW device), even one the kernel has invalidated.\n\n"
	       "Options:\n"
	       "  -f, --format FMT   xml (default), json or human\n"
	       "  -o, --output FILE  write the dump to FILE instead of stdout\n"
	       "  -q, --quiet        no warnings, errors only\n"
	       "  -h, --help         show this help and exit\n"
	       "  -V, --version      show the version and exit\n",
	       program_name);
	exit(EXIT_OK);
}

static void put_header(struct out *o, const struct snapcow_header *h, uint64_t size,
		       uint32_t per_area)
{
	char buf[32];

	switch (o->fmt) {
	case FMT_XML:
		fprintf(o->f,
			"<snapshot_store magic=\"0x%08" PRIx32 "\" valid=\"%" PRIu32
			"\" version=\"%" PRIu32 "\" chunk_sectors=\"%" PRIu32
			"\" store_size=\"%" PRIu64 "\" exceptions_per_area=\"%" PRIu32 "\">\n",
			h->magic, h->valid, h->version, h->chunk_sectors, size, per_area);
		break;
	case FMT_JSON:
		fprintf(o->f,
			"{\n  \"snapshot_store\": {\n    \"magic\": \"0x%08" PRIx32 "\",\n"
			"    \"valid\": %" PRIu32 ",\n    \"version\": %" PRIu32 ",\n"
			"    \"chunk_sectors\": %" PRIu32 ",\n    \"store_size\": %" PRIu64 ",\n"
			"    \"exceptions_per_area\": %" PRIu32 ",\n    \"areas\": [",
			h->magic, h->valid, h->version, h->chunk_sectors, size, per_area);
		o->first_area = 1;
		break;
	case FMT_HUMAN:
		fprintf(o->f,
			"magic                0x%08" PRIx32 " (SnAp)\n"
			"valid                %" PRIu32 "%s\n"
			"version              %" PRIu32 "\n"
			"chunk_sectors        %" PRIu32 " (%" PRIu32 " bytes)\n"
			"store_size           %" PRIu64 " (%s)\n"
			"exceptions_per_area  %" PRIu32 "\n\n"
			"%8s %12s %6s %20s %20s\n",
			h->magic, h->valid, h->valid ? "" : " (invalidated)", h->version,
			h->chunk_sectors, h->chunk_sectors * SNAPCOW_SECTOR_SIZE, size,
			format_size(size, buf, sizeof(buf)), per_area, "area", "chunk", "index",
			"old_chunk", "new_chunk");
		break;
	}
}

/* Open area @index; @empty: it holds no exception (and is closed at once). */
static void put_area(struct out *o, uint64_t index, uint64_t chunk, int empty)
{
	switch (o->fmt) {
	case FMT_XML:
		fprintf(o->f, "  <area index=\"%" PRIu64 "\" chunk=\"%" PRIu64 "\"%s>\n", index,
			chunk, empty ? "/" : "");
		break;
	case FMT_JSON:
		fprintf(o->f, "%s\n      {\"index\": %" PRIu64 ", \"chunk\": %" PRIu64
			", \"exceptions\": [%s", o->first_area ? "" : ",", index, chunk,
			empty ? "]}" : "");
		o->first_area = 0;
		o->first_exc = 1;
		break;
	case FMT_HUMAN:
		if (empty)
			fprintf(o->f, "%8" PRIu64 " %12" PRIu64 " %6s  (empty)\n", index, chunk,
				"-");
		break;
	}
}

static void put_area_end(struct out *o)
{
	if (o->fmt == FMT_XML)
		fputs("  </area>\n", o->f);
	else if (o->fmt == FMT_JSON)
		fputs("\n      ]}", o->f);
}

static void put_exception(struct out *o, uint64_t area, uint64_t chunk, uint32_t index,
			  const struct snapcow_exception *e)
{
	switch (o->fmt) {
	case FMT_XML:
		fprintf(o->f, "    <exception old=\"%" PRIu64 "\" new=\"%" PRIu64 "\"/>\n",
			e->old_chunk, e->new_chunk);
		break;
	case FMT_JSON:
		fprintf(o->f, "%s\n        {\"old\": %" PRIu64 ", \"new\": %" PRIu64 "}",
			o->first_exc ? "" : ",", e->old_chunk, e->new_chunk);
		o->first_exc = 0;
		break;
	case FMT_HUMAN:
		fprintf(o->f, "%8" PRIu64 " %12" PRIu64 " %6" PRIu32 " %20" PRIu64 " %20" PRIu64
			"\n", area, chunk, index, e->old_chunk, e->new_chunk);
		break;
	}
}

static void put_end(struct out *o, uint64_t exceptions, uint64_t areas, int incomplete,
		    uint64_t bad_area)
{
	switch (o->fmt) {
	case FMT_XML:
		if (incomplete)
			fprintf(o->f, "  <incomplete area=\"%" PRIu64 "\"/>\n", bad_area);
		fputs("</snapshot_store>\n", o->f);
		break;
	case FMT_JSON:
		fputs(o->first_area ? "]" : "\n    ]", o->f);
		if (incomplete)
			fprintf(o->f, ",\n    \"incomplete\": {\"area\": %" PRIu64 "}", bad_area);
		fputs("\n  }\n}\n", o->f);
		break;
	case FMT_HUMAN:
		fprintf(o->f, "\n%" PRIu64 " exception%s in %" PRIu64 " area%s\n", exceptions,
			exceptions == 1 ? "" : "s", areas, areas == 1 ? "" : "s");
		if (incomplete)
			fprintf(o->f, "INCOMPLETE: area %" PRIu64 " could not be read; the table "
				"may go on\n", bad_area);
		break;
	}
}

/* Bytes the dump cannot carry: non-zero bytes after the 16-byte header in
 * the header chunk, and after the end of the table in its last area.
 * Warn about them, so that nobody thinks a restore brings them back. */
static void warn_leftovers(struct snapcow_store *s, uint64_t area, uint32_t index)
{
	uint32_t cb = snapcow_store_chunk_bytes(s);
	uint64_t chunk = snapcow_area_chunk(snapcow_store_per_area(s), area), n, i;
	unsigned char *buf = malloc(cb);

	if (!buf)
		return;
	if (snapcow_store_read_chunk(s, 0, buf) == 0) {
		for (n = 0, i = 16; i < cb; i++)
			n += buf[i] != 0;
		if (n)
			warnx("warning: %s: %" PRIu64 " non-zero bytes in the header chunk after "
			      "the header (byte offsets 16..%" PRIu32 ") are not in the dump",
			      snapcow_store_name(s), n, cb - 1);
	}
	if (snapcow_store_read_chunk(s, chunk, buf) == 0) {
		for (n = 0, i = (uint64_t)index * SNAPCOW_RECORD_SIZE; i < cb; i++)
			n += buf[i] != 0;
		if (n)
			warnx("warning: %s: %" PRIu64 " non-zero bytes in area %" PRIu64
			      " from the end of the table (byte offset %" PRIu64 ") on are not "
			      "in the dump", snapcow_store_name(s), n, area,
			      chunk * cb + (uint64_t)index * SNAPCOW_RECORD_SIZE);
	}
	free(buf);
}

static int dump(struct snapcow_store *s, struct out *o)
{
	uint32_t per = snapcow_store_per_area(s);
	struct snapcow_exception e;
	struct snapcow_iter *it;
	uint64_t count = 0, area, open_area = 0, end_area;
	int is_open = 0, r;

	put_header(o, snapcow_store_header(s), snapcow_store_size(s), per);
	r = snapcow_iter_new(s, &it);
	if (r < 0) {
		warnx("%s: %s", snapcow_store_name(s), snapcow_strerror(r));
		return EXIT_FAIL;
	}
	while ((r = snapcow_iter_next(it, &e)) == 0) {
		area = snapcow_iter_area(it);
		if (!is_open || area != open_area) {
			if (is_open)
				put_area_end(o);
			open_area = area;
			is_open = 1;
			put_area(o, area, snapcow_area_chunk(per, area), 0);
		}
		put_exception(o, area, snapcow_area_chunk(per, area), snapcow_iter_index(it), &e);
		count++;
	}
	if (is_open)
		put_area_end(o);
	if (r < 0) {
		uint64_t bad = is_open ? open_area + 1 : 0;

		put_end(o, count, is_open ? open_area + 1 : 0, 1, bad);
		snapcow_iter_free(it);
		fflush(o->f);
		warnx("%s: the dump is INCOMPLETE: %" PRIu64 " exceptions dumped, the table could "
		      "not be read from area %" PRIu64 " (chunk %" PRIu64 ") on: %s",
		      snapcow_store_name(s), count, bad, snapcow_area_chunk(per, bad),
		      snapcow_strerror(r));
		return EXIT_FAIL;
	}
	/* The area holding the terminator: the open one, or the (zeroed) one
	 * after it when it was full; area 0 for an empty table. */
	end_area = snapcow_iter_area(it);
	if (!is_open || end_area != open_area)
		put_area(o, end_area, snapcow_area_chunk(per, end_area), 1);
	put_end(o, count, end_area + 1, 0, 0);
	if (tool_verbosity() > 0)
		warn_leftovers(s, end_area, snapcow_iter_index(it));
	snapcow_iter_free(it);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "xml", "json", "human", NULL };
	struct snapcow_store *s;
	const char *output = NULL, *path;
	struct out o = { .fmt = FMT_XML };
	struct stat ost, sst;
	int c, fd, ret;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, "f:o:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.fmt = (enum fmt)parse_format(optarg, formats, EXIT_FAIL);
			break;
		case 'o':
			output = optarg;
			break;
		case 'q':
			tool_set_verbosity(0);
			break;
		default:
			tool_std_option(c, usage, EXIT_FAIL);
		}
	}
	path = one_operand(argc, argv, optind, "store", EXIT_FAIL);
	s = store_open_or_exit(path, 0, EXIT_FAIL);
	fd = snapcow_store_fd(s);
	o.f = stdout;
	if (output && stat(output, &ost) == 0 && fstat(fd, &sst) == 0) {
		/* Never truncate the store (or any device) to write a dump. */
		if (S_ISBLK(ost.st_mode) || (ost.st_dev == sst.st_dev && ost.st_ino == sst.st_ino))
			errx(EXIT_FAIL, "%s: refusing to write the dump over %s", output,
			     S_ISBLK(ost.st_mode) ? "a block device" : "the store itself");
	}
	if (output) {
		o.f = fopen(output, "w");
		if (!o.f)
			errx(EXIT_FAIL, "cannot open %s: %s", output, strerror(errno));
	}
	ret = dump(s, &o);
	snapcow_store_free(s);
	if (fflush(o.f) || ferror(o.f) || (output && fclose(o.f))) {
		warnx("cannot write %s: %s", output ? output : "standard output", strerror(errno));
		ret = EXIT_FAIL;
	}
	return ret;
}
