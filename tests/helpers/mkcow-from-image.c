/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkcow-from-image: build a dm-snapshot store whose view is IMAGE.
 *
 *   mkcow-from-image [--chunk-sectors N] [--extra CHUNKS] [--uncommitted N]
 *                    [--invalid] (--origin ORIGIN | --zero-origin) IMAGE STORE
 *
 * Every chunk of IMAGE that differs from ORIGIN (or, with --zero-origin, is
 * not all zero) becomes an exception, in old-chunk order, its data copied
 * to the next free data chunk of STORE (created, must not exist).  The
 * store is sized to what the table needs plus --extra free chunks.
 * --uncommitted N copies N more changed chunks past next_free without
 * recording them (what an overflowing kernel leaves behind) and --invalid
 * writes the header with valid = 0.  Prints "exceptions N, uncommitted M,
 * store CHUNKS chunks".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapcow.h"
#include "tool.h"

struct chunklist {
	uint64_t *v;
	size_t n, cap;
};

static void push(struct chunklist *l, uint64_t c)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			errx(1, "out of memory");
	}
	l->v[l->n++] = c;
}

static void read_padded(int fd, void *buf, size_t len, uint64_t off, const char *name)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n < 0)
		errx(1, "cannot read %s at byte offset %llu: %s", name,
		     (unsigned long long)off, strerror(errno));
	if ((size_t)n < len)
		memset((char *)buf + n, 0, len - (size_t)n);
}


static uint64_t next_data_chunk(uint32_t per_area, uint64_t c)
{
	while (snapcow_chunk_is_metadata(per_area, c))
		c++;
	return c;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "chunk-sectors", required_argument, NULL, 'c' },
		{ "extra", required_argument, NULL, 'e' },
		{ "uncommitted", required_argument, NULL, 'u' },
		{ "invalid", no_argument, NULL, 'I' },
		{ "origin", required_argument, NULL, 'o' },
		{ "zero-origin", no_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t chunk_sectors = 8, extra = 0, uncommitted = 0, size, nchunks, c, nf;
	const char *origin = NULL, *image, *store;
	int zero = 0, invalid = 0, ofd = -1, ifd, sfd, opt, r;
	struct chunklist changed = { 0 };
	struct snapcow_writer *w;
	unsigned char *a, *b;
	uint32_t cb, per_area;
	struct stat st;
	size_t i;

	tool_init(argv[0]);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (parse_u64(optarg, &chunk_sectors) < 0)
				errx(1, "bad --chunk-sectors");
			break;
		case 'e':
			if (parse_u64(optarg, &extra) < 0)
				errx(1, "bad --extra");
			break;
		case 'u':
			if (parse_u64(optarg, &uncommitted) < 0)
				errx(1, "bad --uncommitted");
			break;
		case 'I':
			invalid = 1;
			break;
		case 'o':
			origin = optarg;
			break;
		case 'z':
			zero = 1;
			break;
		default:
			errx(1, "usage: mkcow-from-image [options] (--origin F | --zero-origin) IMAGE STORE");
		}
	}
	if (argc - optind != 2 || !!origin == zero)
		errx(1, "usage: mkcow-from-image [options] (--origin F | --zero-origin) IMAGE STORE");
	image = argv[optind];
	store = argv[optind + 1];
	cb = (uint32_t)chunk_sectors * SNAPCOW_SECTOR_SIZE;
	per_area = cb / SNAPCOW_RECORD_SIZE;

	ifd = open(image, O_RDONLY);
	if (ifd < 0 || fstat(ifd, &st) < 0)
		errx(1, "cannot open %s: %s", image, strerror(errno));
	size = (uint64_t)st.st_size;
	if (origin) {
		ofd = open(origin, O_RDONLY);
		if (ofd < 0)
			errx(1, "cannot open %s: %s", origin, strerror(errno));
	}
	a = malloc(cb);
	b = calloc(1, cb);
	if (!a || !b)
		errx(1, "out of memory");
	nchunks = (size + cb - 1) / cb;
	for (c = 0; c < nchunks; c++) {
		if (zero) {
			/* Skip the image's holes without reading them. */
			off_t d = lseek(ifd, (off_t)(c * cb), SEEK_DATA);
			if (d < 0)
				break;
			if ((uint64_t)d / cb > c)
				c = (uint64_t)d / cb;
			if (c >= nchunks)
				break;
		}
		read_padded(ifd, a, cb, c * cb, image);
		if (ofd >= 0)
			read_padded(ofd, b, cb, c * cb, origin);
		if (ofd >= 0 ? memcmp(a, b, cb) != 0 : !is_zero(a, cb))
			push(&changed, c);
	}
	if (uncommitted > changed.n)
		errx(1, "--uncommitted %llu: only %zu chunks differ",
		     (unsigned long long)uncommitted, changed.n);

	/* Data chunks: the committed ones, then the uncommitted ones. */
	nf = 2;
	for (i = 0; i < changed.n; i++)
		nf = next_data_chunk(per_area, nf) + 1;
	nf = next_data_chunk(per_area, nf) + extra;
	/* One more area chunk may be needed to terminate a full table. */
	sfd = open(store, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (sfd < 0)
		errx(1, "cannot create %s: %s", store, strerror(errno));
	r = snapcow_writer_new(NULL, sfd, store, (uint32_t)chunk_sectors, (nf + 2) * cb, &w);
	if (r < 0)
		errx(1, "%s: %s", store, snapcow_strerror(r));
	c = 2;
	for (i = 0; i < changed.n; i++) {
		struct snapcow_exception e;

		c = next_data_chunk(per_area, c);
		read_padded(ifd, a, cb, changed.v[i] * cb, image);
		if (pwrite(sfd, a, cb, (off_t)(c * cb)) != (ssize_t)cb)
			errx(1, "cannot write %s: %s", store, strerror(errno));
		if (i < changed.n - uncommitted) {
			e.old_chunk = changed.v[i];
			e.new_chunk = c;
			r = snapcow_writer_add(w, &e);
			if (r < 0)
				errx(1, "%s: %s", store, snapcow_strerror(r));
		}
		c++;
	}
	r = snapcow_writer_finish(w, invalid ? 0 : 1);
	if (r < 0)
		errx(1, "%s: %s", store, snapcow_strerror(r));
	snapcow_writer_free(w);
	printf("exceptions %llu, uncommitted %llu, store %llu chunks\n",
	       (unsigned long long)(changed.n - uncommitted), (unsigned long long)uncommitted,
	       (unsigned long long)(nf + 2));
	close(sfd);
	close(ifd);
	if (ofd >= 0)
		close(ofd);
	free(changed.v);
	free(a);
	free(b);
	return 0;
}
