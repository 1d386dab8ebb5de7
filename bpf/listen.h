/* Listen-queue overflows: the SYNs and final ACKs a full listener throws away, as drop events. */
#ifndef TCPDROP_LISTEN_H
#define TCPDROP_LISTEN_H

/*
 * A listener whose accept queue is full (or, without syncookies, whose SYN queue is) throws the
 * SYN away with consume_skb(): no kfree_skb event, whatever the reason. The final ACK of a
 * handshake that finds the accept queue full reaches kfree_skb on some kernels and not on others
 * (5.10, at times), and before 6.15 with no reason that says so (TCP_LISTEN_OVERFLOW since).
 *
 * The probes watch tcp_conn_request() (the SYN) and tcp_v4/v6_syn_recv_sock() (the final ACK)
 * with an entry/exit pair each, and take the verdict from the kernel's own counters: this CPU's
 * LINUX_MIB_LISTENOVERFLOWS and LINUX_MIB_TCPREQQFULLDROP of the listener's namespace, read at
 * the entry and at the exit. The request path runs with bottom halves off, so nothing else on
 * this CPU counts in between: an event per count, exactly as the MIB counts them, with no guess
 * at the queue's limits (their comparisons changed between kernels, and in stable updates).
 *
 * This file is included twice by tcpdrop.bpf.c: first for the settings, the maps and the check
 * handle() makes that a final ACK is not sent twice; then, with TCPDROP_LISTEN_PROGRAMS defined,
 * for the programs, which call handle(). The core sees the settings' structs only.
 */

/* The core's settings, in rodata before load: reason codes and MIB indices from the kernel's BTF.
 */
struct tcpdrop_listen_config {
	__u32 overflow_code; /* the accept queue was full: the kernel's TCP_LISTEN_OVERFLOW, or ours
			      */
	__u32 synq_code; /* the SYN queue was full and syncookies are off: ours */
	__u32 mib_overflows; /* LINUX_MIB_LISTENOVERFLOWS: an index of struct linux_mib's mibs[] */
	__u32 mib_reqqfull; /* LINUX_MIB_TCPREQQFULLDROP */
	__u8 ack_nargs; /* arguments of tcp_v4/v6_syn_recv_sock(): 6, or 7 since 6.1 */
	__u8 ack_emit; /* no kfree_skb program runs: no final ACK to mark for it */
	__u8 _pad[6];
};

/*
 * Kernel addresses from kallsyms, written into .bss after load (only once a listen probe loaded:
 * kallsyms is long to read, and on most machines no listen probe loads at all).
 */
struct tcpdrop_listen_addrs {
	__u64 pcpu_offset; /* &__per_cpu_offset[0]: this CPU's copy of a per-CPU variable */
	__u64 syn_loc; /* tcp_conn_request: the events' location */
	__u64 ack4_loc; /* tcp_v4_syn_recv_sock */
	__u64 ack6_loc; /* tcp_v6_syn_recv_sock */
};

#ifdef __bpf__

#define LISTEN_SYN 0
#define LISTEN_ACK4 1
#define LISTEN_ACK6 2
/* A final ACK is freed right after its mark (microseconds; far more under an emulator). */
#define LISTEN_MARK_NS 1000000000ULL

const volatile struct tcpdrop_listen_config listen_cfg = {};
struct tcpdrop_listen_addrs listen_addrs = {};
/* Set by the core in the drop probe's own .bss once final-ACK probes mark packets for it. */
__u32 listen_marking = 0;

/* What an entry saw, per CPU and per watched function, for its exit. */
struct listen_stash {
	__u64 skb;
	__u64 sk;
	__u64 overflows;
	__u64 reqqfull;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct listen_stash);
} listen_stashes SEC(".maps");

/* A final ACK that overflowed, for the kfree_skb program that sees it freed next. */
struct listen_mark {
	__u64 skb;
	__u64 head; /* its data: a later packet at the same address has other data */
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct listen_mark);
} listen_marks SEC(".maps");

/*
 * In handle(), first: a packet a final-ACK probe has already sent as an overflow, now freed
 * at kfree_skb (with NOT_SPECIFIED, or no reason before 5.17), is not sent again: 1 then.
 * Some kernels free it there, some do not (5.10 did not, for some of them): the probe sends
 * each one, and this keeps it one event.
 */
static __always_inline int listen_dup(struct sk_buff *skb)
{
	struct listen_mark *m;
	__u32 zero = 0;

	if (!listen_marking)
		return 0;
	m = bpf_map_lookup_elem(&listen_marks, &zero);
	if (!m || m->skb != (__u64)skb)
		return 0;
	m->skb = 0;
	/* A mark left by an ACK freed elsewhere must not hide a later packet at that address. */
	return (__u64)BPF_CORE_READ(skb, head) == m->head &&
	       bpf_ktime_get_ns() - m->ts <= LISTEN_MARK_NS;
}

#endif /* __bpf__ */
#endif /* TCPDROP_LISTEN_H */

#if defined(__bpf__) && defined(TCPDROP_LISTEN_PROGRAMS) && !defined(TCPDROP_LISTEN_PROGRAMS_DONE)
#define TCPDROP_LISTEN_PROGRAMS_DONE

