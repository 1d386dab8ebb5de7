-- Counting in the kernel (kcount): whether the -e one-liner is exactly an aggregation the probe
-- can count itself, the tables scripts ask for with tcpdrop.kcount{...}, and the tables' rows
-- fed back at each tick and at exit through the same aggregation code as the events.
--
-- The planner reads the one-liner strictly, token by token: a sequence of count(KEYS) and
-- sum(e.len, KEYS) calls whose keys are all e.FIELD of a field the probe keys tables by. Anything
-- else (another call, an operator, a derived field, a comment) streams the events, and -v says
-- why; it never guesses.
local ffi = require("ffi")
local bit = require("bit")
local core = require("tcpdrop.core")
local event = require("tcpdrop.event")
local helpers = require("tcpdrop.helpers")

local KC = core.kc
local fmt, concat, sort = string.format, table.concat, table.sort
local band, bor = bit.band, bit.bor
local tonumber = tonumber

local M = {}

local has_name = {}
for _, n in ipairs(event.names) do
	has_name[n] = true
end

-- The event's fields the probe keys a table by, and the TCPDROP_KC_* bit that holds each.
local KEYS = {
	reason = KC.REASON, reason_code = KC.REASON,
	state = KC.STATE, state_code = KC.STATE, has_socket = KC.STATE,
	flags = KC.FLAGS, tcp_flags = KC.FLAGS,
	family = KC.FAMILY,
	saddr = KC.SADDR, daddr = KC.DADDR,
	sport = KC.SPORT, dport = KC.DPORT,
	netns = KC.NETNS, ifindex = KC.IFINDEX, cpu = KC.CPU,
}
-- The drop's cgroup id (the socket's, or the task's in process context), as the probe records it.
if has_name.cgroup_id_raw then
	KEYS.cgroup_id = KC.CGROUP
end

