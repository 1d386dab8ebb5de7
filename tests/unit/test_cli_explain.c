/*
 * The descriptions --explain and --list-reasons print (core/sym/explain.c), as the CLI relies
 * on them: every name spelled as the kernel spells reasons, once; every text there, one line.
 */
#include <ctype.h>
#include <string.h>

#include "sym/sym.h"

#define CHECK_SUITE "cli-explain"
#include "check.h"

static int word(const char *s, int upper)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!(upper ? isupper((unsigned char)*s) || *s == '_'
			    : isalpha((unsigned char)*s)) &&
		    !isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Text for one line of a terminal: printable ASCII, no leading or trailing blank. */
static int line(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* A kernel's name, or one tcpdrop gives: "NAME (tcpdrop)". */
static int name_ok(const char *s)
{
	char w[128];
	size_t n = s ? strlen(s) : 0;

	if (n > 10 && n < sizeof(w) && !strcmp(s + n - 10, " (tcpdrop)")) {
		memcpy(w, s, n - 10);
		w[n - 10] = '\0';
		return word(w, 1);
	}
	return word(s, 1);
}

int main(void)
{
	const struct reason_help *h, *g;
	size_t i, bad = 0, dup = 0;
	char first_bad[128] = "";

	for (i = 0; (h = reason_help__at(i)); i++) {
		int ok = name_ok(h->name) && strncmp(h->name, "SKB_DROP_REASON_", 16) &&
			 (!h->mib || word(h->mib, 0)) && line(h->what) && line(h->check);

		if (!ok && !bad++)
			snprintf(first_bad, sizeof(first_bad), "%s", h->name ? h->name : "(null)");
		g = reason_help__find(h->name);
		if (g != h)
			dup++;
	}
	check("descriptions exist", i > 0, "reason_help__at(0) is NULL");
	check("every description well formed", !bad, "%zu bad, the first %s", bad, first_bad);
	check("every name once, found by name", !dup, "%zu names found elsewhere", dup);
	check("unknown name", !reason_help__find("NO_SUCH_REASON_AT_ALL"), "found");
	return failures != 0;
}
