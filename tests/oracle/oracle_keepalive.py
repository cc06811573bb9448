"""Keeps pycares 4.11's option strings alive for its ares_init_options() call.

pycares 4.11 builds ``Channel(lookups=..., resolvconf_path=...)`` as
``options.lookups = _ffi.new('char[]', ...)``: a struct field does not keep a cffi buffer alive,
so the buffer is freed at once and libcares reads a dangling pointer. What it then reads depends
on what reused the memory: now and then a ``lookups`` string without ``b``, and host lookups
fail at once with ARES_ECONNREFUSED without sending anything (the oracle's old, unexplained
flake). pycares_ng copies its options. So that the oracle behaves as pycares 4.11 means to, every
buffer its Channel constructor allocates is kept alive (a few bytes per channel, oracle processes
only). docs/differences.rst lists the bug."""

from __future__ import annotations

from typing import Any, List


class _KeepingFFI:
    """The cffi FFI object of pycares 4.11, whose new() also keeps what it makes."""

    def __init__(self, ffi: Any) -> None:
        self._ffi = ffi
        self.kept: List[Any] = []

    def new(self, *args: Any, **kwargs: Any) -> Any:
        obj = self._ffi.new(*args, **kwargs)
        self.kept.append(obj)
        return obj

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ffi, name)


def install(pycares: Any) -> None:
    """Once per process, on the real pycares 4.11 module (not on pycares_ng)."""
    if getattr(pycares, "__name__", "") == "pycares" and not isinstance(pycares._ffi, _KeepingFFI):
        pycares._ffi = _KeepingFFI(pycares._ffi)
