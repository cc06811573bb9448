"""The trio backend: awaitable requests on a trio run.

The channel runs its own I/O thread (trio offers no callback-style socket watchers); a request's
answer wakes the awaiting task through the run's token. Cancellation is trio's: cancelling the
await — a cancel scope, ``trio.move_on_after``/``fail_after`` around it, the nursery — cancels the
request (its late answer is dropped; the resolver's other requests go on)::

    import trio
    from pycares_ng.backends.trio import Resolver

    async def main():
        with Resolver(servers=["127.0.0.1:5353"], timeout=1.0) as resolver:
            with trio.fail_after(5):
                print([r.host for r in await resolver.query("example.test", "A")])

    trio.run(main)
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Coroutine, Tuple

from .awaitable import AwaitableDriver, AwaitableResolver, ThreadSafeFuture, event_waiter

try:
    import trio
except ImportError as exc:  # listed by the registry as unavailable, with this reason
    raise ImportError(f"the trio backend needs trio: pip install 'pycares_ng[trio]' ({exc})") from exc

__all__ = ["Resolver", "TrioDriver", "ThreadSafeFuture", "waiter"]


def waiter() -> Tuple[Callable[[], Awaitable[Any]], Callable[[], None]]:
    """A trio.Event of this run, and a thread-safe function that sets it."""
    return event_waiter(trio.Event(), trio.lowlevel.current_trio_token().run_sync_soon, trio.RunFinishedError)


class TrioDriver(AwaitableDriver):
    """Futures woken on the awaiting trio run."""

    def __init__(self) -> None:
        super().__init__(waiter)


class Resolver(AwaitableResolver):
    """Asynchronous DNS resolution for trio: every request method returns an awaitable future
    (``await resolver.query(name, "A")``); failures raise :class:`pycares_ng.AresError`.
    Keyword arguments are Channel options. The resolver may be used from any thread and any
    trio run (each await wakes on its own run)."""

    driver_class = TrioDriver
    def move_on_after(self, seconds: float) -> trio.CancelScope:
        return trio.move_on_after(seconds)

    @classmethod
    def run_loop(cls, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """``trio.run(main)``."""
        return trio.run(main)
