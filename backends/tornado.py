"""The tornado backend: a Channel driven by a tornado IOLoop, and a ``tornado.netutil.Resolver``.

Since tornado 5 (and only so since tornado 6) every :class:`tornado.ioloop.IOLoop` is a thin
layer over an asyncio event loop (``IOLoop.asyncio_loop``), and ``tornado.concurrent.Future``
*is* ``asyncio.Future``. This backend therefore drives the channel with the asyncio backend's
driver on the IOLoop's own asyncio loop (``loop.add_reader`` / ``add_writer`` for the sockets,
one ``loop.call_at`` timer re-armed from ``Channel.timeout()``) instead of through
``IOLoop.add_handler`` / ``call_later``: those are wrappers over the very same asyncio calls
that add a layer per event (an fd-object map, ``IOLoop._run_callback`` with its exception
logging and future chaining, a handle per timeout) and refuse a second ``add_handler`` for an
fd, so c-ares' read/write changes would need ``update_handler`` bookkeeping on top. Going
straight to the asyncio loop keeps one code path, tested on asyncio and uvloop, with nothing
between the loop and the channel. On Windows' proactor loop tornado provides
``IOLoop.selector_loop`` (a selector thread offering ``add_reader``); the driver uses it when
present.

Two layers:

* :class:`Resolver` — the backend interface every pycares_ng backend offers
  (:class:`pycares_ng.backends.base.Resolver`) on one IOLoop; its methods return asyncio futures
  (tornado futures), to ``await`` in a coroutine on that IOLoop;
* :class:`TornadoResolver` — a :class:`tornado.netutil.Resolver`, for
  ``tornado.netutil.Resolver.configure("pycares_ng.backends.tornado.TornadoResolver",
  **channel_options)``: ``await resolve(host, port, family)`` gives ``[(family, sockaddr)]`` as
  tornado's ``DefaultLoopResolver`` does, both IPv4 and IPv6 for ``AF_UNSPEC``, and raises
  :class:`socket.gaierror` (an ``OSError``) on failure, with the C library's errno and text.
"""
from __future__ import annotations

import asyncio
import socket
import warnings
from typing import Any, Dict, List, Optional, Tuple, cast

from .. import shaping
from .._core import AresError
from .asyncio import AsyncioDriver
from .base import check_channel_options, driver_on
from .asyncio import Resolver as _AsyncioResolver

try:
    import tornado
    import tornado.ioloop
    import tornado.netutil
except ImportError as _exc:  # the module imports without tornado; check() says why it is unusable
    tornado = None  # type: ignore[assignment]
    _IMPORT_ERROR: Optional[ImportError] = _exc
else:
    _IMPORT_ERROR = None

__all__ = ["TornadoDriver", "Resolver", "TornadoResolver", "check"]

#: The oldest tornado whose IOLoop is always an asyncio loop.
MIN_TORNADO = (6, 0)


def check() -> None:
    """Raise (ImportError / RuntimeError, with the reason) when this backend cannot work here."""
    if tornado is None:
        raise ImportError(f"tornado is not installed (pip install 'pycares_ng[tornado]'): {_IMPORT_ERROR}")
    version = tuple(getattr(tornado, "version_info", (0,))[:2])
    if version < MIN_TORNADO:
        raise RuntimeError(f"tornado {tornado.version} is too old: the tornado backend needs "
                           f"tornado >= {'.'.join(map(str, MIN_TORNADO))} (an asyncio IOLoop)")


def _current_io_loop() -> "tornado.ioloop.IOLoop":
    """The running IOLoop; outside a coroutine, the thread's current one (as tornado does)."""
    check()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        with warnings.catch_warnings():  # tornado >= 6.2 warns when no loop is running
            warnings.simplefilter("ignore", DeprecationWarning)
            return tornado.ioloop.IOLoop.current()
    return tornado.ioloop.IOLoop.current()


def _selector_loop(io_loop: Any) -> asyncio.AbstractEventLoop:
    """The asyncio loop of ``io_loop`` that offers add_reader (the selector thread's on Windows'
    proactor loop, else the loop itself)."""
    loop = getattr(io_loop, "selector_loop", None) or getattr(io_loop, "asyncio_loop", None)
    if loop is None:
        raise TypeError(f"{io_loop!r} is not an asyncio-based tornado IOLoop (tornado >= 6 needed)")
    return cast(asyncio.AbstractEventLoop, loop)


class TornadoDriver(AsyncioDriver):
    """The asyncio driver on a tornado IOLoop's asyncio loop. Use it from the IOLoop's thread."""

    def __init__(self, io_loop: Optional["tornado.ioloop.IOLoop"] = None) -> None:
        if io_loop is None:
            io_loop = _current_io_loop()
        self.io_loop = io_loop
        super().__init__(_selector_loop(io_loop))


class Resolver(_AsyncioResolver):
    """Asynchronous DNS resolution on a tornado IOLoop: every method returns an asyncio future
    (what ``tornado.concurrent.Future`` is); ``await`` it in a coroutine on that IOLoop.

    ``io_loop`` defaults to the running IOLoop (else the thread's current one). Other keyword
    arguments are Channel options (``servers``, ``timeout``, ``tries``, ``resolvconf_path`` …).
    Use a Resolver from its IOLoop's thread only. Failures raise :class:`pycares_ng.AresError`
    ``(errno, message)``.
    """

    driver_class = TornadoDriver  # type: ignore[assignment]  # (a narrower AsyncioDriver)
    _driver: TornadoDriver

    def __init__(self, *, io_loop: Optional["tornado.ioloop.IOLoop"] = None,
                 driver: Optional[TornadoDriver] = None, **channel_options: Any) -> None:
        super().__init__(driver=driver_on(driver, TornadoDriver, io_loop, "io_loop"), **channel_options)

    @property
    def io_loop(self) -> "tornado.ioloop.IOLoop":
        """The IOLoop the resolver runs on."""
        return self._driver.io_loop


