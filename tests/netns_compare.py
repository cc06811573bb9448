"""Run inside netns.command(): the socket module and pycares_ng's socket-shaped lookups, side by
side, on the same DNS names (NSD on 127.0.0.1:53 of a private namespace) and the same hosts file.

    netns_compare.py [--hosts test|debian] [--impl blocking|gevent]

``--hosts test`` (default): HOSTS below, names of the test's own. ``--hosts debian``: exactly
Debian's default /etc/hosts (DEBIAN_HOSTS, with the namespace's host name on the 127.0.1.1
line), and its names (DEBIAN_NAMES) as well. ``--impl``: pycares_ng's blocking helpers
(default) or ``pycares_ng.backends.gevent.GeventResolver``, which gevent's monkey-patched socket
module calls.

Prints one JSON object: ``{"cases": N, "diffs": [...], "order_only": [...]}``. A diff is a case
whose outcomes (result, or exception type + args) differ; ``order_only`` lists getaddrinfo cases
whose lists hold the same entries in another order (address sorting is the C library's RFC 6724
implementation on one side and c-ares' on the other). :func:`known_difference` says which diffs
are known differences of c-ares and glibc.
"""
from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dnsdata  # noqa: E402
import netns  # noqa: E402

#: Debian's default /etc/hosts (netcfg / debian-installer), "{hostname}" the machine's name.
DEBIAN_HOSTS = """\
127.0.0.1	localhost
127.0.1.1	{hostname}
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
"""
#: what the comparison asks about the names of DEBIAN_HOSTS ("{hostname}" as above)
DEBIAN_NAMES = ["localhost", "LocalHost", "ip6-localhost", "ip6-loopback", "{hostname}",
                "ip6-allnodes", "ip6-allrouters"]
DEBIAN_ADDRESSES = ["127.0.0.1", "::1", "127.0.1.1", "ff02::1", "ff02::2"]

#: names whose AF_INET6 lookup knowingly differs (see docs/blocking.rst): a CNAME to a name
#: without AAAA is NODATA for c-ares but "not found" for glibc.
CNAME_TO_NO_AAAA = ("chain-a.example.test", "alias.example.test")


def known_difference(call, hosts: str) -> bool:
    """Whether a diff of the report is a known difference: CNAME_TO_NO_AAAA for AF_INET6; and,
    with the test's hosts file, which lists "localhost" as 127.0.0.1 only, "localhost", which
    c-ares answers itself (RFC 6761: ::1 too, whatever the hosts file says; c-ares 1.34 even for
    AF_UNSPEC) where glibc goes by the hosts file, then DNS. Debian's file lists both addresses:
    there, "localhost" must agree."""
    if (call[0] == "getaddrinfo" and call[1] in CNAME_TO_NO_AAAA and call[3] == socket.AF_INET6
            and not call[6] & socket.AI_V4MAPPED):
        return True
    return hosts == "test" and call[1] == "localhost"


def run(hosts: str = "test", impl: str = "blocking", cwd=None) -> dict:
    """The outer half: this script in a new network + mount namespace (netns.command; see
    netns.unavailable_reason() first), and its report. CARES_HOSTS is not passed on: c-ares must
    read the file bind-mounted over /etc/hosts, as glibc does."""
    env = {k: v for k, v in netns.env().items() if k != "CARES_HOSTS"}
    proc = subprocess.run(netns.command(str(Path(__file__).resolve()), "--hosts", hosts, "--impl", impl), env=env,
                          capture_output=True, text=True, timeout=120, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f"netns_compare.py --hosts {hosts} --impl {impl} failed:\n{proc.stderr}")
    report = json.loads(proc.stdout)
    assert (report["hosts"], report["impl"]) == (hosts, impl)
    return report


