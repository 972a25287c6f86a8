/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The btrfs mapping of a store's chunks (snap_rmap), through "btrfs
 * inspect-internal dump-tree" on a temporary copy of the whole view
 * (fsimage.h); nothing is mounted.  The changed blocks are device
 * addresses; btrfs places everything by logical address:
 *
 *   chunk tree    device offset -> logical address (a single device:
 *                 profiles single and DUP, whose two copies are two
 *                 changed blocks of the same tree block)
 *   extent tree   logical address -> tree block and the tree it belongs to
 *   root tree     the subvolumes and where each one hangs (ROOT_REF)
 *   fs trees      every inode's extents (EXTENT_DATA: data owners), mode,
 *                 link count and names (INODE_REF), one pass per tree
 *
 * A changed block in a chunk that nothing claims is free space; one in no
 * chunk is unallocated device space (free too).  A log tree waiting for
 * replay is not read: what only it holds shows as free space, and the
 * report says so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "btrfsprogs.h"
#include "fsimage.h"
#include "rmap.h"

enum bkind {
	BK_SUPER,
	BK_FS,
	BK_EXTENT,
	BK_CSUM,
	BK_CHUNK,
	BK_ROOT,
	BK_FREESP,
	BK_OTHER,
	BK_COUNT,
};

static const struct rmap_meta_kind btrfs_kinds[BK_COUNT] = {
	{ "superblock copies", "superblocks" },
	{ "filesystem trees (directories, inodes, small inline files)", "fs_trees" },
	{ "extent tree", "extent_tree" },
	{ "checksum tree", "csum_tree" },
	{ "chunk and device trees", "chunk_tree" },
	{ "root tree", "root_tree" },
	{ "free space tree", "free_space_tree" },
	{ "other trees (uuid, quota, data relocation...)", "other_trees" },
};

/* A run of changed device blocks inside one chunk stripe, by logical address. */
struct lrun {
	uint64_t logical, len; /* bytes */
	uint64_t bit;          /* its first block in the claimed bitmap */
};

struct stripe {
	uint64_t logical, length, phys;
};

struct subvol {
	uint64_t id, parent, dirid;
	char *name;
	char *path; /* computed */
};

struct dir {
	uint64_t tree, ino, parent;
	char *name;
};

struct bmap {
	struct rmap_report rep;
	struct btrfs_sb sb;
	struct fsimage im;
	uint64_t bs; /* sector size: the block of the report */
	/* changed device ranges [first, last] in bytes, merged */
	uint64_t (*phys)[2];
	size_t nphys, phys_cap;
	struct stripe *stripes;
	size_t nstripes, stripes_cap;
	struct lrun *runs;
	size_t nruns, runs_cap;
	uint64_t maxrun;
	unsigned char *claimed;
	struct subvol *subvols;
	size_t nsubvols, subvols_cap;
	struct dir *dirs;
	size_t ndirs, dirs_cap;
	uint64_t trees_read;
};

#define GROW(arr, n, cap)                                                       \
	do {                                                                    \
		if ((n) == (cap)) {                                             \
			(cap) = (cap) ? (cap) * 2 : 64;                         \
			(arr) = rmap_xrealloc((arr), (cap) * sizeof(*(arr)));    \
		}                                                               \
	} while (0)

/* ---- the changed device ranges -------------------------------------------- */

/* Blocks [first, last] changed: as bytes, merged into the device ranges. */
static void changed_blocks(void *data, uint64_t first, uint64_t last)
{
	struct bmap *m = data;

	first *= m->bs;
	last = (last + 1) * m->bs - 1;
	if (m->nphys && m->phys[m->nphys - 1][1] + 1 >= first) {
		if (last > m->phys[m->nphys - 1][1])
			m->phys[m->nphys - 1][1] = last;
		return;
	}
	GROW(m->phys, m->nphys, m->phys_cap);
	m->phys[m->nphys][0] = first;
	m->phys[m->nphys++][1] = last;
}

/* ---- dump-tree ---------------------------------------------------------------- */

/* dump-tree @args... on the copy, each line to @fn; the tool ends if it
 * cannot run. */
