/* Loading the drop probe as the plan (plan.c) says: its rings, settings, programs and links. */
#include "kernel/internal.h"
#include "sym/sym.h"
#include "util/util.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "owner_filter.h"
#include "tcpdrop.skel.h"

/* The drop programs (3), the owner's (bpf/owner.h, 5), the listen probes (6). */
#define MAX_LINKS 16

struct probe {
	struct tcpdrop_bpf *skel; /* owns the rings and counters */
	struct tcpdrop_bpf *pair_skel; /* the pair, added to a kfree_skb probe: shares them */
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
	enum probe_mode mode;
	int tp_nargs;
	int ncpus;
	int *ring_fds; /* one per CPU, or the shared ring alone */
	int nrings;
	int percpu;
	size_t ring_bytes; /* each ring's size */
	int outer_fd; /* the array of per-CPU rings, ours: libbpf is handed a copy */
	pthread_t filler; /* puts the rings in their slots while the programs load */
	int filling;
	int fill_err;
	enum pair_kind pair;
	unsigned long long pair_loc; /* tcp_validate_incoming's address, 0 if unknown */
	struct kcount *kc; /* the kcount tables' pending sets (kcount.c); NULL without tables */
	struct tcpdrop_listen_config listen_cfg; /* every load's (listen.c) */
	struct tcpdrop_bpf *listen_skel[2]; /* the SYN and final-ACK probes: share the maps */
	enum pair_kind listen[2];
	int listen_sees; /* LISTEN_SEES_* */
};

/*
 * libbpf 1.1 reads the kernel's BTF for every load in page-sized reads into one
 * buffer, then copies it (~18 ms and 11 MiB at its peak for a 5.5 MB vmlinux
 * BTF). Its own call to btf__load_vmlinux_btf() goes through the PLT, so this
 * definition takes its place where libbpf is a shared library: since 6.16 the
 * kernel maps the file, and btf__new() copies it once from there (~7 ms, 5.5
 * MiB). Weak, so that a static build keeps libbpf's own without a clash; where
 * the file cannot be mapped, the same search as libbpf's.
 */
__attribute__((weak)) struct btf *btf__load_vmlinux_btf(void)
{
	static const char *const disk[] = {
		"/boot/vmlinux-%1$s",
		"/lib/modules/%1$s/vmlinux-%1$s",
		"/lib/modules/%1$s/build/vmlinux",
		"/usr/lib/modules/%1$s/kernel/vmlinux",
		"/usr/lib/debug/boot/vmlinux-%1$s",
		"/usr/lib/debug/boot/vmlinux-%1$s.debug",
		"/usr/lib/debug/lib/modules/%1$s/vmlinux",
	};
	const char *sys = "/sys/kernel/btf/vmlinux";
	int fd = open(sys, O_RDONLY | O_CLOEXEC);
	struct utsname uts;
	struct btf *btf;
	struct stat st;

	if (fd >= 0) {
		void *data = MAP_FAILED;

		if (!fstat(fd, &st) && st.st_size > 0)
			data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (data != MAP_FAILED) {
			btf = btf__new(data, (__u32)st.st_size);
			munmap(data, (size_t)st.st_size);
			if (btf)
				return btf;
		}
		btf = btf__parse(sys, NULL);
		if (btf)
			return btf;
	}
	uname(&uts);
	for (size_t i = 0; i < ARRAY_SIZE(disk); i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), disk[i], uts.release);
		if (!access(path, R_OK) && (btf = btf__parse(path, NULL)))
			return btf;
	}
	errno = ESRCH;
	return NULL;
}

/* Whether this kernel takes ring buffers as the inner maps of an array of maps. */
static int percpu_rings_supported(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int inner, outer;

	inner = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, (__u32)getpagesize(), NULL);
	if (inner < 0)
		return 0;
	opts.inner_map_fd = (__u32)inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL, sizeof(__u32), sizeof(__u32), 1,
			       &opts);
	close(inner);
	if (outer < 0)
		return 0;
	close(outer);
	return 1;
}

/*
 * Putting a map into an array of maps waits for an RCU grace period (~10 ms
 * here) per update, one per batch where the kernel takes batches. So the
 * per-CPU rings are made and put in place by a thread while the main one
 * loads the programs, which takes longer and does not care what the slots hold.
 */
