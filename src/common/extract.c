/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The view written out as a sparse file or a stream (see extract.h).
 *
 * One engine, two callers: extract_view() reads the store and the origin
 * through their byte sources (struct snapcow_dev: one file or device, or
 * an LV's pieces on PV images; copy_file_range() and SEEK_DATA go to the
 * descriptor of each piece) and says what failed where;
 * extract_copy_sparse() has only the view, so it reads through
 * snapcow_view_pread() and prints nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract.h"
#include "outfile.h"
#include "tool.h"

#define STAGE_BYTES (8U << 20) /* staging buffer: one output range */
#define ZERO_BYTES (1U << 20)  /* zeros written per call to a stream */
#define COPY_BLOCK 4096U       /* extract_copy_sparse(): hole granularity */

/* Where a run of the view is read from. */
struct source {
	const struct snapcow_dev *dev; /* NULL: through the view (snapcow_view_pread) */
	const char *name;
	uint64_t seg_start;  /* cached data segment [seg_start, seg_end) */
	uint64_t seg_end;
};

struct job {
	struct snapcow_view *v;
	struct source store, origin;
	int fd;              /* the output */
	int stream;          /* write everything in sequence, zeros too */
	const char *name;
	int report;          /* print what failed */
	int cfr;             /* copy_file_range still worth trying */
	uint32_t block;      /* all-zero blocks of this size stay holes */
	unsigned char *buf;  /* staged bytes of [off, off + len) */
	size_t len;
	uint64_t off;
	uint64_t pos;        /* stream: bytes written so far */
	uint64_t written;    /* bytes written (holes not counted) */
	unsigned char *zeros; /* stream: ZERO_BYTES of zeros */
};

static void PRINTF_LIKE(2, 3) report(const struct job *j, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!j->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warnx("%s", msg);
}

/* One write to the output: at @off of a file, in sequence to a stream. */
static int write_out(struct job *j, const void *buf, size_t len, uint64_t off)
{
	int r = j->stream ? write_full(j->fd, buf, len) : pwrite_full(j->fd, buf, len, off);

	if (r < 0)
		report(j, "cannot write %s at byte offset %" PRIu64 ": %s", j->name,
		       j->stream ? j->pos : off, strerror(-r));
	else
		j->written += len;
	if (j->stream)
		j->pos += len;
	return r;
}

/* Bytes from staged offset @i to the end of its block (or of the stage). */
static size_t piece_at(const struct job *j, size_t i)
{
	size_t piece = j->block - (size_t)((j->off + i) % j->block);

	return piece < j->len - i ? piece : j->len - i;
}

/* Write the staged range: all of it to a stream; to a file, only the
 * blocks that are not all zeros (the others stay holes). */
static int flush(struct job *j)
{
	size_t i = 0, start;
	int r = 0;

	if (j->stream && j->len)
		r = write_out(j, j->buf, j->len, j->off);
	while (!j->stream && !r && i < j->len) {
		/* Pieces end on block boundaries of the output. */
		start = i;
		while (i < j->len && !is_zero(j->buf + i, piece_at(j, i)))
			i += piece_at(j, i);
		if (i > start)
			r = write_out(j, j->buf + start, i - start, j->off + start);
		while (i < j->len && is_zero(j->buf + i, piece_at(j, i)))
			i += piece_at(j, i);
	}
	j->len = 0;
	return r;
}

/* Read @n bytes of @src at @at (for the view: at view offset @dst). */
static int source_read(struct job *j, const struct source *src, void *buf, size_t n, uint64_t at,
		       uint64_t dst)
{
	ssize_t got;
	int r;

	if (!src->dev) {
		got = snapcow_view_pread(j->v, buf, n, dst);
		return got < 0 ? (int)got : (size_t)got < n ? -EIO : 0;
	}
	r = snapcow_dev_pread(src->dev, buf, n, at);
	if (r < 0)
		report(j, "cannot read %s at byte offset %" PRIu64 ": %s", src->name, at,
		       r == -EIO ? "it ends early" : strerror(-r));
	return r;
}

/* Read @len bytes of @src at @at into the output at @dst (staged). */
static int stage_read(struct job *j, const struct source *src, uint64_t at, uint64_t dst,
		      uint64_t len)
{
	int r = 0;

	if (j->len && j->off + j->len != dst)
		r = flush(j);
	while (!r && len) {
		size_t n;

		if (j->len == STAGE_BYTES)
			r = flush(j);
		if (r < 0)
			break;
		if (!j->len)
			j->off = dst;
		n = STAGE_BYTES - j->len;
		if (n > len)
			n = (size_t)len;
		r = source_read(j, src, j->buf + j->len, n, at, dst);
		j->len += n;
		at += n;
		dst += n;
		len -= n;
	}
	return r;
}

