#!/bin/sh
# Record and replay: -w files that tshark reads and -r replays byte for byte, foreign captures,
# broken files, write errors, and the reader's fuzz target. Live parts need root (else FAIL).
# Needs: tshark, capinfos, editcap, dumpcap (Debian: tshark), clang and libclang-rt-dev
# (the fuzz target), cc.
# FUZZ_SECONDS (default 60) bounds the fuzzing run.
. "$(dirname "$0")/../lib.sh"
HERE=$TOP/tests/pcapng
FIX=$HERE/fixtures
SYNTH=$TESTBIN/pcapng_synth
FUZZ=$TOP/build/fuzz/fuzz_pcapng
: "${FUZZ_SECONDS:=60}"
export TZ=UTC
W=$(mktemp -d "$TMPDIR/tcpdrop-pcapng.XXXXXX") || exit 1
MNT=
cleanup() {
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
TD=$TCPDROP

# Fields both tcpdrop -e and tshark -T fields can print: v4 src|v6 src|v4 dst|v6 dst|ports|flags.
TUPLE='local v4, v6 = e.family == 4, e.family == 6
io.write(string.format("%s|%s|%s|%s|%d|%d|0x%04x\n", v4 and e.saddr or "", v6 and e.saddr or "",
	v4 and e.daddr or "", v6 and e.daddr or "", e.sport, e.dport, e.tcp_flags))'
tshark_tuple() {
	tshark -r "$1" -Y 'tcp.hdr_len' -T fields -E separator='|' -e ip.src -e ipv6.src \
		-e ip.dst -e ipv6.dst -e tcp.srcport -e tcp.dstport -e tcp.flags 2>/dev/null
}
# Every field of an event, raw and derived; evflags less FRAME_IDS (0x40), which says that a
# replayed drop's frames are ids of their texts where a live one's are kernel addresses.
FIELDS='local s = e.stack
io.write(string.format("%d %d %d %d %d %d %d %d %d %d %d %d %d 0x%02x 0x%02x %d %s|%s|%s|%s|%s|%s|%s|%s|%d|%d|",
	e.ts_ns, e.family, e.pid, e.tid, e.cpu, e.netns, e.ifindex, e.len, e.seq, e.ack, e.win,
	e.sport, e.dport, e.tcp_flags, bit.band(e.evflags, 0xbf), e.reason_code, e.reason, e.state, e.saddr,
	e.daddr, e.comm, e.location, e.stack_status, s and table.concat(s, ",") or "-",
	e.pkt_len, e.hdr_len))
for i = 0, e.pkt_len - 1 do io.write(string.format("%02x", e.pkt[i])) end
io.write("\n")'

# lengths_are_ip FILE NAME: every packet's length on the wire is the one its IP header gives, not
# the kernel buffer's at the drop (which may hold a link header, or no longer the TCP header),
# and tshark finds no fault with a length.
lengths_are_ip() {
	tshark -r "$1" -T fields -E separator='|' -e frame.len -e ip.len -e ipv6.plen 2>/dev/null |
		awk -F'|' '{ ip = $2 != "" ? $2 : $3 + 40; if ($1 != ip) print NR ": " $0 }' >"$1.lens"
	check_eq "$2-length-is-ip-length" "" "$(cat "$1.lens")"
	tshark -r "$1" -q -z expert 2>/dev/null | grep -i -e malformed -e length >"$1.expert"
	check_eq "$2-no-length-warning" "" "$(cat "$1.expert")"
}

# build TARGET: make one of fuzz/fuzz.mk's targets, whether or not the Makefile includes it yet.
build() {
	if grep -q 'fuzz/fuzz.mk' "$TOP/Makefile"; then
		make -s -C "$TOP" "$1"
	else
		make -s -C "$TOP" -f Makefile -f fuzz/fuzz.mk "$1"
	fi
}

# ---------------------------------------------------------------- tools
missing=
for c in tshark capinfos editcap dumpcap clang cc; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
	fail tools "missing:$missing (sh contrib/deps.sh installs them)"
else
	pass tools
fi
[ -x "$SYNTH" ] || build build/tests/pcapng_synth >"$W/build.log" 2>&1
if [ -x "$SYNTH" ] && [ -x "$TD" ]; then
	pass build
else
	fail build "no $TD or $SYNTH:"
	sed 's/^/    /' "$W/build.log"
	exit 0
fi

# ---------------------------------------------------------------- the writer, without a kernel
# pcapng_synth records odd events with -w's writer and prints what a live run would. The replay
# gives back what was traced, but for the frame no symbol names (0x1234): a file holds no
# address, it has "?" there, and the writer says so once.
UNNAMED='frames without a kernel symbol are written as "?" (no kernel address goes into a file; naming frames needs CAP_SYSLOG)'
"$SYNTH" "$W/s.pcapng" >"$W/s.live" 2>"$W/s.err"
check_eq synth-exit 0 $?
sed 's/0x1234/?/g' "$W/s.live" >"$W/s.want"
check_eq synth-says-unnamed "tcpdrop: writing $W/s.pcapng: $UNNAMED" "$(cat "$W/s.err")"
"$TD" -r "$W/s.pcapng" >"$W/s.replay" 2>"$W/s.rerr"
check_eq replay-exit 0 $?
check_file replay-same-output "$W/s.want" "$W/s.replay"
check_eq replay-quiet "" "$(cat "$W/s.rerr")"
# Its own file: s.pcapng must stay the one s.live was printed from (times are the clock's).
"$SYNTH" -e "$FIELDS" "$W/f.pcapng" >"$W/f.live" 2>/dev/null
"$TD" -r "$W/f.pcapng" -e "$FIELDS" >"$W/f.replay"
sed -e 's/0x1234/?/g' "$W/f.live" \
	>"$W/f.want"
check_file replay-every-field "$W/f.want" "$W/f.replay"
# Replayed frames are ids of their texts, and flagged so (FRAME_IDS, 0x40): drops with frames only.
check_eq replay-frames-flagged ok "$("$TD" -r "$W/f.pcapng" -e 'local ids = bit.band(e.evflags, 0x40) ~= 0
io.write(ids == (e.nstack > 0 or e.loc_addr ~= 0) and "ok" or "bad", "\n")' | sort -u)"
# A file is data from elsewhere: a frame carrying an escape sequence must not reach the terminal.
esc=$(printf '\033')
sed "s/tcp_v4_rcv/${esc}[2Jv4_rcv/g" "$W/s.pcapng" >"$W/esc.pcapng"
"$TD" -r "$W/esc.pcapng" >"$W/esc.replay" 2>&1
check_grep replay-frame-escape-neutralised '?\[2Jv4_rcv' "$W/esc.replay"
check_nogrep replay-frame-escape-gone "$esc" "$W/esc.replay"
"$TD" -r "$W/s.pcapng" -s classic >"$W/c.replay"
check_grep replay-classic '^[0-9:]* 4242   6  2001:db8::1:443      > 2001:db8::2:50000    ESTABLISHED (ACK)$' "$W/c.replay"

tshark -r "$W/s.pcapng" -T fields -E separator='|' -e ip.src -e ipv6.src -e tcp.srcport \
	-e ip.dst -e ipv6.dst -e tcp.dstport -e tcp.flags -e tcp.seq_raw -e tcp.ack_raw \
	-e tcp.window_size_value -e frame.len -e frame.cap_len -e frame.comment \
	>"$W/s.tshark" 2>"$W/s.tshark.err"
check_eq tshark-exit 0 $?
check_file tshark-fields "$FIX/synth.tshark" "$W/s.tshark"
check_eq tshark-no-complaint "" "$(grep -v 'Running as user' "$W/s.tshark.err")"
lengths_are_ip "$W/s.pcapng" tshark
# Every frame but the first is a return address, named by the call before it: one right after a
# call that never returns is the next symbol's start (tcp_validate_incoming's), in tcp_v6_rcv.
check_grep tshark-return-address-named-by-its-call ' <- tcp_v6_rcv+0x10000 <- ' "$W/s.tshark"
# The stack comment keeps whole frames, within 511 characters, and counts those it leaves out;
# the custom option (what -r replays) has them all.
c=$(sed -n 's/.*comm curl,stack: //p' "$W/s.tshark")
kept=${c% <- ... (*}
left=$(echo "$c" | sed -n 's/.* <- \.\.\. (\([0-9]*\) more frames*)$/\1/p')
full=$("$TD" -r "$W/s.pcapng" -e 'if e.comm == "curl" then print(table.concat(e.stack, " <- ")) end')
nkept=$(echo "$kept" | awk -F' <- ' '{ print NF }')
case "$full" in
"$kept <- "*) whole=yes ;;
*) whole=no ;;
esac
check_eq tshark-stack-comment-whole-frames "yes 10 yes" \
	"$whole $((nkept + ${left:-99})) $([ $((${#kept} + 7)) -le 511 ] && echo yes)"

