"""The benchmark workload for pycares-like modules: the pycares 4.x API (pycares 4, pycares_ng),
the pycares 5.x API (pycares 5, pycares_ng.v5) and cyares' (futures).

Resolves N distinct A names (n0 … nN-1.bench.test) against one loopback server, keeping K
queries in flight, and prints one JSON object — the same workload and output as c_client.c.

    python py_client.py --module pycares_ng --port 5353 --n 20000 --inflight 100

The loop below is what a user of the pycares API writes: sock_state_cb keeps a `selectors`
(epoll) registration per c-ares socket, `Channel.timeout()` bounds the wait, ready sockets go to
`process_read_fd` / `process_write_fd` (or `process_fd`), and `process_fd(BAD, BAD)` runs the
timers when the wait times out.  Its per-query cost is part of what is measured, so it is kept
tight, but nothing is done that an ordinary user would not do.

With --event-thread the channel runs its own I/O thread (pycares_ng, pycares 5, cyares): the main
thread sends; a callback that sees the number in flight fall to K/2 wakes it to send K/2 more
(one wake-up per K/2 answers, not one per answer; pycares 5 cannot take a query from inside its
callbacks).

CPU time is resource.getrusage(RUSAGE_SELF) over the resolve phase only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import selectors
import sys
import tempfile
import threading
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--module", default="pycares_ng", help="pycares | pycares_ng | any pycares-4-API module")
    p.add_argument("--server", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--n", type=int, default=20000, help="number of distinct names to resolve")
    p.add_argument("--inflight", type=int, default=100, help="queries kept in flight")
    p.add_argument("--prefix", default="n")
    p.add_argument("--domain", default="bench.test")
    p.add_argument("--names-file", help="one name per line instead of PREFIX<i>.DOMAIN")
    p.add_argument("--rcvbuf", type=int, default=4 << 20, help="socket_receive_buffer_size")
    p.add_argument("--timeout", type=float, help="Channel(timeout=...) in seconds; default: library's")
    p.add_argument("--tries", type=int, help="Channel(tries=...); default: library's")
    p.add_argument("--api", choices=["auto", "v4", "v5", "cyares"], default="auto",
                   help="the module's API (auto: cyares for cyares, v5 for pycares 5.x and pycares_ng.v5)")
    p.add_argument("--event-thread", action="store_true", help="the channel's own I/O thread drives it")
    p.add_argument("--qcache-max-ttl", type=int,
                   help="Channel(qcache_max_ttl=...) (pycares_ng only); default: library's")
    return p.parse_args(argv)


def detect_api(mod, args):
    if args.api != "auto":
        return args.api
    if mod.__name__.startswith("cyares"):
        return "cyares"
    if mod.__name__.endswith(".v5") or str(getattr(mod, "__version__", "")).startswith("5."):
        return "v5"
    return "v4"


def load_names(args):
    if args.names_file:
        with open(args.names_file) as f:
            names = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        if len(names) < args.n:
            sys.exit(f"py_client: {args.names_file} has fewer than {args.n} names")
        return names[: args.n]
    return [f"{args.prefix}{i}.{args.domain}" for i in range(args.n)]


def module_versions(mod):
    version = getattr(mod, "__version__", None) or "?"
    cares = getattr(mod, "ARES_VERSION", None)
    if cares is None and hasattr(mod, "get_ares_version"):  # cyares
        cares = mod.get_ares_version()
    if isinstance(cares, bytes):
        cares = cares.decode()
    return version, cares


def cares_library_path(mod):
    """The file the module's c-ares code runs from: a mapped libcares*.so, or else the package's own
    extension module (c-ares bundled statically). Lets run.py pair a binding with the C client
    built against the very same library."""
    mapped = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split(None, 5)
                if len(fields) == 6 and fields[5].startswith("/"):
                    mapped.add(fields[5].strip())
    except OSError:
        return None
    # libcares*.so, or pycares 4's _cares.abi3.so when another binding links it (run.py --ng-on-pycares4)
    libs = sorted(p for p in mapped if os.path.basename(p).startswith(("libcares", "_cares.")))
    if libs:
        return os.path.realpath(libs[0])
    prefix = mod.__name__ + "."
    for name, sub in list(sys.modules.items()):
        path = getattr(sub, "__file__", None) or ""
        if name.startswith(prefix) and path.endswith(".so") and os.path.realpath(path) in mapped:
            return os.path.realpath(path)
    return None


def run(mod, args, names):
    api = detect_api(mod, args)
    BAD = getattr(mod, "ARES_SOCKET_BAD", getattr(mod, "CYARES_SOCKET_BAD", -1))
    EVENT_READ, EVENT_WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
    sel = selectors.DefaultSelector()

    def sock_state_cb(fd, readable, writable):
        events = (EVENT_READ if readable else 0) | (EVENT_WRITE if writable else 0)
        if events:
            try:
                sel.modify(fd, events)
            except KeyError:
                sel.register(fd, events)
        else:
            try:
                sel.unregister(fd)
            except KeyError:
                pass

    # An empty resolv.conf, so nothing of the host's configuration is read; servers are explicit.
    fd, resolvconf = tempfile.mkstemp(prefix="py_client_resolvconf.")
    os.close(fd)
    kwargs = dict(
        # pycares 4.x takes bare addresses in servers=, so the port goes in udp_port/tcp_port.
        servers=[args.server],
        udp_port=args.port,
        tcp_port=args.port,
        socket_receive_buffer_size=args.rcvbuf,
        resolvconf_path=resolvconf,
    )
    if api == "v5":  # pycares 5 (c-ares 1.34): "ip:port"
        kwargs["servers"] = [f"{args.server}:{args.port}"]
    if args.event_thread:
        if api != "v5":  # pycares 5 runs its event thread when sock_state_cb is left out
            kwargs["event_thread"] = True
    else:
        kwargs["sock_state_cb"] = sock_state_cb
    if args.qcache_max_ttl is not None:
        kwargs["qcache_max_ttl"] = args.qcache_max_ttl
    if args.timeout is not None:
        kwargs["timeout"] = args.timeout
    if args.tries is not None:
        kwargs["tries"] = args.tries
    try:
        channel = mod.Channel(**kwargs)
    finally:
        os.unlink(resolvconf)

    n = len(names)
    done = ok = failed = ttl_sum = 0
    threaded = args.event_thread
    refill = threading.Event()
    low = args.inflight // 2
    sent = 0
    # A callback wakes the sending thread once per round (refill.set() takes a lock and notifies):
    # not again for every answer that comes in before the sender has run. The sender clears the
    # event first and `asked` after, so an answer in between sets it again rather than being lost.
    asked = False

    def count(good, ttls):
        nonlocal done, ok, failed, ttl_sum, asked
        done += 1
        if good:
            ok += 1
            ttl_sum += ttls
        else:
            failed += 1
        if threaded and not asked and (done >= n or sent - done <= low):
            asked = True
            refill.set()

    def callback(result, error):  # pycares 4 API: a list of records with host and ttl
        if error is None and result:
            count(True, sum(record.ttl + len(record.host) for record in result))
        else:
            count(False, 0)

    def callback5(result, error):  # pycares 5 API: DNSResult; record.data.addr and record.ttl
        if error is None and result is not None and result.answer:
            count(True, sum(record.ttl + len(record.data.addr) for record in result.answer))
        else:
            count(False, 0)

    def callback_future(future):  # cyares: a future of a DNSResult
        try:
            result = future.result()
        except Exception:
            count(False, 0)
            return
        if result is not None and result.answer:
            count(True, sum(record.ttl + len(record.data.addr) for record in result.answer))
        else:
            count(False, 0)

    qtype = mod.QUERY_TYPE_A
    if api == "v4":
        query = channel.query
    else:
        cb = callback5 if api == "v5" else callback_future

        def query(name, qtype, _callback, _query=channel.query, _cb=cb):
            _query(name, qtype, callback=_cb)
    process_fd = channel.process_fd
    process_read_fd = getattr(channel, "process_read_fd", None)
    process_write_fd = getattr(channel, "process_write_fd", None)
    if process_read_fd is None:  # older pycares 4.x: process_fd only
        process_read_fd = lambda fd: process_fd(fd, BAD)  # noqa: E731
        process_write_fd = lambda fd: process_fd(BAD, fd)  # noqa: E731
    timeout = channel.timeout
    select = sel.select
    limit = args.inflight

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()

    if threaded:
        # only this thread moves `sent`, only the callbacks (one at a time) move `done`
        while sent < n:
            end = min(n, done + limit)
            while sent < end:
                query(names[sent], qtype, callback)
                sent += 1
            if sent < n:
                refill.wait()
                refill.clear()
                asked = False
        while done < n:
            refill.wait(1.0)
            refill.clear()
            asked = False
    while not threaded and done < n:
        in_flight = sent - done
        while sent < n and in_flight < limit:
            query(names[sent], qtype, callback)
            sent += 1
            in_flight += 1
        if done >= n:
            break
        ready = select(timeout())
        if not ready:
            process_fd(BAD, BAD)
            continue
        for key, events in ready:
            if events & EVENT_READ:
                process_read_fd(key.fd)
            if events & EVENT_WRITE:
                process_write_fd(key.fd)

    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)

    close = getattr(channel, "close", None)
    if close is not None:
        close()
    sel.close()

    user = ru1.ru_utime - ru0.ru_utime
    sys_ = ru1.ru_stime - ru0.ru_stime
    return {
        "n": n,
        "inflight": args.inflight,
        "ok": ok,
        "failed": failed,
        "wall_s": round(wall, 6),
        "cpu_user_s": round(user, 6),
        "cpu_sys_s": round(sys_, 6),
        "qps": round(n / wall, 1) if wall > 0 else 0.0,
        "cpu_us_per_query": round((user + sys_) * 1e6 / n, 3),
        "checksum": ttl_sum,
    }


def main(argv=None):
    args = parse_args(argv)
    mod = importlib.import_module(args.module)
    version, cares = module_versions(mod)
    names = load_names(args)
    api = detect_api(mod, args)
    result = {"client": f"{args.module} {version}", "api": api + ("/event-thread" if args.event_thread else ""),
              "cares": cares,
              "python": sys.version.split()[0]}
    result.update(run(mod, args, names))
    result["cares_lib"] = cares_library_path(mod)
    print(json.dumps(result))
    return 0 if result["ok"] == result["n"] else 1


if __name__ == "__main__":
    sys.exit(main())
