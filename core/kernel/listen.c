/*
 * Listen overflows (bpf/listen.h): what this kernel's BTF and kallsyms say about the request
 * path's functions and counters, which probe kinds are worth trying, the reasons the events get.
 * probe.c loads what this file says.
 */
#include "kernel/internal.h"
#include "sym/sym.h"
#include "util/util.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The function's arguments in BTF when it exists with the first one a pointer, else 0. */
static int func_nargs(const struct kbtf *btf, const char *name)
{
	uint32_t fn = kbtf__find(btf, name, KBTF_FUNC), proto;

	if (!fn)
		return 0;
	proto = kbtf__ref(btf, fn);
	return kbtf__kind(btf, proto) == KBTF_FUNC_PROTO ? kbtf__vlen(btf, proto) : 0;
}

/* An enumerator's value by its name in any enum (the MIB's is anonymous), or -1. */
static void find_enumerators(const struct kbtf *btf, const char *const *names, int64_t *vals, int n)
{
	int left = n;

	for (int i = 0; i < n; i++)
		vals[i] = -1;
	for (uint32_t id = kbtf__first_id(btf); id < kbtf__end_id(btf) && left; id++) {
		int kind = kbtf__kind(btf, id);

		if (kind != KBTF_ENUM && kind != KBTF_ENUM64)
			continue;
		for (int e = 0; e < kbtf__vlen(btf, id); e++) {
			const char *s = kbtf__enum_name(btf, id, e);

			for (int i = 0; i < n; i++)
				if (vals[i] < 0 && !strcmp(s, names[i])) {
					vals[i] = kbtf__enum_value(btf, id, e);
					left--;
				}
		}
	}
}

void listen__facts(const struct kbtf *btf, struct listen_facts *lf)
{
	static const char *const names[] = { "LINUX_MIB_LISTENOVERFLOWS",
					     "LINUX_MIB_TCPREQQFULLDROP",
					     "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW" };
	int64_t vals[ARRAY_SIZE(names)];
	int v4, v6;

	memset(lf, 0, sizeof(*lf));
	lf->kernel_code = lf->mib_overflows = lf->mib_reqqfull = -1;
	if (!btf)
		return;
	lf->syn = func_nargs(btf, "tcp_conn_request") == 4;
	lf->syn_btf_id = lf->syn ? kbtf__find(btf, "tcp_conn_request", KBTF_FUNC) : 0;
	v4 = func_nargs(btf, "tcp_v4_syn_recv_sock");
	v6 = func_nargs(btf, "tcp_v6_syn_recv_sock");
	/* The result comes after the arguments: the probe knows these two shapes. */
	if (v4 == v6 && (v4 == 6 || v4 == 7))
		lf->ack_nargs = v4;
	find_enumerators(btf, names, vals, (int)ARRAY_SIZE(names));
	lf->mib_overflows = vals[0];
	lf->mib_reqqfull = vals[1];
	lf->kernel_code = vals[2];
}

void listen__names(struct listen_facts *lf, struct names *nm)
{
	int64_t last = 0;

	/* Codes of our own past the kernel's last: no kernel reason has them, on this kernel. */
	for (int64_t c = names__next_reason(nm, -1); c >= 0; c = names__next_reason(nm, c))
		last = c;
	lf->synq_code = (uint32_t)last + 1;
	names__set_reason(nm, lf->synq_code, LISTEN_SYNQ_NAME);
	if (lf->kernel_code >= 0) {
		lf->overflow_code = (uint32_t)lf->kernel_code;
		return;
	}
	lf->overflow_code = (uint32_t)last + 2;
	names__set_reason(nm, lf->overflow_code, LISTEN_OVERFLOW_NAME);
}

const char *listen__part_name(enum listen_part part)
{
	return part == LISTEN_PART_SYN ? "the SYNs (tcp_conn_request)"
				       : "the final ACKs (tcp_v4/v6_syn_recv_sock)";
}

int listen__wanted(enum listen_part part, const struct kernel_facts *kf, int kfree_skb, char *why,
		   size_t len)
{
	const struct listen_facts *lf = &kf->listen;

	if (lf->mib_overflows < 0 || lf->mib_reqqfull < 0) {
		snprintf(why, len,
			 "no LINUX_MIB_LISTENOVERFLOWS/TCPREQQFULLDROP in this kernel's BTF");
		return 0;
	}
	if (part == LISTEN_PART_SYN && !lf->syn) {
		snprintf(why, len,
			 "no tcp_conn_request(rsk_ops, af_ops, sk, skb) in this kernel's BTF");
		return 0;
	}
	if (part == LISTEN_PART_ACK && lf->kernel_code >= 0 && kfree_skb) {
		snprintf(why, len,
			 "the kernel frees them as TCP_LISTEN_OVERFLOW, seen at kfree_skb");
		return 0;
	}
	if (part == LISTEN_PART_ACK && !lf->ack_nargs) {
		snprintf(why, len,
			 "no tcp_v4/v6_syn_recv_sock() of a known shape in this kernel's BTF");
		return 0;
	}
	return 1;
}

