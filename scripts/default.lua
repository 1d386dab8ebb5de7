-- The default output: today's bcc tcpdrop format, with the drop reason and its code.
--
-- TIME     PID     IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)        REASON (CODE)
-- 14:46:49 0       4  10.0.0.2:80          > 10.0.0.1:33280       - (SYN)              NO_SOCKET (3)
--         tcp_v4_rcv+0x99
--         ...
--
-- Each line is built in a buffer (tcpdrop.out), not with string.format: in a storm this printer
-- runs a million times a second, and a string per field was most of its cost.

local out = require("tcpdrop.out")
local pad, put_flow, put_stack, write = out.pad, out.put_flow, out.put_stack, out.write
local b = out.new()

function init()
	io.write(string.format("%-8s %-7s %-2s %-20s > %-20s %-20s %s\n", "TIME", "PID", "IP",
		"SADDR:SPORT", "DADDR:DPORT", "STATE (FLAGS)", "REASON (CODE)"))
end

function drop(e)
	put_flow(b, e, 7, true)
	local m = #b
	b:put(e.state, " (", e.flags, ")")
	pad(b, m, 20)
	b:putf(" %s (%d)\n", e.reason, e.reason_code) -- %d: why, in put_flow (lua/out.lua)
	put_stack(b, e)
	write(b)
end
