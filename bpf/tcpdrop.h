/* The one definition of a drop event: shared by the BPF probe, the C core and the Lua FFI. */
#ifndef TCPDROP_H
#define TCPDROP_H

/*
 * Fixed-width types only, no includes: the BPF side gets __u64 and friends from
 * linux/types.h, the C side from <linux/types.h>, and the Lua side from typedefs
 * the runtime declares before it feeds this file (after `cc -E`) to ffi.cdef.
 */

#include "fields.h"

#define TCPDROP_HDR_MAX 120 /* largest IP (60 or 40) + TCP (60) header pair we parse */

/* evflags: what the probe knew about this drop. */
#define TCPDROP_F_PKT_HDRS 0x01 /* 4-tuple read from the packet's own headers */
#define TCPDROP_F_SOCK 0x02 /* a socket was found (state_code is valid) */
#define TCPDROP_F_NO_REASON 0x04 /* the kernel's probe point carries no reason */
#define TCPDROP_F_STACK_SKIPPED 0x08 /* stack not captured: the storm guard's budget ran out */
#define TCPDROP_F_STACK_FAILED 0x10 /* stack not captured: the kernel refused */
#define TCPDROP_F_NO_STACK 0x20 /* stack not asked for (--no-stack) */
#define TCPDROP_F_FRAME_IDS 0x40 /* user space: stack_addr, loc_addr are frame-text ids */

/*
 * owner_flags: who the drop hurt (bpf/owner.h). The owner is the process that connected,
 * accepted, listened on or last used the socket, recorded by the probe while it was current;
 * never the task that happens to be on the CPU at the drop.
 */
#define TCPDROP_O_OWNER 0x01 /* owner_pid, owner_start_ns, owner_comm_raw are known */
#define TCPDROP_O_CLOSED 0x02 /* the owner has closed it: FIN states, TIME_WAIT, orphaned */
#define TCPDROP_O_UID 0x04 /* sk_uid is the socket's */
#define TCPDROP_O_CGROUP_SK 0x08 /* cgroup_id_raw is the socket's cgroup */
#define TCPDROP_O_CGROUP_TASK 0x10 /* no socket, in process context: the current task's cgroup */
#define TCPDROP_O_LISTENER 0x20 /* a connection not accepted yet: its listener's owner */

/* Per-CPU counters kept by the probe, read by the core at each tick and at exit. */
enum tcpdrop_stat {
	TCPDROP_STAT_EVENTS, /* events written to the ring buffer */
	TCPDROP_STAT_LOST, /* events the ring buffer had no room for */
	TCPDROP_STAT_STACK_SKIPPED,
	TCPDROP_STAT_STACK_FAILED,
	TCPDROP_STAT_FILTERED, /* TCP drops an in-kernel filter rejected */
	TCPDROP_STAT_COUNTED, /* drops counted into the kcount tables (once per drop) */
	TCPDROP_STAT_MAX,
};

#define TCPDROP_FIELD_DECL(type, name, part) type name;
#define TCPDROP_ARRAY_DECL(type, name, count, part) type name[count];

struct tcpdrop_event {
	TCPDROP_EVENT_FIELDS(TCPDROP_FIELD_DECL, TCPDROP_ARRAY_DECL)
};

/*
 * The event without its stack and packet: what a --no-stack probe reserves.
 * In the ring, an event is this head alone; or, when it is sizeof(struct
 * tcpdrop_event) bytes, the whole struct; or else a compact record: the head,
 * nstack frames, then pkt_len packet bytes right after the frames.
 */
#define TCPDROP_EVENT_HEAD_SIZE 168
#define TCPDROP_EVENT_REC_START 16 /* offset of reason_code: where the fixed record begins */
#define TCPDROP_EVENT_REC_LEN 100 /* to the end of comm_raw */

/*
 * The layout, held wherever a C11 compiler reads this (the probe's clang, the core's cc; not the
 * FFI cdef): the sizes of the fields add up to the struct's (no hidden padding), the record's
 * fields lie together where the codec expects them, the head ends at stack_addr.
 */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(TCPDROP_CDEF)
#define TCPDROP_SIZE_F(type, name, part) +sizeof(type)
#define TCPDROP_SIZE_A(type, name, count, part) +sizeof(type) * (count)
#define TCPDROP_REC_F(type, name, part) +(part == TCPDROP_PART_REC ? sizeof(type) : 0)
#define TCPDROP_REC_A(type, name, count, part) \
	+(part == TCPDROP_PART_REC ? sizeof(type) * (count) : 0)
_Static_assert(0 TCPDROP_EVENT_FIELDS(TCPDROP_SIZE_F, TCPDROP_SIZE_A) ==
		       sizeof(struct tcpdrop_event),
	       "struct tcpdrop_event has padding between its fields");
_Static_assert(0 TCPDROP_EVENT_FIELDS(TCPDROP_REC_F, TCPDROP_REC_A) == TCPDROP_EVENT_REC_LEN,
	       "the fixed record's fields are not PCAPNG_EVENT_LEN bytes");
