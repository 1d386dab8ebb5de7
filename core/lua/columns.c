/* Parts of the printers' lines, written in C for Lua: the default printer runs per drop. */
#include "lua/bridge.h"
#include "sym/sym.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

/* An address byte: the most common number written, so without a loop. */
static char *put_u8(char *p, unsigned int v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
	}
	*p++ = (char)('0' + v % 10);
	return p;
}

/* Spaces after what was written since start, up to width: printf's %-Ns. */
static char *pad(char *p, const char *start, int width)
{
	while (p - start < width)
		*p++ = ' ';
	return p;
}

int columns__ntop(int family, const void *addr, char *buf, int len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
		return 0;
	return (int)strlen(buf);
}

/* ADDR:PORT, the address as e.saddr gives it; an IPv6 one in brackets when bracket is set. */
static char *put_endpoint(char *p, int family, const uint8_t *raw, uint16_t port, int bracket)
{
	if (family == 4) {
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_u8(p, raw[i]);
		}
	} else {
		char s[INET6_ADDRSTRLEN];

		if (bracket)
			*p++ = '[';
		p = put_mem(p, s, (size_t)columns__ntop(family, raw, s, sizeof(s)));
		if (bracket)
			*p++ = ']';
	}
	*p++ = ':';
	return put_u32(p, port);
}

int columns__flow(void *buf, const struct tcpdrop_event *e, int pid_width, int bracket,
		  const char *time, int time_len)
{
	char *p = buf, *m = p;

	if (pid_width > COLUMNS_PID_MAX)
		pid_width = COLUMNS_PID_MAX;
	p = pad(put_mem(p, time, (size_t)time_len), m, 8);
	*p++ = ' ';
	m = p;
	p = pad(put_u32(p, e->pid), m, pid_width);
	*p++ = ' ';
	m = p;
	p = pad(put_u32(p, e->family), m, 2);
	*p++ = ' ';
	m = p;
	p = pad(put_endpoint(p, e->family, e->saddr_raw, e->sport, bracket), m, 20);
	p = put_mem(p, " > ", 3);
	m = p;
	p = pad(put_endpoint(p, e->family, e->daddr_raw, e->dport, bracket), m, 20);
	*p++ = ' ';
	return (int)(p - (char *)buf);
}

int columns__frames(void *buf, int len, const struct tcpdrop_event *e, columns_sym_fn sym,
		    void *ctx)
{
	char *p = buf, *end = p + len;
	int n = e->nstack < TCPDROP_STACK_MAX ? e->nstack : TCPDROP_STACK_MAX;
	int ids = e->evflags & TCPDROP_F_FRAME_IDS;

	/* Every frame but the first (the location itself) is a return address. */
	for (int i = 0; i < n && end - p >= COLUMNS_FRAME_MAX + 2; i++) {
		int k = sym(ctx, e->stack_addr[i], ids | (i ? KSYMS_RET : 0), p + 1,
			    COLUMNS_FRAME_MAX);

		*p = '\t';
		p += 1 + (k > 0 ? k : 0);
		*p++ = '\n';
	}
	return (int)(p - (char *)buf);
}
