/* The embedded LuaJIT: every call into Lua goes through lua_pcall with a traceback handler. */
#include "lua/bridge.h"
#include "lua/cfuncs.h"
#include "sym/sym.h"
#include "cli/cli.h"
#include "util/util.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
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

struct runtime {
	lua_State *L;
	int rt_ref; /* the tcpdrop.runtime module table */
	int keep_going;
	uint64_t errors;
	int failed; /* a hook raised and we are not keeping going */
};

/* The one ksyms and names a process uses, for the functions Lua calls. */
static struct ksyms *g_ksyms;
static struct names *g_names;
static struct runtime *g_rt;

/* Frames' text, for e.stack and e.location as for the printers: ksyms' one cache. */
static int c_ksym(__u64 v, int ids, char *buf, int len)
{
	return ksyms__frame_into(g_ksyms, v, ids, buf, (size_t)len);
}

static int c_frames(void *buf, int len, const struct tcpdrop_event *e)
{
	return columns__frames(buf, len, e, c_ksym);
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

const struct embedded *embedded_script(const char *name)
{
	for (const struct embedded *e = embedded_scripts; e->name; e++)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

int runtime__script_source(const char *spec, char **src, char **chunk)
{
	const struct embedded *e;
	struct stat st;

	if (!stat(spec, &st) && S_ISREG(st.st_mode)) {
		*src = read_file(spec, 16 << 20, NULL);
		if (!*src) {
			int err = -errno;

			msg("cannot read script %s: %s", spec, strerror(errno));
			return err;
		}
		*chunk = xmalloc(strlen(spec) + 2);
		sprintf(*chunk, "@%s", spec);
		return 0;
	}
	e = embedded_script(spec);
	if (!e) {
		msg("script not found: %s (no such file, and no shipped script of that name; "
		    "see --list-scripts)",
		    spec);
		return -ENOENT;
	}
	*src = xstrdup(e->data);
	*chunk = xmalloc(strlen(spec) + 6);
	sprintf(*chunk, "@%s.lua", spec);
	return 0;
}

/* Functions the runtime reaches through tcpdrop.core: none of them is on the per-event path. */

static int l_reason_name(lua_State *L)
{
	uint32_t code = (uint32_t)luaL_checknumber(L, 1);
	const char *name = names__reason(g_names, code);

	if (name)
		lua_pushstring(L, name);
	else
		lua_pushfstring(L, "%d", (int)code);
	return 1;
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

		msg("cannot run %s: %s", argv[0], why);
		free(argv);
		lua_pushnil(L);
		lua_pushstring(L, why);
		return 2;
	}
	free(argv);
	lua_pushinteger(L, pid);
	return 1;
}

static int l_syslog_level(lua_State *L)
{
	lua_pushinteger(L, actions__syslog_level(luaL_checkstring(L, 1)));
	return 1;
}

static int l_syslog(lua_State *L)
{
	actions__syslog((int)luaL_checkinteger(L, 1), luaL_checkstring(L, 2));
	return 0;
}

static int l_getpid(lua_State *L)
{
	lua_pushinteger(L, getpid());
	return 1;
}

static int l_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_optinteger(L, 1, STDOUT_FILENO)));
	return 1;
}

static int l_errors(lua_State *L)
{
	lua_pushnumber(L, g_rt ? (lua_Number)g_rt->errors : 0);
	return 1;
}

static int l_action_stats(lua_State *L)
{
	struct action_stats st;

	actions__stats(&st);
	lua_createtable(L, 0, 4);
	lua_pushnumber(L, (lua_Number)st.spawned);
	lua_setfield(L, -2, "spawned");
	lua_pushnumber(L, (lua_Number)st.spawn_failed);
	lua_setfield(L, -2, "spawn_failed");
	lua_pushnumber(L, (lua_Number)st.failed_exit);
	lua_setfield(L, -2, "failed_exit");
	lua_pushnumber(L, st.running);
	lua_setfield(L, -2, "running");
	return 1;
}

/*
 * The message and a traceback of the script's own frames: the embedded runtime's frames and C
 * frames say nothing a script author can act on.
 */
static int traceback(lua_State *L)
{
	const char *m = lua_tostring(L, 1);
	const char *tb, *line, *hdr;
	luaL_Buffer b;
	int frames = 0;

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
	if (!lua_tostring(L, 1))
		lua_pushliteral(L, "(error object is not a string)");
	return 1;
}

/* Call the runtime's function `name` with nargs arguments already pushed. */
static int call(struct runtime *rt, const char *name, int nargs, int nres, int with_trace)
{
	lua_State *L = rt->L;
	int base = lua_gettop(L) - nargs;

	lua_pushcfunction(L, with_trace ? traceback : plain_message);
	lua_rawgeti(L, LUA_REGISTRYINDEX, rt->rt_ref);
	lua_getfield(L, -1, name);
	lua_remove(L, -2);
	/* Move handler and function below the arguments. */
	lua_insert(L, base + 1);
	lua_insert(L, base + 1);
	if (lua_pcall(L, nargs, nres, base + 1)) {
		lua_remove(L, base + 1);
		return -1;
	}
	lua_remove(L, base + 1);
	return 0;
}

