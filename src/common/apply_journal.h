/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_apply's undo file, which is also its journal: an undo stream
 * (delta_stream.h, kind DSTREAM_UNDO) naming the target and the stream
 * applied.  For each batch of runs that changes the target: the target's
 * bytes about to be overwritten (RUN records), a SAVE record, fsync; the
 * writes, fsync of the target; a DONE record, fsync.  At the end an END
 * record.  snap_apply -i UNDO TARGET puts the saved bytes back; snap_apply
 * --resume --undo UNDO continues after the last DONE.  Tool-side only.
 */
#ifndef SNAPRESCUE_APPLY_JOURNAL_H
#define SNAPRESCUE_APPLY_JOURNAL_H

#include <stdint.h>
#include <sys/stat.h>

#include "delta_stream.h"

struct journal {
	char *path;            /* the undo file (NULL: none, --no-undo or -n) */
	int fd;                /* -1 until it is created (before the first write) */
	int created;           /* created by this run */
	struct dstream_writer *w;
	uint64_t saved_bytes;  /* bytes saved by this run */
	/* What an interrupted apply left (--resume). */
	int resumed;
	struct dstream_progress done; /* its last DONE record (all 0: none) */
	int pending;                  /* a SAVE record after it: the batch up to */
	struct dstream_progress save; /* save.next_run was saved, maybe written in part */
	uint64_t saved_before;        /* bytes it had saved */
};

/* Where a new apply's undo file goes: @path, or by default TARGET.snap_apply-undo
 * next to a regular file, $SNAPRESCUE_UNDO_DIR (default /var/lib/snaprescue)
 * for a block device, with .1, .2, ... appended to a name that exists.
 * Nothing is created yet.  Returns: 0, or -1 after a message. */
int journal_plan(struct journal *j, const char *path, const char *target, const struct stat *tst);

/* Open the undo file @path of an interrupted apply of the stream @fwd onto
 * the target identified as @tid (another one: refused unless @force) and
 * find where it stopped; unless @dry_run, drop what follows its last SAVE
 * or DONE record (a batch that was being saved: the target holds none of
 * it) and go on appending.  Returns: 0; 1 when that apply finished
 * (nothing to resume); -1 after a message. */
int journal_resume(struct journal *j, const char *path, const struct dstream_header *fwd,
		   const struct snapcow_identity *tid, int force, int dry_run);

/* Create the undo file (once) for the apply of @fwd to @tid (@target its
 * path), header written and synced, its directory too.  Returns: 0, or -1
 * after a message. */
int journal_create(struct journal *j, const struct dstream_header *fwd,
		   const struct snapcow_identity *tid, const char *target);

/* Save the @len bytes at @off that are about to be overwritten (a ZERO
 * record if they are all zeros).  Returns: 0, or -1 after a message. */
int journal_save(struct journal *j, uint64_t off, const void *old, size_t len);

/* Append a SAVE or DONE record and fsync.  Returns: 0, or -1 after a
 * message. */
int journal_mark(struct journal *j, uint32_t tag, const struct dstream_progress *p);

/* The apply is complete: END record, fsync.  Returns: 0, or -1 after a
 * message. */
int journal_finish(struct journal *j);

void journal_close(struct journal *j);

#endif
