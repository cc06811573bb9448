"""tornado's resolvers: pycares_ng's TornadoResolver vs tornado's DefaultLoopResolver.

    python benchmarks/tornado_bench.py                  # N = 500 names per run, K = 1 10 100, 3 repeats
    python benchmarks/tornado_bench.py --n 200          # quicker
    python benchmarks/tornado_bench.py --python build/venv-134/bin/python   # another build

``DefaultLoopResolver`` (tornado >= 6.2's default) is ``loop.getaddrinfo``: glibc's
``getaddrinfo`` in the loop's default thread pool. glibc reads /etc/resolv.conf and /etc/hosts and
talks to port 53 only, so, as ``blocking_bench.py`` does, the measurement runs in a private
network + mount namespace (``unshare --net --mount``, root): its own loopback, where NSD serves
``bench.test.`` on 127.0.0.1:53, with /etc/resolv.conf (``nameserver 127.0.0.1``) and /etc/hosts
bind-mounted over for that namespace only. ``TornadoResolver`` is given the same resolv.conf
(``resolvconf_path``), so both ask the same server for the same names. Nothing on the machine
changes; no packet leaves the namespace's loopback.

Workloads, on one asyncio loop (tornado's IOLoop), with K resolves in flight (K coroutines each
awaiting ``resolver.resolve(name, 80, family)`` for the next name until N are done), each on
names nobody asked for before in the run (no cache can help: glibc has none without nscd,
c-ares >= 1.23 has one):

* ``AF_INET``: one A query per resolve;
* ``AF_UNSPEC``: A and AAAA (NODATA) queries — what tornado's ``TCPClient`` asks by default.

Reported per workload, K and resolver: CPU µs per resolve (getrusage user + system of the whole
process — loop thread and executor threads — over the timed run only; NSD is another process)
and wall µs per resolve (the run's wall time / N), medians over the repeats (interleaved). With
two or more CPUs NSD runs on one, the client (every thread of it) on another.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

import dnsdata  # noqa: E402  (tests/dnsdata.py: the bench zone and NSD launcher)
import netns  # noqa: E402  (tests/netns.py: the private namespace)

WORKLOADS = ("AF_INET", "AF_UNSPEC")
CLIENTS = ("TornadoResolver", "DefaultLoopResolver")
FAMILY = {"AF_INET": socket.AF_INET, "AF_UNSPEC": socket.AF_UNSPEC}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process
    return usage.ru_utime + usage.ru_stime


async def measure(resolver, names, family: int, inflight: int) -> dict:
    todo = iter(names)

    async def worker() -> None:
        for name in todo:  # shared: each name is taken by one worker
            await resolver.resolve(name, 80, family)

    start_cpu, start = cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(inflight)))
    wall, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    return {"cpu_us": cpu / len(names) * 1e6, "wall_us": wall / len(names) * 1e6}


async def run_all(args, work: Path) -> dict:
    import tornado
    import tornado.netutil

    import pycares_ng
    from pycares_ng.backends.tornado import TornadoResolver

    resolvers = {
        "TornadoResolver": TornadoResolver(resolvconf_path=str(work / "resolv.conf")),
        "DefaultLoopResolver": tornado.netutil.DefaultLoopResolver(),
    }
    inflights = sorted(set(args.inflight))
    needed = len(WORKLOADS) * len(CLIENTS) * len(inflights) * args.repeat * args.n + 400
    if needed > dnsdata.BENCH_HOSTS:
        raise SystemExit(f"--n {args.n} x {len(inflights)} depths x {args.repeat} repeats needs {needed} "
                         f"names; the zone has {dnsdata.BENCH_HOSTS}")
    counter = iter(range(dnsdata.BENCH_HOSTS))

    def fresh(count):
        return [f"n{next(counter)}.bench.test" for _ in range(count)]

    # warm-up: imports, first sockets, the executor's threads, the hosts file, channel creation
    for client, resolver in resolvers.items():
        for workload in WORKLOADS:
            await measure(resolver, fresh(50), FAMILY[workload], max(inflights))
    # check the answers once, from both
    sample = fresh(1)[0]
    want = dnsdata.bench_address(int(sample[1:].split(".")[0]))
    for client, resolver in resolvers.items():
        got = await resolver.resolve(sample, 80, socket.AF_UNSPEC)
        assert got == [(socket.AF_INET, (want, 80))], (client, got)

    runs = {(w, k, c): [] for w in WORKLOADS for k in inflights for c in CLIENTS}
    for _ in range(args.repeat):
        for workload in WORKLOADS:
            for inflight in inflights:
                for client in CLIENTS:
                    runs[workload, inflight, client].append(
                        await measure(resolvers[client], fresh(args.n), FAMILY[workload], inflight))
    for resolver in resolvers.values():
        resolver.close()
    executor_threads = min(32, (os.cpu_count() or 1) + 4)  # asyncio's default executor size
    return {
        "n": args.n, "repeat": args.repeat, "python": platform.python_version(),
        "tornado": tornado.version, "cares": pycares_ng.ARES_VERSION,
        "glibc": " ".join(platform.libc_ver()), "executor_threads": executor_threads,
        "rows": [
            {"workload": w, "inflight": k, "client": c,
             "cpu_us": statistics.median(r["cpu_us"] for r in runs[w, k, c]),
             "wall_us": statistics.median(r["wall_us"] for r in runs[w, k, c])}
            for w in WORKLOADS for k in inflights for c in CLIENTS
        ],
    }


def inner(args) -> int:
    """In the namespace: NSD on :53, the files mounted, then the measurements; JSON on stdout."""
    work = Path(tempfile.mkdtemp(prefix="pycares-ng-tornado-bench-"))
    netns.setup(work, "nameserver 127.0.0.1\noptions timeout:2 attempts:2\n", "127.0.0.1 localhost\n")
    cpus = sorted(os.sched_getaffinity(0))
    nsd = dnsdata.start_nsd(work / "nsd", {dnsdata.BENCH_ORIGIN: dnsdata.bench_zone_text()}, port=53,
                            ipv6=False)
    try:
        if len(cpus) >= 2:
            os.sched_setaffinity(nsd.proc.pid, {cpus[0]})
            os.sched_setaffinity(0, {cpus[1]})  # before any thread starts: the executor's inherit it
        result = asyncio.run(run_all(args, work))
        result["cpus"] = f"client on CPU {cpus[1]}, NSD on CPU {cpus[0]}" if len(cpus) >= 2 else "one CPU"
        print(json.dumps(result))
    finally:
        nsd.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def table(result: dict) -> str:
    lines = [f"tornado resolvers — {result['n']} distinct names per run, K in flight, median of "
             f"{result['repeat']}",
             f"python {result['python']}, tornado {result['tornado']}, c-ares {result['cares']}, "
             f"{result['glibc']}, {result['cpus']}; DefaultLoopResolver on asyncio's default "
             f"executor ({result['executor_threads']} threads)",
             "",
             f"{'workload':<10} {'K':>4} {'resolver':<20} {'CPU µs/resolve':>15} {'wall µs/resolve':>16} "
             f"{'CPU vs default':>15} {'wall vs default':>16}"]
    rows = {(r["workload"], r["inflight"], r["client"]): r for r in result["rows"]}
    inflights = sorted({r["inflight"] for r in result["rows"]})
    for workload in WORKLOADS:
        for inflight in inflights:
            base = rows[workload, inflight, "DefaultLoopResolver"]
            for client in CLIENTS:
                row = rows[workload, inflight, client]
                lines.append(f"{workload:<10} {inflight:>4} {client:<20} {row['cpu_us']:>15.1f} "
                             f"{row['wall_us']:>16.1f} {row['cpu_us'] / base['cpu_us']:>14.2f}x "
                             f"{row['wall_us'] / base['wall_us']:>15.2f}x")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="names per run (default 500)")
    parser.add_argument("--inflight", type=int, nargs="+", default=[1, 10, 100],
                        help="resolves in flight, K (default 1 10 100)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats, median kept (default 3)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that imports pycares_ng and tornado (default: this one)")
    parser.add_argument("--output", type=Path, help="also write the JSON result here")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        return inner(args)
    return netns.run_benchmark("tornado_bench", __file__, args.python, ["--n", str(args.n), "--repeat", str(args.repeat), "--inflight", *map(str, args.inflight)], table, args.output)

if __name__ == "__main__":
    sys.exit(main())
