/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_restore's work (tool-only): write a store's header and table from a
 * snap_dump dump, and undo that.
 *
 * The dump is read twice: the first pass checks all of it against the
 * kernel's rules (dump_check(), dump.h) and writes nothing; then the
 * target is inspected and refused when it must not be written; then every
 * byte range about to be overwritten is saved to an undo file (libsnapcow's
 * snapcow_undo_save) and synced; the second pass writes through
 * snapcow_writer_*.
 */
#ifndef SNAPRESCUE_RESTORE_H
#define SNAPRESCUE_RESTORE_H

#include <stdint.h>

struct restore_options {
	const char *input;     /* the dump ("-": standard input) */
	const char *output;    /* the store: a regular file (created if missing) or a device */
	const char *undo_file; /* NULL: OUTPUT.snap_restore-undo (regular files only) */
	uint64_t size;         /* store size in bytes; 0: the dump's store_size */
	int force;             /* overwrite a non-empty file or a block device */
	int dry_run;           /* check and print the plan, write nothing */
	int quiet;             /* errors (and the undo command) only */
};

/* Restore @o->input onto @o->output.  Every refusal and failure is
 * printed.  Returns: the exit status (EXIT_OK or EXIT_FAIL). */
int restore_run(const struct restore_options *o);

#endif
