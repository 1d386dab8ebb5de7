-- A hook that never returns, for build/tests/interrupt: args via the mode in the file name.
-- MODE: "interp" (the interpreter: jit off), "pcall" (a pcall that would swallow the error),
-- "call" (JIT on, the loop calls a function the JIT does not compile), "done" (done loops too),
-- "jit" (JIT on, a loop compiled into one trace: LuaJIT never sees the hook there).
local mode = MODE
if mode ~= "call" and mode ~= "jit" then
	jit.off()
end

local function forever()
	local n = 0
	while true do
		n = n + 1
	end
end

function init()
	if mode == "init" then
		forever()
	end
end

function drop(e)
	if mode == "pcall" then
		while true do
			pcall(forever)
		end
	elseif mode == "call" then
		local n = 0
		while true do
			n = n + #tostring({}) -- a new table each time: a trace exits to the GC
			n = n + select("#", os.clock())
		end
	end
	forever()
end

function done(s)
	print("done ran, seen " .. s.seen)
	if mode == "done" then
		forever()
	end
end
