"""The tornado backend: the conformance tests on a tornado IOLoop, TornadoResolver (a
``tornado.netutil.Resolver``) against NSD and a FaultServer, and tornado's HTTP client end to end
with names resolved through pycares_ng.

Everything stays on loopback: every resolver is told its servers and an empty resolv.conf, and
host names come from the NSD fixture ``dns_server``, a FaultServer started by the test, or a
hosts file given to c-ares through ``CARES_HOSTS`` (``lookups="fb"``).
"""
from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time
from typing import Any, Awaitable, Callable, Iterator, List, Optional, Tuple

import pytest

tornado = pytest.importorskip("tornado", reason="tornado is not installed (pip install tornado)")

import tornado.httpclient  # noqa: E402
import tornado.httpserver  # noqa: E402
import tornado.ioloop  # noqa: E402
import tornado.netutil  # noqa: E402
import tornado.simple_httpclient  # noqa: E402
import tornado.web  # noqa: E402

import dnsdata  # noqa: E402  (tests/dnsdata.py)
import pycares_ng  # noqa: E402
import pycares_ng.backends  # noqa: E402
from pycares_ng.backends import tornado as bt  # noqa: E402
from pycares_ng.testing import FaultServer  # noqa: E402
from pycares_ng.testing.backend import BackendConformance  # noqa: E402

TORNADO_RESOLVER = "pycares_ng.backends.tornado.TornadoResolver"
EAI_NODATA = getattr(socket, "EAI_NODATA", socket.EAI_NONAME)
IPV6 = dnsdata.ipv6_loopback_usable()
NO_IPV6 = "no usable IPv6 loopback (::1) here"


# -- conformance ----------------------------------------------------------------------------------

class TestTornadoConformance(BackendConformance):
    backend_name = "tornado"

    def setup_method(self, method: Any = None) -> None:
        self.io_loop = tornado.ioloop.IOLoop(make_current=False)
        self.loop_errors: List[dict] = []
        self.io_loop.asyncio_loop.set_exception_handler(
            lambda _loop, context: self.loop_errors.append(context))
        super().setup_method(method)

    def teardown_method(self, method: Any = None) -> None:
        try:
            super().teardown_method(method)
            self.io_loop.run_sync(lambda: asyncio.sleep(0))  # callbacks scheduled by close()
            assert not self.loop_errors, f"the loop reported errors: {self.loop_errors!r}"
        finally:
            self.io_loop.close()

    def make_resolver(self, **channel_options: Any) -> Any:
        # Not through pycares_ng.backends.get(): the entry point exists once the package is
        # (re)installed with it; test_registry below checks that path.
        return bt.Resolver(io_loop=self.io_loop, **channel_options)

    def wait(self, resolver: Any, future: Any, timeout: float) -> Any:
        assert isinstance(future, asyncio.Future) and resolver.io_loop is self.io_loop
        # shield: a timeout here must not cancel the request's future itself.
        return self.io_loop.run_sync(lambda: asyncio.wait_for(asyncio.shield(future), timeout))

    def run(self, resolver: Any, main: Callable[[], Any]) -> Any:
        assert resolver.io_loop is self.io_loop
        return self.io_loop.run_sync(main)

    # tornado-specific, on the same set-up

    def test_driver_on_the_ioloops_asyncio_loop(self) -> None:
        r = self.new_resolver()
        assert isinstance(r.driver, bt.TornadoDriver)
        assert r.loop is self.io_loop.asyncio_loop and r.io_loop is self.io_loop
        name = self.fqdn("drv")
        self.server.add_record(name, "A", "192.0.2.30")
        future = r.query(name, "A")
        assert r.driver.watched, "the query's socket must be watched on the loop"
        assert r.driver.timer_deadline is None or r.driver.timer_deadline > 0
        assert [x.host for x in self.resolve(r, future)] == ["192.0.2.30"]
        r.close()
        assert r.driver.watched == {} and r.driver.timer_deadline is None

    def test_io_loop_and_driver_must_agree(self) -> None:
        other = tornado.ioloop.IOLoop(make_current=False)
        try:
            driver = bt.TornadoDriver(other)
            with pytest.raises(ValueError):
                bt.Resolver(io_loop=self.io_loop, driver=driver, servers=[self.server.address],
                            resolvconf_path=self._resolvconf)
            driver.close()
        finally:
            other.close()

    def test_default_io_loop_is_the_running_one(self) -> None:
        async def make() -> Any:
            resolver = bt.Resolver(servers=[self.server.address], resolvconf_path=self._resolvconf)
            try:
                return resolver.io_loop
            finally:
                resolver.close()

        assert self.io_loop.run_sync(make) is self.io_loop


