/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "dmdev.h"
#include "target.h"
#include "tool.h"

int store_open_rw(const char *path, int dry_run, int force, int code, struct stat *st)
{
	int flags = O_CLOEXEC | (dry_run ? O_RDONLY : O_RDWR);
	int fd;

	if (stat(path, st) < 0)
		errx(code, "cannot open %s: %s", path, strerror(errno));
	if (S_ISDIR(st->st_mode))
		errx(code, "cannot open %s: Is a directory", path);
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
		errx(code, "cannot open %s: not a regular file or block device", path);
	if (S_ISBLK(st->st_mode) && force <= 0)
		flags |= O_EXCL;
	fd = open(path, flags);
	if (fd < 0 && errno == EBUSY)
		errx(code, "%s: device is in use (mounted, or the kernel or another program has it "
		     "open): unmount it or deactivate what uses it (the snapshot of a COW) first%s",
		     path, force == 0 ? ", or use --force" : "");
	if (fd < 0)
		errx(code, "cannot open %s: %s", path, strerror(errno));
	return fd;
}

void store_check_users(const char *path, const struct stat *st, int force, int code)
{
	char why[256], users[1024];
	int n;

	if (!S_ISBLK(st->st_mode)) {
		if (force <= 0 && tool_verbosity() > 0)
			printf("%s: regular file: not checked for use by the kernel (only the "
			       "header and table are)\n", path);
		return;
	}
	dmdev_init(1);
	if (dmdev_available(why, sizeof(why)) < 0) {
		if (tool_verbosity() > 0)
			printf("%s: device-mapper is not available (%s): table check skipped%s\n",
			       path, why, force > 0 ? "" : "; the exclusive open succeeded");
		return;
	}
	n = dmdev_users(st->st_rdev, users, sizeof(users));
	if (n <= 0)
		return;
	if (force > 0) {
		warnx("warning: %s (%u:%u) is used by active device-mapper device%s: %s; "
		      "writing anyway (--force)", path, major(st->st_rdev), minor(st->st_rdev),
		      n > 1 ? "s" : "", users);
		return;
	}
	errx(code, "%s (%u:%u) is used by active device-mapper device%s: %s; deactivate %s "
	     "first (lvchange -an)%s", path, major(st->st_rdev), minor(st->st_rdev),
	     n > 1 ? "s" : "", users, n > 1 ? "them" : "it", force == 0 ? ", or use --force" : "");
}

int sysfs_dm_uuid(dev_t rdev, char *out, size_t len)
{
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/dm/uuid", major(rdev), minor(rdev));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !len)
		return 0; /* not a device-mapper device */
	n = read(fd, out, len - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 1;
}

int store_identity(int fd, struct snapcow_identity *id)
{
	char uuid[sizeof(id->dm_uuid)];
	const char *u = uuid;
	size_t plen = strlen(TEMP_UUID_PREFIX);
	int r;

	r = snapcow_identity_get(fd, id);
	if (r < 0 || id->kind != SNAPCOW_IDENT_BLOCK)
		return r;
	if (!sysfs_dm_uuid((dev_t)id->rdev, uuid, sizeof(uuid)))
		return 0;
	if (!strncmp(uuid, TEMP_UUID_PREFIX, plen))
		u += plen;
	snprintf(id->dm_uuid, sizeof(id->dm_uuid), "%s", u);
	return 0;
}

int link_new_store(const char *tmp, const char *path)
{
	int r = 0;

	fault_point("before-link");
	if (link(tmp, path) < 0)
		r = -errno;
	unlink(tmp);
	return r ? r : fsync_parent(path);
}

void undo_default_name(const char *label, char *out, size_t len)
{
	time_t now = time(NULL);
	char stamp[32];
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, len, "%s-%s-%s.undo", program_name, label, stamp);
}

void undo_check_place(const char *undo, const struct undo_target *targets, size_t n, int code)
{
	char *copy = strdup(undo);
	struct stat dir;

	if (!copy)
		errx(code, "out of memory");
	if (stat(dirname(copy), &dir) < 0)
		errx(code, "cannot use undo file %s: %s", undo, strerror(errno));
	free(copy);
	for (size_t i = 0; i < n; i++)
		if (S_ISBLK(targets[i].st.st_mode) && dir.st_dev == targets[i].st.st_rdev)
			errx(code, "undo file %s would be written on %s itself: choose another "
			     "place with --undo", undo, targets[i].what);
	if (access(undo, F_OK) == 0)
		errx(code, "undo file %s already exists: choose another name with --undo", undo);
}
