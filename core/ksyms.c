/* Kernel symbol lookup: a sorted table of text symbols, loaded from kallsyms on first need. */
#include "ksyms.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ksym {
	uint64_t addr;
	uint32_t name; /* offset into the string arena */
	uint32_t verbatim;
};

struct ksyms {
	struct ksym *syms;
	size_t n, cap;
	char *arena;
	size_t arena_len, arena_cap;
	int sorted;
	char *lazy_path; /* loaded on first lookup when set */
	pthread_t loader; /* ksyms__preload's thread, joined before any lookup */
	int loading;
	uint64_t next_intern;
	uint64_t *itab; /* open-addressing hash of interned frames: their addresses, 0 = empty */
	size_t itab_cap, itab_n;
};

/* Interned replay frames get made-up addresses, a page apart; a replay loads no kallsyms. */
#define INTERN_BASE 0xfffffff000000000ULL
#define INTERN_STEP 0x1000ULL

struct ksyms *ksyms__new(void)
{
	struct ksyms *ks = xcalloc(1, sizeof(*ks));

	ks->next_intern = INTERN_BASE;
	ks->sorted = 1;
	return ks;
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	if (ks->loading)
		pthread_join(ks->loader, NULL);
	free(ks->syms);
	free(ks->arena);
	free(ks->lazy_path);
	free(ks->itab);
	free(ks);
}

static uint32_t arena_add(struct ksyms *ks, const char *s, size_t len)
{
	uint32_t at = (uint32_t)ks->arena_len;

	if (ks->arena_len + len + 1 > ks->arena_cap) {
		ks->arena_cap = (ks->arena_cap + len + 1) * 2;
		ks->arena = xrealloc(ks->arena, ks->arena_cap);
	}
	memcpy(ks->arena + ks->arena_len, s, len);
	ks->arena[ks->arena_len + len] = '\0';
	ks->arena_len += len + 1;
	return at;
}

static void add_len(struct ksyms *ks, uint64_t addr, const char *name, size_t len, int verbatim)
{
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 1024;
		ks->syms = xrealloc(ks->syms, ks->cap * sizeof(*ks->syms));
	}
	ks->syms[ks->n].addr = addr;
	ks->syms[ks->n].name = arena_add(ks, name, len);
	ks->syms[ks->n].verbatim = verbatim;
	if (ks->n && ks->syms[ks->n - 1].addr > addr)
		ks->sorted = 0;
	ks->n++;
}

void ksyms__add(struct ksyms *ks, uint64_t addr, const char *name, int verbatim)
{
	add_len(ks, addr, name, strlen(name), verbatim);
}

int ksyms__load_file(struct ksyms *ks, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *end, *name;
		uint64_t addr = strtoull(line, &end, 16);
		char type;
		size_t len;

		/* "addr type name": a line cut short must not pick up an earlier line's name. */
		if (end == line || *end != ' ' || !end[1] || end[2] != ' ')
			continue;
		type = end[1];
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		name = end + 3;
		len = strcspn(name, " \t\n");
		if (!addr || !len)
			continue;
		add_len(ks, addr, name, len, 0);
	}
	fclose(f);
	return 0;
}

void ksyms__set_lazy(struct ksyms *ks, const char *path)
{
	free(ks->lazy_path);
	ks->lazy_path = xstrdup(path);
}

static int cmp_sym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void load_lazy(struct ksyms *ks)
{
	if (ks->lazy_path) {
		char *path = ks->lazy_path;
		int err;

		ks->lazy_path = NULL;
		err = ksyms__load_file(ks, path);
		if (err)
			msg("cannot read %s: %s; stacks will show addresses", path, strerror(-err));
		else if (!ks->n)
			msg("%s lists no addresses (kernel.kptr_restrict?); stacks will show "
			    "addresses",
			    path);
		free(path);
	}
	if (!ks->sorted) {
		qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_sym);
		ks->sorted = 1;
	}
}

