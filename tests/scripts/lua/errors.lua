-- A runtime error two calls deep in drop() for port 443; done() still runs.
local function describe(e)
	if e.dport == 443 then
		return e.nosuch
	end
	return e.reason
end

function drop(e)
	printf("drop %s\n", describe(e))
end

function done(s)
	printf("done passed=%d errors=%d\n", s.passed, s.errors)
end
