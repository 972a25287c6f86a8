/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_lvm_vg and fuzz_lvm_pv: what the tools ask of a parsed VG (every
 * LV's snapshot relation, thin pool, pieces, PE ranges, device-mapper
 * UUID), with a cross-check (abort()): an LV's extents are the sum of its
 * segments' and every LV is found by its name.  After fuzz.h. */
#ifndef SNAPRESCUE_FUZZ_LVM_WALK_H
#define SNAPRESCUE_FUZZ_LVM_WALK_H

#include <stdlib.h>

#include "lvm_vg.h"

static void fuzz_walk_vg(struct lvm_vg *vg, const struct lvm_pv_list *pvs)
{
	char buf[1024], why[256];
	size_t i, k;

	lvm_vg_attach(vg, pvs);
	for (i = 0; i < vg->nlvs; i++) {
		const struct lvm_lv *lv = &vg->lvs[i], *pool;
		const struct lvm_seg *thin;
		struct snapcow_dev_piece *pieces = NULL;
		struct lvm_snapshot snap;
		uint64_t ext = 0;
		size_t n = 0;

		for (k = 0; k < lv->nsegs; k++)
			ext += lv->segs[k].extent_count;
		FUZZ_CHECK(ext == lv->extents, "LV %s: %llu extents, its segments have %llu",
			   lv->name, (unsigned long long)lv->extents, (unsigned long long)ext);
		FUZZ_CHECK(lvm_vg_find_lv(vg, lv->name) != NULL, "LV %s is not found by its name",
			   lv->name);
		lvm_vg_snapshot(vg, lv, &snap);
		lvm_vg_thin(vg, lv, &thin, &pool);
		if (lvm_lv_pieces(vg, lv, &pieces, &n, why, sizeof(why)) == 0)
			free(pieces);
		lvm_lv_pe_ranges(vg, lv, buf, sizeof(buf));
		lvm_lv_dm_uuid(vg, lv, buf, sizeof(buf));
	}
}

#endif
