/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_resurrect's classification and driver (see resurrect.h): read what
 * LVM, the kernel and the COW say, let resurrect_plan() decide, get the
 * facts it asks for, say the plan, ask, and hand it to resurrect_execute().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resurrect.h"
#include "target.h"

static int store_error(struct resurrect_store *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int store_error(struct resurrect_store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	return -1;
}

static int check_store(const char *dev, int fd, struct resurrect_store *s,
		       struct snapcow_identity *id)
{
	struct snapcow_check_options copt = { .skip_data_scan = 1 };
	struct snapcow_check_result res;
	struct snapcow_store *st;
	int r;

	r = snapcow_store_open_fd(tool_ctx(), fd, dev, 0, &st);
	if (r < 0)
		return store_error(s, "%s: not a usable exception store: %s; nothing changed", dev,
				   snapcow_strerror(r));
	r = snapcow_store_check(st, &copt, NULL, NULL, &res);
	if (r < 0)
		r = store_error(s, "%s: cannot check the exception table: %s; nothing changed",
				dev, snapcow_strerror(r));
	else if (res.errors)
		r = store_error(s, "%s: the exception table has %llu error%s: not resurrecting it "
				"(run 'snap_check %s' to see %s); nothing changed", dev,
				(unsigned long long)res.errors, res.errors > 1 ? "s" : "", dev,
				res.errors > 1 ? "them" : "it");
	if (r < 0) {
		snapcow_store_free(st);
		return r;
	}
	s->stats = res.stats;
	s->chunk = snapcow_store_chunk_bytes(st);
	s->size = snapcow_store_size(st);
	s->header_valid = snapcow_store_header(st)->valid;
	snapcow_store_free(st);
	r = store_identity(fd, id);
	if (r < 0)
		return store_error(s, "%s: %s", dev, snapcow_strerror(r));
	return 0;
}

int resurrect_read_store(const char *dev, struct resurrect_store *s, struct snapcow_identity *id)
{
	int fd, r;

	memset(s, 0, sizeof(*s));
	s->read = 1;
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return store_error(s, "cannot open %s: %s", dev, strerror(errno));
	/* the kernel writes the COW with dm-io, past our page cache */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	r = check_store(dev, fd, s, id);
	close(fd);
	return r;
}

/* ---- classify --------------------------------------------------------- */

static void names_init(struct resurrect_ctx *c)
{
	struct resurrect_names *n = &c->facts.names;
	const char *vg = c->opts->vg, *lv = c->opts->lv;

	dmdev_lv_name(vg, lv, "", n->dm, sizeof(n->dm));
	snprintf(n->dev, sizeof(n->dev), "/dev/mapper/%s", n->dm);
	dmdev_lv_name(vg, lv, "-cow", n->cow_dm, sizeof(n->cow_dm));
	snprintf(n->cow_dev, sizeof(n->cow_dev), "/dev/mapper/%s", n->cow_dm);
	snprintf(n->temp_dm, sizeof(n->temp_dm), "snaprescue-%s", n->cow_dm);
	if (c->facts.kind == RESURRECT_THIN)
		dmdev_lv_name(vg, c->facts.lv.pool, "-tpool", n->pool_dm, sizeof(n->pool_dm));
}

/* The LV's row, its origin's (snapshots), the kind. */
static int classify_rows(struct resurrect_ctx *c)
{
	struct resurrect_facts *f = &c->facts;
	const char *vg = c->opts->vg, *lv = c->opts->lv, *errs;

	if (lvm_lvs(c->lvm, vg, lv, &f->lv) < 0) {
		errs = lvm_errors(c->lvm);
		return resurrect_result(&c->report, EXIT_FAIL, "cannot find %s/%s:\n%s", vg, lv,
					errs[0] ? errs : "  (no such logical volume)");
	}
	if (resurrect_is_snapshot(&f->lv) && lvm_lvs(c->lvm, vg, f->lv.origin, &f->origin) < 0)
		return resurrect_result(&c->report, EXIT_FAIL, "cannot read the origin %s/%s:\n%s",
					vg, f->lv.origin, lvm_errors(c->lvm));
	f->kind = resurrect_kind_of(&f->lv, &f->origin);
	c->report.kind = resurrect_kind_name(f->kind);
	names_init(c);
	return 0;
}

static int classify_thin(struct resurrect_ctx *c)
{
	struct resurrect_facts *f = &c->facts;

	if (lvm_lvs(c->lvm, c->opts->vg, f->lv.pool, &f->pool) < 0)
		return resurrect_result(&c->report, EXIT_FAIL, "cannot read thin pool %s/%s:\n%s",
					c->opts->vg, f->lv.pool, lvm_errors(c->lvm));
	return resurrect_classify_pool(c);
}

/* The kernel's view of the snapshot; @activated: we just activated it. */
static int classify_snapshot(struct resurrect_ctx *c, int activated)
{
	struct resurrect_facts *f = &c->facts;
	struct dmdev_info info = { 0 };
	int r;

	r = dmdev_get_info(f->names.dm, &info);
	f->active = activated || (r == 0 && info.exists);
	if (!f->active)
		return 0;
	f->open_count = r == 0 ? info.open_count : 0;
	r = dmdev_snapshot_status(f->names.dm, &f->snap);
	if (r < 0)
		return resurrect_result(&c->report, EXIT_FAIL, "%s: cannot read the snapshot "
					"status: %s", f->names.dm, strerror(-r));
	return 0;
}

/* The COW's figures, and the undo file a header write would make. */
static int classify_store(struct resurrect_ctx *c)
{
	struct resurrect_facts *f = &c->facts;
	time_t now = time(NULL);
	char stamp[32];
	struct tm tm;

	resurrect_read_store(f->names.cow_dev, &f->store, &c->cow_id);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(f->undo, sizeof(f->undo), "snap_resurrect-%s-%s-%s.undo", c->opts->vg,
		 c->opts->lv, stamp);
	f->undo_exists = access(f->undo, F_OK) == 0;
	return 0;
}

/* ---- the driver ------------------------------------------------------- */

/* Ask, unless -y; without a terminal, -y is required. */
static int confirm(struct resurrect_ctx *c)
{
	char line[16];

	if (c->opts->yes)
		return 0;
	if (!isatty(STDIN_FILENO))
		return resurrect_result(&c->report, EXIT_FAIL, "not changing anything without "
					"confirmation: stdin is not a terminal; review the plan "
					"(-n) and run again with -y");
	printf("Proceed? [y/N] ");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
		return resurrect_result(&c->report, EXIT_FAIL, "cancelled: nothing changed");
	return 0;
}

/* The snapshot is not active: activate it (asking first) to read its COW. */
static int activate_to_read(struct resurrect_ctx *c)
{
	const char *vg = c->opts->vg, *lv = c->opts->lv;

	if (confirm(c))
		return -1;
	if (lvm_run(c->lvm, NULL, "lvchange -ay %s/%s", vg, lv))
		return resurrect_result(&c->report, EXIT_FAIL, "cannot activate %s/%s to read its "
					"COW:\n%s", vg, lv, lvm_errors(c->lvm));
	resurrect_action(&c->report, "lvchange -ay %s/%s (to read the COW)", vg, lv);
	return classify_snapshot(c, 1);
}

/* Plan with the facts known so far; say the notes not said yet. */
static void replan(struct resurrect_ctx *c, int *said)
{
	struct resurrect_plan *p = &c->plan;

	resurrect_plan(&c->facts, c->opts, p);
	for (; *said < p->nnotes; (*said)++)
		resurrect_say(&c->report, "%s", p->notes[*said]);
	snprintf(c->report.status, sizeof(c->report.status), "%s", p->status);
	c->report.exceptions = p->exceptions;
}

/* Gather facts until the plan is decided.  Returns: 0 (a plan to run) or
 * -1 (the report has the result). */
static int classify_and_plan(struct resurrect_ctx *c)
{
	int said = 0, r = 0;

	if (classify_rows(c))
		return -1;
	if (c->facts.kind == RESURRECT_THIN)
		r = classify_thin(c);
	else if (c->facts.kind != RESURRECT_UNSUPPORTED)
		r = classify_snapshot(c, 0);
	/* each round adds a fact the plan asked for: three rounds at most */
	for (int round = 0; !r && round < 3; round++) {
		replan(c, &said);
		switch (c->plan.verdict) {
		case RESURRECT_GO:
			return 0;
		case RESURRECT_STOP:
			return resurrect_result(&c->report, c->plan.exit_code, "%s",
						c->plan.message);
		case RESURRECT_ACTIVATE_FIRST:
			r = activate_to_read(c);
			break;
		case RESURRECT_READ_STORE:
			r = classify_store(c);
			break;
		}
	}
	return r ? -1 : resurrect_result(&c->report, EXIT_FAIL, "internal error: the plan keeps "
					 "asking for facts; nothing changed");
}

int resurrect_run(struct resurrect_ctx *c)
{
	resurrect_report_init(&c->report, c->opts);
	if (classify_and_plan(c) == 0) {
		resurrect_print_plan(&c->report, &c->plan);
		if (c->opts->dry_run)
			resurrect_result(&c->report, EXIT_OK, "dry run: nothing changed");
		else if (confirm(c) == 0)
			resurrect_execute(c);
	}
	return c->report.code;
}

void resurrect_ctx_release(struct resurrect_ctx *c)
{
	free(c->cow_table);
	c->cow_table = NULL;
}
