/*
 * Counting in the kernel, the user-space side: flip the probe's generation, wait out the runs
 * that may still update the old one, move its counts into a bounded pending set per table and
 * clear it; hand the pending counts out at each take.
 *
 * Lossless by construction: the probe reads the generation once per drop and adds to that
 * generation's table, its per-CPU cache in front of it, or its overflow slot. After the flip and an
 * RCU grace period (every BPF tracing program runs inside an RCU read-side section, or with
 * preemption off), no run can still be adding to the old generation, so what is read from it is
 * final; it is cleared before the next flip makes it current again. Every increment is thus read
 * exactly once.
 *
 * A table holds max_keys keys per collect: those the kernel's table took, then those only its
 * cache held, while there is room (admitted in this collect); the others' drops are overflow.
 */
#include "kernel/internal.h"
#include "util/util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

const struct kcount_field kcount_fields[KCOUNT_NFIELDS] = {
	{ "reason", TCPDROP_KC_REASON }, { "state", TCPDROP_KC_STATE },
	{ "flags", TCPDROP_KC_FLAGS },	 { "family", TCPDROP_KC_FAMILY },
	{ "saddr", TCPDROP_KC_SADDR },	 { "daddr", TCPDROP_KC_DADDR },
	{ "sport", TCPDROP_KC_SPORT },	 { "dport", TCPDROP_KC_DPORT },
	{ "netns", TCPDROP_KC_NETNS },	 { "ifindex", TCPDROP_KC_IFINDEX },
	{ "cpu", TCPDROP_KC_CPU },	 { "cgroup", TCPDROP_KC_CGROUP },
};

#define BATCH_KEYS 256

/* One key of a pending set; count 0: the slot is free. */
struct pend {
	struct tcpdrop_kkey key;
	uint64_t count;
	uint64_t bytes;
	uint32_t epoch; /* the collect that last admitted it */
};

struct ktable {
	int fd[2]; /* the two generations */
	uint32_t max_keys;
	struct pend *slots; /* open addressing, a power of two, at most half full */
	size_t cap;
	size_t used;
	size_t bound; /* keys pending at most */
	uint64_t over_count; /* drops whose key found no room, since the last take */
	uint64_t over_bytes;
	uint32_t admitted; /* distinct keys of this collect */
};

struct kcount {
	struct ktable t[TCPDROP_KC_MAX_TABLES];
	unsigned int n;
	int ncpus;
	int gen_fd;
	int over_fd;
	uint32_t gen; /* the generation the probe counts into */
	int cache_fd; /* the probe's per-CPU caches in front of the tables */
	uint32_t epoch; /* collects made */
	int no_batch; /* the kernel has no batch ops for per-CPU hashes (before 5.6) */
	struct tcpdrop_kkey *keys; /* BATCH_KEYS keys and their per-CPU values */
	struct tcpdrop_kval *vals;
	struct tcpdrop_kslot *slots; /* one cache slot's per-CPU values */
	struct tcpdrop_kslot *zeros;
};

struct kcount *kcount__new(const struct kcount_spec *spec, unsigned int n, int ncpus,
			   const int fds[][2], int gen_fd, int over_fd, int cache_fd)
{
	struct kcount *kc = xcalloc(1, sizeof(*kc));
	size_t slot = sizeof(struct tcpdrop_kslot) * (size_t)ncpus;

	kc->n = n;
	kc->ncpus = ncpus;
	kc->gen_fd = gen_fd;
	kc->over_fd = over_fd;
	kc->cache_fd = cache_fd;
	for (unsigned int i = 0; i < n; i++) {
		struct ktable *t = &kc->t[i];

		t->fd[0] = fds[i][0];
		t->fd[1] = fds[i][1];
		t->max_keys = kcount__max_keys(&spec[i]);
		/* Room for two collects' worth between takes: a take per tick needs one. */
		t->bound = (size_t)t->max_keys * 2;
		t->cap = 16;
		while (t->cap < t->bound * 2)
			t->cap *= 2;
		t->slots = xcalloc(t->cap, sizeof(*t->slots));
	}
	kc->keys = xcalloc(BATCH_KEYS, sizeof(*kc->keys));
	kc->vals = xcalloc((size_t)BATCH_KEYS * (size_t)ncpus, sizeof(*kc->vals));
	kc->slots = xcalloc(1, slot);
	kc->zeros = xcalloc(1, slot);
	return kc;
}

void kcount__free(struct kcount *kc)
{
	if (!kc)
		return;
	for (unsigned int i = 0; i < kc->n; i++)
		free(kc->t[i].slots);
	free(kc->keys);
	free(kc->vals);
	free(kc->slots);
	free(kc->zeros);
	free(kc);
}

