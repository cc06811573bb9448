"""pycares_ng.v5 on its own: the pycares 5 face (keyword-only arguments, dataclass results, the
implicit event thread, wait(), the servers format, exactly-once callbacks). The differential
table against pycares 5.2.1 itself is tests/oracle/test_pycares5_table.py; these tests hold on
both c-ares eras without it."""
from __future__ import annotations

import dataclasses
import gc
import pickle
import socket
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

import pycares_ng.v5 as pycares
from helpers import empty_resolv_conf
from pycares_ng.testing import FaultServer

EBADNAME = pycares.errno.ARES_EBADNAME
ECANCELLED = pycares.errno.ARES_ECANCELLED


class Calls:
    """Callbacks that record (result, errno, thread id) and can be waited for."""

    def __init__(self) -> None:
        self.got: Dict[str, List[Tuple[Any, Any, int]]] = {}
        self.cond = threading.Condition()

    def cb(self, tag: str) -> Any:
        def callback(result: Any, errno: Any) -> None:
            with self.cond:
                self.got.setdefault(tag, []).append((result, errno, threading.get_ident()))
                self.cond.notify_all()
        return callback

    def wait(self, *tags: str, timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: all(t in self.got for t in tags), timeout)


@pytest.fixture
def server():
    with FaultServer() as srv:
        srv.add_record("a.test", "A", "192.0.2.7", ttl=42)
        srv.add_record("txt.test", "TXT", b"\x05hello\x05world", ttl=43)
        srv.rules["drop.test"] = "drop"
        yield srv


def channel(server: FaultServer, **opts: Any) -> pycares.Channel:
    defaults: Dict[str, Any] = dict(servers=["127.0.0.1"], udp_port=server.port, tcp_port=server.port,
                                    resolvconf_path=empty_resolv_conf(), lookups="b", timeout=1.0, tries=1)
    defaults.update(opts)
    return pycares.Channel(**defaults)


# -- keyword-only arguments ---------------------------------------------------------------------

def test_constructor_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        pycares.Channel(0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        pycares.Channel(event_thread=True)  # type: ignore[call-arg]  (pycares 5 has no such option)


@pytest.mark.parametrize("call", [
    lambda ch, cb: ch.query("a.test", pycares.QUERY_TYPE_A, cb),
    lambda ch, cb: ch.search("a.test", pycares.QUERY_TYPE_A, cb),
    lambda ch, cb: ch.gethostbyaddr("192.0.2.7", cb),
    lambda ch, cb: ch.getaddrinfo("a.test", 80, cb),
    lambda ch, cb: ch.getaddrinfo("a.test", 80, socket.AF_INET, callback=cb),
    lambda ch, cb: ch.getnameinfo(("192.0.2.7", 80), 0, cb),
    lambda ch, cb: ch.query("a.test", pycares.QUERY_TYPE_A, pycares.QUERY_CLASS_IN, callback=cb),
], ids=["query", "search", "gethostbyaddr", "getaddrinfo", "getaddrinfo-family", "getnameinfo", "query-class"])
def test_callback_and_options_are_keyword_only(server: FaultServer, call: Any) -> None:
    calls = Calls()
    with channel(server) as ch:
        with pytest.raises(TypeError):
            call(ch, calls.cb("x"))
    assert calls.got == {}


def test_callback_is_required(server: FaultServer) -> None:
    with channel(server) as ch:
        with pytest.raises(TypeError):
            ch.query("a.test", pycares.QUERY_TYPE_A)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="callable"):
            ch.query("a.test", pycares.QUERY_TYPE_A, callback=None)  # type: ignore[arg-type]


def test_keyword_calls_work(server: FaultServer) -> None:
    calls = Calls()
    with channel(server) as ch:
        ch.query(name="a.test", query_type=pycares.QUERY_TYPE_A, query_class=pycares.QUERY_CLASS_IN,
                 callback=calls.cb("q"))
        ch.getaddrinfo(host="a.test", port=None, family=socket.AF_INET, type=0, proto=0, flags=0,
                       callback=calls.cb("gai"))
        assert calls.wait("q", "gai")
    (result, errno, _), = calls.got["q"]
    assert errno is None and isinstance(result, pycares.DNSResult)
    assert [(r.name, r.type, r.record_class, r.ttl, r.data) for r in result.answer] == [
        ("a.test", pycares.QUERY_TYPE_A, pycares.QUERY_CLASS_IN, 42, pycares.ARecordData(addr="192.0.2.7"))]
    (gai, errno, _), = calls.got["gai"]
    assert errno is None and [n.addr for n in gai.nodes] == [(b"192.0.2.7", 0)]


