-- At exit, a table of the drops by reason and one by destination port, with totals.
--
-- tcpdrop -s summary -d 60
-- tcpdrop -s summary -- 5        at most 5 rows per table (default 20)
-- tcpdrop -s summary -- by=pod   and a table by pod (or by=container) and reason

local reasons = tcpdrop.map({ keys = { "REASON", "CODE" }, print = false, percent = true })
local ports = tcpdrop.map({ keys = { "DPORT" }, print = false, percent = true })
local states = tcpdrop.map({ keys = { "STATE", "FLAGS" }, print = false, percent = true })
local owners, owner_of = nil, nil -- by=container|pod
local group_by = require("tcpdrop.owner").group_by
local tables = { reasons, ports, states }

local function usage(what)
	io.stderr:write("tcpdrop: summary: ", what, " (arguments: [ROWS] [by=container|pod])\n")
	tcpdrop.exit(2)
	reasons = nil
end

function init(args)
	local n = 20
	for _, a in ipairs(args) do
		local by = a:match("^by=(.*)$")
		if by then
			local g = group_by[by]
			if not g then
				return usage("by= takes container or pod, not '" .. tcpdrop.printable(by) .. "'")
			end
			owners = tcpdrop.map({ keys = { g.title, "REASON" }, print = false, percent = true })
			owner_of = g.key
			tables[#tables + 1] = owners
		else
			n = tcpdrop.integer(a, 1, 1000000)
			if not n then
				return usage("the argument is a number of rows, not '" .. tcpdrop.printable(a)
					.. "'")
			end
		end
	end
	for _, m in ipairs(tables) do
		m.limit = n
	end
end

function drop(e)
	reasons:add(e.reason, e.reason_code)
	ports:add(e.dport)
	states:add(e.state, e.flags)
	if owners then
		owners:add(owner_of(e), e.reason)
	end
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
	for _, m in ipairs(tables) do
		io.write("\n")
		m:print()
		if m:size() > m.limit then
			printf("(%d more)\n", m:size() - m.limit)
		end
	end
end
