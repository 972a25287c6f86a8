/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsckrun.h"
#include "tool.h"

static const char *const sbin_dirs[] = { "/sbin", "/usr/sbin", "/usr/local/sbin", NULL };

const char *checker_find(const char *name, const char *envvar)
{
	static char path[256];
	const char *env = envvar ? getenv(envvar) : NULL;

	if (env && *env)
		return env;
	for (int i = 0; sbin_dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", sbin_dirs[i], name);
		if (access(path, X_OK) == 0)
			return path;
	}
	return name; /* execvp searches PATH */
}

static const struct checker_prog progs[] = {
	{ "e2fsck", "SNAP_FSCK_E2FSCK", "e2fsprogs" },
	{ "xfs_repair", "SNAP_FSCK_XFS_REPAIR", "xfsprogs" },
	{ "xfs_db", "SNAP_FSCK_XFS_DB", "xfsprogs" },
	{ "xfs_logprint", "SNAP_FSCK_XFS_LOGPRINT", "xfsprogs" },
	{ "btrfs", "SNAP_FSCK_BTRFS", "btrfs-progs" },
};

const struct checker_prog *checker_prog(const char *name)
{
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (!strcmp(progs[i].name, name))
			return &progs[i];
	return NULL;
}

/* @name in the directories of PATH. */
static const char *on_path(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;

	for (p = path && *path ? path : "/usr/bin:/bin"; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p)
			continue;
		snprintf(buf, len, "%.*s/%s", (int)(end - p), p, name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

const char *checker_locate(const char *name, char *why, size_t len)
{
	static char path[4096];
	const struct checker_prog *c = checker_prog(name);
	const char *env = c ? getenv(c->envvar) : NULL;
	const char *found;

	if (env && *env)
		return env;
	found = checker_find(name, NULL);
	if (found != name)
		return found;
	found = on_path(name, path, sizeof(path));
	if (found)
		return found;
	if (why && c)
		snprintf(why, len, "%s not found (install the Debian package %s, or set %s)",
			 name, c->package, c->envvar);
	else if (why)
		snprintf(why, len, "%s not found", name);
	return NULL;
}

/* In the child: stdin from @in (-1: /dev/null), stdout and stderr to @out
 * and @err when >= 0, then exec. */
static void NORETURN child(char *const argv[], unsigned int flags, int in, int out, int err)
{
	int null = in >= 0 ? in : open("/dev/null", O_RDONLY);

	if (null >= 0)
		dup2(null, STDIN_FILENO);
	if (out >= 0)
		dup2(out, STDOUT_FILENO);
	else if (flags & CHECKER_STDOUT_TO_STDERR)
		dup2(STDERR_FILENO, STDOUT_FILENO);
	if (err >= 0)
		dup2(err, STDERR_FILENO);
	if (flags & CHECKER_NO_E2FSCK_CONFIG)
		setenv("E2FSCK_CONFIG", "/dev/null", 1);
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "%s: cannot run %s: %s\n", program_name, argv[0], strerror(errno));
	_exit(127);
}

/* A growing text buffer. */
struct text {
	char *buf;
	size_t len, cap;
};

static int text_add(struct text *t, const char *p, size_t n)
{
	char *b;

	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;

		while (cap < t->len + n + 1)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (!b)
			return -ENOMEM;
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
	t->buf[t->len] = '\0';
	return 0;
}

/* Read @fd to its end into a new string (NULL when out of memory). */
static char *slurp(int fd)
{
	struct text t = { 0 };
	char chunk[8192];
	ssize_t n;

	if (text_add(&t, "", 0) < 0)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (text_add(&t, chunk, (size_t)n) < 0)
			break;
	}
	return t.buf;
}

static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 127;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	p[0] = p[1] = -1;
}

int checker_run(char *const argv[], unsigned int flags, char **output)
{
	int pipefd[2] = { -1, -1 };
	pid_t pid;

	if (flags & CHECKER_CAPTURE) {
		*output = NULL;
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close_pair(pipefd);
		return -e;
	}
	if (pid == 0)
		child(argv, flags, -1, pipefd[1], pipefd[1]);
	if (flags & CHECKER_CAPTURE) {
		close(pipefd[1]);
		*output = slurp(pipefd[0]);
		close(pipefd[0]);
	}
	return reap(pid);
}

/* Hand every complete line of @t to @fn (the rest stays).  Returns: 0, 1
 * stop, or the callback's error. */
