/* The embedded LuaJIT: every call into Lua goes through lua_pcall with a traceback handler. */
#include "lua/bridge.h"
#include "lua/cfuncs.h"
#include "lua/corelib.h"
#include "sym/sym.h"
#include "util/util.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* With --keep-going, the errors shown in full before the rest are only counted. */
#define ERRORS_SHOWN 10
/* Chunk names of the embedded runtime: tracebacks leave these frames out. */
#define INTERNAL_CHUNK "[tcpdrop]/"
/* Commands that could not start: the first in this many seconds is said, the others counted. */
#define REFUSALS_WINDOW_NS (10 * 1000000000ULL)

/*
 * The run's state. The Lua functions of tcpdrop.core find it as their upvalue, the error handler
 * and the interrupt hook through the registry (REGISTRY_KEY): nothing of a run in file statics.
 */
struct runtime {
	lua_State *L;
	int rt_ref; /* the tcpdrop.runtime module table */
	int keep_going;
	int owners; /* runtime_opts' owners */
	uint64_t errors;
	int failed; /* a hook raised and we are not keeping going */
	struct names *nm;
	struct ksyms *ks; /* the run's symbols: Lua hands it back to the frame functions */
	volatile sig_atomic_t in_lua; /* a call into Lua is under way */
	volatile sig_atomic_t interrupted; /* runtime__interrupt() came during it */
	volatile int halt; /* runtime__halt(): the dispatch loop reads it before each event */
	uint64_t refusals_since; /* CLOCK_MONOTONIC ns of the last refusal said in full */
	uint64_t refusals_quiet; /* refused since, not said */
	char last_refusal[256];
};

/* os.exit() raises this (lua/runtime.lua): a clean exit, not an error. Only its address counts. */
static const char exit_token = 'x';

/* Functions the runtime reaches through tcpdrop.core: none of them is on the per-event path. */

static struct runtime *self(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* A name from the kernel's BTF, printable once here rather than at each drop that shows it. */
static void push_name(lua_State *L, const char *s)
{
	size_t n = strlen(s);
	char *safe;

	if (vis__plain(s, n)) {
		lua_pushlstring(L, s, n);
		return;
	}
	safe = lua_newuserdata(L, 4 * n + 1);
	vis__text(safe, 4 * n + 1, s, n, 0);
	lua_pushstring(L, safe);
	lua_remove(L, -2);
}

static int l_reason_name(lua_State *L)
{
	uint32_t code = (uint32_t)luaL_checknumber(L, 1);
	const char *name = names__reason(self(L)->nm, code);

	if (name)
		push_name(L, name);
	else
		lua_pushfstring(L, "%d", (int)code);
	return 1;
}

/* A printable command name for a message. */
static void vis_name(char *dst, size_t cap, const char *s)
{
	if (vis__text(dst, cap, s, strlen(s), 0) < 0)
		snprintf(dst, cap, "(a long name)");
}

/* Say the refused commands that were only counted, and since when. */
static void refusals_flush(struct runtime *rt)
{
	if (!rt->refusals_quiet)
		return;
	msg("%llu more command%s could not run in the last %llu s (the last: %s)",
	    (unsigned long long)rt->refusals_quiet, rt->refusals_quiet == 1 ? "" : "s",
	    (unsigned long long)(REFUSALS_WINDOW_NS / 1000000000ULL), rt->last_refusal);
	rt->refusals_quiet = 0;
}

/* A script that spawns on every drop would say so on every drop: one line, then a count. */
static void refusal(struct runtime *rt, const char *cmd, const char *why)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	char name[96];

	vis_name(name, sizeof(name), cmd);
	snprintf(rt->last_refusal, sizeof(rt->last_refusal), "%.96s: %.128s", name, why);
	if (rt->refusals_since && now - rt->refusals_since < REFUSALS_WINDOW_NS) {
		rt->refusals_quiet++;
		return;
	}
	refusals_flush(rt);
	rt->refusals_since = now;
	msg("cannot run %s", rt->last_refusal);
}

