-- Every aggregation helper and named maps, printed at a tick, kept or reset, and at exit.
local bytes = tcpdrop.map({ kind = "sum", keys = { "REASON" }, title = "Bytes by reason",
	value = "BYTES", percent = true })
local quiet = tcpdrop.map({ keys = { "DPORT" }, print = false })
local kept = tcpdrop.map({ kind = "max", keys = { "FAMILY" }, keep = true })
local lens = tcpdrop.map({ kind = "hist", keys = { "FAMILY" } })

function init()
	tcpdrop.interval(1)
end

function drop(e)
	count()
	count(e.reason)
	count(e.family, e.state)
	tcpdrop.count(e.family, e.state, e.flags, e.has_socket)
	top(2, e.daddr)
	sum(e.len)
	min(e.len, e.family)
	max(e.len, e.family)
	avg(e.len, e.reason)
	hist(e.win)
	bytes:add(e.len, e.reason)
	quiet:add(e.dport)
	kept:add(e.seq, e.family)
	lens:add(e.len, e.family)
	count(nil, "nil key")
end

function tick(n)
	printf("tick %d: quiet has %d keys, total %d, port 80 = %s, port 9 = %s\n", n, quiet:size(),
		quiet:total(), tostring(quiet:get(80)), tostring(quiet:get(9)))
	local rows = quiet:rows()
	printf("first row: %s %d\n", tostring(rows[1].keys[1]), rows[1].value)
end

function done()
	local ok, err = pcall(count, 1, 2, 3, 4, 5)
	printf("five keys: %s\n", tostring(ok))
	-- (file:line names the caller; the directory depends on where the tree is)
	ok, err = pcall(function() bytes:add(1) end)
	printf("arity: %s\n", (err:gsub("^.*/", "")))
	ok, err = pcall(function() sum("x") end)
	printf("value: %s\n", (err:gsub("^.*/", "")))
	io.write("\n")
end
