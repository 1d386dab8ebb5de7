/* The Lua bridge: the LuaJIT state, hooks under pcall, actions, printer helpers. */
#ifndef TCPDROP_LUA_BRIDGE_H
#define TCPDROP_LUA_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "drop.h"

/* --- The embedded LuaJIT: loads the runtime and the user's script, runs the hooks under pcall. */

struct names;
struct ksyms;
struct runtime;

/* Largest script file -s reads; a bigger one is refused, never cut. */
#define RUNTIME_SCRIPT_MAX (16 << 20)

struct runtime_opts {
	const char *script_src; /* NULL: none (the default printer runs) */
	size_t script_len;
	const char *script_chunk; /* "@path" for error messages */
	const char *filter_expr;
	const char *exec_code;
	char **args;
	int nargs;
	uint64_t count; /* 0: no limit */
	int keep_going;
	double interval; /* -i seconds; wins over tcpdrop.interval() from init; 0: none */
	/* Keys each aggregation keeps (--max-keys: wins over tcpdrop.max_keys()); 0: the default,
	 * RUNTIME_MAX_KEYS. */
	uint64_t max_keys;
	/* Resolve the owner fields (e.container, e.pod, ...) on this machine: live runs only; a
	 * replay's ids are another time's, maybe another machine's ("-"). */
	int owners;
};

#define RUNTIME_MAX_KEYS 10000

/* Release what runtime_opts__from (core/cli) read: the script's source and chunk name. */
void runtime_opts__free(struct runtime_opts *ro);

/*
 * -s SPEC: a file when SPEC has a '/' or ends in ".lua", else the name of a shipped script (a
 * file of that name in the current directory is never run). Its source (NUL-terminated, len
 * bytes, none of them NUL) and the chunk name ("@path" or "@name.lua") for messages; both to
 * free(). 0, or -errno after one line on stderr: not found, not a regular file, bigger than
 * RUNTIME_SCRIPT_MAX, a NUL byte in it.
 */
int runtime__script_source(const char *spec, char **src, size_t *len, char **chunk);

/*
 * Load the runtime and compile the script, -f and -e. -EINVAL after printing one line (file:line
 * for a syntax error) when anything does not load: the caller exits 2 before attaching.
 */
int runtime__new(const struct runtime_opts *ro, struct names *nm, struct ksyms *ks,
		 struct runtime **out);
/* Also collects the commands the script started that have exited (the rest outlive us). */
void runtime__free(struct runtime *rt);

/*
 * Make the Lua code running now (a hook in an endless loop, say) raise "interrupted" at its next
 * interpreted instruction; its call then returns 1 (stop), as tcpdrop.exit() would, and done()
 * can run (interrupt again to stop a done() that loops). A pcall in the script cannot swallow it:
 * every instruction raises until the call from C returns. Async-signal-safe: a flag and
 * lua_sethook(), as lua.c does on Ctrl-C; call it from a signal handler while runtime__dispatch,
 * tick, init or done runs. When no Lua runs, it does nothing (the caller's stop flag ends the run).
 *
 * Not seen by a loop the JIT compiled into one trace that never exits (`while true do end`,
 * arithmetic only): LuaJIT checks hooks in its interpreter alone, and the one way to make traces
 * check a flag, the profiler's checks (luaJIT_profile_start), miscompiles field reads on the
 * LuaJIT this builds with (2.1.0-beta3, 2022). A loop that calls anything not compiled (io, os,
 * a C function, an error) does see it. The caller's answer to a second signal should not depend
 * on Lua: restore the default action (the process ends, done() does not run).
 */
void runtime__interrupt(struct runtime *rt);

/*
 * Hand no more events to the script: runtime__dispatch returns 1 (stop) before the next one,
 * leaving the rest of its batch (runtime__left says how many), and so does every later call.
 * The hook running now finishes; done() runs as usual. A store to a flag the dispatch loop reads
 * before each event: callable from a signal handler or another thread, while the runtime lives.
 */
void runtime__halt(struct runtime *rt);
/* After runtime__halt: the events the last runtime__dispatch left undelivered (then 0). */
unsigned int runtime__left(struct runtime *rt);

/*
 * Run init(args); *interval = the tick interval in effect (-i, else tcpdrop.interval() from
 * init; 0: none). 0 go on, 1 the script called tcpdrop.exit() (run done, no tracing), -1 error.
 */
int runtime__init(struct runtime *rt, double *interval);
/* Hand a batch to filter/drop. 0 go on, 1 stop (count reached or tcpdrop.exit), <0 error. */
int runtime__dispatch(struct runtime *rt, struct tcpdrop_event *ev, unsigned int n);
/* tick(n), then print the aggregations. 0, 1 (stop) or <0. */
int runtime__tick(struct runtime *rt, uint64_t n);
/*
 * Once a second from the event loop, and at exit: reap the commands tcpdrop.spawn() started
 * that have exited, and (st may be NULL) refresh the counters tcpdrop.stats() reports.
 */
void runtime__housekeeping(struct runtime *rt, const struct run_stats *st);
/*
 * Replay: the run's clock is the recorded time (ns, CLOCK_REALTIME), that of the event being
 * handled, else the last one set here; tcpdrop.now()/time()/every() and tick headers use it.
 */
void runtime__set_clock(struct runtime *rt, uint64_t ns);
/* done(stats), then the aggregations not printed yet. 0 or -1 (a hook error). */
int runtime__done(struct runtime *rt, struct run_stats *st);
/*
 * 1 after a hook error that stopped the run; else the code given to tcpdrop.exit(); else 1 if
 * errors were skipped (--keep-going: never a silent success); else -1.
 */
