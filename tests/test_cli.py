"""The command line: ``python -m pycares_ng`` and the ``pycares-ng`` console script, run as a user
runs them (a subprocess of this interpreter), against NSD and the fault server on loopback."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pycares_ng.backends
from pycares_ng import __main__ as cli
from pycares_ng.testing import FaultServer


def run(*args: str, cwd: Path, timeout: float = 30.0, command=None) -> subprocess.CompletedProcess:
    """The tool with ``args``; never from the source tree's directory (that would shadow the
    installed package) and never with the caller's backend choice."""
    env = {k: v for k, v in os.environ.items() if k != "PYCARES_NG_BACKEND"}
    argv = (command or [sys.executable, "-m", "pycares_ng"]) + list(args)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def tool(dns_server, tmp_path):
    """``tool(*args)``: the tool asked to use the NSD fixture."""
    return lambda *args, **kw: run("-s", dns_server.address, *args, cwd=tmp_path, **kw)


def lines(text: str):
    return [line.split("\t") for line in text.splitlines()]


def test_a_record(tool):
    proc = tool("www.example.test")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "www.example.test.\t300\tIN\tA\t192.0.2.10\n"
    assert proc.stderr == ""


def test_mx(tool):
    proc = tool("-t", "MX", "example.test")
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout) == [
        ["example.test.", "1800", "IN", "MX", "10 mx1.example.test."],
        ["example.test.", "1800", "IN", "MX", "20 mx2.example.test."],
        ["example.test.", "1800", "IN", "MX", "30 mx3.example.test."],
    ]


def test_txt(tool):
    proc = tool("--type", "txt", "txt.example.test", "txt-records.example.test", "txt-raw.example.test")
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout) == [
        ["txt.example.test.", "250", "IN", "TXT", '"hello world"'],
        ["txt-records.example.test.", "252", "IN", "TXT", '"one"'],
        ["txt-records.example.test.", "252", "IN", "TXT", '"two"'],
        ["txt-raw.example.test.", "254", "IN", "TXT", '"\\255\\254raw"'],
    ]


def test_soa(tool):
    proc = tool("-t", "SOA", "example.test")
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout) == [["example.test.", "3600", "IN", "SOA",
                                   "ns1.example.test. hostmaster.example.test. 2024060101 7200 900 1209600 60"]]


@pytest.mark.parametrize("qtype, name, data", [
    ("AAAA", "ipv6only.example.test", "2001:db8::6"),
    ("NS", "example.test", "ns1.example.test."),
    ("SRV", "_sip._tcp.example.test", "10 60 5060 sip1.example.test."),
    ("NAPTR", "naptr.example.test", '100 10 "S" "SIP+D2U" "" _sip._udp.example.test.'),
    ("CAA", "caa.example.test", '0 issue "ca.example.net"'),
    ("URI", "_http._tcp.example.test", '10 1 "https://www.example.test/"'),
    ("TLSA", "_443._tcp.www.example.test",
     "3 1 1 0ED406C80B06223F553591F39081F620FF53A46018F0034C25575D06BCDDBC32"),
    ("SVCB", "svc.example.test", "1 svc-target.example.test. alpn=dot port=853 ipv4hint=192.0.2.53"),
    ("HTTPS", "web.example.test",
     "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.80,192.0.2.81 ipv6hint=2001:db8::80"),
    ("DS", "sub.example.test", "12345 13 2 9A66231EE67AD86273EFA7E598D819212BDBE5DDCBDB4DC2B93ED58D7145DA49"),
    ("DNSKEY", "example.test", "257 3 13 9gJjYiP1hvv1B8WMcFrp2/7NyVd/SkCtzyEXB+afZaVEjWrfZzLSgd/t6cxVApF1vRLXU/KH1T9kNtXuHMoaSQ=="),
])
def test_other_types(tool, qtype, name, data):
    proc = tool("-t", qtype, name)
    assert proc.returncode == 0, proc.stderr
    first = lines(proc.stdout)[0]
    assert first[0] == name + "." and first[2:4] == ["IN", qtype]
    assert first[4] == data


def test_several_names_in_order_with_cnames(tool):
    proc = tool("multi.example.test", "alias.example.test", "www.example.test")
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout) == [
        ["multi.example.test.", "120", "IN", "A", "192.0.2.31"],
        ["multi.example.test.", "120", "IN", "A", "192.0.2.32"],
        ["multi.example.test.", "120", "IN", "A", "192.0.2.33"],
        ["alias.example.test.", "1500", "IN", "CNAME", "www.example.test."],
        ["www.example.test.", "300", "IN", "A", "192.0.2.10"],
        ["www.example.test.", "300", "IN", "A", "192.0.2.10"],
    ]


def test_reverse(tool):
    proc = tool("-x", "192.0.2.10", "2001:db8::20")
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout) == [
        ["10.2.0.192.in-addr.arpa.", "7010", "IN", "PTR", "www.example.test."],
        ["0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "8020", "IN", "PTR",
         "dual.example.test."],
    ]


