/* One run, whatever its source: the runtime, the stages of a batch, ticks, done(stats), exit. */
#include "run/run.h"
#include "run/signals.h"
#include "capture/capture.h"
#include "lua/bridge.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TICK_GAP 100000 /* ticks run in one go before a jump in recorded time is skipped */

struct run {
	const struct run_settings *set;
	struct run_source *src;
	struct runtime *rt;
	struct recorder *rec; /* -w */
	uint64_t seen;
	uint64_t passed; /* handed to the script */
	uint64_t not_delivered; /* read, then dropped: a stop signal came, the grace was over */
	uint64_t started; /* CLOCK_MONOTONIC ns */
	int out_failed; /* a write to standard output failed: said once */
	uint64_t ticks;
	double interval;
	/* A recording's clock: ticks and -d in recorded time, from its start. */
	int clocked;
	uint64_t clock_start, interval_ns, next_tick, stop_at;
	/* Counting in the kernel: every client's tables, and which of them are the runtime's. */
	struct kcount_spec kc[TCPDROP_KC_MAX_TABLES];
	unsigned int n_kc;
	int kc_events; /* a client needs the events too */
	int owner_reads; /* a hook may read the owner fields, or -w records them */
	int kc_started; /* the source started: the tables are made */
	unsigned int rt_kc[TCPDROP_KC_MAX_TABLES]; /* the runtime's plan's table i: kc[rt_kc[i]] */
	unsigned int rt_n_kc;
	int kc_failed; /* a read failed: said once */
	char kc_why[256]; /* what -v says of the plan */
	/* The rows of the table being read, handed to the runtime at once. */
	struct tcpdrop_kkey *rows;
	uint64_t *row_counts, *row_bytes;
	size_t nrows, rows_cap;
};

/*
 * Everything the run prints to standard output (the printers, print(), io.write, the tables)
 * goes through stdio's stdout: checked here, after each call into Lua. 0; 1 when the reader
 * went away (SIGPIPE's default: a stop, as SIGTERM, said nowhere); or -1 after one line (the
 * first time): the run stops, for what it prints is lost.
 */
static int out_check(struct run *r)
{
	int err;

	if (r->out_failed)
		return r->out_failed > 1 ? 1 : -1;
	if (!fflush(stdout) && !ferror(stdout))
		return 0;
	err = errno ? errno : EIO;
	if (err == EPIPE && !signals__pipe_ignored()) {
		r->out_failed = 2;
		return 1;
	}
	/* A stop signal cut a write short: we are stopping anyway. */
	if (err == EINTR && signals__stop()) {
		clearerr(stdout);
		return 0;
	}
	msg("standard output: %s", strerror(err));
	r->out_failed = 1;
	return -1;
}

/* A batch to the script; what a stop signal's halt left of it is counted, not delivered. */
static int dispatch(struct run *r, struct tcpdrop_event *ev, unsigned int n)
{
	unsigned int left;
	int ret;

	signals__lua_enter();
	ret = runtime__dispatch(r->rt, ev, n);
	signals__lua_leave();
	left = runtime__left(r->rt);
	r->passed += n - left;
	r->not_delivered += left;
	ret = ret < 0 ? ret : ret | out_check(r);
	return ret;
}

int run__deliver(struct run *r, struct tcpdrop_event *ev, unsigned int n)
{
	unsigned int kept;

	r->seen += n;
	kept = (unsigned int)pcapfilter__batch(r->set->pf, ev, n);
	if (!kept)
		return 0;
	/* Recorded before the script runs: a script error cannot keep a drop out of the file. */
	if (r->rec && recorder__write(r->rec, ev, kept))
		return -1;
	/* After a stop signal, signals.c halts the runtime once the grace is over. */
	return dispatch(r, ev, kept);
}

