"""A programmable DNS server on loopback, for testing code that resolves names.

:class:`FaultServer` answers DNS queries over UDP and TCP (on the same port) from a
daemon thread. What it answers is chosen per query by a *mode*: plain answers,
error rcodes, silence, truncation, delays, and malformed or hostile replies that real
servers never send on demand. It records every query it receives, so tests can
assert what the client actually sent::

    from pycares_ng.testing import FaultServer

    with FaultServer(mode="servfail") as server:
        server.rules["ok.example"] = "answer"
        server.add_record("ok.example", "A", "192.0.2.7", ttl=60)
        channel = pycares_ng.Channel(servers=[server.address], timeout=1.0, tries=1)
        ...
        assert server.wait_for_queries(1)
        assert server.queries[0].qname == "ok.example"

This module uses only the standard library and does not import the C extension, so
it can be imported (and used with any DNS client) on its own. The server binds to
loopback addresses only, by design: it never sends a packet anywhere else than back
to the client that wrote to it.
"""

from __future__ import annotations

import functools
import heapq
import ipaddress
import os
import selectors
import socket
import struct
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple, Union

__all__ = [
    "FaultServer",
    "ReceivedQuery",
    "MODES",
    "TYPES",
    "DNSFormatError",
    "encode_name",
    "decode_name",
    "a_rdata",
    "aaaa_rdata",
    "txt_rdata",
    "name_rdata",
    "mx_rdata",
    "srv_rdata",
]

#: Record type numbers by mnemonic (the ones a test is likely to need).
TYPES: Dict[str, int] = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
    "AAAA": 28, "SRV": 33, "NAPTR": 35, "OPT": 41, "DS": 43, "DNSKEY": 48,
    "TLSA": 52, "SVCB": 64, "HTTPS": 65, "ANY": 255, "URI": 256, "CAA": 257,
}
_A, _NS, _CNAME, _TXT, _AAAA, _OPT, _ANY = 1, 2, 5, 16, 28, 41, 255

_NOERROR, _FORMERR, _SERVFAIL, _NXDOMAIN, _REFUSED = 0, 1, 2, 3, 5
_QR, _AA, _TC, _RD, _RA = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080
_QNAME_POINTER = b"\xc0\x0c"  # the question name always starts at offset 12
_EDNS_PAYLOAD = 1232  # what we advertise, and the most we send over UDP with EDNS

#: Every mode :class:`FaultServer` understands, with what it makes the server do.
MODES: Dict[str, str] = {
    "answer": "answer from `records` (defaults: A 192.0.2.1, AAAA 2001:db8::1, "
              "TXT 'fault-server', all TTL 300; other types NOERROR without answers)",
    "nodata": "NOERROR without answers",
    "nxdomain": "NXDOMAIN",
    "servfail": "SERVFAIL",
    "refused": "REFUSED",
    "drop": "never answer",
    "truncate": "over UDP: TC bit set and no answers; over TCP: as 'answer'",
    "garbage": "the query id followed by random bytes",
    "wrong_id": "a normal answer with another id (the client must ignore it)",
    "wrong_question": "a normal answer for another name (the client must ignore it)",
    "short_header": "a reply of 6 bytes, shorter than a DNS header",
    "pointer_loop": "answer owner name is a compression pointer to itself",
    "pointer_loop_mutual": "owner name points to the rdata, which points back",
    "pointer_past_end": "answer owner name is a pointer beyond the end of the message",
    "count_overflow": "ANCOUNT is 5 but one record is present",
    "rdlength_overrun": "an A record whose RDLENGTH runs past the end of the message",
    "long_name": "a CNAME whose target decodes (through a pointer) to 257 octets",
    "bad_label": "answer owner name starts with a reserved label type byte (0x41)",
    "bad_rdata": "an A record with 3 octets of rdata (AAAA: 15)",
    "ttl_high_bit": "a normal answer whose TTLs are 0xFFFFFFFF (RFC 2181: means 0)",
}


class DNSFormatError(ValueError):
    """A DNS message or name could not be decoded."""


