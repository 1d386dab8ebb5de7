/* The -r run: records in, events out in batches, ticks and -d by the recorded clock. */
#include "run/run.h"
#include "sym/sym.h"
#include "cli/cli.h"
#include "capture/capture.h"
#include "lua/bridge.h"
#include "util/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 1024
#define MAX_TICK_GAP 100000 /* ticks run in one go before a jump in recorded time is skipped */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct replay {
	struct options *o;
	const char *file;
	struct capreader *cr;
	struct pcapng_decoder *dec;
	struct runtime *rt;
	struct pcapfilter *pf; /* a pcap-filter expression, or NULL */
	struct tcpdrop_event *batch;
	unsigned int n;
	uint64_t seen;
	uint64_t start; /* the recorded start of tracing, 0 if unknown */
	uint64_t end; /* the recorded end, 0 if unknown */
	uint64_t interval_ns, next_tick, ticks;
	uint64_t house_at; /* CLOCK_MONOTONIC ns of the next runtime housekeeping */
	struct run_stats recorded;
	int have_recorded;
	int err; /* the file was bad: exit 1 after done() */
	int halt; /* what a dispatch inside next_event() said: stop (1) or failed (<0) */
	int may_wait; /* reading the file can wait (a pipe) */
};

/* Options that only mean something when tracing: refused rather than silently ignored. */
static int check_options(const struct options *o)
{
	if (o->write_path) {
		msg("-r and -w exclude each other: replay a file, or record one");
		return -EINVAL;
	}
	if (o->probe != PROBE_AUTO || o->no_stack || o->pid_netns) {
		msg("%s has no meaning with -r: a replay traces nothing%s",
		    o->probe != PROBE_AUTO ? "--probe"
		    : o->no_stack	   ? "--no-stack"
					   : "--pid-netns",
		    o->pid_netns ? " (--netns-id selects a namespace)" : "");
		return -EINVAL;
	}
	return 0;
}

static int dispatch(struct replay *rp, int keep);

/* next_event() for any other record, and whenever the buffer runs out. */
static __attribute__((noinline)) int next_record(struct replay *rp)
{
	for (;;) {
		struct cap_rec r;
		int ret;

		/* A pipe: what we have goes out before we wait for more. */
		if (rp->may_wait && rp->rt && rp->n && capreader__pending(rp->cr)) {
			rp->halt = dispatch(rp, 0);
			if (rp->halt)
				return 0;
		}
		ret = capreader__next(rp->cr, &r);

		if (ret == -EINTR) {
			if (stop_signal)
				return 0;
			continue;
		}
		if (ret <= 0)
			return ret;
		switch (r.kind) {
		case CAP_SECTION:
			ret = pcapng__decode_section(rp->dec, &r, rp->file);
			break;
		case CAP_STATS:
			if (r.start && !rp->start)
				rp->start = r.start;
			if (r.end)
				rp->end = r.end;
			ret = pcapng__decode_stats(rp->dec, &r, &rp->recorded, rp->file);
			if (ret > 0)
				rp->have_recorded = 1;
			break;
		case CAP_PACKET:
			ret = pcapng__decode_packet(rp->dec, &r, &rp->batch[rp->n], rp->file);
			if (ret)
				return ret;
			break;
		}
		if (ret < 0)
			return ret;
	}
}

/*
 * The next drop of the file into batch[n]: 1, 0 at the end (or on a signal, or when the
 * runtime said stop: rp->halt), <0 on a bad file. What -w writes, already read, takes the
 * decoder's fast path inline: no record in between, and it never waits.
 */
static inline int next_event(struct replay *rp)
{
	int ret = pcapng__next_drop(rp->cr, rp->dec, &rp->batch[rp->n], rp->file);

	return ret ? ret : next_record(rp);
}

static int port_in(const __u16 *set, unsigned int n, __u16 port)
{
	for (unsigned int i = 0; i < n; i++)
		if (set[i] == port)
			return 1;
	return 0;
}

static int net_has(const struct tcpdrop_net *n, const struct tcpdrop_event *ev, const __u8 *addr)
{
	if (n->family != ev->family)
		return 0;
	for (int i = 0; i < 16; i++)
		if ((addr[i] & n->mask[i]) != n->net[i])
			return 0;
	return 1;
}

