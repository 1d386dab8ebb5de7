/* The live source: the probe loaded and attached, its rings read into the run. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sym/sym.h"
#include "kernel/kernel.h"
#include "metrics/metrics.h"
#include "run/run.h"
#include "util/util.h"
#include "owner_filter.h"

#define BATCH 1024
/* --container, --pod: how often what they name is looked for again (a walk and a /proc scan). */
#define OWNER_REFIND_MS 2000

struct live_source {
	struct run_source s; /* first: the run hands it back */
	struct live_source_opts o;
	struct kernel_facts kf;
	struct ksyms *ks;
	struct names *nm;
	struct metrics *metrics; /* --metrics */
	unsigned int metrics_table;
	struct coverage *cov;
	/* When the probe only counts, no event reaches coverage: its own kernel table does. */
	int cov_table; /* that table, -1: none (events feed coverage) */
	int cov_failed;
	uint64_t cov_overflow; /* drops its table had no room for */
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
	/* --container, --pod */
	struct owners *ow;
	struct owner_match m;
	char *pod_ns; /* the NAMESPACE/NAME copy that m points into */
	const char *asked; /* for messages: "--pod shop/web-0" */
	struct owner_found *found;
	struct tcpdrop_owner_key *keys, *given; /* found by the last look; in the probe now */
	int nkeys; /* in the probe now */
	uint64_t refind_at; /* ms */
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

static void serve(struct run_source *s)
{
	metrics__serve(((struct live_source *)s)->metrics);
}

/* Quiet: its warnings are said with the line that needs them (owner_start). */
static void owner_quiet(const char *line)
{
}

/* What --container or --pod names, found now: its ids, n (0: none), or -errno. */
static int owner_find(struct live_source *ls)
{
	int n = owners__find(ls->ow, &ls->m, ls->found, TCPDROP_OWNER_MAX);

	if (n == -ENOSPC) {
		msg("%s: more than %d cgroups and namespaces match: the first %d are kept",
		    ls->asked, TCPDROP_OWNER_MAX, TCPDROP_OWNER_MAX);
		n = TCPDROP_OWNER_MAX;
	}
	for (int i = 0; i < n; i++)
		ls->keys[i] = (struct tcpdrop_owner_key){ .id = ls->found[i].id,
							  .kind = ls->found[i].netns
									  ? TCPDROP_OWNER_NETNS
									  : TCPDROP_OWNER_CGROUP };
	ls->refind_at = now_ns(CLOCK_MONOTONIC) / 1000000 + OWNER_REFIND_MS;
	return n;
}

/* At start, before the probe loads: nothing found is a usage error, said with why. */
static int owner_start(struct live_source *ls)
{
	struct owners_opts oo = { .warn = owner_quiet };
	char *slash;
	int n;

	if (!ls->o.container && !ls->o.pod)
		return 0;
	owners_opts__env(&oo);
	ls->ow = owners__new(&oo);
	ls->found = xcalloc(TCPDROP_OWNER_MAX, sizeof(*ls->found));
	ls->keys = xcalloc(TCPDROP_OWNER_MAX, sizeof(*ls->keys));
	ls->given = xcalloc(TCPDROP_OWNER_MAX, sizeof(*ls->given));
	if (ls->o.container) {
		ls->m.container = ls->o.container;
		ls->asked = "--container";
	} else {
		ls->pod_ns = xstrdup(ls->o.pod);
		slash = strchr(ls->pod_ns, '/');
		if (slash) {
			*slash = '\0';
			ls->m.namespace = ls->pod_ns;
		}
		ls->m.pod = slash ? slash + 1 : ls->pod_ns;
		ls->asked = "--pod";
	}
	n = owner_find(ls);
	ls->nkeys = n > 0 ? n : 0;
	memcpy(ls->given, ls->keys, (size_t)ls->nkeys * sizeof(*ls->keys));
	if (n > 0) {
		vmsg("%s %s: %d cgroups and network namespaces", ls->asked,
		     ls->o.container ? ls->o.container : ls->o.pod, n);
		return 0;
	}
	if (owners__warnings(ls->ow)) {
		const char *w = owners__warnings(ls->ow);

		for (size_t len; *w; w += len + (w[len] == '\n')) {
			len = strcspn(w, "\n");
			msg("%.*s", (int)len, w);
		}
	}
	if (ls->o.container)
		msg("--container %s: no running container has that name or id", ls->o.container);
	else if (ls->m.namespace)
		msg("--pod %s: no running pod %s in namespace %s", ls->o.pod, ls->m.pod,
		    ls->m.namespace);
	else
		msg("--pod %s: no running pod of that name", ls->o.pod);
	return 2;
}

/* Whether a and b hold the same keys (each set has no key twice). */
static int same_keys(const struct tcpdrop_owner_key *a, int na, const struct tcpdrop_owner_key *b,
		     int nb)
{
	if (na != nb)
		return 0;
	for (int i = 0; i < na; i++) {
		int j = 0;

		while (j < nb && (a[i].id != b[j].id || a[i].kind != b[j].kind))
			j++;
		if (j == nb)
			return 0;
	}
	return 1;
}

/*
 * Once a second: look again, every OWNER_REFIND_MS, and hand the probe what is found (a
 * container that restarted has a new cgroup and namespace; one that stopped has none).
 */
static void owner_housekeeping(struct live_source *ls)
{
	int n, err, nns = 0;

	if (!ls->ow || now_ns(CLOCK_MONOTONIC) / 1000000 < ls->refind_at)
		return;
	n = owner_find(ls);
	if (n < 0 || same_keys(ls->keys, n, ls->given, ls->nkeys))
		return;
	err = probe__owner_set(ls->probe, ls->keys, (unsigned int)n);
	if (err) {
		msg("%s: cannot update the probe's ids: %s", ls->asked, strerror(-err));
		return;
	}
	for (int i = 0; i < n; i++)
		nns += ls->keys[i].kind == TCPDROP_OWNER_NETNS;
	vmsg("%s %s: its ids changed: %d cgroups, %d network namespaces", ls->asked,
	     ls->o.container ? ls->o.container : ls->o.pod, n - nns, nns);
	memcpy(ls->given, ls->keys, (size_t)n * sizeof(*ls->keys));
	if (!n && ls->nkeys)
		msg("%s %s: nothing of it runs now; its drops show again when it is back",
		    ls->asked, ls->o.container ? ls->o.container : ls->o.pod);
	else if (n && !ls->nkeys)
		msg("%s %s: running again", ls->asked,
		    ls->o.container ? ls->o.container : ls->o.pod);
	ls->nkeys = n;
}

static int cover_row(void *ctx, const struct tcpdrop_kkey *k, uint64_t count, uint64_t bytes)
{
	struct live_source *ls = ctx;

	/* The overflow row: said from take's *overflow (cover_sync). */
	if (!(k->evflags & TCPDROP_KC_OVERFLOW_KEY))
		coverage__add(ls->cov, k->netns,
			      k->evflags & TCPDROP_F_NO_REASON ? COVERAGE_NO_REASON
							       : k->reason_code,
			      count);
	return 0;
}

/* A counting-only run's traced drops, from the kernel's table into coverage, up to now. */
static void cover_sync(struct live_source *ls)
{
	uint64_t overflow = 0;
	int err;

	if (ls->cov_table < 0 || !ls->probe || ls->cov_failed)
		return;
	err = probe__kcount_collect(ls->probe);
	if (!err)
		err = probe__kcount_take(ls->probe, (unsigned int)ls->cov_table, cover_row, ls,
					 &overflow);
	if (err) {
		msg("coverage: cannot read the kernel's counts (%s): its traced column stops here",
		    strerror(err < 0 ? -err : err));
		ls->cov_failed = 1;
	}
	ls->cov_overflow += overflow;
}

static void housekeeping(struct run_source *s)
{
	report_losses((struct live_source *)s);
	owner_housekeeping((struct live_source *)s);
	cover_sync((struct live_source *)s);
	coverage__housekeeping(((struct live_source *)s)->cov);
}

/* --metrics: the coverage rows, the traced column brought up to now first. */
static size_t cover_rows(void *ctx, const struct mib_row **rows)
{
	cover_sync(ctx);
	return coverage__rows(((struct live_source *)ctx)->cov, rows);
}

static const char *cover_text(struct run_source *s)
{
	cover_sync((struct live_source *)s);
	return coverage__text(((struct live_source *)s)->cov);
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
	cover_sync(ls);
	if (ls->cov_overflow)
		msg("coverage: %llu drops counted in the kernel found no room in its table of "
		    "namespaces and reasons: they are not in its traced column",
		    (unsigned long long)ls->cov_overflow);
	if (ls->o.coverage && coverage__print(ls->cov, stdout)) {
		msg("standard output: %s", strerror(EIO));
		return 1;
	}
	if (!ls->o.coverage)
		coverage__report(ls->cov);
	if (rs->stacks_skipped)
		msg("%llu stacks not captured: over --stack-rate %u per CPU per second",
		    (unsigned long long)rs->stacks_skipped, ls->o.stack_rate);
	if (rs->stacks_failed)
		msg("%llu stacks could not be read by the kernel",
		    (unsigned long long)rs->stacks_failed);
	return 0;
}

/*
 * Whether the probe tracks sockets' owners: for a client that reads them (run__reads_owners), a
 * filter by cgroup, container or pod, or a kernel table keyed by cgroup. Elsewhere their
 * programs would run on every socket send and receive of the machine for nothing: in make bench
 * they took 10 % of the drop rate of a one-liner counted in the kernel (0.76 -> 0.86).
 */
static int owners_wanted(const struct probe_opts *po, const struct run *r,
			 const struct run_settings *set)
{
	if (run__reads_owners(r) || set->filter.cgroup_id || po->owner_filter)
		return 1;
	for (unsigned int i = 0; i < po->n_kc; i++)
		if (po->kc[i].keys & TCPDROP_KC_CGROUP)
			return 1;
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
				 .ring_shared = ls->o.ring_shared,
				 .owner_filter = ls->o.container || ls->o.pod,
				 .no_owners = ls->o.no_owners };
	const struct kcount_spec *kc = run__kcount_tables(r, &po.n_kc, &po.kc_only);
	char why[256];
	int ncpus, err;

