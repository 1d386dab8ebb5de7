// SPDX-License-Identifier: GPL-2.0
/* The drop probe: one TCP drop in, one event into the ring buffer, whichever hook fired. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "kernel.h"
#include "tcpdrop.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SOCK_STREAM 1
#define TCP_TIME_WAIT_STATE 6 /* mini sockets: sock_common only, no sk_protocol */
#define TCP_NEW_SYN_RECV_STATE 12
#define NSEC_PER_SEC 1000000000ULL
#define WAKEUP_CHECK 16 /* events between two looks at a ring's fill */
#define WAKEUP_GAP_NS 1000000ULL /* at most one forced wake-up a millisecond per CPU */
/* In `pending` only: a filter rejected the packet at the pair's entry. */
#define PENDING_FILTERED 0x80

char LICENSE[] SEC("license") = "GPL";

const volatile struct tcpdrop_config cfg = {};

/*
 * One ring per CPU where the kernel allows ring buffers inside a map-in-map: a
 * single shared ring makes the producing CPUs spin on its lock during a storm.
 * `events` is the shared fallback. Both are sized by the core before load.
 */
struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ring);
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPDROP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Per CPU: the storm guard's window, and when the reader was last woken from here. */
struct stack_budget {
	__u64 window_start;
	__u32 used;
	__u32 _pad;
	__u64 last_wake;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_budget);
} budgets SEC(".maps");

/*
 * Kernels whose kfree_skb tracepoint has no reason (before 5.17) free the
 * packets TCP itself drops with __kfree_skb(), which no tracepoint sees. One
 * function on that path is not inlined and drops every packet it refuses:
 * tcp_validate_incoming(). Its entry reads the packet while it lives and
 * stashes the event here, keyed by the skb (fentry) or by the stack pointer
 * (kprobe); its exit submits it if the function said false, and forgets it
 * either way. LRU, so that an exit never seen cannot fill the map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1); /* sized by the core where the pair is loaded */
	__type(key, __u64);
	__type(value, struct tcpdrop_event);
} pending SEC(".maps");

/* Where an entry builds its event: too large for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpdrop_event);
} scratch SEC(".maps");

/*
 * Where the drop probe builds an event with a stack or a packet, to send only
 * the bytes it holds (see TCPDROP_EVENT_HEAD_SIZE). Not `scratch`: an entry
 * of the pair may be interrupted by a drop on its CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcpdrop_event);
} outbuf SEC(".maps");

/*
 * kcount: each table in two generations, the one the probe updates chosen by kc_gen, which the
 * core flips before it reads and clears the other (core/kernel/probe.c). Per-CPU values, so
 * that CPUs counting the same key never share a cache line; sized by the core before load
 * (max_entries 1 where a table is not in use).
 */
struct kc_table {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct tcpdrop_kkey);
	__type(value, struct tcpdrop_kval);
};

struct kc_table kc_t0g0 SEC(".maps"), kc_t0g1 SEC(".maps"), kc_t1g0 SEC(".maps"),
	kc_t1g1 SEC(".maps"), kc_t2g0 SEC(".maps"), kc_t2g1 SEC(".maps"), kc_t3g0 SEC(".maps"),
	kc_t3g1 SEC(".maps");

/* The generation the probe counts into (its low bit): a map, so the pair's object shares it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} kc_gen SEC(".maps");

/* Per table and generation (table * 2 + gen): the drops whose key found no room. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPDROP_KC_MAX_TABLES * 2);
	__type(key, __u32);
	__type(value, struct tcpdrop_kval);
} kc_over SEC(".maps");

/*
 * In front of each table and generation, per CPU: a small direct-mapped cache of keys and their
 * counts (KC_SLOTS of them at (table * 2 + gen) * KC_SLOTS), so that a storm of one key costs
 * plain adds, not a hash lookup with atomic adds (measured: ~100 ns of the probe's ~190). A key
 * goes into the table when another evicts it, and the core reads what the cache still holds at
 * each collect, as it reads the table. kc_busy says a run on this CPU is using the cache: a run
 * nested in it (a softirq interrupting the program in process context) goes to the table.
 */
#define KC_SLOTS TCPDROP_KC_SLOTS
#define KC_SLOT_SHIFT 59 /* 64 - log2(KC_SLOTS) */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPDROP_KC_MAX_TABLES * 2 * KC_SLOTS);
	__type(key, __u32);
	__type(value, struct tcpdrop_kslot);
} kc_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} kc_busy SEC(".maps");

/* What the packet (or, failing that, its socket) says about the drop. */
struct flow {
	__u8 saddr[16] __attribute__((aligned(8)));
	__u8 daddr[16] __attribute__((aligned(8)));
	__u32 seq;
	__u32 ack_seq;
	__u32 nh_off; /* network header, as an offset from skb->head */
	__u32 linear; /* bytes of linear data from the network header on */
	__u16 sport;
	__u16 dport;
	__u16 win;
	__u16 hdr_len;
	__u8 family;
	__u8 tcp_flags;
	__u8 from_pkt;
};

/* The in-kernel filters' rules, on the flow (bpf/filter.h, the same for replay). */
#define FILTER_FLOW struct flow
#define FILTER_SADDR saddr
#define FILTER_DADDR daddr
#include "filter.h"
#include "listen.h" /* listen overflows: settings, maps, the final ACKs handle() skips */

