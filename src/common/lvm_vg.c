/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A volume group from its metadata text, through libdevmapper's config
 * parser (see lvm_vg.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdevmapper.h>

#include "lvm_vg.h"
#include "tool.h"

#define SECTOR 512U

/* The children of section @sec (NULL for a value). */
static const struct dm_config_node *kids(const struct dm_config_node *sec)
{
	return sec && !sec->v ? sec->child : NULL;
}

static int get_u64(const struct dm_config_node *sec, const char *key, uint64_t *v)
{
	const struct dm_config_node *k = kids(sec);

	return k && dm_config_get_uint64(k, key, v);
}

static void get_str(const struct dm_config_node *sec, const char *key, char *out, size_t len)
{
	const struct dm_config_node *k = kids(sec);
	const char *s = k ? dm_config_find_str(k, key, NULL) : NULL;

	snprintf(out, len, "%s", s ? s : "");
}

static int has_flag(const struct dm_config_node *sec, const char *key, const char *flag)
{
	const struct dm_config_node *k = kids(sec);
	const struct dm_config_value *v;

	if (!k || !dm_config_get_list(k, key, &v))
		return 0;
	for (; v; v = v->next)
		if (v->type == DM_CFG_STRING && !strcmp(v->v.str, flag))
			return 1;
	return 0;
}

static int find_pv(const struct lvm_vg *vg, const char *name)
{
	for (size_t i = 0; i < vg->npvs; i++)
		if (!strcmp(vg->pvs[i].name, name))
			return (int)i;
	return -1;
}

static enum lvm_seg_type seg_type(const char *t)
{
	static const struct {
		const char *name;
		enum lvm_seg_type type;
	} types[] = {
		{ "striped", LVM_SEG_STRIPED },     { "zero", LVM_SEG_ZERO },
		{ "error", LVM_SEG_ERROR },         { "snapshot", LVM_SEG_SNAPSHOT },
		{ "thin-pool", LVM_SEG_THIN_POOL }, { "thin", LVM_SEG_THIN },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i].name))
			return types[i].type;
	return LVM_SEG_OTHER;
}

/* stripes = [ "pv0", 8, "pv1", 0 ] */
static int read_stripes(struct lvm_vg *vg, const char *lv, const struct dm_config_node *sn,
			struct lvm_seg *seg, char *why, size_t len)
{
	const struct dm_config_value *v;
	uint32_t i = 0;

	if (!dm_config_get_list(sn->child, "stripes", &v))
		return fail_why(why, len, "LV %s: a striped segment without stripes", lv);
	seg->stripes = calloc(seg->stripe_count, sizeof(*seg->stripes));
	if (!seg->stripes)
		return -ENOMEM;
	for (; v && i < seg->stripe_count; v = v->next ? v->next->next : NULL, i++) {
		if (v->type != DM_CFG_STRING || !v->next || v->next->type != DM_CFG_INT ||
		    v->next->v.i < 0)
			return fail_why(why, len, "LV %s: stripe %u is not a (PV, extent) pair", lv, i);
		seg->stripes[i].pv = find_pv(vg, v->v.str);
		seg->stripes[i].pe = (uint64_t)v->next->v.i;
		if (seg->stripes[i].pv < 0)
			return fail_why(why, len, "LV %s: stripe %u is on PV %s, which the VG does not "
				    "list", lv, i, v->v.str);
	}
	if (i != seg->stripe_count)
		return fail_why(why, len, "LV %s: %u stripes listed, stripe_count is %u", lv, i,
			    seg->stripe_count);
	return 0;
}

static int read_seg(struct lvm_vg *vg, const char *lv, const struct dm_config_node *sn,
		    struct lvm_seg *seg, char *why, size_t len)
{
	uint64_t v = 0;

