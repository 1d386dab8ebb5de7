/*
 * The run's signals. Real handlers rather than a signalfd: a hook that never returns never
 * reads a signalfd again, and the second Ctrl-C must reach runtime__interrupt() while it runs.
 * A handler can do little safely, so what it cannot do (time the hook out, write out the
 * recording) is done by a watchdog thread it wakes with sem_post().
 */
#include "run/signals.h"
#include "capture/capture.h"
#include "lua/bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* After the first stop signal, what was already read is still delivered for this long. */
#define GRACE_MS 250
#define FORCE_AFTER_MS 2000 /* after the second, until a hook that ran on is given up */

volatile sig_atomic_t signals_pending;

static volatile sig_atomic_t stops, first, in_lua, settled;
static struct runtime *volatile the_rt;
static struct recorder *volatile the_rec;
static void (*the_status)(void *ctx);
static void *the_ctx;
static sem_t status_sem;
static int wake[2] = { -1, -1 };
static sem_t watch_sem;
/* Between the watchdog's use of the_rt and the_rec and the main thread freeing them. */
static pthread_mutex_t arm_lock = PTHREAD_MUTEX_INITIALIZER;
static int installed, pipe_ignored;

static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void poke(void)
{
	ssize_t n;

	signals_pending = 1;
	/* Full pipe: the loop is awake already. */
	n = write(wake[1], "", 1);
	(void)n;
}

static void on_stop(int sig)
{
	int saved = errno;
	int n = stops + 1;

	/* Our handlers block each other (sa_mask): no other stop lands in between. */
	stops = n;
	if (n == 1)
		first = sig;
	poke();
	if (n == 2 && the_rt)
		runtime__interrupt(the_rt);
	sem_post(&watch_sem);
	errno = saved;
}

static void on_status(int sig)
{
	int saved = errno;

	sem_post(&status_sem);
	errno = saved;
}

static void on_pipe(int sig)
{
}

static void say(const char *s)
{
	ssize_t n = write(STDERR_FILENO, s, strlen(s));

	(void)n;
}

/* The hook did not give way: what the recording holds goes out whole, then we end. */
static void __attribute__((noreturn)) force(void)
{
	struct recorder *rec;

	/* Held to the end: the main thread cannot close the recorder under us. */
	pthread_mutex_lock(&arm_lock);
	rec = the_rec;

	if (rec && in_lua && !recorder__flush(rec))
		say("tcpdrop: a hook does not give way; the recording is written out, exiting\n");
	else if (rec)
		say("tcpdrop: a hook does not give way; exiting (the recording may miss its last "
		    "second)\n");
	else
		say("tcpdrop: a hook does not give way; exiting\n");
	_exit(1);
}

/* Until a signal posts, or ms pass (ms < 0: no limit). */
static void wait_sem(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000 + (t.tv_nsec + ms % 1000 * 1000000) / 1000000000;
	t.tv_nsec = (t.tv_nsec + ms % 1000 * 1000000) % 1000000000;
	while ((ms < 0 ? sem_wait(&watch_sem) : sem_timedwait(&watch_sem, &t)) && errno == EINTR)
		;
}

static void *watchdog(void *arg)
{
	wait_sem(-1);
	/* The first stop: what was read goes to the script while that is quick, no longer. */
	wait_sem(GRACE_MS);
	pthread_mutex_lock(&arm_lock);
	if (the_rt)
		runtime__halt(the_rt);
	pthread_mutex_unlock(&arm_lock);
	while (stops < 2)
		wait_sem(-1);
	/* Posts of the signals counted so far: the wait below is for a third. */
	while (!sem_trywait(&watch_sem))
		;
	/* The second: the hook it interrupted has FORCE_AFTER_MS to return. */
	if (stops < 3)
		wait_sem(FORCE_AFTER_MS);
	while (stops < 3 && settled)
		wait_sem(-1);
	force();
	return NULL;
}

/*
 * SIGUSR1's line, from a thread of its own: it comes while a slow hook works through its batch
 * or a read waits, which is when it is asked for. The counters it reads are the main thread's
 * (single words, read as they stand).
 */
static void *reporter(void *arg)
{
	for (;;) {
		while (sem_wait(&status_sem))
			;
		pthread_mutex_lock(&arm_lock);
		if (the_status)
			the_status(the_ctx);
		pthread_mutex_unlock(&arm_lock);
	}
	return NULL;
}

int signals__install(void)
{
	struct sigaction sa = { 0 }, old_sa;
	sigset_t all, old;
	pthread_t t;
	int err;

	if (installed)
		return 0;
	if (pipe(wake))
		return -errno;
	for (int i = 0; i < 2; i++) {
		fcntl(wake[i], F_SETFD, FD_CLOEXEC);
		fcntl(wake[i], F_SETFL, O_NONBLOCK);
	}
	sem_init(&watch_sem, 0, 0);
	sem_init(&status_sem, 0, 0);
	/* The watchdog takes no signal: they are the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&t, NULL, watchdog, NULL);
	if (!err) {
		pthread_detach(t);
		err = pthread_create(&t, NULL, reporter, NULL);
		if (!err)
			pthread_detach(t);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		sigaddset(&sa.sa_mask, stop_sigs[i]);
	sigaddset(&sa.sa_mask, SIGUSR1);
	/* No SA_RESTART: a read from a quiet pipe must give way to Ctrl-C. */
	sa.sa_handler = on_stop;
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		sigaction(stop_sigs[i], &sa, NULL);
	/* A status request must not fail a write with EINTR. */
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_status;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_pipe;
	sigaction(SIGPIPE, &sa, &old_sa);
	pipe_ignored = old_sa.sa_handler == SIG_IGN;
	installed = 1;
	return 0;
}

void signals__arm(struct runtime *rt, struct recorder *rec, void (*status)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&arm_lock);
	the_rt = rt;
	the_rec = rec;
	the_status = status;
	the_ctx = ctx;
	pthread_mutex_unlock(&arm_lock);
}

void signals__restore(void)
{
	/* Not SIGPIPE: stdio still flushes at exit, and a reader gone must not kill us then. */
	const int all[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 };

	signals__arm(NULL, NULL, NULL, NULL);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		signal(all[i], SIG_DFL);
}

int signals__fd(void)
{
	return wake[0];
}

void signals__ack(void)
{
	char buf[64];

	while (read(wake[0], buf, sizeof(buf)) > 0)
		;
	signals_pending = 0;
	/* A stop stays pending: whoever looks next must see it. */
	if (stops)
		poke();
}

int signals__pipe_ignored(void)
{
	return pipe_ignored;
}

int signals__stop(void)
{
	return first;
}

int signals__count(void)
{
	return stops;
}

void signals__lua_enter(void)
{
	in_lua = 1;
}

void signals__lua_leave(void)
{
	in_lua = 0;
	if (stops >= 2)
		settled = 1;
}

void signals__settled(void)
{
	settled = 1;
}
