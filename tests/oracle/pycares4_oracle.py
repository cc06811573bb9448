"""Running one scenario through pycares 4.11 and through pycares_ng, and recording what a program sees.

A scenario is a function ``scenario(run)`` that creates channels with ``run.channel(...)``, makes
calls through ``run.call(label, func, *args)`` with callbacks from ``run.cb(tag)``, and drives the
channel with ``run.drive(channel)``. :class:`Run` records, for one library:

- every call's outcome: its (normalized) return value, or the exception it raised;
- every callback: its (normalized) result and errno, and *when* it ran: inside which call on the
  calling thread (``"in:close"``), in the select loop (``"loop"``), or on another thread
  (``"thread"``);
- every ``sock_state_cb(fd, readable, writable)``, fds numbered in first-seen order, and for
  ``(False, False)`` whether fd was still open;
- what the server received (name, type, class), and exceptions that reached sys.unraisablehook.

:func:`reconcile` resolves pycares_ng's freedoms against the pycares 4.11 record: it may raise a
subclass of what pycares 4.11 raises, and a ``ttl`` that pycares 4.11 reports as ``-1`` is not
compared.
"""
from __future__ import annotations

import builtins
import os
import sys
import struct
import tempfile
from typing import Any, Callable, Dict, List, Optional, Tuple

import pycares
import pycares_ng
from pycares_ng.testing import FaultServer, encode_name

import oracle_keepalive
from oracle_run import DEFAULT, RunBase  # noqa: F401  (DEFAULT re-exported for the table)
from helpers import empty_resolv_conf  # noqa: F401  (re-exported for the table)

oracle_keepalive.install(pycares)  # pycares 4.11 frees its lookups/resolvconf_path strings early

MISSING = "<missing>"

# Field names of every pycares 4.11 result class (its __slots__, plus the class attribute `type`).
FIELDS: Dict[str, Tuple[str, ...]] = {}
for _name in dir(pycares):
    _cls = getattr(pycares, _name)
    if isinstance(_cls, type) and issubclass(_cls, pycares.AresResult) and _cls is not pycares.AresResult:
        _fields = tuple(_cls.__slots__)
        if hasattr(_cls, "type"):
            _fields += ("type",)
        FIELDS[_cls.__name__] = _fields
FIELDS["ares_query_txt_result_chunk"] = ("text", "ttl", "type")


# -- the zone the fault server answers ---------------------------------------------------------------

def _soa_rdata(mname: str, rname: str, serial: int, refresh: int, retry: int, expire: int,
               minimum: int) -> bytes:
    return encode_name(mname) + encode_name(rname) + struct.pack("!IIIII", serial, refresh, retry,
                                                                 expire, minimum)


def _cstring(data: bytes) -> bytes:
    return bytes([len(data)]) + data


def _naptr_rdata(order: int, pref: int, flags: bytes, service: bytes, regexp: bytes,
                 replacement: str) -> bytes:
    return (struct.pack("!HH", order, pref) + _cstring(flags) + _cstring(service) + _cstring(regexp)
            + encode_name(replacement))


def _caa_rdata(flags: int, tag: bytes, value: bytes) -> bytes:
    return bytes([flags, len(tag)]) + tag + value


def _mx(pref: int, host: str) -> bytes:
    return struct.pack("!H", pref) + encode_name(host)


def _srv(prio: int, weight: int, port: int, target: str) -> bytes:
    return struct.pack("!HHH", prio, weight, port) + encode_name(target)


def _txt(*parts: bytes) -> bytes:
    return b"".join(_cstring(p) for p in parts)


