/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapcow-internal.h"

static snapcow_log_fn log_fn;
static void *log_data;
static int log_priority = LOG_WARNING;

SNAPCOW_EXPORT void snapcow_set_log_fn(snapcow_log_fn fn, void *data)
{
	log_fn = fn;
	log_data = data;
}

SNAPCOW_EXPORT void snapcow_set_log_priority(int priority)
{
	log_priority = priority;
}

void snapcow_log(int priority, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!log_fn || priority > log_priority)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(log_data, priority, msg);
}

SNAPCOW_EXPORT const char *snapcow_version(void)
{
	return SNAPCOW_VERSION_STRING;
}

SNAPCOW_EXPORT const char *snapcow_strerror(int err)
{
	switch (err) {
	case SNAPCOW_ERR_MAGIC:
		return "not a dm-snapshot exception store (bad magic)";
	case SNAPCOW_ERR_NEW:
		return "header is zero: the kernel would initialise it as a new, empty store";
	case SNAPCOW_ERR_VERSION:
		return "unsupported store version";
	case SNAPCOW_ERR_CHUNK_SIZE:
		return "invalid chunk size";
	case SNAPCOW_ERR_TOO_SMALL:
		return "store too small";
	case SNAPCOW_ERR_TABLE:
		return "exception table corrupt";
	case SNAPCOW_ERR_RECORD:
		return "invalid exception record";
	}
	if (snapcow_rewrite_strerror(err)) /* rewrite.c's codes (h-resurrect) */
		return snapcow_rewrite_strerror(err);
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

int snapcow_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int snapcow_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int snapcow_fd_size(int fd, uint64_t *size, int *is_blockdev)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz;
		if (ioctl(fd, BLKGETSIZE64, &sz) < 0)
			return -errno;
		*size = sz;
		if (is_blockdev)
			*is_blockdev = 1;
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = (uint64_t)st.st_size;
	if (is_blockdev)
		*is_blockdev = 0;
	return 0;
}

int snapcow_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	/* Check the first 16 bytes, then compare the buffer with itself
	 * shifted: memcmp is vectorised and much faster than a byte loop. */
	for (i = 0; i < len && i < 16; i++)
		if (p[i])
			return 0;
	if (len <= 16)
		return 1;
	return memcmp(p, p + 16, len - 16) == 0;
}
