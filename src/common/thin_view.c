/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A thin volume as pieces of its pool's data device (see thin_view.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvm_vg.h"
#include "thin_view.h"
#include "tool.h"
#include "volume.h"

/* The lost range @l as "virtual blocks A..B (bytes X..Y)" of a volume of
 * @size bytes, clipped to it.  Returns 0, or 1 if @l lies past its end. */
static int lost_clip(const struct thin_volume *tv, const struct thin_lost *l, uint64_t *off,
		     uint64_t *len)
{
	uint64_t nblocks = (tv->size + tv->block_bytes - 1) / tv->block_bytes;
	uint64_t last = l->last < nblocks ? l->last : nblocks - 1;

	if (l->begin >= nblocks)
		return 1;
	*off = l->begin * tv->block_bytes;
	*len = (last + 1) * tv->block_bytes - *off;
	if (*off + *len > tv->size)
		*len = tv->size - *off;
	return 0;
}

void thin_volume_lost(const struct thin_volume *tv,
		      void (*fn)(void *data, uint64_t off, uint64_t len, const struct thin_lost *l),
		      void *data)
{
	for (size_t i = 0; i < tv->map.nlost; i++) {
		uint64_t off, len;

		if (!lost_clip(tv, &tv->map.lost[i], &off, &len))
			fn(data, off, len, &tv->map.lost[i]);
	}
}

static const char *lost_why(const struct thin_lost *l, char *buf, size_t len)
{
	if (l->block)
		snprintf(buf, len, "the node at metadata block %" PRIu64 " is unusable: %s", l->block,
			 l->why);
	else
		snprintf(buf, len, "%s", l->why);
	return buf;
}

static void warn_lost(void *data, uint64_t off, uint64_t len, const struct thin_lost *l)
{
	const struct thin_volume *tv = data;
	uint64_t bb = tv->block_bytes;
	char why[320];

	char blocks[64];

	if (off / bb == (off + len - 1) / bb)
		snprintf(blocks, sizeof(blocks), "virtual block %" PRIu64, off / bb);
	else
		snprintf(blocks, sizeof(blocks), "virtual blocks %" PRIu64 "..%" PRIu64, off / bb,
			 (off + len - 1) / bb);
	warnx("warning: thin device %" PRIu64 ": %s (bytes %" PRIu64 "..%" PRIu64 ") could not be "
	      "mapped (%s); %s as zeros", tv->id, blocks, off, off + len - 1,
	      lost_why(l, why, sizeof(why)), len > bb ? "they read" : "it reads");
}

static void count_lost(void *data, uint64_t off, uint64_t len, const struct thin_lost *l)
{
	struct thin_volume *tv = data;

	(void)l;
	tv->nlost++;
	tv->lost_blocks += (len + tv->block_bytes - 1) / tv->block_bytes;
	(void)off;
}

int thin_volume_warn_partial(const struct thin_volume *tv)
{
	char a[32];

	if (!tv->nlost)
		return 0;
	warnx("partial: %zu range%s of thin device %" PRIu64 " (%" PRIu64 " blocks, %s) could not "
	      "be mapped and read as zeros: the metadata that mapped them is damaged", tv->nlost,
	      tv->nlost == 1 ? "" : "s", tv->id, tv->lost_blocks,
	      format_size(tv->lost_blocks * tv->block_bytes, a, sizeof(a)));
	return 1;
}

/* The device @tv->id, or end the tool naming the ids there are. */
static void find_device(struct thin_volume *tv, const char *meta_name, int code)
{
	const struct thin_meta *tm = &tv->tm;
	char ids[512];

	tv->dev = thin_meta_device(tm, tv->id);
	if (tv->dev && tv->dev->root)
		return;
	for (size_t i = 0; i < tm->nlost; i++)
		if (tv->id >= tm->lost[i].begin && tv->id <= tm->lost[i].last)
			errx(code, "%s: thin device %" PRIu64 " cannot be found: its entry was in "
			     "metadata block %" PRIu64 ", which is unusable (%s)", meta_name, tv->id,
			     tm->lost[i].block, tm->lost[i].why);
	errx(code, "%s: no thin device %" PRIu64 " (the pool has %s%s)", meta_name, tv->id,
	     tm->ndevs ? "devices " : "no devices", thin_meta_ids(tm, ids, sizeof(ids)));
}

/* The volume's size when none was given: the end of its last mapping. */
static void guess_size(struct thin_volume *tv, int code)
{
	uint64_t end = 0;

	if (tv->map.nruns)
		end = tv->map.runs[tv->map.nruns - 1].vblock + tv->map.runs[tv->map.nruns - 1].len;
	for (size_t i = 0; i < tv->map.nlost; i++)
		if (tv->map.lost[i].last != UINT64_MAX && tv->map.lost[i].last + 1 > end)
			end = tv->map.lost[i].last + 1;
	if (!end)
		errx(code, "thin device %" PRIu64 " maps no block: its size is not in the pool's "
		     "metadata, give it with --size", tv->id);
	tv->size = end * tv->block_bytes;
	tv->size_guessed = 1;
	warnx("warning: thin device %" PRIu64 ": the pool's metadata does not record a volume's "
	      "size; reading %" PRIu64 " bytes, up to its last mapped block (give --size, from "
	      "lvs -o lv_size --units b, for the whole volume)", tv->id, tv->size);
}

