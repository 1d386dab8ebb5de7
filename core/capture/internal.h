/*
 * Private to core/capture: the format's numbers, the reader's state, and the walks over blocks
 * and options that the reader, the writer and the drop codec share. The walks are inline: the
 * replay fast path (codec.c) runs them once per drop.
 */
#ifndef TCPDROP_CAPTURE_INTERNAL_H
#define TCPDROP_CAPTURE_INTERNAL_H

#include "capture/capture.h"
#include "capture/bytes.h"
#include "sym/sym.h"
#include "util/util.h"

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

#define FRAME_MAX KSYMS_FRAME_MAX /* a frame's text with its NUL, as ksyms makes them */
#define NAME_MAX_LEN 255

/* ---- Writing: options at o, which is 4-aligned in its block; each returns the end. */

/* Room for n more bytes at the end of b: where they go. */
static inline uint8_t *buf_room(struct pcapng_buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 > 4096 ? (b->len + n) * 2 : 4096;
		b->p = xrealloc(b->p, b->cap);
	}
	return b->p + b->len;
}

/* Zeros after n bytes at o, to the next 4-byte boundary; the end. Writes 4 bytes past n. */
static inline uint8_t *pad4(uint8_t *o, size_t n)
{
	memset(o + n, 0, 4);
	return o + ((n + 3) & ~(size_t)3);
}

/* An option whose n value bytes are already at o + 4 (cut at the format's 65535). */
static inline uint8_t *opt_done(uint8_t *o, uint16_t code, size_t n)
{
	if (n > 0xffff)
		n = 0xffff;
	o = put16(o, code);
	o = put16(o, (uint16_t)n);
	return pad4(o, n);
}

/* An option of len bytes of v: room for len + 8 bytes. */
static inline uint8_t *opt_put(uint8_t *o, uint16_t code, const void *v, size_t len)
{
	if (len > 0xffff)
		len = 0xffff;
	memcpy(o + 4, v, len);
	return opt_done(o, code, len);
}

/* A custom option of ours whose tag's n data bytes are already at o + 10 (n <= 65529). */
static inline uint8_t *custom_done(uint8_t *o, uint16_t tag, size_t n)
{
	put16(put32(o + 4, PCAPNG_PEN), tag);
	return opt_done(o, OPT_CUSTOM_BIN, n + 6);
}

/* A custom option of ours holding tag and len bytes of v (cut to fit): room for len + 14. */
static inline uint8_t *custom_put(uint8_t *o, uint16_t tag, const void *v, size_t len)
{
	if (len > 0xffff - 6)
		len = 0xffff - 6;
	memcpy(o + 10, v, len);
	return custom_done(o, tag, len);
}

/*
 * A packet's length on the wire, from its IP header at p (caplen bytes of it): IPv4's total
 * length, IPv6's payload length and its own 40 bytes. Never the kernel buffer's length at the
 * drop, which may hold a link header or have lost the headers already. At least caplen: a
 * header that says less (or nothing, as a 0 for GRO's jumbo packets) cannot be believed.
 */
static inline uint32_t ip_wire_len(const uint8_t *p, uint32_t caplen)
{
	uint32_t len = 0;

	if (caplen >= 20 && p[0] >> 4 == 4)
		len = get16be(p + 2);
	else if (caplen >= 40 && p[0] >> 4 == 6)
		len = 40 + (uint32_t)get16be(p + 4);
	return len > caplen ? len : caplen;
}

/* ---- Reading. */

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

static inline uint64_t to_ns(const struct iface *f, uint64_t units)
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

/* What is wrong with a block's length, for the reader's message; 0 when nothing. */
static inline const char *block_len_fault(uint32_t type, uint32_t len)
{
	if (len % 4)
		return "not a multiple of 4";
	if (len < (type == BT_SHB ? 28u : 12u))
		return "too small";
	if (len > PCAPNG_MAX_BLOCK)
		return "over the 16 MiB limit";
	return NULL;
}

enum { WALK_OK, WALK_SHORT, WALK_IFACE, WALK_CAPLEN };

/*
 * An enhanced (or obsolete) packet block's body, blen bytes after its type and length, into
 * rec in byte order s (a constant where inlined); ifid read by the caller, as the two blocks
 * spell it differently. WALK_OK, or what is wrong (the reader says it, the fast path declines).
 */
