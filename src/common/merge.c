/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_merge's work (see merge.h): open, check, plan, write, report. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "merge.h"
#include "target.h"
#include "tool.h"

/* The origin is written in batches of this many bytes (the last one may
 * be shorter; a run longer than a batch is cut, runs shorter are taken
 * together), each one read of the snapshot and one write onto the origin
 * per run it holds; the fault point "after-batch@N" follows batch N. */
#define BATCH ((uint64_t)4 << 20)
/* Largest origin range one undo record saves. */
#define UNDO_RANGE_MAX ((uint64_t)1 << 30)
#define SHOW_PROBLEMS 5

/* ---- Opening ------------------------------------------------------------ */

static void open_path_dev(struct merge_dev *d, const char *path, int dry_run)
{
	int r;

	snprintf(d->name, sizeof(d->name), "%s", path);
	d->fd = store_open_rw(path, dry_run, -1, MERGE_FAIL, &d->st);
	if (S_ISBLK(d->st.st_mode))
		store_check_users(path, &d->st, -1, MERGE_FAIL);
	r = store_identity(d->fd, &d->id);
	if (!r)
		r = snapcow_dev_new_fd(d->fd, path, &d->dev);
	if (r < 0)
		errx(MERGE_FAIL, "%s: %s", path, strerror(-r));
}

static void open_paths(struct merge *m, const struct merge_options *o)
{
	struct stat a, b;

	/* before the exclusive opens: a second one of the same device fails */
	if (stat(o->operand, &a) == 0 && stat(o->origin, &b) == 0 &&
	    ((S_ISREG(a.st_mode) && a.st_dev == b.st_dev && a.st_ino == b.st_ino) ||
	     (S_ISBLK(a.st_mode) && S_ISBLK(b.st_mode) && a.st_rdev == b.st_rdev)))
		errx(MERGE_FAIL, "%s and %s are the same file: the origin and the store are two "
		     "devices", o->operand, o->origin);
	open_path_dev(&m->store, o->operand, o->dry_run);
	open_path_dev(&m->origin, o->origin, o->dry_run);
}

/* VG/SNAP: the COW and the origin through the PVs, opened for writing. */
static void open_volume(struct merge *m, const struct merge_options *o)
{
	struct volume *v = &m->vol;

	m->is_volume = 1;
	volume_open(&o->vol, o->operand, v, MERGE_FAIL);
	volume_refuse_thin(v, o->operand, MERGE_FAIL);
	if (v->kind == VOLUME_SPARSE)
		errx(MERGE_UNSUPPORTED, "%s is a sparse volume (--virtualsize): its origin is the "
		     "zero target, there is nothing to merge it into", o->operand);
	volume_open_rw(v, o->dry_run, MERGE_FAIL);
	m->store = (struct merge_dev){ .fd = -1, .dev = v->cow };
	m->origin = (struct merge_dev){ .fd = -1, .dev = v->origin };
	snprintf(m->store.name, sizeof(m->store.name), "%s/%s", v->vg, v->lv);
	snprintf(m->origin.name, sizeof(m->origin.name), "%s/%s", v->vg, v->snap.origin->name);
	volume_identity(v, 0, &m->store.id);
	volume_identity(v, 1, &m->origin.id);
	if (snapcow_dev_size(v->origin) != v->size)
		errx(MERGE_REFUSED, "%s: the origin %s is %" PRIu64 " bytes but LVM's metadata "
		     "says the snapshot of it is %" PRIu64 ": not merging", o->operand,
		     m->origin.name, snapcow_dev_size(v->origin), v->size);
}

void merge_open(struct merge *m, const struct merge_options *o, int need_header)
{
	unsigned long mark;
	int r;

	memset(m, 0, sizeof(*m));
	m->o = o;
	m->store.fd = m->origin.fd = -1;
	if (volume_is_name(&o->vol, o->operand))
		open_volume(m, o);
	else
		open_paths(m, o);
	m->osize = snapcow_dev_size(m->origin.dev);
	if (!need_header)
		return;
	mark = tool_lib_errors();
	r = snapcow_store_open_dev(tool_ctx(), m->store.dev, o->dry_run ? 0 : SNAPCOW_OPEN_RDWR,
				   &m->s);
	if (r < 0)
		lib_failed(MERGE_FAIL, mark, r, "cannot open %s", m->store.name);
	m->cb = snapcow_store_chunk_bytes(m->s);
}

