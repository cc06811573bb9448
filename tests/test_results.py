"""The result classes as Python objects: fields, repr, equality, hashing, pickling, pattern
matching, construction rules and reference handling (they are hand-written C types, so every
one of these is code that can be wrong).
"""

from __future__ import annotations

import copy
import gc
import pickle
import sys
import textwrap
import tracemalloc
import weakref

import dns.message
import dns.rrset
import pytest

import pycares_ng
from pycares_ng import _core

# One sample argument tuple for every result class, in constructor (field) order.
SAMPLES = {
    "ares_query_a_result": ("192.0.2.1", 300),
    "ares_query_aaaa_result": ("2001:db8::1", 301),
    "ares_query_cname_result": ("alias.example.test", 60),
    "ares_query_mx_result": ("mx1.example.test", 10, 1800),
    "ares_query_ns_result": ("ns1.example.test", 86400),
    "ares_query_ptr_result": ("b.example.test", 7050, ["a.example.test", "b.example.test"]),
    "ares_query_soa_result": ("ns1.example.test", "hostmaster.example.test", 2024060101, 7200, 900, 1209600,
                              60, 3600),
    "ares_query_srv_result": ("sip1.example.test", 5060, 10, 60, 900),
    "ares_query_txt_result": ("hello world", 250),
    "ares_query_txt_result_chunk": (b"hello", 250),
    "ares_query_naptr_result": (100, 10, "S", "SIP+D2U", "", "_sip._udp.example.test", 1200),
    "ares_query_caa_result": (128, "issuewild", ";", 2400),
    "ares_query_uri_result": (10, 1, "https://www.example.test/", 3300),
    "ares_query_tlsa_result": (3, 1, 1, b"\x0e\xd4\x06", 1801),
    "ares_query_https_result": (1, ".", [(1, b"\x02h2"), (3, b"\x20\xfb")], 3700),
    "ares_query_svcb_result": (0, "svc.example.test", [], 3501),
    "ares_query_ds_result": (12345, 13, 2, b"\x9a\x66", 3460),
    "ares_query_dnskey_result": (257, 3, 13, b"\xf6\x02", 3450),
    "ares_query_sshfp_result": (1, 2, b"\xaa" * 32, 60),
    "ares_dns_record": ("www.example.test", 1, 1, 300, _core.ares_query_a_result("192.0.2.10", 300)),
    "ares_dns_message_result": ([_core.ares_dns_record("x.test", 16, 1, 5, b"\x01a")], [], [], 0, 0x8580),
    "ares_host_result": ("www.example.test", ["alias.example.test"], ["192.0.2.10"]),
    "ares_addrinfo_result": ([_core.ares_addrinfo_cname_result(60, "alias.example.test", "www.example.test")],
                             [_core.ares_addrinfo_node_result(300, 0, 2, 1, 6, ("192.0.2.10", 80))]),
    "ares_addrinfo_node_result": (300, 0, 2, 1, 6, ("192.0.2.10", 80)),
    "ares_addrinfo_cname_result": (60, "alias.example.test", "www.example.test"),
    "ares_nameinfo_result": ("www.example.test", "http"),
}

# The documented field names (API.md and pycares 4), in constructor order.
FIELDS = {
    "ares_query_a_result": ("host", "ttl"),
    "ares_query_aaaa_result": ("host", "ttl"),
    "ares_query_cname_result": ("cname", "ttl"),
    "ares_query_mx_result": ("host", "priority", "ttl"),
    "ares_query_ns_result": ("host", "ttl"),
    "ares_query_ptr_result": ("name", "ttl", "aliases"),
    "ares_query_soa_result": ("nsname", "hostmaster", "serial", "refresh", "retry", "expires", "minttl", "ttl"),
    "ares_query_srv_result": ("host", "port", "priority", "weight", "ttl"),
    "ares_query_txt_result": ("text", "ttl"),
    "ares_query_txt_result_chunk": ("text", "ttl"),
    "ares_query_naptr_result": ("order", "preference", "flags", "service", "regex", "replacement", "ttl"),
    "ares_query_caa_result": ("critical", "property", "value", "ttl"),
    "ares_query_uri_result": ("priority", "weight", "target", "ttl"),
    "ares_query_tlsa_result": ("usage", "selector", "matching_type", "data", "ttl"),
    "ares_query_https_result": ("priority", "target", "params", "ttl"),
    "ares_query_svcb_result": ("priority", "target", "params", "ttl"),
    "ares_query_ds_result": ("key_tag", "algorithm", "digest_type", "digest", "ttl"),
    "ares_query_dnskey_result": ("flags", "protocol", "algorithm", "public_key", "ttl"),
    "ares_query_sshfp_result": ("algorithm", "fp_type", "fingerprint", "ttl"),
    "ares_dns_record": ("name", "type", "record_class", "ttl", "data"),
    "ares_dns_message_result": ("answer", "authority", "additional", "rcode", "flags"),
    "ares_host_result": ("name", "aliases", "addresses"),
    "ares_addrinfo_result": ("cnames", "nodes"),
    "ares_addrinfo_node_result": ("ttl", "flags", "family", "socktype", "protocol", "addr"),
    "ares_addrinfo_cname_result": ("ttl", "alias", "name"),
    "ares_nameinfo_result": ("node", "service"),
}