class ReceivedQuery(NamedTuple):
    """One query the server received, as the client sent it."""

    qname: str  #: question name as received (case kept), no trailing dot
    qtype: int
    qclass: int
    rd: bool  #: recursion desired bit
    edns: bool  #: an OPT record was present
    transport: str  #: "udp" or "tcp"
    client: Tuple[str, int]  #: (ip, port) of the client
    id: int  #: DNS message id


# ---------------------------------------------------------------------------
# Wire format helpers
# ---------------------------------------------------------------------------

def _split_labels(name: str) -> List[bytes]:
    """Split a presentation-format name into raw labels (handles \\. and \\DDD)."""
    labels: List[bytes] = []
    cur = bytearray()
    i = 0
    text = name
    while i < len(text):
        c = text[i]
        if c == "\\":
            if text[i + 1:i + 4].isdigit() and len(text[i + 1:i + 4]) == 3:
                cur.append(int(text[i + 1:i + 4]))
                i += 4
                continue
            if i + 1 >= len(text):
                raise DNSFormatError(f"dangling escape in {name!r}")
            cur += text[i + 1].encode("utf-8")
            i += 2
            continue
        if c == ".":
            if not cur:
                raise DNSFormatError(f"empty label in {name!r}")
            labels.append(bytes(cur))
            cur = bytearray()
        else:
            cur += c.encode("utf-8")
        i += 1
    if cur:
        labels.append(bytes(cur))
    return labels


def encode_name(name: Union[str, bytes]) -> bytes:
    """Encode a name (``"www.example.test"``, trailing dot optional) to wire format.

    No compression is used. Raises :class:`DNSFormatError` for labels over 63
    octets or names over 255 octets on the wire.
    """
    if isinstance(name, bytes):
        name = name.decode("ascii")
    if name in ("", "."):
        return b"\x00"
    out = bytearray()
    for label in _split_labels(name):
        if len(label) > 63:
            raise DNSFormatError(f"label longer than 63 octets in {name!r}")
        out.append(len(label))
        out += label
    out.append(0)
    if len(out) > 255:
        raise DNSFormatError(f"name longer than 255 octets: {name!r}")
    return bytes(out)


def _label_text(label: bytes) -> str:
    """Presentation form of one label: printable ASCII kept, the rest escaped."""
    parts = []
    for b in label:
        if b in (0x2E, 0x5C):  # '.' and '\\' must be escaped inside a label
            parts.append("\\" + chr(b))
        elif 0x21 <= b <= 0x7E:
            parts.append(chr(b))
        else:
            parts.append(f"\\{b:03d}")
    return "".join(parts)


