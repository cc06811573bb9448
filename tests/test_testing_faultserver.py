"""pycares_ng.testing.FaultServer, checked with dnspython and raw sockets as clients."""

from __future__ import annotations

import socket
import struct
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from dnsdata import ipv6_loopback_usable
from load_testing import testing
from oracle import dnspython_query

FaultServer = testing.FaultServer

HOSTILE = ["pointer_loop", "pointer_loop_mutual", "pointer_past_end", "count_overflow",
           "rdlength_overrun", "long_name", "bad_label", "bad_rdata"]


def make_query(name="host.test", rdtype="A", edns=False, qid=None) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, use_edns=0 if edns else False)
    if qid is not None:
        query.id = qid
    return query


def exchange_raw(server, wire: bytes, tcp: bool = False, timeout: float = 1.0):
    """Send one message, return the first reply's bytes (any id) or None on timeout."""
    family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    kind = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
    with socket.socket(family, kind) as sock:
        sock.settimeout(timeout)
        sock.connect((server.host, server.port))
        try:
            if not tcp:
                sock.send(wire)
                return sock.recv(65535)
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            head = _recv_exact(sock, 2)
            return _recv_exact(sock, struct.unpack("!H", head)[0])
        except socket.timeout:
            return None


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def question_bytes(wire: bytes) -> bytes:
    _, end = testing.decode_name(wire, 12)
    return wire[12:end + 4]


# -- construction and configuration -------------------------------------------

def test_modes_listed_and_documented():
    assert set(FaultServer.MODES) == set(testing.MODES)
    for mode in ["answer", "nodata", "nxdomain", "servfail", "refused", "drop", "truncate",
                 "garbage", "wrong_id", "short_header", "ttl_high_bit", *HOSTILE]:
        assert mode in FaultServer.MODES


def test_unknown_mode_rejected():
    with pytest.raises(ValueError):
        FaultServer(mode="nope")
    server = FaultServer()
    with pytest.raises(ValueError):
        server.mode = "nope"
    with pytest.raises(ValueError):
        server.rules["x.test"] = "nope"
    with pytest.raises(ValueError):
        server.rules = {"x.test": "nope"}
    with pytest.raises(ValueError):
        server.delay = -1


def test_only_loopback():
    with pytest.raises(ValueError):
        FaultServer("192.0.2.1")


def test_address_and_port(fault_server):
    assert fault_server.port > 0
    assert fault_server.address == f"127.0.0.1:{fault_server.port}"


@pytest.mark.skipif(not ipv6_loopback_usable(), reason="no IPv6 loopback here")
def test_ipv6():
    with FaultServer("::1") as server:
        assert server.address == f"[::1]:{server.port}"
        reply = dnspython_query("::1", server.port, "v6.test", "AAAA")
        assert reply.answer[0][0].address == "2001:db8::1"
        reply = dnspython_query("::1", server.port, "v6.test", "A", tcp=True)
        assert reply.answer[0][0].address == "192.0.2.1"


def test_stop_is_quick_idempotent_and_frees_port():
    server = FaultServer(delay=10).start()
    port = server.port
    query = make_query()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(query.to_wire(), ("127.0.0.1", port))  # leaves a pending delayed reply
        assert server.wait_for_queries(1)
    started = time.monotonic()
    server.stop()
    server.stop()
    assert time.monotonic() - started < 1.0
    with FaultServer(port=port) as again:
        assert again.port == port


def test_tcp_disabled():
    with FaultServer(tcp=False) as server:
        assert dnspython_query("127.0.0.1", server.port, "x.test", "A").answer
        with pytest.raises(OSError):
            dnspython_query("127.0.0.1", server.port, "x.test", "A", tcp=True, timeout=0.5)


# -- answer mode -------------------------------------------------------------------

