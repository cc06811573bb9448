"""The select backend: a blocking Resolver driven by ``selectors`` (epoll where available, so no
FD_SETSIZE limit). Its futures are completed by :meth:`Resolver.wait`, which runs the loop."""
from __future__ import annotations

import selectors
import time
from typing import Any, Callable, Dict, Generic, List, Optional, TypeVar

from .. import _forks
from .base import FdDriver, ReadyCallback
from . import results as R
from .base import Resolver as _BaseResolver

__all__ = ["Future", "SelectDriver", "Resolver", "check"]

T = TypeVar("T")


class Future(Generic[T]):
    """A result that arrives while :meth:`Resolver.wait` runs the loop."""

    __slots__ = ("_done", "_value", "_error", "__weakref__")

    def __init__(self) -> None:
        self._done = False
        self._value: Any = None
        self._error: Optional[BaseException] = None

    def done(self) -> bool:
        return self._done

    def result(self) -> T:
        """The value, or raise the error; the future must be done."""
        if not self._done:
            raise RuntimeError("the request has not finished: call Resolver.wait(future) first")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[no-any-return]


class _Handle:
    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class SelectDriver(FdDriver["Future[Any]"]):
    """Watches sockets with a ``selectors`` selector; timers are deadlines that wait() checks."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self._ready: Dict[int, ReadyCallback] = {}
        self._forks = _forks.count
        self._handles: List[_Handle] = []

    def _check_fork(self) -> None:
        # A forked child shares the parent's epoll instance: unregistering (or waiting on) a
        # socket there would take it from the parent too. The child gets a selector of its own;
        # its channel starts afresh and reports the sockets it opens.
        if self._forks != _forks.count:
            self._forks = _forks.count
            self.selector.close()  # only this process's descriptor of the shared instance
            self.selector = selectors.DefaultSelector()
            self._ready.clear()

    def watch(self, fd: int, readable: bool, writable: bool, ready: ReadyCallback) -> None:
        self._check_fork()
        events = (selectors.EVENT_READ if readable else 0) | (selectors.EVENT_WRITE if writable else 0)
        if fd in self._ready:
            if events:
                self.selector.modify(fd, events)
                self._ready[fd] = ready
            else:
                self.selector.unregister(fd)
                del self._ready[fd]
        elif events:
            try:
                self.selector.register(fd, events)
            except (OSError, ValueError):
                return  # closed again before this notification arrived: nothing to watch
            self._ready[fd] = ready

    def time(self) -> float:
        return time.monotonic()

    def call_at(self, when: float, callback: Callable[[], None]) -> _Handle:
        handle = _Handle(when, callback)
        self._handles.append(handle)
        return handle

    def call_soon(self, callback: Callable[[], None]) -> None:
        callback()  # the loop runs only inside wait(): now is before it next waits

    @property
    def deadline(self) -> Optional[float]:
        """``time.monotonic()`` at which the Resolver's timer is due, or None when disarmed."""
        return self.timer.deadline if self.timer is not None else None

    def create_future(self) -> "Future[Any]":
        return Future()

    def set_result(self, future: "Future[Any]", value: Any) -> None:
        if not future._done:
            future._done, future._value = True, value

    def set_exception(self, future: "Future[Any]", error: BaseException) -> None:
        if not future._done:
            future._done, future._error = True, error

    def run_once(self, limit: Optional[float]) -> None:
        """Wait for sockets or the next timer, at most ``limit`` seconds, and dispatch."""
        self._check_fork()
        handles = self._handles = [h for h in self._handles if not h.cancelled]
        wait = limit
        if handles:
            until_timer = max(0.0, min(h.when for h in handles) - time.monotonic())
            wait = until_timer if wait is None else min(wait, until_timer)
        if self._ready:
            ready = self.selector.select(wait)
        else:
            time.sleep(wait or 0)
            ready = []
        for key, events in ready:
            callback = self._ready.get(key.fd)
            if callback is not None:
                callback(key.fd, bool(events & selectors.EVENT_READ), bool(events & selectors.EVENT_WRITE))
        now = time.monotonic()
        for handle in [h for h in self._handles if h.when <= now and not h.cancelled]:
            handle.cancelled = True
            handle.callback()

    def close(self) -> None:
        self.selector.close()
        self._ready.clear()
        self._handles = []


class Resolver(_BaseResolver[Future[Any], Future[R.A], Future[R.AAAA], Future[R.CAA], Future[R.CNAME], Future[R.MX],
                    Future[R.NAPTR], Future[R.NS], Future[R.PTR], Future[R.SOA], Future[R.SRV], Future[R.TXT],
                    Future[R.URI], Future[R.TLSA], Future[R.HTTPS], Future[R.SVCB], Future[R.DS],
                    Future[R.DNSKEY], Future[R.SSHFP], Future[R.ANY], Future[R.MESSAGE], Future[R.HOST],
                    Future[R.ADDRINFO], Future[R.NAMEINFO]]):
    """A blocking resolver: submit requests, then ``wait(future, timeout)`` for each result.

    ``resolve_sync``-style use: ``r.wait(r.query("example.test", "A"), timeout=2.0)``.
    """

    driver_class = SelectDriver
    _driver: SelectDriver

    def wait(self, future: Future[T], timeout: Optional[float] = None) -> T:
        """Run the loop until ``future`` is done and return its result (or raise its error).
        ``timeout`` bounds the whole wait: after it, TimeoutError, and that request is
        abandoned (:meth:`abandon`); the others go on."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not future.done():
            if future not in self._requests:
                raise RuntimeError("this future does not belong to a pending request of this resolver")
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                self.abandon(future)
                raise TimeoutError(f"no DNS answer within {timeout} s")
            self._driver.run_once(left)
        return future.result()


def check() -> None:
    """Always usable: selectors is in the standard library."""
