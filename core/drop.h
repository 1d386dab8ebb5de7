/* The drop as every room of core/ sees it: the event the probe writes, and a run's counters. */
#ifndef TCPDROP_DROP_H
#define TCPDROP_DROP_H

#include <stdint.h>

#include <linux/types.h>
#include "tcpdrop.h"

/* What done(stats) receives, beside what Lua counted itself. */
struct run_stats {
	uint64_t seen; /* events that reached the runtime */
	uint64_t lost; /* events the kernel could not queue */
	uint64_t filtered_kernel;
	uint64_t stacks_skipped;
	uint64_t stacks_failed;
	uint64_t errors; /* hook errors (with --keep-going) */
	uint64_t counted; /* drops counted into the kernel's tables (kcount), not seen as events */
	const char *coverage; /* the coverage rows as text (core/run/coverage.c), or NULL */
};

#endif
