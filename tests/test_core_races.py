"""Interleavings that once crashed, hung or lost callbacks in the C core (issue 10's list), each in a
child process so a crash is a failed test, not a dead run. Bounded in time."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from helpers import make_channel, run_until

import pycares_ng

A = pycares_ng.QUERY_TYPE_A
ECANCELLED = pycares_ng.errno.ARES_ECANCELLED


def run_child(code: str, timeout: float = 60.0) -> str:
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"child exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


SILENT = """
import socket, tempfile
RC = tempfile.NamedTemporaryFile(delete=False).name  # an empty resolv.conf: nothing of this machine's
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
silent.bind(("127.0.0.1", 0))
PORT = silent.getsockname()[1]
"""


@pytest.mark.parametrize("event_thread", [False, True])
def test_subclass_with_del_dropped_with_pending_queries(event_thread):
    """A Channel subclass whose __del__ does not call the base's: dropped with queries pending,
    every callback still runs once (ARES_ECANCELLED), and a later fork() is safe (the freed core
    is no longer in the module's list of channels)."""
    out = run_child(SILENT + f"""
import gc, os, pycares_ng
calls = []

class Mine(pycares_ng.Channel):
    def __del__(self):
        calls.append("del")

ch = Mine(servers=["127.0.0.1:%d" % PORT], timeout=5.0, tries=1, event_thread={event_thread!r}, resolvconf_path=RC)
for i in range(3):
    ch.query("q%d.test" % i, pycares_ng.QUERY_TYPE_A, lambda r, e, i=i: calls.append((i, r, e)))
del ch
gc.collect()
assert calls[0] == "del", calls
assert sorted(calls[1:]) == [(i, None, pycares_ng.errno.ARES_ECANCELLED) for i in range(3)], calls
pid = os.fork()
if pid == 0:
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
print("ok")
""")
    assert out.strip() == "ok"


def test_reinit_while_another_thread_sets_servers():
    """reinit() in one thread, `servers = [...]` in another, for 2 s: the new libcares channel is
    built from a copy of the server list, never from the list the setter frees meanwhile."""
    out = run_child(SILENT + """
import threading, time, pycares_ng
ch = pycares_ng.Channel(servers=["127.0.0.1:%d" % PORT], timeout=1.0, resolvconf_path=RC)
stop = time.monotonic() + 2.0
errors, counts = [], [0, 0]

def reinit():
    while time.monotonic() < stop:
        ch.reinit()
        counts[0] += 1

def servers():
    i = 0
    while time.monotonic() < stop:
        ch.servers = ["127.0.0.%d:%d" % (1 + i % 3, PORT), "127.0.0.9:%d" % PORT][: 1 + i % 2]
        i += 1
        counts[1] += 1

threads = [threading.Thread(target=f) for f in (reinit, servers)]
for t in threads:
    t.start()
for t in threads:
    t.join(30)
assert not any(t.is_alive() for t in threads)
assert counts[0] > 10 and counts[1] > 10, counts
assert ch.servers, ch.servers
ch.close()
print("ok")
""")
    assert out.strip() == "ok"


def test_delivery_exclusive_and_in_order_with_two_driving_threads():
    """Two threads drive one sock_state_cb-less, non-threaded channel: one loops cancel(), the other
    query() + cancel(). A channel's callbacks never run at the same time, each runs once, and
    the cancelled ones of one thread arrive in the order it made them."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read: nothing answers
    sink.bind(("127.0.0.1", 0))
    silent = make_channel(f"127.0.0.1:{sink.getsockname()[1]}", timeout=5.0)
    running, overlaps, seen = [0], [0], []
    lock = threading.Lock()
    stop = time.monotonic() + 1.5

    def cb(tag):
        def f(result, errno):
            with lock:
                running[0] += 1
                if running[0] > 1:
                    overlaps[0] += 1
            time.sleep(0.0005)  # long enough for another thread to get in, if it could
            seen.append((tag, errno))
            with lock:
                running[0] -= 1
        return f

    def canceller():
        while time.monotonic() < stop:
            silent.cancel()

    made = []

    def querier():
        i = 0
        while time.monotonic() < stop:
            silent.query(f"q{i}.test", A, cb(i))
            made.append(i)
            if i % 3 == 0:
                silent.cancel()
            i += 1

    threads = [threading.Thread(target=canceller), threading.Thread(target=querier)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    silent.cancel()
    assert run_until(silent, lambda: len(seen) >= len(made), 10)
    silent.close()
    assert overlaps[0] == 0
    tags = [tag for tag, _ in seen]
    assert sorted(tags) == made  # each exactly once
    assert tags == sorted(tags)  # in the order they were made (each is cancelled, FIFO)
    assert {errno for _, errno in seen} == {ECANCELLED}
    sink.close()


def test_stayopen_event_thread_times_out_every_query():
    """ARES_FLAG_STAYOPEN with the I/O thread, a silent server: the second and later queries go out
    on the socket the first one opened, and time out too (the I/O thread is woken to take their
    deadline into its poll, rather than keep an older, possibly infinite, one)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    ch = make_channel(f"127.0.0.1:{sink.getsockname()[1]}", timeout=0.3, tries=1, event_thread=True,
                      flags=pycares_ng.ARES_FLAG_STAYOPEN)
    try:
        for i in range(3):
            done = threading.Event()
            got = []
            started = time.monotonic()
            ch.query(f"stay{i}.test", A, lambda r, e: (got.append(e), done.set()))
            assert done.wait(5.0), f"query {i} never timed out"
            assert got == [pycares_ng.errno.ARES_ETIMEOUT]
            assert time.monotonic() - started < 2.0
    finally:
        ch.close()
        sink.close()


@pytest.mark.parametrize("event_thread", [False, True])
def test_close_waiting_for_another_threads_delivery_can_be_interrupted(event_thread):
    """close() waits for the callbacks another thread is delivering (a thread that drives the
    channel, or its I/O thread); that wait checks signals: a KeyboardInterrupt (here from a
    SIGALRM handler) ends it at once. The channel stays closed and no callback is lost: the
    delivering thread still runs each one once, and a later close() returns when it is done."""
    out = run_child(SILENT + f"EVENT_THREAD = {event_thread!r}\n" + """
import signal, threading, time, pycares_ng
ch = pycares_ng.Channel(servers=["127.0.0.1:%d" % PORT], timeout=0.1, tries=1, resolvconf_path=RC,
                        event_thread=EVENT_THREAD)
calls = []
in_slow = threading.Event()

def slow(result, errno):
    calls.append("slow")
    in_slow.set()
    time.sleep(1.5)

ch.query("slow.test", pycares_ng.QUERY_TYPE_A, slow)

def drive():
    while not in_slow.is_set() and not EVENT_THREAD:
        ch.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)
        time.sleep(0.01)

driver = threading.Thread(target=drive)
driver.start()
assert in_slow.wait(5.0)
ch.query("late.test", pycares_ng.QUERY_TYPE_A, lambda r, e: calls.append(("late", e)))

def on_alarm(signum, frame):
    raise KeyboardInterrupt

signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.2)
started = time.monotonic()
try:
    ch.close()
except KeyboardInterrupt:
    interrupted = time.monotonic() - started
else:
    raise AssertionError("close() was not interrupted")
assert interrupted < 1.0, interrupted
assert ch.closed
ch.close()  # waits for the driver's delivery to finish
assert calls == ["slow", ("late", pycares_ng.errno.ARES_ECANCELLED)], calls
driver.join(5)
assert calls == ["slow", ("late", pycares_ng.errno.ARES_ECANCELLED)], calls
print("ok")
""")
    assert out.strip() == "ok"


def test_a_result_that_cannot_be_built_reports_the_error_not_enomem():
    """Building a result may fail for another reason than memory (here: the socket module, whose
    AF_INET the addrinfo nodes carry, cannot be imported). The exception goes to
    sys.unraisablehook and the callback gets ARES_EBADRESP, not ARES_ENOMEM."""
    out = run_child("""
import sys, pycares_ng
seen = []
sys.unraisablehook = lambda u: seen.append(u.exc_type.__name__)
ch = pycares_ng.Channel(servers=["127.0.0.1:9"], resolvconf_path="/dev/null")
calls = []
saved = sys.modules.pop("socket")
sys.modules["socket"] = None  # "import socket" raises ImportError
try:
    ch.getaddrinfo("127.0.0.1", 80, lambda r, e: calls.append((r, e)))
finally:
    sys.modules["socket"] = saved
ch.getaddrinfo("127.0.0.1", 80, lambda r, e: calls.append((r, e)))
ch.close()
assert calls[0] == (None, pycares_ng.errno.ARES_EBADRESP), calls
assert calls[1][1] is None and calls[1][0].nodes, calls
assert seen == ["ModuleNotFoundError"], seen
print("ok")
""")
    assert out.strip() == "ok"


def test_hostaliases_file_is_read_without_the_gil(tmp_path):
    """HOSTALIASES names a FIFO nobody writes to yet: a getaddrinfo() or search() of a dotless
    name blocks in the fopen() of it (pycares_ng's own alias step, then libcares' own), and other
    threads go on running Python meanwhile (the GIL is released around both). A Python thread
    feeds the FIFO, for as many reads as it takes, and the lookups complete."""
    fifo = tmp_path / "aliases"
    import os
    os.mkfifo(fifo)
    out = run_child(f"""
import os, threading, time
os.environ["HOSTALIASES"] = {str(fifo)!r}
import pycares_ng
ch = pycares_ng.Channel(servers=["127.0.0.1:9"], resolvconf_path="/dev/null", lookups="b", timeout=0.2, tries=1)
calls = []

def lookups():
    ch.getaddrinfo("shorty", 80, lambda r, e: calls.append(e))
    ch.search("shorty", pycares_ng.QUERY_TYPE_A, lambda r, e: calls.append(e))

t = threading.Thread(target=lookups)
t.start()
ticks = 0
deadline = time.monotonic() + 0.3
while time.monotonic() < deadline:
    ticks += 1
    time.sleep(0.001)
assert t.is_alive()  # still inside the first fopen()
assert ticks > 10, ticks  # the main thread ran meanwhile

def feed():  # a Python thread: it needs the GIL for each open()
    while t.is_alive():
        try:
            fd = os.open({str(fifo)!r}, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader yet
            time.sleep(0.005)
            continue
        os.write(fd, b"shorty target.invalid\\n")
        os.close(fd)
        time.sleep(0.005)

feeder = threading.Thread(target=feed)
feeder.start()
t.join(10)
assert not t.is_alive()
feeder.join(5)
ch.close()
assert len(calls) == 2, calls
print("ok")
""")
    assert out.strip() == "ok"


def test_c_source_never_takes_the_gil_back_holding_a_lock():
    """A lint of csrc/: inside every Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS block, every
    mutex locked is unlocked again before the GIL is taken back. A thread that holds a channel
    lock while it waits for the GIL deadlocks fork(), whose prepare handler takes every channel
    lock while the forking thread holds the GIL (issue 10, item 6)."""
    import re
    from pathlib import Path

    csrc = Path(__file__).resolve().parent.parent / "csrc"
    blocks = 0
    for path in sorted(csrc.glob("*.c")):
        text = path.read_text()
        for m in re.finditer(r"Py_BEGIN_ALLOW_THREADS(.*?)Py_END_ALLOW_THREADS", text, re.S):
            body = m.group(1)
            locks = len(re.findall(r"pthread_mutex_(?:lock|trylock)\s*\(", body))
            unlocks = len(re.findall(r"pthread_mutex_unlock\s*\(", body))
            line = text.count("\n", 0, m.start()) + 1
            assert locks == unlocks, f"{path.name}:{line}: the GIL is taken back with a mutex held"
            # a condition wait takes its mutex back: it must be one this block locked (and unlocks)
            for mutex in re.findall(r"pthread_cond_(?:timed)?wait\s*\(\s*[^,]+,\s*([^,)]+)", body):
                assert re.search(r"pthread_mutex_lock\s*\(\s*" + re.escape(mutex.strip()), body), \
                    f"{path.name}:{line}: a condition wait on {mutex.strip()} locked outside the block"
            blocks += 1
    assert blocks >= 5
