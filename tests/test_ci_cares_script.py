"""`.ci/cares_trixie.sh` chooses a c-ares 1.34 source without depending on what an index lists.

Each test builds a fake Debian mirror on disk (``file:`` URIs, an unsigned index accepted with
CARES_APT_TRUSTED=1) and runs the script with CARES_FETCH_ONLY=1, which stops after choosing
and fetching a source: no network, no build.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "cares_trixie.sh"

pytestmark = [
    pytest.mark.skipif(shutil.which("apt-get") is None or shutil.which("dpkg") is None,
                       reason="the script drives apt: Debian/Ubuntu only"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the script's private apt runs as root"),
]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FakeMirror:
    """A Debian mirror (suite + suite-security) in a directory, holding only what the test puts."""

    def __init__(self, base: Path) -> None:
        self.main = base / "debian"
        self.security = base / "debian-security"
        self.sources: dict[str, list[str]] = {"trixie": [], "trixie-security": []}

    def pool(self, security: bool = False) -> Path:
        d = (self.security / "pool/updates/main/c/c-ares") if security else (self.main / "pool/main/c/c-ares")
        d.mkdir(parents=True, exist_ok=True)
        return d

    def serve(self, name: str, data: bytes, security: bool = False) -> None:
        (self.pool(security) / name).write_bytes(data)

    def list_source(self, version: str, files: dict[str, bytes], served: bool,
                    suite: str = "trixie") -> None:
        """Lists c-ares VERSION in SUITE's Sources with FILES; puts the files in the pool if SERVED."""
        directory = "pool/updates/main/c/c-ares" if suite.endswith("-security") else "pool/main/c/c-ares"
        md5 = "\n".join(f" {hashlib.md5(d).hexdigest()} {len(d)} {n}" for n, d in files.items())
        sha = "\n".join(f" {_sha(d)} {len(d)} {n}" for n, d in files.items())
        self.sources[suite].append(
            f"Package: c-ares\nBinary: libc-ares-dev, libcares2\nVersion: {version}\n"
            f"Maintainer: Test <test@example.org>\nArchitecture: any\nFormat: 3.0 (quilt)\n"
            f"Directory: {directory}\nFiles:\n{md5}\nChecksums-Sha256:\n{sha}\n")
        if served:
            for name, data in files.items():
                self.serve(name, data, security=suite.endswith("-security"))

    def write_index(self) -> None:
        arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
        for suite, entries in self.sources.items():
            top = self.security if suite.endswith("-security") else self.main
            dist = top / "dists" / suite
            files = {"main/source/Sources": "\n".join(entries).encode(),
                     f"main/binary-{arch}/Packages": b""}
            lines = []
            for rel, data in files.items():
                (dist / rel).parent.mkdir(parents=True, exist_ok=True)
                (dist / rel).write_bytes(data)
                lines.append(f" {_sha(data)} {len(data)} {rel}")
            (dist / "Release").write_text(
                f"Origin: Test\nSuite: {suite}\nCodename: {suite}\n"
                f"Date: Mon, 07 Dec 2026 00:00:00 UTC\nArchitectures: {arch}\nComponents: main\n"
                "SHA256:\n" + "\n".join(lines) + "\n")

    def run(self, tmp: Path, pinned: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, CARES_MIRROR=f"file:{self.main}", CARES_SECURITY_MIRROR=f"file:{self.security}",
                   CARES_APT_TRUSTED="1", CARES_FETCH_ONLY="1", CARES_ROUTE="source")
        # The sanitizer run preloads libasan into the tests; apt and the hooks apt-get update runs
        # (appstreamcli) must not inherit it (under it appstreamcli never returns).
        for var in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
            env.pop(var, None)
        if pinned is not None:
            (tmp / "pinned").write_text(pinned)
            env["CARES_PINNED_FILE"] = str(tmp / "pinned")
        return subprocess.run(["bash", str(SCRIPT), str(tmp / "prefix")], capture_output=True, text=True,
                              env=env, timeout=120)


def _tarballs(upstream: str, debian: str) -> dict[str, bytes]:
    return {f"c-ares_{upstream}.orig.tar.gz": f"orig {upstream}".encode(),
            f"c-ares_{debian}.debian.tar.xz": f"debian {debian}".encode(),
            f"c-ares_{debian}.dsc": f"dsc {debian}".encode()}


def _chosen(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("chosen: ")]
    assert len(lines) == 1, proc.stdout
    return lines[0][len("chosen: "):]


@pytest.fixture
def mirror(tmp_path: Path) -> FakeMirror:
    return FakeMirror(tmp_path / "mirror")


