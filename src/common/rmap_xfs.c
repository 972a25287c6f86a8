/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XFS mapping of a store's chunks (snap_rmap), through xfs_db -r on a
 * temporary copy of the whole view (fsimage.h).  A dirty log is replayed
 * on the copy first by a mount nothing else sees (fsmount.h): xfs_db
 * refuses to walk a filesystem whose log holds changes, and the mapping
 * should be the one the user gets after the recovery.  Where no mount is
 * possible (no root, no XFS in this kernel, --no-log-replay) the copy's log
 * is zeroed instead, and the report says that what only the log knew is
 * missing.  Then, by the cheaper way the filesystem allows:
 *
 *   rmapbt=1  "fsmap" over each run of changed blocks: the reverse-mapping
 *             btree names the owner of every extent (cost: the runs only);
 *   else      "blockget" (xfs_db reads every metadata block once to learn
 *             who owns what), then "blockuse" over each run.
 *
 * Owners are named by listing directories from the root ("inode N", "ls"),
 * level by level, until every owner has a path; their mode and link count
 * come from "print core.mode core.nlinkv2".  xfs_db runs a few times with
 * its commands on stdin; its output is read line by line.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsimage.h"
#include "fsmount.h"
#include "rmap.h"
#include "xfsdb.h"

enum xkind {
	XK_HEADERS,
	XK_FREESP,
	XK_INOBT,
	XK_RMAPBT,
	XK_REFCBT,
	XK_INODES,
	XK_LOG,
	XK_MAPS,
	XK_XATTR,
	XK_QUOTA,
	XK_RT,
	XK_COW,
	XK_COUNT,
};

static const struct rmap_meta_kind xfs_kinds[XK_COUNT] = {
	{ "superblocks and AG headers (AGF, AGI, AGFL)", "ag_headers" },
	{ "free space btrees, AG free lists (fsmap: also the reverse-mapping btree)",
	  "free_space_btrees" },
	{ "inode btrees", "inode_btrees" },
	{ "reverse-mapping btree", "rmap_btree" },
	{ "reference count btree", "refcount_btree" },
	{ "inode chunks", "inode_chunks" },
	{ "log", "log" },
	{ "extent map btree blocks of the files above", "file_maps" },
	{ "extended attribute blocks", "xattr_blocks" },
	{ "quota", "quota" },
	{ "realtime bitmap and summary", "rt_metadata" },
	{ "copy-on-write staging extents", "cow_staging" },
};

/* A run of changed blocks inside one allocation group. */
struct xrun {
	uint64_t agno, agbno, len;
};

struct xmap {
	struct rmap_report rep;
	struct xfs_geometry g;
	struct fsimage im;
	struct xrun *runs;
	size_t nruns, cap;
	uint64_t remarks; /* xfs_db lines that were not what was asked for */
	/* fsmap: a bitmap of the runs' blocks (run k's first bit: bit[k]) */
	unsigned char *claimed;
	uint64_t *bit;
	size_t cur_run;    /* the run whose records are read; SIZE_MAX - 1: the whole map */
	size_t whole_runs; /* runs found in one fsmap of the whole filesystem */
};

/* ---- the changed blocks, as runs per AG ------------------------------------- */

static void add_run(struct xmap *m, uint64_t first, uint64_t last)
{
	const uint64_t agb = m->g.agblocks;

	while (first <= last) {
		uint64_t agno = first / agb, agbno = first % agb;
		uint64_t len = agb - agbno < last - first + 1 ? agb - agbno : last - first + 1;
		struct xrun *prev = m->nruns ? &m->runs[m->nruns - 1] : NULL;

		if (prev && prev->agno == agno && prev->agbno + prev->len >= agbno) {
			uint64_t end = agbno + len > prev->agbno + prev->len ? agbno + len :
									      prev->agbno + prev->len;

			m->rep.nchanged += end - (prev->agbno + prev->len);
			prev->len = end - prev->agbno;
		} else {
			if (m->nruns == m->cap) {
				m->cap = m->cap ? m->cap * 2 : 256;
				m->runs = rmap_xrealloc(m->runs, m->cap * sizeof(*m->runs));
			}
			m->runs[m->nruns++] = (struct xrun){ agno, agbno, len };
			m->rep.nchanged += len;
		}
		first += len;
	}
}

static void changed_blocks(void *data, uint64_t first, uint64_t last)
{
	add_run(data, first, last);
}

/* ---- owners by inode -------------------------------------------------------- */

static struct rmap_owner *find_owner(const struct xmap *m, uint64_t ino)
{
	return rmap_owner_find(&m->rep, 0, ino);
}

