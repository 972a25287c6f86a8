/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/floorwrite: the floor for writing out a snapshot whose chunks all
 * come from the COW.  Reads the table the way bench/metaread does (no
 * checks, no library), sorts the records by old chunk, then copies each
 * COW chunk to its place in a new sparse file, gathering consecutive old
 * chunks into writes of up to 1 MiB, and fsyncs.  What is left is the
 * I/O: the same chunks read and written, in the best order for the
 * output.  Chunks past SIZE are skipped; the rest of the output is holes.
 *
 *   floorwrite STORE SIZE OUT
 */
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rec {
	uint64_t old_chunk, new_chunk;
};

static int cmp_old(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->old_chunk < y->old_chunk ? -1 : x->old_chunk > y->old_chunk;
}

int main(int argc, char **argv)
{
	uint32_t hdr[4], cb, per_area, i;
	uint64_t area = 0, n = 0, cap = 1 << 16, size, k;
	const size_t batch = 1 << 20;
	struct rec *recs;
	unsigned char *buf, *out;
	int fd, ofd;

	if (argc != 4) {
		fprintf(stderr, "Usage: floorwrite STORE SIZE OUT\n");
		return 1;
	}
	size = strtoull(argv[2], NULL, 0);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr)) {
		perror(argv[1]);
		return 1;
	}
	cb = le32toh(hdr[3]) * 512;
	per_area = cb / 16;
	buf = malloc(cb);
	out = malloc(batch > cb ? batch : cb);
	recs = malloc(cap * sizeof(*recs));
	if (!buf || !out || !recs || !cb)
		return 1;
	for (;;) {
		uint64_t chunk = 1 + (uint64_t)(per_area + 1) * area;

		if (pread(fd, buf, cb, (off_t)(chunk * cb)) != (ssize_t)cb) {
			perror("pread");
			return 1;
		}
		for (i = 0; i < per_area; i++) {
			struct rec r;

			memcpy(&r, buf + (size_t)i * 16, 16);
			r.old_chunk = le64toh(r.old_chunk);
			r.new_chunk = le64toh(r.new_chunk);
			if (!r.new_chunk)
				break;
			if (n == cap) {
				cap *= 2;
				recs = realloc(recs, cap * sizeof(*recs));
				if (!recs)
					return 1;
			}
			recs[n++] = r;
		}
		if (i < per_area)
			break;
		area++;
	}
	qsort(recs, n, sizeof(*recs), cmp_old);
	ofd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (ofd < 0 || ftruncate(ofd, (off_t)size) < 0) {
		perror(argv[3]);
		return 1;
	}
	for (k = 0; k < n;) {
		uint64_t first = recs[k].old_chunk, j = 0;
		size_t per = batch > cb ? batch / cb : 1;

		if (first * cb >= size)
			break;
		/* consecutive old chunks, up to 1 MiB, below SIZE */
		while (k + j < n && j < per && recs[k + j].old_chunk == first + j &&
		       (first + j) * cb < size) {
			if (pread(fd, out + j * cb, cb, (off_t)(recs[k + j].new_chunk * cb)) !=
			    (ssize_t)cb) {
				perror("pread");
				return 1;
			}
			j++;
		}
		if (pwrite(ofd, out, j * cb, (off_t)(first * cb)) != (ssize_t)(j * cb)) {
			perror("pwrite");
			return 1;
		}
		k += j;
	}
	if (fsync(ofd) < 0 || close(ofd) < 0) {
		perror(argv[3]);
		return 1;
	}
	printf("%" PRIu64 " chunks written\n", k);
	free(recs);
	free(buf);
	free(out);
	close(fd);
	return 0;
}