ZONE: List[Tuple[str, str, Any, int]] = [
    ("a.test", "A", "192.0.2.10", 60),
    ("a.test", "A", "192.0.2.11", 60),
    ("a.test", "AAAA", "2001:db8::10", 70),
    ("a4.test", "A", "192.0.2.20", 80),
    ("cname.test", "CNAME", "target.test", 90),
    ("cname.test", "A", "192.0.2.30", 91),  # what a server that chases the CNAME would add
    ("mx.test", "MX", _mx(10, "mail.test"), 100),
    ("mx.test", "MX", _mx(20, "mail2.test"), 100),
    ("ns.test", "NS", "ns1.test", 110),
    ("ns.test", "NS", "ns2.test", 110),
    ("10.2.0.192.in-addr.arpa", "PTR", "host.test", 120),
    ("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR", "host6.test", 120),
    ("soa.test", "SOA", _soa_rdata("ns1.test", "hostmaster.test", 2024010101, 7200, 3600, 1209600, 300), 130),
    ("_sip._tcp.srv.test", "SRV", _srv(10, 60, 5060, "sip1.test"), 140),
    ("_sip._tcp.srv.test", "SRV", _srv(20, 40, 5061, "sip2.test"), 140),
    ("txt.test", "TXT", _txt(b"hello world"), 150),
    ("txt.test", "TXT", _txt(b"second"), 150),
    ("txtmulti.test", "TXT", _txt(b"part one;", b"part two"), 150),
    ("txtbin.test", "TXT", _txt(b"\xff\xfe binary"), 150),
    ("txtempty.test", "TXT", _txt(b""), 150),
    ("naptr.test", "NAPTR", _naptr_rdata(100, 10, b"U", b"E2U+sip", b"!^.*$!sip:info@example.test!", "."), 160),
    ("naptr.test", "NAPTR", _naptr_rdata(102, 10, b"S", b"SIP+D2U", b"", "_sip._udp.example.test"), 160),
    ("caa.test", "CAA", _caa_rdata(0, b"issue", b"ca.example.net"), 170),
    ("caa.test", "CAA", _caa_rdata(128, b"iodef", b"mailto:security@example.test"), 170),
    ("any.test", "A", "192.0.2.40", 180),
    ("any.test", "MX", _mx(5, "mx.any.test"), 181),
    ("any.test", "TXT", _txt(b"any text"), 182),
    ("host.search.test", "A", "192.0.2.50", 190),
    ("xn--bcher-kva.test", "A", "192.0.2.60", 200),
    ("xn--bcher-kva.test", "MX", _mx(1, "mail.test"), 200),
    ("chaos.test", "TXT", _txt(b"chaos"), 210),
]

#: names answered with something other than records
RULES = {
    "nx.test": "nxdomain",
    "servfail.test": "servfail",
    "refused.test": "refused",
    "nodata.test": "nodata",
    "drop.test": "drop",
    "trunc.test": "truncate",
    "garbage.test": "garbage",
    "badrdata.test": "bad_rdata",
    "shortheader.test": "short_header",
    "pointerloop.test": "pointer_loop",
}


def make_server() -> FaultServer:
    server = FaultServer()
    for name, rtype, rdata, ttl in ZONE:
        server.add_record(name, rtype, rdata, ttl=ttl)
    # nodata for AAAA of a4.test: an explicit empty answer set
    server.records[("a4.test", "AAAA")] = []
    server.records[("trunc.test", "A")] = [(60, bytes([192, 0, 2, 70]))]
    for name, mode in RULES.items():
        server.rules[name] = mode
    return server.start()


_EMPTY_RESOLV: Optional[str] = None
_HOSTS: Optional[str] = None

HOSTS_TEXT = """\
192.0.2.100 hosted.test hosted alias.hosted.test
192.0.2.101 hosted.test
2001:db8::100 hosted.test
192.0.2.102 onlyv4.test
2001:db8::103 onlyv6.test
127.0.0.1 localhost
::1 localhost
"""


def hosts_file() -> str:
    global _HOSTS
    if _HOSTS is None:
        fd, path = tempfile.mkstemp(prefix="oracle4-hosts-")
        with os.fdopen(fd, "w") as f:
            f.write(HOSTS_TEXT)
        _HOSTS = path
    return _HOSTS


# -- normalizing what a program sees -----------------------------------------------------------------

