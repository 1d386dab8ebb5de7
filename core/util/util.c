/* Allocation that cannot fail, one-line messages, small file and clock helpers. */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int verbose;

static void oom(void)
{
	fputs("tcpdrop: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

static void vsay(const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "tcpdrop: %s\n", buf);
}

void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

void vmsg(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

char *read_file(const char *path, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= max)
				break;
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;

			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

uint64_t now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t sec_to_ns(double s)
{
	double ns = s * 1e9;

	/* Written so that NaN is 0: every comparison with it is false. */
	if (!(ns > 0))
		return 0;
	/* 2^64: a double that converts beyond it is undefined, not saturated. */
	if (!(ns < 18446744073709551616.0))
		return UINT64_MAX;
	return (uint64_t)ns;
}

static int timing_on;
static uint64_t timing_t0;

void timing_start(int on)
{
	timing_on = on;
	timing_t0 = now_ns(CLOCK_MONOTONIC);
}

void timing_mark(const char *what)
{
	char *status, *p;
	double hwm = 0;

	if (!timing_on)
		return;
	status = read_file("/proc/self/status", 1 << 16, NULL);
	if (status && (p = strstr(status, "\nVmHWM:")))
		hwm = strtod(p + 8, NULL) / 1024;
	free(status);
	fprintf(stderr, "tcpdrop: [timing] +%.1f ms %s (hwm %.1f MiB)\n",
		(double)(now_ns(CLOCK_MONOTONIC) - timing_t0) / 1e6, what, hwm);
}
