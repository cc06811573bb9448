"""The Channel API around queries: servers, I/O driving, timeout, cancel, reinit, close and
finalization, callbacks that raise or re-enter, subclassing, leaks; the module's constants,
errno, AresError, utils; and a pycares-4 drop-in smoke run.
"""
from __future__ import annotations

import gc
import os
import re
import select
import socket
import sys
import threading
import time
import tracemalloc
import weakref

import pytest

import pycares_ng
from pycares_ng import errno as ares_errno
from pycares_ng import utils
from pycares_ng.testing import FaultServer

from dnsdata import ipv6_loopback_usable
from helpers import Collector, empty_resolv_conf, make_channel, resolve, run_until

A = pycares_ng.QUERY_TYPE_A
BAD = pycares_ng.ARES_SOCKET_BAD
CARES = tuple(int(p) for p in pycares_ng.ARES_VERSION.split(".")[:3])
LEGACY_CARES = CARES < (1, 22, 0)  # see test_options.py
ARES_ENOSERVER = 26  # c-ares >= 1.22


@pytest.fixture
def second_server():
    with FaultServer() as server:
        yield server


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def wait_open_fds(expected: int, timeout: float = 5.0) -> int:
    """The open descriptor count once it equals `expected` (or at the deadline). The fault server
    runs in this process: its side of a TCP connection closes only when its thread sees the EOF."""
    deadline = time.monotonic() + timeout
    while open_fds() != expected and time.monotonic() < deadline:
        time.sleep(0.005)
    return open_fds()


class Tally:
    """Counts callbacks per key, keeping the errnos; holds no reference to any channel."""

    def __init__(self) -> None:
        self.calls = {}

    def cb_for(self, key):
        def cb(result, err):
            self.calls.setdefault(key, []).append(err)
        return cb

    def total(self) -> int:
        return sum(len(v) for v in self.calls.values())


# ---- servers -------------------------------------------------------------------------------


def test_servers_get_set_ipv4_ports_bytes(fault_server):
    ch = make_channel("127.0.0.9")
    assert ch.servers == ["127.0.0.9"]
    ch.servers = ["127.0.0.1", "127.0.0.2:5353", b"127.0.0.3", b"127.0.0.4:53"]
    assert ch.servers == ["127.0.0.1", "127.0.0.2:5353", "127.0.0.3", "127.0.0.4"]
    ch.servers = (s for s in [fault_server.address])  # any iterable
    assert ch.servers == [fault_server.address]
    assert resolve(ch, "set-servers.test", A)[1] is None
    assert [q.qname for q in fault_server.queries] == ["set-servers.test"]


def test_servers_get_set_ipv6():
    ch = make_channel("::1")
    assert ch.servers == ["::1"]
    ch.servers = ["::1", "[::1]:5353", b"[2001:db8::1]", "2001:db8::2", "127.0.0.1:54"]
    assert ch.servers == ["::1", "[::1]:5353", "2001:db8::1", "2001:db8::2", "127.0.0.1:54"]


def test_servers_port_shown_relative_to_udp_port():
    """A server on the channel's udp_port is shown without a port; any other port is shown."""
    ch = make_channel("127.0.0.1", "127.0.0.2:53", "127.0.0.3:5353", "[::1]:5353", udp_port=5353)
    assert ch.servers == ["127.0.0.1", "127.0.0.2:53", "127.0.0.3", "::1"]


def test_servers_set_ipv6_and_query():
    if not ipv6_loopback_usable():
        pytest.skip("no usable IPv6 loopback (::1) here")
    with FaultServer(host="::1") as server6:
        ch = make_channel("127.0.0.1")
        ch.servers = [server6.address]
        assert ch.servers == [f"[::1]:{server6.port}"]
        result, err = resolve(ch, "v6-set.test", A)
        assert err is None and [r.host for r in result] == ["192.0.2.1"]
        assert [(q.qname, q.client[0]) for q in server6.queries] == [("v6-set.test", "::1")]


def test_servers_empty_list(fault_server):
    """No servers: the query fails at once with ARES_ENOSERVER, as with pycares 4.11, on every
    c-ares (1.18 itself says ARES_ESERVFAIL)."""
    ch = make_channel(fault_server.address)
    ch.servers = []
    assert ch.servers == []
    c = Collector()
    ch.query("no-servers.test", A, c.cb)
    assert run_until(ch, lambda: len(c) >= 1, 2.0)
    assert c.one == (None, ARES_ENOSERVER)
    assert fault_server.queries == []
    ch.servers = [fault_server.address]
    assert resolve(ch, "servers-back.test", A)[1] is None


@pytest.mark.parametrize("tries", [1, 2])
def test_set_servers_while_pending(tries):
    """Changing servers with a query in flight: the pending query still gets its answer, new
    queries go to the new server only."""
    with FaultServer(delay=0.3) as old, FaultServer() as new:
        ch = make_channel(old.address, tries=tries)
        pending = Collector()
        ch.query("old.test", A, pending.cb)
        assert old.wait_for_queries(1, 2.0)
        ch.servers = [new.address]
        assert ch.servers == [new.address]
        fresh = Collector()
        ch.query("new.test", A, fresh.cb)
        assert run_until(ch, lambda: len(pending) >= 1 and len(fresh) >= 1, 5.0)
        result, err = pending.one
        assert err is None and [r.host for r in result] == ["192.0.2.1"]
        result, err = fresh.one
        assert err is None and [r.host for r in result] == ["192.0.2.1"]
        assert "new.test" in [q.qname for q in new.queries]
        assert "new.test" not in [q.qname for q in old.queries]
        # nothing more arrives later
        ch.process_fd(BAD, BAD)
        assert len(pending) == 1 and len(fresh) == 1


