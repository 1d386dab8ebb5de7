#!/bin/sh
# make bench: in one run, drop rates with no tracer, with perf, bpftrace and tcpdrop; their costs.
#
# Drops come from build/bench/dropgen: TCP RSTs sent with AF_PACKET over a veth pair between two
# network namespaces made here (nothing leaves them), each packet one NO_SOCKET drop in the
# receiving namespace, on the sender's CPU. Every run is bounded by BENCH_SECONDS (default 3) and
# BENCH_COUNT packets; the no-tracer rate is measured before and after each sender count, and
# the ratios are against their mean. Prints one table; no figure is asserted. BENCH_ONLY="bpf
# replay" (any of rates, bpf, start, replay, record) runs only those parts.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1

TD=${TCPDROP:-./tcpdrop} # TCPDROP=path benches another build
GEN=build/bench/dropgen
REF=build/bench/refprobe
REF_OBJ=build/bench/refprobe.bpf.o
PFC=build/tests/pcapfilter_check
KCC=build/tests/kcount_check
STATS=bench/stats.lua
DUR=${BENCH_SECONDS:-3}
MAXN=${BENCH_COUNT:-50000000}
REC_N=${BENCH_RECORD_COUNT:-2000000}

# part NAME: whether BENCH_ONLY (a list of rates, bpf, start, replay, record; default all but
# record, whose row replay prints once too) asks for it.
part() {
	case " ${BENCH_ONLY:-rates bpf start replay} " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, BPF, perf)"
for f in "$TD" "$GEN" "$PFC" "$REF" "$KCC"; do
	[ -x "$f" ] || die "$f is missing (make bench builds it)"
done
command -v ip >/dev/null || die "ip (iproute2) is missing"
[ -r "$REF_OBJ" ] || die "$REF_OBJ is missing (make bench builds it)"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is missing: sh bench/deps.sh"

tmp=
TX=tdbench-tx-$$
RX=tdbench-rx-$$
old_bpf_stats=
tpid=

