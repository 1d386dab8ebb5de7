-- The order hooks run in, what they receive, and filter() semantics (only false skips).
function init(args)
	printf("init args=%d [%s]\n", #args, table.concat(args, "|"))
end

function filter(e)
	if e.dport == 22 then
		return false -- skipped
	end
	if e.dport == 443 then
		return nil -- kept: only false skips
	end
	return true
end

function drop(e)
	printf("drop %s:%d %s\n", e.daddr, e.dport, e.reason)
end

function tick(n)
	printf("tick %d interval=%s\n", n, tostring(tcpdrop.interval()))
end

function done(s)
	printf("done seen=%d passed=%d filtered=%d lost=%d filtered_kernel=%d errors=%d elapsed=%s\n",
		s.seen, s.passed, s.filtered, s.lost, s.filtered_kernel, s.errors,
		type(s.elapsed))
end
