"""The socket module's shapes for c-ares answers: one module for the blocking helpers
(:mod:`pycares_ng.blocking`), gevent's resolver and tornado's.

* Error mapping: c-ares codes to :class:`socket.gaierror` / :class:`socket.herror` with the C
  library's errno values and ``gai_strerror`` / ``hstrerror`` texts (:func:`gaierror_from`,
  :func:`herror_from`, :func:`make_gaierror`, :func:`make_herror`), and the timeout classes
  :class:`GaiTimeoutError`, :class:`HostTimeoutError`, :class:`QueryTimeoutError`.
* The C library where no name is looked up (numeric hosts, services, flags, ``AI_ADDRCONFIG``),
  glibc's name rules (``res_hnok``) and its hosts-file rules.
* The socket-shaped lookups: :func:`getaddrinfo`, :func:`gethostbyname`,
  :func:`gethostbyname_ex`, :func:`gethostbyaddr`, :func:`getnameinfo`, each on a
  :class:`BlockingSource` — the resolvers to ask, whose ``wait()`` blocks the caller (a thread,
  or only a greenlet) — and :func:`getaddrinfo_plan` / :func:`run_steps_async` for a loop that
  awaits the same steps instead.

See :mod:`pycares_ng.blocking` for what each function answers and why.
"""
from __future__ import annotations

import _socket
import functools
import os
import re
import socket
import sys
import time
from typing import (Any, Callable, Dict, Generator, Iterable, List, Mapping, Optional, Protocol, Tuple, Union,
                    cast)

from . import _core
from ._core import AresError
from .utils import reverse_address

__all__ = [
    "Source", "BlockingSource", "WaitingResolver", "Resolvers", "GaiTimeoutError", "HostTimeoutError",
    "QueryTimeoutError",
    "make_gaierror", "make_herror", "gaierror_from", "herror_from", "host_arg", "is_numeric", "to_text",
    "hosts_lines", "hosts_inet", "forward", "getaddrinfo", "getaddrinfo_plan", "gethostbyname",
    "gethostbyname_ex", "gethostbyaddr", "getnameinfo", "run_steps", "run_steps_async", "Steps", "Submit",
    "AddrInfo", "Host", "Port", "SockAddr",
]

Host = Union[str, bytes, None]
Port = Union[int, str, bytes, None]
SockAddr = Union[Tuple[str, int], Tuple[str, int, int, int], Tuple[int, bytes]]  # as typeshed
AddrInfo = Tuple[socket.AddressFamily, socket.SocketKind, int, str, SockAddr]


# -- what the lookups run on -------------------------------------------------------------------------

class Source(Protocol):
    """What the lookup steps need of the resolver they are driven on: its Channel options (the
    ``lookups`` order decides where the hosts file's glibc rules apply)."""

    @property
    def options(self) -> Mapping[str, Any]: ...


