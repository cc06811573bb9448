"""Every record type of the test zone, through a real authoritative server (NSD).

Each answer is checked twice: against literal values from tests/data/*.zone (so a wrong
oracle cannot make a test pass vacuously) and against dnspython's parse of the same question
sent to the same server (tests/oracle.py), field by field, exact TTLs included.
"""

from __future__ import annotations

import base64

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

import pycares_ng
from pycares_ng import errno as E
from pycares_ng.testing import FaultServer, mx_rdata, txt_rdata

from expected import as_dicts, expected_answer, expected_sections, without_opt
from helpers import make_channel, resolve
from oracle import dnspython_query

R = pycares_ng  # result classes, short
CARES = tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2])
LONG_NAME = ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 48 + ".example.test")
DEEP_NAME = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.deep.example.test"
SHARED6 = "0.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"


def qtype_of(name: str) -> int:
    return getattr(pycares_ng, "QUERY_TYPE_" + name)


@pytest.fixture(scope="module")
def cares_edns() -> bool:
    """Whether this libcares sends EDNS by default (1.18 does not, 1.34 does): the oracle must
    ask the same way, since NSD's reply (size limit, OPT record) depends on it."""
    with FaultServer() as server, make_channel(server.address) as channel:
        assert resolve(channel, "edns-probe.test", pycares_ng.QUERY_TYPE_A)[1] is None
        return server.queries[0].edns


@pytest.fixture
def channel(dns_server):
    with make_channel(dns_server.address) as ch:
        yield ch


def ask_oracle(dns_server, name, qtype, *, edns, tcp=False, rdclass="IN"):
    reply = dnspython_query(dns_server.host, dns_server.port, name, qtype, tcp=tcp, edns=edns,
                            rdclass=rdclass)
    assert tcp or not reply.flags & dns.flags.TC, f"oracle reply for {name} truncated over UDP"
    return reply


def assert_matches_oracle(result, reply, qtype):
    """query() result == dnspython's view of the same reply, field by field."""
    expected = expected_answer(reply, qtype)
    assert expected is not None, "the oracle found nothing: a zone or oracle problem"
    assert as_dicts(result) == as_dicts(expected)


# ---------------------------------------------------------------------------------------------
# Every type in the zone: literal values from the zone file, and dnspython's view of the reply.
# ---------------------------------------------------------------------------------------------

KSK = base64.b64decode("9gJjYiP1hvv1B8WMcFrp2/7NyVd/SkCtzyEXB+afZaVEjWrfZzLSgd/t6cxVApF1vRLXU/KH1T9kNtXu"
                       "HMoaSQ==")
ZSK = base64.b64decode("oi4T3avnJChsloXW1aCg4JyCfxIK2zlGBW6+vP1t8pJAqklkDzCF97iElj1j/mCrYjsQsKyPEqQT92ei"
                       "KSkwOQ==")