/* Count one; the new count (0 if the map failed us). */
static __always_inline __u64 stat_add(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (!v)
		return 0;
	*v += 1;
	return *v;
}

/*
 * How a program may read kernel memory. Where the hook hands over typed (BTF)
 * pointers, as tp_btf and fentry do, a field is a plain CO-RE load that the
 * verifier checks and makes fault-safe (about a nanosecond); elsewhere it is a
 * bpf_probe_read_kernel() call, ~30-70 ns here (measured: half the probe's
 * cost when every read was one). Kernels with bpf_rdonly_cast (6.2+) let the
 * packet's headers and the current task be read the same way. The mode is a
 * constant in each program, so clang drops the other branches: the raw_tp,
 * tracepoint and kprobe programs never hold a direct dereference.
 */
#define MODE_PROBED 0
#define MODE_BTF 1
#define MODE_BTF_CAST 2

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

#define ARROW_1(p, a) (p)->a
#define ARROW_2(p, a, b) (p)->a->b
#define ARROW_3(p, a, b, c) (p)->a->b->c
#define ARROW_N(_1, _2, _3, N, ...) N
#define ARROW(p, ...) ARROW_N(__VA_ARGS__, ARROW_3, ARROW_2, ARROW_1, 0)(p, __VA_ARGS__)
#define KREAD(mode, p, ...) ((mode) ? ARROW(p, __VA_ARGS__) : BPF_CORE_READ(p, __VA_ARGS__))
#define KREAD_BITFIELD(mode, p, f) \
	((mode) ? BPF_CORE_READ_BITFIELD(p, f) : BPF_CORE_READ_BITFIELD_PROBED(p, f))

/*
 * One load at a wire offset of a header: volatile, so that clang neither
 * merges two loads into one the verifier would see crossing a field.
 */
#define WIRE(p, type, off) (*(const volatile type *)((const char *)(p) + (off)))

static __always_inline int parse_tcp(const __u8 *th, struct flow *f)
{
	f->sport = ((__u16)th[0] << 8) | th[1];
	f->dport = ((__u16)th[2] << 8) | th[3];
	f->seq = ((__u32)th[4] << 24) | ((__u32)th[5] << 16) | ((__u32)th[6] << 8) | th[7];
	f->ack_seq = ((__u32)th[8] << 24) | ((__u32)th[9] << 16) | ((__u32)th[10] << 8) | th[11];
	f->tcp_flags = th[13];
	f->win = ((__u16)th[14] << 8) | th[15];
	return (th[12] >> 4) * 4;
}

/* The same from a header the verifier knows as a struct tcphdr. */
static __always_inline int parse_tcp_wire(const void *th, struct flow *f)
{
	f->sport = bpf_ntohs(WIRE(th, __u16, 0));
	f->dport = bpf_ntohs(WIRE(th, __u16, 2));
	f->seq = bpf_ntohl(WIRE(th, __u32, 4));
	f->ack_seq = bpf_ntohl(WIRE(th, __u32, 8));
	f->tcp_flags = WIRE(th, __u8, 13);
	f->win = bpf_ntohs(WIRE(th, __u16, 14));
	return (WIRE(th, __u8, 12) >> 4) * 4;
}

/* IPv6: follow up to four extension headers to the TCP header. */
static __always_inline int ipv6_tcp_offset(const unsigned char *nh, __u8 nexthdr)
{
	int off = 40;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u8 ext[2];

		if (nexthdr == IPPROTO_TCP)
			return off;
		if (nexthdr != 0 && nexthdr != 43 && nexthdr != 60 && nexthdr != 44)
			return -1;
		if (bpf_probe_read_kernel(ext, sizeof(ext), nh + off))
			return -1;
		off += nexthdr == 44 ? 8 : (ext[1] + 1) * 8;
		nexthdr = ext[0];
	}
	return nexthdr == IPPROTO_TCP ? off : -1;
}

/* The headers read in place, as structs the verifier knows (MODE_BTF_CAST). */
static __always_inline int flow_from_headers(const unsigned char *nh, __u16 proto, struct flow *f)
{
	const void *ip;
	int l4, thl;

	if (proto == ETH_P_IP) {
		__u8 b0;

		ip = bpf_rdonly_cast(nh, bpf_core_type_id_kernel(struct iphdr));
		b0 = WIRE(ip, __u8, 0);
		if ((b0 >> 4) != 4 || WIRE(ip, __u8, 9) != IPPROTO_TCP)
			return 0;
		l4 = (b0 & 0x0f) * 4;
		if (l4 < 20)
			return 0;
		f->family = 4;
		*(__u32 *)f->saddr = WIRE(ip, __u32, 12);
		*(__u32 *)f->daddr = WIRE(ip, __u32, 16);
	} else {
		__u8 nexthdr;

		ip = bpf_rdonly_cast(nh, bpf_core_type_id_kernel(struct ipv6hdr));
		if ((WIRE(ip, __u8, 0) >> 4) != 6)
			return 0;
		f->family = 6;
		((__u64 *)f->saddr)[0] = WIRE(ip, __u64, 8);
		((__u64 *)f->saddr)[1] = WIRE(ip, __u64, 16);
		((__u64 *)f->daddr)[0] = WIRE(ip, __u64, 24);
		((__u64 *)f->daddr)[1] = WIRE(ip, __u64, 32);
		nexthdr = WIRE(ip, __u8, 6);
		l4 = nexthdr == IPPROTO_TCP ? 40 : ipv6_tcp_offset(nh, nexthdr);
		if (l4 < 0)
			return 0;
	}
	thl = parse_tcp_wire(bpf_rdonly_cast(nh + l4, bpf_core_type_id_kernel(struct tcphdr)), f);
	if (thl < 20)
		return 0;
	f->hdr_len = l4 + thl;
	f->from_pkt = 1;
	return 1;
}

