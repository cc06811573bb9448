"""Every Channel constructor option, observed through what a real server on loopback receives.

One test (or one small parametrized group) per option. The fault server records every query as
(qname, qtype, qclass, rd, edns, transport, client, id), so each test asserts what the client
actually sent, not only that the constructor accepted the value.

Two c-ares eras are supported (system 1.18.1 and 1.34.5). Where libcares itself behaves
differently, the test asserts the documented value for each era (see ``LEGACY_CARES``).
"""
from __future__ import annotations

import gc
import os
import socket
import sys
import threading
import time

import pytest

import pycares_ng
from pycares_ng import errno as ares_errno
from pycares_ng.testing import FaultServer

from dnsdata import ipv6_loopback_usable
from helpers import Collector, empty_resolv_conf, make_channel, resolve, run_until

A = pycares_ng.QUERY_TYPE_A
CARES = tuple(int(p) for p in pycares_ng.ARES_VERSION.split(".")[:3])
#: c-ares before 1.22: no EDNS by default, no ARES_FLAG_NO_DFLT_SVR / ARES_ENOSERVER, fixed
#: retry timeouts (timeout << round, no jitter, no 250 ms floor), round-robin rotation.
LEGACY_CARES = CARES < (1, 22, 0)
ARES_ENOSERVER = 26  # c-ares >= 1.22 "No DNS servers were configured"


def _sock_events():
    """A sock_state_cb that records (fd, readable, writable)."""
    events = []

    def cb(fd, readable, writable):
        events.append((fd, readable, writable))

    return events, cb


def _socket_of(fd):
    """A socket object on a duplicate of a libcares fd (the caller closes it)."""
    return socket.socket(fileno=os.dup(fd))


@pytest.fixture
def second_server():
    """Another fault server on 127.0.0.1 (its own port)."""
    with FaultServer() as server:
        yield server


# ---- ports ---------------------------------------------------------------------------------


def test_udp_port(fault_server, second_server):
    """servers=["127.0.0.1"] + udp_port reaches the fault server over UDP; tcp_port is not used."""
    ch = make_channel("127.0.0.1", udp_port=fault_server.port, tcp_port=second_server.port)
    assert ch.servers == ["127.0.0.1"]
    result, err = resolve(ch, "udp-port.test", A)
    assert err is None
    assert [r.host for r in result] == ["192.0.2.1"]
    assert [(q.qname, q.transport) for q in fault_server.queries] == [("udp-port.test", "udp")]
    assert second_server.queries == []


def test_tcp_port(fault_server, second_server):
    """With ARES_FLAG_USEVC the query goes over TCP to tcp_port, not to udp_port."""
    ch = make_channel("127.0.0.1", tcp_port=fault_server.port, udp_port=second_server.port,
                      flags=pycares_ng.ARES_FLAG_USEVC)
    result, err = resolve(ch, "tcp-port.test", A)
    assert err is None
    assert [r.host for r in result] == ["192.0.2.1"]
    assert [(q.qname, q.transport) for q in fault_server.queries] == [("tcp-port.test", "tcp")]
    assert second_server.queries == []


def test_truncated_udp_reply_retries_on_tcp_port(fault_server, second_server):
    """A truncated UDP answer from udp_port is retried over TCP on tcp_port."""
    second_server.mode = "truncate"  # UDP: TC bit; TCP would answer, but must not be asked
    fault_server.mode = "answer"
    ch = make_channel("127.0.0.1", udp_port=second_server.port, tcp_port=fault_server.port)
    result, err = resolve(ch, "tc.test", A)
    assert err is None and [r.host for r in result] == ["192.0.2.1"]
    assert [q.transport for q in second_server.queries] == ["udp"]
    assert [q.transport for q in fault_server.queries] == ["tcp"]


# ---- timeout and tries ---------------------------------------------------------------------


def _time_query(ch, name):
    c = Collector()
    start = time.perf_counter()
    ch.query(name, A, c.cb)
    assert run_until(ch, lambda: len(c) >= 1, 15.0)
    return time.perf_counter() - start, c.one


