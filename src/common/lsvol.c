/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsvol.h"
#include "tool.h"

/* One row. */
struct row {
	const struct lvm_vg *vg;
	const struct lvm_lv *lv;
	const char *kind;          /* snapshot, sparse, thin */
	char origin[LVM_NAME_MAX];
	uint64_t size, cow_size;
	uint32_t chunk_sectors;
	int merging;
	/* from the COW store (snapshots) */
	int read;                  /* the store could be read */
	char problem[320];         /* why not */
	int valid, full;
	uint64_t exceptions, allocated, total, metadata;
	/* thin */
	char pool[LVM_NAME_MAX];
	uint64_t thin_id;
	char where[512];
	char state[64];
	char hint[1024];
};

/* Open the COW through its pieces and read what the kernel would. */
static void read_cow(struct row *w)
{
	struct snapcow_dev_piece *p;
	struct snapcow_store *s;
	struct snapcow_stats st;
	struct snapcow_dev *d;
	size_t n;
	int r;

	r = lvm_lv_pieces(w->vg, w->lv, &p, &n, w->problem, sizeof(w->problem));
	if (r < 0)
		return;
	r = snapcow_dev_new_pieces(w->lv->name, p, n, &d);
	free(p);
	if (r < 0) {
		snprintf(w->problem, sizeof(w->problem), "%s", snapcow_strerror(r));
		return;
	}
	tool_set_verbosity(-1); /* a damaged store is a row, not a message */
	r = snapcow_store_open_dev(tool_ctx(), d, 0, &s);
	if (!r) {
		r = snapcow_store_scan(s, &st);
		w->valid = snapcow_store_header(s)->valid != 0;
		snapcow_store_free(s);
	}
	tool_set_verbosity(1);
	snapcow_dev_free(d);
	if (r < 0) {
		snprintf(w->problem, sizeof(w->problem), "the COW is not a usable store: %s",
			 snapcow_strerror(r));
		return;
	}
	w->read = 1;
	w->full = st.full;
	w->exceptions = st.exceptions;
	w->allocated = st.allocated_sectors;
	w->total = st.total_sectors;
	w->metadata = st.metadata_sectors;
}

static void snapshot_row(struct row *w, const struct lvm_snapshot *sn)
{
	w->kind = sn->sparse ? "sparse" : "snapshot";
	snprintf(w->origin, sizeof(w->origin), "%s", sn->sparse ? "" : sn->origin->name);
	w->size = sn->size;
	w->cow_size = w->lv->extents * w->vg->extent_sectors * 512;
	w->chunk_sectors = sn->chunk_sectors;
	w->merging = sn->merging;
	lvm_lv_pe_ranges(w->vg, w->lv, w->where, sizeof(w->where));
	read_cow(w);
	if (!w->read)
		snprintf(w->state, sizeof(w->state), "unreadable");
	else
		snprintf(w->state, sizeof(w->state), "%s%s%s", w->valid ? "valid" : "invalid",
			 w->merging ? ", merging" : "", w->full && w->valid ? ", full" : "");
}

static void hint(struct row *w)
{
	const char *vg = w->vg->name, *lv = w->lv->name;

	if (!strcmp(w->kind, "thin"))
		snprintf(w->hint, sizeof(w->hint), "thin volume of pool %s/%s (device id %" PRIu64
			 "): snap_extract %s/%s reads it without activating the pool; "
			 "snap_resurrect %s/%s brings the pool back", vg, w->pool, w->thin_id, vg,
			 lv, vg, lv);
	else if (!w->read)
		snprintf(w->hint, sizeof(w->hint), "cannot be read: %s", w->problem);
	else if (w->merging)
		snprintf(w->hint, sizeof(w->hint), "merge pending: LVM finishes it when %s/%s is "
			 "next activated; snap_extract %s/%s reads the snapshot as it was", vg,
			 w->origin, vg, lv);
	else if (!w->valid && !strcmp(w->kind, "sparse"))
		snprintf(w->hint, sizeof(w->hint), "overflowed: snap_resurrect %s/%s brings it back "
			 "(offline: snap_extract --ignore-invalid %s/%s -o FILE)", vg, lv, vg, lv);
	else if (!w->valid)
		snprintf(w->hint, sizeof(w->hint), "invalidated: snap_extract --ignore-invalid %s/%s "
			 "gets the committed chunks; the others come from the origin as it is now",
			 vg, lv);
	else if (w->full)
		snprintf(w->hint, sizeof(w->hint), "full: the next new chunk invalidates it; grow "
			 "it (lvextend) now");
	else
		snprintf(w->hint, sizeof(w->hint), "snap_extract %s/%s -o FILE copies it out; "
			 "snap_check %s/%s checks it", vg, lv, vg, lv);
}