def test_registry() -> None:
    info = pycares_ng.backends._load("tornado", "pycares_ng.backends.tornado")
    assert info.available, info.reason
    assert info.module is bt
    assert issubclass(bt.Resolver, pycares_ng.backends.base.Resolver)
    assert issubclass(bt.TornadoDriver, pycares_ng.backends.base.Driver)
    assert issubclass(bt.TornadoResolver, tornado.netutil.Resolver)
    if "tornado" in pycares_ng.backends._entry_points():
        assert pycares_ng.backends.get("tornado") is bt
        assert pycares_ng.backends.available()["tornado"].available


def test_check_without_tornado(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bt, "tornado", None)
    monkeypatch.setattr(bt, "_IMPORT_ERROR", ImportError("No module named 'tornado'"))
    with pytest.raises(ImportError, match="tornado is not installed"):
        bt.check()


# -- fixtures and helpers -------------------------------------------------------------------------

@pytest.fixture
def resolvconf() -> Iterator[str]:
    fd, path = tempfile.mkstemp(prefix="pycares-ng-tornado-", suffix=".conf")
    os.close(fd)  # empty: no nameserver, no search list from the machine
    yield path
    os.unlink(path)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.fixture
def strict_server() -> Iterator[FaultServer]:
    """A FaultServer that answers only the names a test gives records for (NXDOMAIN otherwise,
    not its default 192.0.2.1 / 2001:db8::1): an HTTP client must never be handed an address
    off loopback."""
    with FaultServer(mode="nxdomain") as srv:
        yield srv


def serve(server: FaultServer, name: str, rtype: str, address: str) -> None:
    server.rules[name] = "answer"
    server.add_record(name, rtype, address)


@pytest.fixture
def configured() -> Iterator[Callable[..., None]]:
    """``configured(**options)`` makes TornadoResolver tornado's Resolver; restored afterwards."""
    saved = tornado.netutil.Resolver._save_configuration()

    def configure(**options: Any) -> None:
        tornado.netutil.Resolver.configure(TORNADO_RESOLVER, **options)

    try:
        yield configure
    finally:
        tornado.netutil.Resolver._restore_configuration(saved)


def run(coro_fn: Callable[[], Awaitable[Any]], timeout: float = 5.0) -> Any:
    """Run ``coro_fn()`` on a new tornado IOLoop (a new asyncio loop), bounded."""
    async def bounded() -> Any:
        return await asyncio.wait_for(coro_fn(), timeout)

    return asyncio.run(bounded())


def nsd_resolver(dns_server: Any, resolvconf: str, **options: Any) -> bt.TornadoResolver:
    options.setdefault("timeout", 1.0)
    options.setdefault("tries", 2)
    return bt.TornadoResolver(servers=[dns_server.address], resolvconf_path=resolvconf, **options)


def addresses(pairs: List[Tuple[int, Any]]) -> List[Tuple[int, str]]:
    return [(family, sockaddr[0]) for family, sockaddr in pairs]


# -- TornadoResolver against NSD ------------------------------------------------------------------

def test_resolve_a(dns_server: Any, resolvconf: str) -> None:
    resolver = nsd_resolver(dns_server, resolvconf)
    result = run(lambda: resolver.resolve("www.example.test", 443, socket.AF_INET))
    resolver.close()
    assert result == [(socket.AF_INET, ("192.0.2.10", 443))]
    family, sockaddr = result[0]
    assert isinstance(family, socket.AddressFamily) and isinstance(sockaddr[0], str)


def test_resolve_aaaa(dns_server: Any, resolvconf: str) -> None:
    resolver = nsd_resolver(dns_server, resolvconf)
    result = run(lambda: resolver.resolve("ipv6only.example.test", 80, socket.AF_INET6))
    resolver.close()
    # IPv6 sockaddrs are 4-tuples, as socket.getaddrinfo gives them
    assert result == [(socket.AF_INET6, ("2001:db8::6", 80, 0, 0))]


