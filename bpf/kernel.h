/* The few kernel structs the probe reads, as CO-RE relocatable shadows of the real ones. */
#ifndef TCPDROP_KERNEL_H
#define TCPDROP_KERNEL_H

/*
 * Only the fields we read are named; libbpf relocates each access against the
 * running kernel's BTF, so order, offsets and the omitted fields do not matter.
 * A field that some kernels lack is read only behind bpf_core_field_exists().
 */

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	int ifindex;
	possible_net_t nd_net;
};

struct in6_addr {
	__u8 s6_addr[16];
};

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

struct kernfs_node {
	__u64 id; /* a cgroup's id (its cgroup2 inode), 64-bit since 5.5 */
};

struct cgroup {
	struct kernfs_node *kn;
};

/* A socket's cgroup: a pointer since 5.15; before, `val` holds it when its low bits are 0. */
struct sock_cgroup_data {
	struct cgroup *cgroup;
	__u64 val;
};

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol; /* a bitfield before 5.6: read with BPF_CORE_READ_BITFIELD_PROBED */
	__u16 sk_type;
	struct sock_cgroup_data sk_cgrp_data;
};

struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
	unsigned int len;
	int skb_iif;
	__be16 protocol;
	__u16 transport_header;
	__u16 network_header;
	__u32 tail; /* sk_buff_data_t: an offset from head on 64-bit kernels */
	unsigned char *head;
};

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
};

/*
 * Network headers: only their kernel type ids are used (bpf_rdonly_cast tells
 * the verifier what the packet's bytes are); the fields are read at their wire
 * offsets, which no kernel can move.
 */
struct iphdr {
	__u8 ihl_version;
};

struct ipv6hdr {
	__u8 priority_version;
};

struct tcphdr {
	__be16 source;
};

enum skb_drop_reason {
	SKB_DROP_REASON_NOT_SPECIFIED = 2,
};

struct trace_entry {
	unsigned short type;
};

struct trace_event_raw_kfree_skb {
	struct trace_entry ent;
	void *skbaddr;
	void *location;
	void *rx_sk; /* 6.11+ */
	unsigned short protocol;
	enum skb_drop_reason reason; /* 5.17+ */
};

#pragma clang attribute pop

#endif
