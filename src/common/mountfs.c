/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Snapshot views as read-only files of a FUSE filesystem (see mountfs.h).
 *
 * Every request is served from the libsnapcow view or byte source the
 * file was made of: reads with snapcow_view_pread() (thread safe: pread()s
 * on descriptors the view never moves), SEEK_DATA/SEEK_HOLE from the
 * view's extents (the zero target and unmapped ranges are holes, and so
 * are the origin's own holes), st_blocks from the same walk so that cp,
 * tar and backup tools see a sparse file.  Nothing is ever written: the
 * mount is "ro", and every operation that would change something answers
 * EROFS.
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fsckrun.h"
#include "mountfs.h"
#include "tool.h"

static int logging_to_syslog;
static time_t mounted_at;

int mount_set_add(struct mount_set *set, const char *name, struct viewset *vs,
		  const struct snapcow_dev *dev)
{
	struct mount_file *f;

	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->f[i].name, name))
			return -EEXIST;
	f = realloc(set->f, (set->n + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	set->f = f;
	f += set->n++;
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->vs = vs;
	f->dev = vs ? NULL : dev;
	f->size = vs ? vs->size : snapcow_dev_size(dev);
	return 0;
}

void mount_set_close(struct mount_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->f[i].vs) {
			viewset_close(set->f[i].vs);
			free(set->f[i].vs);
		}
	free(set->f);
	set->f = NULL;
	set->n = 0;
}

/* ---- Data and holes ----------------------------------------------------- */

/* What byte @off of a byte source is: 1 data up to *@end, 0 a hole up to
 * *@end, <0 an error. */
static int dev_run(const struct snapcow_dev *d, uint64_t off, uint64_t limit, uint64_t *end)
{
	uint64_t data, hole;
	int r = snapcow_dev_next_data(d, off, &data, &hole);

	if (r < 0)
		return r;
	if (r == 1 || data >= limit) {
		*end = limit;
		return 0;
	}
	if (data > off) {
		*end = data;
		return 0;
	}
	*end = hole < limit ? hole : limit;
	return 1;
}

/* The same for byte @off of file @f. */
static int file_run(const struct mount_file *f, uint64_t off, uint64_t *end)
{
	struct snapcow_extent e;
	const struct snapcow_dev *origin;
	uint64_t oend;
	int r;

	if (!f->vs)
		return dev_run(f->dev, off, f->size, end);
	r = snapcow_view_extent(f->vs->view, off, &e);
	if (r)
		return r > 0 ? -ENXIO : r;
	*end = e.offset + e.length;
	if (e.source == SNAPCOW_SRC_COW)
		return 1;
	origin = snapcow_view_origin(f->vs->view);
	if (e.source == SNAPCOW_SRC_ZERO || !origin)
		return 0;
	r = dev_run(origin, e.source_offset, e.source_offset + e.length, &oend);
	if (r >= 0)
		*end = off + (oend - e.source_offset);
	return r;
}

/* The first offset at or after @off that is data (@want 1) or a hole
 * (@want 0); the end of the file counts as a hole.  Returns it, or -ENXIO
 * (no data left), or -errno. */
static int64_t seek_run(const struct mount_file *f, uint64_t off, int want)
{
	uint64_t end;
	int r;

	while (off < f->size) {
		r = file_run(f, off, &end);
		if (r < 0)
			return r;
		if (r == want)
			return (int64_t)off;
		if (end <= off)
			return -EIO;
		off = end;
	}
	return want ? -ENXIO : (int64_t)f->size;
}

/* The bytes of @f that are data (st_blocks). */
static int count_data(struct mount_file *f)
{
	int64_t d, h = 0;

	f->data_bytes = 0;
	for (;;) {
		d = seek_run(f, (uint64_t)h, 1);
		if (d == -ENXIO)
			return 0;
		if (d < 0)
			return (int)d;
		h = seek_run(f, (uint64_t)d, 0);
		if (h < 0)
			return (int)h;
		f->data_bytes += (uint64_t)(h - d);
	}
}

/* ---- The filesystem ----------------------------------------------------- */

static struct mount_set *the_set(void)
{
	return fuse_get_context()->private_data;
}

static struct mount_file *lookup(const char *path)
{
	struct mount_set *set = the_set();

	if (path[0] != '/')
		return NULL;
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->f[i].name, path + 1))
			return &set->f[i];
	return NULL;
}

static void *mfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->kernel_cache = 1;  /* the bytes never change under a view */
	cfg->use_ino = 0;
	cfg->nullpath_ok = 0; /* every call gets its path */
	return fuse_get_context()->private_data;
}

