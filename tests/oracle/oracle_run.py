"""What the pycares 4.11 oracle (pycares4_oracle.py) and the pycares 5.2.1 child (pycares5_child.py)
share: running one scenario through one library and recording what a program sees.

:class:`RunBase` keeps the calls, the callbacks (and *when* each ran: inside which call on the
calling thread, ``"in:close"``; in the select loop, ``"loop"``; on another thread, ``"thread"``),
the ``sock_state_cb`` events (sockets numbered in first-seen order) and what the server received;
it drives a channel with a select loop (``"sock"`` mode) or waits for the event thread
(``"thread"`` mode). The shape of a record (tuples compared in-process for pycares 4, JSON lists
for pycares 5), how values and exceptions are pictured and what the Channel options are, are the
subclasses'. Imports neither pycares nor pycares_ng (the pycares 5 parent imports its child).
"""
from __future__ import annotations

import os
import selectors
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

DEFAULT = object()  # "leave this Channel option out"
_NORM = object()    # call(): picture the return value with the subclass's norm


def fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


class RunBase:
    """One scenario through one library (``lib``) against ``server`` (a FaultServer)."""

    #: what records are built as: tuple or list
    record: Callable[[Any], Any] = tuple
    #: how long the select loop goes on once every callback ran (None: it returns at once), so that
    #: what libcares does next (closing a socket) is seen whichever call does it
    linger: Optional[float] = None

    def __init__(self, lib: Any, server: Any, mode: str) -> None:
        self.lib = lib
        self.server = server
        self.mode = mode  # "sock" (sock_state_cb + select loop) or "thread" (the event thread)
        self.calls: List[Any] = []
        self.thread_calls: List[Any] = []
        self.callbacks: Dict[str, List[Any]] = {}
        self.sock: List[Any] = []
        self.unraisable: List[str] = []
        self.pending: set = set()
        self.channels: List[Any] = []
        self._fds: Dict[int, int] = {}  # fd number -> socket, while that socket is open
        self._sockets = 0
        self._watch: Dict[int, Tuple[bool, bool]] = {}
        self._ctx: Optional[str] = None
        self._main = threading.get_ident()
        self._cond = threading.Condition()
        self._mark = len(server.queries)
        self._fresh: List[str] = []  # callbacks made since the last call
        self.recording = True

    # -- the subclass's pictures ---------------------------------------------------------------
    @staticmethod
    def norm(value: Any) -> Any:
        raise NotImplementedError

    def callback_record(self, result: Any, errno: Any, when: str) -> Any:
        raise NotImplementedError

    def raised_record(self, exc: BaseException) -> Any:
        raise NotImplementedError

    def value_record(self, value: Any) -> Any:
        return value

    def observe(self) -> Any:
        """What finish() returns (recording has stopped; the channels are still open)."""
        raise NotImplementedError

    # -- recording -----------------------------------------------------------------------------
    # where are we: inside which call on the calling thread, the loop, or another thread
    def _when(self) -> str:
        if threading.get_ident() != self._main:
            return "thread"
        return f"in:{self._ctx}" if self._ctx else "loop"

    def fd(self, fd: int) -> int:
        """The socket using this fd number: sockets are numbered 0, 1 … in the order they appear,
        one number per socket, not per fd number (whether the OS hands a closed socket's number to
        the next one depends on what other threads of the process open meanwhile)."""
        if fd not in self._fds:
            self._fds[fd] = self._sockets
            self._sockets += 1
        return self._fds[fd]

    def sock_state_cb(self, fd: int, readable: bool, writable: bool) -> None:
        with self._cond:
            if self.recording:
                event: List[Any] = [self.fd(fd), bool(readable), bool(writable), self._when()]
                if not readable and not writable:  # a loop must still be able to unregister fd
                    event.append("fd open" if fd_is_open(fd) else "fd already closed")
                self.sock.append(self.record(event))
            if readable or writable:
                self._watch[fd] = (bool(readable), bool(writable))
            else:
                self._watch.pop(fd, None)
                self._fds.pop(fd, None)  # its number may come back for another socket

    def cb(self, tag: str) -> Callable[[Any, Any], None]:
        """A callback that records each call under tag."""
        with self._cond:
            self.pending.add(tag)
        self._fresh.append(tag)

        def callback(result: Any, errno: Any) -> None:
            entry = self.callback_record(result, errno, self._when())
            with self._cond:
                if self.recording:
                    self.callbacks.setdefault(tag, []).append(entry)
                self.pending.discard(tag)
                self._cond.notify_all()
        return callback

    def _channel(self, opts: Dict[str, Any], options: Dict[str, Any]) -> Any:
        """A Channel of this library with opts (the harness defaults), sock_state_cb in "sock"
        mode, and options on top (DEFAULT: leave that option out altogether)."""
        if self.mode == "sock":
            opts["sock_state_cb"] = self.sock_state_cb
        for key, value in options.items():
            if value is DEFAULT:
                opts.pop(key, None)
            else:
                opts[key] = value
        ch = self.lib.Channel(**opts)
        self.channels.append(ch)
        return ch

    def call(self, label: str, func: Callable[..., Any], *args: Any, result: Any = _NORM, **kwargs: Any) -> Any:
        """Call func, recording its pictured return value or what it raised. Calls made on
        another thread (from a callback on the event thread) are recorded apart, in their order."""
        main = threading.get_ident() == self._main
        calls = self.calls if main else self.thread_calls
        fresh, self._fresh = self._fresh, []
        outer = self._ctx
        if main:
            self._ctx = label
        try:
            value = func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - recording what a program sees
            calls.append(self.record([label, self.raised_record(exc)]))
            # a callback handed to a call that raised is not awaited (but recorded if it runs)
            with self._cond:
                self.pending.difference_update(fresh)
            return None
        finally:
            if main:
                self._ctx = outer
        picture = self.norm(value) if result is _NORM else result(value)
        calls.append(self.record([label, self.value_record(picture)]))
        return value

    # -- driving -------------------------------------------------------------------------------
    def drive(self, channel: Any, timeout: float = 4.0) -> None:
        """Run the loop until every callback handed out ran (or timeout). A loop stops when the
        channel refuses to be driven (closed from a callback): later deliveries are waited for."""
        if self.mode == "thread":
            self.wait(timeout)
            return
        try:
            self._drive(channel, timeout)
        except Exception:  # noqa: BLE001 - e.g. timeout() on a channel a callback closed
            self.wait(1.0)

    def _drive(self, channel: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        try:
            bad = self.lib.ARES_SOCKET_BAD
            while True:
                with self._cond:
                    if not self.pending:
                        if self.linger is None:
                            return
                        deadline = min(deadline, time.monotonic() + self.linger)
                    watch = dict(self._watch)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                for key in list(sel.get_map().values()):
                    sel.unregister(key.fileobj)
                for fd, (r, w) in watch.items():
                    sel.register(fd, (selectors.EVENT_READ if r else 0) | (selectors.EVENT_WRITE if w else 0))
                wait = max(0.0, min(channel.timeout(), 0.05, remaining))
                ready = sel.select(wait) if sel.get_map() else (time.sleep(wait) or [])
                if not ready:
                    channel.process_fd(bad, bad)
                for key, events in ready:
                    channel.process_fd(key.fd if events & selectors.EVENT_READ else bad,
                                       key.fd if events & selectors.EVENT_WRITE else bad)
        finally:
            sel.close()

    def wait(self, timeout: float = 3.0) -> None:
        """Wait (without driving) until every callback handed out ran, or timeout."""
        with self._cond:
            self._cond.wait_for(lambda: not self.pending, timeout)

    def settle(self, seconds: float = 0.05) -> None:
        """Let late deliveries from other threads arrive."""
        time.sleep(seconds)

    def sent(self) -> List[Tuple[str, int, int]]:
        """What the server received (name, type, class) since this run began, once its thread
        has taken in what was already sent."""
        self.server.sync()
        seen = -1
        while seen != len(self.server.queries):
            seen = len(self.server.queries)
            time.sleep(0.02)
        return sorted({(q.qname, q.qtype, q.qclass) for q in self.server.queries[self._mark:]})

    def finish(self) -> Any:
        with self._cond:
            self.recording = False
        out = self.observe()
        for ch in self.channels:
            try:
                ch.close()
            except Exception:  # noqa: BLE001 - best-effort teardown
                pass
        return out