/* The shadows of struct net's MIB pointer (a flavour: kernel.h's struct net has the inode only). */
struct netns_mib___listen {
	void *net_statistics; /* struct linux_mib __percpu * */
};

struct net___listen {
	struct netns_mib___listen mib;
};

/* This CPU's two counters of sk's namespace: 1, or 0 when they cannot be read. */
static __always_inline int listen_mib(struct sock *sk, __u64 *overflows, __u64 *reqqfull)
{
	struct net___listen *net = (void *)BPF_CORE_READ(sk, __sk_common.skc_net.net);
	__u64 base, off, at = listen_addrs.pcpu_offset + (__u64)bpf_get_smp_processor_id() * 8;

	if (!net || !listen_addrs.pcpu_offset)
		return 0;
	base = (__u64)BPF_CORE_READ(net, mib.net_statistics);
	if (!base || bpf_probe_read_kernel(&off, sizeof(off), (void *)at))
		return 0;
	base += off;
	return !bpf_probe_read_kernel(overflows, sizeof(*overflows),
				      (void *)(base + (__u64)listen_cfg.mib_overflows * 8)) &&
	       !bpf_probe_read_kernel(reqqfull, sizeof(*reqqfull),
				      (void *)(base + (__u64)listen_cfg.mib_reqqfull * 8));
}

static __always_inline void listen_enter(__u32 slot, struct sock *sk, struct sk_buff *skb)
{
	struct listen_stash *s = bpf_map_lookup_elem(&listen_stashes, &slot);

	if (!s)
		return;
	s->skb = 0;
	if (!sk || !skb || !listen_mib(sk, &s->overflows, &s->reqqfull))
		return;
	s->skb = (__u64)skb;
	s->sk = (__u64)sk;
}

/*
 * The exit's stash, taken: NULL when the entry saw nothing to compare with, or saw another
 * packet (skb: the exit's own, where it has one).
 */
static __always_inline struct listen_stash *listen_take(__u32 slot, struct sk_buff *skb,
							const int mode)
{
	struct listen_stash *s = bpf_map_lookup_elem(&listen_stashes, &slot);

	if (!s || !s->skb || (mode != MODE_PROBED && s->skb != (__u64)skb))
		return NULL;
	return s;
}

/*
 * tcp_conn_request() returned. skb and sk are the exit's typed arguments (fexit); the kretprobe
 * (mode MODE_PROBED) takes the entry's, read by probed reads.
 */
static __always_inline int listen_syn_exit(void *ctx, struct sock *sk, struct sk_buff *skb,
					   const int mode)
{
	struct listen_stash *s = listen_take(LISTEN_SYN, skb, mode);
	__u64 overflows, reqqfull;
	__u32 reason;

	if (!s)
		return 0;
	/* Only the kretprobe takes the entry's pointers: a typed one may not become a number. */
	if (mode == MODE_PROBED) {
		skb = (struct sk_buff *)s->skb;
		sk = (struct sock *)s->sk;
	}
	s->skb = 0;
	if (!skb || !sk || !listen_mib(sk, &overflows, &reqqfull))
		return 0;
	if (overflows != s->overflows)
		reason = listen_cfg.overflow_code;
	else if (reqqfull != s->reqqfull)
		reason = listen_cfg.synq_code;
	else
		return 0;
	return handle(ctx, skb, listen_addrs.syn_loc, reason, sk, 0, mode);
}

/*
 * The stash of slot, if it watches the same packet, is not to count this overflow again: 1 then.
 */
static __always_inline int listen_seen(__u32 slot, __u64 skb, __u64 overflows)
{
	struct listen_stash *s = bpf_map_lookup_elem(&listen_stashes, &slot);

	if (!s || s->skb != skb)
		return 0;
	s->overflows = overflows;
	return 1;
}

/* tcp_v4/v6_syn_recv_sock() returned child (NULL: no child made). */
static __always_inline int listen_ack_exit(void *ctx, __u32 slot, struct sock *sk,
					   struct sk_buff *skb, __u64 child, __u64 loc,
					   const int mode)
{
	struct listen_stash *s = listen_take(slot, skb, mode);
	struct listen_mark *m;
	__u64 overflows, reqqfull;
	__u32 zero = 0;

	if (!s)
		return 0;
	if (mode == MODE_PROBED) {
		skb = (struct sk_buff *)s->skb;
		sk = (struct sock *)s->sk;
	}
	s->skb = 0;
	if (child || !skb || !sk || !listen_mib(sk, &overflows, &reqqfull) ||
	    overflows == s->overflows)
		return 0;
	/*
	 * Counted once: tcp_v6_syn_recv_sock() calls the v4 one for a v4-mapped peer, and a Fast
	 * Open SYN makes its child inside tcp_conn_request(), whose SYN is not dropped by it.
	 */
	listen_seen(slot == LISTEN_ACK4 ? LISTEN_ACK6 : LISTEN_ACK4, (__u64)skb, overflows);
	if (listen_seen(LISTEN_SYN, (__u64)skb, overflows))
		return 0;
	/* Marked first: the event is the probe's, whatever kfree_skb sees of it next. */
	m = listen_cfg.ack_emit ? NULL : bpf_map_lookup_elem(&listen_marks, &zero);
	if (m) {
		m->skb = (__u64)skb;
		m->head = (__u64)BPF_CORE_READ(skb, head);
		m->ts = bpf_ktime_get_ns();
	}
	return handle(ctx, skb, loc, listen_cfg.overflow_code, sk, 0, mode);
}

