/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_repair's work (tool-side): open the store (a file, a device or
 * VG/LV), let libsnapcow decide the repair (snapcow_repair_new: which
 * records stay, the header, the changed chunks), report it, and write it:
 * a new store through the writer (-o), or the changed metadata chunks in
 * place after saving them to an undo file, in an order that leaves the
 * kernel the old table, the new one, or a header marked invalid while the
 * table is rewritten (never a mix it would load):
 *
 *   1. save every chunk about to change (and the header chunk) to the undo
 *      file, fsync it and its directory            (fault point after-undo)
 *   2. when areas change: the header's valid flag to 0 (a rebuilt header:
 *      the whole new header chunk with valid 0), fsync (after-invalidate)
 *   3. the changed areas in table order, fsync   (after-area, after-areas)
 *   4. the final header (its valid flag), fsync   (after-write)
 *   5. drop the cached pages, read every changed chunk back and compare.
 */
#ifndef SNAPRESCUE_REPAIR_H
#define SNAPRESCUE_REPAIR_H

#include <stdint.h>

#include "snapcow.h"
#include "volume.h"

struct repair_options {
	const char *store;       /* STORE or VG/LV */
	struct volume_opts vol;  /* --pv, --metadata */
	int dry_run;             /* -n: report, check the target, write nothing */
	const char *output;      /* -o NEW_STORE */
	int in_place;            /* --in-place */
	const char *undo;        /* --undo FILE (with --in-place) */
	uint32_t chunk_sectors;  /* --chunk-size, 0: none */
	uint64_t origin_bytes;   /* --origin-size, 0: none */
	int json;                /* --format json */
};

/* What was done, for the report. */
enum repair_outcome {
	REPAIR_NOTHING,      /* the store needs no repair */
	REPAIR_REPORTED,     /* read-only run: the repair was shown, not written */
	REPAIR_WRITTEN,      /* -o or --in-place wrote it */
	REPAIR_FAILED,       /* writing failed (said on stderr) */
};

struct repair_report {
	const char *store;
	const struct volume *vol;        /* VG/LV, or kind VOLUME_OTHER */
	struct snapcow_repair *repair;
	enum repair_outcome outcome;
	const char *output;              /* -o */
	const char *undo;                /* --in-place */
	int in_place;
};

/* Repair @o->store as asked; every refusal and failure is printed.
 * Returns: the exit status (0 nothing to repair, 1 repaired, 4 damage left,
 * 8 operational error). */
int repair_run(const struct repair_options *o);

/* The report on stdout: human lines or one JSON object (repair_report.c). */
void repair_report_human(const struct repair_report *rp);
void repair_report_json(const struct repair_report *rp);

#endif
