/* The command line: options parsed and checked here, acted on elsewhere. */
#ifndef TCPDROP_CLI_CLI_H
#define TCPDROP_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "drop.h"
#include "kernel/kernel.h"
#include "metrics/metrics.h"

/* --- Command-line options: parsed and checked here, acted on elsewhere. */

struct options {
	const char *script; /* -s: a file, or the name of a shipped script */
	const char *filter_expr; /* -f */
	const char *exec_code; /* -e */
	char **script_args; /* words after --, for init(args) */
	int nscript_args;
	double duration; /* -d seconds; 0: until interrupted */
	uint64_t count; /* -c; 0: no limit */
	double interval; /* -i seconds; 0: no tick unless the script asks */
	enum probe_mode probe;
	int no_stack;
	int keep_going;
	int verbose;
	uint32_t netns_id;
	int pid_netns; /* resolved into netns_id */
	const char *container; /* --container: resolved by the live source, and again later */
	const char *pod; /* --pod [NAMESPACE/]NAME */
	char *reasons; /* --reason list, checked against the kernel's names at load */
	struct tcpdrop_filter
		filter; /* the in-kernel filters; --reason and the netns are set up later */
	uint32_t stack_rate; /* --stack-rate */
	int help;
	int version;
	int list_scripts;
	const char *show_script;
	int list_reasons;
	const char *write_path; /* -w: record pcapng here ("-": stdout) */
	const char *read_path; /* -r: replay this pcapng/pcap instead of tracing */
	int force; /* --force: -w may replace an existing file */
	uint32_t snaplen; /* --snaplen: payload bytes to record after the headers */
	int snaplen_set;
	char *pcap_expr; /* trailing words before --: a pcap-filter expression */
	uint32_t ring_kb; /* --ring-kb: each CPU's ring buffer */
	uint64_t max_keys; /* --max-keys; 0: the script's or the default */
	const char *user; /* --user: run as this user once attached */
	const char *explain; /* --explain REASON */
	int no_kernel_count; /* --no-kernel-count */
	/* --metrics [ADDR:]PORT (listen NULL: none), --metrics-labels; main adds the names */
	struct metrics_opts metrics;
	int metrics_labels_set;
	int coverage; /* --coverage: the kernel's drop counters beside the traced drops, alone */
};

/* The most keys --max-keys lets an aggregation keep: beyond, memory, not a bound, decides. */
#define TCPDROP_MAX_KEYS_MAX 100000000

/*
 * Parse argv. 0 on success; -EINVAL with a one-line reason in err (usage
 * error: exit 2). opts->help/version/list_* ask main to print and exit 0.
 */
int opts_parse(struct options *opts, int argc, char **argv, char *err, size_t errlen);
void opts_free(struct options *opts);

/*
 * Knobs for tests, read from the environment here and nowhere else; not options, since
 * users have no reason to turn them.
 *  TCPDROP_POLL_MS=N  the live loop's poll period, 1 ms to an hour (empty: unset), so that a
 *                     test can push the timer out of the way and see that the probe's fill
 *                     threshold alone wakes the reader (tests/wakeup)
 *  TCPDROP_RING=shared  one shared ring buffer even where per-CPU ones work, so that tests
 *                     cover the fallback on any kernel
 *  TCPDROP_TIMING     "[timing]" lines on stderr: where start-up goes (util.h)
 *  TCPDROP_OWNERS     "off": the probe neither tracks nor reports sockets' owners, uid and
 *                     cgroup (what attribution costs, for make bench; --cgroup then matches none)
 */
struct env_knobs {
	unsigned int poll_ms; /* default 10 */
	int ring_shared;
	int timing;
	int no_owners; /* TCPDROP_OWNERS=off */
};

#define TCPDROP_POLL_MS 10 /* the longest an event waits in the ring before we read it */
#define TCPDROP_POLL_MS_MAX 3600000u

/* Read the knobs. 0, or -EINVAL with a one-line reason in err (exit 2 when it matters). */
int env_read(struct env_knobs *k, char *err, size_t errlen);

/* Parse "10.0.0.0/8", "2001:db8::/32", "::1" into an address filter. 0 or -EINVAL. */
int parse_net(const char *s, struct tcpdrop_net *net);

/* Most payload bytes --snaplen may ask for: what pkt[] holds beyond the largest headers. */
#define TCPDROP_SNAPLEN_MAX (TCPDROP_PKT_MAX - TCPDROP_HDR_MAX)

/*
 * The storm guard's default: a stack costs ~1.1 us in the kernel, so 1000 a
 * second per CPU bound its cost to about 0.1 % of a CPU, yet every drop of a
 * normal day keeps its stack.
 */
#define TCPDROP_DEFAULT_STACK_RATE 1000

/*
 * Each CPU's ring: 2 MiB hold 16k stack-less events (a storm's, once the
 * guard skips stacks) or 3k with stacks, tens of milliseconds of a storm for
 * a reader that drains every 10 ms.
 */
#define TCPDROP_DEFAULT_RING_KB 2048

extern const char usage_text[];

/*
 * The runtime's part of the command line: -s (its source read here), -f, -e, -c, -i,
 * --keep-going, the script's arguments. 0, or -errno after one line on stderr (the
 * caller exits 2). runtime_opts__free (core/lua) releases the source.
 */
struct runtime_opts;
int runtime_opts__from(struct runtime_opts *ro, const struct options *o);

#endif
