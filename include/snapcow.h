/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsnapcow: read, check and write device-mapper snapshot persistent
 * exception stores (the COW device of an LVM snapshot).
 *
 * Conventions:
 *  - Functions that can fail return 0 (or a documented positive value) on
 *    success and a negative errno, or one of the SNAPCOW_ERR_* codes of
 *    enum snapcow_error, on failure.  Out-parameters are set only on
 *    success.  snapcow_strerror() describes every code.
 *  - The library never prints and never exits.  Diagnostics (what is wrong,
 *    in which area, record and byte offset) go to the log function of the
 *    library context (struct snapcow_ctx) the object was made with; a NULL
 *    context discards them.  Every object made from a store (iterator, map,
 *    view, check) logs through the store's context.
 *  - Thread safety: a context may be shared by threads once set up (its
 *    log function is then called from all of them).  A view may be read by
 *    several threads at once (snapcow_view_pread, snapcow_view_extent);
 *    other objects belong to one thread at a time.
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

/* Every error the library returns beyond the negative errno values. */
enum snapcow_error {
	/* the store format */
	SNAPCOW_ERR_MAGIC = -2001,      /* header magic is not "SnAp" */
	SNAPCOW_ERR_NEW = -2002,        /* magic is 0: the kernel would initialise a new, empty store */
	SNAPCOW_ERR_VERSION = -2003,    /* on-disk version is not 1 */
	SNAPCOW_ERR_CHUNK_SIZE = -2004, /* chunk size the kernel would refuse */
	SNAPCOW_ERR_TOO_SMALL = -2005,  /* store smaller than header chunk + first area */
	SNAPCOW_ERR_TABLE = -2006,      /* exception table unreadable (runs off the store) */
	SNAPCOW_ERR_RECORD = -2007,     /* a record the kernel cannot use (writer input) */
	/* undo files and in-place rewrites */
	SNAPCOW_ERR_UNDO_FORMAT = -2101,   /* not an undo file, or an unknown version */
	SNAPCOW_ERR_UNDO_CHECKSUM = -2102, /* undo file damaged (CRC mismatch, truncated) */
	SNAPCOW_ERR_UNDO_IDENTITY = -2103, /* undo file was made for another store */
	SNAPCOW_ERR_UNDO_CONTENT = -2104,  /* store changed since, outside the bytes the write changed */
	SNAPCOW_ERR_VERIFY = -2105,        /* read back after the write differs */
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

/* ---- Library context: where diagnostics go ---------------------------- */

/* Priorities are syslog's: LOG_ERR (3), LOG_WARNING (4), LOG_NOTICE (5),
 * LOG_INFO (6), LOG_DEBUG (7).  @msg is one line, no newline. */
typedef void (*snapcow_log_fn)(void *data, int priority, const char *msg);

struct snapcow_ctx;

/**
 * snapcow_ctx_new:
 * A new context, reference count 1: no log function (diagnostics are
 * dropped), priority LOG_WARNING.
 * Returns: 0 and *@out, or -ENOMEM.
 */
int snapcow_ctx_new(struct snapcow_ctx **out);

/** snapcow_ctx_ref: Returns: @ctx, with one more reference (NULL is fine). */
struct snapcow_ctx *snapcow_ctx_ref(struct snapcow_ctx *ctx);

/** snapcow_ctx_unref: drop a reference, freeing at 0.  Returns: NULL. */
struct snapcow_ctx *snapcow_ctx_unref(struct snapcow_ctx *ctx);

/**
 * snapcow_ctx_set_log_fn:
 * Install the function that receives the diagnostics of every object made
 * with @ctx; NULL drops them.  Set it before the context is shared.
 */
void snapcow_ctx_set_log_fn(struct snapcow_ctx *ctx, snapcow_log_fn fn, void *data);

/**
 * snapcow_ctx_set_log_priority:
 * Messages with a priority number above @priority are dropped.
 */
void snapcow_ctx_set_log_priority(struct snapcow_ctx *ctx, int priority);

/** Returns: the context's log priority. */
int snapcow_ctx_get_log_priority(const struct snapcow_ctx *ctx);

/**
 * snapcow_ctx_set_threads:
 * How many threads a walk of an exception table may use (the check, the
 * figures, the lookup map, the iterator): with 1 everything happens in the
 * caller's thread; with N > 1, N - 1 threads (at most 8) read the metadata
 * areas ahead while the caller works on the ones read.  0, the default:
 * the online CPUs.  Results and messages are the same for every N.
 */
void snapcow_ctx_set_threads(struct snapcow_ctx *ctx, unsigned int n);

/** Returns: the threads a walk uses: the setting, or the online CPUs. */
unsigned int snapcow_ctx_get_threads(const struct snapcow_ctx *ctx);

/* ==== The kernel's rules (src/lib/rules.c) =============================
 * Every rule of the format lives here once: the checker, the writer, the
 * area reader and the tools' dump reader call these. */

/* A problem found in a header or a table; the message is one line. */
struct snapcow_problem {
	int severity;        /* LOG_ERR: an error; LOG_WARNING: a warning; LOG_INFO: a note */
	const char *code;    /* stable short name, e.g. "new-chunk-past-end" */
	int64_t area;        /* metadata area, -1 when not about a record */
	int64_t index;       /* record within the area, -1 when not about one */
	uint64_t offset;     /* byte offset in the store the problem is at */
	const char *message; /* one line, no newline */
};

typedef void (*snapcow_problem_fn)(void *data, const struct snapcow_problem *p);

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

/**
 * snapcow_next_free_finish:
 * next_free as the kernel finishes it after loading a table whose largest
 * new_chunk is @max_plus_one - 1 (at least 2: header and area 0): an area
 * chunk it lands on is skipped.
 * Returns: the first free chunk.
 */
uint64_t snapcow_next_free_finish(uint32_t per_area, uint64_t max_plus_one);

/* The layout of a store: what a chunk size and a size imply. */
struct snapcow_geometry {
	uint32_t chunk_sectors;
	uint32_t chunk_bytes;
	uint32_t per_area;    /* exceptions per metadata area */
	uint64_t store_bytes;
	uint64_t chunks;      /* whole chunks in the store */
};

/**
 * snapcow_geometry_init:
 * The layout of a store of @store_bytes with chunks of @chunk_sectors.
 * Returns: 0 and *@g, SNAPCOW_ERR_CHUNK_SIZE (a chunk size the kernel
 * refuses) or SNAPCOW_ERR_TOO_SMALL (no room for the header chunk and
 * area 0).
 */
int snapcow_geometry_init(struct snapcow_geometry *g, uint64_t chunk_sectors,
			  uint64_t store_bytes);

/**
 * snapcow_geometry_area_fits:
 * Returns: 1 if metadata area @area lies inside the store, else 0.  When a
 * full area is followed by one that does not fit, the table has no
 * terminator and the kernel cannot load it.
 */
int snapcow_geometry_area_fits(const struct snapcow_geometry *g, uint64_t area);

/* What a record's new_chunk may not be. */
enum snapcow_record_rule {
	SNAPCOW_RECORD_OK = 0,
	SNAPCOW_RECORD_END,       /* 0: the kernel stops the table there */
	SNAPCOW_RECORD_TOO_LARGE, /* 2^56 or more: the kernel keeps a run count there */
	SNAPCOW_RECORD_PAST_END,  /* past the end of the store */
	SNAPCOW_RECORD_METADATA,  /* the chunk of a metadata area (CVE-2013-4299) */
	SNAPCOW_RECORD_TWICE,     /* already the new_chunk of an earlier record */
};

/**
 * snapcow_record_check:
 * Returns: the first rule @new_chunk breaks in a store of layout @g
 * (never SNAPCOW_RECORD_TWICE: that needs the rest of the table), or
 * SNAPCOW_RECORD_OK.
 */
enum snapcow_record_rule snapcow_record_check(const struct snapcow_geometry *g,
					      uint64_t new_chunk);

/** Returns: the stable code of @rule ("new-chunk-past-end", ...). */
const char *snapcow_record_rule_code(enum snapcow_record_rule rule);

/**
 * snapcow_record_describe:
 * Write into @buf (@len bytes) what is wrong with @new_chunk under @rule,
 * e.g. "new chunk 900 is past the end of the store (512 chunks)".
 * Returns: @buf.
 */
const char *snapcow_record_describe(const struct snapcow_geometry *g, enum snapcow_record_rule rule,
				    uint64_t new_chunk, char *buf, size_t len);

struct snapcow_header {
	uint32_t magic;
	uint32_t valid;
	uint32_t version;
	uint32_t chunk_sectors;
};

/**
 * snapcow_header_check:
 * Apply the kernel's and LVM's rules to header @h of a store of
 * @store_bytes and report each problem to @fn (may be NULL): errors the
 * kernel refuses ("magic-zero": it would wipe the table, "bad-magic",
 * "bad-version", "bad-chunk-size", "too-small") and warnings
 * ("invalid", "valid-flag", "chunk-size-lvm", "partial-chunk").  After the
 * first error nothing more is checked.
 * Returns: 0, or the SNAPCOW_ERR_* code of the error.
 */
int snapcow_header_check(const struct snapcow_header *h, uint64_t store_bytes,
			 snapcow_problem_fn fn, void *data);

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
 * snapcow_stats_finish:
 * Given @st->exceptions, @st->areas, @st->last_area_full and in
 * @st->next_free the largest new_chunk + 1 (at least 2), compute the rest
 * the way the kernel does for a store of layout @g: next_free, the status
 * line's sectors and whether the store is full.
 */
void snapcow_stats_finish(const struct snapcow_geometry *g, struct snapcow_stats *st);

/**
 * snapcow_stats_smallest:
 * The smallest store (in chunks) that keeps every exception of a table
 * with figures @st in layout @g: its data up to next_free and its areas up
 * to the one that ends it.  A COW reduced below it loses exceptions (lvm2
 * issues #163, #164); at exactly this size the store is full.
 * Returns: the number of chunks.
 */
uint64_t snapcow_stats_smallest(const struct snapcow_geometry *g, const struct snapcow_stats *st);

/* ---- Byte sources ------------------------------------------------------ */

/* A source of bytes: one descriptor, or pieces of several laid end to end
 * the way device-mapper's linear target lays them (an LVM volume's
 * segments on physical volumes given as image files), with zero pieces
 * (fd -1) for the zero target.  The descriptors stay the caller's and must
 * stay open while the dev is used; it is written only through
 * snapcow_dev_pwrite(), when they were opened for writing. */
struct snapcow_dev;

struct snapcow_dev_piece {
	uint64_t length;    /* bytes of the dev this piece covers */
	int fd;             /* -1: the piece reads as zeros */
	uint64_t fd_offset; /* where it starts in @fd */
};

/**
 * snapcow_dev_new_fd:
 * The whole regular file or block device open on @fd; @name is used in
 * messages.
 * Returns: 0 and *@out, -EISDIR, -EINVAL (neither), -ENOMEM or -errno.
 */
int snapcow_dev_new_fd(int fd, const char *name, struct snapcow_dev **out);

/**
 * snapcow_dev_new_pieces:
 * The @n pieces, in order, as one dev.
 * Returns: 0 and *@out, -EINVAL (an empty piece, or sizes that overflow)
 * or -ENOMEM.
 */
int snapcow_dev_new_pieces(const char *name, const struct snapcow_dev_piece *pieces, size_t n,
			   struct snapcow_dev **out);

/** snapcow_dev_free: NULL is fine (the descriptors are not closed). */
void snapcow_dev_free(struct snapcow_dev *d);
/** Returns: the dev's size in bytes. */
uint64_t snapcow_dev_size(const struct snapcow_dev *d);
/** Returns: its name. */
const char *snapcow_dev_name(const struct snapcow_dev *d);
/** Returns: the descriptor of a dev made by snapcow_dev_new_fd(), else -1. */
int snapcow_dev_fd(const struct snapcow_dev *d);

/**
 * snapcow_dev_pread:
 * Read @len bytes at @off.
 * Returns: 0, -EIO past the end or when a descriptor ends early, -EINVAL
 * for an offset past 2^63, or -errno.
 */
int snapcow_dev_pread(const struct snapcow_dev *d, void *buf, size_t len, uint64_t off);

/**
 * snapcow_dev_pwrite:
 * Write @len bytes at @off, through the pieces' descriptors (which the
 * caller opened for writing).
 * Returns: 0, -EIO past the end, -EROFS for bytes of a zero piece (nothing
 * is stored there; the pieces before it are written), -EBADF from a
 * descriptor opened read-only, or -errno.
 */
int snapcow_dev_pwrite(const struct snapcow_dev *d, const void *buf, size_t len, uint64_t off);

/**
 * snapcow_dev_sync:
 * fsync() every descriptor of the dev once and drop its cached pages, so
 * that what was written is on the device and the next read comes from it.
 * Returns: 0 or a negative errno.
 */
int snapcow_dev_sync(const struct snapcow_dev *d);

/**
 * snapcow_dev_locate:
 * Where byte @off of the dev is: *@fd (-1 for zeros) at *@fd_offset, for
 * *@length bytes before the piece ends (for copy_file_range and the like).
 * Returns: 0, or -EINVAL past the end.
 */
int snapcow_dev_locate(const struct snapcow_dev *d, uint64_t off, int *fd, uint64_t *fd_offset,
		       uint64_t *length);

/**
 * snapcow_dev_next_data:
 * The first data at or after @off: [*@data, *@hole) holds data (a sparse
 * file's holes and zero pieces are skipped; a block device is all data).
 * Returns: 0, 1 when only holes are left, or -errno.
 */
int snapcow_dev_next_data(const struct snapcow_dev *d, uint64_t off, uint64_t *data,
			  uint64_t *hole);

/* ---- Stores ----------------------------------------------------------- */

struct snapcow_store;

enum snapcow_open_flags {
	SNAPCOW_OPEN_RDWR = 1 << 0,  /* open for writing (default read-only) */
	SNAPCOW_OPEN_EXCL = 1 << 1,  /* O_EXCL: -EBUSY if a block device is in use */
	SNAPCOW_OPEN_RAW = 1 << 2,   /* only read the header bytes, do not
					reject a bad magic/version/chunk size */
};

/**
 * snapcow_store_open:
 * Open the store at @path (regular file or block device) and read and
 * validate its header (snapcow_header_check()).  Every failure is logged
 * through @ctx, worded the same for every caller: "cannot open PATH:
 * REASON", or "PATH: offset N: what is wrong" for a header the kernel
 * refuses.
 * Returns: 0 and *@out, or a negative errno / SNAPCOW_ERR_* code.
 */
int snapcow_store_open(struct snapcow_ctx *ctx, const char *path, unsigned int flags,
		       struct snapcow_store **out);

/**
 * snapcow_store_open_fd:
 * As snapcow_store_open() on an open descriptor; @name is used in messages.
 * The descriptor stays the caller's: snapcow_store_free() does not close it.
 * Returns: 0 and *@out, or a negative errno / SNAPCOW_ERR_* code.
 */
int snapcow_store_open_fd(struct snapcow_ctx *ctx, int fd, const char *name, unsigned int flags,
			  struct snapcow_store **out);

/**
 * snapcow_store_open_dev:
 * As snapcow_store_open() on a byte source (a store lying in several
 * pieces); @dev must outlive the store.  With SNAPCOW_OPEN_RDWR the
 * store is rewritten through snapcow_dev_pwrite() (its descriptors opened
 * for writing): snapcow_store_merge_shrink() works on any dev,
 * snapcow_store_set_valid() only on one of a single descriptor.
 * Returns: 0 and *@out, or a negative errno / SNAPCOW_ERR_* code.
 */
int snapcow_store_open_dev(struct snapcow_ctx *ctx, const struct snapcow_dev *dev,
			   unsigned int flags, struct snapcow_store **out);

/** snapcow_store_free: close (if opened by path) and free; NULL is fine. */
void snapcow_store_free(struct snapcow_store *s);

/** Returns: the context the store logs through (not a new reference). */
struct snapcow_ctx *snapcow_store_ctx(const struct snapcow_store *s);
/** Returns: the header as read (host byte order). */
const struct snapcow_header *snapcow_store_header(const struct snapcow_store *s);
/** Returns: the store's layout (chunk size, areas, size). */
const struct snapcow_geometry *snapcow_store_geometry(const struct snapcow_store *s);
/** Returns: the name given at open. */
const char *snapcow_store_name(const struct snapcow_store *s);
/** Returns: the descriptor the store reads through, or -1 for a store in
 * pieces (snapcow_store_open_dev()). */
int snapcow_store_fd(const struct snapcow_store *s);
/** Returns: the byte source the store reads through. */
const struct snapcow_dev *snapcow_store_dev(const struct snapcow_store *s);
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
 * Returns: 0, -EINVAL past the end, -EIO on a short read, or a negative errno.
 */
int snapcow_store_read_chunk(struct snapcow_store *s, uint64_t chunk, void *buf);

/* ---- Reading the exception table -------------------------------------- */

/**
 * snapcow_store_read_area:
 * The one area reader: read metadata area @area (chunk bytes, on-disk
 * little-endian records) into @buf and count in *@live the records before
 * the first whose new_chunk is 0, as the kernel does (@live == per_area: the
 * area is full and the table goes on in area @area + 1).
 * Returns: 0, SNAPCOW_ERR_TABLE when the area lies past the end of the
 * store (logged: the area before it is full, the table has no
 * terminator), or a negative errno (logged with the byte offset).
 */
int snapcow_store_read_area(struct snapcow_store *s, uint64_t area, void *buf, uint32_t *live);

struct snapcow_exception {
	uint64_t old_chunk; /* chunk on the origin */
	uint64_t new_chunk; /* chunk on the COW store holding its data */
};

struct snapcow_iter;

/**
 * snapcow_iter_new:
 * Walk the exception table the way the kernel does when it loads the store:
 * area by area (snapcow_store_read_area()), stopping at the first record
 * whose new_chunk is 0; the next area is read only when the current one is
 * full.  Memory: one chunk.  The header's valid flag is not consulted (an
 * invalid store's table is still walked).
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

/** Returns: the area of the record last returned (at the end: the area
 * holding the terminator). */
uint64_t snapcow_iter_area(const struct snapcow_iter *it);
/** Returns: the index within its area of the record last returned (at the
 * end: the terminator's index). */
uint32_t snapcow_iter_index(const struct snapcow_iter *it);
/** Returns: the byte offset in the store of the record last returned. */
uint64_t snapcow_iter_offset(const struct snapcow_iter *it);
/** snapcow_iter_free: NULL is fine. */
void snapcow_iter_free(struct snapcow_iter *it);

/**
 * snapcow_store_scan:
 * Walk the whole table (streaming) and compute what the kernel's status
 * line would show for this store were it loaded valid.
 * Returns: 0, or an error from snapcow_store_read_area().
 */
int snapcow_store_scan(struct snapcow_store *s, struct snapcow_stats *st);

struct snapcow_uncommitted {
	uint64_t chunks;        /* non-zero data chunks at or past next_free */
	uint64_t first;         /* first such chunk (0 if none) */
	uint64_t last;          /* last such chunk (0 if none) */
	int reaches_end;        /* the last data chunk of the store is non-zero */
};

/* Called for each chunk found; a non-zero return stops the scan and is
 * returned by it. */
typedef int (*snapcow_chunk_fn)(void *data, uint64_t chunk);

/**
 * snapcow_store_scan_uncommitted:
 * Look at the data chunks from @next_free to the end of the store for
 * non-zero bytes: data the kernel wrote but never committed to the table
 * (or stale data on a reused device), calling @fn (may be NULL) for each,
 * in increasing order.  Holes of a sparse file are skipped without reading.
 * Returns: 0 and *@u, what @fn returned, or a negative errno.
 */
int snapcow_store_scan_uncommitted(struct snapcow_store *s, uint64_t next_free,
				   snapcow_chunk_fn fn, void *data,
				   struct snapcow_uncommitted *u);

/* ---- Lookup map ------------------------------------------------------- */

struct snapcow_map;

/**
 * snapcow_map_new:
 * Build a lookup map old_chunk -> new_chunk from the table (16 bytes per
 * exception, sorted).  When an old_chunk appears twice, the record the
 * kernel's lookup finds wins: the earlier one, unless the later one joined
 * a run of consecutive chunks the kernel merged it into, which it then
 * finds first (dm-snap.c's dm_insert_exception(), simulated exactly); the
 * number of records that lose is snapcow_map_duplicates().
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
 * Find the first remapped old chunk >= @from (an iterator: call again with
 * e->old_chunk + 1).
 * Returns: 0 with *@e set, or 1 if there is none.
 */
int snapcow_map_next(const struct snapcow_map *m, uint64_t from,
		     struct snapcow_exception *e);

/** Returns: distinct old chunks in the map. */
uint64_t snapcow_map_count(const struct snapcow_map *m);
/** Returns: records not used because another record of the same old_chunk
 * is the one the kernel finds. */
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
 * snapcow_view_new_dev:
 * As snapcow_view_new() with the origin read through @origin (NULL: the
 * zero target), which must outlive the view.
 * Returns: 0 and *@out, or -EINVAL.
 */
int snapcow_view_new_dev(struct snapcow_store *s, struct snapcow_map *map,
			 const struct snapcow_dev *origin, uint64_t size,
			 struct snapcow_view **out);

/**
 * snapcow_view_new_plain:
 * A view with no store: the first @size bytes of @dev (which must outlive
 * the view), its zero pieces as SNAPCOW_SRC_ZERO extents, everything else
 * as SNAPCOW_SRC_ORIGIN at the same offset; one extent never crosses a
 * piece.  For volumes that are a mapping onto other devices (a thin
 * volume's blocks in its pool's data device).  Such a view has no map
 * (snapcow_view_map() returns NULL); read failures are logged through @ctx.
 * Returns: 0 and *@out, -EINVAL (@size larger than @dev) or -ENOMEM.
 */
int snapcow_view_new_plain(struct snapcow_ctx *ctx, const struct snapcow_dev *dev,
			   uint64_t size, struct snapcow_view **out);

/** Returns: the origin the view reads through (NULL: the zero target). */
const struct snapcow_dev *snapcow_view_origin(const struct snapcow_view *v);

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
 * errno (-EIO when the origin or store ends early; logged with the offset).
 */
ssize_t snapcow_view_pread(struct snapcow_view *v, void *buf, size_t len,
			   uint64_t offset);

/** Returns: the view's size in bytes. */
uint64_t snapcow_view_size(const struct snapcow_view *v);
/** Returns: the view's map (NULL for a plain view). */
const struct snapcow_map *snapcow_view_map(const struct snapcow_view *v);
/** snapcow_view_free: frees the map too; the store and origin stay open. */
void snapcow_view_free(struct snapcow_view *v);

/* ---- Writing a new store ---------------------------------------------- */

struct snapcow_writer;

/* Where a writer's chunks go, instead of pwrite() to its descriptor: e.g.
 * a checksum of what would be written, computed before anything is. */
typedef int (*snapcow_sink_fn)(void *data, const void *buf, size_t len, uint64_t offset);

/**
 * snapcow_writer_new:
 * Start writing a new store on @fd (opened for writing), laid out as the
 * kernel lays it out: header chunk, areas at their fixed chunks, each area
 * zero-padded, and a zeroed area after a table that fills its last area.
 * Data chunks are not touched.  @store_bytes is the store's size (a regular
 * file is extended to it; a device must be at least that large; 0: the
 * size of @fd).  @fd may be -1 when a sink is installed before the first
 * write (then @store_bytes is required).
 * Returns: 0 and *@out, -EINVAL (chunk size, size too small), or -errno.
 */
int snapcow_writer_new(struct snapcow_ctx *ctx, int fd, const char *name,
		       uint32_t chunk_sectors, uint64_t store_bytes,
		       struct snapcow_writer **out);

/**
 * snapcow_writer_set_sink:
 * Send every chunk the writer would write to @fn instead of the
 * descriptor (and do not fsync).  Call before the first add.
 */
void snapcow_writer_set_sink(struct snapcow_writer *w, snapcow_sink_fn fn, void *data);

/**
 * snapcow_writer_add:
 * Append one exception, in table order.  new_chunk must follow
 * snapcow_record_check(); it need not increase.
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

/**
 * snapcow_writer_stats:
 * The figures the kernel would show for the table written so far (after
 * snapcow_writer_finish(): for the whole store).
 */
void snapcow_writer_stats(const struct snapcow_writer *w, struct snapcow_stats *st);

/** snapcow_writer_free: abandons an unfinished store; NULL is fine. */
void snapcow_writer_free(struct snapcow_writer *w);

/* ---- Consistency check ------------------------------------------------ */

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

struct snapcow_table_check;

/**
 * snapcow_table_check_new:
 * A streaming check of a table laid out as @g, fed one area at a time:
 * every new_chunk follows snapcow_record_check() and is used once; every
 * old_chunk is mapped once (and inside the origin when @opt->origin_bytes
 * is set).  Each problem goes to @fn.  Memory: a bitmap of the store's
 * chunks plus a paged bitmap of the old chunks in use (at most 64 MiB of
 * pages; beyond that, 16 bytes per further exception).
 * Returns: 0 and *@out, -EINVAL or -ENOMEM.
 */
int snapcow_table_check_new(struct snapcow_ctx *ctx, const struct snapcow_geometry *g,
			    const struct snapcow_check_options *opt, snapcow_problem_fn fn,
			    void *data, struct snapcow_table_check **out);

/**
 * snapcow_table_check_area:
 * Check the @n live records of area @area (on-disk, little-endian, as
 * snapcow_store_read_area() gives them); areas come in order from 0.
 * Returns: 0 or -ENOMEM (problems are counted, not returned).
 */
int snapcow_table_check_area(struct snapcow_table_check *tc, uint64_t area, const void *records,
			     uint32_t n);

/**
 * snapcow_table_check_finish:
 * End the check: @complete says whether the table ended with a terminator
 * (if not, the "no-terminator" error is reported).  Fills *@res (the
 * figures, counts and memory; no data scan).
 * Returns: 0 or -ENOMEM.
 */
int snapcow_table_check_finish(struct snapcow_table_check *tc, int complete,
			       struct snapcow_check_result *res);

/** snapcow_table_check_free: NULL is fine. */
void snapcow_table_check_free(struct snapcow_table_check *tc);

/**
 * snapcow_store_check:
 * Check everything the kernel relies on but never verifies: the header's
 * warnings (snapcow_header_check()), the whole table
 * (snapcow_table_check_*), a terminated table, no records after the
 * terminator, and (a warning) non-zero data past next_free.  Each problem
 * goes to @fn.
 * Returns: 0 when the check ran (problems are counted in *@res), or a
 * negative errno when the store could not be read.
 */
int snapcow_store_check(struct snapcow_store *s, const struct snapcow_check_options *opt,
			snapcow_problem_fn fn, void *data, struct snapcow_check_result *res);

/* ==== Repair (src/lib/repair.c) ==================================
 *
 * Which records of a damaged store can be given back to the kernel, and the
 * layout to write them in.  The candidates are the records the kernel would
 * load plus, past a torn area (a hole of zeroed records with records after
 * it; the kernel stops at the hole), that area's other records and the
 * areas after it.  Kept, in table order: every candidate whose new_chunk
 * follows snapcow_record_check() and is not already an earlier kept
 * record's, whose old_chunk lies inside the origin (when its size is
 * known), and, for an old_chunk mapped by several of those, the one the
 * kernel's lookup finds (as snapcow_map_new()).  A table that would fill its
 * last area with no room for the next one loses its last records.  The
 * header is rebuilt when the kernel would refuse it or (magic 0) wipe the
 * table, or when the chunk size changes.  Data chunks are never moved: a
 * kept record keeps its new_chunk, so the data of a dropped one is never
 * given to another.  Memory: the table check's bitmaps
 * (snapcow_table_check_new()) plus 40 bytes per dropped record and per
 * record of a group of 256 old chunks that holds a duplicate.
 */

enum snapcow_chunk_source {
	SNAPCOW_CHUNK_FROM_HEADER = 0, /* the header's chunk size */
	SNAPCOW_CHUNK_FROM_OPTION,     /* the caller's (snapcow_repair_options.chunk_sectors) */
	SNAPCOW_CHUNK_FROM_HINT,       /* the caller's hint (the LVM metadata's) */
	SNAPCOW_CHUNK_FROM_LAYOUT,     /* the size at which the areas hold a table */
};

struct snapcow_repair_options {
	uint32_t chunk_sectors;      /* non-zero: use this chunk size */
	uint32_t hint_chunk_sectors; /* non-zero: the chunk size to use when the header's
					cannot be (or its table does not fit while this fits) */
	uint64_t origin_bytes;       /* non-zero: old chunks must lie inside the origin */
};

/* A record the repair leaves out. */
struct snapcow_repair_drop {
	uint64_t area;
	uint32_t index;
	uint64_t offset;          /* byte offset of the record in the store */
	uint64_t old_chunk;
	uint64_t new_chunk;
	const char *code;         /* snapcow_record_rule_code()'s, "old-chunk-past-origin",
				     "old-chunk-twice" or "no-room-for-terminator" */
	/* old-chunk-twice: the record kept for that old chunk */
	uint64_t kept_area;
	uint32_t kept_index;
	uint64_t kept_new_chunk;
};

/* Zeroed records inside a torn area: lost, what they held is unknown. */
struct snapcow_repair_hole {
	uint64_t area;
	uint32_t first;           /* first zeroed record */
	uint32_t count;
};

struct snapcow_repair_summary {
	struct snapcow_header header;     /* as read */
	struct snapcow_header new_header; /* as the repaired store has it */
	const char *header_problem;       /* NULL, snapcow_header_check()'s error code, or
					     "chunk-size-option" / "chunk-size-table" */
	const char *valid_reason;         /* how new_header.valid was chosen (one line) */
	enum snapcow_chunk_source chunk_source;
	struct snapcow_geometry geo;      /* the repaired store's layout */
	uint64_t kernel_exceptions;       /* records in the kernel's walk of the table now */
	int kernel_walks;                 /* 1 if the kernel takes the header and can walk
					     the table now (valid or not) */
	int kernel_loads;                 /* ... and the store is valid: it loads them */
	int64_t cut_area;                 /* -1, or the area a full area leads to that lies
					     past the end of the store (the table was cut) */
	uint64_t candidates;              /* records examined */
	uint64_t kept;
	uint64_t dropped;
	uint64_t lost;                    /* zeroed records in holes */
	uint64_t recovered;               /* kept records the kernel did not load */
	struct snapcow_stats stats;       /* the repaired table's figures */
	uint64_t changed_chunks;          /* metadata chunks that differ on the store */
	int header_changed;               /* chunk 0 is one of them */
};

struct snapcow_repair;

/**
 * snapcow_repair_new:
 * Read the store on @dev (whose header may be anything) and decide its
 * repair (see above).  Nothing is written.
 * Returns: 0 and *@out, SNAPCOW_ERR_TOO_SMALL (not even a header chunk and
 * an area), SNAPCOW_ERR_CHUNK_SIZE (the header's chunk size is unusable
 * and no table fits any other: logged, the caller must give it), -EINVAL,
 * -ENOMEM or a negative errno from a read (logged).
 */
int snapcow_repair_new(struct snapcow_ctx *ctx, const struct snapcow_dev *dev,
		       const struct snapcow_repair_options *opt, struct snapcow_repair **out);

/** Returns: the repair's figures and decisions. */
const struct snapcow_repair_summary *snapcow_repair_summary(const struct snapcow_repair *r);

/**
 * snapcow_repair_drop:
 * Dropped record @i (in table order).
 * Returns: 0 and *@d, or -EINVAL past the last.
 */
int snapcow_repair_drop(const struct snapcow_repair *r, uint64_t i, struct snapcow_repair_drop *d);

/**
 * snapcow_repair_hole:
 * Hole @i (in table order), and the data chunks of its area's range (the
 * chunks after the area up to the next one) that no kept record names,
 * where the lost records' data probably is: *@data_chunks of them, from
 * *@data_first to *@data_last (all 0 when there is none; the three may be
 * NULL).
 * Returns: 0 and *@h, or -EINVAL past the last.
 */
int snapcow_repair_hole(const struct snapcow_repair *r, uint64_t i, struct snapcow_repair_hole *h,
			uint64_t *data_first, uint64_t *data_last, uint64_t *data_chunks);

/**
 * snapcow_repair_changed:
 * The @i-th metadata chunk (in increasing order) that the repair changes.
 * Returns: 0 and *@chunk, or -EINVAL past the last.
 */
int snapcow_repair_changed(const struct snapcow_repair *r, uint64_t i, uint64_t *chunk);

/**
 * snapcow_repair_records:
 * Call @fn with each kept record, in table order, as it will be written
 * (@fn's non-zero return stops the walk and is returned).
 * Returns: 0, @fn's return, or a negative errno from a read.
 */
int snapcow_repair_records(struct snapcow_repair *r,
			   int (*fn)(void *data, const struct snapcow_exception *e), void *data);

/**
 * snapcow_repair_write:
 * Lay the repaired header and table out as the kernel does
 * (snapcow_writer_new() with @fn as its sink): every metadata chunk of the
 * repaired store goes to @fn with its byte offset, areas first, the header
 * chunk last.  Data chunks are not part of it.
 * Returns: 0, @fn's error, or a negative errno.
 */
int snapcow_repair_write(struct snapcow_repair *r, snapcow_sink_fn fn, void *data);

/** snapcow_repair_free: NULL is fine. */
void snapcow_repair_free(struct snapcow_repair *r);

/* ==== Merging (src/lib/merge.c) =========================================
 * The kernel's merge copies each exception's chunk onto the origin and then
 * removes the exception from the tail of the table: both fields zeroed, the
 * area rewritten, the area before it next when one is empty; the header is
 * kept.  The table stays a prefix of the old one, so a merge cut short
 * resumes from what is left. */

/* Called after each area a shrink has rewritten: @area, and the records
 * the table still holds.  A non-zero return stops the shrink. */
typedef int (*snapcow_shrink_fn)(void *data, uint64_t area, uint64_t left);

/**
 * snapcow_store_merge_shrink:
 * Remove the last @n records of the table of @s (opened with
 * SNAPCOW_OPEN_RDWR) the way the kernel commits merged exceptions: zero
 * both fields of each, from the last record backwards, rewriting each area
 * it touches (the last one first) and syncing it and reading it back
 * before the area in front of it is written, so that the table is a prefix
 * of the old one at every moment.  The header, the rest of each area and
 * the data chunks are not touched.  Call it only once the chunks of those
 * records are on the origin.  @fn may be NULL.
 * Returns: 0, -EINVAL (@n is more than the table holds; logged), -EBADF
 * (not opened for writing), SNAPCOW_ERR_VERIFY (an area read back differs),
 * what @fn returned, or a negative errno (logged with the byte offset).
 */
int snapcow_store_merge_shrink(struct snapcow_store *s, uint64_t n, snapcow_shrink_fn fn,
			       void *data);

/* ==== Safe in-place rewrites and undo files (src/lib/rewrite.c) =========
 *
 * An undo file holds byte ranges of a store saved before an in-place
 * write, so that the write can be reverted byte for byte.  Written in one
 * format, version 3 (versions 1 and 2 of snaprescue 0.1 are still read).
 * All integers little-endian; a 256-byte header, then the ranges:
 *
 *   0   8  magic "SNAPUNDO"           8   4  version (3)
 *   12  4  header bytes (256)        16   4  kind: 1 regular file, 2 block device
 *   20  4  number of ranges          24   8  st_dev of a regular file (else 0)
 *   32  8  st_ino of a regular file  40   8  device number of a block device
 *   48  8  store size in bytes       56  24  reserved (0)
 *   80  8  creation time (seconds since the epoch)
 *   88  4  part number, from 0       92   4  parts in the file (0: one)
 *   96 128 device-mapper UUID of the store, NUL padded ("" if none)
 *  224 24  name of the program that wrote it, NUL padded
 *  248  4  CRC-32 of everything after the header
 *  252  4  CRC-32 of header bytes 0..251
 *
 * Each range: offset (8), length (8), changed offset (8, in the store),
 * changed length (8), then the saved bytes.  Outside the changed part the
 * write leaves the range as saved: undo refuses a store that differs
 * there (it was changed since by someone else).
 *
 * A block device is identified by its device number or, for device-mapper
 * devices (whose minor numbers change across activations), by its dm UUID,
 * which the caller supplies (struct snapcow_identity).
 *
 * The undo of a change to several devices (snap_merge writes the origin and
 * the store) is one file of several parts, one per device: each part is
 * laid out as a whole undo file of its own (header with that device's
 * identity, its ranges, its CRCs), the next one starting where it ends,
 * and bytes 88..95 of each header number it.  A file of one part has 0
 * there.  (snaprescue 0.1 reads only the first part and then refuses the
 * bytes after it.)
 */

#define SNAPCOW_UNDO_MAGIC "SNAPUNDO"
#define SNAPCOW_UNDO_VERSION 3U
#define SNAPCOW_UNDO_HEADER_SIZE 256U

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
 * Describe the file or block device open on @fd from fstat() and its size;
 * dm_uuid is left empty (the caller knows the device-mapper names).
 * Returns: 0 and *@id, -EINVAL if @fd is neither, or a negative errno.
 */
int snapcow_identity_get(int fd, struct snapcow_identity *id);

/**
 * snapcow_identity_match:
 * Returns: 1 if @cur is the store @saved describes (same kind and size;
 * same st_dev/st_ino, or the same dm UUID when both have one, else the same
 * device number), else 0.
 */
int snapcow_identity_match(const struct snapcow_identity *saved,
			   const struct snapcow_identity *cur);

/* One range to save: [offset, offset + length) of the store, of which the
 * write will change at most [changed_offset, changed_offset +
 * changed_length) (give the whole range when it may change anywhere). */
struct snapcow_undo_range {
	uint64_t offset;
	uint64_t length;
	uint64_t changed_offset;
	uint64_t changed_length;
};

/**
 * snapcow_undo_save:
 * Save the @n ranges of the store open (readable) on @fd into a new undo
 * file at @path (O_EXCL, mode 0600) recording identity @id (NULL:
 * snapcow_identity_get() of @fd); fsync it and its directory.  Ranges are
 * clipped to the store's size (empty ones are left out), each at most 1 GiB.
 * Returns: 0, -EEXIST if @path exists, or a negative errno (logged; the
 * file is removed again).
 */
int snapcow_undo_save(struct snapcow_ctx *ctx, int fd, const struct snapcow_identity *id,
		      const char *path, const struct snapcow_undo_range *ranges, size_t n,
		      const char *program);

/* One device's share of a file of several parts. */
struct snapcow_undo_part {
	const struct snapcow_dev *dev;           /* the ranges are read through it */
	const struct snapcow_identity *identity; /* required */
	const struct snapcow_undo_range *ranges;
	size_t n;
};

/**
 * snapcow_undo_save_parts:
 * Save the ranges of @n devices into a new undo file at @path (O_EXCL,
 * mode 0600), one part per device in the order given, as
 * snapcow_undo_save() saves one (ranges clipped to each identity's size).
 * The saved bytes are synced every 64 MiB while they are written; the file
 * and its directory at the end.
 * Returns: 0, -EEXIST if @path exists, -EINVAL, or a negative errno
 * (logged; the file is removed again).
 */
int snapcow_undo_save_parts(struct snapcow_ctx *ctx, const char *path,
			    const struct snapcow_undo_part *parts, size_t n, const char *program);

/* Points of an in-place write at which the step callback is called (a
 * crash at each of them leaves the old or the new bytes on the store). */
enum snapcow_rewrite_step {
	SNAPCOW_STEP_BEFORE_UNDO = 1,  /* nothing written yet */
	SNAPCOW_STEP_AFTER_UNDO = 2,   /* undo file written and synced; store untouched */
	SNAPCOW_STEP_AFTER_WRITE = 3,  /* store written and synced; not yet read back */
};

typedef void (*snapcow_step_fn)(void *data, enum snapcow_rewrite_step step);

struct snapcow_rewrite_options {
	const char *undo_path;                /* created with O_EXCL; required */
	const char *program;                  /* recorded in the undo file; may be NULL */
	const struct snapcow_identity *identity; /* NULL: snapcow_identity_get() */
	snapcow_step_fn step_fn;              /* may be NULL */
	void *step_data;
};

/**
 * snapcow_store_set_valid:
 * Set the header's valid field of @s (opened with SNAPCOW_OPEN_RDWR) to
 * @valid: save the whole header chunk to @opt->undo_path (changed part:
 * bytes 4..7), fsync it and its directory, write the 4 bytes at offset 4,
 * fsync the store, drop its cached pages and read the header chunk back.
 * Returns: 0 when written and verified, 1 when the field already holds
 * @valid (nothing written, no undo file), -EEXIST if the undo file exists,
 * SNAPCOW_ERR_VERIFY, or a negative errno.
 */
int snapcow_store_set_valid(struct snapcow_store *s, uint32_t valid,
			    const struct snapcow_rewrite_options *opt);

struct snapcow_undo;

/**
 * snapcow_undo_open:
 * Read the undo file at @path and check its magic, version, size and CRCs.
 * A file of several parts is refused (applying one part alone would leave
 * the devices out of step): see snapcow_undo_open_parts().
 * Returns: 0 and *@out, SNAPCOW_ERR_UNDO_FORMAT, SNAPCOW_ERR_UNDO_CHECKSUM,
 * -ENOMEM or a negative errno (each logged through @ctx).
 */
int snapcow_undo_open(struct snapcow_ctx *ctx, const char *path, struct snapcow_undo **out);

/**
 * snapcow_undo_open_parts:
 * As snapcow_undo_open(), for a file of one or more parts: *@out is the
 * first part, snapcow_undo_next_part() gives the others (each checked as a
 * whole undo file; the last must end where the file ends).
 * Returns: as snapcow_undo_open().
 */
int snapcow_undo_open_parts(struct snapcow_ctx *ctx, const char *path, struct snapcow_undo **out);

/** Returns: how many parts the file of @u holds (1 for a plain undo file). */
uint32_t snapcow_undo_parts(const struct snapcow_undo *u);

/** Returns: the part after @u (freed with the first part), or NULL. */
const struct snapcow_undo *snapcow_undo_next_part(const struct snapcow_undo *u);

/** Returns: the number of saved ranges. */
uint32_t snapcow_undo_ranges(const struct snapcow_undo *u);
/** Returns: the number of saved bytes in all ranges. */
uint64_t snapcow_undo_bytes(const struct snapcow_undo *u);
/** Returns: the identity of the store the undo file was made for. */
const struct snapcow_identity *snapcow_undo_identity(const struct snapcow_undo *u);

/**
 * snapcow_undo_range:
 * Describe saved range @i.
 * Returns: 0 and *@r, or -EINVAL if there is no range @i.
 */
int snapcow_undo_range(const struct snapcow_undo *u, uint32_t i, struct snapcow_undo_range *r);

/**
 * snapcow_undo_read_saved:
 * Copy the saved bytes of [@offset, @offset + @len) (store offsets inside
 * one range) into @buf.
 * Returns: 0, -EINVAL (not inside one range) or a negative errno.
 */
int snapcow_undo_read_saved(const struct snapcow_undo *u, uint64_t offset, void *buf, size_t len);

enum snapcow_undo_flags {
	SNAPCOW_UNDO_ANY_IDENTITY = 1 << 0, /* apply even to a store of another identity */
	SNAPCOW_UNDO_DRY_RUN = 1 << 1,      /* check everything, write nothing */
};

/**
 * snapcow_undo_apply:
 * Restore the saved bytes on the store open (read-write) on @fd, whose
 * identity is @cur (NULL: snapcow_identity_get() of @fd).  Before the first
 * write: refuse another store's identity (unless SNAPCOW_UNDO_ANY_IDENTITY;
 * sizes are not compared, a write may have grown a file) and a store that
 * differs from the saved bytes outside a range's changed part.  Then write
 * every range back, give a regular file its old size back (a block device
 * of another size: a warning), fsync, drop cached pages, read back and
 * compare.
 * Returns: 0 when restored (or, with SNAPCOW_UNDO_DRY_RUN, when it would
 * be), 1 when the store already holds the saved bytes (nothing written),
 * SNAPCOW_ERR_UNDO_IDENTITY, SNAPCOW_ERR_UNDO_CONTENT, SNAPCOW_ERR_VERIFY
 * or a negative errno.
 */
int snapcow_undo_apply(const struct snapcow_undo *u, int fd, const struct snapcow_identity *cur,
		       unsigned int flags);

/**
 * snapcow_undo_apply_dev:
 * As snapcow_undo_apply() on @dev (its descriptors open read-write), whose
 * identity @cur is required.  A regular file's old size is given back only
 * when @dev is one descriptor.
 * Returns: as snapcow_undo_apply().
 */
int snapcow_undo_apply_dev(const struct snapcow_undo *u, const struct snapcow_dev *dev,
			   const struct snapcow_identity *cur, unsigned int flags);

/** snapcow_undo_free: frees the later parts too; NULL is fine. */
void snapcow_undo_free(struct snapcow_undo *u);

#ifdef __cplusplus
}
#endif
#endif /* SNAPCOW_H */
