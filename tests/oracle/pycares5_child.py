"""The child of tests/oracle/test_pycares5_table.py: runs table cases through one library.

Run as ``python pycares5_child.py`` with a JSON spec on stdin; prints one JSON report on stdout::

    spec = {"lib": "p5" | "ng",        # "p5": the real pycares 5.2.1 (PYTHONPATH=<oracle dir>),
                                       # "ng": pycares_ng.v5
            "cases": [[case id, mode], ...],   # mode "sock" (sock_state_cb + a select loop) or
                                               # "thread" (no sock_state_cb: the implicit event thread)
            "nsd_port": int,           # the NSD fixture on 127.0.0.1 (tests/data zones)
            "resolvconf": path}        # an empty resolv.conf

The child starts its own FaultServer (loopback) for the error replies. Each case is a scenario
``scenario(run)`` (see :class:`Run`): what a program sees is recorded as JSON with the Python
types kept (``["str", "x"]``, ``["bytes", latin-1 text]``, results as their class name, fields and
repr) so that the parent can compare the two libraries value by value. Importing this module (the
parent does, for the case ids) imports neither pycares nor pycares_ng.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import socket
import struct
import sys
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from oracle_run import DEFAULT, RunBase

AF_INET, AF_INET6, AF_UNSPEC = int(socket.AF_INET), int(socket.AF_INET6), int(socket.AF_UNSPEC)
NI_NOFQDN, NI_NUMERICHOST, NI_NAMEREQD, NI_NUMERICSERV = 1, 2, 4, 8
NI_LOOKUPHOST, NI_LOOKUPSERVICE, NI_DGRAM = 1 << 8, 1 << 9, 16
AI_CANONNAME, AI_NUMERICHOST = 1, 2
NI_NUM = NI_NUMERICHOST | NI_NUMERICSERV

LONG_NAME = ("a" * 62 + ".") * 4 + "test"          # 256 octets
NAME_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 48, "example", "test"])  # in the NSD zone
NAME_254 = ".".join(["e" * 63, "f" * 63, "g" * 63, "h" * 49, "example", "test"])
LABEL_64 = "x" * 64 + ".example.test"
assert len(NAME_253) == 253 and len(NAME_254) == 254

FAULT_RULES = {
    "nx.test": "nxdomain", "servfail.test": "servfail", "refused.test": "refused", "nodata.test": "nodata",
    "drop.test": "drop", "trunc.test": "truncate", "garbage.test": "garbage", "badrdata.test": "bad_rdata",
    "shortheader.test": "short_header", "pointerloop.test": "pointer_loop",
    "1.2.0.192.in-addr.arpa": "drop",
}


# -- what a program sees, as JSON ----------------------------------------------------------------

def norm(value: Any, depth: int = 0) -> Any:
    """A JSON picture of value that keeps the Python types."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return [type(value).__name__, value]
    if isinstance(value, (bytes, bytearray)):
        return [type(value).__name__, bytes(value).decode("latin-1")]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [norm(v, depth + 1) for v in value]]
    if isinstance(value, dict):
        return ["dict", [[norm(k), norm(v, depth + 1)] for k, v in value.items()]]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [[f.name, norm(getattr(value, f.name, "<missing>"), depth + 1)] for f in dataclasses.fields(value)]
        out = ["obj", type(value).__name__, fields]
        if depth == 0:
            out.append(repr(value))
        return out
    if isinstance(value, type):
        return ["class", value.__name__]
    return ["?", type(value).__name__, repr(value)]


def raised(exc: BaseException, lib: Any) -> Dict[str, Any]:
    mro = [k.__name__ for k in type(exc).__mro__]
    ares = isinstance(exc, lib.AresError)
    out: Dict[str, Any] = {"raised": type(exc).__name__, "mro": mro}
    if ares:
        out["args"] = norm(exc.args)
    if isinstance(exc, RuntimeError):
        out["destroyed"] = "destroyed" in str(exc).lower() or "closed" in str(exc).lower()
    out["message"] = str(exc)
    return out


class Run(RunBase):
    """One case through one library (see oracle_run.RunBase), recorded as JSON lists: calls,
    callbacks (when each ran), sock_state_cb, what the server received. In "thread" mode the
    channels have no sock_state_cb (pycares 5: the implicit event thread)."""

    record = list
    linger = 0.15
    norm = staticmethod(norm)

    def __init__(self, lib: Any, mode: str, fault: Any, nsd_port: int, resolvconf: str) -> None:
        super().__init__(lib, fault, mode)
        self.fault = fault
        self.nsd_port = nsd_port
        self.resolvconf = resolvconf

    def callback_record(self, result: Any, errno: Any, when: str) -> List[Any]:
        return [norm(result), norm(errno), when]

    def raised_record(self, exc: BaseException) -> Dict[str, Any]:
        return raised(exc, self.lib)

    def value_record(self, value: Any) -> Dict[str, Any]:
        return {"value": value}

    def channel(self, nsd: bool = False, **options: Any) -> Any:
        port = self.nsd_port if nsd else self.fault.port
        opts: Dict[str, Any] = dict(servers=["127.0.0.1"], udp_port=port, tcp_port=port,
                                    resolvconf_path=self.resolvconf, timeout=1.0, tries=1, lookups="b")
        return self._channel(opts, options)

    def portless(self, value: Any) -> Any:
        """A servers list with the ports of this child's own servers as FAULT / NSD."""
        if isinstance(value, list):
            value = [v.replace(str(self.fault.port), "FAULT").replace(str(self.nsd_port), "NSD")
                     if isinstance(v, str) else v for v in value]
        return norm(value)

    def observe(self) -> Dict[str, Any]:
        return {"calls": self.calls, "calls on other threads": self.thread_calls,
                "callbacks": self.callbacks, "never called": sorted(self.pending), "sock_state_cb": self.sock,
                "sent": [list(q) for q in self.sent()], "unraisable": self.unraisable}


# -- the cases -----------------------------------------------------------------------------------

CASES: Dict[str, Tuple[Callable[[Run], None], Tuple[str, ...]]] = {}
SOCK, BOTH = ("sock",), ("sock", "thread")


def case(id: str, scenario: Callable[[Run], None], modes: Tuple[str, ...] = SOCK) -> None:
    assert id not in CASES, id
    CASES[id] = (scenario, modes)


NOARG = object()


def _t(r: Run, t: Any) -> Any:
    return getattr(r.lib, "QUERY_TYPE_" + t) if isinstance(t, str) and t.isupper() else t


def _c(r: Run, c: Any) -> Any:
    return getattr(r.lib, "QUERY_CLASS_" + c) if isinstance(c, str) and c.isupper() else c


