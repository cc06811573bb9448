"""Host resolution (issue #3): gethostbyname, gethostbyaddr, getaddrinfo, getnameinfo, the hosts
file and the ``lookups`` order, and the cases that break other bindings.

Everything talks to loopback only: NSD (``dns_server``, tests/data/*.zone) and
pycares_ng.testing.FaultServer on 127.0.0.1, an empty resolv.conf, a private hosts file named by
``CARES_HOSTS`` (never the machine's /etc/hosts). The comparisons with the system resolver run in a
child process inside private mount, network (loopback only) and, for NOFQDN, UTS namespaces
(``unshare``), where a bind mount puts our hosts file over /etc/hosts.

Results follow pycares 4: ``ares_host_result(name, aliases, addresses)``;
``ares_addrinfo_result(cnames, nodes)`` with ``addr`` = ``(ip bytes, port)`` or
``(ip bytes, port, flowinfo, scope_id)``; ``ares_nameinfo_result(node, service)``.

Node shape (pycares 4.11, which bundles c-ares 1.34.5)
-------------------------------------------------------
``Channel.getaddrinfo`` answers in c-ares's shape, not glibc's: ONE node per address (no expansion
into STREAM/DGRAM/RAW), every node's ``socktype`` and ``protocol`` copied from the ``type`` and
``proto`` hints as given (0/0 by default), and the port: ``None`` -> 0, an int -> its decimal text,
a service name -> ``getservbyname(name, "tcp")`` (unless ARES_AI_NUMERICSERV), else
``strtoul(text, NULL, 0)``; text without digits, or a value above 65535 (``-1`` wraps) is
ARES_ESERVICE through the callback. Literal addresses are answered without the network in the same
shape (ttl 0). ``host=None`` is a TypeError (pycares 4.11's ``parse_name``).

Agreement with the system resolver (glibc), item 6 of the issue
---------------------------------------------------------------
Compared: ``getaddrinfo`` for names of a hosts file (``lookups="f"``, CARES_HOSTS = the file
bind-mounted over /etc/hosts, nsswitch ``hosts: files``) and for literal addresses, over families x
socket types x ports x flags. glibc's answer is projected onto c-ares's shape: its distinct
(family, sockaddr) addresses, in glibc's order, must be pycares_ng's addresses (a set for names;
the same order for literals), each exactly once; every pycares_ng node must carry the asked type
and proto; the port must be the c-ares one (``cares_port`` below: the tcp service port). Where both
fail the call agrees (the error codes differ by design: ARES_E* vs EAI_*).

* Same addresses: names and literals with numeric ports or None, every family, socket type 0/STREAM/
  DGRAM (with or without their usual protocol), CANONNAME, NOSORT, PASSIVE with a host, V4MAPPED /
  ALL with AF_INET6, and ADDRCONFIG with AF_UNSPEC on a loopback-only machine (glibc does not
  filter there, and c-ares never does). With ADDRCONFIG and AF_INET or AF_INET6 alone, glibc on a
  loopback-only machine refuses even 127.0.0.1 (RFC 3493: loopback addresses do not count);
  pycares_ng deliberately does not copy that (test_addrconfig_on_loopback_only_machine).
* Where glibc refuses only because of the hints or the service, c-ares semantics are asserted
  explicitly, with the addresses glibc gives when asked with SOCK_STREAM and no service: a service
  that exists only for the other socket type (glibc: EAI_SERVICE; c-ares: the tcp port, or
  ARES_ESERVICE for a udp-only service, even where glibc succeeds with SOCK_DGRAM entries);
  SOCK_RAW with a port, STREAM+UDP and DGRAM+TCP (glibc: errors; c-ares: the hints copied).
  A protocol without a socket type keeps socktype 0 (glibc infers STREAM for TCP, DGRAM for UDP).
* Order: both sort addresses by RFC 6724 (c-ares ``ares__sortaddrinfo``, glibc ``rfc3484_sort``);
  they can differ where /etc/gai.conf changes glibc's precedence table (c-ares ignores gai.conf),
  and glibc repeats 127.0.0.1 for ``localhost`` with AF_INET when the file also maps ``::1
  localhost`` (the projection keeps distinct addresses). ARES_AI_NOSORT keeps the answer order
  (glibc has no such flag).
* Other differences pycares_ng removes, each a strict test (group) below: ARES_AI_NUMERICHOST with
  a name (glibc refuses it); gethostbyname of a hosts-file alias (glibc: the canonical name);
  gethostbyaddr of an address whose name has several addresses (c-ares 1.34 lists them all, glibc
  only the one asked); getnameinfo's numeric IPv6 form ('%0' appended by c-ares for scope 0) and
  port 0 (no service instead of '0').
* Not compared (glibc-only extensions nobody should rely on): inet_aton shorthands such as
  ``127.1`` or ``0x7f.1`` (literals for glibc, names for c-ares and pycares_ng: inet_pton rules);
  ``::ffff:a.b.c.d`` with AF_INET (glibc answers the IPv4 address); ``fe80::1%lo`` scoped
  literals (inet_pton refuses them; c-ares 1.34 says ARES_EBADNAME); ``host=None`` (a TypeError
  for Channel.getaddrinfo).
"""
from __future__ import annotations

import gc
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

import pytest

import pycares_ng
from pycares_ng import errno as E
from pycares_ng.testing import FaultServer

from helpers import Collector, make_channel, run_until

CARES = tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2])
TESTS_DIR = Path(__file__).resolve().parent

AF_UNSPEC, AF_INET, AF_INET6 = socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6
STREAM, DGRAM, RAW = socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW
SEQPACKET = socket.SOCK_SEQPACKET
TCP, UDP = socket.IPPROTO_TCP, socket.IPPROTO_UDP
FAMILY_NAMES = {AF_UNSPEC: "unspec", AF_INET: "inet", AF_INET6: "inet6"}

AI = {name: getattr(pycares_ng, "ARES_AI_" + name) for name in (
    "CANONNAME", "NUMERICHOST", "PASSIVE", "NUMERICSERV", "V4MAPPED", "ALL", "ADDRCONFIG", "NOSORT",
    "ENVHOSTS")}
NI = {name: getattr(pycares_ng, "ARES_NI_" + name) for name in (
    "NOFQDN", "NUMERICHOST", "NAMEREQD", "NUMERICSERV", "DGRAM", "TCP", "UDP", "NUMERICSCOPE",
    "LOOKUPHOST", "LOOKUPSERVICE")}

#: The private hosts file of the hosts-file tests (and, bind-mounted, of the system comparison).
HOSTS_TEXT = """\
# pycares_ng tests: never the machine's /etc/hosts
127.0.0.1 localhost
::1 localhost
192.0.2.101 v4only.hosts.test v4alias
2001:db8::102 v6only.hosts.test
192.0.2.103 dual.hosts.test
2001:db8::103 dual.hosts.test
192.0.2.104 multi.hosts.test
192.0.2.105 multi.hosts.test
2001:db8::104 multi.hosts.test
"""


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

class Outcome(NamedTuple):
    result: Any
    errno: Optional[int]
    during_call: int  #: callbacks that had run when the method returned


def errname(errno: Optional[int]) -> str:
    return "success" if errno is None else E.errorcode.get(errno, str(errno))


def call(channel: pycares_ng.Channel, method: str, *args: Any, timeout: float = 10.0,
         **kwargs: Any) -> Outcome:
    """One request (the callback goes after *args*); drive the channel until it is answered."""
    c = Collector()
    getattr(channel, method)(*args, c.cb, **kwargs)
    during = len(c)
    assert run_until(channel, lambda: len(c) >= 1, timeout), f"no callback for {method}{args!r}"
    result, errno = c.one
    return Outcome(result, errno, during)


def succeed(channel: pycares_ng.Channel, method: str, *args: Any, **kwargs: Any) -> Any:
    out = call(channel, method, *args, **kwargs)
    assert out.errno is None, f"{method}{args!r} {kwargs}: {errname(out.errno)}"
    return out.result


def entries(result: Any) -> List[tuple]:
    """getaddrinfo nodes as (family, socktype, protocol, sockaddr with a str ip)."""
    return [(n.family, n.socktype, n.protocol, (n.addr[0].decode(),) + tuple(n.addr[1:]))
            for n in result.nodes]


def ips(result: Any) -> List[str]:
    return [n.addr[0].decode() for n in result.nodes]


def node(ip: str, port: int, socktype: int = 0, proto: int = 0) -> tuple:
    """The one entry c-ares gives an address: the hints' socket type and protocol, as given."""
    family = AF_INET6 if ":" in ip else AF_INET
    sockaddr = (ip, port, 0, 0) if family == AF_INET6 else (ip, port)
    return (family, socktype, proto, sockaddr)


def _strtoul(text: str) -> Optional[int]:
    """C's strtoul(text, NULL, 0) (64-bit unsigned long): the value, or None if no digit was read."""
    s = text.lstrip(" \t\n\v\f\r")
    negative = s[:1] == "-"
    if s[:1] in ("-", "+"):
        s = s[1:]
    if s[:2].lower() == "0x" and s[2:3].lower() in set("0123456789abcdef"):
        base, s = 16, s[2:]
    else:
        base = 8 if s[:1] == "0" else 10
    digits = ""
    for ch in s.lower():
        if ch not in "0123456789abcdef"[:base]:
            break
        digits += ch
    if not digits:
        return None
    value = int(digits, base)
    if value > 2 ** 64 - 1:
        return 2 ** 64 - 1  # ERANGE: ULONG_MAX, whatever the sign
    return (2 ** 64 - value) % 2 ** 64 if negative else value


def cares_port(port: Any, flags: int = 0) -> Optional[int]:
    """The port getaddrinfo gives *port* (pycares 4.11 / c-ares semantics), None for ARES_ESERVICE:
    None -> 0; an int -> its decimal text; a name /etc/services knows for tcp (unless NUMERICSERV);
    else strtoul(text, base 0), where no digits at all or a value above 65535 is ARES_ESERVICE."""
    if port is None:
        return 0
    text = str(port) if isinstance(port, int) else port.decode() if isinstance(port, bytes) else port
    if not flags & AI["NUMERICSERV"]:
        try:
            found = socket.getservbyname(text, "tcp")
        except OSError:
            found = 0
        if found:
            return found
    value = _strtoul(text)
    return None if value is None or value > 65535 else value


def no_ptr(server: FaultServer, name: str) -> None:
    """Make *name* exist with an A record only (AAAA answered NODATA)."""
    server.records[(name, "AAAA")] = []


@pytest.fixture(autouse=True)
def _no_outside_cares_hosts(monkeypatch):
    """A CARES_HOSTS set outside the tests must not change what they see."""
    monkeypatch.delenv("CARES_HOSTS", raising=False)


