-- Who was hurt: the owner fields of a drop (e.container, e.pod, ...), from the core's owners
-- (core/lua/owner.c, core/sym/owners.c). The probe records ids only; names are resolved here,
-- on first use, and kept in a table that is emptied when the core says answers may have changed
-- (each second, and after any rescan): a hit costs one FFI call and a table lookup, never a
-- file read. An unknown is "-", never a guess.
local ffi = require("ffi")
local core = require("tcpdrop.core")

ffi.cdef([[
struct tcpdrop_owner_funcs {
	unsigned int (*gen)(void *ctx);
	int (*lookup)(void *ctx, uint64_t cgroup_id, uint32_t netns, const char **out);
	const char *(*comm)(void *ctx, uint32_t pid, uint64_t start);
};
]])

-- In a replay, the core answers from what the -w file recorded (its ids are another time's,
-- maybe another machine's): "-" for what it did not record.
local O = core.owners and ffi.cast("struct tcpdrop_owner_funcs *", core.owner_funcs)
local CTX = core.owners and ffi.cast("void *", core.owners)
local vis = core.vis
local out = ffi.new("const char *[7]")
local tonumber = tonumber

-- The raw fields the probe may record (bpf/fields.h): a build without them answers from the
-- network namespace alone.
local have = {}
for _, f in ipairs(require("tcpdrop.fields")) do
	have[f.name] = true
end

-- Fields in the order of c_lookup's out[].
local FIELDS = { "cgroup", "container", "container_id", "runtime", "pod", "pod_namespace",
	"pod_uid" }
local index = {}
for i, k in ipairs(FIELDS) do
	index[k] = i
end

local UNKNOWN = {}
for i = 1, #FIELDS do
	UNKNOWN[i] = "-"
end

local MAX = 4096 -- answers kept between two changes; more and the table starts again
local cache, gen, n = {}, -1, 0

-- The socket's cgroup, or the task's for a drop without a socket in process context
-- (bpf/owner.h's owner_fill).
local function cgroup_id(e)
	return have.cgroup_id_raw and e.cgroup_id_raw or 0ULL
end

-- The answer for a drop: its cgroup when the probe recorded one, else its network namespace.
local function answer(e)
	if not O then
		return UNKNOWN
	end
	local g = O.gen(CTX)
	if g ~= gen then
		cache, gen, n = {}, g, 0
	end
	local cg = cgroup_id(e)
	-- A cgroup id is an inode number (below 2^53); a namespace's is keyed negative.
	local key = cg ~= 0 and tonumber(cg) or -e.netns
	local t = cache[key]
	if t then
		return t
	end
	if O.lookup(CTX, cg, e.netns, out) == 0 then
		t = UNKNOWN
	else
		t = {}
		for i = 1, #FIELDS do
			local s = out[i - 1]
			-- Names come from files anyone may write a container's name into: made safe
			-- on a terminal once, here.
			t[i] = s ~= nil and vis(ffi.string(s)) or "-"
		end
	end
	if n >= MAX then
		cache, n = {}, 0
	end
	cache[key], n = t, n + 1
	return t
end

local getters = {}
for i, k in ipairs(FIELDS) do
	getters[k] = function(e)
		return answer(e)[i]
	end
end

-- Keys to group drops by, for the shipped scripts' by= (top, summary): by=pod NAMESPACE/POD,
-- by=container the name, else RUNTIME:ID (12 digits) when only the id is known; "-" unknown.
local group_by = {
	pod = { title = "POD", key = function(e)
		local pod = e.pod
		return pod == "-" and pod or e.pod_namespace .. "/" .. pod
	end },
	container = { title = "CONTAINER", key = function(e)
		local c = e.container
		if c == "-" and e.container_id ~= "-" then
			return e.runtime .. ":" .. e.container_id:sub(1, 12)
		end
		return c
	end },
}

return {
	group_by = group_by,
	fields = FIELDS,
	getters = getters,
	answer = answer,
	index = index,
}
