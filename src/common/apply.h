/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_apply's job (tool-side): write a delta stream (delta_stream.h) onto
 * a target of the source's size, safely.
 *
 * Before the first write: the stream's header, the target (its size, its
 * identity for an undo stream, not held by the kernel, not the stream or
 * the undo file) and, for a stream in a regular file, every record and
 * the end record (a pipe is checked run by run: a bad run stops the apply
 * with the runs before it written).  Runs are applied in batches (up to
 * APPLY_BATCH_RUNS runs or DSTREAM_RUN_MAX bytes): the target's bytes are
 * read first and only the 4 KiB blocks that differ are written, each batch
 * saved to the undo file and synced before it is written (the journal,
 * apply_journal.h).  Memory: about 40 MiB.
 */
#ifndef SNAPRESCUE_APPLY_H
#define SNAPRESCUE_APPLY_H

#define APPLY_BLOCK 4096U     /* a target is compared and written in these units */
#define APPLY_BATCH_RUNS 256U /* runs per batch (one SAVE, one DONE record each) */

/* Exit status when part of the stream was written and the rest was not. */
#define APPLY_EXIT_PARTIAL 3

struct apply_options {
	const char *input;  /* the stream, "-": stdin */
	const char *target; /* a regular file or block device of the source's size */
	const char *undo;   /* the undo file (NULL: the default, see journal_plan()) */
	int no_undo;        /* save nothing (the user's choice) */
	int resume;         /* continue the apply recorded in @undo */
	int no_verify;      /* a stream file: do not check it whole before writing */
	int dry_run;        /* read and check everything, write nothing */
	int force;          /* a target in use, or another target's undo stream */
	int quiet;          /* errors (and the undo command) only */
};

/* Apply @o->input to @o->target.  Every refusal and failure is said.
 * Returns: the exit status: EXIT_OK, EXIT_FAIL (nothing written) or
 * APPLY_EXIT_PARTIAL. */
int apply_run(const struct apply_options *o);

#endif
