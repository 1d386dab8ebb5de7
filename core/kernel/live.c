/* Ring buffer reader: events copied out of the per-CPU rings, fixed up, put in time order, batched.
 */
#include "kernel/kernel.h"
#include "sym/sym.h"
#include "util/util.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/*
 * Each CPU has its own ring, so one read visits the rings one after the other
 * and their events interleave in time. They are first copied, compactly, into
 * a pending buffer, then handed on in timestamp order; those newer than the
 * moment the read began wait for the next read, since an older event may
 * still be on its way into another CPU's ring.
 *
 * A full pending buffer ends a pass: the record that does not fit stays in
 * its ring (the consumer position has not moved past it) and the next pass
 * takes it, so its size costs passes, never events. 512 KiB holds 2,000
 * events with stacks or 4,000 without.
 */
#define PENDING_BYTES (512u << 10)
#define RECORD_MAX sizeof(struct tcpdrop_event)
/* At the last read, how long a record a probe is still writing may keep us waiting. */
#define BUSY_WAIT_NS 20000000ULL

struct pending {
	uint64_t ts;
	uint32_t off; /* of its record in the pending buffer */
	uint32_t len;
};

/*
 * One ring, mapped once: the consumer page (the only one we may write) and,
 * read-only, the producer page with the data area after it. libbpf maps the
 * data twice in a row so that a record that wraps reads as one piece; the
 * kernel maps every page of a ring buffer mapping at mmap() time, so that
 * second view is a second ring's worth of resident memory. A record that
 * wraps is copied out in two parts instead.
 */
struct ring {
	unsigned long *consumer;
	const unsigned long *producer;
	const unsigned char *data;
	size_t size; /* of the data area, a power of two */
	unsigned long stop; /* where the producer stood when this read began */
	/*
	 * Where we have read to: made public (the consumer position) once a pass
	 * is over, not per record, since the probes read the consumer position's
	 * cache line at each reservation.
	 */
	unsigned long cons;
	int more; /* records up to stop are still to be read in this read */
	int peeked; /* head and len describe the next record */
	uint32_t len;
	uint64_t head;
};

