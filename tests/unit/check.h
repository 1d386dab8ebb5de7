/* The unit tests' one reporting function: a PASS or FAIL line per check, as the suites print. */
#ifndef TCPDROP_TEST_CHECK_H
#define TCPDROP_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>

/* Each test file defines CHECK_SUITE ("ksyms", ...) before including this. */
static int failures;

static void check(const char *name, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), unused));

static void check(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS " CHECK_SUITE " %s\n", name);
		return;
	}
	failures++;
	printf("FAIL " CHECK_SUITE " %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#endif