@pytest.mark.parametrize("tcp", [False, True])
def test_defaults(fault_server, tcp):
    port = fault_server.port
    a = dnspython_query("127.0.0.1", port, "x.test", "A", tcp=tcp)
    assert [(r.address, a.answer[0].ttl) for r in a.answer[0]] == [("192.0.2.1", 300)]
    aaaa = dnspython_query("127.0.0.1", port, "x.test", "AAAA", tcp=tcp)
    assert aaaa.answer[0][0].address == "2001:db8::1"
    txt = dnspython_query("127.0.0.1", port, "x.test", "TXT", tcp=tcp)
    assert txt.answer[0][0].strings == (b"fault-server",)
    mx = dnspython_query("127.0.0.1", port, "x.test", "MX", tcp=tcp)
    assert mx.rcode() == dns.rcode.NOERROR and not mx.answer
    assert a.flags & dns.flags.QR and a.flags & dns.flags.AA


def test_records_and_add_record(fault_server):
    fault_server.records[("Mail.Test.", "MX")] = [(77, testing.mx_rdata(10, "mx.mail.test"))]
    fault_server.add_record("mail.test", "MX", testing.mx_rdata(20, "mx2.mail.test"), ttl=77)
    fault_server.add_record("mail.test", "A", "192.0.2.9", ttl=5)
    fault_server.add_record("mail.test", "TXT", "v=spf1 -all")
    fault_server.add_record("mail.test", "SRV", testing.srv_rdata(1, 2, 5060, "sip.mail.test"))
    fault_server.add_record("alias.test", "CNAME", "mail.test")
    mx = dnspython_query("127.0.0.1", fault_server.port, "mail.test", "MX")
    assert sorted((r.preference, str(r.exchange)) for r in mx.answer[0]) == [
        (10, "mx.mail.test."), (20, "mx2.mail.test.")]
    assert mx.answer[0].ttl == 77
    a = dnspython_query("127.0.0.1", fault_server.port, "MAIL.test", "A")
    assert a.answer[0][0].address == "192.0.2.9" and a.answer[0].ttl == 5
    srv = dnspython_query("127.0.0.1", fault_server.port, "mail.test", "SRV")
    assert (srv.answer[0][0].port, str(srv.answer[0][0].target)) == (5060, "sip.mail.test.")
    cname = dnspython_query("127.0.0.1", fault_server.port, "alias.test", "CNAME")
    assert str(cname.answer[0][0].target) == "mail.test."
    any_ = dnspython_query("127.0.0.1", fault_server.port, "mail.test", "ANY", tcp=True)
    assert {rrset.rdtype for rrset in any_.answer} == {
        dns.rdatatype.MX, dns.rdatatype.A, dns.rdatatype.TXT, dns.rdatatype.SRV}
    with pytest.raises(TypeError):
        fault_server.add_record("mail.test", "MX", "10 mx.mail.test")


def test_empty_record_list_means_nodata(fault_server):
    fault_server.records[("none.test", "A")] = []
    reply = dnspython_query("127.0.0.1", fault_server.port, "none.test", "A")
    assert reply.rcode() == dns.rcode.NOERROR and not reply.answer


def test_edns_echoed(fault_server):
    with_edns = dnspython_query("127.0.0.1", fault_server.port, "x.test", "A", edns=True)
    assert with_edns.edns == 0
    without = dnspython_query("127.0.0.1", fault_server.port, "x.test", "A")
    assert without.edns == -1


def test_big_answer_truncated_over_udp_only(fault_server):
    for i in range(30):
        fault_server.add_record("big.test", "TXT", f"record-{i:02d}-" + "x" * 40)
    udp = dnspython_query("127.0.0.1", fault_server.port, "big.test", "TXT")
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = dnspython_query("127.0.0.1", fault_server.port, "big.test", "TXT", tcp=True)
    assert len(tcp.answer[0]) == 30


def test_case_of_question_kept(fault_server):
    query = make_query("MiXeD.CaSe.test")
    reply = exchange_raw(fault_server, query.to_wire())
    assert question_bytes(reply) == question_bytes(query.to_wire())
    assert fault_server.queries[0].qname == "MiXeD.CaSe.test"


# -- error rcodes, drop, truncate ---------------------------------------------------

@pytest.mark.parametrize("mode,rcode", [("nodata", dns.rcode.NOERROR),
                                        ("nxdomain", dns.rcode.NXDOMAIN),
                                        ("servfail", dns.rcode.SERVFAIL),
                                        ("refused", dns.rcode.REFUSED)])
