/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program that uses libsnapcow through its installed header and
 * pkg-config file only: open a store, scan its table, print the figures.
 * Built against an installed library, shared and static, by
 * tests/ts/build/install (make install) and debian/tests/libsnapcow-dev
 * (the libsnapcow-dev package).
 */
#include <stdio.h>
#include <snapcow.h>
int main(int argc, char **argv)
{
	struct snapcow_ctx *ctx;
	struct snapcow_store *s;
	struct snapcow_stats st;
	int r;

	if (argc != 2 || snapcow_ctx_new(&ctx) < 0)
		return 2;
	r = snapcow_store_open(ctx, argv[1], 0, &s);
	if (r < 0) {
		printf("open: %s\n", snapcow_strerror(r));
		return 1;
	}
	r = snapcow_store_scan(s, &st);
	printf("libsnapcow %s: %llu exceptions, %llu areas\n", snapcow_version(),
	       (unsigned long long)st.exceptions, (unsigned long long)st.areas);
	snapcow_store_free(s);
	snapcow_ctx_unref(ctx);
	return r < 0;
}
