/* Unit tests of bpf/filter.h: the in-kernel filter rules, as replay runs them on the host. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "filter.h"

#define CHECK_SUITE "filter"
#include "check.h"

static struct tcpdrop_filter f;

/* A drop from saddr:sport to daddr:dport (the family from the address's text). */
static struct tcpdrop_event drop(const char *saddr, __u16 sport, const char *daddr, __u16 dport)
{
	struct tcpdrop_event e;
	int af = strchr(saddr, ':') ? AF_INET6 : AF_INET;

	memset(&e, 0, sizeof(e));
	e.family = af == AF_INET6 ? 6 : 4;
	inet_pton(af, saddr, e.saddr_raw);
	inet_pton(af, daddr, e.daddr_raw);
	e.sport = sport;
	e.dport = dport;
	e.reason_code = 3;
	e.netns = 4026531840u;
	return e;
}

static void reset(void)
{
	memset(&f, 0, sizeof(f));
}

static void add_net(const char *spec, __u8 side)
{
	if (parse_net(spec, &f.nets[f.nnets]))
		check(spec, 0, "parse_net refused it");
	f.nets[f.nnets++].side = side;
}

static void pass_is(const char *name, const struct tcpdrop_event *e, int want)
{
	int got = filter_event(&f, e);

	check(name, got == want, "%s, want %s", got ? "passes" : "rejected",
	      want ? "passes" : "rejected");
}

static void test_none(void)
{
	struct tcpdrop_event e = drop("10.0.0.2", 40000, "10.0.0.1", 80);

	reset();
	check("no rule: nothing set", !filter_any(&f), "filter_any says set");
	pass_is("no rule: a drop passes", &e, 1);
}

static void test_family_netns(void)
{
	struct tcpdrop_event v4 = drop("10.0.0.2", 40000, "10.0.0.1", 80);
	struct tcpdrop_event v6 = drop("2001:db8::2", 40000, "2001:db8::1", 80);

	reset();
	f.family = 4;
	check("-4 is a rule", filter_any(&f), "filter_any says none");
	pass_is("-4: IPv4 passes", &v4, 1);
	pass_is("-4: IPv6 rejected", &v6, 0);
	f.family = 6;
	pass_is("-6: IPv4 rejected", &v4, 0);
	pass_is("-6: IPv6 passes", &v6, 1);

	reset();
	f.netns = 4026531840u;
	pass_is("--netns-id: same namespace passes", &v4, 1);
	f.netns = 4026532000u;
	pass_is("--netns-id: another namespace rejected", &v4, 0);
	f.netns = 0;
	check("--netns-id unset: any namespace", filter_netns(&f, &(const __u32){ 12345 }),
	      "rejected");
}

static void test_ports(void)
{
	struct tcpdrop_event e = drop("10.0.0.2", 40000, "10.0.0.1", 80);

	reset();
	f.dports[f.ndports++] = 443;
	pass_is("--dport 443: port 80 rejected", &e, 0);
	f.dports[f.ndports++] = 80;
	pass_is("--dport 443,80: port 80 passes", &e, 1);

	reset();
	f.sports[f.nsports++] = 80;
	pass_is("--sport 80: source 40000 rejected", &e, 0);
	f.sports[0] = 40000;
	pass_is("--sport 40000 passes", &e, 1);
	f.dports[f.ndports++] = 22;
	pass_is("--sport 40000 --dport 22: both must match", &e, 0);

	reset();
	f.ports[f.nports++] = 80;
	pass_is("--port 80: the destination side passes", &e, 1);
	f.ports[0] = 40000;
	pass_is("--port 40000: the source side passes", &e, 1);
	f.ports[0] = 7;
	pass_is("--port 7: neither side, rejected", &e, 0);

	reset();
	for (int i = 0; i < TCPDROP_MAX_PORTS; i++)
		f.dports[f.ndports++] = (__u16)(1000 + i);
	e.dport = 1000 + TCPDROP_MAX_PORTS - 1;
	pass_is("--dport: the last of a full set passes", &e, 1);
	f.ndports--;
	pass_is("--dport: a port past the count is not in the set", &e, 0);
}