# Class attribute `type` of the per-record query results.
TYPE_LABELS = {
    "ares_query_a_result": "A", "ares_query_aaaa_result": "AAAA", "ares_query_cname_result": "CNAME",
    "ares_query_mx_result": "MX", "ares_query_ns_result": "NS", "ares_query_ptr_result": "PTR",
    "ares_query_soa_result": "SOA", "ares_query_srv_result": "SRV", "ares_query_txt_result": "TXT",
    "ares_query_txt_result_chunk": "TXT",
    "ares_query_naptr_result": "NAPTR", "ares_query_caa_result": "CAA", "ares_query_uri_result": "URI",
    "ares_query_tlsa_result": "TLSA", "ares_query_https_result": "HTTPS", "ares_query_svcb_result": "SVCB",
    "ares_query_ds_result": "DS", "ares_query_dnskey_result": "DNSKEY", "ares_query_sshfp_result": "SSHFP",
}

NAMES = sorted(SAMPLES)


def cls_of(name):
    return getattr(_core, name)


def sample(name):
    return cls_of(name)(*SAMPLES[name])


def hashable(args) -> bool:
    try:
        hash(args)
        return True
    except TypeError:
        return False


def other_value(value):
    """A value of the same kind that is not equal to *value*."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, (str, bytes)):
        return value + value[:1] if value else value + type(value)(b"x" if isinstance(value, bytes) else "x")
    if isinstance(value, list):
        return value + [None]
    if isinstance(value, tuple):
        return value + (None,)
    return None


# ---------------------------------------------------------------------------------------------
# The set of classes, their fields and labels.
# ---------------------------------------------------------------------------------------------

def test_every_result_class_is_an_aresresult():
    """pycares 4 code checks isinstance(r, pycares.AresResult)."""
    for name in NAMES:
        assert issubclass(cls_of(name), pycares_ng.AresResult), name
        assert isinstance(cls_of(name)(*SAMPLES[name]), pycares_ng.AresResult)
    assert not issubclass(pycares_ng.Channel, pycares_ng.AresResult)


def test_every_result_class_is_covered():
    found = {n for n in dir(_core) if n.startswith("ares_") and isinstance(getattr(_core, n), type)}
    assert found == set(SAMPLES) == set(FIELDS)


@pytest.mark.parametrize("name", NAMES)
def test_exported_by_the_package(name):
    assert getattr(pycares_ng, name) is cls_of(name)
    assert cls_of(name).__name__ == name
    assert cls_of(name).__module__ == "pycares_ng._core"


@pytest.mark.parametrize("name", NAMES)
def test_fields_and_match_args(name):
    cls = cls_of(name)
    assert cls._fields == FIELDS[name]
    assert cls.__match_args__ == FIELDS[name]
    r = sample(name)
    assert tuple(getattr(r, f) for f in FIELDS[name]) == SAMPLES[name]
    assert r._fields == FIELDS[name]


@pytest.mark.parametrize("name", NAMES)
def test_type_label(name):
    cls, r = cls_of(name), sample(name)
    if name in TYPE_LABELS:
        assert cls.type == TYPE_LABELS[name] and r.type == TYPE_LABELS[name]
    elif name == "ares_dns_record":
        assert r.type == 1  # here `type` is the record's numeric type, a field
    else:
        assert not hasattr(r, "type")


@pytest.mark.parametrize("name", NAMES)
def test_asdict(name):
    d = sample(name)._asdict()
    assert type(d) is dict
    assert list(d) == list(FIELDS[name])
    assert tuple(d.values()) == SAMPLES[name]


# ---------------------------------------------------------------------------------------------
# repr, equality, hashing.
# ---------------------------------------------------------------------------------------------

def test_repr_literal():
    r = pycares_ng.ares_query_mx_result("mx1.example.test", 10, 1800)
    assert repr(r) == "ares_query_mx_result(host='mx1.example.test', priority=10, ttl=1800)"
    txt = pycares_ng.ares_query_txt_result(b"\xff", 5)
    assert repr(txt) == "ares_query_txt_result(text=b'\\xff', ttl=5)"


@pytest.mark.parametrize("name", NAMES)
def test_repr_round_trips(name):
    r = sample(name)
    text = repr(r)
    expected_inner = ", ".join(f"{f}={v!r}" for f, v in zip(FIELDS[name], SAMPLES[name]))
    assert text == f"{name}({expected_inner})"
    assert eval(text, vars(_core)) == r  # the repr is the constructor call


@pytest.mark.parametrize("name", NAMES)
def test_equality(name):
    args = SAMPLES[name]
    a, b = cls_of(name)(*args), cls_of(name)(*copy.deepcopy(args))
    assert a == b and not (a != b)
    assert a is not b
    for i in range(len(args)):  # a difference in any single field makes them unequal
        changed = list(args)
        changed[i] = other_value(args[i])
        c = cls_of(name)(*changed)
        assert a != c and not (a == c), FIELDS[name][i]
    assert a != args  # not a tuple
    assert a != None  # noqa: E711
    assert (a == object()) is False


def test_equal_fields_different_classes_are_unequal():
    assert pycares_ng.ares_query_a_result("x", 1) != pycares_ng.ares_query_aaaa_result("x", 1)
    assert pycares_ng.ares_query_ns_result("x", 1) != pycares_ng.ares_query_cname_result("x", 1)
    assert pycares_ng.ares_query_svcb_result(1, ".", [], 1) != pycares_ng.ares_query_https_result(1, ".", [], 1)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_no_ordering(op):
    a = pycares_ng.ares_query_mx_result("a", 1, 1)
    with pytest.raises(TypeError):
        eval(f"a {op} a", {"a": a})


@pytest.mark.parametrize("name", NAMES)
def test_hash(name):
    r = sample(name)
    if hashable(SAMPLES[name]):
        assert hash(r) == hash(cls_of(name)(*copy.deepcopy(SAMPLES[name])))
        assert len({r, sample(name)}) == 1
    else:  # a list field makes the result unhashable, like a namedtuple holding a list
        with pytest.raises(TypeError):
            hash(r)


def test_hash_distinguishes():
    values = {pycares_ng.ares_query_a_result(f"192.0.2.{i}", 60) for i in range(200)}
    assert len(values) == 200


# ---------------------------------------------------------------------------------------------
# Pickling and copying.
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("name", NAMES)
def test_pickle_round_trip(name, protocol):
    r = sample(name)
    back = pickle.loads(pickle.dumps(r, protocol))
    assert type(back) is type(r)
    assert back == r
    assert back._asdict() == r._asdict()


def test_pickle_parsed_message():
    """A whole parsed message (nested records and typed data) survives pickling."""
    reply = dns.message.make_response(dns.message.make_query("x.test", "MX"))
    reply.answer.append(dns.rrset.from_text("x.test.", 60, "IN", "MX", "10 mx.x.test.", "20 mx2.x.test."))
    msg = _core._parse_message(reply.to_wire())
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(msg, protocol)) == msg
    assert sorted(r.data.host for r in pickle.loads(pickle.dumps(msg)).answer) == ["mx.x.test", "mx2.x.test"]


@pytest.mark.parametrize("name", NAMES)
def test_copy_and_deepcopy(name):
    r = sample(name)
    assert copy.copy(r) == r
    deep = copy.deepcopy(r)
    assert deep == r and type(deep) is type(r)
    for f in FIELDS[name]:
        if isinstance(getattr(r, f), list):
            assert getattr(deep, f) is not getattr(r, f)  # deep copy, independent lists


# ---------------------------------------------------------------------------------------------
# Fields writable (as pycares 4's __slots__ attributes) but not deletable, no others;
# construction rules.
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fields", [tuple(f"f{i}" for i in range(200)), (), (1, 2), "host"], ids=repr)
def test_reassigned_class_fields_cannot_overflow(name, fields):
    """A result's field count comes from its type, not from the `_fields` class attribute: on
    Python >= 3.10 the classes are immutable; on 3.9 a reassigned `_fields` that does not match
    makes construction and repr raise TypeError (it once wrote past the object)."""
    cls = cls_of(name)
    original = cls._fields
    try:
        cls._fields = fields
    except TypeError:
        assert sys.version_info >= (3, 10)
        assert cls._fields == original
        return
    try:
        assert sys.version_info < (3, 10)
        with pytest.raises(TypeError, match="_fields"):
            cls(*range(200))
        with pytest.raises(TypeError, match="_fields"):
            repr(sample(name))
    finally:
        cls._fields = original
    assert cls(*SAMPLES[name]) == sample(name)


@pytest.mark.parametrize("name", NAMES)
def test_fields_writable_no_new_attributes(name):
    r = sample(name)
    for f in FIELDS[name]:
        setattr(r, f, "changed")
        assert getattr(r, f) == "changed"
        with pytest.raises(AttributeError):
            delattr(r, f)
        assert getattr(r, f) == "changed"
    assert repr(r) and r == copy.copy(r) and pickle.loads(pickle.dumps(r)) == r
    with pytest.raises(AttributeError):
        r.not_a_field = 1
    r = sample(name)
    assert tuple(getattr(r, f) for f in FIELDS[name]) == SAMPLES[name]


@pytest.mark.parametrize("name", NAMES)
def test_construct_by_keyword_and_mixed(name):
    cls, args, fields = cls_of(name), SAMPLES[name], FIELDS[name]
    by_kw = cls(**dict(zip(fields, args)))
    assert by_kw == cls(*args)
    mixed = cls(*args[:1], **dict(zip(fields[1:], args[1:])))
    assert mixed == by_kw
    reordered = cls(**dict(reversed(list(zip(fields, args)))))
    assert reordered == by_kw


@pytest.mark.parametrize("name", NAMES)
def test_construct_errors(name):
    cls, args, fields = cls_of(name), SAMPLES[name], FIELDS[name]
    with pytest.raises(TypeError):
        cls()
    with pytest.raises(TypeError):  # one missing
        cls(*args[:-1])
    with pytest.raises(TypeError):  # one missing, by keyword
        cls(**dict(zip(fields[:-1], args[:-1])))
    with pytest.raises(TypeError):  # one too many
        cls(*args, 0)
    with pytest.raises(TypeError):  # the first field twice
        cls(*args, **{fields[0]: args[0]})
    with pytest.raises(TypeError):  # an unknown keyword
        cls(*args, bogus=1)
    with pytest.raises(TypeError):  # an unknown keyword instead of a field
        cls(*args[:-1], bogus=1)


# ---------------------------------------------------------------------------------------------
# Pattern matching (PEP 634; needs Python 3.10 syntax, so compiled at run time).
# ---------------------------------------------------------------------------------------------

MATCH_SOURCE = textwrap.dedent("""
    def classify(r):
        match r:
            case ares_query_mx_result(host, priority, ttl=1800):
                return ("mx", host, priority)
            case ares_query_a_result(host=h) if h.startswith("192.0.2."):
                return ("a-doc", h)
            case ares_query_a_result(h, t):
                return ("a", h, t)
            case ares_query_ptr_result(name, _, [*aliases]):
                return ("ptr", name, aliases)
            case ares_dns_record(data=ares_query_txt_result(text=str() as text)):
                return ("txt-record", text)
            case _:
                return None
