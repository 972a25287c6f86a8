/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: any bytes as LVM metadata text (src/common/lvm_vg.c on
 * libdevmapper's config parser), as a metadata area's copy or a
 * vgcfgbackup file is read: parse it, then ask what the tools ask of
 * every LV (snapshot relation, thin pool, its pieces with no PV found,
 * its PE ranges, its device-mapper UUID).  Cross-check (abort()): a
 * parsed VG's LV extents are the sum of their segments' and every LV is
 * found by its name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lvm_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lvm_vg *vg;
	char why[256];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (lvm_vg_parse(text, size, &vg, why, sizeof(why)) == 0) {
		struct lvm_pv_list none = { NULL, 0 };

		fuzz_walk_vg(vg, &none);
		lvm_vg_free(vg);
	}
	free(text);
	return 0;
}

#include "replay.h"