static void test_nets(void)
{
	struct tcpdrop_event v4 = drop("10.1.2.3", 40000, "192.168.0.1", 80);
	struct tcpdrop_event v6 = drop("2001:db8::2", 40000, "fe80::1", 80);

	reset();
	add_net("10.0.0.0/8", TCPDROP_SIDE_SRC);
	pass_is("--saddr 10/8: source in it passes", &v4, 1);
	pass_is("--saddr 10/8: IPv6 rejected", &v6, 0);
	reset();
	add_net("10.1.2.3", TCPDROP_SIDE_SRC);
	pass_is("--saddr host: that host passes", &v4, 1);
	reset();
	add_net("10.1.2.4/32", TCPDROP_SIDE_SRC);
	pass_is("--saddr another host: rejected", &v4, 0);
	reset();
	add_net("10.0.0.0/8", TCPDROP_SIDE_DST);
	pass_is("--daddr 10/8: destination elsewhere, rejected", &v4, 0);
	reset();
	add_net("192.168.0.0/16", TCPDROP_SIDE_DST);
	pass_is("--daddr 192.168/16 passes", &v4, 1);
	reset();
	add_net("192.168.0.0/16", TCPDROP_SIDE_ANY);
	pass_is("--addr: the destination side passes", &v4, 1);
	reset();
	add_net("10.0.0.0/8", TCPDROP_SIDE_ANY);
	pass_is("--addr: the source side passes", &v4, 1);
	reset();
	add_net("172.16.0.0/12", TCPDROP_SIDE_ANY);
	pass_is("--addr: neither side, rejected", &v4, 0);

	reset();
	add_net("172.16.0.0/12", TCPDROP_SIDE_SRC);
	add_net("10.0.0.0/8", TCPDROP_SIDE_SRC);
	pass_is("two --saddr: either one will do", &v4, 1);
	add_net("8.8.8.8", TCPDROP_SIDE_DST);
	pass_is("--saddr and --daddr: each side must match", &v4, 0);
	add_net("192.168.0.1", TCPDROP_SIDE_DST);
	pass_is("--saddr and --daddr: both sides match", &v4, 1);

	reset();
	add_net("2001:db8::/32", TCPDROP_SIDE_SRC);
	pass_is("--saddr 2001:db8::/32: IPv6 source passes", &v6, 1);
	pass_is("--saddr 2001:db8::/32: IPv4 rejected", &v4, 0);
	add_net("fe80::/10", TCPDROP_SIDE_DST);
	pass_is("IPv6 --saddr and --daddr both match", &v6, 1);
	reset();
	add_net("2001:db8::3/128", TCPDROP_SIDE_SRC);
	pass_is("--saddr IPv6 host: another host rejected", &v6, 0);
	reset();
	add_net("::/0", TCPDROP_SIDE_ANY);
	pass_is("--addr ::/0: every IPv6 drop", &v6, 1);
	pass_is("--addr ::/0: no IPv4 drop", &v4, 0);
	reset();
	add_net("0.0.0.0/0", TCPDROP_SIDE_SRC);
	pass_is("--saddr 0/0: every IPv4 drop", &v4, 1);
}

static void test_reasons(void)
{
	struct tcpdrop_event e = drop("10.0.0.2", 40000, "10.0.0.1", 80);

	reset();
	f.reasons[f.nreasons++] = 2;
	pass_is("--reason another: rejected", &e, 0);
	f.reasons[f.nreasons++] = 3;
	pass_is("--reason a list with it: passes", &e, 1);
	f.nreasons = 1;
	e.evflags = TCPDROP_F_NO_REASON;
	pass_is("--reason: a drop without a reason passes", &e, 1);
	e.evflags = 0;
	e.reason_code = 0x10002;
	f.reasons[0] = 0x10002;
	pass_is("--reason: a subsystem reason", &e, 1);
	check("filter_reason alone", !filter_reason(&f, 3, 0) && filter_reason(&f, 3, 0x04),
	      "wrong");

	reset();
	e = drop("10.0.0.2", 40000, "10.0.0.1", 80);
	f.reasons[f.nreasons++] = 3;
	f.dports[f.ndports++] = 80;
	add_net("10.0.0.0/8", TCPDROP_SIDE_SRC);
	f.family = 4;
	pass_is("every kind at once: a drop that matches all", &e, 1);
	e.sport = 1;
	pass_is("every kind at once: still (sport not asked)", &e, 1);
	e.dport = 81;
	pass_is("every kind at once: one kind fails, rejected", &e, 0);
}

int main(void)
{
	test_none();
	test_family_netns();
	test_ports();
	test_nets();
	test_reasons();
	return failures ? 1 : 0;
}
