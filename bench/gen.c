/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/gen: make the benchmark inputs with libsnapcow's writer.  Files are
 * sparse: only metadata areas, COW data and origin data take disk space.
 *
 *   gen meta STORE N
 *       N exceptions, 4 KiB chunks, no data (holes); old chunks are
 *       i * 40503 mod 2^k (scattered, each once), new chunks allocated
 *       the kernel's way from chunk 2 upwards.
 *   gen scatter STORE N
 *       The same with non-zero data in every data chunk: N a power of 2,
 *       a view of N chunks every one of which comes from the COW, in a
 *       scattered order.
 *   gen runs STORE VOLUME_BYTES COW_BYTES MAXRUN [ORIGIN]
 *       Exceptions covering COW_BYTES of a VOLUME_BYTES volume, as runs of
 *       1..MAXRUN chunks at random places (random gaps), allocated in a
 *       shuffled order of the runs (a file system writing here and there);
 *       every COW chunk holds non-zero data.  With ORIGIN, also write a
 *       VOLUME_BYTES origin image full of non-zero data.
 *   gen data FILE BYTES
 *       BYTES of non-zero data (the baseline file for cp).
 * Prints one line describing what it made.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapcow.h"

#define CHUNK_SECTORS 8U
#define CB 4096U
#define PER_AREA (CB / 16U)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "gen: %s: %s\n", what, snapcow_strerror(err < 0 ? err : -err));
	exit(1);
}

static uint64_t num(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'T': v <<= 10; /* fall through */
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; break;
	default: break;
	}
	return v;
}

/* Store chunks needed for @n exceptions: areas, data, the terminating
 * area and one free chunk. */
static uint64_t store_chunks(uint64_t n)
{
	return snapcow_area_chunk(PER_AREA, n / PER_AREA + 1) + 2;
}

static int create(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(path, errno);
	return fd;
}

/* Random non-zero bytes, different per chunk (its number in the first 8). */
static void fill(unsigned char *buf, size_t len, uint64_t tag)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = next_rand() | 1;
		memcpy(buf + i, &w, 8);
	}
	for (i = 0; i + CB <= len; i += CB) {
		uint64_t t = tag + i / CB + 1;
		memcpy(buf + i, &t, 8);
	}
}

/* Non-zero data in the data chunks of the first @n exceptions (those
 * between the areas, allocated the kernel's way), 1 MiB at a time. */
static void write_data(int fd, const char *path, uint64_t n, unsigned char *buf)
{
	uint64_t i;

	for (i = 0; i * PER_AREA < n; i++) {
		uint64_t k = n - i * PER_AREA < PER_AREA ? n - i * PER_AREA : PER_AREA;

		fill(buf, k * CB, i * PER_AREA);
		if (pwrite(fd, buf, k * CB, (off_t)((snapcow_area_chunk(PER_AREA, i) + 1) * CB)) !=
		    (ssize_t)(k * CB))
			die(path, errno ? errno : EIO);
	}
	if (fsync(fd) < 0)
		die(path, errno);
}

/* @data: write non-zero data in every data chunk too. */
static int gen_meta(const char *path, uint64_t n, int data)
{
	struct snapcow_writer *w;
	struct snapcow_exception e;
	uint64_t i, mask = 1, next = 2;
	int fd = create(path), r;

	while (mask < n)
		mask <<= 1;
	r = snapcow_writer_new(NULL, fd, path, CHUNK_SECTORS, store_chunks(n) * CB, &w);
	if (r < 0)
		die(path, r);
	for (i = 0; i < n; i++) {
		if (snapcow_chunk_is_metadata(PER_AREA, next))
			next++;
		/* An odd multiplier permutes [0, mask); n <= mask. */
		e.old_chunk = (i * 40503ULL) & (mask - 1);
		e.new_chunk = next++;
		r = snapcow_writer_add(w, &e);
		if (r < 0)
			die(path, r);
	}
	r = snapcow_writer_finish(w, 1);
	if (r < 0)
		die(path, r);
	snapcow_writer_free(w);
	if (data) {
		unsigned char *buf = malloc(1 << 20);

		if (!buf)
			die("memory", ENOMEM);
		write_data(fd, path, n, buf);
		free(buf);
	}
	close(fd);
	printf("store %s: %" PRIu64 " exceptions, 4 KiB chunks, %" PRIu64 " metadata areas, "
	       "%" PRIu64 " bytes (%s)\n", path, n, n / PER_AREA + 1, store_chunks(n) * CB,
	       data ? "every data chunk holds non-zero data" : "sparse: data chunks are holes");
	return 0;
}

struct run {
	uint64_t start, len;
};