# kernel_addresses FILE: the kernel addresses (0xffffffff81...) FILE holds as text, or as 64-bit
# words in either byte order.
kernel_addresses() {
	grep -a -o -i -e 'ffffffff81[0-9a-f]*' -e '0xffff[0-9a-f]*' "$1"
	od -An -v -tx1 "$1" | tr -d '\n' | grep -o -e ' 81 ff ff ff ff' -e ' ff ff ff ff 81'
}
check_eq file-holds-no-address "" "$(kernel_addresses "$W/s.pcapng"; grep -a -c 0x1234 "$W/s.pcapng" | grep -v '^0$')"
# Without CAP_SYSLOG kallsyms shows every address as zeros: no frame has a symbol, and none may
# reach the file, in any block (KASLR): frames are "?", and tcpdrop says why, once each.
printf '0000000000000000 T _stext\n0000000000000000 T tcp_v4_rcv\n' >"$W/zeros.kallsyms"
"$SYNTH" -q -n 3 -k "$W/zeros.kallsyms" "$W/z.pcapng" 2>"$W/z.err"
check_eq nosyms-exit 0 $?
check_eq nosyms-no-address "" "$(kernel_addresses "$W/z.pcapng")"
check_eq nosyms-messages "tcpdrop: $W/zeros.kallsyms lists no addresses: naming kernel frames needs CAP_SYSLOG (and kernel.kptr_restrict below 2); stacks will show addresses|tcpdrop: writing $W/z.pcapng: $UNNAMED" \
	"$(paste -sd'|' "$W/z.err")"
