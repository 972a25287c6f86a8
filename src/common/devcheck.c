/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "btrfsprogs.h"
#include "devcheck.h"
#include "fsckrun.h"
#include "fsmount.h"
#include "tool.h"
#include "xfsdb.h"

static void PRINTF_LIKE(2, 3) say(const struct devcheck_opts *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (o->say)
		o->say(o->data, line);
}

static struct devcheck_step *new_step(struct devcheck *c, const char *program, const char *args,
				      const char *label)
{
	struct devcheck_step *s = &c->steps[c->nsteps < DEVCHECK_MAX_STEPS ? c->nsteps++ :
					    DEVCHECK_MAX_STEPS - 1];

	memset(s, 0, sizeof(*s));
	snprintf(s->program, sizeof(s->program), "%s", program);
	snprintf(s->args, sizeof(s->args), "%s", args);
	snprintf(s->label, sizeof(s->label), "%s", label);
	return s;
}

/* Run @program with @args (space-separated, at most 4) and @dev, its output
 * on our stdout (stderr with o->to_stderr), as a step.  Returns: its exit
 * status; 8 (operational error) when it could not be run or was killed,
 * as e2fsck would say. */
static int run_checker(struct devcheck *c, const struct devcheck_opts *o, const char *program,
		       const char *args, const char *dev,
		       const char *(*meaning)(int, char *, size_t))
{
	char label[64], words[160], why[320], copy[96], *argv[8], *save = NULL, *tok;
	const char *prog = checker_locate(program, why, sizeof(why));
	struct devcheck_step *s;
	int n = 0, st;

	snprintf(label, sizeof(label), "%s %s", program, args);
	s = new_step(c, program, args, label);
	if (!prog) {
		s->status = FSCK_EXIT_OPERROR;
		snprintf(s->result, sizeof(s->result), "not run: %s", why);
		say(o, "%s", why);
		return s->status;
	}
	argv[n++] = (char *)prog;
	snprintf(copy, sizeof(copy), "%s", args);
	for (tok = strtok_r(copy, " ", &save); tok && n < 6; tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n++] = (char *)dev;
	argv[n] = NULL;
	say(o, "+ %s %s %s", program, args, dev);
	st = checker_run(argv, o->to_stderr ? CHECKER_STDOUT_TO_STDERR : 0, NULL);
	s->status = st < 0 || st == 127 || st > 128 ? FSCK_EXIT_OPERROR : st;
	snprintf(s->result, sizeof(s->result), "exit %d (%s)", s->status,
		 meaning(s->status, words, sizeof(words)));
	return s->status;
}

/* ---- ext2/3/4 ---------------------------------------------------------- */

static void check_ext(struct devcheck *c, const struct devcheck_opts *o, const char *dev)
{
	int second;

	run_checker(c, o, "e2fsck", "-fy", dev, e2fsck_status_meaning);
	second = run_checker(c, o, "e2fsck", "-fn", dev, e2fsck_status_meaning);
	c->clean = second == 0;
	if (!c->clean)
		snprintf(c->problem, sizeof(c->problem), "the second e2fsck pass still finds "
			 "problems (exit %d)", second);
}

/* ---- a log replayed by a mount ---------------------------------------- */

/* Mount and unmount @dev where nothing else sees it.  Returns: 0 or -1. */
static int replay_by_mount(struct devcheck *c, const struct devcheck_opts *o, const char *dev,
			   const char *fstype, const char *what)
{
	struct fsmount_result res;
	struct devcheck_step *s;
	char label[64];
	int r;

	snprintf(label, sizeof(label), "%s replay (private mount)", what);
	say(o, "+ mount -t %s -o rw,nosuid,nodev,noexec %s <private mount point>; umount "
	    "(replays the %s)", fstype, dev, what);
	r = fsmount_cycle(dev, fstype, 0, &res);
	s = new_step(c, "mount", res.options, label);
	s->status = r < 0;
	if (r == 0)
		snprintf(s->result, sizeof(s->result), "done in %.1f s", (double)res.ns / 1e9);
	else
		snprintf(s->result, sizeof(s->result), "failed: %s", res.why);
	say(o, "%s: %s", label, s->result);
	return r;
}

/* The log could not be replayed: destroy it with @cmd only when asked to
 * (--zero-log).  Returns: 0 to go on with the check, -1 to stop. */
