"""The differential table: every pycares 4.11 call, through pycares 4.11 and through pycares_ng.

Each case runs one scenario twice, once per library, each on its own channel pointed at the same
loopback FaultServer (servers=["127.0.0.1"] with udp_port/tcp_port, an empty resolv.conf, a hosts
file through CARES_HOSTS), driven by the same select loop (sock_state_cb mode) or by the event
thread (event_thread=True, which pycares 4.11 supports because its bundled c-ares is thread-safe).
What a program sees is compared (see tests/oracle/pycares4_oracle.py): return values and exceptions
(pycares_ng may raise a subclass), callback results and errnos and when each ran (inside which
call, in the loop, or on another thread), sock_state_cb calls, and what reached the server.

Where pycares 4.11 itself is wrong, the case is listed in ALLOWED with the reason, and it asserts
pycares_ng's better behaviour instead (the oracle's record with the fix applied).
"""
from __future__ import annotations

import pickle
import socket
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import pycares
import pycares_ng

from pycares4_oracle import (ANYTHING, DEFAULT, OneOf, Raised, RaisesOneOf, Run, empty_resolv_conf, hosts_file,
                             make_server, observe, reconcile)

AF_INET, AF_INET6, AF_UNSPEC = socket.AF_INET, socket.AF_INET6, socket.AF_UNSPEC
NOARG = object()
LONG_NAME = ("a" * 62 + ".") * 4 + "test"          # 256 octets
NAME_253 = ("a" * 62 + ".") * 3 + "a" * 61         # exactly 253 octets
LABEL_64 = "a" * 64 + ".test"
LABEL_63 = "a" * 63 + ".test"


@dataclass
class Case:
    id: str
    scenario: Callable[[Run], None]
    modes: Tuple[str, ...] = ("sock",)


CASES: List[Case] = []


def case(id: str, scenario: Callable[[Run], None], modes: Tuple[str, ...] = ("sock",)) -> None:
    assert all(c.id != id for c in CASES), id
    CASES.append(Case(id, scenario, modes))


BOTH = ("sock", "thread")


def qtype(r: Run, t: Any) -> Any:
    return getattr(r.lib, "QUERY_TYPE_" + t) if isinstance(t, str) and t.isupper() else t


def qclass(r: Run, c: Any) -> Any:
    return getattr(r.lib, "QUERY_CLASS_" + c) if isinstance(c, str) and c.isupper() else c


# -- scenario builders -------------------------------------------------------------------------------

def Q(name: Any, t: Any = "A", method: str = "query", cls: Any = NOARG, callback: Any = True,
      chopts: Optional[Dict[str, Any]] = None, kw: bool = False) -> Callable[[Run], None]:
    """One query()/search() and drive it to completion."""
    def scenario(r: Run) -> None:
        ch = r.channel(**(chopts or {}))
        cb = r.cb("q") if callback is True else callback
        kwargs = {} if cls is NOARG else {"query_class": qclass(r, cls)}
        if kw:
            r.call(method, getattr(ch, method), name=name, query_type=qtype(r, t), callback=cb, **kwargs)
        else:
            r.call(method, getattr(ch, method), name, qtype(r, t), cb, **kwargs)
        r.drive(ch)
    return scenario


def M(method: str, *args: Any, chopts: Optional[Dict[str, Any]] = None, callback: Any = True,
      cb_pos: Optional[int] = None, **kwargs: Any) -> Callable[[Run], None]:
    """One Channel method call whose arguments are `args` with the callback at cb_pos (default:
    last positional) and drive it to completion."""
    def scenario(r: Run) -> None:
        ch = r.channel(**(chopts or {}))
        real = list(args)
        if callback is not None:
            cb = r.cb("cb") if callback is True else callback
            real.insert(len(real) if cb_pos is None else cb_pos, cb)
        r.call(method, getattr(ch, method), *real, **kwargs)
        r.drive(ch)
    return scenario


def closed_then(step: Callable[[Run, Any], None]) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel()
        r.call("close", ch.close)
        step(r, ch)
        r.wait(0.5)
    return scenario


def on_channel(step: Callable[[Run, Any], None], **chopts: Any) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel(**chopts)
        step(r, ch)
        r.drive(ch)
    return scenario


def module(label: str, f: Callable[[Any], Any]) -> Callable[[Run], None]:
    """f(lib) for a module-level name (no channel)."""
    def scenario(r: Run) -> None:
        r.call(label, f, r.lib)
    return scenario


def construct(**opts: Any) -> Callable[[Run], None]:
    """Channel(**opts) (on top of the harness defaults), then one A query if it was created."""
    def scenario(r: Run) -> None:
        ch = r.call("Channel", r.channel, result=lambda c: type(c).__name__, **opts)
        if ch is not None:
            r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, r.cb("q"))
            r.drive(ch)
    return scenario


# -- query(), every type, good answers -----------------------------------------------------------------

for _t, _name in [("A", "a.test"), ("AAAA", "a.test"), ("CNAME", "cname.test"), ("MX", "mx.test"),
                  ("NS", "ns.test"), ("PTR", "10.2.0.192.in-addr.arpa"), ("SOA", "soa.test"),
                  ("SRV", "_sip._tcp.srv.test"), ("TXT", "txt.test"), ("NAPTR", "naptr.test"),
                  ("CAA", "caa.test"), ("ANY", "any.test")]:
    case(f"query-{_t}", Q(_name, _t), BOTH)
case("query-PTR-ip6", Q("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR"))
case("query-TXT-multistring", Q("txtmulti.test", "TXT"))
case("query-TXT-binary", Q("txtbin.test", "TXT"))
case("query-TXT-empty", Q("txtempty.test", "TXT"))
case("query-ANY-idn", Q("xn--bcher-kva.test", "ANY"))
case("query-keywords", Q("a.test", "A", kw=True))
case("query-class-IN", Q("a.test", "A", cls="IN"))
case("query-class-CHAOS", Q("chaos.test", "TXT", cls="CHAOS"))
case("query-class-HS", Q("chaos.test", "TXT", cls="HS"))
case("query-class-NONE", Q("chaos.test", "TXT", cls="NONE"))
case("query-class-ANY", Q("chaos.test", "TXT", cls="ANY"))
case("query-class-None", Q("a.test", "A", cls=None))
case("query-bytes-name", Q(b"a.test", "A"))
case("query-trailing-dot", Q("a.test.", "A"))
case("query-upper-case", Q("A.TEST", "A"))
case("query-idn", Q("bücher.test", "A"), BOTH)
case("query-name-253", Q(NAME_253, "A"))
case("query-label-63", Q(LABEL_63, "A"))
case("query-empty-name", Q("", "A"))
case("query-root", Q(".", "A"))
case("query-tcp-fallback", Q("trunc.test", "A"))
case("query-usevc", Q("a.test", "A", chopts={"flags": pycares.ARES_FLAG_USEVC}))

# -- query(): errors from the server ------------------------------------------------------------------
case("query-nxdomain", Q("nx.test", "A"), BOTH)
case("query-servfail", Q("servfail.test", "A"))
case("query-refused", Q("refused.test", "A"))
case("query-nodata", Q("nodata.test", "A"))
case("query-nodata-AAAA", Q("a4.test", "AAAA"))
case("query-nodata-MX", Q("a.test", "MX"))
case("query-nodata-SOA", Q("a.test", "SOA"))
case("query-nodata-CNAME", Q("a.test", "CNAME"))
case("query-nodata-PTR", Q("a.test", "PTR"))
case("query-nodata-ANY", Q("nodata.test", "ANY"))
case("query-timeout", Q("drop.test", "A", chopts={"timeout": 0.2}), BOTH)
case("query-garbage-reply", Q("garbage.test", "A", chopts={"timeout": 0.3}))
case("query-bad-rdata", Q("badrdata.test", "A"))
case("query-short-header", Q("shortheader.test", "A", chopts={"timeout": 0.3}))
case("query-pointer-loop", Q("pointerloop.test", "A"))

