/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_resurrect: bring an overflowed LVM snapshot or sparse volume back in
 * one command.  LVM is read and changed through liblvm2cmd, the live
 * device-mapper tables and status through libdevmapper, the COW header is
 * rewritten with libsnapcow (undo file first), e2fsck runs as a child.
 *
 * Order, each step leaving the volume no worse than found:
 *   classify -> check the COW table -> lvextend -> lvchange -an ->
 *   set the header valid on a temporary dm device over the COW's extents ->
 *   lvchange -ay -> confirm the status -> e2fsck -fy, e2fsck -fn -> report.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lvm2cmd.h>

#include "dmdev.h"
#include "target.h"
#include "tool.h"

#define MiB (1024ULL * 1024)
/* --auto: at least this much free room after next_free */
#define AUTO_MIN_HEADROOM (64 * MiB)

enum kind { K_UNKNOWN, K_SPARSE, K_CLASSIC, K_THIN };
static const char *const kind_names[] = { "unsupported", "sparse", "classic", "thin" };

struct opts {
	int dry_run, no_fsck, accept_drift, yes, json;
	int size_mode; /* 0 auto, 1 relative, 2 absolute */
	uint64_t size;
	char vg[128], lv[128];
};

/* One lvs row. */
struct lvrow {
	char name[128], vg[128], attr[16], origin[128], segtype[32], pool[128], health[64];
	uint64_t size, origin_size, chunk, extent, vg_free, meta_size;
	double data_pct, meta_pct;
};

/* ---- the report ------------------------------------------------------- */

static struct {
	const char *volume_kind;
	char actions[16][256];
	int nactions;
	uint64_t exceptions, loaded;
	int fsck_done, fsck1, fsck2;
	char undo_cmd[PATH_MAX * 2 + 64];
	char status[128];
	char result[512];
} rep;

static struct opts O;

