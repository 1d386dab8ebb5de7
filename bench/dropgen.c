/* Drop generator for make bench: TCP RSTs to a closed port, each one a kernel drop.
 *
 * Every packet is one drop: tcp_v4_rcv finds no socket (NO_SOCKET) and an RST gets no reply.
 * Two ways to send, both kept off the host's own interfaces and firewall:
 *   -i IF -M MAC  frames on IF with AF_PACKET, from SRC to DST at MAC: IF is one end of a veth
 *                 pair whose peer (in another namespace the caller made) has DST; no routing
 *                 on the sending side, so this is the cheaper way to make drops
 *   (default)     a raw IP socket to 127.0.0.1, inside a network namespace of our own
 * Each sender thread is pinned to a CPU; veth and loopback both deliver in the sender's own
 * softirq, so a thread's CPU also does the dropping (and runs the probe). Bounded in time (-d)
 * and count (-n), whichever ends first.
 *
 * Prints: dropgen: threads=T sent=N errors=E seconds=S rate=R
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define VLEN 64 /* packets per sendmmsg */
#define IP_LEN 40
#define ETH_LEN 14
#define DST_PORT 9 /* discard: nothing listens in a fresh namespace */

/* Where packets go: set once in main, read by every sender. */
static struct {
	int ifindex; /* 0: raw IP socket to loopback */
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src_ip[4], dst_ip[4];
} cfg = { .src_ip = { 127, 0, 0, 1 }, .dst_ip = { 127, 0, 0, 1 } };

struct sender {
	pthread_t tid;
	int cpu;
	uint16_t sport;
	uint64_t quota;
	uint64_t sent;
	uint64_t errors;
	int err; /* errno of a fatal failure */
};

static double deadline; /* CLOCK_MONOTONIC seconds */
static pthread_barrier_t start;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IPv4 + TCP RST, SRC:sport > DST:9, both checksums right (nothing on the way fixes them). */
static void build_ip(uint8_t *p, uint16_t sport)
{
	uint8_t *th = p + 20, pseudo[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, IPPROTO_TCP, 0, 20 };
	uint16_t c;

	memset(p, 0, IP_LEN);
	p[0] = 0x45;
	p[3] = IP_LEN;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	memcpy(p + 12, cfg.src_ip, 4);
	memcpy(p + 16, cfg.dst_ip, 4);
	c = fold(sum16(p, 20, 0));
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	memcpy(pseudo, cfg.src_ip, 4);
	memcpy(pseudo + 4, cfg.dst_ip, 4);
	th[0] = (uint8_t)(sport >> 8);
	th[1] = (uint8_t)sport;
	th[3] = DST_PORT;
	th[7] = 1; /* seq 1 */
	th[12] = 5 << 4;
	th[13] = 0x04; /* RST */
	c = fold(sum16(th, 20, sum16(pseudo, sizeof(pseudo), 0)));
	th[16] = (uint8_t)(c >> 8);
	th[17] = (uint8_t)c;
}

/* The socket and the bytes to send: an Ethernet frame for AF_PACKET, else the IP packet. */
static int open_sender(uint8_t *pkt, size_t *len, uint16_t sport)
{
	int fd;

	if (!cfg.ifindex) {
		build_ip(pkt, sport);
		*len = IP_LEN;
		return socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	}
	memcpy(pkt, cfg.dst_mac, 6);
	memcpy(pkt + 6, cfg.src_mac, 6);
	pkt[12] = 0x08; /* IPv4 */
	pkt[13] = 0x00;
	build_ip(pkt + ETH_LEN, sport);
	*len = ETH_LEN + IP_LEN;
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd >= 0) {
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = cfg.ifindex };
		int one = 1;

		/* Straight to the driver: a veth has no queue worth going through. */
		setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void *send_loop(void *arg)
{
	struct sender *s = arg;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct mmsghdr msgs[VLEN];
	struct iovec iov;
	uint8_t pkt[ETH_LEN + IP_LEN];
	size_t len;
	cpu_set_t set;
	int fd;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "dropgen: cannot pin a sender to CPU %d\n", s->cpu);
	fd = open_sender(pkt, &len, s->sport);
	if (fd < 0)
		s->err = errno;
	memcpy(&dst.sin_addr, cfg.dst_ip, 4);
	iov.iov_base = pkt;
	iov.iov_len = len;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < VLEN; i++) {
		if (!cfg.ifindex) {
			msgs[i].msg_hdr.msg_name = &dst;
			msgs[i].msg_hdr.msg_namelen = sizeof(dst);
		}
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	pthread_barrier_wait(&start);
	if (fd < 0)
		return NULL;
	while (s->sent < s->quota && now() < deadline) {
		uint64_t left = s->quota - s->sent;
		int n = sendmmsg(fd, msgs, left < VLEN ? (unsigned int)left : VLEN, 0);

		if (n > 0) {
			s->sent += (uint64_t)n;
		} else if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
			s->errors++;
		} else {
			s->err = errno;
			break;
		}
	}
	close(fd);
	return NULL;
}

