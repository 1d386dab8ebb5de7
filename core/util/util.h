/* Helpers that know nothing about drops: allocation, messages, clocks, bytes. */
#ifndef TCPDROP_UTIL_UTIL_H
#define TCPDROP_UTIL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* --- Small helpers every part of the core uses: allocation that cannot fail, logging. */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* FNV-1a over n bytes: the hash of the open-addressed tables of names and texts. */
static inline uint32_t fnv1a32(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

extern int verbose; /* -v: how much to say on stderr */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* "tcpdrop: message" on stderr; the v-variant only with -v. */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file (at most max bytes) into a NUL-terminated buffer; NULL and errno on failure. */
char *read_file(const char *path, size_t max, size_t *len);

uint64_t now_ns(int clock);

/*
 * Time that cannot wrap: a + b, UINT64_MAX (read as "never") when the sum does not fit. Every
 * addition of time in the core goes through here, or a recorded timestamp near 2^64 wraps a
 * deadline into the past and the loop that waits for it never ends.
 */
static inline uint64_t time_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Seconds as nanoseconds: 0 for NaN and s <= 0; UINT64_MAX when more than 2^64 ns. */
uint64_t sec_to_ns(double s);

/* n bytes of v at o; returns the end. For text built piece by piece in a buffer known to fit. */
static inline char *put_mem(char *o, const void *v, size_t n)
{
	memcpy(o, v, n);
	return o + n;
}

/* v in decimal at o; returns the end. The digits stored where they go, not gathered and copied. */
static inline char *put_u32(char *o, uint32_t v)
{
	size_t n = v < 10	    ? 1
		   : v < 100	    ? 2
		   : v < 1000	    ? 3
		   : v < 10000	    ? 4
		   : v < 100000	    ? 5
		   : v < 1000000    ? 6
		   : v < 10000000   ? 7
		   : v < 100000000  ? 8
		   : v < 1000000000 ? 9
				    : 10;
	char *p = o + n;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return o + n;
}

/*
 * --- Giving up root (--user). privs__prepare looks USER up (a name, or a uid the user database
 * knows; root itself is refused) while the database can still be read: 0, or -errno after one
 * line (not root, no such user). privs__drop then becomes that user for good: supplementary
 * groups cleared, its primary group, its uid, no capability left (effective, permitted,
 * inheritable, ambient; the bounding set as far as allowed), no_new_privs; and checks that all
 * of it holds. 0 (also when nothing was prepared, or it is done already), or -errno after one
 * line. Credentials of other threads follow the uid (glibc), not the capability calls: call it
 * from the thread that runs the scripts.
 */
int privs__prepare(const char *user);
int privs__drop(void);
/* 1 between privs__prepare and privs__drop: what needs root must be done (or opened) now. */
int privs__pending(void);

/*
 * After timing_start(1) (main, when TCPDROP_TIMING is set): "tcpdrop: [timing] +12.3 ms what
 * (hwm 4.1 MiB)" on stderr, the time since timing_start and the peak RSS so far, to see where
 * start-up goes. Nothing otherwise.
 */
void timing_start(int on);
void timing_mark(const char *what);

#endif
