/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkstore: make dm-snapshot exception stores for the tests, with
 * libsnapcow's writer, and corrupt them in place.
 *
 *   mkstore [options] OUT                 write a new store to OUT (truncated)
 *     -c, --chunk-sectors N   chunk size in sectors (default 8)
 *     -s, --size BYTES        store size (default: the table, its terminating
 *                             area, the --uncommitted chunks
 *                             and one free chunk: room for one more)
 *     -e, --exceptions N      records in the table (default 0)
 *     -o, --order seq|shuffle|reverse   order of the old chunks (default seq)
 *     -S, --seed S            seed for --order shuffle (default 1)
 *         --old-base N        first old chunk (default 0)
 *         --old-stride N      distance between old chunks (default 1)
 *         --invalid           header valid flag 0 (as after an overflow)
 *         --valid N           header valid flag N
 *     -d, --data              stamp every mapped data chunk (see storegen.h)
 *     -u, --uncommitted N|all stamp N data chunks past next_free, as the
 *                             kernel does before it commits (or all up to
 *                             the end of the store: an overflow)
 *         --origin FILE --origin-size BYTES
 *                             also write a stamped origin image
 *   New chunks are allocated the kernel's way: from chunk 2 upwards,
 *   skipping metadata area chunks; old chunks are old_base + i * old_stride
 *   in the given order.  Prints nothing on success.
 *
 *   mkstore --poke OFFSET HEXBYTES FILE   overwrite bytes at OFFSET
 *   mkstore --poke-le32 OFFSET VALUE FILE write a little-endian u32
 *   mkstore --poke-le64 OFFSET VALUE FILE write a little-endian u64
 *     (never extends FILE: OFFSET + length must be inside it)
 *   mkstore --record-offset AREA INDEX [-c N]
 *     print the byte offset of record INDEX of metadata area AREA
 *   mkstore --area-offset AREA [-c N]     byte offset of metadata area AREA
 *
 * Numbers accept 0x hex; sizes accept k/M/G suffixes.  Exit 0 ok, 1 error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapcow.h"
#include "tool.h"
#include "../helpers/storegen.h"

enum {
	OPT_OLD_BASE = 256,
	OPT_OLD_STRIDE,
	OPT_INVALID,
	OPT_VALID,
	OPT_ORIGIN,
	OPT_ORIGIN_SIZE,
	OPT_POKE,
	OPT_POKE32,
	OPT_POKE64,
	OPT_RECORD_OFFSET,
	OPT_AREA_OFFSET,
};

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage: %s [options] OUT\n"
	       "       %s --poke OFFSET HEXBYTES FILE\n"
	       "       %s --poke-le32|--poke-le64 OFFSET VALUE FILE\n"
	       "       %s --record-offset AREA INDEX [-c N]\n"
	       "       %s --area-offset AREA [-c N]\n"
	       "Make a test exception store (see the comment at the top of mkstore.c).\n",
	       program_name, program_name, program_name, program_name, program_name);
	exit(0);
}

static uint64_t num(const char *s, const char *what)
{
	uint64_t v;

	if (parse_u64(s, &v) < 0)
		errx(1, "invalid %s: '%s'", what, s);
	return v;
}

static uint64_t size_arg(const char *s, const char *what)
{
	uint64_t v;

	if (parse_u64(s, &v) == 0)
		return v;
	if (parse_size(s, &v) < 0)
		errx(1, "invalid %s: '%s'", what, s);
	return v;
}