uint32_t kcount__max_keys(const struct kcount_spec *s)
{
	return s->max_keys ? s->max_keys : KCOUNT_DEFAULT_KEYS;
}

/*
 * Add one key's counts to the pending set in collect `epoch` (0: a take putting keys back). A
 * key from a cache (capped) is admitted only while this collect has had fewer than max_keys
 * keys; any key, only while the set is below its bound. Else its drops are overflow.
 */
static void pend_add(struct ktable *t, const struct tcpdrop_kkey *k, uint64_t count, uint64_t bytes,
		     uint32_t epoch, int capped)
{
	size_t mask = t->cap - 1, i = fnv1a32(k, sizeof(*k)) & mask;
	struct pend *p;

	if (!count)
		return;
	while (t->slots[i].count && memcmp(&t->slots[i].key, k, sizeof(*k)))
		i = (i + 1) & mask;
	p = &t->slots[i];
	if (epoch && (!p->count || p->epoch != epoch)) {
		if (capped && t->admitted >= t->max_keys)
			goto over;
		t->admitted++;
	}
	if (!p->count) {
		if (t->used >= t->bound)
			goto over;
		p->key = *k;
		p->bytes = 0;
		t->used++;
	}
	if (epoch)
		p->epoch = epoch;
	p->count += count;
	p->bytes += bytes;
	return;
over:
	t->over_count += count;
	t->over_bytes += bytes;
}

/* A key's per-CPU values, summed, into the pending set. */
static void pend_percpu(struct kcount *kc, struct ktable *t, const struct tcpdrop_kkey *k,
			const struct tcpdrop_kval *v)
{
	uint64_t count = 0, bytes = 0;

	for (int c = 0; c < kc->ncpus; c++) {
		count += v[c].count;
		bytes += v[c].bytes;
	}
	pend_add(t, k, count, bytes, kc->epoch, 0);
}

/* Without batch ops: one key at a time, each deleted once read. */
static int drain_each(struct kcount *kc, struct ktable *t, int fd)
{
	struct tcpdrop_kkey *k = kc->keys;

	while (!bpf_map_get_next_key(fd, NULL, k)) {
		if (!bpf_map_lookup_elem(fd, k, kc->vals))
			pend_percpu(kc, t, k, kc->vals);
		if (bpf_map_delete_elem(fd, k) && errno != ENOENT)
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

/* Move a generation's keys into the pending set and delete them from the kernel's table. */
static int drain(struct kcount *kc, struct ktable *t, int fd)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct tcpdrop_kkey out;
	void *in = NULL;
	int err;

	if (kc->no_batch)
		return drain_each(kc, t, fd);
	for (;;) {
		__u32 count = BATCH_KEYS;

		err = bpf_map_lookup_and_delete_batch(fd, in, &out, kc->keys, kc->vals, &count,
						      &opts);
		err = err ? -errno : 0;
		for (__u32 i = 0; i < count && (!err || err == -ENOENT); i++)
			pend_percpu(kc, t, &kc->keys[i], &kc->vals[(size_t)i * (size_t)kc->ncpus]);
		if (err == -ENOENT)
			return 0;
		if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP || err == -ENOSPC) {
			/*
			 * No batch ops here (or a bucket larger than a batch, which only a
			 * table in a pathological state has): key by key from now on.
			 */
			kc->no_batch = err != -ENOSPC;
			return drain_each(kc, t, fd);
		}
		if (err)
			return err;
		in = &out;
	}
}

