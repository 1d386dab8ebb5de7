/* Kernel symbol lookup: a compact sorted table of text symbols, loaded from kallsyms early. */
#define _GNU_SOURCE /* mremap */
#include "sym/internal.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * One symbol in 8 bytes: the low half of its address and its name; the high
 * halves, shared by long runs of symbols (x86-64's kernel, modules and BPF
 * programs all have one), are kept once per run. A distribution kernel has
 * ~120k text symbols. Their names (~3 MB as text) are kept as token numbers:
 * a token is a run of separators and the word after it ("_rcv", ".cold"),
 * ~13k distinct ones for 120k names, so most names take 5-10 bytes (1.3 MB in
 * all, with the tokens). Everything lives in anonymous mappings that grow in
 * place (mremap): nothing is copied as they grow, the loader thread needs no
 * malloc arena, and only what is used is resident.
 */
struct ksym8 {
	uint32_t lo;
	uint32_t name; /* offset into the names */
};

struct run {
	uint32_t hi;
	uint32_t first; /* its first symbol */
};

/* A whole symbol: one out of address order, kept aside until sorted in; or a lookup's answer. */
struct ksym {
	uint64_t addr;
	uint32_t name;
} __attribute__((packed));

struct area {
	char *p;
	size_t len, cap;
};

struct ksyms {
	struct area syms; /* struct ksym8[n], by address */
	struct area runs; /* struct run[nruns]: the high halves */
	size_t nruns;
	uint64_t last; /* the highest address in syms */
	struct area aside; /* struct ksym[naside]: added below last, not yet sorted in */
	size_t naside;
	struct area names; /* each name: its token numbers (LEB128), then 0 */
	struct area toks; /* token texts, NUL-terminated, one after the other */
	struct area tokoff; /* uint32_t[ntoks + 1]: where token i's text starts (0 is no token) */
	struct area thash; /* uint32_t[]: open-addressing hash of the tokens' numbers, 0 = empty */
	uint32_t ntoks;
	char *dec; /* the name decoded last */
	size_t dec_cap;
	size_t n;
	struct ksym found; /* what find() answers */
	char *lazy_path; /* loaded on first lookup when set */
	int lazy_done;
	pthread_t loader; /* ksyms__preload's thread, joined before any lookup */
	int loading;
	uint64_t adds; /* symbols ever added: frame texts formatted before one may be stale */
	struct frames *frames; /* frame texts (frames.c), made on first use */
};

/* Room for more bytes at the end of an area; where they go. */
static char *area_room(struct area *a, size_t more)
{
	if (a->len + more > a->cap) {
		size_t cap = a->cap ? a->cap : 64 << 10;
		void *p;

		while (cap < a->len + more)
			cap *= 2;
		p = a->p ? mremap(a->p, a->cap, cap, MREMAP_MAYMOVE)
			 : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
				0);
		if (p == MAP_FAILED) {
			msg("out of memory for kernel symbols");
			abort();
		}
		a->p = p;
		a->cap = cap;
	}
	return a->p + a->len;
}

static void area_free(struct area *a)
{
	if (a->p)
		munmap(a->p, a->cap);
	a->p = NULL;
	a->len = a->cap = 0;
}

static struct ksym8 *sym(const struct ksyms *ks, size_t i)
{
	return (struct ksym8 *)ks->syms.p + i;
}

static const struct run *run(const struct ksyms *ks, size_t i)
{
	return (const struct run *)ks->runs.p + i;
}

static uint32_t tok_off(const struct ksyms *ks, uint32_t id)
{
	return ((const uint32_t *)ks->tokoff.p)[id];
}

/* A symbol's name, spelled out again; valid until the next one is. */
static const char *name_of(struct ksyms *ks, const struct ksym *s)
{
	const unsigned char *p = (const unsigned char *)ks->names.p + s->name;
	size_t used = 0;

	for (;;) {
		uint32_t id = 0;
		unsigned int shift = 0;
		const char *t;
		size_t tl;

		do
			id |= (uint32_t)(*p & 0x7f) << shift, shift += 7;
		while (*p++ & 0x80);
		if (!id || id > ks->ntoks)
			break;
		t = ks->toks.p + tok_off(ks, id);
		tl = strlen(t);
		if (used + tl + 1 > ks->dec_cap) {
			ks->dec_cap = (used + tl + 1) * 2;
			ks->dec = xrealloc(ks->dec, ks->dec_cap);
		}
		memcpy(ks->dec + used, t, tl);
		used += tl;
	}
	if (!ks->dec_cap) {
		ks->dec_cap = 64;
		ks->dec = xmalloc(ks->dec_cap);
	}
	ks->dec[used] = '\0';
	return ks->dec;
}