class WaitingResolver(Protocol):
    """A backend Resolver whose ``wait()`` blocks the caller (select, gevent)."""

    def query(self, name: Union[str, bytes], qtype: Union[int, str], qclass: Union[int, str, None] = None) -> Any: ...

    def gethostbyaddr(self, addr: Union[str, bytes]) -> Any: ...

    def getaddrinfo(self, host: Union[str, bytes, None], port: Union[int, str, bytes, None] = None,
                    family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any: ...

    def wait(self, future: Any, timeout: Optional[float] = None) -> Any: ...


class BlockingSource(Source, Protocol):
    """The resolvers a blocking lookup asks: ``resolver`` and, for reverse lookups,
    ``files_resolver()`` (the hosts file only: c-ares' own gethostbyaddr() reports every DNS
    failure as "not found", so DNS is asked for PTR records separately)."""

    @property
    def resolver(self) -> WaitingResolver: ...

    def files_resolver(self) -> WaitingResolver: ...


class Resolvers:
    """A :class:`BlockingSource`: ``resolver``, made at once by ``make(**options)``, and the
    hosts-file resolver, made by ``make(**options, lookups="f")`` on the first reverse lookup."""

    __slots__ = ("make", "options", "resolver", "files")

    def __init__(self, make: Callable[..., Any], options: Mapping[str, Any]) -> None:
        self.make = make
        self.options = options
        self.resolver = make(**options)
        self.files: Optional[Any] = None

    def files_resolver(self) -> Any:
        if self.files is None:
            self.files = self.make(**dict(self.options, lookups="f"))
        return self.files

    def close(self) -> None:
        """Close both resolvers (their lookups in flight fail)."""
        for resolver in (self.resolver, self.files):
            if resolver is not None:
                resolver.close()


def _wait_for(submit: Callable[[WaitingResolver], Any], timeout: Optional[float], resolver: WaitingResolver) -> Any:
    """Submit one request on ``resolver`` and wait for it: AresError, or the builtin
    TimeoutError when ``timeout`` ran out (that request abandoned)."""
    return resolver.wait(submit(resolver), timeout)


# -- exceptions ------------------------------------------------------------------------------------

if sys.version_info >= (3, 10):  # socket.timeout is TimeoutError
    class GaiTimeoutError(socket.gaierror, TimeoutError):
        """``gaierror(EAI_AGAIN, ...)`` because no answer came in time; also a TimeoutError."""

    class HostTimeoutError(socket.herror, TimeoutError):
        """``herror(2, ...)`` (TRY_AGAIN) because no answer came in time; also a TimeoutError."""

    class QueryTimeoutError(AresError, TimeoutError):
        """``AresError(ARES_ETIMEOUT, ...)`` from :func:`query`; also a TimeoutError."""
else:  # pragma: no cover - Python 3.9: socket.timeout is its own OSError subclass
    class GaiTimeoutError(socket.gaierror, socket.timeout, TimeoutError):
        """``gaierror(EAI_AGAIN, ...)`` because no answer came in time; also a TimeoutError."""

    class HostTimeoutError(socket.herror, socket.timeout, TimeoutError):
        """``herror(2, ...)`` (TRY_AGAIN) because no answer came in time; also a TimeoutError."""

    class QueryTimeoutError(AresError, socket.timeout, TimeoutError):
        """``AresError(ARES_ETIMEOUT, ...)`` from :func:`query`; also a TimeoutError."""


_E = _core  # the ARES_E* constants live in the extension module
builtins_type = type  # parameters named ``type`` shadow the builtin in the helpers


def _ares(name: str) -> int:
    return int(getattr(_E, name, -1000))  # -1000: a code this c-ares does not have


_EAI_NODATA = getattr(socket, "EAI_NODATA", socket.EAI_NONAME)  # musl has no EAI_NODATA
_EAI_ADDRFAMILY = getattr(socket, "EAI_ADDRFAMILY", socket.EAI_FAMILY)

#: c-ares codes meaning "could not find out" (the system resolver's TRY_AGAIN / EAI_AGAIN)
_TRY_AGAIN_CODES = frozenset(_ares(n) for n in (
    "ARES_ETIMEOUT", "ARES_ESERVFAIL", "ARES_EREFUSED", "ARES_ECONNREFUSED", "ARES_ENOSERVER",
    "ARES_ECANCELLED", "ARES_EDESTRUCTION"))

_GAI_FROM_ARES: Dict[int, int] = {
    _ares("ARES_ENOTFOUND"): socket.EAI_NONAME,
    _ares("ARES_ENONAME"): socket.EAI_NONAME,
    _ares("ARES_EBADNAME"): socket.EAI_NONAME,
    _ares("ARES_ENODATA"): _EAI_NODATA,
    _ares("ARES_ESERVICE"): socket.EAI_SERVICE,
    _ares("ARES_EBADFAMILY"): socket.EAI_FAMILY,
    _ares("ARES_EBADFLAGS"): socket.EAI_BADFLAGS,
    _ares("ARES_EBADHINTS"): socket.EAI_BADFLAGS,
    _ares("ARES_ENOMEM"): socket.EAI_MEMORY,
    **{code: socket.EAI_AGAIN for code in _TRY_AGAIN_CODES},
}

HOST_NOT_FOUND, TRY_AGAIN, NO_RECOVERY, NO_DATA = 1, 2, 3, 4  # <netdb.h> h_errno values

_H_FROM_ARES: Dict[int, int] = {
    _ares("ARES_ENOTFOUND"): HOST_NOT_FOUND,
    _ares("ARES_ENONAME"): HOST_NOT_FOUND,
    _ares("ARES_EBADNAME"): HOST_NOT_FOUND,
    _ares("ARES_ENODATA"): NO_DATA,
    **{code: TRY_AGAIN for code in _TRY_AGAIN_CODES},
}

#: glibc's texts, used only if the C library's own functions cannot be reached through ctypes
_GAI_TEXT = {
    socket.EAI_BADFLAGS: "Bad value for ai_flags", socket.EAI_NONAME: "Name or service not known",
    socket.EAI_AGAIN: "Temporary failure in name resolution",
    socket.EAI_FAIL: "Non-recoverable failure in name resolution",
    socket.EAI_FAMILY: "ai_family not supported", socket.EAI_SOCKTYPE: "ai_socktype not supported",
    socket.EAI_SERVICE: "Servname not supported for ai_socktype",
    socket.EAI_MEMORY: "Memory allocation failure", _EAI_NODATA: "No address associated with hostname",
    _EAI_ADDRFAMILY: "Address family for hostname not supported",
}
_H_TEXT = {HOST_NOT_FOUND: "Unknown host", TRY_AGAIN: "Host name lookup failure",
           NO_RECOVERY: "Unknown server error", NO_DATA: "No address associated with name"}


@functools.lru_cache(maxsize=None)
def _libc_text(function: str, code: int) -> Optional[str]:
    """``gai_strerror(code)`` / ``hstrerror(code)`` of the C library, as CPython's socket module
    uses them; None if unavailable."""
    try:
        import ctypes

        func = getattr(ctypes.CDLL(None), function)
        func.restype = ctypes.c_char_p
        func.argtypes = [ctypes.c_int]
        text = func(code)
    except Exception:  # no ctypes, no such symbol: the fallback tables
        return None
    return text.decode("utf-8", "replace") if text else None


def make_gaierror(code: int, timed_out: bool = False) -> socket.gaierror:
    text = _libc_text("gai_strerror", code) or _GAI_TEXT.get(code, f"Unknown error {code}")
    return (GaiTimeoutError if timed_out else socket.gaierror)(code, text)


def make_herror(code: int, timed_out: bool = False) -> socket.herror:
    text = _libc_text("hstrerror", code) or _H_TEXT.get(code, "Unknown resolver error")
    return (HostTimeoutError if timed_out else socket.herror)(code, text)


def gaierror_from(exc: AresError) -> socket.gaierror:
    code = exc.args[0]
    return make_gaierror(_GAI_FROM_ARES.get(code, socket.EAI_FAIL), code == _ares("ARES_ETIMEOUT"))


def herror_from(exc: AresError) -> socket.herror:
    code = exc.args[0]
    return make_herror(_H_FROM_ARES.get(code, NO_RECOVERY), code == _ares("ARES_ETIMEOUT"))


# -- the C library's own lookups --------------------------------------------------------------------
# Called through ``_socket``, never ``socket``: gevent's monkey-patching replaces
# socket.getaddrinfo/getnameinfo with functions that come back here (the gevent backend's
# GeventResolver is built on these helpers).

def _c_getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
                   ) -> List[AddrInfo]:
    """socket.getaddrinfo() as CPython defines it (enum members), unpatched."""
    return [(_family(af), _kind(kind), protocol, canonname, sockaddr)
            for af, kind, protocol, canonname, sockaddr in _socket.getaddrinfo(host, port, family, type, proto, flags)]


