#!/usr/bin/python3
"""Two helpers for the names suite, on -w files and -s json output.

owners.py strip IN OUT: IN without tcpdrop's owner names (custom option tag 7), as a file
    written before they were recorded: every block copied, only that option left out.
owners.py count IN: how many owner names IN holds (one per id it names).
owners.py fields JSON: each drop's cgroup, container, container_id, runtime, pod, pod_namespace
    and pod_uid, one line a drop, space-separated.
"""
import json
import struct
import sys

PEN = 32473
TAG_OWNER_NAMES = 7
EPB = 6
FIELDS = ("cgroup", "container", "container_id", "runtime", "pod", "pod_namespace", "pod_uid")


def strip(src, dst, counted=None):
    data = open(src, "rb").read()
    out = bytearray()
    pos = 0
    bo = "<"
    while pos < len(data):
        btype, blen = struct.unpack_from(bo + "II", data, pos)
        if btype == 0x0A0D0D0A:
            bo = "<" if struct.unpack_from("<I", data, pos + 8)[0] == 0x1A2B3C4D else ">"
            btype, blen = struct.unpack_from(bo + "II", data, pos)
        block = data[pos:pos + blen]
        pos += blen
        if btype != EPB:
            out += block
            continue
        caplen = struct.unpack_from(bo + "I", block, 20)[0]
        at = 28 + ((caplen + 3) & ~3)
        body = bytearray(block[8:at])
        opts = bytearray()
        while at + 4 <= blen - 4:
            code, olen = struct.unpack_from(bo + "HH", block, at)
            padded = (olen + 3) & ~3
            opt = block[at:at + 4 + padded]
            at += 4 + padded
            if code == 0:
                break
            if code in (2989, 19373) and olen >= 6:
                pen, tag = struct.unpack_from(bo + "IH", opt, 4)
                if pen == PEN and tag == TAG_OWNER_NAMES:
                    if counted is not None:
                        counted.append(1)
                    continue
            opts += opt
        opts += struct.pack(bo + "HH", 0, 0)
        n = 12 + len(body) + len(opts)
        out += struct.pack(bo + "II", EPB, n) + body + opts + struct.pack(bo + "I", n)
    open(dst, "wb").write(out)


def fields(path):
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            e = json.loads(line)
            print(" ".join(str(e.get(k, "?")) for k in FIELDS))


if __name__ == "__main__":
    if sys.argv[1] == "strip":
        strip(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "count":
        n = []
        strip(sys.argv[2], "/dev/null", n)
        print(len(n))
    else:
        fields(sys.argv[2])
