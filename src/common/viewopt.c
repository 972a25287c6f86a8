/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"
#include "viewopt.h"

int viewopt_short(int c)
{
	switch (c) {
	case 'O':
		return VIEWOPT_ORIGIN;
	case 'z':
		return VIEWOPT_ZERO_ORIGIN;
	case 's':
		return VIEWOPT_SIZE;
	}
	return c;
}

int viewopt_parse(struct viewopt *o, int c, const char *arg, int usage_code)
{
	switch (c) {
	case VIEWOPT_ORIGIN:
		o->origin = arg;
		return 1;
	case VIEWOPT_ZERO_ORIGIN:
		o->zero_origin = 1;
		return 1;
	case VIEWOPT_SIZE:
		if (parse_size(arg, &o->size) < 0 || !o->size) {
			warnx("invalid size: '%s'", arg);
			try_help(usage_code);
		}
		return 1;
	case VIEWOPT_IGNORE_INVALID:
		o->ignore_invalid = 1;
		return 1;
	case VIEWOPT_THIN_META:
		o->thin_meta = arg;
		return 1;
	case VIEWOPT_THIN_DATA:
		o->thin_data = arg;
		return 1;
	case VIEWOPT_THIN_ID:
		if (parse_u64(arg, &o->thin_id) < 0 || o->thin_id >= (1ULL << 24)) {
			warnx("invalid thin device id: '%s' (0..16777215)", arg);
			try_help(usage_code);
		}
		o->has_thin_id = 1;
		return 1;
	case VIEWOPT_METADATA_SNAP:
		o->metadata_snap = o->vol.thin_held = 1;
		return 1;
	}
	return volume_parse(&o->vol, c, arg, usage_code);
}

static int thin_paths(const struct viewopt *o)
{
	return o->thin_meta || o->thin_data || o->has_thin_id;
}

const char *viewopt_operand(const struct viewopt *o, int argc, char **argv, int first,
			    int usage_code)
{
	if (!thin_paths(o))
		return one_operand(argc, argv, first, "store", usage_code);
	if (first < argc) {
		warnx("unexpected argument '%s': --thin-meta, --thin-data and --thin-id name the "
		      "volume (a store or VG/LV is given without them)", argv[first]);
		try_help(usage_code);
	}
	return NULL;
}

/* The thin volume of --thin-meta, --thin-data and --thin-id. */
static void check_thin(const struct viewopt *o, int usage_code)
{
	if (!o->thin_meta || !o->thin_data || !o->has_thin_id) {
		warnx("a thin volume needs all of --thin-meta FILE, --thin-data FILE and "
		      "--thin-id N");
		try_help(usage_code);
	}
	if (o->origin || o->zero_origin || o->ignore_invalid || o->vol.npv || o->vol.metadata) {
		warnx("--origin, --zero-origin, --ignore-invalid, --pv and --metadata are not for "
		      "a thin volume read from --thin-meta and --thin-data");
		try_help(usage_code);
	}
}

void viewopt_check(const struct viewopt *o, const char *operand, int usage_code)
{
	if (!operand) {
		check_thin(o, usage_code);
		return;
	}
	if (o->metadata_snap && !volume_is_name(&o->vol, operand)) {
		warnx("--metadata-snap is for a thin volume (--thin-meta, or VG/LV)");
		try_help(usage_code);
	}
	if (volume_is_name(&o->vol, operand)) {
		if (o->origin || o->zero_origin || o->size) {
			warnx("%s: a volume brings its origin and size from LVM's metadata: "
			      "--origin, --zero-origin and --size are for a store given as a file",
			      operand);
			try_help(usage_code);
		}
		return;
	}
	if (o->vol.npv || o->vol.metadata) {
		warnx("%s: --pv and --metadata find a volume by name (VG/LV), not a store file",
		      operand);
		try_help(usage_code);
	}
	if (o->origin && o->zero_origin) {
		warnx("--origin and --zero-origin are mutually exclusive");
		try_help(usage_code);
	}
	if (!o->origin && !o->zero_origin) {
		warnx("the origin is needed: --origin FILE or --zero-origin --size BYTES");
		try_help(usage_code);
	}
	if (o->zero_origin && !o->size) {
		warnx("--zero-origin needs --size (the volume's virtual size)");
		try_help(usage_code);
	}
}

