/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: any bytes as an undo file (libsnapcow's rewrite.c), of one
 * part or several (snap_merge's): snapcow_undo_open_parts(), then every
 * part's identity, ranges and saved bytes, and snapcow_undo_apply() as a
 * dry run (any identity) onto a 64 KiB zeroed store.  Each input is run
 * as given and, when that differs, with its CRCs made right (the header's
 * and the saved bytes' of every part it can follow), so that the fuzzer
 * gets past the checksums to the ranges.  Cross-checks (abort()):
 * snapcow_undo_open() takes the file exactly when it is of one part, and
 * the figures of both agree; the saved bytes read back inside every range.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "shared.h"
#include "snapcow.h"

#define H SNAPCOW_UNDO_HEADER_SIZE
#define STORE_BYTES 65536

static int store_fd = -1;

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

/* The CRCs of the part at @b made right; returns where it ends (0: stop). */
static size_t fix_part(uint8_t *d, size_t size, size_t b)
{
	uint32_t version, n, crc = 0, i;
	size_t reclen, pos = b + H;

	if (size - b < H)
		return 0;
	version = get32(d + b + 8);
	n = get32(d + b + 20);
	reclen = version == 2 ? 16 : 32;
	if (version == 1) {
		uint64_t len = get32(d + b + 64);

		if (len <= size - pos)
			crc = crc32_update(0, d + pos, len);
		pos = size;
	} else {
		for (i = 0; i < n && size - pos >= reclen; i++) {
			uint64_t len = get64(d + pos + 8);

			if (len > size - pos - reclen)
				break;
			crc = crc32_update(crc, d + pos, reclen + len);
			pos += reclen + len;
		}
	}
	put32(d + b + 248, crc);
	put32(d + b + 252, crc32_update(0, d + b, 252));
	return version == 3 && get32(d + b + 88) + 1 < get32(d + b + 92) ? pos : 0;
}

static void look(const struct snapcow_undo *u)
{
	static unsigned char buf[4096];
	struct snapcow_undo_range r;
	uint32_t i, n = snapcow_undo_ranges(u);
	uint64_t bytes = 0;

	(void)snapcow_undo_identity(u);
	for (i = 0; i < n; i++) {
		uint64_t len;

		FUZZ_CHECK(snapcow_undo_range(u, i, &r) == 0, "range %u of %u cannot be described",
			   i, n);
		bytes += r.length;
		len = r.length < sizeof(buf) ? r.length : sizeof(buf);
		FUZZ_CHECK(snapcow_undo_read_saved(u, r.offset, buf, len) == 0,
			   "range %u (%llu bytes at %llu): its saved bytes cannot be read", i,
			   (unsigned long long)r.length, (unsigned long long)r.offset);
		if (r.length > 1)
			snapcow_undo_read_saved(u, r.offset + r.length - 1, buf, 1);
		snapcow_undo_read_saved(u, r.offset + r.length, buf, 1);
	}
	FUZZ_CHECK(snapcow_undo_range(u, n, &r) < 0, "a range past the last one");
	FUZZ_CHECK(bytes == snapcow_undo_bytes(u), "ranges of %llu bytes, the undo says %llu",
		   (unsigned long long)bytes, (unsigned long long)snapcow_undo_bytes(u));
}

static void one(const uint8_t *data, size_t size)
{
	struct snapcow_undo *u = NULL, *single = NULL;
	const struct snapcow_undo *p;
	char path[64];
	uint32_t parts = 0;
	int fd = fuzz_memfd(data, size), rc, rc1;

	if (fd < 0)
		return;
	fuzz_fd_path(fd, path, sizeof(path));
	rc = snapcow_undo_open_parts(tool_ctx(), path, &u);
	rc1 = snapcow_undo_open(tool_ctx(), path, &single);
	if (rc == 0) {
		for (p = u; p; p = snapcow_undo_next_part(p), parts++)
			look(p);
		FUZZ_CHECK(parts == snapcow_undo_parts(u), "%u parts read, the file says %u", parts,
			   snapcow_undo_parts(u));
		FUZZ_CHECK((rc1 == 0) == (parts == 1),
			   "a file of %u parts: snapcow_undo_open() says %d", parts, rc1);
		if (rc1 == 0)
			FUZZ_CHECK(snapcow_undo_ranges(single) == snapcow_undo_ranges(u) &&
				   snapcow_undo_bytes(single) == snapcow_undo_bytes(u),
				   "snapcow_undo_open() and _open_parts() read other ranges");
		snapcow_undo_apply(u, store_fd, NULL,
				   SNAPCOW_UNDO_ANY_IDENTITY | SNAPCOW_UNDO_DRY_RUN);
	} else {
		FUZZ_CHECK(rc1 != 0, "snapcow_undo_open() takes what _open_parts() refuses (%d)",
			   rc);
	}
	if (rc == 0)
		snapcow_undo_free(u);
	if (rc1 == 0)
		snapcow_undo_free(single);
	fuzz_memfd_close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	size_t b = 0;

	if (store_fd < 0) {
		store_fd = fuzz_memfd(NULL, 0);
		if (store_fd < 0 || ftruncate(store_fd, STORE_BYTES) < 0)
			abort();
	}
	one(data, size);
	if (size < H || !(fixed = malloc(size)))
		return 0;
	memcpy(fixed, data, size);
	do
		b = fix_part(fixed, size, b);
	while (b && b < size);
	if (memcmp(fixed, data, size))
		one(fixed, size);
	free(fixed);
	return 0;
}

#include "replay.h"
