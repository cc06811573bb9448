"""The benchmark workload on asyncio: pycares_ng's asyncio backend or aiodns.

Resolves N distinct A names (n0 … nN-1.bench.test) against one loopback server with an
aiodns-style ``DNSResolver``, keeping K queries in flight (K worker coroutines gathered, each
awaiting ``resolver.query(name, 'A')`` in turn), and prints one JSON object like py_client.py.

    python asyncio_client.py --module pycares_ng --port 5353 --n 20000 --inflight 100
    python asyncio_client.py --module aiodns --port 5353 --n 20000 --inflight 100 [--loop uvloop]

``--module pycares_ng`` uses ``pycares_ng.backends.asyncio.DNSResolver`` (sockets watched with
``loop.add_reader``, the timer from ``Channel.timeout()``); ``--module aiodns`` uses
``aiodns.DNSResolver`` as installed (aiodns 3.x on pycares 4.x runs pycares' event thread and
hands each answer to the loop with ``call_soon_threadsafe``). What is timed is the same code for
both: the loop running the K workers. CPU time is resource.getrusage(RUSAGE_SELF) (every thread
of the process) over the resolve phase only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from py_client import cares_library_path, load_names, module_versions  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--module", default="pycares_ng", choices=["pycares_ng", "aiodns"])
    p.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    p.add_argument("--server", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--n", type=int, default=20000, help="number of distinct names to resolve")
    p.add_argument("--inflight", type=int, default=100, help="queries kept in flight")
    p.add_argument("--prefix", default="n")
    p.add_argument("--domain", default="bench.test")
    p.add_argument("--names-file", help="one name per line instead of PREFIX<i>.DOMAIN")
    p.add_argument("--rcvbuf", type=int, default=4 << 20, help="socket_receive_buffer_size")
    p.add_argument("--timeout", type=float, help="Channel timeout in seconds; default: library's")
    p.add_argument("--tries", type=int, help="Channel tries; default: library's")
    return p.parse_args(argv)


def new_loop(kind):
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def make_resolver(args, loop, resolvconf):
    kwargs = dict(
        # pycares 4.x (under aiodns) takes bare addresses, so the port goes in udp_port/tcp_port;
        # pycares_ng takes the same.
        udp_port=args.port,
        tcp_port=args.port,
        socket_receive_buffer_size=args.rcvbuf,
        resolvconf_path=resolvconf,
    )
    if args.timeout is not None:
        kwargs["timeout"] = args.timeout
    if args.tries is not None:
        kwargs["tries"] = args.tries
    if args.module == "aiodns":
        import aiodns
        import pycares

        version = f"aiodns {aiodns.__version__} (pycares {pycares.__version__})"
        return aiodns.DNSResolver([args.server], loop=loop, **kwargs), pycares, version
    import pycares_ng
    from pycares_ng.backends.asyncio import DNSResolver

    version = f"pycares_ng {module_versions(pycares_ng)[0]} asyncio"
    return DNSResolver([args.server], loop=loop, **kwargs), pycares_ng, version


def run(args, names):
    threads_before = threading.active_count()
    loop = new_loop(args.loop)
    asyncio.set_event_loop(loop)
    # An empty resolv.conf, so nothing of the host's configuration is read; servers are explicit.
    fd, resolvconf = tempfile.mkstemp(prefix="asyncio_client_resolvconf.")
    os.close(fd)
    try:
        resolver, mod, version = make_resolver(args, loop, resolvconf)
    finally:
        os.unlink(resolvconf)

    n = len(names)
    counts = {"ok": 0, "failed": 0, "checksum": 0}

    async def worker(it):
        query = resolver.query
        ok = failed = checksum = 0
        for name in it:
            try:
                result = await query(name, "A")
            except Exception:
                failed += 1
                continue
            if result:
                ok += 1
                for record in result:  # touch what a user reads: address and TTL
                    checksum += record.ttl + len(record.host)
            else:
                failed += 1
        counts["ok"] += ok
        counts["failed"] += failed
        counts["checksum"] += checksum

    async def main():
        it = iter(names)
        await asyncio.gather(*(worker(it) for _ in range(min(args.inflight, n))))

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    loop.run_until_complete(main())
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    threads_during = threading.active_count()

    loop.run_until_complete(_close(resolver))
    loop.close()

    user = ru1.ru_utime - ru0.ru_utime
    sys_ = ru1.ru_stime - ru0.ru_stime
    return mod, version, {
        "n": n,
        "inflight": args.inflight,
        "loop": args.loop,
        "ok": counts["ok"],
        "failed": counts["failed"],
        "wall_s": round(wall, 6),
        "cpu_user_s": round(user, 6),
        "cpu_sys_s": round(sys_, 6),
        "qps": round(n / wall, 1) if wall > 0 else 0.0,
        "cpu_us_per_query": round((user + sys_) * 1e6 / n, 3),
        "checksum": counts["checksum"],
        "threads": threads_during - threads_before,  # threads the resolver runs besides the loop
    }


async def _close(resolver):
    result = resolver.close()
    if hasattr(result, "__await__"):
        await result


def main(argv=None):
    args = parse_args(argv)
    names = load_names(args)
    mod, version, measured = run(args, names)
    result = {"client": version, "api": f"asyncio query ({args.loop})",
              "cares": module_versions(mod)[1], "python": sys.version.split()[0]}
    result.update(measured)
    result["cares_lib"] = cares_library_path(mod)
    print(json.dumps(result))
    return 0 if result["ok"] == result["n"] else 1


if __name__ == "__main__":
    sys.exit(main())
