"""The backend registry: available(), get(), $PYCARES_NG_BACKEND, and third-party backends found
through a real ``pycares_ng.backends`` entry point (a throwaway dist-info on sys.path)."""
from __future__ import annotations

import itertools
import time
import textwrap
from pathlib import Path

import pytest

import pycares_ng
import pycares_ng.backends as registry
from pycares_ng.backends import select as select_backend
from pycares_ng.backends import threads as threads_backend
from pycares_ng.testing import FaultServer
from pycares_ng.testing.backend import BackendConformance

from helpers import empty_resolv_conf

BACKENDS_DIR = Path(registry.__file__).resolve().parent
_serial = itertools.count()


def install_plugin(tmp_path: Path, monkeypatch, modules: dict, entry_points: dict) -> dict:
    """Write modules plus a dist-info declaring ``entry_points`` ({name: module}) in the
    pycares_ng.backends group, put tmp_path first on sys.path; module names get a unique
    suffix (returned as {given name: real name}) so no test sees another's sys.modules."""
    suffix = f"_{next(_serial)}"
    names = {module: module + suffix for module in modules}
    for module, source in modules.items():
        (tmp_path / f"{names[module]}.py").write_text(textwrap.dedent(source))
    dist = tmp_path / f"pycares_ng_plugin{suffix}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: pycares-ng-plugin{suffix}\nVersion: 1.0\n")
    lines = ["[pycares_ng.backends]"] + [f"{ep} = {names[module]}" for ep, module in entry_points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return names


MINE = '''
    """A third-party backend: the select loop under another name."""
    from pycares_ng.backends import select as _select

    class Resolver(_select.Resolver):
        """Counts the requests it was given."""
        submitted = 0

        def _submit(self, *args, **kwargs):
            type(self).submitted += 1
            return super()._submit(*args, **kwargs)

    def check():
        pass
'''

BROKEN_CHECK = '''
    from pycares_ng.backends.select import Resolver

    def check():
        raise RuntimeError("install the frobnicator loop first")
'''

BROKEN_IMPORT = '''
    import a_module_that_is_not_installed_anywhere
    Resolver = None
'''

NO_RESOLVER = '''
    def check():
        pass
'''


@pytest.fixture(autouse=True)
def no_env_backend(monkeypatch):
    monkeypatch.delenv(registry.ENV_VAR, raising=False)


def test_available_lists_the_shipped_backends():
    infos = registry.available()
    assert {"select", "threads", "asyncio"} <= set(infos)
    for name in ("select", "threads"):
        info = infos[name]
        assert info.name == name
        assert info.available and info.reason == ""
        assert info.value == f"pycares_ng.backends.{name}"
    assert infos["select"].module is select_backend
    assert infos["threads"].module is threads_backend
    asyncio_info = infos["asyncio"]
    assert isinstance(asyncio_info.available, bool)
    if (BACKENDS_DIR / "asyncio.py").exists():
        assert asyncio_info.available, asyncio_info.reason
        assert hasattr(asyncio_info.module, "Resolver")
    else:
        assert not asyncio_info.available and asyncio_info.reason and asyncio_info.module is None


def test_get_default_is_select():
    assert registry.DEFAULT == "select"
    assert registry.get() is select_backend
    assert registry.get(None) is select_backend


def test_env_var_selects_the_default(monkeypatch):
    monkeypatch.setenv("PYCARES_NG_BACKEND", "threads")
    assert registry.get() is threads_backend
    assert registry.get("select") is select_backend  # an explicit name wins
    monkeypatch.setenv("PYCARES_NG_BACKEND", "no-such-backend")
    with pytest.raises(LookupError, match="no-such-backend"):
        registry.get()


def test_unknown_name_names_the_registered_ones():
    with pytest.raises(LookupError) as info:
        registry.get("nonexistent")
    message = str(info.value)
    assert "'nonexistent'" in message
    for name in ("select", "threads", "asyncio"):
        assert name in message


def test_unusable_backends_are_listed_not_fatal(tmp_path, monkeypatch):
    install_plugin(tmp_path, monkeypatch,
                   {"broken_check": BROKEN_CHECK, "broken_import": BROKEN_IMPORT,
                    "no_resolver": NO_RESOLVER},
                   {"frob": "broken_check", "missing": "broken_import", "empty": "no_resolver"})
    infos = registry.available()  # never raises for a broken plugin
    assert infos["select"].available and infos["threads"].available
    frob, missing, empty = infos["frob"], infos["missing"], infos["empty"]
    assert not frob.available and frob.module is None
    assert frob.reason == "RuntimeError: install the frobnicator loop first"
    assert not missing.available and "a_module_that_is_not_installed_anywhere" in missing.reason
    assert not empty.available and "no Resolver" in empty.reason
    with pytest.raises(RuntimeError, match="'frob'.*install the frobnicator loop first"):
        registry.get("frob")
    with pytest.raises(RuntimeError, match="a_module_that_is_not_installed_anywhere"):
        registry.get("missing")
    with pytest.raises(RuntimeError, match="no Resolver"):
        registry.get("empty")
    monkeypatch.setenv("PYCARES_NG_BACKEND", "frob")
    with pytest.raises(RuntimeError, match="frobnicator"):
        registry.get()


def test_third_party_backend_through_an_entry_point(tmp_path, monkeypatch):
    assert "mine" not in registry.available()
    names = install_plugin(tmp_path, monkeypatch, {"mine_backend": MINE}, {"mine": "mine_backend"})
    infos = registry.available()
    assert infos["mine"].available, infos["mine"].reason
    assert infos["mine"].value == names["mine_backend"]
    module = registry.get("mine")
    assert module is infos["mine"].module
    assert module.__name__ == names["mine_backend"]
    monkeypatch.setenv("PYCARES_NG_BACKEND", "mine")
    assert registry.get() is module
    with FaultServer() as server:
        server.add_record("plugin.example.test", "A", "192.0.2.50")
        with module.Resolver(servers=[server.address], resolvconf_path=empty_resolv_conf(),
                             timeout=1.0, tries=2) as resolver:
            result = resolver.wait(resolver.query("plugin.example.test", "A"), 5.0)
        assert [x.host for x in result] == ["192.0.2.50"]
        assert module.Resolver.submitted == 1
        assert server.queries[0].qname == "plugin.example.test"


class TestThirdPartyConformance(BackendConformance):
    """The conformance mixin holds a third-party backend, registered by entry point, to the same
    behaviour as the shipped ones."""

    backend_name = "mine"

    @pytest.fixture(autouse=True)
    def _register(self, tmp_path, monkeypatch):
        install_plugin(tmp_path, monkeypatch, {"mine_backend": MINE}, {"mine": "mine_backend"})

    def wait(self, resolver, future, timeout):
        return resolver.wait(future, timeout)

    def test_is_the_plugin(self):
        r = self.new_resolver()
        assert type(r).__module__.startswith("mine_backend_")
        assert isinstance(r, select_backend.Resolver)
        assert isinstance(r, pycares_ng.backends.base.Resolver)


# -- drivers written for the interface before issue 13 keep working, with a DeprecationWarning ------

class OldStyleFdDriver(pycares_ng.backends.base.Driver):
    """watch + set_timer(delay, expired), as the first driver interface had it."""

    def __init__(self):
        self.inner = select_backend.SelectDriver()
        self.timer_calls = []

    def watch(self, fd, readable, writable, ready):
        self.inner.watch(fd, readable, writable, ready)

    def set_timer(self, delay, expired):
        self.timer_calls.append(delay)

    def create_future(self):
        return self.inner.create_future()

    def set_result(self, future, value):
        self.inner.set_result(future, value)

    def set_exception(self, future, error):
        self.inner.set_exception(future, error)

    def close(self):
        self.inner.close()


class OldStyleThreadsDriver(pycares_ng.backends.base.Driver):
    uses_event_thread = True

    def create_future(self):
        return threads_backend.ThreadsDriver().create_future()

    def set_result(self, future, value):
        future.set_result(value)

    def set_exception(self, future, error):
        future.set_exception(error)


def test_old_style_drivers_still_work():
    with FaultServer() as server:
        server.add_record("old.example.test", "A", "192.0.2.51")
        options = dict(servers=[server.address], resolvconf_path=empty_resolv_conf(), timeout=1.0, tries=1)
        with pytest.warns(DeprecationWarning, match="CompletionDriver"):
            r = threads_backend.Resolver(driver=OldStyleThreadsDriver(), **options)
        with r:
            assert [x.host for x in r.wait(r.query("old.example.test", "A"), 5.0)] == ["192.0.2.51"]
        driver = OldStyleFdDriver()
        with pytest.warns(DeprecationWarning, match="FdDriver"):
            r = pycares_ng.backends.base.Resolver(driver=driver, **options)
        with r:
            future = r.query("old.example.test", "A")
            assert driver.timer_calls and driver.timer_calls[-1] > 0.5  # armed from Channel.timeout()
            deadline = time.monotonic() + 5.0
            while not future.done() and time.monotonic() < deadline:
                driver.inner.run_once(0.05)
            assert [x.host for x in future.result()] == ["192.0.2.51"]
            assert driver.timer_calls[-1] is None  # nothing pending: disarmed