def test_unservable_newest_index_version_falls_back_to_older_index_version(mirror: FakeMirror,
                                                                          tmp_path: Path) -> None:
    mirror.list_source("1.34.9-1~deb13u1", _tarballs("1.34.9", "1.34.9-1~deb13u1"), served=False)
    mirror.list_source("1.34.7-1", _tarballs("1.34.7", "1.34.7-1"), served=True)
    mirror.list_source("1.33.0-1", _tarballs("1.33.0", "1.33.0-1"), served=True)
    mirror.write_index()
    proc = mirror.run(tmp_path, pinned="")
    assert _chosen(proc) == "1.34.7-1 (trixie index) c-ares_1.34.7.orig.tar.gz c-ares_1.34.7-1.debian.tar.xz"
    assert "c-ares 1.34.9-1~deb13u1 (index): " in proc.stderr, proc.stderr


def test_newest_version_first_in_debian_order(mirror: FakeMirror, tmp_path: Path) -> None:
    # dpkg order: 1.34.10 > 1.34.9 and 1.34.9-1 > 1.34.9-1~deb13u1 (sort -V gets both wrong).
    for v, up in (("1.34.9-1~deb13u1", "1.34.9"), ("1.34.10-1", "1.34.10"), ("1.34.9-1", "1.34.9")):
        mirror.list_source(v, _tarballs(up, v), served=True)
    mirror.write_index()
    assert _chosen(mirror.run(tmp_path, pinned="")).startswith("1.34.10-1 (trixie index)")


def test_only_unservable_index_version_uses_pinned_source_checked_by_sha256(mirror: FakeMirror,
                                                                           tmp_path: Path) -> None:
    mirror.list_source("1.34.9-1~deb13u1", _tarballs("1.34.9", "1.34.9-1~deb13u1"), served=False)
    mirror.write_index()
    good_orig, good_deb = b"the real 1.34.5 orig", b"the real debian tarball"
    mirror.serve("c-ares_1.34.5.orig.tar.gz", good_orig)
    mirror.serve("c-ares_1.34.5-1+deb13u1.debian.tar.xz", good_deb, security=True)
    # A pinned entry whose file is served with other content than its pinned hash is refused.
    mirror.serve("c-ares_1.34.6.orig.tar.gz", b"tampered")
    pinned = (f"1.34.6-1 c-ares_1.34.6.orig.tar.gz {_sha(b'genuine')} - -\n"
              f"1.34.5-1+deb13u1 c-ares_1.34.5.orig.tar.gz {_sha(good_orig)} "
              f"c-ares_1.34.5-1+deb13u1.debian.tar.xz {_sha(good_deb)}\n")
    proc = mirror.run(tmp_path, pinned=pinned)
    assert _chosen(proc) == ("1.34.5-1+deb13u1 (pinned) c-ares_1.34.5.orig.tar.gz "
                             "c-ares_1.34.5-1+deb13u1.debian.tar.xz")
    assert "1.34.6-1 (pinned)" in proc.stderr and "mismatch" in proc.stderr.lower(), proc.stderr


def test_pinned_orig_tarball_alone_when_no_debian_source_is_served(mirror: FakeMirror, tmp_path: Path) -> None:
    mirror.write_index()
    orig = b"upstream only"
    mirror.serve("c-ares_1.34.5.orig.tar.gz", orig, security=True)
    pinned = (f"1.34.5-1+deb13u1 c-ares_1.34.5.orig.tar.gz {_sha(orig)} "
              f"c-ares_1.34.5-1+deb13u1.debian.tar.xz {_sha(b'x')}\n"
              f"1.34.5 c-ares_1.34.5.orig.tar.gz {_sha(orig)} - -\n")
    assert _chosen(mirror.run(tmp_path, pinned=pinned)) == "1.34.5 (pinned) c-ares_1.34.5.orig.tar.gz -"


def test_unreachable_index_still_tries_pinned(mirror: FakeMirror, tmp_path: Path) -> None:
    # No dists/ at all: apt-get update fails; the pinned list does not need the index.
    orig = b"orig"
    mirror.serve("c-ares_1.34.5.orig.tar.gz", orig)
    proc = mirror.run(tmp_path, pinned=f"1.34.5 c-ares_1.34.5.orig.tar.gz {_sha(orig)} - -\n")
    assert _chosen(proc) == "1.34.5 (pinned) c-ares_1.34.5.orig.tar.gz -"
    assert "index is not used" in proc.stderr


def test_nothing_fetchable_fails_with_one_message_naming_every_candidate(mirror: FakeMirror,
                                                                        tmp_path: Path) -> None:
    mirror.list_source("1.34.9-1~deb13u1", _tarballs("1.34.9", "1.34.9-1~deb13u1"), served=False)
    mirror.write_index()
    # The built-in pinned list: its files are served here with the wrong content.
    mirror.serve("c-ares_1.34.5.orig.tar.gz", b"not the pinned tarball")
    proc = mirror.run(tmp_path)
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if "ERROR" in ln]
    assert len(errors) == 1, proc.stderr
    for candidate in ("index 1.34.9-1~deb13u1", "pinned 1.34.5-1+deb13u1", "pinned 1.34.5:"):
        assert candidate in errors[0], errors[0]
    assert "chosen:" not in proc.stdout
    assert not (tmp_path / "prefix" / "lib").exists()
