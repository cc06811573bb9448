"""Conformance tests every pycares_ng backend passes: :class:`BackendConformance`.

The class holds pytest-style ``test_*`` methods that exercise a backend's ``Resolver`` through a
:class:`~pycares_ng.testing.FaultServer` it starts on loopback for every test (and stops after
it), so they need no fixture from your ``conftest.py``, never touch the network and never read
the machine's ``/etc/resolv.conf``. Every backend, shipped or third-party, is held to the same
behaviour by subclassing it in a test module::

    # tests/test_my_backend.py
    import pycares_ng.backends
    from pycares_ng.testing.backend import BackendConformance


    class TestMyBackend(BackendConformance):
        backend_name = "mine"          # the name of its entry point in "pycares_ng.backends"

        # Optional: how a Resolver is made (the default shown).
        def make_resolver(self, **channel_options):
            return pycares_ng.backends.get(self.backend_name).Resolver(**channel_options)

        # Backend-specific tests go here too; self.server is the running FaultServer and
        # self.new_resolver(**options) a Resolver pointed at it, closed after the test.

The tests use the backend's public interface only: the request methods, ``wait(future,
timeout)``, ``abandon(future)``, ``cancel()``, ``close()``, ``pending``, ``closed`` and
``submit()``. A Resolver whose ``is_async`` is true has a coroutine ``wait``; the tests run it
with :meth:`BackendConformance.run`, by default ``type(resolver).run(main)`` (a new loop each
time); a subclass whose resolvers are bound to one loop overrides ``run``.

A subclass that needs its own set-up (an event loop…) overrides ``setup_method`` /
``teardown_method`` and calls ``super()``'s. Class attributes tune the defaults:
``channel_timeout`` and ``channel_tries`` (passed to every Resolver), ``wait_timeout`` (the bound
given to ``wait``) and ``zone`` (the suffix of every name the tests ask for).
"""
from __future__ import annotations

import os
import socket
import tempfile
import time
from typing import Any, Awaitable, Callable, List, Optional, Set, Tuple, Type, TypeVar

import pycares_ng
from pycares_ng import AresError
from pycares_ng.backends.base import ChannelOptionError

from .faultserver import FaultServer, mx_rdata

__all__ = ["BackendConformance"]

E = TypeVar("E", bound=BaseException)


def _raises(kind: Type[E], call: Callable[[], Any], message: str) -> E:
    """The ``kind`` exception ``call()`` raises; AssertionError(message) if it returns."""
    try:
        call()
    except kind as exc:
        return exc
    raise AssertionError(message)


