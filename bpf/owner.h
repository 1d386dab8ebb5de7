/* Who a drop hurt: the socket's owner, user and cgroup, recorded by the probe itself. */
#ifndef TCPDROP_OWNER_H
#define TCPDROP_OWNER_H

/*
 * Included by tcpdrop.bpf.c after its KREAD() and sock_is_tcp(). The task on the CPU at a drop
 * is mostly not the socket's owner (softirq, or whoever's send ran the receive path), so the
 * owner is recorded where it is the current task: at connect (the SYN_SENT state change runs
 * in connect()), at listen (the LISTEN state change), at accept (the syscall's exit), and, where
 * the kernel has the tracepoints (6.3+), on each send and receive by another process than the
 * one recorded (a socket handed to a child). Recording the owner's start time and comm with its
 * pid means a pid reused later is never taken for the owner, and no /proc is read: it works
 * under --user.
 *
 * Entries are keyed by the socket's address, and go when the socket is closed for good (the
 * state change to CLOSE); a socket that leaves through FIN_WAIT or CLOSING may live on as a
 * TIME_WAIT mini socket, a different object, so its entry moves then to a second map keyed by
 * the connection's tuple in its namespace, where the TIME_WAIT socket finds it. Both maps are
 * LRU and bounded: a miss is an unknown owner ("-"), never a guess. An entry also holds the
 * socket's inode, to tell a reused address from the socket it was recorded for.
 */

/* TCP states: the kernel's ABI (ss, /proc/net/tcp, sock_diag) */
#define TCP_SYN_SENT_STATE 2
#define TCP_FIN_WAIT1_STATE 4
#define TCP_FIN_WAIT2_STATE 5
#define TCP_CLOSE_STATE 7
#define TCP_LAST_ACK_STATE 9
#define TCP_LISTEN_STATE 10
#define TCP_CLOSING_STATE 11

#define OWNER_ENTRIES 16384 /* sockets with a known owner at a time (LRU beyond) */
#define OWNER_TW_ENTRIES 8192 /* closed connections waiting in TIME_WAIT */

/* Shadows of the kernel's types (the ___own suffix keeps them apart from bpf/kernel.h's). */
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct kernfs_node___own {
	__u64 id; /* the cgroup2 directory's inode: what bpf_get_current_cgroup_id() says */
};

struct cgroup___own {
	struct kernfs_node___own *kn;
	int level; /* the root is 0 */
	struct cgroup___own *ancestors[0]; /* 6.0+: each level's cgroup, ancestors[level] itself */
};

struct cgroup___old {
	__u64 ancestor_ids[0]; /* before 6.0: each level's id */
};

struct css_set___own {
	struct cgroup___own *dfl_cgrp; /* the task's cgroup v2 cgroup */
};

/* 5.15+: a plain pointer to the cgroup2 cgroup. */
struct sock_cgroup_data___own {
	struct cgroup___own *cgroup;
};

/* Before: the pointer, or (low bit set) net_cls/net_prio data, the cgroup then being the root. */
struct sock_cgroup_data___old {
	__u64 val;
};

struct inode___own {
	unsigned long i_ino;
};

struct file___own {
	struct inode___own *f_inode;
	void *private_data;
};

struct socket___own {
	struct file___own *file;
	struct sock *sk;
};

typedef struct {
	__u32 val;
} kuid_t___own;

struct sock_common___own {
	unsigned long skc_flags; /* 6.10+: sk_flags moved here */
	struct sock *skc_listener; /* a request socket's listener (rsk_listener) */
};

struct sock___own {
	struct sock_common___own __sk_common;
	struct sock_cgroup_data___own sk_cgrp_data;
	kuid_t___own sk_uid;
	struct socket___own *sk_socket;
	unsigned long sk_flags;
};

struct inet_sock___own {
	__be16 inet_sport; /* the local port, kept after inet_num is given back */
};

