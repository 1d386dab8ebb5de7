-- A syntax error on line 4.
function drop(e)
	printf("%d\n", e.dport
end
