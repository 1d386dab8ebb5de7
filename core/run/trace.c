/* The live source: the probe loaded and attached, its rings read into the run. */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym.h"
#include "kernel/kernel.h"
#include "run/run.h"
#include "util/util.h"

#define BATCH 1024

struct live_source {
	struct run_source s; /* first: the run hands it back */
	struct live_source_opts o;
	struct kernel_facts kf;
	struct ksyms *ks;
	struct probe *probe;
	struct live *live;
	struct run *r;
	uint64_t *lost_seen; /* per CPU: losses already reported */
	uint64_t *lost_now;
	/*
	 * The run took its last drop: the counters as they stood then, and of the losses those
	 * said before its last batch. A loss first counted at the stop cannot be told from a drop
	 * after it (the ring keeps the oldest records and refuses new ones: in a storm it fills
	 * with what came after the drops the run took).
	 */
	int frozen;
	uint64_t st[TCPDROP_STAT_MAX];
};

static int deliver_live(void *ctx, struct tcpdrop_event *ev, unsigned int n);

static int drain(struct run_source *s, struct run *r)
{
	struct live_source *ls = (struct live_source *)s;

	return live__drain(ls->live);
}

static int finish(struct run_source *s, struct run *r)
{
	struct live_source *ls = (struct live_source *)s;

	/* The events held back for time order. */
	return live__finish(ls->live);
}

/* Losses are never silent: say so on stderr as soon as the kernel counts one. */
static void report_losses(struct live_source *ls)
{
	uint64_t *cpu = ls->lost_now;
	char where[256] = "";
	size_t used = 0;
	uint64_t total = 0, fresh = 0;
	int n = ls->frozen ? libbpf_num_possible_cpus()
			   : probe__read_stat_percpu(ls->probe, TCPDROP_STAT_LOST, cpu);

	for (int c = 0; c < n; c++) {
		uint64_t d = cpu[c] - ls->lost_seen[c];

		total += cpu[c];
		if (!d)
			continue;
		fresh += d;
		if (used < sizeof(where) - 32)
			used += (size_t)snprintf(where + used, sizeof(where) - used,
						 "%s%llu on CPU %d", used ? ", " : "",
						 (unsigned long long)d, c);
		ls->lost_seen[c] = cpu[c];
	}
	if (fresh)
		msg("lost %llu events, the ring buffer was full (%s; %llu in all)",
		    (unsigned long long)fresh, where, (unsigned long long)total);
}

static void housekeeping(struct run_source *s)
{
	report_losses((struct live_source *)s);
}

static void stats(struct run_source *s, struct run_stats *rs)
{
	struct live_source *ls = (struct live_source *)s;
	uint64_t st[TCPDROP_STAT_MAX] = { 0 };

	if (ls->frozen)
		memcpy(st, ls->st, sizeof(st));
	else
		probe__read_stats(ls->probe, st);
	rs->seen = live__seen(ls->live);
	rs->lost = st[TCPDROP_STAT_LOST];
	rs->filtered_kernel = st[TCPDROP_STAT_FILTERED];
	rs->stacks_skipped = st[TCPDROP_STAT_STACK_SKIPPED];
	rs->stacks_failed = st[TCPDROP_STAT_STACK_FAILED];
	rs->counted = st[TCPDROP_STAT_COUNTED];
}

static int report(struct run_source *s, const struct run_stats *rs)
{
	struct live_source *ls = (struct live_source *)s;

	report_losses(ls);
	if (rs->counted)
		vmsg("%llu drop%s counted in the kernel", (unsigned long long)rs->counted,
		     rs->counted == 1 ? "" : "s");
	if (rs->stacks_skipped)
		msg("%llu stacks not captured: over --stack-rate %u per CPU per second",
		    (unsigned long long)rs->stacks_skipped, ls->o.stack_rate);
	if (rs->stacks_failed)
		msg("%llu stacks could not be read by the kernel",
		    (unsigned long long)rs->stacks_failed);
	return 0;
}