/* Say what an invalid store means for what is read from it: the committed
 * table, what the origin may hold now, and the data never committed. */
void viewset_warn_invalid(struct viewset *vs, const char *store, int zero_origin)
{
	struct snapcow_uncommitted u;
	unsigned long mark = tool_lib_errors();
	int r;

	r = snapcow_store_scan_uncommitted(vs->store, vs->stats.next_free, NULL, NULL, &u);
	if (r < 0)
		lib_failed(EXIT_FAIL, mark, r, "%s: cannot scan past the table", store);
	warnx("warning: %s is marked invalid (valid flag 0: the snapshot overflowed or "
	      "failed); reading the %" PRIu64 " exceptions it committed", store,
	      vs->stats.exceptions);
	if (zero_origin)
		warnx("warning: the origin is zeros (a --virtualsize volume), so everything "
		      "committed is recoverable, but data written after the last commit is "
		      "lost: check the filesystem before using it");
	else
		warnx("warning: origin writes after the invalidation were not copied to the "
		      "store: chunks not in its table may be newer than the snapshot was");
	if (u.chunks)
		warnx("warning: %" PRIu64 " non-zero data chunk%s at or past the first free "
		      "chunk %" PRIu64 " (chunks %" PRIu64 "..%" PRIu64 ") %s never committed "
		      "to the table and %s not included (the kernel would not show %s either)",
		      u.chunks, u.chunks == 1 ? "" : "s", vs->stats.next_free, u.first, u.last,
		      u.chunks == 1 ? "was" : "were", u.chunks == 1 ? "is" : "are",
		      u.chunks == 1 ? "it" : "them");
	else
		warnx("warning: no uncommitted data found past the first free chunk %" PRIu64,
		      vs->stats.next_free);
}

/* Exceptions whose old chunk is wholly past the end of the view. */
static uint64_t count_beyond(const struct snapcow_map *m, uint64_t size, uint32_t cb)
{
	struct snapcow_exception e;
	uint64_t from = size / cb + (size % cb != 0), n = 0;

	while (snapcow_map_next(m, from, &e) == 0) {
		n++;
		if (e.old_chunk == UINT64_MAX)
			break;
		from = e.old_chunk + 1;
	}
	return n;
}

/* What the table holds that the snapshot does not show. */
void viewset_warn_table(const struct viewset *vs, const char *store)
{
	const struct snapcow_map *m = snapcow_view_map(vs->view);
	uint64_t beyond = count_beyond(m, vs->size, vs->chunk_bytes);

	if (snapcow_map_duplicates(m))
		warnx("warning: %s: %" PRIu64 " records remap an old chunk that another record "
		      "remaps too; the one the kernel finds is used", store,
		      snapcow_map_duplicates(m));
	if (beyond)
		warnx("warning: %s: %" PRIu64 " exceptions remap chunks past the end of the "
		      "snapshot (%" PRIu64 " bytes); they are not part of it", store, beyond,
		      vs->size);
}