int run__kcount_add(struct run *r, uint32_t keys, uint32_t max_keys, int events)
{
	if (!r->src->kcount_take || !r->src->kcount_collect)
		return -EOPNOTSUPP;
	if (r->kc_started)
		return -EBUSY;
	if (r->n_kc == TCPDROP_KC_MAX_TABLES)
		return -ENOSPC;
	r->kc[r->n_kc] = (struct kcount_spec){ .keys = keys, .max_keys = max_keys };
	r->kc_events |= events;
	return (int)r->n_kc++;
}

int run__reads_owners(const struct run *r)
{
	return r->owner_reads;
}

const struct kcount_spec *run__kcount_tables(const struct run *r, unsigned int *n, int *kc_only)
{
	*n = r->n_kc;
	*kc_only = r->n_kc && !r->kc_events;
	return r->kc;
}

static int add_row(void *ctx, const struct tcpdrop_kkey *k, uint64_t count, uint64_t bytes)
{
	struct run *r = ctx;

	/* The table's overflow comes as take's *overflow too: counted once, from there. */
	if (k->evflags & TCPDROP_KC_OVERFLOW_KEY)
		return 0;
	if (r->nrows == r->rows_cap) {
		r->rows_cap = r->rows_cap ? 2 * r->rows_cap : 256;
		r->rows = xrealloc(r->rows, r->rows_cap * sizeof(*r->rows));
		r->row_counts = xrealloc(r->row_counts, r->rows_cap * sizeof(uint64_t));
		r->row_bytes = xrealloc(r->row_bytes, r->rows_cap * sizeof(uint64_t));
	}
	r->rows[r->nrows] = *k;
	r->row_counts[r->nrows] = count;
	r->row_bytes[r->nrows] = bytes;
	r->nrows++;
	return 0;
}

/*
 * The kernel's counts since the last read into the runtime's aggregations and tables: at each
 * tick, before tick(), and at exit, before done(). Inside signals__lua_enter. 0, 1 or <0.
 */
static int kcount_read(struct run *r)
{
	int err, ret = 0;

	if (!r->rt_n_kc || r->kc_failed)
		return 0;
	err = r->src->kcount_collect(r->src);
	for (unsigned int i = 0; !err && !ret && i < r->rt_n_kc; i++) {
		uint64_t overflow = 0;

		r->nrows = 0;
		err = r->src->kcount_take(r->src, r->rt_kc[i], add_row, r, &overflow);
		if (!err)
			ret = runtime__kcount_feed(r->rt, i, r->rows, r->row_counts, r->row_bytes,
						   r->nrows, overflow);
	}
	if (err) {
		msg("cannot read the kernel's counts: %s", strerror(err < 0 ? -err : err));
		r->kc_failed = 1;
		return -1;
	}
	return ret;
}

/*
 * Before the source starts: the runtime's plan (the -e one-liner counted in the kernel, the
 * script's tcpdrop.kcount tables), said with -v. 0, or -1 after one line.
 */
static int kcount_plan(struct run *r)
{
	const struct run_settings *set = r->set;
	struct runtime_kcount_plan plan;
	const char *no_kernel = NULL, *events = NULL;

	if (set->no_kernel_count)
		no_kernel = "--no-kernel-count";
	else if (!r->src->kcount_take || !r->src->kcount_collect)
		no_kernel = "this source cannot count in the kernel";
	if (set->rec)
		events = "-w needs the events";
	else if (set->pf)
		events = "the pcap filter needs the events";
	if (runtime__kcount_plan(r->rt, no_kernel, events, TCPDROP_KC_MAX_TABLES - r->n_kc, &plan))
		return -1;
	/* Said once the source started: after what -v says of the probe, which tests wait for. */
	snprintf(r->kc_why, sizeof(r->kc_why), "%s", plan.why);
	r->kc_events |= plan.events || set->rec || set->pf;
	r->owner_reads = plan.owners || set->rec;
	for (unsigned int i = 0; i < plan.n; i++) {
		int t = run__kcount_add(r, plan.keys[i], plan.max_keys[i], plan.events);

		if (t < 0) {
			msg("cannot count in the kernel: %s", strerror(-t));
			return -1;
		}
		r->rt_kc[r->rt_n_kc++] = (unsigned int)t;
	}
	return 0;
}
static void stats_all(struct run *r, struct run_stats *rs);

