/* The kernel side: probe plan, load, attach, the rings and the probe's maps. */
#ifndef TCPDROP_KERNEL_KERNEL_H
#define TCPDROP_KERNEL_KERNEL_H

#include <stdio.h>
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

/* What listen.c reads from the BTF for the listen-overflow probes (declared below). */
struct listen_facts {
	int syn; /* tcp_conn_request(rsk_ops, af_ops, sk, skb) is in BTF */
	uint32_t syn_btf_id; /* its BTF id */
	int ack_nargs; /* tcp_v4/v6_syn_recv_sock()'s arguments (6 or 7); 0: not both known */
	int64_t kernel_code; /* SKB_DROP_REASON_TCP_LISTEN_OVERFLOW (6.15+), -1: not named */
	int64_t mib_overflows; /* LINUX_MIB_LISTENOVERFLOWS, -1: not in BTF */
	int64_t mib_reqqfull; /* LINUX_MIB_TCPREQQFULLDROP */
	uint32_t overflow_code; /* the reasons the events get (listen__names) */
	uint32_t synq_code;
};

/* What the kernel's BTF says, read before load (the BTF itself is freed by then). */
struct kernel_facts {
	int has_btf;
	int tp_nargs; /* arguments of the kfree_skb tracepoint, 0 if unknown */
	int has_tcp_drop; /* tcp_drop() is a function in BTF (fentry can attach) */
	int has_rdonly_cast; /* the bpf_rdonly_cast kfunc (6.2+): the cheaper tp_btf program */
	int has_validate_incoming; /* tcp_validate_incoming(sk, skb, th, syn_inerr) -> bool */
	int has_sock_length; /* the sock_send_length, sock_recv_length tracepoints (6.3+) */
	struct listen_facts listen;
};

/* Fill facts from the vmlinux BTF (NULL: none). */
void probe__facts(const struct kbtf *vmlinux, struct kernel_facts *kf);

/* A kcount table (bpf/tcpdrop.h): which fields key it, and how many keys it holds. */
struct kcount_spec {
	uint32_t keys; /* TCPDROP_KC_* bits */
	uint32_t max_keys; /* distinct keys between two collects; 0: KCOUNT_DEFAULT_KEYS */
};

#define KCOUNT_DEFAULT_KEYS 10240

/* The key the probe counts an event under in a table of these TCPDROP_KC_* bits. */
void kcount__key(struct tcpdrop_kkey *k, const struct tcpdrop_event *e, uint32_t keys);
/* What a table of these TCPDROP_KC_* bits keeps of a drop's full key: the probe's mask. */
void kcount__mask(struct tcpdrop_kkey *m, uint32_t keys);

/* The fields a kcount table may be keyed by, by name, in the order a key is shown. */
struct kcount_field {
	const char *name;
	uint32_t bit; /* TCPDROP_KC_* */
};
#define KCOUNT_NFIELDS 12
extern const struct kcount_field kcount_fields[KCOUNT_NFIELDS];

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
	int no_owners; /* no owner programs, no owner fields (TCPDROP_OWNERS=off) */
	struct kcount_spec kc[TCPDROP_KC_MAX_TABLES]; /* the tables to count drops into */
	unsigned int n_kc;
	int kc_only; /* with n_kc: no events into the rings (and no stacks), only the tables */
	int owner_filter; /* --container, --pod: only drops of the ids probe__owner_set gives */
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

/*
 * With owner_filter: the ids whose drops pass (bpf/owner_filter.h), n of them (at most
 * TCPDROP_OWNER_MAX), in place of the last set: the new ones are added before the old ones go,
 * so that an id in both passes throughout. 0 or -errno.
 */
struct tcpdrop_owner_key;
int probe__owner_set(struct probe *p, const struct tcpdrop_owner_key *keys, unsigned int n);

/* Counters of enum tcpdrop_stat, summed over CPUs. 0 or -errno. */
int probe__read_stats(const struct probe *p, uint64_t out[TCPDROP_STAT_MAX]);
/* One counter, per CPU (out has room for libbpf_num_possible_cpus()). */
int probe__read_stat_percpu(const struct probe *p, unsigned int stat, uint64_t *out);

