/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Nothing is ever written: the filesystem is open read-only through
 * ext2view's io_manager, which refuses (and counts) every write; a write
 * attempt is an error finding.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fsck.h"
#include "fsck_report.h"
#include "fsckrun.h"

#define MAX_LISTED 32 /* orphans / bad groups listed by number */

/* The ext2/3/4 figures, printed between the view and the findings. */
struct ext2_figures {
	char features[512];
	unsigned int block_size;
	uint64_t blocks, inodes;
	dgrp_t groups;
	int valid_fs, error_fs, needs_recovery;
	int csum;       /* metadata_csum or gdt_csum present */
	int sb_csum_ok; /* -1 not checked */
	dgrp_t gd_bad, gd_checked;
	dgrp_t bad_groups[MAX_LISTED];
	dgrp_t bb_bad, ib_bad, bm_checked;
	uint64_t sb_free_blocks, gd_free_blocks, sb_free_inodes, gd_free_inodes;
	uint64_t orphans;
	ext2_ino_t orphan_list[MAX_LISTED];
	char orphan_problem[128];
	int orphan_file;
};

static const struct {
	int kind; /* 0 compat, 1 incompat, 2 ro_compat */
	uint32_t mask;
	const char *name;
} feature_names[] = {
	{ 0, EXT2_FEATURE_COMPAT_DIR_PREALLOC, "dir_prealloc" },
	{ 0, EXT3_FEATURE_COMPAT_HAS_JOURNAL, "has_journal" },
	{ 0, EXT2_FEATURE_COMPAT_IMAGIC_INODES, "imagic_inodes" },
	{ 0, EXT2_FEATURE_COMPAT_EXT_ATTR, "ext_attr" },
	{ 0, EXT2_FEATURE_COMPAT_RESIZE_INODE, "resize_inode" },
	{ 0, EXT2_FEATURE_COMPAT_DIR_INDEX, "dir_index" },
	{ 0, EXT2_FEATURE_COMPAT_LAZY_BG, "lazy_bg" },
	{ 0, EXT4_FEATURE_COMPAT_SPARSE_SUPER2, "sparse_super2" },
	{ 0, EXT4_FEATURE_COMPAT_FAST_COMMIT, "fast_commit" },
	{ 0, EXT4_FEATURE_COMPAT_STABLE_INODES, "stable_inodes" },
	{ 0, EXT4_FEATURE_COMPAT_ORPHAN_FILE, "orphan_file" },
	{ 1, EXT2_FEATURE_INCOMPAT_COMPRESSION, "compression" },
	{ 1, EXT2_FEATURE_INCOMPAT_FILETYPE, "filetype" },
	{ 1, EXT3_FEATURE_INCOMPAT_RECOVER, "needs_recovery" },
	{ 1, EXT3_FEATURE_INCOMPAT_JOURNAL_DEV, "journal_dev" },
	{ 1, EXT2_FEATURE_INCOMPAT_META_BG, "meta_bg" },
	{ 1, EXT3_FEATURE_INCOMPAT_EXTENTS, "extent" },
	{ 1, EXT4_FEATURE_INCOMPAT_64BIT, "64bit" },
	{ 1, EXT4_FEATURE_INCOMPAT_MMP, "mmp" },
	{ 1, EXT4_FEATURE_INCOMPAT_FLEX_BG, "flex_bg" },
	{ 1, EXT4_FEATURE_INCOMPAT_EA_INODE, "ea_inode" },
	{ 1, EXT4_FEATURE_INCOMPAT_DIRDATA, "dirdata" },
	{ 1, EXT4_FEATURE_INCOMPAT_CSUM_SEED, "metadata_csum_seed" },
	{ 1, EXT4_FEATURE_INCOMPAT_LARGEDIR, "large_dir" },
	{ 1, EXT4_FEATURE_INCOMPAT_INLINE_DATA, "inline_data" },
	{ 1, EXT4_FEATURE_INCOMPAT_ENCRYPT, "encrypt" },
	{ 1, EXT4_FEATURE_INCOMPAT_CASEFOLD, "casefold" },
	{ 2, EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER, "sparse_super" },
	{ 2, EXT2_FEATURE_RO_COMPAT_LARGE_FILE, "large_file" },
	{ 2, EXT4_FEATURE_RO_COMPAT_HUGE_FILE, "huge_file" },
	{ 2, EXT4_FEATURE_RO_COMPAT_GDT_CSUM, "uninit_bg" },
	{ 2, EXT4_FEATURE_RO_COMPAT_DIR_NLINK, "dir_nlink" },
	{ 2, EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE, "extra_isize" },
	{ 2, EXT4_FEATURE_RO_COMPAT_QUOTA, "quota" },
	{ 2, EXT4_FEATURE_RO_COMPAT_BIGALLOC, "bigalloc" },
	{ 2, EXT4_FEATURE_RO_COMPAT_METADATA_CSUM, "metadata_csum" },
	{ 2, EXT4_FEATURE_RO_COMPAT_READONLY, "read-only" },
	{ 2, EXT4_FEATURE_RO_COMPAT_PROJECT, "project" },
	{ 2, EXT4_FEATURE_RO_COMPAT_SHARED_BLOCKS, "shared_blocks" },
	{ 2, EXT4_FEATURE_RO_COMPAT_VERITY, "verity" },
	{ 2, EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT, "orphan_present" },
};