_c_getnameinfo = _socket.getnameinfo


def _kind(value: int) -> Any:
    try:
        return socket.SocketKind(value)
    except ValueError:
        return value


# -- getaddrinfo ---------------------------------------------------------------------------------

#: what a numeric address can look like: hex digits, x, dots and colons, then maybe %scope
_MAYBE_NUMERIC = re.compile(rb"[0-9A-Fa-fXx.:]+(?:%[!-~]*)?\Z")


def is_numeric(name: bytes) -> bool:
    """Whether the C library takes ``name`` as a numeric address (never resolving it): what
    inet_aton takes with nothing after it (glibc's __inet_aton_exact), or an IPv6 literal with an
    optional ``%scope``."""
    if not _MAYBE_NUMERIC.match(name):  # letters beyond hex digits: a name (the common case)
        return False
    text = name.decode("ascii")
    try:
        socket.inet_aton(text)
        return True
    except OSError:
        pass
    try:
        socket.inet_pton(socket.AF_INET6, text.partition("%")[0])
        return True
    except OSError:
        return False


# socket.AI_* as plain ints: IntFlag arithmetic is slow, and ~ of an IntFlag keeps known bits only
_AI_PASSIVE, _AI_CANONNAME = int(socket.AI_PASSIVE), int(socket.AI_CANONNAME)
_AI_NUMERICHOST, _AI_ADDRCONFIG = int(socket.AI_NUMERICHOST), int(socket.AI_ADDRCONFIG)
_AI_V4MAPPED, _AI_ALL = int(socket.AI_V4MAPPED), int(socket.AI_ALL)

#: flags that do not change which socket types, protocols and ports a service gives
_NOT_SERVICE_FLAGS = _AI_CANONNAME | _AI_ADDRCONFIG | _AI_V4MAPPED | _AI_ALL | _AI_PASSIVE


@functools.lru_cache(maxsize=512)
def _service_entries_cached(port: Port, family: int, type: int, proto: int, flags: int
                            ) -> Tuple[Tuple[socket.SocketKind, int, int], ...]:
    return _service_entries(port, family, type, proto, flags)


def _service_entries(port: Any, family: int, type: int, proto: int, flags: int
                     ) -> Tuple[Tuple[socket.SocketKind, int, int], ...]:
    """(socktype, protocol, port) of each entry the C library makes per address, or its error.

    Asked of the C library with a numeric wildcard host (no lookup), so the service name, the
    socket type / protocol expansion and the flag and family checks are exactly socket's."""
    probe_host = b"::" if family == socket.AF_INET6 else b"0.0.0.0"
    probe_family = socket.AF_INET if family == socket.AF_UNSPEC else family
    entries = _c_getaddrinfo(probe_host, port, probe_family, type, proto,
                                 (flags & ~_NOT_SERVICE_FLAGS) | _AI_NUMERICHOST)
    first = entries[0][4]
    return tuple((kind, protocol, int(sockaddr[1])) for _, kind, protocol, _, sockaddr in entries
                 if sockaddr == first)


def _services(port: Any, family: int, type: int, proto: int, flags: int
              ) -> Tuple[Tuple[socket.SocketKind, int, int], ...]:
    if port is None or builtins_type(port) in (int, str, bytes):
        try:
            return _service_entries_cached(port, family, type, proto, flags)
        except TypeError:  # unhashable or odd argument types: let socket say what is wrong
            pass
    return _service_entries(port, family, type, proto, flags)



def _addrconfig_family(family: int) -> int:
    """The family AI_ADDRCONFIG leaves to look up (the C library decides from this machine's
    addresses, as it would for socket.getaddrinfo); raises EAI_NONAME if there is none."""
    entries = _c_getaddrinfo(None, "0", family, socket.SOCK_STREAM, 0,
                                 _AI_PASSIVE | _AI_ADDRCONFIG)
    families = {entry[0] for entry in entries}
    if family == socket.AF_UNSPEC and len(families) == 1:
        return int(families.pop())
    return family


def _to_bytes(host: Union[str, bytes]) -> bytes:
    return host.encode("idna") if isinstance(host, str) else bytes(host)


