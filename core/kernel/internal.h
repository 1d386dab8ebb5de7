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

#endif