static void *fill_thread(void *arg)
{
	struct probe *p = arg;
	__u32 *keys = xcalloc((size_t)p->nrings, sizeof(*keys));
	__u32 count = (__u32)p->nrings;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int err;

	for (int i = 0; i < p->nrings; i++)
		keys[i] = (__u32)i;
	err = bpf_map_update_batch(p->outer_fd, keys, p->ring_fds, &count, &opts);
	if (err) {
		/* Kernels before batch support for arrays of maps: one update each. */
		err = 0;
		for (int i = 0; i < p->nrings && !err; i++)
			err = bpf_map_update_elem(p->outer_fd, &keys[i], &p->ring_fds[i], BPF_ANY);
		if (err)
			err = -errno;
	}
	free(keys);
	p->fill_err = err;
	return NULL;
}

/* The per-CPU rings in their slots, or why not. */
static int fill_wait(struct probe *p)
{
	if (p->filling) {
		pthread_join(p->filler, NULL);
		p->filling = 0;
	}
	return p->fill_err;
}

/*
 * Size the rings before load: per CPU when possible, else one shared ring of
 * the same total. The array of maps is made here, from a template ring of the
 * right size (libbpf 1.1 cannot resize its own template), and handed to libbpf;
 * without per-CPU support its template is a plain array, which every kernel takes.
 */
static int size_rings(struct probe *p, struct tcpdrop_bpf *skel, struct tcpdrop_config *cfg,
		      size_t per_cpu)
{
	size_t page = (size_t)getpagesize(), pow = page;
	/* The shared fallback gets the room of a few CPUs' rings, not of all of them. */
	size_t want = p->percpu ? per_cpu : per_cpu * (size_t)(p->ncpus < 8 ? p->ncpus : 8);
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int tmpl, err = 0;

	while (pow * 2 <= want && pow < (1u << 30))
		pow *= 2;
	p->ring_bytes = pow;
	cfg->percpu_rings = (__u8)p->percpu;
	if (p->percpu)
		tmpl = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, (__u32)pow, NULL);
	else
		tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32), sizeof(__u32), 1,
				      NULL);
	if (tmpl < 0)
		return -errno;
	opts.inner_map_fd = (__u32)tmpl;
	p->outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "rings", sizeof(__u32),
				     sizeof(__u32), p->percpu ? (__u32)p->ncpus : 1, &opts);
	if (p->outer_fd < 0)
		err = -errno;
	close(tmpl);
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.rings, p->outer_fd);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.events, (__u32)(p->percpu ? page : pow));
	if (err || !p->percpu)
		return err;
	p->ring_fds = xcalloc((size_t)p->ncpus, sizeof(int));
	for (int cpu = 0; cpu < p->ncpus; cpu++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, (__u32)pow, NULL);

		if (fd < 0)
			return -errno;
		p->ring_fds[p->nrings++] = fd;
	}
	err = -pthread_create(&p->filler, NULL, fill_thread, p);
	p->filling = !err;
	return err;
}

/* After load: the shared ring is libbpf's; per-CPU ones must be in their slots by now. */
static int fill_rings(struct probe *p, struct tcpdrop_bpf *skel)
{
	if (!p->percpu) {
		p->ring_fds = xcalloc(1, sizeof(int));
		p->ring_fds[0] = bpf_map__fd(skel->maps.events);
		p->nrings = 1;
		return 0;
	}
	return fill_wait(p);
}

static void close_rings(struct probe *p)
{
	fill_wait(p);
	for (int i = 0; p->percpu && i < p->nrings; i++)
		close(p->ring_fds[i]);
	free(p->ring_fds);
	p->ring_fds = NULL;
	p->nrings = 0;
	if (p->outer_fd >= 0)
		close(p->outer_fd);
	p->outer_fd = -1;
}

/* What one load attaches: a kfree_skb (or tcp_drop) program, the pair, or both. */
struct plan {
	enum probe_mode mode; /* PROBE_AUTO: no such program, the pair alone */
	int cast; /* tp_btf: the program that needs bpf_rdonly_cast */
	enum pair_kind pair;
	int owners; /* the programs that record sockets' owners (bpf/owner.h) */
	enum listen_part listen; /* a listen probe alone, of kind listen_kind */
	enum pair_kind listen_kind;
	int ack_nargs; /* LISTEN_PART_ACK: tcp_v4/v6_syn_recv_sock's arguments */
};