@pytest.mark.parametrize("timeout", [0.3, 0.8])
def test_timeout(fault_server, timeout):
    """A silent server: ARES_ETIMEOUT after `timeout` seconds (one try)."""
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address, timeout=timeout, tries=1)
    elapsed, (result, err) = _time_query(ch, "timeout.test")
    assert (result, err) == (None, pycares_ng.errno.ARES_ETIMEOUT)
    assert len(fault_server.queries) == 1
    assert timeout - 0.02 <= elapsed <= timeout + 0.4, elapsed


@pytest.mark.parametrize("tries", [1, 2, 3])
def test_tries(fault_server, tries):
    """A silent server: exactly `tries` queries reach it, then ARES_ETIMEOUT.

    c-ares doubles the timeout each round through the server list. 1.18: exactly
    T, 2T, 4T ... . 1.34: each retry is jittered into [0.5, 1] x the doubled value, but never
    below T (and T itself never below 250 ms, hence T = 0.25 here).
    """
    T = 0.25
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address, timeout=T, tries=tries)
    elapsed, (result, err) = _time_query(ch, "tries.test")
    assert (result, err) == (None, pycares_ng.errno.ARES_ETIMEOUT)
    assert fault_server.wait_for_queries(tries, 1.0)
    assert len(fault_server.queries) == tries
    upper = T * (2 ** tries - 1)
    if LEGACY_CARES:
        lower = upper
    else:
        lower = T + sum(max(T, T * 2 ** k / 2) for k in range(1, tries))
    assert lower >= tries * T - 1e-9  # never less than tries x timeout, in both eras
    assert lower - 0.03 <= elapsed <= upper + 0.4, (elapsed, lower, upper)


# ---- flags ---------------------------------------------------------------------------------


def test_flag_usevc(fault_server):
    """ARES_FLAG_USEVC: TCP; by default UDP."""
    ch = make_channel(fault_server.address)
    assert resolve(ch, "default.test", A)[1] is None
    ch = make_channel(fault_server.address, flags=pycares_ng.ARES_FLAG_USEVC)
    assert resolve(ch, "usevc.test", A)[1] is None
    assert [(q.qname, q.transport) for q in fault_server.queries] == [
        ("default.test", "udp"), ("usevc.test", "tcp")]


def test_flag_norecurse(fault_server):
    """ARES_FLAG_NORECURSE clears the RD bit, which is set by default."""
    ch = make_channel(fault_server.address)
    assert resolve(ch, "rd.test", A)[1] is None
    ch = make_channel(fault_server.address, flags=pycares_ng.ARES_FLAG_NORECURSE)
    assert resolve(ch, "nord.test", A)[1] is None
    assert [(q.qname, q.rd) for q in fault_server.queries] == [("rd.test", True), ("nord.test", False)]


def test_flag_edns(fault_server):
    """ARES_FLAG_EDNS adds an OPT record; flags=0 sends none.

    With flags left unset the libcares default applies: no EDNS before c-ares 1.22, EDNS
    since ("on by default if flags are otherwise not set").
    """
    for name, flags in [("unset.test", None), ("zero.test", 0), ("edns.test", pycares_ng.ARES_FLAG_EDNS)]:
        ch = make_channel(fault_server.address, flags=flags)
        assert resolve(ch, name, A)[1] is None
        ch.close()
    assert [(q.qname, q.edns) for q in fault_server.queries] == [
        ("unset.test", not LEGACY_CARES), ("zero.test", False), ("edns.test", True)]


def test_flag_igntc(fault_server):
    """A truncated UDP reply: retried over TCP by default; accepted as is with ARES_FLAG_IGNTC."""
    fault_server.mode = "truncate"
    ch = make_channel(fault_server.address)
    result, err = resolve(ch, "tc-default.test", A)
    assert err is None and [r.host for r in result] == ["192.0.2.1"]
    assert [q.transport for q in fault_server.queries] == ["udp", "tcp"]

    fault_server.queries.clear()
    ch = make_channel(fault_server.address, flags=pycares_ng.ARES_FLAG_IGNTC)
    result, err = resolve(ch, "tc-ignored.test", A)
    # the truncated reply itself (NOERROR, no answers) is the result: no data
    assert (result, err) == (None, pycares_ng.errno.ARES_ENODATA)
    assert [q.transport for q in fault_server.queries] == ["udp"]