# ---- driving I/O by hand -------------------------------------------------------------------


def test_getsock_and_process_read_fd_by_hand(fault_server):
    ch = make_channel(fault_server.address)
    assert ch.getsock() == ([], [])
    c = Collector()
    ch.query("by-hand.test", A, c.cb)
    read_fds, write_fds = ch.getsock()
    assert len(read_fds) == 1 and write_fds == []
    assert all(type(fd) is int for fd in read_fds)
    for _ in range(100):
        if c.calls:
            break
        ready, _, _ = select.select(read_fds, [], [], 2.0)
        assert ready, "no answer within 2 s"
        for fd in ready:
            ch.process_read_fd(fd)
    result, err = c.one
    assert err is None and [r.host for r in result] == ["192.0.2.1"]
    assert ch.getsock() == ([], [])


def test_process_fd_pairs_by_hand(fault_server):
    """process_fd(fd, BAD) for reading, process_fd(BAD, BAD) for timers: a second query to a silent
    name times out through process_fd(BAD, BAD) alone."""
    fault_server.rules["silent.test"] = "drop"
    ch = make_channel(fault_server.address, timeout=0.3)
    answered, silent = Collector(), Collector()
    ch.query("answered.test", A, answered.cb)
    ch.query("silent.test", A, silent.cb)
    deadline = time.monotonic() + 5
    while (not answered.calls or not silent.calls) and time.monotonic() < deadline:
        read_fds, write_fds = ch.getsock()
        ready, _, _ = select.select(read_fds, [], [], ch.timeout(1.0))
        if not ready:
            ch.process_fd(BAD, BAD)
        for fd in ready:
            ch.process_fd(fd, BAD)
    assert answered.one[1] is None
    assert silent.one == (None, ares_errno.ARES_ETIMEOUT)


def test_process_write_fd_over_tcp(fault_server):
    """Over TCP the socket is first watched for writing (connect); process_write_fd drives it."""
    ch = make_channel(fault_server.address, flags=pycares_ng.ARES_FLAG_USEVC)
    c = Collector()
    ch.query("tcp-by-hand.test", A, c.cb)
    wrote = False
    for _ in range(100):
        if c.calls:
            break
        read_fds, write_fds = ch.getsock()
        readable, writable, _ = select.select(read_fds, write_fds, [], 2.0)
        assert readable or writable, "no progress within 2 s"
        for fd in writable:
            ch.process_write_fd(fd)
            wrote = True
        for fd in readable:
            ch.process_read_fd(fd)
    assert wrote
    assert c.one[1] is None
    assert [q.transport for q in fault_server.queries] == ["tcp"]


def test_process_unknown_fds_is_harmless(fault_server):
    ch = make_channel(fault_server.address)
    r, w = os.pipe()
    try:
        ch.process_fd(r, w)
        ch.process_read_fd(r)
        ch.process_write_fd(w)
    finally:
        os.close(r)
        os.close(w)
    ch.process_fd(BAD, BAD)
    assert resolve(ch, "after-unknown-fds.test", A)[1] is None


# ---- timeout() -----------------------------------------------------------------------------


def test_timeout_without_pending_queries(fault_server):
    ch = make_channel(fault_server.address)
    assert ch.timeout() == 0.0
    assert ch.timeout(None) == 0.0
    assert ch.timeout(2.5) == 2.5
    assert ch.timeout(1) == 1.0 and type(ch.timeout(1)) is float
    assert ch.timeout(0) == 0.0


def test_timeout_with_a_pending_query(fault_server):
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address, timeout=2.0)
    c = Collector()
    ch.query("pending.test", A, c.cb)
    t = ch.timeout()
    assert type(t) is float and 1.5 < t <= 2.0
    assert 0.0 < ch.timeout(0.5) <= 0.5
    assert ch.timeout(10.0) <= 2.0
    assert ch.timeout(0) == 0.0
    time.sleep(0.2)  # let the clock advance: the remaining time shrinks (not a synchronisation)
    assert ch.timeout() <= t - 0.15
    ch.cancel()
    assert c.one == (None, ares_errno.ARES_ECANCELLED)
    assert ch.timeout() == 0.0


# ---- cancel() ------------------------------------------------------------------------------


def test_cancel_every_pending_callback_once(fault_server):
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address)
    tally = Tally()
    for i in range(20):
        method = ("query", "search", "query_dns")[i % 3]
        getattr(ch, method)(f"c{i}.test", A, tally.cb_for(i))
    assert fault_server.wait_for_queries(20, 2.0)
    ch.cancel()
    assert tally.calls == {i: [ares_errno.ARES_ECANCELLED] for i in range(20)}
    ch.process_fd(BAD, BAD)
    ch.cancel()
    assert tally.total() == 20
    assert ch.getsock()[1] == []
    # still usable
    fault_server.mode = "answer"
    assert resolve(ch, "after-cancel.test", A)[1] is None
    assert tally.total() == 20


def test_cancel_with_nothing_pending(fault_server):
    ch = make_channel(fault_server.address)
    ch.cancel()
    assert resolve(ch, "cancel-idle.test", A)[1] is None


# ---- reinit() ------------------------------------------------------------------------------


