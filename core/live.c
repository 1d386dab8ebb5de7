/* Ring buffer reader: events copied out of the per-CPU rings, fixed up, put in time order, batched.
 */
#include "live.h"
#include "ksyms.h"
#include "probe.h"
#include "util.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Each CPU has its own ring, so one read visits the rings one after the other
 * and their events interleave in time. They are first copied, compactly, into
 * a pending buffer, then handed on in timestamp order; those newer than the
 * moment the read began wait for the next read, since an older event may
 * still be on its way into another CPU's ring.
 */
#define PENDING_BYTES (2u << 20)
#define RECORD_MAX (sizeof(struct tcpdrop_event) + 8)

struct pending {
	uint64_t ts;
	uint32_t off; /* of its record in the pending buffer */
	uint32_t len;
};

struct live {
	struct ring_buffer *rb;
	struct ksyms *ks;
	struct tcpdrop_event *batch;
	unsigned int n, cap;
	deliver_fn deliver;
	void *ctx;
	int64_t mono_to_real; /* ns to add to a probe timestamp to get wall-clock time */
	uint64_t seen;
	unsigned char *buf, *spare; /* compact records: head, frames, packet bytes */
	size_t used;
	struct pending *pend;
	unsigned int npend, pend_cap;
};

static int flush(struct live *lv)
{
	int ret = 0;

	if (lv->n) {
		ret = lv->deliver(lv->ctx, lv->batch, lv->n);
		lv->seen += lv->n;
		lv->n = 0;
	}
	return ret;
}

/*
 * Copy one event: the fixed head, then only the stack frames from the dropping
 * function on, then only the packet bytes captured. The ring holds heads, whole
 * events and compact records (see TCPDROP_EVENT_HEAD_SIZE).
 */
static int on_event(void *ctx, void *data, size_t size)
{
	struct live *lv = ctx;
	const struct tcpdrop_event *src = data;
	struct tcpdrop_event *e;
	unsigned int nstack = 0, start = 0, plen = 0;
	size_t len;

	if (size < TCPDROP_EVENT_HEAD_SIZE)
		return 0;
	/* Room for one record is always left (see the end), so this one is never refused. */
	if (lv->npend == lv->pend_cap) {
		lv->pend_cap = lv->pend_cap ? lv->pend_cap * 2 : 1024;
		lv->pend = xrealloc(lv->pend, lv->pend_cap * sizeof(*lv->pend));
	}
	e = (struct tcpdrop_event *)(lv->buf + lv->used);
	memcpy(e, src, TCPDROP_EVENT_HEAD_SIZE);
	e->ts_ns += (uint64_t)lv->mono_to_real;
	if (size > TCPDROP_EVENT_HEAD_SIZE) {
		const unsigned char *pkt = src->pkt;
		size_t room = size - TCPDROP_EVENT_HEAD_SIZE;

		nstack = src->nstack < TCPDROP_STACK_MAX ? src->nstack : TCPDROP_STACK_MAX;
		plen = src->pkt_len < TCPDROP_PKT_MAX ? src->pkt_len : TCPDROP_PKT_MAX;
		if (size != sizeof(*src)) {
			/* Compact: what it says it holds must be there. */
			if (nstack * sizeof(__u64) > room)
				nstack = (unsigned int)(room / sizeof(__u64));
			room -= nstack * sizeof(__u64);
			if (plen > room)
				plen = (unsigned int)room;
			pkt = (const unsigned char *)&src->stack_addr[nstack];
		}
		start = nstack ? ksyms__stack_start(lv->ks, src->stack_addr, nstack, src->loc_addr)
			       : 0;
		/* The packet follows the frames kept, not the whole stack array. */
		memcpy((unsigned char *)&e->stack_addr[nstack - start], pkt, plen);
		memcpy(e->stack_addr, src->stack_addr + start, (nstack - start) * sizeof(__u64));
		nstack -= start;
		if (!e->loc_addr && nstack)
			e->loc_addr = e->stack_addr[0];
	}
	e->nstack = (__u16)nstack;
	e->pkt_len = (__u16)plen;
	len = TCPDROP_EVENT_HEAD_SIZE + nstack * sizeof(__u64) + plen;
	len = (len + 7) & ~(size_t)7;
	lv->pend[lv->npend].ts = e->ts_ns;
	lv->pend[lv->npend].off = (uint32_t)lv->used;
	lv->pend[lv->npend].len = (uint32_t)len;
	lv->npend++;
	lv->used += len;
	/*
	 * No room for another: end this read; the rest stays in the ring for the
	 * next. Only after keeping this one: libbpf has moved past a record before
	 * its callback, so a record refused here would be gone, and not counted.
	 */
	if (lv->used + RECORD_MAX > PENDING_BYTES)
		return -ENOBUFS;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off; /* same instant: keep read order */
}