def test_flag_nosearch(fault_server):
    """search(): domains are appended by default; ARES_FLAG_NOSEARCH asks only the name as is."""
    fault_server.mode = "nxdomain"
    ch = make_channel(fault_server.address, domains=["dom.test"])
    assert resolve(ch, "host", A, method="search") == (None, pycares_ng.errno.ARES_ENOTFOUND)
    assert [q.qname for q in fault_server.queries] == ["host.dom.test", "host"]

    fault_server.queries.clear()
    ch = make_channel(fault_server.address, domains=["dom.test"], flags=pycares_ng.ARES_FLAG_NOSEARCH)
    assert resolve(ch, "host", A, method="search") == (None, pycares_ng.errno.ARES_ENOTFOUND)
    assert [q.qname for q in fault_server.queries] == ["host"]


def test_flag_primary(fault_server, second_server):
    """Two servers, the first silent: by default the query fails over to the second;
    with ARES_FLAG_PRIMARY only the first is ever asked (ARES_ETIMEOUT)."""
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address, second_server.address, timeout=0.3)
    result, err = resolve(ch, "failover.test", A)
    assert err is None and [r.host for r in result] == ["192.0.2.1"]
    assert [q.qname for q in fault_server.queries] == ["failover.test"]
    assert [q.qname for q in second_server.queries] == ["failover.test"]

    fault_server.queries.clear()
    second_server.queries.clear()
    ch = make_channel(fault_server.address, second_server.address, timeout=0.3,
                      flags=pycares_ng.ARES_FLAG_PRIMARY)
    assert resolve(ch, "primary.test", A) == (None, pycares_ng.errno.ARES_ETIMEOUT)
    assert [q.qname for q in fault_server.queries] == ["primary.test"]
    assert second_server.queries == []


def test_flag_primary_with_servers_from_resolv_conf(tmp_path):
    """ARES_FLAG_PRIMARY with two nameservers from resolv.conf: only the first is kept."""
    with FaultServer(host="127.0.0.1", mode="drop") as first:
        with FaultServer(host="127.0.0.3", port=first.port) as second:
            conf = tmp_path / "resolv.conf"
            conf.write_text("nameserver 127.0.0.1\nnameserver 127.0.0.3\n")
            ch = pycares_ng.Channel(resolvconf_path=str(conf), udp_port=first.port, timeout=0.3, tries=1,
                                    flags=pycares_ng.ARES_FLAG_PRIMARY)
            assert ch.servers == ["127.0.0.1"]
            assert resolve(ch, "primary.test", A) == (None, pycares_ng.errno.ARES_ETIMEOUT)
            assert [q.qname for q in first.queries] == ["primary.test"]
            assert second.queries == []


def test_flag_stayopen(fault_server):
    """ARES_FLAG_STAYOPEN keeps the TCP connection: same client port for two queries and the socket
    still watched after the answer. Without it the connection is closed once idle."""
    ch = make_channel(fault_server.address, flags=pycares_ng.ARES_FLAG_USEVC)
    assert resolve(ch, "close1.test", A)[1] is None
    assert ch.getsock() == ([], [])
    assert resolve(ch, "close2.test", A)[1] is None
    ports = [q.client[1] for q in fault_server.queries]
    assert [q.transport for q in fault_server.queries] == ["tcp", "tcp"]
    assert ports[0] != ports[1]

    fault_server.queries.clear()
    ch = make_channel(fault_server.address, flags=pycares_ng.ARES_FLAG_USEVC | pycares_ng.ARES_FLAG_STAYOPEN)
    assert resolve(ch, "open1.test", A)[1] is None
    read_fds, write_fds = ch.getsock()
    assert len(read_fds) == 1 and write_fds == []
    assert resolve(ch, "open2.test", A)[1] is None
    assert ch.getsock()[0] == read_fds
    ports = [q.client[1] for q in fault_server.queries]
    assert [q.transport for q in fault_server.queries] == ["tcp", "tcp"]
    assert ports[0] == ports[1]
    # the fd libcares watches is the connection the server saw
    with _socket_of(read_fds[0]) as s:
        assert s.getsockname()[1] == ports[0]


