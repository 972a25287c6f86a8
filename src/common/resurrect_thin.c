/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_resurrect and thin pools (see resurrect.h): what LVM's metadata says
 * of the pool and its thin volumes, what the pool's own metadata holds
 * (read with thin_meta.c straight from the PVs, never from a tree the
 * kernel may still change), and what thin_check says of a copy of it; and
 * the steps that deactivate, repair, fix the transaction id, activate and
 * check every thin volume of the pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "extract.h"
#include "fsckrun.h"
#include "resurrect.h"
#include "thin_meta.h"
#include "volume.h"

/* ---- classify ------------------------------------------------------------- */

/* The PVs LVM reports, as --pv paths (the pool is read from them offline). */
static int live_pvs(struct resurrect_ctx *c, struct volume_opts *vo, char **out)
{
	char *save = NULL, *line;

	memset(vo, 0, sizeof(*vo));
	if (lvm_run(c->lvm, out, "pvs --noheadings -o pv_name") || !*out)
		return resurrect_result(&c->report, EXIT_FAIL, "pvs failed:\n%s",
					lvm_errors(c->lvm));
	for (line = strtok_r(*out, "\n", &save); line && vo->npv < VOLUME_MAX_PVS;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		line[strcspn(line, " \t")] = '\0';
		if (*line)
			vo->pv[vo->npv++] = line;
	}
	return 0;
}

/* LVM's side: the pool's transaction id, its thin volumes, the spare. */
static void lvm_side(struct resurrect_pool *tp, const struct lvm_vg *vg, const char *pool)
{
	const struct lvm_lv *p = lvm_vg_find_lv(vg, pool);
	char meta0[160];

	snprintf(meta0, sizeof(meta0), "%s_meta0", pool);
	tp->meta0_exists = lvm_vg_find_lv(vg, meta0) != NULL;
	if (p && p->nsegs == 1 && p->segs[0].type == LVM_SEG_THIN_POOL) {
		const struct lvm_lv *m = lvm_vg_find_lv(vg, p->segs[0].metadata);

		tp->lvm_tid = p->segs[0].transaction_id;
		snprintf(tp->tmeta, sizeof(tp->tmeta), "%s", p->segs[0].metadata);
		tp->tmeta_size = m ? m->extents * vg->extent_sectors * 512U : 0;
	}
	for (size_t i = 0; i < vg->nlvs; i++) {
		const struct lvm_lv *lv = &vg->lvs[i];
		const struct lvm_seg *ts;
		const struct lvm_lv *owner;
		size_t n = strlen(lv->name);

		if (n > 8 && !strcmp(lv->name + n - 8, "_pmspare")) {
			snprintf(tp->spare, sizeof(tp->spare), "%s", lv->name);
			tp->spare_size = lv->extents * vg->extent_sectors * 512U;
		}
		if (!lvm_vg_thin(vg, lv, &ts, &owner) || strcmp(ts->thin_pool, pool) ||
		    tp->nlvs == RESURRECT_MAX_THIN)
			continue;
		snprintf(tp->lvs[tp->nlvs].name, sizeof(tp->lvs[0].name), "%s", lv->name);
		tp->lvs[tp->nlvs++].id = ts->device_id;
	}
}

static void describe_lost(struct resurrect_thin_lv *t, const struct thin_map *m, uint32_t bs)
{
	const struct thin_lost *l = &m->lost[0];

	for (size_t i = 0; i < m->nlost; i++)
		t->lost_blocks += m->lost[i].last == UINT64_MAX ? 0 : m->lost[i].last -
							      m->lost[i].begin + 1;
	if (l->last == UINT64_MAX)
		snprintf(t->lost, sizeof(t->lost), "virtual blocks %" PRIu64 " to the end (of %u "
			 "sectors), metadata block %" PRIu64 ": %s", l->begin, bs, l->block, l->why);
	else
		snprintf(t->lost, sizeof(t->lost), "virtual blocks %" PRIu64 "..%" PRIu64 " (of %u "
			 "sectors), metadata block %" PRIu64 ": %s", l->begin, l->last, bs, l->block,
			 l->why);
}

