/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the volumes are (see volume.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmdev.h"
#include "target.h"
#include "tool.h"
#include "volume.h"
#include "volume_live.h"

int volume_parse(struct volume_opts *o, int c, const char *arg, int usage_code)
{
	switch (c) {
	case VOLUME_PV:
		if (o->npv == VOLUME_MAX_PVS) {
			warnx("at most %d --pv", VOLUME_MAX_PVS);
			try_help(usage_code);
		}
		o->pv[o->npv++] = arg;
		return 1;
	case VOLUME_METADATA:
		o->metadata = arg;
		return 1;
	}
	return 0;
}

static int valid_name(const char *s, size_t n)
{
	if (!n || n >= LVM_NAME_MAX || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+_.-", s[i]))
			return 0;
	return 1;
}

int volume_split_name(const char *s, char *vg, size_t vlen, char *lv, size_t llen)
{
	const char *slash;

	if (!strncmp(s, "/dev/", 5))
		s += 5;
	slash = strchr(s, '/');
	if (!slash || strchr(slash + 1, '/') || !valid_name(s, (size_t)(slash - s)) ||
	    !valid_name(slash + 1, strlen(slash + 1)))
		return -EINVAL;
	snprintf(vg, vlen, "%.*s", (int)(slash - s), s);
	snprintf(lv, llen, "%s", slash + 1);
	return 0;
}

int volume_is_name(const struct volume_opts *o, const char *operand)
{
	char vg[LVM_NAME_MAX], lv[LVM_NAME_MAX], uuid[160];
	struct stat st;

	/* /dev/mapper/NAME is a device-mapper device, never VG "mapper" */
	if (!strncmp(operand, "/dev/mapper/", 12) ||
	    volume_split_name(operand, vg, sizeof(vg), lv, sizeof(lv)) < 0)
		return 0;
	if (o->npv || o->metadata || stat(operand, &st) < 0)
		return 1;
	/* /dev/VG/LV of an active volume is its snapshot device, never a
	 * store: the volume is meant; another device at /dev/X/Y (such as
	 * /dev/disk/NAME or /dev/md/NAME) is a device */
	return !strncmp(operand, "/dev/", 5) && S_ISBLK(st.st_mode) &&
	       sysfs_dm_uuid(st.st_rdev, uuid, sizeof(uuid)) && !strncmp(uuid, "LVM-", 4);
}

int dev_reads_file(const struct snapcow_dev *d, const struct stat *st)
{
	uint64_t off = 0, at, len;
	struct stat in;
	int fd;

	while (d && off < snapcow_dev_size(d) && snapcow_dev_locate(d, off, &fd, &at, &len) == 0) {
		if (fd >= 0 && fstat(fd, &in) == 0 && in.st_dev == st->st_dev &&
		    in.st_ino == st->st_ino)
			return 1;
		off += len;
	}
	return 0;
}

/* ---- Choosing the metadata ---------------------------------------------- */

static int add_vg(struct volume_set *set, struct lvm_vg *vg)
{
	struct lvm_vg **n = realloc(set->vgs, (set->nvgs + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	set->vgs = n;
	set->vgs[set->nvgs++] = vg;
	return 0;
}

static struct lvm_vg *find_vg(const struct volume_set *set, const char *name)
{
	for (size_t i = 0; i < set->nvgs; i++)
		if (!strcmp(set->vgs[i]->name, name))
			return set->vgs[i];
	return NULL;
}

/* The copy LVM would use for VG @name: the highest seqno among the texts
 * the metadata areas' headers point at whose checksum holds; when none
 * holds, the highest seqno among the older copies that parse. */
static const struct lvm_text *best_text(const struct volume_set *set, const char *name,
					const struct lvm_pv **on, int *fallback)
{
	const struct lvm_text *best = NULL, *older = NULL;

	for (size_t i = 0; i < set->pvs.n; i++) {
		const struct lvm_pv *pv = &set->pvs.pv[i];

		for (size_t k = 0; k < pv->ntexts; k++) {
			const struct lvm_text *t = &pv->texts[k];

			if (strcmp(t->vgname, name))
				continue;
			if (t->current && t->crc_ok && (!best || t->seqno > best->seqno)) {
				best = t;
				*on = pv;
			} else if (!t->current && (!older || t->seqno > older->seqno)) {
				older = t;
				if (!best)
					*on = pv;
			}
		}
	}
	*fallback = !best && older;
	return best ? best : older;
}

static void parse_best(struct volume_set *set, const char *name, int code)
{
	const struct lvm_pv *on = NULL;
	int fallback = 0;
	const struct lvm_text *t = best_text(set, name, &on, &fallback);
	struct lvm_vg *vg;
	char why[512];
	int r;

	if (!t)
		return;
	r = lvm_vg_parse(t->text, t->len, &vg, why, sizeof(why));
	if (r < 0)
		errx(code, "%s: offset %" PRIu64 ": VG %s metadata (seqno %" PRIu64 "): %s", on->path,
		     on->base + t->offset, name, t->seqno, why);
	snprintf(vg->source, sizeof(vg->source), "%s offset %" PRIu64 ", seqno %" PRIu64, on->path,
		 on->base + t->offset, vg->seqno);
	if (fallback)
		warnx("warning: VG %s: no metadata area holds a current copy whose checksum holds; "
		      "using the newest older copy found in the buffer: %s", name, vg->source);
	if (add_vg(set, vg) < 0)
		errx(code, "out of memory");
}

/* Every VG named by a text on the PVs, each from its best copy. */
static void parse_all(struct volume_set *set, int code)
{
	for (size_t i = 0; i < set->pvs.n; i++)
		for (size_t k = 0; k < set->pvs.pv[i].ntexts; k++) {
			const char *name = set->pvs.pv[i].texts[k].vgname;

			if (name[0] && !find_vg(set, name))
				parse_best(set, name, code);
		}
}

static void read_backup(struct volume_set *set, const char *path, int code)
{
	struct lvm_vg *vg, *disk;
	char why[512], *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");
	int r;

	if (!f)
		errx(code, "cannot open %s: %s", path, strerror(errno));
	text = calloc(1, 16 << 20);
	if (text)
		len = fread(text, 1, (16 << 20) - 1, f);
	fclose(f);
	if (!text)
		errx(code, "out of memory");
	r = lvm_vg_parse(text, len, &vg, why, sizeof(why));
	free(text);
	if (r < 0)
		errx(code, "%s: %s", path, why);
	snprintf(vg->source, sizeof(vg->source), "%s, seqno %" PRIu64, path, vg->seqno);
	disk = find_vg(set, vg->name);
	if (disk && disk->seqno > vg->seqno)
		warnx("warning: VG %s: the PVs hold newer metadata (seqno %" PRIu64 ") than %s "
		      "(seqno %" PRIu64 "); using %s as asked", vg->name, disk->seqno, path,
		      vg->seqno, path);
	for (size_t i = 0; i < set->nvgs; i++)
		if (set->vgs[i] == disk) {
			lvm_vg_free(disk);
			set->vgs[i] = vg;
			return;
		}
	if (add_vg(set, vg) < 0)
		errx(code, "out of memory");
}

static void scan_pvs(struct volume_set *set, const char *const *paths, int n, int code)
{
	char why[512];

	for (int i = 0; i < n; i++) {
		size_t before = set->pvs.n;
		int r = lvm_pv_scan(paths[i], &set->pvs, why, sizeof(why));

		if (r <= 0)
			errx(code, "%s", why);
		for (size_t k = before; k < set->pvs.n; k++)
			for (int m = 0; m < set->pvs.pv[k].nnotes; m++)
				warnx("warning: %s: PV %s: %s", paths[i], set->pvs.pv[k].uuid,
				      set->pvs.pv[k].notes[m]);
	}
}

void volume_set_open(const struct volume_opts *o, struct volume_set *set, int code)
{
	char **live = NULL;
	int nlive = 0;

	memset(set, 0, sizeof(*set));
	set->thin_held = o->thin_held;
	dmdev_init(1); /* libdevmapper's config parser: quiet */
	if (!o->npv) {
		nlive = volume_live_pvs(&live, code);
		set->live = 1;
	}
	scan_pvs(set, o->npv ? o->pv : (const char *const *)live, o->npv ? o->npv : nlive, code);
	volume_live_free(live, nlive);
	parse_all(set, code);
	if (o->metadata)
		read_backup(set, o->metadata, code);
	for (size_t i = 0; i < set->nvgs; i++) {
		struct lvm_vg *vg = set->vgs[i];

		if (lvm_vg_attach(vg, &set->pvs))
			for (size_t k = 0; k < vg->npvs; k++)
				if (!vg->pvs[k].found)
					warnx("warning: VG %s: PV %s (UUID %s, last seen as %s) is "
					      "missing: volumes on it cannot be read", vg->name,
					      vg->pvs[k].name, vg->pvs[k].id,
					      vg->pvs[k].device[0] ? vg->pvs[k].device : "?");
	}
	if (!set->nvgs)
		errx(code, "no LVM volume group metadata found on the physical volumes given");
}

void volume_set_close(struct volume_set *set)
{
	for (size_t i = 0; i < set->nvgs; i++)
		lvm_vg_free(set->vgs[i]);
	free(set->vgs);
	lvm_pv_list_free(&set->pvs);
	memset(set, 0, sizeof(*set));
}

/* ---- One volume ---------------------------------------------------------- */

/* @lv's bytes: pieces on the PV images, or the active dm device @dm. */
static struct snapcow_dev *lv_dev(const struct volume *v, const struct lvm_vg *vg,
				  const struct lvm_lv *lv, const char *dm_suffix, int *fd,
				  char *where, size_t wlen, int code)
{
	struct snapcow_dev_piece *p;
	struct snapcow_dev *d;
	char why[512], name[300];
	size_t n;
	int r;

	if (v->in->live && volume_live_dm(vg->name, lv->name, dm_suffix, fd, where, wlen)) {
		r = snapcow_dev_new_fd(*fd, where, &d);
		if (r < 0)
			errx(code, "%s: %s", where, strerror(-r));
		return d;
	}
	r = lvm_lv_pieces(vg, lv, &p, &n, why, sizeof(why));
	if (r < 0)
		errx(code, "%s/%s: %s", vg->name, lv->name, why);
	lvm_lv_pe_ranges(vg, lv, where, wlen);
	snprintf(name, sizeof(name), "%s/%s", vg->name, lv->name);
	r = snapcow_dev_new_pieces(name, p, n, &d);
	free(p);
	if (r < 0)
		errx(code, "%s: %s", name, strerror(-r));
	return d;
}

/* Thin volume @lv (thin segment @ts) of pool @pool: its pool's metadata and
 * data.  A live, active pool is read only through a metadata snapshot. */
static void open_thin(const char *name, struct volume *v, const struct lvm_vg *vg,
		      const struct lvm_lv *lv, const struct lvm_seg *ts, const struct lvm_lv *pool,
		      int held, int code)
{
	const struct lvm_seg *ps = pool && pool->nsegs == 1 ? &pool->segs[0] : NULL;
	const struct lvm_lv *meta, *data;
	char dm[300], where[512];
	int fd = -1;

	if (!ps || ps->type != LVM_SEG_THIN_POOL)
		errx(code, "%s: its pool %s is not a thin pool in VG %s (%s)", name, ts->thin_pool,
		     vg->name, vg->source);
	meta = lvm_vg_find_lv(vg, ps->metadata);
	data = lvm_vg_find_lv(vg, ps->pool);
	if (!meta || !data)
		errx(code, "%s: pool %s names metadata %s and data %s, which VG %s does not have",
		     name, pool->name, ps->metadata, ps->pool, vg->name);
	if (v->in->live && volume_live_dm(vg->name, pool->name, "-tpool", &fd, dm, sizeof(dm))) {
		close(fd);
		if (!held)
			errx(code, "%s: pool %s/%s is active: its metadata changes while it is read; "
			     "reserve a metadata snapshot (dmsetup message %s 0 "
			     "reserve_metadata_snap) and give --metadata-snap, or deactivate the "
			     "pool", name, vg->name, pool->name,
			     strncmp(dm, "/dev/mapper/", 12) ? dm : dm + 12);
	}
	v->kind = VOLUME_THIN;
	v->thin_id = ts->device_id;
	v->thin_held = held;
	v->size = lv->extents * vg->extent_sectors * 512U;
	snprintf(v->pool, sizeof(v->pool), "%s", pool->name);
	v->thin_meta = lv_dev(v, vg, meta, "", &v->cow_fd, where, sizeof(where), code);
	v->thin_data = lv_dev(v, vg, data, "", &v->origin_fd, v->origin_where,
			      sizeof(v->origin_where), code);
	snprintf(v->cow_where, sizeof(v->cow_where), "%s", where);
}

void volume_open_in(const struct volume_set *set, const char *vgname, const char *lvname,
		    struct volume *v, int code)
{
	const struct lvm_lv *lv;
	const struct lvm_vg *vg;
	char name[2 * LVM_NAME_MAX + 2];

	memset(v, 0, sizeof(*v));
	v->cow_fd = v->origin_fd = -1;
	v->in = set;
	snprintf(v->vg, sizeof(v->vg), "%s", vgname);
	snprintf(v->lv, sizeof(v->lv), "%s", lvname);
	snprintf(name, sizeof(name), "%s/%s", vgname, lvname);
	vg = find_vg(set, v->vg);
	if (!vg)
		errx(code, "%s: no volume group %s on the physical volumes %s", name, v->vg,
		     set->live ? "LVM reports" : "given");
	lv = lvm_vg_find_lv(vg, v->lv);
	if (!lv)
		errx(code, "%s: no logical volume %s in VG %s (%s)", name, v->lv, v->vg, vg->source);
	if (!lvm_vg_snapshot(vg, lv, &v->snap)) {
		const struct lvm_seg *ts;
		const struct lvm_lv *pool;

		if (lvm_vg_thin(vg, lv, &ts, &pool)) {
			open_thin(name, v, vg, lv, ts, pool, set->thin_held, code);
			return;
		}
		errx(code, "%s is not a snapshot, a sparse volume or a thin volume", name);
	}
	v->kind = v->snap.sparse ? VOLUME_SPARSE : VOLUME_SNAPSHOT;
	v->size = v->snap.size;
	v->cow = lv_dev(v, vg, lv, "-cow", &v->cow_fd, v->cow_where, sizeof(v->cow_where), code);
	if (!v->snap.sparse)
		v->origin = lv_dev(v, vg, v->snap.origin, "-real", &v->origin_fd, v->origin_where,
				   sizeof(v->origin_where), code);
	else
		snprintf(v->origin_where, sizeof(v->origin_where), "zero target");
}

void volume_open(const struct volume_opts *o, const char *name, struct volume *v, int code)
{
	char vg[LVM_NAME_MAX], lv[LVM_NAME_MAX];

	if (volume_split_name(name, vg, sizeof(vg), lv, sizeof(lv)) < 0)
		errx(code, "%s: not a volume name: expected VG/LV (or /dev/VG/LV)", name);
	v->own = calloc(1, sizeof(*v->own));
	if (!v->own)
		errx(code, "out of memory");
	volume_set_open(o, v->own, code);
	{
		struct volume_set *own = v->own;

		volume_open_in(own, vg, lv, v, code);
		v->own = own;
	}
}

void volume_refuse_thin(const struct volume *v, const char *operand, int code)
{
	if (v->kind == VOLUME_THIN)
		errx(code, "%s is a thin volume: it has no exception store (snap_extract, snap_fsck, "
		     "snap_rmap and snap_mount read it through its pool's metadata)", operand);
}

const struct lvm_vg *volume_vg(const struct volume *v)
{
	return find_vg(v->in, v->vg);
}

void volume_close(struct volume *v)
{
	snapcow_dev_free(v->cow);
	snapcow_dev_free(v->origin);
	snapcow_dev_free(v->thin_meta);
	snapcow_dev_free(v->thin_data);
	if (v->cow_fd >= 0)
		close(v->cow_fd);
	if (v->origin_fd >= 0)
		close(v->origin_fd);
	for (int i = 0; i < v->nrw; i++)
		close(v->rw_fd[i]);
	if (v->own) {
		volume_set_close(v->own);
		free(v->own);
	}
	memset(v, 0, sizeof(*v));
	v->cow_fd = v->origin_fd = -1;
}

/* ---- Writing a volume ----------------------------------------------------- */

/* The descriptor, opened for writing, of the PV image or device that
 * read-only descriptor @fd (of a PV found by volume_set_open) reads. */
static int rw_fd_for(struct volume *v, int fd, int dry_run, int code)
{
	const struct lvm_pv *pv = NULL;
	struct stat ro, st;
	int nfd;

	for (size_t i = 0; i < v->in->pvs.n && !pv; i++)
		if (v->in->pvs.pv[i].fd == fd)
			pv = &v->in->pvs.pv[i];
	if (!pv || fstat(fd, &ro) < 0)
		errx(code, "%s/%s: a piece of it is on no physical volume found", v->vg, v->lv);
	for (int i = 0; i < v->nrw; i++)
		if (v->rw_st[i].st_dev == ro.st_dev && v->rw_st[i].st_ino == ro.st_ino)
			return v->rw_fd[i];
	if (v->nrw == VOLUME_MAX_PVS)
		errx(code, "%s/%s lies on more than %d physical volumes", v->vg, v->lv,
		     VOLUME_MAX_PVS);
	nfd = open(pv->path, (dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		   (S_ISBLK(ro.st_mode) ? O_EXCL : 0));
	if (nfd < 0 && errno == EBUSY)
		errx(code, "%s: physical volume in use (an active LV on it, or another program "
		     "has it open): %s/%s is written through its PVs, each of which it needs to "
		     "itself: deactivate VG %s first (vgchange -an %s)", pv->path, v->vg, v->lv,
		     v->vg, v->vg);
	if (nfd < 0 || fstat(nfd, &st) < 0)
		errx(code, "cannot open %s: %s", pv->path, strerror(errno));
	if (st.st_dev != ro.st_dev || st.st_ino != ro.st_ino)
		errx(code, "%s changed while it was being read (another file is there now)",
		     pv->path);
	if (S_ISBLK(st.st_mode))
		store_check_users(pv->path, &st, -1, code);
	v->rw_fd[v->nrw] = nfd;
	v->rw_st[v->nrw++] = st;
	return nfd;
}

/* @d again, over descriptors opened for writing. */
static struct snapcow_dev *reopen_dev(struct volume *v, struct snapcow_dev *d, const char *what,
				      int dry_run, int code)
{
	struct snapcow_dev_piece *p = NULL;
	struct snapcow_dev *out;
	uint64_t off = 0, at, len;
	size_t n = 0;
	int fd, r;

	while (off < snapcow_dev_size(d) && snapcow_dev_locate(d, off, &fd, &at, &len) == 0) {
		struct snapcow_dev_piece *grown = realloc(p, (n + 1) * sizeof(*p));

		if (!grown)
			errx(code, "out of memory");
		p = grown;
		if (fd < 0)
			errx(code, "%s/%s: its %s has a segment on no physical volume (a zero or "
			     "error segment at byte %" PRIu64 "): nothing could be written there",
			     v->vg, v->lv, what, off);
		p[n++] = (struct snapcow_dev_piece){ len, rw_fd_for(v, fd, dry_run, code), at };
		off += len;
	}
	r = snapcow_dev_new_pieces(snapcow_dev_name(d), p, n, &out);
	free(p);
	if (r < 0)
		errx(code, "%s/%s: %s", v->vg, v->lv, strerror(-r));
	snapcow_dev_free(d);
	return out;
}

void volume_open_rw(struct volume *v, int dry_run, int code)
{
	char name[LVM_NAME_MAX * 2 + 2];

	snprintf(name, sizeof(name), "%s/%s", v->vg, v->lv);
	if (v->kind == VOLUME_SPARSE)
		errx(code, "%s is a sparse volume (--virtualsize): its origin is the zero target, "
		     "there is nothing to write its chunks onto", name);
	if (v->cow_fd >= 0 || v->origin_fd >= 0)
		errx(code, "%s is active (%s): the kernel uses it; deactivate it first "
		     "(lvchange -an %s/%s), or let the kernel merge it online (lvconvert --merge %s)",
		     name, v->cow_fd >= 0 ? v->cow_where : v->origin_where, v->vg,
		     v->snap.origin->name, name);
	v->cow = reopen_dev(v, v->cow, "COW", dry_run, code);
	v->origin = reopen_dev(v, v->origin, "origin", dry_run, code);
}

/* @uuid without its dashes, appended to @out. */
static void add_uuid(char *out, size_t len, const char *uuid)
{
	size_t o = strlen(out);

	for (; *uuid && o + 1 < len; uuid++)
		if (*uuid != '-')
			out[o++] = *uuid;
	out[o] = '\0';
}

void volume_identity(const struct volume *v, int origin, struct snapcow_identity *id)
{
	const struct lvm_lv *lv = origin ? v->snap.origin : v->snap.cow;
	const struct lvm_vg *vg = find_vg(v->in, v->vg);

	memset(id, 0, sizeof(*id));
	id->kind = SNAPCOW_IDENT_BLOCK;
	id->size = snapcow_dev_size(origin ? v->origin : v->cow);
	snprintf(id->dm_uuid, sizeof(id->dm_uuid), "LVM-");
	add_uuid(id->dm_uuid, sizeof(id->dm_uuid), vg ? vg->id : "");
	add_uuid(id->dm_uuid, sizeof(id->dm_uuid), lv->id);
	snprintf(id->dm_uuid + strlen(id->dm_uuid), sizeof(id->dm_uuid) - strlen(id->dm_uuid),
		 "%s", origin ? "-real" : "-cow");
}

struct snapcow_store *volume_store_open(const struct volume_opts *o, const char *operand,
					struct volume *v, int code)
{
	struct snapcow_store *s;
	unsigned long mark;
	int r;

	memset(v, 0, sizeof(*v));
	v->cow_fd = v->origin_fd = -1;
	v->kind = VOLUME_OTHER;
	if (!volume_is_name(o, operand)) {
		if (o->npv || o->metadata)
			errx(code, "%s: --pv and --metadata find a volume by name (VG/LV), not a "
			     "store file", operand);
		return store_open_or_exit(operand, 0, code);
	}
	volume_open(o, operand, v, code);
	volume_refuse_thin(v, operand, code);
	mark = tool_lib_errors();
	r = snapcow_store_open_dev(tool_ctx(), v->cow, 0, &s);
	if (r < 0)
		lib_failed(code, mark, r, "cannot open %s", operand);
	return s;
}
