/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One pass over the inodes, whatever the number of chunks: the changed
 * blocks go into a bitmap first, then each inode's extents (or block map)
 * are tested against it.  Nothing is written: the filesystem is open
 * read-only through ext2view's io_manager, which refuses every write.
 */
#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rmap_ext2.h"
#include <ext2fs/ext3_extents.h> /* needs ext2fs.h's types first */

enum meta_kind {
	M_SUPER,
	M_SUPER_BACKUP,
	M_GDT,
	M_RESERVED_GDT,
	M_BLOCK_BITMAP,
	M_INODE_BITMAP,
	M_INODE_TABLE,
	M_JOURNAL,
	M_RESERVED_INODES,
	M_FILE_MAPS,
	M_XATTR,
	M_BOOT,
	M_COUNT,
};

static const char *const meta_names[M_COUNT] = {
	"superblock",
	"backup superblocks",
	"group descriptors",
	"reserved group descriptor blocks",
	"block bitmaps",
	"inode bitmaps",
	"inode tables",
	"journal",
	"other reserved inodes (quota, resize, orphan file...)",
	"extent tree and indirect blocks of the files above",
	"extended attribute blocks",
	"boot block (before the superblock)",
};

static const char *const meta_keys[M_COUNT] = {
	"superblock", "backup_superblocks", "group_descriptors", "reserved_gdt",
	"block_bitmaps", "inode_bitmaps", "inode_tables", "journal", "reserved_inodes",
	"file_maps", "xattr_blocks", "boot_block",
};

struct owner {
	ext2_ino_t ino;
	uint16_t mode;
	uint16_t links;
	uint64_t changed;   /* changed data blocks */
	uint64_t maps;      /* changed extent-tree / indirect blocks */
	uint64_t lost;      /* blocks of initialised data in chunks the table lacks */
	ext2_ino_t parent;  /* directory holding the first name found */
	char *name;         /* that name */
	char *path;
};

struct rmap {
	const struct fsview *fv;
	char fstype[128];
	ext2_filsys fs;
	const struct viewset *vs;
	int zero_origin;
	int want_uncommitted;
	int want_lost;
	ext2fs_block_bitmap changed;  /* fs blocks in remapped chunks */
	ext2fs_block_bitmap claimed;  /* changed blocks attributed to something */
	uint64_t nchanged, chunks, chunks_past_end, boot_changed;
	uint64_t meta[M_COUNT];
	struct owner *owners;
	size_t nowners, cap;
	ext2_ino_t *dirs;
	size_t ndirs, dircap;
	uint64_t free_blocks, unowned, unreadable_inodes;
	/* the file being scanned */
	struct owner cur;
	enum meta_kind cur_meta; /* M_COUNT: an ordinary file */
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		errx(EXIT_FAIL, "out of memory");
	return p;
}

/* ext2fs_find_first_zero_block_bitmap2(), except that libext2fs 1.47's
 * red-black tree bitmaps answer ENOENT when no bit at all is set. */
static errcode_t find_zero(ext2fs_block_bitmap b, blk64_t start, blk64_t end, blk64_t *out)
{
	if (!ext2fs_test_block_bitmap2(b, start)) {
		*out = start;
		return 0;
	}
	return ext2fs_find_first_zero_block_bitmap2(b, start, end, out);
}

/* Bits of @b in [start, end] that are not set. */
static uint64_t count_zero(ext2fs_block_bitmap b, blk64_t start, blk64_t end)
{
	blk64_t first, set;
	uint64_t n = 0;

	while (start <= end) {
		if (find_zero(b, start, end, &first))
			break;
		if (ext2fs_find_first_set_block_bitmap2(b, first, end, &set))
			set = end + 1;
		n += set - first;
		start = set;
	}
	return n;
}

/* Blocks in [start, end] not claimed yet: a block is counted once, for
 * the first owner found (metadata first, then inodes in order). */
