-- Hook dispatch between the C core and the user's script: loading, filter/drop per batch, tick, done.
local ffi = require("ffi")
local core = require("tcpdrop.core")
local event = require("tcpdrop.event")
local helpers = require("tcpdrop.helpers")
local json = require("tcpdrop.json")

local fmt = string.format
local mono = event.mono

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

-- Stop tracing after this event (or at once from init or tick); the process exits with code.
function api.exit(code)
	if code ~= nil and (type(code) ~= "number" or code < 0 or code > 255 or code % 1 ~= 0) then
		error("tcpdrop.exit: the exit code must be an integer from 0 to 255", 2)
	end
	rt.stop = true
	rt.exit_code = code or 0
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

-- every(sec, key): true at most once every sec seconds for each key (rate limiting).
local last_fired = {}
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
	if last == nil or now - last >= sec then
		last_fired[key] = now
		return true
	end
	return false
end

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

-- syslog(level, message): level is "emerg" ... "debug" (also "error", "warn") or 0..7.
function api.syslog(level, message)
	if message == nil then
		level, message = "notice", level
	end
	local code = core.syslog_level(tostring(level))
	if code < 0 then
		error(fmt("tcpdrop.syslog: unknown level '%s' (emerg alert crit err warning notice info "
			.. "debug)", tostring(level)), 2)
	end
	core.syslog(code, tostring(message))
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
	return s
end

-- The counts so far, as done(stats) gets them at the end.
function api.stats()
	local s = {}
	for k, v in pairs(rt.kernel) do
		s[k] = v
	end
	s.seen = math.max(rt.seen, s.seen or 0)
	s.errors = core.errors()
	return add_counts(s)
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

-- Reading a global that was never set is a mistake (a misspelt helper, most often): say so.
local function strict_globals()
	setmetatable(_G, {
		__index = function(_, name)
			local hint
			if type(name) == "string" then
				hint = closest(name, global_names())
					or closest(name, api_names, "tcpdrop.")
				for _, f in ipairs(event.names) do
					if f == name then
						hint = "e." .. name
					end
				end
				hint = hint or closest(name, event.names, "e.")
			end
			error(fmt("undefined global '%s'%s", tostring(name),
				hint and fmt(" (did you mean '%s'?)", hint) or ""), 2)
		end,
	})
end

---------------------------------------------------------------------------------------------------
-- Loading

local function compile(src, chunkname)
	helpers.register_source(chunkname, src)
	local fn, err = loadstring(src, chunkname)
	if not fn then
		error(err, 0)
	end
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
	setfenv(fn, env)
	fn()
	return env
end

--[[ opts: script_src, script_chunk, filter_expr, exec_code, args, count, interval ]]
function rt.setup(opts)
	install_globals()
	strict_globals()
	if opts.script_src then
		local before = {}
		for k in pairs(_G) do
			before[k] = true
		end
		compile(opts.script_src, opts.script_chunk)()
		for _, name in ipairs(HOOKS) do
			hooks[name] = hook(name)
		end
		warn_misspelt_hooks(opts.script_chunk, before)
	end
	if opts.filter_expr then
		local f = compile("return function(e) if (" .. opts.filter_expr
			.. ") then return true end return false end", "=-f")()
		local script_filter = hooks.filter
		if script_filter then
			hooks.filter = function(e)
				return script_filter(e) ~= false and f(e)
			end
		else
			hooks.filter = f
		end
	end
	if opts.exec_code then
		if hooks.drop then
			error("-e gives the body of drop(), but the script defines drop() already", 0)
		end
		hooks.drop = compile("return function(e) " .. opts.exec_code .. "\nend", "=-e")()
	end
	if not hooks.drop then
		default_env = load_shipped("default")
		hooks.drop = default_env.drop
	end
	rt.args = opts.args or {}
	rt.limit = opts.count
	interval_opt = opts.interval
end

-- Runs init(args); returns the tick interval in effect (nil: none) and whether to stop at once.
function rt.init()
	rt.started = clock()
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
	elseif helpers.any() then
		io.write(os.date("[%H:%M:%S]", api.time()), "\n")
	end
	if helpers.print_all(false) then
		io.write("\n")
	end
	return rt.stop and 1 or 0
end

-- The core's own counters (lost, filtered_kernel, ...), for tcpdrop.stats() between ticks.
function rt.kernel_stats(st)
	rt.kernel = st
end

function rt.done(stats)
	cur_evs = nil
	add_counts(stats)
	if hooks.done then
		hooks.done(stats)
	end
	helpers.print_all(true)
end

return rt
