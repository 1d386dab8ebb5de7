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
	cg = owner_cgroup(sk, state, mode);
	return cg && owner_has(TCPDROP_OWNER_CGROUP, cg);
}
#endif

#endif
