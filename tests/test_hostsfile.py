"""pycares_ng's own hosts-file and address-sorting steps, compared with what libcares does itself.

On c-ares < 1.22 pycares_ng reads the hosts file itself (csrc/hostsfile.c: parsed once, read
again when stat() changes), runs its hosts-file step and libcares' DNS-only step in the order of
the channel's ``lookups`` (csrc/host.c) and sorts addresses by RFC 6724 itself
(csrc/addrsort.c), asking libcares with ARES_AI_NOSORT. The rules are meant to be c-ares 1.18's
own. ``PYCARES_NG_LIBCARES_ONLY=1`` (read when a channel is made) gives a channel on which
libcares does all of it, as plain c-ares would: the reference.

Differential tests
------------------
On c-ares < 1.22 they compare pycares_ng's hosts-file steps and its sort with libcares'. On
c-ares >= 1.22 libcares reads the file on both sides, so the forward comparisons check
pycares_ng's RFC 6724 sort against libcares' own (the reverse ones, with nothing to sort, are
skipped there).
Each side runs in a fresh child process (``WORKER`` below: a JSON job on stdin, JSON results on
stdout), once with PYCARES_NG_LIBCARES_ONLY=1 and once without; every lookup must give the same
result (cnames with their TTLs, nodes with family, socket type, protocol and address, in order;
or the same error) on both.

* Forward (getaddrinfo with/without ARES_AI_CANONNAME and ARES_AI_NOSORT, gethostbyname; every
  family; lookups "f", "fb", "bf", "b"): the hosts file is named by CARES_HOSTS (c-ares 1.18 reads
  it for getaddrinfo with ARES_AI_ENVHOSTS, which pycares_ng passes when CARES_HOSTS is set). DNS
  is NSD (the ``dns_server`` fixture: example.test, CNAME chains, NODATA, several addresses) for
  names under example.test and, for the others, a FaultServer the worker starts on 127.0.0.1
  (NXDOMAIN, except a few names answered, NODATA or SERVFAIL).
* Reverse (gethostbyaddr, getnameinfo with ARES_NI_* combinations; lookups as above): c-ares 1.18
  reads /etc/hosts (never CARES_HOSTS) for reverse lookups, pycares_ng's own step reads
  CARES_HOSTS. Both sides therefore run in private network + mount + UTS namespaces
  (tests/netns.py; root only) where the group's file is bind-mounted over /etc/hosts and named by
  CARES_HOSTS too, the host name is box.hosts.test (so ARES_NI_NOFQDN has a domain to cut), and
  DNS (PTR records) is a FaultServer on the namespace's own loopback.

Files: hand-picked groups (``FORWARD_HAND`` / ``REVERSE_HAND``) plus seeded random ones:
several lines per name (IPv4 and IPv6, duplicates), many aliases (> 40 on one line), case
differences, comments anywhere, tabs / \\r\\n / \\v / \\f, address-only lines, invalid
addresses, IPv4-mapped, link-local, loopback, ULA, 6to4, Teredo, site-local, private and public
addresses (for the sort), localhost present or absent, trailing dots, bytes >= 0x80, an empty
file, a missing file, a directory, a 70 000-character line, HOSTALIASES. Channels with the
``lookups`` option and without it (a resolv.conf "lookup" line, or the machine's defaults).
The TTLs of CNAME entries are compared on their own (test_forward_cname_ttls_same_as_libcares),
the rest of each result per group.

Known, accepted differences, left out on purpose (``excluded()``): NUL bytes in the file and a
file without read permission (not generated); lookups "bf" where DNS answers NODATA with a CNAME
(alias.example.test, chain-a/-b.example.test for AF_INET6) and the file then matches: c-ares
keeps the DNS CNAME entries in front of the file's.

Also NOT generated: address forms for which libcares 1.18's answer is undefined. Its hosts-file
parser (ares_inet_net_pton) accepts partial IPv4 ("127.1", "1", "0x0a") and IPv6 with a prefix
length below 128 ("2001:db8::1/64") and leaves the bytes it did not write uninitialised (stack
contents: "1" gave 1.126.0.0, 1.85.0.0, 1.0.0.0 from run to run). Their deterministic relatives
("192.0.2.77/24", "0192.0.2.78", "2001:db8::77/128") are in the "address-forms" groups.

Differences these tests found, since fixed in pycares_ng: CNAME entries from the file carry c-ares'
TTL 2147483647; addresses are read with c-ares' inet_net_pton rules ("192.0.2.77/24",
"0192.0.2.78", "2001:db8::77/128"); a missing file gives no localhost fallback while a directory
reads as empty; "no DNS in the lookups" (ECONNREFUSED → ENOTFOUND) follows the effective lookups,
also when they come from resolv.conf (both sides map it the same way now).

Every era
---------
``test_every_era_*`` assert concrete values in-process, whatever c-ares does the work: a changed
file (other size, same size with a new mtime, replaced by rename) is seen by the next lookup on
the same channel, a missing file is ARES_ENOTFOUND with lookups="f", aliases match whatever their
case. test_a_deleted_file_is_not_found_on_the_same_channel runs on c-ares < 1.22 only.
"""
from __future__ import annotations

import ipaddress
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import pycares_ng
from pycares_ng import errno as E

import netns
from helpers import Collector, make_channel, run_until

CARES = tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2])
OWN_STEPS = CARES < (1, 22)
TESTS_DIR = Path(__file__).resolve().parent

differential = pytest.mark.skipif(
    not OWN_STEPS, reason=f"c-ares {pycares_ng.ARES_VERSION} >= 1.22: libcares reads the hosts file itself "
    "with or without PYCARES_NG_LIBCARES_ONLY and reverse lookups sort nothing, so both sides run the same code")

AF_UNSPEC, AF_INET, AF_INET6 = socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6
STREAM = socket.SOCK_STREAM
FAMILIES = (AF_UNSPEC, AF_INET, AF_INET6)
FAMILY_NAMES = {AF_UNSPEC: "UNSPEC", AF_INET: "INET", AF_INET6: "INET6"}
AI_CANON, AI_NOSORT = pycares_ng.ARES_AI_CANONNAME, pycares_ng.ARES_AI_NOSORT
AI_FLAGS = (0, AI_CANON, AI_NOSORT, AI_CANON | AI_NOSORT)
NI = {name: getattr(pycares_ng, "ARES_NI_" + name) for name in (
    "LOOKUPHOST", "LOOKUPSERVICE", "NAMEREQD", "NOFQDN", "NUMERICSERV", "UDP")}
