"""Every pair of Channel operations at once on one channel (issue 10): query, search, getaddrinfo,
the servers getter and setter, set_local_ip, set_local_dev, reinit, cancel, close, timeout,
getsock, process_fd and dropping the channel (+ gc). In both modes (sock_state_cb-driven, and
event_thread=True). No crash, no hang, no unexpected exception, and every accepted request gets
exactly one callback (a refused one none).

Pairs are combined: each round runs four threads on one channel, each hammering one operation
for ROUND seconds; the rounds cover every pair of operations, an operation with itself included.
Each mode runs in a child interpreter, so a crash is a failed test that names the last round."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from typing import List, Tuple

import pytest

OPS = ["query", "search", "getaddrinfo", "servers_get", "servers_set", "set_local_ip", "set_local_dev",
       "reinit", "cancel", "close", "timeout", "getsock", "process_fd", "drop"]
SLOTS = 4
ROUND = 0.3


def covering_rounds(ops: List[str], slots: int) -> List[List[str]]:
    """Rounds of `slots` operations (repeats allowed) such that every unordered pair, (a, a)
    included, runs together in some round. Greedy; deterministic."""
    todo = {tuple(sorted(p)) for p in itertools.combinations_with_replacement(ops, 2)}
    rounds = []
    while todo:
        first = min(todo)  # start from a pair still to do
        chosen = list(first)
        while len(chosen) < slots:
            best, gain = None, -1
            for op in ops:
                new = {tuple(sorted((op, c))) for c in chosen} & todo
                if len(new) > gain:
                    best, gain = op, len(new)
            chosen.append(best)
        rounds.append(chosen)
        todo -= {tuple(sorted(p)) for p in itertools.combinations(chosen, 2)}
    return rounds


def test_covering_rounds_cover_every_pair():
    rounds = covering_rounds(OPS, SLOTS)
    covered = {tuple(sorted(p)) for r in rounds for p in itertools.combinations(r, 2)}
    assert covered == {tuple(sorted(p)) for p in itertools.combinations_with_replacement(OPS, 2)}
    assert len(rounds) * ROUND < 15, len(rounds)  # per mode


CHILD = r"""
import gc, json, os, select, sys, tempfile, threading, time, traceback, weakref
import pycares_ng

job = json.loads(sys.argv[1])
SERVER, EVENT_THREAD, ROUND = job["server"], job["event_thread"], job["round"]
RC = tempfile.NamedTemporaryFile(delete=False).name  # an empty resolv.conf: nothing of this machine's
BAD = pycares_ng.ARES_SOCKET_BAD
A = pycares_ng.QUERY_TYPE_A

calls = {}          # token -> callbacks seen
accepted = set()    # tokens whose submission returned normally
refused = set()     # tokens whose submission raised (closed meanwhile)
errors = []
token_lock = threading.Lock()
next_token = [0]
watched = {}        # sock_state_cb's view: fd -> (readable, writable), per channel id


def new_token():
    with token_lock:
        next_token[0] += 1
        return next_token[0]


def make_cb(token):
    def cb(result, errno):
        calls[token] = calls.get(token, 0) + 1  # callbacks of one channel never run at once
    return cb


def new_channel():
    if EVENT_THREAD:
        return pycares_ng.Channel(servers=[SERVER], timeout=0.2, tries=1, resolvconf_path=RC, event_thread=True)
    table = {}

    def sock_state_cb(fd, readable, writable):
        if readable or writable:
            table[fd] = (readable, writable)
        else:
            table.pop(fd, None)
    ch = pycares_ng.Channel(servers=[SERVER], timeout=0.2, tries=1, resolvconf_path=RC,
                            sock_state_cb=sock_state_cb)
    ch.table = table
    return ch


box = [new_channel()]
alive = weakref.WeakSet([box[0]])  # channels not yet collected, to close at the end