/* Fill @w for @lv; 0 when @lv is none of the kinds listed. */
static int make_row(const struct lvm_vg *vg, const struct lvm_lv *lv, struct row *w)
{
	struct lvm_snapshot sn;
	const struct lvm_seg *ts;
	const struct lvm_lv *pool;

	memset(w, 0, sizeof(*w));
	w->vg = vg;
	w->lv = lv;
	if (lvm_vg_snapshot(vg, lv, &sn)) {
		snapshot_row(w, &sn);
	} else if (lvm_vg_thin(vg, lv, &ts, &pool)) {
		w->kind = "thin";
		snprintf(w->origin, sizeof(w->origin), "%s", ts->origin);
		snprintf(w->pool, sizeof(w->pool), "%s", ts->thin_pool);
		w->thin_id = ts->device_id;
		w->size = lv->extents * vg->extent_sectors * 512;
		w->chunk_sectors = pool && pool->nsegs ? pool->segs[0].chunk_sectors : 0;
		w->read = 1;
		snprintf(w->state, sizeof(w->state), "thin");
	} else {
		return 0;
	}
	hint(w);
	return 1;
}

static void print_human(const struct row *w, int *header)
{
	char sz[32], cow[32], chunk[32], fill[16] = "-", exc[24] = "-";

	if (!*header) {
		printf("%-10s %-16s %-9s %-16s %9s %9s %8s %-18s %10s  %s\n", "VG", "LV", "KIND",
		       "ORIGIN", "SIZE", "COW", "CHUNK", "STATE", "EXCEPTIONS", "FILL");
		*header = 1;
	}
	if (w->read && w->total) {
		snprintf(fill, sizeof(fill), "%.2f%%", 100.0 * (double)w->allocated /
						     (double)w->total);
		snprintf(exc, sizeof(exc), "%" PRIu64, w->exceptions);
	}
	printf("%-10s %-16s %-9s %-16s %9s %9s %8s %-18s %10s  %s\n", w->vg->name,
	       w->lv->name, w->kind, w->origin[0] ? w->origin : "-",
	       format_size(w->size, sz, sizeof(sz)),
	       w->cow_size ? format_size(w->cow_size, cow, sizeof(cow)) : "-",
	       w->chunk_sectors ? format_size(w->chunk_sectors * 512ULL, chunk, sizeof(chunk)) : "-",
	       w->state, exc, fill);
	if (w->where[0])
		printf("    COW on %s\n", w->where);
	printf("    %s\n", w->hint);
}

static json_object *json_row(const struct row *w)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "vg", json_object_new_string(w->vg->name));
	json_object_object_add(o, "lv", json_object_new_string(w->lv->name));
	json_object_object_add(o, "kind", json_object_new_string(w->kind));
	json_object_object_add(o, "origin", w->origin[0] ? json_object_new_string(w->origin) : NULL);
	json_object_object_add(o, "size", json_object_new_uint64(w->size));
	json_object_object_add(o, "chunk_size", json_object_new_uint64(w->chunk_sectors * 512ULL));
	json_object_object_add(o, "state", json_object_new_string(w->state));
	if (strcmp(w->kind, "thin")) {
		json_object_object_add(o, "valid", w->read ? json_object_new_boolean(w->valid) : NULL);
		json_object_object_add(o, "merging", json_object_new_boolean(w->merging));
		json_object_object_add(o, "full", w->read ? json_object_new_boolean(w->full) : NULL);
		json_object_object_add(o, "exceptions", w->read ? json_object_new_uint64(w->exceptions) : NULL);
		json_object_object_add(o, "cow_size", json_object_new_uint64(w->cow_size));
		json_object_object_add(o, "allocated_sectors", w->read ? json_object_new_uint64(w->allocated) : NULL);
		json_object_object_add(o, "metadata_sectors", w->read ? json_object_new_uint64(w->metadata) : NULL);
		json_object_object_add(o, "total_sectors", w->read ? json_object_new_uint64(w->total) : NULL);
		json_object_object_add(o, "cow_segments", json_object_new_string(w->where));
		if (!w->read)
			json_object_object_add(o, "problem", json_object_new_string(w->problem));
	} else {
		json_object_object_add(o, "pool", json_object_new_string(w->pool));
		json_object_object_add(o, "thin_id", json_object_new_uint64(w->thin_id));
	}
	json_object_object_add(o, "hint", json_object_new_string(w->hint));
	return o;
}

int lsvol_print(const struct volume_set *set, enum lsvol_format format)
{
	json_object *all = json_object_new_array();
	int header = 0, ret = 0;
	struct row w;

	for (size_t i = 0; i < set->nvgs; i++) {
		const struct lvm_vg *vg = set->vgs[i];

		for (size_t k = 0; k < vg->nlvs; k++) {
			if (!make_row(vg, &vg->lvs[k], &w))
				continue;
			ret |= !w.read;
			if (format == LSVOL_JSON)
				json_object_array_add(all, json_row(&w));
			else
				print_human(&w, &header);
		}
	}
	if (format == LSVOL_JSON)
		printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (!header)
		printf("no snapshots, sparse volumes or thin volumes found\n");
	json_object_put(all);
	return ret ? EXIT_FAIL : EXIT_OK;
}