@pytest.mark.parametrize("mode,expected", [("refused", "ARES_EREFUSED"), ("servfail", "ARES_ESERVFAIL")])
def test_flag_nocheckresp(fault_server, second_server, mode, expected):
    """A REFUSED/SERVFAIL reply: by default the next server is tried (and answers); with
    ARES_FLAG_NOCHECKRESP the reply is delivered as the error and the second server is not asked."""
    fault_server.mode = mode
    ch = make_channel(fault_server.address, second_server.address)
    result, err = resolve(ch, "check.test", A)
    assert err is None and [r.host for r in result] == ["192.0.2.1"]
    assert len(fault_server.queries) == 1 and len(second_server.queries) == 1

    fault_server.queries.clear()
    second_server.queries.clear()
    ch = make_channel(fault_server.address, second_server.address, flags=pycares_ng.ARES_FLAG_NOCHECKRESP)
    assert resolve(ch, "nocheck.test", A) == (None, getattr(pycares_ng.errno, expected))
    assert [q.qname for q in fault_server.queries] == ["nocheck.test"]
    assert second_server.queries == []


def test_flag_noaliases(fault_server, tmp_path, monkeypatch):
    """search() of a single-label name consults the HOSTALIASES file unless ARES_FLAG_NOALIASES."""
    aliases = tmp_path / "hostaliases"
    aliases.write_text("myalias www.real.test\n")
    monkeypatch.setenv("HOSTALIASES", str(aliases))
    ch = make_channel(fault_server.address, domains=["dom.test"])
    assert resolve(ch, "myalias", A, method="search")[1] is None
    ch = make_channel(fault_server.address, domains=["dom.test"], flags=pycares_ng.ARES_FLAG_NOALIASES)
    assert resolve(ch, "myalias", A, method="search")[1] is None
    assert [q.qname for q in fault_server.queries] == ["www.real.test", "myalias.dom.test"]


def test_flag_no_dflt_svr_without_servers():
    """No server anywhere: libcares adds 127.0.0.1 by default. ARES_FLAG_NO_DFLT_SVR (c-ares >= 1.22)
    makes initialization fail with ARES_ENOSERVER instead; older c-ares does not know the flag."""
    ch = pycares_ng.Channel(resolvconf_path=empty_resolv_conf())
    assert ch.servers == ["127.0.0.1"]
    ch.close()
    if LEGACY_CARES:
        ch = pycares_ng.Channel(resolvconf_path=empty_resolv_conf(), flags=pycares_ng.ARES_FLAG_NO_DFLT_SVR)
        assert ch.servers == ["127.0.0.1"]
        ch.close()
    else:
        with pytest.raises(pycares_ng.AresError) as info:
            pycares_ng.Channel(resolvconf_path=empty_resolv_conf(), flags=pycares_ng.ARES_FLAG_NO_DFLT_SVR)
        assert info.value.args[0] == ARES_ENOSERVER
        assert "server" in info.value.args[1].lower()


def test_flag_no_dflt_svr_with_explicit_servers(fault_server):
    """ARES_FLAG_NO_DFLT_SVR with servers= given: there is a server, so the channel works."""
    ch = make_channel(fault_server.address, flags=pycares_ng.ARES_FLAG_NO_DFLT_SVR)
    assert ch.servers == [fault_server.address]
    result, err = resolve(ch, "nodflt.test", A)
    assert err is None and [r.host for r in result] == ["192.0.2.1"]
    assert [q.qname for q in fault_server.queries] == ["nodflt.test"]


# ---- domains, ndots, rotate ----------------------------------------------------------------


@pytest.mark.parametrize("ndots,name,order", [
    (1, "a.b", ["a.b", "a.b.d1.test", "a.b.d2.test"]),
    (2, "a.b", ["a.b.d1.test", "a.b.d2.test", "a.b"]),
    (2, "a.b.c", ["a.b.c", "a.b.c.d1.test", "a.b.c.d2.test"]),
    (3, "a.b.c", ["a.b.c.d1.test", "a.b.c.d2.test", "a.b.c"]),
])
def test_domains_and_ndots(fault_server, ndots, name, order):
    """search(): a name with fewer dots than ndots gets the domains appended first (in order)."""
    fault_server.mode = "nxdomain"
    ch = make_channel(fault_server.address, ndots=ndots, domains=["d1.test", "d2.test"])
    assert resolve(ch, name, A, method="search") == (None, pycares_ng.errno.ARES_ENOTFOUND)
    assert [q.qname for q in fault_server.queries] == order


