-- tcpdrop.exit(code) from drop (args[1] == "drop") or from init (args[1] == "init").
function init(args)
	mode = args[1]
	if mode == "init" then
		tcpdrop.exit(4)
	end
end

function drop(e)
	printf("drop %d\n", e.dport)
	if mode == "drop" and e.dport == 443 then
		tcpdrop.exit(3)
	end
end

function done(s)
	printf("done passed=%d\n", s.passed)
end
