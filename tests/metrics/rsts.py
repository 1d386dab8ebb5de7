#!/usr/bin/python3
# rsts.py SRC DST DPORT SPORT COUNT: COUNT RST segments (IPv4) from SRC to DST:DPORT, source
# ports SPORT, SPORT+1, ...: to a closed port each is one drop, with no reply. From an
# IPPROTO_RAW socket, which receives nothing (closing it purges no queued copies: no drop of its
# own). Prints "sent N".
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    if len(sys.argv) != 6:
        sys.stderr.write(__doc__ or "usage: rsts.py SRC DST DPORT SPORT COUNT\n")
        return 2
    src, dst = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
    dport, sport, count = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    if not (0 < count <= 60000 and 0 < sport and sport + count - 1 <= 65535):
        sys.stderr.write("rsts.py: COUNT 1-60000 and ports that fit\n")
        return 2
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for i in range(count):
        sp = sport + i
        tcp = struct.pack("!HHIIBBHHH", sp, dport, i + 1, 0, 5 << 4, 0x04, 0, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        # The kernel fills in the IP checksum and the total length (IP_HDRINCL).
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64,
                         socket.IPPROTO_TCP, 0, src, dst)
        s.sendto(ip + tcp, (sys.argv[2], 0))
        sent += 1
    s.close()
    print("sent %d" % sent)
    return 0


sys.exit(main())
