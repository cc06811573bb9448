"""Blocking DNS helpers shaped like the :mod:`socket` module's, resolved by c-ares.

``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``, ``gethostbyaddr`` and ``getnameinfo``
take the arguments of their :mod:`socket` namesakes and return what those return, with the same
types (``socket.AddressFamily`` / ``socket.SocketKind`` members, ``str`` addresses) and the same
exceptions (:class:`socket.gaierror` / :class:`socket.herror` with the C library's ``errno``
values and messages). ``query`` is one DNS query, answered as :meth:`pycares_ng.Channel.query`
answers it. Every helper also takes a keyword-only ``timeout`` (seconds) that bounds the whole
call.

What is resolved where:

* Names go to c-ares (hosts file, then DNS, as the ``lookups`` option says), through a select
  backend resolver (:mod:`pycares_ng.backends.select`: ``selectors``/epoll, so descriptors above
  1,024 are fine). Each thread has its own resolver, made on first use; :func:`configure` sets
  the Channel options they are made with (default: the system configuration).
* Names and addresses of the hosts file get glibc's answers where c-ares' differ (the
  "hosts-file names" section below): with Debian's default file, an IPv4 lookup reads its
  ``::1 localhost ip6-localhost ip6-loopback`` line as 127.0.0.1, as glibc does.
* What involves no name lookup at all is left to the C library, which is what makes the
  answers *identical* to :mod:`socket`'s: numeric addresses (always asked with
  ``AI_NUMERICHOST`` / ``NI_NUMERICHOST``, which forbid any lookup), ``host=None``, service
  names and ports, socket type and protocol expansion, flag and family checks, and
  ``AI_ADDRCONFIG`` (which addresses this machine has).

Error mapping (c-ares code → ``gaierror`` errno / ``herror`` h_errno):

* ``ENOTFOUND`` (NXDOMAIN), ``ENONAME``, ``EBADNAME`` → ``EAI_NONAME`` / 1 ``HOST_NOT_FOUND``
* ``ENODATA`` (no address of that family) → ``EAI_NODATA`` / 4 ``NO_DATA``
* ``ETIMEOUT``, ``ESERVFAIL``, ``EREFUSED``, ``ECONNREFUSED``, ``ENOSERVER``, ``ECANCELLED``,
  ``EDESTRUCTION`` → ``EAI_AGAIN`` / 2 ``TRY_AGAIN``
* ``ESERVICE`` → ``EAI_SERVICE``; ``EBADFAMILY`` → ``EAI_FAMILY``; ``EBADFLAGS``,
  ``EBADHINTS`` → ``EAI_BADFLAGS``; ``ENOMEM`` → ``EAI_MEMORY`` (all 3 ``NO_RECOVERY``)
* anything else (``EFORMERR``, ``ENOTIMP``, ``EBADRESP`` …) → ``EAI_FAIL`` / 3 ``NO_RECOVERY``

This is what glibc reports for the same DNS replies (checked side by side with
``socket.getaddrinfo`` against the same server). As in :mod:`socket`, ``gethostbyname``,
``gethostbyname_ex`` and ``getnameinfo`` raise :class:`socket.gaierror` (CPython resolves the
name with ``getaddrinfo`` first); only ``gethostbyaddr``'s reverse lookup raises
:class:`socket.herror`. ``getnameinfo`` falls back to the numeric address when the reverse
lookup finds nothing (``EAI_NONAME`` with ``NI_NAMEREQD``) but raises ``EAI_AGAIN`` when it
could not find out. Messages are the C library's ``gai_strerror`` / ``hstrerror`` texts.

Timeouts: ``socket.getaddrinfo`` itself has no timeout; when the system resolver gives up it
raises ``gaierror(EAI_AGAIN, 'Temporary failure in name resolution')``. The helpers raise the
same, as an instance of :class:`GaiTimeoutError` — a subclass of *both*
:class:`socket.gaierror` and :class:`TimeoutError` (= ``socket.timeout``) — whether the
``timeout`` argument ran out or c-ares gave up (``ARES_ETIMEOUT``). So code written for
:mod:`socket` (``except socket.gaierror`` / ``except OSError``) keeps working, and code that
wants to tell a timeout apart can ``except TimeoutError``. Likewise :class:`HostTimeoutError`
(``herror`` 2 ``TRY_AGAIN`` + :class:`TimeoutError`) from ``gethostbyaddr``, and
:class:`QueryTimeoutError` (:class:`~pycares_ng.AresError` ``ARES_ETIMEOUT`` +
:class:`TimeoutError`) from ``query``. When the ``timeout`` argument runs out, the request is
cancelled; the thread's resolver stays usable.
"""
from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _core
from . import shaping as _shaping
from ._core import AresError
# The socket shapes live in pycares_ng.shaping; these names are kept here, where they were.
from .shaping import (AddrInfo, GaiTimeoutError, Host, HostTimeoutError, Port, QueryTimeoutError, SockAddr,
                      make_gaierror as _gaierror, make_herror as _herror)

