#!/bin/sh
# --user (root): once attached, tcpdrop runs as that user with no capability left, and scripts
# still read drops, tick, spawn, write where the user may and done(stats) has the kernel's
# counters; a replay drops at once. Real drops in a network namespace made here.
. "$(dirname "$0")/../lib.sh"

NEEDS="setpriv stat id chown mktemp grep sed"
need_live privs "$NEEDS" "$TCPDROP" "$TESTBIN/segsend" "$TESTBIN/tdutil" || exit 1
SEGSEND=$TESTBIN/segsend
TDUTIL=$TESTBIN/tdutil
U=nobody
UID_U=$(id -u $U) || { fail privs-setup "no user $U"; exit 1; }

NS=tdprivs-$$
W=$(mktemp -d "$TMPDIR/tcpdrop-privs.XXXXXX") || exit 1
chmod 755 "$W"
cleanup() {
	[ -n "${tpid:-}" ] && kill "$tpid" 2>/dev/null
	"$IP" netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! { "$IP" netns add "$NS" && "$IP" -n "$NS" link set lo up; } >"$W/setup.err" 2>&1; then
	fail privs-setup "namespace: $(head -3 "$W/setup.err")"
	exit 1
fi
NSID=$(stat -L -c %i "/run/netns/$NS")
pass "privs-setup: namespace $NS ($NSID)"
# A SYN to a closed port: its drop (NO_SOCKET, dport 9) passes --dport 9; the RST|ACK the
# kernel answers with, dropped in turn, is to port 4242: filtered out in the kernel.
syn() { "$IP" netns exec "$NS" "$SEGSEND" 127.0.0.1 4242 127.0.0.1 9 S; }

# A directory the user may write, and one only root may.
mkdir "$W/theirs" "$W/roots" && chown $U "$W/theirs" && chmod 700 "$W/roots"

cat >"$W/u.lua" <<EOF
local dir = "$W"
function init()
	local p = io.popen("id -u")
	print("popen uid " .. p:read("*l"))
	p:close()
	for l in io.lines("/proc/self/status") do
		local k, v = l:match("^(%w+):%s*(%S*)")
		if k == "CapEff" or k == "CapPrm" or k == "CapInh" or k == "CapAmb"
			or k == "NoNewPrivs" then
			print(k .. " " .. v)
		end
	end
	print("spawn " .. tostring(tcpdrop.spawn("sh", "-c", "id -u > " .. dir .. "/theirs/spawned")))
	print("theirs " .. tostring(tcpdrop.write_file(dir .. "/theirs/out", "hello\n")))
	print("roots " .. tostring((tcpdrop.write_file(dir .. "/roots/out", "hello\n"))))
	print("ready")
end
function drop(e) print("drop " .. e.reason .. " " .. e.dport) end
function tick(n) if n == 1 then print("tick") end end
function done(s) print("done filtered " .. s.filtered_kernel .. " lost " .. s.lost) end
EOF

"$TDUTIL" timeout 20 "$TCPDROP" --user $U --netns-id "$NSID" --dport 9 -s "$W/u.lua" -i 0.1 \
	-w "$W/rec.pcapng" >"$W/live.out" 2>"$W/live.err" &
tpid=$!
"$TDUTIL" waitfor "$W/live.out" ready 10 $tpid
syn
"$TDUTIL" waitfor "$W/live.out" "drop " 5 $tpid
"$TDUTIL" waitfor "$W/live.out" tick 5 $tpid
"$TDUTIL" sleep 0.3
kill -INT $tpid 2>/dev/null
wait $tpid
rc=$?
tpid=""
check_eq privs-live-exit 0 "$rc"
check_eq privs-live-stderr "" "$(head -3 "$W/live.err")"
check_grep privs-popen-uid "^popen uid $UID_U\$" "$W/live.out"
for k in CapEff CapPrm CapInh CapAmb; do
	check_grep "privs-$k-zero" "^$k 0000000000000000\$" "$W/live.out"
done
check_grep privs-no-new-privs '^NoNewPrivs 1$' "$W/live.out"
check_grep privs-drop-seen '^drop NO_SOCKET 9$' "$W/live.out"
check_grep privs-tick '^tick$' "$W/live.out"
check_grep privs-spawn '^spawn [0-9][0-9]*$' "$W/live.out"
check_eq privs-spawn-ran-as-user "$UID_U" "$(cat "$W/theirs/spawned" 2>/dev/null)"
check_grep privs-write-theirs '^theirs true$' "$W/live.out"
check_eq privs-write-theirs-owner "$U" "$(stat -c %U "$W/theirs/out" 2>/dev/null)"
check_grep privs-write-roots-refused '^roots nil$' "$W/live.out"
check_eq privs-write-roots-nothing "" "$(ls "$W/roots")"
# The kernel's counters, read through the map's fd after the drop: the RST|ACK filtered out.
check_grep privs-done-kernel-counters '^done filtered [1-9][0-9]* lost 0$' "$W/live.out"
# -w: opened as root before the drop, written to the end.
n=$("$TCPDROP" -r "$W/rec.pcapng" -e 'print(e.dport)' 2>&1)
check_eq privs-live-recording 9 "$n"

# The default printer: stacks symbolised (kallsyms read as root, before the drop).
"$TDUTIL" timeout 20 "$TCPDROP" --user $U --netns-id "$NSID" --dport 9 -c 1 \
	>"$W/stack.out" 2>"$W/stack.err" &
tpid=$!
"$TDUTIL" waitfor "$W/stack.out" TIME 10 $tpid
syn
wait $tpid
rc=$?
tpid=""
check_eq privs-stack-exit "0 " "$rc $(head -3 "$W/stack.err")"
check_grep privs-stack-symbolised "$(printf '^\t')tcp_v4_rcv+0x" "$W/stack.out"

# A replay drops at once after the file is open: the script runs as the user.
"$TCPDROP" --user $U -r "$W/rec.pcapng" -s "$W/u.lua" >"$W/replay.out" 2>"$W/replay.err"
check_eq privs-replay-exit 0 "$?"
check_grep privs-replay-uid "^popen uid $UID_U\$" "$W/replay.out"
check_grep privs-replay-capeff '^CapEff 0000000000000000$' "$W/replay.out"
check_grep privs-replay-drop '^drop NO_SOCKET 9$' "$W/replay.out"

# Refusals: one line each, exit 2, nothing run.
"$TCPDROP" --user no-such-user-tcpdrop -r "$W/rec.pcapng" >"$W/bad.out" 2>"$W/bad.err"
check_eq privs-unknown-user "2 tcpdrop: --user: no user named 'no-such-user-tcpdrop'" \
	"$? $(cat "$W/bad.err")"
"$TCPDROP" --user root -r "$W/rec.pcapng" >"$W/bad.out" 2>"$W/bad.err"
check_eq privs-root-refused "2 1" "$? $(wc -l <"$W/bad.err" | tr -d ' ')"
setpriv --reuid "$UID_U" --regid "$(id -g $U)" --clear-groups \
	"$TCPDROP" --user $U -r "$W/rec.pcapng" >"$W/bad.out" 2>"$W/bad.err"
check_eq privs-not-root-refused \
	"2 tcpdrop: --user needs root: it is root's privileges that are given up" \
	"$? $(cat "$W/bad.err")"
check_eq privs-not-root-nothing-run "" "$(cat "$W/bad.out")"
