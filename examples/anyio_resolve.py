"""Resolve with the anyio backend, offline, on asyncio and then on trio.

Run: python examples/anyio_resolve.py   (needs anyio and trio: pip install 'pycares_ng[anyio,trio]')
"""
import anyio

from pycares_ng.backends.anyio import Resolver
from pycares_ng.testing import FaultServer


async def main(server: FaultServer) -> None:
    async with Resolver(servers=[server.address], timeout=1.0, tries=2) as resolver:
        async with anyio.create_task_group() as tg:  # both queries at once
            async def show(name: str, qtype: str) -> None:
                with anyio.fail_after(5):
                    records = await resolver.query(name, qtype)
                print(name, qtype, [record.host for record in records])

            tg.start_soon(show, "www.example.test", "A")
            tg.start_soon(show, "www.example.test", "AAAA")

        with anyio.move_on_after(0.2) as scope:  # a deadline cancels that request only
            await resolver.query("silent.example.test", "A")
        print("silent.example.test cancelled:", scope.cancelled_caught)  # True


with FaultServer() as fault_server:
    fault_server.add_record("www.example.test", "A", "192.0.2.10")
    fault_server.add_record("www.example.test", "AAAA", "2001:db8::10")
    fault_server.rules["silent.example.test"] = "drop"
    for backend in ("asyncio", "trio"):
        print("--", backend)
        anyio.run(main, fault_server, backend=backend)
