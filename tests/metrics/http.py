#!/usr/bin/python3
# What curl cannot show plainly, for tests/metrics:
#   http.py request PORT METHOD PATH   one HTTP/1.0 request to 127.0.0.1:PORT; prints
#                                      "STATUS code BODY bytes ALLOW value TYPE value"
#   http.py idle PORT SEC [TEXT]       a slow client: connect, send TEXT (or nothing), then wait
#                                      at most SEC seconds for the server to close; prints
#                                      "open", then "closed" or "still open"
import socket
import sys
import time


def request(port, method, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % (method, path)).encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdr = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdr[k.strip().lower()] = v.strip()
    print("STATUS %s BODY %d ALLOW %s TYPE %s" % (lines[0].split(" ")[1], len(body),
          hdr.get("allow", "-").replace(" ", ""), hdr.get("content-type", "-").replace(" ", "")))


def idle(port, sec, text):
    s = socket.create_connection(("127.0.0.1", port), timeout=sec)
    if text:
        s.sendall(text.encode())
    print("open", flush=True)
    end = time.monotonic() + sec
    try:
        while time.monotonic() < end:
            if not s.recv(4096):
                print("closed", flush=True)
                return
    except ConnectionResetError:
        print("closed", flush=True)
        return
    except socket.timeout:
        pass
    print("still open", flush=True)


if sys.argv[1] == "request":
    request(int(sys.argv[2]), sys.argv[3], sys.argv[4])
else:
    idle(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