ZONE_CASES = [
    ("www.example.test", "A", [R.ares_query_a_result("192.0.2.10", 300)]),
    ("multi.example.test", "A", [R.ares_query_a_result(f"192.0.2.3{i}", 120) for i in (1, 2, 3)]),
    ("other-ranges.example.test", "A",
     [R.ares_query_a_result("198.51.100.7", 666), R.ares_query_a_result("203.0.113.9", 666)]),
    ("loopback.example.test", "A", [R.ares_query_a_result("127.0.0.1", 555)]),
    ("ns1.example.test", "A", [R.ares_query_a_result("192.0.2.53", 86401)]),
    ("ipv6only.example.test", "AAAA", [R.ares_query_aaaa_result("2001:db8::6", 600)]),
    ("dual.example.test", "A", [R.ares_query_a_result("192.0.2.20", 500)]),
    ("dual.example.test", "AAAA", [R.ares_query_aaaa_result("2001:db8::20", 700)]),
    ("ns2.example.test", "AAAA", [R.ares_query_aaaa_result("2001:db8::54", 86403)]),
    ("example.test", "NS", [R.ares_query_ns_result("ns1.example.test", 86400),
                            R.ares_query_ns_result("ns2.example.test", 86400)]),
    ("example.test", "SOA", R.ares_query_soa_result("ns1.example.test", "hostmaster.example.test",
                                                    2024060101, 7200, 900, 1209600, 60, 3600)),
    ("example.test", "MX", [R.ares_query_mx_result("mx1.example.test", 10, 1800),
                            R.ares_query_mx_result("mx2.example.test", 20, 1800),
                            R.ares_query_mx_result("mx3.example.test", 30, 1800)]),
    ("example.test", "DNSKEY", [R.ares_query_dnskey_result(257, 3, 13, KSK, 3450),
                                R.ares_query_dnskey_result(256, 3, 13, ZSK, 3450)]),
    ("alias.example.test", "CNAME", R.ares_query_cname_result("www.example.test", 1500)),
    ("_sip._tcp.example.test", "SRV", [R.ares_query_srv_result("sip1.example.test", 5060, 10, 60, 900),
                                       R.ares_query_srv_result("sip2.example.test", 5060, 10, 40, 900),
                                       R.ares_query_srv_result("sip3.example.test", 5061, 20, 0, 900)]),
    ("naptr.example.test", "NAPTR",
     [R.ares_query_naptr_result(100, 10, "S", "SIP+D2U", "", "_sip._udp.example.test", 1200),
      R.ares_query_naptr_result(102, 20, "U", "E2U+sip", "!^.*$!sip:info@example.test!", "", 1200)]),
    ("_http._tcp.example.test", "URI", [R.ares_query_uri_result(10, 1, "https://www.example.test/", 3300),
                                        R.ares_query_uri_result(20, 2, "ftp://ftp.example.test/pub", 3300)]),
    ("_443._tcp.www.example.test", "TLSA", [R.ares_query_tlsa_result(
        3, 1, 1, bytes.fromhex("0ed406c80b06223f553591f39081f620ff53a46018f0034c25575d06bcddbc32"), 1801)]),
    ("svc.example.test", "SVCB", [R.ares_query_svcb_result(
        1, "svc-target.example.test", [(1, b"\x03dot"), (3, (853).to_bytes(2, "big")), (4, bytes([192, 0, 2, 53]))],
        3500)]),
    ("svc-alias.example.test", "SVCB", [R.ares_query_svcb_result(0, "svc.example.test", [], 3501)]),
    ("web.example.test", "HTTPS", [R.ares_query_https_result(
        1, ".", [(1, b"\x02h2\x02h3"), (3, (8443).to_bytes(2, "big")), (4, bytes([192, 0, 2, 80, 192, 0, 2, 81])),
                 (6, bytes.fromhex("20010db8000000000000000000000080"))], 3700)]),
    ("caa.example.test", "CAA", [R.ares_query_caa_result(0, "issue", "ca.example.net", 2400),
                                 R.ares_query_caa_result(0, "iodef", "mailto:security@example.test", 2400),
                                 R.ares_query_caa_result(128, "issuewild", ";", 2400)]),
    ("sub.example.test", "DS", [R.ares_query_ds_result(
        12345, 13, 2, bytes.fromhex("9A66231EE67AD86273EFA7E598D819212BDBE5DDCBDB4DC2B93ED58D7145DA49"), 3460)]),
    ("txt.example.test", "TXT", [R.ares_query_txt_result("hello world", 250)]),
    ("10.2.0.192.in-addr.arpa", "PTR", R.ares_query_ptr_result("www.example.test", 7010, ["www.example.test"])),
    ("40.2.0.192.in-addr.arpa", "PTR",
     R.ares_query_ptr_result("chain-c.example.test", 7040, ["chain-c.example.test"])),
    ("6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR",
     R.ares_query_ptr_result("ipv6only.example.test", 8006, ["ipv6only.example.test"])),
    (LONG_NAME, "A", [R.ares_query_a_result("192.0.2.253", 253)]),
    (DEEP_NAME, "A", [R.ares_query_a_result("192.0.2.222", 2222)]),
    ("anything.wild.example.test", "A", [R.ares_query_a_result("192.0.2.44", 444)]),
    ("www.example.test", "ANY", [R.ares_query_a_result("192.0.2.10", 300)]),  # NSD: one RRset
]