""")


def test_pattern_matching():
    assert pycares_ng.ares_query_mx_result.__match_args__ == ("host", "priority", "ttl")
    if sys.version_info < (3, 10):
        return  # the `match` statement does not exist; __match_args__ was checked above
    ns = dict(vars(_core))
    exec(compile(MATCH_SOURCE, "<match>", "exec"), ns)
    classify = ns["classify"]
    assert classify(pycares_ng.ares_query_mx_result("mx1.example.test", 10, 1800)) == \
        ("mx", "mx1.example.test", 10)
    assert classify(pycares_ng.ares_query_mx_result("mx1.example.test", 10, 1)) is None
    assert classify(pycares_ng.ares_query_a_result("192.0.2.1", 5)) == ("a-doc", "192.0.2.1")
    assert classify(pycares_ng.ares_query_a_result("10.0.0.1", 5)) == ("a", "10.0.0.1", 5)
    assert classify(pycares_ng.ares_query_ptr_result("b", 1, ["a", "b"])) == ("ptr", "b", ["a", "b"])
    rec = pycares_ng.ares_dns_record("t", 16, 1, 1, pycares_ng.ares_query_txt_result("hi", 1))
    assert classify(rec) == ("txt-record", "hi")
    assert classify(pycares_ng.ares_query_aaaa_result("::1", 5)) is None  # class decides


# ---------------------------------------------------------------------------------------------
# References: no leaks on any path, cycles collected, recursive repr safe.
# ---------------------------------------------------------------------------------------------

def _exercise(cls, args, fields):
    """Every operation on a result, including the failing ones."""
    r = cls(*args)
    repr(r)
    r._asdict()
    _ = r == cls(**dict(zip(fields, args)))
    pickle.loads(pickle.dumps(r, pickle.HIGHEST_PROTOCOL))
    copy.deepcopy(r)
    try:
        hash(r)
    except TypeError:
        pass
    for bad in (lambda: cls(*args[:-1]), lambda: cls(*args, 0), lambda: cls(*args, **{fields[0]: args[0]}),
                lambda: cls(*args, bogus=1)):
        try:
            bad()
        except TypeError:
            pass


@pytest.mark.parametrize("name", NAMES)
def test_no_reference_leak_on_fields(name):
    """A field value's refcount is back where it was after many results used and dropped it."""
    cls, fields = cls_of(name), FIELDS[name]
    marker = "".join(["leak-marker-", name])  # a fresh object only this test holds
    args = (marker,) * len(fields)
    _exercise(cls, args, fields)  # warm caches (interned names, pickle memo machinery)
    gc.collect()
    before = sys.getrefcount(marker)
    for _ in range(300):
        _exercise(cls, args, fields)
    gc.collect()
    assert sys.getrefcount(marker) == before