/* The in-kernel filters of a live run, applied to recorded drops: the same rules. */
static int pass(const struct tcpdrop_config *c, const struct tcpdrop_event *ev)
{
	unsigned int want = 0, hit = 0;

	if (c->family && c->family != ev->family)
		return 0;
	if (c->netns && c->netns != ev->netns)
		return 0;
	if (c->nsports && !port_in(c->sports, c->nsports, ev->sport))
		return 0;
	if (c->ndports && !port_in(c->dports, c->ndports, ev->dport))
		return 0;
	if (c->nports && !port_in(c->ports, c->nports, ev->sport) &&
	    !port_in(c->ports, c->nports, ev->dport))
		return 0;
	for (unsigned int i = 0; i < c->nnets; i++) {
		const struct tcpdrop_net *n = &c->nets[i];

		if (n->side == TCPDROP_SIDE_SRC) {
			want |= 1;
			hit |= net_has(n, ev, ev->saddr_raw) ? 1 : 0;
		} else if (n->side == TCPDROP_SIDE_DST) {
			want |= 2;
			hit |= net_has(n, ev, ev->daddr_raw) ? 2 : 0;
		} else {
			want |= 4;
			hit |= net_has(n, ev, ev->saddr_raw) || net_has(n, ev, ev->daddr_raw) ? 4
											      : 0;
		}
	}
	if (want != hit)
		return 0;
	if (c->nreasons && !(ev->evflags & TCPDROP_F_NO_REASON)) {
		for (unsigned int i = 0; i < c->nreasons; i++)
			if (c->reasons[i] == ev->reason_code)
				return 1;
		return 0;
	}
	return 1;
}

/* --reason names, looked up in the names the file carries. */
/* Hand the batch to the runtime; the undelivered event at batch[n] (if keep) moves to the front. */
static int dispatch(struct replay *rp, int keep)
{
	unsigned int kept;
	int ret;

	if (!rp->n)
		return 0;
	/* The expression moves the matching drops to the front; batch[n] is left alone. */
	kept = (unsigned int)pcapfilter__batch(rp->pf, rp->batch, rp->n);
	ret = kept ? runtime__dispatch(rp->rt, rp->batch, kept) : 0;
	fflush(stdout);
	rp->seen += rp->n;
	/* As a live run does once a second: reap what the script spawned, refresh its stats. */
	if (now_ns(CLOCK_MONOTONIC) >= rp->house_at) {
		struct run_stats st = { .seen = rp->seen };

		runtime__housekeeping(rp->rt, &st);
		rp->house_at = now_ns(CLOCK_MONOTONIC) + 1000000000u;
	}
	if (keep)
		rp->batch[0] = rp->batch[rp->n];
	rp->n = 0;
	return ret;
}

/* Run every tick due by time t (after handing on the batch: its drops came first). */
static int tick_to(struct replay *rp, uint64_t t, int keep)
{
	uint64_t due;
	int ret;

	if (!rp->interval_ns || t < rp->next_tick)
		return 0;
	due = (t - rp->next_tick) / rp->interval_ns;
	if (due > MAX_TICK_GAP) {
		msg("%s: the recorded time jumps %llu s ahead; the ticks of that gap are skipped",
		    rp->file, (unsigned long long)((t - rp->next_tick) / 1000000000u));
		rp->next_tick += (due - 1) * rp->interval_ns;
	}
	ret = dispatch(rp, keep);
	while (!ret && t >= rp->next_tick) {
		runtime__set_clock(rp->rt, rp->next_tick);
		ret = runtime__tick(rp->rt, ++rp->ticks);
		fflush(stdout);
		rp->next_tick += rp->interval_ns;
	}
	return ret;
}

static void report_skipped(struct replay *rp)
{
	const struct pcapng_skipped *s = pcapng_decoder__skipped(rp->dec);

	if (s->not_tcp)
		msg("%s: skipped %llu packet%s that %s not TCP over IPv4/IPv6 (or cut too short)",
		    rp->file, (unsigned long long)s->not_tcp, s->not_tcp == 1 ? "" : "s",
		    s->not_tcp == 1 ? "is" : "are");
	if (s->bad_link)
		msg("%s: skipped %llu packet%s on link type %u, which tcpdrop cannot read "
		    "(it reads Ethernet, raw IP, Linux cooked and loopback captures)",
		    rp->file, (unsigned long long)s->bad_link, s->bad_link == 1 ? "" : "s",
		    s->last_link);
	if (rp->have_recorded && rp->recorded.lost)
		msg("%s: the recording lost %llu events (the ring buffer was full)", rp->file,
		    (unsigned long long)rp->recorded.lost);
}

