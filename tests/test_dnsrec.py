"""The dnsrec path (c-ares >= 1.28: ares_query_dnsrec / ares_search_dnsrec, results built from
c-ares' parsed record) gives exactly what the raw-reply path gives (PYCARES_NG_DNSREC=0: ares_query
/ ares_search, the reply written back by c-ares and parsed by pycares_ng), for every name of the
test zone, every supported type, both faces and the whole-message API; plus qcache_max_ttl."""

from __future__ import annotations

import os
import re
import time

import pytest

import pycares_ng
from pycares_ng import errno as E

from helpers import make_channel, resolve, run_until

CARES = tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2])
ZONE = os.path.join(os.path.dirname(__file__), "data", "example.test.zone")
TYPES = ["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "NAPTR", "CAA", "URI", "TLSA",
         "HTTPS", "SVCB", "DS", "DNSKEY", "SSHFP", "ANY"]
needs_dnsrec = pytest.mark.skipif(CARES < (1, 28), reason="the dnsrec API needs c-ares >= 1.28")


def zone_names() -> list:
    names = {"example.test", "nowhere.example.test", "x.wild.example.test", "dangling.example.test"}
    with open(ZONE) as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.*-]+)\s", line)
            if m and not line.startswith("$") and m.group(1) != "@":
                names.add(m.group(1).replace("*", "star") + ".example.test")
    return sorted(names)


def channel_on(path: str, dns_server, monkeypatch, **options):
    monkeypatch.setenv("PYCARES_NG_DNSREC", "1" if path == "dnsrec" else "0")
    ch = make_channel(dns_server.address, **options)
    monkeypatch.delenv("PYCARES_NG_DNSREC")
    return ch


def batch(channel, requests, depth=50):
    """Every (method, name, qtype), at most depth at a time; their (result, errno) in order."""
    out = [None] * len(requests)
    for start in range(0, len(requests), depth):
        for i in range(start, min(start + depth, len(requests))):
            method, name, qtype = requests[i]

            def cb(result, errno, i=i):
                out[i] = (result, errno)
            getattr(channel, method)(name, qtype, cb)
        assert run_until(channel, lambda: all(x is not None for x in out[start:start + depth]), 30.0)
    return out


def test_default_path_follows_the_library(dns_server):
    with make_channel(dns_server.address) as ch:
        assert ch._dnsrec is (CARES >= (1, 28) and os.environ.get("PYCARES_NG_DNSREC") != "0")


@needs_dnsrec
@pytest.mark.parametrize("method", ["query", "search", "query_dns", "search_dns", "_query_dns5"])
def test_same_results_on_both_paths(dns_server, monkeypatch, method):
    requests = [(method, name, getattr(pycares_ng, "QUERY_TYPE_" + t)) for name in zone_names() for t in TYPES]
    results = {}
    for path in ("legacy", "dnsrec"):
        with channel_on(path, dns_server, monkeypatch, domains=["example.test"]) as ch:
            assert ch._dnsrec is (path == "dnsrec")
            results[path] = batch(ch, requests)
    found = 0
    for req, a, b in zip(requests, results["legacy"], results["dnsrec"]):
        assert repr(a) == repr(b), req
        assert a == b, req
        found += a[1] is None
    assert found > 50


@needs_dnsrec
@pytest.mark.parametrize("flags", [None, 0, pycares_ng.ARES_FLAG_EDNS, pycares_ng.ARES_FLAG_NORECURSE])
def test_search_through_domains_on_both_paths(dns_server, monkeypatch, flags):
    requests = [(m, n, pycares_ng.QUERY_TYPE_A) for m in ("search", "search_dns")
                for n in ("www", "multi", "nowhere", "chain-a")]
    got = {}
    for path in ("legacy", "dnsrec"):
        with channel_on(path, dns_server, monkeypatch, domains=["example.test"], flags=flags) as ch:
            got[path] = batch(ch, requests)
    assert repr(got["legacy"]) == repr(got["dnsrec"])
    assert got["dnsrec"][0][1] is None and got["dnsrec"][0][0][0].host == "192.0.2.10"
    assert got["dnsrec"][2][1] in (E.ARES_ENOTFOUND, E.ARES_EREFUSED)


@needs_dnsrec
def test_event_thread_on_dnsrec(dns_server):
    with make_channel(dns_server.address, event_thread=True) as ch:
        assert ch._dnsrec
        done = []
        for i in range(200):
            ch.query(f"h{i}.bench.example.test", pycares_ng.QUERY_TYPE_A, lambda r, e: done.append((r, e)))
        deadline = time.monotonic() + 20
        while len(done) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(done) == 200
        assert all(e is None and len(r) == 1 for r, e in done)


# ---- qcache_max_ttl ------------------------------------------------------------------------------

@pytest.mark.skipif(CARES >= (1, 23), reason="c-ares >= 1.23 has a query cache")
def test_qcache_refused_on_old_cares(dns_server):
    with pytest.raises(pycares_ng.AresError, match="1.23"):
        make_channel(dns_server.address, qcache_max_ttl=60)
    make_channel(dns_server.address, qcache_max_ttl=0).close()  # nothing to turn off


def test_qcache_bad_values(dns_server):
    for bad in (-1, 2**40):
        with pytest.raises(ValueError):
            make_channel(dns_server.address, qcache_max_ttl=bad)
    with pytest.raises(TypeError):
        make_channel(dns_server.address, qcache_max_ttl="60")
    with pytest.raises(TypeError):  # keyword-only
        pycares_ng.Channel(*([None] * 17), 60)


@pytest.mark.skipif(CARES < (1, 23), reason="the query cache needs c-ares >= 1.23")
@pytest.mark.parametrize("path", ["legacy", "dnsrec"])
def test_qcache_on_and_off(fault_server, monkeypatch, path):
    if path == "dnsrec" and CARES < (1, 28):
        pytest.skip("the dnsrec API needs c-ares >= 1.28")
    fault_server.add_record("cached.test", "A", "192.0.2.1", ttl=300)
    for ttl, expect_queries in ((0, 2), (600, 1)):
        monkeypatch.setenv("PYCARES_NG_DNSREC", "1" if path == "dnsrec" else "0")
        with make_channel(fault_server.address, qcache_max_ttl=ttl) as ch:
            before = len(fault_server.queries)
            first = resolve(ch, "cached.test", pycares_ng.QUERY_TYPE_A)
            second = resolve(ch, "cached.test", pycares_ng.QUERY_TYPE_A)
            assert first[1] is None and second[1] is None
            assert [r.host for r in first[0]] == [r.host for r in second[0]]
            assert len(fault_server.queries) - before == expect_queries, ttl
