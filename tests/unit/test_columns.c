/* Unit tests of core/columns.c: the printers' first columns, exact and within their room. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lua/bridge.h"
#include "sym/sym.h"

#define CHECK_SUITE "columns"
#include "check.h"

#define CANARY 0x5a

static struct tcpdrop_event ev(int family, const char *src, const char *dst, uint32_t pid,
			       uint16_t sport, uint16_t dport)
{
	struct tcpdrop_event e;

	memset(&e, 0, sizeof(e));
	e.family = (uint8_t)family;
	inet_pton(family == 6 ? AF_INET6 : AF_INET, src, e.saddr_raw);
	inet_pton(family == 6 ? AF_INET6 : AF_INET, dst, e.daddr_raw);
	e.pid = pid;
	e.sport = sport;
	e.dport = dport;
	return e;
}

/* The columns for e, checked against want, and no byte written past the room promised. */
static void flow_is(const char *name, const struct tcpdrop_event *e, int pid_width,
		    const char *time, const char *want)
{
	char buf[64 + COLUMNS_FLOW_ROOM + 16];
	int tlen = (int)strlen(time), n, clean = 1;

	memset(buf, CANARY, sizeof(buf));
	/* The classic printer asks for PID width 6 and bare IPv6 endpoints; the others bracket. */
	n = columns__flow(buf, e, pid_width, pid_width != 6, time, tlen);
	for (size_t i = (size_t)tlen + COLUMNS_FLOW_ROOM; i < sizeof(buf); i++)
		clean &= buf[i] == CANARY;
	check(name,
	      n >= 0 && n <= tlen + COLUMNS_FLOW_ROOM && clean && (size_t)n == strlen(want) &&
		      !memcmp(buf, want, (size_t)n),
	      "got [%.*s] (%d bytes%s), want [%s]", n, buf, n, clean ? "" : ", past its room",
	      want);
}

/* Against printf's own %-Ns and %u: every digit count of a PID, port and address byte. */
static void test_against_printf(void)
{
	static const uint32_t nums[] = { 0,	     9,		 10,	  99,	    100,
					 255,	     999,	 1000,	  65535,    99999,
					 100000,     4194304,	 9999999, 10000000, 999999999,
					 1000000000, 4294967295u };
	size_t count = sizeof(nums) / sizeof(nums[0]);
	int wrong = 0, compared = 0;

	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; j < count; j++) {
			struct tcpdrop_event e;
			char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], a[64], b[64];
			char want[256], got[256 + COLUMNS_FLOW_ROOM];
			uint8_t x = (uint8_t)nums[i], y = (uint8_t)nums[j];
			int n;

			snprintf(src, sizeof(src), "%u.%u.%u.%u", x, y, (uint8_t)(x + 1), y);
			snprintf(dst, sizeof(dst), "%u.%u.%u.%u", y, x, x, (uint8_t)(y * 7));
			e = ev(4, src, dst, nums[i], (uint16_t)nums[j], (uint16_t)nums[i]);
			snprintf(a, sizeof(a), "%s:%u", src, (uint16_t)nums[j]);
			snprintf(b, sizeof(b), "%s:%u", dst, (uint16_t)nums[i]);
			snprintf(want, sizeof(want), "%-8s %-7u %-2u %-20s > %-20s ", "12:00:00",
				 nums[i], 4u, a, b);
			n = columns__flow(got, &e, 7, 1, "12:00:00", 8);
			compared++;
			if ((size_t)n != strlen(want) || memcmp(got, want, (size_t)n)) {
				if (!wrong)
					printf("    first difference: got [%.*s], want [%s]\n", n,
					       got, want);
				wrong++;
			}
		}
	}
	check("as-printf", !wrong, "%d of %d differ", wrong, compared);
}

/*
 * A symboliser for the tests: "fn_ADDR+0x1", or a 200-character name for addresses over 1000;
 * "text_ID" for frame-text ids. The flags it was given, by call.
 */
static int sym_calls, sym_flags[64];
static int fake_sym(void *ctx, __u64 addr, int flags, char *buf, int len)
{
	sym_flags[sym_calls++ % 64] = flags;
	if (flags & KSYMS_IDS)
		return snprintf(buf, (size_t)len, "text_%llu", (unsigned long long)addr);
	if (addr > 1000)
		return snprintf(buf, (size_t)len, "%0200llu", (unsigned long long)addr);
	return snprintf(buf, (size_t)len, "fn_%llu+0x1", (unsigned long long)addr);
}

static void frames_is(const char *name, const struct tcpdrop_event *e, int room, const char *want)
{
	static char buf[COLUMNS_FRAMES_ROOM + 64];
	int n;

	memset(buf, CANARY, sizeof(buf));
	n = columns__frames(buf, room, e, fake_sym, NULL);
	check(name,
	      n >= 0 && n <= room && (size_t)n == strlen(want) && !memcmp(buf, want, (size_t)n) &&
		      buf[room] == CANARY,
	      "got %d bytes [%.*s], want [%s]", n, n > 300 ? 300 : n, buf, want);
}

