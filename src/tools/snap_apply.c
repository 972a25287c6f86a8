/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_apply: write a delta stream from snap_delta onto a copy of the
 * volume (or put back what an earlier apply overwrote), safely: the stream
 * and the target checked first, only the blocks that differ written, each
 * batch saved to an undo file before it is written, resumable after an
 * interruption.  Options here; the work in src/common/apply.c.
 */
#include <getopt.h>
#include <stdlib.h>

#include "apply.h"
#include "tool.h"

static void usage(void)
{
	printf("Usage: %s [options] -i STREAM|- TARGET\n"
	       "\n"
	       "Write the delta stream STREAM (from snap_delta, or an undo file of snap_apply)\n"
	       "onto TARGET, a file or block device of the source volume's size.  Only the 4 KiB\n"
	       "blocks that differ are written; the bytes they overwrite are saved to an undo\n"
	       "file first, which snap_apply applies to go back.\n"
	       "\n"
	       "Options:\n"
	       "  -i, --input STREAM|-    the stream (- for stdin)\n"
	       "  -u, --undo FILE         the undo file to create (default: TARGET.snap_apply-undo\n"
	       "                          for a file, %s for a device)\n"
	       "      --no-undo           keep no undo file (the copy cannot be put back)\n"
	       "      --resume            continue the interrupted apply recorded in --undo FILE\n"
	       "      --no-verify         do not check a stream file whole before the first write\n"
	       "  -n, --dry-run           read and check everything, say what would be written\n"
	       "      --force             write a target that is in use (mounted, or held by a\n"
	       "                          device-mapper device), or an undo file's other target\n"
	       "  -q, --quiet             errors and the undo command only\n"
	       "  -h, --help              display this help\n"
	       "  -V, --version           display version\n"
	       "\n"
	       "Exit status: 0 applied (or nothing to do), 1 nothing written, 3 the stream stopped\n"
	       "part way: TARGET holds its runs up to the last good one (see snap_apply(8)).\n",
	       program_name, "/var/lib/snaprescue/snap_apply-NAME.undo");
	exit(EXIT_OK);
}

enum {
	OPT_NO_UNDO = 0x2000,
	OPT_RESUME,
	OPT_NO_VERIFY,
	OPT_FORCE,
};

static void parse_options(int argc, char **argv, struct apply_options *o)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "undo", required_argument, NULL, 'u' },
		{ "no-undo", no_argument, NULL, OPT_NO_UNDO },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0; /* our messages: "option '-i' needs an argument" */
	while ((c = getopt_long(argc, argv, ":i:u:nqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->input = optarg;
			break;
		case 'u':
			o->undo = optarg;
			break;
		case OPT_NO_UNDO:
			o->no_undo = 1;
			break;
		case OPT_RESUME:
			o->resume = 1;
			break;
		case OPT_NO_VERIFY:
			o->no_verify = 1;
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case 'q':
			o->quiet = 1;
			tool_set_verbosity(0);
			break;
		default:
			tool_getopt_error(c, argv, usage, EXIT_FAIL);
		}
	}
}

int main(int argc, char **argv)
{
	struct apply_options o = { 0 };

	tool_init(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0); /* in order with the messages on stderr */
	parse_options(argc, argv, &o);
	o.target = one_operand(argc, argv, optind, "target", EXIT_FAIL);
	if (!o.input) {
		warnx("no stream given (-i STREAM, or -i - for stdin)");
		try_help(EXIT_FAIL);
	}
	if (o.no_undo && (o.undo || o.resume)) {
		warnx("--no-undo cannot be given with --undo or --resume");
		try_help(EXIT_FAIL);
	}
	return apply_run(&o);
}
