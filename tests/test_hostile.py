"""Hostile and broken servers, and hostile bytes fed straight to the C parser.

1. Every FaultServer mode: exactly one callback, in bounded time, with the errno c-ares
   reports for it (the old engine, c-ares 1.18, and the new one, 1.34, differ on a few).
2. Many concurrent queries of mixed modes on one channel: each gets exactly one callback.
3. The parser (pycares_ng._core._parse_answer / _parse_message / _walk_message) on valid
   dnspython-built messages of every type (compared with dnspython's own parse), on every
   truncation of them, on seeded random mutations (differential against dnspython when it
   accepts the bytes) and on crafted attacks. Messages are placed right against a PROT_NONE
   guard page, so a read one octet out of bounds crashes instead of passing unnoticed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import random
import socket
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

import pycares_ng
from pycares_ng import _core
from pycares_ng import errno as E
from pycares_ng.testing import FaultServer

from expected import (as_dicts, assert_records_match, expected_answer, expected_record, expected_sections,
                      name_text, record_matches, records, without_opt)
from helpers import Collector, make_channel, run_until

CARES = tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2])
TIMEOUT = 0.5  # per-query timeout given to the channel (tries=1)

# ---------------------------------------------------------------------------------------------
# 1. FaultServer modes through a Channel.
# ---------------------------------------------------------------------------------------------

OK = "ok"  # a result, not an errno
# mode -> (c-ares 1.18 outcome, c-ares >= 1.34 outcome). The old engine by itself ignores replies
# whose question cannot be parsed and fails the only server on SERVFAIL/REFUSED; the new one
# reports unparsable replies as EBADRESP and SERVFAIL/REFUSED by their rcode -- and so does
# pycares_ng on the old engine (it notes each reply as it reads it, sockets.c), as pycares 4.11.
MODE_OUTCOME = {
    "answer": (OK, OK),
    "nodata": (E.ARES_ENODATA, E.ARES_ENODATA),
    "nxdomain": (E.ARES_ENOTFOUND, E.ARES_ENOTFOUND),
    "servfail": (E.ARES_ESERVFAIL, E.ARES_ESERVFAIL),
    "refused": (E.ARES_EREFUSED, E.ARES_EREFUSED),
    "drop": (E.ARES_ETIMEOUT, E.ARES_ETIMEOUT),
    "truncate": (OK, OK),
    "garbage": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "wrong_id": (E.ARES_ETIMEOUT, E.ARES_ETIMEOUT),
    "wrong_question": (E.ARES_ETIMEOUT, E.ARES_ETIMEOUT),
    "short_header": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "pointer_loop": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "pointer_loop_mutual": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "pointer_past_end": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "count_overflow": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "rdlength_overrun": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "long_name": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "bad_label": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "bad_rdata": (E.ARES_EBADRESP, E.ARES_EBADRESP),
    "ttl_high_bit": (OK, OK),
}


def allowed(mode: str, method: str = "query") -> set:
    """The outcomes acceptable for this c-ares: the exact one at either end of the supported
    range, either of the two in between (where the engine changed)."""
    if mode == "nodata" and method.endswith("_dns"):
        return {OK}  # the whole-message API delivers a NOERROR reply without answers
    old, new = MODE_OUTCOME[mode]
    if CARES < (1, 19):
        return {old}
    if CARES >= (1, 34):
        return {new}
    return {old, new}


# A reply the new engine (c-ares 1.34; some release after 1.18) cannot parse makes it drop the
# UDP connection and fail EVERY query pending on it with EBADRESP (tries=1 leaves no retry), and
# pycares_ng makes c-ares 1.18 do the same (its socket layer refuses such a datagram):
# in a crowd with such modes, EBADRESP is a legitimate outcome for any query there.
POISONING = {"garbage", "short_header", "pointer_loop", "pointer_loop_mutual", "pointer_past_end",
             "count_overflow", "rdlength_overrun", "long_name", "bad_label", "bad_rdata"}
WELL_FORMED = sorted(set(MODE_OUTCOME) - POISONING)


def outcome(call) -> object:
    result, errno = call
    if errno is None:
        assert result is not None
        return OK
    assert result is None and isinstance(errno, int)
    return errno


def drive_for(channel, seconds: float) -> None:
    """Keep processing a little longer: a second callback would show up here."""
    run_until(channel, lambda: False, seconds)


def test_every_mode_has_an_expectation():
    assert set(FaultServer.MODES) == set(MODE_OUTCOME)


@pytest.mark.parametrize("method", ["query", "query_dns"])
@pytest.mark.parametrize("qtype", ["A", "AAAA", "TXT"])
@pytest.mark.parametrize("mode", sorted(MODE_OUTCOME))
def test_mode_gives_exactly_one_callback(fault_server, mode, qtype, method):
    fault_server.mode = mode
    name = f"{mode}.hostile.test"
    with make_channel(fault_server.address, timeout=TIMEOUT, tries=1) as ch:
        c = Collector()
        start = time.monotonic()
        getattr(ch, method)(name, getattr(pycares_ng, "QUERY_TYPE_" + qtype), c.cb)
        assert run_until(ch, lambda: len(c) >= 1, 5.0), f"no callback for mode {mode}"
        elapsed = time.monotonic() - start
        drive_for(ch, 0.2)
    assert len(c) == 1, c.calls
    assert outcome(c.one) in allowed(mode, method), c.one
    assert elapsed < TIMEOUT + 1.5
    assert fault_server.errors == []


@pytest.mark.parametrize("method", ["query", "query_dns"])
def test_answer_values(fault_server, method):
    with make_channel(fault_server.address, timeout=TIMEOUT) as ch:
        c = Collector()
        getattr(ch, method)("plain.test", pycares_ng.QUERY_TYPE_A, c.cb)
        assert run_until(ch, lambda: len(c) >= 1, 5.0)
    result, errno = c.one
    assert errno is None
    expected = pycares_ng.ares_query_a_result("192.0.2.1", 300)
    if method == "query":
        assert result == [expected]
    else:
        assert [(r.name, r.type, r.record_class, r.ttl, r.data) for r in result.answer] == \
            [("plain.test", 1, 1, 300, expected)]


def test_truncate_retries_over_tcp(fault_server):
    fault_server.mode = "truncate"
    with make_channel(fault_server.address, timeout=TIMEOUT) as ch:
        c = Collector()
        ch.query("tc.test", pycares_ng.QUERY_TYPE_AAAA, c.cb)
        assert run_until(ch, lambda: len(c) >= 1, 5.0)
    assert c.one == ([pycares_ng.ares_query_aaaa_result("2001:db8::1", 300)], None)
    transports = [q.transport for q in fault_server.queries if q.qname == "tc.test"]
    assert transports[:1] == ["udp"] and "tcp" in transports


@pytest.mark.parametrize("qtype,data", [
    ("A", pycares_ng.ares_query_a_result("192.0.2.1", 0)),
    ("AAAA", pycares_ng.ares_query_aaaa_result("2001:db8::1", 0)),
    ("TXT", pycares_ng.ares_query_txt_result("fault-server", 0)),
])
def test_ttl_high_bit_is_zero(fault_server, qtype, data):
    # RFC 2181 §8: a TTL with the most significant bit set is treated as zero.
    fault_server.mode = "ttl_high_bit"
    with make_channel(fault_server.address, timeout=TIMEOUT) as ch:
        c = Collector()
        ch.query("ttl.test", getattr(pycares_ng, "QUERY_TYPE_" + qtype), c.cb)
        ch.query_dns("ttl.test", getattr(pycares_ng, "QUERY_TYPE_" + qtype), c.cb)
        assert run_until(ch, lambda: len(c) >= 2, 5.0)
    (result, e1), (msg, e2) = c.calls
    assert e1 is None and e2 is None
    assert result == [data]
    assert [(r.ttl, r.data) for r in msg.answer] == [(0, data)]


@pytest.mark.parametrize("qtype", ["A", "AAAA"])
def test_bad_rdata_is_badresp(fault_server, qtype):
    fault_server.mode = "bad_rdata"
    with make_channel(fault_server.address, timeout=TIMEOUT) as ch:
        c = Collector()
        ch.query("short.test", getattr(pycares_ng, "QUERY_TYPE_" + qtype), c.cb)
        assert run_until(ch, lambda: len(c) >= 1, 5.0)
    assert c.one == (None, E.ARES_EBADRESP)


# ---------------------------------------------------------------------------------------------
# 2. Crowds: many queries of mixed modes at once on one channel.
# ---------------------------------------------------------------------------------------------

def run_crowd(server, modes, count=200):
    """*count* queries on one channel, modes and methods and types mixed; returns
    [(name, mode, method, collector)] once every callback ran (and a little longer)."""
    names = [f"q{i}.crowd.test" for i in range(count)]
    server.rules = {name: modes[i % len(modes)] for i, name in enumerate(names)}
    plan = []
    with make_channel(server.address, timeout=TIMEOUT, tries=1) as ch:
        start = time.monotonic()
        for i, name in enumerate(names):
            method = ("query", "query_dns")[i // len(modes) % 2]  # every mode gets both
            qtype = (pycares_ng.QUERY_TYPE_A, pycares_ng.QUERY_TYPE_TXT)[i // (2 * len(modes)) % 2]
            c = Collector()
            getattr(ch, method)(name, qtype, c.cb)
            plan.append((name, modes[i % len(modes)], method, c))
        assert run_until(ch, lambda: all(len(p[3]) >= 1 for p in plan), 15.0), \
            [p[0] for p in plan if not len(p[3])]
        elapsed = time.monotonic() - start
        drive_for(ch, 0.3)
    assert elapsed < 10.0
    for name, mode, method, c in plan:
        assert len(c) == 1, (name, mode, c.calls)
    assert server.errors == []
    return plan


def test_many_concurrent_well_formed_modes(fault_server):
    """200 queries at once over every mode whose replies parse: exactly one callback each, and
    each the outcome its mode gives alone."""
    for name, mode, method, c in run_crowd(fault_server, WELL_FORMED):
        assert outcome(c.one) in allowed(mode, method), (name, mode, method, c.one)


def test_many_concurrent_all_modes(fault_server):
    """200 queries at once over every mode, hostile ones included: exactly one callback each."""
    for name, mode, method, c in run_crowd(fault_server, sorted(MODE_OUTCOME)):
        expected = allowed(mode, method) | {E.ARES_EBADRESP}
        assert outcome(c.one) in expected, (name, mode, method, c.one)


def test_close_with_hostile_queries_pending(fault_server):
    """Queries stuck on a silent server still get exactly one callback when the channel closes."""
    fault_server.mode = "drop"
    collectors = [Collector() for _ in range(20)]
    ch = make_channel(fault_server.address, timeout=5.0, tries=1)
    for i, c in enumerate(collectors):
        ch.query(f"stuck{i}.test", pycares_ng.QUERY_TYPE_A, c.cb)
    assert fault_server.wait_for_queries(20, 5.0)
    ch.close()  # delivers the pending callbacks
    for c in collectors:
        assert len(c) == 1, c.calls
        assert c.one in ((None, E.ARES_ECANCELLED), (None, E.ARES_EDESTRUCTION))


# ---------------------------------------------------------------------------------------------
# 3. The parser on bytes (no server).
# ---------------------------------------------------------------------------------------------

class GuardedBuffer:
    """Anonymous memory with PROT_NONE pages on both sides, to place messages against.

    tail(data) puts data so that its last octet is the last readable one: reading one past
    the end faults. head(data) puts it right after the lower guard: reading before it faults.
    """

    PAGE = mmap.PAGESIZE
    DATA_PAGES = 17  # room for a 65535-octet message

    def __init__(self) -> None:
        self.size = self.PAGE * self.DATA_PAGES
        self.mm = mmap.mmap(-1, self.size + 2 * self.PAGE)
        anchor = ctypes.c_char.from_buffer(self.mm)
        base = ctypes.addressof(anchor)
        del anchor  # release the buffer export; the mapping stays where it is
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        for page in (base, base + self.PAGE + self.size):
            if libc.mprotect(page, self.PAGE, 0) != 0:  # PROT_NONE
                raise OSError(ctypes.get_errno(), "mprotect")
        self.view = memoryview(self.mm)

    def tail(self, data: bytes) -> memoryview:
        end = self.PAGE + self.size
        self.mm[end - len(data):end] = data
        return self.view[end - len(data):end]

    def head(self, data: bytes) -> memoryview:
        self.mm[self.PAGE:self.PAGE + len(data)] = data
        return self.view[self.PAGE:self.PAGE + len(data)]


_GUARD = None


@pytest.fixture(scope="module")
def guard() -> GuardedBuffer:
    global _GUARD
    if _GUARD is None:  # never unmapped: views of it may outlive a test
        _GUARD = GuardedBuffer()
    return _GUARD


def parse_all(buf, qtypes=(1,)):
    """Run all three entry points; each must return or raise AresError. Returns the outcomes."""
    walked = _core._walk_message(buf)
    assert isinstance(walked, int)
    outcomes = []
    for fn, args in [(_core._parse_message, ())] + [(_core._parse_answer, (q,)) for q in qtypes]:
        try:
            outcomes.append(fn(buf, *args))
        except pycares_ng.AresError as exc:
            assert exc.args[0] in (E.ARES_EBADRESP, E.ARES_ENODATA), exc.args
            assert isinstance(exc.args[1], str)
            outcomes.append(exc.args[0])
    return walked, outcomes


def badresp(fn, *args):
    with pytest.raises(pycares_ng.AresError) as info:
        fn(*args)
    return info.value.args[0] == E.ARES_EBADRESP


# -- (a) valid messages of every type, built by dnspython ---------------------------------------

# (owner, type, ttl, [rdata texts]) -- every type pycares_ng decodes, plus some it does not.
ANSWERS = [
    ("a.test.", "A", 60, ["192.0.2.1", "192.0.2.2"]),
    ("a.test.", "AAAA", 61, ["2001:db8::1", "::ffff:192.0.2.1", "::"]),
    ("a.test.", "NS", 62, ["ns1.a.test.", "ns.other.test."]),
    ("a.test.", "CNAME", 63, ["target.a.test."]),
    ("a.test.", "SOA", 64, ["ns1.a.test. host\\.master.a.test. 4294967295 1 2 3 4"]),
    ("1.2.0.192.in-addr.arpa.", "PTR", 65, ["one.a.test.", "two.a.test.", "three.a.test."]),
    ("a.test.", "MX", 66, ["0 .", "65535 mx.a.test."]),
    ("a.test.", "TXT", 67, ['""', '"a" "b" "c"', '"\\255\\000x"', '"' + "x" * 255 + '" "y"']),
    ("_s._tcp.a.test.", "SRV", 68, ["0 0 0 .", "65535 65535 65535 srv.a.test."]),
    ("a.test.", "NAPTR", 69, ['1 2 "" "" "" .', '100 10 "S" "SIP+D2U" "!^\\255!x!" _sip._udp.a.test.']),
    ("a.test.", "CAA", 70, ['0 issue "ca.test"', '128 tbs "\\200\\201"', '1 x ""']),
    ("a.test.", "URI", 71, ['10 1 "https://a.test/"', '0 0 "\\255"']),
    ("a.test.", "TLSA", 72, ["3 1 1 0ed406c80b06223f553591f39081f620ff53a46018f0034c25575d06bcddbc32"]),
    ("a.test.", "SVCB", 73, ["0 alias.a.test.", '1 . alpn="h2,h3" port=853 ipv4hint=192.0.2.1 key65000="x"']),
    ("a.test.", "HTTPS", 74, ['1 . mandatory=alpn alpn=h2 ipv6hint=2001:db8::1 ech="AARhYmNk"', "2 svc.a.test."]),
    ("a.test.", "DS", 75, ["12345 13 2 9A66231EE67AD86273EFA7E598D819212BDBE5DDCBDB4DC2B93ED58D7145DA49"]),
    ("a.test.", "DNSKEY", 76, ["257 3 13 9gJjYiP1hvv1B8WMcFrp2/7NyVd/SkCtzyEXB+afZaVEjWrfZzLSgd/t6cxVApF1vRLX"
                               "U/KH1T9kNtXuHMoaSQ=="]),
    ("a.test.", "SSHFP", 77, ["1 1 " + "ab" * 20, "4 2 " + "cd" * 32]),
    ("a.test.", "HINFO", 78, ['"cpu" "os"']),                       # no result class
    ("a.test.", "TYPE65280", 79, ["\\# 3 010203"]),                  # unknown to both
    ("a.test.", "TYPE65281", 80, ["\\# 0"]),
    ("\\.we\\\\ird\\032name\\255\\000.test.", "A", 81, ["192.0.2.9"]),  # escapes in owner names
    ("@x(y);z$\".test.", "TXT", 82, ['"ok"']),
    (".", "NS", 83, ["a.root-servers.test."]),                     # root owner
    ("a.test.", "A", 0x7FFFFFFF, ["192.0.2.3"]),
    ("b.test.", "A", 0x80000000, ["192.0.2.4"]),                   # top bit: TTL 0
    ("c.test.", "A", 0xFFFFFFFF, ["192.0.2.5"]),
]


def build(qname: str, qtype: str, answers, authority=(), additional=(), edns=False, rdclass="IN") -> bytes:
    query = dns.message.make_query(qname, qtype, use_edns=0 if edns else False)
    reply = dns.message.make_response(query)
    for section, items in ((reply.answer, answers), (reply.authority, authority),
                           (reply.additional, additional)):
        for owner, rtype, ttl, texts in items:
            section.append(dns.rrset.from_text(owner, ttl, rdclass, rtype, *texts))
    if edns:
        reply.use_edns(0, payload=1232, options=[dns.edns.GenericOption(65001, b"opt-data"),
                                                 dns.edns.ECSOption("192.0.2.0", 24)])
    return reply.to_wire()


def valid_messages():
    """(label, wire, qtype) of valid replies: one per record set above, then richer ones."""
    out = []
    for owner, rtype, ttl, texts in ANSWERS:
        out.append((f"{rtype}-{owner}", build(owner, rtype, [(owner, rtype, ttl, texts)]),
                    int(dns.rdatatype.from_text(rtype))))
    everything = [a for a in ANSWERS if a[0] == "a.test."]
    out.append(("any-mix", build("a.test.", "ANY", everything), 255))
    out.append(("cname-chain", build("c1.test.", "A", [("c1.test.", "CNAME", 5, ["c2.test."]),
                                                         ("c2.test.", "CNAME", 6, ["c3.test."]),
                                                         ("c3.test.", "A", 7, ["192.0.2.7"])]), 1))
    out.append(("sections-edns", build(
        "a.test.", "MX", [("a.test.", "MX", 10, ["10 mx1.a.test.", "20 mx2.a.test."])],
        authority=[("a.test.", "NS", 20, ["ns1.a.test."]), ("a.test.", "SOA", 21, ["ns1.a.test. h.a.test. 1 2 3 4 5"])],
        additional=[("mx1.a.test.", "A", 30, ["192.0.2.25"]), ("mx2.a.test.", "AAAA", 31, ["2001:db8::26"]),
                    ("version.bind.", "TXT", 32, ['"x"'])],
        edns=True), 15))
    out.append(("nodata-soa", build("a.test.", "MX", [], authority=[("a.test.", "SOA", 60, [
        "ns1.a.test. h.a.test. 1 2 3 4 5"])]), 15))
    out.append(("referral", build("www.sub.a.test.", "A", [], authority=[("sub.a.test.", "NS", 3, ["ns.sub.a.test."])],
                                  additional=[("ns.sub.a.test.", "A", 4, ["192.0.2.99"])]), 1))
    big = [("big.test.", "A", 1, [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(4000)])]
    out.append(("4000-records", build("big.test.", "A", big), 1))
    return out


VALID = valid_messages()
VALID_IDS = [v[0] for v in VALID]


def oracle(wire: bytes) -> dns.message.Message:
    return dns.message.from_wire(wire, one_rr_per_rrset=True)


def answer_qtype(qtype: int) -> int:
    """query() only takes the types it has result classes for; ANY stands in for the others."""
    return qtype if _known(qtype) else 255


@pytest.mark.parametrize("label,wire,qtype", VALID, ids=VALID_IDS)
def test_valid_message_matches_dnspython(guard, label, wire, qtype):
    msg = oracle(wire)
    buf = guard.tail(wire)
    qtype = answer_qtype(qtype)
    expected = expected_answer(msg, qtype)
    if expected is None:
        with pytest.raises(pycares_ng.AresError) as info:
            _core._parse_answer(buf, qtype)
        assert info.value.args[0] == E.ARES_ENODATA
    else:
        assert as_dicts(_core._parse_answer(buf, qtype)) == as_dicts(expected)
    parsed = _core._parse_message(buf)
    answer, authority, additional = expected_sections(msg)
    assert_records_match(parsed.answer, answer)
    assert_records_match(parsed.authority, authority)
    assert_records_match(without_opt(parsed.additional), additional)
    assert parsed.flags == msg.flags and parsed.rcode == msg.flags & 0xF
    opts = [r for r in parsed.additional if r.type == 41]
    if msg.opt is not None:
        assert [(r.name, r.record_class, r.ttl, r.data) for r in opts] == \
            [("", msg.payload, msg.ednsflags, msg.opt[0].to_wire())]
    else:
        assert opts == []
    total = sum(len(s) for s in (parsed.answer, parsed.authority, parsed.additional))
    assert _core._walk_message(buf) == total
    assert parse_all(guard.head(wire), (qtype, 255))[0] == total


def test_valid_messages_cover_every_query_type():
    types = {getattr(pycares_ng, n) for n in dir(pycares_ng) if n.startswith("QUERY_TYPE_")}
    assert types <= {q for _, _, q in VALID}


def test_name_escapes_match_dnspython(guard):
    wire = build("x.test.", "A", [("\\.we\\\\ird\\032name\\255\\000.test.", "A", 1, ["192.0.2.9"])])
    [record] = _core._parse_message(guard.tail(wire)).answer
    assert record.name == name_text(dns.name.from_text("\\.we\\\\ird\\032name\\255\\000.test."))
    assert record.name == "\\.we\\\\ird\\032name\\255\\000.test"


# -- (b) every truncation ------------------------------------------------------------------------

@pytest.mark.parametrize("label,wire,qtype", [v for v in VALID if len(v[1]) < 3000],
                         ids=[v[0] for v in VALID if len(v[1]) < 3000])
def test_every_prefix_is_rejected(guard, label, wire, qtype):
    qtype = answer_qtype(qtype)

    def answer_outcome(buf):
        try:
            return _core._parse_answer(buf, qtype)
        except pycares_ng.AresError as exc:
            return exc.args[0]

    full = answer_outcome(wire)
    assert full != E.ARES_EBADRESP
    for n in range(len(wire)):
        buf = guard.tail(wire[:n])
        assert _core._walk_message(buf) < 0, n
        assert badresp(_core._parse_message, buf), n
        # query() reads only as far as the answer section: a cut further on may still give the
        # whole answer (or ENODATA), never a partial one.
        assert answer_outcome(buf) in (E.ARES_EBADRESP, full), n
        parse_all(guard.head(wire[:n]), (qtype,))


# -- (c) seeded random mutations, differential against dnspython -----------------------------------

def mutate(rng: random.Random, wire: bytes) -> bytes:
    data = bytearray(wire)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.random()
        pos = rng.randrange(len(data)) if data else 0
        if kind < 0.35 and data:
            data[pos] = rng.randrange(256)
        elif kind < 0.6 and data:
            data[pos] ^= 1 << rng.randrange(8)
        elif kind < 0.7 and data:
            data[pos] = rng.choice((0x00, 0x3F, 0x40, 0x80, 0xC0, 0xFF))
        elif kind < 0.8 and len(data) > 1:  # plant a compression pointer
            target = rng.randrange(max(1, len(data) + 8))
            data[pos:pos + 2] = bytes([0xC0 | (target >> 8 & 0x3F), target & 0xFF])
        elif kind < 0.9:
            del data[pos:pos + rng.randrange(1, 4)]
        else:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4)))
    return bytes(data)


def compare_with_dnspython(wire: bytes, parsed) -> None:
    """When dnspython accepts the bytes, pycares_ng must too, and agree on every record."""
    try:
        msg = oracle(wire)
    except Exception:  # dnspython rejects it: pycares_ng may be more lenient, nothing to compare
        return
    if any(rrset.rdclass != dns.rdataclass.IN for section in (msg.answer, msg.authority, msg.additional)
           for rrset in section):
        # dnspython decodes IN-only types (A, SRV, SVCB, ...) of other classes as opaque data;
        # pycares_ng decodes by type alone, as c-ares does, so it may reject what dnspython takes.
        return
    assert not isinstance(parsed, int), f"dnspython parses it, pycares_ng says {parsed}: {wire.hex()}"
    for ours, section in zip((parsed.answer, parsed.authority, without_opt(parsed.additional)),
                             (msg.answer, msg.authority, msg.additional)):
        expected = [expected_record(rrset, rd) for rrset, rd in records(section)]
        assert len(ours) == len(expected), wire.hex()
        for got, want in zip(ours, expected):
            assert record_matches(got, want), (got, want, wire.hex())


def test_random_mutations(guard):
    rng = random.Random(20240601)
    bases = [v for v in VALID if len(v[1]) < 2000]
    cases = 0
    for cases in range(1, 20001):
        label, wire, qtype = bases[cases % len(bases)]
        bad = mutate(rng, wire)
        walked, outcomes = parse_all(guard.tail(bad), (answer_qtype(qtype), 255))
        parsed = outcomes[0]
        if isinstance(parsed, int):
            assert walked < 0 or parsed == E.ARES_EBADRESP
        else:
            assert walked == sum(len(s) for s in (parsed.answer, parsed.authority, parsed.additional))
        if cases % 4 == 0:  # both placements, on a share of the cases
            assert parse_all(guard.head(bad), (answer_qtype(qtype),))[0] == walked
        compare_with_dnspython(bad, parsed)
    assert cases == 20000


def test_random_bytes(guard):
    """Unstructured input, header-shaped: random counts and random bodies."""
    rng = random.Random(7)
    for _ in range(5000):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
        header = struct.pack("!6H", rng.randrange(65536), 0x8180, rng.choice((0, 1, 2, 65535)),
                             rng.choice((0, 1, 5, 65535)), rng.choice((0, 1)), rng.choice((0, 1)))
        parse_all(guard.tail(header + body), (1, 16, 255))


# -- (d) crafted attacks -------------------------------------------------------------------------

def header(an=1, ns=0, ar=0, qd=1, flags=0x8180, qid=0x1234):
    return struct.pack("!6H", qid, flags, qd, an, ns, ar)


QUESTION = b"\x01x\x04test\x00" + struct.pack("!HH", 1, 1)  # x.test A IN, at offset 12
QNAME_AT = 12


def rr(owner: bytes, rtype=1, ttl=60, rdata=b"\xc0\x00\x02\x01", rclass=1, rdlength=None) -> bytes:
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata) if rdlength is None else rdlength) + rdata


def ptr(offset: int) -> bytes:
    return struct.pack("!H", 0xC000 | offset)


START = 12 + len(QUESTION)  # offset of the first answer record


def labels_name(total_octets: int) -> bytes:
    """An uncompressed name of exactly total_octets on the wire (root label included)."""
    out, left = b"", total_octets - 1
    while left:
        n = min(63, left - 1)
        out += bytes([n]) + b"a" * n
        left -= n + 1
    return out + b"\x00"


def chain_of_pointers(hops: int) -> bytes:
    """Two records: an unknown-type one whose RDATA is a run of pointers, each to the one before
    (the first to the question name), and an A record whose owner points at the last of them:
    decoding that owner takes *hops* backward jumps."""
    head = header(an=2) + QUESTION
    blob_at = len(head) + 1 + 10  # after the filler record's root owner and fixed fields
    blob, prev = bytearray(), QNAME_AT
    for _ in range(hops - 1):
        here = blob_at + len(blob)
        blob += ptr(prev)
        prev = here
    return head + rr(b"\x00", rtype=65280, rdata=bytes(blob)) + rr(ptr(prev))


# Broken structure: the record walk itself fails (_walk_message < 0).
CRAFTED_STRUCTURE = {
    "empty": b"",
    "header-only-11": header()[:11],
    "question-cut": header(an=0) + QUESTION[:-1],
    "qdcount-65535": header(qd=65535, an=0) + QUESTION,
    "ancount-65535": header(an=65535) + QUESTION + rr(ptr(QNAME_AT)),
    "ancount-overflow": header(an=5) + QUESTION + rr(ptr(QNAME_AT)),
    "nscount-overflow": header(an=1, ns=3) + QUESTION + rr(ptr(QNAME_AT)),
    "pointer-to-itself": header() + QUESTION + rr(ptr(START)),
    "pointer-forward": header() + QUESTION + rr(ptr(START + 20)),
    "pointer-past-end": header() + QUESTION + rr(ptr(0x3FFF)),
    "pointer-truncated": header() + QUESTION + b"\xc0",
    "pointer-loop-mutual": header(an=1) + QUESTION + rr(ptr(START + 12), rtype=5, rdata=ptr(START)),
    "question-pointer-to-itself": header(an=0) + ptr(12) + struct.pack("!HH", 1, 1),
    "label-type-0x40": header() + QUESTION + rr(b"\x41x\x00"),
    "label-type-0x80": header() + QUESTION + rr(b"\x81x\x00"),
    "label-past-end": header() + QUESTION + b"\x3fabc",
    "name-256-octets": header() + QUESTION + rr(labels_name(256)),
    "name-257-via-pointer": header(an=2) + QUESTION + rr(ptr(QNAME_AT), rtype=5, rdata=labels_name(255))
    + rr(b"\x01y" + ptr(START + 12)),
    "rdlength-past-end": header() + QUESTION + rr(ptr(QNAME_AT), rdlength=200),
    "rdlength-one-past-end": header() + QUESTION + rr(ptr(QNAME_AT), rdlength=5),
}

# Sound structure, one malformed RDATA: the walk counts the record, parsing rejects the reply.
CRAFTED_RDATA = {
    "a-3-octets": (1, b"\x01\x02\x03"),
    "a-5-octets": (1, b"\x01\x02\x03\x04\x05"),
    "aaaa-15-octets": (28, b"\x00" * 15),
    "aaaa-17-octets": (28, b"\x00" * 17),
    "cname-empty": (5, b""),
    "cname-trailing-octet": (5, b"\x00\x00"),
    "cname-label-leaves-rdata": (5, b"\x05ab"),  # the label would run into the next bytes
    "cname-pointer-forward": (5, ptr(0x3FFF)),
    "ns-reserved-label": (2, b"\x41x\x00"),
    "ptr-name-256": (12, labels_name(256)),
    "mx-no-name": (15, b"\x00\x0a"),
    "mx-1-octet": (15, b"\x00"),
    "soa-one-u32-short": (6, b"\x00\x00" + b"\x00" * 19),
    "soa-trailing": (6, b"\x00\x00" + b"\x00" * 21),
    "srv-short": (33, b"\x00\x01\x00\x02\x00"),
    "txt-string-overrun": (16, b"\x05abc"),
    "txt-second-string-overrun": (16, b"\x01a\xffb"),
    "naptr-cut": (35, b"\x00\x01\x00\x02\x01S\x05ab"),
    "naptr-no-replacement": (35, b"\x00\x01\x00\x02\x00\x00\x00"),
    "caa-empty": (257, b""),
    "caa-tag-overrun": (257, b"\x00\x09issue"),
    "uri-short": (256, b"\x00\x01\x00"),
    "tlsa-short": (52, b"\x03\x01"),
    "ds-short": (43, b"\x30\x39\x0d"),
    "dnskey-short": (48, b"\x01\x01\x03"),
    "sshfp-short": (44, b"\x01"),
    "svcb-no-target": (64, b"\x00\x01"),
    "svcb-param-overrun": (64, b"\x00\x01\x00" + b"\x00\x01\x00\x09h2"),
    "https-param-header-cut": (65, b"\x00\x01\x00\x00\x01\x00"),
}


@pytest.mark.parametrize("label", sorted(CRAFTED_STRUCTURE))
def test_crafted_structure(guard, label):
    wire = CRAFTED_STRUCTURE[label]
    for buf in (guard.tail(wire), guard.head(wire)):
        assert _core._walk_message(buf) < 0
        assert badresp(_core._parse_message, buf)
        for qtype in (1, 16, 255):
            assert badresp(_core._parse_answer, buf, qtype), qtype


@pytest.mark.parametrize("qtype", [5, 6, 12])
def test_single_result_types_check_the_whole_answer(qtype):
    """CNAME/SOA/PTR give one result, but a reply whose answer section is malformed after the
    first match is still a malformed reply: EBADRESP, as for every other query type (the same
    bytes must not be EBADRESP for an A query and a result for a CNAME query)."""
    first = {5: rr(ptr(QNAME_AT), rtype=5, rdata=b"\x01t\x00"),
             6: rr(ptr(QNAME_AT), rtype=6, rdata=b"\x00\x00" + b"\x00" * 20),
             12: rr(ptr(QNAME_AT), rtype=12, rdata=b"\x01t\x00")}[qtype]
    for second in (rr(ptr(QNAME_AT), rdata=b"\x01\x02\x03"),      # bad RDATA
                   rr(b"\x01y" + ptr(0x3FFF)),                       # bad owner name
                   rr(ptr(QNAME_AT), rdlength=300)):                   # RDLENGTH past the end
        wire = header(an=2) + QUESTION + first + second
        assert badresp(_core._parse_answer, wire, 1)
        assert badresp(_core._parse_answer, wire, qtype), (qtype, second)


@pytest.mark.parametrize("label", sorted(CRAFTED_RDATA))
def test_crafted_rdata(guard, label):
    rtype, rdata = CRAFTED_RDATA[label]
    # a good A record first, so a parser that stops at the first error still sees a bad one
    wire = header(an=2) + QUESTION + rr(ptr(QNAME_AT)) + rr(ptr(QNAME_AT), rtype=rtype, rdata=rdata)
    for buf in (guard.tail(wire), guard.head(wire)):
        assert _core._walk_message(buf) == 2
        assert badresp(_core._parse_message, buf)
        for qtype in (1, rtype if _known(rtype) else 255, 255):
            assert badresp(_core._parse_answer, buf, qtype), qtype


def _known(rtype: int) -> bool:
    return rtype in {getattr(pycares_ng, n) for n in dir(pycares_ng) if n.startswith("QUERY_TYPE_")}


def test_pointer_chains_bounded(guard):
    """Each hop goes backwards, so chains end; long ones are cut off or followed, quickly."""
    assert [r.name for r in _core._parse_message(chain_of_pointers(100)).answer] == ["", "x.test"]
    start = time.monotonic()
    for hops in (127, 1000, 5000, 16000):
        wire = chain_of_pointers(hops)
        if len(wire) <= 0x3FFF:  # pointers reach 14 bits only
            parse_all(guard.tail(wire), (1, 255))
    assert time.monotonic() - start < 2.0


def test_pointer_chain_limit_is_generous():
    """Legitimate compression needs few hops; 100 backward hops still decode."""
    msg = _core._parse_message(chain_of_pointers(100))
    assert [r.name for r in msg.answer] == ["", "x.test"]


def test_name_of_255_octets_is_accepted():
    wire = header() + QUESTION + rr(labels_name(255))
    [record] = _core._parse_message(wire).answer
    assert len(record.name) == 253
    assert record.name == name_text(dns.name.from_wire(labels_name(255), 0)[0])


def test_pointer_into_header_is_bounded():
    """A backward pointer into the header decodes as whatever labels are there, or fails; never
    reads out of the message."""
    wire = header(qid=0x0161) + QUESTION + rr(ptr(0))  # id 0x01 0x61: label "a", then flags ...
    walked, outcomes = parse_all(wire, (1,))
    assert walked < 0 or walked == 1


def test_counts_zero_is_nodata():
    wire = header(an=0) + QUESTION
    assert _core._walk_message(wire) == 0
    msg = _core._parse_message(wire)
    assert (msg.answer, msg.authority, msg.additional, msg.rcode) == ([], [], [], 0)
    with pytest.raises(pycares_ng.AresError) as info:
        _core._parse_answer(wire, 1)
    assert info.value.args[0] == E.ARES_ENODATA


def test_trailing_octets_after_last_record():
    """Octets after the counted records are not records; what was counted still parses."""
    wire = header() + QUESTION + rr(ptr(QNAME_AT)) + b"\xde\xad"
    assert _core._parse_answer(wire, 1) == [pycares_ng.ares_query_a_result("192.0.2.1", 60)]


def test_bad_record_of_another_type_rejects_answer():
    """Every answer record must be well formed, not only those of the asked type."""
    wire = header(an=2) + QUESTION + rr(ptr(QNAME_AT)) + rr(ptr(QNAME_AT), rtype=15, rdata=b"\x00")
    assert badresp(_core._parse_answer, wire, 1)


def test_unknown_types_raw_and_skipped():
    wire = header(an=2) + QUESTION + rr(ptr(QNAME_AT), rtype=65280, rdata=b"\xc0\x0c\xff") + rr(ptr(QNAME_AT))
    assert _core._parse_answer(wire, 255) == [pycares_ng.ares_query_a_result("192.0.2.1", 60)]
    msg = _core._parse_message(wire)
    assert [(r.type, r.data) for r in msg.answer] == [
        (65280, b"\xc0\x0c\xff"), (1, pycares_ng.ares_query_a_result("192.0.2.1", 60))]


def test_huge_message():
    """65535 octets of A records: parsed whole, no overrun at the very end."""
    one = rr(ptr(QNAME_AT))
    count = (65535 - 12 - len(QUESTION)) // len(one)
    wire = header(an=count) + QUESTION + one * count
    assert _core._walk_message(wire) == count
    assert len(_core._parse_answer(wire, 1)) == count


def test_parse_answer_unknown_type_is_value_error():
    with pytest.raises(ValueError):
        _core._parse_answer(header(an=0) + QUESTION, 99)


@pytest.mark.parametrize("bad", ["not bytes", 12, None])
def test_parsers_want_bytes(bad):
    for fn in (_core._walk_message, _core._parse_message, lambda b: _core._parse_answer(b, 1)):
        with pytest.raises(TypeError):
            fn(bad)


@pytest.mark.parametrize("event_thread", [False, True], ids=["sock", "thread"])
def test_ttl_high_bit_is_zero_in_getaddrinfo(fault_server, event_thread):
    # getaddrinfo reports the same TTL as query() for a TTL with its top bit set: 0, never -1.
    fault_server.mode = "ttl_high_bit"
    with make_channel(fault_server.address, timeout=TIMEOUT, event_thread=event_thread) as ch:
        c = Collector()
        ch.getaddrinfo("ttl.test", None, c.cb, family=socket.AF_INET)
        if event_thread:  # its own thread drives it: only wait
            deadline = time.monotonic() + 5.0
            while len(c) < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
        else:
            assert run_until(ch, lambda: len(c) >= 1, 5.0)
    result, err = c.one
    assert err is None and result.nodes
    assert [n.ttl for n in result.nodes] == [0] * len(result.nodes)
