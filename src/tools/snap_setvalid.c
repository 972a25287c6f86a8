/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_setvalid: set or clear the valid flag of a dm-snapshot exception
 * store, after checking the whole table, saving the header chunk to an undo
 * file and making sure the kernel is not using the store.  Also applies
 * such an undo file (--undo-apply).
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "target.h"
#include "tool.h"
#include "undo.h"

/* Exit codes (fsck-like, see the man page). */
enum {
	SV_OK = 0,
	SV_FAIL = 1,
	SV_ERRORS = 4,
	SV_USAGE = 16,
};

#define SHOW_PROBLEMS 5

struct opts {
	int valid;
	int dry_run;
	int force;
	const char *undo;
	const char *undo_apply;
	const char *store;
};

static void NORETURN usage(void)
{
	printf("Usage:\n"
	       " %s [--valid|--invalid] [-n] [--undo FILE] [--force] STORE\n"
	       " %s --undo-apply FILE [-n] [--force] STORE\n"
	       "\n"
	       "Set (or clear) the valid flag of a dm-snapshot exception store, the 4 bytes\n"
	       "at offset 4, after checking its whole exception table and saving the header\n"
	       "chunk to an undo file.\n"
	       "\n"
	       "Options:\n"
	       "     --valid            mark the store valid (default)\n"
	       "     --invalid          mark the store invalid\n"
	       " -n, --dry-run          say what would be done, change nothing\n"
	       "     --undo FILE        undo file to write (default:\n"
	       "                        ./snap_setvalid-<store>-<time>.undo)\n"
	       "     --undo-apply FILE  restore the bytes saved in FILE\n"
	       " -f, --force            write even if the store is in use, or (undo) if it\n"
	       "                        is not the store FILE was made for\n"
	       " -q, --quiet            print errors only\n"
	       " -h, --help             display this help\n"
	       " -V, --version          display version\n"
	       "\n"
	       "Exit status: 0 done or nothing to do, 1 failure, 4 refused: the table has\n"
	       "errors, 16 usage error.\n",
	       program_name, program_name);
	exit(SV_OK);
}

static void print_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		printf("%s%02x", i ? " " : "", b[i]);
}

struct problems {
	unsigned int shown;
};

static void on_problem(void *data, const struct snapcow_problem *p)
{
	struct problems *pr = data;

	if (p->severity != LOG_ERR || pr->shown >= SHOW_PROBLEMS)
		return;
	pr->shown++;
	warnx("offset %llu: %s (%s)", (unsigned long long)p->offset, p->message, p->code);
}

/* The undo file (--undo, or a default name in the current directory),
 * never one on the store itself. */
static void choose_undo(const struct opts *o, const struct stat *st, char *undo, size_t len)
{
	struct undo_target t = { "the store", *st };
	char *copy;

	if (o->undo) {
		snprintf(undo, len, "%s", o->undo);
	} else {
		copy = strdup(o->store);
		if (!copy)
			errx(SV_FAIL, "out of memory");
		undo_default_name(basename(copy), undo, len);
		free(copy);
	}
	undo_check_place(undo, &t, 1, SV_FAIL);
}

/* The whole table must be sound before a store is marked valid: the
 * kernel would load whatever it holds. */
static void check_table(const struct opts *o, struct snapcow_store *s)
{
	struct snapcow_check_options copt = { .skip_data_scan = 1 };
	struct snapcow_check_result res;
	struct problems pr = { 0 };
	unsigned long mark = tool_lib_errors();
	int r;

	r = snapcow_store_check(s, &copt, on_problem, &pr, &res);
	if (r < 0)
		lib_failed(SV_FAIL, mark, r, "%s: cannot check the exception table", o->store);
	if (res.errors)
		errx(SV_ERRORS, "%s: refusing to mark valid: %llu error%s in the exception "
		     "table%s; run 'snap_check %s' to see %s (nothing was changed)",
		     o->store, (unsigned long long)res.errors, res.errors > 1 ? "s" : "",
		     res.errors > pr.shown ? " (first ones above)" : " (above)", o->store,
		     res.errors > 1 ? "them all" : "it");
	if (tool_verbosity() > 0)
		printf("%s: table checked: %llu exceptions in %llu metadata area%s, next free "
		       "chunk %llu, no errors\n", o->store,
		       (unsigned long long)res.stats.exceptions,
		       (unsigned long long)res.stats.areas, res.stats.areas == 1 ? "" : "s",
		       (unsigned long long)res.stats.next_free);
}

