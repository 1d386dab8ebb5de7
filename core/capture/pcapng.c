/* pcapng/pcap reading and writing, and the mapping between a drop event and a packet block. */
#include "capture/capture.h"
#include "sym/sym.h"
#include "lua/bridge.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 1u
#define BT_PB 2u /* obsolete Packet Block */
#define BT_SPB 3u
#define BT_ISB 5u
#define BT_EPB 6u
#define BOM 0x1A2B3C4Du

#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_CUSTOM_STR 2988
#define OPT_CUSTOM_BIN 2989
#define OPT_CUSTOM_STR_NC 19372
#define OPT_CUSTOM_BIN_NC 19373
#define SHB_HARDWARE 2
#define SHB_OS 3
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define IF_TSOFFSET 14
#define ISB_STARTTIME 2
#define ISB_ENDTIME 3
#define ISB_IFRECV 4
#define ISB_IFDROP 5
#define ISB_USRDELIV 8

#define READ_CHUNK (1u << 20)
#define FRAME_MAX 512 /* what the Lua side formats a frame into */
#define NAME_MAX_LEN 255
#define MAX_SUB_NAMES 4096 /* subsystem reason names a file may add */

/* ---------------------------------------------------------------- writing */

static void reserve(struct pcapng_buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 > 4096 ? (b->len + n) * 2 : 4096;
		b->p = xrealloc(b->p, b->cap);
	}
}

