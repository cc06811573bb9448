"""Build of the pycares_ng._core extension: finds libcares and sets compiler flags.

Environment switches:
  PYCARES_NG_CARES_PREFIX=/path   use the c-ares installed under /path (pkg-config file searched
                                  below it; the library directory is added to the run path)
  PYCARES_NG_SANITIZE=1           build with AddressSanitizer + UndefinedBehaviorSanitizer
  PYCARES_NG_WERROR=1             turn compiler warnings into errors (CI does)
  PYCARES_NG_DEBUG=1              -O0 -g, assertions on
"""
import glob
import os
import shlex
import subprocess
import sys

from setuptools import Extension, setup

MIN_CARES = (1, 18, 0)
INSTALL_HINT = (
    "pycares_ng needs the c-ares development files, version 1.18 or newer. Install them with "
    "'apt-get install libc-ares-dev' (Debian/Ubuntu), 'dnf install c-ares-devel' (Fedora) or "
    "'brew install c-ares' (Homebrew), and pkg-config; or set PYCARES_NG_CARES_PREFIX to an install prefix."
)


def _flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "no", "false")


def _pkg_config(*args, env=None):
    try:
        out = subprocess.run(["pkg-config", *args, "libcares"], check=True, capture_output=True,
                             text=True, env=env)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def find_cares():
    """Return (version tuple, cflags list, libs list, runtime lib dirs) or exit with a clear message."""
    env = dict(os.environ)
    prefix = os.environ.get("PYCARES_NG_CARES_PREFIX")
    if prefix:
        pcs = sorted(glob.glob(os.path.join(prefix, "**", "libcares.pc"), recursive=True))
        if not pcs:
            sys.exit(f"error: no libcares.pc below PYCARES_NG_CARES_PREFIX={prefix}. {INSTALL_HINT}")
        env["PKG_CONFIG_PATH"] = os.path.dirname(pcs[0])
        env["PKG_CONFIG_LIBDIR"] = os.path.dirname(pcs[0])
    version = _pkg_config("--modversion", env=env)
    if version is None:
        sys.exit(f"error: c-ares not found by pkg-config. {INSTALL_HINT}")
    vt = tuple(int(p) for p in version.split(".")[:3] if p.isdigit())
    if vt < MIN_CARES:
        sys.exit(f"error: found c-ares {version}, older than 1.18. {INSTALL_HINT}")
    cflags = shlex.split(_pkg_config("--cflags", env=env) or "")
    libs = shlex.split(_pkg_config("--libs", env=env) or "-lcares")
    rpath = [f[2:] for f in libs if f.startswith("-L")] if prefix else []
    return vt, cflags, libs, rpath


def extension():
    version, cflags, libs, rpath = find_cares()
    compile_args = ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
                    "-Wshadow", "-Wstrict-prototypes", "-fvisibility=hidden"]
    link_args = []
    if _flag("PYCARES_NG_WERROR"):
        compile_args.append("-Werror")
    if _flag("PYCARES_NG_DEBUG"):
        compile_args += ["-O0", "-g3", "-UNDEBUG"]
    else:
        compile_args += ["-O2"]
    if _flag("PYCARES_NG_SANITIZE"):
        san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-g"]
        compile_args += san
        link_args += ["-fsanitize=address,undefined"]
    sources = sorted(glob.glob("csrc/*.c"))
    return Extension(
        "pycares_ng._core",
        sources=sources,
        depends=sorted(glob.glob("csrc/*.h")),
        extra_compile_args=cflags + compile_args,
        extra_link_args=libs + link_args,
        runtime_library_dirs=rpath,
        define_macros=[("_GNU_SOURCE", "1"), ("PYCARES_NG_BUILT_CARES", '"%d.%d.%d"' % version)],
    )


# Always recompile: the in-tree build directory is shared between builds against different
# c-ares installs, and a stale object would silently link the wrong one.
setup(ext_modules=[extension()], options={"build_ext": {"force": True}})
