/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_extract: write a dm-snapshot as the kernel would show it (remapped
 * chunks from the exception store, everything else from the origin or
 * zeros) to a sparse file or to stdout.
 *
 * The snapshot is walked as extents (libsnapcow's view).  Runs of origin
 * chunks go through copy_file_range() segment by segment of the origin's
 * data (SEEK_DATA/SEEK_HOLE keep its holes); COW data and everything that
 * cannot be copied in the kernel goes through a staging buffer that covers
 * one contiguous range of the output and is written with a few large
 * pwrite()s, skipping all-zero chunks so that they stay holes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapcow.h"
#include "tool.h"

#define STAGE_BYTES (8U << 20) /* staging buffer: one output range */
#define ZERO_BYTES (1U << 20)  /* zeros written per call to a stream */

struct output {
	int fd;
	int stream;          /* stdout: write everything, zeros too */
	const char *name;
	uint32_t chunk_bytes;
	unsigned char *buf;  /* staged bytes of [off, off + len) */
	size_t len;
	uint64_t off;
	uint64_t pos;        /* stream: bytes written so far */
	int cfr;             /* copy_file_range still worth trying */
	uint64_t data_bytes; /* bytes written (non-zero data) */
};

struct source {
	int fd;
	const char *name;
	int seekable_holes;  /* regular file: SEEK_DATA/SEEK_HOLE work */
	uint64_t seg_start;  /* cached data segment [seg_start, seg_end) */
	uint64_t seg_end;
};

/* The file we create: removed on failure and on SIGINT/SIGTERM/SIGHUP. */
static char *created_path;

static void remove_created(void)
{
	if (created_path) {
		unlink(created_path);
		free(created_path);
		created_path = NULL;
	}
}

static void on_signal(int sig)
{
	if (created_path)
		unlink(created_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void __attribute__((noreturn)) fail(void)
{
	remove_created();
	exit(EXIT_FAIL);
}

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage: %s (--origin FILE|DEV | --zero-origin --size BYTES) [options] STORE\n"
	       "\n"
	       "Write the snapshot as the kernel would show it: chunks remapped in the\n"
	       "exception store STORE (the COW device) from the store, all others from the\n"
	       "origin (or zeros for a --virtualsize volume).  Reads STORE and the origin\n"
	       "only; the output is a new sparse file.\n"
	       "\n"
	       "Options:\n"
	       "  -O, --origin FILE|DEV   the origin the snapshot was taken of\n"
	       "  -z, --zero-origin       the origin is zeros (lvcreate --virtualsize)\n"
	       "  -s, --size BYTES        size of the snapshot (default: the origin's size;\n"
	       "                          required with --zero-origin)\n"
	       "  -o, --output OUT|-      the file to create, or - for stdout (default -)\n"
	       "  -f, --force             replace an existing OUT (only once it is complete)\n"
	       "      --ignore-invalid    extract a store marked invalid (see the man page)\n"
	       "  -q, --quiet             no progress bar, no warnings but the invalid one\n"
	       "  -h, --help              display this help\n"
	       "  -V, --version           display version\n",
	       program_name);
	exit(EXIT_OK);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* One write to the output: at @off of a file, in sequence to a stream. */
static int write_all(struct output *o, const void *buf, size_t len, uint64_t off)
{
	return o->stream ? write_full(o->fd, buf, len) : pwrite_full(o->fd, buf, len, off);
}

static void write_failed(const struct output *o, uint64_t off, int r)
{
	warnx("cannot write %s at byte offset %" PRIu64 ": %s", o->name, off, strerror(-r));
}

/* Write the staged range: all of it to a stream; to a file, only the
 * chunks that are not all zeros (the others stay holes). */
static int flush(struct output *o)
{
	const size_t cb = o->chunk_bytes;
	size_t i = 0, start;
	int r;

	if (!o->len)
		return 0;
	if (o->stream) {
		r = write_all(o, o->buf, o->len, 0);
		if (r < 0) {
			write_failed(o, o->off, r);
			return r;
		}
		o->pos += o->len;
		o->data_bytes += o->len;
		o->len = 0;
		return 0;
	}
	/* Pieces end on chunk boundaries of the output. */
	while (i < o->len) {
		size_t piece;

		start = i;
		while (i < o->len) {
			piece = cb - (size_t)((o->off + i) % cb);
			if (piece > o->len - i)
				piece = o->len - i;
			if (is_zero(o->buf + i, piece))
				break;
			i += piece;
		}
		if (i > start) {
			r = write_all(o, o->buf + start, i - start, o->off + start);
			if (r < 0) {
				write_failed(o, o->off + start, r);
				return r;
			}
			o->data_bytes += i - start;
		}
		/* Skip the zero pieces. */
		while (i < o->len) {
			piece = cb - (size_t)((o->off + i) % cb);
			if (piece > o->len - i)
				piece = o->len - i;
			if (!is_zero(o->buf + i, piece))
				break;
			i += piece;
		}
	}
	o->len = 0;
	return 0;
}

/* Read @len bytes of @fd at @src into the output at @dst (staged). */
static int stage_read(struct output *o, int fd, const char *what, uint64_t src, uint64_t dst,
		      uint64_t len)
{
	int r;

	if (o->len && o->off + o->len != dst) {
		r = flush(o);
		if (r < 0)
			return r;
	}
	while (len) {
		size_t n;

		if (o->len == STAGE_BYTES) {
			r = flush(o);
			if (r < 0)
				return r;
		}
		if (!o->len)
			o->off = dst;
		n = STAGE_BYTES - o->len;
		if (n > len)
			n = (size_t)len;
		r = pread_full(fd, o->buf + o->len, n, src);
		if (r < 0) {
			warnx("cannot read %s at byte offset %" PRIu64 ": %s", what, src,
			      r == -EIO ? "it ends early" : strerror(-r));
			return r;
		}
		o->len += n;
		src += n;
		dst += n;
		len -= n;
	}
	return 0;
}

/* @len bytes of zeros: holes in a file, written to a stream. */
static int put_zeros(struct output *o, const unsigned char *zeros, uint64_t len)
{
	int r = flush(o);

	if (r < 0 || !o->stream)
		return r;
	while (len) {
		size_t n = len < ZERO_BYTES ? (size_t)len : ZERO_BYTES;

		r = write_all(o, zeros, n, 0);
		if (r < 0) {
			write_failed(o, o->pos, r);
			return r;
		}
		o->pos += n;
		len -= n;
	}
	return 0;
}

/* Copy [@off, @off + @len) of the origin to the same offset of a file
 * output in the kernel.  Returns bytes done (less than @len when
 * copy_file_range is not supported here: the caller stages the rest), or
 * a negative errno. */
static int64_t copy_segment(struct output *o, struct source *src, uint64_t off, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		loff_t in = (loff_t)(off + done), out = in;
		size_t want = len - done > (1ULL << 30) ? (size_t)1 << 30 : (size_t)(len - done);
		ssize_t n = copy_file_range(src->fd, &in, o->fd, &out, want, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (done == 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
					  errno == EOPNOTSUPP || errno == EBADF)) {
				o->cfr = 0;
				return 0;
			}
			warnx("cannot copy %s to %s at byte offset %" PRIu64 ": %s", src->name,
			      o->name, off + done, strerror(errno));
			return -errno;
		}
		if (n == 0) {
			warnx("cannot read %s at byte offset %" PRIu64 ": it ends early", src->name,
			      off + done);
			return -EIO;
		}
		done += (uint64_t)n;
		o->data_bytes += (uint64_t)n;
	}
	return (int64_t)done;
}

