/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rmap_report.h"
#include "thin_view.h"
#include "trust.h"

void *rmap_xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		errx(EXIT_FAIL, "out of memory");
	return p;
}

static enum trust_origin trust_origin(const struct rmap_report *r)
{
	return r->fv->vs.zero_origin ? TRUST_ORIGIN_ZERO : TRUST_ORIGIN_REAL;
}

void rmap_report_init(struct rmap_report *r, const struct fsview *fv,
		      const struct rmap_opts *o, const struct rmap_meta_kind *kinds,
		      size_t nkinds)
{
	memset(r, 0, sizeof(*r));
	r->fv = fv;
	r->kinds = kinds;
	r->nkinds = nkinds;
	r->meta = rmap_xrealloc(NULL, (nkinds ? nkinds : 1) * sizeof(*r->meta));
	memset(r->meta, 0, (nkinds ? nkinds : 1) * sizeof(*r->meta));
	r->unowned_text = "in use, but no owner found";
	r->want_uncommitted = o->uncommitted;
	r->want_lost = o->uncommitted && fv->vs.zero_origin && o->from == 0 && o->to == UINT64_MAX;
	r->meta_untrusted = rmap_xrealloc(NULL, (nkinds ? nkinds : 1) * sizeof(*r->meta));
	memset(r->meta_untrusted, 0, (nkinds ? nkinds : 1) * sizeof(*r->meta));
	r->want_trust = o->trust;
	r->untrusted = o->trust && trust_origin_now_untrusted(fv->vs.invalid, trust_origin(r));
	r->want_lost |= r->untrusted;
}

void rmap_report_free(struct rmap_report *r)
{
	for (size_t i = 0; i < r->nowners; i++) {
		free(r->owners[i].name);
		free(r->owners[i].path);
	}
	free(r->owners);
	free(r->slots);
	free(r->meta);
	free(r->meta_untrusted);
	free(r->runs);
	r->owners = NULL;
	r->meta = NULL;
	r->meta_untrusted = NULL;
	r->runs = NULL;
	r->nowners = r->nruns = 0;
}

struct rmap_owner *rmap_add_owner(struct rmap_report *r, const struct rmap_owner *o)
{
	if (r->nowners == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->owners = rmap_xrealloc(r->owners, r->cap * sizeof(*r->owners));
	}
	r->owners[r->nowners] = *o;
	return &r->owners[r->nowners++];
}

/* The slot of (@tree, @ino): its entry, or the empty one to fill. */
static size_t slot_of(const struct rmap_report *r, uint64_t tree, uint64_t ino)
{
	size_t i = ((ino ^ (tree << 40)) * 11400714819323198485ULL) & (r->nslots - 1);

	while (r->slots[i] && (r->owners[r->slots[i] - 1].ino != ino ||
			       r->owners[r->slots[i] - 1].tree != tree))
		i = (i + 1) & (r->nslots - 1);
	return i;
}

static void grow_slots(struct rmap_report *r)
{
	size_t n = r->nslots ? r->nslots * 2 : 1024;

	free(r->slots);
	r->slots = calloc(n, sizeof(*r->slots));
	if (!r->slots)
		errx(EXIT_FAIL, "out of memory");
	r->nslots = n;
	for (size_t k = 0; k < r->nowners; k++)
		r->slots[slot_of(r, r->owners[k].tree, r->owners[k].ino)] = k + 1;
}

struct rmap_owner *rmap_owner_find(const struct rmap_report *r, uint64_t tree, uint64_t ino)
{
	size_t i;

	if (!r->nslots)
		return NULL;
	i = slot_of(r, tree, ino);
	return r->slots[i] ? &r->owners[r->slots[i] - 1] : NULL;
}

struct rmap_owner *rmap_owner_get(struct rmap_report *r, uint64_t tree, uint64_t ino)
{
	struct rmap_owner *o = rmap_owner_find(r, tree, ino);

