"""The asyncio backend: a Channel driven by an asyncio event loop (the default loop or uvloop).

Sockets are watched with ``loop.add_reader`` / ``loop.add_writer`` from the channel's
``sock_state_cb``; the one timer is a ``loop.call_at`` handle re-armed from
``Channel.timeout()``; results complete ``loop.create_future()`` futures. Everything runs on the
loop's thread: no event thread, no cross-thread wake-up per query.

Two layers:

* :class:`Resolver` — the backend interface every pycares_ng backend offers
  (:class:`pycares_ng.backends.base.Resolver`), whose methods return asyncio futures;
* :class:`DNSResolver` — an aiodns-3.x-style resolver on top of it (``nameservers``,
  ``query(host, 'A')``, ``getaddrinfo(host, family, port, …)``, ``await close()``, ``async
  with``), so code written for aiodns keeps working with ``DNSError`` → :class:`AresError`.

A task awaiting a request may be cancelled at any time: the query keeps running in c-ares and
its late answer is dropped; the channel is not affected.
"""
from __future__ import annotations

import asyncio
import socket
import warnings
from typing import Any, Callable, Dict, Generator, Iterable, List, Optional, Sequence, Tuple, Union, cast

from .. import _core
from .._core import AresError
from .base import Driver, ReadyCallback
from .base import Resolver as _BaseResolver

__all__ = ["AsyncioDriver", "Resolver", "DNSResolver", "DNSError", "check"]

#: aiodns raises ``aiodns.error.DNSError(errno, message)``; pycares_ng raises
#: :class:`pycares_ng.AresError` with the same ``args``. This alias lets aiodns-style code say
#: ``except DNSError``.
DNSError = AresError

_QUERY_CLASSES: Dict[str, int] = {
    name[len("QUERY_CLASS_"):]: getattr(_core, name) for name in dir(_core) if name.startswith("QUERY_CLASS_")
}

_Text = Union[str, bytes]


