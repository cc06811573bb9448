"""pycares_ng.v5: the pycares 5.x API over pycares_ng's core.

``import pycares_ng.v5 as pycares`` keeps pycares-5 code (aiodns 4, aiohttp's AsyncResolver)
working: keyword-only arguments, ``DNSResult``/``DNSRecord`` results with typed record data, an
event thread whenever no ``sock_state_cb`` is given, ``Channel.wait()``. With pycares_ng's
guarantees: every method thread-safe, every accepted request called back exactly once, real TTLs,
on c-ares 1.18 as on 1.34. ``pycares_ng`` itself stays the pycares 4 face (docs/faces.rst).
"""
import sys
from socket import AddressFamily
from threading import get_ident
from typing import Any, Callable, Iterable, List, Optional, Tuple, Union

from .. import _core, errno
from .._install import install_as_pycares as _install_as_pycares
from . import utils
from .._core import (
    ARES_FLAG_EDNS, ARES_FLAG_IGNTC, ARES_FLAG_NOALIASES, ARES_FLAG_NOCHECKRESP, ARES_FLAG_NORECURSE,
    ARES_FLAG_NOSEARCH, ARES_FLAG_NO_DFLT_SVR, ARES_FLAG_PRIMARY, ARES_FLAG_STAYOPEN, ARES_FLAG_USEVC,
    ARES_NI_DCCP, ARES_NI_DGRAM, ARES_NI_IDN, ARES_NI_IDN_ALLOW_UNASSIGNED, ARES_NI_IDN_USE_STD3_ASCII_RULES,
    ARES_NI_LOOKUPHOST, ARES_NI_LOOKUPSERVICE, ARES_NI_NAMEREQD, ARES_NI_NOFQDN, ARES_NI_NUMERICHOST,
    ARES_NI_NUMERICSCOPE, ARES_NI_NUMERICSERV, ARES_NI_SCTP, ARES_NI_TCP, ARES_NI_UDP, ARES_SOCKET_BAD,
    ARES_VERSION, QUERY_CLASS_ANY, QUERY_CLASS_CHAOS, QUERY_CLASS_HS, QUERY_CLASS_IN, QUERY_CLASS_NONE,
    QUERY_TYPE_A, QUERY_TYPE_AAAA, QUERY_TYPE_ANY, QUERY_TYPE_CAA, QUERY_TYPE_CNAME, QUERY_TYPE_DNSKEY,
    QUERY_TYPE_DS, QUERY_TYPE_HTTPS, QUERY_TYPE_MX, QUERY_TYPE_NAPTR, QUERY_TYPE_NS, QUERY_TYPE_PTR,
    QUERY_TYPE_SOA, QUERY_TYPE_SRV, QUERY_TYPE_SSHFP, QUERY_TYPE_SVCB, QUERY_TYPE_TLSA, QUERY_TYPE_TXT,
    QUERY_TYPE_URI, AresError,
)
from ._records import (
    AAAARecordData, AddrInfoCname, AddrInfoNode, AddrInfoResult, ARecordData, CAARecordData, CNAMERecordData,
    DNSKEYRecordData, DNSRecord, DNSResult, DSRecordData, HostResult, HTTPSRecordData, MXRecordData,
    NameInfoResult, NAPTRRecordData, NSRecordData, PTRRecordData, RecordData, SOARecordData, SRVRecordData,
    SSHFPRecordData, SVCBRecordData, TLSARecordData, TXTRecordData, URIRecordData,
)
from .utils import ascii_bytes, maybe_str, parse_name

__version__ = "0.1.0"

IP4 = Tuple[str, int]
IP6 = Tuple[str, int, int, int]
Text = Union[str, bytes]

_query_dns = _core.Channel.query_dns
_search_dns = _core.Channel.search_dns
_gethostbyaddr = _core.Channel.gethostbyaddr
_getaddrinfo = _core.Channel.getaddrinfo
_getnameinfo = _core.Channel.getnameinfo
_servers = _core.Channel.servers
_servers_ports = _core.Channel._servers_ports
_AF_INET6 = int(AddressFamily.AF_INET6)


class _Removed:
    """A pycares 4 method that pycares 5 no longer has: hasattr() is False, a call says why."""

    def __init__(self, advice: str) -> None:
        self.advice = advice

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, objtype: Optional[type] = None) -> Any:
        raise AttributeError(f"pycares 5 has no Channel.{self.name}(): {self.advice}")