def test_resolve_unspec_gives_both_families(dns_server: Any, resolvconf: str) -> None:
    resolver = nsd_resolver(dns_server, resolvconf)

    async def main() -> Tuple[Any, Any, Any]:
        return (await resolver.resolve("dual.example.test", 8080),
                await resolver.resolve("ipv6only.example.test", 8080, socket.AF_UNSPEC),
                await resolver.resolve("www.example.test", 8080, socket.AF_UNSPEC))

    dual, v6only, v4only = run(main)
    resolver.close()
    assert sorted(dual) == sorted([(socket.AF_INET, ("192.0.2.20", 8080)),
                                   (socket.AF_INET6, ("2001:db8::20", 8080, 0, 0))])
    assert v6only == [(socket.AF_INET6, ("2001:db8::6", 8080, 0, 0))]
    assert v4only == [(socket.AF_INET, ("192.0.2.10", 8080))]


def test_resolve_concurrently(dns_server: Any, resolvconf: str) -> None:
    resolver = nsd_resolver(dns_server, resolvconf)
    names = [f"n{i}.bench.test" for i in range(100)]

    async def main() -> List[Any]:
        return await asyncio.gather(*(resolver.resolve(name, 80, socket.AF_INET) for name in names))

    results = run(main)
    resolver.close()
    assert [addresses(r) for r in results] == [
        [(socket.AF_INET, dnsdata.bench_address(i))] for i in range(100)]


def test_unknown_name_raises_gaierror(dns_server: Any, resolvconf: str) -> None:
    resolver = nsd_resolver(dns_server, resolvconf)

    async def failure(host: str, family: int = socket.AF_UNSPEC) -> BaseException:
        try:
            result = await resolver.resolve(host, 80, family)
        except Exception as exc:
            return exc
        raise AssertionError(f"{host}: expected a failure, got {result!r}")

    async def main() -> Tuple[BaseException, BaseException]:
        return (await failure("missing.example.test"),
                await failure("ipv6only.example.test", socket.AF_INET))

    missing, nodata = run(main)
    resolver.close()
    # What DefaultLoopResolver (socket.getaddrinfo) raises for an unknown name.
    assert type(missing) is socket.gaierror and isinstance(missing, OSError)
    assert missing.errno == socket.EAI_NONAME
    assert missing.strerror == "Name or service not known"
    # A name without an address of the family asked for.
    assert isinstance(nodata, socket.gaierror)
    assert nodata.errno in (EAI_NODATA, socket.EAI_NONAME)


def test_unusable_name_raises_gaierror(resolvconf: str, server: FaultServer) -> None:
    resolver = bt.TornadoResolver(servers=[server.address], resolvconf_path=resolvconf, timeout=1.0,
                                  tries=1)

    async def main() -> BaseException:
        try:
            await resolver.resolve("a" * 64 + ".example.test", 80)  # a label over 63 octets
        except Exception as exc:
            return exc
        raise AssertionError("an over-long label must fail")

    exc = run(main)
    resolver.close()
    assert isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_NONAME


def test_literal_addresses_need_no_server(resolvconf: str, server: FaultServer) -> None:
    resolver = bt.TornadoResolver(servers=[server.address], resolvconf_path=resolvconf)

    async def main() -> Tuple[Any, Any]:
        return await resolver.resolve("127.0.0.1", 80), await resolver.resolve("::1", 443)

    v4, v6 = run(main)
    resolver.close()
    assert v4 == [(socket.AF_INET, ("127.0.0.1", 80))]
    assert v6 == [(socket.AF_INET6, ("::1", 443, 0, 0))]
    assert server.queries == []


def test_silent_server_raises_eai_again(resolvconf: str, server: FaultServer) -> None:
    server.rules["silent.example.test"] = "drop"
    resolver = bt.TornadoResolver(servers=[server.address], resolvconf_path=resolvconf,
                                  timeout=0.2, tries=1)

    async def main() -> BaseException:
        try:
            await resolver.resolve("silent.example.test", 80, socket.AF_INET)
        except Exception as exc:
            return exc
        raise AssertionError("a silent server must fail the resolve")

    start = time.monotonic()
    exc = run(main)
    elapsed = time.monotonic() - start
    resolver.close()
    assert isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN
    assert isinstance(exc, TimeoutError)
    assert elapsed < 3.0