static void action(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void action(const char *fmt, ...)
{
	va_list ap;

	if (rep.nactions >= 16)
		return;
	va_start(ap, fmt);
	vsnprintf(rep.actions[rep.nactions++], sizeof(rep.actions[0]), fmt, ap);
	va_end(ap);
	if (!O.json)
		printf("  done: %s\n", rep.actions[rep.nactions - 1]);
	fflush(stdout);
}

/* Progress and plan lines: stdout for humans, stderr under --format json. */
static void say(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void say(const char *fmt, ...)
{
	FILE *f = O.json ? stderr : stdout;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *fsck_meaning(int code)
{
	static char buf[160];

	if (code < 0)
		return "not run";
	if (code == 0)
		return "clean";
	buf[0] = '\0';
	if (code & 1)
		strcat(buf, "errors corrected, ");
	if (code & 2)
		strcat(buf, "reboot needed, ");
	if (code & 4)
		strcat(buf, "errors left uncorrected, ");
	if (code & 8)
		strcat(buf, "operational error, ");
	if (code & 16)
		strcat(buf, "usage error, ");
	if (code & 32)
		strcat(buf, "cancelled, ");
	if (code & 128)
		strcat(buf, "shared library error, ");
	buf[strlen(buf) - 2] = '\0';
	return buf;
}

/* Print the report and exit with @code. */
static void __attribute__((noreturn)) finish(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep.result, sizeof(rep.result), fmt, ap);
	va_end(ap);
	if (O.json) {
		printf("{\n  \"vg\": ");
		json_str(O.vg);
		printf(",\n  \"lv\": ");
		json_str(O.lv);
		printf(",\n  \"kind\": ");
		json_str(rep.volume_kind ? rep.volume_kind : "unknown");
		printf(",\n  \"dry_run\": %s,\n  \"actions\": [", O.dry_run ? "true" : "false");
		for (int i = 0; i < rep.nactions; i++) {
			printf("%s\n    ", i ? "," : "");
			json_str(rep.actions[i]);
		}
		printf("%s],\n  \"exceptions\": %llu,\n  \"exceptions_loaded\": %llu,\n",
		       rep.nactions ? "\n  " : "", (unsigned long long)rep.exceptions,
		       (unsigned long long)rep.loaded);
		printf("  \"status\": ");
		json_str(rep.status);
		printf(",\n  \"fsck\": ");
		if (rep.fsck_done)
			printf("[{\"args\": \"-fy\", \"exit\": %d, \"meaning\": \"%s\"}, ", rep.fsck1,
			       fsck_meaning(rep.fsck1));
		if (rep.fsck_done)
			printf("{\"args\": \"-fn\", \"exit\": %d, \"meaning\": \"%s\"}]", rep.fsck2,
			       fsck_meaning(rep.fsck2));
		else
			printf("null");
		printf(",\n  \"undo_command\": ");
		if (rep.undo_cmd[0])
			json_str(rep.undo_cmd);
		else
			printf("null");
		printf(",\n  \"result\": ");
		json_str(rep.result);
		printf(",\n  \"exit\": %d\n}\n", code);
	} else {
		if (rep.nactions || rep.fsck_done || rep.undo_cmd[0]) {
			printf("\nreport for %s/%s (%s volume):\n", O.vg, O.lv,
			       rep.volume_kind ? rep.volume_kind : "unknown");
			for (int i = 0; i < rep.nactions; i++)
				printf("  %d. %s\n", i + 1, rep.actions[i]);
			if (rep.exceptions)
				printf("  exceptions in the table: %llu; loaded by the kernel: %llu\n",
				       (unsigned long long)rep.exceptions,
				       (unsigned long long)rep.loaded);
			if (rep.status[0])
				printf("  status: %s\n", rep.status);
			if (rep.fsck_done)
				printf("  e2fsck -fy: exit %d (%s); e2fsck -fn: exit %d (%s)\n",
				       rep.fsck1, fsck_meaning(rep.fsck1), rep.fsck2,
				       fsck_meaning(rep.fsck2));
			if (rep.undo_cmd[0])
				printf("  to undo the header change (unmount first): %s\n",
				       rep.undo_cmd);
		}
		if (code)
			fprintf(stderr, "%s: %s\n", program_name, rep.result);
		else
			printf("%s\n", rep.result);
	}
	exit(code);
}

/* ---- liblvm2cmd ------------------------------------------------------- */

static void *lvm;
static char *cap_buf;
static size_t cap_size;
static FILE *cap;
static char lvm_errors[2048];

static void lvm_log(int level, const char *file, int line, int dm_errno, const char *message)
{
	(void)file;
	(void)line;
	(void)dm_errno;
	level &= 0xf;
	if (level == LVM2_LOG_PRINT && cap) {
		fprintf(cap, "%s\n", message);
		return;
	}
	if (level <= LVM2_LOG_ERROR) {
		size_t n = strlen(lvm_errors);

		snprintf(lvm_errors + n, sizeof(lvm_errors) - n, "%s%s", n ? "\n  " : "  ",
			 message);
		return;
	}
	if (level == LVM2_LOG_PRINT && !O.json)
		printf("    lvm: %s\n", message);
}

/* Run an LVM command; with @capture, its report lines are returned
 * (malloc'd) in *@capture.  Returns: 0 or the lvm2_run code. */
static int lvm_run(char **capture, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int lvm_run(char **capture, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	lvm_errors[0] = '\0';
	if (capture) {
		cap = open_memstream(&cap_buf, &cap_size);
		if (!cap)
			errx(EXIT_FAIL, "out of memory");
	}
	r = lvm2_run(lvm, cmd);
	if (capture) {
		fclose(cap);
		cap = NULL;
		*capture = cap_buf;
		cap_buf = NULL;
	}
	return r == LVM2_COMMAND_SUCCEEDED ? 0 : r;
}

static void trim(char *s)
{
	char *p = s;
	size_t n;

	while (isspace((unsigned char)*p))
		p++;
	memmove(s, p, strlen(p) + 1);
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static void copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
	trim(dst);
	/* hidden LVs are shown in brackets */
	if (dst[0] == '[' && dst[strlen(dst) - 1] == ']') {
		memmove(dst, dst + 1, strlen(dst));
		dst[strlen(dst) - 1] = '\0';
	}
}

#define LVS_FIELDS "lv_name,vg_name,lv_attr,lv_size,origin,origin_size,segtype,pool_lv," \
	"chunk_size,vg_extent_size,vg_free,lv_health_status,data_percent,metadata_percent," \
	"lv_metadata_size"

/* lvs one LV (hidden ones too).  Returns: 0, or -1 with the LVM errors. */
static int lvs(const char *vg, const char *lv, struct lvrow *row)
{
	char *out = NULL, *f[16], *q;
	int r, n = 0;

	r = lvm_run(&out, "lvs -a --noheadings --nosuffix --units b --separator | -o %s %s/%s",
		    LVS_FIELDS, vg, lv);
	if (r || !out || !*out) {
		free(out);
		return -1;
	}
	out[strcspn(out, "\n")] = '\0';
	/* split by hand: fields may be empty */
	for (q = out; n < 16;) {
		f[n++] = q;
		q = strchr(q, '|');
		if (!q)
			break;
		*q++ = '\0';
	}
	if (n != 15) {
		snprintf(lvm_errors, sizeof(lvm_errors), "  unexpected lvs output (%d fields)", n);
		free(out);
		return -1;
	}
	memset(row, 0, sizeof(*row));
	copy_field(row->name, sizeof(row->name), f[0]);
	copy_field(row->vg, sizeof(row->vg), f[1]);
	copy_field(row->attr, sizeof(row->attr), f[2]);
	row->size = strtoull(f[3], NULL, 10);
	copy_field(row->origin, sizeof(row->origin), f[4]);
	row->origin_size = strtoull(f[5], NULL, 10);
	copy_field(row->segtype, sizeof(row->segtype), f[6]);
	copy_field(row->pool, sizeof(row->pool), f[7]);
	row->chunk = strtoull(f[8], NULL, 10);
	row->extent = strtoull(f[9], NULL, 10);
	row->vg_free = strtoull(f[10], NULL, 10);
	copy_field(row->health, sizeof(row->health), f[11]);
	row->data_pct = strtod(f[12], NULL);
	row->meta_pct = strtod(f[13], NULL);
	row->meta_size = strtoull(f[14], NULL, 10);
	free(out);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static const char *sz(uint64_t bytes)
{
	static char bufs[4][32];
	static int i;

	i = (i + 1) % 4;
	return format_size(bytes, bufs[i], sizeof(bufs[i]));
}

static uint64_t round_up(uint64_t v, uint64_t unit)
{
	return unit ? (v + unit - 1) / unit * unit : v;
}

/* Ask, unless -y; without a terminal, -y is required. */
static void confirm(void)
{
	char line[16];

	if (O.yes)
		return;
	if (!isatty(STDIN_FILENO))
		finish(EXIT_FAIL, "not changing anything without confirmation: stdin is not a "
		       "terminal; review the plan (-n) and run again with -y");
	printf("Proceed? [y/N] ");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
		finish(EXIT_FAIL, "cancelled: nothing changed");
}

/* Run e2fsck with @flag on @dev; returns its exit code (or 8 if it could
 * not run).  Its output goes to our stdout (stderr under --format json). */
static int run_e2fsck(const char *flag, const char *dev)
{
	pid_t pid;
	int st;

	say("+ e2fsck %s %s", flag, dev);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 8;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, STDIN_FILENO);
		if (O.json)
			dup2(STDERR_FILENO, STDOUT_FILENO);
		setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
		execlp("e2fsck", "e2fsck", flag, dev, (char *)NULL);
		fprintf(stderr, "%s: cannot run e2fsck: %s\n", program_name, strerror(errno));
		_exit(8);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 8;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 8;
}

/* Does @dev hold ext2/3/4 (superblock magic 0xEF53 at byte 1080)? */
static int is_ext(const char *dev)
{
	unsigned char m[2];
	int fd = open(dev, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return 0;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (pread(fd, m, 2, 1080) == 2 && m[0] == 0x53 && m[1] == 0xef)
		r = 1;
	close(fd);
	return r;
}

static void fsck_volume(const char *dev)
{
	if (O.no_fsck) {
		say("not checking the filesystem (--no-fsck)");
		return;
	}
	if (!is_ext(dev)) {
		say("%s holds no ext2/3/4 filesystem (no magic at byte 1080): not checked; check "
		    "it with its own tool before mounting", dev);
		return;
	}
	rep.fsck1 = run_e2fsck("-fy", dev);
	rep.fsck2 = run_e2fsck("-fn", dev);
	rep.fsck_done = 1;
	action("e2fsck -fy %s: exit %d (%s); second pass e2fsck -fn: exit %d (%s)", dev,
	       rep.fsck1, fsck_meaning(rep.fsck1), rep.fsck2, fsck_meaning(rep.fsck2));
}

/* ---- sparse and classic snapshots ------------------------------------ */

struct snap {
	char dm[300], cow_dm[300], dev[320], cow_dev[320], temp_dm[320];
	char *cow_table;
	struct snapcow_identity cow_id;
	char undo[PATH_MAX];
	uint64_t cur, target, used, lvm_max, chunk;
	struct snapcow_stats stats;
	uint32_t header_valid;
};

/* Read and check the COW through the live -cow device. */
static void read_cow(struct snap *sn)
{
	struct snapcow_check_options copt = { .skip_data_scan = 1 };
	struct snapcow_check_result res;
	struct snapcow_store *s;
	int fd, r;

	fd = open(sn->cow_dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		finish(EXIT_FAIL, "cannot open %s: %s", sn->cow_dev, strerror(errno));
	/* the kernel writes the COW with dm-io, past our page cache */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	r = snapcow_store_open_fd(tool_ctx(), fd, sn->cow_dev, 0, &s);
	if (r < 0)
		finish(EXIT_FAIL, "%s: not a usable exception store: %s; nothing changed",
		       sn->cow_dev, snapcow_strerror(r));
	r = snapcow_store_check(s, &copt, NULL, NULL, &res);
	if (r < 0)
		finish(EXIT_FAIL, "%s: cannot check the exception table: %s; nothing changed",
		       sn->cow_dev, snapcow_strerror(r));
	if (res.errors)
		finish(EXIT_FAIL, "%s: the exception table has %llu error%s: not resurrecting it "
		       "(run 'snap_check %s' to see %s); nothing changed", sn->cow_dev,
		       (unsigned long long)res.errors, res.errors > 1 ? "s" : "", sn->cow_dev,
		       res.errors > 1 ? "them" : "it");
	sn->stats = res.stats;
	sn->chunk = snapcow_store_chunk_bytes(s);
	sn->cur = snapcow_store_size(s);
	sn->used = res.stats.next_free * sn->chunk;
	sn->header_valid = snapcow_store_header(s)->valid;
	rep.exceptions = res.stats.exceptions;
	r = store_identity(fd, &sn->cow_id);
	if (r < 0)
		finish(EXIT_FAIL, "%s: %s", sn->cow_dev, snapcow_strerror(r));
	snapcow_store_free(s);
	close(fd);
}

/* Open the COW's extents as a temporary device (the snapshot is inactive),
 * run @fn on it, remove it.  Returns @fn's result or a negative errno. */
static int with_temp_cow(struct snap *sn, int (*fn)(struct snap *, int fd, const char *path))
{
	char uuid[160], path[PATH_MAX];
	struct dmdev_info info;
	int fd, r, r2;

	if (dmdev_get_info(sn->temp_dm, &info) == 0 && info.exists) {
		warnx("a device %s exists already (left by an interrupted run?): remove it with "
		      "'dmsetup remove %s' after checking nothing uses it", sn->temp_dm, sn->temp_dm);
		return -EEXIST;
	}
	snprintf(uuid, sizeof(uuid), "%s%s", TEMP_UUID_PREFIX, sn->cow_id.dm_uuid);
	r = dmdev_create(sn->temp_dm, sn->cow_id.dm_uuid[0] ? uuid : NULL, sn->cow_table, path,
			 sizeof(path));
	if (r < 0) {
		warnx("cannot create the temporary device %s: %s%s%s", sn->temp_dm, strerror(-r),
		      dmdev_last_error()[0] ? ": " : "", dmdev_last_error());
		return r;
	}
	fd = open(path, O_RDWR | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		warnx("cannot open %s: %s", path, strerror(-r));
	} else {
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		r = fn(sn, fd, path);
		close(fd);
	}
	r2 = dmdev_remove(sn->temp_dm);
	if (r2 < 0)
		warnx("cannot remove the temporary device %s: run 'dmsetup remove %s'",
		      sn->temp_dm, sn->temp_dm);
	return r;
}

static int set_valid_fn(struct snap *sn, int fd, const char *path)
{
	struct snapcow_rewrite_options ro = { .undo_path = sn->undo, .program = program_name,
					      .step_fn = fault_step };
	struct snapcow_identity id;
	struct snapcow_store *s;
	int r;

	r = store_identity(fd, &id);
	if (r < 0)
		return r;
	ro.identity = &id;
	r = snapcow_store_open_fd(tool_ctx(), fd, path, SNAPCOW_OPEN_RDWR, &s);
	if (r < 0)
		return r;
	/* the same store we checked while it was active */
	if (snapcow_store_size(s) != sn->cow_id.size ||
	    snapcow_store_chunk_bytes(s) != sn->chunk || snapcow_store_header(s)->valid) {
		warnx("%s: the header or size changed since it was checked: not writing", path);
		snapcow_store_free(s);
		return -ESTALE;
	}
	r = snapcow_store_set_valid(s, 1, &ro);
	snapcow_store_free(s);
	return r;
}

static int undo_fn(struct snap *sn, int fd, const char *path)
{
	struct snapcow_identity id;
	struct snapcow_undo *u;
	int r;

	(void)path;
	r = store_identity(fd, &id);
	if (r < 0)
		return r;
	r = snapcow_undo_open(tool_ctx(), sn->undo, &u);
	if (r < 0)
		return r;
	r = snapcow_undo_apply(u, fd, &id, 0);
	snapcow_undo_free(u);
	return r;
}

/* After a failure with the header already valid: put the old header back
 * and the volume in the state it was found in. */
static void __attribute__((noreturn)) roll_back(struct snap *sn, const char *why)
{
	int r;

	say("%s: restoring the old header from %s", why, sn->undo);
	lvm_run(NULL, "lvchange -an %s/%s", O.vg, O.lv);
	r = with_temp_cow(sn, undo_fn);
	if (r < 0)
		finish(EXIT_FAIL, "%s; restoring the old header failed too (%s): with %s/%s "
		       "inactive, run: %s", why, snapcow_strerror(r), O.vg, O.lv, rep.undo_cmd);
	action("restored the old COW header from %s", sn->undo);
	if (lvm_run(NULL, "lvchange -ay %s/%s", O.vg, O.lv) == 0)
		action("lvchange -ay %s/%s (as found: invalid)", O.vg, O.lv);
	rep.undo_cmd[0] = '\0';
	finish(EXIT_FAIL, "%s; the header change was undone and the volume is as found (but "
	       "with the larger COW)", why);
}

static void resurrect_snapshot(struct lvrow *row, enum kind k)
{
	struct dmdev_snapshot_status ss;
	struct dmdev_info info;
	struct snap sn = { 0 };
	uint64_t origin_chunks, per_area, free_after;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	dmdev_lv_name(O.vg, O.lv, "", sn.dm, sizeof(sn.dm));
	dmdev_lv_name(O.vg, O.lv, "-cow", sn.cow_dm, sizeof(sn.cow_dm));
	snprintf(sn.dev, sizeof(sn.dev), "/dev/mapper/%s", sn.dm);
	snprintf(sn.cow_dev, sizeof(sn.cow_dev), "/dev/mapper/%s", sn.cow_dm);
	snprintf(sn.temp_dm, sizeof(sn.temp_dm), "snaprescue-%s", sn.cow_dm);

	if (k == K_SPARSE)
		say("%s/%s: sparse volume (--virtualsize: its origin %s is the zero target): "
		    "everything committed to the COW is recoverable", O.vg, O.lv, row->origin);
	else
		say("%s/%s: snapshot of %s/%s (a real origin)", O.vg, O.lv, O.vg, row->origin);

	if (dmdev_get_info(sn.dm, &info) < 0 || !info.exists) {
		if (O.dry_run)
			finish(EXIT_FAIL, "%s/%s is not active: its COW cannot be read without "
			       "activating it (lvchange -ay %s/%s); nothing changed", O.vg, O.lv,
			       O.vg, O.lv);
		confirm();
		if (lvm_run(NULL, "lvchange -ay %s/%s", O.vg, O.lv))
			finish(EXIT_FAIL, "cannot activate %s/%s to read its COW:\n%s", O.vg, O.lv,
			       lvm_errors);
		action("lvchange -ay %s/%s (to read the COW)", O.vg, O.lv);
		dmdev_get_info(sn.dm, &info);
	}
	r = dmdev_snapshot_status(sn.dm, &ss);
	if (r < 0)
		finish(EXIT_FAIL, "%s: cannot read the snapshot status: %s", sn.dm, strerror(-r));
	if (!ss.invalid && !ss.overflow && !ss.merge_failed) {
		snprintf(rep.status, sizeof(rep.status), "%llu/%llu %llu",
			 (unsigned long long)ss.used_sectors, (unsigned long long)ss.total_sectors,
			 (unsigned long long)ss.metadata_sectors);
		finish(EXIT_OK, "%s/%s is a valid snapshot (status %s): nothing to do", O.vg, O.lv,
		       rep.status);
	}
	if (ss.merge_failed)
		finish(EXIT_UNSUPPORTED, "%s/%s: merge failed: not something this tool repairs "
		       "(see lvconvert(8) --merge); nothing changed", O.vg, O.lv);
	snprintf(rep.status, sizeof(rep.status), "%s", ss.overflow ? "Overflow" : "Invalid");
	say("%s: kernel status %s", sn.dm, rep.status);
	if (info.open_count > 0)
		finish(EXIT_FAIL, "%s is open (%d): unmount it and stop what uses it first; "
		       "nothing changed", sn.dev, info.open_count);

	if (k == K_CLASSIC) {
		say("warning: after the overflow, writes to the origin %s/%s were no longer "
		    "copied to the COW: every chunk not in the exception table is read from the "
		    "origin as it is NOW, possibly newer than the snapshot.  The result mixes "
		    "the snapshot's time and today's origin.", O.vg, row->origin);
		if (!O.accept_drift)
			finish(EXIT_FAIL, "refusing a snapshot of a real origin without "
			       "--accept-origin-drift (to get the committed chunks out without "
			       "changing anything, use snap_extract on %s); nothing changed",
			       sn.cow_dev);
		say("--accept-origin-drift given: going on");
	}

	read_cow(&sn);
	say("%s: %s, chunk %s, %llu exceptions in %llu metadata area%s, next free chunk %llu "
	    "(%s used), header valid flag %u, no table errors", sn.cow_dev, sz(sn.cur),
	    sz(sn.chunk), (unsigned long long)sn.stats.exceptions,
	    (unsigned long long)sn.stats.areas, sn.stats.areas == 1 ? "" : "s",
	    (unsigned long long)sn.stats.next_free, sz(sn.used), sn.header_valid);

	/* LVM caps a COW at what holds the whole origin: 1 + origin chunks + areas */
	origin_chunks = (row->origin_size + sn.chunk - 1) / sn.chunk;
	per_area = sn.chunk / SNAPCOW_RECORD_SIZE;
	sn.lvm_max = round_up((1 + origin_chunks + (origin_chunks + per_area - 1) / per_area) *
			      sn.chunk, row->extent);
	if (O.size_mode == 1)
		sn.target = sn.cur + O.size;
	else if (O.size_mode == 2)
		sn.target = O.size;
	else
		sn.target = sn.cur * 2 > sn.used + AUTO_MIN_HEADROOM ? sn.cur * 2 :
								       sn.used + AUTO_MIN_HEADROOM;
	sn.target = round_up(sn.target, row->extent);
	if (sn.target > sn.lvm_max) {
		say("%s is more than LVM allows for this origin (%s): using %s", sz(sn.target),
		    sz(sn.lvm_max), sz(sn.lvm_max));
		sn.target = sn.lvm_max;
	}
	if (O.size_mode && sn.target < sn.cur)
		finish(EXIT_FAIL, "--size: %s is smaller than the COW (%s): it cannot shrink",
		       sz(sn.target), sz(sn.cur));
	if (sn.target < sn.cur)
		sn.target = sn.cur;
	free_after = sn.target > sn.used ? sn.target - sn.used : 0;
	if (free_after < 2 * sn.chunk)
		finish(EXIT_FAIL, "a COW of %s leaves no room after the %s in use: the snapshot "
		       "would overflow again at the first write; give a larger --size; nothing "
		       "changed", sz(sn.target), sz(sn.used));
	if (sn.target > sn.cur && sn.target - sn.cur > row->vg_free)
		finish(EXIT_FAIL, "volume group %s has %s free, %s needed to grow the COW to %s: "
		       "add space (vgextend) or choose a smaller --size; nothing changed", O.vg,
		       sz(row->vg_free), sz(sn.target - sn.cur), sz(sn.target));

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(sn.undo, sizeof(sn.undo), "snap_resurrect-%s-%s-%s.undo", O.vg, O.lv, stamp);
	if (!access(sn.undo, F_OK))
		finish(EXIT_FAIL, "undo file %s exists: run again in a second", sn.undo);

	say("plan:");
	if (sn.target > sn.cur)
		say("  1. lvextend -L %llub %s/%s    (COW %s -> %s, %s free after; LVM maximum %s)",
		    (unsigned long long)sn.target, O.vg, O.lv, sz(sn.cur), sz(sn.target),
		    sz(free_after), sz(sn.lvm_max));
	else
		say("  1. keep the COW at %s (%s free after the table)", sz(sn.cur),
		    sz(free_after));
	say("  2. lvchange -an %s/%s", O.vg, O.lv);
	if (sn.header_valid)
		say("  3. (the header is already marked valid: no write)");
	else
		say("  3. mark the COW header valid (4 bytes at offset 4), old header chunk saved "
		    "to ./%s", sn.undo);
	say("  4. lvchange -ay %s/%s and check that the kernel loaded the %llu exceptions", O.vg,
	    O.lv, (unsigned long long)sn.stats.exceptions);
	say("  5. %s", O.no_fsck ? "no filesystem check (--no-fsck)" :
				   "if it holds ext2/3/4: e2fsck -fy, then e2fsck -fn");
	if (O.dry_run)
		finish(EXIT_OK, "dry run: nothing changed");
	confirm();

	if (sn.target > sn.cur) {
		if (lvm_run(NULL, "lvextend -L %llub %s/%s", (unsigned long long)sn.target, O.vg,
			    O.lv))
			finish(EXIT_FAIL, "lvextend failed, nothing changed:\n%s", lvm_errors);
		action("lvextend -L %llub %s/%s (COW %s -> %s)", (unsigned long long)sn.target,
		       O.vg, O.lv, sz(sn.cur), sz(sn.target));
	}
	/* the COW as it is now, for the temporary device */
	read_cow(&sn);
	r = dmdev_get_lines(sn.cow_dm, 0, &sn.cow_table);
	if (r < 0)
		finish(EXIT_FAIL, "cannot read the table of %s: %s; the COW was extended, nothing "
		       "else changed", sn.cow_dm, strerror(-r));
	if (lvm_run(NULL, "lvchange -an %s/%s", O.vg, O.lv))
		finish(EXIT_FAIL, "cannot deactivate %s/%s:\n%s\nthe COW was extended, nothing "
		       "else changed", O.vg, O.lv, lvm_errors);
	action("lvchange -an %s/%s", O.vg, O.lv);

	if (!sn.header_valid) {
		char *abs;

		r = with_temp_cow(&sn, set_valid_fn);
		abs = realpath(sn.undo, NULL);
		if (abs) {
			snprintf(sn.undo, sizeof(sn.undo), "%s", abs);
			snprintf(rep.undo_cmd, sizeof(rep.undo_cmd),
				 "snap_setvalid --force --undo-apply '%s' %s && lvchange -an "
				 "%s/%s && lvchange -ay %s/%s", abs, sn.cow_dev, O.vg, O.lv, O.vg,
				 O.lv);
			free(abs);
		}
		if (r < 0 && rep.undo_cmd[0])
			roll_back(&sn, "marking the header valid failed");
		if (r < 0) {
			lvm_run(NULL, "lvchange -ay %s/%s", O.vg, O.lv);
			finish(EXIT_FAIL, "marking the header valid failed (%s); nothing was "
			       "written; %s/%s was activated again as found", snapcow_strerror(r),
			       O.vg, O.lv);
		}
		action("marked the COW header valid; old header chunk saved in %s", sn.undo);
	}

	if (lvm_run(NULL, "lvchange -ay %s/%s", O.vg, O.lv)) {
		say("activation failed:\n%s", lvm_errors);
		if (rep.undo_cmd[0])
			roll_back(&sn, "activation failed");
		finish(EXIT_FAIL, "activation failed; try 'lvchange -ay %s/%s'", O.vg, O.lv);
	}
	action("lvchange -ay %s/%s", O.vg, O.lv);
	r = dmdev_snapshot_status(sn.dm, &ss);
	if (r < 0 || ss.invalid || ss.overflow) {
		if (rep.undo_cmd[0])
			roll_back(&sn, r < 0 ? "cannot read the snapshot status after activation" :
					       "the kernel still reports the snapshot Invalid");
		finish(EXIT_FAIL, "the kernel still reports %s/%s invalid", O.vg, O.lv);
	}
	snprintf(rep.status, sizeof(rep.status), "%llu/%llu %llu",
		 (unsigned long long)ss.used_sectors, (unsigned long long)ss.total_sectors,
		 (unsigned long long)ss.metadata_sectors);
	rep.loaded = (ss.used_sectors - ss.metadata_sectors) / (sn.chunk / SNAPCOW_SECTOR_SIZE);
	action("kernel status %s: valid, %llu exceptions loaded", rep.status,
	       (unsigned long long)rep.loaded);
	if (rep.loaded != sn.stats.exceptions)
		say("warning: the table holds %llu exceptions but the kernel reports %llu",
		    (unsigned long long)sn.stats.exceptions, (unsigned long long)rep.loaded);
	fsck_volume(sn.dev);
	if (rep.fsck_done && rep.fsck2 != 0)
		finish(EXIT_FAIL, "%s/%s is valid again but the second e2fsck pass still finds "
		       "problems (exit %d): check it by hand before mounting", O.vg, O.lv,
		       rep.fsck2);
	if (k == K_SPARSE)
		finish(EXIT_OK, "%s/%s is valid again; everything the kernel committed before the "
		       "overflow is back (writes that failed at the overflow are lost)", O.vg, O.lv);
	finish(EXIT_OK, "%s/%s is valid again; chunks outside its table come from the origin "
	       "as it is now", O.vg, O.lv);
}

/* ---- thin volumes ----------------------------------------------------- */

static void resurrect_thin(struct lvrow *row)
{
	struct dmdev_pool_status ps;
	struct lvrow pool;
	char pool_dm[300], dev[320], name[300];
	int r, data_full, meta_full, ro;
	uint64_t data_add = 0, meta_add = 0;

	if (lvs(O.vg, row->pool, &pool))
		finish(EXIT_FAIL, "cannot read thin pool %s/%s:\n%s", O.vg, row->pool, lvm_errors);
	dmdev_lv_name(O.vg, row->pool, "-tpool", pool_dm, sizeof(pool_dm));
	dmdev_lv_name(O.vg, O.lv, "", name, sizeof(name));
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", name);
	r = dmdev_pool_status(pool_dm, &ps);
	if (r < 0)
		finish(EXIT_FAIL, "%s: cannot read the thin-pool status (is the pool active?): %s",
		       pool_dm, strerror(-r));
	data_full = ps.out_of_data_space || pool.data_pct >= 100.0 ||
		    (ps.total_data && ps.used_data >= ps.total_data);
	meta_full = pool.meta_pct >= 100.0 || (ps.total_meta && ps.used_meta >= ps.total_meta);
	ro = ps.read_only || ps.fail || ps.error;
	say("%s/%s: thin volume in pool %s/%s: data %llu/%llu blocks%s, metadata %llu/%llu "
	    "blocks%s, mode %s%s", O.vg, O.lv, O.vg, row->pool,
	    (unsigned long long)ps.used_data, (unsigned long long)ps.total_data,
	    data_full ? " (full)" : "", (unsigned long long)ps.used_meta,
	    (unsigned long long)ps.total_meta, meta_full ? " (full)" : "",
	    ps.fail ? "failed" : ps.read_only ? "read-only" :
	    ps.out_of_data_space ? "out-of-data-space" : "read-write",
	    ps.needs_check ? ", needs_check" : "");
	snprintf(rep.status, sizeof(rep.status), "pool %s", ps.fail ? "failed" :
		 ps.read_only ? "read-only" : ps.out_of_data_space ? "out-of-data-space" :
		 "read-write");
	if (!data_full && !meta_full && !ro)
		finish(EXIT_OK, "the pool of %s/%s has room and is writable: nothing to do", O.vg,
		       O.lv);
	if (data_full || (!meta_full && ro))
		data_add = O.size_mode == 1 ? O.size :
			   round_up(pool.size > 64 * MiB ? pool.size : 64 * MiB, pool.extent);
	if (meta_full)
		meta_add = round_up(pool.meta_size > 4 * MiB ? pool.meta_size : 4 * MiB,
				    pool.extent);
	if (data_add + meta_add > pool.vg_free)
		finish(EXIT_FAIL, "volume group %s has %s free, %s needed: add space (vgextend) "
		       "first; nothing changed", O.vg, sz(pool.vg_free), sz(data_add + meta_add));
	say("plan:");
	if (data_add)
		say("  - lvextend -L +%llub %s/%s (pool data %s -> %s)",
		    (unsigned long long)data_add, O.vg, row->pool, sz(pool.size),
		    sz(pool.size + data_add));
	if (meta_add)
		say("  - lvextend --poolmetadatasize +%llub %s/%s", (unsigned long long)meta_add,
		    O.vg, row->pool);
	say("  - if the pool stays read-only or failed: deactivate %s/%s and the pool, "
	    "activate again (LVM runs thin_check when configured)", O.vg, O.lv);
	say("  - %s", O.no_fsck ? "no filesystem check (--no-fsck)" :
				  "if it holds ext2/3/4: e2fsck -fy, then e2fsck -fn");
	if (O.dry_run)
		finish(EXIT_OK, "dry run: nothing changed");
	confirm();
	if (data_add) {
		if (lvm_run(NULL, "lvextend -L +%llub %s/%s", (unsigned long long)data_add, O.vg,
			    row->pool))
			finish(EXIT_FAIL, "lvextend of the pool failed, nothing changed:\n%s",
			       lvm_errors);
		action("lvextend -L +%llub %s/%s", (unsigned long long)data_add, O.vg, row->pool);
	}
	if (meta_add) {
		if (lvm_run(NULL, "lvextend --poolmetadatasize +%llub %s/%s",
			    (unsigned long long)meta_add, O.vg, row->pool))
			finish(EXIT_FAIL, "extending the pool metadata failed:\n%s", lvm_errors);
		action("lvextend --poolmetadatasize +%llub %s/%s", (unsigned long long)meta_add,
		       O.vg, row->pool);
	}
	r = dmdev_pool_status(pool_dm, &ps);
	if (r < 0 || ps.read_only || ps.fail || ps.out_of_data_space) {
		say("the pool is still %s: reactivating", r < 0 ? "unreadable" :
		    ps.fail ? "failed" : ps.read_only ? "read-only" : "out of data space");
		if (lvm_run(NULL, "lvchange -an %s/%s", O.vg, O.lv) ||
		    lvm_run(NULL, "lvchange -an %s/%s", O.vg, row->pool))
			finish(EXIT_FAIL, "cannot deactivate %s/%s and its pool (in use?):\n%s",
			       O.vg, O.lv, lvm_errors);
		action("lvchange -an %s/%s and %s/%s", O.vg, O.lv, O.vg, row->pool);
		if (lvm_run(NULL, "lvchange -ay %s/%s", O.vg, O.lv))
			finish(EXIT_FAIL, "activation failed:\n%s\nif LVM asks for a metadata "
			       "repair: lvconvert --repair %s/%s", lvm_errors, O.vg, row->pool);
		action("lvchange -ay %s/%s", O.vg, O.lv);
		r = dmdev_pool_status(pool_dm, &ps);
		if (r < 0 || ps.read_only || ps.fail || ps.out_of_data_space)
			finish(EXIT_FAIL, "the pool is still not writable after reactivation; see "
			       "lvmthin(7), 'lvconvert --repair %s/%s'", O.vg, row->pool);
	}
	snprintf(rep.status, sizeof(rep.status), "pool read-write, data %llu/%llu, metadata "
		 "%llu/%llu", (unsigned long long)ps.used_data, (unsigned long long)ps.total_data,
		 (unsigned long long)ps.used_meta, (unsigned long long)ps.total_meta);
	action("pool status: %s", rep.status);
	fsck_volume(dev);
	if (rep.fsck_done && rep.fsck2 != 0)
		finish(EXIT_FAIL, "the pool is writable but the second e2fsck pass still finds "
		       "problems (exit %d): check it by hand before mounting", rep.fsck2);
	finish(EXIT_OK, "%s/%s is writable again", O.vg, O.lv);
}

/* ---- main ------------------------------------------------------------- */

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options] VG/LV\n"
	       "\n"
	       "Bring an overflowed LVM snapshot or sparse (--virtualsize) volume, or a thin\n"
	       "volume whose pool ran out of space, back to a valid, checked state.\n"
	       "\n"
	       "Options:\n"
	       " -n, --dry-run              print the plan, change nothing\n"
	       "     --size +N|N            grow the COW (or pool data) by N, or to N\n"
	       "     --auto                 choose the size (default)\n"
	       "     --no-fsck              do not run e2fsck afterwards\n"
	       "     --accept-origin-drift  resurrect a snapshot of a real origin anyway\n"
	       " -f, --format human|json    report format (default human)\n"
	       " -y, --yes                  do not ask for confirmation\n"
	       " -h, --help                 display this help\n"
	       " -V, --version              display version\n"
	       "\n"
	       "Exit status: 0 done or nothing to do, 1 failure or refused, 2 unsupported.\n",
	       program_name);
	exit(EXIT_OK);
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) >= 128 || s[0] == '-')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("+_.-", *s))
			return 0;
	return 1;
}