	if (o)
		return o;
	if (r->nowners * 2 >= r->nslots)
		grow_slots(r);
	r->slots[slot_of(r, tree, ino)] = r->nowners + 1;
	return rmap_add_owner(r, &(struct rmap_owner){ .tree = tree, .ino = ino });
}

struct lost_walk {
	struct rmap_report *r;
	uint64_t bs, total;
	void (*fn)(void *data, uint64_t first, uint64_t last);
	void *data;
};

/* A thin volume's range whose mappings were lost, as filesystem blocks. */
static void lost_range(void *data, uint64_t off, uint64_t len, const struct thin_lost *l)
{
	struct lost_walk *w = data;
	uint64_t first = off / w->bs, last = (off + len - 1) / w->bs;

	(void)l;
	w->r->chunks += (len + w->r->fv->vs.chunk_bytes - 1) / w->r->fv->vs.chunk_bytes;
	if (first >= w->total)
		w->r->chunks_past_end++;
	else
		w->fn(w->data, first, last < w->total ? last : w->total - 1);
}

void rmap_each_exception(struct rmap_report *r, const struct rmap_opts *o, uint64_t bs,
			 uint64_t total, void (*fn)(void *data, uint64_t first, uint64_t last),
			 void *data)
{
	const uint64_t cb = r->fv->vs.chunk_bytes;
	const struct snapcow_map *map;
	struct snapcow_exception e;
	uint64_t c = o->from;

	if (r->fv->vs.thin) {
		struct lost_walk w = { r, bs, total, fn, data };

		thin_volume_lost(r->fv->vs.thin, lost_range, &w);
		return;
	}
	map = snapcow_view_map(r->fv->vs.view);
	while (map && c <= o->to && snapcow_map_next(map, c, &e) == 0 && e.old_chunk <= o->to) {
		uint64_t first, last;

		r->chunks++;
		c = e.old_chunk + 1;
		if (e.old_chunk > (UINT64_MAX - 1) / cb) { /* its byte offset overflows */
			r->chunks_past_end++;
			continue;
		}
		first = e.old_chunk * cb / bs;
		last = ((e.old_chunk + 1) * cb - 1) / bs;
		if (first >= total)
			r->chunks_past_end++;
		else
			fn(data, first, last < total ? last : total - 1);
		if (!c)
			break; /* wrapped */
	}
}

void rmap_add_step(struct rmap_report *r, const char *label, const char *fmt, ...)
{
	va_list ap;

	if (r->nsteps >= RMAP_MAX_STEPS)
		return;
	snprintf(r->steps[r->nsteps].label, sizeof(r->steps[0].label), "%s", label);
	va_start(ap, fmt);
	vsnprintf(r->steps[r->nsteps].text, sizeof(r->steps[0].text), fmt, ap);
	va_end(ap);
	r->nsteps++;
}

/* ---- --uncommitted --------------------------------------------------------- */

/* Add data chunk @c to the runs (an area chunk between two chunks does not
 * break a run). */
static int add_uncommitted(void *data, uint64_t c)
{
	struct rmap_report *r = data;
	uint32_t per_area = snapcow_store_per_area(r->fv->vs.store);
	struct rmap_uncommitted_run *last = r->nruns ? &r->runs[r->nruns - 1] : NULL;

	r->uncommitted_chunks++;
	if (last && (last->last + 1 == c ||
		     (last->last + 2 == c && snapcow_chunk_is_metadata(per_area, c - 1)))) {
		last->last = c;
		return 0;
	}
	if (r->nruns == r->runs_cap) {
		r->runs_cap = r->runs_cap ? r->runs_cap * 2 : 64;
		r->runs = rmap_xrealloc(r->runs, r->runs_cap * sizeof(*r->runs));
	}
	r->runs[r->nruns].first = r->runs[r->nruns].last = c;
	r->nruns++;
	return 0;
}

