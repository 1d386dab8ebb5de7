/* The kernel side: probe plan, load, attach, the rings and the probe's maps. */
#ifndef TCPDROP_KERNEL_KERNEL_H
#define TCPDROP_KERNEL_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "drop.h"

/* --- The kernel side as the core sees it: pick a probe mode, load it with its settings, attach. */

enum probe_mode {
	PROBE_AUTO,
	PROBE_TP_BTF,
	PROBE_RAW_TP,
	PROBE_TRACEPOINT,
	PROBE_KPROBE,
	PROBE_FENTRY,
};

/* The name -v and --probe use for a mode; a --probe word into a mode (0 or -EINVAL). */
const char *probe_mode_name(enum probe_mode m);
int probe_mode_parse(const char *s, enum probe_mode *m);

struct probe;
struct kbtf;

/* What the kernel's BTF says, read before load (the BTF itself is freed by then). */
struct kernel_facts {
	int has_btf;
	int tp_nargs; /* arguments of the kfree_skb tracepoint, 0 if unknown */
	int has_tcp_drop; /* tcp_drop() is a function in BTF (fentry can attach) */
	int has_rdonly_cast; /* the bpf_rdonly_cast kfunc (6.2+): the cheaper tp_btf program */
	int has_validate_incoming; /* tcp_validate_incoming(sk, skb, th, syn_inerr) -> bool */
};

/* Fill facts from the vmlinux BTF (NULL: none). */
void probe__facts(const struct kbtf *vmlinux, struct kernel_facts *kf);

struct probe_opts {
	/*
	 * PROBE_AUTO tries tp_btf, raw_tp, tracepoint, kprobe in turn, and where
	 * the tracepoint has no reason adds the tcp_validate_incoming pair.
	 */
	enum probe_mode mode;
	struct tcpdrop_filter filter; /* which drops: the in-kernel filters (bpf/filter.h) */
	uint32_t stack_rate; /* stacks per second per CPU; 0: no limit */
	int want_stack;
	int want_pkt; /* copy each packet (-w) */
	uint32_t snaplen; /* with want_pkt: payload bytes after the headers */
	size_t ring_bytes; /* bytes of each CPU's ring (rounded down to a power of two) */
	int ring_shared; /* one shared ring even where per-CPU ones work (tests cover it so) */
};

/* Root, or CAP_BPF with CAP_PERFMON (or CAP_SYS_ADMIN): 0, else -EPERM with why filled. */
int probe__check_privileges(char *why, size_t len);

/* Arguments of the kfree_skb tracepoint in this kernel's BTF (2, 3 or 4), 0 if unknown. */
int probe__tp_nargs(const struct kbtf *vmlinux);

/*
 * Load and attach. On failure prints one line per mode tried (what was
 * missing) and returns -errno; libbpf's own log only with -v.
 */
int probe__open(const struct probe_opts *po, const struct kernel_facts *kf, struct probe **out);
void probe__close(struct probe *p);

/* The ring buffers to read (one per CPU, or one shared): their count, fds in *fds. */
int probe__rings(const struct probe *p, const int **fds);
enum probe_mode probe__mode(const struct probe *p);
int probe__tp_args(const struct probe *p);

/* Counters of enum tcpdrop_stat, summed over CPUs. 0 or -errno. */
int probe__read_stats(const struct probe *p, uint64_t out[TCPDROP_STAT_MAX]);
/* One counter, per CPU (out has room for libbpf_num_possible_cpus()). */
int probe__read_stat_percpu(const struct probe *p, unsigned int stat, uint64_t *out);

/* Make sure tracefs is mounted (the classic tracepoint and names fallback need it). */
int tracefs_ensure(void);

/* --- Reading the probe's ring buffer: events copied into batches, fixed up, handed on. */

struct probe;
struct ksyms;
struct live;

/* Receives a batch; 0 to go on, 1 to stop, <0 on error. */
typedef int (*deliver_fn)(void *ctx, struct tcpdrop_event *ev, unsigned int n);

struct live *live__new(struct probe *p, struct ksyms *ks, unsigned int batch, deliver_fn fn,
		       void *ctx);
void live__free(struct live *lv);

/*
 * An epoll fd over the rings: readable once the probe has asked for a wake-up
 * (the fill threshold), and then for as long as a ring holds data.
 */
int live__fd(struct live *lv);
/*
 * Read what is waiting and deliver it in time order, holding back the events
 * stamped after the read began (an older one may still be on its way into
 * another CPU's ring). 0, 1 (stop) or <0.
 */
int live__drain(struct live *lv);
/* The last read: deliver everything, held-back events included. */
int live__finish(struct live *lv);
uint64_t live__seen(struct live *lv);

#endif
