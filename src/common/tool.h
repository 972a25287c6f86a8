/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tools' common layer (never part of libsnapcow): the program name and
 * its library context, messages, the options every tool has, parsing, and
 * a progress bar.  See src/README for what may call what.
 */
#ifndef SNAPRESCUE_TOOL_H
#define SNAPRESCUE_TOOL_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "shared.h"
#include "snapcow.h"

#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#define NORETURN __attribute__((noreturn))

/* Exit codes: plain tools, and fsck-style checkers. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_UNSUPPORTED = 2,
	EXIT_PARTIAL = 3, /* done, but parts of the input could not be read (listed) */
};
enum {
	FSCK_EXIT_OK = 0,
	FSCK_EXIT_REPAIRED = 1,
	FSCK_EXIT_ERRORS = 4,
	FSCK_EXIT_OPERROR = 8,
	FSCK_EXIT_USAGE = 16,
};

extern const char *program_name;

/* Set the program name (basename of argv[0]) and make the tool's library
 * context, whose diagnostics go to stderr as "<tool>: [warning: ]message". */
void tool_init(const char *argv0);
/* The tool's library context: pass it to every libsnapcow constructor. */
struct snapcow_ctx *tool_ctx(void);
/* -1 = the library says nothing, 0 = errors only (-q), 1 = warnings
 * (default), 2 = info (-v), 3 = debug. */
void tool_set_verbosity(int level);
int tool_verbosity(void);
/* Errors the library has logged so far (each one already printed). */
unsigned long tool_lib_errors(void);

void warnx(const char *fmt, ...) PRINTF_LIKE(1, 2);
void errx(int code, const char *fmt, ...) PRINTF_LIKE(2, 3) NORETURN;
/* After a library call failed with @err: say "<fmt>: <strerror>" unless the
 * library already said what went wrong since @mark (tool_lib_errors()
 * before the call); exit @code. */
void lib_failed(int code, unsigned long mark, int err, const char *fmt, ...) PRINTF_LIKE(4, 5)
	NORETURN;

/* The options every tool has: -h/--help, -V/--version. */
#define TOOL_STD_LONGOPTS                                  \
	{ "help", no_argument, NULL, 'h' },                \
	{ "version", no_argument, NULL, 'V' }
/* Handle option @c that the tool's own switch did not: -h calls @usage
 * (which exits 0), -V prints "<tool> from snaprescue X.Y" and exits 0, a
 * missing argument or an unknown option is a usage error (exit
 * @usage_code). */
void tool_std_option(int c, void (*usage)(void), int usage_code) NORETURN;

/* --threads N, for the tools that walk a table (check, info, dump and the
 * views): how many threads libsnapcow may use (snapcow_ctx_set_threads();
 * default: the online CPUs).  tool_threads_option() returns 1 when @c was
 * it (N is a positive number, else a usage error and exit @code). */
#define TOOL_OPT_THREADS 0x7f01
#define TOOL_THREADS_LONGOPT { "threads", required_argument, NULL, TOOL_OPT_THREADS }
#define TOOL_THREADS_HELP                                                            \
	"      --threads N         threads reading the exception table (default: the\n" \
	"                          online CPUs; the results are the same for any N)\n"
int tool_threads_option(int c, const char *arg, int code);

/* For a tool that sets opterr = 0 and starts its getopt string with ':'
 * (messages in its own words): say which option lacks its argument (@c
 * ':') or is unknown ('?'), then try_help(@usage_code); any other @c goes
 * to tool_std_option(). */
void tool_getopt_error(int c, char *const *argv, void (*usage)(void), int usage_code) NORETURN;

/* "<tool> from snaprescue X.Y" on stdout, exit 0. */
void print_version_and_exit(void) NORETURN;
/* "Try '<tool> --help' for more information." on stderr, exit @code. */
void try_help(int code) NORETURN;

/* Write the message into @why (@len bytes), for parsers that return why
 * something is refused.  Returns: -EINVAL. */
int fail_why(char *why, size_t len, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* The one operand left after the options (argv[@first]), or a usage error
 * ("no WHAT given", "unexpected argument 'X'") and exit @code. */
const char *one_operand(int argc, char **argv, int first, const char *what, int code);

/* parse_choice() of a --format value, or a usage error naming the choices
 * and exit @code. */
int parse_format(const char *s, const char *const *choices, int code);

/* Open the store @path through the tool's context (libsnapcow says what
 * is wrong, in one wording for every tool) or exit @code. */
struct snapcow_store *store_open_or_exit(const char *path, unsigned int flags, int code);

/* Parse "4096", "64k", "1M", "2g", "1T" (binary multiples, optional "iB"
 * or "B").  Returns 0 or -EINVAL / -ERANGE. */
int parse_size(const char *s, uint64_t *out);
/* Parse an unsigned decimal (no leading zeros: never octal) or 0x hex
 * number, with no sign or blanks.  Returns 0, -EINVAL (not a number) or
 * -ERANGE (does not fit in 64 bits). */
int parse_u64(const char *s, uint64_t *out);
/* Parse "A..B" (either end may be left out: *@from and *@to keep the
 * caller's defaults) with A <= B.  Returns 0 or -EINVAL. */
int parse_range(const char *s, uint64_t *from, uint64_t *to);

/* Human size, e.g. "16.0 MiB", into @buf. */
const char *format_size(uint64_t bytes, char *buf, size_t len);

/* Index of @s in the NULL-terminated @choices, or -1. */
int parse_choice(const char *s, const char *const *choices);

/* Print @s single-quoted for a shell on @f. */
void print_shell_quoted(FILE *f, const char *s);

/* Test hook: SNAPRESCUE_FAULT=NAME in the environment ends the process
 * with exit status 99 when a writer reaches the step called NAME, as a
 * crash there would.  Returns only when @name is not the one asked for. */
void fault_point(const char *name);
/* The same as a libsnapcow step callback (before-undo, after-undo,
 * after-write). */
void fault_step(void *data, enum snapcow_rewrite_step step);

/* CLOCK_MONOTONIC in nanoseconds (progress, and the costs reports show). */
uint64_t now_ns(void);

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
