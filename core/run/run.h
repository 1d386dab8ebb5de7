/* A run: one lifecycle for every source of drops (the live rings, a recording, a test feeder). */
#ifndef TCPDROP_RUN_RUN_H
#define TCPDROP_RUN_RUN_H

#include <stdint.h>

#include "drop.h"
#include "kernel/kernel.h"

struct names;
struct ksyms;
struct runtime_opts;
struct pcapfilter;
struct recorder_opts;
struct run;
struct metrics_opts;

/* What a run is asked to do, filled by the command line (or a test tool) before it starts. */
struct run_settings {
	const struct runtime_opts *ro; /* the script, -f, -e, -c, -i */
	struct pcapfilter *pf; /* the trailing pcap-filter expression, or NULL */
	const struct recorder_opts *rec; /* -w, or NULL */
	struct tcpdrop_filter filter; /* the in-kernel filters, --reason and the netns resolved */
	double duration; /* -d seconds; 0: none */
	unsigned int poll_ms; /* loop sources: drain at least this often */
	int no_kernel_count; /* --no-kernel-count: aggregations count events, never in the kernel */
};

/*
 * Where drops come from. A loop source is read by the epoll loop (its wake_fd, the poll
 * timer, ticks and -d on the wall clock); any other is drained once, to its end, and says
 * itself when ticks and housekeeping happen (run__tick, run__housekeeping, or the recorded
 * clock: run__clock_start). Hooks other than drain may be NULL.
 */
struct run_source {
	const char *name; /* for messages: the file, "standard input" */
	int loop;
	int wake_fd; /* loop sources, read after start: readable when there is data; -1: none */
	int serve_fd; /* with serve, after start: readable when --metrics' server has work */
	/* After the runtime loaded, before init(): attach. 0, or the exit code of a failure. */
	int (*start)(struct run_source *s, struct run *r, const struct run_settings *set);
	/* Hand what is waiting to run__deliver(). 0 (more may come), 1 (stop), <0. */
	int (*drain)(struct run_source *s, struct run *r);
	/* Loop sources, after a signal or -d: the last of it. 0 or <0. */
	int (*finish)(struct run_source *s, struct run *r);
	/* Loop sources, NULL but for --metrics: serve_fd is readable, or a second went by. */
	void (*serve)(struct run_source *s);
	/* Loop sources, once a second: say what is new (losses). */
	void (*housekeeping)(struct run_source *s);
	/* The counters as they stand (rs->seen holds what the run delivered). */
	void (*stats)(struct run_source *s, struct run_stats *rs);
	/*
	 * The coverage rows as they stand now, as text (coverage__text), for Lua; NULL: none (a
	 * recording has no kernel counters).
	 */
	const char *(*coverage)(struct run_source *s);
	/* After done(): what the source has to say. 0, or the exit code its own failure asks. */
	int (*report)(struct run_source *s, const struct run_stats *rs);
	void (*free)(struct run_source *s);
	/*
	 * Sources that count drops into tables (the kernel's kcount, or a stand-in): NULL where
	 * none is. start reads run__kcount_tables(); collect and take as probe__kcount_collect
	 * and probe__kcount_take (core/kernel/kernel.h), t an index run__kcount_add returned.
	 */
	int (*kcount_collect)(struct run_source *s);
	int (*kcount_take)(struct run_source *s, unsigned int t, kcount_fn fn, void *ctx,
			   uint64_t *overflow);
};

/*
 * The whole run: the recorder (set->rec) and the runtime, src->start, init(args), the drops
 * until the source ends, a signal, -d or the script says stop, then done(stats), the reports
 * (losses, stacks skipped, script errors) and the cleanup; src is freed. nm and ks hold the
 * names and symbols src filled when it was opened. Returns the process exit code: 0, 1
 * (failure, script error), 2 (a script that does not load, bad input).
 */
int run__main(const struct run_settings *set, struct run_source *src, struct names *nm,
	      struct ksyms *ks);

