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

#include "rmap.h"
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

static const struct rmap_meta_kind meta_kinds[M_COUNT] = {
	{ "superblock", "superblock" },
	{ "backup superblocks", "backup_superblocks" },
	{ "group descriptors", "group_descriptors" },
	{ "reserved group descriptor blocks", "reserved_gdt" },
	{ "block bitmaps", "block_bitmaps" },
	{ "inode bitmaps", "inode_bitmaps" },
	{ "inode tables", "inode_tables" },
	{ "journal", "journal" },
	{ "other reserved inodes (quota, resize, orphan file...)", "reserved_inodes" },
	{ "extent tree and indirect blocks of the files above", "file_maps" },
	{ "extended attribute blocks", "xattr_blocks" },
	{ "boot block (before the superblock)", "boot_block" },
};

struct rmap {
	struct rmap_report rep;       /* the owners, metadata and free space found */
	ext2_filsys fs;
	const struct viewset *vs;
	int want_lost;
	ext2fs_block_bitmap changed;  /* fs blocks in remapped chunks */
	ext2fs_block_bitmap claimed;  /* changed blocks attributed to something */
	uint64_t boot_changed;
	ext2_ino_t *dirs;
	size_t ndirs, dircap;
	/* the file being scanned */
	struct rmap_owner cur;
	enum meta_kind cur_meta; /* M_COUNT: an ordinary file */
};

#define xrealloc rmap_xrealloc

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

/* Blocks [first, last] are in a remapped chunk. */
static void changed_blocks(void *data, uint64_t first, uint64_t last)
{
	struct rmap *m = data;
	const blk64_t fdb = m->fs->super->s_first_data_block;

	if (first < fdb) {
		/* The boot block of a 1 KiB-block filesystem: outside the
		 * bitmaps, counted here. */
		m->rep.meta[M_BOOT] += (last < fdb ? last + 1 : fdb) - first;
		m->boot_changed += (last < fdb ? last + 1 : fdb) - first;
		if (last < fdb)
			return;
		first = fdb;
	}
	ext2fs_mark_block_bitmap_range2(m->changed, first, (unsigned int)(last - first + 1));
}

static void build_changed(struct rmap *m, const struct rmap_opts *o)
{
	const uint64_t total = ext2fs_blocks_count(m->fs->super);
	const blk64_t fdb = m->fs->super->s_first_data_block;
	errcode_t err;

	err = ext2fs_allocate_subcluster_bitmap(m->fs, "changed blocks", &m->changed);
	if (!err)
		err = ext2fs_allocate_subcluster_bitmap(m->fs, "claimed blocks", &m->claimed);
	if (err)
		errx(EXIT_FAIL, "cannot allocate a block bitmap: %s", error_message(err));
	rmap_each_exception(&m->rep, o, m->fs->blocksize, total, changed_blocks, m);
	m->rep.nchanged = m->boot_changed;
	if (total > fdb)
		m->rep.nchanged += total - fdb - count_unchanged(m, fdb, total - fdb);
}

/* The group metadata's blocks counted by @count (changed: claimed; or,
 * for --trust, not changed) into @meta. */
static void classify_metadata(struct rmap *m, uint64_t (*count)(struct rmap *, blk64_t, uint64_t),
			      uint64_t *meta)
{
	ext2_filsys fs = m->fs;
	blk64_t super, old_desc, new_desc;
	blk_t used;
	dgrp_t g;

	for (g = 0; g < fs->group_desc_count; g++) {
		if (ext2fs_super_and_bgd_loc2(fs, g, &super, &old_desc, &new_desc, &used))
			continue;
		if (super || g == 0)
			meta[g == 0 ? M_SUPER : M_SUPER_BACKUP] += count(m, super, 1);
		if (old_desc) {
			meta[M_GDT] += count(m, old_desc, fs->desc_blocks);
			meta[M_RESERVED_GDT] += count(m, old_desc + fs->desc_blocks,
						      fs->super->s_reserved_gdt_blocks);
		}
		if (new_desc)
			meta[M_GDT] += count(m, new_desc, 1);
		meta[M_BLOCK_BITMAP] += count(m, ext2fs_block_bitmap_loc(fs, g), 1);
		meta[M_INODE_BITMAP] += count(m, ext2fs_inode_bitmap_loc(fs, g), 1);
		meta[M_INODE_TABLE] += count(m, ext2fs_inode_table_loc(fs, g),
					     fs->inode_blocks_per_group);
	}
}

/* Data blocks [pblk, pblk + len) of the current inode. */
static void owned_range(struct rmap *m, blk64_t pblk, uint64_t len, int initialised)
{
	uint64_t n = count_changed(m, pblk, len);

	if (m->cur_meta != M_COUNT)
		m->rep.meta[m->cur_meta] += n;
	else
		m->cur.changed += n;
	if (m->want_lost && initialised && m->cur_meta == M_COUNT)
		m->cur.lost += count_unchanged(m, pblk, len);
	else if (m->rep.untrusted && initialised && m->cur_meta != M_COUNT)
		m->rep.meta_untrusted[m->cur_meta] += count_unchanged(m, pblk, len);
}

