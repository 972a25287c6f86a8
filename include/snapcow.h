/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsnapcow: read, check and write device-mapper snapshot persistent
 * exception stores (the COW device of an LVM snapshot).
 *
 * Conventions:
 *  - Functions that can fail return 0 (or a documented positive value) on
 *    success and a negative errno, or one of the SNAPCOW_ERR_* codes below,
 *    on failure.  Out-parameters are set only on success.
 *  - The library never prints and never exits.  Diagnostics (what is wrong,
 *    in which area, record and byte offset) go to the log function installed
 *    with snapcow_set_log_fn().
 *  - Iterators' _next() return 0 with an item, 1 at the end, <0 on error.
 *  - Chunk numbers are in units of the store's chunk size; sizes in bytes
 *    unless the name says sectors (512 bytes).
 */
#ifndef SNAPCOW_H
#define SNAPCOW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SNAPCOW_MAGIC 0x70416e53U        /* "SnAp" little-endian */
#define SNAPCOW_DISK_VERSION 1U
#define SNAPCOW_SECTOR_SIZE 512U
#define SNAPCOW_RECORD_SIZE 16U          /* one on-disk exception record */
#define SNAPCOW_NEW_CHUNK_LIMIT (1ULL << 56) /* kernel keeps a run count above */

/* Format errors, beyond the negative errno values. */
enum snapcow_error {
	SNAPCOW_ERR_MAGIC = -2001,      /* header magic is not "SnAp" */
	SNAPCOW_ERR_NEW = -2002,        /* magic is 0: the kernel would initialise a new, empty store */
	SNAPCOW_ERR_VERSION = -2003,    /* on-disk version is not 1 */
	SNAPCOW_ERR_CHUNK_SIZE = -2004, /* chunk size the kernel would refuse */
	SNAPCOW_ERR_TOO_SMALL = -2005,  /* store smaller than header chunk + first area */
	SNAPCOW_ERR_TABLE = -2006,      /* exception table unreadable (runs off the store) */
	SNAPCOW_ERR_RECORD = -2007,     /* a record the kernel cannot use (writer input) */
};

/**
 * snapcow_strerror:
 * Returns: a static description of a negative errno or SNAPCOW_ERR_* code.
 */
const char *snapcow_strerror(int err);

/**
 * snapcow_version:
 * Returns: the library version string, e.g. "0.1".
 */
const char *snapcow_version(void);

/* ---- Logging ---------------------------------------------------------- */

/* Priorities are syslog's: LOG_ERR (3), LOG_WARNING (4), LOG_NOTICE (5),
 * LOG_INFO (6), LOG_DEBUG (7). */
typedef void (*snapcow_log_fn)(void *data, int priority, const char *msg);

/**
 * snapcow_set_log_fn:
 * Install the function that receives every diagnostic (one line, no
 * newline).  NULL discards them.  Process-wide; not thread safe.
 */
void snapcow_set_log_fn(snapcow_log_fn fn, void *data);

/**
 * snapcow_set_log_priority:
 * Messages with a priority number above @priority are dropped.
 * Default: LOG_WARNING.
 */
void snapcow_set_log_priority(int priority);

/* ---- Chunk size rules -------------------------------------------------- */

/**
 * snapcow_chunk_kernel_problem:
 * Returns: NULL if the kernel accepts a chunk of @sectors sectors (power of
 * two, at most INT_MAX >> 9), else a static description of the rule broken.
 */
const char *snapcow_chunk_kernel_problem(uint64_t sectors);

/**
 * snapcow_chunk_lvm_problem:
 * Returns: NULL if LVM accepts a chunk of @sectors sectors (power of two,
 * 8..1024 sectors), else a static description of the rule broken.
 */
const char *snapcow_chunk_lvm_problem(uint64_t sectors);

/* ---- Geometry --------------------------------------------------------- */

