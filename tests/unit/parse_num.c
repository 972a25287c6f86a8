/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The tools' number, size and range parsers (tool.c): what they take and
 * what they refuse.  Regression: strtoull's leading blanks and sign and
 * base 0's octal ("010" was 8, " -1" was 2^64-1) are refused. */
#include <errno.h>
#include <stdint.h>

#include "unit.h"
#include "tool.h"

int main(void)
{
	uint64_t v = 0, from, to;

	CHECK_EQ(parse_u64("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(parse_u64("0x1f", &v), 0);
	CHECK_EQ(v, 31);
	CHECK_EQ(parse_u64("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(parse_u64("18446744073709551615", &v), 0);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(parse_u64("18446744073709551616", &v), -ERANGE);
	CHECK_EQ(parse_u64("010", &v), -EINVAL);
	CHECK_EQ(parse_u64(" 5", &v), -EINVAL);
	CHECK_EQ(parse_u64(" -1", &v), -EINVAL);
	CHECK_EQ(parse_u64("-1", &v), -EINVAL);
	CHECK_EQ(parse_u64("0x", &v), -EINVAL);
	CHECK_EQ(parse_u64("0x 5", &v), -EINVAL);
	CHECK_EQ(parse_u64("", &v), -EINVAL);
	CHECK_EQ(parse_size("64k", &v), 0);
	CHECK_EQ(v, 65536);
	CHECK_EQ(parse_size("2GiB", &v), 0);
	CHECK_EQ(v, (uint64_t)2 << 30);
	CHECK_EQ(parse_size(" -1", &v), -EINVAL);
	CHECK_EQ(parse_size("\t8M", &v), -EINVAL);
	CHECK_EQ(parse_size("16E", &v), -ERANGE);
	from = 0, to = UINT64_MAX;
	CHECK_EQ(parse_range("10..20", &from, &to), 0);
	CHECK(from == 10 && to == 20);
	from = 0, to = UINT64_MAX;
	CHECK_EQ(parse_range("..5", &from, &to), 0);
	CHECK(from == 0 && to == 5);
	from = 0, to = UINT64_MAX;
	CHECK_EQ(parse_range("7..", &from, &to), 0);
	CHECK(from == 7 && to == UINT64_MAX);
	CHECK_EQ(parse_range("9..3", &from, &to), -EINVAL);
	CHECK_EQ(parse_range("010..20", &from, &to), -EINVAL);
	CHECK_EQ(parse_range("5", &from, &to), -EINVAL);
	return unit_done("parse_num");
}
