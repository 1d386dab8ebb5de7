-- Alert when the drops per second of one reason (or port) reach a threshold; rate-limited.
--
-- tcpdrop -s alert -- [rate=N] [by=reason|port] [every=SEC] [syslog=LEVEL] [exec=PROGRAM]
--
--   rate=N         drops per second that raise an alert (default 100)
--   by=reason      group by drop reason (default), or by=port: by destination port
--   every=SEC      at most one alert per reason (or port) every SEC seconds (default 60;
--                  0: every interval over the threshold)
--   syslog=LEVEL   also send each alert to syslog at LEVEL (warning, err, notice, ...)
--   exec=PROGRAM   also run PROGRAM with the arguments: reason|port KEY RATE THRESHOLD
--                  (no shell; it runs in the background, and tcpdrop does not wait for it)
--
-- Rates are measured over each interval (1 s unless -i says otherwise). Every alert prints:
--   22:13:21 ALERT reason NO_SOCKET: 150.0 drops/s (threshold 100)

local rate, by, every, level, program = 100, "reason", 60, nil, nil
local counts, nkeys, uncounted = {}, 0, 0 -- keys bounded as an aggregation's (tcpdrop.max_keys)

local function usage(msg)
	io.stderr:write("tcpdrop: alert: ", msg, "\n")
	tcpdrop.exit(2)
end

function init(args)
	for _, a in ipairs(args) do
		local k, v = a:match("^(%w+)=(.*)$")
		if k == "rate" or k == "every" then
			local n = tonumber(v)
			if not n or n < 0 or (k == "rate" and n == 0) then
				return usage(k .. " must be a number > 0, not '" .. v .. "'")
			end
			if k == "rate" then
				rate = n
			else
				every = n
			end
		elseif k == "by" and (v == "reason" or v == "port") then
			by = v
		elseif k == "syslog" then
			local ok, why = tcpdrop.syslog_level(v)
			if not ok then
				return usage(why)
			end
			level = v
		elseif k == "exec" and v ~= "" then
			local ok, why = tcpdrop.executable(v)
			if not ok then
				return usage("exec: cannot run '" .. v .. "': " .. why)
			end
			program = v
		else
			return usage("unknown argument '" .. a
				.. "' (rate=N by=reason|port every=SEC syslog=LEVEL exec=PROGRAM)")
		end
	end
	tcpdrop.interval(1)
end

function drop(e)
	local key = by == "port" and e.dport or e.reason
	local n = counts[key]
	if n == nil then
		if nkeys >= tcpdrop.max_keys() then
			uncounted = uncounted + 1
			return
		end
		nkeys, n = nkeys + 1, 0
	end
	counts[key] = n + 1
end

local function alert(key, r)
	local text = string.format("ALERT %s %s: %.1f drops/s (threshold %g)", by, tostring(key), r,
		rate)
	io.write(os.date("%H:%M:%S ", tcpdrop.time()), text, "\n")
	if level then
		tcpdrop.syslog(level, text)
	end
	if program then
		tcpdrop.spawn(program, by, key, string.format("%.1f", r), rate)
	end
end

function tick()
	local interval = tcpdrop.interval()
	local keys = {}
	for k in pairs(counts) do
		keys[#keys + 1] = k
	end
	table.sort(keys, function(a, b)
		if counts[a] ~= counts[b] then
			return counts[a] > counts[b]
		elseif type(a) == "number" and type(b) == "number" then
			return a < b -- ports as numbers: 9 before 22
		end
		return tostring(a) < tostring(b)
	end)
	for _, k in ipairs(keys) do
		local r = counts[k] / interval
		if r >= rate and tcpdrop.every(every, k) then
			alert(k, r)
		end
	end
	counts, nkeys = {}, 0
end

function done()
	if uncounted > 0 then
		io.stderr:write(string.format("tcpdrop: alert: %d drops not counted: more than %d %ss "
			.. "in an interval (tcpdrop.max_keys)\n", uncounted, tcpdrop.max_keys(), by))
	end
end