static void *load_thread(void *arg)
{
	load_lazy(arg);
	return NULL;
}

void ksyms__preload(struct ksyms *ks)
{
	if (ks->lazy_path && !ks->loading && !pthread_create(&ks->loader, NULL, load_thread, ks))
		ks->loading = 1;
}

static void ensure_ready(struct ksyms *ks)
{
	if (ks->loading) {
		pthread_join(ks->loader, NULL);
		ks->loading = 0;
	}
	load_lazy(ks);
}

static const struct ksym *find(struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi;

	ensure_ready(ks);
	hi = ks->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &ks->syms[lo - 1] : NULL;
}

/*
 * kallsyms gives no sizes: an address far past the nearest symbol below (a BPF JIT image or
 * trampoline on kernels that do not list them) is not inside it. No kernel function is
 * anywhere near this long.
 */
#define SYMBOL_SPAN_MAX 0x40000

static const struct ksym *lookup(struct ksyms *ks, uint64_t addr)
{
	const struct ksym *s = find(ks, addr);

	if (s && !s->verbatim && addr - s->addr >= SYMBOL_SPAN_MAX)
		return NULL;
	return s;
}

const char *ksyms__map_addr(struct ksyms *ks, uint64_t addr, uint64_t *off)
{
	const struct ksym *s = lookup(ks, addr);

	if (!s)
		return NULL;
	if (off)
		*off = addr - s->addr;
	return ks->arena + s->name;
}

int ksyms__format(struct ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	const struct ksym *s = lookup(ks, addr);
	int n;

	if (s && s->verbatim && s->addr == addr)
		n = snprintf(buf, len, "%s", ks->arena + s->name);
	else if (s && !s->verbatim)
		n = snprintf(buf, len, "%s+0x%" PRIx64, ks->arena + s->name, addr - s->addr);
	else
		n = snprintf(buf, len, "0x%" PRIx64, addr);
	if (n < 0)
		n = 0;
	return (size_t)n >= len ? (int)len - 1 : n;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The name behind an interned address: interned symbols are never sorted away from find(). */
static const char *interned_name(struct ksyms *ks, uint64_t addr)
{
	const struct ksym *s = find(ks, addr);

	return s && s->addr == addr ? ks->arena + s->name : "";
}

static void itab_put(struct ksyms *ks, uint64_t addr)
{
	size_t mask = ks->itab_cap - 1, i = hash_str(interned_name(ks, addr)) & mask;

	while (ks->itab[i])
		i = (i + 1) & mask;
	ks->itab[i] = addr;
	ks->itab_n++;
}

uint64_t ksyms__intern(struct ksyms *ks, const char *frame)
{
	uint64_t addr;
	size_t mask, i;

	if (ks->itab_cap) {
		mask = ks->itab_cap - 1;
		for (i = hash_str(frame) & mask; ks->itab[i]; i = (i + 1) & mask)
			if (!strcmp(interned_name(ks, ks->itab[i]), frame))
				return ks->itab[i];
	}
	if ((ks->itab_n + 1) * 2 > ks->itab_cap) {
		uint64_t *old = ks->itab;
		size_t old_cap = ks->itab_cap;

		ks->itab_cap = old_cap ? old_cap * 2 : 64;
		ks->itab = xcalloc(ks->itab_cap, sizeof(*ks->itab));
		ks->itab_n = 0;
		for (i = 0; i < old_cap; i++)
			if (old[i])
				itab_put(ks, old[i]);
		free(old);
	}
	addr = ks->next_intern;
	ks->next_intern += INTERN_STEP;
	ksyms__add(ks, addr, frame, 1);
	itab_put(ks, addr);
	return addr;
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
	/* Else skip the leading frames that are tracing machinery or not in kallsyms. */
	for (i = 0; i < n; i++) {
		const char *name = ksyms__map_addr(ks, frames[i], NULL);

		if (name && !is_machinery(name))
			break;
	}
	return i < n ? i : 0;
}
