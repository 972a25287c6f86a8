/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A volume group from its LVM metadata text (a metadata area's copy, or a
 * vgcfgbackup / /etc/lvm/backup or archive file), parsed with libdevmapper's
 * config parser (the one LVM uses): its PVs, LVs and their segments, the
 * snapshot relations, and every LV's byte ranges on the PVs.  (Facts from
 * lvm2's lib/format_text/import_vsn1.c and lib/snapshot, lib/thin.)
 */
#ifndef SNAPRESCUE_LVM_VG_H
#define SNAPRESCUE_LVM_VG_H

#include <stddef.h>
#include <stdint.h>

#include "lvm_pv.h"
#include "snapcow.h"

#define LVM_NAME_MAX 128

enum lvm_seg_type {
	LVM_SEG_STRIPED,   /* "striped": linear when stripe_count is 1 */
	LVM_SEG_ZERO,      /* "zero": a --virtualsize volume's origin */
	LVM_SEG_ERROR,     /* "error" */
	LVM_SEG_SNAPSHOT,  /* "snapshot": the relation (origin, COW, chunk size) */
	LVM_SEG_THIN_POOL, /* "thin-pool" */
	LVM_SEG_THIN,      /* "thin" */
	LVM_SEG_OTHER,     /* raid, mirror, cache, ...: not read here */
};

struct lvm_stripe {
	int pv;        /* index in vg->pvs */
	uint64_t pe;   /* first physical extent */
};

struct lvm_seg {
	uint64_t start_extent, extent_count;
	enum lvm_seg_type type;
	char type_name[32];
	uint32_t stripe_count;
	uint64_t stripe_sectors;
	struct lvm_stripe *stripes;
	/* snapshot */
	char origin[LVM_NAME_MAX], cow[LVM_NAME_MAX];
	int merging;
	uint32_t chunk_sectors;           /* snapshot and thin-pool */
	/* thin-pool */
	char metadata[LVM_NAME_MAX], pool[LVM_NAME_MAX];
	uint64_t transaction_id;
	/* thin */
	char thin_pool[LVM_NAME_MAX];
	uint64_t device_id;
};

struct lvm_lv {
	char name[LVM_NAME_MAX];
	char id[LVM_UUID_LEN + 1];
	int visible;
	uint64_t extents;          /* sum of the segments */
	struct lvm_seg *segs;
	size_t nsegs;
};

struct lvm_vg_pv {
	char name[32];             /* "pv0" */
	char id[LVM_UUID_LEN + 1];
	char device[256];          /* the hint LVM recorded */
	uint64_t pe_start;         /* sectors */
	uint64_t pe_count;
	const struct lvm_pv *found; /* on the images given; NULL: missing */
};

struct lvm_vg {
	char name[LVM_NAME_MAX];
	char id[LVM_UUID_LEN + 1];
	uint64_t seqno;
	uint64_t extent_sectors;
	struct lvm_vg_pv *pvs;
	size_t npvs;
	struct lvm_lv *lvs;
	size_t nlvs;
	char source[320];          /* where the text came from, for messages */
};

/* Parse metadata text @text (@len bytes).  Returns: 0 and *@out, or
 * -EINVAL with what is wrong in @why (not LVM metadata, no VG section, a
 * field missing or out of range), or -ENOMEM. */
int lvm_vg_parse(const char *text, size_t len, struct lvm_vg **out, char *why, size_t wlen);
void lvm_vg_free(struct lvm_vg *vg);

/* Attach the PVs found on the images (by UUID).  Returns: how many of the
 * VG's PVs are missing. */
size_t lvm_vg_attach(struct lvm_vg *vg, const struct lvm_pv_list *pvs);

const struct lvm_lv *lvm_vg_find_lv(const struct lvm_vg *vg, const char *name);

/* What a snapshot is: the hidden "snapshotN" LV's relation. */
struct lvm_snapshot {
	const struct lvm_lv *cow;     /* the LV LVM shows as the snapshot */
	const struct lvm_lv *origin;  /* the origin LV (a zero LV: sparse) */
	uint32_t chunk_sectors;
	uint64_t size;                /* bytes the snapshot shows */
	int merging;
	int sparse;                   /* the origin is the zero target */
};

/* The snapshot whose COW is @lv.  Returns: 1 and *@out, 0 if @lv is no
 * snapshot's COW. */
int lvm_vg_snapshot(const struct lvm_vg *vg, const struct lvm_lv *lv, struct lvm_snapshot *out);

/* The thin-pool segment and pool LV of thin LV @lv, if it is one. */
int lvm_vg_thin(const struct lvm_vg *vg, const struct lvm_lv *lv, const struct lvm_seg **thin,
		const struct lvm_lv **pool);

/* @lv's bytes as pieces on the PVs' images (striped and linear segments,
 * zero segments as zeros).  Returns: 0 and the malloc'd *@pieces, or
 * -ENODEV (a PV is missing: @why names it) or -ENOTSUP (a segment type
 * that is not read this way: @why names it), -ENOMEM. */
int lvm_lv_pieces(const struct lvm_vg *vg, const struct lvm_lv *lv, struct snapcow_dev_piece **pieces,
		  size_t *n, char *why, size_t wlen);

/* Append a piece of @length bytes (@fd at @off; @fd -1: zeros) to the list
 * *@p of *@n pieces (room for *@cap), merged into the last one when it
 * continues it.  Every list of struct snapcow_dev pieces is built this way
 * (an LV's segments, a thin volume's mappings).  Returns: 0 or -ENOMEM. */
int pieces_add(struct snapcow_dev_piece **p, size_t *n, size_t *cap, uint64_t length, int fd,
	       uint64_t off);

/* "a.img:8-9 b.img:0-1" (lvs's seg_pe_ranges, naming each PV by the image
 * or device it was found on, else by LVM's device hint) into @buf. */
const char *lvm_lv_pe_ranges(const struct lvm_vg *vg, const struct lvm_lv *lv, char *buf,
			     size_t len);

/* The device-mapper UUID LVM gives @lv's device: "LVM-" and the VG's and
 * LV's UUIDs without their dashes, into @buf. */
const char *lvm_lv_dm_uuid(const struct lvm_vg *vg, const struct lvm_lv *lv, char *buf,
			   size_t len);

#endif
