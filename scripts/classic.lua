-- The original 2018 bcc tcpdrop output, byte for byte: no reason column.
--
-- TIME     PID    IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)
-- 14:46:49 0      4  10.0.0.2:80          > 10.0.0.1:33280       - (SYN)
--
-- Lines are built in a buffer, as in the default printer (see there why).

local out = require("tcpdrop.out")
local pad, put_addr, put_stack, write = out.pad, out.put_addr, out.put_stack, out.write
local b = out.new()

function init()
	io.write(string.format("%-8s %-6s %-2s %-20s > %-20s %s (%s)\n", "TIME", "PID", "IP",
		"SADDR:SPORT", "DADDR:DPORT", "STATE", "FLAGS"))
end

function drop(e)
	local family = e.family
	local m = #b
	b:put(e.timestr)
	pad(b, m, 8)
	m = #b + 1
	b:put(" ", e.pid)
	pad(b, m, 6)
	m = #b + 1
	b:put(" ", family)
	pad(b, m, 2)
	m = #b + 1
	b:put(" ")
	put_addr(b, family, e.saddr_raw)
	b:put(":", e.sport)
	pad(b, m, 20)
	b:put(" > ")
	m = #b
	put_addr(b, family, e.daddr_raw)
	b:put(":", e.dport)
	pad(b, m, 20)
	b:put(" ", e.state, " (", e.flags, ")\n")
	put_stack(b, e)
	write(b)
end