# -- query(): bad input ------------------------------------------------------------------------------
case("query-name-int", Q(5, "A"))
case("query-name-None", Q(None, "A"))
case("query-name-list", Q(["a.test"], "A"))
case("query-name-bytearray", Q(bytearray(b"a.test"), "A"))
case("query-name-nonascii-bytes", Q(b"\xff.test", "A"))
case("query-name-too-long", Q(LONG_NAME, "A"), BOTH)
case("query-label-too-long", Q(LABEL_64, "A"), BOTH)
case("query-name-nul", Q("a.test\x00evil", "A"))
case("query-name-nul-bytes", Q(b"a.test\x00evil", "A"))
case("query-idn-invalid", Q("☃.test", "A"))
case("query-idn-surrogate", Q("\udcff.test", "A"))
case("query-idn-label-too-long", Q("ü" * 64 + ".test", "A"))
case("query-idn-label-huge", Q("ü" * 300 + ".test", "A"))
case("query-idn-uppercase", Q("Bücher.test", "A"))
case("query-type-invalid", Q("a.test", 9999))
case("query-type-negative", Q("a.test", -1))
case("query-type-str", Q("a.test", "a"))
case("query-type-None", Q("a.test", None))
case("query-class-invalid", Q("a.test", "A", cls=99))
case("query-class-str", Q("a.test", "A", cls="in"))
case("query-callback-None", Q("a.test", "A", callback=None))
case("query-callback-not-callable", Q("a.test", "A", callback=42))
case("query-type-invalid-and-bad-callback", Q("a.test", 9999, callback=42))
case("query-bad-class-and-bad-name", Q(5, "A", cls=99))

# -- search() ---------------------------------------------------------------------------------------
SEARCH = {"domains": ["search.test"], "ndots": 1}
case("search-domains", Q("host", "A", method="search", chopts=SEARCH), BOTH)
case("search-fqdn", Q("a.test", "A", method="search", chopts=SEARCH))
case("search-nxdomain", Q("nothere", "A", method="search", chopts=SEARCH))
case("search-TXT", Q("txt.test", "TXT", method="search", chopts=SEARCH))
case("search-class-CHAOS", Q("chaos.test", "TXT", method="search", cls="CHAOS", chopts=SEARCH))
case("search-name-int", Q(5, "A", method="search"))
case("search-name-too-long", Q(LONG_NAME, "A", method="search"))
case("search-name-nul", Q("host\x00.evil", "A", method="search", chopts=SEARCH))
case("search-type-invalid", Q("host", 9999, method="search"))
case("search-class-invalid", Q("host", "A", method="search", cls=99))
case("search-callback-not-callable", Q("host", "A", method="search", callback=42))
case("search-keywords", Q("host", "A", method="search", chopts=SEARCH, kw=True))

# -- gethostbyname() --------------------------------------------------------------------------------
case("gethostbyname-inet", M("gethostbyname", "a.test", AF_INET), BOTH)
case("gethostbyname-inet6", M("gethostbyname", "a.test", AF_INET6), BOTH)
case("gethostbyname-unspec", M("gethostbyname", "a.test", AF_UNSPEC))
case("gethostbyname-bytes", M("gethostbyname", b"a.test", AF_INET))
case("gethostbyname-numeric", M("gethostbyname", "192.0.2.5", AF_INET))
case("gethostbyname-numeric6", M("gethostbyname", "2001:db8::5", AF_INET6))
case("gethostbyname-nxdomain", M("gethostbyname", "nx.test", AF_INET))
case("gethostbyname-nodata6", M("gethostbyname", "a4.test", AF_INET6))
case("gethostbyname-timeout", M("gethostbyname", "drop.test", AF_INET, chopts={"timeout": 0.2}))
case("gethostbyname-family-negative", M("gethostbyname", "a.test", -1), BOTH)
case("gethostbyname-family-unknown", M("gethostbyname", "a.test", 12345))
case("gethostbyname-family-str", M("gethostbyname", "a.test", "AF_INET"))
case("gethostbyname-family-None", M("gethostbyname", "a.test", None))
case("gethostbyname-family-huge", M("gethostbyname", "a.test", 2 ** 40))
case("gethostbyname-name-int", M("gethostbyname", 5, AF_INET))
case("gethostbyname-name-None", M("gethostbyname", None, AF_INET))
case("gethostbyname-name-too-long", M("gethostbyname", LONG_NAME, AF_INET))
case("gethostbyname-label-too-long", M("gethostbyname", LABEL_64, AF_INET))
case("gethostbyname-name-nul", M("gethostbyname", "a.test\x00x", AF_INET))
case("gethostbyname-idn", M("gethostbyname", "bücher.test", AF_INET))
case("gethostbyname-idn-invalid", M("gethostbyname", "☃.test", AF_INET))
case("gethostbyname-callback-not-callable", M("gethostbyname", "a.test", AF_INET, callback=42))

# -- gethostbyaddr() --------------------------------------------------------------------------------
case("gethostbyaddr-v4", M("gethostbyaddr", "192.0.2.10"), BOTH)
case("gethostbyaddr-v6", M("gethostbyaddr", "2001:db8::10"), BOTH)
case("gethostbyaddr-bytes", M("gethostbyaddr", b"192.0.2.10"))
case("gethostbyaddr-nxdomain", M("gethostbyaddr", "192.0.2.99"))
case("gethostbyaddr-invalid", M("gethostbyaddr", "not-an-ip"))
case("gethostbyaddr-v4-prefix", M("gethostbyaddr", "192.0.2"))
case("gethostbyaddr-hostname", M("gethostbyaddr", "a.test"))
case("gethostbyaddr-int", M("gethostbyaddr", 3221225994))
case("gethostbyaddr-None", M("gethostbyaddr", None))
case("gethostbyaddr-nonascii", M("gethostbyaddr", "192.0.2.١"))
case("gethostbyaddr-nul", M("gethostbyaddr", "192.0.2.10\x00junk"))
case("gethostbyaddr-callback-not-callable", M("gethostbyaddr", "192.0.2.10", callback=42))