@pytest.mark.parametrize("name,qtype,literal", ZONE_CASES, ids=[f"{c[1]}-{c[0][:40]}" for c in ZONE_CASES])
def test_zone_record(channel, dns_server, cares_edns, name, qtype, literal):
    result, errno = resolve(channel, name, qtype_of(qtype))
    assert errno is None
    assert as_dicts(result) == as_dicts(literal)
    assert type(result) is type(literal)
    for item in result if isinstance(result, list) else [result]:
        assert item.type == (qtype if qtype != "ANY" else "A")
    assert_matches_oracle(result, ask_oracle(dns_server, name, qtype, edns=cares_edns), qtype_of(qtype))


@pytest.mark.parametrize("name,qtype", [(c[0], c[1]) for c in ZONE_CASES],
                         ids=[f"{c[1]}-{c[0][:40]}" for c in ZONE_CASES])
def test_zone_message(channel, dns_server, cares_edns, name, qtype):
    """query_dns: every section, record by record, as dnspython parses the same reply."""
    msg, errno = resolve(channel, name, qtype_of(qtype), method="query_dns")
    assert errno is None
    reply = ask_oracle(dns_server, name, qtype, edns=cares_edns)
    answer, authority, additional = expected_sections(reply)
    assert as_dicts(msg.answer) == as_dicts(answer)
    assert as_dicts(msg.authority) == as_dicts(authority)
    assert as_dicts(without_opt(msg.additional)) == as_dicts(additional)
    assert msg.rcode == reply.rcode() == 0
    assert msg.flags == reply.flags
    assert msg.flags & dns.flags.QR and msg.flags & dns.flags.AA
    opts = [r for r in msg.additional if r.type == 41]
    if cares_edns:  # the OPT pseudo-record comes back raw: owner root, class = payload size
        assert len(opts) == 1 and opts[0].name == "" and opts[0].record_class == reply.payload
        assert isinstance(opts[0].data, bytes)
    else:
        assert opts == []


# ---------------------------------------------------------------------------------------------
# TXT: one result per record, character-strings joined, str only when ASCII.
# ---------------------------------------------------------------------------------------------

TXT_CASES = [
    ("txt", ["hello world"], 250),
    ("txt-multi", ["firstsecondthird"], 251),
    ("txt-records", ["one", "two"], 252),
    ("txt-utf8", ["héllo wörld".encode("utf-8")], 253),
    ("txt-raw", [b"\xff\xferaw"], 254),
    ("txt-nul", ["a\x00b"], 256),
    ("txt-long", ["L" * 255 + "end"], 257),
    ("txt-medium", [f"medium-{i}-" + "0123456789" * 19 for i in range(3)], 78),
]


@pytest.mark.parametrize("label,texts,ttl", TXT_CASES, ids=[c[0] for c in TXT_CASES])
def test_txt(channel, dns_server, cares_edns, label, texts, ttl):
    name = f"{label}.example.test"
    result, errno = resolve(channel, name, pycares_ng.QUERY_TYPE_TXT)
    assert errno is None
    # Server order within an RRset is not guaranteed: compare as sorted lists.
    assert sorted(r.text for r in result) == sorted(texts)
    assert all(type(r.text) is type(texts[0]) for r in result)
    assert all(r.ttl == ttl for r in result)
    assert_matches_oracle(result, ask_oracle(dns_server, name, "TXT", edns=cares_edns, tcp=True),
                          pycares_ng.QUERY_TYPE_TXT)


