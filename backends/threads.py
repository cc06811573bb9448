"""The threads backend: results as :class:`concurrent.futures.Future`, driven by the channel's
own I/O thread (``event_thread=True``).

No loop to run: a request returns a future at once; the channel's I/O thread completes it, so
done-callbacks run on that thread. Every method may be called from any number of threads at
once. A future the caller cancelled is left alone when its answer arrives (the request itself
still runs to completion inside c-ares; only its result is dropped).
"""
from __future__ import annotations

import concurrent.futures
from typing import Any, Callable, Optional

from .._core import Channel
from .base import Driver, ReadyCallback
from .base import Resolver as _BaseResolver

__all__ = ["ThreadsDriver", "Resolver", "check"]


class ThreadsDriver(Driver):
    """Futures only: the channel's I/O thread watches the sockets and the timers itself."""

    uses_event_thread = True

    def watch(self, fd: int, readable: bool, writable: bool, ready: ReadyCallback) -> None:
        raise RuntimeError("ThreadsDriver watches nothing: the channel runs its own I/O thread")

    def set_timer(self, delay: Optional[float], expired: Callable[[], None]) -> None:
        raise RuntimeError("ThreadsDriver arms no timer: the channel runs its own I/O thread")

    def create_future(self) -> "concurrent.futures.Future[Any]":
        return concurrent.futures.Future()

    # set_running_or_notify_cancel() takes the future's lock: either the caller's cancel() came
    # first (False: leave the future alone) or the future is now RUNNING, which cancel() refuses,
    # so the set_*() that follows cannot meet a cancelled future. Every request gets exactly one
    # callback, so the future is never already RUNNING or FINISHED here; should a buggy caller
    # complete it by hand, the InvalidStateError/RuntimeError is swallowed rather than raised
    # into the channel's thread (where it would only reach sys.unraisablehook).

    def set_result(self, future: "concurrent.futures.Future[Any]", value: Any) -> None:
        try:
            if future.set_running_or_notify_cancel():
                future.set_result(value)
        except (RuntimeError, concurrent.futures.InvalidStateError):
            pass

    def set_exception(self, future: "concurrent.futures.Future[Any]", error: BaseException) -> None:
        try:
            if future.set_running_or_notify_cancel():
                future.set_exception(error)
        except (RuntimeError, concurrent.futures.InvalidStateError):
            pass


class Resolver(_BaseResolver):
    """A thread-safe resolver whose methods return :class:`concurrent.futures.Future`::

        with Resolver(servers=["127.0.0.1:5353"]) as resolver:
            future = resolver.query("example.test", "A")
            print(future.result(timeout=2.0))

    The futures work with ``concurrent.futures.wait``/``as_completed`` and ``add_done_callback``
    (called on the channel's I/O thread, or at once if already done).
    """

    driver_class = ThreadsDriver

    def wait(self, future: "concurrent.futures.Future[Any]", timeout: Optional[float] = None) -> Any:
        """``future.result(timeout)``, for symmetry with the select backend; on timeout the future
        is cancelled (its answer will be dropped) and :class:`TimeoutError` raised. Other
        requests are not affected."""
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            if future.cancelled():
                raise TimeoutError(f"no DNS answer within {timeout} s") from None
            return future.result()  # the answer arrived just now


def check() -> None:
    """Always usable: pycares_ng runs the channel's I/O thread itself, on every c-ares."""
    if not hasattr(Channel, "event_thread"):
        raise RuntimeError("this pycares_ng Channel has no event_thread support")
