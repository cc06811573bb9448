"""``testing``: the pycares_ng.testing module, even before the C extension is built.

pycares_ng.testing is pure Python and does not need ``_core``; when the package
itself cannot be imported yet, the file is loaded on its own.
"""

import importlib.util
import sys
from pathlib import Path

try:
    from pycares_ng import testing
except Exception:  # the package __init__ needs the (maybe unbuilt) C extension
    _path = Path(__file__).resolve().parent.parent / "pycares_ng" / "testing" / "faultserver.py"
    _spec = importlib.util.spec_from_file_location("pycares_ng_testing_standalone", _path)
    testing = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = testing
    _spec.loader.exec_module(testing)

__all__ = ["testing"]