static void dump_tree(struct bmap *m, char *const args[], checker_line_fn fn, void *data)
{
	char why[512], *errors = NULL, *argv[24];
	const char *prog = checker_locate("btrfs", why, sizeof(why));
	int n = 0, st;

	if (!prog)
		errx(EXIT_FAIL, "%s", why);
	argv[n++] = (char *)prog;
	argv[n++] = "inspect-internal";
	argv[n++] = "dump-tree";
	for (int i = 0; args[i] && n < 22; i++)
		argv[n++] = args[i];
	argv[n++] = m->im.path;
	argv[n] = NULL;
	st = checker_run_lines(argv, -1, fn, data, &errors);
	if (st < 0 || st == 127 || st > 128)
		errx(EXIT_FAIL, "cannot run %s inspect-internal dump-tree: %s", prog,
		     st < 0 ? strerror(-st) : errors);
	free(errors);
	m->trees_read++;
}

/* "item N key (OBJECTID TYPE OFFSET) ...": the three parts (objectid and
 * offset as printed: a number or a name).  Returns: 1 if @line is one. */
static int item_key(const char *line, char *obj, char *type, char *off)
{
	return sscanf(line, " item %*u key (%63s %31s %63[^)])", obj, type, off) == 3;
}

/* A tree's objectid as dump-tree prints it: a number or a name. */
static uint64_t tree_id(const char *s)
{
	static const struct {
		const char *name;
		uint64_t id;
	} names[] = {
		{ "ROOT_TREE", 1 },     { "EXTENT_TREE", 2 }, { "CHUNK_TREE", 3 },
		{ "DEV_TREE", 4 },      { "FS_TREE", 5 },     { "CSUM_TREE", 7 },
		{ "QUOTA_TREE", 8 },    { "UUID_TREE", 9 },   { "FREE_SPACE_TREE", 10 },
		{ "BLOCK_GROUP_TREE", 11 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].id;
	return strtoull(s, NULL, 10);
}

/* ---- chunk tree: device -> logical ------------------------------------------ */

struct chunk_parse {
	struct bmap *m;
	uint64_t logical, length;
};

static int chunk_line(void *data, char *line)
{
	struct chunk_parse *p = data;
	struct bmap *m = p->m;
	char obj[64], type[32], off[64];
	unsigned long long v, devid, phys;

	if (item_key(line, obj, type, off)) {
		p->logical = !strcmp(type, "CHUNK_ITEM") ? strtoull(off, NULL, 10) : UINT64_MAX;
		p->length = 0;
		return 0;
	}
	if (p->logical == UINT64_MAX)
		return 0;
	if (sscanf(line, " length %llu", &v) == 1) {
		p->length = v;
	} else if (sscanf(line, " stripe %*u devid %llu offset %llu", &devid, &phys) == 2 &&
		   p->length && devid == m->sb.devid) {
		GROW(m->stripes, m->nstripes, m->stripes_cap);
		m->stripes[m->nstripes++] = (struct stripe){ p->logical, p->length, phys };
	}
	return 0;
}

static int cmp_lrun(const void *a, const void *b)
{
	const struct lrun *x = a, *y = b;

	return x->logical < y->logical ? -1 : x->logical > y->logical;
}

/* Superblock copies are counted here; the rest of [first, last] goes to
 * the stripes, or is unallocated (free). */
static void place_phys(struct bmap *m, uint64_t first, uint64_t last)
{
	for (uint64_t b = first; b <= last; b += m->bs) {
		int placed = 0;

		for (int i = 0; i < BTRFS_SB_COPIES; i++)
			if (b >= btrfs_sb_offset[i] && b < btrfs_sb_offset[i] + 4096)
				placed = 1;
		if (placed) {
			m->rep.meta[BK_SUPER]++;
			continue;
		}
		for (size_t s = 0; s < m->nstripes && !placed; s++) {
			const struct stripe *st = &m->stripes[s];
			struct lrun *prev = m->nruns ? &m->runs[m->nruns - 1] : NULL;
			uint64_t lg = st->logical + (b - st->phys);

			if (b < st->phys || b >= st->phys + st->length)
				continue;
			placed = 1;
			if (prev && prev->logical + prev->len == lg) {
				prev->len += m->bs;
				continue;
			}
			GROW(m->runs, m->nruns, m->runs_cap);
			m->runs[m->nruns++] = (struct lrun){ lg, m->bs, 0 };
		}
		if (!placed)
			m->rep.free_blocks++; /* unallocated device space */
	}
}

static void map_chunks(struct bmap *m)
{
	struct chunk_parse p = { .m = m, .logical = UINT64_MAX };
	char *args[] = { "-t", "chunk", NULL };
	uint64_t bit = 0;

	dump_tree(m, args, chunk_line, &p);
	for (size_t i = 0; i < m->nphys; i++)
		place_phys(m, m->phys[i][0], m->phys[i][1]);
	if (m->nruns)
		qsort(m->runs, m->nruns, sizeof(*m->runs), cmp_lrun);
	for (size_t i = 0; i < m->nruns; i++) {
		m->runs[i].bit = bit;
		bit += m->runs[i].len / m->bs;
		if (m->runs[i].len > m->maxrun)
			m->maxrun = m->runs[i].len;
	}
	m->claimed = calloc(bit / 8 + 1, 1);
	if (!m->claimed)
		errx(EXIT_FAIL, "out of memory");
}

/* Claim the changed blocks in logical [start, start + len) not claimed yet.
 * Returns: how many. */
static uint64_t claim(struct bmap *m, uint64_t start, uint64_t len)
{
	uint64_t lo = start > m->maxrun ? start - m->maxrun : 0, n = 0;
	size_t a = 0, b = m->nruns;

	while (a < b) { /* the first run starting at or after lo */
		size_t mid = (a + b) / 2;

		if (m->runs[mid].logical < lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a < m->nruns && m->runs[a].logical < start + len; a++) {
		const struct lrun *r = &m->runs[a];
		uint64_t s = start > r->logical ? start : r->logical;
		uint64_t e = start + len < r->logical + r->len ? start + len : r->logical + r->len;

		for (uint64_t x = s; x < e; x += m->bs) {
			uint64_t i = r->bit + (x - r->logical) / m->bs;

			if (m->claimed[i / 8] & (1u << (i % 8)))
				continue;
			m->claimed[i / 8] |= (unsigned char)(1u << (i % 8));
			n++;
		}
	}
	return n;
}

/* ---- extent tree: tree blocks ------------------------------------------------ */

struct extent_parse {
	struct bmap *m;
	uint64_t bytenr, len; /* the item being read; len 0: not a tree block */
	int tree_block;
};

static int kind_of_tree(const char *root)
{
	static const struct {
		const char *name;
		int kind;
	} k[] = {
		{ "FS_TREE", BK_FS },      { "EXTENT_TREE", BK_EXTENT }, { "CSUM_TREE", BK_CSUM },
		{ "CHUNK_TREE", BK_CHUNK }, { "DEV_TREE", BK_CHUNK },     { "ROOT_TREE", BK_ROOT },
		{ "FREE_SPACE_TREE", BK_FREESP },
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (!strcmp(root, k[i].name))
			return k[i].kind;
	return root[0] >= '0' && root[0] <= '9' && strtoull(root, NULL, 10) >= 256 &&
			       strtoull(root, NULL, 10) < (uint64_t)-256 ? BK_FS : BK_OTHER;
}

static int extent_line(void *data, char *line)
{
	struct extent_parse *p = data;
	char obj[64], type[32], off[64], root[64];

	if (item_key(line, obj, type, off)) {
		p->bytenr = strtoull(obj, NULL, 10);
		p->len = !strcmp(type, "METADATA_ITEM") ? p->m->sb.nodesize :
			 !strcmp(type, "EXTENT_ITEM") ? strtoull(off, NULL, 10) : 0;
		p->tree_block = !strcmp(type, "METADATA_ITEM");
		return 0;
	}
	if (!p->len)
		return 0;
	if (strstr(line, "flags TREE_BLOCK"))
		p->tree_block = 1;
	if (!p->tree_block)
		return 0;
	if (sscanf(line, " tree block backref root %63s", root) == 1)
		p->m->rep.meta[kind_of_tree(root)] += claim(p->m, p->bytenr, p->len);
	else if (strstr(line, "shared block backref parent"))
		p->m->rep.meta[BK_FS] += claim(p->m, p->bytenr, p->len); /* a snapshot's */
	else
		return 0;
	p->len = 0; /* the first backref names it */
	return 0;
}

/* ---- root tree: the subvolumes ----------------------------------------------- */

struct root_parse {
	struct bmap *m;
	uint64_t ref_parent, ref_child; /* the ROOT_REF item being read */
};

static int root_line(void *data, char *line)
{
	struct root_parse *p = data;
	struct bmap *m = p->m;
	char obj[64], type[32], off[64];
	unsigned long long dirid;
	int n = 0;

	if (item_key(line, obj, type, off)) {
		p->ref_parent = p->ref_child = 0;
		if (!strcmp(type, "ROOT_REF")) {
			p->ref_parent = tree_id(obj);
			p->ref_child = tree_id(off);
		}
		return 0;
	}
	if (!p->ref_child || sscanf(line, " root ref key dirid %llu sequence %*u name %n", &dirid,
				 &n) != 1 || !n)
		return 0;
	GROW(m->subvols, m->nsubvols, m->subvols_cap);
	m->subvols[m->nsubvols++] = (struct subvol){ p->ref_child, p->ref_parent, dirid,
						     strdup(line + n), NULL };
	p->ref_child = 0;
	return 0;
}

/* ---- the filesystem trees: owners and names -------------------------------- */

struct fs_parse {
	struct bmap *m;
	uint64_t tree, ino;       /* the tree and the inode being read */
	uint32_t mode, links;
	uint64_t parent;          /* its first name: in directory @parent */
	char name[256];
	uint64_t ref_parent;      /* the directory of the INODE_REF item being read */
	int in_item;              /* 1 INODE_ITEM, 2 INODE_REF, 3 INODE_EXTREF, 4 EXTENT_DATA */
};

static void new_inode(struct fs_parse *p, uint64_t ino)
{
	p->ino = ino;
	p->mode = p->links = 0;
	p->parent = 0;
	p->name[0] = '\0';
}

/* Its first name is known: keep it for a directory (paths are made of them). */
static void have_name(struct fs_parse *p, uint64_t parent, const char *name)
{
	struct bmap *m = p->m;

	if (p->name[0] || parent == p->ino)
		return;
	p->parent = parent;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!S_ISDIR(p->mode))
		return;
	GROW(m->dirs, m->ndirs, m->dirs_cap);
	m->dirs[m->ndirs++] = (struct dir){ p->tree, p->ino, parent, strdup(name) };
}

static void extent_data(struct fs_parse *p, uint64_t bytenr, uint64_t nr)
{
	uint64_t n = bytenr ? claim(p->m, bytenr, nr) : 0; /* 0: a hole */
	struct rmap_owner *o;

	if (!n)
		return;
	o = rmap_owner_get(&p->m->rep, p->tree, p->ino);
	o->changed += n;
	o->mode = p->mode;
	o->links = p->links;
	if (!o->name && p->name[0]) {
		o->parent = p->parent;
		o->name = strdup(p->name);
	}
}

static int fs_line(void *data, char *line)
{
	struct fs_parse *p = data;
	char obj[64], type[32], off[64], owner[64], *name;
	unsigned long long a, b;
	unsigned int mode, links;

	if (sscanf(line, "leaf %*u items %*u free space %*u generation %*u owner %63s", owner) == 1 ||
	    sscanf(line, "node %*u level %*u items %*u free %*u generation %*u owner %63s",
		   owner) == 1) {
		p->tree = tree_id(owner);
		return 0;
	}
	if (item_key(line, obj, type, off)) {
		if (strtoull(obj, NULL, 10) != p->ino)
			new_inode(p, strtoull(obj, NULL, 10));
		p->in_item = !strcmp(type, "INODE_ITEM") ? 1 : !strcmp(type, "INODE_REF") ? 2 :
			     !strcmp(type, "INODE_EXTREF") ? 3 : !strcmp(type, "EXTENT_DATA") ? 4 : 0;
		if (p->in_item == 2)
			p->ref_parent = strtoull(off, NULL, 10);
		return 0;
	}
	name = strstr(line, " name: ");
	if (p->in_item == 1 && sscanf(line, " block group %*u mode %o links %u", &mode, &links) == 2) {
		p->mode = mode;
		p->links = links;
	} else if (p->in_item == 2 && name) {
		have_name(p, p->ref_parent, name + 7);
	} else if (p->in_item == 3 && name && sscanf(line, " index %*u parent %llu", &a) == 1) {
		have_name(p, a, name + 7);
	} else if (p->in_item == 4 &&
		   sscanf(line, " extent data disk byte %llu nr %llu", &a, &b) == 2) {
		extent_data(p, a, b);
	}
	return 0;
}

/* One dump-tree per tree: it dumps only the last -t it is given. */
static void read_fs_trees(struct bmap *m)
{
	struct fs_parse p = { .m = m };
	char id[24], *args[] = { "-t", id, NULL };

	for (size_t i = 0; i <= m->nsubvols; i++) {
		snprintf(id, sizeof(id), "%" PRIu64, i ? m->subvols[i - 1].id : 5);
		p.tree = i ? m->subvols[i - 1].id : 5;
		p.ino = UINT64_MAX;
		dump_tree(m, args, fs_line, &p);
	}
}

/* ---- paths -------------------------------------------------------------------- */

static int cmp_dir(const void *a, const void *b)
{
	const struct dir *x = a, *y = b;

	if (x->tree != y->tree)
		return x->tree < y->tree ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static const struct dir *dir_of(const struct bmap *m, uint64_t tree, uint64_t ino)
{
	struct dir key = { .tree = tree, .ino = ino };

	return m->ndirs ? bsearch(&key, m->dirs, m->ndirs, sizeof(key), cmp_dir) : NULL;
}

static char *dir_path(struct bmap *m, uint64_t tree, uint64_t ino, int depth);

/* The path of subvolume @tree's root directory ("" for the top one). */
static char *subvol_path(struct bmap *m, uint64_t tree, int depth)
{
	for (size_t i = 0; i < m->nsubvols && depth < 64; i++) {
		struct subvol *s = &m->subvols[i];
		char *up, *p;
		size_t n;

		if (s->id != tree)
			continue;
		if (s->path)
			return strdup(s->path);
		up = dir_path(m, s->parent, s->dirid, depth + 1);
		n = strlen(up) + strlen(s->name) + 2;
		p = rmap_xrealloc(NULL, n);
		snprintf(p, n, "%s/%s", up, s->name);
		free(up);
		s->path = strdup(p);
		return p;
	}
	return strdup(tree == 5 ? "" : "/<subvolume ?>");
}

/* The path of directory @ino of @tree, without the final "/". */
static char *dir_path(struct bmap *m, uint64_t tree, uint64_t ino, int depth)
{
	const struct dir *d = ino == 256 ? NULL : dir_of(m, tree, ino);
	char *up, *p;
	size_t n;

	if (ino == 256 || depth > 4096)
		return subvol_path(m, tree, depth);
	if (!d) {
		p = rmap_xrealloc(NULL, 48);
		snprintf(p, 48, "/<directory %" PRIu64 "?>", ino);
		return p;
	}
	up = dir_path(m, tree, d->parent, depth + 1);
	n = strlen(up) + strlen(d->name) + 2;
	p = rmap_xrealloc(NULL, n);
	snprintf(p, n, "%s/%s", up, d->name);
	free(up);
	return p;
}

static void name_owners(struct bmap *m)
{
	if (m->ndirs)
		qsort(m->dirs, m->ndirs, sizeof(*m->dirs), cmp_dir);
	for (size_t i = 0; i < m->rep.nowners; i++) {
		struct rmap_owner *o = &m->rep.owners[i];
		char *dir;
		size_t n;

		if (!o->name) {
			o->path = rmap_xrealloc(NULL, 96);
			snprintf(o->path, 96, "<inode %" PRIu64 " of tree %" PRIu64 ": no name found>",
				 o->ino, o->tree);
			continue;
		}
		dir = dir_path(m, o->tree, o->parent, 0);
		n = strlen(dir) + strlen(o->name) + 2;
		o->path = rmap_xrealloc(NULL, n);
		snprintf(o->path, n, "%s/%s", dir, o->name);
		free(dir);
	}
}

/* ---- the mapping -------------------------------------------------------------- */

static void count_free(struct bmap *m)
{
	uint64_t total = 0;

	for (size_t i = 0; i < m->nruns; i++)
		total += m->runs[i].len / m->bs;
	for (uint64_t i = 0; i < total; i++)
		if (!(m->claimed[i / 8] & (1u << (i % 8))))
			m->rep.free_blocks++;
}

static void bmap_free(struct bmap *m)
{
	for (size_t i = 0; i < m->nsubvols; i++) {
		free(m->subvols[i].name);
		free(m->subvols[i].path);
	}
	for (size_t i = 0; i < m->ndirs; i++)
		free(m->dirs[i].name);
	free(m->subvols);
	free(m->dirs);
	free(m->phys);
	free(m->stripes);
	free(m->runs);
	free(m->claimed);
}

static void map_all(struct bmap *m, const struct rmap_opts *o)
{
	struct extent_parse ep = { .m = m };
	struct root_parse rp = { .m = m };
	char *extent[] = { "-t", "extent", NULL }, *root[] = { "-t", "root", NULL };
	uint64_t t0 = now_ns();

	rmap_each_exception(&m->rep, o, m->bs, m->sb.total_bytes / m->bs, changed_blocks, m);
	for (size_t i = 0; i < m->nphys; i++)
		m->rep.nchanged += (m->phys[i][1] - m->phys[i][0] + 1) / m->bs;
	map_chunks(m);
	dump_tree(m, extent, extent_line, &ep);
	dump_tree(m, root, root_line, &rp);
	read_fs_trees(m);
	count_free(m);
	name_owners(m);
	rmap_add_step(&m->rep, "mapped by", "btrfs inspect-internal dump-tree: the chunk tree "
		      "(device -> logical), the extent tree (tree blocks), the root tree and %zu "
		      "filesystem tree%s (files, names): %" PRIu64 " runs of the tool in %.1f s",
		      m->nsubvols + 1, m->nsubvols ? "s" : "", m->trees_read,
		      (double)(now_ns() - t0) / 1e9);
	if (m->sb.log_root)
		rmap_add_step(&m->rep, "log tree", "not replayed (nothing is mounted): what was "
			      "fsync'd after the last commit shows as free space");
}

int rmap_btrfs(struct fsview *fv, const struct rmap_opts *o)
{
	struct bmap m = { 0 };
	char why[4400];

	rmap_report_init(&m.rep, fv, o, btrfs_kinds, BK_COUNT);
	snprintf(m.rep.fstype, sizeof(m.rep.fstype), "%s", fv->type);
	rmap_copy_view(&m.rep, &m.im);
	if (btrfs_dump_super(m.im.path, &m.sb, why, sizeof(why)) < 0)
		errx(EXIT_FAIL, "%s", why);
	if (!m.sb.copy[0].seen || !m.sb.copy[0].magic_ok || !m.sb.sectorsize)
		errx(EXIT_FAIL, "%s: the btrfs superblock cannot be read", fv->store);
	if (m.sb.num_devices != 1)
		errx(EXIT_UNSUPPORTED, "%s: the btrfs filesystem spans %" PRIu64 " devices; this "
		     "view is one of them and cannot be mapped alone", fv->store, m.sb.num_devices);
	m.bs = m.sb.sectorsize;
	m.rep.block_size = m.sb.sectorsize;
	m.rep.blocks = m.sb.total_bytes / m.sb.sectorsize;
	map_all(&m, o);
	fsimage_remove(&m.im);
	bmap_free(&m);
	m.rep.lost_unknown = m.rep.want_lost;
	return rmap_report_finish(&m.rep, o);
}
