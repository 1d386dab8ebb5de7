#!/bin/sh
# Aggregations counted in the kernel (issue 14): the one-liner counted in the kernel's tables
# prints byte for byte what counting the events prints, and every other one-liner falls back to
# the events, -v saying why. No root: build/tests/feed --kcount stands in for the kernel's tables
# (each event counted under the probe's key, core/lua/kcount.c), through the real run lifecycle,
# planner and Lua runtime. The live part (root, namespaces this test makes) is tests/pushdown/live.sh.
. "$(dirname "$0")/../lib.sh"

FEED=$TESTBIN/feed
T=$(mktemp -d "$TMPDIR/tcpdrop-pushdown.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
TZ=UTC
export TZ

if [ ! -x "$FEED" ]; then
	fail pushdown-tools "$FEED is missing (make tests-build)"
	exit 0
fi

# Synthetic drops of every key kind: v4 and v6, reasons with and without a reason, states with
# and without a socket, flags, ports, namespaces, interfaces, CPUs, lengths; repeated unevenly.
ev=$T/events.txt
i=0
while [ $i -lt 240 ]; do
	r=$((i % 7))
	case $r in
	0) reason=NO_SOCKET ;;
	1) reason=TCP_CSUM ;;
	2) reason=NETFILTER_DROP ;;
	3) reason=TCP_LISTEN_OVERFLOW ;;
	4) reason=SOCKET_FILTER ;;
	5) reason=TCP_INVALID_SEQUENCE ;;
	6) reason=NOT_SPECIFIED ;;
	esac
	case $((i % 5)) in
	0) addrs="saddr=10.0.0.$((i % 3 + 2)) daddr=10.0.1.1" ;;
	1) addrs="saddr=192.168.$((i % 2)).7 daddr=10.0.1.$((i % 4))" ;;
	2) addrs="saddr=2001:db8::$((i % 3 + 1)) daddr=2001:db8:1::1" ;;
	3) addrs="saddr=fe80::$((i % 2 + 1)) daddr=::1" ;;
	4) addrs="saddr=127.0.0.1 daddr=127.0.0.1" ;;
	esac
	case $((i % 4)) in
	0) st="state=-" ;;
	1) st="state=ESTABLISHED" ;;
	2) st="state=LISTEN" ;;
	3) st="state=TIME_WAIT" ;;
	esac
	case $((i % 6)) in
	0) fl=SYN ;;
	1) fl=SYN\|ACK ;;
	2) fl=RST ;;
	3) fl=ACK\|PSH ;;
	4) fl=FIN\|ACK ;;
	5) fl=0 ;;
	esac
	extra=
	[ $((i % 11)) -eq 0 ] && extra=noreason=1
	echo "reason=$reason $addrs $st flags=$fl sport=$((40000 + i % 9)) dport=$((i % 5 * 1000 + 22))" \
		"netns=$((4026531840 + i % 3)) ifindex=$((i % 4 + 1)) cpu=$((i % 2))" \
		"len=$((40 + i % 13 * 100)) $extra"
	i=$((i + 1))
done >"$ev"

# ticks.txt: the events, a tick, half of them again, a tick, a quiet tick, a last few.
{
	cat "$ev"
	echo tick
	head -120 "$ev"
	echo tick
	echo tick
	head -7 "$ev"
} >"$T/ticks.txt"

# same NAME INPUT ARGS...: the events' output and the kernel-counted one, byte for byte, and -v
# says "counted in the kernel".
same() {
	name=$1
	in=$2
	shift 2
	"$FEED" "$@" <"$in" >"$T/$name.ev" 2>"$T/$name.ev.err"
	rc1=$?
	"$FEED" --kcount -v "$@" <"$in" >"$T/$name.kc" 2>"$T/$name.kc.err"
	rc2=$?
	if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
		fail "$name" "exit $rc1 / $rc2: $(head -3 "$T/$name.ev.err" "$T/$name.kc.err")"
		return
	fi
	if [ ! -s "$T/$name.ev" ]; then
		fail "$name" "no output"
		return
	fi
	# A tick's header is the wall clock of that tick: the two runs may straddle a second.
	for f in "$T/$name.ev" "$T/$name.kc"; do
		sed 's/^\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\]$/[HH:MM:SS]/' "$f" >"$f.t" && mv "$f.t" "$f"
	done
	check_file "$name" "$T/$name.ev" "$T/$name.kc"
	# stderr (the overflow lines at exit) the same too, beside -v's line.
	grep -v '^tcpdrop: counted in the kernel' "$T/$name.kc.err" >"$T/$name.kc.err2"
	check_file "$name-stderr" "$T/$name.ev.err" "$T/$name.kc.err2"
	check_grep "$name-v" '^tcpdrop: counted in the kernel (keys: ' "$T/$name.kc.err"
}