/*
 * The packet's own IP and TCP headers, when the skb has them: 1 if it is TCP
 * over IP. One read covers a plain IPv4 (20) or IPv6 (40) header and the TCP
 * header's fixed 20 bytes; IP options and IPv6 extension headers, rare, cost
 * a second read of the TCP header where they put it.
 */
#define HDR_READ 60

static __always_inline int flow_from_packet(struct sk_buff *skb, struct flow *f, const int mode)
{
	__u16 proto = bpf_ntohs(KREAD(mode, skb, protocol));
	unsigned char *head, *nh;
	__u32 nh_off, tail;
	__u8 hdr[HDR_READ], th[20];
	const __u8 *tcp = th;
	int l4, thl, full = 1;

	if (proto != ETH_P_IP && proto != ETH_P_IPV6)
		return 0;
	head = KREAD(mode, skb, head);
	nh_off = KREAD(mode, skb, network_header);
	tail = KREAD(mode, skb, tail);
	nh = head + nh_off;
	if (nh_off == 0xffff || tail <= nh_off)
		return 0;
	f->nh_off = nh_off;
	f->linear = tail - nh_off;
	if (mode == MODE_BTF_CAST)
		return flow_from_headers(nh, proto, f);
	/* Past the end of a mapping (a short packet at its very end): the IP header alone. */
	if (bpf_probe_read_kernel(hdr, sizeof(hdr), nh)) {
		if (bpf_probe_read_kernel(hdr, 40, nh))
			return 0;
		full = 0;
	}
	if (proto == ETH_P_IP) {
		if ((hdr[0] >> 4) != 4 || hdr[9] != IPPROTO_TCP)
			return 0;
		l4 = (hdr[0] & 0x0f) * 4;
		if (l4 < 20)
			return 0;
		f->family = 4;
		__builtin_memcpy(f->saddr, &hdr[12], 4);
		__builtin_memcpy(f->daddr, &hdr[16], 4);
		if (l4 == 20)
			tcp = &hdr[20];
	} else {
		if ((hdr[0] >> 4) != 6)
			return 0;
		f->family = 6;
		__builtin_memcpy(f->saddr, &hdr[8], 16);
		__builtin_memcpy(f->daddr, &hdr[24], 16);
		if (hdr[6] == IPPROTO_TCP) {
			l4 = 40;
			if (full)
				tcp = &hdr[40];
		} else {
			l4 = ipv6_tcp_offset(nh, hdr[6]);
			if (l4 < 0)
				return 0;
		}
	}
	if (tcp == th && bpf_probe_read_kernel(th, sizeof(th), nh + l4))
		return 0;
	thl = parse_tcp(tcp, f);
	if (thl < 20)
		return 0;
	f->hdr_len = l4 + thl;
	f->from_pkt = 1;
	return 1;
}

/*
 * Whether a socket is a TCP one: the mini sockets of TIME_WAIT and
 * NEW_SYN_RECV have no sk_protocol but exist only for TCP. Another socket
 * (a raw one purging its queue, say) says nothing about a TCP state.
 */
static __always_inline int sock_is_tcp(struct sock *sk, __u8 state, const int mode)
{
	if (state == TCP_TIME_WAIT_STATE || state == TCP_NEW_SYN_RECV_STATE)
		return 1;
	return KREAD_BITFIELD(mode, sk, sk_protocol) == IPPROTO_TCP &&
	       KREAD_BITFIELD(mode, sk, sk_type) == SOCK_STREAM;
}

#include "owner.h"
#include "owner_filter.h"

/*
 * No usable headers (rare): take the 4-tuple from the (TCP) socket, as the owner's tuple reads
 * it (sized reads: BPF_CORE_READ_INTO() into an array would read one byte of each address).
 */
static __always_inline int flow_from_sock(struct sock *sk, struct flow *f)
{
	struct owner_tuple t;

	owner_tuple_of(sk, &t);
	if (t.family != AF_INET && t.family != AF_INET6)
		return 0;
	f->family = t.family == AF_INET ? 4 : 6;
	__builtin_memcpy(f->saddr, t.laddr, 16);
	__builtin_memcpy(f->daddr, t.raddr, 16);
	f->sport = t.lport;
	f->dport = t.rport;
	return 1;
}

/* The storm guard: at most cfg.stack_rate stacks per second on this CPU. */
static __always_inline int stack_allowed(__u64 now)
{
	__u32 zero = 0;
	struct stack_budget *b;

	if (!cfg.stack_rate)
		return 1;
	b = bpf_map_lookup_elem(&budgets, &zero);
	if (!b)
		return 0;
	if (now - b->window_start >= NSEC_PER_SEC) {
		b->window_start = now;
		b->used = 0;
	}
	if (b->used >= cfg.stack_rate)
		return 0;
	b->used++;
	return 1;
}

/* Whether the storm guard would allow a stack now, without spending it. */
static __always_inline int stack_room(__u64 now)
{
	__u32 zero = 0;
	struct stack_budget *b;

	if (!cfg.stack_rate)
		return 1;
	b = bpf_map_lookup_elem(&budgets, &zero);
	return b && (now - b->window_start >= NSEC_PER_SEC || b->used < cfg.stack_rate);
}