/*
 * Whether this kernel takes an fentry program at all: a two-instruction one on tcp_conn_request,
 * loaded and closed (well under a millisecond), where loading the probe's object to learn the
 * same costs ~35 ms (libbpf reads the kernel's BTF again for it).
 */
static int fentry_loads(uint32_t btf_id, char *why, size_t len)
{
	static const struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	int fd;

	opts.expected_attach_type = BPF_TRACE_FENTRY;
	opts.attach_btf_id = btf_id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", ret0, ARRAY_SIZE(ret0), &opts);
	if (fd < 0) {
		int err = errno;

		snprintf(why, len, "this kernel refuses fentry programs (%s)",
			 err == EPERM || err == EACCES
				 ? "permission denied: no BPF trampolines here"
				 : strerror(err));
		return 0;
	}
	close(fd);
	return 1;
}

int listen__possible(enum pair_kind k, const struct kernel_facts *kf, char *why, size_t len)
{
	if (k == PAIR_FENTRY && kf->listen.syn_btf_id &&
	    !fentry_loads(kf->listen.syn_btf_id, why, len))
		return 0;
	if (k == PAIR_KPROBE && !plan__has_kprobes()) {
		snprintf(why, len, "this kernel has no kprobes (CONFIG_KPROBES is off)");
		return 0;
	}
	return 1;
}

void listen__config(const struct kernel_facts *kf, struct tcpdrop_listen_config *out)
{
	const struct listen_facts *lf = &kf->listen;

	memset(out, 0, sizeof(*out));
	out->overflow_code = lf->overflow_code;
	out->synq_code = lf->synq_code;
	out->mib_overflows = lf->mib_overflows > 0 ? (__u32)lf->mib_overflows : 0;
	out->mib_reqqfull = lf->mib_reqqfull > 0 ? (__u32)lf->mib_reqqfull : 0;
	out->ack_nargs = (__u8)lf->ack_nargs;
}

/* The addresses, read once: /proc/kallsyms is long (tens of ms), and read only here. */
static struct {
	int read;
	struct tcpdrop_listen_addrs a;
} syms;

static void read_syms(void)
{
	static const char *const want[] = { "__per_cpu_offset", "tcp_conn_request",
					    "tcp_v4_syn_recv_sock", "tcp_v6_syn_recv_sock" };
	__u64 *slot[] = { &syms.a.pcpu_offset, &syms.a.syn_loc, &syms.a.ack4_loc,
			  &syms.a.ack6_loc };
	size_t left = ARRAY_SIZE(want);
	char line[512];
	FILE *f;

	if (syms.read)
		return;
	syms.read = 1;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	while (left && fgets(line, sizeof(line), f)) {
		char *sym = strchr(line, ' '), *end;

		if (!sym || !sym[1] || sym[2] != ' ')
			continue;
		sym += 3;
		end = sym + strcspn(sym, "\t\n");
		for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
			if (*slot[i] || (size_t)(end - sym) != strlen(want[i]) ||
			    memcmp(sym, want[i], (size_t)(end - sym)))
				continue;
			/* 1: there, but its address hidden from us (kptr_restrict). */
			*slot[i] = strtoull(line, NULL, 16);
			if (!*slot[i])
				*slot[i] = 1;
			left--;
		}
	}
	fclose(f);
}

int listen__addrs(struct tcpdrop_listen_addrs *out, char *why, size_t len)
{
	read_syms();
	if (!syms.a.pcpu_offset) {
		snprintf(why, len,
			 "no __per_cpu_offset in /proc/kallsyms (CONFIG_KALLSYMS_ALL is off)");
		return -ENOENT;
	}
	if (syms.a.pcpu_offset == 1) {
		snprintf(why, len, "kernel addresses are hidden from us (kernel.kptr_restrict)");
		return -EPERM;
	}
	*out = syms.a;
	/* A function not in kallsyms (inlined) leaves its events without a location. */
	if (out->syn_loc == 1)
		out->syn_loc = 0;
	if (out->ack4_loc == 1)
		out->ack4_loc = 0;
	if (out->ack6_loc == 1)
		out->ack6_loc = 0;
	return 0;
}