/* The pool's side: its transaction id, flags, devices and damage. */
static void pool_side(struct resurrect_pool *tp, const struct thin_meta *tm)
{
	tp->meta_read = 1;
	tp->kernel_tid = tm->top.trans_id;
	tp->needs_check |= (tm->top.flags & THIN_NEEDS_CHECK) != 0;
	tp->block_sectors = tm->top.data_block_sectors;
	tp->damaged = tm->nlost;
	for (int i = 0; i < tp->nlvs; i++) {
		struct resurrect_thin_lv *t = &tp->lvs[i];
		const struct thin_device *d = thin_meta_device(tm, t->id);
		struct thin_map m;

		t->in_pool = d && d->root;
		if (!t->in_pool)
			continue;
		t->mapped_blocks = d->has_details ? d->mapped_blocks : 0;
		if (thin_meta_map(tm, d, &m) < 0)
			continue;
		if (m.nlost)
			describe_lost(t, &m, tp->block_sectors);
		tp->damaged += m.nlost;
		thin_map_free(&m);
	}
	for (size_t k = 0; k < tm->ndevs && tp->norphans < 8; k++) {
		int named = 0;

		for (int i = 0; i < tp->nlvs; i++)
			named |= tp->lvs[i].id == tm->devs[k].id;
		if (!named)
			tp->orphans[tp->norphans++] = tm->devs[k].id;
	}
}

/* A read-only loop device over @fd that goes away when its last user
 * closes it (for a checker that opens with O_DIRECT, which the file's own
 * file system may refuse).  Returns: its descriptor and @path, or -errno. */
static int loop_attach(int fd, char *path, size_t len)
{
	struct loop_info64 info = { .lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR };
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC), n, lfd, e;

	if (ctl < 0)
		return -errno;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	e = errno;
	close(ctl);
	if (n < 0)
		return -e;
	snprintf(path, len, "/dev/loop%d", n);
	lfd = open(path, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		return -errno;
	if (ioctl(lfd, LOOP_SET_FD, fd) < 0 || ioctl(lfd, LOOP_SET_STATUS64, &info) < 0) {
		e = errno;
		close(lfd);
		return -e;
	}
	return lfd;
}

static int thin_check(const char *path, char **out)
{
	char *argv[] = { (char *)checker_find("thin_check", "SNAPRESCUE_THIN_CHECK"),
			 (char *)path, NULL };

	free(*out);
	*out = NULL;
	return checker_run(argv, CHECKER_CAPTURE, out);
}

/* thin_check (the ecosystem's checker) on a sparse copy of the metadata:
 * nothing of the pool is opened for writing, no device is created (but a
 * read-only loop device over the copy when thin_check cannot open it). */
static void run_thin_check(struct resurrect_pool *tp, const struct snapcow_dev *meta)
{
	char path[] = "/var/tmp/snap_resurrect-tmeta.XXXXXX", loop[64], *out = NULL;
	struct snapcow_view *v;
	int fd = mkostemp(path, O_CLOEXEC), lfd;

	if (fd < 0)
		return;
	if (ftruncate(fd, (off_t)snapcow_dev_size(meta)) == 0 &&
	    snapcow_view_new_plain(tool_ctx(), meta, snapcow_dev_size(meta), &v) == 0) {
		if (extract_copy_sparse(v, fd, 0, snapcow_dev_size(meta), NULL) == 0 &&
		    fsync(fd) == 0) {
			tp->check_status = thin_check(path, &out);
			if (out && strstr(out, "syscall 'open' failed") &&
			    (lfd = loop_attach(fd, loop, sizeof(loop))) >= 0) {
				tp->check_status = thin_check(loop, &out);
				close(lfd);
			}
			tp->check_run = tp->check_status >= 0 && tp->check_status != 127 &&
					!(out && strstr(out, "syscall 'open' failed"));
		}
		snapcow_view_free(v);
	}
	close(fd);
	unlink(path);
	for (char *p = out; p && *p; p++)
		if (*p == '\n')
			*p = p[1] ? ';' : '\0';
	snprintf(tp->check_output, sizeof(tp->check_output), "%s", out ? out : "");
	free(out);
}

