/* The drop event's fields: the one list the struct, the record codec, Lua and the tests expand. */
#ifndef TCPDROP_FIELDS_H
#define TCPDROP_FIELDS_H

/* Macros only: lua/fields.lua.in expands this file into Lua, as well as C reading it. */

#define TCPDROP_STACK_MAX 32 /* kernel frames kept per event */
#define TCPDROP_PKT_MAX 256 /* bytes of the dropped packet kept, from its IP header */

/*
 * The event's fields, declared once, in struct order. Everything that knows the event expands
 * this list: the struct below (so the probe, C and the Lua FFI cdef), the fixed record of -w
 * files (core/capture), Lua's raw field names (lua/event.lua) and the test feeder.
 *
 *   F(type, name, part)         a scalar
 *   A(type, name, count, part)  an array
 *
 * part: TCPDROP_PART_HEAD, in the head but carried elsewhere in a -w file (the packet block's
 * timestamp, the frames, an option of its own: the owner's fields); TCPDROP_PART_REC, the fixed
 * record -w writes as it lies here, from reason_code to comm_raw (PCAPNG_EVENT_LEN bytes, in the
 * writer's byte order); TCPDROP_PART_PAD; TCPDROP_PART_TAIL, after the head (the ring's compact
 * record may leave it out). Each field at an offset its size divides, so that no padding hides
 * between fields (the owner's, after the record, start with a __u32 to reach 8-byte alignment); the
 * record's order is that of version 1 files and must not change: a new field goes before _pad
 * (shrinking it) or after pkt, and is carried in a -w file by an option of its own.
 */
#define TCPDROP_PART_HEAD 0
#define TCPDROP_PART_REC 1
#define TCPDROP_PART_PAD 2
#define TCPDROP_PART_TAIL 3

#define TCPDROP_EVENT_FIELDS(F, A)                                                                 \
	F(__u64, ts_ns, TCPDROP_PART_HEAD) /* probe: CLOCK_MONOTONIC; core: CLOCK_REALTIME */      \
	F(__u64, loc_addr, TCPDROP_PART_HEAD) /* kernel address where the packet was dropped */    \
	F(__u32, reason_code, TCPDROP_PART_REC) /* enum skb_drop_reason (subsystem in bits 16+) */ \
	F(__u32, pid, TCPDROP_PART_REC) /* thread group of the task on the CPU at the drop */      \
	F(__u32, tid, TCPDROP_PART_REC)                                                            \
	F(__u32, netns, TCPDROP_PART_REC) /* network namespace inode */                            \
	F(__u32, ifindex, TCPDROP_PART_REC)                                                        \
	F(__u32, cpu, TCPDROP_PART_REC)                                                            \
	F(__u32, len, TCPDROP_PART_REC) /* skb->len */                                             \
	F(__u32, seq, TCPDROP_PART_REC) /* TCP header fields, host order */                        \
	F(__u32, ack_seq, TCPDROP_PART_REC)                                                        \
	F(__u16, sport, TCPDROP_PART_REC) /* host order */                                         \
	F(__u16, dport, TCPDROP_PART_REC)                                                          \
	F(__u16, win, TCPDROP_PART_REC)                                                            \
	F(__u16, pkt_len, TCPDROP_PART_REC) /* bytes in pkt[] */                                   \
	F(__u16, hdr_len, TCPDROP_PART_REC) /* IP + TCP header bytes at pkt's start (0: none) */   \
	F(__u8, family, TCPDROP_PART_REC) /* 4 or 6 */                                             \
	F(__u8, state_code, TCPDROP_PART_REC) /* socket's TCP state (1..), 0: no socket */         \
	F(__u8, tcp_flags, TCPDROP_PART_REC) /* FIN 0x01 SYN 0x02 RST 0x04 ... CWR 0x80 */         \
	F(__u8, evflags, TCPDROP_PART_REC) /* TCPDROP_F_* */                                       \
	F(__u16, nstack, TCPDROP_PART_REC) /* frames in stack_addr[] */                            \
	A(__u8, saddr_raw, 16, TCPDROP_PART_REC) /* packet's source; IPv4 in the first 4 bytes */  \
	A(__u8, daddr_raw, 16, TCPDROP_PART_REC)                                                   \
	A(char, comm_raw, 16, TCPDROP_PART_REC)                                                    \
	F(__u32, owner_pid, TCPDROP_PART_HEAD) /* owner's thread group (TCPDROP_O_OWNER) */        \
	F(__u64, cgroup_id_raw, TCPDROP_PART_HEAD) /* cgroup v2 id (TCPDROP_O_CGROUP_*) */         \
	F(__u64, owner_start_ns, TCPDROP_PART_HEAD) /* owner's task->start_boottime */             \
	F(__u32, sock_ino, TCPDROP_PART_HEAD) /* the socket's inode (socket:[N]), 0: none */       \
	F(__u32, sk_uid, TCPDROP_PART_HEAD) /* the socket's sk_uid (TCPDROP_O_UID) */              \
	A(char, owner_comm_raw, 16, TCPDROP_PART_HEAD) /* the owner's comm */                      \
	F(__u8, owner_flags, TCPDROP_PART_HEAD) /* TCPDROP_O_* */                                  \
	A(__u8, _pad, 7, TCPDROP_PART_PAD)                                                         \
	A(__u64, stack_addr, TCPDROP_STACK_MAX, TCPDROP_PART_TAIL)                                 \
	A(__u8, pkt, TCPDROP_PKT_MAX, TCPDROP_PART_TAIL)

#endif
