#!/bin/sh
# Live tests (root): real TCP drops in network namespaces made here, checked line by line against
# what ./tcpdrop prints. POSIX sh, also busybox sh: it runs unchanged in the kernel-matrix guests.
. "$(dirname "$0")/../lib.sh"

NEEDS="sed grep sort head cat cmp diff mktemp id uname"
HELPERS="segsend tcpconn tdutil"
echo "live: needs ip (iproute2), nft, $NEEDS, $TCPDROP and $TESTBIN/{$(echo "$HELPERS" | sed 's/ /,/g')}"

missing=""
NFT=$(find_cmd nft -v nftables) || missing=" nft"
need_live live "$NEEDS" "$TCPDROP" "$TESTBIN/segsend" "$TESTBIN/tcpconn" "$TESTBIN/tdutil" || exit 1

SEGSEND=$TESTBIN/segsend
TCPCONN=$TESTBIN/tcpconn
TDUTIL=$TESTBIN/tdutil

# Names and addresses of this run only: two namespaces joined by a veth pair.
ID=$$
NSA=tdlive-a-$ID
NSB=tdlive-b-$ID
o2=$((ID % 250 + 1))
o3=$((ID / 250 % 250 + 1))
A4=10.$o2.$o3.1
B4=10.$o2.$o3.2
A6=fd00:$o2:$o3::1
B6=fd00:$o2:$o3::2
# The ESTABLISHED connections have addresses of their own (CA*, CB*), so that what becomes of
# them (their close, when the holder ends, purges a FIN: a drop) never reaches a run that did
# not ask for them.
CA4=10.$o2.$o3.129
CB4=10.$o2.$o3.130
CA6=fd00:$o2:$o3:1::1
CB6=fd00:$o2:$o3:1::2
# Every run is limited to the addresses it makes drops on, so drops made elsewhere (on the
# machine, or by another test's connections) never show: MINE for the segments sent to closed
# or filtered ports, CONNS for the ESTABLISHED connections.
MINE="--addr 10.$o2.$o3.0/25 --addr fd00:$o2:$o3::/64"
CONNS="--addr 10.$o2.$o3.128/25 --addr fd00:$o2:$o3:1::/64"
CLOSED=9 # nothing listens there
NFPORT=7 # an nft rule in B drops what goes there
W=$(mktemp -d "$TMPDIR/tcpdrop-live.XXXXXX") || exit 1
BG=""

cleanup() {
	for p in $BG; do
		kill "$p" 2>/dev/null
	done
	"$IP" netns del "$NSA" 2>/dev/null
	"$IP" netns del "$NSB" 2>/dev/null
	if [ -n "${LIVE_KEEP:-}" ]; then
		echo "live: outputs kept in $W"
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
		"$IP" link add "tdla$ID" netns "$NSA" type veth peer name "tdlb$ID" netns "$NSB" &&
		"$IP" -n "$NSA" addr add "$A4/24" dev "tdla$ID" &&
		"$IP" -n "$NSB" addr add "$B4/24" dev "tdlb$ID" &&
		"$IP" -n "$NSA" addr add "$A6/64" dev "tdla$ID" nodad &&
		"$IP" -n "$NSB" addr add "$B6/64" dev "tdlb$ID" nodad &&
		"$IP" -n "$NSA" addr add "$CA4/24" dev "tdla$ID" &&
		"$IP" -n "$NSB" addr add "$CB4/24" dev "tdlb$ID" &&
		"$IP" -n "$NSA" addr add "$CA6/64" dev "tdla$ID" nodad &&
		"$IP" -n "$NSB" addr add "$CB6/64" dev "tdlb$ID" nodad &&
		"$IP" -n "$NSA" link set lo up && "$IP" -n "$NSB" link set lo up &&
		"$IP" -n "$NSA" link set "tdla$ID" up && "$IP" -n "$NSB" link set "tdlb$ID" up &&
		inb "$NFT" -f - <<EOF
table inet tdlive {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport $NFPORT drop
	}
}
EOF
}
if ! setup >"$W/setup.err" 2>&1; then
	fail live-setup "namespaces, veth or nft rule: $(head -3 "$W/setup.err")"
	exit 1
fi
pass "live-setup: namespaces $NSA, $NSB, veth, nft rule"

# ---- What the running kernel calls things -------------------------------------------------

FMT=""
for f in /sys/kernel/tracing/events/skb/kfree_skb/format \
	/sys/kernel/debug/tracing/events/skb/kfree_skb/format; do
	if [ -r "$f" ]; then
		FMT=$f
		break
	fi
