/* Live-test helper: send a burst of TCP segments (IPv4) from a raw socket, as fast as it can. */
#define _GNU_SOURCE /* sendmmsg */
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

#define MAX_COUNT 1000000
#define MAX_SECONDS 10
#define BATCH 64 /* segments per sendmmsg() */
#define PKT_LEN 40 /* IP + TCP headers, no options, no payload */

static const char usage[] =
	"usage: burst [-n COUNT] [-t SECONDS] [-g USEC] [-f FLAGS] SRC SPORT DST DPORT\n"
	"  sends COUNT (1-1000000, default 10000) TCP segments back to back (or USEC\n"
	"  microseconds apart, at most 1000000), stopping after SECONDS (1-10, default 5)\n"
	"  if not done; FLAGS as segsend's (default R: a RST to a closed port is one drop\n"
	"  and no reply). Segment i (from 1) has sequence number i. Prints \"sent N\"\n";

static unsigned long number(const char *s, unsigned long min, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "burst: bad %s '%s'\n%s", what, s, usage);
		exit(2);
	}
	return v;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One segment: an IP header the kernel completes (id, checksum), a TCP header with its sum. */
static void segment(uint8_t *p, const struct in_addr *src, const struct in_addr *dst,
		    uint16_t sport, uint16_t dport, int flags, uint32_t seq)
{
	uint8_t *th = p + 20;
	uint32_t sum;

	memset(p, 0, PKT_LEN);
	p[0] = 0x45;
	*(uint16_t *)(p + 2) = htons(PKT_LEN);
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	*(uint16_t *)(th + 0) = htons(sport);
	*(uint16_t *)(th + 2) = htons(dport);
	*(uint32_t *)(th + 4) = htonl(seq);
	th[12] = 5 << 4;
	th[13] = (uint8_t)flags;
	*(uint16_t *)(th + 14) = htons(64240);
	/* Pseudo-header (both addresses, protocol, TCP length), then the header itself. */
	sum = csum_add(0, p + 12, 8) + IPPROTO_TCP + 20;
	sum = csum_add(sum, th, 20);
	*(uint16_t *)(th + 16) = htons(csum_fold(sum));
}

int main(int argc, char **argv)
{
	static uint8_t pkts[BATCH][PKT_LEN];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct in_addr src;
	unsigned long count = 10000, seconds = 5, gap = 0, sent = 0;
	uint16_t sport, dport;
	struct timespec t0;
	int flags = 0x04, one = 1, fd, c;

	while ((c = getopt(argc, argv, "n:t:g:f:")) != -1) {
		switch (c) {
		case 'n':
			count = number(optarg, 1, MAX_COUNT, "count");
			break;
		case 't':
			seconds = number(optarg, 1, MAX_SECONDS, "seconds");
			break;
		case 'g':
			gap = number(optarg, 0, 1000000, "gap");
			break;
		case 'f':
			flags = parse_flags(optarg);
			if (flags < 0) {
				fprintf(stderr, "burst: bad flags '%s'\n%s", optarg, usage);
				return 2;
			}
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	argv += optind;
	if (argc - optind != 4 || inet_pton(AF_INET, argv[0], &src) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) {
		fputs(usage, stderr);
		return 2;
	}
	sport = (uint16_t)number(argv[1], 1, 65535, "source port");
	dport = (uint16_t)number(argv[3], 1, 65535, "destination port");

	/* IPPROTO_RAW receives nothing: no copy of a segment is queued, or freed, on our side. */
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		fprintf(stderr, "burst: raw socket: %s\n", strerror(errno));
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = pkts[i];
		iov[i].iov_len = PKT_LEN;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < count && elapsed(&t0) < (double)seconds) {
		unsigned int n = count - sent < BATCH ? (unsigned int)(count - sent) : BATCH;
		int r;

		if (gap) {
			const struct timespec ts = { (time_t)(gap / 1000000),
						     (long)(gap % 1000000) * 1000 };

			if (sent)
				nanosleep(&ts, NULL);
			n = 1;
		}

		/* Each its own sequence number, so that no two drops look alike. */
		for (unsigned int i = 0; i < n; i++)
			segment(pkts[i], &src, &dst.sin_addr, sport, dport, flags,
				(uint32_t)(sent + i + 1));
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			/* A full socket buffer sent nothing: try again, within the time bound. */
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "burst: sendmmsg: %s (after %lu sent)\n", strerror(errno),
				sent);
			printf("sent %lu\n", sent);
			return 1;
		}
		sent += (unsigned long)r;
	}
	printf("sent %lu\n", sent);
	close(fd);
	return sent == count ? 0 : 1;
}
