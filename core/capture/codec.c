/*
 * The drop codec: a drop event as -w writes it into an enhanced packet block, and back, side
 * by side; with the replay fast path, which takes -w's own blocks without the general walk.
 */
#include "capture/internal.h"
#include "sym/sym.h"

#include <stdlib.h>

/*
 * A drop's block is written straight into the buffer: its size is bounded before the first
 * byte, so one buf_room() covers every field. A storm repeats a few locations and frames,
 * whose formatting (a search over ~200k symbols and a printf) costs more than the rest of the
 * block: they are kept formatted in a direct-mapped cache, as are the lengths of names.
 */
#define TEXT_MAX 511 /* the stack comment's characters before frames are left out */
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
	struct owner_tab *owners; /* the owner names written so far */
	uint64_t unnamed; /* frames written as KSYMS_UNKNOWN */
	struct name_len reasons[REASON_SLOTS];
	struct name_len states[256];
};

struct pcapng_enc *pcapng_enc__new(struct names *nm, struct ksyms *ks)
{
	struct pcapng_enc *e = xcalloc(1, sizeof(*e));

	e->nm = nm;
	e->ks = ks;
	e->owners = ownertab__new();
	return e;
}

void pcapng_enc__free(struct pcapng_enc *e)
{
	if (!e)
		return;
	ownertab__free(e->owners);
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

uint64_t pcapng_enc__unnamed(const struct pcapng_enc *e)
{
	return e->unnamed;
}

_Static_assert((TCPDROP_F_FRAME_IDS & KSYMS_IDS) == TCPDROP_F_FRAME_IDS,
	       "the event's FRAME_IDS bit is what ksyms takes for ids");

/*
 * A frame of ev's as text into room bytes (with a NUL): through the run's one cache. flags:
 * KSYMS_RET for a return address. No address goes into a file: one without a symbol is "?",
 * counted in e (when there is one).
 */
static size_t frame(struct pcapng_enc *e, struct ksyms *ks, const struct tcpdrop_event *ev,
		    uint64_t v, int flags, char *dst, size_t room)
{
	int ids = ev->evflags & TCPDROP_F_FRAME_IDS;
	size_t n;

	if (room < 2)
		return 0;
	n = (size_t)ksyms__frame_into(ks, v, ids | flags | KSYMS_NO_ADDR, dst, room);
	if (e && !ids && n == sizeof(KSYMS_UNKNOWN) - 1 && !memcmp(dst, KSYMS_UNKNOWN, n))
		e->unnamed++;
	return n;
}

/*
 * The fixed record is the event's fields from reason_code to comm_raw as they lie in the struct
 * (TCPDROP_PART_REC in bpf/fields.h), in the writer's byte order: one copy, then the two bytes the
 * file keeps otherwise.
 */
#define REC_AT(field) (offsetof(struct tcpdrop_event, field) - TCPDROP_EVENT_REC_START)
_Static_assert(PCAPNG_EVENT_LEN == TCPDROP_EVENT_REC_LEN, "the record is the struct's fields");

static uint8_t *wfields(uint8_t *f, const struct tcpdrop_event *ev, uint16_t nstack)
{
	memcpy(f, (const uint8_t *)ev + TCPDROP_EVENT_REC_START, PCAPNG_EVENT_LEN);
	f[REC_AT(evflags)] = ev->evflags & ~TCPDROP_F_FRAME_IDS; /* frames in a file are text */
	memcpy(f + REC_AT(nstack), &nstack, sizeof(nstack)); /* the frames actually written */
	return f + PCAPNG_EVENT_LEN;
}

/*
 * The owner's fields lie together in the event, from owner_pid to owner_flags: written as they
 * lie, in the writer's byte order, like the record.
 */
#define OWNER_START offsetof(struct tcpdrop_event, owner_pid)
_Static_assert(offsetof(struct tcpdrop_event, owner_flags) + 1 - OWNER_START == PCAPNG_OWNER_LEN,
	       "the owner's option is the event's owner_pid to owner_flags");

/* Whether the event knows anything of who was hurt: else the option is left out. */
static int has_owner(const struct tcpdrop_event *ev)
{
	return ev->owner_flags || ev->cgroup_id_raw || ev->sock_ino;
}

static void read_owner(struct tcpdrop_event *ev, const uint8_t *v, const int s)
{
	if (!v) {
		memset((uint8_t *)ev + OWNER_START, 0, PCAPNG_OWNER_LEN);
		return;
	}
	memcpy((uint8_t *)ev + OWNER_START, v, PCAPNG_OWNER_LEN);
	if (s) {
		ev->owner_pid = __builtin_bswap32(ev->owner_pid);
		ev->cgroup_id_raw = __builtin_bswap64(ev->cgroup_id_raw);
		ev->owner_start_ns = __builtin_bswap64(ev->owner_start_ns);
		ev->sock_ino = __builtin_bswap32(ev->sock_ino);
		ev->sk_uid = __builtin_bswap32(ev->sk_uid);
	}
}

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

/*
 * "stack: f0 <- f1 <- ...": whole frames while the line stays within TEXT_MAX characters (the
 * first frame always), then " <- ... (N more frames)" for those left out (the custom option
 * holds them all). At most STACK_COMMENT_MAX bytes; nstack frames, one per line, in stack.
 */
#define STACK_COMMENT_MAX (TEXT_MAX + KSYMS_FRAME_MAX + 48)
static char *stack_comment(char *o, const char *stack, size_t slen, unsigned int nstack)
{
	const char *start = o, *f = stack, *end = stack + slen, *nl;

	o = put_mem(o, "stack: ", 7);
	for (unsigned int i = 0;; i++) {
		size_t n;

		nl = memchr(f, '\n', (size_t)(end - f));
		n = (size_t)((nl ? nl : end) - f);
		if (i && (size_t)(o - start) + 4 + n > TEXT_MAX) {
			o = put_mem(o, " <- ... (", 9);
			o = put_u32(o, nstack - i);
			return nstack - i == 1 ? put_mem(o, " more frame)", 12)
					       : put_mem(o, " more frames)", 13);
		}
		if (i)
			o = put_mem(o, " <- ", 4);
		o = put_mem(o, f, n);
		if (!nl)
			return o;
		f = nl + 1;
	}
}

/* The bytes the packet's copy touches: whole 32-byte chunks (pkt[] is a multiple of 32). */
#define PKT_COPY(n) (((n) + 31) & ~(size_t)31)

/* The length of an option's value written from opt + 4 up to o. */
static size_t written(const uint8_t *o, const uint8_t *opt)
{
	return (size_t)(o - opt - 4);
}

static void put_event(struct pcapng_buf *b, struct pcapng_enc *e, const struct tcpdrop_event *ev,
		      struct names *nm, struct ksyms *ks)
{
	char stack[TCPDROP_STACK_MAX * KSYMS_FRAME_MAX], rnum[16], snum[16];
	const char *reason, *state, *rname = NULL, *sname = NULL, *onames = NULL;
	size_t rlen = 0, stlen = 0, rnlen = 0, snlen = 0, slen = 0, olen = 0;
	uint64_t oid = 0;
	int onetns = 0;
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
		slen += frame(e, ks, ev, ev->stack_addr[i], i ? KSYMS_RET : 0, stack + slen,
			      sizeof(stack) - slen);
	}

	/* Who was hurt, by name: with the first drop of each id only (a stream: e). */
	if (e && nm)
		onames = ownertab__names(e->owners, ev, &oid, &onetns, &olen);

	/* Header, packet, two comments, seven options of ours, end and trailer, padding each. */
	base = buf_room(b, 28 + PKT_COPY(caplen) + (4 + COMMENT_MAX(rlen, stlen) + 3) +
				   (4 + STACK_COMMENT_MAX + 3) + (10 + PCAPNG_EVENT_LEN + 3) +
				   (10 + rnlen + 3) + (10 + snlen + 3) +
				   (10 + KSYMS_FRAME_MAX + 3) + (10 + slen + 3) +
				   (10 + PCAPNG_OWNER_LEN + 3) +
				   (10 + PCAPNG_OWNER_NAMES_HEAD + olen + 3) + 8 +
				   8 /* pad4()'s zeros past the end */);
	o = put32(base, BT_EPB);
	o += 4; /* the length, known at the end */
	o = put32(o, 0);
	o = put32(o, (uint32_t)(ev->ts_ns >> 32));
	o = put32(o, (uint32_t)ev->ts_ns);
	o = put32(o, (uint32_t)caplen);
	o = put32(o, ip_wire_len(data, (uint32_t)caplen));
	/* In whole chunks, the excess overwritten: a copy of any length is a slow `rep movs`. */
	for (size_t i = 0; i < caplen; i += 32)
		memcpy(o + i, data + i, 32);
	o = pad4(o, caplen);

	opt = o;
	o = (uint8_t *)comment((char *)opt + 4, ev, reason, rlen, state, stlen);
	o = opt_done(opt, OPT_COMMENT, written(o, opt));
	if (nstack) {
		/* A second comment with the stack, so that Wireshark shows where it dropped. */
		opt = o;
		o = (uint8_t *)stack_comment((char *)opt + 4, stack, slen, nstack);
		o = opt_done(opt, OPT_COMMENT, written(o, opt));
	} else if (ev->evflags & TCPDROP_F_STACK_SKIPPED) {
		opt = o;
		memcpy(opt + 4, "stack: skipped", 14);
		o = opt_done(opt, OPT_COMMENT, 14);
	} else if (ev->evflags & TCPDROP_F_STACK_FAILED) {
		opt = o;
		memcpy(opt + 4, "stack: failed", 13);
		o = opt_done(opt, OPT_COMMENT, 13);
	}

	opt = o;
	wfields(opt + 10, ev, (uint16_t)nstack);
	o = custom_done(opt, PCAPNG_TAG_EVENT, PCAPNG_EVENT_LEN);
	if (rname)
		o = custom_put(o, PCAPNG_TAG_REASON, rname, rnlen);
	if (sname)
		o = custom_put(o, PCAPNG_TAG_STATE, sname, snlen);
	if (ev->loc_addr) {
		opt = o;
		len = (uint32_t)frame(e, ks, ev, ev->loc_addr, 0, (char *)opt + 10,
				      KSYMS_FRAME_MAX);
		o = custom_done(opt, PCAPNG_TAG_LOCATION, len);
	}
	if (nstack)
		o = custom_put(o, PCAPNG_TAG_STACK, stack, slen);
	if (has_owner(ev))
		o = custom_put(o, PCAPNG_TAG_OWNER, (const uint8_t *)ev + OWNER_START,
			       PCAPNG_OWNER_LEN);
	if (onames) {
		opt = o;
		put32(put64(opt + 10, oid), (uint32_t)onetns);
		memcpy(opt + 10 + PCAPNG_OWNER_NAMES_HEAD, onames, olen);
		o = custom_done(opt, PCAPNG_TAG_OWNER_NAMES, PCAPNG_OWNER_NAMES_HEAD + olen);
	}
	o = put32(o, OPT_END); /* opt_endofopt: code and length 0 */
	len = (uint32_t)(o + 4 - base);
	put32(o, len);
	put32(base + 4, len);
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

/* ---------------------------------------------------------------- decoding */

/*
 * n packet bytes into ev->pkt, with room readable bytes at src. Short packets (the usual
 * headers) take a fixed-size copy, in 16-byte pieces: a memcpy of a bounded variable length,
 * or of 64 bytes whose alignment gcc believes it knows, is inlined as rep movs, whose start-up
 * costs more than the copy; bytes past pkt_len are stale anyway.
 */
static void copy_pkt(uint8_t *dst, const uint8_t *src, size_t n, size_t room)
{
	if (n <= 64 && room >= 64)
		for (size_t i = 0; i < 64; i += 16)
			memcpy(dst + i, src + i, 16);
	else
		memcpy(dst, src, n);
}

/* The fields in a byte order known when compiled (s is a constant): no test per field. */
static inline __attribute__((always_inline)) void swap_field(void *p, size_t size)
{
	if (size == 2) {
		uint16_t *v = p;

		*v = __builtin_bswap16(*v);
	} else if (size == 4) {
		uint32_t *v = p;

		*v = __builtin_bswap32(*v);
	} else if (size == 8) {
		uint64_t *v = p;

		*v = __builtin_bswap64(*v);
	}
}

/*
 * The record into the event's fields, in byte order s (a constant where inlined: the swaps fold
 * away for our own order). nstack and pkt_len are read too; the caller sets both from what the
 * block really holds. Returns the recorded pkt_len.
 */
static inline __attribute__((always_inline)) uint16_t read_fields(struct tcpdrop_event *ev,
								  const uint8_t *f, const int s)
{
	memcpy((uint8_t *)ev + TCPDROP_EVENT_REC_START, f, PCAPNG_EVENT_LEN);
	if (s) {
#define SWAP_SCALAR(type, name, part) \
	if (part == TCPDROP_PART_REC) \
		swap_field(&ev->name, sizeof(ev->name));
#define SWAP_ARRAY(type, name, count, part)
		TCPDROP_EVENT_FIELDS(SWAP_SCALAR, SWAP_ARRAY)
#undef SWAP_SCALAR
#undef SWAP_ARRAY
	}
	return ev->pkt_len;
}

/* Whether v holds the same bytes as the last name read. */
static inline __attribute__((always_inline)) int same_name(const struct last_name *l,
							   const uint8_t *v, size_t len)
{
	return v && l->len && len == l->len && same_bytes(v, l->bytes, len);
}

/* What a packet block's options hold for us. */
struct our_opts {
	const uint8_t *fields, *reason, *state, *loc, *stack, *owner, *owner_names;
	size_t reason_len, state_len, loc_len, stack_len, owner_names_len;
};

enum { OPTS_OK, OPTS_MALFORMED = -1, OPTS_SHORT = -2 };

/*
 * A block's options, in byte order s (a constant: inlined for each, and in the fast path):
 * OPTS_*, the first fault met. Its own walk rather than opt_next()'s: each option's code and
 * length in one load, and the custom test before anything else, cost a third less per drop.
 */
static inline __attribute__((always_inline)) int scan_opts(const uint8_t *p, const uint8_t *end,
							   const int s, struct our_opts *out)
{
	out->fields = out->reason = out->state = out->loc = out->stack = out->owner = NULL;
	out->owner_names = NULL;
	out->reason_len = out->state_len = out->loc_len = out->stack_len = 0;
	out->owner_names_len = 0;
	for (;;) {
		size_t left = (size_t)(end - p), padded;
		const uint8_t *v = p + 4;
		uint16_t code, len, tag;

		if (left < 4)
			return left ? OPTS_MALFORMED : OPTS_OK;
		get16x2(p, s, &code, &len);
		if (code == OPT_END)
			return OPTS_OK;
		padded = ((size_t)len + 3) & ~(size_t)3;
		if (padded > left - 4)
			return OPTS_MALFORMED;
		p = v + padded;
		/* The two codes differ in one bit (0x4000, "may not be copied"): one test. */
		if ((code & ~(OPT_CUSTOM_BIN ^ OPT_CUSTOM_BIN_NC)) != OPT_CUSTOM_BIN || len < 6 ||
		    get32(v, s) != PCAPNG_PEN)
			continue;
		tag = get16(v + 4, s);
		v += 6;
		len -= 6;
		/* In the order -w writes them; a later version's tags are skipped. */
		if (tag == PCAPNG_TAG_EVENT) {
			if (len < PCAPNG_EVENT_LEN)
				return OPTS_SHORT;
			out->fields = v;
		} else if (tag == PCAPNG_TAG_REASON) {
			out->reason = v;
			out->reason_len = len;
		} else if (tag == PCAPNG_TAG_STATE) {
			out->state = v;
			out->state_len = len;
		} else if (tag == PCAPNG_TAG_LOCATION) {
			out->loc = v;
			out->loc_len = len;
		} else if (tag == PCAPNG_TAG_STACK) {
			out->stack = v;
			out->stack_len = len;
		} else if (tag == PCAPNG_TAG_OWNER && len >= PCAPNG_OWNER_LEN) {
			out->owner = v;
		} else if (tag == PCAPNG_TAG_OWNER_NAMES) {
			out->owner_names = v;
			out->owner_names_len = len;
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

	ev->evflags &= (__u8)~TCPDROP_F_FRAME_IDS; /* set below when it has frames */
	ev->ts_ns = r->ts;
	ev->loc_addr = 0;
	ev->nstack = 0;
	memset(ev->_pad, 0, sizeof(ev->_pad));
	read_owner(ev, o->owner, s);
	if (ev->family != 4 && ev->family != 6)
		return decoder__corrupt(r, file,
					"tcpdrop's record has an address family other than 4 or 6");
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
	if ((reason && !same_reason && !decoder__printable(reason, reason_len)) ||
	    (state && !same_state && !decoder__printable(state, state_len)))
		return decoder__corrupt(r, file,
					"tcpdrop's reason or state name is empty or not printable");
	if (reason && !(ev->evflags & TCPDROP_F_NO_REASON) &&
	    !(same_reason && ev->reason_code == d->last_reason.code))
		decoder__name(d, &d->last_reason, 0, ev->reason_code, reason, reason_len);
	if (state && ev->state_code && !(same_state && ev->state_code == d->last_state.code))
		decoder__name(d, &d->last_state, 1, ev->state_code, state, state_len);
	if (o->owner_names && ownertab__read(d->nm, o->owner_names, o->owner_names_len, s))
		return decoder__corrupt(r, file, "tcpdrop's owner names are malformed");
	if (stack && decoder__stack(d, stack, stack_len, ev))
		return decoder__corrupt(r, file, "tcpdrop's stack has more than 32 frames");
	if (loc) {
		/* Usually the first frame: no need to hash it again. */
		if (ev->nstack && stack_len >= loc_len && !memcmp(stack, loc, loc_len) &&
		    (stack_len == loc_len || stack[loc_len] == '\n'))
			ev->loc_addr = ev->stack_addr[0];
		else if (d->last_loc_len && loc_len == d->last_loc_len &&
			 same_bytes(loc, d->last_loc, loc_len))
			ev->loc_addr = d->last_loc_addr;
		else
			ev->loc_addr = decoder__frame(d, loc, loc_len);
		if (loc_len <= sizeof(d->last_loc) && ev->loc_addr != d->last_loc_addr) {
			memcpy(d->last_loc, loc, loc_len);
			d->last_loc_len = loc_len;
			d->last_loc_addr = ev->loc_addr;
		}
	}
	/* Its frames are the file's texts, by id. */
	if (ev->nstack || ev->loc_addr)
		ev->evflags |= TCPDROP_F_FRAME_IDS;
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
			return decoder__corrupt(r, file, "malformed options");
		case OPTS_SHORT:
			return decoder__corrupt(r, file, "tcpdrop's record is too short");
		default:
			break;
		}
	}
	if (o.fields)
		return from_record(d, r, ev, &o, file, s);
	/* Any capture's packet sets only some fields: the rest are zero. */
	memcpy(ev, &zero_head, TCPDROP_EVENT_HEAD_SIZE);
	ev->ts_ns = r->ts;
	return headers__parse(r, ev, &d->skipped);
}

int pcapng__decode_packet(struct pcapng_decoder *d, const struct cap_rec *r,
			  struct tcpdrop_event *ev, const char *file)
{
	return r->swap ? decode(d, r, ev, file, 1) : decode(d, r, ev, file, 0);
}

int pcapng__next_drop(struct capreader *cr, struct pcapng_decoder *d, struct tcpdrop_event *ev,
		      const char *file)
{
	const uint8_t *h = cr->buf + cr->pos;
	size_t have = cr->end - cr->pos;
	struct our_opts o;
	struct cap_rec r;
	uint32_t len;

	/* Anything but a whole, well-formed EPB of ours, in our byte order: the general path. */
	if (cr->kind != KIND_PCAPNG || cr->swap || have < 8 || get32(h, 0) != BT_EPB)
		return 0;
	len = get32(h + 4, 0);
	if (len > have || block_len_fault(BT_EPB, len) || get32(h + len - 4, 0) != len)
		return 0;
	if (packet_walk(cr, &r, h + 8, len - 12, get32(h + 8, 0), 0) != WALK_OK ||
	    scan_opts(r.opts, r.opts + r.optlen, 0, &o) != OPTS_OK || !o.fields)
		return 0;
	r.offset = cr->base + cr->pos;
	r.what = "enhanced packet block";
	cr->last_ts = r.ts;
	cr->pos += len;
	return from_record(d, &r, ev, &o, file, 0);
}
