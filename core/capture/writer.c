/* pcapng blocks as -w writes them: the section header, the interface, its statistics. */
#include "capture/internal.h"
#include "sym/sym.h"

#include <stdio.h>
#include <stdlib.h>

void pcapng_buf__free(struct pcapng_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* b's end moved to o, which buf_room() made room for. */
static void buf_end(struct pcapng_buf *b, const uint8_t *o)
{
	b->len = (size_t)(o - b->p);
}

static void buf_put32(struct pcapng_buf *b, uint32_t v)
{
	uint8_t *o = buf_room(b, 4);

	buf_end(b, put32(o, v));
}

static size_t block_begin(struct pcapng_buf *b, uint32_t type)
{
	size_t start = b->len;

	buf_put32(b, type);
	buf_put32(b, 0); /* the length, known at the end */
	return start;
}

static void block_end(struct pcapng_buf *b, size_t start)
{
	uint32_t len;

	buf_put32(b, OPT_END); /* opt_endofopt: code and length 0 */
	len = (uint32_t)(b->len - start + 4);
	buf_put32(b, len);
	put32(b->p + start + 4, len);
}

static void opt(struct pcapng_buf *b, uint16_t code, const void *v, size_t len)
{
	uint8_t *o = buf_room(b, len + 8);

	buf_end(b, opt_put(o, code, v, len));
}

static void opt_str(struct pcapng_buf *b, uint16_t code, const char *s)
{
	if (s && *s)
		opt(b, code, s, strlen(s));
}

static void custom(struct pcapng_buf *b, uint16_t tag, const void *v, size_t len)
{
	uint8_t *o = buf_room(b, len + 14);

	buf_end(b, custom_put(o, tag, v, len));
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
	uint8_t *o = buf_room(b, 16);

	o = put32(o, BOM);
	o = put16(o, 1);
	o = put16(o, 0);
	o = put64(o, UINT64_MAX); /* section length: unknown, we stream */
	buf_end(b, o);
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
	block_end(b, start);
}

void pcapng__put_idb(struct pcapng_buf *b, uint16_t linktype, uint32_t snaplen, const char *name,
		     const char *desc)
{
	size_t start = block_begin(b, BT_IDB);
	uint8_t ns = 9, *o = buf_room(b, 8);

	o = put16(o, linktype);
	o = put16(o, 0);
	o = put32(o, snaplen);
	buf_end(b, o);
	opt_str(b, IF_NAME, name);
	opt_str(b, IF_DESCRIPTION, desc);
	opt(b, IF_TSRESOL, &ns, 1);
	block_end(b, start);
}

/* A timestamp as pcapng splits it: the high word first, each in our byte order. */
static uint8_t *put_ts(uint8_t *o, uint64_t ts)
{
	o = put32(o, (uint32_t)(ts >> 32));
	return put32(o, (uint32_t)ts);
}

static void opt_ts(struct pcapng_buf *b, uint16_t code, uint64_t ts)
{
	uint8_t v[8];

	put_ts(v, ts);
	opt(b, code, v, sizeof(v));
}

void pcapng__put_isb(struct pcapng_buf *b, uint64_t now, uint64_t start, uint64_t end,
		     const struct run_stats *st, uint64_t written)
{
	size_t at = block_begin(b, BT_ISB);
	uint8_t *o = buf_room(b, 12);

	o = put32(o, 0);
	o = put_ts(o, now);
	buf_end(b, o);
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
	block_end(b, at);
}
