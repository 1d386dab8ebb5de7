-- At exit, a table of the drops by reason and one by destination port, with totals.
--
-- tcpdrop -s summary -d 60
-- tcpdrop -s summary -- 5        at most 5 rows per table (default 20)

local reasons = tcpdrop.map({ keys = { "REASON", "CODE" }, print = false, percent = true })
local ports = tcpdrop.map({ keys = { "DPORT" }, print = false, percent = true })
local states = tcpdrop.map({ keys = { "STATE", "FLAGS" }, print = false, percent = true })

function init(args)
	local n = tcpdrop.integer(args[1] or "20", 1, 1000000)
	if not n then
		io.stderr:write("tcpdrop: summary: the argument is a number of rows, not '",
			tostring(args[1]), "'\n")
		tcpdrop.exit(2)
		reasons = nil
		return
	end
	reasons.limit, ports.limit, states.limit = n, n, n
end

function drop(e)
	reasons:add(e.reason, e.reason_code)
	ports:add(e.dport)
	states:add(e.state, e.flags)
end

function done(stats)
	if not reasons then -- a bad argument
		return
	end
	printf("%d drops in %.1f s", stats.passed, stats.elapsed)
	if stats.lost > 0 then
		printf(", %d more lost (the ring buffer was full)", stats.lost)
	end
	io.write("\n")
	if stats.passed == 0 then
		return
	end
	for _, m in ipairs({ reasons, ports, states }) do
		io.write("\n")
		m:print()
		if m:size() > m.limit then
			printf("(%d more)\n", m:size() - m.limit)
		end
	end
end