class Channel(_core.Channel):
    """A c-ares channel with pycares 5's API.

    Without ``sock_state_cb`` the channel runs its own event thread (as pycares 5 does) and
    callbacks run on that thread; with one, the caller drives the sockets it reports.
    """

    gethostbyname = _Removed("use getaddrinfo()")
    getsock = _Removed("use sock_state_cb, or leave it out for the event thread")
    destroy = _Removed("use close()")
    query_dns = _Removed("query() gives the DNSResult")
    search_dns = _Removed("search() gives the DNSResult")

    def __init__(self, *, flags: Optional[int] = None, timeout: Optional[float] = None,
                 tries: Optional[int] = None, ndots: Optional[int] = None, tcp_port: Optional[int] = None,
                 udp_port: Optional[int] = None, servers: Optional[Iterable[Text]] = None,
                 domains: Optional[Iterable[Text]] = None, lookups: Optional[Text] = None,
                 sock_state_cb: Optional[Callable[[int, bool, bool], None]] = None,
                 socket_send_buffer_size: Optional[int] = None, socket_receive_buffer_size: Optional[int] = None,
                 rotate: bool = False, local_ip: Optional[Text] = None, local_dev: Optional[Text] = None,
                 resolvconf_path: Optional[Text] = None, qcache_max_ttl: Optional[int] = None) -> None:
        if sock_state_cb and not callable(sock_state_cb):
            raise TypeError("sock_state_cb is not callable")
        # pycares 5 takes an empty (falsy) value of these as "not given"
        self._ports = (udp_port, tcp_port)
        try:
            super().__init__(flags=flags, timeout=timeout, tries=tries, ndots=ndots, tcp_port=tcp_port,
                             udp_port=udp_port, servers=servers or None, domains=domains or None,
                             lookups=lookups or None, sock_state_cb=sock_state_cb or None,
                             socket_send_buffer_size=socket_send_buffer_size,
                             socket_receive_buffer_size=socket_receive_buffer_size, rotate=rotate,
                             local_ip=local_ip or None, local_dev=local_dev or None,
                             resolvconf_path=resolvconf_path, event_thread=not sock_state_cb,
                             qcache_max_ttl=qcache_max_ttl, _face=5)
        except ValueError as e:
            if servers and "server" in str(e):
                raise _bad_servers(e) from e
            raise

    @property
    def servers(self) -> List[str]:
        """The servers as c-ares 1.34 lists them: ``ip:port``, ``[ipv6]:port``, or a
        ``dns://ip:port?tcpport=N`` URI when the TCP port differs."""
        udp_default, tcp_default = (p or 53 for p in self._ports)
        out = []
        for ip, family, udp, tcp in _servers_ports(self):
            udp, tcp = udp or udp_default, tcp or tcp_default
            host = f"[{ip}]" if family == _AF_INET6 else ip
            out.append(f"{host}:{udp}" if udp == tcp else f"dns://{host}:{udp}?tcpport={tcp}")
        return out

    @servers.setter
    def servers(self, servers: Iterable[Text]) -> None:
        try:
            _servers.__set__(self, servers)  # type: ignore[attr-defined]  # a C getset descriptor
        except ValueError as e:
            raise _bad_servers(e) from e

    def query(self, name: Text, query_type: int, *, query_class: int = QUERY_CLASS_IN,  # type: ignore[override]  # pycares 5's signature
              callback: Callable[[Optional[DNSResult], Optional[int]], None]) -> None:
        """One DNS query; ``callback(DNSResult, None)`` or ``callback(None, errno)``.

        As in pycares 5 (``ares_query_dnsrec``), a request that fails at once (a name over 253
        octets, a bad label) calls back with the error inside this call and then raises
        ``AresError(errno, message)``."""
        _submit_raising(_query_dns, self, name, query_type, query_class, callback)

    def search(self, name: Text, query_type: int, *, query_class: int = QUERY_CLASS_IN,  # type: ignore[override]  # pycares 5's signature
               callback: Callable[[Optional[DNSResult], Optional[int]], None]) -> None:
        """query() through the search domains and ndots rules."""
        _submit_raising(_search_dns, self, name, query_type, query_class, callback)

    def gethostbyaddr(self, addr: Text, *, callback: Callable[[Optional[HostResult], Optional[int]], None]) -> None:  # type: ignore[override]  # pycares 5's signature
        """Reverse lookup of an IPv4 or IPv6 address."""
        _gethostbyaddr(self, addr, callback)

    def getaddrinfo(self, host: Text, port: Union[int, Text, None], *, family: int = 0, type: int = 0,  # type: ignore[override]  # pycares 5's signature
                    proto: int = 0, flags: int = 0,
                    callback: Callable[[Optional[AddrInfoResult], Optional[int]], None]) -> None:
        """Addresses of a host name (c-ares' getaddrinfo)."""
        _getaddrinfo(self, host, port, callback, family, type, proto, flags)

    def getnameinfo(self, address: Union[IP4, IP6], flags: int, *,  # type: ignore[override]  # pycares 5's signature
                    callback: Callable[[Optional[NameInfoResult], Optional[int]], None]) -> None:
        """Name and service of a socket address."""
        _getnameinfo(self, address, flags, callback)