cleanup() {
	[ -n "$old_bpf_stats" ] && sysctl -q -w kernel.bpf_stats_enabled="$old_bpf_stats"
	if [ -n "$tpid" ]; then
		[ -s "$tmp/pid" ] && kill -INT "$(cat "$tmp/pid")" 2>/dev/null
		wait "$tpid" 2>/dev/null
	fi
	ip netns del "$TX" 2>/dev/null
	ip netns del "$RX" 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcpdrop-bench.XXXXXX") || die "no temporary directory"
# Copies: the tree may be rebuilt while the bench runs (the Lua runtime is inside the binary).
cp "$TD" "$tmp/tcpdrop" && cp "$GEN" "$tmp/dropgen" && cp "$REF" "$tmp/refprobe" &&
	cp "$REF_OBJ" "$tmp/refprobe.bpf.o" && cp "$KCC" "$tmp/kcount_check" ||
	die "cannot copy the binaries to $tmp"
KCC=$tmp/kcount_check
TD=$tmp/tcpdrop
GEN=$tmp/dropgen
REF=$tmp/refprobe
REF_OBJ=$tmp/refprobe.bpf.o
# Before this bench loads any: a probe the kernel still frees after our own run would count.
others=$(bpftool prog show 2>/dev/null | grep -c ' name tcpdrop_')

# Two namespaces and a veth between them; 10.99.0.2 lives in RX, where the drops happen.
ip netns add "$TX" && ip netns add "$RX" &&
	ip link add tdb0 netns "$TX" type veth peer name tdb1 netns "$RX" &&
	ip -n "$TX" link set tdb0 up && ip -n "$RX" link set lo up &&
	ip -n "$RX" link set tdb1 up && ip -n "$RX" addr add 10.99.0.2/24 dev tdb1 ||
	die "cannot set up the veth pair"
MAC=$(ip -n "$RX" -br link show tdb1 | awk '{ print $3 }')

# gen SENDERS [SECONDS [COUNT]]: run the generator; its line in $tmp/gen.
gen() {
	ip netns exec "$TX" "$GEN" -i tdb0 -M "$MAC" -S 10.99.0.1 -D 10.99.0.2 -t "$1" \
		-d "${2:-$DUR}" -n "${3:-$MAXN}" >"$tmp/gen" 2>&1 ||
		die "generator failed: $(cat "$tmp/gen")"
}
gen_field() {
	sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$tmp/gen"
}

# start CMD...: run a tracer in the background under GNU time; its own pid lands in $tmp/pid.
start() {
	rm -f "$tmp/pid" "$tmp/out" "$tmp/err" "$tmp/time"
	/usr/bin/time -f '%U %S %M' -o "$tmp/time" sh -c 'echo $$ >"$0"; exec "$@"' "$tmp/pid" \
		"$@" >"$tmp/out" 2>"$tmp/err" &
	tpid=$!
}

# ready PATTERN FILE: wait (at most 20 s) for the tracer to say it is attached.
ready() {
	i=0
	while [ $i -lt 200 ]; do
		grep -q "$1" "$2" 2>/dev/null && return 0
		kill -0 "$tpid" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

stop() {
	[ -s "$tmp/pid" ] && kill -INT "$(cat "$tmp/pid")" 2>/dev/null
	wait "$tpid"
	trc=$?
	tpid=
}

# Table rows: what, senders, rate, ratio, seen, lost, cpu %, peak RSS, note.
row() {
	printf '%-44s %3s %10s %6s %10s %9s %6s %7s  %s\n' "$@"
}
fmt_rate() {
	awk -v r="$1" 'BEGIN { if (r == "" || r == "-") print "-"; else printf "%.0f", r }'
}
ratio() {
	awk -v r="$1" -v b="$2" 'BEGIN { if (r == "" || b == "" || b == 0) print "-"; else printf "%.2f", r / b }'
}
# cpu % of one CPU over the generator's run, and peak RSS in MiB, from GNU time.
# GNU time's line is the last one ("Command exited with non-zero status N" may come first).
cpu_pct() {
	awk -v d="$(gen_field seconds)" 'NF == 3 { u = $1; s = $2 }
		END { if (d > 0 && u != "") printf "%.0f\n", (u + s) * 100 / d; else print "-" }' \
		"$tmp/time"
}
rss_mib() {
	awk 'NF == 3 { m = $3 } END { if (m != "") printf "%.1f\n", m / 1024; else print "-" }' \
		"$tmp/time"
}

TAB=$(printf '\t')

# Each kind of row prints one record of tab-separated fields:
# label, senders, drops/s, seen, lost, cpu %, RSS MiB, note.
rec() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@"
}

# perf counts in the kernel; wrapping the generator bounds it to the run.
perf_row() {
	perf stat -e skb:kfree_skb -a -x, -o "$tmp/perf" -- \
		ip netns exec "$TX" "$GEN" -i tdb0 -M "$MAC" -S 10.99.0.1 -D 10.99.0.2 -t "$1" \
		-d "$DUR" -n "$MAXN" >"$tmp/gen" 2>&1
	seen=$(awk -F, '/skb:kfree_skb/ { print $1 }' "$tmp/perf")
	note="of $(gen_field sent) sent; perf's own CPU is in the kernel"
	case $seen in
	'' | 0 | '<'*) note="perf said: $(grep -v '^#' "$tmp/perf" | grep . | head -2 | tr '\n' ' ')" ;;
	esac
	rec "perf stat -e skb:kfree_skb -a" "$1" "$(gen_field rate)" "${seen:--}" - - - "$note"
}

bpftrace_row() {
	label="bpftrace: @[args->reason] = count()"
	if [ -z "$bt" ]; then
		rec "$label" "$1" - - - - - "not installed"
		return
	fi
	start "$bt" -e "tracepoint:skb:kfree_skb { @[args->reason] = count(); }
		interval:s:$((DUR + 60)) { exit(); }"
	if ! ready '^Attaching' "$tmp/out"; then
		stop
		rec "$label" "$1" - - - - - "failed: $(grep -v RLIMIT "$tmp/err" | head -1)"
		return
	fi
	gen "$1"
	stop
	rec "$label" "$1" "$(gen_field rate)" \
		"$(awk -F': ' '/^@/ { s += $2 } END { print s + 0 }' "$tmp/out")" - "$(cpu_pct)" \
		"$(rss_mib)" "of $(gen_field sent) sent; every kfree_skb, not only TCP"
}

