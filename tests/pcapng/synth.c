/* Test tool: a "live run" without a kernel: odd drop events recorded with -w's writer and printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sym/sym.h"
#include "capture/capture.h"
#include "lua/bridge.h"
#include "run/run.h"
#include "util/util.h"

static const char usage[] =
	"usage: pcapng_synth [-q] [-n REPEAT] [-f] [-e CODE] [-k KALLSYMS] OUT\n"
	"  records a fixed set of odd drop events (every stack status, no packet, IPv6,\n"
	"  subsystem and unnamed reasons, odd comms) REPEAT times into OUT ('-': stdout)\n"
	"  with the -w writer, and prints what the default script prints for them, as a\n"
	"  live run would (-e: run CODE per drop instead, as tcpdrop -e does). -q: record\n"
	"  only. -f: replace OUT. -k: symbols from a kallsyms file, read when first needed\n"
	"  as tcpdrop reads /proc/kallsyms, instead of the built-in ones. Exit 1 on a\n"
	"  write error.\n";

/* Kernel-like symbols, so that frames format as "name+0xoff". */
static const struct {
	uint64_t addr;
	const char *name;
} syms[] = {
	{ 0xffffffff81a00000ULL, "tcp_v4_rcv" },
	{ 0xffffffff81a10000ULL, "ip_protocol_deliver_rcu" },
	{ 0xffffffff81a20000ULL, "tcp_v6_rcv" },
	{ 0xffffffff81a30000ULL, "tcp_validate_incoming" },
	{ 0xffffffff81a40000ULL, "nft_do_chain" },
	/* A name as long as Rust's mangled ones get: a few of them fill the stack comment. */
	{ 0xffffffff81a50000ULL, "_RNvMs1_NtNtCs4fqI2P2rA04_6kernel3net3tcpNtB5_14SegmentHandler"
				 "21validate_incoming_segment_with_a_rather_long_generic_path" },
};

static void set_addr(uint8_t *raw, int family, const char *s)
{
	unsigned int a[4];

	memset(raw, 0, 16);
	if (family == 4) {
		sscanf(s, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]);
		for (int i = 0; i < 4; i++)
			raw[i] = (uint8_t)a[i];
	} else {
		/* "2001:db8::N" only */
		raw[0] = 0x20;
		raw[1] = 0x01;
		raw[2] = 0x0d;
		raw[3] = 0xb8;
		raw[15] = (uint8_t)atoi(strrchr(s, ':') + 1);
	}
}

/* The real headers of an IPv4 SYN with 4 payload bytes, as the probe would copy them. */
static void ipv4_packet(struct tcpdrop_event *e)
{
	static const uint8_t pkt[] = {
		0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00,
		0x00, 10,   0,	  0,	1,    10,   0,	  0,	2,    0x04, 0xd2,
		0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x50,
		0x02, 0x72, 0x10, 0x00, 0x00, 0x00, 0x00, 'a',	'b',  'c',  'd',
	};

	memcpy(e->pkt, pkt, sizeof(pkt));
	e->pkt_len = sizeof(pkt);
	e->hdr_len = 40;
}

/*
 * The headers of a packet of total bytes (its IP header's length) as the probe copies them when
 * it keeps no payload: what the event says, from pcapng__synthesise, with that length.
 */