/* spawn({argv...}): pid, or nil and the reason (also said on stderr). */
static int l_spawn(lua_State *L)
{
	int n = (int)lua_objlen(L, 1);
	const char **argv = xcalloc((size_t)n + 1, sizeof(*argv));
	int pid;

	for (int i = 0; i < n; i++) {
		lua_rawgeti(L, 1, i + 1);
		argv[i] = lua_tostring(L, -1); /* the table keeps the string alive */
		lua_pop(L, 1);
	}
	pid = actions__spawn(argv);
	if (pid < 0) {
		const char *why =
			pid == -EAGAIN ? "too many commands still running" : strerror(-pid);

		refusal(self(L), argv[0], why);
		free(argv);
		lua_pushnil(L);
		lua_pushstring(L, why);
		return 2;
	}
	free(argv);
	lua_pushinteger(L, pid);
	return 1;
}

static int l_errors(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)self(L)->errors);
	return 1;
}

/*
 * The message and a traceback of the script's own frames: the embedded runtime's frames and C
 * frames say nothing a script author can act on. os.exit()'s token passes unchanged.
 */
static int traceback(lua_State *L)
{
	const char *m = lua_tostring(L, 1);
	const char *tb, *line, *hdr;
	luaL_Buffer b;
	int frames = 0;

	if (lua_touserdata(L, 1) == &exit_token)
		return 1;
	luaL_traceback(L, L, m ? m : "(error object is not a string)", 1);
	tb = lua_tostring(L, -1);
	hdr = strstr(tb, "\nstack traceback:");
	if (!hdr)
		return 1;
	luaL_buffinit(L, &b);
	luaL_addlstring(&b, tb, (size_t)(hdr - tb));
	luaL_addstring(&b, "\nstack traceback:");
	for (line = strchr(hdr + 1, '\n'); line; line = strchr(line + 1, '\n')) {
		size_t len = strcspn(line + 1, "\n");

		if (!strncmp(line + 1, "\t[C]:", 5) ||
		    !strncmp(line + 1, "\t" INTERNAL_CHUNK, strlen(INTERNAL_CHUNK) + 1))
			continue;
		luaL_addchar(&b, '\n');
		luaL_addlstring(&b, line + 1, len);
		frames++;
	}
	luaL_pushresult(&b);
	if (!frames) {
		lua_pop(L, 1);
		lua_pushlstring(L, tb, (size_t)(hdr - tb));
	}
	return 1;
}

static int plain_message(lua_State *L)
{
	if (lua_touserdata(L, 1) != &exit_token && !lua_tostring(L, 1))
		lua_pushliteral(L, "(error object is not a string)");
	return 1;
}

/*
 * The interrupt: every Lua instruction, call and return raises until the call from C returns,
 * so that a pcall in the script cannot swallow it. C functions (the error handler) still run.
 */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
	if (lua_getinfo(L, "S", ar) && ar->what[0] == 'C')
		return;
	lua_pushliteral(L, "interrupted"); /* where: the traceback says */
	lua_error(L);
}

void runtime__halt(struct runtime *rt)
{
	rt->halt = 1;
}

