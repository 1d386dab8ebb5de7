// SPDX-License-Identifier: GPL-2.0
/* make bench's reference probe: the minimal drop tracer that BPF cost is compared with. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "kernel.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * What the speed issue calibrated its 150 ns against: a tp_btf program that
 * checks the packet is TCP and sends a 64-byte event into one ring, never
 * waking the reader. Nothing else: no socket, no task, no filters, no counters
 * beyond the one for a full ring.
 */
struct ref_event {
	__u64 ts_ns;
	__u64 location;
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u32 reason;
	__u8 _pad[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* tcpdrop's two 2 MiB rings on this machine */
} ring SEC(".maps");

__u64 lost;

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

SEC("tp_btf/kfree_skb")
int refprobe(__u64 *ctx)
{
	struct sk_buff *skb =
		bpf_rdonly_cast((void *)ctx[0], bpf_core_type_id_kernel(struct sk_buff));
	const volatile __u8 *ip, *th;
	struct ref_event *e;

	/* The packet's bytes read as tcpdrop reads them: plain loads, no helper call. */
	if (skb->protocol != bpf_htons(0x0800))
		return 0;
	ip = bpf_rdonly_cast(skb->head + skb->network_header,
			     bpf_core_type_id_kernel(struct iphdr));
	if (ip[9] != 6)
		return 0;
	e = bpf_ringbuf_reserve(&ring, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->location = ctx[1];
	e->reason = (__u32)ctx[2];
	e->saddr = *(const volatile __u32 *)(ip + 12);
	e->daddr = *(const volatile __u32 *)(ip + 16);
	/* Ports as if the IP header had no options: a reference, not a parser. */
	th = bpf_rdonly_cast((void *)(ip + 20), bpf_core_type_id_kernel(struct tcphdr));
	e->sport = *(const volatile __u16 *)th;
	e->dport = *(const volatile __u16 *)(th + 2);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}
