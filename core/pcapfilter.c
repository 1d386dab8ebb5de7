/* pcap-filter expressions: compiled once by libpcap, run over each event's headers in a batch. */
#include "pcapfilter.h"
#include "pcapng.h"
#include "util.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define IP4_HDR 20
#define IP6_HDR 40

struct pcapfilter {
	struct bpf_program prog;
	uint64_t rejected;
	/* Where a packet is rebuilt from event fields: the largest header pair, no options. */
	unsigned char scratch[PCAPNG_SYNTH_MAX] __attribute__((aligned(8)));
};

int pcapfilter__new(const char *expr, struct pcapfilter **out)
{
	struct pcapfilter *pf;
	pcap_t *dead;

	*out = NULL;
	/*
	 * DLT_RAW: the packet starts at its IP header, which is where the probe's
	 * copy starts; libpcap tells IPv4 from IPv6 by the version nibble.
	 */
	dead = pcap_open_dead(DLT_RAW, 65535);
	if (!dead) {
		msg("pcap filter: libpcap cannot open a handle");
		return -ENOMEM;
	}
	pf = xcalloc(1, sizeof(*pf));
	if (pcap_compile(dead, &pf->prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		msg("pcap filter '%s': %s", expr, pcap_geterr(dead));
		pcap_close(dead);
		free(pf);
		return -EINVAL;
	}
	pcap_close(dead);
	*out = pf;
	return 0;
}

void pcapfilter__free(struct pcapfilter *pf)
{
	if (!pf)
		return;
	pcap_freecode(&pf->prog);
	free(pf);
}

/* The packet's length on the wire, from its IP header: `len`, `greater` and `less` use it. */
static unsigned int wire_len(const unsigned char *p, unsigned int caplen)
{
	unsigned int len = 0;

	if (caplen >= IP4_HDR && p[0] >> 4 == 4)
		len = (unsigned int)p[2] << 8 | p[3];
	else if (caplen >= IP6_HDR && p[0] >> 4 == 6)
		len = IP6_HDR + ((unsigned int)p[4] << 8 | p[5]);
	return len > caplen ? len : caplen;
}

int pcapfilter__match(struct pcapfilter *pf, const struct tcpdrop_event *ev)
{
	struct pcap_pkthdr h = { 0 };
	const unsigned char *p;

	if (ev->pkt_len) {
		p = ev->pkt;
		h.caplen = ev->pkt_len < TCPDROP_PKT_MAX ? ev->pkt_len : TCPDROP_PKT_MAX;
		h.len = wire_len(p, h.caplen);
	} else {
		if (ev->family != 4 && ev->family != 6)
			return 0;
		p = pf->scratch;
		h.caplen = h.len = (unsigned int)pcapng__synthesise(pf->scratch, ev);
	}
	return pcap_offline_filter(&pf->prog, &h, p) != 0;
}

/* Move only what the event uses: its head, its stack frames and its packet bytes. */
static void move_event(struct tcpdrop_event *dst, const struct tcpdrop_event *src)
{
	unsigned int ns = src->nstack < TCPDROP_STACK_MAX ? src->nstack : TCPDROP_STACK_MAX;
	unsigned int np = src->pkt_len < TCPDROP_PKT_MAX ? src->pkt_len : TCPDROP_PKT_MAX;

	memcpy(dst, src, offsetof(struct tcpdrop_event, stack_addr));
	memcpy(dst->stack_addr, src->stack_addr, ns * sizeof(src->stack_addr[0]));
	memcpy(dst->pkt, src->pkt, np);
}

int pcapfilter__batch(struct pcapfilter *pf, struct tcpdrop_event *ev, unsigned int n)
{
	unsigned int kept = 0;

	if (!pf)
		return (int)n;
	for (unsigned int i = 0; i < n; i++) {
		if (!pcapfilter__match(pf, &ev[i]))
			continue;
		if (kept != i)
			move_event(&ev[kept], &ev[i]);
		kept++;
	}
	pf->rejected += n - kept;
	return (int)kept;
}

uint64_t pcapfilter__rejected(const struct pcapfilter *pf)
{
	return pf ? pf->rejected : 0;
}