def test_reinit_keeps_pending_queries_and_rereads_resolv_conf(tmp_path):
    """reinit(): pending queries finish (on the old configuration), the rewritten resolv.conf
    applies to new ones. Two fault servers share one port on 127.0.0.1 and 127.0.0.3."""
    with FaultServer(host="127.0.0.1", delay=0.3) as first:
        with FaultServer(host="127.0.0.3", port=first.port) as second:
            conf = tmp_path / "resolv.conf"
            conf.write_text("nameserver 127.0.0.1\n")
            ch = pycares_ng.Channel(resolvconf_path=str(conf), udp_port=first.port, timeout=2.0, tries=1)
            assert ch.servers == ["127.0.0.1"]
            pending = Collector()
            ch.query("before-reinit.test", A, pending.cb)
            assert first.wait_for_queries(1, 2.0)

            conf.write_text("nameserver 127.0.0.3\n")
            ch.reinit()
            assert ch.servers == ["127.0.0.3"]
            fresh = Collector()
            ch.query("after-reinit.test", A, fresh.cb)
            assert run_until(ch, lambda: len(pending) >= 1 and len(fresh) >= 1, 5.0)
            assert pending.one[1] is None
            assert fresh.one[1] is None
            assert [q.qname for q in first.queries] == ["before-reinit.test"]
            assert [q.qname for q in second.queries] == ["after-reinit.test"]
            # the old configuration's sockets are gone once idle
            assert ch.getsock() == ([], [])


def test_reinit_keeps_explicit_options(fault_server):
    """Options given to the constructor (servers, flags, local_ip) survive reinit()."""
    ch = make_channel(fault_server.address, flags=pycares_ng.ARES_FLAG_NORECURSE, local_ip="127.0.0.2")
    ch.reinit()
    assert ch.servers == [fault_server.address]
    assert resolve(ch, "reinit.test", A)[1] is None
    q = fault_server.queries[-1]
    assert (q.qname, q.rd, q.client[0]) == ("reinit.test", False, "127.0.0.2")


def test_reinit_many_times_with_pending(fault_server):
    fault_server.delay = 0.2
    ch = make_channel(fault_server.address)
    tally = Tally()
    for i in range(10):
        ch.query(f"r{i}.test", A, tally.cb_for(i))
        ch.reinit()
    assert run_until(ch, lambda: tally.total() >= 10, 5.0)
    assert tally.calls == {i: [None] for i in range(10)}
    assert ch.getsock() == ([], [])


# ---- close() / destroy() -------------------------------------------------------------------


@pytest.mark.parametrize("closer", ["close", "destroy"])
def test_close_with_100_pending(fault_server, closer):
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address)
    tally = Tally()
    for i in range(100):
        ch.query(f"p{i}.test", A, tally.cb_for(i))
    assert ch.closed is False
    getattr(ch, closer)()
    assert ch.closed is True
    assert tally.calls == {i: [ares_errno.ARES_ECANCELLED] for i in range(100)}
    ch.close()
    ch.destroy()
    assert tally.total() == 100


def test_close_idempotent_and_releases_sockets(fault_server):
    before = open_fds()
    ch = make_channel(fault_server.address, flags=pycares_ng.ARES_FLAG_USEVC | pycares_ng.ARES_FLAG_STAYOPEN)
    assert resolve(ch, "stay.test", A)[1] is None
    [fd], _ = ch.getsock()
    os.fstat(fd)  # open
    ch.close()
    with pytest.raises(OSError):
        os.fstat(fd)  # closed by close() itself (the server's side of the connection closes later)
    assert wait_open_fds(before) == before
    for _ in range(3):
        ch.close()
        ch.destroy()
    assert ch.closed


def test_close_from_inside_a_callback(fault_server):
    """The first answer's callback closes the channel: every other pending request still gets
    exactly one callback (ARES_ECANCELLED)."""
    fault_server.mode = "drop"
    fault_server.rules["first.test"] = "answer"
    ch = make_channel(fault_server.address)
    tally = Tally()
    results = []

    def first_cb(result, err):
        results.append(err)
        ch.close()
        results.append(ch.closed)

    ch.query("first.test", A, first_cb)
    for i in range(20):
        ch.query(f"later{i}.test", A, tally.cb_for(i))
    assert run_until(ch, lambda: ch.closed, 5.0)
    assert results == [None, True]
    assert tally.calls == {i: [ares_errno.ARES_ECANCELLED] for i in range(20)}
    with pytest.raises(RuntimeError, match="Channel is closed"):
        ch.getsock()


def test_close_from_inside_a_destruction_callback(fault_server):
    """A callback that runs because of close() and calls close() again (and query(), refused)."""
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address)
    seen = []

    def cb(result, err):
        seen.append(err)
        ch.close()
        try:
            ch.query("again.test", A, cb)
        except RuntimeError as exc:
            seen.append(str(exc))

    for i in range(3):
        ch.query(f"d{i}.test", A, cb)
    ch.close()
    assert seen == [ares_errno.ARES_ECANCELLED, "Channel is closed (destroyed), no new queries allowed"] * 3


def test_query_from_inside_a_callback(fault_server):
    ch = make_channel(fault_server.address)
    order = []

    def second_cb(result, err):
        order.append(("second", err))

    def first_cb(result, err):
        order.append(("first", err))
        ch.query("second.test", A, second_cb)

    ch.query("first.test", A, first_cb)
    assert run_until(ch, lambda: len(order) >= 2, 5.0)
    assert order == [("first", None), ("second", None)]
    assert [q.qname for q in fault_server.queries] == ["first.test", "second.test"]


def test_cancel_from_inside_a_callback(fault_server):
    fault_server.mode = "drop"
    fault_server.rules["trigger.test"] = "answer"
    ch = make_channel(fault_server.address)
    tally = Tally()
    trigger = []

    def trigger_cb(result, err):
        trigger.append(err)
        ch.cancel()

    for i in range(10):
        ch.query(f"w{i}.test", A, tally.cb_for(i))
    ch.query("trigger.test", A, trigger_cb)
    assert run_until(ch, lambda: tally.total() >= 10, 5.0)
    assert trigger == [None]
    assert tally.calls == {i: [ares_errno.ARES_ECANCELLED] for i in range(10)}
    fault_server.mode = "answer"
    assert resolve(ch, "after-inner-cancel.test", A)[1] is None


