#!/bin/sh
# Kernel matrix smoke test: does each --probe mode attach on this kernel and see a real drop?
# Prints PASS/FAIL lines, one "PROBE ..." record per mode (support.sh builds the README table
# from them) and a readable table. Runs in the guests and on the host (POSIX sh, busybox).
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TOP/tests/lib.sh"

modes="tp_btf raw_tp tracepoint kprobe fentry"
port=${SMOKE_PORT:-47911}
tmp=$(mktemp -d "$TMPDIR/smoke.XXXXXX")
econn=""
# The held connection goes at exit, once no tracer runs: its close drops what is queued on it
# (QUEUE_PURGE, to a port every run here watches), which must not reach a run.
trap '[ -n "$econn" ] && kill "$econn" 2>/dev/null; rm -rf "$tmp"' EXIT
: "${TESTBIN:=$TOP/build/tests}"
kernel=$(uname -r)
bb=$(command -v busybox || echo busybox)

if [ "$(id -u)" != 0 ]; then
	fail "smoke root" "the smoke test attaches probes: run it as root"
	exit 0
fi

# A SYN to a port nobody listens on: the kernel drops it (NO_SOCKET where reasons exist).
knock() {
	"$bb" nc -w 1 127.0.0.1 "$port" </dev/null >/dev/null 2>&1
}

# Wait (at most $2 tenths of a second) until file $1 matches $3 or process $4 has exited.
wait_for() {
	n=0
	while [ "$n" -lt "$2" ]; do
		grep -q -- "$3" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# The user-facing line: tcpdrop's last own message (libbpf's chatter comes with -v too).
last_msg() {
	grep '^tcpdrop: ' "$1" | tail -n 1 | tr '\t' ' ' | sed 's/^tcpdrop: //'
}

# Let tcpdrop end by itself (-c 1) for up to 5 s, then stop it; return its exit status.
stop() {
	n=0
	while [ "$n" -lt 50 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		n=$((n + 1))
	done
	kill "$1" 2>/dev/null
	wait "$1"
}

record() {
	echo "PROBE kernel=$kernel mode=$1 attach=$2 event=$3 | $4"
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$tmp/table"
}

has_tcp_drop=no
grep -q ' tcp_drop$' /proc/kallsyms 2>/dev/null && has_tcp_drop=yes
# kprobe and fentry watch tcp_drop(), else tcp_validate_incoming() (an entry/exit pair that sees
# only the drops TCP makes there). Both need the kernel's function tracing: where kprobes exist
# so does fentry in every kernel seen (5.10, 6.1, 6.12 have both, the build machine neither).
fn_mode=no
if grep -q -e ' tcp_drop$' -e ' tcp_validate_incoming$' /proc/kallsyms 2>/dev/null &&
	[ -d /sys/bus/event_source/devices/kprobe ]; then
	fn_mode=yes
fi

# An ESTABLISHED connection on loopback (tests/helpers/tcpconn), to see what each mode shows for
# a segment far outside its window: which reason, and whether the socket's state is known. Held
# for tcpconn's longest (600 s), not 120: on a slow guest the modes' runs can outlast a shorter
# hold, and the connection's close would then drop a segment into whichever run is attached.
eport=$((port + 1))
if [ -x "$TESTBIN/tcpconn" ] && [ -x "$TESTBIN/segsend" ]; then
	"$TESTBIN/tcpconn" -t 600 estab - 127.0.0.1 "$eport" - 127.0.0.1 >"$tmp/conn" 2>&1 &
	econn=$!
	if wait_for "$tmp/conn" 50 ' ' "$econn" && read -r cport rcv snd <"$tmp/conn"; then
		:
	else
		echo "NOTE smoke: no ESTABLISHED connection ($(head -n 1 "$tmp/conn")); not measured"
		econn=""
	fi
else
	echo "NOTE smoke: $TESTBIN/tcpconn or segsend missing; ESTABLISHED drops not measured"
fi

out_of_window() {
	"$TESTBIN/segsend" 127.0.0.1 "$cport" 127.0.0.1 "$eport" A \
		$(((rcv + 1073741824) % 4294967296)) "$snd" >/dev/null 2>&1
}

for m in $modes; do
	out=$tmp/$m.out
	err=$tmp/$m.err
	"$TCPDROP" --probe "$m" -v --dport "$port" --dport "$eport" -c 2 -d 60 >"$out" 2>"$err" &
	pid=$!
	if wait_for "$err" 900 '^tcpdrop: probe: ' "$pid"; then
		# The pair alone does not see a SYN to a closed port: only the segment out of window.
		pair=no
		grep -q '^tcpdrop: probe: .* on tcp_validate_incoming (' "$err" && pair=yes
		if [ -n "$econn" ]; then
			out_of_window
			sleep 1
		fi
		i=0
		while [ $pair = no ] && [ "$i" -lt 10 ] && ! grep -q "> 127.0.0.1:$port " "$out"; do
			knock
			sleep 0.3
			i=$((i + 1))
		done
		stop "$pid"
		# Without TIME and PID, which change from run to run.
		line=$(grep "> 127.0.0.1:$port " "$out" | head -n 1 | tr -s ' ' | cut -d ' ' -f 3-)
		if [ -n "$econn" ]; then
			eline=$(grep "> 127.0.0.1:$eport " "$out" | head -n 1 | tr -s ' ' |
				sed 's/^[^ ]* [^ ]* [46] [^ ]* > [^ ]* //')
			echo "ESTAB kernel=$kernel mode=$m | ${eline:-not seen}"
		fi
		if [ $pair = yes ]; then
			if [ -n "$econn" ] && [ -n "$eline" ]; then
				record "$m" yes yes "on tcp_validate_incoming: $eline"
				pass "smoke $m attaches to tcp_validate_incoming and sees a drop there"
			else
				record "$m" yes no "on tcp_validate_incoming: no event for a segment out of window"
				why="saw no drop"
				[ -n "$econn" ] || why="had no ESTABLISHED connection to drop on"
				fail "smoke $m" "attached to tcp_validate_incoming but $why"
				sed 's/^/    /' "$err" | tail -n 5
			fi
		elif [ -n "$line" ]; then
			record "$m" yes yes "$line"
			pass "smoke $m attaches and sees a drop"
		else
			record "$m" yes no "no event for a SYN to a closed port"
			fail "smoke $m" "attached but saw no drop after 10 SYNs to 127.0.0.1:$port"
			sed 's/^/    /' "$err" | tail -n 5
		fi
		continue
	fi
	wait "$pid"
	rc=$?
	why=$(last_msg "$err")
	# A refusal must be one clear line without -v, and a plain failure exit.
	"$TCPDROP" --probe "$m" --dport "$port" -c 1 -d 1 >/dev/null 2>"$tmp/$m.quiet"
	qrc=$?
	nlines=$(wc -l <"$tmp/$m.quiet" | tr -d ' ')
	record "$m" no no "$why"
	case $m in
	tp_btf | raw_tp | tracepoint) must=yes ;;
	*) must=$fn_mode ;;
	esac
	if [ "$must" = yes ]; then
		fail "smoke $m" "did not attach (rc $rc): $why"
		grep -v '^tcpdrop: ' "$err" | tail -n 30 | sed 's/^/    /'
	elif [ "$rc" -ge 128 ] || [ "$qrc" -ge 128 ]; then
		fail "smoke $m" "crashed (rc $rc/$qrc): $why"
	elif [ "$qrc" -eq 0 ] || [ "$nlines" != 1 ]; then
		fail "smoke $m" "refusal should be one line and a failure exit, got rc $qrc and:"
		sed 's/^/    /' "$tmp/$m.quiet"
	else
		pass "smoke $m refused in one clear line"
	fi
