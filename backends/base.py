"""The driver contract every backend implements, and the Resolver built on it.

A backend adapts a :class:`pycares_ng.Channel` to one event loop by implementing one of two
driver kinds:

* :class:`FdDriver` (fd-driven): the channel reports its sockets through ``sock_state_cb``; the
  driver watches them on the loop and offers ``time()``, ``call_at()`` and ``call_soon()``.
  From those the Resolver builds the one timer (re-armed from ``Channel.timeout()``, never a
  fixed tick) and the batched re-arm. Everything runs on the loop's thread.
* :class:`CompletionDriver` (completion-driven): the channel runs its own I/O thread
  (``event_thread=True``); the driver only completes futures, from that thread.

Both hand results to the loop's own future type (``create_future``, ``set_result``,
``set_exception``, ``cancel``). :class:`Resolver` does the rest the same way for every loop:
option checks, query type and class names, the pending count and closed state, and
``wait(future, timeout)``, whose timeout gives up on that request only.
"""
from __future__ import annotations

import abc
import socket
import threading
import time
import warnings
from typing import (TYPE_CHECKING, Any, Awaitable, Callable, ClassVar, Coroutine, Dict, Generic, Mapping, Optional,
                    Protocol, Set, Tuple, Type, TypeVar, Union)

from .. import _core
from .._core import ARES_SOCKET_BAD, AresError, Channel
from .results import QueryMethod

__all__ = [
    "Driver", "FdDriver", "CompletionDriver", "Resolver", "Timer", "TimerHandle", "ChannelOptionError",
    "QUERY_TYPES", "QUERY_CLASSES", "query_type", "query_class", "check_channel_options", "error_from",
    "ReadyCallback", "AnyResolver", "driver_on",
]

ReadyCallback = Callable[[int, bool, bool], None]
F = TypeVar("F")  # a driver's future type (of any result)
T = TypeVar("T")
# The future type of each kind of result (see pycares_ng.backends.results)
FA = TypeVar("FA")
FAAAA = TypeVar("FAAAA")
FCAA = TypeVar("FCAA")
FCNAME = TypeVar("FCNAME")
FMX = TypeVar("FMX")
FNAPTR = TypeVar("FNAPTR")
FNS = TypeVar("FNS")
FPTR = TypeVar("FPTR")
FSOA = TypeVar("FSOA")
FSRV = TypeVar("FSRV")
FTXT = TypeVar("FTXT")
FURI = TypeVar("FURI")
FTLSA = TypeVar("FTLSA")
FHTTPS = TypeVar("FHTTPS")
FSVCB = TypeVar("FSVCB")
FDS = TypeVar("FDS")
FDNSKEY = TypeVar("FDNSKEY")
FSSHFP = TypeVar("FSSHFP")
FANY = TypeVar("FANY")
FMESSAGE = TypeVar("FMESSAGE")
FHOST = TypeVar("FHOST")
FADDRINFO = TypeVar("FADDRINFO")
FNAMEINFO = TypeVar("FNAMEINFO")
Name = Union[str, bytes]
QueryType = Union[int, str]
QueryClass = Union[int, str, None]

#: query type names (``"MX"``) -> ``QUERY_TYPE_*`` numbers
QUERY_TYPES: Mapping[str, int] = {
    name[len("QUERY_TYPE_"):]: int(getattr(_core, name)) for name in dir(_core) if name.startswith("QUERY_TYPE_")
}
#: query class names (``"IN"``) -> ``QUERY_CLASS_*`` numbers
QUERY_CLASSES: Mapping[str, int] = {
    name[len("QUERY_CLASS_"):]: int(getattr(_core, name)) for name in dir(_core) if name.startswith("QUERY_CLASS_")
}
_QUERY_TYPES = QUERY_TYPES  # the name before issue 13 (pycares_ng.__main__ of 0.1 used it)


def _by_name(names: Mapping[str, int], name: str, what: str) -> int:
    try:
        return names[name.upper()]
    except KeyError:
        raise ValueError(f"unknown query {what}: {name!r}") from None


