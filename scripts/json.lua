-- One JSON object per drop, one per line: every field, the same keys in the same order.
--
-- {"time":1700000000.000000,"timestr":"22:13:20","isotime":"2023-11-14T22:13:20.000000Z",
--  "pid":0,"tid":0,"comm":"swapper/0","cpu":0,"family":4,"saddr":"10.0.0.2","sport":40000,
--  "daddr":"10.0.0.1","dport":80,"state":"-","state_code":0,"flags":"SYN","tcp_flags":2,
--  "reason":"NO_SOCKET","reason_code":3,"seq":1000,"ack":0,"win":64240,"len":60,
--  "netns":4026531840,"ifindex":1,"location":"tcp_v4_rcv+0x99","stack":["tcp_v4_rcv+0x99"],
--  "stack_status":"ok","has_socket":false,"from_packet":true}   (on one line)
--
-- With `-s json -- reason_help`, a "reason_help" key follows "reason_code": the reason's meaning
-- in one line, as --list-reasons and --explain say it ("no description yet" for one tcpdrop does
-- not know).
--
-- The keys are the event's field names (tcpdrop.fields), in that order: the writer below is
-- generated from that list once, at load. Strings are valid JSON whatever the bytes: control
-- characters are escaped and bytes that are not UTF-8 become U+FFFD. "stack" is null when no
-- stack was captured (see stack_status). Lines are built in a buffer, as in the default printer.

local out = require("tcpdrop.out")
local event = require("tcpdrop.event")
local core = require("tcpdrop.core")

-- reason_help: the quoted text of each reason, looked up once (there are a few hundred at most).
local helps = {}
local function help(reason)
	local h = helps[reason]
	if h == nil then
		h = tcpdrop.json(core.reason_help(reason) or "no description yet")
		helps[reason] = h
	end
	return h
end

-- One string.buffer putf per run of plain fields: %d prints a 32-bit field by the integer path,
-- where b:put() of the same number (a double to LuaJIT) takes the general float formatting.
local function writer_source(with_help)
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
		if with_help and name == "reason_code" then
			fmt[#fmt + 1] = ',"reason_help":%s'
			args[#args + 1] = "help(e.reason)"
		end
	end
	fmt[#fmt + 1] = "}\n"
	flush()
	return "local b, q, put_isotime, write, help = ...\nreturn function(e)\n"
		.. table.concat(code, "\n") .. "\n\twrite(b)\nend\n"
end

local function writer(with_help)
	return assert(loadstring(writer_source(with_help), "=json writer"))(out.new(), tcpdrop.json,
		out.put_isotime, out.write, help)
end

local write = writer(false)

function init(args)
	for _, a in ipairs(args) do
		if a == "reason_help" then
			write = writer(true)
		else
			io.stderr:write("tcpdrop: json: unknown argument '", a, "' (reason_help)\n")
			tcpdrop.exit(2)
			return
		end
	end
end

function drop(e)
	write(e)
end
