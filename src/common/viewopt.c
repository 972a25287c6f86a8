/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"
#include "viewopt.h"

int viewopt_parse(struct viewopt *o, int c, const char *arg, int usage_code)
{
	switch (c) {
	case VIEWOPT_ORIGIN:
		o->origin = arg;
		return 1;
	case VIEWOPT_ZERO_ORIGIN:
		o->zero_origin = 1;
		return 1;
	case VIEWOPT_SIZE:
		if (parse_size(arg, &o->size) < 0 || !o->size) {
			warnx("invalid size: '%s'", arg);
			try_help(usage_code);
		}
		return 1;
	case VIEWOPT_IGNORE_INVALID:
		o->ignore_invalid = 1;
		return 1;
	}
	return 0;
}

void viewopt_check(const struct viewopt *o, int usage_code)
{
	if (o->origin && o->zero_origin) {
		warnx("--origin and --zero-origin are mutually exclusive");
		try_help(usage_code);
	}
	if (!o->origin && !o->zero_origin) {
		warnx("the origin is needed: --origin FILE or --zero-origin --size BYTES");
		try_help(usage_code);
	}
	if (o->zero_origin && !o->size) {
		warnx("--zero-origin needs --size (the volume's virtual size)");
		try_help(usage_code);
	}
}

static char lib_msg[512];

static void capture_log(void *data, int priority, const char *msg)
{
	(void)data, (void)priority;
	snprintf(lib_msg, sizeof(lib_msg), "%s", msg);
}

void viewopt_open(const struct viewopt *o, const char *store_path, struct viewset *vs,
		  int fail_code)
{
	struct snapcow_map *map;
	int verbosity = tool_verbosity();
	uint64_t osize = 0;
	int r;

	memset(vs, 0, sizeof(*vs));
	vs->origin_fd = -1;
	/* One message per failure: keep the library's detail (which field,
	 * which offset) for format errors, say it our way for errno ones. */
	lib_msg[0] = 0;
	snapcow_set_log_fn(capture_log, NULL);
	r = snapcow_store_open(store_path, 0, &vs->store);
	tool_init(program_name);
	tool_set_verbosity(verbosity);
	if (r < 0 && r > -2000)
		errx(fail_code, "cannot open %s: %s", store_path, snapcow_strerror(r));
	if (r < 0)
		errx(fail_code, "%s", lib_msg[0] ? lib_msg : snapcow_strerror(r));
	vs->chunk_bytes = snapcow_store_chunk_bytes(vs->store);
	vs->invalid = snapcow_store_header(vs->store)->valid == 0;
	if (vs->invalid && !o->ignore_invalid)
		errx(fail_code, "%s: the snapshot is marked invalid (the kernel fails all I/O "
		     "to it); pass --ignore-invalid to read its committed table anyway",
		     store_path);
	if (o->origin) {
		vs->origin_fd = open(o->origin, O_RDONLY | O_CLOEXEC);
		if (vs->origin_fd < 0)
			errx(fail_code, "cannot open %s: %s", o->origin, strerror(errno));
		r = fd_size(vs->origin_fd, NULL, &osize);
		if (r < 0)
			errx(fail_code, "cannot get the size of %s: %s", o->origin, strerror(-r));
	}
	vs->size = o->size ? o->size : osize;
	if (!vs->size)
		errx(fail_code, "%s: the origin is empty", o->origin);
	r = snapcow_store_scan(vs->store, &vs->stats);
	if (r < 0)
		errx(fail_code, "%s: cannot read the exception table: %s", store_path,
		     snapcow_strerror(r));
	r = snapcow_map_new(vs->store, &map);
	if (r < 0)
		errx(fail_code, "%s: cannot read the exception table: %s", store_path,
		     snapcow_strerror(r));
	r = snapcow_view_new(vs->store, map, vs->origin_fd, vs->size, &vs->view);
	if (r < 0)
		errx(fail_code, "%s: cannot build the snapshot view: %s", store_path,
		     snapcow_strerror(r));
}

void viewset_close(struct viewset *vs)
{
	snapcow_view_free(vs->view);
	snapcow_store_free(vs->store);
	if (vs->origin_fd >= 0)
		close(vs->origin_fd);
	memset(vs, 0, sizeof(*vs));
	vs->origin_fd = -1;
}
