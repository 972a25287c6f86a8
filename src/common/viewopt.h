/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared parsing of the options that describe a snapshot view:
 *   --origin FILE|DEV | --zero-origin --size BYTES, [--ignore-invalid]
 * and opening store + map + view from them.  Tool-side only.
 */
#ifndef SNAPRESCUE_VIEWOPT_H
#define SNAPRESCUE_VIEWOPT_H

#include <getopt.h>
#include <stdint.h>

#include "snapcow.h"
#include "thin_view.h"
#include "volume.h"

enum {
	VIEWOPT_ORIGIN = 0x1000,
	VIEWOPT_ZERO_ORIGIN,
	VIEWOPT_SIZE,
	VIEWOPT_IGNORE_INVALID,
	VIEWOPT_THIN_META,
	VIEWOPT_THIN_DATA,
	VIEWOPT_THIN_ID,
	VIEWOPT_METADATA_SNAP,
};

/* Entries for a tool's longopts[] table (the volume options included: the
 * operand may be VG/LV). */
#define VIEWOPT_LONGOPTS                                                     \
	{ "origin", required_argument, NULL, VIEWOPT_ORIGIN },               \
	{ "zero-origin", no_argument, NULL, VIEWOPT_ZERO_ORIGIN },           \
	{ "size", required_argument, NULL, VIEWOPT_SIZE },                   \
	{ "ignore-invalid", no_argument, NULL, VIEWOPT_IGNORE_INVALID },     \
	{ "thin-meta", required_argument, NULL, VIEWOPT_THIN_META },         \
	{ "thin-data", required_argument, NULL, VIEWOPT_THIN_DATA },         \
	{ "thin-id", required_argument, NULL, VIEWOPT_THIN_ID },             \
	{ "metadata-snap", no_argument, NULL, VIEWOPT_METADATA_SNAP },       \
	VOLUME_LONGOPTS

/* Short options a tool may give them (snap_extract: -O, -z, -s): add
 * VIEWOPT_SHORTOPTS to its getopt string and pass each option through
 * viewopt_short() before viewopt_parse(). */
#define VIEWOPT_SHORTOPTS "O:zs:"

/* The same options as help text lines; VIEWOPT_HELP_SHORT shows the short
 * options too. */
#define VIEWOPT_HELP_LINES(o, z, s)                                                        \
	"  " o "--origin FILE|DEV   the origin the snapshot was taken of (read only)\n"       \
	"  " z "--zero-origin       the origin is the zero target (a --virtualsize volume)\n" \
	"  " s "--size BYTES        size of the view (required with --zero-origin;\n"         \
	"                          default: the origin's size); k, M, G suffixes\n"            \
	"      --ignore-invalid    read an invalidated store's committed table anyway\n"     \
	"      --pv PATH           with VG/LV: a physical volume (disk image, partitioned\n"  \
	"                          image or device) to find it on, offline; repeatable\n"     \
	"      --metadata FILE     with VG/LV: the VG's metadata from a backup or archive\n"  \
	"                          file (/etc/lvm/backup/VG) instead of the PVs' own\n"  \
	"      --thin-meta FILE    a thin pool's metadata (its _tmeta, image or device)\n"   \
	"      --thin-data FILE    and data (_tdata): read thin device --thin-id N from\n"   \
	"      --thin-id N         them, without the kernel (no STORE operand; --size\n"     \
	"                          gives the volume's size, default: its last mapping)\n" \
	"      --metadata-snap     read the metadata snapshot the pool holds\n"              \
	"                          (reserve_metadata_snap), not the current trees\n"
#define VIEWOPT_HELP VIEWOPT_HELP_LINES("    ", "    ", "    ")
#define VIEWOPT_HELP_SHORT VIEWOPT_HELP_LINES("-O, ", "-z, ", "-s, ")