/* Which thin volumes of the pool are in use (mounted, open). */
static void open_volumes(struct resurrect_ctx *c, struct resurrect_pool *tp)
{
	size_t o = 0;

	for (int i = 0; i < tp->nlvs; i++) {
		struct dmdev_info info;
		char dm[300];

		dmdev_lv_name(c->opts->vg, tp->lvs[i].name, "", dm, sizeof(dm));
		if (dmdev_get_info(dm, &info) == 0 && info.exists && info.open_count > 0)
			o += (size_t)snprintf(tp->open_lvs + o, o < sizeof(tp->open_lvs) ?
					      sizeof(tp->open_lvs) - o : 0, "%s%s/%s (open %d)",
					      o ? ", " : "", c->opts->vg, tp->lvs[i].name,
					      info.open_count);
	}
}

/* Where --fix-transaction-id saves the VG metadata as it was. */
static void backup_name(struct resurrect_ctx *c)
{
	time_t now = time(NULL);
	char stamp[32];
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(c->facts.txid_backup, sizeof(c->facts.txid_backup), "snap_resurrect-%s-%s-%s.vg",
		 c->opts->vg, c->facts.lv.pool, stamp);
}

int resurrect_classify_pool(struct resurrect_ctx *c)
{
	struct resurrect_facts *f = &c->facts;
	struct resurrect_pool *tp = &f->tp;
	const struct dmdev_pool_status *ps = &f->pool_status;
	struct volume_opts vo;
	struct volume v;
	char name[300], why[400], *pvs = NULL;

	memset(tp, 0, sizeof(*tp));
	tp->active = dmdev_pool_status(f->names.pool_dm, &f->pool_status) == 0;
	if (tp->active) {
		tp->kernel_tid = ps->transaction_id;
		tp->needs_check = ps->needs_check;
	}
	if (live_pvs(c, &vo, &pvs))
		return -1;
	snprintf(name, sizeof(name), "%s/%s", c->opts->vg, c->opts->lv);
	volume_open(&vo, name, &v, EXIT_FAIL);
	free(pvs);
	lvm_side(tp, volume_vg(&v), v.pool);
	/* a writable active pool's trees change under a reader: its status is
	 * what counts; a read-only or failed one commits nothing */
	if (!tp->active || ps->read_only || ps->fail || ps->needs_check) {
		struct thin_meta tm;
		int r = thin_meta_open(v.thin_meta, snapcow_dev_name(v.thin_meta), 0, &tm, why,
				       sizeof(why));

		if (r == 0) {
			pool_side(tp, &tm);
			thin_meta_close(&tm);
		} else {
			snprintf(tp->meta_error, sizeof(tp->meta_error), "%s: %s",
				 snapcow_dev_name(v.thin_meta), why);
		}
		run_thin_check(tp, v.thin_meta);
	}
	volume_close(&v);
	open_volumes(c, tp);
	backup_name(c);
	return 0;
}

/* ---- execute ------------------------------------------------------------- */

static int dm_active(const char *vg, const char *lv, int *open_count)
{
	struct dmdev_info info;
	char dm[300];

	dmdev_lv_name(vg, lv, "", dm, sizeof(dm));
	*open_count = 0;
	if (dmdev_get_info(dm, &info) < 0 || !info.exists)
		return 0;
	*open_count = info.open_count;
	return 1;
}

static int step_deactivate_all(struct resurrect_ctx *c)
{
	const struct resurrect_pool *tp = &c->facts.tp;
	const char *vg = c->opts->vg, *pool = c->facts.lv.pool;
	int open;

	for (int i = 0; i < tp->nlvs; i++) {
		c->was_active[i] = dm_active(vg, tp->lvs[i].name, &open);
		if (!c->was_active[i])
			continue;
		if (lvm_run(c->lvm, NULL, "lvchange -an %s/%s", vg, tp->lvs[i].name))
			return resurrect_result(&c->report, EXIT_FAIL, "cannot deactivate %s/%s "
						"(in use?):\n%s\nthe volumes deactivated so far "
						"stay so; nothing else changed", vg, tp->lvs[i].name,
						lvm_errors(c->lvm));
		resurrect_action(&c->report, "lvchange -an %s/%s", vg, tp->lvs[i].name);
	}
	if (lvm_run(c->lvm, NULL, "lvchange -an %s/%s", vg, pool))
		return resurrect_result(&c->report, EXIT_FAIL, "cannot deactivate the pool %s/%s:"
					"\n%s", vg, pool, lvm_errors(c->lvm));
	resurrect_action(&c->report, "lvchange -an %s/%s", vg, pool);
	return 0;
}