static void describe_features(struct ext2_figures *x, const struct ext2_super_block *sb)
{
	const uint32_t words[3] = { sb->s_feature_compat, sb->s_feature_incompat,
				    sb->s_feature_ro_compat };
	uint32_t known[3] = { 0, 0, 0 };
	size_t i, len = 0;
	int k;

	x->features[0] = 0;
	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
		known[feature_names[i].kind] |= feature_names[i].mask;
		if (!(words[feature_names[i].kind] & feature_names[i].mask))
			continue;
		len += (size_t)snprintf(x->features + len, sizeof(x->features) - len, "%s%s",
					len ? " " : "", feature_names[i].name);
		if (len >= sizeof(x->features))
			return;
	}
	for (k = 0; k < 3; k++) {
		if (!(words[k] & ~known[k]))
			continue;
		len += (size_t)snprintf(x->features + len, sizeof(x->features) - len,
					"%sunknown_%s_0x%x", len ? " " : "",
					k == 0 ? "compat" : k == 1 ? "incompat" : "ro_compat",
					words[k] & ~known[k]);
		if (len >= sizeof(x->features))
			return;
	}
}

/* Type by feature, as libblkid names it, when libblkid did not name it. */
static const char *type_from_features(ext2_filsys fs)
{
	if (ext2fs_has_feature_journal_dev(fs->super))
		return "jbd";
	if (fs->super->s_feature_incompat & ~(EXT3_FEATURE_INCOMPAT_RECOVER |
					      EXT2_FEATURE_INCOMPAT_FILETYPE |
					      EXT2_FEATURE_INCOMPAT_META_BG) ||
	    fs->super->s_feature_ro_compat & ~(EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER |
					       EXT2_FEATURE_RO_COMPAT_LARGE_FILE))
		return "ext4";
	return ext2fs_has_feature_journal(fs->super) ? "ext3" : "ext2";
}

static const struct fsck_pending needs_recovery = {
	.verdict = "needs journal recovery: the journal must be replayed (mounting or "
		   "e2fsck does it) before the filesystem is consistent",
	.checker_clean = "; e2fsck -fn, which skips the replay, found nothing else",
	.checker_found = " (the journal was not replayed: it needs recovery)",
};

static const struct fsck_pending orphans_pending = {
	.verdict = "orphan inodes pending: released at the next mount or by e2fsck",
};

