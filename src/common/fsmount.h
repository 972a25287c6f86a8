/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A mount that nobody else sees, to let the kernel replay a filesystem's
 * log (XFS needs one before xfs_repair; a btrfs log tree is replayed by a
 * mount): a child process makes its own private mount namespace, mounts
 * the filesystem read-write with nosuid, nodev and noexec (XFS also
 * nouuid; an image file through a loop device, which libmount sets up and
 * frees) on a new empty directory, and unmounts it, which writes the
 * replayed state back.  If the child dies half-way, the kernel drops the
 * namespace and its mount with it; the rest of the system never sees the
 * filesystem mounted.  Needs root and the kernel's support for the type.
 */
#ifndef SNAPRESCUE_FSMOUNT_H
#define SNAPRESCUE_FSMOUNT_H

#include <stddef.h>
#include <stdint.h>

enum fsmount_flags {
	FSMOUNT_IMAGE = 1 << 0, /* @source is an image file: mount it through a loop device */
};

struct fsmount_result {
	char options[128]; /* the mount options used */
	char why[512];     /* what failed, "" when it worked */
	int unavailable;   /* not tried or failed for want of root or of the kernel's
			      support for the type (not the filesystem's fault) */
	uint64_t ns;       /* time from mount to the end of the unmount */
};

/* Mount @source as @fstype and unmount it, as above.  Returns: 0, or -1
 * with @res->why ("mounting needs root", "this kernel cannot mount xfs
 * (...)", "mount: wrong fs type, bad option, bad superblock on ...",
 * "umount: ..."). */
int fsmount_cycle(const char *source, const char *fstype, unsigned int flags,
		  struct fsmount_result *res);

/* Returns: 1 if this kernel lists @fstype in /proc/filesystems (it may
 * still load it on demand when not). */
int fsmount_kernel_has(const char *fstype);

#endif
