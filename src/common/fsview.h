/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the read-only reports on the filesystem inside a snapshot view
 * (snap_fsck, snap_rmap) share, written once: their options (the view
 * options, -f/--format, -h/-V), opening store + origin + view and the
 * filesystem on it (probe first: ext2/3/4 is opened with libext2fs, XFS
 * and btrfs are left to their own tools), and the head of their report
 * (the store line, the JSON object and its printing).  Tool-side only.
 */
#ifndef SNAPRESCUE_FSVIEW_H
#define SNAPRESCUE_FSVIEW_H

#include <getopt.h>
#include <json-c/json.h>
#include <stdint.h>

#include "ext2view.h"
#include "fsprobe.h"
#include "tool.h"
#include "viewopt.h"

enum fsview_format {
	FSVIEW_HUMAN,
	FSVIEW_JSON,
};

/* Entries for the tool's longopts[] table, after VIEWOPT_LONGOPTS and the
 * tool's own options (getopt_long lists the candidates of an ambiguous
 * abbreviation in table order); short options "f:hV". */
#define FSVIEW_LONGOPTS                                   \
	{ "format", required_argument, NULL, 'f' },       \
	TOOL_THREADS_LONGOPT,                             \
	TOOL_STD_LONGOPTS

/* The usage line (printf format: the program name), and help lines. */
#define FSVIEW_USAGE \
	"Usage: %s (--origin FILE|DEV | --zero-origin --size BYTES) [options] STORE\n"  \
	"       %s [--pv PATH]... [--metadata FILE] [options] VG/LV\n"                  \
	"       %s --thin-meta FILE --thin-data FILE --thin-id N [options]\n"
#define FSVIEW_HELP_FORMAT "  -f, --format FMT        human (default) or json\n"
#define FSVIEW_HELP_STD                                                    \
	TOOL_THREADS_HELP                                                  \
	"  -h, --help              display this help and exit\n"            \
	"  -V, --version           display version information and exit\n"

struct fsview {
	int usage_code;        /* exit code of a usage error */
	int fail_code;         /* exit code of any other failure */
	const char *store;     /* the STORE operand */
	struct viewopt vo;
	struct viewset vs;
	enum fsview_format format;
	int probed;            /* 1: libblkid named the type, 0: it found no signature */
	char type[128];        /* libblkid's type when probed */
	enum fs_family family; /* FS_EXT2 (also when libblkid found nothing), FS_XFS, FS_BTRFS */
	ext2_filsys fs;        /* ext2/3/4: open read-only (NULL once closed, and for others) */
};

/* Defaults: human output, an invalid store read with a warning; the tool's
 * exit codes for a usage error and for any other failure. */
void fsview_init(struct fsview *fv, int usage_code, int fail_code);

/* getopt_long() on @argv that handles the view options and -f/--format
 * itself (a bad value: message, exit @fv->usage_code) and -h, -V and
 * unknown options through tool_std_option(@usage).  Returns: the next of
 * the tool's own options (its argument in optarg), or -1 at the end. */
int fsview_getopt(struct fsview *fv, int argc, char **argv, const char *shortopts,
		  const struct option *longopts, void (*usage)(void));

/* The one STORE operand (argv[optind]), the view options checked (usage
 * errors), store + origin + view opened, the view probed and, for ext2/3/4
 * (or no signature at all), its filesystem opened; XFS and btrfs only get
 * @fv->family.  Otherwise the tool ends: exit EXIT_UNSUPPORTED for another
 * filesystem or several signatures ("not @verb an ambiguous device"),
 * @fv->fail_code for anything else. */
void fsview_open(struct fsview *fv, int argc, char **argv, const char *verb);

/* Close the filesystem (if still open) and the view. */
void fsview_close(struct fsview *fv);

/* The report's first line on stdout: "store:" padded to @width columns,
 * then "STORE, N exceptions, N-byte chunks" and ", marked invalid" when the
 * store's header says so. */
void fsview_print_store(const struct fsview *fv, int width);

/* A new JSON object holding store, exceptions, chunk_bytes and
 * store_invalid. */
json_object *fsview_json_new(const struct fsview *fv);

/* Something a report's module did besides reading the view ("read",
 * "copy", "log replay", "mapped by"...): printed after the module's figures
 * as "label: text", in JSON as "steps": [{"step", "result"}]. */
struct fsview_step {
	char label[24];
	char text[480];
};

/* Print the steps, labels padded to @width columns. */
void fsview_print_steps(const struct fsview_step *st, size_t n, int width);

/* Add "steps": [...] to @o when there are any. */
void fsview_json_add_steps(json_object *o, const struct fsview_step *st, size_t n);

/* Add @key: the words of @text (split at any of @seps) as a JSON array. */
void fsview_json_add_words(json_object *o, const char *key, const char *text, const char *seps);

/* Add @key: @v (an unsigned figure) to @o. */
void fsview_json_add_u64(json_object *o, const char *key, uint64_t v);

/* Print @o pretty on stdout (slashes unescaped) and free it. */
void fsview_json_print(json_object *o);

#endif