void merge_close(struct merge *m)
{
	snapcow_view_free(m->view);
	snapcow_store_free(m->s);
	if (m->is_volume) {
		volume_close(&m->vol); /* frees the devs */
	} else {
		snapcow_dev_free(m->store.dev);
		snapcow_dev_free(m->origin.dev);
		if (m->store.fd >= 0)
			close(m->store.fd);
		if (m->origin.fd >= 0)
			close(m->origin.fd);
	}
	free(m->oranges);
	free(m->sranges);
	memset(m, 0, sizeof(*m));
}

static void print_path(const char *p)
{
	char *abs = realpath(p, NULL);

	putchar(' ');
	print_shell_quoted(stdout, abs ? abs : p);
	free(abs);
}

void merge_print_command(const struct merge *m, const char *lead, const char *args,
			 const char *undo)
{
	const struct merge_options *o = m->o;

	printf("%s%s %s", lead, program_name, args);
	print_path(undo);
	if (!m->is_volume) {
		printf(" --origin");
		print_path(o->origin);
		print_path(o->operand);
	} else {
		for (int i = 0; i < o->vol.npv; i++) {
			printf(" --pv");
			print_path(o->vol.pv[i]);
		}
		if (o->vol.metadata) {
			printf(" --metadata");
			print_path(o->vol.metadata);
		}
		printf(" %s", o->operand);
	}
	putchar('\n');
}

/* ---- Checking ----------------------------------------------------------- */

struct problems {
	const char *store;
	unsigned int errors, warnings;
};

/* The first few errors and warnings; each message names its offset. */
static void on_problem(void *data, const struct snapcow_problem *p)
{
	struct problems *pr = data;
	unsigned int *n = p->severity <= LOG_ERR ? &pr->errors : &pr->warnings;

	if (p->severity > LOG_WARNING || (*n)++ >= SHOW_PROBLEMS)
		return;
	warnx("%s%s: %s (%s)", p->severity <= LOG_ERR ? "" : "warning: ", pr->store, p->message,
	      p->code);
}

/* Everything the kernel would rely on, before anything is written. */
static void check_store(struct merge *m)
{
	struct snapcow_check_options copt = { .origin_bytes = m->osize, .skip_data_scan = 1 };
	const char *name = m->store.name;
	struct snapcow_check_result res;
	struct problems pr = { m->store.name, 0, 0 };
	unsigned long mark;
	int r;

	if (snapcow_store_header(m->s)->valid == 0)
		errx(MERGE_REFUSED, "%s: store is marked invalid (valid flag 0 at byte offset 4): "
		     "its table may be incomplete, and origin writes after the invalidation were "
		     "not copied to it, so merging would not give the snapshot back; the kernel "
		     "and LVM refuse to merge an invalid snapshot too (\"Unable to merge "
		     "invalidated snapshot LV\"); nothing was changed", name);
	mark = tool_lib_errors();
	r = snapcow_store_check(m->s, &copt, on_problem, &pr, &res);
	if (r < 0)
		lib_failed(MERGE_FAIL, mark, r, "%s: cannot check the exception table", name);
	if (res.errors)
		errx(MERGE_REFUSED, "%s: refusing to merge: %" PRIu64 " error%s in the exception "
		     "table (%s above) for origin %s of %" PRIu64 " bytes; 'snap_check "
		     "--origin-size %" PRIu64 " %s' shows %s; nothing was changed", name,
		     res.errors, res.errors > 1 ? "s" : "",
		     res.errors > SHOW_PROBLEMS ? "the first ones" : "shown", m->origin.name,
		     m->osize, m->osize, name, res.errors > 1 ? "them all" : "it");
	m->stats = res.stats;
	if (tool_verbosity() > 0)
		printf("%s: table checked: %" PRIu64 " exceptions in %" PRIu64 " metadata area%s, "
		       "no errors%s\n", name, res.stats.exceptions, res.stats.areas,
		       res.stats.areas == 1 ? "" : "s", res.warnings ? " (warnings above)" : "");
}

/* ---- The plan ------------------------------------------------------------ */

