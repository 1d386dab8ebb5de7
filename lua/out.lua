-- Printing a drop without a Lua string per line: the shipped printers build each line in a
-- string.buffer and hand it to stdio's stdout, so that it stays in order with io.write.
--
-- string.format and `..` intern every string they make (a hash, an allocation, later a
-- collection): at storm rates that was most of the reader's time in the default output.
local buffer = require("string.buffer")
local event = require("tcpdrop.event")
local core = require("tcpdrop.core")

local pads = {} -- pads[n]: n spaces
for n = 1, 64 do
	pads[n] = string.rep(" ", n)
end

local M = { put_isotime = event.put_isotime }

-- A buffer to build lines in.
function M.new()
	return buffer.new(512)
end

-- Left-justify what was put since mark (#b before it) in a column of width, like %-Ns.
function M.pad(b, mark, width)
	local n = width - (#b - mark)
	if n > 0 then
		b:put(pads[n] or string.rep(" ", n))
	end
end

-- Write the buffer to stdout and empty it. Through a C function the core hands over: a static
-- build has no symbols for ffi.C to find, and io.write(buffer) is not compiled by the JIT.
local C = event.cfuncs
local KS = event.ksyms -- the run's symbols, for C's frame lines
function M.write(b)
	local p, n = b:ref()
	C.out(p, n)
	b:reset()
end

-- The columns bcc's tcpdrop starts a line with: TIME PID IP SADDR:SPORT > DADDR:DPORT, the
-- PID column pid_width wide; then a space. Written by C straight into the buffer: in Lua these
-- were two dozen puts and pads, half the default printer's time.
local FLOW_ROOM = core.flow_room -- what C may write besides the time (core/columns.h)
-- bracket: IPv6 endpoints as [ADDR]:PORT (RFC 3986), where "2001:db8::7:51986" would hide the
-- port; only the 2018 format (classic) writes them bare, byte for byte as then.
function M.put_flow(b, e, pid_width, bracket)
	local time = e.timestr
	local n = #time
	local p = b:reserve(n + FLOW_ROOM)
	b:commit(C.flow(p, e, pid_width, bracket and 1 or 0, time, n))
end

-- A drop's stack, one frame a line after a tab, or why it has none; then a blank line. The
-- frames are written by C too: with a loop here (and in e.stack), run only for drops with a
-- stack, the hook's loop sometimes never became one trace of its own, and a storm cost up to
-- twice the CPU per drop. Without it the printer has no loop at all.
local FRAMES_ROOM = core.frames_room
function M.put_stack(b, e)
	local status = e.stack_status
	if status == "ok" then
		local p = b:reserve(FRAMES_ROOM)
		b:commit(C.frames(KS, p, FRAMES_ROOM, e))
	elseif status == "off" then
		return -- --no-stack: one line per drop, no blank line between them
	else
		b:put("\t[stack ", status, "]\n") -- skipped by the storm guard, or failed
	end
	b:put("\n") -- the blank line that ends a drop's stack, as bcc prints it
end

return M
