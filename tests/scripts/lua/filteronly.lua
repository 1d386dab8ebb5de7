-- A script with a filter and no drop(): the default printer prints what passes.
function filter(e)
	return e.reason == "TCP_CLOSE"
end
