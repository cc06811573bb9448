"""The anyio backend on both of anyio's loops: the conformance tests, and anyio's own
cancellation around an await."""
from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, List

import pytest

anyio = pytest.importorskip("anyio")

import pycares_ng  # noqa: E402
import pycares_ng.backends  # noqa: E402
from pycares_ng import AresError  # noqa: E402
from pycares_ng.backends import anyio as anyio_backend  # noqa: E402
from pycares_ng.testing.backend import BackendConformance  # noqa: E402


class _AnyioConformance(BackendConformance):
    backend_name = "anyio"
    anyio_backend = "asyncio"

    def run(self, resolver: Any, main: Callable[[], Awaitable[Any]]) -> Any:
        return anyio.run(main, backend=self.anyio_backend)

    def test_registered(self) -> None:
        assert pycares_ng.backends.get("anyio") is anyio_backend
        r = self.new_resolver()
        assert r.is_async and r.channel.event_thread
        assert anyio_backend.Resolver.backend == "asyncio"

    def test_await_in_a_task_group(self) -> None:
        names = [self.fqdn(f"g{i}") for i in range(20)]
        for i, name in enumerate(names):
            self.server.add_record(name, "A", f"198.51.100.{i}")
        self.server.delay = 0.1
        r = self.new_resolver()
        results: List[Any] = [None] * len(names)

        async def main() -> None:
            async def one(i: int) -> None:
                results[i] = [x.host for x in await r.query(names[i], "A")]

            async with anyio.create_task_group() as tg:
                for i in range(len(names)):
                    tg.start_soon(one, i)

        start = time.monotonic()
        anyio.run(main, backend=self.anyio_backend)
        assert results == [[f"198.51.100.{i}"] for i in range(len(names))]
        assert time.monotonic() - start < 1.5

    def test_cancel_scope_deadline_cancels_only_that_request(self) -> None:
        silent, slow = self.fqdn("scope-silent"), self.fqdn("scope-slow")
        self.server.rules[silent] = "drop"
        self.server.add_record(slow, "A", "192.0.2.62")
        self.server.delay = 0.4
        r = self.new_resolver(timeout=5.0, tries=1)

        async def main() -> Any:
            hung, other = r.query(silent, "A"), r.query(slow, "A")
            with anyio.move_on_after(0.1) as scope:
                await hung
            assert scope.cancelled_caught
            assert hung.cancelled()
            with pytest.raises(AresError) as info:
                hung.result()
            assert info.value.args[0] == pycares_ng.ARES_ECANCELLED
            with anyio.fail_after(3):
                return [x.host for x in await other]

        assert anyio.run(main, backend=self.anyio_backend) == ["192.0.2.62"]
        assert r.pending == 1

    def test_cancelling_the_task_group_cancels_the_waiters(self) -> None:
        silent = self.fqdn("tg-silent")
        self.server.rules[silent] = "drop"
        r = self.new_resolver(timeout=5.0, tries=1)
        futures = [r.query(silent, "A") for _ in range(3)]

        async def main() -> None:
            async def waits(future: Any) -> None:
                await future

            async with anyio.create_task_group() as tg:
                for future in futures:
                    tg.start_soon(waits, future)
                await anyio.sleep(0.05)
                tg.cancel_scope.cancel()

        anyio.run(main, backend=self.anyio_backend)
        assert all(f.cancelled() for f in futures)
        r.close()
        assert r.pending == 0


class TestAnyioOnAsyncio(_AnyioConformance):
    anyio_backend = "asyncio"


class TestAnyioOnTrio(_AnyioConformance):
    anyio_backend = "trio"


def test_example_runs(tmp_path: Any) -> None:
    """examples/anyio_resolve.py, as documented (docs/trio.rst, README), runs offline on both loops."""
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples" / "anyio_resolve.py"
    proc = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "-- asyncio" and "-- trio" in lines
    for part in (lines[1:4], lines[5:8]):
        assert sorted(part) == sorted(["www.example.test A ['192.0.2.10']", "www.example.test AAAA ['2001:db8::10']",
                                       "silent.example.test cancelled: True"])