# -- getaddrinfo() ----------------------------------------------------------------------------------
GAI = dict(cb_pos=2)
case("getaddrinfo-port-None", M("getaddrinfo", "a.test", None, **GAI), BOTH)
case("getaddrinfo-port-int", M("getaddrinfo", "a.test", 80, **GAI), BOTH)
case("getaddrinfo-port-str", M("getaddrinfo", "a.test", "80", **GAI))
case("getaddrinfo-port-bytes", M("getaddrinfo", "a.test", b"80", **GAI))
case("getaddrinfo-port-service-name", M("getaddrinfo", "a.test", "http", **GAI))
case("getaddrinfo-port-unknown-service", M("getaddrinfo", "a.test", "no-such-service", **GAI))
case("getaddrinfo-port-negative", M("getaddrinfo", "a.test", -1, **GAI))
case("getaddrinfo-port-huge", M("getaddrinfo", "a.test", 70000, **GAI))
case("getaddrinfo-port-float", M("getaddrinfo", "a.test", 80.0, **GAI))
case("getaddrinfo-family-inet", M("getaddrinfo", "a.test", 80, family=AF_INET, **GAI), BOTH)
case("getaddrinfo-family-inet6", M("getaddrinfo", "a.test", 80, family=AF_INET6, **GAI))
case("getaddrinfo-family-unknown", M("getaddrinfo", "a.test", 80, family=12345, **GAI))
case("getaddrinfo-family-str", M("getaddrinfo", "a.test", 80, family="inet", **GAI))
case("getaddrinfo-type-stream", M("getaddrinfo", "a.test", 80, type=socket.SOCK_STREAM, **GAI))
case("getaddrinfo-proto-udp", M("getaddrinfo", "a.test", 80, proto=socket.IPPROTO_UDP, **GAI))
case("getaddrinfo-flags-canonname", M("getaddrinfo", "a.test", 80, flags=pycares_ng.ARES_AI_CANONNAME, **GAI))
case("getaddrinfo-flags-numerichost", M("getaddrinfo", "a.test", 80, flags=pycares_ng.ARES_AI_NUMERICHOST, **GAI))
case("getaddrinfo-flags-negative", M("getaddrinfo", "a.test", 80, flags=-1, **GAI))
case("getaddrinfo-flags-huge", M("getaddrinfo", "a.test", 80, flags=2 ** 40, **GAI))
case("getaddrinfo-numeric-host", M("getaddrinfo", "192.0.2.1", 80, **GAI))
case("getaddrinfo-numeric-host6", M("getaddrinfo", "2001:db8::1", 80, **GAI))
case("getaddrinfo-nxdomain", M("getaddrinfo", "nx.test", 80, **GAI), BOTH)
case("getaddrinfo-nodata-v4only", M("getaddrinfo", "a4.test", 80, **GAI))
case("getaddrinfo-timeout", M("getaddrinfo", "drop.test", 80, chopts={"timeout": 0.2}, **GAI))
# Hosts file: pycares 4.11's c-ares reads CARES_HOSTS only for getaddrinfo(flags=ARES_AI_ENVHOSTS)
# (gethostbyname/gethostbyaddr would read the machine's /etc/hosts, so they are not compared here).
ENVHOSTS = pycares_ng.ARES_AI_ENVHOSTS
FB = {"lookups": "fb"}
case("getaddrinfo-hosts", M("getaddrinfo", "hosted.test", 80, flags=ENVHOSTS, chopts=FB, **GAI), BOTH)
case("getaddrinfo-hosts-inet", M("getaddrinfo", "hosted.test", 80, family=AF_INET, flags=ENVHOSTS, chopts=FB,
                                 **GAI))
case("getaddrinfo-hosts-v6-only", M("getaddrinfo", "onlyv6.test", 80, flags=ENVHOSTS, chopts=FB, **GAI))
case("getaddrinfo-hosts-alias", M("getaddrinfo", "alias.hosted.test", None, flags=ENVHOSTS, chopts=FB, **GAI))
case("getaddrinfo-hosts-canonname", M("getaddrinfo", "hosted", None, flags=ENVHOSTS | pycares_ng.ARES_AI_CANONNAME,
                                      chopts=FB, **GAI))
case("getaddrinfo-hosts-miss-then-dns", M("getaddrinfo", "a.test", 80, flags=ENVHOSTS, chopts=FB, **GAI))
case("getaddrinfo-lookups-f-only", M("getaddrinfo", "hosted.test", 80, flags=ENVHOSTS, chopts={"lookups": "f"},
                                     **GAI))
case("getaddrinfo-host-None", M("getaddrinfo", None, 80, **GAI))
case("getaddrinfo-host-int", M("getaddrinfo", 5, 80, **GAI))
case("getaddrinfo-host-too-long", M("getaddrinfo", LONG_NAME, 80, **GAI))
case("getaddrinfo-label-too-long", M("getaddrinfo", LABEL_64, 80, **GAI))
case("getaddrinfo-host-nul", M("getaddrinfo", "a.test\x00x", 80, **GAI))
case("getaddrinfo-idn", M("getaddrinfo", "bücher.test", 80, **GAI))
case("getaddrinfo-idn-invalid", M("getaddrinfo", "☃.test", 80, **GAI))
case("getaddrinfo-callback-not-callable", M("getaddrinfo", "a.test", 80, callback=42, **GAI))
case("getaddrinfo-keywords", on_channel(lambda r, ch: r.call("getaddrinfo", ch.getaddrinfo, host="a.test", port=80, callback=r.cb("cb"),
                                     family=AF_INET, type=0, proto=0, flags=0)))

# -- getnameinfo() ----------------------------------------------------------------------------------
NI_NUM = pycares.ARES_NI_NUMERICHOST | pycares.ARES_NI_NUMERICSERV
case("getnameinfo-numeric", M("getnameinfo", ("192.0.2.10", 80), NI_NUM), BOTH)
case("getnameinfo-lookup-host", M("getnameinfo", ("192.0.2.10", 80), pycares.ARES_NI_LOOKUPHOST), BOTH)
case("getnameinfo-lookup-service", M("getnameinfo", ("192.0.2.10", 80), pycares.ARES_NI_LOOKUPSERVICE))
case("getnameinfo-lookup-both", M("getnameinfo", ("192.0.2.10", 80), 0))
case("getnameinfo-v6", M("getnameinfo", ("2001:db8::10", 443, 0, 0), pycares.ARES_NI_LOOKUPHOST))
case("getnameinfo-v6-numeric", M("getnameinfo", ("2001:db8::10", 443, 0, 0), NI_NUM))
case("getnameinfo-namereqd-miss", M("getnameinfo", ("192.0.2.99", 80),
                                    pycares.ARES_NI_NAMEREQD | pycares.ARES_NI_LOOKUPHOST))
case("getnameinfo-nofqdn", M("getnameinfo", ("192.0.2.10", 80), pycares.ARES_NI_NOFQDN | pycares.ARES_NI_LOOKUPHOST))
case("getnameinfo-dgram", M("getnameinfo", ("192.0.2.10", 53),
                            pycares.ARES_NI_DGRAM | pycares.ARES_NI_LOOKUPSERVICE))
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
case("getnameinfo-address-list", M("getnameinfo", ["192.0.2.10", 80], NI_NUM))
case("getnameinfo-ip-bytes", M("getnameinfo", (b"192.0.2.10", 80), NI_NUM))
case("getnameinfo-callback-not-callable", M("getnameinfo", ("192.0.2.10", 80), NI_NUM, callback=42))

# -- cancel() ---------------------------------------------------------------------------------------


def _cancel_pending(r: Run) -> None:
    ch = r.channel()
    r.call("query", ch.query, "drop.test", r.lib.QUERY_TYPE_A, r.cb("q1"))
    r.call("gethostbyname", ch.gethostbyname, "drop.test", AF_INET, r.cb("q2"))
    r.call("cancel", ch.cancel)
    r.wait(1.0)
    r.call("getsock", ch.getsock, result=lambda v: tuple(sorted(r.fd(fd) for fd in fds) for fds in v))
    r.call("query-after-cancel", ch.query, "a.test", r.lib.QUERY_TYPE_A, r.cb("q3"))
    r.drive(ch)


def _cancel_inside_callback(r: Run) -> None:
    ch = r.channel()

    def first(result: Any, errno: Any) -> None:
        record(result, errno)
        r.call("cancel-in-callback", ch.cancel)
    record = r.cb("q1")
    r.call("query1", ch.query, "a.test", r.lib.QUERY_TYPE_A, first)
    r.call("query2", ch.query, "drop.test", r.lib.QUERY_TYPE_A, r.cb("q2"))
    r.drive(ch)


case("cancel-pending", _cancel_pending, BOTH)
case("cancel-idle", on_channel(lambda r, ch: r.call("cancel", ch.cancel)), BOTH)
case("cancel-inside-callback", _cancel_inside_callback)
case("cancel-args", on_channel(lambda r, ch: r.call("cancel", ch.cancel, 1)))

# -- close() ----------------------------------------------------------------------------------------


def _close_pending(r: Run) -> None:
    ch = r.channel()
    r.call("query", ch.query, "drop.test", r.lib.QUERY_TYPE_A, r.cb("q1"))
    r.call("getaddrinfo", ch.getaddrinfo, "drop.test", 80, r.cb("q2"))
    r.call("close", ch.close)
    r.wait(2.0)
    r.settle(0.3)