NI_FLAGS = [
    0,
    NI["LOOKUPHOST"],
    NI["LOOKUPHOST"] | NI["NAMEREQD"],
    NI["LOOKUPHOST"] | NI["LOOKUPSERVICE"],
    NI["LOOKUPHOST"] | NI["LOOKUPSERVICE"] | NI["NUMERICSERV"],
    NI["LOOKUPHOST"] | NI["LOOKUPSERVICE"] | NI["UDP"],
    NI["LOOKUPHOST"] | NI["NOFQDN"],
    NI["LOOKUPHOST"] | NI["NOFQDN"] | NI["NAMEREQD"] | NI["LOOKUPSERVICE"],
    NI["NAMEREQD"],
    NI["LOOKUPSERVICE"] | NI["NUMERICSERV"] | NI["UDP"],
]
LOOKUPS = ("f", "fb", "bf", "b")
#: Channels without the lookups option: what c-ares settles on (resolv.conf's "lookup" line, or
#: /etc/nsswitch.conf / /etc/host.conf for "default"), which pycares_ng must follow too.
CONFIGURED = ("rc:file bind", "rc:bind file", "default")  # "rc:file": see FORWARD_HAND["resolvconf-file"]
EFFECTIVE = {"rc:file bind": "fb", "rc:bind file": "bf", "rc:file": "f", "rc:bind": "b",
             "default": "bf"}  # default: whatever the machine says; "bf" to be on the safe side in excluded()

#: The host name inside the reverse namespaces: ARES_NI_NOFQDN cuts ".hosts.test".
NS_HOSTNAME = "box.hosts.test"

#: Names answered by DNS with NODATA plus a CNAME for AF_INET6 (NSD, tests/data/example.test.zone).
NODATA_CNAME6 = {"alias.example.test", "chain-a.example.test", "chain-b.example.test"}


# ---------------------------------------------------------------------------------------------
# The worker: one child process per side
# ---------------------------------------------------------------------------------------------

WORKER = r'''
import json, os, socket, subprocess, sys
from pathlib import Path

job = json.load(sys.stdin)
sys.path[:0] = job["sys_path"]
import pycares_ng
from pycares_ng import errno as E
from pycares_ng.testing import FaultServer
from helpers import Collector, run_until

workdir = Path(job["workdir"])
if job["netns"]:
    import netns
    netns.setup(workdir, "nameserver 127.0.0.1\n", "")
    socket.sethostname(job["hostname"])

servers = dict(job["servers"])
faults = []
for key, spec in job["fault_servers"].items():
    fs = FaultServer(mode=spec["mode"]).start()
    for name, mode in spec["rules"].items():
        fs.rules[name] = mode
    for name, rtype, rdata, ttl in spec["records"]:
        if rdata is None:
            fs.records[(name, rtype)] = []
        else:
            fs.add_record(name, rtype, rdata, ttl=ttl)
    servers[key] = fs.address
    faults.append(fs)

empty = workdir / "resolv.conf.empty"
empty.write_text("")
channels = {}


def channel(lookups, server):
    """lookups: the option; "rc:<words>" for none but a resolv.conf saying "lookup <words>";
    "default" for none at all (c-ares then reads /etc/nsswitch.conf and /etc/host.conf)."""
    key = (lookups, server)
    if key not in channels:
        # no case times out on purpose: a generous timeout keeps a loaded machine from making one
        opts = dict(servers=[servers[server]], resolvconf_path=str(empty), timeout=8.0, tries=1)
        if lookups.startswith("rc:"):
            conf = workdir / f"resolv.conf.{len(channels)}"
            conf.write_text(f"lookup {lookups[3:]}\n")
            opts["resolvconf_path"] = str(conf)
        elif lookups != "default":
            opts["lookups"] = lookups
        channels[key] = pycares_ng.Channel(**opts)
    return channels[key]


def errname(errno):
    return E.errorcode.get(errno, str(errno))


def text(value):
    """Names that are not UTF-8 come as bytes: their repr, to stay JSON."""
    return repr(value) if isinstance(value, bytes) else value


def shape(op, result):
    if op == "gai":
        return {"cnames": [[c.ttl, text(c.alias), text(c.name)] for c in result.cnames],
                "nodes": [[n.ttl, n.flags, n.family, n.socktype, n.protocol,
                           [n.addr[0].decode(), *n.addr[1:]]] for n in result.nodes]}
    if op in ("ghbn", "ghba"):
        return {"name": text(result.name), "aliases": [text(a) for a in result.aliases],
                "addresses": list(result.addresses)}
    return {"node": text(result.node), "service": text(result.service)}


def run(case):
    ch = channel(case["lookups"], case["server"])
    c = Collector()
    op = case["op"]
    try:
        if op == "gai":
            ch.getaddrinfo(case["name"], None, c.cb, family=case["family"], type=case["type"],
                           flags=case["flags"])
        elif op == "ghbn":
            ch.gethostbyname(case["name"], case["family"], c.cb)
        elif op == "ghba":
            ch.gethostbyaddr(case["addr"], c.cb)
        else:
            ch.getnameinfo(tuple(case["sockaddr"]), case["flags"], c.cb)
    except Exception as exc:
        return {"raised": f"{type(exc).__name__}: {exc}"}
    if not run_until(ch, lambda: len(c) >= 1, 30):
        return {"timeout": True}
    result, errno = c.one
    return {"error": errname(errno)} if errno is not None else shape(op, result)


results = []
for i, group in enumerate(job["groups"]):
    path = workdir / f"hosts-{i}"
    if group["kind"] == "dir":
        path.mkdir()
    elif group["kind"] == "file":
        path.write_bytes(group["hosts"].encode(group["encoding"]))
    if job["netns"]:
        subprocess.run(["mount", "--bind", str(path), "/etc/hosts"], check=True, capture_output=True)
    os.environ["CARES_HOSTS"] = str(path)
    if group["hostaliases"] is not None:
        aliases = workdir / f"hostaliases-{i}"
        aliases.write_text(group["hostaliases"])
        os.environ["HOSTALIASES"] = str(aliases)
    results.append([run(case) for case in group["cases"]])
    os.environ.pop("HOSTALIASES", None)
for ch in channels.values():
    ch.close()
for fs in faults:
    fs.stop()
print(json.dumps(results))
'''


def child_sys_path() -> List[str]:
    """The tests directory first, then where pycares_ng is imported from."""
    return [str(TESTS_DIR), str(Path(pycares_ng.__file__).resolve().parent.parent)]