@pytest.fixture(autouse=True)
def unraisable(monkeypatch):
    """Exceptions raised by callbacks; the test fails if one is left unexamined."""
    seen: List[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    yield seen
    assert not seen, f"callbacks raised: {[u.exc_value for u in seen]!r}"


@pytest.fixture
def channel(dns_server):
    """A channel on NSD (loopback), DNS only."""
    with make_channel(dns_server.address, lookups="b") as ch:
        yield ch


@pytest.fixture
def hosts_file(tmp_path, monkeypatch) -> Path:
    """HOSTS_TEXT in a private file, named by CARES_HOSTS."""
    path = tmp_path / "hosts"
    path.write_text(HOSTS_TEXT)
    monkeypatch.setenv("CARES_HOSTS", str(path))
    return path


def test_everything_stays_on_loopback(channel, fault_server):
    """Item 7: the servers every test here uses are loopback addresses."""
    with make_channel(fault_server.address) as ch:
        servers = list(channel.servers) + list(ch.servers)
    assert servers and all(s.startswith(("127.0.0.1", "[::1]")) for s in servers), servers


# ---------------------------------------------------------------------------------------------
# 1. gethostbyname / gethostbyaddr
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, family, addresses", [
    ("www.example.test", AF_INET, ["192.0.2.10"]),
    ("ipv6only.example.test", AF_INET6, ["2001:db8::6"]),
    ("dual.example.test", AF_INET, ["192.0.2.20"]),
    ("dual.example.test", AF_INET6, ["2001:db8::20"]),
    ("www.example.test", AF_UNSPEC, ["192.0.2.10"]),
    ("ipv6only.example.test", AF_UNSPEC, ["2001:db8::6"]),
], ids=lambda v: FAMILY_NAMES.get(v, None) if isinstance(v, int) else None)
def test_gethostbyname(channel, name, family, addresses):
    result = succeed(channel, "gethostbyname", name, family)
    assert type(result) is pycares_ng.ares_host_result
    assert result == pycares_ng.ares_host_result(name, [], addresses)
    assert isinstance(result.name, str) and all(isinstance(a, str) for a in result.addresses)


def test_gethostbyname_several_addresses(channel):
    result = succeed(channel, "gethostbyname", "multi.example.test", AF_INET)
    assert (result.name, result.aliases) == ("multi.example.test", [])
    assert sorted(result.addresses) == ["192.0.2.31", "192.0.2.32", "192.0.2.33"]


def test_gethostbyname_unspec_gives_one_family(channel):
    """AF_UNSPEC: the addresses of one family only, that of the first address (as c-ares' own
    ares_gethostbyname does); which one comes first is the RFC 6724 sort's choice."""
    result = succeed(channel, "gethostbyname", "dual.example.test", AF_UNSPEC)
    assert result.name == "dual.example.test"
    assert result.addresses in (["192.0.2.20"], ["2001:db8::20"])


@pytest.mark.parametrize("addr, name, ptr_names", [
    ("192.0.2.10", "www.example.test", {"www.example.test"}),
    ("192.0.2.40", "chain-c.example.test", {"chain-c.example.test"}),
    ("2001:db8::20", "dual.example.test", {"dual.example.test"}),
    ("2001:db8::6", "ipv6only.example.test", {"ipv6only.example.test"}),
    ("192.0.2.50", None, {"shared1.example.test", "shared2.example.test"}),
    ("2001:db8::50", None, {"shared1.example.test", "shared2.example.test"}),
])
def test_gethostbyaddr_dns_ptr(channel, addr, name, ptr_names):
    """Reverse lookups through DNS PTR records, on every c-ares. c-ares repeats the PTR name in
    `aliases` (glibc would not); with two PTR records the name is one of them, every other one
    an alias."""
    result = succeed(channel, "gethostbyaddr", addr)
    assert type(result) is pycares_ng.ares_host_result
    assert result.addresses == [addr]
    assert result.name in ptr_names and (name is None or result.name == name)
    assert {result.name, *result.aliases} == ptr_names


@pytest.mark.parametrize("addr", ["192.0.2.99", "2001:db8::99"])
def test_gethostbyaddr_without_ptr_is_not_found(channel, addr):
    assert call(channel, "gethostbyaddr", addr).errno == E.ARES_ENOTFOUND


@pytest.mark.parametrize("addr, exc", [
    ("bogus", ValueError), ("", ValueError), ("1.2.3", ValueError), ("1.2.3.4.5", ValueError),
    ("::1::", ValueError), ("fe80::1%lo", ValueError), ("192.0.2.1 ", ValueError),
    (None, TypeError), (3232235777, TypeError),
])
def test_gethostbyaddr_invalid_address(addr, exc, fault_server):
    cb = Collector()
    with make_channel(fault_server.address) as ch:
        with pytest.raises(exc, match="addr"):
            ch.gethostbyaddr(addr, cb.cb)
        run_until(ch, lambda: False, 0.05)
    assert len(cb) == 0 and fault_server.queries == []


# ---------------------------------------------------------------------------------------------
# 2. getaddrinfo: shapes, ports, socket types, families
# ---------------------------------------------------------------------------------------------

def test_getaddrinfo_result_shape(channel):
    """c-ares's shape: one node per address, socktype and protocol 0 when no hints are given (no
    STREAM/DGRAM/RAW expansion), the port in every sockaddr, the record's TTL."""
    result = succeed(channel, "getaddrinfo", "dual.example.test", 80)
    assert type(result) is pycares_ng.ares_addrinfo_result
    assert result.cnames == []
    for n in result.nodes:
        assert type(n) is pycares_ng.ares_addrinfo_node_result
        assert n.flags == 0
        assert isinstance(n.addr[0], bytes)
        if n.family == AF_INET:
            assert (n.ttl, len(n.addr)) == (500, 2)
        else:
            assert (n.family, n.ttl, n.addr[1:]) == (AF_INET6, 700, (80, 0, 0))
    assert sorted(entries(result)) == sorted([node("192.0.2.20", 80), node("2001:db8::20", 80)])


@pytest.mark.parametrize("port, number", [
    (80, 80), (0, 0), (65535, 65535), ("8080", 8080), (b"8080", 8080), (None, 0),
    ("domain", socket.getservbyname("domain", "tcp")), ("http", socket.getservbyname("http", "tcp")),
    ("0x1F90", 8080), ("017620", 8080), (" 8080", 8080), ("8080abc", 8080), ("-0", 0),
], ids=repr)
def test_getaddrinfo_port_forms(channel, port, number):
    """The port: None -> 0, an int as its decimal text, a service name -> its tcp port, other text
    -> what strtoul(text, NULL, 0) reads (hex, octal, leading blanks, trailing junk)."""
    assert cares_port(port) == number  # the oracle used by the system comparison agrees
    result = succeed(channel, "getaddrinfo", "www.example.test", port, type=STREAM)
    assert entries(result) == [node("192.0.2.10", number, STREAM, 0)]


@pytest.mark.parametrize("port, exc", [(8.0, TypeError), ([80], TypeError)], ids=repr)
def test_getaddrinfo_bad_port(port, exc, fault_server):
    """Ports of the wrong type raise; nothing is sent or called back."""
    cb = Collector()
    with make_channel(fault_server.address) as ch:
        with pytest.raises(exc, match="port"):
            ch.getaddrinfo("www.example.test", port, cb.cb)
        run_until(ch, lambda: False, 0.05)
    assert len(cb) == 0 and fault_server.queries == []


@pytest.mark.parametrize("host", ["www.example.test", "192.0.2.7", "2001:db8::7"])
@pytest.mark.parametrize("port", [-1, 65536, 70000, 2 ** 70, -2 ** 70, "65536", "-1", "99999999999999999999999",
                                  "", "x" * 100], ids=repr)
def test_getaddrinfo_port_out_of_range_is_eservice(fault_server, host, port):
    """pycares 4.11 turns an int port into its text and c-ares judges it: out of 0..65535 (a
    negative number wraps in strtoul) is ARES_ESERVICE through the callback, not an exception,
    for a name as for a literal; nothing is sent."""
    assert cares_port(port) is None
    with make_channel(fault_server.address) as ch:
        out = call(ch, "getaddrinfo", host, port)
    assert (out.result, errname(out.errno)) == (None, "ARES_ESERVICE")
    assert fault_server.queries == []


def test_getaddrinfo_unknown_service_name(channel):
    """A service name /etc/services does not know is ARES_ESERVICE (glibc: EAI_SERVICE), for a
    name as for a literal. c-ares 1.34 alone answers it with port 0."""
    assert call(channel, "getaddrinfo", "192.0.2.7", "no-such-service").errno == E.ARES_ESERVICE
    assert call(channel, "getaddrinfo", "www.example.test", "no-such-service").errno == E.ARES_ESERVICE


def test_getaddrinfo_service_is_looked_up_for_tcp(channel):
    """A service name is looked up for tcp whatever the socket type: a tcp-only one (http) gives
    its port even with SOCK_DGRAM, a udp-only one (tftp) is ARES_ESERVICE even with SOCK_DGRAM."""
    http = succeed(channel, "getaddrinfo", "www.example.test", "http", type=DGRAM)
    assert entries(http) == [node("192.0.2.10", socket.getservbyname("http", "tcp"), DGRAM, 0)]
    tftp = cares_port("tftp")
    for socktype in (0, DGRAM):
        out = call(channel, "getaddrinfo", "www.example.test", "tftp", type=socktype)
        if tftp is None:  # udp-only, as /etc/services normally has it
            assert (out.result, errname(out.errno)) == (None, "ARES_ESERVICE")
        else:
            assert out.errno is None and entries(out.result) == [node("192.0.2.10", tftp, socktype, 0)]


@pytest.mark.parametrize("socktype, proto", [
    (0, 0), (STREAM, 0), (DGRAM, 0), (RAW, 0), (STREAM, TCP), (DGRAM, UDP), (0, TCP), (0, UDP),
    (STREAM, UDP), (DGRAM, TCP), (SEQPACKET, 0), (12345, -7), (-2 ** 31, 2 ** 31 - 1),
], ids=str)
def test_getaddrinfo_socket_types(channel, socktype, proto):
    """As c-ares: one node per address whatever the hints, its socket type and protocol copied
    from them as given (no usual protocol filled in, no type inferred from the protocol, any C
    int accepted)."""
    result = succeed(channel, "getaddrinfo", "www.example.test", None, type=socktype, proto=proto)
    assert entries(result) == [node("192.0.2.10", 0, socktype, proto)]


@pytest.mark.parametrize("name", ["type", "proto", "flags"])
@pytest.mark.parametrize("value", [2 ** 31, -2 ** 31 - 1, 2 ** 40], ids=str)
def test_getaddrinfo_hints_beyond_c_int_overflow(fault_server, name, value):
    """type, proto and flags are C ints (pycares 4.11 hands them to cffi): OverflowError beyond."""
    cb = Collector()
    with make_channel(fault_server.address) as ch:
        with pytest.raises(OverflowError):
            ch.getaddrinfo("www.example.test", 80, cb.cb, **{name: value})
        run_until(ch, lambda: False, 0.05)
    assert len(cb) == 0 and fault_server.queries == []


def test_getaddrinfo_unspec_returns_both_families(channel):
    result = succeed(channel, "getaddrinfo", "dual.example.test", None, type=STREAM)
    assert sorted(ips(result)) == ["192.0.2.20", "2001:db8::20"]


@pytest.mark.parametrize("family, expected", [(AF_INET, ["192.0.2.20"]), (AF_INET6, ["2001:db8::20"])],
                         ids=["inet", "inet6"])
def test_getaddrinfo_family_filter(channel, family, expected):
    result = succeed(channel, "getaddrinfo", "dual.example.test", None, family=family, type=STREAM)
    assert ips(result) == expected and {n.family for n in result.nodes} == {family}


def test_getaddrinfo_several_addresses(channel):
    result = succeed(channel, "getaddrinfo", "multi.example.test", 443, family=AF_INET, type=DGRAM)
    assert sorted(entries(result)) == [node(f"192.0.2.3{i}", 443, DGRAM, 0) for i in (1, 2, 3)]
    assert {n.ttl for n in result.nodes} == {120}


@pytest.mark.parametrize("method, args", [
    ("gethostbyname", ("www.example.test", "family")),
    ("getaddrinfo", ("www.example.test", 80)),
])
@pytest.mark.parametrize("family", [socket.AF_UNIX, 99, -1, getattr(socket, "AF_PACKET", 17), 2 ** 31 - 1,
                                    -2 ** 31])
