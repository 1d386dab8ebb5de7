/* The one definition of a drop event: shared by the BPF probe, the C core and the Lua FFI. */
#ifndef TCPDROP_H
#define TCPDROP_H

/*
 * Fixed-width types only, no includes: the BPF side gets __u64 and friends from
 * linux/types.h, the C side from <linux/types.h>, and the Lua side from typedefs
 * the runtime declares before it feeds this file (after `cc -E`) to ffi.cdef.
 */

#define TCPDROP_STACK_MAX 32 /* kernel frames kept per event */
#define TCPDROP_PKT_MAX 256 /* bytes of the dropped packet kept, from its IP header */
#define TCPDROP_HDR_MAX 120 /* largest IP (60 or 40) + TCP (60) header pair we parse */

/* evflags: what the probe knew about this drop. */
#define TCPDROP_F_PKT_HDRS 0x01 /* 4-tuple read from the packet's own headers */
#define TCPDROP_F_SOCK 0x02 /* a socket was found (state_code is valid) */
#define TCPDROP_F_NO_REASON 0x04 /* the kernel's probe point carries no reason */
#define TCPDROP_F_STACK_SKIPPED 0x08 /* stack not captured: the storm guard's budget ran out */
#define TCPDROP_F_STACK_FAILED 0x10 /* stack not captured: the kernel refused */
#define TCPDROP_F_NO_STACK 0x20 /* stack not asked for (--no-stack) */

/* Per-CPU counters kept by the probe, read by the core at each tick and at exit. */
enum tcpdrop_stat {
	TCPDROP_STAT_EVENTS, /* events written to the ring buffer */
	TCPDROP_STAT_LOST, /* events the ring buffer had no room for */
	TCPDROP_STAT_STACK_SKIPPED,
	TCPDROP_STAT_STACK_FAILED,
	TCPDROP_STAT_FILTERED, /* TCP drops an in-kernel filter rejected */
	TCPDROP_STAT_MAX,
};

/* Largest fields first, so that no padding hides between them. */
struct tcpdrop_event {
	__u64 ts_ns; /* from the probe: CLOCK_MONOTONIC; once in the core: CLOCK_REALTIME */
	__u64 loc_addr; /* kernel address where the packet was dropped */
	__u8 saddr_raw[16]; /* packet's source; IPv4 in the first 4 bytes */
	__u8 daddr_raw[16];
	__u32 pid; /* thread group of the task running when the packet was dropped */
	__u32 tid;
	__u32 reason_code; /* enum skb_drop_reason of the running kernel (subsystem in bits 16+) */
	__u32 netns; /* network namespace inode */
	__u32 ifindex;
	__u32 seq; /* TCP header fields, host order */
	__u32 ack_seq;
	__u32 len; /* skb->len */
	__u32 cpu;
	__u16 sport; /* host order */
	__u16 dport;
	__u16 win;
	__u16 nstack; /* frames in stack_addr[] */
	__u16 pkt_len; /* bytes in pkt[] */
	__u16 hdr_len; /* IP + TCP header bytes at the start of pkt[] (0 if not parsed) */
	__u8 family; /* 4 or 6 */
	__u8 state_code; /* the socket's TCP state (1..), 0 when there was no socket */
	__u8 tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80
			 */
	__u8 evflags; /* TCPDROP_F_* */
	__u8 _pad[12];
	char comm_raw[16];
	__u64 stack_addr[TCPDROP_STACK_MAX];
	__u8 pkt[TCPDROP_PKT_MAX];
};

/*
 * The event without its stack and packet: what a --no-stack probe reserves.
 * In the ring, an event is this head alone; or, when it is sizeof(struct
 * tcpdrop_event) bytes, the whole struct; or else a compact record: the head,
 * nstack frames, then pkt_len packet bytes right after the frames.
 */
#define TCPDROP_EVENT_HEAD_SIZE 128

#define TCPDROP_MAX_PORTS 8
#define TCPDROP_MAX_NETS 8
#define TCPDROP_MAX_REASONS 16

#define TCPDROP_SIDE_SRC 1
#define TCPDROP_SIDE_DST 2
#define TCPDROP_SIDE_ANY 3

/* An address filter: (addr & mask) == net on the chosen side(s). */
struct tcpdrop_net {
	__u8 net[16];
	__u8 mask[16];
	__u8 family; /* 4 or 6 */
	__u8 side; /* TCPDROP_SIDE_* */
	__u8 _pad[6];
};

/*
 * The in-kernel filters (the rules are bpf/filter.h's, for the probe and for replay). Within
 * one kind of filter the values are alternatives; different kinds must all match.
 */
struct tcpdrop_filter {
	struct tcpdrop_net nets[TCPDROP_MAX_NETS];
	__u32 reasons[TCPDROP_MAX_REASONS];
	__u32 netns; /* 0: any */
	__u16 sports[TCPDROP_MAX_PORTS];
	__u16 dports[TCPDROP_MAX_PORTS];
	__u16 ports[TCPDROP_MAX_PORTS]; /* either side */
	__u8 nsports;
	__u8 ndports;
	__u8 nports;
	__u8 nnets;
	__u8 nreasons;
	__u8 family; /* 0: both, 4 or 6 */
	__u8 _pad[2];
};

/*
 * Settings the core writes into the probe's read-only data before load, so the
 * verifier sees them as constants and prunes whatever they turn off.
 */
struct tcpdrop_config {
	struct tcpdrop_filter filter;
	__u32 stack_rate; /* stacks per second per CPU; 0: no limit */
	__u32 snaplen; /* payload bytes kept after the headers, when want_pkt */
	__u32 wakeup_bytes; /* wake the reader when this much is waiting */
	__u8 want_stack;
	__u8 tp_nargs; /* arguments of the kfree_skb tracepoint in this kernel */
	__u8 want_pkt; /* copy the packet's bytes into pkt[] (for -w) */
	__u8 percpu_rings; /* one ring per CPU in `rings`, else the shared `events` */
	__u8 _pad[4];
	__u64 pair_loc; /* tcp_validate_incoming's address: where the entry/exit pair's drops are */
};

#endif
