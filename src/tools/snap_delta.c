/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_delta: ship what changed since a snapshot was taken (the origin's
 * data for every chunk in its exception table), the snapshot's own data
 * for those chunks, or every non-zero chunk of a volume or device, as a
 * delta stream for snap_apply.  Options here; the view is viewopt's, the
 * work src/common/delta.c's, the stream src/common/delta_stream.c's.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "delta_stream.h"
#include "tool.h"
#include "viewopt.h"

#define DEFAULT_ZSTD_LEVEL 3

static void usage(void)
{
	printf("Usage: %s [options] (--origin FILE|DEV | --zero-origin --size BYTES) STORE\n"
	       "       %s [options] [--pv PATH]... [--metadata FILE] VG/LV\n"
	       "       %s --full [options] FILE|DEV\n"
	       "\n"
	       "Write a delta stream for snap_apply: by default the origin's data now for every\n"
	       "chunk in the snapshot's exception table (what changed since the snapshot was\n"
	       "taken), so that a copy of the snapshot becomes a copy of the origin.  STORE is\n"
	       "the snapshot's COW device (or an image of it); VG/LV names the snapshot, found\n"
	       "through LVM's metadata.  Reads its inputs only.\n"
	       "\n"
	       "What goes into the stream:\n"
	       "      --snapshot-data     the snapshot's own data for those chunks instead (a\n"
	       "                          stream that rolls a copy of the origin back)\n"
	       "      --full              every non-zero chunk of the snapshot, or of FILE|DEV\n"
	       "                          (the sparse initial copy)\n"
	       "\n"
	       "Options:\n"
	       VIEWOPT_HELP
	       "  -o, --output STREAM|-   the stream to create, or - for stdout (default -)\n"
	       "  -f, --force             replace an existing STREAM (once the new one is complete)\n"
	       "      --compress zstd[:LEVEL]  compress the runs with zstd (default level %d)\n"
	       "  -q, --quiet             no progress bar, no summary, errors only\n"
	       "  -h, --help              display this help\n"
	       "  -V, --version           display version\n"
	       "\n"
	       "An invalid snapshot is refused: origin writes after the invalidation were not\n"
	       "recorded, so its table is only a lower bound of what changed.  See snap_delta(8)\n"
	       "and snapcow-delta(5) for the stream format.\n",
	       program_name, program_name, program_name, DEFAULT_ZSTD_LEVEL);
	exit(EXIT_OK);
}

enum {
	OPT_SNAPSHOT_DATA = 0x2000,
	OPT_FULL,
	OPT_COMPRESS,
};

/* --compress zstd[:LEVEL] */
static int parse_compress(const char *s)
{
	uint64_t level = DEFAULT_ZSTD_LEVEL;

	if (strncmp(s, "zstd", 4) || (s[4] && (s[4] != ':' || parse_u64(s + 5, &level) < 0 ||
					      level < 1 || level > 19))) {
		warnx("invalid --compress '%s': zstd or zstd:LEVEL (1..19) is supported", s);
		try_help(EXIT_FAIL);
	}
	return (int)level;
}

static void parse_options(int argc, char **argv, struct viewopt *vo, struct delta_options *o)
{
	static const struct option longopts[] = {
		VIEWOPT_LONGOPTS,
		{ "snapshot-data", no_argument, NULL, OPT_SNAPSHOT_DATA },
		{ "full", no_argument, NULL, OPT_FULL },
		{ "compress", required_argument, NULL, OPT_COMPRESS },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, snapshot = 0, full = 0;

	while ((c = getopt_long(argc, argv, "o:fqhV", longopts, NULL)) != -1) {
		if (viewopt_parse(vo, c, optarg, EXIT_FAIL))
			continue;
		switch (c) {
		case OPT_SNAPSHOT_DATA:
			snapshot = 1;
			break;
		case OPT_FULL:
			full = 1;
			break;
		case OPT_COMPRESS:
			o->zstd_level = parse_compress(optarg);
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'q':
			o->quiet = 1;
			tool_set_verbosity(0);
			break;
		default:
			tool_std_option(c, usage, EXIT_FAIL);
		}
	}
	if (snapshot && full) {
		warnx("--snapshot-data and --full are mutually exclusive");
		try_help(EXIT_FAIL);
	}
	o->kind = full ? DSTREAM_FULL : snapshot ? DSTREAM_SNAPSHOT : DSTREAM_CHANGES;
	if (!*o->output)
		errx(EXIT_FAIL, "empty output name");
}

/* A plain file or device for --full: no view options, not a volume name. */
static int is_device(const struct viewopt *vo, const char *operand)
{
	return !vo->origin && !vo->zero_origin && !vo->size && !vo->ignore_invalid &&
	       !volume_is_name(&vo->vol, operand);
}

int main(int argc, char **argv)
{
	struct viewopt vo = { .size_within_origin = 1, .invalid_deferred = 1, .stores_only = 1 };
	struct delta_options o = { .output = "-" };
	const char *operand;
	struct viewset vs;
	int r;

	tool_init(argv[0]);
	parse_options(argc, argv, &vo, &o);
	operand = one_operand(argc, argv, optind,
			      o.kind == DSTREAM_FULL ? "store, volume or device" : "store", EXIT_FAIL);
	if (o.kind == DSTREAM_FULL && is_device(&vo, operand))
		return delta_device(operand, &o);
	viewopt_check(&vo, operand, EXIT_FAIL);
	o.ignore_invalid = vo.ignore_invalid;
	viewopt_open(&vo, operand, &vs, EXIT_FAIL);
	r = delta_view(&vs, operand, &o);
	viewset_close(&vs);
	return r;
}
