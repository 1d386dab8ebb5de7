/* Symbols and names: kernel BTF, kallsyms and frame text, reason and state names. */
#ifndef TCPDROP_SYM_SYM_H
#define TCPDROP_SYM_SYM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --- A fast, read-only walk over the kernel's BTF: the few lookups tcpdrop needs before loading.
 */

/*
 * libbpf's btf__parse() validates and indexes every type (~25 ms for vmlinux);
 * libbpf parses it again for CO-RE anyway. Names and the tracepoint's arity
 * only need a walk over the records, which takes a millisecond or two.
 */
struct kbtf;

enum kbtf_kind {
	KBTF_INT = 1,
	KBTF_PTR = 2,
	KBTF_ENUM = 6,
	KBTF_TYPEDEF = 8,
	KBTF_FUNC = 12,
	KBTF_FUNC_PROTO = 13,
	KBTF_ENUM64 = 19,
};

/* Open a BTF file; base (may be NULL) for a module's split BTF. NULL and errno on failure. */
struct kbtf *kbtf__open(const char *path, const struct kbtf *base);
/* From memory (tests): the bytes are copied. */
struct kbtf *kbtf__from_mem(const void *data, uint32_t len, const struct kbtf *base);
void kbtf__free(struct kbtf *b);

/* First type of that kind and name: its id, or 0. */
uint32_t kbtf__find(const struct kbtf *b, const char *name, int kind);
/* Types: ids 1..count (a split BTF's ids continue its base's). */
uint32_t kbtf__first_id(const struct kbtf *b);
uint32_t kbtf__end_id(const struct kbtf *b);
int kbtf__kind(const struct kbtf *b, uint32_t id);
const char *kbtf__name(const struct kbtf *b, uint32_t id);
/* The type a typedef, pointer, qualifier or function refers to. */
uint32_t kbtf__ref(const struct kbtf *b, uint32_t id);
/* Members of an enum/enum64 or parameters of a function prototype. */
int kbtf__vlen(const struct kbtf *b, uint32_t id);
/* Enumerator i: name and value. */
const char *kbtf__enum_name(const struct kbtf *b, uint32_t id, int i);
int64_t kbtf__enum_value(const struct kbtf *b, uint32_t id, int i);

/* --- Kernel symbol lookup: addresses to "name+0xoff", from /proc/kallsyms or a recorded file. */

struct ksyms;

struct ksyms *ksyms__new(void);
void ksyms__free(struct ksyms *ks);

/* Read a kallsyms-format file (text symbols only). 0 or -errno. */
int ksyms__load_file(struct ksyms *ks, const char *path);
/* Load /proc/kallsyms on first need: the read costs tens of milliseconds. */
void ksyms__set_lazy(struct ksyms *ks, const char *path);
/*
 * Start reading the lazy file in a thread now, so the first stack does not
 * stall the reader (~60 ms of kernel time while a storm fills the rings); the
 * first lookup waits for it. Nothing else may touch ks until then. The thread
 * runs at nice -5 where allowed.
 */
void ksyms__preload(struct ksyms *ks);

/* Add one symbol. */
void ksyms__add(struct ksyms *ks, uint64_t addr, const char *name);

/*
 * The symbol at or below addr: its name and the offset; NULL when none. The
 * name is spelled out in a buffer of ks's: valid until the next lookup.
 */
const char *ksyms__map_addr(struct ksyms *ks, uint64_t addr, uint64_t *off);

/*
 * How a frame is taken (ksyms__format, ksyms__frame). Callers of ksyms__frame() pass their
 * event's TCPDROP_F_FRAME_IDS bit as it is: any of the low 8 bits set, v is a frame-text id.
 */
#define KSYMS_IDS 0xff
/*
 * A return address, as every frame of a stack is but the first (the location itself): named
 * by the symbol at v - 1, which holds the call (a call that never returns may be the last
 * instruction of a function, so that v is the next one's start); the offset printed is still
 * v's, as bcc and perf print it.
 */
#define KSYMS_RET 0x100
/*
 * For a file: an address no symbol covers is "?", never its digits. A kernel address must not
 * leave the machine in a recording (KASLR); without CAP_SYSLOG no address has a symbol.
 */
#define KSYMS_NO_ADDR 0x200
/* A frame with no symbol as KSYMS_NO_ADDR spells it. */
#define KSYMS_UNKNOWN "?"