def to_text(name: bytes) -> str:
    return name.decode("utf-8", "replace")


def _canonical(name: bytes, cnames: Iterable[Any]) -> Tuple[str, List[str]]:
    """(canonical name, aliases) from c-ares' CNAME list: the target no other entry renames, and
    every alias met in order (a hosts-file entry's aliases or a CNAME chain's names)."""
    cnames = list(cnames)
    if not cnames:
        return to_text(name).rstrip(".") or to_text(name), []
    renamed = {c.alias.lower().rstrip(".") for c in cnames if c.alias}
    canonical = next((c.name for c in cnames if c.name.lower().rstrip(".") not in renamed),
                     cnames[-1].name)
    aliases: List[str] = []
    for c in cnames:
        if c.alias and c.alias not in aliases:
            aliases.append(c.alias)
    return canonical, aliases


_HOST_CHARS = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_")


#: a plain host name (no escapes): the common case of _hnok(), decided by one regex
_PLAIN_HOST_NAME = re.compile(rb"(?!-)[0-9A-Za-z_-]{1,63}(?:\.[0-9A-Za-z_-]{1,63})*\.?\Z")


def _hnok(name: bytes) -> bool:
    """glibc's res_hnok(): whether ``name`` (presentation form, ``\\`` escapes allowed) is a
    host name it would send to DNS — letters, digits, ``-`` and ``_`` in labels of at most 63
    octets, at most 255 octets in all, no empty label, no leading ``-``."""
    if _PLAIN_HOST_NAME.match(name):
        return len(name.rstrip(b".")) <= 253
    if b"\\" not in name:
        return name == b"."
    labels: List[bytes] = []
    label = bytearray()
    i = 0
    while i < len(name):
        c = name[i]
        if c == 0x5C:  # backslash: \X or \DDD
            digits = name[i + 1:i + 4]
            if digits[:1].isdigit():
                if len(digits) < 3 or not digits.isdigit() or int(digits) > 255:
                    return False
                label.append(int(digits))
                i += 4
            elif i + 1 < len(name):
                label.append(name[i + 1])
                i += 2
            else:
                return False
        elif c == 0x2E:  # a dot ends a label; only the root may be empty
            if not label:
                return name == b"."
            labels.append(bytes(label))
            label = bytearray()
            i += 1
        else:
            label.append(c)
            i += 1
    if label:
        labels.append(bytes(label))
    if not labels or any(len(x) > 63 for x in labels) or sum(len(x) + 1 for x in labels) + 1 > 255:
        return False
    return not labels[0].startswith(b"-") and all(_HOST_CHARS.issuperset(x) for x in labels)


def _normal_ip(family: int, ip: Union[str, bytes]) -> str:
    text = ip.decode("ascii") if isinstance(ip, bytes) else ip
    return socket.inet_ntop(family, socket.inet_pton(family, text))


# -- hosts-file names: glibc's per-line rules ------------------------------------------------------
# glibc's nss_files reads the hosts file line by line and c-ares does not, in ways that matter for
# Debian's and Ubuntu's default file ("::1 localhost ip6-localhost ip6-loopback" after
# "127.0.0.1 localhost"); observed with glibc 2.36 and that file bind-mounted over /etc/hosts:
#
# * An IPv4 lookup (gethostbyname(_ex), getaddrinfo AF_INET, the IPv4 half of AF_INET6 with
#   AI_V4MAPPED|AI_ALL, gethostbyaddr of an IPv4 address) reads a ::1 line as 127.0.0.1 and a
#   ::ffff:a.b.c.d line as a.b.c.d, and skips other IPv6 lines. A forward lookup takes every
#   matching line, one address each, repeats kept: "localhost" is 127.0.0.1 twice, and
#   "ip6-localhost" is 127.0.0.1 (c-ares skips those lines, then asks DNS). The name is the first
#   matching line's; the aliases are each line's other names, then its first name when that
#   differs (strcmp). A reverse lookup takes the first line holding the address.
# * Every other lookup takes only lines that list the name (or the address); c-ares >= 1.22
#   merges lines that share a name or an address, so "ip6-localhost" would also get 127.0.0.1
#   for AF_UNSPEC, and 127.0.0.1 the aliases of the ::1 line.
#
# So: the IPv4 lookup of a name that is on a ::1 or ::ffff: line, and the reverse lookup of an
# address in the file, are answered here from the file (nothing sent); in file order, where
# glibc's getaddrinfo sorts by RFC 6724 (the same order for the loopback lines of the default
# file). Other forward lookups of a hosts-file name keep c-ares' answer and order, less any
# address of a line that does not list the name. The file is the one c-ares reads
# ($CARES_HOSTS, else /etc/hosts), parsed again when it changes; forward lookups use it only
# where the hosts file comes before DNS in ``lookups`` (default "fb").

_HostsLine = Tuple[int, bytes, str, Tuple[str, ...]]  # (family, packed address, first name, others)
_HostsIndex = Tuple[Dict[bytes, List[_HostsLine]], Dict[Tuple[int, bytes], _HostsLine]]
_hosts_state: Tuple[Any, _HostsIndex] = (None, ({}, {}))
_LOOPBACK4 = socket.inet_aton("127.0.0.1")
_LOOPBACK6 = socket.inet_pton(socket.AF_INET6, "::1")
_V4MAPPED_PREFIX = bytes(10) + b"\xff\xff"


