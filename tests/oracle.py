"""dnspython as a reference client: what the server really sent, to compare with."""

from __future__ import annotations

import ipaddress

import dns.message
import dns.query
import dns.rdataclass
import dns.rdatatype


def dnspython_query(server_host: str, port: int, qname: str, rdtype, tcp: bool = False, *,
                    edns: bool = False, rdclass="IN", timeout: float = 2.0) -> dns.message.Message:
    """Ask *server_host*:*port* (loopback only) one question; return the reply.

    Over UDP a truncated reply is returned as is (check ``reply.flags & dns.flags.TC``).
    """
    if not ipaddress.ip_address(server_host).is_loopback:
        raise ValueError(f"tests only talk to loopback, not {server_host!r}")
    query = dns.message.make_query(qname, dns.rdatatype.RdataType.make(rdtype),
                                   dns.rdataclass.RdataClass.make(rdclass),
                                   use_edns=0 if edns else False)
    if tcp:
        return dns.query.tcp(query, server_host, port=port, timeout=timeout)
    return dns.query.udp(query, server_host, port=port, timeout=timeout)