static void put(struct pcapng_buf *b, const void *v, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void put16(struct pcapng_buf *b, uint16_t v)
{
	put(b, &v, 2);
}

static void put32(struct pcapng_buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void pad4(struct pcapng_buf *b)
{
	static const uint8_t zero[4];

	put(b, zero, (4 - (b->len & 3)) & 3);
}

void pcapng_buf__free(struct pcapng_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static size_t block_begin(struct pcapng_buf *b, uint32_t type)
{
	size_t start = b->len;

	put32(b, type);
	put32(b, 0); /* the length, known at the end */
	return start;
}

static void block_end(struct pcapng_buf *b, size_t start, int has_opts)
{
	uint32_t len;

	if (has_opts) {
		put16(b, OPT_END);
		put16(b, 0);
	}
	len = (uint32_t)(b->len - start + 4);
	put32(b, len);
	memcpy(b->p + start + 4, &len, 4);
}

static void opt(struct pcapng_buf *b, uint16_t code, const void *v, size_t len)
{
	if (len > 0xffff)
		len = 0xffff;
	put16(b, code);
	put16(b, (uint16_t)len);
	put(b, v, len);
	pad4(b);
}

static void opt_str(struct pcapng_buf *b, uint16_t code, const char *s)
{
	if (s && *s)
		opt(b, code, s, strlen(s));
}

static void custom(struct pcapng_buf *b, uint16_t tag, const void *v, size_t len)
{
	uint32_t pen = PCAPNG_PEN;

	if (len > 0xffff - 6)
		len = 0xffff - 6;
	put16(b, OPT_CUSTOM_BIN);
	put16(b, (uint16_t)(len + 6));
	put(b, &pen, 4);
	put16(b, tag);
	put(b, v, len);
	pad4(b);
}

/* "CODE NAME\n" lines, split over as many options as the 64 KiB option limit needs. */
struct table {
	char buf[60000];
	size_t len;
};

static void table_add(struct pcapng_buf *b, struct table *t, uint16_t tag, uint32_t code,
		      const char *name)
{
	char line[NAME_MAX_LEN + 16];
	int n = snprintf(line, sizeof(line), "%u %.*s\n", code, NAME_MAX_LEN, name);

	if (t->len + (size_t)n > sizeof(t->buf)) {
		custom(b, tag, t->buf, t->len);
		t->len = 0;
	}
	memcpy(t->buf + t->len, line, (size_t)n);
	t->len += (size_t)n;
}

static void table_end(struct pcapng_buf *b, struct table *t, uint16_t tag)
{
	if (t->len)
		custom(b, tag, t->buf, t->len);
	t->len = 0;
}

void pcapng__put_shb(struct pcapng_buf *b, const struct pcapng_section *s)
{
	size_t start = block_begin(b, BT_SHB);
	struct table *t = xmalloc(sizeof(*t));

	put32(b, BOM);
	put16(b, 1);
	put16(b, 0);
	put32(b, 0xffffffffu); /* section length: unknown, we stream */
	put32(b, 0xffffffffu);
	opt_str(b, OPT_COMMENT, s->comment);
	opt_str(b, SHB_HARDWARE, s->hardware);
	opt_str(b, SHB_OS, s->os);
	opt_str(b, SHB_USERAPPL, s->userappl);
	t->len = 0;
	if (s->nm) {
		for (int64_t c = names__next_reason(s->nm, -1); c >= 0;
		     c = names__next_reason(s->nm, c))
			table_add(b, t, PCAPNG_TAG_REASONS, (uint32_t)c,
				  names__reason(s->nm, (uint32_t)c));
		table_end(b, t, PCAPNG_TAG_REASONS);
		for (unsigned int c = 0; c < 256; c++) {
			const char *name = names__state(s->nm, c);

			if (name)
				table_add(b, t, PCAPNG_TAG_STATES, c, name);
		}
		table_end(b, t, PCAPNG_TAG_STATES);
	}
	free(t);
	block_end(b, start, 1);
}

void pcapng__put_idb(struct pcapng_buf *b, uint16_t linktype, uint32_t snaplen, const char *name,
		     const char *desc)
{
	size_t start = block_begin(b, BT_IDB);
	uint8_t ns = 9;

	put16(b, linktype);
	put16(b, 0);
	put32(b, snaplen);
	opt_str(b, IF_NAME, name);
	opt_str(b, IF_DESCRIPTION, desc);
	opt(b, IF_TSRESOL, &ns, 1);
	block_end(b, start, 1);
}

static void ts_put(struct pcapng_buf *b, uint64_t ts)
{
	put32(b, (uint32_t)(ts >> 32));
	put32(b, (uint32_t)ts);
}

static void opt_ts(struct pcapng_buf *b, uint16_t code, uint64_t ts)
{
	uint32_t v[2] = { (uint32_t)(ts >> 32), (uint32_t)ts };

	opt(b, code, v, sizeof(v));
}

void pcapng__put_isb(struct pcapng_buf *b, uint64_t now, uint64_t start, uint64_t end,
		     const struct run_stats *st, uint64_t written)
{
	size_t at = block_begin(b, BT_ISB);

	put32(b, 0);
	ts_put(b, now);
	if (start)
		opt_ts(b, ISB_STARTTIME, start);
	if (end)
		opt_ts(b, ISB_ENDTIME, end);
	if (st) {
		uint64_t v[6] = { st->seen,	      st->lost,		 st->filtered_kernel,
				  st->stacks_skipped, st->stacks_failed, st->errors };
		uint64_t recv = st->seen + st->lost;

		opt(b, ISB_IFRECV, &recv, 8);
		opt(b, ISB_IFDROP, &st->lost, 8);
		opt(b, ISB_USRDELIV, &written, 8);
		custom(b, PCAPNG_TAG_STATS, v, sizeof(v));
	}
	block_end(b, at, 1);
}

static uint16_t csum16(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v);
}

size_t pcapng__synthesise(uint8_t *p, const struct tcpdrop_event *ev)
{
	uint8_t *th;
	size_t ipl;

	if (ev->family == 6) {
		ipl = 40;
		memset(p, 0, 60);
		p[0] = 0x60;
		be16(p + 4, 20);
		p[6] = 6; /* TCP */
		p[7] = 64;
		memcpy(p + 8, ev->saddr_raw, 16);
		memcpy(p + 24, ev->daddr_raw, 16);
	} else {
		ipl = 20;
		memset(p, 0, 40);
		p[0] = 0x45;
		be16(p + 2, 40);
		p[6] = 0x40; /* don't fragment */
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, ev->saddr_raw, 4);
		memcpy(p + 16, ev->daddr_raw, 4);
		be16(p + 10, csum16(p, 20));
	}
	th = p + ipl;
	be16(th, ev->sport);
	be16(th + 2, ev->dport);
	be32(th + 4, ev->seq);
	be32(th + 8, ev->ack_seq);
	th[12] = 5 << 4;
	th[13] = ev->tcp_flags;
	be16(th + 14, ev->win);
	return ipl + 20;
}

/*
 * A drop's block is written straight into the buffer: its size is bounded before the first
 * byte, so one reserve() covers every field. A storm repeats a few locations and frames,
 * whose formatting (a search over ~200k symbols and a printf) costs more than the rest of the
 * block: they are kept formatted in a direct-mapped cache, as are the lengths of names.
 */
#define TEXT_MAX 511 /* a comment's characters, as the 512-byte buffer it was once built in */
#define REASON_SLOTS 256 /* power of 2 */

/* A name and its length, valid while the table still answers that pointer for the code. */
struct name_len {
	const char *p;
	size_t len;
	uint32_t code;
};

struct pcapng_enc {
	struct names *nm;
	struct ksyms *ks;
	struct name_len reasons[REASON_SLOTS];
	struct name_len states[256];
	struct ksyms_texts frames;
};

struct pcapng_enc *pcapng_enc__new(struct names *nm, struct ksyms *ks)
{
	struct pcapng_enc *e = xcalloc(1, sizeof(*e));

	e->nm = nm;
	e->ks = ks;
	return e;
}

void pcapng_enc__free(struct pcapng_enc *e)
{
	free(e);
}

static size_t name_len(struct name_len *c, const char *p, uint32_t code)
{
	if (c->p != p || c->code != code) {
		c->p = p;
		c->code = code;
		c->len = strlen(p);
	}
	return c->len;
}

/* The reason's name (NULL: none) and its length. */
static const char *reason_name(struct pcapng_enc *e, struct names *nm, uint32_t code, size_t *len)
{
	const char *p = names__reason(nm, code);

	if (p)
		*len = e ? name_len(&e->reasons[code & (REASON_SLOTS - 1)], p, code) : strlen(p);
	return p;
}

static const char *state_name(struct pcapng_enc *e, struct names *nm, uint8_t code, size_t *len)
{
	const char *p = names__state(nm, code);

	if (p)
		*len = e ? name_len(&e->states[code], p, code) : strlen(p);
	return p;
}

/* addr as ksyms__format() spells it into room bytes, through the encoder's kept texts. */
static size_t frame(struct pcapng_enc *e, struct ksyms *ks, uint64_t addr, char *dst, size_t room)
{
	if (room < 2)
		return 0;
	if (!e)
		return (size_t)ksyms__format(ks, addr, dst, room);
	return (size_t)ksyms__format_kept(ks, &e->frames, addr, dst, room);
}

static uint8_t *w16(uint8_t *o, uint16_t v)
{
	memcpy(o, &v, 2);
	return o + 2;
}

static uint8_t *w32(uint8_t *o, uint32_t v)
{
	memcpy(o, &v, 4);
	return o + 4;
}

/* Zeros up to the next 4-byte boundary of the block (which starts 4-aligned in b). */
static uint8_t *wpad(uint8_t *o, const uint8_t *base)
{
	size_t n = (size_t)(4 - ((o - base) & 3)) & 3;

	memset(o, 0, 4);
	return o + n;
}

/* An option whose value is already at o + 4, n bytes long (capped as opt() does). */
static uint8_t *wopt_done(uint8_t *o, const uint8_t *base, uint16_t code, size_t n)
{
	if (n > 0xffff)
		n = 0xffff;
	o = w16(o, code);
	o = w16(o, (uint16_t)n);
	return wpad(o + n, base);
}

/* A custom option of ours: header, then len bytes of v (capped as custom() does). */
static uint8_t *wcustom(uint8_t *o, const uint8_t *base, uint16_t tag, const void *v, size_t len)
{
	if (len > 0xffff - 6)
		len = 0xffff - 6;
	o = w16(o, OPT_CUSTOM_BIN);
	o = w16(o, (uint16_t)(len + 6));
	o = w32(o, PCAPNG_PEN);
	o = w16(o, tag);
	memcpy(o, v, len);
	return wpad(o + len, base);
}

static uint8_t *wfields(uint8_t *f, const struct tcpdrop_event *ev, uint16_t nstack)
{
	uint32_t u32[9] = { ev->reason_code, ev->pid, ev->tid, ev->netns,  ev->ifindex,
			    ev->cpu,	     ev->len, ev->seq, ev->ack_seq };
	uint16_t u16[5] = { ev->sport, ev->dport, ev->win, ev->pkt_len, ev->hdr_len };

	memcpy(f, u32, 36);
	memcpy(f + 36, u16, 10);
	f[46] = ev->family;
	f[47] = ev->state_code;
	f[48] = ev->tcp_flags;
	f[49] = ev->evflags;
	memcpy(f + 50, &nstack, 2);
	memcpy(f + 52, ev->saddr_raw, 16);
	memcpy(f + 68, ev->daddr_raw, 16);
	memcpy(f + 84, ev->comm_raw, 16);
	return f + PCAPNG_EVENT_LEN;
}

/*
 * The comments are written whole and then cut at TEXT_MAX characters, as snprintf into the
 * 512-byte buffer they were once built in cut them; what lies past the cut is overwritten.
 */
#define COMMENT_MAX(rlen, slen) ((rlen) + (slen) + 64)

/* "REASON (CODE) state STATE pid PID comm COMM": at most COMMENT_MAX(rlen, slen) bytes. */
static char *comment(char *o, const struct tcpdrop_event *ev, const char *reason, size_t rlen,
		     const char *state, size_t slen)
{
	int i;

	o = put_mem(o, reason, rlen);
	o = put_mem(o, " (", 2);
	o = put_u32(o, ev->reason_code);
	o = put_mem(o, ") state ", 8);
	o = put_mem(o, state, slen);
	o = put_mem(o, " pid ", 5);
	o = put_u32(o, ev->pid);
	o = put_mem(o, " comm ", 6);
	/* The comment is for people: printable ASCII only (the raw comm rides in the fields). */
	for (i = 0; i < 16 && ev->comm_raw[i]; i++) {
		unsigned char c = (unsigned char)ev->comm_raw[i];

		*o++ = c < 0x20 || c > 0x7e ? '?' : (char)c;
	}
	if (!i)
		*o++ = '-';
	return o;
}

/* "stack: f0 <- f1 <- ...", until TEXT_MAX characters: at most TEXT_MAX + 4 + slen bytes. */
static char *stack_comment(char *o, const char *stack, size_t slen)
{
	const char *start = o, *f = stack, *end = stack + slen, *nl;

	o = put_mem(o, "stack: ", 7);
	for (;;) {
		nl = memchr(f, '\n', (size_t)(end - f));
		o = put_mem(o, f, (size_t)((nl ? nl : end) - f));
		if (!nl || o - start >= TEXT_MAX)
			return o;
		o = put_mem(o, " <- ", 4);
		f = nl + 1;
	}
}

/* The bytes the packet's copy touches: whole 32-byte chunks (pkt[] is a multiple of 32). */
#define PKT_COPY(n) (((n) + 31) & ~(size_t)31)

/* A comment's length at o, written from opt + 4: cut at TEXT_MAX. */
static size_t cut(const uint8_t *o, const uint8_t *opt)
{
	size_t n = (size_t)(o - opt - 4);

	return n < TEXT_MAX ? n : TEXT_MAX;
}

static void put_event(struct pcapng_buf *b, struct pcapng_enc *e, const struct tcpdrop_event *ev,
		      struct names *nm, struct ksyms *ks)
{
	char stack[TCPDROP_STACK_MAX * FRAME_MAX], rnum[16], snum[16];
	const char *reason, *state, *rname = NULL, *sname = NULL;
	size_t rlen = 0, stlen = 0, rnlen = 0, snlen = 0, slen = 0;
	const uint8_t *data = ev->pkt;
	uint8_t synth[PKT_COPY(PCAPNG_SYNTH_MAX)], *base, *o, *opt;
	unsigned int nstack = ev->nstack < TCPDROP_STACK_MAX ? ev->nstack : TCPDROP_STACK_MAX;
	size_t caplen = ev->pkt_len < TCPDROP_PKT_MAX ? ev->pkt_len : TCPDROP_PKT_MAX;
	uint32_t len;

	stack[0] = '\0';
	if (!caplen) {
		caplen = pcapng__synthesise(synth, ev);
		data = synth;
	}
	if (!(ev->evflags & TCPDROP_F_NO_REASON))
		rname = reason_name(e, nm, ev->reason_code, &rnlen);
	if (ev->state_code)
		sname = state_name(e, nm, ev->state_code, &snlen);
	if (ev->evflags & TCPDROP_F_NO_REASON) {
		reason = "UNKNOWN";
		rlen = 7;
	} else if (rname) {
		reason = rname;
		rlen = rnlen;
	} else {
		reason = rnum;
		rlen = (size_t)(put_u32(rnum, ev->reason_code) - rnum);
	}
	if (!(ev->evflags & TCPDROP_F_SOCK) || !ev->state_code) {
		state = "-";
		stlen = 1;
	} else if (sname) {
		state = sname;
		stlen = snlen;
	} else {
		state = snum;
		stlen = (size_t)(put_u32(snum, ev->state_code) - snum);
	}
	for (unsigned int i = 0; i < nstack && slen + 2 < sizeof(stack); i++) {
		if (i)
			stack[slen++] = '\n';
		slen += frame(e, ks, ev->stack_addr[i], stack + slen, sizeof(stack) - slen);
	}

	/* Header, packet, two comments, five options of ours, end and trailer, padding each. */
	reserve(b, 28 + PKT_COPY(caplen) + (4 + COMMENT_MAX(rlen, stlen) + 3) +
			   (4 + TEXT_MAX + 4 + slen + 3) + (10 + PCAPNG_EVENT_LEN + 3) +
			   (10 + rnlen + 3) + (10 + snlen + 3) + (10 + FRAME_MAX + 3) +
			   (10 + slen + 3) + 8 + 8 /* wpad()'s zeros past the end */);
	base = b->p + b->len;
	o = w32(base, BT_EPB);
	o += 4; /* the length, known at the end */
	o = w32(o, 0);
	o = w32(o, (uint32_t)(ev->ts_ns >> 32));
	o = w32(o, (uint32_t)ev->ts_ns);
	o = w32(o, (uint32_t)caplen);
	o = w32(o, ev->len > caplen ? ev->len : (uint32_t)caplen);
	/* In whole chunks, the excess overwritten: a copy of any length is a slow `rep movs`. */
	for (size_t i = 0; i < caplen; i += 32)
		memcpy(o + i, data + i, 32);
	o = wpad(o + caplen, base);

	opt = o;
	o = (uint8_t *)comment((char *)opt + 4, ev, reason, rlen, state, stlen);
	o = wopt_done(opt, base, OPT_COMMENT, cut(o, opt));
	if (nstack) {
		/* A second comment with the stack, so that Wireshark shows where it dropped. */
		opt = o;
		o = (uint8_t *)stack_comment((char *)opt + 4, stack, slen);
		o = wopt_done(opt, base, OPT_COMMENT, cut(o, opt));
	} else if (ev->evflags & TCPDROP_F_STACK_SKIPPED) {
		opt = o;
		memcpy(opt + 4, "stack: skipped", 14);
		o = wopt_done(opt, base, OPT_COMMENT, 14);
	} else if (ev->evflags & TCPDROP_F_STACK_FAILED) {
		opt = o;
		memcpy(opt + 4, "stack: failed", 13);
		o = wopt_done(opt, base, OPT_COMMENT, 13);
	}

	o = w16(o, OPT_CUSTOM_BIN);
	o = w16(o, 6 + PCAPNG_EVENT_LEN);
	o = w32(o, PCAPNG_PEN);
	o = w16(o, PCAPNG_TAG_EVENT);
	o = wpad(wfields(o, ev, (uint16_t)nstack), base);
	if (rname)
		o = wcustom(o, base, PCAPNG_TAG_REASON, rname, rnlen);
	if (sname)
		o = wcustom(o, base, PCAPNG_TAG_STATE, sname, snlen);
	if (ev->loc_addr) {
		opt = o;
		len = (uint32_t)frame(e, ks, ev->loc_addr, (char *)opt + 10, FRAME_MAX);
		o = w16(o, OPT_CUSTOM_BIN);
		o = w16(o, (uint16_t)(len + 6));
		o = w32(o, PCAPNG_PEN);
		o = w16(o, PCAPNG_TAG_LOCATION);
		o = wpad(o + len, base);
	}
	if (nstack)
		o = wcustom(o, base, PCAPNG_TAG_STACK, stack, slen);
	o = w32(o, 0); /* opt_endofopt */
	len = (uint32_t)(o + 4 - base);
	o = w32(o, len);
	memcpy(base + 4, &len, 4);
	b->len += len;
}

void pcapng__put_event(struct pcapng_buf *b, const struct tcpdrop_event *ev, struct names *nm,
		       struct ksyms *ks)
{
	put_event(b, NULL, ev, nm, ks);
}

void pcapng_enc__put_event(struct pcapng_enc *e, struct pcapng_buf *b,
			   const struct tcpdrop_event *ev)
{
	put_event(b, e, ev, e->nm, e->ks);
}

/* ---------------------------------------------------------------- reading */

struct iface {
	uint32_t linktype;
	uint32_t snaplen;
	uint64_t mul, div; /* ns = units * mul / div, for decimal resolutions */
	int shift; /* >= 0: binary resolution 2^-shift */
	int64_t offset; /* if_tsoffset, seconds */
};

enum { KIND_PCAP = 1, KIND_PCAPNG };

struct capreader {
	int fd; /* -1: memory */
	char *name;
	uint8_t *buf; /* read-only in memory mode */
	size_t cap, pos, end;
	uint64_t base; /* file offset of buf[0] */
	int eof;
	int regular; /* a regular file: a read never waits, so nothing is ever pending */
	int kind;
	int swap;
	int started;
	/* classic pcap */
	uint32_t linktype;
	uint32_t frac_mul; /* 1000 for microsecond files, 1 for nanosecond ones */
	/* pcapng: the interfaces of the current section */
	uint64_t last_ts; /* for simple packet blocks, which carry no time */
	struct iface *ifs;
	uint32_t nifs, ifcap;
};

static uint16_t sw16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

static uint32_t sw32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static uint16_t rd16(const uint8_t *p, int swap)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return swap ? sw16(v) : v;
}

