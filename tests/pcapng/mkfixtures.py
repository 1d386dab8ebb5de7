#!/usr/bin/python3
# Writes tests/pcapng/fixtures/*: captures as other tools make them, and broken files; run it
# again after changing it (the suite uses the committed files, so that it needs no Python).
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
PEN = 32473
TS = 1700000000  # 2023-11-14 22:13:20 UTC


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp(sport, dport, flags, seq=1, ack=0, win=1000, payload=b"", opts=b""):
    off = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0) + opts + payload


def ipv4(src, dst, l4, proto=6, frag=0x4000):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, frag, 64, proto, 0,
                    bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4


def ipv6(src, dst, l4, nh=6, ext=b""):
    return struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(l4), nh, 64, bytes(src),
                       bytes(dst)) + ext + l4


A4 = [10, 0, 0, 1]
B4 = [10, 0, 0, 2]
A6 = bytes.fromhex("20010db8000000000000000000000001")
B6 = bytes.fromhex("20010db8000000000000000000000002")

# The packets every classic-pcap fixture carries: four TCP ones and four that are not.
SYN4 = ipv4(A4, B4, tcp(1234, 80, 0x02, seq=100, win=29200, opts=b"\x02\x04\x05\xb4"))
RSTACK6 = ipv6(A6, B6, tcp(443, 5555, 0x14, seq=7, ack=9))
HBH6 = ipv6(B6, A6, tcp(5555, 443, 0x18, seq=9, ack=7, payload=b"hello"), nh=0,
            ext=bytes([6, 0, 1, 4, 0, 0, 0, 0]))
FINACK4 = ipv4(B4, A4, tcp(80, 1234, 0x11, seq=200, ack=101))
UDP4 = ipv4(A4, B4, struct.pack("!HHHH", 53, 53, 8, 0), proto=17)
FRAG4 = ipv4(A4, B4, b"\0" * 24, frag=0x0003)  # not the first fragment
SHORT4 = ipv4(A4, B4, b"\0" * 8)  # TCP header cut short
IP_PACKETS = [SYN4, RSTACK6, HBH6, FINACK4, UDP4, FRAG4, SHORT4]


def eth(ip, vlan=False):
    et = 0x0800 if ip[0] >> 4 == 4 else 0x86DD
    h = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    if vlan:
        h += struct.pack("!HH", 0x8100, 42)
    return h + struct.pack("!H", et) + ip


def sll(ip):
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0",
                       0x0800 if ip[0] >> 4 == 4 else 0x86DD) + ip


def sll2(ip):
    return struct.pack("!HHIHBB8s", 0x0800 if ip[0] >> 4 == 4 else 0x86DD, 0, 7, 1, 0, 6,
                       b"\x02\0\0\0\0\x01\0\0") + ip


def null_le(ip):
    return struct.pack("<I", 2 if ip[0] >> 4 == 4 else 30) + ip


def loop_be(ip):
    return struct.pack("!I", 2 if ip[0] >> 4 == 4 else 24) + ip


def pcap(linktype, frames, endian="<", nsec=False, version=(2, 4)):
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    out = struct.pack(endian + "IHHiIII", magic, version[0], version[1], 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        frac = (i * 100000 + 17) * (1000 if nsec else 1)
        out += struct.pack(endian + "IIII", TS + i, frac, len(f), len(f) + 10) + f
    return out


# pcapng ---------------------------------------------------------------------------------------

def opt(code, data, e="<"):
    return struct.pack(e + "HH", code, len(data)) + data + b"\0" * (-len(data) % 4)


def opts(items, e="<"):
    if not items:
        return b""
    return b"".join(opt(c, d, e) for c, d in items) + struct.pack(e + "HH", 0, 0)


def block(btype, body, e="<", length=None, trailer=None):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n if length is None else length) + body + \
        struct.pack(e + "I", n if trailer is None else trailer)


def shb(e="<", options=(), major=1, bom=0x1A2B3C4D):
    return block(0x0A0D0D0A, struct.pack(e + "IHHq", bom, major, 0, -1) + opts(options, e), e)


def idb(linktype, e="<", options=(), snaplen=0):
    return block(1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts(options, e), e)


def epb(data, ts, e="<", ifid=0, options=(), caplen=None, origlen=None):
    body = struct.pack(e + "IIIII", ifid, ts >> 32, ts & 0xFFFFFFFF,
                       len(data) if caplen is None else caplen,
                       len(data) if origlen is None else origlen)
    body += data + b"\0" * (-len(data) % 4)
    return block(6, body + opts(options, e), e)


def custom(tag, data, e="<"):
    return (2989, struct.pack(e + "IH", PEN, tag) + data)