# Every key kind alone, then in pairs and more.
for k in reason reason_code state state_code has_socket flags tcp_flags family saddr daddr \
	sport dport netns ifindex cpu; do
	same "kc-$k" "$ev" -e "count(e.$k)"
done
same kc-none "$ev" -e 'count()'
same kc-reason-dport "$ev" -e 'count(e.reason, e.dport)'
same kc-4tuple "$ev" -e 'count(e.saddr, e.sport, e.daddr, e.dport)'
same kc-five "$ev" -e 'count(e.family, e.state, e.flags, e.netns, e.ifindex)'
same kc-spaced "$ev" -e '  count ( e.reason ,e.cpu )  ; '
same kc-sum "$ev" -e 'sum(e.len, e.reason)'
same kc-sum-none "$ev" -e 'sum(e.len)'
same kc-sum-v6 "$ev" -e 'sum(e.len, e.saddr, e.daddr)'
same kc-top "$ev" -e 'top(3, e.dport)'
same kc-top-2 "$ev" -e 'top(2, e.saddr, e.dport)'
same kc-top-none "$ev" -e 'top(1)'
same kc-top-count "$ev" -e 'top(4, e.reason) count(e.reason)'
same kc-top-ticks "$T/ticks.txt" -i 1 --max-keys 3 -e 'top(2, e.sport)'
same kc-two "$ev" -e 'count(e.reason); sum(e.len, e.dport)'
same kc-same-map "$ev" -e 'count(e.reason) count(e.dport)'
same kc-four "$ev" -e 'count(e.reason) count(e.dport, e.state) sum(e.len) count(e.saddr)'
# Ticks: each interval its own counts, a quiet one says so.
same kc-ticks "$T/ticks.txt" -i 1 -e 'count(e.reason, e.dport)'
same kc-ticks-sum "$T/ticks.txt" -i 1 -e 'sum(e.len, e.family)'
# A small table: the drops of keys that do not fit are counted and said, as the events' are.
same kc-overflow "$ev" --max-keys 5 -e 'count(e.saddr, e.dport)'
same kc-overflow-ticks "$T/ticks.txt" --max-keys 3 -i 1 -e 'count(e.sport)'
same kc-overflow-sum "$ev" --max-keys 2 -e 'sum(e.len, e.daddr)'
# -v's line names the keys and the table's size.
check_grep kc-v-line '^tcpdrop: counted in the kernel (keys: reason, dport; table of 10000 keys)$' \
	"$T/kc-reason-dport.kc.err"
check_grep kc-v-max-keys '(keys: saddr, dport; table of 5 keys)$' "$T/kc-overflow.kc.err"
check_grep kc-overflow-said 'updates of new keys not counted' "$T/kc-overflow.kc"

# fallback NAME WHY ARGS...: counted from the events, -v says why, output as without --kcount.
fallback() {
	name=$1
	why=$2
	shift 2
	"$FEED" "$@" <"$ev" >"$T/$name.ev" 2>"$T/$name.ev.err"
	rc1=$?
	"$FEED" --kcount -v "$@" <"$ev" >"$T/$name.kc" 2>"$T/$name.kc.err"
	rc2=$?
	if [ $rc1 -ne $rc2 ]; then
		fail "$name" "exit $rc1 / $rc2: $(head -3 "$T/$name.kc.err")"
		return
	fi
	check_file "$name" "$T/$name.ev" "$T/$name.kc"
	check_eq "$name-v" "tcpdrop: counted from the events: $why" \
		"$(grep '^tcpdrop: counted' "$T/$name.kc.err")"
}