unsigned int runtime__left(struct runtime *rt)
{
	lua_State *L = rt->L;
	unsigned int n;

	if (!rt->halt)
		return 0;
	lua_rawgeti(L, LUA_REGISTRYINDEX, rt->rt_ref);
	lua_getfield(L, -1, "left");
	n = (unsigned int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	lua_pushinteger(L, 0);
	lua_setfield(L, -2, "left");
	lua_pop(L, 1);
	return n;
}

void runtime__interrupt(struct runtime *rt)
{
	rt->interrupted = 1;
	if (rt->in_lua)
		lua_sethook(rt->L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

enum { CALL_OK, CALL_ERROR, CALL_EXIT, CALL_INTERRUPTED };

/* lua_pcall of the function below the nargs arguments, under handler. */
static int pcall_with(struct runtime *rt, lua_CFunction handler, int nargs, int nres)
{
	lua_State *L = rt->L;
	int base = lua_gettop(L) - nargs; /* the function */
	int err;

	lua_pushcfunction(L, handler);
	lua_insert(L, base);
	rt->interrupted = 0;
	rt->in_lua = 1;
	err = lua_pcall(L, nargs, nres, base);
	rt->in_lua = 0;
	if (rt->interrupted)
		lua_sethook(L, NULL, 0, 0);
	lua_remove(L, base);
	if (!err)
		return CALL_OK;
	if (lua_touserdata(L, -1) == &exit_token) {
		lua_pop(L, 1);
		return CALL_EXIT;
	}
	return rt->interrupted ? CALL_INTERRUPTED : CALL_ERROR;
}

/* Call the runtime's function `name` with nargs arguments already pushed. A CALL_* value. */
static int call(struct runtime *rt, const char *name, int nargs, int nres, int with_trace)
{
	lua_State *L = rt->L;

	lua_rawgeti(L, LUA_REGISTRYINDEX, rt->rt_ref);
	lua_getfield(L, -1, name);
	lua_remove(L, -2);
	lua_insert(L, lua_gettop(L) - nargs);
	return pcall_with(rt, with_trace ? traceback : plain_message, nargs, nres);
}

/* A message from Lua on stderr: printable whatever the script put in it. Pops it. */
static void say(lua_State *L)
{
	size_t n;
	const char *m = lua_tolstring(L, -1, &n);
	char *safe = xmalloc(4 * n + 1);

	if (vis__text(safe, 4 * n + 1, m ? m : "?", m ? n : 1, VIS_TEXT_LINES) >= 0)
		msg("%s", safe);
	free(safe);
	lua_pop(L, 1);
}

/*
 * A call did not return: a hook error is said (with --keep-going, only the first few in full)
 * and returns -1; an interrupt is said and, like os.exit(), returns 1 (stop, done still runs).
 */
static int hook_failed(struct runtime *rt, int how)
{
	if (how == CALL_EXIT)
		return 1;
	if (how == CALL_INTERRUPTED) {
		say(rt->L);
		return 1;
	}
	rt->errors++;
	if (!rt->keep_going || rt->errors <= ERRORS_SHOWN)
		say(rt->L);
	else
		lua_pop(rt->L, 1);
	if (rt->keep_going && rt->errors == ERRORS_SHOWN)
		msg("further script errors are counted, not shown (--keep-going)");
	if (!rt->keep_going)
		rt->failed = 1;
	return -1;
}

static void push_names(lua_State *L, struct names *nm)
{
	lua_newtable(L);
	for (int64_t c = names__next_reason(nm, -1); c >= 0; c = names__next_reason(nm, c)) {
		push_name(L, names__reason(nm, (uint32_t)c));
		lua_rawseti(L, -2, (int)c);
	}
	lua_setfield(L, -2, "reasons");
	lua_newtable(L);
	for (unsigned int c = 0; c < 32; c++) {
		const char *s = names__state(nm, c);

		if (s) {
			push_name(L, s);
			lua_rawseti(L, -2, (int)c);
		}
	}
	lua_setfield(L, -2, "states");
}

static void push_core(lua_State *L, struct runtime *rt)
{
	static const struct {
		const char *name;
		int value;
	} flags[] = {
		{ "PKT_HDRS", TCPDROP_F_PKT_HDRS },
		{ "SOCK", TCPDROP_F_SOCK },
		{ "NO_REASON", TCPDROP_F_NO_REASON },
		{ "STACK_SKIPPED", TCPDROP_F_STACK_SKIPPED },
		{ "STACK_FAILED", TCPDROP_F_STACK_FAILED },
		{ "NO_STACK", TCPDROP_F_NO_STACK },
		{ "FRAME_IDS", TCPDROP_F_FRAME_IDS },
		/* owner_flags' bits */
		{ "O_OWNER", TCPDROP_O_OWNER },
		{ "O_CLOSED", TCPDROP_O_CLOSED },
		{ "O_UID", TCPDROP_O_UID },
		{ "O_CGROUP_SK", TCPDROP_O_CGROUP_SK },
		{ "O_CGROUP_TASK", TCPDROP_O_CGROUP_TASK },
		{ "O_LISTENER", TCPDROP_O_LISTENER },
	};
	static const luaL_Reg funcs[] = {
		{ "reason_name", l_reason_name },
		{ "spawn", l_spawn },
		{ "errors", l_errors },
	};

	lua_newtable(L);
	lua_pushstring(L, embedded_cdef);
	lua_setfield(L, -2, "cdef");
	lua_pushlightuserdata(L, (void *)cfuncs__table());
	lua_setfield(L, -2, "cfuncs");
	lua_pushlightuserdata(L, rt->ks);
	lua_setfield(L, -2, "ksyms");
	/* ksym's flag for a return address (every frame but the first): looked up at address-1. */
	lua_pushnumber(L, KSYMS_RET);
	lua_setfield(L, -2, "ksyms_ret");
	lua_pushlightuserdata(L, (void *)&exit_token);
	lua_setfield(L, -2, "exit_token");
	/* An address as a number, as dispatch's batches: the FFI compiles that cast. */
	lua_pushnumber(L, (lua_Number)(uintptr_t)&rt->halt);
	lua_setfield(L, -2, "halt");
	lua_pushnumber(L, sizeof(struct tcpdrop_event));
	lua_setfield(L, -2, "event_size");
	/* The room lua/out.lua reserves before the column functions write into a buffer. */
	lua_pushnumber(L, COLUMNS_FLOW_ROOM);
	lua_setfield(L, -2, "flow_room");
	lua_pushnumber(L, COLUMNS_FRAMES_ROOM);
	lua_setfield(L, -2, "frames_room");
	lua_pushnumber(L, RUNTIME_MAX_KEYS);
	lua_setfield(L, -2, "max_keys");
	lua_pushstring(L, TCPDROP_VERSION);
	lua_setfield(L, -2, "version");
	lua_newtable(L);
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		lua_pushinteger(L, flags[i].value);
		lua_setfield(L, -2, flags[i].name);
	}
	lua_setfield(L, -2, "flags");
	push_names(L, rt->nm);
	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++) {
		lua_pushlightuserdata(L, rt);
		lua_pushcclosure(L, funcs[i].func, 1);
		lua_setfield(L, -2, funcs[i].name);
	}
	corelib__open(L);
	kcount__open(L);
	owner__open(L, rt->owners, rt->nm);
	lua_newtable(L);
	for (const struct embedded *e = embedded_scripts; e->name; e++) {
		lua_pushlstring(L, e->data, e->len);
		lua_setfield(L, -2, e->name);
	}
	lua_setfield(L, -2, "scripts");
}

/* Make the embedded modules require()-able and the core table available as tcpdrop.core. */
static void install_modules(lua_State *L, struct runtime *rt)
{
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "loaded");
	push_core(L, rt);
	lua_setfield(L, -2, "tcpdrop.core");
	lua_pop(L, 1);
	lua_getfield(L, -1, "preload");
	for (const struct embedded *e = embedded_modules; e->name; e++) {
		char chunk[96];

		snprintf(chunk, sizeof(chunk), "@" INTERNAL_CHUNK "%s.lua",
			 e->name + strlen("tcpdrop."));
		if (luaL_loadbuffer(L, e->data, e->len, chunk))
			luaL_error(L, "loading %s: %s", e->name, lua_tostring(L, -1));
		lua_setfield(L, -2, e->name);
	}
	lua_pop(L, 2);
}