# tcpdrop_row SENDERS LABEL ARGS...: bench/stats.lua says when it is attached, then seen and lost.
tcpdrop_row() {
	n=$1 label=$2
	shift 2
	start "$TD" -s "$STATS" -d $((DUR + 60)) "$@"
	if ! ready '^bench: attached' "$tmp/err"; then
		stop
		rec "$label" "$n" - - - - - "failed: $(grep -v '^bench:' "$tmp/err" | head -1)"
		return
	fi
	gen "$n"
	stop
	seen=$(sed -n 's/^bench: seen=\([0-9]*\).*/\1/p' "$tmp/err")
	lost=$(sed -n 's/^bench: .* lost=\([0-9]*\).*/\1/p' "$tmp/err")
	skipped=$(sed -n 's/^bench: .* stacks_skipped=\([0-9]*\).*/\1/p' "$tmp/err")
	note="of $(gen_field sent) sent"
	[ "${skipped:-0}" != 0 ] && note="$note; $skipped stacks skipped"
	[ "$trc" != 0 ] && note="$note; exit $trc: $(grep -v '^bench:' "$tmp/err" | head -1)"
	rec "$label" "$n" "$(gen_field rate)" "${seen:--}" "${lost:--}" "$(cpu_pct)" \
		"$(rss_mib)" "$note"
	rss_mib >>"$tmp/rss"
}

