/* Names from the wire and from processes, made safe for a terminal with libbsd's strnvis(3). */
#define LIBBSD_NETBSD_VIS
#include <bsd/vis.h>

#include "lua/bridge.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/*
 * The length of the printable UTF-8 character at s (at most n bytes), 0 when the byte at s must
 * be escaped. strnvis(3) alone would decide by the locale, which tcpdrop never sets: in the C
 * locale it escapes every byte above 0x7f, valid UTF-8 too.
 */
static size_t printable(const unsigned char *s, size_t n, int how)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c == '\\')
		return 0;
	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c < 0x80)
		return (how & VIS_TEXT_LINES) && (c == '\n' || c == '\t') ? 1 : 0;
	if (c == 0xc2) /* U+0080..U+009F are the C1 controls: 0xc2 0x9b is a CSI too */
		lo = 0xa0;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* A byte below n in w (n <= 0x80); a zero byte in w. Exact, eight bytes at once. */
static inline uint64_t has_less(uint64_t w, uint64_t n)
{
	return (w - ONES * n) & ~w & HIGHS;
}

static inline uint64_t has_zero(uint64_t w)
{
	return (w - ONES) & ~w & HIGHS;
}

/* Eight bytes at a time: this runs for each frame of each drop the default printer shows. */
int vis__plain(const char *s, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if ((w & HIGHS) | has_less(w, 0x20) | has_zero(w ^ (ONES * 0x7f)) |
		    has_zero(w ^ (ONES * '\\')))
			return 0;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			return 0;
	}
	return 1;
}

int vis__text(char *dst, size_t cap, const char *src, size_t n, int how)
{
	const unsigned char *s = (const unsigned char *)src;
	int flags = VIS_CSTYLE | VIS_OCTAL | VIS_NOLOCALE;
	size_t o = 0, i = 0;

	if (!(how & VIS_TEXT_LINES))
		flags |= VIS_TAB | VIS_NL;
	if (!cap)
		return -ENOSPC;
	while (i < n) {
		size_t run = 0, k;
		int w;

		while (i + run < n && (k = printable(s + i + run, n - i - run, how)))
			run += k;
		if (run) {
			if (o + run >= cap)
				return -ENOSPC;
			memcpy(dst + o, s + i, run);
			o += run;
			i += run;
			continue;
		}
		/* A NUL in full (\000): C style's "\0" before a digit would read as one escape. */
		w = strnvisx(dst + o, cap - o, src + i, 1, s[i] ? flags : flags & ~VIS_CSTYLE);
		if (w < 0)
			return -ENOSPC;
		o += (size_t)w;
		i++;
	}
	dst[o] = '\0';
	return (int)o;
}
