/*
 * --container and --pod in the probe: the network namespaces and cgroup ids their names resolved
 * to, in a map of their own that the core replaces while the run goes on (a container that
 * restarts has new ones). A map, not rodata like bpf/filter.h's rules, for that reason; whether
 * the filter is on at all is rodata, so that a run without it prunes the lookups away. In the
 * probe, included after bpf/owner.h: the cgroup is the one owner_fill() records.
 */
#ifndef TCPDROP_OWNER_FILTER_H
#define TCPDROP_OWNER_FILTER_H

#define TCPDROP_OWNER_MAX 1024 /* ids at once: every cgroup and namespace of what matched */

enum {
	TCPDROP_OWNER_NETNS = 1,
	TCPDROP_OWNER_CGROUP = 2,
};

struct tcpdrop_owner_key {
	__u64 id; /* a netns inode, or a cgroup id */
	__u32 kind; /* TCPDROP_OWNER_* */
	__u32 _pad; /* zero */
};

#ifdef __bpf__
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCPDROP_OWNER_MAX);
	__type(key, struct tcpdrop_owner_key);
	__type(value, __u8);
} owner_ids SEC(".maps");

const volatile __u8 owner_filter = 0;

static __always_inline int owner_has(__u32 kind, __u64 id)
{
	struct tcpdrop_owner_key k = { .id = id, .kind = kind };

	return bpf_map_lookup_elem(&owner_ids, &k) != NULL;
}

/*
 * The drop's cgroup as --cgroup's owner_filter_cgroup() takes it (bpf/owner.h), 0 when none: a
 * full socket's, a TIME_WAIT one's as it closed, a connection not accepted yet its listener's,
 * the current task's for a drop without a socket in process context.
 */
static __always_inline __u64 owner_ids_cgroup(struct sock *sk, __u8 state, const int mode)
{
	struct owner_val *v;
	struct owner_tuple t;

	if (!sk)
		return owner_in_task(mode) ? bpf_get_current_cgroup_id() : 0;
	if (state == TCP_TIME_WAIT_STATE) {
		owner_tuple_of(sk, &t);
		v = bpf_map_lookup_elem(&owners_tw, &t);
		return v ? v->cgroup_id : 0;
	}
	if (state == TCP_NEW_SYN_RECV_STATE)
		sk = BPF_CORE_READ((struct sock___own *)sk, __sk_common.skc_listener);
	return sk ? owner_sk_cgroup(sk, mode) : 0;
}

/*
 * 1 if the drop passes: its namespace, or else its cgroup (read only then), is one of theirs.
 * sk: the drop's TCP socket or NULL, in state.
 */
static __always_inline int filter_owner(__u32 netns, struct sock *sk, __u8 state, const int mode)
{
	__u64 cg;

	if (!owner_filter)
		return 1;
	if (owner_has(TCPDROP_OWNER_NETNS, netns))
		return 1;
	cg = owner_ids_cgroup(sk, state, mode);
	return cg && owner_has(TCPDROP_OWNER_CGROUP, cg);
}
#endif

#endif