#: Stand-ins for a group's hosts text: no file at all, or a directory where the file should be.
MISSING, DIRECTORY = None, "<directory>"


def hosts_kind(group: dict) -> str:
    return {MISSING: "missing", DIRECTORY: "dir"}.get(group["hosts"], "file")


def run_worker(workdir: Path, groups: List[dict], *, libcares_only: bool, in_netns: bool,
               servers: Dict[str, str], fault_servers: Dict[str, dict]) -> List[List[dict]]:
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "worker.py"
    script.write_text(WORKER)
    env = netns.env() if in_netns else dict(os.environ)
    for key in ("CARES_HOSTS", "HOSTALIASES", "PYCARES_NG_LIBCARES_ONLY", "LOCALDOMAIN", "RES_OPTIONS"):
        env.pop(key, None)
    if libcares_only:
        env["PYCARES_NG_LIBCARES_ONLY"] = "1"
    argv = [sys.executable, str(script)]
    if in_netns:
        argv = netns.command(str(script))
        argv.insert(1, "--uts")  # the host name is set in there too (NOFQDN)
    job = {"sys_path": child_sys_path(), "workdir": str(workdir), "netns": in_netns,
           "hostname": NS_HOSTNAME, "servers": servers, "fault_servers": fault_servers,
           "groups": [{"hosts": g["hosts"], "cases": g["cases"], "kind": hosts_kind(g),
                       "encoding": g.get("encoding", "utf-8"), "hostaliases": g.get("hostaliases")}
                      for g in groups]}
    proc = subprocess.run(argv, input=json.dumps(job), capture_output=True, text=True, env=env,
                          cwd=str(workdir), timeout=300)
    side = "libcares only" if libcares_only else "pycares_ng steps"
    assert proc.returncode == 0, f"worker ({side}) failed ({proc.returncode}):\n{proc.stderr[-5000:]}"
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == len(groups)
    return results


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

def flag_names(flags: int, table: Dict[str, int]) -> str:
    names = [name for name, bit in table.items() if flags & bit]
    return "|".join(names) or "0"


def describe(case: dict) -> str:
    op = case["op"]
    where = f"lookups={case['lookups']!r} server={case['server']}"
    if op == "gai":
        flags = flag_names(case["flags"], {"CANONNAME": AI_CANON, "NOSORT": AI_NOSORT})
        return (f"getaddrinfo({case['name']!r}, family={FAMILY_NAMES[case['family']]}, "
                f"type={case['type']}, flags={flags}) {where}")
    if op == "ghbn":
        return f"gethostbyname({case['name']!r}, {FAMILY_NAMES[case['family']]}) {where}"
    if op == "ghba":
        return f"gethostbyaddr({case['addr']!r}) {where}"
    return f"getnameinfo({tuple(case['sockaddr'])!r}, {flag_names(case['flags'], NI)}) {where}"


def forward_server(name: str) -> str:
    return "nsd" if name.lower().rstrip(".").endswith("example.test") else "fault"


def excluded(case: dict) -> Optional[str]:
    """Why a case is not compared (a known, accepted difference), or None."""
    lookups = EFFECTIVE.get(case["lookups"], case["lookups"])
    if case["op"] in ("gai", "ghbn") and "b" in lookups and "f" in lookups \
            and lookups.index("b") < lookups.index("f") and case["family"] == AF_INET6 \
            and case["name"].lower().rstrip(".") in NODATA_CNAME6:
        return "bf after NODATA with a CNAME: c-ares keeps the DNS CNAME entries"
    return None


def forward_cases(names: List[str], rng: Optional[random.Random], per_name: Optional[int] = None,
                  lookups=LOOKUPS) -> List[dict]:
    """getaddrinfo (every family x AI_FLAGS) and gethostbyname (every family) of each name, for
    each lookups; with rng, per_name of them chosen at random for each name and lookups."""
    cases = []
    for name in names:
        for lk in lookups:
            ops = [dict(op="gai", name=name, family=fam, type=STREAM, flags=flags)
                   for fam in FAMILIES for flags in AI_FLAGS]
            ops += [dict(op="ghbn", name=name, family=fam) for fam in FAMILIES]
            if rng is not None and per_name is not None:
                ops = rng.sample(ops, min(per_name, len(ops)))
            for op in ops:
                op.update(lookups=lk, server=forward_server(name))
                cases.append(op)
    return cases


def reverse_cases(addresses: List[Any], rng: Optional[random.Random], per_addr: Optional[int] = None,
                  lookups=LOOKUPS) -> List[dict]:
    """gethostbyaddr and getnameinfo (NI_FLAGS, a few ports) of each address, for each lookups.
    An address is a string, or a (ip, port, flowinfo, scope_id) list for getnameinfo only."""
    cases = []
    for addr in addresses:
        for lk in lookups:
            if isinstance(addr, str):
                ops = [dict(op="ghba", addr=addr)]
                ops += [dict(op="gni", sockaddr=[addr, port], flags=flags)
                        for flags in NI_FLAGS for port in (80, 53)]
                ops += [dict(op="gni", sockaddr=[addr, 0], flags=NI["LOOKUPHOST"] | NI["LOOKUPSERVICE"]),
                        dict(op="gni", sockaddr=[addr, 65000], flags=NI["LOOKUPHOST"] | NI["LOOKUPSERVICE"])]
            else:
                ops = [dict(op="gni", sockaddr=list(addr), flags=flags) for flags in NI_FLAGS]
            if rng is not None and per_addr is not None:
                ops = rng.sample(ops, min(per_addr, len(ops)))
            for op in ops:
                op.update(lookups=lk, server="fault")
                cases.append(op)
    return cases


def names_in(text: str) -> List[str]:
    """Host names and aliases of a hosts file, as c-ares splits it (first spelling of each)."""
    seen: Dict[str, str] = {}
    for line in text.split("\n"):
        tokens = line.split("#", 1)[0].split()
        for token in tokens[1:]:
            seen.setdefault(token.lower(), token)
    return list(seen.values())


def addresses_in(text: str) -> List[str]:
    """The valid addresses of a hosts file's lines, in their canonical form."""
    out: List[str] = []
    for line in text.split("\n"):
        tokens = line.split("#", 1)[0].split()
        if len(tokens) < 2:
            continue
        try:
            ip = str(ipaddress.ip_address(tokens[0]))
        except ValueError:
            continue
        if ip not in out:
            out.append(ip)
    return out


# -- forward: the files -------------------------------------------------------------------------