def test_cancelled_resolve_leaves_the_resolver_working(resolvconf: str, server: FaultServer) -> None:
    server.rules["slow.example.test"] = "drop"
    server.add_record("ok.example.test", "A", "192.0.2.40")
    resolver = bt.TornadoResolver(servers=[server.address], resolvconf_path=resolvconf,
                                  timeout=1.0, tries=1)

    async def main() -> Any:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(resolver.resolve("slow.example.test", 80), 0.05)
        return await resolver.resolve("ok.example.test", 80, socket.AF_INET)

    result = run(main)
    resolver.close()
    assert result == [(socket.AF_INET, ("192.0.2.40", 80))]


def test_close(resolvconf: str, server: FaultServer) -> None:
    server.rules["pending.example.test"] = "drop"
    server.add_record("ok.example.test", "A", "192.0.2.41")
    resolver = bt.TornadoResolver(servers=[server.address], resolvconf_path=resolvconf,
                                  timeout=5.0, tries=1)
    seen: List[Any] = []

    async def main() -> BaseException:
        assert addresses(await resolver.resolve("ok.example.test", 80, socket.AF_INET)) == [
            (socket.AF_INET, "192.0.2.41")]
        inner = resolver._resolvers[asyncio.get_running_loop()]
        seen.append(inner)
        task = asyncio.ensure_future(resolver.resolve("pending.example.test", 80))
        await asyncio.sleep(0.05)  # the query is on the wire
        assert inner.pending
        resolver.close()
        try:
            await task
        except Exception as exc:
            return exc
        raise AssertionError("a pending resolve must fail on close()")

    exc = run(main)
    # Pending resolves fail with an OSError, as a resolver failure does in tornado.
    assert isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN
    inner = seen[0]
    assert inner.driver.watched == {} and inner.driver.timer_deadline is None
    resolver.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        run(lambda: resolver.resolve("ok.example.test", 80))


def test_made_before_the_loop_runs_and_used_on_two_loops(resolvconf: str, server: FaultServer) -> None:
    # tornado makes resolvers when a client is created, possibly before any loop runs.
    server.add_record("two.example.test", "A", "192.0.2.42")
    resolver = bt.TornadoResolver(servers=[server.address], resolvconf_path=resolvconf)
    first = run(lambda: resolver.resolve("two.example.test", 80, socket.AF_INET))
    second = run(lambda: resolver.resolve("two.example.test", 81, socket.AF_INET))
    assert len(resolver._resolvers) == 1  # the first loop's channel was freed with its loop
    resolver.close()
    assert first == [(socket.AF_INET, ("192.0.2.42", 80))]
    assert second == [(socket.AF_INET, ("192.0.2.42", 81))]


def test_configure_makes_it_tornados_resolver(configured: Callable[..., None], resolvconf: str,
                                              server: FaultServer) -> None:
    server.add_record("cfg.example.test", "A", "192.0.2.43")
    configured(servers=[server.address], resolvconf_path=resolvconf, timeout=1.0, tries=1)
    resolver = tornado.netutil.Resolver()
    assert isinstance(resolver, bt.TornadoResolver)
    result = run(lambda: resolver.resolve("cfg.example.test", 80, socket.AF_INET))
    resolver.close()
    assert result == [(socket.AF_INET, ("192.0.2.43", 80))]


def test_configuration_is_restored() -> None:
    # runs after test_configure_makes_it_tornados_resolver: the fixture put the default back
    assert tornado.netutil.Resolver.configured_class() is tornado.netutil.DefaultLoopResolver


# -- end to end: tornado's HTTP client ---------------------------------------------------------------