/* @len bytes of zeros: holes in a file, written to a stream. */
static int put_zeros(struct job *j, uint64_t len)
{
	int r = flush(j);

	while (!r && j->stream && len) {
		size_t n = len < ZERO_BYTES ? (size_t)len : ZERO_BYTES;

		r = write_out(j, j->zeros, n, 0);
		len -= n;
	}
	return r;
}

/* Copy [@off, @off + @len) of the origin to the same offset of a file
 * output in the kernel.  Returns bytes done (less than @len when
 * copy_file_range is not supported here: the caller stages the rest), or
 * a negative errno. */
static int64_t copy_segment(struct job *j, uint64_t off, uint64_t len)
{
	const struct source *src = &j->origin;
	uint64_t done = 0;

	while (done < len) {
		loff_t in, out = (loff_t)(off + done);
		uint64_t at, left;
		int fd;
		size_t want;
		ssize_t n;

		/* the piece of the origin holding this byte (data: never a zero piece) */
		if (snapcow_dev_locate(src->dev, off + done, &fd, &at, &left) < 0 || fd < 0)
			return (int64_t)done;
		in = (loff_t)at;
		want = len - done < left ? (size_t)(len - done) : (size_t)left;
		if (want > (1U << 30))
			want = 1U << 30;
		n = copy_file_range(fd, &in, j->fd, &out, want, 0);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (done == 0 && (e == EXDEV || e == EINVAL || e == ENOSYS ||
					  e == EOPNOTSUPP || e == EBADF)) {
				j->cfr = 0;
				return 0;
			}
			report(j, "cannot copy %s to %s at byte offset %" PRIu64 ": %s", src->name,
			       j->name, off + done, strerror(e));
			return -e;
		}
		if (n == 0) {
			report(j, "cannot read %s at byte offset %" PRIu64 ": it ends early",
			       src->name, off + done);
			return -EIO;
		}
		done += (uint64_t)n;
		j->written += (uint64_t)n;
	}
	return (int64_t)done;
}

/* Find the origin's data segment at or after @off, within @end.  Returns
 * 1 with [*ds, *de), 0 if the rest up to @end is a hole, or -errno. */
static int origin_data(struct source *src, uint64_t off, uint64_t end, uint64_t *ds,
		       uint64_t *de)
{
	uint64_t d, h;
	int r;

	*ds = off;
	*de = end;
	if (off >= src->seg_start && off < src->seg_end) {
		*de = src->seg_end < end ? src->seg_end : end;
		return 1;
	}
	r = snapcow_dev_next_data(src->dev, off, &d, &h);
	if (r == -EINVAL || r == -EOPNOTSUPP)
		return 1; /* no SEEK_DATA here: treat everything as data */
	if (r)
		return r > 0 ? 0 : r;
	if (d >= end)
		return 0;
	src->seg_start = d;
	src->seg_end = h;
	*ds = d;
	*de = h < end ? h : end;
	return 1;
}

/* [@off, @off + @len) from the origin: its holes stay holes, its data is
 * copied in the kernel where possible, staged otherwise. */
static int copy_origin(struct job *j, uint64_t off, uint64_t len)
{
	const uint64_t end = off + len;
	int r;

	if (j->stream || !j->origin.dev)
		return stage_read(j, &j->origin, off, off, len);
	while (off < end) {
		uint64_t ds = 0, de = 0;
		int64_t n = 0;

		r = origin_data(&j->origin, off, end, &ds, &de);
		if (r < 0) {
			report(j, "cannot seek %s at byte offset %" PRIu64 ": %s", j->origin.name,
			       off, strerror(-r));
			return r;
		}
		if (r == 0)
			return put_zeros(j, end - off);
		r = ds > off ? put_zeros(j, ds - off) : 0;
		if (!r && j->cfr) {
			r = flush(j);
			n = r < 0 ? r : copy_segment(j, ds, de - ds);
			r = n < 0 ? (int)n : 0;
		}
		if (!r && ds + (uint64_t)n < de)
			r = stage_read(j, &j->origin, ds + (uint64_t)n, ds + (uint64_t)n,
				       de - ds - (uint64_t)n);
		if (r < 0)
			return r;
		off = de;
	}
	return 0;
}

