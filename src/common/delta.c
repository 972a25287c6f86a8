/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_delta's job: a snapshot's changed chunks, or a device's non-zero
 * chunks, as a delta stream (see delta.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delta.h"
#include "delta_stream.h"
#include "outfile.h"
#include "target.h"
#include "tool.h"

#define DEVICE_BLOCK 4096U /* --full of a device: zero runs skipped at this size */

/* Where a stream's data comes from. */
struct source {
	struct snapcow_view *view;        /* a snapshot (NULL: a device) */
	const struct snapcow_dev *origin; /* the snapshot's origin, or the device */
	const char *name;                 /* for messages */
	uint64_t size;
	uint32_t block;                   /* zero runs are skipped in these units */
};

struct delta {
	const struct delta_options *o;
	struct source src;
	struct outfile out;
	struct dstream_writer *w;
	struct dstream_header h;
	unsigned char *pend;    /* the run being gathered: [poff, poff + plen) */
	size_t plen;
	uint64_t poff;
	uint64_t end;           /* the end of the last run written */
	unsigned char *buf;     /* one read */
	uint64_t read_bytes;    /* source bytes read */
	uint64_t chunks;        /* chunks shipped */
	uint64_t zero_runs;     /* ZERO records written */
	struct progress prog;
};

/* ---- Runs out --------------------------------------------------------------- */

static int write_failed(const struct delta *d, int r)
{
	warnx("cannot write %s at byte offset %" PRIu64 ": %s", d->out.name,
	      dstream_writer_pos(d->w), strerror(-r));
	return r;
}

/* A full stream covers the volume: zero runs up to @off. */
static int zeros_until(struct delta *d, uint64_t off)
{
	while (d->h.kind == DSTREAM_FULL && d->end < off) {
		uint64_t n = off - d->end < DSTREAM_RUN_WRITE ? off - d->end : DSTREAM_RUN_WRITE;
		int r = dstream_writer_zero(d->w, d->end, n);

		if (r < 0)
			return write_failed(d, r);
		d->end += n;
		d->zero_runs++;
	}
	return 0;
}

static int flush_run(struct delta *d)
{
	int r;

	if (!d->plen)
		return 0;
	r = zeros_until(d, d->poff);
	if (r < 0)
		return r;
	r = dstream_writer_run(d->w, d->poff, d->pend, d->plen, NULL);
	if (r < 0)
		return write_failed(d, r);
	d->end = d->poff + d->plen;
	d->plen = 0;
	return 0;
}

/* Add [@off, @off + @n) of the volume to the runs: adjacent bytes go on
 * the run being gathered, anything else starts a new one. */
static int emit(struct delta *d, uint64_t off, const unsigned char *p, size_t n)
{
	while (n) {
		size_t k;
		int r;

		if (d->plen && (d->poff + d->plen != off || d->plen == DSTREAM_RUN_WRITE)) {
			r = flush_run(d);
			if (r < 0)
				return r;
		}
		if (!d->plen)
			d->poff = off;
		k = DSTREAM_RUN_WRITE - d->plen;
		if (k > n)
			k = n;
		memcpy(d->pend + d->plen, p, k);
		d->plen += k;
		off += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* ---- Reading the source ----------------------------------------------------- */

/* Read @n bytes at @off of the snapshot view (@from_view) or of the origin
 * or device.  Failures are said. */
static int source_read(struct delta *d, int from_view, void *buf, size_t n, uint64_t off)
{
	unsigned long mark = tool_lib_errors();
	ssize_t got;
	int r;

	if (from_view) {
		got = snapcow_view_pread(d->src.view, buf, n, off);
		r = got < 0 ? (int)got : (size_t)got < n ? -EIO : 0;
	} else {
		r = snapcow_dev_pread(d->src.origin, buf, n, off);
	}
	if (r < 0 && tool_lib_errors() == mark)
		warnx("cannot read %s at byte offset %" PRIu64 ": %s", from_view ? "the snapshot" :
		      d->src.name, off, r == -EIO ? "it ends early" : strerror(-r));
	d->read_bytes += n;
	return r;
}

/* Ship [@off, @end) whole, read in large pieces. */
static int ship_range(struct delta *d, int from_view, uint64_t off, uint64_t end)
{
	while (off < end) {
		size_t n = end - off < DSTREAM_RUN_WRITE ? (size_t)(end - off) : DSTREAM_RUN_WRITE;
		int r = source_read(d, from_view, d->buf, n, off);

		if (!r)
			r = emit(d, off, d->buf, n);
		if (r < 0)
			return r;
		off += n;
	}
	return 0;
}

/* Every chunk of the table inside the volume, adjacent ones together: the
 * origin's data (changes) or the snapshot's. */
static int ship_table(struct delta *d)
{
	const struct snapcow_map *m = snapcow_view_map(d->src.view);
	const uint64_t cb = d->src.block, size = d->src.size;
	const uint64_t nchunks = size / cb + (size % cb != 0);
	const int from_view = d->h.kind == DSTREAM_SNAPSHOT;
	struct snapcow_exception e;
	uint64_t from = 0, done = 0;

	while (snapcow_map_next(m, from, &e) == 0 && e.old_chunk < nchunks) {
		uint64_t first = e.old_chunk, end = first + 1, stop;
		int r;

		while (end < nchunks && snapcow_map_next(m, end, &e) == 0 && e.old_chunk == end)
			end++;
		stop = end * cb < size ? end * cb : size;
		r = ship_range(d, from_view, first * cb, stop);
		if (r < 0)
			return r;
		d->chunks += end - first;
		done += stop - first * cb;
		progress_update(&d->prog, done);
		from = end;
	}
	return flush_run(d);
}

/* The next data of the source at or after @off: [*@ds, *@de).  Zero
 * extents of a view and holes of files are skipped without reading.
 * Returns: 0, 1 when none is left, or -errno (said). */
static int next_data(struct delta *d, uint64_t off, uint64_t *ds, uint64_t *de)
{
	struct snapcow_extent e = { .offset = off, .length = d->src.size - off,
				    .source = SNAPCOW_SRC_ORIGIN };
	uint64_t data, hole;
	int r;

	while (off < d->src.size) {
		if (d->src.view && snapcow_view_extent(d->src.view, off, &e) != 0)
			return 1;
		*ds = off;
		*de = e.offset + e.length;
		if (e.source == SNAPCOW_SRC_COW)
			return 0;
		if (e.source == SNAPCOW_SRC_ORIGIN) {
			r = snapcow_dev_next_data(d->src.origin, off, &data, &hole);
			if (r == -EINVAL || r == -EOPNOTSUPP)
				return 0; /* no SEEK_DATA here: all of it is data */
			if (r < 0) {
				warnx("cannot seek %s at byte offset %" PRIu64 ": %s", d->src.name,
				      off, strerror(-r));
				return r;
			}
			if (r == 0 && data < *de) {
				*ds = data > off ? data : off;
				*de = hole < *de ? hole : *de;
				return 0;
			}
		}
		off = *de;
	}
	return 1;
}

/* [@off, @end): the blocks that are not all zeros. */
static int ship_nonzero(struct delta *d, uint64_t off, uint64_t end)
{
	const uint32_t b = d->src.block;

	while (off < end) {
		size_t n = end - off < DSTREAM_RUN_WRITE ? (size_t)(end - off) : DSTREAM_RUN_WRITE;
		int r = source_read(d, d->src.view != NULL, d->buf, n, off);

		for (size_t i = 0; !r && i < n; i += b) {
			size_t k = n - i < b ? n - i : b;

			if (is_zero(d->buf + i, k)) {
				r = flush_run(d);
			} else {
				r = emit(d, off + i, d->buf + i, k);
				d->chunks++;
			}
		}
		if (r < 0)
			return r;
		off += n;
		progress_update(&d->prog, off);
	}
	return 0;
}

/* --full: every non-zero block of the data segments, in block units of
 * the volume. */
static int ship_full(struct delta *d)
{
	const uint64_t b = d->src.block;
	uint64_t off = 0, ds, de;
	int r;

	while ((r = next_data(d, off, &ds, &de)) == 0) {
		ds -= ds % b;
		if (de % b)
			de += b - de % b;
		if (de > d->src.size)
			de = d->src.size;
		if (ds < off)
			ds = off;
		r = ds < de ? ship_nonzero(d, ds, de) : 0;
		if (r < 0)
			return r;
		off = de;
	}
	if (r >= 0)
		r = flush_run(d);
	return r < 0 ? r : zeros_until(d, d->src.size);
}

/* ---- The stream ------------------------------------------------------------- */

static int delta_init(struct delta *d, const struct delta_options *o)
{
	memset(d, 0, sizeof(*d));
	d->o = o;
	d->out.fd = -1;
	d->pend = malloc(DSTREAM_RUN_WRITE);
	d->buf = malloc(DSTREAM_RUN_WRITE);
	if (!d->pend || !d->buf) {
		warnx("out of memory");
		return -ENOMEM;
	}
	d->h.kind = o->kind;
	d->h.created = (uint64_t)time(NULL);
	snprintf(d->h.program, sizeof(d->h.program), "%s %s", program_name, snapcow_version());
	return 0;
}

static void delta_free(struct delta *d)
{
	dstream_writer_free(d->w);
	free(d->pend);
	free(d->buf);
}

/* Open the output and write the header. */
static int start_stream(struct delta *d, const struct outfile_input *inputs)
{
	int r = outfile_open(&d->out, d->o->output, d->o->force, "a delta stream", inputs);

	if (r < 0)
		return r;
	pipe_grow(d->out.fd, DSTREAM_PIPE_BYTES);
	r = dstream_writer_new(d->out.fd, &d->h, d->o->zstd_level, &d->w);
	if (r < 0)
		warnx("cannot write %s: %s", d->out.name, strerror(-r));
	return r;
}

/* The end record, then the output made durable. */
static int end_stream(struct delta *d)
{
	int r = dstream_writer_end(d->w);

	if (r < 0) {
		warnx("cannot write %s at byte offset %" PRIu64 ": %s", d->out.name,
		      dstream_writer_pos(d->w), strerror(-r));
		return r;
	}
	return outfile_finish(&d->out);
}

static void report(const struct delta *d)
{
	char data[32], read[32], stream[32], size[32], zeros[48] = "";
	uint64_t bytes, runs = dstream_writer_runs(d->w, &bytes) - d->zero_runs;

	if (d->o->quiet)
		return;
	if (d->h.kind == DSTREAM_FULL)
		snprintf(zeros, sizeof(zeros), " and %" PRIu64 " zero run%s", d->zero_runs,
			 d->zero_runs == 1 ? "" : "s");
	fprintf(stderr, "%s: %s: %s stream of a %s volume: %" PRIu64 " %s%s (%s) in %" PRIu64
		" run%s%s; read %s; wrote %s to %s\n", program_name, d->h.source,
		dstream_kind_name(d->h.kind), format_size(d->h.size, size, sizeof(size)),
		d->chunks, d->h.kind == DSTREAM_FULL ? "non-zero block" : "chunk",
		d->chunks == 1 ? "" : "s", format_size(bytes, data, sizeof(data)), runs,
		runs == 1 ? "" : "s", zeros, format_size(d->read_bytes, read, sizeof(read)),
		format_size(dstream_writer_pos(d->w), stream, sizeof(stream)), d->out.name);
}

/* ---- A snapshot --------------------------------------------------------------- */

/* The dm UUIDs of the origin and the snapshot: from LVM's metadata for a
 * volume, from the devices (sysfs) for a store path. */
static void source_uuids(struct dstream_header *h, const struct viewset *vs)
{
	struct snapcow_identity id;
	const struct lvm_vg *vg = vs->vol.cow ? volume_vg(&vs->vol) : NULL;
	int sfd = snapcow_store_fd(vs->store);

	if (vg) {
		lvm_lv_dm_uuid(vg, vs->vol.snap.origin, h->origin_uuid, sizeof(h->origin_uuid));
		lvm_lv_dm_uuid(vg, vs->vol.snap.cow, h->snapshot_uuid, sizeof(h->snapshot_uuid));
		return;
	}
	if (vs->origin_fd >= 0 && store_identity(vs->origin_fd, &id) == 0)
		snprintf(h->origin_uuid, sizeof(h->origin_uuid), "%s", id.dm_uuid);
	if (sfd >= 0 && store_identity(sfd, &id) == 0) {
		char *cow = strstr(id.dm_uuid, "-cow");

		if (cow && !cow[4])
			*cow = '\0';
		snprintf(h->snapshot_uuid, sizeof(h->snapshot_uuid), "%s", id.dm_uuid);
	}
}

/* The header of a snapshot's stream.  Returns 0, or -1 after a message. */
static int view_header(struct delta *d, struct viewset *vs, const char *operand)
{
	const struct snapcow_map *m = snapcow_view_map(vs->view);
	const uint64_t cb = vs->chunk_bytes, nchunks = vs->size / cb + (vs->size % cb != 0);
	struct snapcow_exception e;
	uint64_t from = 0;

	snprintf(d->h.source, sizeof(d->h.source), "%s", operand);
	d->h.size = vs->size;
	d->h.chunk_bytes = vs->chunk_bytes;
	d->h.flags = vs->invalid ? DSTREAM_F_INCOMPLETE : 0;
	d->h.table_exceptions = snapcow_map_count(m);
	if (dstream_table_xxh(m, &d->h.table_xxh) < 0) {
		warnx("out of memory");
		return -1;
	}
	source_uuids(&d->h, vs);
	while (d->h.kind != DSTREAM_FULL && snapcow_map_next(m, from, &e) == 0 &&
	       e.old_chunk < nchunks) {
		uint64_t end = (e.old_chunk + 1) * cb;

		d->h.data_bytes += (end < vs->size ? end : vs->size) - e.old_chunk * cb;
		from = e.old_chunk + 1;
	}
	return 0;
}

/* What an invalid snapshot's stream of this kind would miss. */
static const char *invalid_loss(uint32_t kind, int zero_origin)
{
	if (zero_origin)
		return "the volume overflowed: what it committed is all there is, and its file "
		       "system needs a check";
	if (kind == DSTREAM_CHANGES)
		return "origin writes after the invalidation were not recorded, so its table is "
		       "only a lower bound of what changed and a delta from it would miss "
		       "changes; ship the whole origin with snap_delta --full ORIGIN instead";
	if (kind == DSTREAM_SNAPSHOT)
		return "chunks the origin changed after the invalidation are not in its table, "
		       "so a copy rolled back with it keeps them as they are now";
	return "chunks not in its table show the origin as it is now, possibly newer than the "
	       "snapshot, so the copy would mix two points in time";
}

/* What a stream of this kind cannot be made from.  Returns 0, or -1 after
 * a message. */
static int refuse_view(const struct delta *d, struct viewset *vs, const char *operand)
{
	if (d->h.kind == DSTREAM_CHANGES && vs->zero_origin) {
		warnx("%s is a --virtualsize volume: its origin is the zero target, which never "
		      "changes, so there are no origin changes to ship; --snapshot-data ships the "
		      "chunks written to it, --full its non-zero chunks", operand);
		return -1;
	}
	if (vs->invalid && !d->o->ignore_invalid) {
		warnx("%s: store is marked invalid (valid flag 0 at byte offset 4): %s; "
		      "--ignore-invalid ships it anyway, marked incomplete", operand,
		      invalid_loss(d->h.kind, vs->zero_origin));
		return -1;
	}
	if (vs->invalid)
		viewset_warn_invalid(vs, operand, vs->zero_origin);
	return 0;
}

/* Read the valid flag and the table again: a stream is complete only if
 * neither changed while it was read (an origin written meanwhile adds
 * exceptions; an overflow invalidates).  Returns 0, or -1 after a message. */
static int table_unchanged(struct viewset *vs, const char *operand)
{
	const struct snapcow_dev *dev = snapcow_store_dev(vs->store);
	int fd = snapcow_dev_fd(dev);
	struct snapcow_stats now;
	unsigned char valid[4];
	unsigned long mark = tool_lib_errors();
	int r;

	if (fd >= 0)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); /* dm-io bypasses the cache */
	r = snapcow_dev_pread(dev, valid, sizeof(valid), 4);
	if (r == 0)
		r = snapcow_store_scan(vs->store, &now);
	if (r < 0)
		lib_failed(EXIT_FAIL, mark, r, "%s: cannot read the exception table again", operand);
	if (!vs->invalid && !valid[0] && !valid[1] && !valid[2] && !valid[3]) {
		warnx("%s was invalidated while the delta was read (the snapshot overflowed): "
		      "origin writes since are not in its table; the stream was left without its "
		      "end record (incomplete)", operand);
		return -1;
	}
	if (now.exceptions != vs->stats.exceptions) {
		warnx("%s: the table grew from %" PRIu64 " to %" PRIu64 " exceptions while the delta "
		      "was read (the origin is being written): the stream was left without its end "
		      "record (incomplete); stop what writes to the origin and run it again",
		      operand, vs->stats.exceptions, now.exceptions);
		return -1;
	}
	return 0;
}

int delta_view(struct viewset *vs, const char *operand, const struct delta_options *o)
{
	const struct outfile_input inputs[] = {
		{ snapcow_store_dev(vs->store), "store" },
		{ snapcow_view_origin(vs->view), "origin" },
		{ NULL, NULL },
	};
	struct delta d;
	int r = delta_init(&d, o);

	d.src = (struct source){ vs->view, snapcow_view_origin(vs->view),
				 vs->origin ? vs->origin : "the origin", vs->size, vs->chunk_bytes };
	if (!r && (refuse_view(&d, vs, operand) < 0 || view_header(&d, vs, operand) < 0))
		r = -1;
	if (!r && !o->quiet)
		viewset_warn_table(vs, operand);
	if (!r)
		r = start_stream(&d, inputs);
	progress_init(&d.prog, "reading", o->kind == DSTREAM_FULL ? vs->size : d.h.data_bytes);
	if (!r)
		r = o->kind == DSTREAM_FULL ? ship_full(&d) : ship_table(&d);
	progress_end(&d.prog);
	if (!r)
		r = table_unchanged(vs, operand);
	if (!r)
		r = end_stream(&d);
	if (!r)
		report(&d);
	if (!r && vs->invalid)
		warnx("warning: %s is marked invalid: the stream holds what its table committed and "
		      "is marked incomplete (chunks written after the invalidation are not in it)",
		      operand);
	if (r < 0)
		outfile_abort(&d.out);
	delta_free(&d);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

/* ---- A device ------------------------------------------------------------------ */

int delta_device(const char *path, const struct delta_options *o)
{
	struct snapcow_identity id;
	struct snapcow_dev *dev = NULL;
	struct delta d;
	int fd, r = delta_init(&d, o);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		errx(EXIT_FAIL, "cannot open %s: %s", path, strerror(errno));
	if (!r && (r = snapcow_dev_new_fd(fd, path, &dev)) < 0)
		warnx("cannot open %s: %s", path, r == -EINVAL ? "not a regular file or block device" :
		      strerror(-r));
	if (!r && !snapcow_dev_size(dev)) {
		warnx("%s is empty", path);
		r = -1;
	}
	if (!r) {
		d.src = (struct source){ NULL, dev, path, snapcow_dev_size(dev), DEVICE_BLOCK };
		snprintf(d.h.source, sizeof(d.h.source), "%s", path);
		d.h.size = d.src.size;
		d.h.chunk_bytes = DEVICE_BLOCK;
		if (store_identity(fd, &id) == 0)
			snprintf(d.h.origin_uuid, sizeof(d.h.origin_uuid), "%s", id.dm_uuid);
		r = start_stream(&d, (const struct outfile_input[]){ { dev, "input" }, { NULL, NULL } });
	}
	progress_init(&d.prog, "reading", d.src.size);
	if (!r)
		r = ship_full(&d);
	progress_end(&d.prog);
	if (!r)
		r = end_stream(&d);
	if (!r)
		report(&d);
	if (r < 0)
		outfile_abort(&d.out);
	delta_free(&d);
	snapcow_dev_free(dev);
	close(fd);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
