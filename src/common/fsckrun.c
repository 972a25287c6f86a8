/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsckrun.h"
#include "tool.h"

const char *checker_find(const char *name, const char *envvar)
{
	static const char *const dirs[] = { "/sbin", "/usr/sbin", "/usr/local/sbin", NULL };
	static char path[256];
	const char *env = envvar ? getenv(envvar) : NULL;

	if (env && *env)
		return env;
	for (int i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return path;
	}
	return name; /* execvp searches PATH */
}

static void child(char *const argv[], unsigned int flags, int out)
{
	int null = open("/dev/null", O_RDONLY);

	if (null >= 0)
		dup2(null, STDIN_FILENO);
	if (out >= 0) {
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
	} else if (flags & CHECKER_STDOUT_TO_STDERR) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
	}
	if (flags & CHECKER_NO_E2FSCK_CONFIG)
		setenv("E2FSCK_CONFIG", "/dev/null", 1);
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
	execvp(argv[0], argv);
	fprintf(stderr, "%s: cannot run %s: %s\n", program_name, argv[0], strerror(errno));
	_exit(127);
}

/* Read the pipe to its end into a growing buffer. */
static char *slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *p;
	ssize_t n;

	if (!buf)
		return NULL;
	while ((n = read(fd, buf + len, cap - len - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
		if (cap - len < 2048) {
			p = realloc(buf, cap * 2);
			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	return buf;
}

int checker_run(char *const argv[], unsigned int flags, char **output)
{
	int pipefd[2] = { -1, -1 }, st;
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

		if (pipefd[0] >= 0) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		return -e;
	}
	if (pid == 0)
		child(argv, flags, pipefd[1]);
	if (flags & CHECKER_CAPTURE) {
		close(pipefd[1]);
		*output = slurp(pipefd[0]);
		close(pipefd[0]);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 127;
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