def _default_loop() -> asyncio.AbstractEventLoop:
    """The running loop; outside a coroutine, the thread's current loop (as aiodns does)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    with warnings.catch_warnings():  # 3.12+ warn when get_event_loop() has to make a loop
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return asyncio.get_event_loop()
        except RuntimeError:
            raise RuntimeError("no asyncio event loop here: pass loop=, or create the resolver "
                               "inside a coroutine") from None


class AsyncioDriver(Driver):
    """Maps the driver interface onto one asyncio loop. Use it from the loop's thread only."""

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self.loop = loop if loop is not None else _default_loop()
        # fd -> (reading, writing) as registered with the loop
        self._watched: Dict[int, Tuple[bool, bool]] = {}
        # The timer: ``_deadline`` is when ``_expired`` is due (None: disarmed). ``_handle`` is
        # the scheduled loop callback, due at ``_handle_when`` <= ``_deadline``; it is kept when
        # the timer is disarmed or pushed later (the common case: every new query asks for a
        # later deadline), so a busy resolver does not cancel and re-create a loop timer per
        # query. A handle that fires early re-schedules itself for what is left.
        self._deadline: Optional[float] = None
        self._expired: Optional[Callable[[], None]] = None
        self._handle: Optional[asyncio.TimerHandle] = None
        self._handle_when = 0.0
        self._closed = False

    # -- sockets -----------------------------------------------------------------------------------

    def watch(self, fd: int, readable: bool, writable: bool, ready: ReadyCallback) -> None:
        if self._closed:
            return
        reading, writing = self._watched.get(fd, (False, False))
        loop = self.loop
        # Socket events reach Python after the libcares call that produced them, so a socket may
        # already be closed when it is announced: the loop then refuses it (OSError) and its
        # "closed" announcement follows. Nothing to watch in that case.
        if writing and not writable:
            self._quiet(loop.remove_writer, fd)
        if reading and not readable:
            self._quiet(loop.remove_reader, fd)
        if readable and not reading:
            readable = self._quiet(loop.add_reader, fd, ready, fd, True, False)
        if writable and not writing:
            writable = self._quiet(loop.add_writer, fd, ready, fd, False, True)
        if readable or writable:
            self._watched[fd] = (readable, writable)
        else:
            self._watched.pop(fd, None)

    @staticmethod
    def _quiet(method: Callable[..., Any], *args: Any) -> bool:
        try:
            method(*args)
        except (OSError, ValueError):  # a closed fd (ValueError: negative fd on some loops)
            return False
        return True

    # -- the timer ---------------------------------------------------------------------------------

    def set_timer(self, delay: Optional[float], expired: Callable[[], None]) -> None:
        self._expired = expired
        if delay is None or self._closed:
            self._deadline = None  # a scheduled handle stays and fires into nothing
            return
        when = self.loop.time() + delay
        self._deadline = when
        if self._handle is not None:
            if self._handle_when <= when:
                return  # fires first; then re-schedules itself for the rest
            self._handle.cancel()
        self._handle = self.loop.call_at(when, self._fire)
        self._handle_when = when

    def _fire(self) -> None:
        self._handle = None
        deadline = self._deadline
        if deadline is None or self._closed:
            self._expired = None  # disarmed: hold on to nothing until armed again
            return
        left = deadline - self.loop.time()
        if left > 0.001:  # an early handle (the deadline moved later since it was scheduled)
            self._handle = self.loop.call_at(deadline, self._fire)
            self._handle_when = deadline
            return
        self._deadline = None
        expired = self._expired
        if expired is not None:
            expired()

    # -- futures -----------------------------------------------------------------------------------

    def create_future(self) -> "asyncio.Future[Any]":
        return self.loop.create_future()

    def set_result(self, future: "asyncio.Future[Any]", value: Any) -> None:
        if future.done():  # cancelled by its awaiting task: the late answer is dropped
            return
        try:
            future.set_result(value)
        except RuntimeError:  # the loop was closed under a pending request: nobody to tell
            if not self.loop.is_closed():
                raise

    def set_exception(self, future: "asyncio.Future[Any]", error: BaseException) -> None:
        if future.done():
            return
        try:
            future.set_exception(error)
        except RuntimeError:
            if not self.loop.is_closed():
                raise

    # -- shutdown ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop watching every socket and drop the timer. Idempotent."""
        self._closed = True
        self._deadline = None
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()
        watched, self._watched = self._watched, {}
        loop = self.loop
        for fd, (reading, writing) in watched.items():
            try:
                if writing:
                    self._quiet(loop.remove_writer, fd)
                if reading:
                    self._quiet(loop.remove_reader, fd)
            except RuntimeError:  # a closed loop (uvloop) watches nothing any more
                pass

    @property
    def watched(self) -> Dict[int, Tuple[bool, bool]]:
        """fd -> (reading, writing) currently registered with the loop (a copy)."""
        return dict(self._watched)

    @property
    def timer_deadline(self) -> Optional[float]:
        """``loop.time()`` at which the armed timer is due, or None when disarmed."""
        return self._deadline


class Resolver(_BaseResolver):
    """Asynchronous DNS resolution on an asyncio loop: every method returns an
    ``asyncio.Future`` bound to :attr:`loop` (await it from a coroutine on that loop).

    ``loop`` defaults to the running loop (else the thread's current one). Other keyword
    arguments are Channel options (``servers``, ``timeout``, ``tries``, ``resolvconf_path`` …).
    Use a Resolver from its loop's thread only. Failures raise :class:`pycares_ng.AresError`
    ``(errno, message)``.
    """

    driver_class = AsyncioDriver
    _driver: AsyncioDriver

    def __init__(self, *, loop: Optional[asyncio.AbstractEventLoop] = None,
                 driver: Optional[AsyncioDriver] = None, **channel_options: Any) -> None:
        if driver is None:
            driver = AsyncioDriver(loop)
        elif loop is not None and driver.loop is not loop:
            raise ValueError("loop= and driver= name different loops")
        self._close_when_idle = False
        self._rearm_scheduled = False
        super().__init__(driver=driver, **channel_options)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop the futures belong to."""
        return self._driver.loop

    @property
    def pending(self) -> int:
        """Requests submitted whose callback has not run yet."""
        return self._pending

    def _rearm(self) -> None:
        # Coalesced: every request submitted and every socket or timer event of one loop
        # iteration asks for a re-arm; one call at the start of the next iteration (before the
        # loop can block: its ready queue is not empty) reads Channel.timeout() once for all of
        # them. On c-ares 1.18 ares_timeout() walks every pending query, so once per query
        # would cost O(in flight) each.
        if not self._rearm_scheduled:
            loop = self._driver.loop
            if loop.is_closed():
                return
            self._rearm_scheduled = True
            loop.call_soon(self._rearm_now)

    def _rearm_now(self) -> None:
        self._rearm_scheduled = False
        super()._rearm()
        if self._close_when_idle and not self._pending:
            self.close()

    def close_when_idle(self) -> None:
        """Close now if nothing is pending, else as soon as the last pending request ends."""
        if not self._pending:
            self.close()
        else:
            self._close_when_idle = True

    async def __aenter__(self) -> "Resolver":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class _Done:
    """What :meth:`DNSResolver.close` returns: nothing to wait for, but awaitable, so both
    ``resolver.close()`` and aiodns 3.x's ``await resolver.close()`` work."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # pragma: no cover  (makes this a generator)

    def __repr__(self) -> str:
        return "<closed>"


