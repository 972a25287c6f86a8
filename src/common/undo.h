/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Putting back what an in-place write overwrote: the undo file (libsnapcow's
 * one format, snapcow_undo_*) applied to the store it was made for, after
 * the same refusals as any writer (in use, another store).  Tool-side.
 */
#ifndef SNAPRESCUE_UNDO_H
#define SNAPRESCUE_UNDO_H

/* Put back the bytes saved in the undo file @undo on @target (@force > 0:
 * even on another store's identity or a device in use; -1: never, and the
 * refusal does not offer --force).  Prints what was done ("restored N
 * ranges (B bytes) of TARGET from UNDO, synced and read back"; with
 * @dry_run "would restore") unless @quiet, and every failure.  Returns: the
 * exit status, EXIT_OK or @fail_code (also exits @fail_code). */
int undo_apply(const char *undo, const char *target, int force, int dry_run, int quiet,
	       int fail_code);

struct stat;

/* Where an undo file may go: undo_check_place() in target.h. */

/* "<@lead><tool> --undo-apply 'UNDO' 'STORE'" on stdout, absolute paths
 * shell-quoted. */
void undo_print_command(const char *lead, const char *undo, const char *store);

#endif