/* The superblock: type, features, figures, state. */
static void check_super(struct fsck_report *r, struct ext2_figures *x, const struct fsview *fv)
{
	ext2_filsys fs = fv->fs;

	snprintf(r->fstype, sizeof(r->fstype), "%s",
		 fv->probed == 1 ? fv->type : type_from_features(fs));
	if (fv->probed == 0)
		fsck_add_finding(r, FSCK_SEV_WARNING, "blkid", "libblkid does not recognise the "
				 "filesystem (a superblock checksum or field it checks is wrong)");
	describe_features(x, fs->super);
	x->block_size = fs->blocksize;
	x->blocks = ext2fs_blocks_count(fs->super);
	x->inodes = fs->super->s_inodes_count;
	x->groups = fs->group_desc_count;
	x->valid_fs = !!(fs->super->s_state & EXT2_VALID_FS);
	x->error_fs = !!(fs->super->s_state & EXT2_ERROR_FS);
	x->needs_recovery = ext2fs_has_feature_journal_needs_recovery(fs->super);
	r->marked_errors = x->error_fs;
	if (x->blocks * x->block_size > fv->vs.size)
		fsck_add_finding(r, FSCK_SEV_ERROR, "size", "the filesystem (%" PRIu64 " bytes) "
				 "is larger than the view (%" PRIu64 " bytes): wrong --size or "
				 "origin?", x->blocks * x->block_size, fv->vs.size);
	if (ext2fs_has_feature_metadata_csum(fs->super)) {
		x->sb_csum_ok = ext2fs_superblock_csum_verify(fs, fs->super);
		if (!x->sb_csum_ok)
			fsck_add_finding(r, FSCK_SEV_ERROR, "superblock-csum",
					 "the superblock checksum is wrong");
	}
	if (x->error_fs)
		fsck_add_finding(r, FSCK_SEV_ERROR, "error-state", "the filesystem is marked as "
				 "having errors (the kernel found a problem while it was mounted)");
	if (x->needs_recovery) {
		fsck_add_finding(r, FSCK_SEV_WARNING, "needs-recovery", "the journal holds "
				 "transactions not yet written to their place (needs_recovery): a "
				 "journal replay is needed");
		fsck_add_pending(r, &needs_recovery);
	}
}

/* Walk the orphan list (inodes chained through i_dtime). */
static void walk_orphans(struct ext2_figures *x, ext2_filsys fs)
{
	ext2_ino_t ino = fs->super->s_last_orphan;
	struct ext2_inode inode;
	uint64_t steps = 0;
	errcode_t err;

	while (ino) {
		if (ino > fs->super->s_inodes_count || ino < EXT2_FIRST_INODE(fs->super)) {
			snprintf(x->orphan_problem, sizeof(x->orphan_problem),
				 "orphan list points at invalid inode %u", ino);
			break;
		}
		if (++steps > fs->super->s_inodes_count) {
			snprintf(x->orphan_problem, sizeof(x->orphan_problem),
				 "orphan list loops");
			break;
		}
		if (x->orphans < MAX_LISTED)
			x->orphan_list[x->orphans] = ino;
		x->orphans++;
		err = ext2fs_read_inode(fs, ino, &inode);
		if (err) {
			snprintf(x->orphan_problem, sizeof(x->orphan_problem),
				 "cannot read orphan inode %u: %s", ino, error_message(err));
			break;
		}
		ino = inode.i_dtime; /* the next orphan */
	}
}

static void check_orphans(struct fsck_report *r, struct ext2_figures *x, ext2_filsys fs)
{
	x->orphan_file = ext2fs_has_feature_orphan_file(fs->super);
	walk_orphans(x, fs);
	if (x->orphan_problem[0])
		fsck_add_finding(r, FSCK_SEV_ERROR, "orphan-list", "%s", x->orphan_problem);
	else if (x->orphans)
		fsck_add_finding(r, FSCK_SEV_WARNING, "orphans",
				 "%" PRIu64 " orphan inode%s (deleted while open, or truncation "
				 "in progress): released at the next mount or by e2fsck",
				 x->orphans, x->orphans == 1 ? "" : "s");
	if (x->orphan_file && ext2fs_has_feature_orphan_present(fs->super))
		fsck_add_finding(r, FSCK_SEV_WARNING, "orphan-file",
				 "the orphan file holds entries (not listed here): released at "
				 "the next mount or by e2fsck");
	if (x->orphans)
		fsck_add_pending(r, &orphans_pending);
}

/* Read group @g's block (or, @inode_map, inode) bitmap as the kernel wrote
 * it into @buf.  Returns: 1 if its checksum is wrong; 0 if right, or not
 * read (a finding then). */
