/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_restore: write a dm-snapshot exception store (header and table) from
 * a snap_dump XML or JSON dump, or put back what such a write overwrote.
 * Options here; the work in src/common/restore.c (check the whole dump
 * with libsnapcow's rules, refuse a target that must not be written, save
 * an undo file, write through snapcow_writer_*).
 */
#include <getopt.h>
#include <stdlib.h>

#include "restore.h"
#include "undo.h"
#include "tool.h"

static void usage(void)
{
	printf("Usage: %s [options] -i DUMP -o STORE\n"
	       "       %s --undo-apply UNDO [-n] [--force] STORE\n\n"
	       "Write a device-mapper snapshot store (header and exception table) from\n"
	       "a snap_dump XML or JSON dump.  Data chunks are not written.\n\n"
	       "Options:\n"
	       "  -i, --input DUMP       the dump (XML or JSON, detected from its contents)\n"
	       "  -o, --output STORE     the store to write (file or block device)\n"
	       "  -s, --size BYTES       store size (default: the dump's store_size)\n"
	       "  -f, --force            overwrite an existing store or a block device\n"
	       "                         (the overwritten bytes are saved first)\n"
	       "  -u, --undo FILE        where to save them (default STORE.snap_restore-undo)\n"
	       "      --undo-apply UNDO  put back the bytes saved in UNDO\n"
	       "  -n, --dry-run          check the dump and print what would be written\n"
	       "  -q, --quiet            errors only\n"
	       "  -h, --help             show this help and exit\n"
	       "  -V, --version          show the version and exit\n",
	       program_name, program_name);
	exit(EXIT_OK);
}

enum { OPT_UNDO_APPLY = 256 };

/* Parse the options into @o and *@undo (--undo-apply); exit on bad usage. */
static void parse_options(int argc, char **argv, struct restore_options *o, const char **undo)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "undo", required_argument, NULL, 'u' },
		{ "undo-apply", required_argument, NULL, OPT_UNDO_APPLY },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0; /* our messages: "option '-i' needs an argument" */
	while ((c = getopt_long(argc, argv, ":i:o:s:fu:nqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->input = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 's':
			if (parse_size(optarg, &o->size) < 0 || !o->size)
				errx(EXIT_FAIL, "invalid size '%s'", optarg);
			break;
		case 'f':
			o->force = 1;
			break;
		case 'u':
			o->undo_file = optarg;
			break;
		case OPT_UNDO_APPLY:
			*undo = optarg;
			break;
		case 'n':
			o->dry_run = 1;
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
	struct restore_options o = { 0 };
	const char *undo = NULL;

	tool_init(argv[0]);
	parse_options(argc, argv, &o, &undo);
	if (undo) {
		if (!o.output && optind == argc - 1)
			o.output = argv[optind++];
		if (!o.output || optind != argc)
			errx(EXIT_FAIL, "--undo-apply needs the undo file and one STORE");
		return undo_apply(undo, o.output, o.force, o.dry_run, o.quiet, EXIT_FAIL);
	}
	if (optind != argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		try_help(EXIT_FAIL);
	}
	if (!o.input || !o.output) {
		warnx("%s", !o.input ? "no dump given (-i DUMP)" : "no store given (-o STORE)");
		try_help(EXIT_FAIL);
	}
	return restore_run(&o);
}
