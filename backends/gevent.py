"""The gevent backend: a Channel driven by the gevent hub's own event loop.

Sockets are watched with the hub loop's io watchers (``hub.loop.io(fd, events)``, one per c-ares
socket, replaced when c-ares asks for other events) from the channel's ``sock_state_cb``; the one
timer is a ``hub.loop.timer`` re-armed from ``Channel.timeout()``; results complete
:class:`gevent.event.AsyncResult` objects. Everything runs on the hub's thread: no event thread,
no thread pool.

Two layers:

* :class:`Resolver` — the backend interface every pycares_ng backend offers
  (:class:`pycares_ng.backends.base.Resolver`), whose methods return ``AsyncResult`` objects
  (``.get()`` blocks the calling greenlet only);
* :class:`GeventResolver` — a resolver gevent itself accepts (``GEVENT_RESOLVER=
  pycares_ng.backends.gevent.GeventResolver`` or ``gevent.config.resolver``), so that after
  ``gevent.monkey.patch_all()`` :func:`socket.getaddrinfo`, ``gethostbyname(_ex)``,
  ``gethostbyaddr`` and ``getnameinfo`` resolve cooperatively through c-ares, with the return
  values and exceptions of the :mod:`socket` module (the shaping of
  :mod:`pycares_ng.blocking`).

The io watchers do not keep the hub's loop alive (``ref=False``); the timer does, and it is
armed exactly while requests are pending: ``gevent.wait()`` returns once no lookup is in flight.
"""
from __future__ import annotations

import functools
import os
import re
import socket
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from .. import shaping
from .. import _forks
from .._core import AresError
from .base import AnyResolver, FdDriver, ReadyCallback, check_channel_options, driver_on

try:
    import gevent
    from gevent.event import AsyncResult
    from gevent.hub import get_hub
except ImportError as exc:  # pragma: no cover - gevent is an optional dependency
    gevent = None
    _IMPORT_ERROR: Optional[ImportError] = exc
else:
    _IMPORT_ERROR = None

__all__ = ["GeventDriver", "Resolver", "GeventResolver", "channel_options_from_environ", "check"]

_EV_READ, _EV_WRITE = 1, 2  # the event bits of gevent's loops (libev and libuv alike)


def check() -> None:
    """Raise when gevent cannot be imported (the backend is then listed as unavailable)."""
    if _IMPORT_ERROR is not None:
        raise RuntimeError(f"the gevent backend needs gevent: pip install 'pycares_ng[gevent]' "
                           f"({_IMPORT_ERROR})")


#: a host name of plain labels (letters, digits, ``-``, ``_``), as str; with _MAYBE_NUMERIC ruling
#: out what the C library would take for an address (``0x7f.1``), the fast gethostbyname path
_PLAIN_NAME = re.compile(r"(?!-)[0-9A-Za-z_-]{1,63}(?:\.[0-9A-Za-z_-]{1,63})*\.?\Z", re.ASCII).match
_MAYBE_NUMERIC = re.compile(r"[0-9A-Fa-fXx.]+\Z").match


