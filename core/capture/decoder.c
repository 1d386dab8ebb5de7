/*
 * The decoder's memory: the names and frames a file brings (section tables, each drop's
 * strings), kept between drops, and tcpdrop's counters from statistics blocks.
 */
#include "capture/internal.h"
#include "sym/sym.h"

#include <errno.h>
#include <stdlib.h>

#define MAX_SUB_NAMES 4096 /* subsystem reason names a file may add */

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

int decoder__corrupt(const struct cap_rec *r, const char *file, const char *why)
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
int decoder__printable(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return len > 0;
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
		    !decoder__printable(sp + 1, (size_t)(nl - sp - 1)))
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
	while ((ret = opt_next(&p, end, r->swap, &o)) > 0) {
		uint16_t tag;
		size_t len;
		const uint8_t *v = opt_ours(&o, r->swap, &tag, &len);

		if (!v || (tag != PCAPNG_TAG_REASONS && tag != PCAPNG_TAG_STATES))
			continue;
		if (load_table(d, v, len, tag == PCAPNG_TAG_STATES))
			return decoder__corrupt(r, file,
						"its table of reason or state names is malformed");
	}
	return ret < 0 ? decoder__corrupt(r, file, "malformed options") : 0;
}

int pcapng__decode_stats(struct pcapng_decoder *d, const struct cap_rec *r, struct run_stats *st,
			 const char *file)
{
	const uint8_t *p = r->opts, *end = r->opts + r->optlen;
	struct pcapng_opt o;
	int ret, found = 0;

	(void)d;
	while ((ret = opt_next(&p, end, r->swap, &o)) > 0) {
		uint16_t tag;
		size_t len;
		const uint8_t *v = opt_ours(&o, r->swap, &tag, &len);

		if (!v || tag != PCAPNG_TAG_STATS)
			continue;
		if (len < 48)
			return decoder__corrupt(r, file, "tcpdrop's counters are too short");
		st->seen = get64(v, r->swap);
		st->lost = get64(v + 8, r->swap);
		st->filtered_kernel = get64(v + 16, r->swap);
		st->stacks_skipped = get64(v + 24, r->swap);
		st->stacks_failed = get64(v + 32, r->swap);
		st->errors = get64(v + 40, r->swap);
		found = 1;
	}
	return ret < 0 ? decoder__corrupt(r, file, "malformed options") : found;
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
uint64_t decoder__frame(struct pcapng_decoder *d, const uint8_t *s, size_t len)
{
	char frame[FRAME_MAX];

	cstr(frame, sizeof(frame), s, len);
	for (char *c = frame; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return ksyms__frame_id(d->ks, frame, strlen(frame));
}

static int slot_has(const struct stack_slot *slot, const uint8_t *s, size_t len)
{
	return slot->key && slot->len == len && !memcmp(slot->key, s, len);
}

/* Frames, one per line, to frame-text ids; most drops repeat a few stacks, so cache them. */
int decoder__stack(struct pcapng_decoder *d, const uint8_t *s, size_t len, struct tcpdrop_event *ev)
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
				slot->addr[n++] = decoder__frame(d, p, (size_t)(fe - p));
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

void decoder__name(struct pcapng_decoder *d, struct last_name *l, int state, uint32_t code,
		   const uint8_t *v, size_t len)
{
	char name[NAME_MAX_LEN + 1];

	cstr(name, sizeof(name), v, len);
	if (state)
		set_state(d, code, name);
	else
		set_reason(d, code, name);
	if (len <= NAME_MAX_LEN) {
		memcpy(l->bytes, v, len);
		l->len = len;
		l->code = code;
	}
}