	if (probe__check_privileges(why, sizeof(why))) {
		msg("%s", why);
		return 1;
	}
	err = owner_start(ls);
	if (err)
		return err;
	memcpy(po.kc, kc, po.n_kc * sizeof(*kc));
	/* --metrics: its socket bound now, as root (before --user), and its table. */
	if (ls->o.metrics) {
		/* Events are needed unless every client counts in the kernel: the -e's tables, or
		 * --metrics alone (no script, -e, -f or -w). */
		int need_events = po.n_kc ? !po.kc_only : !ls->o.metrics_only;

		if (po.n_kc == TCPDROP_KC_MAX_TABLES) {
			msg("--metrics needs a kernel count table, and the script holds all %d",
			    TCPDROP_KC_MAX_TABLES);
			return 2;
		}
		err = metrics__open(ls->o.metrics, &ls->metrics);
		if (err)
			return err;
		ls->metrics_table = po.n_kc;
		po.kc[po.n_kc++] = (struct kcount_spec){ .keys = ls->o.metrics->labels,
							 .max_keys = ls->o.metrics->max_keys };
		po.kc_only = !need_events;
	}
	/* Counting only: coverage counts the traced drops by namespace and reason in a table of its
	 * own; where none is left, the events flow and it counts them as they come. */
	ls->cov_table = -1;
	if (po.kc_only && po.n_kc < TCPDROP_KC_MAX_TABLES) {
		ls->cov_table = (int)po.n_kc;
		po.kc[po.n_kc++] =
			(struct kcount_spec){ .keys = TCPDROP_KC_NETNS | TCPDROP_KC_REASON };
	} else if (po.kc_only) {
		po.kc_only = 0;
	}
	/* Counting only: no event, so no stack either. */
	if (po.kc_only)
		po.want_stack = 0;
	if (!po.no_owners && !owners_wanted(&po, r, set)) {
		po.no_owners = 1;
		vmsg("owners: not tracked: nothing in this run reads them");
	}
	/* Symbols load while the verifier works, not when the first stack arrives. */
	if (po.want_stack)
		ksyms__preload(ls->ks);
	ls->cov = coverage__new(ls->nm, set->filter.netns);
	err = probe__open(&po, &ls->kf, &ls->probe);
	timing_mark("probe attached");
	if (err)
		return 1;
	if (ls->ow) {
		/* What owner_start found: the next look is OWNER_REFIND_MS later. */
		err = probe__owner_set(ls->probe, ls->keys, (unsigned int)ls->nkeys);
		if (err) {
			msg("%s: cannot give the probe its ids: %s", ls->asked, strerror(-err));
			return 1;
		}
	}
	ncpus = libbpf_num_possible_cpus();
	ls->lost_seen = xcalloc((size_t)ncpus, sizeof(uint64_t));
	ls->lost_now = xcalloc((size_t)ncpus, sizeof(uint64_t));
	ls->live = live__new(ls->probe, ls->ks, BATCH, deliver_live, ls);
	ls->r = r;
	if (!ls->live)
		return 1;
	timing_mark("ring reader");
	s->wake_fd = live__fd(ls->live);
	if (ls->metrics) {
		metrics__attach(ls->metrics, ls->probe, ls->metrics_table, ls->nm,
				run__script_metrics, r);
		metrics__attach_coverage(ls->metrics, cover_rows, ls);
		s->serve_fd = metrics__fd(ls->metrics);
		s->serve = serve;
	}
	coverage__set_listen(ls->cov, probe__listen(ls->probe));
	return 0;
}