struct ksyms *ksyms__new(void)
{
	return xcalloc(1, sizeof(struct ksyms));
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	if (ks->loading)
		pthread_join(ks->loader, NULL);
	area_free(&ks->syms);
	area_free(&ks->runs);
	area_free(&ks->aside);
	area_free(&ks->names);
	area_free(&ks->toks);
	area_free(&ks->tokoff);
	area_free(&ks->thash);
	free(ks->dec);
	free(ks->lazy_path);
	frames__free(ks->frames);
	free(ks);
}

/* Double the token hash (at half full): a fresh zeroed mapping, every token put in again. */
static void thash_grow(struct ksyms *ks)
{
	struct area old = ks->thash;
	size_t cap = old.cap ? old.cap * 2 : 64 << 10;
	uint32_t *tab, mask;

	ks->thash = (struct area){ 0 };
	tab = (uint32_t *)area_room(&ks->thash, cap);
	ks->thash.len = cap;
	mask = (uint32_t)(ks->thash.cap / sizeof(uint32_t)) - 1;
	for (uint32_t id = 1; id <= ks->ntoks; id++) {
		const char *t = ks->toks.p + tok_off(ks, id);
		uint32_t i = fnv1a32(t, strlen(t)) & mask;

		while (tab[i])
			i = (i + 1) & mask;
		tab[i] = id;
	}
	area_free(&old);
}

/* The number of a token, given one if it is new. */
static uint32_t token(struct ksyms *ks, const char *s, size_t len)
{
	uint32_t *tab, mask, i, id, off;
	char *dst;

	if ((ks->ntoks + 1) * 2 * sizeof(uint32_t) > ks->thash.len)
		thash_grow(ks);
	tab = (uint32_t *)ks->thash.p;
	mask = (uint32_t)(ks->thash.cap / sizeof(uint32_t)) - 1;
	for (i = fnv1a32(s, len) & mask; (id = tab[i]); i = (i + 1) & mask) {
		const char *t = ks->toks.p + tok_off(ks, id);

		if (!strncmp(t, s, len) && !t[len])
			return id;
	}
	if (!ks->tokoff.len) {
		memset(area_room(&ks->tokoff, sizeof(uint32_t)), 0, sizeof(uint32_t));
		ks->tokoff.len = sizeof(uint32_t);
	}
	off = (uint32_t)ks->toks.len;
	memcpy(area_room(&ks->tokoff, sizeof(off)), &off, sizeof(off));
	ks->tokoff.len += sizeof(off);
	dst = area_room(&ks->toks, len + 1);
	memcpy(dst, s, len);
	dst[len] = '\0';
	ks->toks.len += len + 1;
	tab[i] = id = ++ks->ntoks;
	return id;
}

static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static void put_number(struct ksyms *ks, uint32_t v)
{
	unsigned char *dst = (unsigned char *)area_room(&ks->names, 5);
	size_t n = 0;

	do {
		dst[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	ks->names.len += n;
}

/* One more symbol at the end of the table, in address order. */
static void append(struct ksyms *ks, uint64_t addr, uint32_t name)
{
	struct ksym8 *e = (struct ksym8 *)area_room(&ks->syms, sizeof(*e));
	uint32_t hi = (uint32_t)(addr >> 32);

	if (!ks->nruns || run(ks, ks->nruns - 1)->hi != hi) {
		struct run *r = (struct run *)area_room(&ks->runs, sizeof(*r));

		r->hi = hi;
		r->first = (uint32_t)ks->n;
		ks->runs.len += sizeof(*r);
		ks->nruns++;
	}
	e->lo = (uint32_t)addr;
	e->name = name;
	ks->syms.len += sizeof(*e);
	ks->last = addr;
	ks->n++;
}

/* A name no longer than the kernel's longest: frame texts then fit KSYMS_FRAME_MAX. */
static void add_len(struct ksyms *ks, uint64_t addr, const char *name, size_t len)
{
	uint32_t at = (uint32_t)ks->names.len;
	size_t i = 0;

	if (len > KSYMS_NAME_MAX)
		len = KSYMS_NAME_MAX;

	while (i < len) {
		size_t start = i;

		while (i < len && !is_word((unsigned char)name[i]))
			i++;
		while (i < len && is_word((unsigned char)name[i]))
			i++;
		put_number(ks, token(ks, name + start, i - start));
	}
	put_number(ks, 0);
	ks->adds++;
	if (!ks->n || addr >= ks->last) {
		append(ks, addr, at);
	} else {
		struct ksym *s = (struct ksym *)area_room(&ks->aside, sizeof(*s));

		s->addr = addr;
		s->name = at;
		ks->aside.len += sizeof(*s);
		ks->naside++;
	}
}

void ksyms__add(struct ksyms *ks, uint64_t addr, const char *name)
{
	add_len(ks, addr, name, strlen(name));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One "addr type name[\t[module]]" line, without its newline: text symbols only. */
static void parse_line(struct ksyms *ks, const char *line, size_t len)
{
	const char *end = line + len, *p = line, *name;
	uint64_t addr = 0;
	size_t nlen = 0;
	int v;

	while (p < end && (v = hexval((unsigned char)*p)) >= 0) {
		addr = addr << 4 | (uint64_t)v;
		p++;
	}
	if (p == line || p - line > 16 || end - p < 4 || p[0] != ' ' || p[2] != ' ')
		return;
	if (p[1] != 't' && p[1] != 'T' && p[1] != 'w' && p[1] != 'W')
		return;
	name = p + 3;
	while (name + nlen < end && name[nlen] != ' ' && name[nlen] != '\t')
		nlen++;
	if (addr && nlen)
		add_len(ks, addr, name, nlen);
}

int ksyms__load_file(struct ksyms *ks, const char *path)
{
	/* On the stack: the loader thread then needs no malloc arena of its own. */
	char buf[64 << 10];
	size_t have = 0;
	int skipping = 0, err = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* Big reads: kallsyms answers each with as many whole lines as fit. */
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		char *p = buf, *end, *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0) {
			if (have && !skipping)
				parse_line(ks, buf, have);
			break;
		}
		end = buf + have + r;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			if (!skipping)
				parse_line(ks, p, (size_t)(nl - p));
			skipping = 0;
			p = nl + 1;
		}
		have = (size_t)(end - p);
		if (have == sizeof(buf)) {
			/* A line longer than the buffer is no symbol of ours: drop it whole. */
			skipping = 1;
			have = 0;
		}
		memmove(buf, p, have);
	}
	close(fd);
	return err;
}