def Q(name: Any, t: Any = "A", *, method: str = "query", cls: Any = NOARG, callback: Any = True,
      nsd: bool = True, chopts: Optional[Dict[str, Any]] = None, positional_cb: bool = False) -> Callable[[Run], None]:
    """One query()/search() (keyword callback, as pycares 5 wants) driven to completion."""
    def scenario(r: Run) -> None:
        ch = r.channel(nsd=nsd, **(chopts or {}))
        cb = r.cb("q") if callback is True else callback
        kwargs: Dict[str, Any] = {} if cls is NOARG else {"query_class": _c(r, cls)}
        if positional_cb:
            r.call(method, getattr(ch, method), name, _t(r, t), cb, **kwargs)
        elif callback is NOARG:
            r.call(method, getattr(ch, method), name, _t(r, t), **kwargs)
        else:
            r.call(method, getattr(ch, method), name, _t(r, t), callback=cb, **kwargs)
        r.drive(ch)
    return scenario


def F(name: Any, t: Any = "A", **kw: Any) -> Callable[[Run], None]:
    """Q against the FaultServer."""
    return Q(name, t, nsd=False, **kw)


def M(method: str, *args: Any, nsd: bool = True, chopts: Optional[Dict[str, Any]] = None, callback: Any = True,
      **kwargs: Any) -> Callable[[Run], None]:
    """One Channel method with callback= (keyword) driven to completion."""
    def scenario(r: Run) -> None:
        ch = r.channel(nsd=nsd, **(chopts or {}))
        kw = dict(kwargs)
        if callback is not NOARG:
            kw["callback"] = r.cb("cb") if callback is True else callback
        r.call(method, getattr(ch, method), *args, **kw)
        r.drive(ch)
    return scenario


def on_channel(step: Callable[[Run, Any], None], nsd: bool = True, **chopts: Any) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel(nsd=nsd, **chopts)
        step(r, ch)
        r.drive(ch)
    return scenario


def closed_then(step: Callable[[Run, Any], None]) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel()
        r.call("close", ch.close)
        step(r, ch)
        r.wait(0.5)
    return scenario


def module(label: str, f: Callable[[Any], Any]) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        r.call(label, f, r.lib)
    return scenario


def construct(**opts: Any) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.call("Channel", r.channel, result=lambda c: type(c).__name__, **opts)
        if ch is not None:
            r.call("query", ch.query, "www.example.test", r.lib.QUERY_TYPE_A, callback=r.cb("q"))
            r.drive(ch)
    return scenario