def query_type(qtype: QueryType) -> int:
    """A query type given as ``pycares_ng.QUERY_TYPE_MX`` or as ``"MX"``/``"mx"``."""
    return _by_name(QUERY_TYPES, qtype, "type") if isinstance(qtype, str) else qtype


def query_class(qclass: QueryClass) -> Optional[int]:
    """A query class given as ``pycares_ng.QUERY_CLASS_IN``, as ``"IN"``/``"chaos"``, or None."""
    return _by_name(QUERY_CLASSES, qclass, "class") if isinstance(qclass, str) else qclass


def error_from(errno: int) -> AresError:
    """The AresError for an ``ARES_E*`` code: args ``(errno, message)``."""
    return AresError(errno, _core.strerror(errno))


class ChannelOptionError(TypeError, ValueError):
    """A Channel option that a resolver sets itself was given (``sock_state_cb``,
    ``event_thread``). Both a TypeError (an argument the call does not take) and a ValueError
    (what earlier releases raised in some places)."""


#: Channel options a resolver sets itself, whatever its driver kind
DRIVER_OPTIONS = ("sock_state_cb", "event_thread")


def check_channel_options(owner: str, options: Mapping[str, Any]) -> None:
    """Raise :class:`ChannelOptionError` when ``options`` hold an option that ``owner`` (a
    resolver, or the blocking helpers) sets itself. The one check, used everywhere."""
    for name in DRIVER_OPTIONS:
        if name in options:
            raise ChannelOptionError(
                f"{owner} does not take the Channel option {name!r}: it drives the channel itself "
                f"(pick the backend for your loop with pycares_ng.backends.get(); 'threads' runs the "
                f"channel's own event thread)")


# -- drivers -----------------------------------------------------------------------------------------

class TimerHandle(Protocol):
    """What :meth:`FdDriver.call_at` returns."""

    def cancel(self) -> None: ...


class Driver(abc.ABC, Generic[F]):
    """What every driver does: the loop's own future type. Subclass :class:`FdDriver` or
    :class:`CompletionDriver`, not this class."""

    #: True for completion-driven drivers (the channel runs its own I/O thread)
    uses_event_thread: ClassVar[bool] = False
    #: the Resolver's timer (set by the Resolver; for introspection)
    timer: Optional["Timer"] = None

    @abc.abstractmethod
    def create_future(self) -> F:
        """A new pending future of the loop's own type."""

    @abc.abstractmethod
    def set_result(self, future: F, value: Any) -> None:
        """Complete ``future`` with ``value``; nothing if it is done already (cancelled)."""

    @abc.abstractmethod
    def set_exception(self, future: F, error: BaseException) -> None:
        """Fail ``future`` with ``error``; nothing if it is done already (cancelled)."""

    def cancel(self, future: F) -> None:
        """The waiter gave up on ``future``: cancel it the loop's own way, if its future type
        has one (later set_result/set_exception then do nothing). Default: nothing — the late
        answer is stored and nobody reads it."""

    def close(self) -> None:
        """Stop every watcher; called once by Resolver.close()."""


class FdDriver(Driver[F]):
    """An fd-driven driver: watches the channel's sockets on the loop and offers the time and
    callback primitives the Resolver builds its one timer from. Called on the loop's thread."""

    uses_event_thread = False

    @abc.abstractmethod
    def watch(self, fd: int, readable: bool, writable: bool, ready: ReadyCallback) -> None:
        """Start, change or (both False) stop watching ``fd``; call ``ready(fd, readable,
        writable)`` from the loop when it is ready for what was asked."""

    @abc.abstractmethod
    def time(self) -> float:
        """The loop's clock, in seconds (the time ``call_at`` takes)."""

    @abc.abstractmethod
    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Call ``callback()`` from the loop at ``when`` (:meth:`time`); cancellable."""

    @abc.abstractmethod
    def call_soon(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` from the loop before it next waits for I/O. A driver whose loop
        runs only inside ``wait()`` may call it at once."""


class CompletionDriver(Driver[F]):
    """A completion-driven driver: the channel's own I/O thread (``event_thread=True``) watches
    the sockets and the timers; set_result/set_exception/cancel are called from that thread or
    any other, so they must be thread-safe."""

    uses_event_thread = True


