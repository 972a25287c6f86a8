/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_delta's job (tool-side): the chunks a snapshot's table names, read
 * from the origin (what changed since the snapshot) or from the snapshot
 * itself, or every non-zero chunk of a volume or device, written as a
 * delta stream (delta_stream.h).
 *
 * The table is walked in origin order through libsnapcow's map; adjacent
 * chunks become one run (up to DSTREAM_RUN_WRITE bytes, then the next run
 * goes on where it stopped), each read with one large read.  Nothing but
 * the table's metadata areas and the chunks it names is read (--full:
 * every data segment; holes of sparse files and zero extents are skipped
 * without reading).  Memory: two runs' worth of buffers plus the map.
 */
#ifndef SNAPRESCUE_DELTA_H
#define SNAPRESCUE_DELTA_H

#include <stdint.h>

#include "viewopt.h"

struct delta_options {
	uint32_t kind;      /* DSTREAM_CHANGES, DSTREAM_SNAPSHOT or DSTREAM_FULL */
	int zstd_level;     /* 0: runs stored raw */
	const char *output; /* "-" (stdout) or a new file */
	int force;          /* replace an existing output file once complete */
	int ignore_invalid; /* ship from an invalid snapshot (marked incomplete) */
	int quiet;          /* errors only */
};

/* Write the stream of the snapshot @vs (viewopt_open() of @operand, with
 * invalid_deferred) to @o->output.  An invalid store is refused, saying
 * what the stream would miss, unless @o->ignore_invalid: then it is
 * shipped, marked incomplete, and said.  At the end the table is
 * read again: if it grew (the origin was written meanwhile) the stream is
 * left without its end record, so that no snap_apply takes it for
 * complete.  Every failure is said.  Returns: the exit status. */
int delta_view(struct viewset *vs, const char *operand, const struct delta_options *o);

/* --full of the regular file or block device @path (not a snapshot).
 * Returns: the exit status. */
int delta_device(const char *path, const struct delta_options *o);

#endif