/* The next run of consecutive remapped old chunks at or after chunk
 * *@next: its bytes [*@off, *@off + *@len) on the origin (the last chunk
 * clipped at the origin's end) and its *@chunks.  Returns: 0, or 1 when
 * there is none. */
static int next_run(const struct merge *m, uint64_t *next, uint64_t *off, uint64_t *len,
		    uint64_t *chunks)
{
	const struct snapcow_map *map = snapcow_view_map(m->view);
	struct snapcow_exception e;
	uint64_t first, last, end;

	if (snapcow_map_next(map, *next, &e))
		return 1;
	first = last = e.old_chunk;
	while (snapcow_map_next(map, last + 1, &e) == 0 && e.old_chunk == last + 1)
		last++;
	*next = last + 1;
	*chunks = last - first + 1;
	*off = first * m->cb;
	end = (last + 1) * m->cb;
	*len = (end > m->osize ? m->osize : end) - *off;
	return 0;
}

static void add_orange(struct merge *m, uint64_t off, uint64_t len, size_t *cap)
{
	for (uint64_t at = off; at < off + len; at += UNDO_RANGE_MAX) {
		uint64_t n = off + len - at < UNDO_RANGE_MAX ? off + len - at : UNDO_RANGE_MAX;

		if (m->noranges == *cap) {
			size_t ncap = *cap ? *cap * 2 : 256;
			void *p = realloc(m->oranges, ncap * sizeof(*m->oranges));

			if (!p)
				errx(MERGE_FAIL, "out of memory");
			m->oranges = p;
			*cap = ncap;
		}
		m->oranges[m->noranges++] = (struct snapcow_undo_range){ at, n, at, n };
	}
}

/* The metadata areas that change: every one holding records, the first
 * live * 16 bytes of each (the rest of the chunk is saved unchanged). */
static void plan_areas(struct merge *m)
{
	const uint32_t per = snapcow_store_per_area(m->s);
	const uint64_t e = m->stats.exceptions;

	m->areas = e ? (e - 1) / per + 1 : 0;
	m->sranges = calloc(m->areas ? m->areas : 1, sizeof(*m->sranges));
	if (!m->sranges)
		errx(MERGE_FAIL, "out of memory");
	for (uint64_t a = 0; a < m->areas; a++) {
		uint64_t off = snapcow_area_chunk(per, a) * m->cb;
		uint64_t live = e - a * per < per ? e - a * per : per;

		m->sranges[a] = (struct snapcow_undo_range){ off, m->cb, off, live * 16 };
	}
	m->nsranges = m->areas;
}

/* The map and view, the runs, the batches and the undo ranges. */
static void merge_plan(struct merge *m)
{
	uint64_t next = 0, off, len, chunks;
	struct snapcow_map *map;
	unsigned long mark = tool_lib_errors();
	size_t cap = 0;
	int r;

	r = snapcow_map_new(m->s, &map);
	if (r < 0)
		lib_failed(MERGE_FAIL, mark, r, "%s: cannot read the exception table",
			   m->store.name);
	r = snapcow_view_new_dev(m->s, map, m->origin.dev, m->osize, &m->view);
	if (r < 0)
		errx(MERGE_FAIL, "%s: cannot build the snapshot view: %s", m->store.name,
		     snapcow_strerror(r));
	while (next_run(m, &next, &off, &len, &chunks) == 0) {
		m->runs++;
		m->chunks += chunks;
		m->bytes += len;
		add_orange(m, off, len, &cap);
	}
	m->batches = (m->bytes + BATCH - 1) / BATCH;
	plan_areas(m);
}

