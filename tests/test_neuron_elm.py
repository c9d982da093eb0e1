"""``elm``: Branch-ELM v2 as a neuron kernel, bit-true in both wrappers and on one MAC.

Known answers are worked out by hand (dyadic weights, so every value is exact in fixed point);
the bit-true tiers compare the model with pysim (``==``) in the parallel wrapper, in
``NeuronCore`` and on :class:`ELMGateware`; a second tier compares the fixed-point model with
the float64 :func:`~neurogate.plugins.neurons.elm.reference`.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.hdl import Fragment, Mux
from amaranth.sim import Simulator

import neurogate as ng
from neurogate.cli import main
from neurogate.gateware.neuron_core import NeuronCore
from neurogate.plugins.neurons.elm import (
    DEFAULT_WEIGHTS,
    ELM,
    ELMNeuron,
    ELMWeights,
    random_weights,
    reference,
)
from neurogate.testing import check_bit_true, check_conformance, run_neuron_core

Q12 = 1 << 12


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


def _inputs(kernel, x):
    """``{x_i: (T, n)}`` from ``x`` of shape ``(T, n, d_in)``."""
    return {f"x{i}": x[:, :, i] for i in range(x.shape[2])}


#: Weight shapes of the bit-true tiers (d_in, n_b, d_m, d_h, d_out).
SHAPES = [
    {"d_in": 8, "n_b": 4, "d_m": 3, "d_h": 5, "d_out": 2},
    {"d_in": 6, "n_b": 2, "d_m": 2, "d_h": 3, "d_out": 1},
    {"d_in": 3, "n_b": 3, "d_m": 1, "d_h": 2, "d_out": 2},
    {"d_in": 5, "n_b": 1, "d_m": 1, "d_h": 1, "d_out": 3},
]


# -- known answers ----------------------------------------------------------------------------
def test_known_answer_by_hand():
    # step 1, x = (1, 2): b = 0.5*1 + 0.25*2 = 1; km = 0; h = relu(1 - 0.25) = 0.75;
    # m = 0 + 0.5 * (0.5*0.75 + 0.125) = 0.25; y = 0.5
    # step 2, x = (0, 0): b = 0.5; km = 0.1875; h = relu(0.5 + 0.375 - 0.25) = 0.625;
    # m = 0.1875 + 0.5 * (0.3125 + 0.125) = 0.40625; y = 0.8125
    x = [[1, 2], [0, 0]]
    out = ELM(_tiny()).run(x)
    assert (out["b"][:, 0] / Q12).tolist() == [1.0, 0.5]
    assert (out["m"][:, 0] / Q12).tolist() == [0.25, 0.40625]
    assert (out["y"][:, 0] / Q12).tolist() == [0.5, 0.8125]
    ref = reference(_tiny(), x)
    assert ref["m"][:, 0].tolist() == [0.25, 0.40625]
    assert ref["y"][:, 0].tolist() == [0.5, 0.8125]


def test_component_known_answer_and_spike_rule():
    # the same two steps through the component; y = 0.5, 0.8125 against y_threshold 0.75
    neuron = ng.component("elm", weights=_tiny(), y_threshold=0.75)
    out = neuron.model(1).run({"x0": [[Q12], [0]], "x1": [[2 * Q12], [0]]})
    assert (out["b0"][:, 0] / Q12).tolist() == [1.0, 0.5]
    assert (out["m0"][:, 0] / Q12).tolist() == [0.25, 0.40625]
    assert (out["y0"][:, 0] / Q12).tolist() == [0.5, 0.8125]
    assert out["spike"][:, 0].tolist() == [0, 1]
    assert neuron.replace(y_threshold=0.8125).model(1).run(
        {"x0": [[Q12], [0]], "x1": [[2 * Q12], [0]]}
    )["spike"][:, 0].tolist() == [0, 1]  # y0 >= threshold, equality included
    assert neuron.replace(y_threshold=0.8125 + 2**-12).model(1).run(
        {"x0": [[Q12], [0]], "x1": [[2 * Q12], [0]]}
    )["spike"][:, 0].tolist() == [0, 0]  # one LSB above (the threshold is rounded to Q.12)


def test_default_weights_known_answer():
    # every x = 1: b = (0.5 - 0.25, 0.75 + 0.375) = (0.25, 1.125); km = 0;
    # h = relu(0.125 - 0.28125, -0.09375 + 0.5625 + 0.125, 0.0625 + 0.28125 - 0.125)
    #   = (0, 0.59375, 0.21875);
    # t = (-0.25*0.59375 + 0.25*0.21875, 0.5*0.59375 - 0.5*0.21875 + 0.0625) = (-0.09375, 0.25);
    # m = (0.25 * -0.09375, 0.5 * 0.25) = (-0.0234375, 0.125); y = m0 - 0.5 m1 - 0.25
    neuron = ng.component("elm")
    assert neuron.weights == ELMWeights(DEFAULT_WEIGHTS)
    out = neuron.model(1).run({f"x{i}": [[Q12]] for i in range(4)})
    got = {key: out[key][0, 0] / Q12 for key in ("b0", "b1", "m0", "m1", "y0")}
    assert got == {"b0": 0.25, "b1": 1.125, "m0": -0.0234375, "m1": 0.125, "y0": -0.3359375}
    assert out["spike"][0, 0] == 0


# -- bit-true: the parallel wrapper -----------------------------------------------------------
@pytest.mark.parametrize("dims", SHAPES, ids=lambda d: "-".join(map(str, d.values())))
def test_parallel_matches_pysim_full_range(dims, rng, rng_seed):
    neuron = ELMNeuron(weights=random_weights(rng, **dims))
    ng.sim.compare(neuron, steps=30, n=2, seed=rng_seed)  # saturates b and m often


@pytest.mark.parametrize(
    ("dims", "params"),
    [
        (SHAPES[0], {"y_threshold": 0.05}),
        (SHAPES[1], {"fraction": 8, "state_width": 12, "x_width": 10}),
        (SHAPES[2], {"fraction": 16, "state_width": 32, "y_threshold": -0.1}),
    ],
)
def test_parallel_matches_pysim_realistic(dims, params, rng):
    neuron = ELMNeuron(weights=random_weights(rng, **dims), **params)
    f = neuron.fraction
    top = (1 << (neuron.fixed.x_width - 1)) - 1
    x = np.clip(np.round(rng.normal(0, 1, size=(60, 2, dims["d_in"])) * 2**f), -top - 1, top)
    cmp = ng.sim.compare(neuron, _inputs(neuron, x.astype(np.int64)))
    spikes = cmp.outputs["model"]["spike"]
    print(f"{params}: {int(spikes.sum())} spikes in {spikes.size} neuron-steps")


def test_defaults_bit_true_through_the_testing_api(rng_seed):
    check_bit_true("elm", steps=40, n=3, seed=rng_seed)


def test_conformance():
    w = random_weights(np.random.default_rng(5), **SHAPES[0])
    check_conformance("elm", [{}, {"weights": w, "state_width": 16, "x_width": 12}])


# -- bit-true: the time-multiplexed core ------------------------------------------------------
@pytest.mark.parametrize(
    ("dims", "params"),
    [
        (SHAPES[0], {}),
        (SHAPES[0], {"stages": 3}),
        (SHAPES[1], {"stages": 1, "y_threshold": 0.1}),
        (SHAPES[3], {"fraction": 10, "state_width": 16, "stages": 2}),
    ],
)
def test_core_matches_parallel_model(dims, params, rng):
    kernel = ELMNeuron(weights=random_weights(rng, **dims), **params)
    n, steps = 3, 12
    top = 1 << (kernel.fixed.x_width - 1)
    x = rng.integers(-top, top, size=(steps, n, dims["d_in"]))
    x[:, 1] >>= kernel.fixed.x_width // 2  # one neuron with small inputs
    y0 = kernel.model(n).run(_inputs(kernel, x))["y0"]
    kernel = kernel.replace(y_threshold=float(np.median(y0)) / 2**kernel.fraction)  # spikes
    events, states = run_neuron_core(NeuronCore(kernel, n, memory="bram", fifo_depth=2 * n),
                                     _inputs(kernel, x))  # fmt: skip
    out = kernel.model(n).run(_inputs(kernel, x))
    assert any(events)
    for t in range(steps):
        assert events[t] == np.flatnonzero(out["spike"][t]).tolist(), t
        for key, got in states[t].items():
            assert got == out[key][t].tolist(), (t, key)


def test_stages_are_core_only():
    from amaranth.back import verilog

    w = random_weights(np.random.default_rng(3), **SHAPES[0])
    plain, cut = ELMNeuron(weights=w), ELMNeuron(weights=w, stages=3)
    assert (plain.pipeline_stages, cut.pipeline_stages) == (0, 3)
    # the parallel neuron is the same netlist; the core takes 3 cycles more per step
    assert verilog.convert(cut.create(), emit_src=False) == verilog.convert(
        plain.create(), emit_src=False
    )
    assert NeuronCore(cut, 5).cycles_per_step == NeuronCore(plain, 5).cycles_per_step + 3


# -- bit-true: one MAC --------------------------------------------------------------------------
def _mac_run(dut, x_raw):
    """Run ``x_raw`` (steps x d_in raw) through an ELMGateware in pysim; return its outputs."""
    d_in, n_b, d_m, _, d_out = dut.dims
    keys = ["spike", *(f"b{k}" for k in range(n_b)), *(f"m{j}" for j in range(d_m)),
            *(f"y{o}" for o in range(d_out))]  # fmt: skip
    out = {key: [] for key in [*keys, "cycles"]}

    async def bench(ctx):
        for row in x_raw:
            for i in range(d_in):
                ctx.set(getattr(dut, f"x{i}"), int(row[i]))
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            cycles = 0
            while not ctx.get(dut.done):
                assert ctx.get(dut.busy)
                await ctx.tick()
                cycles += 1
            out["cycles"].append(cycles)
            for key in keys:
                out[key].append(ctx.get(getattr(dut, key)))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return {key: np.array(value, dtype=np.int64) for key, value in out.items()}


def _first_mismatch(want, got):
    """Return ``(key, step)`` of the first difference of the model and the gateware, or None."""
    for key in got:
        if key == "cycles":
            continue
        diff = np.flatnonzero(want[key][:, 0] != got[key])
        if diff.size:
            return key, int(diff[0])
    return None


def test_mac_known_answer():
    dut = ELM(_tiny()).gateware()
    got = _mac_run(dut, np.array([[1, 2], [0, 0]]) << 12)
    assert (got["y0"] / Q12).tolist() == [0.5, 0.8125]
    assert (got["m0"] / Q12).tolist() == [0.25, 0.40625]
    # k_b b, 2 synapses, k_m m, 1 row of W_1 (2 wide), W_2 row (1), (1 - k_lambda) t, W_y row
    assert dut.cycles_per_step == 1 + 2 + 1 + 2 + 1 + 1 + 1
    assert got["cycles"].tolist() == [9, 9]  # cycles_per_step + 1 (done follows the last)


@pytest.mark.parametrize(
    ("dims", "params"),
    [
        (SHAPES[0], {"y_threshold": 0.05}),
        (SHAPES[1], {"fraction": 8, "state_width": 12}),
        (SHAPES[2], {"fraction": 16, "state_width": 32, "x_width": 20}),
    ],
)
def test_mac_matches_model(dims, params, rng):
    kernel = ELMNeuron(weights=random_weights(rng, **dims), **params)
    top = 1 << (kernel.fixed.x_width - 1)
    x = rng.integers(-top, top, size=(12, dims["d_in"]))
    x[6:] >>= kernel.fixed.x_width // 2  # small inputs after large ones
    want = kernel.model(1).run(_inputs(kernel, x[:, None, :]))
    assert _first_mismatch(want, _mac_run(kernel.create_mac(), x)) is None


def test_mac_saturates_as_the_model(rng):
    w = random_weights(rng, **SHAPES[1])
    w["k_b"] = [0.99, 0.99]
    kernel = ELMNeuron(weights=w, fraction=8, state_width=12)
    x = np.tile(np.where(w["w_s"] > 0, 2047, -2048), (10, 1))  # every product positive
    want = kernel.model(1).run(_inputs(kernel, x[:, None, :]))
    assert want["b0"].max() == want["b1"].max() == 2047  # it saturated
    assert _first_mismatch(want, _mac_run(kernel.create_mac(), x)) is None


def test_mac_skips_zero_weights(rng):
    w = random_weights(rng, **SHAPES[0])
    full = ELMNeuron(weights=w).create_mac()
    Fragment.get(full, None)  # (used: no UnusedElaboratable warning)
    assert full.cycles_per_step == 8 + 4 + 2 * 3 + 5 * 7 + 3 * 5 + 2 * 3
    w["mlp.0.weight"][1, :] = 0  # a dot product of zeros still takes one cycle: 6 fewer
    w["w_s"][[0, 2]] = 0  # 2 fewer
    kernel = ELMNeuron(weights=w)
    dut = kernel.create_mac()
    assert dut.cycles_per_step == full.cycles_per_step - 6 - 2
    x = rng.integers(-(1 << 20), 1 << 20, size=(6, 8))
    want = kernel.model(1).run(_inputs(kernel, x[:, None, :]))
    assert _first_mismatch(want, _mac_run(dut, x)) is None


# -- planted faults are caught ------------------------------------------------------------------
class _OffByOne(ELMNeuron):
    """The elm kernel with a fault in the gateware only: m1 one LSB high when x1 is odd."""

    name = "test_elm_off_by_one"

    def update_hdl(self, m, state, inputs):
        out, spike = super().update_hdl(m, state, inputs)
        out["m1"] = Mux(inputs["x1"][0], out["m1"] + 1, out["m1"])
        return out, spike


def test_planted_kernel_fault_is_caught(rng_seed):
    faulty = _OffByOne(weights=random_weights(np.random.default_rng(2), **SHAPES[0]))
    with pytest.raises(ng.sim.MismatchError) as exc:
        ng.sim.compare(faulty, steps=20, n=2, seed=rng_seed)
    assert exc.value.port in ("m1", "y0", "y1", "spike")
    assert exc.value.step == 0


def test_planted_mac_fault_is_caught(rng):
    kernel = ELMNeuron(weights=random_weights(rng, **SHAPES[0]))
    x = rng.integers(-(1 << 23), 1 << 23, size=(4, 8))
    want = kernel.model(1).run(_inputs(kernel, x[:, None, :]))
    dut = kernel.create_mac()
    assert _first_mismatch(want, _mac_run(dut, x)) is None
    dut = kernel.create_mac()
    m0 = dut.base["m"]
    k = next(i for i, ins in enumerate(dut.program) if ins[1] == m0 and not ins[2])
    w, _, *rest = dut.program[k]
    dut.program[k] = (w, m0 + 1, *rest)  # W_y's first product reads m1 instead of m0
    assert _first_mismatch(want, _mac_run(dut, x))[0] in ("y0", "spike")


# -- the registry -------------------------------------------------------------------------------
def test_registered(capsys):
    assert "elm" in ng.get_plugin_manager(autoload=False).components()
    neuron = ng.component("elm", fraction=10)
    assert neuron == ELMNeuron(fraction=10)
    assert neuron.kind == "neuron"
    assert main(["plugins"]) == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.split()[:1] == ["elm"])
    assert "neuron" in line
    assert "<x0:s24" in line
    assert ">y0:s" in line
    assert main(["info", "elm", "--param", "y_threshold=0.5"]) == 0
    assert "y_threshold" in capsys.readouterr().out


# -- the weights parameter ----------------------------------------------------------------------
def test_weights_frozen_hashable_and_from_npz(tmp_path):
    w = _tiny()
    np.savez(tmp_path / "w.npz", **w)
    a = ng.component("elm", weights=w)
    b = ng.component("elm", weights=tmp_path / "w.npz")
    c = ng.component("elm", weights=str(tmp_path / "w.npz"))
    assert a == b == c
    assert len({a, b, c}) == 1
    w["w_s"][0] = 9.0  # the caller's dict changing later changes nothing
    assert a == b
    assert a.weights["w_s"].tolist() == [0.5, 0.25]
    with pytest.raises(ValueError, match="read-only"):
        a.weights["w_s"][0] = 1.0
    assert a != ng.component("elm", weights=w)
    assert re.fullmatch(
        r"ELMWeights\(d_in=2, n_b=1, d_m=1, d_h=1, d_out=1, blake2b [0-9a-f]{16}\)",
        repr(a.weights),
    )
    np.savez(tmp_path / "again.npz", **a.weights)  # writes back
    assert ng.component("elm", weights=tmp_path / "again.npz") == a


def _changed(change):
    w = _tiny()
    for key, value in change.items():
        if value is None:
            del w[key]
        else:
            w[key] = value
    return w


KEYS = (
    "w_s, k_b, k_m, k_lambda, mlp.0.weight, mlp.0.bias, mlp.2.weight, mlp.2.bias, w_y.weight, "
    "w_y.bias"
)


@pytest.mark.parametrize(
    ("change", "exc", "msg"),
    [
        ({"mlp.0.weight": None}, ValueError,
         f"elm.weights must have the keys {KEYS}; 'mlp.0.weight' is missing"),
        ({"w_y.weights": [[1.0]]}, ValueError,
         f"elm.weights must have only the keys {KEYS}, not 'w_y.weights'"),
        ({"mlp.0.weight": np.zeros((1, 3))}, ValueError,
         "elm.weights['mlp.0.weight'] must have shape (1, 2), not (1, 3)"),
        ({"w_y.weight": np.zeros((2, 1))}, ValueError,
         "elm.weights['w_y.weight'] must have shape (1, 1), not (2, 1)"),
        ({"w_s": np.zeros((2, 1))}, ValueError,
         "elm.weights['w_s'] must be a non-empty 1-D array, not of shape (2, 1)"),
        ({"w_s": [1.0, 2.0, 3.0], "k_b": [0.5, 0.5]}, ValueError,
         "elm.weights['w_s'] must have a multiple of 2 synapses (one group per branch of 'k_b'), "
         "not 3"),
        ({"k_m": [1.0]}, ValueError, "elm.weights['k_m'] must be in [0, 1), not 1.0"),
        ({"k_b": [-0.5]}, ValueError, "elm.weights['k_b'] must be in [0, 1), not -0.5"),
        ({"k_lambda": [1.5]}, ValueError, "elm.weights['k_lambda'] must be in [0, 1], not 1.5"),
        ({"k_b": 0.5}, ValueError,
         "elm.weights['k_b'] must be a non-empty 1-D array, not of shape ()"),
        ({"k_b": []}, ValueError,
         "elm.weights['k_b'] must be a non-empty 1-D array, not of shape (0,)"),
        ({"mlp.2.bias": [np.nan]}, ValueError, "elm.weights['mlp.2.bias'] must be finite, not nan"),
        ({"w_y.bias": ["1"]}, TypeError,
         "elm.weights['w_y.bias'] must be an array of real numbers, not dtype <U1"),
        ({"w_y.bias": [[1.0], [2.0, 3.0]]}, TypeError,
         "elm.weights['w_y.bias'] must be an array of real numbers, not [[1.0], [2.0, 3.0]]"),
        ({"mlp.0.bias": [5000.0]}, ValueError,
         "elm.weights['mlp.0.bias'] must fit signed 24 bits with 12 fraction bits, not 5000.0"),
    ],
)  # fmt: skip
def test_weight_errors(change, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.component("elm", weights=_changed(change))
    with pytest.raises(exc, match=_exact(msg)):
        ELM(_changed(change))  # the NumPy wrapper checks them alike


def test_weights_that_are_no_mapping_or_no_npz(tmp_path):
    what = "a mapping of arrays (a state_dict) or the path of an .npz file"
    with pytest.raises(TypeError, match=_exact(f"elm.weights must be {what}, not [1, 2, 3]")):
        ng.component("elm", weights=[1, 2, 3])
    missing = tmp_path / "nope.npz"
    with pytest.raises(ValueError, match=_exact(
        f"elm.weights must be {what}, not {missing!r} ([Errno 2] No such file or directory: "
        f"{str(missing)!r})"
    )):  # fmt: skip
        ng.component("elm", weights=missing)
    np.save(tmp_path / "w.npy", np.zeros(3))
    path = str(tmp_path / "w.npy")
    with pytest.raises(
        ValueError, match=_exact(f"elm.weights must be {what}, not {path!r} (not an .npz archive)")
    ):
        ng.component("elm", weights=path)


def test_weights_that_do_not_fit_the_format():
    w = _tiny()
    w["mlp.0.weight"] = [[0.5, 0.5]]
    w["w_y.weight"] = [[0.5]]
    w["k_lambda"] = [0.0]  # 1 - k_lambda = 1.0 needs 2**7 at 7 fraction bits, 8 bits hold 127
    with pytest.raises(ValueError, match=_exact(
        "1 - elm.weights['k_lambda'] must fit signed 8 bits with 7 fraction bits, not 1.0"
    )):  # fmt: skip
        ng.component("elm", weights=w, fraction=7, state_width=8)
    big = _tiny()
    big["w_s"] = [2.0**26, -(2.0**26)]  # 2 products of 2**46 (raw) x 2**47 (x): 2**94, 96 bits
    with pytest.raises(ValueError, match=_exact(
        "elm.weights must keep every sum of the step within 64 bits (the model is int64) with "
        "state_width=48, x_width=48 and fraction=20, not need 96 bits (in w_s * x)"
    )):  # fmt: skip
        ng.component("elm", weights=big, fraction=20, state_width=48)


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"fraction": 0}, ValueError, "elm.fraction must be an int in 1..20, not 0"),
        ({"state_width": 7}, ValueError, "elm.state_width must be an int in 8..48, not 7"),
        ({"x_width": 1}, ValueError, "elm.x_width must be None or an int in 2..48, not 1"),
        ({"stages": 4}, ValueError, "elm.stages must be an int in 0..3, not 4"),
        ({"y_threshold": "0"}, TypeError, "elm.y_threshold must be a real number, not '0'"),
        ({"y_threshold": float("inf")}, ValueError, "elm.y_threshold must be a real, not inf"),
    ],
)
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.component("elm", **params)


def test_numpy_wrapper_input_range():
    with pytest.raises(ValueError, match=_exact("elm input must fit signed 24 bits, not 8388608")):
        ELM(_tiny()).step([1 << 23, 0])


# -- the float64 tier ---------------------------------------------------------------------------
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


def test_numpy_wrapper_equals_component_model(rng):
    w = random_weights(rng, **SHAPES[0])
    x = rng.integers(-(1 << 14), 1 << 14, size=(40, 8))
    one = ELM(w).run(x, raw=True)
    comp = ELMNeuron(weights=w).model(1).run(_inputs(None, x[:, None, :]))
    np.testing.assert_array_equal(one["b"], np.stack([comp[f"b{k}"][:, 0] for k in range(4)], 1))
    np.testing.assert_array_equal(one["m"], np.stack([comp[f"m{j}"][:, 0] for j in range(3)], 1))
    np.testing.assert_array_equal(one["y"], np.stack([comp[f"y{o}"][:, 0] for o in range(2)], 1))


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
