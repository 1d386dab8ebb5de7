/* Drop-reason and TCP-state names from the running kernel's BTF, never from a built-in table. */
#include "sym/sym.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REASON_PREFIX "SKB_DROP_REASON_"
#define SUBSYS_PREFIX "SKB_DROP_REASON_SUBSYS_"
#define MAX_CORE_REASONS 65536
#define MAX_STATES 32

struct sub_reason {
	uint32_t code;
	char *name;
};

struct names {
	char **reasons; /* core reasons, by code */
	uint32_t nreasons;
	char *states[MAX_STATES];
	char **subsys; /* subsystem names, by id */
	uint32_t nsubsys;
	struct sub_reason *subs; /* subsystem reasons found so far */
	size_t nsubs;
	int subs_scanned;
	int from_kernel;
	/* Who was hurt, as a -w file recorded it (names__set_owner): open addressing by key. */
	struct rec_owner *owners;
	uint32_t owners_cap, owners_n;
	unsigned int owners_gen;
};

struct rec_owner {
	uint64_t key; /* 0: empty */
	char *names; /* NAMES__OWNER_FIELDS strings, each ended by a NUL */
};

#define MAX_REC_OWNERS 65536

struct names *names__new(void)
{
	return xcalloc(1, sizeof(struct names));
}

void names__free(struct names *nm)
{
	if (!nm)
		return;
	for (uint32_t i = 0; i < nm->nreasons; i++)
		free(nm->reasons[i]);
	free(nm->reasons);
	for (int i = 0; i < MAX_STATES; i++)
		free(nm->states[i]);
	for (uint32_t i = 0; i < nm->nsubsys; i++)
		free(nm->subsys[i]);
	free(nm->subsys);
	for (size_t i = 0; i < nm->nsubs; i++)
		free(nm->subs[i].name);
	free(nm->subs);
	for (uint32_t i = 0; i < nm->owners_cap; i++)
		free(nm->owners[i].names);
	free(nm->owners);
	free(nm);
}

/* A cgroup id or netns inode as one key: inode numbers leave the top bit free. */
static uint64_t owner_key(int netns, uint64_t id)
{
	return netns ? id | 1ULL << 63 : id;
}

static struct rec_owner *owner_slot(struct rec_owner *t, uint32_t cap, uint64_t key)
{
	uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);

	while (t[i].key && t[i].key != key)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

int names__set_owner(struct names *nm, int netns, uint64_t id, const char *names, size_t len)
{
	uint64_t key = owner_key(netns, id);
	struct rec_owner *o;

	if (!id)
		return -EINVAL;
	if ((nm->owners_n + 1) * 2 > nm->owners_cap) {
		uint32_t cap = nm->owners_cap ? nm->owners_cap * 2 : 64;
		struct rec_owner *t;

		if (nm->owners_n >= MAX_REC_OWNERS)
			return -ENOSPC;
		t = xcalloc(cap, sizeof(*t));
		for (uint32_t i = 0; i < nm->owners_cap; i++)
			if (nm->owners[i].key)
				*owner_slot(t, cap, nm->owners[i].key) = nm->owners[i];
		free(nm->owners);
		nm->owners = t;
		nm->owners_cap = cap;
	}
	o = owner_slot(nm->owners, nm->owners_cap, key);
	if (!o->key)
		nm->owners_n++;
	o->key = key;
	free(o->names);
	o->names = xmalloc(len);
	memcpy(o->names, names, len);
	nm->owners_gen++;
	return 0;
}

const char *names__owner(const struct names *nm, int netns, uint64_t id)
{
	const struct rec_owner *o;

	if (!nm->owners_cap || !id)
		return NULL;
	o = owner_slot(nm->owners, nm->owners_cap, owner_key(netns, id));
	return o->key ? o->names : NULL;
}

unsigned int names__owners_gen(const struct names *nm)
{
	return nm->owners_gen;
}

static void set_name(char **slot, const char *name)
{
	free(*slot);
	*slot = xstrdup(name);
}

