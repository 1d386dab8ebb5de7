-- Globals set in init and read in drop, and ones only _G makes: no compile-time error.
function init()
	port = 80
	_G["made" .. "here"] = 1
end

function drop(e)
	if e.dport == port and madehere == 1 then
		count(e.dport)
	end
end
