"""pycares_ng.aiohttp.AsyncResolver: aiohttp's resolver interface, end to end (issue 12, item 4).

An aiohttp client fetches a local aiohttp server by names that only the test DNS server (a
FaultServer on 127.0.0.1) knows: IPv4 only, IPv6 only, both. Every other name is NXDOMAIN, so no
connection can go anywhere but loopback. ``resolve()`` is also compared, name by name and family by
family, with aiohttp's own AsyncResolver running on aiodns 4.0.4 and pycares 5.2.1 from PyPI (in a
child process: pycares 5 cannot share site-packages with the pycares 4.11 oracle).
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import aiohttp  # noqa: E402  (the test extra has it)
from aiohttp import web  # noqa: E402

import dnsdata  # noqa: E402
from load_testing import testing  # noqa: E402

from pycares_ng import AresError  # noqa: E402
from pycares_ng.aiohttp import AsyncResolver  # noqa: E402

IPV6 = dnsdata.ipv6_loopback_usable()
NAMES = {
    "v4.app.test": ["127.0.0.1"],
    "v6.app.test": ["::1"],
    "dual.app.test": ["127.0.0.1", "::1"],
    "two.app.test": ["127.0.0.2", "127.0.0.3"],
}


def oracle5_path() -> Path:
    """Where pycares 5.2.1 and aiodns 4.0.4 are installed beside the test venv (.ci/test.sh)."""
    return Path(os.environ.get("PYCARES_NG_ORACLE5", Path(sys.prefix) / "oracle-pycares5"))


@pytest.fixture
def dns() -> Iterator[testing.FaultServer]:
    with testing.FaultServer(mode="nxdomain") as server:
        for name, addresses in NAMES.items():
            server.rules[name] = "answer"
            server.records[(name, "A")] = []
            server.records[(name, "AAAA")] = []
            for a in addresses:
                server.add_record(name, "AAAA" if ":" in a else "A", a, ttl=60)
        yield server


@pytest.fixture
def resolv_conf(tmp_path: Path) -> str:
    path = tmp_path / "resolv.conf"
    path.write_text("")
    return str(path)


def options(dns: testing.FaultServer, resolv_conf: str) -> Dict[str, Any]:
    return {"nameservers": [dns.address], "resolvconf_path": resolv_conf, "lookups": "b", "timeout": 2.0,
            "tries": 2}


async def start_site(hosts: List[str]) -> Tuple[web.AppRunner, int]:
    """An aiohttp server answering with the family it was reached over, on one port of each host."""
    async def hello(request: web.Request) -> web.Response:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        return web.Response(text="v6" if sockname and ":" in sockname[0] else "v4")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    for _attempt in range(20):  # the port must be free on every host
        port = dnsdata._free_port(hosts)
        try:
            for host in hosts:
                await web.TCPSite(runner, host, port).start()
            return runner, port
        except OSError:
            await runner.cleanup()
            runner = web.AppRunner(app)
            await runner.setup()
    raise RuntimeError("no port free on " + ", ".join(hosts))


def run(coro: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return asyncio.run(coro)


@pytest.mark.parametrize("name,family,expect", [
    ("v4.app.test", socket.AF_INET, "v4"),
    ("v4.app.test", 0, "v4"),
    pytest.param("v6.app.test", socket.AF_INET6, "v6", marks=pytest.mark.skipif(not IPV6, reason="no ::1")),
    pytest.param("v6.app.test", 0, "v6", marks=pytest.mark.skipif(not IPV6, reason="no ::1")),
    pytest.param("dual.app.test", socket.AF_INET6, "v6", marks=pytest.mark.skipif(not IPV6, reason="no ::1")),
    pytest.param("dual.app.test", socket.AF_INET, "v4", marks=pytest.mark.skipif(not IPV6, reason="no ::1")),
])
def test_fetch_by_name(dns: testing.FaultServer, resolv_conf: str, name: str, family: int, expect: str) -> None:
    async def main() -> str:
        hosts = ["127.0.0.1"] + (["::1"] if IPV6 else [])
        runner, port = await start_site(hosts)
        try:
            resolver = AsyncResolver(**options(dns, resolv_conf))
            connector = aiohttp.TCPConnector(resolver=resolver, family=family, use_dns_cache=False)
            async with aiohttp.ClientSession(connector=connector) as session:
                async with session.get(f"http://{name}:{port}/") as response:
                    assert response.status == 200
                    return await response.text()
        finally:
            await runner.cleanup()

    assert run(main()) == expect
    asked = {(q.qname, q.qtype) for q in dns.queries}
    assert all(qname == name for qname, _ in asked)


def test_unknown_name_is_a_dns_error(dns: testing.FaultServer, resolv_conf: str) -> None:
    async def main() -> BaseException:
        resolver = AsyncResolver(**options(dns, resolv_conf))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as session:
            with pytest.raises(aiohttp.ClientConnectorError) as info:
                await session.get("http://missing.app.test:9/")
            return info.value

    err = run(main())
    if hasattr(aiohttp, "ClientConnectorDNSError"):  # aiohttp >= 3.11
        assert isinstance(err, aiohttp.ClientConnectorDNSError)
    cause = err.os_error
    assert isinstance(cause, OSError) and cause.errno is None
    assert isinstance(cause.__cause__, AresError)
    assert cause.strerror == cause.__cause__.args[1]


def test_resolve_shape(dns: testing.FaultServer, resolv_conf: str) -> None:
    async def main() -> Any:
        resolver = AsyncResolver(**options(dns, resolv_conf))
        try:
            return await resolver.resolve("two.app.test", 8080, socket.AF_INET)
        finally:
            await resolver.close()

    got = run(main())
    assert sorted(r["host"] for r in got) == ["127.0.0.2", "127.0.0.3"]
    for r in got:
        assert r == {"hostname": "two.app.test", "host": r["host"], "port": 8080, "family": socket.AF_INET,
                     "proto": 0, "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV}


def test_close_fails_pending_lookups(resolv_conf: str) -> None:
    with testing.FaultServer(mode="drop") as silent:
        async def main() -> BaseException:
            resolver = AsyncResolver(nameservers=[silent.address], resolvconf_path=resolv_conf, lookups="b",
                                     timeout=5.0)
            task = asyncio.ensure_future(resolver.resolve("v4.app.test"))
            assert silent.wait_for_queries(1, timeout=5.0) or True
            await asyncio.sleep(0.05)
            await resolver.close()
            with pytest.raises(OSError) as info:
                await task
            return info.value

        err = run(main())
    assert isinstance(err.__cause__, AresError)


def test_cancelled_await_leaves_the_resolver_usable(dns: testing.FaultServer, resolv_conf: str) -> None:
    async def main() -> Any:
        resolver = AsyncResolver(**options(dns, resolv_conf))
        dns.rules["slow.app.test"] = "drop"
        task = asyncio.ensure_future(resolver.resolve("slow.app.test"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        try:
            return await resolver.resolve("v4.app.test")
        finally:
            await resolver.close()

    assert [r["host"] for r in run(main())] == ["127.0.0.1"]


def test_nameservers_and_servers_exclusive() -> None:
    async def main() -> None:
        with pytest.raises(TypeError):
            AsyncResolver(nameservers=["127.0.0.1"], servers=["127.0.0.1"])

    run(main())


# ---- the same lookups through aiohttp's own AsyncResolver (aiodns 4.0.4 on pycares 5.2.1) ------

ORACLE_CHILD = r"""
import asyncio, json, socket, sys
import aiodns, pycares
assert pycares.__version__ == "5.2.1" and aiodns.__version__ == "4.0.4", (pycares.__version__, aiodns.__version__)
import oracle_keepalive  # pycares 5.2.1 frees its lookups/resolvconf_path strings too early (as 4.11)
oracle_keepalive.install(pycares)
from aiohttp.resolver import AsyncResolver
server, resolv_conf, cases = json.loads(sys.argv[1])