def _ipv4_of(family: int, packed: bytes) -> Optional[bytes]:
    """The IPv4 address nss_files reads a line as for an IPv4 lookup; None: the line is skipped."""
    if family == socket.AF_INET:
        return packed
    if packed == _LOOPBACK6:
        return _LOOPBACK4
    return packed[12:] if packed[:12] == _V4MAPPED_PREFIX else None


def _read_hosts(path: str) -> _HostsIndex:
    """(name in lower case -> the lines that list it, in file order; (family, packed address) ->
    the first line that has it, IPv4 also from ::1 and ::ffff: lines). Lines as nss_files takes
    them: "#" starts a comment, then an address and names; a bad address skips the line."""
    names: Dict[bytes, List[_HostsLine]] = {}
    addresses: Dict[Tuple[int, bytes], _HostsLine] = {}
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return names, addresses
    for raw in data.split(b"\n"):
        fields = raw.split(b"#", 1)[0].split()
        if len(fields) < 2:
            continue
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                packed = socket.inet_pton(family, fields[0].decode("ascii"))
                break
            except (OSError, UnicodeDecodeError, ValueError):
                continue
        else:
            continue
        line = (int(family), packed, to_text(fields[1]), tuple(to_text(n) for n in fields[2:]))
        for key in {n.lower() for n in fields[1:]}:
            names.setdefault(key, []).append(line)
        addresses.setdefault((int(family), packed), line)
        ipv4 = _ipv4_of(family, packed)
        if family == socket.AF_INET6 and ipv4 is not None:
            addresses.setdefault((int(socket.AF_INET), ipv4), line)
    return names, addresses


def _hosts_file() -> _HostsIndex:
    """The parsed hosts file c-ares reads (one stat() a call; read again when it changed)."""
    global _hosts_state
    path = os.environ.get("CARES_HOSTS") or "/etc/hosts"
    try:
        st = os.stat(path)
        key: Any = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    except OSError:
        key = (path, None)
    seen, index = _hosts_state
    if seen != key:
        index = _read_hosts(path)
        _hosts_state = (key, index)
    return index


def hosts_lines(name: bytes, source: Source) -> List[_HostsLine]:
    """The hosts-file lines that list ``name``; [] where DNS comes before the file."""
    if not (source.options.get("lookups") or "fb").startswith("f"):
        return []
    return _hosts_file()[0].get(name.lower(), [])


def hosts_inet(lines: List[_HostsLine], nosort: bool = True
                ) -> Optional[Tuple[str, List[str], List[Tuple[int, str, int]]]]:
    """glibc's answer to an IPv4 lookup of a name whose hosts-file ``lines`` (hosts_lines())
    include a ::1 or ::ffff:a.b.c.d line: (name, aliases, [(AF_INET, ip, 0)]); else None.
    ``nosort=False`` (getaddrinfo): repeats of an address side by side, as glibc's stable sort
    leaves them."""
    if not any(fam == socket.AF_INET6 and _ipv4_of(fam, packed) for fam, packed, _, _ in lines):
        return None
    canonical = ""
    aliases: List[str] = []
    found: List[Tuple[int, str, int]] = []
    for fam, packed, first, others in lines:
        ipv4 = _ipv4_of(fam, packed)
        if ipv4 is None:
            continue
        if not found:
            canonical, aliases = first, list(others)
        else:
            aliases.extend(others)
            if first != canonical:
                aliases.append(first)
        found.append((int(socket.AF_INET), socket.inet_ntop(socket.AF_INET, ipv4), 0))
    if not nosort:
        rank: Dict[str, int] = {}
        for entry in found:
            rank.setdefault(entry[1], len(rank))
        found.sort(key=lambda entry: rank[entry[1]])
    return canonical, aliases, found


