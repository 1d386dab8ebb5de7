#!/bin/sh
# --metrics (root, live): exact tcpdrop_drops_total after known drops, IPv4 and IPv6, per label
# set; the HTTP side (404, 405, HEAD, a slow client that must not stall tracing, bad address,
# port in use); overflow of a small set; the kernel's own counters (tcpdrop_kernel_drops_total)
# after a listen-queue overflow; the probe's run counts (bpf_stats_enabled); promtool; a real
# Prometheus scraping it; node_exporter's textfile collector reading the prom script's file; a
# timed scrape of 10,000 series. Every drop is an RST to a closed port of a network namespace
# made here (one drop each, no reply), or a connect to its listener with backlog 0, and every
# run counts that namespace only.
. "$(dirname "$0")/../lib.sh"

sh "$TOP/tests/metrics/deps.sh" || { fail metrics-deps "cannot install prometheus"; exit 1; }
missing=""
need_live metrics "curl promtool prometheus prometheus-node-exporter python3 timeout" \
	"$TCPDROP" "$TESTBIN/segsend" "$TESTBIN/listenburst" || exit 1
SEGSEND=$TESTBIN/segsend
BURST=$TESTBIN/listenburst
HERE=$TOP/tests/metrics

ID=$$
NS=tdmetrics-$ID
# Ports of this run, on 127.0.0.1 only.
P=$((30000 + ID % 2000 * 10))
W=$(mktemp -d "$TMPDIR/tcpdrop-metrics.XXXXXX") || exit 1
chmod 755 "$W"
BG=""
STATS=/proc/sys/kernel/bpf_stats_enabled
stats_before=$(cat "$STATS" 2>/dev/null)

