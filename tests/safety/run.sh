#!/bin/sh
# Safe to leave running (issue 13): time at the limits of 64 bits, signals while a hook runs,
# SIGPIPE/HUP/QUIT/USR1, write errors on every output, closed standard descriptors, no false
# loss after -c. Every run is bounded (killed after 10 s): a hang is a FAIL, not a stuck suite.
. "$(dirname "$0")/../lib.sh"

W=$(mktemp -d)
NS=
cleanup() {
	[ -n "$NS" ] && "$IP" netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
MK="/usr/bin/python3 $TOP/tests/safety/mkpcap.py"

# bounded NAME CMD...: CMD with stdin $IN (default /dev/null), stdout $OUT (default NAME.out;
# "closed": none), stderr $ERR (default NAME.err), killed after 10 s (rc 137).
bounded() {
	name=$1
	shift
	out=${OUT:-$W/$name.out}
	if [ "$out" = closed ]; then
		"$@" <"${IN:-/dev/null}" 2>"${ERR:-$W/$name.err}" >&- &
	else
		"$@" <"${IN:-/dev/null}" >"$out" 2>"${ERR:-$W/$name.err}" &
	fi
	bpid=$!
	(sleep 10 && kill -9 $bpid) >/dev/null 2>&1 &
	gpid=$!
	wait $bpid
	rc=$?
	kill $gpid 2>/dev/null
}

# signalled NAME "SIG SIG..." DELAY CMD...: CMD in the background, the signals after DELAY s
# (0.3 s apart), bounded as above. Sets rc and secs (from the first signal to the end).
signalled() {
	name=$1 sigs=$2 delay=$3
	shift 3
	"$@" >"$W/$name.out" 2>"$W/$name.err" &
	bpid=$!
	(sleep 10 && kill -9 $bpid) >/dev/null 2>&1 &
	gpid=$!
	sleep "$delay"
	t0=$(date +%s%N)
	for sig in $sigs; do
		kill -"$sig" $bpid 2>/dev/null
		sleep 0.3
	done
	wait $bpid
	rc=$?
	secs=$((($(date +%s%N) - t0) / 1000000))
	kill $gpid 2>/dev/null
}

# --- 4. Timestamps near 2^64 ns: every place that adds time ----------------------------------
$MK "$W/max.pcapng" ts=max
bounded t4-max "$TCPDROP" -r "$W/max.pcapng" -i 1
check_eq "time: a drop at 2^64-1 ns with -i 1 ends (replay ticks)" "0 1" \
	"$rc $(grep -c 'SYN' "$W/t4-max.out")"

$MK "$W/near.pcapng" ts=max-1500000000 ts=max
cat >"$W/tick-n.lua" <<'LUA'
function drop(e) print("drop") end
function tick(n) print("tick " .. n) end
LUA
bounded t4-near "$TCPDROP" -r "$W/near.pcapng" -i 1 -s "$W/tick-n.lua"
check_eq "time: ticks stop at the end of time (the tick that would wrap never comes)" \
	"0 drop|tick 1|drop|" "$rc $(tr '\n' '|' <"$W/t4-near.out")"

$MK "$W/dur.pcapng" ts=max-1000000000 ts=max
bounded t4-dur "$TCPDROP" -r "$W/dur.pcapng" -d 5 -e 'print("drop")'
check_eq "time: -d past the end of time keeps every drop (replay stop time)" "0 2" \
	"$rc $(grep -c drop "$W/t4-dur.out")"

$MK "$W/end.pcapng" start=max-3500000000 end=max ts=max-3000000000
bounded t4-end "$TCPDROP" -r "$W/end.pcapng" -i 1 -s "$W/tick-n.lua"
check_eq "time: ticks to a recorded end at 2^64-1 ns (recorded start/end)" "0 3" \
	"$rc $(grep -c tick "$W/t4-end.out")"

$MK "$W/few.pcapng" ts=1700000000000000000 ts=1700000001000000000
for iv in 1e300 "math.huge" "0/0"; do
	printf 'function init() tcpdrop.interval(%s) end\nfunction tick(n) print("tick") end\n' \
		"$iv" >"$W/iv.lua"
	bounded t4-iv "$TCPDROP" -r "$W/few.pcapng" -e '' -s "$W/iv.lua"
	check_eq "time: tcpdrop.interval($iv) on replay (interval to ns)" "0 0" \
		"$rc $(grep -c tick "$W/t4-iv.out")"
done

echo 'ts=1e30' >"$W/feed1"
IN=$W/feed1 bounded t4-feed "$TESTBIN/feed" -e ''
check_grep "time: the feeder refuses ts= past 2^64 ns" "bad ts" "$W/t4-feed.err"
printf 'ts=18446744073.7\ndport=81\n' >"$W/feed2"
IN=$W/feed2 bounded t4-feed2 "$TESTBIN/feed" -s json
check_eq "time: the feeder's next ts= does not wrap" "0 18446744073" \
	"$rc $(sed -n '2s/.*"time":\([0-9]*\).*/\1/p' "$W/t4-feed2.out")"

# --- 5. Signals while a hook runs (replay; live below) --------------------------------------
$MK "$W/many.pcapng" ts=+3000,1700000000000000000,1000000
cat >"$W/slow.lua" <<'LUA'
local n = 0
function drop(e)
	n = n + 1
	local t = os.clock() + 0.01
	while os.clock() < t do end
end
function done(s) io.stderr:write("done: delivered " .. n .. "\n") end
LUA
cat >"$W/stuck.lua" <<'LUA'
function drop(e)
	local n = 0
	while true do n = n + #tostring({}) end -- leaves its trace: sees the interrupt
end
function done(s) io.stderr:write("done ran\n") end
LUA
cat >"$W/jit.lua" <<'LUA'
function drop(e) while true do end end -- one trace that never exits: no interrupt reaches it
function done(s) io.stderr:write("done ran\n") end
LUA

signalled t5-backlog INT 1 "$TCPDROP" -r "$W/many.pcapng" -s "$W/slow.lua"
if [ "$rc" = 0 ] && [ "$secs" -lt 2000 ] && grep -q "^done: delivered" "$W/t5-backlog.err" &&
	grep -q "^tcpdrop: [0-9]* drops not delivered: stopped$" "$W/t5-backlog.err"; then
	pass "signals: the first INT stops a slow hook's backlog; the rest is counted"
else
	fail "signals: backlog" "rc $rc after $secs ms: $(cat "$W/t5-backlog.err")"
fi
for c in INT:130 TERM:143; do
	signalled t5-int "${c%:*} ${c%:*}" 0.5 "$TCPDROP" -r "$W/many.pcapng" -s "$W/stuck.lua"
	check_eq "signals: a second ${c%:*} interrupts a looping hook, done runs (replay)" \
		"${c#*:} done ran 1" \
		"$rc $(grep -o 'done ran' "$W/t5-int.err") $(grep -c '^tcpdrop: interrupted' "$W/t5-int.err")"
done
signalled t5-jit "INT INT" 0.5 "$TCPDROP" -r "$W/many.pcapng" -s "$W/jit.lua"
if [ "$rc" = 1 ] && [ "$secs" -ge 1500 ] && [ "$secs" -lt 4000 ] &&
	grep -q "^tcpdrop: a hook does not give way" "$W/t5-jit.err"; then
	pass "signals: a compiled endless loop ends 2 s after the second INT, rc 1"
else
	fail "signals: jit second INT" "rc $rc after $secs ms: $(cat "$W/t5-jit.err")"
fi
signalled t5-jit3 "INT INT INT" 0.5 "$TCPDROP" -r "$W/many.pcapng" -s "$W/jit.lua"
check_eq "signals: a third INT ends a compiled endless loop at once" "1 yes" \
	"$rc $([ "$secs" -lt 1500 ] && echo yes || echo "no ($secs ms)")"

# --- 6. SIGPIPE, HUP, QUIT end it like TERM; USR1 asks how it stands -------------------------
cat >"$W/print.lua" <<'LUA'
function drop(e) print("drop") end
function done(s) io.stderr:write("done ran\n") end
LUA
("$TCPDROP" -r "$W/many.pcapng" -s "$W/print.lua" 2>"$W/t6-pipe.err"; echo $? >"$W/t6-pipe.rc") |
	head -1 >/dev/null
check_eq "signals: a reader gone (| head -1) ends it like TERM: done runs, rc 0" "0 done ran" \
	"$(cat "$W/t6-pipe.rc") $(cat "$W/t6-pipe.err")"
for s in HUP QUIT TERM; do
	signalled t6-$s $s 0.5 "$TCPDROP" -r "$W/many.pcapng" -s "$W/slow.lua"
	check_eq "signals: $s ends it: done runs, rc 0" "0 1" \
		"$rc $(grep -c '^done: delivered' "$W/t6-$s.err")"
done
signalled t6-usr1 "USR1 INT" 0.5 "$TCPDROP" -r "$W/many.pcapng" -s "$W/slow.lua"
check_grep "signals: USR1 prints one status line" \
	"^tcpdrop: [0-9]* seen, [0-9]* passed, [0-9]* lost, [0-9.]* s$" "$W/t6-usr1.err"

# --- 7. Write errors: every output path ------------------------------------------------------
ENOSPC="tcpdrop: standard output: No space left on device"
cat >"$W/tick.lua" <<'LUA'
function drop(e) count(e.dport) end
LUA
cat >"$W/done.lua" <<'LUA'
function drop(e) count(e.dport) end
function done(s) end
LUA
for c in "default|" "classic|-s classic" "json|-s json" "print|-e print(1)" \
	"printf|-e printf('%d',1)" "io.write|-e io.write(1)" "script|-s $W/print.lua" \
	"tick table|-i 0.001 -s $W/tick.lua" "done table|-s $W/done.lua"; do
	what=${c%%|*}
	# shellcheck disable=SC2086 # the options are words
	OUT=/dev/full bounded t7 "$TCPDROP" -r "$W/many.pcapng" ${c#*|}
	lines=$(grep -c . "$W/t7.err")
	if [ "$rc" = 1 ] && [ "$(grep -c "^$ENOSPC$" "$W/t7.err")" = 1 ]; then
		pass "write errors: $what"
	else
		fail "write errors: $what" "rc $rc, $lines lines: $(head -3 "$W/t7.err")"
	fi
done
OUT=closed bounded t7-closed "$TCPDROP" -r "$W/many.pcapng"
check_eq "write errors: a closed stdout" "1 tcpdrop: standard output: Bad file descriptor" \
	"$rc $(cat "$W/t7-closed.err")"
/usr/bin/python3 -c '
import signal, subprocess, sys
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     restore_signals=False)
p.stdout.readline()
p.stdout.close()
err = p.stderr.read().decode()
print(p.wait(), err.strip())' "$TCPDROP" -r "$W/many.pcapng" >"$W/t7-ign.out" 2>&1 &
ppid=$!
(sleep 10 && kill -9 $ppid) >/dev/null 2>&1 &
wait $ppid
check_eq "write errors: a reader gone, SIGPIPE ignored" \
	"1 tcpdrop: standard output: Broken pipe" "$(cat "$W/t7-ign.out")"
ERR=/dev/full bounded t7-stderr "$TCPDROP" -r "$W/many.pcapng" --keep-going -e 'error("x")'
check_eq "write errors: a failing stderr neither loops nor crashes" 1 "$rc"

# --- 20. The end of a replay that never started ----------------------------------------------
printf 'function init() tcpdrop.exit() end\nfunction done(s) print(s.elapsed) end\n' >"$W/ex.lua"
bounded t20 "$TCPDROP" -r "$W/many.pcapng" -s "$W/ex.lua"
check_eq "end: a script that exits in init reports 0 s elapsed" "0 0" "$rc $(tail -1 "$W/t20.out")"
