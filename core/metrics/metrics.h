/* --metrics: the Prometheus text format at /metrics, from the probe's in-kernel count tables. */
#ifndef TCPDROP_METRICS_METRICS_H
#define TCPDROP_METRICS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "drop.h"

struct probe;
struct names;

/* What the command line asks for; the build's names for tcpdrop_build_info. */
struct metrics_opts {
	const char *listen; /* [ADDR:]PORT as given */
	uint32_t labels; /* TCPDROP_KC_* bits: the labels of tcpdrop_drops_total */
	uint32_t max_keys; /* label sets kept (kernel table and run totals); 0: the default */
	const char *version, *commit; /* for tcpdrop_build_info */
};

/* The default label set: reason alone, a few dozen series on any host. */
#define METRICS_DEFAULT_LABELS TCPDROP_KC_REASON
/* Label sets kept by default: a day of varied drops, well under what a scrape can carry. */
#define METRICS_DEFAULT_KEYS 10000
/* Server limits: connections at once, per client address, idle seconds, request bytes. */
#define METRICS_MAX_CONNS 16
#define METRICS_MAX_CONNS_PER_IP 8
#define METRICS_TIMEOUT_S 10
#define METRICS_REQUEST_MAX (16 << 10)
/* A page is served again for this long: renders a second are bounded whatever clients do. */
#define METRICS_CACHE_MS 250

/*
 * "[ADDR:]PORT": PORT alone is every address, IPv6 and IPv4 (as node_exporter's ":9100"); ADDR
 * is a numeric IPv4 address or an IPv6 one in brackets ([::1]:9100). 0 or -EINVAL.
 */
int metrics__parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/*
 * "reason,state,dport": the label names into TCPDROP_KC_* bits. 0, or -EINVAL with one line
 * in err naming the word and the labels there are.
 */
int metrics__parse_labels(const char *s, uint32_t *bits, char *err, size_t errlen);
/* The label names there are, comma-separated (for help and messages). */
extern const char metrics_label_names[];

struct metrics;

/* Text the run adds to each scrape (the script's metrics): 0 with *text to free(), or <0. */
typedef int (*metrics_extra_fn)(void *ctx, char **text, size_t *len);
/*
 * The coverage rows as they stand now (the MIB counters' deltas beside the traced drops, per
 * namespace; core/run's coverage__rows): their number, *rows valid until the next call.
 */
struct mib_row;
typedef size_t (*metrics_cover_fn)(void *ctx, const struct mib_row **rows);

/*
 * Bind and listen on o->listen, as the caller is still (root: before --user), and set up the
 * server. Nothing is served until metrics__attach. 0, or the exit code after one line: 2 for an
 * address that is not one, 1 for one that cannot be bound (in use, not ours).
 */
int metrics__open(const struct metrics_opts *o, struct metrics **out);
/*
 * The series' sources: the probe's table t (its key o->labels), the names that label values
 * come from, and what the run adds.
 */
void metrics__attach(struct metrics *m, struct probe *p, unsigned int table, struct names *nm,
		     metrics_extra_fn extra, void *ctx);
/* The coverage rows, as tcpdrop_kernel_drops_total and tcpdrop_kernel_drops_traced_total. */
void metrics__attach_coverage(struct metrics *m, metrics_cover_fn fn, void *ctx);
/* The run's epoll watches this fd: readable when the server has work (metrics__serve). */
int metrics__fd(const struct metrics *m);
/* Do what is waiting, never blocking: accept, read, answer, time out idle clients. */
void metrics__serve(struct metrics *m);
/* The page a scrape gets, to free() (tests and the timing figure use it too). 0 or <0. */
int metrics__render(struct metrics *m, char **text, size_t *len);
void metrics__free(struct metrics *m);

/* A label value into dst as the text format wants it: \\, \" and \n escaped. Bytes written. */
size_t metrics__escape(char *dst, size_t cap, const char *s);

#endif
