"""aiodns 4.0.4 from PyPI as a real client of pycares_ng.v5 (issue 12).

Each (library, loop, channel mode) runs in a child process (tests/oracle/aiodns4_child.py) with
aiodns 4.0.4 from the oracle directory beside the venv (see test_pycares5_table.py). In the
pycares_ng child ``sys.modules["pycares"]`` (and ``pycares.errno``/``pycares.utils``) is
pycares_ng.v5 before aiodns is imported; the oracle child runs aiodns 4.0.4 on the REAL pycares
5.2.1. Warnings are errors, ``sys.unraisablehook`` and the loop's exception handler record.

Matrix: every scenario x loop (asyncio, uvloop) x aiodns' two channel modes: ``event_thread``
(aiodns' first choice, pycares 5's implicit event thread) and ``sock_state_cb`` (aiodns'
fallback, taken when ``Channel()`` raises AresError: the child makes every Channel() without
sock_state_cb raise). Scenarios: every DNSResolver call against the NSD zone, timeouts and error
replies from a FaultServer, nameservers, cancel(), close() with queries pending (and ``async
with``), close() from a done-callback, a resolver dropped with queries pending (__del__).

Every outcome is compared with the oracle's as a program sees it: result classes and fields with
their Python types, exception classes (pycares_ng's AresError under its own module name), DNSError
errno and message. TTLs may be a second or two lower on the oracle: c-ares 1.34's query cache
answers a repeated question with the TTL counting down (c-ares 1.18 has none). ORACLE_BUGS lists
where pycares 5.2.1 is wrong (strict xfail, docs/differences.rst).
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import aiodns4_child as child
from test_pycares5_table import oracle_dir, require_oracle

try:
    import uvloop  # noqa: F401
except ImportError:  # pragma: no cover  (depends on the machine)
    uvloop = None

CHILD = Path(child.__file__).resolve()
LOOPS = [pytest.param("asyncio", id="asyncio"),
         pytest.param("uvloop", id="uvloop", marks=pytest.mark.skipif(uvloop is None, reason="no uvloop"))]
MODES = ["event_thread", "sock_state_cb"]

_254 = ("a name over 253 octets must fail with ARES_EBADNAME; pycares 5.2.1 (c-ares 1.34) sends it and "
        "reports ARES_EBADRESP, a reply error")
#: (scenario, key) -> why pycares 5.2.1's outcome is a bug pycares_ng.v5 must not copy (strict xfail)
ORACLE_BUGS: Dict[Tuple[str, str], str] = {
    ("calls", "query_dns 254-character name"): _254,
    ("calls", "query 254-character name"): _254,
    ("calls", "getaddrinfo 254-character name"): _254,
    ("nameservers", "get after empty"): "pycares 5.2.1's servers getter gives [''] for a channel without "
                                        "servers (aiodns: ['']); pycares_ng.v5 gives []",
}


def _run(lib: str, loop: str, mode: str, base: Dict[str, Any]) -> Dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(oracle_dir())  # aiodns 4.0.4 for both; pycares 5.2.1 for the oracle
    spec = dict(base, lib=lib, loop=loop, mode=mode)
    try:
        proc = subprocess.run([sys.executable, "-X", "faulthandler", str(CHILD)], input=json.dumps(spec),
                              capture_output=True, text=True, timeout=240, env=env, cwd=base["cwd"])
    except subprocess.TimeoutExpired as exc:
        return {"child failed": f"no exit within 240 s: {exc.stderr!r}"[-4000:]}
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"child failed": f"rc={proc.returncode} stdout={proc.stdout[-2000:]!r} stderr={proc.stderr[-4000:]}"}
    report["stderr"] = proc.stderr
    return report


@pytest.fixture(scope="module")
def reports(dns_server, tmp_path_factory) -> Dict[Tuple[str, str, str], Dict[str, Any]]:
    require_oracle()
    workdir = tmp_path_factory.mktemp("aiodns4")
    resolvconf = workdir / "empty-resolv.conf"
    resolvconf.write_text("")
    base = {"nsd_port": dns_server.port, "resolvconf": str(resolvconf), "cwd": str(workdir)}
    loops = ["asyncio"] + (["uvloop"] if uvloop is not None else [])
    jobs = [(lib, loop, mode) for lib in ("ng", "p5") for loop in loops for mode in MODES]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(jobs, pool.map(lambda job: _run(*job, base), jobs)))


def scenario_record(reports: Dict[Tuple[str, str, str], Dict[str, Any]], lib: str, loop: str, mode: str,
                    name: str) -> Dict[str, Any]:
    report = reports[(lib, loop, mode)]
    assert "child failed" not in report, report["child failed"]
    record = report["scenarios"][name]
    assert "crashed" not in record, record["crashed"]
    return record


# -- comparing ----------------------------------------------------------------------------------

IGNORED = {"elapsed", "str", "mro"}


def _same_name(a: str, b: str) -> bool:
    """Exception classes: pycares_ng's AresError is pycares_ng.AresError, the oracle's pycares.AresError."""
    return a.replace("pycares_ng.v5.", "pycares.").replace("pycares_ng.", "pycares.") == \
        b.replace("pycares_ng.v5.", "pycares.").replace("pycares_ng.", "pycares.")


def differences(ng: Any, p5: Any, path: str = "$") -> List[str]:
    if isinstance(p5, dict) and isinstance(ng, dict):
        if "class" in p5 and "class" in ng and not _same_name(ng["class"], p5["class"]):
            return [f"{path}: {ng['class']}, pycares 5.2.1: {p5['class']}"]
        out: List[str] = []
        for key in sorted(set(p5) | set(ng)):
            if key in IGNORED or key == "class":
                continue
            if key not in ng or key not in p5:
                return [f"{path}: pycares_ng.v5 {json.dumps(ng)[:800]}, pycares 5.2.1 {json.dumps(p5)[:800]}"]
            out += differences(ng[key], p5[key], f"{path}.{key}")
        return out
    if isinstance(p5, list) and isinstance(ng, list):
        # ["int", ttl] under a "ttl" field: the oracle's query cache may count it down a little
        if len(p5) == 2 and p5[0] == "ttl" and len(ng) == 2 and ng[0] == "ttl":
            (_, (t5, v5)), (_, (tn, vn)) = p5, ng
            if t5 == tn == "int" and vn - 3 <= v5 <= vn:
                return []
        if len(p5) != len(ng):
            return [f"{path}: {len(ng)} items, pycares 5.2.1 {len(p5)}\n  ng: {json.dumps(ng)[:800]}\n"
                    f"  p5: {json.dumps(p5)[:800]}"]
        out = []
        for i, (a, b) in enumerate(zip(ng, p5)):
            out += differences(a, b, f"{path}[{i}]")
        return out
    if ng != p5 or type(ng) is not type(p5):
        return [f"{path}: pycares_ng.v5 {json.dumps(ng)}, pycares 5.2.1 {json.dumps(p5)}"]
    return []


def check(scenario: str, key: str, ng: Any, p5: Any) -> None:
    diffs = differences(ng, p5)
    reason = ORACLE_BUGS.get((scenario, key))
    if reason is not None:
        if diffs:
            pytest.xfail(f"pycares 5.2.1 bug, not copied: {reason}")
        pytest.fail(f"pycares_ng.v5 now matches pycares 5.2.1's bug ({reason})", pytrace=False)
    assert not diffs, f"aiodns 4.0.4 on pycares_ng.v5 and on pycares 5.2.1 differ for {scenario} / {key!r}:\n" + \
        "\n".join(diffs)


CASES: List[Tuple[str, str]] = (
    [("calls", k) for k in child.CALLS] + [("calls", "event thread")]
    + [("faults", k) for k in child.FAULT_CALLS]
    + [(s, k) for s, keys in child.SCENARIO_KEYS.items() for k in keys if s != "dropped"])


@pytest.mark.parametrize("scenario, key", CASES, ids=[f"{s}-{k}" for s, k in CASES])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_same_as_on_pycares5(reports: Any, loop: str, mode: str, scenario: str, key: str) -> None:
    ng = scenario_record(reports, "ng", loop, mode, scenario)["data"].get(key, "<missing>")
    p5 = scenario_record(reports, "p5", loop, mode, scenario)["data"].get(key, "<missing>")
    check(scenario, key, ng, p5)


@pytest.mark.parametrize("scenario", list(child.SCENARIOS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_clean(reports: Any, loop: str, mode: str, scenario: str) -> None:
    """aiodns 4 on pycares_ng.v5: nothing reaches sys.unraisablehook or the loop's exception
    handler, closing the loop works, every key is reported."""
    record = scenario_record(reports, "ng", loop, mode, scenario)
    assert record["unraisable"] == [], "\n".join(record["unraisable"])
    assert record["loop_errors"] == [], record["loop_errors"]
    assert "loop close failed" not in record, record["loop close failed"]
    if scenario in child.SCENARIO_KEYS:
        assert list(record["data"]) == child.SCENARIO_KEYS[scenario]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_children_are_what_they_claim(reports: Any, loop: str, mode: str) -> None:
    ng, p5 = reports[("ng", loop, mode)], reports[("p5", loop, mode)]
    for report in (ng, p5):
        assert "child failed" not in report, report["child failed"]
        assert report["identity"]["aiodns"] == "4.0.4"
    assert ng["identity"]["aiodns_pycares"] == "pycares_ng.v5"
    assert ng["identity"]["errno_module"] == "pycares_ng.errno"
    assert not ng["identity"]["real_pycares_loaded"]
    assert p5["identity"]["aiodns_pycares"] == "pycares" and p5["identity"]["real_pycares_loaded"]
    for report in (ng, p5):
        event_thread = report["scenarios"]["calls"]["data"]["event thread"]
        assert event_thread == {"value": ["bool", mode == "event_thread"]}
    assert ng["stderr"].strip() == "", ng["stderr"][-3000:]


def _errno(outcome: Dict[str, Any]) -> int:
    assert "error" in outcome, outcome
    return outcome["error"]["args"][1][0][1]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_pending_requests_end_with_ecancelled(reports: Any, loop: str, mode: str) -> None:
    """cancel(), await close(), close() from a done-callback: every pending future fails at once with
    DNSError(ARES_ECANCELLED); calls after close raise RuntimeError."""
    for scenario in ("cancel", "close", "close_from_callback"):
        data = scenario_record(reports, "ng", loop, mode, scenario)["data"]
        assert list(data["outcomes"]) == [label for label, *_ in child.PENDING_CALLS]
        for label, outcome in data["outcomes"].items():
            assert _errno(outcome) == 24, (scenario, label, outcome)
            assert outcome["elapsed"] <= 1.0, (scenario, label, outcome)
    data = scenario_record(reports, "ng", loop, mode, "close")["data"]
    assert "builtins.RuntimeError" in data["query_dns after close"]["raised"]["mro"]
    assert "builtins.RuntimeError" in data["nameservers after close"]["raised"]["mro"]
    assert _errno(data["async with: pending at exit"]) == 24


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loop", LOOPS)
def test_dropped_resolver(reports: Any, loop: str, mode: str) -> None:
    """A resolver dropped with queries pending: every future still gets its outcome, nothing is
    unraisable (compared with pycares 5.2.1: the same outcomes and liveness)."""
    ng = scenario_record(reports, "ng", loop, mode, "dropped")["data"]
    p5 = scenario_record(reports, "p5", loop, mode, "dropped")["data"]
    assert ng["outcomes"] == {label: "done" for label, *_ in child.PENDING_CALLS}, ng
    assert ng["unraisable"] == []
    assert ng["outcomes"] == p5["outcomes"]
    assert ng["resolver alive"] == p5["resolver alive"], (ng, p5)


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 90
    keys = {(s, k) for s, k in CASES}
    assert set(ORACLE_BUGS) <= keys, set(ORACLE_BUGS) - keys
