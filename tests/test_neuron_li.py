"""``li`` (leaky integrator, optional threshold, no reset) against a pure-Python reference
written from its module docstring, against its gateware (pysim), and its parameter errors.

Spec (raw signed ``data_width``-bit ``v``, ``>>`` floor shift, fit = saturate or wrap)::

    v = fit(v + (((v_rest - v) * leak_k) >> f) + ((current * gain_k) >> f))
    spike = v >= threshold   (0 when threshold is None); v is not reset
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def ref_li(p: dict, cur: list[int]) -> dict:
    """One neuron's trace, in Python integers (floor shifts are ``//``)."""
    dw, f = p.get("data_width", 16), p.get("fraction", 8)
    rest, k, g = p.get("v_rest", 0), p.get("leak_k", 16), p.get("gain_k", 256)
    th, wrap = p.get("threshold"), p.get("overflow", "saturate") == "wrap"
    half = 2 ** (dw - 1)
    v, vs, ss = rest, [], []
    for c in cur:
        x = v + ((rest - v) * k) // 2**f + (c * g) // 2**f
        x = (x + half) % (2 * half) - half if wrap else max(-half, min(half - 1, x))
        v = x
        vs.append(v)
        ss.append(int(th is not None and v >= th))
    return {"v": vs, "spike": ss}


def test_known_answers():
    # leak 1/4, gain 1, threshold 40: 32, 32 + (-8) + 32 = 56, 56 - 14 + 32 = 74, ...
    li = ng.component("li", data_width=12, fraction=4, leak_k=4, gain_k=16, threshold=40)
    out = li.model(1).run({"current": [32, 32, 32, 32, 0, 0, 0]})
    assert out["v"][:, 0].tolist() == [32, 56, 74, 87, 65, 48, 36]
    assert out["spike"][:, 0].tolist() == [0, 1, 1, 1, 1, 1, 0]
    # no leak (an integrator), gain 3/2 with floor: 3 * 3 >> 1 = 4, -3 * 3 >> 1 = -5
    li = ng.component("li", data_width=8, fraction=1, leak_k=0, gain_k=3)
    out = li.model(1).run({"current": [3, 3, -3, 100, 100]})
    assert out["v"][:, 0].tolist() == [4, 8, 3, 127, 127]  # saturates at 127
    assert out["spike"][:, 0].tolist() == [0] * 5  # threshold None: never
    # full leak (leak_k = 2**f): memoryless, v = input, v_rest added
    li = ng.component("li", data_width=8, fraction=2, leak_k=4, gain_k=4, threshold=5)
    out = li.model(1).run({"current": [9, -2, 5, 4]})
    assert out["v"][:, 0].tolist() == [9, -2, 5, 4]
    assert out["spike"][:, 0].tolist() == [1, 0, 1, 0]
    # wrap: 120 + 20 = 140 -> -116
    li = ng.component("li", data_width=8, fraction=0, leak_k=0, gain_k=1, overflow="wrap")
    assert li.model(1).run({"current": [120, 20]})["v"][:, 0].tolist() == [120, -116]
    # v_rest: the reset state and where the leak pulls (leak 1/2): 100 -> 100 + (0 - 100)/2
    li = ng.component("li", data_width=10, fraction=1, leak_k=1, gain_k=2, v_rest=100)
    assert li.model(1).run({"current": [0, 0, -50]})["v"][:, 0].tolist() == [100, 100, 50]


@pytest.mark.parametrize("case", range(8))
def test_model_matches_reference(rng, case):
    dw = int(rng.integers(4, 33))
    f = int(rng.integers(0, min(dw - 1, 30)))
    lim = 2 ** (dw - 1)
    p = {
        "data_width": dw,
        "fraction": f,
        "leak_k": int(rng.integers(0, min(2**f, lim - 1) + 1)),
        "gain_k": int(rng.integers(-lim, lim)),
        "v_rest": int(rng.integers(-lim, lim)),
        "threshold": None if case % 3 == 0 else int(rng.integers(-lim, lim)),
        "overflow": "wrap" if case % 2 else "saturate",
    }
    print(p)
    li = ng.component("li", **{k: v for k, v in p.items() if v is not None})
    cur = rng.integers(-lim, lim, size=(60, 3))
    out = li.model(3).run({"current": cur})
    for i in range(3):
        ref = ref_li(p, cur[:, i].tolist())
        assert out["v"][:, i].tolist() == ref["v"]
        assert out["spike"][:, i].tolist() == ref["spike"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"data_width": 6, "fraction": 4, "leak_k": 16, "gain_k": 31, "threshold": -3},
        {"data_width": 9, "fraction": 2, "leak_k": 0, "gain_k": 3, "v_rest": 5, "overflow": "wrap"},
        {"data_width": 16, "fraction": 10, "leak_k": 102, "gain_k": 16384, "threshold": 815},
        {"data_width": 32, "fraction": 20, "leak_k": 12345, "gain_k": -77777, "v_rest": -1000},
        {"data_width": 3, "fraction": 0, "leak_k": 1, "gain_k": -4, "threshold": 0},
    ],
)
def test_model_equals_pysim(params, rng_seed):
    li = ng.component("li", **params)
    ng.sim.compare(li, steps=150, n=3, seed=rng_seed)


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        (
            {"data_width": 8, "leak_k": 128},
            ValueError,
            "li.leak_k must fit signed 8-bit [-128, 127], not 128",
        ),
        (
            {"data_width": 8, "gain_k": 1, "threshold": -129},
            ValueError,
            "li.threshold must fit signed 8-bit [-128, 127], not -129",
        ),
        (
            {"data_width": 4, "leak_k": 1, "gain_k": 1, "v_rest": 8},
            ValueError,
            "li.v_rest must fit signed 4-bit [-8, 7], not 8",
        ),
        ({"threshold": 1.5}, TypeError, "li.threshold must be None or an int, not 1.5"),
    ],
)
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.component("li", **params)


def test_contract():
    li = ng.component("li", data_width=10, threshold=3)
    assert (li.kind, li.latency) == ("neuron", 1)
    assert {k: (p.direction, p.width, p.signed) for k, p in li.ports.items()} == {
        "current": ("in", 10, True),
        "spike": ("out", 1, False),
        "v": ("out", 10, True),
    }
    assert li.reset_state() == {"v": 0}
    assert ng.component("li", v_rest=-7).reset_state() == {"v": -7}


def test_network_gateware_equals_model(rng, rng_seed):
    """In a network (a time-multiplexed NeuronCore behind a dense synapse) as in its model."""
    from neurogate.sim.network import compare

    net = ng.Network("li_net")
    net.input("x", 4)
    net.population("p", "li", 3, data_width=12, fraction=4, leak_k=3, gain_k=20, threshold=60)
    net.connect("x", "p", "dense", weights=rng.integers(-30, 60, size=(4, 3)))
    net.probe("p", "v")
    spikes = (rng.random((25, 4)) < 0.5).astype(np.uint8)
    out = compare(net, {"x": spikes}, seed=rng_seed)
    assert out["p"]["spike"].any()