static int mfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	const struct mount_file *f;

	(void)fi;
	memset(st, 0, sizeof(*st));
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_mtime = st->st_ctime = st->st_atime = mounted_at;
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		return 0;
	}
	f = lookup(path);
	if (!f)
		return -ENOENT;
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = (off_t)f->size;
	st->st_blocks = (blkcnt_t)((f->data_bytes + 511) / 512);
	st->st_blksize = 1 << 20;
	return 0;
}

static int mfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct mount_set *set = the_set();

	(void)off, (void)fi, (void)flags;
	if (strcmp(path, "/"))
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	for (size_t i = 0; i < set->n; i++)
		fill(buf, set->f[i].name, NULL, 0, 0);
	return 0;
}

static int mfs_open(const char *path, struct fuse_file_info *fi)
{
	struct mount_file *f = lookup(path);

	if (!f)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
		return -EROFS;
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->keep_cache = 1;
	return 0;
}

static struct mount_file *file_of(const char *path, struct fuse_file_info *fi)
{
	return fi && fi->fh ? (struct mount_file *)(uintptr_t)fi->fh : lookup(path);
}

/* A read error is logged once a file, with the file's offset and the
 * library's own words (which source, at which of its offsets); the read
 * gets EIO.  The library logs from inside snapcow_view_pread(), on the
 * thread serving the read: that thread's request says which file. */
struct reading {
	struct mount_file *f;
	uint64_t off;
};
static __thread struct reading reading;

static void emit(const char *name, uint64_t off, const char *msg)
{
	if (logging_to_syslog)
		syslog(LOG_ERR, "%s: reading byte offset %" PRIu64 ": %s (further errors on this "
		       "file are not logged)", name, off, msg);
	else
		warnx("%s: reading byte offset %" PRIu64 ": %s (further errors on this file are "
		      "not logged)", name, off, msg);
}

static void serving_log(void *data, int priority, const char *msg)
{
	struct mount_file *f = reading.f;

	(void)data;
	if (!f) {
		if (logging_to_syslog)
			syslog(priority, "%s", msg);
		else
			warnx("%s%s", priority == LOG_WARNING ? "warning: " : "", msg);
		return;
	}
	if (priority <= LOG_ERR && !__atomic_exchange_n(&f->failed, 1, __ATOMIC_RELAXED))
		emit(f->name, reading.off, msg);
}

static void read_failed(struct mount_file *f, uint64_t off, int err)
{
	/* unless the library said why already */
	if (!__atomic_exchange_n(&f->failed, 1, __ATOMIC_RELAXED))
		emit(f->name, off, strerror(-err));
}

static int mfs_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	struct mount_file *f = file_of(path, fi);
	ssize_t n;
	int r;

	if (!f)
		return -ENOENT;
	if (off < 0 || (uint64_t)off >= f->size)
		return 0;
	if (len > f->size - (uint64_t)off)
		len = (size_t)(f->size - (uint64_t)off);
	reading = (struct reading){ f, (uint64_t)off };
	if (f->vs) {
		n = snapcow_view_pread(f->vs->view, buf, len, (uint64_t)off);
	} else {
		r = snapcow_dev_pread(f->dev, buf, len, (uint64_t)off);
		n = r < 0 ? r : (ssize_t)len;
	}
	reading.f = NULL;
	if (n < 0) {
		read_failed(f, (uint64_t)off, (int)n);
		return -EIO;
	}
	return (int)n;
}

static off_t mfs_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi)
{
	struct mount_file *f = file_of(path, fi);
	int64_t r;

	if (!f)
		return -ENOENT;
	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	if (off < 0)
		return -EINVAL;
	if ((uint64_t)off >= f->size)
		return -ENXIO;
	r = seek_run(f, (uint64_t)off, whence == SEEK_DATA);
	return r == -EIO ? -EIO : (off_t)r;
}

static int mfs_statfs(const char *path, struct statvfs *sv)
{
	struct mount_set *set = the_set();

	(void)path;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = sv->f_frsize = 4096;
	for (size_t i = 0; i < set->n; i++)
		sv->f_blocks += (set->f[i].size + 4095) / 4096;
	sv->f_files = set->n + 1;
	sv->f_namemax = 255;
	sv->f_flag = ST_RDONLY;
	return 0;
}

/* Everything that would change the mount. */
static int mfs_rofs_path(const char *path)
{
	(void)path;
	return -EROFS;
}

static int mfs_write(const char *path, const char *buf, size_t len, off_t off,
		     struct fuse_file_info *fi)
{
	(void)path, (void)buf, (void)len, (void)off, (void)fi;
	return -EROFS;
}

