/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_extract: write a dm-snapshot as the kernel would show it (remapped
 * chunks from the exception store, everything else from the origin or
 * zeros) to a sparse file or to stdout.  The options and the view are
 * viewopt's, the writing is src/common/extract.c's; what is left here is
 * what the tool warns about before it writes.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract.h"
#include "tool.h"
#include "trust.h"
#include "viewopt.h"

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage: %s (--origin FILE|DEV | --zero-origin --size BYTES) [options] STORE\n"
	       "       %s [--pv PATH]... [--metadata FILE] [options] VG/LV\n"
	       "       %s --thin-meta FILE --thin-data FILE --thin-id N [options]\n"
	       "\n"
	       "Write the snapshot as the kernel would show it: chunks remapped in the\n"
	       "exception store STORE (the COW device) from the store, all others from the\n"
	       "origin (or zeros for a --virtualsize volume); or the snapshot, sparse or\n"
	       "thin volume VG/LV, found through LVM's metadata; or thin device N of a\n"
	       "pool, from the pool's metadata and data, without activating it.  Reads its\n"
	       "inputs only; the output is a new sparse file.\n"
	       "\n"
	       "Options:\n"
	       VIEWOPT_HELP_SHORT
	       TOOL_THREADS_HELP
	       "  -o, --output OUT|-      the file to create, or - for stdout (default -)\n"
	       "  -f, --force             replace an existing OUT (only once it is complete)\n"
	       "      --trust-report FILE write what the view can vouch for, chunk by chunk,\n"
	       "                          as JSON to FILE (a summary goes to stderr)\n"
	       "  -q, --quiet             no progress bar, no warnings but the invalid one\n"
	       "  -h, --help              display this help\n"
	       "  -V, --version           display version\n"
	       "\n"
	       "--size may not exceed the origin's size.  See snap_extract(8) for what\n"
	       "--ignore-invalid recovers.  Exit status: 0 written, 1 failure, 3 written\n"
	       "but partial (ranges of a thin volume could not be mapped: listed, zeros).\n",
	       program_name, program_name, program_name);
	exit(EXIT_OK);
}

/* --trust-report: the view's chunks classified (trust.h). */
static int trust_report(const struct viewset *vs, const char *store, const char *path, int quiet)
{
	struct trust t;
	int r;

	trust_build(&t, vs->store, snapcow_view_map(vs->view), vs->size,
		    vs->zero_origin ? TRUST_ORIGIN_ZERO : TRUST_ORIGIN_REAL, store, EXIT_FAIL);
	if (!quiet)
		trust_print(stderr, &t);
	r = trust_write_json(&t, path);
	trust_free(&t);
	return r;
}

int main(int argc, char **argv)
{
	enum { OPT_TRUST_REPORT = 256 };
	static const struct option longopts[] = {
		VIEWOPT_LONGOPTS,
		{ "trust-report", required_argument, NULL, OPT_TRUST_REPORT },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_THREADS_LONGOPT,
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct viewopt vo = { .size_within_origin = 1 };
	struct extract_options opt = { .output = "-", .progress = "extracting" };
	const char *store, *trust = NULL;
	struct viewset vs;
	int c, r, quiet = 0;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, VIEWOPT_SHORTOPTS "o:fqhV", longopts, NULL)) != -1) {
		if (tool_threads_option(c, optarg, EXIT_FAIL))
			continue;
		if (viewopt_parse(&vo, viewopt_short(c), optarg, EXIT_FAIL))
			continue;
		switch (c) {
		case 'o':
			opt.output = optarg;
			break;
		case 'f':
			opt.force = 1;
			break;
		case 'q':
			quiet = 1;
			tool_set_verbosity(0);
			break;
		case OPT_TRUST_REPORT:
			trust = optarg;
			break;
		default:
			tool_std_option(c, usage, EXIT_FAIL);
		}
	}
	store = viewopt_operand(&vo, argc, argv, optind, EXIT_FAIL);
	viewopt_check(&vo, store, EXIT_FAIL);
	if (!*opt.output)
		errx(EXIT_FAIL, "empty output name");
	if (trust && (!strcmp(trust, "-") || access(trust, F_OK) == 0))
		errx(EXIT_FAIL, "--trust-report %s: %s", trust, !strcmp(trust, "-") ?
		     "the report goes to a file (stdout may be the image)" :
		     "the file exists; the report is written to a new file");

	/* Inputs first: nothing is created when they cannot be read. */
	viewopt_open(&vo, store, &vs, EXIT_FAIL);
	if (!quiet && vs.store)
		viewset_warn_table(&vs, store);
	r = extract_view(&vs, &opt, NULL);
	if (r == 0 && vs.thin && thin_volume_warn_partial(vs.thin))
		r = 1;
	if (!r && trust)
		r = trust_report(&vs, store, trust, quiet);
	viewset_close(&vs);
	return r < 0 ? EXIT_FAIL : r ? EXIT_PARTIAL : EXIT_OK;
}