def builtin_base(cls: type) -> type:
    """The nearest built-in exception class of cls (idna.IDNAError -> UnicodeError)."""
    for klass in cls.__mro__:
        if getattr(builtins, klass.__name__, None) is klass:
            return klass
    return Exception


class Raised:
    """An exception as a program sees it: class (compared by subclassing) and, for AresError, args."""

    def __init__(self, exc: BaseException) -> None:
        if isinstance(exc, type):  # an expectation: Raised(ValueError)
            exc = exc()
        self.cls = type(exc)
        self.message = str(exc)
        self.ares = isinstance(exc, (pycares.AresError, pycares_ng.AresError))
        self.args = exc.args if self.ares else None

    def matches(self, expected: "Raised") -> bool:
        """self (pycares_ng) is what expected (pycares 4.11) is, or a subclass of it."""
        alternatives = getattr(expected, "alternatives", None)
        if alternatives:
            return issubclass(self.cls, alternatives)
        if expected.ares:
            if not self.ares:
                return False
            e0 = expected.args[0] if expected.args else None
            s0 = self.args[0] if self.args else None
            return not isinstance(e0, int) or e0 == s0
        base = expected.cls if getattr(builtins, expected.cls.__name__, None) is expected.cls \
            else builtin_base(expected.cls)
        if not issubclass(self.cls, base):
            return False
        if issubclass(base, RuntimeError) and "destroyed" in expected.message.lower():
            return "destroyed" in self.message.lower()
        return True

    def __repr__(self) -> str:
        name = "AresError" if self.ares else self.cls.__name__
        extra = f"{self.args!r}" if self.ares else f"({self.message!r})"
        return f"raise {name}{extra}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Raised) and other.matches(self) and self.matches(other)

    __hash__ = None  # type: ignore[assignment]


def norm(value: Any) -> Any:
    """A plain, comparable form of a result: results become (class name, ((field, value), ...))."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, tuple):
        return tuple(norm(v) for v in value)
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    name = type(value).__name__
    fields = FIELDS.get(name)
    if fields is None:
        return ("?" + name, repr(value))
    return (name, tuple((f, norm(getattr(value, f, MISSING))) for f in fields))


def mask_ttl(oracle: Any, other: Any) -> Any:
    """other with each `ttl` field replaced by -1 where the oracle's is -1 (pycares 4: no TTL)."""
    if isinstance(oracle, list) and isinstance(other, list) and len(oracle) == len(other):
        return [mask_ttl(a, b) for a, b in zip(oracle, other)]
    if isinstance(oracle, tuple) and isinstance(other, tuple) and len(oracle) == len(other):
        if (len(oracle) == 2 and isinstance(oracle[0], str) and oracle[0] in FIELDS
                and oracle[0] == other[0]):
            ofields = dict(oracle[1])
            return (other[0], tuple((f, -1 if f == "ttl" and ofields.get("ttl") == -1 else mask_ttl(ofields.get(f), v))
                                    for f, v in other[1]))
        return tuple(mask_ttl(a, b) for a, b in zip(oracle, other))
    if isinstance(oracle, dict) and isinstance(other, dict):
        return {k: mask_ttl(oracle.get(k), v) for k, v in other.items()}
    return other


# -- one library's run -------------------------------------------------------------------------------

class Run(RunBase):
    """Runs a scenario through one library (``lib``) and records what a program sees (see
    oracle_run.RunBase), as tuples; in "thread" mode its channels have event_thread=True."""

    norm = staticmethod(norm)

    def __init__(self, lib: Any, server: FaultServer, mode: str) -> None:
        super().__init__(lib, server, mode)
        self.name = "pycares" if lib is pycares else "pycares_ng"
        self.notes: List[Tuple[str, Any]] = []

    def callback_record(self, result: Any, errno: Any, when: str) -> Tuple[Any, Any, str]:
        return (norm(result), errno, when)

    def raised_record(self, exc: BaseException) -> "Raised":
        return Raised(exc)

    def channel(self, **options: Any) -> Any:
        """A Channel of this library on the fault server (sock_state_cb or event thread by mode)."""
        opts: Dict[str, Any] = dict(servers=["127.0.0.1"], udp_port=self.server.port,
                                    tcp_port=self.server.port, resolvconf_path=empty_resolv_conf(),
                                    timeout=1.0, tries=1, lookups="b")
        if self.mode != "sock":
            opts["event_thread"] = True
        return self._channel(opts, options)

    def forget(self, tag: str) -> None:
        with self._cond:
            self.pending.discard(tag)

    def note(self, label: str, value: Any) -> None:
        self.notes.append((label, value))

    def observe(self) -> "Observation":
        return Observation(self)


