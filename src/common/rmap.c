/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rmap.h"

int rmap_view(struct fsview *fv, const struct rmap_opts *o)
{
	switch (fv->family) {
	case FS_XFS:
		return rmap_xfs(fv, o);
	case FS_BTRFS:
		return rmap_btrfs(fv, o);
	default:
		return rmap_ext2(fv, o);
	}
}
