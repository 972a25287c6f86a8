/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmdev.h"
#include "lvm.h"
#include "tool.h"
#include "volume_live.h"

/* One device path a line of `pvs --noheadings -o pv_name` output. */
static int split_lines(char *out, char ***paths)
{
	char *save = NULL, *line, **p = NULL;
	int n = 0;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char **grown;

		line += strspn(line, " \t");
		line[strcspn(line, " \t")] = '\0';
		if (!*line)
			continue;
		grown = realloc(p, (size_t)(n + 1) * sizeof(*p));
		if (!grown || !(grown[n] = strdup(line))) {
			free(grown ? grown : p);
			return -ENOMEM;
		}
		p = grown;
		n++;
	}
	*paths = p;
	return n;
}

int volume_live_pvs(char ***paths, int code)
{
	char why[256], *out = NULL;
	struct lvm *l;
	int r;

	dmdev_init(1);
	if (dmdev_available(why, sizeof(why)) < 0)
		errx(code, "no --pv given and this system's device-mapper is not available (%s): "
		     "give the physical volumes (disk images or devices) with --pv", why);
	r = lvm_open(0, &l);
	if (r < 0)
		errx(code, "no --pv given and LVM cannot be asked (liblvm2cmd: %s; are you "
		     "root?): give the physical volumes with --pv", strerror(-r));
	r = lvm_run(l, &out, "pvs --noheadings -o pv_name");
	if (r) {
		warnx("pvs failed:\n%s", lvm_errors(l));
		lvm_close(l);
		exit(code);
	}
	lvm_close(l);
	r = split_lines(out, paths);
	free(out);
	if (r < 0)
		errx(code, "out of memory");
	if (r == 0)
		errx(code, "LVM reports no physical volumes on this system");
	return r;
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