static int bitmap_csum_bad(struct fsck_report *r, ext2_filsys fs, dgrp_t g, int inode_map,
			   unsigned char *buf)
{
	const size_t bb_bytes = EXT2_CLUSTERS_PER_GROUP(fs->super) / 8;
	const size_t ib_bytes = EXT2_INODES_PER_GROUP(fs->super) / 8;
	const blk64_t loc = inode_map ? ext2fs_inode_bitmap_loc(fs, g) :
					ext2fs_block_bitmap_loc(fs, g);
	errcode_t err = io_channel_read_blk64(fs->io, loc, 1, buf);

	if (err) {
		fsck_add_finding(r, FSCK_SEV_ERROR, "read", "group %u: cannot read the %s "
				 "bitmap at block %llu: %s", g, inode_map ? "inode" : "block",
				 (unsigned long long)loc, error_message(err));
		return 0;
	}
	if (inode_map)
		return !ext2fs_inode_bitmap_csum_verify(fs, g, (char *)buf, (int)ib_bytes);
	return !ext2fs_block_bitmap_csum_verify(fs, g, (char *)buf, (int)bb_bytes);
}

/* Every group: its descriptor's checksum and free counts, and with
 * metadata_csum its bitmaps' checksums. */
static void check_group_csums(struct fsck_report *r, struct ext2_figures *x, ext2_filsys fs)
{
	int meta_csum = ext2fs_has_feature_metadata_csum(fs->super);
	unsigned char *buf;
	dgrp_t g;

	x->csum = ext2fs_has_group_desc_csum(fs);
	buf = malloc(fs->blocksize);
	if (!buf)
		errx(FSCK_EXIT_OPERROR, "out of memory");
	for (g = 0; g < fs->group_desc_count; g++) {
		x->gd_free_blocks += ext2fs_bg_free_blocks_count(fs, g);
		x->gd_free_inodes += ext2fs_bg_free_inodes_count(fs, g);
		if (x->csum) {
			x->gd_checked++;
			if (!ext2fs_group_desc_csum_verify(fs, g)) {
				if (x->gd_bad < MAX_LISTED)
					x->bad_groups[x->gd_bad] = g;
				x->gd_bad++;
			}
		}
		if (!meta_csum)
			continue;
		/* Bitmap checksums: of the raw blocks, as the kernel wrote them.
		 * Uninitialised bitmaps were never written: nothing to check. */
		x->bm_checked++;
		if (!ext2fs_bg_flags_test(fs, g, EXT2_BG_BLOCK_UNINIT))
			x->bb_bad += bitmap_csum_bad(r, fs, g, 0, buf);
		if (!ext2fs_bg_flags_test(fs, g, EXT2_BG_INODE_UNINIT))
			x->ib_bad += bitmap_csum_bad(r, fs, g, 1, buf);
	}
	free(buf);
	if (x->gd_bad)
		fsck_add_finding(r, FSCK_SEV_ERROR, "group-desc-csum",
				 "%u of %u group descriptor checksums are wrong (first: group %u)",
				 x->gd_bad, x->gd_checked, x->bad_groups[0]);
	if (x->bb_bad)
		fsck_add_finding(r, FSCK_SEV_ERROR, "block-bitmap-csum",
				 "%u block bitmap checksum%s wrong", x->bb_bad,
				 x->bb_bad == 1 ? " is" : "s are");
	if (x->ib_bad)
		fsck_add_finding(r, FSCK_SEV_ERROR, "inode-bitmap-csum",
				 "%u inode bitmap checksum%s wrong", x->ib_bad,
				 x->ib_bad == 1 ? " is" : "s are");
}

