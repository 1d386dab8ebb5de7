#!/bin/sh
# Attribution (root, live, host only): who was hurt by each drop. Processes placed in cgroups
# this test makes under the cgroup2 hierarchy (named as systemd, docker and the kubelet name
# theirs), in a network namespace of its own, make drops with and without sockets; the owner,
# uid and cgroup of each are checked exactly, --cgroup keeps only its drops, and a -w file
# replays the same fields. Owner over time: a client (connect), a server socket accepted in a
# worker, a socket handed to a child, a TIME_WAIT socket whose owner exited, a pid reused since.
. "$(dirname "$0")/../lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
NEEDS="python3 nft ss stat awk"
echo "attrib: needs ip (iproute2), $NEEDS, $TCPDROP and $TESTBIN/{segsend,tdutil}"
need_live attrib "$NEEDS" "$TCPDROP" "$TESTBIN/segsend" "$TESTBIN/tdutil" || exit 1
TDUTIL=$TESTBIN/tdutil

ID=$$
NS=tdattr-$ID
W=$(mktemp -d "$TMPDIR/tcpdrop-attrib.XXXXXX") || exit 1
MOUNT=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
	/proc/self/mountinfo | head -1)
HEX=$(printf '%064x' "$ID")
POD=0c1d2e3f-0000-4000-8000-$(printf '%012x' "$ID")
# A slice of this run's, holding a systemd service (the server), a docker container (the
# clients) and a kubelet container in its pod (the tool that sends the segments).
ROOT=tdattr-$ID.slice
WEB=$ROOT/tdattr-web-$ID.service
APP=$ROOT/docker/$HEX
TOOL=$ROOT/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$(echo "$POD" | tr - _).slice/cri-containerd-$HEX.scope
BG=""

cleanup() {
	for p in $BG; do
		kill "$p" 2>/dev/null
	done
	# Whatever the scenario left in the cgroups (its sleepers), then the cgroups, deepest first.
	if [ -n "$MOUNT" ] && [ -d "$MOUNT/$ROOT" ]; then
		for f in $(find "$MOUNT/$ROOT" -name cgroup.procs); do
			for p in $(cat "$f"); do
				kill -9 "$p" 2>/dev/null
			done
		done
		for d in $(find "$MOUNT/$ROOT" -depth -type d); do
			"$TDUTIL" sleep 0.05 2>/dev/null
			rmdir "$d" 2>/dev/null || { "$TDUTIL" sleep 0.5; rmdir "$d" 2>/dev/null; }
		done
	fi
	"$IP" netns del "$NS" 2>/dev/null
	if [ -n "${ATTRIB_KEEP:-}" ]; then
		echo "attrib: outputs kept in $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

setup() {
	[ -n "$MOUNT" ] || { echo "no cgroup2 mount in /proc/self/mountinfo"; return 1; }
	mkdir -p "$MOUNT/$WEB" "$MOUNT/$APP" "$MOUNT/$TOOL" &&
		"$IP" netns add "$NS" && "$IP" -n "$NS" link set lo up &&
		"$IP" netns exec "$NS" nft -f - <<EOF2
table inet tdattr {
	chain postrouting {
		type filter hook postrouting priority 0; policy accept;
		tcp dport 7 drop
	}
}
EOF2
}
if ! setup >"$W/setup.err" 2>&1; then
	fail attrib-setup "cgroups, namespace or nft rule: $(head -3 "$W/setup.err")"
	exit 1
fi
NETNS=$(stat -L -c %i "/var/run/netns/$NS")
pass "attrib-setup: cgroups under $MOUNT/$ROOT, namespace $NS ($NETNS)"

# start NAME OPTIONS...: a json run of this namespace's drops, once its probe is attached.
start() {
	run=$1
	shift
	"$TDUTIL" timeout 60 "$TCPDROP" -v -s json --netns-id "$NETNS" "$@" >"$W/$run.json" \
		2>"$W/$run.err" &
	eval "pid_$run=$!"
	BG="$BG $!"
	if ! "$TDUTIL" waitfor "$W/$run.err" "probe:" 15 $!; then
		fail "attrib-$run-start" "$(grep -v '^libbpf' "$W/$run.err" | head -3)"
		return 1
	fi
}

# stop NAME MARKER-SPORT: once the run has printed its last drop (a marker), end it (SIGINT:
# what the rings hold is read out first).
stop() {
	"$TDUTIL" waitfor "$W/$1.json" "\"sport\":$2," 15
	eval "kill -INT \$pid_$1"
	eval "wait \$pid_$1"
}

# A marker: a segment from segsend, run in cgroup $1, that the namespace's nft postrouting rule
# drops in segsend's process context (no TCP socket: the cgroup is the task's). The rule makes
# segsend's sendto() fail: that is expected.
marker() {
	sh -c 'echo $$ >"$1" && exec "$2" netns exec "$3" "$4" 127.0.0.1 "$5" 127.0.0.1 7 S' \
		sh "$MOUNT/$1/cgroup.procs" "$IP" "$NS" "$TESTBIN/segsend" "$2" 2>/dev/null
}

start all || exit 1
start web --cgroup "/$WEB" || exit 1
start slice --cgroup "$ROOT" || exit 1
start app --cgroup "$MOUNT/$APP" || exit 1
"$TDUTIL" timeout 60 "$TCPDROP" -v --netns-id "$NETNS" -w "$W/rec.pcapng" -s json \
	>"$W/rec.json" 2>"$W/rec.err" &
pid_rec=$!
BG="$BG $pid_rec"
"$TDUTIL" waitfor "$W/rec.err" "probe:" 15 $pid_rec || fail attrib-rec-start "$(head -3 "$W/rec.err")"

export WEB APP TOOL
if ! python3 "$HERE/scenario.py" "$NS" "$MOUNT" "$W/facts" "$TESTBIN/segsend" main \
	>"$W/scenario.out" 2>&1; then
	fail attrib-scenario "$(tail -3 "$W/scenario.out")"
fi
python3 "$HERE/scenario.py" "$NS" "$MOUNT" "$W/facts" "$TESTBIN/segsend" nosock \
	>>"$W/scenario.out" 2>&1 || fail attrib-scenario-nosock "$(tail -3 "$W/scenario.out")"
marker "$APP" 40991
marker "$WEB" 40990
stop app 40991
for r in all web slice rec; do
	stop $r 40990
done

"$TCPDROP" -r "$W/rec.pcapng" -s json >"$W/replay.json" 2>"$W/replay.err" ||
	fail attrib-replay "$(head -3 "$W/replay.err")"
"$TCPDROP" -r "$W/rec.pcapng" -s json --cgroup "/$WEB" >"$W/replay-web.json" \
	2>"$W/replay-web.err" || fail attrib-replay-cgroup "$(head -3 "$W/replay-web.err")"

{
	echo "web_cgroup=$(stat -c %i "$MOUNT/$WEB")"
	echo "app_cgroup=$(stat -c %i "$MOUNT/$APP")"
	echo "tool_cgroup=$(stat -c %i "$MOUNT/$TOOL")"
	echo "clk_tck=$(getconf CLK_TCK)"
} >>"$W/facts"
python3 "$HERE/check.py" "$W"