/*
 * The owner's programs: where each fails to attach (no tracefs, no syscall events), drops
 * are reported with fewer owners known, and -v says so. The send/receive pair only on kernels
 * with those tracepoints (6.3+): a tp_btf program fails to load without its tracepoint.
 */
static int owner_progs(struct tcpdrop_bpf *skel, const struct kernel_facts *kf,
		       struct bpf_program *progs[MAX_LINKS])
{
	int n = 0;

	progs[n++] = skel->progs.tcpdrop_owner_state;
	progs[n++] = skel->progs.tcpdrop_owner_accept4;
	progs[n++] = skel->progs.tcpdrop_owner_accept;
	if (kf && kf->has_sock_length) {
		progs[n++] = skel->progs.tcpdrop_owner_send;
		progs[n++] = skel->progs.tcpdrop_owner_recv;
	}
	return n;
}

/* A listen part's entry/exit pairs (bpf/listen.h); the exits attach first, as the pair's do. */
static int listen_progs(struct tcpdrop_bpf *skel, const struct plan *pl, struct bpf_program **progs)
{
	int fentry = pl->listen_kind == PAIR_FENTRY, n = 0;

	if (pl->listen == LISTEN_PART_SYN) {
		progs[n++] = fentry ? skel->progs.tcpdrop_listen_syn_fexit
				    : skel->progs.tcpdrop_listen_syn_kretprobe;
		progs[n++] = fentry ? skel->progs.tcpdrop_listen_syn_fentry
				    : skel->progs.tcpdrop_listen_syn_kprobe;
	} else if (pl->listen == LISTEN_PART_ACK) {
		int seven = pl->ack_nargs == 7;

		progs[n++] = !fentry ? skel->progs.tcpdrop_listen_ack4_kretprobe
			     : seven ? skel->progs.tcpdrop_listen_ack4_fexit7
				     : skel->progs.tcpdrop_listen_ack4_fexit6;
		progs[n++] = fentry ? skel->progs.tcpdrop_listen_ack4_fentry
				    : skel->progs.tcpdrop_listen_ack4_kprobe;
		progs[n++] = !fentry ? skel->progs.tcpdrop_listen_ack6_kretprobe
			     : seven ? skel->progs.tcpdrop_listen_ack6_fexit7
				     : skel->progs.tcpdrop_listen_ack6_fexit6;
		progs[n++] = fentry ? skel->progs.tcpdrop_listen_ack6_fentry
				    : skel->progs.tcpdrop_listen_ack6_kprobe;
	}
	return n;
}

static int plan_progs(struct tcpdrop_bpf *skel, const struct plan *pl,
		      struct bpf_program *progs[MAX_LINKS])
{
	int n = 0;

	switch (pl->mode) {
	case PROBE_TP_BTF:
		progs[n++] =
			pl->cast ? skel->progs.tcpdrop_tp_btf : skel->progs.tcpdrop_tp_btf_compat;
		break;
	case PROBE_RAW_TP:
		progs[n++] = skel->progs.tcpdrop_raw_tp;
		break;
	case PROBE_TRACEPOINT:
		progs[n++] = skel->progs.tcpdrop_tracepoint;
		break;
	case PROBE_KPROBE:
		progs[n++] = skel->progs.tcpdrop_kprobe;
		break;
	case PROBE_FENTRY:
		progs[n++] = skel->progs.tcpdrop_fentry;
		break;
	default:
		break;
	}
	if (pl->pair == PAIR_FENTRY) {
		progs[n++] = skel->progs.tcpdrop_pair_fentry;
		progs[n++] = skel->progs.tcpdrop_pair_fexit;
	} else if (pl->pair == PAIR_KPROBE) {
		/*
		 * The kretprobe first: kprobes without a post handler registered
		 * later on the same address run earlier, so the entry's stack still
		 * has the real caller, not the kretprobe's trampoline (5.10 cannot
		 * unwind through that).
		 */
		progs[n++] = skel->progs.tcpdrop_pair_kretprobe;
		progs[n++] = skel->progs.tcpdrop_pair_kprobe;
	}
	n += listen_progs(skel, pl, progs + n);
	return n;
}

static const char *explain(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return "permission denied (refused by the verifier, a security module, or a kernel "
		       "without this kind of hook: fentry needs BPF trampolines)";
	case 524: /* ENOTSUPP, kernel-internal */
	case EOPNOTSUPP:
		return "not supported by this kernel";
	case ENOENT:
		return "the hook does not exist in this kernel";
	default:
		return strerror(-err);
	}
}