/* The filesystem's own inodes are metadata, not files. */
static int special_kind(const struct xmap *m, uint64_t ino)
{
	const struct xfs_geometry *g = &m->g;

	if (ino && (ino == g->uquotino || ino == g->gquotino || ino == g->pquotino))
		return XK_QUOTA;
	if (ino && (ino == g->rbmino || ino == g->rsumino))
		return XK_RT;
	return -1;
}

/* @n changed blocks owned by inode @ino: data (@maps 0) or mapping blocks. */
static void owned(struct xmap *m, uint64_t ino, uint64_t n, int maps, int xattr)
{
	int k = special_kind(m, ino);
	struct rmap_owner *o;

	if (k >= 0) {
		m->rep.meta[k] += n;
		return;
	}
	if (xattr && !maps) {
		m->rep.meta[XK_XATTR] += n;
		return;
	}
	o = rmap_owner_get(&m->rep, 0, ino);
	if (maps) {
		o->maps += n;
		m->rep.meta[XK_MAPS] += n;
	} else {
		o->changed += n;
	}
}

/* ---- blockget and blockuse (no reverse-mapping btree) ------------------------ */

static int blockuse_line(void *data, char *line)
{
	static const struct {
		const char *type;
		int kind;
	} meta[] = {
		{ "sb", XK_HEADERS },     { "agf", XK_HEADERS },   { "agi", XK_HEADERS },
		{ "agfl", XK_HEADERS },   { "btbno", XK_FREESP },  { "btcnt", XK_FREESP },
		{ "freelist", XK_FREESP }, { "btino", XK_INOBT },  { "btfino", XK_INOBT },
		{ "btrmap", XK_RMAPBT },  { "btrefcnt", XK_REFCBT }, { "inode", XK_INODES },
		{ "log", XK_LOG },        { "rtbitmap", XK_RT },   { "rtsum", XK_RT },
	};
	struct xmap *m = data;
	unsigned long long blk, agno, agbno, ino;
	char type[32];
	int n = 0;

	if (sscanf(line, "block %llu (%llu/%llu) type %31s%n", &blk, &agno, &agbno, type, &n) < 4) {
		m->remarks++;
		return 0;
	}
	if (sscanf(line + n, " inode %llu", &ino) == 1) {
		owned(m, ino, 1, !strcmp(type, "btbmapd") || !strcmp(type, "btbmapa"),
		      !strcmp(type, "attr") || !strcmp(type, "btbmapa"));
		return 0;
	}
	if (!strcmp(type, "free1") || !strcmp(type, "free2")) {
		m->rep.free_blocks++;
		return 0;
	}
	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
		if (!strcmp(type, meta[i].type)) {
			m->rep.meta[meta[i].kind]++;
			return 0;
		}
	m->rep.unowned++; /* unknown, missing... */
	return 0;
}

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...) PRINTF_LIKE(4, 5);
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
		va_end(ap);
		if (*buf && (size_t)n < *cap - *len)
			break;
		*cap = *cap ? *cap * 2 : 4096;
		while (*cap < *len + (size_t)n + 1)
			*cap *= 2;
		*buf = rmap_xrealloc(*buf, *cap);
	}
	*len += (size_t)n;
}

/* Run xfs_db on the copy with @cmds (freed here), its lines to @fn with
 * @data; the tool ends if it cannot run. */
static void run_db(struct xmap *m, char *cmds, checker_line_fn fn, void *data)
{
	char why[512];
	int st = xfsdb_run(m->im.path, cmds, fn, data, NULL, why, sizeof(why));

	free(cmds);
	if (st < 0 || st == 127)
		errx(EXIT_FAIL, "%s", st < 0 ? why : "xfs_db could not be run");
}

static void map_blockget(struct xmap *m)
{
	size_t len = 0, cap = 0;
	char *cmds = NULL;

	append(&cmds, &len, &cap, "blockget\n");
	for (size_t i = 0; i < m->nruns; i++) {
		const struct xrun *r = &m->runs[i];

		append(&cmds, &len, &cap, "daddr %" PRIu64 "\nblockuse -c %" PRIu64 "\n",
		       xfs_agb_to_block(&m->g, r->agno, r->agbno) * (m->g.blocksize / 512), r->len);
	}
	run_db(m, cmds, blockuse_line, m);
}

/* ---- fsmap (the reverse-mapping btree) ---------------------------------------- */

/* xfs_db's fsmap refuses a block number at or past dblocks although it
 * reads it as an AG number and an AG block: the AGs whose numbers lie past
 * dblocks (agblocks not a power of two) are mapped by one fsmap of the
 * whole filesystem, their records picked out of it. */
