/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btrfsprogs.h"

const uint64_t btrfs_sb_offset[BTRFS_SB_COPIES] = { 65536, 64ULL << 20, 256ULL << 30 };

/* ---- dump-super ---------------------------------------------------------- */

struct sb_parse {
	struct btrfs_sb *x;
	int cur;      /* the copy being printed, -1 before the first */
	int in_flags; /* inside a "( A | B )" list of feature names */
};

static void add_feature_names(struct btrfs_sb *x, const char *line)
{
	char copy[256], *save = NULL, *tok;
	size_t len = strlen(x->features);

	snprintf(copy, sizeof(copy), "%s", line);
	for (tok = strtok_r(copy, " \t()|", &save); tok; tok = strtok_r(NULL, " \t()|", &save)) {
		for (char *c = tok; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		len += (size_t)snprintf(x->features + len, len < sizeof(x->features) ?
					sizeof(x->features) - len : 0, "%s%s", len ? " " : "", tok);
	}
}

/* A "name<tabs>value" line of the primary superblock. */
static void primary_field(struct btrfs_sb *x, const char *key, const char *val)
{
	if (!strcmp(key, "total_bytes"))
		x->total_bytes = strtoull(val, NULL, 0);
	else if (!strcmp(key, "bytes_used"))
		x->bytes_used = strtoull(val, NULL, 0);
	else if (!strcmp(key, "num_devices"))
		x->num_devices = strtoull(val, NULL, 0);
	else if (!strcmp(key, "log_root"))
		x->log_root = strtoull(val, NULL, 0);
	else if (!strcmp(key, "dev_item.devid"))
		x->devid = strtoull(val, NULL, 0);
	else if (!strcmp(key, "sectorsize"))
		x->sectorsize = (unsigned int)strtoul(val, NULL, 0);
	else if (!strcmp(key, "nodesize"))
		x->nodesize = (unsigned int)strtoul(val, NULL, 0);
	else if (!strcmp(key, "fsid"))
		snprintf(x->fsid, sizeof(x->fsid), "%s", val);
	else if (!strcmp(key, "label"))
		snprintf(x->label, sizeof(x->label), "%s", val);
	else if (!strcmp(key, "csum_type") && strchr(val, '(')) /* "0 (crc32c)" */
		snprintf(x->csum_type, sizeof(x->csum_type), "%.*s",
			 (int)strcspn(strchr(val, '(') + 1, ")"), strchr(val, '(') + 1);
	else if (!strcmp(key, "flags"))
		snprintf(x->flags, sizeof(x->flags), "%s", val);
	else if (!strcmp(key, "dev_item.fsid"))
		x->dev_fsid_ok = strstr(val, "[match]") != NULL;
}

static int sb_line(void *data, char *line)
{
	struct sb_parse *p = data;
	struct btrfs_sb *x = p->x;
	unsigned long long at;
	char *key, *val;

	if (sscanf(line, "superblock: bytenr=%llu,", &at) == 1) {
		p->cur = -1;
		for (int i = 0; i < BTRFS_SB_COPIES; i++)
			if (btrfs_sb_offset[i] == at)
				p->cur = i;
		if (p->cur >= 0)
			x->copy[p->cur].seen = 1;
		return 0;
	}
	if (p->cur < 0)
		return 0;
	if (line[0] == '\t' || line[0] == ' ') {
		if (p->cur == 0 && p->in_flags)
			add_feature_names(x, line);
		p->in_flags = p->in_flags && !strchr(line, ')');
		return 0;
	}
	key = line;
	val = line + strcspn(line, "\t");
	if (*val)
		*val++ = '\0';
	val += strspn(val, "\t ");
	p->in_flags = (!strcmp(key, "compat_ro_flags") || !strcmp(key, "incompat_flags")) &&
		      strtoull(val, NULL, 0) != 0;
	if (!strcmp(key, "csum"))
		x->copy[p->cur].csum_ok = strstr(val, "[match]") != NULL;
	else if (!strcmp(key, "magic"))
		x->copy[p->cur].magic_ok = strstr(val, "[match]") != NULL;
	else if (!strcmp(key, "generation"))
		x->copy[p->cur].generation = strtoull(val, NULL, 0);
	else if (p->cur == 0)
		primary_field(x, key, val);
	return 0;
}

int btrfs_dump_super(const char *image, struct btrfs_sb *sb, char *why, size_t len)
{
	const char *prog = checker_locate("btrfs", why, len);
	char *argv[] = { (char *)prog, "inspect-internal", "dump-super", "-a", (char *)image, NULL };
	struct sb_parse p = { .x = sb, .cur = -1 };
	char *errors = NULL;
	int st;

	memset(sb, 0, sizeof(*sb));
	sb->dev_fsid_ok = 1;
	if (!prog)
		return -2;
	st = checker_run_lines(argv, -1, sb_line, &p, &errors);
	free(errors);
	if (st < 0) {
		snprintf(why, len, "cannot run %s: %s", prog, strerror(-st));
		return -1;
	}
	return 0;
}
