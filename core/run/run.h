/* A run: the live tracer, replay, and the event loop they share. */
#ifndef TCPDROP_RUN_RUN_H
#define TCPDROP_RUN_RUN_H

#include <stdint.h>

/* --- A live tracing run, from loading the probe to done(stats). */

struct options;
struct runtime_opts;
struct names;
struct ksyms;
struct pcapfilter;

/* pf (may be NULL) filters each batch before the script. Returns the process exit code: 0, 1
 * (failure or script error), 2 (bad input). */
int trace__run(struct options *o, struct runtime_opts *ro, struct names *nm, struct ksyms *ks,
	       struct pcapfilter *pf);

/* --- -r: replay a recorded pcapng (or any pcap/pcapng capture) through the Lua runtime. */

struct options;
struct runtime_opts;
struct names;
struct pcapfilter;

/*
 * Read o->read_path ("-": standard input) and hand its drops to the runtime,
 * with ticks and -d in recorded time, the in-kernel filters of a live run and
 * pf (a pcap-filter expression, or NULL) applied in user space. nm must be empty:
 * it is filled with the names the file carries. Needs no privileges and loads
 * nothing into the kernel.
 * Returns the exit code: 0, 1 (bad or unreadable file, script error), 2 (usage).
 */
int replay__run(struct options *o, struct runtime_opts *ro, struct names *nm,
		struct pcapfilter *pf);

/* --- The live event loop: ring-buffer wake-ups, a short poll timer, ticks, duration, signals. */

struct loop_hooks {
	int (*drain)(void *ctx); /* read what is waiting: 0, 1 (stop) or <0 */
	int (*tick)(void *ctx, uint64_t n); /* every interval: 0, 1 (stop) or <0 */
	void (*housekeeping)(void *ctx); /* once a second: report losses */
	void *ctx;
};

struct loop_opts {
	int wake_fd; /* readable when the source wants draining now */
	unsigned int poll_ms; /* drain at least this often */
	double interval; /* seconds between ticks; 0: none */
	double duration; /* seconds until the loop ends; 0: none */
};

/*
 * Runs until a signal (SIGINT, SIGTERM), the duration, or a hook says stop:
 * 0 (signal or duration; the source was drained once more), 1 (a hook said
 * stop) or <0.
 */
int loop__run(const struct loop_opts *lo, const struct loop_hooks *h);

#endif