static uint64_t count_unclaimed(struct rmap *m, blk64_t start, blk64_t end)
{
	return count_zero(m->claimed, start, end);
}

/* Clip [*start, *start + len) to the blocks the bitmaps cover (from the
 * first data block to the end of the filesystem); 0 if nothing is left,
 * else 1 and the last block in *end. */
static int clip_to_fs(const struct rmap *m, blk64_t *start, uint64_t len, blk64_t *end)
{
	const blk64_t fdb = m->fs->super->s_first_data_block;
	const uint64_t total = ext2fs_blocks_count(m->fs->super);

	if (*start < fdb) {
		if (len <= fdb - *start)
			return 0;
		len -= fdb - *start;
		*start = fdb;
	}
	if (!len || *start >= total)
		return 0;
	if (len > total - *start)
		len = total - *start;
	*end = *start + len - 1;
	return 1;
}

/* Count (and claim) the changed blocks in [start, start + len) that
 * nothing claimed before. */
static uint64_t count_changed(struct rmap *m, blk64_t start, uint64_t len)
{
	blk64_t end, first, zero;
	uint64_t n = 0;

	if (!clip_to_fs(m, &start, len, &end))
		return 0;
	while (start <= end) {
		if (ext2fs_find_first_set_block_bitmap2(m->changed, start, end, &first))
			break;
		if (find_zero(m->changed, first, end, &zero))
			zero = end + 1;
		n += count_unclaimed(m, first, zero - 1);
		ext2fs_mark_block_bitmap_range2(m->claimed, first, (unsigned int)(zero - first));
		start = zero;
	}
	return n;
}

/* Blocks in [start, start + len) NOT in the changed set (for a zero
 * origin: blocks that read as zeros). */
static uint64_t count_unchanged(struct rmap *m, blk64_t start, uint64_t len)
{
	blk64_t end;

	if (!clip_to_fs(m, &start, len, &end))
		return 0;
	return count_zero(m->changed, start, end);
}

/* Mark the filesystem blocks of [@off, @off + @len) of the view changed;
 * the boot block of a 1 KiB-block filesystem is counted apart. */
static void mark_range(struct rmap *m, uint64_t off, uint64_t len)
{
	const uint64_t bs = m->fs->blocksize, total = ext2fs_blocks_count(m->fs->super);
	const blk64_t fdb = m->fs->super->s_first_data_block;
	uint64_t first = off / bs, last = (off + len - 1) / bs;

	if (first >= total) {
		m->chunks_past_end++;
		return;
	}
	if (last >= total)
		last = total - 1;
	if (first < fdb) {
		m->meta[M_BOOT] += (last < fdb ? last + 1 : fdb) - first;
		m->boot_changed += (last < fdb ? last + 1 : fdb) - first;
		if (last < fdb)
			return;
		first = fdb;
	}
	ext2fs_mark_block_bitmap_range2(m->changed, first, (unsigned int)(last - first + 1));
}

/* A thin volume: the "changed" blocks are those in the ranges whose
 * mappings were lost. */
static void mark_lost(void *data, uint64_t off, uint64_t len, const struct thin_lost *l)
{
	struct rmap *m = data;

	(void)l;
	m->chunks += (len + m->vs->chunk_bytes - 1) / m->vs->chunk_bytes;
	mark_range(m, off, len);
}

