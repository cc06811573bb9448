"""The driver interface every backend implements, and the Resolver built on it.

A backend adapts a :class:`pycares_ng.Channel` to one event loop. It does so by implementing
:class:`Driver`: watch a socket for readability/writability, arm one timer, and hand results or
errors to the loop's own future type. :class:`Resolver` does the rest the same way for every
loop: it feeds the channel's ``sock_state_cb`` to the driver, calls ``process_fd`` when the loop
reports a socket ready, re-arms the timer from ``Channel.timeout()`` after every step (never a
fixed tick), and turns ``callback(result, errno)`` into a completed future.
"""
from __future__ import annotations

import abc
import socket
import threading
from typing import Any, Callable, ClassVar, Dict, Optional, Tuple, Type, Union

from .. import _core
from .._core import ARES_SOCKET_BAD, AresError, Channel

__all__ = ["Driver", "Resolver", "query_type", "error_from"]

ReadyCallback = Callable[[int, bool, bool], None]

_QUERY_TYPES: Dict[str, int] = {
    name[len("QUERY_TYPE_"):]: getattr(_core, name) for name in dir(_core) if name.startswith("QUERY_TYPE_")
}


def query_type(qtype: Union[int, str]) -> int:
    """A query type given as ``pycares_ng.QUERY_TYPE_MX`` or as ``"MX"``/``"mx"``."""
    if isinstance(qtype, str):
        try:
            return _QUERY_TYPES[qtype.upper()]
        except KeyError:
            raise ValueError(f"unknown query type: {qtype!r}") from None
    return qtype


def error_from(errno: int) -> AresError:
    """The AresError for an ``ARES_E*`` code: args ``(errno, message)``."""
    return AresError(errno, _core.strerror(errno))


class Driver(abc.ABC):
    """One event loop's side of a Channel.

    Every method is called on the loop's own thread (for ``uses_event_thread`` drivers, from the
    channel's I/O thread or the caller's thread, so futures must be thread-safe there).
    """

    #: True when the channel runs its own I/O thread (``event_thread=True``); the driver then
    #: watches nothing and arms no timer: watch() and set_timer() are never called.
    uses_event_thread: ClassVar[bool] = False

    @abc.abstractmethod
    def watch(self, fd: int, readable: bool, writable: bool, ready: ReadyCallback) -> None:
        """Start, change or (both False) stop watching ``fd``; call ``ready(fd, readable,
        writable)`` from the loop when it is ready for what was asked."""

    @abc.abstractmethod
    def set_timer(self, delay: Optional[float], expired: Callable[[], None]) -> None:
        """Arm the one timer to call ``expired()`` after ``delay`` seconds, replacing any armed
        one; ``None`` disarms it."""

    @abc.abstractmethod
    def create_future(self) -> Any:
        """A new pending future of the loop's own type."""

    @abc.abstractmethod
    def set_result(self, future: Any, value: Any) -> None:
        """Complete ``future`` with ``value`` (ignored if the future was cancelled)."""

    @abc.abstractmethod
    def set_exception(self, future: Any, error: BaseException) -> None:
        """Fail ``future`` with ``error`` (ignored if the future was cancelled)."""

    def close(self) -> None:
        """Stop every watcher and the timer; called once by Resolver.close()."""


