#!/bin/sh
# Losses are never silent: with a tiny ring and a script that stalls, the drops the ring could
# not take are reported on stderr and in done(stats), and seen + lost accounts for every drop.
# The reader loses nothing of its own: not a record that wraps the end of a ring, nor one its
# pending buffer has no room for in a burst.
. "$(dirname "$0")/../lib.sh"

SEGSEND=$TESTBIN/segsend
BURST=$TESTBIN/burst
need_live loss "mktemp" "$SEGSEND" "$BURST" "$TESTBIN/tdutil" "$TCPDROP" || exit 1

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
check_grep "loss: reported on stderr as it happens" \
	"^tcpdrop: lost [0-9]* events, the ring buffer was full" "$W/err"
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

# A tracer is surely attached once it has seen a drop: each run below is primed with SYNs from
# port 40000, 0.2 s apart, until its script has seen one (it counts them apart). Its output file
# is removed first: a background shell may not have truncated it yet when we first look.
# prime: send SYNs until the tracer (pid) prints "first" (4 s at most).
prime() {
	i=0
	while [ $i -lt 20 ] && ! grep -q '^first$' "$W/out" 2>/dev/null; do
		"$IP" netns exec "$NS" "$SEGSEND" -n 1 127.0.0.1 40000 127.0.0.1 9 S
		"$TESTBIN/tdutil" waitfor "$W/out" first 0.2 $pid
		i=$((i + 1))
	done
}
# The script: counts the SYNs and the burst's RSTs; with HOLD, the first drop holds the reader.
cat >"$W/count.lua" <<LUA
local HOLD = false
local n, syn, rst, back, last = 0, 0, 0, 0, 0ULL
function drop(e)
	n = n + 1
	if e.ts_ns < last then
		back = back + 1
	else
		last = e.ts_ns
	end
	if n == 1 then
		io.stdout:write("first\n")
		io.stdout:flush()
	end
	if e.flags == "SYN" and e.sport == 40000 then
		syn = syn + 1
	elseif e.flags == "RST" and e.sport == 40002 then
		rst = rst + 1
	end
	if n == 1 and HOLD then
		-- Until the burst is sent: 8 s at most.
		local t = os.clock() + 8
		while os.clock() < t do
			local f = io.open("$W/go")
			if f then
				f:close()
				return
			end
		end
		io.stdout:write("hold timed out\n")
	end
end
function done(s)
	print("seen " .. s.seen .. " lost " .. s.lost)
	print("syn " .. syn .. " rst " .. rst)
	print("out of order " .. back)
end
LUA
# figures NAME SENT: the last run's counts (seen, lost, syn, rst); checks seen + lost adds up.
figures() {
	seen=$(sed -n 's/^seen \([0-9]*\) lost \([0-9]*\)$/\1/p' "$W/out")
	lost=$(sed -n 's/^seen \([0-9]*\) lost \([0-9]*\)$/\2/p' "$W/out")
	syn=$(sed -n 's/^syn \([0-9]*\) rst \([0-9]*\)$/\1/p' "$W/out")
	rst=$(sed -n 's/^syn \([0-9]*\) rst \([0-9]*\)$/\2/p' "$W/out")
	echo "loss: $1: sent ${2:-?} (+$syn SYN), seen $seen lost $lost (SYN $syn, RST $rst)," \
		"$(grep '^out of order' "$W/out");" \
		"stderr: $(head -2 "$W/err")"
	check_eq "loss: $1: exit code" 0 "$rc"
	check_eq "loss: $1: seen + lost is every drop" "$((${2:-0} + ${syn:-0}))" \
		"$((${seen:-0} + ${lost:-0}))"
}

# A record that wraps the end of a ring is read in two parts: 200 drops 2 ms apart through a
# 4 KiB ring (23 records of 176 bytes a lap) come back whole, each its own sequence number.
rm -f "$W/out"
"$TCPDROP" --netns-id "$NETNS" --dport 9 --ring-kb 4 --no-stack -w "$W/wrap.pcapng" \
	-s "$W/count.lua" -d 4 >"$W/out" 2>"$W/err" &
pid=$!
prime
sent=$("$IP" netns exec "$NS" "$BURST" -n 200 -g 2000 127.0.0.1 40002 127.0.0.1 9 |
	sed -n 's/^sent //p')