static void owned_map_block(struct rmap *m, blk64_t blk)
{
	uint64_t n = count_changed(m, blk, 1);

	if (m->rep.untrusted && m->cur_meta == M_COUNT)
		m->cur.lost += count_unchanged(m, blk, 1);
	else if (m->rep.untrusted)
		m->rep.meta_untrusted[m->cur_meta] += count_unchanged(m, blk, 1);
	if (m->cur_meta != M_COUNT) {
		m->rep.meta[m->cur_meta] += n;
	} else {
		m->cur.maps += n;
		m->rep.meta[M_FILE_MAPS] += n;
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
			m->rep.unreadable_inodes++;
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
			m->rep.meta[M_XATTR] += count_changed(m, ext2fs_file_acl_block(fs, &inode), 1);
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
			rmap_add_owner(&m->rep, &m->cur);
	}
	ext2fs_close_inode_scan(scan);
}

static int cmp_owner_ino(const void *a, const void *b)
{
	const struct rmap_owner *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
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
	struct rmap_owner key, *o;
	int len = ext2fs_dirent_name_len(de);

	(void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
	if (!de->inode || (len == 1 && de->name[0] == '.') ||
	    (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	key.ino = de->inode;
	o = bsearch(&key, nc->m->rep.owners, nc->m->rep.nowners, sizeof(key), cmp_owner_ino);
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

	if (!m->rep.nowners) /* nothing to name (and qsort(NULL, 0, ...) is undefined) */
		return;
	qsort(m->rep.owners, m->rep.nowners, sizeof(*m->rep.owners), cmp_owner_ino);
	for (i = 0; i < m->rep.nowners; i++)
		if (!LINUX_S_ISDIR(m->rep.owners[i].mode))
			nc.left++;
	/* A new or renamed file changes its directory's blocks: look in the
	 * changed directories first, the others only for names still missing. */
	for (i = 0; i < m->rep.nowners && nc.left; i++) {
		if (!LINUX_S_ISDIR(m->rep.owners[i].mode))
			continue;
		nc.dir = m->rep.owners[i].ino;
		ext2fs_dir_iterate2(m->fs, nc.dir, 0, NULL, name_cb, &nc);
	}
	for (i = 0; i < m->ndirs && nc.left; i++) {
		struct rmap_owner key = { .ino = m->dirs[i] };

		if (bsearch(&key, m->rep.owners, m->rep.nowners, sizeof(key), cmp_owner_ino))
			continue; /* looked at above */
		nc.dir = m->dirs[i];
		ext2fs_dir_iterate2(m->fs, nc.dir, 0, NULL, name_cb, &nc);
	}
	for (i = 0; i < m->rep.nowners; i++) {
		struct rmap_owner *o = &m->rep.owners[i];
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
			snprintf(p, 96, "<inode %" PRIu64 ": no name found (%s)>", o->ino,
				 o->links ? "directory entry not found" :
				 "deleted while open: orphan");
			o->path = p;
		}
	}
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
				m->rep.unowned++;
			else
				m->rep.free_blocks++;
		}
	}
}

/* ---- the mapping -------------------------------------------------------------- */

int rmap_ext2(struct fsview *fv, const struct rmap_opts *o)
{
	struct rmap m = { 0 };
	errcode_t err;
	int code;

	rmap_report_init(&m.rep, fv, o, meta_kinds, M_COUNT);
	m.fs = fv->fs;
	m.vs = &fv->vs;
	m.want_lost = m.rep.want_lost;
	snprintf(m.rep.fstype, sizeof(m.rep.fstype), "%s",
		 fv->probed == 1 ? fv->type : "ext2/3/4 (libblkid: none)");
	m.rep.block_size = m.fs->blocksize;
	m.rep.blocks = ext2fs_blocks_count(m.fs->super);
	m.rep.unowned_text = "in use per the block bitmap, but no owner found";
	err = ext2fs_read_bitmaps(m.fs);
	if (err)
		errx(EXIT_FAIL, "%s: cannot read the filesystem's bitmaps: %s", fv->store,
		     error_message(err));
	m.fs->default_bitmap_type = EXT2FS_BMAP64_RBTREE;
	build_changed(&m, o);
	classify_metadata(&m, count_changed, m.rep.meta);
	if (m.rep.untrusted)
		classify_metadata(&m, count_unchanged, m.rep.meta_untrusted);
	scan_inodes(&m);
	name_owners(&m);
	classify_rest(&m);
	code = rmap_report_finish(&m.rep, o);
	free(m.dirs);
	ext2fs_free_block_bitmap(m.changed);
	ext2fs_free_block_bitmap(m.claimed);
	ext2fs_close_free(&fv->fs);
	return ext2view_refused_writes() ? EXIT_FAIL : code;
}