/*
 * Whether to force a wake-up now. While the reader is still busy with the last
 * batch, each one more is an interrupt (a self-IPI, a VM exit on a guest) that
 * only slows the CPU that is dropping.
 */
static __always_inline int wake_due(__u64 now)
{
	__u32 zero = 0;
	struct stack_budget *b = bpf_map_lookup_elem(&budgets, &zero);

	if (!b || now - b->last_wake < WAKEUP_GAP_NS)
		return 0;
	b->last_wake = now;
	return 1;
}

/* What the packet and its socket say about a drop, read while the packet is alive. */
struct drop {
	struct flow f;
	__u32 netns;
	__u32 ifindex;
	__u32 len;
	__u8 state;
	__u8 evflags;
	struct sock *sk; /* its TCP socket, if any */
};

/*
 * Read the drop and apply the in-kernel filters: 1 if it is a TCP drop to
 * report, 0 if it is no TCP drop, -1 if a filter rejects it. What only a
 * reported drop needs is read after the filters.
 */
static __always_inline int inspect(struct sk_buff *skb, struct sock *sk, struct drop *d,
				   const int mode)
{
	struct net_device *dev;

	if (!sk)
		sk = KREAD(mode, skb, sk);
	if (sk) {
		d->state = KREAD(mode, sk, __sk_common.skc_state);
		if (!sock_is_tcp(sk, d->state, mode)) {
			sk = NULL;
			d->state = 0;
		}
	}
	if (!flow_from_packet(skb, &d->f, mode) && !(sk && flow_from_sock(sk, &d->f)))
		return 0;
	dev = KREAD(mode, skb, dev);
	if (dev) {
		d->netns = KREAD(mode, dev, nd_net.net, ns.inum);
		d->ifindex = KREAD(mode, dev, ifindex);
	} else if (sk) {
		d->netns = KREAD(mode, sk, __sk_common.skc_net.net, ns.inum);
	}
	if (!filter_netns(&cfg.filter, &d->netns) || !filter_flow(&cfg.filter, &d->f) ||
	    !owner_filter_cgroup(sk, d->state, mode) || !filter_owner(d->netns, sk, d->state, mode))
		return -1;
	if (!d->ifindex)
		d->ifindex = KREAD(mode, skb, skb_iif);
	d->len = KREAD(mode, skb, len);
	if (d->f.from_pkt)
		d->evflags |= TCPDROP_F_PKT_HDRS;
	if (sk)
		d->evflags |= TCPDROP_F_SOCK;
	d->sk = sk;
	return 1;
}

/* Whether any kcount table is keyed by one of these TCPDROP_KC_* bits (rodata: pruned). */
static __always_inline int kc_wants(__u32 bits)
{
	__u32 all = 0;

#pragma unroll
	for (int t = 0; t < TCPDROP_KC_MAX_TABLES; t++)
		if (t < cfg.kc_tables)
			all |= cfg.kc_keys[t];
	return !!(all & bits);
}

static __always_inline void *kc_map(int t, __u32 gen)
{
	switch (t) {
	case 0:
		return gen ? (void *)&kc_t0g1 : (void *)&kc_t0g0;
	case 1:
		return gen ? (void *)&kc_t1g1 : (void *)&kc_t1g0;
	case 2:
		return gen ? (void *)&kc_t2g1 : (void *)&kc_t2g0;
	default:
		return gen ? (void *)&kc_t3g1 : (void *)&kc_t3g0;
	}
}

/*
 * Add to a table's key, atomically: a run from a softirq may interrupt one in process context on
 * the same CPU. A key that finds no room (the table full, or its bucket busy) goes into the
 * table's overflow counter: counted, never lost.
 */
static __always_inline void kc_add(void *map, const struct tcpdrop_kkey *k, __u64 count,
				   __u64 bytes, __u32 slot)
{
	struct tcpdrop_kval *v = bpf_map_lookup_elem(map, k), nv = { count, bytes };

	if (!v && !bpf_map_update_elem(map, k, &nv, BPF_NOEXIST))
		return;
	/* Another CPU may have made the key between the lookup and the update. */
	if (!v)
		v = bpf_map_lookup_elem(map, k);
	if (!v)
		v = bpf_map_lookup_elem(&kc_over, &slot);
	if (v) {
		__sync_fetch_and_add(&v->count, count);
		__sync_fetch_and_add(&v->bytes, bytes);
	}
}

/* A key as the words the cache hashes and compares. */
#define KC_WORDS ((int)(sizeof(struct tcpdrop_kkey) / 8))
union kc_words {
	struct tcpdrop_kkey k;
	__u64 w[KC_WORDS];
};

/*
 * One drop into each table, under the key its bits choose out of `full`: the full key's words
 * under the table's mask (cfg.kc_mask, made by the core from the same bits), folded into the
 * cache slot's hash as they are made. Word-wide, with no branch per field: the field-by-field
 * copy it replaces cost ~25 ns a table (make bench, the BPF ns row), as much as the rest of it.
 */
