/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SNAPCOW_INTERNAL_H
#define SNAPCOW_INTERNAL_H

#include <assert.h>
#include <endian.h>
#include <stdint.h>
#include <syslog.h>

#include "shared.h"
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

struct snapcow_store {
	struct snapcow_ctx *ctx;
	const struct snapcow_dev *dev; /* what the store reads through */
	struct snapcow_dev *own_dev;   /* made from @fd by the store */
	int fd;                        /* -1 for a store in pieces */
	int own_fd;
	int is_blockdev;
	char *name;
	unsigned int flags;
	uint64_t size;
	struct snapcow_header hdr;
	struct snapcow_geometry geo;
	/* geo.chunk_bytes and geo.per_area, under their old names */
	uint32_t chunk_bytes;
	uint32_t per_area;
};

/* dev.c: 1 if @d is one block device. */
int snapcow_dev_is_blockdev(const struct snapcow_dev *d);

/* ctx.c: log through @ctx (NULL: dropped). */
void snapcow_log(const struct snapcow_ctx *ctx, int priority, const char *fmt, ...)
	SNAPCOW_PRINTF(3, 4);
#define log_err(ctx, ...) snapcow_log((ctx), LOG_ERR, __VA_ARGS__)
#define log_warn(ctx, ...) snapcow_log((ctx), LOG_WARNING, __VA_ARGS__)
#define log_info(ctx, ...) snapcow_log((ctx), LOG_INFO, __VA_ARGS__)
#define log_dbg(ctx, ...) snapcow_log((ctx), LOG_DEBUG, __VA_ARGS__)

/* store.c: snapcow_store_read_area(), saying nothing of a missing
 * terminator when @log_no_terminator is 0 (the checker reports it as a
 * problem of its own). */
int snapcow_read_area(struct snapcow_store *s, uint64_t area, void *buf, uint32_t *live,
		      int log_no_terminator);

/* store.c, the pieces of snapcow_read_area(): 0 if area @area lies in the
 * store, else SNAPCOW_ERR_TABLE (logged with @log_no_terminator); read its
 * chunk (no message); say that reading it failed (returns @err); count its
 * live records. */
int snapcow_area_fits(struct snapcow_store *s, uint64_t area, int log_no_terminator);
int snapcow_area_pread(struct snapcow_store *s, uint64_t area, void *buf);
int snapcow_area_read_failed(struct snapcow_store *s, uint64_t area, int err);
uint32_t snapcow_area_live(const struct snapcow_store *s, const void *buf);

/*
 * areas.c: the metadata areas of a store in order, 0, 1, 2 ..., as
 * snapcow_read_area() reads them, read ahead by the context's threads
 * (snapcow_ctx_set_threads()) so that the caller's work on one area
 * overlaps the reading of the next ones.  snapcow_areas_next() returns
 * what snapcow_read_area() would for the next area, with its chunk in
 * *@rec (valid until the next call) and its live records in *@n; the
 * caller stops at the first area that is not full.  Errors and messages
 * come in area order, from the caller's thread only.
 */
struct snapcow_areas;
int snapcow_areas_open(struct snapcow_store *s, int log_no_terminator,
		       struct snapcow_areas **out);
int snapcow_areas_next(struct snapcow_areas *a, const struct snapcow_disk_exception **rec,
		       uint32_t *n);
void snapcow_areas_close(struct snapcow_areas *a);

/* ctx.c: the threads a walk may use (>= 1). */
unsigned int snapcow_ctx_threads(const struct snapcow_ctx *ctx);

/*
 * table.c: walk the table as the kernel loads it, one metadata area at a
 * time, through snapcow_store_read_area(): @fn gets each area's live
 * records, @n of them (n == per_area: the area is full and the walk goes
 * on).  At the end *@last_area is the last area read and *@last_n its live
 * records.  Returns 0 at the end of the table, SNAPCOW_ERR_TABLE when a
 * full area is the last one in the store (then *@last_area is that full
 * area and *@last_n is per_area), a negative errno, or @fn's negative
 * return.  @log_no_terminator: as for snapcow_read_area().
 */
typedef int (*snapcow_area_fn)(void *data, uint64_t area,
			       const struct snapcow_disk_exception *rec, uint32_t n);
int snapcow_walk_areas(struct snapcow_store *s, snapcow_area_fn fn, void *data,
		       uint64_t *last_area, uint32_t *last_n, int log_no_terminator);

/* map.c: the exceptions of @m from old chunk @chunk on that are consecutive
 * on both sides (old and new chunk): returns how many (0 when @chunk has
 * none) with the first's new chunk in *@new_chunk; *@next_old is the first
 * mapped old chunk at or after @chunk (UINT64_MAX if none).  One binary
 * search, then a walk of the sorted array. */
uint64_t snapcow_map_run(const struct snapcow_map *m, uint64_t chunk, uint64_t *new_chunk,
			 uint64_t *next_old);

/* check.c: snapcow_table_check_area() for the @n records that sit at
 * indices @first.. of area @area (a torn area's records around a hole).
 * Returns: 0, -EINVAL or -ENOMEM. */
int snapcow_table_check_part(struct snapcow_table_check *c, uint64_t area, uint32_t first,
			     const void *records, uint32_t n);

/* rules.c: the kernel's choice among records that map one old chunk.
 * @b[0..@n) are records sorted by old chunk, then by their place in the
 * table (@seq); for every old chunk with several records, all but the one
 * dm-snapshot's lookup finds get SNAPCOW_REC_LOSER set in @seq (*@losers
 * counts them).  Returns: 0 or -ENOMEM. */
struct snapcow_rec {
	uint64_t old_chunk;
	uint64_t new_chunk;
	uint64_t seq;
};
#define SNAPCOW_REC_LOSER (1ULL << 63)
int snapcow_resolve_old_twice(struct snapcow_rec *b, uint64_t n, uint64_t *losers);

#endif
