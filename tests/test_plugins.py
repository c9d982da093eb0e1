"""The plugin system: built-ins through the public hooks, entry points loaded fail-soft."""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest

import neurogate as ng
from neurogate.cli import main
from neurogate.core import hookspecs
from neurogate.core.plugins import BUILTIN_ORIGIN, ENTRY_POINT_GROUP, get_plugin_manager

HERE = Path(__file__).parent


def ep(name: str, module: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=module, group=ENTRY_POINT_GROUP)


@pytest.fixture
def fake_plugins(monkeypatch):
    """Make tests/plugin_pkgs importable and return a function building fake entry points."""
    monkeypatch.syspath_prepend(str(HERE / "plugin_pkgs"))
    return ep


@pytest.fixture
def installed(monkeypatch, fake_plugins):
    """Pretend the given entry points are installed (nothing is really installed)."""

    def install(*eps):
        def fake_entry_points(**kwargs):
            assert kwargs == {"group": ENTRY_POINT_GROUP}
            return list(eps)

        monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
        monkeypatch.delenv("NEUROGATE_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        ng.plugin_manager.cache_clear()

    yield install
    ng.plugin_manager.cache_clear()


def test_builtins_register_through_hooks(pm):
    comps = pm.components()
    assert {"lfsr", "lif"} <= set(comps)
    for name in ("lfsr", "lif"):
        assert comps[name].origin == BUILTIN_ORIGIN
        assert comps[name].obj.name == name
    # The built-ins are plugins like any other: a hookimpl in their own module.
    assert pm.get_plugin("neurogate.plugins.neurons.lif") is not None
    assert set(pm.sim_backends()) >= {"model", "pysim"}
    assert pm.unavailable == []


def test_factory_returns_fresh_managers():
    a, b = get_plugin_manager(autoload=False), get_plugin_manager(autoload=False)
    assert a is not b
    a.unregister(name="neurogate.plugins.neurons.lif")
    assert "lif" not in a.components()
    assert "lif" in b.components()


def test_good_entry_point_plugin(fake_plugins):
    pm = get_plugin_manager(entry_points=[fake_plugins("accum", "good_plugin")])
    comps = pm.components()
    assert comps["test_accum"].origin == "good_plugin"
    assert "lif" in comps
    assert "test_board" in pm.boards()
    acc = ng.component("test_accum", pm=pm, width=4)
    x = np.array([[3], [9], [7]])
    assert acc.model(1).run({"x": x})["acc"][:, 0].tolist() == [3, 12, 3]  # 19 & 15 == 3
    # The plugin's component is a full citizen: its gateware matches its model.
    ng.sim.compare(acc, steps=50, n=2, seed=5)


def test_broken_plugins_are_listed_not_fatal(fake_plugins):
    pm = get_plugin_manager(
        entry_points=[
            fake_plugins("broken", "broken_import"),
            fake_plugins("badhook", "bad_hook"),
            fake_plugins("baditems", "bad_items"),
            fake_plugins("accum", "good_plugin"),
        ]
    )
    comps = pm.components()
    assert {"lfsr", "lif", "test_accum"} <= set(comps)
    assert comps["lif"].origin == BUILTIN_ORIGIN  # a plugin cannot take a built-in's name
    reasons = {(u.name, u.reason) for u in pm.unavailable}
    assert ("broken", "ModuleNotFoundError: No module named 'neurogate_missing_dependency'") in (
        reasons
    )
    assert ("entry point 'badhook'", "RuntimeError: the plugin's hook failed") in reasons
    assert ("lif", "name 'lif' is already registered by neurogate (built-in)") in reasons
    assert ("42", "42 is not a neurogate Component subclass") in reasons
    assert (
        "test_bad_kind",
        "BadKind.kind must be one of neuron, encoder, decorrelator, arith, synapse, router, "
        "not 'widget'",
    ) in reasons
    # Asking twice does not duplicate the report.
    assert len(pm.unavailable) == len(reasons) == 5


def test_entry_points_from_metadata_and_disable_switch(installed, monkeypatch):
    installed(ep("accum", "good_plugin"))
    assert "test_accum" in ng.components()
    monkeypatch.setenv("NEUROGATE_DISABLE_PLUGIN_AUTOLOAD", "1")
    ng.plugin_manager.cache_clear()
    assert "test_accum" not in ng.components()
    assert "lif" in ng.components()
    assert "test_accum" not in get_plugin_manager().components()
    assert "test_accum" in get_plugin_manager(autoload=True).components()


def test_plugin_sim_backend(installed):
    installed(ep("accum", "good_plugin"))
    assert "test_model_copy" in ng.plugin_manager().sim_backends()
    lif = ng.component("lif")
    result = ng.sim.compare(lif, backends=("model", "test_model_copy"), steps=20, n=2, seed=1)
    assert result.backends == ("model", "test_model_copy")
    with pytest.raises(ng.sim.BackendUnavailableError, match=r"^no simulation backend named 'x'"):
        ng.sim.run(lif, {"current": [0]}, backend="x")


def test_cli_plugins_lists_components_and_unavailable(installed, capsys):
    installed(ep("accum", "good_plugin"), ep("broken", "broken_import"))
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"^  lfsr +encoder +<x:u16 >bit:u1 >state:u16 +neurogate \(built-in\)$", out, re.M
    )
    assert re.search(
        r"^  lif +neuron +<current:s16 >spike:u1 >v:s16 +neurogate \(built-in\)$", out, re.M
    )
    assert re.search(r"^  test_accum +arith +<x:u8 >acc:u8 +good_plugin$", out, re.M)
    assert "Unavailable plugins (1):" in out
    assert (
        "  broken (broken_import): ModuleNotFoundError: No module named "
        "'neurogate_missing_dependency'" in out
    )
    assert main(["plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["components"]["lif"]["kind"] == "neuron"
    assert data["components"]["lif"]["ports"]["current"] == {
        "direction": "in",
        "width": 16,
        "signed": True,
    }
    assert data["unavailable"][0]["name"] == "broken"


def test_component_lookup_errors(pm):
    with pytest.raises(LookupError, match=r"^no component named 'nope'; known components: "):
        ng.component("nope", pm=pm)


# -- meta-tests: every hook is documented at its spec and exercised by a test ---------------------
HOOKS = [name for name, _ in inspect.getmembers(hookspecs) if name.startswith("neurogate_")]


def test_hooks_exist():
    assert HOOKS == [
        "neurogate_register_boards",
        "neurogate_register_components",
        "neurogate_register_sim_backends",
    ]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc.split()) >= 8, f"{hook} needs a docstring at its spec"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_tested(hook):
    # A test module implements or calls it (by the manager method that collects it).
    method = {
        "neurogate_register_components": "components",
        "neurogate_register_boards": "boards",
        "neurogate_register_sim_backends": "sim_backends",
    }[hook]
    sources = [p.read_text() for p in HERE.rglob("*.py")]
    implemented = any(f"def {hook}(" in s for s in sources)
    called = any(f".{method}()" in s for s in sources if "def test_" in s)
    assert implemented, f"no test plugin implements {hook}"
    assert called, f"no test collects {hook}"


def test_builtin_list_is_one_line_per_plugin():
    from neurogate.core import plugins

    tree = ast.parse(Path(plugins.__file__).read_text())
    lines = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "BUILTIN_PLUGINS"
    ]
    assert len(lines) == 1
