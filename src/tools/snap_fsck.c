/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_fsck: check the ext2/3/4 filesystem inside a dm-snapshot view (the
 * store plus its origin, or a zero origin) without the kernel: libext2fs
 * reads the view through libsnapcow.  Nothing is ever written to the store
 * or the origin (both are opened read-only).  The check is
 * src/common/fsck_ext2.c; this file parses the options.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "fsck_ext2.h"
#include "fsview.h"
#include "tool.h"

static void NORETURN usage(void)
{
	printf(FSVIEW_USAGE
	       "\n"
	       "Check the ext2/3/4 filesystem inside a snapshot, read through the COW\n"
	       "store and its origin without the kernel.  Never writes anything.\n"
	       "\n"
	       "Options:\n"
	       VIEWOPT_HELP
	       "      --full              also run e2fsck -fn on a sparse temporary copy\n"
	       "                          of the view (in $TMPDIR, default /var/tmp)\n"
	       FSVIEW_HELP_FORMAT
	       "  -q, --quiet             print only errors\n"
	       FSVIEW_HELP_STD
	       "\n"
	       "Exit status: 0 clean, 2 not an ext2/3/4 filesystem, 4 errors or journal\n"
	       "recovery or orphans pending (or ranges of a thin volume that could not be\n"
	       "mapped), 8 operational error, 16 usage error.\n",
	       program_name, program_name, program_name);
	exit(FSCK_EXIT_OK);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		VIEWOPT_LONGOPTS,
		{ "full", no_argument, NULL, 'F' },
		FSVIEW_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct fsck_ext2_opts o = { 0 };
	struct fsview fv;
	int c, code;

	tool_init(argv[0]);
	fsview_init(&fv, FSCK_EXIT_USAGE, FSCK_EXIT_OPERROR);
	while ((c = fsview_getopt(&fv, argc, argv, "f:qhV", longopts, usage)) != -1) {
		if (c == 'F') {
			o.full = 1;
		} else if (c == 'q') {
			o.quiet = 1;
			tool_set_verbosity(0);
		}
	}
	fsview_open(&fv, argc, argv, "checking");
	code = fsck_ext2(&fv, &o);
	fsview_close(&fv);
	return code;
}