static __always_inline void kcount(const struct tcpdrop_kkey *full, __u32 len)
{
	__u32 zero = 0, *g = bpf_map_lookup_elem(&kc_gen, &zero);
	__u32 gen = g ? *g & 1 : 0, *busy = bpf_map_lookup_elem(&kc_busy, &zero);
	const __u64 *fw = (const __u64 *)full;
	int cached = busy && !*busy;

	stat_add(TCPDROP_STAT_COUNTED);
	if (cached)
		*busy = 1;
#pragma unroll
	for (int t = 0; t < TCPDROP_KC_MAX_TABLES; t++) {
		const volatile __u64 *mw = (const volatile __u64 *)&cfg.kc_mask[t];
		__u32 over = t * 2 + gen, idx;
		struct tcpdrop_kslot *c;
		union kc_words k;
		__u64 h = 0, diff = 0;
		void *map;

		if (t >= cfg.kc_tables)
			break;
#pragma unroll
		for (int i = 0; i < KC_WORDS; i++) {
			k.w[i] = fw[i] & mw[i];
			h = (h ^ k.w[i]) * 0x9E3779B97F4A7C15ULL;
		}
		map = kc_map(t, gen);
		idx = over * KC_SLOTS + (__u32)(h >> KC_SLOT_SHIFT);
		c = cached ? bpf_map_lookup_elem(&kc_cache, &idx) : NULL;
		if (!c) {
			kc_add(map, &k.k, 1, len, over);
			continue;
		}
		if (c->count) {
			const __u64 *cw = (const __u64 *)&c->key;

#pragma unroll
			for (int i = 0; i < KC_WORDS; i++)
				diff |= cw[i] ^ k.w[i];
			if (!diff) {
				c->count++;
				c->bytes += len;
				continue;
			}
			/* Another key's slot: that key goes into the table, this one takes its
			 * place. */
			kc_add(map, &c->key, c->count, c->bytes, over);
		}
		c->key = k.k;
		c->count = 1;
		c->bytes = len;
	}
	if (cached)
		*busy = 0;
}

/* Who was running: the task that the dropping code ran in (or interrupted). */
static __always_inline void fill_task(struct tcpdrop_event *e, const int mode)
{
	if (mode == MODE_BTF_CAST) {
		/* One helper call where two would copy the same task's fields. */
		struct task_struct *t = bpf_get_current_task_btf();

		e->pid = t->tgid;
		e->tid = t->pid;
		((__u64 *)e->comm_raw)[0] = WIRE(t->comm, __u64, 0);
		((__u64 *)e->comm_raw)[1] = WIRE(t->comm, __u64, 8);
	} else {
		__u64 pid_tgid = bpf_get_current_pid_tgid();

		e->pid = pid_tgid >> 32;
		e->tid = (__u32)pid_tgid;
		bpf_get_current_comm(e->comm_raw, sizeof(e->comm_raw));
	}
}

/* What the packet and its socket said. */
static __always_inline void fill_drop(struct tcpdrop_event *e, const struct drop *d, __u64 location,
				      __u32 reason, const int mode)
{
	owner_fill(e, d->sk, d->state, mode);
	e->loc_addr = location;
	__builtin_memcpy(e->saddr_raw, d->f.saddr, 16);
	__builtin_memcpy(e->daddr_raw, d->f.daddr, 16);
	e->reason_code = reason;
	e->netns = d->netns;
	e->ifindex = d->ifindex;
	e->seq = d->f.seq;
	e->ack_seq = d->f.ack_seq;
	e->len = d->len;
	e->sport = d->f.sport;
	e->dport = d->f.dport;
	e->win = d->f.win;
	e->nstack = 0;
	e->pkt_len = 0;
	e->hdr_len = d->f.hdr_len;
	e->family = d->f.family;
	e->state_code = d->state;
	e->tcp_flags = d->f.tcp_flags;
}

/* The fixed head of an event: what every drop carries. */
static __always_inline void fill_head(struct tcpdrop_event *e, const struct drop *d, __u64 now,
				      __u64 location, __u32 reason, __u32 cpu, const int mode)
{
	e->ts_ns = now;
	e->cpu = cpu;
	fill_drop(e, d, location, reason, mode);
	fill_task(e, mode);
}

/*
 * The packet's bytes from its IP header on, as many as -w keeps, into dst:
 * e->pkt, or right after the frames kept in a compact record.
 */
static __always_inline void copy_packet_to(struct tcpdrop_event *e, __u8 *dst, struct sk_buff *skb,
					   const struct flow *f, const int mode)
{
	/*
	 * 64-bit, and clamped after a barrier: a 32-bit value is compared in a
	 * zero-extended copy whose bound the verifier does not carry back to
	 * the register the helper gets.
	 */
	__u64 n = f->linear;

	if (n > (__u64)f->hdr_len + cfg.snaplen)
		n = (__u64)f->hdr_len + cfg.snaplen;
	barrier_var(n);
	if (n > TCPDROP_PKT_MAX)
		n = TCPDROP_PKT_MAX;
	if (!bpf_probe_read_kernel(dst, n, KREAD(mode, skb, head) + f->nh_off))
		e->pkt_len = n;
}

static __always_inline void copy_packet(struct tcpdrop_event *e, struct sk_buff *skb,
					const struct flow *f, const int mode)
{
	copy_packet_to(e, e->pkt, skb, f, mode);
}

