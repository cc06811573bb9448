"""The select backend: a blocking Resolver driven by ``selectors`` (epoll where available, so no
FD_SETSIZE limit). Its futures are completed by :meth:`Resolver.wait`, which runs the loop."""
from __future__ import annotations

import selectors
import time
from typing import Any, Callable, Dict, Optional

from .. import _forks
from .base import Driver, ReadyCallback
from .base import Resolver as _BaseResolver

__all__ = ["Future", "SelectDriver", "Resolver"]


class Future:
    """A result that arrives while :meth:`Resolver.wait` runs the loop."""

    __slots__ = ("_done", "_value", "_error")

    def __init__(self) -> None:
        self._done = False
        self._value: Any = None
        self._error: Optional[BaseException] = None

    def done(self) -> bool:
        return self._done

    def result(self) -> Any:
        """The value, or raise the error; the future must be done."""
        if not self._done:
            raise RuntimeError("the request has not finished: call Resolver.wait(future) first")
        if self._error is not None:
            raise self._error
        return self._value


class SelectDriver(Driver):
    """Watches sockets with a ``selectors`` selector; the timer is a deadline checked by wait()."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self._ready: Dict[int, ReadyCallback] = {}
        self._forks = _forks.count
        self.deadline: Optional[float] = None
        self.expired: Optional[Callable[[], None]] = None

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

    def set_timer(self, delay: Optional[float], expired: Callable[[], None]) -> None:
        self.deadline = None if delay is None else time.monotonic() + delay
        self.expired = expired

    def create_future(self) -> Future:
        return Future()

    def set_result(self, future: Future, value: Any) -> None:
        future._done, future._value = True, value

    def set_exception(self, future: Future, error: BaseException) -> None:
        future._done, future._error = True, error

    def run_once(self, limit: Optional[float]) -> None:
        """Wait for sockets or the timer, at most ``limit`` seconds, and dispatch."""
        self._check_fork()
        now = time.monotonic()
        wait = limit
        if self.deadline is not None:
            until_timer = max(0.0, self.deadline - now)
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
        if self.deadline is not None and time.monotonic() >= self.deadline and self.expired is not None:
            self.deadline = None
            self.expired()

    def close(self) -> None:
        self.selector.close()
        self._ready.clear()


class Resolver(_BaseResolver):
    """A blocking resolver: submit requests, then ``wait(future, timeout)`` for each result.

    ``resolve_sync``-style use: ``r.wait(r.query("example.test", "A"), timeout=2.0)``.
    """

    driver_class = SelectDriver
    _driver: SelectDriver

    def wait(self, future: Future, timeout: Optional[float] = None) -> Any:
        """Run the loop until ``future`` is done and return its result (or raise its error).
        ``timeout`` bounds the whole wait: after it, TimeoutError, and every request still pending
        on this resolver is cancelled (ARES_ECANCELLED)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not future.done():
            if not self._pending:
                raise RuntimeError("this future does not belong to a pending request of this resolver")
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                self.cancel()
                raise TimeoutError(f"no DNS answer within {timeout} s")
            self._driver.run_once(left)
        return future.result()


def check() -> None:
    """Always usable: selectors is in the standard library."""