def test_unknown_family_is_reported_through_the_callback(fault_server, method, args, family):
    """As pycares 4 and libcares: gethostbyname and getaddrinfo answer an int (within the C int
    range) that is no address family with ARES_ENOTIMP through the callback; nothing is sent."""
    c = Collector()
    with make_channel(fault_server.address) as ch:
        if method == "gethostbyname":
            ch.gethostbyname(args[0], family, c.cb)
        else:
            ch.getaddrinfo(args[0], args[1], c.cb, family=family)
        assert c.calls == [(None, pycares_ng.errno.ARES_ENOTIMP)]
    assert fault_server.queries == []


@pytest.mark.parametrize("method", ["gethostbyname", "getaddrinfo"])
@pytest.mark.parametrize("family", [2 ** 31, -2 ** 31 - 1, 2 ** 40], ids=str)
def test_family_beyond_c_int_overflows(fault_server, method, family):
    """A family outside the C int range is an OverflowError (pycares 4.11's cffi), not ENOTIMP;
    nothing is called back or sent."""
    c = Collector()
    with make_channel(fault_server.address) as ch:
        with pytest.raises(OverflowError):
            if method == "gethostbyname":
                ch.gethostbyname("www.example.test", family, c.cb)
            else:
                ch.getaddrinfo("www.example.test", 80, c.cb, family=family)
        run_until(ch, lambda: False, 0.05)
    assert len(c) == 0 and fault_server.queries == []


def test_family_of_the_wrong_type_raises(fault_server):
    c = Collector()
    with make_channel(fault_server.address) as ch:
        for family in ("AF_INET", None, 2.0):
            with pytest.raises(TypeError):
                ch.gethostbyname("www.example.test", family, c.cb)
            with pytest.raises(TypeError):
                ch.getaddrinfo("www.example.test", 80, c.cb, family=family)
        run_until(ch, lambda: False, 0.05)
    assert len(c) == 0 and fault_server.queries == []


def test_getaddrinfo_unknown_flag_bits(fault_server):
    """Flags are checked (unlike pycares 4.11): unknown bits and negative values are ValueError."""
    with make_channel(fault_server.address) as ch:
        for bits in (1 << 20, 1 << 30):
            with pytest.raises(ValueError, match="ARES_AI_"):
                ch.getaddrinfo("www.example.test", 80, Collector().cb, flags=bits)
        for bits in (-1, -2 ** 31):
            with pytest.raises(ValueError, match="flags"):
                ch.getaddrinfo("www.example.test", 80, Collector().cb, flags=bits)
    assert fault_server.queries == []


# ---------------------------------------------------------------------------------------------
# 2. getaddrinfo: every ARES_AI_* flag, each observed
# ---------------------------------------------------------------------------------------------

CHAIN_CNAMES = [
    pycares_ng.ares_addrinfo_cname_result(1000, "chain-a.example.test", "chain-b.example.test"),
    pycares_ng.ares_addrinfo_cname_result(2000, "chain-b.example.test", "chain-c.example.test"),
]


def test_ai_canonname_gives_the_cname_chain(channel):
    """CANONNAME: `cnames` lists the chain (alias -> name, with each CNAME's TTL); the last name is
    the canonical one. (c-ares fills cnames without the flag too.) One node for the one address."""
    result = succeed(channel, "getaddrinfo", "chain-a.example.test", 80, flags=AI["CANONNAME"])
    assert result.cnames == CHAIN_CNAMES
    assert entries(result) == [node("192.0.2.40", 80)]
    assert {n.ttl for n in result.nodes} == {42}


def test_ai_canonname_single_cname(channel):
    result = succeed(channel, "getaddrinfo", "alias.example.test", None, type=STREAM, flags=AI["CANONNAME"])
    assert result.cnames == [pycares_ng.ares_addrinfo_cname_result(1500, "alias.example.test", "www.example.test")]
    assert ips(result) == ["192.0.2.10"]


def test_ai_numerichost_with_a_literal(fault_server):
    with make_channel(fault_server.address) as ch:
        result = succeed(ch, "getaddrinfo", "192.0.2.7", 80, type=STREAM, flags=AI["NUMERICHOST"])
    assert entries(result) == [node("192.0.2.7", 80, STREAM, 0)]
    assert fault_server.queries == []


def test_ai_numerichost_with_a_name_fails_without_a_query(fault_server):
    """NUMERICHOST promises no name resolution: a name is an error and nothing is sent (glibc:
    EAI_NONAME). c-ares ignores the flag, so pycares_ng has to refuse the name itself."""
    with make_channel(fault_server.address, lookups="b") as ch:
        out = call(ch, "getaddrinfo", "numeric-only.test", 80, flags=AI["NUMERICHOST"])
    assert out.errno in (E.ARES_ENOTFOUND, E.ARES_ENONAME), errname(out.errno)
    assert fault_server.queries == []


def test_ai_numericserv(channel):
    """NUMERICSERV: no service lookup, the number strtoul reads (c-ares: base 0, so hex too)."""
    result = succeed(channel, "getaddrinfo", "www.example.test", "8080", type=STREAM, flags=AI["NUMERICSERV"])
    assert entries(result) == [node("192.0.2.10", 8080, STREAM, 0)]
    result = succeed(channel, "getaddrinfo", "192.0.2.7", 8080, type=STREAM, flags=AI["NUMERICSERV"])
    assert entries(result) == [node("192.0.2.7", 8080, STREAM, 0)]
    result = succeed(channel, "getaddrinfo", "192.0.2.7", "0x1f90", flags=AI["NUMERICSERV"])
    assert entries(result) == [node("192.0.2.7", 8080)]


@pytest.mark.parametrize("host", ["192.0.2.7", "www.example.test"])
def test_ai_numericserv_refuses_a_service_name(channel, host):
    """NUMERICSERV + "http" is an error (glibc: EAI_NONAME), for a literal and for a name.
    (c-ares 1.34 resolves the name with port 0.)"""
    assert call(channel, "getaddrinfo", host, "http", flags=AI["NUMERICSERV"]).errno == E.ARES_ESERVICE


@pytest.mark.parametrize("port", [8080, None, "http", -1], ids=repr)
@pytest.mark.parametrize("family, flags", [
    (AF_INET, AI["PASSIVE"]), (AF_INET6, AI["PASSIVE"]), (AF_INET, 0), (AF_INET6, 0), (AF_UNSPEC, AI["PASSIVE"]),
    (AF_UNSPEC, 0),
], ids=["inet-passive", "inet6-passive", "inet", "inet6", "unspec-passive", "unspec"])
def test_getaddrinfo_without_host_is_a_type_error(fault_server, family, flags, port):
    """host=None is a TypeError, as pycares 4.11's parse_name() raises it (there is no "no host"
    form on a Channel, whatever the port, family or PASSIVE): nothing is called back or sent,
    and the channel stays usable. (The blocking pycares_ng.getaddrinfo keeps host=None.)"""
    cb = Collector()
    with make_channel(fault_server.address) as ch:
        with pytest.raises(TypeError, match="host"):
            ch.getaddrinfo(None, port, cb.cb, family=family, type=STREAM, flags=flags)
        run_until(ch, lambda: False, 0.05)
        assert len(cb) == 0
        assert entries(succeed(ch, "getaddrinfo", "127.0.0.1", 80)) == [node("127.0.0.1", 80)]
    assert fault_server.queries == []


def test_ai_passive_is_ignored_with_a_host(channel):
    result = succeed(channel, "getaddrinfo", "www.example.test", 80, type=STREAM, flags=AI["PASSIVE"])
    assert ips(result) == ["192.0.2.10"]


def test_getaddrinfo_host_none_check_order(fault_server):
    """pycares 4.11's order: the callback first, then the arguments, then the closed channel,
    then the name -- so host=None with port=None is the host's TypeError (no "host and port"
    error any more), a bad callback wins over it, and a closed channel raises RuntimeError."""
    cb = Collector()
    ch = make_channel(fault_server.address)
    with pytest.raises(TypeError, match="host"):
        ch.getaddrinfo(None, None, cb.cb)
    with pytest.raises(TypeError, match="callable"):
        ch.getaddrinfo(None, None, "not callable")
    with pytest.raises(TypeError, match="port"):
        ch.getaddrinfo(None, 8.0, cb.cb)
    ch.close()
    with pytest.raises(TypeError, match="port"):
        ch.getaddrinfo(None, 8.0, cb.cb)
    with pytest.raises(RuntimeError):
        ch.getaddrinfo(None, 80, cb.cb)
    assert len(cb) == 0 and fault_server.queries == []


def test_ai_v4mapped_literal(fault_server):
    with make_channel(fault_server.address) as ch:
        result = succeed(ch, "getaddrinfo", "192.0.2.7", 80, family=AF_INET6, type=STREAM, flags=AI["V4MAPPED"])
        assert entries(result) == [node("::ffff:192.0.2.7", 80, STREAM, 0)]
        assert call(ch, "getaddrinfo", "192.0.2.7", 80, family=AF_INET6).errno == E.ARES_ENOTFOUND
    assert fault_server.queries == []


def test_ai_v4mapped_name_with_aaaa_keeps_ipv6(channel):
    result = succeed(channel, "getaddrinfo", "dual.example.test", None, family=AF_INET6, type=STREAM,
                     flags=AI["V4MAPPED"])
    assert ips(result) == ["2001:db8::20"]


def test_ai_v4mapped_name_without_aaaa(channel):
    """AF_INET6 + V4MAPPED for a name with only an A record: the mapped address, as glibc does and
    as pycares_ng does for a literal. (c-ares ignores V4MAPPED: ARES_ENODATA.)"""
    out = call(channel, "getaddrinfo", "www.example.test", 80, family=AF_INET6, type=STREAM,
               flags=AI["V4MAPPED"])
    assert out.errno is None, errname(out.errno)
    assert entries(out.result) == [node("::ffff:192.0.2.10", 80, STREAM, 0)]


def test_ai_all_with_v4mapped(channel):
    """ALL | V4MAPPED: the IPv6 addresses and the mapped IPv4 ones (glibc, RFC 3493)."""
    out = call(channel, "getaddrinfo", "dual.example.test", None, family=AF_INET6, type=STREAM,
               flags=AI["ALL"] | AI["V4MAPPED"])
    assert out.errno is None, errname(out.errno)
    assert sorted(ips(out.result)) == ["2001:db8::20", "::ffff:192.0.2.20"]


def test_ai_addrconfig_is_accepted_and_changes_nothing(channel):
    """c-ares does not implement ADDRCONFIG (its manual documents only CANONNAME, NUMERICSERV,
    NOSORT and ENVHOSTS): both families come back whatever addresses the machine has. On a
    loopback-only machine that is also what glibc does (see test_addrconfig_on_loopback_only_machine)."""
    plain = succeed(channel, "getaddrinfo", "dual.example.test", 80, type=STREAM)
    with_flag = succeed(channel, "getaddrinfo", "dual.example.test", 80, type=STREAM, flags=AI["ADDRCONFIG"])
    assert sorted(entries(with_flag)) == sorted(entries(plain))
    assert {n.family for n in with_flag.nodes} == {AF_INET, AF_INET6}


