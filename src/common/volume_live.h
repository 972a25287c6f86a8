/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live system's side of volume.c: the PVs LVM reports, and the active
 * device-mapper devices of an LV. */
#ifndef SNAPRESCUE_VOLUME_LIVE_H
#define SNAPRESCUE_VOLUME_LIVE_H

#include <stddef.h>

/* The device paths of every PV LVM reports (liblvm2cmd), malloc'd into
 * *@paths.  Exits @code when LVM cannot be asked.  Returns: how many. */
int volume_live_pvs(char ***paths, int code);
void volume_live_free(char **paths, int n);

/* Open LV @vg/@lv's active dm device "VG-LV@suffix" read-only (for
 * "-real", the origin LV's own device when no snapshot of it is active), its
 * cached pages dropped (dm-snapshot writes the COW with dm-io).  Returns: 1
 * with *@fd and its path in @where, or 0 when it is not active. */
int volume_live_dm(const char *vg, const char *lv, const char *suffix, int *fd, char *where,
		   size_t len);

#endif
