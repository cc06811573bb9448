"""Shared fixtures: a real authoritative DNS server (NSD) and the fault server.

Both listen on loopback only; no test depends on /etc/resolv.conf.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest

# Test modules import these helpers by name whatever pytest's import mode is.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dnsdata  # noqa: E402
from load_testing import testing  # noqa: E402


@dataclass(frozen=True)
class DnsServer:
    """The running NSD, as tests see it."""

    host: str  # "127.0.0.1"
    port: int
    address: str  # "127.0.0.1:PORT"
    address6: Optional[str]  # "[::1]:PORT", or None without IPv6 loopback
    origin: str  # "example.test."
    resolv_conf: str  # nameserver 127.0.0.1 + search example.test; set udp/tcp_port too
    bench_origin: str  # "bench.test." (n0 .. n24999, see dnsdata.BENCH_HOSTS)


@pytest.fixture(scope="session")
def dns_server(tmp_path_factory) -> Iterator[DnsServer]:
    """NSD serving tests/data (example.test, reverse zones) and bench.test."""
    workdir = tmp_path_factory.mktemp("nsd")
    try:
        nsd = dnsdata.start_nsd(workdir, dnsdata.default_zones())
    except dnsdata.NsdNotInstalled as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing:  # fail, not skip: these tests must run wherever the suite runs
        pytest.fail(missing, pytrace=False)
    resolv_conf = workdir / "resolv.conf"
    resolv_conf.write_text("nameserver 127.0.0.1\nsearch example.test\n")
    try:
        yield DnsServer(host=nsd.host, port=nsd.port, address=nsd.address,
                        address6=nsd.address6, origin=dnsdata.ORIGIN,
                        resolv_conf=str(resolv_conf), bench_origin=dnsdata.BENCH_ORIGIN)
    finally:
        nsd.stop()


@pytest.fixture
def fault_server() -> Iterator["testing.FaultServer"]:
    """A started pycares_ng.testing.FaultServer on 127.0.0.1 (mode "answer")."""
    with testing.FaultServer() as server:
        yield server