def test_txt_data_is_bytes(server: FaultServer) -> None:
    calls = Calls()
    with channel(server) as ch:
        ch.query("txt.test", pycares.QUERY_TYPE_TXT, callback=calls.cb("q"))
        assert calls.wait("q")
    (result, errno, _), = calls.got["q"]
    assert errno is None
    assert result.answer[0].data == pycares.TXTRecordData(data=b"helloworld")


@pytest.mark.parametrize("name", ["a" * 64 + ".test", "a..test", ("a" * 62 + ".") * 4 + "test"],
                         ids=["label-64", "empty-label", "name-256"])
@pytest.mark.parametrize("method", ["query", "search"])
def test_bad_name_calls_back_then_raises(server: FaultServer, name: str, method: str) -> None:
    """As pycares 5 (ares_query_dnsrec returns the status): the callback gets ARES_EBADNAME inside
    the call, then the call raises AresError(ARES_EBADNAME, message)."""
    calls = Calls()
    with channel(server) as ch:
        with pytest.raises(pycares.AresError) as info:
            getattr(ch, method)(name, pycares.QUERY_TYPE_A, callback=calls.cb("q"))
    assert info.value.args == (EBADNAME, pycares.errno.strerror(EBADNAME))
    assert [(r, e, t) for r, e, t in calls.got["q"]] == [(None, EBADNAME, threading.get_ident())]
    assert server.queries == []


# -- results are dataclasses --------------------------------------------------------------------

