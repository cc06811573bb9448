"""One benchmark run: pycares_ng against pycares 4.11 and a plain C libcares client.

    python benchmarks/run.py                  # full run (N = 25,000 names, 3 repeats)
    python benchmarks/run.py --quick          # smoke run (N = 5,000)

Starts NSD on 127.0.0.1 (free port) serving the zone `bench.test.` (n0 … n24999 A records,
from tests/dnsdata.py), warms everything up, then for each in-flight depth (100, 1000) runs
every client in its own subprocess, each measurement repeated (3x by default, interleaved) with
the median kept:

* `c_client.c` — the ceiling — built against the system c-ares (1.18 on Debian 12), against
  every `--cares-prefix` (default /work/cares-1.34 if it exists), and against the c-ares that
  pycares 4.11 bundles (so that pycares 4.11, too, is compared with C on its very own build);
* pycares_ng from one or more interpreters (`--ng-python [LABEL=]PATH`, repeatable, e.g. one
  per c-ares era it was built against); default: this interpreter, if it imports pycares_ng;
* pycares 4.11.0, pycares 5.2.1 and cyares 0.10.0 from PyPI, each in its own venv
  (benchmarks/.venv-pycares4, .venv-pycares5, .venv-cyares, created on first use);
* every C client in legacy (ares_query) and dnsrec (ares_query_dnsrec, c-ares >= 1.28) mode,
  with the query cache off and on (c-ares >= 1.23); pycares_ng with the library's default cache,
  with qcache_max_ttl=0, and on its event thread; pycares 5 and cyares with sock_state_cb and on
  their event threads;
* with `--callgrind`: instructions per query of every client under callgrind, from two runs of
  different sizes (start-up cancels out);
* with `--asyncio`: the same workload on an asyncio loop (`asyncio_client.py`), pycares_ng's
  asyncio backend (`DNSResolver`) from every pycares_ng interpreter next to aiodns from PyPI in
  its own venv (benchmarks/.venv-aiodns, created on demand), on the loops of `--asyncio-loop`.

Every client reports the file its c-ares code was loaded from; a binding's "vs C" ratio is
taken against the C client loaded from the same file (else the same version, else the same
series, with a note). Every DNS packet goes to the local NSD on loopback. Prints a table and
writes benchmarks/results/latest.json. Goal: pycares_ng CPU/query <= 1.35x the C client on the
same c-ares; with --asyncio, the asyncio backend's CPU/query <= 0.4x aiodns's on the same loop.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUILD = HERE / "build"
RESULTS = HERE / "results"
DEFAULT_PREFIXES_134 = [Path("/opt/pycares-ng/cares-1.34"), Path("/work/cares-1.34")]
PYCARES4_VERSION = "4.11.0"
PYCARES5_VERSION = "5.2.1"
CYARES_VERSION = "0.10.0"
GOAL_RATIO_DNSREC = 1.15   # instructions/query vs the C dnsrec client, same library and cache setting
GOAL_RATIO = 1.35
AIODNS_SPEC = "aiodns==3.6.1"  # the aiodns 3.x API that pycares_ng.backends.asyncio mirrors
GOAL_RATIO_AIODNS = 0.4

sys.path.insert(0, str(REPO / "tests"))
import dnsdata  # noqa: E402  (tests/dnsdata.py: the zone data and NSD launcher the tests use)

ZONE_NAMES = dnsdata.BENCH_HOSTS  # n0 … n{ZONE_NAMES-1}.bench.test.


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def series(version: str | None) -> str | None:
    return ".".join(version.split(".")[:2]) if version else None


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split(".")[:3] if x.isdigit())


# ---------------------------------------------------------------------------------------- DNS

def start_server(tmpdir: Path) -> "dnsdata.NsdServer":
    """NSD on 127.0.0.1 (free port, 8 MiB socket buffers, no RRL) serving only bench.test."""
    return dnsdata.start_nsd(tmpdir, {dnsdata.BENCH_ORIGIN: dnsdata.bench_zone_text()}, ipv6=False)


def nsd_version() -> str:
    r = subprocess.run([dnsdata.find_nsd(), "-v"], capture_output=True, text=True)
    return (r.stderr or r.stdout).splitlines()[0].strip()


# ---------------------------------------------------------------------------------------- C

def _pkg_config(args: list[str], env: dict | None = None) -> str:
    return subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def _compile(tag: str, flags: list[str], env: dict | None = None) -> Path:
    BUILD.mkdir(exist_ok=True)
    out = BUILD / f"c_client-{tag}"
    cmd = [os.environ.get("CC", "gcc"), "-O2", "-Wall", "-Wextra", "-DCARES_NO_DEPRECATED",
           "-o", str(out), str(HERE / "c_client.c"), *flags]
    log("build: " + " ".join(cmd))
    subprocess.run(cmd, check=True, env=env)
    return out


def build_c_client(prefix: Path | None) -> Path:
    """c_client.c against the system c-ares (prefix None) or the one installed under prefix."""
    if prefix is None:
        return _compile("system", _pkg_config(["--cflags", "--libs", "libcares"]).split())
    env = dict(os.environ)
    pcdirs = [d for d in (prefix / "lib" / "pkgconfig", prefix / "lib64" / "pkgconfig")
              if (d / "libcares.pc").exists()]
    if pcdirs:
        env["PKG_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(pcdirs[0]), env.get("PKG_CONFIG_PATH")]))
        flags = _pkg_config(["--cflags", "--libs", "libcares"], env).split()
        libdir = _pkg_config(["--variable=libdir", "libcares"], env)
    else:
        libdir = str(prefix / "lib")
        flags = [f"-I{prefix / 'include'}", f"-L{libdir}", "-lcares"]
    # Same SONAME as the system library: without the rpath it would run on the system c-ares.
    return _compile(prefix.name, [*flags, f"-Wl,-rpath,{libdir}"], env)


def build_c_client_on_pycares4(python: str, headers: Path) -> Path:
    """c_client.c linked against the c-ares that pycares 4.x bundles in its extension module.

    pycares 4.x links c-ares statically into pycares/_cares.abi3.so and exports its symbols; the
    module also references a few CPython symbols, which libpython satisfies (the C client never
    calls them). Headers come from a c-ares install of the same series (same ABI)."""
    probe = ("import sysconfig, pycares._cares as m; "
             "print(m.__file__); print(sysconfig.get_config_var('LIBDIR')); "
             "print(sysconfig.get_config_var('LDLIBRARY'))")
    so, libdir, ldlibrary = subprocess.run([python, "-c", probe], check=True, capture_output=True,
                                           text=True).stdout.split()
    libpython = Path(libdir) / ldlibrary
    if not ldlibrary.endswith(".so") and ".so." not in ldlibrary or not libpython.exists():
        raise RuntimeError(f"{python} has no shared libpython ({ldlibrary})")
    return _compile("pycares4-bundled", [f"-I{headers}", so, str(libpython),
                                         f"-Wl,-rpath,{Path(so).parent}:{libdir}"])


def build_ng_on_pycares4(ng_python: str, py4: str, headers: Path) -> Path:
    """pycares_ng installed (pip --target) into benchmarks/build/ng-on-pycares4, linked against the
    c-ares that pycares 4.x bundles (its _cares.abi3.so exports c-ares' symbols and has no SONAME,
    so the extension records its path): pycares_ng and pycares 4.11 on the very same c-ares build."""
    so = subprocess.run([py4, "-c", "import pycares._cares as m; print(m.__file__)"], check=True,
                        capture_output=True, text=True).stdout.strip()
    version = module_cares_version(py4, "pycares")
    prefix = BUILD / "pycares4-cares-prefix"
    (prefix / "lib" / "pkgconfig").mkdir(parents=True, exist_ok=True)
    (prefix / "lib" / "pkgconfig" / "libcares.pc").write_text(
        f"Name: c-ares\nDescription: c-ares {version} as bundled in {so}\nVersion: {version}\n"
        f"Cflags: -I{headers}\nLibs: {so}\n")
    target = BUILD / "ng-on-pycares4"
    shutil.rmtree(target, ignore_errors=True)
    env = dict(os.environ, PYCARES_NG_CARES_PREFIX=str(prefix))
    log(f"build: pycares_ng into {target} against {so}")
    subprocess.run([ng_python, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(REPO)], check=True, env=env)
    return target


def c_client_identity(exe: Path) -> tuple[str, str]:
    """(c-ares version, library file) that the built client runs on."""
    out = subprocess.run([str(exe), "--version"], check=True, capture_output=True, text=True).stdout
    version, _, lib = out.strip().partition(" ")
    return version, lib


# ---------------------------------------------------------------------------------------- Python

def ensure_venv(venv: Path, module: str, dist: str, version: str) -> Path:
    """A venv under benchmarks/ with dist==version from PyPI (made on first use)."""
    py = venv / "bin" / "python"
    check = (f"import {module}, sys, importlib.metadata as md; "
             f"sys.exit(md.version({dist!r}) != {version!r})")
    probe = [str(py), "-c", check]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    log(f"creating {venv} with {dist}=={version}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", f"{dist}=={version}"], check=True)
    subprocess.run(probe, check=True)
    return py


def ensure_pycares4_venv(venv: Path) -> Path:
    return ensure_venv(venv, "pycares", "pycares", PYCARES4_VERSION)


def ensure_aiodns_venv(venv: Path, spec: str, loops: list[str]) -> Path:
    """A venv with aiodns (and the pycares it pulls) from PyPI, plus uvloop if asked for."""
    py = venv / "bin" / "python"
    wanted = [spec] + (["uvloop"] if "uvloop" in loops else [])
    modules = ["aiodns"] + (["uvloop"] if "uvloop" in loops else [])
    pinned = spec.partition("==")[2]
    check = f"import {', '.join(modules)}, sys; sys.exit({pinned!r} and aiodns.__version__ != {pinned!r})"
    probe = [str(py), "-c", check]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    if not py.exists():
        log(f"creating {venv} with {' '.join(wanted)}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *wanted], check=True)
    subprocess.run(probe, check=True)
    return py


def python_versions(python: str, modules: list[str]) -> dict:
    """{module: __version__} as seen by ``python`` (None when it cannot import it)."""
    code = ("import importlib, json, sys\nout = {}\nfor m in sys.argv[1:]:\n    try:\n"
            "        out[m] = getattr(importlib.import_module(m), '__version__', '?')\n"
            "    except Exception:\n        out[m] = None\nprint(json.dumps(out))")
    r = subprocess.run([python, "-c", code, *modules], capture_output=True, text=True, cwd=HERE)
    return json.loads(r.stdout) if r.returncode == 0 else {m: None for m in modules}


def module_cares_version(python: str, module: str) -> str | None:
    r = subprocess.run([python, "-c", f"import {module} as m; print(getattr(m, 'ARES_VERSION', ''))"],
                       capture_output=True, text=True, cwd=HERE)
    return r.stdout.strip() or None if r.returncode == 0 else None


def can_import(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True, cwd=HERE).returncode == 0


# ---------------------------------------------------------------------------------------- runs

class Client:
    """One thing to measure: a command line that prints the JSON result of one run."""

    def __init__(self, label: str, kind: str, api: str, argv: list[str], qcache: str = "default",
                 mode: str = "sock_state_cb", env: dict | None = None):
        self.label, self.kind, self.api, self.argv = label, kind, api, argv
        self.env = env                     # extra environment (PYTHONPATH of a --target build)
        self.qcache = qcache               # "on", "off" or "default" (the library's: on from 1.23)
        self.mode = mode                   # "sock_state_cb" or "event_thread"
        self.cares: str | None = None      # c-ares version
        self.cares_lib: str | None = None  # file the c-ares code is loaded from
        self.version: str | None = None    # what the client says it is
        self.samples: dict[int, list[dict]] = {}

    def command(self, port: int, n: int, inflight: int) -> list[str]:
        return [*self.argv, "--server", "127.0.0.1", "--port", str(port), "--n", str(n),
                "--inflight", str(inflight)]


def run_once(client: Client, port: int, n: int, inflight: int, cpu: int | None) -> dict:
    def pin():
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    r = subprocess.run(client.command(port, n, inflight), capture_output=True, text=True,
                       timeout=600, cwd=HERE, preexec_fn=pin, env=dict(os.environ, **(client.env or {})))
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"{client.label}: exit {r.returncode}, no result\n{r.stderr}")
    result = json.loads(lines[-1])
    if r.returncode != 0:
        log(f"{client.label}: {result.get('failed')} of {n} queries failed (exit {r.returncode})")
    return result


def callgrind_per_query(client: Client, port: int, inflight: int, small: int, big: int,
                        cpu: int | None) -> float | None:
    """Instructions per query under callgrind: (I(big) - I(small)) / (big - small), so start-up,
    imports and channel set-up cancel out."""
    def pin():
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    counts = []
    for n in (small, big):
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               *client.command(port, n, inflight)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=HERE, preexec_fn=pin,
                           env=dict(os.environ, **(client.env or {})))
        found = [ln for ln in r.stderr.splitlines() if "Collected :" in ln]
        if not found:
            log(f"callgrind {client.label}: no count (exit {r.returncode})\n{r.stderr[-2000:]}")
            return None
        counts.append(int(found[-1].split(":")[-1].strip()))
    return (counts[1] - counts[0]) / (big - small)


@functools.lru_cache(maxsize=None)
def _file_digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def same_library(a: str | None, b: str | None) -> bool:
    """The same file, or a byte-identical copy (the same pycares wheel in two venvs)."""
    if not a or not b:
        return False
    return a == b or (_file_digest(a) is not None and _file_digest(a) == _file_digest(b))


def effective_qcache(row: dict) -> str:
    if row["qcache"] != "default":
        return row["qcache"]
    return "on" if row["cares"] and version_tuple(row["cares"]) >= (1, 23) else "off"


def dnsrec_reference(row: dict, rows: list[dict]) -> dict | None:
    """The C dnsrec row on the same library file with the same query cache setting."""
    for r in rows:
        if (r["kind"] == "c" and r["api"] == "dnsrec" and r["inflight"] == row["inflight"]
                and effective_qcache(r) == effective_qcache(row) and same_library(row["cares_lib"], r["cares_lib"])):
            return r
    return None


def reference_for(row: dict, rows: list[dict]) -> tuple[dict | None, str | None]:
    """The C (legacy API) row a binding is compared with: same library file (or an identical
    copy of it), else same version, else same series."""
    cs = [r for r in rows if r["kind"] == "c" and r["api"] == "legacy" and r["inflight"] == row["inflight"]
          and effective_qcache(r) == effective_qcache(row)]
    for r in cs:
        if same_library(row["cares_lib"], r["cares_lib"]):
            return r, None
    for r in cs:
        if r["cares"] == row["cares"]:
            return r, f"vs {r['client']}: another build of {r['cares']}"
    for r in cs:
        if series(r["cares"]) == series(row["cares"]):
            return r, f"vs {r['client']} (c-ares {r['cares']})"
    return None, None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="pycares_ng benchmark: CPU per query vs a C libcares client")
    p.add_argument("--quick", action="store_true", help="smoke run: N=5000")
    p.add_argument("--n", type=int, help=f"distinct names per run (default {ZONE_NAMES}, --quick 5000)")
    p.add_argument("--repeat", type=int, default=3, help="measurements per cell; the median is kept")
    p.add_argument("--inflight", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--cares-prefix", type=Path, action="append", default=[],
                   help=f"c-ares install prefix for another C client build (repeatable; default: the "
                        f"first of {', '.join(map(str, DEFAULT_PREFIXES_134))} that exists)")
    p.add_argument("--ng-python", action="append", default=[], metavar="[LABEL=]PATH",
                   help="interpreter that imports pycares_ng (repeatable, e.g. one per c-ares era)")
    p.add_argument("--pycares4-python", help="interpreter with pycares 4.11 (default: own venv)")
    p.add_argument("--pycares4-venv", type=Path, default=HERE / ".venv-pycares4")
    p.add_argument("--no-pycares4", action="store_true", help="skip pycares 4.11")
    p.add_argument("--no-pycares5", action="store_true", help=f"skip pycares {PYCARES5_VERSION}")
    p.add_argument("--pycares5-venv", type=Path, default=HERE / ".venv-pycares5")
    p.add_argument("--no-cyares", action="store_true", help=f"skip cyares {CYARES_VERSION}")
    p.add_argument("--cyares-venv", type=Path, default=HERE / ".venv-cyares")
    p.add_argument("--no-event-thread", action="store_true", help="skip the event-thread runs")
    p.add_argument("--ng-on-pycares4", action="store_true",
                   help="also build pycares_ng against the c-ares bundled in pycares 4.11 (the first "
                        "--ng-python builds it) and run it: both bindings on the very same c-ares")
    p.add_argument("--callgrind", action="store_true",
                   help="also count instructions per query under callgrind (valgrind), per client")
    p.add_argument("--callgrind-n", type=int, nargs=2, default=[500, 2500], metavar=("SMALL", "BIG"),
                   help="the two run sizes whose difference gives instructions/query (default 500 2500)")
    p.add_argument("--no-c-dnsrec", action="store_true",
                   help="skip the C client's ares_query_dnsrec mode (run by default on c-ares >= 1.28, "
                        "query cache off)")
    p.add_argument("--no-pin", action="store_true", help="do not pin NSD and the clients to different CPUs")
    p.add_argument("--asyncio", action="store_true",
                   help="also run the workload on asyncio: pycares_ng's asyncio backend vs aiodns")
    p.add_argument("--asyncio-loop", nargs="+", default=["asyncio"], choices=["asyncio", "uvloop"],
                   help="event loops for --asyncio (uvloop must be importable; it is installed in "
                        "the aiodns venv on demand)")
    p.add_argument("--aiodns-python", help="interpreter with aiodns (default: own venv)")
    p.add_argument("--aiodns-venv", type=Path, default=HERE / ".venv-aiodns")
    p.add_argument("--aiodns-spec", default=AIODNS_SPEC,
                   help=f"what to pip install into the aiodns venv (default {AIODNS_SPEC!r}; "
                        f"'aiodns' for the latest)")
    p.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = p.parse_args(argv)
    n = args.n or (5000 if args.quick else ZONE_NAMES)
    if not 0 < n <= ZONE_NAMES:
        p.error(f"--n must be in 1..{ZONE_NAMES} (the zone's size)")

    # CPU pinning: NSD (and this orchestrator, idle while measuring) on one CPU, the client on another.
    cpus = sorted(os.sched_getaffinity(0))
    pin = not args.no_pin and len(cpus) >= 2
    server_cpu, client_cpu = (cpus[0], cpus[1]) if pin else (None, None)

    # ---- the Python clients (first: the pycares 4 venv decides one of the C builds)
    py_client = str(HERE / "py_client.py")
    py_clients: list[Client] = []
    ng_pythons = list(args.ng_python)
    if not ng_pythons:
        if can_import(sys.executable, "pycares_ng"):
            ng_pythons = [sys.executable]
        else:
            log("pycares_ng is not importable from this interpreter; skipping it "
                "(pip install -e . first, or pass --ng-python)")
    for spec in ng_pythons:
        label, _, path = spec.rpartition("=")
        if not can_import(path, "pycares_ng"):
            log(f"{path} cannot import pycares_ng; skipping it")
            continue
        tag = f" [{label}]" if label else ""
        argv = [path, py_client, "--module", "pycares_ng"]
        cares = module_cares_version(path, "pycares_ng") or "0"
        py_clients.append(Client(f"pycares_ng{tag}", "pycares_ng", "query", argv))
        if version_tuple(cares) >= (1, 23):
            py_clients.append(Client(f"pycares_ng{tag} qcache=0", "pycares_ng", "query",
                                     [*argv, "--qcache-max-ttl", "0"], qcache="off"))
        if not args.no_event_thread:
            py_clients.append(Client(f"pycares_ng{tag} event-thread", "pycares_ng", "query",
                                     [*argv, "--event-thread"], mode="event_thread"))
    if args.asyncio:
        asyncio_client = str(HERE / "asyncio_client.py")
        for c in list(py_clients):
            python = c.argv[0]
            for loop in args.asyncio_loop:
                if loop != "asyncio" and not can_import(python, loop):
                    log(f"{python} cannot import {loop}; no {c.label} asyncio run on it")
                    continue
                label = c.label.replace("pycares_ng", f"pycares_ng asyncio/{loop}", 1)
                py_clients.append(Client(label, "pycares_ng-asyncio", f"asyncio/{loop}",
                                         [python, asyncio_client, "--module", "pycares_ng", "--loop", loop]))
        aiodns_py = args.aiodns_python or str(ensure_aiodns_venv(args.aiodns_venv, args.aiodns_spec,
                                                                 args.asyncio_loop))
        versions = python_versions(aiodns_py, ["aiodns", "pycares", "uvloop"])
        log(f"aiodns from {aiodns_py}: " + ", ".join(f"{m} {v}" for m, v in versions.items() if v))
        for loop in args.asyncio_loop:
            if loop != "asyncio" and not versions.get(loop):
                log(f"{aiodns_py} cannot import {loop}; no aiodns run on it")
                continue
            py_clients.append(Client(f"aiodns {versions['aiodns']}/{loop}", "aiodns", f"asyncio/{loop}",
                                     [aiodns_py, asyncio_client, "--module", "aiodns", "--loop", loop]))
    py4 = None
    if not args.no_pycares4:
        py4 = args.pycares4_python or str(ensure_pycares4_venv(args.pycares4_venv))
        py_clients.append(Client(f"pycares {PYCARES4_VERSION}", "pycares", "query",
                                 [py4, py_client, "--module", "pycares"]))
    if not args.no_pycares5:
        py5 = str(ensure_venv(args.pycares5_venv, "pycares", "pycares", PYCARES5_VERSION))
        argv = [py5, py_client, "--module", "pycares", "--api", "v5"]
        py_clients.append(Client(f"pycares {PYCARES5_VERSION}", "pycares5", "v5", argv))
        if not args.no_event_thread:
            py_clients.append(Client(f"pycares {PYCARES5_VERSION} event-thread", "pycares5", "v5",
                                     [*argv, "--event-thread"], mode="event_thread"))
    if not args.no_cyares:
        pycy = str(ensure_venv(args.cyares_venv, "cyares", "cyares", CYARES_VERSION))
        argv = [pycy, py_client, "--module", "cyares", "--api", "cyares"]
        py_clients.append(Client(f"cyares {CYARES_VERSION}", "cyares", "cyares", argv))
        if not args.no_event_thread:
            py_clients.append(Client(f"cyares {CYARES_VERSION} event-thread", "cyares", "cyares",
                                     [*argv, "--event-thread"], mode="event_thread"))

    # ---- the C clients
    c_exes: list[Path] = [build_c_client(None)]
    prefixes = list(args.cares_prefix) or [p for p in DEFAULT_PREFIXES_134 if p.exists()][:1]
    prefix_versions = {}
    for prefix in prefixes:
        exe = build_c_client(prefix)
        prefix_versions[prefix] = c_client_identity(exe)[0]
        c_exes.append(exe)
    if py4:
        bundled = module_cares_version(py4, "pycares")
        headers = [pre / "include" for pre, v in prefix_versions.items() if series(v) == series(bundled)]
        if headers:
            try:
                c_exes.append(build_c_client_on_pycares4(py4, headers[0]))
            except (RuntimeError, subprocess.CalledProcessError, ValueError) as e:
                log(f"no C client on pycares 4's bundled c-ares: {e}")
            if args.ng_on_pycares4 and ng_pythons:
                ng_py = ng_pythons[0].rpartition("=")[2]
                try:
                    target = build_ng_on_pycares4(ng_py, py4, headers[0])
                except subprocess.CalledProcessError as e:
                    log(f"no pycares_ng on pycares 4's bundled c-ares: {e}")
                else:
                    env = {"PYTHONPATH": str(target)}
                    argv = [ng_py, py_client, "--module", "pycares_ng"]
                    py_clients.append(Client("pycares_ng [pycares4-bundled]", "pycares_ng", "query", argv, env=env))
                    py_clients.append(Client("pycares_ng [pycares4-bundled] qcache=0", "pycares_ng", "query",
                                             [*argv, "--qcache-max-ttl", "0"], qcache="off", env=env))
                    if not args.no_event_thread:
                        py_clients.append(Client("pycares_ng [pycares4-bundled] event-thread", "pycares_ng", "query",
                                                 [*argv, "--event-thread"], mode="event_thread", env=env))
        else:
            log(f"no C client on pycares 4's bundled c-ares {bundled}: needs headers of a "
                f"{series(bundled)}.x prefix (--cares-prefix)")
    clients: list[Client] = []
    for exe in c_exes:
        version, lib = c_client_identity(exe)
        tag = exe.name.removeprefix("c_client-")
        apis = ["legacy"] + (["dnsrec"] if not args.no_c_dnsrec and version_tuple(version) >= (1, 28) else [])
        caches = ["off", "on"] if version_tuple(version) >= (1, 23) else ["off"]
        for api in apis:
            for qc in caches:
                suffix = f" qcache={qc}" if len(caches) > 1 else ""
                c = Client(f"c {api} [{tag}]{suffix}", "c", api, [str(exe), "--mode", api, "--qcache", qc],
                           qcache=qc)
                c.cares, c.cares_lib = version, lib
                clients.append(c)
    clients += py_clients

    # ---- the server, warm-up, measurements
    if server_cpu is not None:
        os.sched_setaffinity(0, {server_cpu})  # NSD inherits it; clients are moved in preexec_fn
    tmp = Path(tempfile.mkdtemp(prefix="pycares_ng_bench."))
    server = start_server(tmp / "nsd")
    try:
        log(f"{nsd_version()} on {server.address} (zone bench.test., {ZONE_NAMES} names), "
            f"pid {server.proc.pid}")
        for c in clients:  # warms NSD (zone pages, buffers) and each client (imports, disk cache)
            warm = run_once(c, server.port, min(n, 5000), 100, client_cpu)
            c.cares, c.cares_lib, c.version = warm.get("cares"), warm.get("cares_lib"), warm.get("client")
            if warm["ok"] != warm["n"]:
                raise RuntimeError(f"warm-up of {c.label}: only {warm['ok']}/{warm['n']} answers")
            log(f"warm-up {c.label}: {c.version}, c-ares {c.cares} from {c.cares_lib}: "
                f"{warm['cpu_us_per_query']:.2f} us/query")
        for rep in range(args.repeat):
            for inflight in args.inflight:
                for c in clients:
                    r = run_once(c, server.port, n, inflight, client_cpu)
                    c.samples.setdefault(inflight, []).append(r)
                    log(f"[{rep + 1}/{args.repeat}] inflight={inflight:<5} {c.label:<34} "
                        f"{r['qps']:>9.0f} qps {r['cpu_us_per_query']:>8.2f} us/query  ok {r['ok']}/{r['n']}")
        server_address = server.address
        callgrind: dict[tuple[str, int], float | None] = {}
        if args.callgrind:
            for inflight in args.inflight:
                for c in clients:
                    ipq = callgrind_per_query(c, server.port, inflight, *args.callgrind_n, client_cpu)
                    callgrind[(c.label, inflight)] = ipq
                    log(f"callgrind inflight={inflight:<5} {c.label:<34} "
                        f"{'-' if ipq is None else f'{ipq:,.0f}'} instructions/query")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    # ---- report
    rows = []
    for inflight in args.inflight:
        for c in clients:
            s = c.samples[inflight]
            rows.append({
                "client": c.label, "kind": c.kind, "api": c.api, "version": c.version,
                "qcache": c.qcache, "mode": c.mode,
                "instr_per_query": callgrind.get((c.label, inflight)),
                "cares": c.cares, "cares_lib": c.cares_lib, "inflight": inflight, "n": n,
                "qps": statistics.median(x["qps"] for x in s),
                "cpu_us_per_query": statistics.median(x["cpu_us_per_query"] for x in s),
                "cpu_user_us_per_query": statistics.median(x["cpu_user_s"] * 1e6 / x["n"] for x in s),
                "cpu_sys_us_per_query": statistics.median(x["cpu_sys_s"] * 1e6 / x["n"] for x in s),
                "ok_min": min(x["ok"] for x in s),
                "samples": s,
            })
    for row in rows:
        ref, note = reference_for(row, rows)
        row["reference"] = ref["client"] if ref else None
        row["ratio_vs_c"] = round(row["cpu_us_per_query"] / ref["cpu_us_per_query"], 3) if ref else None
        row["ratio_note"] = note
        dref = dnsrec_reference(row, rows) if row["kind"] != "c" else None
        row["dnsrec_reference"] = dref["client"] if dref else None
        row["cpu_vs_c_dnsrec"] = (round(row["cpu_us_per_query"] / dref["cpu_us_per_query"], 3) if dref else None)
        row["instr_vs_c_dnsrec"] = (round(row["instr_per_query"] / dref["instr_per_query"], 3)
                                    if dref and row["instr_per_query"] and dref["instr_per_query"] else None)
        if row["kind"] == "pycares_ng" and row["ratio_vs_c"] is not None:
            row["goal_met"] = row["ratio_vs_c"] <= GOAL_RATIO
        if row["kind"] == "pycares_ng-asyncio":
            # vs aiodns on the same loop and depth, whatever c-ares each runs on.
            peers = [r for r in rows if r["kind"] == "aiodns" and r["api"] == row["api"]
                     and r["inflight"] == row["inflight"]]
            if peers:
                row["aiodns_reference"] = peers[0]["client"]
                row["ratio_vs_aiodns"] = round(row["cpu_us_per_query"] / peers[0]["cpu_us_per_query"], 3)
                row["goal_aiodns_met"] = row["ratio_vs_aiodns"] <= GOAL_RATIO_AIODNS

    for row in rows:  # the goal against pycares 4.11: instructions (and CPU) per query
        if row["kind"] == "pycares_ng":
            p4 = [r for r in rows if r["kind"] == "pycares" and r["inflight"] == row["inflight"]]
            if p4:
                row["cpu_vs_pycares4"] = round(row["cpu_us_per_query"] / p4[0]["cpu_us_per_query"], 3)
                if row["instr_per_query"] and p4[0]["instr_per_query"]:
                    row["instr_vs_pycares4"] = round(row["instr_per_query"] / p4[0]["instr_per_query"], 3)

    print()
    print(f"N = {n} distinct A names per run, median of {args.repeat} runs. CPU = getrusage(RUSAGE_SELF) "
          f"user+sys over the resolve phase.\n'vs C' = CPU/query / that of the C client (legacy API) "
          f"on the same c-ares library file and query cache setting; 'vs dnsrec' = CPU ratio / instructions "
          f"ratio to the C dnsrec client on the same file and cache setting (instructions: --callgrind).")
    width = max([30] + [len(row["client"]) for row in rows])
    header = (f"{'client':<{width}} {'c-ares':<8} {'inflight':>8} {'qps':>9} {'CPU us/q':>9} "
              f"{'(user+sys)':>12} {'vs C':>6} {'instr/q':>9} {'vs dnsrec':>14}  note")
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = f"{row['ratio_vs_c']:.2f}x" if row["ratio_vs_c"] is not None else "-"
        notes = []
        if row.get("goal_met") is not None:
            notes.append(f"goal <= {GOAL_RATIO}x: {'met' if row['goal_met'] else 'NOT met'}")
        if row.get("ratio_vs_aiodns") is not None:
            notes.append(f"{row['ratio_vs_aiodns']:.2f}x aiodns (goal <= {GOAL_RATIO_AIODNS}x: "
                         f"{'met' if row['goal_aiodns_met'] else 'NOT met'})")
        if row.get("cpu_vs_pycares4") is not None:
            extra = f", instr {row['instr_vs_pycares4']:.2f}x" if row.get("instr_vs_pycares4") else ""
            notes.append(f"{row['cpu_vs_pycares4']:.2f}x pycares {PYCARES4_VERSION}{extra}")
        if row["ratio_note"]:
            notes.append(row["ratio_note"])
        if row["ok_min"] != n:
            notes.append(f"only {row['ok_min']}/{n} answered in some run")
        split = f"({row['cpu_user_us_per_query']:.1f}+{row['cpu_sys_us_per_query']:.1f})"
        instr = f"{row['instr_per_query']:,.0f}" if row["instr_per_query"] else "-"
        vs_d = "-"
        if row["cpu_vs_c_dnsrec"] is not None:
            vs_d = f"{row['cpu_vs_c_dnsrec']:.2f}"
            vs_d += f"/{row['instr_vs_c_dnsrec']:.2f}" if row["instr_vs_c_dnsrec"] is not None else ""
        print(f"{row['client']:<{width}} {row['cares'] or '?':<8} {row['inflight']:>8} {row['qps']:>9.0f} "
              f"{row['cpu_us_per_query']:>9.2f} {split:>12} {ratio:>6} {instr:>9} {vs_d:>14}  {'; '.join(notes)}")

    report = {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": {"machine": platform.machine(), "kernel": platform.release(), "cpu": _cpu_model(),
                 "cpus": os.cpu_count(), "pinned": pin, "server_cpu": server_cpu,
                 "client_cpu": client_cpu, "python": sys.version.split()[0],
                 "python_cflags": sysconfig.get_config_var("OPT")},
        "server": {"software": nsd_version(), "address": server_address, "zone": dnsdata.BENCH_ORIGIN,
                   "zone_names": ZONE_NAMES},
        "n": n, "repeat": args.repeat, "inflight": args.inflight, "goal_ratio": GOAL_RATIO,
        "goal_ratio_aiodns": GOAL_RATIO_AIODNS if args.asyncio else None,
        "callgrind_n": args.callgrind_n if args.callgrind else None,
        "clients": [{"label": c.label, "kind": c.kind, "api": c.api, "version": c.version,
                     "qcache": c.qcache, "mode": c.mode, "env": c.env,
                     "cares": c.cares, "cares_lib": c.cares_lib, "argv": c.argv} for c in clients],
        "rows": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {args.output}")
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
