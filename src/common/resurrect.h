/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_resurrect's work: bring an overflowed LVM snapshot or sparse volume,
 * or a thin volume whose pool ran out of space, back to a valid, checked
 * state, in four parts:
 *
 *   classify  resurrect.c         lvs rows, dm status, the COW's figures
 *   plan      resurrect_plan.c    a pure function of those facts: the sizes,
 *                                 the steps, or a refusal, with its words
 *   execute   resurrect_exec.c    the plan's steps; rollback on failure
 *   report    resurrect_report.c  human or JSON, printed once, at the end
 *
 * The plan that -n prints and the plan that runs are the same struct.
 * Each step leaves the volume no worse than found: before the header is
 * written only the COW size changed; after it, a failure restores the old
 * header from the undo file and activates the volume as found.
 */
#ifndef SNAPRESCUE_RESURRECT_H
#define SNAPRESCUE_RESURRECT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "devcheck.h"
#include "dmdev.h"
#include "lvm.h"
#include "snapcow.h"
#include "tool.h"

enum resurrect_kind {
	RESURRECT_UNSUPPORTED,
	RESURRECT_SPARSE,  /* snapshot of the zero target (lvcreate --type snapshot -V) */
	RESURRECT_CLASSIC, /* snapshot of a real origin */
	RESURRECT_THIN,    /* thin volume */
};

enum resurrect_size_mode {
	RESURRECT_SIZE_AUTO, /* --auto (default) */
	RESURRECT_SIZE_ADD,  /* --size +N */
	RESURRECT_SIZE_TO,   /* --size N */
};

struct resurrect_opts {
	char vg[128], lv[128];
	int dry_run, no_fsck, accept_drift, yes, json;
	int zero_log; /* the log may be destroyed when a mount cannot replay it */
	enum resurrect_size_mode size_mode;
	uint64_t size; /* bytes */
};

/* ==== Facts (classify) ================================================ */

/* The COW as libsnapcow's check sees it through the live -cow device. */
struct resurrect_store {
	int read;             /* 0: not read (yet) */
	char error[640];      /* why it cannot be used (the whole refusal), "" if it can */
	uint64_t size, chunk; /* bytes; chunk is never 0 when error is "" */
	struct snapcow_stats stats;
	uint32_t header_valid;
};

struct resurrect_names {
	char dm[300];      /* VG-LV */
	char dev[320];     /* /dev/mapper/VG-LV */
	char cow_dm[300];  /* snapshots: VG-LV-cow */
	char cow_dev[320]; /* /dev/mapper/VG-LV-cow */
	char temp_dm[320]; /* snaprescue-VG-LV-cow: the temporary device */
	char pool_dm[300]; /* thin: VG-POOL-tpool */
};

struct resurrect_facts {
	enum resurrect_kind kind;
	struct lvrow lv;     /* the volume */
	struct lvrow origin; /* snapshots: its origin */
	struct lvrow pool;   /* thin: its pool */
	struct resurrect_names names;
	/* snapshots */
	int active; /* its dm device exists (then snap and open_count are set) */
	int open_count;
	struct dmdev_snapshot_status snap;
	struct resurrect_store store;
	char undo[PATH_MAX]; /* the undo file a header write would make (relative) */
	int undo_exists;
	/* thin */
	struct dmdev_pool_status pool_status;
};

/* ==== The plan ========================================================= */

enum resurrect_verdict {
	RESURRECT_GO,             /* run the steps */
	RESURRECT_STOP,           /* refused, or nothing to do: exit_code, message */
	RESURRECT_ACTIVATE_FIRST, /* the snapshot must be active to be read */
	RESURRECT_READ_STORE,     /* the COW's figures are needed */
};

enum resurrect_step_type {
	STEP_NONE,              /* shown in the plan only */
	STEP_COW_EXTEND,        /* lvextend of the COW */
	STEP_DEACTIVATE,        /* lvchange -an (the COW's table read first) */
	STEP_SET_VALID,         /* header valid through the temporary device */
	STEP_ACTIVATE,          /* lvchange -ay, then the kernel's status */
	STEP_POOL_EXTEND_DATA,  /* lvextend -L +N of the pool */
	STEP_POOL_EXTEND_META,  /* lvextend --poolmetadatasize +N */
	STEP_POOL_REACTIVATE,   /* when the pool stays read-only or failed */
	STEP_FSCK,              /* the filesystem's own check (devcheck.h; unless --no-fsck) */
};

struct resurrect_step {
	enum resurrect_step_type type;
	char cmd[320];  /* the LVM command line it runs, "" if none */
	char text[640]; /* its line in the plan */
	char done[400]; /* the action reported once done, "" when worded as it runs */
};

