-- For the performance check: an empty-ish filter, and how much Lua allocated meanwhile.
local before

function init()
	collectgarbage("stop")
	before = collectgarbage("count")
end

function filter(e)
	return e.dport == 1
end

function done()
	io.stderr:write(string.format("allocated %.0f KB\n", collectgarbage("count") - before))
end
