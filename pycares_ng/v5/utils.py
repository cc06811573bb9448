"""pycares 5's ``pycares.utils``: the same helpers as pycares_ng.utils."""
from ..utils import ascii_bytes, maybe_str, parse_name

__all__ = ["ascii_bytes", "maybe_str", "parse_name"]