def install_as_pycares() -> None:
    """Make ``import pycares`` (and ``pycares.errno``, ``pycares.utils``) give this face, so that
    aiodns 4 and aiohttp's ``AsyncResolver`` run on pycares_ng. Call it before anything imports
    pycares; RuntimeError if a real pycares was imported already."""
    _install_as_pycares(sys.modules[__name__])


# What ares_query_dnsrec()/ares_search_dnsrec() return besides calling back (an answer from
# c-ares' query cache, NXDOMAIN included, is called back inside the call but returns success).
_SUBMIT_ERRORS = frozenset((errno.ARES_EBADNAME, errno.ARES_ENOSERVER, errno.ARES_ENOMEM, errno.ARES_EBADQUERY,
                            errno.ARES_EBADFLAGS))


def _submit_raising(submit: Callable[..., None], channel: Channel, name: Text, query_type: int, query_class: int,
                    callback: Callable[[Any, Optional[int]], None]) -> None:
    """submit(...), raising AresError as well when the request failed inside the call (pycares 5
    calls back and raises then: ares_query_dnsrec/ares_search_dnsrec return the status)."""
    if not callable(callback):
        raise TypeError("a callable is required")
    if query_class is None:
        raise ValueError("invalid query class specified")
    caller = get_ident()
    state: List[Any] = [True, None]  # [inside the call, errno of a failure called back inside it]

    def called_back(result: Any, status: Optional[int]) -> None:
        if state[0] and status in _SUBMIT_ERRORS and get_ident() == caller:
            state[1] = status
        callback(result, status)
    try:
        submit(channel, name, query_type, called_back, query_class)
    finally:
        state[0] = False
    if state[1] is not None:
        raise AresError(state[1], errno.strerror(state[1]))


def _bad_servers(e: Exception) -> AresError:
    # pycares 5 (ares_set_servers_csv) reports a server it cannot parse as ARES_EBADSTR, with
    # strerror's words; which server and why is in the chained exception
    return AresError(errno.ARES_EBADSTR, errno.strerror(errno.ARES_EBADSTR))


__all__ = (
    "ARES_FLAG_USEVC", "ARES_FLAG_PRIMARY", "ARES_FLAG_IGNTC", "ARES_FLAG_NORECURSE", "ARES_FLAG_STAYOPEN",
    "ARES_FLAG_NOSEARCH", "ARES_FLAG_NOALIASES", "ARES_FLAG_NOCHECKRESP", "ARES_FLAG_EDNS", "ARES_FLAG_NO_DFLT_SVR",
    "ARES_NI_NOFQDN", "ARES_NI_NUMERICHOST", "ARES_NI_NAMEREQD", "ARES_NI_NUMERICSERV", "ARES_NI_DGRAM",
    "ARES_NI_TCP", "ARES_NI_UDP", "ARES_NI_SCTP", "ARES_NI_DCCP", "ARES_NI_NUMERICSCOPE", "ARES_NI_LOOKUPHOST",
    "ARES_NI_LOOKUPSERVICE", "ARES_NI_IDN", "ARES_NI_IDN_ALLOW_UNASSIGNED", "ARES_NI_IDN_USE_STD3_ASCII_RULES",
    "ARES_SOCKET_BAD",
    "QUERY_TYPE_A", "QUERY_TYPE_AAAA", "QUERY_TYPE_ANY", "QUERY_TYPE_CAA", "QUERY_TYPE_CNAME", "QUERY_TYPE_HTTPS",
    "QUERY_TYPE_MX", "QUERY_TYPE_NAPTR", "QUERY_TYPE_NS", "QUERY_TYPE_PTR", "QUERY_TYPE_SOA", "QUERY_TYPE_SRV",
    "QUERY_TYPE_TLSA", "QUERY_TYPE_TXT", "QUERY_TYPE_URI", "QUERY_TYPE_SVCB", "QUERY_TYPE_DS", "QUERY_TYPE_DNSKEY",
    "QUERY_TYPE_SSHFP",
    "QUERY_CLASS_IN", "QUERY_CLASS_CHAOS", "QUERY_CLASS_HS", "QUERY_CLASS_NONE", "QUERY_CLASS_ANY",
    "ARES_VERSION", "AresError", "Channel", "errno", "utils", "__version__",
    "DNSResult", "DNSRecord", "RecordData", "ARecordData", "AAAARecordData", "MXRecordData", "TXTRecordData",
    "CAARecordData", "CNAMERecordData", "HTTPSRecordData", "NAPTRRecordData", "NSRecordData", "PTRRecordData",
    "SOARecordData", "SRVRecordData", "TLSARecordData", "URIRecordData", "SVCBRecordData", "DSRecordData",
    "DNSKEYRecordData", "SSHFPRecordData",
    "HostResult", "NameInfoResult", "AddrInfoResult", "AddrInfoNode", "AddrInfoCname",
    "ascii_bytes", "maybe_str", "parse_name", "install_as_pycares",
)
