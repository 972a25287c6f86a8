/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_rmap: name what lives in the chunks a dm-snapshot store holds (an
 * ext2/3/4, XFS or btrfs filesystem in the snapshot view: files,
 * directories, metadata, free space), read without activating it.  The
 * mapping is src/common/rmap*.c; this file parses the options.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsview.h"
#include "rmap.h"
#include "tool.h"

static void NORETURN usage(void)
{
	printf(FSVIEW_USAGE
	       "\n"
	       "Name the files, directories and filesystem metadata that live in the\n"
	       "chunks a snapshot's COW store holds (ext2/3/4, XFS, btrfs; read without\n"
	       "activating it); for a thin volume, those in the ranges whose mappings could\n"
	       "not be read.\n"
	       "\n"
	       "Options:\n"
	       VIEWOPT_HELP
	       "      --chunks A..B       only exceptions whose origin chunk is in A..B\n"
	       "      --uncommitted       also list data chunks past next_free (written,\n"
	       "                          never committed) and, on a zero origin, the files\n"
	       "                          whose data is missing from the table (ext2/3/4)\n"
	       "      --trust             also name the files whose blocks lie in chunks not in\n"
	       "                          the table of an invalid snapshot of a real origin (the\n"
	       "                          origin now, possibly newer than the snapshot; ext2/3/4)\n"
	       "      --no-log-replay     XFS: never mount the temporary copy to replay a\n"
	       "                          dirty log (its log is zeroed there instead)\n"
	       FSVIEW_HELP_FORMAT
	       FSVIEW_HELP_STD
	       "\n"
	       "Exit status: 0 ok, 1 failure, 2 a filesystem it does not map, 3 a thin\n"
	       "volume with lost ranges (named).\n",
	       program_name, program_name, program_name);
	exit(EXIT_OK);
}

enum { OPT_NO_LOG_REPLAY = 0x2000 };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		VIEWOPT_LONGOPTS,
		{ "chunks", required_argument, NULL, 'c' },
		{ "uncommitted", no_argument, NULL, 'u' },
		{ "trust", no_argument, NULL, 't' },
		{ "no-log-replay", no_argument, NULL, OPT_NO_LOG_REPLAY },
		FSVIEW_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct rmap_opts o = { .from = 0, .to = UINT64_MAX };
	struct fsview fv;
	int c, code;

	tool_init(argv[0]);
	fsview_init(&fv, EXIT_FAIL, EXIT_FAIL);
	while ((c = fsview_getopt(&fv, argc, argv, "f:hV", longopts, usage)) != -1) {
		if (c == 'c') {
			if (parse_range(optarg, &o.from, &o.to) < 0) {
				warnx("invalid chunk range: '%s' (A..B, either end may be left out)",
				      optarg);
				try_help(EXIT_FAIL);
			}
		} else if (c == 'u')
			o.uncommitted = 1;
		else if (c == 't')
			o.trust = 1;
		else if (c == OPT_NO_LOG_REPLAY)
			o.no_log_replay = 1;
	}
	if (o.trust && (o.from != 0 || o.to != UINT64_MAX)) {
		warnx("--trust looks at the whole view: it does not go with --chunks");
		try_help(EXIT_FAIL);
	}
	fsview_open(&fv, argc, argv, "mapping");
	if (fv.vs.thin && (o.uncommitted || o.from || o.to != UINT64_MAX))
		errx(EXIT_FAIL, "--chunks and --uncommitted are about a snapshot's exception store; "
		     "for a thin volume snap_rmap names what lies in the ranges that could not be "
		     "mapped");
	code = rmap_view(&fv, &o);
	fsview_close(&fv);
	return code;
}
