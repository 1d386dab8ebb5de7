/* Live-test helper: real TCP connections between network namespaces, to make drops on sockets. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"

static const char usage[] =
	"usage: tcpconn [-t SEC] estab SERVER-NS SADDR SPORT CLIENT-NS CADDR\n"
	"       tcpconn [-t SEC] connect CLIENT-NS CADDR CPORT DADDR DPORT\n"
	"  NS: a name under /var/run/netns, a path, or '-' for the current namespace\n"
	"  estab: connect CLIENT-NS to a listener in SERVER-NS; print the client port and\n"
	"    the server socket's rcv_nxt and snd_nxt, then hold the connection SEC seconds\n"
	"    (default 30) or until killed\n"
	"  connect: one connect() from CADDR:CPORT; print 'connected', 'refused' or the\n"
	"    error; wait at most SEC seconds (default 5)\n";

static void die(const char *what)
{
	fprintf(stderr, "tcpconn: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void enter_netns(const char *ns)
{
	char path[256];

	if (netns_enter(ns, path, sizeof(path)))
		die(path);
}

static socklen_t sockaddr_of(const char *addr, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	memset(ss, 0, sizeof(*ss));
	if (*end || end == port || p > 65535) {
		fprintf(stderr, "tcpconn: bad port '%s'\n", port);
		exit(2);
	}
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		return sizeof(*in);
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		return sizeof(*in6);
	}
	fprintf(stderr, "tcpconn: bad address '%s'\n", addr);
	exit(2);
}

static int tcp_socket(const struct sockaddr_storage *bind_to, socklen_t len)
{
	int one = 1, fd = socket(bind_to->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if (bind(fd, (const struct sockaddr *)bind_to, len))
		die("bind");
	return fd;
}

/* A connect() bounded in time: 0 connected, else the errno it ended with. */
static int connect_within(int fd, const struct sockaddr_storage *to, socklen_t len, int sec)
{
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t elen = sizeof(err);
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (!connect(fd, (const struct sockaddr *)to, len))
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	if (poll(&p, 1, sec * 1000) != 1)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
		return errno;
	fcntl(fd, F_SETFL, fl);
	return err;
}

static unsigned int queue_seq(int fd, int queue)
{
	unsigned int seq;
	socklen_t len = sizeof(seq);

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)))
		die("TCP_REPAIR_QUEUE");
	if (getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, &len))
		die("TCP_QUEUE_SEQ");
	return seq;
}

static int estab(char **argv, int sec)
{
	struct sockaddr_storage saddr, caddr, peer;
	socklen_t slen, clen, plen = sizeof(peer);
	unsigned int rcv_nxt, snd_nxt;
	int lfd, cfd, afd, on = 1, off = TCP_REPAIR_OFF_NO_WP, err;
	struct timespec hold = { sec, 0 };

	/* A socket stays in the namespace it was made in: make each one, then move on. */
	enter_netns(argv[0]);
	slen = sockaddr_of(argv[1], argv[2], &saddr);
	lfd = tcp_socket(&saddr, slen);
	if (listen(lfd, 4))
		die("listen");
	enter_netns(argv[3]);
	clen = sockaddr_of(argv[4], "0", &caddr);
	cfd = tcp_socket(&caddr, clen);
	err = connect_within(cfd, &saddr, slen, 5);
	if (err) {
		errno = err;
		die("connect");
	}
	afd = accept(lfd, (struct sockaddr *)&peer, &plen);
	if (afd < 0)
		die("accept");
	/* Repair mode is the one way to read the sequence numbers of a live socket. */
	if (setsockopt(afd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		die("TCP_REPAIR");
	rcv_nxt = queue_seq(afd, TCP_RECV_QUEUE);
	snd_nxt = queue_seq(afd, TCP_SEND_QUEUE);
	if (setsockopt(afd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)))
		die("TCP_REPAIR off");
	printf("%u %u %u\n",
	       ntohs(peer.ss_family == AF_INET ? ((struct sockaddr_in *)&peer)->sin_port
					       : ((struct sockaddr_in6 *)&peer)->sin6_port),
	       rcv_nxt, snd_nxt);
	fflush(stdout);
	nanosleep(&hold, NULL);
	return 0;
}

static int do_connect(char **argv, int sec)
{
	struct sockaddr_storage from, to;
	socklen_t flen, tlen;
	int fd, err;

	enter_netns(argv[0]);
	flen = sockaddr_of(argv[1], argv[2], &from);
	tlen = sockaddr_of(argv[3], argv[4], &to);
	fd = tcp_socket(&from, flen);
	err = connect_within(fd, &to, tlen, sec);
	if (!err)
		puts("connected");
	else if (err == ECONNREFUSED)
		puts("refused");
	else
		printf("error: %s\n", strerror(err));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int c, sec = -1;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't') {
			fputs(usage, stderr);
			return 2;
		}
		sec = atoi(optarg);
		if (sec < 1 || sec > 600) {
			fprintf(stderr, "tcpconn: -t: 1 to 600 seconds\n");
			return 2;
		}
	}
	argv += optind;
	argc -= optind;
	if (argc == 6 && !strcmp(argv[0], "estab"))
		return estab(argv + 1, sec < 0 ? 30 : sec);
	if (argc == 6 && !strcmp(argv[0], "connect"))
		return do_connect(argv + 1, sec < 0 ? 5 : sec);
	fputs(usage, stderr);
	return 2;
}
