#!/bin/sh
# The kernel's MIB counters per namespace (root, live): a listener with backlog 0 overflows in a
# namespace made here; the counters core/kernel/mib.c reads (through files kept open after root
# is dropped) agree with what the namespace itself says, and another namespace did not move.
# POSIX sh, also busybox sh.
. "$(dirname "$0")/../lib.sh"

NEEDS="grep sed awk cat mktemp id"
echo "mib: needs ip (iproute2), $NEEDS and $TESTBIN/{mib_check,listenburst,tdutil}"

need_live mib "$NEEDS" "$TESTBIN/mib_check" "$TESTBIN/listenburst" "$TESTBIN/tdutil" || exit 1
MIBCHECK=$TESTBIN/mib_check
BURST=$TESTBIN/listenburst
TDUTIL=$TESTBIN/tdutil

ID=$$
NSA=tdmib-a-$ID
NSB=tdmib-b-$ID
NSC=tdmib-c-$ID
VETH=tdmib$ID
NOBODY=65534
W=$(mktemp -d "$TMPDIR/tcpdrop-mib.XXXXXX") || exit 1
BG=""
cleanup() {
	for p in $BG; do
		kill "$p" 2>/dev/null
	done
	for ns in "$NSA" "$NSB" "$NSC"; do
		"$IP" netns del "$ns" 2>/dev/null
	done
	"$IP" link del "$VETH" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! { "$IP" netns add "$NSA" && "$IP" netns add "$NSB" && "$IP" -n "$NSA" link set lo up; } \
	>"$W/setup.err" 2>&1; then
	fail mib-setup "network namespaces: $(head -3 "$W/setup.err")"
	exit 1
fi
A=$("$TDUTIL" ino "/var/run/netns/$NSA")
B=$("$TDUTIL" ino "/var/run/netns/$NSB")
SELF=$("$TDUTIL" ino /proc/self/ns/net)

# counter NS NAME: the namespace's own value, read from inside it.
counter() {
	"$IP" netns exec "$1" cat /proc/net/netstat |
		awk -v want="$2" '
			$1 == prev { for (i = 2; i <= NF; i++) if (g names[i] == want) print $i }
			{ prev = $1; g = substr($1, 1, length($1) - 1); for (i = 2; i <= NF; i++) names[i] = $i }'
}

# ---- Overflows in A, seen through files opened as root and read as nobody ----------------------

before=$(counter "$NSA" TcpExtListenOverflows)
"$MIBCHECK" -u $NOBODY -c TcpExtListenOverflows -c TcpExtListenDrops -C "$A" "$B" "$SELF" -- \
	"$BURST" -n 30 "$NSA" 8080 >"$W/a.out" 2>"$W/a.err"
check_eq "mib_check runs" 0 "$?"
after=$(counter "$NSA" TcpExtListenOverflows)
check_grep "watch a name of ip netns" "^watch $A /run/netns/$NSA\$" "$W/a.out"
check_grep "watch this process's own namespace" "^watch $SELF self\$" "$W/a.out"
check_grep "root dropped with the files kept" "^uid $NOBODY\$" "$W/a.out"
check_grep "the burst ran" "^connects 30\$" "$W/a.out"
got=$(sed -n "s/^delta $A TcpExtListenOverflows //p" "$W/a.out")
check_eq "the delta is the namespace's own, read as nobody" "$((after - before))" "$got"
check_eq "the burst overflowed the accept queue" 1 "$([ "${got:-0}" -ge 20 ] && echo 1)"
check_grep "listen drops counted too" "^delta $A TcpExtListenDrops $got\$" "$W/a.out"
check_grep "another namespace's overflows did not move" "^delta $B TcpExtListenOverflows 0\$" \
	"$W/a.out"
check_grep "another namespace: no counter moved" "^moved $B 0\$" "$W/a.out"
check_grep "this process's namespace: no overflow" "^delta $SELF TcpExtListenOverflows 0\$" \
	"$W/a.out"
check_grep "coverage: one header" "^NETNS  *COUNTER  *KERNEL  *TRACED  *VERDICT\$" "$W/a.out"
check_grep "coverage: the overflow row" \
	"^$A  TcpExtListenOverflows  *$got  *0  not traced: no probe on this kernel sees these\$" \
	"$W/a.out"
check_grep "coverage: the overflows in words" \
	"^$got listen overflows counted by the kernel, 0 traced: this kernel offers no probe for them" \
	"$W/a.out"
check_nogrep "coverage: no row of B" "^$B " "$W/a.out"
check_eq "nothing on stderr" "" "$(cat "$W/a.err")"

# ---- Found through a process, not a name; one made later cannot be entered as nobody -----------

"$IP" netns exec "$NSB" "$TDUTIL" sleep 30 &
BG="$BG $!"
"$TDUTIL" sleep 0.2
"$IP" netns del "$NSB"
NSB=""
# A namespace that does not exist: an inode no namespace can have. (The inode of one made and
# deleted here is the kernel's to give again: under load another test's namespace took it, and
# was found, or not entered as nobody.) The kernel numbers namespaces from 0xf0000000, and its
# first namespaces just below: 4026531000 is none of them.
C=4026531000
"$MIBCHECK" -u $NOBODY -c TcpExtListenOverflows "$B" "$A" "$C" -- \
	"$BURST" -n 5 "$NSA" 8081 >"$W/b.out" 2>"$W/b.err"
check_grep "watch through a process" "^watch $B /proc/[0-9]*/ns/net\$" "$W/b.out"
check_grep "a namespace that does not exist: not found" "^watch $C failed -2\$" "$W/b.out"
check_grep "after root is dropped: looked up again, not found" "^rewatch $C 0 err -2 tries 2\$" \
	"$W/b.out"
check_grep "still read after the drop" "^delta $A TcpExtListenOverflows [1-9]" "$W/b.out"
for p in $BG; do
	kill "$p" 2>/dev/null
done
BG=""

# ---- A kept file holds its namespace; let go once nothing else does ----------------------------

NSC=tdmib-c-$ID
"$IP" netns add "$NSC"
"$IP" link add "$VETH" type veth peer name "${VETH}p" netns "$NSC"
C=$("$TDUTIL" ino "/var/run/netns/$NSC")
# After the sample lets go, the kernel frees the namespace in a work queue: wait for it (at most
# 10 s: under load, with other tests making and deleting namespaces, that queue takes seconds).
gone_veth="i=0; while $IP link show $VETH >/dev/null 2>&1 && [ \$i -lt 100 ]; do
	$TDUTIL sleep 0.1; i=\$((i + 1)); done
	$IP link show $VETH >/dev/null 2>&1 && echo after: kept || echo after: freed"
"$MIBCHECK" -a "$gone_veth" "$C" -- sh -c "$IP netns del $NSC; $TDUTIL sleep 0.5
	$IP link show $VETH >/dev/null 2>&1 && echo during: kept || echo during: freed" \
	>"$W/c.out" 2>"$W/c.err"
NSC=""
check_grep "watched, the namespace stays (its veth too)" "^during: kept\$" "$W/c.out"
check_grep "no process nor name holds it: gone" "^gone $C\$" "$W/c.out"
check_grep "let go while still running: the namespace and its veth went" "^after: freed\$" \
	"$W/c.out"