/* The superblock's free counts against the group descriptors' sums. */
static void check_free_counts(struct fsck_report *r, struct ext2_figures *x, ext2_filsys fs)
{
	/* A mounted ext4 updates the superblock's counts lazily: stale counts
	 * are expected when the snapshot was taken while mounted. */
	int mounted = x->needs_recovery || !x->valid_fs;

	x->sb_free_blocks = ext2fs_free_blocks_count(fs->super);
	x->sb_free_inodes = fs->super->s_free_inodes_count;
	/* Group descriptors count clusters. */
	x->gd_free_blocks = EXT2FS_C2B(fs, x->gd_free_blocks);
	if (x->gd_free_blocks > x->blocks || x->gd_free_inodes > x->inodes)
		fsck_add_finding(r, FSCK_SEV_ERROR, "free-counts",
				 "the group descriptors count more free blocks or inodes than "
				 "the filesystem has");
	if (x->gd_free_blocks == x->sb_free_blocks && x->gd_free_inodes == x->sb_free_inodes)
		return;
	fsck_add_finding(r, mounted ? FSCK_SEV_WARNING : FSCK_SEV_ERROR, "free-counts",
			 "superblock free counts (%" PRIu64 " blocks, %" PRIu64 " inodes) differ "
			 "from the group descriptors' (%" PRIu64 ", %" PRIu64 ")%s",
			 x->sb_free_blocks, x->sb_free_inodes, x->gd_free_blocks,
			 x->gd_free_inodes,
			 mounted ? ": normal for a filesystem that was mounted" : "");
}

/* ---- e2fsck -fn (--full) --------------------------------------------------- */

/* e2fsck's status 4 (errors left) and 8 (operational error) are problems
 * it found; 128 (shared library error) counts as errors too. */
static int e2fsck_judge(int status, int *found)
{
	*found = !!(status & (FSCK_EXIT_ERRORS | FSCK_EXIT_OPERROR));
	if (status & FSCK_EXIT_OPERROR)
		return FSCK_EXIT_OPERROR;
	return status & (FSCK_EXIT_ERRORS | 128) ? FSCK_EXIT_ERRORS : FSCK_EXIT_OK;
}

static const char *const e2fsck_args[] = { "-fn", NULL };

static const struct fsck_checker e2fsck = {
	.name = "e2fsck",
	.args = e2fsck_args,
	.label = "e2fsck -fn",
	.run_flags = CHECKER_NO_E2FSCK_CONFIG,
	.meaning = e2fsck_status_meaning,
	.judge = e2fsck_judge,
};

/* ---- output ---------------------------------------------------------------- */

static const char *state_text(const struct ext2_figures *x, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", x->error_fs ? "has errors" :
		 x->valid_fs ? "clean" : "not clean (was mounted or not unmounted cleanly)",
		 x->needs_recovery ? ", needs journal recovery" : "",
		 x->orphans ? ", orphans pending" : "");
	return buf;
}

static void print_orphans(const struct ext2_figures *x)
{
	printf("orphans:        ");
	if (!x->orphans) {
		printf("none");
	} else {
		printf("%" PRIu64 ":", x->orphans);
		for (size_t i = 0; i < x->orphans && i < MAX_LISTED; i++)
			printf(" %u", x->orphan_list[i]);
		if (x->orphans > MAX_LISTED)
			printf(" ...");
	}
	printf("%s\n", x->orphan_file ? " (orphan_file not walked)" : "");
}

static void print_human(const struct fsck_report *r)
{
	const struct ext2_figures *x = r->fs;
	char state[160];

	printf("filesystem:     %s, %u-byte blocks, %" PRIu64 " blocks, %" PRIu64 " inodes, "
	       "%u group%s\n", r->fstype, x->block_size, x->blocks, x->inodes, x->groups,
	       x->groups == 1 ? "" : "s");
	printf("features:       %s\n", x->features[0] ? x->features : "(none)");
	printf("state:          %s\n", state_text(x, state, sizeof(state)));
	printf("superblock:     %s\n", x->sb_csum_ok < 0 ? "no checksum" :
	       x->sb_csum_ok ? "checksum ok" : "checksum WRONG");
	if (x->csum)
		printf("group descs:    %u checked, %u bad checksum%s\n", x->gd_checked, x->gd_bad,
		       x->gd_bad == 1 ? "" : "s");
	else
		printf("group descs:    no checksums\n");
	if (x->bm_checked)
		printf("bitmaps:        %u groups checked, %u bad block bitmap, %u bad inode "
		       "bitmap checksums\n", x->bm_checked, x->bb_bad, x->ib_bad);
	else
		printf("bitmaps:        no checksums\n");
	printf("free blocks:    %" PRIu64 " (superblock), %" PRIu64 " (group descriptors)\n",
	       x->sb_free_blocks, x->gd_free_blocks);
	printf("free inodes:    %" PRIu64 " (superblock), %" PRIu64 " (group descriptors)\n",
	       x->sb_free_inodes, x->gd_free_inodes);
	print_orphans(x);
}

