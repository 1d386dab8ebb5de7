/* Between the kernel room's files: the plan (plan.c) that the loader (probe.c) follows. */
#ifndef TCPDROP_KERNEL_INTERNAL_H
#define TCPDROP_KERNEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/kernel.h"

/* Which entry/exit pair watches tcp_validate_incoming(), if any (see bpf/tcpdrop.bpf.c). */
enum pair_kind {
	PAIR_NONE,
	PAIR_FENTRY,
	PAIR_KPROBE,
};

/* "fentry/fexit" or "kprobe/kretprobe", for messages. */
const char *plan__pair_name(enum pair_kind k);

/* What must hold before a mode is worth loading: 0, or -errno with why filled. */
int plan__precheck(enum probe_mode m, const struct kernel_facts *kf, int tp_nargs, char *why,
		   size_t len);

/*
 * Whether the pair of kind k can be tried here: 1 with *loc set to tcp_validate_incoming's
 * address (0 when hidden), else 0 with why filled.
 */
int plan__pair_possible(enum pair_kind k, const struct kernel_facts *kf, unsigned long long *loc,
			char *why, size_t len);

/*
 * kcount's user-space side (kcount.c), over the probe's maps: fds[t] are table t's two
 * generations, gen_fd the generation map, over_fd the per-CPU overflow array, cache_fd the
 * per-CPU caches in front of the tables (bpf/tcpdrop.bpf.c).
 * kcount__collect and kcount__take are probe__kcount_collect and probe__kcount_take.
 */
struct kcount;
struct kcount *kcount__new(const struct kcount_spec *spec, unsigned int n, int ncpus,
			   const int fds[][2], int gen_fd, int over_fd, int cache_fd);
void kcount__free(struct kcount *kc);
int kcount__collect(struct kcount *kc);
int kcount__take(struct kcount *kc, unsigned int t, kcount_fn fn, void *ctx, uint64_t *overflow);
/* A table's size limit: its max_keys, or KCOUNT_DEFAULT_KEYS. */
uint32_t kcount__max_keys(const struct kcount_spec *s);

/* tcp_drop()'s address in kallsyms: 0 when it is not there, 1 when hidden from us. */
unsigned long long plan__tcp_drop(void);

/* Whether this kernel has kprobes (and tracefs is mounted to say so). */
int plan__has_kprobes(void);

/* --- Listen overflows (listen.c): the two parts of the request path, each loaded on its own. */

#include "listen.h"

enum listen_part {
	LISTEN_PART_NONE,
	LISTEN_PART_SYN, /* tcp_conn_request */
	LISTEN_PART_ACK, /* tcp_v4/v6_syn_recv_sock */
};

/* "tcp_conn_request (SYNs)", for messages. */
const char *listen__part_name(enum listen_part part);
/*
 * Whether part needs a probe here and the BTF has what it needs: 1, else 0 with why filled.
 * kfree_skb: the drop probe is on kfree_skb (final ACKs are freed there).
 */
int listen__wanted(enum listen_part part, const struct kernel_facts *kf, int kfree_skb, char *why,
		   size_t len);
/* Whether a probe of kind k is worth loading: 1, else 0 with why filled. */
int listen__possible(enum pair_kind k, const struct kernel_facts *kf, char *why, size_t len);
/* The settings every load of the object gets (the drop probe's use the reason codes). */
void listen__config(const struct kernel_facts *kf, struct tcpdrop_listen_config *out);
/* After a listen load: the kernel addresses it needs. 0, or -errno with why filled. */
int listen__addrs(struct tcpdrop_listen_addrs *out, char *why, size_t len);

#endif
