-- Drop counters in Prometheus text format, for node_exporter's textfile collector.
--
-- The file is rewritten atomically (a temporary file, then rename), never seen half-written.
-- The drops are counted in the kernel (tcpdrop.kcount): no event per drop reaches Lua. With by=,
-- they are counted from the events: a pod's or container's name is user space's to know.
--
-- tcpdrop -s prom -- [file=PATH] [every=SEC] [ports=P,P,...] [by=pod|container]
--
--   file=PATH    where to write (default /var/lib/prometheus/node-exporter/tcpdrop.prom, the
--                directory Debian's prometheus-node-exporter reads); "-" writes to stdout
--   every=SEC    rewrite it every SEC seconds (default 15; -i also sets it) and at exit
--   ports=LIST   ports that get a label of their own; others count as port="other". Without
--                it, ports from 32768 up (Linux's ephemeral range) count as "ephemeral", so
--                that client ports do not make a new series each.
--   by=pod       a label more: pod="NAMESPACE/POD" (lua/owner.lua's group_by), "-" when the
--                drop is no pod's; by=container: container="NAME" (else RUNTIME:ID12, or "-")
--
-- tcpdrop_drops_total{reason="NO_SOCKET",port="80"} 3
-- tcpdrop_drops_total{reason="NO_SOCKET",port="80",pod="shop/web-0"} 3   (by=pod)
-- tcpdrop_events_lost_total 0

local path = "/var/lib/prometheus/node-exporter/tcpdrop.prom"
local every = 15
local ports = nil -- set of ports named in ports=

-- by= is read as the script loads (its arguments are the chunk's too): it decides whether the
-- kernel counts or the events come. Checked again, with the others, in init.
local group = nil -- lua/owner.lua's group_by entry, with by=
local group_name = nil
for _, a in ipairs({ ... }) do
	local by = a:match("^by=(.*)$")
	if by then
		group_name = by
		group = require("tcpdrop.owner").group_by[by]
	end
end

-- The kernel's table, read at each interval; a port per key there (ephemeral ones included),
-- so it has room for every port. None with by=: the events are counted instead (drop below).
local counts = nil
if not group_name then
	counts = tcpdrop.kcount({ "reason", "dport",
		max_keys = math.max(65536, tcpdrop.max_keys()) })
end
-- The totals since the start, by reason and port label (and the pod or container).
local drops = tcpdrop.map({ keys = group_name and { "reason", "port", "owner" }
	or { "reason", "port" }, print = false })
local uncounted = 0 -- drops of series beyond tcpdrop.max_keys(), reported when there are some

local refused = false -- a bad argument: no file is written

local function usage(msg)
	io.stderr:write("tcpdrop: prom: ", msg, "\n")
	refused = true
	tcpdrop.exit(2)
end

local function port_label(p)
	if ports then
		return ports[p] and p or "other"
	end
	return p < 32768 and p or "ephemeral"
end

-- What the kernel counted since the last read, into the totals.
local function take()
	if not counts then
		return
	end
	for key, n in counts:rows() do
		drops:addn(n, key.reason, port_label(key.dport))
	end
end

if group_name then
	local key = group and group.key
	function drop(e)
		if key then
			drops:add(e.reason, port_label(e.dport), key(e))
		end
	end
end

local function label(v)
	return (tostring(v):gsub('[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

local function render(lost)
	local out = {
		"# HELP tcpdrop_drops_total TCP packets the kernel dropped, by drop reason"
			.. (group_name and ", destination port and " .. group_name .. "." or " and "
			.. "destination port."),
		"# TYPE tcpdrop_drops_total counter",
	}
	local rows = drops:rows()
	-- Series in a fixed order, so that two files differ only where the counts do.
	table.sort(rows, function(a, b)
		if a.keys[1] ~= b.keys[1] then
			return a.keys[1] < b.keys[1]
		end
		if a.keys[2] ~= b.keys[2] then
			return tostring(a.keys[2]) < tostring(b.keys[2])
		end
		return tostring(a.keys[3]) < tostring(b.keys[3])
	end)
	for _, r in ipairs(rows) do
		if group_name then
			out[#out + 1] = string.format(
				'tcpdrop_drops_total{reason="%s",port="%s",%s="%s"} %d', label(r.keys[1]),
				label(r.keys[2]), group_name, label(r.keys[3]), r.value)
		else
			out[#out + 1] = string.format('tcpdrop_drops_total{reason="%s",port="%s"} %d',
				label(r.keys[1]), label(r.keys[2]), r.value)
		end
	end
	out[#out + 1] = "# HELP tcpdrop_events_lost_total Drop events the ring buffer had no room "
		.. "for (not in tcpdrop_drops_total)."
	out[#out + 1] = "# TYPE tcpdrop_events_lost_total counter"
	out[#out + 1] = string.format("tcpdrop_events_lost_total %d", lost or 0)
	uncounted = uncounted + drops.over
	drops.over = 0
	local not_counted = uncounted + (counts and counts:overflow() or 0)
	if not_counted > 0 then
		out[#out + 1] = "# HELP tcpdrop_drops_uncounted_total Drops of series beyond the "
			.. "series limit (tcpdrop.max_keys), in no other series."
		out[#out + 1] = "# TYPE tcpdrop_drops_uncounted_total counter"
		out[#out + 1] = string.format("tcpdrop_drops_uncounted_total %d", not_counted)
	end
	return table.concat(out, "\n") .. "\n"
end

local function write(lost)
	if refused then
		return
	end
	local text = render(lost)
	if path == "-" then
		io.write(text)
		return
	end
	local ok, err = tcpdrop.write_file(path, text)
	if not ok then
		io.stderr:write("tcpdrop: prom: cannot write ", path, ": ", tostring(err), "\n")
	end
end

function tick()
	take()
	write(tcpdrop.stats().lost)
end

function done(stats)
	take()
	write(stats.lost)
end

function init(args)
	for _, a in ipairs(args) do
		local k, v = a:match("^(%w+)=(.*)$")
		if k == "file" and v ~= "" then
			path = v
		elseif k == "every" then
			every = tonumber(v)
			if not every or every <= 0 then
				return usage("every must be a number of seconds > 0, not '" .. v .. "'")
			end
		elseif k == "by" then
			if not group then
				return usage("by= takes container or pod, not '" .. tcpdrop.printable(v)
					.. "'")
			end
		elseif k == "ports" then
			ports = {}
			for p in v:gmatch("[^,]+") do
				local n = tcpdrop.integer(p, 0, 65535)
				if not n then
					return usage("ports: '" .. p .. "' is not a port")
				end
				ports[n] = true
			end
		else
			return usage("unknown argument '" .. a
				.. "' (file=PATH every=SEC ports=LIST by=pod|container)")
		end
	end
	tcpdrop.interval(every)
	-- A path that cannot be written fails now, not silently at each interval.
	if path ~= "-" then
		local ok, err = tcpdrop.write_file(path, render(0))
		if not ok then
			return usage("cannot write " .. path .. ": " .. tostring(err))
		end
	end
end
