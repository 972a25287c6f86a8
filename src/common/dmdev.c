/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "dmdev.h"
#include "tool.h"

static char last_error[256];

static void quiet_log(int level, const char *file, int line, int dm_errno_or_class,
		      const char *f, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno_or_class;
	if (level > 3) /* _LOG_ERR */
		return;
	va_start(ap, f);
	vsnprintf(last_error, sizeof(last_error), f, ap);
	va_end(ap);
}

void dmdev_init(int no_udev)
{
	dm_log_with_errno_init(quiet_log);
	if (no_udev)
		dm_udev_set_sync_support(0);
}

const char *dmdev_last_error(void)
{
	return last_error;
}

int dmdev_available(char *why, size_t len)
{
	char version[64];
	int fd, r;

	fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(why, len, "/dev/mapper/control: %s%s", strerror(-r),
			 r == -ENODEV ? " (this kernel has no device-mapper: modprobe dm-mod)" : "");
		return r;
	}
	close(fd);
	if (!dm_driver_version(version, sizeof(version))) {
		snprintf(why, len, "/dev/mapper/control: cannot get the driver version%s%s",
			 last_error[0] ? ": " : "", last_error);
		return -ENODEV;
	}
	return 0;
}

static struct dm_task *run_task(int type, const char *name)
{
	struct dm_task *dmt = dm_task_create(type);

	if (!dmt)
		return NULL;
	if (name && !dm_task_set_name(dmt, name))
		goto fail;
	if (type != DM_DEVICE_LIST)
		dm_task_no_open_count(dmt);
	if (!dm_task_run(dmt))
		goto fail;
	return dmt;
fail:
	dm_task_destroy(dmt);
	return NULL;
}

int dmdev_get_lines(const char *name, int status, char **out)
{
	struct dm_task *dmt;
	struct dm_info info;
	uint64_t start, length;
	char *type, *params, *buf = NULL;
	size_t size = 0;
	void *next = NULL;
	FILE *f;

	dmt = run_task(status ? DM_DEVICE_STATUS : DM_DEVICE_TABLE, name);
	if (!dmt)
		return -ENODEV;
	if (!dm_task_get_info(dmt, &info) || !info.exists) {
		dm_task_destroy(dmt);
		return -ENODEV;
	}
	f = open_memstream(&buf, &size);
	if (!f) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	do {
		next = dm_get_next_target(dmt, next, &start, &length, &type, &params);
		if (type)
			fprintf(f, "%llu %llu %s %s\n", (unsigned long long)start,
				(unsigned long long)length, type, params ? params : "");
	} while (next);
	fclose(f);
	dm_task_destroy(dmt);
	*out = buf;
	return 0;
}

/* Does a table line reference the device "maj:min" as a whole token? */
static int references(const char *lines, const char *devno)
{
	size_t n = strlen(devno);
	const char *p = lines;

	while ((p = strstr(p, devno))) {
		int before = p == lines || p[-1] == ' ';
		int after = p[n] == ' ' || p[n] == '\n' || p[n] == '\0';

		if (before && after)
			return 1;
		p += n;
	}
	return 0;
}

int dmdev_users(dev_t dev, char *names, size_t len)
{
	struct dm_task *dmt;
	struct dm_names *nm;
	char devno[32];
	size_t used = 0;
	unsigned int next = 0;
	int count = 0;

	names[0] = '\0';
	snprintf(devno, sizeof(devno), "%u:%u", major(dev), minor(dev));
	dmt = run_task(DM_DEVICE_LIST, NULL);
	if (!dmt)
		return -ENODEV;
	nm = dm_task_get_names(dmt);
	if (nm && nm->dev) {
		do {
			char *lines = NULL;

			nm = (struct dm_names *)((char *)nm + next);
			if (!dmdev_get_lines(nm->name, 0, &lines) && references(lines, devno)) {
				int w = snprintf(names + used, len - used, "%s%s",
						 count ? ", " : "", nm->name);
				if (w > 0 && (size_t)w < len - used)
					used += (size_t)w;
				count++;
			}
			free(lines);
			next = nm->next;
		} while (next);
	}
	dm_task_destroy(dmt);
	return count;
}

int dmdev_get_info(const char *name, struct dmdev_info *info)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_INFO);
	struct dm_info di;
	int r = -ENODEV;

	memset(info, 0, sizeof(*info));
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_run(dmt) || !dm_task_get_info(dmt, &di))
		goto out;
	info->exists = di.exists;
	info->suspended = di.suspended;
	info->open_count = di.open_count;
	info->major = (uint32_t)di.major;
	info->minor = (uint32_t)di.minor;
	r = 0;
out:
	dm_task_destroy(dmt);
	return r;
}

/* The params of the single target of type @want in @name's status. */
static int status_params(const char *name, const char *want, char **lines, char **params)
{
	unsigned long long start, length;
	char type[64];
	int r, off = 0;

	r = dmdev_get_lines(name, 1, lines);
	if (r < 0)
		return r;
	if (sscanf(*lines, "%llu %llu %63s %n", &start, &length, type, &off) < 3 || !off ||
	    strcmp(type, want)) {
		free(*lines);
		return -EINVAL;
	}
	*params = *lines + off;
	(*params)[strcspn(*params, "\n")] = '\0';
	return 0;
}

