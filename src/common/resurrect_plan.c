/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What snap_resurrect does, decided from the facts alone (see resurrect.h):
 * the kind of volume, whether there is anything to do, the size to grow
 * to, the steps, or the refusal with its figures.  No I/O, no LVM, no
 * device-mapper: tests/unit/resurrect_plan.c feeds it recorded lvs rows.
 *
 * The facts come in stages: the LV's rows first, then (snapshots) the
 * kernel's status once the volume is active, then the COW's figures.  When
 * a stage is missing, the plan asks for it (RESURRECT_ACTIVATE_FIRST,
 * RESURRECT_READ_STORE); the notes said so far stay the first notes of the
 * next plan.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "resurrect.h"

#define MiB (1024ULL * 1024)
/* --auto: at least this much free room after next_free */
#define AUTO_MIN_HEADROOM (64 * MiB)
/* a full thin pool grows by its size, at least this much (data, metadata) */
#define POOL_MIN_DATA_ADD (64 * MiB)
#define POOL_MIN_META_ADD (4 * MiB)

#define SZ(v, buf) format_size((v), (buf), sizeof(buf))

static const char *const kind_names[] = { "unsupported", "sparse", "classic", "thin" };

const char *resurrect_kind_name(enum resurrect_kind k)
{
	return (unsigned int)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] :
									       "unknown";
}

int resurrect_is_snapshot(const struct lvrow *lv)
{
	return lv->attr[0] == 's' || lv->attr[0] == 'S'; /* (s)napshot; segtype is the COW's */
}

enum resurrect_kind resurrect_kind_of(const struct lvrow *lv, const struct lvrow *origin)
{
	if (resurrect_is_snapshot(lv))
		return !strcmp(origin->segtype, "zero") ? RESURRECT_SPARSE : RESURRECT_CLASSIC;
	if ((lv->attr[0] == 'V' || !strcmp(lv->segtype, "thin")) && lv->pool[0])
		return RESURRECT_THIN;
	return RESURRECT_UNSUPPORTED;
}

const char *resurrect_snapshot_status(const struct dmdev_snapshot_status *st, char *buf,
				      size_t len)
{
	snprintf(buf, len, "%llu/%llu %llu", (unsigned long long)st->used_sectors,
		 (unsigned long long)st->total_sectors, (unsigned long long)st->metadata_sectors);
	return buf;
}

static uint64_t round_up(uint64_t v, uint64_t unit)
{
	return unit ? (v + unit - 1) / unit * unit : v;
}

