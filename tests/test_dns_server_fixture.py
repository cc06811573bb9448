"""The NSD fixture serves every record of tests/data as the tests expect (dnspython as client)."""

from __future__ import annotations

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

import dnsdata
from oracle import dnspython_query

O = "example.test."


@pytest.fixture
def ask(dns_server):
    def ask(name, rdtype, tcp=False, edns=False, host="127.0.0.1"):
        # "@" is the origin; other names without a final dot are relative to it.
        qname = O if name == "@" else name if name.endswith(".") else f"{name}.{O}"
        return dnspython_query(host, dns_server.port, qname, rdtype, tcp=tcp, edns=edns)
    return ask


def rrset(reply, rdtype):
    """The answer RRset of *rdtype*, checking the reply is authoritative."""
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.AA
    found = [r for r in reply.answer if r.rdtype == dns.rdatatype.from_text(rdtype)]
    assert len(found) == 1, reply
    return found[0]


def texts(rrs):
    return sorted(r.to_text() for r in rrs)


def test_fixture_api(dns_server):
    assert dns_server.host == "127.0.0.1"
    assert dns_server.address == f"127.0.0.1:{dns_server.port}"
    assert dns_server.origin == O
    assert dns_server.address6 in (None, f"[::1]:{dns_server.port}")
    with open(dns_server.resolv_conf) as f:
        assert f.read().split("\n")[:2] == ["nameserver 127.0.0.1", "search example.test"]


def test_ipv6_listener(dns_server, ask):
    if dns_server.address6 is None:
        pytest.skip("no IPv6 loopback here")
    assert rrset(ask("www", "A", host="::1"), "A")[0].address == "192.0.2.10"


@pytest.mark.parametrize("name,rdtype,ttl,expected", [
    ("@", "SOA", 3600, ["ns1.example.test. hostmaster.example.test. 2024060101 7200 900 1209600 60"]),
    ("@", "NS", 86400, ["ns1.example.test.", "ns2.example.test."]),
    ("@", "MX", 1800, ["10 mx1.example.test.", "20 mx2.example.test.", "30 mx3.example.test."]),
    ("www", "A", 300, ["192.0.2.10"]),
    ("ipv6only", "AAAA", 600, ["2001:db8::6"]),
    ("dual", "A", 500, ["192.0.2.20"]),
    ("dual", "AAAA", 700, ["2001:db8::20"]),
    ("multi", "A", 120, ["192.0.2.31", "192.0.2.32", "192.0.2.33"]),
    ("shared1", "A", 650, ["192.0.2.50"]),
    ("loopback", "A", 555, ["127.0.0.1"]),
    ("other-ranges", "A", 666, ["198.51.100.7", "203.0.113.9"]),
    ("anything.wild", "A", 444, ["192.0.2.44"]),
    ("ns2", "AAAA", 86403, ["2001:db8::54"]),
    ("alias", "CNAME", 1500, ["www.example.test."]),
    ("chain-b", "CNAME", 2000, ["chain-c.example.test."]),
    ("chain-c", "A", 42, ["192.0.2.40"]),
    ("_sip._tcp", "SRV", 900, ["10 40 5060 sip2.example.test.", "10 60 5060 sip1.example.test.",
                               "20 0 5061 sip3.example.test."]),
    ("naptr", "NAPTR", 1200, ['100 10 "S" "SIP+D2U" "" _sip._udp.example.test.',
                              '102 20 "U" "E2U+sip" "!^.*$!sip:info@example.test!" .']),
    ("caa", "CAA", 2400, ['0 iodef "mailto:security@example.test"', '0 issue "ca.example.net"',
                          '128 issuewild ";"']),
    ("_http._tcp", "URI", 3300, ['10 1 "https://www.example.test/"',
                                 '20 2 "ftp://ftp.example.test/pub"']),
    ("_443._tcp.www", "TLSA", 1801,
     ["3 1 1 0ed406c80b06223f553591f39081f620ff53a46018f0034c25575d06bcddbc32"]),
    ("svc", "SVCB", 3500, ['1 svc-target.example.test. alpn="dot" port="853" ipv4hint="192.0.2.53"']),
    ("svc-alias", "SVCB", 3501, ["0 svc.example.test."]),
    ("web", "HTTPS", 3700,
     ['1 . alpn="h2,h3" port="8443" ipv4hint="192.0.2.80,192.0.2.81" ipv6hint="2001:db8::80"']),
    ("sub", "DS", 3460,
     ["12345 13 2 9a66231ee67ad86273efa7e598d819212bdbe5ddcbdb4dc2b93ed58d7145da49"]),
    ("txt", "TXT", 250, ['"hello world"']),
    ("txt-multi", "TXT", 251, ['"first" "second" "third"']),
    ("txt-records", "TXT", 252, ['"one"', '"two"']),
    ("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.deep", "A", 2222, ["192.0.2.222"]),
    ("h0.bench", "A", 60, ["127.100.0.0"]),
    ("h1999.bench", "A", 60, ["127.100.7.207"]),
    ("n0.bench.test.", "A", 60, ["127.1.0.0"]),
    ("n24999.bench.test.", "A", 60, ["127.1.97.167"]),
    ("10.2.0.192.in-addr.arpa.", "PTR", 7010, ["www.example.test."]),
    ("50.2.0.192.in-addr.arpa.", "PTR", 7050, ["shared1.example.test.", "shared2.example.test."]),
    ("6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "PTR", 8006,
     ["ipv6only.example.test."]),
    ("0.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "PTR", 8050,
     ["shared1.example.test.", "shared2.example.test."]),
])
def test_records(ask, name, rdtype, ttl, expected):
    answer = rrset(ask(name, rdtype, tcp=True), rdtype)
    assert answer.ttl == ttl
    assert texts(answer) == sorted(expected)