static int run(struct replay *rp, struct runtime_opts *ro, struct names *nm, struct ksyms *ks)
{
	struct options *o = rp->o;
	struct tcpdrop_config cfg = o->cfg;
	struct run_stats rs = { 0 };
	char source[600];
	uint64_t stop_at = UINT64_MAX, last = 0;
	double interval = 0;
	int have, ret = 0, code, filtering;

	cfg.netns = o->netns_id;
	have = next_event(rp);
	if (have < 0)
		return 1;
	if (o->list_reasons) {
		if (names__next_reason(nm, -1) < 0)
			msg("%s carries no drop reason names (it was not recorded by tcpdrop)",
			    rp->file);
		names__print_reasons(nm, stdout);
		return 0;
	}
	snprintf(source, sizeof(source), "%s names", rp->file);
	if (names__resolve_list(nm, o->reasons, source, cfg.reasons, &cfg.nreasons,
				TCPDROP_MAX_REASONS))
		return 2;
	if (runtime__new(ro, nm, ks, &rp->rt))
		return 2;
	/* The recording's clock from the start: the recorded start of tracing, else the first drop.
	 */
	if (!rp->start && have)
		rp->start = rp->batch[0].ts_ns;
	runtime__set_clock(rp->rt, rp->start);
	ret = runtime__init(rp->rt, &interval);
	if (ret < 0)
		return 1;
	fflush(stdout);
	if (ret > 0)
		have = 0; /* init() called tcpdrop.exit(): done() without a drop */
	if (o->interval)
		interval = o->interval;
	rp->interval_ns = (uint64_t)(interval * 1e9);
	/* Ticks and -d count from the same start. */
	rp->next_tick = rp->start + rp->interval_ns;
	if (o->duration > 0)
		stop_at = rp->start + (uint64_t)(o->duration * 1e9);

	filtering = cfg.family || cfg.netns || cfg.nsports || cfg.ndports || cfg.nports ||
		    cfg.nnets || cfg.nreasons;
	while (have > 0 && !stop_signal) {
		struct tcpdrop_event *ev = &rp->batch[rp->n];

		if (ev->ts_ns >= stop_at)
			break;
		if (ev->ts_ns > last)
			last = ev->ts_ns;
		if (rp->interval_ns && ev->ts_ns >= rp->next_tick) {
			ret = tick_to(rp, ev->ts_ns, 1);
			ev = &rp->batch[rp->n];
			if (ret)
				break;
		}
		if ((!filtering || pass(&cfg, ev)) && ++rp->n == BATCH) {
			ret = dispatch(rp, 0);
			if (ret)
				break;
		}
		have = next_event(rp);
		ret = rp->halt;
		if (ret)
			break;
	}
	if (have < 0)
		rp->err = 1;
	if (!ret)
		ret = dispatch(rp, 0);
	/* The recording went on after its last drop: so do its ticks (those before its end). */
	if (!ret && !stop_signal && !rp->err) {
		uint64_t end = have > 0 ? stop_at : rp->end > last ? rp->end : last;

		if (end)
			ret = tick_to(rp, end - 1, 0);
	}
	rs.seen = rp->seen;
	if (rp->have_recorded) {
		rs.lost = rp->recorded.lost;
		rs.filtered_kernel = rp->recorded.filtered_kernel;
		rs.stacks_skipped = rp->recorded.stacks_skipped;
		rs.stacks_failed = rp->recorded.stacks_failed;
	}
	runtime__set_clock(rp->rt, rp->end > last ? (rp->end < stop_at ? rp->end : stop_at) : last);
	runtime__housekeeping(rp->rt, &rs);
	runtime__done(rp->rt, &rs);
	fflush(stdout);
	report_skipped(rp);
	if (rs.errors)
		msg("%llu script error%s", (unsigned long long)rs.errors,
		    rs.errors == 1 ? "" : "s");
	code = runtime__exit_code(rp->rt);
	if (code < 0)
		code = ret < 0 ? 1 : 0;
	return rp->err && !code ? 1 : code;
}

int replay__run(struct options *o, struct runtime_opts *ro, struct names *nm, struct pcapfilter *pf)
{
	struct replay rp = { .o = o, .file = o->read_path, .pf = pf };
	struct sigaction sa = { .sa_handler = on_signal };
	struct ksyms *ks;
	int code;

	if (check_options(o))
		return 2;
	if (!strcmp(o->read_path, "-"))
		rp.file = "standard input";
	if (capreader__open(o->read_path, &rp.cr))
		return 1;
	rp.may_wait = capreader__may_wait(rp.cr);
	/* Frames come from the file, never from this machine's kallsyms. */
	ks = ksyms__new();
	rp.dec = pcapng_decoder__new(nm, ks);
	rp.batch = xcalloc(BATCH, sizeof(*rp.batch));
	/* No SA_RESTART: a read from a quiet pipe must give way to Ctrl-C. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	code = run(&rp, ro, nm, ks);

	runtime__free(rp.rt);
	free(rp.batch);
	pcapng_decoder__free(rp.dec);
	capreader__free(rp.cr);
	ksyms__free(ks);
	return code;
}