static void build_changed(struct rmap *m, uint64_t from, uint64_t to)
{
	const uint64_t cb = m->vs->chunk_bytes, total = ext2fs_blocks_count(m->fs->super);
	const blk64_t fdb = m->fs->super->s_first_data_block;
	const struct snapcow_map *map = snapcow_view_map(m->vs->view);
	struct snapcow_exception e;
	uint64_t c = from;
	errcode_t err;

	err = ext2fs_allocate_subcluster_bitmap(m->fs, "changed blocks", &m->changed);
	if (!err)
		err = ext2fs_allocate_subcluster_bitmap(m->fs, "claimed blocks", &m->claimed);
	if (err)
		errx(EXIT_FAIL, "cannot allocate a block bitmap: %s", error_message(err));
	if (m->vs->thin)
		thin_volume_lost(m->vs->thin, mark_lost, m);
	while (map && c <= to && snapcow_map_next(map, c, &e) == 0 && e.old_chunk <= to) {
		m->chunks++;
		c = e.old_chunk + 1;
		if (e.old_chunk > (UINT64_MAX - 1) / cb) {
			m->chunks_past_end++;
			continue;
		}
		mark_range(m, e.old_chunk * cb, cb);
		if (!c)
			break; /* wrapped */
	}
	m->nchanged = m->boot_changed;
	if (total > fdb)
		m->nchanged += total - fdb - count_unchanged(m, fdb, total - fdb);
}

static void classify_metadata(struct rmap *m)
{
	ext2_filsys fs = m->fs;
	blk64_t super, old_desc, new_desc;
	blk_t used;
	dgrp_t g;

	for (g = 0; g < fs->group_desc_count; g++) {
		if (ext2fs_super_and_bgd_loc2(fs, g, &super, &old_desc, &new_desc, &used))
			continue;
		if (super || g == 0)
			m->meta[g == 0 ? M_SUPER : M_SUPER_BACKUP] += count_changed(m, super, 1);
		if (old_desc) {
			m->meta[M_GDT] += count_changed(m, old_desc, fs->desc_blocks);
			m->meta[M_RESERVED_GDT] += count_changed(m, old_desc + fs->desc_blocks,
								 fs->super->s_reserved_gdt_blocks);
		}
		if (new_desc)
			m->meta[M_GDT] += count_changed(m, new_desc, 1);
		m->meta[M_BLOCK_BITMAP] += count_changed(m, ext2fs_block_bitmap_loc(fs, g), 1);
		m->meta[M_INODE_BITMAP] += count_changed(m, ext2fs_inode_bitmap_loc(fs, g), 1);
		m->meta[M_INODE_TABLE] += count_changed(m, ext2fs_inode_table_loc(fs, g),
							fs->inode_blocks_per_group);
	}
}

static void add_owner(struct rmap *m, const struct owner *o)
{
	if (m->nowners == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->owners = xrealloc(m->owners, m->cap * sizeof(*m->owners));
	}
	m->owners[m->nowners++] = *o;
}

/* Data blocks [pblk, pblk + len) of the current inode. */
static void owned_range(struct rmap *m, blk64_t pblk, uint64_t len, int initialised)
{
	uint64_t n = count_changed(m, pblk, len);

	if (m->cur_meta != M_COUNT)
		m->meta[m->cur_meta] += n;
	else
		m->cur.changed += n;
	if (m->want_lost && initialised && m->cur_meta == M_COUNT)
		m->cur.lost += count_unchanged(m, pblk, len);
}

static void owned_map_block(struct rmap *m, blk64_t blk)
{
	uint64_t n = count_changed(m, blk, 1);

	if (m->cur_meta != M_COUNT) {
		m->meta[m->cur_meta] += n;
	} else {
		m->cur.maps += n;
		m->meta[M_FILE_MAPS] += n;
	}
}

/* Most files' extents fit in the inode (tree depth 0): read them there,
 * without an extent handle.  Returns: 1 if done, 0 to take the slow path. */
static int inline_extents(struct rmap *m, const struct ext2_inode *inode)
{
	const struct ext3_extent_header *eh = (const void *)inode->i_block;
	const struct ext3_extent *ex = (const void *)(eh + 1);
	unsigned int i, n = le16toh(eh->eh_entries);

	if (le16toh(eh->eh_magic) != EXT3_EXT_MAGIC || le16toh(eh->eh_depth) != 0 ||
	    n > le16toh(eh->eh_max) || n > 4)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned int len = le16toh(ex[i].ee_len);
		int init = len <= EXT_INIT_MAX_LEN;
		blk64_t start = le32toh(ex[i].ee_start) |
				((blk64_t)le16toh(ex[i].ee_start_hi) << 32);

		owned_range(m, start, init ? len : len - EXT_INIT_MAX_LEN, init);
	}
	return 1;
}

