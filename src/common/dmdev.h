/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tool-side device-mapper helpers over libdevmapper (never in libsnapcow). */
#ifndef SNAPRESCUE_DMDEV_H
#define SNAPRESCUE_DMDEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Silence libdevmapper's own messages (the last one is kept for
 * dmdev_last_error()) and, with @no_udev, do not wait for udev. */
void dmdev_init(int no_udev);
/* The last error libdevmapper logged, "" if none. */
const char *dmdev_last_error(void);

/* Returns: 0 if the kernel's device-mapper answers, else -errno with a
 * one-line reason in @why ("/dev/mapper/control: No such device"). */
int dmdev_available(char *why, size_t len);

/* Names of active dm devices whose table references @dev, separated by
 * ", ", into @names.  Returns: how many, or -errno (dm unavailable). */
int dmdev_users(dev_t dev, char *names, size_t len);

struct dmdev_info {
	int exists;
	int suspended;
	int open_count;
	uint32_t major, minor;
};
/* Returns: 0 and *@info (exists 0 if there is no such device), or -errno. */
int dmdev_get_info(const char *name, struct dmdev_info *info);

/* The live table (@status 0) or status (@status 1) of @name, one line per
 * target ("start length type params"), malloc'd into *@out.
 * Returns: 0, -ENODEV if no such device, or -errno. */
int dmdev_get_lines(const char *name, int status, char **out);

/* Snapshot status of @name: Returns 0 and the fields, -ENODEV, -EINVAL if
 * the target is not a snapshot, or -errno. */
struct dmdev_snapshot_status {
	int invalid, overflow, merge_failed;
	uint64_t used_sectors, total_sectors, metadata_sectors;
};
int dmdev_snapshot_status(const char *name, struct dmdev_snapshot_status *st);

/* Thin-pool status of @name (the "-tpool" device). */
struct dmdev_pool_status {
	int read_only, fail, out_of_data_space, needs_check, error, queue_if_no_space;
	uint64_t used_data, total_data, used_meta, total_meta, transaction_id;
};
int dmdev_pool_status(const char *name, struct dmdev_pool_status *st);

/* Create device @name (UUID @uuid, may be NULL) with @table (lines as
 * dmdev_get_lines() gives them), active, read-write.  Returns: 0 and the
 * path of its node in @path, or -errno. */
int dmdev_create(const char *name, const char *uuid, const char *table, char *path,
		 size_t len);
/* Remove device @name.  Returns: 0 or -errno. */
int dmdev_remove(const char *name);

/* The dm name of VG/LV with @suffix ("" or "-cow"): dashes doubled. */
void dmdev_lv_name(const char *vg, const char *lv, const char *suffix, char *out, size_t len);

#endif