struct sock___old {
	struct sock_cgroup_data___old sk_cgrp_data;
};

struct fdtable___own {
	unsigned int max_fds;
	struct file___own **fd;
};

struct files_struct___own {
	struct fdtable___own *fdt;
};

struct task_struct___own {
	void *stack;
	int tgid;
	__u64 start_boottime; /* 5.5+ */
	void *mm; /* NULL for kernel threads */
	struct files_struct___own *files;
	struct css_set___own *cgroups;
};

enum sock_flags___own {
	SOCK_DEAD___own = 0,
};

#pragma clang attribute pop

/* An owner, as recorded. */
struct owner_val {
	__u64 start_ns; /* task->start_boottime */
	__u64 cgroup_id; /* for the TIME_WAIT map: the socket's, as it closed */
	__u32 tgid;
	__u32 ino; /* the socket's inode when recorded (0: none yet) */
	__u32 uid; /* for the TIME_WAIT map: sk_uid */
	__u8 flags; /* TCPDROP_O_UID, TCPDROP_O_CGROUP_SK for the TIME_WAIT map */
	__u8 _pad[3];
	__u64 cgroup_at; /* for the TIME_WAIT map, with --cgroup: the id at the filter's level */
	char comm[16];
};

/* A connection in its namespace, as its socket sees it (local side first). */
struct owner_tuple {
	__u8 laddr[16];
	__u8 raddr[16];
	__u32 netns;
	__u16 lport;
	__u16 rport;
	__u16 family;
	__u8 _pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OWNER_ENTRIES);
	__type(key, __u64);
	__type(value, struct owner_val);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OWNER_TW_ENTRIES);
	__type(key, struct owner_tuple);
	__type(value, struct owner_val);
} owners_tw SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} owner_sp SEC(".maps");

/* Where an owner is built: the stack of a tracepoint program is small. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct owner_val);
} owner_scratch SEC(".maps");

/*
 * Whether the drop runs in process context, where the current task's cgroup is the one that
 * sent the packet, or refused it. The kernel's own test, in_task(), reads the per-CPU preemption
 * count, a variable kallsyms names only with CONFIG_KALLSYMS_ALL (not Debian's). So: whether this
 * program runs on the current task's stack. Softirqs run on the CPU's interrupt stack (x86-64
 * and arm64 switch to it, from an interrupt or from local_bh_enable()), or in ksoftirqd, a kernel
 * thread (no mm). The window is the smallest THREAD_SIZE (16 KiB); a larger stack can only make a
 * deep frame read as not in a task: its cgroup unknown, never another's. PREEMPT_RT kernels run
 * softirqs in tasks: there the current task is taken too.
 */
#define OWNER_STACK_WINDOW (16 * 1024)

static __always_inline int owner_in_task(const int mode)
{
	struct task_struct___own *t;
	__u64 *slot, here, base;
	__u32 zero = 0;
	char marker = 0;

	/* A stack address as a number: through a map, as the verifier keeps pointers apart. */
	slot = bpf_map_lookup_elem(&owner_sp, &zero);
	if (!slot)
		return 0;
	*(volatile void **)slot = &marker;
	here = *(volatile __u64 *)slot;
	if (mode == MODE_BTF_CAST)
		t = (void *)bpf_get_current_task_btf();
	else
		t = (void *)bpf_get_current_task();
	base = (__u64)KREAD(mode == MODE_BTF_CAST, t, stack);
	return here - base < OWNER_STACK_WINDOW && KREAD(mode == MODE_BTF_CAST, t, mm);
}

