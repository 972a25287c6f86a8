/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fsck.h"

int fsck_view(struct fsview *fv, const struct fsck_opts *o)
{
	switch (fv->family) {
	case FS_XFS:
		return fsck_xfs(fv, o);
	case FS_BTRFS:
		return fsck_btrfs(fv, o);
	default:
		return fsck_ext2(fv, o);
	}
}
