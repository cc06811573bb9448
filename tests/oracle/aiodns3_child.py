"""The child process of tests/test_aiodns3.py: aiodns 3.6.1 as a real client of pycares_ng.

Run as ``python aiodns3_child.py`` with a JSON spec on stdin; prints one JSON report on stdout.

spec = {
  "lib": "ng" | "p4",                 # "ng": sys.modules["pycares"] is pycares_ng; "p4": the real
                                      #       pycares 4.11 from PyPI (the oracle)
  "loop": "asyncio" | "uvloop",
  "mode": "event_thread" | "sock_state_cb",
                                      # aiodns picks event_thread=True when
                                      # pycares.ares_threadsafety() is true; "sock_state_cb" makes it
                                      # false in this process, so aiodns takes its sock_state_cb path
  "scenario": one of SCENARIOS,
  "nsd_port": int,                    # the NSD fixture on 127.0.0.1
  "fault_port": int | null,           # a FaultServer on 127.0.0.1 (rules set by the parent)
  "delay_port": int | null,           # a FaultServer on 127.0.0.1 answering after 0.4 s
  "resolvconf": path,                 # an empty resolv.conf: never the machine's
}

Every resolver gets its servers as ``nameservers=["127.0.0.1"]`` plus ``udp_port``/``tcp_port``
(pycares 4.11's ``servers`` setter takes bare addresses only), ``resolvconf_path`` (empty file),
``lookups="b"`` (no /etc/hosts) and ``domains=["example.test"]`` (no search domain taken from the
machine's hostname), all passed through aiodns' ``**kwargs`` to the Channel.

In the child, ``warnings.simplefilter("error")`` is on (the pycares_ng child: from before its first
import; the oracle child: from after its imports, see setup()), ``sys.unraisablehook`` records (and echoes
to stderr, so anything after the report is seen too), and the loop's exception handler records.
This module is also imported by the parent for CALLS and FIELDS; that import runs nothing.
"""
from __future__ import annotations

import sys
import warnings

from aiodns_child_common import close_from_callback, gather_outcomes, read_spec

if __name__ == "__main__":
    SPEC = read_spec()  # the pycares_ng child: warnings are errors from its first import on

import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import weakref  # noqa: E402
from typing import Any, Callable, Dict, List, Tuple  # noqa: E402

ORIGIN = "example.test"
#: in the zone: 253 characters (255 octets on the wire), the longest legal name
NAME_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 48, "example", "test"])
#: 254 characters: over the limit (a name over 253 octets in presentation form)
NAME_254 = ".".join(["e" * 63, "f" * 63, "g" * 63, "h" * 49, "example", "test"])
LABEL_64 = "x" * 64 + ".example.test"
assert len(NAME_253) == 253 and len(NAME_254) == 254

#: Fields of every pycares 4.11 result class (its __slots__ plus the class attribute ``type``);
#: the parent checks this table against the installed pycares 4.11.
FIELDS: Dict[str, Tuple[str, ...]] = {
    "ares_query_a_result": ("host", "ttl", "type"),
    "ares_query_aaaa_result": ("host", "ttl", "type"),
    "ares_query_caa_result": ("critical", "property", "value", "ttl", "type"),
    "ares_query_cname_result": ("cname", "ttl", "type"),
    "ares_query_mx_result": ("host", "priority", "ttl", "type"),
    "ares_query_naptr_result": ("order", "preference", "flags", "service", "regex", "replacement",
                                "ttl", "type"),
    "ares_query_ns_result": ("host", "ttl", "type"),
    "ares_query_ptr_result": ("name", "ttl", "aliases", "type"),
    "ares_query_soa_result": ("nsname", "hostmaster", "serial", "refresh", "retry", "expires",
                              "minttl", "ttl", "type"),
    "ares_query_srv_result": ("host", "port", "priority", "weight", "ttl", "type"),
    "ares_query_txt_result": ("text", "ttl", "type"),
    "ares_query_txt_result_chunk": ("text", "ttl", "type"),
    "ares_host_result": ("name", "aliases", "addresses"),
    "ares_nameinfo_result": ("node", "service"),
    "ares_addrinfo_node_result": ("ttl", "flags", "family", "socktype", "protocol", "addr"),
    "ares_addrinfo_cname_result": ("ttl", "alias", "name"),
    "ares_addrinfo_result": ("cnames", "nodes"),
}

AF_INET, AF_INET6, AF_UNSPEC = int(socket.AF_INET), int(socket.AF_INET6), int(socket.AF_UNSPEC)
NI_NOFQDN, NI_NUMERICHOST, NI_NAMEREQD, NI_NUMERICSERV = 1, 2, 4, 8  # ARES_NI_* (same in both)



ERRNO_EXTRA = {26: "ARES_ENOSERVER"}  # c-ares' code, absent from pycares 4.11's errno module

def _q(name: Any, qtype: str, qclass: Any = None) -> Tuple[str, tuple, dict]:
    return ("query", (name, qtype), {} if qclass is None else {"qclass": qclass})


