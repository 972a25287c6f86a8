/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/rangecopy: the floor of shipping changed ranges, for comparison:
 * one process reads the ranges of a file into a pipe, one writes them at
 * the same offsets of another and syncs it.  No format, no checksums, no
 * comparison, no undo.
 *
 *   rangecopy read SOURCE RANGES    ranges' bytes to stdout
 *   rangecopy write TARGET RANGES   stdin to the ranges of TARGET, fsync
 * RANGES: lines "OFFSET LENGTH" in bytes.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF (4U << 20)

static int all(int fd, unsigned char *p, size_t n, off_t off, int rd)
{
	while (n) {
		ssize_t k = rd ? (off < 0 ? read(fd, p, n) : pread(fd, p, n, off)) :
				 (off < 0 ? write(fd, p, n) : pwrite(fd, p, n, off));

		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
		if (off >= 0)
			off += k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long off, len;
	unsigned char *buf = malloc(BUF);
	FILE *ranges;
	int rd, fd;

	if (argc != 4 || (strcmp(argv[1], "read") && strcmp(argv[1], "write")) || !buf) {
		fprintf(stderr, "Usage: rangecopy read|write FILE RANGES\n");
		return 2;
	}
	rd = !strcmp(argv[1], "read");
	fd = open(argv[2], rd ? O_RDONLY : O_WRONLY);
	ranges = fopen(argv[3], "r");
	if (fd < 0 || !ranges) {
		perror("rangecopy");
		return 2;
	}
	while (fscanf(ranges, "%llu %llu", &off, &len) == 2) {
		while (len) {
			size_t n = len < BUF ? (size_t)len : BUF;
			int r = rd ? all(fd, buf, n, (off_t)off, 1) || all(1, buf, n, -1, 0) :
				     all(0, buf, n, -1, 1) || all(fd, buf, n, (off_t)off, 0);

			if (r) {
				perror("rangecopy");
				return 1;
			}
			off += n;
			len -= n;
		}
	}
	if (!rd && fsync(fd) < 0) {
		perror("rangecopy: fsync");
		return 1;
	}
	return 0;
}