static void set_str(lua_State *L, const char *k, const char *v, size_t n)
{
	if (!v)
		return;
	lua_pushlstring(L, v, n);
	lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, double v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

struct setup {
	struct runtime *rt;
	const struct runtime_opts *ro;
	int status; /* of the runtime's setup(): a CALL_* value */
};

/*
 * Build the state and compile the script, under lua_cpcall: a failed allocation raises here
 * instead of aborting the process in LuaJIT's panic handler.
 */
static int setup_protected(lua_State *L)
{
	struct setup *s = lua_touserdata(L, 1);
	const struct runtime_opts *ro = s->ro;

	luaL_openlibs(L);
	install_modules(L, s->rt);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "tcpdrop.runtime");
	if (pcall_with(s->rt, traceback, 1, 1))
		luaL_error(L, "%s", lua_tostring(L, -1));
	s->rt->rt_ref = luaL_ref(L, LUA_REGISTRYINDEX);

	lua_newtable(L);
	if (ro->script_src) {
		set_str(L, "script_src", ro->script_src,
			ro->script_len ? ro->script_len : strlen(ro->script_src));
		if (ro->script_chunk)
			set_str(L, "script_chunk", ro->script_chunk, strlen(ro->script_chunk));
		else
			set_str(L, "script_chunk", "=script", 7);
	}
	if (ro->filter_expr)
		set_str(L, "filter_expr", ro->filter_expr, strlen(ro->filter_expr));
	if (ro->exec_code)
		set_str(L, "exec_code", ro->exec_code, strlen(ro->exec_code));
	if (ro->count)
		set_num(L, "count", (double)ro->count);
	if (ro->interval > 0)
		set_num(L, "interval", ro->interval);
	if (ro->max_keys)
		set_num(L, "max_keys", (double)ro->max_keys);
	lua_newtable(L);
	for (int i = 0; i < ro->nargs; i++) {
		lua_pushstring(L, ro->args[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "args");
	/* A script that does not compile, or fails as it loads: file:line, no traceback. */
	s->status = call(s->rt, "setup", 1, 0, 0);
	if (s->status == CALL_ERROR || s->status == CALL_INTERRUPTED)
		say(L);
	return 0;
}

int runtime__new(const struct runtime_opts *ro, struct names *nm, struct ksyms *ks,
		 struct runtime **out)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));
	struct setup s = { .rt = rt, .ro = ro, .status = CALL_OK };
	lua_State *L = luaL_newstate();

	if (!L) {
		msg("cannot create the Lua state (out of memory?)");
		free(rt);
		return -ENOMEM;
	}
	rt->ks = ks;
	rt->L = L;
	rt->nm = nm;
	rt->keep_going = ro->keep_going;
	rt->owners = ro->owners;
	if (lua_cpcall(L, setup_protected, &s)) {
		msg("internal error: %s", lua_tostring(L, -1));
		goto fail;
	}
	/* os.exit() as the script loads: nothing traced, the exit code the script gave. */
	if (s.status == CALL_ERROR || s.status == CALL_INTERRUPTED)
		goto fail;
	*out = rt;
	return 0;