def test_txt_big_retries_over_tcp(channel, dns_server):
    """12 x 217 octets: any UDP reply is truncated, so all 12 records prove the TCP retry."""
    name = "txt-big.example.test"
    udp = dnspython_query(dns_server.host, dns_server.port, name, "TXT", edns=True)
    assert udp.flags & dns.flags.TC  # the premise: over UDP the server only sends TC
    result, errno = resolve(channel, name, pycares_ng.QUERY_TYPE_TXT)
    assert errno is None
    assert sorted(r.text for r in result) == [f"big-{i:02d}-" + "abcdefghij" * 21 for i in range(12)]
    assert {r.ttl for r in result} == {77}
    assert_matches_oracle(result, dnspython_query(dns_server.host, dns_server.port, name, "TXT", tcp=True),
                          pycares_ng.QUERY_TYPE_TXT)


# ---------------------------------------------------------------------------------------------
# CNAMEs, NXDOMAIN and NODATA.
# ---------------------------------------------------------------------------------------------

def test_cname_chain_followed_for_a(channel, dns_server, cares_edns):
    # chain-a -> chain-b -> chain-c: the A of chain-c, with chain-c's own TTL.
    result, errno = resolve(channel, "chain-a.example.test", pycares_ng.QUERY_TYPE_A)
    assert errno is None
    assert result == [R.ares_query_a_result("192.0.2.40", 42)]
    assert_matches_oracle(result, ask_oracle(dns_server, "chain-a.example.test", "A", edns=cares_edns),
                          pycares_ng.QUERY_TYPE_A)


def test_cname_chain_whole_message(channel):
    msg, errno = resolve(channel, "chain-a.example.test", pycares_ng.QUERY_TYPE_A, method="query_dns")
    assert errno is None
    assert [(r.name, r.type, r.ttl, r.data) for r in msg.answer] == [
        ("chain-a.example.test", 5, 1000, R.ares_query_cname_result("chain-b.example.test", 1000)),
        ("chain-b.example.test", 5, 2000, R.ares_query_cname_result("chain-c.example.test", 2000)),
        ("chain-c.example.test", 1, 42, R.ares_query_a_result("192.0.2.40", 42)),
    ]


@pytest.mark.parametrize("name,target,ttl", [("chain-a", "chain-b", 1000), ("chain-b", "chain-c", 2000),
                                             ("dangling", "nowhere", 1100)])
def test_cname_query_gives_one_result(channel, name, target, ttl):
    result, errno = resolve(channel, f"{name}.example.test", pycares_ng.QUERY_TYPE_CNAME)
    assert errno is None
    assert result == R.ares_query_cname_result(f"{target}.example.test", ttl)  # one object, no list


def test_dangling_cname_is_not_found(channel, dns_server):
    assert dnspython_query(dns_server.host, dns_server.port, "dangling.example.test", "A").rcode() == \
        dns.rcode.NXDOMAIN
    assert resolve(channel, "dangling.example.test", pycares_ng.QUERY_TYPE_A) == (None, E.ARES_ENOTFOUND)


@pytest.mark.parametrize("name,qtype,rcode,errno", [
    ("nope.example.test", "A", dns.rcode.NXDOMAIN, E.ARES_ENOTFOUND),
    ("deeper.nope.example.test", "TXT", dns.rcode.NXDOMAIN, E.ARES_ENOTFOUND),
    ("www.example.test", "MX", dns.rcode.NOERROR, E.ARES_ENODATA),      # name exists, type does not
    ("example.test", "A", dns.rcode.NOERROR, E.ARES_ENODATA),           # the apex has no A
    ("wild.example.test", "A", dns.rcode.NOERROR, E.ARES_ENODATA),      # empty non-terminal (*.wild)
    ("_tcp.example.test", "SRV", dns.rcode.NOERROR, E.ARES_ENODATA),    # empty non-terminal
    ("ipv6only.example.test", "A", dns.rcode.NOERROR, E.ARES_ENODATA),
    ("www.sub.example.test", "A", dns.rcode.NOERROR, E.ARES_ENODATA),   # a referral: no answer
])
def test_nxdomain_and_nodata_distinguished(channel, dns_server, name, qtype, rcode, errno):
    reply = dnspython_query(dns_server.host, dns_server.port, name, qtype)
    assert reply.rcode() == rcode and not reply.answer
    assert resolve(channel, name, qtype_of(qtype)) == (None, errno)
    assert resolve(channel, name, qtype_of(qtype), method="search") == (None, errno)


