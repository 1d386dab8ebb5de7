#!/bin/sh
# How drops reach the reader (root, live): the probe wakes it once a ring fills past its threshold,
# else the poll timer reads them. With the timer pushed out to 60 s (TCPDROP_POLL_MS, a knob for
# tests), a few drops wait until exit while a burst arrives at once; with the default timer, the
# few arrive within ~50 ms. POSIX sh, also busybox sh.
. "$(dirname "$0")/../lib.sh"

NEEDS="grep sed sort head tail cp mktemp id env taskset"
echo "wakeup: needs ip (iproute2), $NEEDS, $TCPDROP and $TESTBIN/{segsend,tdutil}"

need_live wakeup "$NEEDS" "$TCPDROP" "$TESTBIN/segsend" "$TESTBIN/tdutil" || exit 1
SEGSEND=$TESTBIN/segsend
unset TCPDROP_POLL_MS
TDUTIL=$TESTBIN/tdutil

# Drops of this run only: SYNs to a closed port on the loopback of a namespace made here. Each
# SYN is two drops (the SYN, then the RST|ACK it draws), 10 ms apart from the next SYN.
NS=tdwake$$
PORT=9
W=$(mktemp -d "$TMPDIR/tcpdrop-wakeup.XXXXXX") || exit 1
tpid=""
cleanup() {
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null
	"$IP" netns del "$NS" 2>/dev/null
	if [ -n "${WAKEUP_KEEP:-}" ]; then
		echo "wakeup: outputs kept in $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! { "$IP" netns add "$NS" && "$IP" -n "$NS" link set lo up; } >"$W/setup.err" 2>&1; then
	fail wakeup-setup "network namespace $NS: $(head -3 "$W/setup.err")"
	exit 1
fi
NETNS=$("$TDUTIL" ino "/var/run/netns/$NS")
MINE="--netns-id $NETNS --port $PORT"

# syns SPORT COUNT: COUNT SYNs from one CPU, so that all their drops go to that CPU's ring.
syns() {
	"$IP" netns exec "$NS" taskset -c 0 "$SEGSEND" -n "$2" 127.0.0.1 "$1" 127.0.0.1 $PORT S
}

# Each drop as "drop CPU SPORT DPORT MS", MS its age when the script saw it: wall clock now
# minus the drop's kernel time (e.time), both CLOCK_REALTIME.
cat >"$W/age.lua" <<'EOF'
local ffi = require("ffi")
ffi.cdef [[
struct wakeup_ts { long sec; long nsec; };
int clock_gettime(int clk, struct wakeup_ts *ts);
]]
local ts = ffi.new("struct wakeup_ts")

local function age_ms(e)
	ffi.C.clock_gettime(0, ts)
	return ((tonumber(ts.sec) + tonumber(ts.nsec) / 1e9) - e.time) * 1000
end

function init()
	print("attached")
end

function drop(e)
	print(string.format("drop %d %d %d %.3f", e.cpu, e.sport, e.dport, age_ms(e)))
end

function done(s)
	print(string.format("done seen %d lost %d", s.seen, s.lost))
end
EOF

# start NAME TEXT ARGS...: tcpdrop in the background under a watchdog, output in $W/NAME.*;
# returns once TEXT is out (printed by init() or the header, so the probe is attached). Extra
# environment: $ENV_POLL.
start() {
	run=$1
	text=$2
	shift 2
	env ${ENV_POLL:-} "$TDUTIL" timeout 30 "$TCPDROP" "$@" >"$W/$run.out" 2>"$W/$run.err" &
	tpid=$!
	if ! "$TDUTIL" waitfor "$W/$run.out" "$text" 10 $tpid; then
		fail "$run: attach" "no '$text' within 10 s: $(head -3 "$W/$run.err")"
		stop
		return 1
	fi
}

# stop: SIGINT (the watchdog passes it on), then wait; the exit code in $rc.
stop() {
	kill -INT $tpid 2>/dev/null
	wait $tpid
	rc=$?
	tpid=""
}

rows() {
	grep -c '^drop ' "$1"
}

# ---- A bad value is one clear line -------------------------------------------------------------

for v in abc 0 -1 10x 3600001; do
	TCPDROP_POLL_MS=$v "$TDUTIL" timeout 10 "$TCPDROP" -d 1 $MINE >"$W/bad.out" 2>"$W/bad.err"
	check_eq "TCPDROP_POLL_MS=$v: exit 2" 2 "$?"
	check_eq "TCPDROP_POLL_MS=$v: one line on stderr" 1 "$(grep -c . "$W/bad.err")"
	check_grep "TCPDROP_POLL_MS=$v: names the variable" "^tcpdrop: TCPDROP_POLL_MS: '$v'" \
		"$W/bad.err"
	check_eq "TCPDROP_POLL_MS=$v: nothing on stdout" "" "$(head -1 "$W/bad.out")"
done

# ---- Below the threshold, with the timer out of the way: nothing until exit --------------------

# A 4 KiB ring wakes the reader past 1 KiB: three SYNs make six 136-byte records, 816 bytes.
ENV_POLL=TCPDROP_POLL_MS=60000
if start below attached --ring-kb 4 --no-stack $MINE -s "$W/age.lua"; then
	syns 40001 3
	"$TDUTIL" sleep 1
	cp "$W/below.out" "$W/below.before"
	stop
	check_eq "below threshold, 60 s timer: exit code" 0 "$rc"
	check_eq "below threshold, 60 s timer: nothing shown while running (1 s)" 0 \
		"$(rows "$W/below.before")"
	check_eq "below threshold, 60 s timer: all 6 drops shown at exit" 6 "$(rows "$W/below.out")"
	check_eq "below threshold, 60 s timer: counts" "done seen 6 lost 0" \
		"$(grep '^done ' "$W/below.out")"
fi

# ---- Past the threshold: the probe's wake-up, not the timer, brings the drops ------------------

# 50 SYNs, 100 records, one CPU: without wake-ups its 4 KiB ring (30 records) would overflow and
# nothing would show for 60 s. Each wake-up reads all that waits; only the tail after the last
# one waits for the exit.
BURST=50

# burst RUN LABEL PORT ARGS...: BURST SYNs to PORT, the timer at 60 s; the probe's wake-ups
# must bring them while tracing, none lost.
burst() {
	label=$2
	port=$3
	run=$1
	shift 3
	start "$run" attached "$@" $MINE -s "$W/age.lua" || return
	syns "$port" $BURST
	# Bounded: 3 s after the last SYN, against the timer's 60 s.
	i=0
	while [ "$(rows "$W/$run.out")" -lt $BURST ] && [ $i -lt 30 ]; do
		"$TDUTIL" sleep 0.1
		i=$((i + 1))
	done
	cp "$W/$run.out" "$W/$run.before"
	stop
	shown=$(rows "$W/$run.before")
	oldest=$(sed -n 's/^drop [0-9]* [0-9]* [0-9]* //p' "$W/$run.before" | sort -n | tail -1)
	echo "wakeup: 60 s timer, $label of $((2 * BURST)) drops: $shown shown while running, the oldest ${oldest:-?} ms old when read"
	check_eq "$label, 60 s timer: exit code" 0 "$rc"
	check_eq "$label, 60 s timer: at least half shown within 3 s, before exit" 1 \
		"$([ "$shown" -ge $BURST ] && echo 1)"
	check_eq "$label, 60 s timer: those were read within 1 s of their drop" 1 \
		"$([ -n "$oldest" ] && [ "${oldest%.*}" -lt 1000 ] && echo 1)"
	check_eq "$label, 60 s timer: all shown by exit, none lost" \
		"$((2 * BURST)) done seen $((2 * BURST)) lost 0" \
		"$(rows "$W/$run.out") $(grep '^done ' "$W/$run.out")"
}

burst burst burst 40002 --ring-kb 4 --no-stack
# The same with every stack taken: records of ~300 bytes, so the 4 KiB ring holds about 13, fewer
# than the 16 events between two looks at the fill that records without a stack get.
burst stacks "burst with stacks" 40003 --ring-kb 4 --stack-rate 0

# ---- The default timer alone: a few drops within ~50 ms --------------------------------------

# The real printer (bcc rows with stacks) and the default ring, far from its threshold; the
# filter notes each drop's age as the printer gets it, done() prints the worst and the median.
# The first stack printed waits for the kernel's symbols to load (once, at start): a first drop
# is printed before the measured ones, and its age is only reported.
cat >"$W/timer.lua" <<'EOF'
local ffi = require("ffi")
ffi.cdef [[
struct wakeup_ts { long sec; long nsec; };
int clock_gettime(int clk, struct wakeup_ts *ts);
]]
local ts = ffi.new("struct wakeup_ts")
local ages, first = {}, {}

function filter(e)
	ffi.C.clock_gettime(0, ts)
	local t = (e.sport == 40003 or e.dport == 40003) and ages or first
	t[#t + 1] = ((tonumber(ts.sec) + tonumber(ts.nsec) / 1e9) - e.time) * 1000
	return true
end

local function summary(name, t)
	table.sort(t)
	local n = #t
	print(string.format("%s n %d median %.1f max %.1f ms", name, n,
		n > 0 and t[math.floor((n + 1) / 2)] or -1, n > 0 and t[n] or -1))
end

function done(s)
	summary("first", first)
	summary("ages", ages)
end
EOF
ENV_POLL=""
NT=20
if start timer TIME $MINE -s "$W/timer.lua"; then
	syns 40004 1
	if ! "$TDUTIL" waitfor "$W/timer.out" "127.0.0.1:40004 " 5 $tpid; then
		fail "default timer: a first drop" "not shown within 5 s"
	fi
	# 0.1 s after the last SYN, against 10 ms: the timer has read them.
	syns 40003 $NT
	"$TDUTIL" sleep 0.1
	cp "$W/timer.out" "$W/timer.before"
	stop
	check_eq "default timer: exit code" 0 "$rc"
	check_eq "default timer: all $((2 * NT)) drops shown while running" $((2 * NT)) \
		"$(grep -c "127\.0\.0\.1:40003 " "$W/timer.before")"
	line=$(grep '^ages ' "$W/timer.out")
	first=$(sed -n 's/^first n [0-9]* median [0-9.]* max //p' "$W/timer.out")
	echo "wakeup: default 10 ms timer, $((2 * NT)) drops 10 ms apart, age when read: ${line#ages }; the first drop (symbols loading): at most $first"
	max=$(echo "$line" | sed -n 's/^ages n [0-9]* median [0-9.]* max \([0-9]*\)\.[0-9]* ms$/\1/p')
	check_eq "default timer: every drop read within 50 ms" 1 \
		"$([ -n "$max" ] && [ "$max" -lt 50 ] && echo 1)"
fi
