/* Unit tests of core/names.c: reason and state tables, the tracepoint format parser, lookups. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym.h"
#include "util/util.h"

#define CHECK_SUITE "names"
#include "check.h"

static const char *str(const char *s)
{
	return s ? s : "(null)";
}

static void reason_is(struct names *nm, const char *name, uint32_t code, const char *want)
{
	const char *got = names__reason(nm, code);

	if (!want)
		check(name, got == NULL, "reason %u is '%s', want none", code, got);
	else
		check(name, got && !strcmp(got, want), "reason %u is '%s', want '%s'", code,
		      str(got), want);
}

static void code_is(struct names *nm, const char *name, const char *reason, int64_t want)
{
	int64_t got = names__reason_code(nm, reason);

	check(name, got == want, "code of '%s' is %lld, want %lld", reason, (long long)got,
	      (long long)want);
}

static char *fixture_text(void)
{
	const char *top = getenv("TOP");
	char path[4096];
	char *text;

	snprintf(path, sizeof(path), "%s%stests/unit/kfree_skb.format", top ? top : "",
		 top ? "/" : "");
	text = read_file(path, 1 << 20, NULL);
	if (!text)
		check("read the format fixture", 0, "%s: %s", path, strerror(errno));
	return text;
}

static void test_format(void)
{
	struct names *nm = names__new();
	char *text = fixture_text();
	char order[128] = "";
	int err;

	if (!text) {
		names__free(nm);
		return;
	}
	err = names__load_format(nm, text);
	free(text);
	check("load_format on the fixture", err == 0, "returned %d", err);
	reason_is(nm, "format: NO_SOCKET", 3, "NO_SOCKET");
	reason_is(nm, "format: NETFILTER_DROP", 12, "NETFILTER_DROP");
	reason_is(nm, "format: a high code", 104, "QUEUE_PURGE");
	reason_is(nm, "format: the last entry, MAX, bounds the enum: no reason", 128, NULL);
	reason_is(nm, "format: a gap has no name", 5, NULL);
	reason_is(nm, "format: code 0 is not listed", 0, NULL);
	reason_is(nm, "format: past the end", 129, NULL);
	reason_is(nm, "format: far past the end", 60000, NULL);

	code_is(nm, "code by name", "TCP_INVALID_SYN", 46);
	code_is(nm, "code by lower-case name", "no_socket", 3);
	code_is(nm, "code with the enum prefix", "SKB_DROP_REASON_NETFILTER_DROP", 12);
	code_is(nm, "code with a lower-case prefix", "skb_drop_reason_tcp_invalid_sequence", 42);
	code_is(nm, "code of a prefix of a name", "NO_SOCK", -1);
	code_is(nm, "code of a longer name", "NO_SOCKETS", -1);
	code_is(nm, "code of an empty name", "", -1);
	code_is(nm, "code of the bare prefix", "SKB_DROP_REASON_", -1);

	for (int64_t c = names__next_reason(nm, -1); c >= 0; c = names__next_reason(nm, c))
		snprintf(order + strlen(order), sizeof(order) - strlen(order), "%lld ",
			 (long long)c);
	check("next_reason walks the codes in order", !strcmp(order, "2 3 4 12 42 46 104 "), "'%s'",
	      order);
	check("next_reason after the last", names__next_reason(nm, 104) == -1, "not -1");

	names__set_reason(nm, 3, "RENAMED");
	reason_is(nm, "set_reason replaces a name", 3, "RENAMED");
	code_is(nm, "the old name is gone", "NO_SOCKET", -1);
	names__free(nm);
	names__free(NULL);
}

static void test_format_edges(void)
{
	struct names *nm = names__new();
	char longname[300], text[512];
	int err;

	err = names__load_format(nm, "print fmt: \"reason: %s\", REC->reason");
	check("format without __print_symbolic", err == -ENOENT, "returned %d", err);
	err = names__load_format(nm, "__print_symbolic(REC->reason)");
	check("format with an empty list", err == -ENOENT, "returned %d", err);
	check("a failed parse adds nothing", names__next_reason(nm, -1) == -1, "has names");

	err = names__load_format(nm, "__print_symbolic(REC->reason, {2,\"TIGHT\"}, "
				     "{  7 ,  \"LOOSE\"  }, { x, \"BAD\" }, { 9, \"AFTER_BAD\" })");
	check("format spacing variants", err == 0, "returned %d", err);
	reason_is(nm, "format without spaces", 2, "TIGHT");
	reason_is(nm, "format with extra spaces", 7, "LOOSE");
	reason_is(nm, "format: entry after a malformed one", 9, "AFTER_BAD");
	code_is(nm, "format: malformed entry is skipped", "BAD", -1);

	memset(longname, 'L', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "__print_symbolic(REC->reason, { 20, \"%s\" }, { 21, \"OK\" })", longname);
	names__load_format(nm, text);
	reason_is(nm, "format: an over-long name is skipped", 20, NULL);
	reason_is(nm, "format: entry after an over-long name", 21, "OK");
	names__free(nm);
}

static void test_tables(void)
{
	struct names *nm = names__new();

	reason_is(nm, "empty table", 3, NULL);
	check("empty table has no states", names__state(nm, 1) == NULL, "has a state");
	check("empty table iterates nothing", names__next_reason(nm, -1) == -1, "not -1");

	names__set_reason(nm, 65535, "LAST_CORE");
	reason_is(nm, "largest core code", 65535, "LAST_CORE");
	names__set_reason(nm, 0x20001, "OVS_XMIT");
	reason_is(nm, "subsystem reason", 0x20001, "OVS_XMIT");
	reason_is(nm, "unknown subsystem reason", 0x20002, NULL);
	names__set_reason(nm, 0x20001, "OVS_XMIT_RENAMED");
	reason_is(nm, "subsystem reason renamed", 0x20001, "OVS_XMIT_RENAMED");
	check("subsystem reasons are not core reasons",
	      names__next_reason(nm, -1) == 65535 && names__next_reason(nm, 65535) == -1,
	      "walk gives %lld", (long long)names__next_reason(nm, -1));

	names__set_state(nm, 1, "ESTABLISHED");
	names__set_state(nm, 31, "LAST");
	names__set_state(nm, 32, "TOO_FAR");
	check("state by code", !strcmp(str(names__state(nm, 1)), "ESTABLISHED"), "'%s'",
	      str(names__state(nm, 1)));
	check("highest state", !strcmp(str(names__state(nm, 31)), "LAST"), "'%s'",
	      str(names__state(nm, 31)));
	check("state out of range", names__state(nm, 32) == NULL && names__state(nm, 1000) == NULL,
	      "has a name");
	check("state 0 has no name", names__state(nm, 0) == NULL, "'%s'", names__state(nm, 0));
	names__free(nm);
}

/* The running kernel: BTF names must agree with the tracepoint's own list, code for code. */
static void test_kernel(void)
{
	static const char *const fmt_paths[] = {
		"/sys/kernel/tracing/events/skb/kfree_skb/format",
		"/sys/kernel/debug/tracing/events/skb/kfree_skb/format",
	};
	struct names *nm = names__new(), *fm = names__new();
	char *text = NULL;
	int err = names__load_kernel(nm, NULL), compared = 0, wrong = 0;

	check("load_kernel", err == 0, "returned %d", err);
	check("kernel state ESTABLISHED", !strcmp(str(names__state(nm, 1)), "ESTABLISHED"), "'%s'",
	      str(names__state(nm, 1)));
	check("kernel state CLOSE", !strcmp(str(names__state(nm, 7)), "CLOSE"), "'%s'",
	      str(names__state(nm, 7)));
	check("kernel state LISTEN", !strcmp(str(names__state(nm, 10)), "LISTEN"), "'%s'",
	      str(names__state(nm, 10)));
	for (size_t i = 0; i < ARRAY_SIZE(fmt_paths) && !text; i++)
		text = read_file(fmt_paths[i], 1 << 20, NULL);
	if (!text || names__load_format(fm, text)) {
		printf("NOTE names: no readable kfree_skb format with reasons: BTF not "
		       "cross-checked\n");
	} else {
		for (int64_t c = names__next_reason(fm, -1); c >= 0;
		     c = names__next_reason(fm, c)) {
			const char *a = names__reason(fm, (uint32_t)c);
			const char *b = names__reason(nm, (uint32_t)c);

			compared++;
			if (!b || strcmp(a, b)) {
				if (!wrong)
					printf("    code %lld: format '%s', BTF '%s'\n",
					       (long long)c, a, str(b));
				wrong++;
			}
		}
		check("kernel BTF reasons match the tracepoint format", compared > 0 && !wrong,
		      "%d of %d differ", wrong, compared);
	}
	free(text);
	names__free(fm);
	names__free(nm);
}

int main(void)
{
	test_format();
	test_format_edges();
	test_tables();
	test_kernel();
	return failures ? 1 : 0;
}