/**
 * snapcow_area_chunk:
 * Returns: the chunk that holds metadata area @area for a store with
 * @per_area exceptions per area (header, area 0, per_area data chunks,
 * area 1, ...).
 */
uint64_t snapcow_area_chunk(uint32_t per_area, uint64_t area);

/**
 * snapcow_chunk_is_metadata:
 * Returns: 1 if @chunk is the header or a metadata area chunk, else 0.
 */
int snapcow_chunk_is_metadata(uint32_t per_area, uint64_t chunk);

/* ---- Stores ----------------------------------------------------------- */

struct snapcow_store;

struct snapcow_header {
	uint32_t magic;
	uint32_t valid;
	uint32_t version;
	uint32_t chunk_sectors;
};

enum snapcow_open_flags {
	SNAPCOW_OPEN_RDWR = 1 << 0,  /* open for writing (default read-only) */
	SNAPCOW_OPEN_EXCL = 1 << 1,  /* O_EXCL: -EBUSY if a block device is in use */
	SNAPCOW_OPEN_RAW = 1 << 2,   /* only read the header bytes, do not
					reject a bad magic/version/chunk size */
};

/**
 * snapcow_store_open:
 * Open the store at @path (regular file or block device) and read and
 * validate its header: magic, version, chunk size (kernel rules) and that
 * the store holds at least the header chunk and the first area.
 * Returns: 0 and *@out, or a negative errno / SNAPCOW_ERR_* code.
 */
int snapcow_store_open(const char *path, unsigned int flags,
		       struct snapcow_store **out);

/**
 * snapcow_store_open_fd:
 * As snapcow_store_open() on an open descriptor; @name is used in messages.
 * The descriptor stays the caller's: snapcow_store_free() does not close it.
 * Returns: 0 and *@out, or a negative errno / SNAPCOW_ERR_* code.
 */
int snapcow_store_open_fd(int fd, const char *name, unsigned int flags,
			  struct snapcow_store **out);

/** snapcow_store_free: close (if opened by path) and free; NULL is fine. */
void snapcow_store_free(struct snapcow_store *s);

/** Returns: the header as read (host byte order). */
const struct snapcow_header *snapcow_store_header(const struct snapcow_store *s);
/** Returns: the name given at open. */
const char *snapcow_store_name(const struct snapcow_store *s);
/** Returns: the descriptor the store reads through. */
int snapcow_store_fd(const struct snapcow_store *s);
/** Returns: the store's size in bytes. */
uint64_t snapcow_store_size(const struct snapcow_store *s);
/** Returns: the chunk size in bytes. */
uint32_t snapcow_store_chunk_bytes(const struct snapcow_store *s);
/** Returns: whole chunks in the store. */
uint64_t snapcow_store_chunks(const struct snapcow_store *s);
/** Returns: exceptions per metadata area (chunk bytes / 16). */
uint32_t snapcow_store_per_area(const struct snapcow_store *s);

/**
 * snapcow_store_read_chunk:
 * Read chunk @chunk of the store into @buf (chunk bytes long).
 * Returns: 0, -EIO on a short read, or a negative errno.
 */
int snapcow_store_read_chunk(struct snapcow_store *s, uint64_t chunk, void *buf);

/* ---- Walking the exception table ------------------------------------- */

struct snapcow_exception {
	uint64_t old_chunk; /* chunk on the origin */
	uint64_t new_chunk; /* chunk on the COW store holding its data */
};

struct snapcow_iter;

/**
 * snapcow_iter_new:
 * Walk the exception table the way the kernel does when it loads the store:
 * area by area, stopping at the first record whose new_chunk is 0; the next
 * area is read only when the current one is full.  Memory: one chunk.
 * The header's valid flag is not consulted (an invalid store's table is
 * still walked).
 * Returns: 0 and *@out, or a negative errno.
 */
int snapcow_iter_new(struct snapcow_store *s, struct snapcow_iter **out);

