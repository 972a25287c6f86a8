/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XFS check of a snapshot view (snap_fsck).  XFS has no library to
 * read it with, so its own tools read a temporary copy of the view
 * (fsimage.h): without --full only the primary superblock, every AG's
 * headers (secondary superblock, AGF, AGI, AGFL) and the log are copied,
 * and xfs_db -r checks their checksums and counters while xfs_logprint -t
 * says whether the log is dirty (a dirty log is "needs log recovery", as a
 * journal is for ext4); with --full the whole view is copied, a dirty log
 * is replayed by mounting the copy where nothing else sees it (fsmount.h;
 * xfs_repair refuses a dirty log and its -L destroys it), and xfs_repair
 * -n checks the result.  The store and the origin are never written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsck.h"
#include "fsck_report.h"
#include "fsmount.h"
#include "xfsdb.h"

struct xfs_figures {
	struct xfs_geometry g;
	int no_log_replay;
	uint64_t ags_read;     /* AGs whose headers lie in the view */
	uint64_t agf_bad, agi_bad, sb2_checked, sb2_bad, first_bad_sb2;
	uint64_t ag_free, ag_icount, ag_ifree;
	int log_state;         /* -1 unknown, 0 clean, 1 dirty */
	uint64_t log_tail, log_head;
	char log_problem[160]; /* why the state is unknown */
	/* --full */
	int replayed;
	char unreplayed_suffix[700];
};

/* ---- xfs_db on the AG headers ---------------------------------------------- */

/* What xfs_db printed for one section: "agf N", "agi N" or "sb N". */
struct ag_section {
	char kind[8];
	uint64_t agno;
	int crc; /* -1 not printed */
	uint64_t v[5];
	char uuid[40];
};

enum { V_FREEBLKS, V_FLCOUNT, V_BTREEBLKS, V_COUNT, V_FREECOUNT };
enum { V_DBLOCKS = V_FREEBLKS, V_AGCOUNT = V_FLCOUNT, V_AGBLOCKS = V_BTREEBLKS };

struct ag_parse {
	struct xfs_figures *x;
	struct ag_section cur;
};

static void end_section(struct ag_parse *p)
{
	struct xfs_figures *x = p->x;
	struct ag_section *s = &p->cur;
	const struct xfs_geometry *g = &x->g;

	if (!strcmp(s->kind, "agf")) {
		x->agf_bad += s->crc == 0;
		x->ag_free += s->v[V_FREEBLKS] + s->v[V_FLCOUNT] + s->v[V_BTREEBLKS];
	} else if (!strcmp(s->kind, "agi")) {
		x->agi_bad += s->crc == 0;
		x->ag_icount += s->v[V_COUNT];
		x->ag_ifree += s->v[V_FREECOUNT];
	} else if (!strcmp(s->kind, "sb")) {
		int bad = s->crc == 0 || strcmp(s->uuid, g->uuid) || s->v[V_DBLOCKS] != g->dblocks ||
			  s->v[V_AGCOUNT] != g->agcount || s->v[V_AGBLOCKS] != g->agblocks;

		x->sb2_checked++;
		if (bad && !x->sb2_bad++)
			x->first_bad_sb2 = s->agno;
	}
	memset(s, 0, sizeof(*s));
	s->crc = -1;
}

static int ag_line(void *data, char *line)
{
	static const char *const keys[3][3] = {
		{ "freeblks", "flcount", "btreeblks" },
		{ "count", "freecount", NULL },
		{ "dblocks", "agcount", "agblocks" },
	};
	struct ag_parse *p = data;
	struct ag_section *s = &p->cur;
	char *key, *val, kind[8];
	unsigned long long agno;
	int k;

	if (sscanf(line, "@@%7s %llu", kind, &agno) == 2) {
		end_section(p);
		snprintf(s->kind, sizeof(s->kind), "%s", kind);
		s->agno = agno;
		return 0;
	}
	if (!s->kind[0] || !xfsdb_field(line, &key, &val))
		return 0;
	if (!strcmp(key, "crc")) {
		s->crc = strstr(val, "(correct)") != NULL;
		return 0;
	}
	if (!strcmp(key, "uuid")) {
		snprintf(s->uuid, sizeof(s->uuid), "%s", val);
		return 0;
	}
	k = !strcmp(s->kind, "agf") ? 0 : !strcmp(s->kind, "agi") ? 1 : 2;
	for (int i = 0; i < 3; i++)
		if (keys[k][i] && !strcmp(key, keys[k][i]))
			s->v[k == 1 ? V_COUNT + i : i] = strtoull(val, NULL, 0);
	return 0;
}

