"""gevent resolvers side by side: pycares_ng's GeventResolver vs gevent's own ``ares`` and
``thread`` resolvers.

    python benchmarks/gevent_bench.py                   # N = 2,000 names per run, 3 repeats
    python benchmarks/gevent_bench.py --n 500           # quicker
    python benchmarks/gevent_bench.py --python build/venv-134/bin/python   # another build

The workload: ``resolver.gethostbyname(name)`` for N distinct names ``n{i}.bench.test`` (the
bench zone of tests/dnsdata.py), run by 100 greenlets taking names from one list (so about 100
lookups are in flight), each name asked once in the whole run (no cache can help: gevent's
bundled c-ares >= 1.23 has one).

Clients, one hub, the same NSD:

* ``pycares_ng``: :class:`pycares_ng.backends.gevent.GeventResolver` (what
  ``GEVENT_RESOLVER=pycares_ng.backends.gevent.GeventResolver`` gives);
* ``gevent-ares``: ``gevent.resolver.ares.Resolver`` (gevent's Cython c-ares binding, with the
  c-ares gevent's wheel bundles);
* ``gevent-thread``: ``gevent.resolver.thread.Resolver`` (gevent's default: the C library's
  resolver in gevent's thread pool).

The thread resolver uses the system resolver, which reads /etc/resolv.conf and talks to port 53
only. So, as benchmarks/blocking_bench.py does, the measurement runs in a private network +
mount namespace (``unshare --net --mount``, root): NSD serves ``bench.test.`` on 127.0.0.1:53
there, with /etc/resolv.conf (``nameserver 127.0.0.1``) and /etc/hosts bind-mounted over for that
namespace only. The two c-ares clients are given the server explicitly as well.

Reported per client: CPU µs per lookup (getrusage user + system of the whole process — every
thread, so the thread pool counts — over the timed part only; NSD is another process), wall µs
per lookup, medians over the repeats (clients interleaved), and the CPU ratio to gevent-ares.
Every answer is checked against the zone.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
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

CLIENTS = ("pycares_ng", "gevent-ares", "gevent-thread")
GREENLETS = 100


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_lookups(resolver, names, greenlets: int):
    """gethostbyname of every name, ``greenlets`` at a time; returns (answers, cpu, wall)."""
    import gevent

    answers = [None] * len(names)
    work = iter(enumerate(names))

    def worker():
        lookup = resolver.gethostbyname
        for i, name in work:
            answers[i] = lookup(name)

    start_cpu, start = cpu_seconds(), time.perf_counter()
    jobs = [gevent.spawn(worker) for _ in range(greenlets)]
    gevent.joinall(jobs, raise_error=True)
    return answers, cpu_seconds() - start_cpu, time.perf_counter() - start


def inner(args) -> int:
    """In the namespace: NSD on :53, the files mounted, then the measurements; JSON on stdout."""
    work = Path(tempfile.mkdtemp(prefix="pycares-ng-gevent-bench-"))
    netns.setup(work, "nameserver 127.0.0.1\noptions timeout:2 attempts:2\n", "127.0.0.1 localhost\n")
    cpus = sorted(os.sched_getaffinity(0))
    nsd = dnsdata.start_nsd(work / "nsd", {dnsdata.BENCH_ORIGIN: dnsdata.bench_zone_text()}, port=53,
                            ipv6=False)
    try:
        if len(cpus) >= 2:
            os.sched_setaffinity(nsd.proc.pid, {cpus[0]})
            os.sched_setaffinity(0, {cpus[1]})
        import gevent
        from gevent.resolver.ares import Resolver as AresResolver
        from gevent.resolver.thread import Resolver as ThreadResolver

        import pycares_ng
        from pycares_ng.backends.gevent import GeventResolver

        hub = gevent.get_hub()
        resolvers = {
            "pycares_ng": GeventResolver(hub=hub, use_environ=False, servers=["127.0.0.1"],
                                         resolvconf_path=str(work / "resolv.conf")),
            "gevent-ares": AresResolver(hub=hub, use_environ=False, servers=["127.0.0.1"]),
            "gevent-thread": ThreadResolver(hub=hub),
        }
        per_run = args.n
        needed = len(CLIENTS) * (args.repeat * per_run + 200)
        if needed > dnsdata.BENCH_HOSTS:
            raise SystemExit(f"--n {args.n} x {args.repeat} repeats needs {needed} names; "
                             f"the zone has {dnsdata.BENCH_HOSTS}")
        counter = iter(range(dnsdata.BENCH_HOSTS))

        def fresh(count):
            numbers = [next(counter) for _ in range(count)]
            return [f"n{i}.bench.test" for i in numbers], [dnsdata.bench_address(i) for i in numbers]

        def checked(client, count):
            names, want = fresh(count)
            answers, cpu, wall = run_lookups(resolvers[client], names, args.greenlets)
            if answers != want:
                bad = next(i for i, (a, w) in enumerate(zip(answers, want)) if a != w)
                raise SystemExit(f"{client}: {names[bad]} -> {answers[bad]!r}, expected {want[bad]!r}")
            return {"cpu_us": cpu / count * 1e6, "wall_us": wall / count * 1e6}

        for client in CLIENTS:  # warm-up: first sockets, thread pool, hosts file
            checked(client, 200)
        runs = {client: [] for client in CLIENTS}
        for _ in range(args.repeat):
            for client in CLIENTS:
                runs[client].append(checked(client, per_run))
        for resolver in resolvers.values():
            resolver.close()
        result = {
            "n": per_run, "repeat": args.repeat, "greenlets": args.greenlets,
            "python": platform.python_version(), "gevent": gevent.__version__,
            "cares": pycares_ng.ARES_VERSION,
            "glibc": " ".join(platform.libc_ver()),
            "cpus": f"client on CPU {cpus[1]}, NSD on CPU {cpus[0]}" if len(cpus) >= 2 else "one CPU",
            "rows": [{"client": c, "cpu_us": statistics.median(r["cpu_us"] for r in runs[c]),
                      "wall_us": statistics.median(r["wall_us"] for r in runs[c])} for c in CLIENTS],
        }
        print(json.dumps(result))
    finally:
        nsd.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def table(result: dict) -> str:
    lines = [f"gevent resolvers: gethostbyname of {result['n']} distinct names, {result['greenlets']} greenlets, "
             f"median of {result['repeat']}",
             f"python {result['python']}, gevent {result['gevent']}, "
             f"pycares_ng on c-ares {result['cares']}, {result['glibc']}, {result['cpus']}",
             "",
             f"{'client':<15} {'CPU µs/lookup':>14} {'wall µs/lookup':>15} {'CPU vs gevent-ares':>19}"]
    rows = {r["client"]: r for r in result["rows"]}
    base = rows["gevent-ares"]["cpu_us"]
    for client in CLIENTS:
        row = rows[client]
        lines.append(f"{client:<15} {row['cpu_us']:>14.1f} {row['wall_us']:>15.1f} {row['cpu_us'] / base:>18.2f}x")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="names per run (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats, median kept (default 3)")
    parser.add_argument("--greenlets", type=int, default=GREENLETS, help="concurrent greenlets (default 100)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that imports pycares_ng and gevent (default: this one)")
    parser.add_argument("--output", type=Path, help="also write the JSON result here")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        return inner(args)
    return netns.run_benchmark("gevent_bench", __file__, args.python, ["--n", str(args.n), "--repeat", str(args.repeat), "--greenlets", str(args.greenlets)], table, args.output, drop_env=("GEVENTARES_", "GEVENT_RESOLVER", "PYCARES_NG_SERVERS", "CARES_HOSTS"))

if __name__ == "__main__":
    sys.exit(main())