class Resolver:
    """Asynchronous DNS resolution on one event loop; methods return the loop's futures.

    Keyword arguments other than ``driver`` are Channel options (``servers``, ``timeout``,
    ``tries``, ``resolvconf_path``, ``udp_port`` …). A result is what the Channel callback would
    get; a failure is :class:`pycares_ng.AresError` ``(errno, message)``.
    """

    driver_class: ClassVar[Optional[Type[Driver]]] = None

    def __init__(self, *, driver: Optional[Driver] = None, **channel_options: Any) -> None:
        if driver is None:
            if self.driver_class is None:
                raise TypeError(f"{type(self).__name__} needs a driver")
            driver = self.driver_class()
        self._driver = driver
        self._pending = 0
        self._closed = False
        self._close_lock = threading.RLock()  # a done-callback may close() again
        if driver.uses_event_thread:
            channel_options["event_thread"] = True
        else:
            channel_options["sock_state_cb"] = self._on_sock_state
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
    def driver(self) -> Driver:
        return self._driver

    # -- I/O: from the loop into the channel ------------------------------------------------------

    def _on_sock_state(self, fd: int, readable: bool, writable: bool) -> None:
        self._driver.watch(fd, readable, writable, self._on_ready)

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
        # Channel.timeout() answers 0.0 both for "due now" and "nothing pending": the pending
        # count tells them apart, so an idle resolver keeps no timer armed.
        if self._driver.uses_event_thread or self._closed:
            return
        if self._pending:
            # c-ares 1.18 answers 0.0 for "under a millisecond left": a 1 ms floor keeps the
            # loop from spinning until the timer really expires.
            self._driver.set_timer(max(self._channel.timeout(), 0.001), self._on_timer)
        else:
            self._driver.set_timer(None, self._on_timer)

    # -- requests ----------------------------------------------------------------------------------

    def _submit(self, method: Callable[..., None], args: Tuple[Any, ...], kwargs: Dict[str, Any],
                convert: Optional[Callable[[Any], Any]] = None) -> Any:
        driver = self._driver
        future = driver.create_future()
        counted = not driver.uses_event_thread

        def done(result: Any, errno: Optional[int]) -> None:
            if counted:
                self._pending -= 1
            if errno is not None:
                driver.set_exception(future, error_from(errno))
                return
            try:
                value = convert(result) if convert is not None else result
            except BaseException as exc:  # a conversion bug must reach the caller, not vanish
                driver.set_exception(future, exc)
                return
            driver.set_result(future, value)

        if counted:
            self._pending += 1
        try:
            method(*args, callback=done, **kwargs)
        except BaseException:
            if counted:
                self._pending -= 1
            raise
        self._rearm()
        return future

    def query(self, name: Union[str, bytes], qtype: Union[int, str], qclass: Optional[int] = None) -> Any:
        """One DNS query; the future's result is what Channel.query gives (a list, or one object)."""
        return self._submit(self._channel.query, (name, query_type(qtype)), {"query_class": qclass})

    def search(self, name: Union[str, bytes], qtype: Union[int, str], qclass: Optional[int] = None) -> Any:
        """Like query(), through the search domains."""
        return self._submit(self._channel.search, (name, query_type(qtype)), {"query_class": qclass})

    def query_dns(self, name: Union[str, bytes], qtype: Union[int, str], qclass: Optional[int] = None) -> Any:
        """The whole reply (ares_dns_message_result) for any record type."""
        return self._submit(self._channel.query_dns, (name, query_type(qtype)), {"query_class": qclass})

    def gethostbyname(self, name: Union[str, bytes], family: int = socket.AF_INET) -> Any:
        """ares_host_result(name, aliases, addresses)."""
        return self._submit(self._channel.gethostbyname, (name, family), {})

    def gethostbyaddr(self, addr: Union[str, bytes]) -> Any:
        """ares_host_result for an IPv4 or IPv6 address."""
        return self._submit(self._channel.gethostbyaddr, (addr,), {})

    def getaddrinfo(self, host: Union[str, bytes, None], port: Union[int, str, bytes, None] = None,
                    family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        """ares_addrinfo_result(cnames, nodes)."""
        return self._submit(self._channel.getaddrinfo, (host, port),
                            {"family": family, "type": type, "proto": proto, "flags": flags})

    def getnameinfo(self, sockaddr: Tuple[Any, ...], flags: int = 0) -> Any:
        """ares_nameinfo_result(node, service) for ``(ip, port)`` or ``(ip, port, flowinfo,
        scope_id)``."""
        return self._submit(self._channel.getnameinfo, (sockaddr, flags), {})

    def cancel(self) -> None:
        """Fail every pending future with ARES_ECANCELLED."""
        self._channel.cancel()
        self._rearm()

    def close(self) -> None:
        """Close the channel (pending futures fail with ARES_ECANCELLED) and the driver.
        Idempotent."""
        with self._close_lock:  # the threads backend may be closed from two threads at once
            if self._closed:
                return
            self._closed = True  # first: a callback re-entering close() returns at once
            self._channel.close()
            self._driver.close()

    def __enter__(self) -> "Resolver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