done
"$TCPDROP" --list-reasons >"$W/reasons" 2>"$W/reasons.err"
if [ -n "$FMT" ]; then
	grep -q 'field:.* reason;' "$FMT" && HAS_REASON=1 || HAS_REASON=0
else
	grep -q '^NO_SOCKET ' "$W/reasons" && HAS_REASON=1 || HAS_REASON=0
fi
# Drops inside TCP (tcp_validate_incoming) have no skb->sk; only the tracepoint's rx_sk (6.11+)
# names their socket. Without it tcpdrop must say '-' rather than guess.
EST=ESTABLISHED
if [ -n "$FMT" ] && ! grep -q 'field:.* rx_sk;' "$FMT"; then
	EST=-
fi
echo "live: kernel $(uname -r), tracepoint format ${FMT:-not readable}, drop reasons: $HAS_REASON, socket of TCP-internal drops: $EST"

# The kernel's code for a reason name: from the tracepoint format, else from --list-reasons.
code_of() {
	if [ -n "$FMT" ] && [ $HAS_REASON = 1 ]; then
		sed -n "s/.*{ \([0-9][0-9]*\), \"$1\" }.*/\1/p" "$FMT"
	else
		sed -n "s/^$1  *\([0-9][0-9]*\) .*/\1/p" "$W/reasons"
	fi
}

# The first of these names this kernel has (a reason is often renamed or split between versions).
pick() {
	for r in "$@"; do
		[ -n "$(code_of "$r")" ] && echo "$r" && return
	done
	echo NOT_SPECIFIED
}

if [ $HAS_REASON = 1 ]; then
	R_NOSOCK=$(pick NO_SOCKET)
	R_NF=$(pick NETFILTER_DROP)
	R_OOW=$(pick TCP_INVALID_SEQUENCE)
	R_SYN=$(pick TCP_INVALID_SYN)
	R_PURGE=$(pick QUEUE_PURGE)
	if [ -n "$FMT" ]; then
		bad=""
		for r in $R_NOSOCK $R_NF $R_OOW $R_SYN $R_PURGE; do
			l=$(sed -n "s/^$r  *\([0-9][0-9]*\) .*/\1/p" "$W/reasons")
			[ "$l" = "$(code_of "$r")" ] || bad="$bad $r=$l/$(code_of "$r")"
		done
		check_eq "--list-reasons agrees with the tracepoint format" "" "$bad"
	fi
fi

# "NAME (CODE)" as the reason column prints it; kernels and probes with no reason say UNKNOWN (0).
REASONS=$HAS_REASON
rcol() {
	if [ $REASONS = 1 ]; then
		echo "$1 ($(code_of "$1"))"
	else
		echo "UNKNOWN (0)"
	fi
}

# ---- Expected and printed events ------------------------------------------------------------

header() {
	printf '%-8s %-7s %-2s %-20s > %-20s %-20s %s\n' TIME PID IP SADDR:SPORT DADDR:DPORT \
		"STATE (FLAGS)" "REASON (CODE)"
}
classic_header() {
	printf '%-8s %-6s %-2s %-20s > %-20s %s (%s)\n' TIME PID IP SADDR:SPORT DADDR:DPORT STATE FLAGS
}

# row IP SADDR:SPORT DADDR:DPORT "STATE (FLAGS)" REASON FIRST-FRAME: one event as events() shows it
# (IPv6 endpoints in brackets, [ADDR]:PORT, as the default printer writes them).
row() {
	row_s=$2 row_d=$3
	if [ "$1" = 6 ]; then
		row_s="[${2%:*}]:${2##*:}" row_d="[${3%:*}]:${3##*:}"
	fi
	printf '%-8s %-7s %-2s %-20s > %-20s %-20s %s  => %s\n' HH:MM:SS PID "$1" "$row_s" "$row_d" \
		"$4" "$(rcol "$5")" "$6"
}
classic_row() {
	printf '%-8s %-6s %-2s %-20s > %-20s %s  => %s\n' HH:MM:SS PID "$1" "$2" "$3" "$4" "$5"
}

# The netfilter drop site moved from nf_hook_slow into nft_do_chain in later kernels: either is
# the dropping function, and both print as this one name.
NF_FRAME="nft_do_chain|nf_hook_slow"