def decode_name(msg: bytes, offset: int) -> Tuple[str, int]:
    """Decode a possibly compressed name at *offset* of *msg*.

    Returns ``(name, offset just past the name where it was found)``; the name has
    no trailing dot (the root is ``""``). Bounds, pointer loops, reserved label
    types and the 255-octet limit are all checked (:class:`DNSFormatError`).
    """
    labels: List[str] = []
    end: Optional[int] = None
    wire_len = 1
    hops = 0
    pos = offset
    while True:
        if pos >= len(msg):
            raise DNSFormatError("name runs past the end of the message")
        length = msg[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(msg):
                raise DNSFormatError("truncated compression pointer")
            target = ((length & 0x3F) << 8) | msg[pos + 1]
            if end is None:
                end = pos + 2
            hops += 1
            # Each hop must go strictly backwards, so no loop can exist.
            if target >= pos or hops > 127:
                raise DNSFormatError("bad compression pointer")
            pos = target
            continue
        if length & 0xC0:
            raise DNSFormatError(f"reserved label type 0x{length:02x}")
        if length == 0:
            break
        if pos + 1 + length > len(msg):
            raise DNSFormatError("label runs past the end of the message")
        wire_len += length + 1
        if wire_len > 255:
            raise DNSFormatError("name longer than 255 octets")
        labels.append(_label_text(msg[pos + 1:pos + 1 + length]))
        pos += 1 + length
    return ".".join(labels), (end if end is not None else pos + 1)


def a_rdata(address: str) -> bytes:
    """Rdata of an A record."""
    return socket.inet_pton(socket.AF_INET, address)


def aaaa_rdata(address: str) -> bytes:
    """Rdata of an AAAA record."""
    return socket.inet_pton(socket.AF_INET6, address)


def txt_rdata(*strings: Union[str, bytes]) -> bytes:
    """Rdata of one TXT record made of the given character-strings (str is UTF-8)."""
    out = bytearray()
    for s in strings:
        raw = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        if len(raw) > 255:
            raise DNSFormatError("TXT character-string longer than 255 octets")
        out.append(len(raw))
        out += raw
    return bytes(out)


def name_rdata(name: str) -> bytes:
    """Rdata of a CNAME, NS or PTR record."""
    return encode_name(name)


def mx_rdata(preference: int, exchange: str) -> bytes:
    """Rdata of an MX record."""
    return struct.pack("!H", preference) + encode_name(exchange)


def srv_rdata(priority: int, weight: int, port: int, target: str) -> bytes:
    """Rdata of an SRV record."""
    return struct.pack("!HHH", priority, weight, port) + encode_name(target)


_RDATA_FROM_TEXT: Dict[int, Callable[[str], bytes]] = {
    _A: a_rdata, _AAAA: aaaa_rdata, _TXT: txt_rdata,
    _CNAME: name_rdata, _NS: name_rdata, 12: name_rdata,
}


def _normalize_name(name: Union[str, bytes]) -> str:
    if isinstance(name, bytes):
        name = name.decode("ascii")
    return name.rstrip(".").lower()


def _type_number(rtype: Union[int, str]) -> int:
    if isinstance(rtype, str):
        try:
            return TYPES[rtype.upper()]
        except KeyError:
            raise ValueError(f"unknown record type {rtype!r}; use its number") from None
    return int(rtype)


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    return mode


class _RuleDict(Dict[str, str]):
    """qname -> mode; keys are normalized and modes validated when set."""

    def __setitem__(self, name: str, mode: str) -> None:
        super().__setitem__(_normalize_name(name), _check_mode(mode))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def setdefault(self, name: str, mode: str) -> str:
        name = _normalize_name(name)
        if name not in self:
            self[name] = mode
        return self[name]


_RecordKey = Tuple[str, int]
_RecordList = List[Tuple[int, bytes]]


class _RecordDict(Dict[_RecordKey, _RecordList]):
    """(qname, qtype) -> [(ttl, rdata)]; keys normalized (type may be a mnemonic)."""

    def __setitem__(self, key: Tuple[str, Union[int, str]], value: Iterable[Tuple[int, bytes]]) -> None:
        name, rtype = key
        super().__setitem__((_normalize_name(name), _type_number(rtype)),
                            [(int(ttl), bytes(rdata)) for ttl, rdata in value])

    def update(self, *args: Any, **kwargs: Any) -> None:
        for k, v in dict(*args, **kwargs).items():
            self[k] = v


class _Query:
    """A parsed incoming query (internal)."""

    __slots__ = ("id", "flags", "qname", "qtype", "qclass", "question", "edns", "payload")

    def __init__(self, data: bytes) -> None:
        if len(data) < 12:
            raise DNSFormatError("short header")
        self.id, self.flags, qd, an, ns, ar = struct.unpack_from("!6H", data)
        if self.flags & _QR or qd != 1:
            raise DNSFormatError("not a single-question query")
        self.qname, pos = decode_name(data, 12)
        if pos + 4 > len(data):
            raise DNSFormatError("truncated question")
        self.qtype, self.qclass = struct.unpack_from("!HH", data, pos)
        pos += 4
        self.question = data[12:pos]
        self.edns = False
        self.payload = 512
        for index in range(an + ns + ar):
            _, pos = decode_name(data, pos)
            if pos + 10 > len(data):
                raise DNSFormatError("truncated record")
            rtype, rclass, _, rdlen = struct.unpack_from("!HHIH", data, pos)
            pos += 10 + rdlen
            if pos > len(data):
                raise DNSFormatError("truncated rdata")
            if rtype == _OPT and index >= an + ns:
                self.edns = True
                self.payload = max(512, min(rclass, _EDNS_PAYLOAD))


def _header(qid: int, flags: int, an: int = 0, ns: int = 0, ar: int = 0, qd: int = 1) -> bytes:
    return struct.pack("!6H", qid, flags, qd, an, ns, ar)


def _rr(owner: bytes, rtype: int, ttl: int, rdata: bytes, rclass: int = 1,
        rdlength: Optional[int] = None) -> bytes:
    length = len(rdata) if rdlength is None else rdlength
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, length) + rdata