def test_reinit_and_set_servers_from_inside_a_callback(fault_server, second_server):
    ch = make_channel(fault_server.address)
    order = []

    def outer_cb(result, err):
        order.append(("outer", err))
        ch.reinit()
        ch.servers = [second_server.address]
        ch.query("inner.test", A, lambda result, err: order.append(("inner", err)))

    ch.query("outer.test", A, outer_cb)
    assert run_until(ch, lambda: len(order) >= 2, 5.0)
    assert order == [("outer", None), ("inner", None)]
    assert [q.qname for q in fault_server.queries] == ["outer.test"]
    assert [q.qname for q in second_server.queries] == ["inner.test"]


def test_close_from_inside_sock_state_cb(fault_server):
    """sock_state_cb may close the channel: the pending query gets ARES_ECANCELLED once."""
    fault_server.mode = "drop"
    holder = {}
    events = []

    def sock_cb(fd, readable, writable):
        events.append((fd, readable, writable))
        holder["ch"].close()

    ch = make_channel(fault_server.address, sock_state_cb=sock_cb)
    holder["ch"] = ch
    c = Collector()
    ch.query("close-in-sock-cb.test", A, c.cb)
    assert ch.closed
    assert c.one == (None, ares_errno.ARES_ECANCELLED)
    fd = events[0][0]
    assert events == [(fd, True, False), (fd, False, False)]


def test_callback_resurrecting_a_collected_channel(fault_server):
    """A callback run by the finalizer stores the channel away: it stays a closed, usable object."""
    fault_server.mode = "drop"
    saved = []

    def submit():
        ch = make_channel(fault_server.address)

        def cb(result, err, ch=ch):
            saved.append((ch, err))

        ch.query("resurrect.test", A, cb)

    submit()
    gc.collect()
    [(ch, err)] = saved
    assert err == ares_errno.ARES_ECANCELLED
    assert ch.closed
    with pytest.raises(RuntimeError, match="Channel is closed"):
        ch.query("again.test", A, lambda r, e: None)
    ref = weakref.ref(ch)
    del ch
    saved.clear()
    gc.collect()
    assert ref() is None


def test_close_from_another_thread(fault_server):
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address)
    tally = Tally()
    for i in range(10):
        ch.query(f"t{i}.test", A, tally.cb_for(i))
    t = threading.Thread(target=ch.close)
    t.start()
    t.join(5.0)
    assert not t.is_alive()
    assert ch.closed
    assert tally.calls == {i: [ares_errno.ARES_ECANCELLED] for i in range(10)}


def test_context_manager(fault_server):
    fault_server.rules["never.test"] = "drop"
    tally = Tally()
    with make_channel(fault_server.address) as ch:
        assert isinstance(ch, pycares_ng.Channel)
        assert resolve(ch, "with.test", A)[1] is None
        ch.query("never.test", A, tally.cb_for("never"))
        assert not ch.closed
    assert ch.closed
    assert tally.calls == {"never": [ares_errno.ARES_ECANCELLED]}


def test_context_manager_closes_on_exception(fault_server):
    with pytest.raises(KeyError):
        with make_channel(fault_server.address) as ch:
            raise KeyError("boom")
    assert ch.closed


# ---- callbacks that raise ------------------------------------------------------------------


def test_callback_exception_goes_to_unraisablehook(fault_server, monkeypatch):
    hooked = []
    monkeypatch.setattr(sys, "unraisablehook", hooked.append)
    ch = make_channel(fault_server.address)
    good = Collector()

    def bad_cb(result, err):
        raise ValueError("raised by a callback")

    ch.query("raises.test", A, bad_cb)
    ch.query("fine.test", A, good.cb)
    assert run_until(ch, lambda: len(good) >= 1, 5.0)
    assert good.one[1] is None
    assert len(hooked) == 1
    assert isinstance(hooked[0].exc_value, ValueError)
    assert str(hooked[0].exc_value) == "raised by a callback"
    assert hooked[0].object is bad_cb
    # processing continues afterwards
    assert resolve(ch, "still-fine.test", A)[1] is None


def test_callback_exceptions_during_close(fault_server, monkeypatch):
    hooked = []
    monkeypatch.setattr(sys, "unraisablehook", hooked.append)
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address)
    calls = []

    def bad_cb(result, err):
        calls.append(err)
        raise RuntimeError("during close")

    for i in range(5):
        ch.query(f"x{i}.test", A, bad_cb)
    ch.close()
    assert calls == [ares_errno.ARES_ECANCELLED] * 5
    assert len(hooked) == 5


# ---- dropped channels (finalization) -------------------------------------------------------


def test_dropped_channel_with_100_pending(fault_server):
    fault_server.mode = "drop"
    tally = Tally()
    ch = make_channel(fault_server.address)
    for i in range(100):
        ch.query(f"g{i}.test", A, tally.cb_for(i))
    ref = weakref.ref(ch)
    del ch
    gc.collect()
    assert ref() is None
    assert tally.calls == {i: [ares_errno.ARES_ECANCELLED] for i in range(100)}


def test_dropped_channel_in_a_reference_cycle(fault_server):
    """Callbacks whose closures reference the channel: the cycle is collected and every
    callback is called exactly once."""
    fault_server.mode = "drop"
    results = {}
    before = open_fds()

    def submit():
        ch = make_channel(fault_server.address)
        for i in range(100):
            def cb(result, err, i=i, ch=ch):  # the closure keeps the channel alive: a cycle
                results.setdefault(i, []).append((err, ch.closed))
            ch.query(f"cycle{i}.test", A, cb)
        return weakref.ref(ch)

    ref = submit()
    assert ref() is not None  # kept alive by the cycle only
    gc.collect()
    assert ref() is None
    assert results == {i: [(ares_errno.ARES_ECANCELLED, True)] for i in range(100)}
    assert open_fds() == before


