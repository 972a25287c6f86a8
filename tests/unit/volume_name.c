/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which operands name a volume (VG/LV) and which are store paths. */
#include <string.h>

#include "unit.h"
#include "volume.h"

int main(void)
{
	struct volume_opts none = { 0 }, pv = { .npv = 1 };
	char vg[128], lv[128];

	CHECK_EQ(volume_split_name("vg/snap", vg, sizeof(vg), lv, sizeof(lv)), 0);
	CHECK(!strcmp(vg, "vg") && !strcmp(lv, "snap"));
	CHECK_EQ(volume_split_name("/dev/vg/snap", vg, sizeof(vg), lv, sizeof(lv)), 0);
	CHECK(volume_split_name("vg/a/b", vg, sizeof(vg), lv, sizeof(lv)) < 0);
	CHECK(volume_split_name("-vg/x", vg, sizeof(vg), lv, sizeof(lv)) < 0);
	CHECK(volume_split_name("cow.img", vg, sizeof(vg), lv, sizeof(lv)) < 0);
	/* a name no file has: the volume */
	CHECK_EQ(volume_is_name(&none, "no-such-vg/snap"), 1);
	/* a relative path that exists is a store */
	CHECK_EQ(volume_is_name(&none, "tests/run"), 0);
	/* /dev/mapper/X is a dm device, whatever --pv says */
	CHECK_EQ(volume_is_name(&none, "/dev/mapper/vg-snap-cow"), 0);
	CHECK_EQ(volume_is_name(&pv, "/dev/mapper/vg-snap-cow"), 0);
	/* with --pv a VG/LV shape is a name, even if such a file exists */
	CHECK_EQ(volume_is_name(&pv, "tests/run"), 1);
	CHECK_EQ(volume_is_name(&none, "cow.img"), 0);
	return unit_done("volume_name");
}
