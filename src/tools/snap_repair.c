/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_repair: give the kernel back a dm-snapshot exception store it will
 * load and that shows no wrong data: every possible record in table order,
 * the impossible ones dropped and named, a header it takes.  Read-only
 * unless -o NEW_STORE or --in-place --undo FILE is given.  The decisions
 * are libsnapcow's (snapcow_repair_*), the writing and the report
 * src/common/repair.c's; this file parses the options.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "repair.h"
#include "tool.h"
#include "undo.h"
#include "volume.h"

static void NORETURN usage(void)
{
	printf("Usage:\n"
	       " %s [-n] [-o NEW_STORE | --in-place --undo FILE] [options] STORE|VG/LV\n"
	       " %s --undo-apply FILE [-n] STORE\n"
	       "\n"
	       "Repair a dm-snapshot exception store (the COW device of an LVM snapshot, or\n"
	       "the snapshot or sparse volume VG/LV): keep every record the kernel can use,\n"
	       "in table order, drop the others (each one reported), recover the records\n"
	       "after a torn area, and rebuild a header the kernel would refuse or wipe.\n"
	       "Without -o or --in-place nothing is written: the repair is only shown.\n"
	       "\n"
	       "Options:\n"
	       "  -n, --dry-run            show the repair and check the target, write nothing\n"
	       "  -o, --output NEW_STORE   write the repaired store to a new file (header,\n"
	       "                           table and the kept exceptions' data)\n"
	       "      --in-place           rewrite the changed metadata chunks of STORE\n"
	       "      --undo FILE          with --in-place: save the chunks overwritten here\n"
	       "      --undo-apply FILE    put back the chunks saved in FILE\n"
	       "      --chunk-size SIZE    the chunk size (e.g. 4k, 64k) when the header's is\n"
	       "                           lost or wrong\n"
	       "      --origin-size BYTES  the origin's size: records past it are dropped\n"
	       "  -f, --format human|json  the report's format (default human)\n"
	       VOLUME_HELP
	       "  -h, --help               display this help\n"
	       "  -V, --version            display version\n"
	       "\n"
	       "Exit status: 0 nothing to repair, 1 repaired, 4 damage left (not written, or\n"
	       "not repairable), 8 operational error, 16 usage error.  See snap_repair(8).\n",
	       program_name, program_name);
	exit(FSCK_EXIT_OK);
}

static NORETURN void bad_value(const char *what, const char *arg)
{
	warnx("invalid %s: '%s'", what, arg);
	try_help(FSCK_EXIT_USAGE);
}

/* --chunk-size: bytes (k, M suffixes), a power of two number of sectors. */
static uint32_t parse_chunk(const char *arg)
{
	const char *why;
	uint64_t bytes;

	if (parse_size(arg, &bytes) < 0 || !bytes || bytes % SNAPCOW_SECTOR_SIZE)
		bad_value("chunk size (bytes, a multiple of 512 such as 4k or 64k)", arg);
	why = snapcow_chunk_kernel_problem(bytes / SNAPCOW_SECTOR_SIZE);
	if (why) {
		warnx("invalid chunk size: '%s': %s", arg, why);
		try_help(FSCK_EXIT_USAGE);
	}
	return (uint32_t)(bytes / SNAPCOW_SECTOR_SIZE);
}

/* The combinations the options allow. */
static void check_options(const struct repair_options *o, const char *undo_apply)
{
	const char *clash = NULL;

	if (undo_apply && (o->output || o->in_place || o->undo || o->chunk_sectors ||
			   o->origin_bytes || o->json))
		clash = "--undo-apply takes only -n and the store";
	else if (o->output && o->in_place)
		clash = "-o and --in-place are mutually exclusive";
	else if (o->in_place && !o->undo)
		clash = "--in-place needs --undo FILE (where the chunks it overwrites are saved)";
	else if (o->undo && !o->in_place)
		clash = "--undo goes with --in-place";
	if (clash) {
		warnx("%s", clash);
		try_help(FSCK_EXIT_USAGE);
	}
}

int main(int argc, char **argv)
{
	enum { OPT_IN_PLACE = 256, OPT_UNDO, OPT_UNDO_APPLY, OPT_CHUNK, OPT_ORIGIN_SIZE };
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "in-place", no_argument, NULL, OPT_IN_PLACE },
		{ "undo", required_argument, NULL, OPT_UNDO },
		{ "undo-apply", required_argument, NULL, OPT_UNDO_APPLY },
		{ "chunk-size", required_argument, NULL, OPT_CHUNK },
		{ "origin-size", required_argument, NULL, OPT_ORIGIN_SIZE },
		{ "format", required_argument, NULL, 'f' },
		VOLUME_LONGOPTS,
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "human", "json", NULL };
	struct repair_options o = { 0 };
	const char *undo_file = NULL;
	int c;

	tool_init(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0); /* keep order with stderr */
	while ((c = getopt_long(argc, argv, "no:f:hV", longopts, NULL)) != -1) {
		if (volume_parse(&o.vol, c, optarg, FSCK_EXIT_USAGE))
			continue;
		switch (c) {
		case 'n':
			o.dry_run = 1;
			break;
		case 'o':
			o.output = optarg;
			break;
		case OPT_IN_PLACE:
			o.in_place = 1;
			break;
		case OPT_UNDO:
			o.undo = optarg;
			break;
		case OPT_UNDO_APPLY:
			undo_file = optarg;
			break;
		case OPT_CHUNK:
			o.chunk_sectors = parse_chunk(optarg);
			break;
		case OPT_ORIGIN_SIZE:
			if (parse_size(optarg, &o.origin_bytes) < 0 || !o.origin_bytes)
				bad_value("origin size", optarg);
			break;
		case 'f':
			o.json = parse_format(optarg, formats, FSCK_EXIT_USAGE);
			break;
		default:
			tool_std_option(c, usage, FSCK_EXIT_USAGE);
		}
	}
	check_options(&o, undo_file);
	o.store = one_operand(argc, argv, optind, "store", FSCK_EXIT_USAGE);
	if (undo_file)
		return undo_apply(undo_file, o.store, -1, o.dry_run, 0, FSCK_EXIT_OPERROR);
	return repair_run(&o);
}
