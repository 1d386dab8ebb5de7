/* The in-kernel filters' rules, once: compiled into the probe and into replay (-r). */
#ifndef TCPDROP_FILTER_H
#define TCPDROP_FILTER_H

#include "tcpdrop.h"

/*
 * The rules read a drop's 4-tuple from a FILTER_FLOW: the event itself on the host, the
 * probe's own struct flow there (it defines these before including this file). Either has
 * family, sport and dport; the addresses' fields are named here.
 */
#ifndef FILTER_FLOW
#define FILTER_FLOW struct tcpdrop_event
#define FILTER_SADDR saddr_raw
#define FILTER_DADDR daddr_raw
#endif

/*
 * In the probe, the filter sits in `const volatile` rodata: every load is one the verifier
 * sees as a constant, so a filter left off prunes its code away. Loops are bounded by the
 * array sizes and unrolled. On the host the same functions read a plain struct.
 */
#ifdef __bpf__
#define FILTER_CONST const volatile
#define FILTER_INLINE static __always_inline
#define FILTER_UNROLL _Pragma("unroll")
#else
#define FILTER_CONST const
#define FILTER_INLINE static inline __attribute__((always_inline))
#define FILTER_UNROLL
#endif

/* Word i of 16 address bytes: one load in the probe; through memcpy on the host (aliasing). */
#ifdef __bpf__
#define filter_word(p, i) (((const __u32 *)(p))[i])
#define filter_cfg_word(p, i) (((FILTER_CONST __u32 *)(p))[i])
#else
static inline __u32 filter_word(const void *p, int i)
{
	__u32 w;

	__builtin_memcpy(&w, (const char *)p + 4 * i, sizeof(w));
	return w;
}
#define filter_cfg_word(p, i) filter_word((const void *)(p), i)
#endif

/* Whether port is one of the first n of set. */
FILTER_INLINE int filter_port_in(FILTER_CONST __u16 *set, __u8 n, __u16 port)
{
	FILTER_UNROLL
	for (int i = 0; i < TCPDROP_MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (set[i] == port)
			return 1;
	}
	return 0;
}

/* Whether addr (16 bytes; IPv4 in the first 4, the rest zero) is in the net, of its family. */
FILTER_INLINE int filter_net_has(FILTER_CONST struct tcpdrop_net *n, __u8 family, const __u8 *addr)
{
	if (n->family != family)
		return 0;
	return (filter_word(addr, 0) & filter_cfg_word(n->mask, 0)) == filter_cfg_word(n->net, 0) &&
	       (filter_word(addr, 1) & filter_cfg_word(n->mask, 1)) == filter_cfg_word(n->net, 1) &&
	       (filter_word(addr, 2) & filter_cfg_word(n->mask, 2)) == filter_cfg_word(n->net, 2) &&
	       (filter_word(addr, 3) & filter_cfg_word(n->mask, 3)) == filter_cfg_word(n->net, 3);
}

/* --saddr/--daddr/--addr: each side that has nets must match one of them. */
FILTER_INLINE int filter_nets(FILTER_CONST struct tcpdrop_filter *c, const FILTER_FLOW *f)
{
	__u8 want = 0, hit = 0;

	FILTER_UNROLL
	for (int i = 0; i < TCPDROP_MAX_NETS; i++) {
		FILTER_CONST struct tcpdrop_net *n = &c->nets[i];
		__u8 side;

		if (i >= c->nnets)
			break;
		side = n->side;
		if (side == TCPDROP_SIDE_SRC) {
			want |= 1;
			if (filter_net_has(n, f->family, f->FILTER_SADDR))
				hit |= 1;
		} else if (side == TCPDROP_SIDE_DST) {
			want |= 2;
			if (filter_net_has(n, f->family, f->FILTER_DADDR))
				hit |= 2;
		} else {
			want |= 4;
			if (filter_net_has(n, f->family, f->FILTER_SADDR) ||
			    filter_net_has(n, f->family, f->FILTER_DADDR))
				hit |= 4;
		}
	}
	return want == hit;
}

/*
 * -4/-6, --sport, --dport, --port (either side), then the nets: 1 if the 4-tuple passes.
 * Fields are read where a rule that is on needs them, so that in the probe a rule left off
 * costs nothing once the verifier has pruned it.
 */
FILTER_INLINE int filter_flow(FILTER_CONST struct tcpdrop_filter *c, const FILTER_FLOW *f)
{
	if (c->family && c->family != f->family)
		return 0;
	if (c->nsports && !filter_port_in(c->sports, c->nsports, f->sport))
		return 0;
	if (c->ndports && !filter_port_in(c->dports, c->ndports, f->dport))
		return 0;
	if (c->nports && !filter_port_in(c->ports, c->nports, f->sport) &&
	    !filter_port_in(c->ports, c->nports, f->dport))
		return 0;
	if (c->nnets && !filter_nets(c, f))
		return 0;
	return 1;
}

/* --netns-id (and --pid-netns): 1 if the drop's namespace passes (read only if asked). */
FILTER_INLINE int filter_netns(FILTER_CONST struct tcpdrop_filter *c, const __u32 *netns)
{
	return !c->netns || c->netns == *netns;
}

/*
 * --reason: 1 if the reason is one asked for. A drop from a probe point that carries no
 * reason (evflags has TCPDROP_F_NO_REASON) passes: nothing says it is another one.
 */
FILTER_INLINE int filter_reason(FILTER_CONST struct tcpdrop_filter *c, __u32 reason, __u8 evflags)
{
	if (!c->nreasons || (evflags & TCPDROP_F_NO_REASON))
		return 1;
	FILTER_UNROLL
	for (int i = 0; i < TCPDROP_MAX_REASONS; i++) {
		if (i >= c->nreasons)
			break;
		if (c->reasons[i] == reason)
			return 1;
	}
	return 0;
}

/*
 * --cgroup: 1 if the drop's cgroup at the filter's level is the filter's. The probe hands the
 * id of the drop's cgroup's ancestor at cgroup_level (bpf/owner.h), so a cgroup and everything
 * below it match; a recording holds each drop's own cgroup only, so a replay matches that
 * cgroup exactly.
 */
FILTER_INLINE int filter_cgroup(FILTER_CONST struct tcpdrop_filter *c, __u64 id_at_level)
{
	return !c->cgroup_id || c->cgroup_id == id_at_level;
}

/* Whether any rule is set: without one, every drop passes. */
FILTER_INLINE int filter_any(FILTER_CONST struct tcpdrop_filter *c)
{
	return c->family || c->netns || c->nsports || c->ndports || c->nports || c->nnets ||
	       c->nreasons || c->cgroup_id;
}

#ifndef __bpf__
/* A whole event through every rule, as the probe applies them to a drop: 1 if it passes. */
static inline int filter_event(const struct tcpdrop_filter *c, const struct tcpdrop_event *ev)
{
	return filter_reason(c, ev->reason_code, ev->evflags) && filter_netns(c, &ev->netns) &&
	       filter_flow(c, ev) && filter_cgroup(c, ev->cgroup_id_raw);
}
#endif

#endif