fail:
	lua_close(L);
	free(rt);
	return -EINVAL;
}

void runtime__free(struct runtime *rt)
{
	if (!rt)
		return;
	actions__reap();
	refusals_flush(rt);
	lua_close(rt->L);
	free(rt);
}

int runtime__init(struct runtime *rt, double *interval)
{
	int ret;

	ret = call(rt, "init", 0, 2, 1);
	if (ret) {
		ret = hook_failed(rt, ret);
		if (ret < 0)
			rt->failed = 1;
		return ret;
	}
	*interval = lua_isnumber(rt->L, -2) ? lua_tonumber(rt->L, -2) : 0;
	ret = lua_toboolean(rt->L, -1);
	lua_pop(rt->L, 2);
	return ret ? 1 : 0;
}

static int pos(struct runtime *rt)
{
	int p;

	lua_rawgeti(rt->L, LUA_REGISTRYINDEX, rt->rt_ref);
	lua_getfield(rt->L, -1, "pos");
	p = (int)lua_tointeger(rt->L, -1);
	lua_pop(rt->L, 2);
	return p;
}

/* Children that exited are collected as soon as we pass by, not only once a second. */
static void reap_if_any(void)
{
	struct action_stats st;

	actions__stats(&st);
	if (st.running)
		actions__reap();
}

int runtime__dispatch(struct runtime *rt, struct tcpdrop_event *ev, unsigned int n)
{
	unsigned int start = 0;
	int ret = 0;

	while (start < n) {
		/*
		 * The address as a number, not a light userdata: LuaJIT cannot
		 * compile ffi.cast() of a light userdata, and each abort there
		 * counts towards blacklisting the traces through dispatch. A
		 * user-space address (< 2^48) is exact in a double.
		 */
		lua_pushnumber(rt->L, (lua_Number)(uintptr_t)ev);
		lua_pushnumber(rt->L, n);
		lua_pushnumber(rt->L, start);
		ret = call(rt, "dispatch", 3, 1, 1);
		if (ret) {
			ret = hook_failed(rt, ret);
			if (ret > 0 || !rt->keep_going)
				break;
			ret = 0;
			start = (unsigned int)pos(rt) + 1;
			continue;
		}
		ret = (int)lua_tointeger(rt->L, -1);
		lua_pop(rt->L, 1);
		break;
	}
	reap_if_any();
	return ret;
}

