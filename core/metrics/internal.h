/* Inside core/metrics: the server's state and the series it serves. */
#ifndef TCPDROP_METRICS_INTERNAL_H
#define TCPDROP_METRICS_INTERNAL_H

#include "metrics/metrics.h"

struct MHD_Daemon;

/* One label set of tcpdrop_drops_total: the masked kernel key and its run totals. */
struct series {
	struct tcpdrop_kkey key;
	uint64_t count;
	uint32_t next; /* the hash chain: index + 1, 0 ends it */
};

struct metrics {
	struct MHD_Daemon *d;
	int fd; /* the daemon's epoll fd */
	struct metrics_opts o;
	uint32_t max_keys;
	/* The sources (metrics__attach). */
	struct probe *probe;
	unsigned int table;
	struct names *nm;
	metrics_extra_fn extra;
	void *extra_ctx;
	metrics_cover_fn cover;
	void *cover_ctx;
	/* The run's totals: counters never go back. */
	struct series *s;
	uint32_t n, cap;
	uint32_t *heads; /* hash buckets: index + 1 */
	uint32_t nheads;
	uint64_t overflow; /* drops whose label set found no room, here or in the kernel */
	uint64_t collect_errors;
	uint64_t scrapes;
	/* The last page, served again for METRICS_CACHE_MS. */
	char *page;
	size_t page_len;
	uint64_t page_ns;
	/* The probe's programs, for their run counts (kernel.bpf_stats_enabled). */
	int prog_fds[8];
	int nprogs;
};

struct metrics *series__new(const struct metrics_opts *o);
void series__free(struct metrics *m);

#endif
