"""c-ares error codes: ``ARES_SUCCESS`` and every ``ARES_E*``, ``errorcode`` and ``strerror``."""
from . import _core

errorcode = {}
for _name in dir(_core):
    if _name == "ARES_SUCCESS" or _name.startswith("ARES_E"):
        globals()[_name] = getattr(_core, _name)
        errorcode[getattr(_core, _name)] = _name
del _name


def strerror(code: int) -> str:
    """The c-ares message for an error code, e.g. ``strerror(ARES_ENOTFOUND)``."""
    return _core.strerror(code)


__all__ = sorted(errorcode.values()) + ["errorcode", "strerror"]
