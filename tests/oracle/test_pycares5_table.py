"""The differential table of the pycares 5 face: every case through pycares 5.2.1 and pycares_ng.v5.

pycares 5.2.1 shares the distribution name ``pycares`` with the test extra's pycares 4.11, so it is
installed beside the venv (``pip install --target <venv>/oracle-pycares5 pycares==5.2.1
aiodns==4.0.4``, done by .ci/test.sh) and runs in child processes with that directory on
PYTHONPATH; pycares_ng.v5 runs in children of its own (tests/oracle/pycares5_child.py holds the
cases and the recorder). Each case runs once per library against the same NSD zone (tests/data)
and a FaultServer of the child's own, in sock_state_cb mode (a select loop) and/or with the
implicit event thread, and what a program sees is compared: raises or calls back, exception class
(pycares_ng may raise a subclass), AresError args, result classes, fields with their Python types
and repr, the sock_state_cb sequence, what close()/cancel() deliver and on which thread, wait(),
servers, and what reached the fault server.

Where pycares 5.2.1 itself is wrong, the case is in ALLOWED with the reason and is a strict xfail
(docs/differences.rst lists each, kept in step by tests/test_docs_differences.py); ERA_118 lists
what c-ares 1.18 does differently from c-ares 1.34 (bundled by pycares 5.2.1).
"""
from __future__ import annotations

import builtins
import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import pycares_ng

import pycares5_child as child

CHILD = Path(child.__file__).resolve()
INSTALL = ('{python} -m pip install --target {dir} pycares==5.2.1 aiodns==4.0.4')


def oracle_dir() -> Path:
    """Where pycares 5.2.1 is installed beside the venv (env PYCARES_NG_ORACLE5 overrides)."""
    return Path(os.environ.get("PYCARES_NG_ORACLE5") or Path(sys.prefix) / "oracle-pycares5")


def require_oracle() -> Path:
    where = oracle_dir()
    meta = list(where.glob("pycares-5.2.1.dist-info"))
    if not meta:  # fail, not skip: CI installs it
        pytest.fail(f"pycares 5.2.1 (the oracle) is not installed in {where}; install it with:\n  "
                    + INSTALL.format(python=sys.executable, dir=where), pytrace=False)
    return where


PARAMS: List[Tuple[str, str]] = [(cid, mode) for cid, (_, modes) in child.CASES.items() for mode in modes]
OLD_CARES = tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2]) < (1, 34)

# -- allowed differences: where pycares 5.2.1 is wrong ----------------------------------------------
NUL = "pycares 5.2.1 cuts the name at the NUL (it is a C string) and resolves what precedes it"
CTOR_DEL = ("pycares 5.2.1's __del__ runs on the half-made object and raises AttributeError (an unraisable "
            "exception) after the TypeError")
ALLOWED: Dict[str, str] = {
    "query-name-nul": NUL,
    "query-name-nul-bytes": NUL,
    "search-name-nul": NUL,
    "getaddrinfo-host-nul": NUL,
    "gethostbyaddr-nul": NUL + " (looks up 192.0.2.10)",
    "gethostbyaddr-v4-prefix": "pycares 5.2.1 (ares_inet_pton) takes '192.0.2' for 192.0.2.0 and looks it up",
    "query-name-254": "a name over 253 octets must fail with ARES_EBADNAME; pycares 5.2.1 (c-ares 1.34) sends it "
                      "and reports ARES_EBADRESP, a reply error, later",
    "getaddrinfo-host-254": "as query-name-254",
    "search-name-too-long": "pycares 5.2.1 (c-ares 1.34 ares_search_dnsrec) reports ARES_ENOMEM for a name over "
                            "253 octets (pycares_ng: ARES_EBADNAME, as query() does)",
    "getnameinfo-v6-numeric": "pycares 5.2.1 appends '%0' to a numeric IPv6 node whose scope id is 0 "
                              "('2001:db8::6%0'); glibc and pycares 4.11 give '2001:db8::6'",
    "close-pending": "pycares 5.2.1 delivers close()'s ARES_ECANCELLED later, on its shutdown thread; "
                     "pycares_ng delivers it inside close(), in both modes",
    "servers-set-empty": "pycares 5.2.1's servers getter gives [''] (an empty address) for a channel without "
                         "servers; pycares_ng gives []",
    "ctor-positional": CTOR_DEL,
    "ctor-unknown-keyword": CTOR_DEL,
    "ctor-event_thread-keyword": CTOR_DEL,
}
# id -> why pycares 5.2.1 is not run (it hangs); pycares_ng's record is checked on its own instead
HANG = ("pycares 5.2.1 deadlocks when a callback on its event thread calls {} while the program's thread is "
        "inside query() on the same channel (query() holds the channel's Python lock across "
        "ares_query_dnsrec, which waits for the event thread's libcares lock)")
