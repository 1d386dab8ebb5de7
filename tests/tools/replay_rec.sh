#!/bin/sh
# Records a replay benchmark file the way `make bench` does: tcpdrop --no-stack -w during a storm.
#
# usage: sh tests/tools/replay_rec.sh OUT [EVENTS]   (root; make tcpdrop build/bench/dropgen first)
#
# Two senders of TCP RSTs (build/bench/dropgen) over a veth pair between two namespaces made
# here (only their drops recorded), at most EVENTS (default 2000000) packets in at most 20 s;
# OUT is what -w recorded.
# Then time it as the bench does: ./tcpdrop -r OUT -e ''
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
OUT=${1:?usage: replay_rec.sh OUT [EVENTS]}
N=${2:-2000000}
TX=tdrec-tx-$$
RX=tdrec-rx-$$
pid=

cleanup() {
	[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$TX" 2>/dev/null
	ip netns del "$RX" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x build/bench/dropgen ] && [ -x ./tcpdrop ] || {
	echo "replay_rec: make tcpdrop build/bench/dropgen first" >&2
	exit 1
}
ip netns add "$TX" && ip netns add "$RX" &&
	ip link add tdr0 netns "$TX" type veth peer name tdr1 netns "$RX" &&
	ip -n "$TX" link set tdr0 up && ip -n "$RX" link set lo up &&
	ip -n "$RX" link set tdr1 up && ip -n "$RX" addr add 10.98.0.2/24 dev tdr1 || exit 1
MAC=$(ip -n "$RX" -br link show tdr1 | awk '{ print $3 }')

./tcpdrop --no-stack --daddr 10.98.0.2 -s bench/stats.lua -d 60 -w "$OUT" --force \
	>/dev/null 2>"$OUT.err" &
pid=$!
i=0
until grep -q '^bench: attached' "$OUT.err" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] && kill -0 "$pid" 2>/dev/null || {
		echo "replay_rec: tcpdrop did not attach: $(head -1 "$OUT.err")" >&2
		exit 1
	}
	sleep 0.1
done
ip netns exec "$TX" build/bench/dropgen -i tdr0 -M "$MAC" -S 10.98.0.1 -D 10.98.0.2 -t 2 \
	-d 20 -n "$N" || exit 1
kill -INT "$pid"
wait "$pid"
pid=
cat "$OUT.err"
rm -f "$OUT.err"
ls -l "$OUT"