static void add_sub(struct names *nm, uint32_t code, const char *name)
{
	for (size_t i = 0; i < nm->nsubs; i++)
		if (nm->subs[i].code == code) {
			set_name(&nm->subs[i].name, name);
			return;
		}
	nm->subs = xrealloc(nm->subs, (nm->nsubs + 1) * sizeof(*nm->subs));
	nm->subs[nm->nsubs].code = code;
	nm->subs[nm->nsubs].name = xstrdup(name);
	nm->nsubs++;
}

void names__set_reason(struct names *nm, uint32_t code, const char *name)
{
	if (code >= MAX_CORE_REASONS) {
		add_sub(nm, code, name);
		return;
	}
	if (code >= nm->nreasons) {
		uint32_t n = code + 1;

		nm->reasons = xrealloc(nm->reasons, n * sizeof(*nm->reasons));
		memset(nm->reasons + nm->nreasons, 0, (n - nm->nreasons) * sizeof(*nm->reasons));
		nm->nreasons = n;
	}
	set_name(&nm->reasons[code], name);
}

void names__set_state(struct names *nm, unsigned int code, const char *name)
{
	if (code < MAX_STATES)
		set_name(&nm->states[code], name);
}

static void set_subsys(struct names *nm, uint32_t id, const char *name)
{
	if (id >= nm->nsubsys) {
		nm->subsys = xrealloc(nm->subsys, (id + 1) * sizeof(*nm->subsys));
		memset(nm->subsys + nm->nsubsys, 0, (id + 1 - nm->nsubsys) * sizeof(*nm->subsys));
		nm->nsubsys = id + 1;
	}
	set_name(&nm->subsys[id], name);
}

/* The anonymous enum that holds TCP_ESTABLISHED: the kernel's TCP states. */
static int states_from_btf(struct names *nm, const struct kbtf *btf)
{
	for (uint32_t id = kbtf__first_id(btf); id < kbtf__end_id(btf); id++) {
		int found = 0, n;

		if (kbtf__kind(btf, id) != KBTF_ENUM || *kbtf__name(btf, id))
			continue;
		n = kbtf__vlen(btf, id);
		for (int i = 0; i < n && !found; i++)
			found = !strcmp(kbtf__enum_name(btf, id, i), "TCP_ESTABLISHED");
		if (!found)
			continue;
		for (int i = 0; i < n; i++) {
			const char *s = kbtf__enum_name(btf, id, i);

			if (!strncmp(s, "TCP_", 4) && strcmp(s, "TCP_MAX_STATES"))
				names__set_state(nm, (unsigned int)kbtf__enum_value(btf, id, i),
						 s + 4);
		}
		return 0;
	}
	return -ENOENT;
}

static void states_fallback(struct names *nm)
{
	/* The numbering in include/net/tcp_states.h, unchanged since 2.6 (only appended to). */
	static const char *const st[] = {
		NULL,	     "ESTABLISHED", "SYN_SENT",	    "SYN_RECV",	      "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT",   "CLOSE",	    "CLOSE_WAIT",     "LAST_ACK",
		"LISTEN",    "CLOSING",	    "NEW_SYN_RECV", "BOUND_INACTIVE",
	};

	for (unsigned int i = 1; i < ARRAY_SIZE(st); i++)
		names__set_state(nm, i, st[i]);
}

/* Each enumerator of a named enum, its prefix stripped, to fn. */
static int each_enumerator(struct names *nm, const struct kbtf *btf, const char *enum_name,
			   const char *prefix, void (*fn)(struct names *, uint32_t, const char *))
{
	uint32_t id = kbtf__find(btf, enum_name, KBTF_ENUM);
	size_t plen = strlen(prefix);

	if (!id)
		return -ENOENT;
	for (int i = 0; i < kbtf__vlen(btf, id); i++) {
		const char *s = kbtf__enum_name(btf, id, i);

		if (!strncmp(s, prefix, plen))
			s += plen;
		fn(nm, (uint32_t)kbtf__enum_value(btf, id, i), s);
	}
	return 0;
}

/*
 * A reason, not SKB_DROP_REASON_MAX: that one bounds the enum (no packet is dropped with it), yet
 * BTF and the tracepoint's format (6.18) both list it.
 */
