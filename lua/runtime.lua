-- Hook dispatch between the C core and the user's script: loading, filter/drop per batch, tick, done.
local ffi = require("ffi")
local bit = require("bit")
local core = require("tcpdrop.core")
local event = require("tcpdrop.event")
local helpers = require("tcpdrop.helpers")
local json = require("tcpdrop.json")
local kcount = require("tcpdrop.kcount")
local coverage = require("tcpdrop.coverage")

local fmt = string.format
local mono = event.mono

-- The FFI view and C must agree on the event layout.
if ffi.sizeof(event.type) ~= core.event_size then
	error(fmt("internal error: the FFI event is %d bytes, C's is %d", ffi.sizeof(event.type),
		core.event_size), 0)
end

-- Longer traces than LuaJIT's default (4000 IR instructions): a trace through a printer and
-- a script's hooks is long, and each "trace too long" abort counts towards blacklisting where
-- it started, after which that code stays interpreted, about 3x slower, for the rest of the run.
if jit and jit.opt then -- absent where LuaJIT is built without its JIT
	jit.opt.start("maxrecord=16000", "maxirconst=2000", "maxside=500", "maxsnap=1000")
end

local rt = {
	pos = 0, -- index in the batch of the event being handled, for error reports
	seen = 0, -- events handed to the runtime
	passed = 0, -- events that passed the filter
	filtered = 0, -- events the filter rejected
	limit = nil, -- stop after this many passed (-c)
	stop = false,
	exit_code = nil,
	started = nil, -- the run's clock (see clock()) when init ran
	kernel = {}, -- counters only the core knows (lost, ...), refreshed by the core
}

local HOOKS = { "init", "filter", "drop", "tick", "done" }

local evptr = event.ptr
-- Set by the core (runtime__halt) to stop handing events over, even inside a batch. Volatile:
-- the compiled loop must load it for every event, not once.
local halt = ffi.cast("volatile int *", core.halt)
local hooks = {}
local default_env = nil
local in_init = false
local interval_opt, interval_req = nil, nil -- -i, and what init asked for

---------------------------------------------------------------------------------------------------
-- "Did you mean": the closest name by edit distance, if close enough to be a likely typo.

