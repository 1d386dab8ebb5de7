/* libFuzzer target: the pcapng/pcap reader and the event decoder on any bytes, with round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym.h"
#include "capture/capture.h"
#include "lua/bridge.h"

#define MAX_RECORDS 100000

/* A file of our own holding one event: what -w writes for it. */
static void encode(struct pcapng_buf *b, const struct tcpdrop_event *ev, struct names *nm,
		   struct ksyms *ks)
{
	struct pcapng_section s = { .userappl = "fuzz" };

	b->len = 0;
	pcapng__put_shb(b, &s);
	pcapng__put_idb(b, PCAPNG_LINKTYPE_RAW, TCPDROP_PKT_MAX, NULL, NULL);
	pcapng__put_event(b, ev, nm, ks);
}

/* What a consumer may read of an event: the head, nstack frames, pkt_len packet bytes. */
static int same_event(const struct tcpdrop_event *a, const struct tcpdrop_event *b)
{
	return !memcmp(a, b, TCPDROP_EVENT_HEAD_SIZE) &&
	       !memcmp(a->stack_addr, b->stack_addr, a->nstack * sizeof(a->stack_addr[0])) &&
	       !memcmp(a->pkt, b->pkt, a->pkt_len);
}

/* Whatever an event decoded to, writing it and reading it back must give the same event. */
static void round_trip(const struct tcpdrop_event *ev, struct names *nm, struct ksyms *ks)
{
	static struct tcpdrop_event back;
	struct pcapng_buf b = { 0 };
	struct capreader *cr;
	struct pcapng_decoder *d = pcapng_decoder__new(nm, ks);
	struct cap_rec r;
	int got = 0, ret;

	encode(&b, ev, nm, ks);
	cr = capreader__from_mem(b.p, b.len, "round trip");
	while ((ret = capreader__next(cr, &r)) > 0)
		if (r.kind == CAP_PACKET) {
			if (pcapng__decode_packet(d, &r, &back, "round trip") != 1)
				abort();
			got++;
		}
	if (ret < 0 || got != 1 || !same_event(ev, &back))
		abort();
	capreader__free(cr);
	pcapng_decoder__free(d);
	pcapng_buf__free(&b);
}

/* The names a file taught us must survive being written into a section header and read back. */
static void names_round_trip(struct names *nm)
{
	struct pcapng_section s = { .nm = nm };
	struct pcapng_buf b = { 0 };
	struct names *fresh = names__new();
	struct ksyms *ks = ksyms__new();
	struct pcapng_decoder *d = pcapng_decoder__new(fresh, ks);
	struct capreader *cr;
	struct cap_rec r;

	pcapng__put_shb(&b, &s);
	cr = capreader__from_mem(b.p, b.len, "names");
	if (capreader__next(cr, &r) != 1 || pcapng__decode_section(d, &r, "names"))
		abort();
	for (int64_t c = names__next_reason(nm, -1); c >= 0; c = names__next_reason(nm, c))
		if (!names__reason(fresh, (uint32_t)c) ||
		    strcmp(names__reason(fresh, (uint32_t)c), names__reason(nm, (uint32_t)c)))
			abort();
	capreader__free(cr);
	pcapng_decoder__free(d);
	ksyms__free(ks);
	names__free(fresh);
	pcapng_buf__free(&b);
}

/* One way of reading the input: as -r does (the fast path for -w's blocks first), or not. */
struct side {
	struct names *nm;
	struct ksyms *ks;
	struct capreader *cr;
	struct pcapng_decoder *d;
	int fast;
	int records;
};

static void side_open(struct side *sd, const uint8_t *data, size_t size, int fast)
{
	sd->nm = names__new();
	sd->ks = ksyms__new();
	sd->cr = capreader__from_mem(data, size, "fuzz");
	sd->d = pcapng_decoder__new(sd->nm, sd->ks);
	sd->fast = fast;
	sd->records = 0;
}

static void side_close(struct side *sd)
{
	capreader__free(sd->cr);
	pcapng_decoder__free(sd->d);
	ksyms__free(sd->ks);
	names__free(sd->nm);
}

/* The next drop into ev: 1, or 0 at the end (or past MAX_RECORDS), or the decoder's error. */
static int next_drop(struct side *sd, struct tcpdrop_event *ev)
{
	struct run_stats st;
	struct cap_rec r;
	int ret;

	while (sd->records++ < MAX_RECORDS) {
		if (sd->fast && (ret = pcapng__next_drop(sd->cr, sd->d, ev, "fuzz")) != 0)
			return ret;
		ret = capreader__next(sd->cr, &r);
		if (ret <= 0)
			return ret;
		if (r.kind == CAP_SECTION)
			ret = pcapng__decode_section(sd->d, &r, "fuzz");
		else if (r.kind == CAP_STATS)
			ret = pcapng__decode_stats(sd->d, &r, &st, "fuzz");
		else
			ret = pcapng__decode_packet(sd->d, &r, ev, "fuzz");
		if (ret < 0 || (ret == 1 && r.kind != CAP_SECTION && r.kind != CAP_STATS))
			return ret;
	}
	return 0;
}

/*
 * The input read both ways, in step: the same drops (frames are interned in the order met, so
 * the same addresses) and the same end. Each drop also makes a round trip through -w's writer.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tcpdrop_event ev, fev;
	struct side gen, fast;
	int ret, fret;

	side_open(&gen, data, size, 0);
	side_open(&fast, data, size, 1);
	do {
		ret = next_drop(&gen, &ev);
		fret = next_drop(&fast, &fev);
		if (ret != fret || (ret == 1 && !same_event(&ev, &fev)))
			abort();
		if (ret == 1)
			round_trip(&ev, gen.nm, gen.ks);
	} while (ret == 1);
	names_round_trip(gen.nm);
	side_close(&gen);
	side_close(&fast);
	return 0;
}
