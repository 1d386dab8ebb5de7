/*
 * The series of --metrics: the kernel table's counts added up over the run (a counter never goes
 * back), bounded by --max-keys with what does not fit counted, and the page in the text format.
 */
#include "metrics/internal.h"
#include "kernel/kernel.h"
#include "sym/sym.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <luajit.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The labels --metrics-labels knows are the kcount fields (core/kernel), in their order. */

const char metrics_label_names[] =
	"reason,state,flags,family,saddr,daddr,sport,dport,netns,ifindex,cpu,cgroup";

int metrics__parse_labels(const char *s, uint32_t *bits, char *err, size_t errlen)
{
	const char *p = s;

	*bits = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < KCOUNT_NFIELDS; i++)
			if (strlen(kcount_fields[i].name) == n &&
			    !strncmp(kcount_fields[i].name, p, n))
				break;
		if (i == KCOUNT_NFIELDS) {
			snprintf(err, errlen, "--metrics-labels: '%.*s' is not a label (%s)",
				 (int)(n > 64 ? 64 : n), p, metrics_label_names);
			return -EINVAL;
		}
		*bits |= kcount_fields[i].bit;
		p += n;
		if (*p == ',' && !p[1]) {
			snprintf(err, errlen, "--metrics-labels: a label name after the last ','");
			return -EINVAL;
		}
		if (*p == ',')
			p++;
	}
	if (!*bits) {
		snprintf(err, errlen, "--metrics-labels: no label given (%s)", metrics_label_names);
		return -EINVAL;
	}
	return 0;
}

size_t metrics__escape(char *dst, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < cap; s++) {
		if (*s == '\\' || *s == '"') {
			dst[o++] = '\\';
			dst[o++] = *s;
		} else if (*s == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else {
			dst[o++] = *s;
		}
	}
	dst[o] = '\0';
	return o;
}

/* The probe's programs are the process's bpf-prog descriptors: their run counts need no root. */
static void find_progs(struct metrics *m)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) && m->nprogs < (int)ARRAY_SIZE(m->prog_fds)) {
		char link[64];
		ssize_t n;
		int fd;

		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:bpf-prog"))
			continue;
		fd = fcntl(atoi(de->d_name), F_DUPFD_CLOEXEC, 3);
		if (fd >= 0)
			m->prog_fds[m->nprogs++] = fd;
	}
	closedir(d);
}

struct metrics *series__new(const struct metrics_opts *o)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->o = *o;
	m->fd = -1;
	m->max_keys = o->max_keys ? o->max_keys : METRICS_DEFAULT_KEYS;
	/* Buckets: a power of two at least the keys kept, for short chains. */
	for (m->nheads = 64; m->nheads < m->max_keys && m->nheads < (1u << 30);)
		m->nheads <<= 1;
	m->heads = xcalloc(m->nheads, sizeof(*m->heads));
	return m;
}

void series__free(struct metrics *m)
{
	for (int i = 0; i < m->nprogs; i++)
		close(m->prog_fds[i]);
	free(m->heads);
	free(m->s);
	free(m->page);
	free(m);
}

void metrics__attach(struct metrics *m, struct probe *p, unsigned int table, struct names *nm,
		     metrics_extra_fn extra, void *ctx)
{
	m->probe = p;
	m->table = table;
	m->nm = nm;
	m->extra = extra;
	m->extra_ctx = ctx;
	find_progs(m);
}

void metrics__attach_coverage(struct metrics *m, metrics_cover_fn fn, void *ctx)
{
	m->cover = fn;
	m->cover_ctx = ctx;
}

/* One key's counts into the run's totals; a key with no room counts as overflow. */
static int add_key(void *ctx, const struct tcpdrop_kkey *k, uint64_t count, uint64_t bytes)
{
	struct metrics *m = ctx;
	uint32_t h, *at;

	if (k->evflags & TCPDROP_KC_OVERFLOW_KEY) {
		m->overflow += count;
		return 0;
	}
	h = fnv1a32(k, sizeof(*k)) & (m->nheads - 1);
	for (at = &m->heads[h]; *at; at = &m->s[*at - 1].next) {
		struct series *s = &m->s[*at - 1];

		if (!memcmp(&s->key, k, sizeof(*k))) {
			s->count += count;
			return 0;
		}
	}
	if (m->n >= m->max_keys) {
		m->overflow += count;
		return 0;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->s = xrealloc(m->s, (size_t)m->cap * sizeof(*m->s));
	}
	m->s[m->n] = (struct series){ .key = *k, .count = count };
	*at = ++m->n;
	return 0;
}

/* The page, growing as it is written. */
struct page {
	char *buf;
	size_t len, cap;
};

static void put(struct page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct page *pg, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(pg->buf + pg->len, pg->cap - pg->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < pg->cap - pg->len)
			break;
		pg->cap = 2 * pg->cap + (size_t)n;
		pg->buf = xrealloc(pg->buf, pg->cap);
	}
	pg->len += (size_t)n;
}