/* kcount table t's generation g. */
static struct bpf_map *kc_table(struct tcpdrop_bpf *skel, int t, int g)
{
	struct bpf_map *m[TCPDROP_KC_MAX_TABLES][2] = {
		{ skel->maps.kc_t0g0, skel->maps.kc_t0g1 },
		{ skel->maps.kc_t1g0, skel->maps.kc_t1g1 },
		{ skel->maps.kc_t2g0, skel->maps.kc_t2g1 },
		{ skel->maps.kc_t3g0, skel->maps.kc_t3g1 },
	};

	return m[t][g];
}

/*
 * The kcount settings into cfg and each table's size; tables not in use keep one entry. Counting
 * only, the probe takes no stack nor packet, and the rings (which stay, empty) need one page.
 */
static int size_kcount(struct tcpdrop_bpf *skel, const struct probe_opts *po,
		       struct tcpdrop_config *cfg)
{
	int err = 0;

	if (po->n_kc > TCPDROP_KC_MAX_TABLES)
		return -EINVAL;
	cfg->kc_tables = (__u8)po->n_kc;
	cfg->kc_only = (__u8)(po->n_kc && po->kc_only);
	if (cfg->kc_only) {
		cfg->want_stack = 0;
		cfg->want_pkt = 0;
	}
	for (unsigned int t = 0; t < po->n_kc && !err; t++) {
		if (po->kc[t].keys & ~(uint32_t)TCPDROP_KC_ALL)
			return -EINVAL;
		cfg->kc_keys[t] = po->kc[t].keys;
		kcount__mask(&cfg->kc_mask[t], po->kc[t].keys);
		for (int g = 0; g < 2 && !err; g++)
			err = bpf_map__set_max_entries(kc_table(skel, (int)t, g),
						       kcount__max_keys(&po->kc[t]));
	}
	return err;
}

/* The maps events travel through, from the probe already loaded. */
static int share_maps(struct tcpdrop_bpf *skel, struct tcpdrop_bpf *base)
{
	int err = bpf_map__reuse_fd(skel->maps.events, bpf_map__fd(base->maps.events));

	if (!err)
		err = bpf_map__reuse_fd(skel->maps.rings, bpf_map__fd(base->maps.rings));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.stats, bpf_map__fd(base->maps.stats));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.budgets, bpf_map__fd(base->maps.budgets));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.kc_gen, bpf_map__fd(base->maps.kc_gen));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.kc_over, bpf_map__fd(base->maps.kc_over));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.kc_cache, bpf_map__fd(base->maps.kc_cache));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.kc_busy, bpf_map__fd(base->maps.kc_busy));
	for (int t = 0; t < TCPDROP_KC_MAX_TABLES * 2 && !err; t++)
		err = bpf_map__reuse_fd(kc_table(skel, t / 2, t % 2),
					bpf_map__fd(kc_table(base, t / 2, t % 2)));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.owner_ids, bpf_map__fd(base->maps.owner_ids));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.owners, bpf_map__fd(base->maps.owners));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.owners_tw, bpf_map__fd(base->maps.owners_tw));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.listen_stashes,
					bpf_map__fd(base->maps.listen_stashes));
	if (!err)
		err = bpf_map__reuse_fd(skel->maps.listen_marks,
					bpf_map__fd(base->maps.listen_marks));
	return err;
}

/*
 * Load the plan's programs and attach them. Alone (base NULL) the load owns the
 * rings and counters; added to base (the pair beside a kfree_skb probe) it
 * writes into base's, so that the core reads one set.
 */
