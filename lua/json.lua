-- JSON text for log pipelines: valid for any byte string (control bytes escaped, bad UTF-8 replaced).
local ffi = require("ffi")

local M = {}

local byte, char, fmt, find, gsub, sub = string.byte, string.char, string.format, string.find,
	string.gsub, string.sub
local concat, sort = table.concat, table.sort
local floor, huge = math.floor, math.huge
local type, tostring, pairs = type, tostring, pairs

local escapes = {
	['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
	["\r"] = "\\r", ["\t"] = "\\t", ["\127"] = "\\u007f",
}
for c = 0, 31 do
	escapes[char(c)] = escapes[char(c)] or fmt("\\u%04x", c)
end

local REPLACEMENT = "\\ufffd" -- U+FFFD for each byte that is not part of valid UTF-8

-- Length of the valid UTF-8 sequence at i (RFC 3629: no overlong forms, no surrogates), or nil.
local function utf8_len(s, i, c)
	local c2 = byte(s, i + 1)
	if c2 == nil then
		return nil
	end
	if c >= 0xC2 and c <= 0xDF then
		return (c2 >= 0x80 and c2 <= 0xBF) and 2 or nil
	end
	local lo, hi = 0x80, 0xBF
	if c == 0xE0 then
		lo = 0xA0
	elseif c == 0xED then
		hi = 0x9F
	elseif c == 0xF0 then
		lo = 0x90
	elseif c == 0xF4 then
		hi = 0x8F
	elseif c < 0xE0 or c > 0xF4 then
		return nil
	end
	if c2 < lo or c2 > hi then
		return nil
	end
	local c3 = byte(s, i + 2)
	if c3 == nil or c3 < 0x80 or c3 > 0xBF then
		return nil
	end
	if c <= 0xEF then
		return 3
	end
	local c4 = byte(s, i + 3)
	if c4 == nil or c4 < 0x80 or c4 > 0xBF then
		return nil
	end
	return 4
end

local function quote_slow(s)
	local out, n, i, len = {}, 0, 1, #s
	while i <= len do
		local c = byte(s, i)
		local step = 1
		local piece
		if c < 0x80 then
			piece = escapes[char(c)] or char(c)
		else
			local l = utf8_len(s, i, c)
			if l then
				piece, step = sub(s, i, i + l - 1), l
			else
				piece = REPLACEMENT
			end
		end
		n = n + 1
		out[n] = piece
		i = i + step
	end
	return '"' .. concat(out) .. '"'
end

local function quote_raw(s)
	if not find(s, '[%z\1-\31"\\\127-\255]') then
		return '"' .. s .. '"'
	end
	if not find(s, "[\128-\255]") then
		return '"' .. gsub(s, '[%z\1-\31"\\\127]', escapes) .. '"'
	end
	return quote_slow(s)
end

-- Drops repeat the same reasons, states, flags, names and frames: keep their literals.
local cache, ncache = {}, 0

-- A JSON string literal for any Lua string.
function M.quote(s)
	local q = cache[s]
	if q == nil then
		q = quote_raw(s)
		if ncache == 4096 then
			cache, ncache = {}, 0
		end
		cache[s], ncache = q, ncache + 1
	end
	return q
end

local quote = M.quote

local function number(v)
	if v ~= v or v == huge or v == -huge then
		return "null"
	end
	if floor(v) == v and v > -2 ^ 53 and v < 2 ^ 53 then
		return fmt("%d", v)
	end
	return fmt("%.17g", v)
end

local encode

local function is_array(t)
	local n = #t
	if n == 0 then
		return next(t) == nil
	end
	local count = 0
	for _ in pairs(t) do
		count = count + 1
	end
	return count == n
end

function encode(v, depth)
	local tv = type(v)
	if tv == "string" then
		return quote(v)
	elseif tv == "number" then
		return number(v)
	elseif tv == "boolean" then
		return v and "true" or "false"
	elseif v == nil then
		return "null"
	elseif tv == "cdata" then
		if ffi.istype("struct tcpdrop_event", v) then
			return encode(v:totable(), depth)
		end
		-- 64-bit integers print as "123ULL"; JSON wants the digits.
		local s = tostring(v)
		local digits = s:match("^(%-?%d+)U?LL$")
		return digits or quote(s)
	elseif tv == "table" then
		if depth > 64 then
			error("tcpdrop.json: nested too deep (a table that contains itself?)", 0)
		end
		local parts = {}
		if is_array(v) then
			for i = 1, #v do
				parts[i] = encode(v[i], depth + 1)
			end
			return "[" .. concat(parts, ",") .. "]"
		end
		local keys = {}
		for k in pairs(v) do
			keys[#keys + 1] = tostring(k)
		end
		sort(keys) -- stable output: the same table always gives the same text
		for i, k in ipairs(keys) do
			local val = v[k]
			if val == nil then
				val = v[tonumber(k)]
			end
			parts[i] = quote(k) .. ":" .. encode(val, depth + 1)
		end
		return "{" .. concat(parts, ",") .. "}"
	end
	return quote(tostring(v))
end

-- One JSON text for a Lua value: tables with 1..n keys become arrays, others objects with sorted
-- keys; an event becomes the object of its fields.
function M.encode(v)
	-- Strings first, outside the recursive encoder: the JIT stops recording at recursion, and
	-- scripts call this per field of every drop.
	if type(v) == "string" then
		return (quote(v)) -- no tail call: LuaJIT gives up on a trace after a dozen
	end
	return (encode(v, 0))
end

M.number = number

return M