def test_nxdomain_exit_1(tool):
    proc = tool("www.example.test", "nope.example.test")
    assert proc.returncode == 1
    assert proc.stdout == "www.example.test.\t300\tIN\tA\t192.0.2.10\n"  # the others still print
    assert "nope.example.test" in proc.stderr and "NXDOMAIN" in proc.stderr
    assert "ARES_ENOTFOUND" in proc.stderr


def test_nodata_is_an_answer(tool):
    proc = tool("-t", "MX", "www.example.test")
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert "www.example.test" in proc.stderr and "NODATA" in proc.stderr


def test_bad_name_fails_that_name_only(tool):
    proc = tool("a..b.example.test", "www.example.test")
    assert proc.returncode == 1
    assert proc.stdout == "www.example.test.\t300\tIN\tA\t192.0.2.10\n"
    assert "a..b.example.test" in proc.stderr


def test_timeout(tmp_path):
    with FaultServer(mode="drop") as server:
        start = time.monotonic()
        proc = run("-s", server.address, "--timeout", "0.5", "x.example.test", "y.example.test", cwd=tmp_path)
        elapsed = time.monotonic() - start
    assert proc.returncode == 1
    assert proc.stderr.count("timed out") == 2
    assert elapsed < 5.0


@pytest.mark.parametrize("args, message", [
    (["-t", "BOGUS", "x.test"], "unknown record type"),
    (["x.test", "--timeout", "-1"], "timeout"),
    ([], "NAME"),
    (["--backend", "no-such-backend", "x.test"], "no-such-backend"),
    (["-s", "not-an-address", "x.test"], "not-an-address"),
    (["-x", "not-an-ip"], "-x"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "usage:" in proc.stderr and message in proc.stderr


def test_help(tmp_path):
    proc = run("--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: pycares-ng")
    for option in ("-t", "-s", "--backend", "--timeout", "Exit status"):
        assert option in proc.stdout


ALL_BACKENDS = ["select", "threads", "asyncio", "gevent", "tornado", "trio", "anyio"]


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_timeout_fails_only_that_name(tmp_path, backend):
    """A name whose wait runs out of time fails alone: the names after it still get their
    answers (the backends' wait() gives up on that request only)."""
    with FaultServer(delay=0.3) as server:
        server.rules["silent.example.test"] = "drop"
        server.add_record("late.example.test", "A", "192.0.2.70", ttl=300)
        proc = run("--backend", backend, "-s", server.address, "--timeout", "0.5", "--tries", "1",
                   "silent.example.test", "late.example.test", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "silent.example.test" in proc.stderr and "timed out" in proc.stderr
    assert lines(proc.stdout) == [["late.example.test.", "300", "IN", "A", "192.0.2.70"]]


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_backends(tool, backend):
    info = pycares_ng.backends.available().get(backend)
    if info is None or not info.available:
        pytest.skip(f"backend {backend!r} is not available here: {info.reason if info else 'not registered'}")
    proc = tool("--backend", backend, "www.example.test", "-t", "A", "alias.example.test", "nope.example.test")
    assert proc.returncode == 1
    assert lines(proc.stdout) == [
        ["www.example.test.", "300", "IN", "A", "192.0.2.10"],
        ["alias.example.test.", "1500", "IN", "CNAME", "www.example.test."],
        ["www.example.test.", "300", "IN", "A", "192.0.2.10"],
    ]
    assert "nope.example.test" in proc.stderr and "NXDOMAIN" in proc.stderr


def test_main_in_process(dns_server, capsys):
    assert cli.main(["-s", dns_server.address, "-t", "SRV", "_sip._tcp.example.test"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "_sip._tcp.example.test.\t900\tIN\tSRV\t20 0 5061 sip3.example.test."
    with pytest.raises(SystemExit) as info:
        cli.main(["-t", "NOPE", "x"])
    assert info.value.code == 2


def test_format_record_unknown_type_is_rfc3597():
    assert cli.format_record("x.test", 5, 1, 99, b"\x01\x02") == "x.test.\t5\tIN\tTYPE99\t\\# 2 0102"
    assert cli.format_record("", 5, 3, 16, type("T", (), {"text": 'a"b'})()) == '.\t5\tCH\tTXT\t"a\\"b"'


def _console_script():
    beside = Path(sys.executable).parent / "pycares-ng"
    if beside.exists():
        return str(beside)
    return shutil.which("pycares-ng")


def test_console_script(dns_server, tmp_path):
    script = _console_script()
    if script is None:
        pytest.skip("the pycares-ng console script is not installed (pip install . puts it on PATH)")
    proc = run("-s", dns_server.address, "-t", "MX", "example.test", cwd=tmp_path, command=[script])
    assert proc.returncode == 0, proc.stderr
    assert lines(proc.stdout)[0] == ["example.test.", "1800", "IN", "MX", "10 mx1.example.test."]
    proc = run("--help", cwd=tmp_path, command=[script])
    assert proc.returncode == 0 and proc.stdout.startswith("usage: pycares-ng")