static int load_plan(struct probe *p, const struct probe_opts *po, const struct plan *pl,
		     const struct kernel_facts *kf, struct tcpdrop_bpf *base, char *why, size_t len)
{
	struct tcpdrop_bpf *skel;
	struct bpf_program *progs[MAX_LINKS], *oprogs[MAX_LINKS], *prog;
	struct tcpdrop_config cfg = { .filter = po->filter,
				      .stack_rate = po->stack_rate,
				      .snaplen = po->snaplen,
				      .want_stack = (__u8) !!po->want_stack,
				      .want_pkt = (__u8) !!po->want_pkt,
				      .owners = (__u8)!po->no_owners };
	int n, no = 0, err, first_link = p->nlinks;

	skel = tcpdrop_bpf__open();
	if (!skel) {
		err = -errno;
		snprintf(why, len, "cannot open the BPF object: %s", explain(err));
		return err;
	}
	cfg.tp_nargs = (__u8)p->tp_nargs;
	err = size_kcount(skel, po, &cfg);
	if (err) {
		snprintf(why, len, "cannot size the kcount tables: %s", explain(err));
		goto fail;
	}
	/* bpf/owner_filter.h: rodata says whether it is on; a map that is not used holds one entry.
	 */
	skel->rodata->owner_filter = (__u8) !!po->owner_filter;
	if (!po->owner_filter && !base)
		bpf_map__set_max_entries(skel->maps.owner_ids, 1);
	/* No owners tracked: their tables stay empty (an LRU hash preallocates every entry). */
	if (po->no_owners && !base) {
		bpf_map__set_max_entries(skel->maps.owners, 1);
		bpf_map__set_max_entries(skel->maps.owners_tw, 1);
	}
	if (base) {
		err = share_maps(skel, base);
		cfg.percpu_rings = (__u8)p->percpu;
	} else {
		err = size_rings(p, skel, &cfg,
				 cfg.kc_only ? (size_t)getpagesize() : po->ring_bytes);
	}
	if (err) {
		snprintf(why, len, "cannot set up the ring buffers: %s", explain(err));
		goto fail;
	}
	if (pl->pair) {
		/* Entries live from a call's start to its end: a few per CPU at a time. */
		err = bpf_map__set_max_entries(skel->maps.pending, (__u32)p->ncpus * 64);
		if (err) {
			snprintf(why, len, "cannot size the map of pending drops: %s",
				 explain(err));
			goto fail;
		}
		cfg.pair_loc = p->pair_loc;
	}
	/* The probe asks for a wake-up once a quarter of its ring is waiting. */
	cfg.wakeup_bytes = (__u32)(p->ring_bytes / 4);
	memcpy((void *)&skel->rodata->cfg, &cfg, sizeof(cfg));
	memcpy((void *)&skel->rodata->listen_cfg, &p->listen_cfg, sizeof(p->listen_cfg));
	n = plan_progs(skel, pl, progs);
	if (pl->owners && !po->no_owners)
		no = owner_progs(skel, kf, oprogs);
	for (prog = bpf_object__next_program(skel->obj, NULL); prog;
	     prog = bpf_object__next_program(skel->obj, prog)) {
		int want = 0;

		for (int i = 0; i < n; i++)
			want |= prog == progs[i];
		for (int i = 0; i < no; i++)
			want |= prog == oprogs[i];
		bpf_program__set_autoload(prog, want);
	}
	timing_mark("BPF object opened, rings sized");
	err = tcpdrop_bpf__load(skel);
	timing_mark("BPF object loaded");
	if (!err && !base)
		err = fill_rings(p, skel);
	timing_mark("rings made");
	if (err && pl->listen) {
		snprintf(why, len, "cannot load: %s", explain(err));
		goto fail;
	}
	if (pl->listen && (err = listen__addrs(&skel->bss->listen_addrs, why, len)))
		goto fail;
	if (err) {
		if (pl->pair)
			snprintf(why, len, "cannot load %s on tcp_validate_incoming: %s",
				 plan__pair_name(pl->pair), explain(err));
		else
			snprintf(why, len, "cannot load: %s", explain(err));
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		struct bpf_link *link = bpf_program__attach(progs[i]);

		if (!link) {
			err = -errno;
			snprintf(why, len, "cannot attach %s: %s",
				 bpf_program__section_name(progs[i]), explain(err));
			goto fail;
		}
		p->links[p->nlinks++] = link;
	}
	for (int i = 0; i < no; i++) {
		struct bpf_link *link;

		if (!strncmp(bpf_program__section_name(oprogs[i]), "tracepoint/", 11))
			tracefs_ensure();
		link = bpf_program__attach(oprogs[i]);
		if (link)
			p->links[p->nlinks++] = link;
		else /* a syscall event needs tracefs, which CAP_BPF and CAP_PERFMON do not open */
			vmsg("owners: cannot attach %s (%s): fewer owners will be known",
			     bpf_program__section_name(oprogs[i]), strerror(errno));
	}
	if (pl->listen) {
		p->listen_skel[pl->listen - 1] = skel;
	} else if (base) {
		p->pair_skel = skel;
	} else {
		int fds[TCPDROP_KC_MAX_TABLES][2];

		for (unsigned int t = 0; t < po->n_kc; t++)
			for (int g = 0; g < 2; g++)
				fds[t][g] = bpf_map__fd(kc_table(skel, (int)t, g));
		p->skel = skel;
		if (po->n_kc)
			p->kc = kcount__new(po->kc, po->n_kc, p->ncpus, (const int(*)[2])fds,
					    bpf_map__fd(skel->maps.kc_gen),
					    bpf_map__fd(skel->maps.kc_over),
					    bpf_map__fd(skel->maps.kc_cache));
	}
	return 0;
fail:
	while (p->nlinks > first_link)
		bpf_link__destroy(p->links[--p->nlinks]);
	if (!base)
		close_rings(p);
	tcpdrop_bpf__destroy(skel);
	return err;
}

