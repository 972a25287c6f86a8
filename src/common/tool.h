/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the snaprescue tools (never part of libsnapcow). */
#ifndef SNAPRESCUE_TOOL_H
#define SNAPRESCUE_TOOL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))

/* Exit codes: plain tools, and fsck-style checkers. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_UNSUPPORTED = 2,
};
enum {
	FSCK_EXIT_OK = 0,
	FSCK_EXIT_REPAIRED = 1,
	FSCK_EXIT_ERRORS = 4,
	FSCK_EXIT_OPERROR = 8,
	FSCK_EXIT_USAGE = 16,
};

extern const char *program_name;

/* Set the program name (basename of argv[0]) and route libsnapcow's log
 * to stderr as "<tool>: message". */
void tool_init(const char *argv0);
/* 0 = errors only (-q), 1 = warnings (default), 2 = info (-v), 3 = debug. */
void tool_set_verbosity(int level);
int tool_verbosity(void);

void warnx(const char *fmt, ...) PRINTF_LIKE(1, 2);
void errx(int code, const char *fmt, ...) PRINTF_LIKE(2, 3) __attribute__((noreturn));

/* "<tool> from snaprescue X.Y" on stdout, exit 0. */
void print_version_and_exit(void) __attribute__((noreturn));
/* "Try '<tool> --help' for more information." on stderr, exit @code. */
void try_help(int code) __attribute__((noreturn));

/* The one operand left after the options (argv[@first]), or a usage error
 * ("no WHAT given", "unexpected argument 'X'") and exit @code. */
const char *one_operand(int argc, char **argv, int first, const char *what, int code);

/* parse_choice() of a --format value, or a usage error naming the choices
 * and exit @code. */
int parse_format(const char *s, const char *const *choices, int code);

/* Size in bytes of the regular file or block device open on @fd (@st: its
 * fstat, or NULL).  Returns 0, -EISDIR, -EINVAL (another kind) or -errno. */
int fd_size(int fd, const struct stat *st, uint64_t *size);

/* Returns: 1 if the @len bytes at @p are all zero. */
int is_zero(const void *p, size_t len);

/* read() (@off < 0) or pread() at @off until @len bytes are in: 0, -EIO
 * if the file ends first, or -errno.  EINTR is retried. */
int read_full(int fd, void *buf, size_t len, int64_t off);
/* write() (@off < 0) or pwrite() at @off of all @len bytes: 0 or -errno. */
int write_full(int fd, const void *buf, size_t len, int64_t off);

/* Parse "4096", "64k", "1M", "2g", "1T" (binary multiples, optional "iB"
 * or "B").  Returns 0 or -EINVAL / -ERANGE. */
int parse_size(const char *s, uint64_t *out);
/* Parse an unsigned decimal or 0x hex number. */
int parse_u64(const char *s, uint64_t *out);

/* Human size, e.g. "16.0 MiB", into @buf. */
const char *format_size(uint64_t bytes, char *buf, size_t len);

/* Index of @s in the NULL-terminated @choices, or -1. */
int parse_choice(const char *s, const char *const *choices);

/* A progress bar on stderr, shown only when stderr is a terminal and the
 * verbosity is not quiet; redrawn at most 10 times a second. */
struct progress {
	uint64_t total;
	uint64_t last_ns;
	const char *label;
	int enabled;
	int drawn;
};
void progress_init(struct progress *p, const char *label, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);

#endif
