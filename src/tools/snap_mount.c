/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_mount: serve snapshots as read-only files (FUSE), read through
 * libsnapcow's views without the kernel's device-mapper: one file per
 * snapshot or sparse volume (named as device-mapper names it, "vg-snap"),
 * plus each snapshot's origin as it is now; or one file for a store given
 * as a path.  `snap_mount -u MOUNTPOINT` unmounts.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "dmdev.h"
#include "mountfs.h"
#include "thin_view.h"
#include "tool.h"

static void NORETURN usage(void)
{
	printf("Usage: %s (--origin FILE|DEV | --zero-origin --size BYTES) [options] STORE MOUNTPOINT\n"
	       "       %s [--pv PATH]... [--metadata FILE] [options] [VG/LV|VG]... MOUNTPOINT\n"
	       "       %s --thin-meta FILE --thin-data FILE --thin-id N [options] MOUNTPOINT\n"
	       "       %s -u MOUNTPOINT\n"
	       "\n"
	       "Serve snapshots as read-only regular files under MOUNTPOINT (FUSE), read\n"
	       "through the COW store and its origin without the kernel's device-mapper:\n"
	       "one file per snapshot, sparse or thin volume, named as device-mapper names\n"
	       "it (VG-LV), and each snapshot's origin as it is now.  With no volume named,\n"
	       "every snapshot and sparse volume found (on the PVs given, or the system;\n"
	       "thin volumes too on the PVs given).\n"
	       "Holes are reported (SEEK_DATA/SEEK_HOLE): cp --sparse, tar -S and backup\n"
	       "tools skip them.\n"
	       "\n"
	       "Options:\n"
	       VIEWOPT_HELP_SHORT
	       TOOL_THREADS_HELP
	       "  -o allow_other          let other users read the files\n"
	       "      --foreground        stay in the foreground (default: in the background\n"
	       "                          once the mount is in place)\n"
	       "  -u, --unmount           unmount MOUNTPOINT\n"
	       "  -q, --quiet             no warnings, except about an invalid store\n"
	       "  -h, --help              display this help\n"
	       "  -V, --version           display version\n"
	       "\n"
	       "Exit status: 0 mounted (or unmounted), 1 failure.  See snap_mount(8).\n",
	       program_name, program_name, program_name, program_name);
	exit(EXIT_OK);
}

struct mount_job {
	struct viewopt vo;
	struct mount_set set;
	struct volume_set vols;
	int have_vols;
};

static struct viewset *new_viewset(void)
{
	struct viewset *vs = calloc(1, sizeof(*vs));

	if (!vs)
		errx(EXIT_FAIL, "out of memory");
	return vs;
}

static void add(struct mount_job *j, const char *name, struct viewset *vs,
		const struct snapcow_dev *dev)
{
	int r = mount_set_add(&j->set, name, vs, dev);

	if (r == -EEXIST && !vs)
		return; /* the origin of two snapshots: once */
	if (r < 0)
		errx(EXIT_FAIL, "%s: %s", name, r == -EEXIST ? "named twice" : strerror(-r));
}

/* The view of VG/LV as file "VG-LV", and its origin as "VG-ORIGIN". */
static void add_volume(struct mount_job *j, const char *vg, const char *lv)
{
	struct viewset *vs = new_viewset();
	char name[300];

	viewset_open_in(&j->vo, &j->vols, vg, lv, vs, EXIT_FAIL);
	if (vs->thin)
		thin_volume_warn_partial(vs->thin); /* its lost ranges read as zeros */
	dmdev_lv_name(vg, lv, "", name, sizeof(name));
	add(j, name, vs, NULL);
	if (vs->vol.origin) {
		dmdev_lv_name(vg, vs->vol.snap.origin->name, "", name, sizeof(name));
		add(j, name, NULL, vs->vol.origin);
	}
}

/* Returns: 1 if the store of @vg/@lv is marked invalid. */
static int volume_invalid(const struct mount_job *j, const struct lvm_vg *vg,
			  const struct lvm_lv *lv)
{
	struct snapcow_store *s;
	struct volume v;
	int invalid = 0;

	volume_open_in(&j->vols, vg->name, lv->name, &v, EXIT_FAIL);
	if (snapcow_store_open_dev(NULL, v.cow, 0, &s) == 0) {
		invalid = !snapcow_store_header(s)->valid;
		snapcow_store_free(s);
	}
	volume_close(&v);
	return invalid;
}

