"""pycares_ng: a fast, crash-proof interface to the c-ares asynchronous DNS library.

A drop-in for pycares 4.x: ``import pycares_ng as pycares`` keeps pycares code working.
"""
import atexit as _atexit
import os as _os

from . import _forks  # noqa: F401  (first: its fork hook must run before the core's)
from . import _core
from ._core import *  # noqa: F401,F403  (constants, result classes, Channel, AresError)
from ._core import AresError, Channel, ARES_VERSION, ares_threadsafety
from . import errno, utils
from .utils import ascii_bytes, maybe_str, parse_name, reverse_address
from . import blocking
from .blocking import getaddrinfo, gethostbyaddr, gethostbyname, gethostbyname_ex, getnameinfo, query

__version__ = "0.1.0"

# Channels with event_thread=True are closed (and their threads joined) before the interpreter
# starts tearing itself down, so no I/O thread ever needs the GIL of a dying interpreter.
_atexit.register(_core._shutdown)
# In a forked child every open channel starts fresh (see docs/threads.rst): no reinit() needed.
# The channel locks are taken inside fork() itself (pthread_atfork, after every Python hook), so
# no hook of this kind, whenever registered, ever finds a channel locked; this one starts the
# child's channels afresh (the first call on a channel does it too, if an earlier hook comes first).
_os.register_at_fork(after_in_child=_core._after_fork_child)

__all__ = sorted(
    name for name in dir(_core) if not name.startswith("_") and name not in ("strerror",)
) + ["errno", "utils", "ascii_bytes", "maybe_str", "parse_name", "reverse_address", "__version__", "blocking", "getaddrinfo",
   "gethostbyaddr", "gethostbyname", "gethostbyname_ex", "getnameinfo", "query"]