def test_domains_first_match_wins(fault_server):
    """search() stops at the first domain that answers."""
    fault_server.mode = "nxdomain"
    fault_server.rules["host.d2.test"] = "answer"
    ch = make_channel(fault_server.address, domains=["d1.test", "d2.test", "d3.test"])
    result, err = resolve(ch, "host", A, method="search")
    assert err is None and [r.host for r in result] == ["192.0.2.1"]
    assert [q.qname for q in fault_server.queries] == ["host.d1.test", "host.d2.test"]


def test_rotate(fault_server, second_server):
    """Without rotate every query goes to the first server; with rotate=True both are used
    (c-ares 1.18: strict round robin; 1.34: a random server per query)."""
    n = 20
    ch = make_channel(fault_server.address, second_server.address)
    for i in range(n):
        assert resolve(ch, f"fixed{i}.test", A)[1] is None
    assert (len(fault_server.queries), len(second_server.queries)) == (n, 0)

    fault_server.queries.clear()
    ch = make_channel(fault_server.address, second_server.address, rotate=True)
    for i in range(n):
        assert resolve(ch, f"rot{i}.test", A)[1] is None
    first, second = len(fault_server.queries), len(second_server.queries)
    assert first + second == n
    if LEGACY_CARES:
        assert (first, second) == (n // 2, n // 2)
    else:
        assert first > 0 and second > 0  # all 20 on one server: probability 2**-19


# ---- socket options ------------------------------------------------------------------------


def test_socket_buffer_sizes(fault_server):
    """socket_send_buffer_size / socket_receive_buffer_size set SO_SNDBUF / SO_RCVBUF on the
    sockets libcares opens (Linux reports twice the requested value, see socket(7))."""
    sndbuf, rcvbuf = 32768, 49152
    events, cb = _sock_events()
    ch = make_channel(fault_server.address, socket_send_buffer_size=sndbuf,
                      socket_receive_buffer_size=rcvbuf, sock_state_cb=cb)
    c = Collector()
    ch.query("buffers.test", A, c.cb)
    assert events, "no socket opened"
    with _socket_of(events[0][0]) as s:
        got_snd = s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        got_rcv = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert run_until(ch, lambda: len(c) >= 1)
    assert c.one[1] is None
    if sys.platform.startswith("linux"):
        assert (got_snd, got_rcv) == (2 * sndbuf, 2 * rcvbuf)
    else:
        assert got_snd >= sndbuf and got_rcv >= rcvbuf
    # and the defaults differ, so the option really did something
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as plain:
        assert plain.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) != got_snd


# ---- resolvconf_path -----------------------------------------------------------------------


def test_resolvconf_path(dns_server, tmp_path):
    """nameserver + search + options from the given file: search("www") resolves www.example.test."""
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\nsearch example.test\noptions ndots:2\n")
    ch = pycares_ng.Channel(resolvconf_path=str(conf), udp_port=dns_server.port, tcp_port=dns_server.port,
                            timeout=2.0, tries=2)
    assert ch.servers == ["127.0.0.1"]
    result, err = resolve(ch, "www", A, method="search")
    assert err is None
    assert [(r.host, r.ttl) for r in result] == [("192.0.2.10", 300)]


def test_resolvconf_path_options_applied(fault_server, tmp_path):
    """search and ndots from the file are what search() uses (seen on the wire)."""
    conf = tmp_path / "resolv.conf"
    conf.write_bytes(b"nameserver 127.0.0.1\nsearch one.test two.test\noptions ndots:2\n")
    fault_server.mode = "nxdomain"
    ch = pycares_ng.Channel(resolvconf_path=os.fsencode(conf), udp_port=fault_server.port, timeout=2.0, tries=1)
    assert resolve(ch, "a.b", A, method="search") == (None, pycares_ng.errno.ARES_ENOTFOUND)
    assert [q.qname for q in fault_server.queries] == ["a.b.one.test", "a.b.two.test", "a.b"]


# ---- local_ip / local_dev ------------------------------------------------------------------


