/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_merge's undo file (see merge.h): one file of two parts (libsnapcow's
 * snapcow_undo_save_parts), part 1 the store's metadata areas that change,
 * part 2 every origin chunk that is overwritten, each with its device's
 * identity.  --resume keeps the interrupted run's file after checking that
 * it is this store's and origin's and holds every byte still to be
 * written; --undo-apply puts the store back first, then the origin.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "merge.h"
#include "target.h"
#include "tool.h"

#define UNDO_PARTS 2 /* the store, the origin */

/* Returns: NULL if @u is a merge's undo file (two parts), else what it is. */
static const char *not_a_merge(const struct snapcow_undo *u)
{
	if (snapcow_undo_parts(u) == UNDO_PARTS)
		return NULL;
	return snapcow_undo_parts(u) == 1 ? "the undo of one device (apply it with the tool that "
					    "wrote it), not the store and the origin of a merge" :
					    "more parts than the store and the origin of a merge";
}

uint64_t merge_undo_size(const struct merge *m)
{
	uint64_t n = UNDO_PARTS * SNAPCOW_UNDO_HEADER_SIZE + (m->noranges + m->nsranges) * 32;

	return n + m->bytes + m->nsranges * m->cb;
}

static void check_space(const struct merge *m)
{
	char *copy = strdup(m->undo), buf[32], need_s[32];
	uint64_t need = merge_undo_size(m), avail;
	struct statvfs sv;

	if (!copy)
		errx(MERGE_FAIL, "out of memory");
	if (statvfs(dirname(copy), &sv) < 0)
		errx(MERGE_FAIL, "cannot use undo file %s: %s", m->undo, strerror(errno));
	free(copy);
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail < need)
		errx(MERGE_FAIL, "undo file %s needs %s (%" PRIu64 " bytes) and its file system has "
		     "%s free: choose another place with --undo; nothing was changed", m->undo,
		     format_size(need, need_s, sizeof(need_s)), need,
		     format_size(avail, buf, sizeof(buf)));
}

/* A new undo file: --undo or a default name, not on a device the merge
 * writes, with room for it. */
static void prepare_new(struct merge *m)
{
	struct undo_target t[2 + VOLUME_MAX_PVS];
	size_t n = 0;
	char label[sizeof(m->store.name)];

	if (m->o->undo) {
		snprintf(m->undo, sizeof(m->undo), "%s", m->o->undo);
	} else {
		char *copy = strdup(m->o->operand), *p;

		if (!copy)
			errx(MERGE_FAIL, "out of memory");
		snprintf(label, sizeof(label), "%s",
			 m->is_volume ? m->store.name : basename(copy));
		for (p = label; *p; p++)
			*p = *p == '/' ? '-' : *p;
		undo_default_name(label, m->undo, sizeof(m->undo));
		free(copy);
	}
	if (!m->is_volume) {
		t[n++] = (struct undo_target){ "the store", m->store.st };
		t[n++] = (struct undo_target){ "the origin", m->origin.st };
	}
	for (int i = 0; m->is_volume && i < m->vol.nrw; i++)
		t[n++] = (struct undo_target){ "a physical volume it writes", m->vol.rw_st[i] };
	undo_check_place(m->undo, t, n, MERGE_FAIL);
	check_space(m);
}

static void NORETURN resume_refused(const struct merge *m, const char *fmt, const char *what)
{
	warnx(fmt, m->undo, what);
	errx(MERGE_FAIL, "%s: not resuming; nothing was changed", m->store.name);
}

/* Part 1 holds every metadata area as it was: the records the table holds
 * now are those it held then, at the same places (a prefix of the old
 * table: a merge cut short removes records from the tail only). */