#define RESURRECT_MAX_NOTES 8
#define RESURRECT_MAX_STEPS 6

struct resurrect_plan {
	enum resurrect_verdict verdict;
	int exit_code;      /* RESURRECT_STOP: EXIT_OK, EXIT_FAIL or EXIT_UNSUPPORTED */
	char message[1024]; /* RESURRECT_STOP: the result; RESURRECT_GO: the result on success */
	/* what was found, said before the plan, in this order; facts only
	 * get added between calls, so an earlier call's notes come first */
	char notes[RESURRECT_MAX_NOTES][640];
	int nnotes;
	char status[128];    /* the kernel's status for the report ("Invalid", ...) */
	uint64_t exceptions; /* in the COW's table (0 until read) */
	int numbered;        /* plan lines "1." (snapshots) or "-" (thin) */
	struct resurrect_step steps[RESURRECT_MAX_STEPS];
	int nsteps;
	/* the figures chosen (bytes) */
	uint64_t cow_size, cow_target, cow_lvm_max, cow_free_after;
	uint64_t pool_data_add, pool_meta_add;
};

/* resurrect_plan.c: no I/O, no LVM, no device-mapper. */

/* Returns: "unsupported", "sparse", "classic" or "thin". */
const char *resurrect_kind_name(enum resurrect_kind k);
/* Returns: 1 if @lv is a snapshot (its origin row is needed to classify). */
int resurrect_is_snapshot(const struct lvrow *lv);
/* The kind of @lv; @origin is read only for a snapshot. */
enum resurrect_kind resurrect_kind_of(const struct lvrow *lv, const struct lvrow *origin);
/* A snapshot status as the kernel prints it: "used/total metadata". */
const char *resurrect_snapshot_status(const struct dmdev_snapshot_status *st, char *buf,
				      size_t len);
/* Decide from @in what to do with opts->vg/opts->lv.  Returns: 0 and *@out
 * (see enum resurrect_verdict), or -EINVAL for an unknown kind. */
int resurrect_plan(const struct resurrect_facts *in, const struct resurrect_opts *opts,
		   struct resurrect_plan *out);

/* ==== The report ======================================================= */

#define RESURRECT_MAX_ACTIONS 16

struct resurrect_report {
	const struct resurrect_opts *opts;
	const char *kind; /* NULL until classified ("unknown") */
	char actions[RESURRECT_MAX_ACTIONS][256];
	int nactions;
	uint64_t exceptions, loaded;
	int fsck_done;          /* a checker ran: @check holds its steps */
	struct devcheck check;
	char undo_cmd[PATH_MAX * 2 + 64];
	char status[128];
	char result[3072];
	int code;
};

/* resurrect_report.c */
void resurrect_report_init(struct resurrect_report *r, const struct resurrect_opts *opts);
/* A progress line: stdout, or stderr under --format json. */
void resurrect_say(const struct resurrect_report *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Something done: listed in the report (and "  done: ..." on stdout now). */
void resurrect_action(struct resurrect_report *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The result and exit code.  Returns: -1 (stop). */
int resurrect_result(struct resurrect_report *r, int code, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
/* "plan:" and the plan's steps. */
void resurrect_print_plan(const struct resurrect_report *r, const struct resurrect_plan *p);
/* The report: human (result on stderr when it failed) or one JSON object. */
void resurrect_print_report(const struct resurrect_report *r);

/* ==== Classify, execute ================================================ */

struct resurrect_ctx {
	const struct resurrect_opts *opts;
	struct lvm *lvm;
	struct resurrect_facts facts;
	struct resurrect_plan plan;
	struct resurrect_report report;
	/* execution: the COW as read again after lvextend */
	struct resurrect_store now;
	struct snapcow_identity cow_id;
	char *cow_table;      /* its table, for the temporary device */
	char undo[PATH_MAX];  /* the undo file (absolute once written) */
};

/* resurrect.c */
/* Read and check the COW through @dev: Returns 0 and *@s and *@id, or -1
 * with the refusal in s->error. */
int resurrect_read_store(const char *dev, struct resurrect_store *s, struct snapcow_identity *id);
/* Classify, plan, say the plan, ask (unless -y), execute: everything but
 * printing the report.  Returns: the exit code (also c->report.code). */
int resurrect_run(struct resurrect_ctx *c);
/* Free what resurrect_run() allocated. */
void resurrect_ctx_release(struct resurrect_ctx *c);

/* resurrect_exec.c: run c->plan's steps (a GO plan) and set the report's
 * result: the plan's message, or where and why it stopped. */
void resurrect_execute(struct resurrect_ctx *c);

#endif
