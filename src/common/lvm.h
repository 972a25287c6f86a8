/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LVM for the tools (never in libsnapcow): a handle on liblvm2cmd that runs
 * LVM commands with their log captured (lvm.c, links -llvm2cmd), and the
 * rows of `lvs` as one struct with one parser, a pure function of the text
 * (lvrow.c, no library: unit tests feed it recorded lines).
 */
#ifndef SNAPRESCUE_LVM_H
#define SNAPRESCUE_LVM_H

#include <stddef.h>
#include <stdint.h>

#include "tool.h"

/* The fields of one row, in this order; lvm_lvs() asks for them with
 * `lvs -a --noheadings --nosuffix --units b --separator | -o LVS_FIELDS`. */
#define LVS_FIELDS                                                                        \
	"lv_name,vg_name,lv_attr,lv_size,origin,origin_size,segtype,pool_lv,chunk_size," \
	"vg_extent_size,vg_free,lv_health_status,data_percent,metadata_percent,"         \
	"lv_metadata_size"
#define LVS_NFIELDS 15

/* One lvs row; sizes in bytes, names without the brackets of hidden LVs. */
struct lvrow {
	char name[128], vg[128], attr[16], origin[128], segtype[32], pool[128], health[64];
	uint64_t size, origin_size, chunk, extent, vg_free, meta_size;
	double data_pct, meta_pct;
};

/* Parse one line of that output (leading blanks and a final newline are
 * fine; empty fields are 0 or "").  Returns: 0 and *@row, or -EINVAL with
 * the reason in @why ("unexpected lvs output (3 fields)"), or -ENOMEM. */
int lvrow_parse(const char *line, struct lvrow *row, char *why, size_t len);

struct lvm;

/* Start liblvm2cmd (needs root) with dmeventd monitoring off.  With @echo,
 * LVM's report lines of commands run without capture are printed on stdout
 * as "    lvm: LINE".  liblvm2cmd's log function is process-wide: one
 * handle at a time (-EBUSY otherwise).  Returns: 0 and *@out, -EIO when
 * lvm2_init() failed, or -ENOMEM. */
int lvm_open(int echo, struct lvm **out);
/* lvm2_exit() and free; NULL is fine. */
void lvm_close(struct lvm *l);

/* Run one LVM command line.  With @capture, its report lines (LVM2_LOG_PRINT)
 * are returned in *@capture (malloc'd, "" when it printed none).  Error
 * lines are kept for lvm_errors().  Returns: 0, lvm2_run()'s failure code
 * (2..5), or -ENOMEM. */
int lvm_run(struct lvm *l, char **capture, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* The error lines of the last command, each indented by two spaces, one a
 * line; "" when it logged none. */
const char *lvm_errors(const struct lvm *l);

/* The first lvs row of VG/LV (hidden LVs too).  Returns: 0 and *@row, or a
 * negative errno with the reason in lvm_errors() ("" when LVM said nothing:
 * no such LV). */
int lvm_lvs(struct lvm *l, const char *vg, const char *lv, struct lvrow *row);

#endif