def test_dnskey(ask):
    answer = rrset(ask("@", "DNSKEY"), "DNSKEY")
    assert answer.ttl == 3450
    assert sorted((k.flags, k.protocol, k.algorithm, len(k.key)) for k in answer) == [
        (256, 3, 13, 64), (257, 3, 13, 64)]


def test_bench_counts():
    assert dnsdata.example_bench_address(1999) == "127.100.7.207"
    assert dnsdata.bench_address(24999) == "127.1.97.167"
    zone = dnsdata.bench_zone_text()
    assert zone.count(" IN A ") == dnsdata.BENCH_HOSTS == 25000


def test_cname_chain_followed(ask):
    reply = ask("chain-a", "A")
    chain = [(str(r.name), r.rdtype, r.ttl) for r in reply.answer]
    assert chain == [("chain-a.example.test.", dns.rdatatype.CNAME, 1000),
                     ("chain-b.example.test.", dns.rdatatype.CNAME, 2000),
                     ("chain-c.example.test.", dns.rdatatype.A, 42)]


def test_dangling_cname(ask):
    reply = ask("dangling", "A")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert texts(reply.answer[0]) == ["nowhere.example.test."]


def test_negative_answers(ask):
    nxdomain = ask("nonexistent", "A")
    assert nxdomain.rcode() == dns.rcode.NXDOMAIN and not nxdomain.answer
    assert nxdomain.authority[0].rdtype == dns.rdatatype.SOA
    nodata = ask("www", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert ask("ipv6only", "A").answer == []
    assert ask("h2000.bench", "A").rcode() == dns.rcode.NXDOMAIN


def test_txt_octets(ask):
    def strings(name):
        return [r.strings for r in rrset(ask(name, "TXT"), "TXT")]
    assert strings("txt-utf8") == [("héllo wörld".encode(),)]
    assert strings("txt-raw") == [(b"\xff\xferaw",)]
    assert strings("txt-nul") == [(b"a\x00b",)]
    assert strings("txt-long") == [(b"L" * 255, b"end")]


def test_medium_txt_truncated_only_without_edns(ask):
    plain = ask("txt-medium", "TXT")
    assert plain.flags & dns.flags.TC
    with_edns = ask("txt-medium", "TXT", edns=True)
    assert not with_edns.flags & dns.flags.TC
    assert len(rrset(with_edns, "TXT")) == 3
    assert rrset(with_edns, "TXT").ttl == 78


def test_big_txt_truncated_over_udp_full_over_tcp(ask):
    for edns in (False, True):
        udp = ask("txt-big", "TXT", edns=edns)
        assert udp.flags & dns.flags.TC
    tcp = ask("txt-big", "TXT", tcp=True)
    assert not tcp.flags & dns.flags.TC
    answer = rrset(tcp, "TXT")
    assert answer.ttl == 77 and len(answer) == 12
    assert sum(len(s) for r in answer for s in r.strings) > 2500
    assert sorted(r.strings[0][:7] for r in answer) == [b"big-%02d-" % i for i in range(12)]


def test_max_length_name(ask):
    name = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 48 + "." + O
    assert len(name) == 254  # 253 characters plus the root dot
    answer = rrset(ask(name, "A"), "A")
    assert (answer.ttl, answer[0].address) == (253, "192.0.2.253")


@pytest.mark.parametrize("tcp", [False, True])
def test_any_gets_one_rrset(ask, tcp):
    # NSD always answers ANY with a single RRset (RFC 8482 4.1), even over TCP;
    # tests needing a full ANY answer use the fault server's records instead.
    reply = ask("@", "ANY", tcp=tcp)
    assert [dns.rdatatype.to_text(r.rdtype) for r in reply.answer] == ["SOA"]
    reply = ask("multi", "ANY", tcp=tcp)
    assert texts(rrset(reply, "A")) == ["192.0.2.31", "192.0.2.32", "192.0.2.33"]


def test_delegation_answers_with_referral(ask):
    reply = ask("www.sub", "A")
    assert not reply.answer
    assert texts(reply.authority[0]) == ["ns1.sub.example.test."]