def test_dropped_channel_with_sock_state_cb_cycle(fault_server):
    fault_server.mode = "drop"
    events = []

    def submit():
        holder = {}

        def sock_cb(fd, readable, writable):
            events.append((fd, readable, writable, holder["ch"] is not None))

        ch = make_channel(fault_server.address, sock_state_cb=sock_cb)
        holder["ch"] = ch
        ch.query("sock-cycle.test", A, lambda r, e: None)
        return weakref.ref(ch)

    ref = submit()
    gc.collect()
    assert ref() is None
    assert events[0][1:3] == (True, False)
    assert events[-1][1:3] == (False, False)


# ---- the same guarantees with event_thread=True ----------------------------------------------


def test_event_thread_close_with_100_pending(fault_server):
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address, event_thread=True)
    tally = Tally()
    for i in range(100):
        ch.query(f"tp{i}.test", A, tally.cb_for(i))
    assert fault_server.wait_for_queries(100, 5.0)
    ch.close()
    assert ch.closed and ch.event_thread is False
    assert tally.calls == {i: [ares_errno.ARES_ECANCELLED] for i in range(100)}


def test_event_thread_cancel(fault_server):
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address, event_thread=True)
    tally = Tally()
    all_called = threading.Event()

    def cb_for(i):
        inner = tally.cb_for(i)

        def cb(result, err):
            inner(result, err)
            if tally.total() == 10:
                all_called.set()
        return cb

    for i in range(10):
        ch.query(f"tc{i}.test", A, cb_for(i))
    ch.cancel()
    assert all_called.wait(5.0)
    assert tally.calls == {i: [ares_errno.ARES_ECANCELLED] for i in range(10)}
    ch.close()
    assert tally.total() == 10


def test_event_thread_close_from_inside_a_callback(fault_server):
    fault_server.mode = "drop"
    fault_server.rules["first.test"] = "answer"
    ch = make_channel(fault_server.address, event_thread=True)
    tally = Tally()
    closed = threading.Event()
    first = []

    def first_cb(result, err):
        first.append(err)
        ch.close()
        closed.set()

    for i in range(10):
        ch.query(f"tl{i}.test", A, tally.cb_for(i))
    ch.query("first.test", A, first_cb)
    assert closed.wait(5.0)
    assert first == [None]
    assert ch.closed and ch.event_thread is False
    assert tally.calls == {i: [ares_errno.ARES_ECANCELLED] for i in range(10)}


def test_event_thread_channel_dropped_with_pending(fault_server):
    fault_server.mode = "drop"
    results = {}

    def submit():
        # a timeout far beyond the test's run: the queries end by the drop, never by time
        ch = make_channel(fault_server.address, event_thread=True, timeout=60.0)
        for i in range(50):
            def cb(result, err, i=i, ch=ch):  # a reference cycle through the channel
                results.setdefault(i, []).append(err)
            ch.query(f"td{i}.test", A, cb)
        return weakref.ref(ch)

    ref = submit()
    gc.collect()
    assert ref() is None
    assert results == {i: [ares_errno.ARES_ECANCELLED] for i in range(50)}


# ---- subclassing ---------------------------------------------------------------------------


class LabelledChannel(pycares_ng.Channel):
    def __init__(self, label, **kw):
        self.label = label
        self.answers = []
        super().__init__(**kw)

    def query_a(self, name):
        self.query(name, A, lambda result, err: self.answers.append((name, err)))


def test_subclass_with_own_init(fault_server):
    ch = LabelledChannel("mine", servers=[fault_server.address], resolvconf_path=empty_resolv_conf(),
                         timeout=2.0, tries=1)
    assert isinstance(ch, pycares_ng.Channel)
    assert ch.label == "mine"
    assert ch.servers == [fault_server.address]
    ch.query_a("sub.test")
    assert run_until(ch, lambda: len(ch.answers) >= 1, 5.0)
    assert ch.answers == [("sub.test", None)]
    with ch:
        pass
    assert ch.closed


def test_subclass_dropped_with_pending_is_collected(fault_server):
    fault_server.mode = "drop"
    ch = LabelledChannel("gc", servers=[fault_server.address], resolvconf_path=empty_resolv_conf())
    answers = ch.answers
    for i in range(5):
        ch.query_a(f"s{i}.test")  # the lambdas reference ch: a cycle through a subclass instance
    ref = weakref.ref(ch)
    del ch
    gc.collect()
    assert ref() is None
    assert sorted(answers) == sorted((f"s{i}.test", ares_errno.ARES_ECANCELLED) for i in range(5))


def test_subclass_forgetting_super_init():
    class Forgetful(pycares_ng.Channel):
        def __init__(self):
            pass

    ch = Forgetful()
    with pytest.raises(RuntimeError, match="not initialized"):
        ch.query("x.test", A, lambda r, e: None)


# ---- references, memory and descriptors ----------------------------------------------------


def _drive_batch(ch, fault_server, names, cb, counter):
    target = counter[0] + len(names)
    for name in names:
        ch.query(name, A, cb)
    assert run_until(ch, lambda: counter[0] >= target, 10.0)
    fault_server.queries.clear()


def test_no_reference_or_memory_leak_over_2000_answers(fault_server):
    ch = make_channel(fault_server.address)
    counter = [0]
    errors = []

    def cb(result, err):
        counter[0] += 1
        if err is not None:
            errors.append(err)

    names = [f"leak{i}.test" for i in range(100)]
    _drive_batch(ch, fault_server, names, cb, counter)  # warm-up
    gc.collect()
    refs = sys.getrefcount(cb)
    tracemalloc.start()
    try:
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            _drive_batch(ch, fault_server, names, cb, counter)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert counter[0] == 2100
    assert errors == []
    assert sys.getrefcount(cb) == refs
    assert grown < 200_000, grown