/* A full socket's cgroup v2 id (0: none). */
static __always_inline __u64 owner_sk_cgroup(struct sock *sk, const int mode)
{
	struct sock___own *s = (void *)sk;

	if (bpf_core_field_exists(s->sk_cgrp_data.cgroup))
		return KREAD(mode, s, sk_cgrp_data.cgroup, kn, id);
	if (bpf_core_field_exists(((struct sock___old *)sk)->sk_cgrp_data.val)) {
		__u64 v = BPF_CORE_READ((struct sock___old *)sk, sk_cgrp_data.val);

		/* Low bits set: net_cls/net_prio data, the cgroup being the v2 root's. */
		if (!v || (v & 3))
			return 1;
		return BPF_CORE_READ((struct cgroup___own *)v, kn, id);
	}
	return 0;
}

/*
 * --cgroup: the id of cg's ancestor at level (cg's own when it is at that level), 0 when cg
 * is above it: the filter matches a cgroup and everything below it (bpf/filter.h).
 */
static __always_inline __u64 owner_cgrp_at(struct cgroup___own *cg, __u32 level)
{
	struct cgroup___old *old = (void *)cg;
	__u64 id = 0;

	if (!cg || BPF_CORE_READ(cg, level) < (int)level)
		return 0;
	if (bpf_core_field_exists(cg->ancestors)) {
		struct cgroup___own *a = NULL;

		bpf_probe_read_kernel(&a, sizeof(a),
				      (char *)cg + bpf_core_field_offset(cg->ancestors) +
					      (__u64)level * sizeof(a));
		return a ? BPF_CORE_READ(a, kn, id) : 0;
	}
	if (bpf_core_field_exists(old->ancestor_ids))
		bpf_probe_read_kernel(&id, sizeof(id),
				      (char *)cg + bpf_core_field_offset(old->ancestor_ids) +
					      (__u64)level * sizeof(id));
	return id;
}

/* The same for a full socket's cgroup: a socket of the v2 root's (old kernels' net_cls data). */
static __always_inline __u64 owner_sk_cgroup_at(struct sock *sk, __u32 level)
{
	struct sock___own *s = (void *)sk;

	if (bpf_core_field_exists(s->sk_cgrp_data.cgroup))
		return owner_cgrp_at(BPF_CORE_READ(s, sk_cgrp_data.cgroup), level);
	if (!level)
		return owner_sk_cgroup(sk, MODE_PROBED);
	if (bpf_core_field_exists(((struct sock___old *)sk)->sk_cgrp_data.val)) {
		__u64 v = BPF_CORE_READ((struct sock___old *)sk, sk_cgrp_data.val);

		if (v && !(v & 3))
			return owner_cgrp_at((struct cgroup___own *)v, level);
	}
	return 0;
}

/* A full socket's inode (0: none, as once it is orphaned). */
static __always_inline __u32 owner_sk_ino(struct sock *sk, const int mode)
{
	struct sock___own *s = (void *)sk;
	struct file___own *f = KREAD(mode, s, sk_socket, file);

	return f ? (__u32)KREAD(mode, f, f_inode, i_ino) : 0;
}

