"""``elm``: Branch-ELM v2 fixed-point NumPy model against float64, known answers, weight errors.

(No gateware yet: see the module docstring of :mod:`neurogate.plugins.neurons.elm`.)
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.sim import Simulator

from neurogate.plugins.neurons.elm import ELM, random_weights, reference


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def _tiny():
    # 2 synapses in 1 branch, 1 memory unit, 1 hidden unit, 1 output
    return {
        "w_s": [0.5, 0.25],
        "k_b": [0.5],
        "k_m": [0.75],
        "k_lambda": [0.5],
        "mlp.0.weight": [[1.0, 2.0]],
        "mlp.0.bias": [-0.25],
        "mlp.2.weight": [[0.5]],
        "mlp.2.bias": [0.125],
        "w_y.weight": [[2.0]],
        "w_y.bias": [0.0],
    }


def test_known_answer_by_hand():
    # step 1, x = (1, 2): b = 0.5*1 + 0.25*2 = 1; km = 0; h = relu(1 - 0.25) = 0.75;
    # m = 0 + 0.5 * (0.5*0.75 + 0.125) = 0.25; y = 0.5
    # step 2, x = (0, 0): b = 0.5; km = 0.1875; h = relu(0.5 + 0.375 - 0.25) = 0.625;
    # m = 0.1875 + 0.5 * (0.3125 + 0.125) = 0.40625; y = 0.8125
    x = [[1, 2], [0, 0]]
    out = ELM(_tiny()).run(x)
    assert (out["b"][:, 0] / 4096).tolist() == [1.0, 0.5]
    assert (out["m"][:, 0] / 4096).tolist() == [0.25, 0.40625]
    assert (out["y"][:, 0] / 4096).tolist() == [0.5, 0.8125]
    ref = reference(_tiny(), x)
    assert ref["m"][:, 0].tolist() == [0.25, 0.40625]
    assert ref["y"][:, 0].tolist() == [0.5, 0.8125]


@pytest.mark.parametrize(
    "dims",
    [
        {"d_in": 8, "n_b": 4, "d_m": 3, "d_h": 5, "d_out": 2},
        {"d_in": 32, "n_b": 8, "d_m": 16, "d_h": 32, "d_out": 1},
        {"d_in": 5, "n_b": 1, "d_m": 1, "d_h": 1, "d_out": 3},
    ],
)
@pytest.mark.parametrize("fraction", [10, 12, 16])
def test_fixed_point_tracks_float64(dims, fraction, rng):
    w = random_weights(rng, **dims)
    x = rng.normal(0, 1, size=(300, dims["d_in"]))
    out = ELM(w, fraction=fraction).run(x)
    ref = reference(w, np.round(x * 2**fraction) / 2**fraction)
    scale = max(1.0, float(np.abs(ref["y"]).max()))
    err = float(np.abs(out["y"] / 2**fraction - ref["y"]).max()) / scale
    print(f"dims {dims}, fraction {fraction}: max |y error| / max |y| = {err:.2e}")
    assert err < 200 * 2.0**-fraction


def test_state_saturates(rng):
    w = random_weights(rng, d_in=4, n_b=1, d_m=2, d_h=3)
    w["k_b"] = [0.99]
    out = ELM(w, fraction=8, state_width=12).run(np.full((200, 4), 7.0) * np.sign(w["w_s"]))
    assert out["b"].max() == 2047


def test_reset_and_continue(rng):
    w = random_weights(rng)
    x = rng.normal(0, 1, size=(50, 16))
    elm = ELM(w)
    whole = elm.run(x)
    elm.reset()
    parts = [elm.run(x[:20]), elm.run(x[20:])]
    for key in whole:
        np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), whole[key])


@pytest.mark.parametrize(
    ("change", "exc", "msg"),
    [
        (
            {"mlp.0.weight": None},
            KeyError,
            "\"elm weights: missing 'mlp.0.weight' (keys needed: w_s, k_b, k_m, k_lambda, "
            'mlp.0.weight, mlp.0.bias, mlp.2.weight, mlp.2.bias, w_y.weight, w_y.bias)"',
        ),
        (
            {"mlp.0.weight": np.zeros((1, 3))},
            ValueError,
            "elm weights: 'mlp.0.weight' has shape (1, 3), expected (1, 2)",
        ),
        (
            {"w_y.weight": np.zeros((2, 1))},
            ValueError,
            "elm weights: 'w_y.weight' has shape (2, 1), expected (1, 1)",
        ),
        (
            {"w_s": np.zeros((2, 1))},
            ValueError,
            "elm weights: 'w_s' has shape (2, 1), expected (d_in,)",
        ),
        (
            {"w_s": [1.0, 2.0, 3.0], "k_b": [0.5, 0.5]},
            ValueError,
            "elm weights: 'w_s' has 3 synapses, not a multiple of the 2 branches of 'k_b'",
        ),
        ({"k_m": [1.0]}, ValueError, "elm weights: 'k_m' must be in [0, 1), not 1.0"),
        ({"k_lambda": [1.5]}, ValueError, "elm weights: 'k_lambda' must be in [0, 1], not 1.5"),
        ({"k_b": 0.5}, ValueError, "elm weights: 'k_b' must be 1-dimensional, not of shape ()"),
    ],
)
def test_weight_errors(change, exc, msg):
    w = _tiny()
    for key, value in change.items():
        if value is None:
            del w[key]
        else:
            w[key] = value
    with pytest.raises(exc, match=_exact(msg)):
        ELM(w)


def test_overflowing_weight_and_bad_format():
    w = _tiny()
    w["mlp.0.bias"] = [5000.0]
    with pytest.raises(
        ValueError,
        match=_exact(
            "elm weights: 'mlp.0.bias' does not fit signed 24 bits with 12 fraction bits "
            "(largest magnitude 5000.0)"
        ),
    ):
        ELM(w)
    with pytest.raises(ValueError, match=_exact("elm fraction must be an int in 1..20, not 0")):
        ELM(_tiny(), fraction=0)


# -- gateware ---------------------------------------------------------------------------------
def _gateware_run(elm, x_raw):
    """Run ``x_raw`` (steps x d_in raw) through ELMGateware in pysim; return y, b, m per step."""
    dut = elm.gateware()
    d_in, n_b, d_m, _, d_out = dut.dims
    out = {"y": [], "b": [], "m": [], "cycles": []}

    async def bench(ctx):
        for row in x_raw:
            for i in range(d_in):
                ctx.set(dut.x[i], int(row[i]))
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            cycles = 0
            while not ctx.get(dut.done):
                await ctx.tick()
                cycles += 1
            out["cycles"].append(cycles)
            out["y"].append([ctx.get(dut.y[o]) for o in range(d_out)])
            out["b"].append([ctx.get(dut.b[k]) for k in range(n_b)])
            out["m"].append([ctx.get(dut.m[j]) for j in range(d_m)])

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    out = {key: np.array(value, dtype=np.int64) for key, value in out.items()}
    out["cycles_per_step"] = dut.cycles_per_step
    return out


def test_gateware_known_answer():
    elm = ELM(_tiny())
    got = _gateware_run(elm, np.array([[1, 2], [0, 0]]) << 12)
    assert (got["y"][:, 0] / 4096).tolist() == [0.5, 0.8125]
    assert (got["m"][:, 0] / 4096).tolist() == [0.25, 0.40625]
    # k_b b, 2 synapses, k_m m, 1 row of W_1 (2 wide), W_2 row (1), (1 - k_lambda) t, W_y row
    assert got["cycles_per_step"] == 1 + 2 + 1 + 2 + 1 + 1 + 1
    assert got["cycles"].tolist() == [9, 9]  # cycles_per_step + 1 (done follows the last)


@pytest.mark.parametrize(
    ("dims", "fraction", "state_width"),
    [
        ({"d_in": 8, "n_b": 4, "d_m": 3, "d_h": 5, "d_out": 2}, 12, 24),
        ({"d_in": 6, "n_b": 2, "d_m": 2, "d_h": 3, "d_out": 1}, 8, 12),  # saturating
        ({"d_in": 3, "n_b": 3, "d_m": 1, "d_h": 2, "d_out": 2}, 16, 32),
    ],
)
def test_gateware_matches_model(dims, fraction, state_width, rng):
    w = random_weights(rng, **dims)
    elm = ELM(w, fraction=fraction, state_width=state_width)
    lim = 1 << (state_width - 1)
    x = rng.integers(-lim, lim, size=(12, dims["d_in"]))
    x[6:] >>= state_width // 2  # small inputs after large ones
    want = ELM(w, fraction=fraction, state_width=state_width).run(x, raw=True)
    got = _gateware_run(elm, x)
    for key in ("y", "b", "m"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    if state_width == 12:
        assert np.abs(want["b"]).max() == lim - 1 or want["b"].min() == -lim  # it saturated
