"""docs/differences.rst names every deliberate difference the oracle tables allow, and nothing
the tables no longer allow, so the page and the tests cannot drift apart."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "oracle"))

import test_aiodns3_table as aiodns3  # noqa: E402
import test_aiodns4_table as aiodns4  # noqa: E402
import test_pycares4_table as pycares4  # noqa: E402
import test_pycares5_table as pycares5  # noqa: E402

PAGE = (ROOT / "docs" / "differences.rst").read_text()
NAMED = set(re.findall(r"``([^`]+)``", PAGE))


def test_every_pycares4_difference_is_documented() -> None:
    missing = sorted((set(pycares4.ALLOWED) | set(pycares4.ERA_118)) - NAMED)
    assert missing == [], f"allowed in the table but not on docs/differences.rst: {missing}"


def test_every_aiodns3_difference_is_documented() -> None:
    keys = {key for _, key in (*aiodns3.ORACLE_BUGS, *aiodns3.ERA_118)}
    missing = sorted(keys - NAMED)
    assert missing == [], f"allowed in the aiodns table but not on docs/differences.rst: {missing}"


def test_every_pycares5_difference_is_documented() -> None:
    missing = sorted((set(pycares5.ALLOWED) | set(pycares5.ERA_118) | set(pycares5.ORACLE_HANGS)) - NAMED)
    assert missing == [], f"allowed in the pycares 5 table but not on docs/differences.rst: {missing}"


def test_every_aiodns4_difference_is_documented() -> None:
    missing = sorted({key for _, key in aiodns4.ORACLE_BUGS} - NAMED)
    assert missing == [], f"allowed in the aiodns 4 table but not on docs/differences.rst: {missing}"


def test_the_page_names_only_cases_that_exist() -> None:
    """Every table-id-like name on the page is a case of the pycares 4.11 or 5.2.1 table."""
    ids = {c.id for c in pycares4.CASES} | set(pycares5.child.CASES)
    stale = sorted(n for n in NAMED if re.fullmatch(r"[a-z_0-9]+(-[A-Za-z_0-9]+)+", n) and n not in ids)
    assert stale == [], f"docs/differences.rst names cases the table does not have: {stale}"
