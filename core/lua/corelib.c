/*
 * The functions of tcpdrop.core that need no run state: actions, terminal text, numbers, paths,
 * what a drop reason means.
 */
#include "lua/bridge.h"
#include "lua/corelib.h"
#include "sym/sym.h"
#include "util/util.h"

#include <bsd/stdlib.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* vis(s [, lines]): s with what a terminal would act on escaped (vis__text); s when nothing is. */
static int l_vis(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	int how = lua_toboolean(L, 2) ? VIS_TEXT_LINES : 0;
	char *dst = lua_newuserdata(L, 4 * n + 1);
	int len = vis__text(dst, 4 * n + 1, s, n, how);

	if (len < 0 || (size_t)len == n)
		lua_pushvalue(L, 1); /* escapes only lengthen: the same length is the same text */
	else
		lua_pushlstring(L, dst, (size_t)len);
	return 1;
}

/* integer(text, min, max): the number, or nil and why ("too large", "invalid", ...). */
static int l_integer(lua_State *L)
{
	const char *s = luaL_checkstring(L, 1);
	long long lo = (long long)luaL_checknumber(L, 2), hi = (long long)luaL_checknumber(L, 3);
	const char *why = NULL;
	long long v = strtonum(s, lo, hi, &why);

	if (why) {
		lua_pushnil(L);
		lua_pushstring(L, why);
		return 2;
	}
	lua_pushnumber(L, (lua_Number)v);
	return 1;
}

static int runnable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* executable(cmd): the file spawn(cmd) would run (PATH searched without a '/'), or nil, why. */
static int l_executable(lua_State *L)
{
	const char *cmd = luaL_checkstring(L, 1);
	const char *path = getenv("PATH");
	luaL_Buffer b;
	size_t dl;

	if (!*cmd)
		goto none;
	if (strchr(cmd, '/')) {
		if (!runnable(cmd))
			goto none;
		lua_pushvalue(L, 1);
		return 1;
	}
	if (!path || !*path)
		path = "/usr/bin:/bin";
	for (const char *d = path;; d += dl + 1) {
		dl = strcspn(d, ":");
		luaL_buffinit(L, &b);
		luaL_addlstring(&b, dl ? d : ".", dl ? dl : 1); /* an empty entry is "." */
		luaL_addchar(&b, '/');
		luaL_addstring(&b, cmd);
		luaL_pushresult(&b);
		if (runnable(lua_tostring(L, -1)))
			return 1;
		lua_pop(L, 1);
		if (!d[dl])
			break;
	}
none:
	lua_pushnil(L);
	lua_pushstring(L, strchr(cmd, '/') ? "not an executable file" : "not found in PATH");
	return 2;
}

/*
 * reason_help(name): what the reason means, the MIB counter that counts it (or nil) and what to
 * check, in the words of --explain (core/sym/explain.c); nil for a reason it does not describe.
 */
static int l_reason_help(lua_State *L)
{
	const struct reason_help *h = reason_help__find(luaL_checkstring(L, 1));

	if (!h)
		return 0;
	lua_pushstring(L, h->what);
	if (h->mib)
		lua_pushstring(L, h->mib);
	else
		lua_pushnil(L);
	lua_pushstring(L, h->check);
	return 3;
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

void corelib__open(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "syslog_level", l_syslog_level },
		{ "syslog", l_syslog },
		{ "getpid", l_getpid },
		{ "isatty", l_isatty },
		{ "action_stats", l_action_stats },
		{ "vis", l_vis },
		{ "integer", l_integer },
		{ "executable", l_executable },
		{ "reason_help", l_reason_help },
	};

	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++) {
		lua_pushcfunction(L, funcs[i].func);
		lua_setfield(L, -2, funcs[i].name);
	}
}