wait $pid
rc=$?
figures wrap "$sent"
check_eq "loss: wrap: the ring went round (over 23 records seen)" 1 \
	"$([ "${seen:-0}" -gt 23 ] && echo 1)"
"$TCPDROP" -r "$W/wrap.pcapng" \
	-e 'print(e.pkt_len .. " " .. e.dport .. " " .. e.flags .. " " .. e.seq)' >"$W/replay" 2>"$W/rerr"
grep -v SYN "$W/replay" >"$W/replay.rst"
# Lines, distinct well-formed lines, others: a record read twice or mangled shows.
check_eq "loss: wrap: every record once and whole (40-byte packet, dport 9, RST, seq 1-200)" \
	"${rst:-0} ${rst:-0} 0" \
	"$(wc -l <"$W/replay.rst" | tr -d ' ') $(sort -u "$W/replay.rst" |
		awk '$1 == 40 && $2 == 9 && $3 == "RST" && $4 >= 1 && $4 <= 200 { n++ }
			END { print n + 0, NR - n }')"

# A burst while the reader is held: more records wait in the rings than its pending buffer
# takes in one pass (512 KiB: 4,000 heads, about 2,000 with stacks; 3.4 and up to 3.9 MB wait
# in 4 MiB rings), so reads end with the buffer full, one after the other. The record that did
# not fit must stay in its ring for the next pass, not vanish: seen + lost is every drop, and
# in rings that hold the whole burst, nothing is lost. The first drop holds the reader until
# the burst is sent.
sed 's/^local HOLD = false$/local HOLD = true/' "$W/count.lua" >"$W/hold.lua"
# held COUNT ARGS...: hold the reader with one drop, send a burst of COUNT, let go. Sets rc, sent.
# The two halves of a burst go from CPUs 0 and 1 where taskset and two CPUs are there.
PIN=
if command -v taskset >/dev/null 2>&1 && [ "$(grep -c '^processor' /proc/cpuinfo)" -ge 2 ]; then
	PIN=1
fi
held() {
	count=$1
	shift
	rm -f "$W/go" "$W/out"
	"$TCPDROP" "$@" --netns-id "$NETNS" --dport 9 -s "$W/hold.lua" -d 4 >"$W/out" 2>"$W/err" &
	pid=$!
	prime
	# Half from each of two CPUs: both rings fill, with their events interleaved in time.
	for c in 0 1; do
		pin=
		[ -n "$PIN" ] && pin="taskset -c $c"
		$pin "$IP" netns exec "$NS" "$BURST" -n $((count / 2)) -t 3 127.0.0.1 40002 \
			127.0.0.1 9 >"$W/sent$c" &
		eval "b$c=\$!"
	done
	wait "$b0"
	wait "$b1"
	s0=$(sed -n 's/^sent //p' "$W/sent0")
	s1=$(sed -n 's/^sent //p' "$W/sent1")
	sent=$((${s0:-0} + ${s1:-0}))
	: >"$W/go"
	wait $pid
	rc=$?
}
# held_check NAME COUNT: the figures of the last held run.
held_check() {
	figures "$1" "$sent"
	check_eq "loss: $1: the burst was sent in full" "$2" "$sent"
	check_nogrep "loss: $1: held for the whole burst" "hold timed out" "$W/out"
	check_eq "loss: $1: every burst drop reached the script" "$2" "${rst:-none}"
	check_eq "loss: $1: none lost" 0 "${lost:-none}"
	check_grep "loss: $1: handed on in time order across the passes" "^out of order 0$" "$W/out"
}
held 25000 --no-stack --ring-kb 4096
held_check "burst of 25000 heads" 25000
held 10000 --stack-rate 0 --ring-kb 4096
held_check "burst of 10000 with stacks" 10000

# -w at its default rings (16 MiB per CPU, not 2 MiB): a burst of 40,000 heads while the reader
# is held (20,000 per CPU, about 3.8 MB a ring: more than 2 MiB hold) is lost in no part, and
# all of it reaches the file through the writer thread's queue (over 10 MB: forty buffers).
held 40000 --no-stack -w "$W/big.pcapng"
held_check "-w default rings, burst of 40000 heads" 40000
"$TCPDROP" -r "$W/big.pcapng" -e 'print(1)' >"$W/big.n" 2>"$W/big.err"
check_eq "loss: -w default rings: the file replays every drop seen" "0 ${seen:-none}" \
	"$? $(wc -l <"$W/big.n" | tr -d ' ')"