# query(), every record type of the NSD zone that pycares 5.2.1 knows
for _t_, _name in [("A", "www.example.test"), ("AAAA", "ipv6only.example.test"), ("AAAA", "dual.example.test"),
                   ("A", "multi.example.test"), ("CNAME", "alias.example.test"), ("MX", "example.test"),
                   ("NS", "example.test"), ("NS", "sub.example.test"), ("PTR", "10.2.0.192.in-addr.arpa"),
                   ("PTR", "50.2.0.192.in-addr.arpa"),
                   ("PTR", "6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"),
                   ("SOA", "example.test"), ("SOA", "2.0.192.in-addr.arpa"), ("SRV", "_sip._tcp.example.test"),
                   ("TXT", "txt.example.test"), ("TXT", "txt-multi.example.test"), ("TXT", "txt-records.example.test"),
                   ("TXT", "txt-utf8.example.test"), ("TXT", "txt-raw.example.test"), ("TXT", "txt-nul.example.test"),
                   ("TXT", "txt-long.example.test"), ("TXT", "txt-medium.example.test"),
                   ("TXT", "txt-big.example.test"), ("NAPTR", "naptr.example.test"), ("CAA", "caa.example.test"),
                   ("URI", "_http._tcp.example.test"), ("TLSA", "_443._tcp.www.example.test"),
                   ("HTTPS", "web.example.test"), ("ANY", "www.example.test"), ("ANY", "example.test"),
                   ("ANY", "alias.example.test"), ("ANY", "caa.example.test"),
                   ("A", "chain-a.example.test"), ("A", "alias.example.test"), ("A", "dangling.example.test"),
                   ("CNAME", "chain-a.example.test"), ("A", "anything.wild.example.test"),
                   ("A", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.deep.example.test"),
                   ("A", "other-ranges.example.test")]:
    _modes = BOTH if _name in ("www.example.test", "example.test", "txt-multi.example.test") else SOCK
    case(f"query-{_t_}-{_name[:40]}", Q(_name, _t_), _modes)
case("query-A-253-octets", Q(NAME_253, "A"))
case("query-A-253-octets-dot", Q(NAME_253 + ".", "A"))
case("query-trailing-dot", Q("www.example.test.", "A"))
case("query-upper-case", Q("WWW.Example.TEST", "A"))
case("query-bytes-name", Q(b"www.example.test", "A"))
case("query-idn", Q("bücher.example.test", "A"))
case("query-nxdomain-nsd", Q("nosuch.example.test", "A"), BOTH)
case("query-nodata-nsd", Q("www.example.test", "MX"))


def _twice(name: str, t: str = "A") -> Callable[[Run], None]:
    """The same question twice, one after the other (c-ares 1.34 answers the second from its cache)."""
    def scenario(r: Run) -> None:
        ch = r.channel(nsd=True)
        for tag in ("q1", "q2"):
            record = r.cb(tag)

            def masked(result: Any, errno: Any, record: Any = record) -> None:
                # the answer records with ttl 0: a cached answer's TTL may have counted down
                record(None if result is None else [dataclasses.replace(rr, ttl=0) for rr in result.answer], errno)
            r.call(f"query {tag}", ch.query, name, _t(r, t), callback=masked)
            r.drive(ch)
    return scenario


case("query-twice", _twice("www.example.test"), BOTH)
case("query-twice-nxdomain", _twice("nosuch.example.test"), BOTH)
case("query-twice-nodata", _twice("www.example.test", "MX"), BOTH)
case("query-refused-nsd", Q("www.example.invalid", "A"))
case("query-class-IN", Q("www.example.test", "A", cls="IN"))
for _cl in ("CHAOS", "HS", "NONE", "ANY"):
    case(f"query-class-{_cl}", F("a.test", "A", cls=_cl))
case("query-empty-name", Q("", "A"))
case("query-root", Q(".", "A"))
case("query-with-space", Q("with space.example.test", "A"))

# errors from the fault server
for _n in ("nx", "servfail", "refused", "nodata", "trunc", "badrdata", "pointerloop"):
    case(f"query-fault-{_n}", F(f"{_n}.test", "A"), BOTH if _n in ("nx", "servfail") else SOCK)
case("query-fault-drop", F("drop.test", "A", chopts={"timeout": 0.2}), BOTH)
case("query-fault-garbage", F("garbage.test", "A", chopts={"timeout": 0.3}))
case("query-fault-shortheader", F("shortheader.test", "A", chopts={"timeout": 0.3}))
case("query-fault-usevc", F("a.test", "A", chopts={"flags": 1}))
case("query-ANY-unsupported-types", F("mixed.test", "ANY"), BOTH)

# bad input
case("query-name-int", Q(5, "A"))
case("query-name-None", Q(None, "A"))
case("query-name-list", Q(["a.test"], "A"))
case("query-name-bytearray", Q(bytearray(b"www.example.test"), "A"))
case("query-name-nonascii-bytes", Q(b"\xff.test", "A"))
case("query-name-too-long", Q(LONG_NAME, "A"), BOTH)
case("query-name-254", Q(NAME_254, "A"))
case("query-label-too-long", Q(LABEL_64, "A"), BOTH)
case("query-empty-label", Q("www..example.test", "A"))
case("query-name-nul", Q("www.example.test\x00evil", "A"))
case("query-name-nul-bytes", Q(b"www.example.test\x00evil", "A"))
case("query-idn-invalid", Q("☃.test", "A"))
case("query-idn-label-too-long", Q("ü" * 64 + ".test", "A"))
case("query-type-invalid", Q("www.example.test", 9999))
case("query-type-negative", Q("www.example.test", -1))
case("query-type-str", Q("www.example.test", "a"))
case("query-type-None", Q("www.example.test", None))
case("query-class-invalid", Q("www.example.test", "A", cls=99))
case("query-class-str", Q("www.example.test", "A", cls="in"))
case("query-class-None", Q("www.example.test", "A", cls=None))
case("query-callback-None", Q("www.example.test", "A", callback=None))
case("query-callback-not-callable", Q("www.example.test", "A", callback=42))
case("query-callback-missing", Q("www.example.test", "A", callback=NOARG))
case("query-callback-positional", Q("www.example.test", "A", positional_cb=True))
case("query-type-invalid-and-bad-callback", Q("www.example.test", 9999, callback=42))

# search()
SEARCH = {"domains": ["example.test"], "ndots": 1}
case("search-domains", Q("www", "A", method="search", chopts=SEARCH), BOTH)
case("search-fqdn", Q("www.example.test", "A", method="search", chopts=SEARCH))
case("search-nxdomain", Q("nothere", "A", method="search", chopts=SEARCH))
case("search-TXT", Q("txt", "TXT", method="search", chopts=SEARCH))
case("search-name-int", Q(5, "A", method="search"))
case("search-name-too-long", Q(LONG_NAME, "A", method="search"))
case("search-name-nul", Q("www\x00.evil", "A", method="search", chopts=SEARCH))
case("search-type-invalid", Q("www", 9999, method="search"))
case("search-class-invalid", Q("www", "A", method="search", cls=99))
case("search-callback-not-callable", Q("www", "A", method="search", callback=42))

# gethostbyaddr()
case("gethostbyaddr-v4", M("gethostbyaddr", "192.0.2.10"), BOTH)
case("gethostbyaddr-v4-two-names", M("gethostbyaddr", "192.0.2.50"))
case("gethostbyaddr-v6", M("gethostbyaddr", "2001:db8::6"), BOTH)
case("gethostbyaddr-bytes", M("gethostbyaddr", b"192.0.2.10"))
case("gethostbyaddr-nxdomain", M("gethostbyaddr", "192.0.2.99"))
case("gethostbyaddr-invalid", M("gethostbyaddr", "not-an-ip"))
case("gethostbyaddr-v4-prefix", M("gethostbyaddr", "192.0.2"))
case("gethostbyaddr-hostname", M("gethostbyaddr", "www.example.test"))
case("gethostbyaddr-int", M("gethostbyaddr", 3221225994))
case("gethostbyaddr-None", M("gethostbyaddr", None))
case("gethostbyaddr-nul", M("gethostbyaddr", "192.0.2.10\x00junk"))
case("gethostbyaddr-callback-not-callable", M("gethostbyaddr", "192.0.2.10", callback=42))
case("gethostbyaddr-callback-positional", on_channel(lambda r, ch: r.call(
    "gethostbyaddr", ch.gethostbyaddr, "192.0.2.10", r.cb("cb"))))
case("gethostbyaddr-timeout", M("gethostbyaddr", "192.0.2.1", nsd=False, chopts={"timeout": 0.2}))

# getaddrinfo()
case("getaddrinfo-port-None", M("getaddrinfo", "www.example.test", None), BOTH)
case("getaddrinfo-port-int", M("getaddrinfo", "www.example.test", 80), BOTH)
case("getaddrinfo-port-str", M("getaddrinfo", "www.example.test", "80"))
case("getaddrinfo-port-bytes", M("getaddrinfo", "www.example.test", b"80"))
case("getaddrinfo-port-service-name", M("getaddrinfo", "www.example.test", "http"))
case("getaddrinfo-port-unknown-service", M("getaddrinfo", "www.example.test", "no-such-service"))
case("getaddrinfo-port-negative", M("getaddrinfo", "www.example.test", -1))
case("getaddrinfo-port-huge", M("getaddrinfo", "www.example.test", 70000))
case("getaddrinfo-port-float", M("getaddrinfo", "www.example.test", 80.0))
case("getaddrinfo-dual", M("getaddrinfo", "dual.example.test", 443), BOTH)
case("getaddrinfo-family-inet", M("getaddrinfo", "dual.example.test", 80, family=AF_INET))
case("getaddrinfo-family-inet6", M("getaddrinfo", "dual.example.test", 80, family=AF_INET6))
case("getaddrinfo-family-unknown", M("getaddrinfo", "www.example.test", 80, family=12345))
case("getaddrinfo-family-str", M("getaddrinfo", "www.example.test", 80, family="inet"))
case("getaddrinfo-type-stream", M("getaddrinfo", "www.example.test", 80, type=socket.SOCK_STREAM))
case("getaddrinfo-proto-udp", M("getaddrinfo", "www.example.test", 80, proto=socket.IPPROTO_UDP))
case("getaddrinfo-alias-cnames", M("getaddrinfo", "alias.example.test", None, family=AF_INET))
case("getaddrinfo-chain", M("getaddrinfo", "chain-a.example.test", None, family=AF_INET))
case("getaddrinfo-flags-canonname", M("getaddrinfo", "alias.example.test", 80, flags=AI_CANONNAME))
case("getaddrinfo-numeric-host", M("getaddrinfo", "192.0.2.1", 80))
case("getaddrinfo-numeric-host6", M("getaddrinfo", "2001:db8::1", 80))
case("getaddrinfo-nxdomain", M("getaddrinfo", "nosuch.example.test", 80), BOTH)
case("getaddrinfo-ipv6only-inet", M("getaddrinfo", "ipv6only.example.test", 80, family=AF_INET))
case("getaddrinfo-timeout", M("getaddrinfo", "drop.test", 80, nsd=False, chopts={"timeout": 0.2}))
case("getaddrinfo-servfail", M("getaddrinfo", "servfail.test", 80, nsd=False))
case("getaddrinfo-host-None", M("getaddrinfo", None, 80))
case("getaddrinfo-host-int", M("getaddrinfo", 5, 80))
case("getaddrinfo-host-too-long", M("getaddrinfo", LONG_NAME, 80))
case("getaddrinfo-host-254", M("getaddrinfo", NAME_254, 80))
case("getaddrinfo-label-too-long", M("getaddrinfo", LABEL_64, 80))
case("getaddrinfo-host-nul", M("getaddrinfo", "www.example.test\x00x", 80))
case("getaddrinfo-idn-invalid", M("getaddrinfo", "☃.test", 80))
case("getaddrinfo-callback-not-callable", M("getaddrinfo", "www.example.test", 80, callback=42))
case("getaddrinfo-callback-positional", on_channel(lambda r, ch: r.call(
    "getaddrinfo", ch.getaddrinfo, "www.example.test", 80, r.cb("cb"))))
case("getaddrinfo-port-missing", on_channel(lambda r, ch: r.call(
    "getaddrinfo", ch.getaddrinfo, "www.example.test", callback=r.cb("cb"))))

# getnameinfo()
case("getnameinfo-numeric", M("getnameinfo", ("192.0.2.10", 80), NI_NUM), BOTH)
case("getnameinfo-lookup-host", M("getnameinfo", ("192.0.2.10", 80), NI_LOOKUPHOST), BOTH)
case("getnameinfo-numericserv", M("getnameinfo", ("192.0.2.10", 80), NI_NUMERICSERV))
case("getnameinfo-flags-0", M("getnameinfo", ("192.0.2.10", 80), 0))
case("getnameinfo-nofqdn", M("getnameinfo", ("192.0.2.10", 80), NI_NOFQDN | NI_NUMERICSERV))
case("getnameinfo-v6", M("getnameinfo", ("2001:db8::6", 443, 0, 0), NI_NUMERICSERV))
case("getnameinfo-v6-numeric", M("getnameinfo", ("2001:db8::6", 443, 0, 0), NI_NUM))
case("getnameinfo-no-ptr", M("getnameinfo", ("192.0.2.99", 80), NI_NUMERICSERV))
case("getnameinfo-namereqd-miss", M("getnameinfo", ("192.0.2.99", 80), NI_NAMEREQD))
case("getnameinfo-flags-invalid", M("getnameinfo", ("192.0.2.10", 80), 0xFFFF))
case("getnameinfo-flags-str", M("getnameinfo", ("192.0.2.10", 80), "x"))
case("getnameinfo-tuple-3", M("getnameinfo", ("192.0.2.10", 80, 0), NI_NUM))
case("getnameinfo-tuple-1", M("getnameinfo", ("192.0.2.10",), NI_NUM))
case("getnameinfo-v4-in-4tuple", M("getnameinfo", ("192.0.2.10", 80, 0, 0), NI_NUM))
case("getnameinfo-v6-in-2tuple", M("getnameinfo", ("2001:db8::10", 80), NI_NUM))
case("getnameinfo-invalid-ip", M("getnameinfo", ("not-an-ip", 80), NI_NUM))
case("getnameinfo-port-huge", M("getnameinfo", ("192.0.2.10", 70000), NI_NUM))
case("getnameinfo-port-negative", M("getnameinfo", ("192.0.2.10", -1), NI_NUM))
case("getnameinfo-port-str", M("getnameinfo", ("192.0.2.10", "80"), NI_NUM))
case("getnameinfo-address-str", M("getnameinfo", "192.0.2.10", NI_NUM))
case("getnameinfo-address-None", M("getnameinfo", None, NI_NUM))
case("getnameinfo-ip-bytes", M("getnameinfo", (b"192.0.2.10", 80), NI_NUM))
case("getnameinfo-callback-not-callable", M("getnameinfo", ("192.0.2.10", 80), NI_NUM, callback=42))
case("getnameinfo-timeout", M("getnameinfo", ("192.0.2.1", 80), NI_NUMERICSERV, nsd=False,
                              chopts={"timeout": 0.2}))

# methods pycares 5 removed
case("gethostbyname-absent", on_channel(lambda r, ch: r.call("hasattr gethostbyname", hasattr, ch, "gethostbyname")))
case("getsock-absent", on_channel(lambda r, ch: r.call("hasattr getsock", hasattr, ch, "getsock")))
case("destroy-absent", on_channel(lambda r, ch: r.call("hasattr destroy", hasattr, ch, "destroy")))
case("query_dns-absent", on_channel(lambda r, ch: r.call("hasattr query_dns", hasattr, ch, "query_dns")))


# cancel()
def _cancel_pending(r: Run) -> None:
    ch = r.channel()
    r.call("query", ch.query, "drop.test", r.lib.QUERY_TYPE_A, callback=r.cb("q1"))
    r.call("getaddrinfo", ch.getaddrinfo, "drop.test", 80, callback=r.cb("q2"))
    r.call("cancel", ch.cancel)
    r.wait(1.0)
    r.call("query-after-cancel", ch.query, "a.test", r.lib.QUERY_TYPE_A, callback=r.cb("q3"))
    r.drive(ch)


def _cancel_inside_callback(r: Run) -> None:
    ch = r.channel()
    record = r.cb("q1")

    def first(result: Any, errno: Any) -> None:
        record(result, errno)
        r.call("cancel-in-callback", ch.cancel)
    # drop.test first: pending whenever a.test's callback runs (see _wait_in_callback_pending)
    r.call("query2", ch.query, "drop.test", r.lib.QUERY_TYPE_A, callback=r.cb("q2"))
    r.call("query1", ch.query, "a.test", r.lib.QUERY_TYPE_A, callback=first)
    r.drive(ch)


case("cancel-pending", _cancel_pending, BOTH)
case("cancel-idle", on_channel(lambda r, ch: r.call("cancel", ch.cancel)), BOTH)
case("cancel-inside-callback", _cancel_inside_callback, ("thread",))
case("cancel-args", on_channel(lambda r, ch: r.call("cancel", ch.cancel, 1)))


# close()
def _close_pending(r: Run) -> None:
    ch = r.channel()
    r.call("query", ch.query, "drop.test", r.lib.QUERY_TYPE_A, callback=r.cb("q1"))
    r.call("getaddrinfo", ch.getaddrinfo, "drop.test", 80, callback=r.cb("q2"))
    r.call("close", ch.close)
    r.wait(2.0)
    r.settle(0.3)


def _close_after_answer(r: Run) -> None:
    ch = r.channel()
    r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, callback=r.cb("q"))
    r.drive(ch)
    r.call("close", ch.close)
    r.settle(0.3)


