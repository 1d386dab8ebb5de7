/* Unit tests of core/capture/bytes.h: the capture room's one set of byte-order helpers. */
#include <stdint.h>
#include <string.h>

#include "capture/bytes.h"

#define CHECK_SUITE "bytes"
#include "check.h"

int main(void)
{
	/* Bytes 08 07 .. 01: read in our byte order and in the other one. */
	const uint8_t le[8] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
	uint8_t b[8], *end;
	uint16_t x, y;
	uint64_t native;
	int little = 0;

	memcpy(&native, le, 8);
	little = native == 0x0102030405060708ULL;
	check("get16", get16(le, 0) == (little ? 0x0708 : 0x0807), "%#x", get16(le, 0));
	check("get16-swap", get16(le, 1) == (little ? 0x0807 : 0x0708), "%#x", get16(le, 1));
	check("get32", get32(le, 0) == (little ? 0x05060708u : 0x08070605u), "%#x", get32(le, 0));
	check("get32-swap", get32(le, 1) == __builtin_bswap32(get32(le, 0)), "%#x", get32(le, 1));
	check("get64", get64(le, 0) == native, "%#llx", (unsigned long long)get64(le, 0));
	check("get64-swap", get64(le, 1) == __builtin_bswap64(native), "%#llx",
	      (unsigned long long)get64(le, 1));
	get16x2(le, 0, &x, &y);
	check("get16x2", x == get16(le, 0) && y == get16(le + 2, 0), "%#x %#x", x, y);
	get16x2(le, 1, &x, &y);
	check("get16x2-swap", x == get16(le, 1) && y == get16(le + 2, 1), "%#x %#x", x, y);

	end = put64(put16(put16(b, 0x1234), 0x5678) - 4, 0x1122334455667788ULL);
	check("put64-end", end == b + 8, "%td", end - b);
	check("put64", get64(b, 0) == 0x1122334455667788ULL, "%#llx",
	      (unsigned long long)get64(b, 0));
	end = put32(put16(b, 0xabcd), 0x01020304u);
	check("put16-put32",
	      end == b + 6 && get16(b, 0) == 0xabcd && get32(b + 2, 0) == 0x01020304u, "%#x %#x",
	      get16(b, 0), get32(b + 2, 0));

	end = put32be(put16be(b, 0x0102), 0x03040506u);
	check("put-be", end == b + 6 && !memcmp(b, "\x01\x02\x03\x04\x05\x06", 6), "%02x %02x %02x",
	      b[0], b[1], b[2]);
	check("get-be", get16be(b) == 0x0102 && get32be(b + 2) == 0x03040506u, "%#x %#x",
	      get16be(b), get32be(b + 2));
	return failures ? 1 : 0;
}