def test_no_memory_growth_parsing():
    """Parsing results (and failing to) many times does not grow the heap."""
    query = dns.message.make_query("x.test", "TXT")
    reply = dns.message.make_response(query)
    reply.answer.append(dns.rrset.from_text("x.test.", 60, "IN", "TXT", '"a" "b"', '"\\255x"'))
    good = reply.to_wire()
    bad = good[:-3]  # truncated rdata: EBADRESP

    def once():
        _core._parse_answer(good, 16)
        _core._parse_message(good)
        try:
            _core._parse_answer(bad, 16)
        except pycares_ng.AresError:
            pass
        pycares_ng.ares_query_ptr_result("n", 1, ["a"])

    for _ in range(2000):
        once()
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(20000):
            once()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, f"heap grew by {grown} bytes over 20000 rounds"


def test_cycle_through_list_field_is_collected():
    class Marker:
        pass

    gc.collect()
    marker = Marker()
    alive = weakref.ref(marker)
    r = pycares_ng.ares_query_ptr_result("n", 1, [])
    r.aliases.append(r)        # result -> list -> result
    r.aliases.append(marker)
    msg = pycares_ng.ares_dns_message_result([], [], [], 0, 0)
    msg.answer.append(msg)     # the same through another class
    msg.answer.append(r)
    del r, msg, marker
    assert alive() is not None  # only the cycle keeps it
    gc.collect()
    assert alive() is None


def test_results_are_tracked_by_gc():
    r = pycares_ng.ares_query_ptr_result("n", 1, [])
    assert gc.is_tracked(r)
    assert r.aliases in gc.get_referents(r)


def test_recursive_repr():
    r = pycares_ng.ares_query_ptr_result("n", 1, [])
    r.aliases.append(r)
    assert repr(r) == "ares_query_ptr_result(name='n', ttl=1, aliases=[ares_query_ptr_result(...)])"
    r.aliases.clear()  # break the cycle now


def test_many_results_created_and_dropped():
    before = len(gc.get_objects())
    for i in range(50000):
        pycares_ng.ares_query_mx_result("h", i, i)
    gc.collect()
    assert len(gc.get_objects()) - before < 100