/*
 * One mode on its own. kprobe and fentry watch tcp_drop() where it exists,
 * else tcp_validate_incoming() with the pair, which sees what TCP itself
 * refuses there (out-of-window segments, bad SYNs and RSTs, PAWS).
 */
static int load_mode(struct probe *p, const struct probe_opts *po, const struct kernel_facts *kf,
		     enum probe_mode m, char *why, size_t len)
{
	struct plan pl = { .mode = m, .owners = 1 };

	p->pair = PAIR_NONE;
	if (m == PROBE_TP_BTF && kf->has_rdonly_cast) {
		/* The program that reads headers in place is only faster: never needed. */
		pl.cast = 1;
		if (!load_plan(p, po, &pl, kf, NULL, why, len))
			return 0;
		vmsg("probe tp_btf with bpf_rdonly_cast: %s; the plain one next", why);
		pl.cast = 0;
	}
	if ((m == PROBE_KPROBE && !plan__tcp_drop()) || (m == PROBE_FENTRY && !kf->has_tcp_drop)) {
		enum pair_kind k = m == PROBE_KPROBE ? PAIR_KPROBE : PAIR_FENTRY;

		if (!plan__pair_possible(k, kf, &p->pair_loc, why, len))
			return -ENOENT;
		pl.mode = PROBE_AUTO;
		pl.pair = k;
		p->pair = k;
	}
	return load_plan(p, po, &pl, kf, NULL, why, len);
}

/*
 * Beside a kfree_skb probe without reasons: the pair, which sees the drops
 * TCP makes with __kfree_skb() there. They never reach the tracepoint, so
 * nothing is counted twice. fentry first (cheaper, and a kretprobe's stack on
 * such kernels is only its trampoline), else kprobes.
 */
static void add_pair(struct probe *p, const struct probe_opts *po, const struct kernel_facts *kf)
{
	static const enum pair_kind kinds[] = { PAIR_FENTRY, PAIR_KPROBE };
	char why[256], all[600] = "";

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t used = strlen(all);

		if (plan__pair_possible(kinds[i], kf, &p->pair_loc, why, sizeof(why))) {
			struct plan pl = { .mode = PROBE_AUTO, .pair = kinds[i] };

			if (!load_plan(p, po, &pl, kf, p->skel, why, sizeof(why))) {
				p->pair = kinds[i];
				return;
			}
		}
		vmsg("probe %s on tcp_validate_incoming: %s", plan__pair_name(kinds[i]), why);
		snprintf(all + used, sizeof(all) - used, "%s%s: %s", used ? "; " : "",
			 plan__pair_name(kinds[i]), why);
	}
	vmsg("drops inside TCP (tcp_validate_incoming, via tcp_drop) are not visible on this "
	     "kernel (%s)",
	     all);
}

/*
 * Beside the drop probe: the listen-overflow probes, each part with the first kind that loads.
 * A final ACK the kernel frees at kfree_skb (where the drop probe is) is marked for it there, so
 * that it makes one event; elsewhere the probe sends it. One line with -v: what each part has.
 */