/* Expand a compact record into a batch slot. */
static void expand(struct tcpdrop_event *dst, const unsigned char *rec)
{
	const struct tcpdrop_event *r = (const struct tcpdrop_event *)rec;

	memcpy(dst, rec, TCPDROP_EVENT_HEAD_SIZE);
	memcpy(dst->stack_addr, r->stack_addr, r->nstack * sizeof(__u64));
	memcpy(dst->pkt, (const unsigned char *)&r->stack_addr[r->nstack], r->pkt_len);
}

/* Hand on, in time order, the pending events up to cutoff; keep the newer ones. */
static int deliver_until(struct live *lv, uint64_t cutoff)
{
	unsigned int i, kept = 0;
	size_t used = 0;
	int ret = 0;

	qsort(lv->pend, lv->npend, sizeof(*lv->pend), by_time);
	for (i = 0; i < lv->npend && lv->pend[i].ts <= cutoff; i++) {
		expand(&lv->batch[lv->n], lv->buf + lv->pend[i].off);
		if (++lv->n == lv->cap) {
			ret = flush(lv);
			if (ret) {
				i++;
				break;
			}
		}
	}
	if (!ret)
		ret = flush(lv);
	if (ret) {
		/* Told to stop: what was not handed on is not wanted. */
		lv->npend = 0;
		lv->used = 0;
		return ret;
	}
	for (; i < lv->npend; i++) {
		memcpy(lv->spare + used, lv->buf + lv->pend[i].off, lv->pend[i].len);
		lv->pend[kept] = lv->pend[i];
		lv->pend[kept].off = (uint32_t)used;
		used += lv->pend[i].len;
		kept++;
	}
	unsigned char *t = lv->buf;

	lv->buf = lv->spare;
	lv->spare = t;
	lv->used = used;
	lv->npend = kept;
	return 0;
}

static int64_t clock_offset(void)
{
	/* Bracket the realtime read with two monotonic reads to halve the error. */
	uint64_t m1 = now_ns(CLOCK_MONOTONIC);
	uint64_t r = now_ns(CLOCK_REALTIME);
	uint64_t m2 = now_ns(CLOCK_MONOTONIC);

	return (int64_t)(r - (m1 + (m2 - m1) / 2));
}

struct live *live__new(struct probe *p, struct ksyms *ks, unsigned int batch, deliver_fn fn,
		       void *ctx)
{
	struct live *lv = xcalloc(1, sizeof(*lv));
	const int *fds;
	int nrings;

	lv->ks = ks;
	lv->cap = batch;
	lv->batch = xcalloc(batch, sizeof(*lv->batch));
	lv->buf = xmalloc(PENDING_BYTES);
	lv->spare = xmalloc(PENDING_BYTES);
	lv->deliver = fn;
	lv->ctx = ctx;
	lv->mono_to_real = clock_offset();
	nrings = probe__rings(p, &fds);
	lv->rb = ring_buffer__new(fds[0], on_event, lv, NULL);
	for (int i = 1; lv->rb && i < nrings; i++)
		if (ring_buffer__add(lv->rb, fds[i], on_event, lv)) {
			msg("cannot open ring buffer %d: %s", i, strerror(errno));
			live__free(lv);
			return NULL;
		}
	if (!lv->rb) {
		msg("cannot open the ring buffer: %s", strerror(errno));
		live__free(lv);
		return NULL;
	}
	return lv;
}

void live__free(struct live *lv)
{
	if (!lv)
		return;
	ring_buffer__free(lv->rb);
	free(lv->batch);
	free(lv->buf);
	free(lv->spare);
	free(lv->pend);
	free(lv);
}

int live__fd(struct live *lv)
{
	return ring_buffer__epoll_fd(lv->rb);
}

static int drain(struct live *lv, int final)
{
	/* Events stamped after this instant may have older ones still on the way. */
	uint64_t cutoff = final ? UINT64_MAX : now_ns(CLOCK_MONOTONIC) + (uint64_t)lv->mono_to_real;
	int err, ret;

	do {
		err = ring_buffer__consume(lv->rb);
		if (err < 0 && err != -ENOBUFS && err != -EINTR) {
			msg("reading the ring buffer: %s", strerror(-err));
			return err;
		}
		/* A full pending buffer hands everything on, to make room. */
		ret = deliver_until(lv, err == -ENOBUFS ? UINT64_MAX : cutoff);
	} while (!ret && err == -ENOBUFS);
	return ret;
}

int live__drain(struct live *lv)
{
	return drain(lv, 0);
}

int live__finish(struct live *lv)
{
	return drain(lv, 1);
}

uint64_t live__seen(struct live *lv)
{
	return lv->seen;
}