/* The run stops here: its counters stop here too. */
static int deliver_live(void *ctx, struct tcpdrop_event *ev, unsigned int n)
{
	struct live_source *ls = ctx;
	int ret;

	coverage__batch(ls->cov, ev, n);
	ret = run__deliver(ls->r, ev, n);

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
	metrics__free(ls->metrics);
	coverage__free(ls->cov);
	free(ls->lost_seen);
	free(ls->lost_now);
	probe__close(ls->probe);
	owners__free(ls->ow);
	free(ls->found);
	free(ls->keys);
	free(ls->given);
	free(ls->pod_ns);
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
	ls->nm = nm;
	names__load_kernel(nm, btf);
	/* Done with it: libbpf reads the BTF again while loading, and peak memory adds up. */
	probe__facts(btf, &ls->kf);
	kbtf__free(btf);
	/* Before any recorder reads the names: the listen overflows' reasons of our own. */
	listen__names(&ls->kf.listen, nm);
	ls->s = (struct run_source){ .name = "the kernel",
				     .loop = 1,
				     .wake_fd = -1,
				     .start = start,
				     .drain = drain,
				     .finish = finish,
				     .housekeeping = housekeeping,
				     .stats = stats,
				     .coverage = cover_text,
				     .report = report,
				     .free = source_free,
				     .kcount_collect = kcount_collect,
				     .kcount_take = kcount_take };
	*out = &ls->s;
	return 0;
}