@pytest.mark.parametrize("tcp", [False, True])
def test_rcode_modes(fault_server, mode, rcode, tcp):
    fault_server.mode = mode
    reply = dnspython_query("127.0.0.1", fault_server.port, "x.test", "A", tcp=tcp)
    assert reply.rcode() == rcode
    assert not reply.answer
    assert str(reply.question[0].name) == "x.test."


@pytest.mark.parametrize("tcp", [False, True])
def test_drop(fault_server, tcp):
    fault_server.mode = "drop"
    with pytest.raises(dns.exception.Timeout):
        dnspython_query("127.0.0.1", fault_server.port, "x.test", "A", tcp=tcp, timeout=0.3)
    assert fault_server.wait_for_queries(1)


def test_truncate(fault_server):
    fault_server.mode = "truncate"
    udp = dnspython_query("127.0.0.1", fault_server.port, "x.test", "A")
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = dnspython_query("127.0.0.1", fault_server.port, "x.test", "A", tcp=True)
    assert not tcp.flags & dns.flags.TC
    assert tcp.answer[0][0].address == "192.0.2.1"
    assert [q.transport for q in fault_server.queries] == ["udp", "tcp"]


# -- replies the client must ignore ---------------------------------------------------

def assert_client_ignores(server, name="x.test"):
    """A client that skips replies not matching its query waits until it times out."""
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(make_query(name), server.host, port=server.port, timeout=0.3,
                      ignore_unexpected=True, ignore_errors=True)


@pytest.mark.parametrize("tcp", [False, True])
def test_wrong_id(fault_server, tcp):
    fault_server.mode = "wrong_id"
    query = make_query(qid=1234)
    reply = exchange_raw(fault_server, query.to_wire(), tcp=tcp)
    assert struct.unpack("!H", reply[:2])[0] != 1234
    assert reply[2] & 0x80  # otherwise a proper response
    if not tcp:
        assert_client_ignores(fault_server)


def test_wrong_question(fault_server):
    fault_server.mode = "wrong_question"
    query = make_query("asked.test", qid=99)
    reply = exchange_raw(fault_server, query.to_wire())
    assert reply[:2] == query.to_wire()[:2]
    parsed = dns.message.from_wire(reply)
    assert str(parsed.question[0].name) == "wrong-question.invalid."
    assert_client_ignores(fault_server, "asked.test")


@pytest.mark.parametrize("tcp", [False, True])
def test_garbage(fault_server, tcp):
    fault_server.mode = "garbage"
    query = make_query(qid=0xBEEF)
    reply = exchange_raw(fault_server, query.to_wire(), tcp=tcp)
    assert reply[:2] == b"\xbe\xef" and reply[2] & 0x80
    assert len(reply) >= 14


@pytest.mark.parametrize("tcp", [False, True])
def test_short_header(fault_server, tcp):
    fault_server.mode = "short_header"
    query = make_query(qid=0x0102)
    reply = exchange_raw(fault_server, query.to_wire(), tcp=tcp)
    assert reply[:2] == b"\x01\x02" and len(reply) < 12


# -- hostile replies: right id and question, malformed answers ------------------------

@pytest.mark.parametrize("mode", HOSTILE)
@pytest.mark.parametrize("tcp", [False, True])
def test_hostile_replies_match_but_do_not_parse(fault_server, mode, tcp):
    fault_server.mode = mode
    query = make_query("evil.test", qid=4242).to_wire()
    reply = exchange_raw(fault_server, query, tcp=tcp)
    assert reply[:2] == query[:2] and reply[2] & 0x80
    assert question_bytes(reply) == question_bytes(query)
    with pytest.raises(dns.exception.DNSException):
        dns.message.from_wire(reply)


def _first_answer_offset(reply):
    return 12 + len(question_bytes(reply))


def test_pointer_loop_points_to_itself(fault_server):
    fault_server.mode = "pointer_loop"
    reply = exchange_raw(fault_server, make_query().to_wire())
    at = _first_answer_offset(reply)
    assert struct.unpack_from("!H", reply, at)[0] == 0xC000 | at
    with pytest.raises(testing.DNSFormatError):
        testing.decode_name(reply, at)


