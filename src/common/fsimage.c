/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract.h"
#include "fsimage.h"
#include "tool.h"

#define MAX_IMAGES 4

static struct fsimage *live[MAX_IMAGES];

static void remove_files(struct fsimage *im)
{
	if (im->path[0])
		unlink(im->path);
	if (im->dir[0])
		rmdir(im->dir);
	im->path[0] = im->dir[0] = 0;
}

static void remove_all(void)
{
	for (int i = 0; i < MAX_IMAGES; i++)
		if (live[i])
			remove_files(live[i]);
}

static void on_signal(int sig)
{
	remove_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void track(struct fsimage *im, int on)
{
	static int registered;

	for (int i = 0; i < MAX_IMAGES; i++) {
		if (on && !live[i]) {
			live[i] = im;
			break;
		}
		if (!on && live[i] == im)
			live[i] = NULL;
	}
	if (on && !registered) {
		atexit(remove_all);
		registered = 1;
	}
	if (on) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
}

int fsimage_create(struct fsimage *im, const char *prefix, uint64_t size, char *why,
		   size_t len)
{
	const char *tmp = getenv("TMPDIR");
	const char *where = tmp && *tmp ? tmp : "/var/tmp";
	int fd, err;

	memset(im, 0, sizeof(*im));
	im->size = size;
	snprintf(im->dir, sizeof(im->dir), "%s/%s.XXXXXX", where, prefix);
	if (!mkdtemp(im->dir)) {
		err = errno;
		im->dir[0] = 0;
		snprintf(why, len, "cannot create a temporary directory in %s: %s", where,
			 strerror(err));
		return -err;
	}
	track(im, 1);
	snprintf(im->path, sizeof(im->path), "%s/view.img", im->dir);
	fd = open(im->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		err = errno;
		snprintf(why, len, "cannot create %s: %s", im->path, strerror(err));
		if (fd >= 0)
			close(fd);
		fsimage_remove(im);
		return -err;
	}
	close(fd);
	return 0;
}

int fsimage_copy(struct fsimage *im, struct snapcow_view *v, uint64_t off, uint64_t len)
{
	uint64_t t0 = now_ns(), copied = 0;
	int fd, r;

	if (off >= im->size)
		return 0;
	if (len > im->size - off)
		len = im->size - off;
	fd = open(im->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = extract_copy_sparse(v, fd, off, len, &copied);
	if (close(fd) < 0 && !r)
		r = -errno;
	im->copied += copied;
	im->ns += now_ns() - t0;
	return r;
}

void fsimage_remove(struct fsimage *im)
{
	remove_files(im);
	track(im, 0);
}

void fsimage_hide_path(const struct fsimage *im, char *text)
{
	const size_t tl = strlen(im->path);
	char *p;

	while (text && tl > 6 && (p = strstr(text, im->path))) {
		memcpy(p, "<view>", 6);
		memmove(p + 6, p + tl, strlen(p + tl) + 1);
	}
}

const char *fsimage_cost(const struct fsimage *im, char *buf, size_t len)
{
	char sz[32];

	snprintf(buf, len, "%s copied in %.1f s", format_size(im->copied, sz, sizeof(sz)),
		 (double)im->ns / 1e9);
	return buf;
}
