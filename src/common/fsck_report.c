/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract.h"
#include "fsck_report.h"
#include "fsckrun.h"

void fsck_report_init(struct fsck_report *r, const struct fsview *fv,
		      const struct fsck_checker *checker, const struct fsck_fs_ops *ops,
		      const void *fs)
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

/* ---- --full: the checker on a sparse copy of the view --------------------- */

static char tmp_dir[4096], tmp_image[4200];

static void remove_tmp(void)
{
	if (tmp_image[0])
		unlink(tmp_image);
	if (tmp_dir[0])
		rmdir(tmp_dir);
	tmp_image[0] = tmp_dir[0] = 0;
}

static void on_signal(int sig)
{
	remove_tmp();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A new directory under $TMPDIR, removed at exit or on a signal, and the
 * image's path in it.  Returns 0, or -1 after a finding. */
static int make_tmp(struct fsck_report *r)
{
	static int registered;
	const char *tmp = getenv("TMPDIR");
	const char *where = tmp && *tmp ? tmp : "/var/tmp";
	int err;

	snprintf(tmp_dir, sizeof(tmp_dir), "%s/snap_fsck.XXXXXX", where);
	if (!mkdtemp(tmp_dir)) {
		err = errno;
		tmp_dir[0] = 0;
		fsck_add_finding(r, FSCK_SEV_ERROR, "full", "--full: cannot create a temporary "
				 "directory in %s: %s", where, strerror(err));
		return -1;
	}
	if (!registered) {
		atexit(remove_tmp);
		registered = 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(tmp_image, sizeof(tmp_image), "%s/view.img", tmp_dir);
	return 0;
}

/* Write the view to @path: only the ranges that come from the store or the
 * origin, all-zero blocks left as holes. */
static int extract_sparse(struct snapcow_view *v, const char *path)
{
	uint64_t size = snapcow_view_size(v);
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		r = -errno;
	if (!r)
		r = extract_copy_sparse(v, fd, 0, size, NULL);
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

/* The checker names the temporary image: say "<view>" instead (in place:
 * the replacement is shorter). */
static void hide_tmp_path(char *out)
{
	const size_t tl = strlen(tmp_image);
	char *p;

	while (out && tl && (p = strstr(out, tmp_image))) {
		memcpy(p, "<view>", 6);
		memmove(p + 6, p + tl, strlen(p + tl) + 1);
	}
}

void fsck_run_checker(struct fsck_report *r)
{
	const struct fsck_checker *c = r->checker;
	const char *prog = checker_find(c->name, c->envvar);
	char *argv[16], *out = NULL;
	size_t n = 0;
	int err, st;

	if (make_tmp(r) < 0)
		return;
	err = extract_sparse(r->fv->vs.view, tmp_image);
	if (err < 0) {
		fsck_add_finding(r, FSCK_SEV_ERROR, "full", "--full: cannot write the view to "
				 "%s: %s", tmp_image, strerror(-err));
		remove_tmp();
		return;
	}
	argv[n++] = (char *)prog;
	for (size_t i = 0; c->args[i] && n < sizeof(argv) / sizeof(argv[0]) - 2; i++)
		argv[n++] = (char *)c->args[i];
	argv[n++] = tmp_image;
	argv[n] = NULL;
	st = checker_run(argv, CHECKER_CAPTURE | c->run_flags, &out);
	if (st < 0)
		errx(FSCK_EXIT_OPERROR, "cannot run %s: %s", prog, strerror(-st));
	hide_tmp_path(out);
	remove_tmp();
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
	printf("%-16sexit %d (%s)\n", label, r->checker_status,
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
	json_object_object_add(o, "findings", findings_json(r));
	if (r->checker_ran) {
		f = json_object_new_object();
		json_object_object_add(f, "exit", json_object_new_int(r->checker_status));
		json_object_object_add(f, "meaning", json_object_new_string(meaning));
		json_object_object_add(f, "output", json_object_new_string(r->checker_output));
		json_object_object_add(o, r->checker->name, f);
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
