/*
 * Integers in capture files, private to core/capture: the one set of byte-order helpers. A
 * section's integers are in its writer's byte order (get: swap when it is not ours; put: ours,
 * as -w writes); the IP and TCP headers are big-endian.
 */
#ifndef TCPDROP_CAPTURE_BYTES_H
#define TCPDROP_CAPTURE_BYTES_H

#include <stdint.h>
#include <string.h>

/* swap: a constant where the caller is inlined for one byte order, so the test folds away. */
static inline uint16_t get16(const void *p, int swap)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return swap ? __builtin_bswap16(v) : v;
}

static inline uint32_t get32(const void *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static inline uint64_t get64(const void *p, int swap)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return swap ? __builtin_bswap64(v) : v;
}

/* Two 16-bit integers side by side (an option's code and length), in one load. */
static inline void get16x2(const void *p, int swap, uint16_t *first, uint16_t *second)
{
	uint32_t v;

	memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	*first = (uint16_t)v;
	*second = (uint16_t)(v >> 16);
#else
	*first = (uint16_t)(v >> 16);
	*second = (uint16_t)v;
#endif
	if (swap) {
		*first = __builtin_bswap16(*first);
		*second = __builtin_bswap16(*second);
	}
}

/* In our byte order at o; each returns the end. */
static inline uint8_t *put16(uint8_t *o, uint16_t v)
{
	memcpy(o, &v, 2);
	return o + 2;
}

static inline uint8_t *put32(uint8_t *o, uint32_t v)
{
	memcpy(o, &v, 4);
	return o + 4;
}

static inline uint8_t *put64(uint8_t *o, uint64_t v)
{
	memcpy(o, &v, 8);
	return o + 8;
}

/* Network byte order, for packet headers. */
static inline uint16_t get16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *put16be(uint8_t *o, uint16_t v)
{
	o[0] = (uint8_t)(v >> 8);
	o[1] = (uint8_t)v;
	return o + 2;
}

static inline uint8_t *put32be(uint8_t *o, uint32_t v)
{
	put16be(o, (uint16_t)(v >> 16));
	return put16be(o + 2, (uint16_t)v);
}

#endif
