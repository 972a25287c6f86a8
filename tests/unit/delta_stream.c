/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The delta stream (src/common/delta_stream.c): what the writer writes the
 * reader gives back, field by field and byte by byte; every single-byte
 * change anywhere in a stream and every truncation is an error (never a
 * stream read to its end); the writer refuses runs out of order.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "delta_stream.h"
#include "unit.h"

#define VOL (1U << 20)

static unsigned char vol[VOL];

static int memfd(void)
{
	int fd = memfd_create("unit-delta", MFD_CLOEXEC);

	if (fd < 0) {
		perror("memfd_create");
		exit(77);
	}
	return fd;
}

/* An undo-kind stream (so that every record type may appear): three runs
 * (one compressible), a zero run, SAVE and DONE, END.  Returns its fd. */
static int make_stream(int level, uint64_t *id)
{
	struct dstream_header h = { .kind = DSTREAM_UNDO, .size = VOL, .chunk_bytes = 4096,
				    .created = 1234, .undoes = 99, .table_exceptions = 3 };
	struct dstream_progress p = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct dstream_writer *w;
	int fd = memfd();

	strcpy(h.source, "unit/vol");
	strcpy(h.origin_uuid, "LVM-origin");
	h.target.kind = SNAPCOW_IDENT_BLOCK;
	h.target.rdev = 0x0801;
	strcpy(h.target.dm_uuid, "LVM-target");
	CHECK_EQ(dstream_writer_new(fd, &h, level, &w), 0);
	*id = h.id;
	CHECK_EQ(dstream_writer_run(w, 4096, vol + 4096, 8192, NULL), 0);
	CHECK_EQ(dstream_writer_progress(w, DSTREAM_TAG_SAVE, &p), 0);
	CHECK_EQ(dstream_writer_run(w, 65536, vol + 65536, 100, NULL), 0);
	CHECK_EQ(dstream_writer_zero(w, 70000, 5000), 0);
	CHECK_EQ(dstream_writer_run(w, VOL - 4096, vol + VOL - 4096, 4096, NULL), 0);
	/* out of order, too long, empty: refused, nothing written */
	CHECK_EQ(dstream_writer_run(w, 0, vol, 10, NULL), -EINVAL);
	CHECK_EQ(dstream_writer_run(w, VOL, vol, DSTREAM_RUN_MAX + 1, NULL), -EINVAL);
	CHECK_EQ(dstream_writer_zero(w, VOL, 0), -EINVAL);
	CHECK_EQ(dstream_writer_progress(w, DSTREAM_TAG_DONE, &p), 0);
	CHECK_EQ(dstream_writer_end(w), 0);
	dstream_writer_free(w);
	return fd;
}

/* Read the stream on @fd through.  Returns what the last next() did. */
static int read_all(int fd, int check, uint64_t id)
{
	static const struct { uint32_t tag; uint64_t off, len; } want[] = {
		{ DSTREAM_TAG_RUN, 4096, 8192 }, { DSTREAM_TAG_SAVE, 0, 0 },
		{ DSTREAM_TAG_RUN, 65536, 100 }, { DSTREAM_TAG_ZERO, 70000, 5000 },
		{ DSTREAM_TAG_RUN, VOL - 4096, 4096 }, { DSTREAM_TAG_DONE, 0, 0 },
	};
	struct dstream_reader *r;
	struct dstream_record rec;
	const void *data;
	size_t i = 0;
	int e;

	lseek(fd, 0, SEEK_SET);
	e = dstream_reader_new(fd, "unit", &r);
	if (e < 0) {
		dstream_reader_free(r);
		return e;
	}
	if (check) {
		const struct dstream_header *h = dstream_reader_header(r);

		CHECK_EQ(h->kind, DSTREAM_UNDO);
		CHECK_EQ(h->size, VOL);
		CHECK_EQ(h->undoes, 99);
		CHECK_EQ(h->target.rdev, 0x0801);
		CHECK_EQ(h->id, id);
		CHECK(!strcmp(h->source, "unit/vol") && !strcmp(h->target.dm_uuid, "LVM-target"));
	}
	while ((e = dstream_reader_next(r, &rec, &data)) == 0) {
		if (!check || i >= sizeof(want) / sizeof(want[0])) {
			i++;
			continue;
		}
		CHECK_EQ(rec.tag, want[i].tag);
		CHECK_EQ(rec.offset, want[i].off);
		CHECK_EQ(rec.length, want[i].len);
		if (rec.tag == DSTREAM_TAG_RUN)
			CHECK(!memcmp(data, vol + rec.offset, rec.length));
		if (rec.tag == DSTREAM_TAG_DONE)
			CHECK_EQ(rec.progress.last_xxh, 8);
		i++;
	}
	if (check) {
		CHECK_EQ(e, 1);
		CHECK_EQ(i, sizeof(want) / sizeof(want[0]));
		CHECK_EQ(dstream_reader_runs(r, NULL), 4);
	}
	dstream_reader_free(r);
	return e;
}