local function distance(a, b)
	local prev = {}
	for j = 0, #b do
		prev[j] = j
	end
	for i = 1, #a do
		local cur = { [0] = i }
		for j = 1, #b do
			local cost = a:byte(i) == b:byte(j) and 0 or 1
			cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
		end
		prev = cur
	end
	return prev[#b]
end

local function closest(name, candidates, prefix)
	local best, best_d = nil, math.min(3, math.floor(#name / 2) + 1)
	for _, k in ipairs(candidates) do
		if type(k) == "string" and k ~= name then
			local d = distance(name, k)
			if d < best_d then
				best, best_d = (prefix or "") .. k, d
			end
		end
	end
	return best
end

event.set_suggest(closest)

---------------------------------------------------------------------------------------------------
-- The user-facing table, also reachable as the global `tcpdrop`.

local api = {
	version = core.version,
	fields = event.fields,
}

local function check_type(fname, i, v, want)
	if type(v) ~= want then
		error(fmt("tcpdrop.%s: argument %d must be a %s, not %s", fname, i, want, type(v)), 3)
	end
end

local function set_exit(code, level)
	if code ~= nil and (type(code) ~= "number" or code < 0 or code > 255 or code % 1 ~= 0) then
		error("tcpdrop.exit: the exit code must be an integer from 0 to 255", level + 1)
	end
	rt.stop = true
	rt.exit_code = code or 0
end

-- Stop tracing after this event (or at once from init or tick); the process exits with code.
function api.exit(code)
	set_exit(code, 2)
end

-- os.exit() would end the process there, without done() and with files half written: it ends
-- the run instead, at once, as tcpdrop.exit(code) does after the hook. core.exit_token is not
-- an error: the core stops the run and runs done.
local exit_token = core.exit_token
function os.exit(code) -- luacheck: ignore 122
	if code == nil or code == true then
		code = 0
	elseif code == false then
		code = 1
	end
	set_exit(code, 2)
	error(exit_token, 0)
end

-- interval(sec) from init: call tick() every sec seconds (-i on the command line wins).
-- interval(): the interval in effect, or nil.
function api.interval(sec)
	if sec == nil then
		return interval_opt or interval_req
	end
	if type(sec) ~= "number" or sec <= 0 then
		error("tcpdrop.interval: a number of seconds > 0 expected", 2)
	end
	if not in_init then
		error("tcpdrop.interval(sec) must be called from init(), before the timer starts", 2)
	end
	interval_req = sec
	return interval_opt or sec
end

-- The run's clock. Live: CLOCK_MONOTONIC. Replaying a file: the recorded time, that of the
-- event being handled, else the one the core set last (a tick's, the end's), so that rates,
-- every() and tick headers describe the recording, not the replay.
local replay_clock = nil -- seconds
local cur_evs = nil -- the batch being dispatched, for the current event's time

local function clock()
	if replay_clock then
		if cur_evs then
			return tonumber(cur_evs[rt.pos].ts_ns) / 1e9
		end
		return replay_clock
	end
	return (mono())
end

function rt.set_clock(sec)
	replay_clock = sec
	cur_evs = nil
end

-- Seconds on a clock that only goes forward: for rates and elapsed time.
function api.now()
	return clock()
end

-- Wall-clock seconds (the recorded time on replay): for dates and times to show.
function api.time()
	if replay_clock then
		return clock()
	end
	return os.time()
end

-- every(sec, key): true at most once every sec seconds for each key (rate limiting). Keys are
-- bounded like an aggregation's: when the table is full, keys whose time has passed make room;
-- a new key that still finds no room is refused (false: never a flood) and counted.
local last_fired, n_fired, longest = {}, 0, 0
function api.every(sec, key)
	if type(sec) ~= "number" or sec < 0 then
		error("tcpdrop.every: a number of seconds >= 0 expected", 2)
	end
	if key == nil then
		key = ""
	elseif type(key) == "cdata" then
		key = tostring(key)
	end
	local now = clock()
	local last = last_fired[key]
	if last == nil then
		if sec > longest then
			longest = sec
		end
		if n_fired >= helpers.max_keys() then
			for k, t in pairs(last_fired) do
				if now - t >= longest then
					last_fired[k], n_fired = nil, n_fired - 1
				end
			end
			if n_fired >= helpers.max_keys() then
				rt.every_refused = rt.every_refused + 1
				return false
			end
		end
		n_fired = n_fired + 1
	elseif now - last < sec then
		return false
	end
	last_fired[key] = now
	return true
end
rt.every_refused = 0

-- spawn(cmd, arg...) or spawn{cmd, arg...}: start a command, no shell, do not wait.
-- Returns its pid, or nil and the reason (also said on stderr: a failed action is never silent).
function api.spawn(...)
	local argv = ...
	if type(argv) ~= "table" then
		argv = { ... }
		if select("#", ...) ~= #argv then
			error("tcpdrop.spawn: an argument is nil", 2)
		end
	end
	if #argv == 0 then
		error("tcpdrop.spawn: a command expected", 2)
	end
	local args = {}
	for i, a in ipairs(argv) do
		local t = type(a)
		if t == "number" or t == "cdata" or t == "boolean" then
			a = tostring(a)
		elseif t ~= "string" then
			error(fmt("tcpdrop.spawn: argument %d is a %s, not a string", i, t), 2)
		end
		args[i] = a
	end
	return core.spawn(args)
end

local SYSLOG_LEVELS = "emerg alert crit err warning notice info debug"

-- syslog(level, message): level is "emerg" ... "debug" (also "error", "warn") or 0..7.
function api.syslog(level, message)
	if message == nil then
		level, message = "notice", level
	end
	local code = core.syslog_level(tostring(level))
	if code < 0 then
		error(fmt("tcpdrop.syslog: unknown level '%s' (%s)", tostring(level), SYSLOG_LEVELS), 2)
	end
	core.syslog(code, tostring(message))
end

-- syslog_level(name): its number (0-7), or nil and a message naming the levels: for init.
function api.syslog_level(name)
	local code = core.syslog_level(tostring(name))
	if code < 0 then
		return nil, fmt("unknown syslog level '%s' (%s)", tostring(name), SYSLOG_LEVELS)
	end
	return code
end

-- executable(cmd): the file spawn(cmd) would run, or nil and why: to check a command in init.
function api.executable(cmd)
	check_type("executable", 1, cmd, "string")
	return core.executable(cmd)
end

-- integer(text, min, max): the integer text says if within [min, max], else nil and why.
function api.integer(text, min, max)
	check_type("integer", 2, min, "number")
	check_type("integer", 3, max, "number")
	local n, why = core.integer(tostring(text), min, max)
	if not n then
		return nil, fmt("'%s' is %s (an integer from %d to %d)", tostring(text),
			why == "invalid" and "not an integer" or why, min, max)
	end
	return n
end

-- printable(s): s with what a terminal would act on escaped (control bytes, bytes that are not
-- UTF-8, backslashes), as the shipped printers show names.
api.printable = helpers.printable

-- max_keys(n): the keys each aggregation (and tcpdrop.every) keeps, from init; --max-keys wins.
-- max_keys(): the limit in effect.
function api.max_keys(n)
	if n ~= nil then
		if type(n) ~= "number" or n < 1 or n % 1 ~= 0 then
			error("tcpdrop.max_keys: an integer > 0 expected", 2)
		end
		if not rt.max_keys_opt then
			helpers.set_max_keys(n)
		end
	end
	return helpers.max_keys()
end

-- write_file(path, text): replace path atomically (temp file in the same directory, rename),
-- so that a reader such as node_exporter never sees half a file. true, or nil and the reason.
function api.write_file(path, text)
	check_type("write_file", 1, path, "string")
	check_type("write_file", 2, text, "string")
	local tmp = fmt("%s.tmp.%d", path, core.getpid())
	local f, err = io.open(tmp, "w")
	if not f then
		return nil, err
	end
	local ok, werr = f:write(text)
	local cok, cerr = f:close()
	if not ok or not cok then
		os.remove(tmp)
		return nil, werr or cerr
	end
	local rok, rerr = os.rename(tmp, path)
	if not rok then
		os.remove(tmp)
		return nil, rerr
	end
	return true
end

-- What Lua counts itself, added to the core's counters (seen, lost, errors, ...).
local function add_counts(s)
	s.passed = rt.passed
	s.filtered = rt.filtered -- by the script's filter (-f or filter())
	s.elapsed = rt.started and clock() - rt.started or 0
	local a = core.action_stats()
	s.spawned, s.spawn_failed, s.spawn_exit_failed = a.spawned, a.spawn_failed, a.failed_exit
	s.keys_dropped = helpers.dropped_total() + rt.every_refused
	return s
end

-- The counts so far, as done(stats) gets them at the end.
function api.stats()
	local s = {}
	for k, v in pairs(rt.kernel) do
		s[k] = v
	end
	s.coverage = coverage.rows(rt.kernel.coverage)
	s.seen = math.max(rt.seen, s.seen or 0)
	s.errors = core.errors()
	return add_counts(s)
end

-- The kernel's drop counters beside the traced drops, as of now (nil in a replay).
function api.coverage()
	return coverage.rows(rt.kernel.coverage)
end

api.json = json.encode
api.isatty = core.isatty -- isatty(fd): 1 for stdout
api.map = helpers.map
api.keep = helpers.keep
api.printf = helpers.printf
api.print = function()
	return helpers.print_all(false)
end
api.clear = helpers.clear_all
api.kcount = kcount.handle

local GLOBAL_HELPERS = { "count", "sum", "min", "max", "avg", "hist", "top", "printf" }
for _, k in ipairs(GLOBAL_HELPERS) do
	api[k] = helpers[k]
end

local api_names = {}
for k in pairs(api) do
	api_names[#api_names + 1] = k
end
table.sort(api_names)

setmetatable(api, {
	__index = function(_, name)
		local hint = type(name) == "string" and closest(name, api_names, "tcpdrop.")
		error(fmt("tcpdrop has no '%s'%s", tostring(name),
			hint and fmt(" (did you mean '%s'?)", hint) or ""), 2)
	end,
})

local function install_globals()
	_G.tcpdrop = api
	for _, k in ipairs(GLOBAL_HELPERS) do
		_G[k] = helpers[k]
	end
end

local function global_names()
	local t = {}
	for k in pairs(_G) do
		t[#t + 1] = k
	end
	return t
end

local function undefined_global(name, extra)
	local hint
	if type(name) == "string" then
		local names = global_names()
		for _, k in ipairs(extra or {}) do
			names[#names + 1] = k
		end
		hint = closest(name, names) or closest(name, api_names, "tcpdrop.")
		for _, f in ipairs(event.names) do
			if f == name then
				hint = "e." .. name
			end
		end
		hint = hint or closest(name, event.names, "e.")
	end
	return fmt("undefined global '%s'%s", tostring(name),
		hint and fmt(" (did you mean '%s'?)", hint) or "")
end

local function no_field(name)
	local hint = closest(name, event.names)
	return fmt("event has no field '%s'%s", name, hint and fmt(" (did you mean '%s'?)", hint) or "")
end

-- Reading a global that was never set is a mistake (a misspelt helper, most often): say so.
local function strict_globals()
	setmetatable(_G, {
		__index = function(_, name)
			error(undefined_global(name), 2)
		end,
	})
end

---------------------------------------------------------------------------------------------------
-- The same mistakes found before tracing starts, in the bytecode: LuaJIT lists each global a
-- function reads (GGET) or sets (GSET) and each constant key it indexes with (TGETS). A misspelt
-- name in a hook that no drop reaches would otherwise never be reported.

local jutil = jit and require("jit.util")
local band, rshift = bit.band, bit.rshift

-- Opcode numbers differ between LuaJIT versions: read them from code of known shape.
local OP = {}
if jutil then
	local probe = loadstring("x = y return function(e) return e.f end")
	OP.GGET = band(jutil.funcbc(probe, 1), 0xff)
	OP.GSET = band(jutil.funcbc(probe, 2), 0xff)
	OP.TGETS = band(jutil.funcbc(jutil.funck(probe, -3), 1), 0xff) -- the inner function
end

-- Calls to these can make globals that no GSET shows: a chunk that reads them is not checked.
local DYNAMIC = { _G = true, rawset = true, setfenv = true, getfenv = true, load = true,
	loadstring = true, loadfile = true, dofile = true, module = true, debug = true }
-- Modules that set no global; any other require() may.
local function known_module(m)
	return m == "ffi" or m == "bit" or m == "string.buffer" or m:match("^jit") ~= nil
		or m:match("^tcpdrop%.") ~= nil or m:match("^table%.") ~= nil
end

-- Each GGET, GSET and (in event_slot_fn) each e.NAME of fn (a function or a proto) into uses.
local function scan(fn, uses, event_slot_fn)
	local info = jutil.funcinfo(fn)
	for pc = 1, info.bytecodes - 1 do
		local ins = jutil.funcbc(fn, pc)
		local op = band(ins, 0xff)
		if op == OP.GGET or op == OP.GSET then
			local name = jutil.funck(fn, -rshift(ins, 16) - 1)
			if op == OP.GSET then
				uses.set[name] = true
			elseif not uses.get[name] then
				uses.get[name] = jutil.funcinfo(fn, pc).currentline
				uses.order[#uses.order + 1] = name
			end
		elseif op == OP.TGETS and fn == event_slot_fn and band(rshift(ins, 24), 0xff) == 0 then
			local name = jutil.funck(fn, -band(rshift(ins, 16), 0xff) - 1)
			uses.fields[#uses.fields + 1] = { name, jutil.funcinfo(fn, pc).currentline }
		end
	end
	for i = -1, -info.gcconsts, -1 do
		local k = jutil.funck(fn, i)
		if type(k) == "proto" then -- a function defined in this one
			scan(k, uses, event_slot_fn)
		end
	end
end

local event_names = {}
for _, k in ipairs(event.names) do
	event_names[k] = true
end

local chunks = {} -- { fn, chunkname, src, event function or nil }, each compiled chunk

local function check_names()
	if not jutil then
		return
	end
	local set, reads, dynamic = {}, {}, false
	for _, c in ipairs(chunks) do
		local uses = { set = set, get = {}, order = {}, fields = {} }
		local event_fn = c[4] and jutil.funck(c[1], -1) -- function(e) of -f and -e
		scan(c[1], uses, type(event_fn) == "proto" and event_fn or nil)
		-- e.NAME in -e and -f, unless the code gives e another value.
		if c[4] and not c[3]:find("%f[%w_]e%s*=%f[^=]") then
			for _, f in ipairs(uses.fields) do
				if not event_names[f[1]] then
					error(fmt("%s:%d: %s", c[2]:gsub("^[@=]", ""), f[2], no_field(f[1])), 0)
				end
			end
		end
		for _, name in ipairs(uses.order) do
			if DYNAMIC[name] then
				dynamic = true
			end
			reads[#reads + 1] = { name, uses.get[name], c[2] }
		end
		for m in c[3]:gmatch("require%s*%(?%s*[\"']([^\"']+)") do
			dynamic = dynamic or not known_module(m)
		end
	end
	if dynamic then
		return
	end
	local defined = {}
	for k in pairs(set) do
		defined[#defined + 1] = k
	end
	for _, r in ipairs(reads) do
		if not set[r[1]] and rawget(_G, r[1]) == nil then
			error(fmt("%s:%d: %s", r[3]:gsub("^[@=]", ""), r[2], undefined_global(r[1], defined)),
				0)
		end
	end
end

---------------------------------------------------------------------------------------------------
-- Loading

-- Source text only ("t"): a precompiled chunk could crash the VM it runs in.
local function compile(src, chunkname, takes_event)
	helpers.register_source(chunkname, src)
	local fn, err = load(src, chunkname, "t")
	if not fn then
		error(err, 0)
	end
	chunks[#chunks + 1] = { fn, chunkname, src, takes_event }
	return fn
end

local function hook(name)
	local v = rawget(_G, name)
	if v ~= nil and type(v) ~= "function" then
		error(fmt("'%s' must be a function, not a %s", name, type(v)), 0)
	end
	return v
end

-- The hook a function name is a typo of: the same letters swapped or mistyped (dorp, fliter),
-- or another case (Drop). Other names close to a hook (drops, ticks) are the script's own.
local function hook_typo(name)
	for _, h in ipairs(HOOKS) do
		if name ~= h and (name:lower() == h or (#name == #h and distance(name, h) <= 2)) then
			return h
		end
	end
	return nil
end

-- A script that defines dorp() meant drop(): say so instead of silently never calling it.
local function warn_misspelt_hooks(chunk, before)
	for k, v in pairs(_G) do
		if type(k) == "string" and type(v) == "function" and not before[k] then
			local near = hook_typo(k)
			if near then
				io.stderr:write(fmt("tcpdrop: warning: %s defines %s(), which is not a hook "
					.. "(did you mean %s()?)\n", (chunk:gsub("^[@=]", "")), k, near))
			end
		end
	end
end

-- The default printer, in an environment of its own, so that its hooks do not clash with the user's.
local function load_shipped(name)
	local src = core.scripts[name]
	if not src then
		error("no shipped script named '" .. name .. "'", 0)
	end
	local env = setmetatable({}, { __index = _G })
	local fn = compile(src, "@" .. name .. ".lua")
	chunks[#chunks] = nil -- its globals are its environment's
	setfenv(fn, env)
	fn()
	return env
end

-- Whether the code of -e or -f may read a field the probe fills only while it tracks owners. By
-- the text, conservatively: the event `e` anywhere but in e.NAME of another field (passed whole,
-- indexed, a method, inside a string) counts as reading them; a member x.e is not the event.
local function reads_owners(src)
	local at = 1
	while src do
		local s, e = src:find("%f[%w_]e%f[^%w_]", at)
		if not s then
			return false
		end
		local before = src:sub(1, s - 1):match("([%.:]+)%s*$")
		if before ~= "." and before ~= ":" then
			local name = src:match("^%s*%.%s*([%a_][%w_]*)", e + 1)
			if not name or event.owner_fields[name] then
				return true
			end
		end
		at = e + 1
	end
	return false
end

--[[ opts: script_src, script_chunk, filter_expr, exec_code, args, count, interval, max_keys ]]
function rt.setup(opts)
	install_globals()
	strict_globals()
	if opts.max_keys then
		helpers.set_max_keys(opts.max_keys)
		rt.max_keys_opt = true
	end
	local script
	if opts.script_src then
		script = compile(opts.script_src, opts.script_chunk)
	end
	local filter = opts.filter_expr and compile("return function(e) if (" .. opts.filter_expr
		.. ") then return true end return false end", "=-f", true)
	local exec = opts.exec_code and compile("return function(e) " .. opts.exec_code .. "\nend",
		"=-e", true)
	check_names()
	if script then
		local before = {}
		for k in pairs(_G) do
			before[k] = true
		end
		kcount.set_loading(true)
		-- Its arguments as the chunk's `...` too: what it declares as it loads (a kernel
		-- table or events) may depend on them.
		script(unpack(opts.args or {}))
		kcount.set_loading(false)
		for _, name in ipairs(HOOKS) do
			hooks[name] = hook(name)
		end
		warn_misspelt_hooks(opts.script_chunk, before)
	end
	-- A script's events reach only its filter() and drop(): without them it reads no field.
	local script_events = hooks.drop ~= nil or hooks.filter ~= nil
	local script_filter = hooks.filter
	if filter then
		local f = filter()
		if script_filter then
			hooks.filter = function(e)
				return script_filter(e) ~= false and f(e)
			end
		else
			hooks.filter = f
		end
	end
	if exec then
		if hooks.drop then
			error("-e gives the body of drop(), but the script defines drop() already", 0)
		end
		hooks.drop = exec()
	end
	rt.user_hooks = hooks.drop ~= nil or hooks.filter ~= nil
	if not hooks.drop and kcount.has_handles() then
		-- A script that counts in the kernel and reads no event prints none.
		hooks.drop = function() end
	elseif not hooks.drop then
		default_env = load_shipped("default")
		hooks.drop = default_env.drop
	end
	-- A script beside -e may have init, tick and done (they need no event), not filter.
	rt.plan_ctx = { exec = opts.exec_code, exec_fn = exec and hooks.drop,
		script_filter = script_filter ~= nil, filter = opts.filter_expr ~= nil, count = opts.count }
	-- A script's hooks may read anything; the default printer reads no owner field.
	rt.owner_reads = script_events or reads_owners(opts.exec_code)
		or reads_owners(opts.filter_expr)
	rt.args = opts.args or {}
	rt.limit = opts.count
	interval_opt = opts.interval
end

-- Before the probe loads: the kernel's tables (lua/kcount.lua), whether the events are still
-- wanted, and what -v says. no_kernel: why no kernel counts here; events: why the run needs the
-- events anyway (-w, a pcap filter); free: the kernel's tables other clients left.
function rt.kcount_plan(no_kernel, events, free)
	local tabs, oneliner, say = kcount.plan(rt.plan_ctx, no_kernel, events, free)
	if oneliner then
		-- Its drops are counted in the kernel: an event that came anyway counts nowhere twice.
		hooks.drop = function() end
		return tabs, false, say, false
	end
	local feeder, fed_keys = kcount.event_feeder()
	if feeder then
		-- Counted as the kernel would: every drop, before the script's filter.
		local f = hooks.filter
		hooks.filter = f and function(e)
			feeder(e)
			return f(e)
		end or function(e)
			feeder(e)
		end
	end
	-- -c N stops after N drops: they must come as events, even to a script that only counts.
	return tabs, rt.user_hooks or default_env ~= nil or feeder ~= nil or rt.limit ~= nil, say,
		rt.owner_reads or (fed_keys and band(fed_keys, core.kc.CGROUP) ~= 0)
end

rt.kcount_feed = kcount.feed

-- Runs init(args); returns the tick interval in effect (nil: none) and whether to stop at once.
function rt.init()
	rt.started = clock()
	if rt.stop then -- os.exit() as the script loaded
		return nil, true
	end
	in_init = true
	if hooks.init then
		hooks.init(rt.args)
	end
	if default_env and default_env.init then
		default_env.init(rt.args)
	end
	in_init = false
	return interval_opt or interval_req, rt.stop
end

-- Called once per batch of n events from index start; returns 1 when tracing should stop.
-- No pcall here: the core calls this under one pcall per batch, and on an error with
-- --keep-going calls again from the event after rt.pos.
function rt.dispatch(ptr, n, start)
	if rt.stop then
		return 1
	end
	rt.seen = rt.seen + (n - start)
	local evs = ffi.cast(evptr, ptr)
	if replay_clock then
		cur_evs = evs
	end
	local filter, drop, limit = hooks.filter, hooks.drop, rt.limit
	for i = start, n - 1 do
		if halt[0] ~= 0 then
			rt.left = n - i
			cur_evs = nil
			return 1
		end
		rt.pos = i
		local e = evs[i]
		if filter == nil or filter(e) ~= false then
			local passed = rt.passed + 1
			rt.passed = passed
			drop(e)
			if (limit and passed >= limit) or rt.stop then
				rt.stop = true
				cur_evs = nil
				return 1
			end
		else
			rt.filtered = rt.filtered + 1
		end
	end
	cur_evs = nil
	return rt.stop and 1 or 0
end

function rt.tick(n)
	cur_evs = nil
	if hooks.tick then
		hooks.tick(n)
	elseif helpers.has_auto() then
		-- Every interval has its time line, an empty one too: a quiet interval is news as well.
		io.write(os.date("[%H:%M:%S]", api.time()), "\n")
		if not helpers.any() then
			io.write("(no drops)\n\n")
		end
	end
	if helpers.print_all(false) then
		io.write("\n")
	end
	return rt.stop and 1 or 0
end

-- The core's counters, as numbers (the core builds no table: nothing to fail outside a pcall).
local function core_stats(seen, lost, filtered_kernel, stacks_skipped, stacks_failed, errors,
		counted, cover)
	return { seen = seen, lost = lost, filtered_kernel = filtered_kernel,
		stacks_skipped = stacks_skipped, stacks_failed = stacks_failed, errors = errors,
		counted = counted, coverage = cover }
end

-- The core's own counters (lost, filtered_kernel, ...), for tcpdrop.stats() between ticks.
function rt.kernel_stats(...)
	rt.kernel = core_stats(...)
end

-- After done(), or in its place when it called os.exit(): what was not printed, what did not fit.
function rt.done_rest()
	helpers.print_all(true)
	helpers.report_dropped(io.stderr)
	if rt.every_refused > 0 then
		io.stderr:write(fmt("tcpdrop: tcpdrop.every: %d new keys refused, its table was full "
			.. "(%d keys; --max-keys, tcpdrop.max_keys)\n", rt.every_refused, helpers.max_keys()))
	end
end

function rt.done(...)
	cur_evs = nil
	local stats = add_counts(core_stats(...))
	stats.coverage = coverage.rows(stats.coverage)
	if hooks.done then
		hooks.done(stats)
	end
	rt.done_rest()
end

return rt
