/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hidden layer linked into both libsnapcow and the tools (kmod's
 * shared/): I/O loops, sizes, zero tests and the CRC.  Nothing here is
 * exported by the library (-fvisibility=hidden, localized in the static
 * archive too), nothing here prints, and nothing depends on more than libc
 * and zlib.
 */
#ifndef SNAPRESCUE_SHARED_H
#define SNAPRESCUE_SHARED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* pread()/pwrite() the whole range at @off, retrying EINTR and short
 * transfers.  Returns 0, -EIO when the file ends first (or a write makes no
 * progress), -EINVAL when @off + @len does not fit in an off_t, or -errno. */
int pread_full(int fd, void *buf, size_t len, uint64_t off);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* read()/write() the whole buffer at the current position (pipes, stdout).
 * Returns 0, -EIO at end of file, or -errno. */
int read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);

/* read() until @len bytes or the end of the file (pipes: until the writer
 * closes).  Returns: the bytes read (less than @len only at the end), or
 * -errno. */
ssize_t read_upto(int fd, void *buf, size_t len);

/* If @fd is a pipe, ask for a buffer of @bytes (fewer context switches for
 * a stream of large records; the kernel may give less, e.g. above
 * /proc/sys/fs/pipe-max-size, and that is fine). */
void pipe_grow(int fd, int bytes);

/* Size in bytes of the regular file or block device open on @fd; @st is its
 * fstat() or NULL.  Returns 0, -EISDIR, -EINVAL (neither a regular file nor
 * a block device) or -errno. */
int fd_size(int fd, const struct stat *st, uint64_t *size);

/* Returns: 1 if the @len bytes at @buf are all zero, else 0. */
int is_zero(const void *buf, size_t len);

/* CRC-32 (IEEE 802.3, zlib's crc32()) of @len bytes, continuing @crc
 * (start with 0). */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

/* CRC-32C (Castagnoli), the kernel's crc32c(): continue @crc over @len
 * bytes, no final inversion (persistent-data checksums start at ~0 and
 * XOR a per-kind constant). */
uint32_t crc32c_raw(uint32_t crc, const void *buf, size_t len);

/* fsync() @fd, then drop its cached pages so that the next read comes from
 * the device.  Returns 0 or -errno. */
int sync_and_drop(int fd);

/* fsync the directory that holds @path (so that a new name in it is
 * durable).  Returns 0 or -errno. */
int fsync_parent(const char *path);

#endif