/* The commands that print every AG's headers in the view. */
static char *ag_commands(struct xfs_figures *x, uint64_t view_bytes)
{
	const struct xfs_geometry *g = &x->g;
	const char *crc = g->crc >= 0 ? "crc " : "";
	size_t cap = 64 + (size_t)g->agcount * 240, len = 0;
	char *cmds = malloc(cap);

	if (!cmds)
		errx(FSCK_EXIT_OPERROR, "out of memory");
	cmds[0] = 0;
	for (uint64_t a = 0; a < g->agcount; a++) {
		if (xfs_agb_to_block(g, a, 0) * g->blocksize + 4ULL * g->sectsize > view_bytes)
			break;
		x->ags_read++;
		len += (size_t)snprintf(cmds + len, cap - len,
					"echo @@agf %" PRIu64 "\nagf %" PRIu64 "\nprint %sfreeblks "
					"flcount btreeblks\necho @@agi %" PRIu64 "\nagi %" PRIu64
					"\nprint %scount freecount\n", a, a, crc, a, a, crc);
		if (a)
			len += (size_t)snprintf(cmds + len, cap - len, "echo @@sb %" PRIu64 "\nsb %"
						PRIu64 "\nprint %suuid dblocks agcount agblocks\n",
						a, a, crc);
	}
	snprintf(cmds + len, cap - len, "echo @@end 0\n");
	return cmds;
}

static void read_ag_headers(struct fsck_report *r, struct xfs_figures *x, const char *image)
{
	struct ag_parse p = { .x = x, .cur = { .crc = -1 } };
	char why[512], *cmds = ag_commands(x, r->fv->vs.size);
	int st = xfsdb_run(image, cmds, ag_line, &p, NULL, why, sizeof(why));

	free(cmds);
	if (st < 0)
		errx(FSCK_EXIT_OPERROR, "%s", why);
	end_section(&p);
}

/* ---- the log ------------------------------------------------------------------ */

/* xfs_logprint -t on @image: x->log_state.  Returns: it. */
static int read_log_state(struct xfs_figures *x, const char *image)
{
	x->log_state = xfs_log_state(image, &x->log_tail, &x->log_head, x->log_problem,
				     sizeof(x->log_problem));
	if (x->log_state == -2)
		errx(FSCK_EXIT_OPERROR, "%s", x->log_problem);
	return x->log_state;
}

/* ---- the quick check -------------------------------------------------------- */

static const struct fsck_pending log_recovery = {
	.verdict = "needs log recovery: the log holds metadata changes not yet written in "
		   "place; a mount replays them (xfs_repair refuses a dirty log; its -L "
		   "destroys it)",
	.checker_clean = "; replayed on a temporary copy, xfs_repair -n found nothing else",
	.checker_found = " (after replaying the log on a temporary copy)",
};

static void check_counts(struct fsck_report *r, struct xfs_figures *x)
{
	const struct xfs_geometry *g = &x->g;
	int lazy = x->log_state != 0;

	if (x->ags_read < g->agcount)
		return;
	if (x->ag_free == g->fdblocks && x->ag_icount == g->icount && x->ag_ifree == g->ifree)
		return;
	fsck_add_finding(r, lazy ? FSCK_SEV_WARNING : FSCK_SEV_ERROR, "free-counts",
			 "superblock counters (%" PRIu64 " free blocks, %" PRIu64 " inodes, %"
			 PRIu64 " free) differ from the allocation groups' (%" PRIu64 ", %" PRIu64
			 ", %" PRIu64 ")%s", g->fdblocks, g->icount, g->ifree, x->ag_free,
			 x->ag_icount, x->ag_ifree,
			 lazy ? ": normal for a filesystem that was mounted (lazy counters)" : "");
}

