"""pycares_ng.backends: adapters that plug a Channel into an event loop, and their registry.

Backends are found through the ``pycares_ng.backends`` entry-point group, so a third party adds
one by declaring an entry point there whose value is a module with a ``Resolver`` class (a
:class:`pycares_ng.backends.base.Resolver`) and, optionally, a ``check()`` function that raises
with a helpful message when the backend cannot work here (its loop is not installed…).

``available()`` lists every registered backend with whether it can be used and why not;
``get(name)`` loads one. ``get()`` without a name takes ``$PYCARES_NG_BACKEND``, else
``"select"``.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Dict, Iterable, Optional

__all__ = ["BackendInfo", "available", "get", "GROUP", "ENV_VAR", "DEFAULT"]

GROUP = "pycares_ng.backends"
ENV_VAR = "PYCARES_NG_BACKEND"
DEFAULT = "select"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackendInfo:
    """A registered backend: ``module`` when usable, else ``reason`` says why not."""

    name: str
    value: str
    available: bool
    reason: str = ""
    module: Optional[ModuleType] = None


def _entry_points() -> Dict[str, str]:
    from importlib import metadata

    if sys.version_info >= (3, 10):
        group: Iterable[metadata.EntryPoint] = metadata.entry_points(group=GROUP)
    else:  # a dict of lists on 3.9
        group = metadata.entry_points().get(GROUP, [])
    found: Dict[str, str] = {}
    for ep in group:
        found.setdefault(ep.name, ep.value)
    return found


def _load(name: str, value: str) -> BackendInfo:
    try:
        module = importlib.import_module(value.split(":")[0])
        check = getattr(module, "check", None)
        if check is not None:
            check()
        if not hasattr(module, "Resolver"):
            raise TypeError(f"backend module {value!r} has no Resolver")
    except Exception as exc:  # a broken or unusable plugin is listed, never fatal
        log.debug("pycares_ng backend %r unavailable: %s", name, exc)
        return BackendInfo(name, value, False, f"{type(exc).__name__}: {exc}")
    return BackendInfo(name, value, True, "", module)


def available() -> Dict[str, BackendInfo]:
    """Every registered backend, by name, with its availability."""
    return {name: _load(name, value) for name, value in sorted(_entry_points().items())}


def get(name: Optional[str] = None) -> ModuleType:
    """The backend module called ``name`` (default: ``$PYCARES_NG_BACKEND`` or ``"select"``).

    Raises LookupError for an unknown name and RuntimeError, with the reason, for a backend that
    cannot be used here.
    """
    name = name or os.environ.get(ENV_VAR) or DEFAULT
    eps = _entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none (is pycares_ng installed?)"
        raise LookupError(f"no pycares_ng backend named {name!r}; registered: {known}")
    info = _load(name, eps[name])
    if not info.available or info.module is None:
        raise RuntimeError(f"pycares_ng backend {name!r} is not usable here: {info.reason}")
    return info.module
