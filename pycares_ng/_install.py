"""Make ``import pycares`` give one of pycares_ng's faces (for aiodns and other pycares users)."""
import sys
from types import ModuleType


def install_as_pycares(face: ModuleType) -> None:
    """Bind ``pycares``, ``pycares.errno`` and ``pycares.utils`` in ``sys.modules`` to ``face``.

    Call it before anything imports pycares. If a real pycares was imported already, modules
    holding it would keep it: that is refused with a RuntimeError rather than mixing the two.
    Calling it again with the same face does nothing.
    """
    current = sys.modules.get("pycares")
    if current is face:
        return
    if current is not None:
        raise RuntimeError(f"pycares is already imported ({getattr(current, '__file__', current)!r}): "
                           "install pycares_ng as pycares before anything imports pycares")
    sys.modules["pycares"] = face
    sys.modules["pycares.errno"] = face.errno
    sys.modules["pycares.utils"] = face.utils