fallback fb-filter "-f needs the events" -e 'count(e.reason)' -f 'e.dport == 22'
fallback fb-count "-c needs the events" -e 'count(e.reason)' -c 5
fallback fb-derived "e.comm is derived" -e 'count(e.comm)'
fallback fb-derived-2nd "e.location is derived" -e 'count(e.reason, e.location)'
fallback fb-raw "e.pid is not a field the kernel counts by" -e 'count(e.pid)'
fallback fb-len-key "e.len is counted in the kernel only as sum's value" -e 'count(e.len)'
fallback fb-sum-value "sum's value is not e.len" -e 'sum(e.win, e.reason)'
fallback fb-other "the drop hook does other work" -e 'count(e.reason) print(e.dport)'
fallback fb-printf "the drop hook does other work" -e 'printf("%s\n", e.reason)'
fallback fb-top "the drop hook does other work" -e 'top(3.5, e.dport)'
fallback fb-top-var "the drop hook does other work" -e 'top(tcpdrop.max_keys(), e.dport)'
fallback fb-if "the drop hook does other work" -e 'if e.dport == 22 then count(e.reason) end'
fallback fb-expr "the drop hook does other work" -e 'count(e.dport + 1)'
fallback fb-string "the drop hook does other work" -e 'count("x", e.dport)'
fallback fb-comment "the drop hook does other work" -e 'count(e.dport) -- ports'
fallback fb-method "the drop hook does other work" -e 'count(e:has("RST"))'
fallback fb-index "the drop hook does other work" -e 'count(e["dport"])'
fallback fb-five "more aggregations than the kernel's 4 free tables" \
	-e 'count(e.reason) count(e.dport) count(e.sport) count(e.saddr) count(e.daddr)'
fallback fb-no-kernel "--no-kernel-count" --no-kernel-count -e 'count(e.reason, e.dport)'
printf 'function filter(e) return e.dport ~= 22 end\n' >"$T/filter.lua"
fallback fb-script "the script's filter() needs the events" -s "$T/filter.lua" -e 'count(e.dport)'
printf 'function count(...) print("mine") end\n' >"$T/own.lua"
fallback fb-own "count is the script's own" -s "$T/own.lua" -e 'count(e.dport)'
# A script beside the one-liner with init, tick and done only: still counted in the kernel.
printf 'function init() tcpdrop.interval(1) end\nfunction tick(n) print("tick " .. n) end\nfunction done(s) print("done") end\n' >"$T/tick.lua"
same kc-script-beside "$T/ticks.txt" -s "$T/tick.lua" -e 'count(e.reason, e.dport)'

# Counted in the kernel, the events are not delivered: nothing reaches Lua (kc_only), done sees
# them as counted (a script beside the one-liner with done only).
cat >"$T/stats.lua" <<'EOF'
function done(s) print("seen " .. s.seen .. " passed " .. s.passed .. " counted " .. s.counted) end
EOF
"$FEED" --kcount -e 'count(e.reason)' <"$ev" >/dev/null 2>"$T/kconly.err"
check_eq kc-only-exit 0 $?
"$FEED" --kcount -s "$T/stats.lua" -e 'count()' <"$ev" >"$T/kc-stats.out" 2>&1
check_grep kc-stats-counted '^seen 0 passed 0 counted 240$' "$T/kc-stats.out"
"$FEED" -s "$T/stats.lua" -e 'count()' <"$ev" >"$T/ev-stats.out" 2>&1
check_grep kc-stats-events '^seen 240 passed 240 counted 0$' "$T/ev-stats.out"

