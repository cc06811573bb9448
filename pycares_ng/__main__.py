"""``python -m pycares_ng`` / ``pycares-ng``: resolve names and print the answers like dig.

    pycares-ng [-t TYPE] [-s SERVER[:PORT]] [--backend NAME] [--timeout S] NAME...

Each answer record is one line — owner, TTL, class, type, data — as in a zone file::

    www.example.test.	300	IN	A	192.0.2.10

Exit status: 0 when every name was answered (an answer without records of the asked type —
NODATA — counts as answered, and is reported on stderr), 1 when some name failed (NXDOMAIN,
SERVFAIL, timeout …; the error goes to stderr), 2 for a usage error.
"""
from __future__ import annotations

import argparse
import base64
import ipaddress
import sys
import time
from types import ModuleType
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Type

from . import _core
from . import errno as ares_errno
from ._core import AresError
from .backends.base import QUERY_TYPES, AnyResolver
from .utils import reverse_address

__all__ = ["main", "format_record"]

PROG = "pycares-ng"

#: type names the tool knows (QUERY_TYPE_*), and TYPEnnn for any other type
TYPES = sorted(QUERY_TYPES)
_TYPE_NAMES = {number: name for name, number in QUERY_TYPES.items()}
_CLASS_NAMES = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}

#: short names of the errors people know from dig
_RCODE_NAMES = {
    _core.ARES_ENOTFOUND: "NXDOMAIN", _core.ARES_ESERVFAIL: "SERVFAIL",
    _core.ARES_EREFUSED: "REFUSED", _core.ARES_EFORMERR: "FORMERR",
    _core.ARES_ENOTIMP: "NOTIMP", _core.ARES_ETIMEOUT: "timed out",
    _core.ARES_ECONNREFUSED: "connection refused", _core.ARES_EBADRESP: "bad reply",
}


# -- presentation ----------------------------------------------------------------------------------

def _fqdn(name: str) -> str:
    """A name as dig prints it: with the final dot (the root is ".")."""
    return name if name.endswith(".") else name + "."


def _quote(value: Any) -> str:
    """A character-string in zone-file form: quoted, with \\" \\\\ and \\DDD escapes."""
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    out = []
    for octet in data:
        if octet in (0x22, 0x5C):
            out.append("\\" + chr(octet))
        elif 0x20 <= octet < 0x7F:
            out.append(chr(octet))
        else:
            out.append(f"\\{octet:03d}")
    return '"' + "".join(out) + '"'


def _hex(data: bytes) -> str:
    return data.hex().upper()


def _svc_params(params: Iterable[Tuple[Any, bytes]]) -> str:
    """SVCB/HTTPS SvcParams in presentation form (RFC 9460)."""
    names = {0: "mandatory", 1: "alpn", 2: "no-default-alpn", 3: "port", 4: "ipv4hint", 5: "ech",
             6: "ipv6hint"}
    out = []
    for key, value in params:
        key = int(key) if not isinstance(key, str) else key
        name = names.get(key, f"key{key}") if isinstance(key, int) else key
        try:
            if name == "mandatory":
                keys = (int.from_bytes(value[i:i + 2], "big") for i in range(0, len(value), 2))
                text = ",".join(names.get(k, f"key{k}") for k in keys)
            elif name == "alpn":
                ids, i = [], 0
                while i < len(value):
                    ids.append(value[i + 1:i + 1 + value[i]].decode("ascii"))
                    i += 1 + value[i]
                text = ",".join(ids)
            elif name == "no-default-alpn":
                out.append(name)
                continue
            elif name == "port":
                text = str(int.from_bytes(value, "big"))
            elif name == "ipv4hint":
                text = ",".join(str(ipaddress.IPv4Address(value[i:i + 4])) for i in range(0, len(value), 4))
            elif name == "ipv6hint":
                text = ",".join(str(ipaddress.IPv6Address(value[i:i + 16])) for i in range(0, len(value), 16))
            elif name == "ech":
                text = base64.b64encode(value).decode("ascii")
            else:
                text = _quote(value)[1:-1]
        except (ValueError, IndexError, UnicodeDecodeError):
            text = _quote(value)[1:-1]
        out.append(f"{name}={text}")
    return " ".join(out)


