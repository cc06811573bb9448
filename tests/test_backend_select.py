"""The select backend: the conformance tests, plus what only a blocking loop must do."""
from __future__ import annotations

import os
import resource
import time

import pytest

import pycares_ng
import pycares_ng.backends
from pycares_ng.backends import select as select_backend
from pycares_ng.testing.backend import BackendConformance

#: fds opened before resolving, to push the channel's sockets past select()'s FD_SETSIZE
MANY_FDS = 1100


class TestSelectBackend(BackendConformance):
    """The conformance tests, then the select backend's own (on the mixin's FaultServer)."""

    backend_name = "select"

    def wait(self, resolver, future, timeout):
        return resolver.wait(future, timeout)

    def test_registry_gives_select(self):
        assert pycares_ng.backends.get("select") is select_backend
        r = self.new_resolver()
        assert isinstance(r.driver, select_backend.SelectDriver)
        assert not r.driver.uses_event_thread
        assert not r.channel.event_thread

    def test_wait_timeout_bounds_the_call_and_cancels(self):
        silent = self.fqdn("silent")
        self.server.rules[silent] = "drop"
        r = self.new_resolver(timeout=5.0, tries=1)
        hung = r.query(silent, "A")
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            r.wait(hung, 0.3)
        elapsed = time.monotonic() - start
        assert 0.25 <= elapsed < 1.0, elapsed
        assert hung.done()
        with pytest.raises(pycares_ng.AresError) as info:
            hung.result()
        assert info.value.args[0] == pycares_ng.ARES_ECANCELLED
        # Nothing is left pending, so no timer stays armed; the resolver still works.
        assert r.driver.deadline is None
        assert [x.host for x in r.wait(r.query(self.fqdn("after"), "A"), 5.0)] == ["192.0.2.1"]

    def test_timer_follows_channel_timeout(self):
        silent = self.fqdn("slow")
        self.server.rules[silent] = "drop"
        r = self.new_resolver(timeout=3.0, tries=1)
        assert r.driver.deadline is None  # idle: no timer
        future = r.query(silent, "A")
        left = r.driver.deadline - time.monotonic()
        assert 2.0 < left <= 3.05, left  # armed from Channel.timeout(), not a fixed tick
        r.cancel()
        assert future.done() and r.driver.deadline is None

    def test_result_before_wait(self):
        r = self.new_resolver()
        future = r.query(self.fqdn("early"), "A")
        assert not future.done()
        with pytest.raises(RuntimeError, match="wait"):
            future.result()
        assert [x.host for x in r.wait(future, 5.0)] == ["192.0.2.1"]
        assert [x.host for x in future.result()] == ["192.0.2.1"]

    def test_fork_child_does_not_touch_the_parents_sockets(self):
        """The epoll instance is shared with a forked child: the child must not unregister (or
        wait on) the parent's sockets. With STAYOPEN the parent's UDP socket outlives the fork;
        the child resolves, closes its resolver and exits; the parent's next lookups on the
        same socket still complete."""
        r = self.new_resolver(flags=pycares_ng.ARES_FLAG_STAYOPEN, timeout=2.0, tries=1)
        assert [x.host for x in r.wait(r.query(self.fqdn("before-fork"), "A"), 5.0)] == ["192.0.2.1"]
        watched = set(r.driver._ready)
        assert watched  # the socket stays open (and watched) between queries
        pid = os.fork()
        if pid == 0:  # the child: resolve through its own fresh channel, then close everything
            code = 1
            try:
                hosts = [x.host for x in r.wait(r.query(self.fqdn("in-child"), "A"), 5.0)]
                r.close()
                code = 0 if hosts == ["192.0.2.1"] else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert set(r.driver._ready) == watched
        for i in range(3):
            assert [x.host for x in r.wait(r.query(self.fqdn(f"after-fork-{i}"), "A"), 3.0)] == ["192.0.2.1"]

    def test_fork_child_does_not_spin_on_the_parents_socket(self):
        """A reply waiting unread on the parent's socket must not wake the child's loop: with
        the parent's epoll instance (shared by fork) the child would see that socket readable
        on every turn and spin until its own lookup ends."""
        r = self.new_resolver(flags=pycares_ng.ARES_FLAG_STAYOPEN, timeout=2.0, tries=1)
        assert [x.host for x in r.wait(r.query(self.fqdn("warm"), "A"), 5.0)] == ["192.0.2.1"]
        unread = r.query(self.fqdn("unread"), "A")  # answered at once, read only after the fork
        time.sleep(0.2)
        silent = self.fqdn("child-silent")
        self.server.rules[silent] = "drop"
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                before = resource.getrusage(resource.RUSAGE_SELF)
                try:
                    r.wait(r.query(silent, "A"), 0.5)
                except TimeoutError:
                    pass
                after = resource.getrusage(resource.RUSAGE_SELF)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                code = 0 if cpu < 0.25 else 2  # 2: it spun through the half second
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "the child spun on the parent's socket"
        assert [x.host for x in r.wait(unread, 3.0)] == ["192.0.2.1"]

    def test_more_than_1024_fds(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = MANY_FDS + 200
        if soft != resource.RLIM_INFINITY and soft < need:
            if hard != resource.RLIM_INFINITY and hard < need:
                pytest.fail(f"RLIMIT_NOFILE hard limit {hard} < {need}: cannot test > 1,024 fds")
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
        fds = []
        try:
            while len(fds) < MANY_FDS:
                fds.extend(os.pipe())
            probe = os.dup(0)
            os.close(probe)
            assert probe > 1024
            name = self.fqdn("many-fds")
            self.server.add_record(name, "A", "192.0.2.40")
            r = self.new_resolver()
            future = r.query(name, "A")
            watched = list(r.driver._ready)
            assert watched and min(watched) > 1024  # the channel's socket is past FD_SETSIZE
            assert [x.host for x in r.wait(future, 5.0)] == ["192.0.2.40"]
            assert [x.host for x in r.wait(r.query(name, "A"), 5.0)] == ["192.0.2.40"]
        finally:
            for fd in fds:
                os.close(fd)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