static uint32_t rd32(const uint8_t *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? sw32(v) : v;
}

static uint64_t rd64(const uint8_t *p, int swap)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return swap ? __builtin_bswap64(v) : v;
}

static struct capreader *reader_new(const char *name)
{
	struct capreader *cr = xcalloc(1, sizeof(*cr));

	cr->fd = -1;
	cr->name = xstrdup(name);
	return cr;
}

int capreader__open(const char *path, struct capreader **out)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	struct capreader *cr;
	struct stat st;

	if (fd < 0) {
		int err = -errno;

		msg("cannot open %s: %s", path, strerror(errno));
		return err;
	}
	cr = reader_new(strcmp(path, "-") ? path : "standard input");
	cr->fd = fd;
	cr->regular = !fstat(fd, &st) && S_ISREG(st.st_mode);
	cr->cap = READ_CHUNK;
	cr->buf = xmalloc(cr->cap);
	*out = cr;
	return 0;
}

struct capreader *capreader__from_mem(const void *data, size_t len, const char *name)
{
	struct capreader *cr = reader_new(name);

	cr->buf = (uint8_t *)(uintptr_t)data; /* never written in memory mode */
	cr->cap = cr->end = len;
	cr->eof = 1;
	return cr;
}

void capreader__free(struct capreader *cr)
{
	if (!cr)
		return;
	if (cr->fd >= 0) {
		if (cr->fd != STDIN_FILENO)
			close(cr->fd);
		free(cr->buf);
	}
	free(cr->ifs);
	free(cr->name);
	free(cr);
}

/* Make n bytes from pos readable: 1, 0 when the input ends first, or -errno. */
static int read_more(struct capreader *cr, size_t n)
{
	if (cr->fd < 0 || cr->eof)
		return 0;
	if (cr->pos + n > cr->cap) {
		memmove(cr->buf, cr->buf + cr->pos, cr->end - cr->pos);
		cr->base += cr->pos;
		cr->end -= cr->pos;
		cr->pos = 0;
		if (n > cr->cap) {
			cr->cap = n + READ_CHUNK;
			cr->buf = xrealloc(cr->buf, cr->cap);
		}
	}
	while (cr->end - cr->pos < n) {
		ssize_t r = read(cr->fd, cr->buf + cr->end, cr->cap - cr->end);

		if (r < 0) {
			if (errno == EINTR)
				return -EINTR;
			msg("%s: read error at offset %llu: %s", cr->name,
			    (unsigned long long)(cr->base + cr->end), strerror(errno));
			return -EIO;
		}
		if (r == 0) {
			cr->eof = 1;
			return 0;
		}
		cr->end += (size_t)r;
	}
	return 1;
}