def event_fields(e="<", reason=3, pid=77, tid=78, netns=4026531840, ifindex=1, cpu=0, length=40,
                 seq=100, ack=0, sport=1234, dport=80, win=29200, pkt_len=0, hdr_len=0,
                 family=4, state=0, flags=0x02, evflags=0x01, nstack=0, saddr=A4, daddr=B4,
                 comm=b"swapper/0"):
    return struct.pack(e + "9I5H4BH16s16s16s", reason, pid, tid, netns, ifindex, cpu, length, seq,
                       ack, sport, dport, win, pkt_len, hdr_len, family, state, flags, evflags,
                       nstack, bytes(saddr).ljust(16, b"\0"), bytes(daddr).ljust(16, b"\0"),
                       comm.ljust(16, b"\0"))


def ours_epb(e="<", ts=TS * 10**9, fields=None, extra=(), data=None):
    f = fields if fields is not None else event_fields(e)
    items = [(1, b"NO_SOCKET (3) state - pid 77 comm swapper/0"), custom(1, f, e),
             custom(2, b"NO_SOCKET", e), custom(4, b"tcp_v4_rcv+0x99", e),
             custom(5, b"tcp_v4_rcv+0x99\nip_protocol_deliver_rcu+0x3c", e)] + list(extra)
    pkt = data if data is not None else ipv4(A4, B4, tcp(1234, 80, 0x02, seq=100, win=29200))
    return epb(pkt, ts, e, options=items)


def owner(e="<", cgroup_id=0, pid=0):
    # PCAPNG_TAG_OWNER: owner_pid, cgroup_id, start, sock_ino, sk_uid, comm, owner_flags.
    return custom(6, struct.pack(e + "IQQII16sB", pid, cgroup_id, 0, 0, 0, b"", 0), e)


def owner_names(id_, netns, names, e="<"):
    # PCAPNG_TAG_OWNER_NAMES: the id, its kind, seven NUL-ended names.
    return custom(7, struct.pack(e + "QI", id_, netns) + b"".join(n + b"\0" for n in names), e)


def ours_shb(e="<"):
    return shb(e, [(4, b"tcpdrop test"), custom(16, b"2 NOT_SPECIFIED\n3 NO_SOCKET\n", e),
                   custom(17, b"1 ESTABLISHED\n10 LISTEN\n", e)])


