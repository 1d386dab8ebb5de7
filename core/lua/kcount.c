/*
 * Counting in the kernel, the runtime's side: the plan lua/kcount.lua makes before the probe
 * loads, the tables' rows handed to it at each tick and at exit, and the probe's key of an event
 * (for a source that stands in for the kernel, and for scripts' tables fed from events).
 */
#include "kernel/kernel.h"
#include "lua/bridge.h"
#include "lua/corelib.h"
#include "util/util.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>

void kcount__open(lua_State *L)
{
	static const struct {
		const char *name;
		unsigned int value;
	} bits[] = {
		{ "REASON", TCPDROP_KC_REASON },
		{ "STATE", TCPDROP_KC_STATE },
		{ "FLAGS", TCPDROP_KC_FLAGS },
		{ "FAMILY", TCPDROP_KC_FAMILY },
		{ "SADDR", TCPDROP_KC_SADDR },
		{ "DADDR", TCPDROP_KC_DADDR },
		{ "SPORT", TCPDROP_KC_SPORT },
		{ "DPORT", TCPDROP_KC_DPORT },
		{ "NETNS", TCPDROP_KC_NETNS },
		{ "IFINDEX", TCPDROP_KC_IFINDEX },
		{ "CPU", TCPDROP_KC_CPU },
		{ "CGROUP", TCPDROP_KC_CGROUP },
		{ "MAX_TABLES", TCPDROP_KC_MAX_TABLES },
	};
	void (*key)(struct tcpdrop_kkey *, const struct tcpdrop_event *, uint32_t) = kcount__key;

	lua_newtable(L);
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
		lua_pushnumber(L, bits[i].value);
		lua_setfield(L, -2, bits[i].name);
	}
	lua_pushnumber(L, sizeof(struct tcpdrop_kkey));
	lua_setfield(L, -2, "kkey_size");
	/* An address as a number, which the FFI casts to the function (as dispatch's batches). */
	lua_pushnumber(L, (lua_Number)(uintptr_t)key);
	lua_setfield(L, -2, "key_fn");
	lua_setfield(L, -2, "kc");
}

int runtime__kcount_plan(struct runtime *rt, const char *no_kernel, const char *events,
			 unsigned int free_tables, struct runtime_kcount_plan *plan)
{
	lua_State *L = runtime__lua(rt);
	size_t len;
	const char *why;
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->events = 1;
	if (no_kernel)
		lua_pushstring(L, no_kernel);
	else
		lua_pushnil(L);
	if (events)
		lua_pushstring(L, events);
	else
		lua_pushnil(L);
	lua_pushnumber(L, free_tables);
	ret = runtime__call(rt, "kcount_plan", 3, 4);
	if (ret)
		return -1;
	/* tables {{keys, max_keys}, ...}, whether the events are still wanted, what -v says,
	 * whether the hooks may read the owner fields */
	if (lua_istable(L, -4)) {
		unsigned int n = (unsigned int)lua_objlen(L, -4);

		for (unsigned int i = 0; i < n && i < TCPDROP_KC_MAX_TABLES; i++) {
			lua_rawgeti(L, -4, (int)i + 1);
			lua_rawgeti(L, -1, 1);
			plan->keys[i] = (uint32_t)lua_tonumber(L, -1);
			lua_rawgeti(L, -2, 2);
			plan->max_keys[i] = (uint32_t)lua_tonumber(L, -1);
			lua_pop(L, 3);
		}
		plan->n = n < TCPDROP_KC_MAX_TABLES ? n : TCPDROP_KC_MAX_TABLES;
	}
	plan->events = lua_toboolean(L, -3);
	why = lua_tolstring(L, -2, &len);
	if (why)
		snprintf(plan->why, sizeof(plan->why), "%s", why);
	plan->owners = lua_toboolean(L, -1);
	lua_pop(L, 4);
	return 0;
}

int runtime__kcount_feed(struct runtime *rt, unsigned int t, const struct tcpdrop_kkey *keys,
			 const uint64_t *counts, const uint64_t *bytes, size_t n, uint64_t overflow)
{
	lua_State *L = runtime__lua(rt);

	lua_pushnumber(L, t);
	/* Addresses as numbers: user-space addresses (< 2^48) are exact in a double. */
	lua_pushnumber(L, (lua_Number)(uintptr_t)keys);
	lua_pushnumber(L, (lua_Number)(uintptr_t)counts);
	lua_pushnumber(L, (lua_Number)(uintptr_t)bytes);
	lua_pushnumber(L, (lua_Number)n);
	lua_pushnumber(L, (lua_Number)overflow);
	return runtime__call(rt, "kcount_feed", 6, 0);
}