"$TD" -r "$W/z.pcapng" -e 'if e.stack then io.write(e.location, " ", table.concat(e.stack, " "), "\n") end' |
	sort -u >"$W/z.frames"
check_eq nosyms-frames-unknown "? ?|? ? ?|? ? ? ? ? ? ? ? ? ? ?" "$(paste -sd'|' "$W/z.frames")"
# Wireshark's tools copy our options (code 2989 may be copied): a cut-down file still replays.
tshark -r "$W/s.pcapng" -w "$W/copy.pcapng" 2>/dev/null
"$TD" -r "$W/copy.pcapng" >"$W/copy.replay" 2>&1
check_file tshark-copy-replays "$W/s.want" "$W/copy.replay"
editcap -r "$W/s.pcapng" "$W/cut.pcapng" 2-3 >/dev/null 2>&1
"$TD" -r "$W/cut.pcapng" -e 'print(e.sport, e.stack_status)' >"$W/cut.replay" 2>&1
check_eq editcap-cut-replays "443 skipped|5555 failed" "$(tr '\t\n' ' |' <"$W/cut.replay" | sed 's/|$//')"
capinfos "$W/s.pcapng" >"$W/s.capinfos" 2>&1
check_grep capinfos-application "Capture application: *tcpdrop [0-9]" "$W/s.capinfos"
check_grep capinfos-os "Capture oper-sys: *Linux $(uname -r)" "$W/s.capinfos"
check_grep capinfos-host "Capture comment: *host $(uname -n)" "$W/s.capinfos"
check_grep capinfos-rawip "Encapsulation = Raw IP" "$W/s.capinfos"
check_grep capinfos-ns "Time precision = nanoseconds" "$W/s.capinfos"

# -w - writes the file to stdout; what the script prints goes to stderr.
"$SYNTH" - >"$W/stdout.pcapng" 2>"$W/stdout.live"
"$TD" -r - <"$W/stdout.pcapng" >"$W/stdout.replay"
grep -v "^tcpdrop: writing standard output: $UNNAMED" "$W/stdout.live" | sed 's/0x1234/?/g' \
	>"$W/stdout.want"
check_file stdout-file "$W/stdout.want" "$W/stdout.replay"

# An existing file is kept unless asked.
cp "$W/s.pcapng" "$W/keep.pcapng"
"$SYNTH" -q "$W/keep.pcapng" 2>"$W/keep.err"
check_eq exists-exit 1 $?
check_grep exists-message "keep.pcapng exists; use --force to replace it" "$W/keep.err"
cmp -s "$W/s.pcapng" "$W/keep.pcapng"
check_eq exists-untouched 0 $?
"$SYNTH" -q -f -n 2 "$W/keep.pcapng" 2>/dev/null
check_eq force-replaces 12 "$("$TD" -r "$W/keep.pcapng" -e 'print(1)' | wc -l)"

# Write errors: a clear message, exit 1, and a file whole up to its last block.
(
	ulimit -f 64
	trap '' XFSZ
	exec "$SYNTH" -q -n 2000 "$W/fsize.pcapng"
) 2>"$W/fsize.err"
check_eq write-error-exit 1 $?
check_grep write-error-message "writing .*fsize.pcapng: File too large; it holds the first [0-9]* drops" \
	"$W/fsize.err"
