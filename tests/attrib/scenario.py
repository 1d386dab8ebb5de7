#!/usr/bin/python3
"""Attribution test actor (root): processes in the test's cgroups and network namespace make
drops whose owner, user and cgroup are known, and write down what they know as KEY=VALUE lines.

usage: scenario.py NETNS CGROUP2-MOUNT FACTS-FILE SEGSEND STAGE
  STAGE main:  the server (listener in WEB, accepting worker), a client in APP running as uid
               65534, out-of-window segments to both sockets from a segsend run in TOOL; a
               socket handed to a forked child that uses it after its parent exited; a client
               that closes first and exits (TIME_WAIT), its pid given to another process, then
               a segment to that TIME_WAIT socket.
  STAGE nosock: a segment from segsend (a raw socket: no TCP socket) that the namespace's own
               nft output rule drops in process context, in TOOL; a SYN to a closed port.
Paths WEB, APP, TOOL are read from the environment (relative to the cgroup2 mount). Every wait
is bounded; ports come from the kernel. Each drop is made once: the test counts them.
"""
import ctypes
import os
import socket
import subprocess
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
PR_SET_NAME = 15
NETNS, MOUNT, FACTS, SEGSEND, STAGE = sys.argv[1:6]
facts = open(FACTS, "a")


def fact(k, v):
    facts.write("%s=%s\n" % (k, v))
    facts.flush()


def name(n):
    libc.prctl(PR_SET_NAME, n.encode(), 0, 0, 0)