/* @text (a vgcfgbackup file) with the transaction_id of LV @pool's segment
 * set to @tid, malloc'd.  Returns NULL when there is no such line. */
static char *edit_txid(const char *text, const char *pool, uint64_t tid)
{
	char head[200], *out;
	const char *lv, *end, *key;
	size_t pre;

	snprintf(head, sizeof(head), "\n\t\t%s {\n", pool);
	lv = strstr(text, head);
	end = lv ? strstr(lv + strlen(head), "\n\t\t}\n") : NULL;
	key = lv ? strstr(lv, "transaction_id = ") : NULL;
	if (!key || !end || key > end)
		return NULL;
	pre = (size_t)(key - text) + strlen("transaction_id = ");
	if (asprintf(&out, "%.*s%" PRIu64 "%s", (int)pre, text, tid, text + pre +
		     strspn(text + pre, "0123456789")) < 0)
		return NULL;
	return out;
}

static char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* fsync @path and its directory.  Returns: 0 or -errno. */
static int sync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r ? r : fsync_parent(path);
}

/* vgcfgbackup; the copy with LVM's transaction id set to the pool's,
 * checked by parsing it; vgcfgrestore --force of it. */
static int step_fix_txid(struct resurrect_ctx *c)
{
	const struct resurrect_pool *tp = &c->facts.tp;
	const char *vg = c->opts->vg, *pool = c->facts.lv.pool, *bak = c->facts.txid_backup;
	struct resurrect_report *r = &c->report;
	char fixed[PATH_MAX + 8], why[256], *text, *edited, *abs;
	struct lvm_vg *parsed = NULL;
	const struct lvm_lv *plv;
	FILE *f;

	if (lvm_run(c->lvm, NULL, "vgcfgbackup -f %s %s", bak, vg) || sync_file(bak) < 0)
		return resurrect_result(r, EXIT_FAIL, "vgcfgbackup to %s failed:\n%s\nnothing "
					"changed but the deactivation", bak, lvm_errors(c->lvm));
	fault_point("after-vgcfgbackup");
	text = slurp_file(bak);
	edited = text ? edit_txid(text, pool, tp->kernel_tid) : NULL;
	free(text);
	snprintf(fixed, sizeof(fixed), "%s.fixed", bak);
	f = edited ? fopen(fixed, "wx") : NULL;
	if (!f || fputs(edited, f) < 0 || fclose(f) != 0 || sync_file(fixed) < 0 ||
	    lvm_vg_parse(edited, strlen(edited), &parsed, why, sizeof(why)) < 0 ||
	    !(plv = lvm_vg_find_lv(parsed, pool)) || plv->nsegs != 1 ||
	    plv->segs[0].transaction_id != tp->kernel_tid) {
		lvm_vg_free(parsed);
		free(edited);
		return resurrect_result(r, EXIT_FAIL, "cannot make the edited copy %s of %s (no "
					"transaction_id line of %s found, or it does not parse); "
					"nothing changed but the deactivation", fixed, bak, pool);
	}
	lvm_vg_free(parsed);
	free(edited);
	abs = realpath(bak, NULL);
	snprintf(r->undo_cmd, sizeof(r->undo_cmd), "vgcfgrestore --force -f %s %s", abs ? abs : bak,
		 vg);
	free(abs);
	r->undo_what = "the transaction id change";
	fault_point("after-txid-edit");
	if (lvm_run(c->lvm, NULL, "vgcfgrestore --force -f %s %s", fixed, vg))
		return resurrect_result(r, EXIT_FAIL, "vgcfgrestore failed:\n%s", lvm_errors(c->lvm));
	resurrect_action(r, "LVM's transaction_id of %s/%s: %llu -> %llu (the pool's); the VG "
			 "metadata as it was is in %s", vg, pool, (unsigned long long)tp->lvm_tid,
			 (unsigned long long)tp->kernel_tid, bak);
	return 0;
}

