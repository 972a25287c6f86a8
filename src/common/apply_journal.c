/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_apply's undo file and journal (see apply_journal.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply_journal.h"
#include "tool.h"

#define DEFAULT_UNDO_DIR "/var/lib/snaprescue"

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 || errno != ENOENT;
}

/* @base, or @base.N with the first N that is free. */
static char *free_name(const char *base)
{
	char *p = NULL;

	for (int n = 0; n < 1000; n++) {
		if ((n ? asprintf(&p, "%s.%d", base, n) : asprintf(&p, "%s", base)) < 0)
			return NULL;
		if (!exists(p))
			return p;
		free(p);
		p = NULL;
	}
	errno = EEXIST;
	return NULL;
}

/* The default undo file of @target. */
static char *default_name(const char *target, const struct stat *tst)
{
	const char *dir = getenv("SNAPRESCUE_UNDO_DIR");
	char *base, *name, *q;

	if (S_ISREG(tst->st_mode)) {
		if (asprintf(&base, "%s.snap_apply-undo", target) < 0)
			return NULL;
	} else {
		if (!dir || !*dir)
			dir = DEFAULT_UNDO_DIR;
		if (asprintf(&base, "%s/snap_apply-%s.undo", dir, target + strspn(target, "/")) < 0)
			return NULL;
		for (q = base + strlen(dir) + 1; *q; q++)
			if (*q == '/')
				*q = '_';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			warnx("warning: cannot create the undo directory %s: %s", dir, strerror(errno));
	}
	name = free_name(base);
	free(base);
	return name;
}

int journal_plan(struct journal *j, const char *path, const char *target, const struct stat *tst)
{
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	if (path && exists(path)) {
		warnx("undo file %s already exists: move it away, choose another with --undo, or "
		      "continue the apply it records with --resume --undo %s", path, path);
		return -1;
	}
	j->path = path ? strdup(path) : default_name(target, tst);
	if (!j->path) {
		warnx("cannot choose an undo file for %s: %s", target, strerror(errno));
		return -1;
	}
	return 0;
}

int journal_create(struct journal *j, const struct dstream_header *fwd,
		   const struct snapcow_identity *tid, const char *target)
{
	struct dstream_header h = {
		.kind = DSTREAM_UNDO, .size = fwd->size, .chunk_bytes = fwd->chunk_bytes,
		.created = (uint64_t)time(NULL), .undoes = fwd->id, .target = *tid,
	};
	int r;

	if (j->fd >= 0)
		return 0;
	snprintf(h.program, sizeof(h.program), "%s %s", program_name, snapcow_version());
	snprintf(h.source, sizeof(h.source), "%s", target);
	memcpy(h.origin_uuid, fwd->origin_uuid, sizeof(h.origin_uuid));
	memcpy(h.snapshot_uuid, fwd->snapshot_uuid, sizeof(h.snapshot_uuid));
	j->fd = open(j->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		warnx("cannot create undo file %s: %s; nothing was written to %s", j->path,
		      strerror(errno), target);
		return -1;
	}
	j->created = 1;
	r = dstream_writer_new(j->fd, &h, 0, &j->w);
	if (!r && fsync(j->fd) < 0)
		r = -errno;
	if (!r)
		r = fsync_parent(j->path);
	if (r < 0) {
		warnx("cannot write undo file %s: %s; nothing was written to %s", j->path,
		      strerror(-r), target);
		return -1;
	}
	return 0;
}

int journal_save(struct journal *j, uint64_t off, const void *old, size_t len)
{
	/* zeros (a new copy's blocks) as a zero run: nothing to store */
	int r = is_zero(old, len) ? dstream_writer_zero(j->w, off, len) :
				    dstream_writer_run(j->w, off, old, len, NULL);

	if (r < 0) {
		warnx("cannot write undo file %s at byte offset %" PRIu64 ": %s", j->path,
		      dstream_writer_pos(j->w), strerror(-r));
		return -1;
	}
	j->saved_bytes += len;
	return 0;
}

/* After writing a record (@r its result): fsync, or say what failed. */
static int synced(struct journal *j, int r)
{
	if (!r && fsync(j->fd) < 0)
		r = -errno;
	if (r < 0) {
		warnx("cannot write undo file %s at byte offset %" PRIu64 ": %s", j->path,
		      dstream_writer_pos(j->w), strerror(-r));
		return -1;
	}
	return 0;
}

int journal_mark(struct journal *j, uint32_t tag, const struct dstream_progress *p)
{
	return synced(j, dstream_writer_progress(j->w, tag, p));
}