/* Every byte changed in turn, every length cut: an error each time. */
static void corruptions(int fd, uint64_t id)
{
	off_t size = lseek(fd, 0, SEEK_END);
	unsigned char *copy = malloc((size_t)size), b;
	int missed = 0, cuts = 0;

	CHECK(pread(fd, copy, (size_t)size, 0) == size);
	for (off_t i = 0; i < size; i++) {
		b = copy[i] ^ 0x20;
		CHECK(pwrite(fd, &b, 1, i) == 1);
		if (read_all(fd, 0, id) >= 0) {
			fprintf(stderr, "byte %lld changed: not detected\n", (long long)i);
			missed++;
		}
		CHECK(pwrite(fd, copy + i, 1, i) == 1);
	}
	CHECK_EQ(missed, 0);
	for (off_t n = 0; n < size; n++) {
		CHECK_EQ(ftruncate(fd, n), 0);
		if (read_all(fd, 0, id) >= 0)
			cuts++;
	}
	CHECK_EQ(cuts, 0);
	CHECK_EQ(ftruncate(fd, 0), 0);
	CHECK(pwrite(fd, copy, (size_t)size, 0) == size);
	b = 0;
	CHECK(pwrite(fd, &b, 1, size) == 1); /* one byte after the end record */
	CHECK_EQ(read_all(fd, 0, id), -DSTREAM_E_TRAILING);
	free(copy);
}

/* A full stream must cover the volume: a gap is refused. */
static void full_gap(void)
{
	struct dstream_header h = { .kind = DSTREAM_FULL, .size = VOL, .chunk_bytes = 4096 };
	struct dstream_writer *w;
	struct dstream_reader *r;
	struct dstream_record rec;
	const void *data;
	int fd = memfd();

	CHECK_EQ(dstream_writer_new(fd, &h, 0, &w), 0);
	CHECK_EQ(dstream_writer_zero(w, 0, 4096), 0);
	CHECK_EQ(dstream_writer_run(w, 8192, vol, 4096, NULL), 0);
	dstream_writer_free(w);
	lseek(fd, 0, SEEK_SET);
	CHECK_EQ(dstream_reader_new(fd, "gap", &r), 0);
	CHECK_EQ(dstream_reader_next(r, &rec, &data), 0);
	CHECK_EQ(dstream_reader_next(r, &rec, &data), -DSTREAM_E_ORDER);
	CHECK(strstr(dstream_reader_error(r), "gap") != NULL);
	dstream_reader_free(r);
	close(fd);
}

int main(void)
{
	uint64_t id;
	int fd;

	for (size_t i = 0; i < VOL; i++)
		vol[i] = (unsigned char)(i < 65536 ? i * 7 + i / 4096 : 'a' + i % 3);
	fd = make_stream(0, &id);
	CHECK_EQ(read_all(fd, 1, id), 1);
	corruptions(fd, id);
	close(fd);
	fd = make_stream(3, &id); /* zstd runs */
	CHECK_EQ(read_all(fd, 1, id), 1);
	CHECK(lseek(fd, 0, SEEK_END) < 2 * 4096 + 8192);
	corruptions(fd, id);
	close(fd);
	full_gap();
	CHECK(!strcmp(dstream_error_name(-DSTREAM_E_DATA), "bad-run-checksum"));
	CHECK(!strcmp(dstream_kind_name(DSTREAM_CHANGES), "changes"));
	return unit_done("delta_stream");
}
