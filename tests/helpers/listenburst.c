/* Live-test helper: overflow a listener's accept queue with a burst of connects (listen backlog 0).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"

#define MAX_COUNT 200

static const char usage[] =
	"usage: listenburst [-6] [-k] [-n COUNT] NS PORT\n"
	"  in NS (a name under /var/run/netns, a path, or '-' for the current namespace), listen "
	"on\n"
	"  127.0.0.1:PORT (-6: [::1]:PORT) with backlog 0, never accept, and start COUNT (1-200, "
	"default 20)\n"
	"  non-blocking connects to it; the first fills the accept queue, each other SYN "
	"overflows\n"
	"  it. Closes everything 200 ms later, before any SYN is sent again. Prints \"connects "
	"N\"\n"
	"  -k: print \"listening\" once it listens, and after the connects (-n 0: none) keep\n"
	"  listening until standard input ends (at most 10 s), for SYNs sent from elsewhere\n";

static void die(const char *what)
{
	fprintf(stderr, "listenburst: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void enter_netns(const char *ns)
{
	char path[256];

	if (netns_enter(ns, path, sizeof(path)))
		die(path);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa4 = { .sin_family = AF_INET };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr *sa = (struct sockaddr *)&sa4;
	socklen_t salen = sizeof(sa4);
	int family = AF_INET;
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	int fds[MAX_COUNT], n = 20, lfd, one = 1, started = 0, keep = 0;
	char *end;
	long port;

	if (argc >= 2 && !strcmp(argv[1], "-6")) {
		family = AF_INET6;
		sa = (struct sockaddr *)&sa6;
		salen = sizeof(sa6);
		argv++;
		argc--;
	}
	if (argc >= 2 && !strcmp(argv[1], "-k")) {
		keep = 1;
		argv++;
		argc--;
	}
	if (argc == 5 && !strcmp(argv[1], "-n")) {
		n = (int)strtol(argv[2], &end, 10);
		if (*end || n < !keep || n > MAX_COUNT) {
			fputs(usage, stderr);
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc != 3) {
		fputs(usage, stderr);
		return 2;
	}
	port = strtol(argv[2], &end, 10);
	if (*end || port < 1 || port > 65535) {
		fputs(usage, stderr);
		return 2;
	}
	enter_netns(argv[1]);
	sa4.sin_port = htons((uint16_t)port);
	sa4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa6.sin6_port = htons((uint16_t)port);
	lfd = socket(family, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, sa, salen) || listen(lfd, 0))
		die("listen");
	if (keep) {
		printf("listening\n");
		fflush(stdout);
	}
	for (int i = 0; i < n; i++) {
		fds[i] = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] < 0)
			die("socket");
		if (connect(fds[i], sa, salen) && errno != EINPROGRESS)
			die("connect");
		started++;
	}
	nanosleep(&pause, NULL);
	if (keep) {
		struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
		char buf[64];

		/* Until EOF, at most 10 s (100 polls of 100 ms, whatever the input says). */
		for (int i = 0; i < 100 && poll(&in, 1, 100) >= 0; i++)
			if ((in.revents & (POLLIN | POLLHUP)) &&
			    read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
				break;
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	close(lfd);
	printf("connects %d\n", started);
	return 0;
}
