/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmdev.h"
#include "tool.h"
#include "volume_live.h"

int volume_live_pvs(char ***paths, int code)
{
	(void)paths;
	errx(code, "no --pv given, and asking the live system's LVM is not supported by this "
	     "build: give the physical volumes with --pv");
}

void volume_live_free(char **paths, int n)
{
	for (int i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

static int open_dm(const char *name, int *fd, char *where, size_t len)
{
	struct dmdev_info info;

	if (dmdev_get_info(name, &info) < 0 || !info.exists)
		return 0;
	snprintf(where, len, "/dev/mapper/%s", name);
	*fd = open(where, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return 0;
	(void)posix_fadvise(*fd, 0, 0, POSIX_FADV_DONTNEED);
	return 1;
}

int volume_live_dm(const char *vg, const char *lv, const char *suffix, int *fd, char *where,
		   size_t len)
{
	char name[300];

	dmdev_lv_name(vg, lv, suffix, name, sizeof(name));
	if (open_dm(name, fd, where, len))
		return 1;
	if (strcmp(suffix, "-real"))
		return 0;
	dmdev_lv_name(vg, lv, "", name, sizeof(name));
	return open_dm(name, fd, where, len);
}