static void check_headers(struct fsck_report *r, struct xfs_figures *x)
{
	const struct xfs_geometry *g = &x->g;

	if (g->dblocks * g->blocksize > r->fv->vs.size)
		fsck_add_finding(r, FSCK_SEV_ERROR, "size", "the filesystem (%" PRIu64 " bytes) "
				 "is larger than the view (%" PRIu64 " bytes): wrong --size or "
				 "origin?", g->dblocks * g->blocksize, r->fv->vs.size);
	if (g->crc == 0)
		fsck_add_finding(r, FSCK_SEV_ERROR, "superblock-csum",
				 "the primary superblock's checksum is wrong");
	if (g->inprogress)
		fsck_add_finding(r, FSCK_SEV_ERROR, "mkfs-in-progress", "the superblock says "
				 "mkfs never finished (sb_inprogress)");
	if (x->agf_bad)
		fsck_add_finding(r, FSCK_SEV_ERROR, "agf-csum", "%" PRIu64 " of %" PRIu64
				 " AGF checksums are wrong", x->agf_bad, x->ags_read);
	if (x->agi_bad)
		fsck_add_finding(r, FSCK_SEV_ERROR, "agi-csum", "%" PRIu64 " of %" PRIu64
				 " AGI checksums are wrong", x->agi_bad, x->ags_read);
	if (x->sb2_bad)
		fsck_add_finding(r, FSCK_SEV_WARNING, "secondary-superblocks", "%" PRIu64 " of %"
				 PRIu64 " secondary superblocks differ from the primary or have a "
				 "wrong checksum (first: AG %" PRIu64 "); xfs_repair rewrites them",
				 x->sb2_bad, x->sb2_checked, x->first_bad_sb2);
	check_counts(r, x);
}

static void check_log(struct fsck_report *r, struct xfs_figures *x)
{
	if (!x->g.logstart) {
		fsck_add_finding(r, FSCK_SEV_WARNING, "external-log", "the log is on another "
				 "device (an external log): not in this view, not checked");
		return;
	}
	if (x->log_state < 0)
		fsck_add_finding(r, FSCK_SEV_ERROR, "log", "the log cannot be read: %s",
				 x->log_problem);
	if (x->log_state != 1)
		return;
	fsck_add_finding(r, FSCK_SEV_WARNING, "needs-log-recovery", "the log holds "
			 "transactions not yet written in place (log tail %" PRIu64 ", head %"
			 PRIu64 "): a log replay is needed", x->log_tail, x->log_head);
	fsck_add_pending(r, &log_recovery);
}

/* The superblocks, AG headers and log of the view, through a partial copy. */
static void quick_check(struct fsck_report *r, struct xfs_figures *x)
{
	struct snapcow_view *v = r->fv->vs.view;
	const struct xfs_geometry *g = &x->g;
	char why[4400], cost[96];
	struct fsimage im;
	int e;

	if (fsimage_create(&im, "snap_fsck", r->fv->vs.size, why, sizeof(why)) < 0)
		errx(FSCK_EXIT_OPERROR, "%s", why);
	e = fsimage_copy(&im, v, 0, 65536);
	if (e < 0)
		errx(FSCK_EXIT_OPERROR, "cannot copy the view to %s: %s", im.path, strerror(-e));
	e = xfsdb_geometry(im.path, &x->g, why, sizeof(why));
	if (e == -2)
		errx(FSCK_EXIT_OPERROR, "%s", why);
	if (e < 0) {
		fsimage_remove(&im);
		memset(&x->g, 0, sizeof(x->g));
		fsck_add_finding(r, FSCK_SEV_ERROR, "superblock", "%s", why);
		return;
	}
	for (uint64_t a = 0; a < g->agcount && !e; a++)
		e = fsimage_copy(&im, v, xfs_agb_to_block(g, a, 0) * g->blocksize,
				 4ULL * g->sectsize);
	if (!e && g->logstart)
		e = fsimage_copy(&im, v, xfs_fsb_to_byte(g, g->logstart),
				 g->logblocks * g->blocksize);
	if (e < 0)
		errx(FSCK_EXIT_OPERROR, "cannot copy the view to %s: %s", im.path, strerror(-e));
	read_ag_headers(r, x, im.path);
	if (g->logstart)
		read_log_state(x, im.path);
	fsimage_remove(&im);
	fsck_add_step(r, "read", "xfs_db -r and xfs_logprint -t on a temporary partial copy "
		      "(superblocks, AG headers, log: %s)", fsimage_cost(&im, cost, sizeof(cost)));
	check_headers(r, x);
	check_log(r, x);
}

