/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The delta stream (snap_delta writes it, snap_apply reads it): one
 * definition of its records, with the writer and the reader built on it.
 * The format is documented for other implementations in snapcow-delta(5);
 * the summary:
 *
 *   header   1024 bytes: magic "SNAPDELT", version 1, kind, flags, the
 *            source's size, chunk size, table size and checksum, LVM/dm
 *            UUIDs, (undo streams) the target's identity; XXH3-64 of the
 *            rest of it in its last 8 bytes
 *   records  each a 48-byte record header (tag, flags, offset, length,
 *            stored bytes, XXH3-64 of the data, XXH3-64 of the record
 *            header seeded with its sequence number) and the stored bytes:
 *              RUN   data for [offset, offset + length) of the volume, raw
 *                    or one zstd frame; runs in increasing offset order,
 *                    never overlapping, at most DSTREAM_RUN_MAX bytes
 *              ZERO  [offset, offset + length) is zeros (no data): a full
 *                    stream's runs and zero runs cover the whole volume
 *              SAVE  (undo streams) the bytes a batch of the apply will
 *                    overwrite are all saved above
 *              DONE  (undo streams) that batch reached the disk
 *              END   counts and the XXH3-64 of every byte before it
 *
 * Checksums are libxxhash's XXH3-64, compression libzstd's.  All integers
 * little-endian.  Tool-side only.
 */
#ifndef SNAPRESCUE_DELTA_STREAM_H
#define SNAPRESCUE_DELTA_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "snapcow.h"

#define DSTREAM_MAGIC "SNAPDELT"
#define DSTREAM_VERSION 1U
#define DSTREAM_HEADER_BYTES 1024U
#define DSTREAM_RECORD_BYTES 48U
#define DSTREAM_PROGRESS_BYTES 64U
#define DSTREAM_END_BYTES 32U
#define DSTREAM_RUN_MAX (8U << 20)   /* the longest run (or zero run) a reader accepts */
#define DSTREAM_RUN_WRITE (4U << 20) /* the longest run snaprescue writes */
#define DSTREAM_PIPE_BYTES (1 << 20) /* the pipe buffer a writer or reader asks for */

/* What the runs hold. */
enum dstream_kind {
	DSTREAM_CHANGES = 1,  /* the origin's data now, for every chunk in the table */
	DSTREAM_SNAPSHOT = 2, /* the snapshot's data for those chunks (rolls back) */
	DSTREAM_FULL = 3,     /* every non-zero chunk of a volume or device */
	DSTREAM_UNDO = 4,     /* a target's bytes before snap_apply overwrote them */
};

enum dstream_flags {
	DSTREAM_F_INCOMPLETE = 1 << 0, /* from an invalid snapshot (--ignore-invalid) */
};

#define DSTREAM_TAG_RUN 0x204e5552U  /* "RUN " */
#define DSTREAM_TAG_ZERO 0x4f52455aU /* "ZERO" */
#define DSTREAM_TAG_SAVE 0x45564153U /* "SAVE" */
#define DSTREAM_TAG_DONE 0x454e4f44U /* "DONE" */
#define DSTREAM_TAG_END 0x20444e45U  /* "END " */
#define DSTREAM_RUN_ZSTD 1U          /* record flag: the run's data is a zstd frame */

struct dstream_header {
	uint32_t version;
	uint32_t kind;             /* enum dstream_kind */
	uint32_t flags;            /* enum dstream_flags */
	uint32_t chunk_bytes;      /* the granularity the runs were chosen at */
	uint64_t size;             /* the volume's size: the target must have it */
	uint64_t table_exceptions; /* chunks in the snapshot's table (0: none) */
	uint64_t table_xxh;        /* XXH3-64 of the table (old, new chunk pairs, sorted) */
	uint64_t created;          /* seconds since the epoch */
	uint64_t data_bytes;       /* run bytes to come, 0 if not known in advance */
	uint64_t undoes;           /* undo: the id of the stream whose apply it undoes */
	struct snapcow_identity target; /* undo: the target (kind 0 otherwise) */
	char program[24];          /* "snap_delta 0.1" */
	char source[129];          /* "vg/snap", or the store or device path */
	char origin_uuid[129];     /* dm UUID ("LVM-<vg><lv>") of the origin, "" if unknown */
	char snapshot_uuid[129];   /* dm UUID of the snapshot LV, "" if unknown */
	uint64_t id;               /* set on reading and writing: XXH3-64 of the header
				      without its creation time and program (two runs of
				      snap_delta over the same table have the same id) */
};

