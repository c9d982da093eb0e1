"""``if_neuron``, ``lif_shift`` and ``alif`` against pure-Python references written from their
module docstrings (not from the code), plus pysim comparisons and parameter errors.

Specs (raw signed ``data_width``-bit ``v``; ``>>`` floor shift; fit = saturate or wrap)::

    if_neuron:  x = fit(v + current); spike = x >= th; v = x - th (subtract) / 0 (zero) / x
    lif_shift:  if refr: refr -= 1, spike = 0 (v kept)
                else: x = fit(v - (v >> k if k else 0) + current); spike = x >= th;
                      v = v_reset, refr = refractory on a spike, else v = x
    alif:       lif_shift with spike = x >= th + a (a from the start of the step), then
                a = min(a - (a >> s if s else 0) + (jump if spike), 2**a_width - 1)
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.hdl import Mux

import neurogate as ng
from neurogate.core.component import Int, Param, Port
from neurogate.gateware.neuron_core import NeuronCore
from neurogate.testing import run_neuron_core


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def ref_fit(x: int, dw: int, overflow: str) -> int:
    half = 2 ** (dw - 1)
    if overflow == "wrap":
        return (x + half) % (2 * half) - half
    return max(-half, min(half - 1, x))


def ref_if(p: dict, cur: list[int]):
    """One neuron's trace (v, spike) of if_neuron."""
    v, vs, ss = 0, [], []
    for c in cur:
        x = ref_fit(v + c, p["data_width"], p["overflow"])
        if x >= p["threshold"]:
            v = x - p["threshold"] if p["reset"] == "subtract" else 0
            ss.append(1)
        else:
            v = x
            ss.append(0)
        vs.append(v)
    return {"v": vs, "spike": ss}


