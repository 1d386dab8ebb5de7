#!/usr/bin/python3
# usage: mkpcap.py OUT [ts=NS ...] [start=NS] [end=NS]: a pcapng of raw-IP TCP SYNs, one per
# ts= (nanoseconds, exact: if_tsresol 9), and with start=/end= an interface statistics block
# holding isb_starttime/isb_endtime (before the drops, as tcpdrop writes its start). For timestamps near the limits of 64 bits: NS is a number
# or max-N (max: 2^64-1). ts=+COUNT,FIRST,STEP: COUNT drops from FIRST, STEP ns apart.
import struct
import sys


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def opt(code, val):
    return struct.pack("<HH", code, len(val)) + val + b"\0" * (-len(val) % 4)


def ts64(ns):
    return struct.pack("<II", ns >> 32, ns & 0xFFFFFFFF)


def syn(sport):
    tcp = struct.pack("!HHIIBBHHH", sport, 80, 1, 0, 5 << 4, 0x02, 1000, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0x4000, 64, 6, 0, bytes([10, 0, 0, 2]),
                     bytes([10, 0, 0, 1]))
    return ip + tcp


out, args = sys.argv[1], dict()
pkts = []
for a in sys.argv[2:]:
    k, v = a.split("=")
    if v.startswith("+"):
        count, first, step = (int(x) for x in v[1:].split(","))
        pkts += [first + i * step for i in range(count)]
        continue
    n = (2**64 - 1 - int(v[4:])) if v.startswith("max-") else (2**64 - 1) if v == "max" else int(v, 0)
    if k == "ts":
        pkts.append(n)
    else:
        args[k] = n
data = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
data += block(1, struct.pack("<HHI", 101, 0, 65535) + opt(9, b"\x09") + opt(0, b""))
if "start" in args or "end" in args:
    o = b""
    if "start" in args:
        o += opt(2, ts64(args["start"]))
    if "end" in args:
        o += opt(3, ts64(args["end"]))
    data += block(5, struct.pack("<I", 0) + ts64(args.get("end", args.get("start"))) + o +
                  opt(0, b""))
for i, t in enumerate(pkts):
    p = syn(40000 + i)
    data += block(6, struct.pack("<I", 0) + ts64(t) + struct.pack("<II", len(p), len(p)) + p)
open(out, "wb").write(data)
