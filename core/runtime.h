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
};

/* What done(stats) receives, beside what Lua counted itself. */
struct run_stats {
	uint64_t seen; /* events that reached the runtime */
	uint64_t lost; /* events the kernel could not queue */
	uint64_t filtered_kernel;
	uint64_t stacks_skipped;
	uint64_t stacks_failed;
	uint64_t errors; /* hook errors (with --keep-going) */
};

/* -EINVAL after printing one line when the runtime or the script does not load. */
int runtime__new(const struct runtime_opts *ro, struct names *nm, struct ksyms *ks,
		 struct runtime **out);
void runtime__free(struct runtime *rt);

/* Run init(args); the tick interval the script asked for (0 if none) in *interval. */
int runtime__init(struct runtime *rt, double *interval);
/* Hand a batch to filter/drop. 0 go on, 1 stop (count reached or tcpdrop.exit), <0 error. */
int runtime__dispatch(struct runtime *rt, struct tcpdrop_event *ev, unsigned int n);
int runtime__tick(struct runtime *rt, uint64_t n);
int runtime__done(struct runtime *rt, struct run_stats *st);
/* The exit code a script asked for with tcpdrop.exit(code), or -1. */
int runtime__exit_code(struct runtime *rt);
uint64_t runtime__errors(struct runtime *rt);

#endif
