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
from typing import (Any, Awaitable, Callable, Coroutine, Dict, Generator, Iterable, List, Optional, Sequence, Tuple,
                    TypeVar, Union)

from .. import _core
from .._core import AresError
from ..v5._records import DNSResult
from .base import (FdDriver, QueryClass, QueryType, ReadyCallback, check_channel_options, driver_on, query_class,
                   query_type)
from . import results as R

_AF = asyncio.Future
from .base import Resolver as _BaseResolver

__all__ = ["AsyncioDriver", "Resolver", "DNSResolver", "DNSError", "check"]

#: aiodns raises ``aiodns.error.DNSError(errno, message)``; pycares_ng raises
#: :class:`pycares_ng.AresError` with the same ``args``. This alias lets aiodns-style code say
#: ``except DNSError``.
DNSError = AresError

T = TypeVar("T")

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


class AsyncioDriver(FdDriver["asyncio.Future[Any]"]):
    """Maps the driver interface onto one asyncio loop. Use it from the loop's thread only."""

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self.loop = loop if loop is not None else _default_loop()
        # fd -> (reading, writing) as registered with the loop
        self._watched: Dict[int, Tuple[bool, bool]] = {}
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

    # -- time and callbacks ------------------------------------------------------------------------

    def time(self) -> float:
        return self.loop.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return self.loop.call_at(when, callback)

    def call_soon(self, callback: Callable[[], None]) -> None:
        if not self.loop.is_closed():  # a closed loop runs nothing any more
            self.loop.call_soon(callback)

    # -- futures -----------------------------------------------------------------------------------

    def create_future(self) -> "asyncio.Future[Any]":
        return self.loop.create_future()

    def set_result(self, future: "asyncio.Future[Any]", value: Any) -> None:
        self._complete(future, future.set_result, value)

    def set_exception(self, future: "asyncio.Future[Any]", error: BaseException) -> None:
        self._complete(future, future.set_exception, error)

    def _complete(self, future: "asyncio.Future[Any]", setter: Callable[[Any], None], value: Any) -> None:
        if future.done():  # cancelled by its awaiting task: the late answer is dropped
            return
        try:
            setter(value)
        except RuntimeError:  # the loop was closed under a pending request: nobody to tell
            if not self.loop.is_closed():
                raise

    def cancel(self, future: "asyncio.Future[Any]") -> None:
        future.cancel()

    # -- shutdown ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop watching every socket. Idempotent."""
        self._closed = True
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
        """``loop.time()`` at which the Resolver's timer is due, or None when disarmed."""
        return self.timer.deadline if self.timer is not None else None


