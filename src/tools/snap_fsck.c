/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_fsck: check the ext2/3/4, XFS or btrfs filesystem inside a
 * dm-snapshot view (the store plus its origin, or a zero origin) without
 * activating it: libext2fs reads the view through libsnapcow, XFS's and
 * btrfs's own tools read a temporary copy.  Nothing is ever written to the
 * store or the origin (both are opened read-only).  The checks are
 * src/common/fsck*.c; this file parses the options.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "fsck.h"
#include "fsview.h"
#include "tool.h"

static void NORETURN usage(void)
{
	printf(FSVIEW_USAGE
	       "\n"
	       "Check the ext2/3/4, XFS or btrfs filesystem inside a snapshot, read through\n"
	       "the COW store and its origin without activating it.  Never writes them.\n"
	       "\n"
	       "Options:\n"
	       VIEWOPT_HELP
	       "      --full              also run the filesystem's checker (e2fsck -fn,\n"
	       "                          xfs_repair -n, btrfs check --readonly) on a sparse\n"
	       "                          temporary copy of the view (in $TMPDIR, default\n"
	       "                          /var/tmp); XFS: a dirty log is replayed on the copy\n"
	       "                          first, by a private mount\n"
	       "      --no-log-replay     with --full: never mount the copy (XFS)\n"
	       FSVIEW_HELP_FORMAT
	       "  -q, --quiet             print only errors\n"
	       FSVIEW_HELP_STD
	       "\n"
	       "Exit status: 0 clean, 2 a filesystem it does not check, 4 errors or journal\n"
	       "or log recovery or orphans pending (or ranges of a thin volume that could not\n"
	       "be mapped), 8 operational error, 16 usage error.\n",
	       program_name, program_name, program_name);
	exit(FSCK_EXIT_OK);
}

enum { OPT_NO_LOG_REPLAY = 0x2000 };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		VIEWOPT_LONGOPTS,
		{ "full", no_argument, NULL, 'F' },
		{ "no-log-replay", no_argument, NULL, OPT_NO_LOG_REPLAY },
		FSVIEW_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct fsck_opts o = { 0 };
	struct fsview fv;
	int c, code;

	tool_init(argv[0]);
	fsview_init(&fv, FSCK_EXIT_USAGE, FSCK_EXIT_OPERROR);
	while ((c = fsview_getopt(&fv, argc, argv, "f:qhV", longopts, usage)) != -1) {
		if (c == 'F') {
			o.full = 1;
		} else if (c == OPT_NO_LOG_REPLAY) {
			o.no_log_replay = 1;
		} else if (c == 'q') {
			o.quiet = 1;
			tool_set_verbosity(0);
		}
	}
	fsview_open(&fv, argc, argv, "checking");
	code = fsck_view(&fv, &o);
	fsview_close(&fv);
	return code;
}