static errcode_t walk_extents(struct rmap *m, ext2_ino_t ino, struct ext2_inode *inode)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent ext;
	errcode_t err;
	int op = EXT2_EXTENT_ROOT;

	err = ext2fs_extent_open2(m->fs, ino, inode, &h);
	if (err)
		return err;
	for (;;) {
		err = ext2fs_extent_get(h, op, &ext);
		op = EXT2_EXTENT_NEXT;
		if (err == EXT2_ET_EXTENT_NO_NEXT || err == EXT2_ET_NO_CURRENT_NODE) {
			err = 0;
			break;
		}
		if (err)
			break;
		if (ext.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)
			continue;
		if (ext.e_flags & EXT2_EXTENT_FLAGS_LEAF)
			owned_range(m, ext.e_pblk, ext.e_len,
				    !(ext.e_flags & EXT2_EXTENT_FLAGS_UNINIT));
		else
			owned_map_block(m, ext.e_pblk); /* the child tree block */
	}
	ext2fs_extent_free(h);
	return err;
}

static int block_cb(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
		    int ref_offset, void *priv)
{
	struct rmap *m = priv;

	(void)fs, (void)ref_blk, (void)ref_offset;
	if (blockcnt < 0)
		owned_map_block(m, *blocknr);
	else
		owned_range(m, *blocknr, 1, 1);
	return 0;
}

static enum meta_kind reserved_kind(ext2_filsys fs, ext2_ino_t ino)
{
	if (ino == fs->super->s_journal_inum && ext2fs_has_feature_journal(fs->super))
		return M_JOURNAL;
	if (ino < EXT2_FIRST_INODE(fs->super) && ino != EXT2_ROOT_INO)
		return M_RESERVED_INODES;
	if (ino == fs->super->s_usr_quota_inum || ino == fs->super->s_grp_quota_inum ||
	    ino == fs->super->s_prj_quota_inum || ino == fs->super->s_orphan_file_inum)
		return M_RESERVED_INODES;
	return M_COUNT;
}

static void scan_inodes(struct rmap *m)
{
	ext2_filsys fs = m->fs;
	ext2_inode_scan scan;
	struct ext2_inode inode;
	ext2_ino_t ino;
	errcode_t err;

	err = ext2fs_open_inode_scan(fs, 64, &scan);
	if (err)
		errx(EXIT_FAIL, "cannot scan the inodes: %s", error_message(err));
	for (;;) {
		err = ext2fs_get_next_inode(scan, &ino, &inode);
		if (err == EXT2_ET_BAD_BLOCK_IN_INODE_TABLE) {
			m->unreadable_inodes++;
			continue;
		}
		if (err)
			errx(EXIT_FAIL, "cannot read inode %u: %s", ino, error_message(err));
		if (!ino)
			break;
		if (!inode.i_mode || !ext2fs_test_inode_bitmap2(fs->inode_map, ino))
			continue;
		if (LINUX_S_ISDIR(inode.i_mode)) {
			if (m->ndirs == m->dircap) {
				m->dircap = m->dircap ? m->dircap * 2 : 256;
				m->dirs = xrealloc(m->dirs, m->dircap * sizeof(*m->dirs));
			}
			m->dirs[m->ndirs++] = ino;
		}
		memset(&m->cur, 0, sizeof(m->cur));
		m->cur.ino = ino;
		m->cur.mode = inode.i_mode;
		m->cur.links = inode.i_links_count;
		m->cur_meta = reserved_kind(fs, ino);
		if (ext2fs_file_acl_block(fs, &inode))
			m->meta[M_XATTR] += count_changed(m, ext2fs_file_acl_block(fs, &inode), 1);
		if (ext2fs_inode_has_valid_blocks2(fs, &inode)) {
			if (inode.i_flags & EXT4_EXTENTS_FL)
				err = inline_extents(m, &inode) ? 0 : walk_extents(m, ino, &inode);
			else
				err = ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_READ_ONLY, NULL,
							    block_cb, m);
			if (err)
				warnx("inode %u: cannot walk its blocks: %s", ino,
				      error_message(err));
		}
		if (m->cur_meta == M_COUNT && (m->cur.changed || m->cur.maps || m->cur.lost))
			add_owner(m, &m->cur);
	}
	ext2fs_close_inode_scan(scan);
}

