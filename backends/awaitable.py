"""Completion-driven futures for loops without callback-style I/O primitives (trio, anyio).

The channel runs its own I/O thread (``event_thread=True``); a request's callback completes a
:class:`ThreadSafeFuture` from that thread, and the coroutine awaiting it is woken on its own
loop through a :data:`Waiter` the backend supplies (``trio``'s token, asyncio's
``call_soon_threadsafe``). The future is tied to no loop until awaited, so a request may be
made outside any loop and awaited in one. Cancelling the await (a cancel scope, a deadline,
``task.cancel()``) cancels the future: the request's late answer is dropped, and the other
requests of the resolver are not affected.

:class:`AwaitableResolver` is the Resolver of such backends: awaitable request methods,
``await wait(future, timeout)`` with the loop's own deadline, and ``run(main)``.
"""
from __future__ import annotations

import threading
from typing import (Any, Awaitable, Callable, ContextManager, Generator, Generic, List, Optional, Tuple, Type,
                    TypeVar)

from .._core import ARES_ECANCELLED
from .base import CompletionDriver
from . import results as R
from .base import Resolver as _BaseResolver
from .base import error_from

__all__ = ["ThreadSafeFuture", "Waiter", "AwaitableDriver", "AwaitableResolver", "event_waiter"]

T = TypeVar("T")

#: ``waiter()`` -> (``wait``: a coroutine function that returns once woken, ``wake``: a function
#: any thread may call, any number of times, to wake it); called on the awaiting loop.
Waiter = Callable[[], Tuple[Callable[[], Awaitable[Any]], Callable[[], None]]]

_PENDING, _FINISHED, _CANCELLED = 0, 1, 2


def event_waiter(event: Any, schedule: Callable[[Callable[[], None]], object],
                 gone: Type[BaseException]) -> Tuple[Callable[[], Awaitable[Any]], Callable[[], None]]:
    """What a :data:`Waiter` returns for ``event`` (an Event of the awaiting loop): its
    ``wait``, and a ``wake`` any thread may call that has the loop's thread-safe ``schedule``
    (``token.run_sync_soon``, ``loop.call_soon_threadsafe``) set it; ``gone`` (the loop has
    ended: nobody to wake) is ignored."""
    def wake() -> None:
        try:
            schedule(event.set)
        except gone:
            pass

    return event.wait, wake


class ThreadSafeFuture(Generic[T]):
    """A request's result: completed from any thread, awaited (``await future``) on a loop."""

    __slots__ = ("_lock", "_state", "_value", "_error", "_wakers", "_waiter")

    def __init__(self, waiter: Waiter) -> None:
        self._lock = threading.Lock()
        self._state = _PENDING
        self._value: Any = None
        self._error: Optional[BaseException] = None
        self._wakers: List[Callable[[], None]] = []
        self._waiter = waiter

    def done(self) -> bool:
        return self._state != _PENDING

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def result(self) -> T:
        """The value, or raise the error (``AresError(ARES_ECANCELLED)`` once cancelled)."""
        if self._state == _PENDING:
            raise RuntimeError("the request has not finished: await it first")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[no-any-return]

    def exception(self) -> Optional[BaseException]:
        if self._state == _PENDING:
            raise RuntimeError("the request has not finished: await it first")
        return self._error

    def _finish(self, state: int, value: Any, error: Optional[BaseException]) -> bool:
        with self._lock:
            if self._state != _PENDING:
                return False
            self._state, self._value, self._error = state, value, error
            wakers, self._wakers = self._wakers, []
        for wake in wakers:
            wake()
        return True

    def set_result(self, value: T) -> bool:
        """Complete the future; False (nothing done) if it is done already."""
        return self._finish(_FINISHED, value, None)

    def set_exception(self, error: BaseException) -> bool:
        return self._finish(_FINISHED, None, error)

    def cancel(self) -> bool:
        """Give up on the request: its late answer will be dropped. False if done already."""
        return self._finish(_CANCELLED, None, error_from(ARES_ECANCELLED))

    async def _wait(self) -> T:
        if self._state == _PENDING:
            wait, wake = self._waiter()
            with self._lock:
                registered = self._state == _PENDING
                if registered:
                    self._wakers.append(wake)
            if registered:
                try:
                    await wait()
                except BaseException:  # the await was cancelled: so is the request
                    self.cancel()
                    raise
        return self.result()

    def __await__(self) -> Generator[Any, None, T]:
        return self._wait().__await__()

    def __repr__(self) -> str:
        state = ("pending", "finished", "cancelled")[self._state]
        return f"<{type(self).__name__} {state}>"


class AwaitableDriver(CompletionDriver["ThreadSafeFuture[Any]"]):
    """Completes :class:`ThreadSafeFuture` objects woken through ``waiter``."""

    def __init__(self, waiter: Waiter) -> None:
        self.waiter = waiter

    def create_future(self) -> "ThreadSafeFuture[Any]":
        return ThreadSafeFuture(self.waiter)

    def set_result(self, future: "ThreadSafeFuture[Any]", value: Any) -> None:
        future.set_result(value)

    def set_exception(self, future: "ThreadSafeFuture[Any]", error: BaseException) -> None:
        future.set_exception(error)

    def cancel(self, future: "ThreadSafeFuture[Any]") -> None:
        future.cancel()


class AwaitableResolver(_BaseResolver[ThreadSafeFuture[Any], ThreadSafeFuture[R.A], ThreadSafeFuture[R.AAAA],
                    ThreadSafeFuture[R.CAA], ThreadSafeFuture[R.CNAME], ThreadSafeFuture[R.MX],
                    ThreadSafeFuture[R.NAPTR], ThreadSafeFuture[R.NS], ThreadSafeFuture[R.PTR],
                    ThreadSafeFuture[R.SOA], ThreadSafeFuture[R.SRV], ThreadSafeFuture[R.TXT],
                    ThreadSafeFuture[R.URI], ThreadSafeFuture[R.TLSA], ThreadSafeFuture[R.HTTPS],
                    ThreadSafeFuture[R.SVCB], ThreadSafeFuture[R.DS], ThreadSafeFuture[R.DNSKEY],
                    ThreadSafeFuture[R.SSHFP], ThreadSafeFuture[R.ANY], ThreadSafeFuture[R.MESSAGE],
                    ThreadSafeFuture[R.HOST], ThreadSafeFuture[R.ADDRINFO], ThreadSafeFuture[R.NAMEINFO]]):
    """A Resolver whose request methods return awaitable :class:`ThreadSafeFuture` objects.
    A backend sets ``driver_class`` (an :class:`AwaitableDriver` with its :data:`Waiter`),
    :attr:`move_on_after` and ``run_loop``."""

    is_async = True
    def move_on_after(self, seconds: float) -> ContextManager[Any]:
        """The loop's cancel scope that ends what it wraps after ``seconds``."""
        raise NotImplementedError

    async def wait(self, future: "ThreadSafeFuture[T]", timeout: Optional[float] = None) -> T:
        """Await ``future``'s result. After ``timeout`` seconds the builtin TimeoutError, and
        that request alone is abandoned; so is it when the await is cancelled."""
        if timeout is None:
            return await future
        with self.move_on_after(timeout):
            return await future
        self.abandon(future)
        raise TimeoutError(f"no DNS answer within {timeout} s")

    async def __aenter__(self: "AR") -> "AR":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


AR = TypeVar("AR", bound=AwaitableResolver)