	if (!get_u64(sn, "start_extent", &seg->start_extent) ||
	    !get_u64(sn, "extent_count", &seg->extent_count) || !seg->extent_count)
		return fail_why(why, len, "LV %s, %s: no start_extent or extent_count", lv, sn->key);
	get_str(sn, "type", seg->type_name, sizeof(seg->type_name));
	seg->type = seg_type(seg->type_name);
	get_str(sn, "origin", seg->origin, sizeof(seg->origin));
	get_str(sn, "cow_store", seg->cow, sizeof(seg->cow));
	if (!seg->cow[0]) {
		get_str(sn, "merging_store", seg->cow, sizeof(seg->cow));
		seg->merging = seg->cow[0] != 0;
	}
	if (get_u64(sn, "chunk_size", &v))
		seg->chunk_sectors = (uint32_t)v;
	get_str(sn, "metadata", seg->metadata, sizeof(seg->metadata));
	get_str(sn, "pool", seg->pool, sizeof(seg->pool));
	get_str(sn, "thin_pool", seg->thin_pool, sizeof(seg->thin_pool));
	get_u64(sn, "transaction_id", &seg->transaction_id);
	get_u64(sn, "device_id", &seg->device_id);
	if (seg->type != LVM_SEG_STRIPED)
		return 0;
	if (!get_u64(sn, "stripe_count", &v) || !v || v > 128 || seg->extent_count % v)
		return fail_why(why, len, "LV %s, %s: bad stripe_count", lv, sn->key);
	seg->stripe_count = (uint32_t)v;
	if (seg->stripe_count > 1 && (!get_u64(sn, "stripe_size", &seg->stripe_sectors) ||
				      !seg->stripe_sectors))
		return fail_why(why, len, "LV %s, %s: striped without a stripe_size", lv, sn->key);
	return read_stripes(vg, lv, sn, seg, why, len);
}

static int cmp_seg(const void *a, const void *b)
{
	const struct lvm_seg *x = a, *y = b;

	return x->start_extent < y->start_extent ? -1 : x->start_extent > y->start_extent;
}

static int read_lv(struct lvm_vg *vg, const struct dm_config_node *ln, struct lvm_lv *lv,
		   char *why, size_t len)
{
	const struct dm_config_node *c;
	size_t n = 0;
	int r;

	snprintf(lv->name, sizeof(lv->name), "%s", ln->key);
	get_str(ln, "id", lv->id, sizeof(lv->id));
	lv->visible = has_flag(ln, "status", "VISIBLE");
	for (c = kids(ln); c; c = c->sib)
		n += !c->v && !strncmp(c->key, "segment", 7);
	lv->segs = calloc(n ? n : 1, sizeof(*lv->segs));
	if (!lv->segs)
		return -ENOMEM;
	for (c = kids(ln); c; c = c->sib) {
		if (c->v || strncmp(c->key, "segment", 7))
			continue;
		r = read_seg(vg, lv->name, c, &lv->segs[lv->nsegs++], why, len);
		if (r < 0)
			return r;
	}
	qsort(lv->segs, lv->nsegs, sizeof(*lv->segs), cmp_seg);
	for (size_t i = 0; i < lv->nsegs; i++) {
		if (lv->segs[i].start_extent != lv->extents)
			return fail_why(why, len, "LV %s: segments leave a gap at extent %" PRIu64,
				    lv->name, lv->extents);
		lv->extents += lv->segs[i].extent_count;
	}
	return 0;
}

static int read_pvs(struct lvm_vg *vg, const struct dm_config_node *sec, char *why, size_t len)
{
	const struct dm_config_node *c;
	size_t n = 0;

	for (c = kids(sec); c; c = c->sib)
		n += !c->v;
	vg->pvs = calloc(n ? n : 1, sizeof(*vg->pvs));
	if (!vg->pvs)
		return -ENOMEM;
	for (c = kids(sec); c; c = c->sib) {
		struct lvm_vg_pv *pv = &vg->pvs[vg->npvs];

		if (c->v)
			continue;
		snprintf(pv->name, sizeof(pv->name), "%s", c->key);
		get_str(c, "id", pv->id, sizeof(pv->id));
		get_str(c, "device", pv->device, sizeof(pv->device));
		if (!pv->id[0] || !get_u64(c, "pe_start", &pv->pe_start) ||
		    !get_u64(c, "pe_count", &pv->pe_count))
			return fail_why(why, len, "PV %s: no id, pe_start or pe_count", c->key);
		vg->npvs++;
	}
	return 0;
}