_OPT_RR = b"\x00" + struct.pack("!HHIH", _OPT, _EDNS_PAYLOAD, 0, 0)

_DEFAULT_RECORDS: Dict[int, _RecordList] = {
    _A: [(300, a_rdata("192.0.2.1"))],
    _AAAA: [(300, aaaa_rdata("2001:db8::1"))],
    _TXT: [(300, txt_rdata("fault-server"))],
}


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------

class _TcpConnection:
    __slots__ = ("sock", "client", "inbuf", "outbuf", "closed")

    def __init__(self, sock: socket.socket, client: Tuple[str, int]) -> None:
        self.sock = sock
        self.client = client
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.closed = False


class FaultServer:
    """A DNS server on loopback whose behaviour is chosen per query.

    :param host: a loopback address to bind (``"127.0.0.1"``, ``"::1"``, any 127/8).
    :param port: port to bind; 0 picks a free one (the same for UDP and TCP).
    :param mode: default behaviour, one of :data:`MODES`.
    :param delay: seconds to wait before answering each query (other queries are
        not held up meanwhile).
    :param tcp: also serve DNS over TCP on the same port.

    Attributes that may be changed at any time, also while serving:

    - ``mode``: default behaviour (``ValueError`` if unknown).
    - ``delay``: seconds before each reply is sent.
    - ``rules``: ``{qname: mode}``, overriding ``mode`` for that name (keys are
      lower-cased and stripped of a trailing dot).
    - ``records``: ``{(qname, qtype): [(ttl, rdata_bytes), ...]}`` for ``"answer"``;
      ``qtype`` may be a number or a mnemonic such as ``"MX"``. See
      :meth:`add_record`. A query for a (name, type) not in ``records`` gets the
      defaults listed in :data:`MODES`; a query of type ANY gets every record of
      the name.

    ``queries`` lists a :class:`ReceivedQuery` for every well-formed query received;
    ``errors`` collects exceptions raised inside the server thread (it keeps serving).
    Over UDP an answer bigger than 512 octets (or the client's EDNS size, at most
    1232) is replaced by a truncated reply, as a real server would do.
    """

    MODES = tuple(MODES)

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, mode: str = "answer",
                 delay: float = 0.0, tcp: bool = True) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"FaultServer binds loopback addresses only, not {host!r}")
        self.host = host
        self.port = port
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._tcp_enabled = tcp
        self.mode = mode
        self.delay = delay
        self._rules: _RuleDict = _RuleDict()
        self._records: _RecordDict = _RecordDict()
        self.queries: List[ReceivedQuery] = []
        self._syncs: List[threading.Event] = []
        self.errors: List[BaseException] = []
        self._cond = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._stopping = False
        self._timers: List[Tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = 0
        self._sockets: List[socket.socket] = []
        self._connections: List[_TcpConnection] = []

    # -- configuration -----------------------------------------------------

    @property
    def mode(self) -> str:
        """Default behaviour for names without a rule (one of :data:`MODES`)."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        self._mode = _check_mode(value)

    @property
    def delay(self) -> float:
        """Seconds to wait before replying to each query."""
        return self._delay

    @delay.setter
    def delay(self, value: float) -> None:
        if value < 0:
            raise ValueError("delay must be >= 0")
        self._delay = float(value)

    @property
    def rules(self) -> Dict[str, str]:
        """``{qname: mode}`` overriding :attr:`mode` for single names."""
        return self._rules

    @rules.setter
    def rules(self, value: Dict[str, str]) -> None:
        rules = _RuleDict()
        rules.update(value)
        self._rules = rules

    @property
    def records(self) -> Dict[_RecordKey, _RecordList]:
        """``{(qname, qtype): [(ttl, rdata), ...]}`` served in ``"answer"`` mode."""
        return self._records

    @records.setter
    def records(self, value: Dict[Tuple[str, Union[int, str]], _RecordList]) -> None:
        records = _RecordDict()
        records.update(value)
        self._records = records

    def add_record(self, name: str, rtype: Union[int, str], rdata: Union[bytes, str],
                   ttl: int = 300) -> None:
        """Append one record to :attr:`records`.

        *rdata* is wire-format bytes, or for A, AAAA, TXT, CNAME, NS and PTR the
        text form (an address, a string, a name).
        """
        number = _type_number(rtype)
        if isinstance(rdata, str):
            try:
                rdata = _RDATA_FROM_TEXT[number](rdata)
            except KeyError:
                raise TypeError(f"give rdata of type {rtype!r} as bytes") from None
        key = (_normalize_name(name), number)
        self._records.setdefault(key, []).append((int(ttl), bytes(rdata)))

    @property
    def address(self) -> str:
        """``"127.0.0.1:PORT"`` or ``"[::1]:PORT"``, as c-ares' server strings want."""
        if self._family == socket.AF_INET6:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"

    def sync(self, timeout: float = 5.0) -> bool:
        """Wait until the server thread has taken in every UDP query already sent to it (they are
        in :attr:`queries`), however busy the machine; False on timeout."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        done = threading.Event()
        with self._cond:
            self._syncs.append(done)
        try:
            self._wake_w.send(b"s")
        except OSError:
            return False
        return done.wait(timeout)

    def wait_for_queries(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least *n* queries were received; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.queries) >= n, timeout)

    # -- life cycle ----------------------------------------------------------

    def start(self) -> "FaultServer":
        """Bind the sockets and start serving in a daemon thread; returns self."""
        if self._thread is not None:
            raise RuntimeError("FaultServer already started")
        self._bind()
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, self._on_wake)
        self._sel.register(self._udp, selectors.EVENT_READ, self._on_udp)
        if self._tcp_enabled:
            self._sel.register(self._listener, selectors.EVENT_READ, self._on_accept)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"FaultServer {self.address}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every socket and join the thread. Idempotent."""
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        thread.join(5.0)
        self._thread = None
        for conn in list(self._connections):
            self._close_connection(conn)
        self._sel.close()
        for sock in self._sockets + [self._wake_r, self._wake_w]:
            sock.close()
        self._sockets = []
        self._timers = []

    def __enter__(self) -> "FaultServer":
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<FaultServer {self.address} mode={self._mode!r}>"

    def _bind(self) -> None:
        # UDP and TCP need the same port: take a free UDP one, then try TCP on it.
        for _ in range(100):
            udp = socket.socket(self._family, socket.SOCK_DGRAM)
            try:
                udp.bind((self.host, self.port))
            except OSError:
                udp.close()
                raise
            port = udp.getsockname()[1]
            if not self._tcp_enabled:
                break
            listener = socket.socket(self._family, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((self.host, port))
            except OSError:
                listener.close()
                udp.close()
                if self.port:
                    raise
                continue
            listener.listen(64)
            listener.setblocking(False)
            self._listener = listener
            self._sockets.append(listener)
            break
        else:
            raise OSError("no port free for both UDP and TCP")
        udp.setblocking(False)
        self._udp = udp
        self._sockets.append(udp)
        self.port = port

    # -- event loop (server thread only) ---------------------------------------

    def _run(self) -> None:
        while not self._stopping:
            timeout = None
            if self._timers:
                timeout = max(0.0, self._timers[0][0] - time.monotonic())
            for key, events in self._sel.select(timeout):
                self._guarded(key.data, key.fileobj, events)
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now and not self._stopping:
                self._guarded(heapq.heappop(self._timers)[2])

    def _guarded(self, func: Callable[..., None], *args: object) -> None:
        # A bug in one reply must not silently kill the server for the whole test.
        try:
            func(*args)
        except Exception as exc:  # noqa: BLE001
            self.errors.append(exc)

    def _on_wake(self, sock: socket.socket, events: int) -> None:
        try:
            sock.recv(64)
        except OSError:
            pass
        with self._cond:
            syncs, self._syncs = self._syncs, []
        if syncs:
            self._guarded(self._on_udp, self._udp, 0)  # what was sent before sync() was called
            for done in syncs:
                done.set()

    def _on_udp(self, sock: socket.socket, events: int) -> None:
        while True:
            try:
                data, client = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. ICMP port unreachable from an earlier reply
                continue
            self._handle(data, "udp", client[:2], functools.partial(self._send_udp, client))

    def _send_udp(self, client: Tuple[Any, ...], reply: bytes) -> None:
        try:
            self._udp.sendto(reply, client)
        except OSError:
            pass

    def _on_accept(self, sock: socket.socket, events: int) -> None:
        try:
            conn_sock, client = sock.accept()
        except OSError:
            return
        conn_sock.setblocking(False)
        conn = _TcpConnection(conn_sock, client[:2])
        self._connections.append(conn)
        self._sel.register(conn_sock, selectors.EVENT_READ, functools.partial(self._on_tcp, conn))

    def _on_tcp(self, conn: _TcpConnection, sock: socket.socket, events: int) -> None:
        if events & selectors.EVENT_WRITE:
            self._flush(conn)
        if not events & selectors.EVENT_READ or conn.closed:
            return
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close_connection(conn)
            return
        conn.inbuf += data
        while len(conn.inbuf) >= 2:
            (length,) = struct.unpack_from("!H", conn.inbuf)
            if len(conn.inbuf) < 2 + length:
                break
            message = bytes(conn.inbuf[2:2 + length])
            del conn.inbuf[:2 + length]
            self._handle(message, "tcp", conn.client, functools.partial(self._send_tcp, conn))

    def _send_tcp(self, conn: _TcpConnection, reply: bytes) -> None:
        if conn.closed:
            return
        conn.outbuf += struct.pack("!H", len(reply)) + reply
        self._flush(conn)

    def _flush(self, conn: _TcpConnection) -> None:
        try:
            sent = conn.sock.send(conn.outbuf)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close_connection(conn)
            return
        del conn.outbuf[:sent]
        wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.outbuf else 0)
        if self._sel.get_key(conn.sock).events != wanted:
            self._sel.modify(conn.sock, wanted, self._sel.get_key(conn.sock).data)

    def _close_connection(self, conn: _TcpConnection) -> None:
        if conn.closed:
            return
        conn.closed = True
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
        self._connections.remove(conn)

    def _handle(self, data: bytes, transport: str, client: Tuple[str, int],
                send: Callable[[bytes], None]) -> None:
        try:
            query = _Query(data)
        except DNSFormatError:
            # Answer FORMERR to anything that looks like a query header at all.
            if len(data) >= 12 and not data[2] & 0x80:
                send(data[:2] + struct.pack("!5H", _QR | _FORMERR, 0, 0, 0, 0))
            return
        received = ReceivedQuery(query.qname, query.qtype, query.qclass, bool(query.flags & _RD),
                                 query.edns, transport, client, query.id)
        with self._cond:
            self.queries.append(received)
            self._cond.notify_all()
        mode = self._rules.get(query.qname.lower(), self._mode)
        reply = self._build_reply(mode, query, transport)
        if reply is None:
            return
        if self._delay > 0:
            self._timer_seq += 1
            heapq.heappush(self._timers, (time.monotonic() + self._delay, self._timer_seq,
                                          lambda: send(reply)))
        else:
            send(reply)

    # -- replies ---------------------------------------------------------------

    def _build_reply(self, mode: str, q: _Query, transport: str) -> Optional[bytes]:
        if mode == "drop":
            return None
        if mode == "truncate" and transport == "udp":
            return self._reply(q, _NOERROR, [], tc=True)
        if mode in ("answer", "truncate", "wrong_id", "wrong_question", "ttl_high_bit"):
            answers = self._lookup(q)
            if mode == "ttl_high_bit":
                answers = [(rtype, 0xFFFFFFFF, rdata) for rtype, _, rdata in answers]
            reply = self._reply(q, _NOERROR, answers)
            if transport == "udp" and len(reply) > q.payload:
                reply = self._reply(q, _NOERROR, [], tc=True)
            if mode == "wrong_id":
                reply = struct.pack("!H", (q.id + 1) & 0xFFFF) + reply[2:]
            elif mode == "wrong_question":
                # Answers point at offset 12, so they follow the swapped-in name.
                other = encode_name("wrong-question.invalid") + q.question[-4:]
                reply = reply[:12] + other + reply[12 + len(q.question):]
            return reply
        rcodes = {"nodata": _NOERROR, "nxdomain": _NXDOMAIN, "servfail": _SERVFAIL,
                  "refused": _REFUSED}
        if mode in rcodes:
            return self._reply(q, rcodes[mode], [])
        if mode == "garbage":
            # Keep the id (so the client matches it) and the QR bit; the rest is noise.
            noise = bytearray(os.urandom(12 + int.from_bytes(os.urandom(1), "big")))
            noise[0] |= 0x80
            return struct.pack("!H", q.id) + bytes(noise)
        if mode == "short_header":
            return struct.pack("!HHH", q.id, _QR | _AA, 1)
        return self._hostile(mode, q)

    def _lookup(self, q: _Query) -> List[Tuple[int, int, bytes]]:
        """(type, ttl, rdata) of the answers for q in "answer" mode."""
        name = q.qname.lower()
        if q.qtype == _ANY:
            found = [(rtype, ttl, rdata) for (n, rtype), rrs in list(self._records.items())
                     if n == name for ttl, rdata in rrs]
            return found
        rrs = self._records.get((name, q.qtype))
        if rrs is None:
            rrs = _DEFAULT_RECORDS.get(q.qtype, [])
        return [(q.qtype, ttl, rdata) for ttl, rdata in rrs]

    def _reply(self, q: _Query, rcode: int, answers: List[Tuple[int, int, bytes]],
               tc: bool = False) -> bytes:
        flags = _QR | _AA | _RA | (q.flags & (0x7800 | _RD)) | rcode | (_TC if tc else 0)
        body = b"".join(_rr(_QNAME_POINTER, rtype, ttl, rdata, q.qclass)
                        for rtype, ttl, rdata in answers)
        opt = _OPT_RR if q.edns else b""
        return _header(q.id, flags, an=len(answers), ar=1 if q.edns else 0) + q.question + body + opt

    def _hostile(self, mode: str, q: _Query) -> bytes:
        """Replies with the right id and question but a malformed answer section."""
        flags = _QR | _AA | _RA | (q.flags & _RD)
        start = 12 + len(q.question)  # offset of the first answer record
        a_record = a_rdata("192.0.2.1")
        ancount = 1
        if mode == "pointer_loop":
            answer = _rr(struct.pack("!H", 0xC000 | start), _A, 60, a_record)
        elif mode == "pointer_loop_mutual":
            rdata_at = start + 2 + 10
            answer = _rr(struct.pack("!H", 0xC000 | rdata_at), _CNAME, 60,
                         struct.pack("!H", 0xC000 | start))
        elif mode == "pointer_past_end":
            beyond = min(start + 2 + 10 + 4 + 256, 0x3FFF)
            answer = _rr(struct.pack("!H", 0xC000 | beyond), _A, 60, a_record)
        elif mode == "count_overflow":
            answer = _rr(_QNAME_POINTER, _A, 60, a_record)
            ancount = 5
        elif mode == "rdlength_overrun":
            answer = _rr(_QNAME_POINTER, _A, 60, a_record, rdlength=200)
        elif mode == "long_name":
            # First a valid 255-octet target; then a CNAME from it to "x" + pointer
            # back to it: 257 octets once the pointer is followed.
            long_target = b"".join(bytes([63]) + bytes([c]) * 63 for c in b"abc")
            long_target += bytes([61]) + b"d" * 61 + b"\x00"
            target_at = start + 2 + 10
            answer = _rr(_QNAME_POINTER, _CNAME, 60, long_target)
            answer += _rr(struct.pack("!H", 0xC000 | target_at), _CNAME, 60,
                          b"\x01x" + struct.pack("!H", 0xC000 | target_at))
            ancount = 2
        elif mode == "bad_label":
            answer = _rr(b"\x41x\x00", _A, 60, a_record)
        elif mode == "bad_rdata":
            if q.qtype == _AAAA:
                answer = _rr(_QNAME_POINTER, _AAAA, 60, aaaa_rdata("2001:db8::1")[:15])
            else:
                answer = _rr(_QNAME_POINTER, _A, 60, a_record[:3])
        else:  # pragma: no cover - MODES and this method are kept in step
            raise AssertionError(mode)
        return _header(q.id, flags, an=ancount) + q.question + answer
