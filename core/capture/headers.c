/*
 * IP + TCP headers, both ways: made from an event for drops seen without their packet (what -w
 * records and what pcap filters match), and read from any capture's packet for replay.
 */
#include "capture/internal.h"

static uint16_t csum16(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t pcapng__synthesise(uint8_t *p, const struct tcpdrop_event *ev)
{
	uint8_t *th;
	size_t ipl;

	if (ev->family == 6) {
		ipl = 40;
		memset(p, 0, 60);
		p[0] = 0x60;
		put16be(p + 4, 20);
		p[6] = 6; /* TCP */
		p[7] = 64;
		memcpy(p + 8, ev->saddr_raw, 16);
		memcpy(p + 24, ev->daddr_raw, 16);
	} else {
		ipl = 20;
		memset(p, 0, 40);
		p[0] = 0x45;
		put16be(p + 2, 40);
		p[6] = 0x40; /* don't fragment */
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, ev->saddr_raw, 4);
		memcpy(p + 16, ev->daddr_raw, 4);
		put16be(p + 10, csum16(p, 20));
	}
	th = p + ipl;
	put16be(th, ev->sport);
	put16be(th + 2, ev->dport);
	put32be(th + 4, ev->seq);
	put32be(th + 8, ev->ack_seq);
	th[12] = 5 << 4;
	th[13] = ev->tcp_flags;
	put16be(th + 14, ev->win);
	return ipl + 20;
}

/* The offset of the IP header behind a link header, its version in *ver; -1 if unknown. */
static long link_payload(const struct cap_rec *r, int *ver, uint32_t *ifindex, int *bad_link)
{
	const uint8_t *p = r->data;
	uint32_t n = r->caplen, af;
	long off;
	uint16_t et;

	*ver = 0;
	switch (r->linktype) {
	case 101: /* LINKTYPE_RAW */
	case 12: /* DLT_RAW on most BSDs */
	case 14: /* DLT_RAW on OpenBSD */
		if (!n)
			return -1;
		*ver = p[0] >> 4;
		return 0;
	case 228: /* LINKTYPE_IPV4 */
		*ver = 4;
		return 0;
	case 229: /* LINKTYPE_IPV6 */
		*ver = 6;
		return 0;
	case 1: /* Ethernet, with up to two VLAN tags */
		if (n < 14)
			return -1;
		off = 12;
		et = get16be(p + off);
		for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++) {
			off += 4;
			if (n < (uint32_t)off + 2)
				return -1;
			et = get16be(p + off);
		}
		off += 2;
		break;
	case 113: /* Linux cooked v1 */
		if (n < 16)
			return -1;
		et = get16be(p + 14);
		off = 16;
		break;
	case 276: /* Linux cooked v2 */
		if (n < 20)
			return -1;
		et = get16be(p);
		*ifindex = get32be(p + 4);
		off = 20;
		break;
	case 0: /* BSD loopback: the address family in the writer's byte order */
	case 108: /* OpenBSD loopback: in network order */
		if (n < 4)
			return -1;
		af = get32be(p);
		if (r->linktype == 0 && af > 0xffff)
			af = __builtin_bswap32(af);
		*ver = af == 2 ? 4 : (af == 10 || af == 24 || af == 28 || af == 30) ? 6 : 0;
		return *ver ? 4 : -1;
	default:
		*bad_link = 1;
		return -1;
	}
	*ver = et == 0x0800 ? 4 : et == 0x86dd ? 6 : 0;
	return *ver ? off : -1;
}

/* A packet from any capture: what its IP and TCP headers say. 1, or 0 when it is not TCP. */
int headers__parse(const struct cap_rec *r, struct tcpdrop_event *ev, struct pcapng_skipped *sk)
{
	int ver, bad_link = 0;
	uint32_t ifindex = 0, n, l4, thl;
	long off = link_payload(r, &ver, &ifindex, &bad_link);
	const uint8_t *ip, *th;

	if (off < 0) {
		if (bad_link) {
			sk->bad_link++;
			sk->last_link = r->linktype;
		} else {
			sk->not_tcp++;
		}
		return 0;
	}
	ip = r->data + off;
	n = r->caplen - (uint32_t)off;
	if (ver == 4) {
		if (n < 20 || ip[0] >> 4 != 4 || ip[9] != 6 || (get16be(ip + 6) & 0x1fff))
			goto not_tcp;
		l4 = (ip[0] & 0x0f) * 4u;
		if (l4 < 20)
			goto not_tcp;
		memcpy(ev->saddr_raw, ip + 12, 4);
		memcpy(ev->daddr_raw, ip + 16, 4);
	} else if (ver == 6) {
		uint8_t next;

		if (n < 40 || ip[0] >> 4 != 6)
			goto not_tcp;
		next = ip[6];
		l4 = 40;
		for (int i = 0; i < 4 && next != 6; i++) {
			if ((next != 0 && next != 43 && next != 60 && next != 44) || n < l4 + 8)
				goto not_tcp;
			if (next == 44 && (get16be(ip + l4 + 2) & 0xfff8))
				goto not_tcp; /* not the first fragment: no TCP header */
			next = ip[l4];
			l4 += next == 44 ? 8 : (ip[l4 + 1] + 1u) * 8;
		}
		if (next != 6)
			goto not_tcp;
		memcpy(ev->saddr_raw, ip + 8, 16);
		memcpy(ev->daddr_raw, ip + 24, 16);
	} else {
		goto not_tcp;
	}
	if (n < l4 + 20)
		goto not_tcp;
	th = ip + l4;
	thl = (th[12] >> 4) * 4u;
	if (thl < 20)
		goto not_tcp;
	ev->family = (__u8)ver;
	ev->sport = get16be(th);
	ev->dport = get16be(th + 2);
	ev->seq = get32be(th + 4);
	ev->ack_seq = get32be(th + 8);
	ev->tcp_flags = th[13];
	ev->win = get16be(th + 14);
	ev->hdr_len = (__u16)(l4 + thl);
	ev->len = r->origlen > (uint32_t)off ? r->origlen - (uint32_t)off : n;
	ev->ifindex = ifindex;
	ev->evflags = TCPDROP_F_PKT_HDRS | TCPDROP_F_NO_REASON | TCPDROP_F_NO_STACK;
	ev->pkt_len = (__u16)(n < TCPDROP_PKT_MAX ? n : TCPDROP_PKT_MAX);
	memcpy(ev->pkt, ip, ev->pkt_len);
	return 1;
not_tcp:
	sk->not_tcp++;
	return 0;
}
