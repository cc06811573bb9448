"""Threads: queries racing close(), many submitting threads on one event-thread channel, callbacks
that re-enter the channel under load (the pycares 5.2.1 deadlock), channels on separate threads,
and sock_state_cb against a racing close().

Every test is bounded in count and time. Workloads that could deadlock run in a child process with
a timeout (and a faulthandler dump), so a deadlock fails the test instead of hanging the suite.
Callbacks only record; the assertions are in the test bodies.
"""
from __future__ import annotations

import functools
import io
import json
import os
import random
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import pycares_ng
from pycares_ng import errno as ares_errno
from pycares_ng.testing import FaultServer

from dnsdata import BENCH_HOSTS, bench_address
from helpers import empty_resolv_conf, make_channel, run_until

A = pycares_ng.QUERY_TYPE_A
BAD = pycares_ng.ARES_SOCKET_BAD
EDESTRUCTION = ares_errno.ARES_EDESTRUCTION
ECANCELLED = ares_errno.ARES_ECANCELLED
#: options for bursts of thousands of queries against NSD on loopback
LOAD = dict(timeout=5.0, tries=3, socket_receive_buffer_size=4 << 20)

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(pycares_ng.__file__)))
THIS_MODULE = os.path.splitext(os.path.basename(__file__))[0]


def bench_name(i: int) -> str:
    return f"n{i % BENCH_HOSTS}.bench.test"


def bench_ok(i: int, result, err) -> bool:
    return err is None and [r.host for r in result] == [bench_address(i % BENCH_HOSTS)]


def join_all(threads, timeout: float) -> list:
    """Joins every thread within one deadline; returns the names of those still alive."""
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threads if t.is_alive()]


def drive_until_closed(ch, stop: threading.Event) -> None:
    """A loop thread for an event_thread=False channel: getsock/select/process_fd until the
    channel is closed (RuntimeError) or `stop` is set. A socket closed by close() on another
    thread between getsock() and select() is expected (EBADF): the next getsock() says closed."""
    while not stop.is_set():
        try:
            rfds, wfds = ch.getsock()
            wait = ch.timeout(0.01) or 0.01
            try:
                r, w, _ = select.select(rfds, wfds, [], wait)
            except (OSError, ValueError):
                continue
            if not r and not w:
                ch.process_fd(BAD, BAD)
            for fd in set(r) | set(w):
                ch.process_fd(fd if fd in r else BAD, fd if fd in w else BAD)
        except RuntimeError:
            return