/* ---- --full ----------------------------------------------------------------- */

static int xfs_judge(int status, int *found)
{
	*found = status != 0;
	if (status == 0)
		return FSCK_EXIT_OK;
	return status == 1 || status == 2 ? FSCK_EXIT_ERRORS : FSCK_EXIT_OPERROR;
}

/* Replay a dirty log on the whole copy @im, by a mount nobody sees. */
static int xfs_prepare(struct fsck_report *r, struct fsimage *im)
{
	struct xfs_figures *x = r->fs;
	struct fsmount_result res;
	char cost[96];

	fsck_add_step(r, "copy", "the whole view into a temporary sparse file: %s",
		      fsimage_cost(im, cost, sizeof(cost)));
	if (x->log_state != 1)
		return 0;
	if (x->no_log_replay) {
		snprintf(res.why, sizeof(res.why), "--no-log-replay");
		res.unavailable = 1;
	} else if (fsmount_cycle(im->path, "xfs", FSMOUNT_IMAGE, &res) == 0) {
		struct xfs_figures after = { .log_state = -1 };

		x->replayed = 1;
		fsck_add_step(r, "log replay", "the copy was mounted (%s, in a private mount "
			      "namespace) and unmounted in %.1f s: the kernel replayed the log; "
			      "its log is now %s", res.options, (double)res.ns / 1e9,
			      read_log_state(&after, im->path) == 0 ? "clean" : "NOT clean");
		return 0;
	}
	fsck_add_step(r, "log replay", "not done: %s", res.why);
	snprintf(x->unreplayed_suffix, sizeof(x->unreplayed_suffix),
		 "; the log was not replayed on the copy (%s), so what xfs_repair -n reports "
		 "may come from the log alone", res.why);
	if (!res.unavailable)
		fsck_add_finding(r, FSCK_SEV_ERROR, "log-replay", "mounting the copy to replay the "
				 "log failed (%s): the log or the metadata it changes may be "
				 "damaged (the kernel's log says more)", res.why);
	return 0;
}

/* After xfs_repair -n: what a dirty log that was not replayed means. */
static void judge_unreplayed(struct fsck_report *r, struct xfs_figures *x)
{
	if (x->log_state != 1 || x->replayed || !r->checker_ran || !r->npending)
		return;
	r->pending[0].checker_clean = x->unreplayed_suffix;
	r->pending[0].checker_found = NULL;
	if (r->checker_status == 1) {
		/* xfs_repair -n exits 1 for a dirty log it ignored */
		r->checker_found = 0;
		r->checker_code = FSCK_EXIT_ERRORS;
	}
}

static const char *const xfs_repair_args[] = { "-n", NULL };

static const struct fsck_checker xfs_repair = {
	.name = "xfs_repair",
	.args = xfs_repair_args,
	.label = "xfs_repair -n",
	.meaning = xfs_repair_status_meaning,
	.judge = xfs_judge,
	.prepare = xfs_prepare,
};

/* ---- output ---------------------------------------------------------------- */

static const char *log_text(const struct xfs_figures *x, char *buf, size_t len)
{
	if (!x->g.logstart)
		snprintf(buf, len, "external (not in this view)");
	else if (x->log_state < 0)
		snprintf(buf, len, "unreadable");
	else
		snprintf(buf, len, "%s (tail %" PRIu64 ", head %" PRIu64 ")",
			 x->log_state ? "dirty: needs log recovery" : "clean", x->log_tail,
			 x->log_head);
	return buf;
}

