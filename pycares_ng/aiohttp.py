"""An aiohttp resolver on pycares_ng: ``TCPConnector(resolver=AsyncResolver())``.

:class:`AsyncResolver` implements ``aiohttp.abc.AbstractResolver`` (aiohttp 3.x) as aiohttp's own
``AsyncResolver`` does on aiodns, without aiodns or pycares: one pycares_ng channel driven by the
running asyncio loop (``add_reader``/``call_at``; no thread), c-ares' ``getaddrinfo`` for the
addresses, ``getnameinfo`` for scoped (link-local) IPv6 ones.

Failures raise ``OSError(None, message)`` as aiohttp's resolvers do (the connector turns it into
``ClientConnectorDNSError``); the c-ares error is the ``__cause__``
(:class:`pycares_ng.AresError`, ``args == (errno, message)``).

Requires aiohttp (``pip install pycares_ng[aiohttp]``).
"""
from __future__ import annotations

import asyncio
import socket
from typing import Any, List, Optional, Sequence, Union

from aiohttp.abc import AbstractResolver, ResolveResult

from . import _core
from ._core import AresError

from .backends.asyncio import Resolver as _LoopResolver

__all__ = ["AsyncResolver"]

# What aiohttp reports for every address it hands the connector: numeric, no lookup needed.
_NUMERIC_FLAGS = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
# c-ares' own flag values (not socket's): a numeric host and port back from getnameinfo.
_NI_NUMERIC = _core.ARES_NI_NUMERICHOST | _core.ARES_NI_NUMERICSERV


class AsyncResolver(AbstractResolver):
    """aiohttp's resolver interface over a pycares_ng channel.

    ``nameservers`` (``"ip"``, ``"ip:port"``, ``"[ipv6]:port"``) and other keyword arguments
    are Channel options (``timeout``, ``tries``, ``resolvconf_path``, ``udp_port`` …); without
    them the system configuration (resolv.conf, hosts file) is used. Create it on the loop it
    will serve (or pass ``loop=``); use it from that loop's thread.
    """

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None, *,
                 nameservers: Optional[Sequence[Union[str, bytes]]] = None, **channel_options: Any) -> None:
        if nameservers is not None:
            if "servers" in channel_options:
                raise TypeError("give nameservers= or servers=, not both")
            channel_options["servers"] = list(nameservers)
        self._loop = loop if loop is not None else asyncio.get_running_loop()
        self._resolver = _LoopResolver(loop=self._loop, **channel_options)

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> List[ResolveResult]:
        """The addresses of ``host`` for TCP connections to ``port``, in c-ares' order (RFC
        6724 sorting). ``family`` is ``AF_INET``, ``AF_INET6`` or ``AF_UNSPEC`` (both)."""
        try:
            answer = await self._resolver.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
        except AresError as exc:
            raise OSError(None, _message(exc)) from exc
        hosts: List[ResolveResult] = []
        for node in answer.nodes:
            address = node.addr
            ip = address[0].decode("ascii")
            if node.family == socket.AF_INET6 and len(address) > 3 and address[3]:
                # A scoped (link-local) address: its numeric form names the interface.
                try:
                    info = await self._resolver.getnameinfo((ip, address[1], address[2], address[3]), _NI_NUMERIC)
                except AresError as exc:
                    raise OSError(None, _message(exc)) from exc
                ip = info.node
            hosts.append(ResolveResult(hostname=host, host=ip, port=address[1], family=node.family, proto=0,
                                       flags=_NUMERIC_FLAGS))
        if not hosts:
            raise OSError(None, "DNS lookup failed")
        return hosts

    async def close(self) -> None:
        """Close the channel; lookups still pending fail (``OSError``)."""
        self._resolver.close()

    @property
    def channel(self) -> _core.Channel:
        """The pycares_ng Channel underneath."""
        return self._resolver.channel


def _message(exc: AresError) -> str:
    return str(exc.args[1]) if len(exc.args) > 1 else "DNS lookup failed"
