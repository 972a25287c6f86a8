/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_repair's work: open, decide (libsnapcow), write, report (repair.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repair.h"
#include "target.h"
#include "tool.h"
#include "undo.h"

/* The store as opened. */
struct input {
	int fd;                        /* a path's descriptor, -1 for VG/LV */
	struct stat st;
	struct snapcow_dev *own;       /* made over @fd */
	const struct snapcow_dev *dev; /* what the repair reads */
	struct volume vol;             /* VG/LV (kind VOLUME_OTHER: a path) */
};

static void open_path(const struct repair_options *o, struct input *in)
{
	int r;

	if (o->in_place) {
		/* a device the kernel holds is refused, and no option overrides it */
		in->fd = store_open_rw(o->store, o->dry_run, -1, FSCK_EXIT_OPERROR, &in->st);
		if (S_ISBLK(in->st.st_mode))
			store_check_users(o->store, &in->st, -1, FSCK_EXIT_OPERROR);
	} else {
		in->fd = open(o->store, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0 || fstat(in->fd, &in->st) < 0)
			errx(FSCK_EXIT_OPERROR, "cannot open %s: %s", o->store, strerror(errno));
		if (S_ISDIR(in->st.st_mode))
			errx(FSCK_EXIT_OPERROR, "cannot open %s: Is a directory", o->store);
	}
	r = snapcow_dev_new_fd(in->fd, o->store, &in->own);
	if (r < 0)
		errx(FSCK_EXIT_OPERROR, "cannot open %s: %s", o->store,
		     r == -EINVAL ? "not a regular file or block device" : snapcow_strerror(r));
	in->dev = in->own;
}

static void open_input(const struct repair_options *o, struct input *in)
{
	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->vol.cow_fd = in->vol.origin_fd = -1;
	in->vol.kind = VOLUME_OTHER;
	if (!volume_is_name(&o->vol, o->store)) {
		if (o->vol.npv || o->vol.metadata) {
			warnx("%s: --pv and --metadata find a volume by name (VG/LV), not a store file",
			      o->store);
			try_help(FSCK_EXIT_USAGE);
		}
		open_path(o, in);
		return;
	}
	if (o->in_place)
		errx(FSCK_EXIT_OPERROR, "%s: --in-place needs the store as one file or device, "
		     "written through one descriptor; a volume is read through its PVs: use -o "
		     "NEW_STORE, or give the COW device of the inactive snapshot", o->store);
	volume_open(&o->vol, o->store, &in->vol, FSCK_EXIT_OPERROR);
	in->dev = in->vol.cow;
}

static void close_input(struct input *in)
{
	snapcow_dev_free(in->own);
	if (in->fd >= 0)
		close(in->fd);
	if (in->vol.kind != VOLUME_OTHER)
		volume_close(&in->vol);
}

/* ---- -o NEW_STORE -------------------------------------------------------- */

/* Refuse an output that exists (it is never overwritten) or that the store
 * is read from. */
static void check_output(const struct repair_options *o, const struct input *in)
{
	struct stat st;

	if (stat(o->output, &st) == 0) {
		if (dev_reads_file(in->dev, &st))
			errx(FSCK_EXIT_OPERROR, "%s is the store being repaired: use --in-place to "
			     "rewrite it", o->output);
		errx(FSCK_EXIT_OPERROR, "%s already exists: snap_repair writes a new store and "
		     "never replaces a file", o->output);
	}
	if (errno != ENOENT)
		errx(FSCK_EXIT_OPERROR, "cannot use %s: %s", o->output, strerror(errno));
}

struct out_file {
	int fd;
	const char *path;
	const struct snapcow_dev *in;
	unsigned char *buf;
	uint32_t chunk_bytes;
};

static int sink_out(void *data, const void *buf, size_t len, uint64_t offset)
{
	const struct out_file *f = data;
	int r = pwrite_full(f->fd, buf, len, offset);

	if (r < 0)
		warnx("cannot write %s at byte offset %" PRIu64 ": %s", f->path, offset,
		      strerror(-r));
	return r;
}

/* A kept record's data chunk, copied to the same place (zeros stay holes). */
static int copy_data(void *data, const struct snapcow_exception *e)
{
	const struct out_file *f = data;
	uint64_t off = e->new_chunk * f->chunk_bytes;
	int r = snapcow_dev_pread(f->in, f->buf, f->chunk_bytes, off);

	if (r < 0) {
		warnx("cannot read data chunk %" PRIu64 " of %s at byte offset %" PRIu64 ": %s",
		      e->new_chunk, snapcow_dev_name(f->in), off, snapcow_strerror(r));
		return r;
	}
	return is_zero(f->buf, f->chunk_bytes) ? 0 : sink_out(data, f->buf, f->chunk_bytes, off);
}

