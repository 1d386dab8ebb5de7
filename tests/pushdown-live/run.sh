#!/bin/sh
# Aggregations counted in the kernel, live (root): known drops made in two namespaces this test
# creates; each one-liner counted in the kernel prints exactly their counts, and exactly what the
# same one-liner prints with --no-kernel-count, the two tracers attached at once to the same drops.
# No timing: each tracer is asked (SIGUSR1) until it has counted or seen every drop sent.
. "$(dirname "$0")/../lib.sh"

NEEDS="sed grep sort head cat cmp mktemp id awk"
missing=""
NFT=$(find_cmd nft -v nftables) || missing=" nft"
need_live pushdown-live "$NEEDS" "$TCPDROP" "$TESTBIN/segsend" "$TESTBIN/tdutil" \
	"$TESTBIN/feed" || exit 1
SEGSEND=$TESTBIN/segsend
TDUTIL=$TESTBIN/tdutil
FEED=$TESTBIN/feed

ID=$$
NSA=tdkc-a-$ID
NSB=tdkc-b-$ID
o2=$((ID % 250 + 1))
o3=$((ID / 250 % 250 + 1))
A4=10.$o2.$o3.1
B4=10.$o2.$o3.2
A6=fd00:$o2:$o3::1
B6=fd00:$o2:$o3::2
# Only the drops of these addresses count (an in-kernel filter): nothing else on the machine.
MINE="--addr 10.$o2.$o3.0/24 --addr fd00:$o2:$o3::/64"
CLOSED=9
NFPORT=7
W=$(mktemp -d "$TMPDIR/tcpdrop-kclive.XXXXXX") || exit 1
PIDS=""

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	"$IP" netns del "$NSA" 2>/dev/null
	"$IP" netns del "$NSB" 2>/dev/null
	if [ -n "${LIVE_KEEP:-}" ]; then
		echo "pushdown-live: outputs kept in $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ina() { "$IP" netns exec "$NSA" "$@"; }
inb() { "$IP" netns exec "$NSB" "$@"; }

setup() {
	"$IP" netns add "$NSA" && "$IP" netns add "$NSB" &&
		"$IP" link add "tdka$ID" netns "$NSA" type veth peer name "tdkb$ID" netns "$NSB" &&
		"$IP" -n "$NSA" addr add "$A4/24" dev "tdka$ID" &&
		"$IP" -n "$NSB" addr add "$B4/24" dev "tdkb$ID" &&
		"$IP" -n "$NSA" addr add "$A6/64" dev "tdka$ID" nodad &&
		"$IP" -n "$NSB" addr add "$B6/64" dev "tdkb$ID" nodad &&
		"$IP" -n "$NSA" link set lo up && "$IP" -n "$NSB" link set lo up &&
		"$IP" -n "$NSA" link set "tdka$ID" up && "$IP" -n "$NSB" link set "tdkb$ID" up &&
		inb "$NFT" -f - <<EOF
table inet tdkc {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport $NFPORT drop
	}
}
EOF
}
if ! setup >"$W/setup.err" 2>&1; then
	fail pushdown-live-setup "namespaces, veth or nft rule: $(head -3 "$W/setup.err")"
	exit 1
fi
pass "pushdown-live-setup: namespaces $NSA, $NSB, veth, nft rule"

"$TCPDROP" --list-reasons >"$W/reasons" 2>&1
reason() { sed -n "s/^\($1\)  *[0-9][0-9]* .*/\1/p" "$W/reasons"; }
R_NOSOCK=$(reason NO_SOCKET)
R_NF=$(reason NETFILTER_DROP)
if [ -z "$R_NOSOCK" ] || [ -z "$R_NF" ]; then
	fail pushdown-live-reasons "this kernel names no NO_SOCKET or NETFILTER_DROP reason"
	exit 1
fi