_DONE = _Done()


class DNSResolver:
    """An aiodns-style asynchronous resolver (the aiodns 3.x API) on pycares_ng.

    ``DNSResolver(nameservers=None, loop=None, **kwargs)``: ``nameservers`` is a list of server
    addresses (``"127.0.0.1"``, ``"127.0.0.1:5353"``, ``"[::1]:53"``; ``servers=`` is accepted
    too), ``loop`` the asyncio loop (default: the running one), ``kwargs`` Channel options
    (``timeout``, ``tries``, ``rotate``, ``resolvconf_path`` …). Every request method returns an
    ``asyncio.Future``; failures raise :class:`pycares_ng.AresError` ``(errno, message)`` where
    aiodns raises ``aiodns.error.DNSError`` with the same ``args`` (``DNSError`` here is an alias
    of ``AresError``; the codes are in :mod:`pycares_ng.errno`).
    """

    def __init__(self, nameservers: Optional[Sequence[_Text]] = None,
                 loop: Optional[asyncio.AbstractEventLoop] = None, **kwargs: Any) -> None:
        self._resolver: Optional[Resolver] = None
        servers = kwargs.pop("servers", None)
        if nameservers is not None and servers is not None:
            raise TypeError("give nameservers= or servers=, not both")
        if kwargs.pop("event_thread", False):
            raise ValueError("the asyncio backend drives the channel from the loop: event_thread=True "
                             "is not supported (use pycares_ng.backends.get('threads') for that)")
        kwargs.pop("sock_state_cb", None)  # the resolver's own (aiodns ignores it too)
        servers = nameservers if nameservers is not None else servers
        if servers is not None:
            kwargs["servers"] = list(servers)
        self.loop = loop if loop is not None else _default_loop()
        self._resolver = Resolver(loop=self.loop, **kwargs)
        r = self._resolver
        # The hot paths, bound once.
        self._query: Callable[..., "asyncio.Future[Any]"] = r.query
        self._channel = r.channel

    # -- configuration -----------------------------------------------------------------------------

    @property
    def resolver(self) -> Resolver:
        """The backend :class:`Resolver` underneath."""
        assert self._resolver is not None
        return self._resolver

    @property
    def channel(self) -> _core.Channel:
        """The underlying :class:`pycares_ng.Channel`."""
        return self._channel

    @property
    def nameservers(self) -> List[str]:
        """The servers queried, as strings (``"127.0.0.1:5353"`` with a non-default port)."""
        return self._channel.servers

    @nameservers.setter
    def nameservers(self, value: Iterable[_Text]) -> None:
        self._channel.servers = value

    @property
    def closed(self) -> bool:
        return self._resolver is None or self._resolver._closed

    # -- requests ----------------------------------------------------------------------------------

    def query(self, host: _Text, qtype: Union[str, int], qclass: Union[str, int, None] = None
              ) -> "asyncio.Future[Any]":
        """One DNS query. ``qtype``: ``'A'``, ``'MX'`` … (any case) or ``pycares_ng.QUERY_TYPE_*``;
        ``qclass``: ``'IN'``, ``'CHAOS'`` … or ``QUERY_CLASS_*``. The result is a list of
        records (A, AAAA, MX, NS, SRV, TXT, NAPTR, CAA, ANY) or one object (CNAME, SOA, PTR)."""
        if isinstance(qclass, str):
            qclass = _query_class(qclass)
        return self._query(host, qtype, qclass)

    def search(self, host: _Text, qtype: Union[str, int], qclass: Union[str, int, None] = None
               ) -> "asyncio.Future[Any]":
        """Like :meth:`query`, through the search domains and ``ndots`` (beyond aiodns)."""
        if isinstance(qclass, str):
            qclass = _query_class(qclass)
        return cast("asyncio.Future[Any]", self.resolver.search(host, qtype, qclass))

    def query_dns(self, host: _Text, qtype: Union[str, int], qclass: Union[str, int, None] = None
                  ) -> "asyncio.Future[Any]":
        """The whole reply: ``ares_dns_message_result(answer, authority, additional, rcode,
        flags)``, records ``(name, type, record_class, ttl, data)``, for any record type."""
        if isinstance(qclass, str):
            qclass = _query_class(qclass)
        return cast("asyncio.Future[Any]", self.resolver.query_dns(host, qtype, qclass))

    def gethostbyname(self, host: _Text, family: int = socket.AF_INET) -> "asyncio.Future[Any]":
        """``ares_host_result(name, aliases, addresses)`` for one address family."""
        return cast("asyncio.Future[Any]", self.resolver.gethostbyname(host, family))

    def gethostbyaddr(self, name: _Text) -> "asyncio.Future[Any]":
        """Reverse lookup of an IPv4 or IPv6 address: ``ares_host_result``."""
        return cast("asyncio.Future[Any]", self.resolver.gethostbyaddr(name))

    def getaddrinfo(self, host: Optional[_Text], family: int = socket.AF_UNSPEC,
                    port: Union[int, str, bytes, None] = None, proto: int = 0, type: int = 0,
                    flags: int = 0) -> "asyncio.Future[Any]":
        """``ares_addrinfo_result(cnames, nodes)``. aiodns's argument order: ``family`` comes
        before ``port`` (the backend :class:`Resolver` has ``socket.getaddrinfo``'s)."""
        future = self.resolver.getaddrinfo(host, port, family=family, type=type, proto=proto, flags=flags)
        return cast("asyncio.Future[Any]", future)

    def getnameinfo(self, sockaddr: Tuple[Any, ...], flags: int = 0) -> "asyncio.Future[Any]":
        """``ares_nameinfo_result(node, service)`` for ``(ip, port)`` or ``(ip, port, flowinfo,
        scope_id)``."""
        return cast("asyncio.Future[Any]", self.resolver.getnameinfo(sockaddr, flags))

    def cancel(self) -> None:
        """Fail every pending request with ``ARES_ECANCELLED``; the resolver stays usable."""
        self.resolver.cancel()

    # -- closing -----------------------------------------------------------------------------------

    def close(self) -> _Done:
        """Close the resolver: pending requests fail with ``ARES_ECANCELLED``, later ones raise
        RuntimeError. Synchronous and idempotent; the return value may be awaited, as aiodns
        3.x's ``async def close()`` is."""
        if self._resolver is not None:
            self._resolver.close()
        return _DONE

    async def __aenter__(self) -> "DNSResolver":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __enter__(self) -> "DNSResolver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Dropping a resolver never fails what is in flight (``await DNSResolver().query(…)``
        # works): it is closed when its last pending request ends.
        r = getattr(self, "_resolver", None)
        if r is not None and not r._closed:
            try:
                r.close_when_idle()
            except Exception:  # pragma: no cover  (interpreter shutdown)
                pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.resolver.pending} pending"
        return f"<{type(self).__module__}.DNSResolver {state} on {self.loop!r}>"


def _query_class(name: str) -> int:
    try:
        return _QUERY_CLASSES[name.upper()]
    except KeyError:
        raise ValueError(f"unknown query class: {name!r}") from None


def check() -> None:
    """Always usable on POSIX: ``add_reader`` is available on every selector loop and uvloop."""
