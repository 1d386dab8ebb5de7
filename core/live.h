/* Reading the probe's ring buffer: events copied into batches, fixed up, handed on. */
#ifndef TCPDROP_LIVE_H
#define TCPDROP_LIVE_H

#include <stdint.h>

#include <linux/types.h>
#include "../bpf/tcpdrop.h"

struct probe;
struct ksyms;
struct live;

/* Receives a batch; 0 to go on, 1 to stop, <0 on error. */
typedef int (*deliver_fn)(void *ctx, struct tcpdrop_event *ev, unsigned int n);

struct live *live__new(struct probe *p, struct ksyms *ks, unsigned int batch, deliver_fn fn,
		       void *ctx);
void live__free(struct live *lv);

/*
 * An epoll fd over the rings: readable once the probe has asked for a wake-up
 * (the fill threshold), and then for as long as a ring holds data.
 */
int live__fd(struct live *lv);
/*
 * Read what is waiting and deliver it in time order, holding back the events
 * stamped after the read began (an older one may still be on its way into
 * another CPU's ring). 0, 1 (stop) or <0.
 */
int live__drain(struct live *lv);
/* The last read: deliver everything, held-back events included. */
int live__finish(struct live *lv);
uint64_t live__seen(struct live *lv);

#endif
