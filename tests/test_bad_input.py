"""Bad input to every Channel method and constructor option is refused before anything is sent.

Each case asserts the exception type and that the message names the problem; then the same channel
still answers a valid query, the refused request's callback is never called, and the server saw
nothing but that valid query.
"""
from __future__ import annotations

import time

import pytest

import pycares_ng
from pycares_ng import Channel

from helpers import Collector, empty_resolv_conf, make_channel, resolve, run_until

A = pycares_ng.QUERY_TYPE_A


CALLBACK_EBADNAME = object()  # the case's request is accepted and its callback gets ARES_EBADNAME


def new_channel(**kw):
    """The constructor, isolated from /etc/resolv.conf."""
    kw.setdefault("resolvconf_path", empty_resolv_conf())
    return Channel(**kw)


def _set_servers(ch, value):
    ch.servers = value


def _del_servers(ch):
    del ch.servers


# (call(channel, callback), exception type, regex the message must match)
CASES = [
    # ---- constructor: wrong types
    pytest.param(lambda ch, cb: new_channel(flags="1"), TypeError, r"flags must be an int, not str", id="flags-str"),
    pytest.param(lambda ch, cb: new_channel(timeout="1"), TypeError, r"timeout must be a number of seconds, not str",
                 id="timeout-str"),
    pytest.param(lambda ch, cb: new_channel(tries=1.5), TypeError, r"tries must be an int, not float",
                 id="tries-float"),
    pytest.param(lambda ch, cb: new_channel(ndots="1"), TypeError, r"ndots must be an int", id="ndots-str"),
    pytest.param(lambda ch, cb: new_channel(udp_port="53"), TypeError, r"udp_port must be an int", id="udp_port-str"),
    pytest.param(lambda ch, cb: new_channel(servers="127.0.0.1"), ValueError,
                 r"servers must be an iterable of addresses, not a single string", id="servers-plain-str"),
    pytest.param(lambda ch, cb: new_channel(servers=b"127.0.0.1"), TypeError,
                 r"servers must be an iterable of addresses, not a single string", id="servers-plain-bytes"),
    pytest.param(lambda ch, cb: new_channel(servers=53), TypeError, r"servers must be an iterable", id="servers-int"),
    pytest.param(lambda ch, cb: new_channel(servers=[53]), TypeError, r"server address must be str or bytes, not int",
                 id="servers-item-int"),
    pytest.param(lambda ch, cb: new_channel(domains="example.test"), TypeError,
                 r"domains must be an iterable of names, not a single string", id="domains-plain-str"),
    pytest.param(lambda ch, cb: new_channel(domains=[1]), TypeError, r"search domain must be str or bytes, not int",
                 id="domains-item-int"),
    pytest.param(lambda ch, cb: new_channel(lookups=1), TypeError, r"lookups must be str or bytes, not int",
                 id="lookups-int"),
    pytest.param(lambda ch, cb: new_channel(sock_state_cb=42), TypeError, r"sock_state_cb must be callable",
                 id="sock_state_cb-not-callable"),
    pytest.param(lambda ch, cb: new_channel(local_ip=2130706433), TypeError, r"local_ip must be str or bytes, not int",
                 id="local_ip-int"),
    pytest.param(lambda ch, cb: new_channel(local_dev=1), TypeError, r"local_dev must be str or bytes, not int",
                 id="local_dev-int"),
    pytest.param(lambda ch, cb: new_channel(resolvconf_path=5), TypeError, r"str, bytes or os\.PathLike",
                 id="resolvconf_path-int"),
    pytest.param(lambda ch, cb: new_channel(socket_send_buffer_size="big"), TypeError,
                 r"socket_send_buffer_size must be an int", id="sndbuf-str"),
    pytest.param(lambda ch, cb: new_channel(bogus=1), TypeError, r"bogus", id="unknown-keyword"),
    # ---- constructor: bad values
    # pycares 4.11's classes: AresError (libcares refuses negative flags), OverflowError beyond a C type
    pytest.param(lambda ch, cb: new_channel(flags=-1), pycares_ng.AresError, r"flags must be a combination",
                 id="flags-negative"),
    pytest.param(lambda ch, cb: new_channel(flags=2 ** 40), OverflowError, r"flags must be between",
                 id="flags-huge"),
    pytest.param(lambda ch, cb: new_channel(timeout=-1), ValueError, r"timeout must be a non-negative number",
                 id="timeout-negative"),
    pytest.param(lambda ch, cb: new_channel(timeout=float("nan")), ValueError, r"timeout must be a non-negative number",
                 id="timeout-nan"),
    pytest.param(lambda ch, cb: new_channel(timeout=float("inf")), ValueError, r"timeout must be a non-negative number",
                 id="timeout-inf"),
    pytest.param(lambda ch, cb: new_channel(tries=0), ValueError, r"tries must be between 1 and", id="tries-zero"),
    pytest.param(lambda ch, cb: new_channel(ndots=-1), ValueError, r"ndots must be between 0 and", id="ndots-negative"),
    pytest.param(lambda ch, cb: new_channel(udp_port=0), ValueError, r"udp_port must be between 1 and 65535",
                 id="udp_port-0"),
    pytest.param(lambda ch, cb: new_channel(udp_port=70000), OverflowError, r"udp_port must be between 1 and 65535",
                 id="udp_port-70000"),
    pytest.param(lambda ch, cb: new_channel(tcp_port=0), ValueError, r"tcp_port must be between 1 and 65535",
                 id="tcp_port-0"),
    pytest.param(lambda ch, cb: new_channel(tcp_port=70000), OverflowError, r"tcp_port must be between 1 and 65535",
                 id="tcp_port-70000"),
    pytest.param(lambda ch, cb: new_channel(socket_receive_buffer_size=0), ValueError,
                 r"socket_receive_buffer_size must be between 1", id="rcvbuf-zero"),
    pytest.param(lambda ch, cb: new_channel(servers=["256.0.0.1"]), ValueError,
                 r"invalid server address '256\.0\.0\.1'",
                 id="servers-bad-ipv4"),
    pytest.param(lambda ch, cb: new_channel(servers=["dns.example"]), ValueError, r"invalid server address",
                 id="servers-hostname"),
    pytest.param(lambda ch, cb: new_channel(servers=["127.0.0.1:0"]), ValueError, r"invalid server address",
                 id="servers-port-0"),
    pytest.param(lambda ch, cb: new_channel(servers=["127.0.0.1:70000"]), ValueError, r"invalid server address",
                 id="servers-port-70000"),
    pytest.param(lambda ch, cb: new_channel(servers=["[::1]:x"]), ValueError, r"invalid server address",
                 id="servers-ipv6-bad-port"),
    pytest.param(lambda ch, cb: new_channel(servers=["[::1"]), ValueError, r"invalid server address",
                 id="servers-ipv6-unclosed"),
    pytest.param(lambda ch, cb: new_channel(servers=["127.0.0.1\0"]), ValueError, r"NUL", id="servers-nul"),
    pytest.param(lambda ch, cb: new_channel(domains=["a..b"]), ValueError, r"search domain has an empty label",
                 id="domains-empty-label"),
    pytest.param(lambda ch, cb: new_channel(domains=["x" * 64 + ".test"]), ValueError,
                 r"search domain has a label longer than 63", id="domains-long-label"),
    pytest.param(lambda ch, cb: new_channel(lookups="x"), ValueError, r"lookups must be", id="lookups-x"),
    pytest.param(lambda ch, cb: new_channel(local_ip="1.2.3"), ValueError, r"invalid IP address for local_ip",
                 id="local_ip-invalid"),
    pytest.param(lambda ch, cb: new_channel(local_ip="localhost"), ValueError, r"invalid IP address for local_ip",
                 id="local_ip-hostname"),
    pytest.param(lambda ch, cb: new_channel(local_dev="x" * 16), ValueError,
                 r"local_dev must be a network interface name",
                 id="local_dev-too-long"),
    pytest.param(lambda ch, cb: new_channel(local_dev=""), ValueError, r"local_dev must be a network interface name",
                 id="local_dev-empty"),
    pytest.param(lambda ch, cb: new_channel(resolvconf_path="a\0b"), ValueError, r"null", id="resolvconf_path-nul"),
    pytest.param(lambda ch, cb: new_channel(event_thread=True, sock_state_cb=print), RuntimeError,
                 r"sock_state_cb and event_thread", id="event_thread-with-sock_state_cb"),
    # ---- query / search / query_dns: names
    pytest.param(lambda ch, cb: ch.query(123, A, cb), TypeError, r"name must be str or bytes, not int",
                 id="query-name-int"),
    pytest.param(lambda ch, cb: ch.query(None, A, cb), TypeError, r"name must be str or bytes", id="query-name-none"),
    pytest.param(lambda ch, cb: ch.query("a\0b.test", A, cb), ValueError, r"name contains a NUL", id="query-name-nul"),
    pytest.param(lambda ch, cb: ch.query(b"a\0b.test", A, cb), ValueError, r"name contains a NUL",
                 id="query-name-nul-bytes"),
    pytest.param(lambda ch, cb: ch.query(".".join(["a" * 63] * 4), A, cb), CALLBACK_EBADNAME,
                 r"name is longer than 253 octets", id="query-name-255-octets"),
    pytest.param(lambda ch, cb: ch.query("ab." * 84 + "ab", A, cb), CALLBACK_EBADNAME, r"name is longer than 253 octets",
                 id="query-name-254-chars"),
    pytest.param(lambda ch, cb: ch.query("a." * 127 + "a", A, cb), CALLBACK_EBADNAME, r"name is longer than 253 octets",
                 id="query-name-255-chars-short-labels"),
    pytest.param(lambda ch, cb: ch.query("x" * 64 + ".test", A, cb), CALLBACK_EBADNAME,
                 r"name has a label longer than 63 octets", id="query-label-64"),
    pytest.param(lambda ch, cb: ch.query("a..b", A, cb), CALLBACK_EBADNAME, r"name has an empty label",
                 id="query-empty-label"),
    pytest.param(lambda ch, cb: ch.query(".a", A, cb), CALLBACK_EBADNAME, r"name has an empty label",
                 id="query-leading-dot"),
    pytest.param(lambda ch, cb: ch.query(".".join(["\u00e9t\u00e9"] * 40), A, cb), CALLBACK_EBADNAME,
                 r"name is longer than 253 octets", id="query-long-unicode"),
    pytest.param(lambda ch, cb: ch.query("\u00e9" * 100 + ".test", A, cb), ValueError, r"not a valid IDNA name",
                 id="query-unicode-label-too-long"),
    pytest.param(lambda ch, cb: ch.search("a..b", A, cb), CALLBACK_EBADNAME, r"name has an empty label",
                 id="search-empty-label"),
    pytest.param(lambda ch, cb: ch.search(b"xy." * 100, A, cb), CALLBACK_EBADNAME, r"longer than 253 octets",
                 id="search-long-bytes"),
    pytest.param(lambda ch, cb: ch.query_dns("a\0", A, cb), ValueError, r"name contains a NUL",
                 id="query_dns-name-nul"),
    # ---- query types, classes, callbacks, arguments
    pytest.param(lambda ch, cb: ch.query("ok.test", 9999, cb), ValueError, r"invalid query type: 9999",
                 id="query-type-9999"),
    pytest.param(lambda ch, cb: ch.query("ok.test", -1, cb), ValueError, r"invalid query type: -1",
                 id="query-type-negative"),
    pytest.param(lambda ch, cb: ch.query("ok.test", 0, cb), ValueError, r"invalid query type: 0", id="query-type-0"),
    pytest.param(lambda ch, cb: ch.query("ok.test", 2 ** 70, cb), ValueError, r"query_type", id="query-type-huge"),
    # pycares 4 raises ValueError for anything that is not a known type or class
    pytest.param(lambda ch, cb: ch.query("ok.test", "A", cb), ValueError, r"invalid query type: 'A'",
                 id="query-type-str"),
    pytest.param(lambda ch, cb: ch.query("ok.test", None, cb), ValueError, r"invalid query type: None",
                 id="query-type-none"),
    pytest.param(lambda ch, cb: ch.search("ok", 9999, cb), ValueError, r"invalid query type: 9999",
                 id="search-type-9999"),
    pytest.param(lambda ch, cb: ch.query_dns("ok.test", 0, cb), ValueError, r"invalid query type: 0",
                 id="query_dns-type-0"),
    pytest.param(lambda ch, cb: ch.query_dns("ok.test", 65536, cb), ValueError, r"invalid query type: 65536",
                 id="query_dns-type-65536"),
    pytest.param(lambda ch, cb: ch.query("ok.test", A, cb, query_class=99), ValueError, r"invalid query class: 99",
                 id="query-class-99"),
    pytest.param(lambda ch, cb: ch.query("ok.test", A, cb, 2), ValueError, r"invalid query class: 2",
                 id="query-class-2-positional"),
    pytest.param(lambda ch, cb: ch.query("ok.test", A, cb, query_class="INVALIDTYPE"), ValueError,
                 r"invalid query class: 'INVALIDTYPE'",
                 id="query-class-str"),
    pytest.param(lambda ch, cb: ch.query("ok.test", A, 42), TypeError, r"callback must be callable",
                 id="query-callback-int"),
    pytest.param(lambda ch, cb: ch.search("ok", A, None), TypeError, r"callback must be callable",
                 id="search-callback-none"),
    pytest.param(lambda ch, cb: ch.query("ok.test", A), TypeError, r"missing required argument 'callback'",
                 id="query-missing-callback"),
    pytest.param(lambda ch, cb: ch.query("ok.test", A, cb, 1, 2), TypeError, r"at most 4 arguments",
                 id="query-too-many-args"),
    pytest.param(lambda ch, cb: ch.query("ok.test", A, cb, klass=1), TypeError, r"unexpected keyword argument 'klass'",
                 id="query-unknown-keyword"),
    pytest.param(lambda ch, cb: ch.query("ok.test", A, cb, query_type=A), TypeError,
                 r"multiple values for argument 'query_type'", id="query-duplicate-argument"),
    # ---- I/O driving and timeout
    pytest.param(lambda ch, cb: ch.timeout(-1), ValueError, r"timeout must be a non-negative number",
                 id="timeout-method-negative"),
    pytest.param(lambda ch, cb: ch.timeout("1"), TypeError, r"timeout must be a number of seconds",
                 id="timeout-method-str"),
    pytest.param(lambda ch, cb: ch.timeout(1, 2), TypeError, r"at most 1 argument", id="timeout-method-two-args"),
    pytest.param(lambda ch, cb: ch.process_fd("a", -1), TypeError, r"read_fd must be an int, not str",
                 id="process_fd-str"),
    pytest.param(lambda ch, cb: ch.process_fd(-1, None), TypeError, r"write_fd must be an int",
                 id="process_fd-write-none"),
    pytest.param(lambda ch, cb: ch.process_fd(-2, -1), ValueError, r"read_fd must be between -1 and",
                 id="process_fd-minus-2"),
    pytest.param(lambda ch, cb: ch.process_fd(-1), TypeError, r"exactly 2 arguments", id="process_fd-one-arg"),
    pytest.param(lambda ch, cb: ch.process_read_fd(None), TypeError, r"read_fd must be an int",
                 id="process_read_fd-none"),
    pytest.param(lambda ch, cb: ch.process_write_fd(2 ** 40), ValueError, r"write_fd must be between",
                 id="process_write_fd-huge"),
    # ---- servers property
    pytest.param(lambda ch, cb: _set_servers(ch, "127.0.0.1"), ValueError,
                 r"servers must be an iterable of addresses, not a single string", id="set-servers-plain-str"),
    pytest.param(lambda ch, cb: _set_servers(ch, ["127.0.0.1", "not-an-ip"]), ValueError,
                 r"invalid server address 'not-an-ip'", id="set-servers-invalid"),
    pytest.param(lambda ch, cb: _set_servers(ch, [None]), TypeError, r"server address must be str or bytes",
                 id="set-servers-none-item"),
    pytest.param(lambda ch, cb: _set_servers(ch, 42), TypeError, r"servers must be an iterable", id="set-servers-int"),
    pytest.param(lambda ch, cb: _set_servers(ch, ["1.2.3.4:99999"]), ValueError, r"invalid server address",
                 id="set-servers-port-too-big"),
    pytest.param(lambda ch, cb: _del_servers(ch), AttributeError, r"servers cannot be deleted", id="del-servers"),
    # ---- local binding
    pytest.param(lambda ch, cb: ch.set_local_ip("999.1.1.1"), ValueError, r"invalid IP address for local_ip",
                 id="set_local_ip-invalid"),
    pytest.param(lambda ch, cb: ch.set_local_ip("::g"), ValueError, r"invalid IP address for local_ip",
                 id="set_local_ip-bad-ipv6"),
    pytest.param(lambda ch, cb: ch.set_local_ip(None), TypeError, r"local_ip must be str or bytes",
                 id="set_local_ip-none"),
    pytest.param(lambda ch, cb: ch.set_local_dev(""), ValueError, r"local_dev must be a network interface name",
                 id="set_local_dev-empty"),
    pytest.param(lambda ch, cb: ch.set_local_dev("y" * 16), ValueError, r"local_dev must be a network interface name",
                 id="set_local_dev-too-long"),
    pytest.param(lambda ch, cb: ch.set_local_dev(5), TypeError, r"local_dev must be str or bytes",
                 id="set_local_dev-int"),
]


