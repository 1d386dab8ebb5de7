-- Ticks on the real event loop's timer, with no events at all.
function init()
	tcpdrop.interval(0.1)
end

function tick(n)
	printf("tick %d\n", n)
end

function done(s)
	printf("done seen=%d\n", s.seen)
end