static int feed_lines(struct text *t, checker_line_fn fn, void *data, int at_end)
{
	size_t start = 0;
	char *nl;
	int r = 0;

	while (start < t->len) {
		nl = memchr(t->buf + start, '\n', t->len - start);
		if (!nl && !at_end)
			break;
		if (nl)
			*nl = '\0';
		r = fn(data, t->buf + start);
		start = nl ? (size_t)(nl - t->buf) + 1 : t->len;
		if (r)
			break;
	}
	memmove(t->buf, t->buf + start, t->len - start);
	t->len -= start;
	if (t->buf)
		t->buf[t->len] = '\0';
	return r;
}

/* Read the child's stdout (@out) and stderr (@err, -1 if not captured)
 * until both end or the callback stops.  Returns: 0, 1 stopped, <0. */
static int pump(int out, int err, checker_line_fn fn, void *data, struct text *errs)
{
	struct text lines = { 0 };
	struct pollfd p[2] = { { .fd = out, .events = POLLIN }, { .fd = err, .events = POLLIN } };
	char chunk[65536];
	int r = 0, open_fds = err >= 0 ? 2 : 1;

	while (open_fds && !r) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		for (int i = 0; i < 2 && !r; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				open_fds--;
				if (i == 0)
					r = feed_lines(&lines, fn, data, 1);
				continue;
			}
			r = text_add(i ? errs : &lines, chunk, (size_t)n);
			if (!r && i == 0)
				r = feed_lines(&lines, fn, data, 0);
		}
	}
	free(lines.buf);
	return r;
}

int checker_run_lines(char *const argv[], int stdin_fd, checker_line_fn fn, void *data,
		      char **errors)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, r, st;
	struct text errs = { 0 };
	pid_t pid;

	if (errors)
		*errors = NULL;
	if (pipe2(out, O_CLOEXEC) < 0 || (errors && pipe2(err, O_CLOEXEC) < 0)) {
		r = -errno;
		close_pair(out);
		return r;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close_pair(out);
		close_pair(err);
		return r;
	}
	if (pid == 0)
		child(argv, 0, stdin_fd, out[1], err[1]);
	close(out[1]);
	if (err[1] >= 0)
		close(err[1]);
	text_add(&errs, "", 0);
	r = pump(out[0], err[0], fn, data, &errs);
	if (r) {
		/* stop it; read on to the end, so that it dies of SIGTERM and
		 * not of a SIGPIPE on its next write */
		char sink[65536];

		kill(pid, SIGTERM);
		while (read(out[0], sink, sizeof(sink)) > 0 ||
		       (err[0] >= 0 && read(err[0], sink, sizeof(sink)) > 0))
			;
	}
	close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	st = reap(pid);
	if (errors)
		*errors = errs.buf ? errs.buf : strdup("");
	else
		free(errs.buf);
	return r < 0 ? r : st;
}

int checker_stdin_text(const char *text)
{
	int fd = memfd_create("snaprescue-commands", MFD_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = write_full(fd, text, strlen(text));
	if (!r && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

const char *e2fsck_status_meaning(int status, char *buf, size_t len)
{
	static const struct {
		int bit;
		const char *what;
	} bits[] = {
		{ 1, "errors corrected" },        { 2, "reboot needed" },
		{ 4, "errors left uncorrected" }, { 8, "operational error" },
		{ 16, "usage error" },            { 32, "cancelled" },
		{ 128, "shared library error" },
	};
	int rest = status;
	size_t n = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (status < 0) {
		snprintf(buf, len, "not run");
		return buf;
	}
	if (status == 0) {
		snprintf(buf, len, "no errors");
		return buf;
	}
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(status & bits[i].bit))
			continue;
		rest &= ~bits[i].bit;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "",
				      bits[i].what);
	}
	if (rest)
		snprintf(buf + (n < len ? n : len - 1), n < len ? len - n : 1,
			 "%sexit status %d", n ? ", " : "", rest);
	return buf;
}

/* Status words for a checker with a few plain codes. */
static const char *plain_meaning(int status, const char *const *words, int nwords, char *buf,
				 size_t len)
{
	if (status < 0)
		snprintf(buf, len, "not run");
	else if (status > 128)
		snprintf(buf, len, "killed by signal %d", status - 128);
	else if (status < nwords && words[status])
		snprintf(buf, len, "%s", words[status]);
	else
		snprintf(buf, len, "exit status %d", status);
	return buf;
}

const char *xfs_repair_status_meaning(int status, char *buf, size_t len)
{
	static const char *const words[] = {
		"no errors", "problems found (or a dirty log it ignored)",
		"dirty log: it must be replayed first", NULL,
		"corruption repaired",
	};

	return plain_meaning(status, words, 5, buf, len);
}

const char *btrfs_check_status_meaning(int status, char *buf, size_t len)
{
	static const char *const words[] = { "no errors", "errors found (or it could not check)" };

	return plain_meaning(status, words, 2, buf, len);
}
