/* Private to core/sym: what ksyms.c and frames.c share. */
#ifndef TCPDROP_SYM_INTERNAL_H
#define TCPDROP_SYM_INTERNAL_H

#include "sym/sym.h"

struct frames;

/* frames.c: a run's frame texts, empty. */
struct frames *frames__new(void);
void frames__free(struct frames *f);

/* ksyms.c: the frame texts that go with ks (made on first use, freed with it). */
struct frames *ksyms__frames(struct ksyms *ks);
/* ksyms__format(), and in *known whether a symbol covers addr. */
int ksyms__text(struct ksyms *ks, uint64_t addr, int flags, char *buf, size_t len, int *known);
/* How many symbols were ever added to ks: a text formatted before an add may be stale. */
uint64_t ksyms__adds(const struct ksyms *ks);

#endif
