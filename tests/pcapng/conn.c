/* Test helper: refused connections to a closed port on 127.0.0.1 and ::1 (NO_SOCKET drops). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void refused(int family, int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("conn: socket");
		exit(1);
	}
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a6.sin6_addr = in6addr_loopback;
	if (family == AF_INET)
		connect(fd, (struct sockaddr *)&a4, sizeof(a4));
	else
		connect(fd, (struct sockaddr *)&a6, sizeof(a6));
	close(fd);
}

int main(int argc, char **argv)
{
	int port = argc > 2 ? atoi(argv[1]) : 0, count = argc > 2 ? atoi(argv[2]) : 0;
	int gap_ms = argc > 3 ? atoi(argv[3]) : 0;
	struct timespec gap = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };

	if (port < 1 || port > 65535 || count < 1 || count > 10000 || gap_ms < 0 ||
	    gap_ms > 10000) {
		fputs("usage: conn PORT COUNT [GAP_MS]\n"
		      "  COUNT (1-10000) connections each to 127.0.0.1:PORT and [::1]:PORT,\n"
		      "  GAP_MS (default 0) apart; the port must be closed\n",
		      stderr);
		return 2;
	}
	for (int i = 0; i < count; i++) {
		refused(AF_INET, port);
		refused(AF_INET6, port);
		if (gap_ms)
			nanosleep(&gap, NULL);
	}
	return 0;
}