held=$(sed -n 's/.*holds the first \([0-9]*\) drops.*/\1/p' "$W/fsize.err")
"$TD" -r "$W/fsize.pcapng" -e 'print(1)' >"$W/fsize.n" 2>"$W/fsize.rerr"
check_eq write-error-file-whole "0 $held" "$? $(wc -l <"$W/fsize.n")"
tshark -r "$W/fsize.pcapng" >"$W/fsize.t" 2>/dev/null
check_eq write-error-tshark-reads "0 $held" "$? $(wc -l <"$W/fsize.t")"
"$SYNTH" -q -f /dev/full 2>"$W/full.err"
check_eq dev-full-exit 1 $?
check_grep dev-full-message "writing /dev/full: No space left on device" "$W/full.err"

# ---------------------------------------------------------------- replay options
"$TD" -r "$W/s.pcapng" -c 2 -e 'print(e.sport)' >"$W/c2"
check_eq replay-count "1234 443" "$(tr '\n' ' ' <"$W/c2" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" --dport 22 --dport 8080 -e 'print(e.dport)' >"$W/dp"
check_eq replay-dport "22 8080" "$(tr '\n' ' ' <"$W/dp" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" -6 --saddr 2001:db8::/32 -e 'print(e.sport)' >"$W/v6"
check_eq replay-family-net "443 1" "$(tr '\n' ' ' <"$W/v6" | sed 's/ $//')"
# As in the kernel, drops without a reason pass a reason filter.
"$TD" -r "$W/s.pcapng" --reason NO_SOCKET,NOT_SPECIFIED -e 'print(e.reason)' >"$W/rs"
check_eq replay-reason "NO_SOCKET NOT_SPECIFIED NOT_SPECIFIED UNKNOWN" \
	"$(tr '\n' ' ' <"$W/rs" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" --reason NO_SOCKE 2>"$W/rs.err" >/dev/null
check_eq replay-reason-unknown-exit 2 $?
check_grep replay-reason-unknown "names no drop reason 'NO_SOCKE'" "$W/rs.err"
# Every kind of in-kernel filter at once, by the probe's own rules (bpf/filter.h): kinds must
# all match, values within a kind are alternatives, each side of the nets on its own.
"$TD" -r "$W/s.pcapng" --saddr 10.0.0.0/8 --dport 80,8080,9 -e 'print(e.sport)' >"$W/fk"
check_eq replay-kernel-rules "1234 40000 9" "$(tr '\n' ' ' <"$W/fk" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" --saddr 10.0.0.0/8 --dport 80,8080,9 --reason NOT_SPECIFIED,NO_SOCKET \
	-e 'print(e.sport, e.dport, e.reason)' >"$W/fkr"
check_eq replay-kernel-rules-reason "1234 80 NO_SOCKET" "$(tr '\t\n' '  ' <"$W/fkr" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" --addr 2001:db8::8 --port 2,443 --reason NO_SOCKET -e 'print(e.sport)' >"$W/fk6"
check_eq replay-kernel-rules-v6-no-reason "1" "$(tr '\n' ' ' <"$W/fk6" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" -4 --sport 5555 --daddr 192.168.1.20 --saddr 192.168.0.0/16 \
	--reason NOT_SPECIFIED -e 'print(e.dport)' >"$W/fk4"
check_eq replay-kernel-rules-both-sides "22" "$(tr '\n' ' ' <"$W/fk4" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" --list-reasons >"$W/lr"
check_grep replay-list-reasons '^NO_SOCKET  *3  *no socket wanted' "$W/lr"
cat >"$W/tick.lua" <<'EOF'
function drop(e) io.write("drop\n") end
function tick(n) io.write("tick ", n, "\n") end
EOF
"$TD" -r "$W/s.pcapng" -s "$W/tick.lua" -i 1 >"$W/tick.out"
check_eq replay-ticks "drop drop tick 1 tick 2 drop drop tick 3 drop drop" \
	"$(tr '\n' ' ' <"$W/tick.out" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" -s "$W/tick.lua" -i 1 -d 2.6 >"$W/tickd.out"
check_eq replay-duration "drop drop tick 1 tick 2 drop drop" \
	"$(tr '\n' ' ' <"$W/tickd.out" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" -e 'error("boom")' >/dev/null 2>"$W/err.err"