local key_list = {}
for k in pairs(KEYS) do
	key_list[#key_list + 1] = k
end
sort(key_list)

local OTHER = "the drop hook does other work"

---------------------------------------------------------------------------------------------------
-- The planner

-- Names, whole numbers, ".", ",", "(", ")" and ";" between blanks; nil at anything else.
local function tokens(src)
	local t, i, n = {}, 1, #src
	while i <= n do
		local _, e = src:find("^%s+", i)
		if e then
			i = e + 1
		else
			local id = src:match("^[%a_][%w_]*", i) or src:match("^%d+%f[^%w_.]", i)
			if id then
				t[#t + 1] = id
				i = i + #id
			elseif src:sub(i, i):match("^[%.,();]$") then
				t[#t + 1] = src:sub(i, i)
				i = i + 1
			else
				return nil
			end
		end
	end
	return t
end

local function key_why(f)
	if f == "len" then
		return "e.len is counted in the kernel only as sum's value"
	elseif event.getters[f] then
		return fmt("e.%s is derived", f)
	end
	return fmt("e.%s is not a field the kernel counts by", f)
end

-- The one-liner's aggregation calls { {kind, keys = {field...}}, ... }, or nil and why not:
-- count(KEYS), sum(e.len, KEYS), top(N, KEYS).
local function parse(src)
	local t = tokens(src)
	if not t then
		return nil, OTHER
	end
	local i, calls = 1, {}
	local function take(x)
		if t[i] == x then
			i = i + 1
			return true
		end
		return false
	end
	local function field()
		if t[i] == "e" and t[i + 1] == "." and t[i + 2] and t[i + 2]:match("^[%a_]") then
			i = i + 3
			return t[i - 1]
		end
		return nil
	end
	while i <= #t do
		local kind = t[i]
		if (kind ~= "count" and kind ~= "sum" and kind ~= "top") or t[i + 1] ~= "(" then
			return nil, OTHER
		end
		i = i + 2
		local args = {}
		if kind == "top" then
			-- top(N, KEYS): N a whole number, as written.
			if not (t[i] and t[i]:match("^%d+$")) then
				return nil, OTHER
			end
			i = i + 1
			if t[i] ~= ")" and not take(",") then
				return nil, OTHER
			end
		end
		if not take(")") then
			repeat
				local f = field()
				if not f then
					return nil, OTHER
				end
				args[#args + 1] = f
			until not take(",")
			if not take(")") then
				return nil, OTHER
			end
		end
		local keys = args
		if kind == "sum" then
			if args[1] ~= "len" then
				return nil, "sum's value is not e.len"
			end
			keys = {}
			for j = 2, #args do
				keys[j - 1] = args[j]
			end
		end
		for _, f in ipairs(keys) do
			if not KEYS[f] then
				return nil, key_why(f)
			end
		end
		calls[#calls + 1] = { kind = kind, keys = keys }
		take(";")
	end
	if #calls == 0 then
		return nil, OTHER
	end
	return calls
end
M.parse = parse

local function bits_of(keys)
	local b = 0
	for _, f in ipairs(keys) do
		b = bor(b, KEYS[f])
	end
	return b
end

local tables = {} -- the plan's tables, in order: { bits, max, oneliner = i | handle = h }
local oneliner_fn = nil -- the -e function, while its aggregations are counted in the kernel
local handles = {}
local loading = false
local event_fed = false -- no kernel counts here: the handles are fed from the events

local function describe(t, fields)
	return fmt("keys: %s; table of %d keys", #fields > 0 and concat(fields, ", ") or "none",
		t[2])
end

-- The -e code calls the helpers by their global names: a script may have made them its own.
local function own_helpers()
	for _, name in ipairs({ "count", "sum", "top" }) do
		if rawget(_G, name) ~= helpers[name] then
			return fmt("%s is the script's own", name)
		end
	end
	return nil
end

--[[ ctx: exec (the -e code), exec_fn, script_filter (the script has filter()), filter (-f),
     count (-c) ]]
-- Returns the tables, whether the one-liner is counted in the kernel, and what -v says.
-- free: the kernel's tables no other client (the metrics endpoint) took.
function M.plan(ctx, no_kernel, events, free)
	free = free or KC.MAX_TABLES
	if not no_kernel and #handles > free then
		no_kernel = fmt("the kernel has %d table%s free", free, free == 1 and "" or "s")
	end
	event_fed = no_kernel ~= nil
	local whys = {}
	if not event_fed then
		for _, h in ipairs(handles) do
			tables[#tables + 1] = { h.bits, h.max, handle = h }
			whys[#whys + 1] = describe(tables[#tables], h.fields)
		end
	end
	local why_not = nil
	-- An empty -e (-w - sets one: record, print nothing) is no one-liner to speak of.
	if ctx.exec and ctx.exec:find("%S") then
		local calls, why = parse(ctx.exec)
		why_not = why
		if calls then
			why_not = no_kernel
				or (ctx.script_filter and "the script's filter() needs the events")
				or own_helpers()
				or (ctx.filter and "-f needs the events")
				or (ctx.count and "-c needs the events")
				or events
				or (#calls + #tables > free
					and fmt("more aggregations than the kernel's %d free tables", free))
		end
		if not why_not then
			for i, c in ipairs(calls) do
				tables[#tables + 1] = { bits_of(c.keys), helpers.max_keys(), oneliner = i,
					sum = c.kind == "sum" }
				whys[#whys + 1] = describe(tables[#tables], c.keys)
			end
			oneliner_fn = ctx.exec_fn
		end
	end
	local say = ""
	if #whys > 0 then
		say = "counted in the kernel (" .. concat(whys, "), (") .. ")"
	end
	if why_not then
		say = (say ~= "" and say .. "; " or "") .. "counted from the events: " .. why_not
	elseif event_fed and #handles > 0 then
		say = "tcpdrop.kcount: counted from the events: " .. no_kernel
	end
	local out = {}
	for i, t in ipairs(tables) do
		out[i] = { t[1], t[2] }
	end
	return out, oneliner_fn ~= nil, say
end

---------------------------------------------------------------------------------------------------
-- Rows

local kkey_t = ffi.typeof("struct tcpdrop_kkey")
local kkey_p = ffi.typeof("struct tcpdrop_kkey *")
local u64_p = ffi.typeof("uint64_t *")
local KKEY_SIZE = ffi.sizeof(kkey_t)
assert(KKEY_SIZE == KC.kkey_size, "the FFI's struct tcpdrop_kkey is not C's")
local key_fn = ffi.cast("void (*)(struct tcpdrop_kkey *, const struct tcpdrop_event *, uint32_t)",
	KC.key_fn)

local fake = event.type() -- the event a row's key makes: its fields read as the events' do
local kbuf = kkey_t()

local function fill(e, k)
	ffi.fill(e, ffi.sizeof(e))
	e.reason_code, e.state_code, e.tcp_flags = k.reason_code, k.state_code, k.tcp_flags
	e.family, e.sport, e.dport = k.family, k.sport, k.dport
	e.netns, e.ifindex, e.cpu = k.netns, k.ifindex, k.cpu
	e.evflags = band(k.evflags, bor(core.flags.NO_REASON, core.flags.SOCK))
	ffi.copy(e.saddr_raw, k.saddr, 16)
	ffi.copy(e.daddr_raw, k.daddr, 16)
	if KEYS.cgroup_id then
		e.cgroup_id_raw = k.cgroup_id
	end
end

-- A row into a handle's rows since they were last read (bounded as the kernel's table is).
local function handle_add(h, ks, count, bytes)
	local r = h.pending[ks]
	if r == nil then
		if h.npending >= h.max then
			h.over = h.over + count
			return
		end
		r = { 0, 0 }
		h.pending[ks] = r
		h.npending = h.npending + 1
	end
	r[1], r[2] = r[1] + count, r[2] + bytes
end

local G_count, G_sum, G_top = helpers.count, helpers.sum, helpers.top

-- The one-liner's call i, fed the rows: the -e code again, count and sum weighted meanwhile.
local function feed_oneliner(i, keys, counts, bytes, n, overflow, sum)
	local fed = helpers.fed
	rawset(_G, "count", helpers.fed_count)
	rawset(_G, "sum", helpers.fed_sum)
	rawset(_G, "top", helpers.fed_top)
	local ok, err = pcall(function()
		fed.target = i
		for r = 0, n - 1 do
			local k = keys[r]
			fed.calls, fed.n = 0, tonumber(counts[r])
			fed.w = sum and tonumber(bytes[r]) or fed.n
			fill(fake, k)
			fed.over = false
			oneliner_fn(fake)
		end
		if overflow > 0 then
			ffi.fill(fake, ffi.sizeof(fake))
			fed.calls, fed.n, fed.over = 0, overflow, true
			oneliner_fn(fake)
		end
	end)
	fed.over = false
	rawset(_G, "count", G_count)
	rawset(_G, "sum", G_sum)
	rawset(_G, "top", G_top)
	if not ok then
		error(err, 0)
	end
end

-- Table t's rows (0-based, as in the plan), addresses as numbers; the core keeps the table's
-- overflow row out of them (it comes as overflow).
function M.feed(t, keys, counts, bytes, n, overflow)
	local tab = tables[t + 1]
	if not tab then
		return
	end
	keys, counts, bytes = ffi.cast(kkey_p, keys), ffi.cast(u64_p, counts), ffi.cast(u64_p, bytes)
	if tab.oneliner then
		return feed_oneliner(tab.oneliner, keys, counts, bytes, n, overflow, tab.sum)
	end
	local h = tab.handle
	h.over = h.over + overflow
	for r = 0, n - 1 do
		handle_add(h, ffi.string(keys[r], KKEY_SIZE), tonumber(counts[r]), tonumber(bytes[r]))
	end
end

---------------------------------------------------------------------------------------------------
-- Scripts' tables: tcpdrop.kcount{"reason", "dport", max_keys = N}

local Handle = {}
Handle.__index = Handle

-- The rows counted since the last call: for key, count, bytes in h:rows() do ... end, key a
-- table of the fields asked for, as the events' fields read (key.reason, key.dport).
function Handle:rows()
	local rows = self.pending
	self.pending, self.npending = {}, 0
	local fields, ks = self.fields, nil
	return function()
		local r
		ks, r = next(rows, ks)
		if ks == nil then
			return nil
		end
		ffi.copy(kbuf, ks, KKEY_SIZE)
		fill(fake, kbuf)
		local key = {}
		for _, f in ipairs(fields) do
			key[f] = fake[f]
		end
		return key, r[1], r[2]
	end
end

-- Drops since the start whose key found no room (in the kernel's table or here).
function Handle:overflow()
	return self.over
end

function M.handle(spec)
	if not loading then
		error("tcpdrop.kcount: call it at the top level of the script, as it loads (the "
			.. "tables are made before the probe loads)", 2)
	end
	if type(spec) ~= "table" then
		error("tcpdrop.kcount: a table expected, e.g. tcpdrop.kcount{\"reason\", \"dport\"}", 2)
	end
	local fields, max = {}, spec.max_keys
	for k in pairs(spec) do
		if k ~= "max_keys" and (type(k) ~= "number" or k < 1 or k > #spec or k % 1 ~= 0) then
			error(fmt("tcpdrop.kcount: unknown option '%s' (field names, max_keys)",
				tostring(k)), 2)
		end
	end
	for i, f in ipairs(spec) do
		if type(f) ~= "string" or not KEYS[f] then
			error(fmt("tcpdrop.kcount: %s is not a field the kernel counts by (%s)",
				type(f) == "string" and "'" .. f .. "'" or "key " .. i, concat(key_list, ", ")), 2)
		end
		fields[i] = f
	end
	if max ~= nil and (type(max) ~= "number" or max < 1 or max % 1 ~= 0 or max > 2 ^ 32 - 1) then
		error("tcpdrop.kcount: max_keys must be an integer > 0", 2)
	end
	if #handles >= KC.MAX_TABLES then
		error(fmt("tcpdrop.kcount: at most %d tables", KC.MAX_TABLES), 2)
	end
	local h = setmetatable({ fields = fields, bits = bits_of(fields), max = max or helpers.max_keys(),
		pending = {}, npending = 0, over = 0 }, Handle)
	handles[#handles + 1] = h
	return h
end

function M.set_loading(flag)
	loading = flag
end

function M.has_handles()
	return #handles > 0
end

-- Where no kernel counts: each event into the handles, as the probe would count it; and the
-- TCPDROP_KC_* bits the handles key by (what the feeder reads of each event).
function M.event_feeder()
	if not event_fed or #handles == 0 then
		return nil
	end
	local bits = 0
	for _, h in ipairs(handles) do
		bits = bor(bits, h.bits)
	end
	return function(e)
		for _, h in ipairs(handles) do
			key_fn(kbuf, e, h.bits)
			handle_add(h, ffi.string(kbuf, KKEY_SIZE), 1, e.len)
		end
	end, bits
end

return M