if TYPE_CHECKING:  # pragma: no cover
    from .backends.select import Resolver as SelectResolver

__all__ = [
    "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getnameinfo", "query",
    "configure", "GaiTimeoutError", "HostTimeoutError", "QueryTimeoutError", "AddrInfo", "Host", "Port", "SockAddr",
]

# -- the per-thread resolvers ------------------------------------------------------------------------

_config_lock = threading.Lock()
_options: Dict[str, Any] = {}
_generation = 0
_local = threading.local()


class _Slot(_shaping.Resolvers):
    """One thread's resolvers; closed when the thread ends or the configuration changes."""

    __slots__ = ("generation", "pid")

    def __init__(self, options: Dict[str, Any], generation: int) -> None:
        from .backends.select import Resolver

        super().__init__(Resolver, options)
        self.generation = generation
        self.pid = os.getpid()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown, or the channel is already gone
            pass


def configure(**channel_options: Any) -> None:
    """Set the :class:`~pycares_ng.Channel` options of the resolvers the helpers use.

    ``configure(servers=["127.0.0.1:5353"], timeout=1.0, tries=2)``, ``configure(lookups="f")``,
    ``configure(resolvconf_path="/path/resolv.conf")``…; ``configure()`` goes back to the
    system configuration. The options replace the previous ones (they are not merged) and are
    checked at once (a Channel is made with them and closed). Every thread picks them up at its
    next call; a call already running finishes with the old ones.
    """
    from .backends.base import check_channel_options

    check_channel_options("pycares_ng.blocking.configure()", channel_options)
    if channel_options:
        _core.Channel(**channel_options).close()
    global _options, _generation
    with _config_lock:
        _options = dict(channel_options)
        _generation += 1


def _slot() -> _Slot:
    """This thread's resolvers (new ones after configure() or in a forked child)."""
    slot: Optional[_Slot] = getattr(_local, "slot", None)
    if slot is None or slot.generation != _generation or slot.pid != os.getpid():
        with _config_lock:
            options, generation = dict(_options), _generation
        _local.slot = slot = _Slot(options, generation)  # the old one closes
    return slot


def _resolver() -> "SelectResolver":
    """This thread's resolver."""
    return _slot().resolver  # type: ignore[no-any-return]


def _check_timeout(timeout: Optional[float]) -> Optional[float]:
    if timeout is None:
        return None
    timeout = float(timeout)
    if not timeout >= 0.0:  # also NaN
        raise ValueError("timeout must be None or a number >= 0")
    return timeout


def _resolve(submit: Callable[["SelectResolver"], Any], timeout: Optional[float],
             resolver: Optional["SelectResolver"] = None) -> Any:
    """Submit one request on this thread's resolver and run the loop until it is answered.
    Raises AresError, or the builtin TimeoutError when ``timeout`` ran out (request abandoned)."""
    r = resolver if resolver is not None else _resolver()
    return r.wait(submit(r), timeout)


class _ThisThread:
    """The calling thread's resolvers, as a :class:`pycares_ng.shaping.BlockingSource` — looked
    up when a lookup needs them, so what needs none (numeric hosts …) makes no channel."""

    __slots__ = ()

    @property
    def options(self) -> Mapping[str, Any]:
        return _slot().options

    @property
    def resolver(self) -> "SelectResolver":
        return _slot().resolver  # type: ignore[no-any-return]

    def files_resolver(self) -> "SelectResolver":
        return _slot().files_resolver()  # type: ignore[no-any-return]