# SIGKILL while the writer thread writes a storm out: the file holds whole blocks up to where
# it was cut, and the reader takes every one of them (at most the last block, if the kill came
# in the middle of a write, is reported as cut short, never read as drops).
rm -f "$W/out" "$W/kill.pcapng"
"$TCPDROP" --netns-id "$NETNS" --dport 9 --no-stack -w "$W/kill.pcapng" -s "$W/count.lua" \
	-d 20 >"$W/out" 2>"$W/err" &
pid=$!
prime
"$IP" netns exec "$NS" "$BURST" -n 40000 -t 3 127.0.0.1 40002 127.0.0.1 9 >/dev/null &
bpid=$!
# Until the writer has put 2 MB out (10 s at most), then the kill, mid-storm or just after.
i=0
while [ $i -lt 100 ] && [ "$(stat -c %s "$W/kill.pcapng" 2>/dev/null || echo 0)" -lt 2000000 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
wait $bpid
"$TCPDROP" -r "$W/kill.pcapng" -e 'print(e.dport)' >"$W/kill.n" 2>"$W/kill.err"
rc=$?
n=$(wc -l <"$W/kill.n" | tr -d ' ')
echo "loss: SIGKILL mid-storm: $(stat -c %s "$W/kill.pcapng") bytes, $n drops replayed, exit $rc;" \
	"stderr: $(head -2 "$W/kill.err")"
check_eq "loss: SIGKILL mid-storm: the writer had written 2 MB (the test's premise)" 1 \
	"$([ "$(stat -c %s "$W/kill.pcapng")" -ge 2000000 ] && echo 1)"
check_eq "loss: SIGKILL mid-storm: drops replayed, each whole (dport 9)" "1 9" \
	"$([ "$n" -gt 5000 ] && echo 1) $(sort -u "$W/kill.n" | tr '\n' ' ' | sed 's/ $//')"
if [ $rc -ne 0 ]; then
	check_grep "loss: SIGKILL mid-storm: only a cut last block stops the reader" \
		"truncated .* block" "$W/kill.err"
fi

# A hook that never gives way, while the writer thread has a storm to write: after INT INT and
# the grace, the watchdog writes out what -w holds, the queue's buffers first, and the file
# replays every drop up to the one the hook is stuck on.
cat >"$W/stuck.lua" <<'LUA'
local n = 0
function drop(e)
	n = n + 1
	if n == 1 then
		io.stdout:write("first\n")
		io.stdout:flush()
	end
	if n == 20000 then
		io.stderr:write("hook entered\n")
		while true do end
	end
end
LUA
rm -f "$W/out"
"$TCPDROP" --netns-id "$NETNS" --dport 9 --no-stack -w "$W/stuck.pcapng" -s "$W/stuck.lua" \
	-d 20 >"$W/out" 2>"$W/err" &
pid=$!
prime
"$IP" netns exec "$NS" "$BURST" -n 40000 -t 3 127.0.0.1 40002 127.0.0.1 9 >/dev/null
i=0
while [ $i -lt 100 ] && ! grep -q '^hook entered' "$W/err"; do
	sleep 0.1
	i=$((i + 1))
done
kill -INT $pid 2>/dev/null
sleep 0.3
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
"$TCPDROP" -r "$W/stuck.pcapng" -e 'print(1)' >"$W/stuck.n" 2>"$W/stuck.err"
n="$? $(wc -l <"$W/stuck.n" | tr -d ' ')"
echo "loss: stuck hook with -w: exit $rc, replay (exit, drops) $n; stderr: $(grep -v '^hook' "$W/err" | head -2)"
check_eq "loss: stuck hook with -w: rc 1, the recording written out" "1 1" \
	"$rc $(grep -c '^tcpdrop: a hook does not give way; the recording is written out' "$W/err")"
check_eq "loss: stuck hook with -w: the file replays, up to the stuck drop (20000) at least" \
	"0 yes" "$(echo "$n" | awk '{ print $1, ($2 >= 20000 ? "yes" : "no: " $2) }')"
