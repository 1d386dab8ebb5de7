#!/bin/sh
# pcap-filter expressions (core/pcapfilter.c) over synthetic drops, through build/tests/pcapfilter_check.
# Each check names the events it feeds; the digits are what should match (1) or not (0), in order.
. "$(dirname "$0")/../lib.sh"

CHECK=$TESTBIN/pcapfilter_check
if [ ! -x "$CHECK" ]; then
	fail pcapfilter-tool "$CHECK is missing (make tests-build)"
	exit 0
fi
out=$TMPDIR/tcpdrop-pcapfilter.$$
trap 'rm -f "$out" "$out.err"' EXIT

# expect NAME DIGITS EXPR SPEC...: the tool's answer per event, and a batch that agrees with it.
expect() {
	name=$1 want=$2
	shift 2
	got=$("$CHECK" "$@" 2>"$out.err")
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$name" "exit $rc: $(head -3 "$out.err")"
	else
		check_eq "$name" "$want" "$got"
	fi
}

# A client 10.1.2.3:40000 talking to a server 10.0.0.2:443, and strangers.
A='src=10.1.2.3,dst=10.0.0.2,sport=40000,dport=443,flags=SYN'
B='src=10.0.0.2,dst=10.1.2.3,sport=443,dport=40000,flags=RST|ACK,seq=7,ack=1000,win=512'
C='src=192.168.1.5,dst=172.16.0.9,sport=22,dport=5555,flags=ACK,seq=123456789,win=65535'
D='src=2001:db8::1,dst=2001:db8:1::2,sport=50000,dport=443,flags=SYN'
E='src=fe80::1,dst=::1,sport=80,dport=1234,flags=FIN|ACK'

expect host 110 'host 10.1.2.3' "$A" "$B" "$C"
expect src-host 100 'src host 10.1.2.3' "$A" "$B" "$C"
expect dst-host 010 'dst host 10.1.2.3' "$A" "$B" "$C"
expect net 11100 'net 10.0.0.0/8 or net 192.168.0.0/16' "$A" "$B" "$C" "$D" "$E"
expect dst-net 001 'dst net 172.16.0.0/12' "$A" "$B" "$C"
expect not-net 00111 'not net 10.0.0.0/8' "$A" "$B" "$C" "$D" "$E"
expect port 11010 'tcp port 443' "$A" "$B" "$C" "$D" "$E"
expect dst-port 10010 'dst port 443' "$A" "$B" "$C" "$D" "$E"
expect src-port 00101 'src port 22 or src port 80' "$A" "$B" "$C" "$D" "$E"
expect portrange 11111 'portrange 1-65535' "$A" "$B" "$C" "$D" "$E"
expect portrange-narrow 00100 'tcp portrange 5000-6000' "$A" "$B" "$C" "$D" "$E"
expect issue-example 11000 'tcp port 443 and net 10.0.0.0/8' "$A" "$B" "$C" "$D" "$E"

# As in tcpdump, tcp[...] reads IPv4 only (pcap-filter(7)); IPv6 flags are at ip6[40 + 13] when no
# extension header sits between, which is how a rebuilt packet is laid out.
expect flags-rst 01000 'tcp[tcpflags] & tcp-rst != 0' "$A" "$B" "$C" "$D" "$E"
expect flags-syn-only 10000 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' "$A" "$B" "$C" "$D" "$E"
expect flags-ack 01100 'tcp[tcpflags] & tcp-ack != 0' "$A" "$B" "$C" "$D" "$E"
expect flags-ip6 00011 'ip6[53] & (tcp-syn|tcp-fin) != 0' "$A" "$B" "$C" "$D" "$E"
expect flags-both 01101 'tcp[tcpflags] & tcp-ack != 0 and tcp[tcpflags] & tcp-syn == 0 or ip6[53] & tcp-ack != 0' "$A" "$B" "$C" "$D" "$E"
expect flags-byte 01000 'tcp[13] == 0x14' "$A" "$B" "$C" "$D" "$E"
expect seq 00100 'tcp[4:4] == 123456789' "$A" "$B" "$C" "$D" "$E"
expect ack 01000 'tcp[8:4] == 1000' "$A" "$B" "$C" "$D" "$E"
expect win 00100 'tcp[14:2] == 65535' "$A" "$B" "$C" "$D" "$E"

