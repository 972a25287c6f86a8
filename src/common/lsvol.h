/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_ls's job: every snapshot, sparse volume and thin volume of the volume
 * groups found, with what the kernel would make of each and what
 * snaprescue can do for it. */
#ifndef SNAPRESCUE_LSVOL_H
#define SNAPRESCUE_LSVOL_H

#include "volume.h"

enum lsvol_format { LSVOL_HUMAN, LSVOL_JSON };

/* List the volumes of @set on stdout.  Returns: the exit status (0, or 1
 * when a volume could not be read: it is listed with the reason). */
int lsvol_print(const struct volume_set *set, enum lsvol_format format);

#endif
