/* core/metrics: [ADDR:]PORT, --metrics-labels and label escaping. */
#define CHECK_SUITE "metrics"
#include "check.h"
#include "metrics/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static int listen_ok(const char *s, int family, const char *addr, unsigned int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char text[INET6_ADDRSTRLEN] = "";
	const void *a;
	unsigned int p;

	if (metrics__parse_listen(s, &ss, &len) || ss.ss_family != family)
		return 0;
	if (family == AF_INET) {
		a = &((struct sockaddr_in *)&ss)->sin_addr;
		p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	inet_ntop(family, a, text, sizeof(text));
	return !strcmp(text, addr) && p == port;
}

int main(void)
{
	static const char *const bad[] = { "",	       "0",	     "65536",	  "x",
					   "9100x",    "1.2.3:9100", "[::1:9100", "[]:9100",
					   "::1:9100", "host:9100",  "1.2.3.4:",  "-1" };
	struct sockaddr_storage ss;
	socklen_t len;
	uint32_t bits;
	char err[256], out[64];
	int bad_ok = 1;

	check("listen-port-alone", listen_ok("9100", AF_INET6, "::", 9100), "9100");
	check("listen-colon-port", listen_ok(":9100", AF_INET6, "::", 9100), ":9100");
	check("listen-v4", listen_ok("127.0.0.1:1", AF_INET, "127.0.0.1", 1), "127.0.0.1:1");
	check("listen-v6", listen_ok("[::1]:65535", AF_INET6, "::1", 65535), "[::1]:65535");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!metrics__parse_listen(bad[i], &ss, &len)) {
			check("listen-bad", 0, "'%s' accepted", bad[i]);
			bad_ok = 0;
		}
	if (bad_ok)
		check("listen-bad", 1, "-");

	check("labels-default-set",
	      !metrics__parse_labels("reason", &bits, err, sizeof(err)) &&
		      bits == TCPDROP_KC_REASON,
	      "%s", err);
	check("labels-several",
	      !metrics__parse_labels("reason,state,dport,netns", &bits, err, sizeof(err)) &&
		      bits == (TCPDROP_KC_REASON | TCPDROP_KC_STATE | TCPDROP_KC_DPORT |
			       TCPDROP_KC_NETNS),
	      "%s", err);
	check("labels-unknown",
	      metrics__parse_labels("reason,pod", &bits, err, sizeof(err)) &&
		      strstr(err, "'pod' is not a label"),
	      "%s", err);
	check("labels-empty-word", metrics__parse_labels("reason,,dport", &bits, err, sizeof(err)),
	      "accepted");
	check("labels-trailing-comma", metrics__parse_labels("reason,", &bits, err, sizeof(err)),
	      "accepted");
	check("labels-none", metrics__parse_labels("", &bits, err, sizeof(err)), "accepted");

	metrics__escape(out, sizeof(out), "a\"b\\c\nd");
	check("escape", !strcmp(out, "a\\\"b\\\\c\\nd"), "%s", out);
	metrics__escape(out, 8, "\\\\\\\\\\\\\\\\");
	check("escape-bounded", strlen(out) < 8 && strlen(out) % 2 == 0, "%s", out);
	return failures ? 1 : 0;
}
