"""The gevent backend (pycares_ng.backends.gevent): the conformance tests, the driver on the
hub's loop, and GeventResolver as gevent uses it — GEVENT_RESOLVER in a monkey-patched child
process against the NSD fixture.

Loopback only: every resolver gets its servers explicitly and an empty resolv.conf (the
PYCARES_NG_RESOLVCONF variable in the child processes).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

gevent = pytest.importorskip("gevent")

import pycares_ng  # noqa: E402
import pycares_ng.backends  # noqa: E402
from pycares_ng.backends import gevent as gevent_backend  # noqa: E402
from pycares_ng.testing import FaultServer  # noqa: E402
from pycares_ng.testing.backend import BackendConformance  # noqa: E402

CHILD_TIMEOUT = 30.0


class TestGeventConformance(BackendConformance):
    backend_name = "gevent"

    def make_resolver(self, **channel_options):
        # The module itself, whether or not the entry point is installed yet (test_registered).
        return gevent_backend.Resolver(**channel_options)

    def wait(self, resolver, future, timeout):
        return future.get(timeout=timeout)

    # -- the driver on the hub's loop --------------------------------------------------------------

    def test_futures_are_async_results(self):
        from gevent.event import AsyncResult

        self.server.add_record(self.fqdn("ar"), "A", "192.0.2.30")
        r = self.new_resolver()
        future = r.query(self.fqdn("ar"), "A")
        assert isinstance(future, AsyncResult)
        assert [x.host for x in r.wait(future, 5.0)] == ["192.0.2.30"]

    def test_watchers_and_timer_follow_the_channel(self):
        name = self.fqdn("slow")
        self.server.rules[name] = "drop"
        r = self.new_resolver(timeout=5.0, tries=1)
        future = r.query(name, "A")
        gevent.sleep(0.05)  # the hub runs: socket watched, timer armed from Channel.timeout()
        driver = r.driver
        assert driver.watched and all(reading for reading, _ in driver.watched.values())
        assert driver.timer_armed
        r.cancel()
        assert self.failure(r, future, timeout=2.0).args[0] == pycares_ng.ARES_ECANCELLED
        gevent.sleep(0.01)
        assert not driver.timer_armed  # nothing pending: no timer keeps the hub's loop alive
        r.close()
        assert driver.watched == {} and not driver.timer_armed

    def test_idle_resolver_lets_the_loop_exit(self):
        self.server.add_record(self.fqdn("idle"), "A", "192.0.2.31")
        r = self.new_resolver()
        assert r.wait(r.query(self.fqdn("idle"), "A"), 5.0)
        start = time.monotonic()
        assert gevent.wait(timeout=3.0)  # True: nothing of ours keeps the loop running
        assert time.monotonic() - start < 1.0

    def test_wait_timeout_is_builtin_timeout_error(self):
        name = self.fqdn("never")
        self.server.rules[name] = "drop"
        r = self.new_resolver(timeout=5.0, tries=1)
        with pytest.raises(TimeoutError):
            r.wait(r.query(name, "A"), 0.1)

    def test_event_thread_refused(self):
        with pytest.raises(ValueError):
            gevent_backend.Resolver(servers=[self.server.address], event_thread=True)

    def test_concurrent_greenlets_overlap(self):
        # 100 greenlets, 100 names, each answer 0.3 s late: about 0.3 s in all, not 30 s.
        self.server.delay = 0.3
        names = [self.fqdn(f"c{i}") for i in range(100)]
        for i, name in enumerate(names):
            self.server.add_record(name, "A", f"198.51.100.{i}")
        r = self.new_resolver(timeout=5.0, tries=1)
        start = time.monotonic()
        jobs = [gevent.spawn(lambda n=name: r.wait(r.gethostbyname(n), 10.0).addresses) for name in names]
        gevent.joinall(jobs, timeout=10.0, raise_error=True)
        elapsed = time.monotonic() - start
        assert [job.value for job in jobs] == [[f"198.51.100.{i}"] for i in range(100)]
        assert elapsed < 3.0, f"100 lookups took {elapsed:.2f} s"


# -- GeventResolver in this process ----------------------------------------------------------------

@pytest.fixture
def empty_resolv_conf(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text("")
    return str(path)


@pytest.fixture
def no_cares_hosts(monkeypatch):
    monkeypatch.delenv("CARES_HOSTS", raising=False)


def test_gevent_resolver_concurrency(empty_resolv_conf, no_cares_hosts):
    with FaultServer(delay=0.3) as server:
        names = [f"g{i}.concurrency.test" for i in range(100)]
        for i, name in enumerate(names):
            server.add_record(name, "A", f"198.51.100.{i}")
        resolver = gevent_backend.GeventResolver(use_environ=False, servers=[server.address],
                                                 resolvconf_path=empty_resolv_conf, timeout=5.0, tries=1)
        try:
            start = time.monotonic()
            jobs = [gevent.spawn(resolver.gethostbyname, name) for name in names]
            gevent.joinall(jobs, timeout=10.0, raise_error=True)
            elapsed = time.monotonic() - start
        finally:
            resolver.close()
    assert [job.value for job in jobs] == [f"198.51.100.{i}" for i in range(100)]
    assert elapsed < 3.0, f"100 lookups took {elapsed:.2f} s"


def test_gevent_resolver_errors(dns_server, empty_resolv_conf, no_cares_hosts):
    resolver = gevent_backend.GeventResolver(use_environ=False, servers=[dns_server.address],
                                             resolvconf_path=empty_resolv_conf, timeout=1.0, tries=1)
    try:
        with pytest.raises(socket.gaierror) as info:
            resolver.getaddrinfo("missing.example.test", 80)
        assert info.value.errno == socket.EAI_NONAME
        with pytest.raises(socket.gaierror) as info:
            resolver.gethostbyname("missing.example.test")
        assert info.value.errno == socket.EAI_NONAME
        with pytest.raises(socket.herror) as hinfo:
            resolver.gethostbyaddr("192.0.2.99")
        assert hinfo.value.errno == 1  # HOST_NOT_FOUND
        with pytest.raises(socket.gaierror) as info:
            resolver.getaddrinfo("www.example.test", "no-such-service")
        assert info.value.errno == socket.EAI_SERVICE
        # the same exceptions as the blocking helpers on the same server (one shared mapping)
        pycares_ng.blocking.configure(servers=[dns_server.address], resolvconf_path=empty_resolv_conf,
                                      timeout=1.0, tries=1)
        try:
            for name, args in [("getaddrinfo", ("missing.example.test", 80)),
                               ("gethostbyname", ("missing.example.test",)),  # the fast path
                               ("gethostbyname", ("ipv6only.example.test",)),  # no IPv4: EAI_NODATA
                               ("gethostbyname", ("Missing.Example.Test.",)),
                               ("gethostbyname_ex", ("missing.example.test",)),
                               ("gethostbyaddr", ("192.0.2.99",)),
                               ("getnameinfo", (("192.0.2.99", 80), socket.NI_NAMEREQD))]:
                with pytest.raises(OSError) as ours:
                    getattr(resolver, name)(*args)
                with pytest.raises(OSError) as theirs:
                    getattr(pycares_ng.blocking, name)(*args)
                assert (type(ours.value), ours.value.args) == (type(theirs.value), theirs.value.args), name
        finally:
            pycares_ng.blocking.configure()
        assert resolver.gethostbyname("www.example.test") == "192.0.2.10"
        assert resolver.gethostbyname("dual.example.test", socket.AF_INET6) == "2001:db8::20"
        assert resolver.gethostbyname_ex("dual.example.test", socket.AF_INET6) == (
            "dual.example.test", [], ["2001:db8::20"])
    finally:
        resolver.close()
    resolver.close()  # idempotent
    with pytest.raises(RuntimeError):
        resolver.gethostbyname("www.example.test")


def test_options_from_environ():
    options = gevent_backend.channel_options_from_environ
    assert options({}) == {}
    assert options({"GEVENTARES_SERVERS": "127.0.0.1:5353,192.0.2.1", "GEVENTARES_TIMEOUT": "2.5",
                    "GEVENTARES_TRIES": "3"}) == {
        "servers": ["127.0.0.1:5353", "192.0.2.1"], "timeout": 2.5, "tries": 3}
    # ours first, then gevent's generic settings, then its ares ones
    assert options({"PYCARES_NG_SERVERS": "127.0.0.2 127.0.0.3", "GEVENT_RESOLVER_NAMESERVERS": "127.0.0.4",
                    "GEVENTARES_SERVERS": "127.0.0.5", "GEVENT_RESOLVER_TIMEOUT": "1.5",
                    "GEVENTARES_TIMEOUT": "9", "PYCARES_NG_RESOLVCONF": "/dev/null"}) == {
        "servers": ["127.0.0.2", "127.0.0.3"], "timeout": 1.5, "resolvconf_path": "/dev/null"}
    assert options({"PYCARES_NG_TIMEOUT": "0.5", "PYCARES_NG_LOOKUPS": "f"}) == {"timeout": 0.5, "lookups": "f"}


def test_registered():
    if "gevent" not in pycares_ng.backends._entry_points():
        pytest.skip("the gevent entry point is not installed yet (pyproject.toml, then reinstall)")
    info = pycares_ng.backends.available()["gevent"]
    assert info.available, info.reason
    assert pycares_ng.backends.get("gevent") is gevent_backend


# -- GEVENT_RESOLVER in a monkey-patched child process ---------------------------------------------

CHILD = r'''
import json, sys
from gevent import monkey
monkey.patch_all()
import gevent, os, socket, threading, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

out = {}
hub = gevent.get_hub()
out["resolver"] = type(hub.resolver).__module__ + "." + type(hub.resolver).__name__
out["servers"] = hub.resolver.resolver.channel.servers

def call(name, *args):
    try:
        return ["ok", getattr(socket, name)(*args)]
    except OSError as exc:
        return [type(exc).__name__, exc.errno, exc.strerror]

out["gethostbyname"] = call("gethostbyname", "www.example.test")
out["gethostbyname_ex"] = call("gethostbyname_ex", "alias.example.test")
out["getaddrinfo"] = call("getaddrinfo", "dual.example.test", 80, 0, socket.SOCK_STREAM)
out["gethostbyaddr"] = call("gethostbyaddr", "192.0.2.10")
out["getnameinfo"] = call("getnameinfo", ("192.0.2.20", 80), 0)
out["missing"] = call("getaddrinfo", "missing.example.test", 80)
out["hosts_file"] = call("gethostbyname", "web.local.test")

# an HTTP request by host name, the server in a (monkey-patched) thread
class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello over " + self.headers["Host"].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

httpd = HTTPServer(("127.0.0.1", 0), Hello)
thread = threading.Thread(target=httpd.serve_forever, daemon=True)
thread.start()
port = httpd.server_address[1]
with urllib.request.urlopen(f"http://web.local.test:{port}/", timeout=5) as reply:
    out["http"] = [reply.status, reply.read().decode()]
httpd.shutdown()

# the same answers as gevent's thread resolver (the system's) where no DNS is involved
from gevent.resolver.thread import Resolver as ThreadResolver
system = ThreadResolver(hub)
ours = hub.resolver
same = {}
cases = [
    ("getaddrinfo", ("localhost", 80, 0, socket.SOCK_STREAM)),
    ("getaddrinfo", ("localhost", None)),
    ("getaddrinfo", ("127.0.0.1", 80)),
    ("getaddrinfo", ("127.0.0.1", "http", socket.AF_INET, socket.SOCK_STREAM)),
    ("getaddrinfo", ("::1", 443, socket.AF_INET6, socket.SOCK_STREAM)),
    ("getaddrinfo", (None, 8080, 0, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)),
    ("getaddrinfo", ("192.0.2.1", 53, 0, socket.SOCK_DGRAM)),
    ("getaddrinfo", ("127.0.0.1", "no-such-service")),
    ("gethostbyname", ("localhost",)),
    ("gethostbyname", ("127.0.0.1",)),
    ("gethostbyname", ("198.51.100.3",)),
    ("gethostbyname_ex", ("127.0.0.1",)),
    ("gethostbyname_ex", ("localhost",)),
    ("getnameinfo", (("127.0.0.1", 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)),
    ("getnameinfo", (("::1", 22, 0, 0), socket.NI_NUMERICHOST)),
    ("getnameinfo", (("127.0.0.1", 80), 0)),
    ("gethostbyaddr", ("127.0.0.1",)),
]
for name, args in cases:
    results = []
    for resolver in (ours, system):
        try:
            value = getattr(resolver, name)(*args)
            if name == "getaddrinfo":
                value = [(int(f), int(k), p, c, s) for f, k, p, c, s in value]
            results.append(["ok", repr(value)])
        except OSError as exc:
            results.append([type(exc).__name__, exc.errno])
    same[repr((name, args))] = results
system.close()
out["compare"] = same

# a forked child makes a channel of its own
before = ours.resolver.channel
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    try:
        child = [socket.gethostbyname("www.example.test"), ours.resolver.channel is not before]
    except BaseException as exc:
        child = [repr(exc), False]
    os.write(write_end, json.dumps(child).encode())
    os._exit(0)
os.close(write_end)
_, status = os.waitpid(pid, 0)
out["fork_child"] = json.loads(os.read(read_end, 4096).decode())
out["fork_parent"] = [socket.gethostbyname("dual.example.test"), ours.resolver.channel is before]
print(json.dumps(out))
'''


@pytest.fixture
def child_env(dns_server, tmp_path):
    resolv_conf = tmp_path / "empty-resolv.conf"
    resolv_conf.write_text("")
    hosts = tmp_path / "hosts"
    system_hosts = Path("/etc/hosts").read_text() if Path("/etc/hosts").exists() else "127.0.0.1 localhost\n"
    # the machine's hosts file (gevent's thread resolver reads it) plus a name of the test's own
    hosts.write_text(system_hosts + "\n127.0.0.1 web.local.test\n")
    env = dict(os.environ)
    for key in list(env):
        if key.startswith(("GEVENT", "PYCARES_NG_")) or key == "CARES_HOSTS":
            del env[key]
    env.update({
        "GEVENT_RESOLVER": "pycares_ng.backends.gevent.GeventResolver",
        "PYCARES_NG_SERVERS": dns_server.address,
        "PYCARES_NG_RESOLVCONF": str(resolv_conf),
        "PYCARES_NG_TIMEOUT": "1.0",
        "PYCARES_NG_TRIES": "2",
        "CARES_HOSTS": str(hosts),
        "no_proxy": "*", "NO_PROXY": "*",
    })
    for key in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(key, None)
    return env


KNOWN_NEWER_CARES_DIFFERENCES = [
    "('getaddrinfo', ('localhost', 80, 0, <SocketKind.SOCK_STREAM: 1>))",
    "('getaddrinfo', ('localhost', None))",
    "('gethostbyname_ex', ('localhost',))",
    "('gethostbyaddr', ('127.0.0.1',))",
]


def pycares_ng_cares_version(env: dict) -> tuple:
    return tuple(int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2])


def run_child(script: str, env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT, cwd=tempfile.gettempdir())
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_gevent_resolver_setting_in_patched_child(child_env, dns_server):
    out = run_child(CHILD, child_env)
    assert out["resolver"] == "pycares_ng.backends.gevent.GeventResolver"
    assert out["servers"] == [dns_server.address]
    # names only the NSD knows: resolved through pycares_ng, with socket's shapes
    assert out["gethostbyname"] == ["ok", "192.0.2.10"]
    assert out["gethostbyname_ex"] == ["ok", ["www.example.test", ["alias.example.test"], ["192.0.2.10"]]]
    status, infos = out["getaddrinfo"]
    assert status == "ok"
    assert sorted((family, sockaddr[0], sockaddr[1]) for family, kind, proto, _, sockaddr in infos) == [
        (int(socket.AF_INET), "192.0.2.20", 80), (int(socket.AF_INET6), "2001:db8::20", 80)]
    assert all(kind == int(socket.SOCK_STREAM) for _, kind, _, _, _ in infos)
    assert out["gethostbyaddr"] == ["ok", ["www.example.test", [], ["192.0.2.10"]]]
    assert out["getnameinfo"] == ["ok", ["dual.example.test", "http"]]
    assert out["missing"][:2] == ["gaierror", socket.EAI_NONAME]
    assert out["hosts_file"] == ["ok", "127.0.0.1"]
    status, body = out["http"]
    assert status == 200 and body.startswith("hello over web.local.test:")
    # literal addresses and localhost: what gevent's thread resolver (the system) answers
    different = {case: results for case, results in out["compare"].items() if results[0] != results[1]}
    if pycares_ng_cares_version(child_env) >= (1, 22):
        # Known differences of pycares_ng itself (its blocking helpers give the same) on newer
        # c-ares, with a hosts file that has 127.0.0.1 under several names and no ::1 line:
        # c-ares adds ::1 for "localhost", and merges the aliases of every line of an address.
        for case in KNOWN_NEWER_CARES_DIFFERENCES:
            different.pop(case, None)
    assert not different, different
    assert len(out["compare"]) == 17
    # fork: the child made its own channel and resolved; the parent kept its own
    assert out["fork_child"] == ["192.0.2.10", True]
    assert out["fork_parent"] == ["192.0.2.20", True]


GEVENTARES_CHILD = r'''
import json
from gevent import monkey
monkey.patch_all()
import gevent, socket
r = gevent.get_hub().resolver
print(json.dumps([type(r).__name__, r.resolver.channel.servers, socket.gethostbyname("www.example.test")]))
'''


def test_geventares_variables_in_child(child_env, dns_server):
    env = dict(child_env)
    del env["PYCARES_NG_SERVERS"]
    env["GEVENTARES_SERVERS"] = dns_server.address
    assert run_child(GEVENTARES_CHILD, env) == ["GeventResolver", [dns_server.address], "192.0.2.10"]


# -- the same as the socket module (glibc), hosts file over /etc/hosts ----------------------------

@pytest.mark.parametrize("hosts", ["test", "debian"])
def test_gevent_resolver_same_as_socket_module(tmp_path, hosts):
    """GeventResolver (what gevent's monkey-patched socket module calls) and the socket module
    (glibc), side by side in a private network + mount namespace: NSD's names on 127.0.0.1:53,
    and a hosts file bind-mounted over /etc/hosts -- the test's own, or exactly Debian's default
    one, whose "::1 localhost ip6-localhost ip6-loopback" line glibc reads as 127.0.0.1 for IPv4
    lookups (tests/netns_compare.py, as test_blocking does for the blocking helpers)."""
    import netns
    import netns_compare

    reason = netns.unavailable_reason()
    if reason:
        pytest.skip(f"no private network namespace here: {reason}")
    report = netns_compare.run(hosts, "gevent", cwd=tmp_path)
    assert report["version"] == pycares_ng.ARES_VERSION
    assert report["cases"] > 200
    assert netns_compare.problems(report) == []
    assert len(report["order_only"]) <= 5, report["order_only"]


# -- the caller's exceptions are the caller's (issue 11, item 6) ------------------------------------
# Only the resolver's own timeouts (the channel's, and wait(timeout=)) become lookup errors; a
# gevent.Timeout the caller started, GreenletExit from kill() and the like propagate unchanged out
# of every lookup path, and the request the caller stopped waiting for is dropped: its callback
# still runs once, nothing stays pending, the channel keeps working.

INTERRUPT_CHILD = r'''
import json, sys, time
from gevent import monkey
monkey.patch_all()
import gevent, socket
from gevent import GreenletExit

mode = sys.argv[1]  # "answer": the server answers every name; "drop": it never answers
LIMIT = 3.0  # a loop that nothing interrupts ends here (before the fix it looped on and on)
hub = gevent.get_hub()
ours = hub.resolver
resolvers = [ours.resolver, ours._current().files_resolver()]  # the channels underneath
counts = {"submitted": 0, "completed": 0}

def count(resolver):
    submit, driver = resolver._submit, resolver.driver
    set_result, set_exception = driver.set_result, driver.set_exception
    def counted_submit(*args, **kwargs):
        counts["submitted"] += 1
        return submit(*args, **kwargs)
    def counted_result(future, value):
        counts["completed"] += 1
        set_result(future, value)
    def counted_exception(future, error):
        counts["completed"] += 1
        set_exception(future, error)
    resolver._submit = counted_submit
    driver.set_result, driver.set_exception = counted_result, counted_exception

for r in resolvers:
    count(r)

def pending():
    return sum(r.pending for r in resolvers)

def settle():
    """Requests nobody waits for end by themselves (the channel's timeout at the latest)."""
    deadline = time.monotonic() + 3.0
    while pending() and time.monotonic() < deadline:
        gevent.sleep(0.01)
    return pending()

serial = iter(range(1, 10**6))
def name():  # never the same name twice: no answer can come from a cache without waiting
    return f"n{next(serial)}.loop.test"
def address():
    n = next(serial)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"

CALLS = {
    "gethostbyname": lambda: socket.gethostbyname(name()),  # the fast path
    "gethostbyname_ex": lambda: socket.gethostbyname_ex(name()),
    "getaddrinfo": lambda: socket.getaddrinfo(name(), 80),
    "getaddrinfo_inet6": lambda: socket.getaddrinfo(name(), 80, socket.AF_INET6, socket.SOCK_STREAM),
    "gethostbyaddr": lambda: socket.gethostbyaddr(address()),
    "getnameinfo": lambda: socket.getnameinfo((address(), 80), 0),
}

def ended_by(exc, expected):
    if exc is expected:
        return "the caller's"
    return f"{type(exc).__module__}.{type(exc).__name__}: {exc!r}"

def under_timeout(call, exception=None, swallow=OSError):
    """``try: call() except swallow: pass`` in a loop, in ``with gevent.Timeout(0.2, exception)``."""
    lookups = 0
    start = time.monotonic()
    timer = gevent.Timeout(0.2, exception)
    expected = timer if exception is None else exception
    timer.start()
    try:
        while time.monotonic() - start < LIMIT:
            try:
                call()
            except swallow:
                pass
            lookups += 1
        ended = "not interrupted"
    except BaseException as exc:
        ended = ended_by(exc, expected)
    finally:
        timer.close()
    elapsed = time.monotonic() - start
    return {"ended": ended, "elapsed": elapsed, "lookups": lookups, "pending": settle()}

def killed(call):
    """A greenlet looping ``try: call() except OSError: pass``, killed (GreenletExit) while it waits."""
    def loop():
        while True:
            try:
                call()
            except OSError:
                pass
    g = gevent.spawn(loop)
    gevent.sleep(0.05)
    waiting = pending()
    start = time.monotonic()
    g.kill(block=True, timeout=2.0)
    elapsed = time.monotonic() - start
    outcome = ("GreenletExit" if isinstance(g.value, GreenletExit)
               else f"value {g.value!r}, exception {g.exception!r}, dead {g.dead}")
    return {"ended": outcome, "elapsed": elapsed, "waiting": waiting, "pending": settle()}

def interrupted(call):
    """The same loop in the main greenlet, and SIGINT (KeyboardInterrupt) after 0.1 s."""
    import os, signal
    # A process started in the background inherits SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler: install it, so the test does not depend on how it was launched.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    start = time.monotonic()
    gevent.spawn_later(0.1, os.kill, os.getpid(), signal.SIGINT)
    try:
        while time.monotonic() - start < LIMIT:
            try:
                call()
            except OSError:
                pass
        ended = "not interrupted"
    except KeyboardInterrupt:
        ended = "KeyboardInterrupt"
    except BaseException as exc:
        ended = repr(exc)
    return {"ended": ended, "elapsed": time.monotonic() - start, "pending": settle()}

out = {"loops": {}, "kills": {}}
for label, call in CALLS.items():
    out["loops"][label] = under_timeout(call)
    out["kills"][label] = killed(call)
out["sigint"] = interrupted(CALLS["getaddrinfo"])
# a Timeout told to raise an exception of the caller's, even a TimeoutError (an OSError)
mine = TimeoutError("the caller's own TimeoutError")
out["loops"]["own exception"] = under_timeout(CALLS["getaddrinfo"], mine, socket.gaierror)

def outcome(call):
    start = time.monotonic()
    try:
        with gevent.Timeout(5.0):
            value = ["ok", call()]
    except OSError as exc:
        value = [type(exc).__name__, exc.errno, isinstance(exc, TimeoutError)]
    except BaseException as exc:
        value = [repr(exc)]
    return value + [round(time.monotonic() - start, 2)]

# afterwards: the channel works; the resolver's own (channel) timeout is an error as before
jobs = {label: gevent.spawn(outcome, call) for label, call in [
    ("gethostbyname", lambda: socket.gethostbyname("after.loop.test")),
    ("getaddrinfo", lambda: socket.getaddrinfo("after.loop.test", 80, socket.AF_INET, socket.SOCK_STREAM)),
    ("gethostbyaddr", lambda: socket.gethostbyaddr("192.0.2.254")),
]}
gevent.joinall(list(jobs.values()), timeout=10.0)
out["after"] = {label: job.value for label, job in jobs.items()}
out["pending"] = settle()
out["counts"] = counts
print(json.dumps(out))
'''


@pytest.mark.parametrize("mode", ["answer", "drop"])
def test_callers_exceptions_propagate_in_patched_child(child_env, mode):
    """Lookups looped under ``with gevent.Timeout(0.2)``, swallowing OSError (as code written for
    the socket module does), through every path of the monkey-patched socket module: the Timeout
    must end the loop at 0.2 s, not be turned into a socket error (it was: such a loop ran on for
    good). The same with GreenletExit from kill() while a lookup waits, and with KeyboardInterrupt
    (SIGINT)."""
    with FaultServer(mode=mode) as server:
        env = dict(child_env, PYCARES_NG_SERVERS=server.address, PYCARES_NG_TIMEOUT="1.0",
                   PYCARES_NG_TRIES="1")
        out = run_child(INTERRUPT_CHILD.replace("sys.argv[1]", repr(mode)), env)
    for label, loop in out["loops"].items():
        assert loop["ended"] == "the caller's", (label, loop)
        assert loop["elapsed"] < 0.8, (label, loop)
        assert loop["pending"] == 0, (label, loop)
        if mode == "answer":
            assert loop["lookups"] > 0, (label, loop)  # answers came, then the timer struck
    for label, kill in out["kills"].items():
        assert kill["ended"] == "GreenletExit", (label, kill)
        assert kill["elapsed"] < 0.5 and kill["pending"] == 0, (label, kill)
        if mode == "drop":
            assert kill["waiting"] >= 1, (label, kill)  # killed while its request was pending
    sigint = out["sigint"]
    assert sigint["ended"] == "KeyboardInterrupt" and sigint["elapsed"] < 0.8 and sigint["pending"] == 0, sigint
    after = out["after"]
    if mode == "answer":
        assert after["gethostbyname"][:2] == ["ok", "192.0.2.1"]
        assert after["getaddrinfo"][:2] == ["ok", [[int(socket.AF_INET), int(socket.SOCK_STREAM), 6, "",
                                                    ["192.0.2.1", 80]]]]
        assert after["gethostbyaddr"][:3] == ["herror", 4, False]  # NOERROR, no PTR: NO_DATA
    else:  # the channel's own timeout (1 s), as before: EAI_AGAIN / TRY_AGAIN, and a TimeoutError
        assert after["gethostbyname"][:3] == ["GaiTimeoutError", socket.EAI_AGAIN, True]
        assert after["getaddrinfo"][:3] == ["GaiTimeoutError", socket.EAI_AGAIN, True]
        assert after["gethostbyaddr"][:3] == ["HostTimeoutError", 2, True]
        assert all(0.8 < value[-1] < 4.0 for value in after.values()), after
    assert out["pending"] == 0
    # every request submitted got exactly one completion: nothing lost, nothing twice
    assert out["counts"]["submitted"] == out["counts"]["completed"] > 0, out["counts"]


KEYWORDS_CHILD = r'''
import json
from gevent import monkey
monkey.patch_all()
import gevent, socket
from gevent.resolver.thread import Resolver as ThreadResolver

hub = gevent.get_hub()
ours = hub.resolver
others = {"thread": ThreadResolver(hub)}
try:
    from gevent.resolver.ares import Resolver as AresResolver
    others["ares"] = AresResolver(hub)
except Exception as exc:  # gevent built without its c-ares resolver
    others["ares"] = None

def outcome(resolver, *args, **kwargs):
    try:
        return ["ok", [[int(f), int(k), p, c, list(s)] for f, k, p, c, s in resolver.getaddrinfo(*args, **kwargs)]]
    except Exception as exc:
        return [type(exc).__name__, str(exc) if isinstance(exc, TypeError) else getattr(exc, "errno", None)]

out = {"same": {}, "names": {}}
S, D = socket.SOCK_STREAM, socket.SOCK_DGRAM
numeric = [
    (("127.0.0.1", 80), dict(socktype=S)),
    (("127.0.0.1", "domain"), dict(family=socket.AF_INET, socktype=D, proto=17)),
    (("::1", 443), dict(family=socket.AF_INET6, socktype=S, proto=6, flags=socket.AI_NUMERICHOST)),
    ((None, 8080), dict(socktype=S, flags=socket.AI_PASSIVE)),
    (("192.0.2.1", 53), dict(socktype=D)),
]
for args, kwargs in numeric:
    key = repr((args, kwargs))
    # gevent's own resolvers' name (socktype=) as its c-ares resolver takes it; the socket
    # module's (type=) as its thread resolver passes it on to socket.getaddrinfo
    as_socket = {("type" if k == "socktype" else k): v for k, v in kwargs.items()}
    row = {"ours socktype=": outcome(ours, *args, **kwargs), "ours type=": outcome(ours, *args, **as_socket),
           "thread type=": outcome(others["thread"], *args, **as_socket)}
    if others["ares"] is not None:
        row["ares socktype="] = outcome(others["ares"], *args, **kwargs)
    out["same"][key] = row
# host= and port= by keyword too, as the thread resolver takes them
out["same"]["host=, port="] = {"ours": outcome(ours, host="127.0.0.1", port=80, type=S),
                               "thread type=": outcome(others["thread"], host="127.0.0.1", port=80, type=S)}
# a name through DNS: the keyword forms give what the positional one gives
positional = outcome(ours, "kw.example.test", 53, socket.AF_INET, D, 17, socket.AI_CANONNAME)
out["names"] = {
    "positional": positional,
    "socktype=": outcome(ours, "kw.example.test", 53, family=socket.AF_INET, socktype=D, proto=17,
                         flags=socket.AI_CANONNAME),
    "type=": outcome(ours, "kw.example.test", 53, family=socket.AF_INET, type=D, proto=17,
                     flags=socket.AI_CANONNAME),
    "both": outcome(ours, "kw.example.test", 53, socktype=D, type=D),
}
for resolver in others.values():
    if resolver is not None:
        resolver.close()
print(json.dumps(out))
'''


def test_getaddrinfo_keyword_names_in_patched_child(child_env):
    """GeventResolver.getaddrinfo takes gevent's parameter names (``socktype=``, as its c-ares
    resolver does) and the socket module's (``type=``, as its thread resolver passes them on),
    giving what those resolvers give."""
    with FaultServer() as server:
        out = run_child(KEYWORDS_CHILD, dict(child_env, PYCARES_NG_SERVERS=server.address))
    for key, row in out["same"].items():
        values = list(row.values())
        assert values[0][0] == "ok", (key, row)
        assert all(value == values[0] for value in values), (key, row)
    names = out["names"]
    assert names["positional"] == ["ok", [[int(socket.AF_INET), int(socket.SOCK_DGRAM), 17, "kw.example.test",
                                           ["192.0.2.1", 53]]]]
    assert names["socktype="] == names["type="] == names["positional"]
    assert names["both"][0] == "TypeError"


# -- the same at the backend's Resolver.wait(), in this process ------------------------------------

@pytest.fixture
def drop_server():
    with FaultServer(mode="drop") as server:
        yield server


def counting_resolver(server, empty_resolv_conf, **options):
    """A gevent backend Resolver whose driver counts completions per future."""
    r = gevent_backend.Resolver(servers=[server.address], resolvconf_path=empty_resolv_conf,
                                **dict(dict(timeout=1.0, tries=1), **options))
    completed = {}
    set_result, set_exception = r.driver.set_result, r.driver.set_exception

    def counted(setter):
        def set_(future, value):
            completed[id(future)] = completed.get(id(future), 0) + 1
            setter(future, value)
        return set_

    r.driver.set_result, r.driver.set_exception = counted(set_result), counted(set_exception)
    return r, completed


def test_wait_lets_the_callers_timeout_through(drop_server, empty_resolv_conf):
    r, completed = counting_resolver(drop_server, empty_resolv_conf)
    try:
        for wait_timeout in (None, 5.0):
            future = r.query("outer.example.test", "A")
            start = time.monotonic()
            with pytest.raises(gevent.Timeout) as info:
                with gevent.Timeout(0.1) as timer:
                    r.wait(future, wait_timeout)
            assert info.value is timer  # the caller's own Timeout, not a TimeoutError
            assert time.monotonic() - start < 0.5
            # the only request of the channel: cancelled at once, its callback run once
            assert r.pending == 0 and completed[id(future)] == 1
            assert future.ready() and future.exception.args[0] == pycares_ng.ARES_ECANCELLED
            gevent.sleep(0.01)
            assert not r.driver.timer_armed
        # the wait's own timeout is still a TimeoutError, and leaves the caller's Timeout armed
        with gevent.Timeout(5.0, False) as timer:
            with pytest.raises(TimeoutError):
                r.wait(r.query("own.example.test", "A"), 0.1)
            assert timer.pending
        assert r.pending == 0
    finally:
        r.close()


def test_interrupted_wait_drops_only_its_own_request(drop_server, empty_resolv_conf):
    """Two greenlets wait on one channel; one is killed, then the other's caller Timeout strikes
    a second one: each propagates, and the requests of the others keep running — the channel's
    own timeout ends them (ARES_ETIMEOUT, not ARES_ECANCELLED), one callback each."""
    r, completed = counting_resolver(drop_server, empty_resolv_conf, timeout=0.5)
    try:
        futures = [r.query(f"q{i}.example.test", "A") for i in range(3)]
        waiter = gevent.spawn(r.wait, futures[0])
        survivor = gevent.spawn(lambda: pytest.raises(pycares_ng.AresError, r.wait, futures[2]).value)
        gevent.sleep(0.05)
        assert r.pending == 3
        waiter.kill(block=True, timeout=1.0)
        assert isinstance(waiter.value, gevent.GreenletExit)
        with pytest.raises(gevent.Timeout):
            with gevent.Timeout(0.05):
                r.wait(futures[1])
        assert r.pending == 3  # nobody cancelled the others' requests
        error = survivor.get(timeout=5.0)
        assert error.args[0] == pycares_ng.ARES_ETIMEOUT
        gevent.sleep(0.2)
        assert r.pending == 0
        assert [completed.get(id(f)) for f in futures] == [1, 1, 1]
        assert all(f.exception.args[0] == pycares_ng.ARES_ETIMEOUT for f in futures)
    finally:
        r.close()


def test_gevent_resolver_lets_the_callers_timeout_through(drop_server, empty_resolv_conf, no_cares_hosts):
    """GeventResolver itself (no monkey-patching): each function, under an outer Timeout."""
    resolver = gevent_backend.GeventResolver(use_environ=False, servers=[drop_server.address],
                                             resolvconf_path=empty_resolv_conf, timeout=2.0, tries=1)
    calls = [("gethostbyname", ("fast.example.test",)), ("gethostbyname", ("fast.example.test", socket.AF_INET6)),
             ("gethostbyname_ex", ("ex.example.test",)), ("getaddrinfo", ("gai.example.test", 80)),
             ("gethostbyaddr", ("192.0.2.77",)), ("getnameinfo", (("192.0.2.78", 80), 0))]
    try:
        for name, args in calls:
            start = time.monotonic()
            with pytest.raises(gevent.Timeout) as info:
                with gevent.Timeout(0.1) as timer:
                    getattr(resolver, name)(*args)
            assert info.value is timer, name
            assert time.monotonic() - start < 0.5, name
            assert resolver.resolver.pending == 0, name
    finally:
        resolver.close()