def _close_inside_callback(r: Run) -> None:
    ch = r.channel()
    record = r.cb("q1")

    def first(result: Any, errno: Any) -> None:
        record(result, errno)
        r.call("close-in-callback", ch.close)
    # drop.test first: pending whenever a.test's callback runs (see _wait_in_callback_pending)
    r.call("query2", ch.query, "drop.test", r.lib.QUERY_TYPE_A, callback=r.cb("q2"))
    r.call("query1", ch.query, "a.test", r.lib.QUERY_TYPE_A, callback=first)
    r.drive(ch)
    r.wait(2.0)
    r.settle(0.3)


def _close_twice(r: Run) -> None:
    ch = r.channel()
    r.call("close", ch.close)
    r.call("close-again", ch.close)


def _query_in_callback(r: Run) -> None:
    ch = r.channel()
    record = r.cb("q1")

    def first(result: Any, errno: Any) -> None:
        record(result, errno)
        r.call("query-in-callback", ch.query, "mx.test", r.lib.QUERY_TYPE_MX, callback=r.cb("q2"))
    r.call("query1", ch.query, "a.test", r.lib.QUERY_TYPE_A, callback=first)
    r.drive(ch)
    r.drive(ch)


case("close-pending", _close_pending, BOTH)
case("close-after-answer", _close_after_answer, BOTH)
case("close-inside-callback", _close_inside_callback, ("thread",))
case("close-twice", _close_twice, BOTH)
case("close-idle-channel", on_channel(lambda r, ch: r.call("close", ch.close)))
case("query-inside-callback", _query_in_callback, ("thread",))
A_ = "A"
case("closed-query", closed_then(lambda r, ch: r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A,
                                                      callback=r.cb("q"))), BOTH)
