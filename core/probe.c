/* Loading the drop probe: choose the best hook this kernel offers, set filters, attach. */
#include "probe.h"
#include "kbtf.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcpdrop.skel.h"

struct probe {
	struct tcpdrop_bpf *skel;
	struct bpf_link *link;
	enum probe_mode mode;
	int tp_nargs;
	int ncpus;
	int *ring_fds; /* one per CPU, or the shared ring alone */
	int nrings;
	int percpu;
	size_t ring_bytes; /* each ring's size */
	int tmpl_fd; /* inner map template, needed until load */
};

#define CAP_SYS_ADMIN 21
#define CAP_PERFMON 38
#define CAP_BPF 39

int probe__check_privileges(char *why, size_t len)
{
	char *status = read_file("/proc/self/status", 1 << 16, NULL);
	unsigned long long eff = 0;
	char *p;

	if (status && (p = strstr(status, "\nCapEff:")))
		eff = strtoull(p + 8, NULL, 16);
	free(status);
	if ((eff >> CAP_SYS_ADMIN) & 1)
		return 0;
	if (((eff >> CAP_BPF) & 1) && ((eff >> CAP_PERFMON) & 1))
		return 0;
	snprintf(why, len,
		 "tracing needs root, or CAP_BPF and CAP_PERFMON (try sudo; replaying a file "
		 "with -r does not)");
	return -EPERM;
}

int probe__tp_nargs(const struct kbtf *btf)
{
	uint32_t id;
	int kind;

	if (!btf)
		return 0;
	id = kbtf__find(btf, "btf_trace_kfree_skb", KBTF_TYPEDEF);
	while (id && ((kind = kbtf__kind(btf, id)) == KBTF_TYPEDEF || kind == KBTF_PTR))
		id = kbtf__ref(btf, id);
	if (!id || kbtf__kind(btf, id) != KBTF_FUNC_PROTO || kbtf__vlen(btf, id) < 1)
		return 0;
	return kbtf__vlen(btf, id) - 1; /* the first argument is the tracepoint's own data */
}

void probe__facts(const struct kbtf *btf, struct kernel_facts *kf)
{
	kf->has_btf = btf != NULL;
	kf->tp_nargs = probe__tp_nargs(btf);
	kf->has_tcp_drop = btf && kbtf__find(btf, "tcp_drop", KBTF_FUNC);
	kf->has_rdonly_cast = btf && kbtf__find(btf, "bpf_rdonly_cast", KBTF_FUNC);
}

int tracefs_ensure(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) ||
	    !stat("/sys/kernel/debug/tracing/events", &st))
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) && errno != EBUSY)
		return -errno;
	return stat("/sys/kernel/tracing/events", &st) ? -ENOENT : 0;
}

static int kallsyms_has(const char *name)
{
	char line[512];
	size_t len = strlen(name);
	FILE *f = fopen("/proc/kallsyms", "re");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *sym = strchr(line, ' ');

		if (sym && sym[1] && sym[2] == ' ' && !strncmp(sym + 3, name, len) &&
		    (sym[3 + len] == '\n' || sym[3 + len] == '\t'))
			found = 1;
	}
	fclose(f);
	return found;
}