def enter_cgroup(rel):
    with open(os.path.join(MOUNT, rel.lstrip("/"), "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))


def enter_netns():
    fd = os.open("/var/run/netns/" + NETNS, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")
    os.close(fd)


def start_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def segsend(*args, refused=False):
    """segsend from a process in TOOL (the pid on the CPU at the drop: not an owner). refused:
    a segment the namespace's nft rule drops, whose sendto() then fails (EPERM)."""
    def pre():
        enter_cgroup(os.environ["TOOL"])
    r = subprocess.run([SEGSEND] + [str(a) for a in args], preexec_fn=pre, timeout=10,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0 and not (refused and "not permitted" in r.stderr):
        raise SystemExit("scenario: segsend %s: %s" % (args, r.stderr.strip()))


def child(fn):
    """fn() in a forked child; its pid. The child ends by itself."""
    pid = os.fork()
    if pid == 0:
        try:
            fn()
        finally:
            os._exit(0)
    return pid


def wait_for(cond, what, sec=10.0):
    end = time.monotonic() + sec
    while not cond():
        if time.monotonic() > end:
            raise SystemExit("scenario: timed out waiting for " + what)
        time.sleep(0.02)


def pipe_read(r):
    return os.read(r, 64).decode().strip()


def tw_exists(port):
    out = subprocess.run(["ss", "-Htan", "state", "time-wait", "sport", "= :%d" % port],
                         capture_output=True, text=True).stdout
    return out.strip() != ""


SEQ_FAR = 2147483647  # half the sequence space away: out of any window


def main_stage():
    enter_cgroup(os.environ["WEB"])
    enter_netns()
    name("tdat-web")
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    sport = lst.getsockname()[1]
    fact("web_pid", os.getpid())
    fact("web_port", sport)
    r, w = os.pipe()

    # The worker accepts: the accepted socket's owner is the worker, not the listener's process.
    def worker():
        name("tdat-worker")
        a, _ = lst.accept()
        os.write(w, b"x")
        time.sleep(30)
    wpid = child(worker)
    fact("worker_pid", wpid)

    # The client, in APP, as uid 65534 (the socket's sk_uid is its creator's).
    cr, cw = os.pipe()

    def client():
        enter_cgroup(os.environ["APP"])
        os.setgid(65534)
        os.setuid(65534)
        name("tdat-client")
        c = socket.socket()
        c.connect(("127.0.0.1", sport))
        os.write(cw, str(c.getsockname()[1]).encode())
        time.sleep(30)
    cpid = child(client)
    cport = int(pipe_read(cr))
    pipe_read(r)
    fact("client_pid", cpid)
    fact("client_port", cport)
    # A segment far out of window to each end: each is dropped on its socket, in segsend's
    # process context (a loopback receive runs there): the pid on the CPU is segsend's.
    segsend("127.0.0.1", cport, "127.0.0.1", sport, "A", SEQ_FAR, 1)
    segsend("127.0.0.1", sport, "127.0.0.1", cport, "A", SEQ_FAR, 1)

    # Handed to a child: the parent connects, forks, exits; the child sends, then gets a drop.
    hr, hw = os.pipe()

    def parent():
        enter_cgroup(os.environ["APP"])
        name("tdat-parent")
        c = socket.socket()
        c.connect(("127.0.0.1", sport))
        os.write(hw, ("%d %d" % (os.getpid(), c.getsockname()[1])).encode())

        def heir():
            name("tdat-heir")
            time.sleep(0.5)  # the parent is gone by then (waited for below)
            c.send(b"hello")
            os.write(hw, b" sent")
            time.sleep(30)
        os.write(hw, (" %d" % child(heir)).encode())
        os._exit(0)
    ppid = child(parent)
    held, _ = lst.accept()  # the server's end of the heir's connection, held open
    os.waitpid(ppid, 0)
    words = []
    wait_for(lambda: words.extend(pipe_read(hr).split()) or "sent" in words, "the heir's send")
    fact("parent_pid", words[0])
    fact("heir_port", words[1])
    fact("heir_pid", words[2])
    segsend("127.0.0.1", sport, "127.0.0.1", words[1], "A", SEQ_FAR, 1)

    # TIME_WAIT: a client that closes first, then exits; its socket lives on without it.
    tr, tw = os.pipe()

    def closer():
        enter_cgroup(os.environ["APP"])
        name("tdat-closer")
        c = socket.socket()
        c.connect(("127.0.0.1", sport))
        os.write(tw, ("%d %s" % (c.getsockname()[1], start_ticks(os.getpid()))).encode())
        c.shutdown(socket.SHUT_RDWR)
        c.close()
    clpid = child(closer)
    port, ticks = pipe_read(tr).split()
    os.waitpid(clpid, 0)
    fact("closer_pid", clpid)
    fact("closer_port", port)
    fact("closer_start", ticks)
    # The closer's connection waits in the accept queue: accept and close it, so that the
    # closer's side reaches TIME_WAIT.
    a, _ = lst.accept()
    a.close()
    wait_for(lambda: tw_exists(int(port)), "the closer's TIME_WAIT socket")

    # The closer's pid, reused before the drop: ns_last_pid makes the next fork take it (others
    # fork too on this machine: tried a bounded number of times). One drop then: a TIME_WAIT
    # socket answers it with an ACK, the listener that with a RST, which ends the TIME_WAIT.
    got = 0
    for _ in range(200):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(clpid - 1))
        rr, rw = os.pipe()

        def reuser():
            name("tdat-reuser")
            os.write(rw, b"up")
            time.sleep(30)
        pid = os.fork()
        if pid == 0:
            try:
                reuser()
            finally:
                os._exit(0)
        pipe_read(rr)
        if pid == clpid:
            got = pid
            fact("reuser_start", start_ticks(pid))
            break
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    fact("reused", 1 if got else 0)
    segsend("127.0.0.1", sport, "127.0.0.1", port, "A", SEQ_FAR, 1)
    for p in (wpid, cpid, int(words[2]), got):
        if p:
            os.kill(p, 9)
    facts.close()


def nosock_stage():
    enter_netns()
    # The raw socket's segment, dropped by the namespace's nft postrouting rule (port 7): in
    # segsend's process context, with no TCP socket.
    segsend("127.0.0.1", 40700, "127.0.0.1", 7, "S", refused=True)
    # A SYN to a closed port: dropped in the receive path (softirq), no socket, no cgroup.
    segsend("127.0.0.1", 40701, "127.0.0.1", 9, "S")


if STAGE == "main":
    main_stage()
elif STAGE == "nosock":
    nosock_stage()
else:
    raise SystemExit("scenario: unknown stage " + STAGE)