def ours_file(e="<", packets=None):
    out = ours_shb(e) + idb(101, e, [(9, b"\x09")], 256)
    for p in packets if packets is not None else [ours_epb(e)]:
        out += p
    return out


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    # Captures as tcpdump and Wireshark write them.
    write("eth-le-us.pcap", pcap(1, [eth(p, vlan=(i == 1)) for i, p in enumerate(IP_PACKETS)]))
    write("eth-be-ns.pcap", pcap(1, [eth(p) for p in IP_PACKETS], endian=">", nsec=True))
    write("sll.pcap", pcap(113, [sll(p) for p in IP_PACKETS]))
    write("sll2.pcap", pcap(276, [sll2(p) for p in IP_PACKETS]))
    write("null.pcap", pcap(0, [null_le(p) for p in IP_PACKETS]))
    write("loop.pcap", pcap(108, [loop_be(p) for p in IP_PACKETS]))
    write("raw.pcap", pcap(101, IP_PACKETS))
    write("ipv4.pcap", pcap(228, [p for p in IP_PACKETS if p[0] >> 4 == 4]))
    write("wifi.pcap", pcap(105, [b"\0" * 24 + SYN4]))

    # A foreign pcapng: two interfaces (microseconds; 2^-20 s with an offset), blocks and
    # options we must skip, a simple packet block, an obsolete packet block.
    us = (TS * 10**6)
    f = shb(options=[(4, b"some other tool")])
    f += idb(1, options=[(2, b"eth0")])
    f += block(0x12345678, b"unknown block type")
    f += idb(101, options=[(9, b"\x94"), (14, struct.pack("<q", 10))])
    f += block(4, struct.pack("<HH4s", 1, 9, bytes(A4)) + b"host\0" + b"\0" * 3 + b"\0" * 4)
    f += epb(eth(SYN4), us, options=[(4242, b"unknown option"), (1, b"a comment")])
    f += block(0x00000BAD, struct.pack("<I", PEN) + b"custom block")
    f += epb(RSTACK6, (TS - 10) << 20, ifid=1)
    f += block(3, struct.pack("<I", len(eth(FINACK4))) + eth(FINACK4))  # SPB: interface 0
    f += block(2, struct.pack("<HHIIII", 0, 0, us >> 32, (us + 5) & 0xFFFFFFFF,
                              len(eth(HBH6)), len(eth(HBH6))) + eth(HBH6))
    f += block(10, struct.pack("<II", 0x544c534b, 4) + b"keys")  # a decryption secrets block
    f += epb(eth(UDP4), us + 7)
    write("foreign.pcapng", f)

    # Big-endian sections: a foreign one, then ours.
    write("be.pcapng", shb(">") + idb(1, ">") + epb(eth(SYN4), TS * 10**6, ">") +
          epb(eth(RSTACK6), TS * 10**6 + 1, ">"))
    write("ours-be.pcapng", ours_file(">"))
    write("two-sections.pcapng", ours_file("<") + ours_file(">", [ours_epb(">", ts=TS * 10**9 + 5)]))
    # Our record with an option from a later version, and packet bytes cut short by an editor.
    write("ours-extra.pcapng", ours_file("<", [
        ours_epb(extra=[custom(99, b"from the future"), (2988, struct.pack("<I", 1) + b"x")]),
        ours_epb(fields=event_fields(pkt_len=40, hdr_len=40), ts=TS * 10**9 + 1,
                 data=ipv4(A4, B4, tcp(1234, 80, 0x02))[:30]),
    ]))
    # Who was hurt, by name, as -w records it: once per id (a netns, a cgroup id), a cgroup id
    # with no names recorded, and the netns again without its names.
    for e, name in (("<", "ours-owners.pcapng"), (">", "ours-owners-be.pcapng")):
        cg = b"/kubepods/besteffort/pod1d1d/cri-containerd-" + b"c1" * 32 + b".scope"
        write(name, ours_file(e, [
            ours_epb(e, extra=[owner_names(4026531840, 1, [b"", b"", b"", b"", b"web-0",
                                                           b"shop", b"1d1d-uid"], e)]),
            ours_epb(e, ts=TS * 10**9 + 1, extra=[owner(e, cgroup_id=1234, pid=9),
                                                  owner_names(1234, 0, [cg, b"nginx", b"c1" * 32,
                                                                        b"containerd", b"web-0",
                                                                        b"shop", b"1d1d-uid"], e)]),
            ours_epb(e, ts=TS * 10**9 + 2, extra=[owner(e, cgroup_id=999, pid=9)]),
            ours_epb(e, ts=TS * 10**9 + 3),
        ]))

    # Broken files: one message naming the block and its offset, exit 1.
    good = ours_file()
    head = ours_shb() + idb(101, "<", [(9, b"\x09")], 256)
    write("empty.pcapng", b"")
    write("magic.bin", b"hello, world\n")
    write("short.bin", b"\x0a\x0d")
    write("trunc-shb.pcapng", good[:20])
    write("trunc-epb.pcapng", good + ours_epb(ts=TS * 10**9 + 1)[:50])
    write("trunc-hdr.pcapng", good + b"\x06\0\0")
    write("lying-trailer.pcapng", head + block(6, b"\0" * 20, trailer=36))
    write("len-not4.pcapng", head + struct.pack("<II", 6, 30) + b"\0" * 22)
    write("len-small.pcapng", head + struct.pack("<II", 6, 8))
    write("oversized.pcapng", head + struct.pack("<II", 6, 0x7FFFFFF0) + b"\0" * 64)
    write("caplen-overrun.pcapng", head + epb(SYN4, 0, caplen=4000))
    write("bad-iface.pcapng", head + epb(SYN4, 0, ifid=3))
    write("no-idb.pcapng", ours_shb() + epb(SYN4, 0))
    write("bad-opts.pcapng", head + block(6, struct.pack("<IIIII", 0, 0, 0, 0, 0) +
                                          struct.pack("<HH", 1, 200) + b"abcd"))
    write("bad-bom.pcapng", shb(bom=0x11223344))
    write("version2.pcapng", shb(major=2) + idb(101))
    write("tsresol.pcapng", shb() + idb(101, options=[(9, b"\x14")]))
    write("bad-family.pcapng", ours_file("<", [ours_epb(fields=event_fields(family=9))]))
    write("short-record.pcapng", ours_file("<", [ours_epb(fields=event_fields()[:50])]))
    write("deep-stack.pcapng", ours_file("<", [ours_epb(extra=[custom(5, b"\n".join(
        b"f%d+0x1" % i for i in range(33)))])]))
    write("bad-names.pcapng", shb(options=[custom(16, b"three NO_SOCKET\n")]) + idb(101))
    write("bad-reason-name.pcapng", ours_file("<", [ours_epb(extra=[custom(2, b"NO\nSOCKET")])]))
    write("bad-owner-names.pcapng", ours_file("<", [ours_epb(extra=[
        custom(7, struct.pack("<QI", 1234, 0) + b"a\0b\0c\0d\0e\0f\0g")])]))
    write("pcap-trunc-hdr.pcap", pcap(1, [])[:10])
    write("pcap-trunc-rec.pcap", pcap(1, [eth(SYN4), eth(SYN4)])[:-10])
    write("pcap-oversized.pcap", pcap(1, []) + struct.pack("<IIII", TS, 0, 0x7FFFFFFF, 60))
    write("pcap-v3.pcap", pcap(1, [eth(SYN4)], version=(3, 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