static int start(struct run_source *s, struct run *r, const struct run_settings *set)
{
	struct live_source *ls = (struct live_source *)s;
	struct probe_opts po = { .mode = ls->o.probe,
				 .filter = set->filter,
				 .stack_rate = ls->o.stack_rate,
				 .want_stack = !ls->o.no_stack,
				 .want_pkt = ls->o.want_pkt,
				 .snaplen = ls->o.want_pkt ? ls->o.snaplen : 0,
				 .ring_bytes = (size_t)ls->o.ring_kb << 10,
				 .ring_shared = ls->o.ring_shared };
	const struct kcount_spec *kc = run__kcount_tables(r, &po.n_kc, &po.kc_only);
	char why[256];
	int ncpus, err;

	if (probe__check_privileges(why, sizeof(why))) {
		msg("%s", why);
		return 1;
	}
	memcpy(po.kc, kc, po.n_kc * sizeof(*kc));
	/* Counting only: no event, so no stack either. */
	if (po.kc_only)
		po.want_stack = 0;
	/* Symbols load while the verifier works, not when the first stack arrives. */
	if (po.want_stack)
		ksyms__preload(ls->ks);
	err = probe__open(&po, &ls->kf, &ls->probe);
	timing_mark("probe attached");
	if (err)
		return 1;
	ncpus = libbpf_num_possible_cpus();
	ls->lost_seen = xcalloc((size_t)ncpus, sizeof(uint64_t));
	ls->lost_now = xcalloc((size_t)ncpus, sizeof(uint64_t));
	ls->live = live__new(ls->probe, ls->ks, BATCH, deliver_live, ls);
	ls->r = r;
	if (!ls->live)
		return 1;
	timing_mark("ring reader");
	s->wake_fd = live__fd(ls->live);
	return 0;
}

/* The run stops here: its counters stop here too. */
static int deliver_live(void *ctx, struct tcpdrop_event *ev, unsigned int n)
{
	struct live_source *ls = ctx;
	int ret = run__deliver(ls->r, ev, n);

	if (ret > 0 && !ls->frozen) {
		int ncpus = libbpf_num_possible_cpus();

		probe__read_stats(ls->probe, ls->st);
		ls->st[TCPDROP_STAT_LOST] = 0;
		for (int c = 0; c < ncpus; c++)
			ls->st[TCPDROP_STAT_LOST] += ls->lost_seen[c];
		memcpy(ls->lost_now, ls->lost_seen, (size_t)ncpus * sizeof(uint64_t));
		ls->frozen = 1;
	}
	return ret;
}

static int kcount_collect(struct run_source *s)
{
	return probe__kcount_collect(((struct live_source *)s)->probe);
}

static int kcount_take(struct run_source *s, unsigned int t, kcount_fn fn, void *ctx,
		       uint64_t *overflow)
{
	return probe__kcount_take(((struct live_source *)s)->probe, t, fn, ctx, overflow);
}

static void source_free(struct run_source *s)
{
	struct live_source *ls = (struct live_source *)s;

	live__free(ls->live);
	free(ls->lost_seen);
	free(ls->lost_now);
	probe__close(ls->probe);
	free(ls);
}

int live_source__open(const struct live_source_opts *lo, struct names *nm, struct ksyms *ks,
		      struct run_source **out)
{
	struct kbtf *btf = kbtf__open("/sys/kernel/btf/vmlinux", NULL);
	struct live_source *ls;

	if (!btf &&
	    (lo->probe == PROBE_AUTO || lo->probe == PROBE_TP_BTF || lo->probe == PROBE_FENTRY)) {
		msg("this kernel exposes no BTF (/sys/kernel/btf/vmlinux): tcpdrop needs a "
		    "kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return 1;
	}
	timing_mark("kernel BTF read");
	ls = xcalloc(1, sizeof(*ls));
	ls->o = *lo;
	ls->ks = ks;
	names__load_kernel(nm, btf);
	/* Done with it: libbpf reads the BTF again while loading, and peak memory adds up. */
	probe__facts(btf, &ls->kf);
	kbtf__free(btf);
	ls->s = (struct run_source){ .name = "the kernel",
				     .loop = 1,
				     .wake_fd = -1,
				     .start = start,
				     .drain = drain,
				     .finish = finish,
				     .housekeeping = housekeeping,
				     .stats = stats,
				     .report = report,
				     .free = source_free,
				     .kcount_collect = kcount_collect,
				     .kcount_take = kcount_take };

	*out = &ls->s;
	return 0;
}