/* Write the new store to a temporary file next to @o->output, then link
 * it there (never over an existing file).  Returns: 0 or a negative errno
 * (said; nothing is left behind). */
static int write_output(const struct repair_options *o, const struct input *in,
			struct snapcow_repair *rp)
{
	const struct snapcow_geometry *g = &snapcow_repair_summary(rp)->geo;
	struct out_file f = { .path = o->output, .in = in->dev, .chunk_bytes = g->chunk_bytes };
	char tmp[PATH_MAX];
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.snap_repair-XXXXXX", o->output) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f.fd = mkstemp(tmp);
	if (f.fd < 0) {
		r = -errno;
		warnx("cannot create a file next to %s: %s", o->output, strerror(-r));
		return r;
	}
	f.buf = malloc(g->chunk_bytes);
	r = f.buf ? 0 : -ENOMEM;
	if (!r && ftruncate(f.fd, (off_t)g->store_bytes) < 0)
		r = -errno;
	if (!r)
		r = snapcow_repair_write(rp, sink_out, &f);
	if (!r)
		r = snapcow_repair_records(rp, copy_data, &f);
	if (!r && fsync(f.fd) < 0)
		r = -errno;
	if (close(f.fd) < 0 && !r)
		r = -errno;
	free(f.buf);
	if (!r)
		r = link_new_store(tmp, o->output);
	else
		unlink(tmp);
	if (r < 0)
		warnx("cannot write %s: %s", o->output, strerror(-r));
	return r;
}

/* ---- --in-place ---------------------------------------------------------- */

enum sink_mode {
	SINK_HEADER, /* keep the header chunk, nothing else */
	SINK_WRITE,  /* write the changed areas (noting their CRC), keep the header */
};

struct inplace {
	int fd;
	const char *store;
	uint64_t *changed;      /* the chunks to write, sorted */
	uint32_t *crc;          /* of what was written there */
	uint64_t nchanged;
	uint32_t chunk_bytes;
	enum sink_mode mode;
	unsigned char *header;  /* the new header chunk (the writer gives it last) */
	unsigned char *back;    /* read back */
	uint64_t areas_written;
};

static int cmp_chunk(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : (*x > *y);
}

/* Returns: the index of @chunk among the changed ones, or -1. */
static int64_t changed_index(const struct inplace *w, uint64_t chunk)
{
	const uint64_t *p = bsearch(&chunk, w->changed, w->nchanged, sizeof(chunk), cmp_chunk);

	return p ? p - w->changed : -1;
}

static int sync_store(const struct inplace *w)
{
	int r = fsync(w->fd) < 0 ? -errno : 0;

	if (r < 0)
		warnx("%s: fsync failed: %s", w->store, strerror(-r));
	return r;
}

/* Step 5: every chunk written, read back after the cached pages were
 * dropped (the store's areas now hold the new table, so the repair cannot
 * lay it out again: each is compared with the CRC of what was written, the
 * header chunk byte for byte). */
static int verify(struct inplace *w)
{
	int r = sync_and_drop(w->fd);

	if (r < 0)
		warnx("%s: cannot drop the cached pages: %s", w->store, strerror(-r));
	for (uint64_t i = 0; !r && i < w->nchanged; i++) {
		uint64_t off = w->changed[i] * w->chunk_bytes;

		r = pread_full(w->fd, w->back, w->chunk_bytes, off);
		if (r < 0) {
			warnx("%s: cannot read back byte offset %" PRIu64 ": %s", w->store, off,
			      strerror(-r));
		} else if (off ? crc32_update(0, w->back, w->chunk_bytes) != w->crc[i] :
				 memcmp(w->back, w->header, w->chunk_bytes) != 0) {
			warnx("%s: chunk %" PRIu64 " (byte offset %" PRIu64 ") read back differs from "
			      "what was written", w->store, w->changed[i], off);
			r = -EIO;
		}
	}
	return r;
}

