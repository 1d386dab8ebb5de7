/* Unit tests of core/kernel/mib.c: the MIB files' formats, snapshots, bounds, coverage verdicts. */
#define _GNU_SOURCE /* open_memstream */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/kernel.h"
#include "sym/sym.h"
#include "util/util.h"

#define CHECK_SUITE "mib"
#include "check.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		check("write a fixture", 0, "%s: %s", path, strerror(errno));
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void gone(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* start and now of a counter of namespace ino, as "start/now", or "none". */
static const char *val(struct mib *m, uint64_t ino, const char *name)
{
	static char buf[64];
	uint64_t start, now;

	if (mib__find(m, ino, name, &start, &now))
		return "none";
	snprintf(buf, sizeof(buf), "%" PRIu64 "/%" PRIu64, start, now);
	return buf;
}

static void val_is(struct mib *m, const char *what, uint64_t ino, const char *name,
		   const char *want)
{
	const char *got = val(m, ino, name);

	check(what, !strcmp(got, want), "%s is %s, want %s", name, got, want);
}

static const char netstat1[] = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPRcvQDrop\n"
			       "TcpExt: 0 5 6 10\n"
			       "IpExt: InNoRoutes InCsumErrors\n"
			       "IpExt: 2 0\n";
static const char snmp1[] = "Ip: Forwarding DefaultTTL InReceives\n"
			    "Ip: 1 64 100\n"
			    "Tcp: RtoAlgorithm MaxConn InCsumErrors\n"
			    "Tcp: 1 -1 3\n";
static const char snmp6_1[] = "Ip6InReceives                   \t40\n"
			      "Ip6InHdrErrors                  \t1\n";

static void test_formats(void)
{
	struct mib *m = mib__new(0);
	struct mib_ns ns;

	put("netstat", netstat1);
	put("snmp", snmp1);
	put("snmp6", snmp6_1);
	check("watch a directory", mib__watch_dir(m, 7, dir) == 1, "not watched");
	check("watch is idempotent", mib__watch_dir(m, 7, dir) == 1 && mib__ns_count(m) == 1,
	      "%zu namespaces", mib__ns_count(m));
	check("the namespace's details", !mib__ns(m, 0, &ns) && ns.ino == 7 && ns.open && !ns.err,
	      "ino %" PRIu64 " open %d err %d", ns.ino, ns.open, ns.err);
	check("past the last namespace", mib__ns(m, 1, &ns) == -ENOENT, "an entry");
	val_is(m, "netstat: group and name", 7, "TcpExtListenOverflows", "5/5");
	val_is(m, "netstat: the last of a line", 7, "TcpExtTCPRcvQDrop", "10/10");
	val_is(m, "netstat: a second group", 7, "IpExtInNoRoutes", "2/2");
	val_is(m, "snmp: Tcp", 7, "TcpInCsumErrors", "3/3");
	val_is(m, "snmp: Ip", 7, "IpInReceives", "100/100");
	val_is(m, "snmp: a negative value", 7, "TcpMaxConn",
	       "18446744073709551615/18446744073709551615");
	val_is(m, "snmp6: name and value", 7, "Ip6InHdrErrors", "1/1");
	val_is(m, "not a counter", 7, "TcpExtNoSuchThing", "none");
	val_is(m, "not that namespace", 8, "TcpInCsumErrors", "none");
	check("every counter kept", mib__counter_count(m) == 14, "%zu counters",
	      mib__counter_count(m));
	check("counter names by id",
	      !strcmp(mib__counter_name(m, 0), "TcpExtSyncookiesSent") &&
		      mib__counter_name(m, 99) == NULL,
	      "id 0 is %s", mib__counter_name(m, 0));

	/* The next snapshot: counters moved, a new one, one gone, the group order changed. */
	put("netstat", "IpExt: InNoRoutes InCsumErrors\n"
		       "IpExt: 4 0\n"
		       "TcpExt: SyncookiesSent ListenOverflows TCPRcvQDrop TCPNewKernelDrop\n"
		       "TcpExt: 0 62 12 9\n");
	gone("snmp6");
	check("sample", mib__sample(m) == 0, "an error");
	val_is(m, "a delta", 7, "TcpExtListenOverflows", "5/62");
	val_is(m, "another group's delta", 7, "IpExtInNoRoutes", "2/4");
	val_is(m, "a new kernel's counter counts from its first sight", 7, "TcpExtTCPNewKernelDrop",
	       "9/9");
	val_is(m, "a counter missing now keeps its last value", 7, "TcpExtListenDrops", "6/6");
	val_is(m, "a file gone keeps its last values", 7, "Ip6InHdrErrors", "1/1");

	put("netstat", "TcpExt: ListenOverflows TCPNewKernelDrop\n"
		       "TcpExt: 70 11\n");
	mib__sample(m);
	val_is(m, "the new counter's delta", 7, "TcpExtTCPNewKernelDrop", "9/11");
	mib__free(m);
}

static void test_broken(void)
{
	struct mib *m = mib__new(0);
	char name[200];

	/* A names line without its values, a value that is not a number, ragged and blank lines. */
	memset(name, 'A', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	put("netstat", "TcpExt: Lonely\n"
		       "IpExt: InNoRoutes Bad Short Extra\n"
		       "IpExt: 1 x 3\n"
		       "\n"
		       "garbage without a colon\n"
		       "TcpExt: ListenOverflows\n"
		       "TcpExt: 8 9 10\n");
	put("snmp", "");
	put("snmp6", "Ip6Good 5\nIp6Bad 5x\nIp6Trailing 6 7\n  \nIp6Spaced   \t 12  \n");
	check("watch broken files", mib__watch_dir(m, 1, dir) == 1, "not watched");
	val_is(m, "a names line without values", 1, "TcpExtLonely", "none");
	val_is(m, "in step again after it", 1, "IpExtInNoRoutes", "1/1");
	val_is(m, "not a number", 1, "IpExtBad", "none");
	val_is(m, "after a bad value", 1, "IpExtShort", "3/3");
	val_is(m, "a name without a value", 1, "IpExtExtra", "none");
	val_is(m, "after junk lines", 1, "TcpExtListenOverflows", "8/8");
	val_is(m, "snmp6: a plain line", 1, "Ip6Good", "5/5");
	val_is(m, "snmp6: a bad value", 1, "Ip6Bad", "none");
	val_is(m, "snmp6: two values", 1, "Ip6Trailing", "none");
	val_is(m, "snmp6: blanks around", 1, "Ip6Spaced", "12/12");

	snprintf(name + 150, 50, "\nTcpExt: 1\n");
	memcpy(name, "TcpExt: ", 8);
	put("netstat", name);
	mib__sample(m);
	check("an over-long name is left out", mib__counter_count(m) == 5, "%zu counters",
	      mib__counter_count(m));
	mib__free(m);

	m = mib__new(0);
	gone("netstat");
	gone("snmp");
	gone("snmp6");
	check("no files: not watched", mib__watch_dir(m, 1, dir) == 0, "watched");
	mib__free(m);
}

static void test_bounds(void)
{
	struct mib *m = mib__new(3);
	int ret = 0;

	put("netstat", netstat1);
	put("snmp", snmp1);
	for (uint64_t ino = 100; ino < 105; ino++)
		ret = mib__watch_dir(m, ino, dir);
	check("past the bound: -ENOSPC", ret == -ENOSPC, "returned %d", ret);
	check("at most the bound", mib__ns_count(m) == 3, "%zu namespaces", mib__ns_count(m));
	check("the others counted", mib__overflow(m) == 2, "%" PRIu64, mib__overflow(m));
	check("one already watched is no overflow",
	      mib__watch_dir(m, 101, dir) == 1 && mib__overflow(m) == 2, "overflow %" PRIu64,
	      mib__overflow(m));
	mib__free(m);
}

static void test_lookup(void)
{
	struct mib *m = mib__new(0);
	struct stat st;
	struct mib_ns ns;
	uint64_t bogus = 1;

	/* This process's own namespace needs no privilege: opened where it is. */
	if (stat("/proc/self/ns/net", &st) == 0) {
		check("own namespace", mib__watch(m, st.st_ino) == 1, "not watched");
		mib__ns(m, 0, &ns);
		check("own namespace: via self", ns.via && !strcmp(ns.via, "self"), "via %s",
		      ns.via ? ns.via : "(null)");
		check("own namespace: its counters",
		      strcmp(val(m, st.st_ino, "TcpExtListenOverflows"), "none"),
		      "no TcpExtListenOverflows");
	}
	check("an unknown namespace", mib__watch(m, bogus) == 0, "watched");
	mib__ns(m, 1, &ns);
	check("not found", !ns.open && ns.err == -ENOENT && ns.tries == 1,
	      "open %d err %d tries %u", ns.open, ns.err, ns.tries);
	mib__watch(m, bogus);
	mib__sample(m);
	mib__ns(m, 1, &ns);
	check("looked up at most once a second", ns.tries == 1, "%u tries", ns.tries);
	usleep(1100 * 1000);
	mib__sample(m);
	mib__ns(m, 1, &ns);
	check("looked up again after a second", ns.tries == 2, "%u tries", ns.tries);
	mib__free(m);
}

/* --- Coverage */

static const struct mib_row *row_of(const struct mib_row *rows, size_t n, uint64_t ns,
				    const char *counter)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].netns == ns && !strcmp(rows[i].counter, counter))
			return &rows[i];
	return NULL;
}