/* What must hold before a mode is worth loading; fills why when it does not. */
static int precheck(enum probe_mode m, const struct kernel_facts *kf, int tp_nargs, char *why,
		    size_t len)
{
	struct stat st;

	switch (m) {
	case PROBE_TP_BTF:
		if (!kf->has_btf) {
			snprintf(why, len, "the kernel has no BTF");
			return -ENOENT;
		}
		if (!tp_nargs) {
			snprintf(why, len, "no kfree_skb tracepoint in the kernel's BTF");
			return -ENOENT;
		}
		return 0;
	case PROBE_RAW_TP:
		return 0;
	case PROBE_TRACEPOINT:
		if (tracefs_ensure()) {
			snprintf(why, len, "tracefs is not mounted and cannot be");
			return -ENOENT;
		}
		if (stat("/sys/kernel/tracing/events/skb/kfree_skb", &st) &&
		    stat("/sys/kernel/debug/tracing/events/skb/kfree_skb", &st)) {
			snprintf(why, len, "no skb:kfree_skb tracepoint");
			return -ENOENT;
		}
		return 0;
	case PROBE_KPROBE:
		tracefs_ensure();
		if (stat("/sys/bus/event_source/devices/kprobe", &st) &&
		    stat("/sys/kernel/tracing/kprobe_events", &st) &&
		    stat("/sys/kernel/debug/tracing/kprobe_events", &st)) {
			snprintf(why, len, "this kernel has no kprobes (CONFIG_KPROBES is off)");
			return -EOPNOTSUPP;
		}
		if (!kallsyms_has("tcp_drop")) {
			snprintf(why, len,
				 "tcp_drop() is not in this kernel (inlined, or gone since 5.17 "
				 "where drop reasons replaced it)");
			return -ENOENT;
		}
		return 0;
	case PROBE_FENTRY:
		if (!kf->has_tcp_drop) {
			snprintf(why, len,
				 "tcp_drop() is not in this kernel's BTF (inlined, or gone since "
				 "5.17 where drop reasons replaced it)");
			return -ENOENT;
		}
		return 0;
	default:
		snprintf(why, len, "unknown mode");
		return -EINVAL;
	}
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
 * Size the rings before load: per CPU when possible, else one shared ring of
 * the same total. The array of maps takes its inner map's shape from a
 * template fd of ours (libbpf 1.1 cannot resize its own template); without
 * per-CPU support the template is a plain array, which every kernel takes.
 */
static int size_rings(struct probe *p, struct tcpdrop_bpf *skel, struct tcpdrop_config *cfg,
		      size_t per_cpu)
{
	size_t page = (size_t)getpagesize(), pow = page;
	/* The shared fallback gets the room of a few CPUs' rings, not of all of them. */
	size_t want = p->percpu ? per_cpu : per_cpu * (size_t)(p->ncpus < 8 ? p->ncpus : 8);
	int tmpl, err;

	while (pow * 2 <= want && pow < (1u << 30))
		pow *= 2;
	if (p->percpu)
		tmpl = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, (__u32)pow, NULL);
	else
		tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32), sizeof(__u32), 1,
				      NULL);
	if (tmpl < 0)
		return -errno;
	err = bpf_map__set_inner_map_fd(skel->maps.rings, tmpl);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.rings, p->percpu ? (__u32)p->ncpus : 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.events, (__u32)(p->percpu ? page : pow));
	/* libbpf keeps using the template fd until load: close it after. */
	p->tmpl_fd = tmpl;
	p->ring_bytes = pow;
	cfg->percpu_rings = (__u8)p->percpu;
	return err;
}

/* After load: make one ring per CPU and put it in its slot. */
static int fill_rings(struct probe *p, struct tcpdrop_bpf *skel)
{
	if (!p->percpu) {
		p->ring_fds = xcalloc(1, sizeof(int));
		p->ring_fds[0] = bpf_map__fd(skel->maps.events);
		p->nrings = 1;
		return 0;
	}
	p->ring_fds = xcalloc((size_t)p->ncpus, sizeof(int));
	for (int cpu = 0; cpu < p->ncpus; cpu++) {
		__u32 key = (__u32)cpu;
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, (__u32)p->ring_bytes,
					NULL);

		if (fd < 0)
			return -errno;
		p->ring_fds[p->nrings++] = fd;
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.rings), &key, &fd, BPF_ANY))
			return -errno;
	}
	return 0;
}

static void close_rings(struct probe *p)
{
	for (int i = 0; p->percpu && i < p->nrings; i++)
		close(p->ring_fds[i]);
	free(p->ring_fds);
	p->ring_fds = NULL;
	p->nrings = 0;
}

static struct bpf_program *prog_for(struct tcpdrop_bpf *skel, enum probe_mode m, int cast)
{
	switch (m) {
	case PROBE_TP_BTF:
		return cast ? skel->progs.tcpdrop_tp_btf : skel->progs.tcpdrop_tp_btf_compat;
	case PROBE_RAW_TP:
		return skel->progs.tcpdrop_raw_tp;
	case PROBE_TRACEPOINT:
		return skel->progs.tcpdrop_tracepoint;
	case PROBE_KPROBE:
		return skel->progs.tcpdrop_kprobe;
	case PROBE_FENTRY:
		return skel->progs.tcpdrop_fentry;
	default:
		return NULL;
	}
}

static const char *explain(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return "permission denied (the verifier or a security module refused it)";
	case 524: /* ENOTSUPP, kernel-internal */
	case EOPNOTSUPP:
		return "not supported by this kernel";
	case ENOENT:
		return "the hook does not exist in this kernel";
	default:
		return strerror(-err);
	}
}