/* Each of them within the record's bytes: with the sizes adding up, they fill it exactly. */
#define TCPDROP_IN_REC(name, size, part)                                                   \
	_Static_assert(part != TCPDROP_PART_REC ||                                         \
			       (__builtin_offsetof(struct tcpdrop_event, name) >=          \
					TCPDROP_EVENT_REC_START &&                         \
				__builtin_offsetof(struct tcpdrop_event, name) + (size) <= \
					TCPDROP_EVENT_REC_START + TCPDROP_EVENT_REC_LEN),  \
		       #name ": the fixed record's fields do not lie together");
#define TCPDROP_IN_REC_F(type, name, part) TCPDROP_IN_REC(name, sizeof(type), part)
#define TCPDROP_IN_REC_A(type, name, count, part) TCPDROP_IN_REC(name, sizeof(type) * (count), part)
TCPDROP_EVENT_FIELDS(TCPDROP_IN_REC_F, TCPDROP_IN_REC_A)
#undef TCPDROP_IN_REC
#undef TCPDROP_IN_REC_F
#undef TCPDROP_IN_REC_A
_Static_assert(__builtin_offsetof(struct tcpdrop_event, stack_addr) == TCPDROP_EVENT_HEAD_SIZE,
	       "the head does not end at stack_addr");
/* Arrays in the record are bytes, so that only its scalars have a byte order to swap. */
#define TCPDROP_BYTES_F(type, name, part)
#define TCPDROP_BYTES_A(type, name, count, part)                      \
	_Static_assert(part != TCPDROP_PART_REC || sizeof(type) == 1, \
		       #name ": an array in the record must be of bytes");
TCPDROP_EVENT_FIELDS(TCPDROP_BYTES_F, TCPDROP_BYTES_A)
#undef TCPDROP_BYTES_F
#undef TCPDROP_BYTES_A
#undef TCPDROP_SIZE_F
#undef TCPDROP_SIZE_A
#undef TCPDROP_REC_F
#undef TCPDROP_REC_A
#endif

/*
 * Counting in the kernel (kcount): tables of key -> (count, bytes) that the probe updates per
 * drop, with no ring-buffer record. A table's key is the fields its TCPDROP_KC_* bits choose;
 * the others are zero in struct tcpdrop_kkey. The core reads the tables (core/kernel/kernel.h).
 */
#define TCPDROP_KC_REASON 0x0001 /* reason_code, and evflags' TCPDROP_F_NO_REASON */
#define TCPDROP_KC_STATE 0x0002 /* state_code, and evflags' TCPDROP_F_SOCK */
#define TCPDROP_KC_FLAGS 0x0004 /* tcp_flags */
#define TCPDROP_KC_FAMILY 0x0008
#define TCPDROP_KC_SADDR 0x0010 /* saddr, with the family (an address needs it to be read) */
#define TCPDROP_KC_DADDR 0x0020 /* daddr, with the family */
#define TCPDROP_KC_SPORT 0x0040
#define TCPDROP_KC_DPORT 0x0080
#define TCPDROP_KC_NETNS 0x0100
#define TCPDROP_KC_IFINDEX 0x0200
#define TCPDROP_KC_CPU 0x0400
/*
 * cgroup_id: the drop's cgroup v2 id as the event's cgroup_id_raw carries it (owner_cgroup() in
 * bpf/owner.h): its full socket's, a TIME_WAIT socket's as it closed, a request socket's
 * listener's, or without a socket in process context the current task's; else 0 (never the
 * task a softirq happened to interrupt).
 */
#define TCPDROP_KC_CGROUP 0x0800
#define TCPDROP_KC_ALL 0x0fff

#define TCPDROP_KC_MAX_TABLES 4
/* evflags of a kkey: the one key of each table that counts the drops whose key did not fit. */
#define TCPDROP_KC_OVERFLOW_KEY 0x80

struct tcpdrop_kkey {
	__u64 cgroup_id;
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 reason_code;
	__u32 netns;
	__u32 ifindex;
	__u32 cpu;
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 state_code;
	__u8 tcp_flags;
	__u8 evflags; /* the TCPDROP_F_* bits the chosen fields need, or TCPDROP_KC_OVERFLOW_KEY */
};

struct tcpdrop_kval {
	__u64 count; /* drops */
	__u64 bytes; /* their skb->len, summed */
};

/* A slot of the probe's per-CPU cache in front of a table (count 0: empty). */
struct tcpdrop_kslot {
	struct tcpdrop_kkey key;
	__u64 count;
	__u64 bytes;
};

#define TCPDROP_KC_SLOTS 32 /* cache slots per table and generation, per CPU */

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
	__u64 cgroup_id; /* --cgroup: 0 any; else this cgroup v2 id or one below it (in the probe)
			  */
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
	__u32 cgroup_level; /* cgroup_id's depth in the hierarchy (the root is 0) */
	__u32 _pad2;
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
	__u8 kc_tables; /* kcount tables in use (their keys in kc_keys) */
	__u8 kc_only; /* count into the tables only: no ring-buffer record, no stack */
	__u8 owners; /* fill the owner fields (bpf/owner.h); 0: TCPDROP_OWNERS=off */
	__u8 _pad[1];
	__u32 kc_keys[TCPDROP_KC_MAX_TABLES]; /* each table's TCPDROP_KC_* bits */
	/* Each table's key as a mask of the drop's full key: what its bits keep (kcount__mask). */
	struct tcpdrop_kkey kc_mask[TCPDROP_KC_MAX_TABLES];
	__u64 pair_loc; /* tcp_validate_incoming's address: where the entry/exit pair's drops are */
};

#endif
