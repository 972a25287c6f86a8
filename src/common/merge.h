/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_merge's work (tool-only): roll an origin back to its snapshot,
 * offline, the way the kernel's merge does (lvconvert --merge), and finish
 * a merge the kernel or an earlier run was cut short in.
 *
 *   merge.c       open the store and the origin for writing (paths, or
 *                 VG/SNAP through its PVs), check, plan, write, report
 *   merge_undo.c  the undo file: save it, check it for --resume, apply it
 *
 * Order of the writes, so that a crash at any point leaves a state from
 * which --resume, the kernel's own merge on activation, or --undo-apply
 * finishes correctly:
 *   1. the whole store is checked (errors, an invalid store: refused);
 *   2. the undo file: the metadata areas about to change (part 1) and every
 *      origin chunk about to be overwritten (part 2), synced;
 *   3. each exception's chunk is copied from the store onto the origin, in
 *      origin order, in runs of consecutive chunks; the table is untouched,
 *      so the snapshot (the table over the store and the origin) stays
 *      whole whatever has been copied;
 *   4. the origin is synced and read back against the snapshot;
 *   5. only then the table is emptied from its tail, area by area
 *      (snapcow_store_merge_shrink): every record the table still holds
 *      at any moment has its chunk on the origin already.
 * The undo file brings the store back first, then the origin, so the
 * snapshot is whole at every moment of an undo too.
 */
#ifndef SNAPRESCUE_MERGE_H
#define SNAPRESCUE_MERGE_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

#include "snapcow.h"
#include "volume.h"

/* Exit codes (see the man page). */
enum {
	MERGE_OK = 0,          /* merged, or nothing to merge */
	MERGE_FAIL = 1,        /* failure; what was written is said */
	MERGE_UNSUPPORTED = 2, /* a sparse (--virtualsize) volume */
	MERGE_REFUSED = 4,     /* the store has errors, is invalid, or does not fit the origin */
	MERGE_USAGE = 16,
};

struct merge_options {
	const char *operand;    /* STORE (file or device) or VG/SNAP */
	const char *origin;     /* --origin, with a store path */
	struct volume_opts vol; /* --pv, --metadata, with VG/SNAP */
	const char *undo;       /* --undo FILE */
	int resume;             /* --resume: FILE is the interrupted run's */
	int dry_run;
	int quiet;
};

/* One of the two devices a merge writes. */
struct merge_dev {
	char name[320];          /* for messages: the path, or "VG/LV (a.img:8-9)" */
	int fd;                  /* a path opened for writing, else -1 */
	struct stat st;          /* of the path */
	struct snapcow_dev *dev; /* what is read and written */
	struct snapcow_identity id;
};

struct merge {
	const struct merge_options *o;
	struct merge_dev store, origin;
	int is_volume;               /* VG/SNAP: @vol holds it */
	struct volume vol;
	struct snapcow_store *s;
	struct snapcow_view *view;
	uint64_t osize;              /* origin bytes */
	uint32_t cb;                 /* chunk bytes */
	struct snapcow_stats stats;  /* the table before the merge */
	/* the plan (merge_plan): what is written, and saved first */
	uint64_t chunks, bytes, runs, batches, areas;
	struct snapcow_undo_range *oranges; /* origin ranges, in origin order */
	size_t noranges;
	struct snapcow_undo_range *sranges; /* the metadata areas that change */
	size_t nsranges;
	char undo[PATH_MAX];
};

/* Merge the store of @o onto its origin (or, with -n, say what would be
 * done).  Every refusal and failure is printed.  Returns: the exit status. */
int merge_run(const struct merge_options *o);

/* Put back what the merge saved in undo file @undo, the store first, then
 * the origin.  Returns: the exit status. */
int merge_undo_apply(const struct merge_options *o, const char *undo);

/* merge.c, for merge_undo.c: open the store and the origin of @o for
 * writing (read-only with -n); @need_header: open the store as a store
 * (its header checked), else as bytes only. */
void merge_open(struct merge *m, const struct merge_options *o, int need_header);
void merge_close(struct merge *m);
/* Print "LEAD snap_merge ARGS..." with the shell-quoted absolute paths that
 * name the same store and origin (--origin, or --pv/--metadata VG/SNAP). */
void merge_print_command(const struct merge *m, const char *lead, const char *args,
			 const char *undo);

/* merge_undo.c */
/* Choose the undo file and check where it goes (free space included), or
 * for --resume check that the existing one belongs to this store and
 * origin and holds every byte still to be written.  Exits on refusal. */
void merge_undo_prepare(struct merge *m);
/* Bytes the undo file of the plan takes (headers, range records, bytes). */
uint64_t merge_undo_size(const struct merge *m);
/* Save the undo file (not with --resume).  Returns: 0, or -1 after a
 * message (nothing written). */
int merge_undo_save(struct merge *m);

#endif