# events FILE PID-WIDTH: one line per event, "ROW  => FIRST-FRAME", sorted (per-CPU buffers may
# print events of different CPUs out of order); the time and pid columns become HH:MM:SS and PID.
# The header is left out; anything that breaks "row, frames, empty line" shows as a ?? line.
events() {
	sed -e "s/^[0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9][0-9 ]\{$(($2 - 1))\} /HH:MM:SS $(printf "%-$2s" PID) /" "$1" | {
		first=1 row="" frame=""
		while IFS= read -r l; do
			if [ $first = 1 ]; then
				first=0
				continue
			fi
			case $l in
			"")
				if [ -n "$row" ]; then
					echo "$row  => ${frame:-(no stack)}"
				else
					echo "?? empty line without a row"
				fi
				row="" frame=""
				;;
			"	"*)
				if [ -z "$row" ]; then
					echo "?? frame without a row: $l"
				elif [ -z "$frame" ]; then
					case $l in
					"	"[A-Za-z_]*+0x[0-9a-f]*)
						frame=${l#?}
						frame=${frame%%+0x*}
						;;
					*) frame="?? $l" ;;
					esac
				fi
				;;
			*)
				# A row with no frame lines needs no empty line (--no-stack prints none).
				if [ -n "$row" ] && [ -z "$frame" ]; then
					echo "$row  => (no stack)"
				elif [ -n "$row" ]; then
					echo "?? row not ended by an empty line: $row"
				fi
				row=$l frame=""
				;;
			esac
		done
		if [ -n "$row" ] && [ -z "$frame" ]; then
			echo "$row  => (no stack)"
		elif [ -n "$row" ]; then
			echo "?? last row not ended by an empty line: $row"
		fi
	} | sed -e "s/=> nft_do_chain\$/=> $NF_FRAME/" -e "s/=> nf_hook_slow\$/=> $NF_FRAME/" |
		LC_ALL=C sort
}

# want NAME: the expected events, from stdin, sorted as events() sorts.
want() {
	LC_ALL=C sort >"$W/$1.want"
}

# ---- Running tcpdrop ---------------------------------------------------------------------

# start NAME ARGS...: tcpdrop in the background (bounded by a watchdog), output in $W/NAME.*;
# returns once the header is out, i.e. once the probe is attached.
start() {
	run=$1
	shift
	"$TDUTIL" timeout 20 "$TCPDROP" "$@" >"$W/$run.out" 2>"$W/$run.err" &
	tpid=$!
	"$TDUTIL" waitfor "$W/$run.out" TIME 10 $tpid
}

# finish: wait for the run to end; its exit code in $rc.
finish() {
	wait $tpid
	rc=$?
}

# stop_after TEXT [SIG]: once TEXT is printed (and a moment for anything queued before it), stop.
stop_after() {
	"$TDUTIL" waitfor "$W/$run.out" "$1" 5 $tpid
	"$TDUTIL" sleep 0.2
	kill -"${2:-INT}" $tpid 2>/dev/null
	finish
}

# verify NAME EXPECTED-EXIT [classic]: the header, the events against $W/NAME.want, the exit code.
verify() {
	if [ "${3:-}" = classic ]; then
		h=$(classic_header)
		pw=6
	else
		h=$(header)
		pw=7
	fi
	check_eq "$1: exit code" "$2" "$rc"
	check_eq "$1: header" "$h" "$(head -1 "$W/$1.out")"
	events "$W/$1.out" $pw >"$W/$1.got"
	check_file "$1: events" "$W/$1.want" "$W/$1.got"
}

# stderr_empty NAME: nothing on stderr (no libbpf chatter without -v).
stderr_empty() {
	check_eq "$1: stderr empty" "" "$(head -3 "$W/$1.err")"
}

# ---- Ways to make drops --------------------------------------------------------------------

# A SYN from A to a closed port of B: B drops it (no socket) and answers RST|ACK, which A drops
# in turn (no socket on A's side either: the SYN came from a raw socket).
syn_closed4() { ina "$SEGSEND" "$A4" "$1" "$B4" $CLOSED S; }
syn_closed6() { ina "$SEGSEND" "$A6" "$1" "$B6" $CLOSED S; }
rows_closed4() {
	row 4 "$A4:$1" "$B4:$CLOSED" "- (SYN)" "$R_NOSOCK" tcp_v4_rcv
	row 4 "$B4:$CLOSED" "$A4:$1" "- (RST|ACK)" "$R_NOSOCK" tcp_v4_rcv
}
rows_closed6() {
	row 6 "$A6:$1" "$B6:$CLOSED" "- (SYN)" "$R_NOSOCK" tcp_v6_rcv
	row 6 "$B6:$CLOSED" "$A6:$1" "- (RST|ACK)" "$R_NOSOCK" tcp_v6_rcv
}
syn_row4() { rows_closed4 "$1" | head -1; }
rst_row4() { rows_closed4 "$1" | sed 1d; }

