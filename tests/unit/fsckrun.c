/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The checker runner: exit status in words (a status with no defined bit
 * used to write before its buffer), and running a child. */
#include <stdlib.h>
#include <string.h>

#include "fsckrun.h"
#include "unit.h"

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
	return unit_done("fsckrun");
}
