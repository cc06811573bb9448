"""A channel's life: methods on fresh and closed channels, callbacks that raise thousands of
times, interpreter exit with queries pending, thousands of channels created and closed, os.fork(),
and the memory a pending query costs.

Everything is bounded in count and time; subprocesses and forked children run with a timeout and
are always reaped. Callbacks only record; the assertions are in the test bodies.
"""
from __future__ import annotations

import gc
import itertools
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc

import pytest

import pycares_ng
from pycares_ng import errno as ares_errno
from pycares_ng.testing import FaultServer

from dnsdata import BENCH_HOSTS, bench_address
from helpers import Collector, empty_resolv_conf, make_channel, resolve, run_until

A = pycares_ng.QUERY_TYPE_A
BAD = pycares_ng.ARES_SOCKET_BAD
EDESTRUCTION = ares_errno.ARES_EDESTRUCTION
ECANCELLED = ares_errno.ARES_ECANCELLED
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(pycares_ng.__file__)))
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
THIS_MODULE = os.path.splitext(os.path.basename(__file__))[0]
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")
MODES = pytest.mark.parametrize("event_thread", [False, True], ids=["plain", "event-thread"])


def bench_name(i: int) -> str:
    return f"n{i % BENCH_HOSTS}.bench.test"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def sink():
    """A UDP socket on loopback that is never read: a server that never answers, with no Python
    thread doing work per query (unlike FaultServer's "drop" mode). Yields "127.0.0.1:PORT"."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{s.getsockname()[1]}"
    finally:
        s.close()


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return predicate()
        time.sleep(0.002)
    return True


# ---- 5. methods on a fresh, a closed and a running channel -----------------------------------


def host_calls(ch, cb):
    """The host lookups a channel offers (gethostbyname & co., when this build has them)."""
    calls = []
    if hasattr(ch, "gethostbyname"):
        calls.append(lambda: ch.gethostbyname("localhost", socket.AF_INET, cb))
    if hasattr(ch, "gethostbyaddr"):
        calls.append(lambda: ch.gethostbyaddr("127.0.0.1", cb))
    if hasattr(ch, "getaddrinfo"):
        calls.append(lambda: ch.getaddrinfo("localhost", 80, cb))
    if hasattr(ch, "getnameinfo"):
        calls.append(lambda: ch.getnameinfo(("127.0.0.1", 80), 0, cb))
    return calls


@MODES
def test_fresh_channel_methods(dns_server, event_thread):
    ch = make_channel(dns_server.address, event_thread=event_thread)
    assert ch.closed is False
    assert ch.event_thread is event_thread
    assert ch.timeout() == 0.0
    assert ch.timeout(2.5) == 2.5
    assert ch.timeout(0) == 0.0
    assert ch.getsock() == ([], [])
    assert ch.process_fd(BAD, BAD) is None
    assert ch.process_read_fd(BAD) is None
    assert ch.process_write_fd(BAD) is None
    assert ch.servers == [dns_server.address]
    assert ch.cancel() is None
    assert ch.reinit() is None
    assert ch.servers == [dns_server.address]
    # and it works afterwards
    c = Collector()
    done = threading.Event()
    ch.query("www.example.test", A, lambda r, e: (c.cb(r, e), done.set()))
    if event_thread:
        assert done.wait(10.0)
    else:
        assert run_until(ch, done.is_set, 10.0)
    result, err = c.one
    assert err is None and [r.host for r in result] == ["192.0.2.10"]
    ch.close()


@MODES
def test_closed_channel_methods_raise(dns_server, event_thread):
    ch = make_channel(dns_server.address, event_thread=event_thread)
    ch.close()
    assert ch.closed is True
    assert ch.event_thread is False
    cb = Collector()
    calls = {
        "query": lambda: ch.query("www.example.test", A, cb.cb),
        "search": lambda: ch.search("www", A, cb.cb),
        "query_dns": lambda: ch.query_dns("www.example.test", A, cb.cb),
        "search_dns": lambda: ch.search_dns("www", A, cb.cb),
        "timeout()": lambda: ch.timeout(),
        "timeout(1.0)": lambda: ch.timeout(1.0),
        "getsock": lambda: ch.getsock(),
        "process_fd": lambda: ch.process_fd(BAD, BAD),
        "process_read_fd": lambda: ch.process_read_fd(BAD),
        "process_write_fd": lambda: ch.process_write_fd(BAD),
        "servers get": lambda: ch.servers,
        "servers set": lambda: setattr(ch, "servers", [dns_server.address]),
        "cancel": lambda: ch.cancel(),
        "reinit": lambda: ch.reinit(),
        "set_local_ip": lambda: ch.set_local_ip("127.0.0.1"),
        "set_local_dev": lambda: ch.set_local_dev("lo"),
        "__enter__": lambda: ch.__enter__(),
    }
    for i, call in enumerate(host_calls(ch, cb.cb)):
        calls[f"host call {i}"] = call
    not_raising = {}
    for name, call in calls.items():
        try:
            value = call()
        except RuntimeError as exc:
            assert str(exc) == "Channel is closed (destroyed), no new queries allowed", name
        else:
            not_raising[name] = value
    assert not_raising == {}
    assert cb.calls == []
    for _ in range(3):  # close stays idempotent
        ch.close()
        ch.destroy()
    assert ch.closed


def test_methods_from_another_thread_while_the_event_thread_runs(sink, dns_server):
    """With queries pending and the I/O thread polling: timeout(), getsock(), process_fd(-1, -1),
    servers from the main thread give sane values and deliver nothing on the main thread;
    cancel() runs the cancelled callbacks inside the call, on the calling thread, as pycares 4.11
    does."""
    ch = make_channel(sink, event_thread=True, timeout=2.0)
    main = threading.get_ident()
    calls = {}
    threads = set()
    all_called = threading.Event()

    def cb_for(i):
        def cb(result, err):
            calls.setdefault(i, []).append(err)
            threads.add(threading.get_ident())
            if len(calls) == 5:
                all_called.set()
        return cb

    for i in range(5):
        ch.query(f"pending{i}.test", A, cb_for(i))
    for _ in range(50):  # the I/O thread runs meanwhile
        t = ch.timeout()
        assert 0.0 < t <= 2.0
        assert 0.0 < ch.timeout(0.5) <= 0.5
        rfds, wfds = ch.getsock()
        assert len(rfds) == 1 and wfds == []
        assert ch.process_fd(BAD, BAD) is None
        assert ch.process_read_fd(BAD) is None
        assert ch.servers == [sink]
        assert ch.event_thread is True
    assert calls == {}
    ch.cancel()
    assert all_called.is_set()  # before cancel() returned
    assert calls == {i: [ECANCELLED] for i in range(5)}
    assert threads == {main}
    assert ch.getsock() == ([], [])
    # switch to a real server while the thread runs, and resolve through it
    ch.servers = [dns_server.address]
    got = []
    answered = threading.Event()
    ch.query("www.example.test", A, lambda r, e: (got.append((r, e)), answered.set()))
    assert answered.wait(10.0)
    [(result, err)] = got
    assert err is None and [r.host for r in result] == ["192.0.2.10"]
    ch.close()
    assert ch.event_thread is False


# ---- 4. a callback that raises, 10,000 times ---------------------------------------------------


class CallbackError(Exception):
    pass


@MODES
def test_callback_raising_10000_times(sink, monkeypatch, event_thread):
    """Each exception reaches sys.unraisablehook exactly once with the callback as `object`; the
    callback's reference count and traced memory stay flat. cancel() produces the callbacks."""
    batch, warmup, measured = 1000, 1000, 10_000
    total = warmup + measured
    called = bytearray(total)
    hooked = bytearray(total)
    strays = []
    hooked_count = [0]
    counter = itertools.count()
    target = [0]
    reached = threading.Event()

    def bad_cb(result, err):
        k = next(counter)
        called[k] += 1
        raise CallbackError(k, err)

    def hook(args):
        if args.object is not bad_cb or type(args.exc_value) is not CallbackError:
            strays.append(repr(args.exc_value))
            return
        hooked[args.exc_value.args[0]] += 1
        hooked_count[0] += 1
        if hooked_count[0] == target[0]:
            reached.set()

    monkeypatch.setattr(sys, "unraisablehook", hook)
    ch = make_channel(sink, event_thread=event_thread, timeout=30.0)

    def run_batches(n):
        for _ in range(n):
            reached.clear()
            target[0] += batch
            for i in range(batch):
                ch.query(f"raise{i}.test", A, bad_cb)
            ch.cancel()
            assert reached.wait(10.0), f"{hooked_count[0]} of {target[0]} exceptions reported"

    run_batches(warmup // batch)
    gc.collect()
    refs = sys.getrefcount(bad_cb)
    tracemalloc.start()
    try:
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        run_batches(measured // batch)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    ch.close()
    assert strays == []
    assert called == bytes([1]) * total
    assert hooked == bytes([1]) * total
    assert sys.getrefcount(bad_cb) == refs
    assert grown < 200_000, grown
    print(f"\n10,000 raising callbacks ({'event thread' if event_thread else 'plain'}): "
          f"traced memory grew {grown} bytes")


# ---- 6. interpreter exit with queries pending (subprocesses) -------------------------------

EXIT_SCRIPT = r"""
import sys
import pycares_ng

server, resolv, event_thread, ref, how, count = sys.argv[1:7]
ch = pycares_ng.Channel(servers=[server], resolvconf_path=resolv, timeout=30.0, tries=1,
                        event_thread=event_thread == "1")
results = []


def cb(result, err):
    results.append(err)


for i in range(int(count)):
    ch.query(f"n{i}.bench.test", pycares_ng.QUERY_TYPE_A, cb)

if ref == "cycle":  # only a reference cycle keeps the channel alive: channel -> callback -> holder -> channel
    class Holder:
        pass

    holder = Holder()
    holder.channel = ch
    holder.me = holder

    def cycle_cb(result, err, holder=holder):
        holder.last = err

    ch.query("cycle.test", pycares_ng.QUERY_TYPE_A, cycle_cb)
    del holder, cycle_cb, ch

if how == "sys.exit":
    sys.exit(0)
"""


def run_exit_script(*args, timeout: float = 30.0) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory() as cwd:
        try:
            return subprocess.run([sys.executable, "-c", EXIT_SCRIPT, *map(str, args)], env=env, cwd=cwd,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the interpreter did not exit within {timeout}s: {args}; stderr: {exc.stderr!r}")


def run_child(func: str, *args, timeout: float = 60.0) -> dict:
    """Runs `func(*args)` of this module in a fresh interpreter that imports the same pycares_ng;
    returns what it returned (JSON)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    code = (f"import sys, json; sys.path.insert(0, {TESTS_DIR!r}); import {THIS_MODULE} as m; "
            f"print(json.dumps(m.{func}(*sys.argv[1:])))")
    with tempfile.TemporaryDirectory() as cwd:
        try:
            proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, cwd=cwd,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{func}{args} did not finish within {timeout}s; stderr: {exc.stderr!r}")
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def drop_server():
    with FaultServer(mode="drop") as server:
        yield server


@pytest.fixture(scope="module")
def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more (a reused port would only answer nothing)
    return f"127.0.0.1:{port}"


@pytest.mark.parametrize("how", ["end", "sys.exit"])
@pytest.mark.parametrize("ref", ["global", "cycle"])
@MODES
def test_exit_with_100_queries_pending(drop_server, how, ref, event_thread):
    proc = run_exit_script(drop_server.address, empty_resolv_conf(), int(event_thread), ref, how, 100)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == ""


@MODES
def test_exit_with_queries_pending_to_a_closed_port(closed_port, event_thread):
    proc = run_exit_script(closed_port, empty_resolv_conf(), int(event_thread), "global", "end", 100)
    assert (proc.returncode, proc.stderr) == (0, "")


@pytest.mark.parametrize("ref", ["global", "cycle"])
def test_exit_while_the_event_thread_delivers_answers(dns_server, ref):
    """2,000 queries to NSD and exit at once: answers arrive and their callbacks run on the I/O
    thread while the main thread is already leaving."""
    proc = run_exit_script(dns_server.address, empty_resolv_conf(), 1, ref, "end", 2000)
    assert (proc.returncode, proc.stderr) == (0, "")


DAEMON_CLOSE_SCRIPT = r"""
import sys
import threading
import time

import pycares_ng

server, resolv = sys.argv[1:3]
ch = pycares_ng.Channel(servers=[server], resolvconf_path=resolv, timeout=5.0, tries=1, event_thread=True)
in_callback = threading.Event()


def slow_cb(result, err):
    in_callback.set()
    time.sleep(0.5)


ch.query("slow.test", pycares_ng.QUERY_TYPE_A, slow_cb)
in_callback.wait(5.0)
threading.Thread(target=ch.close, daemon=True).start()  # joins the I/O thread, still in slow_cb
time.sleep(0.05)
"""


def test_exit_while_a_daemon_thread_is_closing_an_event_thread_channel(fault_server):
    """The interpreter exits while a daemon thread's close() is joining the I/O thread (which is
    in a callback). The atexit hook must neither spin on that channel (it used to, holding the GIL
    the I/O thread needs: a hang) nor crash, and must wait until the I/O thread is done with the
    GIL: it used to return once the callbacks had run, and the I/O thread, asking for the GIL once
    more, was ended by the finalizing interpreter (pthread_exit) -- under ASan a
    stack-use-after-scope report on thread "T-1" at exit, in a run of this in a few."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory() as cwd:
        try:
            proc = subprocess.run([sys.executable, "-c", DAEMON_CLOSE_SCRIPT, fault_server.address,
                                   empty_resolv_conf()], env=env, cwd=cwd, capture_output=True, text=True,
                                  timeout=10.0)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the interpreter did not exit within 10 s (hang at exit); stderr: {exc.stderr!r}")
    assert (proc.returncode, proc.stderr) == (0, "")


# ---- 7. thousands of channels --------------------------------------------------------------


@pytest.mark.parametrize("event_thread,count", [(False, 10_000), (True, 10_000)], ids=["plain", "event-thread"])
def test_10000_channels_created_and_closed(event_thread, count):
    """Open descriptors come back to the baseline; RSS grows by less than 20 MB (not checked under
    AddressSanitizer, whose quarantine holds on to freed memory)."""
    def cycle(n):
        for _ in range(n):
            ch = make_channel("127.0.0.1:9", event_thread=event_thread)
            ch.close()
            del ch

    cycle(200)  # warm-up: allocator pools, lazily opened files
    gc.collect()
    fds, rss = open_fds(), rss_bytes()
    start = time.perf_counter()
    cycle(count)
    elapsed = time.perf_counter() - start
    gc.collect()
    grown = rss_bytes() - rss
    assert open_fds() == fds
    if not UNDER_ASAN:  # ASan keeps freed memory in quarantine (256 MB by default)
        assert grown < 20 << 20, grown
    print(f"\n{count} {'event-thread' if event_thread else 'plain'} channels created+closed: "
          f"{elapsed:.2f} s, RSS {grown / 1e6:+.2f} MB")


def test_closing_1000_event_thread_channels(dns_server):
    gc.collect()
    fds = open_fds()
    channels = [make_channel(dns_server.address, event_thread=True) for _ in range(1000)]
    assert all(ch.event_thread for ch in channels)
    start = time.perf_counter()
    for ch in channels:
        ch.close()
    elapsed = time.perf_counter() - start
    print(f"\nclosing 1,000 event-thread channels: {elapsed:.3f} s ({elapsed:.2e} s each)")
    assert all(ch.closed and not ch.event_thread for ch in channels)
    del channels, ch
    gc.collect()
    assert open_fds() == fds
    assert elapsed < 30.0  # sanity only: catches a one-second-per-close throttle


# ---- 11. memory per pending query ----------------------------------------------------------


def child_memory_per_pending_query(event_thread: str) -> dict:
    """In a fresh interpreter (so freed memory of earlier tests cannot hide the growth): the RSS
    that 20,000 pending queries add, then close() and the callbacks it delivers."""
    import ctypes
    n = 20_000
    threaded = event_thread == "1"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))  # never read: nothing is ever answered
    ch = pycares_ng.Channel(servers=[f"127.0.0.1:{sock.getsockname()[1]}"], resolvconf_path=empty_resolv_conf(),
                            tries=1, timeout=30.0, event_thread=threaded)
    calls = bytearray(n)
    errs = set()

    def cb(i, result, err):
        calls[i] += 1
        errs.add(err)

    try:  # glibc's count of bytes malloc() handed out (libcares' share), when available
        class MallInfo2(ctypes.Structure):
            _fields_ = [(f, ctypes.c_size_t) for f in
                        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
        mallinfo2 = ctypes.CDLL(None).mallinfo2
        mallinfo2.restype = MallInfo2

        def heap():
            m = mallinfo2()
            return m.uordblks + m.hblkhd
    except (AttributeError, OSError):
        def heap():
            return 0

    # names and callbacks exist before the baseline: what is measured is the library's share
    names = [bench_name(i) for i in range(n)]
    callbacks = [(lambda r, e, i=i: cb(i, r, e)) for i in range(n)]
    ch.query(names[0], A, callbacks[0])  # the socket and libcares' tables are set up
    gc.collect()
    rss0, heap0 = rss_bytes(), heap()
    for i in range(1, n):
        ch.query(names[i], A, callbacks[i])
    rss1, heap1 = rss_bytes(), heap()
    unanswered = calls == bytes(n)
    ch.close()
    sock.close()
    return {"rss_per_query": (rss1 - rss0) / (n - 1), "malloc_per_query": (heap1 - heap0) / (n - 1),
            "unanswered_before_close": unanswered, "once_each": calls == bytes([1]) * n,
            "errs": sorted(errs)}


@MODES
def test_memory_per_pending_query(event_thread):
    """20,000 queries pending against a server that never answers: the RSS they add, per query,
    stays under 4 KiB (printed); close() then calls back every one exactly once."""
    out = run_child("child_memory_per_pending_query", int(event_thread))
    print(f"\nmemory per pending query ({'event thread' if event_thread else 'plain'}, "
          f"c-ares {pycares_ng.ARES_VERSION}): {out['rss_per_query']:.0f} bytes of RSS "
          f"({out['malloc_per_query']:.0f} bytes from malloc)")
    if not UNDER_ASAN:  # ASan's redzones and quarantine add to every small allocation
        assert out["rss_per_query"] < 4096, out
    assert out["unanswered_before_close"]
    assert out["once_each"]
    assert out["errs"] == [ECANCELLED]


# ---- 8. os.fork() ---------------------------------------------------------------------------


def in_child(child, timeout: float = 20.0) -> dict:
    """Forks; the child runs child() and reports its return value (JSON) through a pipe, then
    leaves with os._exit. The parent reads the report and reaps the child within `timeout`
    (killing it if needed), so no child is ever left behind."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(r)
            report = child()
            os.write(w, json.dumps(report).encode())
            code = 0
        except BaseException as exc:  # noqa: BLE001
            try:
                os.write(w, json.dumps({"child_exception": repr(exc)}).encode())
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(code)
    os.close(w)
    return _ChildReport(pid, r, timeout)


class _ChildReport:
    """The parent's side of in_child(): .result() waits for the report and the exit status."""

    def __init__(self, pid: int, fd: int, timeout: float) -> None:
        self.pid, self.fd, self.deadline = pid, fd, time.monotonic() + timeout

    def result(self) -> dict:
        data = b""
        status = None
        try:
            while True:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    break
                ready, _, _ = select.select([self.fd], [], [], left)
                if not ready:
                    continue
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                data += chunk
            while status is None and time.monotonic() < self.deadline:
                done, st = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    status = st
                else:
                    time.sleep(0.01)
        finally:
            os.close(self.fd)
            if status is None:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        assert status is not None, "the forked child did not finish in time (killed)"
        report = json.loads(data.decode() or "{}")
        assert os.waitstatus_to_exitcode(status) == 0, report
        return report


FORK_WARNINGS = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # 3.12+: fork with threads


@FORK_WARNINGS
@MODES
def test_fork_query_in_the_child(dns_server, event_thread):
    """A channel used before the fork answers in the child without reinit() (and still in the
    parent)."""
    ch = make_channel(dns_server.address, event_thread=event_thread)

    def ask(name):
        got = []
        done = threading.Event()
        ch.query(name, A, lambda r, e: (got.append((None if r is None else [x.host for x in r], e,
                                                    threading.get_ident())), done.set()))
        if event_thread:
            done.wait(10.0)
        else:
            run_until(ch, done.is_set, 10.0)
        return got

    [(hosts, err, _)] = ask("www.example.test")
    assert (hosts, err) == (["192.0.2.10"], None)

    def child():
        got = ask("n7.bench.test")
        return {"got": [(h, e, tid != threading.get_ident()) for h, e, tid in got],
                "event_thread": ch.event_thread, "servers": ch.servers}

    report = in_child(child).result()
    assert report == {"got": [[[bench_address(7)], None, event_thread]], "event_thread": event_thread,
                      "servers": [dns_server.address]}
    [(hosts, err, _)] = ask("n8.bench.test")
    assert (hosts, err) == ([bench_address(8)], None)
    ch.close()


@FORK_WARNINGS
@MODES
def test_fork_with_a_query_pending(fault_server, event_thread):
    """A query pending at the fork: ARES_EDESTRUCTION in the child, during os.fork(); its real
    answer in the parent. A new query in the child goes out from a new socket and is answered."""
    fault_server.delay = 0.5
    ch = make_channel(fault_server.address, event_thread=event_thread, timeout=5.0)
    calls = []
    answered = threading.Event()
    ch.query("pending.test", A, lambda r, e: (calls.append((None if r is None else [x.host for x in r], e)),
                                              answered.set()))
    assert fault_server.wait_for_queries(1, 5.0)

    def child():
        at_fork = list(calls)  # what os.fork() itself delivered here
        got = []
        done = threading.Event()
        ch.query("child.test", A, lambda r, e: (got.append((None if r is None else [x.host for x in r], e)),
                                                done.set()))
        if event_thread:
            done.wait(10.0)
        else:
            run_until(ch, done.is_set, 10.0)
        if not event_thread:
            ch.process_fd(BAD, BAD)
        return {"at_fork": at_fork, "calls": calls, "got": got}

    running = in_child(child)
    if event_thread:
        assert answered.wait(10.0)
    else:
        assert run_until(ch, answered.is_set, 10.0)
    report = running.result()
    assert report == {"at_fork": [[None, EDESTRUCTION]], "calls": [[None, EDESTRUCTION]],
                      "got": [[["192.0.2.1"], None]]}
    assert calls == [(["192.0.2.1"], None)]
    by_name = {q.qname: q for q in fault_server.queries}
    assert set(by_name) == {"pending.test", "child.test"}
    assert by_name["pending.test"].client != by_name["child.test"].client  # the child's own socket
    ch.close()
    assert calls == [(["192.0.2.1"], None)]


@FORK_WARNINGS
@MODES
def test_fork_while_answers_stream_in(dns_server, event_thread):
    """Fork three times while 600 queries are being answered (event thread: all 600 submitted
    just before the fork; plain: 200 answered, then 400 submitted just before it). Parent: every
    query exactly one callback, with its answer. Child, right after os.fork() returns: every query
    it inherited has had exactly one callback (an answer delivered before the fork, or
    ARES_EDESTRUCTION) -- except, with an event thread, the one callback that thread may have been
    running at the fork (forking needs the GIL, so it can only happen mid-callback), which does not
    exist in the child."""
    n, first = 600, 200
    # a large receive buffer: answers pile up unread while the parent forks
    ch = make_channel(dns_server.address, event_thread=event_thread, timeout=5.0, tries=3,
                      socket_receive_buffer_size=4 << 20)
    for rnd in range(3):
        calls = {}
        finished = threading.Event()

        def cb(i, result, err):
            calls.setdefault(i, []).append(err if err is not None else
                                           ("ok" if [x.host for x in result] == [bench_address(rnd * n + i)]
                                            else "bad"))
            if len(calls) == n:
                finished.set()

        def submit(ids):
            base = rnd * n  # new names each round: c-ares >= 1.23 would answer repeats from its cache
            for i in ids:
                ch.query(bench_name(base + i), A, lambda r, e, i=i: cb(i, r, e))

        if event_thread:
            submit(range(n))
        else:
            submit(range(first))
            assert run_until(ch, lambda: len(calls) >= first, 10.0)
            submit(range(first, n))

        def child():
            snapshot = {i: list(v) for i, v in calls.items()}
            return {"missing": [i for i in range(n) if i not in snapshot],
                    "not_once": [i for i, v in snapshot.items() if len(v) != 1],
                    "kinds": sorted({v[0] for v in snapshot.values()}, key=str),
                    "destroyed": sum(1 for v in snapshot.values() if v == [EDESTRUCTION])}

        running = in_child(child)
        if event_thread:
            assert finished.wait(20.0)
        else:
            assert run_until(ch, finished.is_set, 20.0)
        report = running.result()
        assert [i for i, v in calls.items() if v != ["ok"]] == []
        assert report["not_once"] == []
        assert len(report["missing"]) <= (1 if event_thread else 0), (rnd, report)
        assert set(report["kinds"]) <= {"ok", EDESTRUCTION}, report
        if not event_thread:
            assert report["destroyed"] == n - first
        print(f"\nfork round {rnd}: child had {report['destroyed']} ARES_EDESTRUCTION, "
              f"{len(report['missing'])} missing")
    ch.close()


FORK_EXIT_SCRIPT = r"""
import os
import select
import sys
import threading
import time
import warnings

import pycares_ng

# Python 3.12+ warns on fork() while the event thread runs; forking then is what this tests.
warnings.filterwarnings("ignore", ".*fork.*", DeprecationWarning)
server, resolv, event_thread = sys.argv[1:4]
threaded = event_thread == "1"
A = pycares_ng.QUERY_TYPE_A
ch = pycares_ng.Channel(servers=[server], resolvconf_path=resolv, timeout=5.0, tries=2, event_thread=threaded)


def wait(done):
    if threaded:
        return done.wait(10.0)
    deadline = time.monotonic() + 10.0
    while not done.is_set() and time.monotonic() < deadline:
        rfds, wfds = ch.getsock()
        r, w, _ = select.select(rfds, wfds, [], ch.timeout(0.1) or 0.01)
        if not r and not w:
            ch.process_fd(-1, -1)
        for fd in set(r) | set(w):
            ch.process_fd(fd if fd in r else -1, fd if fd in w else -1)
    return done.is_set()


first, first_done = [], threading.Event()
ch.query("www.example.test", A, lambda r, e: (first.append(e), first_done.set()))
pid = os.fork()
if pid == 0:
    # the child: the query pending at the fork already ended here; a new one is answered; then
    # normal interpreter exit (atexit, finalization) with another query pending
    second, second_done = [], threading.Event()
    ch.query("n5.bench.test", A, lambda r, e: (second.append(e), second_done.set()))
    wait(second_done)
    for i in range(50):
        ch.query(f"n{100 + i}.bench.test", A, lambda r, e: None)
    # the first query ended once: answered before the fork, or ARES_EDESTRUCTION during it
    if first not in ([pycares_ng.ARES_EDESTRUCTION], [None]):
        sys.exit(6)
    sys.exit(0 if second == [None] else 3)
wait(first_done)
deadline = time.monotonic() + 20.0
status = None
while status is None and time.monotonic() < deadline:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
    else:
        time.sleep(0.01)
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.exit(4)
child = os.waitstatus_to_exitcode(status)
sys.exit(child if child else (0 if first == [None] else 5))
"""


@MODES
def test_fork_then_both_processes_exit_normally(dns_server, event_thread):
    """A script forks with a query pending; the child queries, then leaves through the normal
    interpreter exit (atexit closes its restarted event thread) with 50 queries pending; the parent
    gets its answer and reaps the child. Both exit 0 with nothing on stderr."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory() as cwd:
        try:
            proc = subprocess.run([sys.executable, "-c", FORK_EXIT_SCRIPT, dns_server.address, empty_resolv_conf(),
                                   str(int(event_thread))], env=env, cwd=cwd, capture_output=True, text=True,
                                  timeout=40.0)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"no exit within 40 s; stderr: {exc.stderr!r}")
    assert (proc.returncode, proc.stderr) == (0, "")


@FORK_WARNINGS
def test_fork_child_channel_rebuilt_from_options(tmp_path, fault_server):
    """The child's fresh channel re-reads resolvconf_path: a nameserver written after the parent
    created the channel is the one the child uses."""
    with FaultServer(host="127.0.0.3", port=fault_server.port) as second:
        conf = tmp_path / "resolv.conf"
        conf.write_text("nameserver 127.0.0.1\n")
        ch = pycares_ng.Channel(resolvconf_path=str(conf), udp_port=fault_server.port, timeout=2.0, tries=1)
        assert ch.servers == ["127.0.0.1"]
        conf.write_text("nameserver 127.0.0.3\n")

        def child():
            result, err = resolve(ch, "after-fork.test", A)
            return {"servers": ch.servers, "err": err}

        report = in_child(child).result()
        assert report == {"servers": ["127.0.0.3"], "err": None}
        assert [q.qname for q in second.queries] == ["after-fork.test"]
        assert fault_server.queries == []
        assert ch.servers == ["127.0.0.1"]  # the parent keeps its configuration
        ch.close()