static int try_mode(struct probe *p, const struct probe_opts *po, enum probe_mode m, int cast,
		    char *why, size_t len)
{
	struct tcpdrop_bpf *skel;
	struct bpf_program *prog, *chosen;
	struct tcpdrop_config cfg = po->cfg;
	int err;

	skel = tcpdrop_bpf__open();
	if (!skel) {
		err = -errno;
		snprintf(why, len, "cannot open the BPF object: %s", explain(err));
		return err;
	}
	cfg.tp_nargs = (__u8)p->tp_nargs;
	p->tmpl_fd = -1;
	err = size_rings(p, skel, &cfg, po->ring_bytes);
	if (err) {
		snprintf(why, len, "cannot size the ring buffers: %s", explain(err));
		goto fail;
	}
	/* The probe asks for a wake-up once a quarter of its ring is waiting. */
	cfg.wakeup_bytes = (__u32)(p->ring_bytes / 4);
	memcpy((void *)&skel->rodata->cfg, &cfg, sizeof(cfg));
	chosen = prog_for(skel, m, cast);
	for (prog = bpf_object__next_program(skel->obj, NULL); prog;
	     prog = bpf_object__next_program(skel->obj, prog))
		bpf_program__set_autoload(prog, prog == chosen);
	err = tcpdrop_bpf__load(skel);
	close(p->tmpl_fd);
	p->tmpl_fd = -1;
	if (!err)
		err = fill_rings(p, skel);
	if (err) {
		snprintf(why, len, "cannot load: %s", explain(err));
		goto fail;
	}
	p->link = bpf_program__attach(chosen);
	if (!p->link) {
		err = -errno;
		snprintf(why, len, "cannot attach: %s", explain(err));
		goto fail;
	}
	p->skel = skel;
	p->mode = m;
	return 0;
fail:
	if (p->tmpl_fd >= 0)
		close(p->tmpl_fd);
	p->tmpl_fd = -1;
	close_rings(p);
	tcpdrop_bpf__destroy(skel);
	return err;
}

/* tp_btf has a faster program for kernels with bpf_rdonly_cast, never a needed one. */
static int load_mode(struct probe *p, const struct probe_opts *po, const struct kernel_facts *kf,
		     enum probe_mode m, char *why, size_t len)
{
	if (m == PROBE_TP_BTF && kf->has_rdonly_cast) {
		if (!try_mode(p, po, m, 1, why, len))
			return 0;
		vmsg("probe tp_btf with bpf_rdonly_cast: %s; the plain one next", why);
	}
	return try_mode(p, po, m, 0, why, len);
}

int probe__open(const struct probe_opts *po, const struct kernel_facts *kf, struct probe **out)
{
	static const enum probe_mode order[] = { PROBE_TP_BTF, PROBE_RAW_TP, PROBE_TRACEPOINT,
						 PROBE_KPROBE };
	enum probe_mode only[1] = { po->mode };
	const enum probe_mode *modes = po->mode == PROBE_AUTO ? order : only;
	size_t nmodes = po->mode == PROBE_AUTO ? ARRAY_SIZE(order) : 1;
	struct probe *p = xcalloc(1, sizeof(*p));
	char why[256], all[1024] = "";
	int err = -ENOENT;

	/* Without BTF for the tracepoint, assume its oldest form: (skb, location). */
	p->tp_nargs = kf->tp_nargs;
	if (!p->tp_nargs)
		p->tp_nargs = 2;
	p->ncpus = libbpf_num_possible_cpus();
	/* TCPDROP_RING=shared forces the fallback, so that tests cover it on any kernel. */
	p->percpu = !(getenv("TCPDROP_RING") && !strcmp(getenv("TCPDROP_RING"), "shared")) &&
		    percpu_rings_supported();
	vmsg("ring buffers: %s", p->percpu ? "one per CPU" : "one shared");
	for (size_t i = 0; i < nmodes; i++) {
		enum probe_mode m = modes[i];
		size_t used = strlen(all);

		why[0] = '\0';
		err = precheck(m, kf, p->tp_nargs, why, sizeof(why));
		if (!err)
			err = load_mode(p, po, kf, m, why, sizeof(why));
		if (!err) {
			vmsg("probe: %s on kfree_skb%s (%d tracepoint arguments)",
			     probe_mode_name(m),
			     m == PROBE_KPROBE || m == PROBE_FENTRY ? " via tcp_drop" : "",
			     p->tp_nargs);
			*out = p;
			return 0;
		}
		vmsg("probe %s: %s", probe_mode_name(m), why);
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
	bpf_link__destroy(p->link);
	close_rings(p);
	tcpdrop_bpf__destroy(p->skel);
	free(p);
}

int probe__rings(const struct probe *p, const int **fds)
{
	*fds = p->ring_fds;
	return p->nrings;
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