/* The body of SAVE and DONE records: how far an apply got. */
struct dstream_progress {
	uint64_t next_run;  /* runs of the applied stream before this point */
	uint64_t fwd_pos;   /* byte offset in the applied stream after them */
	uint64_t chain;     /* dstream_chain() over those runs */
	uint64_t written;   /* bytes written to the target so far */
	uint64_t skipped;   /* bytes found equal on the target so far */
	uint64_t last_off;  /* the last run before this point: offset, */
	uint64_t last_len;  /* length */
	uint64_t last_xxh;  /* and data checksum */
};

struct dstream_end {
	uint64_t runs;       /* RUN and ZERO records */
	uint64_t data_bytes; /* bytes of the RUN records' data */
	uint64_t records;   /* records before the END record */
	uint64_t stream_xxh; /* XXH3-64 of every byte before the END record */
};

/* One record as read. */
struct dstream_record {
	uint32_t tag;
	uint32_t flags;
	uint64_t offset, length; /* RUN, ZERO: the volume's bytes it holds */
	uint64_t xxh;            /* RUN: checksum of the data (ZERO: 0) */
	uint64_t index;          /* sequence number (0: the first record) */
	uint64_t run;            /* RUN, ZERO: its number among them (0: the first) */
	uint64_t pos;            /* byte offset of the record in the stream */
	uint64_t end_pos;        /* just after it */
	struct dstream_progress progress; /* SAVE, DONE */
	struct dstream_end end;           /* END */
};

/* Where a stream stands after a record: what a writer needs to go on
 * appending to it (resume) as if it had never stopped. */
struct dstream_state {
	uint64_t pos;
	uint64_t records;
	uint64_t runs;       /* RUN and ZERO records */
	uint64_t data_bytes; /* of the RUN records */
	uint64_t prev_end;   /* end of the last run (the next must start at or after it) */
	void *hash;          /* XXH3 state over bytes 0..pos */
};

/* Errors of the stream (returned negated), each with a stable name. */
enum dstream_error {
	DSTREAM_E_IO = 1,     /* "read-error" */
	DSTREAM_E_MAGIC,      /* "bad-magic": not a delta stream */
	DSTREAM_E_VERSION,    /* "bad-version" */
	DSTREAM_E_HEADER,     /* "bad-header": header checksum or a field */
	DSTREAM_E_RECORD,     /* "bad-record": a record header's checksum, tag or sizes */
	DSTREAM_E_DATA,       /* "bad-run-checksum": a run's data differs from its checksum */
	DSTREAM_E_COMPRESSED, /* "bad-compressed-data" */
	DSTREAM_E_ORDER,      /* "bad-run-order": overlapping, out of order or past the end
				 (of a full stream: a gap) */
	DSTREAM_E_TRUNCATED,  /* "truncated": the stream ends inside a record */
	DSTREAM_E_NO_END,     /* "no-end-record": ends between records, before END */
	DSTREAM_E_END,        /* "bad-end-record": counts or the stream checksum differ */
	DSTREAM_E_TRAILING,   /* "trailing-data": bytes after the END record */
	DSTREAM_E_NOMEM,      /* "out-of-memory" */
};

/* Returns: the stable name of @err (a dstream_error, positive or negated). */
const char *dstream_error_name(int err);
/* Returns: "changes", "snapshot", "full", "undo" or "unknown". */
const char *dstream_kind_name(uint32_t kind);

/* XXH3-64 of @len bytes (the checksum of a run's data). */
uint64_t dstream_xxh(const void *data, size_t len);
/* The chain of applied runs: fold run (@off, @len, @xxh) into @chain
 * (start with 0). */
uint64_t dstream_chain(uint64_t chain, uint64_t off, uint64_t len, uint64_t xxh);

