/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_apply's job: the stream, the target, the apply and its report (see
 * apply.h; the batches are apply_batch.c's, the undo file
 * apply_journal.c's). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply_int.h"
#include "target.h"

/* What apply_stream() ends with besides 0 (the end record) and -1 (a
 * failure, said). */
enum {
	STREAM_BAD = -2,        /* the reader stopped: dstream_reader_error() */
	STREAM_UNFINISHED = 1,  /* an undo stream of an apply that did not finish */
	NOTHING_TO_RESUME = 2,  /* setup(): --resume of an apply that finished */
};

/* ---- The stream ----------------------------------------------------------------- */

static int open_input(struct apply *a)
{
	const char *in = a->o->input;
	struct stat st;

	a->in_name = strcmp(in, "-") ? in : "stdin";
	a->in_fd = strcmp(in, "-") ? open(in, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (a->in_fd < 0 || (fstat(a->in_fd, &st) == 0 && S_ISDIR(st.st_mode))) {
		warnx("cannot open %s: %s", in, a->in_fd < 0 ? strerror(errno) : "Is a directory");
		return -1;
	}
	if (isatty(a->in_fd)) {
		warnx("refusing to read a stream from a terminal (use -i STREAM or a pipe)");
		return -1;
	}
	pipe_grow(a->in_fd, DSTREAM_PIPE_BYTES);
	return 0;
}

static int read_header(struct apply *a)
{
	int r;

	dstream_reader_free(a->rd);
	r = dstream_reader_new(a->in_fd, a->in_name, &a->rd);
	if (r < 0) {
		warnx("%s; nothing was written", a->rd ? dstream_reader_error(a->rd) : "out of memory");
		return -1;
	}
	a->h = dstream_reader_header(a->rd);
	return 0;
}

/* An undo stream that ends without its end record is the undo file of an
 * apply that was interrupted: every batch it may have written was saved
 * (and synced) before it was, so all of it is there. */
static int unfinished_undo(const struct apply *a, int r)
{
	return a->h->kind == DSTREAM_UNDO && (r == -DSTREAM_E_NO_END || r == -DSTREAM_E_TRUNCATED);
}

/* A stream in a regular file is checked whole before anything is written.
 * Returns 0, or -1 after a message. */
static int verify_whole(struct apply *a)
{
	struct dstream_record rec;
	const void *data;
	struct stat st;
	int r;

	if (a->o->no_verify || a->o->dry_run || fstat(a->in_fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	while ((r = dstream_reader_next(a->rd, &rec, &data)) == 0)
		;
	if (r < 0 && !unfinished_undo(a, r)) {
		warnx("%s; nothing was written", dstream_reader_error(a->rd));
		return -1;
	}
	if (lseek(a->in_fd, 0, SEEK_SET) < 0) {
		warnx("cannot seek %s: %s", a->in_name, strerror(errno));
		return -1;
	}
	return read_header(a);
}

static void describe(const struct apply *a)
{
	const struct dstream_header *h = a->h;
	char size[32];

	if (h->flags & DSTREAM_F_INCOMPLETE)
		warnx("warning: %s was made from an invalid snapshot (--ignore-invalid): it holds "
		      "what the table committed, not the chunks written after the invalidation",
		      a->in_name);
	if (a->o->quiet)
		return;
	format_size(h->size, size, sizeof(size));
	if (h->kind == DSTREAM_UNDO)
		printf("%s: undo stream of %s (a %s volume): what %s overwrote on it\n", a->in_name,
		       h->source, size, h->program);
	else if (h->kind == DSTREAM_FULL && !h->table_xxh)
		printf("%s: full stream of %s (a %s volume), made by %s\n", a->in_name, h->source,
		       size, h->program);
	else
		printf("%s: %s stream of %s (a %s volume, %" PRIu64 " chunks in its table), made by "
		       "%s\n", a->in_name, dstream_kind_name(h->kind), h->source, size,
		       h->table_exceptions, h->program);
}

/* ---- The target ------------------------------------------------------------------ */

/* Say that a device in use is written all the same (--force). */
static void warn_in_use(const char *path, int dry_run)
{
	int fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	else if (errno == EBUSY)
		warnx("warning: %s is in use (mounted, or held by the kernel or another program): "
		      "%s to it anyway (--force)", path, dry_run ? "an apply would write" : "writing");
}

static int same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Open the target and refuse what must not be written.  Returns 0, or -1
 * after a message. */
static int open_target(struct apply *a)
{
	const char *t = a->target;
	struct stat st, in;
	uint64_t size;
	int r;

	a->tfd = store_open_rw(t, a->o->dry_run, a->o->force ? 1 : 0, EXIT_FAIL, &st);
	a->target_is_file = S_ISREG(st.st_mode);
	if (S_ISBLK(st.st_mode)) {
		if (a->o->force)
			warn_in_use(t, a->o->dry_run);
		store_check_users(t, &st, a->o->force ? 1 : 0, EXIT_FAIL);
	}
	if (fstat(a->in_fd, &in) == 0 && same_file(&in, &st)) {
		warnx("%s is the stream itself: refusing to write it", t);
		return -1;
	}
	r = fd_size(a->tfd, &st, &size);
	if (r == 0)
		r = store_identity(a->tfd, &a->tid);
	if (r < 0) {
		warnx("%s: %s", t, strerror(-r));
		return -1;
	}
	if (size != a->h->size) {
		warnx("%s is %" PRIu64 " bytes, the stream's volume %" PRIu64 " (wrong-size): a target "
		      "must have the source's size (a file: truncate -s %" PRIu64 "; a logical "
		      "volume: lvcreate -L %" PRIu64 "b); nothing was written", t, size, a->h->size,
		      a->h->size, a->h->size);
		return -1;
	}
	if (a->h->kind == DSTREAM_UNDO && !snapcow_identity_match(&a->h->target, &a->tid)) {
		if (!a->o->force) {
			warnx("%s is not the target this undo stream was written for (%s) "
			      "(wrong-target): nothing was written (--force if you are sure it is "
			      "the same device)", t, a->h->source);
			return -1;
		}
		warnx("warning: %s is not the target this undo stream was written for (%s): "
		      "applying it anyway (--force)", t, a->h->source);
	}
	return 0;
}

/* ---- --resume ----------------------------------------------------------------------- */

/* The last run the journal says reached the disk must be there. */
static int check_last_done(struct apply *a)
{
	const struct dstream_progress *d = &a->j.done;
	int r;

	if (!d->last_len)
		return 0;
	r = pread_full(a->tfd, a->old, (size_t)d->last_len, d->last_off);
	if (r < 0) {
		warnx("cannot read %s at byte offset %" PRIu64 ": %s", a->target, d->last_off,
		      strerror(-r));
		return -1;
	}
	if (dstream_xxh(a->old, (size_t)d->last_len) == d->last_xxh)
		return 0;
	warnx("%s does not hold run %" PRIu64 " (bytes %" PRIu64 "..%" PRIu64 ") that %s says was "
	      "written: it was changed since (or put back); not resuming", a->target,
	      d->next_run - 1, d->last_off, d->last_off + d->last_len - 1, a->j.path);
	return -1;
}

/* Returns 0, NOTHING_TO_RESUME, or -1 after a message. */
static int start_resume(struct apply *a)
{
	int r;

	if (!a->o->undo) {
		warnx("--resume needs the undo file of the interrupted apply (--undo FILE)");
		return -1;
	}
	r = journal_resume(&a->j, a->o->undo, a->h, &a->tid, a->o->force, a->o->dry_run);
	if (r == 1 && !a->o->quiet)
		printf("%s records an apply of %s to %s that finished: nothing to resume\n",
		       a->o->undo, a->in_name, a->target);
	if (r == 1)
		return NOTHING_TO_RESUME;
	if (r || check_last_done(a) < 0)
		return -1;
	a->skip_to = a->j.done.next_run;
	a->nosave_to = a->j.pending ? a->j.save.next_run : a->skip_to;
	a->written = a->j.done.written;
	a->skipped = a->j.done.skipped;
	a->last = a->j.done;
	if (a->o->quiet)
		return 0;
	if (a->skip_to)
		printf("resuming the apply recorded in %s: runs 0..%" PRIu64 " (%" PRIu64 " bytes "
		       "written) are on %s", a->o->undo, a->skip_to - 1, a->written, a->target);
	else
		printf("resuming the apply recorded in %s: no batch of it reached %s", a->o->undo,
		       a->target);
	printf("%s\n", a->j.pending ? "; the batch after that was saved and is written again" : "");
	return 0;
}

/* A run the interrupted apply wrote: the stream must be the one it read. */
static int resume_skip(struct apply *a, const struct dstream_record *rec)
{
	a->chain = dstream_chain(a->chain, rec->offset, rec->length, rec->xxh);
	a->runs++;
	a->zero_runs += rec->tag == DSTREAM_TAG_ZERO;
	a->run_bytes += rec->length;
	if (rec->run + 1 < a->skip_to)
		return 0;
	if (a->chain == a->j.done.chain && rec->end_pos == a->j.done.fwd_pos)
		return 0;
	warnx("%s differs from the stream the interrupted apply read (runs 0..%" PRIu64 " are not "
	      "the same): not resuming; nothing was written", a->in_name, rec->run);
	return -1;
}

/* ---- Applying ---------------------------------------------------------------------- */

static int apply_stream(struct apply *a)
{
	struct dstream_record rec;
	const void *data;
	int r;

	progress_init(&a->bar, a->o->dry_run ? "checking" : "applying", a->h->size);
	while ((r = dstream_reader_next(a->rd, &rec, &data)) == 0) {
		if (rec.tag != DSTREAM_TAG_RUN && rec.tag != DSTREAM_TAG_ZERO)
			continue; /* SAVE and DONE of an undo stream */
		if (rec.run < a->skip_to) {
			if (resume_skip(a, &rec) < 0)
				return -1;
			continue;
		}
		if (batch_add(a, &rec, data) < 0)
			return -1;
		if (rec.run + 1 == a->nosave_to && a->chain != a->j.save.chain) {
			warnx("%s differs from the stream the interrupted apply read (runs ..%" PRIu64
			      "): not resuming", a->in_name, rec.run);
			return -1;
		}
		if (rec.run + 1 == a->nosave_to && batch_flush(a) < 0)
			return -1;
	}
	/* The runs before a bad one are good: they are written too. */
	if (batch_flush(a) < 0)
		return -1;
	progress_end(&a->bar);
	if (r == 1 && a->runs < a->nosave_to) {
		warnx("%s ends after %" PRIu64 " runs, before run %" PRIu64 " that the interrupted "
		      "apply had reached: not the stream it read", a->in_name, a->runs,
		      a->nosave_to - 1);
		return -1;
	}
	if (r == 1)
		return 0;
	a->stream_err = r;
	return unfinished_undo(a, r) ? STREAM_UNFINISHED : STREAM_BAD;
}

/* Make it durable: the target, then the journal's end record. */
static int finish(struct apply *a)
{
	if (a->o->dry_run)
		return 0;
	if (a->written_now && fsync(a->tfd) < 0) {
		warnx("cannot sync %s: %s", a->target, strerror(errno));
		return -1;
	}
	if (a->j.fd >= 0 && journal_finish(&a->j) < 0)
		return -1;
	return 0;
}

static void report_done(const struct apply *a, int unfinished)
{
	const struct apply_options *o = a->o;
	char zeros[48] = "";

	if (a->zero_runs)
		snprintf(zeros, sizeof(zeros), " (%" PRIu64 " of them zero runs)", a->zero_runs);
	if (unfinished)
		warnx("warning: %s has no end record: it is the undo file of an apply that was "
		      "interrupted; every batch that apply wrote was saved in it first, and all of "
		      "it was put back", a->in_name);
	if (o->dry_run) {
		printf("would write %" PRIu64 " bytes and skip %" PRIu64 " (already equal) of the %"
		       PRIu64 " bytes of %" PRIu64 " run%s%s; nothing written (dry run)\n", a->written,
		       a->skipped, a->run_bytes, a->runs, a->runs == 1 ? "" : "s", zeros);
		return;
	}
	if (!o->quiet)
		printf("applied %s to %s: %" PRIu64 " run%s%s, %" PRIu64 " bytes: %" PRIu64
		       " written, %" PRIu64 " skipped (already equal)%s\n", a->in_name, a->target,
		       a->runs, a->runs == 1 ? "" : "s", zeros, a->run_bytes, a->written,
		       a->skipped, a->written ? "; synced" : "");
	if (a->j.fd >= 0) {
		printf("undo file: %s (%" PRIu64 " bytes saved); to undo: %s -i ", a->j.path,
		       a->j.saved_before + a->j.saved_bytes, program_name);
		print_shell_quoted(stdout, a->j.path);
		putchar(' ');
		print_shell_quoted(stdout, a->target);
		putchar('\n');
	} else if (!o->quiet && !a->written) {
		printf("%s already holds all of it: nothing written\n", a->target);
	}
}

/* After a failure: how far the target got, and the way on or back. */
static int report_partial(const struct apply *a, int r)
{
	if (r == STREAM_BAD)
		warnx("%s", dstream_reader_error(a->rd));
	if (a->o->dry_run || !a->written_now) {
		if (r == STREAM_BAD)
			warnx("nothing was written to %s", a->target);
		return EXIT_FAIL;
	}
	if (r == STREAM_BAD && a->stream_err == -DSTREAM_E_TRAILING)
		warnx("%s holds all the stream's %" PRIu64 " runs (%" PRIu64 " bytes written, %" PRIu64
		      " already equal; its end record checked), but bytes follow the end record: "
		      "check that it was the stream meant", a->target, a->runs, a->written,
		      a->skipped);
	else
		warnx("%s is INCOMPLETE: it holds the stream's runs 0..%" PRIu64 " (%" PRIu64
		      " bytes written, %" PRIu64 " already equal) and nothing after them", a->target,
		      a->runs ? a->runs - 1 : 0, a->written, a->skipped);
	if (a->j.fd >= 0)
		warnx("to finish it: %s --resume --undo %s -i STREAM %s; to go back: %s -i %s %s",
		      program_name, a->j.path, a->target, program_name, a->j.path, a->target);
	else
		warnx("no undo file was kept (--no-undo): apply the whole stream again to finish it "
		      "(runs already written are found equal and skipped)");
	return APPLY_EXIT_PARTIAL;
}

static int setup(struct apply *a)
{
	const struct apply_options *o = a->o;
	struct stat st;

	if (open_input(a) < 0 || read_header(a) < 0)
		return -1;
	describe(a);
	if (open_target(a) < 0 || verify_whole(a) < 0)
		return -1;
	if (batch_init(a) < 0) {
		warnx("out of memory");
		return -1;
	}
	if (o->resume)
		return start_resume(a);
	if (o->no_undo || o->dry_run)
		return 0;
	if (fstat(a->tfd, &st) < 0 || journal_plan(&a->j, o->undo, a->target, &st) < 0)
		return -1;
	return 0;
}

int apply_run(const struct apply_options *o)
{
	struct apply a = { .o = o, .target = o->target, .in_fd = -1, .tfd = -1 };
	int r, status;

	a.j.fd = -1;
	r = setup(&a);
	a.journaled = a.j.path && !o->dry_run;
	if (r == 0)
		r = apply_stream(&a);
	if ((r == 0 || r == STREAM_UNFINISHED) && finish(&a) < 0)
		r = -1;
	if (r == 0 || r == STREAM_UNFINISHED) {
		report_done(&a, r == STREAM_UNFINISHED);
		status = EXIT_OK;
	} else if (r == NOTHING_TO_RESUME) {
		status = EXIT_OK;
	} else {
		status = report_partial(&a, r);
	}
	journal_close(&a.j);
	batch_free(&a);
	dstream_reader_free(a.rd);
	if (a.tfd >= 0)
		close(a.tfd);
	if (a.in_fd > STDIN_FILENO)
		close(a.in_fd);
	return status;
}