check_eq replay-script-error-exit 1 $?
check_grep replay-script-error-message "boom" "$W/err.err"
"$TD" -r "$W/nonexistent.pcapng" 2>"$W/ne.err"
check_eq replay-missing-exit 1 $?
check_grep replay-missing "cannot open .*nonexistent.pcapng: No such file" "$W/ne.err"
"$TD" -r "$W/s.pcapng" --probe raw_tp 2>"$W/pr.err"
check_eq replay-probe-refused "2" "$?"
"$TD" -r "$W/s.pcapng" -w "$W/x.pcapng" 2>"$W/rw.err"
check_eq replay-write-refused "2" "$?"
check_grep replay-write-message "exclude each other" "$W/rw.err"

# A pcap-filter expression: on the packet's bytes, or on headers rebuilt from the event.
"$TD" -r "$FIX/eth-le-us.pcap" 'tcp[tcpflags] & tcp-syn != 0 or ip6' -e 'print(e.flags)' \
	>"$W/pf1" 2>/dev/null
check_eq replay-pcap-filter "SYN RST|ACK PSH|ACK" "$(tr '\n' ' ' <"$W/pf1" | sed 's/ $//')"
"$TD" -r "$W/s.pcapng" 'dst port 8080 or src host 2001:db8::7' -e 'print(e.dport)' >"$W/pf2"
check_eq replay-pcap-filter-rebuilt "8080 2" "$(tr '\n' ' ' <"$W/pf2" | sed 's/ $//')"

# From a pipe, drops are handed on before the reader waits for more (no batch held back).
(
	cat "$FIX/raw.pcap"
	sleep 2
) | "$TD" -r - -e 'print(e.sport)' >"$W/pipe1.out" 2>/dev/null &
sleep 1
check_eq replay-pipe-no-wait "1234 443 5555 80" "$(tr '\n' ' ' <"$W/pipe1.out" | sed 's/ $//')"
wait

# Speed: no allocation per event; a whole-file replay through a drop() that only counts.
"$SYNTH" -q -n 50000 "$W/big.pcapng" 2>/dev/null
cat >"$W/rate.lua" <<'EOF'
local n, t0 = 0, 0
function init() t0 = os.clock() end
function drop(e) n = n + 1 end
function done() io.write(string.format("%d %d\n", n, n / (os.clock() - t0 + 1e-9))) end
EOF
"$TD" -r "$W/big.pcapng" -s "$W/rate.lua" >"$W/rate.out"
rc=$?
read -r count rate <"$W/rate.out"
if [ "$rc" = 0 ] && [ "$count" = 300000 ] && [ "$rate" -ge 300000 ]; then
	pass "replay-speed ($rate events/s)"
else
	fail replay-speed "exit $rc, $rate events/s (want >= 300000)"
fi
rm -f "$W/big.pcapng"

# ---------------------------------------------------------------- other tools' captures
for f in eth-le-us.pcap eth-be-ns.pcap sll.pcap sll2.pcap null.pcap loop.pcap raw.pcap ipv4.pcap \
	foreign.pcapng be.pcapng; do
	tshark_tuple "$FIX/$f" >"$W/$f.tshark"
	"$TD" -r "$FIX/$f" -e "$TUPLE" >"$W/$f.replay" 2>"$W/$f.err"
	rc=$?
	if [ "$rc" = 0 ] && [ -s "$W/$f.tshark" ] && cmp -s "$W/$f.tshark" "$W/$f.replay"; then
		pass "foreign-$f"
	else
		fail "foreign-$f" "exit $rc; tshark and tcpdrop -r disagree:"
		diff "$W/$f.tshark" "$W/$f.replay" | sed 's/^/    /'
		sed 's/^/    /' "$W/$f.err"
	fi
done
check_grep foreign-skipped "eth-le-us.pcap: skipped 3 packets that are not TCP" "$W/eth-le-us.pcap.err"
"$TD" -r "$FIX/eth-le-us.pcap" -e "$FIELDS" 2>/dev/null | head -1 >"$W/eth.fields"
check_grep foreign-event-fields \
	'^1700000000000017000 4 0 0 0 0 0 54 100 0 29200 1234 80 0x02 0x25 0 UNKNOWN|-|10.0.0.1|10.0.0.2||?|off|-|44|44|4500002c' \
	"$W/eth.fields"
