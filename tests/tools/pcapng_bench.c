/* Test tool: the -w encoder's cost per drop, and its bytes for a fixed mix of events. */
/*
 * usage: pcapng_bench [-m storm|stack|varied] [-n EVENTS] [-r RUNS] [-o FILE] [-k KALLSYMS] [-u]
 *
 * Encodes EVENTS (default 2000000) drop events as -w does (pcapng_enc__put_event; -u:
 * pcapng__put_event, which caches nothing, so that the two can be compared), in batches of 1024
 * as the reader hands them over, the buffer emptied at -w's flush size (written to FILE
 * when given, else dropped), RUNS times (default 5), and prints the best and median ns per
 * event. The symbols are KALLSYMS' (default /proc/kallsyms, which needs root for
 * addresses); the names are the running kernel's. The events are pseudo-random from a
 * fixed seed, so that FILE is the same bytes on the same machine from run to run:
 *
 *   storm   what a --no-stack RST storm to a closed port records: NO_SOCKET, the packet's
 *           40 header bytes, two dropping locations, two comms
 *   stack   the same with stacks of 8-20 frames drawn from a few dozen addresses
 *   varied  everything the encoder distinguishes: both families, packet or none, named,
 *           unnamed, subsystem and absent reasons, states, odd comms, unknown addresses,
 *           stacks up to TCPDROP_STACK_MAX frames with every status
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sym/sym.h"
#include "capture/capture.h"
#include "util/util.h"

#define POOL 4096
#define BATCH 1024
#define FLUSH (256u << 10)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

struct syms {
	uint64_t *addr;
	size_t n;
	uint64_t v4rcv, validate;
};

static int read_syms(const char *path, struct syms *s)
{
	FILE *f = fopen(path, "r");
	char line[512], type, name[256];
	unsigned long long a;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3 || !a ||
		    (type != 't' && type != 'T'))
			continue;
		if (s->n == cap) {
			cap = cap ? cap * 2 : 4096;
			s->addr = realloc(s->addr, cap * sizeof(*s->addr));
			if (!s->addr)
				exit(1);
		}
		s->addr[s->n++] = a;
		if (!strcmp(name, "tcp_v4_rcv"))
			s->v4rcv = a;
		else if (!strcmp(name, "tcp_validate_incoming"))
			s->validate = a;
	}
	fclose(f);
	return s->n ? 0 : -ENOENT;
}

#define LONG_SYM 0xffffffffc8000000ULL /* a symbol with a 300-character name */

static uint64_t frame(const struct syms *s)
{
	uint32_t k = below(20);

	if (k == 2)
		return LONG_SYM + below(0x100);

	if (k == 0)
		return 0x1234; /* below every symbol */
	if (k == 1)
		return 0xffffffffc9000000ULL + below(0x100000); /* far past one: a JIT image */
	return s->addr[below((uint32_t)s->n)] + below(0x400);
}

static void storm(struct tcpdrop_event *e, const struct syms *s, uint32_t no_socket, int stack,
		  const uint64_t *frames)
{
	static const uint8_t rst[40] = { 0x45, 0, 0,  40, 0,	0,    0x40, 0, 64, 6, 0, 0, 10, 96,
					 0,    1, 10, 96, 0,	2,    0,    0, 0,  0, 0, 0, 0,	0,
					 0,    0, 0,  0,  0x50, 0x04, 0,    0, 0,  0, 0, 0 };
	uint32_t cpu = below(2);

	e->ts_ns = 1700000000000000000ULL + rnd() % 1000000000000ULL;
	e->family = 4;
	memcpy(e->saddr_raw, rst + 12, 4);
	memcpy(e->daddr_raw, rst + 16, 4);
	e->sport = (uint16_t)(1024 + below(60000));
	e->dport = (uint16_t)(1 + below(1000));
	e->seq = (uint32_t)rnd();
	e->tcp_flags = 0x04;
	memcpy(e->pkt, rst, sizeof(rst));
	e->pkt[20] = (uint8_t)(e->sport >> 8);
	e->pkt[21] = (uint8_t)e->sport;
	e->pkt[22] = (uint8_t)(e->dport >> 8);
	e->pkt[23] = (uint8_t)e->dport;
	e->pkt_len = e->hdr_len = 40;
	e->len = 40;
	e->reason_code = no_socket;
	e->evflags = TCPDROP_F_PKT_HDRS | (stack ? 0 : TCPDROP_F_NO_STACK);
	e->cpu = cpu;
	e->ifindex = 2;
	e->netns = 4026532000u;
	e->pid = cpu ? 4242 : 0;
	e->tid = e->pid;
	strcpy(e->comm_raw, cpu ? "dropgen" : "swapper/0");
	e->loc_addr = (below(4) ? s->v4rcv + 0x2f1 : s->validate + 0x1a4);
	if (stack) {
		e->nstack = (uint16_t)(8 + below(13));
		for (unsigned int i = 0; i < e->nstack; i++)
			e->stack_addr[i] = frames[below(48)];
	}
}