static int fsmap_whole(const struct xmap *m, const struct xrun *r)
{
	return ((r->agno << m->g.agblklog) | (r->agbno + r->len - 1)) >= m->g.dblocks;
}

/* The changed blocks of run @r in [agbno, agbno + len) not claimed yet,
 * claimed.  Returns: how many. */
static uint64_t claim_run(struct xmap *m, size_t k, uint64_t agbno, uint64_t len)
{
	const struct xrun *r = &m->runs[k];
	uint64_t a = agbno > r->agbno ? agbno : r->agbno, n = 0;
	uint64_t e = agbno + len < r->agbno + r->len ? agbno + len : r->agbno + r->len;
	unsigned char *c = m->claimed + m->bit[k] / 8;
	uint64_t base = m->bit[k] % 8;

	for (uint64_t b = a; b < e; b++) {
		uint64_t i = base + b - r->agbno;

		if (c[i / 8] & (1u << (i % 8)))
			continue; /* a shared extent: counted for its first owner */
		c[i / 8] |= (unsigned char)(1u << (i % 8));
		n++;
	}
	return n;
}

static void fsmap_owned(struct xmap *m, uint64_t n, long long owner, int bmbt, int attrfork)
{
	static const int kinds[] = { -1, -1, XK_HEADERS, XK_LOG, XK_FREESP, XK_INOBT,
				     XK_INODES, XK_REFCBT, XK_COW };

	if (!n)
		return;
	if (owner >= 0)
		owned(m, (uint64_t)owner, n, bmbt, attrfork);
	else if (-owner - 1 < (long long)(sizeof(kinds) / sizeof(kinds[0])) &&
		 kinds[-owner - 1] >= 0)
		m->rep.meta[kinds[-owner - 1]] += n; /* XFS_RMAP_OWN_FS (-3) ... OWN_COW (-9) */
	else
		m->rep.unowned += n; /* OWN_NULL, OWN_UNKNOWN */
}

static int fsmap_line(void *data, char *line)
{
	struct xmap *m = data;
	unsigned long long agno, agbno, len, off;
	long long owner;
	int bmbt, attr;
	size_t k;

	if (sscanf(line, "@@run %zu", &k) == 1) {
		m->cur_run = k < m->nruns ? k : SIZE_MAX;
		return 0;
	}
	if (!strncmp(line, "@@whole", 7)) {
		m->cur_run = SIZE_MAX - 1;
		return 0;
	}
	if (sscanf(line, "%*u: %llu/%llu len %llu owner %lld offset %llu bmbt %d attrfork %d",
		   &agno, &agbno, &len, &owner, &off, &bmbt, &attr) != 7) {
		m->remarks++;
		return 0;
	}
	if (m->cur_run < m->nruns) {
		if (agno == m->runs[m->cur_run].agno)
			fsmap_owned(m, claim_run(m, m->cur_run, agbno, len), owner, bmbt, attr);
		return 0;
	}
	if (m->cur_run != SIZE_MAX - 1)
		return 0;
	for (k = 0; k < m->nruns; k++) /* the runs this record of the whole map covers */
		if (m->runs[k].agno == agno && fsmap_whole(m, &m->runs[k]) &&
		    agbno < m->runs[k].agbno + m->runs[k].len && agbno + len > m->runs[k].agbno)
			fsmap_owned(m, claim_run(m, k, agbno, len), owner, bmbt, attr);
	return 0;
}

static void map_fsmap(struct xmap *m)
{
	size_t len = 0, cap = 0, whole = 0;
	uint64_t bits = 0;
	char *cmds = NULL;

	m->bit = rmap_xrealloc(NULL, (m->nruns + 1) * sizeof(*m->bit));
	for (size_t i = 0; i < m->nruns; i++) {
		const struct xrun *r = &m->runs[i];
		uint64_t fsb = (r->agno << m->g.agblklog) | r->agbno;

		m->bit[i] = bits;
		bits += r->len;
		if (fsmap_whole(m, r)) {
			whole++;
			continue;
		}
		append(&cmds, &len, &cap, "echo @@run %zu\nfsmap %" PRIu64 " %" PRIu64 "\n", i, fsb,
		       fsb + r->len - 1);
	}
	if (whole)
		append(&cmds, &len, &cap, "echo @@whole\nfsmap\n");
	m->claimed = calloc(bits / 8 + 2, 1);
	if (!m->claimed || !cmds)
		errx(EXIT_FAIL, "out of memory");
	m->cur_run = SIZE_MAX;
	run_db(m, cmds, fsmap_line, m);
	for (uint64_t b = 0; b < bits; b++)
		if (!(m->claimed[b / 8] & (1u << (b % 8))))
			m->rep.free_blocks++;
	m->whole_runs = whole;
	free(m->claimed);
	free(m->bit);
}

