"""A socket stays open until its "closed" sock_state_cb has been delivered.

asyncio integrations (aiodns) answer sock_state_cb(fd, False, False) with loop.remove_reader(fd);
on an fd libcares already closed that raises EBADF, and a new socket could take the number
before the old one's notification arrived. Each test here unregisters the fd from a real epoll
inside the notification, as such a loop does, and checks the fd is still the socket it was.
"""
from __future__ import annotations

import os
import select
import socket
import stat
import time
from typing import Dict, List, Tuple

import pytest

import pycares_ng
from helpers import Collector, make_channel

A = pycares_ng.QUERY_TYPE_A


class EpollLoop:
    """A sock_state_cb that keeps a real epoll in step, as an event loop does."""

    def __init__(self) -> None:
        self.ep = select.epoll()
        self.watched: Dict[int, Tuple[int, int]] = {}   # fd -> (st_dev, st_ino) when first seen
        self.errors: List[str] = []
        self.calls: List[Tuple[int, bool, bool]] = []

    def __call__(self, fd: int, readable: bool, writable: bool) -> None:
        self.calls.append((fd, readable, writable))
        try:
            st = os.fstat(fd)
        except OSError as exc:
            self.errors.append(f"fd {fd} ({readable}, {writable}): fstat: {exc}")
            return
        if not stat.S_ISSOCK(st.st_mode):
            self.errors.append(f"fd {fd} is no socket any more")
        if not readable and not writable:
            if fd not in self.watched:
                self.errors.append(f"fd {fd} closed but never opened")
            elif self.watched.pop(fd) != (st.st_dev, st.st_ino):
                self.errors.append(f"fd {fd} was reused before its close was delivered")
            try:
                self.ep.unregister(fd)
            except OSError as exc:
                self.errors.append(f"unregister({fd}): {exc}")
            return
        mask = (select.EPOLLIN if readable else 0) | (select.EPOLLOUT if writable else 0)
        if fd in self.watched:
            self.ep.modify(fd, mask)
        else:
            self.watched[fd] = (st.st_dev, st.st_ino)
            self.ep.register(fd, mask)

    def run(self, channel: pycares_ng.Channel, done, timeout: float = 10.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            wait = channel.timeout(0.2) or 0.2
            events = self.ep.poll(wait)
            if not events:
                channel.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)
            for fd, ev in events:
                channel.process_fd(fd if ev & (select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP) else -1,
                                   fd if ev & select.EPOLLOUT else -1)
        assert done(), "callbacks did not arrive"


@pytest.mark.parametrize("flags", [0, pycares_ng.ARES_FLAG_USEVC], ids=["udp", "tcp"])
def test_closed_notification_comes_while_the_fd_is_still_the_socket(dns_server, flags):
    loop = EpollLoop()
    ch = make_channel(dns_server.address, flags=flags, sock_state_cb=loop)
    c = Collector()
    for i in range(20):
        ch.query(f"www.example.test", A, c.cb)
    loop.run(ch, lambda: len(c) == 20)
    # Without ARES_FLAG_STAYOPEN libcares closes the idle sockets once the queries are done.
    loop.run(ch, lambda: not loop.watched)
    ch.close()
    assert loop.errors == []
    assert all(e is None for _, e in c.calls)
    assert any(not r and not w for _, r, w in loop.calls), "no socket was closed: the test saw nothing"


@pytest.mark.parametrize("flags", [0, pycares_ng.ARES_FLAG_USEVC], ids=["udp", "tcp"])
def test_close_with_pending_queries_delivers_closes_on_open_fds(fault_server, flags):
    fault_server.mode = "drop"
    loop = EpollLoop()
    ch = make_channel(fault_server.address, flags=flags, sock_state_cb=loop, timeout=5.0)
    c = Collector()
    for i in range(5):
        ch.query(f"n{i}.example.test", A, c.cb)
    loop.run(ch, lambda: bool(loop.watched) and all(loop.watched), timeout=2)
    opened = set(loop.watched)
    assert opened
    ch.close()
    assert loop.errors == []
    assert loop.watched == {}
    assert [e for _, e in c.calls] == [pycares_ng.errno.ARES_ECANCELLED] * 5
    for fd in opened:  # and now they are closed for real
        with pytest.raises(OSError):
            os.fstat(fd)


