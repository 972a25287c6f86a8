/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: any bytes as a disk image holding LVM physical volumes
 * (src/common/lvm_pv.c: the PV label, the metadata area headers, the
 * circular buffer's copies of the metadata text, an msdos or gpt
 * partition table through libblkid), as --pv IMAGE reads one; then every
 * copy of the text found goes through lvm_vg_parse() and the VG walk of
 * fuzz_lvm_vg, attached to the PVs found.  An input of even size is the
 * start of a 4 MiB image (zeros after it: the metadata area of a PV fits
 * in 64 KiB but lies inside a larger device); an odd size is the whole
 * image (truncated PVs).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "lvm_walk.h"

#define IMAGE_BYTES (4 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lvm_pv_list list = { NULL, 0 };
	char path[64], why[512];
	size_t i, t;
	int fd = fuzz_memfd(data, size);

	if (fd < 0)
		return 0;
	if (size % 2 == 0 && size < IMAGE_BYTES && ftruncate(fd, IMAGE_BYTES) < 0)
		goto out;
	if (lvm_pv_scan(fuzz_fd_path(fd, path, sizeof(path)), &list, why, sizeof(why)) > 0) {
		for (i = 0; i < list.n; i++) {
			const struct lvm_pv *pv = &list.pv[i];

			FUZZ_CHECK(lvm_pv_find(&list, pv->uuid) != NULL, "PV %s not found by its UUID",
				   pv->uuid);
			for (t = 0; t < pv->ntexts; t++) {
				struct lvm_vg *vg;

				FUZZ_CHECK(pv->texts[t].text[pv->texts[t].len] == '\0',
					   "text %zu of PV %zu: no NUL after its %zu bytes", t, i,
					   pv->texts[t].len);
				if (lvm_vg_parse(pv->texts[t].text, pv->texts[t].len, &vg, why,
						 sizeof(why)) == 0) {
					fuzz_walk_vg(vg, &list);
					lvm_vg_free(vg);
				}
			}
		}
	}
	lvm_pv_list_free(&list);
out:
	fuzz_memfd_close(fd);
	return 0;
}

#include "replay.h"