def test_no_reference_or_memory_leak_over_2000_bad_calls(fault_server):
    ch = make_channel(fault_server.address)
    called = []

    def cb(result, err):
        called.append(err)

    bad_calls = [
        lambda: ch.query("a\0b", A, cb),
        lambda: ch.query(b"x\0", A, cb),
        lambda: ch.query("ok.test", 9999, cb),
        lambda: ch.query("ok.test", A, cb, query_class=77),
        lambda: ch.search("\u00e9" * 400, A, cb),
        lambda: ch.query_dns(b"a\0b", A, cb),
        lambda: ch.query(1234, A, cb),
        lambda: ch.timeout(-1),
        # pycares 4.11's classes: OverflowError beyond a C type, UnicodeEncodeError, TypeError
        lambda: ch.getnameinfo(["192.0.2.1", 70000], 0, cb),
        lambda: ch.getnameinfo(("2001:db8::1", 80), 0, cb),
        lambda: ch.getnameinfo(("2001:db8::1", 80, 0, 2 ** 40), 0, cb),
        lambda: ch.gethostbyaddr("192.0.2.\u0661", cb),
        lambda: ch.gethostbyname("www.example.test", None, cb),
        lambda: ch.gethostbyname("www.example.test", 2 ** 40, cb),
        lambda: ch.getaddrinfo(None, 80, cb),
        lambda: ch.getaddrinfo("www.example.test", 80, cb, type=2 ** 40),
        lambda: ch.getaddrinfo("www.example.test", 80, cb, flags=-1),
    ]

    def run(n):
        for i in range(n):
            with pytest.raises((ValueError, TypeError, OverflowError)):
                bad_calls[i % len(bad_calls)]()

    run(200)  # warm-up
    gc.collect()
    refs = sys.getrefcount(cb)
    tracemalloc.start()
    try:
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        run(2000)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert sys.getrefcount(cb) == refs
    assert grown < 200_000, grown
    assert called == []
    assert resolve(ch, "after-2000-bad.test", A)[1] is None


def test_no_reference_or_memory_leak_over_2000_reported_bad_calls(fault_server):
    """Bad input pycares 4 reports through the callback (ARES_EBADNAME, ENOTIMP):
    each call back exactly once, and nothing stays behind."""
    ch = make_channel(fault_server.address)
    called = []

    def cb(result, err):
        called.append(err)

    calls = [
        lambda: ch.query("a" * 300, A, cb),
        lambda: ch.search("x" * 64 + ".test", A, cb),
        lambda: ch.query_dns("a..b", A, cb),
        lambda: ch.gethostbyname("www.example.test", -1, cb),
        lambda: ch.gethostbyname("b" * 300, socket.AF_INET, cb),
        lambda: ch.getaddrinfo("www.example.test", 80, cb, family=99),
        lambda: ch.getaddrinfo("c" * 300, None, cb),
        lambda: ch.getaddrinfo("www.example.test", 70000, cb),  # ARES_ESERVICE
        lambda: ch.getaddrinfo("192.0.2.1", "no-such-service", cb),
        lambda: ch.query("bad name.test", A, cb),  # a space: ARES_EBADNAME
    ]

    def run(n):
        for i in range(n):
            calls[i % len(calls)]()
        ch.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)

    run(220)  # warm-up
    gc.collect()
    refs = sys.getrefcount(cb)
    tracemalloc.start()
    try:
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        del called[:]
        run(2200)
        assert len(called) == 2200
        del called[:]
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert sys.getrefcount(cb) == refs
    assert grown < 200_000, grown
    assert fault_server.queries == []
    assert resolve(ch, "after-2100-reported.test", A)[1] is None


def test_500_channels_created_and_closed(fault_server):
    """Open descriptors come back to the baseline; half closed explicitly, half just dropped."""
    gc.collect()
    before = open_fds()
    answered = []
    for i in range(500):
        ch = make_channel(fault_server.address)
        c = Collector()
        ch.query(f"ch{i}.test", A, c.cb)
        assert run_until(ch, lambda: len(c) >= 1, 5.0)
        answered.append(c.one[1])
        if i % 2 == 0:
            ch.close()
        del ch
        if i % 100 == 99:
            fault_server.queries.clear()
    gc.collect()
    assert answered == [None] * 500
    assert open_fds() == before


def test_500_channels_with_open_tcp_connections(fault_server):
    gc.collect()
    before = open_fds()
    for i in range(0, 500, 50):
        chans = [make_channel(fault_server.address,
                              flags=pycares_ng.ARES_FLAG_USEVC | pycares_ng.ARES_FLAG_STAYOPEN) for _ in range(50)]
        for j, ch in enumerate(chans):
            assert resolve(ch, f"tcp{i + j}.test", A)[1] is None
        assert open_fds() >= before + 50
        for j, ch in enumerate(chans):
            if j % 2:
                ch.close()
        del chans, ch
        gc.collect()
        assert wait_open_fds(before) == before
        fault_server.queries.clear()


# ---- module contents -----------------------------------------------------------------------

PYCARES4_ERRNO = {
    "ARES_SUCCESS": 0, "ARES_ENODATA": 1, "ARES_EFORMERR": 2, "ARES_ESERVFAIL": 3, "ARES_ENOTFOUND": 4,
    "ARES_ENOTIMP": 5, "ARES_EREFUSED": 6, "ARES_EBADQUERY": 7, "ARES_EBADNAME": 8, "ARES_EBADFAMILY": 9,
    "ARES_EBADRESP": 10, "ARES_ECONNREFUSED": 11, "ARES_ETIMEOUT": 12, "ARES_EOF": 13, "ARES_EFILE": 14,
    "ARES_ENOMEM": 15, "ARES_EDESTRUCTION": 16, "ARES_EBADSTR": 17, "ARES_EBADFLAGS": 18, "ARES_ENONAME": 19,
    "ARES_EBADHINTS": 20, "ARES_ENOTINITIALIZED": 21, "ARES_ELOADIPHLPAPI": 22, "ARES_EADDRGETNETWORKPARAMS": 23,
    "ARES_ECANCELLED": 24, "ARES_ESERVICE": 25,
}


