"""The anyio backend: awaitable requests under anyio, on asyncio or trio.

The channel runs its own I/O thread; a request's answer wakes the awaiting task on its own loop
(asyncio's ``call_soon_threadsafe``, or trio's token). Cancellation is anyio's: a cancel scope,
``anyio.move_on_after``/``fail_after`` or a task group's cancellation around the await cancels
the request (its late answer is dropped; the resolver's other requests go on)::

    import anyio
    from pycares_ng.backends.anyio import Resolver

    async def main():
        with Resolver(servers=["127.0.0.1:5353"], timeout=1.0) as resolver:
            with anyio.fail_after(5):
                print([r.host for r in await resolver.query("example.test", "A")])

    anyio.run(main)                    # or anyio.run(main, backend="trio")
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, ClassVar, Coroutine, Tuple

from .awaitable import AwaitableDriver, AwaitableResolver, ThreadSafeFuture, event_waiter

try:
    import anyio
    import sniffio
except ImportError as exc:  # listed by the registry as unavailable, with this reason
    raise ImportError(f"the anyio backend needs anyio: pip install 'pycares_ng[anyio]' ({exc})") from exc

__all__ = ["Resolver", "AnyioDriver", "ThreadSafeFuture", "waiter"]


def waiter() -> Tuple[Callable[[], Awaitable[Any]], Callable[[], None]]:
    """An event of the running loop (asyncio's or trio's) and a thread-safe function that sets it."""
    if sniffio.current_async_library() == "trio":
        from . import trio as trio_backend

        return trio_backend.waiter()
    return event_waiter(asyncio.Event(), asyncio.get_running_loop().call_soon_threadsafe, RuntimeError)


class AnyioDriver(AwaitableDriver):
    """Futures woken on the awaiting anyio loop."""

    def __init__(self) -> None:
        super().__init__(waiter)


class Resolver(AwaitableResolver):
    """Asynchronous DNS resolution for anyio (asyncio or trio underneath): every request method
    returns an awaitable future (``await resolver.query(name, "A")``); failures raise
    :class:`pycares_ng.AresError`. Keyword arguments are Channel options. The resolver may be
    used from any thread and any loop (each await wakes on its own loop)."""

    driver_class = AnyioDriver
    def move_on_after(self, seconds: float) -> anyio.CancelScope:
        return anyio.move_on_after(seconds)
    #: the anyio backend :meth:`run` uses ("asyncio" or "trio")
    backend: ClassVar[str] = "asyncio"

    @classmethod
    def run_loop(cls, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """``anyio.run(main, backend=cls.backend)``."""
        return anyio.run(main, backend=cls.backend)
