/* SPDX-License-Identifier: GPL-2.0-or-later */
/* liblvm2cmd behind a handle (see lvm.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lvm2cmd.h>

#include "lvm.h"

struct lvm {
	void *h;          /* liblvm2cmd's handle */
	int echo;         /* print report lines when not capturing */
	FILE *cap;        /* capturing the report lines of the running command */
	char errors[2048];
};

/* lvm2_log_fn() takes no data pointer: the one handle it logs for. */
static struct lvm *logging;

static void log_line(int level, const char *file, int line, int dm_errno, const char *message)
{
	struct lvm *l = logging;

	(void)file;
	(void)line;
	(void)dm_errno;
	if (!l)
		return;
	level &= 0xf;
	if (level == LVM2_LOG_PRINT && l->cap) {
		fprintf(l->cap, "%s\n", message);
		return;
	}
	if (level <= LVM2_LOG_ERROR) {
		size_t n = strlen(l->errors);

		snprintf(l->errors + n, sizeof(l->errors) - n, "%s%s", n ? "\n  " : "  ", message);
		return;
	}
	if (level == LVM2_LOG_PRINT && l->echo)
		printf("    lvm: %s\n", message);
}

int lvm_open(int echo, struct lvm **out)
{
	struct lvm *l;

	if (logging)
		return -EBUSY;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->echo = echo;
	logging = l;
	lvm2_log_fn(log_line);
	l->h = lvm2_init();
	if (!l->h) {
		logging = NULL;
		free(l);
		return -EIO;
	}
	lvm2_disable_dmeventd_monitoring(l->h);
	*out = l;
	return 0;
}

void lvm_close(struct lvm *l)
{
	if (!l)
		return;
	lvm2_exit(l->h);
	logging = NULL;
	free(l);
}

int lvm_run(struct lvm *l, char **capture, const char *fmt, ...)
{
	char cmd[1024], *buf = NULL;
	size_t size = 0;
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	l->errors[0] = '\0';
	if (capture) {
		*capture = NULL;
		l->cap = open_memstream(&buf, &size);
		if (!l->cap) {
			snprintf(l->errors, sizeof(l->errors), "  out of memory");
			return -ENOMEM;
		}
	}
	r = lvm2_run(l->h, cmd);
	if (capture) {
		fclose(l->cap);
		l->cap = NULL;
		*capture = buf;
	}
	return r == LVM2_COMMAND_SUCCEEDED ? 0 : r;
}

const char *lvm_errors(const struct lvm *l)
{
	return l->errors;
}

int lvm_lvs(struct lvm *l, const char *vg, const char *lv, struct lvrow *row)
{
	char *out = NULL, why[128];
	int r;

	r = lvm_run(l, &out, "lvs -a --noheadings --nosuffix --units b --separator | -o %s %s/%s",
		    LVS_FIELDS, vg, lv);
	if (r || !out || !*out) {
		free(out);
		return r < 0 ? r : r ? -EIO : -ENOENT;
	}
	out[strcspn(out, "\n")] = '\0';
	r = lvrow_parse(out, row, why, sizeof(why));
	if (r < 0)
		snprintf(l->errors, sizeof(l->errors), "  %s", why);
	free(out);
	return r;
}
