#!/bin/sh
# Listen overflows and the coverage table (root, live): a listener with backlog 0 in a namespace
# made here and a bounded burst of connects. Where this kernel offers a probe for them (fentry or
# kprobes: the qemu guests), exactly as many listen-overflow events as the kernel's MIB counts,
# v4 and v6, each with the listener's port, and the SYN-queue ones apart (syncookies off); where
# it offers none (the build machine), --coverage reports the MIB's delta as counted but not
# traced. POSIX sh, also busybox sh.
. "$(dirname "$0")/../lib.sh"

NEEDS="grep sed awk cat mktemp mkfifo"
echo "coverage: needs ip (iproute2), $NEEDS and $TESTBIN/{listenburst,segsend,tdutil}"
need_live coverage "$NEEDS" "$TCPDROP" "$TESTBIN/listenburst" "$TESTBIN/segsend" \
	"$TESTBIN/tdutil" || exit 1
BURST=$TESTBIN/listenburst
SEGSEND=$TESTBIN/segsend
TDUTIL=$TESTBIN/tdutil

ID=$$
NS=tdcov-$ID
W=$(mktemp -d "$TMPDIR/tcpdrop-coverage.XXXXXX") || exit 1
TD=""
cleanup() {
	[ -n "$TD" ] && kill "$TD" 2>/dev/null
	"$IP" netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A veth pair inside the namespace takes the SYN-ACKs to 10.77.0.0/24 (no one answers there):
# SYNs sent from there stay in the SYN queue. 127.0.0.1 may answer them out of lo only with
# route_localnet.
if ! { "$IP" netns add "$NS" && "$IP" -n "$NS" link set lo up &&
	"$IP" -n "$NS" link add tdcv0 type veth peer name tdcv1 &&
	"$IP" -n "$NS" link set tdcv0 up && "$IP" -n "$NS" link set tdcv1 up &&
	"$IP" -n "$NS" route add 10.77.0.0/24 dev tdcv0 &&
	"$IP" netns exec "$NS" sh -c 'for f in /proc/sys/net/ipv4/conf/*/route_localnet; do
		echo 1 >"$f"; done'; } >"$W/setup.err" 2>&1; then
	fail coverage-setup "network namespace: $(head -3 "$W/setup.err")"
	exit 1
fi
INO=$("$TDUTIL" ino "/var/run/netns/$NS")

# counter NAME: the namespace's own value of a /proc/net/netstat counter (TcpExtListenOverflows).
counter() {
	"$IP" netns exec "$NS" cat /proc/net/netstat |
		awk -v want="$1" '
			$1 == prev { for (i = 2; i <= NF; i++) if (g names[i] == want) print $i }
			{ prev = $1; g = substr($1, 1, length($1) - 1); for (i = 2; i <= NF; i++) names[i] = $i }'
}

# start NAME ARGS...: tcpdrop -v ARGS in the background, its output in $W/NAME.{out,err}, back
# once it says what its listen probes are (at most 30 s: a slow guest's verifier).
start() {
	name=$1
	shift
	: >"$W/$name.err"
	"$TCPDROP" -v "$@" >"$W/$name.out" 2>>"$W/$name.err" &
	TD=$!
	n=0
	while [ "$n" -lt 300 ] && ! grep -q 'listen overflows: ' "$W/$name.err"; do
		kill -0 "$TD" 2>/dev/null || break
		"$TDUTIL" sleep 0.1
		n=$((n + 1))
	done
	grep -q 'listen overflows: ' "$W/$name.err"
}

# stop: end the run with SIGINT (done runs, the table is printed) and wait for it.
stop() {
	kill -INT "$TD" 2>/dev/null
	wait "$TD"
	rc=$?
	TD=""
	return $rc
}

# synburst PORT COUNT: with syncookies off, COUNT SYNs from 10.77.0.5 (ports 41001...) to a
# listener with backlog 0 at 127.0.0.1:PORT that never answers them: all but the first find
# the SYN queue full (or all, where the kernel's check is >=).
synburst() {
	rm -f "$W/hold"
	mkfifo "$W/hold" || return 1
	exec 3<>"$W/hold"
	"$BURST" -k -n 0 "$NS" "$1" <"$W/hold" >"$W/hold.out" 2>&1 &
	hold=$!
	"$TDUTIL" waitfor "$W/hold.out" listening 10 >/dev/null 2>&1
	i=1
	while [ "$i" -le "$2" ]; do
		"$IP" netns exec "$NS" "$SEGSEND" 10.77.0.5 $((41000 + i)) 127.0.0.1 "$1" S
		i=$((i + 1))
	done
	exec 3>&-
	wait "$hold"
}

# What this kernel should offer: fentry (BPF trampolines) or kprobes on tcp_conn_request.
probed=no
if grep -q ' tcp_conn_request$' /proc/kallsyms 2>/dev/null &&
	[ -d /sys/bus/event_source/devices/kprobe ]; then
	probed=yes
fi

if [ "$probed" = yes ]; then
	# ---- Events, exactly as the MIB counts them: v4, v6, then the SYN queue -----------------
	EV='print(e.reason .. "|" .. e.dport .. "|" .. e.family .. "|" .. e.state)'
	for fam in 4 6; do
		flag=""
		[ "$fam" = 6 ] && flag=-6
		port=$((8100 + fam))
		o0=$(counter TcpExtListenOverflows)
		if ! start "ev$fam" --no-stack --netns-id "$INO" -e "$EV"; then
			fail "v$fam: tcpdrop attaches" "$(tail -n 3 "$W/ev$fam.err")"
			stop
			continue
		fi
		check_grep "v$fam: -v names the SYNs' probe" \
			'listen overflows: the SYNs (tcp_conn_request): \(fentry/fexit\|kprobe/kretprobe\)' \
			"$W/ev$fam.err"
		"$BURST" $flag -n 40 "$NS" "$port" >"$W/burst$fam.out" 2>&1
		check_grep "v$fam: the burst ran" "^connects 40\$" "$W/burst$fam.out"
		stop
		check_eq "v$fam: tcpdrop ends cleanly" 0 "$?"
		o1=$(counter TcpExtListenOverflows)
		delta=$((o1 - o0))
		got=$(grep -c -e '^TCP_LISTEN_OVERFLOW|' -e '^LISTEN_OVERFLOW (tcpdrop)|' "$W/ev$fam.out")
		check_eq "v$fam: as many overflow events as the MIB counts" "$delta" "$got"
		# What was traced instead, to tell a missed SYN from a missed final ACK.
		[ "$delta" = "$got" ] || cut -d'|' -f1,4 "$W/ev$fam.out" | sort | uniq -c | sed 's/^/    /'

		check_eq "v$fam: the burst overflowed" 1 "$([ "$delta" -ge 20 ] && echo 1)"
		# The SYNs' at the listener itself; a final ACK's at its request socket (or none).
		others=$(grep -e 'LISTEN_OVERFLOW' "$W/ev$fam.out" | grep -v -c "|$port|$fam|")
		check_eq "v$fam: each at the listener's port and family" 0 "$others"
		check_eq "v$fam: the SYNs' at the listener (LISTEN)" 1 \
			"$(grep -q "LISTEN_OVERFLOW.*|$port|$fam|LISTEN\$" "$W/ev$fam.out" && echo 1)"
	done

	# ---- Counted in the kernel (no event reaches user space): the same overflows, and the
	# coverage report still knows them traced, from its own kernel table.
	o0=$(counter TcpExtListenOverflows)
	if start kc --no-stack --netns-id "$INO" -e 'count(e.reason)'; then
		"$BURST" -n 40 "$NS" 8112 >"$W/burstkc.out" 2>&1
		stop
		o1=$(counter TcpExtListenOverflows)
		check_grep "kernel-counted: -v says so" "counted in the kernel (keys: reason" "$W/kc.err"
		got=$(awk '/LISTEN_OVERFLOW/ { n += $NF } END { print n + 0 }' "$W/kc.out")
		check_eq "kernel-counted: the overflows, exactly as the MIB counts" "$((o1 - o0))" "$got"
		check_nogrep "kernel-counted: coverage knows them traced" \
			"counted by the kernel, 0 traced" "$W/kc.err"
	else
		fail "kernel-counted: tcpdrop attaches" "$(tail -n 3 "$W/kc.err")"
		stop
	fi

	# Syncookies off: a full SYN queue drops the SYN (TCPReqQFullDrop), apart from overflows.
	"$IP" netns exec "$NS" sh -c 'echo 0 >/proc/sys/net/ipv4/tcp_syncookies'
	q0=$(counter TcpExtTCPReqQFullDrop)
	o0=$(counter TcpExtListenOverflows)
	if start synq --no-stack --netns-id "$INO" -e "$EV"; then
		synburst 8110 20
		stop
		q1=$(counter TcpExtTCPReqQFullDrop)
		o1=$(counter TcpExtListenOverflows)
		got=$(grep -c '^SYN_QUEUE_FULL (tcpdrop)|8110|4|LISTEN$' "$W/synq.out")
		check_eq "syncookies off: as many SYN-queue events as the MIB counts" "$((q1 - q0))" "$got"
		check_eq "syncookies off: the SYN queue overflowed" 1 "$([ $((q1 - q0)) -ge 1 ] && echo 1)"
		got=$(grep -c -e '^TCP_LISTEN_OVERFLOW|' -e '^LISTEN_OVERFLOW (tcpdrop)|' "$W/synq.out")
		check_eq "syncookies off: and the overflows apart" "$((o1 - o0))" "$got"
	else
		fail "syncookies off: tcpdrop attaches" "$(tail -n 3 "$W/synq.err")"
		stop
	fi
	"$IP" netns exec "$NS" sh -c 'echo 1 >/proc/sys/net/ipv4/tcp_syncookies'
fi

# ---- The coverage table: the MIB's delta, and what was traced of it ------------------------
o0=$(counter TcpExtListenOverflows)
if start cov --coverage --netns-id "$INO"; then
	"$BURST" -n 30 "$NS" 8120 >/dev/null 2>&1
	stop
	check_eq "--coverage ends cleanly" 0 "$?"
else
	fail "--coverage attaches" "$(tail -n 3 "$W/cov.err")"
	stop
fi
o1=$(counter TcpExtListenOverflows)
delta=$((o1 - o0))
check_grep "--coverage: one header" "^NETNS  *COUNTER  *KERNEL  *TRACED  *VERDICT\$" "$W/cov.out"
row=$(grep "^$INO  TcpExtListenOverflows " "$W/cov.out")
kernel=$(echo "$row" | awk '{ print $3 }')
traced=$(echo "$row" | awk '{ print $4 }')
check_eq "--coverage: the kernel's overflows, exactly" "$delta" "$kernel"
check_eq "--coverage: the burst overflowed" 1 "$([ "${delta:-0}" -ge 20 ] && echo 1)"
check_nogrep "--coverage: no drop printed" "^[0-9][0-9]:[0-9][0-9]:" "$W/cov.out"
if [ "$probed" = yes ]; then
	check_eq "--coverage: each one traced" "$delta" "$traced"
	check_eq "--coverage: matched" "matched" "$(echo "$row" | awk '{ print $5 }')"
else
	# This kernel frees the SYNs unseen; since 6.15 it names the final ACKs' (kfree_skb).
	check_eq "--coverage: counted and not traced" \
		"not traced: no probe on this kernel sees these" "$(echo "$row" | cut -d' ' -f5- |
		sed 's/^ *[0-9]* *[0-9]* *//')"
	check_grep "--coverage: in words" \
		"^$kernel listen overflows counted by the kernel, $traced traced: this kernel offers no probe for" \
		"$W/cov.out"
	check_grep "-v: no probe for the SYNs, in one line" \
		'listen overflows: the SYNs (tcp_conn_request): no probe (fentry/fexit: .*; kprobe/kretprobe: .*)' \
		"$W/cov.err"
	check_nogrep "-v: not an error" "^tcpdrop: no usable probe" "$W/cov.err"

	# Without --coverage: the counted-not-traced line on stderr at the end, and the SYN queue.
	"$IP" netns exec "$NS" sh -c 'echo 0 >/proc/sys/net/ipv4/tcp_syncookies'
	q0=$(counter TcpExtTCPReqQFullDrop)
	if start synq --netns-id "$INO" -e ''; then
		synburst 8130 20
		stop
	else
		fail "syncookies off: tcpdrop attaches" "$(tail -n 3 "$W/synq.err")"
		stop
	fi
	"$IP" netns exec "$NS" sh -c 'echo 1 >/proc/sys/net/ipv4/tcp_syncookies'
	q=$(($(counter TcpExtTCPReqQFullDrop) - q0))
	check_eq "syncookies off: the SYN queue overflowed" 1 "$([ "$q" -ge 1 ] && echo 1)"
	check_grep "at the end: the SYN-queue drops, counted and not traced" \
		"^tcpdrop: $q SYNs dropped on a full SYN queue counted by the kernel, 0 traced: this kernel offers no probe for them (netns $INO;" \
		"$W/synq.err"
fi

# ---- Which reasons --explain describes (no root needed; the list of 5.10, 6.1, 6.12, 6.18) --
sh "$(dirname "$0")/reasons.sh"
