/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running snap_resurrect's plan (see resurrect.h), step by step as printed.
 * Each step leaves the volume no worse than found: until the undo file
 * exists only the COW's size changed; after it, a failure restores the old
 * header from it and activates the volume as found (roll_back()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resurrect.h"
#include "target.h"
#include "tempdev.h"

/* ---- the filesystem check (devcheck.h) --------------------------------- */

static void say_line(void *data, const char *line)
{
	resurrect_say(data, "%s", line);
}

static int step_fsck(struct resurrect_ctx *c)
{
	struct resurrect_report *r = &c->report;
	const char *dev = c->fsck_dev ? c->fsck_dev : c->facts.names.dev;
	struct devcheck_opts o = { .zero_log = c->opts->zero_log, .to_stderr = c->opts->json,
				   .say = say_line, .data = r };
	struct devcheck *k = &r->check;
	char summary[1200];

	if (c->opts->no_fsck) {
		resurrect_say(r, "not checking the filesystem (--no-fsck)");
		return 0;
	}
	devcheck_run(dev, &o, k);
	if (!k->nsteps) {
		resurrect_say(r, "%s", k->problem);
		if (k->family == FS_OTHER && !k->busy)
			return 0;
		return resurrect_result(r, EXIT_FAIL, "%s/%s is valid again but its filesystem was "
					"not checked: %s", c->opts->vg, c->opts->lv, k->problem);
	}
	r->fsck_done = 1;
	if (k->family == FS_EXT2)
		resurrect_action(r, "e2fsck -fy %s: %s; second pass e2fsck -fn: %s", dev,
				 k->steps[0].result, k->steps[1].result);
	else
		resurrect_action(r, "%s on %s: %s", k->type, dev,
				 devcheck_summary(k, summary, sizeof(summary)));
	if (k->clean)
		return 0;
	if (c->facts.kind == RESURRECT_THIN)
		return resurrect_result(r, EXIT_FAIL, "the pool is writable but %s: check it by "
					"hand before mounting", k->problem);
	return resurrect_result(r, EXIT_FAIL, "%s/%s is valid again but %s: check it by hand "
				"before mounting", c->opts->vg, c->opts->lv, k->problem);
}

int resurrect_fsck(struct resurrect_ctx *c, const char *dev)
{
	int r;

	c->fsck_dev = dev;
	r = step_fsck(c);
	c->fsck_dev = NULL;
	return r;
}

/* ---- the COW header, through the temporary device --------------------- */

static int set_valid_fn(void *data, int fd, const char *path)
{
	struct resurrect_ctx *c = data;
	struct snapcow_rewrite_options ro = { .undo_path = c->undo, .program = program_name,
					      .step_fn = fault_step };
	struct snapcow_identity id;
	struct snapcow_store *s;
	int r;

	r = store_identity(fd, &id);
	if (r < 0)
		return r;
	ro.identity = &id;
	r = snapcow_store_open_fd(tool_ctx(), fd, path, SNAPCOW_OPEN_RDWR, &s);
	if (r < 0)
		return r;
	/* the same store we checked while it was active */
	if (snapcow_store_size(s) != c->cow_id.size || snapcow_store_chunk_bytes(s) != c->now.chunk ||
	    snapcow_store_header(s)->valid) {
		warnx("%s: the header or size changed since it was checked: not writing", path);
		snapcow_store_free(s);
		return -ESTALE;
	}
	r = snapcow_store_set_valid(s, 1, &ro);
	snapcow_store_free(s);
	return r;
}

static int undo_fn(void *data, int fd, const char *path)
{
	struct resurrect_ctx *c = data;
	struct snapcow_identity id;
	struct snapcow_undo *u;
	int r;

	(void)path;
	r = store_identity(fd, &id);
	if (r < 0)
		return r;
	r = snapcow_undo_open(tool_ctx(), c->undo, &u);
	if (r < 0)
		return r;
	r = snapcow_undo_apply(u, fd, &id, 0);
	snapcow_undo_free(u);
	return r;
}

/* After a failure with the undo file written: put the old header back and
 * the volume in the state it was found in.  Returns: -1 (stop). */
static int roll_back(struct resurrect_ctx *c, const char *why)
{
	const char *vg = c->opts->vg, *lv = c->opts->lv;
	struct resurrect_report *r = &c->report;
	int e;

	resurrect_say(r, "%s: restoring the old header from %s", why, c->undo);
	lvm_run(c->lvm, NULL, "lvchange -an %s/%s", vg, lv);
	e = tempdev_run(c->facts.names.temp_dm, c->cow_id.dm_uuid, c->cow_table, undo_fn, c);
	if (e < 0)
		return resurrect_result(r, EXIT_FAIL, "%s; restoring the old header failed too (%s): "
					"with %s/%s inactive, run: %s", why, snapcow_strerror(e), vg,
					lv, r->undo_cmd);
	resurrect_action(r, "restored the old COW header from %s", c->undo);
	if (lvm_run(c->lvm, NULL, "lvchange -ay %s/%s", vg, lv) == 0)
		resurrect_action(r, "lvchange -ay %s/%s (as found: invalid)", vg, lv);
	r->undo_cmd[0] = '\0';
	return resurrect_result(r, EXIT_FAIL, "%s; the header change was undone and the volume is "
				"as found (but with the larger COW)", why);
}

static int step_set_valid(struct resurrect_ctx *c)
{
	const char *vg = c->opts->vg, *lv = c->opts->lv;
	struct resurrect_report *r = &c->report;
	char *abs;
	int e;

	e = tempdev_run(c->facts.names.temp_dm, c->cow_id.dm_uuid, c->cow_table, set_valid_fn, c);
	abs = realpath(c->undo, NULL);
	if (abs) {
		snprintf(c->undo, sizeof(c->undo), "%s", abs);
		snprintf(r->undo_cmd, sizeof(r->undo_cmd), "snap_setvalid --force --undo-apply '%s' "
			 "%s && lvchange -an %s/%s && lvchange -ay %s/%s", abs,
			 c->facts.names.cow_dev, vg, lv, vg, lv);
		free(abs);
	}
	if (e < 0 && r->undo_cmd[0])
		return roll_back(c, "marking the header valid failed");
	if (e < 0) {
		lvm_run(c->lvm, NULL, "lvchange -ay %s/%s", vg, lv);
		return resurrect_result(r, EXIT_FAIL, "marking the header valid failed (%s); nothing "
					"was written; %s/%s was activated again as found",
					snapcow_strerror(e), vg, lv);
	}
	resurrect_action(r, "marked the COW header valid; old header chunk saved in %s", c->undo);
	return 0;
}

/* ---- LVM steps -------------------------------------------------------- */

/* lvextend of the COW or the pool: nothing else changed yet. */
static int step_extend(struct resurrect_ctx *c, const struct resurrect_step *s)
{
	if (lvm_run(c->lvm, NULL, "%s", s->cmd))
		return resurrect_result(&c->report, EXIT_FAIL, "%s:\n%s",
					s->type == STEP_COW_EXTEND ? "lvextend failed, nothing changed" :
					s->type == STEP_POOL_EXTEND_DATA ?
					"lvextend of the pool failed, nothing changed" :
					"extending the pool metadata failed", lvm_errors(c->lvm));
	resurrect_action(&c->report, "%s", s->done);
	return 0;
}

/* Read the COW as it is now (its identity and table, for the temporary
 * device), then deactivate. */
static int step_deactivate(struct resurrect_ctx *c, const struct resurrect_step *s)
{
	const struct resurrect_names *n = &c->facts.names;
	struct resurrect_report *r = &c->report;
	int e;

	if (resurrect_read_store(n->cow_dev, &c->now, &c->cow_id) < 0)
		return resurrect_result(r, EXIT_FAIL, "%s", c->now.error);
	r->exceptions = c->now.stats.exceptions;
	e = dmdev_get_lines(n->cow_dm, 0, &c->cow_table);
	if (e < 0)
		return resurrect_result(r, EXIT_FAIL, "cannot read the table of %s: %s; the COW was "
					"extended, nothing else changed", n->cow_dm, strerror(-e));
	if (lvm_run(c->lvm, NULL, "%s", s->cmd))
		return resurrect_result(r, EXIT_FAIL, "cannot deactivate %s/%s:\n%s\nthe COW was "
					"extended, nothing else changed", c->opts->vg, c->opts->lv,
					lvm_errors(c->lvm));
	resurrect_action(r, "%s", s->done);
	return 0;
}

/* Activate, and see that the kernel loaded the table. */
static int step_activate(struct resurrect_ctx *c, const struct resurrect_step *s)
{
	const char *vg = c->opts->vg, *lv = c->opts->lv;
	struct resurrect_report *r = &c->report;
	struct dmdev_snapshot_status ss;
	int e;

	if (lvm_run(c->lvm, NULL, "%s", s->cmd)) {
		resurrect_say(r, "activation failed:\n%s", lvm_errors(c->lvm));
		if (r->undo_cmd[0])
			return roll_back(c, "activation failed");
		return resurrect_result(r, EXIT_FAIL, "activation failed; try 'lvchange -ay %s/%s'",
					vg, lv);
	}
	resurrect_action(r, "%s", s->done);
	e = dmdev_snapshot_status(c->facts.names.dm, &ss);
	if (e < 0 || ss.invalid || ss.overflow) {
		if (r->undo_cmd[0])
			return roll_back(c, e < 0 ? "cannot read the snapshot status after activation" :
						    "the kernel still reports the snapshot Invalid");
		return resurrect_result(r, EXIT_FAIL, "the kernel still reports %s/%s invalid", vg,
					lv);
	}
	resurrect_snapshot_status(&ss, r->status, sizeof(r->status));
	r->loaded = (ss.used_sectors - ss.metadata_sectors) / (c->now.chunk / SNAPCOW_SECTOR_SIZE);
	resurrect_action(r, "kernel status %s: valid, %llu exceptions loaded", r->status,
			 (unsigned long long)r->loaded);
	if (r->loaded != c->now.stats.exceptions)
		resurrect_say(r, "warning: the table holds %llu exceptions but the kernel reports %llu",
			      (unsigned long long)c->now.stats.exceptions,
			      (unsigned long long)r->loaded);
	return 0;
}

static int pool_writable(int r, const struct dmdev_pool_status *ps)
{
	return r == 0 && !ps->read_only && !ps->fail && !ps->out_of_data_space;
}

/* After extending: a pool still read-only or failed is deactivated and
 * activated again (LVM runs thin_check when configured). */
static int step_pool_reactivate(struct resurrect_ctx *c)
{
	const char *vg = c->opts->vg, *lv = c->opts->lv, *pool = c->facts.lv.pool;
	const char *pool_dm = c->facts.names.pool_dm;
	struct resurrect_report *r = &c->report;
	struct dmdev_pool_status ps;
	int e = dmdev_pool_status(pool_dm, &ps);

	if (!pool_writable(e, &ps)) {
		resurrect_say(r, "the pool is still %s: reactivating", e < 0 ? "unreadable" :
			      ps.fail ? "failed" : ps.read_only ? "read-only" : "out of data space");
		if (lvm_run(c->lvm, NULL, "lvchange -an %s/%s", vg, lv) ||
		    lvm_run(c->lvm, NULL, "lvchange -an %s/%s", vg, pool))
			return resurrect_result(r, EXIT_FAIL, "cannot deactivate %s/%s and its pool "
						"(in use?):\n%s", vg, lv, lvm_errors(c->lvm));
		resurrect_action(r, "lvchange -an %s/%s and %s/%s", vg, lv, vg, pool);
		if (lvm_run(c->lvm, NULL, "lvchange -ay %s/%s", vg, lv))
			return resurrect_result(r, EXIT_FAIL, "activation failed:\n%s\nif LVM asks "
						"for a metadata repair: lvconvert --repair %s/%s",
						lvm_errors(c->lvm), vg, pool);
		resurrect_action(r, "lvchange -ay %s/%s", vg, lv);
		e = dmdev_pool_status(pool_dm, &ps);
		if (!pool_writable(e, &ps))
			return resurrect_result(r, EXIT_FAIL, "the pool is still not writable after "
						"reactivation; see lvmthin(7), 'lvconvert --repair "
						"%s/%s'", vg, pool);
	}
	snprintf(r->status, sizeof(r->status), "pool read-write, data %llu/%llu, metadata %llu/%llu",
		 (unsigned long long)ps.used_data, (unsigned long long)ps.total_data,
		 (unsigned long long)ps.used_meta, (unsigned long long)ps.total_meta);
	resurrect_action(r, "pool status: %s", r->status);
	return 0;
}

/* ---- the plan --------------------------------------------------------- */

/* Returns: 0 to go on, -1 stopped (the report says why). */
static int run_step(struct resurrect_ctx *c, const struct resurrect_step *s)
{
	switch (s->type) {
	case STEP_NONE:
		return 0;
	case STEP_COW_EXTEND:
	case STEP_POOL_EXTEND_DATA:
	case STEP_POOL_EXTEND_META:
		return step_extend(c, s);
	case STEP_DEACTIVATE:
		return step_deactivate(c, s);
	case STEP_SET_VALID:
		return step_set_valid(c);
	case STEP_ACTIVATE:
		return step_activate(c, s);
	case STEP_POOL_REACTIVATE:
		return step_pool_reactivate(c);
	case STEP_FSCK:
		return step_fsck(c);
	case STEP_THIN_DEACTIVATE:
	case STEP_POOL_FIX_TXID:
	case STEP_POOL_REPAIR:
	case STEP_THIN_ACTIVATE:
	case STEP_THIN_VOLUMES:
		return resurrect_thin_step(c, s);
	}
	return resurrect_result(&c->report, EXIT_FAIL, "internal error: unknown step %d",
				(int)s->type);
}

/* The fault point (tool.h) once step @t is done. */
static const char *const step_done_point[] = {
	[STEP_COW_EXTEND] = "after-extend",
	[STEP_DEACTIVATE] = "after-deactivate",
	[STEP_SET_VALID] = "after-set-valid",
	[STEP_ACTIVATE] = "after-activate",
	[STEP_POOL_EXTEND_DATA] = "after-pool-extend",
	[STEP_POOL_EXTEND_META] = "after-meta-extend",
	[STEP_POOL_REACTIVATE] = "after-pool-reactivate",
	[STEP_FSCK] = "after-fsck",
	[STEP_THIN_DEACTIVATE] = "after-thin-deactivate",
	[STEP_POOL_FIX_TXID] = "after-fix-txid",
	[STEP_POOL_REPAIR] = "after-pool-repair",
	[STEP_THIN_ACTIVATE] = "after-thin-activate",
	[STEP_THIN_VOLUMES] = "after-thin-volumes",
};

void resurrect_execute(struct resurrect_ctx *c)
{
	snprintf(c->undo, sizeof(c->undo), "%s", c->facts.undo);
	for (int i = 0; i < c->plan.nsteps; i++) {
		enum resurrect_step_type t = c->plan.steps[i].type;

		if (run_step(c, &c->plan.steps[i]))
			return;
		if ((size_t)t < sizeof(step_done_point) / sizeof(step_done_point[0]))
			fault_point(step_done_point[t]);
	}
	resurrect_result(&c->report, EXIT_OK, "%s", c->plan.message);
}
