/* A live tracing run: load the probe, read its events into the runtime until told to stop. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym/sym.h"
#include "kernel/kernel.h"
#include "run/run.h"
#include "cli/cli.h"
#include "capture/capture.h"
#include "lua/bridge.h"
#include "util/util.h"

#define BATCH 1024
#define POLL_MS 10 /* the longest an event waits in the ring before we read it */
#define POLL_MS_MAX 3600000u

/*
 * For tests only: TCPDROP_POLL_MS=N sets the poll period to N ms (1 to an hour; empty means
 * unset), so that a test can push the timer out of the way and see that the probe's fill
 * threshold alone wakes the reader (tests/wakeup). Not an option: users have no reason to
 * trade latency for fewer wake-ups. 0, or -EINVAL after one line to the user.
 */
static int poll_period(unsigned int *ms)
{
	const char *s = getenv("TCPDROP_POLL_MS");
	unsigned long v = 0;
	const char *p;

	*ms = POLL_MS;
	if (!s || !*s)
		return 0;
	/* Digits only: strtoul would take a sign, spaces or hex. */
	for (p = s; *p >= '0' && *p <= '9' && v <= POLL_MS_MAX; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (*p || !v || v > POLL_MS_MAX) {
		msg("TCPDROP_POLL_MS: '%s' is not a poll period in milliseconds (1-%u)", s,
		    POLL_MS_MAX);
		return -EINVAL;
	}
	*ms = (unsigned int)v;
	return 0;
}

struct app {
	struct options *o;
	struct probe *probe;
	struct live *live;
	struct runtime *rt;
	struct recorder *rec; /* -w */
	struct pcapfilter *pf; /* the trailing pcap-filter expression */
	uint64_t *lost_seen; /* per CPU: losses already reported */
	uint64_t *lost_now;
};

static int deliver(void *ctx, struct tcpdrop_event *ev, unsigned int n)
{
	struct app *app = ctx;
	int ret;

	n = (unsigned int)pcapfilter__batch(app->pf, ev, n);
	if (!n)
		return 0;
	/* Recorded before the script runs: a script error cannot keep a drop out of the file. */
	if (app->rec && recorder__write(app->rec, ev, n))
		return -1;
	ret = runtime__dispatch(app->rt, ev, n);
	fflush(stdout);
	return ret;
}

static int drain(void *ctx)
{
	struct app *app = ctx;

	return live__drain(app->live);
}

static int tick(void *ctx, uint64_t n)
{
	struct app *app = ctx;
	int ret = runtime__tick(app->rt, n);

	fflush(stdout);
	return ret;
}

/* Losses are never silent: say so on stderr as soon as the kernel counts one. */
static void report_losses(struct app *app)
{
	uint64_t *cpu = app->lost_now;
	char where[256] = "";
	size_t used = 0;
	uint64_t total = 0, fresh = 0;
	int n = probe__read_stat_percpu(app->probe, TCPDROP_STAT_LOST, cpu);

	for (int c = 0; c < n; c++) {
		uint64_t d = cpu[c] - app->lost_seen[c];

		total += cpu[c];
		if (!d)
			continue;
		fresh += d;
		if (used < sizeof(where) - 32)
			used += (size_t)snprintf(where + used, sizeof(where) - used,
						 "%s%llu on CPU %d", used ? ", " : "",
						 (unsigned long long)d, c);
		app->lost_seen[c] = cpu[c];
	}
	if (fresh)
		msg("lost %llu events, the ring buffer was full (%s; %llu in all)",
		    (unsigned long long)fresh, where, (unsigned long long)total);
}

/* The counters done(stats) and tcpdrop.stats() report, as they stand now. */
static void fill_stats(struct app *app, struct run_stats *rs)
{
	uint64_t st[TCPDROP_STAT_MAX] = { 0 };

	probe__read_stats(app->probe, st);
	rs->seen = live__seen(app->live);
	rs->lost = st[TCPDROP_STAT_LOST];
	rs->filtered_kernel = st[TCPDROP_STAT_FILTERED];
	rs->stacks_skipped = st[TCPDROP_STAT_STACK_SKIPPED];
	rs->stacks_failed = st[TCPDROP_STAT_STACK_FAILED];
}

static void housekeeping(void *ctx)
{
	struct app *app = ctx;
	struct run_stats rs = { 0 };

	report_losses(ctx);
	fill_stats(app, &rs);
	runtime__housekeeping(app->rt, &rs);
	/* Once a second, so that a killed tracer loses at most the last second of its file. */
	if (app->rec && recorder__flush(app->rec))
		kill(getpid(), SIGTERM); /* ends the loop (its signalfd); the close fails the run */
}

static int netns_of_pid(int pid, uint32_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st)) {
		msg("--pid-netns %d: %s", pid, strerror(errno));
		return -errno;
	}
	*ino = (uint32_t)st.st_ino;
	return 0;
}

int trace__run(struct options *o, struct runtime_opts *ro, struct names *nm, struct ksyms *ks,
	       struct pcapfilter *pf)
{
	struct app app = { .o = o, .pf = pf };
	struct probe_opts po = { .mode = o->probe,
				 .cfg = o->cfg,
				 .ring_bytes = (size_t)o->ring_kb << 10 };
	struct loop_opts lo = { .poll_ms = POLL_MS,
				.interval = o->interval,
				.duration = o->duration };
	struct loop_hooks hooks = {
		.drain = drain, .tick = tick, .housekeeping = housekeeping, .ctx = &app
	};
	struct run_stats rs = { 0 };
	char why[256];
	struct kbtf *btf;
	struct kernel_facts kf;
	double interval = 0;
	int err, code;

