/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_mount's job: snapshot views (and the origins as they are now) served
 * as read-only regular files of a FUSE filesystem (libfuse3), read through
 * libsnapcow's views as snap_extract reads them, holes reported with
 * SEEK_DATA/SEEK_HOLE, many readers at once.
 */
#ifndef SNAPRESCUE_MOUNTFS_H
#define SNAPRESCUE_MOUNTFS_H

#include <stdint.h>

#include "viewopt.h"

/* One file of the mount: a snapshot view, or a byte source (the origin as
 * it is now). */
struct mount_file {
	char name[256];
	uint64_t size;
	uint64_t data_bytes;           /* bytes that are not holes (st_blocks) */
	struct viewset *vs;            /* a view, or NULL */
	const struct snapcow_dev *dev; /* with @vs NULL: the bytes */
	int failed;                    /* a read error was logged (once) */
};

struct mount_set {
	struct mount_file *f;
	size_t n;
};

/* Add a view as file @name (copied), or a byte source when @vs is NULL.
 * Returns: 0, -EEXIST (the name is taken) or -ENOMEM. */
int mount_set_add(struct mount_set *set, const char *name, struct viewset *vs,
		  const struct snapcow_dev *dev);

/* Close every view of @set (viewset_close, then free(): the caller made
 * each with malloc) and free the list; the byte sources belong to them. */
void mount_set_close(struct mount_set *set);

struct mount_options {
	const char *mountpoint;
	int foreground;
	int allow_other;
};

/* Mount @set at @opt->mountpoint read-only and serve it until unmounted
 * (fusermount3 -u, snap_mount -u) or SIGTERM/SIGINT/SIGHUP; in the
 * background unless @opt->foreground (the parent returns once the mount
 * is in place).  Returns: the exit status. */
int mountfs_run(struct mount_set *set, const struct mount_options *opt);

/* Unmount @mountpoint (umount2, else fusermount3 -u).  Returns: the exit
 * status. */
int mountfs_unmount(const char *mountpoint);

#endif
