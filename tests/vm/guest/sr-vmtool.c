/*
 * sr-vmtool: tiny helper that runs inside the test VM (static, no libc extras).
 *
 *   sr-vmtool stamp DEV OFFSET LENGTH [TAG [STEP [BLK]]]
 *	Every STEP bytes from OFFSET to OFFSET+LENGTH, write BLK bytes of
 *	stamped 4 KiB blocks (default STEP = BLK = LENGTH, i.e. all of it).
 *   sr-vmtool scatter DEV CHUNK_BYTES FIRST_CHUNK NCHUNKS COUNT SEED [TAG]
 *	Write one stamped 4 KiB block at the start of COUNT distinct chunks
 *	chosen from [FIRST_CHUNK, FIRST_CHUNK+NCHUNKS), in a pseudo-random
 *	order fixed by SEED (so the COW table is written out of order).
 *
 *   sr-vmtool zero DEV OFFSET LENGTH [BS]
 *	Write zeros over [OFFSET, OFFSET+LENGTH) in BS pieces (default 1 MiB)
 *	from one zeroed buffer: on an origin this makes the kernel copy every
 *	chunk touched, many at a time, at almost no guest CPU cost.
 *   sr-vmtool sample SRC DST STEP
 *	Copy the first and the last 4 KiB of every STEP bytes of SRC to the
 *	same offsets of DST (O_DIRECT both; all-zero blocks are not written, so
 *	DST, a fresh disk, stays sparse): a cheap partial view of a huge device.
 *   sr-vmtool cmpsample FILE1 FILE2 STEP
 *	(host side) Compare the blocks "sample" copies.  Exit 0 same, 1 differ.
 *   sr-vmtool cmpsparse FILE1 FILE2
 *	(host side) Compare two equally long, possibly huge sparse files by
 *	reading only the ranges where either has data (SEEK_DATA/SEEK_HOLE).
 *	Exit 0 identical, 1 different (first differing offset printed), 2 error.
 *
 * A stamped block is 64 lines of 64 bytes naming the tag and the block's
 * byte offset: compressible, never zero, and any misplaced block changes
 * the checksum of the device.  I/O is O_DIRECT (where the file system allows
 * it), files are created if missing, and every run ends with fsync.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/aio_abi.h>

#define BLK 4096u
#define BATCH (1u << 20)

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "sr-vmtool: %s %s: %s\n", what, arg ? arg : "",
		strerror(errno));
	exit(1);
}

static unsigned long long num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		goto bad;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == '\0')
		return v;
bad:
	fprintf(stderr, "sr-vmtool: bad number '%s'\n", s);
	exit(2);
}

static void stamp(char *b, unsigned long long off, const char *tag)
{
	char line[80];
	int i;

	for (i = 0; i < 64; i++) {
		snprintf(line, sizeof(line),
			 "snaprescue %-8.8s off=0x%012llx line=%02d ................",
			 tag, off, i);
		memcpy(b + i * 64, line, 63);
		b[i * 64 + 63] = '\n';
	}
}

static void pwrite_all(int fd, const char *buf, size_t len, off_t off,
		       const char *dev)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write", dev);
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
}

static int open_dev(const char *dev)
{
	int fd = open(dev, O_WRONLY | O_CREAT | O_DIRECT, 0644);

	if (fd < 0 && errno == EINVAL)	/* tmpfs/ramfs: no O_DIRECT */
		fd = open(dev, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		die("cannot open", dev);
	return fd;
}

static int cmd_stamp(int argc, char **argv)
{
	const char *dev = argv[0], *tag = argc > 3 ? argv[3] : "v1";
	unsigned long long off = num(argv[1]), len = num(argv[2]);
	unsigned long long step = argc > 4 ? num(argv[4]) : len;
	unsigned long long blk = argc > 5 ? num(argv[5]) : step;
	unsigned long long p, q, n;
	char *buf;
	int fd;

	if (off % BLK || len % BLK || step % BLK || blk % BLK || !step ||
	    blk > step) {
		fprintf(stderr, "sr-vmtool: stamp: sizes must be 4 KiB multiples\n");
		return 2;
	}
	if (posix_memalign((void **)&buf, BLK, BATCH))
		die("memory", NULL);
	if (blk == step)	/* contiguous: write in big batches */
		step = blk = len;
	fd = open_dev(dev);
	for (p = off; p < off + len; p += step) {
		for (q = p; q < p + blk && q < off + len; q += n) {
			unsigned long long i;

			n = p + blk - q;
			if (n > off + len - q)
				n = off + len - q;
			if (n > BATCH)
				n = BATCH;
			for (i = 0; i < n; i += BLK)
				stamp(buf + i, q + i, tag);
			pwrite_all(fd, buf, n, (off_t)q, dev);
		}
	}
	if (fsync(fd))
		die("fsync", dev);
	close(fd);
	return 0;
}

