/* tcpdump-style filters (pcap-filter(7)) run in user space over each drop's IP and TCP headers. */
#ifndef TCPDROP_PCAPFILTER_H
#define TCPDROP_PCAPFILTER_H

#include <stdint.h>

#include <linux/types.h>
#include "../bpf/tcpdrop.h"

struct pcapfilter;

/*
 * Compile expr as libpcap would for raw IP packets. On a bad expression,
 * print one line with libpcap's own message and return -EINVAL.
 */
int pcapfilter__new(const char *expr, struct pcapfilter **out);
void pcapfilter__free(struct pcapfilter *pf);

/*
 * Whether the drop matches. The packet is the event's pkt[] when the probe
 * copied it, else the IPv4/IPv6 + TCP header pair -w records for it
 * (pcapng__synthesise), so a filter matches the same drops live and replayed.
 */
int pcapfilter__match(struct pcapfilter *pf, const struct tcpdrop_event *ev);

/*
 * Keep only the matching events of a batch, in order, moved to its front; the
 * new count. A NULL filter keeps everything, so callers need no test.
 */
int pcapfilter__batch(struct pcapfilter *pf, struct tcpdrop_event *ev, unsigned int n);

/* Events the filter has rejected so far. */
uint64_t pcapfilter__rejected(const struct pcapfilter *pf);

#endif