class _TimerHandle:
    """A started loop timer, as FdDriver.call_at returns it."""

    __slots__ = ("_watcher",)

    def __init__(self, watcher: Any) -> None:
        self._watcher = watcher

    def cancel(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
            watcher.close()


class GeventDriver(FdDriver["AsyncResult"]):
    """Maps the driver interface onto one gevent hub's loop. Use it from the hub's thread."""

    def __init__(self, hub: Any = None) -> None:
        check()
        self.hub = hub if hub is not None else get_hub()
        self.loop = self.hub.loop
        # fd -> (io watcher, events it watches, ready callback)
        self._watchers: Dict[int, Tuple[Any, int, ReadyCallback]] = {}
        self._closed = False

    # -- sockets -----------------------------------------------------------------------------------

    def watch(self, fd: int, readable: bool, writable: bool, ready: ReadyCallback) -> None:
        if self._closed:
            return
        events = (_EV_READ if readable else 0) | (_EV_WRITE if writable else 0)
        current = self._watchers.get(fd)
        if current is not None:
            if current[1] == events:
                self._watchers[fd] = (current[0], events, ready)
                return
            current[0].stop()
            current[0].close()
            del self._watchers[fd]
        if not events:
            return
        try:
            watcher = self.loop.io(fd, events, ref=False)
        except (OSError, ValueError):  # closed again before this notification arrived
            return
        watcher.start(self._io_ready, fd, pass_events=True)
        self._watchers[fd] = (watcher, events, ready)

    def _io_ready(self, events: int, fd: int) -> None:
        current = self._watchers.get(fd)
        if current is not None:
            current[2](fd, bool(events & _EV_READ), bool(events & _EV_WRITE))

    # -- time and callbacks ------------------------------------------------------------------------

    def time(self) -> float:
        return float(self.loop.now())

    def call_at(self, when: float, callback: Callable[[], None]) -> _TimerHandle:
        # ref=True: a pending lookup keeps the loop running (the Resolver cancels the timer as
        # soon as nothing is pending, so gevent.wait() returns once no lookup is in flight)
        watcher = self.loop.timer(max(0.0, when - self.loop.now()))
        watcher.start(callback)
        return _TimerHandle(watcher)

    def call_soon(self, callback: Callable[[], None]) -> None:
        # a queued loop callback keeps the loop from blocking until it ran
        if not self._closed:
            self.loop.run_callback(callback)

    # -- futures -----------------------------------------------------------------------------------

    def create_future(self) -> "AsyncResult":
        return AsyncResult()

    def set_result(self, future: "AsyncResult", value: Any) -> None:
        if not future.ready():
            future.set(value)

    def set_exception(self, future: "AsyncResult", error: BaseException) -> None:
        if not future.ready():
            future.set_exception(error)

    # -- shutdown ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every watcher. Idempotent."""
        self._closed = True
        watchers, self._watchers = self._watchers, {}
        for watcher, _, _ in watchers.values():
            watcher.stop()
            watcher.close()

    @property
    def watched(self) -> Dict[int, Tuple[bool, bool]]:
        """fd -> (reading, writing) currently watched (a copy)."""
        return {fd: (bool(ev & _EV_READ), bool(ev & _EV_WRITE)) for fd, (_, ev, _) in self._watchers.items()}

    @property
    def timer_armed(self) -> bool:
        return self.timer is not None and self.timer.armed


class Resolver(AnyResolver):  # gevent has no types: AsyncResult is Any
    """Asynchronous DNS resolution on a gevent hub: every method returns a
    :class:`gevent.event.AsyncResult`; ``.get()`` blocks only the calling greenlet and returns
    the result or raises :class:`pycares_ng.AresError` ``(errno, message)``.

    ``hub`` defaults to this thread's hub. Other keyword arguments are Channel options
    (``servers``, ``timeout``, ``tries``, ``resolvconf_path`` …). Use it from the hub's thread.
    """

    driver_class = GeventDriver
    _driver: GeventDriver

    def __init__(self, *, hub: Any = None, driver: Optional[GeventDriver] = None, **channel_options: Any) -> None:
        super().__init__(driver=driver_on(driver, GeventDriver, hub, "hub"), **channel_options)

    @property
    def hub(self) -> Any:
        return self._driver.hub

    def wait(self, future: "AsyncResult", timeout: Optional[float] = None) -> Any:
        """Block the calling greenlet until ``future`` is done; return its result or raise its
        error. After ``timeout`` seconds, the builtin TimeoutError.

        Only that ``timeout`` becomes an error of the lookup. Anything else raised into the
        waiting greenlet — a :class:`gevent.Timeout` the caller started around the lookup,
        ``GreenletExit`` from ``Greenlet.kill()``, ``KeyboardInterrupt`` — propagates unchanged.
        Either way the caller no longer waits and the request is abandoned (:meth:`abandon`):
        cancelled at once when it is the channel's only pending request, otherwise run to its
        end with its answer dropped; its callback runs exactly once."""
        if not future.ready():
            try:
                # AsyncResult.wait() ends at its own timeout without raising, and lets every
                # other exception through (AsyncResult.get(timeout=) raises a gevent.Timeout
                # that cannot be told apart from the caller's).
                future.wait(timeout)
            except BaseException:
                self.abandon(future)
                raise
            if not future.ready():
                self.abandon(future)
                raise TimeoutError(f"no DNS answer within {timeout} s")
        return future.get(block=False)


# -- the resolver gevent uses ----------------------------------------------------------------------

#: (Channel option, converter, environment variables in order of precedence, gevent settings)
_ENVIRON: List[Tuple[str, Callable[[str], Any], Tuple[str, ...], Tuple[str, ...]]] = [
    ("servers", lambda v: [s for s in v.replace(",", " ").split() if s],
     ("PYCARES_NG_SERVERS",), ("resolver_nameservers", "ares_servers")),
    ("timeout", float, ("PYCARES_NG_TIMEOUT",), ("resolver_timeout", "ares_timeout")),
    ("tries", int, ("PYCARES_NG_TRIES",), ("ares_tries",)),
    ("ndots", int, ("PYCARES_NG_NDOTS",), ("ares_ndots",)),
    ("udp_port", int, ("PYCARES_NG_UDP_PORT",), ("ares_udp_port",)),
    ("tcp_port", int, ("PYCARES_NG_TCP_PORT",), ("ares_tcp_port",)),
    ("flags", int, ("PYCARES_NG_FLAGS",), ("ares_flags",)),
    ("resolvconf_path", str, ("PYCARES_NG_RESOLVCONF",), ()),
    ("lookups", str, ("PYCARES_NG_LOOKUPS",), ()),
]


def _from_setting(value: Any, convert: Callable[[str], Any], option: str) -> Any:
    if isinstance(value, str):
        return convert(value)
    if option == "servers":  # gevent gives resolver_nameservers as a list already
        return [s.decode() if isinstance(s, bytes) else str(s) for s in value]
    return convert(value) if convert is not str else str(value)


def channel_options_from_environ(environ: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The Channel options :class:`GeventResolver` takes from the environment.

    For each option, the first that is set wins: ``PYCARES_NG_<OPTION>`` (``SERVERS``,
    ``TIMEOUT``, ``TRIES``, ``NDOTS``, ``UDP_PORT``, ``TCP_PORT``, ``FLAGS``, ``RESOLVCONF``,
    ``LOOKUPS``), then gevent's own settings as its c-ares resolver reads them —
    ``gevent.config.resolver_nameservers`` / ``resolver_timeout`` (``GEVENT_RESOLVER_NAMESERVERS``,
    ``GEVENT_RESOLVER_TIMEOUT``), then ``ares_servers``, ``ares_timeout``, ``ares_tries``,
    ``ares_ndots``, ``ares_udp_port``, ``ares_tcp_port``, ``ares_flags`` (``GEVENTARES_*``).
    Server lists are separated by commas or spaces; ``127.0.0.1:5353`` and ``[::1]:5353`` name a
    port.
    """
    config = getattr(gevent, "config", None) if environ is None else None
    environ = os.environ if environ is None else environ
    options: Dict[str, Any] = {}
    for option, convert, names, settings in _ENVIRON:
        value: Any
        for name in names:
            value = environ.get(name)
            if value:
                options[option] = convert(value)
                break
        else:
            for setting in settings:
                if config is not None:
                    try:
                        value = getattr(config, setting)
                    except Exception:  # an unknown setting on another gevent version
                        value = None
                else:
                    value = environ.get("GEVENTARES_" + setting[5:].upper()) if setting.startswith("ares_") \
                        else environ.get("GEVENT_" + setting.upper())
                if value is not None and value != "" and value != []:
                    options[option] = _from_setting(value, convert, option)
                    break
    return options


class _Source(shaping.Resolvers):
    """The gevent backend Resolvers that :mod:`pycares_ng.shaping`'s lookups ask on one hub (a
    :class:`pycares_ng.shaping.BlockingSource`), and the fork they were made in."""

    __slots__ = ("hub", "forks")

    def __init__(self, hub: Any, options: Dict[str, Any]) -> None:
        self.hub = hub
        self.forks = _forks.count
        super().__init__(functools.partial(Resolver, hub=hub), options)


class GeventResolver:
    """A gevent resolver on pycares_ng: ``GEVENT_RESOLVER=pycares_ng.backends.gevent.GeventResolver``.

    gevent makes it as ``GeventResolver(hub=hub)``. The functions gevent's socket module calls —
    ``gethostbyname``, ``gethostbyname_ex``, ``getaddrinfo``, ``gethostbyaddr``, ``getnameinfo``
    — take the arguments of their :mod:`socket` namesakes, block only the calling greenlet, and
    return what :mod:`socket` returns or raise :class:`socket.gaierror` / :class:`socket.herror`
    with the same errno values (see :mod:`pycares_ng.blocking` for the mapping). Literal
    addresses, ``host=None``, service names and flag checks are answered by the C library without
    any lookup, as by :mod:`socket`.

    Channel options come from the environment (:func:`channel_options_from_environ`: the
    ``PYCARES_NG_*`` variables, then gevent's ``GEVENT_RESOLVER_*`` / ``GEVENTARES_*``
    settings) unless ``use_environ=False``; keyword arguments override them. With none, the
    system configuration (``/etc/resolv.conf``, ``/etc/hosts`` or ``CARES_HOSTS``) is used. In a
    forked child the channel is made again on first use.

    A lookup blocks only the calling greenlet, and only the resolver's own timeouts are lookup
    errors (the channel's ``timeout``/``tries``: ``gaierror(EAI_AGAIN)``, also a TimeoutError).
    Whatever else is raised into the greenlet while it waits — a :class:`gevent.Timeout` the
    caller started around the lookup (``with gevent.Timeout(5): ...``), ``GreenletExit`` from
    ``kill()``, ``KeyboardInterrupt`` — propagates unchanged, and the request is dropped (see
    :meth:`Resolver.wait`).
    """

    def __init__(self, hub: Any = None, use_environ: bool = True, **channel_options: Any) -> None:
        check()
        check_channel_options("GeventResolver()", channel_options)
        self.hub = hub if hub is not None else get_hub()
        options = channel_options_from_environ() if use_environ else {}
        options.update(channel_options)
        self.params = options
        self._closed = False
        self._source: Optional[_Source] = _Source(self.hub, options)

    # -- lifecycle ---------------------------------------------------------------------------------

    def _current(self) -> _Source:
        source = self._source
        if source is None:
            raise RuntimeError("this GeventResolver is closed")
        if source.forks != _forks.count:  # forked: the child gets a channel of its own
            old = source
            self._source = source = _Source(self.hub, self.params)
            try:
                old.close()  # the inherited sockets (copies); waiters there get EAI_AGAIN
            except Exception:  # pragma: no cover
                pass
        return source

    def _on_fork(self) -> None:
        """Called by gevent's hub after a fork (``gevent.hub.reinit``)."""
        if self._source is not None:
            self._current()

    @property
    def resolver(self) -> Resolver:
        """The backend :class:`Resolver` underneath (``query()`` etc. return AsyncResults)."""
        resolver: Resolver = self._current().resolver
        return resolver

    def close(self) -> None:
        """Close the channel: lookups in flight fail (``EAI_AGAIN``), later ones raise
        RuntimeError. Idempotent; gevent calls it when the hub is destroyed."""
        source, self._source = self._source, None
        self._closed = True
        if source is not None:
            source.close()

    def __repr__(self) -> str:
        state = "closed" if self._source is None else f"servers={self._source.resolver.channel.servers!r}"
        return f"<{type(self).__module__}.{type(self).__name__} at 0x{id(self):x} {state}>"

    # -- gevent's resolver interface ---------------------------------------------------------------

    def gethostbyname(self, hostname: Union[str, bytes], family: int = socket.AF_INET) -> str:
        """:func:`socket.gethostbyname` (``family=AF_INET6``: the first IPv6 address)."""
        source = self._current()
        if (family == socket.AF_INET and isinstance(hostname, str) and _PLAIN_NAME(hostname)
                and not _MAYBE_NUMERIC(hostname) and len(hostname) <= 253
                and shaping.hosts_inet(shaping.hosts_lines(hostname.encode("ascii"), source)) is None):
            # The common case, a plain host name: the channel's own gethostbyname gives what
            # socket's does (getaddrinfo's first IPv4 address), with no service or socket-type
            # expansion to shape. (Not for a name on a ::1 line of the hosts file: glibc's rule
            # for it is applied by the shaped path.)
            resolver = source.resolver
            try:
                return str(resolver.wait(resolver.gethostbyname(hostname, socket.AF_INET)).addresses[0])
            except AresError as exc:
                raise shaping.gaierror_from(exc) from None
        if family == socket.AF_INET:
            return shaping.gethostbyname(source, hostname, None)
        name = shaping.host_arg(hostname, "gethostbyname")
        return str(shaping.getaddrinfo(source, name, None, family, 0, 0, 0, None)[0][4][0])

    def gethostbyname_ex(self, hostname: Union[str, bytes], family: int = socket.AF_INET
                         ) -> Tuple[str, List[str], List[str]]:
        """:func:`socket.gethostbyname_ex`: ``(canonical name, aliases, addresses)``."""
        source = self._current()
        if family == socket.AF_INET:
            return shaping.gethostbyname_ex(source, hostname, None)
        name = shaping.host_arg(hostname, "gethostbyname_ex")
        if shaping.is_numeric(name):
            ip = shaping.getaddrinfo(source, name, None, family, 0, 0, 0, None)[0][4][0]
            return shaping.to_text(name), [], [str(ip)]
        canonical, aliases, found = shaping.forward(name, family, 0, None, nosort=True, source=source)
        return canonical, aliases, [ip for _, ip, _ in found]

    def getaddrinfo(self, host: Any, port: Any, family: int = 0, socktype: int = 0, proto: int = 0,
                    flags: int = 0, *, type: Optional[int] = None) -> List[Any]:
        """:func:`socket.getaddrinfo`, with the parameter names of gevent's own resolvers
        (``socktype``); ``type=``, :mod:`socket`'s name (which gevent's thread resolver passes
        on), is taken too."""
        if type is not None:
            if socktype:
                raise TypeError("getaddrinfo() got both 'socktype' and 'type'")
            socktype = type
        return shaping.getaddrinfo(self._current(), host, port, family, socktype, proto, flags, None)

    def gethostbyaddr(self, ip_address: Union[str, bytes]) -> Tuple[str, List[str], List[str]]:
        """:func:`socket.gethostbyaddr`: ``(name, aliases, addresses)``; :class:`socket.herror`
        when the reverse lookup fails."""
        return shaping.gethostbyaddr(self._current(), ip_address, None)

    def getnameinfo(self, sockaddr: Tuple[Any, ...], flags: int) -> Tuple[str, str]:
        """:func:`socket.getnameinfo`: ``(host, port)``."""
        return shaping.getnameinfo(self._current(), sockaddr, flags, None)