def test_errno_module():
    for name, value in PYCARES4_ERRNO.items():
        assert getattr(ares_errno, name) == value, name
        assert ares_errno.errorcode[value] == name
    assert all(isinstance(k, int) and isinstance(v, str) for k, v in ares_errno.errorcode.items())
    for code, name in ares_errno.errorcode.items():
        assert getattr(ares_errno, name) == code
        assert name.startswith("ARES_")
    assert ares_errno.strerror(ares_errno.ARES_ETIMEOUT) == "Timeout while contacting DNS servers"
    assert ares_errno.strerror(ares_errno.ARES_SUCCESS) == "Successful completion"
    for code in ares_errno.errorcode:
        message = ares_errno.strerror(code)
        assert isinstance(message, str) and message
    assert set(PYCARES4_ERRNO) <= set(ares_errno.__all__)
    assert {"errorcode", "strerror"} <= set(ares_errno.__all__)


def test_errno_names_every_code_libcares_reports():
    """A code the loaded libcares can deliver to a callback has a name (e.g. ARES_ENOSERVER, 26,
    from c-ares 1.22 on: what an empty server list yields)."""
    unknown = ares_errno.strerror(10_000)
    known = [code for code in range(0, 100) if ares_errno.strerror(code) != unknown]
    assert set(range(0, 25)) <= set(known)  # 1.18's strerror does not know ARES_ESERVICE (25)
    missing = {code: ares_errno.strerror(code) for code in known if code not in ares_errno.errorcode}
    assert missing == {}
    if not LEGACY_CARES:
        assert ares_errno.errorcode[ARES_ENOSERVER] == "ARES_ENOSERVER"


def test_strerror_rejects_non_int():
    with pytest.raises(TypeError):
        ares_errno.strerror("12")


def test_ares_error():
    assert issubclass(pycares_ng.AresError, Exception)
    err = pycares_ng.AresError(ares_errno.ARES_ETIMEOUT, ares_errno.strerror(ares_errno.ARES_ETIMEOUT))
    assert err.args == (12, "Timeout while contacting DNS servers")
    with pytest.raises(pycares_ng.AresError) as info:
        raise err
    assert info.value.args[0] == 12
    if not LEGACY_CARES:
        # raised by libcares itself: ARES_FLAG_NO_DFLT_SVR and no server at all (c-ares >= 1.22;
        # older c-ares ignores the flag, see test_options.py)
        with pytest.raises(pycares_ng.AresError) as info:
            pycares_ng.Channel(resolvconf_path=empty_resolv_conf(), flags=pycares_ng.ARES_FLAG_NO_DFLT_SVR)
        code, message = info.value.args
        assert code == ARES_ENOSERVER
        assert message == ares_errno.strerror(code)


def test_constants_have_pycares4_values():
    P = pycares_ng
    flags = dict(USEVC=1, PRIMARY=2, IGNTC=4, NORECURSE=8, STAYOPEN=16, NOSEARCH=32, NOALIASES=64,
                 NOCHECKRESP=128, EDNS=256, NO_DFLT_SVR=512)
    for name, value in flags.items():
        assert getattr(P, "ARES_FLAG_" + name) == value, name
    types = dict(A=1, NS=2, CNAME=5, SOA=6, PTR=12, MX=15, TXT=16, AAAA=28, SRV=33, NAPTR=35, ANY=255, CAA=257,
                 URI=256, TLSA=52, HTTPS=65, SVCB=64, DS=43, DNSKEY=48)
    for name, value in types.items():
        assert getattr(P, "QUERY_TYPE_" + name) == value, name
    classes = dict(IN=1, CHAOS=3, HS=4, NONE=254, ANY=255)
    for name, value in classes.items():
        assert getattr(P, "QUERY_CLASS_" + name) == value, name
    ni = dict(NOFQDN=1, NUMERICHOST=2, NAMEREQD=4, NUMERICSERV=8, DGRAM=16, TCP=0, UDP=16, SCTP=32, DCCP=64,
              NUMERICSCOPE=128, LOOKUPHOST=256, LOOKUPSERVICE=512, IDN=1024, IDN_ALLOW_UNASSIGNED=2048,
              IDN_USE_STD3_ASCII_RULES=4096)
    for name, value in ni.items():
        assert getattr(P, "ARES_NI_" + name) == value, name
    ai = dict(CANONNAME=1, NUMERICHOST=2, PASSIVE=4, NUMERICSERV=8, V4MAPPED=16, ALL=32, ADDRCONFIG=64,
              NOSORT=128, ENVHOSTS=256, IDN=1024, IDN_ALLOW_UNASSIGNED=2048, IDN_USE_STD3_ASCII_RULES=4096,
              CANONIDN=8192)
    for name, value in ai.items():
        assert getattr(P, "ARES_AI_" + name) == value, name
    assert P.ARES_SOCKET_BAD == -1
    assert P.ARES_SUCCESS == 0
    assert P.ARES_ETIMEOUT == 12  # errno constants are also at the top level, as in pycares 4


