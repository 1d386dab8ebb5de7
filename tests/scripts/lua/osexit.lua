-- os.exit(n) from a hook: the hook ends there, done runs, the exit code is n. "done": from done.
local mode

function init(args)
	mode = args[1]
end

function drop(e)
	printf("drop %d\n", e.dport)
	if e.dport == 443 then
		os.exit(mode == "done" and 0 or 3)
	end
end

function done(s)
	printf("done passed=%d\n", s.passed)
	count("in done")
	if mode == "done" then
		os.exit(5)
	end
end