LONG_ALIASES = " ".join(f"al{i}.long.test" for i in range(60))
FORWARD_HAND = {
    "basic": (
        "# a comment line\n"
        "127.0.0.1 localhost\n"
        "::1 localhost ip6-localhost\n"
        "192.0.2.1 alpha.hosts.test alpha a1\n"
        "2001:db8::1 alpha.hosts.test\n"
        "192.0.2.2 beta.hosts.test ALPHA\n",
        ["alpha.hosts.test", "ALPHA.Hosts.TEST", "alpha", "a1", "A1", "beta.hosts.test", "localhost",
         "ip6-localhost", "alpha.hosts.test.", "nothere.hosts.test", "LocalHost"]),
    "duplicates": (
        "192.0.2.5 dup.hosts.test\n"
        "192.0.2.5 dup.hosts.test\n"
        "2001:db8::5 dup.hosts.test dupalias\n"
        "2001:db8::5 DUP.hosts.test\n"
        "192.0.2.6 dupalias dup.hosts.test\n",
        ["dup.hosts.test", "dupalias", "DUPALIAS"]),
    "family-order": (
        # a matching line without an address of the asked family before, between and after
        # lines that have one: which of them give CNAME entries
        "2001:db8::11 fam.hosts.test fam6a\n"
        "192.0.2.11 fam.hosts.test fam4a\n"
        "2001:db8::12 fam.hosts.test fam6b\n"
        "192.0.2.12 fam4b fam.hosts.test\n"
        "2001:db8::13 fam6c fam.hosts.test\n",
        ["fam.hosts.test", "fam6a", "fam4a", "fam6b", "fam4b", "fam6c"]),
    "only-other-family": (
        "2001:db8::21 six.hosts.test sixalias\n"
        "192.0.2.21 four.hosts.test fouralias\n",
        ["six.hosts.test", "sixalias", "four.hosts.test", "fouralias"]),
    "whitespace-comments": (
        "\t192.0.2.31\tws.hosts.test\tws1 # trailing comment\r\n"
        "192.0.2.32\v\fws.hosts.test \t ws2\r\n"
        "192.0.2.33#comment-right-after ws.hosts.test\n"
        "192.0.2.34 ws.hosts.test#glued ws3\n"
        "   # indented comment 192.0.2.35 ws.hosts.test\n"
        "192.0.2.36\n"
        "192.0.2.37   \n"
        "\n\n   \t \n"
        "192.0.2.38 ws.hosts.test ws4 \r\n"
        "192.0.2.39 \r ws.hosts.test\n"
        "2001:db8::31\tws.hosts.test",  # no newline at the end
        ["ws.hosts.test", "ws1", "ws2", "ws3", "ws4", "ws.hosts.test#glued", "192.0.2.36"]),
    "invalid-addresses": (
        "999.1.1.1 bad.hosts.test\n"
        "bogus bad.hosts.test\n"
        "1.2.3.4.5 bad.hosts.test\n"
        "::g bad.hosts.test\n"
        "12345::1 bad.hosts.test\n"
        "1.2.3.256 bad.hosts.test badalias\n"
        "192.0.2.41 bad.hosts.test\n"
        "fe80::1%lo bad.hosts.test\n"
        "::ffff:192.0.2.42 bad.hosts.test mapped.hosts.test\n"
        "999.1.1.1 allbad.hosts.test\n",
        ["bad.hosts.test", "badalias", "mapped.hosts.test", "allbad.hosts.test"]),
    "address-forms": (
        # forms libcares 1.18 reads deterministically although inet_pton would refuse them
        "192.0.2.77/24 cidr.hosts.test\n"
        "0192.0.2.78 octal.hosts.test\n"
        "2001:db8::77/128 cidr6.hosts.test\n"
        "255.255.255.255 bcast.hosts.test\n"
        "2001:DB8:0:0:0::78 upper6.hosts.test\n",
        ["cidr.hosts.test", "octal.hosts.test", "cidr6.hosts.test", "bcast.hosts.test", "upper6.hosts.test"]),
    "sort-mix": (
        "192.0.2.51 sort.hosts.test\n"
        "::ffff:192.0.2.52 sort.hosts.test\n"
        "fe80::51 sort.hosts.test\n"
        "127.0.0.51 sort.hosts.test\n"
        "2002:c000:233::1 sort.hosts.test\n"
        "169.254.5.1 sort.hosts.test\n"
        "fd00::51 sort.hosts.test\n"
        "::1 sort.hosts.test\n"
        "2001:db8::51 sort.hosts.test\n"
        "10.5.1.1 sort.hosts.test\n"
        "2001:0:5ef5:79fd::1 sort.hosts.test\n"
        "fec0::51 sort.hosts.test\n"
        "64:ff9b::c000:233 sort.hosts.test\n"
        "::192.0.2.53 sort.hosts.test\n"
        "fd00::2 sort.hosts.test\n"
        "ff02::1 sort.hosts.test\n"
        "198.51.100.51 sort.hosts.test\n"
        ":: sort.hosts.test\n"
        "0.0.0.0 sort.hosts.test\n",
        ["sort.hosts.test"]),
    "many-aliases": (
        f"192.0.2.61 long.hosts.test {LONG_ALIASES}\n"
        f"2001:db8::61 other.hosts.test {LONG_ALIASES}\n"
        f"192.0.2.62 {'x' * 300}.hosts.test {'y' * 1000} tail.hosts.test\n",
        ["long.hosts.test", "al0.long.test", "al39.long.test", "al40.long.test", "AL59.LONG.TEST",
         "other.hosts.test", f"{'x' * 300}.hosts.test", "y" * 1000, "tail.hosts.test"]),
    "localhost-absent": (
        "192.0.2.71 notlocal.hosts.test\n",
        ["localhost", "LOCALHOST", "localhost.", "foo.localhost", "notlocal.hosts.test"]),
    "localhost-v4-only": (
        "127.0.0.5 localhost\n"
        "192.0.2.72 foo.localhost\n",
        ["localhost", "foo.localhost", "bar.localhost"]),
    "localhost-v6-only": (
        "::1 localhost\n",
        ["localhost", "Localhost"]),
    "dns-names": (
        "192.0.2.81 www.example.test\n"
        "2001:db8::81 ipv6only.example.test\n"
        "192.0.2.82 alias.example.test chain-a.example.test\n"
        "2001:db8::82 chain-b.example.test cb\n"  # AF_INET, "fb": a file miss, then DNS CNAMEs
        "192.0.2.83 dangling.example.test\n"
        "192.0.2.84 nxd.example.test\n"
        "192.0.2.85 dnsnodata.hosts.test dnsboth.hosts.test\n"
        "2001:db8::85 dnsv4.hosts.test\n"
        "192.0.2.86 dnsfail.hosts.test\n",
        ["www.example.test", "WWW.example.test", "dual.example.test", "multi.example.test",
         "ipv6only.example.test", "alias.example.test", "chain-a.example.test", "chain-b.example.test",
         "dangling.example.test",
         "nxd.example.test", "other-ranges.example.test", "dnsnodata.hosts.test", "dnsboth.hosts.test",
         "dnsv4.hosts.test", "dnsfail.hosts.test", "dnsonly.hosts.test", "foo.localhost", "localhost"]),
    "onion": (
        "192.0.2.91 hidden.onion\n"
        "192.0.2.92 alias.onion.test svc.onion\n",
        ["hidden.onion", "svc.onion", "alias.onion.test"]),
    "huge-line": (
        f"192.0.2.95 huge.hosts.test {'z' * 70000} after.hosts.test\n"
        "192.0.2.96 next.hosts.test\n",
        ["huge.hosts.test", "after.hosts.test", "next.hosts.test"]),
    "high-bytes": (
        # written in Latin-1: 0xA0 (no-break space) and 0x85 (NEL) are not white space in the
        # C / UTF-8 locales Python runs in; names with bytes >= 0x80 match byte for byte
        "192.0.2.97 hb\xa0one.hosts.test hbtwo.hosts.test\n"
        "192.0.2.98 hb\x85three.hosts.test\n"
        "192.0.2.99 caf\xe9.hosts.test CAF\xc9.hosts.test\n",
        ["hbtwo.hosts.test", "hb\xa0one.hosts.test", "hb", "one.hosts.test", "three.hosts.test"],
        "latin-1"),
    "empty-file": ("", ["alpha.hosts.test", "localhost", "www.example.test"]),
    # lookups "f" from resolv.conf ("lookup file"), not from the option: the same file lookups
    # (see the group's cases in build_forward_groups), and what a miss says
    "resolvconf-file": (
        "192.0.2.111 rcfile.hosts.test rcalias\n2001:db8::111 rcfile6.hosts.test\n",
        ["rcfile.hosts.test", "rcalias", "rcfile6.hosts.test", "absent.hosts.test", "localhost"]),
    "missing-file": (MISSING, ["alpha.hosts.test", "localhost", "www.example.test", "dnsboth.hosts.test"]),
    "directory": (DIRECTORY, ["alpha.hosts.test", "localhost", "www.example.test", "dnsboth.hosts.test"]),
}