# A SYN that B's nft rule drops.
nft4() { ina "$SEGSEND" "$A4" "$1" "$B4" $NFPORT S; }
nft6() { ina "$SEGSEND" "$A6" "$1" "$B6" $NFPORT S; }
row_nft4() { row 4 "$A4:$1" "$B4:$NFPORT" "- (SYN)" "$R_NF" "$NF_FRAME"; }
row_nft6() { row 6 "$A6:$1" "$B6:$NFPORT" "- (SYN)" "$R_NF" "$NF_FRAME"; }

# Two connections A -> B held open for tcpconn's longest hold (they close on purpose below, and
# at cleanup); tcpconn tells the client port and B's rcv_nxt and snd_nxt.
CONN_PIDS=""
estab() {
	"$TCPCONN" -t 600 estab "$NSB" "$1" "$2" "$NSA" "$3" >"$W/conn$4" 2>"$W/conn$4.err" &
	BG="$BG $!"
	CONN_PIDS="$CONN_PIDS $!"
	if ! "$TDUTIL" waitfor "$W/conn$4" " " 5 $!; then
		fail "live-setup: ESTABLISHED connection over IPv$4" "$(head -3 "$W/conn$4.err")"
		return 1
	fi
	pass "live-setup: ESTABLISHED connection over IPv$4"
}
HAVE_ESTAB=1
estab "$CB4" 8080 "$CA4" 4 && read -r CPORT4 RCV4 SND4 <"$W/conn4" || HAVE_ESTAB=0
estab "$CB6" 8086 "$CA6" 6 && read -r CPORT6 RCV6 SND6 <"$W/conn6" || HAVE_ESTAB=0

# A segment far beyond B's receive window, and a SYN, on the established connections: B drops
# both in tcp_validate_incoming (and answers with an ACK, which A takes without a drop).
oow4() { ina "$SEGSEND" "$CA4" "$CPORT4" "$CB4" 8080 A $(((RCV4 + 1073741824) % 4294967296)) "$SND4"; }
oow6() { ina "$SEGSEND" "$CA6" "$CPORT6" "$CB6" 8086 A $(((RCV6 + 1073741824) % 4294967296)) "$SND6"; }
synest4() { ina "$SEGSEND" "$CA4" "$CPORT4" "$CB4" 8080 S 12345; }
synest6() { ina "$SEGSEND" "$CA6" "$CPORT6" "$CB6" 8086 S 12345; }
rows_estab() {
	row 4 "$CA4:$CPORT4" "$CB4:8080" "$EST (ACK)" "$R_OOW" tcp_validate_incoming
	row 4 "$CA4:$CPORT4" "$CB4:8080" "$EST (SYN)" "$R_SYN" tcp_validate_incoming
	row 6 "$CA6:$CPORT6" "$CB6:8086" "$EST (ACK)" "$R_OOW" tcp_validate_incoming
	row 6 "$CA6:$CPORT6" "$CB6:8086" "$EST (SYN)" "$R_SYN" tcp_validate_incoming
}

# ---- The core scenarios, in each probe mode --------------------------------------------------

# core MODE SOCKET-DROPS: NO_SOCKET, NETFILTER_DROP and ESTABLISHED drops, IPv4 and IPv6. Drops
# inside TCP on kernels without reasons go through tcp_drop(), which the tracepoint never sees.
core() {
	m=$1
	if [ "$m" = tp_btf ] || [ "$m" = raw_tp ] || [ "$m" = tracepoint ]; then
		start "$m-nosocket" --probe "$m" -v -c 4 -d 10 $MINE
		syn_closed4 40001
		syn_closed6 40002
		finish
		{
			rows_closed4 40001
			rows_closed6 40002
		} | want "$m-nosocket"
		verify "$m-nosocket" 0
		check_grep "$m-nosocket: -v names the probe" "probe: $m" "$W/$m-nosocket.err"

		start "$m-netfilter" --probe "$m" -c 2 -d 10 $MINE
		nft4 40003
		nft6 40004
		finish
		{
			row_nft4 40003
			row_nft6 40004
		} | want "$m-netfilter"
		verify "$m-netfilter" 0
		stderr_empty "$m-netfilter"
	fi
	if [ "$2" = 1 ] && [ $HAVE_ESTAB = 1 ]; then
		start "$m-established" --probe "$m" -c 4 -d 10 $CONNS
		oow4
		synest4
		oow6
		synest6
		finish
		rows_estab | want "$m-established"
		verify "$m-established" 0
		stderr_empty "$m-established"
	elif [ "$2" = 1 ]; then
		fail "$m-established" "no ESTABLISHED connection to drop on (see live-setup)"
	else
		echo "NOTE live: --probe $m alone on a kernel without drop reasons cannot see TCP's own drops (tcp_drop, inlined); the automatic choice adds the tcp_validate_incoming pair for them"
	fi
}

