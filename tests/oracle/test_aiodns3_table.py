"""aiodns 3.6.1 from PyPI as a real client of pycares_ng (issue 11, deliverable 3).

Each scenario runs in a child process (tests/oracle/aiodns3_child.py) where ``sys.modules["pycares"]`` (and
``pycares.errno``/``pycares.utils``) is pycares_ng before aiodns is imported, with
``warnings.simplefilter("error")``, a recording ``sys.unraisablehook`` and a recording loop
exception handler; the child prints a JSON report and this module asserts on it.

The same scenario also runs through aiodns 3.6.1 on the REAL pycares 4.11 from PyPI (a child without
the substitution: the oracle), and every outcome is compared as a program sees it: result classes
and fields (with their Python types), exception classes, DNSError errno and message. The only
freedom pycares_ng has is a real ``ttl`` where pycares 4.11 reports ``-1``.

Matrix: every call and scenario x loop (asyncio, uvloop) x aiodns' two channel modes:
``event_thread`` (what aiodns picks, since ``ares_threadsafety()`` is true) and ``sock_state_cb``
(aiodns' fallback path, reached by making ``pycares.ares_threadsafety()`` false in the child).

Servers: the NSD fixture (``dns_server``) for records, a FaultServer on 127.0.0.1 for drops and error
replies, a FaultServer on 127.0.0.2 (NSD's port) to see which server the ``nameservers`` setter
selected. Every resolver gets ``nameservers=["127.0.0.1"]`` + ``udp_port``/``tcp_port`` (pycares
4.11's ``servers`` setter takes no ports), an empty ``resolvconf_path``, ``lookups="b"`` and
``domains=["example.test"]``: nothing depends on the machine's resolv.conf, hosts file or hostname.

Differences from the oracle fail, with the two outcomes side by side in the message. A difference
is marked xfail (strict, with the reason) only where pycares 4.11's outcome is evidently a bug of
pycares 4.11 or c-ares 1.34 that pycares_ng must not copy (see ORACLE_BUGS); pycares_ng's own
outcome is then asserted by the ``expected`` tests.
"""
from __future__ import annotations

import concurrent.futures
import importlib.metadata
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import pycares_ng

import aiodns3_child as child
from load_testing import testing

try:
    import uvloop  # noqa: F401
except ImportError:  # pragma: no cover  (depends on the machine)
    uvloop = None

CHILD = Path(child.__file__).resolve()

try:
    AIODNS_VERSION: Optional[str] = importlib.metadata.version("aiodns")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover
    AIODNS_VERSION = None
try:
    PYCARES_VERSION: Optional[str] = importlib.metadata.version("pycares")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover
    PYCARES_VERSION = None

if AIODNS_VERSION != "3.6.1":  # fail, not skip: the test extra installs it
    pytest.fail(f"these tests need aiodns 3.6.1 (pip install aiodns==3.6.1), found {AIODNS_VERSION}",
                pytrace=False)

NO_ORACLE = (None if PYCARES_VERSION is not None and PYCARES_VERSION.startswith("4.") else
             f"the oracle needs pycares 4.x from PyPI installed next to pycares_ng, found {PYCARES_VERSION}")

LOOPS = [
    pytest.param("asyncio", id="asyncio"),
    pytest.param("uvloop", id="uvloop", marks=pytest.mark.skipif(
        uvloop is None, reason="uvloop is not installed (pip install uvloop)")),
]
MODES = ["event_thread", "sock_state_cb"]

FAULT_RULES = {
    "drop.test": "drop",
    "1.2.0.192.in-addr.arpa": "drop",  # gethostbyaddr/getnameinfo of 192.0.2.1
    "servfail.test": "servfail",
    "refused.test": "refused",
    "nx.test": "nxdomain",
    "nodata.test": "nodata",
    "trunc.test": "truncate",
    "garbage.test": "garbage",
    "shortheader.test": "short_header",
    "badrdata.test": "bad_rdata",
}


# -- running the children -----------------------------------------------------------------------