/* Every snapshot and sparse volume of VG @only (NULL: of every VG). */
static void add_all(struct mount_job *j, const char *only)
{
	for (size_t i = 0; i < j->vols.nvgs; i++) {
		const struct lvm_vg *vg = j->vols.vgs[i];

		if (only && strcmp(only, vg->name))
			continue;
		for (size_t k = 0; k < vg->nlvs; k++) {
			struct lvm_snapshot sn;
			char why[512];
			struct snapcow_dev_piece *p;
			size_t n;

			const struct lvm_seg *ts;
			const struct lvm_lv *pool;

			if (lvm_vg_thin(vg, &vg->lvs[k], &ts, &pool)) {
				/* an active pool needs --metadata-snap: named, not found */
				if (j->vols.live)
					warnx("warning: %s/%s left out: a thin volume of this system "
					      "is served when named (an active pool with "
					      "--metadata-snap)", vg->name, vg->lvs[k].name);
				else
					add_volume(j, vg->name, vg->lvs[k].name);
				continue;
			}
			if (!lvm_vg_snapshot(vg, &vg->lvs[k], &sn))
				continue;
			if (lvm_lv_pieces(vg, &vg->lvs[k], &p, &n, why, sizeof(why)) < 0) {
				warnx("warning: %s/%s left out: %s", vg->name, vg->lvs[k].name, why);
				continue;
			}
			free(p);
			if (!j->vo.ignore_invalid && volume_invalid(j, vg, &vg->lvs[k])) {
				warnx("warning: %s/%s left out: its store is marked invalid (give "
				      "--ignore-invalid to serve its committed table)", vg->name,
				      vg->lvs[k].name);
				continue;
			}
			add_volume(j, vg->name, vg->lvs[k].name);
		}
	}
}

/* The files of the operands argv[first..last). */
static void build(struct mount_job *j, int argc, char **argv, int first, int last)
{
	char vg[LVM_NAME_MAX], lv[LVM_NAME_MAX];

	(void)argc;
	/* a thin volume of --thin-meta, --thin-data and --thin-id: "thin-ID" */
	if (j->vo.thin_meta || j->vo.thin_data || j->vo.has_thin_id) {
		struct viewset *vs = new_viewset();
		char name[64];

		viewopt_operand(&j->vo, last, argv, first, EXIT_FAIL);
		viewopt_check(&j->vo, NULL, EXIT_FAIL);
		viewopt_open(&j->vo, NULL, vs, EXIT_FAIL);
		thin_volume_warn_partial(vs->thin);
		snprintf(name, sizeof(name), "thin-%" PRIu64, j->vo.thin_id);
		add(j, name, vs, NULL);
		return;
	}
	/* a store given as a file comes with its origin */
	if (last - first == 1 && (j->vo.origin || j->vo.zero_origin)) {
		struct viewset *vs = new_viewset();
		char *copy = strdup(argv[first]);
		const char *name;

		viewopt_check(&j->vo, argv[first], EXIT_FAIL);
		viewopt_open(&j->vo, argv[first], vs, EXIT_FAIL);
		name = copy ? basename(copy) : "snapshot";
		add(j, name, vs, NULL);
		if (j->vo.origin) {
			char *ocopy = strdup(j->vo.origin);
			const char *oname = ocopy ? basename(ocopy) : "origin";

			add(j, strcmp(oname, name) ? oname : "origin", NULL,
			    snapcow_view_origin(vs->view));
			free(ocopy);
		}
		free(copy);
		return;
	}
	if ((j->vo.origin || j->vo.zero_origin) && first == last) {
		warnx("no store given");
		try_help(EXIT_FAIL);
	}
	if (j->vo.origin || j->vo.zero_origin || j->vo.size)
		errx(EXIT_FAIL, "--origin, --zero-origin and --size are for one store given as a "
		     "file; volumes bring their own");
	volume_set_open(&j->vo.vol, &j->vols, EXIT_FAIL);
	j->have_vols = 1;
	if (first == last)
		add_all(j, NULL);
	for (int i = first; i < last; i++) {
		if (volume_split_name(argv[i], vg, sizeof(vg), lv, sizeof(lv)) == 0)
			add_volume(j, vg, lv);
		else
			add_all(j, argv[i]);
	}
	if (!j->set.n)
		errx(EXIT_FAIL, "no snapshot or sparse volume to serve");
}

int main(int argc, char **argv)
{
	enum { OPT_FOREGROUND = 256 };
	static const struct option longopts[] = {
		VIEWOPT_LONGOPTS,
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "unmount", no_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_THREADS_LONGOPT,
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct mount_job j = { 0 };
	struct mount_options mo = { 0 };
	int c, unmount = 0;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, VIEWOPT_SHORTOPTS "o:uqhV", longopts, NULL)) != -1) {
		if (tool_threads_option(c, optarg, EXIT_FAIL))
			continue;
		if (viewopt_parse(&j.vo, viewopt_short(c), optarg, EXIT_FAIL))
			continue;
		if (c == 'o' && !strcmp(optarg, "allow_other"))
			mo.allow_other = 1;
		else if (c == 'o')
			errx(EXIT_FAIL, "-o %s: only allow_other is supported (the mount is always "
			     "read-only)", optarg);
		else if (c == OPT_FOREGROUND)
			mo.foreground = 1;
		else if (c == 'u')
			unmount = 1;
		else if (c == 'q')
			tool_set_verbosity(0);
		else
			tool_std_option(c, usage, EXIT_FAIL);
	}
	if (optind >= argc) {
		warnx("no mountpoint given");
		try_help(EXIT_FAIL);
	}
	mo.mountpoint = argv[argc - 1];
	if (unmount) {
		if (optind != argc - 1) {
			warnx("unexpected argument '%s'", argv[optind]);
			try_help(EXIT_FAIL);
		}
		return mountfs_unmount(mo.mountpoint);
	}
	build(&j, argc, argv, optind, argc - 1);
	c = mountfs_run(&j.set, &mo);
	mount_set_close(&j.set);
	if (j.have_vols)
		volume_set_close(&j.vols);
	return c;
}
