/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SNAPCOW_INTERNAL_H
#define SNAPCOW_INTERNAL_H

#include <assert.h>
#include <endian.h>
#include <stdint.h>
#include <syslog.h>

#include "snapcow.h"

#define SNAPCOW_EXPORT __attribute__((visibility("default")))
#define SNAPCOW_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* On-disk structures: little-endian, fixed width. */
struct snapcow_disk_header {
	uint32_t magic;
	uint32_t valid;
	uint32_t version;
	uint32_t chunk_size;
} __attribute__((packed));
static_assert(sizeof(struct snapcow_disk_header) == 16, "disk header is 16 bytes");

struct snapcow_disk_exception {
	uint64_t old_chunk;
	uint64_t new_chunk;
} __attribute__((packed));
static_assert(sizeof(struct snapcow_disk_exception) == SNAPCOW_RECORD_SIZE,
	      "disk exception is 16 bytes");

/* Kernel limit on the chunk size: INT_MAX >> SECTOR_SHIFT sectors. */
#define SNAPCOW_KERNEL_MAX_CHUNK_SECTORS (0x7fffffffU >> 9)
#define SNAPCOW_LVM_MIN_CHUNK_SECTORS 8U
#define SNAPCOW_LVM_MAX_CHUNK_SECTORS 1024U

struct snapcow_store {
	int fd;
	int own_fd;
	int is_blockdev;
	char *name;
	unsigned int flags;
	uint64_t size;
	struct snapcow_header hdr;
	uint32_t chunk_bytes;
	uint32_t per_area;
};

void snapcow_log(int priority, const char *fmt, ...) SNAPCOW_PRINTF(2, 3);
#define log_err(...) snapcow_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...) snapcow_log(LOG_WARNING, __VA_ARGS__)
#define log_info(...) snapcow_log(LOG_INFO, __VA_ARGS__)
#define log_dbg(...) snapcow_log(LOG_DEBUG, __VA_ARGS__)

/* pread/pwrite the whole range; return 0, -EIO on a short transfer, -errno. */
int snapcow_pread_full(int fd, void *buf, size_t len, uint64_t off);
int snapcow_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* Size of a regular file or block device behind @fd. */
int snapcow_fd_size(int fd, uint64_t *size, int *is_blockdev);
int snapcow_is_zero(const void *buf, size_t len);

/*
 * Walk the table as the kernel loads it, one metadata area at a time: @fn
 * gets each area's records up to (not including) the terminator, @n of
 * them (n == per_area: the area is full and the walk goes on).  At the end
 * *@last_area is the last area read and *@last_n its live records.
 * Returns 0 at the end of the table, SNAPCOW_ERR_TABLE (logged) when a full
 * area is the last one in the store (then *@last_area is that full area and
 * *@last_n is per_area), a negative errno, or @fn's negative return.
 */
typedef int (*snapcow_area_fn)(void *data, uint64_t area,
			       const struct snapcow_disk_exception *rec, uint32_t n);
int snapcow_walk_areas(struct snapcow_store *s, snapcow_area_fn fn, void *data,
		       uint64_t *last_area, uint32_t *last_n);
/* next_free as the kernel finishes it: skip an area chunk it lands on. */
uint64_t snapcow_next_free_finish(const struct snapcow_store *s, uint64_t next_free);

/* rewrite.c: descriptions of SNAPCOW_ERR_UNDO_* / _VERIFY, NULL for others. */
const char *snapcow_rewrite_strerror(int err);

/* The exceptions of @m from old chunk @chunk on that are consecutive on both
 * sides (old and new chunk): returns how many (0 when @chunk has none) with
 * the first's new chunk in *@new_chunk; *@next_old is the first mapped old
 * chunk at or after @chunk (UINT64_MAX if none).  One binary search, then a
 * walk of the sorted array. */
uint64_t snapcow_map_run(const struct snapcow_map *m, uint64_t chunk, uint64_t *new_chunk,
			 uint64_t *next_old);

#endif
