"""Main job: resolve names of several record types against a local NSD, with no network.

Starts NSD on 127.0.0.1 (a free port) with the test zone, drives a pycares_ng Channel with a
selectors loop, and prints dig-like answer lines with real TTLs. Exit status 0 when every
question got its expected kind of answer.
"""
import os
import selectors
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import dnsdata  # noqa: E402  (tests/dnsdata.py: zone data and the NSD launcher)

import pycares_ng  # noqa: E402

QUESTIONS = [
    ("www.example.test", "A"), ("dual.example.test", "AAAA"), ("example.test", "MX"),
    ("txt-multi.example.test", "TXT"), ("_sip._tcp.example.test", "SRV"), ("caa.example.test", "CAA"),
    ("example.test", "SOA"), ("web.example.test", "HTTPS"), ("naptr.example.test", "NAPTR"),
    ("chain-a.example.test", "A"), (pycares_ng.reverse_address("192.0.2.10"), "PTR"),
    ("nonexistent.example.test", "A"),
]


def show(name, qtype, result, errno):
    if errno is not None:
        print(f"{name:<32} {qtype:<6} error {pycares_ng.errno.errorcode[errno]}: {pycares_ng.errno.strerror(errno)}")
        return
    for rec in result if isinstance(result, list) else [result]:
        fields = ", ".join(f"{k}={v!r}" for k, v in rec._asdict().items() if k != "ttl")
        print(f"{name:<32} {rec.ttl:<6} IN {rec.type:<6} {fields}")


def main() -> int:
    workdir = tempfile.mkdtemp(prefix="pycares-ng-demo-")
    nsd = dnsdata.start_nsd(workdir, dnsdata.default_zones(bench=False))
    empty_conf = os.path.join(workdir, "empty-resolv.conf")
    open(empty_conf, "w").close()
    sel = selectors.DefaultSelector()

    def sock_state(fd, readable, writable):
        events = (selectors.EVENT_READ if readable else 0) | (selectors.EVENT_WRITE if writable else 0)
        if fd in sel.get_map():
            sel.unregister(fd)
        if events:
            sel.register(fd, events)

    answers = []
    try:
        with pycares_ng.Channel(servers=[nsd.address], resolvconf_path=empty_conf, sock_state_cb=sock_state,
                                timeout=2.0, tries=2) as channel:
            print(f"pycares_ng {pycares_ng.__version__} on c-ares {pycares_ng.ARES_VERSION}, NSD at {nsd.address}\n")
            for name, qtype in QUESTIONS:
                channel.query(name, getattr(pycares_ng, "QUERY_TYPE_" + qtype),
                              lambda r, e, name=name, qtype=qtype: answers.append((name, qtype, r, e)))
            while len(answers) < len(QUESTIONS):
                ready = sel.select(channel.timeout(1.0))
                for key, events in ready:
                    channel.process_fd(key.fd if events & selectors.EVENT_READ else pycares_ng.ARES_SOCKET_BAD,
                                       key.fd if events & selectors.EVENT_WRITE else pycares_ng.ARES_SOCKET_BAD)
                if not ready:
                    channel.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)
    finally:
        nsd.stop()
    order = {q: i for i, q in enumerate(QUESTIONS)}
    answers.sort(key=lambda a: order[(a[0], a[1])])
    for answer in answers:
        show(*answer)
    ok = all((e is None) == (name != "nonexistent.example.test") for name, _, _, e in answers)
    print(f"\n{len(answers)} questions, {'all answered as expected' if ok else 'UNEXPECTED RESULTS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