/* Find the origin's data segment at or after @off, within @end.  Returns
 * 1 with [*ds, *de), 0 if the rest up to @end is a hole, or -errno. */
static int origin_data(struct source *src, uint64_t off, uint64_t end, uint64_t *ds,
		       uint64_t *de)
{
	off_t d, h;

	if (!src->seekable_holes) {
		*ds = off;
		*de = end;
		return 1;
	}
	if (off >= src->seg_start && off < src->seg_end) {
		*ds = off;
		*de = src->seg_end < end ? src->seg_end : end;
		return 1;
	}
	d = lseek(src->fd, (off_t)off, SEEK_DATA);
	if (d < 0) {
		if (errno == ENXIO)
			return 0;
		if (errno == EINVAL || errno == EOPNOTSUPP) {
			/* No SEEK_DATA here: treat everything as data. */
			src->seekable_holes = 0;
			*ds = off;
			*de = end;
			return 1;
		}
		return -errno;
	}
	if ((uint64_t)d >= end)
		return 0;
	h = lseek(src->fd, d, SEEK_HOLE);
	if (h < 0)
		return -errno;
	src->seg_start = (uint64_t)d;
	src->seg_end = (uint64_t)h;
	*ds = (uint64_t)d;
	*de = (uint64_t)h < end ? (uint64_t)h : end;
	return 1;
}

