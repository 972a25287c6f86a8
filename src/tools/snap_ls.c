/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_ls: list every snapshot, sparse (--virtualsize) volume and thin
 * volume LVM knows of, on the live system or on physical volumes given as
 * disk images, with what the kernel would make of each and what snaprescue
 * can do for it.  Read-only.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lsvol.h"
#include "tool.h"

static void NORETURN usage(void)
{
	printf("Usage: %s [--pv PATH]... [--metadata FILE] [options]\n"
	       "\n"
	       "List the snapshots, sparse volumes and thin volumes of every volume group\n"
	       "found: on the physical volumes given (disk images or devices, read without\n"
	       "LVM), or else on this system.  For each: kind, origin, size, COW size, chunk\n"
	       "size, state (valid, invalid, merging, full) and exceptions as the kernel would\n"
	       "compute them, where its COW lies, and what snaprescue can do for it.\n"
	       "\n"
	       "Options:\n"
	       VOLUME_HELP
	       "  -f, --format FMT         human (default) or json\n"
	       "  -h, --help               display this help\n"
	       "  -V, --version            display version\n"
	       "\n"
	       "Exit status: 0 listed, 1 a volume could not be read (listed with the reason)\n"
	       "or nothing could be read.  See snap_ls(8).\n",
	       program_name);
	exit(EXIT_OK);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		VOLUME_LONGOPTS,
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "human", "json", NULL };
	struct volume_opts vo = { 0 };
	struct volume_set set;
	int c, format = LSVOL_HUMAN, r;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, "f:hV", longopts, NULL)) != -1) {
		if (volume_parse(&vo, c, optarg, EXIT_FAIL))
			continue;
		if (c == 'f')
			format = parse_format(optarg, formats, EXIT_FAIL);
		else
			tool_std_option(c, usage, EXIT_FAIL);
	}
	if (optind < argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		try_help(EXIT_FAIL);
	}
	volume_set_open(&vo, &set, EXIT_FAIL);
	r = lsvol_print(&set, format);
	volume_set_close(&set);
	return r;
}