async def main():
    resolver = AsyncResolver(nameservers=[server], resolvconf_path=resolv_conf, lookups="b", timeout=2.0, tries=2)
    out = []
    for name, port, family in cases:
        try:
            got = await resolver.resolve(name, port, family)
            out.append(sorted([r["hostname"], r["host"], r["port"], int(r["family"]), r["proto"], r["flags"]]
                              for r in got))
        except OSError as e:
            out.append(["OSError", e.errno, e.strerror])
    await resolver.close()
    return out

print(json.dumps(asyncio.run(main())))
"""

CASES = [(name, port, family) for name in [*NAMES, "missing.app.test"] for port in (0, 443)
         for family in (socket.AF_INET, socket.AF_INET6, socket.AF_UNSPEC)]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the oracle, pycares 5.2.1, needs Python >= 3.11")
def test_resolve_matches_aiohttp_own_resolver(dns: testing.FaultServer, resolv_conf: str) -> None:
    oracle = oracle5_path()
    assert (oracle / "pycares").is_dir(), (
        f"pycares 5.2.1 is not installed in {oracle}: run "
        f"`{sys.executable} -m pip install --target {oracle} pycares==5.2.1 aiodns==4.0.4`")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(oracle), str(Path(__file__).resolve().parent / "oracle")]))
    proc = subprocess.run([sys.executable, "-c", ORACLE_CHILD, json.dumps([dns.address, resolv_conf, CASES])],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout)

    async def ours() -> List[Any]:
        resolver = AsyncResolver(**options(dns, resolv_conf))
        out: List[Any] = []
        for name, port, family in CASES:
            try:
                got = await resolver.resolve(name, port, socket.AddressFamily(family))
                out.append(sorted([r["hostname"], r["host"], r["port"], int(r["family"]), r["proto"], r["flags"]]
                                  for r in got))
            except OSError as e:
                out.append(["OSError", e.errno, e.strerror])
        await resolver.close()
        return out

    mine = run(ours())
    assert len(mine) == len(theirs) == len(CASES)
    answered = [case for case, a in zip(CASES, mine) if a and a[0] != "OSError"]
    assert len(answered) >= 12 and any(a[0] == "OSError" for a in mine)  # both outcomes compared
    for case, a, b in zip(CASES, mine, theirs):
        assert a == b, f"{case}: pycares_ng {a} != aiohttp+aiodns4+pycares5 {b}"
