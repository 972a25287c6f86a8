/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rows of `lvs` (see lvm.h): a pure function of the text. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvm.h"

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

int lvrow_parse(const char *line, struct lvrow *row, char *why, size_t len)
{
	char *copy = strdup(line), *f[LVS_NFIELDS + 1], *q;
	struct lvrow r = { 0 };
	int n = 0;

	if (!copy)
		return -ENOMEM;
	copy[strcspn(copy, "\n")] = '\0';
	/* split by hand: fields may be empty */
	for (q = copy; n < LVS_NFIELDS + 1;) {
		f[n++] = q;
		q = strchr(q, '|');
		if (!q)
			break;
		*q++ = '\0';
	}
	if (n != LVS_NFIELDS) {
		snprintf(why, len, "unexpected lvs output (%d fields)", n);
		free(copy);
		return -EINVAL;
	}
	copy_field(r.name, sizeof(r.name), f[0]);
	copy_field(r.vg, sizeof(r.vg), f[1]);
	copy_field(r.attr, sizeof(r.attr), f[2]);
	r.size = strtoull(f[3], NULL, 10);
	copy_field(r.origin, sizeof(r.origin), f[4]);
	r.origin_size = strtoull(f[5], NULL, 10);
	copy_field(r.segtype, sizeof(r.segtype), f[6]);
	copy_field(r.pool, sizeof(r.pool), f[7]);
	r.chunk = strtoull(f[8], NULL, 10);
	r.extent = strtoull(f[9], NULL, 10);
	r.vg_free = strtoull(f[10], NULL, 10);
	copy_field(r.health, sizeof(r.health), f[11]);
	r.data_pct = strtod(f[12], NULL);
	r.meta_pct = strtod(f[13], NULL);
	r.meta_size = strtoull(f[14], NULL, 10);
	free(copy);
	*row = r;
	return 0;
}