static int cmp_owner_ino(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int cmp_owner_path(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return strcmp(x->path, y->path);
}

struct name_ctx {
	struct rmap *m;
	ext2_ino_t dir;
	size_t left;
};

static int name_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
		   int blocksize, char *buf, void *priv)
{
	struct name_ctx *nc = priv;
	struct owner key, *o;
	int len = ext2fs_dirent_name_len(de);

	(void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
	if (!de->inode || (len == 1 && de->name[0] == '.') ||
	    (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	key.ino = de->inode;
	o = bsearch(&key, nc->m->owners, nc->m->nowners, sizeof(key), cmp_owner_ino);
	if (!o || o->name || LINUX_S_ISDIR(o->mode))
		return 0;
	o->parent = nc->dir;
	o->name = xrealloc(NULL, (size_t)len + 1);
	memcpy(o->name, de->name, (size_t)len);
	o->name[len] = 0;
	if (--nc->left == 0)
		return DIRENT_ABORT;
	return 0;
}

/* Name every owner: directories by walking "..", other files by finding
 * an entry that points at them (at most one pass over the directories,
 * stopping when all are named). */
static void name_owners(struct rmap *m)
{
	struct name_ctx nc = { .m = m };
	size_t i;
	char *p;

	if (!m->nowners) /* nothing to name (and qsort(NULL, 0, ...) is undefined) */
		return;
	qsort(m->owners, m->nowners, sizeof(*m->owners), cmp_owner_ino);
	for (i = 0; i < m->nowners; i++)
		if (!LINUX_S_ISDIR(m->owners[i].mode))
			nc.left++;
	/* A new or renamed file changes its directory's blocks: look in the
	 * changed directories first, the others only for names still missing. */
	for (i = 0; i < m->nowners && nc.left; i++) {
		if (!LINUX_S_ISDIR(m->owners[i].mode))
			continue;
		nc.dir = m->owners[i].ino;
		ext2fs_dir_iterate2(m->fs, nc.dir, 0, NULL, name_cb, &nc);
	}
	for (i = 0; i < m->ndirs && nc.left; i++) {
		struct owner key = { .ino = m->dirs[i] };

		if (bsearch(&key, m->owners, m->nowners, sizeof(key), cmp_owner_ino))
			continue; /* looked at above */
		nc.dir = m->dirs[i];
		ext2fs_dir_iterate2(m->fs, nc.dir, 0, NULL, name_cb, &nc);
	}
	for (i = 0; i < m->nowners; i++) {
		struct owner *o = &m->owners[i];
		char *dpath = NULL;
		size_t len;

		if (LINUX_S_ISDIR(o->mode)) {
			if (ext2fs_get_pathname(m->fs, o->ino, 0, &dpath) == 0) {
				len = strlen(dpath);
				o->path = xrealloc(NULL, len + 2);
				snprintf(o->path, len + 2, "%s%s", dpath,
					 strcmp(dpath, "/") ? "/" : "");
				ext2fs_free_mem(&dpath);
			}
		} else if (o->name && ext2fs_get_pathname(m->fs, o->parent, 0, &dpath) == 0) {
			len = strlen(dpath) + strlen(o->name) + 2;
			o->path = xrealloc(NULL, len);
			snprintf(o->path, len, "%s%s%s", dpath, strcmp(dpath, "/") ? "/" : "",
				 o->name);
			ext2fs_free_mem(&dpath);
		}
		if (!o->path) {
			p = xrealloc(NULL, 96);
			snprintf(p, 96, "<inode %u: no name found (%s)>", o->ino,
				 o->links ? "directory entry not found" :
				 "deleted while open: orphan");
			o->path = p;
		}
	}
	qsort(m->owners, m->nowners, sizeof(*m->owners), cmp_owner_path);
}

static void classify_rest(struct rmap *m)
{
	const uint64_t total = ext2fs_blocks_count(m->fs->super);
	blk64_t b = m->fs->super->s_first_data_block, first, zero;

	/* Changed blocks nothing claimed: free in the filesystem's bitmap, or
	 * allocated with no owner found. */
	while (b < total) {
		if (ext2fs_find_first_set_block_bitmap2(m->changed, b, total - 1, &first))
			break;
		if (find_zero(m->changed, first, total - 1, &zero))
			zero = total;
		for (b = first; b < zero; b++) {
			if (ext2fs_fast_test_block_bitmap2(m->claimed, b))
				continue;
			if (ext2fs_test_block_bitmap2(m->fs->block_map, b))
				m->unowned++;
			else
				m->free_blocks++;
		}
	}
}

/* ---- --uncommitted --------------------------------------------------------- */

struct urange {
	uint64_t first, last; /* store chunks */
};

struct uncommitted {
	uint64_t next_free, chunks;
	uint32_t per_area;
	struct urange *r;
	size_t n, cap;
};

/* Add data chunk @c to the runs (an area chunk between two chunks does not
 * break a run). */
static int add_uncommitted(void *data, uint64_t c)
{
	struct uncommitted *u = data;

	u->chunks++;
	if (u->n && (u->r[u->n - 1].last + 1 == c ||
		     (u->r[u->n - 1].last + 2 == c &&
		      snapcow_chunk_is_metadata(u->per_area, c - 1)))) {
		u->r[u->n - 1].last = c;
		return 0;
	}
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->r = xrealloc(u->r, u->cap * sizeof(*u->r));
	}
	u->r[u->n].first = u->r[u->n].last = c;
	u->n++;
	return 0;
}

static void scan_uncommitted(const struct viewset *vs, struct uncommitted *u)
{
	struct snapcow_store *s = vs->store;
	struct snapcow_uncommitted sum;
	int r;

	memset(u, 0, sizeof(*u));
	u->next_free = vs->stats.next_free;
	u->per_area = snapcow_store_per_area(s);
	r = snapcow_store_scan_uncommitted(s, u->next_free, add_uncommitted, u, &sum);
	if (r < 0)
		errx(EXIT_FAIL, "%s: cannot scan past next_free: %s", snapcow_store_name(s),
		     snapcow_strerror(r));
}

/* ---- output ---------------------------------------------------------------- */

static const char *file_kind(uint16_t mode)
{
	if (LINUX_S_ISDIR(mode))
		return "directory";
	if (LINUX_S_ISLNK(mode))
		return "symlink";
	if (LINUX_S_ISREG(mode))
		return "file";
	return "other";
}

static uint64_t count_owners(const struct rmap *m, int lost)
{
	uint64_t n = 0;

	for (size_t i = 0; i < m->nowners; i++)
		if (lost ? m->owners[i].lost != 0 : m->owners[i].changed || m->owners[i].maps)
			n++;
	return n;
}

static void print_files(const struct rmap *m)
{
	uint64_t files = count_owners(m, 0);

	printf("\nfiles and directories with %s: %" PRIu64 "\n",
	       m->vs->thin ? "blocks in lost ranges" : "changed blocks", files);
	if (files)
		printf("%10s  %s\n", "blocks", "path");
	for (size_t i = 0; i < m->nowners; i++) {
		const struct owner *o = &m->owners[i];

		if (!o->changed && !o->maps)
			continue;
		printf("%10" PRIu64 "  %s", o->changed + o->maps, o->path);
		if (!LINUX_S_ISDIR(o->mode) && o->links > 1)
			printf("  (%u links)", o->links);
		printf("\n");
	}
}

static void print_metadata(const struct rmap *m)
{
	printf("\nmetadata:\n");
	for (int k = 0; k < M_COUNT; k++)
		if (m->meta[k])
			printf("%10" PRIu64 "  %s\n", m->meta[k], meta_names[k]);
	printf("%10" PRIu64 "  free space: no file owns these blocks (deleted files, or\n"
	       "            written by a file whose inode never reached the disk)\n",
	       m->free_blocks);
	if (m->unowned)
		printf("%10" PRIu64 "  in use per the block bitmap, but no owner found\n",
		       m->unowned);
	if (m->unreadable_inodes)
		printf("warning: %" PRIu64 " inodes could not be read\n", m->unreadable_inodes);
}

static void print_uncommitted(const struct rmap *m, const struct uncommitted *u)
{
	const uint64_t cb = m->vs->chunk_bytes;
	uint64_t lost_files;

	printf("\nuncommitted data: %" PRIu64 " chunk%s past next_free (chunk %" PRIu64 ") "
	       "hold non-zero bytes\n", u->chunks, u->chunks == 1 ? "" : "s", u->next_free);
	for (size_t i = 0; i < u->n; i++)
		printf("  store chunks %" PRIu64 "..%" PRIu64 " (bytes %" PRIu64 "..%" PRIu64 ")\n",
		       u->r[i].first, u->r[i].last, u->r[i].first * cb,
		       (u->r[i].last + 1) * cb - 1);
	if (u->chunks)
		printf("  their origin chunks are unknown: the kernel never wrote their records, "
		       "so they cannot be placed in the view\n");
	if (!m->zero_origin)
		return;
	lost_files = count_owners(m, 1);
	printf("\nfiles whose written data is not in the table: %" PRIu64 "\n", lost_files);
	if (lost_files)
		printf("  (zero origin: these blocks read as zeros; their data was never "
		       "committed, possibly in the chunks above)\n%10s  %s\n", "blocks", "path");
	for (size_t i = 0; i < m->nowners; i++)
		if (m->owners[i].lost)
			printf("%10" PRIu64 "  %s\n", m->owners[i].lost, m->owners[i].path);
}

static void print_human(const struct rmap *m, const struct uncommitted *u)
{
	fsview_print_store(m->fv, 13);
	printf("filesystem:  %s, %u-byte blocks, %llu blocks\n", m->fstype, m->fs->blocksize,
	       (unsigned long long)ext2fs_blocks_count(m->fs->super));
	printf("%-13s%" PRIu64 " %s, %" PRIu64 " filesystem blocks", m->vs->thin ? "lost:" :
	       "changed:", m->chunks, m->vs->thin ? "thin blocks" : "chunks", m->nchanged);
	if (m->chunks_past_end)
		printf(" (%" PRIu64 " chunks past the end of the filesystem)", m->chunks_past_end);
	printf("\n");
	print_files(m);
	print_metadata(m);
	if (m->want_uncommitted)
		print_uncommitted(m, u);
}

static json_object *files_json(const struct rmap *m)
{
	json_object *a = json_object_new_array(), *f;

	for (size_t i = 0; i < m->nowners; i++) {
		const struct owner *w = &m->owners[i];

		f = json_object_new_object();
		fsview_json_add_u64(f, "inode", w->ino);
		json_object_object_add(f, "path", json_object_new_string(w->path));
		json_object_object_add(f, "kind", json_object_new_string(file_kind(w->mode)));
		json_object_object_add(f, "links", json_object_new_int(w->links));
		fsview_json_add_u64(f, "changed_blocks", w->changed);
		fsview_json_add_u64(f, "changed_map_blocks", w->maps);
		if (m->want_uncommitted && m->zero_origin)
			fsview_json_add_u64(f, "uncommitted_blocks", w->lost);
		json_object_array_add(a, f);
	}
	return a;
}

static json_object *uncommitted_json(const struct uncommitted *u)
{
	json_object *f = json_object_new_object(), *a = json_object_new_array(), *r;

	fsview_json_add_u64(f, "next_free", u->next_free);
	fsview_json_add_u64(f, "chunks", u->chunks);
	for (size_t i = 0; i < u->n; i++) {
		r = json_object_new_object();
		fsview_json_add_u64(r, "first_chunk", u->r[i].first);
		fsview_json_add_u64(r, "last_chunk", u->r[i].last);
		json_object_array_add(a, r);
	}
	json_object_object_add(f, "ranges", a);
	json_object_object_add(f, "origin_chunks_known", json_object_new_boolean(0));
	return f;
}

static void print_json(const struct rmap *m, const struct uncommitted *u)
{
	json_object *o = fsview_json_new(m->fv), *md;

	json_object_object_add(o, "type", json_object_new_string(m->fstype));
	fsview_json_add_u64(o, "block_size", m->fs->blocksize);
	fsview_json_add_u64(o, "blocks", ext2fs_blocks_count(m->fs->super));
	fsview_json_add_u64(o, "changed_chunks", m->chunks);
	fsview_json_add_u64(o, "changed_blocks", m->nchanged);
	fsview_json_add_u64(o, "chunks_past_end", m->chunks_past_end);
	json_object_object_add(o, "files", files_json(m));
	md = json_object_new_object();
	for (int k = 0; k < M_COUNT; k++)
		fsview_json_add_u64(md, meta_keys[k], m->meta[k]);
	json_object_object_add(o, "metadata", md);
	fsview_json_add_u64(o, "free_blocks", m->free_blocks);
	fsview_json_add_u64(o, "unowned_blocks", m->unowned);
	if (m->want_uncommitted)
		json_object_object_add(o, "uncommitted", uncommitted_json(u));
	fsview_json_print(o);
}

/* ---- the mapping -------------------------------------------------------------- */

static void rmap_free(struct rmap *m, struct uncommitted *u)
{
	for (size_t i = 0; i < m->nowners; i++) {
		free(m->owners[i].name);
		free(m->owners[i].path);
	}
	free(m->owners);
	free(m->dirs);
	free(u->r);
	ext2fs_free_block_bitmap(m->changed);
	ext2fs_free_block_bitmap(m->claimed);
}

int rmap_ext2(struct fsview *fv, const struct rmap_ext2_opts *o)
{
	struct uncommitted u = { 0 };
	struct rmap m = { 0 };
	errcode_t err;

	m.fv = fv;
	m.fs = fv->fs;
	m.vs = &fv->vs;
	m.zero_origin = fv->vs.zero_origin;
	m.want_uncommitted = o->uncommitted;
	m.want_lost = o->uncommitted && m.zero_origin && o->from == 0 && o->to == UINT64_MAX;
	snprintf(m.fstype, sizeof(m.fstype), "%s",
		 fv->probed == 1 ? fv->type : "ext2/3/4 (libblkid: none)");
	err = ext2fs_read_bitmaps(m.fs);
	if (err)
		errx(EXIT_FAIL, "%s: cannot read the filesystem's bitmaps: %s", fv->store,
		     error_message(err));
	m.fs->default_bitmap_type = EXT2FS_BMAP64_RBTREE;
	build_changed(&m, o->from, o->to);
	classify_metadata(&m);
	scan_inodes(&m);
	name_owners(&m);
	classify_rest(&m);
	if (o->uncommitted)
		scan_uncommitted(m.vs, &u);
	if (fv->format == FSVIEW_JSON)
		print_json(&m, &u);
	else
		print_human(&m, &u);
	rmap_free(&m, &u);
	ext2fs_close_free(&fv->fs);
	if (ext2view_refused_writes())
		return EXIT_FAIL;
	return fv->vs.thin && fv->vs.thin->nlost ? EXIT_PARTIAL : EXIT_OK;
}