/**
 * snapcow_iter_next:
 * Returns: 0 and *@e, 1 at the end of the table, or a negative errno /
 * SNAPCOW_ERR_TABLE (a full area is the last chunk of the store: the table
 * has no terminator; logged with the area and byte offset).
 */
int snapcow_iter_next(struct snapcow_iter *it, struct snapcow_exception *e);

/** Returns: the area of the record last returned. */
uint64_t snapcow_iter_area(const struct snapcow_iter *it);
/** Returns: the index within its area of the record last returned. */
uint32_t snapcow_iter_index(const struct snapcow_iter *it);
/** Returns: the byte offset in the store of the record last returned. */
uint64_t snapcow_iter_offset(const struct snapcow_iter *it);
/** snapcow_iter_free: NULL is fine. */
void snapcow_iter_free(struct snapcow_iter *it);

/* ---- Figures the kernel would compute --------------------------------- */

struct snapcow_stats {
	uint64_t exceptions;        /* records loaded */
	uint64_t areas;             /* metadata areas in use (kernel: current_area + 1) */
	uint64_t next_free;         /* first free chunk, as the kernel computes it */
	uint64_t total_sectors;     /* store size in sectors */
	uint64_t allocated_sectors; /* status line: next_free * chunk */
	uint64_t metadata_sectors;  /* status line: (areas + 1) * chunk */
	int full;                   /* no room for one more exception at next_free */
	int last_area_full;         /* the table ends with a zeroed area after a full one */
};

/**
 * snapcow_store_scan:
 * Walk the whole table (streaming) and compute what the kernel's status
 * line would show for this store were it loaded valid.
 * Returns: 0, or an error from snapcow_iter_next().
 */
int snapcow_store_scan(struct snapcow_store *s, struct snapcow_stats *st);

struct snapcow_uncommitted {
	uint64_t chunks;        /* non-zero data chunks at or past next_free */
	uint64_t first;         /* first such chunk (0 if none) */
	uint64_t last;          /* last such chunk (0 if none) */
	int reaches_end;        /* the last data chunk of the store is non-zero */
};

/**
 * snapcow_store_scan_uncommitted:
 * Look at the data chunks from @next_free to the end of the store for
 * non-zero bytes: data the kernel wrote but never committed to the table
 * (or stale data on a reused device).  Holes of a sparse file are skipped
 * without reading.
 * Returns: 0 and *@u, or a negative errno.
 */
int snapcow_store_scan_uncommitted(struct snapcow_store *s, uint64_t next_free,
				   struct snapcow_uncommitted *u);

/* Called for each chunk found; a non-zero return stops the scan and is
 * returned by it. */
typedef int (*snapcow_chunk_fn)(void *data, uint64_t chunk);

/**
 * snapcow_store_scan_uncommitted_fn:
 * snapcow_store_scan_uncommitted(), calling @fn (may be NULL) for every
 * non-zero data chunk, in increasing order.
 * Returns: 0 and *@u, what @fn returned, or a negative errno.
 */
int snapcow_store_scan_uncommitted_fn(struct snapcow_store *s, uint64_t next_free,
				      snapcow_chunk_fn fn, void *data,
				      struct snapcow_uncommitted *u);

/* ---- Lookup map ------------------------------------------------------- */

struct snapcow_map;

/**
 * snapcow_map_new:
 * Build a lookup map old_chunk -> new_chunk from the table (16 bytes per
 * exception, sorted).  When an old_chunk appears twice, the later record
 * wins; the number of such duplicates is snapcow_map_duplicates().
 * Returns: 0 and *@out, -ENOMEM, or an error from snapcow_iter_next().
 */
int snapcow_map_new(struct snapcow_store *s, struct snapcow_map **out);

/**
 * snapcow_map_lookup:
 * Returns: 1 and *@new_chunk if @old_chunk is remapped, else 0.
 */
int snapcow_map_lookup(const struct snapcow_map *m, uint64_t old_chunk,
		       uint64_t *new_chunk);