static void put_label(struct page *pg, int *first, const char *name, const char *value)
{
	char esc[3 * 256];

	metrics__escape(esc, sizeof(esc), value);
	put(pg, "%s%s=\"%s\"", *first ? "" : ",", name, esc);
	*first = 0;
}

static void put_kernel_row(struct page *pg, const char *family, const struct mib_row *r, uint64_t v)
{
	char ns[24];
	int first = 1;

	snprintf(ns, sizeof(ns), "%" PRIu64, r->netns);
	put(pg, "%s{", family);
	put_label(pg, &first, "netns", ns);
	put_label(pg, &first, "counter", r->counter);
	put(pg, "} %" PRIu64 "\n", v);
}

static const char *const flag_names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };

/* A label's value, as the printers show the field. */
static void label_value(struct metrics *m, const struct tcpdrop_kkey *k, uint32_t bit, char *v,
			size_t cap)
{
	const char *name;
	size_t o = 0;

	switch (bit) {
	case TCPDROP_KC_REASON:
		name = k->evflags & TCPDROP_F_NO_REASON ? "UNKNOWN"
							: names__reason(m->nm, k->reason_code);
		if (name)
			snprintf(v, cap, "%s", name);
		else
			snprintf(v, cap, "%u", k->reason_code);
		return;
	case TCPDROP_KC_STATE:
		name = names__state(m->nm, k->state_code);
		if (!(k->evflags & TCPDROP_F_SOCK) || !k->state_code)
			snprintf(v, cap, "-");
		else if (name)
			snprintf(v, cap, "%s", name);
		else
			snprintf(v, cap, "%u", k->state_code);
		return;
	case TCPDROP_KC_FLAGS:
		/* No flag at all: '-', for an empty value is no label to Prometheus. */
		snprintf(v, cap, "%s", k->tcp_flags ? "" : "-");
		for (int i = 0; i < 8; i++)
			if (k->tcp_flags & (1u << i))
				o += (size_t)snprintf(v + o, cap - o, "%s%s", o ? "|" : "",
						      flag_names[i]);
		return;
	case TCPDROP_KC_FAMILY:
		snprintf(v, cap, "%s", k->family == 6 ? "ipv6" : "ipv4");
		return;
	case TCPDROP_KC_SADDR:
	case TCPDROP_KC_DADDR:
		if (!inet_ntop(k->family == 6 ? AF_INET6 : AF_INET,
			       bit == TCPDROP_KC_SADDR ? k->saddr : k->daddr, v, (socklen_t)cap))
			snprintf(v, cap, "?");
		return;
	case TCPDROP_KC_SPORT:
		snprintf(v, cap, "%u", k->sport);
		return;
	case TCPDROP_KC_DPORT:
		snprintf(v, cap, "%u", k->dport);
		return;
	case TCPDROP_KC_NETNS:
		snprintf(v, cap, "%u", k->netns);
		return;
	case TCPDROP_KC_IFINDEX:
		snprintf(v, cap, "%u", k->ifindex);
		return;
	case TCPDROP_KC_CPU:
		snprintf(v, cap, "%u", k->cpu);
		return;
	case TCPDROP_KC_CGROUP:
		snprintf(v, cap, "%" PRIu64, (uint64_t)k->cgroup_id);
		return;
	}
	v[0] = '\0';
}

static void put_drops(struct metrics *m, struct page *pg)
{
	char names[160] = "";
	size_t o = 0;

	for (size_t i = 0; i < KCOUNT_NFIELDS; i++)
		if (m->o.labels & kcount_fields[i].bit)
			o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", o ? ", " : "",
					      kcount_fields[i].name);
	put(pg, "# HELP tcpdrop_drops_total TCP packets the kernel dropped, by %s.\n", names);
	put(pg, "# TYPE tcpdrop_drops_total counter\n");
	for (uint32_t i = 0; i < m->n; i++) {
		const struct series *s = &m->s[i];
		int first = 1;

		put(pg, "tcpdrop_drops_total{");
		for (size_t l = 0; l < KCOUNT_NFIELDS; l++) {
			char v[256];

			if (!(m->o.labels & kcount_fields[l].bit))
				continue;
			label_value(m, &s->key, kcount_fields[l].bit, v, sizeof(v));
			put_label(pg, &first, kcount_fields[l].name, v);
		}
		put(pg, "} %" PRIu64 "\n", s->count);
	}
}

/*
 * The kernel's own drop counters (the TCP MIB, per namespace: what --coverage shows), as their
 * rise over the run, beside the drops traced with a reason naming the same counter: a counter
 * that rises while its traced one does not is a class of drops no probe of this kernel sees.
 * Rows appear once either side counted one (a counter that never moved is no drop).
 */
