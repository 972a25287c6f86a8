/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_merge: roll an origin back to its snapshot offline, the way the
 * kernel's merge (lvconvert --merge) does: each exception's chunk copied
 * from the store onto the origin, then the table emptied from its tail;
 * finish a merge the kernel or an earlier run was cut short in; put both
 * devices back from the undo file.  Options here; the work in
 * src/common/merge.c and merge_undo.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "merge.h"
#include "tool.h"
#include "volume.h"

static void NORETURN usage(void)
{
	printf("Usage:\n"
	       " %s [-n] [--undo FILE] [--resume] --origin FILE|DEV STORE\n"
	       " %s [-n] [--undo FILE] [--resume] [--pv PATH]... [--metadata FILE] VG/SNAP\n"
	       " %s --undo-apply FILE [-n] (--origin FILE|DEV STORE | [--pv PATH]... VG/SNAP)\n"
	       "\n"
	       "Merge a snapshot into its origin offline, as lvconvert --merge does online:\n"
	       "write each exception's chunk from the exception store STORE (the COW\n"
	       "device) onto the origin, so that the origin holds what the snapshot\n"
	       "shows, then empty the store's table from its tail as the kernel's merge\n"
	       "does.  Finishes a merge the kernel left half done.  Both devices must be\n"
	       "unused (no active snapshot); everything overwritten is saved to an undo\n"
	       "file first.\n"
	       "\n"
	       "Options:\n"
	       "      --origin FILE|DEV   the origin the snapshot was taken of (written)\n"
	       VOLUME_HELP
	       "  -n, --dry-run           check everything, say what would be done, write\n"
	       "                          nothing\n"
	       "      --undo FILE         undo file to write (default:\n"
	       "                          ./snap_merge-<store>-<time>.undo)\n"
	       "      --resume            finish the merge an interrupted run started; FILE\n"
	       "                          (--undo) is the undo file it wrote, kept as it is\n"
	       "      --undo-apply FILE   put the store and the origin back as FILE saved them\n"
	       "  -q, --quiet             print errors and the undo command only\n"
	       "  -h, --help              display this help\n"
	       "  -V, --version           display version\n"
	       "\n"
	       "Exit status: 0 merged (or nothing to merge, or restored), 1 failure, 2 not\n"
	       "supported (a sparse volume), 4 refused: the store has errors, is invalid or\n"
	       "does not fit the origin, 16 usage error.\n",
	       program_name, program_name, program_name);
	exit(MERGE_OK);
}

static void NORETURN usage_error(const char *msg)
{
	warnx("%s", msg);
	try_help(MERGE_USAGE);
}

/* The combinations of options and operand that make sense. */
static void check_usage(const struct merge_options *o, const char *undo_apply)
{
	int volume = volume_is_name(&o->vol, o->operand);

	if (volume && o->origin)
		usage_error("a volume brings its origin from LVM's metadata: --origin is for a "
			    "store given as a file or device");
	if (!volume && (o->vol.npv || o->vol.metadata))
		usage_error("--pv and --metadata find a volume by name (VG/SNAP), not a store file");
	if (!volume && !o->origin)
		usage_error("the origin is needed: --origin FILE|DEV (or give the volume as "
			    "VG/SNAP)");
	if (undo_apply && (o->undo || o->resume))
		usage_error("--undo-apply cannot be combined with --undo or --resume");
	if (o->resume && !o->undo)
		usage_error("--resume needs --undo FILE: the undo file of the interrupted run");
}

int main(int argc, char **argv)
{
	enum { OPT_ORIGIN = 256, OPT_UNDO, OPT_UNDO_APPLY, OPT_RESUME };
	static const struct option longopts[] = {
		{ "origin", required_argument, NULL, OPT_ORIGIN },
		VOLUME_LONGOPTS,
		{ "dry-run", no_argument, NULL, 'n' },
		{ "undo", required_argument, NULL, OPT_UNDO },
		{ "undo-apply", required_argument, NULL, OPT_UNDO_APPLY },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct merge_options o = { 0 };
	const char *undo_apply = NULL;
	int c;

	tool_init(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0); /* keep order with stderr */
	while ((c = getopt_long(argc, argv, "nqhV", longopts, NULL)) != -1) {
		if (volume_parse(&o.vol, c, optarg, MERGE_USAGE))
			continue;
		switch (c) {
		case OPT_ORIGIN:
			o.origin = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case OPT_UNDO:
			o.undo = optarg;
			break;
		case OPT_UNDO_APPLY:
			undo_apply = optarg;
			break;
		case OPT_RESUME:
			o.resume = 1;
			break;
		case 'q':
			o.quiet = 1;
			tool_set_verbosity(0);
			break;
		default:
			tool_std_option(c, usage, MERGE_USAGE);
		}
	}
	o.operand = one_operand(argc, argv, optind, "store", MERGE_USAGE);
	check_usage(&o, undo_apply);
	return undo_apply ? merge_undo_apply(&o, undo_apply) : merge_run(&o);
}
