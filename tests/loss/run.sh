#!/bin/sh
# Losses are never silent: with a tiny ring and a script that stalls, the drops the ring could
# not take are reported on stderr and in done(stats), and seen + lost accounts for every drop.
. "$(dirname "$0")/../lib.sh"

SEGSEND=$TESTBIN/segsend
IP=/sbin/ip
[ -x "$IP" ] || IP=/usr/sbin/ip
[ -x "$IP" ] || IP=/bin/ip
if [ "$(id -u)" != 0 ]; then
	fail "loss: setup" "needs root (network namespaces, BPF)"
	exit 0
fi
for f in "$IP" "$SEGSEND" "$TCPDROP"; do
	[ -x "$f" ] || { fail "loss: setup" "$f is missing (make tests-build)"; exit 0; }
done

NS=tdloss$$
W=$(mktemp -d)
cleanup() {
	"$IP" netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
"$IP" netns add "$NS" && "$IP" -n "$NS" link set lo up || {
	fail "loss: setup" "cannot make network namespace $NS"
	exit 0
}
NETNS=$("$TESTBIN/tdutil" ino "/var/run/netns/$NS")
SENT=100

# The first drop stalls the reader for 1.5 s while 100 more arrive, 10 ms apart; each CPU's
# ring (4 KiB) holds about six events with stacks.
cat >"$W/stall.lua" <<'LUA'
local stalled = false
function drop(e)
	if not stalled then
		stalled = true
		local t = os.clock() + 1.5
		while os.clock() < t do end
	end
end
function done(s)
	print("seen " .. s.seen .. " lost " .. s.lost)
end
LUA
# stalled ARGS...: trace with the stalling script and ARGS; one drop, then $SENT more. Sets rc.
stalled() {
	"$TCPDROP" "$@" --netns-id "$NETNS" --dport 9 -s "$W/stall.lua" -d 4 >"$W/out" 2>"$W/err" &
	pid=$!
	sleep 1
	"$IP" netns exec "$NS" "$SEGSEND" -n 1 127.0.0.1 40000 127.0.0.1 9 S
	sleep 0.2
	"$IP" netns exec "$NS" "$SEGSEND" -n $SENT 127.0.0.1 40001 127.0.0.1 9 S
	wait $pid
	rc=$?
}
stalled --ring-kb 4

echo "loss: seen/lost: $(cat "$W/out"); stderr: $(head -2 "$W/err")"
check_eq "loss: exit code" 0 "$rc"
check_grep "loss: reported on stderr as it happens" "^tcpdrop: lost [0-9]* events, the ring buffer was full" "$W/err"
seen=$(sed -n 's/^seen \([0-9]*\) lost \([0-9]*\)$/\1/p' "$W/out")
lost=$(sed -n 's/^seen \([0-9]*\) lost \([0-9]*\)$/\2/p' "$W/out")
if [ -n "$seen" ] && [ -n "$lost" ]; then
	check_eq "loss: seen + lost is every drop" $((SENT + 1)) $((seen + lost))
	check_eq "loss: some were lost (the test's premise)" 1 "$([ "$lost" -gt 0 ] && echo 1)"
else
	fail "loss: done(stats) counts" "no 'seen N lost N' line: $(head -3 "$W/out")"
fi

# A recorded drop without a stack takes its head and packet bytes in the ring, not the whole
# 640-byte event: a 16 KiB ring holds 60 of them (about 190 bytes each; 25 if whole) while the
# reader stalls. Their packets come out whole from the compact records.
SENT=60
stalled --ring-kb 16 --no-stack -w "$W/rec.pcapng"
echo "loss: -w in a 16 KiB ring: $(cat "$W/out"); stderr: $(head -2 "$W/err")"
check_eq "loss: -w compact: exit code" 0 "$rc"
check_eq "loss: -w compact: every drop fits" "seen $((SENT + 1)) lost 0" "$(cat "$W/out")"
"$TCPDROP" -r "$W/rec.pcapng" \
	-e 'print(e.pkt_len .. " " .. e.hdr_len .. " " .. e.packet:byte(24) .. " " .. e.dport)' \
	>"$W/replay" 2>"$W/rerr"
check_eq "loss: -w compact: replayed" "$((SENT + 1))" "$(wc -l <"$W/replay" | tr -d ' ')"
check_eq "loss: -w compact: each packet whole (IP+TCP, dport byte 9)" "40 40 9 9" \
	"$(sort -u "$W/replay")"
