"""Writes a seed corpus of well-formed DNS replies (every supported type) for the fuzzer.

dnspython builds the messages offline; nothing is sent anywhere.
"""
import pathlib
import sys

import dns.message
import dns.rrset

RECORDS = [
    ("A", "192.0.2.1"), ("AAAA", "2001:db8::1"), ("CNAME", "b.example.test."), ("NS", "ns1.example.test."),
    ("PTR", "www.example.test."), ("MX", "10 mx1.example.test."), ("TXT", '"hello" "world"'),
    ("SRV", "10 60 5060 sip1.example.test."), ("NAPTR", '100 10 "S" "SIP+D2U" "" _sip._udp.example.test.'),
    ("SOA", "ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 60"),
    ("CAA", '128 issue "ca.example.net"'), ("URI", '10 1 "https://www.example.test/"'),
    ("TLSA", "3 1 1 0ed406c80b06223f553591f39081f620ff53a46018f0034c25575d06bcddbc32"),
    ("SVCB", "1 svc.example.test. alpn=dot port=853"), ("HTTPS", "1 . alpn=h2,h3 ipv4hint=192.0.2.80"),
    ("DS", "12345 13 2 9a66231e9a66231e9a66231e9a66231e9a66231e9a66231e9a66231e7145da49"),
    ("DNSKEY", "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="),
    ("SSHFP", "1 1 0123456789abcdef0123456789abcdef01234567"), ("HINFO", '"cpu" "os"'),
]


def main(out_dir: str) -> None:
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for i, (rtype, rdata) in enumerate(RECORDS):
        query = dns.message.make_query("www.example.test.", rtype, use_edns=(i % 2 == 0))
        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text("www.example.test.", 300, "IN", rtype, rdata))
        reply.authority.append(dns.rrset.from_text("example.test.", 3600, "IN", "NS", "ns1.example.test."))
        reply.additional.append(dns.rrset.from_text("ns1.example.test.", 3600, "IN", "A", "192.0.2.53"))
        (out / f"seed-{rtype.lower()}").write_bytes(reply.to_wire())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz-corpus")
