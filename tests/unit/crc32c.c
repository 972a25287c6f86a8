/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crc32c_raw (src/shared/io.c, sliced by 8) against the check value of
 * CRC-32C and a byte-at-a-time reference, at every length and alignment
 * up to 100 bytes and on a 4 KiB block. */
#include "unit.h"
#include "shared.h"

static uint32_t reference(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78U : crc >> 1;
	}
	return crc;
}

int main(void)
{
	static unsigned char buf[4096 + 16];
	size_t i, len, off;

	CHECK_EQ(crc32c_raw(0xffffffffU, "123456789", 9) ^ 0xffffffffU, 0xe3069283U);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + (i >> 8) * 7 + 1);
	for (off = 0; off < 8; off++)
		for (len = 0; len <= 100; len++)
			CHECK_EQ(crc32c_raw(0x12345678U, buf + off, len),
				 reference(0x12345678U, buf + off, len));
	CHECK_EQ(crc32c_raw(0xffffffffU, buf + 3, 4096), reference(0xffffffffU, buf + 3, 4096));
	/* in two calls as in one */
	CHECK_EQ(crc32c_raw(crc32c_raw(0xffffffffU, buf, 13), buf + 13, 4000),
		 reference(0xffffffffU, buf, 4013));
	return unit_done("crc32c");
}
