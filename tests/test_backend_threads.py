"""The threads backend: the conformance tests, plus futures from many threads, done-callbacks and
futures the caller cancelled. Callbacks only record; the assertions are in the test bodies."""
from __future__ import annotations

import concurrent.futures
import sys
import threading
import time

import pytest

import pycares_ng
import pycares_ng.backends
from pycares_ng.backends import threads
from pycares_ng.testing.backend import BackendConformance

from dnsdata import BENCH_HOSTS, bench_address
from helpers import empty_resolv_conf


class RecordingDriver(threads.ThreadsDriver):
    """Records, for every completion, whether the future was already cancelled."""

    def __init__(self) -> None:
        self.completions = []
        self.lock = threading.Lock()

    def _record(self, future):
        with self.lock:
            self.completions.append((future, future.cancelled()))

    def set_result(self, future, value):
        self._record(future)
        super().set_result(future, value)

    def set_exception(self, future, error):
        self._record(future)
        super().set_exception(future, error)


class TestThreadsBackend(BackendConformance):
    """The conformance tests, then the threads backend's own (on the mixin's FaultServer)."""

    backend_name = "threads"

    def wait(self, resolver, future, timeout):
        return future.result(timeout)

    def test_driver_is_event_thread(self):
        r = self.new_resolver()
        assert isinstance(r.driver, threads.ThreadsDriver)
        assert r.driver.uses_event_thread
        assert r.channel.event_thread
        assert isinstance(r.query(self.fqdn("x"), "A"), concurrent.futures.Future)

    def test_done_callback_runs_on_the_io_thread(self):
        self.server.delay = 0.2  # the callback is added well before the answer arrives
        name = self.fqdn("cb")
        self.server.add_record(name, "A", "192.0.2.30")
        r = self.new_resolver()
        seen = []
        future = r.query(name, "A")
        future.add_done_callback(lambda f: seen.append((threading.get_ident(), f.result())))
        assert [x.host for x in future.result(5.0)] == ["192.0.2.30"]
        deadline = time.monotonic() + 2.0
        while not seen and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(seen) == 1
        ident, result = seen[0]
        assert ident != threading.get_ident()
        assert [x.host for x in result] == ["192.0.2.30"]
        # Added to a done future, it runs at once in the caller's thread.
        late = []
        future.add_done_callback(lambda f: late.append(threading.get_ident()))
        assert late == [threading.get_ident()]

    def test_cancelled_future_is_tolerated(self, monkeypatch):
        unraisable = []
        monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
        self.server.delay = 0.2
        driver = RecordingDriver()
        r = self.new_resolver(driver=driver)
        ok, failing = self.fqdn("cancel-ok"), self.fqdn("cancel-nx")
        self.server.rules[failing] = "nxdomain"
        cancelled = [r.query(ok, "A"), r.query(failing, "A")]
        assert all(f.cancel() for f in cancelled)
        kept = r.query(ok, "A")
        assert [x.host for x in kept.result(5.0)] == ["192.0.2.1"]
        deadline = time.monotonic() + 3.0
        while len(driver.completions) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        by_future = {id(f): was_cancelled for f, was_cancelled in driver.completions}
        assert len(driver.completions) == 3
        assert [by_future[id(f)] for f in cancelled] == [True, True]
        assert all(f.cancelled() for f in cancelled)
        assert unraisable == []
        # The driver on its own: completing a cancelled or (wrongly) finished future is a no-op.
        d = threads.ThreadsDriver()
        gone = d.create_future()
        gone.cancel()
        d.set_result(gone, 1)
        d.set_exception(gone, ValueError())
        assert gone.cancelled()
        done = d.create_future()
        d.set_result(done, 1)
        d.set_result(done, 2)
        d.set_exception(done, ValueError())
        assert done.result() == 1

    def test_wait_timeout_cancels_only_that_future(self):
        silent = self.fqdn("silent")
        self.server.rules[silent] = "drop"
        r = self.new_resolver(timeout=5.0, tries=1)
        hung = r.query(silent, "A")
        other = r.query(self.fqdn("other"), "A")
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            r.wait(hung, 0.3)
        assert time.monotonic() - start < 1.5
        assert hung.cancelled()
        assert [x.host for x in r.wait(other, 5.0)] == ["192.0.2.1"]

    def test_close_from_done_callback(self):
        r = self.new_resolver()
        closed = threading.Event()

        def close(future):
            r.close()
            closed.set()

        future = r.query(self.fqdn("closer"), "A")
        future.add_done_callback(close)
        future.result(5.0)
        assert closed.wait(5.0)
        with pytest.raises(RuntimeError):
            r.query(self.fqdn("after"), "A")

    def test_close_racing_submitters(self):
        r = self.new_resolver(timeout=2.0, tries=1)
        futures, refused = [], []
        lock = threading.Lock()
        start = threading.Barrier(5)

        def submit():
            start.wait()
            for i in range(300):
                try:
                    f = r.query(self.fqdn(f"race{i}"), "A")
                except RuntimeError:
                    with lock:
                        refused.append(i)
                    return
                with lock:
                    futures.append(f)

        workers = [threading.Thread(target=submit) for _ in range(4)]
        for t in workers:
            t.start()
        start.wait()
        time.sleep(0.005)
        r.close()
        for t in workers:
            t.join(10.0)
        assert not any(t.is_alive() for t in workers)
        done, not_done = concurrent.futures.wait(futures, timeout=10.0)
        assert not not_done
        for f in done:
            exc = f.exception()
            assert exc is None or exc.args[0] == pycares_ng.ARES_ECANCELLED


def test_many_threads_against_nsd(dns_server):
    """8 threads x 500 queries on one resolver: every future completes exactly once, right."""
    per_thread, nthreads = 500, 8
    completions = {}
    lock = threading.Lock()

    def on_done(future):
        with lock:
            completions[id(future)] = completions.get(id(future), 0) + 1

    resolver = threads.Resolver(servers=[dns_server.address], resolvconf_path=empty_resolv_conf(),
                                timeout=5.0, tries=3, socket_receive_buffer_size=4 << 20)
    submitted = [[] for _ in range(nthreads)]
    barrier = threading.Barrier(nthreads)

    def submit(t):
        barrier.wait()
        for k in range(per_thread):
            i = t * per_thread + k
            future = resolver.query(f"n{i % BENCH_HOSTS}.bench.test", "A")
            future.add_done_callback(on_done)
            submitted[t].append((i, future))

    try:
        workers = [threading.Thread(target=submit, args=(t,)) for t in range(nthreads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(20.0)
        assert not any(w.is_alive() for w in workers)
        pairs = [pair for part in submitted for pair in part]
        assert len(pairs) == per_thread * nthreads
        done, not_done = concurrent.futures.wait([f for _, f in pairs], timeout=20.0)
        assert not not_done
        wrong = [(i, f.exception() or f.result()) for i, f in pairs
                 if f.exception() is not None or [x.host for x in f.result()] != [bench_address(i)]]
        assert wrong == []
        deadline = time.monotonic() + 2.0
        while len(completions) < len(pairs) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(completions) == len(pairs)
        assert set(completions.values()) == {1}
    finally:
        resolver.close()


def test_registry_gives_threads():
    module = pycares_ng.backends.get("threads")
    assert module is threads
    assert module.Resolver.driver_class is threads.ThreadsDriver