ORACLE_HANGS: Dict[str, str] = {
    "cancel-inside-callback": HANG.format("cancel()"),
    "close-inside-callback": HANG.format("close()"),
    "query-inside-callback": HANG.format("query()"),
    "wait-inside-callback-pending": "pycares 5.2.1's wait() inside a callback, with other queries pending, blocks "
                                    "the event thread for the whole timeout (forever without one: nothing can "
                                    "complete meanwhile) and returns False; " + HANG.format("wait()")
                                    + ". pycares_ng raises RuntimeError at once",
}
# id (without mode) -> how c-ares 1.18 itself behaves differently from c-ares 1.34 (strict xfail there)
_TCP_118 = ("c-ares 1.18 keeps the UDP socket open after switching to TCP (1.34 closes it at once); reporting "
            "it closed would leave its later replies unwatched")
ERA_118: Dict[str, str] = {
    "query-TXT-txt-medium.example.test": "c-ares 1.18 sends no EDNS option by default: a 600-octet answer comes "
                                         "truncated over UDP, then over TCP (1.34: over UDP with EDNS)",
    "query-TXT-txt-big.example.test": _TCP_118,
    "query-fault-trunc": _TCP_118,
    "query-twice": "c-ares 1.18 has no query cache: the second question is sent again and answered later, "
                   "not inside query() with the TTL counting down",
    "query-twice-nxdomain": "as query-twice (1.34 caches NXDOMAIN too)",
    "query-twice-nodata": "as query-twice (1.34 caches NODATA too)",
}


# -- running the children ---------------------------------------------------------------------------

def _run_child(lib: str, cases: List[Tuple[str, str]], base: Dict[str, Any]) -> Dict[str, Any]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if lib == "p5":
        env["PYTHONPATH"] = str(oracle_dir())
    spec = dict(base, lib=lib, cases=cases)
    try:
        proc = subprocess.run([sys.executable, "-X", "faulthandler", str(CHILD)], input=json.dumps(spec),
                              capture_output=True, text=True, timeout=300, env=env, cwd=base["cwd"])
    except subprocess.TimeoutExpired as exc:
        return {"child failed": f"no exit within 300 s; stderr: {exc.stderr!r}"[-4000:]}
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"child failed": f"rc={proc.returncode}, stdout={proc.stdout[-2000:]!r}, "
                                f"stderr={proc.stderr[-4000:]}"}


@pytest.fixture(scope="module")
def records(dns_server, tmp_path_factory) -> Dict[str, Dict[str, Any]]:
    """{"p5": {case[mode]: record}, "ng": {...}}: the whole table, children a few at a time."""
    require_oracle()
    workdir = tmp_path_factory.mktemp("pycares5")
    resolvconf = workdir / "empty-resolv.conf"
    resolvconf.write_text("")
    base = {"nsd_port": dns_server.port, "resolvconf": str(resolvconf), "cwd": str(workdir)}
    chunks = 6
    jobs = [(lib, [p for p in PARAMS[i::chunks] if lib == "ng" or p[0] not in ORACLE_HANGS])
            for i in range(chunks) for lib in ("p5", "ng")]
    out: Dict[str, Dict[str, Any]] = {"p5": {}, "ng": {}, "identity": {}}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for (lib, _), report in zip(jobs, pool.map(lambda job: _run_child(job[0], job[1], base), jobs)):
            if "child failed" in report:
                out[lib]["child failed"] = report["child failed"]
                continue
            out["identity"][lib] = report["identity"]
            out[lib].update(report["records"])
    return out


