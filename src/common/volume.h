/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the volumes are: a VG/LV name turned into the byte sources a tool
 * reads (the COW store, the origin or the zero target, the size and chunk
 * size), from physical volumes given as disk images or block devices
 * (--pv, a partition table in front is fine), a metadata backup
 * (--metadata), or the live system (the PVs LVM reports, the active
 * device-mapper devices).
 */
#ifndef SNAPRESCUE_VOLUME_H
#define SNAPRESCUE_VOLUME_H

#include <getopt.h>
#include <stdint.h>
#include <sys/stat.h>

#include "lvm_vg.h"
#include "snapcow.h"

enum {
	VOLUME_PV = 0x1100,
	VOLUME_METADATA,
};

#define VOLUME_LONGOPTS                                              \
	{ "pv", required_argument, NULL, VOLUME_PV },                \
	{ "metadata", required_argument, NULL, VOLUME_METADATA }

#define VOLUME_HELP                                                                         \
	"      --pv PATH            a physical volume (disk image, partitioned image or\n"      \
	"                           device) to find VG/LV on, offline; repeatable\n"            \
	"      --metadata FILE      the VG's metadata from a backup or archive file\n"          \
	"                           (/etc/lvm/backup/VG) instead of the PVs' own\n"

#define VOLUME_MAX_PVS 64

struct volume_opts {
	const char *pv[VOLUME_MAX_PVS];
	int npv;
	const char *metadata;
	int thin_held; /* a thin volume: through its pool's metadata snapshot */
};

/* Handle option @c if it is one of the volume options (a bad value: usage
 * error, exit @usage_code).  Returns: 1 if handled, else 0. */
int volume_parse(struct volume_opts *o, int c, const char *arg, int usage_code);

/* Returns: 1 if @operand names a volume (VG/LV or /dev/VG/LV, and no file
 * of that name exists, or it is an active LVM volume's device (a dm UUID
 * "LVM-..."), or --pv / --metadata were given), else 0. */
int volume_is_name(const struct volume_opts *o, const char *operand);

/* The volume group(s) found: each PV, the metadata chosen and why. */
struct volume_set {
	struct lvm_pv_list pvs;
	struct lvm_vg **vgs;
	size_t nvgs;
	int live;              /* found through LVM on this system */
	int thin_held;         /* volume_opts.thin_held: thin volumes through a metadata snapshot */
};

/* Find every VG on the PVs of @o (or the live system's when @o has none),
 * reporting on stderr what was damaged and which metadata copy was used.
 * Exits @code when nothing can be read. */
void volume_set_open(const struct volume_opts *o, struct volume_set *set, int code);
void volume_set_close(struct volume_set *set);

enum volume_kind {
	VOLUME_SNAPSHOT,  /* a classic snapshot of a real origin */
	VOLUME_SPARSE,    /* a --virtualsize volume: the origin is the zero target */
	VOLUME_THIN,      /* a thin volume */
	VOLUME_OTHER,
};

/* A snapshot, sparse or thin volume, ready to read. */
struct volume {
	char vg[LVM_NAME_MAX], lv[LVM_NAME_MAX];
	enum volume_kind kind;
	struct lvm_snapshot snap;
	struct snapcow_dev *cow;     /* the store */
	struct snapcow_dev *origin;  /* NULL: the zero target */
	uint64_t size;               /* bytes the snapshot shows */
	char cow_where[512];         /* "a.img (pv0):8-9 b.img (pv1):0-1 ..." or a device */
	char origin_where[512];
	int cow_fd, origin_fd;       /* live: the dm devices opened */
	const struct volume_set *in; /* where it was found */
	struct volume_set *own;      /* that set, when volume_open() made it */
	/* volume_open_rw(): the PVs reopened for writing, each once */
	int nrw;
	int rw_fd[VOLUME_MAX_PVS];
	struct stat rw_st[VOLUME_MAX_PVS];
	/* a thin volume: its pool's metadata and data (the size is the LV's) */
	struct snapcow_dev *thin_meta, *thin_data;
	uint64_t thin_id;
	int thin_held;               /* read through a metadata snapshot */
	char pool[LVM_NAME_MAX];
};

/* Open VG/LV @name (a snapshot, sparse or thin volume) or exit @code with
 * a message naming what is missing (the PV by UUID and name, the LV).  A
 * thin volume's pool must not be active (its trees change): read it
 * offline, from --pv images, or with the pool inactive. */
void volume_open(const struct volume_opts *o, const char *name, struct volume *v, int code);
/* The same for VG @vg, LV @lv of @set (which must outlive @v). */
void volume_open_in(const struct volume_set *set, const char *vg, const char *lv,
		    struct volume *v, int code);
void volume_close(struct volume *v);

/* A tool that needs an exception store: exit @code naming what reads a thin
 * volume @v (opened as @operand), else nothing. */
void volume_refuse_thin(const struct volume *v, const char *operand, int code);

/* Returns: the volume group of an open volume (its metadata as chosen). */
const struct lvm_vg *volume_vg(const struct volume *v);

/* For a writer (snap_merge): reopen the PVs that hold @v's COW and origin,
 * each once, read-write (read-only with @dry_run), a block device with
 * O_EXCL and refused while an active dm table uses it, and rebuild v->cow
 * and v->origin over those descriptors.  A volume the kernel has active
 * (read through its dm devices), a sparse volume and a segment that is on
 * no PV are refused.  Exits @code with a message. */
void volume_open_rw(struct volume *v, int dry_run, int code);

/* What an undo file records for @v's COW (@origin 0) or origin (1): a
 * block device of the dev's size whose dm UUID is the one LVM gives that
 * device when active ("LVM-" VG UUID LV UUID "-cow" or "-real", dashes
 * dropped), wherever the PVs are (images or devices). */
void volume_identity(const struct volume *v, int origin, struct snapcow_identity *id);

/* The store of the operand: a path (opened as it is), or a volume name
 * (through volume_open(), whose result is kept in *@v for the origin and
 * size; v->kind is VOLUME_OTHER for a path).  Exits @code on failure. */
struct snapcow_store *volume_store_open(const struct volume_opts *o, const char *operand,
					struct volume *v, int code);

/* Returns: 1 if @st is a file (or device) a piece of @d reads, else 0 (a
 * writer refuses an output that is one of its inputs). */
int dev_reads_file(const struct snapcow_dev *d, const struct stat *st);

/* Split "VG/LV" or "/dev/VG/LV".  Returns: 0, or -EINVAL. */
int volume_split_name(const char *s, char *vg, size_t vlen, char *lv, size_t llen);

#endif
