/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_fsck: check the ext2/3/4 filesystem inside a dm-snapshot view (the
 * store plus its origin, or a zero origin) without the kernel: libext2fs
 * reads the view through libsnapcow.  Nothing is ever written to the store
 * or the origin (both are opened read-only).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ext2view.h"
#include "tool.h"
#include "viewopt.h"

#define MAX_LISTED 32 /* orphans / bad groups listed by number */

enum severity { SEV_INFO, SEV_WARNING, SEV_ERROR };

struct finding {
	enum severity sev;
	char code[32];
	char msg[256];
};

struct report {
	const char *store;
	const struct viewopt *vo;
	struct viewset *vs;
	char fstype[64];
	char features[512];
	unsigned int block_size;
	uint64_t blocks, inodes;
	dgrp_t groups;
	int valid_fs, error_fs, needs_recovery, has_journal;
	int csum;          /* metadata_csum or gdt_csum present */
	int sb_csum_ok;    /* -1 not checked */
	dgrp_t gd_bad, gd_checked;
	dgrp_t bad_groups[MAX_LISTED];
	dgrp_t bb_bad, ib_bad, bm_checked;
	uint64_t sb_free_blocks, gd_free_blocks, sb_free_inodes, gd_free_inodes;
	uint64_t orphans;
	ext2_ino_t orphan_list[MAX_LISTED];
	char orphan_problem[128];
	int orphan_file;
	struct finding *findings;
	size_t nfindings;
	/* --full */
	int full_ran;
	int full_status;  /* e2fsck exit status, -1 if it did not run */
	char *full_output;
	int verdict_code;
	char verdict[256];
};

static void add_finding(struct report *r, enum severity sev, const char *code,
			const char *fmt, ...) PRINTF_LIKE(4, 5);