def test_fd_number_not_reused_before_close_is_delivered(dns_server):
    """A callback that opens a socket while libcares' closes are still being delivered never
    gets the number of a socket whose close notification is pending."""
    loop = EpollLoop()
    ch = make_channel(dns_server.address, sock_state_cb=loop)
    grabbed: List[socket.socket] = []
    c = Collector()

    def cb(result, errno):
        c.cb(result, errno)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        grabbed.append(s)
        if s.fileno() in loop.watched:
            loop.errors.append(f"new socket got fd {s.fileno()} whose close is not yet delivered")

    for _ in range(10):
        ch.query("www.example.test", A, cb)
    loop.run(ch, lambda: len(c) == 10 and not loop.watched)
    ch.close()
    for s in grabbed:
        s.close()
    assert loop.errors == []


def test_event_thread_channel_leaves_no_socket_open(dns_server):
    before = set(os.listdir("/proc/self/fd"))
    with make_channel(dns_server.address, event_thread=True) as ch:
        c = Collector()
        done = __import__("threading").Event()

        def cb(result, errno):
            c.cb(result, errno)
            if len(c) == 5:
                done.set()

        for _ in range(5):
            ch.query("www.example.test", A, cb)
        assert done.wait(10)
    assert set(os.listdir("/proc/self/fd")) - before == set()


@pytest.mark.parametrize("threaded", [False, True], ids=["sock_state_cb", "event_thread"])
def test_cancel_with_a_queued_tcp_send_and_stayopen_sends_no_freed_memory(fault_server, threaded):
    """cancel() while TCP queries wait to be written, on a channel that keeps its sockets open.

    c-ares < 1.20 frees each cancelled query's buffer but leaves the TCP send queue pointing into
    it: the next write sent freed memory to the server (heap-use-after-free under ASan; garbage
    that desynchronised the TCP stream otherwise). Whatever the server gets must be the queries
    asked, and the channel must go on answering afterwards."""
    fault_server.add_record("ok.example.test", "A", "127.0.0.7")
    fault_server.rules = {f"c{i}.example.test": "drop" for i in range(3)}
    flags = pycares_ng.ARES_FLAG_STAYOPEN | pycares_ng.ARES_FLAG_USEVC
    loop = None if threaded else EpollLoop()
    extra = {"event_thread": True} if threaded else {"sock_state_cb": loop}
    ch = make_channel(fault_server.address, flags=flags, timeout=5.0, **extra)
    cancelled = Collector()
    for i in range(3):
        ch.query(f"c{i}.example.test", A, cancelled.cb)
    ch.cancel()
    if loop is not None:
        assert loop.errors == []
        # Whatever libcares still wants to write goes now (run() asserts its condition).
        deadline = time.monotonic() + 0.3
        loop.run(ch, lambda: time.monotonic() >= deadline)
    after = Collector()
    ch.query("ok.example.test", A, after.cb)
    if loop is not None:
        loop.run(ch, lambda: len(after) == 1, timeout=5)
    else:
        assert ch.wait(5)
    ch.close()
    assert [e for _, e in cancelled.calls] == [pycares_ng.errno.ARES_ECANCELLED] * 3
    result, error = after.one
    assert error is None, pycares_ng.errno.errorcode.get(error, error)
    assert [r.host for r in result] == ["127.0.0.7"]
    assert fault_server.errors == []
    asked = {f"c{i}.example.test" for i in range(3)} | {"ok.example.test"}
    assert {q.qname for q in fault_server.queries} <= asked
    assert all(q.transport == "tcp" for q in fault_server.queries)
    if loop is not None:
        assert loop.errors == []