# --- Scripts: tcpdrop.kcount{...}, read in tick and done; the same rows whether the kernel
# counts (--kcount) or the events do (no kernel here: fed from the events as the probe would).
cat >"$T/handle.lua" <<'EOF2'
local h = tcpdrop.kcount{ "reason", "dport", "saddr", max_keys = 4 }
local all = tcpdrop.kcount{ "family" }
local function show(when)
	local rows = {}
	for k, n, bytes in h:rows() do
		rows[#rows + 1] = string.format("%s %s %s %d %d %d", when, k.reason, k.saddr, k.dport, n, bytes)
	end
	for k, n, bytes in all:rows() do
		rows[#rows + 1] = string.format("%s family=%d %d %d", when, k.family, n, bytes)
	end
	table.sort(rows)
	for _, r in ipairs(rows) do
		print(r)
	end
	print(when .. " overflow " .. h:overflow() .. " " .. all:overflow())
end
function init() tcpdrop.interval(1) end
function tick(n) show("tick" .. n) end
function done(s)
	show("done")
	print("seen " .. s.seen .. " counted " .. s.counted)
end
EOF2
"$FEED" -s "$T/handle.lua" <"$T/ticks.txt" >"$T/handle.ev" 2>&1
"$FEED" --kcount -v -s "$T/handle.lua" <"$T/ticks.txt" >"$T/handle.kc" 2>"$T/handle.kc.err"
check_grep kcount-handle-rows '^tick1 UNKNOWN 10.0.0.2 22 1 40$' "$T/handle.kc"
check_grep kcount-handle-overflow '^tick1 overflow [1-9][0-9]* 0$' "$T/handle.kc"
check_eq kcount-handle-same "$(grep -v '^seen' "$T/handle.ev")" "$(grep -v '^seen' "$T/handle.kc")"
check_grep kcount-handle-no-events '^seen 0 counted 367$' "$T/handle.kc"
check_grep kcount-handle-events '^seen 367 counted 0$' "$T/handle.ev"
check_grep kcount-handle-v \
	'^tcpdrop: counted in the kernel (keys: reason, dport, saddr; table of 4 keys), (keys: family; table of 10000 keys)$' \
	"$T/handle.kc.err"

# A script that reads the events too: they come, and the kernel still counts.
printf 'local h = tcpdrop.kcount{"dport"}\nlocal n = 0\nfunction drop(e) n = n + 1 end\nfunction done(s)\n  local c = 0\n  for _, k in h:rows() do c = c + k end\n  print(n, c, s.counted)\nend\n' >"$T/both.lua"
check_eq kcount-with-drop "240	240	240" "$("$FEED" --kcount -s "$T/both.lua" <"$ev" 2>&1)"

# kerr NAME MESSAGE SCRIPT: the script is refused with one line, exit 2, before anything runs.
kerr() {
	printf '%s\n' "$3" >"$T/$1.lua"
	"$FEED" --kcount -s "$T/$1.lua" </dev/null >"$T/$1.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -qF "$2" "$T/$1.out"; then
		pass "$1"
	else
		fail "$1" "exit $rc: $(head -3 "$T/$1.out")"
	fi
}
kerr kcount-err-field "tcpdrop.kcount: 'pod' is not a field the kernel counts by" \
	'tcpdrop.kcount{"reason", "pod"}'
kerr kcount-err-option "tcpdrop.kcount: unknown option 'size'" 'tcpdrop.kcount{"reason", size = 3}'
kerr kcount-err-max "tcpdrop.kcount: max_keys must be an integer > 0" \
	'tcpdrop.kcount{"reason", max_keys = 0}'
kerr kcount-err-init "tcpdrop.kcount: call it at the top level of the script" \
	'function init() tcpdrop.kcount{"reason"} end'
kerr kcount-err-five "tcpdrop.kcount: at most 4 tables" \
	'for i = 1, 5 do tcpdrop.kcount{"reason"} end'

# SIGUSR1's status line says what the kernel counted, not "0 seen" alone. The events are handed
# over at the loop's first drain; the signal comes a second later, the run lasts 5.
"$FEED" --loop --kcount -d 5 -e 'count(e.reason)' <"$ev" >"$T/usr1.out" 2>"$T/usr1.err" &
fpid=$!
sleep 1
kill -USR1 $fpid
wait $fpid
check_grep kcount-usr1-status \
	'^tcpdrop: 240 counted in the kernel, 0 seen, 0 passed, 0 lost, [0-9.]* s$' "$T/usr1.err"
check_grep kcount-usr1-table '^NO_SOCKET  *[0-9]' "$T/usr1.out"
