"""The asyncio backend: the conformance tests on every loop, and the aiodns-style DNSResolver.

Loops: asyncio's default loop and uvloop (skipped, with the reason, when it is not installed).
Servers: the NSD fixture ``dns_server`` for record shapes, a FaultServer started by the test for
faults, delays and silence. Every resolver is told its servers and an empty resolv.conf.
"""
from __future__ import annotations

import asyncio
import gc
import os
import socket
import tempfile
import threading
import time
from typing import Any, Callable, Coroutine, Iterator, List

import pytest

import pycares_ng
import pycares_ng.v5
import pycares_ng.backends
from pycares_ng import AresError
from pycares_ng.backends import asyncio as aio
from pycares_ng.testing import FaultServer
from pycares_ng.testing.backend import BackendConformance

try:
    import uvloop
except ImportError:  # pragma: no cover  (depends on the machine)
    uvloop = None

NO_UVLOOP = "uvloop is not installed (pip install uvloop to run these)"
LOOP_KINDS = [
    pytest.param("asyncio", id="asyncio"),
    pytest.param("uvloop", id="uvloop", marks=pytest.mark.skipif(uvloop is None, reason=NO_UVLOOP)),
]


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        assert uvloop is not None
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class LoopErrors:
    """Records what the loop's exception handler receives (e.g. an InvalidStateError raised in
    a callback), so a test can assert that nothing went wrong out of sight."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.contexts: List[dict] = []
        loop.set_exception_handler(lambda _loop, context: self.contexts.append(context))

    def check(self) -> None:
        assert not self.contexts, f"the loop reported errors: {self.contexts!r}"


# -- conformance ----------------------------------------------------------------------------------

class _AsyncioConformance(BackendConformance):
    backend_name = "asyncio"
    loop_kind = "asyncio"

    def setup_method(self, method: Any = None) -> None:
        self.loop = new_loop(self.loop_kind)
        self.loop_errors = LoopErrors(self.loop)
        super().setup_method(method)

    def teardown_method(self, method: Any = None) -> None:
        try:
            super().teardown_method(method)
            self.loop.run_until_complete(asyncio.sleep(0))  # callbacks scheduled by close()
            self.loop_errors.check()
        finally:
            self.loop.close()

    def make_resolver(self, **channel_options: Any) -> Any:
        return pycares_ng.backends.get(self.backend_name).Resolver(loop=self.loop, **channel_options)

    def wait(self, resolver: Any, future: Any, timeout: float) -> Any:
        assert isinstance(future, asyncio.Future) and resolver.loop is self.loop
        # shield: a timeout here must not cancel the request's future itself.
        return self.loop.run_until_complete(asyncio.wait_for(asyncio.shield(future), timeout))

    def run(self, resolver: Any, main: Callable[[], Any]) -> Any:
        assert resolver.loop is self.loop
        return self.loop.run_until_complete(main())


class TestAsyncioConformance(_AsyncioConformance):
    loop_kind = "asyncio"


@pytest.mark.skipif(uvloop is None, reason=NO_UVLOOP)
class TestUvloopConformance(_AsyncioConformance):
    loop_kind = "uvloop"


# -- fixtures ----------------------------------------------------------------------------------------

@pytest.fixture(params=LOOP_KINDS)
def loop(request: Any) -> Iterator[asyncio.AbstractEventLoop]:
    loop = new_loop(request.param)
    errors = LoopErrors(loop)
    try:
        yield loop
        loop.run_until_complete(asyncio.sleep(0))
        gc.collect()  # a never-retrieved future exception would be reported now
        errors.check()
    finally:
        loop.close()


@pytest.fixture
def resolvconf() -> Iterator[str]:
    fd, path = tempfile.mkstemp(prefix="pycares-ng-asyncio-", suffix=".conf")
    os.close(fd)
    yield path
    os.unlink(path)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], timeout: float = 5.0) -> Any:
    """Run ``coro`` on ``loop``, bounded."""
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


def make(loop: asyncio.AbstractEventLoop, servers: List[str], resolvconf: str,
         **options: Any) -> aio.DNSResolver:
    options.setdefault("timeout", 1.0)
    options.setdefault("tries", 2)
    return aio.DNSResolver(servers, loop=loop, resolvconf_path=resolvconf, **options)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


# -- registry ------------------------------------------------------------------------------------

def test_registered_and_available() -> None:
    assert pycares_ng.backends.get("asyncio") is aio
    info = pycares_ng.backends.available()["asyncio"]
    assert info.available, info.reason
    assert issubclass(aio.Resolver, pycares_ng.backends.base.Resolver)
    assert issubclass(aio.AsyncioDriver, pycares_ng.backends.base.Driver)
    assert aio.DNSError is AresError


# -- DNSResolver against NSD: every method, result shapes as aiodns/pycares ----------------------

def test_query_result_shapes(loop, dns_server, resolvconf) -> None:
    async def main() -> None:
        r = make(loop, [dns_server.address], resolvconf)
        a = await r.query("www.example.test", "A")
        assert isinstance(a, list) and [(x.host, x.ttl) for x in a] == [("192.0.2.10", 300)]
        assert isinstance(a[0], pycares_ng.ares_query_a_result)
        aaaa = await r.query("ipv6only.example.test", "AAAA")
        assert [x.host for x in aaaa] == ["2001:db8::6"]
        mx = await r.query("example.test", "MX")
        assert sorted((x.priority, x.host) for x in mx) == [
            (10, "mx1.example.test"), (20, "mx2.example.test"), (30, "mx3.example.test")]
        ns = await r.query("example.test", "NS")
        assert sorted(x.host for x in ns) == ["ns1.example.test", "ns2.example.test"]
        txt = await r.query("txt-records.example.test", "TXT")
        assert sorted(x.text for x in txt) == ["one", "two"]
        srv = await r.query("_sip._tcp.example.test", "SRV")
        assert sorted((x.priority, x.weight, x.port, x.host) for x in srv)[0] == (
            10, 40, 5060, "sip2.example.test")
        naptr = await r.query("naptr.example.test", "NAPTR")
        assert sorted(x.order for x in naptr) == [100, 102]
        caa = await r.query("caa.example.test", "CAA")
        assert {x.property for x in caa} == {"issue", "iodef", "issuewild"}
        # single objects, as aiodns returns them
        cname = await r.query("alias.example.test", "CNAME")
        assert isinstance(cname, pycares_ng.ares_query_cname_result)
        assert (cname.cname, cname.ttl) == ("www.example.test", 1500)
        soa = await r.query("example.test", "SOA")
        assert isinstance(soa, pycares_ng.ares_query_soa_result)
        assert (soa.nsname, soa.hostmaster, soa.serial) == (
            "ns1.example.test", "hostmaster.example.test", 2024060101)
        ptr = await r.query("10.2.0.192.in-addr.arpa", "PTR")
        assert isinstance(ptr, pycares_ng.ares_query_ptr_result) and ptr.name == "www.example.test"
        # the type as an int or in any case, the class as a name or an int
        assert await r.query("www.example.test", pycares_ng.QUERY_TYPE_A) == a
        assert await r.query("www.example.test", "a", "IN") == a
        assert await r.query("www.example.test", "A", pycares_ng.QUERY_CLASS_IN) == a
        # beyond pycares 4: newer types
        https = await r.query("web.example.test", "HTTPS")
        assert isinstance(https, list) and len(https) == 1
        await r.close()

    run(loop, main())


def test_query_dns_search_and_host_lookups(loop, dns_server, resolvconf) -> None:
    async def main() -> None:
        r = make(loop, [dns_server.address], resolvconf, domains=["example.test"])
        message = await r.query_dns("multi.example.test", "A")  # aiodns 4's shape: pycares 5's records
        assert isinstance(message, pycares_ng.v5.DNSResult)
        assert sorted(rec.data.addr for rec in message.answer) == ["192.0.2.31", "192.0.2.32", "192.0.2.33"]
        assert {(rec.type, rec.record_class, rec.ttl) for rec in message.answer} == {(1, 1, 120)}
        with pytest.raises(pycares_ng.AresError) as nodata:  # aiodns 4: NODATA is an error
            await r.query_dns("ipv6only.example.test", "A")
        assert nodata.value.args[0] == pycares_ng.errno.ARES_ENODATA
        whole = await r.resolver.query_dns("multi.example.test", "A")  # the backend: pycares_ng's own
        assert isinstance(whole, pycares_ng.ares_dns_message_result) and whole.rcode == 0
        assert [x.host for x in await r.search("www", "A")] == ["192.0.2.10"]

        v4 = await r.gethostbyname("dual.example.test", socket.AF_INET)
        assert isinstance(v4, pycares_ng.ares_host_result) and v4.addresses == ["192.0.2.20"]
        v6 = await r.gethostbyname("dual.example.test", socket.AF_INET6)
        assert v6.addresses == ["2001:db8::20"]

        # aiodns's argument order: host, family, port, proto, type, flags
        ai = await r.getaddrinfo("dual.example.test", socket.AF_INET, 8080, 0, socket.SOCK_STREAM)
        assert isinstance(ai, pycares_ng.ares_addrinfo_result)
        assert [(n.family, n.socktype, n.addr[0], n.addr[1]) for n in ai.nodes] == [
            (socket.AF_INET, socket.SOCK_STREAM, b"192.0.2.20", 8080)]
        both = await r.getaddrinfo("dual.example.test", port=443, type=socket.SOCK_STREAM)
        assert {(n.family, n.addr[0]) for n in both.nodes} == {
            (socket.AF_INET, b"192.0.2.20"), (socket.AF_INET6, b"2001:db8::20")}

        host = await r.gethostbyaddr("192.0.2.10")
        assert host.name == "www.example.test" and host.addresses == ["192.0.2.10"]
        flags = (pycares_ng.ARES_NI_LOOKUPHOST | pycares_ng.ARES_NI_LOOKUPSERVICE
                 | pycares_ng.ARES_NI_NUMERICSERV | pycares_ng.ARES_NI_NAMEREQD)
        ni = await r.getnameinfo(("192.0.2.10", 8053), flags)
        assert isinstance(ni, pycares_ng.ares_nameinfo_result)
        assert (ni.node, ni.service) == ("www.example.test", "8053")
        numeric_flags = (pycares_ng.ARES_NI_LOOKUPHOST | pycares_ng.ARES_NI_LOOKUPSERVICE
                         | pycares_ng.ARES_NI_NUMERICHOST | pycares_ng.ARES_NI_NUMERICSERV)
        numeric = await r.getnameinfo(("192.0.2.99", 80), numeric_flags)
        assert (numeric.node, numeric.service) == ("192.0.2.99", "80")
        await r.close()

    run(loop, main())


def test_errors_are_ares_errors(loop, dns_server, resolvconf) -> None:
    async def main() -> None:
        async with make(loop, [dns_server.address], resolvconf) as r:
            with pytest.raises(AresError) as info:
                await r.query("no-such-name.example.test", "A")
            assert info.value.args[0] == pycares_ng.errno.ARES_ENOTFOUND
            assert info.value.args[1] == pycares_ng.errno.strerror(pycares_ng.errno.ARES_ENOTFOUND)
            with pytest.raises(aio.DNSError) as info:  # the aiodns spelling
                await r.query("www.example.test", "AAAA")
            assert info.value.args[0] == pycares_ng.errno.ARES_ENODATA
            with pytest.raises(AresError) as info:
                await r.gethostbyaddr("192.0.2.222")
            assert info.value.args[0] == pycares_ng.errno.ARES_ENOTFOUND
            # bad arguments fail at once, before anything is sent
            with pytest.raises(ValueError, match="NOPE"):
                r.query("www.example.test", "NOPE")
            with pytest.raises(ValueError, match="NOPE"):
                r.query("www.example.test", "A", "NOPE")

    run(loop, main())


def test_nameservers_property(loop, dns_server, server, resolvconf) -> None:
    server.add_record("switch.test", "A", "192.0.2.77")

    async def main() -> None:
        r = make(loop, [dns_server.address], resolvconf)
        assert r.nameservers == [dns_server.address]
        r.nameservers = [server.address]
        assert r.nameservers == [server.address]
        assert [x.host for x in await r.query("switch.test", "A")] == ["192.0.2.77"]
        assert server.queries[-1].qname == "switch.test"
        # servers= (the Channel option) works too; both at once is an error
        s = aio.DNSResolver(loop=loop, servers=[server.address], resolvconf_path=resolvconf)
        assert s.nameservers == [server.address]
        s.close()
        with pytest.raises(TypeError):
            aio.DNSResolver([server.address], loop=loop, servers=[server.address])
        with pytest.raises(ValueError, match="event_thread"):
            aio.DNSResolver([server.address], loop=loop, event_thread=True)
        r.close()

    run(loop, main())


def test_default_loop_is_the_running_one(loop, server, resolvconf) -> None:
    async def main() -> None:
        r = aio.DNSResolver([server.address], resolvconf_path=resolvconf)
        assert r.loop is asyncio.get_running_loop() is loop
        assert [x.host for x in await r.query("x.test", "A")] == ["192.0.2.1"]
        await r.close()

    run(loop, main())


def test_truncated_reply_goes_over_tcp(loop, server, resolvconf) -> None:
    # TCP makes c-ares ask for writability (connect): add_writer/remove_writer on this loop.
    server.mode = "truncate"
    server.add_record("tcp.test", "A", "192.0.2.88")

    async def main() -> None:
        async with make(loop, [server.address], resolvconf) as r:
            assert [x.host for x in await r.query("tcp.test", "A")] == ["192.0.2.88"]

    run(loop, main())
    assert {q.transport for q in server.queries} == {"udp", "tcp"}


# -- cancellation --------------------------------------------------------------------------------

def test_cancelled_tasks_never_break_the_channel(loop, server, resolvconf) -> None:
    count = 100
    for i in range(count):
        server.add_record(f"c{i}.test", "A", f"198.51.100.{i}")
        server.add_record(f"d{i}.test", "A", f"203.0.113.{i}")

    async def main() -> None:
        r = make(loop, [server.address], resolvconf, timeout=2.0, tries=1)
        server.delay = 0.2  # every answer arrives after the tasks are cancelled

        async def ask(name: str) -> Any:
            return await r.query(name, "A")

        tasks = [loop.create_task(ask(f"c{i}.test")) for i in range(count)]
        await until(lambda: len(server.queries) >= count)
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(x, asyncio.CancelledError) for x in outcomes)
        assert r.resolver.pending == count  # still in flight in c-ares
        # A future cancelled directly (no task) behaves the same.
        direct = r.query("c0.test", "A")
        direct.cancel()
        # The late answers arrive and are dropped: no InvalidStateError anywhere (the loop
        # fixture checks its exception handler; an error in a callback would fail the test as
        # an unraisable exception).
        await until(lambda: r.resolver.pending == 0)
        server.delay = 0.0
        results = await asyncio.gather(*(r.query(f"d{i}.test", "A") for i in range(count)))
        assert [[x.host for x in res] for res in results] == [[f"203.0.113.{i}"] for i in range(count)]
        await r.close()

    run(loop, main(), timeout=10.0)


def test_cancel_fails_pending_with_ecancelled(loop, server, resolvconf) -> None:
    server.rules["hang.test"] = "drop"

    async def main() -> None:
        r = make(loop, [server.address], resolvconf, timeout=5.0, tries=1)
        futures = [r.query("hang.test", "A"), r.gethostbyname("hang.test", socket.AF_INET),
                   r.getaddrinfo("hang.test", socket.AF_INET, 80)]
        await until(lambda: len(server.queries) >= 2)
        r.cancel()
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        assert [x.args[0] for x in outcomes] == [pycares_ng.errno.ARES_ECANCELLED] * 3
        assert [x.host for x in await r.query("ok.test", "A")] == ["192.0.2.1"]
        r.close()

    run(loop, main())


# -- the timer ------------------------------------------------------------------------------------

def test_silent_server_times_out_after_timeout_times_tries(loop, server, resolvconf) -> None:
    # The timer comes from Channel.timeout(): 0.1 s, then 0.2 s for the second try — not a
    # 1 s tick.
    server.mode = "drop"

    async def main() -> float:
        async with make(loop, [server.address], resolvconf, timeout=0.1, tries=2) as r:
            start = loop.time()
            with pytest.raises(AresError) as info:
                await r.query("silent.test", "A")
            assert info.value.args[0] == pycares_ng.errno.ARES_ETIMEOUT
            return loop.time() - start

    elapsed = run(loop, main())
    assert 0.1 <= elapsed < 0.9, elapsed
    assert server.wait_for_queries(2, timeout=1.0)


def test_timer_follows_the_channel_and_idles(loop, server, resolvconf) -> None:
    server.rules["slow.test"] = "drop"

    async def main() -> None:
        r = make(loop, [server.address], resolvconf, timeout=3.0, tries=1)
        driver = r.resolver.driver
        assert driver.timer_deadline is None  # idle: nothing armed
        pending = r.query("slow.test", "A")
        await asyncio.sleep(0.05)
        deadline = driver.timer_deadline
        assert deadline is not None and 2.0 < deadline - loop.time() <= 3.0
        assert [x.host for x in await r.query("fast.test", "A")] == ["192.0.2.1"]
        assert driver.timer_deadline == pytest.approx(deadline, abs=0.01)  # still the slow one
        r.cancel()
        with pytest.raises(AresError):
            await pending
        await asyncio.sleep(0)
        assert driver.timer_deadline is None and r.resolver.pending == 0
        r.close()

    run(loop, main())


# -- closing --------------------------------------------------------------------------------------

def test_close_with_pending_fails_awaiting_tasks(loop, server, resolvconf) -> None:
    server.rules["never.test"] = "drop"

    async def main() -> None:
        r = make(loop, [server.address], resolvconf, timeout=5.0, tries=1)

        async def ask() -> Any:
            return await r.query("never.test", "A")

        tasks = [loop.create_task(ask()) for _ in range(5)]
        await until(lambda: len(server.queries) >= 1)
        assert r.resolver.driver.watched  # a socket is watched
        result = r.close()  # synchronous, and awaitable as aiodns 3.x's async close()
        assert r.closed and not r.resolver.driver.watched
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert [type(x) for x in outcomes] == [AresError] * 5
        assert {x.args[0] for x in outcomes} == {pycares_ng.errno.ARES_ECANCELLED}
        await result
        await r.close()  # idempotent
        with pytest.raises(RuntimeError):
            r.query("never.test", "A")

    run(loop, main())


def test_async_with(loop, server, resolvconf) -> None:
    async def main() -> aio.DNSResolver:
        async with make(loop, [server.address], resolvconf) as r:
            assert [x.host for x in await r.query("ctx.test", "A")] == ["192.0.2.1"]
            assert not r.closed
        return r

    r = run(loop, main())
    assert r.closed
    with pytest.raises(RuntimeError):
        r.query("ctx.test", "A")


def test_dropped_resolver_finishes_what_is_in_flight(loop, server, resolvconf) -> None:
    server.delay = 0.1

    async def main() -> None:
        future = make(loop, [server.address], resolvconf).query("gc.test", "A")
        gc.collect()  # the DNSResolver is gone; its request is not
        assert [x.host for x in await future] == ["192.0.2.1"]

    run(loop, main())


@pytest.mark.parametrize("kind", LOOP_KINDS)
def test_loop_closed_before_the_resolver(kind, server, resolvconf) -> None:
    server.mode = "drop"
    loop = new_loop(kind)
    errors = LoopErrors(loop)
    r = make(loop, [server.address], resolvconf, timeout=5.0, tries=1)
    future = r.query("late.test", "A")
    loop.run_until_complete(asyncio.sleep(0.05))
    loop.close()
    r.close()  # raises nothing: the loop is gone, its watchers with it
    assert isinstance(future.exception(), AresError)
    assert future.exception().args[0] == pycares_ng.errno.ARES_ECANCELLED
    errors.check()


# -- no threads -----------------------------------------------------------------------------------

def test_no_threads(loop, server, resolvconf) -> None:
    before = threading.active_count()  # the FaultServer's thread is already running

    async def main() -> int:
        r = make(loop, [server.address], resolvconf)
        futures = [r.query(f"t{i}.test", "A") for i in range(50)]
        during = threading.active_count()
        await asyncio.gather(*futures)
        await r.close()
        return during

    during = run(loop, main())
    assert during == before == threading.active_count()
