/* The run's signals (private to core/run): stop, interrupt, force; status; SIGPIPE as EPIPE. */
#ifndef TCPDROP_RUN_SIGNALS_H
#define TCPDROP_RUN_SIGNALS_H

#include <signal.h>

struct runtime;
struct recorder;

/* Set by the stop signals' handler: the cheap test a hot loop makes. */
extern volatile sig_atomic_t signals_pending;

/*
 * Handlers for the run: INT, TERM, HUP and QUIT stop it (the first: take no new work; the
 * second: runtime__interrupt() the hook that runs; a third, or 2 s after the second with the
 * hook still running: write out rec's buffered blocks, one line, _exit(1)); USR1 asks for a
 * status line; SIGPIPE does nothing, so that a write to a reader that went away fails with
 * EPIPE and is handled as any write error. Handlers, not SIG_IGN: a command the script starts
 * gets the default actions back at exec. 0 or -errno.
 */
int signals__install(void);
/* What the handlers act on, and status(ctx) for SIGUSR1 (from another thread); any may be NULL. */
void signals__arm(struct runtime *rt, struct recorder *rec, void (*status)(void *ctx), void *ctx);
/* The default actions back (SIGPIPE's handler stays); nothing armed. */
void signals__restore(void);
/* The fd that is readable once a handler ran (for the event loop); drain with signals__ack. */
int signals__fd(void);
void signals__ack(void);

/* Whoever started us ignored SIGPIPE: a reader going away is an error to say, not a stop. */
int signals__pipe_ignored(void);
/* The stop signal that came first, or 0. */
int signals__stop(void);
/* How many stop signals came. */
int signals__count(void);

/* Around the calls into Lua: only then may a forced end write out the recorder. */
void signals__lua_enter(void);
void signals__lua_leave(void);
/* The hook a second signal interrupted has returned: no forced end but by a third signal. */
void signals__settled(void);

#endif
