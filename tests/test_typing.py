"""``mypy --strict``: the package itself, and ordinary user code over every public API
(tests/typing_sample*.py, which pins result types down with ``assert_type``).

The package is checked as it is laid out when installed (``backends/`` is
``pycares_ng.backends``), from a copy of this checkout, with the ``[tool.mypy]`` settings of
pyproject.toml."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("mypy")


def test_mypy_strict_package_and_samples(tmp_path: Path) -> None:
    package = tmp_path / "pycares_ng"
    shutil.copytree(ROOT / "pycares_ng", package, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copytree(ROOT / "backends", package / "backends", ignore=shutil.ignore_patterns("__pycache__"))
    samples = sorted(str(path) for path in (ROOT / "tests").glob("typing_sample*.py"))
    assert samples, "no tests/typing_sample*.py"
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-error-summary", "pycares_ng", *samples],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == ""


def test_the_sample_would_catch_a_wrong_type(tmp_path: Path) -> None:
    """The checks are real: a wrong result type in user code is reported."""
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "from typing import List\n"
        "from typing_extensions import assert_type\n"
        "import pycares_ng\n"
        "from pycares_ng.backends import select\n"
        "r = select.Resolver()\n"
        "assert_type(r.wait(r.query('x', 'A')), List[pycares_ng.ares_query_mx_result])\n"
        "missing: int = pycares_ng.errno.ARES_NO_SUCH_CODE\n")
    package = tmp_path / "pycares_ng"
    shutil.copytree(ROOT / "pycares_ng", package, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copytree(ROOT / "backends", package / "backends", ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(tmp_path / ".mypy_cache"), str(wrong)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    assert 'Expression is of type "list[ares_query_a_result]"' in proc.stdout
    assert "ARES_NO_SUCH_CODE" in proc.stdout
