/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Applying an undo file: the --undo-apply of every tool that writes a
 * store in place (see undo.h). */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"
#include "tool.h"
#include "undo.h"

int undo_apply(const char *undo, const char *target, int force, int dry_run, int quiet,
	       int fail_code)
{
	unsigned int flags = (force > 0 ? SNAPCOW_UNDO_ANY_IDENTITY : 0) |
			     (dry_run ? SNAPCOW_UNDO_DRY_RUN : 0);
	struct snapcow_identity id;
	struct snapcow_undo *u;
	struct stat st;
	int fd, r;

	r = snapcow_undo_open(tool_ctx(), undo, &u);
	if (r < 0)
		errx(fail_code, "cannot use undo file %s: %s", undo, snapcow_strerror(r));
	fd = store_open_rw(target, dry_run, force, fail_code, &st);
	if (S_ISBLK(st.st_mode))
		store_check_users(target, &st, force, fail_code);
	r = store_identity(fd, &id);
	if (r < 0)
		errx(fail_code, "%s: cannot identify the store: %s", target, strerror(-r));
	r = snapcow_undo_apply(u, fd, &id, flags);
	close(fd);
	if (r < 0)
		warnx("%s: not restored: %s%s", target, snapcow_strerror(r),
		      r == SNAPCOW_ERR_UNDO_IDENTITY ?
			      " (use --force only if you are sure it is the same store)" : "");
	else if (r == 1)
		printf("%s already holds the bytes saved in %s: nothing to do\n", target, undo);
	else if (dry_run || !quiet)
		printf("%s %" PRIu32 " range%s (%" PRIu64 " bytes) of %s from %s%s\n",
		       dry_run ? "would restore" : "restored", snapcow_undo_ranges(u),
		       snapcow_undo_ranges(u) == 1 ? "" : "s", snapcow_undo_bytes(u), target, undo,
		       dry_run ? "" : ", synced and read back");
	snapcow_undo_free(u);
	return r < 0 ? fail_code : EXIT_OK;
}

void undo_print_command(const char *lead, const char *undo, const char *store)
{
	char *abs_undo = realpath(undo, NULL), *abs_store = realpath(store, NULL);

	printf("%s%s --undo-apply ", lead, program_name);
	print_shell_quoted(stdout, abs_undo ? abs_undo : undo);
	putchar(' ');
	print_shell_quoted(stdout, abs_store ? abs_store : store);
	putchar('\n');
	free(abs_undo);
	free(abs_store);
}
