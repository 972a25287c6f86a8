/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_restore: write a dm-snapshot exception store (header and table) from
 * a snap_dump XML or JSON dump.
 *
 * The dump is read twice: the first pass checks everything (header, area
 * layout, every record, duplicates) and writes nothing; the second pass
 * writes through snapcow_writer_*.  An existing non-empty target is only
 * written with --force, and only after every byte range about to be
 * overwritten has been saved to an undo file and fsynced.
 * `snap_restore --undo-apply UNDO STORE` puts those bytes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump.h"
#include "target.h"
#include "tool.h"

/* ---- Undo file (libsnapcow's, version 2: one range per chunk) ------------ */

/* The target as found before writing. */
struct target {
	const char *path;
	int exists;
	int is_blk;
	uint64_t size;       /* regular file or device size */
	dev_t dev, rdev;
	ino_t ino;
	int has_magic;       /* starts with "SnAp" */
};

/* Save the chunks a restore overwrites (the header and the area slots
 * 0..@r->areas - 1, as far as the target reaches) to a new undo file. */
static int save_undo(const char *undo, int fd, uint32_t chunk_bytes, uint32_t per_area,
		     uint64_t nareas)
{
	struct snapcow_undo_range *g = calloc(nareas + 1, sizeof(*g));
	struct snapcow_identity id;
	int e;

	if (!g)
		return -ENOMEM;
	for (uint64_t a = 0; a <= nareas; a++) {
		uint64_t off = (a ? snapcow_area_chunk(per_area, a - 1) : 0) * chunk_bytes;

		g[a] = (struct snapcow_undo_range){ off, chunk_bytes, off, chunk_bytes };
	}
	e = store_identity(fd, &id);
	if (!e)
		e = snapcow_undo_save(tool_ctx(), fd, &id, undo, g, nareas + 1, program_name);
	free(g);
	return e;
}