/**
 * snapcow_map_next:
 * Find the first remapped old chunk >= @from.
 * Returns: 1 with *@e set, or 0 if there is none.
 */
int snapcow_map_next(const struct snapcow_map *m, uint64_t from,
		     struct snapcow_exception *e);

/** Returns: distinct old chunks in the map. */
uint64_t snapcow_map_count(const struct snapcow_map *m);
/** Returns: records dropped because a later record had the same old_chunk. */
uint64_t snapcow_map_duplicates(const struct snapcow_map *m);
/** snapcow_map_free: NULL is fine. */
void snapcow_map_free(struct snapcow_map *m);

/* ---- The snapshot view ------------------------------------------------ */

struct snapcow_view;

enum snapcow_source {
	SNAPCOW_SRC_ORIGIN = 0, /* bytes come from the origin at the same offset */
	SNAPCOW_SRC_COW = 1,    /* bytes come from the store at source_offset */
	SNAPCOW_SRC_ZERO = 2,   /* zero origin (or past the origin's end) */
};

struct snapcow_extent {
	uint64_t offset;        /* in the view */
	uint64_t length;
	enum snapcow_source source;
	uint64_t source_offset; /* in the origin or the store */
};

/**
 * snapcow_view_new:
 * The snapshot device as the kernel would show it: remapped chunks from the
 * store, everything else from the origin (@origin_fd) or zeros
 * (@origin_fd < 0, the zero target of a --virtualsize volume).  @size is
 * the view's size in bytes (the origin's size).  The view takes ownership
 * of @map (built with snapcow_map_new() from the same store).
 * Returns: 0 and *@out, or -EINVAL.
 */
int snapcow_view_new(struct snapcow_store *s, struct snapcow_map *map,
		     int origin_fd, uint64_t size, struct snapcow_view **out);

/**
 * snapcow_view_extent:
 * Describe the longest run starting at @offset that comes from one source
 * contiguously.
 * Returns: 0 and *@ext, 1 if @offset is at or past the end, or -EINVAL.
 */
int snapcow_view_extent(const struct snapcow_view *v, uint64_t offset,
			struct snapcow_extent *ext);

/**
 * snapcow_view_pread:
 * Read @len bytes of the view at @offset.
 * Returns: bytes read (short only at the end of the view), or a negative
 * errno (-EIO when the origin or store ends early).
 */
ssize_t snapcow_view_pread(struct snapcow_view *v, void *buf, size_t len,
			   uint64_t offset);

/** Returns: the view's size in bytes. */
uint64_t snapcow_view_size(const struct snapcow_view *v);
/** Returns: the view's map. */
const struct snapcow_map *snapcow_view_map(const struct snapcow_view *v);
/** snapcow_view_free: frees the map too; the store and origin stay open. */
void snapcow_view_free(struct snapcow_view *v);

/* ---- Writing a new store ---------------------------------------------- */

struct snapcow_writer;

/**
 * snapcow_writer_new:
 * Start writing a new store on @fd (opened for writing), laid out as the
 * kernel lays it out: header chunk, areas at their fixed chunks, each area
 * zero-padded, and a zeroed area after a table that fills its last area.
 * Data chunks are not touched.  @store_bytes is the store's size (a regular
 * file is extended to it; a device must be at least that large).
 * Returns: 0 and *@out, -EINVAL (chunk size, size too small), or -errno.
 */
int snapcow_writer_new(int fd, const char *name, uint32_t chunk_sectors,
		       uint64_t store_bytes, struct snapcow_writer **out);

/**
 * snapcow_writer_add:
 * Append one exception, in table order.  new_chunk must be inside the
 * store, not the header or an area chunk, below 2^56; it need not increase.
 * Returns: 0, SNAPCOW_ERR_RECORD (logged), or -errno from a write.
 */
int snapcow_writer_add(struct snapcow_writer *w, const struct snapcow_exception *e);