/*
 * A batch through the stages, in order: the pcap-filter expression (the matching events
 * move to the front of ev; ev[n] is left alone), the recorder, the runtime. Counted as seen.
 * 0, 1 (stop) or <0.
 */
int run__deliver(struct run *r, struct tcpdrop_event *ev, unsigned int n);
/*
 * Counting in the kernel. Before the source starts, each client (the runtime's plan, the metrics
 * endpoint) asks for its tables: keys (TCPDROP_KC_* bits) and max_keys (0: the default); events:
 * whether that client also needs the events. The table's index (for the source's take), or
 * -EOPNOTSUPP (the source counts nothing), -ENOSPC (TCPDROP_KC_MAX_TABLES in use), -EBUSY (the
 * source started).
 */
int run__kcount_add(struct run *r, uint32_t keys, uint32_t max_keys, int events);
/* For the source's start: the tables asked for, and whether no client needs the events. */
const struct kcount_spec *run__kcount_tables(const struct run *r, unsigned int *n, int *kc_only);

/*
 * Whether a client of the run reads the owner fields: a script, an -e or -f naming one, -w. The
 * source adds its own (a cgroup filter, a table keyed by cgroup); without any, it tracks none.
 */
int run__reads_owners(const struct run *r);

/* tick(n) with the next n (the kernel's counts read first). 0, 1 (stop) or <0. */
int run__tick(struct run *r);
/* --metrics: the script's own series, as text to free() (NULL: none). 0 or <0. */
int run__script_metrics(void *run, char **text, size_t *len);
/* The tick interval in effect after init() (seconds; 0: none). */
double run__interval(const struct run *r);
/*
 * Reap the script's children, refresh the counters tcpdrop.stats() reports (st NULL: keep
 * them), write out what the recorder holds. 0, or <0 when the recording failed.
 */
int run__housekeeping(struct run *r, const struct run_stats *st);

/*
 * A recording's clock, from its start at ns: ticks and -d count in recorded time. Call from
 * start. run__set_clock moves it (the time tcpdrop.now() reads between events).
 */
void run__clock_start(struct run *r, uint64_t ns);
void run__set_clock(struct run *r, uint64_t ns);
/* Where -d ends the recorded time (UINT64_MAX: never). */
uint64_t run__clock_stop(const struct run *r);
/*
 * Whether ticks are due by recorded time t (deliver the batch before them first); a jump
 * too far ahead skips the ticks of the gap, said once.
 */
int run__ticks_due(struct run *r, uint64_t t);
/* Run the ticks due by t. 0, 1 (stop) or <0. */
int run__ticks_to(struct run *r, uint64_t t);

/* --- The sources core/ ships: the live probe, and a recorded file. */

struct live_source_opts {
	enum probe_mode probe;
	int no_stack;
	uint32_t stack_rate; /* --stack-rate */
	uint32_t ring_kb; /* each CPU's ring */
	int ring_shared; /* one shared ring even where per-CPU ones work (tests) */
	int no_owners; /* TCPDROP_OWNERS=off: no attribution (bench) */
	int want_pkt; /* -w: copy the packets */
	uint32_t snaplen;
	const struct metrics_opts *metrics; /* --metrics, or NULL */
	int metrics_only; /* --metrics with no script, -e, -f or -w: count in the kernel only */
	/*
	 * --container, --pod ([NAMESPACE/]NAME): found at start (nothing found: one line, exit 2),
	 * filtered in the kernel by their cgroups and namespaces, found again as they restart.
	 */
	const char *container, *pod;
	int coverage; /* --coverage: at the end, the coverage table alone on standard output */
};

/*
 * Read the kernel's BTF: its reason and state names into nm. Loads nothing yet (start
 * does, after the runtime). 0, or the exit code after one line saying why.
 */
int live_source__open(const struct live_source_opts *lo, struct names *nm, struct ksyms *ks,
		      struct run_source **out);