static void varied(struct tcpdrop_event *e, const struct syms *s, uint32_t no_socket)
{
	static const char *const comms[] = { "dropgen",
					     "",
					     "swapper/1",
					     "a\x01"
					     "b\x7f",
					     "ksoftirqd/0",
					     "x",
					     "\xff\xfe",
					     "sshd" };
	uint32_t k;

	e->ts_ns = rnd();
	e->family = below(3) ? 4 : 6;
	for (int i = 0; i < 16; i++) {
		e->saddr_raw[i] = (uint8_t)rnd();
		e->daddr_raw[i] = (uint8_t)rnd();
	}
	if (e->family == 4) {
		memset(e->saddr_raw + 4, 0, 12);
		memset(e->daddr_raw + 4, 0, 12);
	}
	e->sport = (uint16_t)rnd();
	e->dport = (uint16_t)rnd();
	e->seq = (uint32_t)rnd();
	e->ack_seq = (uint32_t)rnd();
	e->win = (uint16_t)rnd();
	e->tcp_flags = (uint8_t)rnd();
	e->pid = below(4) ? (uint32_t)rnd() : below(100);
	e->tid = (uint32_t)rnd();
	e->cpu = below(64);
	e->ifindex = below(10);
	e->netns = (uint32_t)rnd();
	e->len = below(3) ? below(70000) : 0;
	if (below(2)) {
		e->pkt_len = (uint16_t)(1 + below(TCPDROP_PKT_MAX));
		e->hdr_len = (uint16_t)below(TCPDROP_HDR_MAX);
		for (unsigned int i = 0; i < e->pkt_len; i++)
			e->pkt[i] = (uint8_t)rnd();
		e->evflags |= TCPDROP_F_PKT_HDRS;
	}
	k = below(10);
	e->reason_code = k < 4	  ? below(90)
			 : k == 4 ? 998
			 : k == 5 ? 999
			 : k == 6 ? 0x10002
			 : k == 7 ? 0
				  : no_socket;
	if (k == 8 && below(2))
		e->evflags |= TCPDROP_F_NO_REASON;
	if (below(2)) {
		e->evflags |= TCPDROP_F_SOCK;
		e->state_code = (uint8_t)(below(8) ? below(14) : 200 + below(50));
	} else if (below(4) == 0) {
		e->state_code = (uint8_t)below(14); /* no socket flag: the comment says "-" */
	}
	k = below((uint32_t)(sizeof(comms) / sizeof(comms[0])) + 1);
	if (k < sizeof(comms) / sizeof(comms[0]))
		strncpy(e->comm_raw, comms[k], sizeof(e->comm_raw));
	else
		memcpy(e->comm_raw, "0123456789abcdef", 16); /* no NUL */
	e->loc_addr = below(5) ? frame(s) : 0;
	k = below(6);
	if (k == 0)
		e->evflags |= TCPDROP_F_STACK_SKIPPED;
	else if (k == 1)
		e->evflags |= TCPDROP_F_STACK_FAILED;
	else if (k == 2)
		e->evflags |= TCPDROP_F_NO_STACK;
	else
		e->nstack =
			(uint16_t)(k == 3 ? 1 + below(TCPDROP_STACK_MAX) + below(4) : below(12));
	for (unsigned int i = 0; i < e->nstack && i < TCPDROP_STACK_MAX; i++)
		e->stack_addr[i] = frame(s);
}

static struct pcapng_enc *enc;
static struct names *nm;
static struct ksyms *ks;
static int uncached;