static int undo_apply(const char *undo, const char *target, int force, int dry_run, int quiet)
{
	struct snapcow_identity id;
	struct snapcow_undo *u;
	unsigned int flags = 0;
	struct stat st;
	int fd, r;

	r = snapcow_undo_open(tool_ctx(), undo, &u);
	if (r < 0)
		errx(EXIT_FAIL, "cannot use undo file %s: %s", undo, snapcow_strerror(r));
	fd = store_open_rw(target, dry_run, force, EXIT_FAIL, &st);
	if (S_ISBLK(st.st_mode))
		store_check_users(target, &st, force, EXIT_FAIL);
	r = store_identity(fd, &id);
	if (r < 0)
		errx(EXIT_FAIL, "%s: cannot identify the store: %s", target, strerror(-r));
	if (force)
		flags |= SNAPCOW_UNDO_ANY_IDENTITY;
	if (dry_run)
		flags |= SNAPCOW_UNDO_DRY_RUN;
	r = snapcow_undo_apply(u, fd, &id, flags);
	close(fd);
	if (r < 0)
		warnx("%s: not restored: %s%s", target, snapcow_strerror(r),
		      r == SNAPCOW_ERR_UNDO_IDENTITY ?
			      " (use --force only if you are sure it is the same store)" : "");
	else if (r == 1)
		printf("%s already holds the bytes saved in %s: nothing to do\n", target, undo);
	else if (dry_run || !quiet)
		printf("%s %" PRIu32 " range%s (%" PRIu64 " bytes) of %s from %s%s\n",
		       dry_run ? "would restore" : "restored", snapcow_undo_ranges(u),
		       snapcow_undo_ranges(u) == 1 ? "" : "s",
		       snapcow_undo_bytes(u), target, undo, dry_run ? "" : ", synced and read back");
	snapcow_undo_free(u);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

/* ---- Checking and writing the dump -------------------------------------- */

struct seen {
	uint64_t value;
	uint64_t record;
};

struct restore {
	const char *dump;
	uint64_t size_override;  /* --size, 0 if not given */
	int writing;             /* second pass */
	struct snapcow_writer *w;

	/* from the header */
	uint32_t chunk_sectors, chunk_bytes, per_area, valid;
	uint64_t store_size, chunks;

	/* walk state */
	uint64_t next_area;      /* index the next area must have */
	uint64_t last_count;     /* exceptions in the previous area */
	uint64_t exceptions;
	uint64_t areas;

	/* duplicate detection (first pass) */
	struct seen *olds, *news;
	uint32_t *lines;
	size_t n, cap;
};

static const char *where(const struct dump_pos *pos, int exc, char *buf, size_t len)
{
	int n = 0;

	if (pos->line)
		n = snprintf(buf, len, "line %lu: ", pos->line);
	if (exc)
		snprintf(buf + n, len - (size_t)n, "area %" PRIu64 " exception %" PRIu64 ": ",
			 pos->area, pos->index);
	else
		buf[n] = '\0';
	return buf;
}

#define bad(R, POS, EXC, ...)                                                  \
	do {                                                                   \
		char w_[96], m_[320];                                          \
		snprintf(m_, sizeof(m_), __VA_ARGS__);                         \
		warnx("%s: %s%s", (R)->dump, where((POS), (EXC), w_, sizeof(w_)), m_); \
		return 1;                                                      \
	} while (0)

static int on_header(void *data, const struct dump_pos *pos, const struct dump_header *h)
{
	struct restore *r = data;
	const char *why;

	if (r->writing)
		return 0;
	if (h->magic != SNAPCOW_MAGIC)
		bad(r, pos, 0, "magic 0x%" PRIx64 " is not 0x%08x (\"SnAp\"): only SnAp "
		    "stores can be written", h->magic, SNAPCOW_MAGIC);
	if (h->version != SNAPCOW_DISK_VERSION)
		bad(r, pos, 0, "version %" PRIu64 ": the kernel only loads version 1",
		    h->version);
	if (h->valid > UINT32_MAX)
		bad(r, pos, 0, "valid %" PRIu64 " does not fit in 32 bits", h->valid);
	why = snapcow_chunk_kernel_problem(h->chunk_sectors);
	if (why)
		bad(r, pos, 0, "chunk_sectors %" PRIu64 ": %s", h->chunk_sectors, why);
	r->chunk_sectors = (uint32_t)h->chunk_sectors;
	r->chunk_bytes = r->chunk_sectors * SNAPCOW_SECTOR_SIZE;
	r->per_area = r->chunk_bytes / SNAPCOW_RECORD_SIZE;
	r->valid = (uint32_t)h->valid;
	if (h->per_area != r->per_area)
		bad(r, pos, 0, "exceptions_per_area %" PRIu64 " does not match chunk_sectors "
		    "%" PRIu32 " (%" PRIu32 " exceptions per area)", h->per_area,
		    r->chunk_sectors, r->per_area);
	r->store_size = r->size_override ? r->size_override : h->store_size;
	if (r->store_size % SNAPCOW_SECTOR_SIZE)
		bad(r, pos, 0, "store size %" PRIu64 " is not a whole number of 512-byte sectors",
		    r->store_size);
	if (r->store_size < 2ULL * r->chunk_bytes)
		bad(r, pos, 0, "store size %" PRIu64 " is smaller than the header chunk and "
		    "first area (%" PRIu64 " bytes)", r->store_size, (uint64_t)2 * r->chunk_bytes);
	r->chunks = r->store_size / r->chunk_bytes;
	why = snapcow_chunk_lvm_problem(h->chunk_sectors);
	if (why && tool_verbosity() > 0)
		warnx("warning: %s: chunk_sectors %" PRIu64 ": %s (the kernel accepts it)",
		      r->dump, h->chunk_sectors, why);
	return 0;
}

static int on_area(void *data, const struct dump_pos *pos, uint64_t index, uint64_t chunk)
{
	struct restore *r = data;
	uint64_t want = snapcow_area_chunk(r->per_area, r->next_area);

	if (r->writing)
		return 0;
	if (index != r->next_area)
		bad(r, pos, 0, "area index %" PRIu64 ", expected %" PRIu64, index, r->next_area);
	if (index > 0 && r->last_count < r->per_area)
		bad(r, pos, 0, "area %" PRIu64 " follows area %" PRIu64 ", which is not full "
		    "(%" PRIu64 " of %" PRIu32 " exceptions): the kernel stops at the first "
		    "area that is not full", index, index - 1, r->last_count, r->per_area);
	if (chunk != want)
		bad(r, pos, 0, "area %" PRIu64 " is at chunk %" PRIu64 ", not %" PRIu64, index,
		    want, chunk);
	if (chunk >= r->chunks)
		bad(r, pos, 0, "area %" PRIu64 " at chunk %" PRIu64 " is past the end of the "
		    "store (%" PRIu64 " chunks)", index, chunk, r->chunks);
	r->next_area++;
	r->areas++;
	return 0;
}

static int on_exception(void *data, const struct dump_pos *pos, uint64_t old_chunk,
			uint64_t new_chunk)
{
	struct restore *r = data;
	struct snapcow_exception e = { old_chunk, new_chunk };

	if (r->writing) {
		int ret = snapcow_writer_add(r->w, &e);

		return ret < 0 ? ret : 0;
	}
	if (pos->index >= r->per_area)
		bad(r, pos, 1, "area %" PRIu64 " has more than %" PRIu32 " exceptions",
		    pos->area, r->per_area);
	if (new_chunk == 0)
		bad(r, pos, 1, "new chunk is 0 (that would end the table here)");
	if (new_chunk >= SNAPCOW_NEW_CHUNK_LIMIT)
		bad(r, pos, 1, "new chunk %" PRIu64 " is 2^56 or more (the kernel keeps a count "
		    "in the top 8 bits)", new_chunk);
	if (new_chunk >= r->chunks)
		bad(r, pos, 1, "new chunk %" PRIu64 " is past the end of the store (%" PRIu64
		    " chunks of %" PRIu32 " bytes)", new_chunk, r->chunks, r->chunk_bytes);
	if (snapcow_chunk_is_metadata(r->per_area, new_chunk))
		bad(r, pos, 1, "new chunk %" PRIu64 " is the %s", new_chunk,
		    new_chunk ? "chunk of a metadata area" : "header chunk");
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4096;
		struct seen *o = realloc(r->olds, cap * sizeof(*o));
		struct seen *nw = o ? realloc(r->news, cap * sizeof(*nw)) : NULL;
		uint32_t *l = nw ? realloc(r->lines, cap * sizeof(*l)) : NULL;

		if (o)
			r->olds = o;
		if (nw)
			r->news = nw;
		if (!l)
			bad(r, pos, 1, "out of memory after %zu exceptions", r->n);
		r->lines = l;
		r->cap = cap;
	}
	r->olds[r->n] = (struct seen){ old_chunk, r->n };
	r->news[r->n] = (struct seen){ new_chunk, r->n };
	r->lines[r->n] = pos->line > UINT32_MAX ? 0 : (uint32_t)pos->line;
	r->n++;
	r->exceptions++;
	return 0;
}