/* The writer's chunks, as @w->mode says. */
static int sink_inplace(void *data, const void *buf, size_t len, uint64_t offset)
{
	struct inplace *w = data;
	int64_t i;
	int r;

	if (!offset) {
		memcpy(w->header, buf, len);
		return 0;
	}
	i = changed_index(w, offset / len);
	if (w->mode == SINK_HEADER || i < 0)
		return 0;
	w->crc[i] = crc32_update(0, buf, len);
	r = pwrite_full(w->fd, buf, len, offset);
	if (r < 0) {
		warnx("%s: cannot write %zu bytes at byte offset %" PRIu64 ": %s", w->store, len,
		      offset, strerror(-r));
		return r;
	}
	if (!w->areas_written++)
		r = sync_store(w);
	if (!r)
		fault_point("after-area");
	return r;
}

/* Save the chunks about to change and, when only its valid flag changes
 * for the time of the rewrite, the header chunk. */
static int save_undo(const char *undo, const struct inplace *w, int flag_only)
{
	struct snapcow_undo_range *ranges = calloc(w->nchanged + 1, sizeof(*ranges));
	struct snapcow_identity id;
	uint64_t n = 0;
	int r;

	if (!ranges)
		return -ENOMEM;
	if (flag_only)
		ranges[n++] = (struct snapcow_undo_range){ 0, w->chunk_bytes, 4, 4 };
	for (uint64_t i = 0; i < w->nchanged; i++) {
		uint64_t off = w->changed[i] * w->chunk_bytes;

		ranges[n++] = (struct snapcow_undo_range){ off, w->chunk_bytes, off, w->chunk_bytes };
	}
	r = store_identity(w->fd, &id);
	if (r < 0)
		warnx("%s: cannot identify the store: %s", w->store, strerror(-r));
	else
		r = snapcow_undo_save(tool_ctx(), w->fd, &id, undo, ranges, n, program_name);
	free(ranges);
	return r;
}

static int write_flag(const struct inplace *w, uint32_t valid)
{
	uint32_t le = htole32(valid);
	int r = pwrite_full(w->fd, &le, 4, 4);

	if (r < 0)
		warnx("%s: cannot write the valid flag at offset 4: %s", w->store, strerror(-r));
	return r < 0 ? r : sync_store(w);
}

static int write_header(const struct inplace *w, const unsigned char *chunk)
{
	int r = pwrite_full(w->fd, chunk, w->chunk_bytes, 0);

	if (r < 0)
		warnx("%s: cannot write the header chunk at offset 0: %s", w->store, strerror(-r));
	return r < 0 ? r : sync_store(w);
}

/* Step 2 of repair.h's order: the header marked invalid (a rebuilt one
 * written whole, with valid 0). */
static int invalidate(struct snapcow_repair *rp, struct inplace *w, int header_changed)
{
	unsigned char *copy;
	uint32_t zero = 0;
	int r;

	if (!header_changed)
		return write_flag(w, 0);
	w->mode = SINK_HEADER;
	r = snapcow_repair_write(rp, sink_inplace, w);
	copy = malloc(w->chunk_bytes);
	if (!r && !copy)
		r = -ENOMEM;
	if (!r) {
		memcpy(copy, w->header, w->chunk_bytes);
		memcpy(copy + 4, &zero, 4);
		r = write_header(w, copy);
	}
	free(copy);
	return r;
}

/* Steps 2 to 5. */
static int rewrite(struct snapcow_repair *rp, struct inplace *w)
{
	const struct snapcow_repair_summary *sum = snapcow_repair_summary(rp);
	int areas = sum->changed_chunks > (uint64_t)sum->header_changed;
	int inval = areas && (sum->header_changed || sum->header.valid != 0);
	int r = 0;

	if (inval) {
		r = invalidate(rp, w, sum->header_changed);
		if (!r)
			fault_point("after-invalidate");
	}
	w->mode = SINK_WRITE;
	if (!r)
		r = snapcow_repair_write(rp, sink_inplace, w);
	if (!r)
		r = sync_store(w);
	if (!r && areas)
		fault_point("after-areas");
	if (!r && sum->header_changed && inval)
		r = write_flag(w, sum->new_header.valid);
	else if (!r && sum->header_changed)
		r = write_header(w, w->header);
	else if (!r && inval)
		r = write_flag(w, sum->header.valid);
	if (!r)
		fault_point("after-write");
	return r ? r : verify(w);
}

/* Save, then rewrite the changed chunks of @in's store.  Returns: 0, or a
 * negative errno (said, with how to undo once the undo file exists). */
