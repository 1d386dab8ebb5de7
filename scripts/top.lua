-- Every interval, the drops of that interval: top reasons and top flows, like top(1).
--
-- tcpdrop -s top                 every second, 10 rows per table
-- tcpdrop -s top -i 5 -- 20      every 5 seconds, 20 rows
-- tcpdrop -s top -- by=pod       and a table of the top pods (or by=container) and reasons
--
-- A flow here is a source address and the destination address and port: drops of one service
-- from one client group together whatever the client's ephemeral port. On a terminal the
-- screen is cleared at each interval; through a pipe the intervals follow one another.

local rows = 10
local tty = false
local total = 0
local last -- when the interval being counted began

local reasons = tcpdrop.map({ keys = { "REASON", "CODE" }, print = false, percent = true })
local flows = tcpdrop.map({ keys = { "SADDR", "DADDR:DPORT", "REASON" }, print = false })
local owners, owner_of = nil, nil -- by=container|pod
local group_by = require("tcpdrop.owner").group_by

local function usage(what)
	io.stderr:write("tcpdrop: top: ", what, " (arguments: [ROWS] [by=container|pod])\n")
	tcpdrop.exit(2)
end

function init(args)
	for _, a in ipairs(args) do
		local by = a:match("^by=(.*)$")
		if by then
			local g = group_by[by]
			if not g then
				return usage("by= takes container or pod, not '" .. tcpdrop.printable(by) .. "'")
			end
			owners = tcpdrop.map({ keys = { g.title, "REASON" }, print = false, percent = true })
			owner_of = g.key
		else
			rows = tcpdrop.integer(a, 1, 1000000)
			if not rows then
				return usage("the argument is a number of rows, not '" .. tcpdrop.printable(a)
					.. "'")
			end
		end
	end
	reasons.limit, flows.limit = rows, rows
	if owners then
		owners.limit = rows
	end
	tcpdrop.interval(1)
	tty = tcpdrop.isatty(1)
	last = tcpdrop.now()
end

function drop(e)
	total = total + 1
	reasons:add(e.reason, e.reason_code)
	-- [ADDR]:PORT for IPv6, as the default output writes it: the port stays apart.
	local dst = e.family == 6 and "[" .. e.daddr .. "]:" .. e.dport or e.daddr .. ":" .. e.dport
	flows:add(e.saddr, dst, e.reason)
	if owners then
		owners:add(owner_of(e), e.reason)
	end
end

local function show()
	local now = tcpdrop.now()
	local secs = math.max(now - last, 1e-3) -- the last interval may be cut short
	local st = tcpdrop.stats()
	last = now
	if tty then
		io.write("\27[H\27[2J")
	end
	printf("tcpdrop top - %s  every %gs  drops %d (%.1f/s)  lost %d\n\n", os.date("%H:%M:%S", tcpdrop.time()),
		tcpdrop.interval(), total, total / secs, st.lost or 0)
	if total == 0 then
		io.write("no drops\n\n")
		return
	end
	reasons:print()
	io.write("\n")
	flows:print()
	io.write("\n")
	if owners then
		owners:print()
		io.write("\n")
		owners:clear()
	end
	reasons:clear()
	flows:clear()
	total = 0
end

function tick()
	show()
end

-- The interval cut short by the end of tracing still gets shown.
function done()
	if total > 0 then
		show()
	end
end