static int poke(const char *file, uint64_t off, const unsigned char *bytes, size_t len)
{
	struct stat st;
	int fd = open(file, O_WRONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		errx(1, "cannot open %s: %s", file, strerror(errno));
	if (off + len > (uint64_t)st.st_size)
		errx(1, "%s: offset %" PRIu64 " + %zu bytes is past the end (%jd bytes)", file,
		     off, len, (intmax_t)st.st_size);
	if (pwrite(fd, bytes, len, (off_t)off) != (ssize_t)len)
		errx(1, "%s: cannot write at offset %" PRIu64 ": %s", file, off, strerror(errno));
	close(fd);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int write_origin(const char *file, uint64_t size)
{
	unsigned char buf[65536];
	uint64_t off = 0;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		errx(1, "cannot open %s: %s", file, strerror(errno));
	while (off < size) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf), i;

		for (i = 0; i < n; i += 8) {
			uint64_t w = htole64(gen_origin_word(off + i));
			memcpy(buf + i, &w, n - i < 8 ? n - i : 8);
		}
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			errx(1, "%s: cannot write at offset %" PRIu64 ": %s", file, off,
			     strerror(errno));
		off += n;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		errx(1, "%s: %s", file, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "chunk-sectors", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "exceptions", required_argument, NULL, 'e' },
		{ "order", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 'S' },
		{ "data", no_argument, NULL, 'd' },
		{ "uncommitted", required_argument, NULL, 'u' },
		{ "old-base", required_argument, NULL, OPT_OLD_BASE },
		{ "old-stride", required_argument, NULL, OPT_OLD_STRIDE },
		{ "invalid", no_argument, NULL, OPT_INVALID },
		{ "valid", required_argument, NULL, OPT_VALID },
		{ "origin", required_argument, NULL, OPT_ORIGIN },
		{ "origin-size", required_argument, NULL, OPT_ORIGIN_SIZE },
		{ "poke", no_argument, NULL, OPT_POKE },
		{ "poke-le32", no_argument, NULL, OPT_POKE32 },
		{ "poke-le64", no_argument, NULL, OPT_POKE64 },
		{ "record-offset", no_argument, NULL, OPT_RECORD_OFFSET },
		{ "area-offset", no_argument, NULL, OPT_AREA_OFFSET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const orders[] = { "seq", "shuffle", "reverse", NULL };
	struct gen_opts o = { .chunk_sectors = 8, .seed = 1, .valid = 1, .old_stride = 1 };
	const char *origin = NULL;
	uint64_t origin_size = 0;
	int mode = 0, c, fd, r;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, "c:s:e:o:S:du:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.chunk_sectors = (uint32_t)num(optarg, "chunk size");
			break;
		case 's':
			o.size = size_arg(optarg, "size");
			break;
		case 'e':
			o.exceptions = num(optarg, "exception count");
			break;
		case 'o':
			r = parse_choice(optarg, orders);
			if (r < 0)
				errx(1, "invalid order: '%s'", optarg);
			o.order = (enum gen_order)r;
			break;
		case 'S':
			o.seed = num(optarg, "seed");
			break;
		case 'd':
			o.data = 1;
			break;
		case 'u':
			if (!strcmp(optarg, "all"))
				o.uncommitted_all = 1;
			else
				o.uncommitted = num(optarg, "chunk count");
			break;
		case OPT_OLD_BASE:
			o.old_base = num(optarg, "old chunk");
			break;
		case OPT_OLD_STRIDE:
			o.old_stride = num(optarg, "stride");
			break;
		case OPT_INVALID:
			o.valid = 0;
			break;
		case OPT_VALID:
			o.valid = (uint32_t)num(optarg, "valid flag");
			break;
		case OPT_ORIGIN:
			origin = optarg;
			break;
		case OPT_ORIGIN_SIZE:
			origin_size = size_arg(optarg, "origin size");
			break;
		case OPT_POKE:
		case OPT_POKE32:
		case OPT_POKE64:
		case OPT_RECORD_OFFSET:
		case OPT_AREA_OFFSET:
			mode = c;
			break;
		case 'h':
			usage();
		default:
			try_help(1);
		}
	}
	argc -= optind;
	argv += optind;

	if (mode == OPT_RECORD_OFFSET || mode == OPT_AREA_OFFSET) {
		uint32_t per = o.chunk_sectors * SNAPCOW_SECTOR_SIZE / SNAPCOW_RECORD_SIZE;
		uint64_t cb = (uint64_t)o.chunk_sectors * SNAPCOW_SECTOR_SIZE;

		if (argc != (mode == OPT_RECORD_OFFSET ? 2 : 1))
			try_help(1);
		printf("%" PRIu64 "\n",
		       snapcow_area_chunk(per, num(argv[0], "area")) * cb +
			       (mode == OPT_RECORD_OFFSET ? num(argv[1], "index") * 16 : 0));
		return 0;
	}
	if (mode == OPT_POKE32 || mode == OPT_POKE64) {
		unsigned char b[8];
		uint64_t v;

		if (argc != 3)
			try_help(1);
		v = htole64(num(argv[1], "value"));
		if (mode == OPT_POKE32) {
			uint32_t v32;
			if (le64toh(v) > UINT32_MAX)
				errx(1, "value '%s' does not fit in 32 bits", argv[1]);
			v32 = htole32((uint32_t)le64toh(v));
			memcpy(b, &v32, 4);
		} else {
			memcpy(b, &v, 8);
		}
		return poke(argv[2], num(argv[0], "offset"), b, mode == OPT_POKE32 ? 4 : 8);
	}
	if (mode == OPT_POKE) {
		unsigned char b[4096];
		size_t len, i;

		if (argc != 3)
			try_help(1);
		len = strlen(argv[1]);
		if (len == 0 || len % 2 || len / 2 > sizeof(b))
			errx(1, "invalid hex bytes: '%s'", argv[1]);
		for (i = 0; i < len / 2; i++) {
			int hi = hexval(argv[1][2 * i]), lo = hexval(argv[1][2 * i + 1]);
			if (hi < 0 || lo < 0)
				errx(1, "invalid hex bytes: '%s'", argv[1]);
			b[i] = (unsigned char)(hi << 4 | lo);
		}
		return poke(argv[2], num(argv[0], "offset"), b, len / 2);
	}

	if (argc != 1)
		try_help(1);
	if (origin && !origin_size)
		errx(1, "--origin needs --origin-size");
	fd = open(argv[0], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		errx(1, "cannot open %s: %s", argv[0], strerror(errno));
	r = gen_store(fd, argv[0], &o);
	if (r < 0)
		errx(1, "%s: cannot write store: %s", argv[0], snapcow_strerror(r));
	if (close(fd) < 0)
		errx(1, "%s: %s", argv[0], strerror(errno));
	if (origin)
		write_origin(origin, origin_size);
	return 0;
}
