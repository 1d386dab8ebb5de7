/* Live-test helper: send hand-made TCP segments (IPv4 or IPv6) from a raw socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tcpseg.h"

#define MAX_PAYLOAD 1024
#define MAX_COUNT 1000

static const char usage[] =
	"usage: segsend [-n COUNT] [-l LEN] [-w WIN] [-k SEC] SRC SPORT DST DPORT FLAGS [SEQ "
	"[ACK]]\n"
	"  FLAGS: letters F S R P A U E C (FIN SYN RST PSH ACK URG ECE CWR), or '.' for none\n"
	"  sends COUNT (1-1000, default 1) segments 10 ms apart, LEN payload bytes each\n"
	"  -k SEC: send from an IPPROTO_TCP raw socket and keep it SEC seconds (at most 10):\n"
	"  the replies queue on it, and closing it frees them (a drop of their own)\n";

static void die(const char *what)
{
	fprintf(stderr, "segsend: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void bad(const char *what, const char *val)
{
	fprintf(stderr, "segsend: bad %s '%s'\n%s", what, val, usage);
	exit(2);
}

static unsigned long number(const char *s, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max)
		bad(what, s);
	return v;
}

/*
 * An IPPROTO_RAW socket sends the IP header we write (so any source address) and,
 * unlike an IPPROTO_TCP one, receives nothing: closing it purges no queued replies,
 * which would be drops of their own. -k asks for exactly that.
 */
static int raw_socket(int family, int keep)
{
	int one = 1, fd = socket(family, SOCK_RAW, keep ? IPPROTO_TCP : IPPROTO_RAW);

	if (fd < 0)
		die("socket");
	if (family == AF_INET && setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)))
		die("IP_HDRINCL");
	if (family == AF_INET6 && keep &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one)))
		die("IPV6_HDRINCL");
	return fd;
}

/* The IP header in front of the segment; the kernel fills an IPv4 header's id and checksum. */
static size_t ip_header(uint8_t *p, int family, const void *saddr, const void *daddr, size_t paylen)
{
	if (family == AF_INET) {
		memset(p, 0, 20);
		p[0] = 0x45;
		*(uint16_t *)(p + 2) = htons((uint16_t)(20 + paylen));
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, saddr, 4);
		memcpy(p + 16, daddr, 4);
		return 20;
	}
	memset(p, 0, 40);
	p[0] = 0x60;
	*(uint16_t *)(p + 4) = htons((uint16_t)paylen);
	p[6] = IPPROTO_TCP;
	p[7] = 64;
	memcpy(p + 8, saddr, 16);
	memcpy(p + 24, daddr, 16);
	return 40;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage src = { 0 }, dst = { 0 };
	uint8_t seg[20 + MAX_PAYLOAD], pkt[40 + 20 + MAX_PAYLOAD];
	size_t pktlen;
	unsigned long count = 1, len = 0, win = 64240, keep = 0;
	uint32_t seq = 1000, ack = 0, sum;
	int family, flags, fd, c;
	socklen_t alen;
	const void *saddr, *daddr;
	size_t addrlen;

	while ((c = getopt(argc, argv, "n:l:w:k:")) != -1) {
		switch (c) {
		case 'n':
			count = number(optarg, MAX_COUNT, "count");
			break;
		case 'l':
			len = number(optarg, MAX_PAYLOAD, "length");
			break;
		case 'w':
			win = number(optarg, 65535, "window");
			break;
		case 'k':
			keep = number(optarg, 10, "seconds to keep the socket");
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	argv += optind;
	argc -= optind;
	if (argc < 5 || argc > 7 || !count) {
		fputs(usage, stderr);
		return 2;
	}
	if (inet_pton(AF_INET, argv[0], &((struct sockaddr_in *)&src)->sin_addr) == 1 &&
	    inet_pton(AF_INET, argv[2], &((struct sockaddr_in *)&dst)->sin_addr) == 1) {
		family = AF_INET;
		alen = sizeof(struct sockaddr_in);
		saddr = &((struct sockaddr_in *)&src)->sin_addr;
		daddr = &((struct sockaddr_in *)&dst)->sin_addr;
		addrlen = 4;
	} else if (inet_pton(AF_INET6, argv[0], &((struct sockaddr_in6 *)&src)->sin6_addr) == 1 &&
		   inet_pton(AF_INET6, argv[2], &((struct sockaddr_in6 *)&dst)->sin6_addr) == 1) {
		family = AF_INET6;
		alen = sizeof(struct sockaddr_in6);
		saddr = &((struct sockaddr_in6 *)&src)->sin6_addr;
		daddr = &((struct sockaddr_in6 *)&dst)->sin6_addr;
		addrlen = 16;
	} else {
		bad("address pair (both IPv4 or both IPv6)", argv[0]);
		return 2;
	}
	src.ss_family = dst.ss_family = (sa_family_t)family;
	flags = parse_flags(argv[4]);
	if (flags < 0)
		bad("flags", argv[4]);
	if (argc > 5)
		seq = (uint32_t)number(argv[5], UINT32_MAX, "seq");
	if (argc > 6)
		ack = (uint32_t)number(argv[6], UINT32_MAX, "ack");

	memset(seg, 0, sizeof(seg));
	*(uint16_t *)(seg + 0) = htons((uint16_t)number(argv[1], 65535, "source port"));
	*(uint16_t *)(seg + 2) = htons((uint16_t)number(argv[3], 65535, "destination port"));
	*(uint32_t *)(seg + 4) = htonl(seq);
	*(uint32_t *)(seg + 8) = htonl(ack);
	seg[12] = 5 << 4; /* data offset: 20 bytes, no options */
	seg[13] = (uint8_t)flags;
	*(uint16_t *)(seg + 14) = htons((uint16_t)win);
	for (unsigned long i = 0; i < len; i++)
		seg[20 + i] = (uint8_t)('a' + i % 26);

	/* The checksum covers the pseudo-header: both addresses, protocol, TCP length. */
	sum = csum_add(0, saddr, addrlen);
	sum = csum_add(sum, daddr, addrlen);
	sum += IPPROTO_TCP + 20 + (uint32_t)len;
	sum = csum_add(sum, seg, 20 + len);
	*(uint16_t *)(seg + 16) = htons(csum_fold(sum));

	fd = raw_socket(family, keep > 0);
	pktlen = ip_header(pkt, family, saddr, daddr, 20 + len);
	memcpy(pkt + pktlen, seg, 20 + len);
	pktlen += 20 + len;
	for (unsigned long i = 0; i < count; i++) {
		const struct timespec gap = { 0, 10 * 1000 * 1000 };

		if (sendto(fd, pkt, pktlen, 0, (struct sockaddr *)&dst, alen) < 0)
			die("sendto");
		if (i + 1 < count)
			nanosleep(&gap, NULL);
	}
	if (keep) {
		const struct timespec hold = { (time_t)keep, 0 };

		nanosleep(&hold, NULL);
	}
	close(fd);
	return 0;
}