/* Returns: 1 (and says so) when the flag already holds what is asked. */
static int nothing_to_do(const struct opts *o, const struct snapcow_store *s, uint32_t want)
{
	uint32_t cur = snapcow_store_header(s)->valid;

	if (cur == want)
		printf("%s: already marked %s (valid flag %u): nothing to do\n", o->store,
		       o->valid ? "valid" : "invalid", want);
	else if (o->valid && cur > 1)
		printf("%s: valid flag is %u (the kernel already treats it as valid): nothing "
		       "to do\n", o->store, cur);
	else
		return 0;
	return 1;
}

/* Save the header chunk, write the flag, read it back; report. */
static int write_flag(const struct opts *o, struct snapcow_store *s, int fd, const char *undo,
		      uint32_t want)
{
	struct snapcow_rewrite_options ropt = { .undo_path = undo, .program = program_name,
						.step_fn = fault_step };
	uint32_t le = htole32(want);
	struct snapcow_identity id;
	int r;

	r = store_identity(fd, &id);
	if (r < 0)
		errx(SV_FAIL, "%s: cannot identify the store: %s", o->store, strerror(-r));
	ropt.identity = &id;
	r = snapcow_store_set_valid(s, want, &ropt);
	if (r == 1) {
		printf("%s: already marked %s: nothing to do\n", o->store,
		       o->valid ? "valid" : "invalid");
		return SV_OK;
	}
	if (r < 0) {
		warnx("%s: cannot mark %s: %s", o->store, o->valid ? "valid" : "invalid",
		      snapcow_strerror(r));
		if (access(undo, F_OK) == 0) {
			char *abs_undo = realpath(undo, NULL);

			printf("the old header chunk is saved in %s; to restore it:\n",
			       abs_undo ? abs_undo : undo);
			free(abs_undo);
			undo_print_command("  ", undo, o->store);
		}
		return SV_FAIL;
	}
	printf("%s: marked %s: wrote ", o->store, o->valid ? "valid" : "invalid");
	print_bytes(&le, 4);
	{
		char *abs_undo = realpath(undo, NULL);

		printf(" at offset 4, synced and read back\n"
		       "old header chunk (%u bytes) saved in %s\n", snapcow_store_chunk_bytes(s),
		       abs_undo ? abs_undo : undo);
		free(abs_undo);
	}
	undo_print_command("to undo: ", undo, o->store);
	return SV_OK;
}

static int do_set(const struct opts *o)
{
	uint32_t want = o->valid ? 1 : 0, le = htole32(want);
	struct snapcow_store *s;
	char undo[PATH_MAX];
	struct stat st;
	int fd, r;

	fd = store_open_rw(o->store, o->dry_run, o->force, SV_FAIL, &st);
	r = snapcow_store_open_fd(tool_ctx(), fd, o->store, o->dry_run ? 0 : SNAPCOW_OPEN_RDWR, &s);
	if (r < 0)
		exit(SV_FAIL); /* libsnapcow said what is wrong */
	store_check_users(o->store, &st, o->force, SV_FAIL);
	if (o->valid)
		check_table(o, s);
	r = SV_OK;
	if (nothing_to_do(o, s, want))
		goto out;
	choose_undo(o, &st, undo, sizeof(undo));
	if (o->dry_run) {
		printf("dry run: would save the header chunk (%u bytes at offset 0) to %s,\n"
		       "then write ", snapcow_store_chunk_bytes(s), undo);
		print_bytes(&le, 4);
		printf(" at offset 4 (valid flag %u -> %u); nothing changed\n",
		       snapcow_store_header(s)->valid, want);
		goto out;
	}
	r = write_flag(o, s, fd, undo, want);
out:
	snapcow_store_free(s);
	close(fd);
	return r;
}

/* What an undo file puts back: a few changed bytes (the valid flag) are
 * shown, more as a count of ranges and bytes. */