/* The same, inline for the usual case: the bytes are there already. */
static inline int ensure(struct capreader *cr, size_t n)
{
	return cr->end - cr->pos >= n ? 1 : read_more(cr, n);
}

int capreader__may_wait(const struct capreader *cr)
{
	return cr->fd >= 0 && !cr->regular;
}

int capreader__pending(const struct capreader *cr)
{
	size_t have = cr->end - cr->pos;
	uint32_t len;

	if (cr->fd < 0 || cr->eof || cr->regular)
		return 0;
	if (cr->kind == KIND_PCAPNG) {
		if (have < 8)
			return 1;
		len = rd32(cr->buf + cr->pos + 4, cr->swap);
	} else if (cr->kind == KIND_PCAP) {
		if (have < 16)
			return 1;
		len = 16 + rd32(cr->buf + cr->pos + 8, cr->swap);
	} else {
		return 1;
	}
	return have < len;
}

static const char *block_name(uint32_t type)
{
	switch (type) {
	case BT_SHB:
		return "section header block";
	case BT_IDB:
		return "interface description block";
	case BT_PB:
		return "packet block";
	case BT_SPB:
		return "simple packet block";
	case BT_ISB:
		return "interface statistics block";
	case BT_EPB:
		return "enhanced packet block";
	default:
		return "block";
	}
}

static int truncated(struct capreader *cr, const char *what, uint64_t off, uint64_t want)
{
	msg("%s: truncated %s at offset %llu: it needs %llu bytes, the file ends after %llu",
	    cr->name, what, (unsigned long long)off, (unsigned long long)want,
	    (unsigned long long)(cr->end - cr->pos));
	return -EINVAL;
}

static int bad(struct capreader *cr, const char *what, uint64_t off, const char *why)
{
	msg("%s: bad %s at offset %llu: %s", cr->name, what, (unsigned long long)off, why);
	return -EINVAL;
}

/* The next option; inline, so that a caller with a constant byte order tests it not. */
static inline __attribute__((always_inline)) int opt_next(const uint8_t **p, const uint8_t *end,
							  int swap, struct pcapng_opt *o)
{
	size_t left = (size_t)(end - *p), padded;

	if (!left)
		return 0;
	if (left < 4)
		return -1;
	o->code = rd16(*p, swap);
	o->len = rd16(*p + 2, swap);
	if (o->code == OPT_END)
		return 0;
	padded = ((size_t)o->len + 3) & ~(size_t)3;
	if (padded > left - 4)
		return -1;
	o->val = *p + 4;
	*p += 4 + padded;
	return 1;
}

int pcapng__opt_next(const uint8_t **p, const uint8_t *end, int swap, struct pcapng_opt *o)
{
	return opt_next(p, end, swap, o);
}

/* Check that a block's options are well formed, so that later passes need not. */
static int opts_ok(const uint8_t *p, const uint8_t *end, int swap)
{
	struct pcapng_opt o;
	int r;

	while ((r = pcapng__opt_next(&p, end, swap, &o)) > 0)
		;
	return r;
}

static int iface_add(struct capreader *cr, const uint8_t *body, uint32_t blen, uint64_t off)
{
	const uint8_t *p = body + 8, *end = body + blen;
	struct iface f = { .mul = 1, .div = 1, .shift = -1 };
	struct pcapng_opt o;
	int r;

	f.linktype = rd16(body, cr->swap);
	f.snaplen = rd32(body + 4, cr->swap);
	f.mul = 1000; /* the default resolution: microseconds */
	while ((r = pcapng__opt_next(&p, end, cr->swap, &o)) > 0) {
		if (o.code == IF_TSRESOL && o.len >= 1) {
			unsigned int v = o.val[0] & 0x7f;

			f.mul = f.div = 1;
			f.shift = -1;
			if (o.val[0] & 0x80) {
				if (v > 63)
					return bad(cr, "interface description block", off,
						   "if_tsresol is finer than 2^-63 s");
				f.shift = (int)v;
			} else if (v > 19) {
				return bad(cr, "interface description block", off,
					   "if_tsresol is finer than 10^-19 s");
			} else {
				for (unsigned int i = v; i < 9; i++)
					f.mul *= 10;
				for (unsigned int i = 9; i < v; i++)
					f.div *= 10;
			}
		} else if (o.code == IF_TSOFFSET && o.len >= 8) {
			f.offset = (int64_t)rd64(o.val, cr->swap);
		}
	}
	if (r < 0)
		return bad(cr, "interface description block", off, "malformed options");
	if (cr->nifs == cr->ifcap) {
		cr->ifcap = cr->ifcap ? cr->ifcap * 2 : 4;
		cr->ifs = xrealloc(cr->ifs, cr->ifcap * sizeof(*cr->ifs));
	}
	cr->ifs[cr->nifs++] = f;
	return 0;
}

static uint64_t to_ns(const struct iface *f, uint64_t units)
{
	uint64_t ns;

	if (f->shift >= 0)
		ns = (uint64_t)(((unsigned __int128)units * 1000000000u) >> f->shift);
	else if (f->div == 1)
		ns = units * f->mul; /* no 64-bit division per packet for the usual resolutions */
	else
		ns = units / f->div * f->mul;
	return ns + (uint64_t)f->offset * 1000000000u;
}

static int pcap_header(struct capreader *cr)
{
	uint32_t magic, major;
	int r = ensure(cr, 24);

	if (r < 0)
		return r;
	if (!r)
		return truncated(cr, "pcap file header", 0, 24);
	memcpy(&magic, cr->buf, 4);
	cr->swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
	magic = cr->swap ? sw32(magic) : magic;
	cr->frac_mul = magic == 0xa1b23c4du ? 1 : 1000;
	major = rd16(cr->buf + 4, cr->swap);
	if (major != 2)
		return bad(cr, "pcap file header", 0, "only version 2 is read");
	cr->linktype = rd32(cr->buf + 20, cr->swap) & 0xffff;
	cr->kind = KIND_PCAP;
	cr->pos = 24;
	return 0;
}

static int pcap_next(struct capreader *cr, struct cap_rec *rec)
{
	uint64_t off = cr->base + cr->pos;
	const uint8_t *h;
	uint32_t incl;
	int r = ensure(cr, 16);

	if (r < 0)
		return r;
	if (!r)
		return cr->end == cr->pos ? 0 : truncated(cr, "packet record header", off, 16);
	h = cr->buf + cr->pos;
	incl = rd32(h + 8, cr->swap);
	if (incl > PCAPNG_MAX_BLOCK)
		return bad(cr, "packet record", off, "its captured length is over 16 MiB");
	r = ensure(cr, 16 + (size_t)incl);
	if (r < 0)
		return r;
	if (!r)
		return truncated(cr, "packet record", off, 16 + (uint64_t)incl);
	h = cr->buf + cr->pos;
	rec->kind = CAP_PACKET;
	rec->offset = off;
	rec->what = "packet record";
	rec->swap = cr->swap;
	rec->ifid = 0;
	rec->opts = NULL;
	rec->optlen = 0;
	rec->start = rec->end = 0;
	rec->ts = (uint64_t)rd32(h, cr->swap) * 1000000000u +
		  (uint64_t)rd32(h + 4, cr->swap) * cr->frac_mul;
	rec->linktype = cr->linktype;
	rec->caplen = incl;
	rec->origlen = rd32(h + 12, cr->swap);
	rec->data = h + 16;
	cr->pos += 16 + (size_t)incl;
	return 1;
}

static int packet(struct capreader *cr, struct cap_rec *rec, uint32_t type, const uint8_t *body,
		  uint32_t blen, uint64_t off)
{
	const char *what = block_name(type);
	uint32_t hdr = type == BT_SPB ? 4 : 20, ifid, padded;
	const struct iface *f;

	if (blen < hdr)
		return bad(cr, what, off, "too short for its fields");
	ifid = type == BT_EPB ? rd32(body, cr->swap) : type == BT_PB ? rd16(body, cr->swap) : 0;
	if (ifid >= cr->nifs) {
		char why[96];

		snprintf(why, sizeof(why), "it names interface %u, the section has %u", ifid,
			 cr->nifs);
		return bad(cr, what, off, why);
	}
	f = &cr->ifs[ifid];
	/* Field by field, not memset: a small memset becomes rep stos, slow once per packet. */
	rec->kind = CAP_PACKET;
	rec->swap = cr->swap;
	rec->offset = off;
	rec->what = what;
	rec->linktype = f->linktype;
	rec->ifid = ifid;
	rec->start = rec->end = 0;
	if (type == BT_SPB) {
		rec->origlen = rd32(body, cr->swap);
		rec->caplen = blen - 4 < rec->origlen ? blen - 4 : rec->origlen;
		if (f->snaplen && rec->caplen > f->snaplen)
			rec->caplen = f->snaplen;
		rec->data = body + 4;
		rec->opts = NULL;
		rec->optlen = 0;
		rec->ts = cr->last_ts;
		return 1;
	}
	rec->ts = to_ns(f, (uint64_t)rd32(body + 4, cr->swap) << 32 | rd32(body + 8, cr->swap));
	cr->last_ts = rec->ts;
	rec->caplen = rd32(body + 12, cr->swap);
	rec->origlen = rd32(body + 16, cr->swap);
	if (rec->caplen > blen - 20)
		return bad(cr, what, off, "its captured length overruns the block");
	padded = (rec->caplen + 3) & ~3u;
	if (padded > blen - 20)
		padded = blen - 20;
	rec->data = body + 20;
	rec->opts = body + 20 + padded;
	rec->optlen = blen - 20 - padded; /* checked where they are read: one pass */
	return 1;
}

