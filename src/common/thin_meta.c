/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Thin-pool metadata, read and checked node by node (see thin_meta.h). */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared.h"
#include "thin_meta.h"
#include "tool.h"

#define SB_CSUM_XOR 160774U
#define NODE_CSUM_XOR 121107U
#define NODE_INTERNAL 1U
#define NODE_LEAF 2U
#define NODE_HEADER 32U
#define MAX_DEPTH 24
#define DETAILS_SIZE 24U

static uint32_t get32(const unsigned char *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return le32toh(v);
}

static uint64_t get64(const unsigned char *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return le64toh(v);
}

const char *thin_flags_name(uint32_t flags)
{
	return flags & THIN_NEEDS_CHECK ? "needs_check" : "";
}

/* Read metadata block @b into @buf.  Returns 0, or -EIO with @why. */
static int read_block(const struct thin_meta *tm, uint64_t b, unsigned char *buf, char *why,
		      size_t len)
{
	int r;

	if (b >= tm->dev_blocks) {
		snprintf(why, len, "block %" PRIu64 " is past the end of the metadata (%" PRIu64
			 " blocks)", b, tm->dev_blocks);
		return -EIO;
	}
	r = snapcow_dev_pread(tm->dev, buf, THIN_META_BLOCK, b * THIN_META_BLOCK);
	if (r < 0) {
		snprintf(why, len, "cannot read block %" PRIu64 ": %s", b, strerror(-r));
		return -EIO;
	}
	return 0;
}

static uint32_t block_csum(const unsigned char *buf, uint32_t xor)
{
	return crc32c_raw(0xffffffffU, buf + 4, THIN_META_BLOCK - 4) ^ xor;
}

/* ---- the superblock --------------------------------------------------- */

static int parse_super(const unsigned char *b, uint64_t at, struct thin_super *sb, char *why,
		       size_t len)
{
	const uint64_t base = at * THIN_META_BLOCK;
	uint64_t magic = get64(b, 32);
	uint32_t meta_sectors;

	if (magic != THIN_META_MAGIC)
		return fail_why(why, len, "offset %" PRIu64 ": not thin-pool metadata (magic %" PRIu64
			     ", dm-thin writes %llu)", base + 32, magic, THIN_META_MAGIC);
	if (block_csum(b, SB_CSUM_XOR) != get32(b, 0))
		return fail_why(why, len, "offset %" PRIu64 ": superblock checksum 0x%08x does not "
			     "match its contents (0x%08x): the superblock is damaged", base,
			     get32(b, 0), block_csum(b, SB_CSUM_XOR));
	if (get64(b, 8) != at)
		return fail_why(why, len, "offset %" PRIu64 ": superblock says it is block %" PRIu64
			     ", not %" PRIu64, base + 8, get64(b, 8), at);
	memset(sb, 0, sizeof(*sb));
	sb->flags = get32(b, 4);
	sb->version = get32(b, 40);
	sb->time = get32(b, 44);
	sb->trans_id = get64(b, 48);
	sb->held_root = get64(b, 56);
	sb->data_blocks = get64(b, 64);
	sb->mapping_root = get64(b, 320);
	sb->details_root = get64(b, 328);
	sb->data_block_sectors = get32(b, 336);
	meta_sectors = get32(b, 340);
	sb->meta_blocks = get64(b, 344);
	if (sb->version < 1 || sb->version > 2)
		return fail_why(why, len, "offset %" PRIu64 ": metadata version %" PRIu32 " (the "
			     "kernel reads 1 and 2)", base + 40, sb->version);
	if (meta_sectors != THIN_META_BLOCK / 512)
		return fail_why(why, len, "offset %" PRIu64 ": metadata block size %" PRIu32
			     " sectors (dm-thin uses 8)", base + 340, meta_sectors);
	/* dm-thin: 64 KiB .. 1 GiB, a multiple of 64 KiB */
	if (sb->data_block_sectors < 128 || sb->data_block_sectors > 2097152 ||
	    sb->data_block_sectors % 128)
		return fail_why(why, len, "offset %" PRIu64 ": data block size %" PRIu32 " sectors "
			     "(dm-thin allows multiples of 128 from 128 to 2097152)", base + 336,
			     sb->data_block_sectors);
	return 0;
}

