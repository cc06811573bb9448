"""The child of tests/oracle/test_aiodns4_table.py: aiodns 4.0.4 as a real client.

Run as ``python aiodns4_child.py`` with a JSON spec on stdin; prints one JSON report on stdout::

    spec = {"lib": "ng" | "p5",      # "ng": sys.modules["pycares"] (and pycares.errno, pycares.utils) is
                                     #       pycares_ng.v5; "p5": the real pycares 5.2.1 (the oracle)
            "loop": "asyncio" | "uvloop",
            "mode": "event_thread" | "sock_state_cb",
                                     # "sock_state_cb": Channel() without sock_state_cb raises AresError
                                     # in this process, so aiodns takes its fallback path
            "nsd_port": int, "resolvconf": path}

aiodns 4.0.4 comes from the oracle directory (PYTHONPATH) in both children. The child starts a
FaultServer of its own (drops and error replies). Every scenario runs on a fresh loop with
``warnings.simplefilter("error")`` (the ng child: from before its first import), a recording
``sys.unraisablehook`` and a recording loop exception handler. Importing this module (the parent
does, for the labels) imports neither pycares nor aiodns.
"""
from __future__ import annotations

import sys
import warnings

from aiodns_child_common import close_from_callback, gather_outcomes, read_spec

if __name__ == "__main__":
    SPEC = read_spec()  # the pycares_ng child: warnings are errors from its first import on

import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import weakref  # noqa: E402
from typing import Any, Callable, Dict, List, Tuple  # noqa: E402

AF_INET, AF_INET6, AF_UNSPEC = int(socket.AF_INET), int(socket.AF_INET6), int(socket.AF_UNSPEC)
NI_NUMERICHOST, NI_NAMEREQD, NI_NUMERICSERV = 2, 4, 8
NAME_254 = ".".join(["e" * 63, "f" * 63, "g" * 63, "h" * 49, "example", "test"])


def _q(name: Any, qtype: str, *qclass: str, method: str = "query_dns") -> Tuple[str, tuple, dict]:
    return (method, (name, qtype) + qclass, {})