static void check_areas(const struct merge *m, const struct snapcow_undo *u)
{
	unsigned char *now = malloc(m->cb), *then = malloc(m->cb);

	if (!now || !then)
		errx(MERGE_FAIL, "out of memory");
	for (size_t i = 0; i < m->nsranges; i++) {
		const struct snapcow_undo_range *g = &m->sranges[i];

		if (snapcow_undo_read_saved(u, g->offset, then, m->cb) < 0)
			errx(MERGE_FAIL, "undo file %s does not hold metadata area %zu (byte offset %"
			     PRIu64 ") of %s, which holds records now: it is not the undo file of "
			     "this merge; not resuming", m->undo, i, g->offset, m->store.name);
		if (snapcow_dev_pread(m->store.dev, now, m->cb, g->offset) < 0)
			errx(MERGE_FAIL, "%s: cannot read byte offset %" PRIu64, m->store.name,
			     g->offset);
		if (memcmp(now, then, g->changed_length))
			errx(MERGE_FAIL, "%s: metadata area %zu (byte offset %" PRIu64 ") holds "
			     "records that undo file %s did not save: the table changed since that "
			     "file was written; not resuming", m->store.name, i, g->offset, m->undo);
	}
	free(now);
	free(then);
}

/* Part 2 saved every origin byte that is still to be written (the runs of
 * the table now lie inside the runs of the table then). */
static void check_origin_saved(const struct merge *m, const struct snapcow_undo *u)
{
	struct snapcow_undo_range r;
	uint32_t j = 0, n = snapcow_undo_ranges(u);

	for (size_t i = 0; i < m->noranges; i++) {
		uint64_t off = m->oranges[i].offset, end = off + m->oranges[i].length;

		while (j < n && snapcow_undo_range(u, j, &r) == 0 && r.offset + r.length <= off)
			j++;
		while (off < end && j < n && snapcow_undo_range(u, j, &r) == 0 && r.offset <= off) {
			off = r.offset + r.length;
			if (off < end)
				j++;
		}
		if (off < end)
			errx(MERGE_FAIL, "undo file %s did not save byte offset %" PRIu64 " of %s, "
			     "which the merge still has to write: it is not the undo file of this "
			     "merge; not resuming", m->undo, off, m->origin.name);
	}
}

/* --resume: the interrupted run's undo file, checked against now. */
static void prepare_resume(struct merge *m)
{
	const struct snapcow_undo *store_part, *origin_part;
	struct snapcow_undo *u;
	int r;

	snprintf(m->undo, sizeof(m->undo), "%s", m->o->undo);
	if (access(m->undo, F_OK) < 0)
		errx(MERGE_FAIL, "--resume: undo file %s: %s: there is nothing to resume from "
		     "(without --resume, a new undo file is written)", m->undo, strerror(errno));
	r = snapcow_undo_open_parts(tool_ctx(), m->undo, &u);
	if (r < 0)
		errx(MERGE_FAIL, "cannot use undo file %s: %s; snap_merge writes to the origin and "
		     "the store only once its undo file is complete and synced, so if this is what "
		     "an interrupted run left, that run changed nothing: remove it and run again "
		     "without --resume", m->undo, snapcow_strerror(r));
	store_part = u;
	origin_part = snapcow_undo_next_part(u);
	if (not_a_merge(u))
		resume_refused(m, "undo file %s holds %s", not_a_merge(u));
	if (!snapcow_identity_match(snapcow_undo_identity(store_part), &m->store.id))
		resume_refused(m, "undo file %s was made for another %s", "store");
	if (!snapcow_identity_match(snapcow_undo_identity(origin_part), &m->origin.id))
		resume_refused(m, "undo file %s was made for another %s", "origin");
	check_areas(m, store_part);
	check_origin_saved(m, origin_part);
	if (!m->o->quiet)
		printf("%s: resuming: undo file %s holds the %u metadata areas and %u origin ranges "
		       "as they were before the interrupted run\n", m->store.name, m->undo,
		       snapcow_undo_ranges(store_part), snapcow_undo_ranges(origin_part));
	snapcow_undo_free(u);
}

void merge_undo_prepare(struct merge *m)
{
	if (m->o->resume)
		prepare_resume(m);
	else
		prepare_new(m);
}

int merge_undo_save(struct merge *m)
{
	struct snapcow_undo_part parts[UNDO_PARTS] = {
		{ m->store.dev, &m->store.id, m->sranges, m->nsranges },
		{ m->origin.dev, &m->origin.id, m->oranges, m->noranges },
	};
	unsigned long mark = tool_lib_errors();
	int r;

	if (m->o->resume)
		return 0;
	fault_point("before-undo");
	r = snapcow_undo_save_parts(tool_ctx(), m->undo, parts, UNDO_PARTS, program_name);
	if (r < 0) {
		if (tool_lib_errors() == mark)
			warnx("cannot write undo file %s: %s", m->undo, snapcow_strerror(r));
		warnx("nothing was changed");
		return -1;
	}
	fault_point("after-undo");
	if (!m->o->quiet)
		printf("saved the %zu metadata area%s and the %" PRIu64 " origin chunks about to "
		       "change to %s (%" PRIu64 " bytes), synced\n", m->nsranges,
		       m->nsranges == 1 ? "" : "s", m->chunks, m->undo, merge_undo_size(m));
	return 0;
}

