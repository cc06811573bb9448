"""What pycares_ng must return for a DNS reply, worked out from dnspython's parse of it.

dnspython is the oracle (tests/oracle.py asks the server; dnspython builds and parses
messages); this module writes its view of a reply in pycares_ng's own result classes, so a
test compares field by field: ``assert [r._asdict() for r in ours] == [...]``.

Rules mirrored from API.md / the C core (csrc/answer.c):
- names in presentation form without the final dot; the root is "" (SVCB/HTTPS target ".");
- TTL as on the wire, except that a TTL with the top bit set is 0 (RFC 2181 §8);
- TXT: one result per record, its character-strings joined; NAPTR flags/service/regex, CAA
  property/value, URI target: str when ASCII, else bytes;
- CNAME and SOA: the first matching record; PTR: one result, name = the last target,
  aliases = every target in order, ttl = the lowest;
- query_dns: every record of every section, data typed for known types, raw RDATA otherwise.
"""

from __future__ import annotations

from typing import Any, List, Optional

import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

import pycares_ng

ANY = 255
OPT = 41


def name_text(name: dns.name.Name) -> str:
    """pycares_ng's form of a name: no final dot, root as ""."""
    return "" if name == dns.name.root else name.to_text(omit_final_dot=True)


def maybe_str(data: bytes) -> Any:
    """str when every octet is ASCII, else the bytes (pycares' maybe_str)."""
    return data.decode("ascii") if all(b < 0x80 for b in data) else bytes(data)


def clamp_ttl(ttl: int) -> int:
    return 0 if ttl & 0x80000000 else ttl


def svcb_params(rd: dns.rdata.Rdata) -> list:
    """[(key, value bytes)] in wire order, read from dnspython's own wire form of the rdata."""
    wire = rd.to_wire()
    _, used = dns.name.from_wire(wire, 2)  # target name, uncompressed
    pos, params = 2 + used, []
    while pos < len(wire):
        key = int.from_bytes(wire[pos:pos + 2], "big")
        length = int.from_bytes(wire[pos + 2:pos + 4], "big")
        params.append((key, wire[pos + 4:pos + 4 + length]))
        pos += 4 + length
    return params


def typed(rd: dns.rdata.Rdata, ttl: int) -> Optional[Any]:
    """The pycares_ng result for one record, or None when pycares_ng has no class for its type."""
    t = dns.rdatatype.RdataType
    ttl = clamp_ttl(ttl)
    kind = rd.rdtype
    if kind == t.A:
        return pycares_ng.ares_query_a_result(rd.address, ttl)
    if kind == t.AAAA:
        return pycares_ng.ares_query_aaaa_result(rd.address, ttl)
    if kind == t.CNAME:
        return pycares_ng.ares_query_cname_result(name_text(rd.target), ttl)
    if kind == t.NS:
        return pycares_ng.ares_query_ns_result(name_text(rd.target), ttl)
    if kind == t.PTR:
        return pycares_ng.ares_query_ptr_result(name_text(rd.target), ttl, [name_text(rd.target)])
    if kind == t.MX:
        return pycares_ng.ares_query_mx_result(name_text(rd.exchange), rd.preference, ttl)
    if kind == t.SOA:
        return pycares_ng.ares_query_soa_result(name_text(rd.mname), name_text(rd.rname), rd.serial,
                                                rd.refresh, rd.retry, rd.expire, rd.minimum, ttl)
    if kind == t.SRV:
        return pycares_ng.ares_query_srv_result(name_text(rd.target), rd.port, rd.priority, rd.weight, ttl)
    if kind == t.TXT:
        return pycares_ng.ares_query_txt_result(maybe_str(b"".join(rd.strings)), ttl)
    if kind == t.NAPTR:
        return pycares_ng.ares_query_naptr_result(rd.order, rd.preference, maybe_str(rd.flags),
                                                  maybe_str(rd.service), maybe_str(rd.regexp),
                                                  name_text(rd.replacement), ttl)
    if kind == t.CAA:
        return pycares_ng.ares_query_caa_result(rd.flags, maybe_str(rd.tag), maybe_str(rd.value), ttl)
    if kind == t.URI:
        return pycares_ng.ares_query_uri_result(rd.priority, rd.weight, maybe_str(rd.target), ttl)
    if kind == t.TLSA:
        return pycares_ng.ares_query_tlsa_result(rd.usage, rd.selector, rd.mtype, bytes(rd.cert), ttl)
    if kind in (t.SVCB, t.HTTPS):
        cls = pycares_ng.ares_query_svcb_result if kind == t.SVCB else pycares_ng.ares_query_https_result
        target = "." if rd.target == dns.name.root else name_text(rd.target)
        return cls(rd.priority, target, svcb_params(rd), ttl)
    if kind == t.DS:
        return pycares_ng.ares_query_ds_result(rd.key_tag, rd.algorithm, rd.digest_type, bytes(rd.digest), ttl)
    if kind == t.DNSKEY:
        return pycares_ng.ares_query_dnskey_result(rd.flags, rd.protocol, rd.algorithm, bytes(rd.key), ttl)
    if kind == t.SSHFP:
        return pycares_ng.ares_query_sshfp_result(rd.algorithm, rd.fp_type, bytes(rd.fingerprint), ttl)
    return None


