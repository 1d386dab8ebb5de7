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

struct stack_budget {
	__u64 window_start;
	__u32 used;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_budget);
} budgets SEC(".maps");

/* What the packet (or, failing that, its socket) says about the drop. */
struct flow {
	__u8 saddr[16];
	__u8 daddr[16];
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

static __always_inline void stat_add(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline int parse_tcp(const unsigned char *th_ptr, struct flow *f)
{
	__u8 th[20];

	if (bpf_probe_read_kernel(th, sizeof(th), th_ptr))
		return 0;
	f->sport = ((__u16)th[0] << 8) | th[1];
	f->dport = ((__u16)th[2] << 8) | th[3];
	f->seq = ((__u32)th[4] << 24) | ((__u32)th[5] << 16) | ((__u32)th[6] << 8) | th[7];
	f->ack_seq = ((__u32)th[8] << 24) | ((__u32)th[9] << 16) | ((__u32)th[10] << 8) | th[11];
	f->tcp_flags = th[13];
	f->win = ((__u16)th[14] << 8) | th[15];
	return (th[12] >> 4) * 4;
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

/* The packet's own IP and TCP headers, when the skb has them: 1 if it is TCP over IP. */
static __always_inline int flow_from_packet(struct sk_buff *skb, struct flow *f)
{
	__u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u32 nh_off = BPF_CORE_READ(skb, network_header);
	__u32 tail = BPF_CORE_READ(skb, tail);
	unsigned char *nh = head + nh_off;
	__u8 ip[40];
	int l4, thl;

	if (proto != ETH_P_IP && proto != ETH_P_IPV6)
		return 0;
	if (nh_off == 0xffff || tail <= nh_off || bpf_probe_read_kernel(ip, sizeof(ip), nh))
		return 0;
	if (proto == ETH_P_IP) {
		if ((ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP)
			return 0;
		l4 = (ip[0] & 0x0f) * 4;
		if (l4 < 20)
			return 0;
		f->family = 4;
		__builtin_memcpy(f->saddr, &ip[12], 4);
		__builtin_memcpy(f->daddr, &ip[16], 4);
	} else {
		if ((ip[0] >> 4) != 6)
			return 0;
		l4 = ipv6_tcp_offset(nh, ip[6]);
		if (l4 < 0)
			return 0;
		f->family = 6;
		__builtin_memcpy(f->saddr, &ip[8], 16);
		__builtin_memcpy(f->daddr, &ip[24], 16);
	}
	thl = parse_tcp(nh + l4, f);
	if (thl < 20)
		return 0;
	f->nh_off = nh_off;
	f->linear = tail - nh_off;
	f->hdr_len = l4 + thl;
	f->from_pkt = 1;
	return 1;
}

/*
 * Whether a socket is a TCP one: the mini sockets of TIME_WAIT and
 * NEW_SYN_RECV have no sk_protocol but exist only for TCP. Another socket
 * (a raw one purging its queue, say) says nothing about a TCP state.
 */
static __always_inline int sock_is_tcp(struct sock *sk, __u8 state)
{
	if (state == TCP_TIME_WAIT_STATE || state == TCP_NEW_SYN_RECV_STATE)
		return 1;
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) == IPPROTO_TCP &&
	       BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type) == SOCK_STREAM;
}

/* No usable headers: take the 4-tuple from the (TCP) socket. */
static __always_inline int flow_from_sock(struct sock *sk, struct flow *f)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family == AF_INET) {
		f->family = 4;
		BPF_CORE_READ_INTO(f->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(f->daddr, sk, __sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		f->family = 6;
		BPF_CORE_READ_INTO(f->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(f->daddr, sk, __sk_common.skc_v6_daddr);
	} else {
		return 0;
	}
	f->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	f->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	return 1;
}

static __always_inline int port_in(const volatile __u16 *set, __u8 n, __u16 port)
{
#pragma unroll
	for (int i = 0; i < TCPDROP_MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (set[i] == port)
			return 1;
	}
	return 0;
}

static __always_inline int net_has(const volatile struct tcpdrop_net *n, __u8 family,
				   const __u8 *addr)
{
	const __u32 *a = (const __u32 *)addr;
	const volatile __u32 *net = (const volatile __u32 *)n->net;
	const volatile __u32 *mask = (const volatile __u32 *)n->mask;

	if (n->family != family)
		return 0;
	return (a[0] & mask[0]) == net[0] && (a[1] & mask[1]) == net[1] &&
	       (a[2] & mask[2]) == net[2] && (a[3] & mask[3]) == net[3];
}

/* The --saddr/--daddr/--addr filters: each side that has nets must match one of them. */
static __always_inline int nets_pass(const struct flow *f)
{
	__u8 want = 0, hit = 0;

#pragma unroll
	for (int i = 0; i < TCPDROP_MAX_NETS; i++) {
		const volatile struct tcpdrop_net *n = &cfg.nets[i];
		__u8 side;

		if (i >= cfg.nnets)
			break;
		side = n->side;
		if (side == TCPDROP_SIDE_SRC) {
			want |= 1;
			if (net_has(n, f->family, f->saddr))
				hit |= 1;
		} else if (side == TCPDROP_SIDE_DST) {
			want |= 2;
			if (net_has(n, f->family, f->daddr))
				hit |= 2;
		} else {
			want |= 4;
			if (net_has(n, f->family, f->saddr) || net_has(n, f->family, f->daddr))
				hit |= 4;
		}
	}
	return want == hit;
}

static __always_inline int flow_pass(const struct flow *f)
{
	if (cfg.family && cfg.family != f->family)
		return 0;
	if (cfg.nsports && !port_in(cfg.sports, cfg.nsports, f->sport))
		return 0;
	if (cfg.ndports && !port_in(cfg.dports, cfg.ndports, f->dport))
		return 0;
	if (cfg.nports && !port_in(cfg.ports, cfg.nports, f->sport) &&
	    !port_in(cfg.ports, cfg.nports, f->dport))
		return 0;
	if (cfg.nnets && !nets_pass(f))
		return 0;
	return 1;
}

static __always_inline int reason_pass(__u32 reason)
{
#pragma unroll
	for (int i = 0; i < TCPDROP_MAX_REASONS; i++) {
		if (i >= cfg.nreasons)
			break;
		if (cfg.reasons[i] == reason)
			return 1;
	}
	return 0;
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

static __always_inline __u32 netns_of(struct sk_buff *skb, struct sock *sk)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);

	if (dev)
		return BPF_CORE_READ(dev, nd_net.net, ns.inum);
	if (sk)
		return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	return 0;
}

/* The fixed head of an event: what every drop carries. */
static __always_inline void fill_head(struct tcpdrop_event *e, struct sk_buff *skb,
				      const struct flow *f, __u64 now, __u64 location, __u32 reason,
				      __u32 netns, __u32 cpu, __u8 state)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->ts_ns = now;
	e->loc_addr = location;
	__builtin_memcpy(e->saddr_raw, f->saddr, 16);
	__builtin_memcpy(e->daddr_raw, f->daddr, 16);
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->reason_code = reason;
	e->netns = netns;
	e->ifindex = BPF_CORE_READ(skb, dev, ifindex);
	if (!e->ifindex)
		e->ifindex = BPF_CORE_READ(skb, skb_iif);
	e->seq = f->seq;
	e->ack_seq = f->ack_seq;
	e->len = BPF_CORE_READ(skb, len);
	e->cpu = cpu;
	e->sport = f->sport;
	e->dport = f->dport;
	e->win = f->win;
	e->nstack = 0;
	e->pkt_len = 0;
	e->hdr_len = f->hdr_len;
	e->family = f->family;
	e->state_code = state;
	e->tcp_flags = f->tcp_flags;
	bpf_get_current_comm(e->comm_raw, sizeof(e->comm_raw));
}

static __always_inline int handle(void *ctx, struct sk_buff *skb, __u64 location, __u32 reason,
				  struct sock *sk, __u8 evflags)
{
	struct tcpdrop_event *e;
	struct flow f = {};
	__u64 now;
	__u32 netns, cpu;
	__u8 state = 0;
	int take_stack = 0;
	void *rb = &events;
	long avail;