static void headers_of(struct tcpdrop_event *e, unsigned int total)
{
	uint32_t sum = 0;

	e->pkt_len = e->hdr_len = (uint16_t)pcapng__synthesise(e->pkt, e);
	if (e->family == 6) {
		e->pkt[4] = (uint8_t)((total - 40) >> 8);
		e->pkt[5] = (uint8_t)(total - 40);
		return;
	}
	e->pkt[2] = (uint8_t)(total >> 8);
	e->pkt[3] = (uint8_t)total;
	e->pkt[10] = e->pkt[11] = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(e->pkt[i] << 8 | e->pkt[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	e->pkt[10] = (uint8_t)(~sum >> 8);
	e->pkt[11] = (uint8_t)~sum;
}

static unsigned int make_events(struct tcpdrop_event *ev, uint64_t ts)
{
	unsigned int n = 0;
	struct tcpdrop_event *e;

	/* NO_SOCKET with the packet's own headers and a full stack. */
	e = &ev[n++];
	e->ts_ns = ts;
	e->family = 4;
	set_addr(e->saddr_raw, 4, "10.0.0.1");
	set_addr(e->daddr_raw, 4, "10.0.0.2");
	e->sport = 1234;
	e->dport = 80;
	e->seq = 1000;
	e->tcp_flags = 0x02;
	e->win = 29200;
	e->reason_code = 3;
	e->len = 58; /* the kernel buffer's, with an Ethernet header (a packet socket's purge) */
	strcpy(e->comm_raw, "swapper/0");
	e->evflags = TCPDROP_F_PKT_HDRS;
	ipv4_packet(e);
	e->nstack = 2;
	e->stack_addr[0] = syms[0].addr + 0x99;
	e->stack_addr[1] = syms[1].addr + 0x3c;
	e->loc_addr = e->stack_addr[0];
	e->ifindex = 1;
	e->netns = 4026531840u;

	/* IPv6 on an established socket, no packet bytes (headers from the socket), stack skipped.
	 */
	e = &ev[n++];
	e->ts_ns = ts + 1500000;
	e->family = 6;
	set_addr(e->saddr_raw, 6, "2001:db8::1");
	set_addr(e->daddr_raw, 6, "2001:db8::2");
	e->sport = 443;
	e->dport = 50000;
	e->seq = 0xdeadbeef;
	e->ack_seq = 0x01020304;
	e->tcp_flags = 0x10;
	e->win = 512;
	e->reason_code = 2;
	e->state_code = 1;
	e->pid = 4242;
	e->tid = 4243;
	e->cpu = 1;
	e->len = 1480;
	strcpy(e->comm_raw, "nginx");
	e->evflags = TCPDROP_F_SOCK | TCPDROP_F_STACK_SKIPPED;
	e->loc_addr = syms[3].addr + 0x1f0;

	/* The kernel refused the stack; a listening socket; an RST. */
	e = &ev[n++];
	e->ts_ns = ts + 2000000000ULL;
	e->family = 4;
	set_addr(e->saddr_raw, 4, "192.168.1.10");
	set_addr(e->daddr_raw, 4, "192.168.1.20");
	e->sport = 5555;
	e->dport = 22;
	e->tcp_flags = 0x14;
	e->reason_code = 2;
	e->state_code = 10;
	e->evflags = TCPDROP_F_PKT_HDRS | TCPDROP_F_SOCK | TCPDROP_F_STACK_FAILED;
	e->len = 52; /* no packet copied: the file's headers are made from the event */
	strcpy(e->comm_raw, "sshd");

	/* --no-stack; a subsystem reason; a comm with a control character. */
	e = &ev[n++];
	e->ts_ns = ts + 2500000000ULL;
	e->family = 4;
	set_addr(e->saddr_raw, 4, "10.1.1.1");
	set_addr(e->daddr_raw, 4, "10.1.1.2");
	e->sport = 40000;
	e->dport = 8080;
	e->tcp_flags = 0x18;
	e->reason_code = 0x10002;
	e->evflags = TCPDROP_F_NO_STACK;
	memcpy(e->comm_raw, "odd\001name", 9);

	/* A kernel without reasons; an unknown location address. */
	e = &ev[n++];
	e->ts_ns = ts + 3000000000ULL;
	e->family = 6;
	set_addr(e->saddr_raw, 6, "2001:db8::7");
	set_addr(e->daddr_raw, 6, "2001:db8::8");
	e->sport = 1;
	e->dport = 2;
	e->tcp_flags = 0xc1;
	e->evflags = TCPDROP_F_PKT_HDRS | TCPDROP_F_NO_REASON;
	e->len = 134; /* a 100-byte packet, its 60 bytes of headers captured, in a longer buffer */
	headers_of(e, 100);
	e->nstack = 1;
	e->stack_addr[0] = 0x1234;
	e->loc_addr = 0x1234;

	/* A reason code the names table does not know, and a netfilter frame. */
	e = &ev[n++];
	e->ts_ns = ts + 3000000001ULL;
	e->family = 4;
	set_addr(e->saddr_raw, 4, "10.9.9.9");
	set_addr(e->daddr_raw, 4, "10.9.9.8");
	e->sport = 9;
	e->dport = 9;
	e->reason_code = 999;
	e->evflags = TCPDROP_F_PKT_HDRS;
	e->len = 60; /* a 100-byte segment, 40 bytes captured; TCP had pulled its headers off */
	headers_of(e, 100);
	e->nstack = 10;
	e->stack_addr[0] = syms[4].addr + 0x46f;
	e->stack_addr[1] = syms[0].addr + 0x99;
	e->stack_addr[2] = syms[1].addr + 0x3c;
	/* A return address after a call that never returns: the next symbol's start. */
	e->stack_addr[3] = syms[3].addr;
	for (int i = 4; i < 10; i++)
		e->stack_addr[i] = syms[5].addr + 0x100 + (uint64_t)i;
	strcpy(e->comm_raw, "curl");
	return n;
}

/* The source: the fixed events, REPEAT times, as a live run would deliver them. */
struct synth {
	struct run_source s; /* first: the run hands it back */
	struct run *r;
	struct tcpdrop_event ev[16];
	long repeat;
};

static int start(struct run_source *s, struct run *r, const struct run_settings *set)
{
	((struct synth *)s)->r = r;
	return 0;
}

static int drain(struct run_source *s, struct run *r)
{
	struct synth *sy = (struct synth *)s;
	/* Drops from now on, as in a live run (replayed ticks count from the recorded start). */
	uint64_t base = now_ns(CLOCK_REALTIME);
	int ret = 0;

	for (long k = 0; k < sy->repeat && !ret; k++) {
		unsigned int n = make_events(sy->ev, base + (uint64_t)k * 4000000000ULL);

		ret = run__deliver(r, sy->ev, n);
		if (!ret && k % 4096 == 4095)
			ret = run__housekeeping(r, NULL);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct recorder_opts rec = { 0 };
	struct runtime_opts ro = { 0 };
	struct run_settings set = { .ro = &ro, .rec = &rec };
	struct synth *sy = xcalloc(1, sizeof(*sy));
	struct names *nm = names__new();
	struct ksyms *ks = ksyms__new();
	const char *kallsyms = NULL;
	int code, i;

	sy->repeat = 1;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-q"))
			ro.exec_code = ""; /* record only: a drop() that prints nothing */
		else if (!strcmp(argv[i], "-f"))
			rec.force = 1;
		else if (!strcmp(argv[i], "-e") && i + 1 < argc)
			ro.exec_code = argv[++i];
		else if (!strcmp(argv[i], "-k") && i + 1 < argc)
			kallsyms = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			sy->repeat = atol(argv[++i]);
		else
			break;
	}
	if (i != argc - 1 || sy->repeat < 1) {
		fputs(usage, stderr);
		return 2;
	}
	rec.path = argv[i];
	if (kallsyms)
		ksyms__set_lazy(ks, kallsyms);
	else
		for (size_t s = 0; s < ARRAY_SIZE(syms); s++)
			ksyms__add(ks, syms[s].addr, syms[s].name);
	names__set_reason(nm, 2, "NOT_SPECIFIED");
	names__set_reason(nm, 3, "NO_SOCKET");
	names__set_reason(nm, 0x10002, "OVS_DROP_LAST_ACTION");
	names__set_state(nm, 1, "ESTABLISHED");
	names__set_state(nm, 10, "LISTEN");

	sy->s = (struct run_source){
		.name = rec.path, .wake_fd = -1, .start = start, .drain = drain
	};
	code = run__main(&set, &sy->s, nm, ks);
	names__free(nm);
	ksyms__free(ks);
	free(sy);
	return code;
}