def _hosts_reverse(ip: str) -> Optional[Tuple[str, List[str], List[str]]]:
    """glibc's reverse lookup of ``ip`` (normalized) in the hosts file: (name, aliases, [ip])."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    try:
        line = _hosts_file()[1].get((int(family), socket.inet_pton(family, ip)))
    except OSError:  # not an address nss_files could hold
        return None
    return None if line is None else (line[2], list(line[3]), [ip])


# -- lookups as steps: the same shaping, driven blocking or from an event loop ----------------------
# The socket-shaped lookups that a non-blocking caller needs (getaddrinfo: getaddrinfo_plan()
# gives the answer when no lookup is needed, else the lookup's steps; _forward_steps() under them)
# are written as generators of *steps*: each ``yield`` hands the driver a ``submit(resolver)``
# function that starts one c-ares request on a backend Resolver and returns its future. The
# driver sends the request's result back in, or throws in at the ``yield`` what the *request*
# raised: the Channel's refusal from submit() (ValueError …), its failure (AresError), and the
# builtin TimeoutError of a wait bounded by a ``timeout``. The generator's return value is the
# answer. run_steps() drives steps here, blocking the caller (this thread's select resolver, or a
# gevent resolver, which blocks only the greenlet); the tornado backend awaits the same steps on
# its IOLoop. Whatever else is raised while waiting is the caller's, not the lookup's (a
# gevent.Timeout around the call, GreenletExit, KeyboardInterrupt, a CancelledError, or any
# exception such a Timeout was told to raise): it propagates unchanged and the steps are closed.

#: what a step generator yields: ``submit(resolver) -> future``
Submit = Callable[[Any], Any]
Steps = Generator[Submit, Any, Any]
_Found = Tuple[str, List[str], List[Tuple[int, str, int]]]  # what forward() answers
_AddrInfos = List[AddrInfo]  # (typing subscripts made once: not on every call)


def _submit_step(steps: Steps, submit: Submit, resolver: Any) -> Any:
    """Start the request of a step on ``resolver`` and return its future. What the Channel
    refuses (ValueError …) is thrown into the steps, which say what it means: they answer with
    another step, or raise."""
    while True:
        try:
            return submit(resolver)
        except Exception as exc:  # noqa: BLE001 - refused by the Channel
            submit = steps.throw(exc)


def run_steps(steps: Steps, timeout: Optional[float], source: "BlockingSource") -> Any:
    """Drive ``steps`` to their answer, each request on ``source``'s resolver (None: this
    thread's) waited for with ``timeout``."""
    try:
        submit = next(steps)
    except StopIteration as stop:  # answered without a lookup (the hosts file's glibc rules …)
        return stop.value
    resolver = source.resolver
    try:
        while True:
            future = _submit_step(steps, submit, resolver)
            try:
                result = resolver.wait(future, timeout)
            except AresError as exc:  # the request failed
                submit = steps.throw(exc)
            except TimeoutError as exc:
                if timeout is None:  # not the wait's own timeout: the caller's exception
                    raise
                submit = steps.throw(exc)
            else:
                submit = steps.send(result)
    except StopIteration as stop:
        return stop.value
    finally:
        steps.close()  # interrupted: no step left suspended


def forward(name: bytes, family: int, flags: int, timeout: Optional[float], *, nosort: bool = False,
             source: "BlockingSource") -> Tuple[str, List[str], List[Tuple[int, str, int]]]:
    """Look ``name`` up with c-ares: (canonical name, aliases, [(family, ip, scope_id)]).
    ``flags`` are socket.AI_*: AI_V4MAPPED and AI_ALL are applied here. ``source``: the resolvers
    to ask (default: this thread's). Hosts-file names follow glibc's rules (above)."""
    return cast(_Found, run_steps(_forward_steps(name, family, flags, nosort, source), timeout, source))


def _forward_steps(name: bytes, family: int, flags: int, nosort: bool, source: Source
                   ) -> Generator[Submit, Any, Tuple[str, List[str], List[Tuple[int, str, int]]]]:
    """forward() as steps (see above); ``source`` must have ``options`` unless None."""
    if not _hnok(name):
        raise make_gaierror(socket.EAI_NONAME)  # glibc sends no such name to DNS
    lines = hosts_lines(name, source)
    if family == socket.AF_INET:
        from_file = hosts_inet(lines, nosort)
        if from_file is not None:
            return from_file
    mapped = family == socket.AF_INET6 and bool(flags & _AI_V4MAPPED)
    ares_flags = _core.ARES_AI_CANONNAME | (_core.ARES_AI_NOSORT if nosort else 0)
    ask = socket.AF_UNSPEC if mapped else family
    try:
        result = yield lambda r: r.getaddrinfo(name, None, family=ask, type=socket.SOCK_STREAM, flags=ares_flags)
    except AresError as exc:
        raise gaierror_from(exc) from None
    except ValueError:  # a name c-ares cannot send (over-long, empty label …)
        raise make_gaierror(socket.EAI_NONAME) from None
    except TimeoutError:
        raise make_gaierror(socket.EAI_AGAIN, timed_out=True) from None
    canonical, aliases = _canonical(name, result.cnames)
    found: List[Tuple[int, str, int]] = []
    for node in result.nodes:
        entry = (int(node.family), _normal_ip(node.family, node.addr[0]),
                 node.addr[3] if node.family == socket.AF_INET6 else 0)
        if entry not in found:
            found.append(entry)
    listed = {(fam, socket.inet_ntop(fam, packed)) for fam, packed, _, _ in lines if ask in (0, fam)}
    if listed:  # c-ares answered from the file: only the addresses of lines that list the name
        found = [a for a in found if a[:2] in listed] or found
    if mapped:
        v6 = [a for a in found if a[0] == socket.AF_INET6]
        from_file = hosts_inet(lines, nosort=False) if flags & _AI_ALL else None
        v4: List[Tuple[int, str, int]] = [(int(socket.AF_INET6), "::ffff:" + ip, 0)
                                          for fam, ip, _ in (from_file[2] if from_file else found)
                                          if fam == socket.AF_INET]
        found = v6 + (v4 if (flags & _AI_ALL) or not v6 else [])
        if not found:
            raise make_gaierror(_EAI_NODATA)
    return canonical, aliases, found


def _family(value: int) -> Any:
    try:
        return socket.AddressFamily(value)
    except ValueError:
        return value


def _system(*args: Any) -> List[AddrInfo]:
    """socket.getaddrinfo(), called only where it cannot look a name up."""
    return _c_getaddrinfo(*args)


def getaddrinfo(source: "BlockingSource", host: Host, port: Port, family: int, type: int, proto: int,
                 flags: int, timeout: Optional[float]) -> List[AddrInfo]:
    """:func:`socket.getaddrinfo` on ``source``'s resolvers; ``timeout`` checked."""
    plan = getaddrinfo_plan(source, host, port, family, type, proto, flags)
    if isinstance(plan, list):  # answered without a lookup
        return plan
    return cast(_AddrInfos, run_steps(plan, timeout, source))


