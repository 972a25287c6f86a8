/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: the tools' small string parsers (src/common/tool.c,
 * volume.c): sizes, numbers, "A..B" ranges (--chunks), VG/LV names, the
 * human size printer.  The input is the string (up to its first NUL);
 * every parser sees it.  Cross-checks (abort()): a number or size taken
 * starts with a digit (no blanks, signs) and is given back by printing
 * it (decimal: the same text; a size: its value in bytes); a range
 * is its two numbers in order; a VG/LV name is its two valid parts
 * joined by "/"; format_size() of any size fits its buffer.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lvm_vg.h"
#include "volume.h"

static void check_u64(const char *s)
{
	char back[32];
	uint64_t v;

	if (parse_u64(s, &v) < 0)
		return;
	FUZZ_CHECK(isdigit((unsigned char)s[0]), "parse_u64 takes \"%s\"", s);
	if (strncmp(s, "0x", 2) && strncmp(s, "0X", 2)) {
		snprintf(back, sizeof(back), "%" PRIu64, v);
		FUZZ_CHECK(!strcmp(back, s), "parse_u64(\"%s\") = %s", s, back);
	}
}

static void check_size(const char *s)
{
	char buf[32], again[64];
	uint64_t v, w;

	if (parse_size(s, &v) < 0)
		return;
	FUZZ_CHECK(isdigit((unsigned char)s[0]), "parse_size takes \"%s\"", s);
	snprintf(again, sizeof(again), "%" PRIu64, v);
	FUZZ_CHECK(parse_size(again, &w) == 0 && w == v, "parse_size(\"%s\") = %" PRIu64
		   ", which it does not read back", s, v);
	FUZZ_CHECK(strlen(format_size(v, buf, sizeof(buf))) < sizeof(buf) - 1,
		   "format_size(%" PRIu64 ") fills its buffer", v);
}

static void check_range(const char *s)
{
	uint64_t from = 0, to = UINT64_MAX;

	if (parse_range(s, &from, &to) < 0)
		return;
	FUZZ_CHECK(from <= to && strstr(s, ".."), "parse_range(\"%s\") = %" PRIu64 "..%" PRIu64,
		   s, from, to);
}

static int valid_part(const char *p)
{
	if (!*p || *p == '-')
		return 0;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("+_.-", *p))
			return 0;
	return 1;
}

static void check_name(const char *s)
{
	char vg[LVM_NAME_MAX], lv[LVM_NAME_MAX], joined[2 * LVM_NAME_MAX + 8];

	if (volume_split_name(s, vg, sizeof(vg), lv, sizeof(lv)) < 0)
		return;
	snprintf(joined, sizeof(joined), "%s%s/%s", strncmp(s, "/dev/", 5) ? "" : "/dev/", vg,
		 lv);
	FUZZ_CHECK(valid_part(vg) && valid_part(lv) && !strcmp(joined, s),
		   "volume_split_name(\"%s\") = \"%s\" / \"%s\"", s, vg, lv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	check_u64(s);
	check_size(s);
	check_range(s);
	check_name(s);
	free(s);
	return 0;
}

#include "replay.h"