#: label -> (DNSResolver method, args, kwargs) against the NSD zone (tests/data)
CALLS: Dict[str, Tuple[str, tuple, dict]] = {
    "query_dns A www": _q("www.example.test", "A"),
    "query_dns A multi": _q("multi.example.test", "A"),
    "query_dns AAAA ipv6only": _q("ipv6only.example.test", "AAAA"),
    "query_dns CNAME alias": _q("alias.example.test", "CNAME"),
    "query_dns A through CNAME": _q("chain-a.example.test", "A"),
    "query_dns MX apex": _q("example.test", "MX"),
    "query_dns NS apex": _q("example.test", "NS"),
    "query_dns PTR v4": _q("10.2.0.192.in-addr.arpa", "PTR"),
    "query_dns SOA apex": _q("example.test", "SOA"),
    "query_dns SRV": _q("_sip._tcp.example.test", "SRV"),
    "query_dns TXT multi": _q("txt-multi.example.test", "TXT"),
    "query_dns TXT utf-8": _q("txt-utf8.example.test", "TXT"),
    "query_dns TXT raw": _q("txt-raw.example.test", "TXT"),
    "query_dns TXT with NUL": _q("txt-nul.example.test", "TXT"),
    "query_dns TXT over 1232 octets (TCP)": _q("txt-big.example.test", "TXT"),
    "query_dns NAPTR": _q("naptr.example.test", "NAPTR"),
    "query_dns CAA": _q("caa.example.test", "CAA"),
    "query_dns ANY www": _q("www.example.test", "ANY"),
    "query_dns A class CHAOS": _q("www.example.test", "A", "CHAOS"),
    "query_dns nxdomain": _q("nosuch.example.test", "A"),
    "query_dns nodata": _q("www.example.test", "MX"),
    "query_dns 254-character name": _q(NAME_254, "A"),
    "query_dns 64-octet label": _q("x" * 64 + ".example.test", "A"),
    "query A www": _q("www.example.test", "A", method="query"),
    "query AAAA dual": _q("dual.example.test", "AAAA", method="query"),
    "query CNAME alias": _q("alias.example.test", "CNAME", method="query"),
    "query MX apex": _q("example.test", "MX", method="query"),
    "query NS apex": _q("example.test", "NS", method="query"),
    "query PTR v4": _q("50.2.0.192.in-addr.arpa", "PTR", method="query"),
    "query SOA apex": _q("example.test", "SOA", method="query"),
    "query SRV": _q("_sip._tcp.example.test", "SRV", method="query"),
    "query TXT records": _q("txt-records.example.test", "TXT", method="query"),
    "query TXT with NUL": _q("txt-nul.example.test", "TXT", method="query"),
    "query TXT not utf-8": _q("txt-raw.example.test", "TXT", method="query"),
    "query NAPTR": _q("naptr.example.test", "NAPTR", method="query"),
    "query CAA": _q("caa.example.test", "CAA", method="query"),
    "query ANY apex": _q("example.test", "ANY", method="query"),
    "query nxdomain": _q("nosuch.example.test", "A", method="query"),
    "query nodata": _q("www.example.test", "AAAA", method="query"),
    "query outside the zones (REFUSED)": _q("www.example.invalid", "A", method="query"),
    "query 254-character name": _q(NAME_254, "A", method="query"),
    "query empty label": _q("www..example.test", "A", method="query"),
    "query invalid type": _q("www.example.test", "HINFO", method="query"),
    "query invalid class": _q("www.example.test", "A", "XX", method="query"),
    "query name of wrong type": _q(42, "A", method="query"),
    "gethostbyname www AF_INET": ("gethostbyname", ("www.example.test", AF_INET), {}),
    "gethostbyname dual AF_INET6": ("gethostbyname", ("dual.example.test", AF_INET6), {}),
    "gethostbyname alias": ("gethostbyname", ("alias.example.test", AF_INET), {}),
    "gethostbyname nxdomain": ("gethostbyname", ("nosuch.example.test", AF_INET), {}),
    "gethostbyaddr v4": ("gethostbyaddr", ("192.0.2.10",), {}),
    "gethostbyaddr v6": ("gethostbyaddr", ("2001:db8::6",), {}),
    "gethostbyaddr no PTR": ("gethostbyaddr", ("192.0.2.99",), {}),
    "gethostbyaddr not an address": ("gethostbyaddr", ("not-an-address",), {}),
    "getaddrinfo www defaults": ("getaddrinfo", ("www.example.test",), {}),
    "getaddrinfo www AF_INET port 80": ("getaddrinfo", ("www.example.test", AF_INET, 80),
                                        {"type": int(socket.SOCK_STREAM)}),
    "getaddrinfo dual AF_UNSPEC": ("getaddrinfo", ("dual.example.test",), {"port": 443}),
    "getaddrinfo alias": ("getaddrinfo", ("alias.example.test", AF_INET), {}),
    "getaddrinfo nxdomain": ("getaddrinfo", ("nosuch.example.test",), {}),
    "getaddrinfo 254-character name": ("getaddrinfo", (NAME_254,), {}),
    "getaddrinfo numeric v6": ("getaddrinfo", ("2001:db8::1", AF_INET6), {"port": 443}),
    "getnameinfo v4 NUMERICSERV": ("getnameinfo", (("192.0.2.10", 80), NI_NUMERICSERV), {}),
    "getnameinfo v4 NUMERICHOST": ("getnameinfo", (("192.0.2.10", 53), NI_NUMERICHOST), {}),
    "getnameinfo v6": ("getnameinfo", (("2001:db8::6", 443, 0, 0), NI_NUMERICSERV), {}),
    "getnameinfo no PTR NAMEREQD": ("getnameinfo", (("192.0.2.99", 80), NI_NAMEREQD), {}),
    "getnameinfo 3-tuple": ("getnameinfo", (("192.0.2.10", 80, 0),), {}),
    "getnameinfo not an address": ("getnameinfo", (("not-an-address", 80),), {}),
}

FAULT_RULES = {"drop.test": "drop", "1.2.0.192.in-addr.arpa": "drop", "servfail.test": "servfail",
               "refused.test": "refused", "nx.test": "nxdomain", "nodata.test": "nodata",
               "trunc.test": "truncate", "garbage.test": "garbage"}
FAULT_CALLS: Dict[str, Tuple[str, tuple, dict]] = {
    "query_dns A drop (timeout)": _q("drop.test", "A"),
    "query TXT drop (timeout)": _q("drop.test", "TXT", method="query"),
    "getaddrinfo drop (timeout)": ("getaddrinfo", ("drop.test",), {"port": 80}),
    "gethostbyaddr drop (timeout)": ("gethostbyaddr", ("192.0.2.1",), {}),
    "query_dns servfail": _q("servfail.test", "A"),
    "query refused": _q("refused.test", "A", method="query"),
    "query_dns nxdomain": _q("nx.test", "A"),
    "query nodata": _q("nodata.test", "A", method="query"),
    "query truncated (TCP fallback)": _q("trunc.test", "A", method="query"),
    "query_dns garbage reply": _q("garbage.test", "A"),
    "getaddrinfo servfail": ("getaddrinfo", ("servfail.test",), {}),
}