def getaddrinfo_plan(source: Source, host: Host, port: Port, family: int, type: int, proto: int, flags: int
                      ) -> Union[List[AddrInfo], Generator[Submit, Any, List[AddrInfo]]]:
    """getaddrinfo() up to its lookup: the answer (a list) when it needs none, else the steps of
    the lookup (see run_steps()), which the tornado backend awaits. ``source`` has the Channel
    ``options`` of the resolver the steps will be driven on (None: this thread's)."""
    if not all(isinstance(v, int) for v in (family, type, proto, flags)):
        return _system(host, port, family, type, proto, flags)  # socket's TypeError
    family, type, proto, flags = int(family), int(type), int(proto), int(flags)
    if host is None or not isinstance(host, (str, bytes)) or flags & _AI_NUMERICHOST:
        # Nothing to look up (or a TypeError to raise): the C library answers, exactly.
        return _system(host, port, family, type, proto,
                       flags | _AI_NUMERICHOST if host is not None else flags)
    name = _to_bytes(host)  # as socket does: IDNA 2003 for str, bytes as they are
    if name == b"*" or is_numeric(name):  # glibc reads "*" as no host
        return _system(None if name == b"*" else name, port, family, type, proto,
                       flags | (_AI_NUMERICHOST if name != b"*" else 0))
    services = _services(port, family, type, proto, flags)
    if flags & _AI_ADDRCONFIG:
        family = _addrconfig_family(family)
    return _getaddrinfo_steps(source, name, services, family, flags)


def _getaddrinfo_steps(source: Source, name: bytes, services: Tuple[Tuple[socket.SocketKind, int, int], ...],
                       family: int, flags: int) -> Generator[Submit, Any, List[AddrInfo]]:
    canonical, _aliases, found = yield from _forward_steps(name, family, flags, False, source)
    out: List[AddrInfo] = []
    for fam, ip, scope_id in found:
        for kind, protocol, portnum in services:
            sockaddr: SockAddr = (ip, portnum) if fam == socket.AF_INET else (ip, portnum, 0, scope_id)
            canonname = canonical if (flags & _AI_CANONNAME) and not out else ""
            out.append((_family(fam), kind, protocol, canonname, sockaddr))
    return out


# -- gethostbyname, gethostbyname_ex -------------------------------------------------------------

def host_arg(value: Any, function: str) -> bytes:
    """CPython's ``et`` conversion of a host argument: str (IDNA), bytes or bytearray."""
    if isinstance(value, str):
        return value.encode("idna")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    what = "None" if value is None else builtins_type(value).__name__
    raise TypeError(f"{function}() argument 1 must be str, bytes or bytearray, not {what}")


_BROADCAST = (b"255.255.255.255", b"<broadcast>")


def gethostbyname(source: "BlockingSource", hostname: Union[str, bytes], timeout: Optional[float]) -> str:
    name = host_arg(hostname, "gethostbyname")
    if name == b"":  # as CPython: the wildcard address
        return "0.0.0.0"
    if name in _BROADCAST:
        return "255.255.255.255"
    return str(getaddrinfo(source, name, None, socket.AF_INET, 0, 0, 0, timeout)[0][4][0])


def gethostbyname_ex(source: "BlockingSource", hostname: Union[str, bytes], timeout: Optional[float]
                      ) -> Tuple[str, List[str], List[str]]:
    name = host_arg(hostname, "gethostbyname_ex")
    if name == b"" or name == b"<broadcast>":
        gethostbyname(source, name, None)  # CPython accepts these first, then gethostbyname_r() refuses them
        raise make_herror(NO_RECOVERY)
    if name == b"255.255.255.255" or is_numeric(name):
        ip = gethostbyname(source, name, timeout)  # CPython's setipaddr() first: gaierror
        # then glibc's gethostbyname_r(): digits and dots are an address, an IPv6 literal is
        # not found for AF_INET, anything else (0x7f.1 …) is looked up as a name.
        if name.strip(b"0123456789.") == b"" and not name.endswith(b"."):
            return to_text(name), [], [ip]
        if b":" in name:
            raise make_herror(HOST_NOT_FOUND)
        try:
            canonical, aliases, found = forward(name, socket.AF_INET, 0, timeout, nosort=True, source=source)
        except socket.gaierror as exc:
            code = {socket.EAI_NONAME: HOST_NOT_FOUND, _EAI_NODATA: NO_DATA,
                    socket.EAI_AGAIN: TRY_AGAIN}.get(exc.errno, NO_RECOVERY)
            raise make_herror(code, isinstance(exc, TimeoutError)) from None
    else:
        canonical, aliases, found = forward(name, socket.AF_INET, 0, timeout, nosort=True, source=source)
    return canonical, aliases, [ip for _, ip, _ in found]


# -- gethostbyaddr, getnameinfo ------------------------------------------------------------------