#: HOSTALIASES (c-ares: "alias name" lines; for names without a dot, before the file and DNS).
HOSTALIASES = "shorty alpha.hosts.test\nDNSALIAS dnsonly.hosts.test\nnowhere absent.hosts.test\n" \
    "dotted.alias alpha.hosts.test\nfilealias alias4.hosts.test\n"
HOSTALIASES_HOSTS = "192.0.2.101 alpha.hosts.test\n2001:db8::101 alias4.hosts.test shorty\n" \
    "192.0.2.102 filealias\n"
HOSTALIASES_NAMES = ["shorty", "SHORTY", "dnsalias", "nowhere", "dotted.alias", "filealias",
                     "alpha.hosts.test", "unknownshort"]

V4 = ["127.0.0.1", "127.0.1.1", "127.9.8.7", "169.254.7.7", "10.20.30.40", "172.16.1.2",
      "192.168.7.7", "192.0.2.1", "192.0.2.55", "198.51.100.23", "203.0.113.200", "100.64.1.1",
      "0.0.0.0", "255.255.255.255"]
V6 = ["::1", "fe80::1", "fe80::dead:beef", "2001:db8::1", "2001:db8:1::55", "fd12:3456::1",
      "fc00::7", "2002:c000:201::1", "::ffff:192.0.2.9", "::ffff:127.0.0.1", "2001:0:53aa:64c::1",
      "fec0::5", "64:ff9b::c000:221", "::", "::192.0.2.3", "ff02::1", "2001:DB8::ABCD",
      "2001:0db8:0000::0001", "fd00::2"]
BAD = ["999.1.1.1", "bogus", "1.2.3.4.5", "::g", "12345::1", "1.2.3.256", "1.2.3.4/33"]
HOSTNAMES = ["alpha.hosts.test", "beta.hosts.test", "gamma", "delta.hosts.test", "www.example.test",
             "dual.example.test", "ipv6only.example.test", "multi.example.test", "dnsboth.hosts.test",
             "dnsnodata.hosts.test", "dnsv4.hosts.test", "localhost", "ip6-localhost", "mixed.Hosts.TEST",
             "eps.hosts.test", "zeta"]
SPACES = [" ", " ", " ", "\t", "  ", "\t\t", " \t ", "\v", "\f", " \f\v "]


def recase(rng: random.Random, name: str) -> str:
    pick = rng.random()
    if pick < 0.7:
        return name
    if pick < 0.8:
        return name.upper()
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in name)


def random_hosts(rng: random.Random, nlines: int) -> str:
    lines = []
    for _ in range(nlines):
        kind = rng.random()
        sep = lambda: rng.choice(SPACES)  # noqa: E731
        if kind < 0.06:
            lines.append("# " + " ".join(rng.sample(HOSTNAMES, 2)))
            continue
        if kind < 0.09:
            lines.append(rng.choice([" ", "", "\t"]))
            continue
        addr = rng.choice(V4 + V6 + V4 + V6 + BAD)
        if kind < 0.12:
            lines.append(addr + rng.choice(["", " ", "\t# only an address"]))
            continue
        names = [recase(rng, n) for n in rng.sample(HOSTNAMES, rng.randint(1, 5))]
        if rng.random() < 0.05:
            names += [f"many{i}.hosts.test" for i in range(rng.randint(38, 45))]
        line = rng.choice(["", "", "", " ", "\t"]) + addr
        for i, n in enumerate(names):
            line += sep() + n
            if i and rng.random() < 0.03:
                line += "#cut " + rng.choice(HOSTNAMES)
        if rng.random() < 0.1:
            line += sep() + "# trailing " + rng.choice(HOSTNAMES)
        if rng.random() < 0.05:
            line += sep()
        lines.append(line)
    ending = rng.choice(["\n", "\n", "\r\n"])
    text = ending.join(lines)
    return text + (ending if rng.random() < 0.9 else "")