/*
 * Room for any frame text ks makes, with its NUL: a name as long as the kernel's (KSYM_NAME_LEN
 * 512 with its NUL; ks keeps no longer one), "+0x" and an offset, or "0x" and an address.
 */
#define KSYMS_NAME_MAX 511
#define KSYMS_FRAME_MAX (KSYMS_NAME_MAX + 3 + 16 + 1)

/*
 * "name+0xoff" (or "0x..." when unknown; flags: KSYMS_RET, KSYMS_NO_ADDR) into buf, cut to
 * its len bytes with the NUL; returns its length.
 */
int ksyms__format(struct ksyms *ks, uint64_t addr, int flags, char *buf, size_t len);

/*
 * --- Frame text: the run's one cache, for the writer, the printers and Lua alike. A frame is a
 * kernel address, or, in an event with TCPDROP_F_FRAME_IDS (replayed frames, which are text in
 * the file), an id of a text ks keeps.
 */

/* The id of a frame's text (len bytes, no NUL among them), 1 and up; the same text, the same id. */
uint32_t ksyms__frame_id(struct ksyms *ks, const char *text, size_t len);
/*
 * A frame's text, v an id when flags has KSYMS_IDS, else a kernel address spelled as
 * ksyms__format() does with flags (kept: the same frames come back drop after drop, and a
 * symbol added since is seen). Its length in *len; valid until the next call on ks.
 */
const char *ksyms__frame(struct ksyms *ks, uint64_t v, int flags, size_t *len);
/* The same into buf (room for len bytes with the NUL, cut to fit); its length. */
int ksyms__frame_into(struct ksyms *ks, uint64_t v, int flags, char *buf, size_t len);

/*
 * The tracer's own frames cut off a raw stack (of kernel addresses), the one place they are:
 * the index of the first frame to keep, the dropping function's.
 */
unsigned int ksyms__stack_start(struct ksyms *ks, const unsigned long long *frames, unsigned int n,
				uint64_t location);

/* --- Names the running kernel gives to drop reasons and TCP states, read from its BTF. */

struct kbtf;
struct names;

/* An empty table: every lookup answers NULL until names are added. */
struct names *names__new(void);
/*
 * Fill from the kernel: reasons from BTF `enum skb_drop_reason`, else from the
 * tracepoint's format file; states from BTF, else the long-stable TCP numbering.
 * btf may be NULL (then the vmlinux BTF is loaded here). 0, or -errno when no
 * source of reason names could be read (lookups then answer NULL).
 */
int names__load_kernel(struct names *nm, const struct kbtf *btf);
/* Parse a tracepoint format file's __print_symbolic list (exposed for tests). */
int names__load_format(struct names *nm, const char *text);
void names__free(struct names *nm);

void names__set_reason(struct names *nm, uint32_t code, const char *name);
void names__set_state(struct names *nm, unsigned int code, const char *name);

/* NULL when the code has no name; subsystem reasons (code >> 16) are looked up on first use. */
const char *names__reason(struct names *nm, uint32_t code);
const char *names__state(struct names *nm, unsigned int code);

/* The code of a reason name (with or without SKB_DROP_REASON_), or -1. */
int64_t names__reason_code(struct names *nm, const char *name);
/*
 * A comma-separated list of reason names (NULL: none) appended to codes[*n], at most max in
 * all. 0, or -EINVAL after one line: "OPT: SOURCE no drop reason 'X'" (OPT: the option that
 * gave the list), with the nearest known name when one is close ("this kernel has", "FILE names").
 */
int names__resolve_list(struct names *nm, const char *opt, const char *list, const char *source,
			uint32_t *codes, uint8_t *n, unsigned int max);
/* --list-reasons: "NAME CODE" lines, by code. */
void names__print_reasons(struct names *nm, FILE *out);
/* Iterate the core reasons: returns the next code after *pos that has a name, or -1. */
int64_t names__next_reason(struct names *nm, int64_t pos);

/*
 * Who was hurt, as a -w file recorded it, so that a replay names what the live run named: a
 * cgroup id (netns 0) or a netns inode (netns 1) to NAMES__OWNER_FIELDS strings, each ended by
 * a NUL, "" unknown, in lua/owner.lua's order (cgroup, container, container_id, runtime, pod,
 * pod_namespace, pod_uid). len bytes of names are copied; a later set replaces. 0, -EINVAL (id
 * 0), or -ENOSPC past 65536 ids (those answer "-").
 */
