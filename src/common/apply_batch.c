/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_apply's batches (see apply.h): read the target where the runs go,
 * compare in APPLY_BLOCK units, and for the blocks that differ: save them
 * to the undo file, SAVE + fsync, write them, fsync the target, DONE +
 * fsync.  A crash at any point leaves the batch unwritten (its undo not
 * yet complete: --resume saves it again) or saved and written in part
 * (--resume writes it again without saving, the undo file puts all of it
 * back).  The fault points (SNAPRESCUE_FAULT=NAME) are, per batch:
 * before-undo, after-undo, after-half-write, after-write, after-progress.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply_int.h"

#define MAX_DIFFS (DSTREAM_RUN_MAX / APPLY_BLOCK + APPLY_BATCH_RUNS)

int batch_init(struct apply *a)
{
	a->data = malloc(DSTREAM_RUN_MAX);
	a->old = malloc(DSTREAM_RUN_MAX);
	a->zeros = calloc(1, DSTREAM_RUN_MAX);
	a->diffs = calloc(MAX_DIFFS, sizeof(*a->diffs));
	return a->data && a->old && a->zeros && a->diffs ? 0 : -ENOMEM;
}

void batch_free(struct apply *a)
{
	free(a->data);
	free(a->old);
	free(a->zeros);
	free(a->diffs);
}

int batch_add(struct apply *a, const struct dstream_record *rec, const void *data)
{
	struct batch_item *it;
	int boundary = a->n && a->items[0].run < a->nosave_to && rec->run >= a->nosave_to;

	if (a->n == APPLY_BATCH_RUNS || a->used + rec->length > DSTREAM_RUN_MAX || boundary) {
		if (batch_flush(a) < 0)
			return -1;
	}
	it = &a->items[a->n++];
	*it = (struct batch_item){ rec->offset, rec->length, rec->xxh, rec->run, rec->end_pos,
				   a->used, rec->tag == DSTREAM_TAG_ZERO, 0 };
	if (!it->zero) {
		memcpy(a->data + a->used, data, rec->length);
		a->last.last_off = rec->offset;
		a->last.last_len = rec->length;
		a->last.last_xxh = rec->xxh;
	}
	a->used += rec->length;
	a->chain = dstream_chain(a->chain, rec->offset, rec->length, rec->xxh);
	return 0;
}

/* A zero run over a hole of a regular file target reads as zeros: equal. */
static int is_hole(const struct apply *a, const struct batch_item *it)
{
	off_t d;

	if (!a->target_is_file)
		return 0;
	d = lseek(a->tfd, (off_t)it->off, SEEK_DATA);
	return (d < 0 && errno == ENXIO) || (d >= 0 && (uint64_t)d >= it->off + it->len);
}

/* The target's bytes where the batch goes. */
static int read_old(struct apply *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct batch_item *it = &a->items[i];
		int r;

		it->hole = it->zero && is_hole(a, it);
		if (it->hole)
			continue;
		r = pread_full(a->tfd, a->old + it->at, it->len, it->off);
		if (r < 0) {
			warnx("cannot read %s at byte offset %" PRIu64 ": %s", a->target, it->off,
			      r == -EIO ? "it ends early" : strerror(-r));
			return -1;
		}
	}
	return 0;
}

/* The blocks of item @it that differ, merged, into a->diffs.  Returns the
 * bytes that differ. */
static uint64_t item_diffs(struct apply *a, const struct batch_item *it)
{
	const unsigned char *new = it->zero ? a->zeros : a->data + it->at, *old = a->old + it->at;
	struct batch_diff *d = NULL;
	uint64_t off = it->off, end = it->off + it->len, differ = 0;

	if (it->hole)
		return 0;
	while (off < end) {
		uint64_t next = (off / APPLY_BLOCK + 1) * APPLY_BLOCK;
		size_t k = (size_t)((next < end ? next : end) - off), i = (size_t)(off - it->off);

		if (memcmp(new + i, old + i, k)) {
			if (!d || d->off + d->len != off) {
				d = &a->diffs[a->ndiffs++];
				*d = (struct batch_diff){ off, 0, new + i, old + i };
			}
			d->len += k;
			differ += k;
		}
		off += k;
	}
	return differ;
}

/* Save every diff, then the SAVE record (synced). */
static int save_batch(struct apply *a, const struct dstream_progress *p)
{
	if (journal_create(&a->j, a->h, &a->tid, a->target) < 0)
		return -1;
	fault_point("before-undo");
	for (size_t i = 0; i < a->ndiffs; i++)
		if (journal_save(&a->j, a->diffs[i].off, a->diffs[i].old, a->diffs[i].len) < 0)
			return -1;
	if (journal_mark(&a->j, DSTREAM_TAG_SAVE, p) < 0)
		return -1;
	fault_point("after-undo");
	return 0;
}

static int write_batch(struct apply *a)
{
	for (size_t i = 0; i < a->ndiffs; i++) {
		const struct batch_diff *d = &a->diffs[i];
		int r = pwrite_full(a->tfd, d->new, d->len, d->off);

		if (r < 0) {
			warnx("cannot write %s at byte offset %" PRIu64 ": %s", a->target, d->off,
			      strerror(-r));
			return -1;
		}
		a->written_now += d->len;
		if (i + 1 == (a->ndiffs + 1) / 2)
			fault_point("after-half-write");
	}
	if (a->journaled && fsync(a->tfd) < 0) {
		warnx("cannot sync %s: %s", a->target, strerror(errno));
		return -1;
	}
	fault_point("after-write");
	return 0;
}

int batch_flush(struct apply *a)
{
	const struct batch_item *last = &a->items[a->n ? a->n - 1 : 0];
	uint64_t differ = 0, bytes = 0;
	struct dstream_progress p;
	int save;

	if (!a->n)
		return 0;
	if (read_old(a) < 0)
		return -1;
	a->ndiffs = 0;
	for (size_t i = 0; i < a->n; i++) {
		differ += item_diffs(a, &a->items[i]);
		bytes += a->items[i].len;
		a->zero_runs += a->items[i].zero;
	}
	p = a->last;
	p.next_run = last->run + 1;
	p.fwd_pos = last->end_pos;
	p.chain = a->chain;
	p.written = a->written + differ;
	p.skipped = a->skipped + bytes - differ;
	save = a->journaled && a->items[0].run >= a->nosave_to;
	if (a->ndiffs && !a->o->dry_run) {
		if ((save && save_batch(a, &p) < 0) || write_batch(a) < 0)
			return -1;
		if (a->journaled && journal_mark(&a->j, DSTREAM_TAG_DONE, &p) < 0)
			return -1;
		fault_point("after-progress");
	}
	a->written = p.written;
	a->skipped = p.skipped;
	a->runs += a->n;
	a->run_bytes += bytes;
	progress_update(&a->bar, last->off + last->len);
	a->n = a->used = 0;
	return 0;
}