/**
 * snapcow_writer_finish:
 * Write the last area, the terminating zeroed area when needed and, last,
 * the header with @valid; then fsync.
 * Returns: 0 or a negative errno.
 */
int snapcow_writer_finish(struct snapcow_writer *w, uint32_t valid);

/** snapcow_writer_free: abandons an unfinished store; NULL is fine. */
void snapcow_writer_free(struct snapcow_writer *w);

/* ---- Consistency check ------------------------------------------------ */

struct snapcow_problem {
	int severity;        /* LOG_ERR: an error; LOG_WARNING: a warning */
	const char *code;    /* stable short name, e.g. "new-chunk-past-end" */
	int64_t area;        /* metadata area, -1 when not about a record */
	int64_t index;       /* record within the area, -1 when not about one */
	uint64_t offset;     /* byte offset in the store the problem is at */
	const char *message; /* one line, no newline */
};

typedef void (*snapcow_problem_fn)(void *data, const struct snapcow_problem *p);

struct snapcow_check_options {
	uint64_t origin_bytes; /* origin size: bounds old_chunk; 0 if unknown */
	int skip_data_scan;    /* do not look for data past next_free */
};

struct snapcow_check_result {
	uint64_t errors;
	uint64_t warnings;
	int table_complete;    /* the walk reached the end of the table */
	struct snapcow_stats stats;
	struct snapcow_uncommitted uncommitted;
	uint64_t memory_bytes; /* peak memory the check's bitmaps used */
};

/**
 * snapcow_store_check:
 * Check everything the kernel relies on but never verifies: every new_chunk
 * inside the store, not the header or an area chunk, below 2^56 and used
 * once; every old_chunk mapped once (and inside the origin when
 * @opt->origin_bytes is set); a terminated table; no records after the
 * terminator; and (a warning) non-zero data past next_free.  Each problem
 * goes to @fn.  Memory: a bitmap of the store's chunks plus a paged bitmap
 * of the old chunks in use (at most 64 MiB of pages; beyond that, 16 bytes
 * per further exception).
 * Returns: 0 when the check ran (problems are counted in *@res), or a
 * negative errno when the store could not be read.
 */
int snapcow_store_check(struct snapcow_store *s, const struct snapcow_check_options *opt,
			snapcow_problem_fn fn, void *data, struct snapcow_check_result *res);

/* ==== Safe header rewrite and undo files (src/lib/rewrite.c) ============
 *
 * An undo file holds a byte range of a store saved before an in-place
 * write, so that the write can be reverted byte for byte.  Layout (all
 * integers little-endian), a 256-byte header followed by the saved bytes:
 *
 *   0   8  magic "SNAPUNDO"           8   4  version (1)
 *   12  4  header bytes (256)        16   4  kind: 1 regular file, 2 block device
 *   20  4  reserved (0)              24   8  st_dev of a regular file (else 0)
 *   32  8  st_ino of a regular file  40   8  device number of a block device
 *   48  8  store size in bytes       56   8  offset of the saved range
 *   64  4  length of the saved range 68   4  length of the changed range
 *   72  8  offset of the changed range (inside the saved range)
 *   80  8  creation time (seconds since the epoch)
 *   88  8  the bytes written there (zero padded)
 *   96 128 device-mapper UUID of the store, NUL padded ("" if none)
 *  224 24  name of the program that wrote it, NUL padded
 *  248  4  CRC-32 of the saved bytes   252  4  CRC-32 of header bytes 0..251
 *
 * Version 2 ("ranges", snapcow_undo_save: several ranges, e.g. a store's
 * header and every metadata area before snap_restore rewrites them) has the
 * same header with saved/changed offsets and lengths 0, the number of
 * ranges at offset 20, and the CRC-32 at 248 covering everything after the
 * header: per range, offset (8), length (8), then the saved bytes.
 *
 * A block device is identified by its device number or, for device-mapper
 * devices (whose minor numbers change across activations), by its dm UUID;
 * a UUID that starts with SNAPCOW_TEMP_UUID_PREFIX is a temporary device
 * standing for the device with the rest of that UUID.
 */