def _close_after_answer(r: Run) -> None:
    ch = r.channel()
    r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, r.cb("q"))
    r.drive(ch)
    r.call("close", ch.close)
    r.settle(0.3)


def _close_inside_callback(r: Run) -> None:
    ch = r.channel()
    record = r.cb("q1")

    def first(result: Any, errno: Any) -> None:
        record(result, errno)
        r.call("close-in-callback", ch.close)
    r.call("query1", ch.query, "a.test", r.lib.QUERY_TYPE_A, first)
    r.call("query2", ch.query, "drop.test", r.lib.QUERY_TYPE_A, r.cb("q2"))
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
        r.call("query-in-callback", ch.query, "mx.test", r.lib.QUERY_TYPE_MX, r.cb("q2"))
    r.call("query1", ch.query, "a.test", r.lib.QUERY_TYPE_A, first)
    r.drive(ch)
    r.drive(ch)


case("close-pending", _close_pending, BOTH)
case("close-after-answer", _close_after_answer, BOTH)
case("close-inside-callback", _close_inside_callback)
case("close-twice", _close_twice, BOTH)
case("close-idle-channel", on_channel(lambda r, ch: r.call("close", ch.close)))
case("query-inside-callback", _query_in_callback, BOTH)
case("closed-query", closed_then(lambda r, ch: r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, r.cb("q"))),
     BOTH)
case("closed-query-bad-type", closed_then(lambda r, ch: r.call("query", ch.query, "a.test", 9999, r.cb("q"))))
case("closed-query-bad-callback", closed_then(lambda r, ch: r.call("query", ch.query, "a.test", 1, 42)))
case("closed-search", closed_then(lambda r, ch: r.call("search", ch.search, "a", r.lib.QUERY_TYPE_A, r.cb("q"))))
case("closed-gethostbyname", closed_then(lambda r, ch: r.call("gethostbyname", ch.gethostbyname, "a.test", AF_INET,
                                                              r.cb("q"))))
case("closed-gethostbyaddr", closed_then(lambda r, ch: r.call("gethostbyaddr", ch.gethostbyaddr, "192.0.2.10",
                                                              r.cb("q"))))
case("closed-getaddrinfo", closed_then(lambda r, ch: r.call("getaddrinfo", ch.getaddrinfo, "a.test", 80, r.cb("q"))))
case("closed-getnameinfo", closed_then(lambda r, ch: r.call("getnameinfo", ch.getnameinfo, ("192.0.2.10", 80),
                                                            NI_NUM, r.cb("q"))))
case("closed-cancel", closed_then(lambda r, ch: r.call("cancel", ch.cancel)))
case("closed-reinit", closed_then(lambda r, ch: r.call("reinit", ch.reinit)))
case("closed-getsock", closed_then(lambda r, ch: r.call("getsock", ch.getsock)))
case("closed-timeout", closed_then(lambda r, ch: r.call("timeout", ch.timeout)))
case("closed-process-fd", closed_then(lambda r, ch: r.call("process_fd", ch.process_fd, -1, -1)))
case("closed-servers-get", closed_then(lambda r, ch: r.call("servers", lambda: ch.servers)))
case("closed-servers-set", closed_then(lambda r, ch: r.call("servers=", setattr, ch, "servers", ["127.0.0.1"])))
case("closed-set-local-ip", closed_then(lambda r, ch: r.call("set_local_ip", ch.set_local_ip, "127.0.0.1")))

# -- reinit() ---------------------------------------------------------------------------------------


def _reinit_then_query(r: Run) -> None:
    ch = r.channel()
    r.call("reinit", ch.reinit)
    r.call("servers", lambda: ch.servers)
    r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, r.cb("q"))
    r.drive(ch)


case("reinit", _reinit_then_query, BOTH)
case("reinit-args", on_channel(lambda r, ch: r.call("reinit", ch.reinit, 1)))

# -- timeout(), process_fd(), getsock() -------------------------------------------------------------


def _tclass(v: Any) -> Any:
    """A timeout() value as a program could rely on it: exactly 0, or in which range."""
    if not isinstance(v, float):
        return ("not a float", type(v).__name__)
    if v == 0.0:
        return 0.0
    return "(0,0.5]" if v <= 0.5 else "(0.5,1]" if v <= 1.0 else "(1,10]" if v <= 10 else ">10"


def _timeout_case(*args: Any, pending: bool) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel(timeout=1.0)
        if pending:
            r.call("query", ch.query, "drop.test", r.lib.QUERY_TYPE_A, r.cb("q"))
        r.call("timeout", ch.timeout, *args, result=_tclass)
        r.call("cancel", ch.cancel)
        r.wait(1.0)
    return scenario


case("timeout-idle", _timeout_case(pending=False), BOTH)
case("timeout-idle-cap", _timeout_case(0.3, pending=False))
case("timeout-idle-zero", _timeout_case(0.0, pending=False))
case("timeout-pending", _timeout_case(pending=True), BOTH)
case("timeout-pending-cap-smaller", _timeout_case(0.3, pending=True))
case("timeout-pending-cap-larger", _timeout_case(5.0, pending=True))
case("timeout-pending-cap-int", _timeout_case(5, pending=True))
case("timeout-negative", _timeout_case(-1.0, pending=False))
case("timeout-str", _timeout_case("1", pending=False))
case("timeout-None", _timeout_case(None, pending=True))


def _getsock(pending: bool) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel()
        if pending:
            r.call("query", ch.query, "drop.test", r.lib.QUERY_TYPE_A, r.cb("q"))
        r.call("getsock", ch.getsock, result=lambda v: (type(v).__name__,) + tuple(
            (type(x).__name__, sorted(r.fd(fd) for fd in x)) for x in v))
        r.call("cancel", ch.cancel)
        r.wait(1.0)
    return scenario


case("getsock-idle", _getsock(False), BOTH)
case("getsock-pending", _getsock(True), BOTH)
case("getsock-args", on_channel(lambda r, ch: r.call("getsock", ch.getsock, 1)))


def _process(method: str, *args: Any) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel()
        real = [a(r) if callable(a) else a for a in args]
        r.call(method, getattr(ch, method), *real)
    return scenario


BAD = lambda r: r.lib.ARES_SOCKET_BAD  # noqa: E731
case("process_fd-bad-bad", _process("process_fd", BAD, BAD))
case("process_fd-unknown-fd", _process("process_fd", 1000, 1000))
case("process_fd-str", _process("process_fd", "3", BAD))
case("process_fd-None", _process("process_fd", None, None))
case("process_fd-huge", _process("process_fd", 2 ** 40, BAD))
case("process_fd-one-arg", _process("process_fd", BAD))
case("process_read_fd", _process("process_read_fd", 1000))
case("process_write_fd", _process("process_write_fd", 1000))
case("process_read_fd-str", _process("process_read_fd", "x"))


def _getsock_driven(r: Run) -> None:
    """The channel driven by getsock() + process_read_fd/process_write_fd instead of sock_state_cb."""
    import select
    import time
    ch = r.channel(sock_state_cb=DEFAULT, event_thread=DEFAULT) if r.mode == "sock" else r.channel()
    r.call("query", ch.query, "mx.test", r.lib.QUERY_TYPE_MX, r.cb("q"))
    deadline = time.monotonic() + 3
    while r.pending and time.monotonic() < deadline:
        rfds, wfds = ch.getsock()
        if not rfds and not wfds:
            ch.process_fd(r.lib.ARES_SOCKET_BAD, r.lib.ARES_SOCKET_BAD)
            time.sleep(0.01)
            continue
        rl, wl, _ = select.select(rfds, wfds, [], 0.1)
        for fd in rl:
            ch.process_read_fd(fd)
        for fd in wl:
            ch.process_write_fd(fd)


