/* One run, whatever its source: the runtime, the stages of a batch, ticks, done(stats), exit. */
#include "run/run.h"
#include "capture/capture.h"
#include "lua/bridge.h"
#include "util/util.h"

#include <stdio.h>

#define MAX_TICK_GAP 100000 /* ticks run in one go before a jump in recorded time is skipped */

struct run {
	const struct run_settings *set;
	struct run_source *src;
	struct runtime *rt;
	struct recorder *rec; /* -w */
	uint64_t seen;
	uint64_t ticks;
	double interval;
	/* A recording's clock: ticks and -d in recorded time, from its start. */
	int clocked;
	uint64_t clock_start, interval_ns, next_tick, stop_at;
};

int run__deliver(struct run *r, struct tcpdrop_event *ev, unsigned int n)
{
	unsigned int kept;
	int ret;

	r->seen += n;
	kept = (unsigned int)pcapfilter__batch(r->set->pf, ev, n);
	if (!kept)
		return 0;
	/* Recorded before the script runs: a script error cannot keep a drop out of the file. */
	if (r->rec && recorder__write(r->rec, ev, kept))
		return -1;
	ret = runtime__dispatch(r->rt, ev, kept);
	fflush(stdout);
	return ret;
}

int run__tick(struct run *r)
{
	int ret = runtime__tick(r->rt, ++r->ticks);

	fflush(stdout);
	return ret;
}

double run__interval(const struct run *r)
{
	return r->interval;
}

int run__housekeeping(struct run *r, const struct run_stats *st)
{
	runtime__housekeeping(r->rt, st);
	/* Once a second, so that a killed tracer loses at most the last second of its file. */
	return r->rec && recorder__flush(r->rec) ? -1 : 0;
}

void run__clock_start(struct run *r, uint64_t ns)
{
	r->clocked = 1;
	r->clock_start = ns;
	runtime__set_clock(r->rt, ns);
}

void run__set_clock(struct run *r, uint64_t ns)
{
	runtime__set_clock(r->rt, ns);
}

uint64_t run__clock_stop(const struct run *r)
{
	return r->stop_at;
}

int run__ticks_due(struct run *r, uint64_t t)
{
	uint64_t due;

	if (!r->interval_ns || t < r->next_tick)
		return 0;
	due = (t - r->next_tick) / r->interval_ns;
	if (due > MAX_TICK_GAP) {
		msg("%s: the recorded time jumps %llu s ahead; the ticks of that gap are skipped",
		    r->src->name, (unsigned long long)((t - r->next_tick) / 1000000000u));
		r->next_tick += (due - 1) * r->interval_ns;
	}
	return 1;
}

int run__ticks_to(struct run *r, uint64_t t)
{
	int ret = 0;

	while (!ret && r->interval_ns && t >= r->next_tick) {
		runtime__set_clock(r->rt, r->next_tick);
		ret = run__tick(r);
		r->next_tick += r->interval_ns;
	}
	return ret;
}

/* The counters done(stats) and tcpdrop.stats() report, as they stand now. */
static void stats(struct run *r, struct run_stats *rs)
{
	*rs = (struct run_stats){ .seen = r->seen };
	if (r->src->stats)
		r->src->stats(r->src, rs);
}

static int loop_drain(void *ctx)
{
	struct run *r = ctx;

	return r->src->drain(r->src, r);
}

static int loop_tick(void *ctx, uint64_t n)
{
	return run__tick(ctx);
}

static int loop_housekeeping(void *ctx)
{
	struct run *r = ctx;
	struct run_stats rs;

	if (r->src->housekeeping)
		r->src->housekeeping(r->src);
	stats(r, &rs);
	return run__housekeeping(r, &rs);
}

/* From init() to the end of the drops: 0, 1 (the script said stop) or <0. */
static int drive(struct run *r)
{
	const struct run_settings *set = r->set;
	struct run_source *src = r->src;
	struct loop_opts lo = { .wake_fd = src->wake_fd,
				.poll_ms = set->poll_ms,
				.interval = r->interval,
				.duration = set->duration };
	struct loop_hooks h = {
		.drain = loop_drain, .tick = loop_tick, .housekeeping = loop_housekeeping, .ctx = r
	};
	int ret;

	recorder__start(r->rec);
	if (!src->loop)
		return src->drain(src, r);
	ret = loop__run(&lo, &h);
	/* Then what the source still holds, unless the script said stop. */
	if (!ret && src->finish)
		ret = src->finish(src, r) < 0 ? -1 : 0;
	return ret;
}

int run__main(const struct run_settings *set, struct run_source *src, struct names *nm,
	      struct ksyms *ks)
{
	struct run r = { .set = set, .src = src, .stop_at = UINT64_MAX };
	struct run_stats rs;
	int ret, code, src_code;

	if (set->rec && recorder__open(set->rec, nm, ks, &r.rec)) {
		code = 1;
		goto out;
	}
	timing_mark("names");
	/* A script that does not load fails before anything attaches. */
	ret = runtime__new(set->ro, nm, ks, &r.rt);
	timing_mark("Lua runtime");
	if (ret) {
		code = 2;
		goto out;
	}
	code = src->start ? src->start(src, &r, set) : 0;
	/* --user: attached, files open; nothing from here on runs as root. */
	if (!code && privs__drop())
		code = 1;
	if (code)
		goto out;
	/* init may end the run (tcpdrop.exit) or fail; done(stats) runs either way. */
	ret = runtime__init(r.rt, &r.interval);
	timing_mark("init()");
	fflush(stdout);
	if (r.clocked) {
		/* Ticks and -d count from the recording's start. */
		r.interval_ns = (uint64_t)(r.interval * 1e9);
		r.next_tick = r.clock_start + r.interval_ns;
		if (set->duration > 0)
			r.stop_at = r.clock_start + (uint64_t)(set->duration * 1e9);
	}
	if (!ret)
		ret = drive(&r);

	stats(&r, &rs);
	runtime__housekeeping(r.rt, &rs);
	runtime__done(r.rt, &rs);
	fflush(stdout);
	src_code = src->report ? src->report(src, &rs) : 0;
	if (rs.errors)
		msg("%llu script error%s", (unsigned long long)rs.errors,
		    rs.errors == 1 ? "" : "s");
	/* The script's own exit code, else the source's failure, else whether the run failed. */
	code = runtime__exit_code(r.rt);
	if (code <= 0 && src_code)
		code = src_code;
	else if (code < 0)
		code = ret < 0 ? 1 : 0;
	/* A recording that could not be written in full fails the run. */
	if (r.rec && recorder__close(r.rec, &rs) && !code)
		code = 1;
	r.rec = NULL;
out:
	/* The run never started: a file it created goes. */
	recorder__close(r.rec, NULL);
	if (src->free)
		src->free(src);
	runtime__free(r.rt);
	return code;
}