static int stats(struct capreader *cr, struct cap_rec *rec, const uint8_t *body, uint32_t blen,
		 uint64_t off)
{
	const char *what = block_name(BT_ISB);
	const uint8_t *p = body + 12, *end = body + blen;
	const struct iface *f;
	struct pcapng_opt o;
	uint32_t ifid;
	int r;

	if (blen < 12)
		return bad(cr, what, off, "too short for its fields");
	ifid = rd32(body, cr->swap);
	if (ifid >= cr->nifs)
		return bad(cr, what, off, "it names an interface the section does not have");
	f = &cr->ifs[ifid];
	memset(rec, 0, sizeof(*rec));
	rec->kind = CAP_STATS;
	rec->offset = off;
	rec->what = what;
	rec->swap = cr->swap;
	rec->ifid = ifid;
	rec->ts = to_ns(f, (uint64_t)rd32(body + 4, cr->swap) << 32 | rd32(body + 8, cr->swap));
	rec->opts = p;
	rec->optlen = blen - 12;
	while ((r = pcapng__opt_next(&p, end, cr->swap, &o)) > 0) {
		uint64_t *dst = o.code == ISB_STARTTIME ? &rec->start
				: o.code == ISB_ENDTIME ? &rec->end
							: NULL;

		if (dst && o.len == 8)
			*dst = to_ns(f, (uint64_t)rd32(o.val, cr->swap) << 32 |
						rd32(o.val + 4, cr->swap));
	}
	if (r < 0)
		return bad(cr, what, off, "malformed options");
	return 1;
}

static int pcapng_next(struct capreader *cr, struct cap_rec *rec)
{
	for (;;) {
		uint64_t off = cr->base + cr->pos;
		const uint8_t *h, *body;
		uint32_t type, len, blen;
		const char *what;
		int r = ensure(cr, 8), swap = cr->swap;

		if (r < 0)
			return r;
		if (!r)
			return cr->end == cr->pos ? 0 : truncated(cr, "block header", off, 8);
		h = cr->buf + cr->pos;
		type = rd32(h, swap);
		what = block_name(type);
		if (type == BT_SHB) {
			uint32_t bom;

			r = ensure(cr, 12);
			if (r < 0)
				return r;
			if (!r)
				return truncated(cr, what, off, 12);
			h = cr->buf + cr->pos;
			memcpy(&bom, h + 8, 4);
			if (bom != BOM && bom != sw32(BOM))
				return bad(cr, what, off, "its byte-order magic is wrong");
			swap = bom != BOM;
		}
		len = rd32(h + 4, swap);
		if (len < (type == BT_SHB ? 28u : 12u) || len % 4) {
			char why[96];

			snprintf(why, sizeof(why), "its length %u is %s", len,
				 len % 4 ? "not a multiple of 4" : "too small");
			return bad(cr, what, off, why);
		}
		if (len > PCAPNG_MAX_BLOCK) {
			char why[96];

			snprintf(why, sizeof(why), "its length %u is over the 16 MiB limit", len);
			return bad(cr, what, off, why);
		}
		r = ensure(cr, len);
		if (r < 0)
			return r;
		if (!r)
			return truncated(cr, what, off, len);
		h = cr->buf + cr->pos;
		if (rd32(h + len - 4, swap) != len)
			return bad(cr, what, off,
				   "its trailing length differs from its leading one");
		body = h + 8;
		blen = len - 12;
		cr->pos += len;

		switch (type) {
		case BT_SHB:
			if (rd16(body + 4, swap) != 1)
				return bad(cr, what, off, "only pcapng version 1 is read");
			if (opts_ok(body + 16, body + blen, swap) < 0)
				return bad(cr, what, off, "malformed options");
			cr->swap = swap;
			cr->nifs = 0;
			memset(rec, 0, sizeof(*rec));
			rec->kind = CAP_SECTION;
			rec->offset = off;
			rec->what = what;
			rec->swap = swap;
			rec->opts = body + 16;
			rec->optlen = blen - 16;
			return 1;
		case BT_IDB:
			if (blen < 8)
				return bad(cr, what, off, "too short for its fields");
			r = iface_add(cr, body, blen, off);
			if (r)
				return r;
			break;
		case BT_EPB:
		case BT_PB:
		case BT_SPB:
			return packet(cr, rec, type, body, blen, off);
		case BT_ISB:
			return stats(cr, rec, body, blen, off);
		default:
			break; /* blocks we do not need: skipped, as the format says */
		}
	}
}

int capreader__next(struct capreader *cr, struct cap_rec *r)
{
	if (!cr->started) {
		uint32_t magic;
		int ret = ensure(cr, 4);

		if (ret < 0)
			return ret;
		if (!ret) {
			if (cr->end == cr->pos)
				msg("%s: empty file (no pcapng section header, no pcap header)",
				    cr->name);
			else
				msg("%s: too short to be a pcapng or pcap file (%zu bytes)",
				    cr->name, cr->end - cr->pos);
			return -EINVAL;
		}
		memcpy(&magic, cr->buf, 4);
		if (magic == BT_SHB) {
			cr->kind = KIND_PCAPNG;
		} else if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du || magic == 0xd4c3b2a1u ||
			   magic == 0x4d3cb2a1u) {
			ret = pcap_header(cr);
			if (ret)
				return ret;
		} else {
			msg("%s: not a pcapng or pcap file (it starts with %02x %02x %02x %02x)",
			    cr->name, cr->buf[0], cr->buf[1], cr->buf[2], cr->buf[3]);
			return -EINVAL;
		}
		cr->started = 1;
	}
	return cr->kind == KIND_PCAP ? pcap_next(cr, r) : pcapng_next(cr, r);
}

/* ---------------------------------------------------------------- decoding */

#define STACK_CACHE 64

struct stack_slot {
	uint8_t *key;
	size_t len, cap;
	uint16_t n;
	uint64_t addr[TCPDROP_STACK_MAX];
};

/* A name a drop carried, kept as read: drops in a row mostly share their reason and state. */
struct last_name {
	uint8_t bytes[NAME_MAX_LEN + 1];
	size_t len; /* 0: none yet */
	uint32_t code;
};

struct pcapng_decoder {
	struct names *nm;
	struct ksyms *ks;
	struct pcapng_skipped skipped;
	unsigned int sub_names;
	int warned_rename;
	struct stack_slot cache[STACK_CACHE];
	struct stack_slot *last; /* the slot the previous drop used */
	struct last_name last_reason, last_state;
	/* The last location, as read: drops in a row mostly share it too. */
	uint8_t last_loc[FRAME_MAX];
	size_t last_loc_len;
	uint64_t last_loc_addr;
};

struct pcapng_decoder *pcapng_decoder__new(struct names *nm, struct ksyms *ks)
{
	struct pcapng_decoder *d = xcalloc(1, sizeof(*d));

	d->nm = nm;
	d->ks = ks;
	return d;
}

void pcapng_decoder__free(struct pcapng_decoder *d)
{
	if (!d)
		return;
	for (int i = 0; i < STACK_CACHE; i++)
		free(d->cache[i].key);
	free(d);
}

const struct pcapng_skipped *pcapng_decoder__skipped(const struct pcapng_decoder *d)
{
	return &d->skipped;
}

static int corrupt(const struct cap_rec *r, const char *file, const char *why)
{
	msg("%s: bad %s at offset %llu: %s", file, r->what, (unsigned long long)r->offset, why);
	return -EINVAL;
}

