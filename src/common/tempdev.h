/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A temporary device-mapper device over the extents of an inactive LV (the
 * table it had while active), so that a tool can write to them while LVM
 * keeps the LV down: snap_resurrect rewrites a COW's header this way.  Its
 * UUID is TEMP_UUID_PREFIX (target.h) + the LV's dm UUID, so an undo file
 * made through it names the LV (store_identity() drops the prefix).
 */
#ifndef SNAPRESCUE_TEMPDEV_H
#define SNAPRESCUE_TEMPDEV_H

/* Called with the device open read-write and O_EXCL; returns 0 or a
 * negative errno. */
typedef int (*tempdev_fn)(void *data, int fd, const char *path);

/* Create device @name with @table (lines as dmdev_get_lines() gives them)
 * and the UUID TEMP_UUID_PREFIX @uuid (none when @uuid is ""), open it
 * O_RDWR | O_EXCL, call @fn, close and remove it.  A device @name that
 * exists already with the same @table and open by nobody is the one a
 * killed run left: removed (said) and made again; any other is refused
 * (something may use it; the warning names 'dmsetup remove').  Every
 * failure is warned about.  Returns: what @fn returned, or a negative
 * errno (-EEXIST, or from creating or opening the device). */
int tempdev_run(const char *name, const char *uuid, const char *table, tempdev_fn fn,
		void *data);

#endif