def ref_alif(p: dict, cur: list[int], adaptive: bool):
    """One neuron's trace of lif_shift (adaptive=False) or alif (adaptive=True)."""
    v, a, refr = 0, 0, 0
    out = {"v": [], "spike": [], "a": [], "refr": []}
    k = p["leak_shift"]
    for c in cur:
        if refr > 0:
            refr -= 1
            spike = 0
        else:
            leak = v // 2**k if k else 0
            x = ref_fit(v - leak + c, p["data_width"], p["overflow"])
            th = p["threshold"] + (a if adaptive else 0)
            if x >= th:
                spike, v, refr = 1, p["v_reset"], p["refractory"]
            else:
                spike, v = 0, x
        if adaptive:
            s = p["a_shift"]
            a = a - (a // 2**s if s else 0) + (p["a_jump"] if spike else 0)
            a = min(a, 2 ** p["a_width"] - 1)
        out["v"].append(v)
        out["spike"].append(spike)
        out["a"].append(a)
        out["refr"].append(refr)
    if not adaptive:
        del out["a"]
    if not p["refractory"]:
        del out["refr"]
    return out


def reference(name: str, p: dict, cur: list[int]):
    if name == "if_neuron":
        return ref_if(p, cur)
    return ref_alif(p, cur, adaptive=name == "alif")


def stimulus(rng, dw: int, th: int, steps: int, n: int) -> np.ndarray:
    """Per instance: full range (saturation/wrap), small, positive, or constant full scale."""
    lo, hi = -(2 ** (dw - 1)), 2 ** (dw - 1) - 1
    cols = []
    for i in range(n):
        mode = i % 4
        if mode == 3:
            col = np.full(steps, hi)
        elif mode == 0:
            col = rng.integers(lo, hi, size=steps, endpoint=True)
        elif mode == 1:
            col = rng.integers(-2, 4, size=steps) * max(1, abs(th) // 4)
        else:
            col = rng.integers(0, max(1, hi // 3), size=steps, endpoint=True)
        cols.append(np.clip(col, lo, hi))
    return np.stack(cols, axis=1).astype(np.int64)


def _sweep(name: str) -> list[dict]:
    cases = []
    k = 0
    for dw in (2, 3, 8, 12, 16, 32):
        top, bot = 2 ** (dw - 1) - 1, -(2 ** (dw - 1))
        for overflow in ("saturate", "wrap"):
            for th in sorted({1, top, max(1, top // 2), max(1, top - 1)}):
                k += 1
                if name == "if_neuron":
                    cases.append(
                        {
                            "data_width": dw,
                            "threshold": th,
                            "reset": ("subtract", "zero")[k % 2],
                            "overflow": overflow,
                        }
                    )
                    continue
                p = {
                    "data_width": dw,
                    "leak_shift": [0, 1, dw - 1, min(4, dw - 1)][k % 4],
                    "threshold": [th, bot + 1, -th][k % 3] if k % 5 == 0 else th,
                    "v_reset": [0, bot, top, -1][(k // 2) % 4],
                    "refractory": [0, 1, 3, 0, 5][k % 5],
                    "overflow": overflow,
                }
                if name == "alif":
                    aw = [1, 4, 8, 12][k % 4]
                    p.update(
                        a_width=aw,
                        a_jump=[0, 2**aw - 1, 1, 2 ** (aw - 1)][(k // 3) % 4],
                        a_shift=[0, aw - 1, min(2, aw - 1)][k % 3],
                    )
                cases.append(p)
    return cases


NAMES = ("if_neuron", "lif_shift", "alif")
SWEEP = [(name, p) for name in NAMES for p in _sweep(name)]


SWEEP_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(SWEEP)]


@pytest.mark.parametrize(("name", "params"), SWEEP, ids=SWEEP_IDS)
def test_model_matches_reference(name, params, rng):
    comp = ng.component(name, **params)
    steps, n = 120, 6
    cur = stimulus(rng, params["data_width"], params["threshold"], steps, n)
    model = comp.model(n)
    # Two successive runs: the state carries across.
    out1 = model.run({"current": cur[:50]})
    out2 = model.run({"current": cur[50:]})
    for i in range(n):
        ref = reference(name, params, cur[:, i].tolist())
        for key, want in ref.items():
            got = np.concatenate([out1[key][:, i], out2[key][:, i]]).tolist()
            assert got == want, (name, params, i, key)
    if params["overflow"] == "saturate":  # full-scale drive saturates to any threshold
        assert out1["spike"].any() or out2["spike"].any()


# -- known-answer traces, computed by hand ------------------------------------------------------
def _trace(name, params, cur):
    out = ng.component(name, **params).model(1).run({"current": cur})
    return {k: a[:, 0].tolist() for k, a in out.items()}


def test_if_subtract_known_answer():
    out = _trace("if_neuron", {"data_width": 8, "threshold": 10}, [4, 4, 4, 25, 0, -3])
    # 4, 8, 12->2 (spike), 27->17 (spike; one spike per step), 17->7 (spike), 4
    assert out["v"] == [4, 8, 2, 17, 7, 4]
    assert out["spike"] == [0, 0, 1, 1, 1, 0]


def test_if_zero_and_saturation_known_answer():
    p = {"data_width": 4, "threshold": 7, "reset": "zero"}
    out = _trace("if_neuron", p, [7, 5, 5, -8, -8, 3])
    # 7 spike->0; 5; 10 sat 7 spike->0; -8; -16 sat -8; -5
    assert out["v"] == [0, 5, 0, -8, -8, -5]
    assert out["spike"] == [1, 0, 1, 0, 0, 0]


def test_if_wrap_known_answer():
    p = {"data_width": 4, "threshold": 7, "overflow": "wrap"}
    out = _trace("if_neuron", p, [6, 3, 7, 7])
    # 6; 9 wraps to -7; 0; 7 spike -> 0
    assert out["v"] == [6, -7, 0, 0]
    assert out["spike"] == [0, 0, 0, 1]


def test_lif_shift_known_answer():
    p = {"data_width": 8, "leak_shift": 2, "threshold": 20, "v_reset": -3, "refractory": 2}
    out = _trace("lif_shift", p, [8, 8, 8, 8, 50, 50, 0, -1])
    # 8; 8-2+8=14; 14-3+8=19; 19-4+8=23 spike -> -3, refr 2; refr 1 (v -3); refr 0 (v -3);
    # -3 - (-1) + 0 = -2; -2 - (-1) - 1 = -2
    assert out["v"] == [8, 14, 19, -3, -3, -3, -2, -2]
    assert out["spike"] == [0, 0, 0, 1, 0, 0, 0, 0]
    assert out["refr"] == [0, 0, 0, 2, 1, 0, 0, 0]


def test_lif_shift_saturates_and_wraps():
    sat = _trace("lif_shift", {"data_width": 8, "leak_shift": 1, "threshold": 127}, [127, 127])
    # 127 spike -> 0; 127 spike
    assert sat["spike"] == [1, 1]
    p = {"data_width": 8, "leak_shift": 1, "threshold": 127, "overflow": "wrap"}
    out = _trace("lif_shift", p, [100, 100, -128])
    # 100; 100-50+100=150 wraps to -106; -106+53-128=-181 wraps to 75
    assert out["v"] == [100, -106, 75]
    assert out["spike"] == [0, 0, 0]
    neg = _trace("lif_shift", {"data_width": 8, "leak_shift": 3, "threshold": 5}, [-1, 0, -128])
    # -1 leaks to 0 in one step (-1 >> 3 == -1); then -128
    assert neg["v"] == [-1, 0, -128]


def test_alif_known_answer():
    p = {
        "data_width": 8,
        "leak_shift": 0,
        "threshold": 10,
        "a_width": 8,
        "a_jump": 8,
        "a_shift": 1,
    }
    out = _trace("alif", p, [5] * 8)
    assert out["v"] == [5, 0, 5, 10, 0, 5, 10, 0]
    assert out["a"] == [0, 8, 4, 2, 9, 5, 3, 10]
    assert out["spike"] == [0, 1, 0, 0, 1, 0, 0, 1]


def test_alif_adaptation_saturates_and_blocks_spikes():
    p = {
        "data_width": 8,
        "leak_shift": 0,
        "threshold": 100,
        "a_width": 5,
        "a_jump": 20,
        "a_shift": 0,
    }
    out = _trace("alif", p, [127, 127, 127])
    # spike (a 0 -> 20); threshold 120 <= 127 spike (a 40 sat 31); threshold 131 > 127: never
    assert out["spike"] == [1, 1, 0]
    assert out["a"] == [20, 31, 31]
    assert out["v"] == [0, 0, 127]


# -- bit-exact against the gateware ---------------------------------------------------------------
PYSIM = [
    ("if_neuron", {"data_width": 8, "threshold": 10}),
    ("if_neuron", {"data_width": 6, "threshold": 31, "reset": "zero", "overflow": "wrap"}),
    ("if_neuron", {"data_width": 16, "threshold": 1, "overflow": "wrap"}),
    ("if_neuron", {}),
    ("lif_shift", {"data_width": 8, "leak_shift": 2, "threshold": 20}),
    ("lif_shift", {"data_width": 6, "leak_shift": 0, "threshold": 31, "overflow": "wrap"}),
    (
        "lif_shift",
        {"data_width": 10, "leak_shift": 9, "threshold": -511, "v_reset": 511, "refractory": 3},
    ),
    ("lif_shift", {}),
    ("alif", {"data_width": 8, "leak_shift": 1, "threshold": 30, "a_width": 6, "a_jump": 20}),
    (
        "alif",
        {
            "data_width": 6,
            "leak_shift": 5,
            "threshold": 31,
            "a_width": 1,
            "a_jump": 1,
            "a_shift": 0,
            "overflow": "wrap",
            "refractory": 2,
            "v_reset": -32,
        },
    ),
    ("alif", {"data_width": 12, "threshold": 100, "a_width": 8, "a_jump": 255, "a_shift": 7}),
    ("alif", {}),
]


@pytest.mark.parametrize(("name", "params"), PYSIM)
def test_model_matches_pysim(name, params, rng, rng_seed):
    comp = ng.component(name, **params)
    ng.sim.compare(comp, steps=300, n=2, seed=rng_seed)  # full-range random input
    cur = stimulus(rng, comp.data_width, comp.threshold, 300, 3)
    cmp = ng.sim.compare(comp, {"current": cur})
    assert cmp.outputs["model"]["spike"].any()


# -- parameter errors ----------------------------------------------------------------------------
ERRORS = [
    (
        "if_neuron",
        {"data_width": 8, "threshold": 128},
        ValueError,
        "if_neuron.threshold must be an int in 1..127 (the largest v of a 8-bit signed "
        "potential; a larger one is never reached), not 128",
    ),
    ("if_neuron", {"threshold": 0}, ValueError, "if_neuron.threshold must be an int >= 1, not 0"),
    (
        "if_neuron",
        {"reset": "rest"},
        ValueError,
        "if_neuron.reset must be one of 'subtract', 'zero', not 'rest'",
    ),
    (
        "if_neuron",
        {"data_width": 1},
        ValueError,
        "if_neuron.data_width must be an int in 2..32, not 1",
    ),
    (
        "lif_shift",
        {"data_width": 8, "threshold": 128},
        ValueError,
        "lif_shift.threshold must be an int in -127..127 (above the smallest v of a 8-bit "
        "signed potential, which would always spike, and at most the largest, or it is never "
        "reached), not 128",
    ),
    (
        "lif_shift",
        {"data_width": 8, "threshold": -128},
        ValueError,
        "lif_shift.threshold must be an int in -127..127 (above the smallest v of a 8-bit "
        "signed potential, which would always spike, and at most the largest, or it is never "
        "reached), not -128",
    ),
    (
        "lif_shift",
        {"data_width": 8, "leak_shift": 8},
        ValueError,
        "lif_shift.leak_shift must be an int in 0..7 (data_width - 1), not 8",
    ),
    (
        "lif_shift",
        {"data_width": 8, "threshold": 100, "v_reset": 200},
        ValueError,
        "lif_shift.v_reset must fit signed 8-bit [-128, 127], not 200",
    ),
    ("lif_shift", {"threshold": 1.5}, TypeError, "lif_shift.threshold must be an int, not 1.5"),
    (
        "alif",
        {"data_width": 8, "threshold": 300},
        ValueError,
        "alif.threshold must be an int in -127..127 (above the smallest v of a 8-bit "
        "signed potential, which would always spike, and at most the largest, or it is never "
        "reached), not 300",
    ),
    (
        "alif",
        {"a_width": 4, "a_jump": 16, "a_shift": 1},
        ValueError,
        "alif.a_jump must fit unsigned 4-bit [0, 15], not 16",
    ),
    (
        "alif",
        {"a_width": 4, "a_jump": 1, "a_shift": 4},
        ValueError,
        "alif.a_shift must be an int in 0..3 (a_width - 1), not 4",
    ),
    ("alif", {"a_jump": -1}, ValueError, "alif.a_jump must be an int >= 0, not -1"),
]


@pytest.mark.parametrize(("name", "params", "exc", "msg"), ERRORS)
def test_parameter_errors(name, params, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.component(name, **params)


def test_registered_as_neurons():
    comps = ng.components()
    for name in NAMES:
        assert comps[name].kind == "neuron"


# -- the contract: a kernel that leaves its range is caught ---------------------------------------
class _Leaky(ng.NeuronKernel):
    """Adds its input without applying an overflow policy (wrong on purpose)."""

    name = "test_unfitted"
    data_width = Param(4, Int(2, 8), "bits")

    def state_fields(self):
        return {"v": Port("out", self.data_width, True, "potential")}

    def input_ports(self):
        return {"current": Port("in", self.data_width, True, "input")}

    def update_np(self, state, inputs):
        v = state["v"] + inputs["current"]
        return {"v": v}, v > 100

    def update_hdl(self, m, state, inputs):
        v = state["v"] + inputs["current"]
        return {"v": v}, Mux(v > 100, 1, 0)


def test_kernel_leaving_its_range_raises():
    model = _Leaky().model(2)
    msg = (
        "test_unfitted.update_np returned v out of its range signed 4-bit [-8, 7] at step 1: "
        "a kernel must apply its overflow policy"
    )
    with pytest.raises(OverflowError, match=_exact(msg)):
        model.run({"current": [[3, -1], [5, 0], [0, 0]]})


# -- the time-multiplexed core ----------------------------------------------------------------
def _core_run(core, xs):
    """Run timesteps ``xs`` (T x n currents) on the core's gateware; return events and states."""
    return run_neuron_core(core, {"current": xs})


CORE = [
    ("if_neuron", {"data_width": 8, "threshold": 20, "overflow": "wrap"}),
    ("lif_shift", {"data_width": 8, "leak_shift": 2, "threshold": 30, "refractory": 2}),
    (
        "alif",
        {
            "data_width": 8,
            "leak_shift": 3,
            "threshold": 25,
            "a_width": 5,
            "a_jump": 9,
            "a_shift": 2,
        },
    ),
]


@pytest.mark.parametrize(("name", "params"), CORE)
def test_core_matches_parallel_model(name, params, rng):
    kernel = ng.component(name, **params)
    n, steps = 5, 8
    xs = rng.integers(-10, 40, size=(steps, n))
    events, states = _core_run(NeuronCore(kernel, n, fifo_depth=2 * n), xs)
    out = kernel.model(n).run({"current": xs})
    assert any(events)
    for t in range(steps):
        assert events[t] == np.flatnonzero(out["spike"][t]).tolist(), t
        for key, got in states[t].items():
            assert got == out[key][t].tolist(), (t, key)
