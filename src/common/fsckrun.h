/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a filesystem's own tools (e2fsck, xfs_repair, xfs_db, btrfs...)
 * as children, the one way every tool does it: found through an
 * environment variable or the sbin directories and PATH (a missing one is
 * named with the Debian package that has it), stdin from /dev/null or a
 * file of commands, output passed through, captured or read line by line,
 * and its exit status put in words.
 */
#ifndef SNAPRESCUE_FSCKRUN_H
#define SNAPRESCUE_FSCKRUN_H

#include <stddef.h>

/* The checker @name: $@envvar when it is set and not empty, else the first
 * of /sbin, /usr/sbin, /usr/local/sbin that has it, else @name itself (a
 * PATH search). */
const char *checker_find(const char *name, const char *envvar);

/* The programs the tools run: each one's environment variable (which
 * names another binary) and the Debian package that has it. */
struct checker_prog {
	const char *name;    /* "xfs_repair" */
	const char *envvar;  /* "SNAP_FSCK_XFS_REPAIR" */
	const char *package; /* "xfsprogs" */
};

/* The entry of @name (e2fsck, xfs_repair, xfs_db, xfs_logprint, btrfs).
 * Returns: it, or NULL for a program not in the table. */
const struct checker_prog *checker_prog(const char *name);

/* Where @name is: its environment variable when set (not checked), else
 * an executable in the sbin directories or on PATH.  Returns: the path
 * (static storage, valid until the next call), or NULL when it is nowhere;
 * then @why (if not NULL) says "xfs_repair not found (install the Debian
 * package xfsprogs, or set SNAP_FSCK_XFS_REPAIR)". */
const char *checker_locate(const char *name, char *why, size_t len);

enum checker_flags {
	CHECKER_CAPTURE = 1 << 0,          /* collect stdout and stderr into *output */
	CHECKER_STDOUT_TO_STDERR = 1 << 1, /* its stdout goes to our stderr (JSON on stdout) */
	CHECKER_NO_E2FSCK_CONFIG = 1 << 2, /* E2FSCK_CONFIG=/dev/null: no local e2fsck.conf */
};

/* Run @argv (argv[0]: the program; a NULL-terminated list) with stdin from
 * /dev/null.  With CHECKER_CAPTURE, *@output is its output (malloc'd,
 * NUL-terminated, "" when silent).  Returns: its exit status (0..255),
 * 127 if it could not be run, 128 + N if signal N killed it, or -errno
 * when no child could be made. */
int checker_run(char *const argv[], unsigned int flags, char **output);

/* Called with each line of the child's stdout (without its newline; the
 * buffer may be changed).  Returns: 0 to go on, 1 to stop reading (the
 * child is then killed with SIGTERM and its status is 128 + SIGTERM
 * unless it had ended), <0 an error to return. */
typedef int (*checker_line_fn)(void *data, char *line);

/* Run @argv with stdin from @stdin_fd (-1: /dev/null; the descriptor is
 * read from where it stands and left open), its stdout passed to @fn line
 * by line and its stderr collected into *@errors (malloc'd, "" when
 * silent; may be NULL to pass it through to ours).  Returns: as
 * checker_run(), or the callback's error. */
int checker_run_lines(char *const argv[], int stdin_fd, checker_line_fn fn, void *data,
		      char **errors);

/* An open memory file holding @text, positioned at its start (stdin for
 * checker_run_lines()).  Returns: the descriptor or -errno. */
int checker_stdin_text(const char *text);

/* e2fsck's exit status in words, e.g. "no errors", "errors corrected",
 * "errors corrected, reboot needed"; bits e2fsck does not define are
 * named as such ("exit status 64").  Returns: @buf. */
const char *e2fsck_status_meaning(int status, char *buf, size_t len);

/* xfs_repair's: 0 "no errors", 1 "problems found (or a dirty log it
 * ignored)" (-n), 2 "dirty log: it must be replayed first", 4 "corruption
 * repaired" (-e).  Returns: @buf. */
const char *xfs_repair_status_meaning(int status, char *buf, size_t len);

/* btrfs check's: 0 "no errors", 1 "errors found (or the check could not
 * run)".  Returns: @buf. */
const char *btrfs_check_status_meaning(int status, char *buf, size_t len);

#endif