done

# What the automatic choice is on this kernel, and what it shows of both drops.
"$TCPDROP" -v --dport "$port" --dport "$eport" -c 2 -d 60 >"$tmp/auto.out" 2>"$tmp/auto.err" &
pid=$!
if wait_for "$tmp/auto.err" 900 '^tcpdrop: probe: ' "$pid"; then
	if [ -n "$econn" ]; then
		out_of_window
		sleep 1
	fi
	i=0
	while [ "$i" -lt 10 ] && kill -0 "$pid" 2>/dev/null; do
		knock
		sleep 0.3
		i=$((i + 1))
	done
	stop "$pid"
	auto=$(grep '^tcpdrop: probe: ' "$tmp/auto.err" | head -n 1 | sed 's/^tcpdrop: probe: //')
	if [ -n "$econn" ]; then
		eline=$(grep "> 127.0.0.1:$eport " "$tmp/auto.out" | head -n 1 | tr -s ' ' |
			sed 's/^[^ ]* [^ ]* [46] [^ ]* > [^ ]* //')
		echo "ESTAB kernel=$kernel mode=auto | ${eline:-not seen}"
	fi
	record auto yes - "$auto"
	pass "smoke auto attaches"
else
	wait "$pid"
	record auto no - "$(last_msg "$tmp/auto.err")"
	fail "smoke auto" "no probe attached: $(last_msg "$tmp/auto.err")"
fi

[ -n "$econn" ] && kill "$econn" 2>/dev/null && wait "$econn" 2>/dev/null

# The kernel's own: not the listen overflows' reasons tcpdrop names, "NAME (tcpdrop)".
nreasons=$("$TCPDROP" --list-reasons 2>/dev/null | grep -v '^[A-Z0-9_]* (tcpdrop) ' | wc -l |
	tr -d ' ')
echo "REASONS kernel=$kernel count=$nreasons"

echo
echo "Probe modes on $kernel (tcp_drop in kallsyms: $has_tcp_drop; reasons listed: $nreasons)"
printf '%-11s %-7s %-6s %s\n' MODE ATTACH EVENT "OUTPUT OR WHY"
while IFS='	' read -r m a e w; do
	printf '%-11s %-7s %-6s %s\n' "$m" "$a" "$e" "$w"
done <"$tmp/table"
