"""Result types per query type, for type checkers: what ``Resolver.query(name, "MX")`` resolves to.

A backend's futures are generic (``asyncio.Future[T]``, ``concurrent.futures.Future[T]`` …), but
a Resolver cannot be generic over the future *class* (Python typing has no higher-kinded types).
So :class:`pycares_ng.backends.base.Resolver` takes one type argument per kind of result — the
future type of that result — and :class:`QueryMethod` maps each query type name (or
``QUERY_TYPE_*`` constant) to its argument. A backend spells its futures once, in the order of
:data:`ORDER`, e.g. ``asyncio.Future[List[ares_query_mx_result]]`` for ``FMX``.
"""
from __future__ import annotations

from typing import List, Literal, Protocol, TypeVar, Union, overload

from .._core import (AresResult, ares_addrinfo_result, ares_dns_message_result, ares_host_result,
                     ares_nameinfo_result, ares_query_a_result, ares_query_aaaa_result, ares_query_caa_result,
                     ares_query_cname_result, ares_query_dnskey_result, ares_query_ds_result,
                     ares_query_https_result, ares_query_mx_result, ares_query_naptr_result, ares_query_ns_result,
                     ares_query_ptr_result, ares_query_soa_result, ares_query_srv_result, ares_query_sshfp_result,
                     ares_query_svcb_result, ares_query_tlsa_result, ares_query_txt_result, ares_query_uri_result)

__all__ = [
    "QueryMethod", "ORDER", "QueryResult", "Name", "QueryClass", "A", "AAAA", "CAA", "CNAME", "MX", "NAPTR",
    "NS", "PTR", "SOA", "SRV", "TXT", "URI", "TLSA", "HTTPS", "SVCB", "DS", "DNSKEY", "SSHFP", "ANY",
    "MESSAGE", "HOST", "ADDRINFO", "NAMEINFO",
]

Name = Union[str, bytes]
QueryClass = Union[int, str, None]

# What each query type resolves to (short names for a backend's type arguments), then the other
# requests' results.
A = List[ares_query_a_result]
AAAA = List[ares_query_aaaa_result]
CAA = List[ares_query_caa_result]
CNAME = ares_query_cname_result
MX = List[ares_query_mx_result]
NAPTR = List[ares_query_naptr_result]
NS = List[ares_query_ns_result]
PTR = ares_query_ptr_result
SOA = ares_query_soa_result
SRV = List[ares_query_srv_result]
TXT = List[ares_query_txt_result]
URI = List[ares_query_uri_result]
TLSA = List[ares_query_tlsa_result]
HTTPS = List[ares_query_https_result]
SVCB = List[ares_query_svcb_result]
DS = List[ares_query_ds_result]
DNSKEY = List[ares_query_dnskey_result]
SSHFP = List[ares_query_sshfp_result]
ANY = List[AresResult]
MESSAGE = ares_dns_message_result
HOST = ares_host_result
ADDRINFO = ares_addrinfo_result
NAMEINFO = ares_nameinfo_result

#: every result a query can give
QueryResult = Union[
    List[ares_query_a_result], List[ares_query_aaaa_result], List[ares_query_caa_result],
    ares_query_cname_result, List[ares_query_mx_result], List[ares_query_naptr_result],
    List[ares_query_ns_result], ares_query_ptr_result, ares_query_soa_result, List[ares_query_srv_result],
    List[ares_query_txt_result], List[ares_query_uri_result], List[ares_query_tlsa_result],
    List[ares_query_https_result], List[ares_query_svcb_result], List[ares_query_ds_result],
    List[ares_query_dnskey_result], List[ares_query_sshfp_result], List[AresResult],
]

#: the result kinds, in the order of Resolver's type arguments after the first
ORDER = (
    "A", "AAAA", "CAA", "CNAME", "MX", "NAPTR", "NS", "PTR", "SOA", "SRV", "TXT", "URI", "TLSA", "HTTPS",
    "SVCB", "DS", "DNSKEY", "SSHFP", "ANY", "MESSAGE", "HOST", "ADDRINFO", "NAMEINFO",
)

F = TypeVar("F", covariant=True)

FA = TypeVar("FA", covariant=True)
FAAAA = TypeVar("FAAAA", covariant=True)
FCAA = TypeVar("FCAA", covariant=True)
FCNAME = TypeVar("FCNAME", covariant=True)
FMX = TypeVar("FMX", covariant=True)
FNAPTR = TypeVar("FNAPTR", covariant=True)
FNS = TypeVar("FNS", covariant=True)
FPTR = TypeVar("FPTR", covariant=True)
FSOA = TypeVar("FSOA", covariant=True)
FSRV = TypeVar("FSRV", covariant=True)
FTXT = TypeVar("FTXT", covariant=True)
FURI = TypeVar("FURI", covariant=True)
FTLSA = TypeVar("FTLSA", covariant=True)
FHTTPS = TypeVar("FHTTPS", covariant=True)
FSVCB = TypeVar("FSVCB", covariant=True)
FDS = TypeVar("FDS", covariant=True)
FDNSKEY = TypeVar("FDNSKEY", covariant=True)
FSSHFP = TypeVar("FSSHFP", covariant=True)
FANY = TypeVar("FANY", covariant=True)


class QueryMethod(Protocol[
        F, FA, FAAAA, FCAA, FCNAME, FMX, FNAPTR, FNS, FPTR, FSOA, FSRV, FTXT, FURI, FTLSA, FHTTPS, FSVCB, FDS,
        FDNSKEY, FSSHFP, FANY,
]):
    """``query``/``search``: the future of the result of that query type (``F`` for a type
    given as a plain int or a str only known at run time)."""

    @overload
    def __call__(self, name: Name, qtype: Literal["A", "a", 1], qclass: QueryClass = None) -> FA: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["AAAA", "aaaa", 28], qclass: QueryClass = None) -> FAAAA: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["CAA", "caa", 257], qclass: QueryClass = None) -> FCAA: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["CNAME", "cname", 5], qclass: QueryClass = None) -> FCNAME: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["MX", "mx", 15], qclass: QueryClass = None) -> FMX: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["NAPTR", "naptr", 35], qclass: QueryClass = None) -> FNAPTR: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["NS", "ns", 2], qclass: QueryClass = None) -> FNS: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["PTR", "ptr", 12], qclass: QueryClass = None) -> FPTR: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["SOA", "soa", 6], qclass: QueryClass = None) -> FSOA: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["SRV", "srv", 33], qclass: QueryClass = None) -> FSRV: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["TXT", "txt", 16], qclass: QueryClass = None) -> FTXT: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["URI", "uri", 256], qclass: QueryClass = None) -> FURI: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["TLSA", "tlsa", 52], qclass: QueryClass = None) -> FTLSA: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["HTTPS", "https", 65], qclass: QueryClass = None) -> FHTTPS: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["SVCB", "svcb", 64], qclass: QueryClass = None) -> FSVCB: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["DS", "ds", 43], qclass: QueryClass = None) -> FDS: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["DNSKEY", "dnskey", 48], qclass: QueryClass = None) -> FDNSKEY: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["SSHFP", "sshfp", 44], qclass: QueryClass = None) -> FSSHFP: ...
    @overload
    def __call__(self, name: Name, qtype: Literal["ANY", "any", 255], qclass: QueryClass = None) -> FANY: ...
    @overload
    def __call__(self, name: Name, qtype: Union[int, str], qclass: QueryClass = None) -> F: ...
