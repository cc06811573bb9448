"""Helpers shared with pycares 4: ``ascii_bytes``, ``maybe_str``, ``parse_name``; ``reverse_address``."""
from __future__ import annotations

import ipaddress
from types import ModuleType
from typing import Optional, Union

_idna2008: Optional[ModuleType]
try:  # IDNA 2008 when the package is installed; Python's IDNA 2003 codec otherwise
    import idna as _idna2008
except ImportError:  # pragma: no cover - exercised when idna is absent
    _idna2008 = None

__all__ = ["ascii_bytes", "maybe_str", "parse_name", "reverse_address"]


def ascii_bytes(data: Union[str, bytes]) -> bytes:
    """``data`` as ASCII bytes; TypeError for anything but str/bytes."""
    if isinstance(data, str):
        return data.encode("ascii")
    if isinstance(data, bytes):
        return data
    raise TypeError("only str (ascii encoding) and bytes are supported")


def maybe_str(data: Union[str, bytes]) -> Union[str, bytes]:
    """``data`` decoded as ASCII when it is, else unchanged bytes."""
    if isinstance(data, str):
        return data
    if isinstance(data, bytes):
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            return data
    raise TypeError("only str (ascii encoding) and bytes are supported")


def _encode_idna(name: str) -> bytes:
    """IDNA-encode a non-ASCII name label by label (called by the C core)."""
    labels = name.split(".")
    out = []
    for label in labels:
        if label.isascii():
            out.append(label.encode("ascii"))
        elif _idna2008 is not None:
            try:
                # UTS #46 mapping first, as browsers and glibc do: "Bücher" is "bücher".
                out.append(_idna2008.alabel(_idna2008.uts46_remap(label, std3_rules=False, transitional=False)))
            except _idna2008.IDNAError as exc:
                # UnicodeError (a ValueError), as pycares 4 raises: callers catch either.
                raise UnicodeError(f"name {name!r} is not a valid IDNA name: {exc}") from None
        else:
            try:
                out.append(label.encode("idna"))
            except UnicodeError as exc:
                raise UnicodeError(f"name {name!r} is not a valid IDNA name: {exc}") from None
    return b".".join(out)


def parse_name(name: Union[str, bytes]) -> bytes:
    """``name`` as the bytes pycares 4 would send: ASCII text encoded, non-ASCII text through
    IDNA (UnicodeError when it cannot be), bytes unchanged; TypeError for other types. As in
    pycares 4 nothing else is checked here: queries report bad names through their callback."""
    if isinstance(name, str):
        return name.encode("ascii") if name.isascii() else _encode_idna(name)
    if isinstance(name, bytes):
        return name
    raise TypeError("only str and bytes are supported")


def reverse_address(ip: Union[str, bytes]) -> str:
    """The reverse-lookup name of an address: ``in-addr.arpa`` or ``ip6.arpa`` (no final dot)."""
    if isinstance(ip, bytes):
        ip = ip.decode("ascii")
    if not isinstance(ip, str):
        raise TypeError("ip must be str or bytes")
    try:
        return ipaddress.ip_address(ip).reverse_pointer
    except ValueError:
        raise ValueError(f"invalid IP address: {ip!r}") from None
