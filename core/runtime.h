/* The embedded LuaJIT: loads the runtime and the user's script, runs the hooks under pcall. */
#ifndef TCPDROP_RUNTIME_H
#define TCPDROP_RUNTIME_H

#include <stdint.h>

#include <linux/types.h>
#include "../bpf/tcpdrop.h"

struct names;
struct ksyms;
struct runtime;

struct runtime_opts {
	const char *script_src; /* NULL: none (the default printer runs) */
	const char *script_chunk; /* "@path" for error messages */
	const char *filter_expr;
	const char *exec_code;
	char **args;
	int nargs;
	uint64_t count; /* 0: no limit */
	int keep_going;
	double interval; /* -i seconds; wins over tcpdrop.interval() from init; 0: none */
};

struct options;

/*
 * The runtime's part of the command line: -s (its source read here), -f, -e, -c, -i,
 * --keep-going, the script's arguments. 0, or -errno after one line on stderr (the
 * caller exits 2). runtime_opts__free releases the source.
 */
int runtime_opts__from(struct runtime_opts *ro, const struct options *o);
void runtime_opts__free(struct runtime_opts *ro);

/* What done(stats) receives, beside what Lua counted itself. */
struct run_stats {
	uint64_t seen; /* events that reached the runtime */
	uint64_t lost; /* events the kernel could not queue */
	uint64_t filtered_kernel;
	uint64_t stacks_skipped;
	uint64_t stacks_failed;
	uint64_t errors; /* hook errors (with --keep-going) */
};

/*
 * -s SPEC: a script file, or the name of a shipped script. Its source and the chunk name
 * ("@path" or "@name.lua") for messages; both to free(). 0, or -errno after one line on stderr.
 */
int runtime__script_source(const char *spec, char **src, char **chunk);

/*
 * Load the runtime and compile the script, -f and -e. -EINVAL after printing one line (file:line
 * for a syntax error) when anything does not load: the caller exits 2 before attaching.
 */
int runtime__new(const struct runtime_opts *ro, struct names *nm, struct ksyms *ks,
		 struct runtime **out);
/* Also collects the commands the script started that have exited (the rest outlive us). */
void runtime__free(struct runtime *rt);

/*
 * Run init(args); *interval = the tick interval in effect (-i, else tcpdrop.interval() from
 * init; 0: none). 0 go on, 1 the script called tcpdrop.exit() (run done, no tracing), -1 error.
 */
int runtime__init(struct runtime *rt, double *interval);
/* Hand a batch to filter/drop. 0 go on, 1 stop (count reached or tcpdrop.exit), <0 error. */
int runtime__dispatch(struct runtime *rt, struct tcpdrop_event *ev, unsigned int n);
/* tick(n), then print the aggregations. 0, 1 (stop) or <0. */
int runtime__tick(struct runtime *rt, uint64_t n);
/*
 * Once a second from the event loop, and at exit: reap the commands tcpdrop.spawn() started
 * that have exited, and (st may be NULL) refresh the counters tcpdrop.stats() reports.
 */
void runtime__housekeeping(struct runtime *rt, const struct run_stats *st);
/*
 * Replay: the run's clock is the recorded time (ns, CLOCK_REALTIME), that of the event being
 * handled, else the last one set here; tcpdrop.now()/time()/every() and tick headers use it.
 */
void runtime__set_clock(struct runtime *rt, uint64_t ns);
/* done(stats), then the aggregations not printed yet. 0 or -1 (a hook error). */
int runtime__done(struct runtime *rt, struct run_stats *st);
/*
 * 1 after a hook error that stopped the run; else the code given to tcpdrop.exit(); else 1 if
 * errors were skipped (--keep-going: never a silent success); else -1.
 */
int runtime__exit_code(struct runtime *rt);
uint64_t runtime__errors(struct runtime *rt);

#endif