class Timer:
    """The one timer of an fd-driven Resolver, on its driver's ``call_at``.

    ``arm(delay)`` asks for ``expired()`` after ``delay`` seconds (None: disarm). A scheduled
    handle is kept when the deadline moves later (the common case: every new query asks for a
    later one), so a busy resolver does not cancel and re-create a loop timer per query; a handle
    that fires more than 1 ms early re-schedules itself for what is left."""

    SLACK = 0.001

    __slots__ = ("_driver", "_expired", "_deadline", "_handle", "_handle_when")

    def __init__(self, driver: FdDriver[Any], expired: Callable[[], None]) -> None:
        self._driver = driver
        self._expired = expired
        self._deadline: Optional[float] = None
        self._handle: Optional[TimerHandle] = None
        self._handle_when = 0.0

    @property
    def deadline(self) -> Optional[float]:
        """When (driver.time()) ``expired()`` is due; None when disarmed."""
        return self._deadline

    @property
    def armed(self) -> bool:
        return self._deadline is not None

    def arm(self, delay: Optional[float]) -> None:
        if delay is None:
            self.cancel()
            return
        when = self._driver.time() + delay
        self._deadline = when
        if self._handle is not None:
            if self._handle_when <= when:
                return  # fires first, then re-schedules itself for the rest
            self._handle.cancel()
        self._schedule(when)

    def _schedule(self, when: float) -> None:
        self._handle = self._driver.call_at(when, self._fire)
        self._handle_when = when

    def _fire(self) -> None:
        self._handle = None
        deadline = self._deadline
        if deadline is None:
            return
        if deadline - self._driver.time() > self.SLACK:  # an early handle: wait for the rest
            self._schedule(deadline)
            return
        self._deadline = None
        self._expired()

    def cancel(self) -> None:
        """Disarm, dropping the scheduled handle at once (a loop timer may keep a loop alive)."""
        self._deadline = None
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()


class _LegacyFdDriver(FdDriver[F]):
    """A driver written for the interface before issue 13 (``watch``, ``set_timer(delay,
    expired)``, futures) seen as an FdDriver: its one timer is the Resolver's one handle."""

    def __init__(self, driver: Any) -> None:
        self.legacy = driver

    def watch(self, fd: int, readable: bool, writable: bool, ready: ReadyCallback) -> None:
        self.legacy.watch(fd, readable, writable, ready)

    def time(self) -> float:
        return time.monotonic()

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        legacy = self.legacy
        legacy.set_timer(max(0.0, when - time.monotonic()), callback)

        class Handle:
            def cancel(self) -> None:
                legacy.set_timer(None, callback)

        return Handle()

    def call_soon(self, callback: Callable[[], None]) -> None:
        callback()

    def create_future(self) -> F:
        return self.legacy.create_future()  # type: ignore[no-any-return]

    def set_result(self, future: F, value: Any) -> None:
        self.legacy.set_result(future, value)

    def set_exception(self, future: F, error: BaseException) -> None:
        self.legacy.set_exception(future, error)

    def close(self) -> None:
        self.legacy.close()


def _legacy_driver(driver: Any) -> Driver[Any]:
    """Adapt a driver of the interface before issue 13 (a direct ``Driver`` subclass with
    ``uses_event_thread`` / ``set_timer``), with a DeprecationWarning; TypeError for anything else."""
    if getattr(driver, "uses_event_thread", False) and hasattr(driver, "create_future"):
        kind = "CompletionDriver"
        adapted: Driver[Any] = driver  # completes futures only: the same contract
    elif all(hasattr(driver, name) for name in ("watch", "set_timer", "create_future")):
        kind = "FdDriver"
        adapted = _LegacyFdDriver(driver)
    else:
        raise TypeError(f"{type(driver).__name__} is neither an FdDriver nor a CompletionDriver")
    warnings.warn(f"{type(driver).__name__}: a driver subclassing Driver directly is deprecated; subclass "
                  f"pycares_ng.backends.base.{kind} (see docs/backends.rst)", DeprecationWarning, stacklevel=3)
    return adapted