/* The store and origin of a store path: *@osize is the origin's size. */
static void open_path(const struct viewopt *o, const char *store_path, struct viewset *vs,
		      uint64_t *osize, int fail_code)
{
	int r;

	vs->store = store_open_or_exit(store_path, 0, fail_code);
	vs->zero_origin = o->zero_origin;
	if (!o->origin)
		return;
	vs->origin_fd = open(o->origin, O_RDONLY | O_CLOEXEC);
	if (vs->origin_fd < 0)
		errx(fail_code, "cannot open %s: %s", o->origin, strerror(errno));
	r = fd_size(vs->origin_fd, NULL, osize);
	if (r < 0)
		errx(fail_code, "cannot get the size of %s: %s", o->origin,
		     r == -EINVAL ? "not a regular file or block device" : strerror(-r));
	if (o->size_within_origin && o->size > *osize)
		errx(fail_code, "--size %" PRIu64 " is larger than the origin %s (%" PRIu64
		     " bytes)", o->size, o->origin, *osize);
	vs->origin = o->origin;
}

/* The store and origin of the volume in vs->vol, opened. */
static void open_volume_store(const char *name, struct viewset *vs, int fail_code)
{
	unsigned long mark = tool_lib_errors();
	int r = snapcow_store_open_dev(tool_ctx(), vs->vol.cow, 0, &vs->store);

	if (r < 0)
		lib_failed(fail_code, mark, r, "cannot open %s", name);
	vs->zero_origin = vs->vol.kind == VOLUME_SPARSE;
	vs->origin = vs->zero_origin ? NULL : vs->vol.snap.origin->name;
}

/* One of --thin-meta / --thin-data, read-only. */
static struct snapcow_dev *open_input(const char *path, int *fd, int fail_code)
{
	struct snapcow_dev *d;
	int r;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		errx(fail_code, "cannot open %s: %s", path, strerror(errno));
	r = snapcow_dev_new_fd(*fd, path, &d);
	if (r < 0)
		errx(fail_code, "cannot open %s: %s", path, r == -EINVAL ?
		     "not a regular file or block device" : strerror(-r));
	return d;
}

/* A thin volume: the pool's metadata and data, the device, its size. */
static void open_thin(const struct viewopt *o, const char *name, struct viewset *vs,
		      int fail_code)
{
	const struct snapcow_dev *meta = vs->vol.thin_meta, *data = vs->vol.thin_data;
	uint64_t id = vs->vol.thin_id, size = vs->vol.size;
	int r;

	if (!name) {
		meta = vs->thin_meta = open_input(o->thin_meta, &vs->thin_meta_fd, fail_code);
		data = vs->thin_data = open_input(o->thin_data, &vs->thin_data_fd, fail_code);
		id = o->thin_id;
		size = o->size;
		snprintf(vs->thin_name, sizeof(vs->thin_name), "%s, thin device %" PRIu64,
			 o->thin_meta, id);
	} else {
		snprintf(vs->thin_name, sizeof(vs->thin_name), "%s", name);
	}
	name = vs->thin_name;
	vs->thin = calloc(1, sizeof(*vs->thin));
	if (!vs->thin)
		errx(fail_code, "out of memory");
	thin_volume_open(vs->thin, meta, snapcow_dev_name(meta), data, id, size,
			 o->metadata_snap || vs->vol.thin_held, fail_code);
	vs->size = vs->thin->size;
	vs->chunk_bytes = vs->thin->block_bytes;
	vs->origin = snapcow_dev_name(data);
	r = snapcow_view_new_plain(tool_ctx(), vs->thin->pieces, vs->size, &vs->view);
	if (r < 0)
		errx(fail_code, "%s: cannot build the view: %s", name, snapcow_strerror(r));
}