static int mfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)path, (void)size, (void)fi;
	return -EROFS;
}

static int mfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path, (void)mode, (void)fi;
	return -EROFS;
}

static int mfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)path, (void)uid, (void)gid, (void)fi;
	return -EROFS;
}

static int mfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path, (void)mode, (void)fi;
	return -EROFS;
}

static int mfs_mkdir(const char *path, mode_t mode)
{
	(void)path, (void)mode;
	return -EROFS;
}

static int mfs_rename(const char *from, const char *to, unsigned int flags)
{
	(void)from, (void)to, (void)flags;
	return -EROFS;
}

static int mfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	(void)path, (void)tv, (void)fi;
	return -EROFS;
}

static const struct fuse_operations ops = {
	.init = mfs_init,
	.getattr = mfs_getattr,
	.readdir = mfs_readdir,
	.open = mfs_open,
	.read = mfs_read,
	.lseek = mfs_lseek,
	.statfs = mfs_statfs,
	.write = mfs_write,
	.truncate = mfs_truncate,
	.chmod = mfs_chmod,
	.chown = mfs_chown,
	.create = mfs_create,
	.mkdir = mfs_mkdir,
	.unlink = mfs_rofs_path,
	.rmdir = mfs_rofs_path,
	.rename = mfs_rename,
	.utimens = mfs_utimens,
};

/* ---- Mounting ----------------------------------------------------------- */

static int fuse_options(struct fuse_args *args, const struct mount_options *opt)
{
	char o[256];

	snprintf(o, sizeof(o), "ro,default_permissions,fsname=snaprescue,subtype=snapcow%s",
		 opt->allow_other ? ",allow_other" : "");
	if (fuse_opt_add_arg(args, program_name) || fuse_opt_add_arg(args, "-o") ||
	    fuse_opt_add_arg(args, o))
		return -ENOMEM;
	return 0;
}

int mountfs_run(struct mount_set *set, const struct mount_options *opt)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;
	char *mp = realpath(opt->mountpoint, NULL);
	struct fuse *f;
	int r;

	/* absolute: the daemon leaves the current directory, and libfuse
	 * unmounts by this path */
	if (!mp)
		errx(EXIT_FAIL, "cannot use %s as a mountpoint: %s", opt->mountpoint,
		     strerror(errno));

	for (size_t i = 0; i < set->n; i++)
		if ((r = count_data(&set->f[i])) < 0)
			errx(EXIT_FAIL, "%s: cannot find its data: %s", set->f[i].name, strerror(-r));
	mounted_at = time(NULL);
	if (fuse_options(&args, opt) < 0)
		errx(EXIT_FAIL, "out of memory");
	f = fuse_new(&args, &ops, sizeof(ops), set);
	fuse_opt_free_args(&args);
	if (!f)
		errx(EXIT_FAIL, "cannot start a FUSE filesystem (libfuse3)");
	if (fuse_mount(f, mp) != 0) {
		fuse_destroy(f);
		errx(EXIT_FAIL, "cannot mount on %s (is /dev/fuse there, and the mountpoint an "
		     "empty directory?)", opt->mountpoint);
	}
	if (!opt->foreground) {
		openlog(program_name, LOG_PID, LOG_DAEMON);
		logging_to_syslog = 1;
	}
	se = fuse_get_session(f);
	if (fuse_daemonize(opt->foreground) != 0 || fuse_set_signal_handlers(se) != 0) {
		fuse_unmount(f);
		fuse_destroy(f);
		errx(EXIT_FAIL, "cannot serve the mount on %s", opt->mountpoint);
	}
	snapcow_ctx_set_log_fn(tool_ctx(), serving_log, NULL);
	r = fuse_loop_mt(f, 0);
	fuse_remove_signal_handlers(se);
	fuse_unmount(f);
	fuse_destroy(f);
	free(mp);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

int mountfs_unmount(const char *mountpoint)
{
	char *argv[] = { "fusermount3", "-u", (char *)mountpoint, NULL };
	int r;

	if (umount2(mountpoint, 0) == 0)
		return EXIT_OK;
	if (errno == EINVAL) {
		warnx("cannot unmount %s: it is not a mount point", mountpoint);
		return EXIT_FAIL;
	}
	if (errno != EPERM) {
		warnx("cannot unmount %s: %s", mountpoint, strerror(errno));
		return EXIT_FAIL;
	}
	r = checker_run(argv, 0, NULL);
	if (r)
		warnx("fusermount3 -u %s failed (exit %d)", mountpoint, r);
	return r ? EXIT_FAIL : EXIT_OK;
}
