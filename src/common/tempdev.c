/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The temporary device over an inactive LV's extents (see tempdev.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmdev.h"
#include "target.h"
#include "tempdev.h"
#include "tool.h"

/* A device @name exists: the one a killed run left (our name, the same
 * @table, not open) is removed, anything else refused.  Returns 0 or
 * -EEXIST (said). */
static int remove_leftover(const char *name, const char *table, const struct dmdev_info *info)
{
	char *live = NULL;
	int same = info->open_count == 0 && dmdev_get_lines(name, 0, &live) == 0 && live &&
		   !strcmp(live, table);

	free(live);
	if (same && dmdev_remove(name) == 0) {
		warnx("removed %s, the temporary device an interrupted run left (the same table, "
		      "not open)", name);
		return 0;
	}
	warnx("a device %s exists already (left by an interrupted run?): remove it with "
	      "'dmsetup remove %s' after checking nothing uses it", name, name);
	return -EEXIST;
}

int tempdev_run(const char *name, const char *uuid, const char *table, tempdev_fn fn,
		void *data)
{
	char full_uuid[160], path[PATH_MAX];
	struct dmdev_info info;
	int fd, r;

	if (dmdev_get_info(name, &info) == 0 && info.exists && remove_leftover(name, table, &info))
		return -EEXIST;
	snprintf(full_uuid, sizeof(full_uuid), "%s%s", TEMP_UUID_PREFIX, uuid);
	r = dmdev_create(name, uuid[0] ? full_uuid : NULL, table, path, sizeof(path));
	if (r < 0) {
		warnx("cannot create the temporary device %s: %s%s%s", name, strerror(-r),
		      dmdev_last_error()[0] ? ": " : "", dmdev_last_error());
		return r;
	}
	fd = open(path, O_RDWR | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		warnx("cannot open %s: %s", path, strerror(-r));
	} else {
		/* what we read must be the device, not an old page cache */
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		r = fn(data, fd, path);
		close(fd);
	}
	if (dmdev_remove(name) < 0)
		warnx("cannot remove the temporary device %s: run 'dmsetup remove %s'", name,
		      name);
	return r;
}
