"""aiodns 4 and aiohttp on pycares 5.2.1 vs on pycares_ng, side by side in one run.

    python benchmarks/aiodns4_bench.py [--n 10000] [--repeat 3] [--inflight 100] [--output FILE]

Starts NSD (tests/dnsdata.py) with the bench.test zone on a free loopback port, then runs each
client of aiodns4_client.py --repeat times, interleaved, and prints CPU µs per query (median) and
the ratio to aiodns 4.0.4 on pycares 5.2.1. aiodns 4.0.4 and pycares 5.2.1 come from
``<this interpreter's prefix>/oracle-pycares5`` (``pip install --target … pycares==5.2.1
aiodns==4.0.4``, as .ci/test.sh does), or --oracle DIR. When the machine has two CPUs or more,
NSD runs on CPU 0 and the clients on CPU 1.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
import dnsdata  # noqa: E402

# (client, needs aiodns 4 / pycares 5 from the oracle dir, what it is)
CLIENTS = [
    ("aiodns4", True, "aiodns 4.0.4 on pycares 5.2.1 (query_dns)"),
    ("aiodns4-ng", True, "aiodns 4.0.4 on pycares_ng.v5 (query_dns)"),
    ("ng", False, "pycares_ng asyncio DNSResolver (query_dns)"),
    ("aiohttp-aiodns4", True, "aiohttp AsyncResolver on aiodns 4.0.4 + pycares 5.2.1 (resolve)"),
    ("aiohttp-ng", False, "pycares_ng.aiohttp.AsyncResolver (resolve)"),
]
BASELINE = {"aiodns4": "aiodns4", "aiodns4-ng": "aiodns4", "ng": "aiodns4",
            "aiohttp-aiodns4": "aiohttp-aiodns4", "aiohttp-ng": "aiohttp-aiodns4"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--inflight", type=int, default=100)
    p.add_argument("--oracle", default=str(Path(sys.prefix) / "oracle-pycares5"))
    p.add_argument("--output", default=str(HERE / "results" / "aiodns4.json"))
    args = p.parse_args()
    if not (Path(args.oracle) / "aiodns").is_dir():
        sys.exit(f"aiodns 4 not found in {args.oracle}: {sys.executable} -m pip install --target "
                 f"{args.oracle} pycares==5.2.1 aiodns==4.0.4")
    pin = (os.cpu_count() or 1) >= 2
    with tempfile.TemporaryDirectory() as tmp:
        nsd = dnsdata.start_nsd(tmp, dnsdata.default_zones())
        try:
            if pin:
                os.sched_setaffinity(nsd.proc.pid, {0})
            samples: Dict[str, List[dict]] = {c: [] for c, _, _ in CLIENTS}
            for _ in range(args.repeat):
                for client, oracle, _ in CLIENTS:
                    env = dict(os.environ)
                    if oracle:
                        env["PYTHONPATH"] = args.oracle
                    cmd = [sys.executable, str(HERE / "aiodns4_client.py"), "--client", client,
                           "--server", f"127.0.0.1:{nsd.port}", "--n", str(args.n), "--inflight", str(args.inflight)]
                    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600,
                                         preexec_fn=(lambda: os.sched_setaffinity(0, {1})) if pin else None)
                    if out.returncode != 0:
                        sys.exit(f"{client} failed: {out.stdout}{out.stderr}")
                    samples[client].append(json.loads(out.stdout))
        finally:
            nsd.stop()
    median = {c: statistics.median(s["cpu_us_per_query"] for s in samples[c]) for c in samples}
    print(f"N={args.n}, in flight {args.inflight}, median of {args.repeat}; CPU µs per query (all threads)\n")
    print("| client | CPU µs/query | vs baseline |")
    print("| --- | ---: | ---: |")
    for client, _, what in CLIENTS:
        base = BASELINE[client]
        print(f"| {what} | {median[client]:.1f} | {median[client] / median[base]:.2f}× {base} |")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({"args": vars(args), "python": sys.version.split()[0],
                                             "median": median, "samples": samples}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