class Children:
    """Runs (lib, loop, mode, scenario) once per module and keeps the report."""

    def __init__(self, base_spec: Dict[str, Any], workdir: Path) -> None:
        self.base_spec = base_spec
        self.workdir = workdir
        self.cache: Dict[Tuple[str, str, str, str], Dict[str, Any]] = {}

    def report(self, lib: str, loop: str, mode: str, scenario: str) -> Dict[str, Any]:
        key = (lib, loop, mode, scenario)
        if key not in self.cache:
            spec = dict(self.base_spec, lib=lib, loop=loop, mode=mode, scenario=scenario)
            report = self._run(spec)
            attempts = 1
            # The oracle sometimes fails host lookups at once with ARES_ECONNREFUSED without
            # sending anything (see aiodns3_child.setup). No scenario targets a closed port, so
            # pycares 4.11 never gives ECONNREFUSED here legitimately: such a run is repeated.
            while lib == "p4" and attempts < 5 and "ARES_ECONNREFUSED" in json.dumps(report):
                time.sleep(0.5)
                report = self._run(spec)
                attempts += 1
            report["attempts"] = attempts
            self.cache[key] = report
        return self.cache[key]

    def prefetch(self, keys: List[Tuple[str, str, str, str]], workers: int = 3) -> None:
        """Runs these children a few at a time (each is its own process, mostly waiting on
        timers and sockets), so the table takes a fraction of the serial time."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda key: self.report(*key), keys))

    def _run(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        t0 = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-X", "faulthandler", str(CHILD)],
                                  input=json.dumps(spec), capture_output=True, text=True,
                                  timeout=120, cwd=str(self.workdir))
        except subprocess.TimeoutExpired as exc:
            return {"child_failed": f"no exit within 120 s; stderr: {exc.stderr!r}"[-4000:],
                    "spec": spec}
        elapsed = time.monotonic() - t0
        lines = proc.stdout.strip().splitlines()
        try:
            report = json.loads(lines[-1])
        except (IndexError, ValueError):
            report = {"child_failed": f"rc={proc.returncode}, stdout={proc.stdout[-2000:]!r}, "
                                      f"stderr={proc.stderr[-4000:]}", "spec": spec}
        report["rc"] = proc.returncode
        report["stderr"] = proc.stderr
        report["wall"] = round(elapsed, 2)
        return report


@pytest.fixture(scope="module")
def children(dns_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("aiodns3")
    resolvconf = workdir / "empty-resolv.conf"
    resolvconf.write_text("")
    fault = testing.FaultServer()
    fault.rules.update(FAULT_RULES)
    alt = testing.FaultServer(host="127.0.0.2", port=dns_server.port)
    alt.add_record("www.example.test", "A", "192.0.2.222", ttl=77)
    slow = testing.FaultServer(delay=0.4)
    with fault, alt, slow:
        kids = Children({"nsd_port": dns_server.port, "fault_port": fault.port,
                         "delay_port": slow.port, "resolvconf": str(resolvconf)}, workdir)
        # pycares_ng's children a few at a time; the oracle's one at a time, as it proved
        # sensitive to load (see Children.report: its spurious ECONNREFUSED runs are repeated).
        kids.prefetch([("ng", loop, mode, scenario) for scenario in child.SCENARIOS
                       for loop in ("asyncio", "uvloop") for mode in MODES])
        yield kids


def data_of(report: Dict[str, Any]) -> Dict[str, Any]:
    assert "child_failed" not in report, report["child_failed"]
    assert "crashed" not in report, f"the scenario raised in the child:\n{report['crashed']}"
    return report["data"]


def assert_clean(report: Dict[str, Any]) -> None:
    """No unraisable exception, no loop error, no stderr output, exit status 0."""
    data_of(report)
    problems = []
    if report["unraisable"]:
        problems.append("sys.unraisablehook got:\n" + "\n".join(u["traceback"] for u in report["unraisable"]))
    if report["loop_errors"]:
        problems.append(f"the loop's exception handler got: {report['loop_errors']!r}")
    if report["rc"] != 0:
        problems.append(f"exit status {report['rc']}")
    if report["stderr"].strip():
        problems.append(f"stderr:\n{report['stderr'][-4000:]}")
    if report.get("loop_close_failed"):
        problems.append(f"closing the loop failed: {report['loop_close_failed']}")
    assert not problems, "\n".join(problems)


# -- comparing outcomes ------------------------------------------------------------------------

IGNORED_KEYS = {"elapsed", "str", "mro"}  # timing; exception messages of non-DNSError exceptions


def differences(ng: Any, p4: Any, path: str = "$") -> List[str]:
    """How what a program sees on pycares_ng differs from what it sees on pycares 4.11."""
    if isinstance(p4, dict) and isinstance(ng, dict):
        if "class" in p4 and "fields" in p4:  # a result object
            if ng.get("class") != p4["class"]:
                return [f"{path}: result class {ng.get('class')!r}, pycares 4.11: {p4['class']!r}"]
            out: List[str] = []
            for name, value in p4["fields"].items():
                mine = ng["fields"].get(name, "<missing>")
                if name == "ttl" and value == -1:  # pycares 4.11 has no TTL here; ours is real
                    if not (isinstance(mine, int) and not isinstance(mine, bool) and mine >= 0):
                        out.append(f"{path}.ttl: {mine!r} is not a real TTL (pycares 4.11: -1)")
                    continue
                out += differences(mine, value, f"{path}.{name}")
            return out
        if "raised" in p4 and "raised" in ng:  # pycares_ng may raise a subclass
            if p4["raised"]["class"] not in ng["raised"]["mro"]:
                return [f"{path}: raised {ng['raised']['class']} ({ng['raised']['str']!r}), "
                        f"pycares 4.11 raised {p4['raised']['class']} ({p4['raised']['str']!r})"]
            return []
        out = []
        for key in sorted(set(p4) | set(ng)):
            if key in IGNORED_KEYS:
                continue
            if key not in ng or key not in p4:
                out.append(f"{path}: pycares_ng gives {short(ng)}, pycares 4.11 gives {short(p4)}")
                break
            out += differences(ng[key], p4[key], f"{path}.{key}")
        return out
    if isinstance(p4, list) and isinstance(ng, list):
        if len(p4) != len(ng):
            return [f"{path}: {len(ng)} items, pycares 4.11: {len(p4)}\n  pycares_ng:   {short(ng)}\n"
                    f"  pycares 4.11: {short(p4)}"]
        out = []
        for i, (a, b) in enumerate(zip(ng, p4)):
            out += differences(a, b, f"{path}[{i}]")
        return out
    if ng != p4 or type(ng) is not type(p4):
        return [f"{path}: pycares_ng {short(ng)}, pycares 4.11 {short(p4)}"]
    return []


def short(value: Any, limit: int = 1500) -> str:
    text = json.dumps(strip(value))
    return text if len(text) <= limit else text[:limit] + "..."


def strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in ("mro", "elapsed")}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def assert_same(ng: Any, p4: Any, what: str) -> None:
    diffs = differences(ng, p4)
    assert not diffs, (f"aiodns 3.6.1 on pycares_ng and on pycares 4.11 differ for {what}:\n"
                       + "\n".join(diffs)
                       + f"\n\npycares_ng:   {short(ng, 4000)}\npycares 4.11: {short(p4, 4000)}")


#: (scenario, key) -> why pycares 4.11's outcome is a bug that pycares_ng must not copy. These
#: comparisons are xfail(strict): if pycares_ng ever matches the bug, they XPASS and fail.
ORACLE_BUGS: Dict[Tuple[str, str], str] = {
    ("calls", "query TXT with NUL"):
        "pycares 4.11 builds TXT text with ffi.string(), which stops at the first NUL: "
        "\"a\\x00b\" comes back as \"a\"; pycares_ng gives the whole string",
    ("calls", "query A 254-character name"):
        "a name over 253 octets must fail with ARES_EBADNAME; pycares 4.11 on c-ares 1.34 "
        "reports ARES_EBADRESP (a reply error) for a name that never was a valid question",
    ("calls", "query TXT 254-character name"): "as 'query A 254-character name'",
    ("calls", "gethostbyname 254-character name"): "as 'query A 254-character name'",
    ("calls", "getaddrinfo 254-character name"): "as 'query A 254-character name'",
    ("calls", "query ANY www"):
        "pycares 4.11 parses an ANY reply with every type's parser; its CNAME parser (built on "
        "ares_parse_a_reply) reports the owner name of the A record as a CNAME record that the "
        "reply does not contain",
    ("calls", "query ANY dual"): "as 'query ANY www'",
    ("calls", "gethostbyname CNAME chain"):
        "chain-a -> chain-b -> chain-c (A): the canonical name (h_name) is chain-c.example.test, "
        "as glibc and c-ares 1.18 report; c-ares 1.34 (pycares 4.11) reports chain-b, the second "
        "link of the chain",
    ("calls", "getaddrinfo ARES_AI_NUMERICHOST with a name"):
        "with ARES_AI_NUMERICHOST the host must be a numeric address (c-ares' documentation, "
        "POSIX AI_NUMERICHOST): a name fails with ARES_ENOTFOUND on c-ares 1.18; c-ares 1.34 "
        "(pycares 4.11) ignores the flag and resolves the name through DNS",
    ("nameservers", "get after empty"):
        "pycares 4.11's servers getter dereferences NULL when the channel has no servers: "
        "the child segfaults (the oracle child skips the call; pycares_ng must give [])",
    ("close", "nameservers after close"):
        "pycares 4.11 raises TypeError(\"'NoneType' object is not subscriptable\") by accident "
        "(its closed Channel keeps _channel = None); pycares_ng raises RuntimeError, as pycares "
        "4.11 does for every query on a closed channel",
    ("close", "cancel after close"): "as 'nameservers after close'",
}


#: (scenario, key) -> how c-ares 1.18 (Debian 12's libcares) itself answers differently from c-ares
#: 1.34 (bundled by pycares 4.11). pycares_ng passes the library's answer on, so on c-ares < 1.34
#: these comparisons are xfail(strict): they must differ there, and must match on c-ares 1.34.
ERA_118: Dict[Tuple[str, str], str] = {}  # none left: pycares_ng on c-ares 1.18 now answers as 1.34 here
OLD_CARES = tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2]) < (1, 34)


#: (scenario, key) whose values are snapshots of future states taken right after a call: how far
#: delivery got by then is timing, not behaviour. pycares 4.11 delivers close()'s cancellations
#: later, from its shutdown thread (in sock_state_cb mode that thread even calls
#: Future.set_exception, which is not thread-safe); pycares_ng delivers them inside close() on the
#: calling thread. "Still pending" and "failed with ARES_ECANCELLED" compare equal here.
SNAPSHOTS = {("close", "states right after close")}


def _snapshot(states: Dict[str, Any]) -> Dict[str, Any]:
    out = {}
    for label, state in states.items():
        if state.get("error", {}).get("errno_name") == "ARES_ECANCELLED":
            state = {"pending": True}
        out[label] = state
    return out


def check_against_oracle(children: Children, scenario: str, key: str, loop: str, mode: str,
                         ng_value: Any, p4_value: Any) -> None:
    if (scenario, key) in SNAPSHOTS:
        ng_value, p4_value = _snapshot(ng_value), _snapshot(p4_value)
    era = ERA_118.get((scenario, key)) if OLD_CARES else None
    if era is not None:
        if differences(ng_value, p4_value):
            pytest.xfail(f"c-ares {pycares_ng.ARES_VERSION}'s own behaviour: {era}")
        pytest.fail(f"pycares_ng on c-ares {pycares_ng.ARES_VERSION} now matches pycares 4.11 ({era}): "
                    "remove the ERA_118 entry", pytrace=False)
    reason = ORACLE_BUGS.get((scenario, key))
    if reason is not None and differences(ng_value, p4_value):
        pytest.xfail(f"pycares 4.11 bug, not copied: {reason}")
    if reason is not None:
        pytest.fail(f"pycares_ng now matches pycares 4.11's bug ({reason})", pytrace=False)
    assert_same(ng_value, p4_value, f"{scenario} / {key!r} on {loop}, {mode}")


def oracle_or_skip() -> None:
    if NO_ORACLE:
        pytest.skip(NO_ORACLE)


# -- expectations that hold for pycares_ng on their own -----------------------------------------

def rows(outcome: Dict[str, Any], *fields: str) -> List[Tuple[Any, ...]]:
    assert "result" in outcome, f"expected a result, got {short(outcome)}"
    result = outcome["result"]
    items = result if isinstance(result, list) else [result]
    return [tuple(unbox(item["fields"][f]) for f in fields) for item in items]


def unbox(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"bytes"}:
        return value["bytes"].encode("latin-1")
    if isinstance(value, dict) and set(value) == {"tuple"}:
        return tuple(unbox(v) for v in value["tuple"])
    if isinstance(value, list):
        return [unbox(v) for v in value]
    return value


def errno_of(outcome: Dict[str, Any]) -> str:
    assert "error" in outcome, f"expected an aiodns DNSError, got {short(outcome)}"
    error = outcome["error"]
    assert error["class"] == "aiodns.error.DNSError", error
    return error["errno_name"]


def raised(outcome: Dict[str, Any]) -> List[str]:
    assert "raised" in outcome, f"expected the call to raise, got {short(outcome)}"
    return outcome["raised"]["mro"]


BIG = [f"big-{i:02d}-" + "abcdefghij" * 21 for i in range(12)]
MEDIUM = [f"medium-{i}-" + "0123456789" * 19 for i in range(3)]
EBADNAME = ("errno", "ARES_EBADNAME")

#: label -> what pycares_ng must give: ("rows", fields, [tuples]) / ("errno", name) /
#: ("raises", exception class)
EXPECTED: Dict[str, Tuple[Any, ...]] = {
    "query A www": ("rows", ("host", "ttl", "type"), [("192.0.2.10", 300, "A")]),
    "query A multi": ("rows", ("host", "ttl"), [("192.0.2.31", 120), ("192.0.2.32", 120),
                                                ("192.0.2.33", 120)]),
    "query A through CNAME chain": ("rows", ("host",), [("192.0.2.40",)]),
    "query A 25 labels": ("rows", ("host", "ttl"), [("192.0.2.222", 2222)]),
    "query A 253-character name": ("rows", ("host", "ttl"), [("192.0.2.253", 253)]),
    "query A 253-character name + root dot": ("rows", ("host", "ttl"), [("192.0.2.253", 253)]),
    "query A bytes name": ("rows", ("host",), [("192.0.2.10",)]),
    "query AAAA ipv6only": ("rows", ("host", "ttl", "type"), [("2001:db8::6", 600, "AAAA")]),
    "query CNAME alias": ("rows", ("cname", "ttl", "type"), [("www.example.test", 1500, "CNAME")]),
    "query MX apex": ("rows", ("host", "priority", "ttl"), [("mx1.example.test", 10, 1800),
                                                            ("mx2.example.test", 20, 1800),
                                                            ("mx3.example.test", 30, 1800)]),
    "query NS apex": ("rows", ("host", "ttl"), [("ns1.example.test", 86400),
                                                ("ns2.example.test", 86400)]),
    "query PTR v4": ("rows", ("name", "ttl", "aliases"), [("www.example.test", 7010,
                                                           ["www.example.test"])]),
    "query PTR v6": ("rows", ("name", "ttl"), [("ipv6only.example.test", 8006)]),
    "query SOA apex": ("rows", ("nsname", "hostmaster", "serial", "refresh", "retry", "expires",
                                "minttl", "ttl"),
                       [("ns1.example.test", "hostmaster.example.test", 2024060101, 7200, 900,
                         1209600, 60, 3600)]),
    "query SRV": ("rows", ("host", "port", "priority", "weight", "ttl"),
                  [("sip1.example.test", 5060, 10, 60, 900), ("sip2.example.test", 5060, 10, 40, 900),
                   ("sip3.example.test", 5061, 20, 0, 900)]),
    "query TXT one string": ("rows", ("text", "ttl", "type"), [("hello world", 250, "TXT")]),
    "query TXT three strings": ("rows", ("text", "ttl"), [("firstsecondthird", 251)]),
    "query TXT two records": ("rows", ("text",), [("one",), ("two",)]),
    "query TXT utf-8": ("rows", ("text",), [("h\u00e9llo w\u00f6rld".encode(),)]),
    "query TXT not utf-8": ("rows", ("text",), [(b"\xff\xferaw",)]),
    "query TXT with NUL": ("rows", ("text", "ttl"), [("a\x00b", 256)]),
    "query TXT 255+3 octets": ("rows", ("text",), [("L" * 255 + "end",)]),
    "query TXT over 512 octets (EDNS)": ("rows", ("text", "ttl"), [(t, 78) for t in MEDIUM]),
    "query TXT over 1232 octets (TCP)": ("rows", ("text", "ttl"), [(t, 77) for t in BIG]),
    "query NAPTR": ("rows", ("order", "preference", "flags", "service", "regex", "replacement", "ttl"),
                    [(100, 10, "S", "SIP+D2U", "", "_sip._udp.example.test", 1200),
                     (102, 20, "U", "E2U+sip", "!^.*$!sip:info@example.test!", "", 1200)]),
    "query CAA": ("rows", ("critical", "property", "value", "ttl"),
                  [(0, "issue", "ca.example.net", 2400),
                   (0, "iodef", "mailto:security@example.test", 2400), (128, "issuewild", ";", 2400)]),
    "query ANY www": ("rows", ("type", "host", "ttl"), [("A", "192.0.2.10", 300)]),
    "query ANY dual": ("rows", ("type", "host", "ttl"), [("A", "192.0.2.20", 500)]),
    "query ANY nxdomain": ("errno", "ARES_ENOTFOUND"),
    "query A nxdomain": ("errno", "ARES_ENOTFOUND"),
    "query TXT nxdomain": ("errno", "ARES_ENOTFOUND"),
    "query AAAA nodata": ("errno", "ARES_ENODATA"),
    "query MX nodata": ("errno", "ARES_ENODATA"),
    "query A 254-character name": EBADNAME,
    "query TXT 254-character name": EBADNAME,
    "query A 64-octet label": EBADNAME,
    "query A empty label": EBADNAME,
    "gethostbyname 254-character name": EBADNAME,
    "getaddrinfo 254-character name": EBADNAME,
    "query invalid type": ("raises", "builtins.ValueError"),
    "query invalid class": ("raises", "builtins.ValueError"),
    "query name of wrong type": ("raises", "builtins.TypeError"),
    "gethostbyname www AF_INET": ("rows", ("name", "aliases", "addresses"),
                                  [("www.example.test", [], ["192.0.2.10"])]),
    "gethostbyname www via search domain": ("rows", ("name", "addresses"),
                                            [("www.example.test", ["192.0.2.10"])]),
    "gethostbyname dual AF_INET6": ("rows", ("addresses",), [(["2001:db8::20"],)]),
    "gethostbyname alias": ("rows", ("name", "aliases", "addresses"),
                            [("www.example.test", ["alias.example.test"], ["192.0.2.10"])]),
    "gethostbyname CNAME chain": ("rows", ("name", "aliases", "addresses"),
                                  [("chain-c.example.test", ["chain-a.example.test", "chain-b.example.test"],
                                    ["192.0.2.40"])]),
    "gethostbyname nxdomain": ("errno", "ARES_ENOTFOUND"),
    "gethostbyaddr v4": ("rows", ("name", "addresses"), [("www.example.test", ["192.0.2.10"])]),
    "gethostbyaddr v6": ("rows", ("name", "addresses"), [("ipv6only.example.test", ["2001:db8::6"])]),
    "gethostbyaddr no PTR": ("errno", "ARES_ENOTFOUND"),
    "gethostbyaddr not an address": ("raises", "builtins.ValueError"),
    "getaddrinfo www AF_INET port 80 stream": ("rows", ("cnames",), [([],)]),
    "getaddrinfo nxdomain": ("errno", "ARES_ENOTFOUND"),
    "getaddrinfo ARES_AI_NUMERICHOST with a name": ("errno", "ARES_ENOTFOUND"),
    "getnameinfo v4 NUMERICSERV": ("rows", ("node",), [("www.example.test",)]),
    "getnameinfo v4 NUMERICHOST": ("rows", ("node",), [("192.0.2.10",)]),
    "getnameinfo v6": ("rows", ("node",), [("ipv6only.example.test",)]),
    "getnameinfo no PTR NAMEREQD": ("errno", "ARES_ENOTFOUND"),
    "getnameinfo 3-tuple": ("raises", "builtins.ValueError"),
}

FAULT_EXPECTED: Dict[str, Tuple[Any, ...]] = {
    "query A drop (timeout)": ("errno", "ARES_ETIMEOUT"),
    "query TXT drop (timeout)": ("errno", "ARES_ETIMEOUT"),
    "gethostbyname drop (timeout)": ("errno", "ARES_ETIMEOUT"),
    "getaddrinfo drop (timeout)": ("errno", "ARES_ETIMEOUT"),
    "query A servfail": ("errno", "ARES_ESERVFAIL"),
    "query A refused": ("errno", "ARES_EREFUSED"),
    "query A nxdomain": ("errno", "ARES_ENOTFOUND"),
    "query A nodata": ("errno", "ARES_ENODATA"),
    "query A truncated (TCP fallback)": ("rows", ("host",), [("192.0.2.1",)]),
    "gethostbyname nxdomain": ("errno", "ARES_ENOTFOUND"),
    "getaddrinfo nxdomain": ("errno", "ARES_ENOTFOUND"),
}


def check_expected(outcome: Dict[str, Any], expected: Tuple[Any, ...]) -> None:
    kind = expected[0]
    if kind == "rows":
        assert rows(outcome, *expected[1]) == expected[2]
    elif kind == "errno":
        assert errno_of(outcome) == expected[1]
    elif kind == "raises":
        assert expected[1] in raised(outcome)
    else:  # pragma: no cover
        raise AssertionError(kind)


# -- the child itself --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_child_runs_aiodns_on_pycares_ng(children, loop, mode):
    """aiodns really runs on pycares_ng (never the real pycares), in the intended channel mode,
    and nothing reached sys.unraisablehook, the loop's exception handler or stderr."""
    report = children.report("ng", loop, mode, "calls")
    assert_clean(report)
    identity = report["identity"]
    assert identity["aiodns_version"] == "3.6.1"
    assert identity["aiodns_pycares"] == "pycares_ng"
    assert identity["errno_module"] == "pycares_ng.errno"
    assert identity["ENOTFOUND_is_same"]
    assert not identity["real_pycares_loaded"], "the real pycares was imported in the pycares_ng child"
    assert report["data"]["event_thread"] is (mode == "event_thread")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_oracle_child_runs_real_pycares(children, loop, mode):
    oracle_or_skip()
    report = children.report("p4", loop, mode, "calls")
    data_of(report)
    identity = report["identity"]
    assert identity["aiodns_pycares"] == "pycares"
    assert identity["real_pycares_loaded"] and not identity["pycares_ng_loaded"]
    assert report["data"]["event_thread"] is (mode == "event_thread")