	if (!skb)
		return 0;
	if (cfg.nreasons && !(evflags & TCPDROP_F_NO_REASON) && !reason_pass(reason))
		return 0;
	if (!sk)
		sk = BPF_CORE_READ(skb, sk);
	if (sk) {
		state = BPF_CORE_READ(sk, __sk_common.skc_state);
		if (!sock_is_tcp(sk, state)) {
			sk = NULL;
			state = 0;
		}
	}
	if (!flow_from_packet(skb, &f) && !(sk && flow_from_sock(sk, &f)))
		return 0;
	netns = netns_of(skb, sk);
	if ((cfg.netns && cfg.netns != netns) || !flow_pass(&f)) {
		stat_add(TCPDROP_STAT_FILTERED);
		return 0;
	}

	cpu = bpf_get_smp_processor_id();
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
			evflags |= TCPDROP_F_STACK_SKIPPED;
			stat_add(TCPDROP_STAT_STACK_SKIPPED);
		}
	} else {
		evflags |= TCPDROP_F_NO_STACK;
	}
	if (f.from_pkt)
		evflags |= TCPDROP_F_PKT_HDRS;
	if (sk)
		evflags |= TCPDROP_F_SOCK;

	if (take_stack || cfg.want_pkt) {
		e = bpf_ringbuf_reserve(rb, sizeof(*e), 0);
		if (!e)
			goto lost;
		fill_head(e, skb, &f, now, location, reason, netns, cpu, state);
		if (take_stack) {
			long n = bpf_get_stack(ctx, e->stack_addr, sizeof(e->stack_addr), 0);

			if (n > 0) {
				e->nstack = n / sizeof(__u64);
			} else {
				evflags |= TCPDROP_F_STACK_FAILED;
				stat_add(TCPDROP_STAT_STACK_FAILED);
			}
		}
		if (cfg.want_pkt && f.from_pkt) {
			/*
			 * 64-bit, and clamped after a barrier: a 32-bit value is
			 * compared in a zero-extended copy whose bound the verifier
			 * does not carry back to the register the helper gets.
			 */
			__u64 n = f.linear;

			if (n > (__u64)f.hdr_len + cfg.snaplen)
				n = (__u64)f.hdr_len + cfg.snaplen;
			barrier_var(n);
			if (n > TCPDROP_PKT_MAX)
				n = TCPDROP_PKT_MAX;
			if (!bpf_probe_read_kernel(e->pkt, n, BPF_CORE_READ(skb, head) + f.nh_off))
				e->pkt_len = n;
		}
	} else {
		e = bpf_ringbuf_reserve(rb, TCPDROP_EVENT_HEAD_SIZE, 0);
		if (!e)
			goto lost;
		fill_head(e, skb, &f, now, location, reason, netns, cpu, state);
	}
	e->evflags = evflags;

	/* Never wake the reader per event: it polls on a timer, or is woken once a batch waits. */
	avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(e, avail >= cfg.wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	stat_add(TCPDROP_STAT_EVENTS);
	return 0;
lost:
	stat_add(TCPDROP_STAT_LOST);
	return 0;
}