# tracer NAME ARGS...: tcpdrop in the background, a watchdog bounding it to 90 s (signals go to
# tcpdrop itself: SIGUSR1 asks how it stands).
tracer() {
	name=$1
	shift
	"$TCPDROP" -v $MINE "$@" >"$W/$name.out" 2>"$W/$name.err" &
	eval "pid_$name=$!"
	PIDS="$PIDS $!"
	("$TDUTIL" sleep 90 && kill -9 $!) >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	NAMES="${NAMES:-} $name"
}

# The pairs: counted in the kernel, and from the events.
EXPRS="rp|count(e.reason, e.dport)
addr|count(e.saddr, e.daddr, e.family)
sum|sum(e.len, e.reason, e.flags)
misc|count(e.netns, e.ifindex, e.state, e.sport, e.cpu)
two|count(e.reason); sum(e.len, e.family)
top|top(3, e.reason, e.sport)"
echo "$EXPRS" | while IFS='|' read -r n e; do echo "$n"; done >"$W/names"
while IFS='|' read -r n e; do
	tracer "k_$n" -e "$e"
	tracer "u_$n" --no-kernel-count -e "$e"
done <<EOF
$EXPRS
EOF
tracer k_over --max-keys 2 -e 'count(e.sport)'
tracer u_over --max-keys 2 --no-kernel-count -e 'count(e.sport)'
# Under --user: the tables are read without root, as the rings are.
tracer k_user --user nobody -e 'count(e.reason, e.dport)'
tracer k_prom -s prom -- file=-
tracer u_prom --no-kernel-count -s prom -- file=-

for n in $NAMES; do
	eval "p=\$pid_$n"
	if ! "$TDUTIL" waitfor "$W/$n.err" "probe: " 30 "$p"; then
		fail "pushdown-live-attach-$n" "not attached: $(head -3 "$W/$n.err")"
		exit 1
	fi
done
pass "pushdown-live-attach: $(echo $NAMES | wc -w) tracers"

# The drops: SYNs to a closed port (B drops each, no socket; A drops B's RST|ACK), v4 and v6;
# SYNs B's nft rule drops; single SYNs from ten source ports.
ina "$SEGSEND" -n 30 "$A4" 40001 "$B4" $CLOSED S
ina "$SEGSEND" -n 20 "$A6" 40002 "$B6" $CLOSED S
ina "$SEGSEND" -n 10 "$A4" 40003 "$B4" $NFPORT S
ina "$SEGSEND" -n 5 "$A6" 40004 "$B6" $NFPORT S
p=41001
while [ $p -le 41010 ]; do
	ina "$SEGSEND" "$A4" $p "$B4" $CLOSED S
	p=$((p + 1))
done
TOTAL=135 # 2 * 30 + 2 * 20 + 10 + 5 + 2 * 10

# Ask each tracer how it stands until it has every drop (counted in the kernel, or seen), at
# most 20 s; then stop it.
status() { # NAME: the count of its last status line
	sed -n 's/^tcpdrop: \([0-9]*\) counted in the kernel, .*/\1/p; s/^tcpdrop: \([0-9]*\) seen, .*/\1/p' \
		"$W/$1.err" | tail -1
}
for n in $NAMES; do
	eval "p=\$pid_$n"
	i=0
	while [ $i -lt 200 ]; do
		kill -USR1 "$p" 2>/dev/null
		"$TDUTIL" sleep 0.1
		[ "$(status "$n")" = $TOTAL ] && break
		i=$((i + 1))
	done
	check_eq "pushdown-live-$n: every drop reached it" $TOTAL "$(status "$n")"
done
for n in $NAMES; do
	eval "p=\$pid_$n"
	kill -INT "$p" 2>/dev/null
	wait "$p"
	check_eq "pushdown-live-$n: exit 0" 0 $?
done

# The exact counts, from the same drops described to the test feeder (Linux 6.18's names).
{
	i=0
	while [ $i -lt 60 ]; do echo "reason=$R_NOSOCK dport=$CLOSED"; i=$((i + 1)); done
	i=0
	while [ $i -lt 30 ]; do echo "reason=$R_NOSOCK dport=40001"; i=$((i + 1)); done
	i=0
	while [ $i -lt 20 ]; do echo "reason=$R_NOSOCK dport=40002"; i=$((i + 1)); done
	i=0
	while [ $i -lt 15 ]; do echo "reason=$R_NF dport=$NFPORT"; i=$((i + 1)); done
	p=41001
	while [ $p -le 41010 ]; do
		echo "reason=$R_NOSOCK dport=$p"
		p=$((p + 1))
	done
} >"$W/known.txt"
"$FEED" -e 'count(e.reason, e.dport)' <"$W/known.txt" >"$W/known.out" 2>&1
check_file "pushdown-live-exact: count(e.reason, e.dport) in the kernel" "$W/known.out" "$W/k_rp.out"
check_grep "pushdown-live-v: counted in the kernel" \
	'^tcpdrop: counted in the kernel (keys: reason, dport; table of 10000 keys)$' "$W/k_rp.err"
check_file "pushdown-live-user: counted in the kernel as nobody" "$W/known.out" "$W/k_user.out"
check_grep "pushdown-live-user: ran as nobody" '^tcpdrop: running as nobody' "$W/k_user.err"
check_grep "pushdown-live-v: --no-kernel-count" \
	'^tcpdrop: counted from the events: --no-kernel-count$' "$W/u_rp.err"
check_grep "pushdown-live-v: counted at exit" "^tcpdrop: $TOTAL drops counted in the kernel$" \
	"$W/k_rp.err"

# Every pair byte for byte.
for n in $(cat "$W/names") prom; do
	check_file "pushdown-live-same-$n" "$W/u_$n.out" "$W/k_$n.out"
done
check_grep "pushdown-live-prom-series" \
	"^tcpdrop_drops_total{reason=\"$R_NOSOCK\",port=\"9\"} 60$" "$W/k_prom.out"
# IPv6 rows are there (v4 and v6 keys alike).
check_grep "pushdown-live-v6" "^$A6  *$B6  *6  *25$" "$W/k_addr.out"

# A table of 2 keys: what does not fit is counted and said; every drop is in a row or there.
for n in k_over u_over; do
	got=$(awk '/^ *[0-9]+ +[0-9]+$/ { s += $2 } /updates of new keys not counted/ { s += substr($1, 2) } END { print s }' "$W/$n.out")
	check_eq "pushdown-live-overflow-$n: rows and overflow add up" $TOTAL "$got"
	check_grep "pushdown-live-overflow-$n: said at exit" \
		'^tcpdrop: count(SPORT): [0-9]* updates of new keys not counted' "$W/$n.err"
done

# What needs the events falls back to them, -v saying why (the plan is said before the probe
# loads; the run itself is half a second of nothing).
"$TCPDROP" -v $MINE -e 'count(e.reason)' -d 0.5 -w "$W/x.pcapng" >/dev/null 2>"$W/fb-w.err"
check_grep "pushdown-live-fallback: -w" '^tcpdrop: counted from the events: -w needs the events$' \
	"$W/fb-w.err"
"$TCPDROP" -v $MINE -e 'count(e.reason)' -d 0.5 'tcp port 80' >/dev/null 2>"$W/fb-pf.err"
check_grep "pushdown-live-fallback: pcap filter" \
	'^tcpdrop: counted from the events: the pcap filter needs the events$' "$W/fb-pf.err"
"$TCPDROP" -v $MINE -e 'count(e.reason)' -f 'e.dport == 9' -d 0.5 >/dev/null 2>"$W/fb-f.err"
check_grep "pushdown-live-fallback: -f" '^tcpdrop: counted from the events: -f needs the events$' \
	"$W/fb-f.err"