/* Every mapping inside the volume must lie inside the data device. */
static void check_data(const struct thin_volume *tv, const char *data_name, int code)
{
	uint64_t dsize = snapcow_dev_size(tv->data), bb = tv->block_bytes;
	uint64_t pool = tv->tm.sb.data_blocks * bb;

	for (size_t i = 0; i < tv->map.nruns; i++) {
		const struct thin_run *r = &tv->map.runs[i];

		if (r->vblock * bb >= tv->size || (r->dblock + r->len) * bb <= dsize)
			continue;
		errx(code, "%s: %" PRIu64 " bytes: too short for thin device %" PRIu64 ": virtual "
		     "block %" PRIu64 " maps to data block %" PRIu64 " (byte offset %" PRIu64 "); "
		     "the pool's data is %" PRIu64 " blocks of %" PRIu64 " bytes (%" PRIu64 " bytes): "
		     "a truncated image?", data_name, dsize, tv->id,
		     r->vblock + (dsize / bb > r->dblock ? dsize / bb - r->dblock : 0),
		     r->dblock > dsize / bb ? r->dblock : dsize / bb,
		     (r->dblock > dsize / bb ? r->dblock : dsize / bb) * bb, tv->tm.sb.data_blocks,
		     bb, pool);
	}
	if (dsize < pool)
		warnx("warning: %s: %" PRIu64 " bytes, less than the pool's %" PRIu64 " data blocks "
		      "(%" PRIu64 " bytes), although every mapping of thin device %" PRIu64
		      " lies inside it", data_name, dsize, tv->tm.sb.data_blocks, pool, tv->id);
}

/* [@off, @off + @len) of the data device, as pieces of its own sources. */
static int add_data(const struct thin_volume *tv, struct snapcow_dev_piece **p, size_t *n,
		    size_t *cap, uint64_t off, uint64_t len)
{
	while (len) {
		uint64_t at, left;
		int fd, r;

		if (snapcow_dev_locate(tv->data, off, &fd, &at, &left) < 0)
			return -EINVAL;
		if (left > len)
			left = len;
		r = pieces_add(p, n, cap, left, fd, fd < 0 ? 0 : at);
		if (r < 0)
			return r;
		off += left;
		len -= left;
	}
	return 0;
}

static int build_pieces(struct thin_volume *tv, const char *name)
{
	struct snapcow_dev_piece *p = NULL;
	const uint64_t bb = tv->block_bytes;
	size_t n = 0, cap = 0;
	uint64_t at = 0;
	int r = 0;

	for (size_t i = 0; i < tv->map.nruns && at < tv->size && !r; i++) {
		const struct thin_run *run = &tv->map.runs[i];
		uint64_t start = run->vblock * bb, len = run->len * bb;

		if (start >= tv->size)
			break;
		if (len > tv->size - start)
			len = tv->size - start;
		if (start > at)
			r = pieces_add(&p, &n, &cap, start - at, -1, 0);
		if (!r)
			r = add_data(tv, &p, &n, &cap, run->dblock * bb, len);
		at = start + len;
	}
	if (!r && at < tv->size)
		r = pieces_add(&p, &n, &cap, tv->size - at, -1, 0);
	if (!r)
		r = snapcow_dev_new_pieces(name, p, n, &tv->pieces);
	free(p);
	return r;
}

void thin_volume_open(struct thin_volume *tv, const struct snapcow_dev *meta, const char *meta_name,
		      const struct snapcow_dev *data, uint64_t id, uint64_t size, int use_held,
		      int code)
{
	char why[512], name[300];
	int r;

	memset(tv, 0, sizeof(*tv));
	tv->meta = meta;
	tv->data = data;
	tv->id = id;
	r = thin_meta_open(meta, meta_name, use_held, &tv->tm, why, sizeof(why));
	if (r < 0)
		errx(code, "%s: %s", meta_name, r == -ENOMEM ? "out of memory" : why);
	if (tv->tm.top.flags & THIN_NEEDS_CHECK)
		warnx("warning: %s: the superblock's needs_check flag is set (the kernel met a "
		      "metadata error; LVM runs thin_check before the next activation): every "
		      "node read is checked", meta_name);
	for (size_t i = 0; i < tv->tm.nlost; i++) {
		const struct thin_lost *l = &tv->tm.lost[i];
		char ids[64];

		if (!l->begin && l->last == UINT64_MAX)
			snprintf(ids, sizeof(ids), "every thin device");
		else
			snprintf(ids, sizeof(ids), "thin devices %" PRIu64 "..%" PRIu64, l->begin,
				 l->last);
		warnx("warning: %s: the entries (mapping tree roots or details) of %s were in "
		      "metadata block %" PRIu64 ", which is unusable: %s", meta_name, ids, l->block,
		      l->why);
	}
	find_device(tv, meta_name, code);
	tv->block_bytes = tv->tm.sb.data_block_sectors * 512U;
	if (thin_meta_map(&tv->tm, tv->dev, &tv->map) < 0)
		errx(code, "out of memory");
	tv->size = size;
	if (!tv->size)
		guess_size(tv, code);
	check_data(tv, snapcow_dev_name(data), code);
	thin_volume_lost(tv, count_lost, tv);
	thin_volume_lost(tv, warn_lost, tv);
	snprintf(name, sizeof(name), "thin device %" PRIu64, id);
	r = build_pieces(tv, name);
	if (r < 0)
		errx(code, "thin device %" PRIu64 ": %s", id, strerror(-r));
}

void thin_volume_close(struct thin_volume *tv)
{
	snapcow_dev_free(tv->pieces);
	thin_map_free(&tv->map);
	thin_meta_close(&tv->tm);
	memset(tv, 0, sizeof(*tv));
}

int thin_volume_reads(const struct thin_volume *tv, const struct stat *st)
{
	return dev_reads_file(tv->meta, st) || dev_reads_file(tv->data, st);
}