# Rebuilt headers are the ones -w records (TTL 64, hop limit 64, DF), so a filter matches the
# same drops live and when their recording is replayed.
expect rebuilt-ttl 11100 'ip[8] == 64 and ip[6] & 0x40 != 0' "$A" "$B" "$C" "$D" "$E"
expect rebuilt-hlim 00011 'ip6[7] == 64' "$A" "$B" "$C" "$D" "$E"

expect ip4 11100 'ip' "$A" "$B" "$C" "$D" "$E"
expect ip6 00011 'ip6' "$A" "$B" "$C" "$D" "$E"
expect ip6-host 00010 'ip6 and host 2001:db8::1' "$A" "$B" "$C" "$D" "$E"
expect ip6-net 00010 'net 2001:db8::/32' "$A" "$B" "$C" "$D" "$E"
expect ip6-port 00011 'ip6 and (tcp port 443 or tcp port 80)' "$A" "$B" "$C" "$D" "$E"
expect tcp-all 11111 'tcp' "$A" "$B" "$C" "$D" "$E"
expect udp-none 00000 'udp' "$A" "$B" "$C" "$D" "$E"

# The packet's own bytes, when the probe copied them, are what the filter reads.
P4='src=10.1.2.3,dst=10.0.0.2,sport=40000,dport=443,flags=RST,pkt-only,payload=100'
P6='src=2001:db8::1,dst=::1,sport=8080,dport=443,flags=SYN,pkt-only,payload=10'
expect pkt-port 11 'tcp dst port 443' "$P4" "$P6"
expect pkt-host 10 'src host 10.1.2.3' "$P4" "$P6"
expect pkt-ip6-host 01 'src host 2001:db8::1 and ip6[53] & tcp-syn != 0' "$P4" "$P6"
expect pkt-ip-options 10 'ip[0] & 0xf == 6' "$P4" "$A"
expect pkt-payload 10 'tcp[20] == 0xab' "$P4" "$A"
expect pkt-greater 10 'greater 120' "$P4" "$P6"
expect pkt-truncated 10 'tcp port 443' "$P4" "$P4,caplen=20"
expect pkt-and-fields 111 'tcp port 443' "$A" "$P4" "$P6"

# A bad expression: libpcap's own message, the expression quoted, one line, exit 2.
bad() {
	name=$1 expr=$2 want=$3
	"$CHECK" "$expr" >"$out" 2>"$out.err"
	rc=$?
	lines=$(wc -l <"$out.err")
	if [ $rc -ne 2 ] || [ "$lines" -ne 1 ]; then
		fail "$name" "expected exit 2 and one line, got exit $rc and $lines lines: $(cat "$out.err")"
	else
		check_grep "$name" "^tcpdrop: pcap filter '$want" "$out.err"
	fi
}
bad syntax-port 'tcp port' "tcp port': can't parse filter expression: syntax error"
bad syntax-paren 'tcp and (port 80' "tcp and (port 80': .*syntax error"
bad syntax-flag 'tcp[tcpflags] & tcp-nope != 0' "tcp\[tcpflags\] & tcp-nope != 0': .*"
bad bad-address 'host 10.0.0.300' "host 10.0.0.300': .*"
bad bad-net 'net 10.0.0.0/40' "net 10.0.0.0/40': .*"
bad rejects-all 'ip6 and tcp[tcpflags] & tcp-syn != 0' "ip6 and .*': expression rejects all packets"
bad link-layer 'ether host 01:02:03:04:05:06' "ether host 01:02:03:04:05:06': .*ethernet"

# The command line: the trailing words are the expression, and a bad one stops tcpdrop at once.
"$TCPDROP" --no-stack -d 1 tcp port >"$out" 2>"$out.err"
rc=$?
check_eq cli-syntax-exit 2 "$rc"
check_grep cli-syntax-message "^tcpdrop: pcap filter 'tcp port': can't parse filter expression: syntax error" "$out.err"
