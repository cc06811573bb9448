"""One client of the aiodns 4 / aiohttp benchmark (aiodns4_bench.py runs them side by side).

Resolves N distinct A names (n0 … nN-1.bench.test) against one loopback server on an asyncio
loop, K worker coroutines in flight, and prints one JSON object. Clients:

- ``aiodns4``: aiodns 4 ``DNSResolver.query_dns(name, "A")`` on whatever ``pycares`` imports
  (pycares 5.2.1 when run with PYTHONPATH=<venv>/oracle-pycares5);
- ``aiodns4-ng``: the same aiodns 4 with ``sys.modules["pycares"] = pycares_ng.v5``;
- ``ng``: pycares_ng's own ``pycares_ng.backends.asyncio.DNSResolver.query_dns(name, "A")``;
- ``aiohttp-ng`` / ``aiohttp-aiodns4``: ``resolve(name)`` of ``pycares_ng.aiohttp.AsyncResolver`` /
  aiohttp's own ``aiohttp.resolver.AsyncResolver`` (aiodns 4 underneath).

CPU is resource.getrusage(RUSAGE_SELF) (all threads) over the resolve phase only.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time

CLIENTS = ("aiodns4", "aiodns4-ng", "ng", "aiohttp-ng", "aiohttp-aiodns4")


def substitute_pycares() -> None:
    """Make ``import pycares`` give pycares_ng's pycares 5 face."""
    import pycares_ng.v5 as face

    sys.modules["pycares"] = face
    sys.modules["pycares.errno"] = face.errno
    sys.modules["pycares.utils"] = face.utils


def make(client: str, server: str, resolvconf: str, loop: asyncio.AbstractEventLoop):
    """(resolve coroutine function taking a name and returning what to checksum, close coroutine fn, label)"""
    opts = dict(resolvconf_path=resolvconf, lookups="b", socket_receive_buffer_size=4 << 20)
    if client == "aiodns4-ng":
        substitute_pycares()
    if client in ("aiodns4", "aiodns4-ng"):
        import aiodns
        import pycares

        r = aiodns.DNSResolver([server], loop=loop, **opts)

        async def one(name):
            res = await r.query_dns(name, "A")
            return sum(rec.ttl + len(rec.data.addr) for rec in res.answer)

        label = f"aiodns {aiodns.__version__} on {pycares.__name__} {getattr(pycares, '__version__', '?')}"
        return one, r.close, label
    if client == "ng":
        import pycares_ng
        from pycares_ng.backends.asyncio import DNSResolver

        r = DNSResolver([server], loop=loop, **opts)

        async def one(name):
            res = await r.query_dns(name, "A")
            return sum(rec.ttl + len(rec.data.addr) for rec in res.answer)

        async def close():
            await r.close()

        return one, close, f"pycares_ng {pycares_ng.__version__} asyncio DNSResolver"
    if client == "aiohttp-ng":
        from pycares_ng.aiohttp import AsyncResolver

        r = AsyncResolver(loop, nameservers=[server], **opts)
        label = "pycares_ng.aiohttp.AsyncResolver"
    else:
        import aiohttp
        from aiohttp.resolver import AsyncResolver

        r = AsyncResolver(loop, nameservers=[server], **opts)
        label = f"aiohttp {aiohttp.__version__} AsyncResolver"

    async def resolve(name):
        return sum(len(h["host"]) for h in await r.resolve(name, 80))

    return resolve, r.close, label


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--client", choices=CLIENTS, required=True)
    p.add_argument("--server", required=True, help="ip:port")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--inflight", type=int, default=100)
    p.add_argument("--domain", default="bench.test")
    args = p.parse_args(argv)
    names = [f"n{i}.{args.domain}" for i in range(args.n)]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    fd, resolvconf = tempfile.mkstemp(prefix="aiodns4_client.")
    os.close(fd)
    counts = {"ok": 0, "failed": 0, "checksum": 0}

    async def setup():
        return make(args.client, args.server, resolvconf, loop)

    one, close, label = loop.run_until_complete(setup())

    async def worker(it):
        for name in it:
            try:
                value = await one(name)  # not `+= await`: that reads the total before awaiting
                counts["checksum"] += value
                counts["ok"] += 1
            except Exception:
                counts["failed"] += 1

    async def run_all():
        it = iter(names)
        await asyncio.gather(*(worker(it) for _ in range(min(args.inflight, len(names)))))

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    loop.run_until_complete(run_all())
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    loop.run_until_complete(close())
    loop.close()
    os.unlink(resolvconf)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    print(json.dumps({"client": args.client, "label": label, "n": len(names), "inflight": args.inflight,
                      "ok": counts["ok"], "failed": counts["failed"], "checksum": counts["checksum"],
                      "wall_s": round(wall, 6), "cpu_us_per_query": round(cpu * 1e6 / len(names), 3)}))
    return 0 if counts["ok"] == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