static void encode(struct pcapng_buf *b, const struct tcpdrop_event *ev)
{
	if (uncached)
		pcapng__put_event(b, ev, nm, ks);
	else
		pcapng_enc__put_event(enc, b, ev);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int drain(struct pcapng_buf *b, int fd)
{
	size_t done = 0;

	while (fd >= 0 && done < b->len) {
		ssize_t n = write(fd, b->p + done, b->len - done);

		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	b->len = 0;
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = "storm", *out = NULL, *kallsyms = "/proc/kallsyms";
	long events = 2000000, runs = 5;
	struct syms s = { 0 };
	struct tcpdrop_event *pool = xcalloc(POOL, sizeof(*pool));
	struct pcapng_buf b = { 0 };
	uint64_t frames[48], *ns;
	uint32_t no_socket;
	int64_t code;
	int opt, fd = -1;

	while ((opt = getopt(argc, argv, "m:n:r:o:k:u")) != -1) {
		switch (opt) {
		case 'm':
			mode = optarg;
			break;
		case 'n':
			events = atol(optarg);
			break;
		case 'r':
			runs = atol(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'k':
			kallsyms = optarg;
			break;
		case 'u':
			uncached = 1;
			break;
		default:
			return 2;
		}
	}
	if (events < 1 || runs < 1 ||
	    (strcmp(mode, "storm") && strcmp(mode, "stack") && strcmp(mode, "varied"))) {
		fprintf(stderr, "pcapng_bench: bad arguments\n");
		return 2;
	}
	nm = names__new();
	ks = ksyms__new();
	if (read_syms(kallsyms, &s) || !s.v4rcv || !s.validate || ksyms__load_file(ks, kallsyms)) {
		fprintf(stderr, "pcapng_bench: no text symbols with addresses in %s\n", kallsyms);
		return 1;
	}
	names__load_kernel(nm, NULL);
	if (!strcmp(mode, "varied")) {
		/* Past what the comments hold (511 characters) and what a cached frame holds. */
		static char name[481];

		memset(name, 'R', sizeof(name) - 1);
		names__set_reason(nm, 998, name);
		memset(name, 'f', 300);
		name[300] = '\0';
		ksyms__add(ks, LONG_SYM, name);
	}
	code = names__reason_code(nm, "NO_SOCKET");
	no_socket = code < 0 ? 3 : (uint32_t)code;
	for (size_t i = 0; i < 48; i++)
		frames[i] = frame(&s);
	for (size_t i = 0; i < POOL; i++) {
		if (!strcmp(mode, "varied"))
			varied(&pool[i], &s, no_socket);
		else
			storm(&pool[i], &s, no_socket, !strcmp(mode, "stack"), frames);
	}
	if (out) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0) {
			fprintf(stderr, "pcapng_bench: %s: %s\n", out, strerror(errno));
			return 1;
		}
	}
	if (fd >= 0) {
		/* A whole file, for tshark and tcpdrop -r; its header is not timed. */
		struct pcapng_section sec = { .userappl = "pcapng_bench", .nm = nm };

		pcapng__put_shb(&b, &sec);
		pcapng__put_idb(&b, PCAPNG_LINKTYPE_RAW, TCPDROP_PKT_MAX, "tcpdrop", NULL);
		if (drain(&b, fd))
			return 1;
	}
	enc = pcapng_enc__new(nm, ks);
	ns = xcalloc((size_t)runs, sizeof(*ns));
	for (long r = 0; r < runs; r++) {
		uint64_t t0 = now_ns(CLOCK_MONOTONIC);

		for (long done = 0; done < events;) {
			long n = events - done < BATCH ? events - done : BATCH;
			size_t at = (size_t)done % POOL;

			for (long i = 0; i < n; i++)
				encode(&b, &pool[(at + (size_t)i) % POOL]);
			done += n;
			if (b.len >= FLUSH && drain(&b, fd))
				return 1;
		}
		if (drain(&b, fd))
			return 1;
		ns[r] = now_ns(CLOCK_MONOTONIC) - t0;
		if (fd >= 0) {
			close(fd);
			fd = -1; /* the bytes once; the other runs for the time */
		}
	}
	qsort(ns, (size_t)runs, sizeof(*ns), cmp_u64);
	printf("%s: %ld events, best %.1f ns/event, median %.1f ns/event (%ld runs)\n", mode,
	       events, (double)ns[0] / (double)events, (double)ns[runs / 2] / (double)events, runs);
	pcapng_enc__free(enc);
	pcapng_buf__free(&b);
	names__free(nm);
	ksyms__free(ks);
	free(s.addr);
	free(pool);
	free(ns);
	return 0;
}
