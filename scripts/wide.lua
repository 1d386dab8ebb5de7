-- The default output with who was hurt: the task on the CPU, the socket's owner, and the
-- container or pod the drop belongs to (the default and classic formats stay as bcc's).
--
-- TIME     PID     IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)        REASON (CODE)         COMM             OWNER                  CONTAINER/POD
-- 14:46:49 0       4  10.0.0.2:80          > 10.0.0.1:33280       ESTABLISHED (ACK)    TCP_OFOMERGE (47)     swapper/0        4242/nginx             shop/web-0/nginx
--
-- tcpdrop -s wide                with the stacks, as the default output
-- tcpdrop -s wide --no-stack     one line per drop
--
-- COMM is the task that was on the CPU (often a softirq's: swapper/N). OWNER is PID/COMM of
-- the process that owns the socket, as the probe recorded it, with "(closed)" once it has closed
-- the socket (FIN states, TIME_WAIT); "-" without a socket or an owner known. CONTAINER/POD is
-- NAMESPACE/POD/CONTAINER for a Kubernetes pod (NAMESPACE/POD when the drop names the pod
-- alone), else the container's name, else RUNTIME:ID (12 digits) when only its id is known.

local out = require("tcpdrop.out")
local pad, put_flow, put_stack, write = out.pad, out.put_flow, out.put_stack, out.write
local printable = tcpdrop.printable
local container = require("tcpdrop.owner").group_by.container.key
local b = out.new()

function init()
	io.write(string.format("%-8s %-7s %-2s %-20s > %-20s %-20s %-21s %-16s %-22s %s\n", "TIME",
		"PID", "IP", "SADDR:SPORT", "DADDR:DPORT", "STATE (FLAGS)", "REASON (CODE)", "COMM",
		"OWNER", "CONTAINER/POD"))
end

-- The owner fields are made terminal-safe by the core; the comms come from processes.
local function where(e)
	local pod = e.pod
	if pod ~= "-" then
		local c = e.container
		if c ~= "-" then
			return e.pod_namespace .. "/" .. pod .. "/" .. c
		end
		return e.pod_namespace .. "/" .. pod
	end
	return container(e)
end

function drop(e)
	put_flow(b, e, 7, true)
	local m = #b
	b:put(e.state, " (", e.flags, ")")
	pad(b, m, 20)
	m = #b
	b:putf(" %s (%d)", e.reason, e.reason_code)
	pad(b, m, 22)
	m = #b
	b:put(" ", printable(e.comm))
	pad(b, m, 17)
	m = #b
	local pid = e.owner_pid
	if pid ~= 0 then
		b:put(" ", pid, "/", printable(e.owner_comm), e.owner_closed and "(closed)" or "")
	else
		b:put(" -")
	end
	pad(b, m, 23)
	b:put(" ", where(e), "\n")
	put_stack(b, e)
	write(b)
end
