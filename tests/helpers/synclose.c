/* Live-test helper: COUNT non-blocking connect()s, each closed at once (one SYN apiece). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_COUNT 10000

static const char usage[] =
	"usage: synclose COUNT DADDR DPORT\n"
	"  COUNT (1-10000) TCP sockets, each connect()ing to DADDR:DPORT without waiting and\n"
	"  closed right after: each sends one SYN, inside connect(), and nothing more (a socket\n"
	"  closed in SYN_SENT sends no RST). With an output rule dropping it, one drop each,\n"
	"  made by a socket of this process's cgroup. Prints \"sent N\"\n";

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	unsigned long count, port;
	char *end;

	if (argc != 4) {
		fputs(usage, stderr);
		return 2;
	}
	count = strtoul(argv[1], &end, 10);
	if (*end || !count || count > MAX_COUNT) {
		fputs(usage, stderr);
		return 2;
	}
	port = strtoul(argv[3], &end, 10);
	if (*end || !port || port > 65535) {
		fputs(usage, stderr);
		return 2;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[2], &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		len = sizeof(*in);
	} else if (inet_pton(AF_INET6, argv[2], &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		len = sizeof(*in6);
	} else {
		fputs(usage, stderr);
		return 2;
	}
	for (unsigned long i = 0; i < count; i++) {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			perror("synclose: socket");
			return 1;
		}
		if (!connect(fd, (struct sockaddr *)&ss, len) || errno != EINPROGRESS) {
			fprintf(stderr, "synclose: connect: %s\n",
				errno ? strerror(errno) : "connected");
			return 1;
		}
		close(fd);
	}
	printf("sent %lu\n", count);
	return 0;
}