def _idna_refuses(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    try:
        host.encode("idna")
    except UnicodeError:
        return True
    return False


class _Unavailable:
    """TornadoResolver's base without tornado: making one says why it cannot work."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        check()


_TornadoResolverBase: Any = tornado.netutil.Resolver if tornado is not None else _Unavailable


class TornadoResolver(_TornadoResolverBase):  # type: ignore[misc]  # tornado may be missing
    """A :class:`tornado.netutil.Resolver` on pycares_ng (c-ares), for every tornado client::

        tornado.netutil.Resolver.configure("pycares_ng.backends.tornado.TornadoResolver",
                                           timeout=2.0, tries=2)

    The configuration's keyword arguments are Channel options (``servers``, ``timeout``,
    ``tries``, ``lookups``, ``resolvconf_path``, ``rotate`` …); none: the system's
    ``/etc/resolv.conf`` and hosts file, as c-ares reads them.

    ``await resolve(host, port, family=socket.AF_UNSPEC)`` returns ``[(family, sockaddr)]`` —
    ``sockaddr`` is ``(ip, port)`` or ``(ip, port, flowinfo, scope_id)`` with ``ip`` a str —
    as tornado's ``DefaultLoopResolver`` (``socket.getaddrinfo(host, port, family,
    SOCK_STREAM)``) gives them: the shaping is :func:`pycares_ng.blocking.getaddrinfo`'s,
    awaited on the IOLoop instead of blocking. So addresses come in c-ares' RFC 6724 order (as
    glibc sorts), IPv4 *and* IPv6 for ``AF_UNSPEC``; what the C library reads as an address
    (``127.1``, ``0x7f.1``, IPv6 literals) is answered without a lookup; a name glibc would not
    send (``"bad name.test"``) fails with ``EAI_NONAME``; and hosts-file names follow glibc's
    rules (under Debian's default ``/etc/hosts``, ``ip6-localhost`` is 127.0.0.1 for
    ``AF_INET``). A failure raises :class:`socket.gaierror` (an ``OSError``) with the errno and
    text ``socket.getaddrinfo`` would give: ``EAI_NONAME`` for an unknown name, ``EAI_NODATA``
    for a name without an address of that family, ``EAI_AGAIN`` when no server answered (a
    :class:`pycares_ng.blocking.GaiTimeoutError`, also a ``TimeoutError``, after the channel's
    timeouts) or when the resolver is closed under a pending request. One deliberate difference
    from ``DefaultLoopResolver``: a name the IDNA codec refuses (a label over 63 octets) raises
    ``gaierror(EAI_NONAME)``, as tornado's Resolver contract (an ``OSError``) asks, not the
    codec's ``UnicodeError``.

    One channel per asyncio loop the resolver is used on (made on its first ``resolve()``
    there), so it can be made before the IOLoop runs. ``close()`` closes them all; a
    ``resolve()`` after ``close()`` raises RuntimeError.
    """

    def initialize(self, **channel_options: Any) -> None:
        check_channel_options("TornadoResolver()", channel_options)
        self._options: Dict[str, Any] = channel_options
        self._resolvers: Dict[asyncio.AbstractEventLoop, Resolver] = {}
        self._closed = False

    @property
    def options(self) -> Dict[str, Any]:
        """The Channel options (a :class:`pycares_ng.shaping.Source`)."""
        return self._options

    def _resolver(self) -> Resolver:
        loop = asyncio.get_running_loop()
        resolver = self._resolvers.get(loop)
        if resolver is None:
            if self._closed:
                raise RuntimeError("the TornadoResolver is closed")
            for old_loop in [old for old in self._resolvers if old.is_closed()]:
                self._resolvers.pop(old_loop).close()  # its loop is gone: free the channel
            resolver = Resolver(io_loop=tornado.ioloop.IOLoop.current(), **self._options)
            self._resolvers[loop] = resolver
        return resolver

    async def resolve(self, host: str, port: int,
                      family: socket.AddressFamily = socket.AF_UNSPEC) -> List[Tuple[int, Any]]:
        resolver = self._resolver()
        # The socket-shaped getaddrinfo of the blocking helpers, awaited: the same numeric rules
        # (127.1, 0x7f.1 are addresses), name checks ("bad name.test" is EAI_NONAME, never
        # sent) and hosts-file rules as socket.getaddrinfo (DefaultLoopResolver).
        try:
            plan = shaping.getaddrinfo_plan(self, host, port, family, socket.SOCK_STREAM, 0, 0)
            infos = plan if isinstance(plan, list) else await shaping.run_steps_async(plan, resolver)
        except UnicodeError:
            # socket (and so DefaultLoopResolver) raises the IDNA codec's UnicodeError for a
            # str name it cannot encode (a label over 63 octets …); tornado's contract is an
            # OSError, and for such a name glibc says EAI_NONAME.
            if not _idna_refuses(host):
                raise
            raise shaping.make_gaierror(socket.EAI_NONAME) from None
        return [(fam, address) for fam, _, _, _, address in infos]

    def close(self) -> None:
        """Close every channel: pending resolves fail with ``gaierror(EAI_AGAIN)``. Idempotent."""
        self._closed = True
        resolvers, self._resolvers = self._resolvers, {}
        try:
            running: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, resolver in resolvers.items():
            if loop is running or loop.is_closed() or not loop.is_running():
                resolver.close()
            else:  # running in another thread: close it there
                loop.call_soon_threadsafe(resolver.close)