case("getsock-driven-loop", _getsock_driven)

# -- servers ----------------------------------------------------------------------------------------


def _servers(value: Any, query: bool = True) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel()
        r.call("servers=", setattr, ch, "servers", value() if callable(value) else value)
        r.call("servers", lambda: ch.servers)
        if query:
            r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, r.cb("q"))
            r.drive(ch)
    return scenario


case("servers-get", on_channel(lambda r, ch: r.call("servers", lambda: ch.servers)), BOTH)
case("servers-set-list", _servers(["127.0.0.1"]), BOTH)
case("servers-set-two", _servers(["127.0.0.1", "::1"], query=False))
case("servers-set-tuple", _servers(("127.0.0.1",)))
case("servers-set-bytes", _servers([b"127.0.0.1"]))
case("servers-set-ipv6", _servers(["::1"], query=False))
case("servers-set-invalid", _servers(["not-an-ip"]))
case("servers-set-hostname", _servers(["localhost"]))
case("servers-set-int-item", _servers([1]))
case("servers-set-None", _servers(None))
case("servers-set-plain-str", _servers("127.0.0.1"))
case("servers-set-generator", _servers(lambda: (s for s in ["127.0.0.1"])))
case("servers-set-nonascii", _servers(["127.0.0.١"]))
case("servers-delete", on_channel(lambda r, ch: r.call("del servers", delattr, ch, "servers")))
case("servers-ctor-invalid", construct(servers=["not-an-ip"]))
case("servers-ctor-tuple", construct(servers=("127.0.0.1",)))

# -- set_local_ip() / set_local_dev() ---------------------------------------------------------------


def _local(method: str, value: Any) -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel()
        r.call(method, getattr(ch, method), value)
        r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, r.cb("q"))
        r.drive(ch)
    return scenario


case("set_local_ip-v4", _local("set_local_ip", "127.0.0.1"), BOTH)
case("set_local_ip-v6", _local("set_local_ip", "::1"))
case("set_local_ip-bytes", _local("set_local_ip", b"127.0.0.1"))
case("set_local_ip-invalid", _local("set_local_ip", "not-an-ip"))
case("set_local_ip-int", _local("set_local_ip", 2130706433))
case("set_local_ip-None", _local("set_local_ip", None))
case("set_local_dev-str", _local("set_local_dev", "lo"))
case("set_local_dev-bytes", _local("set_local_dev", b"lo"))
case("set_local_dev-int", _local("set_local_dev", 1))
case("set_local_dev-None", _local("set_local_dev", None))

# -- the constructor --------------------------------------------------------------------------------
case("ctor-defaults", construct(), BOTH)
case("ctor-positional", lambda r: r.call("Channel", r.lib.Channel, 0, 1.0, 1, 1, r.server.port, r.server.port,
                                         ["127.0.0.1"], result=lambda c: type(c).__name__))
case("ctor-unknown-keyword", construct(bogus=1))
case("ctor-flags-str", construct(flags="1"))
case("ctor-flags-negative", construct(flags=-1))
case("ctor-flags-huge", construct(flags=2 ** 40))
case("ctor-flags-norecurse", construct(flags=pycares.ARES_FLAG_NORECURSE))
case("ctor-flags-edns", construct(flags=pycares.ARES_FLAG_EDNS))
case("ctor-timeout-int", construct(timeout=1))
case("ctor-timeout-str", construct(timeout="1"))
case("ctor-timeout-negative", construct(timeout=-1.0))


def _ctor_timeout(value: Any) -> Callable[[Run], None]:
    """Channel(timeout=value): how long the channel then waits for an unanswered query."""
    def scenario(r: Run) -> None:
        ch = r.call("Channel", r.channel, result=lambda c: type(c).__name__, timeout=value)
        if ch is not None:
            r.call("query", ch.query, "drop.test", r.lib.QUERY_TYPE_A, r.cb("q"))
            r.call("timeout", ch.timeout, result=_tclass)
            r.call("cancel", ch.cancel)
            r.wait(1.0)
    return scenario


case("ctor-timeout-zero", _ctor_timeout(0))
case("ctor-timeout-tiny", _ctor_timeout(0.0001))
case("ctor-timeout-float", _ctor_timeout(0.8))
case("ctor-tries-zero", construct(tries=0))
case("ctor-tries-negative", construct(tries=-1))
case("ctor-tries-float", construct(tries=1.5))
case("ctor-ndots-negative", construct(ndots=-1))
case("ctor-ndots-str", construct(ndots="1"))
case("ctor-udp_port-huge", construct(udp_port=70000))
case("ctor-udp_port-negative", construct(udp_port=-1))
case("ctor-udp_port-str", construct(udp_port="53"))
case("ctor-servers-None", construct(servers=None))
case("ctor-servers-empty", construct(servers=[]))
case("ctor-servers-plain-str", construct(servers="127.0.0.1"))
case("ctor-servers-int", construct(servers=53))
case("ctor-domains", construct(domains=["search.test", b"other.test"]))
case("ctor-domains-int-item", construct(domains=[1]))
case("ctor-domains-plain-str", construct(domains="test"))
case("ctor-domains-nonascii", construct(domains=["bücher.test"]))
case("ctor-lookups-bytes", construct(lookups=b"b"))
case("ctor-lookups-int", construct(lookups=1))
case("ctor-lookups-invalid", construct(lookups="x"))
case("ctor-lookups-empty", construct(lookups=""))
case("ctor-sock_state_cb-not-callable", construct(sock_state_cb=42))
case("ctor-sock_state_cb-and-event_thread", construct(sock_state_cb=lambda *a: None, event_thread=True))
case("ctor-event_thread", construct(sock_state_cb=DEFAULT, event_thread=True))
case("ctor-rotate", construct(rotate=True))
case("ctor-sndbuf", construct(socket_send_buffer_size=65536, socket_receive_buffer_size=65536))
case("ctor-sndbuf-negative", construct(socket_send_buffer_size=-1))
case("ctor-local_ip", construct(local_ip="127.0.0.1"))
case("ctor-local_ip-invalid", construct(local_ip="not-an-ip"))
case("ctor-local_dev-str", construct(local_dev="lo"))
case("ctor-local_dev-bytes", construct(local_dev=b"lo"))
case("ctor-resolvconf-missing", construct(resolvconf_path="/nonexistent/resolv.conf"))
case("ctor-resolvconf-bytes", construct(resolvconf_path=b"/nonexistent/resolv.conf"))
case("ctor-resolvconf-int", construct(resolvconf_path=5))

# -- Channel objects --------------------------------------------------------------------------------


def _attribute(r: Run) -> None:
    ch = r.channel()
    r.call("setattr", setattr, ch, "my_attribute", 1)
    r.call("getattr", getattr, ch, "my_attribute")
    r.call("has __dict__", hasattr, ch, "__dict__")


def _subclass(r: Run) -> None:
    class MyChannel(r.lib.Channel):  # type: ignore[name-defined,misc]
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.extra = "x"
    ch = r.call("subclass", MyChannel, servers=["127.0.0.1"], udp_port=r.server.port, tcp_port=r.server.port,
                resolvconf_path=empty_resolv_conf(), lookups="b", sock_state_cb=r.sock_state_cb,
                timeout=1.0, tries=1, result=lambda c: (type(c).__name__, c.extra))
    if ch is not None:
        r.channels.append(ch)
        r.call("query", ch.query, "a.test", r.lib.QUERY_TYPE_A, r.cb("q"))
        r.drive(ch)


case("channel-attributes", _attribute)
case("channel-subclass", _subclass)

# -- results as objects -----------------------------------------------------------------------------