/* Copy a counted string into a C string, cut at max - 1 bytes. */
static void cstr(char *dst, size_t max, const uint8_t *src, size_t len)
{
	if (len >= max)
		len = max - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Names go into "CODE NAME" lines and messages: no control characters. */
static int printable(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return len > 0;
}

/* Whether n bytes at a and b are the same: names are short, a call to memcmp costs more. */
static inline __attribute__((always_inline)) int same_bytes(const uint8_t *a, const uint8_t *b,
							    size_t n)
{
	uint64_t x, y;

	if (n < 8 || n > 32)
		return !memcmp(a, b, n);
	for (size_t i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return 0;
	}
	/* The last 8 bytes, overlapping what was compared. */
	memcpy(&x, a + n - 8, 8);
	memcpy(&y, b + n - 8, 8);
	return x == y;
}

/* Our custom option, or NULL: its tag and data. */
static inline __attribute__((always_inline)) const uint8_t *
ours(const struct pcapng_opt *o, int swap, uint16_t *tag, size_t *len)
{
	/* The two codes differ in one bit (0x4000, "may not be copied"): one test. */
	if ((o->code & ~(OPT_CUSTOM_BIN ^ OPT_CUSTOM_BIN_NC)) != OPT_CUSTOM_BIN || o->len < 6 ||
	    rd32(o->val, swap) != PCAPNG_PEN)
		return NULL;
	*tag = rd16(o->val + 4, swap);
	*len = o->len - 6u;
	return o->val + 6;
}

static void set_reason(struct pcapng_decoder *d, uint32_t code, const char *name)
{
	const char *cur = names__reason(d->nm, code);

	if (cur && !strcmp(cur, name))
		return;
	if (cur && !d->warned_rename) {
		/* Lua keeps the first name it saw for a code: say so rather than mislead. */
		msg("warning: this file names drop reason %u both %s and %s (sections from "
		    "different kernels?); scripts may show the first name",
		    code, cur, name);
		d->warned_rename = 1;
	}
	if (code >= 65536 && !cur) {
		if (d->sub_names >= MAX_SUB_NAMES)
			return;
		d->sub_names++;
	}
	names__set_reason(d->nm, code, name);
}

static void set_state(struct pcapng_decoder *d, uint32_t code, const char *name)
{
	const char *cur = names__state(d->nm, code);

	if (!cur || strcmp(cur, name))
		names__set_state(d->nm, code, name);
}

/* "CODE NAME\n" lines. */
static int load_table(struct pcapng_decoder *d, const uint8_t *p, size_t len, int states)
{
	const uint8_t *end = p + len;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p)), *sp;
		char name[NAME_MAX_LEN + 1];
		uint64_t code = 0;

		if (!nl)
			return -1;
		for (sp = p; sp < nl && *sp >= '0' && *sp <= '9'; sp++) {
			code = code * 10 + (uint64_t)(*sp - '0');
			if (code > UINT32_MAX)
				return -1;
		}
		if (sp == p || sp >= nl || *sp != ' ' || nl - sp - 1 > NAME_MAX_LEN ||
		    !printable(sp + 1, (size_t)(nl - sp - 1)))
			return -1;
		cstr(name, sizeof(name), sp + 1, (size_t)(nl - sp - 1));
		if (states)
			set_state(d, (uint32_t)code, name);
		else
			set_reason(d, (uint32_t)code, name);
		p = nl + 1;
	}
	return 0;
}

int pcapng__decode_section(struct pcapng_decoder *d, const struct cap_rec *r, const char *file)
{
	const uint8_t *p = r->opts, *end = r->opts + r->optlen;
	struct pcapng_opt o;
	int ret;

	/* A new section's tables may rename a code: the next drop's names are set again. */
	d->last_reason.len = d->last_state.len = 0;
	while ((ret = pcapng__opt_next(&p, end, r->swap, &o)) > 0) {
		uint16_t tag;
		size_t len;
		const uint8_t *v = ours(&o, r->swap, &tag, &len);

		if (!v || (tag != PCAPNG_TAG_REASONS && tag != PCAPNG_TAG_STATES))
			continue;
		if (load_table(d, v, len, tag == PCAPNG_TAG_STATES))
			return corrupt(r, file, "its table of reason or state names is malformed");
	}
	return ret < 0 ? corrupt(r, file, "malformed options") : 0;
}

int pcapng__decode_stats(struct pcapng_decoder *d, const struct cap_rec *r, struct run_stats *st,
			 const char *file)
{
	const uint8_t *p = r->opts, *end = r->opts + r->optlen;
	struct pcapng_opt o;
	int ret, found = 0;

	(void)d;
	while ((ret = pcapng__opt_next(&p, end, r->swap, &o)) > 0) {
		uint16_t tag;
		size_t len;
		const uint8_t *v = ours(&o, r->swap, &tag, &len);

		if (!v || tag != PCAPNG_TAG_STATS)
			continue;
		if (len < 48)
			return corrupt(r, file, "tcpdrop's counters are too short");
		st->seen = rd64(v, r->swap);
		st->lost = rd64(v + 8, r->swap);
		st->filtered_kernel = rd64(v + 16, r->swap);
		st->stacks_skipped = rd64(v + 24, r->swap);
		st->stacks_failed = rd64(v + 32, r->swap);
		st->errors = rd64(v + 40, r->swap);
		found = 1;
	}
	return ret < 0 ? corrupt(r, file, "malformed options") : found;
}

/* A word at a time: it only picks a cache slot, memcmp decides. */
static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = n * 0x9e3779b97f4a7c15ULL, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/*
 * A frame read from a file goes to a terminal as it is (the default printers write frames
 * verbatim): control bytes, which a crafted file could use to drive the terminal, become '?'.
 */
static uint64_t intern(struct ksyms *ks, const uint8_t *s, size_t len)
{
	char frame[FRAME_MAX];

	cstr(frame, sizeof(frame), s, len);
	for (char *c = frame; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return ksyms__intern(ks, frame);
}

static int slot_has(const struct stack_slot *slot, const uint8_t *s, size_t len)
{
	return slot->key && slot->len == len && !memcmp(slot->key, s, len);
}

/* Frames, one per line, to interned addresses; most drops repeat a few stacks, so cache them. */
static int load_stack(struct pcapng_decoder *d, const uint8_t *s, size_t len,
		      struct tcpdrop_event *ev)
{
	struct stack_slot *slot = d->last;
	unsigned int n = 0;
	const uint8_t *p = s, *end = s + len;

	/* The same stack as the last drop costs a memcmp; another cached one, a hash too. */
	if (!slot || !slot_has(slot, s, len)) {
		slot = &d->cache[hash_bytes(s, len) % STACK_CACHE];
		if (!slot_has(slot, s, len)) {
			slot->len = SIZE_MAX; /* matches nothing until filled */
			for (;;) {
				const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
				const uint8_t *fe = nl ? nl : end;

				if (n == TCPDROP_STACK_MAX)
					return -1;
				slot->addr[n++] = intern(d->ks, p, (size_t)(fe - p));
				if (!nl)
					break;
				p = nl + 1;
			}
			if (!slot->key || slot->cap < len) {
				slot->cap = len;
				slot->key = xrealloc(slot->key, len ? len : 1);
			}
			memcpy(slot->key, s, len);
			slot->len = len;
			slot->n = (uint16_t)n;
		}
	}
	d->last = slot;
	memcpy(ev->stack_addr, slot->addr, slot->n * sizeof(uint64_t));
	ev->nstack = slot->n;
	return 0;
}

static uint16_t get16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The offset of the IP header behind a link header, its version in *ver; -1 if unknown. */
static long link_payload(const struct cap_rec *r, int *ver, uint32_t *ifindex, int *bad_link)
{
	const uint8_t *p = r->data;
	uint32_t n = r->caplen, af;
	long off;
	uint16_t et;

	*ver = 0;
	switch (r->linktype) {
	case 101: /* LINKTYPE_RAW */
	case 12: /* DLT_RAW on most BSDs */
	case 14: /* DLT_RAW on OpenBSD */
		if (!n)
			return -1;
		*ver = p[0] >> 4;
		return 0;
	case 228: /* LINKTYPE_IPV4 */
		*ver = 4;
		return 0;
	case 229: /* LINKTYPE_IPV6 */
		*ver = 6;
		return 0;
	case 1: /* Ethernet, with up to two VLAN tags */
		if (n < 14)
			return -1;
		off = 12;
		et = get16be(p + off);
		for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++) {
			off += 4;
			if (n < (uint32_t)off + 2)
				return -1;
			et = get16be(p + off);
		}
		off += 2;
		break;
	case 113: /* Linux cooked v1 */
		if (n < 16)
			return -1;
		et = get16be(p + 14);
		off = 16;
		break;
	case 276: /* Linux cooked v2 */
		if (n < 20)
			return -1;
		et = get16be(p);
		*ifindex = get32be(p + 4);
		off = 20;
		break;
	case 0: /* BSD loopback: the address family in the writer's byte order */
	case 108: /* OpenBSD loopback: in network order */
		if (n < 4)
			return -1;
		af = get32be(p);
		if (r->linktype == 0 && af > 0xffff)
			af = __builtin_bswap32(af);
		*ver = af == 2 ? 4 : (af == 10 || af == 24 || af == 28 || af == 30) ? 6 : 0;
		return *ver ? 4 : -1;
	default:
		*bad_link = 1;
		return -1;
	}
	*ver = et == 0x0800 ? 4 : et == 0x86dd ? 6 : 0;
	return *ver ? off : -1;
}

