#!/bin/sh
# Times tcpdrop builds replaying one file, interleaved (this VM's speed drifts between runs).
#
# usage: sh tests/tools/replay_ab.sh FILE ROUNDS BIN... [-- tcpdrop options, default: -e '']
#
# Each round runs every BIN once with `-r FILE OPTIONS >/dev/null` (the order rotates from
# round to round) and records its task-clock (perf stat; METRIC=wall: its wall time, what
# `make bench` times); the events are counted once. Prints
# per build the median and best events/s, start-up (the median of runs with -c 1) taken off as
# `make bench` does, every run's ms, and the median over rounds of its time over the first
# build's time in the same round.
set -u
METRIC=${METRIC:-cpu}
FILE=$1
ROUNDS=$2
shift 2
bins=
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	bins="$bins $1"
	shift
done
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- -e ''
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2086
set_first() { first=$1; }
# shellcheck disable=SC2086
set_first $bins
n=$("$first" -r "$FILE" -e 'count()' 2>/dev/null | awk '$NF ~ /^[0-9]+$/ { v = $NF } END { print v }')
[ -n "$n" ] || {
	echo "replay_ab: cannot count the events of $FILE" >&2
	exit 1
}
one() { # one BIN OUTFILE ARGS...
	bin=$1
	out=$2
	shift 2
	perf stat -e task-clock -o "$tmp/perf" "$bin" -r "$FILE" "$@" >/dev/null 2>&1
	awk -v m="$METRIC" '$2 == "msec" && $3 == "task-clock" && m == "cpu" { gsub(",", "", $1); printf "%.0f\n", $1 * 1e6 }
		$2 == "seconds" && $3 == "time" && $4 == "elapsed" && m == "wall" { printf "%.0f\n", $1 * 1e9 }' \
		"$tmp/perf" >>"$out"
}
i=0
while [ $i -lt "$ROUNDS" ]; do
	# Rotate: round i starts at build i mod count.
	k=0
	order=
	for b in $bins; do
		k=$((k + 1))
		order="$order $k:$b"
	done
	cnt=$k
	for step in $(seq 0 $((cnt - 1))); do
		want=$(((i + step) % cnt + 1))
		for kb in $order; do
			[ "${kb%%:*}" = "$want" ] || continue
			one "${kb#*:}" "$tmp/t$want" "$@"
			one "${kb#*:}" "$tmp/s$want" -c 1 -e ''
		done
	done
	i=$((i + 1))
done
med() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
k=0
for b in $bins; do
	k=$((k + 1))
	s=$(med "$tmp/s$k")
	m=$(med "$tmp/t$k")
	best=$(sort -n "$tmp/t$k" | head -1)
	all=$(awk -v s="$s" '{ printf "%.0f ", ($1 - s) / 1e6 }' "$tmp/t$k")
	# The same round's runs are close in time: their ratio to the first build's is steadier.
	paste "$tmp/t1" "$tmp/t$k" | awk '{ print $2 / $1 }' >"$tmp/r$k"
	r=$(med "$tmp/r$k")
	awk -v n="$n" -v m="$m" -v b="$best" -v s="$s" -v bin="$b" -v all="$all" -v r="$r" 'BEGIN {
		printf "%-24s median %6.2f M/s  best %6.2f M/s  time/first %.3f  (start-up %.0f ms; ms: %s)\n",
			bin, n / (m - s) * 1e3, n / (b - s) * 1e3, r, s / 1e6, all
	}'
done
echo "events: $n; $ROUNDS rounds"
