"""pycares_ng.v5's C paths (DNSResult building, host results under pycares 5's classes,
Channel.wait()) neither leak references nor memory over thousands of requests."""
from __future__ import annotations

import gc
import sys
import threading
import tracemalloc
from typing import Any, List, Optional

import pycares_ng.v5 as pycares
from helpers import empty_resolv_conf


def _channel(fault_server: Any) -> pycares.Channel:
    return pycares.Channel(servers=[fault_server.address], timeout=2.0, tries=2,
                           resolvconf_path=empty_resolv_conf(), lookups="b")


def test_no_reference_or_memory_leak_over_4000_v5_requests(fault_server: Any) -> None:
    fault_server.add_record("txt.leak.test", "TXT", b"\x05hello\x05world", ttl=30)
    ch = _channel(fault_server)
    lock = threading.Lock()
    seen: List[Optional[int]] = []

    def cb(result: Any, err: Optional[int]) -> None:
        with lock:
            seen.append(err)

    def batch() -> None:
        for i in range(50):
            ch.query(f"a{i}.leak.test", pycares.QUERY_TYPE_A, callback=cb)
            ch.query("txt.leak.test", pycares.QUERY_TYPE_TXT, callback=cb)
            ch.getaddrinfo(f"h{i}.leak.test", 80, callback=cb)
            ch.getnameinfo(("127.0.0.1", 53), pycares.ARES_NI_NUMERICHOST | pycares.ARES_NI_NUMERICSERV,
                           callback=cb)
        assert ch.wait(10.0)
        fault_server.queries.clear()

    batch()  # warm-up
    gc.collect()
    refs = sys.getrefcount(cb)
    tracemalloc.start()
    try:
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            batch()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
        ch.close()
    assert len(seen) == 21 * 200
    assert set(seen) == {None}
    assert sys.getrefcount(cb) == refs
    assert grown < 200_000, grown


def test_result_classes_do_not_leak() -> None:
    """Every result object is GC-tracked: a leaked one stays in gc.get_objects()."""
    rec = pycares.DNSRecord
    data = pycares.ARecordData(addr="192.0.2.1")
    gc.collect()
    refs = sys.getrefcount(data)
    before = len(gc.get_objects())
    for i in range(20000):
        r = rec(name="x.test", type=1, record_class=1, ttl=i, data=data)
        pycares.DNSResult(answer=[r], authority=[], additional=[]) == pycares.DNSResult([r], [], [])
        repr(r)
    del r
    gc.collect()
    grown = len(gc.get_objects()) - before
    assert sys.getrefcount(data) == refs
    assert grown < 50, grown
