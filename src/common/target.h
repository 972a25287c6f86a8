/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The store or device a writer is about to change: opened exclusively,
 * refused while the kernel uses it, and identified for its undo file
 * (device-mapper UUID from sysfs).  Tool-side: libsnapcow knows nothing of
 * sysfs or device-mapper names.
 */
#ifndef SNAPRESCUE_TARGET_H
#define SNAPRESCUE_TARGET_H

#include <sys/stat.h>

#include "snapcow.h"

/* snap_resurrect's temporary device over a COW's extents carries the COW's
 * dm UUID behind this prefix: it stands for that device in undo files. */
#define TEMP_UUID_PREFIX "SNAPRESCUE-"

/* Open the store @path (regular file or block device) to rewrite it in
 * place: read-write, or read-only with @dry_run; a block device with
 * O_EXCL unless @force > 0, so that one the kernel holds (an active
 * snapshot's COW) is refused.  @force: 1 forced, 0 not (the refusal names
 * --force), -1 not and --force cannot override it.  Exits with @code on
 * failure.  Returns the fd and *@st. */
int store_open_rw(const char *path, int dry_run, int force, int code, struct stat *st);

/* Refuse (exit @code) a block device that an active dm device's table
 * references, unless @force > 0 (then a warning; @force as above); for a
 * regular file say it was not checked (verbose).  Needs libdevmapper. */
void store_check_users(const char *path, const struct stat *st, int force, int code);

/* The device-mapper UUID of block device @rdev from sysfs, into @out.
 * Returns: 1 for a device-mapper device, 0 for another one. */
int sysfs_dm_uuid(dev_t rdev, char *out, size_t len);

/* snapcow_identity_get() of @fd plus, for a device-mapper device, its UUID
 * (without TEMP_UUID_PREFIX: the temporary device stands for the other).
 * Returns: 0 or a negative errno. */
int store_identity(int fd, struct snapcow_identity *id);

/* The default undo file of @program for @label (a store's base name, or
 * "VG-LV") in the current directory: "<program>-<label>-<YYYYmmdd-HHMMSS>.undo". */
void undo_default_name(const char *label, char *out, size_t len);

/* A new store written (and synced) under the temporary name @tmp next to
 * @path becomes @path: fault point before-link, link (never over a file
 * that appeared meanwhile), @tmp removed, the directory synced.  Returns 0
 * or -errno (not said). */
int link_new_store(const char *tmp, const char *path);

/* One device a writer is about to change, for undo_check_place(). */
struct undo_target {
	const char *what;  /* "the store", "the origin", "a physical volume" */
	struct stat st;
};

/* Refuse (exit @code) undo file @undo when it exists already, when its
 * directory cannot be used, or when it would be written on one of the @n
 * block devices of @targets (the bytes it saves would be overwritten). */
void undo_check_place(const char *undo, const struct undo_target *targets, size_t n, int code);

#endif
