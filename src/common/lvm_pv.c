/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PV labels and metadata areas, read-only (see lvm_pv.h).
 *
 * On disk (all little-endian):
 *   label, in one of the first four sectors: "LABELONE", its own sector
 *     number (u64), a CRC (u32) of bytes 20..511, the offset of the PV
 *     header (u32), "LVM2 001";
 *   PV header: the UUID (32 characters), the device size (u64), a list of
 *     data areas and a list of metadata areas, each (offset, size) pairs
 *     ending with an offset of 0;
 *   metadata area header (512 bytes at the area's start): a CRC (u32) of
 *     bytes 4..511, the magic " LVM2 x[5A%r0N*>", version 1, the area's
 *     start and size (u64), then raw locations (offset from the area's
 *     start, size, CRC of the text, flags), the first one the committed
 *     metadata.  The text is a circular buffer from byte 512 of the area
 *     to its end; older copies stay behind the current one until they are
 *     overwritten, each starting on a 512-byte boundary with "VGNAME {".
 */
#include <blkid/blkid.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lvm_pv.h"
#include "shared.h"

#define SECTOR 512U
#define LABEL_SCAN_SECTORS 4U
#define LVM_INITIAL_CRC 0xf597a6cfU
#define MDA_MAGIC " LVM2 x[5A%r0N*>"
#define MDA_HEADER_SIZE 512U
#define MDA_MAX_BYTES (256ULL << 20) /* refuse an absurd area size */
#define MAX_AREAS 8

struct locn {
	uint64_t offset, size;
};

uint32_t lvm_crc(const void *buf, size_t len)
{
	/* lvm2's calc_crc has no pre- and post-inversion: zlib's crc32 with
	 * the initial value inverted, result inverted. */
	return ~crc32_update(~LVM_INITIAL_CRC, buf, len);
}

static uint64_t le64_at(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint32_t le32_at(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static void note(struct lvm_pv *pv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct lvm_pv *pv, const char *fmt, ...)
{
	va_list ap;

	if (pv->nnotes >= (int)(sizeof(pv->notes) / sizeof(pv->notes[0])))
		return;
	va_start(ap, fmt);
	vsnprintf(pv->notes[pv->nnotes++], sizeof(pv->notes[0]), fmt, ap);
	va_end(ap);
}

/* "wzOke7suc8..." -> "wzOke7-suc8-9eOl-1a9E-YSVE-fjxi-JOmFUr" */
static void format_uuid(const unsigned char *raw, char *out)
{
	static const int groups[] = { 6, 4, 4, 4, 4, 4, 6 };
	int i, k, o = 0, r = 0;

	for (i = 0; i < 7; i++) {
		for (k = 0; k < groups[i]; k++)
			out[o++] = isprint(raw[r]) ? (char)raw[r] : '?', r++;
		if (i < 6)
			out[o++] = '-';
	}
	out[o] = '\0';
}

/* The label in the first four sectors at @base: 1 and its sector, 0 if none. */
static int find_label(const unsigned char *buf, unsigned *sector)
{
	for (unsigned i = 0; i < LABEL_SCAN_SECTORS; i++) {
		const unsigned char *s = buf + i * SECTOR;

		if (memcmp(s, "LABELONE", 8) || le64_at(s + 8) != i || memcmp(s + 24, "LVM2 001", 8))
			continue;
		if (le32_at(s + 16) != lvm_crc(s + 20, SECTOR - 20))
			continue;
		*sector = i;
		return 1;
	}
	return 0;
}

/* Read the (offset, size) list at @p into @out; returns where it ends. */
static const unsigned char *read_locns(const unsigned char *p, const unsigned char *end,
				       struct locn *out, int *n)
{
	*n = 0;
	while (p + 16 <= end) {
		uint64_t off = le64_at(p), size = le64_at(p + 8);

		p += 16;
		if (!off)
			return p;
		if (*n < MAX_AREAS)
			out[(*n)++] = (struct locn){ off, size };
	}
	return NULL;
}

static int valid_vg_char(int c)
{
	return isalnum(c) || c == '+' || c == '_' || c == '.' || c == '-';
}

/* A copy starts with "NAME {\n": the name, or 0. */
static int text_start(const unsigned char *p, size_t len, char *name, size_t nlen)
{
	size_t i = 0;

	while (i < len && i + 1 < nlen && valid_vg_char(p[i]))
		i++;
	if (!i || i + 3 > len || memcmp(p + i, " {\n", 3))
		return 0;
	memcpy(name, p, i);
	name[i] = '\0';
	return 1;
}

/* The text at @off of the area (whose buffer is [512, @size) and wraps), up
 * to its NUL (or @want bytes when not 0, with their LVM CRC in *@crc).
 * Returns a malloc'd copy, trailing NULs stripped. */
static char *unwrap(const unsigned char *area, uint64_t size, uint64_t off, uint64_t want,
		    size_t *len, uint32_t *crc)
{
	uint64_t cap = size - MDA_HEADER_SIZE, n = 0, at = off;
	char *t;

	if (off < MDA_HEADER_SIZE || off >= size)
		return NULL;
	if (want)
		n = want < cap ? want : cap;
	else /* the text's length first: a copy is allocated at its size */
		while (n < cap && area[at] != 0) {
			n++;
			at = at + 1 == size ? MDA_HEADER_SIZE : at + 1;
		}
	t = malloc(n + 1);
	if (!t)
		return NULL;
	for (uint64_t i = 0, from = off; i < n; i++) {
		t[i] = (char)area[from];
		from = from + 1 == size ? MDA_HEADER_SIZE : from + 1;
	}
	if (crc)
		*crc = lvm_crc(t, (size_t)n);
	while (n && t[n - 1] == '\0')
		n--;
	t[n] = '\0';
	*len = n;
	return t;
}

static uint64_t text_seqno(const char *t)
{
	const char *p = strstr(t, "\nseqno = ");

	return p ? strtoull(p + 9, NULL, 10) : 0;
}

static int add_text(struct lvm_pv *pv, struct lvm_text *tx)
{
	struct lvm_text *n = realloc(pv->texts, (pv->ntexts + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	pv->texts = n;
	pv->texts[pv->ntexts++] = *tx;
	return 0;
}

/* Every copy on a 512-byte boundary of the buffer (the current one is
 * added first by the caller and skipped here). */
static int scan_copies(struct lvm_pv *pv, const unsigned char *area, uint64_t size,
		       uint64_t area_off, uint64_t current)
{
	for (uint64_t off = MDA_HEADER_SIZE; off + 4 <= size; off += SECTOR) {
		struct lvm_text tx = { .offset = area_off + off };

		if (off == current || !text_start(area + off, size - off, tx.vgname,
						  sizeof(tx.vgname)))
			continue;
		tx.text = unwrap(area, size, off, 0, &tx.len, NULL);
		if (!tx.text)
			return -ENOMEM;
		tx.seqno = text_seqno(tx.text);
		if (!tx.seqno || add_text(pv, &tx) < 0) {
			free(tx.text);
			if (tx.seqno)
				return -ENOMEM;
		}
	}
	return 0;
}

/* The text the area's header points at, checked against its CRC. */
static int current_copy(struct lvm_pv *pv, const unsigned char *area, uint64_t size,
			uint64_t area_off, uint64_t *cur)
{
	const unsigned char *rl = area + 40;
	uint64_t off = le64_at(rl), len = le64_at(rl + 8);
	uint32_t crc = le32_at(rl + 16), got_crc = 0;
	struct lvm_text tx = { .offset = area_off + off, .current = 1 };
	size_t got;

	*cur = 0;
	if (!off)
		return 0; /* an empty area */
	if (off < MDA_HEADER_SIZE || off >= size || len > size - MDA_HEADER_SIZE) {
		note(pv, "metadata area at %" PRIu64 ": the header points at %" PRIu64 "+%" PRIu64
		     ", outside the area", area_off, off, len);
		return 0;
	}
	tx.text = unwrap(area, size, off, len, &got, &got_crc);
	if (!tx.text)
		return -ENOMEM;
	tx.len = got;
	*cur = off;
	tx.crc_ok = got_crc == crc;
	if (!text_start((const unsigned char *)tx.text, got, tx.vgname, sizeof(tx.vgname)))
		tx.vgname[0] = '\0';
	tx.seqno = text_seqno(tx.text);
	if (!tx.crc_ok)
		note(pv, "metadata area at %" PRIu64 ": the newest metadata (at %" PRIu64 ", %" PRIu64
		     " bytes) fails its checksum", area_off, area_off + off, len);
	return add_text(pv, &tx);
}

static int read_area(struct lvm_pv *pv, const struct locn *m)
{
	unsigned char *area;
	uint64_t cur;
	int r;

	if (m->size < 2 * MDA_HEADER_SIZE || m->size > MDA_MAX_BYTES ||
	    m->offset + m->size > pv->size) {
		note(pv, "metadata area at %" PRIu64 " (%" PRIu64 " bytes) does not fit the PV",
		     m->offset, m->size);
		return 0;
	}
	area = malloc(m->size);
	if (!area)
		return -ENOMEM;
	r = pread_full(pv->fd, area, m->size, pv->base + m->offset);
	if (r < 0) {
		free(area);
		note(pv, "metadata area at %" PRIu64 ": cannot read it", m->offset);
		return 0;
	}
	if (le32_at(area) != lvm_crc(area + 4, MDA_HEADER_SIZE - 4) ||
	    memcmp(area + 4, MDA_MAGIC, 16) || le32_at(area + 20) != 1 ||
	    le64_at(area + 24) != m->offset) {
		note(pv, "metadata area at %" PRIu64 ": damaged header (checksum, magic or "
		     "location wrong); searching its buffer", m->offset);
		r = scan_copies(pv, area, m->size, m->offset, 0);
	} else {
		r = current_copy(pv, area, m->size, m->offset, &cur);
		if (!r)
			r = scan_copies(pv, area, m->size, m->offset, cur);
	}
	free(area);
	return r;
}

static int cmp_text(const void *a, const void *b)
{
	const struct lvm_text *x = a, *y = b;

	if (x->seqno != y->seqno)
		return x->seqno > y->seqno ? -1 : 1;
	return y->current - x->current;
}

/* A PV whose label is in the first sectors at @base of @fd. */
static int read_pv(struct lvm_pv *pv, const unsigned char *head)
{
	const unsigned char *lab = head + pv->label_sector * SECTOR, *p, *end = lab + SECTOR;
	struct locn data[MAX_AREAS], mda[MAX_AREAS];
	int nd, nm, r = 0;
	uint32_t hoff = le32_at(lab + 20);

	if (hoff < 32 || hoff + 40 > SECTOR)
		return -EINVAL;
	p = lab + hoff;
	format_uuid(p, pv->uuid);
	pv->dev_size = le64_at(p + 32);
	p = read_locns(p + 40, end, data, &nd);
	if (!p || !nd || !read_locns(p, end, mda, &nm))
		return -EINVAL;
	pv->pe_start = data[0].offset;
	for (int i = 0; i < nm && !r; i++)
		r = read_area(pv, &mda[i]);
	if (!r && pv->ntexts)
		qsort(pv->texts, pv->ntexts, sizeof(*pv->texts), cmp_text);
	return r;
}

/* Probe @base of @fd (a whole image, or one partition) for a PV. */
static int probe_at(struct lvm_pv_list *list, const char *path, int fd, uint64_t base,
		    uint64_t size, char *why, size_t len)
{
	unsigned char head[LABEL_SCAN_SECTORS * SECTOR];
	struct lvm_pv *pv, *grown;
	unsigned sector;
	int r;

	if (size < sizeof(head))
		return 0;
	r = pread_full(fd, head, sizeof(head), base);
	if (r < 0 || !find_label(head, &sector))
		return r < 0 ? r : 0;
	grown = realloc(list->pv, (list->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	list->pv = grown;
	pv = &list->pv[list->n];
	memset(pv, 0, sizeof(*pv));
	pv->fd = -1;
	pv->path = strdup(path);
	pv->base = base;
	pv->size = size;
	pv->label_sector = sector;
	if (!pv->path)
		return -ENOMEM;
	pv->fd = dup(fd);
	if (pv->fd < 0 || (r = read_pv(pv, head)) < 0) {
		r = pv->fd < 0 ? -errno : r;
		snprintf(why, len, "%s: offset %" PRIu64 ": a PV label whose header is %s", path,
			 base + sector * SECTOR, r == -EINVAL ? "damaged" : "unreadable");
		list->n++;
		return r;
	}
	list->n++;
	if (pv->dev_size > size)
		note(pv, "the PV header says %" PRIu64 " bytes, the image holds %" PRIu64
		     " from the PV's start: truncated?", pv->dev_size, size);
	return 1;
}

/* Each partition of a partition table (libblkid), probed for a PV. */
static int probe_partitions(struct lvm_pv_list *list, const char *path, int fd, uint64_t size,
			    char *why, size_t len)
{
	blkid_probe pr = blkid_new_probe();
	blkid_partlist pl;
	int found = 0, n, r = 0;

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, (blkid_loff_t)size) < 0 ||
	    blkid_probe_enable_partitions(pr, 1) < 0 || blkid_do_fullprobe(pr) < 0) {
		blkid_free_probe(pr);
		return 0;
	}
	pl = blkid_probe_get_partitions(pr);
	n = pl ? blkid_partlist_numof_partitions(pl) : 0;
	for (int i = 0; i < n && r >= 0; i++) {
		blkid_partition part = blkid_partlist_get_partition(pl, i);
		uint64_t start = (uint64_t)blkid_partition_get_start(part) * SECTOR;
		uint64_t psize = (uint64_t)blkid_partition_get_size(part) * SECTOR;

		if (start >= size)
			continue;
		if (psize > size - start)
			psize = size - start;
		r = probe_at(list, path, fd, start, psize, why, len);
		found += r > 0;
	}
	blkid_free_probe(pr);
	return r < 0 ? r : found;
}

int lvm_pv_scan(const char *path, struct lvm_pv_list *list, char *why, size_t len)
{
	struct stat st;
	uint64_t size;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* a live PV: what the kernel wrote below our page cache must be read */
	if (fd >= 0)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (fd < 0) {
		r = -errno;
		snprintf(why, len, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	r = fstat(fd, &st) < 0 ? -errno : fd_size(fd, &st, &size);
	if (r < 0) {
		snprintf(why, len, "cannot open %s: %s", path,
			 r == -EINVAL ? "not a regular file or block device" : strerror(-r));
		close(fd);
		return r;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); /* the kernel may have written it */
	r = probe_at(list, path, fd, 0, size, why, len);
	if (r == 0)
		r = probe_partitions(list, path, fd, size, why, len);
	if (r == 0)
		snprintf(why, len, "%s: no LVM physical volume label in its first %u sectors, nor "
			 "in a partition", path, LABEL_SCAN_SECTORS);
	close(fd);
	return r;
}

struct lvm_pv *lvm_pv_find(const struct lvm_pv_list *list, const char *uuid)
{
	for (size_t i = 0; i < list->n; i++)
		if (!strcmp(list->pv[i].uuid, uuid))
			return &list->pv[i];
	return NULL;
}

void lvm_pv_list_free(struct lvm_pv_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		struct lvm_pv *pv = &list->pv[i];

		for (size_t k = 0; k < pv->ntexts; k++)
			free(pv->texts[k].text);
		free(pv->texts);
		free(pv->path);
		if (pv->fd >= 0)
			close(pv->fd);
	}
	free(list->pv);
	list->pv = NULL;
	list->n = 0;
}