static void scan_uncommitted(struct rmap_report *r)
{
	struct snapcow_store *s = r->fv->vs.store;
	struct snapcow_uncommitted sum;
	int e;

	r->next_free = r->fv->vs.stats.next_free;
	e = snapcow_store_scan_uncommitted(s, r->next_free, add_uncommitted, r, &sum);
	if (e < 0)
		errx(EXIT_FAIL, "%s: cannot scan past next_free: %s", snapcow_store_name(s),
		     snapcow_strerror(e));
}

/* ---- output ---------------------------------------------------------------- */

static const char *file_kind(uint32_t mode)
{
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISLNK(mode))
		return "symlink";
	if (S_ISREG(mode))
		return "file";
	return "other";
}

static uint64_t count_owners(const struct rmap_report *r, int lost)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->nowners; i++)
		if (lost ? r->owners[i].lost != 0 : r->owners[i].changed || r->owners[i].maps)
			n++;
	return n;
}

static void print_files(const struct rmap_report *r)
{
	uint64_t files = count_owners(r, 0);

	printf("\nfiles and directories with %s: %" PRIu64 "\n",
	       r->fv->vs.thin ? "blocks in lost ranges" : "changed blocks", files);
	if (files)
		printf("%10s  %s\n", "blocks", "path");
	for (size_t i = 0; i < r->nowners; i++) {
		const struct rmap_owner *o = &r->owners[i];

		if (!o->changed && !o->maps)
			continue;
		printf("%10" PRIu64 "  %s", o->changed + o->maps, o->path);
		if (!S_ISDIR(o->mode) && o->links > 1)
			printf("  (%u links)", o->links);
		printf("\n");
	}
}

static void print_metadata(const struct rmap_report *r)
{
	printf("\nmetadata:\n");
	for (size_t k = 0; k < r->nkinds; k++)
		if (r->meta[k])
			printf("%10" PRIu64 "  %s\n", r->meta[k], r->kinds[k].name);
	printf("%10" PRIu64 "  free space: no file owns these blocks (deleted files, or\n"
	       "            written by a file whose inode never reached the disk)\n",
	       r->free_blocks);
	if (r->unowned)
		printf("%10" PRIu64 "  %s\n", r->unowned, r->unowned_text);
	if (r->unreadable_inodes)
		printf("warning: %" PRIu64 " inodes could not be read\n", r->unreadable_inodes);
}

static void print_uncommitted(const struct rmap_report *r)
{
	const uint64_t cb = r->fv->vs.chunk_bytes;
	uint64_t lost_files;

	printf("\nuncommitted data: %" PRIu64 " chunk%s past next_free (chunk %" PRIu64 ") "
	       "hold non-zero bytes\n", r->uncommitted_chunks, r->uncommitted_chunks == 1 ? "" :
	       "s", r->next_free);
	for (size_t i = 0; i < r->nruns; i++)
		printf("  store chunks %" PRIu64 "..%" PRIu64 " (bytes %" PRIu64 "..%" PRIu64 ")\n",
		       r->runs[i].first, r->runs[i].last, r->runs[i].first * cb,
		       (r->runs[i].last + 1) * cb - 1);
	if (r->uncommitted_chunks)
		printf("  their origin chunks are unknown: the kernel never wrote their records, "
		       "so they cannot be placed in the view\n");
	if (!r->fv->vs.zero_origin)
		return;
	if (r->lost_unknown) {
		printf("\nfiles whose written data is not in the table: not computed for %s\n",
		       r->fstype);
		return;
	}
	lost_files = count_owners(r, 1);
	printf("\nfiles whose written data is not in the table: %" PRIu64 "\n", lost_files);
	if (lost_files)
		printf("  (zero origin: these blocks read as zeros; their data was never "
		       "committed, possibly in the chunks above)\n%10s  %s\n", "blocks", "path");
	for (size_t i = 0; i < r->nowners; i++)
		if (r->owners[i].lost)
			printf("%10" PRIu64 "  %s\n", r->owners[i].lost, r->owners[i].path);
}

/* ---- --trust ----------------------------------------------------------------- */