def test_nxdomain_through_query_dns_is_an_error(channel):
    assert resolve(channel, "nope.example.test", pycares_ng.QUERY_TYPE_A, method="query_dns") == \
        (None, E.ARES_ENOTFOUND)


# ---------------------------------------------------------------------------------------------
# PTR: one result mirroring c-ares (name = last target, aliases = all targets, lowest TTL).
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("address,ttl", [("192.0.2.50", 7050), ("2001:db8::50", 8050)])
def test_ptr_two_names(channel, dns_server, cares_edns, address, ttl):
    name = pycares_ng.reverse_address(address)
    assert name in ("50.2.0.192.in-addr.arpa", SHARED6)
    result, errno = resolve(channel, name, pycares_ng.QUERY_TYPE_PTR)
    assert errno is None
    assert isinstance(result, R.ares_query_ptr_result)
    assert sorted(result.aliases) == ["shared1.example.test", "shared2.example.test"]
    assert result.name == result.aliases[-1]
    assert result.ttl == ttl
    # the same order as the server sent them
    assert_matches_oracle(result, ask_oracle(dns_server, name, "PTR", edns=cares_edns), pycares_ng.QUERY_TYPE_PTR)


def test_ptr_record_data_is_the_query_result(channel):
    """In query_dns, a record's data is the typed result query() gives for that record alone:
    for one PTR that is name = the target, aliases = [the target]."""
    alone, errno = resolve(channel, "10.2.0.192.in-addr.arpa", pycares_ng.QUERY_TYPE_PTR)
    assert errno is None
    assert alone == R.ares_query_ptr_result("www.example.test", 7010, ["www.example.test"])
    msg, errno = resolve(channel, "10.2.0.192.in-addr.arpa", pycares_ng.QUERY_TYPE_PTR, method="query_dns")
    assert errno is None
    assert [r.data for r in msg.answer] == [alone]


def test_ptr_whole_message_lists_each_record(channel):
    msg, errno = resolve(channel, "50.2.0.192.in-addr.arpa", pycares_ng.QUERY_TYPE_PTR, method="query_dns")
    assert errno is None
    assert sorted(r.data.name for r in msg.answer) == ["shared1.example.test", "shared2.example.test"]
    assert {(r.name, r.type, r.ttl) for r in msg.answer} == {("50.2.0.192.in-addr.arpa", 12, 7050)}


# ---------------------------------------------------------------------------------------------
# Names: case, the longest name, many labels, wildcards.
# ---------------------------------------------------------------------------------------------

def test_long_name_owner_in_message(channel):
    assert len(LONG_NAME) == 253
    msg, errno = resolve(channel, LONG_NAME, pycares_ng.QUERY_TYPE_A, method="query_dns")
    assert errno is None
    assert [(r.name, r.ttl, r.data.host) for r in msg.answer] == [(LONG_NAME, 253, "192.0.2.253")]


def test_deep_name_owner_in_message(channel):
    assert DEEP_NAME.count(".") + 1 == 25
    msg, errno = resolve(channel, DEEP_NAME, pycares_ng.QUERY_TYPE_A, method="query_dns")
    assert errno is None
    assert [(r.name, r.ttl, r.data.host) for r in msg.answer] == [(DEEP_NAME, 2222, "192.0.2.222")]