case("closed-query-bad-type", closed_then(lambda r, ch: r.call("query", ch.query, "a.test", 9999, callback=r.cb("q"))))
case("closed-query-bad-callback", closed_then(lambda r, ch: r.call("query", ch.query, "a.test", 1, callback=42)))
case("closed-search", closed_then(lambda r, ch: r.call("search", ch.search, "a", r.lib.QUERY_TYPE_A,
                                                       callback=r.cb("q"))))
case("closed-gethostbyaddr", closed_then(lambda r, ch: r.call("gethostbyaddr", ch.gethostbyaddr, "192.0.2.10",
                                                              callback=r.cb("q"))))
case("closed-getaddrinfo", closed_then(lambda r, ch: r.call("getaddrinfo", ch.getaddrinfo, "a.test", 80,
                                                            callback=r.cb("q"))))
case("closed-getnameinfo", closed_then(lambda r, ch: r.call("getnameinfo", ch.getnameinfo, ("192.0.2.10", 80),
                                                            NI_NUM, callback=r.cb("q"))))
case("closed-cancel", closed_then(lambda r, ch: r.call("cancel", ch.cancel)))
case("closed-reinit", closed_then(lambda r, ch: r.call("reinit", ch.reinit)))
case("closed-timeout", closed_then(lambda r, ch: r.call("timeout", ch.timeout)))
case("closed-process-fd", closed_then(lambda r, ch: r.call("process_fd", ch.process_fd, -1, -1)))
case("closed-servers-get", closed_then(lambda r, ch: r.call("servers", lambda: ch.servers)))
case("closed-servers-set", closed_then(lambda r, ch: r.call("servers=", setattr, ch, "servers", ["127.0.0.1"])))
case("closed-set-local-ip", closed_then(lambda r, ch: r.call("set_local_ip", ch.set_local_ip, "127.0.0.1")))
case("closed-set-local-dev", closed_then(lambda r, ch: r.call("set_local_dev", ch.set_local_dev, "lo")))
case("closed-wait", closed_then(lambda r, ch: r.call("wait", ch.wait, 0.1)))


# wait()
def _wait(pending: Optional[str], timeout: Any, nsd: bool = False) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel(nsd=nsd)
        if pending:
            r.call("query", ch.query, pending, r.lib.QUERY_TYPE_A, callback=r.cb("q"))
        args = () if timeout is NOARG else (timeout,)
        t0 = time.monotonic()
        r.call("wait", ch.wait, *args)
        took = time.monotonic() - t0
        r.call("wait took", lambda: "<0.5s" if took < 0.5 else "<1.5s" if took < 1.5 else ">=1.5s")
        r.call("cancel", ch.cancel)
        r.wait(1.0)
    return scenario


case("wait-idle", _wait(None, 0.5), ("thread",))
case("wait-idle-no-timeout", _wait(None, NOARG), ("thread",))
case("wait-idle-None", _wait(None, None), ("thread",))
case("wait-answered", _wait("www.example.test", 2.0, nsd=True), ("thread",))
case("wait-answered-no-timeout", _wait("www.example.test", NOARG, nsd=True), ("thread",))
case("wait-timeout", _wait("drop.test", 0.3), ("thread",))
case("wait-zero", _wait("drop.test", 0), ("thread",))
case("wait-negative-idle", _wait(None, -1), ("thread",))
case("wait-str", _wait(None, "1"), ("thread",))
case("wait-sock-idle", _wait(None, 0.2))


def _wait_in_callback(r: Run) -> None:
    ch = r.channel(nsd=True)
    record = r.cb("q")

    def cb(result: Any, errno: Any) -> None:
        r.call("wait-in-callback", ch.wait, 0.3)
        record(result, errno)
    r.call("query", ch.query, "www.example.test", r.lib.QUERY_TYPE_A, callback=cb)
    r.wait(3.0)


def _wait_in_callback_pending(r: Run) -> None:
    ch = r.channel()
    record = r.cb("q")

    def cb(result: Any, errno: Any) -> None:
        t0 = time.monotonic()
        r.call("wait-in-callback", ch.wait, 0.3)
        r.call("wait took", lambda: "<0.2s" if time.monotonic() - t0 < 0.2 else ">=0.2s")
        record(result, errno)
    # The never-answered query goes first: it is pending whenever the other one's callback runs
    # (the event thread can answer a.test before the main thread's next call). So in the
    # cancel/close-inside-callback cases too.
    r.call("query2", ch.query, "drop.test", r.lib.QUERY_TYPE_A, callback=r.cb("q2"))
    r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, callback=cb)
    r.wait(3.0)


case("wait-inside-callback", _wait_in_callback, ("thread",))
case("wait-inside-callback-pending", _wait_in_callback_pending, ("thread",))


# reinit()
def _reinit_then_query(r: Run) -> None:
    ch = r.channel()
    r.call("reinit", ch.reinit)
    r.call("servers", lambda: ch.servers, result=r.portless)
    r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, callback=r.cb("q"))
    r.drive(ch)


case("reinit", _reinit_then_query, BOTH)


# timeout(), process_fd()
def _tclass(v: Any) -> Any:
    if not isinstance(v, float):
        return ["not a float", type(v).__name__]
    if v == 0.0:
        return 0.0
    return "(0,0.5]" if v <= 0.5 else "(0.5,1]" if v <= 1.0 else "(1,10]" if v <= 10 else ">10"


def _timeout_case(*args: Any, pending: bool) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel(timeout=1.0)
        if pending:
            r.call("query", ch.query, "drop.test", r.lib.QUERY_TYPE_A, callback=r.cb("q"))
        r.call("timeout", ch.timeout, *args, result=_tclass)
        r.call("cancel", ch.cancel)
        r.wait(1.0)
    return scenario


case("timeout-idle", _timeout_case(pending=False))
case("timeout-idle-cap", _timeout_case(0.3, pending=False))
case("timeout-pending", _timeout_case(pending=True))
case("timeout-pending-cap-smaller", _timeout_case(0.3, pending=True))
case("timeout-pending-cap-larger", _timeout_case(5.0, pending=True))
case("timeout-negative", _timeout_case(-1.0, pending=False))
case("timeout-str", _timeout_case("1", pending=False))


