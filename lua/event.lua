-- The drop event as Lua sees it: an FFI view of struct tcpdrop_event with derived fields.
--
-- Raw struct fields keep their C names (ts_ns, saddr_raw, state_code, tcp_flags, comm_raw, ...);
-- derived names (saddr, state, flags, comm, ...) never collide with them, because a metatype's
-- __index is only consulted for names the struct does not declare.
local ffi = require("ffi")
local bit = require("bit")
local core = require("tcpdrop.core")
local owner = require("tcpdrop.owner")

ffi.cdef(core.cdef)

local C = ffi.cast("struct tcpdrop_cfuncs *", core.cfuncs)
-- The run's symbols, handed back to C's frame functions: cast once to a cdata pointer, for LuaJIT
-- compiles no trace that passes a light userdata to an FFI call (replay -s json ran 15x slower).
local KS = ffi.cast("void *", core.ksyms)
local band, bor, lshift = bit.band, bit.bor, bit.lshift
local fmt, concat = string.format, table.concat
local tonumber, tostring = tonumber, tostring
local floor = math.floor

local F = core.flags
local reasons, states = core.reasons, core.states
local reason_name = core.reason_name -- C fallback: subsystem reasons, codes not in the table

local strbuf = ffi.new("char[512]")

local octets = {} -- "0" .. "255": concatenation compiles where string.format stitches
for i = 0, 255 do
	octets[i] = tostring(i)
end

local function ntop(family, raw)
	if family == 4 then
		return octets[raw[0]] .. "." .. octets[raw[1]] .. "." .. octets[raw[2]] .. "."
			.. octets[raw[3]]
	end
	local n = C.ntop(family, raw, strbuf, 512)
	return (ffi.string(strbuf, n))
end

