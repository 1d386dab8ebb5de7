/* The live event loop: ring-buffer wake-ups, a short poll timer, ticks, duration, signals. */
#ifndef TCPDROP_LOOP_H
#define TCPDROP_LOOP_H

#include <stdint.h>

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