class BackendConformance:
    """Mixin of conformance tests; subclass it with ``backend_name`` and ``wait`` set."""

    #: The backend's registry name (entry point name in the ``pycares_ng.backends`` group).
    backend_name: str = ""
    #: Channel ``timeout`` (seconds per try) and ``tries`` for resolvers made by the tests.
    channel_timeout: float = 1.0
    channel_tries: int = 2
    #: The bound given to :meth:`wait` for one answer.
    wait_timeout: float = 5.0
    #: The zone the tests' names live in (the FaultServer answers any name).
    zone: str = "conformance.test"

    server: FaultServer
    _resolvconf: str
    _resolvers: List[Any]

    # -- hooks -------------------------------------------------------------------------------------

    def wait(self, resolver: Any, future: Any, timeout: float) -> Any:
        """Run the backend's loop until ``future`` is done; return its result or raise its error.
        Default: the Resolver's own ``wait(future, timeout)`` (:meth:`resolver_wait`)."""
        return self.resolver_wait(resolver, future, timeout)

    def run(self, resolver: Any, main: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``main()`` on the loop of an ``is_async`` resolver and return what it returns."""
        return type(resolver).run(main)

    def resolver_wait(self, resolver: Any, future: Any, timeout: Optional[float]) -> Any:
        """``resolver.wait(future, timeout)``: called, or for an ``is_async`` resolver run by
        :meth:`run`."""
        if resolver.is_async:
            return self.run(resolver, lambda: resolver.wait(future, timeout))
        return resolver.wait(future, timeout)

    def make_resolver(self, **channel_options: Any) -> Any:
        """A new Resolver of the backend under test, with these Channel options."""
        import pycares_ng.backends

        if not self.backend_name:
            raise NotImplementedError(f"{type(self).__name__} must set backend_name")
        return pycares_ng.backends.get(self.backend_name).Resolver(**channel_options)

    # -- set-up --------------------------------------------------------------------------------------

    def setup_method(self, method: Any = None) -> None:
        self._resolvers = []
        fd, self._resolvconf = tempfile.mkstemp(prefix="pycares-ng-conformance-", suffix=".conf")
        os.close(fd)  # empty: no nameserver, no search list from the machine
        self.server = FaultServer().start()

    def teardown_method(self, method: Any = None) -> None:
        try:
            for resolver in reversed(self._resolvers):
                resolver.close()
        finally:
            self._resolvers = []
            self.server.stop()
            os.unlink(self._resolvconf)

    def new_resolver(self, **options: Any) -> Any:
        """:meth:`make_resolver` on the FaultServer only (isolated from the system's
        configuration), with small timeouts; closed at teardown. ``options`` override the
        defaults."""
        channel_options = {
            "servers": [self.server.address],
            "resolvconf_path": self._resolvconf,
            "timeout": self.channel_timeout,
            "tries": self.channel_tries,
        }
        channel_options.update(options)
        resolver = self.make_resolver(**channel_options)
        self._resolvers.append(resolver)
        return resolver

    def resolve(self, resolver: Any, future: Any, timeout: Optional[float] = None) -> Any:
        """:meth:`wait` with the default bound."""
        return self.wait(resolver, future, self.wait_timeout if timeout is None else timeout)

    def failure(self, resolver: Any, future: Any, timeout: Optional[float] = None) -> AresError:
        """The AresError ``future`` fails with (AssertionError if it succeeds or fails otherwise)."""
        try:
            result = self.resolve(resolver, future, timeout)
        except AresError as exc:
            return exc
        raise AssertionError(f"expected an AresError, got the result {result!r}")

    def expect_wait_timeout(self, resolver: Any, future: Any, timeout: float) -> float:
        """``resolver.wait(future, timeout)`` must raise TimeoutError; how long it took."""
        start = time.monotonic()
        try:
            self.resolver_wait(resolver, future, timeout)
        except TimeoutError:
            return time.monotonic() - start
        raise AssertionError("wait() must raise TimeoutError when the timeout runs out")

    def fqdn(self, label: str) -> str:
        """``label`` in :attr:`zone`."""
        return f"{label}.{self.zone}"

    # -- queries -----------------------------------------------------------------------------------

    def test_query_a(self) -> None:
        name = self.fqdn("a")
        self.server.add_record(name, "A", "192.0.2.10", ttl=120)
        self.server.add_record(name, "A", "192.0.2.11", ttl=120)
        r = self.new_resolver()
        result = self.resolve(r, r.query(name, pycares_ng.QUERY_TYPE_A))
        assert isinstance(result, list)
        assert sorted(x.host for x in result) == ["192.0.2.10", "192.0.2.11"]
        assert all(isinstance(x, pycares_ng.ares_query_a_result) and x.ttl == 120 for x in result)

    def test_query_aaaa(self) -> None:
        name = self.fqdn("aaaa")
        self.server.add_record(name, "AAAA", "2001:db8::10", ttl=60)
        r = self.new_resolver()
        result = self.resolve(r, r.query(name, pycares_ng.QUERY_TYPE_AAAA))
        assert [(x.host, x.ttl) for x in result] == [("2001:db8::10", 60)]

    def test_query_txt(self) -> None:
        name = self.fqdn("txt")
        self.server.add_record(name, "TXT", "v=conformance")
        r = self.new_resolver()
        result = self.resolve(r, r.query(name, pycares_ng.QUERY_TYPE_TXT))
        assert [x.text for x in result] == ["v=conformance"]

    def test_query_mx(self) -> None:
        name = self.fqdn("mx")
        self.server.add_record(name, "MX", mx_rdata(10, self.fqdn("mail1")))
        self.server.add_record(name, "MX", mx_rdata(20, self.fqdn("mail2")))
        r = self.new_resolver()
        result = self.resolve(r, r.query(name, pycares_ng.QUERY_TYPE_MX))
        assert sorted((x.priority, x.host) for x in result) == [
            (10, self.fqdn("mail1")), (20, self.fqdn("mail2"))]

    def test_query_type_by_name(self) -> None:
        name = self.fqdn("byname")
        self.server.add_record(name, "A", "192.0.2.12")
        self.server.add_record(name, "AAAA", "2001:db8::12")
        r = self.new_resolver()
        a = self.resolve(r, r.query(name, "A"))
        aaaa = self.resolve(r, r.query(name, "aaaa"))
        assert [x.host for x in a] == ["192.0.2.12"]
        assert [x.host for x in aaaa] == ["2001:db8::12"]

    def test_query_unknown_type_name(self) -> None:
        r = self.new_resolver()
        exc = _raises(ValueError, lambda: r.query(self.fqdn("x"), "NOT-A-TYPE"),
                      "an unknown type name must raise ValueError")
        assert "NOT-A-TYPE" in str(exc)

    def test_query_dns_whole_message(self) -> None:
        name = self.fqdn("msg")
        self.server.add_record(name, "MX", mx_rdata(5, self.fqdn("mx-target")), ttl=77)
        r = self.new_resolver()
        message = self.resolve(r, r.query_dns(name, "MX"))
        assert isinstance(message, pycares_ng.ares_dns_message_result)
        assert message.rcode == 0
        assert len(message.answer) == 1
        record = message.answer[0]
        assert (record.name, record.type, record.ttl) == (name, pycares_ng.QUERY_TYPE_MX, 77)
        assert (record.data.priority, record.data.host) == (5, self.fqdn("mx-target"))

    def test_search_domains(self) -> None:
        self.server.add_record(self.fqdn("srch"), "A", "192.0.2.13")
        r = self.new_resolver(domains=[self.zone])
        result = self.resolve(r, r.search("srch", "A"))
        assert [x.host for x in result] == ["192.0.2.13"]

    def test_result_conversion(self) -> None:
        # Resolver.submit(method, *args, convert=...) shapes results for the loop: the converted
        # value reaches the future, and a conversion error reaches the caller.
        name = self.fqdn("convert")
        self.server.add_record(name, "A", "192.0.2.14")
        r = self.new_resolver()
        hosts = self.resolve(r, r.submit(r.channel.query, name, pycares_ng.QUERY_TYPE_A,
                                         convert=lambda result: [x.host for x in result]))
        assert hosts == ["192.0.2.14"]

        def broken(result: Any) -> Any:
            raise ZeroDivisionError("conversion bug")

        future = r.submit(r.channel.query, name, pycares_ng.QUERY_TYPE_A, convert=broken)
        exc = _raises(ZeroDivisionError, lambda: self.resolve(r, future), "a conversion error must reach the caller")
        assert "conversion bug" in str(exc)

    def test_query_class_by_name(self) -> None:
        name = self.fqdn("class")
        self.server.add_record(name, "A", "192.0.2.22")
        r = self.new_resolver(domains=[self.zone])
        for qclass in ("IN", "in", pycares_ng.QUERY_CLASS_IN, None):
            assert [x.host for x in self.resolve(r, r.query(name, "A", qclass))] == ["192.0.2.22"]
            assert self.server.queries[-1].qclass == 1
        assert [x.host for x in self.resolve(r, r.search("class", "A", "IN"))] == ["192.0.2.22"]
        message = self.resolve(r, r.query_dns(name, "A", "IN"))
        assert [rec.data.host for rec in message.answer] == ["192.0.2.22"]
        message = self.resolve(r, r.search_dns("class", "A", "in"))
        assert [rec.data.host for rec in message.answer] == ["192.0.2.22"]
        try:
            self.resolve(r, r.query(name, "A", "CHAOS"))
        except AresError:
            pass  # the server may refuse other classes; what matters is what was asked
        assert self.server.queries[-1].qclass == pycares_ng.QUERY_CLASS_CHAOS
        asked = len(self.server.queries)
        for method in (r.query, r.search, r.query_dns, r.search_dns):
            exc = _raises(ValueError, lambda: method(name, "A", "NOPE"),
                          "an unknown class name must raise ValueError")
            assert "NOPE" in str(exc)
        assert len(self.server.queries) == asked and r.pending == 0  # nothing was sent

    def test_search_dns_whole_message(self) -> None:
        self.server.add_record(self.fqdn("srchmsg"), "TXT", "found")
        r = self.new_resolver(domains=[self.zone])
        message = self.resolve(r, r.search_dns("srchmsg", "TXT"))
        assert isinstance(message, pycares_ng.ares_dns_message_result)
        assert [(rec.name, rec.data.text) for rec in message.answer] == [(self.fqdn("srchmsg"), "found")]

    # -- options -----------------------------------------------------------------------------------

    def test_driver_options_are_refused(self) -> None:
        for option, value in (("sock_state_cb", lambda fd, r, w: None), ("event_thread", True),
                              ("event_thread", False)):
            exc = _raises(ChannelOptionError, lambda: self.new_resolver(**{option: value}),
                          f"{option}= must be refused")
            # one error for every backend: both a TypeError and a ValueError, naming the option
            assert isinstance(exc, TypeError) and isinstance(exc, ValueError)
            assert repr(option) in str(exc) and "drives the channel itself" in str(exc)

    def test_unknown_option_is_a_type_error(self) -> None:
        exc = _raises(TypeError, lambda: self.new_resolver(no_such_option=1),
                      "an unknown Channel option must raise TypeError")
        assert "no_such_option" in str(exc)

    # -- wait(), abandon(): one request at a time ----------------------------------------------------

    def test_wait_timeout_gives_up_on_that_request_only(self) -> None:
        silent, slow = self.fqdn("wait-silent"), self.fqdn("wait-slow")
        self.server.rules[silent] = "drop"
        self.server.add_record(slow, "A", "192.0.2.23")
        self.server.delay = 0.6  # the other request is still in flight when the wait gives up
        r = self.new_resolver(timeout=5.0, tries=1)
        hung, other = r.query(silent, "A"), r.query(slow, "A")
        elapsed = self.expect_wait_timeout(r, hung, 0.2)
        assert 0.15 <= elapsed < 1.5, elapsed
        # the other request was not cancelled: its answer arrives
        assert [x.host for x in self.resolver_wait(r, other, self.wait_timeout)] == ["192.0.2.23"]
        assert r.pending == 1  # the abandoned request runs on to its own end in c-ares
        assert not r.closed

    def test_wait_timeout_of_the_only_request(self) -> None:
        silent = self.fqdn("only-silent")
        self.server.rules[silent] = "drop"
        r = self.new_resolver(timeout=5.0, tries=1)
        self.expect_wait_timeout(r, r.query(silent, "A"), 0.2)
        ok = self.fqdn("after-only")
        self.server.add_record(ok, "A", "192.0.2.24")
        assert [x.host for x in self.resolver_wait(r, r.query(ok, "A"), self.wait_timeout)] == ["192.0.2.24"]

    def test_abandon_only_that_request(self) -> None:
        silent, ok = self.fqdn("abandon-silent"), self.fqdn("abandon-ok")
        self.server.rules[silent] = "drop"
        self.server.add_record(ok, "A", "192.0.2.25")
        self.server.delay = 0.2
        r = self.new_resolver(timeout=5.0, tries=1)
        hung, kept = r.query(silent, "A"), r.query(ok, "A")
        assert r.pending == 2
        r.abandon(hung)
        assert [x.host for x in self.resolve(r, kept)] == ["192.0.2.25"]
        assert r.pending == 1
        r.abandon(kept)  # done already: nothing happens
        assert r.pending == 1

    def test_pending_and_closed(self) -> None:
        name = self.fqdn("count")
        self.server.add_record(name, "A", "192.0.2.26")
        r = self.new_resolver()
        assert (r.pending, r.closed) == (0, False)
        delay, self.server.delay = self.server.delay, 0.5  # neither may finish before it is counted
        try:
            futures = [r.query(name, "A"), r.query(name, "AAAA")]
            assert r.pending == 2
        finally:
            self.server.delay = delay
        self.resolve(r, futures[0])
        try:
            self.resolve(r, futures[1])
        except AresError:
            pass
        deadline = time.monotonic() + 2.0
        while r.pending and time.monotonic() < deadline:  # completion-driven: settles at once
            time.sleep(0.01)
        assert r.pending == 0
        r.close()
        assert r.closed

    # -- failures ----------------------------------------------------------------------------------

    def test_nxdomain(self) -> None:
        name = self.fqdn("missing")
        self.server.rules[name] = "nxdomain"
        r = self.new_resolver()
        exc = self.failure(r, r.query(name, "A"))
        assert exc.args[0] == pycares_ng.ARES_ENOTFOUND
        assert isinstance(exc.args[1], str) and exc.args[1]

    def test_servfail(self) -> None:
        name = self.fqdn("broken")
        self.server.rules[name] = "servfail"
        r = self.new_resolver(tries=1)
        exc = self.failure(r, r.query(name, "A"))
        # c-ares treats SERVFAIL as a failed server: older releases report ECONNREFUSED.
        assert exc.args[0] in (pycares_ng.ARES_ESERVFAIL, pycares_ng.ARES_ECONNREFUSED)

    def test_silent_server_times_out(self) -> None:
        name = self.fqdn("silent")
        self.server.rules[name] = "drop"
        timeout, tries = 0.2, 2
        r = self.new_resolver(timeout=timeout, tries=tries)
        # c-ares may double the timeout on each retry: 0.2 + 0.4, then slack.
        bound = sum(timeout * 2 ** i for i in range(tries)) + 2.0
        start = time.monotonic()
        exc = self.failure(r, r.query(name, "A"), timeout=bound + 3.0)
        elapsed = time.monotonic() - start
        assert exc.args[0] == pycares_ng.ARES_ETIMEOUT
        assert elapsed < bound, f"ETIMEOUT after {elapsed:.2f} s, bound {bound:.2f} s"
        assert self.server.wait_for_queries(tries, timeout=1.0)

    # -- cancel and close --------------------------------------------------------------------------

    def test_cancel(self) -> None:
        name = self.fqdn("hang")
        self.server.rules[name] = "drop"
        r = self.new_resolver(timeout=5.0, tries=1)
        futures = [r.query(name, "A"), r.gethostbyname(name), r.query(name, "TXT")]
        r.cancel()
        for future in futures:
            exc = self.failure(r, future, timeout=2.0)
            assert exc.args[0] == pycares_ng.ARES_ECANCELLED
        # The resolver keeps working after cancel().
        ok = self.fqdn("after-cancel")
        self.server.add_record(ok, "A", "192.0.2.15")
        assert [x.host for x in self.resolve(r, r.query(ok, "A"))] == ["192.0.2.15"]
        r.cancel()  # nothing pending: harmless
        assert [x.host for x in self.resolve(r, r.query(ok, "A"))] == ["192.0.2.15"]

    def test_close_with_pending(self) -> None:
        name = self.fqdn("pending")
        self.server.rules[name] = "drop"
        r = self.new_resolver(timeout=5.0, tries=1)
        futures = [r.query(name, "A"), r.getaddrinfo(name, 80)]
        r.close()
        for future in futures:
            exc = self.failure(r, future, timeout=2.0)
            assert exc.args[0] == pycares_ng.ARES_ECANCELLED
        r.close()  # idempotent
        requests: List[Callable[[], Any]] = [
            lambda: r.query(name, "A"), lambda: r.gethostbyname(name), lambda: r.getaddrinfo(name, None)]
        for request in requests:
            _raises(RuntimeError, request, "a request on a closed resolver must raise RuntimeError")

    def test_context_manager(self) -> None:
        name = self.fqdn("ctx")
        self.server.add_record(name, "A", "192.0.2.16")
        resolver = self.new_resolver()
        with resolver as r:
            assert r is resolver
            assert [x.host for x in self.resolve(r, r.query(name, "A"))] == ["192.0.2.16"]
        _raises(RuntimeError, lambda: resolver.query(name, "A"), "the context manager must close the resolver")

    # -- host lookups ------------------------------------------------------------------------------

    def test_gethostbyname(self) -> None:
        name = self.fqdn("host")
        self.server.add_record(name, "A", "192.0.2.17")
        self.server.add_record(name, "AAAA", "2001:db8::17")
        r = self.new_resolver()
        literal = self.resolve(r, r.gethostbyname("127.0.0.1", socket.AF_INET))
        assert literal.addresses == ["127.0.0.1"]
        v4 = self.resolve(r, r.gethostbyname(name, socket.AF_INET))
        assert v4.name == name and v4.addresses == ["192.0.2.17"]
        v6 = self.resolve(r, r.gethostbyname(name, socket.AF_INET6))
        assert v6.addresses == ["2001:db8::17"]

    def test_getaddrinfo(self) -> None:
        name = self.fqdn("ai")
        self.server.add_record(name, "A", "192.0.2.18", ttl=90)
        self.server.add_record(name, "AAAA", "2001:db8::18", ttl=90)
        r = self.new_resolver()

        def addresses(result: Any) -> Set[Tuple[int, str, int]]:
            return {(node.family, node.addr[0].decode() if isinstance(node.addr[0], bytes)
                     else node.addr[0], node.addr[1]) for node in result.nodes}

        literal = self.resolve(r, r.getaddrinfo("127.0.0.1", 80, family=socket.AF_INET,
                                                type=socket.SOCK_STREAM))
        assert addresses(literal) == {(socket.AF_INET, "127.0.0.1", 80)}
        v4 = self.resolve(r, r.getaddrinfo(name, 443, family=socket.AF_INET, type=socket.SOCK_STREAM))
        assert addresses(v4) == {(socket.AF_INET, "192.0.2.18", 443)}
        assert all(node.ttl == 90 for node in v4.nodes)
        both = self.resolve(r, r.getaddrinfo(name, None))
        assert addresses(both) == {(socket.AF_INET, "192.0.2.18", 0), (socket.AF_INET6, "2001:db8::18", 0)}

    def test_gethostbyaddr(self) -> None:
        self.server.add_record("19.2.0.192.in-addr.arpa", "PTR", self.fqdn("ptr"))
        r = self.new_resolver()
        result = self.resolve(r, r.gethostbyaddr("192.0.2.19"))
        assert result.name == self.fqdn("ptr")
        assert result.addresses == ["192.0.2.19"]
        assert self.server.queries[-1].qname.lower() == "19.2.0.192.in-addr.arpa"

    def test_getnameinfo(self) -> None:
        r = self.new_resolver()
        numeric = pycares_ng.ARES_NI_NUMERICHOST | pycares_ng.ARES_NI_NUMERICSERV
        result = self.resolve(r, r.getnameinfo(("127.0.0.1", 53), numeric))
        assert result.node == "127.0.0.1"
        both = (numeric | pycares_ng.ARES_NI_LOOKUPHOST | pycares_ng.ARES_NI_LOOKUPSERVICE)
        result = self.resolve(r, r.getnameinfo(("192.0.2.20", 8053), both))
        assert (result.node, result.service) == ("192.0.2.20", "8053")
        result6 = self.resolve(r, r.getnameinfo(("2001:db8::20", 80, 0, 0), both))
        # c-ares may append the scope id ("%0") to an IPv6 node.
        assert (result6.node.split("%")[0], result6.service) == ("2001:db8::20", "80")
        assert self.server.queries == []  # numeric: no DNS traffic

    # -- load --------------------------------------------------------------------------------------

    def test_many_concurrent_queries(self) -> None:
        count = 200
        r = self.new_resolver()
        names = [self.fqdn(f"n{i}") for i in range(count)]
        for i, name in enumerate(names):
            self.server.add_record(name, "A", f"198.51.100.{i % 250}")
        futures = [r.query(name, "A") for name in names]
        results = [self.resolve(r, future) for future in futures]
        assert [[x.host for x in result] for result in results] == [
            [f"198.51.100.{i % 250}"] for i in range(count)]
        assert {q.qname.lower() for q in self.server.queries} >= set(names)
