/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ioread: run a command and print, on stderr, the bytes it read and wrote
 * through system calls as the kernel counted them (/proc/PID/io rchar and
 * wchar, read once the command has exited and before it is reaped):
 *
 *   ioread [-o FILE] CMD [ARGS...]
 *     prints "ioread: rchar N wchar N" (to FILE with -o); exits with CMD's
 *     status.
 *
 * For the tests and the bench: what snap_delta reads, against the whole
 * device a block-by-block compare reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long long rchar = 0, wchar = 0, v;
	const char *out = NULL;
	char path[64], key[32];
	siginfo_t si;
	FILE *f;
	pid_t p;
	int first = 1;

	if (argc > 2 && !strcmp(argv[1], "-o")) {
		out = argv[2];
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: ioread [-o FILE] CMD [ARGS...]\n");
		return 2;
	}
	p = fork();
	if (p < 0)
		return 2;
	if (p == 0) {
		execvp(argv[first], argv + first);
		fprintf(stderr, "ioread: cannot run %s: %s\n", argv[first], strerror(errno));
		_exit(127);
	}
	/* a zombie's counters are still there until it is reaped */
	if (waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT) < 0)
		return 2;
	snprintf(path, sizeof(path), "/proc/%d/io", (int)p);
	f = fopen(path, "r");
	while (f && fscanf(f, "%31[^:]: %llu\n", key, &v) == 2) {
		if (!strcmp(key, "rchar"))
			rchar = v;
		else if (!strcmp(key, "wchar"))
			wchar = v;
	}
	if (f)
		fclose(f);
	waitpid(p, NULL, 0);
	f = out ? fopen(out, "w") : stderr;
	if (!f)
		return 2;
	fprintf(f, "ioread: rchar %llu wchar %llu\n", rchar, wchar);
	if (out)
		fclose(f);
	return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}