static void note(struct resurrect_plan *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void note(struct resurrect_plan *p, const char *fmt, ...)
{
	va_list ap;

	if (p->nnotes >= RESURRECT_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(p->notes[p->nnotes++], sizeof(p->notes[0]), fmt, ap);
	va_end(ap);
}

/* Refused, or nothing to do.  Returns: 1 (the plan is decided). */
static int stop(struct resurrect_plan *p, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int stop(struct resurrect_plan *p, int code, const char *fmt, ...)
{
	va_list ap;

	p->verdict = RESURRECT_STOP;
	p->exit_code = code;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
	return 1;
}

/* Returns: 1 (the plan is decided: it needs more facts first). */
static int need(struct resurrect_plan *p, enum resurrect_verdict v)
{
	p->verdict = v;
	return 1;
}

/* Add a step; @cmd (may be NULL) is what it runs, @done what it reports. */
static struct resurrect_step *step(struct resurrect_plan *p, enum resurrect_step_type type,
				   const char *cmd, const char *fmt, ...) PRINTF_LIKE(4, 5);
static struct resurrect_step *step(struct resurrect_plan *p, enum resurrect_step_type type,
				   const char *cmd, const char *fmt, ...)
{
	struct resurrect_step *s = &p->steps[p->nsteps++];
	va_list ap;

	s->type = type;
	snprintf(s->cmd, sizeof(s->cmd), "%s", cmd ? cmd : "");
	snprintf(s->done, sizeof(s->done), "%s", cmd ? cmd : "");
	va_start(ap, fmt);
	vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
	return s;
}

static void step_fsck(struct resurrect_plan *p, const struct resurrect_opts *o)
{
	if (o->no_fsck) {
		step(p, STEP_FSCK, NULL, "no filesystem check (--no-fsck)");
		return;
	}
	step(p, STEP_FSCK, NULL, "check the filesystem with its own tool (ext2/3/4: e2fsck -fy, "
	     "then -fn; XFS: log replay by a private mount, then xfs_repair -n; btrfs: log tree "
	     "replay, then btrfs check --readonly)%s", o->zero_log ? "; --zero-log: xfs_repair "
	     "-L or btrfs rescue zero-log if a mount cannot replay the log" : "");
}

/* ---- sparse and classic snapshots ------------------------------------ */

/* What the kernel says of an active snapshot: anything to do at all? */
static int snapshot_state(const struct resurrect_facts *f, const struct resurrect_opts *o,
			  struct resurrect_plan *p)
{
	const char *vg = o->vg, *lv = o->lv;

	if (f->kind == RESURRECT_SPARSE)
		note(p, "%s/%s: sparse volume (--virtualsize: its origin %s is the zero target): "
		     "everything committed to the COW is recoverable", vg, lv, f->lv.origin);
	else
		note(p, "%s/%s: snapshot of %s/%s (a real origin)", vg, lv, vg, f->lv.origin);
	if (!f->active) {
		if (o->dry_run)
			return stop(p, EXIT_FAIL, "%s/%s is not active: its COW cannot be read "
				    "without activating it (lvchange -ay %s/%s); nothing changed",
				    vg, lv, vg, lv);
		return need(p, RESURRECT_ACTIVATE_FIRST);
	}
	if (!f->snap.invalid && !f->snap.overflow && !f->snap.merge_failed) {
		resurrect_snapshot_status(&f->snap, p->status, sizeof(p->status));
		return stop(p, EXIT_OK, "%s/%s is a valid snapshot (status %s): nothing to do", vg,
			    lv, p->status);
	}
	if (f->snap.merge_failed)
		return stop(p, EXIT_UNSUPPORTED, "%s/%s: merge failed: not something this tool "
			    "repairs (see lvconvert(8) --merge); nothing changed", vg, lv);
	snprintf(p->status, sizeof(p->status), "%s", f->snap.overflow ? "Overflow" : "Invalid");
	note(p, "%s: kernel status %s", f->names.dm, p->status);
	if (f->open_count > 0)
		return stop(p, EXIT_FAIL, "%s is open (%d): unmount it and stop what uses it "
			    "first; nothing changed", f->names.dev, f->open_count);
	if (f->kind == RESURRECT_CLASSIC) {
		note(p, "warning: after the overflow, writes to the origin %s/%s were no longer "
		     "copied to the COW: every chunk not in the exception table is read from "
		     "the origin as it is NOW, possibly newer than the snapshot.  The result "
		     "mixes the snapshot's time and today's origin.", vg, f->lv.origin);
		if (!o->accept_drift)
			return stop(p, EXIT_FAIL, "refusing a snapshot of a real origin without "
				    "--accept-origin-drift (to get the committed chunks out "
				    "without changing anything, use snap_extract on %s); nothing "
				    "changed", f->names.cow_dev);
		note(p, "--accept-origin-drift given: going on");
	}
	return 0;
}

/* The COW's new size: --size or --auto, in extents, capped at what LVM
 * allows for the origin, never smaller than now, with room after the
 * table and the space in the volume group. */
static int cow_size(const struct resurrect_facts *f, const struct resurrect_opts *o,
		    struct resurrect_plan *p)
{
	const struct resurrect_store *s = &f->store;
	uint64_t cur = s->size, used = s->stats.next_free * s->chunk, origin_chunks, per_area;
	uint64_t target;
	char a[32], b[32], c[32];

	/* LVM caps a COW at what holds the whole origin: 1 + origin chunks + areas */
	origin_chunks = (f->lv.origin_size + s->chunk - 1) / s->chunk;
	per_area = s->chunk / SNAPCOW_RECORD_SIZE;
	p->cow_lvm_max = round_up((1 + origin_chunks + (origin_chunks + per_area - 1) / per_area) *
				  s->chunk, f->lv.extent);
	if (o->size_mode == RESURRECT_SIZE_ADD)
		target = cur + o->size;
	else if (o->size_mode == RESURRECT_SIZE_TO)
		target = o->size;
	else
		target = cur * 2 > used + AUTO_MIN_HEADROOM ? cur * 2 : used + AUTO_MIN_HEADROOM;
	target = round_up(target, f->lv.extent);
	if (target > p->cow_lvm_max) {
		note(p, "%s is more than LVM allows for this origin (%s): using %s", SZ(target, a),
		     SZ(p->cow_lvm_max, b), SZ(p->cow_lvm_max, c));
		target = p->cow_lvm_max;
	}
	if (o->size_mode != RESURRECT_SIZE_AUTO && target < cur)
		return stop(p, EXIT_FAIL, "--size: %s is smaller than the COW (%s): it cannot "
			    "shrink", SZ(target, a), SZ(cur, b));
	if (target < cur)
		target = cur;
	p->cow_size = cur;
	p->cow_target = target;
	p->cow_free_after = target > used ? target - used : 0;
	if (p->cow_free_after < 2 * s->chunk)
		return stop(p, EXIT_FAIL, "a COW of %s leaves no room after the %s in use: the "
			    "snapshot would overflow again at the first write; give a larger "
			    "--size; nothing changed", SZ(target, a), SZ(used, b));
	if (target > cur && target - cur > f->lv.vg_free)
		return stop(p, EXIT_FAIL, "volume group %s has %s free, %s needed to grow the "
			    "COW to %s: add space (vgextend) or choose a smaller --size; "
			    "nothing changed", o->vg, SZ(f->lv.vg_free, a), SZ(target - cur, b),
			    SZ(target, c));
	return 0;
}

static void snapshot_steps(const struct resurrect_facts *f, const struct resurrect_opts *o,
			   struct resurrect_plan *p)
{
	const char *vg = o->vg, *lv = o->lv;
	char cmd[320], a[32], b[32], c[32], d[32];
	struct resurrect_step *s;

	p->numbered = 1;
	if (p->cow_target > p->cow_size) {
		snprintf(cmd, sizeof(cmd), "lvextend -L %llub %s/%s",
			 (unsigned long long)p->cow_target, vg, lv);
		s = step(p, STEP_COW_EXTEND, cmd, "%s    (COW %s -> %s, %s free after; LVM "
			 "maximum %s)", cmd, SZ(p->cow_size, a), SZ(p->cow_target, b),
			 SZ(p->cow_free_after, c), SZ(p->cow_lvm_max, d));
		snprintf(s->done, sizeof(s->done), "%s (COW %s -> %s)", cmd, a, b);
	} else {
		step(p, STEP_NONE, NULL, "keep the COW at %s (%s free after the table)",
		     SZ(p->cow_size, a), SZ(p->cow_free_after, b));
	}
	snprintf(cmd, sizeof(cmd), "lvchange -an %s/%s", vg, lv);
	step(p, STEP_DEACTIVATE, cmd, "%s", cmd);
	if (f->store.header_valid)
		step(p, STEP_NONE, NULL, "(the header is already marked valid: no write)");
	else
		step(p, STEP_SET_VALID, NULL, "mark the COW header valid (4 bytes at offset 4), "
		     "old header chunk saved to ./%s", f->undo);
	snprintf(cmd, sizeof(cmd), "lvchange -ay %s/%s", vg, lv);
	step(p, STEP_ACTIVATE, cmd, "%s and check that the kernel loaded the %llu exceptions",
	     cmd, (unsigned long long)f->store.stats.exceptions);
	step_fsck(p, o);
	if (f->kind == RESURRECT_SPARSE)
		snprintf(p->message, sizeof(p->message), "%s/%s is valid again; everything the "
			 "kernel committed before the overflow is back (writes that failed at the "
			 "overflow are lost)", vg, lv);
	else
		snprintf(p->message, sizeof(p->message), "%s/%s is valid again; chunks outside its "
			 "table come from the origin as it is now", vg, lv);
}

static void plan_snapshot(const struct resurrect_facts *f, const struct resurrect_opts *o,
			  struct resurrect_plan *p)
{
	const struct resurrect_store *s = &f->store;
	char a[32], b[32], c[32];

	if (snapshot_state(f, o, p))
		return;
	if (!s->read) {
		need(p, RESURRECT_READ_STORE);
		return;
	}
	if (s->error[0]) {
		stop(p, EXIT_FAIL, "%s", s->error);
		return;
	}
	p->exceptions = s->stats.exceptions;
	note(p, "%s: %s, chunk %s, %llu exceptions in %llu metadata area%s, next free chunk %llu "
	     "(%s used), header valid flag %u, no table errors", f->names.cow_dev,
	     SZ(s->size, a), SZ(s->chunk, b), (unsigned long long)s->stats.exceptions,
	     (unsigned long long)s->stats.areas, s->stats.areas == 1 ? "" : "s",
	     (unsigned long long)s->stats.next_free, SZ(s->stats.next_free * s->chunk, c),
	     s->header_valid);
	if (cow_size(f, o, p))
		return;
	if (f->undo_exists) {
		stop(p, EXIT_FAIL, "undo file %s exists: run again in a second", f->undo);
		return;
	}
	snapshot_steps(f, o, p);
}

/* ---- thin volumes ----------------------------------------------------- */

static const char *pool_mode(const struct dmdev_pool_status *ps)
{
	return ps->fail ? "failed" : ps->read_only ? "read-only" :
	       ps->out_of_data_space ? "out-of-data-space" : "read-write";
}

/* What is wrong with the pool, said before anything is done. */
struct thin_state {
	int data_full, meta_full, ro, damaged, mismatch, queued, cycle;
};

static void thin_notes(const struct resurrect_facts *f, const struct resurrect_opts *o,
		       struct resurrect_plan *p, struct thin_state *t)
{
	const struct dmdev_pool_status *ps = &f->pool_status;
	const struct resurrect_pool *tp = &f->tp;
	const char *vg = o->vg, *pool = f->lv.pool;

	if (tp->active)
		note(p, "%s/%s: thin volume in pool %s/%s: data %llu/%llu blocks%s, metadata "
		     "%llu/%llu blocks%s, mode %s%s", vg, o->lv, vg, pool,
		     (unsigned long long)ps->used_data, (unsigned long long)ps->total_data,
		     t->data_full ? " (full)" : "", (unsigned long long)ps->used_meta,
		     (unsigned long long)ps->total_meta, t->meta_full ? " (full)" : "",
		     pool_mode(ps), tp->needs_check ? ", needs_check" : "");
	else
		note(p, "%s/%s: thin volume in pool %s/%s, which is not active", vg, o->lv, vg,
		     pool);
	if (t->queued)
		note(p, "writes to the pool's volumes are queued (queue_if_no_space): what writes "
		     "to them hangs until the pool grows or dm_thin_pool's no_space_timeout "
		     "(60 s by default) fails the writes; growing the pool releases them");
	if (tp->meta_error[0])
		note(p, "the pool's metadata cannot be read: %s", tp->meta_error);
	if (tp->meta_read)
		note(p, "the pool's metadata (read from the PVs): transaction id %llu (LVM's: "
		     "%llu), %s, %llu unreadable node%s", (unsigned long long)tp->kernel_tid,
		     (unsigned long long)tp->lvm_tid, tp->needs_check ? "needs_check set" :
		     "needs_check clear", (unsigned long long)tp->damaged, tp->damaged == 1 ? "" :
		     "s");
	if (tp->check_run)
		note(p, "thin_check on a copy of the metadata: exit %d%s%s", tp->check_status,
		     tp->check_status ? ": " : " (no errors)", tp->check_status ?
		     tp->check_output : "");
	for (int i = 0; i < tp->nlvs; i++) {
		const struct resurrect_thin_lv *l = &tp->lvs[i];

		if (tp->meta_read && !l->in_pool)
			note(p, "%s/%s (device %llu): LVM lists it, the pool's metadata has no such "
			     "device", vg, l->name, (unsigned long long)l->id);
		else if (l->lost[0])
			note(p, "%s/%s (device %llu, %llu blocks mapped per the pool): the mappings "
			     "of %s are unreadable: a repair drops them", vg, l->name,
			     (unsigned long long)l->id, (unsigned long long)l->mapped_blocks,
			     l->lost);
	}
	for (int i = 0; i < tp->norphans; i++)
		note(p, "the pool holds device %llu, which no LV names: get it out with "
		     "snap_extract --thin-meta --thin-data --thin-id %llu",
		     (unsigned long long)tp->orphans[i], (unsigned long long)tp->orphans[i]);
	if (t->mismatch)
		note(p, "transaction id mismatch: LVM's metadata says %llu, the pool's superblock "
		     "%llu: LVM refuses to activate the pool", (unsigned long long)tp->lvm_tid,
		     (unsigned long long)tp->kernel_tid);
}

/* The transaction id mismatch: fixed only when every thin volume LVM lists
 * exists in the pool, and only with --fix-transaction-id.  Returns: 1 if
 * the plan stops. */
static int thin_txid(const struct resurrect_facts *f, const struct resurrect_opts *o,
		     const struct thin_state *t, struct resurrect_plan *p)
{
	const struct resurrect_pool *tp = &f->tp;
	char missing[400] = "";
	size_t n = 0;

	if (!t->mismatch)
		return 0;
	for (int i = 0; i < tp->nlvs; i++)
		if (!tp->lvs[i].in_pool)
			n += (size_t)snprintf(missing + n, n < sizeof(missing) ? sizeof(missing) - n : 0,
					      "%s%s/%s", n ? ", " : "", o->vg, tp->lvs[i].name);
	if (n)
		return stop(p, EXIT_FAIL, "transaction id mismatch, and LVM lists thin volumes the "
			    "pool does not have (%s): setting LVM's transaction id would leave them "
			    "broken; restore the VG metadata that matches the pool (vgcfgrestore "
			    "--list %s) instead; nothing changed", missing, o->vg);
	if (t->damaged)
		return stop(p, EXIT_FAIL, "the pool's metadata is damaged and its transaction id "
			    "differs from LVM's: not changing both at once; nothing changed");
	if (!o->fix_txid)
		return stop(p, EXIT_FAIL, "transaction id mismatch: every thin volume LVM lists "
			    "exists in the pool, so LVM's transaction_id of %s/%s can be set to the "
			    "pool's %llu (the VG metadata saved first, vgcfgrestore brings it back); "
			    "that change needs its own confirmation: run again with "
			    "--fix-transaction-id; nothing changed", o->vg, f->lv.pool,
			    (unsigned long long)tp->kernel_tid);
	return 0;
}

/* Space for the extensions and, for a repair, the spare metadata LV.
 * Returns: 1 if the plan stops. */
static int thin_space(const struct resurrect_facts *f, const struct resurrect_opts *o,
		      const struct thin_state *t, struct resurrect_plan *p)
{
	const struct resurrect_pool *tp = &f->tp;
	const struct lvrow *pool = &f->pool;
	uint64_t need;
	char a[32], b[32], c[32], d[32], e[32], g[32], hint[400] = "";

	if (t->data_full || (t->ro && !t->meta_full && !t->cycle))
		p->pool_data_add = o->size_mode == RESURRECT_SIZE_ADD ? o->size :
			round_up(pool->size > POOL_MIN_DATA_ADD ? pool->size : POOL_MIN_DATA_ADD,
				 pool->extent);
	if (t->meta_full)
		p->pool_meta_add = round_up(pool->meta_size > POOL_MIN_META_ADD ? pool->meta_size :
					    POOL_MIN_META_ADD, pool->extent);
	if (t->damaged) /* the spare thin_repair writes into, and a new one after */
		p->pool_spare_add = (tp->spare_size >= tp->tmeta_size ? 0 : tp->tmeta_size) +
				    tp->tmeta_size;
	need = p->pool_data_add + p->pool_meta_add + p->pool_spare_add;
	if (need <= pool->vg_free)
		return 0;
	if (t->queued)
		snprintf(hint, sizeof(hint), "; to fail the queued writes now instead: lvchange "
			 "--errorwhenfull y %s/%s", o->vg, f->lv.pool);
	return stop(p, EXIT_FAIL, "volume group %s has %s free, %s needed (data +%s, metadata +%s, "
		    "spare metadata LV %s): add a physical volume of at least %s (pvcreate "
		    "/dev/NEW && vgextend %s /dev/NEW)%s; nothing changed", o->vg,
		    SZ(pool->vg_free, a), SZ(need, b), SZ(p->pool_data_add, c),
		    SZ(p->pool_meta_add, d), SZ(p->pool_spare_add, e),
		    SZ(need - pool->vg_free, g), o->vg, hint);
}

static void thin_steps(const struct resurrect_facts *f, const struct resurrect_opts *o,
		       const struct thin_state *t, struct resurrect_plan *p)
{
	const struct resurrect_pool *tp = &f->tp;
	const struct lvrow *pool = &f->pool;
	const char *vg = o->vg, *pn = f->lv.pool;
	char cmd[320], a[32], b[32];

	p->numbered = 0;
	if (p->pool_data_add) {
		snprintf(cmd, sizeof(cmd), "lvextend -L +%llub %s/%s",
			 (unsigned long long)p->pool_data_add, vg, pn);
		step(p, STEP_POOL_EXTEND_DATA, cmd, "%s (pool data %s -> %s)", cmd,
		     SZ(pool->size, a), SZ(pool->size + p->pool_data_add, b));
	}
	if (p->pool_meta_add) {
		snprintf(cmd, sizeof(cmd), "lvextend --poolmetadatasize +%llub %s/%s",
			 (unsigned long long)p->pool_meta_add, vg, pn);
		step(p, STEP_POOL_EXTEND_META, cmd, "%s", cmd);
	}
	if (t->cycle) {
		step(p, STEP_THIN_DEACTIVATE, NULL, "lvchange -an every active thin volume of "
		     "%s/%s, then the pool", vg, pn);
		if (t->mismatch)
			step(p, STEP_POOL_FIX_TXID, NULL, "LVM's transaction_id of %s/%s %llu -> "
			     "%llu (the pool's): vgcfgbackup to ./%s first, then vgcfgrestore "
			     "--force of the edited copy", vg, pn, (unsigned long long)tp->lvm_tid,
			     (unsigned long long)tp->kernel_tid, f->txid_backup);
		if (t->damaged)
			step(p, STEP_POOL_REPAIR, NULL, "lvconvert --repair %s/%s: thin_repair "
			     "writes new metadata into the spare; the old one is kept as %s/%s_meta0 "
			     "(never removed by this tool)", vg, pn, vg, pn);
		step(p, STEP_THIN_ACTIVATE, NULL, "lvchange -ay %s/%s and the thin volumes found "
		     "active (LVM runs thin_check on the pool's metadata first)", vg, o->lv);
	} else {
		step(p, STEP_POOL_REACTIVATE, NULL, "if the pool stays read-only or failed: "
		     "deactivate %s/%s and the pool, activate again (LVM runs thin_check)", vg,
		     o->lv);
	}
	step(p, STEP_THIN_VOLUMES, NULL, "every thin volume of %s/%s: its state and, %s", vg, pn,
	     o->no_fsck ? "no filesystem check (--no-fsck)" :
	     "if not in use and ext2/3/4: e2fsck -fy, then e2fsck -fn (an inactive one is "
	     "activated for it and deactivated again)");
	snprintf(p->message, sizeof(p->message), "%s/%s is writable again", vg, o->lv);
}

static void plan_thin(const struct resurrect_facts *f, const struct resurrect_opts *o,
		      struct resurrect_plan *p)
{
	const struct dmdev_pool_status *ps = &f->pool_status;
	const struct resurrect_pool *tp = &f->tp;
	const struct lvrow *pool = &f->pool;
	struct thin_state t = { 0 };

	if (tp->active) {
		t.data_full = ps->out_of_data_space || pool->data_pct >= 100.0 ||
			      (ps->total_data && ps->used_data >= ps->total_data);
		t.meta_full = pool->meta_pct >= 100.0 ||
			      (ps->total_meta && ps->used_meta >= ps->total_meta);
		t.ro = ps->read_only || ps->fail || ps->error;
		t.queued = ps->out_of_data_space && ps->queue_if_no_space;
	}
	t.damaged = tp->meta_error[0] || tp->damaged || (tp->check_run && tp->check_status);
	t.mismatch = tp->meta_read && tp->kernel_tid != tp->lvm_tid;
	/* deactivate and activate: a repair, the transaction id, needs_check,
	 * a failed pool, or one that is not active */
	t.cycle = t.damaged || t.mismatch || !tp->active || ps->fail || tp->needs_check;
	thin_notes(f, o, p, &t);
	snprintf(p->status, sizeof(p->status), "pool %s", tp->active ? pool_mode(ps) : "inactive");
	if (!t.data_full && !t.meta_full && !t.ro && !t.cycle) {
		stop(p, EXIT_OK, "the pool of %s/%s has room and is writable: nothing to do", o->vg,
		     o->lv);
		return;
	}
	if (thin_txid(f, o, &t, p) || thin_space(f, o, &t, p))
		return;
	if (t.cycle && tp->open_lvs[0]) {
		stop(p, EXIT_FAIL, "the pool must be deactivated, but its thin volumes are in use: "
		     "%s; unmount them and stop what uses them first; nothing changed",
		     tp->open_lvs);
		return;
	}
	if (tp->meta0_exists && t.damaged) {
		stop(p, EXIT_FAIL, "%s/%s_meta0 exists (the old metadata of an earlier repair): "
		     "lvconvert --repair would need that name; look at it, rename or remove it "
		     "yourself; nothing changed", o->vg, f->lv.pool);
		return;
	}
	thin_steps(f, o, &t, p);
}

int resurrect_plan(const struct resurrect_facts *in, const struct resurrect_opts *opts,
		   struct resurrect_plan *out)
{
	struct resurrect_plan *p = out;

	memset(p, 0, sizeof(*p));
	p->verdict = RESURRECT_GO;
	switch (in->kind) {
	case RESURRECT_SPARSE:
	case RESURRECT_CLASSIC:
		plan_snapshot(in, opts, p);
		return 0;
	case RESURRECT_THIN:
		plan_thin(in, opts, p);
		return 0;
	case RESURRECT_UNSUPPORTED:
		stop(p, EXIT_UNSUPPORTED, "%s/%s is a '%s' volume (attributes %s): neither a "
		     "snapshot, a sparse volume nor a thin volume; this tool only brings those "
		     "back; nothing changed", opts->vg, opts->lv, in->lv.segtype, in->lv.attr);
		return 0;
	}
	return -EINVAL;
}