# -- the Resolver --------------------------------------------------------------------------------

class Resolver(Generic[F, FA, FAAAA, FCAA, FCNAME, FMX, FNAPTR, FNS, FPTR, FSOA, FSRV, FTXT, FURI, FTLSA, FHTTPS,
                       FSVCB, FDS, FDNSKEY, FSSHFP, FANY, FMESSAGE, FHOST, FADDRINFO, FNAMEINFO]):
    """Asynchronous DNS resolution on one event loop; methods return the loop's futures.

    Type arguments: the driver's future type ``F`` (any result), then the future type of each
    kind of result in the order of :data:`pycares_ng.backends.results.ORDER` — which is how
    ``query(name, "MX")`` is typed as a future of a list of MX results.

    Keyword arguments other than ``driver`` are Channel options (``servers``, ``timeout``,
    ``tries``, ``resolvconf_path``, ``udp_port`` …; not ``sock_state_cb`` or ``event_thread``,
    which the driver decides). A result is what the Channel callback would get; a failure is
    :class:`pycares_ng.AresError` ``(errno, message)``.
    """

    driver_class: ClassVar[Optional[Type[Driver[Any]]]] = None
    #: True when the futures are awaitables and :meth:`wait` is a coroutine function (run it
    #: with :meth:`run`); False when ``wait`` blocks the caller.
    is_async: ClassVar[bool] = False

    def __init__(self, *, driver: Optional[Driver[F]] = None, **channel_options: Any) -> None:
        try:
            check_channel_options(f"{type(self).__name__}()", channel_options)
        except ChannelOptionError:
            if driver is not None:
                driver.close()
            raise
        if driver is None:
            if self.driver_class is None:
                raise TypeError(f"{type(self).__name__} needs a driver")
            driver = self.driver_class()
        if not isinstance(driver, (FdDriver, CompletionDriver)):
            driver = _legacy_driver(driver)
        self._driver: Driver[F] = driver
        self._requests: Set[F] = set()  # futures whose callback has not run yet
        self._closed = False
        self._close_when_idle = False
        self._close_lock = threading.RLock()  # a done-callback may close() again
        self._fd_driver: Optional[FdDriver[F]] = None
        self._timer: Optional[Timer] = None
        self._rearm_scheduled = False
        if isinstance(driver, FdDriver):
            self._fd_driver = driver
            self._timer = driver.timer = Timer(driver, self._on_timer)
            channel_options["sock_state_cb"] = self._on_sock_state
        else:
            channel_options["event_thread"] = True
        try:
            self._channel = Channel(**channel_options)
        except BaseException:
            driver.close()  # it may hold a selector or a loop registration
            raise

    @property
    def channel(self) -> Channel:
        """The underlying Channel (for options such as ``servers``)."""
        return self._channel

    @property
    def driver(self) -> Driver[F]:
        return self._driver

    @property
    def pending(self) -> int:
        """Requests submitted whose callback has not run yet."""
        return len(self._requests)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- I/O: from the loop into the channel (fd-driven) --------------------------------------------

    def _on_sock_state(self, fd: int, readable: bool, writable: bool) -> None:
        if self._fd_driver is not None:
            self._fd_driver.watch(fd, readable, writable, self._on_ready)

    def _on_ready(self, fd: int, readable: bool, writable: bool) -> None:
        if self._closed:
            return
        self._channel.process_fd(fd if readable else ARES_SOCKET_BAD, fd if writable else ARES_SOCKET_BAD)
        self._rearm()

    def _on_timer(self) -> None:
        if self._closed:
            return
        self._channel.process_fd(ARES_SOCKET_BAD, ARES_SOCKET_BAD)
        self._rearm()

    def _rearm(self) -> None:
        # Batched: every request submitted and every socket or timer event of one loop
        # iteration asks for a re-arm; one call before the loop next waits reads
        # Channel.timeout() once for all of them (on c-ares 1.18 it walks every pending query).
        if self._fd_driver is None or self._rearm_scheduled or self._closed:
            return
        self._rearm_scheduled = True
        self._fd_driver.call_soon(self._rearm_now)

    def _rearm_now(self) -> None:
        self._rearm_scheduled = False
        if self._closed or self._timer is None:
            return
        # Channel.timeout() answers 0.0 both for "due now" and "nothing pending": the pending
        # count tells them apart, so an idle resolver keeps no timer armed. c-ares 1.18 answers
        # 0.0 for "under a millisecond left": a 1 ms floor keeps the loop from spinning.
        self._timer.arm(max(self._channel.timeout(), Timer.SLACK) if self._requests else None)

    # -- requests ----------------------------------------------------------------------------------

    def _submit(self, method: Callable[..., None], args: Tuple[Any, ...], kwargs: Dict[str, Any],
                convert: Optional[Callable[[Any], Any]] = None) -> Any:
        driver = self._driver
        future = driver.create_future()
        requests = self._requests

        def done(result: Any, errno: Optional[int]) -> None:
            requests.discard(future)
            if errno is not None:
                driver.set_exception(future, error_from(errno))
            else:
                try:
                    value = convert(result) if convert is not None else result
                except BaseException as exc:  # a conversion bug must reach the caller, not vanish
                    driver.set_exception(future, exc)
                else:
                    driver.set_result(future, value)
            if self._close_when_idle and not requests:
                self.close()

        requests.add(future)
        try:
            method(*args, callback=done, **kwargs)
        except BaseException:
            requests.discard(future)
            raise
        self._rearm()
        return future

    def submit(self, method: Callable[..., None], *args: Any, convert: Optional[Callable[[Any], Any]] = None,
               **kwargs: Any) -> F:
        """Start ``method(*args, callback=..., **kwargs)`` — a Channel method of
        :attr:`channel` — and return its future; ``convert(result)`` (if given) is what the
        future gets, and an exception it raises is the future's error."""
        future: F = self._submit(method, args, kwargs, convert)
        return future

    if TYPE_CHECKING:
        query: QueryMethod[F, FA, FAAAA, FCAA, FCNAME, FMX, FNAPTR, FNS, FPTR, FSOA, FSRV, FTXT, FURI, FTLSA,
                         FHTTPS, FSVCB, FDS, FDNSKEY, FSSHFP, FANY]
        search: QueryMethod[F, FA, FAAAA, FCAA, FCNAME, FMX, FNAPTR, FNS, FPTR, FSOA, FSRV, FTXT, FURI, FTLSA,
                         FHTTPS, FSVCB, FDS, FDNSKEY, FSSHFP, FANY]
    else:
        def query(self, name: Name, qtype: QueryType, qclass: QueryClass = None) -> F:
            """One DNS query; the future's result is what Channel.query gives (a list, or one
            object). ``qtype``/``qclass`` are numbers or names (``"MX"``, ``"IN"``)."""
            return self._submit(self._channel.query, (name, query_type(qtype)), {"query_class": query_class(qclass)})

        def search(self, name: Name, qtype: QueryType, qclass: QueryClass = None) -> F:
            """Like query(), through the search domains."""
            return self._submit(self._channel.search, (name, query_type(qtype)),
                                {"query_class": query_class(qclass)})

    def query_dns(self, name: Name, qtype: QueryType, qclass: QueryClass = None) -> FMESSAGE:
        """The whole reply (ares_dns_message_result) for any record type."""
        future: FMESSAGE = self._submit(self._channel.query_dns, (name, query_type(qtype)),
                                        {"query_class": query_class(qclass)})
        return future

    def search_dns(self, name: Name, qtype: QueryType, qclass: QueryClass = None) -> FMESSAGE:
        """Like query_dns(), through the search domains."""
        future: FMESSAGE = self._submit(self._channel.search_dns, (name, query_type(qtype)),
                                        {"query_class": query_class(qclass)})
        return future

    def gethostbyname(self, name: Name, family: int = socket.AF_INET) -> FHOST:
        """ares_host_result(name, aliases, addresses)."""
        future: FHOST = self._submit(self._channel.gethostbyname, (name, family), {})
        return future

    def gethostbyaddr(self, addr: Name) -> FHOST:
        """ares_host_result for an IPv4 or IPv6 address."""
        future: FHOST = self._submit(self._channel.gethostbyaddr, (addr,), {})
        return future

    def getaddrinfo(self, host: Optional[Name], port: Union[int, str, bytes, None] = None,
                    family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> FADDRINFO:
        """ares_addrinfo_result(cnames, nodes)."""
        future: FADDRINFO = self._submit(self._channel.getaddrinfo, (host, port),
                                         {"family": family, "type": type, "proto": proto, "flags": flags})
        return future

    def getnameinfo(self, sockaddr: Union[Tuple[str, int], Tuple[str, int, int, int]], flags: int = 0
                    ) -> FNAMEINFO:
        """ares_nameinfo_result(node, service) for ``(ip, port)`` or ``(ip, port, flowinfo,
        scope_id)``."""
        future: FNAMEINFO = self._submit(self._channel.getnameinfo, (sockaddr, flags), {})
        return future

    # -- waiting -----------------------------------------------------------------------------------

    def wait(self, future: Any, timeout: Optional[float] = None) -> Any:
        """The result of ``future`` (or raise its error). After ``timeout`` seconds, the builtin
        TimeoutError, and :meth:`abandon` gives up on that request only. Blocking for
        ``is_async = False`` resolvers, a coroutine function for ``is_async = True`` ones."""
        raise NotImplementedError(f"{type(self).__name__} has no wait()")

    @classmethod
    def run(cls, main: Callable[[], Awaitable[T]]) -> T:
        """Run ``main()`` to completion on a new loop of this backend's kind (``is_async``
        resolvers; made inside ``main``, the resolver uses that loop)."""
        async def runner() -> T:
            return await main()

        result: T = cls.run_loop(runner)
        return result

    @classmethod
    def run_loop(cls, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """The loop's own ``run(main)`` (``trio.run``, ``asyncio.run(main())`` …): what an
        ``is_async`` backend defines for :meth:`run`."""
        raise NotImplementedError(f"{cls.__name__} is not asynchronous: call wait() directly")

    def abandon(self, future: F) -> None:
        """Nobody waits for ``future`` any more: cancel it the loop's way and drop its answer.
        Other requests are not affected. c-ares cancels only all of a channel's requests at
        once, so the request itself is cancelled at once (its socket and timer released, its
        future failed with ARES_ECANCELLED) when it is the only pending one of an fd-driven
        resolver; otherwise it runs to its end and its answer is dropped."""
        if (self._fd_driver is not None and not self._closed and len(self._requests) == 1
                and future in self._requests):
            self.cancel()
        self._driver.cancel(future)

    def cancel(self) -> None:
        """Fail every pending future with ARES_ECANCELLED."""
        self._channel.cancel()
        self._rearm()

    # -- closing -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the channel (pending futures fail with ARES_ECANCELLED) and the driver.
        Idempotent."""
        with self._close_lock:  # a completion-driven resolver may be closed from two threads
            if self._closed:
                return
            self._closed = True  # first: a callback re-entering close() returns at once
            if self._timer is not None:
                self._timer.cancel()
            self._channel.close()
            self._driver.close()

    def close_when_idle(self) -> None:
        """Close now if nothing is pending, else as soon as the last pending request ends."""
        if not self._requests:
            self.close()
        else:
            self._close_when_idle = True

    def __enter__(self: R) -> R:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


R = TypeVar("R", bound="AnyResolver")
D = TypeVar("D", bound=Driver[Any])


def driver_on(driver: Optional[D], make: Callable[[Any], D], where: Any, attribute: str) -> D:
    """A backend Resolver's driver: ``driver`` when given (on ``where``, if that is given too:
    ``driver.<attribute> is where``), else ``make(where)`` (``where`` may be None: the current
    loop)."""
    if driver is None:
        return make(where)
    if where is not None and getattr(driver, attribute) is not where:
        raise ValueError(f"{attribute}= and driver= name different {attribute}s")
    return driver

#: a Resolver of any backend
AnyResolver = Resolver[Any, Any, Any, Any, Any, Any, Any, Any, Any, Any, Any, Any, Any, Any, Any, Any, Any, Any, Any,
                       Any, Any, Any, Any, Any]

