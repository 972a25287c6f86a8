/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The report of a filesystem check of a snapshot view, whatever the
 * filesystem: findings (severity, stable code, message), the states that
 * are not errors but must be resolved before the filesystem is consistent
 * (a journal to replay, orphans to release), the filesystem's own checker
 * run on a sparse temporary copy of the view (--full), the verdict with its
 * fsck exit code, and the human and JSON output.
 *
 * A filesystem module (fsck_ext2.c, fsck_xfs.c, fsck_btrfs.c) fills it: it
 * names its checker (struct fsck_checker), adds findings, pending states
 * and the steps it took (what it read, a log replayed on the copy), and
 * prints its own figures through struct fsck_fs_ops, between the view and
 * the findings.  Nothing here knows one filesystem from another.
 */
#ifndef SNAPRESCUE_FSCK_REPORT_H
#define SNAPRESCUE_FSCK_REPORT_H

#include <json-c/json.h>
#include <stddef.h>

#include "fsimage.h"
#include "fsview.h"
#include "tool.h"

enum fsck_severity {
	FSCK_SEV_INFO,
	FSCK_SEV_WARNING,
	FSCK_SEV_ERROR,
};

struct fsck_finding {
	enum fsck_severity sev;
	char code[32]; /* stable, e.g. "group-desc-csum" */
	char msg[256];
};

/* A state that makes the verdict "not consistent yet" (exit 4) without
 * being an error.  The first one added names the verdict. */
struct fsck_pending {
	const char *verdict;       /* the verdict when nothing is worse */
	const char *checker_clean; /* appended when the checker ran and found nothing */
	const char *checker_found; /* appended when the checker found problems (may be NULL) */
};

struct fsck_report;

/* The filesystem's own checker, run read-only on a copy of the view. */
struct fsck_checker {
	const char *name;         /* "e2fsck": found with checker_locate() (its environment
				     variable is in fsckrun.c's table); the JSON key, and
				     what the verdict says to run on an extracted copy */
	const char *key;          /* the JSON key when not @name (NULL: @name) */
	const char *const *args;  /* its options (NULL-terminated); the image goes last */
	const char *label;        /* "e2fsck -fn": in the output and the verdict */
	unsigned int run_flags;   /* checker_run() flags besides CHECKER_CAPTURE */
	/* Its exit status in words (into @buf; returns @buf). */
	const char *(*meaning)(int status, char *buf, size_t len);
	/* The fsck exit bits its exit status adds to the verdict; *@found: it
	 * found problems it did not fix. */
	int (*judge)(int status, int *found);
	/* NULL, or what to do to the full copy @im before the checker runs
	 * (e.g. replay a log); it adds its steps and findings.  Returns: 0, or
	 * -1 not to run the checker. */
	int (*prepare)(struct fsck_report *r, struct fsimage *im);
};

/* The filesystem module's figures, printed after the view (human) or
 * after "type" (JSON). */
struct fsck_fs_ops {
	void (*print_human)(const struct fsck_report *r);
	void (*add_json)(const struct fsck_report *r, json_object *o);
};

#define FSCK_MAX_PENDING 4
#define FSCK_MAX_STEPS 6


struct fsck_report {
	const struct fsview *fv;
	char fstype[128];
	const struct fsck_checker *checker;
	const struct fsck_fs_ops *ops;
	void *fs; /* the filesystem module's figures, for @ops and @checker->prepare */
	struct fsck_finding *findings;
	size_t nfindings;
	int marked_errors; /* the filesystem itself says it has errors */
	struct fsck_pending pending[FSCK_MAX_PENDING];
	size_t npending;
	struct fsview_step steps[FSCK_MAX_STEPS]; /* what was read, copied, replayed */
	size_t nsteps;
	/* --full */
	int checker_ran;
	int checker_status; /* its exit status when it ran */
	int checker_code;   /* judge(): fsck exit bits */
	int checker_found;  /* judge(): it found problems */
	char *checker_output;
	/* fsck_report_decide() */
	int verdict_code;
	char verdict[768];
};

void fsck_report_init(struct fsck_report *r, const struct fsview *fv,
		      const struct fsck_checker *checker, const struct fsck_fs_ops *ops,
		      void *fs);
void fsck_report_free(struct fsck_report *r);

void fsck_add_finding(struct fsck_report *r, enum fsck_severity sev, const char *code,
		      const char *fmt, ...) PRINTF_LIKE(4, 5);

/* Add a pending state (at most FSCK_MAX_PENDING; @p's strings are not
 * copied). */
void fsck_add_pending(struct fsck_report *r, const struct fsck_pending *p);

/* A step (at most FSCK_MAX_STEPS; @label up to 23 characters). */
void fsck_add_step(struct fsck_report *r, const char *label, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

/* --full: write the view to a sparse file in a new directory under
 * $TMPDIR (default /var/tmp) (fsimage.h), let the checker's prepare() act
 * on it, run the checker on it with its output captured (the file's path
 * shown as "<view>"), remove both (also on SIGINT/SIGTERM and at exit).
 * What goes wrong is a finding. */
void fsck_run_checker(struct fsck_report *r);

/* The verdict and the exit code: 0 clean, 4 errors or a pending state,
 * 8 when the checker says it failed. */
void fsck_report_decide(struct fsck_report *r);

/* Print the report in @r->fv->format: always as JSON; as text unless
 * @quiet and the verdict is clean. */
void fsck_report_print(const struct fsck_report *r, int quiet);

#endif