def test_ai_nosort_keeps_the_answer_order(fault_server):
    """The server answers 192.0.2.50 then 127.0.0.1. Sorted (RFC 6724), 127.0.0.1 comes first
    (rule 1 if 192.0.2.50 is unreachable, else rule 8: smaller scope); NOSORT keeps the answer."""
    fault_server.add_record("sorted.test", "A", "192.0.2.50")
    fault_server.add_record("sorted.test", "A", "127.0.0.1")
    no_ptr(fault_server, "sorted.test")
    with make_channel(fault_server.address) as ch:
        unsorted = succeed(ch, "getaddrinfo", "sorted.test", None, family=AF_INET, type=STREAM, flags=AI["NOSORT"])
    with make_channel(fault_server.address) as ch:
        ordered = succeed(ch, "getaddrinfo", "sorted.test", None, family=AF_INET, type=STREAM)
    assert ips(unsorted) == ["192.0.2.50", "127.0.0.1"]
    assert ips(ordered) == ["127.0.0.1", "192.0.2.50"]


def test_ai_envhosts_explicit(hosts_file, fault_server):
    """ENVHOSTS: the hosts file named by CARES_HOSTS; no DNS query for a name it has."""
    with make_channel(fault_server.address) as ch:
        result = succeed(ch, "getaddrinfo", "v4only.hosts.test", 80, type=STREAM, flags=AI["ENVHOSTS"])
    assert entries(result) == [node("192.0.2.101", 80, STREAM, 0)]
    assert fault_server.queries == []


def test_cares_hosts_implies_envhosts(hosts_file, fault_server):
    """With CARES_HOSTS set, pycares_ng reads it without the flag, on every c-ares."""
    with make_channel(fault_server.address) as ch:
        result = succeed(ch, "getaddrinfo", "dual.hosts.test", 80, type=STREAM)
        host = succeed(ch, "gethostbyname", "v4only.hosts.test", AF_INET)
    assert sorted(ips(result)) == ["192.0.2.103", "2001:db8::103"]
    assert host.addresses == ["192.0.2.101"]
    assert fault_server.queries == []


def test_ai_envhosts_without_cares_hosts(fault_server):
    """ENVHOSTS while CARES_HOSTS is unset must fall back to the default hosts file, not break
    file lookups (c-ares 1.34 fails them with an internal ENOMEM, so even `localhost` goes wrong).
    Only `localhost` is asked: it resolves without DNS whatever the machine's hosts file holds."""
    assert "CARES_HOSTS" not in os.environ
    with make_channel(fault_server.address) as ch:
        out = call(ch, "getaddrinfo", "localhost", None, family=AF_INET, type=STREAM, flags=AI["ENVHOSTS"])
    assert out.errno is None, errname(out.errno)
    assert ips(out.result) == ["127.0.0.1"]
    assert fault_server.queries == []


# ---------------------------------------------------------------------------------------------
# 3. getnameinfo
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("address, name", [
    (("192.0.2.10", 80), "www.example.test"),
    (["192.0.2.10", 80], "www.example.test"),
    (("2001:db8::20", 80, 0, 0), "dual.example.test"),
    (["2001:db8::20", 80, 0, 0], "dual.example.test"),
], ids=repr)
@pytest.mark.parametrize("flags", [0, NI["LOOKUPHOST"]], ids=["flags0", "LOOKUPHOST"])
def test_getnameinfo_lookuphost(channel, address, name, flags):
    """The address is any sequence of 2 (IPv4) or 4 (IPv6) items, as pycares 4.11 takes it."""
    result = succeed(channel, "getnameinfo", address, flags)
    assert type(result) is pycares_ng.ares_nameinfo_result
    assert result == pycares_ng.ares_nameinfo_result(name, None)


@pytest.mark.parametrize("port, flags, service", [
    (514, 0, "shell"),
    (514, NI["TCP"], "shell"),
    (514, NI["DGRAM"], "syslog"),
    (514, NI["UDP"], "syslog"),
    (514, NI["NUMERICSERV"], "514"),
    (53, 0, "domain"),
    (65000, 0, "65000"),
], ids=["514-tcp", "514-NI_TCP", "514-DGRAM", "514-NI_UDP", "514-NUMERICSERV", "53", "65000-unknown"])
def test_getnameinfo_lookupservice(fault_server, port, flags, service):
    """LOOKUPSERVICE alone: the service name, looked up for TCP unless DGRAM/UDP says UDP (514
    is `shell` over TCP, `syslog` over UDP); no host lookup (node is ''), nothing sent."""
    with make_channel(fault_server.address) as ch:
        result = succeed(ch, "getnameinfo", ("192.0.2.10", port), NI["LOOKUPSERVICE"] | flags)
    assert result == pycares_ng.ares_nameinfo_result("", service)
    assert fault_server.queries == []


def test_getnameinfo_host_and_service(channel):
    result = succeed(channel, "getnameinfo", ("192.0.2.10", 514), NI["LOOKUPHOST"] | NI["LOOKUPSERVICE"])
    assert result == pycares_ng.ares_nameinfo_result("www.example.test", "shell")
    result = succeed(channel, "getnameinfo", ("2001:db8::20", 514, 0, 0),
                     NI["LOOKUPHOST"] | NI["LOOKUPSERVICE"] | NI["DGRAM"])
    assert result == pycares_ng.ares_nameinfo_result("dual.example.test", "syslog")


@pytest.mark.parametrize("address, node", [
    (("192.0.2.10", 80), "192.0.2.10"),
    (("2001:db8::20", 80, 0, 0), "2001:db8::20"),
])
def test_ni_numerichost_sends_nothing(fault_server, address, node):
    with make_channel(fault_server.address) as ch:
        result = succeed(ch, "getnameinfo", address, NI["LOOKUPHOST"] | NI["NUMERICHOST"])
    assert result == pycares_ng.ares_nameinfo_result(node, None)
    assert fault_server.queries == []


def test_ni_scope_id(fault_server):
    """A link-local address with scope_id 1: the interface name, or its number with NUMERICSCOPE."""
    ifname = socket.if_indextoname(1)
    with make_channel(fault_server.address) as ch:
        named = succeed(ch, "getnameinfo", ("fe80::1", 80, 0, 1), NI["LOOKUPHOST"] | NI["NUMERICHOST"])
        numeric = succeed(ch, "getnameinfo", ("fe80::1", 80, 0, 1),
                          NI["LOOKUPHOST"] | NI["NUMERICHOST"] | NI["NUMERICSCOPE"])
    assert named.node == f"fe80::1%{ifname}"
    assert numeric.node == "fe80::1%1"


@pytest.mark.parametrize("address", [("192.0.2.99", 80), ("2001:db8::99", 80, 0, 0)])
def test_ni_namereqd(channel, address):
    """No PTR: NAMEREQD fails (ARES_ENOTFOUND); without it the numeric form is the answer."""
    assert call(channel, "getnameinfo", address, NI["LOOKUPHOST"] | NI["NAMEREQD"]).errno == E.ARES_ENOTFOUND
    assert succeed(channel, "getnameinfo", address, NI["LOOKUPHOST"]).node == address[0]


NUMERIC_NI_CASES = [
    ("192.0.2.10", 80), ("192.0.2.10", 514), ("192.0.2.10", 65000), ("2001:db8::1", 80, 0, 0),
    ("2001:db8::1", 443, 0, 0), ("fe80::1", 80, 0, 1), ("::ffff:192.0.2.1", 443, 0, 0), ("::", 22, 0, 0),
    ("192.0.2.10", 0), ("2001:db8::1", 53, 0x12345, 0),
]


@pytest.mark.parametrize("dgram", [False, True], ids=["tcp", "udp"])
@pytest.mark.parametrize("address", NUMERIC_NI_CASES, ids=str)
def test_getnameinfo_agrees_with_system(fault_server, address, dgram):
    """Without the network, getnameinfo must give what socket.getnameinfo gives: the numeric
    host (no '%0' for scope 0) with NUMERICHOST, the numeric port with NUMERICSERV, and the
    service name (TCP or UDP) otherwise."""
    with make_channel(fault_server.address) as ch:
        base = NI["LOOKUPHOST"] | NI["LOOKUPSERVICE"] | NI["NUMERICHOST"] | (NI["DGRAM"] if dgram else 0)
        numeric = succeed(ch, "getnameinfo", address, base | NI["NUMERICSERV"])
        named = succeed(ch, "getnameinfo", address, base)
    sys_base = socket.NI_NUMERICHOST | (socket.NI_DGRAM if dgram else 0)
    assert (numeric.node, numeric.service) == socket.getnameinfo(address, sys_base | socket.NI_NUMERICSERV)
    assert (named.node, named.service) == socket.getnameinfo(address, sys_base)
    assert fault_server.queries == []


@pytest.mark.parametrize("address, exc", [
    (("192.0.2.10",), ValueError),
    (("192.0.2.10", 80, 0), ValueError),
    (("192.0.2.10", 80, 0, 0), ValueError),  # 4 items must be IPv6
    (["192.0.2.10", 80, 0, 0], ValueError),
    (("2001:db8::1", 80), ValueError),  # 2 items must be IPv4
    (["::1", 80], ValueError),
    (("2001:db8::1", 80, 0, 0, 0), ValueError),
    (("bogus", 80), ValueError),
    ("192.0.2.10", ValueError),  # str and bytes are no address, whatever their length
    ("ab", ValueError),
    (b"abcd", ValueError),
    (("2001:db8::1", 80, 0x100000, 0), ValueError),  # flowinfo is 20 bits
    (("192.0.2.10", 70000), OverflowError),  # socket.htons() in pycares 4.11
    (("192.0.2.10", 65536), OverflowError),
    (("192.0.2.10", -1), OverflowError),
    (("2001:db8::1", 80, -1, 0), OverflowError),
    (("2001:db8::1", 80, 1 << 32, 0), OverflowError),
    (("2001:db8::1", 80, 0, 1 << 32), OverflowError),
    (("2001:db8::1", 80, 0, 1 << 33), OverflowError),
    (("2001:db8::1", 80, 0, -1), OverflowError),
    (("192.0.2.10", "80"), TypeError),
    ((1234, 80), TypeError),
    (("2001:db8::1", 80, "0", 0), TypeError),
    (None, TypeError),
    (80, TypeError),
], ids=repr)
def test_getnameinfo_bad_address(fault_server, address, exc):
    """pycares 4.11's checks: 2 items for IPv4, 4 for IPv6, ValueError otherwise; the port, the
    flowinfo and the scope_id outside their C types are OverflowError; nothing is called back."""
    cb = Collector()
    with make_channel(fault_server.address) as ch:
        with pytest.raises(exc):
            ch.getnameinfo(address, 0, cb.cb)
        run_until(ch, lambda: False, 0.05)
    assert len(cb) == 0 and fault_server.queries == []


def test_getnameinfo_takes_the_whole_uint32_range(fault_server):
    """flowinfo up to 20 bits and scope_id up to 2**32 - 1 are accepted (bounds that a C long
    holds on ILP32 too: 0xFFFFFFFF as a long is -1 there, which once refused every value)."""
    cb = Collector()
    flags = pycares_ng.ARES_NI_NUMERICHOST | pycares_ng.ARES_NI_NUMERICSERV
    with make_channel(fault_server.address) as ch:
        ch.getnameinfo(("2001:db8::1", 80, 0xFFFFF, 0xFFFFFFFF), flags, cb.cb)
        ch.getnameinfo(("2001:db8::1", 80, 0, 0), flags, cb.cb)
        assert run_until(ch, lambda: len(cb) >= 2, 5.0)
    assert [e for _, e in cb.calls] == [None, None], cb.calls
    assert fault_server.queries == []


