/*
 * The HTTP side of --metrics: libmicrohttpd driven from the run's own epoll loop (no thread),
 * on a socket bound here, before --user gives up root.
 */
#include "metrics/internal.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9' && v <= 65535; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (p == s || *p || !v || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int metrics__parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hl;
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (parse_port(colon ? colon + 1 : s, &port))
		return -EINVAL;
	hl = colon ? (size_t)(colon - s) : 0;
	if (!colon || (hl == 0)) {
		/* Every address: one IPv6 socket that takes IPv4 too (IPV6_V6ONLY off). */
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		return -EINVAL;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	*len = sizeof(*s4);
	return 0;
}

/* The listening socket, or -errno. */
static int bind_listen(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1,
	    zero = 0, err;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (fd < 0)
		return -errno;
	/* A restart binds while the last run's connections linger in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (const struct sockaddr *)ss, len) || listen(fd, 32)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* One request: GET or HEAD /metrics; libmicrohttpd leaves the body out of a HEAD answer. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	struct metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;

	/* The first call has the headers only: answer on it, a body (none is wanted) or not. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return answer_text(c, MHD_HTTP_NOT_FOUND, "tcpdrop serves /metrics\n");
	/*
	 * A page rendered less than METRICS_CACHE_MS ago is served again: clients that scrape
	 * as fast as they can cost the loop (and the drains it owes the rings) a few renders a
	 * second at most. Counters a quarter of a second old are as good for a scrape.
	 */
	if (!m->page || now_ns(CLOCK_MONOTONIC) - m->page_ns >= METRICS_CACHE_MS * 1000000ull) {
		if (metrics__render(m, &text, &len))
			return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
					   "could not read the counts\n");
		free(m->page);
		m->page = text;
		m->page_len = len;
		m->page_ns = now_ns(CLOCK_MONOTONIC);
	}
	r = MHD_create_response_from_buffer(m->page_len, m->page, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	m->scrapes++;
	return ret;
}

/* libmicrohttpd's own messages (a client that misbehaved, mostly): with -v only. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	vmsg("metrics server: %s", line);
}

int metrics__open(const struct metrics_opts *o, struct metrics **out)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct metrics *m;
	socklen_t len;
	int fd;

	*out = NULL;
	if (metrics__parse_listen(o->listen, &ss, &len)) {
		msg("--metrics: '%s' is not [ADDR:]PORT", o->listen);
		return 2;
	}
	fd = bind_listen(&ss, len);
	/* No IPv6 on this host: every IPv4 address, then. */
	if (fd == -EAFNOSUPPORT && ss.ss_family == AF_INET6 && !strchr(o->listen, '[')) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		uint16_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = port;
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		fd = bind_listen(&ss, sizeof(*s4));
	}
	if (fd < 0) {
		msg("--metrics: cannot listen on %s: %s", o->listen, strerror(-fd));
		return 1;
	}
	m = series__new(o);
	/*
	 * External epoll: MHD_run, called from our loop when its epoll fd is readable, never
	 * blocks, so a client that sends nothing or reads nothing holds up no drop. The limits
	 * keep a crowd of them to a few kilobytes each, for METRICS_TIMEOUT_S at most.
	 */
	m->d = MHD_start_daemon(
		MHD_USE_EPOLL | (verbose ? MHD_USE_ERROR_LOG : 0), 0, NULL, NULL, on_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_CONNS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_CONNS_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_REQUEST_MAX, MHD_OPTION_END);
	if (!m->d) {
		msg("--metrics: the HTTP server did not start on %s", o->listen);
		close(fd);
		metrics__free(m);
		return 1;
	}
	/* The daemon owns the socket now: MHD_stop_daemon closes it. */
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	m->fd = info ? info->epoll_fd : -1;
	if (m->fd < 0) {
		msg("--metrics: the HTTP server has no epoll descriptor");
		metrics__free(m);
		return 1;
	}
	vmsg("metrics: serving http://%s/metrics (%u connections, %u per address, %d s idle)",
	     o->listen, METRICS_MAX_CONNS, METRICS_MAX_CONNS_PER_IP, METRICS_TIMEOUT_S);
	*out = m;
	return 0;
}

int metrics__fd(const struct metrics *m)
{
	return m ? m->fd : -1;
}

/* Rounds of MHD_run in one call, at most: what is left waits for the next second. */
#define SERVE_ROUNDS 64

void metrics__serve(struct metrics *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (!m || !m->d)
		return;
	/*
	 * Its epoll set is edge-triggered: a connection it could not finish with (a long request
	 * read in parts) raises no new event, and a timeout of 0 says so. Run again while it does.
	 */
	for (int i = 0; i < SERVE_ROUNDS; i++)
		if (MHD_run(m->d) != MHD_YES || MHD_get_timeout(m->d, &ms) != MHD_YES || ms)
			break;
}

void metrics__free(struct metrics *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);
	series__free(m);
}
