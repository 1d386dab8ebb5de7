-- No JIT trace may start at the event's __index (see the comment there, lua/event.lua): call it
-- often enough to be hot on its own, from a loop too short to be hot, and look at what starts.
-- Run with the path of lua/event.lua after --, to find the line __index is defined on.
local jutil = require("jit.util")

local starts = {} -- "source:linedefined" of each function a root trace started at the entry of

jit.attach(function(what, _, func, pc, parent)
	if what == "start" and parent == nil and pc == 0 then
		local fi = jutil.funcinfo(func)
		starts[#starts + 1] = { source = fi.source, line = fi.linedefined }
	end
end, "trace")

local index_line, path

function init(args)
	path = args[1]
	local n = 0
	for line in io.lines(path) do
		n = n + 1
		if line:find("__index = function", 1, true) then
			index_line = n
		end
	end
end

local poked = false

function drop(e)
	if poked then
		return
	end
	poked = true
	-- 40 iterations, 240 calls: a function is hot after 112 calls, a loop after 56 iterations.
	for _ = 1, 40 do
		local _ = e.state, e.flags, e.reason, e.timestr, e.stack_status, e.comm
	end
end

function done()
	jit.attach(function() end)
	if not index_line then
		print("no __index in " .. path)
		return
	end
	local bad = 0
	for _, s in ipairs(starts) do
		if s.source:find("event.lua", 1, true) and s.line == index_line then
			bad = bad + 1
		end
	end
	print(string.format("traces rooted at __index: %d", bad))
end