/* A drop as kcount's full key: every field a table may choose. */
static __always_inline void kc_key_of(struct tcpdrop_kkey *k, const struct drop *d, __u32 reason,
				      __u32 cpu, const int mode)
{
	k->cgroup_id = kc_wants(TCPDROP_KC_CGROUP) ? owner_cgroup(d->sk, d->state, mode) : 0;
	__builtin_memcpy(k->saddr, d->f.saddr, 16);
	__builtin_memcpy(k->daddr, d->f.daddr, 16);
	k->reason_code = reason;
	k->netns = d->netns;
	k->ifindex = d->ifindex;
	k->cpu = cpu;
	k->sport = d->f.sport;
	k->dport = d->f.dport;
	k->family = d->f.family;
	k->state_code = d->state;
	k->tcp_flags = d->f.tcp_flags;
	k->evflags = d->evflags;
}

static __always_inline int handle(void *ctx, struct sk_buff *skb, __u64 location, __u32 reason,
				  struct sock *sk, __u8 evflags, const int mode)
{
	struct tcpdrop_event *e;
	struct drop d = { .evflags = evflags };
	__u64 now;
	__u32 cpu;
	int take_stack = 0, ret;
	void *rb = &events;
	__u64 wake = BPF_RB_NO_WAKEUP, n;

	if (!skb)
		return 0;
	if (listen_dup(skb))
		return 0;
	if (!filter_reason(&cfg.filter, reason, evflags))
		return 0;
	ret = inspect(skb, sk, &d, mode);
	if (ret <= 0) {
		if (ret < 0)
			stat_add(TCPDROP_STAT_FILTERED);
		return 0;
	}

	cpu = bpf_get_smp_processor_id();
	if (cfg.kc_tables) {
		struct tcpdrop_kkey full;

		kc_key_of(&full, &d, reason, cpu, mode);
		kcount(&full, d.len);
		/* Counted only: no record, no stack, no wake-up. */
		if (cfg.kc_only)
			return 0;
	}
	if (cfg.percpu_rings) {
		rb = bpf_map_lookup_elem(&rings, &cpu);
		if (!rb) {
			stat_add(TCPDROP_STAT_LOST);
			return 0;
		}
	}
	/*
	 * The storm guard decides before the reservation: an event whose stack is
	 * skipped (and that carries no packet) takes only the head's room.
	 */
	now = bpf_ktime_get_ns();
	if (cfg.want_stack) {
		take_stack = stack_allowed(now);
		if (!take_stack) {
			d.evflags |= TCPDROP_F_STACK_SKIPPED;
			stat_add(TCPDROP_STAT_STACK_SKIPPED);
		}
	} else {
		d.evflags |= TCPDROP_F_NO_STACK;
	}

	if (take_stack || (cfg.want_pkt && d.f.from_pkt)) {
		/*
		 * A compact record: the head, the frames taken, the packet bytes
		 * right after them. Built aside and copied in, since a reservation
		 * has a constant size: a full event is 640 bytes where a recorded
		 * drop without a stack needs about 180.
		 */
		__u32 zero = 0, idx = TCPDROP_STAT_EVENTS;
		__u64 off = 0, size, *cnt;

		e = bpf_map_lookup_elem(&outbuf, &zero);
		if (!e)
			goto lost;
		fill_head(e, &d, now, location, reason, cpu, mode);
		if (take_stack) {
			long n = bpf_get_stack(ctx, e->stack_addr, sizeof(e->stack_addr), 0);

			if (n > 0) {
				e->nstack = n / sizeof(__u64);
				off = e->nstack * sizeof(__u64);
			} else {
				d.evflags |= TCPDROP_F_STACK_FAILED;
				stat_add(TCPDROP_STAT_STACK_FAILED);
			}
		}
		barrier_var(off);
		if (off > sizeof(e->stack_addr))
			off = sizeof(e->stack_addr);
		if (cfg.want_pkt && d.f.from_pkt)
			copy_packet_to(e, (__u8 *)e->stack_addr + off, skb, &d.f, mode);
		e->evflags = d.evflags;
		/*
		 * Counted once sent, but the wake-up is decided with the send. A
		 * record with a stack looks at the fill each time: a small ring
		 * holds fewer than WAKEUP_CHECK of them, and the stack cost
		 * a microsecond already.
		 */
		cnt = bpf_map_lookup_elem(&stats, &idx);
		n = cnt ? *cnt + 1 : 0;
		if ((take_stack || !(n % WAKEUP_CHECK)) &&
		    bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= cfg.wakeup_bytes && wake_due(now))
			wake = BPF_RB_FORCE_WAKEUP;
		size = TCPDROP_EVENT_HEAD_SIZE + off + e->pkt_len;
		if (size > sizeof(*e))
			size = sizeof(*e);
		if (bpf_ringbuf_output(rb, e, size, wake))
			goto lost;
		if (cnt)
			*cnt = n;
		return 0;
	}
	e = bpf_ringbuf_reserve(rb, TCPDROP_EVENT_HEAD_SIZE, 0);
	if (!e)
		goto lost;
	fill_head(e, &d, now, location, reason, cpu, mode);
	e->evflags = d.evflags;

	/*
	 * Never wake the reader per event: it polls on a timer, or is woken once
	 * a batch waits. Looking at the fill every WAKEUP_CHECK events keeps a
	 * helper call off the others; the threshold is far above their size.
	 */
	n = stat_add(TCPDROP_STAT_EVENTS);
	if (!(n % WAKEUP_CHECK) && bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= cfg.wakeup_bytes &&
	    wake_due(now))
		wake = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, wake);
	return 0;
lost:
	stat_add(TCPDROP_STAT_LOST);
	return 0;
}