int runtime__tick(struct runtime *rt, uint64_t n)
{
	int ret;

	reap_if_any();
	lua_pushnumber(rt->L, (lua_Number)n);
	ret = call(rt, "tick", 1, 1, 1);
	if (ret) {
		ret = hook_failed(rt, ret);
		return ret < 0 && rt->keep_going ? 0 : ret;
	}
	ret = (int)lua_tointeger(rt->L, -1);
	lua_pop(rt->L, 1);
	return ret;
}

/* The core's counters, as numbers: the table is built in Lua (lua/runtime.lua). */
static void push_stats(lua_State *L, const struct run_stats *st)
{
	lua_pushnumber(L, (lua_Number)st->seen);
	lua_pushnumber(L, (lua_Number)st->lost);
	lua_pushnumber(L, (lua_Number)st->filtered_kernel);
	lua_pushnumber(L, (lua_Number)st->stacks_skipped);
	lua_pushnumber(L, (lua_Number)st->stacks_failed);
	lua_pushnumber(L, (lua_Number)st->errors);
	lua_pushnumber(L, (lua_Number)st->counted);
	lua_pushstring(L, st->coverage); /* nil when NULL */
}
#define STATS_ARGS 8

void runtime__set_clock(struct runtime *rt, uint64_t ns)
{
	lua_pushnumber(rt->L, (lua_Number)ns / 1e9);
	if (call(rt, "set_clock", 1, 0, 0))
		lua_pop(rt->L, 1);
}

void runtime__housekeeping(struct runtime *rt, const struct run_stats *st)
{
	actions__reap();
	if (rt->refusals_quiet &&
	    now_ns(CLOCK_MONOTONIC) - rt->refusals_since >= REFUSALS_WINDOW_NS)
		refusals_flush(rt);
	if (!st)
		return;
	push_stats(rt->L, st);
	if (call(rt, "kernel_stats", STATS_ARGS, 0, 1)) {
		msg("internal error: %s", lua_tostring(rt->L, -1));
		lua_pop(rt->L, 1);
	}
}

int runtime__done(struct runtime *rt, struct run_stats *st)
{
	int ret;

	actions__reap();
	refusals_flush(rt);
	st->errors = rt->errors;
	push_stats(rt->L, st);
	ret = call(rt, "done", STATS_ARGS, 0, 1);
	if (ret == CALL_ERROR) {
		hook_failed(rt, ret);
		rt->failed = 1;
		st->errors = rt->errors;
		return -1;
	}
	if (ret) {
		hook_failed(rt, ret);
		/* os.exit() in done(): the rest of the end still happens. */
		if (ret == CALL_EXIT && call(rt, "done_rest", 0, 0, 1))
			hook_failed(rt, CALL_ERROR);
	}
	return 0;
}

int runtime__exit_code(struct runtime *rt)
{
	int code = -1;

	if (rt->failed)
		return 1;
	lua_rawgeti(rt->L, LUA_REGISTRYINDEX, rt->rt_ref);
	lua_getfield(rt->L, -1, "exit_code");
	if (lua_isnumber(rt->L, -1))
		code = (int)lua_tointeger(rt->L, -1);
	lua_pop(rt->L, 2);
	/* Errors skipped with --keep-going still make the run a failure, unless the script chose.
	 */
	if (code < 0 && rt->errors)
		code = 1;
	return code;
}

lua_State *runtime__lua(struct runtime *rt)
{
	return rt->L;
}

int runtime__call(struct runtime *rt, const char *name, int nargs, int nres)
{
	int ret = call(rt, name, nargs, nres, 1);

	return ret ? hook_failed(rt, ret) : 0;
}

int runtime__metrics(struct runtime *rt, char **text, size_t *len)
{
	lua_State *L = rt->L;
	const char *s;

	*text = NULL;
	*len = 0;
	/* Only a script that required the module has series: it is not loaded for nothing. */
	lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
	lua_getfield(L, -1, "tcpdrop.metrics");
	lua_remove(L, -2);
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	lua_getfield(L, -1, "render");
	lua_remove(L, -2);
	if (pcall_with(rt, plain_message, 0, 1) != CALL_OK) {
		say(L);
		return -1;
	}
	s = lua_tolstring(L, -1, len);
	if (s)
		*text = memcpy(xmalloc(*len + 1), s, *len + 1);
	lua_pop(L, 1);
	return 0;
}

uint64_t runtime__errors(struct runtime *rt)
{
	return rt->errors;
}
