-- Aggregations that print themselves (count, sum, min, max, avg, hist, top), and printf.
--
-- A map keeps one value per key tuple in nested tables (one level per key), so that updating a
-- key that exists allocates nothing. Maps print as aligned tables, largest value first, at each
-- tick (then reset, unless kept) and at exit.
--
-- Each map keeps at most max_keys key tuples (--max-keys, tcpdrop.max_keys(), the map's own
-- max_keys): whoever can send packets chooses the keys. Updates of new keys that do not fit are
-- counted, and the count is printed with the table and at exit, never dropped silently.
local M = {}

local ffi = require("ffi")
local core = require("tcpdrop.core")
local vis = core.vis
local max_keys = core.max_keys

local fmt, rep, upper = string.format, string.rep, string.upper
local concat, sort = table.concat, table.sort
local floor, log = math.floor, math.log
local LOG2 = log(2)
local select, type, tostring, tonumber = select, type, tostring, tonumber

function M.printf(f, ...)
	io.write(fmt(f, ...))
end

---------------------------------------------------------------------------------------------------
-- Column labels for the default maps, read from the call in the source: count(e.reason, e.dport)
-- prints under REASON and DPORT. Only a header: when the call cannot be read, KEY1, KEY2, ...

local sources = {} -- chunk name -> source text (the script, -e, -f)

function M.register_source(chunk, text)
	sources[chunk] = text
end

local function source_line(chunk, n)
	local text = sources[chunk]
	if not text or not n or n < 1 then
		return nil
	end
	local i = 1
	for line in (text .. "\n"):gmatch("([^\n]*)\n") do
		if i == n then
			return line
		end
		i = i + 1
	end
	return nil
end

