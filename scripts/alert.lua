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
local counts = {}

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
			level = v
		elseif k == "exec" and v ~= "" then
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
	counts[key] = (counts[key] or 0) + 1
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
	table.sort(keys, function(a, b) return counts[a] > counts[b] or (counts[a] == counts[b]
		and tostring(a) < tostring(b)) end)
	for _, k in ipairs(keys) do
		local r = counts[k] / interval
		if r >= rate and tcpdrop.every(every, k) then
			alert(k, r)
		end
	end
	counts = {}
end