static void set_reason_cb(struct names *nm, uint32_t code, const char *name)
{
	if (strcmp(name, "MAX"))
		names__set_reason(nm, code, name);
}

static int reasons_from_btf(struct names *nm, const struct kbtf *btf)
{
	if (each_enumerator(nm, btf, "skb_drop_reason", REASON_PREFIX, set_reason_cb))
		return -ENOENT;
	each_enumerator(nm, btf, "skb_drop_reason_subsys", SUBSYS_PREFIX, set_subsys);
	return 0;
}

int names__load_format(struct names *nm, const char *text)
{
	const char *p = strstr(text, "__print_symbolic(");
	int n = 0;

	if (!p)
		return -ENOENT;
	for (;;) {
		char name[128];
		unsigned long code;
		int used = 0;

		p = strchr(p, '{');
		if (!p)
			break;
		if (sscanf(p, "{ %lu , \"%127[^\"]\" }%n", &code, name, &used) < 2 || !used) {
			p++;
			continue;
		}
		set_reason_cb(nm, (uint32_t)code, name);
		n++;
		p += used;
	}
	return n ? 0 : -ENOENT;
}

static int reasons_from_format(struct names *nm)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/skb/kfree_skb/format",
		"/sys/kernel/debug/tracing/events/skb/kfree_skb/format",
	};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		char *text = read_file(paths[i], 1 << 20, NULL);
		int err;

		if (!text)
			continue;
		err = names__load_format(nm, text);
		free(text);
		if (!err)
			return 0;
	}
	return -ENOENT;
}

int names__load_kernel(struct names *nm, const struct kbtf *btf)
{
	struct kbtf *own = NULL;
	int err;

	if (!btf)
		btf = own = kbtf__open("/sys/kernel/btf/vmlinux", NULL);
	err = btf ? reasons_from_btf(nm, btf) : -ENOENT;
	if (err) {
		vmsg("no enum skb_drop_reason in BTF; reading the tracepoint format");
		err = reasons_from_format(nm);
	}
	if (!btf || states_from_btf(nm, btf))
		states_fallback(nm);
	kbtf__free(own);
	nm->from_kernel = 1;
	return err;
}

/* Subsystem reasons live in enums of their own, often in a module's BTF. */
static void scan_enums(struct names *nm, const struct kbtf *btf)
{
	for (uint32_t id = kbtf__first_id(btf); id < kbtf__end_id(btf); id++) {
		const char *tname;

		if (kbtf__kind(btf, id) != KBTF_ENUM)
			continue;
		tname = kbtf__name(btf, id);
		if (!strstr(tname, "drop_reason") || !strcmp(tname, "skb_drop_reason") ||
		    !strcmp(tname, "skb_drop_reason_subsys"))
			continue;
		for (int i = 0; i < kbtf__vlen(btf, id); i++)
			if ((uint32_t)kbtf__enum_value(btf, id, i) >= MAX_CORE_REASONS)
				add_sub(nm, (uint32_t)kbtf__enum_value(btf, id, i),
					kbtf__enum_name(btf, id, i));
	}
}

static void scan_subsystems(struct names *nm)
{
	struct kbtf *vmlinux = kbtf__open("/sys/kernel/btf/vmlinux", NULL);
	DIR *d;
	struct dirent *de;

	nm->subs_scanned = 1;
	if (!vmlinux)
		return;
	scan_enums(nm, vmlinux);
	d = opendir("/sys/kernel/btf");
	while (d && (de = readdir(d))) {
		char path[512];
		struct kbtf *mod;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", de->d_name);
		mod = kbtf__open(path, vmlinux);
		if (!mod)
			continue;
		scan_enums(nm, mod);
		kbtf__free(mod);
	}
	if (d)
		closedir(d);
	kbtf__free(vmlinux);
}

const char *names__reason(struct names *nm, uint32_t code)
{
	if (code < MAX_CORE_REASONS)
		return code < nm->nreasons ? nm->reasons[code] : NULL;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nm->nsubs; i++)
			if (nm->subs[i].code == code)
				return nm->subs[i].name;
		if (nm->subs_scanned || !nm->from_kernel)
			break;
		scan_subsystems(nm);
	}
	return NULL;
}