def test_fields_table_matches_pycares4():
    """aiodns3_child.FIELDS (what is compared) is every field of pycares 4.11's result classes."""
    oracle_or_skip()
    code = ("import json, pycares\n"
            "out = {}\n"
            "for n in dir(pycares):\n"
            "    c = getattr(pycares, n)\n"
            "    if isinstance(c, type) and issubclass(c, pycares.AresResult) and c is not pycares.AresResult:\n"
            "        out[n] = list(c.__slots__) + (['type'] if hasattr(c, 'type') else [])\n"
            "print(json.dumps(out))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          check=True)
    real = {name: tuple(fields) for name, fields in json.loads(proc.stdout).items()}
    assert real == child.FIELDS


# -- every DNSResolver call against NSD ---------------------------------------------------------

@pytest.mark.parametrize("label", list(child.CALLS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_call_same_as_pycares4(children, loop, mode, label):
    oracle_or_skip()
    ng = data_of(children.report("ng", loop, mode, "calls"))["calls"][label]
    p4 = data_of(children.report("p4", loop, mode, "calls"))["calls"][label]
    check_against_oracle(children, "calls", label, loop, mode, ng, p4)


@pytest.mark.parametrize("label", list(EXPECTED))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_call_expected(children, loop, mode, label):
    """What pycares_ng must give, whatever pycares 4.11 does (real TTLs included)."""
    check_expected(data_of(children.report("ng", loop, mode, "calls"))["calls"][label], EXPECTED[label])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_calls_shared_same_as_isolated(children, loop, mode):
    """The calls made all at once on one resolver give what each gives on a resolver of its own
    (pycares_ng only: the oracle is compared call by call)."""
    report = children.report("ng", loop, mode, "calls_shared")
    assert_clean(report)
    shared = report["data"]["calls"]
    isolated = data_of(children.report("ng", loop, mode, "calls"))["calls"]
    assert set(shared) == set(child.CALLS) - child.UPSETTING
    diffs = []
    for label, outcome in shared.items():
        diffs += [f"{label}: {d}" for d in differences(outcome, isolated[label])]
    assert not diffs, "\n".join(diffs).replace("pycares 4.11", "isolated")


def test_expected_labels_exist():
    assert set(EXPECTED) <= set(child.CALLS)
    assert set(FAULT_EXPECTED) <= set(child.FAULT_CALLS)


# -- timeouts and error replies (FaultServer) ---------------------------------------------------

@pytest.mark.parametrize("label", list(child.FAULT_CALLS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_fault_same_as_pycares4(children, loop, mode, label):
    oracle_or_skip()
    ng = data_of(children.report("ng", loop, mode, "faults"))["calls"][label]
    p4 = data_of(children.report("p4", loop, mode, "faults"))["calls"][label]
    check_against_oracle(children, "faults", label, loop, mode, ng, p4)


@pytest.mark.parametrize("label", list(FAULT_EXPECTED))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_fault_expected(children, loop, mode, label):
    outcome = data_of(children.report("ng", loop, mode, "faults"))["calls"][label]
    era = ERA_118.get(("faults", label)) if OLD_CARES else None
    if era is not None:
        with pytest.raises(AssertionError):
            check_expected(outcome, FAULT_EXPECTED[label])
        pytest.xfail(f"c-ares {pycares_ng.ARES_VERSION}'s own behaviour: {era}")
    check_expected(outcome, FAULT_EXPECTED[label])
    if "drop" in label:  # channel timeout 0.5 s, 1 try
        assert 0.3 <= outcome["elapsed"] <= 5.0, outcome


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_faults_clean(children, loop, mode):
    assert_clean(children.report("ng", loop, mode, "faults"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_delayed_answers(children, loop, mode):
    """Answers 0.4 s late: within a 2 s timeout they arrive (compared with pycares 4.11), with a
    0.15 s timeout the requests fail with DNSError(ARES_ETIMEOUT)."""
    report = children.report("ng", loop, mode, "delay")
    assert_clean(report)
    calls = report["data"]["calls"]
    assert rows(calls["query A, timeout 2 s"], "host", "ttl") == [("192.0.2.1", 300)]
    assert rows(calls["gethostbyname, timeout 2 s"], "addresses") == [(["192.0.2.1"],)]
    for label in ("query A, timeout 2 s", "gethostbyname, timeout 2 s", "getaddrinfo, timeout 2 s"):
        assert 0.35 <= calls[label]["elapsed"] <= 2.0, (label, calls[label])
    assert errno_of(calls["query A, timeout 0.15 s"]) == "ARES_ETIMEOUT"
    assert errno_of(calls["getaddrinfo, timeout 0.15 s"]) == "ARES_ETIMEOUT"
    if not NO_ORACLE:
        p4 = data_of(children.report("p4", loop, mode, "delay"))["calls"]
        diffs = [f"{label}: {d}" for label in calls for d in differences(calls[label], p4[label])]
        known = {"getaddrinfo, timeout 2 s"}  # node shapes: see the getaddrinfo cases of "calls"
        # pycares 4.11 only times out when its loop's timer runs: on a loaded machine that can be
        # after the late answer came in, and it reports the answer. Its outcome is no reference then.
        known |= {label for label in ("query A, timeout 0.15 s", "getaddrinfo, timeout 0.15 s")
                  if p4[label].get("error", {}).get("errno_name") != "ARES_ETIMEOUT"}
        diffs = [d for d in diffs if d.split(":")[0] not in known]
        assert not diffs, "\n".join(diffs)


# -- nameservers, cancel(), close() -------------------------------------------------------------

SCENARIO_KEYS: Dict[str, List[str]] = {
    "nameservers": [
        "get initial", "query initial", "set 127.0.0.2", "get after set 127.0.0.2",
        "query after set 127.0.0.2", "set two, v4 and v6", "get two", "set tuple",
        "get after tuple", "set bytes", "get after bytes", "query after bytes",
        "set not an address", "get after not an address", "set str instead of list",
        "get after str", "set empty", "get after empty", "query after empty",
        "constructor 127.0.0.2: get", "constructor 127.0.0.2: query",
        "constructor None (empty resolv.conf): get", "constructor not an address",
    ],
    "cancel": [
        "cancel with nothing pending", "states before cancel", "cancel", "outcomes",
        "cancel after user cancelled", "user-cancelled future", "query after cancel",
        "gethostbyname after cancel", "answered before cancel", "dropped after cancel",
    ],
    "close": [
        "close", "states right after close", "outcomes", "close again", "query A after close",
        "query MX after close", "gethostbyname after close", "getaddrinfo after close",
        "gethostbyaddr after close", "getnameinfo after close", "nameservers after close",
        "cancel after close", "async with: query", "async with: closed",
        "async with: pending at exit", "new resolver after close",
    ],
    "close_from_callback": ["first", "outcomes"],
}
SCENARIO_CASES = [(s, k) for s, keys in SCENARIO_KEYS.items() for k in keys]


@pytest.mark.parametrize("scenario", list(SCENARIO_KEYS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_scenario_clean(children, loop, mode, scenario):
    report = children.report("ng", loop, mode, scenario)
    assert_clean(report)
    assert list(report["data"]) == SCENARIO_KEYS[scenario]


@pytest.mark.parametrize("scenario,key", SCENARIO_CASES, ids=[f"{s}-{k}" for s, k in SCENARIO_CASES])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_scenario_same_as_pycares4(children, loop, mode, scenario, key):
    oracle_or_skip()
    ng = data_of(children.report("ng", loop, mode, scenario)).get(key, "<missing>")
    p4 = data_of(children.report("p4", loop, mode, scenario)).get(key, "<missing>")
    check_against_oracle(children, scenario, key, loop, mode, ng, p4)


def _all_cancelled(outcomes: Dict[str, Any], limit: float) -> None:
    assert list(outcomes) == [label for label, *_ in child.PENDING_CALLS]
    for label, outcome in outcomes.items():
        assert errno_of(outcome) == "ARES_ECANCELLED", (label, outcome)
        assert outcome["error"]["args"] == {"tuple": [24, "DNS query cancelled"]}, outcome
        assert outcome["elapsed"] <= limit, (label, outcome)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_nameservers_expected(children, loop, mode):
    data = data_of(children.report("ng", loop, mode, "nameservers"))
    assert data["get initial"] == {"value": ["127.0.0.1"]}
    assert rows(data["query initial"], "host") == [("192.0.2.10",)]
    assert data["get after set 127.0.0.2"] == {"value": ["127.0.0.2"]}
    assert rows(data["query after set 127.0.0.2"], "host", "ttl") == [("192.0.2.222", 77)]
    assert data["get two"] == {"value": ["127.0.0.1", "::1"]}
    assert data["get after bytes"] == {"value": ["127.0.0.1"]}
    assert "builtins.ValueError" in raised(data["set not an address"])
    assert data["get after not an address"] == {"value": ["127.0.0.1"]}
    assert data["get after empty"] == {"value": []}
    assert rows(data["constructor 127.0.0.2: query"], "host") == [("192.0.2.222",)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_cancel_expected(children, loop, mode):
    """cancel(): every pending future fails at once with DNSError(ARES_ECANCELLED); a future the
    program cancelled stays cancelled (aiodns' callback sees fut.cancelled()); the resolver
    keeps working afterwards."""
    data = data_of(children.report("ng", loop, mode, "cancel"))
    assert all(s == {"pending": True} for s in data["states before cancel"].values())
    _all_cancelled(data["outcomes"], 1.0)
    assert data["user-cancelled future"] == {"cancelled": True}
    assert rows(data["query after cancel"], "host") == [("192.0.2.1",)]
    assert rows(data["gethostbyname after cancel"], "addresses") == [(["192.0.2.1"],)]
    assert rows(data["answered before cancel"], "host") == [("192.0.2.1",)]
    assert errno_of(data["dropped after cancel"]) == "ARES_ECANCELLED"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_close_expected(children, loop, mode):
    """await close(): pending futures fail with DNSError(ARES_ECANCELLED) (the channel timeout is
    5 s, so nothing else can end them within 1 s); calls after close raise RuntimeError."""
    data = data_of(children.report("ng", loop, mode, "close"))
    assert data["close"] == {"value": None}
    _all_cancelled(data["outcomes"], 1.0)
    for label, *_ in child.PENDING_CALLS:
        assert "builtins.RuntimeError" in raised(data[f"{label} after close"])
    assert "builtins.RuntimeError" in raised(data["nameservers after close"])
    assert "builtins.RuntimeError" in raised(data["cancel after close"])
    assert data["async with: closed"] is True
    assert errno_of(data["async with: pending at exit"]) == "ARES_ECANCELLED"
    assert rows(data["new resolver after close"], "host") == [("192.0.2.10",)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_close_from_callback_expected(children, loop, mode):
    data = data_of(children.report("ng", loop, mode, "close_from_callback"))
    assert rows(data["first"], "host") == [("192.0.2.1",)]
    _all_cancelled(data["outcomes"], 1.0)


# -- a resolver dropped with pending queries (DNSResolver.__del__) -------------------------------

@pytest.mark.parametrize("scenario", ["del_running", "del_idle_loop"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_dropped_resolver(children, loop, mode, scenario):
    """The last reference to a resolver with pending queries is deleted (inside a running loop, or
    while its loop is not running), then gc.collect().

    event_thread: nothing but the channel's pending callbacks refers to the resolver, so the
    cycle is collected, aiodns' __del__ closes the channel and every future fails at once with
    DNSError(ARES_ECANCELLED) -- what aiodns' __del__ means to happen. Accepted difference (not a
    failure): on pycares 4.11 the resolver cannot be collected while queries are pending
    (pycares 4.11 keeps every callback in a module-level dict), so __del__ does not run and the
    requests end only at the channel timeout (ARES_ETIMEOUT etc.).

    sock_state_cb: aiodns' own timer (loop.call_later(..., self._timer_cb)) keeps the resolver
    alive, with pycares 4.11 as with pycares_ng; the requests end at the channel timeout (2 s)
    as undisturbed requests to a silent server do (the "faults" scenario compares those with
    pycares 4.11: ETIMEOUT, gethostbyaddr ENOTFOUND, getnameinfo the numeric host).

    Either way nothing reaches sys.unraisablehook. In event_thread mode the resolver is gone 1.5 s
    later. In sock_state_cb mode it is gone exactly when pycares 4.11's is: c-ares 1.34 (pycares
    4.11's, and pycares_ng's on that era) keeps its UDP socket open after the timeouts, so aiodns'
    timer re-arms and keeps the resolver alive; c-ares 1.18 closes the socket."""
    report = children.report("ng", loop, mode, scenario)
    assert_clean(report)
    data = report["data"]
    keeps_udp_socket = tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2]) >= (1, 34)
    assert data["resolver alive 1.5 s after outcomes"] is (mode != "event_thread" and keeps_udp_socket)
    if mode == "event_thread":
        assert data["resolver alive right after del+collect"] is False
        _all_cancelled(data["outcomes"], 1.5)
        return
    got = {label: errno_of(o) if "error" in o else rows(o, "node", "service")
           for label, o in data["outcomes"].items()}
    assert got == {"query A": "ARES_ETIMEOUT", "query MX": "ARES_ETIMEOUT",
                   "gethostbyname": "ARES_ETIMEOUT", "getaddrinfo": "ARES_ETIMEOUT",
                   "gethostbyaddr": "ARES_ENOTFOUND", "getnameinfo": [("192.0.2.1", None)]}
    for label, outcome in data["outcomes"].items():
        assert 1.0 <= outcome["elapsed"] <= 4.0, (label, outcome)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_dropped_resolver_after_loop_closed(children, loop, mode):
    """Queries pending, the loop closed, then the resolver dropped. Every request still gets its
    one callback; in event_thread mode aiodns' callback is loop.call_soon_threadsafe, which raises
    RuntimeError('Event loop is closed') -- that is aiodns' own behaviour (pycares 4.11 gives the
    same errors, through its cffi callbacks) and it must reach sys.unraisablehook, once a
    request, and nothing else may."""
    report = children.report("ng", loop, mode, "del_closed_loop")
    data_of(report)
    assert report["rc"] == 0, report["stderr"]
    assert not report["loop_errors"], report["loop_errors"]
    values = [u["exc_value"] for u in report["unraisable"]]
    if mode == "event_thread":
        assert values == ["RuntimeError('Event loop is closed')"] * len(child.PENDING_CALLS), (
            "\n".join(u["traceback"] for u in report["unraisable"]))
    else:
        # sock_state_cb: aiodns' callback sets the future directly; with no done-callbacks on the
        # futures that does not touch the closed loop
        assert values == [], "\n".join(u["traceback"] for u in report["unraisable"])
    if not NO_ORACLE and mode == "event_thread":
        p4 = children.report("p4", loop, mode, "del_closed_loop")
        assert [u["exc_value"] for u in p4["unraisable"]] == values


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_exit_with_pending_queries(children, loop, mode):
    """The program ends with a resolver holding pending queries (no close): the interpreter exits
    promptly with status 0 and nothing on stderr."""
    report = children.report("ng", loop, mode, "exit_pending")
    assert_clean(report)
    assert report["wall"] < 30, report["wall"]