void ksyms__set_lazy(struct ksyms *ks, const char *path)
{
	free(ks->lazy_path);
	ks->lazy_path = xstrdup(path);
	ks->lazy_done = 0;
}

static void swap_syms(struct ksym *a, struct ksym *b)
{
	struct ksym t = *a;

	*a = *b;
	*b = t;
}

/* In place: the loader thread allocates nothing (qsort would: a copy of the whole table). */
static void heapsort_syms(struct ksym *v, size_t n)
{
	for (size_t end = n, start = n / 2;;) {
		size_t root, child;

		if (start > 0) {
			root = --start;
		} else if (end > 1) {
			swap_syms(&v[0], &v[--end]);
			root = 0;
		} else {
			return;
		}
		while ((child = 2 * root + 1) < end) {
			if (child + 1 < end && v[child].addr < v[child + 1].addr)
				child++;
			if (v[root].addr >= v[child].addr)
				break;
			swap_syms(&v[root], &v[child]);
			root = child;
		}
	}
}

/* The full address of symbol i, its run found from ri (a run at or after i's) down. */
static uint64_t addr_at(const struct ksyms *ks, size_t i, size_t *ri)
{
	while (run(ks, *ri)->first > i)
		(*ri)--;
	return (uint64_t)run(ks, *ri)->hi << 32 | sym(ks, i)->lo;
}

/*
 * kallsyms lists the kernel's own symbols by address, then BPF programs and
 * trampolines (and modules' symbols) in no order: those below the highest so
 * far were kept aside. Sort them, in place (qsort would allocate a copy),
 * and merge them in from the back; the runs are made anew as it goes.
 */
static void merge_aside(struct ksyms *ks)
{
	struct ksym *t = (struct ksym *)ks->aside.p;
	size_t i = ks->n, j = ks->naside, w = ks->n + ks->naside, ri = ks->nruns - 1, nr = 0;
	struct area runs = { 0 };
	struct run *r;
	uint32_t hi = 0;

	if (!j)
		return;
	heapsort_syms(t, j);
	area_room(&ks->syms, j * sizeof(struct ksym8));
	while (w > 0) {
		uint64_t from = i ? addr_at(ks, i - 1, &ri) : 0;
		struct ksym take;

		if (i && (!j || from > t[j - 1].addr)) {
			take.addr = from;
			take.name = sym(ks, --i)->name;
		} else {
			take = t[--j];
		}
		w--;
		sym(ks, w)->lo = (uint32_t)take.addr;
		sym(ks, w)->name = take.name;
		/* Runs come out last first: each is closed when the one below it begins. */
		if (nr && hi != (uint32_t)(take.addr >> 32))
			((struct run *)runs.p)[nr - 1].first = (uint32_t)w + 1;
		if (!nr || hi != (uint32_t)(take.addr >> 32)) {
			r = (struct run *)area_room(&runs, sizeof(*r));
			r->hi = hi = (uint32_t)(take.addr >> 32);
			runs.len += sizeof(*r);
			nr++;
		}
	}
	((struct run *)runs.p)[nr - 1].first = 0;
	r = (struct run *)runs.p;
	for (size_t a = 0, b = nr - 1; a < b; a++, b--) {
		struct run x = r[a];

		r[a] = r[b];
		r[b] = x;
	}
	ks->n += ks->naside;
	ks->syms.len = ks->n * sizeof(struct ksym8);
	area_free(&ks->runs);
	ks->runs = runs;
	ks->nruns = nr;
	ri = nr - 1;
	ks->last = addr_at(ks, ks->n - 1, &ri);
	area_free(&ks->aside);
	ks->naside = 0;
}