class Resolver(_BaseResolver[_AF[Any], _AF[R.A], _AF[R.AAAA], _AF[R.CAA], _AF[R.CNAME], _AF[R.MX], _AF[R.NAPTR],
                    _AF[R.NS], _AF[R.PTR], _AF[R.SOA], _AF[R.SRV], _AF[R.TXT], _AF[R.URI], _AF[R.TLSA],
                    _AF[R.HTTPS], _AF[R.SVCB], _AF[R.DS], _AF[R.DNSKEY], _AF[R.SSHFP], _AF[R.ANY],
                    _AF[R.MESSAGE], _AF[R.HOST], _AF[R.ADDRINFO], _AF[R.NAMEINFO]]):
    """Asynchronous DNS resolution on an asyncio loop: every method returns an
    ``asyncio.Future`` bound to :attr:`loop` (await it from a coroutine on that loop).

    ``loop`` defaults to the running loop (else the thread's current one). Other keyword
    arguments are Channel options (``servers``, ``timeout``, ``tries``, ``resolvconf_path`` …).
    Use a Resolver from its loop's thread only. Failures raise :class:`pycares_ng.AresError`
    ``(errno, message)``. Cancelling the awaiting task cancels the future: the request's late
    answer is dropped, the other requests go on.
    """

    driver_class = AsyncioDriver
    is_async = True
    _driver: AsyncioDriver

    def __init__(self, *, loop: Optional[asyncio.AbstractEventLoop] = None,
                 driver: Optional[AsyncioDriver] = None, **channel_options: Any) -> None:
        super().__init__(driver=driver_on(driver, AsyncioDriver, loop, "loop"), **channel_options)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop the futures belong to."""
        return self._driver.loop

    async def wait(self, future: "asyncio.Future[T]", timeout: Optional[float] = None) -> T:
        """Await ``future``'s result. After ``timeout`` seconds the builtin TimeoutError, and
        that request alone is abandoned; so is it when the awaiting task is cancelled."""
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            self.abandon(future)
            raise TimeoutError(f"no DNS answer within {timeout} s") from None
        except asyncio.CancelledError:
            self.abandon(future)
            raise

    @classmethod
    def run_loop(cls, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """``asyncio.run(main())``."""
        return asyncio.run(main())

    async def __aenter__(self) -> "Resolver":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class _Done(Awaitable[None]):
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

    Every method delegates to the backend :class:`Resolver` (:attr:`resolver`), which checks the
    options and maps type and class names; a subclass adds a request method the same way.
    """

    def __init__(self, nameservers: Optional[Sequence[_Text]] = None,
                 loop: Optional[asyncio.AbstractEventLoop] = None, **kwargs: Any) -> None:
        self._resolver: Optional[Resolver] = None
        check_channel_options("DNSResolver()", kwargs)
        servers = kwargs.pop("servers", None)
        if nameservers is not None and servers is not None:
            raise TypeError("give nameservers= or servers=, not both")
        servers = nameservers if nameservers is not None else servers
        if servers is not None:
            kwargs["servers"] = list(servers)
        self.loop = loop if loop is not None else _default_loop()
        self._resolver = r = Resolver(loop=self.loop, **kwargs)
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
        return self._resolver is None or self._resolver.closed

    # -- requests ----------------------------------------------------------------------------------

    def query(self, host: _Text, qtype: QueryType, qclass: QueryClass = None) -> "asyncio.Future[Any]":
        """One DNS query. ``qtype``: ``'A'``, ``'MX'`` … (any case) or ``pycares_ng.QUERY_TYPE_*``;
        ``qclass``: ``'IN'``, ``'CHAOS'`` … or ``QUERY_CLASS_*``. The result is a list of
        records (A, AAAA, MX, NS, SRV, TXT, NAPTR, CAA, ANY) or one object (CNAME, SOA, PTR)."""
        return self.resolver.query(host, qtype, qclass)

    def search(self, host: _Text, qtype: QueryType, qclass: QueryClass = None) -> "asyncio.Future[Any]":
        """Like :meth:`query`, through the search domains and ``ndots`` (beyond aiodns)."""
        return self.resolver.search(host, qtype, qclass)

    def query_dns(self, host: _Text, qtype: QueryType, qclass: QueryClass = None) -> "asyncio.Future[DNSResult]":
        """aiodns 4's ``query_dns``: the whole reply as pycares 5's ``DNSResult(answer, authority,
        additional)`` of ``DNSRecord(name, type, record_class, ttl, data)`` with typed data (the
        classes of :mod:`pycares_ng.v5`). A reply without records of the type fails with
        ARES_ENODATA, as in aiodns 4. (``resolver.query_dns`` gives pycares_ng's own
        ``ares_dns_message_result``, also on NODATA.)"""
        r = self.resolver
        future: "asyncio.Future[DNSResult]" = r.submit(r.channel._query_dns5, host, query_type(qtype),
                                                       query_class=query_class(qclass))
        return future

    def gethostbyname(self, host: _Text, family: int = socket.AF_INET) -> "asyncio.Future[Any]":
        """``ares_host_result(name, aliases, addresses)`` for one address family."""
        return self.resolver.gethostbyname(host, family)

    def gethostbyaddr(self, name: _Text) -> "asyncio.Future[Any]":
        """Reverse lookup of an IPv4 or IPv6 address: ``ares_host_result``."""
        return self.resolver.gethostbyaddr(name)

    def getaddrinfo(self, host: Optional[_Text], family: int = socket.AF_UNSPEC,
                    port: Union[int, str, bytes, None] = None, proto: int = 0, type: int = 0,
                    flags: int = 0) -> "asyncio.Future[Any]":
        """``ares_addrinfo_result(cnames, nodes)``. aiodns's argument order: ``family`` comes
        before ``port`` (the backend :class:`Resolver` has ``socket.getaddrinfo``'s)."""
        return self.resolver.getaddrinfo(host, port, family=family, type=type, proto=proto, flags=flags)

    def getnameinfo(self, sockaddr: Union[Tuple[str, int], Tuple[str, int, int, int]], flags: int = 0
                    ) -> "asyncio.Future[Any]":
        """``ares_nameinfo_result(node, service)`` for ``(ip, port)`` or ``(ip, port, flowinfo,
        scope_id)``."""
        return self.resolver.getnameinfo(sockaddr, flags)

    def cancel(self) -> None:
        """Fail every pending request with ``ARES_ECANCELLED``; the resolver stays usable."""
        self.resolver.cancel()

    # -- closing -----------------------------------------------------------------------------------

    def close(self) -> Awaitable[None]:
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
        if r is not None and not r.closed:
            try:
                r.close_when_idle()
            except Exception:  # pragma: no cover  (interpreter shutdown)
                pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.resolver.pending} pending"
        return f"<{type(self).__module__}.DNSResolver {state} on {self.loop!r}>"


def check() -> None:
    """Always usable on POSIX: ``add_reader`` is available on every selector loop and uvloop."""