@pytest.mark.parametrize("label", ["x", "a.b.c", "_under", "UPPER"])
def test_wildcard(channel, label):
    name = f"{label}.wild.example.test"
    assert resolve(channel, name, pycares_ng.QUERY_TYPE_A) == ([R.ares_query_a_result("192.0.2.44", 444)], None)
    msg, errno = resolve(channel, name, pycares_ng.QUERY_TYPE_A, method="query_dns")
    assert errno is None
    assert [r.name for r in msg.answer] == [name]  # synthesized under the asked name


def test_query_name_case_insensitive(channel, dns_server, cares_edns):
    result, errno = resolve(channel, "WwW.ExAmPlE.TeSt", pycares_ng.QUERY_TYPE_A)
    assert (result, errno) == ([R.ares_query_a_result("192.0.2.10", 300)], None)
    msg, _ = resolve(channel, "WwW.ExAmPlE.TeSt", pycares_ng.QUERY_TYPE_A, method="query_dns")
    reply = ask_oracle(dns_server, "WwW.ExAmPlE.TeSt", "A", edns=cares_edns)
    assert [r.name for r in msg.answer] == [r.name for r in expected_sections(reply)[0]]


def test_trailing_dot_accepted(channel):
    assert resolve(channel, "www.example.test.", pycares_ng.QUERY_TYPE_A) == \
        ([R.ares_query_a_result("192.0.2.10", 300)], None)


# ---------------------------------------------------------------------------------------------
# search(): the search domains, from the constructor and from a resolv.conf.
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,expected", [
    ("www", [R.ares_query_a_result("192.0.2.10", 300)]),
    ("chain-a", [R.ares_query_a_result("192.0.2.40", 42)]),
    ("multi", [R.ares_query_a_result(f"192.0.2.3{i}", 120) for i in (1, 2, 3)]),
    ("www.example.test", [R.ares_query_a_result("192.0.2.10", 300)]),
])
def test_search_with_domains(dns_server, name, expected):
    with make_channel(dns_server.address, domains=["example.test"]) as ch:
        assert resolve(ch, name, pycares_ng.QUERY_TYPE_A, method="search") == (expected, None)


def test_search_tries_domains_in_order(dns_server):
    # www.nothere.example.test is NXDOMAIN, so the second domain gives the answer.
    with make_channel(dns_server.address, domains=["nothere.example.test", "example.test"]) as ch:
        msg, errno = resolve(ch, "www", pycares_ng.QUERY_TYPE_A, method="search_dns")
        assert errno is None
        assert [(r.name, r.data) for r in msg.answer] == [
            ("www.example.test", R.ares_query_a_result("192.0.2.10", 300))]
        # Every candidate NXDOMAIN: the as-is name first (it has enough dots), then each domain.
        assert resolve(ch, "nope.example.test", pycares_ng.QUERY_TYPE_A, method="search") == \
            (None, E.ARES_ENOTFOUND)


def test_search_from_resolv_conf(dns_server):
    # resolv.conf: "nameserver 127.0.0.1" + "search example.test"; the port comes from the options.
    with make_channel(resolvconf_path=dns_server.resolv_conf, udp_port=dns_server.port,
                      tcp_port=dns_server.port) as ch:
        assert resolve(ch, "www", pycares_ng.QUERY_TYPE_A, method="search") == \
            ([R.ares_query_a_result("192.0.2.10", 300)], None)
        assert resolve(ch, "example.test", pycares_ng.QUERY_TYPE_MX, method="search")[0][0] == \
            R.ares_query_mx_result("mx1.example.test", 10, 1800)
        msg, errno = resolve(ch, "alias", pycares_ng.QUERY_TYPE_A, method="search_dns")
        assert errno is None
        assert [r.name for r in msg.answer] == ["alias.example.test", "www.example.test"]


