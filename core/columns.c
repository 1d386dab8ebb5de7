/* Parts of the printers' lines, written in C for Lua: the default printer runs per drop. */
#include "columns.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

static char *put_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* v in decimal: its length first, then the digits from the last, with no copy between. */
static char *put_u32(char *p, uint32_t v)
{
	static const uint32_t tens[] = { 10,	  100,	    1000,      10000,	  100000,
					 1000000, 10000000, 100000000, 1000000000 };
	int n = 1;

	while (n < 10 && v >= tens[n - 1])
		n++;
	for (int i = n - 1; i > 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	p[0] = (char)('0' + v);
	return p + n;
}

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

/* ADDR:PORT, the address as e.saddr gives it. */
static char *put_endpoint(char *p, int family, const uint8_t *raw, uint16_t port)
{
	if (family == 4) {
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_u8(p, raw[i]);
		}
	} else {
		char s[INET6_ADDRSTRLEN];

		if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, raw, s, sizeof(s)))
			p = put_mem(p, s, strlen(s));
	}
	*p++ = ':';
	return put_u32(p, port);
}

int columns__flow(void *buf, const struct tcpdrop_event *e, int pid_width, const char *time,
		  int time_len)
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
	p = pad(put_endpoint(p, e->family, e->saddr_raw, e->sport), m, 20);
	p = put_mem(p, " > ", 3);
	m = p;
	p = pad(put_endpoint(p, e->family, e->daddr_raw, e->dport), m, 20);
	*p++ = ' ';
	return (int)(p - (char *)buf);
}

/*
 * The text of recent frames: symbolising is a search and a format, and the same frames come back
 * drop after drop. Direct-mapped; a frame whose text does not fit is formatted each time.
 */
#define FRAME_CACHE 1024
#define FRAME_TEXT 96

static struct frame_text {
	uint64_t addr;
	uint16_t len; /* 0: empty slot */
	char text[FRAME_TEXT];
} frame_cache[FRAME_CACHE];

int columns__frames(void *buf, int len, const struct tcpdrop_event *e, columns_sym_fn sym)
{
	char *p = buf, *end = p + len;
	int n = e->nstack < TCPDROP_STACK_MAX ? e->nstack : TCPDROP_STACK_MAX;

	for (int i = 0; i < n; i++) {
		uint64_t addr = e->stack_addr[i];
		struct frame_text *f = &frame_cache[(addr ^ (addr >> 12)) % FRAME_CACHE];

		if (end - p < COLUMNS_FRAME_MAX + 2)
			break;
		*p++ = '\t';
		if (f->len && f->addr == addr) {
			p = put_mem(p, f->text, f->len);
		} else {
			int k = sym(addr, p, COLUMNS_FRAME_MAX);

			if (k > 0 && k < FRAME_TEXT) {
				memcpy(f->text, p, (size_t)k);
				f->len = (uint16_t)k;
				f->addr = addr;
			}
			p += k > 0 ? k : 0;
		}
		*p++ = '\n';
	}
	return (int)(p - (char *)buf);
}
