/*
 * Coverage: each MIB counter that counts drops, its delta over the run beside the traced counts
 * of the drop reasons the kernel names for the same event, and a verdict. Built on mib.h's
 * accessors only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"
#include "sym/sym.h"
#include "util/util.h"

#define MAX_REASONS 6 /* of one counter */

static const char no_probe[] = "this kernel offers no probe for them";
static const char no_reason[] = "this kernel names no drop reason for them";

/*
 * Counters that explain.c's mib column does not give, or gives only in part: most are freed
 * with consume_skb (no kfree_skb event whatever the reason) or never become a freed packet.
 * Listed first, so they open the table. reasons: those explain.c cannot say (it keeps one
 * counter per reason); explain.c's are added to every counter.
 */
static const struct extra {
	const char *counter, *what, *reasons, *why;
	int consumed; /* no kfree_skb event on most kernels: none traced is expected */
} extras[] = {
	/* The accept queue was full when a SYN or the handshake's last ACK came. */
	{ "TcpExtListenOverflows", "listen overflows", NULL, NULL, 1 },
	/* Every segment a listener gave up on: overflows, SYN-queue drops, children not made. */
	{ "TcpExtListenDrops", "listener drops", "TCP_LISTEN_OVERFLOW", NULL, 1 },
	/* The same, as tcpdrop's listen probes name them where the kernel does not (listen.c). */
	{ "TcpExtListenDrops", "listener drops", LISTEN_OVERFLOW_NAME, NULL, 1 },
	{ "TcpExtListenDrops", "listener drops", LISTEN_SYNQ_NAME, NULL, 1 },
	/* The SYN queue was full and syncookies are off: the SYN is consumed, unanswered. */
	{ "TcpExtTCPReqQFullDrop", "SYNs dropped on a full SYN queue", NULL, NULL, 1 },
	/* The SYN queue was full and the SYN was answered with a syncookie: pressure, no loss. */
	{ "TcpExtTCPReqQFullDoCookies", "SYNs answered with a cookie on a full SYN queue", NULL,
	  "they were answered, not dropped: there is nothing to trace", 1 },
	/* The application owned the socket and its backlog was full. */
	{ "TcpExtTCPBacklogDrop", "backlog drops", NULL, NULL, 0 },
	/* The receive buffer, or TCP's memory (tcp_mem), had no room. */
	{ "TcpExtTCPRcvQDrop", "receive-queue drops", NULL, NULL, 0 },
	/* Data came while the window this host advertised was zero. */
	{ "TcpExtTCPZeroWindowDrop", "zero-window drops", NULL, NULL, 0 },
	/* PAWS: a timestamp older than the connection's latest, on an established connection. */
	{ "TcpExtPAWSEstab", "PAWS drops on established connections", NULL, NULL, 0 },
	/* An out-of-order segment with no memory to queue it. */
	{ "TcpExtTCPOFODrop", "out-of-order drops", NULL, NULL, 0 },
	/* A TTL below the socket's minimum (IP_MINTTL). */
	{ "TcpExtTCPMinTTLDrop", "minimum-TTL drops", NULL, NULL, 0 },
	/* Segments with a wrong TCP checksum. */
	{ "TcpInCsumErrors", "TCP checksum errors", NULL, NULL, 0 },
};

struct cover_ent {
	const char *counter, *what, *why;
	int consumed;
	const char *reasons[MAX_REASONS];
	unsigned int n_reasons;
	char joined[MAX_REASONS * 32];
};

static const char *const verdicts[] = {
	[MIB_MATCHED] = "matched",
	[MIB_TRACED_FEWER] = "traced fewer",
	[MIB_TRACED_MORE] = "traced more",
	[MIB_NOT_TRACED] = "not traced: no probe on this kernel sees these",
};

const char *mib_verdict_text(enum mib_verdict v)
{
	return (unsigned int)v < ARRAY_SIZE(verdicts) ? verdicts[v] : "?";
}

static struct cover_ent *ent_of(struct cover_ent *map, size_t *n, size_t max, const char *counter)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(map[i].counter, counter))
			return &map[i];
	if (*n >= max)
		return NULL;
	map[*n] = (struct cover_ent){ .counter = counter };
	return &map[(*n)++];
}

