"""fork() at awkward moments (issue 10, items 5 and 6): while another thread is inside close(), and
with os.register_at_fork hooks, registered before and after the import, that use a channel.
Each case runs in a child interpreter (itself forking), bounded in time, so a crash or a hang is a
failed test, not a dead run. Never under ASan (its runtime cannot fork a threaded process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")


def run_child(code: str, timeout: float = 60.0) -> str:
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-W", "ignore::DeprecationWarning", "-c",
                           textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"child exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


# Shared by the scripts: a silent loopback server, an empty resolv.conf, and fork_and_wait(),
# which runs child() in a forked child that leaves through the normal interpreter exit (atexit
# hooks included) and reports the child's exit code, or None if it did not end within 10 s.
PRELUDE = """
import json, os, signal, socket, sys, tempfile, threading, time
RC = tempfile.NamedTemporaryFile(delete=False).name
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", 0))
PORT = silent.getsockname()[1]

def fork_and_wait(child, limit=10.0):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 3
        try:
            report = child()
            os.write(w, json.dumps(report).encode())
            code = 0
        except BaseException as exc:
            os.write(w, json.dumps({"exception": repr(exc)}).encode())
        os.close(w)
        sys.exit(code)  # the normal way out: atexit hooks (pycares_ng's shutdown) run
    os.close(w)
    deadline = time.monotonic() + limit
    status = None
    while time.monotonic() < deadline:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
        time.sleep(0.01)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    return (None if status is None else os.waitstatus_to_exitcode(status)), json.loads(data or b"{}")
"""


@pytest.mark.parametrize("event_thread", [True, False])
def test_fork_while_another_thread_is_inside_close(event_thread):
    """Item 5. Another thread is inside close() at the fork: waiting for the I/O thread, busy in a
    slow callback, to stop (event thread), or waiting for the thread that is delivering a slow
    callback (plain). The child finishes that close: the callback close() queued runs once there,
    close() returns, and the child's exit does not wait for the thread that was not copied."""
    out = run_child(PRELUDE + f"""
import pycares_ng
EVENT_THREAD = {event_thread!r}
ch = pycares_ng.Channel(servers=["127.0.0.1:%d" % PORT], timeout=0.2, tries=1, event_thread=EVENT_THREAD,
                        resolvconf_path=RC)
calls = []
in_slow = threading.Event()

def slow(result, errno):
    calls.append(("slow", errno))
    in_slow.set()
    time.sleep(1.0)

ch.query("slow.test", pycares_ng.QUERY_TYPE_A, slow)  # times out after 0.2 s; its callback takes 1 s
if not EVENT_THREAD:
    # another thread drives the channel and so delivers the slow callback
    def drive():
        import select
        while not in_slow.is_set():
            r, w = ch.getsock()
            select.select(r, w, [], 0.05)
            ch.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)
    threading.Thread(target=drive).start()
assert in_slow.wait(5.0)
# pending while the slow callback runs (nothing can time it out meanwhile): close() cancels it
ch.query("late.test", pycares_ng.QUERY_TYPE_A, lambda r, e: calls.append(("late", e)))
time.sleep(0.05)
closer = threading.Thread(target=ch.close)
closer.start()
time.sleep(0.2)  # the closer is inside close(), waiting for the slow callback to end
assert closer.is_alive()

def child():
    started = time.monotonic()
    ch.close()  # must not wait for a thread that is not here
    return {{"calls": calls, "closed": ch.closed, "event_thread": ch.event_thread,
             "close_s": time.monotonic() - started}}

code, report = fork_and_wait(child)
closer.join(10)
assert not closer.is_alive()
assert code == 0, (code, report)
assert report["calls"] == [["slow", None], ["late", pycares_ng.errno.ARES_ECANCELLED]] or \\
    report["calls"] == [["slow", pycares_ng.errno.ARES_ETIMEOUT], ["late", pycares_ng.errno.ARES_ECANCELLED]], report
assert report["closed"] is True and report["event_thread"] is False and report["close_s"] < 1.0, report
assert [c[0] for c in calls] == ["slow", "late"] and calls[1][1] == pycares_ng.errno.ARES_ECANCELLED, calls
print("ok")
""")
    assert out.strip() == "ok"