/* The figures, the invalid-store policy, the map and the view. */
static void finish_view(const struct viewopt *o, const char *name, struct viewset *vs,
			uint64_t osize, int fail_code)
{
	struct snapcow_map *map;
	unsigned long mark;
	int r;

	vs->chunk_bytes = snapcow_store_chunk_bytes(vs->store);
	vs->invalid = snapcow_store_header(vs->store)->valid == 0;
	if (vs->invalid && !o->ignore_invalid && !o->invalid_is_warning && !o->invalid_deferred)
		errx(fail_code, "%s: store is marked invalid (valid flag 0 at byte offset 4): "
		     "the kernel would refuse to read it; --ignore-invalid reads what it "
		     "committed", name);
	vs->size = o->size ? o->size : osize;
	if (!vs->size)
		errx(fail_code, "%s: the origin is empty", o->origin);
	mark = tool_lib_errors();
	r = snapcow_store_scan(vs->store, &vs->stats);
	if (r < 0)
		lib_failed(fail_code, mark, r, "%s: cannot read the exception table", name);
	if (vs->invalid && !o->invalid_deferred)
		viewset_warn_invalid(vs, name, vs->zero_origin);
	r = snapcow_map_new(vs->store, &map);
	if (r < 0)
		lib_failed(fail_code, mark, r, "%s: cannot read the exception table", name);
	if (vs->vol.cow)
		r = snapcow_view_new_dev(vs->store, map, vs->vol.origin, vs->size, &vs->view);
	else
		r = snapcow_view_new(vs->store, map, vs->origin_fd, vs->size, &vs->view);
	if (r < 0)
		errx(fail_code, "%s: cannot build the snapshot view: %s", name, snapcow_strerror(r));
}

static void viewset_reset(struct viewset *vs)
{
	memset(vs, 0, sizeof(*vs));
	vs->origin_fd = vs->thin_meta_fd = vs->thin_data_fd = -1;
	vs->vol.cow_fd = vs->vol.origin_fd = -1;
}

void viewopt_open(const struct viewopt *o, const char *store_path, struct viewset *vs,
		  int fail_code)
{
	uint64_t osize = 0;

	viewset_reset(vs);
	if (!store_path) { /* --thin-meta, --thin-data */
		if (o->stores_only)
			errx(fail_code, "--thin-meta and --thin-data name a thin volume: it has no "
			     "exception store");
		open_thin(o, NULL, vs, fail_code);
		return;
	}
	if (volume_is_name(&o->vol, store_path)) {
		volume_open(&o->vol, store_path, &vs->vol, fail_code);
		if (o->stores_only)
			volume_refuse_thin(&vs->vol, store_path, fail_code);
		if (vs->vol.kind == VOLUME_THIN) {
			open_thin(o, store_path, vs, fail_code);
			return;
		}
		open_volume_store(store_path, vs, fail_code);
		osize = vs->vol.size;
	} else {
		open_path(o, store_path, vs, &osize, fail_code);
	}
	finish_view(o, store_path, vs, osize, fail_code);
}

void viewset_open_in(const struct viewopt *o, const struct volume_set *set, const char *vg,
		     const char *lv, struct viewset *vs, int fail_code)
{
	char name[2 * LVM_NAME_MAX + 2];

	viewset_reset(vs);
	snprintf(name, sizeof(name), "%s/%s", vg, lv);
	volume_open_in(set, vg, lv, &vs->vol, fail_code);
	if (vs->vol.kind == VOLUME_THIN) {
		open_thin(o, name, vs, fail_code);
		return;
	}
	open_volume_store(name, vs, fail_code);
	finish_view(o, name, vs, vs->vol.size, fail_code);
}

void viewset_close(struct viewset *vs)
{
	snapcow_view_free(vs->view);
	snapcow_store_free(vs->store);
	if (vs->thin) {
		thin_volume_close(vs->thin);
		free(vs->thin);
	}
	snapcow_dev_free(vs->thin_meta);
	snapcow_dev_free(vs->thin_data);
	if (vs->thin_meta_fd >= 0)
		close(vs->thin_meta_fd);
	if (vs->thin_data_fd >= 0)
		close(vs->thin_data_fd);
	if (vs->origin_fd >= 0)
		close(vs->origin_fd);
	if (vs->vol.cow || vs->vol.thin_meta)
		volume_close(&vs->vol);
	memset(vs, 0, sizeof(*vs));
	vs->origin_fd = vs->thin_meta_fd = vs->thin_data_fd = -1;
}