/* Typed arguments: (skb, location[, reason[, rx_sk]]) depending on the kernel. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(tcpdrop_tp_btf, struct sk_buff *skb, void *location)
{
	__u32 reason = 0;
	struct sock *rx_sk = NULL;

	if (cfg.tp_nargs >= 3)
		reason = (__u32)ctx[2];
	if (cfg.tp_nargs >= 4)
		rx_sk = (struct sock *)ctx[3];
	return handle(ctx, skb, (__u64)location, reason, rx_sk,
		      cfg.tp_nargs >= 3 ? 0 : TCPDROP_F_NO_REASON);
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
		      cfg.tp_nargs >= 3 ? 0 : TCPDROP_F_NO_REASON);
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
	return handle(ctx, ctx->skbaddr, (__u64)ctx->location, reason, rx_sk, evflags);
}

/* Kernels before drop reasons: tcp_drop(sk, skb), where it is not inlined. */
SEC("kprobe/tcp_drop")
int BPF_KPROBE(tcpdrop_kprobe, struct sock *sk, struct sk_buff *skb)
{
	__u64 ret_ip;

	BPF_KPROBE_READ_RET_IP(ret_ip, ctx);
	return handle(ctx, skb, ret_ip, 0, sk, TCPDROP_F_NO_REASON);
}

SEC("fentry/tcp_drop")
int BPF_PROG(tcpdrop_fentry, struct sock *sk, struct sk_buff *skb)
{
	/* No caller address here: the core takes the location from the stack. */
	return handle(ctx, skb, 0, 0, sk, TCPDROP_F_NO_REASON);
}
