"""pycares 5's result classes, built in C by pycares_ng's core (no Python runs per field).

Each class here is declared as the dataclass pycares 5 has; at run time the name is bound to the C
class of the same shape, which takes the dataclass's metadata, so ``dataclasses.fields``,
``asdict``, ``replace`` and ``is_dataclass`` work on it as on pycares 5's results. Equal by value,
unhashable, mutable fields, a dataclass-style repr, picklable.
"""
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, List, Optional, Tuple, Union

from .. import _core

if TYPE_CHECKING:
    from dataclasses import dataclass as _record
else:
    def _record(shape: type) -> type:
        cls = _core._v5_types[shape.__name__]
        model = dataclass(shape)
        _core._v5_finish(cls, {
            "__dataclass_fields__": model.__dataclass_fields__,
            "__dataclass_params__": model.__dataclass_params__,
            "__annotations__": model.__annotations__,
            "__doc__": model.__doc__,
        })
        return cls


@_record
class ARecordData:
    """Data of an A record."""
    addr: str


@_record
class AAAARecordData:
    """Data of an AAAA record."""
    addr: str


@_record
class MXRecordData:
    """Data of an MX record."""
    priority: int
    exchange: str


@_record
class TXTRecordData:
    """Data of a TXT record: its character-strings joined."""
    data: bytes


@_record
class CAARecordData:
    """Data of a CAA record."""
    critical: int
    tag: str
    value: str


@_record
class CNAMERecordData:
    """Data of a CNAME record."""
    cname: str


@_record
class NAPTRRecordData:
    """Data of a NAPTR record."""
    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str


@_record
class NSRecordData:
    """Data of an NS record."""
    nsdname: str


@_record
class PTRRecordData:
    """Data of a PTR record."""
    dname: str


@_record
class SOARecordData:
    """Data of an SOA record."""
    mname: str
    rname: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int


@_record
class SRVRecordData:
    """Data of an SRV record."""
    priority: int
    weight: int
    port: int
    target: str


@_record
class TLSARecordData:
    """Data of a TLSA record (RFC 6698)."""
    cert_usage: int
    selector: int
    matching_type: int
    cert_association_data: bytes


@_record
class HTTPSRecordData:
    """Data of an HTTPS record (RFC 9460); params lists (key, value) pairs."""
    priority: int
    target: str
    params: List[Tuple[int, bytes]]


@_record
class URIRecordData:
    """Data of a URI record (RFC 7553)."""
    priority: int
    weight: int
    target: str


# Beyond pycares 5: record types pycares_ng parses that pycares 5 leaves out of its results.

@_record
class SVCBRecordData:
    """Data of an SVCB record (RFC 9460); params lists (key, value) pairs."""
    priority: int
    target: str
    params: List[Tuple[int, bytes]]


@_record
class DSRecordData:
    """Data of a DS record (RFC 4034)."""
    key_tag: int
    algorithm: int
    digest_type: int
    digest: bytes


@_record
class DNSKEYRecordData:
    """Data of a DNSKEY record (RFC 4034)."""
    flags: int
    protocol: int
    algorithm: int
    public_key: bytes


@_record
class SSHFPRecordData:
    """Data of an SSHFP record (RFC 4255)."""
    algorithm: int
    fp_type: int
    fingerprint: bytes


RecordData = Union[ARecordData, AAAARecordData, MXRecordData, TXTRecordData, CAARecordData, CNAMERecordData,
                   HTTPSRecordData, NAPTRRecordData, NSRecordData, PTRRecordData, SOARecordData, SRVRecordData,
                   TLSARecordData, URIRecordData, SVCBRecordData, DSRecordData, DNSKEYRecordData, SSHFPRecordData]


@_record
class DNSRecord:
    """One resource record: owner name, type and class numbers, TTL and typed data."""
    name: str
    type: int
    record_class: int
    ttl: int
    data: RecordData


@_record
class DNSResult:
    """A DNS reply: its answer, authority and additional sections."""
    answer: List[DNSRecord]
    authority: List[DNSRecord]
    additional: List[DNSRecord]


@_record
class HostResult:
    """Result of gethostbyaddr()."""
    name: str
    aliases: List[str]
    addresses: List[str]


@_record
class NameInfoResult:
    """Result of getnameinfo()."""
    node: str
    service: Optional[str]


@_record
class AddrInfoNode:
    """One address of a getaddrinfo() result; addr is (ip, port) or (ip, port, flowinfo, scope_id)."""
    ttl: int
    flags: int
    family: int
    socktype: int
    protocol: int
    addr: Tuple[Any, ...]


@_record
class AddrInfoCname:
    """One alias of a getaddrinfo() result."""
    ttl: int
    alias: str
    name: str


@_record
class AddrInfoResult:
    """Result of getaddrinfo()."""
    cnames: List[AddrInfoCname]
    nodes: List[AddrInfoNode]
