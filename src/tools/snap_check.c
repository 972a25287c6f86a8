/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_check: check a dm-snapshot exception store for everything the
 * kernel relies on but never verifies.  Read-only.  Exit codes are fsck's:
 * 0 clean (warnings allowed), 4 errors found, 8 operational error, 16 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "snapcow.h"
#include "tool.h"
#include "trust.h"
#include "volume.h"

#define DEFAULT_MAX_REPORTS 10
#define MAX_CODES 64

struct code_count {
	const char *code;
	int severity;
	uint64_t n;
};

struct reporter {
	const char *path;
	uint64_t max_reports; /* per problem code; 0: no limit */
	int quiet;
	int verbose;
	struct code_count codes[MAX_CODES];
	size_t ncodes;
};

static void NORETURN usage(void)
{
	printf("Usage: %s [options] STORE|VG/LV\n"
	       "\n"
	       "Check a dm-snapshot exception store (the COW device of an LVM snapshot, or\n"
	       "the snapshot or sparse volume VG/LV) for problems the kernel does not\n"
	       "detect.  Never writes anything.\n"
	       "\n"
	       "Options:\n"
	       "  -q, --quiet              print nothing; the exit status tells\n"
	       "  -v, --verbose            also print the store's figures and problem codes\n"
	       "      --origin-size BYTES  the origin's size: old chunks must be inside it\n"
	       "      --max-reports N      print at most N problems of each kind (default %d,\n"
	       "                           0 for all)\n"
	       "      --skip-data-scan     do not look for data past the table's next free chunk\n"
	       "      --trust              say what the view can vouch for, chunk by chunk\n"
	       "      --trust-report FILE  ... and write it as JSON to FILE (-: stdout, alone)\n"
	       "      --zero-origin        with --trust: the origin is the zero target (a\n"
	       "                           --virtualsize volume)\n"
	       VOLUME_HELP
	       TOOL_THREADS_HELP
	       "  -h, --help               display this help\n"
	       "  -V, --version            display version\n"
	       "\n"
	       "Exit status: 0 clean (warnings allowed), 4 errors found, 8 operational\n"
	       "error, 16 usage error.  See snap_check(8).\n",
	       program_name, DEFAULT_MAX_REPORTS);
	exit(FSCK_EXIT_OK);
}

static const char *severity_name(int severity)
{
	return severity <= LOG_ERR ? "error" : "warning";
}

static void on_problem(void *data, const struct snapcow_problem *p)
{
	struct reporter *rp = data;
	struct code_count *cc = NULL;
	size_t i;

	for (i = 0; i < rp->ncodes; i++)
		if (!strcmp(rp->codes[i].code, p->code) && rp->codes[i].severity == p->severity)
			cc = &rp->codes[i];
	if (!cc && rp->ncodes < MAX_CODES) {
		cc = &rp->codes[rp->ncodes++];
		cc->code = p->code; /* static strings in the library */
		cc->severity = p->severity;
	}
	if (cc && ++cc->n > rp->max_reports && rp->max_reports)
		return;
	if (rp->quiet)
		return;
	if (rp->verbose)
		fprintf(stderr, "%s: %s: %s [%s]: %s\n", program_name, rp->path,
			severity_name(p->severity), p->code, p->message);
	else
		fprintf(stderr, "%s: %s: %s: %s\n", program_name, rp->path,
			severity_name(p->severity), p->message);
}