def _process(method: str, *args: Any) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel()
        real = [a(r) if callable(a) else a for a in args]
        r.call(method, getattr(ch, method), *real)
    return scenario


BAD = lambda r: r.lib.ARES_SOCKET_BAD  # noqa: E731
case("process_fd-bad-bad", _process("process_fd", BAD, BAD))
case("process_fd-unknown-fd", _process("process_fd", 1000, 1000))
case("process_fd-None", _process("process_fd", None, None))
case("process_fd-one-arg", _process("process_fd", BAD))
case("process_read_fd", _process("process_read_fd", 1000))
case("process_write_fd", _process("process_write_fd", 1000))


# servers
def _servers(value: Any, query: bool = True, **chopts: Any) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel(**chopts)
        v = value(r) if callable(value) else value
        r.call("servers=", setattr, ch, "servers", v)
        r.call("servers", lambda: ch.servers, result=r.portless)
        if query:
            r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, callback=r.cb("q"))
            r.drive(ch)
    return scenario


PORTLESS = {"udp_port": DEFAULT, "tcp_port": DEFAULT}
case("servers-get", on_channel(lambda r, ch: r.call("servers", lambda: ch.servers, result=r.portless)), BOTH)
case("servers-get-default-ports", on_channel(lambda r, ch: r.call("servers", lambda: ch.servers, result=r.portless), **PORTLESS))
case("servers-get-udp-port-only", on_channel(lambda r, ch: r.call("servers", lambda: ch.servers, result=r.portless),
                                             udp_port=5300, tcp_port=DEFAULT))
case("servers-get-tcp-port-only", on_channel(lambda r, ch: r.call("servers", lambda: ch.servers, result=r.portless),
                                             tcp_port=5300, udp_port=DEFAULT))
case("servers-get-different-ports", on_channel(lambda r, ch: r.call("servers", lambda: ch.servers, result=r.portless),
                                               udp_port=5300, tcp_port=5301))
case("servers-get-ipv6", on_channel(lambda r, ch: r.call("servers", lambda: ch.servers, result=r.portless), servers=["::1"]))
case("servers-get-ctor-with-port", on_channel(lambda r, ch: r.call("servers", lambda: ch.servers, result=r.portless),
                                              servers=["127.0.0.1:5353"], **PORTLESS))
case("servers-set-list", _servers(["127.0.0.1"]), BOTH)
case("servers-set-with-port", _servers(lambda r: [f"127.0.0.1:{r.fault.port}"], **PORTLESS))
case("servers-set-ipv6-port", _servers(["[::1]:5353"], query=False))
case("servers-set-uri", _servers(lambda r: [f"dns://127.0.0.1:{r.fault.port}"], **PORTLESS))
case("servers-set-uri-tcpport", _servers(["dns://127.0.0.1:5300?tcpport=5301"], query=False))
case("servers-set-two", _servers(["127.0.0.1", "::1"], query=False))
case("servers-set-tuple", _servers(("127.0.0.1",)))
case("servers-set-bytes", _servers([b"127.0.0.1"]))
case("servers-set-invalid", _servers(["not-an-ip"]))
case("servers-set-hostname", _servers(["localhost"], query=False))
case("servers-set-int-item", _servers([1], query=False))
case("servers-set-None", _servers(None, query=False))
case("servers-set-plain-str", _servers("127.0.0.1"))
case("servers-set-generator", _servers(lambda r: (s for s in ["127.0.0.1"])))
case("servers-set-empty", _servers([], query=False))
case("servers-ctor-invalid", construct(servers=["not-an-ip"]))
case("servers-ctor-tuple", construct(servers=("127.0.0.1",)))
case("servers-ctor-empty", construct(servers=[]))


# set_local_ip() / set_local_dev()
def _local(method: str, value: Any) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel()
        r.call(method, getattr(ch, method), value)
        r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, callback=r.cb("q"))
        r.drive(ch)
    return scenario


case("set_local_ip-v4", _local("set_local_ip", "127.0.0.1"), BOTH)
case("set_local_ip-bytes", _local("set_local_ip", b"127.0.0.1"))
case("set_local_ip-invalid", _local("set_local_ip", "not-an-ip"))
case("set_local_ip-None", _local("set_local_ip", None))
case("set_local_dev-str", _local("set_local_dev", "lo"))
case("set_local_dev-bytes", _local("set_local_dev", b"lo"))

# the constructor
case("ctor-defaults", construct(), BOTH)
case("ctor-positional", lambda r: r.call("Channel", r.lib.Channel, 0, 1.0, result=lambda c: type(c).__name__))
case("ctor-unknown-keyword", construct(bogus=1))
case("ctor-event_thread-keyword", construct(event_thread=True))
case("ctor-flags-norecurse", construct(flags=4))
case("ctor-flags-edns", construct(flags=1 << 8))
case("ctor-timeout-int", construct(timeout=1))
case("ctor-tries-2", construct(tries=2))
case("ctor-ndots-2", construct(ndots=2))
case("ctor-domains", construct(domains=["example.test", b"other.test"]))
case("ctor-domains-empty", construct(domains=[]))
case("ctor-lookups-bytes", construct(lookups=b"b"))
case("ctor-lookups-empty", construct(lookups=""))
case("ctor-sock_state_cb-not-callable", construct(sock_state_cb=42))
case("ctor-sock_state_cb-None", construct(sock_state_cb=None))
case("ctor-rotate", construct(rotate=True))
case("ctor-sndbuf", construct(socket_send_buffer_size=65536, socket_receive_buffer_size=65536))
case("ctor-local_ip", construct(local_ip="127.0.0.1"))
case("ctor-local_ip-invalid", construct(local_ip="not-an-ip"))
case("ctor-local_dev", construct(local_dev="lo"))
case("ctor-resolvconf-missing", construct(resolvconf_path="/nonexistent/resolv.conf"))


# results as objects
def _result_object(check: Callable[[Run, Any], Any], label: str, name: str = "www.example.test", t: str = "A",
                   pick: Callable[[Any], Any] = lambda v: v, method: str = "query") -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel(nsd=True)
        got: List[Any] = []
        holder = r.cb("keep")

        def keep(result: Any, errno: Any) -> None:
            got.append(result)
            holder(None, errno)
        if method == "query":
            r.call("query", ch.query, name, _t(r, t), callback=keep)
        elif method == "getaddrinfo":
            r.call("getaddrinfo", ch.getaddrinfo, name, 80, callback=keep)
        elif method == "gethostbyaddr":
            r.call("gethostbyaddr", ch.gethostbyaddr, "192.0.2.10", callback=keep)
        else:
            r.call("getnameinfo", ch.getnameinfo, ("192.0.2.10", 80), NI_NUMERICSERV, callback=keep)
        r.drive(ch)
        if got and got[0] is not None:
            r.call(label, check, r, pick(got[0]))
    return scenario


def _pickled(r: Run, v: Any) -> Any:
    return pickle.loads(pickle.dumps(v)) == v