static int write_in_place(const struct repair_options *o, const struct input *in,
			  struct snapcow_repair *rp)
{
	const struct snapcow_repair_summary *sum = snapcow_repair_summary(rp);
	struct inplace w = { .fd = in->fd, .store = o->store, .chunk_bytes = sum->geo.chunk_bytes };
	int areas = sum->changed_chunks > (uint64_t)sum->header_changed;
	int r = 0;

	w.changed = calloc(sum->changed_chunks + 1, sizeof(*w.changed));
	w.crc = calloc(sum->changed_chunks + 1, sizeof(*w.crc));
	w.header = malloc(w.chunk_bytes);
	w.back = malloc(w.chunk_bytes);
	if (!w.changed || !w.crc || !w.header || !w.back)
		r = -ENOMEM;
	for (w.nchanged = 0; !r && w.nchanged < sum->changed_chunks; w.nchanged++)
		snapcow_repair_changed(rp, w.nchanged, &w.changed[w.nchanged]);
	if (!r)
		fault_point("before-undo");
	if (!r)
		r = save_undo(o->undo, &w, areas && !sum->header_changed && sum->header.valid);
	if (!r) {
		fault_point("after-undo");
		r = rewrite(rp, &w);
		if (r < 0) {
			warnx("%s: the repair was not completed; the chunks it overwrites are saved "
			      "in %s", o->store, o->undo);
			undo_print_command("to put them back: ", o->undo, o->store);
		}
	} else {
		warnx("%s: cannot save the chunks about to change to %s: %s; nothing was written",
		      o->store, o->undo, snapcow_strerror(r));
	}
	free(w.changed);
	free(w.crc);
	free(w.header);
	free(w.back);
	return r;
}

/* ---- The run --------------------------------------------------------------- */

static int repair_exit(enum repair_outcome outcome)
{
	switch (outcome) {
	case REPAIR_NOTHING:
		return FSCK_EXIT_OK;
	case REPAIR_WRITTEN:
		return FSCK_EXIT_REPAIRED;
	case REPAIR_REPORTED:
		return FSCK_EXIT_ERRORS;
	case REPAIR_FAILED:
		break;
	}
	return FSCK_EXIT_OPERROR;
}

static void report(const struct repair_options *o, const struct repair_report *rp)
{
	if (o->json)
		repair_report_json(rp);
	else
		repair_report_human(rp);
}

int repair_run(const struct repair_options *o)
{
	struct snapcow_repair_options ropt = { .chunk_sectors = o->chunk_sectors,
					       .origin_bytes = o->origin_bytes };
	struct repair_report rp = { .store = o->store, .output = o->output,
				    .in_place = o->in_place, .undo = o->undo };
	unsigned long mark;
	struct input in;
	int r;

	open_input(o, &in);
	rp.vol = &in.vol;
	if (in.vol.kind != VOLUME_OTHER) {
		ropt.hint_chunk_sectors = in.vol.snap.chunk_sectors;
		if (!ropt.origin_bytes)
			ropt.origin_bytes = in.vol.size;
	}
	if (o->output)
		check_output(o, &in);
	if (o->in_place) {
		struct undo_target t = { "the store", in.st };

		undo_check_place(o->undo, &t, 1, FSCK_EXIT_OPERROR);
	}
	mark = tool_lib_errors();
	r = snapcow_repair_new(tool_ctx(), in.dev, &ropt, &rp.repair);
	if (r == SNAPCOW_ERR_TOO_SMALL)
		errx(FSCK_EXIT_ERRORS, "%s: damage left: nothing was written", o->store);
	if (r == SNAPCOW_ERR_CHUNK_SIZE)
		errx(FSCK_EXIT_ERRORS, "%s: damage left: nothing was written (--chunk-size SIZE "
		     "rebuilds the header with that chunk size)", o->store);
	if (r < 0)
		lib_failed(FSCK_EXIT_OPERROR, mark, r, "%s: cannot read the store", o->store);
	if (!snapcow_repair_summary(rp.repair)->changed_chunks)
		rp.outcome = REPAIR_NOTHING;
	else if (o->dry_run || (!o->output && !o->in_place))
		rp.outcome = REPAIR_REPORTED;
	else if (o->output)
		rp.outcome = write_output(o, &in, rp.repair) ? REPAIR_FAILED : REPAIR_WRITTEN;
	else
		rp.outcome = write_in_place(o, &in, rp.repair) ? REPAIR_FAILED : REPAIR_WRITTEN;
	report(o, &rp);
	snapcow_repair_free(rp.repair);
	close_input(&in);
	return repair_exit(rp.outcome);
}
