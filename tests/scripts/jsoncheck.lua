-- Strict JSON lines checker (RFC 8259, UTF-8): one line of keys per object read, or an error.
-- usage: luajit jsoncheck.lua < FILE   -> prints each line's top-level keys, comma-separated
local byte, sub, find = string.byte, string.sub, string.find

local function fail(n, i, why)
	io.stderr:write(string.format("line %d, byte %d: %s\n", n, i, why))
	os.exit(1)
end

local function check_utf8(s, i, n)
	local c = byte(s, i)
	local len, lo, hi = 0, 0x80, 0xBF
	if c >= 0xC2 and c <= 0xDF then
		len = 2
	elseif c >= 0xE0 and c <= 0xEF then
		len = 3
		if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
	elseif c >= 0xF0 and c <= 0xF4 then
		len = 4
		if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
	else
		fail(n, i, "byte that cannot start UTF-8")
	end
	for k = 1, len - 1 do
		local b = byte(s, i + k)
		local l, h = 0x80, 0xBF
		if k == 1 then l, h = lo, hi end
		if not b or b < l or b > h then
			fail(n, i, "invalid UTF-8 sequence")
		end
	end
	return i + len
end

local value

local function ws(s, i)
	local _, e = find(s, "^[ \t\r\n]*", i)
	return e + 1
end

local function str(s, i, n)
	i = i + 1 -- past the quote
	local out = {}
	while true do
		local c = byte(s, i)
		if not c then
			fail(n, i, "unterminated string")
		elseif c == 34 then
			return i + 1, table.concat(out)
		elseif c < 0x20 then
			fail(n, i, "raw control byte in a string")
		elseif c == 92 then
			local e = sub(s, i + 1, i + 1)
			if find(e, '^["\\/bfnrt]') then
				i = i + 2
			elseif e == "u" then
				local hex = sub(s, i + 2, i + 5)
				if not find(hex, "^%x%x%x%x$") then
					fail(n, i, "bad \\u escape")
				end
				local cp = tonumber(hex, 16)
				i = i + 6
				if cp >= 0xD800 and cp <= 0xDBFF then
					local lo = sub(s, i, i + 5)
					local l = find(lo, "^\\u%x%x%x%x$") and tonumber(sub(lo, 3), 16)
					if not l or l < 0xDC00 or l > 0xDFFF then
						fail(n, i, "unpaired surrogate")
					end
					i = i + 6
				elseif cp >= 0xDC00 and cp <= 0xDFFF then
					fail(n, i, "unpaired surrogate")
				end
			else
				fail(n, i, "bad escape")
			end
		elseif c >= 0x80 then
			local j = check_utf8(s, i, n)
			out[#out + 1] = sub(s, i, j - 1)
			i = j
		else
			out[#out + 1] = string.char(c)
			i = i + 1
		end
	end
end

function value(s, i, n, keys)
	i = ws(s, i)
	local c = sub(s, i, i)
	if c == "{" then
		i = ws(s, i + 1)
		if sub(s, i, i) == "}" then
			return i + 1
		end
		while true do
			if sub(s, i, i) ~= '"' then
				fail(n, i, "object key expected")
			end
			local k
			i, k = str(s, i, n)
			if keys then
				keys[#keys + 1] = k
			end
			i = ws(s, i)
			if sub(s, i, i) ~= ":" then
				fail(n, i, "':' expected")
			end
			i = ws(s, value(s, i + 1, n))
			c = sub(s, i, i)
			if c == "}" then
				return i + 1
			elseif c ~= "," then
				fail(n, i, "',' or '}' expected")
			end
			i = ws(s, i + 1)
		end
	elseif c == "[" then
		i = ws(s, i + 1)
		if sub(s, i, i) == "]" then
			return i + 1
		end
		while true do
			i = ws(s, value(s, i, n))
			c = sub(s, i, i)
			if c == "]" then
				return i + 1
			elseif c ~= "," then
				fail(n, i, "',' or ']' expected")
			end
			i = i + 1
		end
	elseif c == '"' then
		return (str(s, i, n))
	end
	for _, lit in ipairs({ "true", "false", "null" }) do
		if sub(s, i, i + #lit - 1) == lit then
			return i + #lit
		end
	end
	local _, e = find(s, "^%-?%d+", i)
	if not e or find(s, "^%-?0%d", i) then
		fail(n, i, "value expected")
	end
	local _, f = find(s, "^%.%d+", e + 1)
	e = f or e
	_, f = find(s, "^[eE][%+%-]?%d+", e + 1)
	return (f or e) + 1
end

local n = 0
for line in io.lines() do
	n = n + 1
	local keys = {}
	if sub(line, 1, 1) ~= "{" then
		fail(n, 1, "an object expected")
	end
	local i = ws(line, value(line, 1, n, keys))
	if i <= #line then
		fail(n, i, "text after the value")
	end
	print(table.concat(keys, ","))
end
if n == 0 then
	fail(0, 0, "no input")
end