static int copy_origin(struct output *o, struct source *src, const unsigned char *zeros,
		       uint64_t off, uint64_t len)
{
	const uint64_t end = off + len;
	int r;

	if (o->stream)
		return stage_read(o, src->fd, src->name, off, off, len);
	while (off < end) {
		uint64_t ds = 0, de = 0;
		int64_t n = 0;

		r = origin_data(src, off, end, &ds, &de);
		if (r < 0) {
			warnx("cannot seek %s at byte offset %" PRIu64 ": %s", src->name, off,
			      strerror(-r));
			return r;
		}
		if (r == 0)
			return put_zeros(o, zeros, end - off);
		if (ds > off) {
			r = put_zeros(o, zeros, ds - off);
			if (r < 0)
				return r;
		}
		if (o->cfr) {
			r = flush(o);
			if (r < 0)
				return r;
			n = copy_segment(o, src, ds, de - ds);
			if (n < 0)
				return (int)n;
		}
		if (ds + (uint64_t)n < de) {
			r = stage_read(o, src->fd, src->name, ds + (uint64_t)n, ds + (uint64_t)n,
				       de - ds - (uint64_t)n);
			if (r < 0)
				return r;
		}
		off = de;
	}
	return 0;
}

/* Say what an invalid store means for what we extract. */
static int warn_invalid(struct snapcow_store *s, const char *store, int zero_origin)
{
	struct snapcow_uncommitted u;
	struct snapcow_stats st;
	int r;

	r = snapcow_store_scan(s, &st);
	if (r < 0)
		return r;
	r = snapcow_store_scan_uncommitted(s, st.next_free, NULL, NULL, &u);
	if (r < 0)
		return r;
	warnx("warning: %s is marked invalid (valid flag 0: the snapshot overflowed or "
	      "failed); extracting the %" PRIu64 " exceptions it committed", store, st.exceptions);
	if (zero_origin)
		warnx("warning: the origin is zeros (a --virtualsize volume), so everything "
		      "committed is recoverable, but data written after the last commit is "
		      "lost: check the filesystem before using it");
	else
		warnx("warning: origin writes after the invalidation were not copied to the "
		      "store: chunks not in its table may be newer than the snapshot was");
	if (u.chunks)
		warnx("warning: %" PRIu64 " non-zero data chunk%s at or past the first free "
		      "chunk %" PRIu64 " (chunks %" PRIu64 "..%" PRIu64 ") %s never committed "
		      "to the table and %s not included (the kernel would not show %s either)",
		      u.chunks, u.chunks == 1 ? "" : "s", st.next_free, u.first, u.last,
		      u.chunks == 1 ? "was" : "were", u.chunks == 1 ? "is" : "are",
		      u.chunks == 1 ? "it" : "them");
	else
		warnx("warning: no uncommitted data found past the first free chunk %" PRIu64,
		      st.next_free);
	return 0;
}

/* Exceptions whose old chunk is wholly past the end of the view. */
static uint64_t count_beyond(const struct snapcow_map *m, uint64_t size, uint32_t cb)
{
	struct snapcow_exception e;
	uint64_t from = size / cb + (size % cb != 0), n = 0;

	while (snapcow_map_next(m, from, &e) == 0) {
		n++;
		if (e.old_chunk == UINT64_MAX)
			break;
		from = e.old_chunk + 1;
	}
	return n;
}

/* Create the output: OUT itself (O_EXCL), or with --force over an existing
 * regular file a temporary file next to it, renamed over OUT at the end. */