static void print_restored(const struct opts *o, const struct snapcow_undo *u)
{
	struct snapcow_undo_range g;
	unsigned char bytes[8];

	printf("%s%s: %s ", o->dry_run ? "dry run: " : "", o->store,
	       o->dry_run ? "would restore" : "restored");
	if (snapcow_undo_ranges(u) == 1 && snapcow_undo_range(u, 0, &g) == 0 &&
	    g.changed_length <= sizeof(bytes) && g.changed_length > 0 &&
	    snapcow_undo_read_saved(u, g.changed_offset, bytes, g.changed_length) == 0) {
		print_bytes(bytes, g.changed_length);
		printf(" at offset %" PRIu64, g.changed_offset);
	} else {
		printf("%" PRIu32 " range%s (%" PRIu64 " bytes)", snapcow_undo_ranges(u),
		       snapcow_undo_ranges(u) == 1 ? "" : "s", snapcow_undo_bytes(u));
	}
	printf(" from %s%s\n", o->undo_apply,
	       o->dry_run ? "; nothing changed" : ", synced and read back");
}

static int do_undo_apply(const struct opts *o)
{
	struct snapcow_identity id;
	struct snapcow_undo *u;
	unsigned int flags = 0;
	struct stat st;
	int fd, r;

	r = snapcow_undo_open(tool_ctx(), o->undo_apply, &u);
	if (r < 0)
		errx(SV_FAIL, "cannot use undo file %s: %s", o->undo_apply, snapcow_strerror(r));
	fd = store_open_rw(o->store, o->dry_run, o->force, SV_FAIL, &st);
	store_check_users(o->store, &st, o->force, SV_FAIL);
	r = store_identity(fd, &id);
	if (r < 0)
		errx(SV_FAIL, "%s: cannot identify the store: %s", o->store, strerror(-r));
	if (o->force)
		flags |= SNAPCOW_UNDO_ANY_IDENTITY;
	if (o->dry_run)
		flags |= SNAPCOW_UNDO_DRY_RUN;
	r = snapcow_undo_apply(u, fd, &id, flags);
	close(fd);
	if (r == 1)
		printf("%s: already holds the %" PRIu64 " bytes saved in %s: nothing to do\n",
		       o->store, snapcow_undo_bytes(u), o->undo_apply);
	else if (r == 0)
		print_restored(o, u);
	else
		warnx("%s: not restored: %s%s", o->store, snapcow_strerror(r),
		      r == SNAPCOW_ERR_UNDO_IDENTITY ?
			      " (use --force only if you are sure it is the same store)" : "");
	snapcow_undo_free(u);
	return r < 0 ? SV_FAIL : SV_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_VALID = 256, OPT_INVALID, OPT_UNDO, OPT_UNDO_APPLY };
	static const struct option longopts[] = {
		{ "valid", no_argument, NULL, OPT_VALID },
		{ "invalid", no_argument, NULL, OPT_INVALID },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "undo", required_argument, NULL, OPT_UNDO },
		{ "undo-apply", required_argument, NULL, OPT_UNDO_APPLY },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .valid = 1 };
	int c, modes = 0;

	tool_init(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0); /* keep order with stderr */
	while ((c = getopt_long(argc, argv, "nfqhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_VALID:
			o.valid = 1;
			modes |= 1;
			break;
		case OPT_INVALID:
			o.valid = 0;
			modes |= 2;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case OPT_UNDO:
			o.undo = optarg;
			break;
		case OPT_UNDO_APPLY:
			o.undo_apply = optarg;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'q':
			tool_set_verbosity(0);
			break;
		default:
			tool_std_option(c, usage, SV_USAGE);
		}
	}
	if (modes == 3) {
		warnx("--valid and --invalid are mutually exclusive");
		try_help(SV_USAGE);
	}
	if (o.undo_apply && (modes || o.undo)) {
		warnx("--undo-apply cannot be combined with --valid, --invalid or --undo");
		try_help(SV_USAGE);
	}
	o.store = one_operand(argc, argv, optind, "store", SV_USAGE);
	return o.undo_apply ? do_undo_apply(&o) : do_set(&o);
}
