#!/usr/bin/python3
"""The attribution suite's checks: the runs' json lines against the scenario's facts.

usage: check.py DIR (the suite's work directory: facts, all.json, web.json, ...)
Prints PASS/FAIL lines (tests/lib.sh's protocol).
"""
import json
import os
import sys

W = sys.argv[1]
facts = {}
for line in open(os.path.join(W, "facts")):
    k, _, v = line.strip().partition("=")
    facts[k] = v
F = lambda k: int(facts[k])  # noqa: E731
OWNER_KEYS = ("owner_pid", "owner_comm", "owner_start", "owner_closed", "uid", "cgroup_id",
              "sock_ino")


def ok(name):
    print("PASS attrib-" + name)


def bad(name, why):
    print("FAIL attrib-%s: %s" % (name, why))


def load(run):
    try:
        return [json.loads(line) for line in open(os.path.join(W, run + ".json"))]
    except (OSError, ValueError) as e:
        bad(run + "-output", str(e))
        return []


def key(e):
    return (e["sport"], e["dport"], e["seq"], e["ack"], e["flags"], e["reason"], e["state"])


def find(events, name, **want):
    got = [e for e in events if all(e[k] == v for k, v in want.items())]
    if len(got) != 1:
        bad(name, "%d drops match %s (want 1)" % (len(got), want))
        return None
    return got[0]


def expect(name, e, **want):
    if e is None:
        return
    diff = ["%s=%r (want %r)" % (k, e[k], v) for k, v in want.items() if e[k] != v]
    if diff:
        bad(name, ", ".join(diff))
    else:
        ok(name)


def ticks(e):
    return e["owner_start"] // (1000000000 // F("clk_tck"))


allev = load("all")
web, cli, heir, closer = F("web_port"), F("client_port"), F("heir_port"), F("closer_port")
wcg, acg, tcg = F("web_cgroup"), F("app_cgroup"), F("tool_cgroup")

# A server socket accepted in a worker: the worker owns it, not the listener's process, and not
# segsend, on the CPU when the segment was dropped.
e = find(allev, "accepted-drop", sport=cli, dport=web, ack=1, flags="ACK")
expect("accepted-owner", e, owner_pid=F("worker_pid"), owner_comm="tdat-worker", uid=0,
       cgroup_id=wcg, owner_closed=False, has_socket=True, state="ESTABLISHED")
if e is not None:
    expect("accepted-cpu-task-is-not-owner", e, comm="segsend",
           pid=e["pid"] if e["pid"] != F("worker_pid") else -1)
    expect("accepted-socket-inode", e, sock_ino=e["sock_ino"] if e["sock_ino"] > 0 else -1)

# The client (connect), running as uid 65534 in the docker-style cgroup.
e = find(allev, "client-drop", sport=web, dport=cli, ack=1, flags="ACK")
expect("client-owner", e, owner_pid=F("client_pid"), owner_comm="tdat-client", uid=65534,
       cgroup_id=acg, owner_closed=False, comm="segsend")

# Handed to a child: the parent that connected has exited; the child that sent on it owns it.
e = find(allev, "heir-drop", sport=web, dport=heir, ack=1, flags="ACK")
expect("heir-owner", e, owner_pid=F("heir_pid"), owner_comm="tdat-heir", uid=0, cgroup_id=acg)
if e is not None and e["owner_pid"] == F("parent_pid"):
    bad("heir-not-parent", "the exited parent is named as the owner")

# TIME_WAIT after its owner exited, and its pid taken since by another process: the owner as it
# was (its name and start), marked closed; never the process that has the pid now.
if facts.get("reused") != "1":
    bad("pid-reuse-setup", "no process could be given the closer's pid (200 forks)")
else:
    ok("pid-reuse-setup")
e = find(allev, "timewait-drop", sport=web, dport=closer, ack=1, flags="ACK")
expect("timewait-owner", e, owner_pid=F("closer_pid"), owner_comm="tdat-closer",
       owner_closed=True, state="TIME_WAIT", cgroup_id=acg, uid=0)
if e is not None:
    if ticks(e) == F("closer_start") and facts.get("reuser_start") != facts["closer_start"]:
        ok("timewait-owner-start: not the reused pid's process")
    else:
        bad("timewait-owner-start", "owner_start %d ticks: closer %s, reuser %s" %
            (ticks(e), facts["closer_start"], facts.get("reuser_start")))

# No socket: in process context (nft output drop of a raw socket's segment) the task's cgroup;
# in the receive path (a SYN to a closed port, softirq) none at all, and no owner either way.
e = find(allev, "nosock-task-drop", sport=40700, dport=7)
expect("nosock-task", e, has_socket=False, owner_pid=0, owner_comm="-", uid=-1,
       cgroup_id=tcg, reason="NETFILTER_DROP")
e = find(allev, "nosock-softirq-drop", sport=40701, dport=9)
expect("nosock-softirq", e, has_socket=False, owner_pid=0, owner_comm="-", uid=-1, cgroup_id=0,
       reason="NO_SOCKET")
expect("marker-app", find(allev, "marker-app-drop", sport=40991, dport=7), cgroup_id=acg)
expect("marker-web", find(allev, "marker-web-drop", sport=40990, dport=7), cgroup_id=wcg)


# --cgroup: exactly the drops of `all` whose cgroup is the filter's, or below it.
def same_set(run, allowed):
    ev = load(run)
    want = sorted(key(e) for e in allev if e["cgroup_id"] in allowed)
    got = sorted(key(e) for e in ev)
    if got == want and want:
        ok("cgroup-%s (%d drops)" % (run, len(got)))
    else:
        bad("cgroup-" + run, "%d drops, want %d: extra %s, missing %s" % (
            len(got), len(want), sorted(set(got) - set(want))[:3],
            sorted(set(want) - set(got))[:3]))
    return ev


same_set("web", {wcg})
same_set("app", {acg})
same_set("slice", {wcg, acg, tcg})

# -w then -r: the same fields, drop for drop, as the live run printed while recording.
live, rep = load("rec"), load("replay")
if len(live) != len(rep) or not live:
    bad("replay-count", "%d drops replayed, %d recorded" % (len(rep), len(live)))
else:
    diff = [(key(a), k, a[k], b[k]) for a, b in zip(live, rep) for k in OWNER_KEYS
            if a[k] != b[k]]
    if diff:
        bad("replay-fields", "%d differ, e.g. %s" % (len(diff), diff[:2]))
    else:
        ok("replay-fields (%d drops, %d with an owner)" %
           (len(rep), sum(1 for e in rep if e["owner_pid"])))
rw = load("replay-web")
want = [key(e) for e in rep if e["cgroup_id"] == wcg]
if [key(e) for e in rw] == want and want:
    ok("replay-cgroup (%d drops)" % len(want))
else:
    bad("replay-cgroup", "%d drops, want %d" % (len(rw), len(want)))
