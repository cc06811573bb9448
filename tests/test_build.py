"""The build: which libcares is loaded, the version floor, stubs and typing."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

import pycares_ng
from pycares_ng import _core

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_runtime_library_is_the_one_built_against():
    # Both eras ship libcares.so.2: a build against a prefix that loads the system library at
    # run time (missing rpath) would pass every other test while testing the wrong c-ares.
    assert pycares_ng.ARES_VERSION == _core.ARES_BUILD_VERSION


def test_version_floor():
    major, minor = (int(x) for x in pycares_ng.ARES_VERSION.split(".")[:2])
    assert (major, minor) >= (1, 18)


def test_expected_era_when_ci_says_so():
    expected = os.environ.get("PYCARES_NG_EXPECT_CARES")
    if expected is None:
        pytest.skip("PYCARES_NG_EXPECT_CARES not set (CI sets it per era)")
    assert pycares_ng.ARES_VERSION.startswith(expected)


def test_stubs_cover_the_extension():
    stub = (pathlib.Path(pycares_ng.__file__).parent / "_core.pyi").read_text()
    public = [n for n in dir(_core) if not n.startswith("__")]
    missing = [n for n in public if not re.search(rf"^(class |def )?{re.escape(n)}\b", stub, re.M)]
    assert missing == []


def test_py_typed_marker_ships():
    assert (pathlib.Path(pycares_ng.__file__).parent / "py.typed").exists()


def test_mypy_accepts_typed_usage(tmp_path):
    mypy = pytest.importorskip("mypy.api")
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import pycares_ng\n"
        "from typing import Any, Optional\n"
        "def cb(result: Any, errno: Optional[int]) -> None: ...\n"
        "ch = pycares_ng.Channel(servers=['127.0.0.1'], timeout=1.5, tries=2)\n"
        "ch.query('example.test', pycares_ng.QUERY_TYPE_A, cb)\n"
        "t: float = ch.timeout(0.5)\n"
        "servers: list[str] = ch.servers\n"
        "r = pycares_ng.ares_query_mx_result('mx.example.test', 10, 300)\n"
        "p: int = r.priority\n"
        "ch.close()\n"
    )
    bad = tmp_path / "bad.py"
    bad.write_text("import pycares_ng\nch = pycares_ng.Channel(timeout='soon')\nch.query(1, 'A')\n")
    out, err, status = mypy.run(["--strict", "--no-incremental", str(sample)])
    assert status == 0, out
    out, err, status = mypy.run(["--no-incremental", str(bad)])
    assert status != 0 and "timeout" in out and "query" in out, out


def test_building_without_cares_names_what_to_install(tmp_path):
    # pkg-config that knows no libcares: setup.py must stop with one message naming the packages.
    fake = tmp_path / "pkg-config"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")
    env.pop("PYCARES_NG_CARES_PREFIX", None)
    proc = subprocess.run([sys.executable, str(ROOT / "setup.py"), "--version"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "libc-ares-dev" in proc.stderr and "c-ares-devel" in proc.stderr and "brew install c-ares" in proc.stderr


def test_building_against_too_old_cares_is_refused(tmp_path):
    fake = tmp_path / "pkg-config"
    fake.write_text("#!/bin/sh\necho 1.17.2\n")
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")
    env.pop("PYCARES_NG_CARES_PREFIX", None)
    proc = subprocess.run([sys.executable, str(ROOT / "setup.py"), "--version"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "older than 1.18" in proc.stderr
