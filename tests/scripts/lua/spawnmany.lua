-- A command that cannot start, on every drop: one line on stderr, then a count.
function drop(e)
	tcpdrop.spawn("/nonexistent/cmd", e.reason)
end