# ---------------------------------------------------------------------------------------------
# Query classes.
# ---------------------------------------------------------------------------------------------

def test_class_in_is_the_default(channel):
    expected = ([R.ares_query_a_result("192.0.2.10", 300)], None)
    assert resolve(channel, "www.example.test", pycares_ng.QUERY_TYPE_A) == expected
    assert resolve(channel, "www.example.test", pycares_ng.QUERY_TYPE_A,
                   query_class=pycares_ng.QUERY_CLASS_IN) == expected


def test_class_chaos_refused(channel, dns_server):
    # NSD (hide-version/hide-identity) refuses CHAOS TXT: EREFUSED, as pycares 4.11 reports it
    # (c-ares 1.18 by itself would say ECONNREFUSED; pycares_ng notes the rcode).
    reply = dnspython_query(dns_server.host, dns_server.port, "version.server", "TXT", rdclass="CH")
    assert reply.rcode() == dns.rcode.REFUSED
    result, errno = resolve(channel, "version.server", pycares_ng.QUERY_TYPE_TXT,
                            query_class=pycares_ng.QUERY_CLASS_CHAOS)
    assert (result, errno) == (None, E.ARES_EREFUSED)


def test_class_any_question_gets_in_records(channel):
    result, errno = resolve(channel, "www.example.test", pycares_ng.QUERY_TYPE_A,
                            query_class=pycares_ng.QUERY_CLASS_ANY)
    assert (result, errno) == ([R.ares_query_a_result("192.0.2.10", 300)], None)
    msg, errno = resolve(channel, "www.example.test", pycares_ng.QUERY_TYPE_A, method="query_dns",
                         query_class=pycares_ng.QUERY_CLASS_ANY)
    assert errno is None
    assert [(r.record_class, r.data) for r in msg.answer] == [(1, R.ares_query_a_result("192.0.2.10", 300))]


# ---------------------------------------------------------------------------------------------
# query_dns: the authority and additional sections too.
# ---------------------------------------------------------------------------------------------

def test_message_mx_with_glue(channel):
    msg, errno = resolve(channel, "example.test", pycares_ng.QUERY_TYPE_MX, method="query_dns")
    assert errno is None
    assert [(r.name, r.type, r.record_class, r.ttl) for r in msg.authority] == \
        [("example.test", 2, 1, 86400)] * 2
    glue = {(r.name, r.type, r.ttl, r.data.host) for r in msg.additional if r.type != 41}
    assert {("mx1.example.test", 1, 400, "192.0.2.25"), ("mx2.example.test", 1, 401, "192.0.2.26"),
            ("mx3.example.test", 1, 402, "192.0.2.27")} <= glue


def test_message_referral(channel, dns_server, cares_edns):
    """A referral is NOERROR with no answer: the whole message still shows the delegation
    (NS in authority, glue in additional) -- that is what query_dns is for."""
    reply = ask_oracle(dns_server, "www.sub.example.test", "A", edns=cares_edns)
    assert not reply.answer and reply.authority  # the premise
    msg, errno = resolve(channel, "www.sub.example.test", pycares_ng.QUERY_TYPE_A, method="query_dns")
    assert errno is None, f"query_dns reported errno {errno} for a NOERROR referral"
    assert msg.answer == []
    assert [(r.name, r.type, r.ttl, r.data) for r in msg.authority] == [
        ("sub.example.test", 2, 3461, R.ares_query_ns_result("ns1.sub.example.test", 3461))]
    assert [(r.name, r.type, r.ttl, r.data) for r in without_opt(msg.additional)] == [
        ("ns1.sub.example.test", 1, 3462, R.ares_query_a_result("192.0.2.99", 3462))]
    answer, authority, additional = expected_sections(reply)
    assert as_dicts(msg.authority) == as_dicts(authority)
    assert as_dicts(without_opt(msg.additional)) == as_dicts(additional)


