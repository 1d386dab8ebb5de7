-- Hook dispatch between the C core and the user's script: loading, filter/drop per batch, tick, done.
local ffi = require("ffi")
local core = require("tcpdrop.core")
local event = require("tcpdrop.event")
local helpers = require("tcpdrop.helpers")

local rt = {
	pos = 0, -- index of the event being handled, for error reports
	passed = 0, -- events that passed the filter
	limit = nil, -- stop after this many (-c)
	stop = false,
	exit_code = nil,
}

local evptr = event.ptr
local hooks = {}
local default_env = nil

-- The user-facing table, also reachable as the global `tcpdrop`.
local api = {
	version = core.version,
	interval_sec = nil,
}

function api.exit(code)
	rt.stop = true
	rt.exit_code = code or 0
end

function api.interval(sec)
	if type(sec) ~= "number" or sec <= 0 then
		error("tcpdrop.interval: a number of seconds > 0 expected", 2)
	end
	api.interval_sec = sec
end

for k, v in pairs(helpers) do
	api[k] = v
end

local function install_globals()
	_G.tcpdrop = api
	_G.printf = helpers.printf
	_G.count = helpers.count
end

-- Levenshtein distance, for "did you mean" on a misspelt global.
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

local function suggest(name)
	local best, best_d = nil, 3
	for k in pairs(_G) do
		if type(k) == "string" then
			local d = distance(name, k)
			if d < best_d then
				best, best_d = k, d
			end
		end
	end
	for k in pairs(api) do
		local d = distance(name, k)
		if d < best_d then
			best, best_d = "tcpdrop." .. k, d
		end
	end
	return best
end

-- Reading a global that was never set is a mistake (a misspelt helper, most often): say so.
local function strict_globals()
	setmetatable(_G, {
		__index = function(_, name)
			local hint = type(name) == "string" and suggest(name)
			error(string.format("undefined global '%s'%s", tostring(name),
				hint and string.format(" (did you mean '%s'?)", hint) or ""), 2)
		end,
	})
end

local function compile(src, chunkname)
	local fn, err = loadstring(src, chunkname)
	if not fn then
		error(err, 0)
	end
	return fn
end

local function hook(name)
	local v = rawget(_G, name)
	if v ~= nil and type(v) ~= "function" then
		error(string.format("'%s' must be a function, not a %s", name, type(v)), 0)
	end
	return v
end

-- A shipped script run in an environment of its own, so that its hooks do not clash with the user's.
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

--[[ opts: script_src, script_chunk, filter_expr, exec_code, args, count ]]
function rt.setup(opts)
	install_globals()
	strict_globals()
	if opts.script_src then
		compile(opts.script_src, opts.script_chunk)()
	end
	hooks.init = hook("init")
	hooks.filter = hook("filter")
	hooks.drop = hook("drop")
	hooks.tick = hook("tick")
	hooks.done = hook("done")
	if opts.filter_expr then
		local f = compile("return function(e) return (" .. opts.filter_expr .. ") end", "=-f")()
		local script_filter = hooks.filter
		if script_filter then
			hooks.filter = function(e)
				return script_filter(e) and f(e)
			end
		else
			hooks.filter = f
		end
	end
	if opts.exec_code then
		if hooks.drop then
			error("-e replaces drop(), but the script defines drop() already", 0)
		end
		hooks.drop = compile("return function(e) " .. opts.exec_code .. "\nend", "=-e")()
	end
	if not hooks.drop then
		default_env = load_shipped("default")
		hooks.drop = default_env.drop
	end
	rt.args = opts.args or {}
	rt.limit = opts.count
end

function rt.init()
	if hooks.init then
		hooks.init(rt.args)
	end
	if default_env and default_env.init then
		default_env.init(rt.args)
	end
	return api.interval_sec
end

-- Called once per batch; returns 1 when tracing should stop.
function rt.dispatch(ptr, n, start)
	if rt.stop then
		return 1
	end
	local evs = ffi.cast(evptr, ptr)
	local filter, drop, limit = hooks.filter, hooks.drop, rt.limit
	local passed = rt.passed
	for i = start, n - 1 do
		rt.pos = i
		local e = evs[i]
		if filter == nil or filter(e) then
			passed = passed + 1
			rt.passed = passed
			drop(e)
			if (limit and passed >= limit) or rt.stop then
				rt.stop = true
				rt.pos = i + 1
				return 1
			end
		end
	end
	rt.pos = n
	return rt.stop and 1 or 0
end

function rt.tick(n)
	if hooks.tick then
		hooks.tick(n)
	end
	helpers.print_all(false)
	return rt.stop and 1 or 0
end

function rt.has_tick()
	return hooks.tick ~= nil
end

function rt.done(stats)
	stats.passed = rt.passed
	if hooks.done then
		hooks.done(stats)
	end
	helpers.print_all(true)
end

return rt