def test_fork_in_a_loop_while_threads_close_channels():
    """Item 5, hammered: threads open, query and close channels (both modes) while the main thread
    forks 20 times; every child exits through the normal interpreter exit within its time limit."""
    out = run_child(PRELUDE + """
import pycares_ng
stop = time.monotonic() + 2.0
made = [0]

def churn(event_thread):
    while time.monotonic() < stop:
        ch = pycares_ng.Channel(servers=["127.0.0.1:%d" % PORT], timeout=0.5, tries=1,
                                event_thread=event_thread, resolvconf_path=RC)
        for i in range(3):
            ch.query("c%d.test" % i, pycares_ng.QUERY_TYPE_A, lambda r, e: None)
        ch.close()
        made[0] += 1

threads = [threading.Thread(target=churn, args=(et,)) for et in (True, True, False)]
for t in threads:
    t.start()
forks = 0
while time.monotonic() < stop and forks < 20:
    code, report = fork_and_wait(lambda: {"ok": True})
    assert code == 0, (forks, code, report)
    forks += 1
    time.sleep(0.02)
for t in threads:
    t.join(20)
assert not any(t.is_alive() for t in threads)
assert forks >= 3 and made[0] > 3, (forks, made)
print("ok")
""", timeout=90)
    assert out.strip() == "ok"


HOOKS = PRELUDE + """
log = []
channels = []

def use(where):
    def hook():
        for ch in channels:
            ch.timeout()
            ch.servers
            ch.query(where + ".test", 1, lambda r, e, where=where: log.append((os.getpid(), where, e)))
            ch.timeout(1.0)
            log.append((os.getpid(), where, "used"))
    return hook

if FIRST:  # registered before pycares_ng's own: before-hooks run after it, after-hooks before it
    os.register_at_fork(before=use("before"), after_in_parent=use("parent"), after_in_child=use("child"))
import pycares_ng
if not FIRST:
    os.register_at_fork(before=use("before"), after_in_parent=use("parent"), after_in_child=use("child"))
channels.append(pycares_ng.Channel(servers=["127.0.0.1:%d" % PORT], timeout=60.0, tries=1, resolvconf_path=RC))
channels.append(pycares_ng.Channel(servers=["127.0.0.1:%d" % PORT], timeout=60.0, tries=1, resolvconf_path=RC,
                                   event_thread=True))
for ch in channels:
    ch.query("pending.test", 1, lambda r, e: log.append((os.getpid(), "pending", e)))

def child():
    me = os.getpid()
    for ch in channels:
        assert ch.servers == ["127.0.0.1:%d" % PORT], ch.servers
        ch.query("in-child.test", 1, lambda r, e: log.append((me, "in-child", e)))
        ch.close()
    return {"log": [entry[1:] for entry in log if entry[0] == me]}

for round in range(3):
    del log[:]
    code, report = fork_and_wait(child)
    assert code == 0, (round, code, report)
    CANCELLED, DESTROYED = pycares_ng.errno.ARES_ECANCELLED, pycares_ng.errno.ARES_EDESTRUCTION
    got = sorted(map(tuple, report["log"]), key=repr)
    # In the child every query pending at the fork (this round's "before" ones, the earlier
    # rounds' "before" and "parent" ones, the first "pending" ones) ends with EDESTRUCTION, once;
    # the child's own ones end with ECANCELLED at close().
    want = [("child", "used")] * 2 + [("child", CANCELLED)] * 2 + [("in-child", CANCELLED)] * 2 + \
           [("pending", DESTROYED)] * 2 + [("before", DESTROYED)] * 2 * (round + 1) + \
           [("parent", DESTROYED)] * 2 * round
    assert got == sorted(want, key=repr), (round, got)
    mine = [entry[1:] for entry in log if entry[0] == os.getpid()]
    assert sorted(mine) == sorted([("before", "used")] * 2 + [("parent", "used")] * 2), (round, mine)
for ch in channels:
    ch.close()
counts = {}
for pid, where, e in log:
    if e != "used":
        counts[where, e] = counts.get((where, e), 0) + 1
# the parent: every query it made ends once, at close()
CANCELLED = pycares_ng.errno.ARES_ECANCELLED
assert counts == {("before", CANCELLED): 6, ("parent", CANCELLED): 6, ("pending", CANCELLED): 2}, counts
print("ok")
"""


@pytest.mark.parametrize("first", [True, False], ids=["hooks-before-import", "hooks-after-import"])
def test_fork_hooks_that_use_channels(first):
    """Item 6. before / after_in_parent / after_in_child hooks that call timeout(), query() and the
    servers getter on channels of both modes, registered before the import (so the before-hook
    runs after pycares_ng's own) or after it: no deadlock, and every query ends exactly once in
    each process (pending at the fork: ARES_EDESTRUCTION in the child)."""
    out = run_child(f"FIRST = {first!r}\n" + HOOKS, timeout=60)
    assert out.strip() == "ok"