	if (poll_period(&lo.poll_ms))
		return 2;
	btf = kbtf__open("/sys/kernel/btf/vmlinux", NULL);
	if (!btf) {
		if (o->probe == PROBE_AUTO || o->probe == PROBE_TP_BTF ||
		    o->probe == PROBE_FENTRY) {
			msg("this kernel exposes no BTF (/sys/kernel/btf/vmlinux): tcpdrop needs a "
			    "kernel built with CONFIG_DEBUG_INFO_BTF=y");
			return 1;
		}
	}
	timing_mark("kernel BTF read");
	names__load_kernel(nm, btf);
	/* Done with it: libbpf reads the BTF again while loading, and peak memory adds up. */
	probe__facts(btf, &kf);
	kbtf__free(btf);
	btf = NULL;
	if (o->list_reasons) {
		if (names__next_reason(nm, -1) < 0) {
			msg("this kernel names no drop reasons (they came with Linux 5.17): drops "
			    "show the reason UNKNOWN");
			return 1;
		}
		names__print_reasons(nm, stdout);
		return 0;
	}
	if (names__resolve_list(nm, o->reasons, "this kernel has", o->cfg.reasons, &o->cfg.nreasons,
				TCPDROP_MAX_REASONS))
		return 2;
	if (o->pid_netns && netns_of_pid(o->pid_netns, &o->netns_id))
		return 2;
	po.cfg = o->cfg;
	po.cfg.netns = o->netns_id;
	po.cfg.want_stack = !o->no_stack;
	if (o->write_path) {
		struct recorder_opts rec = { .path = o->write_path,
					     .force = o->force,
					     .snaplen = o->snaplen };

		/* With no filter, -c N means N drops: the file holds exactly those. */
		if (!ro->script_src && !ro->filter_expr)
			rec.max_events = o->count;
		po.cfg.want_pkt = 1;
		po.cfg.snaplen = o->snaplen;
		if (recorder__open(&rec, nm, ks, &app.rec))
			return 1;
		/* -w -: stdout is the file; drops are printed (to stderr) only when asked for. */
		if (!strcmp(o->write_path, "-") && !ro->script_src && !ro->exec_code &&
		    !ro->filter_expr)
			ro->exec_code = "";
	}

	timing_mark("names");
	/* A script that does not load fails before anything attaches. */
	err = runtime__new(ro, nm, ks, &app.rt);
	timing_mark("Lua runtime");
	if (err) {
		recorder__close(app.rec, NULL);
		return 2;
	}
	if (probe__check_privileges(why, sizeof(why))) {
		msg("%s", why);
		runtime__free(app.rt);
		recorder__close(app.rec, NULL);
		return 1;
	}
	/* Symbols load while the verifier works, not when the first stack arrives. */
	if (!o->no_stack)
		ksyms__preload(ks);
	err = probe__open(&po, &kf, &app.probe);
	timing_mark("probe attached");
	if (err) {
		runtime__free(app.rt);
		recorder__close(app.rec, NULL);
		return 1;
	}
	app.lost_seen = xcalloc((size_t)libbpf_num_possible_cpus(), sizeof(uint64_t));
	app.lost_now = xcalloc((size_t)libbpf_num_possible_cpus(), sizeof(uint64_t));
	app.live = live__new(app.probe, ks, BATCH, deliver, &app);
	if (!app.live) {
		code = 1;
		goto out;
	}
	timing_mark("ring reader");
	/* init may end the run (tcpdrop.exit) or fail; done(stats) runs either way. */
	err = runtime__init(app.rt, &interval);
	timing_mark("init()");
	fflush(stdout);
	if (!err) {
		lo.interval = interval;
		lo.wake_fd = live__fd(app.live);
		recorder__start(app.rec);
		err = loop__run(&lo, &hooks);
		/* Then the events held back for time order, unless the script said stop. */
		if (!err)
			err = live__finish(app.live) < 0 ? -1 : 0;
		else if (err > 0)
			err = 0;
	} else if (err > 0) {
		err = 0;
	}

	fill_stats(&app, &rs);
	runtime__housekeeping(app.rt, &rs);
	runtime__done(app.rt, &rs);
	fflush(stdout);
	report_losses(&app);
	if (rs.stacks_skipped)
		msg("%llu stacks not captured: over --stack-rate %u per CPU per second",
		    (unsigned long long)rs.stacks_skipped, o->cfg.stack_rate);
	if (rs.stacks_failed)
		msg("%llu stacks could not be read by the kernel",
		    (unsigned long long)rs.stacks_failed);
	if (rs.errors)
		msg("%llu script error%s", (unsigned long long)rs.errors,
		    rs.errors == 1 ? "" : "s");
	code = runtime__exit_code(app.rt);
	if (code < 0)
		code = err ? 1 : 0;
	/* A recording that could not be written in full fails the run. */
	if (recorder__close(app.rec, &rs) && !code)
		code = 1;
	app.rec = NULL;
out:
	recorder__close(app.rec, NULL);
	live__free(app.live);
	free(app.lost_seen);
	free(app.lost_now);
	probe__close(app.probe);
	runtime__free(app.rt);
	return code;
}
