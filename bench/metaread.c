/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/metaread: the floor for walking an exception table.  Reads the
 * header, then the metadata area chunks one by one the way the kernel
 * does (next area only when the current one is full), counts records and
 * computes next_free.  Nothing else: no checks, no library.
 *
 *   metaread STORE
 */
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint32_t hdr[4], cb, per_area, i;
	uint64_t area = 0, n = 0, next_free = 2;
	unsigned char *buf;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "Usage: metaread STORE\n");
		return 1;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr)) {
		perror(argv[1]);
		return 1;
	}
	cb = le32toh(hdr[3]) * 512;
	per_area = cb / 16;
	buf = malloc(cb);
	if (!buf || !cb)
		return 1;
	for (;;) {
		uint64_t chunk = 1 + (uint64_t)(per_area + 1) * area;

		if (pread(fd, buf, cb, (off_t)(chunk * cb)) != (ssize_t)cb) {
			perror("pread");
			return 1;
		}
		for (i = 0; i < per_area; i++) {
			uint64_t nc;

			memcpy(&nc, buf + (size_t)i * 16 + 8, 8);
			nc = le64toh(nc);
			if (!nc)
				break;
			if (nc >= next_free)
				next_free = nc + 1;
			n++;
		}
		if (i < per_area)
			break;
		area++;
	}
	printf("%" PRIu64 " exceptions, next_free %" PRIu64 "\n", n, next_free);
	free(buf);
	close(fd);
	return 0;
}