/* The table's checksum for the header: XXH3-64 of the (old chunk, new
 * chunk) pairs of @m as little-endian u64, in increasing old chunk order
 * (of two records for one old chunk, the later one), into *@out.
 * Returns: 0 or -ENOMEM. */
int dstream_table_xxh(const struct snapcow_map *m, uint64_t *out);

/* ---- Writing ----------------------------------------------------------- */

struct dstream_writer;

/* Write header @h to @fd (a pipe is fine: only write() is used) and start
 * a stream; @zstd_level 0 stores runs raw, else each run is compressed at
 * that level and kept compressed when smaller.  @h->id is set.  Returns: 0
 * and *@out, or -errno / -ENOMEM. */
int dstream_writer_new(int fd, struct dstream_header *h, int zstd_level,
		       struct dstream_writer **out);
/* Go on appending to a stream whose bytes 0..@st->pos are on @fd (its
 * file offset there).  Returns: 0 and *@out, or -ENOMEM. */
int dstream_writer_continue(int fd, const struct dstream_state *st, int zstd_level,
			    struct dstream_writer **out);
/* Append a RUN of @len (1..DSTREAM_RUN_MAX) bytes at @offset (at or after
 * the end of the last run).  *@xxh (may be NULL): its checksum.  Returns: 0,
 * -EINVAL (order, length) or -errno. */
int dstream_writer_run(struct dstream_writer *w, uint64_t offset, const void *data, size_t len,
		       uint64_t *xxh);
/* Append a ZERO record for @len (1..DSTREAM_RUN_MAX) bytes at @offset.
 * Returns: 0, -EINVAL or -errno. */
int dstream_writer_zero(struct dstream_writer *w, uint64_t offset, uint64_t len);
/* Append a SAVE or DONE record.  Returns: 0 or -errno. */
int dstream_writer_progress(struct dstream_writer *w, uint32_t tag,
			    const struct dstream_progress *p);
/* Append the END record.  Returns: 0 or -errno. */
int dstream_writer_end(struct dstream_writer *w);
/* Returns: bytes written to the stream so far (header included). */
uint64_t dstream_writer_pos(const struct dstream_writer *w);
/* Returns: runs written so far, and in *@bytes their data bytes. */
uint64_t dstream_writer_runs(const struct dstream_writer *w, uint64_t *bytes);
void dstream_writer_free(struct dstream_writer *w);

/* ---- Reading ----------------------------------------------------------- */

struct dstream_reader;

/* Read and check the header of the stream on @fd (read() only: a pipe is
 * fine); @name is used in messages.  Returns: 0 and *@out, or a negated
 * dstream_error with *@out set all the same (for dstream_reader_error()),
 * or -DSTREAM_E_NOMEM with *@out NULL. */
int dstream_reader_new(int fd, const char *name, struct dstream_reader **out);
const struct dstream_header *dstream_reader_header(const struct dstream_reader *r);
/* The next record, every checksum checked; a RUN's data (decompressed) in
 * *@data until the next call.  Returns: 0 and *@rec; 1 after the END
 * record, itself checked (counts, stream checksum) and followed by no
 * byte; or a negated dstream_error. */
int dstream_reader_next(struct dstream_reader *r, struct dstream_record *rec,
			const void **data);
/* What went wrong last, one line: "STREAM: byte offset N: run 7 (bytes
 * A..B): ... (bad-run-checksum)". */
const char *dstream_reader_error(const struct dstream_reader *r);
/* The stream's state after the last record read (its hash is the
 * reader's, valid until the next call); *@st for dstream_writer_continue(). */
void dstream_reader_state(const struct dstream_reader *r, struct dstream_state *st);
/* Copy @src into @dst with a hash of its own.  Returns: 0 or -ENOMEM. */
int dstream_state_copy(struct dstream_state *dst, const struct dstream_state *src);
void dstream_state_free(struct dstream_state *st);
/* Returns: runs and their data bytes read so far, records read so far. */
uint64_t dstream_reader_runs(const struct dstream_reader *r, uint64_t *bytes);
void dstream_reader_free(struct dstream_reader *r);

#endif
