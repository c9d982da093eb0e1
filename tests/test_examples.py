"""The example plugin in examples/ (the worked example of docs/writing-a-component.rst)."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest
from amaranth.hdl import Fragment

import neurogate as ng
from neurogate.core.plugins import ENTRY_POINT_GROUP

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def custom_neuron(monkeypatch):
    """The example module, imported as a plugin would be (by module name, from sys.path)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.delitem(sys.modules, "custom_neuron", raising=False)
    import custom_neuron

    return custom_neuron


@pytest.fixture
def iaf_class(custom_neuron):
    return custom_neuron.IntegrateAndFire


def test_registers_through_an_entry_point(custom_neuron):
    ep = importlib.metadata.EntryPoint(name="iaf", value="custom_neuron", group=ENTRY_POINT_GROUP)
    pm = ng.get_plugin_manager(autoload=False, entry_points=[ep])
    assert pm.unavailable == []
    reg = pm.components()["iaf"]
    assert reg.obj is custom_neuron.IntegrateAndFire
    assert reg.origin == "custom_neuron"
    assert {"lfsr", "lif"} <= set(pm.components())  # the built-ins are still there
    iaf = ng.component("iaf", pm=pm, width=8, threshold=90)
    assert iaf == custom_neuron.IntegrateAndFire(width=8, threshold=90)


def test_contract(iaf_class):
    iaf = iaf_class(width=10, threshold=300, reset="subtract")
    assert (iaf.name, iaf.kind, iaf.latency) == ("iaf", "neuron", 1)
    assert {k: (p.direction, p.width, p.signed) for k, p in iaf.ports.items()} == {
        "current": ("in", 10, True),
        "spike": ("out", 1, False),
        "v": ("out", 10, True),
    }
    dut = iaf.create()
    assert set(dut.signature.members) == set(iaf.ports)
    Fragment.get(dut, None)  # elaborates (and so uses) it
    assert iaf.replace(reset="zero").reset == "zero"


@pytest.mark.parametrize(
    ("reset", "v", "spike"),
    [
        ("zero", [40, 80, 0, -128, -1, 0], [0, 0, 1, 0, 0, 1]),
        ("subtract", [40, 80, 30, -98, 29, 37], [0, 0, 1, 0, 0, 1]),
    ],
)
def test_known_answers(iaf_class, reset, v, spike):
    out = (
        iaf_class(width=8, threshold=90, reset=reset)
        .model(n=2)
        .run({"current": [40, 40, 40, -128, 127, 127]})
    )
    assert out["v"].T.tolist() == [v, v]
    assert out["spike"].T.tolist() == [spike, spike]


def test_model_state_carries_over_between_runs(iaf_class, rng):
    iaf = iaf_class(width=6, threshold=20, reset="subtract")
    current = rng.integers(-32, 32, size=(50, 3))
    whole = iaf.model(n=3).run({"current": current})
    model = iaf.model(n=3)
    first = model.run({"current": current[:20]})
    second = model.run({"current": current[20:]})
    for port in ("v", "spike"):
        assert (first[port] == whole[port][:20]).all()
        assert (second[port] == whole[port][20:]).all()


@pytest.mark.parametrize("reset", ["zero", "subtract"])
@pytest.mark.parametrize("width", [2, 5, 8, 16, 32])
def test_model_matches_gateware(iaf_class, rng_seed, width, reset):
    top = (1 << (width - 1)) - 1
    for threshold in sorted({1, (top + 1) // 2, top}):
        neuron = iaf_class(width=width, threshold=threshold, reset=reset)
        ng.sim.compare(neuron, steps=200, n=4, seed=rng_seed)  # raises on the first mismatch


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"threshold": 0}, ValueError, "iaf.threshold must be an int >= 1, not 0"),
        (
            {"width": 8, "threshold": 200},
            ValueError,
            "iaf.threshold must fit signed 8-bit [-128, 127], not 200",
        ),
        ({"reset": "soft"}, ValueError, "iaf.reset must be one of 'zero', 'subtract', not 'soft'"),
        ({"width": "8"}, TypeError, "iaf.width must be an int, not '8'"),
        ({"width": 1}, ValueError, "iaf.width must be an int in 2..32, not 1"),
    ],
)
def test_bad_parameters(iaf_class, params, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        iaf_class(**params)


def test_runs_as_a_script():
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "custom_neuron.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("model == pysim") == 2
