/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: any bytes as a delta stream (src/common/delta_stream.c):
 * read every record until the end or an error, from a memfd as snap_apply
 * reads a file or a pipe.
 *
 * With libFuzzer: clang -fsanitize=fuzzer -DSNAPCOW_LIBFUZZER ...
 * Without (make check): a main() that replays every file on its command
 * line (tests/fuzz/corpus/fuzz_delta), under any compiler and the
 * sanitizers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delta_stream.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dstream_reader *r;
	struct dstream_record rec;
	struct dstream_state st = { 0 }, copy = { 0 };
	const void *run;
	volatile unsigned char sink = 0;
	int fd = fuzz_memfd(data, size), e;

	if (fd < 0)
		return 0;
	e = dstream_reader_new(fd, "fuzz", &r);
	while (e == 0 && (e = dstream_reader_next(r, &rec, &run)) == 0) {
		if (rec.tag == DSTREAM_TAG_RUN)
			sink ^= ((const unsigned char *)run)[rec.length - 1];
		dstream_reader_state(r, &st);
		if (dstream_state_copy(&copy, &st) < 0)
			break;
	}
	(void)sink;
	if (r)
		(void)dstream_reader_error(r);
	dstream_state_free(&copy);
	dstream_reader_free(r);
	fuzz_memfd_close(fd);
	return 0;
}

#include "replay.h"
