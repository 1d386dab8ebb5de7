/* Shared by the segment-sending helpers: TCP flags from letters, the Internet checksum. */
#ifndef TCPSEG_H
#define TCPSEG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Letters F S R P A U E C (FIN SYN RST PSH ACK URG ECE CWR), or "." for none; -1 if bad. */
static inline int parse_flags(const char *s)
{
	static const char letters[] = "FSRPAUEC";
	int f = 0;

	if (!strcmp(s, "."))
		return 0;
	for (; *s; s++) {
		const char *p = strchr(letters, *s);

		if (!p)
			return -1;
		f |= 1 << (p - letters);
	}
	return f;
}

static inline uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif
