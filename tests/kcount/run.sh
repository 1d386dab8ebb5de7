#!/bin/sh
# kcount (root): drops counted in the kernel's tables (bpf/tcpdrop.bpf.c, core/kernel/kcount.c),
# driven by build/tests/kcount_check, against the exact number of drops sent in namespaces made
# here: each key kind over IPv4 and IPv6, a full table's overflow, collects while drops keep
# coming, counting only (no ring events). POSIX sh, busybox too: it runs in the kernel guests.
. "$(dirname "$0")/../lib.sh"

NEEDS="sed grep sort head cat wc mktemp id uname mkdir rmdir"
need_live kcount "$NEEDS" "$TESTBIN/kcount_check" "$TESTBIN/burst" "$TESTBIN/segsend" \
	"$TESTBIN/synclose" "$TESTBIN/tdutil" || exit 1
NFT=$(find_cmd nft -v nftables) || { fail kcount-setup "missing: nft"; exit 1; }

KC=$TESTBIN/kcount_check
ID=$$
NSA=tdkc-a-$ID
NSB=tdkc-b-$ID
o2=$((ID % 250 + 1))
o3=$((ID / 250 % 250 + 1))
A4=10.$o2.$o3.1
B4=10.$o2.$o3.2
A6=fd00:$o2:$o3::1
B6=fd00:$o2:$o3::2
CLOSED=9 # nothing listens there: a RST to it is one drop (NO_SOCKET) and no reply
NFPORT=7 # an nft rule in A's output drops the SYNs going there: each one a socket's drop
W=$(mktemp -d "$TMPDIR/tcpdrop-kcount.XXXXXX") || exit 1
CG=""
CGMNT=""

cleanup() {
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	[ -n "$CGMNT" ] && umount "$CGMNT" 2>/dev/null
	"$IP" netns del "$NSA" 2>/dev/null
	"$IP" netns del "$NSB" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ina() { "$IP" netns exec "$NSA" "$@"; }

setup() {
	"$IP" netns add "$NSA" && "$IP" netns add "$NSB" &&
		"$IP" link add "tdka$ID" netns "$NSA" type veth peer name "tdkb$ID" netns "$NSB" &&
		"$IP" -n "$NSA" addr add "$A4/24" dev "tdka$ID" &&
		"$IP" -n "$NSB" addr add "$B4/24" dev "tdkb$ID" &&
		"$IP" -n "$NSA" addr add "$A6/64" dev "tdka$ID" nodad &&
		"$IP" -n "$NSB" addr add "$B6/64" dev "tdkb$ID" nodad &&
		"$IP" -n "$NSA" link set lo up && "$IP" -n "$NSB" link set lo up &&
		"$IP" -n "$NSA" link set "tdka$ID" up && "$IP" -n "$NSB" link set "tdkb$ID" up &&
		ina "$NFT" -f - <<EOF
table inet tdkcount {
	chain output {
		type filter hook output priority 0; policy accept;
		tcp dport $NFPORT drop
	}
}
EOF
}
if ! setup >"$W/setup.err" 2>&1; then
	fail kcount-setup "namespaces, veth or nft rule: $(head -3 "$W/setup.err")"
	exit 1
fi
NS_A=$("$TESTBIN/tdutil" ino "/var/run/netns/$NSA")
NS_B=$("$TESTBIN/tdutil" ino "/var/run/netns/$NSB")
IF_B=$("$IP" -n "$NSB" -o link show dev "tdkb$ID" | sed -n 's/^\([0-9]*\):.*/\1/p')
NCPU=$(grep -c '^processor' /proc/cpuinfo)
pass "kcount-setup: namespaces $NSA ($NS_A), $NSB ($NS_B), veth, nft rule"

# The code kcount_check prints for a reason: the tracepoint's, or "none" where it has none.
FMT=""
for f in /sys/kernel/tracing/events/skb/kfree_skb/format \
	/sys/kernel/debug/tracing/events/skb/kfree_skb/format; do
	[ -r "$f" ] && FMT=$f && break
done
reason() {
	if [ -n "$FMT" ] && grep -q 'field:.* reason;' "$FMT"; then
		sed -n "s/.*{ \([0-9][0-9]*\), \"$1\" }.*/\1/p" "$FMT"
	elif [ -n "$FMT" ]; then
		echo none
	else
		"$TCPDROP" --list-reasons 2>/dev/null | sed -n "s/^$1  *\([0-9][0-9]*\) .*/\1/p"
	fi
}
R_NOSOCK=$(reason NO_SOCKET)
R_NF=$(reason NETFILTER_DROP)
[ -z "$R_NF" ] && R_NF=$(reason NOT_SPECIFIED)
echo "kcount: kernel $(uname -r), $NCPU CPUs, reasons: NO_SOCKET=$R_NOSOCK NETFILTER_DROP=$R_NF"

# kc NAME ARGS... -- CMD...: run kcount_check; its output in $W/NAME.out, sorted.
kc() {
	name=$1
	shift
	if ! "$KC" "$@" >"$W/$name.raw" 2>"$W/$name.err"; then
		fail "$name" "kcount_check failed: $(head -3 "$W/$name.err")"
		: >"$W/$name.out"
		return 1
	fi
	sort "$W/$name.raw" >"$W/$name.out"
}

# has NAME LINE: the output holds LINE exactly.
has() {
	if grep -qxF -- "$2" "$W/$1.out"; then
		pass "$1: $2"
	else
		fail "$1" "no line [$2] in:"
		sed 's/^/    /' "$W/$1.out" | head -20
	fi
}

# has_n NAME LINE: a line of LINE, then " bytes=" and any number (headers with options vary).
has_n() {
	if grep -q -- "^$2 bytes=[0-9]*\$" "$W/$1.out"; then
		pass "$1: $2"
	else
		fail "$1" "no line [$2 bytes=N] in:"
		sed 's/^/    /' "$W/$1.out" | head -20
	fi
}

# counted_only NAME N: N drops counted, no event written nor lost (others' drops outside our
# namespaces are filtered: any number).
counted_only() {
	if grep -q -- "^stats events=0 lost=0 counted=$2 filtered=[0-9]*\$" "$W/$1.out"; then
		pass "$1: $2 counted, 0 events, 0 lost"
	else
		fail "$1" "expected [stats events=0 lost=0 counted=$2], got [$(grep '^stats' "$W/$1.out")]"
	fi
}

# rows NAME TABLE: the table's key rows (not the overflow row).
rows() { grep "^t$2 " "$W/$1.out" | grep -v "^t$2 overflow "; }

# sum NAME TABLE: its rows' counts summed (the overflow row too).
sum() {
	grep "^t$2 " "$W/$1.out" | sed 's/.* count=\([0-9]*\) .*/\1/' |
		{ s=0; while read -r n; do s=$((s + n)); done; echo $s; }
}

# cpus_ok NAME TABLE: every cpu key is one of this machine's.
cpus_ok() {
	bad=$(rows "$1" "$2" | sed 's/.* cpu=\([0-9]*\) .*/\1/' | while read -r c; do
		[ "$c" -lt "$NCPU" ] || echo "$c"
	done)
	check_eq "$1: cpu keys below $NCPU" "" "$bad"
}

# ---- Each key kind, IPv4: RSTs to a closed port in B (no socket, one drop each, 20 bytes) -----

N4=300
kc kcount-v4 -o -n "$NS_B" -t reason,dport -t saddr,sport -t daddr,family,flags,state \
	-t netns,ifindex -- "$IP" netns exec "$NSA" "$TESTBIN/burst" -n $N4 "$A4" 5000 "$B4" $CLOSED
has kcount-v4 "t0 reason=$R_NOSOCK dport=$CLOSED count=$N4 bytes=$((N4 * 20))"
has kcount-v4 "t1 saddr=$A4 sport=5000 count=$N4 bytes=$((N4 * 20))"
has kcount-v4 "t2 state=nosock flags=0x04 family=4 daddr=$B4 count=$N4 bytes=$((N4 * 20))"
has kcount-v4 "t3 netns=$NS_B ifindex=$IF_B count=$N4 bytes=$((N4 * 20))"
for t in 0 1 2 3; do
	check_eq "kcount-v4: table $t has one key" 1 "$(rows kcount-v4 $t | wc -l | sed 's/ //g')"
	has kcount-v4 "overflow $t 0"
done
counted_only kcount-v4 $N4
has kcount-v4 "sent $N4"

# ---- IPv6, and the CPU key: segsend's RSTs, 10 ms apart ------------------------------------

N6=40
kc kcount-v6 -o -n "$NS_B" -t reason,dport -t saddr,sport,family -t daddr,flags,netns \
	-t cpu -- "$IP" netns exec "$NSA" "$TESTBIN/segsend" -n $N6 "$A6" 5001 "$B6" $CLOSED R
has kcount-v6 "t0 reason=$R_NOSOCK dport=$CLOSED count=$N6 bytes=$((N6 * 20))"
has kcount-v6 "t1 family=6 saddr=$A6 sport=5001 count=$N6 bytes=$((N6 * 20))"
has kcount-v6 "t2 flags=0x04 daddr=$B6 netns=$NS_B count=$N6 bytes=$((N6 * 20))"
check_eq "kcount-v6: cpu keys sum to the drops" $N6 "$(sum kcount-v6 3)"
cpus_ok kcount-v6 3
counted_only kcount-v6 $N6

# The CPU key over IPv4 too, with the events streamed beside (not counting only): both exact.
kc kcount-cpu4 -n "$NS_B" -t cpu -t family -- \
	"$IP" netns exec "$NSA" "$TESTBIN/burst" -n $N4 "$A4" 5002 "$B4" $CLOSED
check_eq "kcount-cpu4: cpu keys sum to the drops" $N4 "$(sum kcount-cpu4 0)"
cpus_ok kcount-cpu4 0
has kcount-cpu4 "t1 family=4 count=$N4 bytes=$((N4 * 20))"
ev=$(sed -n 's/^stats events=\([0-9]*\) lost=\([0-9]*\) counted=\([0-9]*\) .*/\1 \2 \3/p' \
	"$W/kcount-cpu4.out")
set -- $ev
check_eq "kcount-cpu4: streamed too: events + lost, counted" "$N4 $N4" "$(($1 + $2)) ${3:-}"

# ---- The cgroup and state keys: SYNs of sockets made in a cgroup of ours, dropped on output --

CGROOT=$(sed -n 's/^[^ ]* \([^ ]*\) cgroup2 .*/\1/p' /proc/mounts | head -n 1)
if [ -z "$CGROOT" ]; then
	CGMNT=$W/cgroup2
	mkdir -p "$CGMNT" && mount -t cgroup2 none "$CGMNT" 2>"$W/cgmount.err" && CGROOT=$CGMNT
fi
if [ -z "$CGROOT" ]; then
	fail kcount-cgroup "no cgroup2 mount, and none could be made: $(head -1 "$W/cgmount.err")"
else
	CG=$CGROOT/tdkc-$ID
	if ! mkdir "$CG" 2>"$W/cg.err"; then
		fail kcount-cgroup "cannot make $CG: $(head -1 "$W/cg.err")"
		CG=""
	else
		CGID=$("$TESTBIN/tdutil" ino "$CG")
		NC=20
		# Into the cgroup first: `ip netns exec` remounts /sys, where the cgroup may be.
		kc kcount-cgroup -o -n "$NS_A" -t cgroup,state -t reason,family,dport -t saddr -- sh -c \
			"echo \$\$ >$CG/cgroup.procs && exec $IP netns exec $NSA sh -c \
			'$TESTBIN/synclose $NC $B4 $NFPORT && $TESTBIN/synclose $NC $B6 $NFPORT'"
		# SYN_SENT is state 2 (TCP_SYN_SENT).
		has_n kcount-cgroup "t0 state=2 cgroup=$CGID count=$((NC * 2))"
		has_n kcount-cgroup "t1 reason=$R_NF family=4 dport=$NFPORT count=$NC"
		has_n kcount-cgroup "t1 reason=$R_NF family=6 dport=$NFPORT count=$NC"
		check_eq "kcount-cgroup: one key per source address" 2 \
			"$(rows kcount-cgroup 2 | wc -l | sed 's/ //g')"
		counted_only kcount-cgroup $((NC * 2))
	fi
fi

# ---- A full table: max_keys 8, 20 source ports of 3 drops each --------------------------------

kc kcount-overflow -o -n "$NS_B" -t sport/8 -t reason -- "$IP" netns exec "$NSA" sh -c \
	"for p in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		$TESTBIN/burst -n 3 $A4 \$((6000 + p)) $B4 $CLOSED >/dev/null || exit 1
	done"
check_eq "kcount-overflow: 8 keys in the table" 8 "$(rows kcount-overflow 0 | wc -l | sed 's/ //g')"
check_eq "kcount-overflow: each with its 3 drops" "" \
	"$(rows kcount-overflow 0 | grep -v ' count=3 bytes=60$')"
has kcount-overflow "t0 overflow count=36 bytes=720"
has kcount-overflow "overflow 0 36"
has kcount-overflow "t1 reason=$R_NOSOCK count=60 bytes=1200"
has kcount-overflow "overflow 1 0"

# ---- Collects while drops keep coming: nothing lost between generations -----------------------

# Two senders at once, as fast as they go, a collect every millisecond.
kc kcount-collects -o -i 1 -n "$NS_B" -t reason,sport -t dport/4 -- "$IP" netns exec "$NSA" \
	sh -c "$TESTBIN/burst -n 200000 $A4 5003 $B4 $CLOSED >$W/sent1 & $TESTBIN/burst -n 200000 \
		$A4 5004 $B4 $CLOSED >$W/sent2; wait"
s1=$(sed -n 's/^sent //p' "$W/sent1")
s2=$(sed -n 's/^sent //p' "$W/sent2")
ncol=$(sed -n 's/^collects //p' "$W/kcount-collects.out")
has kcount-collects "t0 reason=$R_NOSOCK sport=5003 count=$s1 bytes=$((s1 * 20))"
has kcount-collects "t0 reason=$R_NOSOCK sport=5004 count=$s2 bytes=$((s2 * 20))"
has kcount-collects "t1 dport=$CLOSED count=$((s1 + s2)) bytes=$(((s1 + s2) * 20))"
counted_only kcount-collects $((s1 + s2))
if [ "${ncol:-0}" -ge 3 ]; then
	pass "kcount-collects: $ncol collects during $((s1 + s2)) drops"
else
	fail kcount-collects "only ${ncol:-0} collects: the drops came too fast to test the swap"
fi

# ---- Every probe mode that loads here counts, or is refused as the streaming probe is ----------

for m in raw_tp tracepoint kprobe fentry; do
	if "$TCPDROP" --probe $m -d 1 >"$W/mode-$m.out" 2>&1; then
		if [ $m = kprobe ] || [ $m = fentry ]; then
			# tcp_drop or tcp_validate_incoming: not where a RST to a closed port goes.
			kc kcount-mode-$m -o -p $m -t reason,dport -- true &&
				has kcount-mode-$m "overflow 0 0"
			continue
		fi
		kc kcount-mode-$m -o -p $m -n "$NS_B" -t reason,dport -- "$IP" netns exec "$NSA" \
			"$TESTBIN/burst" -n 50 "$A4" 5005 "$B4" $CLOSED &&
			has kcount-mode-$m "t0 reason=$R_NOSOCK dport=$CLOSED count=50 bytes=1000"
	elif "$KC" -o -p $m -t reason,dport -- true >"$W/kc-$m.out" 2>&1; then
		fail "kcount-mode-$m" "loads with tables where the streaming probe does not"
	else
		pass "kcount-mode-$m: refused here, as the streaming probe is"
	fi
done