int journal_finish(struct journal *j)
{
	return synced(j, dstream_writer_end(j->w));
}

void journal_close(struct journal *j)
{
	dstream_writer_free(j->w);
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	memset(j, 0, sizeof(*j));
	j->fd = -1;
}

/* ---- --resume ------------------------------------------------------------------ */

/* Where the undo file of an interrupted apply can be continued. */
struct cut {
	struct dstream_state st; /* after the last SAVE or DONE (or the header) */
	uint64_t saved;          /* bytes its RUN records saved up to there */
};

static int keep_cut(struct cut *c, const struct dstream_reader *rd, uint64_t saved)
{
	struct dstream_state now;

	dstream_reader_state(rd, &now);
	c->saved = saved;
	return dstream_state_copy(&c->st, &now);
}

/* The undo file's header: an undo of @fwd on @tid.  Returns 0 or -1 (said). */
static int resume_header(const struct dstream_header *h, const char *path,
			 const struct dstream_header *fwd, const struct snapcow_identity *tid,
			 int force)
{
	if (h->kind != DSTREAM_UNDO) {
		warnx("%s is a %s stream, not the undo file of an apply: nothing to resume", path,
		      dstream_kind_name(h->kind));
		return -1;
	}
	if (h->undoes != fwd->id) {
		warnx("%s records the apply of another stream (id %016" PRIx64 ", this one is %016"
		      PRIx64 "): not resuming", path, h->undoes, fwd->id);
		return -1;
	}
	if (!snapcow_identity_match(&h->target, tid) && !force) {
		warnx("%s was written for another target (%s): not resuming (--force if you are "
		      "sure it is the same device)", path, h->source);
		return -1;
	}
	return 0;
}

/* Read the undo file through, keeping where it can be continued.
 * Returns: 0, 1 (finished), or -1 (said). */
static int resume_scan(struct journal *j, struct dstream_reader *rd, struct cut *c)
{
	struct dstream_record rec;
	const void *data;
	uint64_t saved = 0;
	int r;

	if (keep_cut(c, rd, 0) < 0)
		return -1;
	while ((r = dstream_reader_next(rd, &rec, &data)) == 0) {
		if (rec.tag == DSTREAM_TAG_RUN)
			saved += rec.length;
		if (rec.tag != DSTREAM_TAG_SAVE && rec.tag != DSTREAM_TAG_DONE)
			continue;
		if (rec.tag == DSTREAM_TAG_SAVE) {
			j->pending = 1;
			j->save = rec.progress;
		} else {
			j->pending = 0;
			j->done = rec.progress;
		}
		if (keep_cut(c, rd, saved) < 0)
			return -1;
	}
	if (r == 1)
		return 1;
	if (r == -DSTREAM_E_NO_END || r == -DSTREAM_E_TRUNCATED)
		return 0;
	warnx("cannot resume: %s", dstream_reader_error(rd));
	return -1;
}

int journal_resume(struct journal *j, const char *path, const struct dstream_header *fwd,
		   const struct snapcow_identity *tid, int force, int dry_run)
{
	struct dstream_reader *rd = NULL;
	struct cut c = { 0 };
	int fd, r;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	fd = open(path, (dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		warnx("cannot open undo file %s: %s", path, strerror(errno));
		return -1;
	}
	r = dstream_reader_new(fd, path, &rd);
	if (r < 0)
		warnx("cannot resume: %s", rd ? dstream_reader_error(rd) : "out of memory");
	if (!r)
		r = resume_header(dstream_reader_header(rd), path, fwd, tid, force);
	if (!r)
		r = resume_scan(j, rd, &c);
	dstream_reader_free(rd);
	if (!r && !dry_run && (ftruncate(fd, (off_t)c.st.pos) < 0 ||
			       lseek(fd, (off_t)c.st.pos, SEEK_SET) < 0 || fsync(fd) < 0)) {
		warnx("cannot truncate undo file %s to %" PRIu64 " bytes: %s", path, c.st.pos,
		      strerror(errno));
		r = -1;
	}
	if (!r && !dry_run && dstream_writer_continue(fd, &c.st, 0, &j->w) < 0) {
		warnx("out of memory");
		r = -1;
	}
	dstream_state_free(&c.st);
	if (r) {
		close(fd);
		return r;
	}
	j->fd = fd;
	j->path = strdup(path);
	j->resumed = 1;
	j->saved_before = c.saved;
	return j->path ? 0 : -1;
}
