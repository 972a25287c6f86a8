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

#include "extract.h"
#include "tool.h"
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
	       "  -o, --output OUT|-      the file to create, or - for stdout (default -)\n"
	       "  -f, --force             replace an existing OUT (only once it is complete)\n"
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

/* Exceptions whose old chunk is wholly past the end of the view. */
static uint64_t count_beyond(const struct snapcow_map *m, uint64_t size, uint32_t cb)
{
	struct snapcow_exception e;
	uint64_t from = size / cb + (size % cb != 0), n = 0;

	while (snapcow_map_next(m, from, &e) == 0) {
		n++;
		if (e.old_chunk == UINT64_MAX)
			break;
		from = e.old_chunk + 1;
	}
	return n;
}

/* What the table holds that the snapshot does not show. */
static void warn_table(const struct viewset *vs, const char *store)
{
	const struct snapcow_map *m = snapcow_view_map(vs->view);
	uint64_t beyond = count_beyond(m, vs->size, vs->chunk_bytes);

	if (snapcow_map_duplicates(m))
		warnx("warning: %s: %" PRIu64 " records remap an old chunk that a later record "
		      "remaps again; the later one is used", store, snapcow_map_duplicates(m));
	if (beyond)
		warnx("warning: %s: %" PRIu64 " exceptions remap chunks past the end of the "
		      "snapshot (%" PRIu64 " bytes); they are not part of it", store, beyond,
		      vs->size);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		VIEWOPT_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct viewopt vo = { .size_within_origin = 1 };
	struct extract_options opt = { .output = "-", .progress = "extracting" };
	const char *store;
	struct viewset vs;
	int c, r, quiet = 0;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, VIEWOPT_SHORTOPTS "o:fqhV", longopts, NULL)) != -1) {
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
		default:
			tool_std_option(c, usage, EXIT_FAIL);
		}
	}
	store = viewopt_operand(&vo, argc, argv, optind, EXIT_FAIL);
	viewopt_check(&vo, store, EXIT_FAIL);
	if (!*opt.output)
		errx(EXIT_FAIL, "empty output name");

	/* Inputs first: nothing is created when they cannot be read. */
	viewopt_open(&vo, store, &vs, EXIT_FAIL);
	if (!quiet && vs.store)
		warn_table(&vs, store);
	r = extract_view(&vs, &opt, NULL);
	if (r == 0 && vs.thin && thin_volume_warn_partial(vs.thin))
		r = 1;
	viewset_close(&vs);
	return r < 0 ? EXIT_FAIL : r ? EXIT_PARTIAL : EXIT_OK;
}
