/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * devcheck-run [--zero-log] DEV: snap_resurrect's filesystem check
 * (src/common/devcheck.c) on DEV, a device or an image file, without LVM:
 * its progress lines and the checkers' output as they run, then "type:",
 * one "step:" line per step, "clean:" and "problem:".  For tests.
 */
#include <stdio.h>
#include <string.h>

#include "devcheck.h"
#include "tool.h"

static void say(void *data, const char *line)
{
	(void)data;
	printf("%s\n", line);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct devcheck_opts o = { .say = say };
	struct devcheck c;
	int i = 1;

	tool_init(argv[0]);
	if (argc > 1 && !strcmp(argv[1], "--zero-log")) {
		o.zero_log = 1;
		i++;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: devcheck-run [--zero-log] DEV\n");
		return 16;
	}
	devcheck_run(argv[i], &o, &c);
	printf("type: %s\n", c.type[0] ? c.type : "(none)");
	for (int k = 0; k < c.nsteps; k++)
		printf("step: %s: %s\n", c.steps[k].label, c.steps[k].result);
	printf("clean: %d\nproblem: %s\n", c.clean, c.problem[0] ? c.problem : "(none)");
	return c.clean ? 0 : 1;
}
