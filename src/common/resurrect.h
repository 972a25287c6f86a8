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
	int fix_txid; /* --fix-transaction-id: the one confirmation of that change */
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

/* A thin volume of the pool, as LVM lists it and the pool's metadata holds it. */
struct resurrect_thin_lv {
	char name[128];
	uint64_t id;            /* device_id in LVM's metadata */
	int in_pool;            /* the pool's metadata has this device */
	uint64_t mapped_blocks; /* per the pool's device details (0: unknown) */
	uint64_t lost_blocks;   /* blocks in ranges whose mappings cannot be read */
	char lost[320];         /* the first such range, in words ("" if none) */
};

#define RESURRECT_MAX_THIN 32

/* A thin pool: LVM's metadata, the kernel's status, the pool's own metadata
 * (read offline from the PVs, or live when the kernel no longer commits),
 * and thin_check's verdict on a copy of it. */
struct resurrect_pool {
	int active;                /* VG-POOL-tpool exists (pool_status is read) */
	int meta_read;             /* the pool's metadata was read */
	char meta_error[640];      /* why it could not be ("" if read or not tried) */
	uint64_t kernel_tid;       /* the pool superblock's (or status's) transaction id */
	uint64_t lvm_tid;          /* LVM's */
	int needs_check;           /* superblock flag or status */
	uint32_t block_sectors;
	uint64_t damaged;          /* lost ranges over all devices and the device trees */
	int check_run, check_status; /* thin_check on a copy; its exit status */
	char check_output[640];    /* its first lines, one line */
	uint64_t tmeta_size, spare_size; /* bytes; spare_size 0: no spare LV */
	char spare[128], tmeta[128];
	int meta0_exists;          /* POOL_meta0 exists (an earlier repair's) */
	int nlvs;
	struct resurrect_thin_lv lvs[RESURRECT_MAX_THIN];
	int norphans;
	uint64_t orphans[8];       /* devices of the pool no LV names */
	char open_lvs[320];        /* thin volumes of the pool in use ("" if none) */
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
	struct resurrect_pool tp;
	char txid_backup[PATH_MAX]; /* where --fix-transaction-id saves the VG metadata */
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
	STEP_THIN_DEACTIVATE,   /* every thin volume of the pool, then the pool */
	STEP_POOL_FIX_TXID,     /* vgcfgbackup, LVM's transaction_id := the pool's, vgcfgrestore */
	STEP_POOL_REPAIR,       /* lvconvert --repair (thin_repair; old metadata -> POOL_meta0) */
	STEP_THIN_ACTIVATE,     /* lvchange -ay (LVM runs thin_check) */
	STEP_THIN_VOLUMES,      /* every thin volume of the pool: state, e2fsck */
};

struct resurrect_step {
	enum resurrect_step_type type;
	char cmd[320];  /* the LVM command line it runs, "" if none */
	char text[640]; /* its line in the plan */
	char done[400]; /* the action reported once done, "" when worded as it runs */
};

#define RESURRECT_MAX_NOTES 16
#define RESURRECT_MAX_STEPS 10

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
	uint64_t pool_spare_add; /* a repair: a new spare metadata LV */
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
	const char *undo_what; /* what undo_cmd undoes (NULL: the COW header change) */
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
	const char *fsck_dev; /* the device the fsck step checks (NULL: the volume's) */
	/* thin: the volumes deactivated for the pool, to activate again */
	int was_active[RESURRECT_MAX_THIN];
	int repaired;         /* lvconvert --repair ran */
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
/* e2fsck -fy, -fn of @dev (unless --no-fsck), reported; @dev NULL: the
 * volume's own device.  Returns: 0 to go on, -1 stopped. */
int resurrect_fsck(struct resurrect_ctx *c, const char *dev);

/* resurrect_thin.c: a thin pool's facts (c->facts.tp; ends the tool when
 * LVM's metadata cannot be read) and its steps. */
int resurrect_classify_pool(struct resurrect_ctx *c);
int resurrect_thin_step(struct resurrect_ctx *c, const struct resurrect_step *s);

#endif