/* A packet from any capture: what its IP and TCP headers say. 1, or 0 when it is not TCP. */
static int from_packet(struct pcapng_decoder *d, const struct cap_rec *r, struct tcpdrop_event *ev)
{
	int ver, bad_link = 0;
	uint32_t ifindex = 0, n, l4, thl;
	long off = link_payload(r, &ver, &ifindex, &bad_link);
	const uint8_t *ip, *th;

	if (off < 0) {
		if (bad_link) {
			d->skipped.bad_link++;
			d->skipped.last_link = r->linktype;
		} else {
			d->skipped.not_tcp++;
		}
		return 0;
	}
	ip = r->data + off;
	n = r->caplen - (uint32_t)off;
	if (ver == 4) {
		if (n < 20 || ip[0] >> 4 != 4 || ip[9] != 6 || (get16be(ip + 6) & 0x1fff))
			goto not_tcp;
		l4 = (ip[0] & 0x0f) * 4u;
		if (l4 < 20)
			goto not_tcp;
		memcpy(ev->saddr_raw, ip + 12, 4);
		memcpy(ev->daddr_raw, ip + 16, 4);
	} else if (ver == 6) {
		uint8_t next;

		if (n < 40 || ip[0] >> 4 != 6)
			goto not_tcp;
		next = ip[6];
		l4 = 40;
		for (int i = 0; i < 4 && next != 6; i++) {
			if ((next != 0 && next != 43 && next != 60 && next != 44) || n < l4 + 8)
				goto not_tcp;
			if (next == 44 && (get16be(ip + l4 + 2) & 0xfff8))
				goto not_tcp; /* not the first fragment: no TCP header */
			next = ip[l4];
			l4 += next == 44 ? 8 : (ip[l4 + 1] + 1u) * 8;
		}
		if (next != 6)
			goto not_tcp;
		memcpy(ev->saddr_raw, ip + 8, 16);
		memcpy(ev->daddr_raw, ip + 24, 16);
	} else {
		goto not_tcp;
	}
	if (n < l4 + 20)
		goto not_tcp;
	th = ip + l4;
	thl = (th[12] >> 4) * 4u;
	if (thl < 20)
		goto not_tcp;
	ev->family = (__u8)ver;
	ev->sport = get16be(th);
	ev->dport = get16be(th + 2);
	ev->seq = get32be(th + 4);
	ev->ack_seq = get32be(th + 8);
	ev->tcp_flags = th[13];
	ev->win = get16be(th + 14);
	ev->hdr_len = (__u16)(l4 + thl);
	ev->len = r->origlen > (uint32_t)off ? r->origlen - (uint32_t)off : n;
	ev->ifindex = ifindex;
	ev->evflags = TCPDROP_F_PKT_HDRS | TCPDROP_F_NO_REASON | TCPDROP_F_NO_STACK;
	ev->pkt_len = (__u16)(n < TCPDROP_PKT_MAX ? n : TCPDROP_PKT_MAX);
	memcpy(ev->pkt, ip, ev->pkt_len);
	return 1;
not_tcp:
	d->skipped.not_tcp++;
	return 0;
}

/*
 * n packet bytes into ev->pkt, with room readable bytes at src. Short packets (the usual
 * headers) take one fixed-size copy: a memcpy of a bounded variable length is inlined as
 * rep movsq, whose start-up costs more than the copy; bytes past pkt_len are stale anyway.
 */
static void copy_pkt(uint8_t *dst, const uint8_t *src, size_t n, size_t room)
{
	if (n <= 64 && room >= 64)
		memcpy(dst, src, 64);
	else
		memcpy(dst, src, n);
}

/* The fields in a byte order known when compiled (s is a constant): no test per field. */
static inline __attribute__((always_inline)) uint16_t read_fields(struct tcpdrop_event *ev,
								  const uint8_t *f, const int s)
{
	uint16_t pkt_len = rd16(f + 42, s);

	ev->reason_code = rd32(f, s);
	ev->pid = rd32(f + 4, s);
	ev->tid = rd32(f + 8, s);
	ev->netns = rd32(f + 12, s);
	ev->ifindex = rd32(f + 16, s);
	ev->cpu = rd32(f + 20, s);
	ev->len = rd32(f + 24, s);
	ev->seq = rd32(f + 28, s);
	ev->ack_seq = rd32(f + 32, s);
	ev->sport = rd16(f + 36, s);
	ev->dport = rd16(f + 38, s);
	ev->win = rd16(f + 40, s);
	ev->hdr_len = rd16(f + 44, s);
	ev->family = f[46];
	ev->state_code = f[47];
	ev->tcp_flags = f[48];
	ev->evflags = f[49];
	memcpy(ev->saddr_raw, f + 52, 16);
	memcpy(ev->daddr_raw, f + 68, 16);
	memcpy(ev->comm_raw, f + 84, 16);
	return pkt_len;
}

/* Whether v holds the same bytes as the last name read. */
static inline int same_name(const struct last_name *l, const uint8_t *v, size_t len)
{
	return v && l->len && len == l->len && same_bytes(v, l->bytes, len);
}

/*
 * A reason or state name that differs from the last drop's: set (by set_reason or
 * set_state), and remembered for the next drops.
 */
static void new_name(struct pcapng_decoder *d, struct last_name *l, uint32_t code, const uint8_t *v,
		     size_t len, void (*set)(struct pcapng_decoder *, uint32_t, const char *))
{
	char name[NAME_MAX_LEN + 1];

	cstr(name, sizeof(name), v, len);
	set(d, code, name);
	if (len <= NAME_MAX_LEN) {
		memcpy(l->bytes, v, len);
		l->len = len;
		l->code = code;
	}
}

/* What a packet block's options hold for us. */
struct our_opts {
	const uint8_t *fields, *reason, *state, *loc, *stack;
	size_t reason_len, state_len, loc_len, stack_len;
};

enum { OPTS_OK, OPTS_MALFORMED = -1, OPTS_SHORT = -2 };

/* A block's options, in byte order s (a constant: inlined twice): OPTS_*, the first fault met. */
static inline __attribute__((always_inline)) int scan_opts(const uint8_t *p, const uint8_t *end,
							   const int s, struct our_opts *out)
{
	struct pcapng_opt o;
	int ret;

	out->fields = out->reason = out->state = out->loc = out->stack = NULL;
	out->reason_len = out->state_len = out->loc_len = out->stack_len = 0;
	while ((ret = opt_next(&p, end, s, &o)) > 0) {
		uint16_t tag;
		size_t len;
		const uint8_t *v = ours(&o, s, &tag, &len);

		if (!v)
			continue;
		switch (tag) {
		case PCAPNG_TAG_EVENT:
			if (len < PCAPNG_EVENT_LEN)
				return OPTS_SHORT;
			out->fields = v;
			break;
		case PCAPNG_TAG_REASON:
			out->reason = v;
			out->reason_len = len;
			break;
		case PCAPNG_TAG_STATE:
			out->state = v;
			out->state_len = len;
			break;
		case PCAPNG_TAG_LOCATION:
			out->loc = v;
			out->loc_len = len;
			break;
		case PCAPNG_TAG_STACK:
			out->stack = v;
			out->stack_len = len;
			break;
		default:
			break; /* a later version's: skipped */
		}
	}
	return ret < 0 ? OPTS_MALFORMED : OPTS_OK;
}