@pytest.mark.parametrize("call,exc,match", CASES)
def test_bad_input(fault_server, call, exc, match):
    ch = make_channel(fault_server.address)
    servers_before = ch.servers
    c = Collector()
    if exc is CALLBACK_EBADNAME:
        # pycares 4 (and libcares) report a malformed name through the callback, not by raising
        call(ch, c.cb)
        assert c.calls == [(None, pycares_ng.errno.ARES_EBADNAME)]
        c.calls.clear()
    else:
        with pytest.raises(exc, match=match):
            call(ch, c.cb)
    # the same channel still works, nothing was changed or sent for the refused call
    assert ch.servers == servers_before
    result, err = resolve(ch, "after-bad-input.test", A)
    assert err is None
    assert [r.host for r in result] == ["192.0.2.1"]
    assert [q.qname for q in fault_server.queries] == ["after-bad-input.test"]
    # a refused request never gets a callback, even after more processing
    ch.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)
    assert c.calls == []
    ch.close()
    assert c.calls == []


def test_case_table_is_big_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("make_name", [
    pytest.param(lambda: "a" * (1 << 20), id="ascii-str"),
    pytest.param(lambda: b"a" * (1 << 20), id="bytes"),
    pytest.param(lambda: "\u00e9" * (1 << 20), id="non-ascii-str"),
    pytest.param(lambda: ".".join(["b" * 63] * ((1 << 20) // 64)), id="many-labels"),
])
@pytest.mark.parametrize("method", ["query", "search", "query_dns"])
def test_one_megabyte_name_refused_early(fault_server, make_name, method):
    """A 1 MB name is answered ARES_EBADNAME before any work proportional to it (IDNA, copies):
    well under 100 ms."""
    ch = make_channel(fault_server.address)
    name = make_name()
    c = Collector()
    start = time.perf_counter()
    getattr(ch, method)(name, A, c.cb)   # reported through the callback, as pycares 4 does
    elapsed = time.perf_counter() - start
    assert elapsed < 0.1, elapsed
    assert c.calls == [(None, pycares_ng.errno.ARES_EBADNAME)]
    assert resolve(ch, "after-huge.test", A)[1] is None
    assert [q.qname for q in fault_server.queries] == ["after-huge.test"]


@pytest.mark.parametrize("name", ["a" * 63 + ".test", ".".join(["a" * 63] * 3) + "." + "a" * 61,
                                  ".".join(["a" * 63] * 3) + "." + "a" * 61 + "."])
def test_limits_themselves_are_accepted(fault_server, name):
    """63-octet labels and 253-character names (255 octets on the wire) are valid."""
    ch = make_channel(fault_server.address)
    result, err = resolve(ch, name, A)
    assert err is None
    assert fault_server.queries[-1].qname == name.rstrip(".")


# ---- a closed channel --------------------------------------------------------------------------

CLOSED_CALLS = [
    pytest.param(lambda ch, cb: ch.query("ok.test", A, cb), id="query"),
    pytest.param(lambda ch, cb: ch.search("ok", A, cb), id="search"),
    pytest.param(lambda ch, cb: ch.query_dns("ok.test", A, cb), id="query_dns"),
    pytest.param(lambda ch, cb: ch.getsock(), id="getsock"),
    pytest.param(lambda ch, cb: ch.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD), id="process_fd"),
    pytest.param(lambda ch, cb: ch.process_read_fd(pycares_ng.ARES_SOCKET_BAD), id="process_read_fd"),
    pytest.param(lambda ch, cb: ch.process_write_fd(pycares_ng.ARES_SOCKET_BAD), id="process_write_fd"),
    pytest.param(lambda ch, cb: ch.timeout(), id="timeout"),
    pytest.param(lambda ch, cb: ch.timeout(1.0), id="timeout-with-t"),
    pytest.param(lambda ch, cb: ch.servers, id="servers-get"),
    pytest.param(lambda ch, cb: _set_servers(ch, ["127.0.0.1"]), id="servers-set"),
    pytest.param(lambda ch, cb: ch.cancel(), id="cancel"),
    pytest.param(lambda ch, cb: ch.reinit(), id="reinit"),
    pytest.param(lambda ch, cb: ch.set_local_ip("127.0.0.1"), id="set_local_ip"),
    pytest.param(lambda ch, cb: ch.set_local_dev("lo"), id="set_local_dev"),
    pytest.param(lambda ch, cb: ch.__enter__(), id="enter"),
]


@pytest.mark.parametrize("call", CLOSED_CALLS)
@pytest.mark.parametrize("closer", ["close", "destroy"])
def test_closed_channel_raises(fault_server, call, closer):
    ch = make_channel(fault_server.address)
    getattr(ch, closer)()
    assert ch.closed is True
    c = Collector()
    with pytest.raises(RuntimeError, match=r"Channel is closed \(destroyed\)"):
        call(ch, c.cb)
    ch.close()
    ch.destroy()
    assert c.calls == []
    assert fault_server.queries == []


def test_uninitialized_channel_raises():
    """Channel.__new__ without __init__ (a subclass forgetting super().__init__) fails cleanly."""
    ch = Channel.__new__(Channel)
    c = Collector()
    with pytest.raises(RuntimeError, match=r"not initialized"):
        ch.query("ok.test", A, c.cb)
    with pytest.raises(RuntimeError, match=r"not initialized"):
        ch.getsock()
    with pytest.raises(RuntimeError, match=r"not initialized"):
        ch.servers
    assert ch.closed is False
    ch.close()  # harmless
    assert c.calls == []


def test_init_twice_refused(fault_server):
    ch = make_channel(fault_server.address)
    with pytest.raises(RuntimeError, match=r"already initialized"):
        ch.__init__(servers=["127.0.0.2"])
    assert ch.servers == [fault_server.address]
    assert resolve(ch, "init-twice.test", A)[1] is None


def test_failed_constructor_leaves_nothing_running(fault_server):
    """A refused constructor argument after valid ones (servers, sock_state_cb) keeps no state:
    the callback is never called and a fresh channel works."""
    events = []
    with pytest.raises(ValueError, match=r"invalid IP address for local_ip"):
        new_channel(servers=[fault_server.address], sock_state_cb=lambda *a: events.append(a), local_ip="nope")
    ch = make_channel(fault_server.address)
    assert resolve(ch, "after-failed-init.test", A)[1] is None
    assert events == []


def test_refused_requests_interleaved_with_accepted_ones(fault_server):
    """Refused requests interleaved with accepted ones: only the accepted ones are answered, once."""
    ch = make_channel(fault_server.address)
    good = Collector()
    bad = Collector()
    for i in range(10):
        ch.query(f"good{i}.test", A, good.cb)
        with pytest.raises(ValueError):
            ch.query(f"bad{i}\0.test", A, bad.cb)
        ch.query(f"bad{i}..test", A, bad.cb)  # accepted: ARES_EBADNAME through the callback
    assert run_until(ch, lambda: len(good) >= 10)
    assert len(good) == 10 and all(err is None for _, err in good.calls)
    assert bad.calls == [(None, pycares_ng.errno.ARES_EBADNAME)] * 10
    assert sorted(q.qname for q in fault_server.queries) == sorted(f"good{i}.test" for i in range(10))