class Observation:
    def __init__(self, run: Run) -> None:
        self.lib = run.name
        self.calls = list(run.calls)
        self.thread_calls = list(run.thread_calls)
        self.callbacks = {k: list(v) for k, v in run.callbacks.items()}
        self.missing = sorted(run.pending)
        self.sock = list(run.sock)
        self.queries = run.sent()
        self.notes = list(run.notes)
        self.unraisable = list(run.unraisable)

    def as_dict(self) -> Dict[str, Any]:
        return {"calls": self.calls, "calls on other threads": self.thread_calls, "callbacks": self.callbacks, "never called": self.missing,
                "sock_state_cb": self.sock, "sent": self.queries, "notes": self.notes,
                "unraisable": self.unraisable}


def observe(lib: Any, scenario: Callable[[Run], None], server: FaultServer, mode: str) -> Observation:
    """Run scenario through lib; exceptions that reach sys.unraisablehook (an exception escaping a
    callback, pycares' cffi callbacks included) are recorded, not reported."""
    run = Run(lib, server, mode)
    saved = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        run.unraisable.append(type(unraisable.exc_value).__name__)
    sys.unraisablehook = hook
    try:
        try:
            scenario(run)
        except Exception as exc:  # noqa: BLE001 - a scenario step outside run.call
            run.notes.append(("scenario raised", Raised(exc)))
        return run.finish()
    finally:
        sys.unraisablehook = saved


def _reconcile_pairs(oracle: List[Tuple[str, Any]], other: List[Tuple[str, Any]]) -> List[Tuple[str, Any]]:
    out = []
    for i, (label, value) in enumerate(other):
        olabel, ovalue = oracle[i] if i < len(oracle) else ("<none>", None)
        if olabel == label:
            if isinstance(ovalue, Raised) and isinstance(value, Raised):
                value = ovalue if value.matches(ovalue) else value
            else:
                value = mask_ttl(ovalue, value)
        out.append((label, value))
    return out


def reconcile(oracle: Dict[str, Any], other: Dict[str, Any]) -> Dict[str, Any]:
    """other, with pycares_ng's freedoms resolved against the oracle: an exception class may be a
    subclass of the oracle's, and a ttl the oracle reports as -1 is not compared."""
    n = dict(other)
    n["calls"] = _reconcile_pairs(oracle.get("calls", []), other["calls"])
    n["calls on other threads"] = _reconcile_pairs(oracle.get("calls on other threads", []),
                                                   other["calls on other threads"])
    n["notes"] = _reconcile_pairs(oracle.get("notes", []), other["notes"])
    n["callbacks"] = {tag: mask_ttl(oracle.get("callbacks", {}).get(tag), calls)
                      for tag, calls in other["callbacks"].items()}
    return n


class RaisesOneOf(Raised):
    """An expectation: an exception of one of these classes (or a subclass)."""

    def __init__(self, *classes: type) -> None:
        super().__init__(classes[0])
        self.alternatives = classes

    def __repr__(self) -> str:
        return "raise one of " + "/".join(c.__name__ for c in self.alternatives)


class _Anything:
    """Matches any value (a field the expectation leaves open)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "<anything>"


ANYTHING = _Anything()


class OneOf:
    """Matches any of the given values."""

    def __init__(self, *values: Any) -> None:
        self.values = values

    def __eq__(self, other: object) -> bool:
        return any(v == other for v in self.values)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))