int run__tick(struct run *r)
{
	struct run_stats rs;
	int ret;

	/* tcpdrop.coverage() in tick() reads the counters as they are now. */
	if (r->src->coverage) {
		stats_all(r, &rs);
		runtime__housekeeping(r->rt, &rs);
	}
	signals__lua_enter();
	ret = kcount_read(r);
	if (!ret)
		ret = runtime__tick(r->rt, ++r->ticks);
	signals__lua_leave();
	return ret < 0 ? ret : ret | out_check(r);
}

int run__script_metrics(void *run, char **text, size_t *len)
{
	struct run *r = run;
	int ret;

	signals__lua_enter();
	ret = runtime__metrics(r->rt, text, len);
	signals__lua_leave();
	return ret;
}

double run__interval(const struct run *r)
{
	return r->interval;
}

int run__housekeeping(struct run *r, const struct run_stats *st)
{
	runtime__housekeeping(r->rt, st);
	/* Once a second, so that a killed tracer loses at most the last second of its file and what
	 * the writer's queue (at most 16 MiB, a few ms of writing) still held. */
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

	/* next_tick UINT64_MAX: the next tick would be past the end of time. */
	if (!r->interval_ns || t < r->next_tick || r->next_tick == UINT64_MAX)
		return 0;
	due = (t - r->next_tick) / r->interval_ns;
	if (due > MAX_TICK_GAP) {
		msg("%s: the recorded time jumps %llu s ahead; the ticks of that gap are skipped",
		    r->src->name, (unsigned long long)((t - r->next_tick) / 1000000000u));
		r->next_tick = time_add(r->next_tick, (due - 1) * r->interval_ns);
	}
	return 1;
}

