-- Helpers for scripts and one-liners: printf and aggregations that print themselves.
local M = {}

local fmt, concat, sort = string.format, table.concat, table.sort
local select, tostring = select, tostring

function M.printf(f, ...)
	io.write(fmt(f, ...))
end

-- An aggregation: values by key tuple, printed as an aligned table, largest first.
local Agg = {}
Agg.__index = Agg

local aggs = {} -- in creation order, for printing
local by_name = {}

local function new_agg(name, kind)
	local a = setmetatable({ name = name, kind = kind, vals = {}, keys = {}, n = 0 }, Agg)
	aggs[#aggs + 1] = a
	by_name[name] = a
	return a
end

function M.map(name, kind)
	return by_name[name] or new_agg(name, kind or "count")
end

-- One key stays itself (no allocation); several are joined into one table key.
local function key_of(a, ...)
	local n = select("#", ...)
	if n <= 1 then
		local k = ...
		if k == nil then
			k = n == 0 and "" or "nil"
		end
		if a.keys[k] == nil then
			a.keys[k] = { k }
			a.n = a.n + 1
		end
		return k
	end
	local parts = { ... }
	for i = 1, n do
		parts[i] = tostring(parts[i])
	end
	local k = concat(parts, "\0")
	if a.keys[k] == nil then
		a.keys[k] = parts
		a.n = a.n + 1
	end
	return k
end

function Agg:count(...)
	local k = key_of(self, ...)
	self.vals[k] = (self.vals[k] or 0) + 1
end

function Agg:clear()
	self.vals, self.keys, self.n = {}, {}, 0
end

function Agg:rows()
	local rows = {}
	for k, v in pairs(self.vals) do
		rows[#rows + 1] = { key = self.keys[k], value = v }
	end
	sort(rows, function(x, y)
		if x.value ~= y.value then
			return x.value > y.value
		end
		return concat(x.key, "\0") < concat(y.key, "\0")
	end)
	return rows
end

function Agg:print(out)
	out = out or io.stdout
	local rows = self:rows()
	if #rows == 0 then
		return
	end
	local widths = {}
	for _, r in ipairs(rows) do
		for i, k in ipairs(r.key) do
			local w = #tostring(k)
			if (widths[i] or 0) < w then
				widths[i] = w
			end
		end
	end
	if self.name ~= self.kind then
		out:write(self.name, ":\n")
	end
	for _, r in ipairs(rows) do
		local line = {}
		for i, k in ipairs(r.key) do
			line[i] = fmt("%-" .. widths[i] .. "s", tostring(k))
		end
		line[#line + 1] = fmt("%8s", tostring(r.value))
		out:write(concat(line, "  "), "\n")
	end
end

local default_count = nil

function M.count(...)
	local a = default_count
	if a == nil then
		a = M.map("count", "count")
		default_count = a
	end
	local k = key_of(a, ...)
	a.vals[k] = (a.vals[k] or 0) + 1
end

-- Print every aggregation that has data; clear them unless told to keep.
function M.print_all(keep)
	local printed = false
	for _, a in ipairs(aggs) do
		if a.n > 0 then
			if printed then
				io.write("\n")
			end
			a:print()
			printed = true
			if not keep then
				a:clear()
			end
		end
	end
	return printed
end

function M.any()
	for _, a in ipairs(aggs) do
		if a.n > 0 then
			return true
		end
	end
	return false
end

return M
