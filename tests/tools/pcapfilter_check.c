/* Test tool for core/pcapfilter: match events described on the command line against an expression.
 *
 * pcapfilter_check EXPR SPEC...  prints one digit per SPEC (1: match, 0: not), after checking
 *                                that pcapfilter__batch keeps exactly those, in order, intact
 * pcapfilter_check --bench EXPR SPEC N   ns per event over N copies of SPEC through the batch
 *
 * SPEC is key=value words joined by commas: src=ADDR dst=ADDR (IPv4 or IPv6; the family follows),
 * sport, dport, seq, ack, win, flags=SYN|ACK|..., and:
 *   pkt         also write real headers into pkt[] (IPv4 with 4 bytes of options, so that they
 *               differ from the rebuilt ones, and payload=N bytes of 0xab)
 *   pkt-only    like pkt, then zero the event's own address/port/flag fields: only pkt[] can match
 *   caplen=N    keep only N bytes of pkt[]
 * Exit: 0, 1 (batch disagrees with the per-event answers), 2 (bad expression or spec).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"
#include "util/util.h"

#define MAX_SPECS 64
#define BATCH_COPIES 40 /* enough to cross a 1024-event batch with a few specs */

static const char *const flag_names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };

static int parse_flags(const char *s, __u8 *out)
{
	char *copy = xstrdup(s), *save = NULL;
	int ret = 0;

	*out = 0;
	for (char *t = strtok_r(copy, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
		unsigned int i;

		for (i = 0; i < 8 && strcmp(t, flag_names[i]); i++)
			;
		if (i == 8) {
			ret = -EINVAL;
			break;
		}
		*out |= (__u8)(1u << i);
	}
	free(copy);
	return ret;
}

static void put16(__u8 *p, unsigned int v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static void put32(__u8 *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Real headers, laid out differently from what pcapfilter rebuilds: options and a payload. */
static void build_pkt(struct tcpdrop_event *e, unsigned int payload)
{
	__u8 *p = e->pkt, *th;
	unsigned int l4;

	memset(p, 0, sizeof(e->pkt));
	if (e->family == 4) {
		l4 = 24;
		p[0] = 0x46; /* IHL 6: one word of options */
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, e->saddr_raw, 4);
		memcpy(p + 16, e->daddr_raw, 4);
		p[20] = p[21] = p[22] = p[23] = 1; /* NOP options */
	} else {
		/* No extension header: libpcap's "tcp" does not look past one (tcpdump alike). */
		l4 = 40;
		p[0] = 0x60;
		p[6] = 6;
		p[7] = 64;
		memcpy(p + 8, e->saddr_raw, 16);
		memcpy(p + 24, e->daddr_raw, 16);
	}
	th = p + l4;
	put16(th, e->sport);
	put16(th + 2, e->dport);
	put32(th + 4, e->seq);
	put32(th + 8, e->ack_seq);
	th[12] = 5 << 4;
	th[13] = e->tcp_flags;
	put16(th + 14, e->win);
	if (l4 + 20 + payload > sizeof(e->pkt))
		payload = (unsigned int)sizeof(e->pkt) - l4 - 20;
	memset(th + 20, 0xab, payload);
	if (e->family == 4)
		put16(p + 2, l4 + 20 + payload);
	else
		put16(p + 4, l4 - 40 + 20 + payload);
	e->hdr_len = (__u16)(l4 + 20);
	e->pkt_len = (__u16)(l4 + 20 + payload);
}

static int parse_spec(const char *spec, struct tcpdrop_event *e)
{
	char *copy = xstrdup(spec), *save = NULL;
	int pkt = 0, only = 0, ret = 0;
	long caplen = -1;
	unsigned int payload = 0;

	memset(e, 0, sizeof(*e));
	for (char *t = strtok_r(copy, ",", &save); t && !ret; t = strtok_r(NULL, ",", &save)) {
		char *v = strchr(t, '=');
		unsigned long n = 0;

		if (v) {
			*v++ = '\0';
			n = strtoul(v, NULL, 0);
		}
		if (!strcmp(t, "src") || !strcmp(t, "dst")) {
			__u8 *a = t[0] == 's' ? e->saddr_raw : e->daddr_raw;
			int fam = v && strchr(v, ':') ? 6 : 4;

			if (!v || inet_pton(fam == 6 ? AF_INET6 : AF_INET, v, a) != 1 ||
			    (e->family && e->family != fam))
				ret = -EINVAL;
			e->family = (__u8)fam;
		} else if (!strcmp(t, "sport") && v) {
			e->sport = (__u16)n;
		} else if (!strcmp(t, "dport") && v) {
			e->dport = (__u16)n;
		} else if (!strcmp(t, "seq") && v) {
			e->seq = (__u32)n;
		} else if (!strcmp(t, "ack") && v) {
			e->ack_seq = (__u32)n;
		} else if (!strcmp(t, "win") && v) {
			e->win = (__u16)n;
		} else if (!strcmp(t, "flags") && v) {
			ret = parse_flags(v, &e->tcp_flags);
		} else if (!strcmp(t, "payload") && v) {
			payload = (unsigned int)n;
		} else if (!strcmp(t, "caplen") && v) {
			caplen = (long)n;
		} else if (!strcmp(t, "pkt") && !v) {
			pkt = 1;
		} else if (!strcmp(t, "pkt-only") && !v) {
			pkt = only = 1;
		} else {
			ret = -EINVAL;
		}
	}
	free(copy);
	if (ret)
		return ret;
	if (pkt && e->family) {
		build_pkt(e, payload);
		if (caplen >= 0 && caplen < e->pkt_len)
			e->pkt_len = (__u16)caplen;
	}
	if (only) {
		memset(e->saddr_raw, 0, sizeof(e->saddr_raw));
		memset(e->daddr_raw, 0, sizeof(e->daddr_raw));
		e->sport = e->dport = 0;
		e->tcp_flags = 0;
	}
	return 0;
}

/* Mark event i so that a moved event shows where it came from and whether it arrived whole. */
static void stamp(struct tcpdrop_event *e, unsigned int i)
{
	e->ts_ns = i;
	e->nstack = (__u16)(1 + i % TCPDROP_STACK_MAX);
	for (unsigned int k = 0; k < e->nstack; k++)
		e->stack_addr[k] = 0xffffffff81000000ull + i * 64 + k;
}

static int intact(const struct tcpdrop_event *got, const struct tcpdrop_event *want)
{
	return !memcmp(got, want, offsetof(struct tcpdrop_event, stack_addr)) &&
	       !memcmp(got->stack_addr, want->stack_addr, want->nstack * sizeof(__u64)) &&
	       !memcmp(got->pkt, want->pkt, want->pkt_len);
}

static int check_batch(struct pcapfilter *pf, const struct tcpdrop_event *specs, const int *match,
		       unsigned int nspec)
{
	unsigned int n = nspec * BATCH_COPIES, want = 0, kept;
	struct tcpdrop_event *ev = xcalloc(n, sizeof(*ev));
	struct tcpdrop_event *orig = xcalloc(n, sizeof(*ev));
	int ret = 0;

	for (unsigned int i = 0; i < n; i++) {
		orig[i] = specs[i % nspec];
		stamp(&orig[i], i);
		want += (unsigned int)match[i % nspec];
	}
	memcpy(ev, orig, n * sizeof(*ev));
	kept = (unsigned int)pcapfilter__batch(pf, ev, n);
	if (kept != want) {
		fprintf(stderr, "batch kept %u of %u events, expected %u\n", kept, n, want);
		ret = 1;
	}
	for (unsigned int i = 0, k = 0; !ret && i < n; i++) {
		if (!match[i % nspec])
			continue;
		if (!intact(&ev[k], &orig[i])) {
			fprintf(stderr, "batch: kept event %u is not event %u, whole\n", k, i);
			ret = 1;
		}
		k++;
	}
	if (!ret && pcapfilter__rejected(pf) != n - want) {
		fprintf(stderr, "batch: rejected count %llu, expected %u\n",
			(unsigned long long)pcapfilter__rejected(pf), n - want);
		ret = 1;
	}
	free(ev);
	free(orig);
	return ret;
}

static int bench(struct pcapfilter *pf, const struct tcpdrop_event *spec, unsigned long n)
{
	unsigned int batch = 1024, kept = 0;
	struct tcpdrop_event *ev = xcalloc(batch, sizeof(*ev));
	struct timespec t0, t1;
	unsigned long done = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < n) {
		/* Refill the head each round: the batch compacts in place. */
		for (unsigned int i = 0; i < batch; i++)
			memcpy(&ev[i], spec, offsetof(struct tcpdrop_event, stack_addr));
		if (spec->pkt_len)
			for (unsigned int i = 0; i < batch; i++)
				memcpy(ev[i].pkt, spec->pkt, spec->pkt_len);
		kept += (unsigned int)pcapfilter__batch(pf, ev, batch);
		done += batch;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f ns/event (%lu events, %s, %s)\n",
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		       (double)done,
	       done, spec->pkt_len ? "from pkt[]" : "rebuilt from fields",
	       kept ? "matching" : "not matching");
	free(ev);
	return 0;
}

int main(int argc, char **argv)
{
	static struct tcpdrop_event specs[MAX_SPECS];
	int match[MAX_SPECS];
	struct pcapfilter *pf;
	int is_bench = argc > 1 && !strcmp(argv[1], "--bench");
	int first = is_bench ? 3 : 2, last = is_bench ? argc - 1 : argc, ret;
	unsigned int nspec = 0;

	if (argc < first + (is_bench ? 2 : 0) || last - first > MAX_SPECS) {
		fprintf(stderr, "usage: %s [--bench] EXPR SPEC... [N]\n", argv[0]);
		return 2;
	}
	for (int i = first; i < last; i++) {
		if (parse_spec(argv[i], &specs[nspec])) {
			fprintf(stderr, "bad event spec: %s\n", argv[i]);
			return 2;
		}
		nspec++;
	}
	if (pcapfilter__new(argv[first - 1], &pf))
		return 2;
	if (is_bench) {
		ret = bench(pf, &specs[0], strtoul(argv[argc - 1], NULL, 0));
		pcapfilter__free(pf);
		return ret;
	}
	for (unsigned int i = 0; i < nspec; i++) {
		match[i] = pcapfilter__match(pf, &specs[i]);
		putchar('0' + match[i]);
	}
	putchar('\n');
	ret = nspec ? check_batch(pf, specs, match, nspec) : 0;
	pcapfilter__free(pf);
	return ret;
}
