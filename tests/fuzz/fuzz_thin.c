/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: any bytes as a thin pool's metadata device
 * (src/common/thin_meta.c, thin_view.c): the superblock and the device
 * list, with and without the metadata snapshot, every device's mapping
 * tree, then the thin volume of every device whose mappings fit the data
 * device, as snap_extract and snap_mount read one.  An input of even size
 * is the start of a 2 MiB metadata device (zeros after it), an odd size
 * the whole device.  Each input runs as given and, when that differs, with
 * the checksum of the superblock and of every block that looks like a
 * btree node made right, so that the fuzzer gets past them.
 * Cross-checks (abort()): a device's runs are in virtual block order, do
 * not overlap, and add up to the map's mapped count; lost ranges are
 * ordered ranges.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "shared.h"
#include "thin_meta.h"
#include "thin_view.h"

#define DEVICE_BYTES (2 << 20)
#define SB_XOR 160774U
#define NODE_XOR 121107U

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void fix_csums(uint8_t *d, size_t size)
{
	size_t b;

	for (b = 0; b + THIN_META_BLOCK <= size; b += THIN_META_BLOCK) {
		uint8_t *p = d + b;
		uint32_t flags = p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
				 (uint32_t)p[7] << 24;

		if (b && flags != 1 && flags != 2)
			continue;
		put32(p, crc32c_raw(0xffffffffU, p + 4, THIN_META_BLOCK - 4) ^
			      (b ? NODE_XOR : SB_XOR));
	}
}

static void check_map(const struct thin_map *m)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < m->nruns; i++) {
		const struct thin_run *r = &m->runs[i];

		FUZZ_CHECK(r->len > 0, "run %zu is empty", i);
		FUZZ_CHECK(i == 0 || r->vblock >= m->runs[i - 1].vblock + m->runs[i - 1].len,
			   "run %zu (vblock %llu) overlaps or precedes run %zu", i,
			   (unsigned long long)r->vblock, i - 1);
		sum += r->len;
	}
	FUZZ_CHECK(sum == m->mapped, "runs of %llu blocks, the map says %llu mapped",
		   (unsigned long long)sum, (unsigned long long)m->mapped);
	for (i = 0; i < m->nlost; i++)
		FUZZ_CHECK(m->lost[i].begin <= m->lost[i].last, "lost range %zu: %llu..%llu", i,
			   (unsigned long long)m->lost[i].begin,
			   (unsigned long long)m->lost[i].last);
}

/* The thin volume of device @id, when every mapping lies inside the data
 * device (else thin_volume_open() ends the tool, as documented). */
static void open_volume(const struct snapcow_dev *meta, const struct thin_meta *tm,
			const struct thin_map *m, uint64_t id, int held)
{
	uint64_t bb = (uint64_t)tm->sb.data_block_sectors * 512, blocks = tm->sb.data_blocks;
	struct snapcow_dev_piece zero = { .fd = -1 };
	struct snapcow_dev *data;
	struct thin_volume tv;
	size_t i;

	if (!bb || bb > (1 << 20) || !blocks || blocks > (UINT64_MAX >> 21))
		return;
	for (i = 0; i < m->nruns; i++)
		if (m->runs[i].dblock >= blocks || m->runs[i].len > blocks - m->runs[i].dblock ||
		    m->runs[i].vblock > (UINT64_MAX >> 21) - m->runs[i].len)
			return;
	zero.length = blocks * bb;
	if (snapcow_dev_new_pieces("data", &zero, 1, &data) < 0)
		return;
	thin_volume_open(&tv, meta, "meta", data, id, 0, held, 1);
	thin_volume_warn_partial(&tv);
	thin_volume_close(&tv);
	snapcow_dev_free(data);
}

static void one(const uint8_t *data, size_t size)
{
	struct snapcow_dev *dev;
	char why[256];
	int fd = fuzz_memfd(data, size), held;

	if (fd < 0)
		return;
	if ((size % 2 == 0 && size < DEVICE_BYTES && ftruncate(fd, DEVICE_BYTES) < 0) ||
	    snapcow_dev_new_fd(fd, "meta", &dev) < 0) {
		fuzz_memfd_close(fd);
		return;
	}
	for (held = 0; held < 2; held++) {
		struct thin_meta tm;
		size_t i;

		if (thin_meta_open(dev, "meta", held, &tm, why, sizeof(why)) < 0)
			continue;
		thin_meta_ids(&tm, why, sizeof(why));
		for (i = 0; i < tm.ndevs; i++) {
			struct thin_map m;

			FUZZ_CHECK(thin_meta_device(&tm, tm.devs[i].id) == &tm.devs[i],
				   "device %llu is not found by its id",
				   (unsigned long long)tm.devs[i].id);
			if (thin_meta_map(&tm, &tm.devs[i], &m) < 0)
				continue;
			check_map(&m);
			/* else "cannot be found" or "give it with --size", documented */
			if (tm.devs[i].root && m.mapped)
				open_volume(dev, &tm, &m, tm.devs[i].id, held);
			thin_map_free(&m);
		}
		thin_meta_close(&tm);
	}
	snapcow_dev_free(dev);
	fuzz_memfd_close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	one(data, size);
	if (size < THIN_META_BLOCK || !(fixed = malloc(size)))
		return 0;
	memcpy(fixed, data, size);
	fix_csums(fixed, size);
	if (memcmp(fixed, data, size))
		one(fixed, size);
	free(fixed);
	return 0;
}

#include "replay.h"