# --metrics alone, default labels: what a fleet's exporter runs (counted in the kernel, no script:
# a script beside it would take the events). Seen: the scrape's tcpdrop_drops_total after the run.
MPORT=$((30000 + $$ % 20000))
metrics_row() {
	label="tcpdrop --metrics (default labels)"
	if ! command -v curl >/dev/null; then
		rec "$label" "$1" - - - - - "not available: curl is missing (sh bench/deps.sh)"
		return
	fi
	start "$TD" -v --metrics "127.0.0.1:$MPORT" -d $((DUR + 60))
	if ! ready '^tcpdrop: probe: ' "$tmp/err"; then
		stop
		rec "$label" "$1" - - - - - "failed: $(grep -v '^tcpdrop: [a-z ]*:' "$tmp/err" | head -1)"
		return
	fi
	gen "$1"
	seen=$(curl -s -m 5 "http://127.0.0.1:$MPORT/metrics" |
		awk '/^tcpdrop_drops_total[{ ]/ { s += $NF } /^tcpdrop_events_lost_total / { l = $NF }
			END { printf "%d %d\n", s, l }')
	stop
	rec "$label" "$1" "$(gen_field rate)" "${seen% *}" "${seen#* }" "$(cpu_pct)" "$(rss_mib)" \
		"of $(gen_field sent) sent; from a scrape of /metrics"
}

# The counting probe alone (the probe's kcount tables, counting only: no ring record, no stack,
# no wake-up), loaded by build/tests/kcount_check with one reason+dport table and collected
# every 100 ms: what `tcpdrop -e 'count(e.reason, e.dport)'` runs when counted in the kernel.
# Only the drops in RX (the in-kernel netns filter): the machine may be dropping elsewhere too.
KC_LABEL="counting probe: kcount reason+dport, kc_only"
kcount_row() {
	start "$KCC" -o -i 100 -n "$(stat -L -c %i "/var/run/netns/$RX")" -t reason,dport -- \
		sleep $((DUR + 60))
	if ! ready '^kcount_check: attached' "$tmp/err"; then
		stop
		rec "$KC_LABEL" "$1" - - - - - "failed: $(head -1 "$tmp/err")"
		return
	fi
	gen "$1"
	stop
	seen=$(sed -n 's/^stats .* counted=\([0-9]*\).*/\1/p' "$tmp/out")
	lost=$(sed -n 's/^stats .* lost=\([0-9]*\).*/\1/p' "$tmp/out")
	rec "$KC_LABEL" "$1" "$(gen_field rate)" "${seen:--}" "${lost:--}" "$(cpu_pct)" \
		"$(rss_mib)" "of $(gen_field sent) sent; every TCP drop counted, no event"
}

# The machine is shared and its rate drifts: a no-tracer run between every two rows, and each
# row compared with the mean of the runs just before and just after it.
baseline() {
	gen "$1"
	last_base=$(gen_field rate)
	echo "$last_base" >>"$tmp/base.$1"
}
measure() {
	before=$last_base
	"$@" >"$tmp/rec"
	baseline "$2"
	printf '%s\t%s\t%s\n' "$(cat "$tmp/rec")" "$before" "$last_base" >>"$tmp/rows"
}
print_rows() {
	while IFS="$TAB" read -r label n rate seen lost cpu rss note b1 b2; do
		row "$label" "$n" "$(fmt_rate "$rate")" \
			"$(ratio "$rate" "$(awk -v a="$b1" -v b="$b2" 'BEGIN { print (a + b) / 2 }')")" \
			"$seen" "$lost" "$cpu" "$rss" "$note"
	done <"$tmp/rows"
}

# Is a pcap-filter expression accepted on the command line yet? (main.c wiring)
pcap_cli=0
"$TD" --no-stack -d 0.1 tcp >/dev/null 2>"$tmp/pcapcli" && pcap_cli=1

bt=$(command -v bpftrace || true)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "tcpdrop bench: Linux $(uname -r), $(nproc) CPUs ($cpu). TCP RSTs over veth (AF_PACKET)"
echo "to a closed port, one drop each; ${DUR} s per run; a no-tracer run between every two rows,"
echo "ratio = rate / mean of the no-tracer runs either side; cpu = tracer's user+sys, % of one CPU."
echo "At start: load average $(cut -d' ' -f1-3 /proc/loadavg), $others tcpdrop probes of other runs"
echo "loaded (each one runs on every drop); other work on the machine moves every figure."
echo
row what snd drops/s ratio seen lost "cpu%" "rss MiB" ""

gen 1 0.5 # warm up: the first packets build routes and caches

if part rates; then
	for n in 1 2; do
		: >"$tmp/rows"
		baseline "$n"
		measure perf_row "$n"
		measure bpftrace_row "$n"
		measure kcount_row "$n"
		measure tcpdrop_row "$n" "tcpdrop -e 'count(e.reason, e.dport)'" \
			-e 'count(e.reason, e.dport)'
		measure metrics_row "$n"
		# Forced to user space: the events' path, as it was before counting in the kernel.
		measure tcpdrop_row "$n" "tcpdrop --no-stack --no-kernel-count -e 'count()'" \
			--no-stack --no-kernel-count -e 'count()'
		measure tcpdrop_row "$n" "tcpdrop --no-stack >/dev/null" --no-stack
		measure tcpdrop_row "$n" "tcpdrop >/dev/null (stacks, storm guard)"
		measure tcpdrop_row "$n" "tcpdrop --stack-rate 0 >/dev/null (no guard)" --stack-rate 0
		if [ $pcap_cli = 1 ]; then
			measure tcpdrop_row "$n" "tcpdrop --no-stack -e 'count()' tcp port 9" --no-stack \
				-e 'count()' tcp port 9
		fi
		awk '{ s += $1; if (!min || $1 < min) min = $1; if ($1 > max) max = $1 }
			END { printf "%.0f\t%d\t%.0f\t%.0f\n", s / NR, NR, min, max }' "$tmp/base.$n" |
			{
				IFS="$TAB" read -r mean k min max
				note="mean of $k runs, $min to $max"
				[ $((max * 10)) -gt $((min * 13)) ] &&
					note="$note: the machine was busy, ratios are rough"
				row "no tracer" "$n" "$mean" 1.00 - - - - "$note"
			}
		print_rows
	done
fi

# BPF cost per event, from the kernel's own accounting (kernel.bpf_stats_enabled, restored).
# bpf_ns LABEL PATTERN CMD...: one sender against CMD, which says PATTERN once attached; the mean
# ns of its programs' runs in $ns (- if none), their count in $cnt.
bpf_ns() {
	label=$1
	pattern=$2
	shift 2
	ns=-
	cnt=0
	start "$@"
	if ! ready "$pattern" "$tmp/err"; then
		stop
		row "$label" 1 - - - - - - "failed: $(head -1 "$tmp/err")"
		return 1
	fi
	gen 1
	# The kernel's counters for each BPF program the tracer holds open, from its fdinfo.
	awk '
		FNR == 1 { id = "" }
		/^prog_id:/ { id = $2 }
		/^run_time_ns:/ { t[id] = $2 }
		/^run_cnt:/ { c[id] = $2 }
		END {
			for (i in c) { T += t[i]; C += c[i] }
			if (C) printf "%.0f %d\n", T / C, C; else print "- 0"
		}' /proc/"$(cat "$tmp/pid")"/fdinfo/* >"$tmp/ns" 2>/dev/null
	stop
	read -r ns cnt <"$tmp/ns"
}
# The reference: the minimal probe the 150 ns target was calibrated with (bench/refprobe.bpf.c),
# measured here and now, since this machine's speed drifts by 2x from one hour to the next.
ref_ns=
bpf_ref_row() {
	bpf_ns "BPF: reference (tp_btf, TCP check, 64 B)" '^refprobe: attached' \
		"$REF" "$REF_OBJ" $((DUR + 60)) || return
	ref_ns=$ns
	row "BPF: reference (tp_btf, TCP check, 64 B)" 1 "$ns ns" 1.00 "$cnt" - - - \
		"the minimal probe of the issue's 150 ns (bench/refprobe.bpf.c)"
}
bpf_ns_row() {
	label=$1
	shift
	bpf_ns "$label" '^bench: attached' "$TD" -s "$STATS" -d $((DUR + 60)) "$@" || return
	row "$label" 1 "$ns ns" "$(ratio "$ns" "$ref_ns")" "$cnt" - - - \
		"BPF ns/event (kernel.bpf_stats_enabled) over $cnt runs; ratio to the reference"
}
if part bpf; then
	old_bpf_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo)
	if [ -n "$old_bpf_stats" ] && sysctl -q -w kernel.bpf_stats_enabled=1; then
		bpf_ref_row
		bpf_ns "BPF: $KC_LABEL" '^kcount_check: attached' \
			"$KCC" -o -i 100 -t reason,dport -- sleep $((DUR + 60)) &&
			row "BPF: $KC_LABEL" 1 "$ns ns" "$(ratio "$ns" "$ref_ns")" "$cnt" - - - \
				"BPF ns/event over $cnt runs; ratio to the reference (target <= 0.90)"
		bpf_ns_row "BPF: tcpdrop -e 'count(e.reason, e.dport)'" -e 'count(e.reason, e.dport)'
		# The streaming probe: events to Lua (--no-kernel-count), the issue's "at most 1.1x".
		bpf_ns_row "BPF: tcpdrop --no-stack (events: --no-kernel-count)" --no-stack \
			--no-kernel-count -e 'count()'
		bpf_ns_row "BPF: tcpdrop (stacks, storm guard)" --no-kernel-count -e 'count()'
		bpf_ns_row "BPF: tcpdrop --stack-rate 0 (every stack)" --stack-rate 0 \
			--no-kernel-count -e 'count()'
		sysctl -q -w kernel.bpf_stats_enabled="$old_bpf_stats"
		old_bpf_stats=
	else
		row "BPF ns/event" - - - - - - - "kernel.bpf_stats_enabled not available"
	fi