SAMPLES: Dict[str, Any] = {
    "ARecordData": lambda: pycares.ARecordData(addr="192.0.2.1"),
    "AAAARecordData": lambda: pycares.AAAARecordData(addr="2001:db8::1"),
    "MXRecordData": lambda: pycares.MXRecordData(priority=10, exchange="mx.test"),
    "TXTRecordData": lambda: pycares.TXTRecordData(data=b"text"),
    "CAARecordData": lambda: pycares.CAARecordData(critical=0, tag="issue", value="ca.test"),
    "CNAMERecordData": lambda: pycares.CNAMERecordData(cname="target.test"),
    "NAPTRRecordData": lambda: pycares.NAPTRRecordData(order=1, preference=2, flags="S", service="SIP+D2U",
                                                       regexp="", replacement="_sip._udp.test"),
    "NSRecordData": lambda: pycares.NSRecordData(nsdname="ns.test"),
    "PTRRecordData": lambda: pycares.PTRRecordData(dname="host.test"),
    "SOARecordData": lambda: pycares.SOARecordData(mname="ns.test", rname="hm.test", serial=1, refresh=2,
                                                   retry=3, expire=4, minimum=5),
    "SRVRecordData": lambda: pycares.SRVRecordData(priority=1, weight=2, port=3, target="t.test"),
    "TLSARecordData": lambda: pycares.TLSARecordData(cert_usage=3, selector=1, matching_type=1,
                                                     cert_association_data=b"\x01\x02"),
    "HTTPSRecordData": lambda: pycares.HTTPSRecordData(priority=1, target=".", params=[(1, b"\x02h2")]),
    "URIRecordData": lambda: pycares.URIRecordData(priority=1, weight=2, target="https://t.test/"),
    "DNSRecord": lambda: pycares.DNSRecord(name="a.test", type=1, record_class=1, ttl=5,
                                           data=pycares.ARecordData(addr="192.0.2.1")),
    "DNSResult": lambda: pycares.DNSResult(answer=[SAMPLES["DNSRecord"]()], authority=[], additional=[]),
    "HostResult": lambda: pycares.HostResult(name="h.test", aliases=["a.test"], addresses=["192.0.2.1"]),
    "NameInfoResult": lambda: pycares.NameInfoResult(node="h.test", service=None),
    "AddrInfoNode": lambda: pycares.AddrInfoNode(ttl=1, flags=0, family=2, socktype=1, protocol=6,
                                                 addr=(b"192.0.2.1", 80)),
    "AddrInfoCname": lambda: pycares.AddrInfoCname(ttl=1, alias="a.test", name="b.test"),
    "AddrInfoResult": lambda: pycares.AddrInfoResult(cnames=[], nodes=[SAMPLES["AddrInfoNode"]()]),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_result_class_is_a_dataclass(name: str) -> None:
    cls = getattr(pycares, name)
    obj = SAMPLES[name]()
    names = [f.name for f in dataclasses.fields(cls)]
    assert dataclasses.is_dataclass(cls) and dataclasses.is_dataclass(obj)
    assert names == list(cls.__annotations__)
    assert type(obj) is cls and cls.__name__ == name
    # asdict / astuple / replace, as on a dataclass
    assert list(dataclasses.asdict(obj)) == names
    assert len(dataclasses.astuple(obj)) == len(names)
    copy = dataclasses.replace(obj)
    assert copy == obj and copy is not obj
    first = names[0]
    other = dataclasses.replace(obj, **{first: "changed"})
    assert other != obj and getattr(other, first) == "changed"
    # positional construction, as the dataclass's __init__
    assert cls(*[getattr(obj, n) for n in names]) == obj
    with pytest.raises(TypeError):
        cls()
    # equal by value, unhashable (eq without frozen)
    assert obj == SAMPLES[name]() and not (obj != SAMPLES[name]())
    assert obj != 1
    with pytest.raises(TypeError):
        hash(obj)
    # repr: Name(field=repr(value), ...)
    assert repr(obj) == f"{name}(" + ", ".join(f"{n}={getattr(obj, n)!r}" for n in names) + ")"
    # mutable fields, and an instance __dict__ for other attributes
    setattr(obj, first, "x")
    assert getattr(obj, first) == "x"
    obj.note = 1  # type: ignore[attr-defined]
    assert obj.__dict__ == {"note": 1}
    # pickling, with the extra attribute
    back = pickle.loads(pickle.dumps(obj))
    assert back == obj and back.__dict__ == {"note": 1} and type(back) is cls


def test_result_weakref_and_cycle() -> None:
    import weakref
    obj = pycares.ARecordData(addr="192.0.2.1")
    ref = weakref.ref(obj)
    obj.me = obj  # type: ignore[attr-defined]
    del obj
    gc.collect()
    assert ref() is None


# -- pycares 4 methods gone -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["gethostbyname", "getsock", "destroy", "query_dns", "search_dns"])
def test_pycares4_methods_are_absent(server: FaultServer, name: str) -> None:
    with channel(server) as ch:
        assert not hasattr(ch, name)
        assert not hasattr(pycares.Channel, name)
        with pytest.raises(AttributeError, match="pycares 5"):
            getattr(ch, name)


# -- the implicit event thread -------------------------------------------------------------------

def test_event_thread_without_sock_state_cb(server: FaultServer) -> None:
    calls = Calls()
    with channel(server) as ch:
        assert ch.event_thread is True
        ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb("q"))
        assert calls.wait("q")  # nobody drives the channel: its own thread does
    (_, errno, thread), = calls.got["q"]
    assert errno is None and thread != threading.get_ident()


def test_sock_state_cb_means_no_event_thread(server: FaultServer) -> None:
    states: List[Tuple[int, bool, bool]] = []
    calls = Calls()
    with channel(server, sock_state_cb=lambda fd, r, w: states.append((fd, r, w))) as ch:
        assert ch.event_thread is False
        ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb("q"))
        assert states and states[0][1] is True
        assert not calls.wait("q", timeout=0.3)  # nobody drives it
        import select
        deadline = time.monotonic() + 5
        while "q" not in calls.got and time.monotonic() < deadline:
            fds = [fd for fd, r, _ in states if r]
            ready, _, _ = select.select(fds[-1:], [], [], 0.1)
            ch.process_fd(ready[0] if ready else pycares.ARES_SOCKET_BAD, pycares.ARES_SOCKET_BAD)
    (_, errno, thread), = calls.got["q"]
    assert errno is None and thread == threading.get_ident()


