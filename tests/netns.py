"""A private network + mount namespace where the *system* resolver uses a test DNS server.

``socket.getaddrinfo`` cannot be pointed at a server on another port than 53, nor at a hosts
file other than /etc/hosts. Inside ``unshare --net --mount`` (root only) both become possible
without touching the machine: the namespace has its own loopback (so NSD can take port 53 on
127.0.0.1), and /etc/resolv.conf and /etc/hosts can be bind-mounted over for that namespace
only. Used by tests/test_blocking.py (comparing pycares_ng's helpers with the socket module on
real DNS names) and the benchmarks against system resolvers (blocking, gevent, tornado), whose
outer half is :func:`run_benchmark`.

Run a script inside with :func:`command`; in the script, call :func:`setup` first.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

ENV_MARK = "PYCARES_NG_IN_NETNS"


def unavailable_reason() -> Optional[str]:
    """Why a private namespace cannot be made here (None if it can)."""
    if os.geteuid() != 0:
        return "needs root (unshare --net --mount)"
    for tool in ("unshare", "ip", "mount"):
        if shutil.which(tool) is None and shutil.which(tool, path="/usr/sbin:/sbin") is None:
            return f"{tool} is not installed"
    try:
        probe = subprocess.run(["unshare", "--net", "--mount", "--fork", "true"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if probe.returncode != 0:
        return f"unshare --net --mount failed: {probe.stderr.strip()}"
    return None


def command(script: str, *args: str) -> List[str]:
    """argv running ``python script args…`` in a new network + mount namespace."""
    return ["unshare", "--net", "--mount", "--fork", sys.executable, script, *args]


def _run(*argv: str) -> None:
    subprocess.run(list(argv), check=True, capture_output=True)


def setup(workdir: Path, resolv_conf: str, hosts: str) -> None:
    """Inside the namespace: loopback up, and /etc/resolv.conf and /etc/hosts replaced (for
    this namespace only) by files with the given text, written under ``workdir``."""
    if os.environ.get(ENV_MARK) != "1":
        raise RuntimeError("netns.setup() runs only inside netns.command() (it bind-mounts /etc files)")
    _run("ip", "link", "set", "lo", "up")
    _run("mount", "--make-rprivate", "/")  # our mounts must not propagate to the machine
    for name, text in (("resolv.conf", resolv_conf), ("hosts", hosts)):
        path = workdir / name
        path.write_text(text)
        _run("mount", "--bind", str(path), f"/etc/{name}")


def env() -> dict:
    """Environment for :func:`command`: marks the child as namespaced."""
    return dict(os.environ, **{ENV_MARK: "1"})


def run_benchmark(name: str, script: str, python: str, inner_args: List[str], table,
                  output: Optional[Path] = None, drop_env: tuple = ()) -> int:
    """The outer half of a namespace benchmark: re-run ``script --inner inner_args`` with
    ``python`` inside a new namespace, print ``table(result)`` from the JSON line it prints last,
    and write the JSON to ``output``. ``drop_env`` names (prefixes of) variables to unset."""
    reason = unavailable_reason()
    if reason:
        print(f"{name}: cannot make a private network namespace here: {reason}", file=sys.stderr)
        return 2
    python = os.path.abspath(python) if os.sep in python else python  # the child runs in another cwd
    argv = ["unshare", "--net", "--mount", "--fork", python, str(Path(script).resolve()), "--inner", *inner_args]
    environ = env()
    for key in [k for k in environ if drop_env and k.startswith(drop_env)]:
        del environ[key]
    proc = subprocess.run(argv, env=environ, capture_output=True, text=True, cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(table(result))
    if output is not None:
        output.write_text(json.dumps(result, indent=2) + "\n")
    return 0
