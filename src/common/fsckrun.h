/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a filesystem's own checker (e2fsck today) as a child, the one
 * way every tool does it: found through an environment variable or the
 * sbin directories, stdin from /dev/null, output passed through or
 * captured, and its exit status put in words.
 */
#ifndef SNAPRESCUE_FSCKRUN_H
#define SNAPRESCUE_FSCKRUN_H

#include <stddef.h>

/* The checker @name: $@envvar when it is set and not empty, else the first
 * of /sbin, /usr/sbin, /usr/local/sbin that has it, else @name itself (a
 * PATH search). */
const char *checker_find(const char *name, const char *envvar);

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

/* e2fsck's exit status in words, e.g. "no errors", "errors corrected",
 * "errors corrected, reboot needed"; bits e2fsck does not define are
 * named as such ("exit status 64").  Returns: @buf. */
const char *e2fsck_status_meaning(int status, char *buf, size_t len);

#endif