static int cmd_zero(int argc, char **argv)
{
	const char *dev = argv[0];
	unsigned long long off = num(argv[1]), len = num(argv[2]);
	unsigned long long bs = argc > 3 ? num(argv[3]) : BATCH, p;
	char *buf;
	int fd;

	if (off % BLK || len % BLK || bs % BLK || !bs) {
		fprintf(stderr, "sr-vmtool: zero: sizes must be 4 KiB multiples\n");
		return 2;
	}
	if (posix_memalign((void **)&buf, BLK, bs))
		die("memory", NULL);
	memset(buf, 0, bs);
	fd = open_dev(dev);
	for (p = off; p < off + len; p += bs)
		pwrite_all(fd, buf, off + len - p < bs ? off + len - p : bs,
			   (off_t)p, dev);
	if (fsync(fd))
		die("fsync", dev);
	close(fd);
	return 0;
}

static int is_zero(const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += 8)
		if (*(const uint64_t *)(b + i))
			return 0;
	return 1;
}

static void pread_all(int fd, char *buf, size_t len, off_t off, const char *f)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			die("read", f);
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
}

#define QD 64	/* reads in flight: one guest exit serves many of them */

/* read the 4 KiB blocks at offs[0..n) into bufs[] with Linux native AIO */
static void read_batch(aio_context_t ctx, int fd, char **bufs, const off_t *offs,
		       int n, const char *f)
{
	struct iocb cb[QD], *cbp[QD];
	struct io_event ev[QD];
	int i, done = 0, sub = 0;

	for (i = 0; i < n; i++) {
		memset(&cb[i], 0, sizeof(cb[i]));
		cb[i].aio_lio_opcode = IOCB_CMD_PREAD;
		cb[i].aio_fildes = (uint32_t)fd;
		cb[i].aio_buf = (uint64_t)(uintptr_t)bufs[i];
		cb[i].aio_nbytes = BLK;
		cb[i].aio_offset = offs[i];
		cbp[i] = &cb[i];
	}
	while (sub < n) {
		long r = syscall(SYS_io_submit, ctx, (long)(n - sub), cbp + sub);

		if (r <= 0)
			die("io_submit", f);
		sub += (int)r;
	}
	while (done < n) {
		long r = syscall(SYS_io_getevents, ctx, 1L, (long)(n - done), ev, NULL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("io_getevents", f);
		for (i = 0; i < r; i++)
			if (ev[i].res != BLK) {
				errno = ev[i].res < 0 ? (int)-ev[i].res : EIO;
				die("read", f);
			}
		done += (int)r;
	}
}

static int cmd_sample(char **argv, int compare)
{
	unsigned long long step = num(argv[2]), size, p;
	int in, out, i, n = 0, differ = 0;
	char *a[QD], *b;
	off_t offs[QD];
	aio_context_t ctx = 0;

	if (step % BLK || step < 2 * BLK) {
		fprintf(stderr, "sr-vmtool: sample: STEP must be a 4 KiB multiple >= 8 KiB\n");
		return 2;
	}
	in = open(argv[0], O_RDONLY | (compare ? 0 : O_DIRECT));
	if (in < 0)
		die("cannot open", argv[0]);
	out = open(argv[1], compare ? O_RDONLY : O_WRONLY | O_DIRECT);
	if (out < 0)
		die("cannot open", argv[1]);
	for (i = 0; i < QD; i++)
		if (posix_memalign((void **)&a[i], BLK, BLK))
			die("memory", NULL);
	if (posix_memalign((void **)&b, BLK, BLK))
		die("memory", NULL);
	if (!compare && syscall(SYS_io_setup, QD, &ctx))
		die("io_setup", NULL);
	size = (unsigned long long)lseek(in, 0, SEEK_END);
	if (compare && size != (unsigned long long)lseek(out, 0, SEEK_END)) {
		printf("sizes differ\n");
		return 1;
	}
	for (p = 0; p + step <= size || n; p += step) {
		if (p + step <= size) {
			offs[n++] = (off_t)p;
			offs[n++] = (off_t)(p + step - BLK);
			if (n + 2 <= QD && p + 2 * step <= size)
				continue;
		}
		if (compare) {
			for (i = 0; i < n; i++)
				pread_all(in, a[i], BLK, offs[i], argv[0]);
		} else {
			read_batch(ctx, in, a, offs, n, argv[0]);
		}
		for (i = 0; i < n; i++) {
			if (compare) {
				pread_all(out, b, BLK, offs[i], argv[1]);
				if (memcmp(a[i], b, BLK) && differ++ < 10)
					printf("differ in block at byte %lld\n", (long long)offs[i]);
			} else if (!is_zero(a[i], BLK)) {
				pwrite_all(out, a[i], BLK, offs[i], argv[1]);
			}
		}
		n = 0;
		if (p + step > size)
			break;
	}
	if (compare) {
		if (differ)
			printf("%d sampled blocks differ\n", differ);
		else
			printf("sampled blocks identical (%llu chunks)\n", size / step);
		return differ ? 1 : 0;
	}
	if (fsync(out))
		die("fsync", argv[1]);
	return 0;
}

static uint64_t rng;

static uint64_t next_rand(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static int cmd_scatter(int argc, char **argv)
{
	const char *dev = argv[0], *tag = argc > 6 ? argv[6] : "v2";
	unsigned long long chunk = num(argv[1]), first = num(argv[2]);
	unsigned long long nchunks = num(argv[3]), count = num(argv[4]);
	unsigned long long i;
	uint32_t *perm;
	char *buf;
	int fd;

	rng = num(argv[5]) * 0x9e3779b97f4a7c15ULL + 1;
	if (chunk % BLK || !chunk || count > nchunks || nchunks > UINT32_MAX) {
		fprintf(stderr, "sr-vmtool: scatter: bad arguments\n");
		return 2;
	}
	perm = malloc(nchunks * sizeof(*perm));
	if (!perm || posix_memalign((void **)&buf, BLK, BLK))
		die("memory", NULL);
	for (i = 0; i < nchunks; i++)
		perm[i] = (uint32_t)i;
	for (i = 0; i < count; i++) {	/* partial Fisher-Yates */
		unsigned long long j = i + next_rand() % (nchunks - i);
		uint32_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	fd = open_dev(dev);
	for (i = 0; i < count; i++) {
		unsigned long long off = (first + perm[i]) * chunk;

		stamp(buf, off, tag);
		pwrite_all(fd, buf, BLK, (off_t)off, dev);
	}
	if (fsync(fd))
		die("fsync", dev);
	close(fd);
	free(perm);
	return 0;
}

static int cmp_range(int fa, int fb, off_t from, off_t to, off_t *diff)
{
	static char *a, *b;
	off_t p = from;

	if (!a && (!(a = malloc(BATCH)) || !(b = malloc(BATCH))))
		die("memory", NULL);
	while (p < to) {
		size_t n = (size_t)(to - p < (off_t)BATCH ? to - p : (off_t)BATCH);
		ssize_t ra = pread(fa, a, n, p), rb = pread(fb, b, n, p);

		if (ra != (ssize_t)n || rb != (ssize_t)n)
			die("short read", NULL);
		if (memcmp(a, b, n)) {
			size_t i = 0;

			while (a[i] == b[i])
				i++;
			*diff = p + (off_t)i;
			return 1;
		}
		p += (off_t)n;
	}
	return 0;
}

static int cmd_cmpsparse(char **argv)
{
	int fd[2], i;
	off_t size[2], diff = 0;

	for (i = 0; i < 2; i++) {
		fd[i] = open(argv[i], O_RDONLY);
		if (fd[i] < 0)
			die("cannot open", argv[i]);
		size[i] = lseek(fd[i], 0, SEEK_END);
	}
	if (size[0] != size[1]) {
		printf("sizes differ: %lld %lld\n", (long long)size[0], (long long)size[1]);
		return 1;
	}
	for (i = 0; i < 2; i++) {
		off_t d, h = 0;

		for (;;) {
			d = lseek(fd[i], h, SEEK_DATA);
			if (d < 0 && errno == ENXIO)
				break;
			if (d < 0)
				die("SEEK_DATA", argv[i]);
			h = lseek(fd[i], d, SEEK_HOLE);
			if (h < 0)
				die("SEEK_HOLE", argv[i]);
			if (cmp_range(fd[0], fd[1], d, h, &diff)) {
				printf("differ at byte %lld (block 0x%llx)\n",
				       (long long)diff, (unsigned long long)diff / BLK * BLK);
				return 1;
			}
		}
	}
	printf("identical (%lld bytes)\n", (long long)size[0]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "sample"))
		return cmd_sample(argv + 2, 0);
	if (argc == 5 && !strcmp(argv[1], "cmpsample"))
		return cmd_sample(argv + 2, 1);
	if (argc == 4 && !strcmp(argv[1], "cmpsparse"))
		return cmd_cmpsparse(argv + 2);
	if (argc >= 5 && !strcmp(argv[1], "stamp"))
		return cmd_stamp(argc - 2, argv + 2);
	if (argc >= 5 && !strcmp(argv[1], "zero"))
		return cmd_zero(argc - 2, argv + 2);
	if (argc >= 8 && !strcmp(argv[1], "scatter"))
		return cmd_scatter(argc - 2, argv + 2);
	fprintf(stderr,
		"usage: sr-vmtool stamp DEV OFFSET LENGTH [TAG [STEP [BLK]]]\n"
		"       sr-vmtool scatter DEV CHUNK FIRST NCHUNKS COUNT SEED [TAG]\n"
		"       sr-vmtool zero DEV OFFSET LENGTH [BS]\n"
		"       sr-vmtool sample SRC DST STEP\n"
		"       sr-vmtool cmpsample FILE1 FILE2 STEP\n"
		"       sr-vmtool cmpsparse FILE1 FILE2\n");
	return 2;
}