/* Write [@off, @end) of the view (or up to its end), updating @p. */
static int copy_range(struct job *j, uint64_t off, uint64_t end, struct progress *p)
{
	struct snapcow_extent e;
	uint64_t n;
	int r;

	while (off < end) {
		r = snapcow_view_extent(j->v, off, &e);
		if (r > 0) /* the end of the view */
			break;
		if (r < 0)
			return r;
		if (!e.length) {
			report(j, "%s: empty extent at byte offset %" PRIu64, j->store.name, off);
			return -EIO;
		}
		n = e.length < end - off ? e.length : end - off;
		if (e.source == SNAPCOW_SRC_COW)
			r = stage_read(j, &j->store, e.source_offset, off, n);
		else if (e.source == SNAPCOW_SRC_ORIGIN)
			r = copy_origin(j, off, n);
		else
			r = put_zeros(j, n);
		if (r < 0)
			return r;
		off += n;
		if (p)
			progress_update(p, off);
	}
	return flush(j);
}

static int job_init(struct job *j, struct snapcow_view *v, int stream)
{
	memset(j, 0, sizeof(*j));
	j->v = v;
	j->fd = -1;
	j->stream = stream;
	j->buf = malloc(STAGE_BYTES);
	j->zeros = stream ? calloc(1, ZERO_BYTES) : NULL;
	if (!j->buf || (stream && !j->zeros)) {
		free(j->buf);
		free(j->zeros);
		return -ENOMEM;
	}
	return 0;
}

static void job_free(struct job *j)
{
	free(j->buf);
	free(j->zeros);
}

int extract_copy_sparse(struct snapcow_view *v, int fd, uint64_t off, uint64_t len,
			uint64_t *copied)
{
	struct job j;
	int r;

	if (copied)
		*copied = 0;
	if (off + len < off)
		return -EINVAL;
	r = job_init(&j, v, 0);
	if (r < 0)
		return r;
	j.fd = fd;
	j.name = j.store.name = j.origin.name = "the view";
	j.block = COPY_BLOCK;
	r = copy_range(&j, off, off + len, NULL);
	if (copied)
		*copied = j.written;
	job_free(&j);
	return r;
}

/* ---- The output of extract_view() -------------------------------------- */

/* Open the output of @opt and write the view of @vs to it. */
static int write_output(struct job *j, const struct viewset *vs,
			const struct extract_options *opt, struct outfile *f)
{
	const struct outfile_input inputs[] = {
		{ vs->thin ? vs->thin->meta : snapcow_store_dev(vs->store),
		  vs->thin ? "thin pool's metadata" : "store" },
		{ vs->thin ? vs->thin->data : snapcow_view_origin(vs->view),
		  vs->thin ? "thin pool's data" : "origin" },
		{ NULL, NULL },
	};
	struct progress prog;
	int r;

	r = outfile_open(f, opt->output, opt->force, "the snapshot", inputs);
	if (r < 0)
		return r;
	j->fd = f->fd;
	j->name = f->name;
	if (!j->stream) {
		j->cfr = snapcow_view_origin(vs->view) != NULL;
		if (ftruncate(j->fd, (off_t)vs->size) < 0) {
			r = -errno;
			warnx("cannot size %s to %" PRIu64 " bytes: %s", j->name, vs->size,
			      strerror(-r));
			return r;
		}
	}
	progress_init(&prog, opt->progress ? opt->progress : "", vs->size);
	r = copy_range(j, 0, vs->size, opt->progress ? &prog : NULL);
	progress_end(&prog);
	return r < 0 ? r : outfile_finish(f);
}

int extract_view(const struct viewset *vs, const struct extract_options *opt,
		 uint64_t *written)
{
	struct outfile f = { .fd = -1 };
	struct job j;
	int r;

	if (written)
		*written = 0;
	r = job_init(&j, vs->view, !strcmp(opt->output, "-"));
	if (r < 0) {
		warnx("out of memory");
		return r;
	}
	j.report = 1;
	j.block = vs->chunk_bytes;
	j.store.dev = vs->store ? snapcow_store_dev(vs->store) : NULL;
	j.store.name = vs->store ? snapcow_store_name(vs->store) : vs->thin_name;
	j.origin.dev = snapcow_view_origin(vs->view);
	j.origin.name = vs->origin;
	r = write_output(&j, vs, opt, &f);
	if (r < 0)
		outfile_abort(&f);
	if (written)
		*written = j.written;
	job_free(&j);
	return r;
}