fi

# Cold start: from exec to attached (init() runs once the probe is attached), idle machine.
if part start; then
	: >"$tmp/cold"
	for i in 1 2 3 4 5; do
		t0=$(date +%s%N)
		start "$TD" -s "$STATS" -d 60
		if ready '^bench: attached' "$tmp/err"; then
			at=$(sed -n 's/^bench: attached .*at=\([0-9]*\).*/\1/p' "$tmp/err")
			echo $(((at - t0) / 1000)) >>"$tmp/cold"
		fi
		stop
	done
	cold=$(sort -n "$tmp/cold" | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", v[int((NR + 1) / 2)] / 1000 }')
	row "cold start, exec to attached (median of 5)" - "${cold:--} ms" - - - - - \
		"runs: $(tr '\n' ' ' <"$tmp/cold" | awk '{ for (i = 1; i <= NF; i++) printf "%.1f ", $i / 1000 }')ms"
	peak=$(sort -n "$tmp/rss" 2>/dev/null | tail -1)
	row "peak RSS, largest tcpdrop run above" - "${peak:--} MiB" - - - - - ""
fi

# The pcap-filter matcher alone, user space, per event (build/tests/pcapfilter_check --bench).
if part start; then
	for spec in 'src=10.1.2.3,dst=10.0.0.2,sport=40000,dport=443,flags=RST' \
		'src=10.1.2.3,dst=10.0.0.2,sport=40000,dport=443,flags=RST,pkt,payload=40'; do
		line=$("$PFC" --bench 'tcp port 443 and net 10.0.0.0/8' "$spec" 5000000 2>&1)
		ns=$(echo "$line" | sed -n 's/^\([0-9.]*\) ns.*/\1/p')
		how=$(echo "$line" | sed -n 's/.*events, \([^,]*\),.*/\1/p')
		row "pcap filter 'tcp port 443 and net 10...'" - "${ns:--} ns" - - - - - "per event, $how"
	done
fi

# Replay: record a large file with -w while the generator runs, then read it back with -r.
replay_na() {
	row "replay" - - - - - - - "not available: $1"
}
# best_ns CMD...: the shortest wall time of three runs, in ns (this VM's speed drifts between
# runs); exit status of the last run in rc.
# best_ns CMD...: run CMD 5 times; the fastest wall-clock time in $best and the median in $median
# (ns). On a shared machine the best is what the program can do, the median what it did.
best_ns() {
	: >"$tmp/times"
	for _ in 1 2 3 4 5; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>"$tmp/rerr"
		rc=$?
		echo $(($(date +%s%N) - t0)) >>"$tmp/times"
		[ $rc -ne 0 ] && return
	done
	best=$(sort -n "$tmp/times" | head -1)
	median=$(sort -n "$tmp/times" | sed -n 3p)
}
replay() {
	label=$1
	shift
	best_ns "$TD" -r "$tmp/rec.pcapng" "$@"
	if [ $rc -ne 0 ]; then
		row "replay: $label" - - - - - - - "failed: $(head -1 "$tmp/rerr")"
		return
	fi
	awk -v n="$rec_n" -v full="$best" -v med="$median" -v one="$startup" -v l="$label" 'BEGIN {
		d = (full - one) / 1e9
		if (d <= 0) d = full / 1e9
		m = (med - one) / 1e9
		if (m <= 0) m = med / 1e9
		printf "%-44s %3s %10.0f %6s %10s %9s %6s %7s  %s\n", "replay: " l, "-", n / d, "-",
			n, "-", "-", "-", sprintf("events/s, best of 5 (median %.0f); %.0f ms in all, %.0f ms start-up",
			n / m, full / 1e6, one / 1e6)
	}'
}
# record_row BIN LABEL: BIN records with -w while 2 senders send REC_N drops; one row, whose
# seen and lost are also left in rec_n and rec_lost; "in file" is what -r reads back of it.
# Returns 1 (and says why in rec_why) when BIN cannot record.
record_row() {
	rm -f "$tmp/rec.pcapng"
	start "$1" --no-stack -s "$STATS" -d $((DUR * 4 + 60)) -w "$tmp/rec.pcapng" --force
	if ! ready '^bench: attached' "$tmp/err"; then
		stop
		rec_why="-w: $(grep -v '^bench:' "$tmp/err" | head -1)"
		return 1
	fi
	gen 2 $((DUR * 4)) "$REC_N"
	stop
	rec_n=$(sed -n 's/^bench: seen=\([0-9]*\).*/\1/p' "$tmp/err")
	rec_lost=$(sed -n 's/^bench: .* lost=\([0-9]*\).*/\1/p' "$tmp/err")
	if ! "$TD" -r "$tmp/rec.pcapng" -s "$STATS" >/dev/null 2>"$tmp/rerr"; then
		rec_why="-r: $(grep -v '^bench:' "$tmp/rerr" | head -1)"
		return 1
	fi
	in_file=$(sed -n 's/^bench: seen=\([0-9]*\).*/\1/p' "$tmp/rerr")
	size=$(du -m "$tmp/rec.pcapng" | cut -f1)
	row "$2" 2 "$(fmt_rate "$(gen_field rate)")" - "$rec_n" "${rec_lost:--}" "$(cpu_pct)" \
		"$(rss_mib)" "$size MiB file, ${in_file:-?} in it, of $(gen_field sent) sent"
}
# BENCH_ONLY=record: the record row alone, BENCH_RECORD_RUNS times (default 3: the machine is
# shared); with TCPDROP_BASE=path, each time also with that build, in turn, for a before/after.
if part record; then
	run=0 # not i: ready() counts with it
	while [ $run -lt "${BENCH_RECORD_RUNS:-3}" ]; do
		run=$((run + 1))
		if [ -n "${TCPDROP_BASE:-}" ]; then
			cp "$TCPDROP_BASE" "$tmp/tcpdrop-base" || die "cannot copy $TCPDROP_BASE"
			record_row "$tmp/tcpdrop-base" "record -w (2 senders), base, run $run" ||
				row "record -w, base" - - - - - - - "not available: $rec_why"
		fi
		record_row "$TD" "record -w (2 senders), run $run" ||
			row "record -w" - - - - - - - "not available: $rec_why"
	done