def records(section: List[dns.rrset.RRset]):
    """(rrset, rdata) for every record of a section, in order."""
    for rrset in section:
        for rd in rrset:
            yield rrset, rd


def expected_answer(message: dns.message.Message, qtype: int) -> Any:
    """What query(name, qtype) must give for this reply: the result(s), or None for ENODATA."""
    single = qtype in (dns.rdatatype.CNAME, dns.rdatatype.SOA, dns.rdatatype.PTR)
    found = []
    for rrset, rd in records(message.answer):
        if qtype != ANY and rrset.rdtype != qtype:
            continue
        item = typed(rd, rrset.ttl)
        if item is not None:
            found.append(item)
    if not found:
        return None
    if qtype == dns.rdatatype.PTR:
        names = [r.name for r in found]
        return pycares_ng.ares_query_ptr_result(names[-1], min(r.ttl for r in found), names)
    return found[0] if single else found


#: data placeholder in expected_record(): pycares_ng's data for this record is not predicted.
UNCHECKED = object()


def expected_record(rrset: dns.rrset.RRset, rd: dns.rdata.Rdata) -> Any:
    """One ares_dns_record of query_dns for this record.

    data is the typed result for the types pycares_ng knows, the raw RDATA for types neither
    knows (dnspython's GenericRdata), and UNCHECKED where the two legitimately disagree: a
    class other than IN (pycares_ng decodes by type alone; dnspython has e.g. CH-class A), or
    a type only dnspython decodes (its wire form may differ from the raw, compressed one).
    """
    data: Any = UNCHECKED
    if rrset.rdclass == dns.rdataclass.IN:
        data = typed(rd, rrset.ttl)
        if data is None:
            data = rd.data if isinstance(rd, dns.rdata.GenericRdata) else UNCHECKED
    return pycares_ng.ares_dns_record(name_text(rrset.name), int(rrset.rdtype), int(rrset.rdclass),
                                      clamp_ttl(rrset.ttl), data)


def record_matches(ours: Any, expected: Any) -> bool:
    """ares_dns_record equality, ignoring data when it is UNCHECKED."""
    if expected.data is UNCHECKED:
        return ours._asdict() | {"data": None} == expected._asdict() | {"data": None}
    return ours == expected


def expected_sections(message: dns.message.Message):
    """(answer, authority, additional) lists of ares_dns_record, OPT excluded (dnspython moves it)."""
    return tuple([expected_record(rrset, rd) for rrset, rd in records(section)]
                 for section in (message.answer, message.authority, message.additional))


def without_opt(records_: list) -> list:
    return [r for r in records_ if r.type != OPT]


def as_dicts(results: Any) -> Any:
    """Results as plain dicts (nested results too), for readable field-by-field diffs."""
    if isinstance(results, list):
        return [as_dicts(r) for r in results]
    if hasattr(results, "_asdict"):
        return {k: as_dicts(v) for k, v in results._asdict().items()} | {"<class>": type(results).__name__}
    return results


def assert_records_match(ours: list, expected: list) -> None:
    """ares_dns_record lists equal, record by record (UNCHECKED data skipped)."""
    assert len(ours) == len(expected), (as_dicts(ours), as_dicts(expected))
    for got, want in zip(ours, expected):
        assert record_matches(got, want), (as_dicts(got), as_dicts(want))
