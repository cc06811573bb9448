"""A chaos run (issue 10): four threads issue every kind of request on ONE channel -- query() and
search() of several types, query_dns(), gethostbyname(), gethostbyaddr(), getaddrinfo(),
getnameinfo() -- against two FaultServers whose behaviour per name (every mode of
pycares_ng.testing.MODES, plus a delay) is drawn at random, while another thread cancels, switches
servers between them, calls reinit() and timeout() and redraws rules, for a few seconds. Some
callbacks submit a follow-up request from inside the callback. In both modes: driven by a thread
with sock_state_cb + getsock/select/process_fd, and event_thread=True.

Asserted: no crash (the run is a child process; a crash is a failed test with its stderr), no
unexpected exception from any call, every accepted request got exactly one callback, every
callback is well formed (result None and errno an ARES_E* code, or a result of the method's class
with sane fields and errno None), and close() at the end has delivered everything (no callback
arrives after it returned). The seed of each case is in every failure message: it fixes what is
drawn (rules, delays, options, each thread's sequence of requests and operations), not how the
threads interleave.

Only loopback servers started here are contacted; no test reads /etc/resolv.conf (an empty
resolvconf_path, lookups="b")."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

DURATION = 3.0  # seconds of chaos per case

CHILD = r'''
import ipaddress, json, random, select, socket, struct, sys, tempfile, threading, time, traceback
import pycares_ng
from pycares_ng import errno as ares_errno
from pycares_ng.testing import FaultServer, MODES, encode_name, mx_rdata, srv_rdata

SEED, EVENT_THREAD, DURATION = int(sys.argv[1]), sys.argv[2] == "1", float(sys.argv[3])
rng = random.Random(SEED)
RC = tempfile.NamedTemporaryFile(delete=False).name  # an empty resolv.conf: nothing of this machine's
BAD = pycares_ng.ARES_SOCKET_BAD
ERRNOS = {code for code, name in ares_errno.errorcode.items() if name != "ARES_SUCCESS"}

# ---- the servers: records for every name, a random mode per name --------------------------------

NAMES = ["n%d.chaos.test" % i for i in range(24)]
V4 = ["192.0.2.%d" % i for i in range(1, 9)]
V6 = ["2001:db8::%x" % i for i in range(1, 5)]


def reverse(addr):
    return ipaddress.ip_address(addr).reverse_pointer


REVERSE = [reverse(a) for a in V4 + V6]
MODE_LIST = sorted(MODES)
# "answer" weighs as much as all the other modes together, so results come back too
WEIGHTS = [len(MODE_LIST) if m == "answer" else 1 for m in MODE_LIST]


def draw_mode(r):
    return r.choices(MODE_LIST, WEIGHTS)[0]


def soa_rdata(i):
    return (encode_name("ns%d.chaos.test" % i) + encode_name("admin.chaos.test")
            + struct.pack("!5I", 2024000000 + i, 3600, 600, 86400, 60))


def caa_rdata(i):
    return bytes([0, 5]) + b"issue" + ("ca%d.test" % i).encode()


def make_server(r):
    server = FaultServer(mode=r.choice(["answer", "nxdomain", "servfail", "refused"]),
                         delay=r.choice([0.0, 0.0, 0.01, 0.05]))
    for i, name in enumerate(NAMES):
        server.add_record(name, "A", "192.0.2.%d" % (1 + i % 8), ttl=r.randrange(0, 10**6))
        server.add_record(name, "A", "198.51.100.%d" % (1 + i), ttl=r.randrange(0, 10**6))
        server.add_record(name, "AAAA", "2001:db8::%x" % (100 + i))
        server.add_record(name, "TXT", "chaos %d" % i)
        server.add_record(name, "MX", mx_rdata(10 + i, "mx%d.chaos.test" % i))
        server.add_record(name, "NS", "ns%d.chaos.test" % i)
        server.add_record(name, "CNAME", "alias%d.chaos.test" % i)
        server.add_record(name, "SOA", soa_rdata(i))
        server.add_record(name, "SRV", srv_rdata(1, 2, 1000 + i, "srv%d.chaos.test" % i))
        server.add_record(name, "CAA", caa_rdata(i))
        server.rules[name] = draw_mode(r)
    for i, name in enumerate(REVERSE):
        server.add_record(name, "PTR", "host%d.chaos.test" % i)
        server.add_record(name, "PTR", "other%d.chaos.test" % i)
        server.rules[name] = draw_mode(r)
    return server.start()


servers = [make_server(rng), make_server(rng)]
ADDRS = [s.address for s in servers]
_dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a loopback port nobody listens on
_dead.bind(("127.0.0.1", 0))
DEAD = "127.0.0.1:%d" % _dead.getsockname()[1]
_dead.close()

# ---- bookkeeping --------------------------------------------------------------------------------

lock = threading.Lock()
calls = {}       # token -> number of callbacks
accepted = {}    # token -> method
refused = set()  # tokens whose submission raised because the channel was closed
problems = []    # malformed callbacks, unexpected exceptions
stats = {"ok": {}, "err": {}}
next_token = [0]
closed_evt = threading.Event()


def problem(text):
    with lock:
        if len(problems) < 50:
            problems.append(text)


def check_ttl(ttl):
    assert isinstance(ttl, int) and 0 <= ttl <= 2**31 - 1, ttl


def check_addr(text, family=None):
    if isinstance(text, bytes):  # getaddrinfo nodes carry the address as bytes, as pycares does
        text = text.decode("ascii")
    assert isinstance(text, str), text
    ip = ipaddress.ip_address(text.split("%")[0])
    assert family is None or ip.version == family, (text, family)


def check_name(text):
    assert isinstance(text, str) and "\0" not in text, text


QTYPE_CLASS = {
    pycares_ng.QUERY_TYPE_A: (list, pycares_ng.ares_query_a_result),
    pycares_ng.QUERY_TYPE_AAAA: (list, pycares_ng.ares_query_aaaa_result),
    pycares_ng.QUERY_TYPE_TXT: (list, pycares_ng.ares_query_txt_result),
    pycares_ng.QUERY_TYPE_MX: (list, pycares_ng.ares_query_mx_result),
    pycares_ng.QUERY_TYPE_NS: (list, pycares_ng.ares_query_ns_result),
    pycares_ng.QUERY_TYPE_SRV: (list, pycares_ng.ares_query_srv_result),
    pycares_ng.QUERY_TYPE_CAA: (list, pycares_ng.ares_query_caa_result),
    pycares_ng.QUERY_TYPE_ANY: (list, pycares_ng.AresResult),
    pycares_ng.QUERY_TYPE_CNAME: (None, pycares_ng.ares_query_cname_result),
    pycares_ng.QUERY_TYPE_SOA: (None, pycares_ng.ares_query_soa_result),
    pycares_ng.QUERY_TYPE_PTR: (None, pycares_ng.ares_query_ptr_result),
}
QTYPES = sorted(QTYPE_CLASS)


def check_record(rec):
    check_ttl(rec.ttl)
    if isinstance(rec, pycares_ng.ares_query_a_result):
        check_addr(rec.host, 4)
    elif isinstance(rec, pycares_ng.ares_query_aaaa_result):
        check_addr(rec.host, 6)
    elif isinstance(rec, pycares_ng.ares_query_txt_result):
        assert isinstance(rec.text, (str, bytes)), rec
    elif isinstance(rec, pycares_ng.ares_query_mx_result):
        check_name(rec.host)
        assert 0 <= rec.priority <= 65535, rec
    elif isinstance(rec, pycares_ng.ares_query_ns_result):
        check_name(rec.host)
    elif isinstance(rec, pycares_ng.ares_query_srv_result):
        check_name(rec.host)
        assert all(0 <= v <= 65535 for v in (rec.port, rec.priority, rec.weight)), rec
    elif isinstance(rec, pycares_ng.ares_query_caa_result):
        assert isinstance(rec.property, (str, bytes)) and isinstance(rec.value, (str, bytes)), rec
    elif isinstance(rec, pycares_ng.ares_query_cname_result):
        check_name(rec.cname)
    elif isinstance(rec, pycares_ng.ares_query_soa_result):
        check_name(rec.nsname)
        check_name(rec.hostmaster)
        assert all(isinstance(v, int) and v >= 0
                   for v in (rec.serial, rec.refresh, rec.retry, rec.expires, rec.minttl)), rec
    elif isinstance(rec, pycares_ng.ares_query_ptr_result):
        check_name(rec.name)
        assert isinstance(rec.aliases, list) and all(isinstance(a, str) for a in rec.aliases), rec
    repr(rec)
    rec._asdict()


def check_query(result, qtype):
    shape, cls = QTYPE_CLASS[qtype]
    if shape is list:
        assert isinstance(result, list) and result, result
        for rec in result:
            assert isinstance(rec, cls), (rec, cls)
            check_record(rec)
    else:
        assert isinstance(result, cls), (result, cls)
        check_record(result)


def check_query_dns(result, qtype):
    assert isinstance(result, pycares_ng.ares_dns_message_result), result
    assert isinstance(result.rcode, int) and isinstance(result.flags, int), result
    for section in (result.answer, result.authority, result.additional):
        assert isinstance(section, list), result
        for rec in section:
            assert isinstance(rec, pycares_ng.ares_dns_record), rec
            check_name(rec.name)
            check_ttl(rec.ttl)
            assert 0 <= rec.type <= 65535 and 0 <= rec.record_class <= 65535, rec
            if not isinstance(rec.data, bytes):
                assert isinstance(rec.data, pycares_ng.AresResult), rec
                check_record(rec.data)


def check_host(result, family=None):
    assert isinstance(result, pycares_ng.ares_host_result), result
    check_name(result.name)
    assert isinstance(result.aliases, list) and all(isinstance(a, str) for a in result.aliases), result
    assert isinstance(result.addresses, list), result
    for a in result.addresses:
        check_addr(a, family)


def check_addrinfo(result):
    assert isinstance(result, pycares_ng.ares_addrinfo_result), result
    assert isinstance(result.cnames, list) and isinstance(result.nodes, list) and result.nodes, result
    for c in result.cnames:
        assert isinstance(c, pycares_ng.ares_addrinfo_cname_result), c
        check_name(c.alias)
        check_name(c.name)
        check_ttl(c.ttl)
    for n in result.nodes:
        assert isinstance(n, pycares_ng.ares_addrinfo_node_result), n
        check_ttl(n.ttl)
        assert n.family in (socket.AF_INET, socket.AF_INET6), n
        assert isinstance(n.addr, tuple) and n.addr[1] == 80, n
        check_addr(n.addr[0], 4 if n.family == socket.AF_INET else 6)


def check_nameinfo(result):
    assert isinstance(result, pycares_ng.ares_nameinfo_result), result
    check_name(result.node)
    assert result.service is None or isinstance(result.service, str), result


def make_cb(token, method, check, depth):
    def cb(result, errno):
        try:
            with lock:
                calls[token] = calls.get(token, 0) + 1
                if calls[token] != 1:
                    return  # counted; reported at the end
            if closed_evt.is_set():
                problem("%s #%d: callback after close() returned" % (method, token))
            if result is None:
                assert type(errno) is int and errno in ERRNOS, errno
                with lock:
                    key = "%s %s" % (method, ares_errno.errorcode[errno])
                    stats["err"][key] = stats["err"].get(key, 0) + 1
            else:
                assert errno is None, (result, errno)
                check(result)
                with lock:
                    stats["ok"][method] = stats["ok"].get(method, 0) + 1
            if depth == 0 and cb_rng.random() < 0.1:
                issue(box[0], cb_rng, depth + 1)  # a request from inside a callback
        except Exception:
            problem("%s #%d: bad callback (%r, %r):\n%s" % (method, token, result, errno,
                                                            traceback.format_exc()))
    return cb


def submit(method_name, func, args, check, depth):
    with lock:
        next_token[0] += 1
        token = next_token[0]
    try:
        func(*args, make_cb(token, method_name, check, depth))
    except RuntimeError as exc:
        if "closed" not in str(exc) and "destroyed" not in str(exc):
            problem("%s: %r" % (method_name, exc))
        refused.add(token)
    except Exception:
        problem("%s%r raised:\n%s" % (method_name, args, traceback.format_exc()))
        refused.add(token)
    else:
        with lock:
            accepted[token] = method_name


def any_name(r):
    return r.choice(NAMES + ["missing%d.chaos.test" % r.randrange(5)])


def issue(ch, r, depth=0, which=None):
    kind = which if which is not None else r.randrange(7)
    if kind == 0:
        qtype = r.choice(QTYPES)
        submit("query", ch.query, (any_name(r), qtype), lambda res, t=qtype: check_query(res, t), depth)
    elif kind == 1:
        qtype = r.choice(QTYPES)
        name = any_name(r)
        if r.random() < 0.6:
            name = name.split(".")[0]  # dotless: the search domain goes first
        submit("search", ch.search, (name, qtype), lambda res, t=qtype: check_query(res, t), depth)
    elif kind == 2:
        qtype = r.choice(QTYPES)
        submit("query_dns", ch.query_dns, (any_name(r), qtype),
               lambda res, t=qtype: check_query_dns(res, t), depth)
    elif kind == 3:
        family = r.choice([socket.AF_INET, socket.AF_INET6])
        submit("gethostbyname", ch.gethostbyname, (any_name(r), family),
               lambda res, f=family: check_host(res, 4 if f == socket.AF_INET else 6), depth)
    elif kind == 4:
        submit("gethostbyaddr", ch.gethostbyaddr, (r.choice(V4 + V6),), check_host, depth)
    elif kind == 5:
        host = r.choice([any_name(r), any_name(r), "192.0.2.77", "2001:db8::77"])
        family = r.choice([0, socket.AF_INET, socket.AF_INET6])
        submit("getaddrinfo", lambda h, p, cb: ch.getaddrinfo(h, p, cb, family=family),
               (host, 80), check_addrinfo, depth)
    else:
        addr = r.choice(V4 + V6)
        flags = r.choice([pycares_ng.ARES_NI_LOOKUPHOST | pycares_ng.ARES_NI_LOOKUPSERVICE,
                          pycares_ng.ARES_NI_LOOKUPHOST,
                          pycares_ng.ARES_NI_LOOKUPHOST | pycares_ng.ARES_NI_NAMEREQD,
                          pycares_ng.ARES_NI_NUMERICHOST | pycares_ng.ARES_NI_LOOKUPSERVICE])
        sockaddr = (addr, 53) if ":" not in addr else (addr, 53, 0, 0)
        submit("getnameinfo", ch.getnameinfo, (sockaddr, flags), check_nameinfo, depth)


# ---- the channel ----------------------------------------------------------------------------------

table = {}  # sock_state_cb's view: fd -> (readable, writable)


def sock_state_cb(fd, readable, writable):
    if readable or writable:
        table[fd] = (readable, writable)
    else:
        table.pop(fd, None)


options = dict(servers=[ADDRS[0]], timeout=0.05, tries=rng.choice([1, 2]), resolvconf_path=RC, lookups="b",
               domains=["chaos.test"], rotate=rng.random() < 0.5)
if rng.random() < 0.3:
    options["flags"] = pycares_ng.ARES_FLAG_STAYOPEN
if EVENT_THREAD:
    options["event_thread"] = True
else:
    options["sock_state_cb"] = sock_state_cb
ch = pycares_ng.Channel(**options)
box = [ch]
cb_rng = random.Random(SEED + 1)  # used by callbacks only, which never run at once

stop = threading.Event()
deadline = time.monotonic() + DURATION
counts = {"issued": 0, "chaos": 0, "driven": 0}


def guarded(name, body):
    def run():
        try:
            body()
        except Exception:
            problem("%s thread died:\n%s" % (name, traceback.format_exc()))
    return threading.Thread(target=run, name=name)


def issuer(k):
    r = random.Random(SEED * 100 + k)
    i = 0
    while time.monotonic() < deadline:
        issue(ch, r, which=(i + k) % 7 if i < 14 else None)  # every kind early, then at random
        i += 1
        if i % 4 == 0:
            time.sleep(r.choice([0, 0.001, 0.005]))
    with lock:
        counts["issued"] += i


def chaos():
    r = random.Random(SEED * 100 + 99)
    n = 0
    while time.monotonic() < deadline:
        op = r.choice([0, 1, 1, 2, 3, 3, 4, 5, 6, 7])  # rarely enough cancel() for timeouts to happen
        try:
            if op == 0:
                ch.cancel()
            elif op == 1:
                ch.servers = r.choice([[ADDRS[0]], [ADDRS[1]], ADDRS, ADDRS[::-1], [DEAD, ADDRS[0]]])
            elif op == 2:
                ch.reinit()
            elif op == 3:
                t = ch.timeout()
                assert isinstance(t, float) and t >= 0, t
                t = ch.timeout(r.random())
                assert isinstance(t, float) and t >= 0, t
            elif op == 4:
                s = r.choice(servers)
                s.rules[r.choice(NAMES + REVERSE)] = draw_mode(r)
            elif op == 5:
                r.choice(servers).delay = r.choice([0.0, 0.01, 0.05, 0.2])
            elif op == 6:
                got = ch.servers
                assert isinstance(got, list) and all(isinstance(s, str) for s in got), got
            else:
                ch.getsock()
        except pycares_ng.AresError:
            pass  # refused by the library: an answer, not a crash
        n += 1
        time.sleep(r.choice([0.001, 0.005, 0.02, 0.05, 0.1]))
    with lock:
        counts["chaos"] += n


def driver():
    # What an fd-driven program does: watch what sock_state_cb (and getsock) said, then process.
    while not stop.is_set():
        try:
            watched = dict(table)
            rfds, wfds = ch.getsock()
            rset = set(rfds) | {fd for fd, (rd, _) in watched.items() if rd}
            wset = set(wfds) | {fd for fd, (_, wr) in watched.items() if wr}
            wait = min(ch.timeout(0.05), 0.05)
            try:
                ready_r, ready_w, _ = select.select(list(rset), list(wset), [], wait)
            except (OSError, ValueError):  # an fd closed meanwhile by another thread's call
                ready_r, ready_w = [], []
            if not ready_r and not ready_w:
                ch.process_fd(BAD, BAD)
            for fd in set(ready_r) | set(ready_w):
                ch.process_fd(fd if fd in ready_r else BAD, fd if fd in ready_w else BAD)
            counts["driven"] += 1
        except RuntimeError as exc:
            if "closed" not in str(exc) and "destroyed" not in str(exc):
                raise
            return


threads = [guarded("issuer%d" % k, lambda k=k: issuer(k)) for k in range(4)]
threads.append(guarded("chaos", chaos))
drive = None if EVENT_THREAD else guarded("driver", driver)
for t in threads + ([drive] if drive else []):
    t.start()
for t in threads:
    t.join(60)
    if t.is_alive():
        import faulthandler
        faulthandler.dump_traceback()
        print("HUNG: %s" % t.name, flush=True)
        import os
        os._exit(3)

# Close while the driver still runs (it may be delivering): close() must return with everything
# delivered, and nothing may come after it.
ch.close()
with lock:
    seen_at_close = sum(calls.values())
    missing_at_close = sorted(t for t in accepted if t not in calls)
closed_evt.set()
stop.set()
if drive:
    drive.join(60)
    assert not drive.is_alive(), "driver hung"
time.sleep(0.1)
for s in servers:
    s.stop()

with lock:
    twice = {t: n for t, n in calls.items() if n != 1}
    missing = sorted(t for t in accepted if t not in calls)
    unexpected = sorted(refused & set(calls))
    late = sum(calls.values()) - seen_at_close
server_errors = [repr(e) for s in servers for e in s.errors][:10]
print(json.dumps({
    "seed": SEED, "event_thread": EVENT_THREAD, "accepted": len(accepted), "refused": len(refused),
    "counts": counts, "problems": problems, "twice": list(twice.items())[:20],
    "missing": missing[:20], "missing_at_close": missing_at_close[:20], "unexpected": unexpected[:20],
    "late": late, "server_errors": server_errors,
    "methods": sorted(set(accepted.values())), "stats": stats,
}))
'''

SEEDS = [1, 2, 3]
CHILD_TIMEOUT = float(os.environ.get("PYCARES_NG_CHAOS_TIMEOUT", "120"))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("event_thread", [False, True], ids=["sock_state_cb", "event_thread"])
def test_chaos(event_thread, seed):
    seed = seed * 1000 + (7 if event_thread else 0)  # a different draw for each case
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", CHILD, str(seed), "1" if event_thread else "0",
         str(DURATION)],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    where = f"seed={seed} event_thread={event_thread}"
    tail = f"\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    assert proc.returncode == 0, f"{where}: child exited {proc.returncode}:{tail}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["problems"] == [], f"{where}:{tail}"
    assert report["twice"] == [], f"{where}: callbacks run more than once: {report}"
    assert report["missing"] == [], f"{where}: accepted requests without a callback: {report}"
    assert report["missing_at_close"] == [], f"{where}: close() returned before delivering: {report}"
    assert report["late"] == 0, f"{where}: callbacks after close(): {report}"
    assert report["unexpected"] == [], f"{where}: refused requests got a callback: {report}"
    assert report["server_errors"] == [], f"{where}: {report}"
    methods = {"query", "search", "query_dns", "gethostbyname", "gethostbyaddr", "getaddrinfo", "getnameinfo"}
    assert set(report["methods"]) == methods, f"{where}: {report}"
    assert report["stats"]["ok"] and report["stats"]["err"], f"{where}: {report}"