static void print_trust(const struct rmap_report *r)
{
	uint64_t files;

	printf("\ntrust: %s\n", trust_verdict(r->fv->vs.invalid, trust_origin(r)));
	if (!r->untrusted) {
		printf("  no part of the view is untrustworthy: no file is listed\n");
		return;
	}
	if (r->lost_unknown) {
		printf("files with blocks in chunks not in the table: not computed for %s\n",
		       r->fstype);
		return;
	}
	files = count_owners(r, 1);
	printf("files and directories with blocks in chunks not in the table (the origin now, "
	       "possibly newer than the snapshot): %" PRIu64 "\n", files);
	if (files)
		printf("%10s  %s\n", "blocks", "path");
	for (size_t i = 0; i < r->nowners; i++)
		if (r->owners[i].lost)
			printf("%10" PRIu64 "  %s\n", r->owners[i].lost, r->owners[i].path);
	printf("metadata in those chunks:\n");
	for (size_t k = 0; k < r->nkinds; k++)
		if (r->meta_untrusted[k])
			printf("%10" PRIu64 "  %s\n", r->meta_untrusted[k], r->kinds[k].name);
}

static json_object *trust_json(const struct rmap_report *r)
{
	json_object *t = json_object_new_object(), *a = json_object_new_array(), *md, *f;

	json_object_object_add(t, "untrustworthy_part", json_object_new_boolean(r->untrusted));
	json_object_object_add(t, "verdict", json_object_new_string(
		trust_verdict(r->fv->vs.invalid, trust_origin(r))));
	json_object_object_add(t, "computed", json_object_new_boolean(!r->lost_unknown));
	for (size_t i = 0; r->untrusted && !r->lost_unknown && i < r->nowners; i++) {
		const struct rmap_owner *w = &r->owners[i];

		if (!w->lost)
			continue;
		f = json_object_new_object();
		fsview_json_add_u64(f, "inode", w->ino);
		json_object_object_add(f, "path", json_object_new_string(w->path));
		json_object_object_add(f, "kind", json_object_new_string(file_kind(w->mode)));
		fsview_json_add_u64(f, "untrusted_blocks", w->lost);
		json_object_array_add(a, f);
	}
	json_object_object_add(t, "files", a);
	md = json_object_new_object();
	for (size_t k = 0; k < r->nkinds; k++)
		fsview_json_add_u64(md, r->kinds[k].key, r->meta_untrusted[k]);
	json_object_object_add(t, "metadata", md);
	return t;
}

static void print_human(const struct rmap_report *r)
{
	fsview_print_store(r->fv, 13);
	printf("filesystem:  %s, %u-byte blocks, %" PRIu64 " blocks\n", r->fstype, r->block_size,
	       r->blocks);
	printf("%-13s%" PRIu64 " %s, %" PRIu64 " filesystem blocks", r->fv->vs.thin ? "lost:" :
	       "changed:", r->chunks, r->fv->vs.thin ? "thin blocks" : "chunks", r->nchanged);
	if (r->chunks_past_end)
		printf(" (%" PRIu64 " chunks past the end of the filesystem)", r->chunks_past_end);
	printf("\n");
	fsview_print_steps(r->steps, r->nsteps, 13);
	print_files(r);
	print_metadata(r);
	if (r->want_uncommitted)
		print_uncommitted(r);
	if (r->want_trust)
		print_trust(r);
}

static json_object *files_json(const struct rmap_report *r)
{
	json_object *a = json_object_new_array(), *f;

	for (size_t i = 0; i < r->nowners; i++) {
		const struct rmap_owner *w = &r->owners[i];

		if (!w->changed && !w->maps && !(r->want_uncommitted && r->fv->vs.zero_origin))
			continue; /* only --trust's */
		f = json_object_new_object();
		fsview_json_add_u64(f, "inode", w->ino);
		json_object_object_add(f, "path", json_object_new_string(w->path));
		json_object_object_add(f, "kind", json_object_new_string(file_kind(w->mode)));
		json_object_object_add(f, "links", json_object_new_int((int32_t)w->links));
		fsview_json_add_u64(f, "changed_blocks", w->changed);
		fsview_json_add_u64(f, "changed_map_blocks", w->maps);
		if (r->want_uncommitted && r->fv->vs.zero_origin && !r->lost_unknown)
			fsview_json_add_u64(f, "uncommitted_blocks", w->lost);
		json_object_array_add(a, f);
	}
	return a;
}

