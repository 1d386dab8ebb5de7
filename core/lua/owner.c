/*
 * Who was hurt, for Lua: the run's struct owners (core/sym) behind e.container, e.pod and the
 * other owner fields (lua/owner.lua). The object lives in the Lua state, a userdata whose __gc
 * frees it: no file statics. Lua reaches it through the FFI (struct tcpdrop_owner_funcs), which
 * compiles, and keeps the answers in a table of its own, emptied when gen() changes.
 */
#include "lua/corelib.h"
#include "sym/sym.h"
#include "util/util.h"

#include <linux/types.h>
#include <lauxlib.h>
#include <string.h>
#include <time.h>

#define OWNER_META "tcpdrop.owners"

/* The FFI's view of it, declared again in lua/owner.lua's cdef (kept in step by hand). */
struct tcpdrop_owner_funcs {
	unsigned int (*gen)(void *ctx);
	int (*lookup)(void *ctx, __u64 cgroup_id, __u32 netns, const char **out);
	const char *(*comm)(void *ctx, __u32 pid, __u64 start);
};

struct owner_ctx {
	struct owners *ow;
	unsigned int gen;
	uint64_t sec; /* CLOCK_MONOTONIC_COARSE second of the last gen() */
	uint64_t work; /* walks, scans and loads seen at the last gen() */
	size_t said; /* bytes of owners__warnings() said so far */
	int used; /* a field was asked for: warnings are said from now on */
};

/* Warnings are said once a field is used: a run that shows no owner has nothing to hear. */
static void say_warnings(struct owner_ctx *c)
{
	const char *w = owners__warnings(c->ow);
	size_t n = w ? strlen(w) : 0;

	c->used = 1;
	if (n <= c->said)
		return;
	for (const char *p = w + c->said; *p;) {
		size_t len = strcspn(p, "\n");

		msg("%.*s", (int)len, p);
		p += len + (p[len] == '\n');
	}
	c->said = n;
}

/*
 * A new number when Lua's answers may be stale: each second (a miss rescans at most that often,
 * and a netns answer expires), and whenever a rescan or a name source's read happened.
 */
static unsigned int c_gen(void *ctx)
{
	struct owner_ctx *c = ctx;
	struct owners_stats st;
	uint64_t sec = now_ns(CLOCK_MONOTONIC_COARSE) / 1000000000ULL, work;

	owners__stats(c->ow, &st);
	work = st.cgroup_walks + st.netns_scans + st.name_loads + st.full;
	if (sec != c->sec || work != c->work || !c->used) {
		c->sec = sec;
		c->work = work;
		c->gen++;
		say_warnings(c);
	}
	return c->gen;
}

/* The drop's answer (owners__answer); out[0..6] as lua/owner.lua's FIELDS. */
static int c_lookup(void *ctx, __u64 cgroup_id, __u32 netns, const char **out)
{
	struct owner_ctx *c = ctx;
	int found = owners__answer(c->ow, cgroup_id, netns, out);

	say_warnings(c);
	return found;
}

static const char *c_comm(void *ctx, __u32 pid, __u64 start)
{
	struct owner_ctx *c = ctx;

	return pid ? owners__comm(c->ow, (int)pid, start) : NULL;
}

static const struct tcpdrop_owner_funcs funcs = {
	.gen = c_gen,
	.lookup = c_lookup,
	.comm = c_comm,
};

/*
 * A replay answers from what the file recorded (names__set_owner, from -w's owner names): its
 * ids are another time's, maybe another machine's, and this machine's answer would be a guess.
 * An id the file names not (an older file, an owner unknown then) is "-".
 */
static unsigned int r_gen(void *ctx)
{
	return names__owners_gen(ctx);
}

static int r_lookup(void *ctx, __u64 cgroup_id, __u32 netns, const char **out)
{
	const char *p = cgroup_id ? names__owner(ctx, 0, cgroup_id) : names__owner(ctx, 1, netns);

	memset(out, 0, NAMES__OWNER_FIELDS * sizeof(*out));
	if (!p)
		return 0;
	for (int i = 0; i < NAMES__OWNER_FIELDS; i++) {
		out[i] = *p ? p : NULL;
		p += strlen(p) + 1;
	}
	return 1;
}

static const char *r_comm(void *ctx, __u32 pid, __u64 start)
{
	return NULL;
}

static const struct tcpdrop_owner_funcs recorded = {
	.gen = r_gen,
	.lookup = r_lookup,
	.comm = r_comm,
};

/* Warnings wait in owners__warnings() until a field is used (say_warnings). */
static void quiet(const char *line)
{
}

static int owner_gc(lua_State *L)
{
	struct owner_ctx *c = luaL_checkudata(L, 1, OWNER_META);

	owners__free(c->ow);
	c->ow = NULL;
	return 0;
}

void owner__open(lua_State *L, int live, struct names *nm)
{
	struct owners_opts o = { .warn = quiet };
	struct owner_ctx *c;

	if (!live) {
		lua_pushlightuserdata(L, nm);
		lua_setfield(L, -2, "owners");
		lua_pushlightuserdata(L, (void *)&recorded);
		lua_setfield(L, -2, "owner_funcs");
		return;
	}
	owners_opts__env(&o);
	c = lua_newuserdata(L, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->ow = owners__new(&o);
	/*
	 * --user: what only root may read (the runtimes' files, other users' namespaces) is read
	 * now, before the privileges go; see owners__prime.
	 */
	if (privs__pending())
		owners__prime(c->ow);
	if (luaL_newmetatable(L, OWNER_META)) {
		lua_pushcfunction(L, owner_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	/* The userdata stays in the registry for the state's life; Lua gets its address. */
	luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushlightuserdata(L, c);
	lua_setfield(L, -2, "owners");
	lua_pushlightuserdata(L, (void *)&funcs);
	lua_setfield(L, -2, "owner_funcs");
}