_THIS_THREAD = _ThisThread()


def getaddrinfo(host: Host, port: Port, family: int = 0, type: int = 0, proto: int = 0,
                flags: int = 0, *, timeout: Optional[float] = None) -> List[AddrInfo]:
    """:func:`socket.getaddrinfo`, with names resolved by c-ares.

    Returns the same list of ``(family, type, proto, canonname, sockaddr)`` tuples and raises
    the same :class:`socket.gaierror`; ``flags`` are ``socket.AI_*``. Numeric hosts,
    ``host=None`` and ``AI_NUMERICHOST`` never reach the network. ``timeout`` (seconds) bounds
    the call: :class:`GaiTimeoutError` after it.
    """
    return _shaping.getaddrinfo(_THIS_THREAD, host, port, family, type, proto, flags, _check_timeout(timeout))


def gethostbyname(hostname: Union[str, bytes], *, timeout: Optional[float] = None) -> str:
    """:func:`socket.gethostbyname`: the first IPv4 address of ``hostname``, as a string."""
    return _shaping.gethostbyname(_THIS_THREAD, hostname, _check_timeout(timeout))


def gethostbyname_ex(hostname: Union[str, bytes], *, timeout: Optional[float] = None
                     ) -> Tuple[str, List[str], List[str]]:
    """:func:`socket.gethostbyname_ex`: ``(canonical name, aliases, IPv4 addresses)``.

    The aliases are the names met on the way (CNAMEs, or the hosts-file line's other names);
    the addresses are in the order of the answer, as the C library gives them."""
    return _shaping.gethostbyname_ex(_THIS_THREAD, hostname, _check_timeout(timeout))


def gethostbyaddr(ip_address: Union[str, bytes], *, timeout: Optional[float] = None
                  ) -> Tuple[str, List[str], List[str]]:
    """:func:`socket.gethostbyaddr`: ``(name, aliases, addresses)`` for an address (a host name
    is looked up first, as socket does). A failed reverse lookup raises :class:`socket.herror`."""
    return _shaping.gethostbyaddr(_THIS_THREAD, ip_address, _check_timeout(timeout))


def getnameinfo(sockaddr: Tuple[Any, ...], flags: int, *, timeout: Optional[float] = None
                ) -> Tuple[str, str]:
    """:func:`socket.getnameinfo`: ``(host, port)`` for ``(ip, port[, flowinfo, scope_id])``.

    ``flags`` are ``socket.NI_*``. The host is found by c-ares' reverse lookup (hosts file, then
    DNS); the service name and every argument check are the C library's."""
    return _shaping.getnameinfo(_THIS_THREAD, sockaddr, flags, _check_timeout(timeout))


# -- query -----------------------------------------------------------------------------------------

def query(name: Union[str, bytes], qtype: Union[int, str], *, timeout: Optional[float] = None,
          servers: Optional[Iterable[Union[str, bytes]]] = None, qclass: Optional[int] = None) -> Any:
    """One DNS query: what :meth:`pycares_ng.Channel.query` answers (a list of results, or one
    result for CNAME, PTR and SOA); :class:`~pycares_ng.AresError` on failure.

    ``qtype`` is a ``QUERY_TYPE_*`` constant or its name (``"MX"``). ``servers`` asks these
    servers instead of the configured ones (a one-off channel, closed afterwards). ``timeout``
    bounds the call: :class:`QueryTimeoutError` (``ARES_ETIMEOUT``) after it.
    """
    timeout = _check_timeout(timeout)
    own = None
    if servers is not None:
        from .backends.select import Resolver

        with _config_lock:
            options = dict(_options)
        options["servers"] = [s.decode() if isinstance(s, bytes) else s for s in servers]
        own = Resolver(**options)
    try:
        return _resolve(lambda r: r.query(name, qtype, qclass), timeout, own)
    except AresError as exc:
        if exc.args[0] == _core.ARES_ETIMEOUT and not isinstance(exc, QueryTimeoutError):
            raise QueryTimeoutError(*exc.args) from None
        raise
    except TimeoutError:
        code = _core.ARES_ETIMEOUT
        raise QueryTimeoutError(code, _core.strerror(code)) from None
    finally:
        if own is not None:
            own.close()