/* A hook raised: say so (with --keep-going, only the first few in full), pop the message. */
static void hook_error(struct runtime *rt)
{
	rt->errors++;
	if (!rt->keep_going || rt->errors <= ERRORS_SHOWN)
		msg("%s", lua_tostring(rt->L, -1));
	if (rt->keep_going && rt->errors == ERRORS_SHOWN)
		msg("further script errors are counted, not shown (--keep-going)");
	lua_pop(rt->L, 1);
	if (!rt->keep_going)
		rt->failed = 1;
}

static void push_names(lua_State *L, struct names *nm)
{
	lua_newtable(L);
	for (int64_t c = names__next_reason(nm, -1); c >= 0; c = names__next_reason(nm, c)) {
		lua_pushstring(L, names__reason(nm, (uint32_t)c));
		lua_rawseti(L, -2, (int)c);
	}
	lua_setfield(L, -2, "reasons");
	lua_newtable(L);
	for (unsigned int c = 0; c < 32; c++) {
		const char *s = names__state(nm, c);

		if (s) {
			lua_pushstring(L, s);
			lua_rawseti(L, -2, (int)c);
		}
	}
	lua_setfield(L, -2, "states");
}

static void push_core(lua_State *L, struct names *nm)
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
	};
	static const luaL_Reg funcs[] = {
		{ "reason_name", l_reason_name },
		{ "spawn", l_spawn },
		{ "syslog_level", l_syslog_level },
		{ "syslog", l_syslog },
		{ "getpid", l_getpid },
		{ "isatty", l_isatty },
		{ "errors", l_errors },
		{ "action_stats", l_action_stats },
	};

	lua_newtable(L);
	lua_pushstring(L, embedded_cdef);
	lua_setfield(L, -2, "cdef");
	lua_pushlightuserdata(L, (void *)&cfuncs);
	lua_setfield(L, -2, "cfuncs");
	lua_pushnumber(L, sizeof(struct tcpdrop_event));
	lua_setfield(L, -2, "event_size");
	/* The room lua/out.lua reserves before the column functions write into a buffer. */
	lua_pushnumber(L, COLUMNS_FLOW_ROOM);
	lua_setfield(L, -2, "flow_room");
	lua_pushnumber(L, COLUMNS_FRAMES_ROOM);
	lua_setfield(L, -2, "frames_room");
	lua_pushstring(L, TCPDROP_VERSION);
	lua_setfield(L, -2, "version");
	lua_newtable(L);
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		lua_pushinteger(L, flags[i].value);
		lua_setfield(L, -2, flags[i].name);
	}
	lua_setfield(L, -2, "flags");
	push_names(L, nm);
	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++) {
		lua_pushcfunction(L, funcs[i].func);
		lua_setfield(L, -2, funcs[i].name);
	}
	lua_newtable(L);
	for (const struct embedded *e = embedded_scripts; e->name; e++) {
		lua_pushlstring(L, e->data, e->len);
		lua_setfield(L, -2, e->name);
	}
	lua_setfield(L, -2, "scripts");
}

/* Make the embedded modules require()-able and the core table available as tcpdrop.core. */
static int install_modules(lua_State *L, struct names *nm)
{
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "loaded");
	push_core(L, nm);
	lua_setfield(L, -2, "tcpdrop.core");
	lua_pop(L, 1);
	lua_getfield(L, -1, "preload");
	for (const struct embedded *e = embedded_modules; e->name; e++) {
		char chunk[96];

		snprintf(chunk, sizeof(chunk), "@" INTERNAL_CHUNK "%s.lua",
			 e->name + strlen("tcpdrop."));
		if (luaL_loadbuffer(L, e->data, e->len, chunk)) {
			msg("internal error loading %s: %s", e->name, lua_tostring(L, -1));
			return -EINVAL;
		}
		lua_setfield(L, -2, e->name);
	}
	lua_pop(L, 2);
	return 0;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, double v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

int runtime_opts__from(struct runtime_opts *ro, const struct options *o)
{
	char *src = NULL, *chunk = NULL;

	memset(ro, 0, sizeof(*ro));
	if (o->script && runtime__script_source(o->script, &src, &chunk))
		return -EINVAL;
	ro->script_src = src;
	ro->script_chunk = chunk;
	ro->filter_expr = o->filter_expr;
	ro->exec_code = o->exec_code;
	ro->args = o->script_args;
	ro->nargs = o->nscript_args;
	ro->count = o->count;
	ro->keep_going = o->keep_going;
	ro->interval = o->interval;
	return 0;
}

void runtime_opts__free(struct runtime_opts *ro)
{
	free((char *)ro->script_src);
	free((char *)ro->script_chunk);
	ro->script_src = ro->script_chunk = NULL;
}