/*
 * scan_opts() in this machine's byte order, for the fast path: each option's code and length
 * in one load, the tags in the order -w writes them. Declines (OPTS_MALFORMED) whatever
 * scan_opts() would fault on, or finds short; the general path then says why.
 */
static inline __attribute__((always_inline)) int scan_native(const uint8_t *p, const uint8_t *end,
							     struct our_opts *out)
{
	out->fields = out->reason = out->state = out->loc = out->stack = NULL;
	out->reason_len = out->state_len = out->loc_len = out->stack_len = 0;
	for (;;) {
		size_t left = (size_t)(end - p), padded;
		const uint8_t *v = p + 4;
		uint32_t w, pen;
		uint16_t code, len, tag;

		if (left < 4)
			return left ? OPTS_MALFORMED : OPTS_OK;
		memcpy(&w, p, 4);
		code = (uint16_t)w;
		len = (uint16_t)(w >> 16);
		if (code == OPT_END)
			return OPTS_OK;
		padded = ((size_t)len + 3) & ~(size_t)3;
		if (padded > left - 4)
			return OPTS_MALFORMED;
		p = v + padded;
		if ((code & ~(OPT_CUSTOM_BIN ^ OPT_CUSTOM_BIN_NC)) != OPT_CUSTOM_BIN || len < 6)
			continue;
		memcpy(&pen, v, 4);
		memcpy(&tag, v + 4, 2);
		if (pen != PCAPNG_PEN)
			continue;
		v += 6;
		len -= 6;
		if (tag == PCAPNG_TAG_EVENT) {
			if (len < PCAPNG_EVENT_LEN)
				return OPTS_MALFORMED;
			out->fields = v;
		} else if (tag == PCAPNG_TAG_REASON) {
			out->reason = v;
			out->reason_len = len;
		} else if (tag == PCAPNG_TAG_LOCATION) {
			out->loc = v;
			out->loc_len = len;
		} else if (tag == PCAPNG_TAG_STATE) {
			out->state = v;
			out->state_len = len;
		} else if (tag == PCAPNG_TAG_STACK) {
			out->stack = v;
			out->stack_len = len;
		}
	}
}

/*
 * A drop from tcpdrop's own record, in byte order s. Every field of the head is written (the
 * batch's slots are reused, never cleared): frames past nstack and bytes past pkt_len are
 * stale, as in a live event.
 */
static inline __attribute__((always_inline)) int
from_record(struct pcapng_decoder *d, const struct cap_rec *r, struct tcpdrop_event *ev,
	    const struct our_opts *o, const char *file, const int s)
{
	const uint8_t *reason = o->reason, *state = o->state, *loc = o->loc, *stack = o->stack;
	size_t reason_len = o->reason_len, state_len = o->state_len, loc_len = o->loc_len;
	size_t stack_len = o->stack_len;
	uint16_t pkt_len = read_fields(ev, o->fields, s);
	int same_reason, same_state;

	ev->ts_ns = r->ts;
	ev->loc_addr = 0;
	ev->nstack = 0;
	memset(ev->_pad, 0, sizeof(ev->_pad));
	if (ev->family != 4 && ev->family != 6)
		return corrupt(r, file, "tcpdrop's record has an address family other than 4 or 6");
	/* Tools that cut packets short keep the options: take the bytes that are left. */
	if (pkt_len > r->caplen)
		pkt_len = (uint16_t)r->caplen;
	if (pkt_len > TCPDROP_PKT_MAX)
		pkt_len = TCPDROP_PKT_MAX;
	ev->pkt_len = pkt_len;
	copy_pkt(ev->pkt, r->data, pkt_len, (size_t)(r->opts + r->optlen - r->data));

	/* The names the last drop had were checked then: the same bytes need no check again. */
	same_reason = same_name(&d->last_reason, reason, reason_len);
	same_state = same_name(&d->last_state, state, state_len);
	if ((reason && !same_reason && !printable(reason, reason_len)) ||
	    (state && !same_state && !printable(state, state_len)))
		return corrupt(r, file, "tcpdrop's reason or state name is empty or not printable");
	if (reason && !(ev->evflags & TCPDROP_F_NO_REASON) &&
	    !(same_reason && ev->reason_code == d->last_reason.code))
		new_name(d, &d->last_reason, ev->reason_code, reason, reason_len, set_reason);
	if (state && ev->state_code && !(same_state && ev->state_code == d->last_state.code))
		new_name(d, &d->last_state, ev->state_code, state, state_len, set_state);
	if (stack && load_stack(d, stack, stack_len, ev))
		return corrupt(r, file, "tcpdrop's stack has more than 32 frames");
	if (loc) {
		/* Usually the first frame: no need to hash it again. */
		if (ev->nstack && stack_len >= loc_len && !memcmp(stack, loc, loc_len) &&
		    (stack_len == loc_len || stack[loc_len] == '\n'))
			ev->loc_addr = ev->stack_addr[0];
		else if (d->last_loc_len && loc_len == d->last_loc_len &&
			 same_bytes(loc, d->last_loc, loc_len))
			ev->loc_addr = d->last_loc_addr;
		else
			ev->loc_addr = intern(d->ks, loc, loc_len);
		if (loc_len <= sizeof(d->last_loc) && ev->loc_addr != d->last_loc_addr) {
			memcpy(d->last_loc, loc, loc_len);
			d->last_loc_len = loc_len;
			d->last_loc_addr = ev->loc_addr;
		}
	}
	return 1;
}

static const struct tcpdrop_event zero_head;

static inline __attribute__((always_inline)) int decode(struct pcapng_decoder *d,
							const struct cap_rec *r,
							struct tcpdrop_event *ev, const char *file,
							const int s)
{
	struct our_opts o = { 0 };

	if (r->opts) {
		switch (scan_opts(r->opts, r->opts + r->optlen, s, &o)) {
		case OPTS_MALFORMED:
			return corrupt(r, file, "malformed options");
		case OPTS_SHORT:
			return corrupt(r, file, "tcpdrop's record is too short");
		default:
			break;
		}
	}
	if (o.fields)
		return from_record(d, r, ev, &o, file, s);
	/* Any capture's packet sets only some fields: the rest are zero. */
	memcpy(ev, &zero_head, TCPDROP_EVENT_HEAD_SIZE);
	ev->ts_ns = r->ts;
	return from_packet(d, r, ev);
}

int pcapng__decode_packet(struct pcapng_decoder *d, const struct cap_rec *r,
			  struct tcpdrop_event *ev, const char *file)
{
	return r->swap ? decode(d, r, ev, file, 1) : decode(d, r, ev, file, 0);
}

int pcapng__next_drop(struct capreader *cr, struct pcapng_decoder *d, struct tcpdrop_event *ev,
		      const char *file)
{
	const uint8_t *h = cr->buf + cr->pos, *body;
	size_t have = cr->end - cr->pos;
	uint32_t len, ifid, caplen, padded;
	const struct iface *f;
	struct our_opts o;
	struct cap_rec r;

	/* Anything but a whole, well-formed EPB of ours, in our byte order: the general path. */
	if (cr->kind != KIND_PCAPNG || cr->swap || have < 8 || rd32(h, 0) != BT_EPB)
		return 0;
	len = rd32(h + 4, 0);
	if (len < 32 || len % 4 || len > have || len > PCAPNG_MAX_BLOCK ||
	    rd32(h + len - 4, 0) != len)
		return 0;
	body = h + 8;
	ifid = rd32(body, 0);
	caplen = rd32(body + 12, 0);
	if (ifid >= cr->nifs || caplen > len - 32)
		return 0;
	padded = (caplen + 3) & ~3u;
	if (padded > len - 32)
		padded = len - 32;
	if (scan_native(body + 20 + padded, h + len - 4, &o) != OPTS_OK || !o.fields)
		return 0;
	f = &cr->ifs[ifid];
	r.kind = CAP_PACKET;
	r.swap = 0;
	r.offset = cr->base + cr->pos;
	r.what = "enhanced packet block";
	r.ts = to_ns(f, (uint64_t)rd32(body + 4, 0) << 32 | rd32(body + 8, 0));
	r.linktype = f->linktype;
	r.ifid = ifid;
	r.caplen = caplen;
	r.origlen = rd32(body + 16, 0);
	r.data = body + 20;
	r.opts = body + 20 + padded;
	r.optlen = len - 32 - padded;
	r.start = r.end = 0;
	cr->last_ts = r.ts;
	cr->pos += len;
	return from_record(d, &r, ev, &o, file, 0);
}