static void print_plan(const struct merge *m)
{
	const struct merge_options *o = m->o;

	if (o->quiet && !o->dry_run)
		return;
	printf("%smerging %s onto %s: %" PRIu64 " exceptions of %" PRIu32 " bytes\n",
	       o->dry_run ? "dry run: " : "", m->store.name, m->origin.name, m->chunks, m->cb);
	if (m->is_volume)
		printf("  store on %s, origin on %s\n", m->vol.cow_where, m->vol.origin_where);
	printf("  origin: %" PRIu64 " bytes to write in %" PRIu64 " run%s of consecutive chunks, "
	       "in origin order, %" PRIu64 " MiB at a time (%" PRIu64 " batch%s)\n", m->bytes,
	       m->runs, m->runs == 1 ? "" : "s", BATCH >> 20, m->batches,
	       m->batches == 1 ? "" : "es");
	printf("  store: %" PRIu64 " records to zero in %" PRIu64 " metadata area%s, from the "
	       "last one back (as the kernel's merge does); header and data chunks kept\n",
	       m->stats.exceptions, m->areas, m->areas == 1 ? "" : "s");
	if (o->resume)
		printf("  undo file: %s, from the interrupted run (kept as it is)\n", m->undo);
	else
		printf("  undo file: %s (the %" PRIu64 " area%s and the %" PRIu64 " origin chunks "
		       "as they are now, %" PRIu64 " bytes)\n", m->undo, m->areas,
		       m->areas == 1 ? "" : "s", m->chunks, merge_undo_size(m));
}

/* ---- Writing -------------------------------------------------------------- */

enum pass { PASS_WRITE, PASS_VERIFY };

/* Copy (or compare) @n bytes at @at: the snapshot's bytes onto the origin. */
static int one_piece(struct merge *m, enum pass pass, uint64_t at, size_t n, unsigned char *a,
		     unsigned char *b)
{
	ssize_t got = snapcow_view_pread(m->view, a, n, at);
	int r;

	if (got != (ssize_t)n) {
		warnx("%s: cannot read the snapshot's %zu bytes at byte offset %" PRIu64 ": %s",
		      m->store.name, n, at, got < 0 ? snapcow_strerror((int)got) : "short read");
		return -1;
	}
	if (pass == PASS_WRITE) {
		r = snapcow_dev_pwrite(m->origin.dev, a, n, at);
		if (r < 0)
			warnx("%s: cannot write %zu bytes at byte offset %" PRIu64 ": %s",
			      m->origin.name, n, at, strerror(-r));
		return r < 0 ? -1 : 0;
	}
	r = snapcow_dev_pread(m->origin.dev, b, n, at);
	if (r < 0) {
		warnx("%s: cannot read back %zu bytes at byte offset %" PRIu64 ": %s",
		      m->origin.name, n, at, strerror(-r));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i]) {
			warnx("%s: read back at byte offset %" PRIu64 ", it differs from the "
			      "snapshot's chunk %" PRIu64 " that was written there", m->origin.name,
			      at + i, (at + i) / m->cb);
			return -1;
		}
	return 0;
}

static void batch_done(enum pass pass, uint64_t batch)
{
	(void)batch;
	if (pass == PASS_WRITE)
		fault_point("after-batch");
}

/* Every run, in origin order, in batches of BATCH bytes. */
static int origin_pass(struct merge *m, enum pass pass, unsigned char *a, unsigned char *b)
{
	uint64_t next = 0, off, len, chunks, acc = 0, done = 0, batch = 0;
	struct progress p;
	int r = 0;

	progress_init(&p, pass == PASS_WRITE ? "merging" : "verifying", m->bytes);
	while (!r && next_run(m, &next, &off, &len, &chunks) == 0) {
		for (uint64_t at = off; !r && at < off + len;) {
			uint64_t n = off + len - at < BATCH - acc ? off + len - at : BATCH - acc;

			r = one_piece(m, pass, at, (size_t)n, a, b);
			at += n;
			acc += n;
			done += n;
			if (!r && acc == BATCH) {
				progress_update(&p, done);
				batch_done(pass, ++batch);
				acc = 0;
			}
		}
	}
	if (!r && acc)
		batch_done(pass, ++batch);
	progress_end(&p);
	return r;
}

static void say_table_whole(const struct merge *m)
{
	warnx("%s: the table was not changed: the snapshot (the table over the store and the "
	      "origin) is whole; once the cause is fixed, finish with:", m->store.name);
	merge_print_command(m, "  ", "--resume --undo", m->undo);
	printf("or put the origin back as it was with:\n");
	merge_print_command(m, "  ", "--undo-apply", m->undo);
}