NOFQDN_SCRIPT = r'''
import json, socket, subprocess, sys
spec = json.loads(sys.argv[1])
socket.sethostname(spec["hostname"])
for source, target in spec["mounts"]:
    subprocess.run(["mount", "--bind", source, target], check=True)
sys.path[:0] = spec["sys_path"]
import pycares_ng
from helpers import make_channel, Collector, run_until
out = {"hostname": socket.gethostname()}
with make_channel(spec["server"], lookups="b") as ch:
    for addr in spec["addresses"]:
        for nofqdn in (False, True):
            flags = pycares_ng.ARES_NI_LOOKUPHOST | (pycares_ng.ARES_NI_NOFQDN if nofqdn else 0)
            c = Collector()
            ch.getnameinfo((addr, 80), flags, c.cb)
            run_until(ch, lambda: len(c) >= 1, 10)
            result, errno = c.one
            system = socket.getnameinfo((addr, 80), socket.NI_NOFQDN if nofqdn else 0)[0]
            out[f"{addr} {nofqdn}"] = [result.node if result else errno, system]
print(json.dumps(out))
'''


def test_ni_nofqdn_strips_the_local_domain(fault_server, tmp_path):
    """NOFQDN drops the machine's own domain from the PTR name (c-ares and glibc both take it from
    the host name). Run where the host name is client.example.test: a private UTS namespace;
    glibc gets the same names from a hosts file bind-mounted over /etc/hosts."""
    fault_server.add_record("7.2.0.192.in-addr.arpa", "PTR", "www.example.test")
    fault_server.add_record("8.2.0.192.in-addr.arpa", "PTR", "other.elsewhere.test")
    hosts = tmp_path / "hosts"
    hosts.write_text("192.0.2.7 www.example.test\n192.0.2.8 other.elsewhere.test\n")
    nsswitch = tmp_path / "nsswitch.conf"
    nsswitch.write_text("hosts: files\n")
    spec = {"hostname": "client.example.test", "server": fault_server.address,
            "addresses": ["192.0.2.7", "192.0.2.8"], "sys_path": _child_sys_path(),
            "mounts": [[str(hosts), "/etc/hosts"], [str(nsswitch), "/etc/nsswitch.conf"]]}
    out = json.loads(_run_in_namespaces(["--uts", "--mount", "--propagation", "private"], tmp_path,
                                        NOFQDN_SCRIPT, json.dumps(spec)))
    assert out.pop("hostname") == "client.example.test"
    assert out == {
        "192.0.2.7 False": ["www.example.test", "www.example.test"],
        "192.0.2.7 True": ["www", "www"],
        "192.0.2.8 False": ["other.elsewhere.test", "other.elsewhere.test"],
        "192.0.2.8 True": ["other.elsewhere.test", "other.elsewhere.test"],
    }
    assert socket.gethostname() != "client.example.test", "the machine's host name must not change"


# ---------------------------------------------------------------------------------------------
# 4. lookups "b", "f", "bf", "fb" with a private hosts file
# ---------------------------------------------------------------------------------------------

LOOKUPS_HOSTS = "192.0.2.201 both.lookups.test\n192.0.2.202 fileonly.lookups.test\n"
DNS_ANSWER = {"both": "198.51.100.201", "dnsonly": "198.51.100.203"}
FILE_ANSWER = {"both": "192.0.2.201", "fileonly": "192.0.2.202"}


@pytest.fixture
def lookups_setup(tmp_path, monkeypatch, fault_server):
    """both.* is in the file and in DNS (different addresses), fileonly.* only in the file (DNS
    says NXDOMAIN), dnsonly.* only in DNS."""
    path = tmp_path / "hosts"
    path.write_text(LOOKUPS_HOSTS)
    monkeypatch.setenv("CARES_HOSTS", str(path))
    for name, ip in DNS_ANSWER.items():
        fault_server.add_record(f"{name}.lookups.test", "A", ip)
    fault_server.rules["fileonly.lookups.test"] = "nxdomain"
    return fault_server


@pytest.mark.parametrize("lookups, expected", [
    ("b", {"both": DNS_ANSWER["both"], "fileonly": E.ARES_ENOTFOUND, "dnsonly": DNS_ANSWER["dnsonly"]}),
    ("f", {"both": FILE_ANSWER["both"], "fileonly": FILE_ANSWER["fileonly"], "dnsonly": "error"}),
    ("bf", {"both": DNS_ANSWER["both"], "fileonly": FILE_ANSWER["fileonly"], "dnsonly": DNS_ANSWER["dnsonly"]}),
    ("fb", {"both": FILE_ANSWER["both"], "fileonly": FILE_ANSWER["fileonly"], "dnsonly": DNS_ANSWER["dnsonly"]}),
])
@pytest.mark.parametrize("method", ["getaddrinfo", "gethostbyname"])
def test_lookups_order(lookups_setup, lookups, expected, method):
    server = lookups_setup
    for name, want in expected.items():
        before = len(server.queries)
        with make_channel(server.address, lookups=lookups) as ch:
            if method == "getaddrinfo":
                out = call(ch, "getaddrinfo", f"{name}.lookups.test", None, family=AF_INET, type=STREAM)
                got = ips(out.result) if out.result else None
            else:
                out = call(ch, "gethostbyname", f"{name}.lookups.test", AF_INET)
                got = out.result.addresses if out.result else None
        asked_dns = len(server.queries) > before
        if want == "error":
            assert out.errno is not None, f"{lookups} {name}: {got}"
        elif isinstance(want, int):
            assert out.errno == want, f"{lookups} {name}: {errname(out.errno)}"
        else:
            assert (got, out.errno) == ([want], None), f"{lookups} {name}: {errname(out.errno)}"
        # DNS is asked only when the order reaches it before the file answered
        file_first_hit = lookups[0] == "f" and name in FILE_ANSWER
        assert asked_dns == ("b" in lookups and not file_first_hit), f"{lookups} {name}"


def test_lookups_file_only_miss_is_not_found(lookups_setup):
    """lookups="f" and a name the file lacks: ARES_ENOTFOUND (glibc with `hosts: files`:
    EAI_NONAME). c-ares reports ARES_ECONNREFUSED ("could not contact DNS servers") although no
    server was ever asked."""
    with make_channel(lookups_setup.address, lookups="f") as ch:
        assert errname(call(ch, "getaddrinfo", "dnsonly.lookups.test", 80).errno) == "ARES_ENOTFOUND"
        assert errname(call(ch, "gethostbyname", "dnsonly.lookups.test", AF_INET).errno) == "ARES_ENOTFOUND"
    assert lookups_setup.queries == []


def test_hosts_file_gethostbyname_alias_gives_canonical_name(hosts_file, fault_server):
    """Hosts-file aliases: the first name of the line is the canonical name (glibc and c-ares'
    own ares_gethostbyname say so), the others are aliases."""
    with make_channel(fault_server.address, lookups="f") as ch:
        canonical = succeed(ch, "gethostbyname", "v4only.hosts.test", AF_INET)
        via_alias = succeed(ch, "gethostbyname", "v4alias", AF_INET)
    expected = pycares_ng.ares_host_result("v4only.hosts.test", ["v4alias"], ["192.0.2.101"])
    assert canonical == expected
    assert via_alias == expected


def test_hosts_file_getaddrinfo_cnames(hosts_file, fault_server):
    """The alias appears in cnames as alias -> canonical name (both eras)."""
    with make_channel(fault_server.address, lookups="f") as ch:
        result = succeed(ch, "getaddrinfo", "v4alias", None, type=STREAM, flags=AI["CANONNAME"])
    assert [(c.alias, c.name) for c in result.cnames] == [("v4alias", "v4only.hosts.test")]
    assert ips(result) == ["192.0.2.101"]


@pytest.mark.parametrize("addr, expected", [
    ("192.0.2.101", ("v4only.hosts.test", ["v4alias"])),
    ("2001:db8::103", ("dual.hosts.test", [])),
])
def test_hosts_file_gethostbyaddr(hosts_file, fault_server, addr, expected):
    """Reverse lookups from the CARES_HOSTS file (lookups="f": no DNS), on every c-ares: >= 1.22
    reads CARES_HOSTS only for getaddrinfo with ENVHOSTS, so pycares_ng hands the path over
    (ARES_OPT_HOSTS_FILE); on older ones pycares_ng reads the file itself."""
    sockaddr = (addr, 80, 0, 0) if ":" in addr else (addr, 80)
    with make_channel(fault_server.address, lookups="f") as ch:
        out = call(ch, "gethostbyaddr", addr)
        ni = call(ch, "getnameinfo", sockaddr, NI["LOOKUPHOST"] | NI["NAMEREQD"])
    assert out.errno is None, errname(out.errno)
    assert (out.result.name, out.result.aliases, out.result.addresses) == (*expected, [addr])
    assert (ni.result.node if ni.result else errname(ni.errno)) == expected[0]
    assert fault_server.queries == []


# ---------------------------------------------------------------------------------------------
# 5. The cases that break other bindings
# ---------------------------------------------------------------------------------------------

def host(name, aliases, addresses):
    return pycares_ng.ares_host_result(name, aliases, addresses)


LITERAL_CASES = [
    pytest.param("gethostbyname", ("192.0.2.7", AF_INET), {}, host("192.0.2.7", [], ["192.0.2.7"]), id="ghbn-v4"),
    pytest.param("gethostbyname", ("192.0.2.7", AF_UNSPEC), {}, host("192.0.2.7", [], ["192.0.2.7"]),
                 id="ghbn-v4-unspec"),
    pytest.param("gethostbyname", ("2001:db8::7", AF_INET6), {}, host("2001:db8::7", [], ["2001:db8::7"]),
                 id="ghbn-v6"),
    pytest.param("gethostbyname", ("::1", AF_UNSPEC), {}, host("::1", [], ["::1"]), id="ghbn-v6-unspec"),
    pytest.param("gethostbyname", ("127.0.0.1", AF_INET6), {}, E.ARES_ENOTFOUND, id="ghbn-v4-as-inet6"),
    pytest.param("gethostbyname", ("::1", AF_INET), {}, E.ARES_ENOTFOUND, id="ghbn-v6-as-inet"),
    pytest.param("getaddrinfo", ("192.0.2.7", 80), {}, [node("192.0.2.7", 80)], id="gai-v4"),
    pytest.param("getaddrinfo", ("2001:db8::7", "80"), {}, [node("2001:db8::7", 80)], id="gai-v6"),
    pytest.param("getaddrinfo", ("127.0.0.1", None), {"type": DGRAM}, [node("127.0.0.1", 0, DGRAM, 0)],
                 id="gai-v4-dgram"),
    pytest.param("getaddrinfo", ("::1", 53), {"proto": UDP}, [node("::1", 53, 0, UDP)], id="gai-v6-proto-only"),
    pytest.param("getaddrinfo", ("192.0.2.7", 80), {"type": RAW, "proto": TCP}, [node("192.0.2.7", 80, RAW, TCP)],
                 id="gai-v4-raw-tcp"),
    pytest.param("getaddrinfo", ("::ffff:192.0.2.7", "domain"), {"type": STREAM},
                 [node("::ffff:192.0.2.7", socket.getservbyname("domain", "tcp"), STREAM, 0)],
                 id="gai-v4mapped-literal-service"),
    pytest.param("getaddrinfo", ("192.0.2.7", 80), {"family": AF_INET6, "type": STREAM, "flags": AI["V4MAPPED"]},
                 [node("::ffff:192.0.2.7", 80, STREAM, 0)], id="gai-v4-as-mapped"),
    pytest.param("getaddrinfo", ("192.0.2.7", -1), {}, E.ARES_ESERVICE, id="gai-port-negative"),
    pytest.param("getaddrinfo", ("2001:db8::7", 65536), {}, E.ARES_ESERVICE, id="gai-port-too-big"),
    pytest.param("getaddrinfo", ("::1", 80), {"family": AF_INET}, E.ARES_ENOTFOUND, id="gai-v6-as-inet"),
    pytest.param("getaddrinfo", ("192.0.2.7", 80), {"family": AF_INET6}, E.ARES_ENOTFOUND, id="gai-v4-as-inet6"),
    pytest.param("getaddrinfo", ("192.0.2.7", "http"), {"flags": AI["NUMERICSERV"]}, E.ARES_ESERVICE,
                 id="gai-numericserv-name"),
    pytest.param("getaddrinfo", ("192.0.2.7", "no-such-service"), {}, E.ARES_ESERVICE, id="gai-unknown-service"),
]