/* ---- --undo-apply ------------------------------------------------------- */

static int apply_part(const struct merge_dev *d, const struct snapcow_undo *u, unsigned int flags)
{
	int r = snapcow_undo_apply_dev(u, d->dev, &d->id, flags);

	if (r < 0)
		warnx("%s: not restored: %s", d->name, snapcow_strerror(r));
	return r;
}

static void say_restored(const struct merge *m, const struct snapcow_undo *s,
			 const struct snapcow_undo *o, const char *verb, const char *how)
{
	printf("%s %u range%s (%" PRIu64 " bytes) of %s and %u range%s (%" PRIu64 " bytes) of %s "
	       "from %s%s\n", verb, snapcow_undo_ranges(s), snapcow_undo_ranges(s) == 1 ? "" : "s",
	       snapcow_undo_bytes(s), m->store.name, snapcow_undo_ranges(o),
	       snapcow_undo_ranges(o) == 1 ? "" : "s", snapcow_undo_bytes(o), m->origin.name,
	       m->undo, how);
}

/* The table the undo file saved (part 1's areas), in table order. */
struct saved_table {
	struct snapcow_exception *e; /* sorted by old chunk once read */
	uint64_t n;
	uint32_t cb;
};

static int cmp_old(const void *a, const void *b)
{
	const struct snapcow_exception *x = a, *y = b;

	return x->old_chunk < y->old_chunk ? -1 : x->old_chunk > y->old_chunk;
}

/* Each saved area's records against the store now: the table now must be
 * a prefix of the saved one (a merge, ours or the kernel's, only zeroes
 * records from the tail).  A record that is neither the saved one nor zero
 * means the snapshot was used since (the kernel added exceptions, over data
 * chunks the saved table points at).  Fills @t. */
static int store_unused_since(const struct merge *m, const struct snapcow_undo *u,
			      struct saved_table *t)
{
	struct snapcow_undo_range g;
	unsigned char *then = NULL, *now = NULL;
	int ended = 0, r = 0;

	for (uint32_t i = 0; !r && snapcow_undo_range(u, i, &g) == 0; i++) {
		uint32_t live = (uint32_t)(g.changed_length / SNAPCOW_RECORD_SIZE);
		void *p;

		t->cb = (uint32_t)g.length;
		p = realloc(t->e, (t->n + live) * sizeof(*t->e));
		then = realloc(then, g.length);
		now = realloc(now, g.length);
		if (!p || !then || !now)
			errx(MERGE_FAIL, "out of memory");
		t->e = p;
		if (snapcow_undo_read_saved(u, g.offset, then, g.length) < 0 ||
		    snapcow_dev_pread(m->store.dev, now, g.length, g.offset) < 0)
			errx(MERGE_FAIL, "%s: cannot read byte offset %" PRIu64, m->store.name, g.offset);
		for (uint32_t k = 0; k < live && !r; k++) {
			const unsigned char *a = then + k * 16, *b = now + k * 16;
			uint64_t old, nc;

			memcpy(&old, a, 8);
			memcpy(&nc, a + 8, 8);
			t->e[t->n++] = (struct snapcow_exception){ le64toh(old), le64toh(nc) };
			if (!memcmp(a, b, 16) && !ended)
				continue;
			ended = 1;
			if (!is_zero(b, 16)) {
				warnx("%s: byte offset %" PRIu64 " holds a record the merge did not leave "
				      "(neither the one saved nor zero): the snapshot was used since "
				      "the merge, and putting the old table back would point it at "
				      "chunks the kernel has reused", m->store.name, g.offset + k * 16);
				r = -1;
			}
		}
	}
	free(then);
	free(now);
	qsort(t->e, t->n, sizeof(*t->e), cmp_old);
	return r;
}

/* Every saved origin chunk holds either the saved bytes (not merged yet)
 * or the snapshot's chunk the merge wrote there; anything else was written
 * since, and the undo would destroy it. */