static int open_output(const char *out, int force, const struct stat *store_st,
		       const struct stat *origin_st, char **final_path)
{
	struct stat st;
	int fd;

	*final_path = NULL;
	if (stat(out, &st) == 0) {
		if (same_file(&st, store_st) || (origin_st && same_file(&st, origin_st)))
			errx(EXIT_FAIL, "%s: refusing to write over the %s", out,
			     same_file(&st, store_st) ? "store" : "origin");
		if (!S_ISREG(st.st_mode))
			errx(EXIT_FAIL, "%s: exists and is not a regular file (use -o - to stream "
			     "to stdout)", out);
		if (!force)
			errx(EXIT_FAIL, "%s: already exists (use --force to replace it)", out);
		if (asprintf(&created_path, "%s.XXXXXX", out) < 0)
			errx(EXIT_FAIL, "out of memory");
		fd = mkostemp(created_path, O_CLOEXEC);
		if (fd < 0) {
			warnx("cannot create a temporary file next to %s: %s", out, strerror(errno));
			free(created_path);
			created_path = NULL;
			exit(EXIT_FAIL);
		}
		fchmod(fd, st.st_mode & 07777);
		*final_path = strdup(out);
		if (!*final_path)
			fail();
		return fd;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		errx(EXIT_FAIL, "cannot create %s: %s", out, strerror(errno));
	created_path = strdup(out);
	if (!created_path) {
		unlink(out);
		errx(EXIT_FAIL, "out of memory");
	}
	return fd;
}

enum { OPT_IGNORE_INVALID = 256 };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "origin", required_argument, NULL, 'O' },
		{ "zero-origin", no_argument, NULL, 'z' },
		{ "size", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "ignore-invalid", no_argument, NULL, OPT_IGNORE_INVALID },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *origin = NULL, *out = "-", *store;
	int zero_origin = 0, force = 0, ignore_invalid = 0, quiet = 0, have_size = 0;
	uint64_t size = 0, origin_size = 0, off;
	struct stat store_st, origin_st, out_st;
	struct snapcow_store *s = NULL;
	struct snapcow_map *map = NULL;
	struct snapcow_view *v = NULL;
	struct source src = { .fd = -1 };
	struct output o = { .fd = -1 };
	struct snapcow_extent ext;
	struct progress prog;
	unsigned char *zeros = NULL;
	char *final_path = NULL;
	uint64_t beyond;
	int c, r, sfd;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, "O:zs:o:fqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'O':
			origin = optarg;
			break;
		case 'z':
			zero_origin = 1;
			break;
		case 's':
			if (parse_size(optarg, &size) < 0 || !size)
				errx(EXIT_FAIL, "invalid size '%s'", optarg);
			have_size = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case OPT_IGNORE_INVALID:
			ignore_invalid = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage();
		case 'V':
			print_version_and_exit();
		default:
			try_help(EXIT_FAIL);
		}
	}
	if (quiet)
		tool_set_verbosity(0);
	store = one_operand(argc, argv, optind, "store", EXIT_FAIL);
	if (!origin == !zero_origin) {
		warnx(origin ? "--origin and --zero-origin exclude each other" :
			       "give the origin (--origin FILE) or --zero-origin");
		try_help(EXIT_FAIL);
	}
	if (zero_origin && !have_size) {
		warnx("--zero-origin needs --size (the volume's virtual size)");
		try_help(EXIT_FAIL);
	}
	if (!*out)
		errx(EXIT_FAIL, "empty output name");

	/* Inputs first: nothing is created when they cannot be read. */
	sfd = open(store, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		errx(EXIT_FAIL, "cannot open %s: %s", store, strerror(errno));
	if (fstat(sfd, &store_st) < 0)
		errx(EXIT_FAIL, "cannot stat %s: %s", store, strerror(errno));
	r = snapcow_store_open_fd(tool_ctx(), sfd, store, 0, &s);
	if (r < 0) {
		if (r == -ENOMEM)
			warnx("%s: %s", store, snapcow_strerror(r));
		exit(EXIT_FAIL); /* libsnapcow said what is wrong */
	}
	if (!snapcow_store_header(s)->valid) {
		if (!ignore_invalid)
			errx(EXIT_FAIL, "%s: store is marked invalid (valid flag 0 at byte offset "
			     "4): the kernel would refuse to read it; --ignore-invalid extracts "
			     "what it committed", store);
		r = warn_invalid(s, store, zero_origin);
		if (r < 0)
			errx(EXIT_FAIL, "%s: cannot read the exception table: %s", store,
			     snapcow_strerror(r));
	}

	if (origin) {
		src.fd = open(origin, O_RDONLY | O_CLOEXEC);
		if (src.fd < 0)
			errx(EXIT_FAIL, "cannot open %s: %s", origin, strerror(errno));
		if (fstat(src.fd, &origin_st) < 0)
			errx(EXIT_FAIL, "cannot stat %s: %s", origin, strerror(errno));
		r = fd_size(src.fd, &origin_st, &origin_size);
		if (r < 0)
			errx(EXIT_FAIL, "%s: %s", origin,
			     r == -EINVAL ? "not a regular file or block device" : strerror(-r));
		src.name = origin;
		src.seekable_holes = S_ISREG(origin_st.st_mode);
		if (!have_size)
			size = origin_size;
		else if (size > origin_size)
			errx(EXIT_FAIL, "--size %" PRIu64 " is larger than the origin %s (%" PRIu64
			     " bytes)", size, origin, origin_size);
		if (!size)
			errx(EXIT_FAIL, "%s: origin is empty", origin);
	}

	r = snapcow_map_new(s, &map);
	if (r < 0)
		errx(EXIT_FAIL, "%s: cannot read the exception table: %s", store,
		     snapcow_strerror(r));
	if (snapcow_map_duplicates(map) && !quiet)
		warnx("warning: %s: %" PRIu64 " records remap an old chunk that a later record "
		      "remaps again; the later one is used", store, snapcow_map_duplicates(map));
	beyond = count_beyond(map, size, snapcow_store_chunk_bytes(s));
	if (beyond && !quiet)
		warnx("warning: %s: %" PRIu64 " exceptions remap chunks past the end of the "
		      "snapshot (%" PRIu64 " bytes); they are not part of it", store, beyond, size);
	r = snapcow_view_new(s, map, origin ? src.fd : -1, size, &v);
	if (r < 0)
		errx(EXIT_FAIL, "%s: %s", store, snapcow_strerror(r));

	/* The output. */
	o.chunk_bytes = snapcow_store_chunk_bytes(s);
	o.buf = malloc(STAGE_BYTES);
	zeros = calloc(1, ZERO_BYTES);
	if (!o.buf || !zeros)
		errx(EXIT_FAIL, "out of memory");
	if (!strcmp(out, "-")) {
		o.fd = STDOUT_FILENO;
		o.stream = 1;
		o.name = "stdout";
		if (isatty(o.fd))
			errx(EXIT_FAIL, "refusing to write the snapshot to a terminal (use -o OUT "
			     "or a pipe)");
		if (fstat(o.fd, &out_st) == 0 &&
		    (same_file(&out_st, &store_st) || (origin && same_file(&out_st, &origin_st))))
			errx(EXIT_FAIL, "stdout is the %s: refusing to write over it",
			     same_file(&out_st, &store_st) ? "store" : "origin");
	} else {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		o.fd = open_output(out, force, &store_st, origin ? &origin_st : NULL,
				   &final_path);
		o.name = out;
		o.cfr = origin != NULL;
		if (ftruncate(o.fd, (off_t)size) < 0) {
			warnx("cannot size %s to %" PRIu64 " bytes: %s", out, size, strerror(errno));
			fail();
		}
	}

	progress_init(&prog, "extracting", size);
	for (off = 0; (r = snapcow_view_extent(v, off, &ext)) == 0; off += ext.length) {
		if (!ext.length) {
			r = -EIO;
			warnx("%s: empty extent at byte offset %" PRIu64, store, off);
			break;
		}
		switch (ext.source) {
		case SNAPCOW_SRC_COW:
			r = stage_read(&o, snapcow_store_fd(s), store, ext.source_offset, off,
				       ext.length);
			break;
		case SNAPCOW_SRC_ORIGIN:
			r = copy_origin(&o, &src, zeros, off, ext.length);
			break;
		default:
			r = put_zeros(&o, zeros, ext.length);
			break;
		}
		if (r < 0)
			break;
		progress_update(&prog, off + ext.length);
	}
	if (r == 1) /* the end of the view */
		r = flush(&o);
	else if (r == 0)
		r = -EIO;
	progress_end(&prog);
	if (r < 0)
		fail();

	if (!o.stream) {
		if (fsync(o.fd) < 0) {
			warnx("cannot sync %s: %s", out, strerror(errno));
			fail();
		}
		if (final_path && rename(created_path, final_path) < 0) {
			warnx("cannot rename %s to %s: %s", created_path, final_path,
			      strerror(errno));
			fail();
		}
		free(created_path);
		created_path = NULL;
		if (close(o.fd) < 0) {
			warnx("cannot close %s: %s", out, strerror(errno));
			exit(EXIT_FAIL);
		}
	} else if (close(o.fd) < 0) {
		warnx("cannot write stdout: %s", strerror(errno));
		exit(EXIT_FAIL);
	}
	free(final_path);
	free(zeros);
	free(o.buf);
	snapcow_view_free(v);
	snapcow_store_free(s);
	close(sfd);
	if (src.fd >= 0)
		close(src.fd);
	return EXIT_OK;
}