def test_versions_and_threadsafety():
    assert isinstance(pycares_ng.ARES_VERSION, str)
    assert re.fullmatch(r"\d+\.\d+\.\d+", pycares_ng.ARES_VERSION)
    assert CARES >= (1, 18, 0)
    assert isinstance(pycares_ng.__version__, str)
    assert re.match(r"\d+\.\d+", pycares_ng.__version__)
    # What aiodns asks before choosing event_thread=True: pycares_ng's answer is always yes.
    assert pycares_ng.ares_threadsafety() is True
    with pycares_ng.Channel(servers=["127.0.0.1"], resolvconf_path=os.devnull, event_thread=True) as ch:
        assert ch.event_thread is True
    # libcares' own answer: ares_threadsafety() exists from c-ares 1.23 (Debian builds it with threads)
    assert pycares_ng._core._libcares_threadsafety() is (CARES >= (1, 23, 0))


def test_utils_ascii_bytes_and_maybe_str():
    assert utils.ascii_bytes("abc") == b"abc"
    assert utils.ascii_bytes(b"\xffx") == b"\xffx"
    with pytest.raises(TypeError):
        utils.ascii_bytes(1)
    with pytest.raises(UnicodeEncodeError):
        utils.ascii_bytes("\u00e9")
    assert utils.maybe_str(b"abc") == "abc"
    assert utils.maybe_str("abc") == "abc"
    assert utils.maybe_str(b"\xff") == b"\xff"
    with pytest.raises(TypeError):
        utils.maybe_str(None)


def test_utils_parse_name():
    assert utils.parse_name("www.example.test") == b"www.example.test"
    assert utils.parse_name(b"www.example.test") == b"www.example.test"
    assert utils.parse_name("www.example.test.") == b"www.example.test."
    assert utils.parse_name("b\u00fccher.example") == b"xn--bcher-kva.example"
    assert utils.parse_name("\u00e9t\u00e9.test") == b"xn--t-9fab.test"
    assert utils.parse_name("a" * 63) == b"a" * 63
    # as pycares 4's parse_name: no DNS checks here (queries report bad names via the callback)
    assert utils.parse_name("ab." * 84 + "ab") == b"ab." * 84 + b"ab"
    assert utils.parse_name("a..b") == b"a..b"
    with pytest.raises(UnicodeError, match="not a valid IDNA name"):
        utils.parse_name("\u00e9" * 100 + ".test")
    assert pycares_ng.parse_name is utils.parse_name
    assert pycares_ng.ascii_bytes("abc") == b"abc" and pycares_ng.maybe_str(b"abc") == "abc"
    with pytest.raises(TypeError):
        utils.parse_name(42)
    with pytest.raises(TypeError):
        utils.parse_name(bytearray(b"abc"))


def test_utils_reverse_address():
    assert utils.reverse_address("192.0.2.1") == "1.2.0.192.in-addr.arpa"
    assert utils.reverse_address(b"127.0.0.1") == "1.0.0.127.in-addr.arpa"
    assert utils.reverse_address("2001:db8::1") == ".".join("1" + "0" * 23 + "8bd01002") + ".ip6.arpa"
    assert pycares_ng.reverse_address is utils.reverse_address
    with pytest.raises(ValueError, match="invalid IP address"):
        utils.reverse_address("300.1.1.1")
    with pytest.raises(TypeError):
        utils.reverse_address(None)


def test_module_all_names_resolve():
    for name in pycares_ng.__all__:
        assert hasattr(pycares_ng, name), name


# ---- drop-in smoke: the pycares 4 README flow ----------------------------------------------


def test_pycares4_readme_flow(dns_server):
    import pycares_ng as pycares

    def wait_channel(channel):
        while True:
            read_fds, write_fds = channel.getsock()
            if not read_fds and not write_fds:
                break
            timeout = channel.timeout()
            if not timeout:
                channel.process_fd(pycares.ARES_SOCKET_BAD, pycares.ARES_SOCKET_BAD)
                continue
            rlist, wlist, xlist = select.select(read_fds, write_fds, [], timeout)
            for fd in rlist:
                channel.process_fd(fd, pycares.ARES_SOCKET_BAD)
            for fd in wlist:
                channel.process_fd(pycares.ARES_SOCKET_BAD, fd)

    answers = {}

    def cb(result, error):
        answers.setdefault("a", []).append((result, error))

    def mx_cb(result, error):
        answers.setdefault("mx", []).append((result, error))

    channel = pycares.Channel(servers=[dns_server.address], timeout=2.0, tries=2,
                              resolvconf_path=empty_resolv_conf())
    channel.query("www.example.test", pycares.QUERY_TYPE_A, cb)
    channel.query("example.test", pycares.QUERY_TYPE_MX, mx_cb)
    channel.query("nowhere.example.test", pycares.QUERY_TYPE_A, cb)
    wait_channel(channel)

    a_answers = sorted(answers["a"], key=lambda pair: pair[1] or 0)
    (ok, ok_err), (none, nx_err) = a_answers
    assert ok_err is None and [(r.host, r.ttl, r.type) for r in ok] == [("192.0.2.10", 300, "A")]
    assert none is None and nx_err == pycares.errno.ARES_ENOTFOUND
    assert pycares.errno.errorcode[nx_err] == "ARES_ENOTFOUND"
    [(mx, mx_err)] = answers["mx"]
    assert mx_err is None
    assert sorted((r.priority, r.host) for r in mx) == [
        (10, "mx1.example.test"), (20, "mx2.example.test"), (30, "mx3.example.test")]
    channel.close()


def test_close_releases_the_event_threads_wakeup_fd(fault_server):
    """close() gives back every OS resource at once, the I/O thread's eventfd included, while the
    Channel object itself lives on."""
    before = open_fds()
    ch = make_channel(fault_server.address, event_thread=True)
    assert open_fds() > before
    ch.close()
    assert wait_open_fds(before) == before
    assert ch.closed
