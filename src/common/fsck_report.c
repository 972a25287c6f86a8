/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsimage.h"
#include "fsck_report.h"
#include "fsckrun.h"

void fsck_report_init(struct fsck_report *r, const struct fsview *fv,
		      const struct fsck_checker *checker, const struct fsck_fs_ops *ops,
		      void *fs)
{
	memset(r, 0, sizeof(*r));
	r->fv = fv;
	r->checker = checker;
	r->ops = ops;
	r->fs = fs;
	r->checker_status = -1;
}

void fsck_report_free(struct fsck_report *r)
{
	free(r->findings);
	free(r->checker_output);
	r->findings = NULL;
	r->checker_output = NULL;
	r->nfindings = 0;
}

void fsck_add_finding(struct fsck_report *r, enum fsck_severity sev, const char *code,
		      const char *fmt, ...)
{
	struct fsck_finding *f;
	va_list ap;

	f = realloc(r->findings, (r->nfindings + 1) * sizeof(*f));
	if (!f)
		errx(FSCK_EXIT_OPERROR, "out of memory");
	r->findings = f;
	f += r->nfindings++;
	f->sev = sev;
	snprintf(f->code, sizeof(f->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

void fsck_add_pending(struct fsck_report *r, const struct fsck_pending *p)
{
	if (r->npending < FSCK_MAX_PENDING)
		r->pending[r->npending++] = *p;
}

void fsck_add_step(struct fsck_report *r, const char *label, const char *fmt, ...)
{
	struct fsview_step *st;
	va_list ap;

	if (r->nsteps >= FSCK_MAX_STEPS)
		return;
	st = &r->steps[r->nsteps++];
	snprintf(st->label, sizeof(st->label), "%s", label);
	va_start(ap, fmt);
	vsnprintf(st->text, sizeof(st->text), fmt, ap);
	va_end(ap);
}

/* ---- --full: the checker on a sparse copy of the view --------------------- */

void fsck_run_checker(struct fsck_report *r)
{
	const struct fsck_checker *c = r->checker;
	char *argv[16], *out = NULL, why[4400], prog[4096];
	struct fsimage im;
	size_t n = 0;
	int err, st;

	if (!checker_locate(c->name, why, sizeof(why))) {
		fsck_add_finding(r, FSCK_SEV_ERROR, "full", "--full: %s", why);
		return;
	}
	if (fsimage_create(&im, "snap_fsck", r->fv->vs.size, why, sizeof(why)) < 0) {
		fsck_add_finding(r, FSCK_SEV_ERROR, "full", "--full: %s", why);
		return;
	}
	err = fsimage_copy(&im, r->fv->vs.view, 0, r->fv->vs.size);
	if (err < 0) {
		fsck_add_finding(r, FSCK_SEV_ERROR, "full", "--full: cannot write the view to "
				 "%s: %s", im.path, strerror(-err));
		fsimage_remove(&im);
		return;
	}
	if (c->prepare && c->prepare(r, &im) < 0) {
		fsimage_remove(&im);
		return;
	}
	/* found again: prepare() may have run other programs */
	snprintf(prog, sizeof(prog), "%s", checker_locate(c->name, NULL, 0) ?: c->name);
	argv[n++] = prog;
	for (size_t i = 0; c->args[i] && n < sizeof(argv) / sizeof(argv[0]) - 2; i++)
		argv[n++] = (char *)c->args[i];
	argv[n++] = im.path;
	argv[n] = NULL;
	st = checker_run(argv, CHECKER_CAPTURE | c->run_flags, &out);
	if (st < 0)
		errx(FSCK_EXIT_OPERROR, "cannot run %s: %s", prog, strerror(-st));
	fsimage_hide_path(&im, out);
	fsimage_remove(&im);
	r->checker_output = out ? out : strdup("");
	if (!r->checker_output)
		errx(FSCK_EXIT_OPERROR, "out of memory");
	/* 127: it could not be run; above 128: a signal killed it. */
	if (st == 127 || st > 128) {
		fsck_add_finding(r, FSCK_SEV_ERROR, "full", "--full: %s did not run", prog);
		return;
	}
	r->checker_ran = 1;
	r->checker_status = st;
	r->checker_code = c->judge(st, &r->checker_found);
}

/* ---- verdict --------------------------------------------------------------- */

/* What each pending state adds when the checker found problems. */
static const char *found_suffix(const struct fsck_report *r, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < r->npending; i++)
		if (r->pending[i].checker_found && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s", r->pending[i].checker_found);
	return buf;
}

void fsck_report_decide(struct fsck_report *r)
{
	const struct fsck_pending *p = r->npending ? &r->pending[0] : NULL;
	const char *label = r->checker->label;
	size_t i, errors = 0;
	char suffix[128];

	for (i = 0; i < r->nfindings; i++)
		if (r->findings[i].sev == FSCK_SEV_ERROR)
			errors++;
	r->verdict_code = r->checker_ran ? r->checker_code : FSCK_EXIT_OK;
	if (errors || r->marked_errors || r->npending)
		r->verdict_code |= FSCK_EXIT_ERRORS;
	if (r->checker_ran && r->checker_found)
		snprintf(r->verdict, sizeof(r->verdict),
			 "errors: %s found problems it did not fix%s", label,
			 found_suffix(r, suffix, sizeof(suffix)));
	else if (errors || r->marked_errors)
		snprintf(r->verdict, sizeof(r->verdict),
			 "errors: %zu problem%s found%s; run %s on an extracted copy", errors,
			 errors == 1 ? "" : "s",
			 r->marked_errors ? " and the filesystem is marked as having errors" : "",
			 r->checker->name);
	else if (p)
		snprintf(r->verdict, sizeof(r->verdict), "%s%s", p->verdict,
			 r->checker_ran && p->checker_clean ? p->checker_clean : "");
	else
		snprintf(r->verdict, sizeof(r->verdict), "clean%s%s%s",
			 r->checker_ran ? " (" : "", r->checker_ran ? label : "",
			 r->checker_ran ? " agrees)" : "");
}

/* ---- output ---------------------------------------------------------------- */

static const char *sev_name(enum fsck_severity s)
{
	return s == FSCK_SEV_ERROR ? "error" : s == FSCK_SEV_WARNING ? "warning" : "info";
}

static void print_checker_human(const struct fsck_report *r)
{
	const char *p = r->checker_output, *nl;
	char label[64], st[160];

	snprintf(label, sizeof(label), "%s:", r->checker->label);
	printf("%-15s exit %d (%s)\n", label, r->checker_status,
	       r->checker->meaning(r->checker_status, st, sizeof(st)));
	while (p && *p) {
		nl = strchr(p, '\n');
		printf("  | %.*s\n", (int)(nl ? nl - p : (ptrdiff_t)strlen(p)), p);
		p = nl ? nl + 1 : NULL;
	}
}

static void print_human(const struct fsck_report *r)
{
	const struct fsview *fv = r->fv;
	char sz[32];
	size_t i;

	fsview_print_store(fv, 16);
	printf("view:           %s, %s\n", format_size(fv->vs.size, sz, sizeof(sz)),
	       fv->vs.zero_origin ? "zero origin" : fv->vs.origin);
	r->ops->print_human(r);
	fsview_print_steps(r->steps, r->nsteps, 16);
	if (r->checker_ran)
		print_checker_human(r);
	for (i = 0; i < r->nfindings; i++)
		printf("%s: %s\n", sev_name(r->findings[i].sev), r->findings[i].msg);
	printf("verdict:        %s (exit %d)\n", r->verdict, r->verdict_code);
}

static json_object *findings_json(const struct fsck_report *r)
{
	json_object *a = json_object_new_array(), *f;

	for (size_t i = 0; i < r->nfindings; i++) {
		f = json_object_new_object();
		json_object_object_add(f, "severity",
				       json_object_new_string(sev_name(r->findings[i].sev)));
		json_object_object_add(f, "code", json_object_new_string(r->findings[i].code));
		json_object_object_add(f, "message", json_object_new_string(r->findings[i].msg));
		json_object_array_add(a, f);
	}
	return a;
}

static void print_json(const struct fsck_report *r)
{
	const struct fsview *fv = r->fv;
	json_object *o = fsview_json_new(fv), *f;
	char st[160];
	const char *meaning = r->checker->meaning(r->checker_status, st, sizeof(st));

	json_object_object_add(o, "view_bytes", json_object_new_int64((int64_t)fv->vs.size));
	json_object_object_add(o, "origin", json_object_new_string(fv->vs.zero_origin ? "zero" :
								       fv->vs.origin));
	json_object_object_add(o, "type", json_object_new_string(r->fstype));
	r->ops->add_json(r, o);
	fsview_json_add_steps(o, r->steps, r->nsteps);
	json_object_object_add(o, "findings", findings_json(r));
	if (r->checker_ran) {
		f = json_object_new_object();
		json_object_object_add(f, "exit", json_object_new_int(r->checker_status));
		json_object_object_add(f, "meaning", json_object_new_string(meaning));
		json_object_object_add(f, "output", json_object_new_string(r->checker_output));
		json_object_object_add(o, r->checker->key ? r->checker->key : r->checker->name, f);
	}
	json_object_object_add(o, "verdict", json_object_new_string(r->verdict));
	json_object_object_add(o, "exit", json_object_new_int(r->verdict_code));
	fsview_json_print(o);
}

void fsck_report_print(const struct fsck_report *r, int quiet)
{
	if (r->fv->format == FSVIEW_JSON)
		print_json(r);
	else if (!quiet || r->verdict_code)
		print_human(r);
}
