"""Zone data and an NSD launcher shared by the test fixtures and the benchmarks.

``start_nsd(tmpdir, zones)`` runs NSD (Debian package ``nsd``) in the foreground on
loopback, with every file it writes inside *tmpdir*, and returns once it answers.
Nothing here talks to anything but 127.0.0.1 / ::1.

Why NSD (over Knot DNS or BIND 9): it is a small authoritative-only server that starts in about
0.1 s in the foreground with no daemon setup, takes a plain zone file with every record type the
tests need (SVCB/HTTPS, URI, TLSA, CAA, DS, DNSKEY, NAPTR), answers 100k+ queries a second on one
core (so the benchmarks measure the client, not the server), and never recurses or caches, so
every answer comes straight from the zone under test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Mapping, Optional, Union

DATA_DIR = Path(__file__).resolve().parent / "data"

ORIGIN = "example.test."
BENCH_ORIGIN = "bench.test."
REVERSE4_ORIGIN = "2.0.192.in-addr.arpa."
REVERSE6_ORIGIN = "8.b.d.0.1.0.0.2.ip6.arpa."

#: h0 .. h{N-1}.bench.example.test, one A record each (TTL 60).
EXAMPLE_BENCH_HOSTS = 2000
#: n0 .. n{N-1}.bench.test, one A record each (TTL 60).
BENCH_HOSTS = 25000


class NsdNotInstalled(RuntimeError):
    """The nsd binary is missing."""


def _loopback_address(index: int, second_octet: int) -> str:
    """A distinct 127.x.y.z address for *index* (data only, never contacted)."""
    return f"127.{second_octet}.{index // 256 % 256}.{index % 256}"


def example_bench_address(i: int) -> str:
    """The A record of h{i}.bench.example.test."""
    return _loopback_address(i, 100)


def bench_address(i: int) -> str:
    """The A record of n{i}.bench.test."""
    return _loopback_address(i, 1)


def example_zone_text(hosts: int = EXAMPLE_BENCH_HOSTS) -> str:
    """example.test.: the static file plus the generated h*.bench names."""
    text = (DATA_DIR / "example.test.zone").read_text()
    lines = [f"h{i}.bench 60 IN A {example_bench_address(i)}" for i in range(hosts)]
    return text + "\n; generated\n" + "\n".join(lines) + "\n"


def bench_zone_text(hosts: int = BENCH_HOSTS) -> str:
    """bench.test.: SOA, NS and n0 .. n{hosts-1} with one A record each."""
    head = [
        f"$ORIGIN {BENCH_ORIGIN}",
        "@ 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 60",
        "@ 3600 IN NS ns1.example.test.",
    ]
    body = (f"n{i} 60 IN A {bench_address(i)}" for i in range(hosts))
    return "\n".join([*head, *body]) + "\n"


def default_zones(bench: bool = True) -> Dict[str, str]:
    """origin -> zone text of every zone the tests use."""
    zones = {
        ORIGIN: example_zone_text(),
        REVERSE4_ORIGIN: (DATA_DIR / "2.0.192.in-addr.arpa.zone").read_text(),
        REVERSE6_ORIGIN: (DATA_DIR / "8.b.d.0.1.0.0.2.ip6.arpa.zone").read_text(),
    }
    if bench:
        zones[BENCH_ORIGIN] = bench_zone_text()
    return zones


def find_nsd() -> str:
    """Path of the nsd binary (it lives in /usr/sbin, often not on a user's PATH)."""
    path = shutil.which("nsd") or shutil.which("nsd", path="/usr/sbin:/usr/local/sbin")
    if not path:
        raise NsdNotInstalled(
            "NSD is needed for the DNS server fixture: run `apt-get install nsd` "
            "(Debian/Ubuntu package nsd)")
    return path


def ipv6_loopback_usable() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def _free_port(hosts) -> int:
    """A port free for UDP and TCP on every host (NSD cannot be told to pick one)."""
    for _ in range(100):
        held = []
        try:
            first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(first)
            first.bind((hosts[0], 0))
            port = first.getsockname()[1]
            for host in hosts:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    if host == hosts[0] and kind == socket.SOCK_DGRAM:
                        continue
                    s = socket.socket(family, kind)
                    held.append(s)
                    s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise OSError("no free port for NSD")


class NsdServer:
    """A running NSD: ``host``, ``port``, ``address`` ("127.0.0.1:PORT"),
    ``address6`` ("[::1]:PORT" or None), ``workdir``, ``zones``; ``stop()``."""

    def __init__(self, proc: subprocess.Popen, port: int, ipv6: bool, workdir: Path,
                 zones: Mapping[str, str]) -> None:
        self.proc = proc
        self.host = "127.0.0.1"
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.address6: Optional[str] = f"[::1]:{port}" if ipv6 else None
        self.workdir = workdir
        self.zones = list(zones)

    def log(self) -> str:
        try:
            return (self.workdir / "nsd.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            # NSD was started in its own session: its group is only NSD's processes.
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def __enter__(self) -> "NsdServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _config(workdir: Path, port: int, ipv6: bool, zones: Mapping[str, str],
            server_count: int) -> str:
    addresses = ["127.0.0.1"] + (["::1"] if ipv6 else [])
    lines = ["server:"]
    lines += [f"  ip-address: {a}@{port}" for a in addresses]
    buffer = 8 * 1024 * 1024  # benchmarks burst thousands of queries at once
    lines += [
        f"  port: {port}",
        f"  server-count: {server_count}",
        '  username: ""',  # stay root (or whoever we are): no privilege drop
        '  chroot: ""',
        f'  zonesdir: "{workdir}"',
        '  database: ""',
        f'  zonelistfile: "{workdir}/zone.list"',
        f'  xfrdfile: "{workdir}/xfrd.state"',
        f'  xfrdir: "{workdir}"',
        f'  pidfile: "{workdir}/nsd.pid"',
        f'  logfile: "{workdir}/nsd.log"',
        "  verbosity: 1",
        "  hide-version: yes",
        "  hide-identity: yes",
        "  rrl-ratelimit: 0",  # no response rate limiting: tests and benches flood it
        "  rrl-whitelist-ratelimit: 0",
        f"  receive-buffer-size: {buffer}",
        f"  send-buffer-size: {buffer}",
        "  tcp-count: 1000",
        "  zonefiles-write: 0",
        "remote-control:",
        "  control-enable: no",
    ]
    for origin in zones:
        lines += ["zone:", f"  name: {origin}", f'  zonefile: "{origin}zone"']
    return "\n".join(lines) + "\n"


def _answers(port: int, origins, host: str = "127.0.0.1") -> bool:
    """True once NSD answers the SOA of every zone authoritatively."""
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode

    for origin in origins:
        query = dns.message.make_query(origin, "SOA")
        try:
            reply = dns.query.udp(query, host, port=port, timeout=0.2)
        except (OSError, dns.exception.Timeout):
            return False
        if reply.rcode() != dns.rcode.NOERROR or not reply.flags & dns.flags.AA:
            return False
    return True


def start_nsd(tmpdir: Union[str, Path], zones: Mapping[str, Union[str, Path]], port: int = 0,
              *, ipv6: Optional[bool] = None, server_count: int = 1,
              timeout: float = 30.0) -> NsdServer:
    """Start NSD serving *zones* (origin -> zone text or path) on loopback.

    *port* 0 picks a free port. *ipv6* None means "on ::1 too if it works here".
    Returns once every zone answers its SOA (probed with dnspython); raises
    :class:`NsdNotInstalled` or RuntimeError (with NSD's log) otherwise.
    """
    import dns.exception  # noqa: F401  (used by _answers; fail early if missing)

    nsd = find_nsd()
    workdir = Path(tmpdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if ipv6 is None:
        ipv6 = ipv6_loopback_usable()
    texts = {}
    for origin, zone in zones.items():
        origin = origin if origin.endswith(".") else origin + "."
        texts[origin] = Path(zone).read_text() if isinstance(zone, Path) else zone
        (workdir / f"{origin}zone").write_text(texts[origin])

    for attempt in range(5):
        chosen = port or _free_port(["127.0.0.1"] + (["::1"] if ipv6 else []))
        conf = workdir / "nsd.conf"
        conf.write_text(_config(workdir, chosen, ipv6, texts, server_count))
        log = open(workdir / "nsd.stderr", "ab")
        try:
            proc = subprocess.Popen([nsd, "-d", "-c", str(conf)], stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        server = NsdServer(proc, chosen, ipv6, workdir, texts)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if _answers(chosen, texts):
                return server
            time.sleep(0.05)
        server.stop()
        output = server.log() + (workdir / "nsd.stderr").read_text(errors="replace")
        # Lost a race for the port: pick another one (unless the caller chose it).
        if port or "in use" not in output.lower():
            raise RuntimeError(f"NSD did not start on port {chosen}:\n{output}")
    raise RuntimeError("NSD did not start: no usable port")
