/* What a script can do beyond printing: start a command (no shell, reaped), log to syslog. */
#ifndef TCPDROP_ACTIONS_H
#define TCPDROP_ACTIONS_H

#include <stdint.h>
#include <stdio.h>

/* Commands running at once; a script that spawns faster than they finish is refused beyond. */
#define ACTIONS_MAX_CHILDREN 64

struct action_stats {
	uint64_t spawned; /* commands started */
	uint64_t spawn_failed; /* could not start (not found, not executable, too many running) */
	uint64_t failed_exit; /* exited non-zero or were killed by a signal */
	unsigned int running;
};

/*
 * Start argv[0] (searched in PATH when it has no '/') with argv, NULL-terminated; do not wait.
 * No shell, stdin from /dev/null, default signal dispositions and an empty signal mask (the
 * event loop blocks SIGINT and SIGTERM; a child must not inherit that). The pid, or -errno:
 * -EAGAIN when ACTIONS_MAX_CHILDREN are still running.
 */
int actions__spawn(const char *const *argv);

/*
 * Collect the children that have exited, never blocking: waitpid(pid, WNOHANG) on each of ours
 * only, so that a script's io.popen keeps its own child. SIGCHLD keeps its default disposition;
 * the event loop calls this once a second and at exit. Returns how many are still running.
 */
unsigned int actions__reap(void);

void actions__stats(struct action_stats *st);

/* A syslog(3) priority from "err", "warning", ... (or "0".."7"); -1 when unknown. */
int actions__syslog_level(const char *name);
/* Log one message at a LOG_* level, as "tcpdrop[pid]", facility daemon. */
void actions__syslog(int level, const char *message);
/* Tests: write "LEVEL message" lines to f instead of syslog(3) (NULL: back to syslog). */
void actions__set_syslog_file(FILE *f);

#endif