#define NAMES__OWNER_FIELDS 7
int names__set_owner(struct names *nm, int netns, uint64_t id, const char *names, size_t len);
/* The recorded names of an id, or NULL. */
const char *names__owner(const struct names *nm, int netns, uint64_t id);
/* Changes with every set: answers kept from before may be stale. */
unsigned int names__owners_gen(const struct names *nm);

/* --- What a drop reason means, in tcpdrop's own words (--explain, --list-reasons). */

struct reason_help {
	const char *name; /* the kernel's name, without SKB_DROP_REASON_ */
	const char *mib; /* nstat's name of the MIB counter bumped for the same event, or NULL */
	const char *what; /* what the kernel saw */
	const char *check; /* what to look at */
};

/* The description of a reason by its name, or NULL: no description yet. */
const struct reason_help *reason_help__find(const char *name);
/* The i-th description (0..), NULL past the last. */
const struct reason_help *reason_help__at(size_t i);

/*
 * Who was hurt: cgroup ids, network namespaces and pids to the container, pod or unit they belong
 * to, resolved in user space from what the kernel and the runtimes keep on disk (no daemon, no
 * API). Lazily, cached, rescanned on a miss at most once per rescan interval, never per event;
 * every cache bounded. What cannot be told is NULL (printed "-"), never a guess. Not thread-safe:
 * one struct owners per thread.
 * (Private to core/sym until the lead moves it into sym.h.)
 */

/* Where to look; NULL or 0 takes the default (the real places), so tests can lay out a tree. */
struct owners_opts {
	const char *proc; /* "/proc" */
	const char *mountinfo; /* "<proc>/self/mountinfo": where the cgroup2 mount is found */
	const char *cgroup_root; /* the cgroup2 mount from mountinfo: /sys/fs/cgroup(/unified) */
	const char
		*podman_root; /* "/var/lib/containers/storage" (its *-containers/containers.json) */
	const char *docker_root; /* "/var/lib/docker" (its containers/<id>/config.v2.json) */
	const char
		*kubelet_logs; /* "/var/log/containers" (<pod>_<namespace>_<container>-<id>.log) */
	unsigned int max_entries; /* per cache, 4096; a full cache is emptied and counted */
	unsigned int rescan_ms; /* least time between two rescans of one source on misses, 1000 */
	unsigned int netns_ttl_ms; /* a netns answer older than this is rescanned (inodes are
				     reused once a namespace is gone), 5000 */
	/* Each warning once (no "tcpdrop: " and no newline); NULL: msg(). */
	void (*warn)(const char *line);
};

/* Every string NULL when not known; valid until the next call on the same struct owners. */
struct owner {
	const char *cgroup; /* the cgroup v2 path from the hierarchy's root: "/kubepods/..." */
	const char *runtime; /* "docker", "podman", "containerd", "cri-o", "systemd" */
	const char *id; /* the container's full id (64 hex digits) */
	const char *name; /* the container's name (Kubernetes': its name in the pod), or the unit */
	const char *pod_uid; /* the Kubernetes pod's uid, with dashes */
	const char *pod; /* the pod's name and namespace, from the kubelet's log links */
	const char *namespace;
};

/* What a cgroup path alone tells, by the runtimes' naming conventions ("" when not told). */
struct owner_ids {
	char runtime[16]; /* "" with an id: a bare id under a pod (cgroupfs), runtime not told */
	char id[65];
	char pod_uid[37];
	char unit[256]; /* the deepest "*.service" component */
};

struct owners_stats {
	uint64_t cgroup_walks; /* walks of the cgroup2 tree */
	uint64_t netns_scans; /* scans of /proc's processes */
	uint64_t name_loads; /* reads of the runtimes' files (containers.json, config.v2.json,
				links) */
	uint64_t limited; /* misses answered NULL without a rescan: the last was too recent */
	uint64_t full; /* caches emptied because they reached max_entries */
};

struct owners;

/*
 * The roots tests move, from the environment: TCPDROP_PODMAN_ROOT, TCPDROP_DOCKER_ROOT,
 * TCPDROP_KUBELET_LOGS (unset or empty: the real places). Into o's fields, the rest untouched.
 */
void owners_opts__env(struct owners_opts *o);

