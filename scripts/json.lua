-- One JSON object per drop, one per line: every field, the same keys in the same order.
--
-- {"time":"2023-11-14T22:13:20.000000Z","ts":1700000000.000000,"timestr":"22:13:20",
--  "pid":0,"tid":0,"comm":"swapper/0","cpu":0,"family":4,"saddr":"10.0.0.2","sport":40000,
--  "daddr":"10.0.0.1","dport":80,"state":"-","state_code":0,"flags":"SYN","tcp_flags":2,
--  "reason":"NO_SOCKET","reason_code":3,"seq":1000,"ack":0,"win":64240,"len":60,
--  "netns":4026531840,"ifindex":1,"location":"tcp_v4_rcv+0x99","stack":["tcp_v4_rcv+0x99"],
--  "stack_status":"ok","has_socket":false,"from_packet":true}   (on one line)
--
-- Strings are valid JSON whatever the bytes: control characters are escaped and bytes that are
-- not UTF-8 become U+FFFD. "stack" is null when no stack was captured (see stack_status).
-- Lines are built in a buffer, as in the default printer (see there why).

local out = require("tcpdrop.out")
local put_isotime, write = out.put_isotime, out.write
local q = tcpdrop.json -- a JSON string literal for a Lua string (kept: the same ones recur)
local b = out.new()

-- The fields after "timestr", as one format: %d prints a 32-bit field by the integer path, where
-- b:put() of the same number (a double to LuaJIT) takes the general float formatting.
local fields = table.concat({
	'%s,"pid":%d,"tid":%d,"comm":%s,"cpu":%d,"family":%d,"saddr":%s,"sport":%d,',
	'"daddr":%s,"dport":%d,"state":%s,"state_code":%d,"flags":%s,"tcp_flags":%d,',
	'"reason":%s,"reason_code":%d,"seq":%d,"ack":%d,"win":%d,"len":%d,"netns":%d,',
	'"ifindex":%d,"location":%s,"stack":',
})

function drop(e)
	local ns = e.ts_ns
	b:put('{"time":"')
	put_isotime(b, e)
	b:putf('","ts":%d.%06d,"timestr":', tonumber(ns / 1000000000ULL),
		tonumber(ns % 1000000000ULL / 1000ULL))
	b:putf(fields, q(e.timestr), e.pid, e.tid, q(e.comm), e.cpu, e.family, q(e.saddr), e.sport,
		q(e.daddr), e.dport, q(e.state), e.state_code, q(e.flags), e.tcp_flags, q(e.reason),
		e.reason_code, e.seq, e.ack, e.win, e.len, e.netns, e.ifindex, q(e.location))
	local stack = e.stack
	if stack then
		b:put("[")
		for i = 1, #stack do
			b:put(i > 1 and "," or "", q(stack[i]))
		end
		b:put("]")
	else
		b:put("null")
	end
	b:put(',"stack_status":', q(e.stack_status), ',"has_socket":', tostring(e.has_socket),
		',"from_packet":', tostring(e.from_packet), "}\n")
	write(b)
end