static void add_reason(struct cover_ent *c, const char *reason)
{
	for (unsigned int i = 0; i < c->n_reasons; i++)
		if (!strcmp(c->reasons[i], reason))
			return;
	if (c->n_reasons < MAX_REASONS)
		c->reasons[c->n_reasons++] = reason;
}

/* The counters that count drops, and their reasons: extras, then explain.c's mib column. */
static size_t build_map(struct cover_ent **out)
{
	size_t max = ARRAY_SIZE(extras), n = 0;
	struct cover_ent *map;

	while (reason_help__at(max - ARRAY_SIZE(extras)))
		max++;
	map = xcalloc(max, sizeof(*map));
	for (size_t i = 0; i < ARRAY_SIZE(extras); i++) {
		struct cover_ent *c = ent_of(map, &n, max, extras[i].counter);

		c->what = extras[i].what;
		c->why = extras[i].why;
		c->consumed = extras[i].consumed;
		if (extras[i].reasons)
			add_reason(c, extras[i].reasons);
	}
	for (size_t i = 0; reason_help__at(i); i++) {
		const struct reason_help *h = reason_help__at(i);
		struct cover_ent *c = h->mib ? ent_of(map, &n, max, h->mib) : NULL;

		if (c)
			add_reason(c, h->name);
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;

		for (unsigned int r = 0; r < map[i].n_reasons; r++)
			len += (size_t)snprintf(map[i].joined + len, sizeof(map[i].joined) - len,
						"%s%s", r ? "," : "", map[i].reasons[r]);
	}
	*out = map;
	return n;
}

static int names_any(struct names *nm, const struct cover_ent *c)
{
	if (!nm)
		return c->n_reasons > 0;
	for (unsigned int r = 0; r < c->n_reasons; r++)
		if (names__reason_code(nm, c->reasons[r]) >= 0)
			return 1;
	return 0;
}

static uint64_t traced_of(const struct cover_ent *c, const struct mib_traced *t, const size_t *idx,
			  size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		for (unsigned int r = 0; r < c->n_reasons; r++)
			if (t[idx[i]].reason && !strcmp(t[idx[i]].reason, c->reasons[r]))
				sum += t[idx[i]].count;
	return sum;
}

static void verdict_of(struct mib_row *row, const struct cover_ent *c, int named)
{
	row->why = NULL;
	if (row->traced == row->kernel) {
		row->verdict = MIB_MATCHED;
	} else if (row->traced > row->kernel) {
		row->verdict = MIB_TRACED_MORE;
	} else if (row->traced == 0 && (c->consumed || !named)) {
		row->verdict = MIB_NOT_TRACED;
		row->why = c->why ? c->why : c->consumed ? no_probe : no_reason;
	} else {
		row->verdict = MIB_TRACED_FEWER;
	}
}

/* The rows and the reasons they name (the map's, freed next) in one block: one free() for all. */
static struct mib_row *one_block(const struct mib_row *rows, size_t n)
{
	size_t bytes = n * sizeof(*rows);
	struct mib_row *out;
	char *s;

	if (!n)
		return NULL;
	for (size_t r = 0; r < n; r++)
		bytes += strlen(rows[r].reasons) + 1;
	out = xmalloc(bytes);
	memcpy(out, rows, n * sizeof(*rows));
	s = (char *)(out + n);
	for (size_t r = 0; r < n; r++) {
		size_t len = strlen(rows[r].reasons) + 1;

		out[r].reasons = memcpy(s, rows[r].reasons, len);
		s += len;
	}
	return out;
}

