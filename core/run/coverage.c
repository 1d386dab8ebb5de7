/*
 * Coverage: what the tracer traced, per namespace and reason, beside what the kernel's own MIB
 * counters counted over the run (core/kernel's mib). Fed once per delivered batch (and by
 * coverage__add for counts that never became events); read at each second, tick and at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "run/run.h"
#include "sym/sym.h"
#include "util/util.h"

#define MAX_KEYS 4096 /* (netns, reason) pairs kept; more are counted, and said */
#define MAX_PENDING 64 /* namespaces seen and not yet watched, between two housekeepings */
#define SAMPLE_GAP_NS 50000000ull /* ticks closer than this share one read of the counters */

struct key {
	uint32_t netns, reason;
	uint64_t count;
	int used;
};

struct coverage {
	struct names *nm;
	struct mib *mib;
	int listen; /* LISTEN_SEES_* */
	struct key *keys;
	size_t n_keys;
	uint64_t keys_full; /* drops whose pair found no room */
	uint32_t pending[MAX_PENDING];
	size_t n_pending;
	uint32_t last_netns; /* the namespace of the last batch, known to be watched (or tried) */
	uint64_t sampled_ns;
	struct mib_row *rows;
	size_t n_rows;
	char *text;
	size_t text_cap;
};

static const char no_probe[] = "this kernel offers no probe for them";
static const char no_probe_syn[] = "this kernel offers no probe for those dropped at the SYN";

static uint32_t own_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

struct coverage *coverage__new(struct names *nm, uint32_t netns)
{
	struct coverage *c = xcalloc(1, sizeof(*c));

	c->nm = nm;
	c->mib = mib__new(0);
	c->keys = xcalloc(MAX_KEYS * 2, sizeof(*c->keys));
	/* Now, as root, so that the namespace's counters start here: --netns-id, else our own. */
	if (!netns)
		netns = own_netns();
	if (netns && mib__watch(c->mib, netns) >= 0)
		c->last_netns = netns;
	mib__sample(c->mib);
	c->sampled_ns = now_ns(CLOCK_MONOTONIC);
	return c;
}

void coverage__set_listen(struct coverage *c, int listen)
{
	c->listen = listen;
}

void coverage__free(struct coverage *c)
{
	if (!c)
		return;
	mib__free(c->mib);
	free(c->keys);
	free(c->rows);
	free(c->text);
	free(c);
}

static void note_netns(struct coverage *c, uint32_t netns)
{
	if (netns == c->last_netns || !netns)
		return;
	for (size_t i = 0; i < c->n_pending; i++)
		if (c->pending[i] == netns)
			return;
	if (c->n_pending < MAX_PENDING)
		c->pending[c->n_pending++] = netns;
}

void coverage__add(struct coverage *c, uint32_t netns, uint32_t reason, uint64_t n)
{
	size_t mask = MAX_KEYS * 2 - 1, h;

	if (!c || !n)
		return;
	h = (((size_t)netns * 0x9e3779b1u) ^ reason) & mask;
	for (;; h = (h + 1) & mask) {
		struct key *k = &c->keys[h];

		if (k->used && k->netns == netns && k->reason == reason) {
			k->count += n;
			return;
		}
		if (k->used)
			continue;
		if (c->n_keys >= MAX_KEYS) {
			c->keys_full += n;
			return;
		}
		*k = (struct key){ .netns = netns, .reason = reason, .count = n, .used = 1 };
		c->n_keys++;
		note_netns(c, netns);
		return;
	}
}

void coverage__batch(struct coverage *c, const struct tcpdrop_event *ev, unsigned int n)
{
	for (unsigned int i = 0; c && i < n; i++)
		coverage__add(c, ev[i].netns,
			      ev[i].evflags & TCPDROP_F_NO_REASON ? COVERAGE_NO_REASON
								  : ev[i].reason_code,
			      1);
}

/* The namespaces seen since: watched from now (counted from when first seen, as mib says). */
void coverage__housekeeping(struct coverage *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_pending; i++)
		mib__watch(c->mib, c->pending[i]);
	if (c->n_pending)
		c->last_netns = c->pending[c->n_pending - 1];
	c->n_pending = 0;
}

static int is(const struct mib_row *r, const char *counter)
{
	return !strcmp(r->counter, counter);
}

/*
 * mib's verdicts know which counters the kernel frees without a kfree_skb event; here is what
 * this run's listen probes change in that: a probe for the SYNs makes those traced as any other,
 * and without one the kernel-named final ACKs (6.15+) are only a part of the overflows.
 */