-- A frame's text from C's one cache (the printers' too): v a kernel address, or a frame-text id
-- when flags has F.FRAME_IDS (replayed frames); RET: a return address (every frame but the
-- first), looked up at address-1 as a call that never returns may end its function.
local RET = core.ksyms_ret
local function ksym(v, flags)
	return (ffi.string(strbuf, C.ksym(KS, v, flags or 0, strbuf, 512)))
end

-- TCP flag names in header bit order, the order bcc prints them.
local flag_names = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" }
local flag_bits = {}
for i, name in ipairs(flag_names) do
	flag_bits[name] = lshift(1, i - 1)
end

local flag_strings = {} -- all 256 combinations, built once
for v = 0, 255 do
	local parts = {}
	for i, name in ipairs(flag_names) do
		if band(v, lshift(1, i - 1)) ~= 0 then
			parts[#parts + 1] = name
		end
	end
	flag_strings[v] = concat(parts, "|")
end

-- Formatting a time costs more than a drop: os.date once a minute, the seconds by arithmetic.
local two_digits = {}
for i = 0, 59 do
	two_digits[i] = fmt("%02d", i)
end

local function seconds(e)
	return (tonumber(e.ts_ns / 1000000000ULL))
end

local hms_min, hms_prefix, last_sec, last_hms = -1, nil, -1, nil
local function hms(e)
	local sec = seconds(e)
	if sec ~= last_sec then
		local m = floor(sec / 60)
		if m ~= hms_min then
			hms_min, hms_prefix = m, os.date("%H:%M:", m * 60)
		end
		last_sec, last_hms = sec, hms_prefix .. two_digits[sec - m * 60]
	end
	return last_hms
end

local iso_min, iso_prefix = -1, nil
local function iso_parts(e) -- to the minute, the seconds, the microseconds
	local sec = seconds(e)
	local m = floor(sec / 60)
	if m ~= iso_min then
		iso_min, iso_prefix = m, os.date("!%Y-%m-%dT%H:%M:", m * 60)
	end
	return iso_prefix, two_digits[sec - m * 60], tonumber(e.ts_ns % 1000000000ULL) / 1000
end

local function isotime(e)
	local minute, sec, usec = iso_parts(e)
	return (fmt("%s%s.%06dZ", minute, sec, usec))
end

-- The same appended to a string.buffer, without making a string.
local function put_isotime(b, e)
	local minute, sec, usec = iso_parts(e)
	b:putf("%s%s.%06dZ", minute, sec, usec)
end

local function reason_of(e)
	if band(e.evflags, F.NO_REASON) ~= 0 then
		return "UNKNOWN"
	end
	local code = e.reason_code
	local name = reasons[code]
	if name == nil then
		name = reason_name(code)
		reasons[code] = name
	end
	return name
end

local function stack_status(e)
	local ef = e.evflags
	if band(ef, F.NO_STACK) ~= 0 then
		return "off"
	elseif band(ef, F.STACK_SKIPPED) ~= 0 then
		return "skipped"
	elseif band(ef, F.STACK_FAILED) ~= 0 then
		return "failed"
	end
	return "ok"
end

-- The fields a script reads, in the order tcpdrop.fields, e:totable() and the docs list them, and
-- the json script writes them: the name; how it is derived from the raw struct (nil: it is the
-- raw field of that name); its kind in json (int, num: a time in seconds with microseconds, str,
-- iso: an ISO 8601 time, bool, strs: an array of strings or null; nil: not listed). A new field is
-- one line here, plus its raw field in bpf/fields.h when the probe records it.
local public = {
	{ "time", function(e) return tonumber(e.ts_ns) / 1e9 end, "num" },
	{ "timestr", hms, "str" },
	{ "isotime", isotime, "iso" },
	{ "pid", nil, "int" },
	{ "tid", nil, "int" },
	{ "comm", function(e) return (ffi.string(e.comm_raw)) end, "str" },
	{ "cpu", nil, "int" },
	{ "family", nil, "int" },
	{ "saddr", function(e) return (ntop(e.family, e.saddr_raw)) end, "str" },
	{ "sport", nil, "int" },
	{ "daddr", function(e) return (ntop(e.family, e.daddr_raw)) end, "str" },
	{ "dport", nil, "int" },
	{ "state", function(e)
		if band(e.evflags, F.SOCK) == 0 or e.state_code == 0 then
			return "-"
		end
		return states[e.state_code] or tostring(e.state_code)
	end, "str" },
	{ "state_code", nil, "int" },
	{ "flags", function(e) return flag_strings[e.tcp_flags] end, "str" },
	{ "tcp_flags", nil, "int" },
	{ "reason", reason_of, "str" },
	{ "reason_code", nil, "int" },
	{ "seq", nil, "int" },
	{ "ack", function(e) return e.ack_seq end, "int" },
	{ "win", nil, "int" },
	{ "len", nil, "int" },
	{ "netns", nil, "int" },
	{ "ifindex", nil, "int" },
	{ "location", function(e)
		if e.loc_addr == 0 then
			return "?"
		end
		return (ksym(e.loc_addr, band(e.evflags, F.FRAME_IDS)))
	end, "str" },
	{ "stack", function(e)
		if stack_status(e) ~= "ok" then
			return nil
		end
		local ids = band(e.evflags, F.FRAME_IDS)
		local t, ret = {}, bor(ids, RET)
		for i = 0, e.nstack - 1 do
			t[i + 1] = ksym(e.stack_addr[i], i > 0 and ret or ids)
		end
		return t
	end, "strs" },
	{ "stack_status", stack_status, "str" },
	-- Who was hurt: the socket's owner as the probe recorded it (bpf/owner.h), not the task on
	-- the CPU; its user and cgroup. Unknown: owner_pid 0, owner_comm "-", uid -1, cgroup_id 0.
	{ "owner_pid", nil, "int" },
	{ "owner_comm", function(e)
		if band(e.owner_flags, F.O_OWNER) == 0 then
			return "-"
		end
		return (ffi.string(e.owner_comm_raw))
	end, "str" },
	{ "owner_start", function(e) return (tonumber(e.owner_start_ns)) end, "int" },
	{ "owner_closed", function(e) return band(e.owner_flags, F.O_CLOSED) ~= 0 end, "bool" },
	{ "uid", function(e)
		if band(e.owner_flags, F.O_UID) == 0 then
			return -1
		end
		return e.sk_uid
	end, "int" },
	{ "cgroup_id", function(e) return (tonumber(e.cgroup_id_raw)) end, "int" },
	{ "sock_ino", nil, "int" },
	{ "has_socket", function(e) return band(e.evflags, F.SOCK) ~= 0 end, "bool" },
	{ "from_packet", function(e) return band(e.evflags, F.PKT_HDRS) ~= 0 end, "bool" },
	{ "packet", function(e) return (ffi.string(e.pkt, e.pkt_len)) end },
	-- Who was hurt (lua/owner.lua): derived from the socket's cgroup id, else the netns.
	{ "cgroup", owner.getters.cgroup, "str" },
	{ "container", owner.getters.container, "str" },
	{ "container_id", owner.getters.container_id, "str" },
	{ "runtime", owner.getters.runtime, "str" },
	{ "pod", owner.getters.pod, "str" },
	{ "pod_namespace", owner.getters.pod_namespace, "str" },
	{ "pod_uid", owner.getters.pod_uid, "str" },
	-- (end of the owner fields)
}

-- What the probe fills only while it tracks owners (bpf/owner.h's owner_fill): the fields above
-- and the raw ones under them. A run whose hooks read none loads no owner program.
local owner_fields = {}
for _, n in ipairs({ "owner_pid", "owner_comm", "owner_start", "owner_closed", "uid", "cgroup_id",
	"sock_ino", "cgroup", "container", "container_id", "runtime", "pod", "pod_namespace",
	"pod_uid", "owner_flags", "owner_comm_raw", "owner_start_ns", "cgroup_id_raw", "sk_uid" }) do
	owner_fields[n] = true
end

local raw = {}
for _, f in ipairs(require("tcpdrop.fields")) do
	raw[f.name] = f
end

local getters, field_order, json_kinds = {}, {}, {}
for _, f in ipairs(public) do
	local name, get, kind = f[1], f[2], f[3]
	assert(get or raw[name], name .. ": neither derived nor a field of struct tcpdrop_event")
	assert(not (get and raw[name]), name .. ": a derived name must not shadow a raw field")
	getters[name] = get
	if kind then
		field_order[#field_order + 1] = name
		json_kinds[name] = kind
	end
end

local event_t = ffi.typeof("struct tcpdrop_event")
local methods = {}

-- e:has("RST"): is that TCP flag set? Unknown names are an error, not a silent false.
function methods.has(e, name)
	local b = flag_bits[name]
	if b == nil then
		error(fmt("unknown TCP flag %q (FIN SYN RST PSH ACK URG ECE CWR)", tostring(name)), 2)
	end
	return band(e.tcp_flags, b) ~= 0
end

-- A copy that outlives the hook call (the event itself is a view into a reused buffer).
function methods.copy(e)
	local c = event_t()
	ffi.copy(c, e, ffi.sizeof(event_t))
	return c
end

-- A plain Lua table of every derived field: to keep, serialise or inspect.
function methods.totable(e)
	local t = {}
	for _, k in ipairs(field_order) do
		t[k] = e[k]
	end
	return t
end

-- Every name an event answers to, for "did you mean" on a misspelt one.
local all_names = {}
for k in pairs(getters) do
	all_names[#all_names + 1] = k
end
for k in pairs(methods) do
	all_names[#all_names + 1] = k
end
for _, f in pairs(raw) do
	if f.part ~= 2 then -- padding is no name to suggest
		all_names[#all_names + 1] = f.name
	end
end
table.sort(all_names)

local suggest -- set by the runtime: its "did you mean" helper

-- __index takes varargs only so that it never starts a JIT trace of its own: LuaJIT counts no
-- calls of a vararg function, yet still compiles it into each caller's trace, specialised for
-- the caller's field. Called several times per drop, a plain __index became hot before the
-- hook's loop and was compiled alone, for whichever field it had at that moment: for `stack`,
-- its trace ran into the frames loop's trace, and every later trace through __index ended
-- there, leaving the rest of the hook to the interpreter. In a storm that reader ran at half
-- speed and never caught up (3 runs in 13 after a stall; 0 in 58 since).
ffi.metatype(event_t, {
	__index = function(e, k, ...)
		local g = getters[k]
		if g then
			return (g(e)) -- not a tail call: LuaJIT aborts a trace after a dozen of those
		end
		local m = methods[k]
		if m then
			return m
		end
		local hint = suggest and type(k) == "string" and suggest(k, all_names)
		error(fmt("event has no field '%s'%s", tostring(k),
			hint and fmt(" (did you mean '%s'?)", hint) or ""), 2)
	end,
	__tostring = function(e)
		return fmt("%s %s:%d > %s:%d %s (%s) %s", hms(e), e.saddr, e.sport, e.daddr,
			e.dport, e.state, e.flags, e.reason)
	end,
})

return {
	type = event_t,
	ptr = ffi.typeof("struct tcpdrop_event *"),
	getters = getters,
	fields = field_order,
	json_kinds = json_kinds, -- for the json script: how each field of `fields` is written
	owner_fields = owner_fields,
	names = all_names,
	flag_names = flag_names,
	ntop = ntop,
	put_isotime = put_isotime,
	ksym = ksym,
	mono = function() return (C.mono()) end,
	cfuncs = C, -- the C functions (see core/cfuncs.h)
	ksyms = KS, -- their first argument where they name frames
	set_suggest = function(f) suggest = f end,
}
