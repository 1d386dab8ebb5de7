-- A misspelt hook (dorp) and, in drop, a misspelt helper (cuont).
function dorp(e)
end

function drop(e)
	cuont(e.reason)
end