int runtime__new(const struct runtime_opts *ro, struct names *nm, struct ksyms *ks,
		 struct runtime **out)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));
	lua_State *L = luaL_newstate();

	if (!L) {
		msg("cannot create the Lua state (out of memory?)");
		free(rt);
		return -ENOMEM;
	}
	g_ksyms = ks;
	g_names = nm;
	g_rt = rt;
	rt->L = L;
	rt->keep_going = ro->keep_going;
	luaL_openlibs(L);
	if (install_modules(L, nm))
		goto fail;
	lua_pushcfunction(L, traceback);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "tcpdrop.runtime");
	if (lua_pcall(L, 1, 1, -3)) {
		msg("internal error: %s", lua_tostring(L, -1));
		goto fail;
	}
	rt->rt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pop(L, 1);

	/* The FFI view and C must agree on the event layout. */
	lua_getglobal(L, "require");
	lua_pushliteral(L, "ffi");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "sizeof");
	lua_pushliteral(L, "struct tcpdrop_event");
	lua_call(L, 1, 1);
	if ((size_t)lua_tonumber(L, -1) != sizeof(struct tcpdrop_event)) {
		msg("internal error: the FFI event is %d bytes, C's is %zu",
		    (int)lua_tonumber(L, -1), sizeof(struct tcpdrop_event));
		goto fail;
	}
	lua_pop(L, 2);

	lua_newtable(L);
	if (ro->script_src) {
		set_str(L, "script_src", ro->script_src);
		set_str(L, "script_chunk", ro->script_chunk ? ro->script_chunk : "=script");
	}
	set_str(L, "filter_expr", ro->filter_expr);
	set_str(L, "exec_code", ro->exec_code);
	if (ro->count)
		set_num(L, "count", (double)ro->count);
	if (ro->interval > 0)
		set_num(L, "interval", ro->interval);
	lua_newtable(L);
	for (int i = 0; i < ro->nargs; i++) {
		lua_pushstring(L, ro->args[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "args");
	/* A script that does not compile, or fails as it loads: file:line, no traceback. */
	if (call(rt, "setup", 1, 0, 0)) {
		msg("%s", lua_tostring(L, -1));
		goto fail;
	}
	*out = rt;
	return 0;
fail:
	lua_close(L);
	free(rt);
	g_rt = NULL;
	return -EINVAL;
}

void runtime__free(struct runtime *rt)
{
	if (!rt)
		return;
	actions__reap();
	lua_close(rt->L);
	if (g_rt == rt)
		g_rt = NULL;
	free(rt);
}

int runtime__init(struct runtime *rt, double *interval)
{
	int stop;

	if (call(rt, "init", 0, 2, 1)) {
		hook_error(rt);
		rt->failed = 1;
		return -1;
	}
	*interval = lua_isnumber(rt->L, -2) ? lua_tonumber(rt->L, -2) : 0;
	stop = lua_toboolean(rt->L, -1);
	lua_pop(rt->L, 2);
	return stop ? 1 : 0;
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
		if (call(rt, "dispatch", 3, 1, 1)) {
			hook_error(rt);
			if (!rt->keep_going) {
				ret = -1;
				break;
			}
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
	if (call(rt, "tick", 1, 1, 1)) {
		hook_error(rt);
		return rt->keep_going ? 0 : -1;
	}
	ret = (int)lua_tointeger(rt->L, -1);
	lua_pop(rt->L, 1);
	return ret;
}

static void push_stats(lua_State *L, const struct run_stats *st)
{
	lua_newtable(L);
	set_num(L, "seen", (double)st->seen);
	set_num(L, "lost", (double)st->lost);
	set_num(L, "filtered_kernel", (double)st->filtered_kernel);
	set_num(L, "stacks_skipped", (double)st->stacks_skipped);
	set_num(L, "stacks_failed", (double)st->stacks_failed);
	set_num(L, "errors", (double)st->errors);
}

void runtime__set_clock(struct runtime *rt, uint64_t ns)
{
	lua_pushnumber(rt->L, (lua_Number)ns / 1e9);
	if (call(rt, "set_clock", 1, 0, 0)) {
		msg("internal error: %s", lua_tostring(rt->L, -1));
		lua_pop(rt->L, 1);
	}
}

void runtime__housekeeping(struct runtime *rt, const struct run_stats *st)
{
	actions__reap();
	if (!st)
		return;
	push_stats(rt->L, st);
	if (call(rt, "kernel_stats", 1, 0, 1)) {
		msg("internal error: %s", lua_tostring(rt->L, -1));
		lua_pop(rt->L, 1);
	}
}

int runtime__done(struct runtime *rt, struct run_stats *st)
{
	actions__reap();
	st->errors = rt->errors;
	push_stats(rt->L, st);
	if (call(rt, "done", 1, 0, 1)) {
		hook_error(rt);
		rt->failed = 1;
		st->errors = rt->errors;
		return -1;
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

uint64_t runtime__errors(struct runtime *rt)
{
	return rt->errors;
}