static int read_super(const struct thin_meta *tm, uint64_t at, struct thin_super *sb, char *why,
		      size_t len)
{
	unsigned char *b = malloc(THIN_META_BLOCK);
	int r;

	if (!b)
		return -ENOMEM;
	r = read_block(tm, at, b, why, len);
	if (r == 0)
		r = parse_super(b, at, sb, why, len);
	free(b);
	return r;
}

/* ---- btree walks ------------------------------------------------------ */

struct map_walk {
	struct thin_map *m;
	size_t cap;
	uint64_t data_blocks;
};

struct walk {
	const struct thin_meta *tm;
	uint32_t value_size; /* of the leaves */
	/* a leaf entry; returns 0, or -ENOMEM */
	int (*entry)(struct walk *w, uint64_t key, const unsigned char *value);
	void *data;
	struct thin_lost **lost;
	size_t *nlost, lost_cap;
	unsigned char *buf[MAX_DEPTH];
};

static int add_lost(struct walk *w, uint64_t begin, uint64_t last, uint64_t block,
		    const char *why)
{
	struct thin_lost *prev = *w->nlost ? &(*w->lost)[*w->nlost - 1] : NULL;

	/* mappings past the data device (block 0), one after the other */
	if (prev && !block && !prev->block && prev->last + 1 == begin) {
		prev->last = last;
		snprintf(prev->why, sizeof(prev->why), "they map to data blocks past the pool's "
			 "%" PRIu64 " data blocks", ((const struct map_walk *)w->data)->data_blocks);
		return 0;
	}
	if (*w->nlost == w->lost_cap) {
		size_t nc = w->lost_cap ? w->lost_cap * 2 : 8;
		struct thin_lost *n = realloc(*w->lost, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*w->lost = n;
		w->lost_cap = nc;
	}
	(*w->lost)[*w->nlost] = (struct thin_lost){ begin, last, block, "" };
	snprintf((*w->lost)[*w->nlost].why, sizeof((*w->lost)[0].why), "%s", why);
	(*w->nlost)++;
	return 0;
}

/* What is wrong with node @b at block @at, holding keys in [lo, last];
 * NULL when it can be used. */
static const char *node_problem(const unsigned char *b, uint64_t at, uint64_t lo, uint64_t last,
				uint32_t leaf_vsize, char *why, size_t len)
{
	uint32_t flags = get32(b, 4), nr = get32(b, 16), max = get32(b, 20), vsize = get32(b, 24);

	if (block_csum(b, NODE_CSUM_XOR) != get32(b, 0))
		snprintf(why, len, "checksum 0x%08x does not match its contents (0x%08x)",
			 get32(b, 0), block_csum(b, NODE_CSUM_XOR));
	else if (get64(b, 8) != at)
		snprintf(why, len, "it says it is block %" PRIu64, get64(b, 8));
	else if (flags != NODE_INTERNAL && flags != NODE_LEAF)
		snprintf(why, len, "flags %" PRIu32 ": neither an internal node nor a leaf", flags);
	else if (vsize != (flags == NODE_LEAF ? leaf_vsize : 8))
		snprintf(why, len, "value size %" PRIu32 ", expected %" PRIu32, vsize,
			 flags == NODE_LEAF ? leaf_vsize : 8);
	else if (!max || NODE_HEADER + (uint64_t)max * (8 + vsize) > THIN_META_BLOCK || nr > max)
		snprintf(why, len, "%" PRIu32 " entries of at most %" PRIu32 " do not fit a block",
			 nr, max);
	else if (flags == NODE_INTERNAL && !nr)
		snprintf(why, len, "an internal node with no entries");
	else
		why[0] = '\0';
	for (uint32_t i = 0; !why[0] && i < nr; i++) {
		uint64_t k = get64(b, NODE_HEADER + 8 * (size_t)i);

		if (k < lo || k > last || (i && k <= get64(b, NODE_HEADER + 8 * (size_t)(i - 1))))
			snprintf(why, len, "key %" PRIu32 " (%" PRIu64 ") is out of order or outside "
				 "the range %" PRIu64 "..%" PRIu64 " its parent gives it", i, k, lo,
				 last);
	}
	return why[0] ? why : NULL;
}

static int walk_node(struct walk *w, uint64_t block, uint64_t lo, uint64_t last, int depth)
{
	unsigned char *b;
	char why[160];
	uint32_t nr, max, vsize;
	int r;

	if (depth >= MAX_DEPTH)
		return add_lost(w, lo, last, block, "the tree is deeper than any dm-thin writes "
				"(a loop?)");
	if (!w->buf[depth] && !(w->buf[depth] = malloc(THIN_META_BLOCK)))
		return -ENOMEM;
	b = w->buf[depth];
	if (read_block(w->tm, block, b, why, sizeof(why)) < 0 ||
	    node_problem(b, block, lo, last, w->value_size, why, sizeof(why)))
		return add_lost(w, lo, last, block, why);
	nr = get32(b, 16);
	max = get32(b, 20);
	vsize = get32(b, 24);
	for (uint32_t i = 0; i < nr; i++) {
		uint64_t k = get64(b, NODE_HEADER + 8 * (size_t)i);
		const unsigned char *v = b + NODE_HEADER + 8 * (size_t)max + (size_t)vsize * i;

		if (get32(b, 4) == NODE_LEAF) {
			r = w->entry(w, k, v);
		} else {
			uint64_t end = i + 1 < nr ? get64(b, NODE_HEADER + 8 * (size_t)(i + 1)) - 1 :
						    last;

			r = walk_node(w, get64(v, 0), k, end, depth + 1);
			b = w->buf[depth]; /* unchanged: deeper levels use their own */
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int walk_tree(struct walk *w, uint64_t root)
{
	int r = walk_node(w, root, 0, UINT64_MAX, 0);

	for (int i = 0; i < MAX_DEPTH; i++)
		free(w->buf[i]);
	return r;
}

/* ---- the device list -------------------------------------------------- */

static struct thin_device *device_slot(struct thin_meta *tm, uint64_t id, int create)
{
	struct thin_device *n;

	for (size_t i = 0; i < tm->ndevs; i++)
		if (tm->devs[i].id == id)
			return &tm->devs[i];
	if (!create)
		return NULL;
	n = realloc(tm->devs, (tm->ndevs + 1) * sizeof(*n));
	if (!n)
		return NULL;
	tm->devs = n;
	n = &tm->devs[tm->ndevs++];
	memset(n, 0, sizeof(*n));
	n->id = id;
	return n;
}

static int top_entry(struct walk *w, uint64_t key, const unsigned char *value)
{
	struct thin_device *d = device_slot(w->data, key, 1);

	if (!d)
		return -ENOMEM;
	d->root = get64(value, 0);
	return 0;
}

static int details_entry(struct walk *w, uint64_t key, const unsigned char *value)
{
	struct thin_device *d = device_slot(w->data, key, 1);

	if (!d)
		return -ENOMEM;
	d->has_details = 1;
	d->mapped_blocks = get64(value, 0);
	d->trans_id = get64(value, 8);
	d->creation_time = get32(value, 16);
	d->snapshotted_time = get32(value, 20);
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct thin_device *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int thin_meta_open(const struct snapcow_dev *dev, const char *name, int use_held,
		   struct thin_meta *tm, char *why, size_t len)
{
	struct walk w = { 0 };
	int r;

	memset(tm, 0, sizeof(*tm));
	tm->dev = dev;
	tm->name = name;
	tm->dev_blocks = snapcow_dev_size(dev) / THIN_META_BLOCK;
	if (!tm->dev_blocks)
		return fail_why(why, len, "%" PRIu64 " bytes: too small for thin-pool metadata (one "
			     "%u-byte superblock at least)", snapcow_dev_size(dev), THIN_META_BLOCK);
	r = read_super(tm, 0, &tm->top, why, len);
	if (r == 0 && use_held && !tm->top.held_root)
		r = fail_why(why, len, "offset 56: no metadata snapshot is held (held_root 0)");
	if (r == 0 && use_held) {
		r = read_super(tm, tm->top.held_root, &tm->sb, why, len);
		/* the kernel wipes the copy's space map roots: the data
		 * device's size is block 0's */
		tm->sb.data_blocks = tm->top.data_blocks;
	} else {
		tm->sb = tm->top;
	}
	tm->held = use_held;
	if (r < 0)
		return r;
	w.tm = tm;
	w.data = tm;
	w.lost = &tm->lost;
	w.nlost = &tm->nlost;
	w.value_size = 8;
	w.entry = top_entry;
	r = walk_tree(&w, tm->sb.mapping_root);
	memset(w.buf, 0, sizeof(w.buf));
	w.value_size = DETAILS_SIZE;
	w.entry = details_entry;
	if (r == 0)
		r = walk_tree(&w, tm->sb.details_root);
	if (r < 0) {
		thin_meta_close(tm);
		return r;
	}
	if (tm->ndevs)
		qsort(tm->devs, tm->ndevs, sizeof(*tm->devs), cmp_dev);
	return 0;
}

void thin_meta_close(struct thin_meta *tm)
{
	free(tm->devs);
	free(tm->lost);
	memset(tm, 0, sizeof(*tm));
}

const struct thin_device *thin_meta_device(const struct thin_meta *tm, uint64_t id)
{
	for (size_t i = 0; i < tm->ndevs; i++)
		if (tm->devs[i].id == id)
			return &tm->devs[i];
	return NULL;
}

const char *thin_meta_ids(const struct thin_meta *tm, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < tm->ndevs && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%" PRIu64, i ? ", " : "", tm->devs[i].id);
	return buf;
}

/* ---- one device's mappings -------------------------------------------- */

static int map_entry(struct walk *w, uint64_t key, const unsigned char *value)
{
	struct map_walk *mw = w->data;
	struct thin_map *m = mw->m;
	uint64_t d = get64(value, 0) >> 24;
	struct thin_run *last = m->nruns ? &m->runs[m->nruns - 1] : NULL;

	if (d >= mw->data_blocks) {
		char why[160];

		snprintf(why, sizeof(why), "it maps virtual block %" PRIu64 " to data block %" PRIu64
			 ", past the pool's %" PRIu64 " data blocks", key, d, mw->data_blocks);
		return add_lost(w, key, key, 0, why);
	}
	m->mapped++;
	if (last && last->vblock + last->len == key && last->dblock + last->len == d) {
		last->len++;
		return 0;
	}
	if (m->nruns == mw->cap) {
		size_t nc = mw->cap ? mw->cap * 2 : 64;
		struct thin_run *n = realloc(m->runs, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->runs = n;
		mw->cap = nc;
	}
	m->runs[m->nruns++] = (struct thin_run){ key, d, 1 };
	return 0;
}

int thin_meta_map(const struct thin_meta *tm, const struct thin_device *d, struct thin_map *m)
{
	struct map_walk mw = { m, 0, tm->sb.data_blocks };
	struct walk w = { 0 };
	int r;

	memset(m, 0, sizeof(*m));
	w.tm = tm;
	w.value_size = 8;
	w.entry = map_entry;
	w.data = &mw;
	w.lost = &m->lost;
	w.nlost = &m->nlost;
	r = walk_tree(&w, d->root);
	if (r < 0)
		thin_map_free(m);
	return r;
}

void thin_map_free(struct thin_map *m)
{
	free(m->runs);
	free(m->lost);
	memset(m, 0, sizeof(*m));
}
