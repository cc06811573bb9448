"""The trio backend: the conformance tests, and trio's own cancellation around an await."""
from __future__ import annotations

import time
from typing import Any, List

import pytest

trio = pytest.importorskip("trio")

import pycares_ng  # noqa: E402
import pycares_ng.backends  # noqa: E402
from pycares_ng import AresError  # noqa: E402
from pycares_ng.backends import trio as trio_backend  # noqa: E402
from pycares_ng.testing.backend import BackendConformance  # noqa: E402


class TestTrioConformance(BackendConformance):
    """Every request is made outside trio and awaited in ``trio.run`` (the kit's default)."""

    backend_name = "trio"

    def test_registered(self) -> None:
        assert pycares_ng.backends.get("trio") is trio_backend
        r = self.new_resolver()
        assert r.is_async and r.channel.event_thread
        assert isinstance(r.query(self.fqdn("x"), "A"), trio_backend.ThreadSafeFuture)

    def test_await_inside_trio(self) -> None:
        names = [self.fqdn(f"t{i}") for i in range(20)]
        for i, name in enumerate(names):
            self.server.add_record(name, "A", f"198.51.100.{i}")
        self.server.delay = 0.1
        r = self.new_resolver()
        results: List[Any] = [None] * len(names)

        async def main() -> None:
            async def one(i: int) -> None:
                results[i] = [x.host for x in await r.query(names[i], "A")]

            async with trio.open_nursery() as nursery:
                for i in range(len(names)):
                    nursery.start_soon(one, i)

        start = time.monotonic()
        trio.run(main)
        assert results == [[f"198.51.100.{i}"] for i in range(len(names))]
        assert time.monotonic() - start < 1.5  # concurrent, not 20 x 0.1 s one after another

    def test_cancel_scope_deadline_cancels_only_that_request(self) -> None:
        silent, slow = self.fqdn("scope-silent"), self.fqdn("scope-slow")
        self.server.rules[silent] = "drop"
        self.server.add_record(slow, "A", "192.0.2.60")
        self.server.delay = 0.4
        r = self.new_resolver(timeout=5.0, tries=1)

        async def main() -> Any:
            hung, other = r.query(silent, "A"), r.query(slow, "A")
            with trio.move_on_after(0.1) as scope:
                await hung
            assert scope.cancelled_caught
            assert hung.cancelled()
            with pytest.raises(AresError) as info:
                hung.result()
            assert info.value.args[0] == pycares_ng.ARES_ECANCELLED
            with trio.fail_after(3):
                return [x.host for x in await other]

        assert trio.run(main) == ["192.0.2.60"]
        assert r.pending == 1  # the cancelled request runs on in c-ares; its answer is dropped

    def test_cancelling_the_nursery_cancels_the_waiters(self) -> None:
        silent = self.fqdn("nursery-silent")
        self.server.rules[silent] = "drop"
        r = self.new_resolver(timeout=5.0, tries=1)
        futures = [r.query(silent, "A") for _ in range(3)]

        async def main() -> None:
            async def waits(future: Any) -> None:
                await future

            async with trio.open_nursery() as nursery:
                for future in futures:
                    nursery.start_soon(waits, future)
                await trio.sleep(0.05)
                nursery.cancel_scope.cancel()

        trio.run(main)
        assert all(f.cancelled() for f in futures)
        r.close()  # the requests still in c-ares end now, their answers dropped
        assert r.pending == 0

    def test_resolver_context_managers(self) -> None:
        name = self.fqdn("ctx-async")
        self.server.add_record(name, "A", "192.0.2.61")

        async def main() -> Any:
            async with self.new_resolver() as r:
                return r, [x.host for x in await r.query(name, "A")]

        r, hosts = trio.run(main)
        assert hosts == ["192.0.2.61"] and r.closed


def test_example_runs(tmp_path: Any) -> None:
    """examples/trio_resolve.py, as documented (docs/trio.rst, README), runs offline."""
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples" / "trio_resolve.py"
    proc = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stdout.splitlines()) == sorted([
        "www.example.test A ['192.0.2.10']", "www.example.test AAAA ['2001:db8::10']",
        "missing.example.test ARES_ENOTFOUND", "silent.example.test cancelled: True"])
