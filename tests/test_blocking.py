"""The blocking helpers (pycares_ng.getaddrinfo & co.): the socket module's results and errors.

Where the socket module can answer without any lookup (numeric addresses, host None, service
names, flags), the helpers' output is compared with it *exactly*. For names, the expected values
come from a hosts file (CARES_HOSTS), from NSD (tests/data) or from the fault server; and, where
``unshare`` works (root), from the socket module itself in a private network namespace whose
/etc/resolv.conf points at NSD on port 53 (test_same_as_socket_module_on_dns_names).

Every test configures the helpers with servers on loopback and an empty resolv.conf: nothing
reads the machine's resolver configuration.
"""
from __future__ import annotations

import itertools
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import pycares_ng
from pycares_ng import blocking
from pycares_ng.testing import FaultServer

import netns
import netns_compare
from helpers import empty_resolv_conf

TESTS_DIR = Path(__file__).resolve().parent
ISOLATED = dict(resolvconf_path=None, timeout=2.0, tries=1)  # resolvconf_path set per test


def outcome(func, *args, **kwargs):
    """("ok", result) or ("err", exception type, args): what a call gives, comparable."""
    try:
        return ("ok", func(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome
        return ("err", type(exc), exc.args)


def system_message(errno_value: int) -> str:
    """The socket module's message for a getaddrinfo error, got from the socket module itself
    (only lookups that need no network)."""
    try:
        if errno_value == socket.EAI_NONAME:
            socket.getaddrinfo("no-such-name.invalid", 80, flags=socket.AI_NUMERICHOST)
        elif errno_value == socket.EAI_SERVICE:
            socket.getaddrinfo("127.0.0.1", "no-such-service-x", type=socket.SOCK_STREAM)
        elif errno_value == socket.EAI_BADFLAGS:
            socket.getaddrinfo("127.0.0.1", 80, flags=0x10000)
    except socket.gaierror as exc:
        assert exc.errno == errno_value
        return exc.strerror
    raise AssertionError(f"no way to provoke {errno_value} here")


@pytest.fixture(autouse=True)
def isolated_helpers(monkeypatch):
    """Helpers on an empty resolv.conf and a server nobody listens on; restored afterwards."""
    monkeypatch.delenv("CARES_HOSTS", raising=False)
    configure()
    yield
    blocking.configure()


def configure(*servers: str, **options) -> None:
    opts = dict(ISOLATED, resolvconf_path=empty_resolv_conf())
    opts.update(options)
    opts["servers"] = list(servers) or ["127.0.0.1:1"]  # nothing listens there
    blocking.configure(**opts)


# -- exactly socket's results where socket needs no lookup -------------------------------------

LITERAL_HOSTS = ["127.0.0.1", "192.0.2.1", "::1", "2001:db8::1", "::ffff:192.0.2.1", "1.2.3",
                 "0x7f.1", "127.000.000.001", "fe80::1%1", "::1%1", "::1%nosuchif", "0.0.0.0", "::",
                 "*", None, b"192.0.2.7", b"2001:db8::7"]
PORTS = [None, 0, 80, "80", "http", "domain", b"53", " 80", "", 70000, "no-such-service-x"]
FAMILIES = [socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6, 99]
TYPES = [0, socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_SEQPACKET]
PROTOS = [0, socket.IPPROTO_TCP, socket.IPPROTO_UDP, 132]
FLAGS = [0, socket.AI_PASSIVE, socket.AI_CANONNAME, socket.AI_NUMERICHOST, socket.AI_NUMERICSERV,
         socket.AI_V4MAPPED, socket.AI_V4MAPPED | socket.AI_ALL, socket.AI_ADDRCONFIG,
         socket.AI_PASSIVE | socket.AI_CANONNAME | socket.AI_NUMERICSERV, 0x10000]


def test_getaddrinfo_literals_equal_socket():
    # Every combination of host x port x family x type x proto x flags: same list, same order,
    # same enums — or the same exception with the same args.
    diffs = []
    for case in itertools.product(LITERAL_HOSTS, PORTS, FAMILIES, TYPES, PROTOS, FLAGS):
        expected = outcome(socket.getaddrinfo, *case)
        got = outcome(pycares_ng.getaddrinfo, *case)
        if got != expected:
            diffs.append((case, expected, got))
    assert diffs == []


def test_getaddrinfo_returns_socket_types():
    got = pycares_ng.getaddrinfo("192.0.2.1", 443)
    assert got == socket.getaddrinfo("192.0.2.1", 443)
    assert [e[:3] for e in got] == [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP),
        (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP),
        (socket.AF_INET, socket.SOCK_RAW, 0),
    ]
    family, kind, _, canonname, sockaddr = got[0]
    assert type(family) is socket.AddressFamily and type(kind) is socket.SocketKind
    assert canonname == "" and sockaddr == ("192.0.2.1", 443) and type(sockaddr[0]) is str
    v6 = pycares_ng.getaddrinfo("2001:db8::1", 443, type=socket.SOCK_STREAM)
    assert v6 == [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::1", 443, 0, 0))]


@pytest.mark.parametrize("family", [socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6])
def test_passive_with_no_host(family):
    flags = socket.AI_PASSIVE
    assert pycares_ng.getaddrinfo(None, 8080, family, 0, 0, flags) == socket.getaddrinfo(None, 8080, family, 0, 0, flags)
    assert pycares_ng.getaddrinfo(None, "8080", family, socket.SOCK_STREAM) == \
        socket.getaddrinfo(None, "8080", family, socket.SOCK_STREAM)


def test_numerichost_and_numericserv_errors_equal_socket():
    for args in [("www.example.test", 80, 0, 0, 0, socket.AI_NUMERICHOST),
                 ("192.0.2.1", "http", 0, 0, 0, socket.AI_NUMERICSERV),
                 ("www.example.test", "http", 0, 0, 0, socket.AI_NUMERICSERV),
                 (None, None), ("www.example.test", 80, 0, 0, 0, 0x10000),
                 ("www.example.test", 80, 99), ("www.example.test", "no-such-service-x"),
                 ("www.example.test", 80, 0, socket.SOCK_STREAM, socket.IPPROTO_UDP),
                 (None, 80, 0, 0, 0, socket.AI_CANONNAME)]:
        expected = outcome(socket.getaddrinfo, *args)
        assert expected[0] == "err", args
        assert outcome(pycares_ng.getaddrinfo, *args) == expected, args


def test_numericserv_service_name_with_a_name_host_fails_before_any_lookup():
    with FaultServer() as server:
        configure(server.address)
        with pytest.raises(socket.gaierror) as info:
            pycares_ng.getaddrinfo("www.example.test", "http", flags=socket.AI_NUMERICSERV)
        assert info.value.args == (socket.EAI_NONAME, system_message(socket.EAI_NONAME))
        assert server.queries == []


@pytest.mark.parametrize("args", [
    (1234, 80), (b"192.0.2.1", 80.5), ("192.0.2.1", [80]), ("192.0.2.1", True),
    ("192.0.2.1", 80, "x"), (bytearray(b"192.0.2.1"), 80),
])
def test_bad_argument_types_raise_like_socket(args):
    expected = outcome(socket.getaddrinfo, *args)
    assert expected[0] == "err"
    assert outcome(pycares_ng.getaddrinfo, *args) == expected


def test_idna_encoding_like_socket():
    # str hosts are IDNA-encoded by the codec socket uses: same errors for bad labels.
    for host in ["a" * 64 + ".test", "a..b.test", ".test"]:
        expected = outcome(socket.getaddrinfo, host, 80, flags=socket.AI_NUMERICHOST)
        assert outcome(pycares_ng.getaddrinfo, host, 80) == expected


NAME_LITERALS = ["127.0.0.1", "192.0.2.1", "1.2.3", "127.000.000.001", "0.0.0.0",
                 "255.255.255.255", "<broadcast>", "", "::1", "2001:db8::1", b"192.0.2.9"]


def test_gethostbyname_literals_equal_socket():
    for host in NAME_LITERALS:
        assert outcome(pycares_ng.gethostbyname, host) == outcome(socket.gethostbyname, host), host


def test_gethostbyname_ex_literals_equal_socket():
    for host in ["127.0.0.1", "192.0.2.1", "1.2.3", "0.0.0.0", "255.255.255.255", "", "<broadcast>",
                 "::1", b"192.0.2.9"]:
        assert outcome(pycares_ng.gethostbyname_ex, host) == outcome(socket.gethostbyname_ex, host), host


@pytest.mark.parametrize("func", ["gethostbyname", "gethostbyname_ex", "gethostbyaddr"])
@pytest.mark.parametrize("arg", [None, 7, ["127.0.0.1"]])
def test_gethost_argument_types_like_socket(func, arg):
    assert outcome(getattr(pycares_ng, func), arg) == outcome(getattr(socket, func), arg)


SOCKADDRS = [("127.0.0.1", 80), ("192.0.2.1", 53), ("192.0.2.1", 5060), ("192.0.2.1", 0),
             ("192.0.2.1", 70000), ("::1", 22, 0, 0), ("2001:db8::1", 443, 5, 0),
             ("fe80::1", 80, 0, 1), ("fe80::1%1", 80), ("::1", 80, 0x100000, 0), ("127.0.0.1", 80, 1),
             ("127.0.0.1", "80"), ["127.0.0.1", 80], ("www.example.test", 80), ("1.2.3", 80)]
NI_FLAGS = [0, socket.NI_NUMERICSERV, socket.NI_DGRAM, socket.NI_NAMEREQD, socket.NI_NOFQDN,
            socket.NI_NUMERICSERV | socket.NI_DGRAM, 256]


def test_getnameinfo_numerichost_equals_socket():
    for sockaddr, flags in itertools.product(SOCKADDRS, NI_FLAGS):
        flags |= socket.NI_NUMERICHOST
        expected = outcome(socket.getnameinfo, sockaddr, flags)
        assert outcome(pycares_ng.getnameinfo, sockaddr, flags) == expected, (sockaddr, flags)


def test_getnameinfo_argument_errors_equal_socket():
    # The checks come before any lookup: same exceptions without NI_NUMERICHOST too.
    for sockaddr in [("::1", 80, 0x100000, 0), ("127.0.0.1", 80, 1), ("127.0.0.1", "80"),
                     ["127.0.0.1", 80], ("www.example.test", 80)]:
        expected = outcome(socket.getnameinfo, sockaddr, 0)
        assert expected[0] == "err"
        assert outcome(pycares_ng.getnameinfo, sockaddr, 0) == expected
    expected = outcome(socket.getnameinfo, ("127.0.0.1", 80), 256)
    assert outcome(pycares_ng.getnameinfo, ("127.0.0.1", 80), 256) == expected


def test_getaddrinfo_never_sends_literals():
    with FaultServer(mode="drop") as server:
        configure(server.address)
        for host in ["192.0.2.1", "::1", "1.2.3", "fe80::1%1", None]:
            pycares_ng.getaddrinfo(host, 80)
        pycares_ng.gethostbyname("192.0.2.1")
        pycares_ng.getnameinfo(("192.0.2.1", 80), socket.NI_NUMERICHOST)
        assert server.queries == []


# -- names from a hosts file (CARES_HOSTS) -----------------------------------------------------

HOSTS_FILE = """\
# pycares_ng test hosts file
192.0.2.101 canon1.hosts.test alias1.hosts.test short1
2001:db8::101 canon1.hosts.test alias1.hosts.test short1
192.0.2.102 v4only.hosts.test
2001:db8::103 v6only.hosts.test
"""


@pytest.fixture
def hosts_file(tmp_path, monkeypatch):
    path = tmp_path / "hosts"
    path.write_text(HOSTS_FILE)
    monkeypatch.setenv("CARES_HOSTS", str(path))
    with FaultServer(mode="nxdomain") as server:  # DNS says no to everything
        configure(server.address, lookups="fb")
        yield server


def sockaddrs(entries):
    return {entry[4] for entry in entries}


def test_hosts_file_getaddrinfo(hosts_file):
    got = pycares_ng.getaddrinfo("alias1.hosts.test", 80, type=socket.SOCK_STREAM,
                                 flags=socket.AI_CANONNAME)
    # Order: RFC 6724 as c-ares sorts it (glibc's sort may differ): compare the set.
    assert sockaddrs(got) == {("192.0.2.101", 80), ("2001:db8::101", 80, 0, 0)}
    assert [e[3] for e in got] == ["canon1.hosts.test", ""]
    assert {(e[0], e[1], e[2]) for e in got} == {(socket.AF_INET, socket.SOCK_STREAM, 6),
                                                 (socket.AF_INET6, socket.SOCK_STREAM, 6)}
    assert pycares_ng.getaddrinfo("v4only.hosts.test", "domain", socket.AF_INET) == [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.102", 53)),
        (socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("192.0.2.102", 53)),
    ]
    assert pycares_ng.getaddrinfo("short1", None, socket.AF_INET6, socket.SOCK_DGRAM) == [
        (socket.AF_INET6, socket.SOCK_DGRAM, 17, "", ("2001:db8::101", 0, 0, 0))]
    assert hosts_file.queries == []  # all from the file


def test_hosts_file_v4mapped(hosts_file):
    mapped = pycares_ng.getaddrinfo("v4only.hosts.test", 80, socket.AF_INET6, socket.SOCK_STREAM, 0,
                                    socket.AI_V4MAPPED)
    assert mapped == [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:192.0.2.102", 80, 0, 0))]
    both = pycares_ng.getaddrinfo("alias1.hosts.test", 80, socket.AF_INET6, socket.SOCK_STREAM, 0,
                                  socket.AI_V4MAPPED)
    assert sockaddrs(both) == {("2001:db8::101", 80, 0, 0)}  # IPv6 found: no mapped addresses
    every = pycares_ng.getaddrinfo("alias1.hosts.test", 80, socket.AF_INET6, socket.SOCK_STREAM, 0,
                                   socket.AI_V4MAPPED | socket.AI_ALL)
    assert sockaddrs(every) == {("2001:db8::101", 80, 0, 0), ("::ffff:192.0.2.101", 80, 0, 0)}


def test_hosts_file_gethostbyname(hosts_file):
    assert pycares_ng.gethostbyname("short1") == "192.0.2.101"
    assert pycares_ng.gethostbyname("v4only.hosts.test") == "192.0.2.102"
    assert pycares_ng.gethostbyname_ex("alias1.hosts.test") == (
        "canon1.hosts.test", ["alias1.hosts.test", "short1"], ["192.0.2.101"])
    assert pycares_ng.gethostbyname_ex("canon1.hosts.test") == (
        "canon1.hosts.test", ["alias1.hosts.test", "short1"], ["192.0.2.101"])
    assert pycares_ng.gethostbyname_ex("v4only.hosts.test") == ("v4only.hosts.test", [], ["192.0.2.102"])


def test_hosts_file_not_found(hosts_file):
    with pytest.raises(socket.gaierror) as info:
        pycares_ng.getaddrinfo("nothere.hosts.test", 80)
    assert info.value.args == (socket.EAI_NONAME, system_message(socket.EAI_NONAME))
    with pytest.raises(socket.gaierror) as info:
        pycares_ng.gethostbyname("v6only.hosts.test")  # no IPv4 address: not in the file for AF_INET
    assert info.value.errno in (socket.EAI_NONAME, socket.EAI_NODATA)


@pytest.mark.parametrize("lookups, from_file", [("f", True), ("b", False), ("fb", True), ("bf", True)])
def test_hosts_file_lookups_option(hosts_file, lookups, from_file):
    configure(hosts_file.address, lookups=lookups)
    result = outcome(pycares_ng.gethostbyname, "short1")
    assert result == (("ok", "192.0.2.101") if from_file else
                      ("err", socket.gaierror, (socket.EAI_NONAME, system_message(socket.EAI_NONAME))))
    assert bool(hosts_file.queries) == ("b" in lookups and lookups[0] == "b")


# -- names from DNS (NSD) ----------------------------------------------------------------------------

@pytest.fixture
def nsd(dns_server):
    configure(dns_server.address)
    return dns_server


def test_dns_getaddrinfo(nsd):
    assert pycares_ng.getaddrinfo("www.example.test", 443, type=socket.SOCK_STREAM) == [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.10", 443))]
    assert pycares_ng.getaddrinfo("ipv6only.example.test", "https", proto=socket.IPPROTO_TCP) == [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::6", 443, 0, 0))]
    dual = pycares_ng.getaddrinfo("dual.example.test", 80)
    assert len(dual) == 6 and sockaddrs(dual) == {("192.0.2.20", 80), ("2001:db8::20", 80, 0, 0)}
    multi = pycares_ng.getaddrinfo("multi.example.test", 80, socket.AF_INET, socket.SOCK_STREAM)
    assert sockaddrs(multi) == {("192.0.2.31", 80), ("192.0.2.32", 80), ("192.0.2.33", 80)}


def test_dns_canonical_name(nsd):
    got = pycares_ng.getaddrinfo("chain-a.example.test", 80, socket.AF_INET, socket.SOCK_STREAM, 0,
                                 socket.AI_CANONNAME)
    assert got == [(socket.AF_INET, socket.SOCK_STREAM, 6, "chain-c.example.test", ("192.0.2.40", 80))]
    plain = pycares_ng.getaddrinfo("www.example.test.", 80, socket.AF_INET, 0, 0, socket.AI_CANONNAME)
    assert [e[3] for e in plain] == ["www.example.test", "", ""]
    assert pycares_ng.gethostbyname_ex("chain-a.example.test") == (
        "chain-c.example.test", ["chain-a.example.test", "chain-b.example.test"], ["192.0.2.40"])
    assert pycares_ng.gethostbyname_ex("alias.example.test") == (
        "www.example.test", ["alias.example.test"], ["192.0.2.10"])
    # gethostbyname_ex keeps the answer's order (the C library does not sort there)
    assert pycares_ng.gethostbyname_ex("multi.example.test") == (
        "multi.example.test", [], ["192.0.2.31", "192.0.2.32", "192.0.2.33"])


def test_dns_errors(nsd):
    nodata = outcome(pycares_ng.getaddrinfo, "ipv6only.example.test", 80, socket.AF_INET)
    assert nodata[:2] == ("err", socket.gaierror) and nodata[2][0] == socket.EAI_NODATA
    nxdomain = outcome(pycares_ng.gethostbyname, "nope.example.test")
    assert nxdomain == ("err", socket.gaierror, (socket.EAI_NONAME, system_message(socket.EAI_NONAME)))
    assert outcome(pycares_ng.gethostbyname_ex, "dangling.example.test")[2][0] == socket.EAI_NONAME


def test_dns_gethostbyaddr(nsd):
    assert pycares_ng.gethostbyaddr("192.0.2.10") == ("www.example.test", [], ["192.0.2.10"])
    assert pycares_ng.gethostbyaddr("2001:db8::20") == ("dual.example.test", [], ["2001:db8::20"])
    assert pycares_ng.gethostbyaddr("2001:0db8:0:0::0020") == ("dual.example.test", [], ["2001:db8::20"])
    # two PTR records: the first one names the host, as glibc does
    assert pycares_ng.gethostbyaddr("192.0.2.50") == ("shared1.example.test", [], ["192.0.2.50"])
    # a host name is resolved first, as socket.gethostbyaddr does
    assert pycares_ng.gethostbyaddr("www.example.test") == ("www.example.test", [], ["192.0.2.10"])
    with pytest.raises(socket.herror) as info:
        pycares_ng.gethostbyaddr("192.0.2.11")
    assert info.value.args[0] == 1  # HOST_NOT_FOUND
    assert info.value.args[1] == socket.herror(1, blocking._herror(1).strerror).strerror
    with pytest.raises(socket.gaierror):
        pycares_ng.gethostbyaddr("nope.example.test")


def test_dns_getnameinfo(nsd):
    assert pycares_ng.getnameinfo(("192.0.2.10", 80), 0) == ("www.example.test", "http")
    assert pycares_ng.getnameinfo(("192.0.2.10", 53), socket.NI_DGRAM) == ("www.example.test", "domain")
    assert pycares_ng.getnameinfo(("192.0.2.10", 53), socket.NI_NUMERICSERV) == ("www.example.test", "53")
    assert pycares_ng.getnameinfo(("2001:db8::20", 443, 0, 0), 0) == ("dual.example.test", "https")
    # nothing found: the numeric address, unless a name is required
    assert pycares_ng.getnameinfo(("192.0.2.11", 80), 0) == ("192.0.2.11", "http")
    with pytest.raises(socket.gaierror) as info:
        pycares_ng.getnameinfo(("192.0.2.11", 80), socket.NI_NAMEREQD)
    assert info.value.args == (socket.EAI_NONAME, system_message(socket.EAI_NONAME))


def test_query(nsd, dns_server):
    mx = pycares_ng.query("example.test", "MX")
    assert sorted((r.priority, r.host) for r in mx) == [
        (10, "mx1.example.test"), (20, "mx2.example.test"), (30, "mx3.example.test")]
    assert {r.ttl for r in mx} == {1800}
    soa = pycares_ng.query("example.test", pycares_ng.QUERY_TYPE_SOA)
    assert soa.nsname == "ns1.example.test" and soa.ttl == 3600
    with pytest.raises(pycares_ng.AresError) as info:
        pycares_ng.query("nope.example.test", "A")
    assert info.value.args[0] == pycares_ng.errno.ARES_ENOTFOUND
    configure()  # the helpers' own servers: nobody; servers= asks NSD for this call only
    txt = pycares_ng.query("txt.example.test", "TXT", servers=[dns_server.address], timeout=5.0)
    assert [r.text for r in txt] == ["hello world"]
    with pytest.raises(pycares_ng.AresError):
        pycares_ng.query("txt.example.test", "TXT", timeout=5.0)


# -- errors from a misbehaving server ----------------------------------------------------------------

@pytest.mark.parametrize("mode, gai, herr", [
    ("nxdomain", socket.EAI_NONAME, 1),
    ("nodata", socket.EAI_NODATA, 4),
    ("servfail", socket.EAI_AGAIN, 2),
    ("refused", socket.EAI_AGAIN, 2),
])
def test_server_errors_map_like_glibc(mode, gai, herr):
    # glibc, asked through the same kind of server, raises these very errors (see the module
    # docstring of pycares_ng.blocking and test_same_as_socket_module_on_dns_names).
    with FaultServer(mode=mode) as server:
        configure(server.address)
        for call in (lambda: pycares_ng.getaddrinfo("x.example.test", 80),
                     lambda: pycares_ng.gethostbyname("x.example.test"),
                     lambda: pycares_ng.gethostbyname_ex("x.example.test")):
            with pytest.raises(socket.gaierror) as info:
                call()
            assert info.value.errno == gai
            assert not isinstance(info.value, TimeoutError)
        with pytest.raises(socket.herror) as hinfo:
            pycares_ng.gethostbyaddr("192.0.2.9")
        assert hinfo.value.args == (herr, blocking._herror(herr).strerror)
        if gai == socket.EAI_AGAIN:  # could not find out: an error, not the numeric address
            with pytest.raises(socket.gaierror) as info:
                pycares_ng.getnameinfo(("192.0.2.9", 80), 0)
            assert info.value.errno == socket.EAI_AGAIN
        else:
            assert pycares_ng.getnameinfo(("192.0.2.9", 80), 0) == ("192.0.2.9", "http")
    if mode == "nxdomain":
        assert info.value.args == (socket.EAI_NONAME, system_message(socket.EAI_NONAME))


def test_nxdomain_is_eai_noname_like_the_system():
    with FaultServer(mode="nxdomain") as server:
        configure(server.address)
        with pytest.raises(socket.gaierror) as info:
            pycares_ng.getaddrinfo("unknown.example.test", 443)
        assert info.value.errno == socket.EAI_NONAME
        assert info.value.args == (socket.EAI_NONAME, system_message(socket.EAI_NONAME))
        assert str(info.value) == f"[Errno {socket.EAI_NONAME}] {system_message(socket.EAI_NONAME)}"
        assert server.queries and server.queries[0].qname == "unknown.example.test"


def test_names_glibc_would_not_send_are_not_sent():
    with FaultServer() as server:
        configure(server.address)
        for name in ["a b.example.test", "-x.example.test", "a$b.example.test", b"\xc3\xa9.test", "*.test",
                     "x" * 63 + "." + "y" * 63 + "." + "z" * 63 + "." + "w" * 62]:
            with pytest.raises(socket.gaierror) as info:
                pycares_ng.getaddrinfo(name, 80)
            assert info.value.errno == socket.EAI_NONAME, name
        assert server.queries == []
        assert pycares_ng.gethostbyname("under_score.example.test") == "192.0.2.1"


# -- timeouts ------------------------------------------------------------------------------------

@pytest.fixture
def silent_server():
    with FaultServer(mode="drop") as server:
        server.rules["ok.example.test"] = "answer"
        configure(server.address, timeout=5.0, tries=1)
        yield server


@pytest.mark.parametrize("call, kind, args", [
    (lambda: pycares_ng.getaddrinfo("x.example.test", 80, timeout=0.5), blocking.GaiTimeoutError,
     (socket.EAI_AGAIN,)),
    (lambda: pycares_ng.gethostbyname("x.example.test", timeout=0.5), blocking.GaiTimeoutError,
     (socket.EAI_AGAIN,)),
    (lambda: pycares_ng.getnameinfo(("192.0.2.9", 80), 0, timeout=0.5), blocking.GaiTimeoutError,
     (socket.EAI_AGAIN,)),
    (lambda: pycares_ng.gethostbyaddr("192.0.2.9", timeout=0.5), blocking.HostTimeoutError, (2,)),
    (lambda: pycares_ng.query("x.example.test", "A", timeout=0.5), blocking.QueryTimeoutError,
     (pycares_ng.errno.ARES_ETIMEOUT,)),
], ids=["getaddrinfo", "gethostbyname", "getnameinfo", "gethostbyaddr", "query"])
def test_timeout_bounds_the_call(silent_server, call, kind, args):
    start = time.monotonic()
    with pytest.raises(kind) as info:
        call()
    elapsed = time.monotonic() - start
    assert 0.45 <= elapsed < 1.0, elapsed
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, socket.timeout)
    assert info.value.args[:1] == args
    if kind is blocking.GaiTimeoutError:
        assert isinstance(info.value, socket.gaierror)
        assert info.value.strerror == blocking._gaierror(socket.EAI_AGAIN).strerror
    # the thread's resolver is still usable
    assert pycares_ng.gethostbyname("ok.example.test", timeout=5.0) == "192.0.2.1"


def test_cares_own_timeout_is_the_same_error(silent_server):
    configure(silent_server.address, timeout=0.3, tries=1)
    start = time.monotonic()
    with pytest.raises(blocking.GaiTimeoutError) as info:
        pycares_ng.getaddrinfo("x.example.test", 80)
    assert time.monotonic() - start < 2.0
    assert info.value.errno == socket.EAI_AGAIN
    with pytest.raises(blocking.QueryTimeoutError) as qinfo:
        pycares_ng.query("x.example.test", "A")
    assert qinfo.value.args[0] == pycares_ng.errno.ARES_ETIMEOUT
    assert isinstance(qinfo.value, pycares_ng.AresError)


def test_negative_timeout_is_refused():
    with pytest.raises(ValueError):
        pycares_ng.getaddrinfo("x.example.test", 80, timeout=-1)


# -- descriptors, threads, configuration ---------------------------------------------------------

MANY_FDS = 1100


def test_more_than_1024_open_fds(dns_server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = MANY_FDS + 200
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.fail(f"RLIMIT_NOFILE hard limit {hard} < {need}: cannot test > 1,024 fds")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    fds = []
    try:
        fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(MANY_FDS)]
        probe = os.open(os.devnull, os.O_RDONLY)
        os.close(probe)
        assert probe > 1024  # so every socket and the epoll fd made now are above FD_SETSIZE
        configure(dns_server.address)  # a fresh resolver, made now
        assert pycares_ng.gethostbyname("www.example.test") == "192.0.2.10"
        assert pycares_ng.getaddrinfo("dual.example.test", 80, type=socket.SOCK_STREAM)
        assert pycares_ng.gethostbyaddr("192.0.2.10")[0] == "www.example.test"
        assert len(pycares_ng.query("example.test", "MX")) == 3
    finally:
        for fd in fds:
            os.close(fd)
        blocking.configure()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_threads_resolve_concurrently(dns_server):
    configure(dns_server.address)
    errors, done = [], []

    def work(index):
        try:
            for i in range(40):
                n = (index * 40 + i) % 500
                host = f"h{n}.bench.example.test"
                assert pycares_ng.gethostbyname(host) == f"127.100.{n // 256}.{n % 256}"
                assert pycares_ng.getaddrinfo("www.example.test", 80, type=socket.SOCK_STREAM)[0][4] == \
                    ("192.0.2.10", 80)
                if i % 10 == 0:
                    assert pycares_ng.gethostbyaddr("192.0.2.10")[0] == "www.example.test"
                    assert pycares_ng.getnameinfo(("192.0.2.20", 80), 0) == ("dual.example.test", "http")
                    assert pycares_ng.getaddrinfo("192.0.2.1", 80) == socket.getaddrinfo("192.0.2.1", 80)
                    assert len(pycares_ng.query("example.test", "NS")) == 2
            done.append(index)
        except BaseException as exc:  # reported in the test body
            errors.append((index, repr(exc)))

    threads = [threading.Thread(target=work, args=(i,), name=f"resolver-{i}") for i in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert [t.name for t in threads if t.is_alive()] == []
    assert errors == []
    assert sorted(done) == list(range(8))


def test_each_thread_has_its_own_resolver(dns_server):
    configure(dns_server.address)
    seen = []

    def grab():
        pycares_ng.gethostbyname("www.example.test")
        seen.append(id(blocking._resolver()))

    threads = [threading.Thread(target=grab) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    grab()
    assert len(set(seen)) == 4


def test_configure_checks_options_and_applies_everywhere(dns_server):
    with pytest.raises(TypeError):
        blocking.configure(sock_state_cb=print)
    with pytest.raises(TypeError):
        blocking.configure(no_such_option=1)
    with pytest.raises(ValueError):
        blocking.configure(servers=["not an address"], resolvconf_path=empty_resolv_conf())
    configure(dns_server.address)
    assert pycares_ng.gethostbyname("www.example.test") == "192.0.2.10"
    configure()  # nobody listens: the very next call sees it
    with pytest.raises(socket.gaierror) as info:
        pycares_ng.gethostbyname("www.example.test", timeout=5.0)
    assert info.value.errno == socket.EAI_AGAIN


def test_forked_child_gets_a_fresh_resolver(dns_server, tmp_path):
    script = tmp_path / "fork_child.py"
    script.write_text(
        "import os, sys, pycares_ng\n"
        "from pycares_ng import blocking\n"
        f"blocking.configure(servers=[{dns_server.address!r}], resolvconf_path={empty_resolv_conf()!r},"
        " timeout=2.0, tries=1)\n"
        "assert pycares_ng.gethostbyname('www.example.test') == '192.0.2.10'\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    ok = pycares_ng.gethostbyname('dual.example.test') == '192.0.2.20'\n"
        "    os._exit(0 if ok else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "assert pycares_ng.gethostbyname('multi.example.test') in ('192.0.2.31', '192.0.2.32', '192.0.2.33')\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


# -- the same as the socket module, on DNS names (private network namespace) --------------------

@pytest.mark.parametrize("hosts", ["test", "debian"])
def test_same_as_socket_module_on_dns_names(tmp_path, hosts):
    """pycares_ng's helpers and the socket module (glibc), side by side on NSD's names and a
    hosts file bind-mounted over /etc/hosts: the test's own (hosts="test"), or exactly Debian's
    default file (hosts="debian"), where glibc reads "::1 localhost ip6-localhost ip6-loopback"
    as 127.0.0.1 for IPv4 lookups (tests/netns_compare.py)."""
    reason = netns.unavailable_reason()
    if reason:
        pytest.skip(f"no private network namespace here: {reason}")
    report = netns_compare.run(hosts, "blocking", cwd=tmp_path)
    assert report["version"] == pycares_ng.ARES_VERSION
    assert report["cases"] > 200
    assert netns_compare.problems(report) == []
    # Order: same entries, possibly sorted differently (RFC 6724 by glibc and by c-ares).
    assert len(report["order_only"]) <= 5, report["order_only"]


def test_docs_examples_run(tmp_path):
    """The Python examples of docs/blocking.rst run as they are (offline) and exit cleanly."""
    import re

    doc = TESTS_DIR.parent / "docs" / "blocking.rst"
    if not doc.exists():
        pytest.skip("docs/ is not next to tests/ here")
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", doc.read_text())
    assert len(blocks) >= 3
    for block in blocks:
        code = "\n".join(line[3:] for line in block.splitlines())
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=30, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