def build_forward_groups() -> List[dict]:
    groups = []
    for gid, (text, names, *encoding) in FORWARD_HAND.items():
        if gid == "resolvconf-file":
            groups.append(dict(id=f"hand-{gid}", hosts=text, cases=forward_cases(names, None, lookups=("rc:file",))))
            continue
        cases = forward_cases(names, None, lookups=("f",))
        cases += forward_cases(names, random.Random(gid), per_name=6, lookups=("fb", "bf", "b"))
        cases += forward_cases(names, random.Random(gid + "c"), per_name=2, lookups=CONFIGURED)
        groups.append(dict(id=f"hand-{gid}", hosts=text, cases=cases, encoding=(encoding or ["utf-8"])[0]))
    groups.append(dict(id="hand-hostaliases", hosts=HOSTALIASES_HOSTS, hostaliases=HOSTALIASES,
                       cases=forward_cases(HOSTALIASES_NAMES, random.Random("ha"), per_name=6,
                                           lookups=LOOKUPS + CONFIGURED)))
    for seed in range(40):
        rng = random.Random(1000 + seed)
        text = random_hosts(rng, rng.randint(3, 24))
        names = names_in(text)
        names = [recase(rng, n) for n in names]
        extra = ["absent.hosts.test", "localhost", rng.choice(HOSTNAMES).upper()]
        if names:
            extra.append(rng.choice(names) + ".")
        cases = forward_cases(names + extra, rng, per_name=5)
        cases += forward_cases(names + extra, rng, per_name=1, lookups=CONFIGURED)
        groups.append(dict(id=f"random-{seed}", hosts=text, cases=cases))
    return groups


FORWARD_GROUPS = build_forward_groups()

#: What the worker's FaultServer answers for the forward groups (names outside example.test).
FORWARD_FAULTS = {"fault": {
    "mode": "nxdomain",
    "rules": {"dnsboth.hosts.test": "answer", "dnsv4.hosts.test": "answer", "dnsonly.hosts.test": "answer",
              "dnsnodata.hosts.test": "nodata", "dnsfail.hosts.test": "servfail", "foo.localhost": "answer",
              "bar.localhost": "answer", "alpha.hosts.test": "answer", "hidden.onion": "answer"},
    "records": [["dnsboth.hosts.test", "A", "198.51.100.10", 60], ["dnsboth.hosts.test", "AAAA", "2001:db8:5::10", 60],
                ["dnsv4.hosts.test", "A", "198.51.100.11", 61], ["dnsonly.hosts.test", "A", "198.51.100.12", 62],
                ["dnsonly.hosts.test", "A", "10.9.9.9", 62], ["dnsonly.hosts.test", "AAAA", "fd00::12", 63],
                ["dnsonly.hosts.test", "AAAA", "2001:db8:5::12", 63],
                ["alpha.hosts.test", "A", "198.51.100.13", 64], ["alpha.hosts.test", "AAAA", "2001:db8:5::13", 64],
                ["dnsv4.hosts.test", "AAAA", None, 0]],  # None: no record of the type (NODATA)
}}


# -- reverse: the files -------------------------------------------------------------------------

REVERSE_HAND = {
    "first-line-wins": (
        "192.0.2.1 first.hosts.test f1 f2\n"
        "192.0.2.1 second.hosts.test s1\n"
        "2001:db8::1 six.hosts.test\n"
        "2001:db8:0::1 six-again.hosts.test\n"
        "::ffff:192.0.2.2 mapped.hosts.test\n"
        "192.0.2.2 plain.hosts.test\n"
        "fe80::1 linklocal.hosts.test\n"
        "127.0.0.1 localhost\n"
        "::1 localhost ip6-localhost\n",
        ["192.0.2.1", "2001:db8::1", "::ffff:192.0.2.2", "192.0.2.2", "::ffff:192.0.2.1", "fe80::1",
         "127.0.0.1", "::1", "192.0.2.200", "2001:db8::200", ["fe80::1", 80, 0, 1], ["fe80::2", 80, 0, 1]]),
    "comments-whitespace": (
        "# 192.0.2.11 commented.hosts.test\n"
        "192.0.2.11#glued name.hosts.test\n"
        "\t192.0.2.11\t\ttabbed.hosts.test\tt1\r\n"
        "192.0.2.12\v\fvf.hosts.test # comment\n"
        "192.0.2.13\n"
        "192.0.2.13 \n"
        "192.0.2.13 late.hosts.test\n",
        ["192.0.2.11", "192.0.2.12", "192.0.2.13"]),
    "invalid-then-valid": (
        "999.1.1.1 bad.hosts.test\n"
        "bogus bad.hosts.test\n"
        "192.0.2.21 good.hosts.test\n"
        "1.2.3.256 bad2.hosts.test\n",
        ["192.0.2.21", "1.2.3.0", "0.0.0.0"]),
    "address-forms": (
        "192.0.2.77/24 cidr.hosts.test\n"
        "0192.0.2.78 octal.hosts.test\n"
        "2001:db8::77/128 cidr6.hosts.test\n"
        "255.255.255.255 bcast.hosts.test\n",
        ["192.0.2.77", "192.0.2.78", "192.0.2.79", "2001:db8::77", "255.255.255.255"]),
    "dns-and-file": (
        "192.0.2.10 file-ten.hosts.test\n"
        "2001:db8::10 file-ten6.hosts.test\n"
        "192.0.2.66 file-fail.hosts.test\n",
        ["192.0.2.10", "2001:db8::10", "192.0.2.66", "192.0.2.67", "2001:db8::67"]),
    "many-aliases": (
        f"192.0.2.61 long.hosts.test {LONG_ALIASES}\n"
        f"2001:db8::61 {'x' * 300}.hosts.test {'y' * 1000}\n",
        ["192.0.2.61", "2001:db8::61"]),
    "empty-file": ("", ["192.0.2.10", "127.0.0.1", "::1"]),
}

#: The reverse workers' DNS: PTR records for some addresses, NXDOMAIN for the rest.
REVERSE_FAULTS = {"fault": {
    "mode": "nxdomain",
    "rules": {ipaddress.ip_address(a).reverse_pointer: "answer" for a in
              ("192.0.2.10", "2001:db8::10", "192.0.2.67", "2001:db8::67", "192.0.2.1")}
    | {ipaddress.ip_address("192.0.2.66").reverse_pointer: "servfail"},
    "records": [[ipaddress.ip_address(a).reverse_pointer, "PTR", name, 300] for a, name in (
        ("192.0.2.10", "ptr-ten.dns.test"), ("2001:db8::10", "ptr-ten6.hosts.test"),
        ("192.0.2.67", "ptr-67.hosts.test"), ("2001:db8::67", "ptr-67-6.dns.test"),
        ("192.0.2.1", "ptr-one.hosts.test"))],
}}