def problems(report: dict) -> list:
    """The report's differences that are not known ones (known_difference), and, with Debian's
    hosts file, any difference at all for its names, address order included."""
    found = [d for d in report["diffs"] if not known_difference(d["call"], report["hosts"])]
    if report["hosts"] == "debian":
        ours = {n.lower() for n in report["debian_names"]}
        found += [d for d in report["diffs"] + report["order_only"]
                  if str(d["call"][1]).lower() in ours and d not in found]
    return found


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", choices=("test", "debian"), default="test")
    parser.add_argument("--impl", choices=("blocking", "gevent"), default="blocking")
    args = parser.parse_args(argv)
    names, addresses, hosts, debian_names = NAMES, ADDRESSES, HOSTS, []
    if args.hosts == "debian":  # DNS names (the test's hosts-file names are unknown there) + Debian's
        hostname = socket.gethostname()
        hosts = DEBIAN_HOSTS.format(hostname=hostname)
        debian_names = [n.format(hostname=hostname) for n in DEBIAN_NAMES]
        names = [n for n in NAMES if not n.endswith(("hosts.test", "short1"))] + debian_names
        addresses = ADDRESSES + DEBIAN_ADDRESSES
    work = Path(tempfile.mkdtemp(prefix="pycares-ng-netns-"))
    netns.setup(work, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", hosts)
    nsd = dnsdata.start_nsd(work / "nsd", dnsdata.default_zones(bench=False), port=53)
    try:
        import pycares_ng
        from pycares_ng import blocking

        if Path("/etc/hosts").read_text() != hosts:
            raise RuntimeError("the bind mount over /etc/hosts did not take effect")
        # The namespace's own files (bind-mounted above), never the machine's.
        options = dict(resolvconf_path=str(work / "resolv.conf"), timeout=1.0, tries=1)
        if args.impl == "gevent":
            from pycares_ng.backends.gevent import GeventResolver

            ours = GeventResolver(use_environ=False, **options)
        else:
            blocking.configure(**options)
            ours = pycares_ng
        cases = diffs = 0
        found, order_only = [], []
        gai_variants = [
            (80, 0, socket.SOCK_STREAM, 0, 0), (80, 0, 0, 0, socket.AI_CANONNAME),
            ("http", socket.AF_INET, 0, 0, 0), (53, socket.AF_INET6, socket.SOCK_DGRAM, 0, 0),
            (None, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_CANONNAME),
            (None, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_CANONNAME),
            (None, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_V4MAPPED),
            (None, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_V4MAPPED | socket.AI_ALL),
            ("nosuchservice", 0, 0, 0, 0),
        ]
        for name in names:
            for port, family, kind, proto, flags in gai_variants:
                cases += 1
                a = jsonable(outcome(socket.getaddrinfo, name, port, family, kind, proto, flags))
                b = jsonable(outcome(ours.getaddrinfo, name, port, family, kind, proto, flags))
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
                b = jsonable(outcome(getattr(ours, func), name))
                if a != b:
                    found.append({"call": [func, name], "socket": a, "pycares_ng": b})
        for address in addresses:
            cases += 1
            a = jsonable(outcome(socket.gethostbyaddr, address))
            b = jsonable(outcome(ours.gethostbyaddr, address))
            if a != b:
                found.append({"call": ["gethostbyaddr", address], "socket": a, "pycares_ng": b})
            if ":" in address or address[0].isdigit():
                for flags in (0, socket.NI_NAMEREQD, socket.NI_NUMERICSERV | socket.NI_DGRAM):
                    cases += 1
                    sockaddr = (address, 53)
                    a = jsonable(outcome(socket.getnameinfo, sockaddr, flags))
                    b = jsonable(outcome(ours.getnameinfo, sockaddr, flags))
                    if a != b:
                        found.append({"call": ["getnameinfo", sockaddr, flags], "socket": a, "pycares_ng": b})
        diffs = len(found)
        print(json.dumps({"cases": cases, "diffs": found, "order_only": order_only, "ndiffs": diffs,
                          "hosts": args.hosts, "impl": args.impl, "debian_names": debian_names,
                          "version": pycares_ng.ARES_VERSION}))
        if args.impl == "gevent":
            ours.close()
    finally:
        nsd.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
