/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fsprobe.h"
#include "shared.h"

int fsprobe_fd(int fd, uint64_t size, char *type, size_t len)
{
	const char *val = NULL;
	blkid_probe pr;
	int r;

	pr = blkid_new_probe();
	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, (blkid_loff_t)size) < 0) {
		r = -EIO;
		goto out;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	r = blkid_do_safeprobe(pr);
	if (r == 1) {
		r = 0;
	} else if (r == -2) {
		snprintf(type, len, "several signatures");
		r = 2;
	} else if (r < 0) {
		r = -EIO;
	} else if (!blkid_probe_lookup_value(pr, "TYPE", &val, NULL) && val) {
		snprintf(type, len, "%s", val);
		r = 1;
	} else {
		r = 0;
	}
out:
	blkid_free_probe(pr);
	return r;
}

int fsprobe_path(const char *path, char *type, size_t len)
{
	struct stat st;
	uint64_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno : fd_size(fd, &st, &size);
	if (!r) {
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		r = fsprobe_fd(fd, size, type, len);
	}
	close(fd);
	return r;
}

enum fs_family fs_family_of(const char *type)
{
	if (!strcmp(type, "ext2") || !strcmp(type, "ext3") || !strcmp(type, "ext4"))
		return FS_EXT2;
	if (!strcmp(type, "xfs"))
		return FS_XFS;
	if (!strcmp(type, "btrfs"))
		return FS_BTRFS;
	return FS_OTHER;
}
