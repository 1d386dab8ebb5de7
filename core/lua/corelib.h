/* The functions of tcpdrop.core that need no run state (core/lua/corelib.c). */
#ifndef TCPDROP_LUA_CORELIB_H
#define TCPDROP_LUA_CORELIB_H

#include <lua.h>

/* Set them in the table at the top of L's stack. */
void corelib__open(lua_State *L);

/* The FFI's C functions (core/lua/cfuncs.c), handed to Lua as tcpdrop.core.cfuncs. */
struct tcpdrop_cfuncs;
const struct tcpdrop_cfuncs *cfuncs__table(void);

#endif