static int on_area_end(void *data, const struct dump_pos *pos, uint64_t count)
{
	struct restore *r = data;

	(void)pos;
	r->last_count = count;
	return 0;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->record < y->record ? -1 : x->record > y->record;
}

/* The first record (in table order) that repeats an earlier one's value. */
static int find_duplicate(struct seen *v, size_t n, struct seen *first, struct seen *dup)
{
	size_t i, count = 0;

	if (n < 2)
		return 0;
	qsort(v, n, sizeof(*v), cmp_seen);
	for (i = 1; i < n; i++) {
		if (v[i].value != v[i - 1].value)
			continue;
		if (!count || v[i].record < dup->record) {
			*dup = v[i];
			*first = v[i - 1];
		}
		count++;
	}
	return (int)(count > INT32_MAX ? INT32_MAX : count);
}

static int report_duplicate(struct restore *r, struct seen *v, const char *what)
{
	struct seen first = { 0, 0 }, dup = { 0, 0 };
	struct dump_pos pos = { 0 };
	char w[96], fl[32] = "";
	int count = find_duplicate(v, r->n, &first, &dup);

	if (!count)
		return 0;
	pos.line = r->lines[dup.record];
	pos.area = dup.record / r->per_area;
	pos.index = dup.record % r->per_area;
	if (r->lines[first.record])
		snprintf(fl, sizeof(fl), " (line %" PRIu32 ")", r->lines[first.record]);
	warnx("%s: %s%s chunk %" PRIu64 " was already used by area %" PRIu64 " exception %"
	      PRIu64 "%s%s", r->dump, where(&pos, 1, w, sizeof(w)), what, dup.value,
	      first.record / r->per_area, first.record % r->per_area, fl,
	      count > 1 ? " (and more duplicates follow)" : "");
	return 1;
}