def test_local_ip(fault_server):
    """local_ip= and set_local_ip(): the server sees queries from that address."""
    ch = make_channel(fault_server.address, local_ip="127.0.0.2")
    assert resolve(ch, "local-ip.test", A)[1] is None
    ch2 = make_channel(fault_server.address)
    ch2.set_local_ip("127.0.0.3")
    assert resolve(ch2, "set-local-ip.test", A)[1] is None
    ch3 = make_channel(fault_server.address, local_ip=b"127.0.0.4", flags=pycares_ng.ARES_FLAG_USEVC)
    assert resolve(ch3, "local-ip-tcp.test", A)[1] is None
    assert [(q.qname, q.client[0], q.transport) for q in fault_server.queries] == [
        ("local-ip.test", "127.0.0.2", "udp"),
        ("set-local-ip.test", "127.0.0.3", "udp"),
        ("local-ip-tcp.test", "127.0.0.4", "tcp"),
    ]


def test_local_ip_ipv6():
    if not ipv6_loopback_usable():
        pytest.skip("no usable IPv6 loopback (::1) here")
    with FaultServer(host="::1") as server6:
        ch = make_channel(server6.address, local_ip="::1")
        assert resolve(ch, "local-ip6.test", A)[1] is None
        assert [q.client[0] for q in server6.queries] == ["::1"]


def _bound_device(events):
    with _socket_of(events[0][0]) as s:
        return s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b"\0")


def test_local_dev_lo(fault_server):
    """local_dev="lo" (SO_BINDTODEVICE, we run as root): the socket is bound to lo and works."""
    events, cb = _sock_events()
    ch = make_channel(fault_server.address, local_dev="lo", sock_state_cb=cb)
    c = Collector()
    ch.query("dev-lo.test", A, c.cb)
    assert _bound_device(events) == b"lo"
    assert run_until(ch, lambda: len(c) >= 1)
    assert c.one[1] is None
    assert [q.qname for q in fault_server.queries] == ["dev-lo.test"]


def test_set_local_dev(fault_server):
    events, cb = _sock_events()
    ch = make_channel(fault_server.address, sock_state_cb=cb)
    ch.set_local_dev("lo")
    c = Collector()
    ch.query("set-dev.test", A, c.cb)
    assert _bound_device(events) == b"lo"
    assert run_until(ch, lambda: len(c) >= 1)
    assert c.one[1] is None


def _down_interfaces():
    """Interfaces other than lo that are administratively down (IFF_UP clear): nothing can be
    routed through them, so binding to one can never send a packet anywhere."""
    down = []
    for _, name in socket.if_nameindex():
        try:
            with open(f"/sys/class/net/{name}/flags") as f:
                flags = int(f.read().strip(), 16)
        except (OSError, ValueError):
            continue
        if name != "lo" and len(name) < 16 and not flags & 0x1:
            down.append(name)
    return down


def test_local_dev_down_interface_cannot_reach_loopback(fault_server):
    """Bound to an interface that is down, 127.0.0.1 is unreachable: connect() fails in the kernel
    (ENETUNREACH, nothing is sent) and the query fails with ARES_ECONNREFUSED in both eras."""
    down = _down_interfaces()
    if not down:
        pytest.skip("no network interface that is down here (binding to an up one could send "
                    "loopback-addressed packets off the host)")
    ch = make_channel(fault_server.address, local_dev=down[0])
    assert resolve(ch, "dev-down.test", A) == (None, pycares_ng.errno.ARES_ECONNREFUSED)
    ch2 = make_channel(fault_server.address, local_dev=down[0], flags=pycares_ng.ARES_FLAG_USEVC)
    assert resolve(ch2, "dev-down-tcp.test", A) == (None, pycares_ng.errno.ARES_ECONNREFUSED)
    assert fault_server.queries == []


def test_local_dev_nonexistent_is_ignored_by_libcares(fault_server):
    """A device that does not exist: libcares ignores the failing SO_BINDTODEVICE in both eras
    ("usually not fatal if it doesn't work, so just continue on"), so the socket stays unbound and
    the query is answered."""
    events, cb = _sock_events()
    ch = make_channel(fault_server.address, local_dev="nosuchdev0", sock_state_cb=cb)
    c = Collector()
    ch.query("dev-missing.test", A, c.cb)
    assert _bound_device(events) == b""
    assert run_until(ch, lambda: len(c) >= 1)
    assert c.one[1] is None
    assert [q.qname for q in fault_server.queries] == ["dev-missing.test"]