/* What the old generation's cache slots still hold, per CPU, into the pending set; cleared. */
static int drain_cache(struct kcount *kc, struct ktable *t, uint32_t first)
{
	size_t size = sizeof(*kc->slots) * (size_t)kc->ncpus;

	for (uint32_t s = first; s < first + TCPDROP_KC_SLOTS; s++) {
		int any = 0;

		if (bpf_map_lookup_elem(kc->cache_fd, &s, kc->slots))
			return -errno;
		for (int c = 0; c < kc->ncpus; c++) {
			const struct tcpdrop_kslot *k = &kc->slots[c];

			if (k->count) {
				pend_add(t, &k->key, k->count, k->bytes, kc->epoch, 1);
				any = 1;
			}
		}
		memset(kc->zeros, 0, size);
		if (any && bpf_map_update_elem(kc->cache_fd, &s, kc->zeros, BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * Wait until no probe run that read the old generation can still be running: an RCU grace
 * period (MEMBARRIER_CMD_GLOBAL calls synchronize_rcu() where more than one CPU is online;
 * with one, this thread running means no probe run is). Without membarrier (nohz_full
 * kernels), a pause far longer than a probe run, which takes microseconds.
 */
static void grace_period(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0)) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
}

int kcount__collect(struct kcount *kc)
{
	__u32 zero = 0, old = kc->gen, next = old ^ 1;
	struct tcpdrop_kval *ov = kc->vals;
	int err = 0;

	if (!kc->n)
		return 0;
	if (bpf_map_update_elem(kc->gen_fd, &zero, &next, BPF_ANY))
		return -errno;
	kc->gen = next;
	grace_period();
	if (!++kc->epoch)
		kc->epoch = 1; /* 0 is a take's */
	for (unsigned int i = 0; i < kc->n; i++) {
		struct ktable *t = &kc->t[i];
		__u32 slot = i * 2 + old;
		int e;

		t->admitted = 0;
		/* The table's keys first: those are in it; the caches' only while there is room. */
		e = drain(kc, t, t->fd[old]);
		if (!e)
			e = drain_cache(kc, t, slot * TCPDROP_KC_SLOTS);
		if (e && !err)
			err = e;
		/* The old generation's overflow: read, then zeroed on every CPU. */
		if (!bpf_map_lookup_elem(kc->over_fd, &slot, ov)) {
			for (int c = 0; c < kc->ncpus; c++) {
				t->over_count += ov[c].count;
				t->over_bytes += ov[c].bytes;
			}
			memset(ov, 0, (size_t)kc->ncpus * sizeof(*ov));
			if (bpf_map_update_elem(kc->over_fd, &slot, ov, BPF_ANY) && !err)
				err = -errno;
		} else if (!err) {
			err = -errno;
		}
	}
	return err;
}

int kcount__take(struct kcount *kc, unsigned int i, kcount_fn fn, void *ctx, uint64_t *overflow)
{
	struct ktable *t;
	int ret = 0;
	size_t s;

	if (i >= kc->n)
		return -EINVAL;
	t = &kc->t[i];
	*overflow = t->over_count;
	if (t->over_count) {
		struct tcpdrop_kkey k = { .evflags = TCPDROP_KC_OVERFLOW_KEY };

		ret = fn(ctx, &k, t->over_count, t->over_bytes);
		if (ret)
			return ret;
		t->over_count = 0;
		t->over_bytes = 0;
	}
	for (s = 0; s < t->cap && !ret; s++) {
		struct pend *p = &t->slots[s];

		if (!p->count)
			continue;
		ret = fn(ctx, &p->key, p->count, p->bytes);
		p->count = 0;
		t->used--;
	}
	if (ret && t->used) {
		/* Stopped early: the keys not handed out stay, placed again without the holes. */
		struct pend *old = t->slots;

		t->slots = xcalloc(t->cap, sizeof(*t->slots));
		t->used = 0;
		for (s = 0; s < t->cap; s++)
			if (old[s].count)
				pend_add(t, &old[s].key, old[s].count, old[s].bytes, 0, 0);
		free(old);
	}
	return ret;
}

void kcount__key(struct tcpdrop_kkey *k, const struct tcpdrop_event *e, uint32_t keys)
{
	memset(k, 0, sizeof(*k));
	if (keys & TCPDROP_KC_REASON) {
		k->reason_code = e->reason_code;
		k->evflags |= e->evflags & TCPDROP_F_NO_REASON;
	}
	if (keys & TCPDROP_KC_STATE) {
		k->state_code = e->state_code;
		k->evflags |= e->evflags & TCPDROP_F_SOCK;
	}
	if (keys & TCPDROP_KC_FLAGS)
		k->tcp_flags = e->tcp_flags;
	/* An address is read with its family. */
	if (keys & (TCPDROP_KC_FAMILY | TCPDROP_KC_SADDR | TCPDROP_KC_DADDR))
		k->family = e->family;
	if (keys & TCPDROP_KC_SADDR)
		memcpy(k->saddr, e->saddr_raw, sizeof(k->saddr));
	if (keys & TCPDROP_KC_DADDR)
		memcpy(k->daddr, e->daddr_raw, sizeof(k->daddr));
	if (keys & TCPDROP_KC_SPORT)
		k->sport = e->sport;
	if (keys & TCPDROP_KC_DPORT)
		k->dport = e->dport;
	if (keys & TCPDROP_KC_NETNS)
		k->netns = e->netns;
	if (keys & TCPDROP_KC_IFINDEX)
		k->ifindex = e->ifindex;
	if (keys & TCPDROP_KC_CPU)
		k->cpu = e->cpu;
	if (keys & TCPDROP_KC_CGROUP)
		k->cgroup_id = e->cgroup_id_raw;
}

void kcount__mask(struct tcpdrop_kkey *m, uint32_t keys)
{
	struct tcpdrop_event ones;

	memset(&ones, 0xff, sizeof(ones));
	kcount__key(m, &ones, keys);
}