struct live {
	struct ring *rings;
	int nrings;
	int epfd; /* the rings' fds: readable once a probe has asked for a wake-up */
	struct ksyms *ks;
	struct tcpdrop_event *batch;
	unsigned int n, cap;
	deliver_fn deliver;
	void *ctx;
	int64_t mono_to_real; /* ns to add to a probe timestamp to get wall-clock time */
	uint64_t seen;
	unsigned char *buf; /* compact records: head, frames, packet bytes */
	size_t used;
	struct pending *pend, *pend_tmp; /* pend_tmp: pend_cap entries to sort with */
	unsigned int npend, pend_cap;
	union {
		struct tcpdrop_event ev; /* for its alignment */
		unsigned char b[RECORD_MAX];
	} wrap; /* a record that wraps the end of its ring, in one piece */
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
 * Copy one event: the fixed head, then only the stack frames taken, then only the
 * packet bytes captured. The ring holds heads, whole events and compact records
 * (see TCPDROP_EVENT_HEAD_SIZE). The caller has made sure that it fits: a compact
 * record is never longer than its source.
 */
static void keep(struct live *lv, const struct tcpdrop_event *src, size_t size)
{
	struct tcpdrop_event *e;
	unsigned int nstack = 0, plen = 0;
	size_t len;

	if (lv->npend == lv->pend_cap) {
		lv->pend_cap = lv->pend_cap ? lv->pend_cap * 2 : 1024;
		lv->pend = xrealloc(lv->pend, lv->pend_cap * sizeof(*lv->pend));
		lv->pend_tmp = xrealloc(lv->pend_tmp, lv->pend_cap * sizeof(*lv->pend));
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
		/* The packet follows the frames, not the whole stack array. */
		memcpy((unsigned char *)&e->stack_addr[nstack], pkt, plen);
		memcpy(e->stack_addr, src->stack_addr, nstack * sizeof(__u64));
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
}

/*
 * Find a ring's next record, passing over for good the discarded ones: its
 * timestamp in r->head, its length in r->len. 0, -EAGAIN when a probe is still
 * writing it, -ENOENT when none is left up to stop.
 */
static int peek(struct ring *r)
{
	size_t mask = r->size - 1;

	if (r->peeked)
		return 0;
	while (r->cons < r->stop) {
		/* Records are 8-byte aligned and the size a multiple of pages: a header never
		 * wraps. */
		const unsigned char *hdr = r->data + (r->cons & mask);
		uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
		uint32_t size = len & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (len & BPF_RINGBUF_BUSY_BIT)
			return -EAGAIN;
		if (!(len & BPF_RINGBUF_DISCARD_BIT) && size >= TCPDROP_EVENT_HEAD_SIZE) {
			/* ts_ns comes first, 8-aligned in a size that is a multiple of 8: whole. */
			r->head = *(const uint64_t *)(r->data +
						      ((r->cons + BPF_RINGBUF_HDR_SZ) & mask));
			r->len = size;
			r->peeked = 1;
			return 0;
		}
		r->cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
	}
	return -ENOENT;
}

/*
 * Copy out a ring's committed records up to where its producer stood when the
 * read began (a producer faster than us is not chased while the other rings
 * wait), and only those stamped until at the latest. Our position (r->cons,
 * published by publish()) moves only past records already copied, so the
 * kernel cannot write over one we are reading, and one we did not take stays
 * for the next pass. 0 when done with the ring, 1 at a record stamped after
 * until, -ENOBUFS when the pending buffer has no room for the next record,
 * -EAGAIN when a probe is still writing it.
 */
static int read_ring(struct live *lv, struct ring *r, uint64_t until)
{
	int err;

	while (!(err = peek(r))) {
		size_t from = (r->cons + BPF_RINGBUF_HDR_SZ) & (r->size - 1);
		size_t n = r->len < RECORD_MAX ? r->len : RECORD_MAX;
		const void *rec = r->data + from;

		if (r->head > until)
			return 1;
		if (lv->used + ((n + 7) & ~(size_t)7) > PENDING_BYTES)
			return -ENOBUFS;
		if (from + n > r->size) {
			size_t first = r->size - from;

			memcpy(lv->wrap.b, rec, first);
			memcpy(lv->wrap.b + first, r->data, n - first);
			rec = lv->wrap.b;
		}
		keep(lv, rec, n);
		r->cons += (r->len + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
		r->peeked = 0;
	}
	return err == -EAGAIN ? -EAGAIN : 0;
}

/*
 * More waits in the rings than the pending buffer has room for: take records
 * in time order across the rings (a ring's own are in time order), each time
 * from the ring whose next one is the oldest, up to the next one of another.
 * Whatever then sits in the buffer is older than all that is left, so it can
 * be handed on in order before the next pass. 1 when the buffer is full, 0
 * when every ring is read up to its stop or to a record still being written.
 */
static int merge(struct live *lv, int *busy)
{
	for (;;) {
		struct ring *oldest = NULL;
		uint64_t second = UINT64_MAX;
		int err;

		for (int i = 0; i < lv->nrings; i++) {
			struct ring *r = &lv->rings[i];

			if (!r->more)
				continue;
			err = peek(r);
			if (err) {
				r->more = 0;
				*busy |= err == -EAGAIN;
			} else if (!oldest || r->head < oldest->head) {
				if (oldest)
					second = oldest->head;
				oldest = r;
			} else if (r->head < second) {
				second = r->head;
			}
		}
		if (!oldest)
			return 0;
		err = read_ring(lv, oldest, second);
		if (err == -ENOBUFS)
			return 1;
		if (err != 1)
			oldest->more = 0;
		*busy |= err == -EAGAIN;
	}
}

/* The end of the run of pending events in time order that starts at i. */
static unsigned int run_end(const struct pending *a, unsigned int i, unsigned int n)
{
	while (++i < n && a[i].ts >= a[i - 1].ts)
		;
	return i;
}

/*
 * Sort by time, equal times kept in their order. What is pending is a few
 * runs already in time order (a ring's records, the ones held back), so
 * neighbouring runs are merged, back and forth between a and b, until one is
 * left: n log(runs), where qsort took 8% of the reader's time in a storm.
 * Returns the one of a and b that holds the result.
 */
static struct pending *sort_by_time(struct pending *a, struct pending *b, unsigned int n)
{
	while (n && run_end(a, 0, n) < n) {
		struct pending *t;
		unsigned int i = 0;

		while (i < n) {
			unsigned int mid = run_end(a, i, n), end = mid < n ? run_end(a, mid, n) : n;
			unsigned int x = i, y = mid, o = i;

			while (x < mid && y < end)
				b[o++] = a[y].ts < a[x].ts ? a[y++] : a[x++];
			while (x < mid)
				b[o++] = a[x++];
			while (y < end)
				b[o++] = a[y++];
			i = end;
		}
		t = a;
		a = b;
		b = t;
	}
	return a;
}

/*
 * Expand a compact record into a batch slot, its stack from the dropping function on: the
 * tracer's own frames are cut here, as a drop is handed on, not in the rings' copy loop.
 */
static void expand(struct live *lv, struct tcpdrop_event *dst, const unsigned char *rec)
{
	const struct tcpdrop_event *r = (const struct tcpdrop_event *)rec;
	unsigned int start =
		r->nstack ? ksyms__stack_start(lv->ks, r->stack_addr, r->nstack, r->loc_addr) : 0;

	memcpy(dst, rec, TCPDROP_EVENT_HEAD_SIZE);
	memcpy(dst->stack_addr, r->stack_addr + start, (r->nstack - start) * sizeof(__u64));
	memcpy(dst->pkt, (const unsigned char *)&r->stack_addr[r->nstack], r->pkt_len);
	dst->nstack = (__u16)(r->nstack - start);
	if (!dst->loc_addr && dst->nstack)
		dst->loc_addr = dst->stack_addr[0];
}

/* Hand on, in time order, the pending events up to cutoff; keep the newer ones. */
static int deliver_until(struct live *lv, uint64_t cutoff)
{
	const struct pending *due;
	unsigned int i, ndue = 0, kept = 0;
	size_t used = 0;
	int ret = 0;

	/*
	 * Those due go aside to be sorted; those held back stay in the order of
	 * their places in the buffer (pend is in that order), the order they
	 * slide down in below. The room after them is the sort's scratch.
	 */
	if (!lv->npend) { /* pend may not be allocated yet: no arithmetic on a NULL pointer */
		lv->used = 0;
		return flush(lv);
	}
	for (i = 0; i < lv->npend; i++) {
		if (lv->pend[i].ts <= cutoff)
			lv->pend_tmp[ndue++] = lv->pend[i];
		else
			lv->pend[kept++] = lv->pend[i];
	}
	due = sort_by_time(lv->pend_tmp, lv->pend + kept, ndue);
	for (i = 0; i < ndue; i++) {
		expand(lv, &lv->batch[lv->n], lv->buf + due[i].off);
		if (++lv->n == lv->cap && (ret = flush(lv)))
			break;
	}
	if (!ret)
		ret = flush(lv);
	if (ret) {
		/* Told to stop: what was not handed on is not wanted. */
		lv->npend = 0;
		lv->used = 0;
		return ret;
	}
	/* The ones held back slide down to the start of the buffer, each to a lower address. */
	for (i = 0; i < kept; i++) {
		memmove(lv->buf + used, lv->buf + lv->pend[i].off, lv->pend[i].len);
		lv->pend[i].off = (uint32_t)used;
		used += lv->pend[i].len;
	}
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

/* Map ring fd and have its fd wake epfd. 0 or -errno. */
static int ring_open(struct ring *r, int fd, int epfd, size_t page)
{
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info);
	struct epoll_event ev = { .events = EPOLLIN };
	void *m;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	r->consumer = m;
	m = mmap(NULL, page + info.max_entries, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (m == MAP_FAILED)
		return -errno;
	r->producer = m;
	r->data = (const unsigned char *)m + page;
	r->size = info.max_entries;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

struct live *live__new(struct probe *p, struct ksyms *ks, unsigned int batch, deliver_fn fn,
		       void *ctx)
{
	struct live *lv = xcalloc(1, sizeof(*lv));
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const int *fds;
	int nrings;

	lv->ks = ks;
	lv->cap = batch;
	lv->batch = xcalloc(batch, sizeof(*lv->batch));
	lv->buf = xmalloc(PENDING_BYTES);
	lv->deliver = fn;
	lv->ctx = ctx;
	lv->mono_to_real = clock_offset();
	nrings = probe__rings(p, &fds);
	lv->rings = xcalloc((size_t)(nrings > 0 ? nrings : 1), sizeof(*lv->rings));
	lv->nrings = nrings;
	lv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lv->epfd < 0) {
		msg("cannot open the ring buffers: %s", strerror(errno));
		live__free(lv);
		return NULL;
	}
	for (int i = 0; i < nrings; i++) {
		int err = ring_open(&lv->rings[i], fds[i], lv->epfd, page);

		if (err) {
			msg("cannot open ring buffer %d: %s", i, strerror(-err));
			live__free(lv);
			return NULL;
		}
	}
	return lv;
}

void live__free(struct live *lv)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!lv)
		return;
	for (int i = 0; i < lv->nrings; i++) {
		struct ring *r = &lv->rings[i];

		if (r->consumer)
			munmap(r->consumer, page);
		if (r->producer)
			munmap((void *)r->producer, page + r->size);
	}
	free(lv->rings);
	if (lv->epfd >= 0)
		close(lv->epfd);
	free(lv->batch);
	free(lv->buf);
	free(lv->pend);
	free(lv->pend_tmp);
	free(lv);
}

int live__fd(struct live *lv)
{
	return lv->epfd;
}

/* Give the rings back the room of the records copied out (a release store: copied first). */
static void publish(struct live *lv)
{
	for (int i = 0; i < lv->nrings; i++) {
		struct ring *r = &lv->rings[i];

		if (r->cons != *r->consumer)
			__atomic_store_n(r->consumer, r->cons, __ATOMIC_RELEASE);
	}
}

/*
 * One read: every ring up to where its producer stood now. When that is more
 * than the pending buffer has room for, it is taken in passes, merged in time
 * order (see merge()), so that a burst larger than the buffer still comes out
 * in order. The last read also waits (briefly) for a record a probe on
 * another CPU is still writing.
 */
static int drain(struct live *lv, int final)
{
	/* Events stamped after this instant may have older ones still on the way. */
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	uint64_t cutoff = final ? UINT64_MAX : start + (uint64_t)lv->mono_to_real;
	int ret;

	for (int i = 0; i < lv->nrings; i++) {
		struct ring *r = &lv->rings[i];

		r->cons = *r->consumer; /* only we write it */
		r->stop = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
		r->more = r->cons < r->stop;
		r->peeked = 0;
	}
	for (;;) {
		size_t waiting = 0;
		int full = 0, busy = 0;

		/* A record never takes more room in the buffer than in its ring. */
		for (int i = 0; i < lv->nrings; i++)
			if (lv->rings[i].more)
				waiting += lv->rings[i].stop - lv->rings[i].cons;
		if (waiting <= PENDING_BYTES - lv->used) {
			for (int i = 0; i < lv->nrings; i++) {
				struct ring *r = &lv->rings[i];
				int err;

				if (!r->more)
					continue;
				err = read_ring(lv, r, UINT64_MAX);
				r->more = err == -ENOBUFS;
				full |= err == -ENOBUFS;
				busy |= err == -EAGAIN;
			}
		} else {
			full = merge(lv, &busy);
		}
		publish(lv);
		ret = deliver_until(lv, cutoff);
		/*
		 * Held back (newer than the cutoff) but filling the buffer: time
		 * order gives way to room, events are never refused.
		 */
		if (!ret && full && lv->used > PENDING_BYTES / 2)
			ret = deliver_until(lv, UINT64_MAX);
		if (ret)
			return ret;
		if (full)
			continue;
		if (!busy || !final || now_ns(CLOCK_MONOTONIC) - start > BUSY_WAIT_NS)
			return 0;
		for (int i = 0; i < lv->nrings; i++) {
			lv->rings[i].more = lv->rings[i].cons < lv->rings[i].stop;
			lv->rings[i].peeked = 0;
		}
		sched_yield();
	}
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