/*
 * Counting in the kernel. collect: make every table's other generation the one the probe
 * updates, wait until no probe run can still be updating the old one (an RCU grace period:
 * membarrier), move the old one's counts into each table's pending set in user space and
 * clear it. Lossless: an increment is in the old generation before the swap or in the new one
 * after it. 0 or -errno.
 */
int probe__kcount_collect(struct probe *p);

/* Receives one key's counts; 0 to go on, non-zero to stop (returned by probe__kcount_take). */
typedef int (*kcount_fn)(void *ctx, const struct tcpdrop_kkey *k, uint64_t count, uint64_t bytes);

/*
 * Hand table t's pending counts (those collected since its last take) to fn, key by key, in
 * no set order, then forget them. *overflow gets the drops of that span whose key found no room
 * (in the kernel's table or the pending set): counted, never lost. They come to fn too, first,
 * as one key whose evflags is TCPDROP_KC_OVERFLOW_KEY (all else zero) with their count and
 * bytes, so that fn's counts add up to every drop counted; *overflow is not to be added again.
 * Stopped by fn, the keys not yet handed out stay for the next take. 0, fn's non-zero, -errno.
 */
int probe__kcount_take(struct probe *p, unsigned int t, kcount_fn fn, void *ctx,
		       uint64_t *overflow);

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

/*
 * The kernel's own drop counters (the TCP/IP MIB of /proc/net/{netstat,snmp,snmp6}) per network
 * namespace, beside the drops tcpdrop traced: what the kernel counted and no probe saw.
 * (Private to core/kernel for now: its declarations belong in kernel.h.)
 */

struct mib;
struct names;

#define MIB_MAX_NS 256 /* namespaces watched at most; more are counted (mib__overflow) */

/* An empty set of namespaces; max_ns 0 means MIB_MAX_NS. Never NULL. */
struct mib *mib__new(unsigned int max_ns);
void mib__free(struct mib *m);

/*
 * Watch a network namespace by its inode (e.netns, `stat -L /proc/PID/ns/net`): find it (this
 * thread's own, a name under /run/netns or /var/run/netns, /proc/PID/ns/net), enter it with setns()
 * on the calling thread only (its namespace is restored before return), open its /proc/net files
 * and keep them open, and take the start snapshot now: a namespace first watched mid-run counts
 * from then. The kept files go on reading after root is dropped. Idempotent and cheap once known.
 * 1: watched (now or before); 0: not found or not enterable (yet), looked up again at most once a
 * second here or by mib__sample, except after -EPERM (never again); -ENOSPC: the table is full
 * (the namespace is counted in mib__overflow). A kept file holds its namespace alive (and its
 * devices): mib__sample lets go of one no process nor /run/netns name holds any more (gone).
 */
int mib__watch(struct mib *m, uint64_t netns_ino);
/* The same from DIR/netstat, DIR/snmp and DIR/snmp6 (any may be missing; tests). 1, -ENOSPC. */
int mib__watch_dir(struct mib *m, uint64_t netns_ino, const char *dir);

/*
 * Re-read every watched namespace's counters (the "now" values), retry the namespaces not found
 * (at most once a second), and at most every 5 s let go of the namespaces nothing else holds (as
 * root only: once root is dropped, other users' processes cannot be looked at and none is let
 * go). 0, or the first -errno of a read (the others are still read).
 */
int mib__sample(struct mib *m);

/* A namespace: i from 0 to mib__ns_count() - 1, in the order first watched. */
struct mib_ns {
	uint64_t ino;
	int open; /* its counters are read */
	int err; /* the last lookup's -errno (-ENOENT: not found) when not open */
	const char *via; /* "self", the path it was entered by, or the test directory */
	uint64_t since_ns; /* CLOCK_MONOTONIC of the start snapshot (or of the first try) */
	unsigned int tries; /* lookups made */
	int gone; /* its last process went: its counters as read then (open stays 1) */
};
size_t mib__ns_count(const struct mib *m);
/* 0, or -ENOENT past the last. */
int mib__ns(const struct mib *m, size_t i, struct mib_ns *out);
/* Namespaces not watched because the table was full. */
uint64_t mib__overflow(const struct mib *m);
/* CLOCK_MONOTONIC of mib__new, to say how far into the run a namespace was first watched. */
uint64_t mib__born_ns(const struct mib *m);