def test_sock_state_cb_not_callable() -> None:
    with pytest.raises(TypeError):
        pycares.Channel(sock_state_cb=42, resolvconf_path=empty_resolv_conf())  # type: ignore[arg-type]


# -- wait() ---------------------------------------------------------------------------------------

def test_wait_idle_is_true(server: FaultServer) -> None:
    with channel(server) as ch:
        assert ch.wait() is True
        assert ch.wait(0) is True
        assert ch.wait(0.5) is True


def test_wait_after_answers(server: FaultServer) -> None:
    calls = Calls()
    with channel(server) as ch:
        for i in range(5):
            ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb(f"q{i}"))
        assert ch.wait(5.0) is True
        assert sorted(calls.got) == [f"q{i}" for i in range(5)]


def test_wait_times_out_on_a_silent_server() -> None:
    calls = Calls()
    with FaultServer(mode="drop") as silent:
        with channel(silent, timeout=5.0) as ch:
            ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb("q"))
            t0 = time.monotonic()
            assert ch.wait(0.3) is False
            assert 0.25 <= time.monotonic() - t0 < 2.0
            assert calls.got == {}
    assert [e for _, e, _ in calls.got["q"]] == [ECANCELLED]  # close() ended it


def test_wait_inside_a_callback_with_pending_queries_raises(server: FaultServer) -> None:
    calls = Calls()
    seen: List[Any] = []
    with channel(server, timeout=2.0) as ch:
        def first(result: Any, errno: Any) -> None:
            try:
                seen.append(ch.wait(5.0))
            except RuntimeError as exc:
                seen.append(exc)
            calls.cb("q1")(result, errno)
        ch.query("drop.test", pycares.QUERY_TYPE_A, callback=calls.cb("q2"))
        ch.query("a.test", pycares.QUERY_TYPE_A, callback=first)
        assert calls.wait("q1")
    assert len(seen) == 1 and isinstance(seen[0], RuntimeError), seen


def test_wait_on_a_closed_channel_raises(server: FaultServer) -> None:
    ch = channel(server)
    ch.close()
    with pytest.raises(RuntimeError):
        ch.wait(0.1)


def test_wait_bad_timeout(server: FaultServer) -> None:
    with channel(server) as ch:
        with pytest.raises(TypeError):
            ch.wait("1")  # type: ignore[arg-type]


# -- servers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("opts, expected", [
    ({"servers": ["127.0.0.1"], "udp_port": None, "tcp_port": None}, ["127.0.0.1:53"]),
    ({"servers": ["127.0.0.1"], "udp_port": 5353, "tcp_port": 5353}, ["127.0.0.1:5353"]),
    ({"servers": ["127.0.0.1"], "udp_port": 5300, "tcp_port": None}, ["dns://127.0.0.1:5300?tcpport=53"]),
    ({"servers": ["127.0.0.1"], "udp_port": 5300, "tcp_port": 5301}, ["dns://127.0.0.1:5300?tcpport=5301"]),
    ({"servers": ["::1"], "udp_port": None, "tcp_port": None}, ["[::1]:53"]),
    ({"servers": ["::1"], "udp_port": 5300, "tcp_port": 5301}, ["dns://[::1]:5300?tcpport=5301"]),
    ({"servers": ["127.0.0.1:5353", "[::1]:5354"], "udp_port": None, "tcp_port": None},
     ["127.0.0.1:5353", "[::1]:5354"]),
    ({"servers": ["dns://127.0.0.1:5300?tcpport=5301"], "udp_port": None, "tcp_port": None},
     ["dns://127.0.0.1:5300?tcpport=5301"]),
    ({"servers": ["dns://[::1]:5353"], "udp_port": None, "tcp_port": None}, ["[::1]:5353"]),
    ({"servers": ["dns://127.0.0.1"], "udp_port": None, "tcp_port": None}, ["127.0.0.1:53"]),
], ids=["default-ports", "same-ports", "udp-only", "different-ports", "ipv6", "ipv6-different-ports",
        "with-ports", "uri-tcpport", "uri-ipv6", "uri-no-port"])
def test_servers_format(opts: Dict[str, Any], expected: List[str]) -> None:
    with pycares.Channel(resolvconf_path=empty_resolv_conf(), **opts) as ch:
        assert ch.servers == expected
        ch.servers = list(ch.servers)  # what the getter gives, the setter takes
        assert ch.servers == expected