PENDING_CALLS: List[Tuple[str, str, tuple, dict]] = [
    ("query_dns A", "query_dns", ("drop.test", "A"), {}),
    ("query MX", "query", ("drop.test", "MX"), {}),
    ("gethostbyname", "gethostbyname", ("drop.test", AF_INET), {}),
    ("getaddrinfo", "getaddrinfo", ("drop.test",), {"port": 80}),
    ("gethostbyaddr", "gethostbyaddr", ("192.0.2.1",), {}),
    ("getnameinfo", "getnameinfo", (("192.0.2.1", 80), NI_NUMERICSERV), {}),
]

#: scenario -> the keys it reports, in order
SCENARIO_KEYS: Dict[str, List[str]] = {
    "nameservers": ["get initial", "set 127.0.0.1", "get after set", "query after set", "set two",
                    "get two", "set not an address", "get after not an address", "set empty",
                    "get after empty"],
    "cancel": ["cancel with nothing pending", "cancel", "outcomes", "query after cancel"],
    "close": ["close", "outcomes", "close again", "query_dns after close", "getaddrinfo after close",
              "nameservers after close", "async with: query", "async with: pending at exit"],
    "close_from_callback": ["first", "outcomes"],
    "dropped": ["outcomes", "resolver alive", "unraisable"],
}


# -- recording -----------------------------------------------------------------------------------

