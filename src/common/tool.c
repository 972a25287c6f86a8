/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

const char *program_name = "snaprescue";
static int verbosity = 1;
static struct snapcow_ctx *ctx;
static unsigned long lib_errors;

static void lib_log(void *data, int priority, const char *msg)
{
	(void)data;
	if (priority <= LOG_ERR)
		lib_errors++;
	fprintf(stderr, "%s: %s%s\n", program_name,
		priority == LOG_WARNING ? "warning: " : "", msg);
}

static void free_ctx(void)
{
	ctx = snapcow_ctx_unref(ctx);
}

void tool_init(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

	if (argv0)
		program_name = slash ? slash + 1 : argv0;
	if (!ctx) {
		if (snapcow_ctx_new(&ctx) < 0) {
			fprintf(stderr, "%s: out of memory\n", program_name);
			exit(EXIT_FAIL);
		}
		snapcow_ctx_set_log_fn(ctx, lib_log, NULL);
		atexit(free_ctx);
	}
	tool_set_verbosity(1);
}

struct snapcow_ctx *tool_ctx(void)
{
	return ctx;
}

void tool_set_verbosity(int level)
{
	/* -1: nothing at all, not even errors (the caller reports them). */
	static const int prio[] = { -1, LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	if (level < -1)
		level = -1;
	if (level > 3)
		level = 3;
	verbosity = level;
	snapcow_ctx_set_log_priority(ctx, prio[level + 1]);
}

int tool_verbosity(void)
{
	return verbosity;
}

unsigned long tool_lib_errors(void)
{
	return lib_errors;
}

static void vmessage(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", program_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void errx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit(code);
}

void lib_failed(int code, unsigned long mark, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (lib_errors == mark) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		warnx("%s: %s", msg, snapcow_strerror(err));
	}
	exit(code);
}

int tool_threads_option(int c, const char *arg, int code)
{
	uint64_t n;

	if (c != TOOL_OPT_THREADS)
		return 0;
	if (parse_u64(arg, &n) < 0 || n < 1 || n > 1024) {
		warnx("--threads %s: not a number of threads from 1 to 1024", arg);
		try_help(code);
	}
	snapcow_ctx_set_threads(ctx, (unsigned int)n);
	return 1;
}

void print_version_and_exit(void)
{
	printf("%s from snaprescue %s\n", program_name, snapcow_version());
	exit(EXIT_OK);
}

void try_help(int code)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", program_name);
	exit(code);
}

void tool_std_option(int c, void (*usage)(void), int usage_code)
{
	if (c == 'h')
		usage();
	if (c == 'V')
		print_version_and_exit();
	try_help(usage_code);
}

void tool_getopt_error(int c, char *const *argv, void (*usage)(void), int usage_code)
{
	if (c == ':')
		warnx("option '%s' needs an argument", argv[optind - 1]);
	else if (c == '?')
		warnx("unknown option '%s'", argv[optind - 1]);
	else
		tool_std_option(c, usage, usage_code);
	try_help(usage_code);
}

int fail_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *one_operand(int argc, char **argv, int first, const char *what, int code)
{
	if (first >= argc) {
		warnx("no %s given", what);
		try_help(code);
	}
	if (first + 1 < argc) {
		warnx("unexpected argument '%s'", argv[first + 1]);
		try_help(code);
	}
	return argv[first];
}

int parse_format(const char *s, const char *const *choices, int code)
{
	int i = parse_choice(s, choices);

	if (i < 0) {
		char list[128] = "";

		for (int k = 0; choices[k]; k++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 k ? (choices[k + 1] ? ", " : " or ") : "", choices[k]);
		warnx("unknown format: '%s' (%s)", s, list);
		try_help(code);
	}
	return i;
}

struct snapcow_store *store_open_or_exit(const char *path, unsigned int flags, int code)
{
	struct snapcow_store *s;
	unsigned long mark = lib_errors;
	int r = snapcow_store_open(ctx, path, flags, &s);

	if (r < 0)
		lib_failed(code, mark, r, "cannot open %s", path);
	return s;
}

int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int base = 10, d;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	if (*p == '-')
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			return -EINVAL;
	} else if (p[0] == '0' && p[1]) {
		return -EINVAL; /* leading zero: octal or a typo, refuse both */
	}
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTPE";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	if (!s || *s < '0' || *s > '9') /* strtoull takes blanks and a sign first */
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	if (*end) {
		char c = *end;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		u = strchr(units, c);
		if (!u || !c)
			return -EINVAL;
		shift = (int)(u - units + 1) * 10;
		end++;
		if (strcmp(end, "iB") && strcmp(end, "B") && *end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_range(const char *s, uint64_t *from, uint64_t *to)
{
	const char *dots = strstr(s, "..");
	char a[64];

	if (!dots || (size_t)(dots - s) >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, (size_t)(dots - s));
	a[dots - s] = 0;
	if ((*a && parse_u64(a, from) < 0) || (dots[2] && parse_u64(dots + 2, to) < 0) ||
	    *from > *to)
		return -EINVAL;
	return 0;
}

const char *format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	int i = 0;

	while (v >= 1024.0 && i < 6) {
		v /= 1024.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[i]);
	return buf;
}

int parse_choice(const char *s, const char *const *choices)
{
	int i;

	for (i = 0; choices[i]; i++)
		if (!strcmp(s, choices[i]))
			return i;
	return -1;
}

void print_shell_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

void fault_point(const char *name)
{
	const char *want = getenv("SNAPRESCUE_FAULT");

	if (want && name && !strcmp(want, name)) {
		fprintf(stderr, "%s: SNAPRESCUE_FAULT=%s: exiting with 99\n", program_name, want);
		_exit(99);
	}
}

void fault_step(void *data, enum snapcow_rewrite_step step)
{
	static const char *const names[] = { NULL, "before-undo", "after-undo", "after-write" };

	(void)data;
	if ((unsigned int)step < sizeof(names) / sizeof(names[0]))
		fault_point(names[step]);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void progress_init(struct progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->total = total;
	p->enabled = verbosity > 0 && isatty(STDERR_FILENO) && !getenv("SNAPRESCUE_NO_PROGRESS");
}

void progress_update(struct progress *p, uint64_t done)
{
	uint64_t t;
	int width = 40, filled;
	double frac;

	if (!p->enabled || !p->total)
		return;
	t = now_ns();
	if (p->drawn && t - p->last_ns < 100000000ULL && done < p->total)
		return;
	p->last_ns = t;
	p->drawn = 1;
	frac = done >= p->total ? 1.0 : (double)done / (double)p->total;
	filled = (int)(frac * width);
	fprintf(stderr, "\r%s [%.*s%*s] %5.1f%%", p->label, filled,
		"========================================", width - filled, "", frac * 100.0);
	fflush(stderr);
}

void progress_end(struct progress *p)
{
	if (p->enabled && p->drawn) {
		progress_update(p, p->total);
		fputc('\n', stderr);
	}
}
