-- The original 2018 bcc tcpdrop output, byte for byte: no reason column.
--
-- TIME     PID    IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)
-- 14:46:49 0      4  10.0.0.2:80          > 10.0.0.1:33280       - (SYN)

local fmt = string.format

function init()
	io.write(fmt("%-8s %-6s %-2s %-20s > %-20s %s (%s)\n", "TIME", "PID", "IP",
		"SADDR:SPORT", "DADDR:DPORT", "STATE", "FLAGS"))
end

function drop(e)
	io.write(fmt("%-8s %-6d %-2d %-20s > %-20s %s (%s)\n", e.timestr, e.pid, e.family,
		e.saddr .. ":" .. e.sport, e.daddr .. ":" .. e.dport, e.state, e.flags))
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