def test_pointer_loop_mutual(fault_server):
    fault_server.mode = "pointer_loop_mutual"
    reply = exchange_raw(fault_server, make_query().to_wire())
    at = _first_answer_offset(reply)
    target = struct.unpack_from("!H", reply, at)[0] & 0x3FFF
    assert struct.unpack_from("!H", reply, target)[0] == 0xC000 | at


def test_pointer_past_end(fault_server):
    fault_server.mode = "pointer_past_end"
    reply = exchange_raw(fault_server, make_query().to_wire())
    at = _first_answer_offset(reply)
    assert struct.unpack_from("!H", reply, at)[0] & 0x3FFF >= len(reply)


def test_count_overflow(fault_server):
    fault_server.mode = "count_overflow"
    reply = exchange_raw(fault_server, make_query().to_wire())
    assert struct.unpack_from("!H", reply, 6)[0] == 5
    assert len(reply) == _first_answer_offset(reply) + 2 + 10 + 4  # one record only


def test_rdlength_overrun(fault_server):
    fault_server.mode = "rdlength_overrun"
    reply = exchange_raw(fault_server, make_query().to_wire())
    at = _first_answer_offset(reply) + 2
    rdlength = struct.unpack_from("!HHIH", reply, at)[3]
    assert at + 10 + rdlength > len(reply)


def test_long_name(fault_server):
    fault_server.mode = "long_name"
    reply = exchange_raw(fault_server, make_query().to_wire())
    at = _first_answer_offset(reply) + 2 + 10
    target, after = testing.decode_name(reply, at)  # first CNAME: exactly 255 octets
    assert len(testing.encode_name(target)) == 255
    _, second_rdata = testing.decode_name(reply, after)
    with pytest.raises(testing.DNSFormatError, match="255"):
        testing.decode_name(reply, second_rdata + 10)
    with pytest.raises(dns.name.NameTooLong):
        dns.message.from_wire(reply)


def test_bad_label(fault_server):
    fault_server.mode = "bad_label"
    reply = exchange_raw(fault_server, make_query().to_wire())
    assert 0x40 <= reply[_first_answer_offset(reply)] <= 0xBF


@pytest.mark.parametrize("rdtype,size", [("A", 3), ("AAAA", 15)])
def test_bad_rdata(fault_server, rdtype, size):
    fault_server.mode = "bad_rdata"
    reply = exchange_raw(fault_server, make_query(rdtype=rdtype).to_wire())
    fields = struct.unpack_from("!HHIH", reply, _first_answer_offset(reply) + 2)
    assert fields[0] == dns.rdatatype.from_text(rdtype) and fields[3] == size


def test_ttl_high_bit(fault_server):
    fault_server.mode = "ttl_high_bit"
    reply = exchange_raw(fault_server, make_query().to_wire())
    ttl = struct.unpack_from("!HHIH", reply, _first_answer_offset(reply) + 2)[2]
    assert ttl == 0xFFFFFFFF


def test_every_mode_has_a_test():
    tested = {"answer", "nodata", "nxdomain", "servfail", "refused", "drop", "truncate",
              "wrong_id", "wrong_question", "garbage", "short_header", "ttl_high_bit", *HOSTILE}
    assert tested == set(FaultServer.MODES)


# -- rules, delay, query log ------------------------------------------------------------

def test_rules_override_mode(fault_server):
    fault_server.mode = "servfail"
    fault_server.rules["OK.test."] = "answer"
    fault_server.rules.update({"gone.test": "nxdomain"})
    assert fault_server.rules == {"ok.test": "answer", "gone.test": "nxdomain"}
    port = fault_server.port
    assert dnspython_query("127.0.0.1", port, "ok.test", "A").rcode() == dns.rcode.NOERROR
    assert dnspython_query("127.0.0.1", port, "Gone.Test", "A").rcode() == dns.rcode.NXDOMAIN
    assert dnspython_query("127.0.0.1", port, "other.test", "A").rcode() == dns.rcode.SERVFAIL
    fault_server.rules.clear()
    fault_server.mode = "answer"
    assert dnspython_query("127.0.0.1", port, "gone.test", "A").rcode() == dns.rcode.NOERROR