/* ---- names: the directories from the root, level by level ----------------- */

struct level {
	uint64_t *ino;
	char **path;
	size_t n, cap;
};

struct names {
	struct xmap *m;
	struct level now, next;
	size_t cur; /* the directory being listed, index in @now */
	size_t unnamed;
	uint64_t listed;
};

static char *join(const char *dir, const char *name, int is_dir)
{
	size_t n = strlen(dir) + strlen(name) + 3;
	char *p = rmap_xrealloc(NULL, n);

	snprintf(p, n, "%s%s%s", dir, name, is_dir ? "/" : "");
	return p;
}

static void level_add(struct level *l, uint64_t ino, char *path)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->ino = rmap_xrealloc(l->ino, l->cap * sizeof(*l->ino));
		l->path = rmap_xrealloc(l->path, l->cap * sizeof(*l->path));
	}
	l->ino[l->n] = ino;
	l->path[l->n++] = path;
}

static void level_free(struct level *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->path[i]);
	free(l->ino);
	free(l->path);
	memset(l, 0, sizeof(*l));
}

/* "COOKIE INO TYPE HASH NAMELEN NAME (good)", xfs_db's ls. */
static int ls_line(void *data, char *line)
{
	struct names *d = data;
	unsigned long long cookie, ino, hash;
	unsigned int namelen;
	struct rmap_owner *o;
	char type[32], *name;
	int n = 0, is_dir;

	if (sscanf(line, "@@dir %zu", &d->cur) == 1)
		return 0;
	if (sscanf(line, "%llu %llu %31s %llx %u %n", &cookie, &ino, type, &hash, &namelen, &n) < 5 ||
	    !n || strlen(line + n) < namelen || d->cur >= d->now.n)
		return 0;
	name = line + n;
	name[namelen] = '\0';
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	is_dir = !strcmp(type, "directory");
	o = find_owner(d->m, ino);
	if (o && !o->path) {
		o->path = join(d->now.path[d->cur], name, is_dir);
		d->unnamed--;
	}
	if (is_dir)
		level_add(&d->next, ino, join(d->now.path[d->cur], name, 1));
	return 0;
}

static void name_owners(struct xmap *m)
{
	struct names d = { .m = m, .unnamed = m->rep.nowners };
	struct rmap_owner *root = find_owner(m, m->g.rootino);

	if (!m->rep.nowners)
		return;
	if (root) {
		root->path = strdup("/");
		d.unnamed--;
	}
	level_add(&d.now, m->g.rootino, strdup("/"));
	while (d.now.n && d.unnamed) {
		size_t len = 0, cap = 0;
		char *cmds = NULL;

		for (size_t i = 0; i < d.now.n; i++)
			append(&cmds, &len, &cap, "echo @@dir %zu\ninode %" PRIu64 "\nls\n", i,
			       d.now.ino[i]);
		d.listed += d.now.n;
		d.cur = SIZE_MAX;
		run_db(m, cmds, ls_line, &d);
		level_free(&d.now);
		d.now = d.next;
		memset(&d.next, 0, sizeof(d.next));
	}
	level_free(&d.now);
	if (m->rep.nowners)
		rmap_add_step(&m->rep, "names", "%" PRIu64 " director%s listed from the root "
			      "(xfs_db ls)%s", d.listed, d.listed == 1 ? "y" : "ies",
			      d.unnamed ? "; some owners have no name" : "");
}

struct modes {
	struct xmap *m;
	struct rmap_owner *cur; /* the inode being printed */
};

/* Mode and link count of every owner; a path for those without a name. */
static int mode_line(void *data, char *line)
{
	struct modes *p = data;
	unsigned long long ino;
	char *key, *val;

	if (sscanf(line, "@@ino %llu", &ino) == 1) {
		p->cur = find_owner(p->m, ino);
		return 0;
	}
	if (!p->cur || !xfsdb_field(line, &key, &val))
		return 0;
	if (!strcmp(key, "core.mode"))
		p->cur->mode = (uint32_t)strtoul(val, NULL, 0);
	else if (!strcmp(key, "core.nlinkv2"))
		p->cur->links = (uint32_t)strtoul(val, NULL, 0);
	return 0;
}