static int on_end(void *data, const struct dump_pos *pos, int incomplete, uint64_t area)
{
	struct restore *r = data;

	if (r->writing)
		return 0;
	if (incomplete)
		bad(r, pos, 0, "the dump is marked incomplete: snap_dump could not read the table "
		    "from area %" PRIu64 " on, so restoring it would silently drop what follows",
		    area);
	if (r->last_count == r->per_area)
		bad(r, pos, 0, "area %" PRIu64 " is full and is the last area: the table has no "
		    "terminator (add an empty area %" PRIu64 " at chunk %" PRIu64 " to write one)",
		    r->areas - 1, r->areas, snapcow_area_chunk(r->per_area, r->areas));
	if (report_duplicate(r, r->news, "new") || report_duplicate(r, r->olds, "old"))
		return 1;
	return 0;
}

static const struct dump_visitor restore_ops = {
	.header = on_header,
	.area = on_area,
	.exception = on_exception,
	.area_end = on_area_end,
	.end = on_end,
};

/* Find out what is at @path now.  Returns 0, or exits with a message. */
static void inspect_target(const char *path, struct target *t)
{
	struct stat st;
	unsigned char magic[4];
	int fd;

	memset(t, 0, sizeof(*t));
	t->path = path;
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
	t->rdev = st.st_rdev;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		errx(EXIT_FAIL, "cannot open %s: %s", path, strerror(errno));
	if (fd_size(fd, &st, &t->size) < 0)
		errx(EXIT_FAIL, "cannot get the size of %s: %s", path, strerror(errno));
	t->has_magic = t->size >= 4 && pread_full(fd, magic, 4, 0) == 0 &&
		       !memcmp(magic, "SnAp", 4);
	close(fd);
}

static void print_plan(const struct restore *r, const struct target *t, const char *undo)
{
	uint64_t a;

	printf("would write %s (%s): store size %" PRIu64 " bytes, chunk %" PRIu32
	       " sectors, valid %" PRIu32 "\n", t->path,
	       !t->exists ? "new file, sparse" : t->is_blk ? "block device" : "existing file",
	       r->store_size, r->chunk_sectors, r->valid);
	printf("  header at chunk 0 (byte offset 0)\n");
	for (a = 0; a < r->areas; a++) {
		uint64_t c = snapcow_area_chunk(r->per_area, a);
		uint64_t n = a + 1 < r->areas ? r->per_area : r->last_count;

		printf("  area %" PRIu64 " at chunk %" PRIu64 " (byte offset %" PRIu64 "): %" PRIu64
		       " exceptions\n", a, c, c * r->chunk_bytes, n);
	}
	printf("  %" PRIu64 " exceptions in %" PRIu64 " areas; data chunks are not written\n",
	       r->exceptions, r->areas);
	if (undo)
		printf("  the ranges overwritten would first be saved to %s\n", undo);
}

