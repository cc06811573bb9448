"""Resolve with the trio backend, offline: a FaultServer on loopback answers.

Run: python examples/trio_resolve.py   (needs trio: pip install 'pycares_ng[trio]')
"""
import trio

import pycares_ng
from pycares_ng.backends.trio import Resolver
from pycares_ng.testing import FaultServer


async def main(server: FaultServer) -> None:
    with Resolver(servers=[server.address], timeout=1.0, tries=2) as resolver:
        async with trio.open_nursery() as nursery:  # both queries at once
            async def show(name: str, qtype: str) -> None:
                records = await resolver.query(name, qtype)
                print(name, qtype, [record.host for record in records])

            nursery.start_soon(show, "www.example.test", "A")
            nursery.start_soon(show, "www.example.test", "AAAA")

        try:
            await resolver.query("missing.example.test", "A")
        except pycares_ng.AresError as exc:
            print("missing.example.test", pycares_ng.errno.errorcode[exc.args[0]])  # ARES_ENOTFOUND

        # trio's own cancellation: the deadline cancels that request only
        with trio.move_on_after(0.2) as scope:
            await resolver.query("silent.example.test", "A")
        print("silent.example.test cancelled:", scope.cancelled_caught)  # True


with FaultServer() as fault_server:
    fault_server.add_record("www.example.test", "A", "192.0.2.10")
    fault_server.add_record("www.example.test", "AAAA", "2001:db8::10")
    fault_server.rules["missing.example.test"] = "nxdomain"
    fault_server.rules["silent.example.test"] = "drop"
    trio.run(main, fault_server)