for m in tp_btf raw_tp tracepoint; do
	core $m $HAS_REASON
done

# kprobe and fentry watch tcp_drop() (gone since 5.17, inlined in 5.10), else the pair on
# tcp_validate_incoming(), which sees the drops TCP itself makes there, with their socket. Both
# need the kernel's function tracing: where kprobes exist, so does fentry in every kernel seen
# (the matrix's 5.10, 6.1, 6.12 have both; the build machine neither). Where they cannot work
# they must fail with one clear line.
HAS_DROP_FN=0
grep -q -e ' tcp_drop$' -e ' tcp_validate_incoming$' /proc/kallsyms && HAS_DROP_FN=1
HAS_KPROBES=0
[ -d /sys/bus/event_source/devices/kprobe ] && HAS_KPROBES=1

# The automatic choice. Where the tracepoint has no reason (5.10), TCP's own drops bypass it:
# tcpdrop adds the tcp_validate_incoming pair, and shows them with their socket's state.
if [ $HAS_REASON = 0 ] && [ $HAS_DROP_FN = 1 ] && [ $HAS_KPROBES = 1 ]; then
	PAIR=1
	n=6
elif [ $HAS_REASON = 0 ]; then
	PAIR=0
	n=2
	echo "NOTE live: auto on a kernel without drop reasons and without kprobes cannot see drops in tcp_drop()"
else
	PAIR=0
	n=6
fi
if [ $HAVE_ESTAB = 1 ]; then
	start auto -v -c $n -d 10 $MINE $CONNS
	syn_closed4 40009
	oow4
	synest4
	oow6
	synest6
	finish
	{
		rows_closed4 40009
		if [ $PAIR = 1 ]; then
			# The pair has the socket, and no reason to give.
			est=$EST EST=ESTABLISHED REASONS=0
			rows_estab
			EST=$est REASONS=$HAS_REASON
		elif [ $HAS_REASON = 1 ]; then
			rows_estab
		fi
	} | want auto
	verify auto 0
	if [ $PAIR = 1 ]; then
		check_grep "auto: -v names the pair beside the tracepoint" \
			"^tcpdrop: probe: tp_btf on kfree_skb (2 tracepoint arguments) + [a-z/]* on tcp_validate_incoming\$" \
			"$W/auto.err"
	fi
else
	fail auto "no ESTABLISHED connection to drop on (see live-setup)"
fi

# What an in-kernel filter rejects is counted, not shown (done's stats.filtered_kernel), by the
# pair too where it is loaded: --sport 1 rejects the SYN, its RST|ACK and the out-of-window
# segment. Drops elsewhere on the machine fail $MINE and count as well: at least, not exactly.
if [ $HAVE_ESTAB = 1 ]; then
	echo 'function done(st) print("filtered_kernel " .. st.filtered_kernel) end' >"$W/filtered.lua"
	start filtered -s "$W/filtered.lua" -d 2 $MINE $CONNS --sport 1
	syn_closed4 40011
	oow4
	finish
	nf=$(sed -n 's/^filtered_kernel //p' "$W/filtered.out")
	min=2
	[ $PAIR = 1 ] || [ $HAS_REASON = 1 ] && min=3
	check_eq "filtered: exit code" 0 "$rc"
	check_eq "filtered: nothing shown" "" "$(sed '1d;/^filtered_kernel /d' "$W/filtered.out")"
	if [ -n "$nf" ] && [ "$nf" -ge $min ]; then
		pass "filtered: counted ($nf, at least $min)"
	else
		fail "filtered: counted" "filtered_kernel [$nf], expected at least $min"
	fi
fi

