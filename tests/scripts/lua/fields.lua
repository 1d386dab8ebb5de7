-- Every field of every event, and copies kept past the call (run with --batch 1: one buffer).
local kept = {}

local function show(v)
	if type(v) == "table" then
		return "{" .. table.concat(v, ",") .. "}"
	elseif type(v) == "number" and v % 1 ~= 0 then
		return string.format("%.6f", v)
	end
	return tostring(v)
end

function drop(e)
	for _, k in ipairs(tcpdrop.fields) do
		printf("%s=%s\n", k, show(e[k]))
	end
	printf("raw: ts_ns=%s loc_addr=%s evflags=%d nstack=%d pkt_len=%d hdr_len=%d ack_seq=%d\n",
		tostring(e.ts_ns), e.loc_addr ~= 0 and "set" or "0", e.evflags, e.nstack, e.pkt_len,
		e.hdr_len, e.ack_seq)
	printf("has: FIN=%s SYN=%s RST=%s PSH=%s ACK=%s\n", tostring(e:has("FIN")),
		tostring(e:has("SYN")), tostring(e:has("RST")), tostring(e:has("PSH")),
		tostring(e:has("ACK")))
	printf("saddr_raw[0]=%d comm_raw[0]=%d packet=%q\n", e.saddr_raw[0], e.comm_raw[0], e.packet)
	local t = e:totable()
	printf("totable: %s %s %s\n", t.reason, t.saddr, tostring(t.has_socket))
	printf("tostring: %s\n\n", tostring(e))
	kept[#kept + 1] = e:copy()
end

function done()
	for i, c in ipairs(kept) do
		printf("copy %d: %s %d %s\n", i, c.saddr, c.dport, c.reason)
	end
	local ok, err = pcall(function() return kept[1]:has("XMAS") end)
	printf("has(XMAS): %s %s\n", tostring(ok), err)
end