# ---- sock_state_cb -------------------------------------------------------------------------


def test_sock_state_cb_open_and_close(fault_server):
    """(fd, True, False) when the UDP socket opens, (fd, False, False) when it closes."""
    events, cb = _sock_events()
    ch = make_channel(fault_server.address, sock_state_cb=cb)
    c = Collector()
    ch.query("sock.test", A, c.cb)
    assert len(events) == 1
    fd = events[0][0]
    assert events == [(fd, True, False)]
    assert ch.getsock() == ([fd], [])
    assert run_until(ch, lambda: len(c) >= 1)
    assert c.one[1] is None
    assert events == [(fd, True, False), (fd, False, False)]
    assert all(type(r) is bool and type(w) is bool for _, r, w in events)


def test_sock_state_cb_tcp(fault_server):
    """Over TCP the socket is also watched for writing while connecting; it ends with (fd, False, False)."""
    events, cb = _sock_events()
    ch = make_channel(fault_server.address, sock_state_cb=cb, flags=pycares_ng.ARES_FLAG_USEVC)
    assert resolve(ch, "sock-tcp.test", A)[1] is None
    fds = {fd for fd, _, _ in events}
    assert len(fds) == 1
    fd = fds.pop()
    assert (fd, True, True) in events
    assert events[-1] == (fd, False, False)


def test_sock_state_cb_not_called_after_close(fault_server):
    """close() reports the socket closing before it returns; nothing is called afterwards."""
    events, cb = _sock_events()
    ch = make_channel(fault_server.address, sock_state_cb=cb,
                      flags=pycares_ng.ARES_FLAG_USEVC | pycares_ng.ARES_FLAG_STAYOPEN)
    assert resolve(ch, "stay.test", A)[1] is None
    fd = events[0][0]
    assert events[-1] != (fd, False, False)  # kept open
    ch.close()
    assert events[-1] == (fd, False, False)
    seen = list(events)
    ch.close()
    del ch
    gc.collect()
    assert events == seen


def test_sock_state_cb_exception_goes_to_unraisablehook(fault_server, monkeypatch):
    hooked = []
    monkeypatch.setattr(sys, "unraisablehook", hooked.append)
    calls = []

    def bad_cb(fd, readable, writable):
        calls.append((fd, readable, writable))
        raise ZeroDivisionError("from sock_state_cb")

    ch = make_channel(fault_server.address, sock_state_cb=bad_cb)
    result, err = resolve(ch, "sock-raise.test", A)
    assert err is None and [r.host for r in result] == ["192.0.2.1"]
    assert len(calls) == 2
    assert len(hooked) == 2
    assert all(isinstance(h.exc_value, ZeroDivisionError) for h in hooked)
    assert all(h.object is bad_cb for h in hooked)


# ---- lookups, servers, event_thread --------------------------------------------------------


@pytest.mark.parametrize("lookups", ["b", "f", "bf", "fb", b"bf"])
def test_lookups_accepted(fault_server, lookups):
    """lookups only affects gethostbyname/getaddrinfo (hosts file vs DNS), which arrive with a later
    issue; here: the valid values are accepted and DNS queries work."""
    ch = make_channel(fault_server.address, lookups=lookups)
    assert resolve(ch, "lookups.test", A)[1] is None


@pytest.mark.parametrize("lookups", ["x", "", "bfb", "bb", "ff", "b f"])
def test_lookups_invalid(lookups):
    with pytest.raises(ValueError, match="lookups"):
        pycares_ng.Channel(lookups=lookups, resolvconf_path=empty_resolv_conf())


def test_servers_option(fault_server, second_server):
    """servers=: str and bytes, with ports; the first one is asked."""
    ch = make_channel(fault_server.address, second_server.address.encode())
    assert ch.servers == [fault_server.address, second_server.address]
    assert resolve(ch, "servers.test", A)[1] is None
    assert [q.qname for q in fault_server.queries] == ["servers.test"]
    assert second_server.queries == []