@pytest.mark.parametrize("method, args, kwargs, expected", LITERAL_CASES)
def test_literal_answered_without_network_exactly_once(fault_server, method, args, kwargs, expected):
    """Item 5: a literal address is answered by pycares_ng itself (even with lookups="b"), maybe
    before the call returns, and the callback still runs exactly once."""
    c = Collector()
    with make_channel(fault_server.address, lookups="b") as ch:
        getattr(ch, method)(*args, c.cb, **kwargs)
        assert run_until(ch, lambda: len(c) >= 1, 5)
        ch.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)
        run_until(ch, lambda: False, 0.05)
        assert ch.getsock() == ([], [])
    result, errno = c.one
    if isinstance(expected, int):
        assert (result, errname(errno)) == (None, errname(expected))
    elif method == "gethostbyname":
        assert (result, errno) == (expected, None)
    else:
        assert errno is None and result.cnames == [] and entries(result) == expected
        assert {n.ttl for n in result.nodes} == {0}
    assert fault_server.queries == []


def _c_heap_in_use() -> Optional[int]:
    """Bytes malloc has handed out (glibc mallinfo2), or None elsewhere."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(f, ctypes.c_size_t) for f in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost")]
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = MallInfo2
    info = mallinfo2()
    return info.uordblks + info.hblkhd


def test_literal_lookups_do_not_leak(fault_server):
    """2,000 rounds of literal lookups (success and error paths, both methods): the callback's
    reference count comes back, and neither Python memory nor the C heap grows."""
    calls = [0]

    def callback(result, errno):
        calls[0] += 1

    def rounds(n):
        for _ in range(n):
            ch.getaddrinfo("127.0.0.1", 80, callback)
            ch.getaddrinfo("192.0.2.7", "http", callback, family=AF_INET6, flags=AI["V4MAPPED"])
            ch.getaddrinfo("::1", "no-such-service", callback)
            ch.gethostbyname("2001:db8::7", AF_INET6, callback)
            ch.gethostbyname("127.0.0.1", AF_INET6, callback)
        assert run_until(ch, lambda: calls[0] >= 5 * n, 10)

    with make_channel(fault_server.address, lookups="b") as ch:
        rounds(200)  # warm up caches and free lists
        gc.collect()
        refs = sys.getrefcount(callback)
        heap = _c_heap_in_use()
        tracemalloc.start()
        try:
            snap = tracemalloc.take_snapshot()
            calls[0] = 0
            rounds(2000)
            gc.collect()
            py_growth = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(snap, "filename"))
        finally:
            tracemalloc.stop()
        c_growth = None if heap is None else _c_heap_in_use() - heap
    assert calls[0] == 10000
    assert sys.getrefcount(callback) == refs
    assert py_growth < 64 * 1024, f"Python memory grew by {py_growth} bytes"
    assert c_growth is None or c_growth < 64 * 1024, f"C heap grew by {c_growth} bytes over 10,000 requests"
    assert fault_server.queries == []


def test_hosts_file_steps_do_not_leak(hosts_file, fault_server):
    """The lookups that go step by step (on c-ares < 1.22 the hosts file is pycares_ng's own
    step, DNS libcares'): file hits with several addresses (sorted), misses that keep a line's
    names and go on to DNS, reverse and getnameinfo answers from the file and from DNS. 1,000
    rounds: every callback once, the callback's reference count back, no C heap growth."""
    calls = [0]

    def callback(result, errno):
        calls[0] += 1

    def rounds(n):
        for _ in range(n):
            ch.getaddrinfo("multi.hosts.test", 80, callback, flags=AI["CANONNAME"])
            ch.gethostbyname("v6only.hosts.test", AF_INET, callback)  # matched line, no IPv4: DNS next
            ch.gethostbyname("nowhere.hosts.test", AF_UNSPEC, callback)
            ch.gethostbyaddr("192.0.2.101", callback)
            ch.gethostbyaddr("192.0.2.200", callback)
            ch.getnameinfo(("2001:db8::103", 80, 0, 0), NI["LOOKUPHOST"] | NI["LOOKUPSERVICE"] | NI["NOFQDN"],
                           callback)
            ch.getnameinfo(("192.0.2.200", 53), NI["LOOKUPHOST"] | NI["NAMEREQD"], callback)
        assert run_until(ch, lambda: calls[0] >= 7 * n, 20)

    with make_channel(fault_server.address, lookups="fb", timeout=1.0, tries=1) as ch:
        rounds(100)
        gc.collect()
        refs = sys.getrefcount(callback)
        heap = _c_heap_in_use()
        calls[0] = 0
        rounds(1000)
        gc.collect()
        c_growth = None if heap is None else _c_heap_in_use() - heap
    assert calls[0] == 7000
    assert sys.getrefcount(callback) == refs
    assert c_growth is None or c_growth < 64 * 1024, f"C heap grew by {c_growth} bytes over 7,000 requests"
    # Refused by the closed channel after the request was made (it names the hosts file as it
    # starts): nothing kept either.
    heap = _c_heap_in_use()
    for _ in range(1000):
        for call in (lambda: ch.getaddrinfo("multi.hosts.test", 80, callback),
                     lambda: ch.gethostbyname("v6only.hosts.test", AF_INET, callback),
                     lambda: ch.gethostbyaddr("192.0.2.101", callback),
                     lambda: ch.getnameinfo(("192.0.2.200", 53), NI["LOOKUPHOST"], callback)):
            with pytest.raises(RuntimeError):
                call()
    gc.collect()
    c_growth = None if heap is None else _c_heap_in_use() - heap
    assert calls[0] == 7000
    assert sys.getrefcount(callback) == refs
    assert c_growth is None or c_growth < 64 * 1024, f"C heap grew by {c_growth} bytes over 4,000 refusals"


def test_literal_callback_exception_goes_to_unraisablehook(fault_server, unraisable):
    def boom(result, errno):
        raise ZeroDivisionError("from a literal callback")

    with make_channel(fault_server.address) as ch:
        assert ch.getaddrinfo("127.0.0.1", 80, boom) is None
        run_until(ch, lambda: len(unraisable) >= 1, 2)
        assert [type(u.exc_value) for u in unraisable] == [ZeroDivisionError]
        unraisable.clear()
        assert succeed(ch, "gethostbyname", "::1", AF_INET6).addresses == ["::1"]


def test_literal_callback_may_close_the_channel(fault_server):
    calls = []
    ch = make_channel(fault_server.address)

    def closer(result, errno):
        calls.append(errno)
        ch.close()

    ch.getaddrinfo("127.0.0.1", 80, closer)
    if not calls:  # not answered during the call: the next processing delivers it
        run_until(ch, lambda: len(calls) >= 1, 2)
    assert calls == [None]
    with pytest.raises(RuntimeError):
        ch.getaddrinfo("127.0.0.1", 80, closer)
    ch.close()
    assert calls == [None]


LOCALHOST_EXPECTED = {AF_INET: ["127.0.0.1"], AF_INET6: ["::1"], AF_UNSPEC: ["127.0.0.1", "::1"]}


@pytest.mark.parametrize("name", ["localhost", "LocalHost"])
@pytest.mark.parametrize("family", [AF_INET, AF_INET6, AF_UNSPEC], ids=FAMILY_NAMES.get)
def test_localhost_without_network(tmp_path, monkeypatch, fault_server, name, family):
    """localhost is loopback (RFC 6761) without asking DNS, even when the hosts file does not list
    it (a file without it is used, so the machine's /etc/hosts does not matter). Names are
    case-insensitive: LocalHost is localhost too (c-ares 1.18 sends it to DNS)."""
    path = tmp_path / "hosts"
    path.write_text("192.0.2.201 something.else.test\n")
    monkeypatch.setenv("CARES_HOSTS", str(path))
    with make_channel(fault_server.address) as ch:
        result = succeed(ch, "getaddrinfo", name, None, family=family, type=STREAM)
        host_result = succeed(ch, "gethostbyname", name, family)
    assert sorted(ips(result)) == LOCALHOST_EXPECTED[family]
    assert host_result.addresses[0] in LOCALHOST_EXPECTED[family] and len(host_result.addresses) == 1
    assert fault_server.queries == []


@pytest.mark.parametrize("name", ["hidden.onion", "HIDDEN.ONION", "a.b.hidden.onion", "hidden.onion."])
@pytest.mark.parametrize("lookups", ["b", "fb"])
def test_onion_names_are_refused(fault_server, name, lookups):
    """RFC 7686: .onion names never reach DNS. c-ares refuses them with ARES_ENOTFOUND on every
    supported version (1.18 and 1.34 alike), synchronously."""
    with make_channel(fault_server.address, lookups=lookups) as ch:
        gai = call(ch, "getaddrinfo", name, 80)
        ghbn = call(ch, "gethostbyname", name, AF_INET)
    assert (errname(gai.errno), errname(ghbn.errno)) == ("ARES_ENOTFOUND", "ARES_ENOTFOUND")
    assert fault_server.queries == []


def test_onion_as_a_plain_label_is_an_ordinary_name(fault_server):
    """Only names under .onion are special: `onion` itself, or `onion.test`, are looked up."""
    with make_channel(fault_server.address, lookups="b") as ch:
        assert succeed(ch, "getaddrinfo", "onion.test", None, family=AF_INET, type=STREAM)
    assert [q.qname for q in fault_server.queries] == ["onion.test"]


@pytest.mark.parametrize("method", ["getaddrinfo", "gethostbyname"])
@pytest.mark.parametrize("name", ["", b""], ids=["str", "bytes"])
def test_empty_name(fault_server, method, name):
    """The empty name is no host (glibc: EAI_NONAME): an error -- ValueError up front, or one
    callback with an error -- and nothing sent. (c-ares would ask DNS for the root name and
    return whatever addresses the root has.)"""
    c = Collector()
    with make_channel(fault_server.address, lookups="b") as ch:
        try:
            if method == "getaddrinfo":
                ch.getaddrinfo(name, 80, c.cb)
            else:
                ch.gethostbyname(name, AF_INET, c.cb)
        except ValueError:
            raised = True
        else:
            raised = False
            assert run_until(ch, lambda: len(c) >= 1, 5)
    if not raised:
        result, errno = c.one
        assert result is None and errno in (E.ARES_ENOTFOUND, E.ARES_ENONAME, E.ARES_EBADNAME), (result, errno)
    assert fault_server.queries == []


@pytest.mark.parametrize("name, family, errno", [
    pytest.param("nonexistent.example.test", AF_INET, E.ARES_ENOTFOUND, id="nxdomain-inet"),
    pytest.param("nonexistent.example.test", AF_UNSPEC, E.ARES_ENOTFOUND, id="nxdomain-unspec"),
    pytest.param("dangling.example.test", AF_INET, E.ARES_ENOTFOUND, id="cname-to-nxdomain"),
    pytest.param("ipv6only.example.test", AF_INET, E.ARES_ENODATA, id="nodata-no-a"),
    pytest.param("www.example.test", AF_INET6, E.ARES_ENODATA, id="nodata-no-aaaa"),
    pytest.param("ns1.example.test", AF_INET6, E.ARES_ENODATA, id="nodata-no-aaaa-2"),
])
@pytest.mark.parametrize("method", ["gethostbyname", "getaddrinfo"])
def test_nxdomain_vs_nodata(channel, method, name, family, errno):
    if method == "gethostbyname":
        out = call(channel, "gethostbyname", name, family)
    else:
        out = call(channel, "getaddrinfo", name, 80, family=family)
    assert errname(out.errno) == errname(errno)


@pytest.mark.parametrize("mode, errno", [("nxdomain", E.ARES_ENOTFOUND), ("nodata", E.ARES_ENODATA)])
@pytest.mark.parametrize("method", ["gethostbyname", "getaddrinfo"])
def test_nxdomain_vs_nodata_unspec(fault_server, method, mode, errno):
    """AF_UNSPEC asks A and AAAA: both NXDOMAIN -> ENOTFOUND, both empty -> ENODATA."""
    fault_server.rules["answerless.test"] = mode
    with make_channel(fault_server.address) as ch:
        if method == "gethostbyname":
            out = call(ch, "gethostbyname", "answerless.test", AF_UNSPEC)
        else:
            out = call(ch, "getaddrinfo", "answerless.test", 80)
    assert errname(out.errno) == errname(errno)
    assert {q.qtype for q in fault_server.queries} <= {1, 28}


def test_gethostbyname_cname_chain(channel):
    """A name that CNAMEs to another: the canonical name (end of the chain) is `name`, the names
    that led to it are the aliases -- as glibc's gethostbyname and c-ares 1.34 give it."""
    result = succeed(channel, "gethostbyname", "chain-a.example.test", AF_INET)
    assert result == host("chain-c.example.test", ["chain-a.example.test", "chain-b.example.test"], ["192.0.2.40"])


def test_gethostbyname_single_cname(channel):
    result = succeed(channel, "gethostbyname", "alias.example.test", AF_INET)
    assert result == host("www.example.test", ["alias.example.test"], ["192.0.2.10"])


def test_getaddrinfo_cname_chain_without_canonname(channel):
    result = succeed(channel, "getaddrinfo", "chain-a.example.test", None, family=AF_INET, type=STREAM)
    assert result.cnames == CHAIN_CNAMES
    assert [(n.ttl, n.addr) for n in result.nodes] == [(42, (b"192.0.2.40", 0))]


IDNA2008 = importlib.util.find_spec("idna") is not None


@pytest.fixture
def idn_server(fault_server):
    fault_server.add_record("xn--bcher-kva.test", "A", "192.0.2.77")
    fault_server.add_record("xn--bcher-kva.test", "AAAA", "2001:db8::77")
    return fault_server


@pytest.mark.parametrize("name", ["bücher.test", b"xn--bcher-kva.test", "xn--bcher-kva.test"], ids=repr)
def test_idna_name(idn_server, name):
    """A non-ASCII name goes on the wire in its punycode (A-label) form."""
    with make_channel(idn_server.address) as ch:
        result = succeed(ch, "getaddrinfo", name, 80, type=STREAM)
        host_result = succeed(ch, "gethostbyname", name, AF_INET)
    assert sorted(ips(result)) == ["192.0.2.77", "2001:db8::77"]
    assert host_result == host("xn--bcher-kva.test", [], ["192.0.2.77"])
    assert {q.qname for q in idn_server.queries} == {"xn--bcher-kva.test"}


@pytest.mark.parametrize("name", ["Bücher.test", "BÜCHER.TEST"])
def test_idna_name_in_capitals(idn_server, name):
    """DNS names are case-insensitive and so are IDNs: UTS #46 maps Bücher to bücher before
    encoding (Python's socket module, browsers and libidn2 all do). IDNA 2008 alone refuses
    capitals, so they need the mapping step."""
    with make_channel(idn_server.address) as ch:
        result = succeed(ch, "getaddrinfo", name, 80, family=AF_INET, type=STREAM)
    assert ips(result) == ["192.0.2.77"]
    assert {q.qname.lower() for q in idn_server.queries} == {"xn--bcher-kva.test"}


def test_idna_2008_not_2003(fault_server):
    """faß.test is xn--fa-hia.test under IDNA 2008 (the `idna` package); without it Python's
    IDNA 2003 codec maps ß to ss."""
    with make_channel(fault_server.address) as ch:
        succeed(ch, "getaddrinfo", "faß.test", None, family=AF_INET, type=STREAM)
    assert [q.qname for q in fault_server.queries] == ["xn--fa-hia.test" if IDNA2008 else "fass.test"]


@pytest.mark.parametrize("name", ["\u2603.test", "a\u200db.test"], ids=["snowman", "zwj"])
def test_invalid_idna_name_is_a_value_error(fault_server, name):
    with make_channel(fault_server.address) as ch:
        with pytest.raises(ValueError, match="IDNA"):
            ch.getaddrinfo(name, 80, Collector().cb)
        with pytest.raises(ValueError, match="IDNA"):
            ch.gethostbyname(name, AF_INET, Collector().cb)
    assert fault_server.queries == []


# ---------------------------------------------------------------------------------------------
# 6. Agreement with the system resolver (see the module docstring for what was found)
# ---------------------------------------------------------------------------------------------

FLAG_TO_SOCKET = {AI["CANONNAME"]: socket.AI_CANONNAME, AI["NUMERICHOST"]: socket.AI_NUMERICHOST,
                  AI["PASSIVE"]: socket.AI_PASSIVE, AI["NUMERICSERV"]: socket.AI_NUMERICSERV,
                  AI["V4MAPPED"]: socket.AI_V4MAPPED, AI["ALL"]: socket.AI_ALL,
                  AI["ADDRCONFIG"]: socket.AI_ADDRCONFIG}  # NOSORT, ENVHOSTS: no glibc equivalent

SYSTEM_NAMES = ["v4only.hosts.test", "v6only.hosts.test", "dual.hosts.test", "multi.hosts.test",
                "v4alias", "DUAL.Hosts.TEST", "localhost", "missing.hosts.test"]
SYSTEM_LITERALS = ["127.0.0.1", "::1", "192.0.2.7", "2001:db8::7", "0.0.0.0", "::"]
BASIC_TYPES = [(0, 0), (STREAM, 0), (DGRAM, 0), (STREAM, TCP), (DGRAM, UDP)]
BASIC_PORTS = [80, "8080", None]
BASIC_FLAGS = [0, AI["CANONNAME"], AI["NOSORT"], AI["PASSIVE"], AI["NUMERICSERV"]]


def _flag_text(flags: int) -> str:
    return "|".join(n for n, v in AI.items() if flags & v) or "0"


def _gai_cases(hosts, families, types, ports, flags) -> List[Dict[str, Any]]:
    return [{"kind": "gai", "host": h, "port": p, "family": f, "type": t, "proto": pr, "flags": fl,
             "desc": f"getaddrinfo({h!r}, {p!r}, family={FAMILY_NAMES[f]}, type={t}, proto={pr}, "
                     f"flags={_flag_text(fl)})"}
            for h in hosts for f in families for (t, pr) in types for p in ports for fl in flags]


SYSTEM_GROUPS: Dict[str, List[Dict[str, Any]]] = {}
for _host in SYSTEM_NAMES + SYSTEM_LITERALS:
    for _family in (AF_UNSPEC, AF_INET, AF_INET6):
        SYSTEM_GROUPS[f"gai-{_host}-{FAMILY_NAMES[_family]}"] = _gai_cases(
            [_host], [_family], BASIC_TYPES, BASIC_PORTS, BASIC_FLAGS)
for _host in ("192.0.2.7", "2001:db8::7", "dual.hosts.test"):
    SYSTEM_GROUPS[f"service-names-{_host}"] = _gai_cases(
        [_host], [AF_UNSPEC], [(0, 0), (STREAM, 0), (DGRAM, 0)], ["http", "domain", "syslog", "shell", "tftp"], [0])
    SYSTEM_GROUPS[f"protocol-without-type-{_host}"] = _gai_cases(
        [_host], [AF_UNSPEC], [(0, TCP), (0, UDP)], [80, None], [0])
    SYSTEM_GROUPS[f"unusual-socket-types-{_host}"] = _gai_cases(
        [_host], [AF_UNSPEC], [(SEQPACKET, 0), (STREAM, UDP), (DGRAM, TCP), (RAW, 0)], [80, None], [0])
    SYSTEM_GROUPS[f"port-zero-{_host}"] = _gai_cases(
        [_host], [AF_UNSPEC, AF_INET6], [(0, 0), (STREAM, 0)], [0, "0"], [0])
SYSTEM_GROUPS["v4mapped"] = _gai_cases(
    ["192.0.2.7", "2001:db8::7", "v4only.hosts.test", "v6only.hosts.test", "dual.hosts.test"], [AF_INET6],
    [(STREAM, 0)], [80], [AI["V4MAPPED"], AI["V4MAPPED"] | AI["ALL"]])
SYSTEM_GROUPS["numerichost"] = _gai_cases(SYSTEM_NAMES[:4] + SYSTEM_LITERALS[:4], [AF_UNSPEC], [(STREAM, 0)],
                                          [80], [AI["NUMERICHOST"]])
SYSTEM_GROUPS["addrconfig-loopback-only"] = _gai_cases(
    ["dual.hosts.test", "multi.hosts.test", "localhost", "192.0.2.7", "::1"], [AF_UNSPEC], [(STREAM, 0)], [80],
    [AI["ADDRCONFIG"], 0])
ADDRCONFIG_ONE_FAMILY = [
    *_gai_cases(["dual.hosts.test"], [AF_INET, AF_INET6], [(STREAM, 0)], [80], [AI["ADDRCONFIG"], 0]),
    *_gai_cases(["127.0.0.1"], [AF_INET], [(STREAM, 0)], [80], [AI["ADDRCONFIG"], 0]),
    *_gai_cases(["::1"], [AF_INET6], [(STREAM, 0)], [80], [AI["ADDRCONFIG"], 0]),
]
for _name in ("v4only.hosts.test", "v4alias", "dual.hosts.test", "multi.hosts.test", "localhost"):
    SYSTEM_GROUPS[f"gethostbyname-{_name}"] = [{"kind": "ghbn", "host": _name, "desc": f"gethostbyname({_name!r})"}]
for _addr in ("192.0.2.101", "2001:db8::102", "192.0.2.103", "192.0.2.104", "127.0.0.1"):
    SYSTEM_GROUPS[f"gethostbyaddr-{_addr}"] = [{"kind": "ghba", "host": _addr, "desc": f"gethostbyaddr({_addr!r})"}]

_counter = 0
for _cases in [*SYSTEM_GROUPS.values(), ADDRCONFIG_ONE_FAMILY]:
    for _case in _cases:
        _case["id"] = str(_counter)
        _counter += 1

SYSTEM_SCRIPT = r'''
"""Runs inside private mount + network namespaces: our hosts file over /etc/hosts, glibc told to
use files only, loopback the only interface. Compares pycares_ng with socket.*."""
import json, os, shutil, socket, subprocess, sys

spec = json.load(open(sys.argv[1]))
for source, target in spec["mounts"]:
    subprocess.run(["mount", "--bind", source, target], check=True)
with open("/etc/hosts") as f:
    if f.read() != spec["hosts_text"]:
        sys.exit("the bind mount over /etc/hosts did not take effect")
if shutil.which("ip"):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
os.environ["CARES_HOSTS"] = spec["hosts_path"]
sys.path[:0] = spec["sys_path"]
import pycares_ng
from helpers import make_channel, Collector, run_until

flag_map = {int(k): v for k, v in spec["flag_map"].items()}
channel = make_channel(lookups="f")  # the hosts file only: nothing is ever sent


def ng(method, *args, **kwargs):
    c = Collector()
    try:
        getattr(channel, method)(*args, c.cb, **kwargs)
    except Exception as exc:
        return {"error": "raised %r" % (exc,)}
    if not run_until(channel, lambda: len(c) >= 1, 10):
        return {"error": "no callback"}
    if len(c) != 1:
        return {"error": "%d callbacks" % len(c)}
    result, errno = c.calls[0]
    if errno is not None:
        return {"error": pycares_ng.errno.errorcode.get(errno, str(errno))}
    return result


def system(func, *args):
    try:
        return func(*args)
    except (OSError, UnicodeError) as exc:
        return {"error": "%s %s" % (type(exc).__name__, getattr(exc, "errno", "")),
                "errno": getattr(exc, "errno", None)}


def gai_list(value):
    if isinstance(value, dict):
        return value
    return [[int(f), int(t), p, list(sa)] for f, t, p, _, sa in value]


out = {"version": pycares_ng.ARES_VERSION, "results": {}}
for case in spec["cases"]:
    kind, host = case["kind"], case["host"]
    extra = {}
    if kind == "gai":
        r = ng("getaddrinfo", host, case["port"], family=case["family"], type=case["type"],
               proto=case["proto"], flags=case["flags"])
        if not isinstance(r, dict):
            r = [[n.family, n.socktype, n.protocol, [n.addr[0].decode()] + list(n.addr[1:])] for n in r.nodes]
        sflags = sum(v for k, v in flag_map.items() if case["flags"] & k)
        s = gai_list(system(socket.getaddrinfo, host, case["port"], case["family"], case["type"], case["proto"],
                            sflags))
        # the addresses alone: no service, SOCK_STREAM (one entry per address)
        extra["sys_addrs"] = gai_list(system(socket.getaddrinfo, host, None, case["family"], socket.SOCK_STREAM,
                                             0, sflags & ~socket.AI_NUMERICSERV))
    elif kind == "ghbn":
        r = ng("gethostbyname", host, socket.AF_INET)
        r = r if isinstance(r, dict) else [r.name, r.aliases, r.addresses]
        s = system(socket.gethostbyname_ex, host)
    else:
        r = ng("gethostbyaddr", host)
        r = r if isinstance(r, dict) else [r.name, r.aliases, r.addresses]
        s = system(socket.gethostbyaddr, host)
    out["results"][case["id"]] = dict(extra, ng=r, sys=s)
json.dump(out, open(sys.argv[2], "w"))
'''


def _child_sys_path() -> List[str]:
    """Where the child finds this very pycares_ng (in-place or installed) and tests/helpers.py."""
    return [str(Path(pycares_ng.__file__).resolve().parent.parent), str(TESTS_DIR)]


def _run_in_namespaces(unshare_args: List[str], workdir: Path, script: str, *argv: str) -> str:
    """Run *script* with this interpreter under `unshare <unshare_args>`; returns its stdout."""
    unshare = shutil.which("unshare") or shutil.which("unshare", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if unshare is None:
        pytest.fail("the system-resolver comparisons need util-linux `unshare` (private mount/UTS/network "
                    "namespaces, so the machine's /etc/hosts is never touched): apt-get install util-linux",
                    pytrace=False)
    path = workdir / "child.py"
    path.write_text(script)
    as_root = [] if os.geteuid() == 0 else ["--map-root-user"]
    env = {k: v for k, v in os.environ.items() if k not in ("CARES_HOSTS", "PYTHONPATH")}
    command = [unshare, *as_root, *unshare_args, "--", sys.executable, str(path), *argv]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    if proc.returncode != 0:
        pytest.fail(f"`{' '.join(command)}` failed ({proc.returncode}); unshare needs root or user "
                    f"namespaces:\n{proc.stderr[-3000:]}", pytrace=False)
    return proc.stdout


@pytest.fixture(scope="module")
def system_results(tmp_path_factory) -> Dict[str, Any]:
    """Every SYSTEM_GROUPS case, run once in one child (private mount + network namespaces)."""
    workdir = tmp_path_factory.mktemp("system-agreement")
    hosts = workdir / "hosts"
    hosts.write_text(HOSTS_TEXT)
    (workdir / "nsswitch.conf").write_text("hosts: files\n")
    (workdir / "resolv.conf").write_text("nameserver 127.0.0.1\n")
    spec = {
        "mounts": [[str(hosts), "/etc/hosts"], [str(workdir / "nsswitch.conf"), "/etc/nsswitch.conf"],
                   [str(workdir / "resolv.conf"), "/etc/resolv.conf"]],
        "hosts_text": HOSTS_TEXT, "hosts_path": str(hosts), "sys_path": _child_sys_path(),
        "flag_map": {str(k): int(v) for k, v in FLAG_TO_SOCKET.items()},
        "cases": [{k: v for k, v in c.items() if k != "desc"}
                  for cases in [*SYSTEM_GROUPS.values(), ADDRCONFIG_ONE_FAMILY] for c in cases],
    }
    (workdir / "spec.json").write_text(json.dumps(spec))
    _run_in_namespaces(["--mount", "--propagation", "private", "--net"], workdir, SYSTEM_SCRIPT,
                       str(workdir / "spec.json"), str(workdir / "out.json"))
    out = json.loads((workdir / "out.json").read_text())
    assert out["version"] == pycares_ng.ARES_VERSION
    return out["results"]


def _is_error(value: Any) -> bool:
    return isinstance(value, dict)


def _is_literal(host: Any) -> bool:
    for family in (AF_INET, AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except (OSError, TypeError):
            pass
    return False


def _gai_tuples(value: List[list]) -> List[tuple]:
    return [(f, t, p, tuple(sa)) for f, t, p, sa in value]


def _addresses(value: List[list]) -> List[tuple]:
    """glibc's answer projected onto c-ares's shape: its distinct addresses, as (family, ip,
    *rest of the sockaddr after the port), in glibc's order."""
    out: List[tuple] = []
    for f, _t, _p, sa in value:
        key = (f, sa[0], *sa[2:])
        if key not in out:
            out.append(key)
    return out


#: glibc refusals that are about the hints or the service, not the host
HINT_ERRNOS = {socket.EAI_SERVICE, socket.EAI_SOCKTYPE}


def _gai_problem(case: Dict[str, Any], r: Dict[str, Any], ordered: bool) -> Optional[str]:
    """None if pycares_ng's getaddrinfo answer is glibc's projected onto c-ares's shape (see the
    module docstring), else what is wrong."""
    ng, sy, addrs = r["ng"], r["sys"], r["sys_addrs"]
    port = cares_port(case["port"], case["flags"])
    if port is None:  # c-ares checks the service before the host
        return None if ng == {"error": "ARES_ESERVICE"} else "c-ares semantics: ARES_ESERVICE expected"
    if not _is_error(sy):
        source = sy
        glibc_tcp_ports = {sa[1] for f, t, p, sa in sy if t == STREAM}
        if glibc_tcp_ports - {port}:
            return f"the oracle's port {port} is not glibc's SOCK_STREAM port {glibc_tcp_ports}"
    elif sy.get("errno") in HINT_ERRNOS:
        source = addrs  # glibc refuses the hints or the service only: c-ares semantics, its addresses
    else:
        source = sy
    if _is_error(source):
        return None if _is_error(ng) else "glibc finds no address, pycares_ng does"
    if _is_error(ng):
        return "pycares_ng fails where glibc finds addresses"
    want = [(f, case["type"], case["proto"], (ip, port, *rest)) for f, ip, *rest in _addresses(source)]
    got = _gai_tuples(ng)
    if ordered:
        return None if got == want else "not glibc's address order (one node per address)"
    return None if sorted(got) == sorted(want) else "not glibc's addresses, one node each with the hints"


def _host_tuple(value: List[Any]) -> tuple:
    """(name, aliases, addresses without repeats): glibc repeats 127.0.0.1 for localhost."""
    name, aliases, addresses = value
    return name, list(aliases), list(dict.fromkeys(addresses))


def _disagreements(group: str, results: Dict[str, Any], ordered: bool = False) -> List[str]:
    problems = []
    for case in SYSTEM_GROUPS[group]:
        r = results[case["id"]]
        ng, sy = r["ng"], r["sys"]
        if case["kind"] == "gai":
            problem = _gai_problem(case, r, ordered)
        elif _is_error(ng) and _is_error(sy):
            problem = None  # both refuse: the codes differ by design (ARES_E* vs EAI_*)
        elif _is_error(ng) or _is_error(sy) or _host_tuple(ng) != _host_tuple(sy):
            problem = "different"
        else:
            problem = None
        if problem:
            problems.append(f"{case['desc']}: {problem}\n    pycares_ng: {ng}\n    system:     {sy}"
                            + (f"\n    addresses:  {r['sys_addrs']}" if "sys_addrs" in r else ""))
    return problems


@pytest.mark.parametrize("group", list(SYSTEM_GROUPS))
def test_system_agreement(system_results, group):
    """Item 6: pycares_ng's answer is glibc's projected onto c-ares's node shape -- the same
    distinct addresses, one node each, with the asked type and proto and the tcp service port --
    or both refuse; where glibc refuses only the hints or the service, c-ares's semantics."""
    problems = _disagreements(group, system_results)
    assert not problems, (f"{len(problems)} of {len(SYSTEM_GROUPS[group])} cases differ from the system "
                          "resolver:\n" + "\n".join(problems[:12]))


def test_system_agreement_literal_order(system_results):
    """For a literal the answer is fixed: one node per address, in glibc's address order."""
    problems: List[str] = []
    checked = 0
    for group, cases in SYSTEM_GROUPS.items():
        literal_cases = [c for c in cases if c["kind"] == "gai" and _is_literal(c["host"])]
        checked += sum(not _is_error(system_results[c["id"]]["ng"]) for c in literal_cases)
        if literal_cases:
            problems += [p for p in _disagreements(group, system_results, ordered=True)
                         if any(p.startswith(c["desc"] + ":") for c in literal_cases)]
    assert checked > 100
    assert not problems, "\n".join(problems[:12])


def test_addrconfig_on_loopback_only_machine(system_results):
    """ADDRCONFIG on a machine whose only interface is loopback (the child's private network
    namespace). c-ares ignores the flag: the answer is the same with and without it, for every
    family. glibc agrees for AF_UNSPEC (it sees no non-loopback address of either family and does
    not filter); for AF_INET or AF_INET6 alone glibc applies RFC 3493 to the letter -- loopback
    addresses do not count -- and refuses even 127.0.0.1 (EAI_NONAME), a glibc behaviour
    pycares_ng does not copy (it is not compared here)."""
    answers: Dict[tuple, Any] = {}
    for case in SYSTEM_GROUPS["addrconfig-loopback-only"] + ADDRCONFIG_ONE_FAMILY:
        r = system_results[case["id"]]
        assert not _is_error(r["ng"]), (case["desc"], r["ng"])
        answers[case["host"], case["family"], case["flags"]] = set(_gai_tuples(r["ng"]))
        if case["family"] == AF_UNSPEC:
            assert not _is_error(r["sys"]) and _gai_problem(case, r, ordered=False) is None, (case["desc"], r)
    for (name, family, flags), answer in answers.items():
        assert answer == answers[name, family, 0], f"ADDRCONFIG changed the answer for {name} ({family})"
    assert {entry[0] for entry in answers["dual.hosts.test", AF_UNSPEC, AI["ADDRCONFIG"]]} == {AF_INET, AF_INET6}
