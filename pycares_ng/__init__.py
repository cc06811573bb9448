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


def install_as_pycares() -> None:
    """Make ``import pycares`` (and ``pycares.errno``, ``pycares.utils``) give pycares_ng's pycares 4
    face, so that pycares-4 users such as aiodns 3 run on it. Call it before anything imports
    pycares; RuntimeError if a real pycares was imported already. (``pycares_ng.v5`` has the same
    for pycares 5 users such as aiodns 4.)"""
    import sys

    from ._install import install_as_pycares as install

    install(sys.modules[__name__])

# Channels with event_thread=True are closed (and their threads joined) before the interpreter
# starts tearing itself down, so no I/O thread ever needs the GIL of a dying interpreter.
_atexit.register(_core._shutdown)
# In a forked child every open channel starts fresh (see docs/threads.rst): no reinit() needed.
# The channel locks are taken inside fork() itself (pthread_atfork, after every Python hook), so
# no hook of this kind, whenever registered, ever finds a channel locked; this one starts the
# child's channels afresh (the first call on a channel does it too, if an earlier hook comes first).
_os.register_at_fork(after_in_child=_core._after_fork_child)

# Spelled out (not computed) so that type checkers see what is exported: every public name of
# the C core except strerror (see pycares_ng.errno), then the Python layer's.
__all__ = [
    "ARES_AI_ADDRCONFIG", "ARES_AI_ALL", "ARES_AI_CANONIDN", "ARES_AI_CANONNAME",
    "ARES_AI_ENVHOSTS", "ARES_AI_IDN", "ARES_AI_IDN_ALLOW_UNASSIGNED",
    "ARES_AI_IDN_USE_STD3_ASCII_RULES", "ARES_AI_NOSORT", "ARES_AI_NUMERICHOST",
    "ARES_AI_NUMERICSERV", "ARES_AI_PASSIVE", "ARES_AI_V4MAPPED", "ARES_BUILD_VERSION",
    "ARES_EADDRGETNETWORKPARAMS", "ARES_EBADFAMILY", "ARES_EBADFLAGS", "ARES_EBADHINTS",
    "ARES_EBADNAME", "ARES_EBADQUERY", "ARES_EBADRESP", "ARES_EBADSTR", "ARES_ECANCELLED",
    "ARES_ECONNREFUSED", "ARES_EDESTRUCTION", "ARES_EFILE", "ARES_EFORMERR",
    "ARES_ELOADIPHLPAPI", "ARES_ENODATA", "ARES_ENOMEM", "ARES_ENONAME", "ARES_ENOSERVER",
    "ARES_ENOTFOUND", "ARES_ENOTIMP", "ARES_ENOTINITIALIZED", "ARES_EOF", "ARES_EREFUSED",
    "ARES_ESERVFAIL", "ARES_ESERVICE", "ARES_ETIMEOUT", "ARES_FLAG_EDNS", "ARES_FLAG_IGNTC",
    "ARES_FLAG_NOALIASES", "ARES_FLAG_NOCHECKRESP", "ARES_FLAG_NORECURSE", "ARES_FLAG_NOSEARCH",
    "ARES_FLAG_NO_DFLT_SVR", "ARES_FLAG_PRIMARY", "ARES_FLAG_STAYOPEN", "ARES_FLAG_USEVC",
    "ARES_NI_DCCP", "ARES_NI_DGRAM", "ARES_NI_IDN", "ARES_NI_IDN_ALLOW_UNASSIGNED",
    "ARES_NI_IDN_USE_STD3_ASCII_RULES", "ARES_NI_LOOKUPHOST", "ARES_NI_LOOKUPSERVICE",
    "ARES_NI_NAMEREQD", "ARES_NI_NOFQDN", "ARES_NI_NUMERICHOST", "ARES_NI_NUMERICSCOPE",
    "ARES_NI_NUMERICSERV", "ARES_NI_SCTP", "ARES_NI_TCP", "ARES_NI_UDP", "ARES_SOCKET_BAD",
    "ARES_SUCCESS", "ARES_VERSION", "AresError", "AresResult", "Channel", "QUERY_CLASS_ANY",
    "QUERY_CLASS_CHAOS", "QUERY_CLASS_HS", "QUERY_CLASS_IN", "QUERY_CLASS_NONE", "QUERY_TYPE_A",
    "QUERY_TYPE_AAAA", "QUERY_TYPE_ANY", "QUERY_TYPE_CAA", "QUERY_TYPE_CNAME",
    "QUERY_TYPE_DNSKEY", "QUERY_TYPE_DS", "QUERY_TYPE_HTTPS", "QUERY_TYPE_MX",
    "QUERY_TYPE_NAPTR", "QUERY_TYPE_NS", "QUERY_TYPE_PTR", "QUERY_TYPE_SOA", "QUERY_TYPE_SRV",
    "QUERY_TYPE_SSHFP", "QUERY_TYPE_SVCB", "QUERY_TYPE_TLSA", "QUERY_TYPE_TXT",
    "QUERY_TYPE_URI", "ares_addrinfo_cname_result", "ares_addrinfo_node_result",
    "ares_addrinfo_result", "ares_dns_message_result", "ares_dns_record", "ares_host_result",
    "ares_nameinfo_result", "ares_query_a_result", "ares_query_aaaa_result",
    "ares_query_caa_result", "ares_query_cname_result", "ares_query_dnskey_result",
    "ares_query_ds_result", "ares_query_https_result", "ares_query_mx_result",
    "ares_query_naptr_result", "ares_query_ns_result", "ares_query_ptr_result",
    "ares_query_soa_result", "ares_query_srv_result", "ares_query_sshfp_result",
    "ares_query_svcb_result", "ares_query_tlsa_result", "ares_query_txt_result",
    "ares_query_txt_result_chunk", "ares_query_uri_result", "ares_threadsafety", "install_as_pycares", "errno",
    "utils", "ascii_bytes", "maybe_str", "parse_name", "reverse_address", "__version__",
    "blocking", "getaddrinfo", "gethostbyaddr", "gethostbyname", "gethostbyname_ex",
    "getnameinfo", "query"
]
