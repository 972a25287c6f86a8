/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_restore's work: check the dump, inspect the target, save what will
 * be overwritten, write (see restore.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump.h"
#include "restore.h"
#include "target.h"
#include "tool.h"

/* The target as found before writing. */
struct target {
	const char *path;
	int exists;
	int is_blk;
	uint64_t size;       /* regular file or device size */
	dev_t dev;
	ino_t ino;
	int has_magic;       /* starts with "SnAp" */
	int fd;              /* open once accepted; -1 for a new file */
	int need_undo;       /* existing and not empty */
	const char *undo;    /* the undo file, when needed */
	char *undo_buf;
};

/* ---- Undo ----------------------------------------------------------------- */

/* Save the chunks a restore overwrites (the header and the area slots
 * 0..@areas - 1, as far as the target reaches) to a new undo file. */
static int save_undo(const char *undo, int fd, const struct snapcow_geometry *g, uint64_t areas)
{
	struct snapcow_undo_range *ranges = calloc(areas + 1, sizeof(*ranges));
	struct snapcow_identity id;
	uint64_t a;
	int e;

	if (!ranges)
		return -ENOMEM;
	for (a = 0; a <= areas; a++) {
		uint64_t off = (a ? snapcow_area_chunk(g->per_area, a - 1) : 0) * g->chunk_bytes;

		ranges[a] = (struct snapcow_undo_range){ off, g->chunk_bytes, off, g->chunk_bytes };
	}
	e = store_identity(fd, &id);
	if (!e)
		e = snapcow_undo_save(tool_ctx(), fd, &id, undo, ranges, areas + 1, program_name);
	free(ranges);
	return e;
}

/* ---- The target ----------------------------------------------------------- */

/* Find out what is at @path now, or exit with a message. */
static void inspect_target(const char *path, struct target *t)
{
	unsigned char magic[4];
	struct stat st;
	int fd;

	memset(t, 0, sizeof(*t));
	t->path = path;
	t->fd = -1;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return;
		errx(EXIT_FAIL, "cannot open %s: %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		errx(EXIT_FAIL, "%s: not a regular file or block device", path);
	t->exists = 1;
	t->is_blk = S_ISBLK(st.st_mode);
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		errx(EXIT_FAIL, "cannot open %s: %s", path, strerror(errno));
	if (fd_size(fd, &st, &t->size) < 0)
		errx(EXIT_FAIL, "cannot get the size of %s: %s", path, strerror(errno));
	t->has_magic = t->size >= 4 && pread_full(fd, magic, 4, 0) == 0 &&
		       !memcmp(magic, "SnAp", 4);
	close(fd);
	t->need_undo = t->size > 0;
}

/* Where the overwritten bytes go.  Returns 0, or -1 after a message. */
static int choose_undo(const struct restore_options *o, struct target *t)
{
	struct stat st;

	t->undo = o->undo_file;
	if (!t->undo && t->is_blk) {
		warnx("%s is a block device: give --undo FILE (on another device) for the bytes it "
		      "overwrites", t->path);
		return -1;
	}
	if (!t->undo) {
		if (asprintf(&t->undo_buf, "%s.snap_restore-undo", t->path) < 0)
			return -1;
		t->undo = t->undo_buf;
	}
	if (stat(t->undo, &st) == 0) {
		warnx("undo file %s already exists: move it away or choose another with --undo",
		      t->undo);
		return -1;
	}
	return 0;
}

/* Inspect @o->output and refuse what must not be written; open an
 * existing target.  Returns 0, or -1 after a message. */
static int accept_target(const struct restore_options *o, const struct dump_summary *sum,
			 struct target *t)
{
	uint64_t size = sum->geo.store_bytes;
	struct stat st;

	inspect_target(o->output, t);
	if (t->exists && stat(o->input, &st) == 0 && st.st_dev == t->dev && st.st_ino == t->ino) {
		warnx("%s is the dump itself: refusing to write the store over it", t->path);
		return -1;
	}
	if (t->need_undo && !o->force) {
		warnx("%s %s: refusing to overwrite it without --force (the bytes overwritten are "
		      "saved to an undo file first)", t->path,
		      t->is_blk ? "is a block device" :
		      t->has_magic ? "already holds a snapshot store (SnAp magic)" : "is not empty");
		return -1;
	}
	if (t->is_blk && t->size < size) {
		warnx("%s is %" PRIu64 " bytes, the store needs %" PRIu64, t->path, t->size, size);
		return -1;
	}
	if (t->exists && t->size > size && tool_verbosity() > 0)
		warnx("warning: %s is %" PRIu64 " bytes, more than the store size %" PRIu64
		      ": it is not shrunk, the kernel will use all of it", t->path, t->size, size);
	if (t->need_undo && choose_undo(o, t) < 0)
		return -1;
	/* An existing block device: never one the kernel holds (--force is the
	 * consent to overwrite, not to write under an active snapshot). */
	if (t->exists) {
		t->fd = store_open_rw(t->path, o->dry_run, t->is_blk ? -1 : 1, EXIT_FAIL, &st);
		if (t->is_blk)
			store_check_users(t->path, &st, -1, EXIT_FAIL);
	}
	return 0;
}

static void print_plan(const struct dump_summary *sum, const struct target *t)
{
	const struct snapcow_geometry *g = &sum->geo;
	uint64_t a;

	printf("would write %s (%s): store size %" PRIu64 " bytes, chunk %" PRIu32
	       " sectors, valid %" PRIu32 "\n", t->path,
	       !t->exists ? "new file, sparse" : t->is_blk ? "block device" : "existing file",
	       g->store_bytes, g->chunk_sectors, sum->valid);
	printf("  header at chunk 0 (byte offset 0)\n");
	for (a = 0; a < sum->areas; a++) {
		uint64_t c = snapcow_area_chunk(g->per_area, a);
		uint64_t n = a + 1 < sum->areas ? g->per_area : sum->last_count;

		printf("  area %" PRIu64 " at chunk %" PRIu64 " (byte offset %" PRIu64 "): %" PRIu64
		       " exceptions\n", a, c, c * g->chunk_bytes, n);
	}
	printf("  %" PRIu64 " exceptions in %" PRIu64 " areas; data chunks are not written\n",
	       sum->exceptions, sum->areas);
	if (t->need_undo)
		printf("  the ranges overwritten would first be saved to %s\n", t->undo);
}

/* ---- Writing -------------------------------------------------------------- */

/* The second pass: each exception, checked in the first, to the writer. */
static int write_exception(void *data, const struct dump_pos *pos, uint64_t old_chunk,
			   uint64_t new_chunk)
{
	const struct snapcow_exception e = { old_chunk, new_chunk };
	int r = snapcow_writer_add(data, &e);

	(void)pos;
	return r < 0 ? r : 0;
}

/* The writer's chunks, in its order: every area, then the header (chunk
 * 0) last, only once the areas are synced; fault points between them. */
static int put_chunk(void *data, const void *buf, size_t len, uint64_t off)
{
	int fd = *(const int *)data, r;

	if (!off) {
		if (fsync(fd) < 0)
			return -errno;
		fault_point("after-areas");
	}
	r = pwrite_full(fd, buf, len, off);
	if (!r && off)
		fault_point("after-area");
	return r;
}

/* Before a table is written over an existing store: its header's valid
 * flag 0, synced, so that a crash until the new header is written leaves a
 * store the kernel loads invalid (reads none of it), never the old header
 * over a table half new.  The flag is in the undo file's header chunk. */
static int invalidate(const struct target *t)
{
	static const unsigned char zero[4];
	unsigned char valid[4];
	int r;

	if (!t->has_magic)
		return 0;
	r = pread_full(t->fd, valid, 4, 4);
	if (!r && memcmp(valid, zero, 4))
		r = pwrite_full(t->fd, zero, 4, 4);
	if (!r && fsync(t->fd) < 0)
		r = -errno;
	if (r < 0)
		warnx("cannot clear the valid flag of %s: %s", t->path, strerror(-r));
	else
		fault_point("after-invalidate");
	return r;
}

/* A new store is written to a temporary file next to @t->path, linked
 * into place when complete (a crash leaves no half-written store under
 * the name).  Returns the descriptor or -1 after a message. */
static int open_new(struct target *t, char *tmp, size_t len)
{
	int fd;

	if (snprintf(tmp, len, "%s.snap_restore-XXXXXX", t->path) >= (int)len) {
		warnx("%s: name too long", t->path);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		warnx("cannot create a file next to %s: %s", t->path, strerror(errno));
	return fd;
}

/* Link the complete new store @tmp to @t->path.  Returns 0 or -1 (said). */
static int link_new(const struct target *t, const char *tmp)
{
	int r = link_new_store(tmp, t->path);

	if (r < 0)
		warnx("cannot create %s: %s", t->path, strerror(-r));
	return r;
}

/* Open (a new store: create under a temporary name) and check the target,
 * save the undo file and clear the old header's valid flag.  Returns 0 or
 * -1 after a message, nothing written. */
static int prepare(const struct dump_summary *sum, struct target *t, char *tmp, size_t len,
		   int quiet)
{
	struct stat sb;
	int r;

	if (!t->exists)
		t->fd = open_new(t, tmp, len);
	if (t->fd < 0)
		return -1;
	if (t->exists && (fstat(t->fd, &sb) < 0 || sb.st_dev != t->dev || sb.st_ino != t->ino)) {
		warnx("%s changed while it was being checked", t->path);
		return -1;
	}
	fault_point("before-undo");
	if (!t->need_undo)
		return 0;
	r = save_undo(t->undo, t->fd, &sum->geo, sum->areas);
	if (r < 0) {
		warnx("cannot write undo file %s: %s; %s was not changed", t->undo, strerror(-r),
		      t->path);
		return -1;
	}
	if (!quiet)
		printf("saved the %" PRIu64 " chunks about to be overwritten to %s\n",
		       sum->areas + 1, t->undo);
	fault_point("after-undo");
	return invalidate(t) < 0 ? -2 : 0;
}

/* Write the store from @reader onto target @t: the areas, synced, then the
 * header, synced (fault points after-area, after-areas, after-write).
 * Returns 0; -1 after a message, nothing written; or -2 when writing
 * failed. */
static int write_store(struct dump_reader *reader, const struct restore_options *o,
		       const struct dump_summary *sum, struct target *t, struct snapcow_stats *st)
{
	static const struct dump_visitor writer = { .exception = write_exception };
	const struct snapcow_geometry *g = &sum->geo;
	struct snapcow_writer *w;
	char tmp[PATH_MAX] = "";
	int r = prepare(sum, t, tmp, sizeof(tmp), o->quiet);

	if (!r)
		r = snapcow_writer_new(tool_ctx(), t->fd, t->path, g->chunk_sectors,
				       g->store_bytes, &w) < 0 ? -2 : 0;
	if (r < 0)
		goto out;
	snapcow_writer_set_sink(w, put_chunk, &t->fd);
	r = dump_reader_run(reader, &writer, w);
	if (!r)
		r = snapcow_writer_finish(w, sum->valid);
	if (!r && fsync(t->fd) < 0) {
		r = -errno;
		warnx("cannot sync %s: %s", t->path, strerror(errno));
	}
	snapcow_writer_stats(w, st);
	snapcow_writer_free(w);
	if (!r) {
		r = close(t->fd);
		t->fd = -1;
		if (r < 0)
			warnx("cannot close %s: %s", t->path, strerror(errno));
	}
	if (!r)
		fault_point("after-write");
	if (!r && !t->exists)
		r = link_new(t, tmp);
	r = r ? -2 : 0;
out:
	if (*tmp && (r < 0 || t->fd >= 0))
		unlink(tmp);
	return r;
}

int restore_run(const struct restore_options *o)
{
	struct dump_reader *reader;
	struct dump_summary sum;
	struct snapcow_stats st;
	struct target t = { .fd = -1 };
	int r = -1;

	if (dump_reader_open(o->input, &reader) < 0)
		return EXIT_FAIL;
	if (dump_check(reader, o->size, &sum) || accept_target(o, &sum, &t) < 0)
		goto out;
	if (o->dry_run) {
		print_plan(&sum, &t);
		r = 0;
		goto out;
	}
	r = write_store(reader, o, &sum, &t, &st);
	if (r == 0 && !o->quiet)
		printf("wrote %s: %" PRIu64 " exceptions in %" PRIu64 " areas, chunk %" PRIu32
		       " sectors, store size %" PRIu64 " bytes, valid %" PRIu32 "\n", t.path,
		       st.exceptions, st.areas, sum.geo.chunk_sectors, sum.geo.store_bytes,
		       sum.valid);
	if (r == 0 && t.need_undo)
		printf("to undo: %s --undo-apply %s %s\n", program_name, t.undo, t.path);
	if (r == -2) {
		warnx("writing %s failed%s", t.path, !t.exists ? "; nothing was created" : "");
		if (t.exists && t.need_undo)
			warnx("to put back what was overwritten: %s --undo-apply %s %s",
			      program_name, t.undo, t.path);
	}
out:
	if (t.fd >= 0)
		close(t.fd);
	dump_reader_free(reader);
	free(t.undo_buf);
	return r ? EXIT_FAIL : EXIT_OK;
}
