/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ext2view.h"
#include "extract.h"
#include "fsprobe.h"
#include "tool.h"

#define EXT2VIEW_MAGIC 0x53567731 /* private channel marker */

struct ext2view_chan {
	int magic;
	struct snapcow_view *v;
};

static struct snapcow_view *pending_view;
static unsigned long refused_writes;

static errcode_t ev_open(const char *name, int flags, io_channel *channel)
{
	struct ext2view_chan *priv = NULL;
	io_channel io = NULL;
	errcode_t err;

	if (!name || !pending_view)
		return EXT2_ET_BAD_DEVICE_NAME;
	if (flags & IO_FLAG_RW)
		return EXT2_ET_RO_FILSYS;
	err = ext2fs_get_memzero(sizeof(*io), &io);
	if (err)
		return err;
	err = ext2fs_get_memzero(sizeof(*priv), &priv);
	if (err)
		goto fail;
	err = ext2fs_get_mem(strlen(name) + 1, &io->name);
	if (err)
		goto fail;
	strcpy(io->name, name);
	priv->magic = EXT2VIEW_MAGIC;
	priv->v = pending_view;
	io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	io->manager = ext2view_io_manager;
	io->block_size = 1024;
	io->refcount = 1;
	io->flags = 0;
	io->private_data = priv;
	*channel = io;
	return 0;
fail:
	ext2fs_free_mem(&priv);
	ext2fs_free_mem(&io);
	return err;
}

static errcode_t ev_close(io_channel io)
{
	if (--io->refcount > 0)
		return 0;
	ext2fs_free_mem(&io->private_data);
	ext2fs_free_mem(&io->name);
	ext2fs_free_mem(&io);
	return 0;
}

static errcode_t ev_set_blksize(io_channel io, int blksize)
{
	if (blksize <= 0)
		return EXT2_ET_INVALID_ARGUMENT;
	io->block_size = blksize;
	return 0;
}

static errcode_t ev_read_blk64(io_channel io, unsigned long long block, int count,
			       void *data)
{
	struct ext2view_chan *priv = io->private_data;
	size_t size = count < 0 ? (size_t)-count : (size_t)count * (size_t)io->block_size;
	uint64_t off = (uint64_t)block * (uint64_t)io->block_size;
	size_t done = 0;
	errcode_t err = 0;

	while (done < size) {
		ssize_t n = snapcow_view_pread(priv->v, (char *)data + done, size - done,
					       off + done);
		if (n < 0) {
			err = (errcode_t)-n;
			break;
		}
		if (n == 0) {
			err = EXT2_ET_SHORT_READ;
			break;
		}
		done += (size_t)n;
	}
	if (!err)
		return 0;
	memset((char *)data + done, 0, size - done);
	if (io->read_error)
		return io->read_error(io, (unsigned long)block, count, data, size, (int)done, err);
	return err;
}

static errcode_t ev_read_blk(io_channel io, unsigned long block, int count, void *data)
{
	return ev_read_blk64(io, block, count, data);
}

static errcode_t ev_write_blk64(io_channel io, unsigned long long block, int count,
				const void *data)
{
	(void)io, (void)block, (void)count, (void)data;
	refused_writes++;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t ev_write_blk(io_channel io, unsigned long block, int count,
			      const void *data)
{
	return ev_write_blk64(io, block, count, data);
}

static errcode_t ev_write_byte(io_channel io, unsigned long offset, int count,
			       const void *data)
{
	(void)io, (void)offset, (void)count, (void)data;
	refused_writes++;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t ev_discard(io_channel io, unsigned long long block,
			    unsigned long long count)
{
	(void)io, (void)block, (void)count;
	refused_writes++;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t ev_flush(io_channel io)
{
	(void)io;
	return 0;
}

static errcode_t ev_set_option(io_channel io, const char *option, const char *arg)
{
	(void)io, (void)option, (void)arg;
	return EXT2_ET_INVALID_ARGUMENT;
}

static errcode_t ev_readahead(io_channel io, unsigned long long block,
			      unsigned long long count)
{
	(void)io, (void)block, (void)count;
	return 0;
}

static struct struct_io_manager ev_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "snapcow view I/O manager",
	.open = ev_open,
	.close = ev_close,
	.set_blksize = ev_set_blksize,
	.read_blk = ev_read_blk,
	.write_blk = ev_write_blk,
	.flush = ev_flush,
	.write_byte = ev_write_byte,
	.set_option = ev_set_option,
	.read_blk64 = ev_read_blk64,
	.write_blk64 = ev_write_blk64,
	.discard = ev_discard,
	.cache_readahead = ev_readahead,
	.zeroout = ev_discard,
};

io_manager ext2view_io_manager = &ev_manager;

unsigned long ext2view_refused_writes(void)
{
	return refused_writes;
}

errcode_t ext2view_open(struct snapcow_view *v, const char *name, int flags,
			ext2_filsys *out)
{
	errcode_t err;

	if (flags & EXT2_FLAG_RW)
		return EXT2_ET_RO_FILSYS;
	pending_view = v;
	err = ext2fs_open2(name, NULL, flags | EXT2_FLAG_64BITS, 0, 0, ext2view_io_manager,
			   out);
	pending_view = NULL;
	return err;
}

int ext2view_probe(struct snapcow_view *v, char *type, size_t len)
{
	const uint64_t head = 1ULL << 20, tail = 1ULL << 20;
	uint64_t size = snapcow_view_size(v);
	int fd, r;

	/* libblkid 2.38 probes descriptors only: expose the view's head and
	 * tail in a sparse memory file of the view's size. */
	fd = memfd_create("snapcow-view-probe", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		r = -errno;
		goto out;
	}
	r = extract_copy_sparse(v, fd, 0, size < head ? size : head, NULL);
	if (!r && size > head)
		r = extract_copy_sparse(v, fd, size - tail > head ? size - tail : head,
					 size - tail > head ? tail : size - head, NULL);
	if (!r)
		r = fsprobe_fd(fd, size, type, len);
out:
	close(fd);
	return r;
}

int ext2view_open_or_exit(struct snapcow_view *v, const char *store, int probed, int operr,
			  ext2_filsys *out)
{
	errcode_t err;

	err = ext2view_open(v, store, EXT2_FLAG_IGNORE_CSUM_ERRORS | EXT2_FLAG_SKIP_MMP, out);
	if (err) {
		if (probed == 0 && (err == EXT2_ET_BAD_MAGIC || err == EXT2_ET_SB_CSUM_INVALID))
			errx(operr, "%s: no filesystem found on the snapshot view (libblkid finds "
			     "no signature, libext2fs: %s)", store, error_message(err));
		errx(operr, "%s: cannot open the filesystem on the snapshot view: %s", store,
		     error_message(err));
	}
	return 0;
}
