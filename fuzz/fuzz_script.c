/*
 * libFuzzer target: loading a script, as tcpdrop does before it attaches. The first byte says
 * where the rest goes: to -s (a file), -f or -e, or split at the first NUL between two of them;
 * runtime_opts__from and runtime__new then load the runtime and compile (and, for -s, run) it.
 *
 * A script's top level runs as it loads, so the Lua state is fenced in (fuzz/extra.mk links
 * this target with --wrap for the functions below): no commands, files or libraries, a budget of
 * VM instructions (with the JIT off, so that the count hook sees every loop) and of memory. A
 * script that spends either fails to load, as a broken one does: only a crash is a finding.
 */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lua/bridge.h"
#include "sym/sym.h"

#define MEM_MAX (256u << 20)
#define HOOK_EVERY 1000
#define HOOKS_MAX 20000 /* 2e7 instructions: loading the runtime itself takes about 1e5 */

static size_t mem_used;
static unsigned int hooks_seen;
static char script_path[64];

lua_State *__real_luaL_newstate(void);
void __real_luaL_openlibs(lua_State *L);

static void *budget_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
	void *q;

	if (!nsize) {
		free(p);
		mem_used -= p ? osize : 0;
		return NULL;
	}
	if (nsize > (p ? osize : 0) && mem_used - (p ? osize : 0) + nsize > MEM_MAX)
		return NULL;
	q = realloc(p, nsize);
	if (q)
		mem_used = mem_used - (p ? osize : 0) + nsize;
	return q;
}

/* The runtime's own state, on memory we count (and ASan watches, unlike LuaJIT's allocator). */
lua_State *__wrap_luaL_newstate(void)
{
	mem_used = 0;
	hooks_seen = 0;
	return lua_newstate(budget_alloc, NULL);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	if (++hooks_seen > HOOKS_MAX)
		luaL_error(L, "fuzz: instruction budget spent");
}

/* Drop from the standard library what reaches outside the process. */
static const char *const fenced[][2] = {
	{ "os", "execute" }, { "os", "exit" },	 { "os", "remove" },	   { "os", "rename" },
	{ "os", "tmpname" }, { "io", "popen" },	 { "io", "open" },	   { "io", "lines" },
	{ "io", "input" },   { "io", "output" }, { "package", "loadlib" }, { "ffi", "load" },
	{ "ffi", "C" },	     { "_G", "dofile" }, { "_G", "loadfile" },
};

void __wrap_luaL_openlibs(lua_State *L)
{
	__real_luaL_openlibs(L);
	luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
	/* ffi is only preloaded: loaded now, so that its table is there to fence. */
	lua_getglobal(L, "require");
	lua_pushliteral(L, "ffi");
	lua_call(L, 1, 0);
	for (size_t i = 0; i < sizeof(fenced) / sizeof(fenced[0]); i++) {
		lua_getglobal(L, "package");
		lua_getfield(L, -1, "loaded");
		lua_getfield(L, -1, fenced[i][0]);
		if (lua_istable(L, -1)) {
			lua_pushnil(L);
			lua_setfield(L, -2, fenced[i][1]);
		}
		lua_pop(L, 3);
	}
	/* Modules come from the runtime's preload table only, never from the file system. */
	lua_getglobal(L, "package");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "path");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "cpath");
	lua_pop(L, 1);
}

int __wrap_actions__spawn(const char *const *argv)
{
	return -EPERM;
}

void __wrap_actions__syslog(int level, const char *message)
{
}

static char script_dir[] = "/tmp/tcpdrop-fuzz-script.XXXXXX";

static void remove_dir(void)
{
	unlink(script_path);
	rmdir(script_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (!mkdtemp(script_dir))
		abort();
	snprintf(script_path, sizeof(script_path), "%s/s.lua", script_dir);
	atexit(remove_dir);
	return 0;
}

/* Where the input goes, by its first byte: s, f, e, then two at once. */
enum { TO_S, TO_F, TO_E, TO_S_F, TO_S_E, TO_F_E, NWAYS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct options o = { 0 };
	struct runtime_opts ro;
	struct runtime *rt = NULL;
	struct names *nm;
	struct ksyms *ks;
	char *src, *second;
	int way;
	FILE *f;

	if (size < 1)
		return 0;
	way = data[0] % NWAYS;
	src = malloc(size);
	if (!src)
		return 0;
	memcpy(src, data + 1, size - 1);
	src[size - 1] = '\0';
	second = src + strlen(src);
	if (second < src + size - 1)
		second++;

	if (way == TO_S || way == TO_S_F || way == TO_S_E) {
		/* The whole rest, NULs too, for the file: a script is bytes. */
		f = fopen(script_path, "w");
		if (!f || fwrite(data + 1, 1, size - 1, f) != size - 1 || fclose(f))
			abort();
		o.script = script_path;
	}
	if (way == TO_F)
		o.filter_expr = src;
	else if (way == TO_E)
		o.exec_code = src;
	else if (way == TO_S_F || way == TO_F_E)
		o.filter_expr = way == TO_F_E ? src : second;
	if (way == TO_S_E || way == TO_F_E)
		o.exec_code = second;

	/* A script with a NUL byte (or over the size limit) is refused with one line: not a bug. */
	if (runtime_opts__from(&ro, &o)) {
		free(src);
		return 0;
	}
	nm = names__new();
	ks = ksyms__new();
	if (!runtime__new(&ro, nm, ks, &rt))
		runtime__free(rt);
	ksyms__free(ks);
	names__free(nm);
	runtime_opts__free(&ro);
	free(src);
	return 0;
}
