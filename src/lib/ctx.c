/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context (where diagnostics go), the version and the one
 * description of every error code. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapcow-internal.h"

struct snapcow_ctx {
	int refcount;
	snapcow_log_fn log_fn;
	void *log_data;
	int log_priority;
	unsigned int threads; /* 0: the online CPUs */
};

SNAPCOW_EXPORT int snapcow_ctx_new(struct snapcow_ctx **out)
{
	struct snapcow_ctx *ctx;

	if (!out)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->refcount = 1;
	ctx->log_priority = LOG_WARNING;
	*out = ctx;
	return 0;
}

SNAPCOW_EXPORT struct snapcow_ctx *snapcow_ctx_ref(struct snapcow_ctx *ctx)
{
	if (ctx)
		__atomic_add_fetch(&ctx->refcount, 1, __ATOMIC_RELAXED);
	return ctx;
}

SNAPCOW_EXPORT struct snapcow_ctx *snapcow_ctx_unref(struct snapcow_ctx *ctx)
{
	if (ctx && __atomic_sub_fetch(&ctx->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		free(ctx);
	return NULL;
}

SNAPCOW_EXPORT void snapcow_ctx_set_log_fn(struct snapcow_ctx *ctx, snapcow_log_fn fn, void *data)
{
	if (!ctx)
		return;
	ctx->log_fn = fn;
	ctx->log_data = data;
}

SNAPCOW_EXPORT void snapcow_ctx_set_log_priority(struct snapcow_ctx *ctx, int priority)
{
	if (ctx)
		ctx->log_priority = priority;
}

SNAPCOW_EXPORT int snapcow_ctx_get_log_priority(const struct snapcow_ctx *ctx)
{
	return ctx ? ctx->log_priority : -1;
}

SNAPCOW_EXPORT void snapcow_ctx_set_threads(struct snapcow_ctx *ctx, unsigned int n)
{
	if (ctx)
		ctx->threads = n;
}

unsigned int snapcow_ctx_threads(const struct snapcow_ctx *ctx)
{
	long n;

	if (ctx && ctx->threads)
		return ctx->threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned int)n;
}

SNAPCOW_EXPORT unsigned int snapcow_ctx_get_threads(const struct snapcow_ctx *ctx)
{
	return snapcow_ctx_threads(ctx);
}

void snapcow_log(const struct snapcow_ctx *ctx, int priority, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!ctx || !ctx->log_fn || priority > ctx->log_priority)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->log_fn(ctx->log_data, priority, msg);
}

SNAPCOW_EXPORT const char *snapcow_version(void)
{
	return SNAPCOW_VERSION_STRING;
}

SNAPCOW_EXPORT const char *snapcow_strerror(int err)
{
	switch ((enum snapcow_error)err) {
	case SNAPCOW_ERR_MAGIC:
		return "not a dm-snapshot exception store (bad magic)";
	case SNAPCOW_ERR_NEW:
		return "header is zero: the kernel would initialise it as a new, empty store";
	case SNAPCOW_ERR_VERSION:
		return "unsupported store version";
	case SNAPCOW_ERR_CHUNK_SIZE:
		return "invalid chunk size";
	case SNAPCOW_ERR_TOO_SMALL:
		return "store too small";
	case SNAPCOW_ERR_TABLE:
		return "exception table corrupt";
	case SNAPCOW_ERR_RECORD:
		return "invalid exception record";
	case SNAPCOW_ERR_UNDO_FORMAT:
		return "not a snaprescue undo file (bad magic or version)";
	case SNAPCOW_ERR_UNDO_CHECKSUM:
		return "undo file is damaged (checksum mismatch)";
	case SNAPCOW_ERR_UNDO_IDENTITY:
		return "undo file was made for another store";
	case SNAPCOW_ERR_UNDO_CONTENT:
		return "store does not hold what the undo file expects";
	case SNAPCOW_ERR_VERIFY:
		return "read back after writing differs";
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}