static int gen_runs(const char *path, uint64_t volume, uint64_t cow_bytes, uint64_t maxrun,
		    const char *origin)
{
	uint64_t vchunks = volume / CB, want = cow_bytes / CB, got = 0, nruns = 0, cap = 1024;
	uint64_t gap_mean, pos, i, next = 2;
	struct run *runs = malloc(cap * sizeof(*runs));
	unsigned char *buf = malloc(1 << 20);
	struct snapcow_writer *w;
	struct snapcow_exception e;
	int fd, r;

	if (!runs || !buf)
		die("memory", ENOMEM);
	/* Runs of 1..maxrun chunks; gaps uniform in [0, 2 * mean]. */
	gap_mean = (vchunks - want) / (want / ((maxrun + 1) / 2) + 1);
	pos = next_rand() % (gap_mean + 1);
	while (got < want && pos < vchunks) {
		uint64_t len = 1 + next_rand() % maxrun;

		if (len > want - got)
			len = want - got;
		if (pos + len > vchunks)
			len = vchunks - pos;
		if (nruns == cap) {
			cap *= 2;
			runs = realloc(runs, cap * sizeof(*runs));
			if (!runs)
				die("memory", ENOMEM);
		}
		runs[nruns].start = pos;
		runs[nruns].len = len;
		nruns++;
		got += len;
		pos += len + next_rand() % (2 * gap_mean + 1);
	}
	/* Allocation order: the runs shuffled. */
	for (i = nruns; i > 1; i--) {
		uint64_t j = next_rand() % i;
		struct run t = runs[i - 1];
		runs[i - 1] = runs[j];
		runs[j] = t;
	}
	fd = create(path);
	r = snapcow_writer_new(NULL, fd, path, CHUNK_SECTORS, store_chunks(got) * CB, &w);
	if (r < 0)
		die(path, r);
	for (i = 0; i < nruns; i++) {
		uint64_t k;

		for (k = 0; k < runs[i].len; k++) {
			if (snapcow_chunk_is_metadata(PER_AREA, next))
				next++;
			e.old_chunk = runs[i].start + k;
			e.new_chunk = next++;
			r = snapcow_writer_add(w, &e);
			if (r < 0)
				die(path, r);
		}
	}
	r = snapcow_writer_finish(w, 1);
	if (r < 0)
		die(path, r);
	snapcow_writer_free(w);
	write_data(fd, path, got, buf);
	close(fd);
	printf("store %s: %" PRIu64 " exceptions (%" PRIu64 " MiB of COW data) in %" PRIu64
	       " runs of 1..%" PRIu64 " chunks at random places of a %" PRIu64 " GiB volume, "
	       "runs allocated in shuffled order, 4 KiB chunks\n", path, got, got * CB >> 20,
	       nruns, maxrun, volume >> 30);
	free(runs);
	if (origin) {
		fd = create(origin);
		for (pos = 0; pos < volume; pos += 1 << 20) {
			size_t n = volume - pos < (1 << 20) ? (size_t)(volume - pos) : 1 << 20;

			fill(buf, n, pos / CB + (1ULL << 40));
			if (pwrite(fd, buf, n, (off_t)pos) != (ssize_t)n)
				die(origin, errno ? errno : EIO);
		}
		if (fsync(fd) < 0)
			die(origin, errno);
		close(fd);
		printf("origin %s: %" PRIu64 " MiB of non-zero data\n", origin, volume >> 20);
	}
	free(buf);
	return 0;
}

static int gen_data(const char *path, uint64_t bytes)
{
	unsigned char *buf = malloc(1 << 20);
	uint64_t pos;
	int fd = create(path);

	if (!buf)
		die("memory", ENOMEM);
	for (pos = 0; pos < bytes; pos += 1 << 20) {
		size_t n = bytes - pos < (1 << 20) ? (size_t)(bytes - pos) : 1 << 20;

		fill(buf, n, pos / CB + (2ULL << 40));
		if (pwrite(fd, buf, n, (off_t)pos) != (ssize_t)n)
			die(path, errno ? errno : EIO);
	}
	if (fsync(fd) < 0)
		die(path, errno);
	close(fd);
	free(buf);
	printf("data %s: %" PRIu64 " MiB of non-zero data\n", path, bytes >> 20);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "data"))
		return gen_data(argv[2], num(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "meta"))
		return gen_meta(argv[2], num(argv[3]), 0);
	if (argc == 4 && !strcmp(argv[1], "scatter"))
		return gen_meta(argv[2], num(argv[3]), 1);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "runs"))
		return gen_runs(argv[2], num(argv[3]), num(argv[4]), num(argv[5]),
				argc == 7 ? argv[6] : NULL);
	fprintf(stderr, "Usage: gen meta|scatter STORE N\n"
			"       gen data FILE BYTES\n"
			"       gen runs STORE VOLUME_BYTES COW_BYTES MAXRUN [ORIGIN]\n");
	return 1;
}