static void print_human(const struct fsck_report *r)
{
	const struct xfs_figures *x = r->fs;
	const struct xfs_geometry *g = &x->g;
	char log[128];

	if (!g->blocksize)
		return; /* the superblock could not be read */
	printf("filesystem:     %s, %u-byte blocks, %" PRIu64 " blocks, %" PRIu64 " allocation "
	       "groups of %" PRIu64 " blocks, %u-byte inodes\n", r->fstype, g->blocksize,
	       g->dblocks, g->agcount, g->agblocks, g->inodesize);
	printf("features:       %s\n", g->versions[0] ? g->versions : "(unknown)");
	printf("log:            %" PRIu64 " blocks, %s\n", g->logblocks,
	       log_text(x, log, sizeof(log)));
	printf("superblock:     %s; %" PRIu64 " secondary superblocks checked, %" PRIu64
	       " differ\n", g->crc < 0 ? "no checksum (V4)" : g->crc ? "checksum ok" :
	       "checksum WRONG", x->sb2_checked, x->sb2_bad);
	printf("ag headers:     %" PRIu64 " of %" PRIu64 " read, %" PRIu64 " bad AGF and %"
	       PRIu64 " bad AGI checksums\n", x->ags_read, g->agcount, x->agf_bad, x->agi_bad);
	printf("free blocks:    %" PRIu64 " (superblock), %" PRIu64 " (allocation groups)\n",
	       g->fdblocks, x->ag_free);
	printf("inodes:         %" PRIu64 " allocated, %" PRIu64 " free (superblock); %" PRIu64
	       ", %" PRIu64 " (allocation groups)\n", g->icount, g->ifree, x->ag_icount,
	       x->ag_ifree);
}

static void add_json(const struct fsck_report *r, json_object *o)
{
	const struct xfs_figures *x = r->fs;
	const struct xfs_geometry *g = &x->g;

	fsview_json_add_words(o, "features", g->versions, ",");
	json_object_object_add(o, "uuid", json_object_new_string(g->uuid));
	fsview_json_add_u64(o, "block_size", g->blocksize);
	fsview_json_add_u64(o, "blocks", g->dblocks);
	fsview_json_add_u64(o, "ag_count", g->agcount);
	fsview_json_add_u64(o, "ag_blocks", g->agblocks);
	fsview_json_add_u64(o, "inode_size", g->inodesize);
	fsview_json_add_u64(o, "log_blocks", g->logblocks);
	json_object_object_add(o, "log_external", json_object_new_boolean(!g->logstart));
	json_object_object_add(o, "log_dirty", x->log_state < 0 ? NULL :
			       json_object_new_boolean(x->log_state));
	json_object_object_add(o, "log_replayed_on_copy", json_object_new_boolean(x->replayed));
	json_object_object_add(o, "superblock_csum", g->crc < 0 ? NULL :
			       json_object_new_boolean(g->crc));
	fsview_json_add_u64(o, "secondary_superblocks_checked", x->sb2_checked);
	fsview_json_add_u64(o, "secondary_superblocks_bad", x->sb2_bad);
	fsview_json_add_u64(o, "ag_headers_read", x->ags_read);
	fsview_json_add_u64(o, "agf_bad_csum", x->agf_bad);
	fsview_json_add_u64(o, "agi_bad_csum", x->agi_bad);
	fsview_json_add_u64(o, "free_blocks_superblock", g->fdblocks);
	fsview_json_add_u64(o, "free_blocks_ags", x->ag_free);
	fsview_json_add_u64(o, "inodes_superblock", g->icount);
	fsview_json_add_u64(o, "inodes_ags", x->ag_icount);
	fsview_json_add_u64(o, "free_inodes_superblock", g->ifree);
	fsview_json_add_u64(o, "free_inodes_ags", x->ag_ifree);
}

static const struct fsck_fs_ops xfs_ops = {
	.print_human = print_human,
	.add_json = add_json,
};

int fsck_xfs(struct fsview *fv, const struct fsck_opts *o)
{
	struct xfs_figures x = { .log_state = -1, .no_log_replay = o->no_log_replay };
	struct fsck_report r;
	int code;

	fsck_report_init(&r, fv, &xfs_repair, &xfs_ops, &x);
	snprintf(r.fstype, sizeof(r.fstype), "%s", fv->type);
	quick_check(&r, &x);
	if (o->full && x.g.blocksize)
		fsck_run_checker(&r);
	judge_unreplayed(&r, &x);
	fsck_report_decide(&r);
	fsck_report_print(&r, o->quiet);
	code = r.verdict_code;
	fsck_report_free(&r);
	return code;
}