# -- comparing --------------------------------------------------------------------------------------

def reconcile(p5: Any, ng: Any) -> Any:
    """ng with pycares_ng's freedoms resolved: an exception may be a subclass of pycares 5.2.1's
    (same AresError errno); exception messages are not compared."""
    if isinstance(p5, dict) and isinstance(ng, dict):
        if "raised" in p5 and "raised" in ng:
            # compared through the nearest built-in class of pycares 5.2.1's (idna.IDNAError ->
            # UnicodeError), or AresError itself
            base = next(n for n in p5["mro"] if n == "AresError" or isinstance(getattr(builtins, n, None), type))
            if base in ng["mro"] and p5.get("args", [None, [None]])[1][:1] == \
                    ng.get("args", [None, [None]])[1][:1] and p5.get("destroyed") == ng.get("destroyed"):
                return p5
            return {k: v for k, v in ng.items() if k != "message"}
        return {k: reconcile(p5.get(k), v) for k, v in ng.items()}
    if isinstance(p5, list) and isinstance(ng, list) and len(p5) == len(ng):
        return [reconcile(a, b) for a, b in zip(p5, ng)]
    return ng


def strip_messages(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_messages(v) for k, v in value.items() if k != "message"}
    if isinstance(value, list):
        return [strip_messages(v) for v in value]
    return value


