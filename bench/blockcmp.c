/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/blockcmp: the block-compare way of finding what changed
 * (blocksync, bdsync, the md5-per-block script of seed 004): read the
 * source and the target whole, block by block, and count the blocks that
 * differ.  What it reads is the figure; memcmp stands for the hashes those
 * tools compute (it costs less, so the baseline is not slowed down).
 *
 *   blockcmp SOURCE TARGET [BLOCK_BYTES]   (default 1 MiB)
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t bs = argc > 3 ? strtoull(argv[3], NULL, 0) : 1U << 20;
	uint64_t blocks = 0, differ = 0;
	unsigned char *a, *b;
	int fa, fb;

	if (argc < 3 || !bs) {
		fprintf(stderr, "Usage: blockcmp SOURCE TARGET [BLOCK_BYTES]\n");
		return 2;
	}
	fa = open(argv[1], O_RDONLY);
	fb = open(argv[2], O_RDONLY);
	a = malloc(bs);
	b = malloc(bs);
	if (fa < 0 || fb < 0 || !a || !b) {
		perror("blockcmp");
		return 2;
	}
	for (;;) {
		ssize_t na = read(fa, a, bs), nb = read(fb, b, bs);

		if (na < 0 || nb < 0) {
			perror("blockcmp: read");
			return 2;
		}
		if (na == 0 && nb == 0)
			break;
		blocks++;
		differ += na != nb || memcmp(a, b, (size_t)na);
	}
	printf("%" PRIu64 " of %" PRIu64 " blocks of %zu bytes differ\n", differ, blocks, bs);
	return 0;
}