# Owners are tracked only where something reads them (core/run/trace.c owners_wanted): their
# programs run on every send and receive of every socket. Each run is asked which BPF programs
# it holds (its fds' prog ids, named by bpftool) once attached.
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
held_progs() {
	for f in /proc/"$1"/fdinfo/*; do
		sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null
	done | sort -u | while read -r id; do
		"$BPFTOOL" prog show id "$id" 2>/dev/null | sed -n 's/.* name \([^ ]*\) .*/\1/p'
	done
}
# owners_case NAME tracked|not ARGS...
owners_case() {
	n=$1 want=$2
	shift 2
	"$TCPDROP" -v $MINE -d 60 "$@" >"$W/ow.out" 2>"$W/ow-$n.err" &
	p=$!
	if ! "$TDUTIL" waitfor "$W/ow-$n.err" "probe: " 30 "$p"; then
		fail "pushdown-live-owners-$n" "not attached: $(head -3 "$W/ow-$n.err")"
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		return
	fi
	progs=$(held_progs "$p" | tr '\n' ' ')
	kill -INT "$p"
	wait "$p"
	case "$want:$progs" in
	tracked:*tcpdrop_owner_state*)
		if grep -q '^tcpdrop: owners: not tracked' "$W/ow-$n.err"; then
			fail "pushdown-live-owners-$n" "owners loaded but -v says not tracked"
		else
			pass "pushdown-live-owners-$n: tracked ($*)"
		fi
		;;
	not:*tcpdrop_tp_btf* | not:*tcpdrop_raw_tp* | not:*tcpdrop_tracepoint*)
		case "$progs" in
		*tcpdrop_owner*) fail "pushdown-live-owners-$n" "owner programs loaded: $progs" ;;
		*) check_grep "pushdown-live-owners-$n: not tracked ($*)" \
			'^tcpdrop: owners: not tracked: nothing in this run reads them$' "$W/ow-$n.err" ;;
		esac
		;;
	*) fail "pushdown-live-owners-$n" "expected owners $want, the run holds: $progs" ;;
	esac
}
owners_case kernel not -e 'count(e.reason, e.dport)'
owners_case events not --no-kernel-count -e 'count(e.dport, e.saddr)'
owners_case default not
owners_case member not -e 'local t = {}; x = t.e or e.dport'
# Every field that needs owners, read by a one-liner (the list the fields suite checks).
for f in $(sed -n '/^for _, n in ipairs({ "owner_pid"/,/}) do$/p' "$TOP/lua/event.lua" |
	grep -o '"[a-z_]*"' | tr -d '"'); do
	owners_case "field-$f" tracked -e "x = e.$f"
done
owners_case whole tracked -e 'print(e)'
owners_case concat tracked -e 'x = "a"..e.pod'
owners_case indexed tracked -e 'x = e["pod"]'
owners_case filter tracked -e 'x = 1' -f 'e.uid == 0'
owners_case script tracked -s json
owners_case record tracked -w "$W/ow.pcapng"
owners_case cgroup tracked --cgroup /
owners_case kernel-cgroup tracked -e 'count(e.cgroup_id)'
# A script whose events reach no hook of its own (init, tick, done only) reads no field; its
# tables keyed by cgroup need owners counted in the kernel or from the events.
printf 'function tick() end\n' >"$W/ow-notick.lua"
owners_case script-nodrop not -s "$W/ow-notick.lua"
printf 'local h = tcpdrop.kcount{"cgroup_id"}\nfunction tick() h:rows() end\n' >"$W/ow-kc.lua"
owners_case script-kcount tracked -s "$W/ow-kc.lua"
owners_case script-kcount-events tracked --no-kernel-count -s "$W/ow-kc.lua"
# Ports of this run (a busy one makes --metrics fail to start: said as not attached).
owners_case metrics-cgroup tracked --metrics 127.0.0.1:$((30000 + ID % 20000)) \
	--metrics-labels reason,cgroup
owners_case metrics not --metrics 127.0.0.1:$((30001 + ID % 20000))
