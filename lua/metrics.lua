-- tcpdrop.metrics: a script's own series, on the page --metrics serves after tcpdrop's own.
--
--   local m = require("tcpdrop.metrics")
--   local slow = m.counter("myapp_slow_drops_total", "Drops to the slow port.")
--   local last = m.gauge("myapp_last_port", "Port of the last drop.")
--   function drop(e) slow:inc({ reason = e.reason }, 1); last:set(nil, e.dport) end
--
-- Names and label names follow Prometheus' rules (a counter's name ends in _total); label
-- values are escaped. Each metric keeps at most 10000 label sets: what the others add is
-- counted in tcpdrop_script_series_overflow_total, never dropped silently.

local M = {}

local MAX_SERIES = 10000

-- tcpdrop's own names (core/metrics/series.c): a script's metric may not take one.
local reserved = {
	tcpdrop_drops_total = true, tcpdrop_map_overflow_total = true,
	tcpdrop_events_lost_total = true, tcpdrop_collect_errors_total = true,
	tcpdrop_build_info = true, tcpdrop_bpf_runs_total = true,
	tcpdrop_bpf_run_seconds_total = true, tcpdrop_script_series_overflow_total = true,
}

local families, order = {}, {}
local overflow = 0

local function escape_value(v)
	return (tostring(v):gsub('[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

local function escape_help(v)
	return (tostring(v):gsub("[\\\n]", { ["\\"] = "\\\\", ["\n"] = "\\n" }))
end

-- The label set as the page writes it, names sorted: also the series' key.
local function label_text(labels)
	if labels == nil then
		return ""
	end
	if type(labels) ~= "table" then
		error("metrics: labels are a table of name = value", 3)
	end
	local names = {}
	for k in pairs(labels) do
		if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") or k:sub(1, 2) == "__" then
			error(string.format("metrics: %q is not a label name", tostring(k)), 3)
		end
		names[#names + 1] = k
	end
	if #names == 0 then
		return ""
	end
	table.sort(names)
	for i, k in ipairs(names) do
		names[i] = k .. '="' .. escape_value(labels[k]) .. '"'
	end
	return "{" .. table.concat(names, ",") .. "}"
end

local Metric = {}
Metric.__index = Metric

local function series(self, labels)
	local key = label_text(labels)
	local v = self.values[key]
	if v == nil then
		if self.n >= MAX_SERIES then
			return nil
		end
		self.n = self.n + 1
		self.keys[self.n] = key
	end
	return key, v or 0
end

-- Add n (default 1) to the series of these labels (a table, or nil for none).
function Metric:inc(labels, n)
	n = n == nil and 1 or tonumber(n)
	if n == nil or (self.kind == "counter" and not (n >= 0)) then
		error("metrics: " .. self.name .. ":inc() takes a number" ..
			(self.kind == "counter" and " >= 0 (a counter never goes back)" or ""), 2)
	end
	local key, v = series(self, labels)
	if key == nil then
		overflow = overflow + 1
		return
	end
	self.values[key] = v + n
end

-- A gauge's value for these labels.
function Metric:set(labels, v)
	if self.kind ~= "gauge" then
		error("metrics: " .. self.name .. " is a counter: :inc() it", 2)
	end
	v = tonumber(v)
	if v == nil then
		error("metrics: " .. self.name .. ":set() takes a number", 2)
	end
	local key = series(self, labels)
	if key == nil then
		overflow = overflow + 1
		return
	end
	self.values[key] = v
end

local function define(kind, name, help)
	if type(name) ~= "string" or not name:match("^[%a_:][%w_:]*$") then
		error(string.format("metrics: %q is not a metric name", tostring(name)), 3)
	end
	if reserved[name] then
		error("metrics: " .. name .. " is tcpdrop's own", 3)
	end
	if kind == "counter" and not name:match("_total$") then
		error("metrics: a counter's name ends in _total (" .. name .. ")", 3)
	end
	local f = families[name]
	if f then
		if f.kind ~= kind then
			error("metrics: " .. name .. " is already a " .. f.kind, 3)
		end
		return f
	end
	f = setmetatable({ kind = kind, name = name, help = help and tostring(help) or name,
		values = {}, keys = {}, n = 0 }, Metric)
	families[name] = f
	order[#order + 1] = f
	return f
end

function M.counter(name, help)
	return define("counter", name, help)
end

function M.gauge(name, help)
	return define("gauge", name, help)
end

local function number(v)
	if v ~= v then
		return "NaN"
	elseif v == math.huge then
		return "+Inf"
	elseif v == -math.huge then
		return "-Inf"
	elseif v == math.floor(v) and math.abs(v) < 2 ^ 53 then
		return string.format("%d", v)
	end
	return string.format("%.17g", v)
end

-- The page's part that is the script's (core/lua calls it at each scrape).
function M.render()
	local out = {}
	for _, f in ipairs(order) do
		out[#out + 1] = "# HELP " .. f.name .. " " .. escape_help(f.help)
		out[#out + 1] = "# TYPE " .. f.name .. " " .. f.kind
		for i = 1, f.n do
			local key = f.keys[i]
			out[#out + 1] = f.name .. key .. " " .. number(f.values[key])
		end
	end
	if #order > 0 then
		out[#out + 1] = "# HELP tcpdrop_script_series_overflow_total Updates of a script's "
			.. "metric beyond its 10000 label sets."
		out[#out + 1] = "# TYPE tcpdrop_script_series_overflow_total counter"
		out[#out + 1] = "tcpdrop_script_series_overflow_total " .. overflow
		return table.concat(out, "\n") .. "\n"
	end
	return ""
end

return M