static void add_json(const struct fsck_report *r, json_object *o)
{
	const struct ext2_figures *x = r->fs;
	char state[160];
	json_object *a;

	fsview_json_add_words(o, "features", x->features, " ");
	fsview_json_add_u64(o, "block_size", x->block_size);
	fsview_json_add_u64(o, "blocks", x->blocks);
	fsview_json_add_u64(o, "inodes", x->inodes);
	fsview_json_add_u64(o, "groups", x->groups);
	json_object_object_add(o, "state", json_object_new_string(state_text(x, state,
									     sizeof(state))));
	json_object_object_add(o, "clean", json_object_new_boolean(x->valid_fs));
	json_object_object_add(o, "has_errors", json_object_new_boolean(x->error_fs));
	json_object_object_add(o, "needs_recovery", json_object_new_boolean(x->needs_recovery));
	json_object_object_add(o, "superblock_csum", x->sb_csum_ok < 0 ? NULL :
			       json_object_new_boolean(x->sb_csum_ok));
	fsview_json_add_u64(o, "group_desc_checked", x->gd_checked);
	fsview_json_add_u64(o, "group_desc_bad_csum", x->gd_bad);
	fsview_json_add_u64(o, "bitmap_groups_checked", x->bm_checked);
	fsview_json_add_u64(o, "block_bitmap_bad_csum", x->bb_bad);
	fsview_json_add_u64(o, "inode_bitmap_bad_csum", x->ib_bad);
	fsview_json_add_u64(o, "free_blocks_superblock", x->sb_free_blocks);
	fsview_json_add_u64(o, "free_blocks_groups", x->gd_free_blocks);
	fsview_json_add_u64(o, "free_inodes_superblock", x->sb_free_inodes);
	fsview_json_add_u64(o, "free_inodes_groups", x->gd_free_inodes);
	fsview_json_add_u64(o, "orphans", x->orphans);
	a = json_object_new_array();
	for (size_t i = 0; i < x->orphans && i < MAX_LISTED; i++)
		json_object_array_add(a, json_object_new_int64(x->orphan_list[i]));
	json_object_object_add(o, "orphan_inodes", a);
}

static const struct fsck_fs_ops ext2_ops = {
	.print_human = print_human,
	.add_json = add_json,
};

/* ---- the check --------------------------------------------------------------- */

int fsck_ext2(struct fsview *fv, const struct fsck_opts *o)
{
	struct ext2_figures x = { .sb_csum_ok = -1 };
	unsigned long writes;
	struct fsck_report r;
	int code;

	fsck_report_init(&r, fv, &e2fsck, &ext2_ops, &x);
	check_super(&r, &x, fv);
	check_orphans(&r, &x, fv->fs);
	check_group_csums(&r, &x, fv->fs);
	check_free_counts(&r, &x, fv->fs);
	if (fv->vs.thin && fv->vs.thin->nlost)
		fsck_add_finding(&r, FSCK_SEV_ERROR, "thin-lost", "%zu range%s of the thin volume "
				 "(%llu blocks of %u bytes) could not be mapped and read as zeros: "
				 "the pool's metadata that mapped them is damaged",
				 fv->vs.thin->nlost, fv->vs.thin->nlost == 1 ? "" : "s",
				 (unsigned long long)fv->vs.thin->lost_blocks, fv->vs.thin->block_bytes);
	ext2fs_close_free(&fv->fs);
	if (o->full)
		fsck_run_checker(&r);
	writes = ext2view_refused_writes();
	if (writes)
		fsck_add_finding(&r, FSCK_SEV_ERROR, "write", "libext2fs tried to write %lu "
				 "time%s; every write was refused", writes, writes == 1 ? "" : "s");
	fsck_report_decide(&r);
	fsck_report_print(&r, o->quiet);
	code = r.verdict_code;
	fsck_report_free(&r);
	return code;
}