#define SNAPCOW_UNDO_MAGIC "SNAPUNDO"
#define SNAPCOW_UNDO_VERSION 1U
#define SNAPCOW_UNDO_VERSION_RANGES 2U
#define SNAPCOW_UNDO_HEADER_SIZE 256U
#define SNAPCOW_TEMP_UUID_PREFIX "SNAPRESCUE-"

/* Errors of the rewrite functions, beyond those of enum snapcow_error. */
#define SNAPCOW_ERR_UNDO_FORMAT (-2101)   /* not an undo file, or an unknown version */
#define SNAPCOW_ERR_UNDO_CHECKSUM (-2102) /* undo file damaged (CRC mismatch) */
#define SNAPCOW_ERR_UNDO_IDENTITY (-2103) /* undo file was made for another store */
#define SNAPCOW_ERR_UNDO_CONTENT (-2104)  /* store differs from the undo file beyond the changed bytes */
#define SNAPCOW_ERR_VERIFY (-2105)        /* read back after the write differs */

enum snapcow_identity_kind {
	SNAPCOW_IDENT_FILE = 1,
	SNAPCOW_IDENT_BLOCK = 2,
};

struct snapcow_identity {
	uint32_t kind;     /* enum snapcow_identity_kind */
	uint64_t dev;      /* regular file: st_dev */
	uint64_t ino;      /* regular file: st_ino */
	uint64_t rdev;     /* block device: device number */
	uint64_t size;     /* bytes */
	char dm_uuid[129]; /* block device: device-mapper UUID, "" if none */
};

/**
 * snapcow_identity_get:
 * Describe the file or block device open on @fd (the dm UUID comes from
 * /sys/dev/block/MAJ:MIN/dm/uuid).
 * Returns: 0 and *@id, -EINVAL if @fd is neither, or a negative errno.
 */
int snapcow_identity_get(int fd, struct snapcow_identity *id);

/**
 * snapcow_identity_match:
 * Returns: 1 if @cur is the store @saved describes (same kind and size;
 * same st_dev/st_ino, or same device number or dm UUID), else 0.
 */
int snapcow_identity_match(const struct snapcow_identity *saved,
			   const struct snapcow_identity *cur);

/* Points of a rewrite at which the step callback is called (a crash at
 * each of them leaves the old or the new header on the store). */
enum snapcow_rewrite_step {
	SNAPCOW_STEP_BEFORE_UNDO = 1,  /* nothing written yet */
	SNAPCOW_STEP_AFTER_UNDO = 2,   /* undo file written and synced; store untouched */
	SNAPCOW_STEP_AFTER_WRITE = 3,  /* store written and synced; not yet read back */
};

typedef void (*snapcow_step_fn)(void *data, enum snapcow_rewrite_step step);

struct snapcow_rewrite_options {
	const char *undo_path; /* created with O_EXCL; required */
	const char *program;   /* recorded in the undo file; may be NULL */
	snapcow_step_fn step_fn; /* may be NULL */
	void *step_data;
};

/**
 * snapcow_store_set_valid:
 * Set the header's valid field of @s (opened with SNAPCOW_OPEN_RDWR) to
 * @valid: save the whole header chunk to @opt->undo_path, fsync it and its
 * directory, write the 4 bytes at offset 4, fsync the store, drop its cached
 * pages and read the header chunk back to verify it.
 * Returns: 0 when written and verified, 1 when the field already holds
 * @valid (nothing written, no undo file), -EEXIST if the undo file exists,
 * SNAPCOW_ERR_VERIFY, or a negative errno.
 */
int snapcow_store_set_valid(struct snapcow_store *s, uint32_t valid,
			    const struct snapcow_rewrite_options *opt);