int run__ticks_to(struct run *r, uint64_t t)
{
	int ret = 0;

	while (!ret && r->interval_ns && t >= r->next_tick && r->next_tick != UINT64_MAX) {
		runtime__set_clock(r->rt, r->next_tick);
		ret = run__tick(r);
		r->next_tick = time_add(r->next_tick, r->interval_ns);
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

/* The counters as stats() has them, and the coverage rows (read now: not for signals.c's thread).
 */
static void stats_all(struct run *r, struct run_stats *rs)
{
	stats(r, rs);
	if (r->src->coverage)
		rs->coverage = r->src->coverage(r->src);
}

/* SIGUSR1, as dd answers it: how the run stands, one line on stderr (signals.c's thread). */
static void status_line(void *ctx)
{
	struct run *r = ctx;
	struct run_stats rs;

	stats(r, &rs);
	if (rs.counted)
		msg("%llu counted in the kernel, %llu seen, %llu passed, %llu lost, %.1f s",
		    (unsigned long long)rs.counted, (unsigned long long)r->seen,
		    (unsigned long long)r->passed, (unsigned long long)rs.lost,
		    (double)(now_ns(CLOCK_MONOTONIC) - r->started) / 1e9);
	else
		msg("%llu seen, %llu passed, %llu lost, %.1f s", (unsigned long long)r->seen,
		    (unsigned long long)r->passed, (unsigned long long)rs.lost,
		    (double)(now_ns(CLOCK_MONOTONIC) - r->started) / 1e9);
}

static int loop_signal(void *ctx)
{
	signals__ack();
	return signals__stop() != 0;
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

static void loop_serve(void *ctx)
{
	struct run *r = ctx;

	r->src->serve(r->src);
}

static int loop_housekeeping(void *ctx)
{
	struct run *r = ctx;
	struct run_stats rs;

	if (r->src->housekeeping)
		r->src->housekeeping(r->src);
	stats_all(r, &rs);
	return run__housekeeping(r, &rs);
}

/* From init() to the end of the drops: 0, 1 (the script said stop) or <0. */
static int drive(struct run *r)
{
	const struct run_settings *set = r->set;
	struct run_source *src = r->src;
	struct loop_opts lo = { .wake_fd = src->wake_fd,
				.signal_fd = signals__fd(),
				.serve_fd = src->serve ? src->serve_fd : -1,
				.poll_ms = set->poll_ms,
				.interval = r->interval,
				.duration = set->duration };
	struct loop_hooks h = { .drain = loop_drain,
				.tick = loop_tick,
				.housekeeping = loop_housekeeping,
				.signal = loop_signal,
				.serve = loop_serve,
				.ctx = r };
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

	r.started = now_ns(CLOCK_MONOTONIC);
	ret = signals__install();
	if (ret) {
		msg("cannot set up the signal handlers: %s", strerror(-ret));
		code = 1;
		goto out;
	}
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
	if (kcount_plan(&r)) {
		code = 1;
		goto out;
	}
	signals__arm(r.rt, r.rec, status_line, &r);
	code = src->start ? src->start(src, &r, set) : 0;
	r.kc_started = 1;
	if (!code && r.kc_why[0])
		vmsg("%s", r.kc_why);
	/* --user: attached, files open; nothing from here on runs as root. */
	if (!code && privs__drop())
		code = 1;
	if (code)
		goto out;
	/* init may end the run (tcpdrop.exit) or fail; done(stats) runs either way. */
	signals__lua_enter();
	ret = runtime__init(r.rt, &r.interval);
	signals__lua_leave();
	timing_mark("init()");
	ret = ret < 0 ? ret : ret | out_check(&r);
	if (r.clocked) {
		/* Ticks and -d count from the recording's start; past 2^64 ns they never come. */
		r.interval_ns = sec_to_ns(r.interval);
		if (r.interval > 0 && !r.interval_ns)
			r.interval_ns = 1;
		r.next_tick = time_add(r.clock_start, r.interval_ns);
		if (set->duration > 0)
			r.stop_at = time_add(r.clock_start, sec_to_ns(set->duration));
	}
	if (!ret)
		ret = drive(&r);

	/* The hook a second signal interrupted has returned: done() may take its time. */
	signals__settled();
	stats_all(&r, &rs);
	runtime__housekeeping(r.rt, &rs);
	signals__lua_enter();
	/* What the kernel counted since the last tick, before done() reads it. */
	kcount_read(&r);
	runtime__done(r.rt, &rs);
	signals__lua_leave();
	out_check(&r);
	src_code = src->report ? src->report(src, &rs) : 0;
	if (r.not_delivered)
		msg("%llu drop%s not delivered: stopped", (unsigned long long)r.not_delivered,
		    r.not_delivered == 1 ? "" : "s");
	if (rs.errors)
		msg("%llu script error%s", (unsigned long long)rs.errors,
		    rs.errors == 1 ? "" : "s");
	/*
	 * The script's own exit code, else a lost output, else the source's failure, else whether
	 * the run failed; a hook cut short by a second signal: 128 + the first, as a shell says.
	 */
	code = runtime__exit_code(r.rt);
	if (code <= 0 && r.out_failed == 1)
		code = 1;
	else if (code <= 0 && src_code)
		code = src_code;
	else if (code < 0)
		code = ret < 0 ? 1 : signals__count() >= 2 ? 128 + signals__stop() : 0;
	/* A recording that could not be written in full fails the run. */
	signals__arm(r.rt, NULL, status_line, &r);
	if (r.rec && recorder__close(r.rec, &rs) && !code)
		code = 1;
	r.rec = NULL;
out:
	/* Before what the handlers and signals.c's threads use goes. */
	signals__restore();
	/* The run never started: a file it created goes. */
	recorder__close(r.rec, NULL);
	if (src->free)
		src->free(src);
	runtime__free(r.rt);
	free(r.rows);
	free(r.row_counts);
	free(r.row_bytes);
	return code;
}