"$TD" -r "$FIX/wifi.pcap" >/dev/null 2>"$W/wifi.err"
check_eq foreign-bad-link-exit 0 $?
check_grep foreign-bad-link "skipped 1 packet on link type 105" "$W/wifi.err"
"$TD" -r "$FIX/ours-be.pcapng" >"$W/be.out"
check_file ours-big-endian "$FIX/ours.out" "$W/be.out"
"$TD" -r "$FIX/two-sections.pcapng" >"$W/two.out"
{ cat "$FIX/ours.out"; tail -n +2 "$FIX/ours.out"; } >"$W/two.want"
check_file ours-two-sections "$W/two.want" "$W/two.out"
"$TD" -r "$FIX/ours-extra.pcapng" -e 'print(e.pkt_len, e.reason)' >"$W/extra.out" 2>&1
check_eq ours-later-version "0 NO_SOCKET|30 NO_SOCKET" "$(tr '\t\n' ' |' <"$W/extra.out" | sed 's/|$//')"
# Who was hurt, by name, as -w records it (once per id): a netns's pod, a cgroup's container, a
# cgroup id the file names not ("-"), the netns again; the same in either byte order.
CGP="/kubepods/besteffort/pod1d1d/cri-containerd-$(printf 'c1%.0s' $(seq 32)).scope"
C1=$(printf 'c1%.0s' $(seq 32))
OWN='print(e.cgroup, e.container, e.container_id, e.runtime, e.pod, e.pod_namespace, e.pod_uid)'
for f in ours-owners ours-owners-be; do
	"$TD" -r "$FIX/$f.pcapng" -e "$OWN" >"$W/$f.out" 2>&1
	check_eq "$f" "- - - - web-0 shop 1d1d-uid|$CGP nginx $C1 containerd web-0 shop 1d1d-uid|- - - - - - -|- - - - web-0 shop 1d1d-uid" \
		"$(tr '\t\n' ' |' <"$W/$f.out" | sed 's/|$//')"
done

# ---------------------------------------------------------------- broken files
# FILE|what the one message must say; each exits 1 and never crashes.
while IFS='|' read -r f want; do
	[ -n "$f" ] || continue
	"$TD" -r "$FIX/$f" >"$W/bad.out" 2>"$W/bad.err"
	rc=$?
	lines=$(wc -l <"$W/bad.err")
	if [ "$rc" = 1 ] && [ "$lines" = 1 ] && grep -q -- "$want" "$W/bad.err"; then
		pass "bad-$f"
	else
		fail "bad-$f" "exit $rc (want 1), want one line matching [$want]:"
		sed 's/^/    /' "$W/bad.err"
	fi
done <<'EOF'
empty.pcapng|empty.pcapng: empty file
magic.bin|magic.bin: not a pcapng or pcap file (it starts with 68 65 6c 6c)
short.bin|short.bin: too short to be a pcapng or pcap file (2 bytes)
trunc-shb.pcapng|truncated section header block at offset 0
trunc-epb.pcapng|truncated enhanced packet block at offset 496: it needs 340 bytes, the file ends after 50
trunc-hdr.pcapng|truncated block header at offset 496
lying-trailer.pcapng|bad enhanced packet block at offset 156: its trailing length differs
len-not4.pcapng|bad enhanced packet block at offset 156: its length 30 is not a multiple of 4
len-small.pcapng|bad enhanced packet block at offset 156: its length 8 is too small
oversized.pcapng|offset 156: its length 2147483632 is over the 16 MiB limit
caplen-overrun.pcapng|offset 156: its captured length overruns the block
bad-iface.pcapng|offset 156: it names interface 3, the section has 1
no-idb.pcapng|offset 124: it names interface 0, the section has 0
bad-opts.pcapng|bad enhanced packet block at offset 156: malformed options
bad-bom.pcapng|bad section header block at offset 0: its byte-order magic is wrong
version2.pcapng|offset 0: only pcapng version 1 is read
tsresol.pcapng|bad interface description block at offset 28: if_tsresol
bad-family.pcapng|offset 156: tcpdrop's record has an address family other than 4 or 6
short-record.pcapng|offset 156: tcpdrop's record is too short
deep-stack.pcapng|offset 156: tcpdrop's stack has more than 32 frames
bad-names.pcapng|bad section header block at offset 0: its table of reason or state names
bad-reason-name.pcapng|offset 156: tcpdrop's reason or state name is empty or not printable
bad-owner-names.pcapng|offset 156: tcpdrop's owner names are malformed
pcap-trunc-hdr.pcap|truncated pcap file header at offset 0
pcap-trunc-rec.pcap|truncated packet record at offset 98
pcap-oversized.pcap|bad packet record at offset 24: its captured length is over 16 MiB
pcap-v3.pcap|bad pcap file header at offset 0: only version 2 is read
EOF
# What came before the damage is still replayed (a tracer killed mid-block leaves such a file).
"$TD" -r "$FIX/trunc-epb.pcapng" >"$W/trunc.out" 2>/dev/null
check_file bad-truncated-keeps-before "$FIX/ours.out" "$W/trunc.out"