static inline __attribute__((always_inline)) int packet_walk(const struct capreader *cr,
							     struct cap_rec *rec,
							     const uint8_t *body, uint32_t blen,
							     uint32_t ifid, const int s)
{
	const struct iface *f;
	uint32_t padded;

	if (blen < 20)
		return WALK_SHORT;
	if (ifid >= cr->nifs)
		return WALK_IFACE;
	f = &cr->ifs[ifid];
	rec->caplen = get32(body + 12, s);
	if (rec->caplen > blen - 20)
		return WALK_CAPLEN;
	/* Field by field, not memset: a small memset becomes rep stos, slow once per packet. */
	rec->kind = CAP_PACKET;
	rec->swap = s;
	rec->linktype = f->linktype;
	rec->ifid = ifid;
	rec->start = rec->end = 0;
	rec->ts = to_ns(f, (uint64_t)get32(body + 4, s) << 32 | get32(body + 8, s));
	rec->origlen = get32(body + 16, s);
	padded = (rec->caplen + 3) & ~3u;
	if (padded > blen - 20)
		padded = blen - 20;
	rec->data = body + 20;
	rec->opts = body + 20 + padded;
	rec->optlen = blen - 20 - padded; /* checked where they are read: one pass */
	return WALK_OK;
}

/* The next option; inline, so that a caller with a constant byte order tests it not. */
static inline __attribute__((always_inline)) int opt_next(const uint8_t **p, const uint8_t *end,
							  const int swap, struct pcapng_opt *o)
{
	size_t left = (size_t)(end - *p), padded;

	if (left < 4)
		return left ? -1 : 0;
	get16x2(*p, swap, &o->code, &o->len);
	if (o->code == OPT_END)
		return 0;
	padded = ((size_t)o->len + 3) & ~(size_t)3;
	if (padded > left - 4)
		return -1;
	o->val = *p + 4;
	*p += 4 + padded;
	return 1;
}

/* Our custom option, or NULL: its tag and data. */
static inline __attribute__((always_inline)) const uint8_t *
opt_ours(const struct pcapng_opt *o, const int swap, uint16_t *tag, size_t *len)
{
	/* The two codes differ in one bit (0x4000, "may not be copied"): one test. */
	if ((o->code & ~(OPT_CUSTOM_BIN ^ OPT_CUSTOM_BIN_NC)) != OPT_CUSTOM_BIN || o->len < 6 ||
	    get32(o->val, swap) != PCAPNG_PEN)
		return NULL;
	*tag = get16(o->val + 4, swap);
	*len = o->len - 6u;
	return o->val + 6;
}

/* ---- ownertab.c: who was hurt, by name, once per id (PCAPNG_TAG_OWNER_NAMES). */

struct owner_tab;
struct owner_tab *ownertab__new(void);
void ownertab__free(struct owner_tab *t);
/*
 * The names to write with this drop: NULL when its id was written already (or nothing names it
 * yet: asked again a second later), else len bytes of NUL-ended names and the id they are of.
 */
const char *ownertab__names(struct owner_tab *t, const struct tcpdrop_event *ev, uint64_t *id,
			    int *netns, size_t *len);
/* An option's data (byte order s) into nm: 0, or -1 when it is malformed. */
int ownertab__read(struct names *nm, const uint8_t *v, size_t len, const int s);

/* ---- Turning packets into events. */

/* headers.c: a packet from any capture, by its IP and TCP headers. 1, or 0 (counted in sk). */
int headers__parse(const struct cap_rec *r, struct tcpdrop_event *ev, struct pcapng_skipped *sk);

/* A name a drop carried, kept as read: drops in a row mostly share their reason and state. */
struct last_name {
	uint8_t bytes[NAME_MAX_LEN + 1];
	size_t len; /* 0: none yet */
	uint32_t code;
};

#define STACK_CACHE 64

struct stack_slot {
	uint8_t *key;
	size_t len, cap;
	uint16_t n;
	uint64_t addr[TCPDROP_STACK_MAX];
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

/* decoder.c: "file: bad BLOCK at offset N: why"; -EINVAL. */
int decoder__corrupt(const struct cap_rec *r, const char *file, const char *why);
/* Whether len bytes are a name we may print: not empty, no control characters. */
int decoder__printable(const uint8_t *p, size_t len);
/* A reason (state 0) or state name a drop carries that differs from l's: set, and kept in l. */
void decoder__name(struct pcapng_decoder *d, struct last_name *l, int state, uint32_t code,
		   const uint8_t *v, size_t len);
/* A frame's text as a value for stack_addr[] or loc_addr: its id (TCPDROP_F_FRAME_IDS). */
uint64_t decoder__frame(struct pcapng_decoder *d, const uint8_t *s, size_t len);
/* A stack, one frame per line, into ev: 0, or -1 when it has too many frames. */
int decoder__stack(struct pcapng_decoder *d, const uint8_t *s, size_t len,
		   struct tcpdrop_event *ev);

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

#endif