/* Status of @name (one target of type @want) parsed by libdevmapper's
 * @parse into *@out, then copied by @copy; the parser's pool is freed. */
struct status_parser {
	const char *type;
	int (*parse)(struct dm_pool *mem, const char *params, void *out);
	void (*copy)(const void *parsed, void *st);
};

static int parsed_status(const char *name, const struct status_parser *p, void *st)
{
	struct dm_pool *mem;
	char *lines = NULL, *params;
	void *parsed = NULL;
	int r;

	r = status_params(name, p->type, &lines, &params);
	if (r < 0)
		return r;
	mem = dm_pool_create("snaprescue", 512);
	if (!mem) {
		free(lines);
		return -ENOMEM;
	}
	if (p->parse(mem, params, &parsed))
		p->copy(parsed, st);
	else
		r = -EINVAL;
	dm_pool_destroy(mem);
	free(lines);
	return r;
}

static int parse_snapshot(struct dm_pool *mem, const char *params, void *out)
{
	return dm_get_status_snapshot(mem, params, out);
}

static void copy_snapshot(const void *parsed, void *out)
{
	const struct dm_status_snapshot *s = parsed;
	struct dmdev_snapshot_status *st = out;

	memset(st, 0, sizeof(*st));
	st->invalid = s->invalid;
	st->overflow = s->overflow;
	st->merge_failed = s->merge_failed;
	st->used_sectors = s->used_sectors;
	st->total_sectors = s->total_sectors;
	st->metadata_sectors = s->has_metadata_sectors ? s->metadata_sectors : 0;
}

static int parse_pool(struct dm_pool *mem, const char *params, void *out)
{
	return dm_get_status_thin_pool(mem, params, out);
}

static void copy_pool(const void *parsed, void *out)
{
	const struct dm_status_thin_pool *s = parsed;
	struct dmdev_pool_status *st = out;

	memset(st, 0, sizeof(*st));
	st->read_only = s->read_only != 0;
	st->fail = s->fail;
	st->out_of_data_space = s->out_of_data_space;
	st->needs_check = s->needs_check;
	st->error = s->error;
	st->queue_if_no_space = !s->error_if_no_space;
	st->transaction_id = s->transaction_id;
	st->used_data = s->used_data_blocks;
	st->total_data = s->total_data_blocks;
	st->used_meta = s->used_metadata_blocks;
	st->total_meta = s->total_metadata_blocks;
}

int dmdev_snapshot_status(const char *name, struct dmdev_snapshot_status *st)
{
	static const struct status_parser p = { "snapshot", parse_snapshot, copy_snapshot };

	return parsed_status(name, &p, st);
}

int dmdev_pool_status(const char *name, struct dmdev_pool_status *st)
{
	static const struct status_parser p = { "thin-pool", parse_pool, copy_pool };

	return parsed_status(name, &p, st);
}

int dmdev_create(const char *name, const char *uuid, const char *table, char *path, size_t len)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_CREATE);
	char *copy = strdup(table), *line, *save = NULL;
	struct dmdev_info info;
	int r = -EINVAL;

	if (!dmt || !copy) {
		r = -ENOMEM;
		goto out;
	}
	if (!dm_task_set_name(dmt, name) || (uuid && !dm_task_set_uuid(dmt, uuid)))
		goto out;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long start, length;
		char type[64];
		int off = 0;

		if (sscanf(line, "%llu %llu %63s %n", &start, &length, type, &off) < 3 || !off)
			goto out;
		if (!dm_task_add_target(dmt, start, length, type, line + off))
			goto out;
	}
	if (!dm_task_run(dmt)) {
		r = -EIO;
		goto out;
	}
	dm_task_update_nodes();
	r = dmdev_get_info(name, &info);
	if (r < 0 || !info.exists) {
		r = r < 0 ? r : -ENODEV;
		goto out;
	}
	snprintf(path, len, "/dev/mapper/%s", name);
	if (access(path, F_OK))
		snprintf(path, len, "/dev/dm-%u", info.minor);
	r = 0;
out:
	if (dmt)
		dm_task_destroy(dmt);
	free(copy);
	return r;
}

int dmdev_remove(const char *name)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_REMOVE);
	int r = 0;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_run(dmt))
		r = -EBUSY;
	dm_task_destroy(dmt);
	dm_task_update_nodes();
	return r;
}

void dmdev_lv_name(const char *vg, const char *lv, const char *suffix, char *out, size_t len)
{
	size_t o = 0;
	const char *parts[2] = { vg, lv };

	for (int i = 0; i < 2; i++) {
		for (const char *p = parts[i]; *p && o + 3 < len; p++) {
			if (*p == '-')
				out[o++] = '-';
			out[o++] = *p;
		}
		if (i == 0 && o + 2 < len)
			out[o++] = '-';
	}
	out[o] = '\0';
	if (suffix)
		snprintf(out + o, len - o, "%s", suffix);
}