for m in kprobe fentry; do
	"$TDUTIL" timeout 10 "$TCPDROP" --probe $m -d 1 $MINE >"$W/$m.out" 2>"$W/$m.err"
	rc=$?
	if [ $rc = 0 ] && [ $HAS_DROP_FN = 1 ]; then
		pass "$m: attaches on this kernel (tcp_drop or tcp_validate_incoming exists)"
		est=$EST EST=ESTABLISHED REASONS=0
		core $m 1
		EST=$est REASONS=$HAS_REASON
	elif [ $HAS_DROP_FN = 1 ] && [ $HAS_KPROBES = 1 ]; then
		fail "$m: should attach here (tcp_drop or tcp_validate_incoming, and kprobes exist)" \
			"exit $rc: $(head -2 "$W/$m.err")"
	else
		check_eq "$m: cannot attach: exit code is not 0" 1 "$([ $rc != 0 ] && echo 1)"
		check_eq "$m: cannot attach: one line on stderr" 1 "$(grep -c . "$W/$m.err")"
		check_grep "$m: cannot attach: the line names tcpdrop" "^tcpdrop: " "$W/$m.err"
		check_eq "$m: cannot attach: nothing on stdout" "" "$(head -1 "$W/$m.out")"
	fi
done

# ---- The original 2018 output -----------------------------------------------------------------

start classic -s classic -c 4 -d 10 $MINE
syn_closed4 40005
syn_closed6 40006
finish
{
	classic_row 4 "$A4:40005" "$B4:$CLOSED" "- (SYN)" tcp_v4_rcv
	classic_row 4 "$B4:$CLOSED" "$A4:40005" "- (RST|ACK)" tcp_v4_rcv
	classic_row 6 "$A6:40006" "$B6:$CLOSED" "- (SYN)" tcp_v6_rcv
	classic_row 6 "$B6:$CLOSED" "$A6:40006" "- (RST|ACK)" tcp_v6_rcv
} | want classic
verify classic 0 classic
stderr_empty classic

if [ $HAVE_ESTAB = 1 ] && [ $HAS_REASON = 1 ]; then
	start classic-established -s classic -c 1 -d 10 $CONNS
	synest4
	finish
	classic_row 4 "$CA4:$CPORT4" "$CB4:8080" "$EST (SYN)" tcp_validate_incoming |
		want classic-established
	verify classic-established 0 classic
fi

# ---- A TCP packet dropped on a socket that is not TCP -------------------------------------

# The RST|ACK that A's TCP drops also sits in the queue of the raw socket that sent the SYN;
# closing that socket frees it again (QUEUE_PURGE). A raw socket's sk_state is not a TCP state:
# the row must say '-', not the CLOSE its sk_state field holds.
start raw-purge -c 3 -d 10 $MINE
ina "$SEGSEND" -k 1 "$A4" 40007 "$B4" $CLOSED S
finish
{
	rows_closed4 40007
	row 4 "$B4:$CLOSED" "$A4:40007" "- (RST|ACK)" "$R_PURGE" inet_sock_destruct
} | want raw-purge
verify raw-purge 0

# ---- Filters in the kernel: each run makes drops it must leave out, then one it must keep --------
# (and is stopped with SIGINT once that one is printed: -d is only the bound)

start ipv4-only -d 15 -4 $MINE
syn_closed6 40011
syn_closed4 40012
stop_after "$A4:40012"
rows_closed4 40012 | want ipv4-only
verify ipv4-only 0

start ipv6-only -d 15 -6 $MINE
syn_closed4 40013
syn_closed6 40014
stop_after "$A6:40014"
rows_closed6 40014 | want ipv6-only
verify ipv6-only 0

NETNS_A=$("$TDUTIL" ino "/var/run/netns/$NSA")
NETNS_B=$("$TDUTIL" ino "/var/run/netns/$NSB")
# B drops the SYN, A the RST|ACK: each namespace sees one of the two.
start netns-id-b -d 15 --netns-id "$NETNS_B" $MINE
syn_closed6 40015
nft6 40016
syn_closed4 40017
stop_after "$A4:40017"
{
	row 6 "$A6:40015" "$B6:$CLOSED" "- (SYN)" "$R_NOSOCK" tcp_v6_rcv
	row_nft6 40016
	syn_row4 40017
} | want netns-id-b
verify netns-id-b 0

"$IP" netns exec "$NSA" "$TDUTIL" sleep 150 &
HOLDER=$!
BG="$BG $HOLDER"
# ip enters the namespace, then execs the holder: give it time (a qemu guest without KVM is slow).
i=0
while [ "$("$TDUTIL" ino /proc/$HOLDER/ns/net)" != "$NETNS_A" ] && [ $i -lt 50 ]; do
	"$TDUTIL" sleep 0.1
	i=$((i + 1))