# ---------------------------------------------------------------- the replay's fast path
# -r reads -w's blocks by a path of its own (pcapng__next_drop); on -w's files, on every fixture
# and on mutants of them it must give what the general reader gives, drop for drop, error for
# error, and it must be the path those files take.
FP=$TESTBIN/pcapng_fastpath
for m in storm stack varied; do
	"$TESTBIN/pcapng_bench" -m $m -n 1000 -r 1 -o "$W/fp-$m.pcapng" >/dev/null 2>&1
done
"$FP" "$W/fp-storm.pcapng" "$W/fp-stack.pcapng" "$W/fp-varied.pcapng" >"$W/fp.out" 2>&1
check_grep fastpath-taken '^ok 3000 drops (299[0-9] by the fast path)' "$W/fp.out"
"$FP" -m 100 "$W"/fp-*.pcapng "$W/s.pcapng" "$FIX"/*.pcapng "$FIX"/*.pcap "$HERE"/cases/* \
	>"$W/fp.out" 2>/dev/null
rc=$?
if [ "$rc" = 0 ] && grep -q '^ok ' "$W/fp.out"; then
	pass "fastpath-same-as-general ($(cat "$W/fp.out"))"
else
	fail fastpath-same-as-general "exit $rc:"
	head -20 "$W/fp.out" | sed 's/^/    /'
fi

# ---------------------------------------------------------------- the fuzz target
build build/fuzz/fuzz_pcapng >"$W/fuzz-build.log" 2>&1
if [ -x "$FUZZ" ]; then
	pass fuzz-build
	# Cases the fuzzer once found stay as tests: the target and the binary must survive them.
	for c in "$HERE"/cases/*; do
		[ -f "$c" ] || continue
		name=$(basename "$c")
		"$FUZZ" "$c" >"$W/case.log" 2>&1
		rc1=$?
		"$TD" -r "$c" >/dev/null 2>&1
		rc2=$?
		if [ "$rc1" = 0 ] && [ "$rc2" -lt 2 ]; then
			pass "fuzz-case-$name"
		else
			fail "fuzz-case-$name" "fuzz target exit $rc1, tcpdrop -r exit $rc2:"
			tail -20 "$W/case.log" | sed 's/^/    /'
		fi
	done
	mkdir -p "$W/corpus"
	"$FUZZ" -max_total_time="$FUZZ_SECONDS" -close_fd_mask=2 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$W/" "$W/corpus" "$TOP/fuzz/corpus" >"$W/fuzz.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$W/fuzz.log")
	if [ "$rc" = 0 ] && [ -n "$runs" ]; then
		pass "fuzz-${FUZZ_SECONDS}s ($runs runs)"
	else
		fail "fuzz-${FUZZ_SECONDS}s" "exit $rc; keep the crash input in tests/pcapng/cases/:"
		ls "$W"/crash-* "$W"/leak-* "$W"/timeout-* 2>/dev/null | sed 's/^/    /'
		grep -A15 'ERROR\|SUMMARY' "$W/fuzz.log" | head -30 | sed 's/^/    /'
	fi
else
	fail fuzz-build "cannot build the fuzz target:"
	sed 's/^/    /' "$W/fuzz-build.log"
fi

# ---------------------------------------------------------------- live (root)
if [ "$(id -u)" != 0 ]; then
	fail live "not root: the live record/replay checks need root"
	exit 0
fi
if ! cc -O2 -Wall -Werror -o "$W/conn" "$HERE/conn.c"; then
	fail live "cannot build tests/pcapng/conn.c"
	exit 0
fi
PORT=$((40000 + $$ % 20000))

# wait_for FILE TEXT: until FILE holds TEXT, at most 15 s.
wait_for() {
	i=0
	while [ $i -lt 150 ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Record while printing; the replay prints the same bytes.
"$TD" -w "$W/live.pcapng" --dport $PORT -d 5 >"$W/live.out" 2>"$W/live.err" &
pid=$!
if wait_for "$W/live.out" "^TIME"; then
	"$W/conn" $PORT 5 20
	wait $pid
	check_eq live-record-exit 0 $?
else
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	fail live-record "tracing did not start:"
	sed 's/^/    /' "$W/live.err"
fi
n=$(grep -c -e "> 127.0.0.1:$PORT " -e "> \\[::1\\]:$PORT " "$W/live.out")
check_eq live-drops 10 "$n"
"$TD" -r "$W/live.pcapng" >"$W/live.replay" 2>"$W/live.rerr"
check_file live-replay-same "$W/live.out" "$W/live.replay"
tshark_tuple "$W/live.pcapng" >"$W/live.tuple"
check_eq live-tshark-packets 10 "$(grep -c "|$PORT|0x0002$" "$W/live.tuple")"
check_eq live-tshark-addresses "5 5" \
	"$(grep -c '^127.0.0.1||127.0.0.1||' "$W/live.tuple") $(grep -c '^|::1||::1|' "$W/live.tuple")"
lengths_are_ip "$W/live.pcapng" live-tshark
tshark -r "$W/live.pcapng" -T fields -e frame.comment >"$W/live.comments" 2>/dev/null
check_eq live-tshark-comments 10 \
	"$(grep -c '^NO_SOCKET (3) state - pid [0-9]* comm conn,stack: tcp_v[46]_rcv+0x' "$W/live.comments")"

# -w - into tshark, nothing else on stdout; script output goes to stderr.
"$TD" -w - --dport $PORT -c 4 -e 'print("seen", e.dport)' 2>"$W/pipe.err" |
	tshark -r - -T fields -e tcp.dstport >"$W/pipe.out" 2>/dev/null &
pid=$!
sleep 1.5
"$W/conn" $PORT 2 20
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_eq live-stdout-tshark "$PORT $PORT $PORT $PORT" "$(tr '\n' ' ' <"$W/pipe.out" | sed 's/ $//')"
check_eq live-stdout-script-on-stderr 4 "$(grep -c "^seen	$PORT" "$W/pipe.err")"

# A streaming replay: drops come out while the recorder still runs.
"$TD" -w - --dport $PORT -d 6 2>/dev/null | "$TD" -r - -e 'print(e.dport)' >"$W/stream.out" &
sleep 1.5
"$W/conn" $PORT 1
sleep 2.5
check_eq live-stream-replay "$PORT $PORT" "$(tr '\n' ' ' <"$W/stream.out" | sed 's/ $//')"
wait

# SIGKILL: the file holds every drop older than a second, and readers accept it.
"$TD" -w "$W/kill.pcapng" --dport $PORT >"$W/kill.out" 2>&1 &
pid=$!
wait_for "$W/kill.out" "^TIME"
"$W/conn" $PORT 3
sleep 2
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check_eq live-sigkill-replay "0 6" \
	"$("$TD" -r "$W/kill.pcapng" -e 'print(1)' 2>/dev/null >"$W/kill.n"; echo $?) $(wc -l <"$W/kill.n")"
tshark -r "$W/kill.pcapng" >/dev/null 2>&1
check_eq live-sigkill-tshark 0 $?

# Disk full: one message, exit 1, the file whole up to its last block.
mkdir "$W/small"
if mount -t tmpfs -o size=24k tmpfs "$W/small"; then
	MNT=$W/small
	"$TD" -w "$W/small/full.pcapng" --dport $PORT -d 8 >/dev/null 2>"$W/dfull.err" &
	pid=$!
	sleep 1.5
	"$W/conn" $PORT 60
	wait $pid
	check_eq live-disk-full-exit 1 $?
	check_grep live-disk-full-message "writing .*full.pcapng: No space left on device; it holds the first" \
		"$W/dfull.err"
	n=$(sed -n 's/.*holds the first \([0-9]*\) drops.*/\1/p' "$W/dfull.err" | head -1)
	check_eq live-disk-full-file-whole "0 $n" \
		"$("$TD" -r "$W/small/full.pcapng" -e 'print(1)' 2>/dev/null >"$W/dfull.n"; echo $?) $(wc -l <"$W/dfull.n")"
	tshark -r "$W/small/full.pcapng" >/dev/null 2>&1
	check_eq live-disk-full-tshark 0 $?
	umount "$W/small" && MNT=
else
	fail live-disk-full "cannot mount a small tmpfs"
fi

# A capture made by dumpcap (as tcpdump would) replays with what its packets say.
dumpcap -q -i lo -f "tcp port $PORT" -P -w "$W/lo.pcap" -a duration:4 >/dev/null 2>&1 &
pid=$!
sleep 1.5
"$W/conn" $PORT 2
wait $pid
tshark_tuple "$W/lo.pcap" >"$W/lo.tshark"
"$TD" -r "$W/lo.pcap" -e "$TUPLE" >"$W/lo.replay" 2>"$W/lo.err"
check_eq dumpcap-replay-exit 0 $?
check_eq dumpcap-packets 8 "$(wc -l <"$W/lo.replay")"
check_file dumpcap-replay-tuples "$W/lo.tshark" "$W/lo.replay"
"$TD" -r "$W/lo.pcap" >"$W/lo.out"
check_grep dumpcap-replay-default "^[0-9:]* 0       4  127.0.0.1:$PORT *> 127.0.0.1:[0-9]* *- (RST|ACK) *UNKNOWN (0)$" \
	"$W/lo.out"