def test_servers_option_ipv6():
    """An IPv6 server with a port, "[::1]:PORT", is queried over IPv6."""
    if not ipv6_loopback_usable():
        pytest.skip("no usable IPv6 loopback (::1) here")
    with FaultServer(host="::1") as server6:
        ch = make_channel(server6.address)
        assert ch.servers == [f"[::1]:{server6.port}"]
        result, err = resolve(ch, "v6.test", A)
        assert err is None and [r.host for r in result] == ["192.0.2.1"]
        assert [(q.qname, q.client[0]) for q in server6.queries] == [("v6.test", "::1")]
        # bare "::1" with udp_port
        ch2 = make_channel("::1", udp_port=server6.port)
        assert ch2.servers == ["::1"]
        assert resolve(ch2, "v6-port.test", A)[1] is None
        assert server6.queries[-1].qname == "v6-port.test"


def test_event_thread(fault_server):
    """event_thread=True: the channel's own I/O thread sends, receives and runs the callbacks,
    with nobody driving getsock/process_fd; close() stops it."""
    ch = make_channel(fault_server.address, event_thread=True)
    assert ch.event_thread is True
    done = threading.Event()
    calls = []

    def cb(result, err):
        calls.append((result, err, threading.get_ident()))
        done.set()

    ch.query("threaded.test", A, cb)
    assert done.wait(5.0), "no callback from the event thread"
    [(result, err, ident)] = calls
    assert err is None and [r.host for r in result] == ["192.0.2.1"]
    assert ident != threading.get_ident()
    assert [q.qname for q in fault_server.queries] == ["threaded.test"]
    ch.close()
    assert ch.event_thread is False
    assert len(calls) == 1


def test_event_thread_false_is_driven_by_the_caller(fault_server):
    ch = make_channel(fault_server.address, event_thread=False)
    assert ch.event_thread is False
    calls = []
    ch.query("unthreaded.test", A, lambda result, err: calls.append((err, threading.get_ident())))
    assert run_until(ch, lambda: len(calls) >= 1)
    assert calls == [(None, threading.get_ident())]


def test_event_thread_with_sock_state_cb():
    with pytest.raises(RuntimeError, match="sock_state_cb"):  # pycares 4.11's class
        pycares_ng.Channel(event_thread=True, sock_state_cb=lambda *a: None, resolvconf_path=empty_resolv_conf())


def test_all_options_by_keyword(fault_server):
    """Every option at once, by keyword, on one working channel."""
    events, cb = _sock_events()
    ch = pycares_ng.Channel(
        flags=pycares_ng.ARES_FLAG_NORECURSE, timeout=1.5, tries=2, ndots=1, tcp_port=fault_server.port,
        udp_port=fault_server.port, servers=["127.0.0.1"], domains=["dom.test"], lookups="fb",
        sock_state_cb=cb, socket_send_buffer_size=65536, socket_receive_buffer_size=65536, rotate=False,
        local_ip="127.0.0.5", local_dev="lo", resolvconf_path=empty_resolv_conf(), event_thread=False)
    assert resolve(ch, "every", A, method="search")[1] is None
    assert [(q.qname, q.rd, q.client[0]) for q in fault_server.queries] == [("every.dom.test", False, "127.0.0.5")]
    assert events and events[-1][1:] == (False, False)


def test_positional_options_in_pycares_order(fault_server):
    """pycares 4 order: flags, timeout, tries, ndots, tcp_port, udp_port, servers, domains, ..."""
    ch = pycares_ng.Channel(pycares_ng.ARES_FLAG_NORECURSE, 2.0, 1, 1, fault_server.port, fault_server.port,
                            ["127.0.0.1"], ["dom.test"], None, None, None, None, False, None, None,
                            empty_resolv_conf())
    assert resolve(ch, "pos", A, method="search")[1] is None
    assert [(q.qname, q.rd) for q in fault_server.queries] == [("pos.dom.test", False)]
    assert ares_errno.errorcode[ares_errno.ARES_ETIMEOUT] == "ARES_ETIMEOUT"


def test_timeout_zero_means_the_default(fault_server):
    """timeout=0 leaves c-ares' default (pycares 4 on its c-ares behaves so): queries do not time
    out at once."""
    fault_server.mode = "drop"
    ch = make_channel(fault_server.address, timeout=0)
    c = Collector()
    ch.query("silent.test", pycares_ng.QUERY_TYPE_A, c.cb)
    assert ch.timeout() >= 1.0
    ch.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)
    assert c.calls == []
    ch.close()
    assert c.calls == [(None, pycares_ng.errno.ARES_ECANCELLED)]