def _result_object(check: Callable[[Run, Any], Any], label: str, name: str = "a.test", t: str = "A") -> Callable[[Run], None]:
    def scenario(r: Run) -> None:
        ch = r.channel()
        got: List[Any] = []
        holder = r.cb("keep")

        def keep(result: Any, errno: Any) -> None:
            got.append(result)
            holder(None, errno)
        r.call("query2", ch.query, name, qtype(r, t), keep)
        r.drive(ch)
        if got and got[0] is not None:
            value = got[0][0] if isinstance(got[0], list) else got[0]
            r.call(label, check, r, value)
    return scenario


case("result-isinstance-AresResult", _result_object(lambda r, v: isinstance(v, r.lib.AresResult), "isinstance"))
case("result-has-no-dict", _result_object(lambda r, v: hasattr(v, "__dict__"), "has __dict__"))
case("result-set-field", _result_object(lambda r, v: setattr(v, "host", "x") or v.host, "set host"))
case("result-set-new-attribute", _result_object(lambda r, v: setattr(v, "extra", 1), "set extra"))
case("result-class-name", _result_object(lambda r, v: type(v).__name__, "class name"))
case("result-type-attribute", _result_object(lambda r, v: type(v).type, "class type", "mx.test", "MX"))
case("result-pickle", _result_object(lambda r, v: pickle.loads(pickle.dumps(v)).host, "pickle round trip"))
case("result-txt-isinstance", _result_object(lambda r, v: isinstance(v, r.lib.AresResult), "isinstance",
                                             "txt.test", "TXT"))

# -- the module -------------------------------------------------------------------------------------

PUBLIC = [n for n in pycares.__all__ if n not in ("ARES_VERSION", "__version__", "errno")]


def _constants(lib: Any) -> Dict[str, Any]:
    def kind(value: Any) -> Any:
        if isinstance(value, int):
            return value
        if isinstance(value, type):
            return "class"
        return "callable" if callable(value) else type(value).__name__
    return {n: kind(getattr(lib, n, None)) for n in PUBLIC}


case("module-public-names", module("public names", _constants))
case("module-ARES_VERSION-type", module("ARES_VERSION", lambda lib: type(lib.ARES_VERSION).__name__))
case("module-version-type", module("__version__", lambda lib: type(lib.__version__).__name__))
case("module-ares_threadsafety", module("ares_threadsafety", lambda lib: lib.ares_threadsafety()))
case("module-result-classes", module("result classes", lambda lib: sorted(
    n for n in dir(pycares) if n.startswith("ares_") and n != "ares_threadsafety" and hasattr(lib, n))))
case("module-AresResult", module("AresResult", lambda lib: [issubclass(getattr(lib, n), lib.AresResult) for n in (
    "ares_query_a_result", "ares_query_txt_result", "ares_host_result", "ares_addrinfo_result",
    "ares_nameinfo_result")]))
case("module-AresError", module("AresError", lambda lib: (issubclass(lib.AresError, Exception),
                                                          lib.AresError(1, "x").args)))
case("module-utils-names", module("utils", lambda lib: [hasattr(lib.utils, n) for n in
                                                        ("ascii_bytes", "maybe_str", "parse_name")]))
for _arg_id, _arg in [("str", "abc"), ("bytes", b"abc"), ("int", 1), ("nonascii", "é"), ("None", None)]:
    case(f"ascii_bytes-{_arg_id}", module("ascii_bytes", lambda lib, a=_arg: lib.ascii_bytes(a)))
for _arg_id, _arg in [("str", "abc"), ("bytes", b"abc"), ("nonascii-bytes", b"\xff"), ("int", 1)]:
    case(f"maybe_str-{_arg_id}", module("maybe_str", lambda lib, a=_arg: lib.maybe_str(a)))
for _arg_id, _arg in [("str", "a.test"), ("bytes", b"a.test"), ("idn", "bücher.test"), ("int", 1),
                      ("idn-invalid", "☃.test"), ("nul", "a\x00b"), ("too-long", LONG_NAME),
                      ("label-too-long", LABEL_64)]:
    case(f"parse_name-{_arg_id}", module("parse_name", lambda lib, a=_arg: lib.parse_name(a)))

ERRNO_NAMES = [n for n in pycares.errno.__all__ if n.startswith("ARES_")]
case("errno-constants", module("errno", lambda lib: {n: getattr(lib.errno, n, None) for n in ERRNO_NAMES}))
case("errno-errorcode", module("errorcode", lambda lib: {k: lib.errno.errorcode.get(k) for k in
                                                        pycares.errno.errorcode}))
case("errno-strerror-all", module("strerror", lambda lib: {c: lib.errno.strerror(c) for c in
                                                          pycares.errno.errorcode}))
case("errno-strerror-unknown", module("strerror", lambda lib: lib.errno.strerror(1000)))
case("errno-strerror-negative", module("strerror", lambda lib: lib.errno.strerror(-1)))
case("errno-strerror-str", module("strerror", lambda lib: lib.errno.strerror("1")))
case("errno-strerror-huge", module("strerror", lambda lib: lib.errno.strerror(2 ** 40)))


# -- allowed differences: where pycares 4.11 is wrong ------------------------------------------------
# Each fix turns pycares 4.11's record into the better behaviour pycares_ng must show instead. A fix
# gets (record, mode, borrowed) where borrowed is the pycares 4.11 record of another case, if any.

Fix = Callable[[Dict[str, Any], str, Optional[Dict[str, Any]]], Dict[str, Any]]


def _when_close(expected: Dict[str, Any], mode: str, _: Any) -> Dict[str, Any]:
    """What close() delivers (ECANCELLED, sock_state_cb(fd, False, False)) runs inside close(), in
    both modes (the API's promise), not later on pycares 4.11's shutdown thread."""
    label = next((lab for lab, _ in expected["calls"] if lab.startswith("close")), "close")
    inside = f"in:{label}"

    def moved(err: Any, when: str) -> str:
        if when == "thread" and (mode == "sock" or err == pycares.errno.ARES_ECANCELLED):
            return inside
        return when
    expected["callbacks"] = {tag: [(res, err, moved(err, when)) for res, err, when in calls]
                             for tag, calls in expected["callbacks"].items()}
    expected["sock_state_cb"] = [(fd, rd, wr, moved(None, when)) + tuple(rest)
                                 for fd, rd, wr, when, *rest in expected["sock_state_cb"]]
    return expected


def _raises(label: str, *classes: type) -> Fix:
    """The call `label` raises one of classes (or a subclass): nothing is sent, nothing called back."""
    def fix(expected: Dict[str, Any], mode: str, _: Any) -> Dict[str, Any]:
        labels = [lab for lab, _ in expected["calls"]]
        upto = labels.index(label) + 1 if label in labels else len(labels)  # nothing runs after the raise
        expected["calls"] = [(lab, RaisesOneOf(*classes) if lab == label else val)
                             for lab, val in expected["calls"][:upto]]
        expected["callbacks"] = {}
        expected["never called"] = []
        expected["sent"] = []
        expected["sock_state_cb"] = []
        return expected
    return fix


def _returns(label: str, value: Any) -> Fix:
    """The call `label` returns value (and the rest of the record is pycares 4.11's)."""
    def fix(expected: Dict[str, Any], mode: str, _: Any) -> Dict[str, Any]:
        expected["calls"] = [(lab, value if lab == label else val) for lab, val in expected["calls"]]
        return expected
    return fix


def _calls_back(tag: str, result: Any, errno: Any, when: str) -> Fix:
    """The only callback is tag(result, errno), run `when`; nothing is sent."""
    def fix(expected: Dict[str, Any], mode: str, _: Any) -> Dict[str, Any]:
        expected["callbacks"] = {tag: [(result, errno, when)]}
        expected["never called"] = []
        expected["sent"] = []
        expected["sock_state_cb"] = []
        expected["unraisable"] = []
        return expected
    return fix


