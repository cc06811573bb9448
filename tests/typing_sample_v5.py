"""Ordinary user code of the pycares 5 face and the aiohttp resolver, checked by mypy --strict
(tests/test_typing.py). Never run."""
from __future__ import annotations

import dataclasses
import socket
from typing import List, Optional

import aiohttp

import pycares_ng.v5 as pycares
from pycares_ng.aiohttp import AsyncResolver

from typing_extensions import assert_type


def on_result(result: Optional[pycares.DNSResult], errno: Optional[int]) -> None:
    if result is None:
        assert errno is not None
        print(pycares.errno.strerror(errno))
        return
    for record in result.answer:
        assert_type(record, pycares.DNSRecord)
        assert_type(record.ttl, int)
        if isinstance(record.data, pycares.ARecordData):
            assert_type(record.data.addr, str)
        elif isinstance(record.data, pycares.TXTRecordData):
            assert_type(record.data.data, bytes)
        elif isinstance(record.data, pycares.MXRecordData):
            print(record.data.priority + 1, record.data.exchange.upper())
    print(dataclasses.asdict(result))


def on_addrinfo(result: Optional[pycares.AddrInfoResult], errno: Optional[int]) -> None:
    if result is not None:
        nodes: List[pycares.AddrInfoNode] = result.nodes
        print([n.addr for n in nodes], [c.alias for c in result.cnames])


def use_channel() -> bool:
    channel = pycares.Channel(servers=["127.0.0.1:5353"], timeout=1.0, tries=2, qcache_max_ttl=0)
    channel.query("example.test", pycares.QUERY_TYPE_A, callback=on_result)
    channel.search("www", pycares.QUERY_TYPE_MX, query_class=pycares.QUERY_CLASS_IN, callback=on_result)
    channel.getaddrinfo("example.test", 443, family=socket.AF_INET, callback=on_addrinfo)
    channel.getnameinfo(("127.0.0.1", 53), pycares.ARES_NI_NUMERICHOST, callback=lambda r, e: None)
    channel.gethostbyaddr("127.0.0.1", callback=lambda r, e: None)
    servers: List[str] = channel.servers
    channel.servers = servers
    done = channel.wait(2.0)
    assert_type(done, bool)
    channel.close()
    return done


def swap_in() -> None:
    pycares.install_as_pycares()


async def fetch(url: str) -> str:
    resolver = AsyncResolver(nameservers=["127.0.0.1:5353"], timeout=1.0)
    hosts = await resolver.resolve("example.test", 80, socket.AF_INET)
    print(hosts[0]["host"], hosts[0]["port"])
    connector = aiohttp.TCPConnector(resolver=resolver)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(url) as response:
            return await response.text()