done
check_eq "--pid-netns: the holder process is in namespace A" "$NETNS_A" \
	"$("$TDUTIL" ino /proc/$HOLDER/ns/net)"
start pid-netns-a -d 15 --pid-netns $HOLDER $MINE
nft4 40018
syn_closed4 40019
stop_after "> $A4:40019"
rst_row4 40019 | want pid-netns-a
verify pid-netns-a 0

start port -d 15 --port 40021 $MINE
syn_closed4 40020
syn_closed6 40022
syn_closed4 40021
stop_after "> $A4:40021"
rows_closed4 40021 | want port
verify port 0

start sport -d 15 --sport 40024 $MINE
syn_closed4 40023
syn_closed4 40024
stop_after "$A4:40024"
syn_row4 40024 | want sport
verify sport 0

start dport -d 15 --dport 40026 $MINE
syn_closed4 40025
syn_closed4 40026
stop_after "> $A4:40026"
rst_row4 40026 | want dport
verify dport 0

# Address filters are one kind: they replace the $MINE filter instead of narrowing it.
start saddr -d 15 --saddr "10.$o2.$o3.0/31"
syn_closed6 40027
syn_closed4 40028
stop_after "$A4:40028"
syn_row4 40028 | want saddr
verify saddr 0

start daddr -d 15 --daddr "$A4"
syn_closed6 40029
syn_closed4 40030
stop_after "> $A4:40030"
rst_row4 40030 | want daddr
verify daddr 0

start addr -d 15 --addr "$B6/127"
syn_closed4 40031
syn_closed6 40032
stop_after "> $A6:40032"
rows_closed6 40032 | want addr
verify addr 0

if [ $HAS_REASON = 1 ]; then
	start reason -d 15 --reason "$R_NF" $MINE
	syn_closed4 40033
	syn_closed6 40034
	nft4 40035
	stop_after "$A4:40035"
	row_nft4 40035 | want reason
	verify reason 0

	start reason-list -d 15 --reason "$R_NOSOCK,$R_NF" -6 $MINE
	syn_closed4 40036
	nft6 40037
	syn_closed6 40038
	stop_after "> $A6:40038"
	{
		row_nft6 40037
		rows_closed6 40038
	} | want reason-list
	verify reason-list 0
else
	"$TDUTIL" timeout 10 "$TCPDROP" --reason NO_SOCKET -d 1 >"$W/reason.out" 2>"$W/reason.err"
	check_eq "--reason on a kernel without reasons: exit 2" 2 "$?"
	check_eq "--reason on a kernel without reasons: one line" 1 "$(grep -c . "$W/reason.err")"
fi
"$TDUTIL" timeout 10 "$TCPDROP" --reason NO_SOCKE -d 1 >"$W/badreason.out" 2>"$W/badreason.err"
check_eq "--reason misspelt: exit 2" 2 "$?"
check_eq "--reason misspelt: one line" 1 "$(grep -c . "$W/badreason.err")"

# ---- Run control ---------------------------------------------------------------------------

start no-stack --no-stack -c 2 -d 10 $MINE
syn_closed4 40041
finish
rows_closed4 40041 | sed 's/=> .*/=> (no stack)/' | want no-stack
verify no-stack 0

# -c 1 stops after the first of four drops, well before -d (the watchdog would say 124).
"$TDUTIL" timeout 10 "$TCPDROP" -c 1 -d 60 $MINE >"$W/count.out" 2>"$W/count.err" &
tpid=$!
run=count
"$TDUTIL" waitfor "$W/count.out" TIME 10 $tpid
syn_closed4 40042
syn_closed6 40043
finish
check_eq "-c 1: exit code" 0 "$rc"
events "$W/count.out" 7 >"$W/count.got"
check_eq "-c 1: one event" 1 "$(grep -c . "$W/count.got")"
{
	rows_closed4 40042
	rows_closed6 40043
} >"$W/count.any"
check_eq "-c 1: the event is one of those made" 1 \
	"$(grep -c -x -F -f "$W/count.got" "$W/count.any")"

start duration -d 1 $MINE
finish
check_eq "-d 1: exit code" 0 "$rc"
check_eq "-d 1: header only" "$(header)" "$(cat "$W/duration.out")"
stderr_empty duration

