-- The coverage rows (core/run/coverage.c) as Lua tables: one per MIB counter that counts drops,
-- in each namespace watched, beside the drops traced under the reasons naming the same event.
--
--   { netns = 4026532277, counter = "TcpExtListenOverflows", what = "listen overflows",
--     kernel = 29, traced = 0, verdict = "not traced: no probe on this kernel sees these",
--     reasons = { "TCP_LISTEN_OVERFLOW", ... }, why = "this kernel offers no probe for them" }
--
-- kernel is the counter's delta over the run, traced the events of its reasons; why is set when
-- the verdict is "not traced". The core hands the rows over as text, a tab-separated line each.
local M = {}

local function split(s, sep)
	local out = {}
	for f in (s .. sep):gmatch("(.-)" .. sep) do
		out[#out + 1] = f
	end
	return out
end

-- The rows of text (nil: no coverage in this run, e.g. a replay) as a list of tables.
function M.rows(text)
	if not text then
		return nil
	end
	local rows = {}
	for line in text:gmatch("[^\n]+") do
		local f = split(line, "\t")
		local reasons = {}
		if f[7] and f[7] ~= "" then
			reasons = split(f[7], ",")
		end
		rows[#rows + 1] = {
			netns = tonumber(f[1]),
			counter = f[2],
			what = f[3],
			kernel = tonumber(f[4]),
			traced = tonumber(f[5]),
			verdict = f[6],
			reasons = reasons,
			why = f[8] ~= "" and f[8] or nil,
		}
	end
	return rows
end

return M