def replace():
    ch = new_channel()
    alive.add(ch)
    box[0] = ch


def submit(method, *args):
    token = new_token()
    try:
        method(*args, make_cb(token))
    except RuntimeError:
        refused.add(token)
    else:
        accepted.add(token)


def op_query(ch, i):
    submit(ch.query, "q%d.test" % i, A)

def op_search(ch, i):
    submit(ch.search, "s%d" % i, A)

def op_getaddrinfo(ch, i):
    submit(ch.getaddrinfo, "127.0.0.1" if i % 3 == 0 else "h%d.test" % i, 80)

def op_servers_get(ch, i):
    ch.servers

def op_servers_set(ch, i):
    ch.servers = [SERVER] if i % 2 else [SERVER, SERVER]

def op_set_local_ip(ch, i):
    ch.set_local_ip("127.0.0.1")

def op_set_local_dev(ch, i):
    ch.set_local_dev("lo")

def op_reinit(ch, i):
    ch.reinit()

def op_cancel(ch, i):
    ch.cancel()

def op_close(ch, i):
    ch.close()
    replace()

def op_timeout(ch, i):
    ch.timeout()
    ch.timeout(0.5)

def op_getsock(ch, i):
    ch.getsock()

def op_process_fd(ch, i):
    fds = list(getattr(ch, "table", {}))
    if not fds:
        r, w = ch.getsock()
        fds = r + w
    if fds:
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        for fd, _ in poller.poll(2):
            ch.process_fd(fd, BAD)
    ch.process_fd(BAD, BAD)

def op_drop(ch, i):
    replace()
    del ch
    if i % 16 == 0:
        gc.collect()


def hammer(name, deadline):
    op = globals()["op_" + name]
    i = 0
    while time.monotonic() < deadline:
        ch = box[0]
        try:
            op(ch, i)
        except RuntimeError as exc:  # closed meanwhile by another thread
            if "closed" not in str(exc) and "destroyed" not in str(exc):
                errors.append("%s: %r" % (name, exc))
        except pycares_ng.AresError:
            pass  # e.g. servers refused by the library: an answer, not a crash
        except BaseException:
            errors.append("%s: %s" % (name, traceback.format_exc()))
            return
        del ch
        i += 1
        if i % 8 == 0:
            time.sleep(0)  # let the others in


for n, ops in enumerate(job["rounds"]):
    print("round", n, ops, flush=True)
    deadline = time.monotonic() + ROUND
    threads = [threading.Thread(target=hammer, args=(op, deadline)) for op in ops]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if any(t.is_alive() for t in threads):
        print("HUNG in round", n, ops, flush=True)
        import faulthandler
        faulthandler.dump_traceback()
        os._exit(3)

del box[:]
gc.collect()
for leftover in list(alive):  # none, unless something keeps a dropped channel alive
    errors.append("channel not collected: %r" % leftover)
    leftover.close()
twice = {t: n for t, n in calls.items() if n != 1}
missing = sorted(accepted - set(calls))
unexpected = sorted(refused & set(calls))
print(json.dumps({"accepted": len(accepted), "refused": len(refused), "errors": errors[:20],
                  "twice": list(twice.items())[:20], "missing": missing[:20], "unexpected": unexpected[:20]}))
"""


@pytest.mark.parametrize("event_thread", [False, True], ids=["sock_state_cb", "event_thread"])
def test_every_pair_of_operations_at_once(fault_server, event_thread):
    rounds = covering_rounds(OPS, SLOTS)
    job = {"server": fault_server.address, "event_thread": event_thread, "round": ROUND, "rounds": rounds}
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c", CHILD, json.dumps(job)],
                          capture_output=True, text=True, timeout=120)
    tail = f"\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, f"child exited {proc.returncode}:{tail}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["errors"] == [], tail
    assert report["twice"] == [] and report["missing"] == [] and report["unexpected"] == [], report
    assert report["accepted"] > 100, report
