/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test-store generation shared by tests/helpers/mkstore.c, the unit tests
 * and the fuzz corpus: header-only so that each test program stays one
 * file.  Stores are laid out exactly as the kernel lays them out: new
 * chunks are allocated from next_free = 2 upwards, skipping area chunks.
 *
 * Data patterns (8-byte little-endian words), so a view read can be
 * verified byte by byte:
 *   COW data chunk of old chunk O, byte B in the chunk:
 *       0xC0 << 56 | (O & 0xffffff) << 32 | B
 *   origin image, byte offset X:            0x0A << 56 | X
 *   uncommitted data chunk C (past next_free), byte B: 0xDD << 56 | (C & 0xffffff) << 32 | B
 */
#ifndef SNAPRESCUE_STOREGEN_H
#define SNAPRESCUE_STOREGEN_H

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapcow.h"

enum gen_order { GEN_SEQ, GEN_SHUFFLE, GEN_REVERSE };

struct gen_opts {
	uint32_t chunk_sectors;  /* default 8 */
	uint64_t size;           /* store bytes; 0: room for one more exception */
	uint64_t exceptions;
	enum gen_order order;
	uint64_t seed;
	uint32_t valid;          /* header valid flag */
	int data;                /* stamp mapped data chunks */
	uint64_t old_base;       /* first old chunk */
	uint64_t old_stride;     /* distance between old chunks (default 1) */
	uint64_t uncommitted;    /* stamp this many chunks past next_free */
	int uncommitted_all;     /* ... or all of them to the end */
};

static inline uint64_t gen_cow_word(uint64_t old_chunk, uint64_t byte)
{
	return 0xC0ULL << 56 | (old_chunk & 0xffffff) << 32 | (byte & 0xffffffff);
}

static inline uint64_t gen_origin_word(uint64_t offset)
{
	return 0x0AULL << 56 | (offset & 0xffffffffffffffULL);
}

static inline uint64_t gen_uncommitted_word(uint64_t chunk, uint64_t byte)
{
	return 0xDDULL << 56 | (chunk & 0xffffff) << 32 | (byte & 0xffffffff);
}

static inline uint64_t gen_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* The kernel's allocator: next chunk after @next_free, skipping areas. */
static inline uint64_t gen_advance(uint32_t per_area, uint64_t next_free)
{
	next_free++;
	if (next_free % ((uint64_t)per_area + 1) == 1)
		next_free++;
	return next_free;
}

/* next_free after @n exceptions allocated the kernel's way. */
static inline uint64_t gen_next_free(uint32_t per_area, uint64_t n)
{
	uint64_t nf = 2, i;

	for (i = 0; i < n; i++)
		nf = gen_advance(per_area, nf);
	return nf;
}

/* Old chunk of table record @i. */
static inline uint64_t *gen_old_chunks(const struct gen_opts *o)
{
	uint64_t n = o->exceptions, i, stride = o->old_stride ? o->old_stride : 1;
	uint64_t *old = malloc((n ? n : 1) * sizeof(*old)), st = o->seed;

	if (!old)
		return NULL;
	for (i = 0; i < n; i++)
		old[i] = o->old_base + i * stride;
	if (o->order == GEN_REVERSE) {
		for (i = 0; i < n / 2; i++) {
			uint64_t t = old[i];
			old[i] = old[n - 1 - i];
			old[n - 1 - i] = t;
		}
	} else if (o->order == GEN_SHUFFLE) {
		for (i = n; i > 1; i--) {
			uint64_t j = gen_rand(&st) % i, t = old[i - 1];
			old[i - 1] = old[j];
			old[j] = t;
		}
	}
	return old;
}

static inline int gen_stamp_chunk(int fd, unsigned char *buf, uint32_t chunk_bytes,
				  uint64_t chunk, uint64_t key, int uncommitted)
{
	uint64_t b;
	ssize_t n;

	for (b = 0; b < chunk_bytes; b += 8) {
		uint64_t w = htole64(uncommitted ? gen_uncommitted_word(chunk, b) :
				     gen_cow_word(key, b));
		memcpy(buf + b, &w, 8);
	}
	n = pwrite(fd, buf, chunk_bytes, (off_t)(chunk * chunk_bytes));
	if (n < 0)
		return -errno;
	return n == (ssize_t)chunk_bytes ? 0 : -EIO;
}

/* Minimal store size for @o: the table (and its terminating area), the
 * uncommitted chunks asked for and one free chunk, so that the kernel could
 * add one more exception. */
static inline uint64_t gen_default_size(const struct gen_opts *o)
{
	uint32_t per = o->chunk_sectors * SNAPCOW_SECTOR_SIZE / SNAPCOW_RECORD_SIZE;
	uint64_t nf = gen_next_free(per, o->exceptions + o->uncommitted);
	uint64_t chunks = nf + 1;
	uint64_t term = snapcow_area_chunk(per, o->exceptions / per);

	if (term + 1 > chunks)
		chunks = term + 1;
	return chunks * o->chunk_sectors * SNAPCOW_SECTOR_SIZE;
}

/* Write the store described by @o on @fd (empty regular file).
 * Returns 0 or a negative errno / SNAPCOW_ERR_*. */
static inline int gen_store(int fd, const char *name, const struct gen_opts *o)
{
	uint32_t cs = o->chunk_sectors ? o->chunk_sectors : 8;
	uint32_t cb = cs * SNAPCOW_SECTOR_SIZE, per = cb / SNAPCOW_RECORD_SIZE;
	struct gen_opts d = *o;
	struct snapcow_writer *w;
	struct snapcow_exception e;
	unsigned char *buf;
	uint64_t *old, nf = 2, i, size, chunks, left;
	int r;

	d.chunk_sectors = cs;
	size = d.size ? d.size : gen_default_size(&d);
	chunks = size / cb;
	old = gen_old_chunks(&d);
	buf = malloc(cb);
	if (!old || !buf) {
		free(old);
		free(buf);
		return -ENOMEM;
	}
	r = snapcow_writer_new(NULL, fd, name, cs, size, &w);
	if (r < 0)
		goto out;
	for (i = 0; i < d.exceptions; i++) {
		e.old_chunk = old[i];
		e.new_chunk = nf;
		r = snapcow_writer_add(w, &e);
		if (r < 0)
			goto out_w;
		if (d.data) {
			r = gen_stamp_chunk(fd, buf, cb, nf, old[i], 0);
			if (r < 0)
				goto out_w;
		}
		nf = gen_advance(per, nf);
	}
	left = d.uncommitted_all ? UINT64_MAX : d.uncommitted;
	for (; left && nf < chunks; left--) {
		r = gen_stamp_chunk(fd, buf, cb, nf, 0, 1);
		if (r < 0)
			goto out_w;
		nf = gen_advance(per, nf);
	}
	r = snapcow_writer_finish(w, d.valid);
out_w:
	snapcow_writer_free(w);
out:
	free(old);
	free(buf);
	return r;
}

#endif
