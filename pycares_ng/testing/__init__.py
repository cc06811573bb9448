"""Testing helpers for code that resolves names: a programmable DNS fault server on loopback
(:mod:`pycares_ng.testing.faultserver`) and the conformance tests every backend passes
(:mod:`pycares_ng.testing.backend`).
"""
from .faultserver import (  # noqa: F401
    FaultServer,
    ReceivedQuery,
    MODES,
    TYPES,
    DNSFormatError,
    encode_name,
    decode_name,
    a_rdata,
    aaaa_rdata,
    txt_rdata,
    name_rdata,
    mx_rdata,
    srv_rdata,
)

__all__ = ["FaultServer", "ReceivedQuery", "MODES", "TYPES", "DNSFormatError", "encode_name", "decode_name", "a_rdata", "aaaa_rdata", "txt_rdata", "name_rdata", "mx_rdata", "srv_rdata"]
