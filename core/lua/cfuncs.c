/* The C functions Lua calls through the FFI (struct tcpdrop_cfuncs): frames, clocks, output. */
#include "lua/bridge.h"
#include "lua/cfuncs.h"
#include "lua/corelib.h"
#include "sym/sym.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/*
 * Frames' text, for e.stack and e.location as for the printers: ksyms' one cache. ks comes from
 * Lua (tcpdrop.core's ksyms), as the FFI's functions have no other context.
 */
static int c_ksym(void *ks, __u64 v, int ids, char *buf, int len)
{
	return ksyms__frame_into(ks, v, ids, buf, (size_t)len);
}

/*
 * What the printers put on a terminal: a module's symbol could hold escape sequences. Only
 * looked at on the way (the default printer's cost per frame); escaped when there is a need.
 */
static int frame_text(void *ks, __u64 v, int ids, char *buf, int len)
{
	char raw[COLUMNS_FRAME_MAX];
	int n = c_ksym(ks, v, ids, buf, len);

	if (n <= 0 || vis__plain(buf, (size_t)n) || n >= (int)sizeof(raw))
		return n;
	memcpy(raw, buf, (size_t)n);
	n = vis__text(buf, (size_t)len, raw, (size_t)n, 0);
	return n >= 0 ? n : snprintf(buf, (size_t)len, "?");
}

static int c_frames(void *ks, void *buf, int len, const struct tcpdrop_event *e)
{
	return columns__frames(buf, len, e, frame_text, ks);
}

static double c_mono(void)
{
	return (double)now_ns(CLOCK_MONOTONIC) / 1e9;
}

static void c_out(const void *p, __u32 n)
{
	fwrite(p, 1, n, stdout);
}

static const struct tcpdrop_cfuncs cfuncs = {
	.ntop = columns__ntop,
	.ksym = c_ksym,
	.mono = c_mono,
	.out = c_out,
	.flow = columns__flow,
	.frames = c_frames,
};

const struct tcpdrop_cfuncs *cfuncs__table(void)
{
	return &cfuncs;
}