int runtime__exit_code(struct runtime *rt);
/*
 * --metrics: the script's own series (lua/metrics.lua), as text to free() (*text NULL: the
 * script made none). 0, or -1 after one line (its render failed).
 */
int runtime__metrics(struct runtime *rt, char **text, size_t *len);
uint64_t runtime__errors(struct runtime *rt);

/*
 * --- Counting in the kernel (kcount, lua/kcount.lua): the tables the runtime asks for before the
 * probe loads, and their rows handed back at each tick and at exit.
 */

struct runtime_kcount_plan {
	uint32_t keys[TCPDROP_KC_MAX_TABLES]; /* each table's TCPDROP_KC_* bits */
	uint32_t max_keys[TCPDROP_KC_MAX_TABLES];
	unsigned int n;
	int events; /* the runtime still wants the events (a hook, the default printer) */
	char why[256]; /* what -v says: "counted in the kernel (keys: ...)", or why not; "": none */
	int owners; /* the hooks may read the owner fields (a script, or -e/-f naming one) */
};

/*
 * After runtime__new, before the source starts: the -e one-liner counted in the kernel when it
 * is exactly an aggregation by probe fields, and the script's tcpdrop.kcount tables. no_kernel:
 * NULL, or why no kernel counts here (--no-kernel-count; a replay); events: NULL, or why the run
 * needs the events whatever the runtime does (-w, a pcap filter); free_tables: the kernel's tables
 * other clients left. 0, or -1 after one line.
 */
int runtime__kcount_plan(struct runtime *rt, const char *no_kernel, const char *events,
			 unsigned int free_tables, struct runtime_kcount_plan *plan);

/*
 * Table t of the plan: n keys with their drops and bytes, and the drops whose key found no room
 * (overflow), into the aggregations or the script's handle, as the events would have been.
 * 0, 1 (stop) or -1 (an error, said).
 */
int runtime__kcount_feed(struct runtime *rt, unsigned int t, const struct tcpdrop_kkey *keys,
			 const uint64_t *counts, const uint64_t *bytes, size_t n,
			 uint64_t overflow);

/* --- What a script can do beyond printing: start a command (no shell, reaped), log to syslog. */

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

/* --- Parts of the printers' lines, written in C for Lua (through struct tcpdrop_cfuncs). */

/* An address as text (IPv6 when family is 6, else IPv4) into buf; its length, 0 on failure. */
int columns__ntop(int family, const void *addr, char *buf, int len);

#define COLUMNS_PID_MAX 32 /* widest PID column asked for */
/* Room columns__flow() needs at buf besides the time: two IPv6 endpoints at their widest. */
#define COLUMNS_FLOW_ROOM 176

/*
 * "TIME PID IP SADDR:SPORT > DADDR:DPORT " as bcc's tcpdrop starts a line: TIME (time_len
 * bytes) in 8 columns, the PID in pid_width, IP in 2, each endpoint in 20; each at least its
 * width, like %-Ns; IPv6 endpoints as [ADDR]:PORT when bracket is set (all but the 2018
 * format). Returns the bytes written, at most time_len + COLUMNS_FLOW_ROOM.
 */
int columns__flow(void *buf, const struct tcpdrop_event *e, int pid_width, int bracket,
		  const char *time, int time_len);

/* Longest frame text, as e.stack's frames: what the symboliser gets room for (and a NUL). */
#define COLUMNS_FRAME_MAX 512
/* Room columns__frames() needs for a full stack. */
#define COLUMNS_FRAMES_ROOM (TCPDROP_STACK_MAX * (COLUMNS_FRAME_MAX + 2))

/*
 * A frame's text into buf (room for len bytes with the NUL); its length (as ksyms__frame_into()).
 * ids: the event's TCPDROP_F_FRAME_IDS, v a frame-text id rather than a kernel address.
 */
typedef int (*columns_sym_fn)(void *ctx, __u64 v, int ids, char *buf, int len);

/*
 * The stack's frames, a "\tFRAME\n" line each, at buf (room for len bytes; frames that do not
 * fit are left out, never cut). Returns the bytes written.
 */
int columns__frames(void *buf, int len, const struct tcpdrop_event *e, columns_sym_fn sym,
		    void *ctx);

/* --- Text that is safe on a terminal. */

/*
 * src (n bytes) into dst (room for cap bytes with the NUL), bytes that a terminal would act on
 * escaped by strnvis(3) in C style: C0 controls and DEL (\033, \001, \177), C1 controls (0x9b
 * alone as \233, U+009B as \302\233), bytes that are not UTF-8, and the backslash (\\).
 * Printable ASCII and valid UTF-8 pass unchanged. With VIS_TEXT_LINES, newline and tab pass too
 * (messages of several lines). Returns the length written, or -ENOSPC (4 * n + 1 always fits).
 */
#define VIS_TEXT_LINES 1
int vis__text(char *dst, size_t cap, const char *src, size_t n, int how);
/* 1 when vis__text would change nothing in src (n bytes) for want of anything to escape:
 * printable ASCII without a backslash (the common case, checked without copying). */
int vis__plain(const char *s, size_t n);

/* --- Files compiled into the binary: the Lua runtime, the shipped scripts, the FFI cdef. */

struct embedded {
	const char *name;
	const char *data;
	size_t len;
};

extern const char embedded_cdef[];
extern const struct embedded embedded_modules[]; /* "tcpdrop.event", ...; ends with a NULL name */
extern const struct embedded embedded_scripts[]; /* "classic", ...; ends with a NULL name */

const struct embedded *embedded_script(const char *name);

#endif
