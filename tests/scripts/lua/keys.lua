-- Aggregations past their key limit: tcpdrop.max_keys(3) from init, and a map with its own.
local every_refused = 0
local own = tcpdrop.map({ keys = { "SPORT" }, max_keys = 2, title = "own limit" })

function init(args)
	tcpdrop.max_keys(tonumber(args[1]) or 3)
	print("max_keys " .. tcpdrop.max_keys())
end

function drop(e)
	count(e.sport)
	count(e.saddr, e.sport)
	avg(e.win, e.sport)
	own:add(e.sport)
	if not tcpdrop.every(60, e.sport) then
		every_refused = every_refused + 1
	end
end

function done(s)
	print("keys_dropped " .. s.keys_dropped .. " every refused " .. tostring(every_refused))
end
