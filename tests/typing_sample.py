"""Ordinary user code over every public API, checked by ``mypy --strict`` (tests/test_typing.py).

Never run: it only has to type-check, with the result types a user relies on pinned down by
``assert_type``. Each function stands for one way of using pycares_ng.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import socket
from types import ModuleType
from typing import Any, Dict, List, Optional, Tuple

import anyio
import trio
from typing_extensions import assert_type

import pycares_ng
import pycares_ng.backends
from pycares_ng import (AresError, Channel, QUERY_TYPE_A, QUERY_TYPE_MX, ares_addrinfo_result, ares_dns_message_result,
                        ares_host_result, ares_nameinfo_result, ares_query_a_result, ares_query_aaaa_result,
                        ares_query_cname_result, ares_query_mx_result, ares_query_soa_result, ares_query_srv_result,
                        ares_query_txt_result, errno, getaddrinfo, query, reverse_address)
from pycares_ng.__main__ import main
from pycares_ng.backends import anyio as anyio_backend
from pycares_ng.backends import asyncio as asyncio_backend
from pycares_ng.backends import gevent as gevent_backend
from pycares_ng.backends import select as select_backend
from pycares_ng.backends import threads as threads_backend
from pycares_ng.backends import tornado as tornado_backend
from pycares_ng.backends import trio as trio_backend
from pycares_ng.backends.base import ChannelOptionError
from pycares_ng.blocking import AddrInfo, GaiTimeoutError, configure

SERVERS = ["127.0.0.1:5353"]


# -- the Channel and its callbacks -----------------------------------------------------------------

def channel_with_callbacks() -> int:
    answers: List[Any] = []

    def on_answer(result: Any, error: Optional[int]) -> None:
        if error is not None:
            print(errno.errorcode[error], errno.strerror(error))
        else:
            answers.append(result)

    def on_socket(fd: int, readable: bool, writable: bool) -> None:
        print(fd, readable, writable)

    with Channel(servers=SERVERS, timeout=1.0, tries=2, sock_state_cb=on_socket) as channel:
        channel.query("example.test", QUERY_TYPE_A, on_answer)
        channel.search("www", pycares_ng.QUERY_TYPE_AAAA, on_answer, query_class=pycares_ng.QUERY_CLASS_IN)
        channel.query_dns("example.test", QUERY_TYPE_MX, on_answer)
        channel.gethostbyname("example.test", socket.AF_INET, on_answer)
        channel.gethostbyaddr("192.0.2.1", on_answer)
        channel.getaddrinfo("example.test", 443, on_answer, family=socket.AF_INET6)
        channel.getnameinfo(("192.0.2.1", 80), pycares_ng.ARES_NI_LOOKUPHOST, on_answer)
        reads, writes = channel.getsock()
        channel.process_fd(pycares_ng.ARES_SOCKET_BAD, pycares_ng.ARES_SOCKET_BAD)
        delay: float = channel.timeout(1.0)
        servers: List[str] = channel.servers
        return len(reads) + len(writes) + len(servers) + int(delay)  # `with Channel` then return


def errno_names(error: AresError) -> str:
    code: int = pycares_ng.errno.ARES_ENOTFOUND
    if error.args[0] in (code, errno.ARES_ENODATA, errno.ARES_ETIMEOUT):
        return errno.errorcode[error.args[0]]
    return errno.strerror(pycares_ng.errno.ARES_ECANCELLED) + pycares_ng.ARES_VERSION


# -- the blocking helpers --------------------------------------------------------------------------

def blocking_helpers() -> Tuple[str, List[str]]:
    configure(servers=SERVERS, timeout=1.0)
    infos: List[AddrInfo] = getaddrinfo("example.test", 443, type=socket.SOCK_STREAM, timeout=2.0)
    family, kind, proto, canonname, sockaddr = infos[0]
    assert_type(family, socket.AddressFamily)
    name = pycares_ng.gethostbyname("example.test")
    assert_type(name, str)
    canonical, aliases, addresses = pycares_ng.gethostbyname_ex("example.test", timeout=1.0)
    host, port = pycares_ng.getnameinfo(("192.0.2.1", 80), socket.NI_NUMERICSERV)
    records: Any = query("example.test", "MX", servers=SERVERS)
    try:
        pycares_ng.gethostbyaddr("192.0.2.1")
    except GaiTimeoutError:
        pass
    return reverse_address("192.0.2.1") + canonical + host + port + str(records), aliases + addresses


# -- the backends ----------------------------------------------------------------------------------

def registry() -> ModuleType:
    for name, info in pycares_ng.backends.available().items():
        print(name, info.available, info.reason)
    return pycares_ng.backends.get("select")


def select_resolver() -> int:
    with select_backend.Resolver(servers=SERVERS, timeout=1.0) as r:
        a = r.wait(r.query("example.test", "A"), 2.0)
        assert_type(a, List[ares_query_a_result])
        mx = r.wait(r.query("example.test", QUERY_TYPE_MX))
        assert_type(mx, List[ares_query_mx_result])
        soa = r.wait(r.search("example", "SOA", "IN"))
        assert_type(soa, ares_query_soa_result)
        message = r.wait(r.query_dns("example.test", "A"))
        assert_type(message, ares_dns_message_result)
        host = r.wait(r.gethostbyname("example.test", socket.AF_INET6))
        assert_type(host, ares_host_result)
        info = r.wait(r.getaddrinfo("example.test", 80))
        assert_type(info, ares_addrinfo_result)
        node = r.wait(r.getnameinfo(("192.0.2.1", 80)))
        assert_type(node, ares_nameinfo_result)
        anything = r.wait(r.query("example.test", "a" if mx else "mx"))  # known at run time only
        assert_type(anything, Any)
        r.abandon(r.query("slow.example.test", "TXT"))
        return len(a) + r.pending + int(r.closed)


def threads_resolver() -> List[str]:
    with threads_backend.Resolver(servers=SERVERS) as r:
        future = r.query("example.test", "TXT")
        assert_type(future, "concurrent.futures.Future[List[ares_query_txt_result]]")
        done, _ = concurrent.futures.wait([future], timeout=2.0)
        srv = r.wait(r.query("_sip._tcp.example.test", "SRV"), 2.0)
        assert_type(srv, List[ares_query_srv_result])
        return [str(x.text) for x in future.result()] + [x.host for x in srv]


def gevent_resolver() -> Any:
    r = gevent_backend.Resolver(servers=SERVERS)
    return r.wait(r.query("example.test", "A"), 2.0)  # gevent has no types: Any


async def asyncio_resolver() -> str:
    async with asyncio_backend.Resolver(servers=SERVERS) as r:
        aaaa = await r.query("example.test", "AAAA")
        assert_type(aaaa, List[ares_query_aaaa_result])
        cname = await r.wait(r.query("alias.example.test", "CNAME"), 2.0)
        assert_type(cname, ares_query_cname_result)
        gathered = await asyncio.gather(r.query("a.test", "A"), r.gethostbyaddr("192.0.2.1"))
        assert_type(gathered[1], ares_host_result)
        return aaaa[0].host + cname.cname


async def aiodns_style() -> Any:
    resolver = asyncio_backend.DNSResolver(SERVERS, timeout=1.0)
    try:
        return await resolver.query("example.test", "MX", "IN")
    except asyncio_backend.DNSError as exc:
        return exc.args
    finally:
        await resolver.close()


async def tornado_resolver() -> List[Tuple[int, Any]]:
    r = tornado_backend.Resolver(servers=SERVERS)
    mx = await r.query("example.test", "MX")
    assert_type(mx, List[ares_query_mx_result])
    r.close()
    return await tornado_backend.TornadoResolver(servers=SERVERS).resolve("example.test", 80)


async def trio_resolver() -> str:
    with trio_backend.Resolver(servers=SERVERS) as r:
        with trio.move_on_after(2.0):
            a = await r.query("example.test", "A")
            assert_type(a, List[ares_query_a_result])
            return a[0].host
        info = await r.wait(r.getaddrinfo("example.test", 443), 1.0)
        assert_type(info, ares_addrinfo_result)
        return str(info.nodes[0].addr)


async def anyio_resolver() -> str:
    async with anyio_backend.Resolver(servers=SERVERS) as r:
        with anyio.fail_after(2.0):
            txt = await r.search_dns("example.test", "TXT")
            assert_type(txt, ares_dns_message_result)
            return str(txt.answer[0].data)


def run_async_backends() -> List[Any]:
    return [trio_backend.Resolver.run(trio_resolver), anyio_backend.Resolver.run(anyio_resolver),
            asyncio_backend.Resolver.run(asyncio_resolver)]


def option_errors() -> Dict[str, str]:
    try:
        select_backend.Resolver(event_thread=True)
    except ChannelOptionError as exc:
        return {"error": str(exc)}
    return {}


# -- the command line --------------------------------------------------------------------------------

def command_line() -> int:
    status: int = main(["-s", SERVERS[0], "-t", "MX", "example.test"])
    return status