fi
if part replay; then
	if ! "$TD" --help | grep -q -- '--read'; then
		replay_na "no -r option"
	elif ! record_row "$TD" "record -w (2 senders)"; then
		replay_na "$rec_why"
	else
		# Start-up is not replay: take off the time of a replay that stops at once.
		best_ns "$TD" -r "$tmp/rec.pcapng" -c 1 -e ''
		startup=$best
		replay "empty drop(): -e ''" -e ''
		replay "filter: -f 'e.dport == 443'" -f 'e.dport == 443'
		replay "-e 'count(e.reason)'" -e 'count(e.reason)'
		replay "classic printer: -s classic" -s classic
		if "$TD" --list-scripts | grep -q '^json '; then
			replay "json: -s json" -s json
		else
			row "replay: json" - - - - - - - "not available: no json script"
		fi
	fi
fi

# Attribution (issue 15): the probe filling the owner fields and -s json writing them, against
# the same with TCPDROP_OWNERS=off (no owner programs, no owner fields): the drop rate with one
# sender, then the BPF ns/event. BENCH_ONLY=attrib runs this part alone.
# json_row SENDERS LABEL: against tcpdrop --no-stack -s json (-v says when it is attached).
json_row() {
	start sh -c 'exec "$@" >/dev/null' sh "$TD" -v --no-stack -s json -d $((DUR + 60))
	if ! ready '^tcpdrop: probe:' "$tmp/err"; then
		stop
		rec "$2" "$1" - - - - - "failed: $(grep -v '^libbpf' "$tmp/err" | head -1)"
		return
	fi
	gen "$1"
	stop
	rec "$2" "$1" "$(gen_field rate)" - - "$(cpu_pct)" "$(rss_mib)" \
		"of $(gen_field sent) sent; json to /dev/null"
}
case " ${BENCH_ONLY:-attrib} " in
*" attrib "*)
	: >"$tmp/rows"
	baseline 1
	measure json_row 1 "attribution on: tcpdrop --no-stack -s json"
	export TCPDROP_OWNERS=off
	measure json_row 1 "attribution off: TCPDROP_OWNERS=off, -s json"
	unset TCPDROP_OWNERS
	print_rows
	old_bpf_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo)
	if [ -n "$old_bpf_stats" ] && sysctl -q -w kernel.bpf_stats_enabled=1; then
		[ -n "$ref_ns" ] || bpf_ref_row
		bpf_ns_row "BPF: attribution on, --no-stack (events)" --no-stack --no-kernel-count \
			-e 'count()'
		export TCPDROP_OWNERS=off
		bpf_ns_row "BPF: attribution off (TCPDROP_OWNERS=off)" --no-stack --no-kernel-count \
			-e 'count()'
		unset TCPDROP_OWNERS
		sysctl -q -w kernel.bpf_stats_enabled="$old_bpf_stats"
		old_bpf_stats=
	fi
	;;
esac