/* tcp_conn_request(rsk_ops, af_ops, sk, skb) */
SEC("fentry/tcp_conn_request")
int BPF_PROG(tcpdrop_listen_syn_fentry, void *rsk_ops, void *af_ops, struct sock *sk,
	     struct sk_buff *skb)
{
	listen_enter(LISTEN_SYN, sk, skb);
	return 0;
}

SEC("fexit/tcp_conn_request")
int BPF_PROG(tcpdrop_listen_syn_fexit, void *rsk_ops, void *af_ops, struct sock *sk,
	     struct sk_buff *skb)
{
	return listen_syn_exit(ctx, sk, skb, MODE_BTF);
}

SEC("kprobe/tcp_conn_request")
int BPF_KPROBE(tcpdrop_listen_syn_kprobe, void *rsk_ops, void *af_ops, struct sock *sk,
	       struct sk_buff *skb)
{
	listen_enter(LISTEN_SYN, sk, skb);
	return 0;
}

SEC("kretprobe/tcp_conn_request")
int BPF_KRETPROBE(tcpdrop_listen_syn_kretprobe)
{
	return listen_syn_exit(ctx, NULL, NULL, MODE_PROBED);
}

/* tcp_v4_syn_recv_sock(sk, skb, req, dst, req_unhash, own_req[, opt_child_init]) */
SEC("fentry/tcp_v4_syn_recv_sock")
int BPF_PROG(tcpdrop_listen_ack4_fentry, struct sock *sk, struct sk_buff *skb)
{
	listen_enter(LISTEN_ACK4, sk, skb);
	return 0;
}

/*
 * The exits, for 6 arguments (5.10) and 7 (6.1+): the result, the child, comes after them, and a
 * tracing program reads its context only at constant offsets. The core loads the one that fits.
 */
#define LISTEN_ACK_FEXIT(name, fn, slot, loc, nargs)                                               \
	SEC("fexit/" #fn)                                                                          \
	int name(__u64 *ctx)                                                                       \
	{                                                                                          \
		return listen_ack_exit(ctx, slot, (struct sock *)ctx[0], (struct sk_buff *)ctx[1], \
				       ctx[nargs], listen_addrs.loc, MODE_BTF);                    \
	}

LISTEN_ACK_FEXIT(tcpdrop_listen_ack4_fexit6, tcp_v4_syn_recv_sock, LISTEN_ACK4, ack4_loc, 6)
LISTEN_ACK_FEXIT(tcpdrop_listen_ack4_fexit7, tcp_v4_syn_recv_sock, LISTEN_ACK4, ack4_loc, 7)
LISTEN_ACK_FEXIT(tcpdrop_listen_ack6_fexit6, tcp_v6_syn_recv_sock, LISTEN_ACK6, ack6_loc, 6)
LISTEN_ACK_FEXIT(tcpdrop_listen_ack6_fexit7, tcp_v6_syn_recv_sock, LISTEN_ACK6, ack6_loc, 7)

SEC("fentry/tcp_v6_syn_recv_sock")
int BPF_PROG(tcpdrop_listen_ack6_fentry, struct sock *sk, struct sk_buff *skb)
{
	listen_enter(LISTEN_ACK6, sk, skb);
	return 0;
}

SEC("kprobe/tcp_v4_syn_recv_sock")
int BPF_KPROBE(tcpdrop_listen_ack4_kprobe, struct sock *sk, struct sk_buff *skb)
{
	listen_enter(LISTEN_ACK4, sk, skb);
	return 0;
}

SEC("kretprobe/tcp_v4_syn_recv_sock")
int BPF_KRETPROBE(tcpdrop_listen_ack4_kretprobe)
{
	return listen_ack_exit(ctx, LISTEN_ACK4, NULL, NULL, PT_REGS_RC(ctx), listen_addrs.ack4_loc,
			       MODE_PROBED);
}

SEC("kprobe/tcp_v6_syn_recv_sock")
int BPF_KPROBE(tcpdrop_listen_ack6_kprobe, struct sock *sk, struct sk_buff *skb)
{
	listen_enter(LISTEN_ACK6, sk, skb);
	return 0;
}

SEC("kretprobe/tcp_v6_syn_recv_sock")
int BPF_KRETPROBE(tcpdrop_listen_ack6_kretprobe)
{
	return listen_ack_exit(ctx, LISTEN_ACK6, NULL, NULL, PT_REGS_RC(ctx), listen_addrs.ack6_loc,
			       MODE_PROBED);
}

#endif /* TCPDROP_LISTEN_PROGRAMS */