/* The connection's tuple as the socket (full or mini) holds it. */
static __always_inline void owner_tuple_of(struct sock *sk, struct owner_tuple *t)
{
	__builtin_memset(t, 0, sizeof(*t));
	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* Sized reads: BPF_CORE_READ_INTO() into an array reads one element's size. */
	if (t->family == AF_INET) {
		bpf_core_read(t->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(t->raddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(t->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(t->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	t->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* The current task as sk's owner. */
static __always_inline void owner_record(struct sock *sk)
{
	struct task_struct___own *t = (void *)bpf_get_current_task();
	__u64 key = (__u64)sk;
	struct owner_val *v;
	__u32 zero = 0;

	v = bpf_map_lookup_elem(&owner_scratch, &zero);
	if (!v)
		return;
	__builtin_memset(v, 0, sizeof(*v));
	v->tgid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_core_field_exists(t->start_boottime))
		v->start_ns = BPF_CORE_READ(t, start_boottime);
	v->ino = owner_sk_ino(sk, MODE_PROBED);
	bpf_get_current_comm(v->comm, sizeof(v->comm));
	bpf_map_update_elem(&owners, &key, v, BPF_ANY);
}

/*
 * sock:inet_sock_set_state, as a raw tracepoint (no tracefs needed: it attaches with CAP_BPF and
 * CAP_PERFMON alone). To SYN_SENT and LISTEN: in connect() and listen(), the owner is current.
 * To CLOSE: the socket is done; from FIN_WAIT1/2 or CLOSING a TIME_WAIT socket may follow,
 * which takes the owner (and the socket's uid and cgroup, which it does not keep). By then the
 * socket has given its port back (inet_num is 0): the local port is read from inet_sport.
 */
SEC("raw_tp/inet_sock_set_state")
int tcpdrop_owner_state(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	int os = (int)ctx->args[1], ns = (int)ctx->args[2];
	struct sock___own *s = (void *)sk;
	__u64 key = (__u64)sk;
	struct owner_val *v;
	struct owner_tuple t;

	if (ns == TCP_SYN_SENT_STATE || ns == TCP_LISTEN_STATE) {
		if (sock_is_tcp(sk, (__u8)ns, MODE_PROBED))
			owner_record(sk);
		return 0;
	}
	if (ns != TCP_CLOSE_STATE)
		return 0;
	v = bpf_map_lookup_elem(&owners, &key);
	if (!v)
		return 0;
	if (os == TCP_FIN_WAIT1_STATE || os == TCP_FIN_WAIT2_STATE || os == TCP_CLOSING_STATE) {
		v->uid = BPF_CORE_READ(s, sk_uid.val);
		v->cgroup_id = owner_sk_cgroup(sk, MODE_PROBED);
		if (cfg.filter.cgroup_id)
			v->cgroup_at = owner_sk_cgroup_at(sk, cfg.filter.cgroup_level);
		v->flags = TCPDROP_O_UID | (v->cgroup_id ? TCPDROP_O_CGROUP_SK : 0);
		owner_tuple_of(sk, &t);
		t.lport =
			bpf_ntohs(BPF_CORE_READ((struct inet_sock___own *)(void *)sk, inet_sport));
		bpf_map_update_elem(&owners_tw, &t, v, BPF_ANY);
	}
	bpf_map_delete_elem(&owners, &key);
	return 0;
}

/* syscalls:sys_exit_accept4 and sys_exit_accept (tracefs' format: the ABI of those events). */
struct owner_sys_exit_args {
	__u64 _common;
	int nr;
	long ret;
};

static __always_inline int owner_accepted(struct owner_sys_exit_args *ctx)
{
	struct task_struct___own *t = (void *)bpf_get_current_task();
	struct file___own **fds, *f;
	struct socket___own *so;
	struct sock *sk;
	long fd = ctx->ret;
	__u8 state;

	if (fd < 0 || fd >= BPF_CORE_READ(t, files, fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(t, files, fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), fds + fd) || !f)
		return 0;
	so = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(so, sk);
	/* Another thread may have closed or replaced the fd: it must still be that socket's. */
	if (!sk || BPF_CORE_READ(so, file) != f)
		return 0;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* Closed already: no state change would ever remove an entry made now. */
	if (state == TCP_CLOSE_STATE || !sock_is_tcp(sk, state, MODE_PROBED))
		return 0;
	owner_record(sk);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tcpdrop_owner_accept4(struct owner_sys_exit_args *ctx)
{
	return owner_accepted(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tcpdrop_owner_accept(struct owner_sys_exit_args *ctx)
{
	return owner_accepted(ctx);
}

/*
 * sock:sock_send_length and sock_recv_length (6.3+): a process using a socket whose recorded
 * owner is another one (or none) becomes its owner, e.g. a child it was handed to. One lookup
 * per call on a TCP socket, a write only on a change; kernel threads never own. These run on
 * every send and receive of every socket: the socket's type is read first, as typed loads (the
 * tracepoint hands a BTF pointer), so that another socket costs a few loads and no lookup
 * (make bench's AF_PACKET sender: ~150 ns per packet when the lookup and probed reads came first).
 */
static __always_inline int owner_used(struct sock *sk)
{
	struct task_struct___own *t;
	__u64 key = (__u64)sk;
	struct owner_val *v;
	__u8 state;

	if (!sk)
		return 0;
	state = sk->__sk_common.skc_state;
	if (state == TCP_CLOSE_STATE || !sock_is_tcp(sk, state, MODE_BTF))
		return 0;
	t = (void *)bpf_get_current_task_btf();
	if (!t->mm)
		return 0;
	v = bpf_map_lookup_elem(&owners, &key);
	if (v && v->tgid == bpf_get_current_pid_tgid() >> 32)
		return 0;
	owner_record(sk);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(tcpdrop_owner_send, struct sock *sk)
{
	return owner_used(sk);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(tcpdrop_owner_recv, struct sock *sk)
{
	return owner_used(sk);
}

/*
 * --cgroup, in inspect(): 1 if the drop's cgroup is the filter's or below it. The cgroup is the
 * one owner_fill() reports: the socket's (a TIME_WAIT socket's as it closed, a request
 * socket's listener's), else in process context the current task's; unknown never passes.
 */
static __always_inline int owner_filter_cgroup(struct sock *sk, __u8 state, const int mode)
{
	__u32 level = cfg.filter.cgroup_level;
	struct task_struct___own *t;
	struct owner_tuple tu;
	struct owner_val *v;

	if (!cfg.filter.cgroup_id)
		return 1;
	if (!cfg.owners)
		return 0;
	if (!sk) {
		if (!owner_in_task(mode))
			return 0;
		t = (void *)bpf_get_current_task();
		return filter_cgroup(&cfg.filter,
				     owner_cgrp_at(BPF_CORE_READ(t, cgroups, dfl_cgrp), level));
	}
	if (state == TCP_TIME_WAIT_STATE) {
		owner_tuple_of(sk, &tu);
		v = bpf_map_lookup_elem(&owners_tw, &tu);
		return v && filter_cgroup(&cfg.filter, v->cgroup_at);
	}
	if (state == TCP_NEW_SYN_RECV_STATE)
		sk = BPF_CORE_READ((struct sock___own *)sk, __sk_common.skc_listener);
	return sk && filter_cgroup(&cfg.filter, owner_sk_cgroup_at(sk, level));
}

/* The recorded owner into the event: v's, with its own flags. */
static __always_inline void owner_copy(struct tcpdrop_event *e, const struct owner_val *v)
{
	e->owner_pid = v->tgid;
	e->owner_start_ns = v->start_ns;
	__builtin_memcpy(e->owner_comm_raw, v->comm, sizeof(e->owner_comm_raw));
	e->owner_flags |= TCPDROP_O_OWNER;
}

/*
 * The drop's owner, uid and cgroup into e. sk: the drop's TCP socket (full, or the TIME_WAIT
 * or NEW_SYN_RECV mini socket), or NULL. Only a full socket has the fields past sock_common.
 */
/*
 * The drop's cgroup v2 id alone, as owner_fill() puts it in the event (cgroup_id_raw): what a
 * kcount table keyed by cgroup counts, so that the kernel's rows and the events agree.
 */
static __always_inline __u64 owner_cgroup(struct sock *sk, __u8 state, const int mode)
{
	struct owner_tuple t;
	struct owner_val *v;

	if (!sk)
		return owner_in_task(mode) ? bpf_get_current_cgroup_id() : 0;
	if (state == TCP_TIME_WAIT_STATE) {
		owner_tuple_of(sk, &t);
		v = bpf_map_lookup_elem(&owners_tw, &t);
		return v ? v->cgroup_id : 0;
	}
	if (state == TCP_NEW_SYN_RECV_STATE) {
		/* In a union that BTF types by its first member, a scalar: read, not walked. */
		sk = BPF_CORE_READ((struct sock___own *)sk, __sk_common.skc_listener);
		return sk ? owner_sk_cgroup(sk, MODE_PROBED) : 0;
	}
	return owner_sk_cgroup(sk, mode);
}

static __always_inline void owner_fill(struct tcpdrop_event *e, struct sock *sk, __u8 state,
				       const int mode)
{
	struct sock___own *s = (void *)sk;
	struct owner_val *v;
	struct owner_tuple t;
	__u64 key, skflags;

	e->owner_pid = 0;
	e->owner_start_ns = 0;
	((__u64 *)e->owner_comm_raw)[0] = 0;
	((__u64 *)e->owner_comm_raw)[1] = 0;
	e->cgroup_id_raw = 0;
	e->sock_ino = 0;
	e->sk_uid = 0;
	e->owner_flags = 0;
	if (!cfg.owners)
		return;
	if (!sk) {
		if (owner_in_task(mode)) {
			e->cgroup_id_raw = bpf_get_current_cgroup_id();
			e->owner_flags = TCPDROP_O_CGROUP_TASK;
		}
		return;
	}
	if (state == TCP_TIME_WAIT_STATE) {
		owner_tuple_of(sk, &t);
		v = bpf_map_lookup_elem(&owners_tw, &t);
		e->owner_flags = TCPDROP_O_CLOSED;
		if (v) {
			owner_copy(e, v);
			e->sock_ino = v->ino;
			e->sk_uid = v->uid;
			e->cgroup_id_raw = v->cgroup_id;
			e->owner_flags |= v->flags;
		}
		return;
	}
	if (state == TCP_NEW_SYN_RECV_STATE) {
		/* A connection being set up: its listener's owner will accept it. */
		/* In a union that BTF types by its first member, a scalar: read, not walked. */
		struct sock *l = BPF_CORE_READ(s, __sk_common.skc_listener);

		if (!l)
			return;
		e->sk_uid = BPF_CORE_READ((struct sock___own *)(void *)l, sk_uid.val);
		e->cgroup_id_raw = owner_sk_cgroup(l, MODE_PROBED);
		e->owner_flags = TCPDROP_O_UID | TCPDROP_O_LISTENER |
				 (e->cgroup_id_raw ? TCPDROP_O_CGROUP_SK : 0);
		key = (__u64)l;
		v = bpf_map_lookup_elem(&owners, &key);
		if (v)
			owner_copy(e, v);
		return;
	}
	e->sk_uid = KREAD(mode, s, sk_uid.val);
	e->cgroup_id_raw = owner_sk_cgroup(sk, mode);
	e->sock_ino = owner_sk_ino(sk, mode);
	e->owner_flags = TCPDROP_O_UID | (e->cgroup_id_raw ? TCPDROP_O_CGROUP_SK : 0);
	if (bpf_core_field_exists(s->sk_flags))
		skflags = KREAD(mode, s, sk_flags);
	else
		skflags = KREAD(mode, s, __sk_common.skc_flags);
	if (state == TCP_FIN_WAIT1_STATE || state == TCP_FIN_WAIT2_STATE ||
	    state == TCP_CLOSING_STATE || state == TCP_LAST_ACK_STATE ||
	    (skflags & (1UL << bpf_core_enum_value(enum sock_flags___own, SOCK_DEAD___own))))
		e->owner_flags |= TCPDROP_O_CLOSED;
	key = (__u64)sk;
	v = bpf_map_lookup_elem(&owners, &key);
	/* Recorded for another socket at this address, which left unseen: not this one's. */
	if (!v || (v->ino && e->sock_ino && v->ino != e->sock_ino))
		return;
	owner_copy(e, v);
	if (!e->sock_ino)
		e->sock_ino = v->ino;
}

#endif
