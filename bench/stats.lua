-- make bench: say on stderr when tracing has started (pid, wall clock) and, at exit, what was seen.
local ffi = require("ffi")

pcall(ffi.cdef, [[
int getpid(void);
struct tcpdrop_bench_ts { long sec; long nsec; };
int clock_gettime(int clk, struct tcpdrop_bench_ts *ts);
]])

function init()
	local ts = ffi.new("struct tcpdrop_bench_ts")
	ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME, as `date +%s%N` in the driver
	io.stderr:write(string.format("bench: attached pid=%d at=%d%09d\n", ffi.C.getpid(),
		tonumber(ts.sec), tonumber(ts.nsec)))
end

function done(st)
	-- Seen: as events, or counted in the kernel (a one-liner there takes no event).
	io.stderr:write(string.format("bench: seen=%d lost=%d passed=%d stacks_skipped=%d\n",
		math.max(st.seen or 0, st.counted or 0), st.lost or 0, st.passed or 0,
		st.stacks_skipped or 0))
end
