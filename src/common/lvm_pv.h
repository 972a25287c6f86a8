/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LVM physical volumes read from disk images or block devices without LVM
 * running: the PV label, the metadata areas and every copy of the volume
 * group's metadata text their circular buffers still hold.  (The facts are
 * from lvm2's lib/label/label.c, lib/format_text/layout.h and
 * format-text.c; the text itself is parsed by lvm_vg.c with libdevmapper's
 * config parser.)
 */
#ifndef SNAPRESCUE_LVM_PV_H
#define SNAPRESCUE_LVM_PV_H

#include <stddef.h>
#include <stdint.h>

#define LVM_UUID_LEN 38 /* "xxxxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx" */

/* One copy of a VG's metadata text found in a metadata area. */
struct lvm_text {
	char vgname[128];
	uint64_t seqno;
	char *text;        /* NUL-terminated, trailing NULs stripped */
	size_t len;
	uint64_t offset;   /* where it starts, bytes from the start of the PV */
	int current;       /* the copy the area's header points at */
	int crc_ok;        /* current: its checksum holds (older copies have none) */
};

struct lvm_pv {
	char *path;        /* the image or device it was found on */
	int fd;            /* open read-only; owned by the PV list */
	uint64_t base;     /* where the PV starts in the image (a partition) */
	uint64_t size;     /* bytes from @base to the end of the partition or image */
	char uuid[LVM_UUID_LEN + 1];
	uint64_t dev_size; /* the PV header's device size */
	uint64_t pe_start; /* bytes from @base to the first data area */
	unsigned label_sector;
	struct lvm_text *texts; /* newest seqno first */
	size_t ntexts;
	char notes[4][256];     /* what was wrong with its metadata areas */
	int nnotes;
};

struct lvm_pv_list {
	struct lvm_pv *pv;
	size_t n;
};

/* Find the PVs on @path: the image itself, or each partition of an msdos or
 * gpt partition table (libblkid) that holds a PV label.  Appends to @list.
 * Returns: how many were found (0: none, @why says what was looked at),
 * or a negative errno with @why saying what is wrong (truncated, unreadable). */
int lvm_pv_scan(const char *path, struct lvm_pv_list *list, char *why, size_t len);

void lvm_pv_list_free(struct lvm_pv_list *list);

/* The PV with UUID @uuid (formatted with dashes), or NULL. */
struct lvm_pv *lvm_pv_find(const struct lvm_pv_list *list, const char *uuid);

/* LVM's CRC (lvm2's calc_crc with its initial value). */
uint32_t lvm_crc(const void *buf, size_t len);

#endif