static int read_lvs(struct lvm_vg *vg, const struct dm_config_node *sec, char *why, size_t len)
{
	const struct dm_config_node *c;
	size_t n = 0;
	int r;

	for (c = kids(sec); c; c = c->sib)
		n += !c->v;
	vg->lvs = calloc(n ? n : 1, sizeof(*vg->lvs));
	if (!vg->lvs)
		return -ENOMEM;
	for (c = kids(sec); c; c = c->sib) {
		if (c->v)
			continue;
		r = read_lv(vg, c, &vg->lvs[vg->nlvs++], why, len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The VG section: the top-level section with a seqno and PVs. */
static const struct dm_config_node *vg_section(const struct dm_config_tree *cft)
{
	for (const struct dm_config_node *c = cft->root; c; c = c->sib)
		if (!c->v && kids(c) && dm_config_has_node(kids(c), "seqno") &&
		    dm_config_has_node(kids(c), "physical_volumes"))
			return c;
	return NULL;
}

static int read_vg(struct lvm_vg *vg, const struct dm_config_node *sec, char *why, size_t len)
{
	const struct dm_config_node *sub;
	int r;

	snprintf(vg->name, sizeof(vg->name), "%s", sec->key);
	get_str(sec, "id", vg->id, sizeof(vg->id));
	if (!get_u64(sec, "seqno", &vg->seqno) || !get_u64(sec, "extent_size", &vg->extent_sectors) ||
	    !vg->extent_sectors)
		return fail_why(why, len, "VG %s: no seqno or extent_size", vg->name);
	if (!dm_config_get_section(kids(sec), "physical_volumes", &sub))
		return fail_why(why, len, "VG %s: no physical_volumes", vg->name);
	r = read_pvs(vg, sub, why, len);
	if (r < 0)
		return r;
	if (dm_config_get_section(kids(sec), "logical_volumes", &sub))
		r = read_lvs(vg, sub, why, len);
	return r;
}

int lvm_vg_parse(const char *text, size_t len, struct lvm_vg **out, char *why, size_t wlen)
{
	struct dm_config_tree *cft = dm_config_create();
	const struct dm_config_node *sec;
	struct lvm_vg *vg;
	int r;

	if (!cft)
		return -ENOMEM;
	if (!dm_config_parse(cft, text, text + len)) {
		dm_config_destroy(cft);
		return fail_why(why, wlen, "not LVM metadata: libdevmapper's config parser refuses it");
	}
	sec = vg_section(cft);
	if (!sec) {
		dm_config_destroy(cft);
		return fail_why(why, wlen, "no volume group section (with seqno and physical_volumes)");
	}
	vg = calloc(1, sizeof(*vg));
	r = vg ? read_vg(vg, sec, why, wlen) : -ENOMEM;
	dm_config_destroy(cft);
	if (r < 0) {
		lvm_vg_free(vg);
		return r;
	}
	*out = vg;
	return 0;
}

void lvm_vg_free(struct lvm_vg *vg)
{
	if (!vg)
		return;
	for (size_t i = 0; i < vg->nlvs; i++) {
		for (size_t k = 0; k < vg->lvs[i].nsegs; k++)
			free(vg->lvs[i].segs[k].stripes);
		free(vg->lvs[i].segs);
	}
	free(vg->lvs);
	free(vg->pvs);
	free(vg);
}

size_t lvm_vg_attach(struct lvm_vg *vg, const struct lvm_pv_list *pvs)
{
	size_t missing = 0;

	for (size_t i = 0; i < vg->npvs; i++) {
		vg->pvs[i].found = lvm_pv_find(pvs, vg->pvs[i].id);
		missing += !vg->pvs[i].found;
	}
	return missing;
}

const struct lvm_lv *lvm_vg_find_lv(const struct lvm_vg *vg, const char *name)
{
	for (size_t i = 0; i < vg->nlvs; i++)
		if (!strcmp(vg->lvs[i].name, name))
			return &vg->lvs[i];
	return NULL;
}

int lvm_vg_snapshot(const struct lvm_vg *vg, const struct lvm_lv *lv, struct lvm_snapshot *out)
{
	for (size_t i = 0; i < vg->nlvs; i++) {
		const struct lvm_lv *s = &vg->lvs[i];
		const struct lvm_seg *seg = s->nsegs == 1 ? &s->segs[0] : NULL;

		if (!seg || seg->type != LVM_SEG_SNAPSHOT || strcmp(seg->cow, lv->name))
			continue;
		memset(out, 0, sizeof(*out));
		out->cow = lv;
		out->origin = lvm_vg_find_lv(vg, seg->origin);
		out->chunk_sectors = seg->chunk_sectors;
		out->size = s->extents * vg->extent_sectors * SECTOR;
		out->merging = seg->merging;
		out->sparse = out->origin && out->origin->nsegs == 1 &&
			      out->origin->segs[0].type == LVM_SEG_ZERO;
		return out->origin != NULL;
	}
	return 0;
}

int lvm_vg_thin(const struct lvm_vg *vg, const struct lvm_lv *lv, const struct lvm_seg **thin,
		const struct lvm_lv **pool)
{
	if (lv->nsegs != 1 || lv->segs[0].type != LVM_SEG_THIN)
		return 0;
	*thin = &lv->segs[0];
	*pool = lvm_vg_find_lv(vg, lv->segs[0].thin_pool);
	return 1;
}

int pieces_add(struct snapcow_dev_piece **p, size_t *n, size_t *cap, uint64_t length, int fd,
	       uint64_t off)
{
	if (*n && (*p)[*n - 1].fd == fd &&
	    (fd < 0 || (*p)[*n - 1].fd_offset + (*p)[*n - 1].length == off)) {
		(*p)[*n - 1].length += length; /* contiguous with the last one */
		return 0;
	}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct snapcow_dev_piece *q = realloc(*p, nc * sizeof(*q));

		if (!q)
			return -ENOMEM;
		*p = q;
		*cap = nc;
	}
	(*p)[(*n)++] = (struct snapcow_dev_piece){ length, fd, off };
	return 0;
}

/* Where stripe @s of @seg starts in its PV's image; -ENODEV or -ERANGE. */
static int stripe_start(const struct lvm_vg *vg, const struct lvm_lv *lv, const struct lvm_seg *seg,
			uint32_t s, uint64_t *off, char *why, size_t len)
{
	const struct lvm_vg_pv *pv = &vg->pvs[seg->stripes[s].pv];
	const uint64_t ext = vg->extent_sectors * SECTOR;
	const uint64_t need = pv->pe_start * SECTOR + (seg->stripes[s].pe +
						       seg->extent_count / seg->stripe_count) * ext;

	if (!pv->found) {
		snprintf(why, len, "LV %s needs PV %s (UUID %s, last seen as %s), which is not "
			 "among the physical volumes given", lv->name, pv->name, pv->id,
			 pv->device[0] ? pv->device : "?");
		return -ENODEV;
	}
	if (need > pv->found->size) {
		snprintf(why, len, "LV %s needs %" PRIu64 " bytes of PV %s (%s), which holds only "
			 "%" PRIu64 ": the image is truncated", lv->name, need, pv->name,
			 pv->found->path, pv->found->size);
		return -ERANGE;
	}
	*off = pv->found->base + pv->pe_start * SECTOR + seg->stripes[s].pe * ext;
	return 0;
}

static int seg_pieces(const struct lvm_vg *vg, const struct lvm_lv *lv, const struct lvm_seg *seg,
		      struct snapcow_dev_piece **p, size_t *n, size_t *cap, char *why, size_t len)
{
	const uint64_t bytes = seg->extent_count * vg->extent_sectors * SECTOR;
	uint64_t starts[128], unit;
	int r;

	if (seg->type == LVM_SEG_ZERO)
		return pieces_add(p, n, cap, bytes, -1, 0);
	if (seg->type != LVM_SEG_STRIPED) {
		snprintf(why, len, "LV %s: a '%s' segment cannot be read as a plain volume",
			 lv->name, seg->type_name);
		return -ENOTSUP;
	}
	for (uint32_t s = 0; s < seg->stripe_count; s++) {
		r = stripe_start(vg, lv, seg, s, &starts[s], why, len);
		if (r < 0)
			return r;
	}
	if (seg->stripe_count == 1)
		return pieces_add(p, n, cap, bytes, vg->pvs[seg->stripes[0].pv].found->fd, starts[0]);
	/* Striped: chunk c of the segment is chunk c / k of stripe c % k. */
	unit = seg->stripe_sectors * SECTOR;
	for (uint64_t c = 0, r2 = 0; c * unit < bytes && !r2; c++) {
		uint32_t s = (uint32_t)(c % seg->stripe_count);

		r2 = pieces_add(p, n, cap, unit, vg->pvs[seg->stripes[s].pv].found->fd,
			       starts[s] + (c / seg->stripe_count) * unit);
		if (r2)
			return r2;
	}
	return 0;
}

int lvm_lv_pieces(const struct lvm_vg *vg, const struct lvm_lv *lv, struct snapcow_dev_piece **pieces,
		  size_t *n, char *why, size_t wlen)
{
	struct snapcow_dev_piece *p = NULL;
	size_t np = 0, cap = 0;
	int r = 0;

	for (size_t i = 0; i < lv->nsegs && !r; i++)
		r = seg_pieces(vg, lv, &lv->segs[i], &p, &np, &cap, why, wlen);
	if (r < 0) {
		free(p);
		return r;
	}
	*pieces = p;
	*n = np;
	return 0;
}

const char *lvm_lv_pe_ranges(const struct lvm_vg *vg, const struct lvm_lv *lv, char *buf,
			     size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < lv->nsegs; i++) {
		const struct lvm_seg *seg = &lv->segs[i];

		for (uint32_t s = 0; seg->type == LVM_SEG_STRIPED && s < seg->stripe_count; s++) {
			const struct lvm_vg_pv *pv = &vg->pvs[seg->stripes[s].pv];
			uint64_t per = seg->extent_count / seg->stripe_count;

			const char *where = pv->found ? pv->found->path :
					    pv->device[0] ? pv->device : pv->name;

			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s:%" PRIu64 "-%" PRIu64,
					      o ? " " : "", where, seg->stripes[s].pe,
					      seg->stripes[s].pe + per - 1);
		}
	}
	return buf;
}

/* @id without its dashes appended at @o of @buf. */
static size_t put_undashed(char *buf, size_t len, size_t o, const char *id)
{
	for (; *id && o + 1 < len; id++)
		if (*id != '-')
			buf[o++] = *id;
	buf[o] = '\0';
	return o;
}

const char *lvm_lv_dm_uuid(const struct lvm_vg *vg, const struct lvm_lv *lv, char *buf,
			   size_t len)
{
	size_t o;

	if (len < 5)
		return len ? (buf[0] = '\0', buf) : buf;
	memcpy(buf, "LVM-", 5);
	o = put_undashed(buf, len, 4, vg->id);
	put_undashed(buf, len, o, lv->id);
	return buf;
}