/*
 * Counters, by an id shared by every namespace: 0 to mib__counter_count() - 1, in the order first
 * read. Named as nstat names them: the group and the name (TcpExtListenOverflows, TcpInCsumErrors,
 * Ip6InHdrErrors). Every counter of the files is kept, those of newer kernels too.
 */
size_t mib__counter_count(const struct mib *m);
const char *mib__counter_name(const struct mib *m, size_t id);
/*
 * Counter id of namespace i: its first value read (start: at watch time, or when it first
 * appeared) and its last (now). 0, or -ENOENT when that namespace never showed it.
 */
int mib__value(const struct mib *m, size_t i, size_t id, uint64_t *start, uint64_t *now);
/* The same by namespace inode and counter name. */
int mib__find(const struct mib *m, uint64_t netns_ino, const char *name, uint64_t *start,
	      uint64_t *now);

/* --- Coverage: the counters' deltas beside the traced counts of the reasons naming the same. */

/* What the caller traced: count drops of one reason (the kernel's name) in one namespace. */
struct mib_traced {
	uint64_t netns;
	const char *reason;
	uint64_t count;
};

enum mib_verdict {
	MIB_MATCHED, /* as many traced as counted */
	MIB_TRACED_FEWER, /* some traced: filters, lost events, or paths without that reason */
	MIB_TRACED_MORE, /* the reasons cover more than the counter, or it was watched mid-run */
	MIB_NOT_TRACED, /* counted, none traced, and no probe on this kernel sees these */
};

/* "matched", "traced fewer", "traced more", "not traced: no probe on this kernel sees these". */
const char *mib_verdict_text(enum mib_verdict v);

struct mib_row {
	uint64_t netns;
	const char *counter; /* nstat's name */
	const char *what; /* in words, plural ("listen overflows"); the counter's name if none */
	const char *reasons; /* the matching reasons, comma-separated; "" when none */
	const char *why; /* with MIB_NOT_TRACED: why no tracer sees them, in words */
	uint64_t kernel; /* the counter's delta: now - start */
	uint64_t traced; /* the traced counts of its reasons in that namespace, summed */
	enum mib_verdict verdict;
};

/*
 * The coverage rows of every open namespace, by namespace then counter, for the counters that
 * name a drop (those of explain.c's mib column and a few the kernel frees with consume_skb, e.g.
 * listen overflows). nm says which reasons this kernel names (NULL: all of them). Rows where
 * neither side counted anything are left out unless all. *rows is the caller's to free();
 * returns their number (0: *rows is NULL).
 */
size_t mib__coverage(const struct mib *m, struct names *nm, const struct mib_traced *traced,
		     size_t n_traced, int all, struct mib_row **rows);

/*
 * The table: one header line, aligned columns, then each row not matched in words ("57 listen
 * overflows counted by the kernel, 0 traced: this kernel offers no probe for them (netns N)"),
 * and the namespaces watched mid-run, not readable, or not watched for the bound.
 */
void mib__print_coverage(const struct mib *m, const struct mib_row *rows, size_t n, FILE *out);

/*
 * --- Listen overflows (listen.c, bpf/listen.h): a full accept queue, or a full SYN queue without
 * syncookies, throws SYNs away with consume_skb(), which no kfree_skb probe sees. Where fentry or
 * kprobes work, probes on the request path make them drop events; -v says which, or why none.
 */

/* The reasons of our own, for what the kernel names no reason for (there is no space in a name
 * the kernel gives: these cannot be taken for one). */
#define LISTEN_OVERFLOW_NAME "LISTEN_OVERFLOW (tcpdrop)"
#define LISTEN_SYNQ_NAME "SYN_QUEUE_FULL (tcpdrop)"

/* Fill lf from the vmlinux BTF (NULL: none); probe__facts calls it. */
void listen__facts(const struct kbtf *vmlinux, struct listen_facts *lf);
/*
 * The reasons the events get, into lf: the kernel's TCP_LISTEN_OVERFLOW where it has one, else
 * LISTEN_OVERFLOW_NAME, and LISTEN_SYNQ_NAME; ours are added to nm with codes past the kernel's.
 */
void listen__names(struct listen_facts *lf, struct names *nm);

/* What the attached probes see (probe__listen): the SYNs, the final ACKs (or the kernel does). */
#define LISTEN_SEES_SYN 0x1
#define LISTEN_SEES_ACK 0x2
int probe__listen(const struct probe *p);

#endif