static void load_lazy(struct ksyms *ks)
{
	/* Nothing here frees or allocates: the loader thread gets no malloc arena. */
	if (ks->lazy_path && !ks->lazy_done) {
		const char *path = ks->lazy_path;
		int err;

		ks->lazy_done = 1;
		err = ksyms__load_file(ks, path);
		if (err)
			msg("cannot read %s: %s; stacks will show addresses", path, strerror(-err));
		else if (!ks->n)
			msg("%s lists no addresses: naming kernel frames needs CAP_SYSLOG (and "
			    "kernel.kptr_restrict below 2); stacks will show addresses",
			    path);
	}
	merge_aside(ks);
}

static void *load_thread(void *arg)
{
	struct ksyms *ks = arg;

	/*
	 * Ahead of the storm, if there is one: the first stack printed waits for
	 * this table while the rings fill. Started 1 s into a storm, then 2 s of
	 * default output (1 and 2 senders, 8 runs each on a busy machine): at nice
	 * 10 until attached, 5 of 8 runs lost events (up to 25k); at nice 0, 6 of
	 * 8; at -5 from the start, 1 of 8 (4k). Attaching during a storm then
	 * takes 55-204 ms instead of 43-138; on an idle machine it is the same.
	 */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), -5))
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 0);
	load_lazy(ks);
	return NULL;
}

void ksyms__preload(struct ksyms *ks)
{
	if (ks->lazy_path && !ks->lazy_done && !ks->loading &&
	    !pthread_create(&ks->loader, NULL, load_thread, ks))
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

/* The symbol at or below addr, spelled out in ks->found; NULL when none. */
static const struct ksym *find(struct ksyms *ks, uint64_t addr)
{
	uint32_t hi = (uint32_t)(addr >> 32), lo = (uint32_t)addr;
	size_t a = 0, b, ri, end, idx;

	ensure_ready(ks);
	b = ks->nruns;
	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (run(ks, mid)->hi <= hi)
			a = mid + 1;
		else
			b = mid;
	}
	if (!a)
		return NULL;
	ri = a - 1;
	end = ri + 1 < ks->nruns ? run(ks, ri + 1)->first : ks->n;
	if (run(ks, ri)->hi < hi) {
		idx = end - 1; /* the whole run is below */
	} else {
		a = run(ks, ri)->first;
		b = end;
		while (a < b) {
			size_t mid = a + (b - a) / 2;

			if (sym(ks, mid)->lo <= lo)
				a = mid + 1;
			else
				b = mid;
		}
		if (a == run(ks, ri)->first) {
			/* Below the run's first symbol: the previous run's last, if any. */
			if (!ri)
				return NULL;
			ri--;
		}
		idx = a - 1;
	}
	ks->found.addr = (uint64_t)run(ks, ri)->hi << 32 | sym(ks, idx)->lo;
	ks->found.name = sym(ks, idx)->name;
	return &ks->found;
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

	if (s && addr - s->addr >= SYMBOL_SPAN_MAX)
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
	return name_of(ks, s);
}

int ksyms__text(struct ksyms *ks, uint64_t addr, int flags, char *buf, size_t len, int *known)
{
	/* The symbol holding the call, for a return address; 0 - 1 is no address at all. */
	const struct ksym *s = flags & KSYMS_RET && addr ? lookup(ks, addr - 1) : lookup(ks, addr);
	int n;

	*known = s != NULL;
	if (s)
		n = snprintf(buf, len, "%s+0x%" PRIx64, name_of(ks, s), addr - s->addr);
	else if (flags & KSYMS_NO_ADDR)
		n = snprintf(buf, len, "%s", KSYMS_UNKNOWN);
	else
		n = snprintf(buf, len, "0x%" PRIx64, addr);
	if (n < 0)
		n = 0;
	return (size_t)n >= len ? (int)len - 1 : n;
}

int ksyms__format(struct ksyms *ks, uint64_t addr, int flags, char *buf, size_t len)
{
	int known;

	return ksyms__text(ks, addr, flags, buf, len, &known);
}

struct frames *ksyms__frames(struct ksyms *ks)
{
	if (!ks->frames)
		ks->frames = frames__new();
	return ks->frames;
}

uint64_t ksyms__adds(const struct ksyms *ks)
{
	return ks->adds;
}