-- The top-level, comma-separated arguments of the call whose "(" is just before position i.
local function split_args(line, i)
	local args, depth, start, quote = {}, 0, i, nil
	while i <= #line do
		local c = line:sub(i, i)
		if quote then
			if c == "\\" then
				i = i + 1
			elseif c == quote then
				quote = nil
			end
		elseif c == '"' or c == "'" then
			quote = c
		elseif c == "(" or c == "{" or c == "[" then
			depth = depth + 1
		elseif c == ")" or c == "}" or c == "]" then
			if depth == 0 then
				args[#args + 1] = line:sub(start, i - 1):match("^%s*(.-)%s*$")
				if #args == 1 and args[1] == "" then
					args[1] = nil
				end
				return args
			end
			depth = depth - 1
		elseif c == "," and depth == 0 then
			args[#args + 1] = line:sub(start, i - 1):match("^%s*(.-)%s*$")
			start = i + 1
		end
		i = i + 1
	end
	return nil -- the call goes on past this line
end

local function label_of(arg)
	local field = arg:match("^[%a_][%w_]*%.([%a_][%w_]*)$") or arg:match("^([%a_][%w_]*)$")
	return field and upper(field) or arg
end

-- Labels of the call to `name` on the caller's line that has nargs arguments, or nil.
local function infer(level, name, nargs)
	local info = debug.getinfo(level + 1, "Sl")
	local line = info and source_line(info.source, info.currentline)
	local pos = 1
	while line do
		local s, e = line:find(name .. "%s*%(", pos)
		if not s then
			return nil
		end
		if s == 1 or not line:sub(s - 1, s - 1):match("[%w_:]") then
			local args = split_args(line, e + 1)
			if args and #args == nargs then
				for i, a in ipairs(args) do
					args[i] = label_of(a)
				end
				return args
			end
		end
		pos = e + 1
	end
	return nil
end

---------------------------------------------------------------------------------------------------
-- Keys

-- A name made safe for a terminal (core/lua/vis.c): control bytes, C1, bytes that are not UTF-8.
function M.printable(s)
	return vis(tostring(s))
end

function M.max_keys()
	return max_keys
end

function M.set_max_keys(n)
	max_keys = n
end

local function cdata_key(k)
	local n = tonumber(k)
	if n and n < 2 ^ 53 and n > -2 ^ 53 then
		return n
	end
	if n then
		return (tostring(k):gsub("U?LL$", ""))
	end
	error("a key must be a string, a number or a boolean, not " .. tostring(ffi.typeof(k)), 6)
end

local function norm(k)
	if k == nil then
		return "nil"
	end
	if type(k) == "cdata" then
		return cdata_key(k)
	end
	if k ~= k then
		return "nan"
	end
	return k
end

local Map = {}
Map.__index = Map

local maps = {} -- every map, in creation order: the order they print in
local keep_all = false

local VALUE_LABEL = { count = "COUNT", top = "COUNT", sum = "SUM", min = "MIN", max = "MAX",
	avg = "AVG", hist = "VALUE" }

local function arity_error(m, n)
	error(fmt("%s takes %d key%s, not %d (one map per key count; name another with tcpdrop.map)",
		m.title or m.kind, m.arity, m.arity == 1 and "" or "s", n), 5)
end

-- The table and key that hold the value of a key tuple: t[k].
local function slot(m, n, a, b, c, ...)
	if n ~= m.arity then
		if m.arity ~= nil then
			arity_error(m, n)
		end
		m.arity = n
	end
	local t = m.root
	if n <= 1 then
		return t, n == 0 and "" or norm(a)
	end
	a = norm(a)
	local t1 = t[a]
	if t1 == nil then
		if m.n >= (m.max or max_keys) then
			return nil -- a new tuple, and no room: not even an empty table for it
		end
		t1 = {}
		t[a] = t1
	end
	if n == 2 then
		return t1, norm(b)
	end
	b = norm(b)
	local t2 = t1[b]
	if t2 == nil then
		if m.n >= (m.max or max_keys) then
			return nil
		end
		t2 = {}
		t1[b] = t2
	end
	if n == 3 then
		return t2, norm(c)
	end
	-- Four keys or more: rare enough to walk generically.
	local rest = { c, ... }
	t = t2
	for i = 1, n - 3 do
		local k = norm(rest[i])
		local nt = t[k]
		if nt == nil then
			if m.n >= (m.max or max_keys) then
				return nil
			end
			nt = {}
			t[k] = nt
		end
		t = nt
	end
	return t, norm(rest[n - 2])
end

local function value_of(v, kind)
	if type(v) == "cdata" then
		v = tonumber(v)
	end
	if type(v) ~= "number" then
		error(fmt("%s: the value must be a number, not %s", kind, type(v)), 4)
	end
	return v
end

-- Power-of-two bucket: -1 below zero, 0 for [0, 1), 1 for [1, 2), i for [2^(i-1), 2^i).
-- (math.frexp would be exact, but LuaJIT does not compile it; log2 is corrected at the edges.)
local function bucket(v)
	if v < 1 then
		return v < 0 and -1 or 0
	end
	local e = floor(log(v) / LOG2) + 1
	if 2 ^ (e - 1) > v then
		e = e - 1
	elseif 2 ^ e <= v then
		e = e + 1
	end
	return e
end

-- An update of a new key tuple that did not fit: counted, shown with the table and at exit.
local function full(m)
	m.over = m.over + 1
	m.over_total = m.over_total + 1
end

-- Room for one more key tuple?
local function room(m)
	if m.n < (m.max or max_keys) then
		m.n = m.n + 1
		return true
	end
	full(m)
	return false
end

local update = {}

function update.count(m, n, ...)
	local t, k = slot(m, n, ...)
	if t == nil then
		return full(m)
	end
	local v = t[k]
	if v == nil then
		if not room(m) then
			return
		end
		v = 0
	end
	t[k] = v + 1
	m.dirty = true
end
update.top = update.count

function update.sum(m, v, n, ...)
	v = value_of(v, "sum")
	local t, k = slot(m, n, ...)
	if t == nil then
		return full(m)
	end
	local old = t[k]
	if old == nil then
		if not room(m) then
			return
		end
		old = 0
	end
	t[k] = old + v
	m.dirty = true
end

function update.min(m, v, n, ...)
	v = value_of(v, "min")
	local t, k = slot(m, n, ...)
	if t == nil then
		return full(m)
	end
	local old = t[k]
	if old == nil then
		if not room(m) then
			return
		end
		t[k] = v
	elseif v < old then
		t[k] = v
	end
	m.dirty = true
end

function update.max(m, v, n, ...)
	v = value_of(v, "max")
	local t, k = slot(m, n, ...)
	if t == nil then
		return full(m)
	end
	local old = t[k]
	if old == nil then
		if not room(m) then
			return
		end
		t[k] = v
	elseif v > old then
		t[k] = v
	end
	m.dirty = true
end

function update.avg(m, v, n, ...)
	v = value_of(v, "avg")
	local t, k = slot(m, n, ...)
	if t == nil then
		return full(m)
	end
	local cell = t[k]
	if cell == nil then
		if not room(m) then
			return
		end
		t[k] = { v, 1 }
	else
		cell[1], cell[2] = cell[1] + v, cell[2] + 1
	end
	m.dirty = true
end

function update.hist(m, v, n, ...)
	v = value_of(v, "hist")
	local t, k = slot(m, n, ...)
	if t == nil then
		return full(m)
	end
	local cell = t[k]
	if cell == nil then
		if not room(m) then
			return
		end
		cell = { total = 0 }
		t[k] = cell
	end
	local b = bucket(v)
	cell[b] = (cell[b] or 0) + 1
	cell.total = cell.total + 1
	m.dirty = true
end

local function new_map(kind, o)
	local m = setmetatable({
		kind = kind,
		title = o.title,
		labels = o.keys,
		arity = o.keys and #o.keys or nil,
		vlabel = o.value or VALUE_LABEL[kind],
		limit = o.limit,
		max = o.max_keys,
		over = 0, -- updates that did not fit since the table last printed
		over_total = 0,
		percent = o.percent,
		keep = o.keep,
		auto = o.print ~= false,
		root = {},
		n = 0,
		dirty = false,
		update = update[kind],
	}, Map)
	maps[#maps + 1] = m
	return m
end

---------------------------------------------------------------------------------------------------
-- Named maps: tcpdrop.map{kind = "count", keys = {"REASON"}, title = ..., limit = N, keep = bool,
-- print = bool, value = "LABEL", percent = bool}

local kinds = { count = true, sum = true, min = true, max = true, avg = true, hist = true }

function M.map(o)
	if type(o) == "string" then
		o = { kind = o }
	end
	o = o or {}
	local kind = o.kind or "count"
	if not kinds[kind] then
		error(fmt("tcpdrop.map: unknown kind '%s' (count, sum, min, max, avg, hist)",
			tostring(kind)), 2)
	end
	if o.keys ~= nil and type(o.keys) ~= "table" then
		error("tcpdrop.map: keys must be a list of column names", 2)
	end
	if o.max_keys ~= nil and (type(o.max_keys) ~= "number" or o.max_keys < 1
		or o.max_keys % 1 ~= 0) then
		error("tcpdrop.map: max_keys must be an integer > 0", 2)
	end
	return new_map(kind, o)
end

-- m:add(k1, ...) for count, m:add(value, k1, ...) for the others.
function Map:add(...)
	if self.kind == "count" then
		self.update(self, select("#", ...), ...)
	else
		local v = ...
		self.update(self, v, select("#", ...) - 1, select(2, ...))
	end
end

function Map:clear()
	self.root, self.n = {}, 0
end

local function value_for(kind, cell)
	if kind == "avg" then
		return cell[1] / cell[2]
	elseif kind == "hist" then
		return cell.total
	end
	return cell
end

-- Text with numbers in it in the order of the numbers: 10.0.0.1:9 before 10.0.0.1:22.
local function natural_less(a, b)
	local i, j, la, lb = 1, 1, #a, #b
	while i <= la and j <= lb do
		local da, db = a:match("^%d+", i), b:match("^%d+", j)
		if da and db then
			if da ~= db then
				local na, nb = tonumber(da), tonumber(db)
				if na ~= nb then
					return na < nb
				end
				return #da < #db
			end
			i, j = i + #da, j + #db
		else
			local ca, cb = a:byte(i), b:byte(j)
			if ca ~= cb then
				return ca < cb
			end
			i, j = i + 1, j + 1
		end
	end
	return la - i < lb - j
end

local function key_less(x, y)
	local tx, ty = type(x), type(y)
	if tx ~= ty then
		return tx < ty -- numbers before strings
	end
	if tx == "boolean" then
		return (not x) and y
	elseif tx == "string" then
		return natural_less(x, y)
	end
	return x < y
end
M.key_less = key_less

-- Rows sorted by value (largest first), then by key: { keys = {...}, value = v, cell = raw }.
function Map:rows()
	local rows, arity = {}, self.arity or 0
	local depth = arity < 1 and 1 or arity
	local keys = {}
	local function walk(t, d)
		for k, v in pairs(t) do
			keys[d] = k
			if d == depth then
				local r = { keys = {}, value = value_for(self.kind, v), cell = v }
				for i = 1, arity do
					r.keys[i] = keys[i]
				end
				rows[#rows + 1] = r
			else
				walk(v, d + 1)
			end
		end
	end
	walk(self.root, 1)
	sort(rows, function(x, y)
		if x.value ~= y.value then
			return x.value > y.value
		end
		for i = 1, arity do
			local a, b = x.keys[i], y.keys[i]
			if a ~= b then
				return key_less(a, b)
			end
		end
		return false
	end)
	return rows
end

function Map:get(...)
	local n = select("#", ...)
	if self.arity == nil or n ~= self.arity then
		return nil
	end
	local t = self.root
	if n == 0 then
		local v = t[""]
		return v and value_for(self.kind, v)
	end
	for i = 1, n - 1 do
		t = t[norm((select(i, ...)))]
		if t == nil then
			return nil
		end
	end
	local v = t[norm((select(n, ...)))]
	return v and value_for(self.kind, v)
end

function Map:size()
	return self.n
end

-- The sum of every value (for count: the number of updates).
function Map:total()
	local s = 0
	for _, r in ipairs(self:rows()) do
		s = s + r.value
	end
	return s
end

-- Keys print as text: control bytes (a process can put escape sequences in its name) are
-- escaped, never sent to the terminal.
local function keystr(k)
	if type(k) == "string" then
		return vis(k)
	end
	return tostring(k)
end

local function integral(v)
	return type(v) ~= "number" or (floor(v) == v and v > -2 ^ 53 and v < 2 ^ 53)
end

-- One format for a column: integers, or every value with two decimals.
local function numstr(v, decimals)
	if type(v) ~= "number" then
		return tostring(v)
	end
	if not decimals then
		return fmt("%d", v)
	end
	return fmt("%.2f", v)
end

local function labels_for(m)
	local arity = m.arity or 0
	local labels = m.labels
	if labels == nil or #labels ~= arity then
		labels = {}
		for i = 1, arity do
			labels[i] = arity == 1 and "KEY" or "KEY" .. i
		end
	end
	return labels
end

-- Align columns: numbers right, strings left; two spaces between; no trailing blanks.
-- Columns a cell takes: a UTF-8 character is one, however many bytes (escapes are ASCII).
local function width(s)
	local _, continuation = s:gsub("[\128-\191]", "")
	return #s - continuation
end

local function print_table(out, header, rows, numeric)
	local widths = {}
	for i, h in ipairs(header) do
		widths[i] = #h
	end
	for _, r in ipairs(rows) do
		for i, s in ipairs(r) do
			if width(s) > widths[i] then
				widths[i] = width(s)
			end
		end
	end
	local function line(cells)
		local parts = {}
		for i, s in ipairs(cells) do
			if numeric[i] then
				parts[i] = rep(" ", widths[i] - width(s)) .. s
			elseif i == #cells then
				parts[i] = s
			else
				parts[i] = s .. rep(" ", widths[i] - width(s))
			end
		end
		out:write(concat(parts, "  "), "\n")
	end
	line(header)
	for _, r in ipairs(rows) do
		line(r)
	end
end

local SUFFIXES = { { "P", 2 ^ 50 }, { "T", 2 ^ 40 }, { "G", 2 ^ 30 }, { "M", 2 ^ 20 }, { "K", 2 ^ 10 } }

local function size_str(x)
	for _, s in ipairs(SUFFIXES) do
		if x >= s[2] and x % s[2] == 0 then
			return fmt("%d%s", x / s[2], s[1])
		end
	end
	return fmt("%d", x)
end

local function bucket_label(i)
	if i == -1 then
		return "(..., 0)"
	elseif i == 0 then
		return "[0]"
	elseif i == 1 then
		return "[1]"
	end
	return fmt("[%s, %s)", size_str(2 ^ (i - 1)), size_str(2 ^ i))
end

local BAR = 52

local function print_hist(out, cell)
	local lo, hi, most = nil, nil, 0
	for b, c in pairs(cell) do
		if b ~= "total" then
			lo = (lo == nil or b < lo) and b or lo
			hi = (hi == nil or b > hi) and b or hi
			most = c > most and c or most
		end
	end
	local lw, cw = 0, 1
	for b = lo, hi do
		lw = math.max(lw, #bucket_label(b))
		cw = math.max(cw, #tostring(cell[b] or 0))
	end
	for b = lo, hi do
		local c = cell[b] or 0
		local bar = floor(c * BAR / most)
		out:write(fmt("%-" .. lw .. "s %" .. cw .. "d |%s%s|\n", bucket_label(b), c, rep("@", bar),
			rep(" ", BAR - bar)))
	end
end

function Map:print(out)
	out = out or io.stdout
	local all = self:rows()
	if #all == 0 then
		return false
	end
	local rows = all
	if self.limit and #all > self.limit then
		rows = {}
		for i = 1, self.limit do
			rows[i] = all[i]
		end
	end
	local labels = labels_for(self)
	if self.title then
		out:write(self.title, "\n")
	end
	if self.kind == "hist" then
		if #labels > 0 then
			out:write(self.vlabel, " by ", concat(labels, ", "), "\n")
		elseif not self.title then
			out:write(self.vlabel, "\n")
		end
		for i, r in ipairs(rows) do
			if #labels > 0 then
				local ks = {}
				for j, k in ipairs(r.keys) do
					ks[j] = keystr(k)
				end
				out:write(i > 1 and "\n" or "", concat(ks, ", "), ":\n")
			end
			print_hist(out, r.cell)
		end
		self:print_over(out)
		return true
	end
	local header, numeric, cells = {}, {}, {}
	for i, l in ipairs(labels) do
		header[i] = l
		numeric[i] = true
	end
	header[#header + 1] = self.vlabel
	numeric[#header] = true
	local total = 0
	if self.percent then
		for _, r in ipairs(all) do
			total = total + r.value
		end
		header[#header + 1] = "%"
		numeric[#header] = true
	end
	local decimals = false
	for _, r in ipairs(rows) do
		decimals = decimals or not integral(r.value)
	end
	for i, r in ipairs(rows) do
		local c = {}
		for j, k in ipairs(r.keys) do
			c[j] = keystr(k)
			if type(k) ~= "number" then
				numeric[j] = false
			end
		end
		c[#c + 1] = numstr(r.value, decimals)
		if self.percent then
			c[#c + 1] = fmt("%.1f", total ~= 0 and 100 * r.value / total or 0)
		end
		cells[i] = c
	end
	print_table(out, header, cells, numeric)
	self:print_over(out)
	return true
end

-- What did not fit since the table last printed, under it.
function Map:print_over(out)
	if self.over > 0 then
		out:write(fmt("[%d updates of new keys not counted: the table is full (%d keys; "
			.. "--max-keys, tcpdrop.max_keys)]\n", self.over, self.max or max_keys))
		self.over = 0
	end
end

local function map_name(m)
	if m.title then
		return m.title
	end
	local labels = labels_for(m)
	return fmt("%s(%s)", m.kind, concat(labels, ", "))
end

-- At exit, on stderr: each map that refused keys during the run.
function M.report_dropped(out)
	for _, m in ipairs(maps) do
		if m.over_total > 0 then
			out:write(fmt("tcpdrop: %s: %d updates of new keys not counted, the table was "
				.. "full (%d keys; --max-keys, tcpdrop.max_keys)\n", map_name(m), m.over_total,
				m.max or max_keys))
		end
	end
end

function M.dropped_total()
	local n = 0
	for _, m in ipairs(maps) do
		n = n + m.over_total
	end
	return n
end

---------------------------------------------------------------------------------------------------
-- The default maps behind the global helpers: one per kind and key count.

local defaults = { count = {}, top = {}, sum = {}, min = {}, max = {}, avg = {}, hist = {} }

-- level: the caller of the helper, for its source line.
local function default_map(kind, n, nvalue, level)
	local name = kind == "top" and "top" or kind
	local labels = infer(level + 1, name, n + nvalue)
	local vlabel
	if labels then
		vlabel = nvalue == 1 and kind ~= "top" and labels[1] or nil
		if nvalue == 1 then
			table.remove(labels, 1)
		end
	end
	local m = new_map(kind == "top" and "count" or kind, {
		keys = labels,
		value = kind == "hist" and (vlabel or "VALUE") or nil,
	})
	m.arity = n
	defaults[kind][n] = m
	return m
end

local d_count, d_top = defaults.count, defaults.top
local u_count = update.count

function M.count(...)
	local n = select("#", ...)
	u_count(d_count[n] or default_map("count", n, 0, 2), n, ...)
end

function M.top(limit, ...)
	if type(limit) ~= "number" then
		error("top(n, key...): n must be a number", 2)
	end
	local n = select("#", ...)
	local m = d_top[n] or default_map("top", n, 1, 2)
	m.limit = limit
	u_count(m, n, ...)
end

for _, kind in ipairs({ "sum", "min", "max", "avg", "hist" }) do
	local d, u = defaults[kind], update[kind]
	M[kind] = function(v, ...)
		local n = select("#", ...)
		u(d[n] or default_map(kind, n, 1, 2), v, n, ...)
	end
end

---------------------------------------------------------------------------------------------------
-- Counts read from the kernel's tables (lua/kcount.lua), through the same maps as the events'.
-- While kcount feeds a row, these stand in for count and sum and it calls the -e code again, on
-- an event made of the row's key: the map, its labels and its keys are those the events make.
-- Only the call of the row's table (the target-th aggregation call) adds: the row's drops for
-- count, its bytes for sum (fed.w). A row that does not fit counts each of its drops as an
-- update that did not fit; fed.over: the row is the table's overflow, every drop of it counted so.

local fed = { target = 0, calls = 0, w = 0, n = 0, over = false }
M.fed = fed

local function full_n(m, w)
	m.over = m.over + w
	m.over_total = m.over_total + w
end

-- Add w to the value of a key tuple (for count: w updates at once).
local function add_n(m, w, nover, n, ...)
	local t, k = slot(m, n, ...)
	if t == nil then
		return full_n(m, nover)
	end
	local old = t[k]
	if old == nil then
		if m.n >= (m.max or max_keys) then
			return full_n(m, nover)
		end
		m.n = m.n + 1
		old = 0
	end
	t[k] = old + w
	m.dirty = true
end

-- The -e's own count/top/sum while a kernel row is fed through it: only the call at the row's
-- place (fed.target) adds the row's weight, to the map that call would update.
local function fed_turn()
	local c = fed.calls + 1
	fed.calls = c
	return c == fed.target
end

local function fed_add(m, n, ...)
	if fed.over then
		return full_n(m, fed.n)
	end
	add_n(m, fed.w, fed.n, n, ...)
end

function M.fed_count(...)
	if not fed_turn() then
		return
	end
	local n = select("#", ...)
	fed_add(d_count[n] or default_map("count", n, 0, 2), n, ...)
end

function M.fed_top(limit, ...)
	if not fed_turn() then
		return
	end
	local n = select("#", ...)
	local m = d_top[n] or default_map("top", n, 1, 2)
	m.limit = limit
	fed_add(m, n, ...)
end

function M.fed_sum(_, ...)
	if not fed_turn() then
		return
	end
	local n = select("#", ...)
	fed_add(defaults.sum[n] or default_map("sum", n, 1, 2), n, ...)
end

-- m:addn(w, k1, ...): for a count map, w updates of the key tuple at once (counts read from a
-- kernel table); a new tuple that does not fit counts w updates not counted.
function Map:addn(w, ...)
	if type(w) == "cdata" then
		w = tonumber(w)
	end
	if type(w) ~= "number" or w < 0 then
		error("addn: the count must be a number >= 0", 2)
	end
	add_n(self, w, w, select("#", ...), ...)
end

---------------------------------------------------------------------------------------------------
-- Printing everything

-- keep(): maps are not reset after each tick (totals since the start); keep(false) undoes it.
function M.keep(flag)
	keep_all = flag == nil or flag and true or false
end

-- Print the maps that have data (at a tick, or tcpdrop.print()), then reset those not kept.
-- At exit, only the maps that changed since they last printed. Returns whether anything printed.
function M.print_all(at_exit)
	local printed = false
	for _, m in ipairs(maps) do
		if m.auto and m.n > 0 and (m.dirty or not at_exit) then
			if printed then
				io.write("\n")
			end
			m:print()
			printed = true
			m.dirty = false
			local keep = m.keep
			if keep == nil then
				keep = keep_all
			end
			if not at_exit and not keep then
				m:clear()
			end
		end
	end
	return printed
end

function M.clear_all()
	for _, m in ipairs(maps) do
		m:clear()
		m.dirty = false
	end
end

function M.any()
	for _, m in ipairs(maps) do
		if m.auto and m.n > 0 then
			return true
		end
	end
	return false
end

-- Whether any aggregation prints itself at ticks (count, sum, ... were called), data or not.
function M.has_auto()
	for _, m in ipairs(maps) do
		if m.auto then
			return true
		end
	end
	return false
end

return M
