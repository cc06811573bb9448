"""The threads backend: results as :class:`concurrent.futures.Future`, driven by the channel's
own I/O thread (``event_thread=True``).

No loop to run: a request returns a future at once; the channel's I/O thread completes it, so
done-callbacks run on that thread. Every method may be called from any number of threads at
once. A future the caller cancelled is left alone when its answer arrives (the request itself
still runs to completion inside c-ares; only its result is dropped).
"""
from __future__ import annotations

import concurrent.futures
from typing import Any, Callable, Optional, TypeVar

from .._core import Channel
from .base import CompletionDriver
from . import results as R

_CF = concurrent.futures.Future
T = TypeVar("T")
from .base import Resolver as _BaseResolver

__all__ = ["ThreadsDriver", "Resolver", "check"]


class ThreadsDriver(CompletionDriver["concurrent.futures.Future[Any]"]):
    """Futures only: the channel's I/O thread watches the sockets and the timers itself."""

    def create_future(self) -> "concurrent.futures.Future[Any]":
        return concurrent.futures.Future()

    def cancel(self, future: "concurrent.futures.Future[Any]") -> None:
        future.cancel()

    # set_running_or_notify_cancel() takes the future's lock: either the caller's cancel() came
    # first (False: leave the future alone) or the future is now RUNNING, which cancel() refuses,
    # so the set_*() that follows cannot meet a cancelled future. Every request gets exactly one
    # callback, so the future is never already RUNNING or FINISHED here; should a buggy caller
    # complete it by hand, the InvalidStateError/RuntimeError is swallowed rather than raised
    # into the channel's thread (where it would only reach sys.unraisablehook).

    def set_result(self, future: "concurrent.futures.Future[Any]", value: Any) -> None:
        self._complete(future, future.set_result, value)

    def set_exception(self, future: "concurrent.futures.Future[Any]", error: BaseException) -> None:
        self._complete(future, future.set_exception, error)

    @staticmethod
    def _complete(future: "concurrent.futures.Future[Any]", setter: Callable[[Any], None], value: Any) -> None:
        try:
            if future.set_running_or_notify_cancel():
                setter(value)
        except (RuntimeError, concurrent.futures.InvalidStateError):
            pass


class Resolver(_BaseResolver[_CF[Any], _CF[R.A], _CF[R.AAAA], _CF[R.CAA], _CF[R.CNAME], _CF[R.MX], _CF[R.NAPTR],
                    _CF[R.NS], _CF[R.PTR], _CF[R.SOA], _CF[R.SRV], _CF[R.TXT], _CF[R.URI], _CF[R.TLSA],
                    _CF[R.HTTPS], _CF[R.SVCB], _CF[R.DS], _CF[R.DNSKEY], _CF[R.SSHFP], _CF[R.ANY],
                    _CF[R.MESSAGE], _CF[R.HOST], _CF[R.ADDRINFO], _CF[R.NAMEINFO]]):
    """A thread-safe resolver whose methods return :class:`concurrent.futures.Future`::

        with Resolver(servers=["127.0.0.1:5353"]) as resolver:
            future = resolver.query("example.test", "A")
            print(future.result(timeout=2.0))

    The futures work with ``concurrent.futures.wait``/``as_completed`` and ``add_done_callback``
    (called on the channel's I/O thread, or at once if already done).
    """

    driver_class = ThreadsDriver

    def wait(self, future: "concurrent.futures.Future[T]", timeout: Optional[float] = None) -> T:
        """``future.result(timeout)``; on timeout the future is cancelled (its answer will be
        dropped) and :class:`TimeoutError` raised. Other requests are not affected."""
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            self.abandon(future)
            if future.cancelled():
                raise TimeoutError(f"no DNS answer within {timeout} s") from None
            return future.result()  # the answer arrived just now


def check() -> None:
    """Always usable: pycares_ng runs the channel's I/O thread itself, on every c-ares."""
    if not hasattr(Channel, "event_thread"):
        raise RuntimeError("this pycares_ng Channel has no event_thread support")
