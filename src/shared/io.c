/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <zlib.h>

#include "shared.h"

/* The one I/O loop: all of @len, retrying EINTR and short transfers. */
enum io_op { IO_READ, IO_WRITE, IO_PREAD, IO_PWRITE };

static ssize_t io_once(enum io_op op, int fd, char *p, size_t len, uint64_t off)
{
	switch (op) {
	case IO_READ:
		return read(fd, p, len);
	case IO_WRITE:
		return write(fd, p, len);
	case IO_PREAD:
		return pread(fd, p, len, (off_t)off);
	default:
		return pwrite(fd, p, len, (off_t)off);
	}
}

static int io_full(enum io_op op, int fd, char *p, size_t len, uint64_t off)
{
	/* An off_t range check: offsets past INT64_MAX (a corrupt new_chunk
	 * times the chunk size, say) must fail, not wrap around. */
	if ((op == IO_PREAD || op == IO_PWRITE) &&
	    (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off))
		return -EINVAL;
	while (len) {
		ssize_t n = io_once(op, fd, p, len, off);

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

int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	return io_full(IO_PREAD, fd, buf, len, off);
}

int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	return io_full(IO_PWRITE, fd, (char *)buf, len, off);
}

int read_full(int fd, void *buf, size_t len)
{
	return io_full(IO_READ, fd, buf, len, 0);
}

int write_full(int fd, const void *buf, size_t len)
{
	return io_full(IO_WRITE, fd, (char *)buf, len, 0);
}

ssize_t read_upto(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = io_once(IO_READ, fd, p + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

void pipe_grow(int fd, int bytes)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, bytes);
}

int fd_size(int fd, const struct stat *st, uint64_t *size)
{
	struct stat own;

	if (!st) {
		if (fstat(fd, &own) < 0)
			return -errno;
		st = &own;
	}
	if (S_ISBLK(st->st_mode)) {
		uint64_t sz;

		if (ioctl(fd, BLKGETSIZE64, &sz) < 0)
			return -errno;
		*size = sz;
		return 0;
	}
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	*size = (uint64_t)st->st_size;
	return 0;
}

int is_zero(const void *buf, size_t len)
{
	/* The first 16 bytes against zeros, then the buffer against itself
	 * 16 bytes on: memcmp is vectorised, a byte loop is not. */
	static const unsigned char zero16[16];
	const unsigned char *p = buf;

	if (len <= 16)
		return !memcmp(p, zero16, len);
	return !memcmp(p, zero16, 16) && !memcmp(p, p + 16, len - 16);
}

uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* zlib takes a uInt length. */
	while (len) {
		uInt n = len > (1U << 30) ? (1U << 30) : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

/* Slicing by 8 (Intel's, as in zlib's crc32): eight bytes a step, one
 * table each; thin metadata checks a 4 KiB block per node read. */
static uint32_t crc32c_table[8][256];

static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78U : c >> 1;
		crc32c_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc32c_table[t][i] = crc32c_table[0][crc32c_table[t - 1][i] & 0xff] ^
					     (crc32c_table[t - 1][i] >> 8);
}

/* Not traced by the fuzzers' coverage (make fuzz): a loop with no branch
 * worth a fuzzer's attention, run over every 4 KiB block read, was half
 * of fuzz_thin's time in compare tracing. */
#ifdef __clang__
__attribute__((no_sanitize("coverage")))
#endif
uint32_t crc32c_raw(uint32_t crc, const void *buf, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const unsigned char *p = buf;

	pthread_once(&once, crc32c_init);
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24);

		crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
		      crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
		      crc32c_table[3][p[4]] ^ crc32c_table[2][p[5]] ^ crc32c_table[1][p[6]] ^
		      crc32c_table[0][p[7]];
	}
	while (len--)
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

int sync_and_drop(int fd)
{
	if (fsync(fd) < 0)
		return -errno;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	return 0;
}

int fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
	} else {
		if (fsync(fd) < 0 && errno != EINVAL)
			r = -errno;
		close(fd);
	}
	free(copy);
	return r;
}