def _hash(r: Run, v: Any) -> Any:
    return hash(v)


def _replace(r: Run, v: Any) -> Any:
    f = dataclasses.fields(v)[0].name
    return repr(dataclasses.replace(v, **{f: getattr(v, f)}))


def _setattr(r: Run, v: Any) -> Any:
    f = dataclasses.fields(v)[0].name
    setattr(v, f, "changed")
    return repr(v)


_OBJ_CHECKS: Dict[str, Callable[[Run, Any], Any]] = {
    "is_dataclass": lambda r, v: (dataclasses.is_dataclass(v), dataclasses.is_dataclass(type(v))),
    "fields": lambda r, v: [f.name for f in dataclasses.fields(v)],
    "asdict": lambda r, v: dataclasses.asdict(v),
    "astuple": lambda r, v: dataclasses.astuple(v),
    "replace": _replace,
    "eq-self-copy": lambda r, v: v == dataclasses.replace(v),
    "ne-other": lambda r, v: v != 1,
    "hash": _hash,
    "pickle": _pickled,
    "setattr-field": _setattr,
    "setattr-new": lambda r, v: setattr(v, "extra_attribute", 1),
    "has-dict": lambda r, v: hasattr(v, "__dict__"),
    "weakref": lambda r, v: __import__("weakref").ref(v)() is v,
    "class-name": lambda r, v: (type(v).__name__, type(v).__qualname__),
    "isinstance-lib-class": lambda r, v: isinstance(v, getattr(r.lib, type(v).__name__)),
    "str": lambda r, v: str(v),
}
_PICKS: Dict[str, Tuple[str, str, str, Callable[[Any], Any]]] = {
    "DNSResult": ("www.example.test", "A", "query", lambda v: v),
    "DNSRecord": ("www.example.test", "A", "query", lambda v: v.answer[0]),
    "ARecordData": ("www.example.test", "A", "query", lambda v: v.answer[0].data),
    "MXRecordData": ("example.test", "MX", "query", lambda v: v.answer[0].data),
    "TXTRecordData": ("txt.example.test", "TXT", "query", lambda v: v.answer[0].data),
    "SOARecordData": ("example.test", "SOA", "query", lambda v: v.answer[0].data),
    "HTTPSRecordData": ("web.example.test", "HTTPS", "query", lambda v: v.answer[0].data),
    "AddrInfoResult": ("www.example.test", "A", "getaddrinfo", lambda v: v),
    "AddrInfoNode": ("www.example.test", "A", "getaddrinfo", lambda v: v.nodes[0]),
    "HostResult": ("", "", "gethostbyaddr", lambda v: v),
    "NameInfoResult": ("", "", "getnameinfo", lambda v: v),
}
for _cls, (_n, _ty, _meth, _pick) in _PICKS.items():
    for _chk, _fn in _OBJ_CHECKS.items():
        case(f"result-{_cls}-{_chk}", _result_object(_fn, _chk, _n, _ty, _pick, _meth))

# the module
P5_ALL = ("ARES_FLAG_USEVC", "ARES_FLAG_PRIMARY", "ARES_FLAG_IGNTC", "ARES_FLAG_NORECURSE", "ARES_FLAG_STAYOPEN",
          "ARES_FLAG_NOSEARCH", "ARES_FLAG_NOALIASES", "ARES_FLAG_NOCHECKRESP", "ARES_FLAG_EDNS",
          "ARES_FLAG_NO_DFLT_SVR", "ARES_NI_NOFQDN", "ARES_NI_NUMERICHOST", "ARES_NI_NAMEREQD",
          "ARES_NI_NUMERICSERV", "ARES_NI_DGRAM", "ARES_NI_TCP", "ARES_NI_UDP", "ARES_NI_SCTP", "ARES_NI_DCCP",
          "ARES_NI_NUMERICSCOPE", "ARES_NI_LOOKUPHOST", "ARES_NI_LOOKUPSERVICE", "ARES_NI_IDN",
          "ARES_NI_IDN_ALLOW_UNASSIGNED", "ARES_NI_IDN_USE_STD3_ASCII_RULES", "ARES_SOCKET_BAD", "QUERY_TYPE_A",
          "QUERY_TYPE_AAAA", "QUERY_TYPE_ANY", "QUERY_TYPE_CAA", "QUERY_TYPE_CNAME", "QUERY_TYPE_HTTPS",
          "QUERY_TYPE_MX", "QUERY_TYPE_NAPTR", "QUERY_TYPE_NS", "QUERY_TYPE_PTR", "QUERY_TYPE_SOA", "QUERY_TYPE_SRV",
          "QUERY_TYPE_TLSA", "QUERY_TYPE_TXT", "QUERY_TYPE_URI", "QUERY_CLASS_IN", "QUERY_CLASS_CHAOS",
          "QUERY_CLASS_HS", "QUERY_CLASS_NONE", "QUERY_CLASS_ANY", "AresError", "Channel", "DNSResult",
          "DNSRecord", "ARecordData", "AAAARecordData", "MXRecordData", "TXTRecordData", "CAARecordData",
          "CNAMERecordData", "HTTPSRecordData", "NAPTRRecordData", "NSRecordData", "PTRRecordData",
          "SOARecordData", "SRVRecordData", "TLSARecordData", "URIRecordData", "HostResult", "NameInfoResult",
          "AddrInfoResult", "AddrInfoNode", "AddrInfoCname", "errno")
RESULT_CLASSES = [n for n in P5_ALL if n.endswith(("Data", "Result", "Record", "Node", "Cname"))]


def _kind(value: Any) -> Any:
    if isinstance(value, int):
        return value
    if isinstance(value, type):
        return "class"
    return "callable" if callable(value) else type(value).__name__


case("module-public-names", module("names", lambda lib: {n: _kind(getattr(lib, n, None)) for n in P5_ALL}))
case("module-all-superset", module("__all__", lambda lib: sorted(set(P5_ALL) - set(lib.__all__))))
case("module-ARES_VERSION-type", module("ARES_VERSION", lambda lib: type(lib.ARES_VERSION).__name__))
case("module-version-type", module("__version__", lambda lib: type(lib.__version__).__name__))
case("module-AresError", module("AresError", lambda lib: (issubclass(lib.AresError, Exception),
                                                          lib.AresError(1, "x").args)))
case("module-result-fields", module("fields", lambda lib: {
    n: [f.name for f in dataclasses.fields(getattr(lib, n))] for n in RESULT_CLASSES}))
case("module-result-construct", module("construct", lambda lib: repr(lib.MXRecordData(priority=1, exchange="x"))))
case("module-result-construct-positional", module("construct", lambda lib: repr(lib.ARecordData("192.0.2.1"))))
case("module-result-construct-missing", module("construct", lambda lib: lib.ARecordData()))
case("module-result-eq", module("eq", lambda lib: (lib.ARecordData("1") == lib.ARecordData("1"),
                                                   lib.ARecordData("1") == lib.AAAARecordData("1"))))
