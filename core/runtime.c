/* The embedded LuaJIT: every call into Lua goes through lua_pcall with a traceback handler. */
#include "runtime.h"
#include "cfuncs.h"
#include "embed.h"
#include "ksyms.h"
#include "names.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

static int c_ntop(int family, const void *addr, char *buf, int len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
		return 0;
	return (int)strlen(buf);
}

static int c_ksym(__u64 addr, char *buf, int len)
{
	return ksyms__format(g_ksyms, addr, buf, (size_t)len);
}

static const struct tcpdrop_cfuncs cfuncs = {
	.ntop = c_ntop,
	.ksym = c_ksym,
};

const struct embedded *embedded_script(const char *name)
{
	for (const struct embedded *e = embedded_scripts; e->name; e++)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

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

static int traceback(lua_State *L)
{
	const char *m = lua_tostring(L, 1);

	luaL_traceback(L, L, m ? m : "(error object is not a string)", 1);
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
		msg("%s", lua_tostring(L, -1));
		lua_settop(L, base);
		return -1;
	}
	lua_remove(L, base + 1);
	return 0;
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
	};

	lua_newtable(L);
	lua_pushstring(L, embedded_cdef);
	lua_setfield(L, -2, "cdef");
	lua_pushlightuserdata(L, (void *)&cfuncs);
	lua_setfield(L, -2, "cfuncs");
	lua_pushnumber(L, sizeof(struct tcpdrop_event));
	lua_setfield(L, -2, "event_size");
	lua_pushstring(L, TCPDROP_VERSION);
	lua_setfield(L, -2, "version");
	lua_newtable(L);
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		lua_pushinteger(L, flags[i].value);
		lua_setfield(L, -2, flags[i].name);
	}
	lua_setfield(L, -2, "flags");
	push_names(L, nm);
	lua_pushcfunction(L, l_reason_name);
	lua_setfield(L, -2, "reason_name");
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

		snprintf(chunk, sizeof(chunk), "@%s.lua", e->name + strlen("tcpdrop."));
		if (luaL_loadbuffer(L, e->data, e->len, chunk)) {
			msg("internal error loading %s: %s", e->name, lua_tostring(L, -1));
			return -EINVAL;
		}
		lua_setfield(L, -2, e->name);
	}
	lua_pop(L, 2);
	return 0;
}

int runtime__new(const struct runtime_opts *ro, struct names *nm, struct ksyms *ks,
		 struct runtime **out)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));
	lua_State *L = luaL_newstate();
	int err = -EINVAL;

	if (!L) {
		msg("cannot create the Lua state (out of memory?)");
		free(rt);
		return -ENOMEM;
	}
	g_ksyms = ks;
	g_names = nm;
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
		lua_pushstring(L, ro->script_src);
		lua_setfield(L, -2, "script_src");
		lua_pushstring(L, ro->script_chunk);
		lua_setfield(L, -2, "script_chunk");
	}
	if (ro->filter_expr) {
		lua_pushstring(L, ro->filter_expr);
		lua_setfield(L, -2, "filter_expr");
	}
	if (ro->exec_code) {
		lua_pushstring(L, ro->exec_code);
		lua_setfield(L, -2, "exec_code");
	}
	if (ro->count) {
		lua_pushnumber(L, (lua_Number)ro->count);
		lua_setfield(L, -2, "count");
	}
	lua_newtable(L);
	for (int i = 0; i < ro->nargs; i++) {
		lua_pushstring(L, ro->args[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "args");
	if (call(rt, "setup", 1, 0, 0))
		goto fail;
	*out = rt;
	return 0;
fail:
	lua_close(L);
	free(rt);
	return err;
}

void runtime__free(struct runtime *rt)
{
	if (!rt)
		return;
	lua_close(rt->L);
	free(rt);
}

int runtime__init(struct runtime *rt, double *interval)
{
	if (call(rt, "init", 0, 1, 1))
		return -1;
	*interval = lua_isnumber(rt->L, -1) ? lua_tonumber(rt->L, -1) : 0;
	lua_pop(rt->L, 1);
	return 0;
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

int runtime__dispatch(struct runtime *rt, struct tcpdrop_event *ev, unsigned int n)
{
	unsigned int start = 0;
	int ret;

	while (start < n) {
		lua_pushlightuserdata(rt->L, ev);
		lua_pushnumber(rt->L, n);
		lua_pushnumber(rt->L, start);
		if (call(rt, "dispatch", 3, 1, 1)) {
			rt->errors++;
			if (!rt->keep_going) {
				rt->failed = 1;
				return -1;
			}
			start = (unsigned int)pos(rt) + 1;
			continue;
		}
		ret = (int)lua_tointeger(rt->L, -1);
		lua_pop(rt->L, 1);
		return ret;
	}
	return 0;
}

int runtime__tick(struct runtime *rt, uint64_t n)
{
	int ret;

	lua_pushnumber(rt->L, (lua_Number)n);
	if (call(rt, "tick", 1, 1, 1)) {
		rt->errors++;
		if (!rt->keep_going) {
			rt->failed = 1;
			return -1;
		}
		return 0;
	}
	ret = (int)lua_tointeger(rt->L, -1);
	lua_pop(rt->L, 1);
	return ret;
}

static void set_num(lua_State *L, const char *k, uint64_t v)
{
	lua_pushnumber(L, (lua_Number)v);
	lua_setfield(L, -2, k);
}

int runtime__done(struct runtime *rt, struct run_stats *st)
{
	lua_State *L = rt->L;

	st->errors = rt->errors;
	lua_newtable(L);
	set_num(L, "seen", st->seen);
	set_num(L, "lost", st->lost);
	set_num(L, "filtered_kernel", st->filtered_kernel);
	set_num(L, "stacks_skipped", st->stacks_skipped);
	set_num(L, "stacks_failed", st->stacks_failed);
	set_num(L, "errors", st->errors);
	if (call(rt, "done", 1, 0, 1)) {
		rt->errors++;
		rt->failed = 1;
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
	return code;
}

uint64_t runtime__errors(struct runtime *rt)
{
	return rt->errors;
}