def _address_of(name: bytes, timeout: Optional[float], source: "BlockingSource") -> str:
    """CPython's setipaddr(name, AF_UNSPEC): the address to reverse-resolve."""
    if name == b"":
        return str(_c_getaddrinfo(None, "0", 0, socket.SOCK_DGRAM, 0, _AI_PASSIVE)[0][4][0])
    if name in _BROADCAST:
        return "255.255.255.255"
    text = name.decode("ascii", "replace")
    if "%" not in text:
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                return _normal_ip(family, text)
            except (OSError, ValueError):
                pass
    return str(getaddrinfo(source, name, None, 0, 0, 0, 0, timeout)[0][4][0])


def _ptr_names(name: str, aliases: List[str]) -> Tuple[str, List[str]]:
    if name in aliases:
        # An answer from DNS: c-ares lists every PTR target in ``aliases`` and names the host
        # after the last one. glibc takes the first PTR record, and no aliases.
        return aliases[0], []
    return name, aliases


def _reverse(ip: str, timeout: Optional[float], source: "BlockingSource"
             ) -> Tuple[str, List[str], List[str]]:
    """The reverse lookup of ``ip`` as the C library does it: the sources in ``lookups`` order
    (hosts file, DNS PTR records; default "fb"), the last failure reported. Returns (name,
    aliases, addresses); raises AresError or the builtin TimeoutError."""
    slot = source
    failure: Optional[AresError] = None
    deadline = None if timeout is None else time.monotonic() + timeout
    for kind in slot.options.get("lookups") or "fb":
        if deadline is not None:
            timeout = max(0.0, deadline - time.monotonic())
        if kind == "f":
            from_file = _hosts_reverse(ip)  # glibc's rules (see the hosts-file section)
            if from_file is not None:
                return from_file
            try:
                result = _wait_for(lambda r: r.gethostbyaddr(ip), timeout, slot.files_resolver())
            except AresError as exc:
                failure = failure or exc
                continue
            name, aliases = _ptr_names(result.name, list(result.aliases))
            family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            return name, aliases, [_normal_ip(family, a) for a in result.addresses] or [ip]
        if kind == "b":
            try:
                ptr = _wait_for(lambda r: r.query(reverse_address(ip), _core.QUERY_TYPE_PTR), timeout,
                               slot.resolver)
            except AresError as exc:
                failure = exc
                continue
            name, aliases = _ptr_names(ptr.name, list(ptr.aliases))
            return name, aliases, [ip]
    raise failure or AresError(_ares("ARES_ENOTFOUND"), _core.strerror(_ares("ARES_ENOTFOUND")))


def gethostbyaddr(source: "BlockingSource", ip_address: Union[str, bytes], timeout: Optional[float]
                   ) -> Tuple[str, List[str], List[str]]:
    ip = _address_of(host_arg(ip_address, "gethostbyaddr"), timeout, source)
    try:
        return _reverse(ip, timeout, source)
    except AresError as exc:
        raise herror_from(exc) from None
    except TimeoutError:
        if timeout is None:  # not ours: a caller's timeout (gevent.Timeout(..., TimeoutError))
            raise
        raise make_herror(TRY_AGAIN, timed_out=True) from None


def _strip_local_domain(name: str) -> str:
    """NI_NOFQDN: drop this host's own domain (what follows the first dot of gethostname(), as
    c-ares does) from the end of ``name``."""
    local = socket.gethostname()
    dot = local.find(".")
    if dot < 0:
        return name
    domain = local[dot:].lower()
    if len(name) > len(domain) and name.lower().endswith(domain):
        return name[:-len(domain)]
    return name


def getnameinfo(source: "BlockingSource", sockaddr: Tuple[Any, ...], flags: int, timeout: Optional[float]
                 ) -> Tuple[str, str]:
    if flags & socket.NI_NUMERICHOST:
        return _c_getnameinfo(sockaddr, flags)  # no lookup to do
    # The numeric host text (with its %scope) and the service, with socket's own checks: no
    # name lookup happens with NI_NUMERICHOST.
    numeric, service = _c_getnameinfo(sockaddr, (flags | socket.NI_NUMERICHOST) & ~socket.NI_NAMEREQD)
    try:
        host = _reverse(numeric.partition("%")[0], timeout, source)[0]
    except TimeoutError:
        if timeout is None:  # not ours: a caller's timeout
            raise
        raise make_gaierror(socket.EAI_AGAIN, timed_out=True) from None
    except AresError as exc:
        if exc.args[0] in _TRY_AGAIN_CODES:
            raise make_gaierror(socket.EAI_AGAIN, exc.args[0] == _ares("ARES_ETIMEOUT")) from None
        if flags & socket.NI_NAMEREQD:
            raise make_gaierror(socket.EAI_NONAME) from None
        return numeric, service
    if flags & socket.NI_NOFQDN:
        host = _strip_local_domain(host)
    return host, service


async def run_steps_async(steps: Steps, resolver: Any) -> Any:
    """Drive lookup steps (see :func:`run_steps`) from a coroutine: each request is submitted on
    the ``is_async`` ``resolver`` and awaited, nothing blocks the loop. Only what the request
    raised is thrown into the steps; anything else (the awaiting task's cancellation) propagates
    unchanged, and the request's late answer is dropped."""
    try:
        submit = next(steps)
        while True:
            future = _submit_step(steps, submit, resolver)
            try:
                result = await future
            except AresError as exc:  # the request failed
                submit = steps.throw(exc)
            else:
                submit = steps.send(result)
    except StopIteration as stop:
        return stop.value
    finally:
        steps.close()
