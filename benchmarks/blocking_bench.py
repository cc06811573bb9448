"""The blocking helper against the socket module: pycares_ng.getaddrinfo vs socket.getaddrinfo.

    python benchmarks/blocking_bench.py                 # N = 1,000 names per run, 3 repeats
    python benchmarks/blocking_bench.py --n 500         # quicker
    python benchmarks/blocking_bench.py --python build/venv-134/bin/python   # another build

Both must ask the same server for the same kind of names. ``socket.getaddrinfo`` (glibc) reads
/etc/resolv.conf and /etc/hosts and talks to port 53 only, so the measurement runs in a private
network + mount namespace (``unshare --net --mount``, root): its own loopback, where NSD serves
``bench.test.`` on 127.0.0.1:53, with /etc/resolv.conf (``nameserver 127.0.0.1``) and /etc/hosts
bind-mounted over for that namespace only. Nothing on the machine changes; no packet leaves the
namespace's loopback.

Workloads, each sequential (one call returns before the next starts: the helpers block by
nature), each on names nobody asked for before in the run (no cache can help; glibc has none
without nscd, c-ares >= 1.23 has one):

* ``AF_INET``: ``getaddrinfo(name, 80, AF_INET, SOCK_STREAM)`` — one A query;
* ``AF_UNSPEC``: ``getaddrinfo(name, 80, 0, SOCK_STREAM)`` — A and AAAA (NODATA) queries;
* ``numeric``: ``getaddrinfo("192.0.2.1", 80)`` — no lookup: the wrapper's own cost.

Clients: ``socket`` (glibc), ``pycares_ng`` (the blocking helper), and ``select-backend`` —
``Channel.getaddrinfo`` (name as bytes, no port) through the select backend's resolver the
helper runs on, without the helper's work (argument checks, service expansion, result shaping):
the difference is what the helper adds.

Reported per workload and client: CPU µs per call (getrusage user + system of the measuring
process over the timed loop only; NSD is another process) and wall µs per call, medians over the
repeats (interleaved). With two or more CPUs NSD runs on one, the client on another.
"""
from __future__ import annotations

import argparse
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

WORKLOADS = ("AF_INET", "AF_UNSPEC", "numeric")
CLIENTS = ("socket", "pycares_ng", "select-backend")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(call, names) -> dict:
    start_cpu, start = cpu_seconds(), time.perf_counter()
    for name in names:
        call(name)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - start_cpu
    return {"cpu_us": cpu / len(names) * 1e6, "wall_us": wall / len(names) * 1e6}


def inner(args) -> int:
    """In the namespace: NSD on :53, the files mounted, then the measurements; JSON on stdout."""
    work = Path(tempfile.mkdtemp(prefix="pycares-ng-blocking-bench-"))
    netns.setup(work, "nameserver 127.0.0.1\noptions timeout:2 attempts:2\n", "127.0.0.1 localhost\n")
    cpus = sorted(os.sched_getaffinity(0))
    nsd = dnsdata.start_nsd(work / "nsd", {dnsdata.BENCH_ORIGIN: dnsdata.bench_zone_text()}, port=53,
                            ipv6=False)
    try:
        if len(cpus) >= 2:
            os.sched_setaffinity(nsd.proc.pid, {cpus[0]})
            os.sched_setaffinity(0, {cpus[1]})
        import pycares_ng
        from pycares_ng import blocking

        blocking.configure(resolvconf_path=str(work / "resolv.conf"))
        family = {"AF_INET": socket.AF_INET, "AF_UNSPEC": socket.AF_UNSPEC}
        # the reference: c-ares getaddrinfo through the same select-backend resolver the helper
        # uses, result as c-ares gives it (what the helper costs on top is the difference)
        raw = blocking._resolver()

        def raw_getaddrinfo(host, port, fam=0, kind=0):  # the name as bytes, as the helper passes it
            return raw.wait(raw.getaddrinfo(host.encode(), None, family=fam, type=kind))

        funcs = {"socket": socket.getaddrinfo, "pycares_ng": pycares_ng.getaddrinfo,
                 "select-backend": raw_getaddrinfo}

        def caller(client, workload):
            gai = funcs[client]
            if workload == "numeric":
                return lambda name: gai("192.0.2.1", 80)
            fam = family[workload]
            return lambda name: gai(name, 80, fam, socket.SOCK_STREAM)

        # Every (workload, client, repeat) gets names of its own.
        per_run = args.n
        needed = 2 * len(CLIENTS) * args.repeat * per_run + 400
        if needed > dnsdata.BENCH_HOSTS:
            raise SystemExit(f"--n {args.n} x {args.repeat} repeats needs {needed} names; "
                             f"the zone has {dnsdata.BENCH_HOSTS}")
        counter = iter(range(dnsdata.BENCH_HOSTS))

        def fresh(count):
            return [f"n{next(counter)}.bench.test" for _ in range(count)]

        for client in CLIENTS:  # warm-up: imports, first socket, hosts file, resolver creation
            for workload in WORKLOADS:
                for name in fresh(25):
                    caller(client, workload)(name)
        # check the answers once
        sample = fresh(1)[0]
        want = dnsdata.bench_address(int(sample[1:].split(".")[0]))
        assert socket.getaddrinfo(sample, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0] == want
        assert pycares_ng.getaddrinfo(sample, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0] == want

        runs = {(w, c): [] for w in WORKLOADS for c in CLIENTS}
        for _ in range(args.repeat):
            for workload in WORKLOADS:
                for client in CLIENTS:
                    names = fresh(per_run) if workload != "numeric" else [""] * per_run
                    runs[workload, client].append(measure(caller(client, workload), names))
        result = {
            "n": per_run, "repeat": args.repeat, "python": platform.python_version(),
            "cares": pycares_ng.ARES_VERSION, "glibc": " ".join(platform.libc_ver()),
            "cpus": f"client on CPU {cpus[1]}, NSD on CPU {cpus[0]}" if len(cpus) >= 2 else "one CPU",
            "rows": [
                {"workload": w, "client": c,
                 "cpu_us": statistics.median(r["cpu_us"] for r in runs[w, c]),
                 "wall_us": statistics.median(r["wall_us"] for r in runs[w, c])}
                for w in WORKLOADS for c in CLIENTS
            ],
        }
        print(json.dumps(result))
    finally:
        nsd.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def table(result: dict) -> str:
    lines = [f"pycares_ng.getaddrinfo vs socket.getaddrinfo — sequential, {result['n']} names per run, "
             f"median of {result['repeat']}",
             f"python {result['python']}, c-ares {result['cares']}, {result['glibc']}, {result['cpus']}",
             "",
             f"{'workload':<10} {'client':<15} {'CPU µs/call':>12} {'wall µs/call':>13} {'CPU vs socket':>14}"]
    rows = {(r["workload"], r["client"]): r for r in result["rows"]}
    for workload in WORKLOADS:
        base = rows[workload, "socket"]["cpu_us"]
        for client in CLIENTS:
            row = rows[workload, client]
            lines.append(f"{workload:<10} {client:<15} {row['cpu_us']:>12.1f} {row['wall_us']:>13.1f} "
                         f"{row['cpu_us'] / base:>13.2f}x")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="names per run (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats, median kept (default 3)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter that imports pycares_ng (default: this one)")
    parser.add_argument("--output", type=Path, help="also write the JSON result here")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        return inner(args)
    return netns.run_benchmark("blocking_bench", __file__, args.python, ["--n", str(args.n), "--repeat", str(args.repeat)], table, args.output)

if __name__ == "__main__":
    sys.exit(main())
