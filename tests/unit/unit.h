/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tiny helpers for the library unit tests: exit 0 pass, 1 fail, 77 skip. */
#ifndef SNAPRESCUE_UNIT_H
#define SNAPRESCUE_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "snapcow.h"
#include "../helpers/storegen.h"

static int unit_failures;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
			unit_failures++;                                               \
		}                                                                      \
	} while (0)

#define CHECK_EQ(a, b)                                                                 \
	do {                                                                           \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                       \
		if (a_ != b_) {                                                        \
			fprintf(stderr, "%s:%d: FAILED: %s == %s (%" PRIu64 " != %" PRIu64 ")\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);                   \
			unit_failures++;                                               \
		}                                                                      \
	} while (0)

static inline int unit_done(const char *name)
{
	printf("%s: %s\n", name, unit_failures ? "FAILED" : "ok");
	return unit_failures ? 1 : 0;
}

/* A store in an anonymous file. */
static inline int unit_store(const struct gen_opts *o)
{
	int fd = memfd_create("unit-store", MFD_CLOEXEC), r;

	if (fd < 0) {
		perror("memfd_create");
		exit(77);
	}
	r = gen_store(fd, "unit-store", o);
	if (r < 0) {
		fprintf(stderr, "gen_store: %s\n", snapcow_strerror(r));
		exit(1);
	}
	return fd;
}

static inline struct snapcow_store *unit_open(int fd)
{
	struct snapcow_store *s;
	int r = snapcow_store_open_fd(NULL, fd, "unit-store", 0, &s);

	if (r < 0) {
		fprintf(stderr, "open: %s\n", snapcow_strerror(r));
		exit(1);
	}
	return s;
}

static inline void unit_pwrite64(int fd, uint64_t off, uint64_t v)
{
	v = htole64(v);
	if (pwrite(fd, &v, 8, (off_t)off) != 8) {
		perror("pwrite");
		exit(1);
	}
}

/* Byte offset of a record, for chunk_bytes @cb. */
static inline uint64_t unit_rec(uint32_t cb, uint64_t area, uint64_t idx)
{
	return snapcow_area_chunk(cb / 16, area) * cb + idx * 16;
}

#endif
