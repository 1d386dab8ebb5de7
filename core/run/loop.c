/* The live event loop: one epoll over the ring buffer, timerfds, the signal handlers' pipe and
 * --metrics' HTTP server. */
#include "run/run.h"
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

enum { EV_WAKE, EV_POLL, EV_TICK, EV_END, EV_HOUSE, EV_SIGNAL, EV_SERVE };

/* Seconds a timer waits at most: later is never, for a run (and fits any time_t). */
#define TIMER_MAX (1e9)

static int timer_new(double first, double every)
{
	struct itimerspec its = { 0 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	/* -i or -d in the billions of seconds: converted to a time_t, they would not fit. */
	if (!(first < TIMER_MAX))
		first = TIMER_MAX;
	if (!(every < TIMER_MAX))
		every = every > 0 ? TIMER_MAX : 0;
	its.it_value.tv_sec = (time_t)first;
	its.it_value.tv_nsec = (long)((first - floor(first)) * 1e9);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	its.it_interval.tv_sec = (time_t)every;
	its.it_interval.tv_nsec = (long)((every - floor(every)) * 1e9);
	if (timerfd_settime(fd, 0, &its, NULL)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int watch(int ep, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static uint64_t expirations(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

int loop__run(const struct loop_opts *lo, const struct loop_hooks *h)
{
	int fds[EV_SIGNAL + 1];
	int ep, ret = 0, stop = 0, hook_stop = 0;
	uint64_t ticks = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = -1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	fds[EV_POLL] = timer_new(lo->poll_ms / 1000.0, lo->poll_ms / 1000.0);
	fds[EV_HOUSE] = timer_new(1, 1);
	if (lo->interval > 0)
		fds[EV_TICK] = timer_new(lo->interval, lo->interval);
	if (lo->duration > 0)
		fds[EV_END] = timer_new(lo->duration, 0);
	for (int i = EV_POLL; i < EV_SIGNAL; i++) {
		if (i == EV_TICK && lo->interval <= 0)
			continue;
		if (i == EV_END && lo->duration <= 0)
			continue;
		if (fds[i] < 0 || watch(ep, fds[i], i)) {
			ret = fds[i] < 0 ? fds[i] : -errno;
			msg("event loop set-up failed: %s", strerror(-ret));
			goto out;
		}
	}
	if ((lo->wake_fd >= 0 && watch(ep, lo->wake_fd, EV_WAKE)) ||
	    (lo->signal_fd >= 0 && watch(ep, lo->signal_fd, EV_SIGNAL)) ||
	    (lo->serve_fd >= 0 && watch(ep, lo->serve_fd, EV_SERVE))) {
		ret = -errno;
		goto out;
	}

	while (!stop) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, ARRAY_SIZE(evs), -1);
		int drained = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (int i = 0; i < n && !stop; i++) {
			int tag = (int)evs[i].data.u32;
			int r = 0;

			switch (tag) {
			case EV_WAKE:
			case EV_POLL:
				if (tag == EV_POLL)
					expirations(fds[EV_POLL]);
				if (!drained)
					r = h->drain(h->ctx);
				drained = 1;
				break;
			case EV_TICK:
				expirations(fds[EV_TICK]);
				/* Events that arrived before the tick belong to its interval. */
				r = h->drain(h->ctx);
				if (!r)
					r = h->tick(h->ctx, ++ticks);
				break;
			case EV_HOUSE:
				expirations(fds[EV_HOUSE]);
				r = h->housekeeping(h->ctx);
				if (r > 0)
					r = 0;
				/* The server's idle clients time out on its own clock. */
				if (lo->serve_fd >= 0)
					h->serve(h->ctx);
				break;
			case EV_SERVE:
				/* Never blocks: a slow client costs a drain nothing. */
				h->serve(h->ctx);
				break;
			case EV_END:
				stop = 1;
				break;
			case EV_SIGNAL:
				stop = h->signal(h->ctx);
				break;
			}
			if (r < 0) {
				ret = r;
				stop = 1;
			} else if (r > 0) {
				stop = 1;
				hook_stop = 1;
			}
		}
	}
	/* What the kernel queued before a signal or the duration still counts. */
	if (ret == 0 && !hook_stop)
		ret = h->drain(h->ctx) < 0 ? -1 : 0;
out:
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(ep);
	return ret ? ret : hook_stop;
}
