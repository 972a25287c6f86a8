/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_rmap's report, whatever the filesystem: what lives in the chunks a
 * store holds, as files and directories (with the filesystem blocks of
 * theirs that changed), metadata by kind, free space, blocks nobody owns,
 * and with --uncommitted the data chunks past the table's end.  A
 * filesystem module (rmap_ext2.c, rmap_xfs.c, rmap_btrfs.c) fills it; the
 * output (human and JSON) is the same for all, so that a script reads
 * every filesystem alike.  Nothing here knows one filesystem from another.
 */
#ifndef SNAPRESCUE_RMAP_REPORT_H
#define SNAPRESCUE_RMAP_REPORT_H

#include <stdint.h>

#include "fsimage.h"
#include "fsview.h"

struct rmap_opts {
	uint64_t from, to;  /* only exceptions whose origin chunk is in from..to */
	int uncommitted;    /* also the data chunks past next_free (and, on a zero
			       origin, the files whose data they may hold) */
	int no_log_replay;  /* XFS: never mount a copy to replay a dirty log */
	int trust;          /* also the files and metadata with blocks in the part of
			       the view that may be newer than the snapshot (trust.h) */
};

/* A file or directory with changed blocks. */
struct rmap_owner {
	uint64_t tree;    /* btrfs: the subvolume's tree (0 elsewhere) */
	uint64_t ino;
	uint32_t mode;    /* POSIX mode bits: S_IFDIR, S_IFREG, S_IFLNK... (0: unknown) */
	uint32_t links;
	uint64_t changed; /* changed data blocks */
	uint64_t maps;    /* changed mapping blocks (extent tree, indirect, bmap btree) */
	uint64_t lost;    /* blocks of written data in chunks the table lacks (and,
			     with --trust, in chunks that may be newer than the
			     snapshot) */
	uint64_t parent;  /* for the module: the directory holding the first name found */
	char *name;       /* for the module: that name (malloc'd) */
	char *path;       /* malloc'd; set for every owner before printing */
};

/* A kind of metadata: its line in the human output and its JSON key. */
struct rmap_meta_kind {
	const char *name;
	const char *key;
};

#define RMAP_MAX_STEPS 6

struct rmap_uncommitted_run {
	uint64_t first, last; /* store chunks */
};

struct rmap_report {
	const struct fsview *fv;
	char fstype[128];
	unsigned int block_size;
	uint64_t blocks;
	/* the exceptions asked for */
	uint64_t chunks, nchanged, chunks_past_end;
	/* what owns the changed blocks */
	struct rmap_owner *owners;
	size_t nowners, cap;
	size_t *slots; /* rmap_owner_get(): owner index + 1 by (tree, inode) */
	size_t nslots;
	const struct rmap_meta_kind *kinds;
	size_t nkinds;
	uint64_t *meta; /* per kind, nkinds entries */
	uint64_t free_blocks, unowned, unreadable_inodes;
	const char *unowned_text; /* "in use per the block bitmap, but no owner found" */
	/* how the module got there (human: after "changed:", JSON: "steps") */
	struct fsview_step steps[RMAP_MAX_STEPS];
	size_t nsteps;
	/* --uncommitted */
	int want_uncommitted, want_lost;
	int lost_unknown; /* the module cannot tell which files lost data (printed as such) */
	uint64_t next_free, uncommitted_chunks;
	struct rmap_uncommitted_run *runs;
	size_t nruns, runs_cap;
	/* --trust: "untrusted" when the chunks not in the table may be newer
	 * than the snapshot (then want_lost is set too, and the module counts
	 * those blocks in each owner's "lost" and in meta_untrusted) */
	int want_trust, untrusted;
	uint64_t *meta_untrusted; /* per kind */
};

/* Start a report of @fv for @o with the module's metadata kinds (@kinds
 * stays the module's); "want_lost" is set for a zero origin with
 * --uncommitted over all chunks, and for --trust on a view whose chunks
 * not in the table may be newer than the snapshot ("untrusted"). */
void rmap_report_init(struct rmap_report *r, const struct fsview *fv,
		      const struct rmap_opts *o, const struct rmap_meta_kind *kinds,
		      size_t nkinds);
void rmap_report_free(struct rmap_report *r);

/* A copy of @o in the owner list.  Returns: the entry (valid until the
 * next call). */
struct rmap_owner *rmap_add_owner(struct rmap_report *r, const struct rmap_owner *o);

/* The owner (@tree, @ino), looked up in a hash table (owners added with
 * rmap_add_owner() are not in it).  Returns: it, or NULL. */
struct rmap_owner *rmap_owner_find(const struct rmap_report *r, uint64_t tree, uint64_t ino);
/* The same, made when new.  Returns: the entry (valid until the next
 * call). */
struct rmap_owner *rmap_owner_get(struct rmap_report *r, uint64_t tree, uint64_t ino);

/* Every exception of the view whose origin chunk is in @o->from..@o->to,
 * as the filesystem blocks (of @bs bytes) it covers, [first, last] clipped
 * to the @total blocks of the filesystem, to @fn; counts r->chunks and
 * r->chunks_past_end (those not passed to @fn). */
void rmap_each_exception(struct rmap_report *r, const struct rmap_opts *o, uint64_t bs,
			 uint64_t total, void (*fn)(void *data, uint64_t first, uint64_t last),
			 void *data);

void rmap_add_step(struct rmap_report *r, const char *label, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

/* The whole view copied into a new temporary sparse file @im for the
 * filesystem's own tools (fsimage.h), and the "copy" step said; the tool
 * ends (exit 1) if it cannot be made. */
void rmap_copy_view(struct rmap_report *r, struct fsimage *im);

/* The end of a module's mapping: with --uncommitted the data chunks past
 * next_free, then the owners sorted by path, the report printed in
 * @r->fv->format, and freed.  Returns: EXIT_OK. */
int rmap_report_finish(struct rmap_report *r, const struct rmap_opts *o);

/* realloc() or end the tool (exit 1). */
void *rmap_xrealloc(void *p, size_t n);

#endif