def norm(value: Any) -> Any:
    """A JSON picture of value that keeps the Python types."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return [type(value).__name__, value]
    if isinstance(value, (bytes, bytearray)):
        return [type(value).__name__, bytes(value).decode("latin-1")]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [norm(v) for v in value]]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ["obj", type(value).__name__, [[f.name, norm(getattr(value, f.name))]
                                              for f in dataclasses.fields(value)]]
    return ["?", type(value).__name__, repr(value)]


def exc_record(exc: BaseException) -> Dict[str, Any]:
    out: Dict[str, Any] = {"class": f"{type(exc).__module__}.{type(exc).__qualname__}",
                           "mro": [f"{k.__module__}.{k.__qualname__}" for k in type(exc).__mro__],
                           "str": str(exc)}
    if type(exc).__name__ in ("DNSError", "AresError"):
        out["args"] = norm(exc.args)
    return out


async def outcome_of(fut: Any, timeout: float = 10.0) -> Dict[str, Any]:
    t0 = time.monotonic()
    try:
        result = await asyncio.wait_for(asyncio.shield(fut), timeout)
    except asyncio.TimeoutError:
        return {"pending after": timeout}
    except asyncio.CancelledError:
        return {"cancelled": True}
    except Exception as exc:  # noqa: BLE001
        return {"error": exc_record(exc), "elapsed": round(time.monotonic() - t0, 2)}
    return {"result": norm(result), "elapsed": round(time.monotonic() - t0, 2)}


async def call_outcome(resolver: Any, method: str, args: tuple, kwargs: dict, timeout: float = 10.0) -> Dict[str, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # aiodns 4's gethostbyname()
            fut = getattr(resolver, method)(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        return {"raised": exc_record(exc)}
    return await outcome_of(fut, timeout)


def sync_call(f: Callable[[], Any]) -> Dict[str, Any]:
    try:
        return {"value": norm(f())}
    except Exception as exc:  # noqa: BLE001
        return {"raised": exc_record(exc)}


class Ctx:
    def __init__(self, spec: Dict[str, Any], aiodns: Any, pycares: Any, fault: Any) -> None:
        self.spec = spec
        self.aiodns = aiodns
        self.pycares = pycares
        self.fault = fault
        self.loop: Any = None
        self.loop_errors: List[str] = []

    def new_loop(self) -> Any:
        if self.spec["loop"] == "uvloop":
            import uvloop
            loop = uvloop.new_event_loop()
        else:
            loop = asyncio.new_event_loop()
        loop.set_exception_handler(lambda _loop, context: self.loop_errors.append(
            f"{context.get('message')}: {context.get('exception')!r}"))
        asyncio.set_event_loop(loop)
        self.loop = loop
        return loop

    def resolver(self, port: int = 0, **kwargs: Any) -> Any:
        opts: Dict[str, Any] = dict(nameservers=["127.0.0.1"], udp_port=port or self.spec["nsd_port"],
                                    tcp_port=port or self.spec["nsd_port"], resolvconf_path=self.spec["resolvconf"],
                                    lookups="b", domains=["example.test"], timeout=2.0, tries=1)
        opts.update(kwargs)
        return self.aiodns.DNSResolver(loop=self.loop, **opts)

    def fault_resolver(self, **kwargs: Any) -> Any:
        return self.resolver(self.fault.port, **kwargs)


def start_pending(resolver: Any) -> Dict[str, Any]:
    out = {}
    for label, method, args, kwargs in PENDING_CALLS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            out[label] = getattr(resolver, method)(*args, **kwargs)
    return out


async def outcomes(futures: Dict[str, Any], timeout: float) -> Dict[str, Any]:
    return await gather_outcomes(outcome_of, futures, timeout)


# -- scenarios -----------------------------------------------------------------------------------

async def sc_calls(ctx: Ctx) -> Dict[str, Any]:
    resolver = ctx.resolver()
    out = {label: await call_outcome(resolver, *call) for label, call in CALLS.items()}
    out["event thread"] = {"value": norm(resolver._event_thread)}
    await resolver.close()
    return out


async def sc_faults(ctx: Ctx) -> Dict[str, Any]:
    async def one(label: str) -> Dict[str, Any]:
        resolver = ctx.fault_resolver(timeout=0.5, domains=[])
        try:
            return await call_outcome(resolver, *FAULT_CALLS[label])
        finally:
            await resolver.close()
    labels = list(FAULT_CALLS)
    return dict(zip(labels, await asyncio.gather(*(one(label) for label in labels))))


async def sc_nameservers(ctx: Ctx) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    resolver = ctx.resolver()

    def set_ns(value: Any) -> Dict[str, Any]:
        return sync_call(lambda: setattr(resolver, "nameservers", value))
    out["get initial"] = sync_call(lambda: resolver.nameservers)
    out["set 127.0.0.1"] = set_ns([f"127.0.0.1:{ctx.spec['nsd_port']}"])
    out["get after set"] = sync_call(lambda: resolver.nameservers)
    out["query after set"] = await call_outcome(resolver, "query", ("www.example.test", "A"), {})
    out["set two"] = set_ns(["127.0.0.1", "::1"])
    out["get two"] = sync_call(lambda: resolver.nameservers)
    out["set not an address"] = set_ns(["not-an-address"])
    out["get after not an address"] = sync_call(lambda: resolver.nameservers)
    out["set empty"] = set_ns([])
    out["get after empty"] = sync_call(lambda: resolver.nameservers)
    await resolver.close()
    return out


async def sc_cancel(ctx: Ctx) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    resolver = ctx.fault_resolver(timeout=5.0, domains=[])
    out["cancel with nothing pending"] = sync_call(resolver.cancel)
    futures = start_pending(resolver)
    await asyncio.sleep(0.2)
    out["cancel"] = sync_call(resolver.cancel)
    out["outcomes"] = await outcomes(futures, 4.0)
    out["query after cancel"] = await call_outcome(resolver, "query", ("ok.test", "A"), {})
    await resolver.close()
    return out


async def sc_close(ctx: Ctx) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    resolver = ctx.fault_resolver(timeout=5.0, domains=[])
    futures = start_pending(resolver)
    await asyncio.sleep(0.2)
    try:
        await resolver.close()
        out["close"] = {"value": None}
    except Exception as exc:  # noqa: BLE001
        out["close"] = {"raised": exc_record(exc)}
    out["outcomes"] = await outcomes(futures, 4.0)
    try:
        out["close again"] = {"value": norm(await resolver.close())}
    except Exception as exc:  # noqa: BLE001
        out["close again"] = {"raised": exc_record(exc)}
    out["query_dns after close"] = await call_outcome(resolver, "query_dns", ("ok.test", "A"), {}, 2.0)
    out["getaddrinfo after close"] = await call_outcome(resolver, "getaddrinfo", ("ok.test",), {}, 2.0)
    out["nameservers after close"] = sync_call(lambda: resolver.nameservers)
    async with ctx.fault_resolver(timeout=5.0, domains=[]) as scoped:
        out["async with: query"] = await call_outcome(scoped, "query", ("ok.test", "A"), {})
        pending = scoped.query_dns("drop.test", "A")
        await asyncio.sleep(0.1)
    out["async with: pending at exit"] = await outcome_of(pending, 4.0)
    await asyncio.sleep(0.05)
    return out


async def sc_close_from_callback(ctx: Ctx) -> Dict[str, Any]:
    resolver = ctx.fault_resolver(timeout=5.0, domains=[])
    futures = start_pending(resolver)
    return await close_from_callback(outcome_of, resolver, futures, resolver.query_dns("ok.test", "A"))


async def sc_dropped(ctx: Ctx) -> Dict[str, Any]:
    """The last reference to a resolver with pending queries goes (aiodns' __del__), gc.collect()."""
    out: Dict[str, Any] = {}
    resolver = ctx.fault_resolver(timeout=1.0, domains=[])
    futures = start_pending(resolver)
    await asyncio.sleep(0.2)
    ref = weakref.ref(resolver)
    del resolver
    gc.collect()
    got = await outcomes(futures, 6.0)
    # how each request ended (cancelled by __del__, or timed out if the resolver lived on)
    out["outcomes"] = {k: ("done" if "error" in v or "result" in v else v) for k, v in got.items()}
    await asyncio.sleep(0.1)
    gc.collect()
    out["resolver alive"] = ref() is not None
    out["unraisable"] = []
    return out


SCENARIOS: Dict[str, Callable[[Ctx], Any]] = {
    "calls": sc_calls, "faults": sc_faults, "nameservers": sc_nameservers, "cancel": sc_cancel,
    "close": sc_close, "close_from_callback": sc_close_from_callback, "dropped": sc_dropped,
}


def setup(spec: Dict[str, Any]) -> Tuple[Any, Any]:
    if spec["lib"] == "ng":
        import pycares_ng.v5 as v5
        sys.modules["pycares"] = v5  # type: ignore[assignment]
        sys.modules["pycares.errno"] = v5.errno
        sys.modules["pycares.utils"] = v5.utils
        pycares = v5
    else:
        import pycares  # the real pycares 5.2.1 (PYTHONPATH)
        import oracle_keepalive
        oracle_keepalive.install(pycares)
    if spec["mode"] == "sock_state_cb":
        real = pycares.Channel

        def channel(**kwargs: Any) -> Any:  # aiodns' first try (no sock_state_cb) fails
            if not kwargs.get("sock_state_cb"):
                raise pycares.AresError(pycares.errno.ARES_ENOMEM, "no event thread in this test")
            return real(**kwargs)
        pycares.Channel = channel
    import aiodns
    if spec["lib"] == "p5":
        warnings.simplefilter("error")
    import logging
    logging.getLogger("aiodns").setLevel(logging.ERROR)  # the fallback's warning
    return aiodns, pycares


def main(spec: Dict[str, Any]) -> None:
    aiodns, pycares = setup(spec)
    from pycares_ng.testing import FaultServer
    fault = FaultServer()
    fault.rules.update(FAULT_RULES)
    fault.start()
    unraisable: List[str] = []

    def hook(u: Any) -> None:
        unraisable.append("".join(traceback.format_exception(u.exc_type, u.exc_value, u.exc_traceback)))
        sys.stderr.write(f"unraisable: {u.exc_value!r}\n")
    sys.unraisablehook = hook
    ctx = Ctx(spec, aiodns, pycares, fault)
    report: Dict[str, Any] = {"identity": {
        "aiodns": aiodns.__version__, "aiodns_pycares": aiodns.pycares.__name__,
        "pycares_file": getattr(sys.modules.get("pycares"), "__file__", None),
        "errno_module": aiodns.pycares.errno.__name__,
        "real_pycares_loaded": any(getattr(m, "__file__", None) and "oracle-pycares5" in m.__file__
                                   and name.startswith("pycares") for name, m in list(sys.modules.items())),
        "pycares_ng_loaded": "pycares_ng" in sys.modules and spec["lib"] == "ng",
    }, "scenarios": {}}
    for name, scenario in SCENARIOS.items():
        mark, ctx.loop_errors = len(unraisable), []
        loop = ctx.new_loop()
        record: Dict[str, Any] = {}
        try:
            record["data"] = loop.run_until_complete(scenario(ctx))
        except BaseException:  # noqa: BLE001
            record["crashed"] = traceback.format_exc()
        try:
            loop.run_until_complete(asyncio.sleep(0.05))
            loop.close()
        except BaseException as exc:  # noqa: BLE001
            record["loop close failed"] = repr(exc)
        gc.collect()
        record["unraisable"] = unraisable[mark:]
        record["loop_errors"] = ctx.loop_errors
        if name == "dropped" and "data" in record:
            record["data"]["unraisable"] = [u.strip().splitlines()[-1] for u in record["unraisable"]]
        report["scenarios"][name] = record
    fault.stop()
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(SPEC)