static json_object *uncommitted_json(const struct rmap_report *r)
{
	json_object *f = json_object_new_object(), *a = json_object_new_array(), *o;

	fsview_json_add_u64(f, "next_free", r->next_free);
	fsview_json_add_u64(f, "chunks", r->uncommitted_chunks);
	for (size_t i = 0; i < r->nruns; i++) {
		o = json_object_new_object();
		fsview_json_add_u64(o, "first_chunk", r->runs[i].first);
		fsview_json_add_u64(o, "last_chunk", r->runs[i].last);
		json_object_array_add(a, o);
	}
	json_object_object_add(f, "ranges", a);
	json_object_object_add(f, "origin_chunks_known", json_object_new_boolean(0));
	return f;
}

static void print_json(const struct rmap_report *r)
{
	json_object *o = fsview_json_new(r->fv), *md;

	json_object_object_add(o, "type", json_object_new_string(r->fstype));
	fsview_json_add_u64(o, "block_size", r->block_size);
	fsview_json_add_u64(o, "blocks", r->blocks);
	fsview_json_add_u64(o, "changed_chunks", r->chunks);
	fsview_json_add_u64(o, "changed_blocks", r->nchanged);
	fsview_json_add_u64(o, "chunks_past_end", r->chunks_past_end);
	fsview_json_add_steps(o, r->steps, r->nsteps);
	json_object_object_add(o, "files", files_json(r));
	md = json_object_new_object();
	for (size_t k = 0; k < r->nkinds; k++)
		fsview_json_add_u64(md, r->kinds[k].key, r->meta[k]);
	json_object_object_add(o, "metadata", md);
	fsview_json_add_u64(o, "free_blocks", r->free_blocks);
	fsview_json_add_u64(o, "unowned_blocks", r->unowned);
	if (r->want_uncommitted)
		json_object_object_add(o, "uncommitted", uncommitted_json(r));
	if (r->want_trust)
		json_object_object_add(o, "trust", trust_json(r));
	fsview_json_print(o);
}

static int cmp_owner_path(const void *a, const void *b)
{
	const struct rmap_owner *x = a, *y = b;

	return strcmp(x->path, y->path);
}

static void report_print(struct rmap_report *r)
{
	if (r->nowners)
		qsort(r->owners, r->nowners, sizeof(*r->owners), cmp_owner_path);
	free(r->slots); /* the order changed */
	r->slots = NULL;
	r->nslots = 0;
	if (r->fv->format == FSVIEW_JSON)
		print_json(r);
	else
		print_human(r);
}

void rmap_copy_view(struct rmap_report *r, struct fsimage *im)
{
	char why[4400], cost[96];
	int e;

	if (fsimage_create(im, "snap_rmap", r->fv->vs.size, why, sizeof(why)) < 0)
		errx(EXIT_FAIL, "%s", why);
	e = fsimage_copy(im, r->fv->vs.view, 0, r->fv->vs.size);
	if (e < 0)
		errx(EXIT_FAIL, "cannot copy the view to %s: %s", im->path, strerror(-e));
	rmap_add_step(r, "copy", "the whole view into a temporary sparse file: %s",
		      fsimage_cost(im, cost, sizeof(cost)));
}

int rmap_report_finish(struct rmap_report *r, const struct rmap_opts *o)
{
	int partial = r->fv->vs.thin && r->fv->vs.thin->nlost;

	if (o->uncommitted)
		scan_uncommitted(r);
	report_print(r);
	rmap_report_free(r);
	return partial ? EXIT_PARTIAL : EXIT_OK;
}
