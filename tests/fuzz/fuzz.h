/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every fuzz target shares (included first; replay.h last):
 *  - LLVMFuzzerInitialize(): the tools' library context (tool_ctx()) with
 *    one thread (a walk's read-ahead threads would be made and joined for
 *    every input) and, under libFuzzer, stderr sent to /dev/null through a
 *    buffered stream, so that the messages the modules print for every
 *    bad input cost no write(); FUZZ_VERBOSE=1 keeps them.  Sanitizer
 *    reports and fuzz_fail() write to descriptor 2 and are always seen.
 *    replay.h's main() calls it too.
 *  - fuzz_memfd(): the input as a file (memfd), the way the tools read one;
 *    fuzz_fd_path(): a path to it for the modules that open by name.
 *  - FUZZ_CHECK(): a differential check; a disagreement prints what
 *    disagrees and abort()s, which libFuzzer reports as a crash.
 */
#ifndef SNAPRESCUE_FUZZ_H
#define SNAPRESCUE_FUZZ_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "snapcow.h"
#include "tool.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	tool_init(argv && *argv ? (*argv)[0] : "fuzz");
	snapcow_ctx_set_threads(tool_ctx(), 1);
#ifdef SNAPCOW_LIBFUZZER
	if (!getenv("FUZZ_VERBOSE")) {
		FILE *null = fopen("/dev/null", "w");

		if (null) {
			setvbuf(null, NULL, _IOFBF, 1 << 16);
			stderr = null;
		}
	}
#endif
	return 0;
}

/* A memfd holding @data, its offset at 0; -1 if one cannot be made.  Give
 * it back with fuzz_memfd_close(): the descriptors are kept and emptied
 * for the next input (a memfd_create() and a close() for every input were
 * a third of the store target's time in the kernel). */
#define FUZZ_MEMFDS 8
static int fuzz_memfd_pool[FUZZ_MEMFDS], fuzz_memfd_busy[FUZZ_MEMFDS];

static inline int fuzz_memfd(const uint8_t *data, size_t size)
{
	int i, fd;

	for (i = 0; i < FUZZ_MEMFDS && fuzz_memfd_busy[i]; i++)
		;
	if (i == FUZZ_MEMFDS)
		return -1;
	if (!fuzz_memfd_pool[i]) {
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd < 0)
			return -1;
		fuzz_memfd_pool[i] = fd + 1;
	}
	fd = fuzz_memfd_pool[i] - 1;
	if (size && pwrite(fd, data, size, 0) != (ssize_t)size)
		return -1;
	fuzz_memfd_busy[i] = 1;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Give back a descriptor of fuzz_memfd(), emptied. */
static inline void fuzz_memfd_close(int fd)
{
	int i;

	for (i = 0; i < FUZZ_MEMFDS; i++)
		if (fuzz_memfd_busy[i] && fuzz_memfd_pool[i] == fd + 1) {
			if (ftruncate(fd, 0) < 0)
				abort();
			fuzz_memfd_busy[i] = 0;
		}
}

/* "/proc/self/fd/N": a path for the modules that open a file by name. */
static inline const char *fuzz_fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

static __attribute__((unused)) void fuzz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

static __attribute__((unused)) void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	dprintf(2, "%s:%d: differential check failed: ", file, line);
	va_start(ap, fmt);
	vdprintf(2, fmt, ap);
	va_end(ap);
	dprintf(2, "\n");
	abort();
}

#define FUZZ_CHECK(cond, ...)                                                   \
	do {                                                                    \
		if (!(cond))                                                    \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);             \
	} while (0)

#endif