static void test_frames(void)
{
	struct tcpdrop_event e;
	char want[COLUMNS_FRAMES_ROOM], line[256];
	int calls;

	memset(&e, 0, sizeof(e));
	frames_is("frames-none", &e, COLUMNS_FRAMES_ROOM, "");
	e.nstack = 3;
	e.stack_addr[0] = 7;
	e.stack_addr[1] = 7 + 1024; /* a long text */
	e.stack_addr[2] = 9;
	snprintf(want, sizeof(want), "\tfn_7+0x1\n\t%0200d\n\tfn_9+0x1\n", 1031);
	frames_is("frames", &e, COLUMNS_FRAMES_ROOM, want);
	e.stack_addr[1] = 8;
	calls = sym_calls;
	frames_is("frames-again", &e, COLUMNS_FRAMES_ROOM, "\tfn_7+0x1\n\tfn_8+0x1\n\tfn_9+0x1\n");
	check("frames-one-call-each", sym_calls - calls == 3, "%d symboliser calls for 3 frames",
	      sym_calls - calls);
	/* The location is taken as it is; the frames after it are return addresses. */
	check("frames-return-addresses",
	      !(sym_flags[calls % 64] & KSYMS_RET) && sym_flags[(calls + 1) % 64] & KSYMS_RET &&
		      sym_flags[(calls + 2) % 64] & KSYMS_RET,
	      "flags %#x %#x %#x", sym_flags[calls % 64], sym_flags[(calls + 1) % 64],
	      sym_flags[(calls + 2) % 64]);
	e.evflags = TCPDROP_F_FRAME_IDS;
	frames_is("frames-ids", &e, COLUMNS_FRAMES_ROOM, "\ttext_7\n\ttext_8\n\ttext_9\n");
	e.evflags = 0;

	/* A full stack and more frames claimed than the struct holds: 32 lines, no more. */
	e.nstack = 40;
	want[0] = 0;
	for (int i = 0; i < TCPDROP_STACK_MAX; i++) {
		e.stack_addr[i] = (__u64)(100 + i);
		snprintf(line, sizeof(line), "\tfn_%d+0x1\n", 100 + i);
		strcat(want, line);
	}
	frames_is("frames-full", &e, COLUMNS_FRAMES_ROOM, want);
	/* Too little room: whole lines only, while the longest line still fits. */
	frames_is("frames-room", &e, COLUMNS_FRAME_MAX + 2 + 20, "\tfn_100+0x1\n\tfn_101+0x1\n");
}

int main(void)
{
	test_frames();
	test_against_printf();
	struct tcpdrop_event e;

	e = ev(4, "10.0.0.2", "10.0.0.1", 0, 40000, 80);
	flow_is("ipv4", &e, 7, "14:46:49",
		"14:46:49 0       4  10.0.0.2:40000       > 10.0.0.1:80          ");
	flow_is("ipv4-classic-pid-width", &e, 6, "14:46:49",
		"14:46:49 0      4  10.0.0.2:40000       > 10.0.0.1:80          ");
	e = ev(4, "255.255.255.255", "255.255.255.255", 4294967295u, 65535, 65535);
	flow_is("ipv4-widest", &e, 7, "14:46:49",
		"14:46:49 4294967295 4  255.255.255.255:65535 > 255.255.255.255:65535 ");
	/* IPv6 endpoints in brackets: "2001:db8::7:51986" says not where the address ends. */
	e = ev(6, "fd00::2", "fd00::1", 4242, 5000, 443);
	flow_is("ipv6", &e, 7, "14:46:49",
		"14:46:49 4242    6  [fd00::2]:5000       > [fd00::1]:443        ");
	e = ev(6, "2001:db8:ec0::7", "2001:db8::1", 0, 51986, 80);
	flow_is("ipv6-port-apart", &e, 7, "14:46:49",
		"14:46:49 0       6  [2001:db8:ec0::7]:51986 > [2001:db8::1]:80     ");
	/* The 2018 format stays as it was, byte for byte. */
	flow_is("ipv6-classic-bare", &e, 6, "14:46:49",
		"14:46:49 0      6  2001:db8:ec0::7:51986 > 2001:db8::1:80       ");
	/* The widest a line can be: a PID column past the clamp, 39-character addresses. */
	e = ev(6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
	       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 4294967295u, 65535, 65535);
	flow_is("ipv6-widest", &e, 1000, "14:46:49",
		"14:46:49 4294967295                       6  "
		"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535 > "
		"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535 ");
	return failures ? 1 : 0;
}
