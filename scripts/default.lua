-- The default output: today's bcc tcpdrop format, with the drop reason and its code.
--
-- TIME     PID     IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)        REASON (CODE)
-- 14:46:49 0       4  10.0.0.2:80          > 10.0.0.1:33280       - (SYN)              NO_SOCKET (3)
--         tcp_v4_rcv+0x99
--         ...

local fmt = string.format

function init()
	io.write(fmt("%-8s %-7s %-2s %-20s > %-20s %-20s %s\n", "TIME", "PID", "IP",
		"SADDR:SPORT", "DADDR:DPORT", "STATE (FLAGS)", "REASON (CODE)"))
end

function drop(e)
	io.write(fmt("%-8s %-7d %-2d %-20s > %-20s %-20s %s (%d)\n", e.timestr, e.pid, e.family,
		e.saddr .. ":" .. e.sport, e.daddr .. ":" .. e.dport,
		e.state .. " (" .. e.flags .. ")", e.reason, e.reason_code))
	local stack = e.stack
	if stack then
		for i = 1, #stack do
			io.write("\t", stack[i], "\n")
		end
	elseif e.stack_status ~= "off" then
		io.write("\t[stack ", e.stack_status, "]\n") -- skipped by the storm guard, or failed
	end
	io.write("\n")
end