def _sock_states(states: List[Any]) -> Fix:
    """The sock_state_cb sequence is `states` (the rest of the record is pycares 4.11's)."""
    def fix(expected: Dict[str, Any], mode: str, _: Any) -> Dict[str, Any]:
        if mode == "sock":
            expected["sock_state_cb"] = states
        return expected
    return fix


def _no_unraisable(expected: Dict[str, Any], mode: str, _: Any) -> Dict[str, Any]:
    expected["unraisable"] = []
    return expected


def _borrowed(expected: Dict[str, Any], mode: str, borrowed: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    assert borrowed is not None
    return borrowed


def _closed_raises(expected: Dict[str, Any], mode: str, _: Any) -> Dict[str, Any]:
    expected["calls"] = [(lab, Raised(RuntimeError("Channel is destroyed")) if isinstance(val, Raised) else val)
                         for lab, val in expected["calls"]]
    return expected


def _no_fake_cname(expected: Dict[str, Any], mode: str, _: Any) -> Dict[str, Any]:
    """ANY: no ares_query_cname_result made up from the A records (the zone has no CNAME there)."""
    expected["callbacks"] = {tag: [([r for r in res if r[0] != "ares_query_cname_result"]
                                    if isinstance(res, list) else res, err, when) for res, err, when in calls]
                             for tag, calls in expected["callbacks"].items()}
    return expected


def _cancel_in_callback(expected: Dict[str, Any], mode: str, borrowed: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The answered query's callback cancels the other query: that one gets ECANCELLED once, after
    the running callback returned (pycares_ng never nests one callback inside another)."""
    assert borrowed is not None
    return {"calls": [("query1", None), ("query2", None), ("cancel-in-callback", None)],
            "callbacks": {"q1": borrowed["callbacks"]["q"],
                          "q2": [(None, pycares.errno.ARES_ECANCELLED, "loop")]},
            "never called": [], "unraisable": []}


def _nameinfo_service(service: str) -> Fix:
    return _calls_back("cb", ("ares_nameinfo_result", (("node", ANYTHING), ("service", service))), None,
                       "in:getnameinfo")


SILENT = "pycares 4.11 accepts a value that makes no sense without a word; pycares_ng names the problem"
NUL_REASON = "pycares 4.11 cuts the name at the NUL and resolves what precedes it"
TYPE_ERROR_CLOSED = "pycares 4.11 raises an accidental TypeError (it subscripts its None channel)"
CFFI_STR = "pycares 4.11 passes a str to cffi as char*, which cffi refuses (TypeError) for the documented str"
CAST_REASON = "pycares 4.11 ffi.cast()s any value: a 1-char str becomes its code point, a huge int is truncated"

# id (without the mode) -> (reason pycares 4.11 is wrong, fix, id of a case whose record the fix borrows)
ALLOWED: Dict[str, Tuple[str, Fix, Optional[str]]] = {
    "query-name-nul": (NUL_REASON, _raises("query", ValueError), None),
    "query-name-nul-bytes": (NUL_REASON, _raises("query", ValueError), None),
    "search-name-nul": (NUL_REASON, _raises("search", ValueError), None),
    "gethostbyname-name-nul": (NUL_REASON, _raises("gethostbyname", ValueError), None),
    "getaddrinfo-host-nul": (NUL_REASON, _raises("getaddrinfo", ValueError), None),
    "gethostbyaddr-nul": (NUL_REASON + " (looks up 192.0.2.10)", _raises("gethostbyaddr", ValueError), None),
    "query-idn-label-huge": ("pycares 4.11 raises RuntimeError from its own length check, not an IDNA error",
                             _raises("query", UnicodeError), None),
    "query-idn-uppercase": ("pycares 4.11 skips UTS #46 mapping, so a capital letter in a non-ASCII label is "
                            "refused (IDNA 2003, browsers and glibc lower-case it)", _borrowed, "query-idn"),
    "query-ANY": ("pycares 4.11 makes up a CNAME result (cname = the query name) from the A records",
                  _no_fake_cname, None),
    "query-ANY-idn": ("pycares 4.11 makes up a CNAME result (cname = the query name) from the A records",
                      _no_fake_cname, None),
    "search-name-too-long": ("pycares 4.11 (c-ares 1.34 ares_search) reports ENOMEM for a name over 253 octets",
                             _calls_back("q", None, pycares.errno.ARES_EBADNAME, "in:search"), None),
    "gethostbyaddr-v4-prefix": ("pycares 4.11 (ares_inet_pton) takes '192.0.2' for 192.0.2.0 and looks it up",
                                _raises("gethostbyaddr", ValueError), None),
    "getaddrinfo-port-unknown-service": ("pycares 4.11 resolves with port 0 for a service name it cannot map",
                                         _calls_back("cb", None, pycares.errno.ARES_ESERVICE, "in:getaddrinfo"),
                                         None),
    "getaddrinfo-flags-numerichost": ("pycares 4.11 (c-ares 1.34) ignores ARES_AI_NUMERICHOST and resolves a "
                                      "host name through DNS", _calls_back("cb", None, pycares.errno.ARES_ENOTFOUND,
                                                                           "in:getaddrinfo"), None),
    "getnameinfo-lookup-service": ("pycares 4.11 calls ffi.string(NULL) for the missing node: the callback is "
                                   "never called (an unraisable RuntimeError instead)", _nameinfo_service("http"),
                                   None),
    "getnameinfo-dgram": ("pycares 4.11 calls ffi.string(NULL) for the missing node: the callback is never "
                          "called (an unraisable RuntimeError instead)", _nameinfo_service("domain"), None),
    "cancel-inside-callback": ("pycares 4.11 crashes (SIGSEGV/SIGABRT in ares_process_fd) when a callback "
                               "calls cancel()", _cancel_in_callback, "query-A"),
    "close-pending": ("pycares 4.11 delivers ECANCELLED and sock_state_cb(fd, False, False) later, on its "
                      "shutdown thread, racing the program's own loop", _when_close, None),
    "close-after-answer": ("pycares 4.11 calls sock_state_cb(fd, False, False) later, on its shutdown thread",
                           _when_close, None),
    "close-inside-callback": ("pycares 4.11 delivers ECANCELLED later, on its shutdown thread", _when_close, None),
    "timeout-idle-cap": ("pycares 4.11 ignores ares_timeout()'s return value: 0.0 instead of the cap t",
                         _returns("timeout", "(0,0.5]"), None),
    "timeout-pending-cap-smaller": ("pycares 4.11 ignores ares_timeout()'s return value: the query's timeout "
                                    "instead of the smaller cap t", _returns("timeout", "(0,0.5]"), None),
    "process_fd-str": (CAST_REASON, _returns("process_fd", Raised(TypeError)), None),
    "process_read_fd-str": (CAST_REASON, _returns("process_read_fd", Raised(TypeError)), None),
    "process_fd-huge": (CAST_REASON + " (2**40 -> fd 0)",
                        _returns("process_fd", RaisesOneOf(ValueError, OverflowError)), None),
    "servers-set-generator": ("pycares 4.11 calls len() on the documented Iterable (TypeError for a generator)",
                              _returns("servers=", None), None),
    "set_local_ip-v6": ("pycares 4.11 passes struct ares_in6_addr* where cffi wants unsigned char* (TypeError "
                        "for every IPv6 address)", _returns("set_local_ip", None), None),
    "ctor-unknown-keyword": ("pycares 4.11's __del__ runs on the half-made object and raises AttributeError "
                             "(an unraisable exception) after the TypeError", _no_unraisable, None),
    "ctor-timeout-str": ("pycares 4.11 computes '1' * 1000 and overflows (OverflowError) instead of refusing "
                         "the type", _raises("Channel", TypeError), None),
    "ctor-timeout-negative": (SILENT + " (a negative timeout)", _raises("Channel", ValueError), None),
    "ctor-timeout-tiny": ("pycares 4.11 truncates 0.0001 s to 0 ms, which libcares reads as its default of "
                          "seconds; pycares_ng rounds up to 1 ms (already over by then, or not)",
                          _returns("timeout", OneOf(0.0, "(0,0.5]")), None),
    "ctor-tries-zero": (SILENT + " (tries=0)", _raises("Channel", ValueError), None),
    "ctor-tries-negative": (SILENT + " (tries=-1)", _raises("Channel", ValueError), None),
    "ctor-ndots-negative": (SILENT + " (ndots=-1)", _raises("Channel", ValueError), None),
    "ctor-sndbuf-negative": (SILENT + " (a negative socket buffer size)", _raises("Channel", ValueError), None),
    "ctor-lookups-invalid": (SILENT + " (lookups='x' looks nothing up)", _raises("Channel", ValueError), None),
    "ctor-lookups-empty": (SILENT + " (lookups='')", _raises("Channel", ValueError), None),
    "ctor-domains-plain-str": ("pycares 4.11 walks a str as one search domain per character",
                               _raises("Channel", TypeError), None),
    "ctor-domains-nonascii": ("pycares 4.11 refuses a non-ASCII search domain (UnicodeEncodeError); pycares_ng "
                              "IDNA-encodes it, as it does every name", _borrowed, "ctor-domains"),
    "getaddrinfo-flags-negative": (SILENT + " (flags=-1 sets every ARES_AI_* bit)",
                                   _raises("getaddrinfo", ValueError), None),
    "query-inside-callback": ("pycares 4.11 runs callbacks inside libcares' processing (under its lock: the "
                              "cause of its crash when a callback cancels), so a query made in a callback "
                              "reuses the socket libcares is about to close; pycares_ng runs callbacks after "
                              "libcares returned, and the new query opens a socket of its own",
                              _sock_states([(0, True, False, "in:query1"), (0, False, False, "loop", "fd open"),
                                            (1, True, False, "loop"), (1, False, False, "loop", "fd open")]),
                              None),
    "set_local_dev-str": (CFFI_STR, _borrowed, "set_local_dev-bytes"),
    "ctor-local_dev-str": (CFFI_STR, _borrowed, "ctor-local_dev-bytes"),
}
for _id in ("closed-cancel", "closed-reinit", "closed-getsock", "closed-timeout", "closed-process-fd",
            "closed-servers-get", "closed-servers-set", "closed-set-local-ip"):
    ALLOWED[_id] = (TYPE_ERROR_CLOSED, _closed_raises, None)

# id -> how c-ares 1.18 (Debian 12's libcares) itself behaves differently from c-ares 1.34 (bundled by
# pycares 4.11). pycares_ng passes the library's behaviour on, so on c-ares < 1.34 these cases are
# xfail(strict): they must differ there, and must match pycares 4.11 on c-ares 1.34.
_SOCKETS_118 = ("c-ares 1.18 closes an idle socket in the call that timed its last query out (1.34: in the "
                "next call)")
ERA_118: Dict[str, str] = {
    "query-tcp-fallback": "c-ares 1.18 keeps the UDP socket open after switching to TCP (1.34 closes it at "
                          "once); reporting it closed would leave its later replies unwatched",
    "query-timeout": _SOCKETS_118,
    "gethostbyname-timeout": _SOCKETS_118,
    "getaddrinfo-timeout": _SOCKETS_118,
    "getaddrinfo-hosts-alias": "c-ares 1.18 answers a hosts-file alias from its first line only (1.34 merges "
                               "every line of the canonical name)",
    "getaddrinfo-hosts-canonname": "c-ares 1.18 answers from the first hosts-file line only and gives its CNAME "
                                   "entries the hosts file's TTL 2147483647 (1.34: every line, TTL 0)",
}
OLD_CARES = tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2]) < (1, 34)

# pycares 4.11 crashes the process on these: its side is not run, the fix alone is the expectation
ORACLE_CRASHES = {"cancel-inside-callback"}

PARAMS = [pytest.param(c, mode, id=f"{c.id}[{mode}]") for c in CASES for mode in c.modes]
_BY_ID = {c.id: c for c in CASES}


@pytest.fixture(scope="module")
def server():
    srv = make_server()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(autouse=True)
def _isolated_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """CARES_HOSTS names the test hosts file (read by pycares_ng, and by pycares 4.11 for ENVHOSTS)."""
    monkeypatch.setenv("CARES_HOSTS", hosts_file())


def _record(lib: Any, c: Case, server: Any, mode: str) -> Dict[str, Any]:
    record = observe(lib, c.scenario, server, mode).as_dict()
    # pycares 4.11 now and then fails a lookup at once with ARES_ECONNREFUSED without sending
    # anything (a race in its bundled c-ares' server set-up): such a run of the oracle is repeated.
    for _ in range(2):
        if lib is not pycares or ", 11, " not in repr(record.get("callbacks")):
            break
        record = observe(lib, c.scenario, server, mode).as_dict()
    return record


@pytest.mark.parametrize("c, mode", PARAMS)
def test_same_as_pycares4(c: Case, mode: str, server: Any) -> None:
    allowed = ALLOWED.get(c.id)
    expected: Dict[str, Any] = {} if c.id in ORACLE_CRASHES else _record(pycares, c, server, mode)
    if allowed is not None:
        reason, fix, ref = allowed
        borrowed = _record(pycares, _BY_ID[ref], server, mode) if ref else None
        expected = fix(expected, mode, borrowed)
    got = reconcile(expected, _record(pycares_ng, c, server, mode))
    got = {k: v for k, v in got.items() if k in expected}
    era = ERA_118.get(c.id) if OLD_CARES and mode == "sock" else None
    if era is not None:
        if got != expected:
            pytest.xfail(f"c-ares {pycares_ng.ARES_VERSION}'s own behaviour: {era}")
        pytest.fail(f"pycares_ng on c-ares {pycares_ng.ARES_VERSION} now matches pycares 4.11 in {c.id} ({era}): "
                    "remove its ERA_118 entry", pytrace=False)
    if got != expected:
        head = f"pycares_ng differs from pycares 4.11 in {c.id} [{mode}]" + (
            f" (allowed difference; expected is pycares 4.11 corrected: {allowed[0]})" if allowed else "")
        pytest.fail(head + "\n" + _diff(expected, got), pytrace=False)


def _diff(expected: Any, got: Any, indent: str = "  ", depth: int = 0) -> str:
    """Only what differs: dict keys and list items, recursively (two levels)."""
    lines = []
    if isinstance(expected, dict) and isinstance(got, dict) and depth < 6:
        for key in list(expected) + [k for k in got if k not in expected]:
            e, g = expected.get(key, "<absent>"), got.get(key, "<absent>")
            if e != g:
                sub = _diff(e, g, indent + "  ", depth + 1)
                lines.append(f"{indent}{key!r}:\n{sub}")
        return "\n".join(lines)
    if (isinstance(expected, (list, tuple)) and type(expected) is type(got) and len(expected) == len(got)
            and depth < 6):
        for i, (e, g) in enumerate(zip(expected, got)):
            if e != g:
                lines.append(f"{indent}[{i}]:\n" + _diff(e, g, indent + "  ", depth + 1))
        return "\n".join(lines)
    return f"{indent}pycares 4.11: {expected!r}\n{indent}pycares_ng:   {got!r}"


def test_table_is_large_enough() -> None:
    assert len(PARAMS) >= 150
    assert set(ALLOWED) <= set(_BY_ID), set(ALLOWED) - set(_BY_ID)
    assert set(ERA_118) <= set(_BY_ID), set(ERA_118) - set(_BY_ID)