/*
 * Open path ("-": standard input) and read up to its first drop: the names the file
 * carries into nm (which must be empty), its frames into ks. Needs no privileges. The
 * in-kernel filters of the settings are applied here, with the kernel's own rules.
 * 0, or the exit code (1) after one line saying why.
 */
int file_source__open(const char *path, struct names *nm, struct ksyms *ks,
		      struct run_source **out);

/* --- The live event loop: ring-buffer wake-ups, a short poll timer, ticks, duration, signals. */

struct loop_hooks {
	int (*drain)(void *ctx); /* read what is waiting: 0, 1 (stop) or <0 */
	int (*tick)(void *ctx, uint64_t n); /* every interval: 0, 1 (stop) or <0 */
	int (*housekeeping)(void *ctx); /* once a second: 0, or <0 (stop: it failed) */
	int (*signal)(void *ctx); /* signal_fd readable: 1 stop, 0 go on */
	void (*serve)(void *ctx); /* serve_fd readable, and once a second: never blocks */
	void *ctx;
};

struct loop_opts {
	int wake_fd; /* readable when the source wants draining now */
	int signal_fd; /* readable when a signal came: the signal hook says what it means */
	int serve_fd; /* --metrics: readable when the HTTP server has work; -1: none */
	unsigned int poll_ms; /* drain at least this often */
	double interval; /* seconds between ticks; 0: none */
	double duration; /* seconds until the loop ends; 0: none */
};

/*
 * Runs until the signal hook says stop, the duration, or a hook says stop:
 * 0 (signal or duration; the source was drained once more), 1 (a hook said
 * stop) or <0.
 */
int loop__run(const struct loop_opts *lo, const struct loop_hooks *h);

/*
 * --- Coverage (coverage.c): the drops traced per namespace and reason, beside the kernel's own
 * MIB counters' deltas over the run (core/kernel's mib), with a verdict per counter.
 */

struct coverage;

/* The reason of a drop whose probe point carries none (it matches no counter). */
#define COVERAGE_NO_REASON UINT32_MAX

/*
 * Start, before the probe attaches (its drops are then all in the counters' deltas): watch netns
 * (--netns-id, --pid-netns), or this process's own namespace when 0, and read its counters now
 * (as root: entering another namespace needs it). nm names the reason codes. Never NULL.
 */
struct coverage *coverage__new(struct names *nm, uint32_t netns);
/* Once attached: probe__listen()'s LISTEN_SEES_* bits (which listen overflows the probes see). */
void coverage__set_listen(struct coverage *c, int listen);
void coverage__free(struct coverage *c);
/*
 * The one entry point for traced counts: n drops of reason (a kernel code, or COVERAGE_NO_REASON)
 * in namespace netns. The namespace is watched from the next housekeeping on. Bounded: a pair
 * that finds no room is counted and said in the table.
 */
void coverage__add(struct coverage *c, uint32_t netns, uint32_t reason, uint64_t n);
/* A delivered batch, event by event (coverage__add); the delivery path's one call. */
void coverage__batch(struct coverage *c, const struct tcpdrop_event *ev, unsigned int n);
/* Once a second: watch the namespaces first seen since the last call. */
void coverage__housekeeping(struct coverage *c);
/*
 * The rows now, one line each, tab-separated: netns, counter, what, kernel, traced, verdict,
 * reasons (comma-separated), why (lua/coverage.lua reads them). Valid until the next call.
 */
const char *coverage__text(struct coverage *c);
/* The same rows as they are (--metrics renders them): their number, valid until the next call. */
size_t coverage__rows(struct coverage *c, const struct mib_row **rows);
/* --coverage: the table (mib__print_coverage) to out. 0, or -EIO when it could not be written. */
int coverage__print(struct coverage *c, FILE *out);
/* At the end of a run: one line on stderr per counter the kernel counted and no probe could see. */
void coverage__report(struct coverage *c);

#endif
