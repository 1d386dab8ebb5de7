/* The file source (-r): records in, events out in batches, ticks and -d by the recorded clock. */
#include "run/run.h"
#include "run/signals.h"
#include "sym/sym.h"
#include "capture/capture.h"
#include "util/util.h"
#include "filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 1024

struct file_source {
	struct run_source s; /* first: the run hands it back */
	struct capreader *cr;
	struct pcapng_decoder *dec;
	struct run *r; /* from start on */
	struct tcpdrop_filter filter; /* the in-kernel filters */
	int filtering;
	struct tcpdrop_event *batch;
	unsigned int n;
	uint64_t seen;
	uint64_t start; /* the recorded start of tracing, 0 if unknown */
	uint64_t end; /* the recorded end, 0 if unknown */
	uint64_t last; /* the latest drop read */
	uint64_t house_at; /* CLOCK_MONOTONIC ns of the next runtime housekeeping */
	struct run_stats recorded;
	int have_recorded;
	int have; /* what next_event() said last */
	int err; /* the file was bad: exit 1 after done() */
	int halt; /* what a dispatch inside next_event() said: stop (1) or failed (<0) */
	int may_wait; /* reading the file can wait (a pipe) */
};

static int dispatch(struct file_source *fs, int keep);

/* Whether a stop signal came (INT, TERM, HUP, QUIT): then no more is read. */
static int stopping(void)
{
	return signals_pending;
}

/* next_event() for any other record, and whenever the buffer runs out. */
static __attribute__((noinline)) int next_record(struct file_source *fs)
{
	for (;;) {
		struct cap_rec r;
		int ret;

		/* A pipe: what we have goes out before we wait for more. */
		if (fs->may_wait && fs->r && fs->n && capreader__pending(fs->cr)) {
			fs->halt = dispatch(fs, 0);
			if (fs->halt)
				return 0;
		}
		ret = capreader__next(fs->cr, &r);

		if (ret == -EINTR) {
			if (stopping())
				return 0;
			continue;
		}
		if (ret <= 0)
			return ret;
		switch (r.kind) {
		case CAP_SECTION:
			ret = pcapng__decode_section(fs->dec, &r, fs->s.name);
			break;
		case CAP_STATS:
			if (r.start && !fs->start)
				fs->start = r.start;
			if (r.end)
				fs->end = r.end;
			ret = pcapng__decode_stats(fs->dec, &r, &fs->recorded, fs->s.name);
			if (ret > 0)
				fs->have_recorded = 1;
			break;
		case CAP_PACKET:
			ret = pcapng__decode_packet(fs->dec, &r, &fs->batch[fs->n], fs->s.name);
			if (ret)
				return ret;
			break;
		}
		if (ret < 0)
			return ret;
	}
}

/*
 * The next drop of the file into batch[n]: 1, 0 at the end (or on a signal, or when the
 * runtime said stop: fs->halt), <0 on a bad file. What -w writes, already read, takes the
 * decoder's fast path inline: no record in between, and it never waits.
 */
static inline int next_event(struct file_source *fs)
{
	int ret = pcapng__next_drop(fs->cr, fs->dec, &fs->batch[fs->n], fs->s.name);

	return ret ? ret : next_record(fs);
}

/* Hand the batch to the run; the undelivered event at batch[n] (if keep) moves to the front. */
static int dispatch(struct file_source *fs, int keep)
{
	int ret;

	if (!fs->n)
		return 0;
	ret = run__deliver(fs->r, fs->batch, fs->n);
	fs->seen += fs->n;
	/* As a live run does once a second: reap what the script spawned, refresh its stats. */
	if (now_ns(CLOCK_MONOTONIC) >= fs->house_at) {
		struct run_stats st = { .seen = fs->seen };

		run__housekeeping(fs->r, &st);
		fs->house_at = now_ns(CLOCK_MONOTONIC) + 1000000000u;
	}
	if (keep)
		fs->batch[0] = fs->batch[fs->n];
	fs->n = 0;
	return ret;
}

