/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rmap.h"
int rmap_xfs(struct fsview *fv, const struct rmap_opts *o) { (void)fv; (void)o; return 1; }
