/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tool's new output: a file it creates, or stdout.  The rules every
 * writer of a new file follows (snap_extract's image, snap_delta's
 * stream): never over one of its inputs (by device and inode, through the
 * pieces of a volume), never to a terminal, an existing file replaced only
 * with --force and only once the new one is complete (a temporary file
 * next to it, renamed over it), synced before success, and removed on
 * failure or on SIGINT, SIGTERM, SIGHUP (a signal ignored at the start,
 * e.g. SIGHUP under nohup, stays ignored).  Tool-side only.
 */
#ifndef SNAPRESCUE_OUTFILE_H
#define SNAPRESCUE_OUTFILE_H

#include "snapcow.h"

struct outfile {
	int fd;
	int stream;       /* stdout */
	const char *name; /* the path, or "stdout" */
	char *final;      /* --force: the path the temporary file becomes */
};

/* The inputs an output may not be: byte sources and their names for
 * messages ("store", "origin"), up to a NULL dev. */
struct outfile_input {
	const struct snapcow_dev *dev;
	const char *name;
};

/* Open @out ("-": stdout) for @what ("the snapshot", used in the message
 * that refuses a terminal); @inputs ends with a NULL dev.  Every refusal
 * and failure is said.  Returns: 0, -ENOTTY, -EEXIST or -errno. */
int outfile_open(struct outfile *f, const char *out, int force, const char *what,
		 const struct outfile_input *inputs);

/* The output is complete: fsync and close a file (and rename it into
 * place), close stdout.  Returns: 0 or -errno (said). */
int outfile_finish(struct outfile *f);

/* The output is not complete: close it and remove the file created. */
void outfile_abort(struct outfile *f);

#endif
