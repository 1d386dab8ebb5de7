-- The original 2018 bcc tcpdrop output, byte for byte: no reason column.
--
-- TIME     PID    IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)
-- 14:46:49 0      4  10.0.0.2:80          > 10.0.0.1:33280       - (SYN)
--
-- Lines are built in a buffer, as in the default printer (see there why).

local out = require("tcpdrop.out")
local put_flow, put_stack, write = out.put_flow, out.put_stack, out.write
local b = out.new()

function init()
	io.write(string.format("%-8s %-6s %-2s %-20s > %-20s %s (%s)\n", "TIME", "PID", "IP",
		"SADDR:SPORT", "DADDR:DPORT", "STATE", "FLAGS"))
end

function drop(e)
	put_flow(b, e, 6, false)
	b:put(e.state, " (", e.flags, ")\n")
	put_stack(b, e)
	write(b)
end
