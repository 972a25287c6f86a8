/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The filesystem check of a volume that was just brought back (snap_resurrect
 * after the kernel took the snapshot or thin volume again): libblkid says
 * what it holds, and that filesystem's own checker runs the safe way:
 *
 *   ext2/3/4  e2fsck -fy (replays the journal, fixes), then e2fsck -fn
 *   XFS       a dirty log (xfs_logprint -t) is replayed by a mount nothing
 *             else sees (fsmount.h), then xfs_repair -n; xfs_repair -L,
 *             which destroys the log, only with --zero-log and only when
 *             the mount cannot replay it
 *   btrfs     a log tree (dump-super) is replayed by such a mount, then
 *             btrfs check --readonly; btrfs rescue zero-log only with
 *             --zero-log and only when the mount fails
 *
 * Each step is reported as it runs ("+ command") and kept for the report.
 */
#ifndef SNAPRESCUE_DEVCHECK_H
#define SNAPRESCUE_DEVCHECK_H

#include <stdint.h>

#include "fsprobe.h"

struct devcheck_opts {
	int zero_log;  /* the user asked for the log to be destroyed if it cannot be replayed */
	int to_stderr; /* the checkers' output goes to stderr (JSON on stdout) */
	/* progress lines ("+ xfs_repair -n /dev/..."); @data is passed back */
	void (*say)(void *data, const char *line);
	void *data;
};

struct devcheck_step {
	char program[32]; /* "e2fsck", "xfs_repair", "btrfs", "mount" */
	char args[96];    /* "-fy", "-n", "check --readonly", the mount options */
	char label[64];   /* "e2fsck -fy", "log replay (private mount)" */
	int status;       /* exit status (a mount: 0 done, 1 failed) */
	char result[560]; /* "exit 1 (errors corrected)", "done in 0.4 s", "failed: ..." */
};

#define DEVCHECK_MAX_STEPS 5

struct devcheck {
	char type[64];        /* libblkid's type, "" when it found none */
	enum fs_family family;
	int nsteps;
	struct devcheck_step steps[DEVCHECK_MAX_STEPS];
	int busy;             /* something holds the device: nothing was run */
	int clean;            /* the last pass, a read-only one, found nothing */
	char problem[640];    /* not clean: what is left; no steps: why nothing was checked */
};

/* Check the filesystem on @dev as above.  Returns: 0 (see @out: no steps
 * when nothing was checked, then @out->problem says why). */
int devcheck_run(const char *dev, const struct devcheck_opts *o, struct devcheck *out);

/* "e2fsck -fy: exit 1 (errors corrected); e2fsck -fn: exit 0 (no errors)"
 * into @buf.  Returns: @buf. */
const char *devcheck_summary(const struct devcheck *c, char *buf, size_t len);

#endif
