/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The checker runner: exit status in words (a status with no defined bit
 * used to write before its buffer), and running a child. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsckrun.h"
#include "unit.h"

struct lines {
	int n, stop_at;
	char last[64];
};

static int line_cb(void *data, char *line)
{
	struct lines *l = data;

	snprintf(l->last, sizeof(l->last), "%s", line);
	return ++l->n == l->stop_at;
}

static int same(const char *a, const char *b)
{
	if (strcmp(a, b))
		fprintf(stderr, "got '%s', expected '%s'\n", a, b);
	return !strcmp(a, b);
}

int main(void)
{
	char buf[160], small[8], *out = NULL;
	char *echo[] = { "sh", "-c", "echo hello; echo world >&2; exit 3", NULL };
	char *missing[] = { "/nonexistent/checker", NULL };

	CHECK(same(e2fsck_status_meaning(0, buf, sizeof(buf)), "no errors"));
	CHECK(same(e2fsck_status_meaning(1, buf, sizeof(buf)), "errors corrected"));
	CHECK(same(e2fsck_status_meaning(3, buf, sizeof(buf)), "errors corrected, reboot needed"));
	CHECK(same(e2fsck_status_meaning(64, buf, sizeof(buf)), "exit status 64"));
	CHECK(same(e2fsck_status_meaning(65, buf, sizeof(buf)), "errors corrected, exit status 64"));
	CHECK(same(e2fsck_status_meaning(-1, buf, sizeof(buf)), "not run"));
	/* truncated, never overrun */
	e2fsck_status_meaning(255, small, sizeof(small));
	CHECK(strlen(small) < sizeof(small));

	CHECK_EQ(checker_run(echo, CHECKER_CAPTURE, &out), 3);
	CHECK(out && same(out, "hello\nworld\n"));
	free(out);
	CHECK_EQ(checker_run(missing, CHECKER_CAPTURE, &out), 127);
	free(out);
	CHECK(!strcmp(checker_find("no-such-checker-here", NULL), "no-such-checker-here"));
	setenv("SNAPRESCUE_TEST_CHECKER", "/bin/true", 1);
	CHECK(!strcmp(checker_find("e2fsck", "SNAPRESCUE_TEST_CHECKER"), "/bin/true"));

	/* the program table: a missing one is named with its package */
	CHECK(checker_prog("xfs_repair") && same(checker_prog("xfs_repair")->package, "xfsprogs"));
	CHECK(checker_prog("btrfs") && same(checker_prog("btrfs")->envvar, "SNAP_FSCK_BTRFS"));
	CHECK(checker_prog("no-such") == NULL);
	setenv("SNAP_FSCK_XFS_DB", "/some/where/xfs_db", 1);
	CHECK(same(checker_locate("xfs_db", buf, sizeof(buf)), "/some/where/xfs_db"));
	unsetenv("SNAP_FSCK_XFS_DB");
	setenv("PATH", "/nonexistent", 1);
	CHECK(checker_locate("xfs_logprint-missing", buf, sizeof(buf)) == NULL);
	CHECK(same(buf, "xfs_logprint-missing not found"));
	setenv("PATH", "/usr/bin:/bin", 1);
	CHECK(checker_locate("sh", buf, sizeof(buf)) != NULL);

	/* lines, stdin from a memory file, stderr kept apart, an early stop */
	{
		char *cat[] = { "sh", "-c", "cat; echo oops >&2; echo tail", NULL };
		char *yes[] = { "sh", "-c", "while :; do echo y; done", NULL };
		struct lines l = { 0 };
		char *err = NULL;
		int in = checker_stdin_text("one\ntwo\nthree\n");

		CHECK(in >= 0);
		CHECK_EQ(checker_run_lines(cat, in, line_cb, &l, &err), 0);
		CHECK_EQ(l.n, 4);
		CHECK(same(l.last, "tail"));
		CHECK(err && same(err, "oops\n"));
		free(err);
		close(in);
		memset(&l, 0, sizeof(l));
		l.stop_at = 3;
		CHECK_EQ(checker_run_lines(yes, -1, line_cb, &l, NULL), 128 + 15);
		CHECK_EQ(l.n, 3);
	}
	CHECK(same(xfs_repair_status_meaning(2, buf, sizeof(buf)),
		   "dirty log: it must be replayed first"));
	CHECK(same(xfs_repair_status_meaning(3, buf, sizeof(buf)), "exit status 3"));
	CHECK(same(btrfs_check_status_meaning(0, buf, sizeof(buf)), "no errors"));
	CHECK(same(btrfs_check_status_meaning(137, buf, sizeof(buf)), "killed by signal 9"));
	return unit_done("fsckrun");
}