def test_servers_setter_uri_is_used(server: FaultServer) -> None:
    calls = Calls()
    with channel(server, udp_port=None, tcp_port=None) as ch:
        ch.servers = [f"dns://127.0.0.1:{server.port}?tcpport={server.port}"]
        assert ch.servers == [f"127.0.0.1:{server.port}"]
        ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb("q"))
        assert calls.wait("q")
    assert calls.got["q"][0][1] is None


@pytest.mark.parametrize("bad", ["not-an-ip", "dns://127.0.0.1:53?foo=1", "dns://127.0.0.1:53?tcpport=0",
                                 "dns://127.0.0.1:53?tcpport=", "dns://", "dns://localhost"])
def test_servers_setter_bad(bad: str) -> None:
    with pycares.Channel(resolvconf_path=empty_resolv_conf(), servers=["127.0.0.1"]) as ch:
        with pytest.raises(pycares.AresError) as info:
            ch.servers = [bad]
        assert info.value.args[0] == pycares.errno.ARES_EBADSTR
        assert ch.servers == ["127.0.0.1:53"]


def test_servers_empty() -> None:
    with pycares.Channel(resolvconf_path=empty_resolv_conf(), servers=["127.0.0.1"]) as ch:
        ch.servers = []
        assert ch.servers == []


# -- exactly one callback per request ------------------------------------------------------------

@pytest.mark.parametrize("mode", ["thread", "sock"])
def test_close_with_pending_queries_calls_back_once(mode: str) -> None:
    calls = Calls()
    with FaultServer(mode="drop") as silent:
        opts: Dict[str, Any] = {"timeout": 5.0}
        if mode == "sock":
            opts["sock_state_cb"] = lambda fd, r, w: None
        ch = channel(silent, **opts)
        ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb("query"))
        ch.search("a.test", pycares.QUERY_TYPE_MX, callback=calls.cb("search"))
        ch.getaddrinfo("a.test", 80, callback=calls.cb("getaddrinfo"))
        ch.gethostbyaddr("192.0.2.1", callback=calls.cb("gethostbyaddr"))
        ch.getnameinfo(("192.0.2.1", 80), pycares.ARES_NI_NAMEREQD, callback=calls.cb("getnameinfo"))
        ch.close()
        # every callback ran, inside close(), before it returned
        assert sorted(calls.got) == ["getaddrinfo", "gethostbyaddr", "getnameinfo", "query", "search"]
        ch.close()
        time.sleep(0.2)
    assert all(len(v) == 1 and v[0][:2] == (None, ECANCELLED) for v in calls.got.values()), calls.got
    with pytest.raises(RuntimeError):
        ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb("late"))
    assert "late" not in calls.got


def test_dropped_channel_calls_back_once() -> None:
    calls = Calls()
    with FaultServer(mode="drop") as silent:
        ch = channel(silent, timeout=5.0)
        for i in range(3):
            ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb(f"q{i}"))
        del ch
        gc.collect()
        assert calls.wait("q0", "q1", "q2", timeout=5.0)
        time.sleep(0.1)
    assert all(len(v) == 1 and v[0][:2] == (None, ECANCELLED) for v in calls.got.values()), calls.got


def test_close_from_a_callback(server: FaultServer) -> None:
    calls = Calls()
    ch = channel(server, timeout=5.0)

    def first(result: Any, errno: Any) -> None:
        calls.cb("q1")(result, errno)
        ch.close()
    ch.query("drop.test", pycares.QUERY_TYPE_A, callback=calls.cb("q2"))
    ch.query("a.test", pycares.QUERY_TYPE_A, callback=first)
    assert calls.wait("q1", "q2")
    time.sleep(0.1)
    assert [e for _, e, _ in calls.got["q1"]] == [None]
    assert [e for _, e, _ in calls.got["q2"]] == [ECANCELLED]


def test_cancel_with_pending_queries(server: FaultServer) -> None:
    calls = Calls()
    with channel(server, timeout=5.0) as ch:
        ch.query("drop.test", pycares.QUERY_TYPE_A, callback=calls.cb("q1"))
        ch.getaddrinfo("drop.test", None, callback=calls.cb("q2"))
        ch.cancel()
        assert calls.wait("q1", "q2")
        ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb("q3"))
        assert calls.wait("q3")
    assert [e for _, e, _ in calls.got["q1"] + calls.got["q2"]] == [ECANCELLED, ECANCELLED]
    assert [e for _, e, _ in calls.got["q3"]] == [None]