static void add_finding(struct report *r, enum severity sev, const char *code,
			const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	f = realloc(r->findings, (r->nfindings + 1) * sizeof(*f));
	if (!f)
		errx(FSCK_EXIT_OPERROR, "out of memory");
	r->findings = f;
	f += r->nfindings++;
	f->sev = sev;
	snprintf(f->code, sizeof(f->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

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

static void describe_features(struct report *r, const struct ext2_super_block *sb)
{
	const uint32_t words[3] = { sb->s_feature_compat, sb->s_feature_incompat,
				    sb->s_feature_ro_compat };
	uint32_t known[3] = { 0, 0, 0 };
	size_t i, len = 0;
	int k;

	r->features[0] = 0;
	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
		known[feature_names[i].kind] |= feature_names[i].mask;
		if (!(words[feature_names[i].kind] & feature_names[i].mask))
			continue;
		len += (size_t)snprintf(r->features + len, sizeof(r->features) - len, "%s%s",
					len ? " " : "", feature_names[i].name);
		if (len >= sizeof(r->features))
			return;
	}
	for (k = 0; k < 3; k++) {
		if (!(words[k] & ~known[k]))
			continue;
		len += (size_t)snprintf(r->features + len, sizeof(r->features) - len,
					"%sunknown_%s_0x%x", len ? " " : "",
					k == 0 ? "compat" : k == 1 ? "incompat" : "ro_compat",
					words[k] & ~known[k]);
		if (len >= sizeof(r->features))
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

static void check_orphans(struct report *r, ext2_filsys fs)
{
	ext2_ino_t ino = fs->super->s_last_orphan;
	struct ext2_inode inode;
	uint64_t steps = 0;
	errcode_t err;

	r->orphan_file = ext2fs_has_feature_orphan_file(fs->super);
	while (ino) {
		if (ino > fs->super->s_inodes_count || ino < EXT2_FIRST_INODE(fs->super)) {
			snprintf(r->orphan_problem, sizeof(r->orphan_problem),
				 "orphan list points at invalid inode %u", ino);
			break;
		}
		if (++steps > fs->super->s_inodes_count) {
			snprintf(r->orphan_problem, sizeof(r->orphan_problem),
				 "orphan list loops");
			break;
		}
		if (r->orphans < MAX_LISTED)
			r->orphan_list[r->orphans] = ino;
		r->orphans++;
		err = ext2fs_read_inode(fs, ino, &inode);
		if (err) {
			snprintf(r->orphan_problem, sizeof(r->orphan_problem),
				 "cannot read orphan inode %u: %s", ino, error_message(err));
			break;
		}
		ino = inode.i_dtime; /* the next orphan */
	}
	if (r->orphan_problem[0])
		add_finding(r, SEV_ERROR, "orphan-list", "%s", r->orphan_problem);
	else if (r->orphans)
		add_finding(r, SEV_WARNING, "orphans",
			    "%" PRIu64 " orphan inode%s (deleted while open, or truncation in "
			    "progress): released at the next mount or by e2fsck",
			    r->orphans, r->orphans == 1 ? "" : "s");
	if (r->orphan_file && ext2fs_has_feature_orphan_present(fs->super))
		add_finding(r, SEV_WARNING, "orphan-file",
			    "the orphan file holds entries (not listed here): released at "
			    "the next mount or by e2fsck");
}

static void check_groups(struct report *r, ext2_filsys fs)
{
	const size_t bb_bytes = EXT2_CLUSTERS_PER_GROUP(fs->super) / 8;
	const size_t ib_bytes = EXT2_INODES_PER_GROUP(fs->super) / 8;
	int meta_csum = ext2fs_has_feature_metadata_csum(fs->super);
	unsigned char *buf;
	dgrp_t g;
	errcode_t err;

	r->csum = ext2fs_has_group_desc_csum(fs);
	buf = malloc(fs->blocksize);
	if (!buf)
		errx(FSCK_EXIT_OPERROR, "out of memory");
	for (g = 0; g < fs->group_desc_count; g++) {
		r->gd_free_blocks += ext2fs_bg_free_blocks_count(fs, g);
		r->gd_free_inodes += ext2fs_bg_free_inodes_count(fs, g);
		if (r->csum) {
			r->gd_checked++;
			if (!ext2fs_group_desc_csum_verify(fs, g)) {
				if (r->gd_bad < MAX_LISTED)
					r->bad_groups[r->gd_bad] = g;
				r->gd_bad++;
			}
		}
		if (!meta_csum)
			continue;
		/* Bitmap checksums: of the raw blocks, as the kernel wrote them.
		 * Uninitialised bitmaps were never written: nothing to check. */
		r->bm_checked++;
		if (!ext2fs_bg_flags_test(fs, g, EXT2_BG_BLOCK_UNINIT)) {
			err = io_channel_read_blk64(fs->io, ext2fs_block_bitmap_loc(fs, g), 1, buf);
			if (err)
				add_finding(r, SEV_ERROR, "read", "group %u: cannot read the block "
					    "bitmap at block %llu: %s", g,
					    (unsigned long long)ext2fs_block_bitmap_loc(fs, g),
					    error_message(err));
			else if (!ext2fs_block_bitmap_csum_verify(fs, g, (char *)buf, (int)bb_bytes))
				r->bb_bad++;
		}
		if (!ext2fs_bg_flags_test(fs, g, EXT2_BG_INODE_UNINIT)) {
			err = io_channel_read_blk64(fs->io, ext2fs_inode_bitmap_loc(fs, g), 1, buf);
			if (err)
				add_finding(r, SEV_ERROR, "read", "group %u: cannot read the inode "
					    "bitmap at block %llu: %s", g,
					    (unsigned long long)ext2fs_inode_bitmap_loc(fs, g),
					    error_message(err));
			else if (!ext2fs_inode_bitmap_csum_verify(fs, g, (char *)buf, (int)ib_bytes))
				r->ib_bad++;
		}
	}
	free(buf);
	if (r->gd_bad)
		add_finding(r, SEV_ERROR, "group-desc-csum",
			    "%u of %u group descriptor checksums are wrong (first: group %u)",
			    r->gd_bad, r->gd_checked, r->bad_groups[0]);
	if (r->bb_bad)
		add_finding(r, SEV_ERROR, "block-bitmap-csum",
			    "%u block bitmap checksum%s wrong", r->bb_bad,
			    r->bb_bad == 1 ? " is" : "s are");
	if (r->ib_bad)
		add_finding(r, SEV_ERROR, "inode-bitmap-csum",
			    "%u inode bitmap checksum%s wrong", r->ib_bad,
			    r->ib_bad == 1 ? " is" : "s are");

	r->sb_free_blocks = ext2fs_free_blocks_count(fs->super);
	r->sb_free_inodes = fs->super->s_free_inodes_count;
	/* Group descriptors count clusters. */
	r->gd_free_blocks = EXT2FS_C2B(fs, r->gd_free_blocks);
	if (r->gd_free_blocks > r->blocks || r->gd_free_inodes > r->inodes)
		add_finding(r, SEV_ERROR, "free-counts",
			    "the group descriptors count more free blocks or inodes than the "
			    "filesystem has");
	if (r->gd_free_blocks != r->sb_free_blocks || r->gd_free_inodes != r->sb_free_inodes) {
		/* A mounted ext4 updates the superblock's counts lazily: stale
		 * counts are expected when the snapshot was taken while mounted. */
		int mounted = r->needs_recovery || !r->valid_fs;

		add_finding(r, mounted ? SEV_WARNING : SEV_ERROR, "free-counts",
			    "superblock free counts (%" PRIu64 " blocks, %" PRIu64 " inodes) differ "
			    "from the group descriptors' (%" PRIu64 ", %" PRIu64 ")%s",
			    r->sb_free_blocks, r->sb_free_inodes, r->gd_free_blocks,
			    r->gd_free_inodes,
			    mounted ? ": normal for a filesystem that was mounted" : "");
	}
}

/* ---- --full: e2fsck -fn on a sparse extracted image --------------------- */

static char tmp_dir[4096], tmp_image[4200];

static void remove_tmp(void)
{
	if (tmp_image[0])
		unlink(tmp_image);
	if (tmp_dir[0])
		rmdir(tmp_dir);
	tmp_image[0] = tmp_dir[0] = 0;
}

static void on_signal(int sig)
{
	remove_tmp();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Write the view to @path: only the ranges that come from the store or the
 * origin, all-zero blocks left as holes. */
static int extract_sparse(struct snapcow_view *v, const char *path, uint64_t *copied)
{
	uint64_t size = snapcow_view_size(v);
	int fd, r = 0;

	*copied = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		r = -errno;
	if (!r)
		r = ext2view_copy_sparse(v, fd, 0, size, copied);
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

/* e2fsck names the temporary image: say "<view>" instead (in place: the
 * replacement is shorter). */
static void hide_tmp_path(char *out)
{
	const size_t tl = strlen(tmp_image);
	char *p;

	while (out && tl && (p = strstr(out, tmp_image))) {
		memcpy(p, "<view>", 6);
		memmove(p + 6, p + tl, strlen(p + tl) + 1);
	}
}

static const char *find_e2fsck(void)
{
	static const char *const dirs[] = { "/sbin/e2fsck", "/usr/sbin/e2fsck",
					    "/usr/local/sbin/e2fsck", NULL };
	const char *env = getenv("SNAP_FSCK_E2FSCK");
	int i;

	if (env && *env)
		return env;
	for (i = 0; dirs[i]; i++)
		if (access(dirs[i], X_OK) == 0)
			return dirs[i];
	return "e2fsck"; /* execvp searches PATH */
}

static void run_full(struct report *r)
{
	const char *tmp = getenv("TMPDIR");
	const char *e2fsck = find_e2fsck();
	size_t len = 0, cap = 0;
	uint64_t copied;
	int pipefd[2], status, err;
	char chunk[4096];
	pid_t pid;
	ssize_t n;

	r->full_status = -1;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/snap_fsck.XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
	if (!mkdtemp(tmp_dir)) {
		err = errno;
		tmp_dir[0] = 0;
		add_finding(r, SEV_ERROR, "full", "--full: cannot create a temporary directory "
			    "in %s: %s", tmp && *tmp ? tmp : "/var/tmp", strerror(err));
		return;
	}
	atexit(remove_tmp);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(tmp_image, sizeof(tmp_image), "%s/view.img", tmp_dir);
	err = extract_sparse(r->vs->view, tmp_image, &copied);
	if (err < 0) {
		add_finding(r, SEV_ERROR, "full", "--full: cannot write the view to %s: %s",
			    tmp_image, strerror(-err));
		remove_tmp();
		return;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		errx(FSCK_EXIT_OPERROR, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		errx(FSCK_EXIT_OPERROR, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		setenv("E2FSCK_CONFIG", "/dev/null", 1);
		execlp(e2fsck, e2fsck, "-fn", tmp_image, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", e2fsck, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0) {
		if (len + (size_t)n + 1 > cap) {
			cap = (len + (size_t)n + 1) * 2;
			r->full_output = realloc(r->full_output, cap);
			if (!r->full_output)
				errx(FSCK_EXIT_OPERROR, "out of memory");
		}
		memcpy(r->full_output + len, chunk, (size_t)n);
		len += (size_t)n;
		r->full_output[len] = 0;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	hide_tmp_path(r->full_output);
	remove_tmp();
	if (!r->full_output)
		r->full_output = strdup("");
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
		add_finding(r, SEV_ERROR, "full", "--full: %s did not run", e2fsck);
		return;
	}
	r->full_ran = 1;
	r->full_status = WEXITSTATUS(status);
}

static void describe_e2fsck_status(int st, char *buf, size_t len)
{
	static const struct {
		int bit;
		const char *what;
	} bits[] = {
		{ 1, "errors corrected" },       { 2, "reboot needed" },
		{ 4, "errors left uncorrected" }, { 8, "operational error" },
		{ 16, "usage error" },           { 32, "cancelled" },
		{ 128, "shared library error" },
	};
	size_t i, n = 0;

	if (st == 0) {
		snprintf(buf, len, "no errors");
		return;
	}
	buf[0] = 0;
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (st & bits[i].bit)
			n += (size_t)snprintf(buf + n, len > n ? len - n : 0, "%s%s",
					      n ? ", " : "", bits[i].what);
}

/* ---- verdict and output ---------------------------------------------------- */

static void decide(struct report *r)
{
	size_t i, errors = 0;

	for (i = 0; i < r->nfindings; i++)
		if (r->findings[i].sev == SEV_ERROR)
			errors++;
	r->verdict_code = FSCK_EXIT_OK;
	if (r->full_ran && (r->full_status & (4 | 8 | 128))) {
		r->verdict_code |= r->full_status & 8 ? FSCK_EXIT_OPERROR : FSCK_EXIT_ERRORS;
	}
	if (errors || r->error_fs || r->needs_recovery || r->orphans || r->orphan_problem[0])
		r->verdict_code |= FSCK_EXIT_ERRORS;
	if (r->full_ran && (r->full_status & (4 | 8))) {
		snprintf(r->verdict, sizeof(r->verdict),
			 "errors: e2fsck -fn found problems it did not fix%s",
			 r->needs_recovery ? " (the journal was not replayed: it needs recovery)" : "");
	} else if (errors || r->error_fs) {
		snprintf(r->verdict, sizeof(r->verdict),
			 "errors: %zu problem%s found%s; run e2fsck on an extracted copy", errors,
			 errors == 1 ? "" : "s",
			 r->error_fs ? " and the filesystem is marked as having errors" : "");
	} else if (r->needs_recovery) {
		snprintf(r->verdict, sizeof(r->verdict),
			 "needs journal recovery: the journal must be replayed (mounting or "
			 "e2fsck does it) before the filesystem is consistent%s",
			 r->full_ran ? "; e2fsck -fn, which skips the replay, found nothing else" : "");
	} else if (r->orphans) {
		snprintf(r->verdict, sizeof(r->verdict),
			 "orphan inodes pending: released at the next mount or by e2fsck");
	} else {
		snprintf(r->verdict, sizeof(r->verdict), "clean%s",
			 r->full_ran ? " (e2fsck -fn agrees)" : "");
	}
}

static const char *sev_name(enum severity s)
{
	return s == SEV_ERROR ? "error" : s == SEV_WARNING ? "warning" : "info";
}

static const char *state_text(const struct report *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", r->error_fs ? "has errors" :
		 r->valid_fs ? "clean" : "not clean (was mounted or not unmounted cleanly)",
		 r->needs_recovery ? ", needs journal recovery" : "",
		 r->orphans ? ", orphans pending" : "");
	return buf;
}

static void print_human(const struct report *r)
{
	char sz[32], state[160], st[160];
	size_t i;

	printf("store:          %s, %" PRIu64 " exceptions, %u-byte chunks%s\n", r->store,
	       snapcow_map_count(snapcow_view_map(r->vs->view)), r->vs->chunk_bytes,
	       r->vs->invalid ? ", marked invalid" : "");
	printf("view:           %s, %s\n", format_size(r->vs->size, sz, sizeof(sz)),
	       r->vo->zero_origin ? "zero origin" : r->vo->origin);
	printf("filesystem:     %s, %u-byte blocks, %" PRIu64 " blocks, %" PRIu64 " inodes, "
	       "%u group%s\n", r->fstype, r->block_size, r->blocks, r->inodes, r->groups,
	       r->groups == 1 ? "" : "s");
	printf("features:       %s\n", r->features[0] ? r->features : "(none)");
	printf("state:          %s\n", state_text(r, state, sizeof(state)));
	printf("superblock:     %s\n", r->sb_csum_ok < 0 ? "no checksum" :
	       r->sb_csum_ok ? "checksum ok" : "checksum WRONG");
	if (r->csum)
		printf("group descs:    %u checked, %u bad checksum%s\n", r->gd_checked, r->gd_bad,
		       r->gd_bad == 1 ? "" : "s");
	else
		printf("group descs:    no checksums\n");
	if (r->bm_checked)
		printf("bitmaps:        %u groups checked, %u bad block bitmap, %u bad inode "
		       "bitmap checksums\n", r->bm_checked, r->bb_bad, r->ib_bad);
	else
		printf("bitmaps:        no checksums\n");
	printf("free blocks:    %" PRIu64 " (superblock), %" PRIu64 " (group descriptors)\n",
	       r->sb_free_blocks, r->gd_free_blocks);
	printf("free inodes:    %" PRIu64 " (superblock), %" PRIu64 " (group descriptors)\n",
	       r->sb_free_inodes, r->gd_free_inodes);
	printf("orphans:        ");
	if (!r->orphans) {
		printf("none");
	} else {
		printf("%" PRIu64 ":", r->orphans);
		for (i = 0; i < r->orphans && i < MAX_LISTED; i++)
			printf(" %u", r->orphan_list[i]);
		if (r->orphans > MAX_LISTED)
			printf(" ...");
	}
	printf("%s\n", r->orphan_file ? " (orphan_file not walked)" : "");
	if (r->full_ran) {
		const char *p = r->full_output, *nl;

		describe_e2fsck_status(r->full_status, st, sizeof(st));
		printf("e2fsck -fn:     exit %d (%s)\n", r->full_status, st);
		while (p && *p) {
			nl = strchr(p, '\n');
			printf("  | %.*s\n", (int)(nl ? nl - p : (ptrdiff_t)strlen(p)), p);
			p = nl ? nl + 1 : NULL;
		}
	}
	for (i = 0; i < r->nfindings; i++)
		printf("%s: %s\n", sev_name(r->findings[i].sev), r->findings[i].msg);
	printf("verdict:        %s (exit %d)\n", r->verdict, r->verdict_code);
}

static void print_json(const struct report *r)
{
	json_object *o = json_object_new_object(), *a, *f;
	char state[160], st[160];
	size_t i;

	json_object_object_add(o, "store", json_object_new_string(r->store));
	json_object_object_add(o, "exceptions",
			       json_object_new_int64((int64_t)snapcow_map_count(
				       snapcow_view_map(r->vs->view))));
	json_object_object_add(o, "chunk_bytes", json_object_new_int64(r->vs->chunk_bytes));
	json_object_object_add(o, "store_invalid", json_object_new_boolean(r->vs->invalid));
	json_object_object_add(o, "view_bytes", json_object_new_int64((int64_t)r->vs->size));
	json_object_object_add(o, "origin", r->vo->zero_origin ? json_object_new_string("zero") :
			       json_object_new_string(r->vo->origin));
	json_object_object_add(o, "type", json_object_new_string(r->fstype));
	a = json_object_new_array();
	{
		char copy[sizeof(r->features)], *save = NULL, *tok;

		memcpy(copy, r->features, sizeof(copy));
		for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			json_object_array_add(a, json_object_new_string(tok));
	}
	json_object_object_add(o, "features", a);
	json_object_object_add(o, "block_size", json_object_new_int64(r->block_size));
	json_object_object_add(o, "blocks", json_object_new_int64((int64_t)r->blocks));
	json_object_object_add(o, "inodes", json_object_new_int64((int64_t)r->inodes));
	json_object_object_add(o, "groups", json_object_new_int64(r->groups));
	json_object_object_add(o, "state", json_object_new_string(state_text(r, state, sizeof(state))));
	json_object_object_add(o, "clean", json_object_new_boolean(r->valid_fs));
	json_object_object_add(o, "has_errors", json_object_new_boolean(r->error_fs));
	json_object_object_add(o, "needs_recovery", json_object_new_boolean(r->needs_recovery));
	json_object_object_add(o, "superblock_csum", r->sb_csum_ok < 0 ? NULL :
			       json_object_new_boolean(r->sb_csum_ok));
	json_object_object_add(o, "group_desc_checked", json_object_new_int64(r->gd_checked));
	json_object_object_add(o, "group_desc_bad_csum", json_object_new_int64(r->gd_bad));
	json_object_object_add(o, "bitmap_groups_checked", json_object_new_int64(r->bm_checked));
	json_object_object_add(o, "block_bitmap_bad_csum", json_object_new_int64(r->bb_bad));
	json_object_object_add(o, "inode_bitmap_bad_csum", json_object_new_int64(r->ib_bad));
	json_object_object_add(o, "free_blocks_superblock", json_object_new_int64((int64_t)r->sb_free_blocks));
	json_object_object_add(o, "free_blocks_groups", json_object_new_int64((int64_t)r->gd_free_blocks));
	json_object_object_add(o, "free_inodes_superblock", json_object_new_int64((int64_t)r->sb_free_inodes));
	json_object_object_add(o, "free_inodes_groups", json_object_new_int64((int64_t)r->gd_free_inodes));
	json_object_object_add(o, "orphans", json_object_new_int64((int64_t)r->orphans));
	a = json_object_new_array();
	for (i = 0; i < r->orphans && i < MAX_LISTED; i++)
		json_object_array_add(a, json_object_new_int64(r->orphan_list[i]));
	json_object_object_add(o, "orphan_inodes", a);
	a = json_object_new_array();
	for (i = 0; i < r->nfindings; i++) {
		f = json_object_new_object();
		json_object_object_add(f, "severity", json_object_new_string(sev_name(r->findings[i].sev)));
		json_object_object_add(f, "code", json_object_new_string(r->findings[i].code));
		json_object_object_add(f, "message", json_object_new_string(r->findings[i].msg));
		json_object_array_add(a, f);
	}
	json_object_object_add(o, "findings", a);
	if (r->full_ran) {
		f = json_object_new_object();
		describe_e2fsck_status(r->full_status, st, sizeof(st));
		json_object_object_add(f, "exit", json_object_new_int(r->full_status));
		json_object_object_add(f, "meaning", json_object_new_string(st));
		json_object_object_add(f, "output", json_object_new_string(r->full_output));
		json_object_object_add(o, "e2fsck", f);
	}
	json_object_object_add(o, "verdict", json_object_new_string(r->verdict));
	json_object_object_add(o, "exit", json_object_new_int(r->verdict_code));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage: %s (--origin FILE|DEV | --zero-origin --size BYTES) [options] STORE\n"
	       "\n"
	       "Check the ext2/3/4 filesystem inside a snapshot, read through the COW\n"
	       "store and its origin without the kernel.  Never writes anything.\n"
	       "\n"
	       "Options:\n"
	       VIEWOPT_HELP
	       "      --full              also run e2fsck -fn on a sparse temporary copy\n"
	       "                          of the view (in $TMPDIR, default /var/tmp)\n"
	       "  -f, --format FMT        human (default) or json\n"
	       "  -q, --quiet             print only errors\n"
	       "  -h, --help              display this help and exit\n"
	       "  -V, --version           display version information and exit\n"
	       "\n"
	       "Exit status: 0 clean, 2 not an ext2/3/4 filesystem, 4 errors or journal\n"
	       "recovery or orphans pending, 8 operational error, 16 usage error.\n",
	       program_name);
	exit(FSCK_EXIT_OK);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		VIEWOPT_LONGOPTS,
		{ "full", no_argument, NULL, 'F' },
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "human", "json", NULL };
	struct report r = { 0 };
	struct viewopt vo = { .invalid_is_warning = 1 };
	struct viewset vs;
	char probed[128] = "";
	int c, format = 0, full = 0, quiet = 0, pr;
	ext2_filsys fs = NULL;

	tool_init(argv[0]);
	while ((c = getopt_long(argc, argv, "f:qhV", longopts, NULL)) != -1) {
		if (viewopt_parse(&vo, c, optarg, FSCK_EXIT_USAGE))
			continue;
		switch (c) {
		case 'F':
			full = 1;
			break;
		case 'f':
			format = parse_format(optarg, formats, FSCK_EXIT_USAGE);
			break;
		case 'q':
			quiet = 1;
			tool_set_verbosity(0);
			break;
		case 'h':
			usage();
		case 'V':
			print_version_and_exit();
		default:
			try_help(FSCK_EXIT_USAGE);
		}
	}
	r.store = one_operand(argc, argv, optind, "store", FSCK_EXIT_USAGE);
	viewopt_check(&vo, FSCK_EXIT_USAGE);
	viewopt_open(&vo, r.store, &vs, FSCK_EXIT_OPERROR);
	r.vs = &vs;
	r.vo = &vo;
	r.sb_csum_ok = -1;
	add_error_table(&et_ext2_error_table);

	pr = ext2view_open_or_exit(vs.view, r.store, "checking", FSCK_EXIT_OPERROR, probed,
				   sizeof(probed), &fs);
	snprintf(r.fstype, sizeof(r.fstype), "%s", pr == 1 ? probed : type_from_features(fs));
	if (pr == 0)
		add_finding(&r, SEV_WARNING, "blkid", "libblkid does not recognise the "
			    "filesystem (a superblock checksum or field it checks is wrong)");
	describe_features(&r, fs->super);
	r.block_size = fs->blocksize;
	r.blocks = ext2fs_blocks_count(fs->super);
	r.inodes = fs->super->s_inodes_count;
	r.groups = fs->group_desc_count;
	r.valid_fs = !!(fs->super->s_state & EXT2_VALID_FS);
	r.error_fs = !!(fs->super->s_state & EXT2_ERROR_FS);
	r.needs_recovery = ext2fs_has_feature_journal_needs_recovery(fs->super);
	r.has_journal = ext2fs_has_feature_journal(fs->super);
	if (r.blocks * r.block_size > vs.size)
		add_finding(&r, SEV_ERROR, "size", "the filesystem (%" PRIu64 " bytes) is larger "
			    "than the view (%" PRIu64 " bytes): wrong --size or origin?",
			    r.blocks * r.block_size, vs.size);
	if (ext2fs_has_feature_metadata_csum(fs->super)) {
		r.sb_csum_ok = ext2fs_superblock_csum_verify(fs, fs->super);
		if (!r.sb_csum_ok)
			add_finding(&r, SEV_ERROR, "superblock-csum", "the superblock checksum is wrong");
	}
	if (r.error_fs)
		add_finding(&r, SEV_ERROR, "error-state", "the filesystem is marked as having "
			    "errors (the kernel found a problem while it was mounted)");
	if (r.needs_recovery)
		add_finding(&r, SEV_WARNING, "needs-recovery", "the journal holds transactions "
			    "not yet written to their place (needs_recovery): a journal replay is "
			    "needed");
	check_orphans(&r, fs);
	check_groups(&r, fs);
	ext2fs_close_free(&fs);
	if (full)
		run_full(&r);
	if (ext2view_refused_writes())
		add_finding(&r, SEV_ERROR, "write", "libext2fs tried to write %lu time%s; every "
			    "write was refused", ext2view_refused_writes(),
			    ext2view_refused_writes() == 1 ? "" : "s");
	decide(&r);
	if (format == 1)
		print_json(&r);
	else if (!quiet || r.verdict_code)
		print_human(&r);
	viewset_close(&vs);
	free(r.findings);
	free(r.full_output);
	return r.verdict_code;
}
