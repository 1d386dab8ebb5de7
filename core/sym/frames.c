/*
 * Frame text, the run's one cache for C and Lua alike: kernel addresses' texts as they were
 * formatted (direct-mapped: the same frames come back drop after drop), and replayed frames,
 * which are text from the start, by id. Also where the tracer's own frames are cut off.
 */
#include "sym/internal.h"
#include "util/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define KEPT_SLOTS 512 /* power of 2 */
#define KEPT_CHARS 106 /* longer texts are formatted every time */

struct kept {
	uint64_t addr;
	uint64_t adds; /* ksyms__adds() when it was formatted */
	uint16_t len; /* 0: empty (no text is empty) */
	uint8_t ret; /* KSYMS_RET: named by the symbol before addr */
	uint8_t known; /* a symbol covers it: else s is its digits */
	char s[KEPT_CHARS];
};

struct frames {
	struct kept kept[KEPT_SLOTS];
	char buf[KSYMS_FRAME_MAX]; /* a text too long to keep, or an id's that is not known */
	/* Replayed frames: id i's text at text + off[i - 1], NUL-terminated. */
	char *text;
	size_t text_len, text_cap;
	uint32_t *off;
	uint32_t n, off_cap;
	uint32_t *hash; /* open addressing over the ids' texts: ids, 0 = empty */
	uint32_t hash_cap;
};

struct frames *frames__new(void)
{
	return xcalloc(1, sizeof(struct frames));
}

void frames__free(struct frames *f)
{
	if (!f)
		return;
	free(f->text);
	free(f->off);
	free(f->hash);
	free(f);
}

static const char *id_text(const struct frames *f, uint32_t id)
{
	return f->text + f->off[id - 1];
}

static void hash_put(struct frames *f, uint32_t id)
{
	const char *t = id_text(f, id);
	uint32_t mask = f->hash_cap - 1, i = fnv1a32(t, strlen(t)) & mask;

	while (f->hash[i])
		i = (i + 1) & mask;
	f->hash[i] = id;
}

uint32_t ksyms__frame_id(struct ksyms *ks, const char *text, size_t len)
{
	struct frames *f = ksyms__frames(ks);
	uint32_t mask, i, id;

	if (f->hash_cap) {
		mask = f->hash_cap - 1;
		for (i = fnv1a32(text, len) & mask; (id = f->hash[i]); i = (i + 1) & mask) {
			const char *t = id_text(f, id);

			if (!strncmp(t, text, len) && !t[len])
				return id;
		}
	}
	if ((f->n + 1) * 2 > f->hash_cap) {
		f->hash_cap = f->hash_cap ? f->hash_cap * 2 : 64;
		free(f->hash);
		f->hash = xcalloc(f->hash_cap, sizeof(*f->hash));
		for (id = 1; id <= f->n; id++)
			hash_put(f, id);
	}
	if (f->n == f->off_cap) {
		f->off_cap = f->off_cap ? f->off_cap * 2 : 64;
		f->off = xrealloc(f->off, f->off_cap * sizeof(*f->off));
	}
	if (f->text_len + len + 1 > f->text_cap) {
		f->text_cap = (f->text_len + len + 1) * 2;
		f->text = xrealloc(f->text, f->text_cap);
	}
	f->off[f->n++] = (uint32_t)f->text_len;
	memcpy(f->text + f->text_len, text, len);
	f->text[f->text_len + len] = '\0';
	f->text_len += len + 1;
	hash_put(f, f->n);
	return f->n;
}

const char *ksyms__frame(struct ksyms *ks, uint64_t v, int flags, size_t *len)
{
	struct frames *f = ksyms__frames(ks);
	uint8_t ret = !!(flags & KSYMS_RET);
	struct kept *k;
	int n, known;

	if (flags & KSYMS_IDS) {
		if (v && v <= f->n) {
			const char *t = id_text(f, (uint32_t)v);

			*len = strlen(t);
			return t;
		}
		*len = (size_t)snprintf(f->buf, sizeof(f->buf), "[frame %" PRIu64 "?]", v);
		return f->buf;
	}
	/* A file's "?" is made here, not kept: the printers, in the same run, want the digits. */
	k = &f->kept[((v >> 4) ^ (v >> 13) ^ ret) & (KEPT_SLOTS - 1)];
	if (k->len && k->addr == v && k->ret == ret && k->adds == ksyms__adds(ks)) {
		if (!k->known && flags & KSYMS_NO_ADDR)
			goto unknown;
		*len = k->len;
		return k->s;
	}
	n = ksyms__text(ks, v, flags & KSYMS_RET, f->buf, sizeof(f->buf), &known);
	if (n > 0 && (size_t)n <= sizeof(k->s)) {
		k->addr = v;
		k->adds = ksyms__adds(ks);
		k->len = (uint16_t)n;
		k->ret = ret;
		k->known = (uint8_t)known;
		memcpy(k->s, f->buf, (size_t)n);
	}
	if (!known && flags & KSYMS_NO_ADDR)
		goto unknown;
	*len = n > 0 ? (size_t)n : 0;
	return f->buf;
unknown:
	*len = sizeof(KSYMS_UNKNOWN) - 1;
	return KSYMS_UNKNOWN;
}

int ksyms__frame_into(struct ksyms *ks, uint64_t v, int flags, char *buf, size_t len)
{
	size_t n;
	const char *t = ksyms__frame(ks, v, flags, &n);

	if (!len)
		return 0;
	if (n >= len)
		n = len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
	return (int)n;
}
/* Functions that belong to the tracing machinery, not to the code that dropped the packet. */
static int is_machinery(const char *name)
{
	static const char *const prefixes[] = {
		"bpf_prog_",
		"bpf_trace_run",
		"__bpf_trace_",
		"__traceiter_",
		"trace_call_bpf",
		"perf_trace_",
		"perf_tp_",
		"trace_event_raw_event_",
		"kprobe_",
		"kfree_skb",
		"sk_skb_reason_drop",
		"__sk_skb_reason_drop",
		"kfree_skb_reason",
		"__kfree_skb",
		"bpf_trampoline_",
		"__bpf_prog_enter",
		"ftrace_",
		"tcp_drop",
		"kretprobe_",
		"pre_handler_kretprobe",
		"aggr_pre_handler",
		"opt_pre_handler",
		"optimized_callback",
		"fentry_",
		"arch_ftrace_",
	};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

unsigned int ksyms__stack_start(struct ksyms *ks, const unsigned long long *frames, unsigned int n,
				uint64_t location)
{
	unsigned int i;

	/* The probe's location is the return address into the dropping function. */
	if (location)
		for (i = 0; i < n; i++)
			if (frames[i] == location)
				return i;
	/*
	 * Else skip the leading frames that are tracing machinery or not in kallsyms: each but the
	 * first a return address, named by the call before it (see KSYMS_RET).
	 */
	for (i = 0; i < n; i++) {
		const char *name = ksyms__map_addr(ks, frames[i] - (i && frames[i]), NULL);

		if (name && !is_machinery(name))
			break;
	}
	return i < n ? i : 0;
}