static void put_kernel(struct metrics *m, struct page *pg)
{
	static const char *const fam[2] = { "tcpdrop_kernel_drops_total",
					    "tcpdrop_kernel_drops_traced_total" };
	const struct mib_row *rows = NULL;
	size_t n;

	if (!m->cover)
		return;
	n = m->cover(m->cover_ctx, &rows);
	put(pg,
	    "# HELP %s Drops the kernel's own counters counted over the run (nstat's names), by "
	    "network namespace.\n# TYPE %s counter\n",
	    fam[0], fam[0]);
	for (size_t i = 0; i < n; i++)
		put_kernel_row(pg, fam[0], &rows[i], rows[i].kernel);
	put(pg,
	    "# HELP %s Drops tcpdrop traced with a reason the kernel counts in that counter, by "
	    "network namespace.\n# TYPE %s counter\n",
	    fam[1], fam[1]);
	for (size_t i = 0; i < n; i++)
		put_kernel_row(pg, fam[1], &rows[i], rows[i].traced);
}

/* Whether kernel.bpf_stats_enabled is on: the kernel times the programs only then. */
static int bpf_stats_on(void)
{
	char b[8] = "";
	int fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n > 0 && b[0] == '1';
}

static void put_bpf(struct metrics *m, struct page *pg)
{
	uint64_t runs = 0, ns = 0;

	for (int i = 0; i < m->nprogs; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(m->prog_fds[i], &info, &len))
			continue;
		runs += info.run_cnt;
		ns += info.run_time_ns;
	}
	/* Off, and never on during the run: no figure rather than a zero that means nothing. */
	if (!runs && !bpf_stats_on())
		return;
	put(pg, "# HELP tcpdrop_bpf_runs_total Runs of tcpdrop's probe (kernel.bpf_stats_enabled "
		"must be 1).\n# TYPE tcpdrop_bpf_runs_total counter\n");
	put(pg, "tcpdrop_bpf_runs_total %" PRIu64 "\n", runs);
	put(pg, "# HELP tcpdrop_bpf_run_seconds_total Time spent in tcpdrop's probe "
		"(kernel.bpf_stats_enabled must be 1).\n"
		"# TYPE tcpdrop_bpf_run_seconds_total counter\n");
	put(pg, "tcpdrop_bpf_run_seconds_total %.9f\n", (double)ns / 1e9);
}

int metrics__render(struct metrics *m, char **text, size_t *len)
{
	uint64_t st[TCPDROP_STAT_MAX] = { 0 };
	struct page pg = { .cap = 4096 };
	uint64_t over = 0;
	char esc[4][256];
	int err = 0;

	pg.buf = xmalloc(pg.cap);
	pg.buf[0] = '\0';
	if (m->probe) {
		err = probe__kcount_collect(m->probe);
		if (!err)
			/* over comes again as the TCPDROP_KC_OVERFLOW_KEY row: add_key counts it.
			 */
			err = probe__kcount_take(m->probe, m->table, add_key, m, &over);
		if (err)
			m->collect_errors++;
		probe__read_stats(m->probe, st);
	}
	put_drops(m, &pg);
	put_kernel(m, &pg);
	put(&pg,
	    "# HELP tcpdrop_map_overflow_total Drops whose label set found no room (--max-keys): "
	    "in no tcpdrop_drops_total series.\n# TYPE tcpdrop_map_overflow_total counter\n"
	    "tcpdrop_map_overflow_total %" PRIu64 "\n",
	    m->overflow);
	put(&pg,
	    "# HELP tcpdrop_events_lost_total Drop events the ring buffer had no room for.\n"
	    "# TYPE tcpdrop_events_lost_total counter\ntcpdrop_events_lost_total %" PRIu64 "\n",
	    st[TCPDROP_STAT_LOST]);
	put(&pg,
	    "# HELP tcpdrop_collect_errors_total Scrapes that could not read the kernel's table.\n"
	    "# TYPE tcpdrop_collect_errors_total counter\ntcpdrop_collect_errors_total %" PRIu64
	    "\n",
	    m->collect_errors);
	metrics__escape(esc[0], sizeof(esc[0]), m->o.version ? m->o.version : "");
	metrics__escape(esc[1], sizeof(esc[1]), m->o.commit ? m->o.commit : "");
	snprintf(esc[2], sizeof(esc[2]), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	metrics__escape(esc[3], sizeof(esc[3]), LUAJIT_VERSION);
	put(&pg,
	    "# HELP tcpdrop_build_info The tcpdrop that serves this page.\n"
	    "# TYPE tcpdrop_build_info gauge\n"
	    "tcpdrop_build_info{version=\"%s\",commit=\"%s\",libbpf=\"%s\",luajit=\"%s\"} 1\n",
	    esc[0], esc[1], esc[2], esc[3]);
	put_bpf(m, &pg);
	if (m->extra) {
		char *x = NULL;
		size_t xl = 0;

		if (!m->extra(m->extra_ctx, &x, &xl) && x)
			put(&pg, "%.*s", (int)xl, x);
		free(x);
	}
	*text = pg.buf;
	*len = pg.len;
	return 0;
}
