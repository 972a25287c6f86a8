/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_apply's state, shared by apply.c (stream, target, report) and
 * apply_batch.c (read, compare, save, write).  Not for other modules. */
#ifndef SNAPRESCUE_APPLY_INT_H
#define SNAPRESCUE_APPLY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "apply.h"
#include "apply_journal.h"
#include "delta_stream.h"
#include "tool.h"

/* A run of the batch: its bytes at data/old + at (none for a zero run). */
struct batch_item {
	uint64_t off, len, xxh, run, end_pos;
	size_t at;
	int zero;
	int hole; /* a zero run over a hole of a regular file: equal, not read */
};

/* Bytes of the target that differ from the stream: written, saved first. */
struct batch_diff {
	uint64_t off;
	size_t len;
	const unsigned char *new; /* what is written */
	const unsigned char *old; /* what was there */
};

struct apply {
	const struct apply_options *o;
	const char *in_name;
	int in_fd;
	struct dstream_reader *rd;
	int stream_err;          /* the reader's error, a negated dstream_error */
	const struct dstream_header *h;
	const char *target;
	int tfd;
	int target_is_file;
	struct snapcow_identity tid;
	struct journal j;
	int journaled;           /* every batch saved and synced (not -n, not --no-undo) */
	/* the batch */
	struct batch_item items[APPLY_BATCH_RUNS];
	size_t n, used;
	unsigned char *data, *old, *zeros;
	struct batch_diff *diffs;
	size_t ndiffs;
	/* how far it got */
	uint64_t chain;          /* dstream_chain() over the runs added */
	uint64_t skip_to;        /* --resume: runs before this are on the target */
	uint64_t nosave_to;      /* --resume: runs before this are saved already */
	struct dstream_progress last; /* the last data run added (last_*) */
	uint64_t runs, run_bytes;     /* runs handled (zero runs too), and their bytes */
	uint64_t zero_runs;           /* of which zero runs */
	uint64_t written, skipped;    /* bytes, with those of the apply resumed */
	uint64_t written_now;         /* bytes this process wrote */
	struct progress bar;
};

/* Add record @rec (a RUN with @data, or a ZERO) to the batch, applying the
 * batch first when it is full.  Returns: 0, or -1 after a message. */
int batch_add(struct apply *a, const struct dstream_record *rec, const void *data);

/* Apply the batch: read the target, compare, save the bytes that differ
 * (journaled), write them, sync, mark the batch done.  Returns: 0, or -1
 * after a message. */
int batch_flush(struct apply *a);

int batch_init(struct apply *a);
void batch_free(struct apply *a);

#endif
