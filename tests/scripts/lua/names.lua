-- Lists what the docs must cover ("field NAME", "api NAME"); with an argument, fails in a hook.
local mode

function init(args)
	mode = args[1]
	if mode == "fail-in-init" then
		error("failing in init")
	end
	if mode == nil then
		for _, f in ipairs(tcpdrop.fields) do
			print("field " .. f)
		end
		local names = {}
		for k in pairs(tcpdrop) do
			names[#names + 1] = k
		end
		table.sort(names)
		for _, k in ipairs(names) do
			print("api " .. k)
		end
	end
end

function done()
	print("done ran")
	if mode == "fail-in-done" then
		error("failing in done")
	end
end