def run_child(func: str, *args: str, timeout: float = 60.0) -> dict:
    """Runs `func(*args)` of this module in a fresh interpreter that imports the same pycares_ng;
    returns what it returned (JSON). A child still running at `timeout` is killed and the test
    fails (the child arms faulthandler a little earlier, so its stacks show up in the message)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    code = (f"import sys, json; sys.path.insert(0, {TESTS_DIR!r}); import {THIS_MODULE} as m; "
            f"print(json.dumps(m.{func}(*sys.argv[1:])))")
    with tempfile.TemporaryDirectory() as cwd:  # never import a package from the CWD
        try:
            proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, cwd=cwd,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
            pytest.fail(f"{func}{args} did not finish within {timeout}s (deadlock?); stderr:\n{err}")
    assert proc.returncode == 0, f"{func}{args} exited {proc.returncode}; stderr:\n{proc.stderr}"
    assert proc.stderr == "", proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- 1. query() racing close() from another thread -------------------------------------------


@pytest.mark.parametrize("event_thread", [False, True], ids=["loop-thread", "event-thread"])
def test_query_loop_racing_close_from_another_thread(dns_server, event_thread):
    """Thread A submits in a tight loop while thread B closes: A sees only RuntimeError("Channel is
    closed"); every query accepted before that gets exactly one callback (its real answer or
    ARES_EDESTRUCTION). event_thread=False is driven by a third, loop thread."""
    for rnd in range(4):
        ch = make_channel(dns_server.address, event_thread=event_thread, **LOAD)
        calls = {}
        accepted = []
        refused, unexpected = [], []
        enough = threading.Event()
        stop = threading.Event()

        def record(i, result, err):
            calls.setdefault(i, []).append((result, err))

        def submitter():
            i = 0
            try:
                while i < 50_000:
                    ch.query(bench_name(i), A, functools.partial(record, i))
                    accepted.append(i)
                    i += 1
                    if i == 300:
                        enough.set()
            except RuntimeError as exc:
                refused.append(str(exc))
            except BaseException as exc:  # noqa: BLE001 - anything else is the failure
                unexpected.append(repr(exc))
            finally:
                enough.set()

        def closer():
            enough.wait(10.0)
            time.sleep(random.uniform(0.0, 0.03))
            try:
                ch.close()
            except BaseException as exc:  # noqa: BLE001
                unexpected.append(repr(exc))

        threads = [threading.Thread(target=submitter, name="submitter"),
                   threading.Thread(target=closer, name="closer")]
        if not event_thread:
            threads.append(threading.Thread(target=drive_until_closed, args=(ch, stop), name="loop"))
        for t in threads:
            t.start()
        alive = join_all(threads, 30.0)
        stop.set()
        assert alive == [], f"round {rnd}: threads still running: {alive}"
        assert unexpected == []
        assert ch.closed
        assert refused in ([], ["Channel is closed (destroyed), no new queries allowed"])
        assert len(accepted) >= 300
        assert sorted(calls) == accepted, f"round {rnd}: callbacks for {len(calls)} of {len(accepted)} accepted"
        twice = {i: v for i, v in calls.items() if len(v) != 1}
        assert twice == {}, f"round {rnd}: {len(twice)} requests called back more than once"
        wrong = [(i, (res, err)) for i, ((res, err),) in calls.items()
                 if err != ECANCELLED and not bench_ok(i, res, err)]
        assert wrong == [], wrong[:5]
        with pytest.raises(RuntimeError, match="Channel is closed"):
            ch.query("after.bench.test", A, lambda r, e: None)


# ---- 2. 8 threads x 2,000 queries on one event-thread channel -------------------------------


def test_8_threads_x_2000_queries_on_one_event_thread_channel(dns_server):
    """16,000 queries from 8 threads at once. Each thread keeps at most 250 in flight: 16,000
    unanswered datagrams at once overflow a loopback socket buffer (the client's or NSD's) on a
    busy 2-core machine, and the retry would cost a 5 s timeout."""
    n_threads, per_thread, window_size = 8, 2000, 250
    total = n_threads * per_thread
    ch = make_channel(dns_server.address, event_thread=True, **LOAD)
    calls = [[] for _ in range(total)]
    callback_threads = set()
    lock = threading.Lock()
    count = [0]
    done = threading.Event()
    errors = []
    submitter_ids = set()
    barrier = threading.Barrier(n_threads)

    windows = [threading.Semaphore(window_size) for _ in range(n_threads)]

    def make_cb(k):
        def cb(result, err):
            windows[k // per_thread].release()
            calls[k].append((result, err))
            callback_threads.add(threading.get_ident())
            with lock:
                count[0] += 1
                if count[0] == total:
                    done.set()
        return cb

    def submitter(t):
        submitter_ids.add(threading.get_ident())
        try:
            barrier.wait(10.0)
            for j in range(per_thread):
                k = t * per_thread + j
                if not windows[t].acquire(timeout=30.0):
                    raise TimeoutError(f"thread {t}: no answer within 30 s")
                ch.query(bench_name(k), A, make_cb(k))
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=submitter, args=(t,), name=f"submitter-{t}") for t in range(n_threads)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    alive = join_all(threads, 30.0)
    finished = done.wait(60.0)
    elapsed = time.perf_counter() - started
    ch.close()
    assert alive == [] and errors == []
    assert finished, f"{count[0]} of {total} callbacks within 60 s"
    assert [k for k in range(total) if len(calls[k]) != 1] == []
    wrong = [(k, calls[k][0]) for k in range(total) if not bench_ok(k, *calls[k][0])]
    assert wrong == [], f"{len(wrong)} wrong results, e.g. {wrong[:3]}"
    # callbacks ran on the channel's own I/O thread only, never on a submitting thread
    assert len(callback_threads) == 1
    assert callback_threads.isdisjoint(submitter_ids | {threading.get_ident()})
    print(f"\n8 threads x 2000 queries on one event-thread channel: {elapsed:.2f} s")


# ---- 3. callbacks re-entering the channel under load (child processes) ----------------------


def child_callbacks_submit_while_main_submits(server: str, resolv: str, hang_after: str) -> dict:
    """pycares 5.2.1 deadlocked here: callbacks on the event thread submit follow-up queries
    while the main thread keeps ~1,000 queries in flight. 2,500 main queries + 2,500 follow-ups."""
    import faulthandler
    faulthandler.dump_traceback_later(float(hang_after), exit=True)
    main_total, window_size = 2500, 1000
    ch = pycares_ng.Channel(servers=[server], resolvconf_path=resolv, event_thread=True, **LOAD)
    window = threading.BoundedSemaphore(window_size)
    lock = threading.Lock()
    done = threading.Event()
    main_calls = [0] * main_total
    follow_calls = [0] * main_total
    bad, follow_refused = [], []
    finished = [0]

    def count_one():
        with lock:
            finished[0] += 1
            if finished[0] == 2 * main_total:
                done.set()

    def follow_cb(k, result, err):
        follow_calls[k] += 1
        if not bench_ok(k + 10_000, result, err):
            bad.append(("follow", k, err))
        count_one()

    def main_cb(k, result, err):
        try:
            main_calls[k] += 1
            if not bench_ok(k, result, err):
                bad.append(("main", k, err))
            try:  # on the event thread, while the main thread submits
                ch.query(bench_name(k + 10_000), A, functools.partial(follow_cb, k))
            except BaseException as exc:  # noqa: BLE001
                follow_refused.append(type(exc).__name__)
                count_one()  # that follow-up will never call back
        finally:
            window.release()
            count_one()

    start = time.perf_counter()
    for k in range(main_total):
        if not window.acquire(timeout=30.0):
            break
        ch.query(bench_name(k), A, functools.partial(main_cb, k))
    ok = done.wait(30.0)
    elapsed = time.perf_counter() - start
    ch.close()
    faulthandler.cancel_dump_traceback_later()
    return {"done": ok, "finished": finished[0], "main_calls": sorted(set(main_calls)),
            "follow_calls": sorted(set(follow_calls)), "bad": bad[:5], "nbad": len(bad),
            "follow_refused": follow_refused[:5], "elapsed": elapsed}


def test_no_deadlock_callbacks_submit_while_main_thread_submits(dns_server):
    out = run_child("child_callbacks_submit_while_main_submits", dns_server.address,
                    empty_resolv_conf(), 50, timeout=60.0)
    assert out["done"], out
    assert out["finished"] == 5000
    assert out["main_calls"] == [1] and out["follow_calls"] == [1]
    assert out["nbad"] == 0, out["bad"]
    assert out["follow_refused"] == []
    print(f"\n5,000 queries, half submitted from callbacks on the event thread: {out['elapsed']:.2f} s")


def child_callbacks_cancel_and_close_under_load(server: str, resolv: str, event_thread: str,
                                                hang_after: str) -> dict:
    """The main thread submits with up to 1,000 in flight; every 700th callback submits 20 more
    queries and calls cancel(), the 4,000th submits 20 more and calls close(), all on the same
    channel. event_thread=False: a loop thread drives I/O (callbacks also run on the main thread,
    inside query()). The main thread then calls close() too: when it returns, every callback must
    have run (also when a callback's close() on the I/O thread is still delivering)."""
    import faulthandler
    faulthandler.dump_traceback_later(float(hang_after), exit=True)
    threaded = event_thread == "1"
    ch = pycares_ng.Channel(servers=[server], resolvconf_path=resolv, event_thread=threaded, **LOAD)
    window = threading.Semaphore(1000)
    lock = threading.Lock()
    calls = {}
    accepted = []
    finished = [0]
    extra_ids = iter(range(15_000, BENCH_HOSTS))  # names nobody asked for yet: c-ares >= 1.23 caches answers
    cancels, closes, inner_errors = [0], [0], []

    def submit_extras():
        for _ in range(20):
            i = next(extra_ids)
            ch.query(bench_name(i), A, functools.partial(cb, i))
            accepted.append(i)

    def cb(i, result, err):
        calls.setdefault(i, []).append(err if err is not None else ("ok" if bench_ok(i, result, err) else "bad"))
        with lock:
            finished[0] += 1
            n = finished[0]
        if i < 15_000:
            window.release()
        try:
            if n % 700 == 0 and n < 4000:
                submit_extras()  # surely still pending when cancel() runs
                ch.cancel()
                cancels[0] += 1
            elif n == 4000:
                submit_extras()
                ch.close()
                closes[0] += 1
        except RuntimeError as exc:  # closed meanwhile: the only acceptable error
            if not str(exc).startswith("Channel is closed (destroyed)"):
                inner_errors.append(repr(exc))
        except BaseException as exc:  # noqa: BLE001
            inner_errors.append(repr(exc))

    stop = threading.Event()
    loop = None
    if not threaded:
        loop = threading.Thread(target=drive_until_closed, args=(ch, stop), daemon=True)
        loop.start()
    refused, unexpected = [], []
    i = 0
    try:
        while i < 15_000:
            if not window.acquire(timeout=0.05):
                if ch.closed:
                    break
                continue
            ch.query(bench_name(i), A, functools.partial(cb, i))
            accepted.append(i)
            i += 1
    except RuntimeError as exc:
        refused.append(str(exc))
    except BaseException as exc:  # noqa: BLE001
        unexpected.append(repr(exc))
    ch.close()  # returns once the channel is quiet, whichever thread closed it first
    at_close_return = len(accepted) - sum(len(v) for v in calls.values())
    stop.set()
    if loop is not None:
        loop.join(10.0)
    deadline = time.monotonic() + 5.0  # to tell late callbacks from lost ones
    while sum(len(v) for v in calls.values()) < len(accepted) and time.monotonic() < deadline:
        time.sleep(0.01)
    faulthandler.cancel_dump_traceback_later()
    kinds = {}
    for v in calls.values():
        for e in v:
            kinds[str(e)] = kinds.get(str(e), 0) + 1
    return {"undelivered_when_close_returned": at_close_return, "accepted": len(accepted),
            "called_keys_match": sorted(calls) == sorted(accepted),
            "missing": sorted(set(accepted) - set(calls))[:5], "unasked": sorted(set(calls) - set(accepted))[:5],
            "finished": finished[0], "not_once": [k for k, v in calls.items() if len(v) != 1][:5], "kinds": kinds,
            "cancels": cancels[0], "closes": closes[0], "inner_errors": inner_errors[:5],
            "refused": refused, "unexpected": unexpected, "loop_alive": loop is not None and loop.is_alive()}


@pytest.mark.parametrize("event_thread", [False, True], ids=["loop-thread", "event-thread"])
def test_callbacks_cancel_and_close_own_channel_under_load(dns_server, event_thread):
    out = run_child("child_callbacks_cancel_and_close_under_load", dns_server.address, empty_resolv_conf(),
                    int(event_thread), 50, timeout=60.0)
    assert out["unexpected"] == [] and out["inner_errors"] == []
    assert out["refused"] in ([], ["Channel is closed (destroyed), no new queries allowed"])
    assert not out["loop_alive"]
    assert (out["missing"], out["unasked"]) == ([], []), out
    assert out["called_keys_match"], out
    assert out["undelivered_when_close_returned"] == 0, out
    assert out["not_once"] == []
    assert out["closes"] == 1 and out["cancels"] >= 1, out
    kinds = out["kinds"]
    assert set(kinds) <= {"ok", str(ECANCELLED), str(EDESTRUCTION)}, kinds
    assert kinds.get("ok", 0) >= 1000, kinds
    # every cancel() ends at least one request; close() at least one more (ECANCELLED, as pycares 4)
    assert kinds.get(str(ECANCELLED), 0) >= out["cancels"] + 1, kinds
    assert sum(kinds.values()) == out["accepted"]


# ---- 9. two channels on two threads -------------------------------------------------------


def test_two_channels_on_two_threads_share_nothing():
    """Each thread drives its own channel against its own fault server (2,000 queries each, 100 at
    a time): every answer is the thread's own, and each server saw only its own thread's names."""
    per_thread, batch = 2000, 100
    with FaultServer() as s1, FaultServer() as s2:
        servers = {1: s1, 2: s2}
        for t, server in servers.items():
            for i in range(per_thread):
                server.add_record(f"t{t}-{i}.test", "A", f"10.{t}.{i // 256}.{i % 256}")
        results = {1: {}, 2: {}}
        errors = []

        def worker(t):
            try:
                ch = make_channel(servers[t].address, timeout=2.0, tries=3)
                for start in range(0, per_thread, batch):
                    got = results[t]
                    for i in range(start, start + batch):
                        ch.query(f"t{t}-{i}.test", A,
                                 lambda result, err, i=i: got.setdefault(i, []).append((result, err)))
                    if not run_until(ch, lambda: len(got) >= start + batch, 20.0):
                        errors.append((t, "timeout", len(got)))
                        break
                ch.close()
            except BaseException as exc:  # noqa: BLE001
                errors.append((t, repr(exc)))

        threads = [threading.Thread(target=worker, args=(t,), name=f"worker-{t}") for t in servers]
        for t in threads:
            t.start()
        alive = join_all(threads, 60.0)
        assert alive == [] and errors == []
        for t, server in servers.items():
            got = results[t]
            assert sorted(got) == list(range(per_thread))
            assert [i for i, v in got.items() if len(v) != 1] == []
            wrong = [(i, (res, err)) for i, ((res, err),) in got.items()
                     if err is not None or [r.host for r in res] != [f"10.{t}.{i // 256}.{i % 256}"]]
            assert wrong == [], wrong[:3]
            names = {q.qname for q in server.queries}
            assert names == {f"t{t}-{i}.test" for i in range(per_thread)}
            assert server.errors == []


# ---- 10. sock_state_cb and a racing close() --------------------------------------------------


def test_sock_state_cb_never_called_after_close_returns(dns_server):
    """Thread A hammers query() and process_fd() on a channel with a sock_state_cb; thread B
    hammers getsock()/timeout() and then closes. Once close() has returned, sock_state_cb is never
    called again, and the last event reported for every socket is its release (False, False).

    The callback is `print` into a StringIO through functools.partial: all C, so no other thread
    can run between the library deciding to call it and the line being written. B writes a CLOSED
    line right after its close() returns; no event line may follow it."""
    for rnd in range(6):
        buf = io.StringIO()
        ch = make_channel(dns_server.address, sock_state_cb=functools.partial(print, file=buf), **LOAD)
        unexpected = []
        go = threading.Event()
        hammer_for = random.uniform(0.02, 0.08)

        def thread_a():
            i = 0
            try:
                while True:
                    ch.query(bench_name(i), A, lambda r, e: None)
                    i += 1
                    if i == 50:
                        go.set()
                    rfds, _ = ch.getsock()
                    for fd in rfds:
                        ch.process_read_fd(fd)
                    ch.process_fd(BAD, BAD)
            except RuntimeError as exc:
                if not str(exc).startswith("Channel is closed (destroyed)"):
                    unexpected.append(repr(exc))
            except BaseException as exc:  # noqa: BLE001
                unexpected.append(repr(exc))
            finally:
                go.set()

        def thread_b():
            go.wait(10.0)
            deadline = time.monotonic() + hammer_for
            try:
                while time.monotonic() < deadline:
                    ch.getsock()
                    ch.timeout(0.5)
                ch.close()
                buf.write("CLOSED\n")
            except BaseException as exc:  # noqa: BLE001
                unexpected.append(repr(exc))

        threads = [threading.Thread(target=thread_a, name="A"), threading.Thread(target=thread_b, name="B")]
        for t in threads:
            t.start()
        alive = join_all(threads, 30.0)
        assert alive == [] and unexpected == []
        lines = buf.getvalue().splitlines()
        closed_at = lines.index("CLOSED")
        assert lines[closed_at + 1:] == [], f"round {rnd}: sock_state_cb called after close() returned"
        events = [tuple(line.split()) for line in lines[:closed_at]]
        assert events, f"round {rnd}: no socket event before close"
        last = {fd: (readable, writable) for fd, readable, writable in events}
        assert set(last.values()) == {("False", "False")}, (rnd, last)


@pytest.fixture
def sink():
    """A UDP socket on loopback that is never read (a server that never answers)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{s.getsockname()[1]}"
    finally:
        s.close()


def test_two_threads_closing_at_once(sink):
    """Two threads call close() at the same moment on a channel with 2,000 queries pending (their
    callbacks let other threads run) and a sock_state_cb. Whichever close() returns, it returns
    with the channel quiet: every pending callback already delivered, and no sock_state_cb call
    after it (the second close() must not return while the first is still delivering)."""
    for rnd in range(5):
        buf = io.StringIO()
        ch = make_channel(sink, sock_state_cb=functools.partial(print, file=buf), timeout=30.0)
        delivered = [0]

        def cb(result, err):
            delivered[0] += 1
            time.sleep(0)  # lets the other closer run

        for i in range(2000):
            ch.query(f"q{i}.test", A, cb)
        barrier = threading.Barrier(2)
        unexpected = []

        def closer(name):
            try:
                barrier.wait(10.0)
                ch.close()
                buf.write(f"CLOSED by {name} with {delivered[0]} callbacks delivered\n")
            except BaseException as exc:  # noqa: BLE001
                unexpected.append(repr(exc))

        threads = [threading.Thread(target=closer, args=(n,), name=n) for n in ("X", "Y")]
        for t in threads:
            t.start()
        alive = join_all(threads, 30.0)
        assert alive == [] and unexpected == []
        assert delivered[0] == 2000
        lines = buf.getvalue().splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("CLOSED"))
        assert lines[first:] == [line for line in lines[first:] if line.startswith("CLOSED")], \
            f"round {rnd}: sock_state_cb called after a close() returned: {lines}"
        assert all(line.endswith("with 2000 callbacks delivered") for line in lines[first:]), \
            f"round {rnd}: a close() returned before the pending callbacks were delivered: {lines[first:]}"


def test_close_while_the_event_thread_is_closing_from_a_callback(fault_server):
    """A callback on the I/O thread closes the channel (2,000 queries pending, whose callbacks let
    other threads run); while that close() is delivering, the main thread calls close() too. When
    the main thread's close() returns, every pending callback has been delivered."""
    fault_server.mode = "drop"
    fault_server.rules["trigger.test"] = "answer"
    fault_server.delay = 0.3  # the trigger is answered once the 2,000 others are pending
    ch = make_channel(fault_server.address, event_thread=True, timeout=30.0)
    delivered = []
    closing = threading.Event()

    def pending_cb(result, err):
        delivered.append(err)
        closing.set()  # the I/O thread's close() is under way
        time.sleep(0)  # lets the main thread run

    def trigger_cb(result, err):
        ch.close()

    ch.query("trigger.test", A, trigger_cb)
    assert fault_server.wait_for_queries(1, 5.0)
    for i in range(2000):
        ch.query(f"p{i}.test", A, pending_cb)
    assert closing.wait(10.0)
    ch.close()
    at_return = len(delivered)
    assert wait_for_count(delivered, 2000, 10.0)
    assert at_return == 2000, f"main thread's close() returned with {at_return} of 2000 callbacks delivered"
    assert delivered == [ECANCELLED] * 2000


def wait_for_count(items, n, timeout):
    return wait_for_count_of(lambda: len(items), n, timeout)


def wait_for_count_of(count, n, timeout):
    deadline = time.monotonic() + timeout
    while count() < n and time.monotonic() < deadline:
        time.sleep(0.005)
    return count() >= n


def stack_depth() -> int:
    depth, frame = 0, sys._getframe(1)
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


@pytest.mark.parametrize("event_thread", [False, True], ids=["plain", "event-thread"])
def test_callbacks_that_query_with_a_backlog_do_not_nest(sink, monkeypatch, event_thread):
    """3,000 callbacks are due at once (cancel() of 3,000 pending queries) and each submits a new
    query. Callbacks run one after the other, not nested inside the previous callback's query()
    call: the stack does not grow with the backlog (nested delivery hit RecursionError after ~1,000
    callbacks, lost their follow-up queries, and with a raised recursion limit overflowed the C
    stack). Every follow-up is accepted and later gets exactly one callback."""
    n = 3000
    hooked = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: hooked.append(type(args.exc_value).__name__))
    ch = make_channel(sink, event_thread=event_thread, timeout=30.0)
    depths = []
    refused = []
    follow_calls = []

    def follow_cb(result, err):
        follow_calls.append(err)

    def cb(result, err):
        depths.append(stack_depth())
        try:
            ch.query("follow-up.test", A, follow_cb)
        except BaseException as exc:  # noqa: BLE001
            refused.append(type(exc).__name__)

    for i in range(n):
        ch.query(f"backlog{i}.test", A, cb)
    ch.cancel()  # plain: delivers here; event thread: there (a callback lost to a RecursionError
    # may not even reach the hook, so wait a bounded time only)
    wait_for_count_of(lambda: len(depths) + len(hooked), n, 5.0 if event_thread else 0.0)
    ch.close()
    assert max(depths) - min(depths) <= 5, f"callback stack depth grew from {min(depths)} to {max(depths)}"
    assert len(depths) == n
    assert hooked == [] and refused == [], (len(hooked), set(hooked), len(refused), set(refused))
    assert follow_calls == [ECANCELLED] * n