def build_reverse_groups() -> List[dict]:
    groups = []
    for gid, (text, addresses) in REVERSE_HAND.items():
        cases = reverse_cases(addresses, None, lookups=("f",))
        cases += reverse_cases(addresses, random.Random(gid), per_addr=6, lookups=("fb", "bf", "b"))
        cases += reverse_cases(addresses, random.Random(gid + "c"), per_addr=2, lookups=CONFIGURED)
        groups.append(dict(id=f"hand-{gid}", hosts=text, cases=cases))
    for seed in range(16):
        rng = random.Random(2000 + seed)
        text = random_hosts(rng, rng.randint(3, 20))
        addresses: List[Any] = addresses_in(text)
        addresses += ["192.0.2.10", "192.0.2.250", "2001:db8::250"]
        for ip in list(addresses):
            if ip.startswith("fe80:"):
                addresses.append([ip, 80, 0, 1])
            if "." in ip and ":" not in ip and rng.random() < 0.3:
                addresses.append("::ffff:" + ip)
        cases = reverse_cases(addresses, rng, per_addr=6)
        groups.append(dict(id=f"random-{seed}", hosts=text, cases=cases))
    return groups


REVERSE_GROUPS = build_reverse_groups()


# ---------------------------------------------------------------------------------------------
# Running both sides once per module, comparing per group
# ---------------------------------------------------------------------------------------------

def without_cname_ttls(result: dict) -> dict:
    """The result with the TTLs of its CNAME entries blanked (compared on their own, see
    test_forward_cname_ttls_same_as_libcares)."""
    if "cnames" not in result:
        return result
    return dict(result, cnames=[[None, *entry[1:]] for entry in result["cnames"]])


def compare(group: dict, ours: List[dict], ref: List[dict]) -> None:
    assert len(ours) == len(ref) == len(group["cases"])
    diffs, skipped = [], 0
    for case, a, b in zip(group["cases"], ours, ref):
        if excluded(case):
            skipped += 1
            continue
        if without_cname_ttls(a) != without_cname_ttls(b):
            diffs.append(f"  {describe(case)}\n      pycares_ng: {json.dumps(a)}\n      libcares:   {json.dumps(b)}")
    if diffs:
        hosts = "(missing file)" if group["hosts"] is None else group["hosts"]
        shown = "\n".join(diffs[:25])
        more = f"\n  ... and {len(diffs) - 25} more" if len(diffs) > 25 else ""
        pytest.fail(f"{group['id']}: {len(diffs)} of {len(group['cases']) - skipped} lookups differ "
                    f"from libcares' own\nhosts file:\n{hosts!r}\n{shown}{more}", pytrace=False)