class WhoAmI(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write({"remote_ip": self.request.remote_ip, "host": self.request.host})


def listen(v6: bool) -> Tuple[List[socket.socket], int]:
    """Sockets on 127.0.0.1 (and ::1 when ``v6``) sharing one free port."""
    for _ in range(20):
        socks = tornado.netutil.bind_sockets(0, "127.0.0.1")
        port = socks[0].getsockname()[1]
        if not v6:
            return socks, port
        try:
            socks += tornado.netutil.bind_sockets(port, "::1")
        except OSError:  # the port is taken on ::1: another one
            for sock in socks:
                sock.close()
            continue
        return socks, port
    raise AssertionError("no port free on both 127.0.0.1 and ::1")


@pytest.fixture
def hosts_file(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """``hosts_file(text)``: a hosts file for c-ares (CARES_HOSTS) with ``text``. One name per
    address: c-ares >= 1.2x merges hosts-file entries that share an address or a name, so two
    names on ::1 would become aliases with each other's addresses."""
    paths: List[str] = []

    def write(text: str) -> None:
        fd, path = tempfile.mkstemp(prefix="pycares-ng-tornado-hosts-")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        paths.append(path)
        monkeypatch.setenv("CARES_HOSTS", path)

    yield write
    for path in paths:
        os.unlink(path)


def fetch_all(urls: List[str], expect_failure: Optional[str] = None) -> Tuple[List[Any], Any]:
    """Serve WhoAmI on 127.0.0.1 (and ::1), fetch every url (``{port}`` filled in) with
    SimpleAsyncHTTPClient; return the decoded bodies and, for ``expect_failure``, its error."""
    import json

    async def main() -> Tuple[List[Any], Any]:
        socks, port = listen(IPV6)
        http_server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/", WhoAmI)]))
        http_server.add_sockets(socks)
        client = tornado.simple_httpclient.SimpleAsyncHTTPClient(force_instance=True)
        try:
            assert isinstance(client.resolver, bt.TornadoResolver)
            bodies = []
            for url in urls:
                response = await client.fetch(url.format(port=port), request_timeout=5.0)
                bodies.append(json.loads(response.body))
            error = None
            if expect_failure is not None:
                try:
                    await client.fetch(expect_failure.format(port=port), request_timeout=5.0)
                except Exception as exc:
                    error = exc
            return bodies, error
        finally:
            client.close()
            http_server.stop()
            await http_server.close_all_connections()

    return run(main, timeout=10.0)


def test_http_client_through_hosts_file(configured: Callable[..., None], resolvconf: str,
                                        strict_server: FaultServer,
                                        hosts_file: Callable[[str], None]) -> None:
    hosts_file("127.0.0.1 web4.local.test\n")
    configured(servers=[strict_server.address], resolvconf_path=resolvconf, lookups="fb",
               timeout=1.0, tries=1)
    bodies, error = fetch_all(["http://web4.local.test:{port}/"],
                              expect_failure="http://nowhere.local.test:{port}/")
    assert bodies == [{"remote_ip": "127.0.0.1", "host": bodies[0]["host"]}]
    assert bodies[0]["host"].startswith("web4.local.test:")
    # an unknown name reaches the caller as the resolver's OSError
    assert isinstance(error, socket.gaierror) and error.errno == socket.EAI_NONAME
    # the hosts file answered the web name: only the unknown one went to DNS
    assert {q.qname.lower() for q in strict_server.queries} == {"nowhere.local.test"}


@pytest.mark.skipif(not IPV6, reason=NO_IPV6)
def test_http_client_ipv6_only_name(configured: Callable[..., None], resolvconf: str,
                                    strict_server: FaultServer,
                                    hosts_file: Callable[[str], None]) -> None:
    hosts_file("::1 web6.local.test\n")
    configured(servers=[strict_server.address], resolvconf_path=resolvconf, lookups="fb",
               timeout=1.0, tries=1)
    bodies, _ = fetch_all(["http://web6.local.test:{port}/"])
    assert bodies[0]["remote_ip"] == "::1"
    assert bodies[0]["host"].startswith("web6.local.test:")
    assert strict_server.queries == []


@pytest.mark.skipif(not IPV6, reason=NO_IPV6)
def test_http_client_dual_stack_name(configured: Callable[..., None], resolvconf: str,
                                     strict_server: FaultServer,
                                     hosts_file: Callable[[str], None]) -> None:
    hosts_file("127.0.0.1 dual.local.test\n::1 dual.local.test\n")
    options = dict(servers=[strict_server.address], resolvconf_path=resolvconf, lookups="fb",
                   timeout=1.0, tries=1)
    configured(**options)
    # the resolver gives both families for the dual-stack name
    resolver = bt.TornadoResolver(**options)
    both = run(lambda: resolver.resolve("dual.local.test", 80))
    resolver.close()
    assert sorted(addresses(both)) == [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]
    bodies, _ = fetch_all(["http://dual.local.test:{port}/"])
    # the client connects to the first address in c-ares' (RFC 6724) order
    assert bodies[0]["remote_ip"] == ("::1" if both[0][0] == socket.AF_INET6 else "127.0.0.1")
    assert strict_server.queries == []


def test_http_client_through_dns(configured: Callable[..., None], resolvconf: str,
                                 strict_server: FaultServer) -> None:
    # A and AAAA records from a DNS server; the HTTP server listens on 127.0.0.1 (and ::1).
    serve(strict_server, "web.dns.test", "A", "127.0.0.1")
    serve(strict_server, "web.dns.test", "AAAA", "::1")
    configured(servers=[strict_server.address], resolvconf_path=resolvconf, lookups="b", timeout=1.0,
               tries=1)
    bodies, _ = fetch_all(["http://web.dns.test:{port}/"])
    # with ::1 listening the client connects there first (RFC 6724 puts ::1 first); without,
    # it falls back to 127.0.0.1 at once
    assert bodies[0]["remote_ip"] in (("127.0.0.1", "::1") if IPV6 else ("127.0.0.1",))
    asked = {(q.qname.lower(), q.qtype) for q in strict_server.queries}
    assert {("web.dns.test", 1), ("web.dns.test", 28)} <= asked  # both families asked (AF_UNSPEC)


# -- the socket module's rules: numeric hosts, bad names, the hosts file (issue 11, item 8) --------
# TornadoResolver shapes its answers with the blocking helpers' code (pycares_ng.blocking), so
# what the C library takes for an address is one, names glibc would not send fail at once, and
# hosts-file names follow glibc's rules -- as tornado's DefaultLoopResolver (socket.getaddrinfo).

NUMERIC_HOSTS = ["127.1", "0x7f.1", "0177.0.0.1", "2130706433", "0x7f000001", "127.0.0.1", "::1",
                 "::ffff:127.0.0.1"]
FAMILIES = [socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6]


async def outcome(resolve: Callable[..., Awaitable[Any]], *args: Any) -> List[Any]:
    try:
        return ["ok", [(int(family), sockaddr) for family, sockaddr in await resolve(*args)]]
    except Exception as exc:
        return [type(exc).__name__, exc.args]


def test_numeric_hosts_as_default_loop_resolver(resolvconf: str, server: FaultServer) -> None:
    """inet_aton's forms (127.1, 0x7f.1, octal, one number) are addresses, never names to send;
    the family checks are the C library's. DefaultLoopResolver makes no lookup for them either."""
    ours = bt.TornadoResolver(servers=[server.address], resolvconf_path=resolvconf, timeout=1.0, tries=1)
    theirs = tornado.netutil.DefaultLoopResolver()

    async def main() -> List[Tuple[Any, Any, Any]]:
        return [((host, family), await outcome(ours.resolve, host, 80, family),
                 await outcome(theirs.resolve, host, 80, family))
                for host in NUMERIC_HOSTS for family in FAMILIES]

    results = run(main, timeout=10.0)
    ours.close()
    different = [(case, a, b) for case, a, b in results if a != b]
    assert not different, different
    assert dict((case, a) for case, a, _ in results)[("0x7f.1", socket.AF_INET)] == [
        "ok", [(int(socket.AF_INET), ("127.0.0.1", 80))]]
    assert server.queries == []


def test_bad_names_fail_without_a_query(resolvconf: str, server: FaultServer) -> None:
    """Names glibc's res_hnok() refuses are EAI_NONAME at once (glibc sends none of them; see
    test_same_as_default_loop_resolver_in_private_namespace for the comparison with it), as the
    blocking helpers say on the same configuration."""
    options = dict(servers=[server.address], resolvconf_path=resolvconf, timeout=1.0, tries=1)
    ours = bt.TornadoResolver(**options)
    names = ["bad name.test", "-bad.example.test", "bad!.example.test", "tab\there.test"]

    async def main() -> List[Any]:
        return [await outcome(ours.resolve, name, 80, family) for name in names for family in FAMILIES]

    results = run(main)
    ours.close()
    pycares_ng.blocking.configure(**options)
    try:
        helpers = []
        for name in names:
            for family in FAMILIES:
                with pytest.raises(socket.gaierror) as info:
                    pycares_ng.getaddrinfo(name, 80, family, socket.SOCK_STREAM)
                helpers.append(["gaierror", info.value.args])
    finally:
        pycares_ng.blocking.configure()
    assert results == helpers
    assert all(args[0] == socket.EAI_NONAME for _, args in results)
    assert server.queries == []


DEBIAN_HOSTS_LINES = ("127.0.0.1\tlocalhost\n"
                      "127.0.1.1\tdebian-host.test debian-host\n"
                      "::1\tlocalhost ip6-localhost ip6-loopback\n"
                      "ff02::1\tip6-allnodes\n"
                      "ff02::2\tip6-allrouters\n")


def test_debian_hosts_file_as_glibc(resolvconf: str, strict_server: FaultServer,
                                    hosts_file: Callable[[str], None]) -> None:
    """Debian's default hosts file (CARES_HOSTS): glibc reads the ::1 line as 127.0.0.1 for an
    IPv4 lookup, so ``resolve("ip6-localhost", 80, AF_INET)`` is 127.0.0.1 (c-ares alone finds
    nothing there and asks DNS), and "localhost" is 127.0.0.1 twice -- what DefaultLoopResolver
    gives under that /etc/hosts (test_same_as_default_loop_resolver_in_private_namespace checks
    it against glibc itself) and what the blocking helpers give here."""
    hosts_file(DEBIAN_HOSTS_LINES)
    options = dict(servers=[strict_server.address], resolvconf_path=resolvconf, lookups="fb",
                   timeout=1.0, tries=1)
    ours = bt.TornadoResolver(**options)
    names = ["ip6-localhost", "ip6-loopback", "localhost", "LocalHost", "debian-host", "ip6-allnodes"]

    async def main() -> List[Any]:
        return [await outcome(ours.resolve, name, 80, family) for name in names for family in FAMILIES]

    results = dict(zip([(n, f) for n in names for f in FAMILIES], run(main)))
    ours.close()
    v4, v6 = int(socket.AF_INET), int(socket.AF_INET6)
    assert results[("ip6-localhost", socket.AF_INET)] == ["ok", [(v4, ("127.0.0.1", 80))]]
    assert results[("ip6-loopback", socket.AF_INET)] == ["ok", [(v4, ("127.0.0.1", 80))]]
    assert results[("ip6-localhost", socket.AF_UNSPEC)] == ["ok", [(v6, ("::1", 80, 0, 0))]]
    assert results[("localhost", socket.AF_INET)] == ["ok", [(v4, ("127.0.0.1", 80))] * 2]
    pycares_ng.blocking.configure(**options)
    try:
        for (name, family), result in results.items():
            try:
                helper = ["ok", [(int(f), a) for f, _, _, _, a in
                                 pycares_ng.getaddrinfo(name, 80, family, socket.SOCK_STREAM)]]
            except OSError as exc:
                helper = [type(exc).__name__, exc.args]
            assert result == helper, (name, family)
    finally:
        pycares_ng.blocking.configure()
    # the names of the ::1 line were answered from the file, for every family
    asked = {q.qname.lower() for q in strict_server.queries}
    assert not asked & {"ip6-localhost", "ip6-loopback", "localhost"}, asked


@pytest.mark.parametrize("hosts", ["test", "debian"])
def test_same_as_default_loop_resolver_in_private_namespace(tmp_path: Any, hosts: str) -> None:
    """TornadoResolver and tornado's DefaultLoopResolver (glibc) side by side in a private
    network + mount namespace: NSD's names on 127.0.0.1:53, the numeric forms and bad names
    above, and a hosts file bind-mounted over /etc/hosts -- the test's own, or exactly Debian's
    default one (tests/netns_tornado.py, as tests/netns_compare.py for the blocking helpers)."""
    import json
    import subprocess
    from pathlib import Path

    import netns
    import netns_compare

    reason = netns.unavailable_reason()
    if reason:
        pytest.skip(f"no private network namespace here: {reason}")
    script = Path(__file__).resolve().parent / "netns_tornado.py"
    env = {k: v for k, v in netns.env().items() if k != "CARES_HOSTS"}
    proc = subprocess.run(netns.command(str(script), "--hosts", hosts), env=env, capture_output=True,
                          text=True, timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["version"] == pycares_ng.ARES_VERSION and report["hosts"] == hosts
    assert report["cases"] > 200
    assert netns_compare.problems(report) == []
    assert len(report["order_only"]) <= 5, report["order_only"]