static int step_repair(struct resurrect_ctx *c)
{
	const char *vg = c->opts->vg, *pool = c->facts.lv.pool;
	struct resurrect_report *r = &c->report;
	struct lvrow row;
	char meta0[160];

	if (lvm_run(c->lvm, NULL, "lvconvert -y --repair %s/%s", vg, pool))
		return resurrect_result(r, EXIT_FAIL, "lvconvert --repair %s/%s failed:\n%s\nthe "
					"pool is inactive; its metadata is as found", vg, pool,
					lvm_errors(c->lvm));
	snprintf(meta0, sizeof(meta0), "%s_meta0", pool);
	if (lvm_lvs(c->lvm, vg, meta0, &row) < 0)
		return resurrect_result(r, EXIT_FAIL, "lvconvert --repair %s/%s did not leave the old "
					"metadata as %s/%s: stopping here (the pool is inactive)",
					vg, pool, vg, meta0);
	resurrect_action(r, "lvconvert --repair %s/%s: thin_repair wrote new metadata; the old "
			 "one is %s/%s (%s), kept", vg, pool, vg, meta0, row.attr);
	c->repaired = 1;
	r->undo_what = "the repair";
	snprintf(r->undo_cmd, sizeof(r->undo_cmd), "deactivate the pool's thin volumes and "
		 "lvchange -an %s/%s, then: lvconvert --thinpool %s/%s --poolmetadata %s/%s (swaps "
		 "the old metadata back in; the repaired one becomes %s/%s)", vg, pool, vg, pool,
		 vg, meta0, vg, meta0);
	return 0;
}

static int step_activate_all(struct resurrect_ctx *c)
{
	const struct resurrect_pool *tp = &c->facts.tp;
	const char *vg = c->opts->vg, *lv = c->opts->lv;
	struct dmdev_pool_status ps;

	if (lvm_run(c->lvm, NULL, "lvchange -ay %s/%s", vg, lv))
		return resurrect_result(&c->report, EXIT_FAIL, "activation of %s/%s failed:\n%s",
					vg, lv, lvm_errors(c->lvm));
	resurrect_action(&c->report, "lvchange -ay %s/%s", vg, lv);
	for (int i = 0; i < tp->nlvs; i++) {
		if (!c->was_active[i] || !strcmp(tp->lvs[i].name, lv))
			continue;
		if (lvm_run(c->lvm, NULL, "lvchange -ay -K %s/%s", vg, tp->lvs[i].name))
			resurrect_say(&c->report, "warning: cannot activate %s/%s again:\n%s", vg,
				      tp->lvs[i].name, lvm_errors(c->lvm));
		else
			resurrect_action(&c->report, "lvchange -ay -K %s/%s (active before)", vg,
					 tp->lvs[i].name);
	}
	if (dmdev_pool_status(c->facts.names.pool_dm, &ps) < 0 || ps.read_only || ps.fail)
		return resurrect_result(&c->report, EXIT_FAIL, "the pool is not writable after "
					"activation; see lvmthin(7)");
	snprintf(c->report.status, sizeof(c->report.status), "pool read-write, data %llu/%llu, "
		 "metadata %llu/%llu, transaction id %llu", (unsigned long long)ps.used_data,
		 (unsigned long long)ps.total_data, (unsigned long long)ps.used_meta,
		 (unsigned long long)ps.total_meta, (unsigned long long)ps.transaction_id);
	resurrect_action(&c->report, "pool status: %s", c->report.status);
	return 0;
}

/* Blocks mapped by the active thin device @dm ("thin MAPPED HIGHEST"). */
static int64_t mapped_now(const char *dm, uint32_t block_sectors)
{
	unsigned long long start, len, mapped;
	char *lines = NULL, type[16];
	int64_t r = -1;

	if (dmdev_get_lines(dm, 1, &lines) == 0 && block_sectors &&
	    sscanf(lines, "%llu %llu %15s %llu", &start, &len, type, &mapped) == 4 &&
	    !strcmp(type, "thin"))
		r = (int64_t)(mapped / block_sectors);
	free(lines);
	return r;
}

/* An inactive thin volume: activated for its check, then deactivated
 * again (as found); --no-fsck leaves it alone.  Returns: 0, or -1 when the
 * check of the named volume stopped the plan. */