def diff(expected: Any, got: Any, path: str = "$") -> List[str]:
    if isinstance(expected, dict) and isinstance(got, dict):
        out: List[str] = []
        for key in list(expected) + [k for k in got if k not in expected]:
            out += diff(expected.get(key, "<absent>"), got.get(key, "<absent>"), f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        out = []
        for i, (e, g) in enumerate(zip(expected, got)):
            out += diff(e, g, f"{path}[{i}]")
        return out
    if expected != got:
        return [f"{path}:\n    pycares 5.2.1: {json.dumps(expected)[:1500]}\n    pycares_ng:    "
                f"{json.dumps(got)[:1500]}"]
    return []


@pytest.mark.parametrize("cid, mode", PARAMS, ids=[f"{c}[{m}]" for c, m in PARAMS])
def test_same_as_pycares5(records: Dict[str, Dict[str, Any]], cid: str, mode: str) -> None:
    key = f"{cid}[{mode}]"
    for lib in ("p5", "ng"):
        assert "child failed" not in records[lib], records[lib]["child failed"]
    assert "child error" not in records["ng"][key], records["ng"][key]["child error"]
    if cid in ORACLE_HANGS:
        check_alone(cid, records["ng"][key])
        return
    assert "child error" not in records["p5"][key], records["p5"][key]["child error"]
    expected = strip_messages(records["p5"][key])
    got = strip_messages(reconcile(records["p5"][key], records["ng"][key]))
    if mode == "thread":
        got = cancel_on_event_thread(expected, got)
    problems = diff(expected, got)
    era = ERA_118.get(cid) if OLD_CARES else None
    if era is not None:
        if problems:
            pytest.xfail(f"c-ares {pycares_ng.ARES_VERSION}'s own behaviour: {era}")
        pytest.fail(f"pycares_ng on c-ares {pycares_ng.ARES_VERSION} now matches pycares 5.2.1 in {key} ({era}): "
                    "remove its ERA_118 entry", pytrace=False)
    reason = ALLOWED.get(cid)
    if reason is not None:
        if problems:
            pytest.xfail(f"pycares 5.2.1 is wrong here, not copied: {reason}")
        pytest.fail(f"pycares_ng.v5 now matches pycares 5.2.1 in {key}, whose behaviour is listed as a bug "
                    f"({reason}): remove its ALLOWED entry", pytrace=False)
    assert not problems, f"pycares_ng.v5 differs from pycares 5.2.1 in {key}:\n" + "\n".join(problems)


def cancel_on_event_thread(expected: Dict[str, Any], got: Dict[str, Any]) -> Dict[str, Any]:
    """With the event thread, cancel()'s ARES_ECANCELLED is delivered inside cancel() on the calling
    thread, as pycares 5.2.1 always does, unless the event thread is delivering at that moment
    (pycares_ng: one deliverer per channel at a time, in order); then the event thread delivers
    it. Both count as the same here (docs/differences.rst says so)."""
    fixed = dict(got)
    fixed["callbacks"] = {}
    for tag, calls in got.get("callbacks", {}).items():
        want = expected.get("callbacks", {}).get(tag, [])
        fixed["callbacks"][tag] = [
            [res, err, want[i][2]] if (i < len(want) and when == "thread" and want[i][2] == "in:cancel"
                                       and err == ["int", 24] and want[i][1] == err) else [res, err, when]
            for i, (res, err, when) in enumerate(calls)]
    return fixed


def _result_class(picture: Any) -> Optional[str]:
    return picture[1] if isinstance(picture, list) and picture and picture[0] == "obj" else None


def check_alone(cid: str, record: Dict[str, Any]) -> None:
    """What pycares_ng must do where pycares 5.2.1 hangs: the first query is answered, its callback
    (on the event thread) cancels / closes / queries, and every request gets exactly one callback."""
    cb = record["callbacks"]
    assert record["never called"] == [] and record["unraisable"] == [], record
    if cid == "wait-inside-callback-pending":
        (label, outcome), (_, took) = record["calls on other threads"]
        assert label == "wait-in-callback" and outcome["raised"] == "RuntimeError", record
        assert took == {"value": ["str", "<0.2s"]}, record
        assert len(cb["q"]) == 1 and _result_class(cb["q"][0][0]) == "DNSResult", cb
        assert cb["q"][0][1:] == [["NoneType", None], "thread"], cb
        assert [c[1:] for c in cb["q2"]] == [[["int", 12], "thread"]], cb  # ARES_ETIMEOUT
        return
    assert sorted(cb) == ["q1", "q2"] and all(len(v) == 1 for v in cb.values()), cb
    assert _result_class(cb["q1"][0][0]) == "DNSResult" and cb["q1"][0][1] == ["NoneType", None], cb
    assert all(when == "thread" for calls in cb.values() for _, _, when in calls), cb
    label = {"cancel-inside-callback": "cancel-in-callback", "close-inside-callback": "close-in-callback",
             "query-inside-callback": "query-in-callback"}[cid]
    assert record["calls on other threads"] == [[label, {"value": ["NoneType", None]}]], record
    if cid == "query-inside-callback":
        assert _result_class(cb["q2"][0][0]) == "DNSResult" and cb["q2"][0][1] == ["NoneType", None], cb
    else:
        assert cb["q2"][0][:2] == [["NoneType", None], ["int", 24]], cb  # ARES_ECANCELLED


def test_children_are_the_right_libraries(records: Dict[str, Dict[str, Any]]) -> None:
    ident = records["identity"]
    assert ident["p5"]["lib"] == "pycares" and "oracle-pycares5" in ident["p5"]["file"], ident
    assert ident["p5"]["ARES_VERSION"].startswith("1.34"), ident
    assert ident["ng"]["lib"] == "pycares_ng.v5", ident
    assert ident["ng"]["ARES_VERSION"] == pycares_ng.ARES_VERSION


def test_table_is_large_enough() -> None:
    assert len(PARAMS) >= 300
    assert set(ALLOWED) <= set(child.CASES), set(ALLOWED) - set(child.CASES)
    assert set(ERA_118) <= set(child.CASES), set(ERA_118) - set(child.CASES)
    assert set(ORACLE_HANGS) <= set(child.CASES), set(ORACLE_HANGS) - set(child.CASES)