@pytest.fixture(scope="module")
def forward_results(dns_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hostsfile-forward")
    runs = {}
    for side, only in (("ours", False), ("ref", True)):
        runs[side] = run_worker(workdir / side, FORWARD_GROUPS, libcares_only=only, in_netns=False,
                                servers={"nsd": dns_server.address}, fault_servers=FORWARD_FAULTS)
    return runs


@pytest.fixture(scope="module")
def reverse_results(tmp_path_factory):
    reason = netns.unavailable_reason()
    if reason:
        pytest.skip(f"reverse comparison needs a private mount namespace (c-ares 1.18 reads /etc/hosts "
                    f"for reverse lookups): {reason}")
    workdir = tmp_path_factory.mktemp("hostsfile-reverse")
    runs = {}
    for side, only in (("ours", False), ("ref", True)):
        runs[side] = run_worker(workdir / side, REVERSE_GROUPS, libcares_only=only, in_netns=True,
                                servers={}, fault_servers=REVERSE_FAULTS)
    return runs


@pytest.mark.parametrize("index", range(len(FORWARD_GROUPS)), ids=[g["id"] for g in FORWARD_GROUPS])
def test_forward_same_as_libcares(forward_results, index):
    group = FORWARD_GROUPS[index]
    compare(group, forward_results["ours"][index], forward_results["ref"][index])


@differential
@pytest.mark.parametrize("index", range(len(REVERSE_GROUPS)), ids=[g["id"] for g in REVERSE_GROUPS])
def test_reverse_same_as_libcares(reverse_results, index):
    group = REVERSE_GROUPS[index]
    compare(group, reverse_results["ours"][index], reverse_results["ref"][index])


def test_forward_cname_ttls_same_as_libcares(forward_results):
    """The TTLs of the CNAME entries (the rest of each result is compared per group above), over
    every forward lookup: for an entry made from a hosts-file line, libcares 1.18 says 2147483647
    (INT_MAX)."""
    diffs, total = [], 0
    for index, group in enumerate(FORWARD_GROUPS):
        for case, a, b in zip(group["cases"], forward_results["ours"][index], forward_results["ref"][index]):
            if excluded(case) or without_cname_ttls(a) != without_cname_ttls(b) or "cnames" not in a:
                continue
            total += 1
            ttl_a, ttl_b = [c[0] for c in a["cnames"]], [c[0] for c in b["cnames"]]
            if ttl_a != ttl_b:
                diffs.append(f"  [{group['id']}] {describe(case)}\n      pycares_ng: {json.dumps(a['cnames'])}"
                             f"\n      libcares:   {json.dumps(b['cnames'])}")
    if diffs:
        pytest.fail(f"{len(diffs)} of {total} getaddrinfo results (otherwise equal) have other CNAME TTLs "
                    f"than libcares' own; the first ones:\n" + "\n".join(diffs[:10]), pytrace=False)


def test_the_comparison_sees_the_file(forward_results):
    """Guard against a vacuous comparison: both sides really answered from the hosts file (a
    file-only address found with lookups="f") and from DNS (NSD's address with lookups="b")."""
    index = next(i for i, g in enumerate(FORWARD_GROUPS) if g["id"] == "hand-basic")
    for side in ("ours", "ref"):
        got = {(c["name"], c["family"], c["flags"]): r
               for c, r in zip(FORWARD_GROUPS[index]["cases"], forward_results[side][index])
               if c["op"] == "gai" and c["lookups"] == "f"}
        nodes = got[("alpha", AF_INET, AI_NOSORT)]["nodes"]  # by alias, on two lines
        assert [n[5][0] for n in nodes] == ["192.0.2.1", "192.0.2.2"], (side, got[("alpha", AF_INET, AI_NOSORT)])
    index = next(i for i, g in enumerate(FORWARD_GROUPS) if g["id"] == "hand-dns-names")
    for side in ("ours", "ref"):
        found = [r for c, r in zip(FORWARD_GROUPS[index]["cases"], forward_results[side][index])
                 if c["op"] == "gai" and c["lookups"] == "b" and c["name"] == "multi.example.test"
                 and "nodes" in r]
        assert found, side


def test_case_count():
    """A few hundred combinations at least (the brief of this file)."""
    assert sum(len(g["cases"]) for g in FORWARD_GROUPS) > 1000
    assert sum(len(g["cases"]) for g in REVERSE_GROUPS) > 300


# ---------------------------------------------------------------------------------------------
# Every era: concrete values, in-process
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def private_hosts(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "hosts"
    monkeypatch.setenv("CARES_HOSTS", str(path))
    monkeypatch.delenv("PYCARES_NG_LIBCARES_ONLY", raising=False)
    monkeypatch.delenv("HOSTALIASES", raising=False)
    return path


def lookup(channel: pycares_ng.Channel, method: str, *args: Any, **kwargs: Any):
    c = Collector()
    getattr(channel, method)(*args, c.cb, **kwargs)
    assert run_until(channel, lambda: len(c) >= 1, 10), f"no callback for {method}{args!r}"
    return c.one


def addresses(channel, name, family=AF_INET):
    result, errno = lookup(channel, "getaddrinfo", name, None, family=family, type=STREAM, flags=AI_NOSORT)
    if errno is not None:
        return E.errorcode.get(errno, errno)
    return [n.addr[0].decode() for n in result.nodes]


def rewrite(path: Path, text: str, *, bump: float) -> None:
    """Replace the file's text and move its mtime forward by *bump* seconds past the last one
    (and past now: c-ares >= 1.22 re-reads a file whose mtime is not older than its last read)."""
    before = path.stat().st_mtime if path.exists() else time.time()
    path.write_text(text)
    stamp = max(before, time.time()) + bump
    os.utime(path, (stamp, stamp))


def test_every_era_a_changed_file_is_seen_by_the_next_lookup(private_hosts, fault_server):
    private_hosts.write_text("192.0.2.1 changing.hosts.test\n")
    with make_channel(fault_server.address, lookups="f") as ch:
        assert addresses(ch, "changing.hosts.test") == ["192.0.2.1"]
        assert addresses(ch, "changing.hosts.test") == ["192.0.2.1"]  # cached: still right
        # another address, another size
        rewrite(private_hosts, "192.0.2.222 changing.hosts.test other\n", bump=2)
        assert addresses(ch, "changing.hosts.test") == ["192.0.2.222"]
        assert addresses(ch, "other") == ["192.0.2.222"]
        # the same size: only the mtime tells
        rewrite(private_hosts, "192.0.2.223 changing.hosts.test other\n", bump=4)
        assert addresses(ch, "changing.hosts.test") == ["192.0.2.223"]
        # replaced by rename (another inode), now IPv6 only
        fresh = private_hosts.with_name("hosts.new")
        fresh.write_text("2001:db8::7 changing.hosts.test\n")
        stamp = time.time() + 6
        os.utime(fresh, (stamp, stamp))
        os.replace(fresh, private_hosts)
        assert addresses(ch, "changing.hosts.test") == "ARES_ENOTFOUND"
        assert addresses(ch, "changing.hosts.test", AF_INET6) == ["2001:db8::7"]
        result, errno = lookup(ch, "gethostbyaddr", "2001:db8::7")
        assert errno is None and (result.name, result.addresses) == ("changing.hosts.test", ["2001:db8::7"])
        assert lookup(ch, "gethostbyaddr", "192.0.2.223")[1] == E.ARES_ENOTFOUND


def test_every_era_a_missing_file_is_not_found(private_hosts, fault_server):
    """No file: a name is ARES_ENOTFOUND with lookups="f", and nothing is asked of DNS. (What
    "localhost" gives then is left to the differential tests: libcares 1.18 says ARES_ENOTFOUND.)"""
    assert not private_hosts.exists()
    with make_channel(fault_server.address, lookups="f") as ch:
        assert addresses(ch, "alpha.hosts.test") == "ARES_ENOTFOUND"
        assert addresses(ch, "alpha.hosts.test", AF_UNSPEC) == "ARES_ENOTFOUND"
        assert lookup(ch, "gethostbyname", "alpha.hosts.test", AF_INET)[1] == E.ARES_ENOTFOUND
        assert lookup(ch, "gethostbyaddr", "192.0.2.1")[1] == E.ARES_ENOTFOUND
    assert fault_server.queries == []


@pytest.mark.skipif(not OWN_STEPS, reason="c-ares >= 1.22 keeps its own copy of a file that "
                    "disappeared until its 60 s expiry: only pycares_ng's own step (< 1.22) re-checks")
def test_a_deleted_file_is_not_found_on_the_same_channel(private_hosts, fault_server):
    private_hosts.write_text("192.0.2.1 gone.hosts.test\n")
    with make_channel(fault_server.address, lookups="f") as ch:
        assert addresses(ch, "gone.hosts.test") == ["192.0.2.1"]
        private_hosts.unlink()
        assert addresses(ch, "gone.hosts.test") == "ARES_ENOTFOUND"
        assert lookup(ch, "gethostbyaddr", "192.0.2.1")[1] == E.ARES_ENOTFOUND
        rewrite(private_hosts, "192.0.2.9 gone.hosts.test\n", bump=2)  # and back again
        assert addresses(ch, "gone.hosts.test") == ["192.0.2.9"]
    assert fault_server.queries == []


def test_every_era_aliases_and_case(private_hosts, fault_server):
    """A name matches as host name or alias, whatever its case; a comment is no name."""
    private_hosts.write_text(
        "# test\n"
        "192.0.2.31\tMulti.Hosts.Test  m1 # comment\n"
        "192.0.2.32 other.hosts.test\n")
    with make_channel(fault_server.address, lookups="f") as ch:
        assert addresses(ch, "MULTI.hosts.test") == ["192.0.2.31"]
        assert addresses(ch, "M1") == ["192.0.2.31"]
        assert addresses(ch, "comment") == "ARES_ENOTFOUND"
        result, errno = lookup(ch, "gethostbyaddr", "192.0.2.31")
        assert errno is None and (result.name, result.aliases) == ("Multi.Hosts.Test", ["m1"])