#: label -> (DNSResolver method, args, kwargs): every call the "calls" scenario makes, in order,
#: on one resolver against the NSD fixture (names relative to example.test where it matters).
CALLS: Dict[str, Tuple[str, tuple, dict]] = {
    # -- query: each type aiodns 3.6.1 maps ------------------------------------------------------
    "query A www": _q("www.example.test", "A"),
    "query A multi": _q("multi.example.test", "A"),
    "query A dual": _q("dual.example.test", "A"),
    "query A other-ranges": _q("other-ranges.example.test", "A"),
    "query A wildcard": _q("anything.wild.example.test", "A"),
    "query A through CNAME chain": _q("chain-a.example.test", "A"),
    "query A through CNAME alias": _q("alias.example.test", "A"),
    "query A dangling CNAME": _q("dangling.example.test", "A"),
    "query A 25 labels": _q("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.deep.example.test", "A"),
    "query A 253-character name": _q(NAME_253, "A"),
    "query A 253-character name + root dot": _q(NAME_253 + ".", "A"),
    "query A trailing dot": _q("www.example.test.", "A"),
    "query A upper case": _q("WWW.Example.TEST", "A"),
    "query A bytes name": _q(b"www.example.test", "A"),
    "query AAAA ipv6only": _q("ipv6only.example.test", "AAAA"),
    "query AAAA dual": _q("dual.example.test", "AAAA"),
    "query AAAA ns2": _q("ns2.example.test", "AAAA"),
    "query CNAME alias": _q("alias.example.test", "CNAME"),
    "query CNAME chain-a": _q("chain-a.example.test", "CNAME"),
    "query CNAME dangling": _q("dangling.example.test", "CNAME"),
    "query MX apex": _q("example.test", "MX"),
    "query NS apex": _q("example.test", "NS"),
    "query NS delegation": _q("sub.example.test", "NS"),
    "query PTR v4": _q("10.2.0.192.in-addr.arpa", "PTR"),
    "query PTR v4 two names": _q("50.2.0.192.in-addr.arpa", "PTR"),
    "query PTR v6": _q("6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR"),
    "query PTR v6 two names": _q("0.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                                 "PTR"),
    "query SOA apex": _q("example.test", "SOA"),
    "query SOA reverse zone": _q("2.0.192.in-addr.arpa", "SOA"),
    "query SRV": _q("_sip._tcp.example.test", "SRV"),
    "query TXT one string": _q("txt.example.test", "TXT"),
    "query TXT three strings": _q("txt-multi.example.test", "TXT"),
    "query TXT two records": _q("txt-records.example.test", "TXT"),
    "query TXT utf-8": _q("txt-utf8.example.test", "TXT"),
    "query TXT not utf-8": _q("txt-raw.example.test", "TXT"),
    "query TXT with NUL": _q("txt-nul.example.test", "TXT"),
    "query TXT 255+3 octets": _q("txt-long.example.test", "TXT"),
    "query TXT over 512 octets (EDNS)": _q("txt-medium.example.test", "TXT"),
    "query TXT over 1232 octets (TCP)": _q("txt-big.example.test", "TXT"),
    "query NAPTR": _q("naptr.example.test", "NAPTR"),
    "query CAA": _q("caa.example.test", "CAA"),
    "query ANY www": _q("www.example.test", "ANY"),
    "query ANY dual": _q("dual.example.test", "ANY"),
    "query ANY apex": _q("example.test", "ANY"),
    "query ANY CNAME": _q("alias.example.test", "ANY"),
    "query ANY MX/A/TXT mix (naptr)": _q("naptr.example.test", "ANY"),
    "query ANY CAA": _q("caa.example.test", "ANY"),
    "query ANY SRV": _q("_sip._tcp.example.test", "ANY"),
    "query ANY TXT": _q("txt-multi.example.test", "ANY"),
    "query ANY PTR": _q("50.2.0.192.in-addr.arpa", "ANY"),
    "query ANY nxdomain": _q("nosuch.example.test", "ANY"),
    # -- query: classes --------------------------------------------------------------------------
    "query A class IN": _q("www.example.test", "A", "IN"),
    "query A class CHAOS": _q("www.example.test", "A", "CHAOS"),
    "query A class HS": _q("www.example.test", "A", "HS"),
    "query A class NONE": _q("www.example.test", "A", "NONE"),
    "query A class ANY": _q("www.example.test", "A", "ANY"),
    # -- query: errors ---------------------------------------------------------------------------
    "query A nxdomain": _q("nosuch.example.test", "A"),
    "query TXT nxdomain": _q("nosuch.example.test", "TXT"),
    "query AAAA nodata": _q("www.example.test", "AAAA"),
    "query MX nodata": _q("www.example.test", "MX"),
    "query SOA nodata": _q("www.example.test", "SOA"),
    "query CNAME nodata": _q("www.example.test", "CNAME"),
    "query PTR nxdomain": _q("99.2.0.192.in-addr.arpa", "PTR"),
    "query A outside the zones (REFUSED)": _q("www.example.invalid", "A"),
    "query A 254-character name": _q(NAME_254, "A"),
    "query TXT 254-character name": _q(NAME_254, "TXT"),
    "query A 64-octet label": _q(LABEL_64, "A"),
    "query A empty label": _q("www..example.test", "A"),
    "query A empty name": _q("", "A"),
    "query A root": _q(".", "A"),
    "query A non-ascii name": _q("b\u00fccher.example.test", "A"),
    "query A name with space": _q("with space.example.test", "A"),
    "query invalid type": _q("www.example.test", "HINFO"),
    "query invalid class": _q("www.example.test", "A", "XX"),
    "query name of wrong type": _q(42, "A"),
    # -- gethostbyname ---------------------------------------------------------------------------
    "gethostbyname www AF_INET": ("gethostbyname", ("www.example.test", AF_INET), {}),
    "gethostbyname www via search domain": ("gethostbyname", ("www", AF_INET), {}),
    "gethostbyname multi AF_INET": ("gethostbyname", ("multi.example.test", AF_INET), {}),
    "gethostbyname dual AF_INET6": ("gethostbyname", ("dual.example.test", AF_INET6), {}),
    "gethostbyname dual AF_UNSPEC": ("gethostbyname", ("dual.example.test", AF_UNSPEC), {}),
    "gethostbyname ipv6only AF_INET": ("gethostbyname", ("ipv6only.example.test", AF_INET), {}),
    "gethostbyname ipv6only AF_UNSPEC": ("gethostbyname", ("ipv6only.example.test", AF_UNSPEC), {}),
    "gethostbyname alias": ("gethostbyname", ("alias.example.test", AF_INET), {}),
    "gethostbyname CNAME chain": ("gethostbyname", ("chain-a.example.test", AF_INET), {}),
    "gethostbyname nxdomain": ("gethostbyname", ("nosuch.example.test", AF_INET), {}),
    "gethostbyname 253-character name": ("gethostbyname", (NAME_253, AF_INET), {}),
    "gethostbyname 254-character name": ("gethostbyname", (NAME_254, AF_INET), {}),
    "gethostbyname numeric v4": ("gethostbyname", ("192.0.2.1", AF_INET), {}),
    "gethostbyname numeric v6": ("gethostbyname", ("2001:db8::1", AF_INET6), {}),
    "gethostbyname bad family": ("gethostbyname", ("www.example.test", 12345), {}),
    # -- gethostbyaddr ---------------------------------------------------------------------------
    "gethostbyaddr v4": ("gethostbyaddr", ("192.0.2.10",), {}),
    "gethostbyaddr v4 two names": ("gethostbyaddr", ("192.0.2.50",), {}),
    "gethostbyaddr v6": ("gethostbyaddr", ("2001:db8::6",), {}),
    "gethostbyaddr v6 two names": ("gethostbyaddr", ("2001:db8::50",), {}),
    "gethostbyaddr no PTR": ("gethostbyaddr", ("192.0.2.99",), {}),
    "gethostbyaddr not an address": ("gethostbyaddr", ("not-an-address",), {}),
    # -- getaddrinfo -----------------------------------------------------------------------------
    "getaddrinfo www defaults": ("getaddrinfo", ("www.example.test",), {}),
    "getaddrinfo www AF_INET port 80 stream": ("getaddrinfo", ("www.example.test", AF_INET, 80),
                                               {"type": int(socket.SOCK_STREAM)}),
    "getaddrinfo www proto tcp": ("getaddrinfo", ("www.example.test",),
                                  {"port": 443, "proto": int(socket.IPPROTO_TCP)}),
    "getaddrinfo dual AF_UNSPEC": ("getaddrinfo", ("dual.example.test",), {"port": 8080}),
    "getaddrinfo dual AF_INET6": ("getaddrinfo", ("dual.example.test", AF_INET6), {}),
    "getaddrinfo ipv6only AF_INET": ("getaddrinfo", ("ipv6only.example.test", AF_INET), {}),
    "getaddrinfo multi": ("getaddrinfo", ("multi.example.test", AF_INET), {}),
    "getaddrinfo alias (cnames)": ("getaddrinfo", ("alias.example.test", AF_INET), {}),
    "getaddrinfo CNAME chain": ("getaddrinfo", ("chain-a.example.test", AF_INET), {}),
    "getaddrinfo via search domain": ("getaddrinfo", ("www", AF_INET), {}),
    "getaddrinfo nxdomain": ("getaddrinfo", ("nosuch.example.test",), {}),
    "getaddrinfo 254-character name": ("getaddrinfo", (NAME_254,), {}),
    "getaddrinfo numeric v4": ("getaddrinfo", ("192.0.2.1",), {"port": 443}),
    "getaddrinfo numeric v6": ("getaddrinfo", ("2001:db8::1", AF_INET6), {"port": 443}),
    "getaddrinfo bad family": ("getaddrinfo", ("www.example.test", 12345), {}),
    # what aiohttp's AsyncResolver (aiohttp >= 3.10) asks: SOCK_STREAM, socket.AI_ADDRCONFIG
    "getaddrinfo dual as aiohttp asks": ("getaddrinfo", ("dual.example.test",),
                                         {"port": 443, "type": int(socket.SOCK_STREAM),
                                          "flags": int(socket.AI_ADDRCONFIG)}),
    "getaddrinfo ARES_AI_CANONNAME": ("getaddrinfo", ("alias.example.test", AF_INET), {"flags": 1}),
    "getaddrinfo ARES_AI_NUMERICHOST with a name": ("getaddrinfo", ("www.example.test",),
                                                    {"flags": 2}),
    # -- getnameinfo -----------------------------------------------------------------------------
    "getnameinfo v4 flags 0": ("getnameinfo", (("192.0.2.10", 80),), {}),
    "getnameinfo v4 NUMERICSERV": ("getnameinfo", (("192.0.2.10", 80), NI_NUMERICSERV), {}),
    "getnameinfo v4 NOFQDN": ("getnameinfo", (("192.0.2.10", 80), NI_NOFQDN | NI_NUMERICSERV), {}),
    "getnameinfo v4 NUMERICHOST": ("getnameinfo", (("192.0.2.10", 53), NI_NUMERICHOST), {}),
    "getnameinfo v6": ("getnameinfo", (("2001:db8::6", 443, 0, 0), NI_NUMERICSERV), {}),
    "getnameinfo no PTR": ("getnameinfo", (("192.0.2.99", 80), 0), {}),
    "getnameinfo no PTR NAMEREQD": ("getnameinfo", (("192.0.2.99", 80), NI_NAMEREQD), {}),
    "getnameinfo 3-tuple": ("getnameinfo", (("192.0.2.10", 80, 0),), {}),
    "getnameinfo not an address": ("getnameinfo", (("not-an-address", 80),), {}),
}


# -- recording ---------------------------------------------------------------------------------

def norm(value: Any) -> Any:
    """A JSON-safe picture of a value that keeps the Python types a program would see."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, tuple):
        return {"tuple": [norm(v) for v in value]}
    if isinstance(value, list):
        return [norm(v) for v in value]
    name = type(value).__name__
    if name in FIELDS:
        repr(value)  # must not raise
        fields = {}
        for field in FIELDS[name]:
            try:
                fields[field] = norm(getattr(value, field))
            except AttributeError:
                fields[field] = "<missing>"
        return {"class": name, "fields": fields}
    return {"class": name, "repr": repr(value)}


def exc_record(exc: BaseException) -> Dict[str, Any]:
    import pycares
    cls = type(exc)
    record: Dict[str, Any] = {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "mro": [f"{c.__module__}.{c.__qualname__}" for c in cls.__mro__],
        "str": str(exc),
    }
    if cls.__name__ == "DNSError":
        record["args"] = norm(exc.args)
        if exc.args and isinstance(exc.args[0], int):
            # one naming for both libraries: pycares 4.11's errno module lacks ARES_ENOSERVER (26)
            record["errno_name"] = pycares.errno.errorcode.get(exc.args[0], ERRNO_EXTRA.get(exc.args[0], "?"))
    return record


async def outcome_of(fut: Any, timeout: float = 10.0) -> Dict[str, Any]:
    """What awaiting an aiodns future gives: a result, an exception, cancelled, or nothing."""
    t0 = time.monotonic()
    try:
        done, _ = await asyncio.wait({fut}, timeout=timeout)
    except BaseException as exc:  # noqa: BLE001
        return {"wait_raised": exc_record(exc)}
    elapsed = round(time.monotonic() - t0, 3)
    if not done:
        return {"pending": True, "elapsed": elapsed}
    if fut.cancelled():
        return {"cancelled": True, "elapsed": elapsed}
    exc = fut.exception()
    if exc is not None:
        return {"error": exc_record(exc), "elapsed": elapsed}
    return {"result": norm(fut.result()), "elapsed": elapsed}


async def call_outcome(resolver: Any, method: str, args: tuple, kwargs: dict,
                       timeout: float = 10.0) -> Dict[str, Any]:
    try:
        fut = getattr(resolver, method)(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        return {"raised": exc_record(exc)}
    return await outcome_of(fut, timeout)


def future_state(fut: Any) -> Dict[str, Any]:
    if not fut.done():
        return {"pending": True}
    if fut.cancelled():
        return {"cancelled": True}
    exc = fut.exception()
    if exc is not None:
        return {"error": exc_record(exc)}
    return {"result": norm(fut.result())}


def sync_call(func: Callable[[], Any]) -> Dict[str, Any]:
    try:
        value = func()
    except Exception as exc:  # noqa: BLE001
        return {"raised": exc_record(exc)}
    return {"value": norm(value)}


# -- the process -------------------------------------------------------------------------------

class Ctx:
    def __init__(self, spec: Dict[str, Any]) -> None:
        self.spec = spec
        self.loop: Any = None
        self.aiodns: Any = None
        self.unraisable: List[Dict[str, Any]] = []
        self.loop_errors: List[Dict[str, Any]] = []
        self.notes: Dict[str, Any] = {}
        #: every resolver made with keep=True, alive until exit: pycares 4.11 (the oracle) calls a
        #: dropped channel's sock_state_cb handle from its shutdown thread after the handle was
        #: collected ("ffi.from_handle() detected that the address passed points to garbage",
        #: abort) -- seen with uvloop in sock_state_cb mode
        self.kept: List[Any] = []

    def resolver(self, port: int = 0, *, loop: Any = None, nameservers: Any = ("127.0.0.1",),
                 keep: bool = True, **options: Any) -> Any:
        port = port or self.spec["nsd_port"]
        options.setdefault("timeout", 2.0)
        options.setdefault("tries", 1)
        options.setdefault("resolvconf_path", self.spec["resolvconf"])
        options.setdefault("lookups", "b")
        options.setdefault("domains", [ORIGIN])
        resolver = self.aiodns.DNSResolver(nameservers=list(nameservers) if nameservers else nameservers,
                                           loop=loop, udp_port=port, tcp_port=port, **options)
        if keep:
            self.kept.append(resolver)
        return resolver

    def fault_resolver(self, **options: Any) -> Any:
        return self.resolver(self.spec["fault_port"], **options)


def setup(spec: Dict[str, Any]) -> Ctx:
    ctx = Ctx(spec)

    def hook(unraisable: Any) -> None:
        text = "".join(traceback.format_exception(unraisable.exc_type, unraisable.exc_value,
                                                  unraisable.exc_traceback))
        ctx.unraisable.append({
            "exc_type": getattr(unraisable.exc_type, "__qualname__", repr(unraisable.exc_type)),
            "exc_value": repr(unraisable.exc_value),
            "err_msg": unraisable.err_msg,
            "object": repr(unraisable.object)[:300],
            "traceback": text,
        })
        sys.stderr.write(f"UNRAISABLE ({unraisable.err_msg}): {text}\n")

    sys.unraisablehook = hook

    if spec["lib"] == "ng":
        import pycares_ng
        sys.modules["pycares"] = pycares_ng
        sys.modules["pycares.errno"] = pycares_ng.errno
        sys.modules["pycares.utils"] = pycares_ng.utils
    import pycares
    if spec["lib"] == "p4":
        import oracle_keepalive
        oracle_keepalive.install(pycares)
    if spec["mode"] == "sock_state_cb":
        pycares.ares_threadsafety = lambda: False  # this process only: aiodns' fallback path
    import aiodns
    import aiodns.error
    # The oracle child turns warnings into errors only here, after its imports: with the filter
    # in place while pycares 4.11, asyncio and aiodns are imported, pycares 4.11's host lookups
    # (gethostbyname, getaddrinfo, gethostbyaddr, getnameinfo) were seen to fail at once with
    # ARES_ECONNREFUSED (ENOTFOUND, a numeric getnameinfo) without sending a packet -- not every
    # run, reproducibly for a while, cause not found. No warning is shown with "always".
    warnings.simplefilter("error")
    ctx.aiodns = aiodns
    ctx.notes["identity"] = {
        "aiodns_version": aiodns.__version__,
        "aiodns_pycares": aiodns.pycares.__name__,
        "errno_module": sys.modules["pycares.errno"].__name__,
        "ENOTFOUND_is_same": aiodns.error.ARES_ENOTFOUND == pycares.errno.ARES_ENOTFOUND,
        "real_pycares_loaded": "pycares._cares" in sys.modules,
        "pycares_ng_loaded": "pycares_ng._core" in sys.modules,
        "ARES_VERSION": pycares.ARES_VERSION,
        "ECANCELLED": pycares.errno.ARES_ECANCELLED,
    }

    if spec["loop"] == "uvloop":
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()

    def handler(_loop: Any, context: Dict[str, Any]) -> None:
        exc = context.get("exception")
        ctx.loop_errors.append({
            "message": context.get("message"),
            "exception": repr(exc),
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            if exc is not None else None,
        })

    loop.set_exception_handler(handler)
    ctx.loop = loop
    return ctx


def run(ctx: Ctx, coro: Any) -> Any:
    return ctx.loop.run_until_complete(coro)


# -- scenarios ---------------------------------------------------------------------------------

def sc_calls(ctx: Ctx) -> Dict[str, Any]:
    """Every entry of CALLS, in order, each on a resolver of its own against NSD: c-ares 1.34
    (pycares 4.11) remembers a server that answered REFUSED or a malformed reply as failed and
    then fails later requests of the same channel at once with ARES_ECONNREFUSED, so on a shared
    resolver the oracle's outcomes would depend on the order of the calls."""
    async def main() -> Dict[str, Any]:
        out: Dict[str, Any] = {"calls": {}}
        for label, (method, args, kwargs) in CALLS.items():
            resolver = ctx.resolver()
            out.setdefault("event_thread", resolver._event_thread)
            out["calls"][label] = await call_outcome(resolver, method, args, kwargs)
            await resolver.close()
        return out
    return run(ctx, main())


#: calls whose reply makes c-ares count the server as failed (REFUSED, or a REFUSED without a
#: question that c-ares 1.18 ignores until the timeout): left out of "calls_shared"
UPSETTING = {
    "query A class CHAOS", "query A class HS", "query A class NONE",
    "query A outside the zones (REFUSED)", "query A empty name", "query A root",
    "query A 254-character name", "query TXT 254-character name",
}


def sc_calls_shared(ctx: Ctx) -> Dict[str, Any]:
    """CALLS (but UPSETTING) all at once on ONE resolver, as a busy program makes them."""
    async def main() -> Dict[str, Any]:
        resolver = ctx.resolver()
        labels = [label for label in CALLS if label not in UPSETTING]
        results = await asyncio.gather(*(call_outcome(resolver, *CALLS[label]) for label in labels))
        await resolver.close()
        return {"calls": dict(zip(labels, results))}
    return run(ctx, main())


def sc_nameservers(ctx: Ctx) -> Dict[str, Any]:
    """The nameservers property: get and set, and that a set server is the one asked.
    NSD is on 127.0.0.1:P, a FaultServer on 127.0.0.2:P answers www.example.test differently."""
    async def main() -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        resolver = ctx.resolver()
        www = lambda: call_outcome(resolver, "query", ("www.example.test", "A"), {})  # noqa: E731

        def set_ns(value: Any) -> Dict[str, Any]:
            def do() -> None:
                resolver.nameservers = value
            return sync_call(do)

        out["get initial"] = sync_call(lambda: resolver.nameservers)
        out["query initial"] = await www()
        out["set 127.0.0.2"] = set_ns(["127.0.0.2"])
        out["get after set 127.0.0.2"] = sync_call(lambda: resolver.nameservers)
        out["query after set 127.0.0.2"] = await www()
        out["set two, v4 and v6"] = set_ns(["127.0.0.1", "::1"])
        out["get two"] = sync_call(lambda: resolver.nameservers)
        out["set tuple"] = set_ns(("127.0.0.2",))
        out["get after tuple"] = sync_call(lambda: resolver.nameservers)
        out["set bytes"] = set_ns([b"127.0.0.1"])
        out["get after bytes"] = sync_call(lambda: resolver.nameservers)
        out["query after bytes"] = await www()
        out["set not an address"] = set_ns(["not-an-address"])
        out["get after not an address"] = sync_call(lambda: resolver.nameservers)
        out["set str instead of list"] = set_ns("127.0.0.2")
        out["get after str"] = sync_call(lambda: resolver.nameservers)
        out["set empty"] = set_ns([])
        if ctx.spec["lib"] == "p4":  # pycares 4.11 dereferences NULL: its servers getter
            # segfaults when the channel has no servers (ares_get_servers gives an empty list)
            out["get after empty"] = {"skipped": "pycares 4.11 segfaults here"}
        else:
            out["get after empty"] = sync_call(lambda: resolver.nameservers)
        out["query after empty"] = await www()
        await resolver.close()

        other = ctx.resolver(nameservers=["127.0.0.2"])
        out["constructor 127.0.0.2: get"] = sync_call(lambda: other.nameservers)
        out["constructor 127.0.0.2: query"] = await call_outcome(other, "query",
                                                                  ("www.example.test", "A"), {})
        await other.close()
        none = ctx.resolver(nameservers=None)
        out["constructor None (empty resolv.conf): get"] = sync_call(lambda: none.nameservers)
        await none.close()
        try:
            bad = ctx.resolver(nameservers=["not-an-address"])
        except Exception as exc:  # noqa: BLE001
            out["constructor not an address"] = {"raised": exc_record(exc)}
        else:
            out["constructor not an address"] = {"value": "constructed"}
            await bad.close()
        return out
    return run(ctx, main())


FAULT_CALLS: Dict[str, Tuple[str, tuple, dict]] = {
    "query A drop (timeout)": _q("drop.test", "A"),
    "query TXT drop (timeout)": _q("drop.test", "TXT"),
    "gethostbyname drop (timeout)": ("gethostbyname", ("drop.test", AF_INET), {}),
    "getaddrinfo drop (timeout)": ("getaddrinfo", ("drop.test",), {"port": 80}),
    "gethostbyaddr drop (timeout)": ("gethostbyaddr", ("192.0.2.1",), {}),
    "getnameinfo drop (timeout)": ("getnameinfo", (("192.0.2.1", 80), NI_NUMERICSERV), {}),
    "query A servfail": _q("servfail.test", "A"),
    "query A refused": _q("refused.test", "A"),
    "query A nxdomain": _q("nx.test", "A"),
    "query A nodata": _q("nodata.test", "A"),
    "query A truncated (TCP fallback)": _q("trunc.test", "A"),
    "query A garbage reply": _q("garbage.test", "A"),
    "query A short header": _q("shortheader.test", "A"),
    "query A bad rdata": _q("badrdata.test", "A"),
    "gethostbyname servfail": ("gethostbyname", ("servfail.test", AF_INET), {}),
    "getaddrinfo servfail": ("getaddrinfo", ("servfail.test",), {}),
    "gethostbyname nxdomain": ("gethostbyname", ("nx.test", AF_INET), {}),
    "getaddrinfo nxdomain": ("getaddrinfo", ("nx.test",), {}),
}


def sc_faults(ctx: Ctx) -> Dict[str, Any]:
    """Timeouts and error replies from the FaultServer (timeout 0.5 s, 1 try), all at once, one
    resolver per call (c-ares 1.34 fails every query on a socket that got an unparsable reply,
    so the calls must not share one)."""
    async def one(label: str) -> Dict[str, Any]:
        resolver = ctx.fault_resolver(timeout=0.5, domains=[])
        try:
            return await call_outcome(resolver, *FAULT_CALLS[label], timeout=15)
        finally:
            await resolver.close()

    async def main() -> Dict[str, Any]:
        labels = list(FAULT_CALLS)
        outcomes = await asyncio.gather(*(one(label) for label in labels))
        return {"calls": dict(zip(labels, outcomes))}
    return run(ctx, main())


def sc_delay(ctx: Ctx) -> Dict[str, Any]:
    """A FaultServer that answers every query after 0.4 s: within the channel timeout (2 s) the
    answer arrives; with a 0.15 s timeout and 1 try the request times out first."""
    async def one(label: str, timeout: float, method: str, args: tuple, kwargs: dict) -> Dict[str, Any]:
        resolver = ctx.resolver(ctx.spec["delay_port"], timeout=timeout, domains=[])
        try:
            return await call_outcome(resolver, method, args, kwargs)
        finally:
            await resolver.close()

    async def main() -> Dict[str, Any]:
        cases = {
            "query A, timeout 2 s": (2.0, "query", ("slow.test", "A"), {}),
            "gethostbyname, timeout 2 s": (2.0, "gethostbyname", ("slow.test", AF_INET), {}),
            "getaddrinfo, timeout 2 s": (2.0, "getaddrinfo", ("slow.test", AF_INET), {}),
            "query A, timeout 0.15 s": (0.15, "query", ("slow.test", "A"), {}),
            "getaddrinfo, timeout 0.15 s": (0.15, "getaddrinfo", ("slow.test", AF_INET), {}),
        }
        results = await asyncio.gather(*(one(label, *case) for label, case in cases.items()))
        return {"calls": dict(zip(cases, results))}
    return run(ctx, main())


PENDING_CALLS: List[Tuple[str, str, tuple, dict]] = [
    ("query A", "query", ("drop.test", "A"), {}),
    ("query MX", "query", ("drop.test", "MX"), {}),
    ("gethostbyname", "gethostbyname", ("drop.test", AF_INET), {}),
    ("getaddrinfo", "getaddrinfo", ("drop.test",), {"port": 80}),
    ("gethostbyaddr", "gethostbyaddr", ("192.0.2.1",), {}),
    ("getnameinfo", "getnameinfo", (("192.0.2.1", 80), NI_NUMERICSERV), {}),
]


def start_pending(resolver: Any) -> Dict[str, Any]:
    """PENDING_CALLS on *resolver* (the FaultServer never answers them); label -> future."""
    return {label: getattr(resolver, method)(*args, **kwargs)
            for label, method, args, kwargs in PENDING_CALLS}


async def outcomes(futures: Dict[str, Any], timeout: float) -> Dict[str, Any]:
    return await gather_outcomes(outcome_of, futures, timeout)


def sc_cancel(ctx: Ctx) -> Dict[str, Any]:
    """DNSResolver.cancel() with pending queries of every kind (the server drops them; the
    channel timeout is 5 s, so only cancel() can end them early)."""
    async def main() -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        resolver = ctx.fault_resolver(timeout=5.0, domains=[])
        out["cancel with nothing pending"] = sync_call(resolver.cancel)
        futures = start_pending(resolver)
        await asyncio.sleep(0.2)
        out["states before cancel"] = {k: future_state(f) for k, f in futures.items()}
        out["cancel"] = sync_call(resolver.cancel)
        out["outcomes"] = await outcomes(futures, 4.0)
        # a future the program cancelled itself, then its request is cancelled too
        mine = resolver.query("drop.test", "A")
        await asyncio.sleep(0.05)
        mine.cancel()
        out["cancel after user cancelled"] = sync_call(resolver.cancel)
        await asyncio.sleep(0.3)
        out["user-cancelled future"] = future_state(mine)
        out["query after cancel"] = await call_outcome(resolver, "query", ("ok.test", "A"), {})
        out["gethostbyname after cancel"] = await call_outcome(resolver, "gethostbyname",
                                                               ("ok.test", AF_INET), {})
        # cancel() while one request is answered and others are pending
        answered = resolver.query("ok.test", "A")
        dropped = resolver.query("drop.test", "A")
        out["answered before cancel"] = await outcome_of(answered, 4.0)
        resolver.cancel()
        out["dropped after cancel"] = await outcome_of(dropped, 4.0)
        await resolver.close()
        return out
    return run(ctx, main())


def sc_close(ctx: Ctx) -> Dict[str, Any]:
    """await DNSResolver.close() with pending queries, use after close, async with."""
    async def main() -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        resolver = ctx.fault_resolver(timeout=5.0, domains=[])
        futures = start_pending(resolver)
        await asyncio.sleep(0.2)
        try:
            await resolver.close()
        except Exception as exc:  # noqa: BLE001
            out["close"] = {"raised": exc_record(exc)}
        else:
            out["close"] = {"value": None}
        out["states right after close"] = {k: future_state(f) for k, f in futures.items()}
        out["outcomes"] = await outcomes(futures, 4.0)
        out["close again"] = {"value": norm(await resolver.close())}
        for label, method, args, kwargs in PENDING_CALLS:
            out[f"{label} after close"] = await call_outcome(resolver, method, args, kwargs, 2.0)
        out["nameservers after close"] = sync_call(lambda: resolver.nameservers)
        out["cancel after close"] = sync_call(resolver.cancel)

        async with ctx.fault_resolver(timeout=5.0, domains=[]) as scoped:
            out["async with: query"] = await call_outcome(scoped, "query", ("ok.test", "A"), {})
            pending = scoped.query("drop.test", "A")
            await asyncio.sleep(0.1)
        out["async with: closed"] = scoped._closed
        out["async with: pending at exit"] = await outcome_of(pending, 4.0)
        # close with nothing pending, then a fresh resolver on the same loop works
        quiet = ctx.resolver()
        await quiet.close()
        again = ctx.resolver()
        out["new resolver after close"] = await call_outcome(again, "query", ("www.example.test", "A"), {})
        await again.close()
        return out
    return run(ctx, main())


def sc_close_from_callback(ctx: Ctx) -> Dict[str, Any]:
    """close() called from a done-callback of one of the resolver's futures, others pending."""
    async def main() -> Dict[str, Any]:
        resolver = ctx.fault_resolver(timeout=5.0, domains=[])
        futures = start_pending(resolver)
        return await close_from_callback(outcome_of, resolver, futures, resolver.query("ok.test", "A"))
    return run(ctx, main())


def sc_del_running(ctx: Ctx) -> Dict[str, Any]:
    """A resolver dropped (last reference deleted, gc.collect()) with queries pending, inside a
    running loop. Channel timeout 2 s: an ETIMEOUT means the requests lived on until timeout."""
    async def main() -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        resolver = ctx.fault_resolver(timeout=2.0, domains=[], keep=False)
        futures = start_pending(resolver)
        await asyncio.sleep(0.2)
        ref = weakref.ref(resolver)
        del resolver
        gc.collect()
        out["resolver alive right after del+collect"] = ref() is not None
        out["outcomes"] = await outcomes(futures, 6.0)
        await asyncio.sleep(1.5)  # aiodns' sock_state_cb timer re-arms every second while it has fds
        gc.collect()
        out["resolver alive 1.5 s after outcomes"] = ref() is not None
        return out
    return run(ctx, main())


def sc_del_idle_loop(ctx: Ctx) -> Dict[str, Any]:
    """A resolver made for a loop that is not running, queries started, resolver dropped while
    the loop is still not running; then the loop runs until the futures are done."""
    out: Dict[str, Any] = {}
    resolver = ctx.fault_resolver(loop=ctx.loop, timeout=2.0, domains=[], keep=False)
    futures = start_pending(resolver)
    time.sleep(0.2)
    ref = weakref.ref(resolver)
    del resolver
    gc.collect()
    out["resolver alive right after del+collect"] = ref() is not None
    out["outcomes"] = run(ctx, outcomes(futures, 6.0))
    run(ctx, asyncio.sleep(1.5))  # aiodns' sock_state_cb timer re-arms every second while it has fds
    gc.collect()
    out["resolver alive 1.5 s after outcomes"] = ref() is not None
    return out


def sc_del_closed_loop(ctx: Ctx) -> Dict[str, Any]:
    """Queries pending, the loop closed, then the resolver dropped: aiodns' callbacks then call
    loop.call_soon_threadsafe on a closed loop. Waits past the channel timeout (1 s)."""
    out: Dict[str, Any] = {}
    resolver = ctx.fault_resolver(loop=ctx.loop, timeout=1.0, domains=[], keep=False)
    futures = start_pending(resolver)
    run(ctx, asyncio.sleep(0.2))
    ctx.loop.close()
    ref = weakref.ref(resolver)
    del resolver
    gc.collect()
    out["resolver alive right after del+collect"] = ref() is not None
    time.sleep(2.0)
    gc.collect()
    out["resolver alive after 2 s"] = ref() is not None
    out["states"] = {k: future_state(f) for k, f in futures.items()}
    return out


def sc_exit_pending(ctx: Ctx) -> Dict[str, Any]:
    """The program ends with a resolver still holding pending queries (no close, loop open)."""
    async def main() -> Dict[str, Any]:
        resolver = ctx.fault_resolver(timeout=5.0, domains=[])
        ctx.notes["kept"] = (resolver, start_pending(resolver))  # alive until exit
        await asyncio.sleep(0.2)
        return {"started": len(PENDING_CALLS)}
    return run(ctx, main())


SCENARIOS: Dict[str, Callable[[Ctx], Dict[str, Any]]] = {
    "calls": sc_calls,
    "calls_shared": sc_calls_shared,
    "nameservers": sc_nameservers,
    "faults": sc_faults,
    "delay": sc_delay,
    "cancel": sc_cancel,
    "close": sc_close,
    "close_from_callback": sc_close_from_callback,
    "del_running": sc_del_running,
    "del_idle_loop": sc_del_idle_loop,
    "del_closed_loop": sc_del_closed_loop,
    "exit_pending": sc_exit_pending,
}


def main(spec: Dict[str, Any]) -> None:
    ctx = setup(spec)
    report: Dict[str, Any] = {"spec": spec}
    try:
        report["data"] = SCENARIOS[spec["scenario"]](ctx)
    except BaseException as exc:  # noqa: BLE001
        report["crashed"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    gc.collect()
    if spec["scenario"] != "exit_pending" and not ctx.loop.is_closed():
        try:
            ctx.loop.run_until_complete(asyncio.sleep(0))
            ctx.loop.close()
        except BaseException as exc:  # noqa: BLE001
            report["loop_close_failed"] = repr(exc)
    gc.collect()
    report["identity"] = ctx.notes["identity"]
    report["unraisable"] = ctx.unraisable
    report["loop_errors"] = ctx.loop_errors
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(SPEC)
