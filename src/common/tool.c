/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "snapcow.h"
#include "tool.h"

const char *program_name = "snaprescue";
static int verbosity = 1;

static void lib_log(void *data, int priority, const char *msg)
{
	(void)data;
	fprintf(stderr, "%s: %s%s\n", program_name,
		priority == LOG_WARNING ? "warning: " : "", msg);
}

void tool_init(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

	if (argv0)
		program_name = slash ? slash + 1 : argv0;
	snapcow_set_log_fn(lib_log, NULL);
	tool_set_verbosity(1);
}

void tool_set_verbosity(int level)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	verbosity = level;
	snapcow_set_log_priority(prio[level]);
}

int tool_verbosity(void)
{
	return verbosity;
}

void warnx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void errx(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
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

int fd_size(int fd, const struct stat *st, uint64_t *size)
{
	struct stat own;

	if (!st) {
		if (fstat(fd, &own) < 0)
			return -errno;
		st = &own;
	}
	if (S_ISBLK(st->st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	*size = (uint64_t)st->st_size;
	return 0;
}

int is_zero(const void *buf, size_t len)
{
	/* The buffer compared with itself 16 bytes on: memcmp is vectorised. */
	static const unsigned char zero16[16];
	const unsigned char *p = buf;

	if (len <= 16)
		return !memcmp(p, zero16, len);
	return !memcmp(p, zero16, 16) && !memcmp(p, p + 16, len - 16);
}

int read_full(int fd, void *buf, size_t len, int64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = off < 0 ? read(fd, p, len) : pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

int write_full(int fd, const void *buf, size_t len, int64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
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

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end)
		return -EINVAL;
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

	if (!s || !*s || *s == '-' || *s == '+')
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
		if (!strcmp(end, "iB") || !strcmp(end, "B") || !*end)
			;
		else
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
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

static uint64_t now_ns(void)
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