static int zero_log_or_stop(struct devcheck *c, const struct devcheck_opts *o, const char *dev,
			    const char *program, const char *args, const char *cmd,
			    const char *(*meaning)(int, char *, size_t))
{
	if (!o->zero_log) {
		snprintf(c->problem, sizeof(c->problem), "its log could not be replayed (%s); "
			 "try mounting it by hand first; '%s %s' would destroy the log and the "
			 "changes in it", c->steps[c->nsteps - 1].result, cmd, dev);
		return -1;
	}
	if (run_checker(c, o, program, args, dev, meaning) != 0) {
		snprintf(c->problem, sizeof(c->problem), "its log could not be replayed and '%s' "
			 "failed (%s)", cmd, c->steps[c->nsteps - 1].result);
		return -1;
	}
	snprintf(c->steps[c->nsteps - 1].result, sizeof(c->steps[0].result),
		 "exit 0 (done: the log and the changes in it are gone, --zero-log)");
	return 0;
}

/* ---- XFS ---------------------------------------------------------------- */

static void check_xfs(struct devcheck *c, const struct devcheck_opts *o, const char *dev)
{
	uint64_t tail, head;
	char why[400];
	int state = xfs_log_state(dev, &tail, &head, why, sizeof(why)), st;

	if (state == -2) {
		snprintf(c->problem, sizeof(c->problem), "%s", why);
		return;
	}
	if (state == 0)
		say(o, "the XFS log is clean: no replay needed");
	else if (state == 1)
		say(o, "the XFS log is dirty (tail %llu, head %llu): replaying it by a mount",
		    (unsigned long long)tail, (unsigned long long)head);
	else
		say(o, "the XFS log state is unknown (%s): trying a replay by a mount", why);
	if (state != 0 && replay_by_mount(c, o, dev, "xfs", "XFS log") < 0 &&
	    zero_log_or_stop(c, o, dev, "xfs_repair", "-L", "xfs_repair -L",
			     xfs_repair_status_meaning) < 0)
		return;
	st = run_checker(c, o, "xfs_repair", "-n", dev, xfs_repair_status_meaning);
	c->clean = st == 0;
	if (!c->clean)
		snprintf(c->problem, sizeof(c->problem), "xfs_repair -n still finds problems "
			 "(exit %d): 'xfs_repair %s' repairs them", st, dev);
}

/* ---- btrfs -------------------------------------------------------------- */

static void check_btrfs(struct devcheck *c, const struct devcheck_opts *o, const char *dev)
{
	struct btrfs_sb sb;
	char why[400];
	int st;

	if (btrfs_dump_super(dev, &sb, why, sizeof(why)) < 0) {
		snprintf(c->problem, sizeof(c->problem), "%s", why);
		return;
	}
	if (sb.log_root) {
		say(o, "a btrfs log tree holds changes fsync'd after the last commit: replaying it "
		    "by a mount");
		if (replay_by_mount(c, o, dev, "btrfs", "btrfs log tree") < 0 &&
		    zero_log_or_stop(c, o, dev, "btrfs", "rescue zero-log",
				     "btrfs rescue zero-log", btrfs_check_status_meaning) < 0)
			return;
	}
	st = run_checker(c, o, "btrfs", "check --readonly", dev, btrfs_check_status_meaning);
	c->clean = st == 0;
	if (!c->clean)
		snprintf(c->problem, sizeof(c->problem), "btrfs check --readonly still finds "
			 "problems (exit %d): see btrfs-check(8) before 'btrfs check --repair'", st);
}

/* Returns: 1 if something (a mount) holds @dev, which nothing may check or
 * mount under it. */
static int in_use(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EBUSY;
}

int devcheck_run(const char *dev, const struct devcheck_opts *o, struct devcheck *out)
{
	int pr;

	memset(out, 0, sizeof(*out));
	if (in_use(dev)) {
		out->busy = 1;
		snprintf(out->problem, sizeof(out->problem), "%s is in use (mounted?) since it was "
			 "activated: not checked; unmount it and check it with its own tool",
			 dev);
		return 0;
	}
	pr = fsprobe_path(dev, out->type, sizeof(out->type));
	if (pr < 0) {
		snprintf(out->problem, sizeof(out->problem), "%s cannot be probed (%s): not "
			 "checked; check it with its own tool before mounting", dev, strerror(-pr));
		return 0;
	}
	out->family = pr == 1 ? fs_family_of(out->type) : FS_OTHER;
	if (out->family == FS_OTHER) {
		snprintf(out->problem, sizeof(out->problem), "%s holds %s%s: not checked; check "
			 "it with its own tool before mounting", dev, pr == 1 ? out->type :
			 pr == 2 ? "several filesystem signatures" : "no filesystem libblkid knows",
			 pr == 1 ? " (snap_resurrect checks ext2/3/4, XFS and btrfs)" : "");
		return 0;
	}
	if (out->family == FS_EXT2)
		check_ext(out, o, dev);
	else if (out->family == FS_XFS)
		check_xfs(out, o, dev);
	else
		check_btrfs(out, o, dev);
	return 0;
}

const char *devcheck_summary(const struct devcheck *c, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < c->nsteps && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s: %s", i ? "; " : "", c->steps[i].label,
				      c->steps[i].result);
	return buf;
}