static void print_more(const struct reporter *rp)
{
	size_t i;

	if (rp->quiet || !rp->max_reports)
		return;
	for (i = 0; i < rp->ncodes; i++)
		if (rp->codes[i].n > rp->max_reports)
			fprintf(stderr, "%s: %s: %s: ... and %" PRIu64 " more %s problems\n",
				program_name, rp->path, severity_name(rp->codes[i].severity),
				rp->codes[i].n - rp->max_reports, rp->codes[i].code);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* A header the kernel would refuse (or take as a new store) is an error
 * found (libsnapcow said which); anything else is an operational error. */
static int open_failed(const struct reporter *rp, int r)
{
	if (r <= SNAPCOW_ERR_MAGIC && r >= SNAPCOW_ERR_RECORD) {
		if (!rp->quiet)
			printf("%s: %s: 1 error: the header is unusable, the table was not read\n",
			       program_name, rp->path);
		return FSCK_EXIT_ERRORS;
	}
	return FSCK_EXIT_OPERROR;
}

/* -v figures, then the one-line verdict. */
static void print_summary(const struct reporter *rp, struct snapcow_store *s,
			  const struct snapcow_check_result *res)
{
	const struct snapcow_stats *st = &res->stats;

	if (rp->verbose && !rp->quiet) {
		const struct snapcow_header *h = snapcow_store_header(s);
		char b[32];

		printf("%s: %s: chunk size %" PRIu32 " sectors, valid flag %" PRIu32
		       ", %" PRIu64 " chunks (%s)\n",
		       program_name, rp->path, h->chunk_sectors, h->valid, snapcow_store_chunks(s),
		       format_size(snapcow_store_size(s), b, sizeof(b)));
		printf("%s: %s: next free chunk %" PRIu64 ", allocated %" PRIu64
		       " sectors, metadata %" PRIu64 " sectors%s\n",
		       program_name, rp->path, st->next_free, st->allocated_sectors,
		       st->metadata_sectors, st->full ? ", full" : "");
		printf("%s: %s: check used %s of memory\n", program_name, rp->path,
		       format_size(res->memory_bytes, b, sizeof(b)));
	}
	if (!rp->quiet) {
		printf("%s: %s: %" PRIu64 " %s in %" PRIu64 " %s%s: ", program_name, rp->path,
		       st->exceptions, plural(st->exceptions, "exception", "exceptions"),
		       st->areas, plural(st->areas, "area", "areas"),
		       res->table_complete ? "" : " (table incomplete)");
		if (!res->errors && !res->warnings)
			printf("clean\n");
		else
			printf("%" PRIu64 " %s, %" PRIu64 " %s\n", res->errors,
			       plural(res->errors, "error", "errors"), res->warnings,
			       plural(res->warnings, "warning", "warnings"));
	}
}

/* --trust, --trust-report FILE, --zero-origin */
struct trust_opts {
	int trust;
	int zero_origin;
	const char *report;
};

static void check_trust_opts(const struct trust_opts *t)
{
	if (t->zero_origin && !t->trust) {
		warnx("--zero-origin goes with --trust");
		try_help(FSCK_EXIT_USAGE);
	}
	if (t->report && strcmp(t->report, "-") && access(t->report, F_OK) == 0)
		errx(FSCK_EXIT_OPERROR, "--trust-report %s: the file exists; the report is written "
		     "to a new file", t->report);
}

/* --trust: the view's chunks classified (trust.h), human on stdout and
 * JSON to the report; @v: the volume when VG/LV (its size and kind). */
static void print_trust(struct snapcow_store *s, const struct volume *v, uint64_t view_bytes,
			const struct trust_opts *to, const struct reporter *rp,
			const struct snapcow_check_result *res)
{
	enum trust_origin origin = to->zero_origin ? TRUST_ORIGIN_ZERO : TRUST_ORIGIN_UNKNOWN;
	const char *path = rp->path, *report = to->report;
	unsigned long mark = tool_lib_errors();
	struct snapcow_map *m;
	struct trust t;
	int r;

	if (!to->trust)
		return;
	if (!res->table_complete) {
		warnx("%s: the table cannot be walked to its end: no trust report", path);
		return;
	}
	if (v->cow)
		origin = v->kind == VOLUME_SPARSE ? TRUST_ORIGIN_ZERO : TRUST_ORIGIN_REAL;
	r = snapcow_map_new(s, &m);
	if (r < 0)
		lib_failed(FSCK_EXIT_OPERROR, mark, r, "%s: cannot read the exception table", path);
	trust_build(&t, s, m, view_bytes, origin, path, FSCK_EXIT_OPERROR);
	snapcow_map_free(m);
	if (!rp->quiet && (!report || strcmp(report, "-")))
		trust_print(stdout, &t);
	r = report ? trust_write_json(&t, report) : 0;
	trust_free(&t);
	if (r < 0)
		exit(FSCK_EXIT_OPERROR);
}

/* Parse the options into @rp, @vo, @opt and @to; exit on bad usage. */
static void parse_options(int argc, char **argv, struct reporter *rp, struct volume_opts *vo,
			  struct snapcow_check_options *opt, struct trust_opts *to)
{
	enum { OPT_ORIGIN_SIZE = 256, OPT_MAX_REPORTS, OPT_SKIP_DATA, OPT_TRUST, OPT_TRUST_REPORT,
	       OPT_ZERO_ORIGIN };
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "origin-size", required_argument, NULL, OPT_ORIGIN_SIZE },
		{ "max-reports", required_argument, NULL, OPT_MAX_REPORTS },
		{ "skip-data-scan", no_argument, NULL, OPT_SKIP_DATA },
		{ "trust", no_argument, NULL, OPT_TRUST },
		{ "trust-report", required_argument, NULL, OPT_TRUST_REPORT },
		{ "zero-origin", no_argument, NULL, OPT_ZERO_ORIGIN },
		VOLUME_LONGOPTS,
		TOOL_THREADS_LONGOPT,
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "qvhV", longopts, NULL)) != -1) {
		if (tool_threads_option(c, optarg, FSCK_EXIT_USAGE))
			continue;
		if (volume_parse(vo, c, optarg, FSCK_EXIT_USAGE))
			continue;
		switch (c) {
		case 'q':
			rp->quiet = 1;
			break;
		case 'v':
			rp->verbose = 1;
			break;
		case OPT_ORIGIN_SIZE:
			if (parse_size(optarg, &opt->origin_bytes) < 0 || !opt->origin_bytes) {
				warnx("invalid origin size: '%s'", optarg);
				try_help(FSCK_EXIT_USAGE);
			}
			break;
		case OPT_MAX_REPORTS:
			if (parse_u64(optarg, &rp->max_reports) < 0) {
				warnx("invalid number: '%s'", optarg);
				try_help(FSCK_EXIT_USAGE);
			}
			break;
		case OPT_SKIP_DATA:
			opt->skip_data_scan = 1;
			break;
		case OPT_TRUST_REPORT:
			to->report = optarg;
			/* fall through */
		case OPT_TRUST:
			to->trust = 1;
			break;
		case OPT_ZERO_ORIGIN:
			to->zero_origin = 1;
			break;
		default:
			tool_std_option(c, usage, FSCK_EXIT_USAGE);
		}
	}
}