def format_data(rtype: str, data: Any) -> str:
    """The RDATA of one record in zone-file (dig) presentation form."""
    if isinstance(data, (bytes, bytearray)):  # a type pycares_ng does not parse: RFC 3597
        return f"\\# {len(data)} {_hex(bytes(data))}".rstrip()
    if rtype in ("A", "AAAA"):
        return str(data.host)
    if rtype == "CNAME":
        return _fqdn(data.cname)
    if rtype == "NS":
        return _fqdn(data.host)
    if rtype == "PTR":
        return _fqdn(data.name)
    if rtype == "MX":
        return f"{data.priority} {_fqdn(data.host)}"
    if rtype == "SOA":
        return (f"{_fqdn(data.nsname)} {_fqdn(data.hostmaster)} {data.serial} {data.refresh} "
                f"{data.retry} {data.expires} {data.minttl}")
    if rtype == "SRV":
        return f"{data.priority} {data.weight} {data.port} {_fqdn(data.host)}"
    if rtype == "TXT":
        return _quote(data.text)
    if rtype == "NAPTR":
        return (f"{data.order} {data.preference} {_quote(data.flags)} {_quote(data.service)} "
                f"{_quote(data.regex)} {_fqdn(data.replacement)}")
    if rtype == "CAA":
        return f"{data.critical} {data.property} {_quote(data.value)}"
    if rtype == "URI":
        return f"{data.priority} {data.weight} {_quote(data.target)}"
    if rtype == "TLSA":
        return f"{data.usage} {data.selector} {data.matching_type} {_hex(data.data)}"
    if rtype in ("SVCB", "HTTPS"):
        return f"{data.priority} {_fqdn(data.target)} {_svc_params(data.params)}".rstrip()
    if rtype == "DS":
        return f"{data.key_tag} {data.algorithm} {data.digest_type} {_hex(data.digest)}"
    if rtype == "DNSKEY":
        return f"{data.flags} {data.protocol} {data.algorithm} {base64.b64encode(data.public_key).decode()}"
    if rtype == "SSHFP":
        return f"{data.algorithm} {data.fp_type} {_hex(data.fingerprint)}"
    return repr(data)


def _type_name(rtype: Any) -> str:
    if isinstance(rtype, str):
        return rtype.upper()
    return str(_TYPE_NAMES.get(rtype, f"TYPE{rtype}"))


def format_record(name: str, ttl: int, rclass: Any, rtype: Any, data: Any) -> str:
    """One answer line: ``owner<TAB>ttl<TAB>class<TAB>type<TAB>data``."""
    type_name = _type_name(rtype)
    class_name = _CLASS_NAMES.get(rclass, f"CLASS{rclass}") if isinstance(rclass, int) else str(rclass)
    return "\t".join((_fqdn(name), str(ttl), class_name, type_name, format_data(type_name, data)))


# -- arguments -----------------------------------------------------------------------------------

def _query_type(text: str) -> int:
    name = text.upper()
    if name in QUERY_TYPES:
        return QUERY_TYPES[name]
    digits = name[4:] if name.startswith("TYPE") else name
    if digits.isdigit() and 1 <= int(digits) <= 65535:
        return int(digits)
    raise argparse.ArgumentTypeError(
        f"unknown record type {text!r}: one of {', '.join(TYPES)} or TYPEnnn")


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("the timeout must be more than 0 seconds")
    return value


def _tries(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Resolve DNS names with c-ares (pycares_ng) and print the answer records "
                    "with their TTLs, one per line, as dig does.",
        epilog="Exit status: 0 every name answered (NODATA included), 1 some name failed, "
               "2 usage error. Example: %(prog)s -t MX -s 127.0.0.1:5353 example.test",
    )
    parser.add_argument("names", nargs="+", metavar="NAME",
                        help="names to look up (several at once are resolved concurrently)")
    parser.add_argument("-t", "--type", dest="qtype", type=_query_type, default=_core.QUERY_TYPE_A,
                        metavar="TYPE", help=f"record type (default A): {', '.join(TYPES)}, or TYPEnnn")
    parser.add_argument("-s", "--server", dest="servers", action="append", metavar="SERVER[:PORT]",
                        help="DNS server to ask, e.g. 127.0.0.1, 127.0.0.1:5353 or [::1]:5353 "
                             "(repeatable; default: /etc/resolv.conf)")
    parser.add_argument("-x", "--reverse", action="store_true",
                        help="the NAMEs are IP addresses: look up their PTR records")
    parser.add_argument("--search", action="store_true",
                        help="apply the search domains and ndots of resolv.conf (default: names as given)")
    parser.add_argument("--backend", default=None, metavar="NAME",
                        help="pycares_ng backend to resolve with (default: $PYCARES_NG_BACKEND or select); "
                             "see pycares_ng.backends.available()")
    parser.add_argument("--timeout", type=_timeout, default=5.0, metavar="S",
                        help="seconds to wait for the answers, in all (default 5)")
    parser.add_argument("--tries", type=_tries, default=2, metavar="N",
                        help="attempts per server within that time (default 2)")
    return parser


# -- resolving ---------------------------------------------------------------------------------

class _Timeout(Exception):
    """No answer within --timeout."""


Outcomes = List[Tuple[str, Any]]


def _submit_all(resolver: AnyResolver, names: Sequence[str], qtype: int, search: bool) -> List[Tuple[str, Any]]:
    """[(name, the request's future, or the ValueError / AresError that refused it)]."""
    method = resolver.search_dns if search else resolver.query_dns
    futures: List[Tuple[str, Any]] = []
    for name in names:
        try:
            futures.append((name, method(name, qtype)))
        except (ValueError, AresError) as exc:  # a malformed name: that name fails, not the run
            futures.append((name, exc))
    return futures