def test_exception_in_callback_goes_to_unraisablehook(server: FaultServer) -> None:
    import sys
    seen: List[Any] = []
    saved = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append(u.exc_type)
    calls = Calls()
    try:
        with channel(server) as ch:
            def boom(result: Any, errno: Any) -> None:
                raise ValueError("boom")
            ch.query("a.test", pycares.QUERY_TYPE_A, callback=boom)
            ch.query("a.test", pycares.QUERY_TYPE_A, callback=calls.cb("q"))
            assert calls.wait("q")
            assert ch.wait(2.0)
    finally:
        sys.unraisablehook = saved
    assert seen == [ValueError]


def test_module_names() -> None:
    assert pycares.errno.ARES_SUCCESS == 0
    assert pycares.utils.parse_name("a.test") == b"a.test"
    assert not hasattr(pycares, "gethostbyname")
    assert {"DNSResult", "DNSRecord", "Channel", "AresError", "errno", "utils"} <= set(dir(pycares))
    assert pycares.QUERY_TYPE_HTTPS == 65 and pycares.QUERY_CLASS_IN == 1


def test_v5_and_v4_faces_share_nothing_mutable() -> None:
    import pycares_ng
    assert pycares.Channel is not pycares_ng.Channel
    assert issubclass(pycares.Channel, pycares_ng._core.Channel)
    a4: Optional[Any] = pycares_ng.ares_query_a_result
    assert not hasattr(a4, "__dataclass_fields__")


@pytest.mark.parametrize("name, errno", [("nosuch.example.test", pycares.errno.ARES_ENOTFOUND),
                                         ("www.example.test", None)])
def test_a_repeated_question_does_not_raise(dns_server: Any, name: str, errno: Optional[int]) -> None:
    """Only a request that cannot be made raises; an answer from c-ares 1.34's query cache (inside
    the call, NXDOMAIN included) is a callback like any other."""
    calls = Calls()
    with pycares.Channel(servers=[dns_server.address], resolvconf_path=empty_resolv_conf(), lookups="b") as ch:
        for tag in ("q1", "q2"):
            ch.query(name, pycares.QUERY_TYPE_A, callback=calls.cb(tag))
            assert calls.wait(tag)
    assert [calls.got[t][0][1] for t in ("q1", "q2")] == [errno, errno]


def test_types_beyond_pycares5_only_when_asked_for(server: FaultServer) -> None:
    """pycares 5.2.1 leaves records it has no class for out of a DNSResult; so does pycares_ng.v5,
    except when the question was for one of its further types (SVCB, DS, DNSKEY, SSHFP)."""
    server.add_record("mixed.test", "A", "192.0.2.80", ttl=61)
    server.add_record("mixed.test", 64, b"\x00\x01\x00", ttl=65)  # SVCB 1 .
    server.add_record("mixed.test", 43, b"\x30\x39\x0d\x02" + b"d" * 32, ttl=64)  # DS
    server.add_record("mixed.test", 13, b"\x03cpu\x02os", ttl=62)  # HINFO: no class anywhere
    calls = Calls()
    with channel(server) as ch:
        ch.query("mixed.test", pycares.QUERY_TYPE_ANY, callback=calls.cb("any"))
        ch.query("mixed.test", pycares.QUERY_TYPE_SVCB, callback=calls.cb("svcb"))
        ch.query("mixed.test", pycares.QUERY_TYPE_DS, callback=calls.cb("ds"))
        assert calls.wait("any", "svcb", "ds")
    assert [type(r.data).__name__ for r in calls.got["any"][0][0].answer] == ["ARecordData"]
    assert [r.data for r in calls.got["svcb"][0][0].answer] == [
        pycares.SVCBRecordData(priority=1, target=calls.got["svcb"][0][0].answer[0].data.target, params=[])]
    assert [(r.type, r.data.key_tag) for r in calls.got["ds"][0][0].answer] == [(43, 12345)]
