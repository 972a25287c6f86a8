/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The btrfs check of a snapshot view (snap_fsck), through btrfs-progs on a
 * temporary copy of the view (fsimage.h): without --full only the
 * superblock copies (64 KiB, 64 MiB, 256 GiB) are copied and "btrfs
 * inspect-internal dump-super -a" reads them (checksums, generations, the
 * device count, a log tree waiting for replay); with --full the whole view
 * is copied and "btrfs check --readonly" checks it.  btrfs is copy-on-write:
 * the last committed tree is consistent without a replay, so a log tree (the
 * changes fsync'd since) is reported, not counted against the verdict.
 * Nothing is mounted and the store and the origin are never written.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsck.h"
#include "fsck_report.h"
#include "btrfsprogs.h"

struct btrfs_figures {
	struct btrfs_sb s;
	int copies; /* superblock copies the device is large enough to hold */
};

/* dump-super -a on a copy of the superblock copies of the view. */
static void read_supers(struct fsck_report *r, struct btrfs_figures *x)
{
	char why[4400], cost[96];
	struct fsimage im;
	int e = 0;

	if (fsimage_create(&im, "snap_fsck", r->fv->vs.size, why, sizeof(why)) < 0)
		errx(FSCK_EXIT_OPERROR, "%s", why);
	for (int i = 0; i < BTRFS_SB_COPIES && !e; i++)
		e = fsimage_copy(&im, r->fv->vs.view, btrfs_sb_offset[i], 4096);
	if (e < 0)
		errx(FSCK_EXIT_OPERROR, "cannot copy the view to %s: %s", im.path, strerror(-e));
	e = btrfs_dump_super(im.path, &x->s, why, sizeof(why));
	fsimage_remove(&im);
	if (e < 0)
		errx(FSCK_EXIT_OPERROR, "%s", why);
	fsck_add_step(r, "read", "btrfs inspect-internal dump-super -a on a temporary partial "
		      "copy (the superblock copies: %s)", fsimage_cost(&im, cost, sizeof(cost)));
}

/* ---- the checks ------------------------------------------------------------ */

static void check_copies(struct fsck_report *r, struct btrfs_figures *x)
{
	const struct btrfs_super_copy *s0 = &x->s.copy[0];
	unsigned int bad = 0, first = 0;

	for (int i = 0; i < BTRFS_SB_COPIES; i++)
		if (btrfs_sb_offset[i] + 4096 <= x->s.total_bytes &&
		    btrfs_sb_offset[i] + 4096 <= r->fv->vs.size)
			x->copies = i + 1;
	for (int i = 1; i < x->copies; i++) {
		const struct btrfs_super_copy *s = &x->s.copy[i];

		if (s->seen && s->magic_ok && s->csum_ok && s->generation == s0->generation)
			continue;
		if (!bad++)
			first = (unsigned int)i;
	}
	if (bad)
		fsck_add_finding(r, FSCK_SEV_WARNING, "superblock-copies", "%u of %d superblock "
				 "copies are missing, damaged or from another generation (first: "
				 "the one at byte %" PRIu64 "); 'btrfs rescue super-recover' "
				 "rewrites them", bad, x->copies - 1, btrfs_sb_offset[first]);
}

static void check_supers(struct fsck_report *r, struct btrfs_figures *x)
{
	const struct btrfs_super_copy *s0 = &x->s.copy[0];

	if (!s0->seen || !s0->magic_ok || !s0->csum_ok) {
		fsck_add_finding(r, FSCK_SEV_ERROR, "superblock", "the primary superblock (byte "
				 "65536) %s", !s0->seen || !s0->magic_ok ? "cannot be read" :
				 "has a wrong checksum");
		return;
	}
	if (x->s.total_bytes > r->fv->vs.size)
		fsck_add_finding(r, FSCK_SEV_ERROR, "size", "the filesystem (%" PRIu64 " bytes) "
				 "is larger than the view (%" PRIu64 " bytes): wrong --size or "
				 "origin?", x->s.total_bytes, r->fv->vs.size);
	if (x->s.num_devices != 1)
		fsck_add_finding(r, FSCK_SEV_ERROR, "devices", "the filesystem spans %" PRIu64
				 " devices and this view is one of them (device %" PRIu64 "): it "
				 "cannot be checked alone", x->s.num_devices, x->s.devid);
	if (!x->s.dev_fsid_ok)
		fsck_add_finding(r, FSCK_SEV_WARNING, "dev-item", "the superblock's device item "
				 "names another filesystem (dev_item.fsid)");
	if (strstr(x->s.flags, "METADUMP") || strstr(x->s.flags, "CHANGING_FSID") ||
	    strstr(x->s.flags, "SEEDING"))
		fsck_add_finding(r, FSCK_SEV_WARNING, "flags", "superblock flags %s", x->s.flags);
	if (x->s.log_root)
		fsck_add_finding(r, FSCK_SEV_WARNING, "log-tree", "a log tree holds changes "
				 "fsync'd after the last commit (log_root %" PRIu64 "): the next "
				 "mount replays them ('btrfs rescue zero-log' would discard them)",
				 x->s.log_root);
	check_copies(r, x);
}

/* ---- --full ---------------------------------------------------------------- */

static int btrfs_judge(int status, int *found)
{
	*found = status != 0;
	return status ? FSCK_EXIT_ERRORS : FSCK_EXIT_OK;
}

static int btrfs_prepare(struct fsck_report *r, struct fsimage *im)
{
	char cost[96];

	fsck_add_step(r, "copy", "the whole view into a temporary sparse file: %s",
		      fsimage_cost(im, cost, sizeof(cost)));
	return 0;
}

static const char *const btrfs_check_args[] = { "check", "--readonly", NULL };

static const struct fsck_checker btrfs_check = {
	.name = "btrfs",
	.key = "btrfs_check",
	.args = btrfs_check_args,
	.label = "btrfs check --readonly",
	.meaning = btrfs_check_status_meaning,
	.judge = btrfs_judge,
	.prepare = btrfs_prepare,
};

/* ---- output ---------------------------------------------------------------- */

static void print_human(const struct fsck_report *r)
{
	const struct btrfs_figures *x = r->fs;
	int good = 0;

	for (int i = 1; i < x->copies; i++)
		good += x->s.copy[i].seen && x->s.copy[i].magic_ok && x->s.copy[i].csum_ok &&
			x->s.copy[i].generation == x->s.copy[0].generation;
	if (!x->s.copy[0].seen)
		return;
	printf("filesystem:     %s, %" PRIu64 " bytes (%" PRIu64 " used), %u-byte sectors, "
	       "%u-byte nodes, %" PRIu64 " device%s\n", r->fstype, x->s.total_bytes,
	       x->s.bytes_used, x->s.sectorsize, x->s.nodesize, x->s.num_devices,
	       x->s.num_devices == 1 ? "" : "s");
	printf("features:       %s\n", x->s.features[0] ? x->s.features : "(none)");
	printf("superblock:     generation %" PRIu64 ", checksum (%s) %s; %d of %d backup "
	       "copies agree\n", x->s.copy[0].generation, x->s.csum_type,
	       x->s.copy[0].csum_ok ? "ok" : "WRONG", good, x->copies > 0 ? x->copies - 1 : 0);
	printf("log tree:       %s\n", x->s.log_root ? "present: replayed at the next mount" :
	       "none");
}

static void add_json(const struct fsck_report *r, json_object *o)
{
	const struct btrfs_figures *x = r->fs;
	json_object *a, *c;

	fsview_json_add_words(o, "features", x->s.features, " ");
	json_object_object_add(o, "fsid", json_object_new_string(x->s.fsid));
	fsview_json_add_u64(o, "total_bytes", x->s.total_bytes);
	fsview_json_add_u64(o, "bytes_used", x->s.bytes_used);
	fsview_json_add_u64(o, "sector_size", x->s.sectorsize);
	fsview_json_add_u64(o, "node_size", x->s.nodesize);
	fsview_json_add_u64(o, "devices", x->s.num_devices);
	fsview_json_add_u64(o, "generation", x->s.copy[0].generation);
	json_object_object_add(o, "log_tree", json_object_new_boolean(x->s.log_root != 0));
	a = json_object_new_array();
	for (int i = 0; i < x->copies; i++) {
		c = json_object_new_object();
		fsview_json_add_u64(c, "offset", btrfs_sb_offset[i]);
		json_object_object_add(c, "readable", json_object_new_boolean(x->s.copy[i].seen &&
									      x->s.copy[i].magic_ok));
		json_object_object_add(c, "csum_ok", json_object_new_boolean(x->s.copy[i].csum_ok));
		fsview_json_add_u64(c, "generation", x->s.copy[i].generation);
		json_object_array_add(a, c);
	}
	json_object_object_add(o, "superblocks", a);
}

static const struct fsck_fs_ops btrfs_ops = {
	.print_human = print_human,
	.add_json = add_json,
};

int fsck_btrfs(struct fsview *fv, const struct fsck_opts *o)
{
	struct btrfs_figures x = { .copies = 0 };
	struct fsck_report r;
	int code;

	fsck_report_init(&r, fv, &btrfs_check, &btrfs_ops, &x);
	snprintf(r.fstype, sizeof(r.fstype), "%s", fv->type);
	read_supers(&r, &x);
	check_supers(&r, &x);
	if (o->full && x.s.copy[0].seen)
		fsck_run_checker(&r);
	fsck_report_decide(&r);
	fsck_report_print(&r, o->quiet);
	code = r.verdict_code;
	fsck_report_free(&r);
	return code;
}
