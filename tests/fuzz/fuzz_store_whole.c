/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: any bytes as a store.  Opens it (from a memfd), scans it,
 * checks it, builds the map and reads a few ranges of the view.
 *
 * With libFuzzer: clang -fsanitize=fuzzer -DSNAPCOW_LIBFUZZER ...
 * Without (make check): a main() that replays every file on its command
 * line, so the saved corpus (tests/fuzz/corpus/fuzz_store) runs under any
 * compiler and the sanitizers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "snapcow.h"

static void ignore_problem(void *d, const struct snapcow_problem *p)
{
	(void)d;
	(void)p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapcow_check_options opt = { .origin_bytes = 1 << 20 };
	struct snapcow_check_result res;
	struct snapcow_uncommitted u;
	struct snapcow_stats st;
	struct snapcow_store *s;
	struct snapcow_map *m;
	struct snapcow_view *v;
	struct snapcow_extent ext;
	unsigned char buf[9000];
	int fd = fuzz_memfd(data, size);

	if (fd < 0)
		return 0;
	if (snapcow_store_open_fd(tool_ctx(), fd, "fuzz", 0, &s) < 0)
		goto out;
	if (snapcow_store_scan(s, &st) == 0)
		snapcow_store_scan_uncommitted(s, st.next_free, NULL, NULL, &u);
	snapcow_store_check(s, &opt, ignore_problem, NULL, &res);
	if (snapcow_map_new(s, &m) == 0 && snapcow_view_new(s, m, -1, 1 << 20, &v) == 0) {
		uint64_t cb = snapcow_store_chunk_bytes(s), off;

		for (off = 0; off < (1 << 20); off += 7 * cb + 123) {
			snapcow_view_pread(v, buf, sizeof(buf), off);
			snapcow_view_extent(v, off, &ext);
		}
		snapcow_view_pread(v, buf, sizeof(buf), (1 << 20) - 100);
		snapcow_view_free(v);
	}
	snapcow_store_free(s);
out:
	fuzz_memfd_close(fd);
	return 0;
}

#include "replay.h"
