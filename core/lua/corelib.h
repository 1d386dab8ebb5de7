/* The functions of tcpdrop.core that need no run state (core/lua/corelib.c). */
#ifndef TCPDROP_LUA_CORELIB_H
#define TCPDROP_LUA_CORELIB_H

#include <lua.h>

/* Set them in the table at the top of L's stack. */
void corelib__open(lua_State *L);

/*
 * The run's owners (core/lua/owner.c) into the table at the top of L's stack: owners and
 * owner_funcs, for lua/owner.lua; the object is freed with the state. live 0 (a replay): none is
 * made, and the owner fields answer from what the file recorded into nm (names__owner), "-" for
 * what it did not.
 */
struct names;
void owner__open(lua_State *L, int live, struct names *nm);

/* The FFI's C functions (core/lua/cfuncs.c), handed to Lua as tcpdrop.core.cfuncs. */
struct tcpdrop_cfuncs;
const struct tcpdrop_cfuncs *cfuncs__table(void);

/* The kcount part of tcpdrop.core (core/lua/kcount.c): its bits and the key function. */
void kcount__open(lua_State *L);

/*
 * For the bridge's other files: the runtime's Lua state, and a call of the runtime module's
 * function name with nargs arguments pushed, under pcall, a hook error said and counted as
 * for a hook. 0 (nres results pushed), 1 (stop: tcpdrop.exit, an interrupt) or -1.
 */
struct runtime;
lua_State *runtime__lua(struct runtime *rt);
int runtime__call(struct runtime *rt, const char *name, int nargs, int nres);

#endif
