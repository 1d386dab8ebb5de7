/* Test tool for kcount (core/kernel/kcount.c, the probe's tables): count drops while CMD runs.
 *
 * kcount_check [-p MODE] [-n NETNS-INO] [-o] [-i MS] -t KEYS[/MAX]... -- CMD...
 *   loads the probe with one table per -t (KEYS: comma-separated reason state flags family saddr
 *   daddr sport dport netns ifindex cpu cgroup; MAX: its max_keys), counting only with -o, and
 *   only the drops in network namespace NETNS-INO (the in-kernel filter) with -n; runs CMD,
 *   collecting and taking every MS milliseconds while it runs (-i, default: only at the end),
 *   then once more; says "kcount_check: attached" on stderr once loaded (make bench waits for
 *   it), and on SIGINT or SIGTERM ends CMD (SIGTERM) and reports as if it had ended.
 *   Prints each table's keys summed over every take, one a line, sorted by the caller:
 *   "tT FIELD=VALUE... count=N bytes=B" (an address as inet_ntop writes it, reason as "CODE"
 *   or "none" when the probe point has none, state as "CODE" or "nosock"), the overflow row
 *   as "tT overflow count=N bytes=B", then "overflow T N" (take's *overflow, summed),
 *   "collects N" and "stats events=N lost=N counted=N filtered=N".
 *   Exit: 0, 1 (CMD failed or a call did), 2 (usage).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/kernel.h"
#include "sym/sym.h"
#include "util/util.h"

/* The keys seen, as printed, with their sums over every take. */
struct row {
	char text[200];
	uint64_t count, bytes;
};

struct sums {
	struct row *rows;
	size_t n, cap;
	unsigned int table;
	uint32_t keys;
};

static volatile sig_atomic_t child;

static void on_signal(int sig)
{
	(void)sig;
	if (child > 0)
		kill(child, SIGTERM);
}

static int usage(void)
{
	fprintf(stderr, "usage: kcount_check [-p MODE] [-n NETNS-INO] [-o] [-i MS] "
			"-t KEYS[/MAX]... -- CMD...\n");
	return 2;
}

static int parse_keys(char *s, struct kcount_spec *spec)
{
	char *slash = strchr(s, '/'), *tok, *save = NULL;

	if (slash) {
		*slash = '\0';
		spec->max_keys = (uint32_t)strtoul(slash + 1, NULL, 10);
	}
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < KCOUNT_NFIELDS && strcmp(kcount_fields[i].name, tok); i++)
			;
		if (i == KCOUNT_NFIELDS)
			return -1;
		spec->keys |= kcount_fields[i].bit;
	}
	return spec->keys ? 0 : -1;
}

static void key_text(const struct tcpdrop_kkey *k, uint32_t keys, char *out, size_t len)
{
	int af = k->family == 6 ? AF_INET6 : AF_INET;
	char a[INET6_ADDRSTRLEN];
	size_t n = 0;

#define ADD(...) (n += (size_t)snprintf(out + n, n < len ? len - n : 0, __VA_ARGS__))
	if (k->evflags & TCPDROP_KC_OVERFLOW_KEY) {
		ADD(" overflow");
		return;
	}
	if (keys & TCPDROP_KC_REASON) {
		if (k->evflags & TCPDROP_F_NO_REASON)
			ADD(" reason=none");
		else
			ADD(" reason=%u", k->reason_code);
	}
	if (keys & TCPDROP_KC_STATE) {
		if (k->evflags & TCPDROP_F_SOCK)
			ADD(" state=%u", k->state_code);
		else
			ADD(" state=nosock");
	}
	if (keys & TCPDROP_KC_FLAGS)
		ADD(" flags=0x%02x", k->tcp_flags);
	if (keys & TCPDROP_KC_FAMILY)
		ADD(" family=%u", k->family);
	if (keys & TCPDROP_KC_SADDR)
		ADD(" saddr=%s", inet_ntop(af, k->saddr, a, sizeof(a)));
	if (keys & TCPDROP_KC_DADDR)
		ADD(" daddr=%s", inet_ntop(af, k->daddr, a, sizeof(a)));
	if (keys & TCPDROP_KC_SPORT)
		ADD(" sport=%u", k->sport);
	if (keys & TCPDROP_KC_DPORT)
		ADD(" dport=%u", k->dport);
	if (keys & TCPDROP_KC_NETNS)
		ADD(" netns=%u", k->netns);
	if (keys & TCPDROP_KC_IFINDEX)
		ADD(" ifindex=%u", k->ifindex);
	if (keys & TCPDROP_KC_CPU)
		ADD(" cpu=%u", k->cpu);
	if (keys & TCPDROP_KC_CGROUP)
		ADD(" cgroup=%" PRIu64, (uint64_t)k->cgroup_id);
#undef ADD
}

