/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a snapshot's view can vouch for, chunk by chunk (snap_check --trust,
 * snap_extract --trust-report, snap_rmap --trust):
 *   committed   in the table: the snapshot's data (for an invalid store, as
 *               of the overflow);
 *   origin now  every other chunk of the view: the origin as it is now.  For
 *               a valid store the kernel was still copying, so it is the
 *               snapshot's; for an invalid snapshot of a real origin the
 *               kernel stopped copying at the invalidation, so it may be newer
 *               than the snapshot; for a --virtualsize volume the origin is
 *               the zero target and never changes;
 *   orphans     data chunks past next_free that were written but never
 *               committed: not part of the view (with the old chunk they
 *               would have gone to when a record after the table's end names
 *               them).
 * Tool-side; the figures come from libsnapcow (map, stats, uncommitted scan).
 */
#ifndef SNAPRESCUE_TRUST_H
#define SNAPRESCUE_TRUST_H

#include <stdint.h>
#include <stdio.h>

#include "snapcow.h"

enum trust_origin {
	TRUST_ORIGIN_REAL,    /* a snapshot of a real origin */
	TRUST_ORIGIN_ZERO,    /* a --virtualsize volume: the zero target */
	TRUST_ORIGIN_UNKNOWN, /* a store alone: taken as a real origin */
};

struct trust_range {
	uint64_t first, last;
};

/* An orphan a record after the table's end names. */
struct trust_hint {
	uint64_t chunk, old_chunk;
};

struct trust {
	const char *store;
	int invalid;
	enum trust_origin origin;
	uint32_t chunk_bytes;
	uint64_t view_bytes;          /* 0: unknown */
	uint64_t view_chunks;
	uint64_t next_free;
	uint64_t committed;           /* view chunks in the table */
	uint64_t beyond;              /* table entries past the view's end */
	struct trust_range *runs;     /* of committed old chunks */
	size_t nruns, capruns;
	uint64_t orphans;
	struct trust_range *orphan_runs; /* of store chunks */
	size_t norphan_runs, caporphan_runs;
	struct trust_hint *hints;
	size_t nhints, caphints;
	struct snapcow_exception *after; /* records after the table's end, by new chunk */
	size_t nafter, capafter;
};

/* Classify the view of store @s (its table mapped in @m) of @view_bytes (0:
 * unknown) over an origin of kind @origin.  Reads the data past next_free.
 * Failures end the tool (exit @fail_code). */
void trust_build(struct trust *t, struct snapcow_store *s, const struct snapcow_map *m,
		 uint64_t view_bytes, enum trust_origin origin, const char *store, int fail_code);
void trust_free(struct trust *t);

/* Returns: 1 if the chunks of the view not in the table may be newer than
 * the snapshot (an invalid store of a real or unknown origin), else 0. */
int trust_origin_now_untrusted(int invalid, enum trust_origin origin);

/* One line: what the view can vouch for. */
const char *trust_verdict(int invalid, enum trust_origin origin);

/* The human summary on @f. */
void trust_print(FILE *f, const struct trust *t);

/* The report as JSON into @path ("-": stdout).  Returns: 0, or -errno
 * (said). */
int trust_write_json(const struct trust *t, const char *path);

#endif
