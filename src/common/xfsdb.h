/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * XFS through its own debugger: xfs_db -r (read-only) run on an image with
 * a list of commands on its stdin, its output read line by line, and the
 * geometry of the superblock (xfs_db's "sb 0" and "print") that the XFS
 * modules need to place the AG headers and the log.  Used by fsck_xfs.c
 * and rmap_xfs.c.  Tool-side only; nothing here writes an image.
 */
#ifndef SNAPRESCUE_XFSDB_H
#define SNAPRESCUE_XFSDB_H

#include <stddef.h>
#include <stdint.h>

#include "fsckrun.h"

/* Run "xfs_db -r IMAGE" with @cmds (newline-separated) on its stdin; each
 * line of its stdout goes to @fn, its stderr into *@errors (malloc'd; may
 * be NULL: dropped).  Returns: its exit status, or -ENOENT with @why when
 * xfs_db is not found, or another -errno. */
int xfsdb_run(const char *image, const char *cmds, checker_line_fn fn, void *data,
	      char **errors, char *why, size_t len);

/* "key = value" of an xfs_db print line: @line is split in place.
 * Returns: 1 and *@key, *@value, or 0 for another line. */
int xfsdb_field(char *line, char **key, char **value);

/* The superblock as xfs_db prints it. */
struct xfs_geometry {
	unsigned int blocksize, sectsize, inodesize;
	uint64_t dblocks, agblocks, agcount, agblklog;
	uint64_t logstart, logblocks; /* fs block number (0: an external log), blocks */
	uint64_t icount, ifree, fdblocks;
	uint64_t inprogress;
	uint64_t rootino, rbmino, rsumino, uquotino, gquotino, pquotino;
	char uuid[40];
	char label[64];
	char versions[512]; /* xfs_db's "version": "V5,NLINK,DIRV2,..." */
	int crc;            /* superblock checksum: -1 none (a V4 filesystem), 0 bad, 1 ok */
	int have_magic;     /* magicnum = 0x58465342 */
};

/* Read the primary superblock of @image (xfs_db -r: "sb 0", "print",
 * "version").  Returns: 0, -1 with @why when it cannot be read, -2 with
 * @why when xfs_db cannot be run (not found: @why names its package). */
int xfsdb_geometry(const char *image, struct xfs_geometry *g, char *why, size_t len);

/* The log's state as xfs_logprint -t sees it in @image (a device or an
 * image file; an internal log).  Returns: 0 clean, 1 dirty (and *@tail,
 * *@head), -1 unknown with @why (it finds no head and tail), -2 when
 * xfs_logprint is not found (@why names its package). */
int xfs_log_state(const char *image, uint64_t *tail, uint64_t *head, char *why, size_t len);

/* Byte offset in the device of filesystem block @fsb (AG number in the
 * bits above agblklog).  Returns: it. */
uint64_t xfs_fsb_to_byte(const struct xfs_geometry *g, uint64_t fsb);

/* The linear block number (byte / blocksize) of AG @agno's block @agbno. */
uint64_t xfs_agb_to_block(const struct xfs_geometry *g, uint64_t agno, uint64_t agbno);

#endif
