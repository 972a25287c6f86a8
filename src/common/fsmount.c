/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libmount/libmount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsmount.h"
#include "tool.h"

int fsmount_kernel_has(const char *fstype)
{
	char line[256], *name;
	FILE *f = fopen("/proc/filesystems", "re");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		name = strrchr(line, '\t');
		found = !strcmp(name ? name + 1 : line, fstype);
	}
	fclose(f);
	return found;
}

/* In the child: a private namespace, the mount and the unmount.  What went
 * wrong is written to @msg ("" when all went well), then it exits. */
static void NORETURN cycle_child(const char *source, const char *fstype, const char *dir,
				 const char *options, int msg)
{
	char buf[512] = "";
	struct libmnt_context *cxt;
	int rc, code = 1;

	/* the type is ignored for a propagation change; "none", not NULL:
	 * valgrind's memcheck (3.19) reads it as a string in any case */
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
		snprintf(buf, sizeof(buf), "cannot make a private mount namespace: %s",
			 strerror(errno));
		code = 2; /* this system's limits, not the filesystem's fault */
		goto out;
	}
	cxt = mnt_new_context();
	if (!cxt) {
		snprintf(buf, sizeof(buf), "libmount: out of memory");
		goto out;
	}
	mnt_context_disable_mtab(cxt, 1);    /* no utab entry: nothing outside knows */
	mnt_context_disable_helpers(cxt, 1); /* no /sbin/mount.TYPE */
	mnt_context_set_source(cxt, source);
	mnt_context_set_target(cxt, dir);
	mnt_context_set_fstype(cxt, fstype);
	mnt_context_set_options(cxt, options);
	rc = mnt_context_mount(cxt);
	if (rc || mnt_context_get_status(cxt) != 1) {
		char ex[400] = "";

		mnt_context_get_excode(cxt, rc, ex, sizeof(ex));
		snprintf(buf, sizeof(buf), "mount: %s", ex[0] ? ex : strerror(errno));
		mnt_free_context(cxt);
		goto out;
	}
	mnt_free_context(cxt);
	if (umount2(dir, 0) < 0)
		snprintf(buf, sizeof(buf), "umount %s: %s", dir, strerror(errno));
out:
	(void)write_full(msg, buf, strlen(buf));
	_exit(buf[0] ? code : 0);
}

/* A new empty directory for the mount: under /run (tmpfs) when we can. */
static int make_dir(char *dir, size_t len)
{
	static const char *const where[] = { "/run", "/tmp", NULL };

	for (int i = 0; where[i]; i++) {
		snprintf(dir, len, "%s/snaprescue-mnt.XXXXXX", where[i]);
		if (mkdtemp(dir))
			return 0;
	}
	return -errno;
}

/* Run the child and collect its message.  Returns: its exit status. */
static int run_child(const char *source, const char *fstype, const char *dir,
		     struct fsmount_result *res)
{
	size_t got = 0;
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(res->why, sizeof(res->why), "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(res->why, sizeof(res->why), "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		cycle_child(source, fstype, dir, res->options, p[1]);
	}
	close(p[1]);
	while (got < sizeof(res->why) - 1 &&
	       (n = read(p[0], res->why + got, sizeof(res->why) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	res->why[got] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st) && !res->why[0])
		snprintf(res->why, sizeof(res->why), "the mount process was killed by signal %d",
			 WTERMSIG(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int fsmount_cycle(const char *source, const char *fstype, unsigned int flags,
		  struct fsmount_result *res)
{
	char dir[64];
	uint64_t t0;
	int st;

	memset(res, 0, sizeof(*res));
	snprintf(res->options, sizeof(res->options), "rw,nosuid,nodev,noexec%s%s",
		 !strcmp(fstype, "xfs") ? ",nouuid" : "", flags & FSMOUNT_IMAGE ? ",loop" : "");
	if (geteuid() != 0) {
		snprintf(res->why, sizeof(res->why), "mounting needs root");
		res->unavailable = 1;
		return -1;
	}
	if ((flags & FSMOUNT_IMAGE) && access("/dev/loop-control", R_OK | W_OK) < 0) {
		snprintf(res->why, sizeof(res->why), "no loop devices here (/dev/loop-control: %s)",
			 strerror(errno));
		res->unavailable = 1;
		return -1;
	}
	if (make_dir(dir, sizeof(dir)) < 0) {
		snprintf(res->why, sizeof(res->why), "cannot create a mount point in /run or "
			 "/tmp: %s", strerror(errno));
		return -1;
	}
	t0 = now_ns();
	st = run_child(source, fstype, dir, res);
	res->ns = now_ns() - t0;
	rmdir(dir);
	if (st == 0 && !res->why[0])
		return 0;
	if (st == 2)
		res->unavailable = 1;
	else if (!fsmount_kernel_has(fstype)) {
		res->unavailable = 1;
		snprintf(res->why, sizeof(res->why), "this kernel cannot mount %s (not in "
			 "/proc/filesystems, and no module could be loaded)", fstype);
	}
	if (!res->why[0])
		snprintf(res->why, sizeof(res->why), "the mount process failed (exit %d)", st);
	return -1;
}