static void row_is(const struct mib_row *rows, size_t n, uint64_t ns, const char *counter,
		   uint64_t kernel, uint64_t traced, enum mib_verdict v)
{
	const struct mib_row *r = row_of(rows, n, ns, counter);
	char what[128];

	snprintf(what, sizeof(what), "coverage: %s in %" PRIu64 " %s", counter, ns,
		 mib_verdict_text(v));
	if (!r) {
		check(what, 0, "no row");
		return;
	}
	check(what, r->kernel == kernel && r->traced == traced && r->verdict == v,
	      "kernel %" PRIu64 " traced %" PRIu64 " verdict %s", r->kernel, r->traced,
	      mib_verdict_text(r->verdict));
}

static void test_coverage(void)
{
	struct mib *m = mib__new(0);
	struct names *nm = names__new();
	const struct mib_traced traced[] = {
		{ 5, "SOCKET_RCVBUFF", 4 },	 { 5, "PROTO_MEM", 2 },
		{ 5, "TCP_ZEROWINDOW", 3 },	 { 5, "SOCKET_BACKLOG", 5 },
		{ 6, "SOCKET_RCVBUFF", 50 },	 { 5, "NO_SOCKET", 9 },
		{ 6, "TCP_LISTEN_OVERFLOW", 1 },
	};
	struct mib_row *rows;
	char *text = NULL;
	size_t n, len = 0;
	FILE *out;

	/* This kernel names every reason used here but TCP_MINTTL. */
	names__set_reason(nm, 2, "NO_SOCKET");
	names__set_reason(nm, 3, "SOCKET_RCVBUFF");
	names__set_reason(nm, 4, "PROTO_MEM");
	names__set_reason(nm, 5, "TCP_ZEROWINDOW");
	names__set_reason(nm, 6, "SOCKET_BACKLOG");
	names__set_reason(nm, 7, "TCP_OFO_DROP");
	names__set_reason(nm, 8, "TCP_LISTEN_OVERFLOW");
	put("netstat", "TcpExt: ListenOverflows ListenDrops TCPRcvQDrop TCPZeroWindowDrop "
		       "TCPBacklogDrop TCPOFODrop TCPMinTTLDrop PAWSEstab\n"
		       "TcpExt: 0 0 0 0 0 0 0 0\n");
	put("snmp", "Tcp: InCsumErrors\nTcp: 0\n");
	gone("snmp6");
	mib__watch_dir(m, 5, dir);
	mib__watch_dir(m, 6, dir);
	put("netstat", "TcpExt: ListenOverflows ListenDrops TCPRcvQDrop TCPZeroWindowDrop "
		       "TCPBacklogDrop TCPOFODrop TCPMinTTLDrop PAWSEstab\n"
		       "TcpExt: 57 57 10 3 1 4 2 0\n");
	mib__sample(m);

	n = mib__coverage(m, nm, traced, ARRAY_SIZE(traced), 0, &rows);
	row_is(rows, n, 5, "TcpExtListenOverflows", 57, 0, MIB_NOT_TRACED);
	row_is(rows, n, 5, "TcpExtListenDrops", 57, 0, MIB_NOT_TRACED);
	row_is(rows, n, 5, "TcpExtTCPRcvQDrop", 10, 6, MIB_TRACED_FEWER);
	row_is(rows, n, 5, "TcpExtTCPZeroWindowDrop", 3, 3, MIB_MATCHED);
	row_is(rows, n, 5, "TcpExtTCPBacklogDrop", 1, 5, MIB_TRACED_MORE);
	row_is(rows, n, 5, "TcpExtTCPOFODrop", 4, 0, MIB_TRACED_FEWER);
	row_is(rows, n, 5, "TcpExtTCPMinTTLDrop", 2, 0, MIB_NOT_TRACED);
	row_is(rows, n, 6, "TcpExtTCPRcvQDrop", 10, 50, MIB_TRACED_MORE);
	row_is(rows, n, 6, "TcpExtListenOverflows", 57, 1, MIB_TRACED_FEWER);
	row_is(rows, n, 6, "TcpExtListenDrops", 57, 1, MIB_TRACED_FEWER);
	check("coverage: no row where nothing counted",
	      !row_of(rows, n, 5, "TcpExtPAWSEstab") && !row_of(rows, n, 5, "TcpInCsumErrors"),
	      "a PAWSEstab or InCsumErrors row");
	check("coverage: the reasons of a row",
	      row_of(rows, n, 5, "TcpExtTCPRcvQDrop") &&
		      !strcmp(row_of(rows, n, 5, "TcpExtTCPRcvQDrop")->reasons,
			      "SOCKET_RCVBUFF,PROTO_MEM"),
	      "reasons '%s'", row_of(rows, n, 5, "TcpExtTCPRcvQDrop")->reasons);
	check("coverage: listen overflows first",
	      n && !strcmp(rows[0].counter, "TcpExtListenOverflows"), "first is %s",
	      n ? rows[0].counter : "none");

	out = open_memstream(&text, &len);
	mib__print_coverage(m, rows, n, out);
	fclose(out);
	check("print: one header",
	      !strncmp(text, "NETNS  COUNTER                  KERNEL  TRACED  VERDICT\n", 55),
	      "starts with [%.60s]", text);
	check("print: aligned rows",
	      strstr(text,
		     "\n5      TcpExtListenOverflows        57       0  not traced: no probe on "
		     "this kernel sees these\n") != NULL,
	      "[%s]", text);
	check("print: a flagged row in words",
	      strstr(text,
		     "\n57 listen overflows counted by the kernel, 0 traced: this kernel offers "
		     "no probe for them (netns 5)\n") != NULL,
	      "[%s]", text);
	check("print: no reason named",
	      strstr(text,
		     "\n2 minimum-TTL drops counted by the kernel, 0 traced: this kernel names no "
		     "drop reason for them (netns 5)\n") != NULL,
	      "[%s]", text);
	check("print: traced fewer in words",
	      strstr(text, "\n10 receive-queue drops counted by the kernel, 6 traced "
			   "(SOCKET_RCVBUFF,PROTO_MEM): the others") != NULL,
	      "[%s]", text);
	check("print: matched rows are not repeated in words",
	      !strstr(text, "3 zero-window drops counted by the kernel, 3 traced"), "[%s]", text);
	free(text);
	free(rows);

	n = mib__coverage(m, nm, traced, ARRAY_SIZE(traced), 1, &rows);
	row_is(rows, n, 5, "TcpExtPAWSEstab", 0, 0, MIB_MATCHED);
	check("coverage all: counters this kernel lacks are left out",
	      !row_of(rows, n, 5, "TcpExtTCPMD5Failure"), "a TCPMD5Failure row");
	free(rows);

	n = mib__coverage(m, NULL, NULL, 0, 0, &rows);
	row_is(rows, n, 5, "TcpExtTCPMinTTLDrop", 2, 0, MIB_TRACED_FEWER);
	free(rows);
	names__free(nm);
	mib__free(m);

	m = mib__new(0);
	n = mib__coverage(m, NULL, traced, ARRAY_SIZE(traced), 1, &rows);
	check("coverage: no namespace, no rows", n == 0 && rows == NULL, "%zu rows", n);
	mib__free(m);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tcpdrop-mib.XXXXXX");
	if (!mkdtemp(dir)) {
		check("make a directory", 0, "%s: %s", dir, strerror(errno));
		return 1;
	}
	test_formats();
	test_broken();
	test_bounds();
	test_lookup();
	test_coverage();
	gone("netstat");
	gone("snmp");
	gone("snmp6");
	rmdir(dir);
	return failures != 0;
}