/*
 * Never fails (reads nothing but mountinfo and a few stats). What will keep names unknown is
 * warned here, once: no cgroup2 mount, /proc hidden (hidepid) or other processes' namespaces
 * unreadable, a runtime's root unreadable. A runtime's absent root is warned the first time one
 * of its containers is met. opts may be NULL.
 */
struct owners *owners__new(const struct owners_opts *opts);
void owners__free(struct owners *ow);
/* Every warning given so far, one per line; NULL when none. */
const char *owners__warnings(const struct owners *ow);
void owners__stats(const struct owners *ow, struct owners_stats *st);

/*
 * A cgroup id (bpf_get_current_cgroup_id(), bpf_sk_cgroup_id(): the cgroup2 directory's inode)
 * to its owner; NULL when the id is not (or no longer) in the hierarchy.
 */
const struct owner *owners__cgroup(struct owners *ow, uint64_t cgroup_id);
/* A cgroup path (from the hierarchy's root) to its owner; NULL only when path is NULL. */
const struct owner *owners__path(struct owners *ow, const char *path);
/*
 * A network namespace's inode to the container or pod whose processes are in it: the container
 * when they all are in one, the pod when they all are in one pod, else nothing told (the host's
 * namespace). NULL when no process readable here is in it. Answers are kept netns_ttl_ms.
 */
const struct owner *owners__netns(struct owners *ow, uint64_t netns_ino);
/*
 * Read every source now: the cgroup tree, every process's namespace, each runtime's names for
 * what they hold. Before privileges go (--user): what is found stays known (a namespace while
 * the process it was seen in lives; a cgroup's names while the path lives in the cache), since
 * rescans as another user may not read the runtimes' files nor /proc/PID/ns/net.
 */
void owners__prime(struct owners *ow);
/*
 * A drop's answer, as e.container and the others give it: the socket's cgroup when the drop has
 * one (cgroup_id not 0), else the namespace's container or pod. out[0..NAMES__OWNER_FIELDS-1] in
 * names__set_owner's order, each NULL when unknown; the cgroup only from a cgroup id (a netns
 * answer's is no socket's). 1 when an owner was found.
 */
int owners__answer(struct owners *ow, uint64_t cgroup_id, uint64_t netns_ino, const char **out);
/* --container NAME|ID, --pod [NAMESPACE/]NAME: what to find (one of container and pod). */
struct owner_match {
	const char *container; /* a name, a full id, or an id's first 12 or more hex digits */
	const char *pod;
	const char *namespace; /* with pod; NULL: any */
};

/* One id of what matched: a cgroup id, or a network namespace's inode. */
struct owner_found {
	uint64_t id;
	int netns;
};

/*
 * Every cgroup (each its own id) and every network namespace (named as owners__netns names it:
 * the host's never is) that m matches now, from a fresh walk and scan whatever the rate limit:
 * at most max into found. How many, or -ENOSPC when there were more. The cost is a walk of the
 * cgroup tree and a scan of /proc: for start-up and a timer, not for each drop.
 */
int owners__find(struct owners *ow, const struct owner_match *m, struct owner_found *found,
		 unsigned int max);
/* Whether o is what m asks for. */
int owners__matches(const struct owner *o, const struct owner_match *m);
/* A process's owner, from /proc/PID/cgroup (reads it at each call: not for every event). */
const struct owner *owners__pid(struct owners *ow, int pid);

/*
 * /proc/PID/stat: comm (into comm, len bytes with the NUL) and start, field 22 (the start time
 * in clock ticks since boot, which is task->start_boottime / (1e9 / sysconf(_SC_CLK_TCK))).
 * 0, -ENOENT when there is no such process, else -errno.
 */
int owners__pid_stat(struct owners *ow, int pid, char *comm, unsigned int len, uint64_t *start);
/* 1: pid is still the process that started at start; 0: it is gone, or the pid was reused. */
int owners__pid_is(struct owners *ow, int pid, uint64_t start);
/* The comm of the process pid that started at start, cached; NULL when gone or reused. */
const char *owners__comm(struct owners *ow, int pid, uint64_t start);

/* Parse a cgroup path's components (pure; for tests too). 1 when anything was told, else 0. */
int owners__parse_path(const char *path, struct owner_ids *ids);

/* s, or "-" for an unknown. */
static inline const char *owners__str(const char *s)
{
	return s ? s : "-";
}

#endif
