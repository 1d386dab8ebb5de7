/* pcap-filter expressions: compiled once by libpcap, run over each event's headers in a batch. */
#include "capture/internal.h"
#include "util/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/*
 * libpcap is loaded only when an expression is given: it brings nine more
 * libraries (D-Bus, systemd, gcrypt...), ~1 MiB of RSS and their loading on
 * every start. The references are weak: the dynamic build does not name it
 * (the Makefile links without it) and dlopen()s it here; the static build
 * links it in (the Makefile's -u flags pull it from libpcap.a), and then the
 * weak symbols are simply there.
 */
#pragma weak pcap_open_dead
#pragma weak pcap_compile
#pragma weak pcap_geterr
#pragma weak pcap_close
#pragma weak pcap_freecode
#pragma weak pcap_offline_filter

static struct {
	pcap_t *(*open_dead)(int, int);
	int (*compile)(pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32);
	char *(*geterr)(pcap_t *);
	void (*close)(pcap_t *);
	void (*freecode)(struct bpf_program *);
	int (*offline_filter)(const struct bpf_program *, const struct pcap_pkthdr *,
			      const u_char *);
} pcap;

static int load_pcap(void)
{
	static const char *const names[] = { "libpcap.so.0.8", "libpcap.so.1", "libpcap.so" };
	void *h = NULL;

	if (pcap.offline_filter)
		return 0;
	if (pcap_open_dead && pcap_compile && pcap_geterr && pcap_close && pcap_freecode &&
	    pcap_offline_filter) {
		pcap.open_dead = pcap_open_dead;
		pcap.compile = pcap_compile;
		pcap.geterr = pcap_geterr;
		pcap.close = pcap_close;
		pcap.freecode = pcap_freecode;
		pcap.offline_filter = pcap_offline_filter;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names) && !h; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		msg("pcap filter: libpcap is needed and cannot be loaded (%s)", dlerror());
		return -ENOENT;
	}
	*(void **)&pcap.open_dead = dlsym(h, "pcap_open_dead");
	*(void **)&pcap.compile = dlsym(h, "pcap_compile");
	*(void **)&pcap.geterr = dlsym(h, "pcap_geterr");
	*(void **)&pcap.close = dlsym(h, "pcap_close");
	*(void **)&pcap.freecode = dlsym(h, "pcap_freecode");
	*(void **)&pcap.offline_filter = dlsym(h, "pcap_offline_filter");
	if (!pcap.open_dead || !pcap.compile || !pcap.geterr || !pcap.close || !pcap.freecode ||
	    !pcap.offline_filter) {
		msg("pcap filter: the libpcap found lacks pcap_compile() or its kin");
		pcap.offline_filter = NULL;
		return -ENOENT;
	}
	return 0; /* kept loaded until exit: its filters run to the end */
}

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
	if (load_pcap())
		return -ENOENT;
	/*
	 * DLT_RAW: the packet starts at its IP header, which is where the probe's
	 * copy starts; libpcap tells IPv4 from IPv6 by the version nibble.
	 */
	dead = pcap.open_dead(DLT_RAW, 65535);
	if (!dead) {
		msg("pcap filter: libpcap cannot open a handle");
		return -ENOMEM;
	}
	pf = xcalloc(1, sizeof(*pf));
	if (pcap.compile(dead, &pf->prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		msg("pcap filter '%s': %s", expr, pcap.geterr(dead));
		pcap.close(dead);
		free(pf);
		return -EINVAL;
	}
	pcap.close(dead);
	*out = pf;
	return 0;
}

void pcapfilter__free(struct pcapfilter *pf)
{
	if (!pf)
		return;
	pcap.freecode(&pf->prog);
	free(pf);
}

int pcapfilter__match(struct pcapfilter *pf, const struct tcpdrop_event *ev)
{
	struct pcap_pkthdr h = { 0 };
	const unsigned char *p;

	if (ev->pkt_len) {
		p = ev->pkt;
		h.caplen = ev->pkt_len < TCPDROP_PKT_MAX ? ev->pkt_len : TCPDROP_PKT_MAX;
		h.len = ip_wire_len(p, h.caplen); /* `len`, `greater` and `less` use it */
	} else {
		if (ev->family != 4 && ev->family != 6)
			return 0;
		p = pf->scratch;
		h.caplen = h.len = (unsigned int)pcapng__synthesise(pf->scratch, ev);
	}
	return pcap.offline_filter(&pf->prog, &h, p) != 0;
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
