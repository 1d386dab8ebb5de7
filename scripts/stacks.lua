-- Kernel stacks of the drops, folded and counted, ready for flamegraph.pl.
--
-- tcpdrop -s stacks -d 30 > drops.folded
-- flamegraph.pl drops.folded > drops.svg     (https://github.com/brendangregg/FlameGraph)
--
-- Arguments after --: "reason" puts the drop reason on top of each stack, "offsets" keeps the
-- +0x.. offsets (frames then merge only at the same instruction). A drop with no stack counts
-- as the single frame [stack skipped], [stack failed] or [stack off].

local with_reason, with_offsets = false, false
local folded, nfolded, uncounted = {}, 0, 0 -- stacks bounded as an aggregation's keys
local names, nnames = {}, 0 -- frame -> its name in the folded format (the same frames recur)

local function name_of(f)
	local n = names[f]
	if n == nil then
		n = f
		if not with_offsets then
			n = n:gsub("%+0x%x+$", "")
		end
		n = n:gsub("[;%s%c]", "_") -- the separators of the format
		if nnames >= tcpdrop.max_keys() then
			names, nnames = {}, 0
		end
		names[f], nnames = n, nnames + 1
	end
	return n
end

function init(args)
	for _, a in ipairs(args) do
		if a == "reason" then
			with_reason = true
		elseif a == "offsets" then
			with_offsets = true
		else
			io.stderr:write("tcpdrop: stacks: unknown argument '", a, "' (reason, offsets)\n")
			tcpdrop.exit(2)
			return
		end
	end
end

function drop(e)
	local stack = e.stack
	local parts = {}
	if stack and #stack > 0 then
		-- Root first, the dropping function last: the order flamegraph.pl reads.
		for i = #stack, 1, -1 do
			parts[#parts + 1] = name_of(stack[i])
		end
	else
		parts[1] = "[stack " .. (stack and "empty" or e.stack_status) .. "]"
	end
	if with_reason then
		parts[#parts + 1] = e.reason
	end
	local key = table.concat(parts, ";")
	local n = folded[key]
	if n == nil then
		if nfolded >= tcpdrop.max_keys() then
			uncounted = uncounted + 1
			return
		end
		nfolded, n = nfolded + 1, 0
	end
	folded[key] = n + 1
end

function done()
	local keys = {}
	for k in pairs(folded) do
		keys[#keys + 1] = k
	end
	table.sort(keys, function(a, b)
		if folded[a] ~= folded[b] then
			return folded[a] > folded[b]
		end
		return a < b
	end)
	for _, k in ipairs(keys) do
		io.write(k, " ", folded[k], "\n")
	end
	if uncounted > 0 then
		io.stderr:write(string.format("tcpdrop: stacks: %d drops not counted: more than %d "
			.. "different stacks (--max-keys, tcpdrop.max_keys)\n", uncounted, tcpdrop.max_keys()))
	end
end
