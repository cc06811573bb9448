"""Run inside netns.command(): tornado's ``DefaultLoopResolver`` (``socket.getaddrinfo``, glibc,
in a thread) and pycares_ng's ``TornadoResolver`` side by side, on the same DNS names (NSD on
127.0.0.1:53 of a private namespace) and the same hosts file (bind-mounted over /etc/hosts).

    netns_tornado.py [--hosts test|debian]

``--hosts`` as in tests/netns_compare.py: the test's own hosts file, or exactly Debian's default
one (whose ``::1 localhost ip6-localhost ip6-loopback`` line glibc reads as 127.0.0.1 for an
IPv4 lookup). Besides those names: what the C library takes for an address (``127.1``,
``0x7f.1`` …) and names glibc refuses to send (``"bad name.test"``).

Prints one JSON object: ``{"cases": N, "diffs": [...], "order_only": [...], ...}``; a diff is a
``resolve(name, port, family)`` whose outcome (the list, or the exception type and args)
differs; ``order_only`` lists those with the same entries in another order (RFC 6724 sorting is
glibc's on one side, c-ares' on the other).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dnsdata  # noqa: E402
import netns  # noqa: E402
import netns_compare  # noqa: E402

#: what inet_aton takes (no lookup by either), and look-alikes that are names. (Not "1.2.3.4.5":
#: for AF_INET glibc fails a name of only digits and dots at once, EAI_NONAME, where c-ares asks
#: DNS; a difference of the shared blocking-helper shaping, not of this backend.)
NUMERIC = ["127.1", "0x7f.1", "0177.0.0.1", "127.0.0.1", "2130706433", "0x7f000001", "127.0.1",
           "::1", "::ffff:127.0.0.1", "127.0.0.1.", "0x7g.1"]
#: names glibc does not send to DNS (res_hnok), and names it does
BAD = ["bad name.test", "-bad.example.test", "bad!.example.test", "under_score.example.test"]
FAMILIES = [socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6]


async def outcome(resolve, *args):
    try:
        return ["ok", [[int(family), list(sockaddr)] for family, sockaddr in await resolve(*args)]]
    except socket.gaierror as exc:
        return ["err", "gaierror", list(exc.args)]
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome
        return ["err", type(exc).__name__, [str(a) for a in exc.args]]


async def compare(names, options):
    import tornado.netutil

    from pycares_ng.backends.tornado import TornadoResolver

    theirs = tornado.netutil.DefaultLoopResolver()
    ours = TornadoResolver(**options)
    cases = 0
    diffs, order_only = [], []
    try:
        for name in names:
            for family in FAMILIES:
                for port in (80, 0):
                    cases += 1
                    a = await outcome(theirs.resolve, name, port, family)
                    b = await outcome(ours.resolve, name, port, family)
                    if a != b:
                        record = {"call": ["getaddrinfo", name, port, int(family), int(socket.SOCK_STREAM), 0, 0],
                                  "socket": a, "pycares_ng": b}
                        same_set = a[0] == b[0] == "ok" and sorted(map(str, a[1])) == sorted(map(str, b[1]))
                        (order_only if same_set else diffs).append(record)
    finally:
        ours.close()
        theirs.close()
    return cases, diffs, order_only


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", choices=("test", "debian"), default="test")
    args = parser.parse_args(argv)
    names, hosts, debian_names = list(netns_compare.NAMES), netns_compare.HOSTS, []
    if args.hosts == "debian":
        hostname = socket.gethostname()
        hosts = netns_compare.DEBIAN_HOSTS.format(hostname=hostname)
        debian_names = [n.format(hostname=hostname) for n in netns_compare.DEBIAN_NAMES]
        names = [n for n in names if not n.endswith(("hosts.test", "short1"))] + debian_names
    names += NUMERIC + BAD
    work = Path(tempfile.mkdtemp(prefix="pycares-ng-netns-tornado-"))
    netns.setup(work, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", hosts)
    nsd = dnsdata.start_nsd(work / "nsd", dnsdata.default_zones(bench=False), port=53)
    try:
        import pycares_ng

        if Path("/etc/hosts").read_text() != hosts:
            raise RuntimeError("the bind mount over /etc/hosts did not take effect")
        options = dict(resolvconf_path=str(work / "resolv.conf"), timeout=1.0, tries=1)
        cases, diffs, order_only = asyncio.run(compare(names, options))
        print(json.dumps({"cases": cases, "diffs": diffs, "order_only": order_only, "hosts": args.hosts,
                          "impl": "tornado", "debian_names": debian_names, "version": pycares_ng.ARES_VERSION}))
    finally:
        nsd.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