case("module-utils", module("utils", lambda lib: (type(lib.utils).__name__, lib.utils.__name__.split(".")[-1])))
case("module-errno", module("errno", lambda lib: lib.errno.__name__.split(".")[-1]))
CHANNEL_NAMES = ("cancel", "close", "getaddrinfo", "gethostbyaddr", "getnameinfo", "process_fd", "process_read_fd",
                 "process_write_fd", "query", "reinit", "search", "servers", "set_local_dev", "set_local_ip",
                 "timeout", "wait", "__del__",
                 # pycares 4's, gone in pycares 5
                 "gethostbyname", "getsock", "destroy", "query_dns", "search_dns")
case("channel-names", module("hasattr(Channel)", lambda lib: {n: hasattr(lib.Channel, n) for n in CHANNEL_NAMES}))
case("channel-instance-names", on_channel(lambda r, ch: r.call("hasattr(ch)", lambda: {
    n: hasattr(ch, n) for n in CHANNEL_NAMES if n != "__del__"})))
case("module-utils-names", module("utils", lambda lib: [hasattr(lib.utils, n) for n in
                                                        ("ascii_bytes", "maybe_str", "parse_name")]))
for _arg_id, _arg in [("str", "abc"), ("bytes", b"abc"), ("int", 1), ("nonascii", "é"), ("None", None)]:
    case(f"ascii_bytes-{_arg_id}", module("ascii_bytes", lambda lib, a=_arg: lib.utils.ascii_bytes(a)))
for _arg_id, _arg in [("str", "abc"), ("bytes", b"abc"), ("nonascii-bytes", b"\xff"), ("int", 1)]:
    case(f"maybe_str-{_arg_id}", module("maybe_str", lambda lib, a=_arg: lib.utils.maybe_str(a)))
for _arg_id, _arg in [("str", "a.test"), ("bytes", b"a.test"), ("idn", "bücher.test"), ("int", 1),
                      ("idn-invalid", "☃.test"), ("too-long", LONG_NAME), ("label-too-long", LABEL_64)]:
    case(f"parse_name-{_arg_id}", module("parse_name", lambda lib, a=_arg: lib.utils.parse_name(a)))
ERRNO_NAMES = ["ARES_SUCCESS", "ARES_ENODATA", "ARES_EFORMERR", "ARES_ESERVFAIL", "ARES_ENOTFOUND",
               "ARES_ENOTIMP", "ARES_EREFUSED", "ARES_EBADQUERY", "ARES_EBADNAME", "ARES_EBADFAMILY",
               "ARES_EBADRESP", "ARES_ECONNREFUSED", "ARES_ETIMEOUT", "ARES_EOF", "ARES_EFILE", "ARES_ENOMEM",
               "ARES_EDESTRUCTION", "ARES_EBADSTR", "ARES_EBADFLAGS", "ARES_ENONAME", "ARES_EBADHINTS",
               "ARES_ENOTINITIALIZED", "ARES_ELOADIPHLPAPI", "ARES_EADDRGETNETWORKPARAMS", "ARES_ECANCELLED",
               "ARES_ESERVICE"]  # (pycares 5.2.1 has no ARES_ENOSERVER; pycares_ng's is extra)
case("errno-constants", module("errno", lambda lib: {n: getattr(lib.errno, n, None) for n in ERRNO_NAMES}))
case("errno-errorcode", module("errorcode", lambda lib: {k: v for k, v in sorted(lib.errno.errorcode.items()) if k < 26}))
case("errno-strerror-all", module("strerror", lambda lib: {c: lib.errno.strerror(c) for c in range(0, 26)}))
case("errno-strerror-unknown", module("strerror", lambda lib: lib.errno.strerror(1000)))


# -- the child's main ----------------------------------------------------------------------------

def _load(lib_name: str) -> Any:
    if lib_name == "p5":
        import pycares  # the real pycares 5.2.1 (PYTHONPATH)
        import oracle_keepalive  # its Channel() frees its lookups/resolvconf_path strings early
        oracle_keepalive.install(pycares)
        return pycares
    import pycares_ng.v5
    return pycares_ng.v5


def main() -> None:
    spec = json.loads(sys.stdin.read())
    lib = _load(spec["lib"])
    from pycares_ng.testing import FaultServer  # the pure-Python test server
    fault = FaultServer()
    fault.rules.update(FAULT_RULES)
    fault.add_record("a.test", "A", "192.0.2.1", ttl=60)
    fault.add_record("mx.test", "MX", struct.pack("!H", 10) + b"\x04mail\x04test\x00", ttl=60)
    fault.records[("trunc.test", "A")] = [(60, bytes([192, 0, 2, 70]))]
    # record types pycares 5.2.1 has no class for, beside one it has (it leaves them out)
    fault.add_record("mixed.test", "A", "192.0.2.80", ttl=61)
    fault.add_record("mixed.test", 13, b"\x03cpu\x02os", ttl=62)  # HINFO
    fault.add_record("mixed.test", 48, b"\x01\x01\x03\x0d" + b"k" * 32, ttl=63)  # DNSKEY
    fault.add_record("mixed.test", 43, b"\x30\x39\x0d\x02" + b"d" * 32, ttl=64)  # DS
    fault.add_record("mixed.test", 64, b"\x00\x01\x00", ttl=65)  # SVCB 1 .
    fault.add_record("mixed.test", 44, b"\x01\x01" + b"f" * 20, ttl=66)  # SSHFP
    fault.add_record("mixed.test", 99, b"\x05v=spf", ttl=67)  # SPF
    fault.start()
    unraisable: List[str] = []
    sys.unraisablehook = lambda u: unraisable.append(type(u.exc_value).__name__)
    results: Dict[str, Any] = {"identity": {"lib": getattr(lib, "__name__", "?"),
                                            "file": getattr(lib, "__file__", "?"),
                                            "ARES_VERSION": lib.ARES_VERSION}}
    records: Dict[str, Any] = {}
    import faulthandler
    for case_id, mode in spec["cases"]:
        scenario = CASES[case_id][0]
        sys.stderr.write(f"case {case_id}[{mode}]\n")
        sys.stderr.flush()
        faulthandler.dump_traceback_later(60, exit=True)
        unraisable.clear()
        run = Run(lib, mode, fault, spec["nsd_port"], spec["resolvconf"])
        run.unraisable = unraisable
        try:
            try:
                scenario(run)
            except Exception as exc:  # noqa: BLE001
                run.calls.append(["scenario raised", raised(exc, lib)])
            record = run.finish()
            record["unraisable"] = list(unraisable)
        except BaseException:  # noqa: BLE001
            record = {"child error": traceback.format_exc()}
        faulthandler.cancel_dump_traceback_later()
        records[f"{case_id}[{mode}]"] = record
    fault.stop()
    results["records"] = records
    sys.stdout.write(json.dumps(results) + "\n")
    sys.stdout.flush()
    os._exit(0)  # pycares 5.2.1's shutdown thread and channels left to the OS


if __name__ == "__main__":
    main()