static void listen_verdicts(struct coverage *c)
{
	for (size_t i = 0; i < c->n_rows; i++) {
		struct mib_row *r = &c->rows[i];

		if (!is(r, "TcpExtListenOverflows") && !is(r, "TcpExtTCPReqQFullDrop") &&
		    !is(r, "TcpExtListenDrops"))
			continue;
		if (c->listen & LISTEN_SEES_SYN) {
			if (r->verdict == MIB_NOT_TRACED) {
				r->verdict = MIB_TRACED_FEWER;
				r->why = NULL;
			}
		} else if (r->traced < r->kernel && !is(r, "TcpExtListenDrops")) {
			r->verdict = MIB_NOT_TRACED;
			r->why = r->traced ? no_probe_syn : no_probe;
		}
	}
}

/* The rows as they stand now (the counters read again unless they just were). */
static void refresh(struct coverage *c)
{
	struct mib_traced *t = xcalloc(c->n_keys + 1, sizeof(*t));
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	size_t n = 0;

	coverage__housekeeping(c);
	if (now - c->sampled_ns >= SAMPLE_GAP_NS) {
		mib__sample(c->mib);
		c->sampled_ns = now;
	}
	for (size_t h = 0; h < MAX_KEYS * 2; h++) {
		const struct key *k = &c->keys[h];

		if (!k->used || k->reason == COVERAGE_NO_REASON)
			continue;
		t[n++] = (struct mib_traced){ .netns = k->netns,
					      .reason = names__reason(c->nm, k->reason),
					      .count = k->count };
	}
	free(c->rows);
	c->n_rows = mib__coverage(c->mib, c->nm, t, n, 0, &c->rows);
	free(t);
	listen_verdicts(c);
}

/* A field of the text: tabs and newlines would break its lines (names never hold them). */
static void put(struct coverage *c, size_t *len, const char *s, char end)
{
	size_t n = strlen(s ? s : "");

	if (*len + n + 2 > c->text_cap) {
		c->text_cap = (*len + n + 2) * 2;
		c->text = xrealloc(c->text, c->text_cap);
	}
	for (size_t i = 0; i < n; i++)
		c->text[(*len)++] = s[i] == '\t' || s[i] == '\n' ? ' ' : s[i];
	c->text[(*len)++] = end;
	c->text[*len] = '\0';
}

const char *coverage__text(struct coverage *c)
{
	size_t len = 0;

	if (!c)
		return NULL;
	refresh(c);
	put(c, &len, "", '\0');
	len = 0;
	for (size_t i = 0; i < c->n_rows; i++) {
		const struct mib_row *r = &c->rows[i];
		char num[3][24];

		snprintf(num[0], sizeof(num[0]), "%" PRIu64, r->netns);
		snprintf(num[1], sizeof(num[1]), "%" PRIu64, r->kernel);
		snprintf(num[2], sizeof(num[2]), "%" PRIu64, r->traced);
		put(c, &len, num[0], '\t');
		put(c, &len, r->counter, '\t');
		put(c, &len, r->what, '\t');
		put(c, &len, num[1], '\t');
		put(c, &len, num[2], '\t');
		put(c, &len, mib_verdict_text(r->verdict), '\t');
		put(c, &len, r->reasons, '\t');
		put(c, &len, r->why, '\n');
	}
	return c->text;
}

size_t coverage__rows(struct coverage *c, const struct mib_row **rows)
{
	*rows = NULL;
	if (!c)
		return 0;
	refresh(c);
	*rows = c->rows;
	return c->n_rows;
}

int coverage__print(struct coverage *c, FILE *out)
{
	if (!c)
		return 0;
	refresh(c);
	mib__print_coverage(c->mib, c->rows, c->n_rows, out);
	if (c->keys_full)
		fprintf(out,
			"%" PRIu64 " traced drops not counted here: more than %d namespace and "
			"reason pairs\n",
			c->keys_full, MAX_KEYS);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

void coverage__report(struct coverage *c)
{
	if (!c)
		return;
	refresh(c);
	for (size_t i = 0; i < c->n_rows; i++) {
		const struct mib_row *r = &c->rows[i];

		/*
		 * Cookies answered a SYN: pressure, not a loss. Listener drops sum up the queues'
		 * overflows, said on their own lines.
		 */
		if (r->verdict != MIB_NOT_TRACED || is(r, "TcpExtTCPReqQFullDoCookies") ||
		    is(r, "TcpExtListenDrops"))
			continue;
		msg("%" PRIu64 " %s counted by the kernel, %" PRIu64 " traced: %s (netns %" PRIu64
		    "; --coverage shows the kernel's counters)",
		    r->kernel, r->what, r->traced, r->why, r->netns);
	}
}
