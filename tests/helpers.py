"""Driving a Channel in tests: collect callbacks, run the I/O loop until they arrive.

Assertions belong in the test body: callbacks only record (an assertion raised inside a callback
would only reach sys.unraisablehook).
"""
from __future__ import annotations

import os
import selectors
import tempfile
import time
from typing import Any, Callable, List, Optional, Tuple

import pycares_ng

_EMPTY_RESOLV_CONF = None


def empty_resolv_conf() -> str:
    """A resolv.conf with nothing in it, so no test reads the machine's /etc/resolv.conf."""
    global _EMPTY_RESOLV_CONF
    if _EMPTY_RESOLV_CONF is None:
        fd, path = tempfile.mkstemp(prefix="pycares-ng-empty-", suffix=".conf")
        os.close(fd)
        _EMPTY_RESOLV_CONF = path
    return _EMPTY_RESOLV_CONF


def make_channel(*servers: str, **options: Any) -> pycares_ng.Channel:
    """A Channel on the given loopback servers, isolated from the system configuration."""
    options.setdefault("resolvconf_path", empty_resolv_conf())
    options.setdefault("timeout", 2.0)
    options.setdefault("tries", 1)
    if servers:
        options["servers"] = list(servers)
    return pycares_ng.Channel(**options)


class Collector:
    """A callback that records every (result, errno) call; call it as `collector.cb`."""

    def __init__(self) -> None:
        self.calls: List[Tuple[Any, Optional[int]]] = []

    def cb(self, result: Any, errno: Optional[int]) -> None:
        self.calls.append((result, errno))

    def __len__(self) -> int:
        return len(self.calls)

    @property
    def one(self) -> Tuple[Any, Optional[int]]:
        """The single call; fails if there was not exactly one."""
        assert len(self.calls) == 1, f"expected exactly one callback, got {len(self.calls)}: {self.calls!r}"
        return self.calls[0]


def run_until(channel: pycares_ng.Channel, done: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Drive channel with getsock/select/process_fd until done() or timeout; returns done()."""
    sel = selectors.DefaultSelector()
    deadline = time.monotonic() + timeout
    try:
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return done()
            rfds, wfds = channel.getsock()
            for key in list(sel.get_map().values()):
                sel.unregister(key.fileobj)
            for fd in set(rfds) | set(wfds):
                events = (selectors.EVENT_READ if fd in rfds else 0) | (selectors.EVENT_WRITE if fd in wfds else 0)
                sel.register(fd, events)
            wait = min(channel.timeout(remaining), remaining)
            ready = sel.select(wait) if sel.get_map() else (time.sleep(wait) or [])
            if not ready:
                channel.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)
            for key, events in ready:
                channel.process_fd(
                    key.fd if events & selectors.EVENT_READ else pycares_ng.ARES_SOCKET_BAD,
                    key.fd if events & selectors.EVENT_WRITE else pycares_ng.ARES_SOCKET_BAD,
                )
        return True
    finally:
        sel.close()


def resolve(channel: pycares_ng.Channel, name: Any, qtype: int, *, method: str = "query",
            timeout: float = 10.0, **kwargs: Any) -> Tuple[Any, Optional[int]]:
    """Submit one request and drive the channel until its callback ran; returns (result, errno)."""
    c = Collector()
    getattr(channel, method)(name, qtype, c.cb, **kwargs)
    assert run_until(channel, lambda: len(c) >= 1, timeout), f"no callback within {timeout}s for {name!r}"
    return c.one