/*
 * The frame inside the watched function becomes the drop's location: the core
 * starts the stack there, skipping the program and trampoline frames above it
 * (which old kernels do not name in kallsyms).
 */
static __always_inline void locate(struct tcpdrop_event *e)
{
#pragma unroll
	for (int i = 0; i < 8; i++) {
		if (i >= e->nstack)
			break;
		if (e->stack_addr[i] - cfg.pair_loc < 32) {
			e->loc_addr = e->stack_addr[i];
			break;
		}
	}
}

/*
 * Entry of tcp_validate_incoming(sk, skb, ...): the event as it would be if
 * the packet were dropped. A kretprobe's stack on old kernels holds only the
 * trampoline, so the kprobe takes it here (stack_now), if the guard has room.
 */
static __always_inline int pair_entry(void *ctx, __u64 key, struct sk_buff *skb, struct sock *sk,
				      const int mode, const int stack_now)
{
	struct drop d = { .evflags = TCPDROP_F_NO_REASON };
	struct tcpdrop_event *e;
	__u32 zero = 0;
	int ret;

	if (!skb || !sk)
		return 0;
	ret = inspect(skb, sk, &d, mode);
	if (!ret)
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	if (ret < 0) {
		/* Not a drop yet: counted as filtered at the exit, if it becomes one. */
		e->evflags = PENDING_FILTERED;
		bpf_map_update_elem(&pending, &key, e, BPF_ANY);
		return 0;
	}
	fill_drop(e, &d, cfg.pair_loc, 0, mode);
	if (cfg.want_pkt && d.f.from_pkt)
		copy_packet(e, skb, &d.f, mode);
	if (!cfg.want_stack) {
		d.evflags |= TCPDROP_F_NO_STACK;
	} else if (stack_now && stack_room(bpf_ktime_get_ns())) {
		long n = bpf_get_stack(ctx, e->stack_addr, sizeof(e->stack_addr), 0);

		if (n > 0) {
			e->nstack = n / sizeof(__u64);
			locate(e);
		} else {
			d.evflags |= TCPDROP_F_STACK_FAILED;
		}
	}
	e->evflags = d.evflags;
	bpf_map_update_elem(&pending, &key, e, BPF_ANY);
	return 0;
}

/*
 * Exit: `dropped` is the function's false. The packet may be freed by now:
 * only the stashed copy is read. The task is the entry's (same call).
 */
static __always_inline int pair_exit(void *ctx, __u64 key, int dropped, const int stack_now)
{
	struct tcpdrop_event *e = bpf_map_lookup_elem(&pending, &key);
	void *rb = &events;
	__u32 cpu;
	__u64 now;
	__u8 evflags;
	long err;

	if (!e)
		return 0;
	if (!dropped)
		goto out;
	if (e->evflags & PENDING_FILTERED) {
		stat_add(TCPDROP_STAT_FILTERED);
		goto out;
	}
	cpu = bpf_get_smp_processor_id();
	if (cfg.kc_tables) {
		/* The socket is not stashed: no cgroup id for the pair's drops. */
		struct tcpdrop_kkey full = { .reason_code = e->reason_code,
					     .netns = e->netns,
					     .ifindex = e->ifindex,
					     .cpu = cpu,
					     .sport = e->sport,
					     .dport = e->dport,
					     .family = e->family,
					     .state_code = e->state_code,
					     .tcp_flags = e->tcp_flags,
					     .evflags = e->evflags };

		__builtin_memcpy(full.saddr, e->saddr_raw, 16);
		__builtin_memcpy(full.daddr, e->daddr_raw, 16);
		kcount(&full, e->len);
		if (cfg.kc_only)
			goto out;
	}
	if (cfg.percpu_rings) {
		rb = bpf_map_lookup_elem(&rings, &cpu);
		if (!rb) {
			stat_add(TCPDROP_STAT_LOST);
			goto out;
		}
	}
	now = bpf_ktime_get_ns();
	e->ts_ns = now;
	e->cpu = cpu;
	fill_task(e, MODE_PROBED);
	evflags = e->evflags;
	/* A stack taken at the entry is spent from the guard's budget only now. */
	if (cfg.want_stack && !(evflags & TCPDROP_F_STACK_FAILED)) {
		if ((!stack_now && !e->nstack) || !stack_allowed(now)) {
			e->nstack = 0;
			evflags |= TCPDROP_F_STACK_SKIPPED;
			stat_add(TCPDROP_STAT_STACK_SKIPPED);
		} else if (stack_now) {
			long n = bpf_get_stack(ctx, e->stack_addr, sizeof(e->stack_addr), 0);

			if (n > 0) {
				e->nstack = n / sizeof(__u64);
				locate(e);
			} else {
				evflags |= TCPDROP_F_STACK_FAILED;
			}
		}
	}
	if (evflags & TCPDROP_F_STACK_FAILED)
		stat_add(TCPDROP_STAT_STACK_FAILED);
	e->evflags = evflags;
	if (e->nstack || e->pkt_len)
		err = bpf_ringbuf_output(rb, e, sizeof(*e), BPF_RB_NO_WAKEUP);
	else
		err = bpf_ringbuf_output(rb, e, TCPDROP_EVENT_HEAD_SIZE, BPF_RB_NO_WAKEUP);
	stat_add(err ? TCPDROP_STAT_LOST : TCPDROP_STAT_EVENTS);
out:
	bpf_map_delete_elem(&pending, &key);
	return 0;
}