static int drain_file(struct file_source *fs, struct run *r)
{
	uint64_t stop_at = run__clock_stop(r), end;
	int have = fs->have, ret = 0;

	while (have > 0 && !stopping()) {
		struct tcpdrop_event *ev = &fs->batch[fs->n];

		/* UINT64_MAX is never: a drop recorded at that very time is still one. */
		if (ev->ts_ns >= stop_at && stop_at != UINT64_MAX)
			break;
		if (ev->ts_ns > fs->last)
			fs->last = ev->ts_ns;
		if (run__ticks_due(r, ev->ts_ns)) {
			/* The drops before the tick belong to its interval. */
			ret = dispatch(fs, 1);
			if (!ret)
				ret = run__ticks_to(r, ev->ts_ns);
			ev = &fs->batch[fs->n];
			if (ret)
				break;
		}
		if ((!fs->filtering || filter_event(&fs->filter, ev)) && ++fs->n == BATCH) {
			ret = dispatch(fs, 0);
			if (ret)
				break;
		}
		have = next_event(fs);
		ret = fs->halt;
		if (ret)
			break;
	}
	fs->have = have;
	if (have < 0)
		fs->err = 1;
	if (!ret)
		ret = dispatch(fs, 0);
	if (ret || signals__stop() || fs->err)
		return ret;
	/* The recording went on after its last drop: so do its ticks (those before its end). */
	end = have > 0 ? stop_at : fs->end > fs->last ? fs->end : fs->last;
	if (end && run__ticks_due(r, end - 1))
		ret = run__ticks_to(r, end - 1);
	return ret;
}

static int drain(struct run_source *s, struct run *r)
{
	struct file_source *fs = (struct file_source *)s;
	uint64_t stop_at = run__clock_stop(r), t;
	int ret = drain_file(fs, r);

	/* done() reads the recording's end: its end of tracing, else its last drop; never -d's
	 * end, nor before its start. */
	t = fs->end > fs->last ? (fs->end < stop_at ? fs->end : stop_at) : fs->last;
	run__set_clock(r, t > fs->start ? t : fs->start);
	return ret;
}

static int start(struct run_source *s, struct run *r, const struct run_settings *set)
{
	struct file_source *fs = (struct file_source *)s;
	fs->r = r;
	fs->filter = set->filter;
	fs->filtering = filter_any(&fs->filter);
	/* The recording's clock from the start: the recorded start of tracing, else the first
	 * drop. */
	if (!fs->start && fs->have > 0)
		fs->start = fs->batch[0].ts_ns;
	run__clock_start(r, fs->start);
	return 0;
}

static void stats(struct run_source *s, struct run_stats *rs)
{
	struct file_source *fs = (struct file_source *)s;

	if (fs->have_recorded) {
		rs->lost = fs->recorded.lost;
		rs->filtered_kernel = fs->recorded.filtered_kernel;
		rs->stacks_skipped = fs->recorded.stacks_skipped;
		rs->stacks_failed = fs->recorded.stacks_failed;
	}
}

static int report(struct run_source *s, const struct run_stats *rs)
{
	struct file_source *fs = (struct file_source *)s;
	const struct pcapng_skipped *sk = pcapng_decoder__skipped(fs->dec);
	const char *file = s->name;

	if (sk->not_tcp)
		msg("%s: skipped %llu packet%s that %s not TCP over IPv4/IPv6 (or cut too short)",
		    file, (unsigned long long)sk->not_tcp, sk->not_tcp == 1 ? "" : "s",
		    sk->not_tcp == 1 ? "is" : "are");
	if (sk->bad_link)
		msg("%s: skipped %llu packet%s on link type %u, which tcpdrop cannot read "
		    "(it reads Ethernet, raw IP, Linux cooked and loopback captures)",
		    file, (unsigned long long)sk->bad_link, sk->bad_link == 1 ? "" : "s",
		    sk->last_link);
	if (fs->have_recorded && fs->recorded.lost)
		msg("%s: the recording lost %llu events (the ring buffer was full)", file,
		    (unsigned long long)fs->recorded.lost);
	return fs->err ? 1 : 0;
}

static void source_free(struct run_source *s)
{
	struct file_source *fs = (struct file_source *)s;

	free(fs->batch);
	pcapng_decoder__free(fs->dec);
	capreader__free(fs->cr);
	free(fs);
}

int file_source__open(const char *path, struct names *nm, struct ksyms *ks, struct run_source **out)
{
	struct file_source *fs;
	struct capreader *cr;

	if (capreader__open(path, &cr))
		return 1;
	fs = xcalloc(1, sizeof(*fs));
	fs->s = (struct run_source){ .name = strcmp(path, "-") ? path : "standard input",
				     .wake_fd = -1,
				     .start = start,
				     .drain = drain,
				     .stats = stats,
				     .report = report,
				     .free = source_free };
	fs->cr = cr;
	fs->may_wait = capreader__may_wait(cr);
	fs->dec = pcapng_decoder__new(nm, ks);
	fs->batch = xcalloc(BATCH, sizeof(*fs->batch));
	/* The first drop, and with it the names of the file's section. */
	fs->have = next_event(fs);
	if (fs->have < 0) {
		source_free(&fs->s);
		return 1;
	}
	*out = &fs->s;
	return 0;
}