# No -d here: only the signal may end these runs (else the watchdog ends them, with 124). The
# script keeps the default printer and adds done(), which must run before the exit.
cat >"$W/done.lua" <<'EOF'
function done(stats)
	print("done: " .. tostring(stats.seen))
end
EOF
for sig in INT TERM; do
	start sig$sig -s "$W/done.lua" $MINE
	syn_closed4 40044
	stop_after "> $A4:40044" $sig
	check_eq "SIG$sig: done() ran, last" "done: 2" "$(sed -n '$p' "$W/sig$sig.out")"
	sed '$d' "$W/sig$sig.out" >"$W/sig$sig.rows"
	cat "$W/sig$sig.rows" >"$W/sig$sig.out"
	rows_closed4 40044 | want sig$sig
	verify sig$sig 0
	stderr_empty sig$sig
done

# ---- Bad input, through the real binary ----------------------------------------------------

# usage_error NAME ARGS...: exit 2, "tcpdrop: ..." then "Try 'tcpdrop -h' ...", nothing else.
usage_error() {
	n=$1
	shift
	"$TDUTIL" timeout 10 "$TCPDROP" "$@" >"$W/u.out" 2>"$W/u.err"
	check_eq "$n: exit 2" 2 "$?"
	check_eq "$n: two lines on stderr" 2 "$(grep -c . "$W/u.err")"
	check_grep "$n: says what is wrong" "^tcpdrop: " "$W/u.err"
	check_grep "$n: says where to look" "^Try 'tcpdrop -h'" "$W/u.err"
	check_eq "$n: nothing on stdout" "" "$(head -1 "$W/u.out")"
}
usage_error "unknown option" --bogus
usage_error "bad -c" -c 0
usage_error "bad --port" --port 70000
usage_error "bad --saddr" --saddr 10.0.0.0/33
usage_error "bad --probe" --probe nope

# one_error NAME EXIT PATTERN ARGS...: that exit code, one stderr line matching, empty stdout.
one_error() {
	n=$1 code=$2 pat=$3
	shift 3
	"$TDUTIL" timeout 10 "$TCPDROP" "$@" >"$W/e.out" 2>"$W/e.err"
	check_eq "$n: exit $code" "$code" "$?"
	check_eq "$n: one line on stderr" 1 "$(grep -c . "$W/e.err")"
	check_grep "$n: the line" "$pat" "$W/e.err"
	check_eq "$n: nothing on stdout" "" "$(head -1 "$W/e.out")"
}
one_error "script not found" 2 "^tcpdrop: .*$W/none.lua" -s "$W/none.lua" -d 1
printf 'function drop(e)\n\tx = = 1\nend\n' >"$W/syntax.lua"
one_error "Lua syntax error" 2 "^tcpdrop: .*$W/syntax.lua:2:" -s "$W/syntax.lua" -d 1

# A hook that fails at run time: file:line, a traceback, exit 1, and no waiting for -d.
cat >"$W/runtime.lua" <<'EOF'
local function check(e)
	error("no good: " .. e.dport)
end

function drop(e)
	check(e)
end

function init()
	print("ready")
end
EOF
"$TDUTIL" timeout 10 "$TCPDROP" -s "$W/runtime.lua" -d 60 $MINE >"$W/runtime.out" 2>"$W/runtime.err" &
tpid=$!
"$TDUTIL" waitfor "$W/runtime.out" ready 10 $tpid
# Another test's drops first, on purpose: the ESTABLISHED connections, no longer needed, close
# now (purging a FIN on each side: drops on 8080 and 8086), as they did late in a slow guest.
for p in $CONN_PIDS; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
nft4 40051
finish
check_eq "runtime error: exit 1" 1 "$rc"
check_eq "runtime error: first line" "tcpdrop: $W/runtime.lua:2: no good: $NFPORT" \
	"$(head -1 "$W/runtime.err")"
check_grep "runtime error: traceback" "^stack traceback:" "$W/runtime.err"
check_grep "runtime error: traceback names the hook" "$W/runtime.lua:6: in function 'drop'" \
	"$W/runtime.err"

# Not root: one line, non-zero.
"$TDUTIL" timeout 10 "$TDUTIL" runas 65534 65534 "$TCPDROP" -d 1 >"$W/nonroot.out" 2>"$W/nonroot.err"
rc=$?
check_eq "not root: exit code is not 0" 1 "$([ $rc != 0 ] && echo 1)"
check_eq "not root: one line on stderr" 1 "$(grep -c . "$W/nonroot.err")"
check_grep "not root: says so" "^tcpdrop: .*root" "$W/nonroot.err"