static int check_inactive(struct resurrect_ctx *c, const struct resurrect_thin_lv *t, int mine,
			  int *failed)
{
	const char *vg = c->opts->vg;
	char dm[300], dev[320];
	int r = 0;

	if (c->opts->no_fsck) {
		resurrect_action(&c->report, "%s/%s: inactive (as found): not checked (--no-fsck)",
				 vg, t->name);
		return 0;
	}
	if (lvm_run(c->lvm, NULL, "lvchange -ay -K %s/%s", vg, t->name)) {
		resurrect_action(&c->report, "%s/%s: inactive, cannot be activated to be checked: %s",
				 vg, t->name, lvm_errors(c->lvm));
		*failed = 1;
		return 0;
	}
	dmdev_lv_name(vg, t->name, "", dm, sizeof(dm));
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", dm);
	if (resurrect_fsck(c, dev) < 0) {
		if (mine)
			r = -1;
		*failed = 1;
	}
	if (lvm_run(c->lvm, NULL, "lvchange -an %s/%s", vg, t->name))
		resurrect_say(&c->report, "warning: cannot deactivate %s/%s again:\n%s", vg, t->name,
			      lvm_errors(c->lvm));
	else
		resurrect_action(&c->report, "%s/%s: was inactive: activated for the check, "
				 "deactivated again", vg, t->name);
	return r;
}

/* One thin volume after the recovery: its state, mapped blocks, e2fsck. */
static int thin_volume(struct resurrect_ctx *c, const struct resurrect_thin_lv *t, int *failed)
{
	const char *vg = c->opts->vg;
	char dm[300], dev[320], was[96] = "";
	int open, mine = !strcmp(t->name, c->opts->lv);
	int64_t now;

	if (t->lost[0] && c->repaired)
		resurrect_action(&c->report, "%s/%s: the repair dropped the mappings the old metadata "
				 "could not give (up to %llu of its %llu mapped blocks): %s", vg,
				 t->name, (unsigned long long)t->lost_blocks,
				 (unsigned long long)t->mapped_blocks, t->lost);
	if (!dm_active(vg, t->name, &open))
		return check_inactive(c, t, mine, failed);
	dmdev_lv_name(vg, t->name, "", dm, sizeof(dm));
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", dm);
	now = mapped_now(dm, c->facts.tp.block_sectors ? c->facts.tp.block_sectors :
					  (uint32_t)(c->facts.pool.chunk / 512));
	if (t->mapped_blocks && now >= 0 && (uint64_t)now < t->mapped_blocks)
		snprintf(was, sizeof(was), ", %llu before: %llu lost", (unsigned long long)
			 t->mapped_blocks, (unsigned long long)(t->mapped_blocks - (uint64_t)now));
	resurrect_action(&c->report, "%s/%s: active, %lld blocks mapped%s%s", vg, t->name,
			 (long long)now, was, open ? ", in use: not checked" : "");
	if (open)
		return 0;
	if (resurrect_fsck(c, dev) < 0) {
		if (mine)
			return -1;
		*failed = 1;
	}
	return 0;
}

static int step_volumes(struct resurrect_ctx *c)
{
	const struct resurrect_pool *tp = &c->facts.tp;
	int failed = 0;

	for (int i = 0; i < tp->nlvs; i++)
		if (thin_volume(c, &tp->lvs[i], &failed) < 0)
			return -1;
	if (failed)
		return resurrect_result(&c->report, EXIT_FAIL, "%s/%s is writable again, but "
					"e2fsck still finds problems on another volume of the pool "
					"(listed): check it by hand", c->opts->vg, c->opts->lv);
	return 0;
}

int resurrect_thin_step(struct resurrect_ctx *c, const struct resurrect_step *s)
{
	switch (s->type) {
	case STEP_THIN_DEACTIVATE:
		return step_deactivate_all(c);
	case STEP_POOL_FIX_TXID:
		return step_fix_txid(c);
	case STEP_POOL_REPAIR:
		return step_repair(c);
	case STEP_THIN_ACTIVATE:
		return step_activate_all(c);
	case STEP_THIN_VOLUMES:
		return step_volumes(c);
	default:
		return resurrect_result(&c->report, EXIT_FAIL, "internal error: step %d is not a "
					"thin pool's", (int)s->type);
	}
}
