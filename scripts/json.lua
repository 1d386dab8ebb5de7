-- One JSON object per drop, one per line: every field, the same keys in the same order.
--
-- {"time":1700000000.000000,"timestr":"22:13:20","isotime":"2023-11-14T22:13:20.000000Z",
--  "pid":0,"tid":0,"comm":"swapper/0","cpu":0,"family":4,"saddr":"10.0.0.2","sport":40000,
--  "daddr":"10.0.0.1","dport":80,"state":"-","state_code":0,"flags":"SYN","tcp_flags":2,
--  "reason":"NO_SOCKET","reason_code":3,"seq":1000,"ack":0,"win":64240,"len":60,
--  "netns":4026531840,"ifindex":1,"location":"tcp_v4_rcv+0x99","stack":["tcp_v4_rcv+0x99"],
--  "stack_status":"ok","has_socket":false,"from_packet":true}   (on one line)
--
-- The keys are the event's field names (tcpdrop.fields), in that order: the writer below is
-- generated from that list once, at load. Strings are valid JSON whatever the bytes: control
-- characters are escaped and bytes that are not UTF-8 become U+FFFD. "stack" is null when no
-- stack was captured (see stack_status). Lines are built in a buffer, as in the default printer.

local out = require("tcpdrop.out")
local event = require("tcpdrop.event")

-- One string.buffer putf per run of plain fields: %d prints a 32-bit field by the integer path,
-- where b:put() of the same number (a double to LuaJIT) takes the general float formatting.
local function writer_source()
	local code, fmt, args = {}, {}, {}
	local function flush()
		if #fmt > 0 then
			local a = #args > 0 and ", " .. table.concat(args, ", ") or ""
			code[#code + 1] = string.format("\tb:putf(%q%s)", table.concat(fmt), a)
			fmt, args = {}, {}
		end
	end
	for i, name in ipairs(event.fields) do
		local kind, key = event.json_kinds[name], (i > 1 and ',"' or '{"') .. name .. '":'
		local v = "e." .. name
		if kind == "int" then
			fmt[#fmt + 1] = key .. "%d"
			args[#args + 1] = v
		elseif kind == "num" then -- a time: seconds, then microseconds, from the raw ns
			fmt[#fmt + 1] = key .. "%d.%06d"
			args[#args + 1] = "tonumber(e.ts_ns / 1000000000ULL)"
			args[#args + 1] = "tonumber(e.ts_ns % 1000000000ULL / 1000ULL)"
		elseif kind == "str" then
			fmt[#fmt + 1] = key .. "%s"
			args[#args + 1] = "q(" .. v .. ")"
		elseif kind == "bool" then
			fmt[#fmt + 1] = key .. "%s"
			args[#args + 1] = "tostring(" .. v .. ")"
		elseif kind == "iso" then
			fmt[#fmt + 1] = key .. '"'
			flush()
			code[#code + 1] = "\tput_isotime(b, e)"
			fmt[#fmt + 1] = '"'
		elseif kind == "strs" then
			fmt[#fmt + 1] = key
			flush()
			code[#code + 1] = string.format([[
	local t = %s
	if t then
		b:put("[")
		for i = 1, #t do
			b:put(i > 1 and "," or "", q(t[i]))
		end
		b:put("]")
	else
		b:put("null")
	end]], v)
		else
			error("json: field " .. name .. " has no json kind " .. tostring(kind))
		end
	end
	fmt[#fmt + 1] = "}\n"
	flush()
	return "local b, q, put_isotime, write = ...\nreturn function(e)\n"
		.. table.concat(code, "\n") .. "\n\twrite(b)\nend\n"
end

local source = writer_source()
drop = assert(loadstring(source, "=json writer"))(out.new(), tcpdrop.json, out.put_isotime,
	out.write)
