/* Test tool: the replay's fast path for -w's blocks against the general reader, on files and
 * mutants. */
/*
 * usage: pcapng_fastpath [-m MUTANTS] [-s SEED] FILE...
 *
 * Reads each FILE twice from memory: once as -r does (pcapng__next_drop() first, the general
 * capreader__next() + pcapng__decode_* when it declines), once with the general path only.
 * Both must give the same drops (head, frames up to nstack, packet bytes up to pkt_len, the
 * names the decoder learnt) and end the same way (the same return code, at the same drop).
 * Then the same for MUTANTS copies of each file (default 0) with 1 to 8 bytes changed at
 * random (from SEED, default 1), where the fast path must decline whatever it cannot take
 * exactly as the general path would. The decoders' messages go to stderr.
 * Prints "ok N drops, M mutants" and exits 0; on a difference, says where and exits 1.
 * Also counts, and prints, how many drops the fast path took: a file of -w's must take it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sym/sym.h"
#include "capture/capture.h"
#include "lua/bridge.h"
#include "util/util.h"

#define MAX_DROPS 2000000

struct outcome {
	struct tcpdrop_event *ev; /* the drops, in order */
	unsigned long n, fast;
	int end; /* 0 at the end of the file, else the error */
	struct names *nm;
	struct ksyms *ks;
};

static int decode_all(const uint8_t *data, size_t len, int use_fast, struct outcome *o)
{
	struct capreader *cr = capreader__from_mem(data, len, "mem");
	struct pcapng_decoder *d;
	struct run_stats st;

	o->nm = names__new();
	o->ks = ksyms__new();
	d = pcapng_decoder__new(o->nm, o->ks);
	o->n = o->fast = 0;
	o->end = 0;
	while (o->n < MAX_DROPS) {
		struct tcpdrop_event *ev = &o->ev[o->n];
		struct cap_rec r;
		int ret = use_fast ? pcapng__next_drop(cr, d, ev, "mem") : 0;

		if (ret > 0) {
			o->n++;
			o->fast++;
			continue;
		}
		if (ret < 0) {
			o->end = ret;
			break;
		}
		ret = capreader__next(cr, &r);
		if (ret <= 0) {
			o->end = ret;
			break;
		}
		if (r.kind == CAP_SECTION)
			ret = pcapng__decode_section(d, &r, "mem");
		else if (r.kind == CAP_STATS)
			ret = pcapng__decode_stats(d, &r, &st, "mem");
		else if ((ret = pcapng__decode_packet(d, &r, ev, "mem")) > 0)
			o->n++;
		if (ret < 0) {
			o->end = ret;
			break;
		}
	}
	pcapng_decoder__free(d);
	capreader__free(cr);
	return 0;
}

static void outcome_free(struct outcome *o)
{
	names__free(o->nm);
	ksyms__free(o->ks);
}

static const char *differ(const struct outcome *a, const struct outcome *b, unsigned long *at)
{
	*at = 0;
	if (a->n != b->n)
		return "a different number of drops";
	for (unsigned long i = 0; i < a->n; i++) {
		const struct tcpdrop_event *x = &a->ev[i], *y = &b->ev[i];

		*at = i;
		if (memcmp(x, y, TCPDROP_EVENT_HEAD_SIZE))
			return "a drop's fields differ";
		/* Frame ids are given in the order met: the same file gives the same ids. */
		for (unsigned int k = 0; k < x->nstack; k++) {
			size_t lx, ly;
			const char *fx = ksyms__frame(a->ks, x->stack_addr[k], 1, &lx);
			const char *fy = ksyms__frame(b->ks, y->stack_addr[k], 1, &ly);

			if (x->stack_addr[k] != y->stack_addr[k] || lx != ly || memcmp(fx, fy, lx))
				return "a drop's frames differ";
		}
		if (memcmp(x->pkt, y->pkt, x->pkt_len))
			return "a drop's packet bytes differ";
	}
	if (a->end != b->end)
		return "they end differently";
	for (int64_t c = names__next_reason(a->nm, -1); c >= 0; c = names__next_reason(a->nm, c))
		if (!names__reason(b->nm, (uint32_t)c) ||
		    strcmp(names__reason(a->nm, (uint32_t)c), names__reason(b->nm, (uint32_t)c)))
			return "the reason names differ";
	for (int64_t c = names__next_reason(b->nm, -1); c >= 0; c = names__next_reason(b->nm, c))
		if (!names__reason(a->nm, (uint32_t)c))
			return "the reason names differ";
	for (unsigned int c = 0; c < 256; c++) {
		const char *sa = names__state(a->nm, c), *sb = names__state(b->nm, c);

		if ((sa != sb && (!sa || !sb)) || (sa && strcmp(sa, sb)))
			return "the state names differ";
	}
	return NULL;
}

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 0 when both ways agree; else 1 after a line naming the difference. */
static int compare(const char *name, const uint8_t *data, size_t len, struct outcome *a,
		   struct outcome *b)
{
	const char *why;
	unsigned long at;

	decode_all(data, len, 1, a);
	decode_all(data, len, 0, b);
	why = differ(a, b, &at);
	outcome_free(a);
	outcome_free(b);
	if (why) {
		fprintf(stdout, "FAIL %s: %s (at drop %lu of %lu; ends %d / %d)\n", name, why, at,
			a->n, a->end, b->end);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct outcome a = { 0 }, b = { 0 };
	unsigned long mutants = 0, drops = 0, fast = 0, done = 0;
	int c, bad = 0;

	rng = 1;
	while ((c = getopt(argc, argv, "m:s:")) != -1) {
		switch (c) {
		case 'm':
			mutants = strtoul(optarg, NULL, 10);
			break;
		case 's':
			rng = strtoull(optarg, NULL, 10) | 1;
			break;
		default:
			fprintf(stderr, "usage: pcapng_fastpath [-m MUTANTS] [-s SEED] FILE...\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: pcapng_fastpath [-m MUTANTS] [-s SEED] FILE...\n");
		return 2;
	}
	a.ev = xcalloc(MAX_DROPS, sizeof(*a.ev));
	b.ev = xcalloc(MAX_DROPS, sizeof(*b.ev));
	for (int i = optind; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *data = NULL, *mut;
		size_t len = 0, cap = 0, got;

		if (!f) {
			fprintf(stderr, "pcapng_fastpath: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		do {
			if (len == cap) {
				cap = cap ? cap * 2 : 65536;
				data = xrealloc(data, cap);
			}
			got = fread(data + len, 1, cap - len, f);
			len += got;
		} while (got);
		fclose(f);
		bad |= compare(argv[i], data, len, &a, &b);
		drops += a.n;
		fast += a.fast;
		mut = xmalloc(len ? len : 1);
		for (unsigned long m = 0; m < mutants && len; m++) {
			char name[600];
			unsigned int flips = 1 + (unsigned int)(rnd() % 8);

			memcpy(mut, data, len);
			for (unsigned int k = 0; k < flips; k++) {
				size_t at = (size_t)(rnd() % len);

				/* Half the time a small value (a length, a tag), else any byte. */
				mut[at] = rnd() % 2 ? (uint8_t)(rnd() % 8) : (uint8_t)rnd();
			}
			snprintf(name, sizeof(name), "%s mutant %lu", argv[i], m);
			bad |= compare(name, mut, len, &a, &b);
			done++;
		}
		free(mut);
		free(data);
	}
	free(a.ev);
	free(b.ev);
	if (bad)
		return 1;
	printf("ok %lu drops (%lu by the fast path), %lu mutants\n", drops, fast, done);
	return 0;
}
