/* Ring buffer reader: each event is copied out (the ring slot is freed at once), fixed up, batched.
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

struct live {
	struct ring_buffer *rb;
	struct ksyms *ks;
	struct tcpdrop_event *batch;
	unsigned int n, cap;
	deliver_fn deliver;
	void *ctx;
	int64_t mono_to_real; /* ns to add to a probe timestamp to get wall-clock time */
	int status; /* what the last delivery said */
	uint64_t seen;
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
 * Copy one event: the fixed head always, then only the stack frames from the
 * dropping function on, and only the packet bytes captured.
 */
static int on_event(void *ctx, void *data, size_t size)
{
	struct live *lv = ctx;
	const struct tcpdrop_event *src = data;
	struct tcpdrop_event *e = &lv->batch[lv->n];

	if (size < TCPDROP_EVENT_HEAD_SIZE)
		return 0;
	memcpy(e, src, TCPDROP_EVENT_HEAD_SIZE);
	e->ts_ns += (uint64_t)lv->mono_to_real;
	if (size >= sizeof(*src)) {
		unsigned int n = src->nstack < TCPDROP_STACK_MAX ? src->nstack : TCPDROP_STACK_MAX;
		unsigned int start =
			n ? ksyms__stack_start(lv->ks, src->stack_addr, n, src->loc_addr) : 0;
		unsigned int plen = src->pkt_len < TCPDROP_PKT_MAX ? src->pkt_len : TCPDROP_PKT_MAX;

		e->nstack = (__u16)(n - start);
		memcpy(e->stack_addr, src->stack_addr + start, e->nstack * sizeof(__u64));
		e->pkt_len = (__u16)plen;
		memcpy(e->pkt, src->pkt, plen);
		if (!e->loc_addr && e->nstack)
			e->loc_addr = e->stack_addr[0];
	} else {
		e->nstack = 0;
		e->pkt_len = 0;
	}
	if (++lv->n == lv->cap) {
		lv->status = flush(lv);
		if (lv->status)
			return -ECANCELED; /* stops ring_buffer__consume */
	}
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
	free(lv);
}

int live__fd(struct live *lv)
{
	return ring_buffer__epoll_fd(lv->rb);
}

int live__drain(struct live *lv)
{
	int err;

	lv->status = 0;
	err = ring_buffer__consume(lv->rb);
	if (lv->status)
		return lv->status;
	if (err < 0 && err != -EINTR) {
		msg("reading the ring buffer: %s", strerror(-err));
		return err;
	}
	return flush(lv);
}

uint64_t live__seen(struct live *lv)
{
	return lv->seen;
}