static void parse_volume(const char *arg)
{
	const char *p = arg, *slash;

	if (!strncmp(p, "/dev/", 5))
		p += 5;
	slash = strchr(p, '/');
	if (slash && (size_t)(slash - p) < sizeof(O.vg)) {
		memcpy(O.vg, p, (size_t)(slash - p));
		O.vg[slash - p] = '\0';
		snprintf(O.lv, sizeof(O.lv), "%s", slash + 1);
	}
	if (!slash || !valid_name(O.vg) || !valid_name(O.lv)) {
		warnx("%s: not a logical volume name: expected VG/LV (or /dev/VG/LV)", arg);
		try_help(EXIT_FAIL);
	}
}

int main(int argc, char **argv)
{
	enum { OPT_SIZE = 256, OPT_AUTO, OPT_NO_FSCK, OPT_DRIFT };
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "auto", no_argument, NULL, OPT_AUTO },
		{ "no-fsck", no_argument, NULL, OPT_NO_FSCK },
		{ "accept-origin-drift", no_argument, NULL, OPT_DRIFT },
		{ "format", required_argument, NULL, 'f' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "human", "json", NULL };
	char why[256];
	struct lvrow row, orow;
	enum kind k = K_UNKNOWN;
	int c, f;

	tool_init(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0); /* keep order with stderr */
	while ((c = getopt_long(argc, argv, "nf:yhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			O.dry_run = 1;
			break;
		case OPT_SIZE:
			O.size_mode = optarg[0] == '+' ? 1 : 2;
			if (parse_size(optarg + (optarg[0] == '+'), &O.size) < 0 || !O.size) {
				warnx("invalid --size '%s': expected +N or N, e.g. +64M or 1G", optarg);
				try_help(EXIT_FAIL);
			}
			break;
		case OPT_AUTO:
			O.size_mode = 0;
			break;
		case OPT_NO_FSCK:
			O.no_fsck = 1;
			break;
		case OPT_DRIFT:
			O.accept_drift = 1;
			break;
		case 'f':
			f = parse_format(optarg, formats, EXIT_FAIL);
			O.json = f == 1;
			break;
		case 'y':
			O.yes = 1;
			break;
		case 'h':
			usage();
		case 'V':
			print_version_and_exit();
		default:
			try_help(EXIT_FAIL);
		}
	}
	parse_volume(one_operand(argc, argv, optind, "volume (VG/LV)", EXIT_FAIL));

	dmdev_init(access("/run/udev/control", F_OK) != 0);
	if (dmdev_available(why, sizeof(why)) < 0)
		errx(EXIT_FAIL, "device-mapper is not available: %s", why);
	lvm2_log_fn(lvm_log);
	lvm = lvm2_init();
	if (!lvm)
		errx(EXIT_FAIL, "cannot initialise liblvm2cmd (are you root?)");
	lvm2_disable_dmeventd_monitoring(lvm);
	dmdev_init(access("/run/udev/control", F_OK) != 0);

	if (lvs(O.vg, O.lv, &row))
		finish(EXIT_FAIL, "cannot find %s/%s:\n%s", O.vg, O.lv,
		       lvm_errors[0] ? lvm_errors : "  (no such logical volume)");
	if (row.attr[0] == 's' || row.attr[0] == 'S') { /* (s)napshot; segtype is the COW's */
		if (lvs(O.vg, row.origin, &orow))
			finish(EXIT_FAIL, "cannot read the origin %s/%s:\n%s", O.vg, row.origin,
			       lvm_errors);
		k = !strcmp(orow.segtype, "zero") ? K_SPARSE : K_CLASSIC;
	} else if ((row.attr[0] == 'V' || !strcmp(row.segtype, "thin")) && row.pool[0]) {
		k = K_THIN;
	}
	rep.volume_kind = kind_names[k];
	switch (k) {
	case K_SPARSE:
	case K_CLASSIC:
		resurrect_snapshot(&row, k);
		break;
	case K_THIN:
		resurrect_thin(&row);
		break;
	default:
		break;
	}
	finish(EXIT_UNSUPPORTED, "%s/%s is a '%s' volume (attributes %s): neither a snapshot, "
	       "a sparse volume nor a thin volume; this tool only brings those back; nothing "
	       "changed", O.vg, O.lv, row.segtype, row.attr);
}
