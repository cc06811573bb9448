"""Run inside netns.command(): the socket module and pycares_ng's blocking helpers, side by side,
on the same DNS names (NSD on 127.0.0.1:53 of a private namespace) and the same hosts file.

Prints one JSON object: ``{"cases": N, "diffs": [...], "order_only": [...]}``. A diff is a case
whose outcomes (result, or exception type + args) differ; ``order_only`` lists getaddrinfo cases
whose lists hold the same entries in another order (address sorting is the C library's RFC 6724
implementation on one side and c-ares' on the other).
"""
from __future__ import annotations

import json
import shutil
import socket
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dnsdata  # noqa: E402
import netns  # noqa: E402

HOSTS = """\
127.0.0.1 localhost
192.0.2.101 canon1.hosts.test alias1.hosts.test short1
2001:db8::101 canon1.hosts.test alias1.hosts.test short1
192.0.2.102 v4only.hosts.test
2001:db8::103 v6only.hosts.test
"""

NAMES = [
    "www.example.test", "WWW.Example.Test", "www.example.test.", "dual.example.test",
    "ipv6only.example.test", "multi.example.test", "chain-a.example.test", "alias.example.test",
    "dangling.example.test", "nope.example.test", "x.wild.example.test", "other-ranges.example.test",
    "canon1.hosts.test", "alias1.hosts.test", "short1", "v4only.hosts.test", "v6only.hosts.test",
    "nothere.hosts.test", "a b.example.test", "-bad.example.test", "localhost",
]
ADDRESSES = ["192.0.2.10", "192.0.2.20", "2001:db8::20", "2001:db8::6", "192.0.2.11",
             "192.0.2.40", "127.0.0.1", "www.example.test", "2001:db8::99"]


def outcome(func, *args):
    """["ok", result] or ["err", exception kind, args] (a timeout subclass counts as its base)."""
    try:
        return ["ok", func(*args)]
    except socket.gaierror as exc:
        return ["err", "gaierror", list(exc.args)]
    except socket.herror as exc:
        return ["err", "herror", list(exc.args)]
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome
        return ["err", type(exc).__name__, list(exc.args)]


def jsonable(value):
    return json.loads(json.dumps(value, default=str))


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="pycares-ng-netns-"))
    netns.setup(work, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", HOSTS)
    nsd = dnsdata.start_nsd(work / "nsd", dnsdata.default_zones(bench=False), port=53)
    try:
        import pycares_ng
        from pycares_ng import blocking

        # The namespace's own files (bind-mounted above), never the machine's.
        blocking.configure(resolvconf_path=str(work / "resolv.conf"), timeout=1.0, tries=1)
        cases = diffs = 0
        found, order_only = [], []
        gai_variants = [
            (80, 0, socket.SOCK_STREAM, 0, 0), (80, 0, 0, 0, socket.AI_CANONNAME),
            ("http", socket.AF_INET, 0, 0, 0), (53, socket.AF_INET6, socket.SOCK_DGRAM, 0, 0),
            (None, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_V4MAPPED),
            (None, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_V4MAPPED | socket.AI_ALL),
            ("nosuchservice", 0, 0, 0, 0),
        ]
        for name in NAMES:
            for port, family, kind, proto, flags in gai_variants:
                cases += 1
                a = jsonable(outcome(socket.getaddrinfo, name, port, family, kind, proto, flags))
                b = jsonable(outcome(pycares_ng.getaddrinfo, name, port, family, kind, proto, flags))
                if a != b:
                    same_set = (a[0] == b[0] == "ok" and len(a[1]) == len(b[1])
                                and sorted(map(str, a[1])) == sorted(map(str, b[1])))
                    canon_moved = (a[0] == b[0] == "ok" and flags & socket.AI_CANONNAME
                                   and sorted(str(e[:3] + e[4:]) for e in a[1])
                                   == sorted(str(e[:3] + e[4:]) for e in b[1])
                                   and a[1][0][3] == b[1][0][3])
                    record = {"call": ["getaddrinfo", name, port, family, kind, proto, flags],
                              "socket": a, "pycares_ng": b}
                    (order_only if same_set or canon_moved else found).append(record)
            for func in ("gethostbyname", "gethostbyname_ex"):
                cases += 1
                a = jsonable(outcome(getattr(socket, func), name))
                b = jsonable(outcome(getattr(pycares_ng, func), name))
                if a != b:
                    found.append({"call": [func, name], "socket": a, "pycares_ng": b})
        for address in ADDRESSES:
            cases += 1
            a = jsonable(outcome(socket.gethostbyaddr, address))
            b = jsonable(outcome(pycares_ng.gethostbyaddr, address))
            if a != b:
                found.append({"call": ["gethostbyaddr", address], "socket": a, "pycares_ng": b})
            if ":" in address or address[0].isdigit():
                for flags in (0, socket.NI_NAMEREQD, socket.NI_NUMERICSERV | socket.NI_DGRAM):
                    cases += 1
                    sockaddr = (address, 53)
                    a = jsonable(outcome(socket.getnameinfo, sockaddr, flags))
                    b = jsonable(outcome(pycares_ng.getnameinfo, sockaddr, flags))
                    if a != b:
                        found.append({"call": ["getnameinfo", sockaddr, flags], "socket": a, "pycares_ng": b})
        diffs = len(found)
        print(json.dumps({"cases": cases, "diffs": found, "order_only": order_only, "ndiffs": diffs}))
    finally:
        nsd.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