static void owner_details(struct xmap *m)
{
	struct modes p = { .m = m };
	size_t len = 0, cap = 0;
	char *cmds = NULL;

	append(&cmds, &len, &cap, "echo @@ino 0\n");
	for (size_t i = 0; i < m->rep.nowners; i++)
		append(&cmds, &len, &cap, "echo @@ino %" PRIu64 "\ninode %" PRIu64
		       "\nprint core.mode core.nlinkv2\n", m->rep.owners[i].ino,
		       m->rep.owners[i].ino);
	run_db(m, cmds, mode_line, &p);
	for (size_t i = 0; i < m->rep.nowners; i++) {
		struct rmap_owner *o = &m->rep.owners[i];

		if (o->path)
			continue;
		o->path = rmap_xrealloc(NULL, 96);
		snprintf(o->path, 96, "<inode %" PRIu64 ": no name found (%s)>", o->ino,
			 o->links ? "directory entry not found" : "deleted while open: orphan");
	}
}

/* ---- the copy and its log --------------------------------------------------- */

/* A dirty log: replayed on the copy by a mount, or else zeroed there. */
static void settle_log(struct xmap *m, const struct rmap_opts *o)
{
	char why[400];
	struct fsmount_result res;
	uint64_t tail, head, off, len;
	int state, fd;

	state = xfs_log_state(m->im.path, &tail, &head, why, sizeof(why));
	if (state == -2)
		errx(EXIT_FAIL, "%s", why);
	if (state == 0 || !m->g.logstart)
		return;
	if (o->no_log_replay) {
		snprintf(res.why, sizeof(res.why), "--no-log-replay");
	} else if (fsmount_cycle(m->im.path, "xfs", FSMOUNT_IMAGE, &res) == 0) {
		rmap_add_step(&m->rep, "log replay", "the copy's dirty log was replayed by a "
			      "mount (%s, in a private mount namespace) in %.1f s: the mapping is "
			      "the filesystem as it will be after its recovery", res.options,
			      (double)res.ns / 1e9);
		return;
	}
	off = xfs_fsb_to_byte(&m->g, m->g.logstart);
	len = m->g.logblocks * m->g.blocksize;
	fd = open(m->im.path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				(off_t)len) < 0)
		errx(EXIT_FAIL, "cannot zero the log of the temporary copy %s: %s", m->im.path,
		     strerror(errno));
	close(fd);
	rmap_add_step(&m->rep, "log replay", "not done (%s): the copy's log was zeroed "
		      "instead, so the mapping is the metadata as last written in place; what "
		      "only the log holds (recent files, extents) shows as free space", res.why);
}

/* ---- the mapping -------------------------------------------------------------- */

static void map_blocks(struct xmap *m)
{
	int rmapbt = strstr(m->g.versions, "RMAPBT") != NULL;
	uint64_t t0 = now_ns();

	if (rmapbt)
		map_fsmap(m);
	else
		map_blockget(m);
	rmap_add_step(&m->rep, "mapped by", "%s over %zu run%s of changed blocks%s in %.1f s%s",
		      rmapbt ? "xfs_db -r fsmap (the reverse-mapping btree: only the changed "
			       "runs are looked up)" :
			       "xfs_db -r blockget (no reverse-mapping btree, rmapbt=0: every "
			       "metadata block is read once), then blockuse",
		      m->nruns, m->nruns == 1 ? "" : "s",
		      m->whole_runs ? " (those in AGs xfs_db's fsmap cannot be pointed at: from "
				      "one fsmap of the whole filesystem)" : "",
		      (double)(now_ns() - t0) / 1e9,
		      m->remarks ? "; xfs_db also printed remarks (inconsistencies?)" : "");
}

int rmap_xfs(struct fsview *fv, const struct rmap_opts *o)
{
	struct xmap m = { 0 };
	char why[4400];

	rmap_report_init(&m.rep, fv, o, xfs_kinds, XK_COUNT);
	snprintf(m.rep.fstype, sizeof(m.rep.fstype), "%s", fv->type);
	m.rep.unowned_text = "in use, but of a kind xfs_db does not name (unknown)";
	rmap_copy_view(&m.rep, &m.im);
	if (xfsdb_geometry(m.im.path, &m.g, why, sizeof(why)) < 0)
		errx(EXIT_FAIL, "%s: %s", fv->store, why);
	m.rep.block_size = m.g.blocksize;
	m.rep.blocks = m.g.dblocks;
	settle_log(&m, o);
	rmap_each_exception(&m.rep, o, m.g.blocksize, m.g.dblocks, changed_blocks, &m);
	map_blocks(&m);
	name_owners(&m);
	owner_details(&m);
	fsimage_remove(&m.im);
	free(m.runs);
	m.rep.lost_unknown = m.rep.want_lost;
	return rmap_report_finish(&m.rep, o);
}