const char *names__state(struct names *nm, unsigned int code)
{
	return code < MAX_STATES ? nm->states[code] : NULL;
}

int64_t names__reason_code(struct names *nm, const char *name)
{
	if (!strncasecmp(name, REASON_PREFIX, strlen(REASON_PREFIX)))
		name += strlen(REASON_PREFIX);
	for (uint32_t i = 0; i < nm->nreasons; i++)
		if (nm->reasons[i] && !strcasecmp(nm->reasons[i], name))
			return i;
	/* A reason tcpdrop names, "NAME (tcpdrop)", by its first word too: a shell's completion
	 * and --list-reasons' readers take that one. */
	for (uint32_t i = 0; i < nm->nreasons; i++) {
		const char *r = nm->reasons[i];
		size_t len = strlen(name);

		if (r && !strncasecmp(r, name, len) && !strcmp(r + len, " (tcpdrop)"))
			return i;
	}
	return -1;
}

int64_t names__next_reason(struct names *nm, int64_t pos)
{
	for (int64_t i = pos + 1; i < nm->nreasons; i++)
		if (nm->reasons[i])
			return i;
	return -1;
}

/*
 * Closest known reason to a misspelt one (case aside), NULL if none is a likely typo: fewer
 * edits than half the name's length plus one, at most two (lua/runtime.lua's closest() bound,
 * for fields and hooks): three edits of a three-letter word are another word (FOO is not XDP).
 */
static const char *nearest_reason(struct names *nm, const char *name)
{
	const char *best = NULL;
	size_t best_d = strlen(name) / 2 + 1;

	if (best_d > 3)
		best_d = 3;

	for (int64_t c = names__next_reason(nm, -1); c >= 0; c = names__next_reason(nm, c)) {
		const char *r = names__reason(nm, (uint32_t)c);
		size_t la = strlen(name), lb = strlen(r), d;
		size_t prev[64], cur[64];

		if (la >= 63 || lb >= 63)
			continue;
		for (size_t j = 0; j <= lb; j++)
			prev[j] = j;
		for (size_t i = 1; i <= la; i++) {
			cur[0] = i;
			for (size_t j = 1; j <= lb; j++) {
				size_t sub =
					prev[j - 1] + ((name[i - 1] & ~0x20) != (r[j - 1] & ~0x20));
				size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

				cur[j] = sub < del ? (sub < ins ? sub : ins)
						   : (del < ins ? del : ins);
			}
			memcpy(prev, cur, (lb + 1) * sizeof(size_t));
		}
		d = prev[lb];
		if (d < best_d) {
			best_d = d;
			best = r;
		}
	}
	return best;
}

int names__resolve_list(struct names *nm, const char *opt, const char *list, const char *source,
			uint32_t *codes, uint8_t *n, unsigned int max)
{
	char *save = NULL, *tok, *copy;
	int ret = 0;

	if (!list)
		return 0;
	copy = xstrdup(list);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int64_t code = names__reason_code(nm, tok);

		if (code < 0) {
			const char *near = nearest_reason(nm, tok);

			if (names__next_reason(nm, -1) < 0)
				msg("%s: %s no drop reason '%s' (it names none)", opt, source, tok);
			else
				msg("%s: %s no drop reason '%s'%s%s%s", opt, source, tok,
				    near ? " (did you mean " : "", near ? near : "",
				    near ? "?)" : "");
			ret = -EINVAL;
			break;
		}
		if (*n >= max) {
			msg("%s: at most %u reasons", opt, max);
			ret = -EINVAL;
			break;
		}
		codes[(*n)++] = (uint32_t)code;
	}
	free(copy);
	return ret;
}

void names__print_reasons(struct names *nm, FILE *out)
{
	for (int64_t c = names__next_reason(nm, -1); c >= 0; c = names__next_reason(nm, c))
		fprintf(out, "%-32s %lld\n", names__reason(nm, (uint32_t)c), (long long)c);
}
