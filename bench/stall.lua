-- By hand, not run by make bench: bench/stats.lua's lines, plus a 300 ms stall in the first
-- filter() call, to see whether a reader that falls behind during a storm catches up again.
-- The default printer keeps running. Run `tcpdrop -s bench/stall.lua` while bench/dropgen
-- makes drops (as bench/run.sh sets it up); a run that never catches up loses far more than
-- the stall's worth of drops (see the notes on issue 5).
local ffi = require("ffi")

pcall(ffi.cdef, [[
int poll(void *fds, unsigned long n, int timeout);
int getpid(void);
]])

local stalled = false

function init()
	io.stderr:write(string.format("bench: attached pid=%d at=0\n", ffi.C.getpid()))
end

function filter(e)
	if not stalled then
		stalled = true
		ffi.C.poll(nil, 0, 300)
	end
	return true
end

function done(st)
	io.stderr:write(string.format("bench: seen=%d lost=%d passed=%d stacks_skipped=%d\n",
		st.seen or 0, st.lost or 0, st.passed or 0, st.stacks_skipped or 0))
end
