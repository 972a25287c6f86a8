/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The main() of every fuzz target built without libFuzzer (make check):
 * LLVMFuzzerInitialize() (fuzz.h), then feed each file named on the
 * command line (a saved corpus) to LLVMFuzzerTestOneInput(), so that the
 * corpus replays under any compiler and the sanitizers.  Included at the
 * end of a target.
 */
#ifndef SNAPRESCUE_FUZZ_REPLAY_H
#define SNAPRESCUE_FUZZ_REPLAY_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SNAPCOW_LIBFUZZER
int main(int argc, char **argv)
{
	int i, n = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct stat st;
		unsigned char *p;
		FILE *f = fopen(argv[i], "rb");

		if (!f || fstat(fileno(f), &st) < 0) {
			fprintf(stderr, "cannot open %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		p = malloc(st.st_size ? (size_t)st.st_size : 1);
		if (!p || fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(p, (size_t)st.st_size);
		free(p);
		n++;
	}
	printf("replayed %d inputs\n", n);
	return 0;
}
#endif

#endif
