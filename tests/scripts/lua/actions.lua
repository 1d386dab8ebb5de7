-- spawn (no shell, arguments verbatim, stdin /dev/null), a missing command, every(), syslog.
function init(args)
	out = args[1]
end

function drop(e)
	if tcpdrop.every(3600, e.reason) then
		local pid = tcpdrop.spawn("/bin/sh", "-c", 'printf "%s|%s\\n" "$1" "$2" >> "$3"; cat',
			"sh", e.reason, "$HOME;`x` *", out)
		printf("%s: spawned %s\n", e.reason, type(pid))
	end
end

function done()
	local pid, err = tcpdrop.spawn("/nonexistent/command", "x")
	printf("missing: %s %s\n", tostring(pid), err)
	tcpdrop.syslog("err", "an error")
	tcpdrop.syslog("a notice")
	tcpdrop.syslog(6, "info by number")
	local ok, msg = pcall(tcpdrop.syslog, "loud", "x")
	printf("bad level: %s\n", msg)
	printf("every: %s %s %s\n", tostring(tcpdrop.every(3600, "k")),
		tostring(tcpdrop.every(3600, "k")), tostring(tcpdrop.every(0, "k")))
end