/* Steps 3 and 4: the chunks onto the origin, synced, read back. */
static int write_origin(struct merge *m)
{
	unsigned char *a = malloc(BATCH), *b = malloc(BATCH);
	int r;

	if (!a || !b)
		errx(MERGE_FAIL, "out of memory");
	r = origin_pass(m, PASS_WRITE, a, b);
	if (!r && (r = snapcow_dev_sync(m->origin.dev)) < 0)
		warnx("%s: fsync failed: %s", m->origin.name, strerror(-r));
	if (!r)
		r = origin_pass(m, PASS_VERIFY, a, b);
	free(a);
	free(b);
	if (r) {
		say_table_whole(m);
		return -1;
	}
	fault_point("after-origin");
	if (!m->o->quiet)
		printf("wrote %" PRIu64 " bytes onto %s in %" PRIu64 " runs, synced and read back: "
		       "it now holds the snapshot's data\n", m->bytes, m->origin.name, m->runs);
	return 0;
}

struct shrink_state {
	struct progress p;
	uint64_t total, areas;
};

static int on_area(void *data, uint64_t area, uint64_t left)
{
	struct shrink_state *st = data;
	(void)area;
	progress_update(&st->p, st->total - left);
	st->areas++;
	fault_point("after-area");
	return 0;
}

/* Step 5: the table emptied from its tail. */
static int shrink_store(struct merge *m)
{
	struct shrink_state st = { .total = m->stats.exceptions };
	unsigned long mark = tool_lib_errors();
	int r;

	progress_init(&st.p, "emptying the table", st.total);
	r = snapcow_store_merge_shrink(m->s, st.total, on_area, &st);
	progress_end(&st.p);
	if (r < 0) {
		if (tool_lib_errors() == mark)
			warnx("%s: cannot empty the table: %s", m->store.name, snapcow_strerror(r));
		warnx("%s holds the whole snapshot already; the records left in the table all "
		      "have their chunks on it, so the kernel's merge on activation, or this, "
		      "finishes the job:", m->origin.name);
		merge_print_command(m, "  ", "--resume --undo", m->undo);
		return -1;
	}
	fault_point("after-store");
	if (!m->o->quiet)
		printf("zeroed the %" PRIu64 " records of %s from its tail, in %" PRIu64 " metadata "
		       "area%s, each synced and read back; header kept\n", st.total, m->store.name,
		       st.areas, st.areas == 1 ? "" : "s");
	return 0;
}

/* What the store shows now, and what LVM makes of it. */
static void report(struct merge *m)
{
	const struct volume *v = &m->vol;
	struct snapcow_stats st;

	if (snapcow_store_scan(m->s, &st) < 0)
		errx(MERGE_FAIL, "%s: cannot read the table back", m->store.name);
	if (!m->o->quiet)
		printf("merged: %s holds %" PRIu64 " exceptions (allocated %" PRIu64 " of %" PRIu64
		       " sectors, metadata %" PRIu64 ": what the kernel shows for a finished "
		       "merge)\n", m->store.name, st.exceptions, st.allocated_sectors,
		       st.total_sectors, st.metadata_sectors);
	if (!m->o->quiet && m->is_volume && v->snap.merging)
		printf("LVM marks %s as merging (lvconvert --merge was started): when VG %s is "
		       "activated, LVM finds nothing left to merge and removes the snapshot\n",
		       m->store.name, v->vg);
	else if (!m->o->quiet && m->is_volume)
		printf("LVM still lists %s as a snapshot of %s; it is empty now: remove it "
		       "(lvremove %s) once the origin is checked\n", m->store.name, m->origin.name,
		       m->store.name);
	merge_print_command(m, "to undo: ", "--undo-apply", m->undo);
}

int merge_run(const struct merge_options *o)
{
	struct merge m;
	int rc = MERGE_OK;

	merge_open(&m, o, 1);
	check_store(&m);
	if (!m.stats.exceptions) {
		printf("%s: nothing to merge: the table holds no exceptions%s\n", m.store.name,
		       o->resume ? " (the interrupted run had finished)" : "");
		merge_close(&m);
		return MERGE_OK;
	}
	merge_plan(&m);
	merge_undo_prepare(&m);
	print_plan(&m);
	if (o->dry_run) {
		printf("dry run: nothing written\n");
	} else if (merge_undo_save(&m) < 0 || write_origin(&m) < 0 || shrink_store(&m) < 0) {
		rc = MERGE_FAIL;
	} else {
		report(&m);
	}
	merge_close(&m);
	return rc;
}
