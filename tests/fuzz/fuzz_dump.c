/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: any bytes as a snap_dump XML or JSON dump, the input of
 * snap_restore (src/common/dump_read.c, dump_check.c): open it (from a
 * memfd, as a regular file), run the check against the kernel's rules.
 * A dump the check passes is a round trip: written again through the
 * dump writers (dump_write.c) as XML and as JSON, each of those must
 * pass the check too and describe the same store (a disagreement
 * abort()s).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump.h"
#include "fuzz.h"

/* Write the dump @r describes as @format into a new memfd. */
static int rewrite(struct dump_reader *r, enum dump_format format)
{
	struct dump_writer *w;
	int fd = fuzz_memfd(NULL, 0), rc;
	FILE *f;

	if (fd < 0)
		return -1;
	f = fdopen(dup(fd), "w");
	if (!f || dump_writer_new(f, format, &w) < 0)
		abort();
	rc = dump_reader_run(r, dump_writer_visitor(w), w);
	dump_writer_free(w);
	FUZZ_CHECK(fclose(f) == 0 && rc == 0, "a checked dump could not be written again (%d)",
		   rc);
	return fd;
}

static void round_trip(struct dump_reader *r, const struct dump_summary *want,
		       enum dump_format format)
{
	struct dump_reader *again;
	struct dump_summary got;
	char path[64];
	int fd = rewrite(r, format), rc;

	if (fd < 0)
		return;
	FUZZ_CHECK(dump_reader_open(fuzz_fd_path(fd, path, sizeof(path)), &again) == 0,
		   "the %s written from a checked dump cannot be opened",
		   format == DUMP_XML ? "XML" : "JSON");
	rc = dump_check(again, 0, &got);
	FUZZ_CHECK(rc == 0, "the %s written from a checked dump fails the check (%d)",
		   format == DUMP_XML ? "XML" : "JSON", rc);
	FUZZ_CHECK(got.valid == want->valid && got.exceptions == want->exceptions &&
		   got.areas == want->areas && got.last_count == want->last_count &&
		   !memcmp(&got.geo, &want->geo, sizeof(got.geo)),
		   "the %s written from a checked dump describes another store",
		   format == DUMP_XML ? "XML" : "JSON");
	dump_reader_free(again);
	fuzz_memfd_close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dump_reader *r;
	struct dump_summary sum;
	char path[64];
	int fd = fuzz_memfd(data, size);

	if (fd < 0)
		return 0;
	if (dump_reader_open(fuzz_fd_path(fd, path, sizeof(path)), &r) == 0) {
		memset(&sum, 0, sizeof(sum));
		if (dump_check(r, 0, &sum) == 0) {
			round_trip(r, &sum, DUMP_XML);
			round_trip(r, &sum, DUMP_JSON);
		}
		dump_reader_free(r);
	}
	fuzz_memfd_close(fd);
	return 0;
}

#include "replay.h"