size_t mib__coverage(const struct mib *m, struct names *nm, const struct mib_traced *traced,
		     size_t n_traced, int all, struct mib_row **rows)
{
	size_t n_map, n_rows = 0, cap = 0, *idx = xcalloc(n_traced + 1, sizeof(*idx));
	struct mib_row *out = NULL;
	struct cover_ent *map;
	struct mib_ns ns;

	n_map = build_map(&map);
	for (size_t i = 0; !mib__ns(m, i, &ns); i++) {
		size_t n_idx = 0;

		if (!ns.open)
			continue;
		for (size_t t = 0; t < n_traced; t++)
			if (traced[t].netns == ns.ino)
				idx[n_idx++] = t;
		for (size_t c = 0; c < n_map; c++) {
			struct mib_row row = { .netns = ns.ino, .counter = map[c].counter };
			uint64_t start, now;
			int have = !mib__find(m, ns.ino, map[c].counter, &start, &now);

			row.kernel = have ? now - start : 0;
			row.traced = traced_of(&map[c], traced, idx, n_idx);
			if (!all && !row.kernel && !row.traced)
				continue;
			if (!have && !row.traced)
				continue;
			row.what = map[c].what ? map[c].what : map[c].counter;
			row.reasons = map[c].joined;
			verdict_of(&row, &map[c], names_any(nm, &map[c]));
			if (n_rows == cap) {
				cap = cap ? cap * 2 : 64;
				out = xrealloc(out, cap * sizeof(*out));
			}
			out[n_rows++] = row;
		}
	}
	*rows = one_block(out, n_rows);
	free(out);
	free(map);
	free(idx);
	return n_rows;
}

static int digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static int wider(int w, int v)
{
	return v > w ? v : w;
}

static void say_row(const struct mib_row *r, int many, FILE *out)
{
	fprintf(out, "%" PRIu64 " %s counted by the kernel, %" PRIu64 " traced", r->kernel, r->what,
		r->traced);
	if (r->verdict != MIB_NOT_TRACED && *r->reasons)
		fprintf(out, " (%s)", r->reasons);
	if (r->verdict == MIB_NOT_TRACED)
		fprintf(out, ": %s", r->why);
	else if (r->verdict == MIB_TRACED_FEWER)
		fputs(": the others were filtered out, lost, or dropped under another reason", out);
	else
		fputs(": the reasons count more than the counter does", out);
	if (many)
		fprintf(out, " (netns %" PRIu64 ")", r->netns);
	fputc('\n', out);
}

static void say_ns(const struct mib *m, const struct mib_ns *ns, FILE *out)
{
	uint64_t late = ns->since_ns - mib__born_ns(m);

	if (!ns->open)
		fprintf(out, "netns %" PRIu64 ": no counters: %s\n", ns->ino,
			ns->err == -ENOENT  ? "not found in /run/netns nor /proc/*/ns/net"
			: ns->err == -EPERM ? "not allowed to enter it"
					    : strerror(-ns->err));
	else if (ns->gone)
		fprintf(out, "netns %" PRIu64 ": its last process has gone: counted until then\n",
			ns->ino);
	else if (late >= 1000000000ull)
		fprintf(out,
			"netns %" PRIu64 ": counted from %.1f s into the run, when first seen\n",
			ns->ino, (double)late / 1e9);
}

void mib__print_coverage(const struct mib *m, const struct mib_row *rows, size_t n, FILE *out)
{
	int wn = 5, wc = 7, wk = 6, wt = 6, many = 0;
	struct mib_ns ns;

	for (size_t i = 0; i < n; i++) {
		wn = wider(wn, digits(rows[i].netns));
		wc = wider(wc, (int)strlen(rows[i].counter));
		wk = wider(wk, digits(rows[i].kernel));
		wt = wider(wt, digits(rows[i].traced));
		many |= rows[i].netns != rows[0].netns;
	}
	fprintf(out, "%-*s  %-*s  %*s  %*s  %s\n", wn, "NETNS", wc, "COUNTER", wk, "KERNEL", wt,
		"TRACED", "VERDICT");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-*" PRIu64 "  %-*s  %*" PRIu64 "  %*" PRIu64 "  %s\n", wn,
			rows[i].netns, wc, rows[i].counter, wk, rows[i].kernel, wt, rows[i].traced,
			mib_verdict_text(rows[i].verdict));
	for (size_t i = 0; i < n; i++)
		if (rows[i].verdict != MIB_MATCHED)
			say_row(&rows[i], many, out);
	for (size_t i = 0; !mib__ns(m, i, &ns); i++)
		say_ns(m, &ns, out);
	if (mib__overflow(m))
		fprintf(out,
			"%" PRIu64 " more namespaces seen and not watched: the table is full\n",
			mib__overflow(m));
}