struct viewopt {
	const char *origin;
	int zero_origin;
	uint64_t size; /* 0: the origin's size */
	int ignore_invalid;
	/* Set by read-only reports (snap_fsck, snap_rmap): an invalid store
	 * is read with a prominent warning instead of refused. */
	int invalid_is_warning;
	/* Set by tools that write the view out (snap_extract): a --size
	 * larger than the origin is refused instead of read as zeros. */
	int size_within_origin;
	/* Set by tools whose refusal of an invalid store depends on what they
	 * were asked for (snap_delta): viewopt_open() neither refuses nor
	 * warns; the caller does (viewset_warn_invalid()). */
	int invalid_deferred;
	/* the tool needs an exception store (snap_delta): a thin volume is
	 * refused */
	int stores_only;
	struct volume_opts vol; /* --pv, --metadata */
	const char *thin_meta, *thin_data; /* --thin-meta, --thin-data */
	uint64_t thin_id;
	int has_thin_id, metadata_snap;
};

/* Returns: the view option code of short option @c ('O', 'z', 's' of
 * VIEWOPT_SHORTOPTS), else @c. */
int viewopt_short(int c);

/* Handle option @c (from getopt_long) if it is a view option.  A bad value
 * prints a message and exits @usage_code.  Returns: 1 if handled, else 0. */
int viewopt_parse(struct viewopt *o, int c, const char *arg, int usage_code);

/* The operand of a tool that reads a view: argv[@first], the only one; or
 * NULL for a thin volume given by --thin-meta/--thin-data/--thin-id, which
 * takes none.  A usage error exits @usage_code. */
const char *viewopt_operand(const struct viewopt *o, int argc, char **argv, int first,
			    int usage_code);

/* Check that the view options are complete and consistent for @operand (a
 * store path needs the origin or --zero-origin --size; a VG/LV name brings
 * them itself; NULL: the thin options need all three); prints a message and
 * exits @usage_code (after try_help) when not. */
void viewopt_check(const struct viewopt *o, const char *operand, int usage_code);

struct viewset {
	struct snapcow_store *store; /* NULL for a thin volume */
	struct snapcow_view *view;
	int origin_fd;      /* -1 for a zero origin or an origin in pieces */
	const char *origin; /* the origin's path or LV (NULL for a zero origin) */
	int zero_origin;    /* the origin is the zero target */
	struct volume vol;  /* VG/LV: where it was found (vol.kind VOLUME_OTHER: a path) */
	uint64_t size;      /* view bytes */
	uint32_t chunk_bytes;
	int invalid;        /* the store's header says invalid */
	struct snapcow_stats stats;
	/* a thin volume (store NULL, view a plain view of thin->pieces) */
	struct thin_volume *thin;
	char thin_name[640];     /* "META, thin device N" or VG/LV */
	struct snapcow_dev *thin_meta, *thin_data; /* --thin-meta/--thin-data's */
	int thin_meta_fd, thin_data_fd;
};

/* Open @store_path (or the volume VG/LV, or with @store_path NULL the thin
 * volume of the --thin-* options) and the origin read-only and build the
 * view.  Every failure prints "<tool>: ..." and exits @fail_code. */
void viewopt_open(const struct viewopt *o, const char *store_path, struct viewset *vs,
		  int fail_code);

/* The view of volume @vg/@lv of @set (found once for several volumes;
 * @set must outlive @vs), with the policy of @o (invalid stores). */
void viewset_open_in(const struct viewopt *o, const struct volume_set *set, const char *vg,
		     const char *lv, struct viewset *vs, int fail_code);

void viewset_close(struct viewset *vs);

/* Warn (on stderr) what reading the committed table of an invalid store
 * gives: the table as of the overflow, what the origin may hold now, and
 * how much data past the table was never committed. */
void viewset_warn_invalid(struct viewset *vs, const char *store, int zero_origin);

/* Warn what the table holds that the view does not show: records of an
 * old chunk that a later record remaps again, exceptions past the end of
 * the view. */
void viewset_warn_table(const struct viewset *vs, const char *store);

#endif