static int origin_unused_since(const struct merge *m, const struct snapcow_undo *u,
			       const struct saved_table *t)
{
	unsigned char *saved = malloc(t->cb), *now = malloc(t->cb), *snap = malloc(t->cb);
	struct snapcow_undo_range g;
	int r = 0;

	if (!saved || !now || !snap || !t->cb)
		errx(MERGE_FAIL, "out of memory");
	for (uint32_t i = 0; !r && snapcow_undo_range(u, i, &g) == 0; i++) {
		for (uint64_t at = g.offset; !r && at < g.offset + g.length;) {
			struct snapcow_exception key = { at / t->cb, 0 }, *e;
			uint64_t in = at % t->cb, n = t->cb - in;

			n = n < g.offset + g.length - at ? n : g.offset + g.length - at;
			e = bsearch(&key, t->e, t->n, sizeof(*t->e), cmp_old);
			if (snapcow_undo_read_saved(u, at, saved, n) < 0 ||
			    snapcow_dev_pread(m->origin.dev, now, n, at) < 0 ||
			    (e && snapcow_dev_pread(m->store.dev, snap, n, e->new_chunk * t->cb + in) < 0))
				errx(MERGE_FAIL, "%s: cannot read byte offset %" PRIu64, m->origin.name, at);
			if (memcmp(now, saved, n) && (!e || memcmp(now, snap, n))) {
				warnx("%s: the %" PRIu64 " bytes at byte offset %" PRIu64 " hold neither "
				      "what the undo file saved nor the snapshot's chunk the merge "
				      "wrote there: they were written since the merge, and putting "
				      "the old bytes back would destroy that", m->origin.name, n, at);
				r = -1;
			}
			at += n;
		}
	}
	free(saved);
	free(now);
	free(snap);
	return r;
}

/* Check both parts (nothing written), then the store, then the origin. */
static int apply_both(struct merge *m, const struct snapcow_undo *s, const struct snapcow_undo *o)
{
	const unsigned int dry = SNAPCOW_UNDO_DRY_RUN;
	int rs, ro;

	struct saved_table t = { NULL, 0, 0 };
	int used;

	rs = apply_part(&m->store, s, dry);
	ro = apply_part(&m->origin, o, dry);
	used = rs >= 0 && ro >= 0 &&
	       (store_unused_since(m, s, &t) < 0 || origin_unused_since(m, o, &t) < 0);
	free(t.e);
	if (rs < 0 || ro < 0 || used) {
		warnx("nothing was restored");
		return MERGE_FAIL;
	}
	if (rs == 1 && ro == 1) {
		printf("%s and %s already hold the bytes saved in %s: nothing to do\n",
		       m->store.name, m->origin.name, m->undo);
		return MERGE_OK;
	}
	if (m->o->dry_run) {
		say_restored(m, s, o, "dry run: would restore", "; nothing written");
		return MERGE_OK;
	}
	if (rs != 1 && apply_part(&m->store, s, 0) < 0) {
		warnx("%s was not touched; run the same command again once the cause is fixed",
		      m->origin.name);
		return MERGE_FAIL;
	}
	if (ro != 1 && apply_part(&m->origin, o, 0) < 0) {
		warnx("%s holds its old table again, so the snapshot is whole; the origin is "
		      "not all back: run the same command again once the cause is fixed",
		      m->store.name);
		return MERGE_FAIL;
	}
	say_restored(m, s, o, "restored", ", synced and read back");
	return MERGE_OK;
}

int merge_undo_apply(const struct merge_options *o, const char *undo)
{
	struct snapcow_undo *u;
	struct merge m;
	int r, rc;

	r = snapcow_undo_open_parts(tool_ctx(), undo, &u);
	if (r < 0)
		errx(MERGE_FAIL, "cannot use undo file %s: %s", undo, snapcow_strerror(r));
	if (not_a_merge(u))
		errx(MERGE_FAIL, "undo file %s holds %s", undo, not_a_merge(u));
	merge_open(&m, o, 0);
	snprintf(m.undo, sizeof(m.undo), "%s", undo);
	rc = apply_both(&m, u, snapcow_undo_next_part(u));
	snapcow_undo_free(u);
	merge_close(&m);
	return rc;
}