/* A fresh network namespace, its loopback up: the storm stays in here. */
static int private_loopback(void)
{
	struct ifreq ifr = { 0 };
	int fd, ret = 0;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "dropgen: unshare(CLONE_NEWNET): %s (run as root)\n",
			strerror(errno));
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -1;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = -1;
	}
	if (ret)
		fprintf(stderr, "dropgen: cannot bring lo up: %s\n", strerror(errno));
	close(fd);
	return ret;
}

static void usage(void)
{
	fprintf(stderr, "usage: dropgen [-t THREADS] [-d SECONDS] [-n COUNT] [-C FIRST_CPU]\n"
			"               [-i IF -M DST_MAC -S SRC_IP -D DST_IP]\n");
	exit(2);
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* AF_PACKET on an interface: its own MAC is the frames' source. */
static int use_interface(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cfg.ifindex = (int)if_nametoindex(ifname);
	if (!cfg.ifindex || fd < 0 || strlen(ifname) >= sizeof(ifr.ifr_name)) {
		fprintf(stderr, "dropgen: no interface %s\n", ifname);
		return -1;
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "dropgen: %s: %s\n", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	memcpy(cfg.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sender s[MAX_THREADS] = { 0 };
	int threads = 1, first_cpu = 0, c, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	double secs = 2, t0, t1;
	unsigned long long count = 100000000ull, sent = 0, errors = 0;
	const char *ifname = NULL, *mac = NULL, *src = NULL, *dst = NULL;

	while ((c = getopt(argc, argv, "t:d:n:C:i:M:S:D:")) != -1) {
		switch (c) {
		case 't':
			threads = atoi(optarg);
			break;
		case 'd':
			secs = atof(optarg);
			break;
		case 'n':
			count = strtoull(optarg, NULL, 10);
			break;
		case 'C':
			first_cpu = atoi(optarg);
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'M':
			mac = optarg;
			break;
		case 'S':
			src = optarg;
			break;
		case 'D':
			dst = optarg;
			break;
		default:
			usage();
		}
	}
	if (threads < 1 || threads > MAX_THREADS || secs <= 0 || secs > 600 || !count ||
	    first_cpu < 0 || ncpu < 1)
		usage();
	if (ifname) {
		if (!mac || !src || !dst || parse_mac(mac, cfg.dst_mac) ||
		    inet_pton(AF_INET, src, cfg.src_ip) != 1 ||
		    inet_pton(AF_INET, dst, cfg.dst_ip) != 1)
			usage();
		if (use_interface(ifname))
			return 1;
	} else if (mac || src || dst) {
		usage();
	} else if (private_loopback()) {
		return 1;
	}
	pthread_barrier_init(&start, NULL, (unsigned int)threads + 1);
	for (int i = 0; i < threads; i++) {
		s[i].cpu = (first_cpu + i) % ncpu;
		s[i].sport = (uint16_t)(40000 + i);
		s[i].quota = count / (unsigned long long)threads;
		if (pthread_create(&s[i].tid, NULL, send_loop, &s[i])) {
			fprintf(stderr, "dropgen: cannot start a thread\n");
			return 1;
		}
	}
	t0 = now();
	deadline = t0 + secs;
	pthread_barrier_wait(&start);
	for (int i = 0; i < threads; i++)
		pthread_join(s[i].tid, NULL);
	t1 = now();
	for (int i = 0; i < threads; i++) {
		if (s[i].err) {
			fprintf(stderr, "dropgen: sender %d: %s\n", i, strerror(s[i].err));
			return 1;
		}
		sent += s[i].sent;
		errors += s[i].errors;
	}
	printf("dropgen: threads=%d sent=%llu errors=%llu seconds=%.3f rate=%.0f\n", threads, sent,
	       errors, t1 - t0, (double)sent / (t1 - t0));
	return 0;
}