cleanup() {
	for p in $BG; do
		kill "$p" 2>/dev/null
	done
	[ -n "$stats_before" ] && echo "$stats_before" > "$STATS"
	"$IP" netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! { "$IP" netns add "$NS" && "$IP" -n "$NS" link set lo up; } 2>"$W/err"; then
	fail metrics-netns "$(cat "$W/err")"
	exit 1
fi
NSID=$(stat -L -c %i "/run/netns/$NS")

# rst 4|6 COUNT SPORT DPORT: COUNT RSTs to a closed port in the namespace, each one drop.
rst() {
	if [ "$1" = 4 ]; then
		"$IP" netns exec "$NS" "$SEGSEND" -n "$2" 127.0.0.1 "$3" 127.0.0.1 "$4" R >/dev/null
	else
		"$IP" netns exec "$NS" "$SEGSEND" -n "$2" ::1 "$3" ::1 "$4" R >/dev/null
	fi
}

# start NAME PORT ARGS...: tcpdrop serving 127.0.0.1:PORT for this namespace, in the background
# (PID in $TD); returns once it answers /metrics (status 1 if it never does, in 30 s).
start() {
	name=$1 port=$2
	shift 2
	"$TCPDROP" --metrics "127.0.0.1:$port" --netns-id "$NSID" -d 300 "$@" \
		> "$W/$name.out" 2> "$W/$name.err" &
	TD=$!
	BG="$BG $TD"
	i=0
	while [ $i -lt 300 ]; do
		curl -s -m 2 -o /dev/null "http://127.0.0.1:$port/metrics" && return 0
		kill -0 "$TD" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

stop() {
	kill "$TD" 2>/dev/null
	wait "$TD"
}

# scrape PORT FILE
scrape() {
	curl -s -m 10 "http://127.0.0.1:$1/metrics" > "$2"
}

# wait_line PORT FILE LINE: scrape until FILE has LINE exactly (at most 10 s).
wait_line() {
	i=0
	while [ $i -lt 100 ]; do
		scrape "$1" "$2" && grep -qxF -- "$3" "$2" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# series FILE: the drop series' lines, sorted.
series() {
	grep '^tcpdrop_drops_total{' "$1" | sort
}

# promtool_clean NAME FILE
promtool_clean() {
	if promtool check metrics < "$2" > "$W/promtool" 2>&1; then
		pass "metrics-promtool-$1"
	else
		fail "metrics-promtool-$1" "$(head -5 "$W/promtool")"
	fi
}

# ---- Default labels, as nobody: exact counts, v4 and v6; the HTTP side; a real Prometheus ----

if ! start default $P --user nobody -v; then
	fail metrics-default-start "$(head -5 "$W/default.err")"
	exit 1
fi
check_eq metrics-user "65534 0000000000000000" "$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' \
	"/proc/$TD/status") $(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$TD/status")"
rst 4 7 4000 9
rst 6 5 4000 9
if wait_line $P "$W/s1" 'tcpdrop_drops_total{reason="NO_SOCKET"} 12'; then
	pass "metrics-default-exact: 7 IPv4 and 5 IPv6 RSTs, NO_SOCKET 12"
else
	fail metrics-default-exact "$(grep -v '^#' "$W/s1")"
fi
scrape $P "$W/s2"
check_eq metrics-default-series "tcpdrop_drops_total{reason=\"NO_SOCKET\"} 12" "$(series "$W/s2")"
check_grep metrics-default-help '^# HELP tcpdrop_drops_total ' "$W/s2"
check_grep metrics-default-type '^# TYPE tcpdrop_drops_total counter$' "$W/s2"
check_grep metrics-default-lost '^tcpdrop_events_lost_total 0$' "$W/s2"
check_grep metrics-default-overflow '^tcpdrop_map_overflow_total 0$' "$W/s2"
v=$("$TCPDROP" --version | sed -n '1s/^tcpdrop \([^ ]*\) (commit \([^)]*\)).*/version="\1",commit="\2"/p')
check_grep metrics-build-info "^tcpdrop_build_info{$v,libbpf=\"[0-9.]*\",luajit=\"LuaJIT [^\"]*\"} 1$" \
	"$W/s2"
promtool_clean default "$W/s2"

# The HTTP side: /metrics for GET and HEAD (no body), 404 elsewhere, 405 for other methods.
req() {
	python3 "$HERE/http.py" request $P "$1" "$2" 2>&1
}
# (The body's length changes from one scrape to the next when bpf_stats_enabled is on.)
check_eq metrics-http-get "STATUS 200 BODY ok ALLOW - TYPE text/plain;version=0.0.4;charset=utf-8" \
	"$(req GET /metrics | sed 's/BODY [1-9][0-9]* /BODY ok /')"
check_eq metrics-http-head "STATUS 200 BODY 0" "$(req HEAD /metrics | cut -d' ' -f1-4)"
check_eq metrics-http-404 "STATUS 404" "$(req GET / | cut -d' ' -f1-2)"
check_eq metrics-http-404-prefix "STATUS 404" "$(req GET /metricsx | cut -d' ' -f1-2)"
check_eq metrics-http-405-post "STATUS 405 BODY 18 ALLOW GET,HEAD" \
	"$(req POST /metrics | cut -d' ' -f1-6)"
check_eq metrics-http-405-put "STATUS 405" "$(req PUT /x | cut -d' ' -f1-2)"
# A request bigger than the server's 16 KiB for one is refused (431), and the next is served.
python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
r = s.recv(64)
print(r.split(b" ")[1].decode() if r else "closed")' $P > "$W/big" 2>&1
check_eq metrics-http-request-max "431 STATUS 200" "$(cat "$W/big") $(req GET /metrics | cut -d' ' -f1-2)"

# Counters over the run: later drops add to what was collected before.
rst 4 3 4001 9
if wait_line $P "$W/s3" 'tcpdrop_drops_total{reason="NO_SOCKET"} 15'; then
	pass "metrics-monotonic: 3 more, 15 over three collects"
else
	fail metrics-monotonic "$(series "$W/s3")"
fi

# A real Prometheus server scrapes it, and its HTTP API answers the exact count.
PP=$((P + 1))
cat > "$W/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tcpdrop
    static_configs:
      - targets: ["127.0.0.1:$P"]
EOF
mkdir "$W/tsdb"
prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/tsdb" \
	--web.listen-address="127.0.0.1:$PP" --log.level=warn > "$W/prometheus.log" 2>&1 &
PROM=$!
BG="$BG $PROM"
# query PROMQL: the first result's value, or nothing.
query() {
	curl -s -m 5 "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
i=0
got=""
while [ $i -lt 600 ] && [ "$got" != 15 ]; do
	got=$(query 'tcpdrop_drops_total{job="tcpdrop",reason="NO_SOCKET"}')
	kill -0 "$PROM" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
check_eq "metrics-prometheus: $(prometheus --version 2>&1 | head -1 | cut -d' ' -f1-3), its API" \
	15 "$got"
check_eq metrics-prometheus-up 1 "$(query 'up{job="tcpdrop"}')"
kill "$PROM"
wait "$PROM"
check_eq metrics-prometheus-stopped "0" "$?"
stop
check_eq metrics-default-exit 0 "$?"

# ---- Label sets: each label's value, v4 and v6 ----------------------------------------------

if start labels $((P + 2)) --metrics-labels reason,state,flags,family,saddr,daddr,sport,dport,netns,ifindex; then
	rst 4 4 4002 9
	rst 6 3 4003 19
	l4="tcpdrop_drops_total{reason=\"NO_SOCKET\",state=\"-\",flags=\"RST\",family=\"ipv4\",saddr=\"127.0.0.1\",daddr=\"127.0.0.1\",sport=\"4002\",dport=\"9\",netns=\"$NSID\",ifindex=\"1\"} 4"
	l6="tcpdrop_drops_total{reason=\"NO_SOCKET\",state=\"-\",flags=\"RST\",family=\"ipv6\",saddr=\"::1\",daddr=\"::1\",sport=\"4003\",dport=\"19\",netns=\"$NSID\",ifindex=\"1\"} 3"
	wait_line $((P + 2)) "$W/l1" "$l6"
	check_eq metrics-labels-all "$(printf '%s\n%s' "$l4" "$l6")" "$(series "$W/l1")"
	check_grep metrics-labels-help '^# HELP tcpdrop_drops_total .*by reason, state, flags, family, saddr, daddr, sport, dport, netns, ifindex\.$' "$W/l1"
	promtool_clean labels "$W/l1"
	stop
else
	fail metrics-labels-start "$(head -5 "$W/labels.err")"
fi

# cpu and cgroup: a drop without a socket has cgroup 0; the CPUs' rows add up.
if start cpu $((P + 3)) --metrics-labels cpu,cgroup,family; then
	rst 4 6 4004 9
	rst 6 2 4004 9
	i=0
	sum=0
	while [ $i -lt 100 ] && [ "$sum" != 8 ]; do
		scrape $((P + 3)) "$W/c1"
		sum=$(series "$W/c1" | awk '{ s += $2 } END { print s + 0 }')
		sleep 0.1
		i=$((i + 1))
	done
	check_eq metrics-labels-cpu-sum 8 "$sum"
	check_eq metrics-labels-cgroup "0 0" "$(series "$W/c1" | grep -c -v 'cgroup="0"') $(series "$W/c1" |
		grep -c -v 'cpu="[0-9]*"')"
	check_eq metrics-labels-family "6 2" "$(series "$W/c1" | awk '/family="ipv4"/ { a += $2 }
		/family="ipv6"/ { b += $2 } END { print a + 0, b + 0 }')"
	stop
else
	fail metrics-labels-cpu-start "$(head -5 "$W/cpu.err")"
fi

# ---- The kernel's own counters: a listen-queue overflow, counted by the MIB ------------------

# counter NAME: the namespace's own value of a /proc/net/netstat counter (TcpExtListenOverflows).
counter() {
	"$IP" netns exec "$NS" cat /proc/net/netstat |
		awk -v want="$1" '
			$1 == prev { for (i = 2; i <= NF; i++) if (g names[i] == want) print $i }
			{ prev = $1; g = substr($1, 1, length($1) - 1); for (i = 2; i <= NF; i++) names[i] = $i }'
}
# Where fentry or kprobes work (the qemu guests), the SYNs are traced; here none is.
traced_expected=0
if grep -q ' tcp_conn_request$' /proc/kallsyms 2>/dev/null &&
	[ -d /sys/bus/event_source/devices/kprobe ]; then
	traced_expected=all
fi
KP=$((P + 9))
if start kernel $KP --user nobody; then
	o0=$(counter TcpExtListenOverflows)
	"$BURST" -n 30 "$NS" 8120 > "$W/burst.out" 2>&1
	o1=$(counter TcpExtListenOverflows)
	d=$((o1 - o0))
	[ "$traced_expected" = all ] && traced_expected=$d
	kl="tcpdrop_kernel_drops_total{netns=\"$NSID\",counter=\"TcpExtListenOverflows\"} $d"
	tl="tcpdrop_kernel_drops_traced_total{netns=\"$NSID\",counter=\"TcpExtListenOverflows\"} $traced_expected"
	check_eq metrics-kernel-burst "connects 30 1" "$(cat "$W/burst.out") $([ "$d" -ge 20 ] && echo 1)"
	# The namespace is read once a second at most: the line comes within a few scrapes.
	if wait_line $KP "$W/k1" "$kl" && grep -qxF -- "$tl" "$W/k1"; then
		pass "metrics-kernel-overflows: the MIB's $d listen overflows, $traced_expected traced"
	else
		fail metrics-kernel-overflows "want [$kl] [$tl], got: $(grep '^tcpdrop_kernel' "$W/k1")"
	fi
	check_grep metrics-kernel-listen-drops "^tcpdrop_kernel_drops_total{netns=\"$NSID\",counter=\"TcpExtListenDrops\"} $d\$" \
		"$W/k1"
	check_grep metrics-kernel-type '^# TYPE tcpdrop_kernel_drops_total counter$' "$W/k1"
	check_grep metrics-kernel-traced-type '^# TYPE tcpdrop_kernel_drops_traced_total counter$' \
		"$W/k1"
	check_eq metrics-kernel-only-ours "" "$(grep '^tcpdrop_kernel' "$W/k1" | grep -v "netns=\"$NSID\"")"
	promtool_clean kernel "$W/k1"
	stop
	check_eq metrics-kernel-exit 0 "$?"
else
	fail metrics-kernel-start "$(head -5 "$W/kernel.err")"
fi

# ---- A script beside it: its own metrics (escaped), its events, and slow clients -----------

cat > "$W/script.lua" <<'EOF'
local metrics = require("tcpdrop.metrics")
local mine = metrics.counter("test_script_drops_total", "Drops the script saw.\nTwo lines.")
local last = metrics.gauge("test_script_last_dport", "The last drop's port.")
function drop(e)
	mine:inc({ dport = e.dport, note = 'a"b\\c\nd' })
	last:set(nil, e.dport)
	print("drop " .. e.dport)
	io.stdout:flush()
end
EOF
SP=$((P + 4))
if start script $SP -s "$W/script.lua"; then
	# Slow clients: connected and silent, or a request cut short; the limit per address is 8.
	for n in 1 2 3 4 5; do
		python3 "$HERE/http.py" idle $SP 40 > "$W/idle$n" 2>&1 &
		BG="$BG $!"
	done
	python3 "$HERE/http.py" idle $SP 40 "GET /metr" > "$W/idle6" 2>&1 &
	IDLE6=$!
	BG="$BG $IDLE6"
	i=0
	while [ $i -lt 100 ] && [ "$(cat "$W"/idle* 2>/dev/null | grep -c open)" != 6 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rst 4 9 4005 9
	i=0
	while [ $i -lt 100 ] && [ "$(grep -c '^drop 9$' "$W/script.out")" != 9 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check_eq "metrics-slow-client-tracing: 6 slow clients held, the script saw every drop" 9 \
		"$(grep -c '^drop 9$' "$W/script.out")"
	if wait_line $SP "$W/x1" 'tcpdrop_drops_total{reason="NO_SOCKET"} 9'; then
		pass "metrics-slow-client-scrape: served beside them, NO_SOCKET 9"
	else
		fail metrics-slow-client-scrape "$(grep -v '^#' "$W/x1" | head -5)"
	fi
	check_grep metrics-script-escaped '^test_script_drops_total{dport="9",note="a\\"b\\\\c\\nd"} 9$' "$W/x1"
	check_grep metrics-script-help-escaped '^# HELP test_script_drops_total Drops the script saw.\\nTwo lines.$' "$W/x1"
	check_grep metrics-script-gauge '^test_script_last_dport 9$' "$W/x1"
	promtool_clean script "$W/x1"
	# The server closes them after its 10 s timeout (bounded here by the clients' own 40 s).
	wait "$IDLE6"
	check_eq metrics-slow-client-timeout "open closed" "$(tr '\n' ' ' < "$W/idle6" | sed 's/ $//')"
	stop
	check_eq metrics-script-exit 0 "$?"
else
	fail metrics-script-start "$(head -5 "$W/script.err")"
fi

# ---- Errors: one line each --------------------------------------------------------------------

for a in 1.2.3:80 70000 0 host:80 '[::1:80' 127.0.0.1:; do
	"$TCPDROP" --metrics "$a" -d 1 > /dev/null 2> "$W/bad.err"
	rc=$?
	check_eq "metrics-bad-addr '$a'" "2 tcpdrop: --metrics: '$a' is not [ADDR:]PORT" \
		"$rc $(head -1 "$W/bad.err" | cut -d'(' -f1 | sed 's/ $//')"
done
"$TCPDROP" --metrics 9 --metrics-labels reason,pod > /dev/null 2> "$W/bad.err"
check_eq metrics-bad-label "2 tcpdrop: --metrics-labels: 'pod' is not a label" \
	"$? $(head -1 "$W/bad.err" | cut -d'(' -f1 | sed 's/ $//')"
"$TCPDROP" --metrics-labels reason > /dev/null 2> "$W/bad.err"
check_eq metrics-labels-alone "2" "$?"
"$TCPDROP" --metrics 9 -r /dev/null > /dev/null 2> "$W/bad.err"
check_eq metrics-with-replay "2" "$?"
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("listening", flush=True); time.sleep(30)' $((P + 5)) > "$W/holder" 2>&1 &
HOLDER=$!
BG="$BG $HOLDER"
i=0
while [ $i -lt 100 ] && ! grep -q listening "$W/holder"; do
	sleep 0.1
	i=$((i + 1))
done
"$TCPDROP" --metrics "127.0.0.1:$((P + 5))" -d 5 > /dev/null 2> "$W/inuse.err"
check_eq metrics-port-in-use "1 1 tcpdrop: --metrics: cannot listen on 127.0.0.1:$((P + 5)): Address already in use" \
	"$? $(wc -l < "$W/inuse.err") $(cat "$W/inuse.err")"
{ kill "$HOLDER" && wait "$HOLDER"; } 2>/dev/null

# ---- Overflow of a small set, and the probe's run counts ---------------------------------------

echo 1 > "$STATS" 2>/dev/null
if start over $((P + 6)) --metrics-labels sport --max-keys 3; then
	for s in 4010 4011 4012 4013 4014 4015; do
		rst 4 2 $s 9
	done
	i=0
	tot=0
	while [ $i -lt 100 ] && [ "$tot" != 12 ]; do
		scrape $((P + 6)) "$W/o1"
		over=$(sed -n 's/^tcpdrop_map_overflow_total //p' "$W/o1")
		tot=$(series "$W/o1" | awk -v o="${over:-0}" '{ s += $2 } END { print s + o }')
		sleep 0.1
		i=$((i + 1))
	done
	n=$(series "$W/o1" | wc -l)
	if [ "$tot" = 12 ] && [ "$n" = 3 ] && [ "${over:-0}" -ge 6 ]; then
		pass "metrics-overflow: 6 ports into 3 label sets: $n series, $over drops in tcpdrop_map_overflow_total, 12 in all"
	else
		fail metrics-overflow "$n series, overflow $over, total $tot (want 3, >= 6, 12)"
	fi
	runs=$(sed -n 's/^tcpdrop_bpf_runs_total //p' "$W/o1")
	secs=$(sed -n 's/^tcpdrop_bpf_run_seconds_total //p' "$W/o1")
	if [ "$(cat "$STATS")" = 1 ] && [ "${runs:-0}" -ge 12 ] &&
		awk -v s="${secs:-0}" 'BEGIN { exit !(s > 0) }'; then
		pass "metrics-bpf-stats: $runs runs, $secs s, for 12 drops (every kfree_skb of the host runs it)"
	else
		fail metrics-bpf-stats "runs [$runs] seconds [$secs] with bpf_stats_enabled $(cat "$STATS")"
	fi
	promtool_clean overflow "$W/o1"
	# 8 connections per client address: a ninth is closed at once, and when the 8 go, a
	# scrape is served again.
	held=""
	for n in 1 2 3 4 5 6 7 8; do
		python3 "$HERE/http.py" idle $((P + 6)) 30 > "$W/hold$n" 2>&1 &
		held="$held $!"
		BG="$BG $!"
	done
	i=0
	while [ $i -lt 100 ] && [ "$(cat "$W"/hold* 2>/dev/null | grep -c open)" != 8 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check_eq metrics-per-address-limit "open closed" \
		"$(python3 "$HERE/http.py" idle $((P + 6)) 20 | tr '\n' ' ' | sed 's/ $//')"
	for p in $held; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if wait_line $((P + 6)) "$W/o2" "tcpdrop_map_overflow_total $over"; then
		pass "metrics-per-address-limit-after: served once they went"
	else
		fail metrics-per-address-limit-after "$(head -3 "$W/o2")"
	fi
	stop
else
	fail metrics-overflow-start "$(head -5 "$W/over.err")"
fi
echo "$stats_before" > "$STATS"
check_eq metrics-bpf-stats-restored "$stats_before" "$(cat "$STATS")"

# ---- node_exporter's textfile collector, reading the prom script's file ---------------------

mkdir "$W/textfile"
"$TCPDROP" --netns-id "$NSID" --no-stack -d 300 -s prom -- file="$W/textfile/tcpdrop.prom" \
	every=1 > "$W/prom.out" 2> "$W/prom.err" &
TD=$!
BG="$BG $TD"
i=0
while [ $i -lt 300 ] && [ ! -s "$W/textfile/tcpdrop.prom" ]; do
	sleep 0.1
	i=$((i + 1))
done
rst 4 4 4020 9
NP=$((P + 7))
prometheus-node-exporter --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$W/textfile" --web.listen-address="127.0.0.1:$NP" \
	> "$W/node.log" 2>&1 &
NODE=$!
BG="$BG $NODE"
want='tcpdrop_drops_total{port="9",reason="NO_SOCKET"} 4'
if wait_line $NP "$W/n1" "$want" || { sleep 2 && wait_line $NP "$W/n1" "$want"; }; then
	pass "metrics-node-exporter: $(prometheus-node-exporter --version 2>&1 | head -1 | cut -d' ' -f1-3) read the prom script's 4 drops"
else
	fail metrics-node-exporter "$(grep tcpdrop "$W/n1" | head -5; tail -3 "$W/node.log")"
fi
check_grep metrics-node-exporter-no-error '^node_textfile_scrape_error 0$' "$W/n1"
{ kill "$NODE" && wait "$NODE"; } 2>/dev/null
stop

# ---- 10,000 series in one scrape, timed ---------------------------------------------------------

BP=$((P + 8))
if start big $BP --metrics-labels sport --max-keys 20000; then
	"$IP" netns exec "$NS" python3 "$HERE/rsts.py" 127.0.0.1 127.0.0.1 9 20000 10000 > "$W/rsts"
	i=0
	tot=0
	while [ $i -lt 100 ] && [ "$tot" != 10000 ]; do
		scrape $BP "$W/b1"
		tot=$(series "$W/b1" | awk '{ s += $2 } END { print s + 0 }')
		sleep 0.1
		i=$((i + 1))
	done
	check_eq metrics-10k-series "10000 10000 0" "$(series "$W/b1" | wc -l) $tot $(sed -n \
		's/^tcpdrop_map_overflow_total //p' "$W/b1")"
	t=""
	# Each a fresh render: the server serves a page again for 250 ms.
	for n in 1 2 3; do
		sleep 0.3
		t="$t $(curl -s -m 10 -o "$W/b2" -w '%{time_total}' "http://127.0.0.1:$BP/metrics")"
	done
	c=$(curl -s -m 10 -o "$W/b3" -w '%{time_total}' "http://127.0.0.1:$BP/metrics")
	pass "metrics-10k-scrape-time: 10,000 series, $(wc -c < "$W/b2") bytes, seconds per scrape:$t (served again within 250 ms: $c)"
	promtool_clean 10k "$W/b2"
	stop
else
	fail metrics-10k-start "$(head -5 "$W/big.err")"
fi