static void usage(void)
{
	printf("Usage: %s [options] -i DUMP -o STORE\n"
	       "       %s --undo-apply UNDO [-n] [--force] STORE\n\n"
	       "Write a device-mapper snapshot store (header and exception table) from\n"
	       "a snap_dump XML or JSON dump.  Data chunks are not written.\n\n"
	       "Options:\n"
	       "  -i, --input DUMP       the dump (XML or JSON, detected from its contents)\n"
	       "  -o, --output STORE     the store to write (file or block device)\n"
	       "  -s, --size BYTES       store size (default: the dump's store_size)\n"
	       "  -f, --force            overwrite an existing store or a block device\n"
	       "                         (the overwritten bytes are saved first)\n"
	       "  -u, --undo FILE        where to save them (default STORE.snap_restore-undo)\n"
	       "      --undo-apply UNDO  put back the bytes saved in UNDO\n"
	       "  -n, --dry-run          check the dump and print what would be written\n"
	       "  -q, --quiet            errors only\n"
	       "  -h, --help             show this help and exit\n"
	       "  -V, --version          show the version and exit\n",
	       program_name, program_name);
	exit(EXIT_OK);
}

int main(int argc, char **argv)
{
	enum { OPT_UNDO_APPLY = 256 };
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "undo", required_argument, NULL, 'u' },
		{ "undo-apply", required_argument, NULL, OPT_UNDO_APPLY },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *input = NULL, *output = NULL, *undo = NULL, *undo_file = NULL;
	struct restore r = { 0 };
	struct dump_reader *reader;
	struct target t;
	struct stat st;
	char *undo_buf = NULL;
	int c, force = 0, dry_run = 0, quiet = 0, fd = -1, ret, need_undo;

	tool_init(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:o:s:fu:nqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 's':
			if (parse_size(optarg, &r.size_override) < 0 || !r.size_override)
				errx(EXIT_FAIL, "invalid size '%s'", optarg);
			break;
		case 'f':
			force = 1;
			break;
		case 'u':
			undo_file = optarg;
			break;
		case OPT_UNDO_APPLY:
			undo = optarg;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'q':
			quiet = 1;
			tool_set_verbosity(0);
			break;
		case 'h':
			usage();
			break;
		case 'V':
			print_version_and_exit();
			break;
		case ':':
			warnx("option '%s' needs an argument", argv[optind - 1]);
			try_help(EXIT_FAIL);
		default:
			warnx("unknown option '%s'", argv[optind - 1]);
			try_help(EXIT_FAIL);
		}
	}
	if (undo) {
		if (!output && optind == argc - 1)
			output = argv[optind++];
		if (!output || optind != argc)
			errx(EXIT_FAIL, "--undo-apply needs the undo file and one STORE");
		return undo_apply(undo, output, force, dry_run, quiet);
	}
	if (optind != argc) {
		warnx("unexpected argument '%s'", argv[optind]);
		try_help(EXIT_FAIL);
	}
	if (!input || !output) {
		warnx("%s", !input ? "no dump given (-i DUMP)" : "no store given (-o STORE)");
		try_help(EXIT_FAIL);
	}

	/* First pass: check everything, write nothing. */
	if (dump_reader_open(input, &reader) < 0)
		return EXIT_FAIL;
	r.dump = input;
	ret = dump_reader_run(reader, &restore_ops, &r);
	free(r.olds);
	free(r.news);
	free(r.lines);
	if (ret)
		goto fail_reader;

	inspect_target(output, &t);
	if (t.exists && stat(input, &st) == 0 && st.st_dev == t.dev && st.st_ino == t.ino) {
		warnx("%s is the dump itself: refusing to write the store over it", output);
		goto fail_reader;
	}
	need_undo = t.exists && t.size > 0;
	if (need_undo && !force) {
		warnx("%s %s: refusing to overwrite it without --force (the bytes overwritten are "
		      "saved to an undo file first)", output,
		      t.is_blk ? "is a block device" :
		      t.has_magic ? "already holds a snapshot store (SnAp magic)" : "is not empty");
		goto fail_reader;
	}
	if (t.is_blk && t.size < r.store_size) {
		warnx("%s is %" PRIu64 " bytes, the store needs %" PRIu64, output, t.size,
		      r.store_size);
		goto fail_reader;
	}
	if (t.exists && t.size > r.store_size && tool_verbosity() > 0)
		warnx("warning: %s is %" PRIu64 " bytes, more than the store size %" PRIu64
		      ": it is not shrunk, the kernel will use all of it", output, t.size,
		      r.store_size);
	if (need_undo && !undo_file) {
		if (t.is_blk) {
			warnx("%s is a block device: give --undo FILE (on another device) for the "
			      "bytes it overwrites", output);
			goto fail_reader;
		}
		if (asprintf(&undo_buf, "%s.snap_restore-undo", output) < 0)
			goto fail_reader;
		undo_file = undo_buf;
	}
	if (need_undo && stat(undo_file, &st) == 0) {
		warnx("undo file %s already exists: move it away or choose another with --undo",
		      undo_file);
		goto fail_reader;
	}
	/* An existing block device: never one the kernel holds (--force is the
	 * consent to overwrite, not to write under an active snapshot). */
	if (t.exists) {
		fd = store_open_rw(output, dry_run, t.is_blk ? -1 : 1, EXIT_FAIL, &st);
		if (t.is_blk)
			store_check_users(output, &st, -1, EXIT_FAIL);
	}
	if (dry_run) {
		print_plan(&r, &t, need_undo ? undo_file : NULL);
		if (fd >= 0)
			close(fd);
		dump_reader_free(reader);
		free(undo_buf);
		return EXIT_OK;
	}

	if (!t.exists)
		fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		warnx("cannot open %s: %s", output, strerror(errno));
		goto fail_reader;
	}
	if (t.exists && (fstat(fd, &st) < 0 || st.st_dev != t.dev || st.st_ino != t.ino)) {
		warnx("%s changed while it was being checked", output);
		goto fail_fd;
	}
	if (need_undo) {
		int e = save_undo(undo_file, fd, r.chunk_bytes, r.per_area, r.areas);

		if (e < 0) {
			warnx("cannot write undo file %s: %s; %s was not changed", undo_file,
			      strerror(-e), output);
			goto fail_fd;
		}
		if (!quiet)
			printf("saved the %" PRIu64 " chunks about to be overwritten to %s\n",
			       r.areas + 1, undo_file);
	}

	/* Second pass: write. */
	ret = snapcow_writer_new(tool_ctx(), fd, output, r.chunk_sectors, r.store_size, &r.w);
	if (ret < 0)
		goto fail_write;
	r.writing = 1;
	ret = dump_reader_run(reader, &restore_ops, &r);
	if (!ret)
		ret = snapcow_writer_finish(r.w, r.valid);
	snapcow_writer_free(r.w);
	if (ret)
		goto fail_write;
	if (close(fd) < 0) {
		warnx("cannot close %s: %s", output, strerror(errno));
		fd = -1;
		goto fail_write;
	}
	dump_reader_free(reader);
	if (!quiet)
		printf("wrote %s: %" PRIu64 " exceptions in %" PRIu64 " areas, chunk %" PRIu32
		       " sectors, store size %" PRIu64 " bytes, valid %" PRIu32 "\n", output,
		       r.exceptions, r.areas, r.chunk_sectors, r.store_size, r.valid);
	if (need_undo)
		printf("to undo: %s --undo-apply %s %s\n", program_name, undo_file, output);
	free(undo_buf);
	return EXIT_OK;

fail_write:
	warnx("writing %s failed%s", output, !t.exists ? "; the new file was removed" : "");
	if (!t.exists)
		unlink(output);
	else if (need_undo)
		warnx("to put back what was overwritten: %s --undo-apply %s %s", program_name,
		      undo_file, output);
fail_fd:
	if (fd >= 0)
		close(fd);
fail_reader:
	dump_reader_free(reader);
	free(undo_buf);
	return EXIT_FAIL;
}