int main(int argc, char **argv)
{
	struct reporter rp = { .max_reports = DEFAULT_MAX_REPORTS };
	struct volume_opts vo = { 0 };
	struct volume v = { .cow_fd = -1, .origin_fd = -1 };
	struct snapcow_check_options opt = { 0 };
	struct snapcow_check_result res;
	struct snapcow_store *s;
	struct trust_opts to = { 0 };
	unsigned long mark;
	int r;

	tool_init(argv[0]);
	parse_options(argc, argv, &rp, &vo, &opt, &to);
	rp.path = one_operand(argc, argv, optind, "store", FSCK_EXIT_USAGE);
	check_trust_opts(&to);
	if (volume_is_name(&vo, rp.path)) {
		volume_open(&vo, rp.path, &v, FSCK_EXIT_OPERROR);
		if (!opt.origin_bytes)
			opt.origin_bytes = v.size; /* old chunks must lie inside the snapshot */
	}
	/* Opening says only what is fatal: the check reports the header's
	 * warnings itself, as problems. */
	tool_set_verbosity(rp.quiet ? -1 : 0);
	mark = tool_lib_errors();
	r = v.cow ? snapcow_store_open_dev(tool_ctx(), v.cow, 0, &s) :
		    snapcow_store_open(tool_ctx(), rp.path, 0, &s);
	tool_set_verbosity(rp.quiet ? 0 : rp.verbose ? 2 : 1);
	if (r < 0) {
		if (tool_lib_errors() == mark && !rp.quiet)
			warnx("cannot open %s: %s", rp.path, snapcow_strerror(r));
		return open_failed(&rp, r);
	}
	mark = tool_lib_errors();
	r = snapcow_store_check(s, &opt, on_problem, &rp, &res);
	if (r < 0) {
		snapcow_store_free(s);
		lib_failed(FSCK_EXIT_OPERROR, mark, r, "%s: check failed", rp.path);
	}
	print_more(&rp);
	if (!to.report || strcmp(to.report, "-")) /* stdout is the JSON's */
		print_summary(&rp, s, &res);
	print_trust(s, &v, opt.origin_bytes, &to, &rp, &res);
	snapcow_store_free(s);
	volume_close(&v);
	return res.errors ? FSCK_EXIT_ERRORS : FSCK_EXIT_OK;
}