static int add_row(void *ctx, const struct tcpdrop_kkey *k, uint64_t count, uint64_t bytes)
{
	struct sums *s = ctx;
	char text[200];
	size_t i;

	key_text(k, s->keys, text, sizeof(text));
	for (i = 0; i < s->n && strcmp(s->rows[i].text, text); i++)
		;
	if (i == s->n) {
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64;
			s->rows = xrealloc(s->rows, s->cap * sizeof(*s->rows));
		}
		memset(&s->rows[i], 0, sizeof(s->rows[i]));
		snprintf(s->rows[i].text, sizeof(s->rows[i].text), "%s", text);
		s->n++;
	}
	s->rows[i].count += count;
	s->rows[i].bytes += bytes;
	return 0;
}

/* One collect, then every table's take into its sums. */
static int collect(struct probe *p, struct sums *sums, unsigned int n, uint64_t *over)
{
	int err = probe__kcount_collect(p);

	for (unsigned int t = 0; t < n && !err; t++) {
		uint64_t o = 0;

		err = probe__kcount_take(p, t, add_row, &sums[t], &o);
		over[t] += o;
	}
	if (err)
		fprintf(stderr, "kcount_check: collect: %s\n", strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	struct probe_opts po = { .mode = PROBE_AUTO, .ring_bytes = 1 << 20 };
	struct sums sums[TCPDROP_KC_MAX_TABLES] = { 0 };
	uint64_t over[TCPDROP_KC_MAX_TABLES] = { 0 }, st[TCPDROP_STAT_MAX];
	struct kernel_facts kf;
	struct kbtf *btf;
	struct probe *p;
	int c, interval = -1, status = 0, err, collects = 0, bad = 0;
	pid_t pid;

	while ((c = getopt(argc, argv, "p:n:oi:t:v")) != -1) {
		switch (c) {
		case 'p':
			if (probe_mode_parse(optarg, &po.mode))
				return usage();
			break;
		case 'n':
			po.filter.netns = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			po.kc_only = 1;
			break;
		case 'i':
			interval = atoi(optarg);
			break;
		case 't':
			if (po.n_kc == TCPDROP_KC_MAX_TABLES || parse_keys(optarg, &po.kc[po.n_kc]))
				return usage();
			sums[po.n_kc].table = po.n_kc;
			sums[po.n_kc].keys = po.kc[po.n_kc].keys;
			po.n_kc++;
			break;
		case 'v':
			verbose++;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc || !po.n_kc)
		return usage();
	/* As tcpdrop loads it: owners are tracked only for a table keyed by cgroup. */
	po.no_owners = 1;
	for (unsigned int t = 0; t < po.n_kc; t++)
		if (po.kc[t].keys & TCPDROP_KC_CGROUP)
			po.no_owners = 0;
	btf = kbtf__open("/sys/kernel/btf/vmlinux", NULL);
	probe__facts(btf, &kf);
	kbtf__free(btf);
	if (probe__open(&po, &kf, &p))
		return 1;
	pid = fork();
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "kcount_check: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		return 1;
	child = pid;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "kcount_check: attached\n");
	for (;;) {
		pid_t w = waitpid(pid, &status, interval >= 0 ? WNOHANG : 0);

		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (w == 0) {
			poll(NULL, 0, interval);
			bad |= collect(p, sums, po.n_kc, over) != 0;
			collects++;
		}
	}
	bad |= collect(p, sums, po.n_kc, over) != 0;
	collects++;
	for (unsigned int t = 0; t < po.n_kc; t++) {
		for (size_t i = 0; i < sums[t].n; i++)
			printf("t%u%s count=%" PRIu64 " bytes=%" PRIu64 "\n", t,
			       sums[t].rows[i].text, sums[t].rows[i].count, sums[t].rows[i].bytes);
		printf("overflow %u %" PRIu64 "\n", t, over[t]);
		free(sums[t].rows);
	}
	printf("collects %d\n", collects);
	err = probe__read_stats(p, st);
	if (err)
		bad = 1;
	else
		printf("stats events=%" PRIu64 " lost=%" PRIu64 " counted=%" PRIu64
		       " filtered=%" PRIu64 "\n",
		       st[TCPDROP_STAT_EVENTS], st[TCPDROP_STAT_LOST], st[TCPDROP_STAT_COUNTED],
		       st[TCPDROP_STAT_FILTERED]);
	probe__close(p);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
		return bad; /* ended by us, on request */
	return bad || !WIFEXITED(status) || WEXITSTATUS(status) ? 1 : 0;
}