/* Typed arguments: (skb, location[, reason[, rx_sk]]) depending on the kernel. */
static __always_inline int tp_btf(__u64 *ctx, const int mode)
{
	struct sk_buff *skb = (struct sk_buff *)ctx[0];
	struct sock *rx_sk = NULL;
	__u32 reason = 0;

	if (cfg.tp_nargs >= 3)
		reason = (__u32)ctx[2];
	if (cfg.tp_nargs >= 4)
		rx_sk = (struct sock *)ctx[3];
	/*
	 * Read-only views of the same pointers: the loads are the same, but a
	 * recent verifier (6.4+) looks up, by a linear search of the kernel's
	 * BTF, whether each pointer read from a trusted one stays trusted; this
	 * made the load ~20 ms slower. We need no trust, only reads.
	 */
	if (mode == MODE_BTF_CAST) {
		skb = bpf_rdonly_cast(skb, bpf_core_type_id_kernel(struct sk_buff));
		if (rx_sk)
			rx_sk = bpf_rdonly_cast(rx_sk, bpf_core_type_id_kernel(struct sock));
	}
	return handle(ctx, skb, ctx[1], reason, rx_sk, cfg.tp_nargs >= 3 ? 0 : TCPDROP_F_NO_REASON,
		      mode);
}

/* Kernels with bpf_rdonly_cast (6.2+); the core loads the other one elsewhere. */
SEC("tp_btf/kfree_skb")
int tcpdrop_tp_btf(__u64 *ctx)
{
	return tp_btf(ctx, MODE_BTF_CAST);
}

SEC("tp_btf/kfree_skb")
int tcpdrop_tp_btf_compat(__u64 *ctx)
{
	return tp_btf(ctx, MODE_BTF);
}

SEC("raw_tp/kfree_skb")
int tcpdrop_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 reason = 0;
	struct sock *rx_sk = NULL;

	if (cfg.tp_nargs >= 3)
		reason = (__u32)ctx->args[2];
	if (cfg.tp_nargs >= 4)
		rx_sk = (struct sock *)ctx->args[3];
	return handle(ctx, (struct sk_buff *)ctx->args[0], ctx->args[1], reason, rx_sk,
		      cfg.tp_nargs >= 3 ? 0 : TCPDROP_F_NO_REASON, MODE_PROBED);
}

SEC("tracepoint/skb/kfree_skb")
int tcpdrop_tracepoint(struct trace_event_raw_kfree_skb *ctx)
{
	__u32 reason = 0;
	struct sock *rx_sk = NULL;
	__u8 evflags = TCPDROP_F_NO_REASON;

	if (bpf_core_field_exists(ctx->reason)) {
		reason = ctx->reason;
		evflags = 0;
	}
	if (bpf_core_field_exists(ctx->rx_sk))
		rx_sk = ctx->rx_sk;
	return handle(ctx, ctx->skbaddr, (__u64)ctx->location, reason, rx_sk, evflags, MODE_PROBED);
}

/* Kernels before drop reasons: tcp_drop(sk, skb), where it is not inlined. */
SEC("kprobe/tcp_drop")
int BPF_KPROBE(tcpdrop_kprobe, struct sock *sk, struct sk_buff *skb)
{
	__u64 ret_ip;

	BPF_KPROBE_READ_RET_IP(ret_ip, ctx);
	return handle(ctx, skb, ret_ip, 0, sk, TCPDROP_F_NO_REASON, MODE_PROBED);
}

SEC("fentry/tcp_drop")
int BPF_PROG(tcpdrop_fentry, struct sock *sk, struct sk_buff *skb)
{
	/* No caller address here: the core takes the location from the stack. */
	return handle(ctx, skb, 0, 0, sk, TCPDROP_F_NO_REASON, MODE_BTF);
}

/* The pair on tcp_validate_incoming(sk, skb, th, syn_inerr), which returns bool. */
SEC("fentry/tcp_validate_incoming")
int BPF_PROG(tcpdrop_pair_fentry, struct sock *sk, struct sk_buff *skb)
{
	return pair_entry(ctx, (__u64)skb, skb, sk, MODE_BTF, 0);
}

SEC("fexit/tcp_validate_incoming")
int tcpdrop_pair_fexit(__u64 *ctx)
{
	/* A bool in a 64-bit slot: only its low byte is the value. */
	return pair_exit(ctx, ctx[1], !(__u8)ctx[4], 1);
}

/*
 * Keyed by the stack pointer: the entry's, which the return has popped by 8.
 * The core attaches the kretprobe first: a kprobe registered after it runs
 * before it, and so still sees the real return address, not the kretprobe's
 * trampoline that old kernels cannot unwind through.
 */
SEC("kprobe/tcp_validate_incoming")
int BPF_KPROBE(tcpdrop_pair_kprobe, struct sock *sk, struct sk_buff *skb)
{
	return pair_entry(ctx, PT_REGS_SP(ctx), skb, sk, MODE_PROBED, 1);
}

SEC("kretprobe/tcp_validate_incoming")
int BPF_KRETPROBE(tcpdrop_pair_kretprobe)
{
	return pair_exit(ctx, PT_REGS_SP(ctx) - 8, !(__u8)PT_REGS_RC(ctx), 0);
}

/* The listen-overflow probes (they call handle()). */
#define TCPDROP_LISTEN_PROGRAMS
#include "listen.h"