def _failure(exc: Exception) -> Exception:
    """What a failed wait reports: the AresError, or _Timeout for the wait's TimeoutError."""
    return _Timeout() if isinstance(exc, TimeoutError) else exc


def _resolve_sync(backend: ModuleType, options: Dict[str, Any], names: Sequence[str], qtype: int, search: bool,
                  timeout: float) -> Outcomes:
    """[(name, result or exception)], waiting with the backend's blocking ``wait()``."""
    with backend.Resolver(**options) as resolver:
        deadline = time.monotonic() + timeout
        out: Outcomes = []
        for name, future in _submit_all(resolver, names, qtype, search):
            if not isinstance(future, BaseException):
                try:
                    future = resolver.wait(future, max(deadline - time.monotonic(), 0.0))
                except (TimeoutError, AresError) as exc:
                    future = _failure(exc)
            out.append((name, future))
        return out


async def _resolve_async(backend: ModuleType, options: Dict[str, Any], names: Sequence[str], qtype: int,
                         search: bool, timeout: float) -> Outcomes:
    """The same with an ``is_async`` backend's coroutine ``wait()``, inside its loop."""
    with backend.Resolver(**options) as resolver:  # made inside the running loop, which it uses
        deadline = time.monotonic() + timeout
        out: Outcomes = []
        for name, future in _submit_all(resolver, names, qtype, search):
            if not isinstance(future, BaseException):
                try:
                    future = await resolver.wait(future, max(deadline - time.monotonic(), 0.0))
                except (TimeoutError, AresError) as exc:
                    future = _failure(exc)
            out.append((name, future))
        return out


def resolve(backend: ModuleType, options: Dict[str, Any], names: Sequence[str], qtype: int, search: bool,
            timeout: float) -> Outcomes:
    """Resolve ``names`` with ``backend``: synchronously, or on a loop the backend's Resolver
    runs (``Resolver.run``) when its ``is_async`` says its futures are awaitables."""
    resolver_class: Type[AnyResolver] = backend.Resolver
    if resolver_class.is_async:
        return resolver_class.run(lambda: _resolve_async(backend, options, names, qtype, search, timeout))
    return _resolve_sync(backend, options, names, qtype, search, timeout)


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, _Timeout):
        return f"no answer within {timeout:g} s (timed out)"
    if isinstance(exc, ValueError):
        return f"not a name that can be asked: {exc}"
    code = exc.args[0] if exc.args else -1
    name = ares_errno.errorcode.get(code, str(code))
    message = exc.args[1] if len(exc.args) > 1 else str(exc)
    short = _RCODE_NAMES.get(code)
    return f"{short}: {message} ({name})" if short else f"{message} ({name})"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line tool; returns the exit status (0, 1 or 2)."""
    parser = _parser()
    args = parser.parse_intermixed_args(argv)  # options may come after names, as with dig
    names: List[str] = list(args.names)
    qtype = args.qtype
    if args.reverse:
        try:
            names = [reverse_address(name) for name in names]
        except (ValueError, TypeError) as exc:
            parser.error(f"-x needs IP addresses: {exc}")
        if qtype == _core.QUERY_TYPE_A:
            qtype = _core.QUERY_TYPE_PTR

    from . import backends

    try:
        backend = backends.get(args.backend)
    except (LookupError, RuntimeError) as exc:
        parser.error(str(exc))
    options: Dict[str, Any] = {"timeout": args.timeout / args.tries, "tries": args.tries}
    if args.servers:
        options["servers"] = args.servers
    try:
        outcomes = resolve(backend, options, names, qtype, args.search, args.timeout)
    except (TypeError, ValueError) as exc:  # a server the Channel does not take …
        parser.error(str(exc))

    status = 0
    type_name = _type_name(qtype)
    for name, result in outcomes:
        if isinstance(result, BaseException):
            status = 1
            print(f"{PROG}: {name}: {_describe(result, args.timeout)}", file=sys.stderr)
            continue
        lines = _answer_lines(name, qtype, result)
        if not lines:
            print(f"{PROG}: {name}: no {type_name} record (NODATA)", file=sys.stderr)
        for line in lines:
            print(line)
    sys.stdout.flush()
    return status


def _answer_lines(name: str, qtype: int, result: Any) -> List[str]:
    answer = getattr(result, "answer", None)
    if answer is not None:  # query_dns: the whole answer section, CNAMEs included
        return [format_record(r.name, r.ttl, r.record_class, r.type, r.data) for r in answer]
    # query(): pycares-style results, which name no owner: use the name asked
    records = result if isinstance(result, list) else [result]
    return [format_record(name, r.ttl, 1, r.type, r) for r in records]


if __name__ == "__main__":
    sys.exit(main())