static void add_listen(struct probe *p, const struct probe_opts *po, const struct kernel_facts *kf,
		       int kfree_skb)
{
	static const enum pair_kind kinds[] = { PAIR_FENTRY, PAIR_KPROBE };
	char why[256], line[1200] = "";
	size_t used = 0;

	for (enum listen_part part = LISTEN_PART_SYN; part <= LISTEN_PART_ACK; part++) {
		char tried[600] = "";
		size_t t = 0;

		if (!listen__wanted(part, kf, kfree_skb, why, sizeof(why))) {
			if (part == LISTEN_PART_ACK && kf->listen.kernel_code >= 0 && kfree_skb)
				p->listen_sees |= LISTEN_SEES_ACK;
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s: %s",
						 used ? "; " : "", listen__part_name(part), why);
			continue;
		}
		p->listen_cfg.ack_emit = part == LISTEN_PART_ACK && !kfree_skb;
		for (size_t i = 0; i < ARRAY_SIZE(kinds) && !p->listen[part - 1]; i++) {
			struct plan pl = { .mode = PROBE_AUTO,
					   .listen = part,
					   .listen_kind = kinds[i],
					   .ack_nargs = kf->listen.ack_nargs };

			if (listen__possible(kinds[i], kf, why, sizeof(why)) &&
			    !load_plan(p, po, &pl, kf, p->skel, why, sizeof(why))) {
				p->listen[part - 1] = kinds[i];
				break;
			}
			t += (size_t)snprintf(tried + t, sizeof(tried) - t, "%s%s: %s",
					      t ? "; " : "", plan__pair_name(kinds[i]), why);
		}
		if (p->listen[part - 1]) {
			p->listen_sees |=
				part == LISTEN_PART_SYN ? LISTEN_SEES_SYN : LISTEN_SEES_ACK;
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s: %s",
						 used ? "; " : "", listen__part_name(part),
						 plan__pair_name(p->listen[part - 1]));
		} else {
			used += (size_t)snprintf(line + used, sizeof(line) - used,
						 "%s%s: no probe (%s)", used ? "; " : "",
						 listen__part_name(part), tried);
		}
		if (used >= sizeof(line))
			used = sizeof(line) - 1;
	}
	if (p->listen[LISTEN_PART_ACK - 1] && !p->listen_cfg.ack_emit)
		p->skel->bss->listen_marking = 1;
	vmsg("listen overflows: %s%s", line,
	     p->listen_sees & LISTEN_SEES_SYN ? ""
					      : "; the kernel's counters count them (--coverage)");
}

/*
 * The BPF object inside the binary (~700 KB) is read once per load; libbpf
 * keeps its own copies of what it needs. Once everything is loaded, the
 * pages of it we touched are given back: they stay in the page cache, clean,
 * and are read again should anything touch them.
 */