def test_message_nodata_carries_soa(channel, dns_server, cares_edns):
    """NODATA: NOERROR, empty answer, the zone's SOA in authority (its TTL bounds negative caching)."""
    msg, errno = resolve(channel, "www.example.test", pycares_ng.QUERY_TYPE_MX, method="query_dns")
    assert errno is None, f"query_dns reported errno {errno} for a NOERROR/NODATA reply"
    assert msg.rcode == 0 and msg.answer == []
    assert [(r.name, r.type, r.data.minttl) for r in msg.authority] == [("example.test", 6, 60)]
    answer, authority, additional = expected_sections(ask_oracle(dns_server, "www.example.test", "MX",
                                                                 edns=cares_edns))
    assert as_dicts(msg.authority) == as_dicts(authority)


@pytest.mark.parametrize("rdtype", ["HINFO", "SPF", "TYPE65280"])
def test_message_types_without_result_class(channel, rdtype):
    # query_dns takes any type 1..65535, also those without a result class (none of these are
    # in the zone: a NODATA message) -- query() refuses them before sending.
    code = int(dns.rdatatype.from_text(rdtype))
    msg, errno = resolve(channel, "www.example.test", code, method="query_dns")
    assert errno is None
    assert msg.answer == [] and [r.type for r in msg.authority] == [6]
    with pytest.raises(ValueError):
        channel.query("www.example.test", code, lambda *a: None)


# ---------------------------------------------------------------------------------------------
# ANY with several types (NSD answers ANY with one RRset, so the fault server serves these).
# ---------------------------------------------------------------------------------------------

def test_any_mixes_types_and_skips_unknown(fault_server):
    name = "many.test"
    fault_server.add_record(name, "A", "192.0.2.7", ttl=11)
    fault_server.add_record(name, "AAAA", "2001:db8::7", ttl=12)
    fault_server.add_record(name, "MX", mx_rdata(5, "mail.many.test"), ttl=13)
    fault_server.add_record(name, 65280, b"\x01\x02\x03", ttl=14)  # private-use type: no class
    fault_server.add_record(name, "TXT", txt_rdata("t1", "t2"), ttl=15)
    with make_channel(fault_server.address) as ch:
        result, errno = resolve(ch, name, pycares_ng.QUERY_TYPE_ANY)
        assert errno is None
        assert result == [R.ares_query_a_result("192.0.2.7", 11), R.ares_query_aaaa_result("2001:db8::7", 12),
                          R.ares_query_mx_result("mail.many.test", 5, 13), R.ares_query_txt_result("t1t2", 15)]
        assert [r.type for r in result] == ["A", "AAAA", "MX", "TXT"]
        msg, errno = resolve(ch, name, pycares_ng.QUERY_TYPE_ANY, method="query_dns")
        assert errno is None
        assert [(r.name, r.type, r.ttl) for r in msg.answer] == [
            (name, 1, 11), (name, 28, 12), (name, 15, 13), (name, 65280, 14), (name, 16, 15)]
        assert msg.answer[3].data == b"\x01\x02\x03"  # unknown type: raw RDATA
        assert msg.answer[1].data == R.ares_query_aaaa_result("2001:db8::7", 12)


# ---------------------------------------------------------------------------------------------
# Transport: IPv6 loopback.
# ---------------------------------------------------------------------------------------------

def test_query_over_ipv6_loopback(dns_server):
    if dns_server.address6 is None:
        pytest.skip("no IPv6 loopback on this machine")
    with make_channel(dns_server.address6) as ch:
        assert resolve(ch, "ipv6only.example.test", pycares_ng.QUERY_TYPE_AAAA) == \
            ([R.ares_query_aaaa_result("2001:db8::6", 600)], None)
        result, errno = resolve(ch, "txt-big.example.test", pycares_ng.QUERY_TYPE_TXT)  # TCP over ::1 too
        assert errno is None and len(result) == 12