def test_delay_does_not_serialize_queries(fault_server):
    fault_server.delay = 0.4
    results = []

    def ask(i):
        started = time.monotonic()
        reply = dnspython_query("127.0.0.1", fault_server.port, f"q{i}.test", "A", timeout=3)
        results.append((reply.rcode(), time.monotonic() - started))

    started = time.monotonic()
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.monotonic() - started
    assert len(results) == 5
    assert all(elapsed >= 0.39 for _, elapsed in results)
    assert total < 1.5  # five 0.4 s delays overlapped, not 2 s in a row


def test_delay_applies_over_tcp(fault_server):
    fault_server.delay = 0.3
    started = time.monotonic()
    dnspython_query("127.0.0.1", fault_server.port, "x.test", "A", tcp=True)
    assert time.monotonic() - started >= 0.29


def test_queries_recorded(fault_server):
    query = make_query("Rec.Test", "AAAA", edns=True, qid=777)
    query.flags &= ~dns.flags.RD
    exchange_raw(fault_server, query.to_wire())
    dnspython_query("127.0.0.1", fault_server.port, "tcp.test", "MX", tcp=True)
    assert fault_server.wait_for_queries(2)
    first, second = fault_server.queries
    assert first == testing.ReceivedQuery("Rec.Test", 28, 1, False, True, "udp",
                                          first.client, 777)
    assert first.client[0] == "127.0.0.1"
    assert (second.qname, second.qtype, second.rd, second.edns, second.transport) == (
        "tcp.test", 15, True, False, "tcp")
    assert not fault_server.wait_for_queries(3, timeout=0.1)


def test_pipelined_tcp_queries(fault_server):
    queries = [make_query(f"p{i}.test", qid=100 + i).to_wire() for i in range(3)]
    with socket.create_connection(("127.0.0.1", fault_server.port), timeout=2) as sock:
        sock.sendall(b"".join(struct.pack("!H", len(q)) + q for q in queries))
        ids = []
        for _ in queries:
            (length,) = struct.unpack("!H", _recv_exact(sock, 2))
            ids.append(struct.unpack("!H", _recv_exact(sock, length)[:2])[0])
    assert sorted(ids) == [100, 101, 102]


def test_malformed_query_gets_formerr(fault_server):
    wire = make_query(qid=5).to_wire()
    reply = exchange_raw(fault_server, wire[:-3])  # question cut short
    assert reply[:2] == wire[:2] and reply[3] & 0x0F == dns.rcode.FORMERR and len(reply) == 12
    assert fault_server.queries == []
    assert exchange_raw(fault_server, b"\x00\x01", timeout=0.2) is None
    assert fault_server.errors == []


# -- wire helpers --------------------------------------------------------------------------

def test_name_helpers():
    wire = testing.encode_name("www.Example.test.")
    assert wire == b"\x03www\x07Example\x04test\x00"
    assert testing.decode_name(wire, 0) == ("www.Example.test", len(wire))
    assert testing.encode_name(".") == b"\x00"
    assert testing.decode_name(testing.encode_name(r"a\.b.c\032d"), 0)[0] == r"a\.b.c\032d"
    with pytest.raises(testing.DNSFormatError):
        testing.encode_name("x" * 64 + ".test")
    with pytest.raises(testing.DNSFormatError):
        testing.encode_name(".".join(["x" * 60] * 5))
    with pytest.raises(testing.DNSFormatError):
        testing.decode_name(b"\x03ab", 0)
    assert testing.txt_rdata("ab", b"\xff") == b"\x02ab\x01\xff"


def test_sync_waits_for_what_was_already_sent():
    """sync() returns once every UDP query sent before it is in .queries, even while the server
    thread is held up (here: by the GIL, taken by a busy thread of this process)."""
    with FaultServer(mode="drop") as server:
        stop = threading.Event()

        def busy() -> None:  # keeps the interpreter busy so the server thread runs late
            while not stop.is_set():
                sum(range(1000))

        hog = threading.Thread(target=busy)
        hog.start()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for i in range(50):
                    s.sendto(dns.message.make_query(f"n{i}.sync.test", "A").to_wire(), (server.host, server.port))
            assert server.sync()
            assert sorted(q.qname for q in server.queries) == sorted(f"n{i}.sync.test" for i in range(50))
        finally:
            stop.set()
            hog.join()
    assert server.sync()  # stopped: nothing to wait for