static void drop_object_pages(void)
{
	size_t len, page = (size_t)getpagesize();
	uintptr_t at = (uintptr_t)tcpdrop_bpf__elf_bytes(&len);
	uintptr_t from = (at + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t to = (at + len) & ~(uintptr_t)(page - 1);

	if (to > from)
		madvise((void *)from, to - from, MADV_DONTNEED);
}

int probe__open(const struct probe_opts *po, const struct kernel_facts *kf, struct probe **out)
{
	static const enum probe_mode order[] = { PROBE_TP_BTF, PROBE_RAW_TP, PROBE_TRACEPOINT,
						 PROBE_KPROBE };
	enum probe_mode only[1] = { po->mode };
	const enum probe_mode *modes = po->mode == PROBE_AUTO ? order : only;
	size_t nmodes = po->mode == PROBE_AUTO ? ARRAY_SIZE(order) : 1;
	struct probe *p = xcalloc(1, sizeof(*p));
	char why[256], all[1024] = "", tried[ARRAY_SIZE(order)][256 + 16];
	int err = -ENOENT;

	p->outer_fd = -1;
	listen__config(kf, &p->listen_cfg);
	/* Without BTF for the tracepoint, assume its oldest form: (skb, location). */
	p->tp_nargs = kf->tp_nargs;
	if (!p->tp_nargs)
		p->tp_nargs = 2;
	p->ncpus = libbpf_num_possible_cpus();
	p->percpu = !po->ring_shared && percpu_rings_supported();
	vmsg("ring buffers: %s", p->percpu ? "one per CPU" : "one shared");
	for (size_t i = 0; i < nmodes; i++) {
		enum probe_mode m = modes[i];
		size_t used = strlen(all);
		int tracepoint = m == PROBE_TP_BTF || m == PROBE_RAW_TP || m == PROBE_TRACEPOINT;

		why[0] = '\0';
		err = plan__precheck(m, kf, p->tp_nargs, why, sizeof(why));
		if (!err)
			err = load_mode(p, po, kf, m, why, sizeof(why));
		if (!err) {
			/* The modes that failed first; when none works, the one line below says it.
			 */
			for (size_t j = 0; j < i; j++)
				vmsg("%s", tried[j]);
			if (tracepoint && p->tp_nargs < 3 && po->mode == PROBE_AUTO)
				add_pair(p, po, kf);
			p->mode = m;
			if (tracepoint)
				vmsg("probe: %s on kfree_skb (%d tracepoint arguments)%s%s%s",
				     probe_mode_name(m), p->tp_nargs, p->pair ? " + " : "",
				     p->pair ? plan__pair_name(p->pair) : "",
				     p->pair ? " on tcp_validate_incoming" : "");
			else if (p->pair)
				vmsg("probe: %s on tcp_validate_incoming (drops inside TCP only)",
				     plan__pair_name(p->pair));
			else
				vmsg("probe: %s on tcp_drop", probe_mode_name(m));
			add_listen(p, po, kf, tracepoint);
			drop_object_pages();
			*out = p;
			return 0;
		}
		snprintf(tried[i], sizeof(tried[i]), "probe %s: %s", probe_mode_name(m), why);
		snprintf(all + used, sizeof(all) - used, "%s%s: %s", used ? "; " : "",
			 probe_mode_name(m), why);
	}
	if (po->mode == PROBE_AUTO)
		msg("no usable probe (%s)", all);
	else
		msg("--probe %s%s", all, verbose ? "" : " (-v shows libbpf's log)");
	free(p);
	return err;
}

void probe__close(struct probe *p)
{
	if (!p)
		return;
	while (p->nlinks)
		bpf_link__destroy(p->links[--p->nlinks]);
	close_rings(p);
	kcount__free(p->kc);
	tcpdrop_bpf__destroy(p->listen_skel[0]);
	tcpdrop_bpf__destroy(p->listen_skel[1]);
	tcpdrop_bpf__destroy(p->pair_skel);
	tcpdrop_bpf__destroy(p->skel);
	free(p);
}

int probe__rings(const struct probe *p, const int **fds)
{
	*fds = p->ring_fds;
	return p->nrings;
}

int probe__listen(const struct probe *p)
{
	return p->listen_sees;
}

enum probe_mode probe__mode(const struct probe *p)
{
	return p->mode;
}

int probe__tp_args(const struct probe *p)
{
	return p->tp_nargs;
}

int probe__read_stat_percpu(const struct probe *p, unsigned int stat, uint64_t *out)
{
	__u32 key = stat;

	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.stats), &key, out))
		return -errno;
	return p->ncpus;
}

int probe__owner_set(struct probe *p, const struct tcpdrop_owner_key *keys, unsigned int n)
{
	int fd = bpf_map__fd(p->skel->maps.owner_ids);
	struct tcpdrop_owner_key k, next;
	const __u8 one = 1;
	int err = 0, more;

	for (unsigned int i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &keys[i], &one, BPF_ANY))
			return -errno;
	/* Then the ones that are not in keys; a deleted key's successor is looked up from it. */
	more = !bpf_map_get_next_key(fd, NULL, &k);
	while (more) {
		unsigned int i;

		more = !bpf_map_get_next_key(fd, &k, &next);
		for (i = 0; i < n; i++)
			if (keys[i].id == k.id && keys[i].kind == k.kind)
				break;
		if (i == n && bpf_map_delete_elem(fd, &k) && errno != ENOENT)
			err = -errno;
		k = next;
	}
	return err;
}

int probe__read_stats(const struct probe *p, uint64_t out[TCPDROP_STAT_MAX])
{
	uint64_t *percpu = xcalloc((size_t)p->ncpus, sizeof(*percpu));
	int err = 0;

	for (unsigned int s = 0; s < TCPDROP_STAT_MAX && !err; s++) {
		out[s] = 0;
		err = probe__read_stat_percpu(p, s, percpu);
		if (err > 0) {
			for (int c = 0; c < p->ncpus; c++)
				out[s] += percpu[c];
			err = 0;
		}
	}
	free(percpu);
	return err;
}

int probe__kcount_collect(struct probe *p)
{
	return p->kc ? kcount__collect(p->kc) : 0;
}

int probe__kcount_take(struct probe *p, unsigned int t, kcount_fn fn, void *ctx, uint64_t *overflow)
{
	*overflow = 0;
	return p->kc ? kcount__take(p->kc, t, fn, ctx, overflow) : -EINVAL;
}