struct snapcow_undo;

/**
 * snapcow_undo_open:
 * Read the undo file at @path and check its magic, version and CRCs.
 * Returns: 0 and *@out, SNAPCOW_ERR_UNDO_FORMAT, SNAPCOW_ERR_UNDO_CHECKSUM,
 * -ENOMEM or a negative errno.
 */
int snapcow_undo_open(const char *path, struct snapcow_undo **out);

struct snapcow_range {
	uint64_t offset;
	uint64_t length;
};

/**
 * snapcow_undo_save:
 * Save the @n byte ranges @ranges of the store open (readable) on @fd, as
 * a version 2 undo file at @path (created with O_EXCL, mode 0600) with the
 * store's identity and size; fsync it and its directory.  Ranges are
 * clipped to the store's size (empty ones are left out), each at most 1 GiB.
 * Returns: 0, -EEXIST if @path exists, or a negative errno (the file is
 * removed again).
 */
int snapcow_undo_save(int fd, const char *path, const struct snapcow_range *ranges, size_t n,
		      const char *program);

/** Returns: the number of saved ranges (1 for a version 1 file). */
uint32_t snapcow_undo_ranges(const struct snapcow_undo *u);
/** Returns: the number of saved bytes in all ranges. */
uint64_t snapcow_undo_bytes(const struct snapcow_undo *u);
/** Returns: the identity of the store the undo file was made for. */
const struct snapcow_identity *snapcow_undo_identity(const struct snapcow_undo *u);
/** Returns: the offset of the saved range in the store. */
uint64_t snapcow_undo_offset(const struct snapcow_undo *u);
/** Returns: the length of the saved range. */
uint32_t snapcow_undo_length(const struct snapcow_undo *u);
/** Returns: the offset of the changed bytes in the store. */
uint64_t snapcow_undo_changed_offset(const struct snapcow_undo *u);
/** Returns: the number of changed bytes. */
uint32_t snapcow_undo_changed_length(const struct snapcow_undo *u);
/** Returns: the saved bytes (snapcow_undo_length() of them). */
const unsigned char *snapcow_undo_data(const struct snapcow_undo *u);
/** Returns: the bytes the writer put in the changed range. */
const unsigned char *snapcow_undo_new_bytes(const struct snapcow_undo *u);

enum snapcow_undo_flags {
	SNAPCOW_UNDO_ANY_IDENTITY = 1 << 0, /* apply even to a store of another identity */
	SNAPCOW_UNDO_DRY_RUN = 1 << 1,      /* check everything, write nothing */
};

/**
 * snapcow_undo_apply:
 * Restore the saved bytes on the store open (read-write) on @fd: refuse
 * another store's identity (unless SNAPCOW_UNDO_ANY_IDENTITY) and a store
 * whose saved range differs from the undo file anywhere but in the changed
 * range; write the changed range back, fsync, drop cached pages, read back
 * and compare.  A version 2 file: the identity is compared without the
 * size, every range is written back and compared, and a regular file gets
 * its size back (a block device of another size: a warning).  The range
 * accessors below (offset, length, data, changed_*) describe version 1
 * files only (0 or NULL for version 2).
 * Returns: 0 when restored (or, with SNAPCOW_UNDO_DRY_RUN, when it would
 * be), 1 when the store already holds the saved bytes (nothing written),
 * SNAPCOW_ERR_UNDO_IDENTITY, SNAPCOW_ERR_UNDO_CONTENT, SNAPCOW_ERR_VERIFY
 * or a negative errno.
 */
int snapcow_undo_apply(const struct snapcow_undo *u, int fd, unsigned int flags);

/** snapcow_undo_free: NULL is fine. */
void snapcow_undo_free(struct snapcow_undo *u);

/* ==== end of rewrite section ========================================== */

#ifdef __cplusplus
}
#endif
#endif /* SNAPCOW_H */
