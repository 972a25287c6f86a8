/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_dump: print a dm-snapshot exception store's header and whole
 * exception table as XML, JSON or a human-readable table: the store walk
 * into a dump writer (src/common/dump.h).  Streams: memory does not grow
 * with the table.  Works on invalidated stores; an unreadable
 * or unterminated table is dumped as far as it can be read, marked
 * incomplete, reported on stderr, and the exit status is 1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dump.h"
#include "snapcow.h"
#include "tool.h"
#include "volume.h"

static void usage(void)
{
	printf("Usage: %s [options] STORE|VG/LV\n\n"
	       "Print the header and the whole exception table of a device-mapper\n"
	       "snapshot store (the COW device, or that of the snapshot or sparse volume\n"
	       "VG/LV), even one the kernel has invalidated.\n\n"
	       "Options:\n"
	       "  -f, --format FMT         xml (default), json or human\n"
	       "  -o, --output FILE        write the dump to FILE instead of stdout\n"
	       "  -q, --quiet              no warnings, errors only\n"
	       VOLUME_HELP
	       TOOL_THREADS_HELP
	       "  -h, --help               show this help and exit\n"
	       "  -V, --version            show the version and exit\n",
	       program_name);
	exit(EXIT_OK);
}

/* Refuse an output file that is the store itself or a block device
 * (opening it would truncate it). */
static void check_output(const char *output, struct snapcow_store *s)
{
	struct stat ost;

	if (stat(output, &ost) < 0)
		return;
	if (S_ISBLK(ost.st_mode) || dev_reads_file(snapcow_store_dev(s), &ost))
		errx(EXIT_FAIL, "%s: refusing to write the dump over %s", output,
		     S_ISBLK(ost.st_mode) ? "a block device" : "the store itself");
}

/* Walk @s into a @format writer on @f.  Returns the exit status. */
static int dump(struct snapcow_store *s, FILE *f, enum dump_format format)
{
	struct dump_walk_result res;
	struct dump_writer *w;
	int r;

	if (dump_writer_new(f, format, &w) < 0)
		errx(EXIT_FAIL, "out of memory");
	r = dump_walk_store(s, dump_writer_visitor(w), w, &res);
	dump_writer_free(w);
	if (res.error) {
		uint64_t bad = res.end_area;

		fflush(f);
		warnx("%s: the dump is INCOMPLETE: %" PRIu64 " exceptions dumped, the table could "
		      "not be read from area %" PRIu64 " (chunk %" PRIu64 ") on: %s",
		      snapcow_store_name(s), res.exceptions, bad,
		      snapcow_area_chunk(snapcow_store_per_area(s), bad), snapcow_strerror(res.error));
		return EXIT_FAIL;
	}
	if (r == -ENOMEM)
		warnx("out of memory");
	if (r)
		return EXIT_FAIL; /* -EIO: said by the caller, from ferror() */
	if (tool_verbosity() > 0)
		dump_warn_leftovers(s, &res);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		VOLUME_LONGOPTS,
		TOOL_THREADS_LONGOPT,
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	/* In the order of enum dump_format. */
	static const char *const formats[] = { "xml", "json", "human", NULL };
	enum dump_format format = DUMP_XML;
	const char *output = NULL, *path;
	struct volume_opts vo = { 0 };
	struct snapcow_store *s;
	struct volume v;
	FILE *f = stdout;
	int c, ret;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, "f:o:qhV", longopts, NULL)) != -1) {
		if (tool_threads_option(c, optarg, EXIT_FAIL))
			continue;
		if (volume_parse(&vo, c, optarg, EXIT_FAIL))
			continue;
		if (c == 'f')
			format = (enum dump_format)parse_format(optarg, formats, EXIT_FAIL);
		else if (c == 'o')
			output = optarg;
		else if (c == 'q')
			tool_set_verbosity(0);
		else
			tool_std_option(c, usage, EXIT_FAIL);
	}
	path = one_operand(argc, argv, optind, "store", EXIT_FAIL);
	s = volume_store_open(&vo, path, &v, EXIT_FAIL);
	if (output) {
		check_output(output, s);
		f = fopen(output, "w");
		if (!f)
			errx(EXIT_FAIL, "cannot open %s: %s", output, strerror(errno));
	}
	ret = dump(s, f, format);
	snapcow_store_free(s);
	volume_close(&v);
	if (fflush(f) || ferror(f) || (output && fclose(f))) {
		warnx("cannot write %s: %s", output ? output : "standard output", strerror(errno));
		ret = EXIT_FAIL;
	}
	return ret;
}
