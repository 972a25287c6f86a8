/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A tool's new output file, or stdout (see outfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "tool.h"
#include "volume.h"

/* The file we created, removed on failure and on SIGINT/SIGTERM/SIGHUP. */
static char *volatile created_path;
static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction old_actions[3];
static int caught[3];

static void on_signal(int sig)
{
	char *path = created_path;

	if (path)
		unlink(path);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Catch the signals that end the process while the file is written (an
 * ignored one, e.g. SIGHUP under nohup, stays ignored), or give them back
 * their old actions. */
static void catch_signals(int on)
{
	struct sigaction sa = { .sa_handler = on_signal };
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++) {
		if (!on) {
			if (caught[i])
				sigaction(signals[i], &old_actions[i], NULL);
			caught[i] = 0;
		} else if (sigaction(signals[i], NULL, &old_actions[i]) == 0 &&
			   old_actions[i].sa_handler != SIG_IGN) {
			caught[i] = sigaction(signals[i], &sa, NULL) == 0;
		}
	}
}

/* Forget the file created (it is complete, or removed). */
static void forget_created(void)
{
	char *path = created_path;

	created_path = NULL;
	free(path);
}

/* Returns: -@e, after saying "@what @name: strerror(@e)". */
static int failed(const char *what, const char *name, int e)
{
	warnx("%s %s: %s", what, name, strerror(e));
	return -e;
}

/* Returns: the name of the input @st is (a PV image of a volume too), or
 * NULL. */
static const char *input_of(const struct stat *st, const struct outfile_input *in)
{
	for (; in && in->dev; in++)
		if (dev_reads_file(in->dev, st))
			return in->name;
	return NULL;
}

static int open_stream(struct outfile *f, const char *what, const struct outfile_input *in)
{
	struct stat st;
	const char *input;

	f->fd = STDOUT_FILENO;
	f->name = "stdout";
	f->stream = 1;
	if (isatty(f->fd)) {
		warnx("refusing to write %s to a terminal (use -o OUT or a pipe)", what);
		return -ENOTTY;
	}
	input = fstat(f->fd, &st) == 0 ? input_of(&st, in) : NULL;
	if (input) {
		warnx("stdout is the %s: refusing to write over it", input);
		return -EEXIST;
	}
	return 0;
}

/* With --force over an existing regular file: a temporary file next to
 * @out, renamed over it at the end (f->final). */
static int open_temporary(struct outfile *f, const char *out, const struct stat *st)
{
	char *tmp;
	int fd;

	if (asprintf(&tmp, "%s.XXXXXX", out) < 0) {
		warnx("out of memory");
		return -ENOMEM;
	}
	created_path = tmp; /* mkostemp() fills it in */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		fd = failed("cannot create a temporary file next to", out, errno);
		forget_created();
		return fd;
	}
	fchmod(fd, st->st_mode & 07777);
	f->final = strdup(out);
	if (!f->final) {
		warnx("out of memory");
		close(fd);
		return -ENOMEM;
	}
	return fd;
}

/* Create @out itself (O_EXCL), or with @force over an existing regular
 * file a temporary file.  Returns the descriptor or -errno (said). */
static int open_file(struct outfile *f, const char *out, int force,
		     const struct outfile_input *in)
{
	const char *input;
	struct stat st;
	int fd;

	if (stat(out, &st) == 0) {
		input = input_of(&st, in);
		if (input)
			warnx("%s: refusing to write over the %s", out, input);
		else if (!S_ISREG(st.st_mode))
			warnx("%s: exists and is not a regular file (use -o - to stream to stdout)",
			      out);
		else if (!force)
			warnx("%s: already exists (use --force to replace it)", out);
		else
			return open_temporary(f, out, &st);
		return -EEXIST;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return failed("cannot create", out, errno);
	created_path = strdup(out);
	if (!created_path) {
		unlink(out);
		close(fd);
		warnx("out of memory");
		return -ENOMEM;
	}
	return fd;
}

int outfile_open(struct outfile *f, const char *out, int force, const char *what,
		 const struct outfile_input *inputs)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (!strcmp(out, "-"))
		return open_stream(f, what, inputs);
	f->name = out;
	catch_signals(1);
	f->fd = open_file(f, out, force, inputs);
	if (f->fd < 0) {
		int r = f->fd;

		outfile_abort(f);
		return r;
	}
	return 0;
}

int outfile_finish(struct outfile *f)
{
	int fd = f->fd, r = 0;

	f->fd = -1;
	if (f->stream)
		return close(fd) < 0 ? failed("cannot write", "stdout", errno) : 0;
	if (fsync(fd) < 0)
		r = failed("cannot sync", f->name, errno);
	if (close(fd) < 0 && !r)
		r = failed("cannot close", f->name, errno);
	if (!r && f->final && rename(created_path, f->final) < 0) {
		r = -errno;
		warnx("cannot rename %s to %s: %s", created_path, f->final, strerror(-r));
	}
	if (!r)
		forget_created();
	else
		outfile_abort(f);
	catch_signals(0);
	free(f->final);
	f->final = NULL;
	return r;
}

void outfile_abort(struct outfile *f)
{
	if (f->fd >= 0 && !f->stream)
		close(f->fd);
	f->fd = -1;
	if (f->stream)
		return;
	if (created_path) /* not complete */
		unlink(created_path);
	forget_created();
	catch_signals(0);
	free(f->final);
	f->final = NULL;
}
