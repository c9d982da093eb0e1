"""``glif`` (NEST ``glif_psc`` models 1-5): known answers, NEST traces, bit-true, errors.

tests/data/glif_nest_traces.npz is NEST 3.10's own ``glif_psc`` (default parameters, dt = 0.1
ms, 500 ms of 275, 400 and 500 pA and a noisy current per model), recorded by
benchmarks/make_glif_nest_traces.py; both the float64 reference :func:`glif_float` and the
fixed-point model are checked against it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import neurogate as ng
from neurogate.gateware.neuron_core import NeuronCore
from neurogate.plugins.neurons.glif import GLIF, glif_float
from neurogate.testing import ou_current as _ou
from neurogate.testing import run_neuron_core, spike_match

Q = 1 << 20  # U, th_s, th_v: mV with 20 fraction bits; after-spike currents: pA, 20 bits
P = 1 << 8  # input: pA with 8 fraction bits
TRACES = Path(__file__).parent / "data" / "glif_nest_traces.npz"


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


# -- known answers --------------------------------------------------------------------------------
def test_glif1_spike_train_in_closed_form():
    # U_n = U_inf (1 - P33**n) from U = 0; the first n with U_n > th_inf spikes; then the
    # neuron is held at V_reset - E_L = 0 for round(3.75 / 0.1) = 38 steps, and again.
    g, c, dt, current, th_inf = 9.43, 58.72, 0.1, 300.0, -51.68 + 78.85
    p33 = math.exp(-dt * g / c)
    u_inf = current / g
    n1 = next(n for n in range(1, 10000) if u_inf * (1 - p33**n) > th_inf)
    margin = u_inf * (1 - p33**n1) - th_inf
    assert margin > 1e-3  # not a close call
    assert u_inf * (1 - p33 ** (n1 - 1)) < th_inf - 1e-3
    period = n1 + 38
    expected = [n1 - 1 + k * period for k in range(5)]
    out = ng.component("glif", model=1).model(1).run({"i_in": [int(current * P)] * 900})
    assert np.flatnonzero(out["spike"][:, 0]).tolist()[:5] == expected
    first = expected[0]
    assert out["refr"][first : first + 40, 0].tolist() == [*range(38, -1, -1), 0]
    assert (out["v"][first : first + 39, 0] == 0).all()  # held at the reset for 38 steps
    assert out["v"][first + 39, 0] > 0


def test_rest_without_input_stays_exactly_at_rest():
    for model in range(1, 6):
        out = (
            ng.component("glif", model=model)
            .model(2)
            .run({"i_in": np.zeros((50, 2), dtype=np.int64)})
        )
        for key, arr in out.items():
            assert (arr == 0).all(), (model, key)


def test_after_spike_currents_and_threshold_jump_known_answer():
    out = ng.component("glif", model=4).model(1).run({"i_in": [400 * P] * 200})
    first = int(np.flatnonzero(out["spike"][:, 0])[0])
    # the currents were 0 before the first spike: they become asc_amps, the spike threshold
    # component (0 before) becomes th_spike_add, and all stay while refractory
    assert (out["asc0"][:first, 0] == 0).all()
    assert out["asc0"][first : first + 39, 0].tolist() == [round(-9.18 * Q)] * 39
    assert out["asc1"][first : first + 39, 0].tolist() == [round(-198.94 * Q)] * 39
    assert out["th_s"][first : first + 39, 0].tolist() == [round(0.37 * Q)] * 39
    # GLIF2/4/5 reset: 0.2 * U (before the step) + 18.51 mV, rounded
    want = 0.2 * out["v"][first - 1, 0] + round(18.51 * Q)
    assert abs(out["v"][first, 0] - want) <= 1
    # after the refractory period the currents decay: asc1 by exp(-0.1 * 0.1) per step
    after = out["asc1"][first + 39, 0]
    assert after == pytest.approx(round(-198.94 * Q) * math.exp(-0.01), abs=2)


def test_mechanism_flags_select_the_model():
    by_flags = ng.component("glif", after_spike_currents=True)
    assert by_flags.mechanisms == (False, True, False)
    assert set(by_flags.state_fields()) == {"v", "asc0", "asc1", "refr"}
    assert set(ng.component("glif", model=5).state_fields()) == {
        "v",
        "th_s",
        "th_v",
        "asc0",
        "asc1",
        "refr",
    }
    assert set(ng.component("glif").state_fields()) == {"v", "refr"}
    cur = {"i_in": [400 * P] * 300}
    a = by_flags.model(1).run(cur)
    b = ng.component("glif", model=3).model(1).run(cur)
    assert all((a[k] == b[k]).all() for k in a)
    assert ng.component("glif", model=2, spike_dependent_threshold=True).model_number == 2
    assert "glif" in ng.get_plugin_manager(autoload=False).components()


def test_quantisation_report():
    report = ng.component("glif", model=5).quantisation()
    assert set(report) >= {"P33", "P30", "th_inf", "th_v_U", "th_v_J", "asc0_stable"}
    for key in ("P30", "th_v_U", "th_v_J", "reset_fraction"):
        assert report[key].rel_error < 2.0**-19, key
    for key in ("P33", "th_s_decay", "asc0_decay", "asc1_stable", "th_v_decay"):
        # near one: the error is relative to 1 - p
        q = report[key]
        assert abs(q.error) < (1 - q.value) * 2.0**-19, key
    assert report["th_inf"].value == pytest.approx(27.17)
    assert abs(report["th_inf"].error) <= 0.5 / Q
    assert report["asc1_amp"].detail == f"{round(-198.94 * Q)} / 2**20"


# -- against NEST's own traces ---------------------------------------------------------------------
def _nest():
    return np.load(TRACES)


@pytest.mark.parametrize("model", range(1, 6))
def test_float_reference_reproduces_nest(model):
    data = _nest()
    neuron = ng.component("glif", model=model)
    v, s = glif_float(neuron, data["currents"].T)
    for i in range(data["currents"].shape[0]):
        nest_spikes = data[f"m{model}_c{i}_spikes"]
        assert np.flatnonzero(s[:, i]).tolist() == nest_spikes.tolist(), i
        np.testing.assert_allclose(v[9::10, i], data[f"m{model}_c{i}_vm"], atol=1e-4)


@pytest.mark.parametrize("model", range(1, 6))
def test_fixed_point_tracks_nest(model):
    data = _nest()
    cur = data["currents"]
    neuron = ng.component("glif", model=model)
    out = neuron.model(cur.shape[0]).run({"i_in": np.rint(cur.T * P).astype(np.int64)})
    for i in range(cur.shape[0]):
        ref = data[f"m{model}_c{i}_spikes"]
        got = np.flatnonzero(out["spike"][:, i])
        rms = float(
            np.sqrt(np.mean((out["v"][9::10, i] / Q + neuron.E_L - data[f"m{model}_c{i}_vm"]) ** 2))
        )
        matched = spike_match(ref, got, 10)
        print(f"model {model} current {i}: spikes fixed {got.size} NEST {ref.size}, "
              f"matched {matched:.3f}, identical {got.tolist() == ref.tolist()}, "
              f"V RMS {rms:.2e} mV")  # fmt: skip
        assert abs(got.size - ref.size) <= 0.02 * ref.size
        assert matched >= 0.9
        assert rms < 1e-3
        assert ref.size >= 2


@pytest.mark.parametrize("model", range(1, 6))
def test_fidelity_noisy_500ms_against_float64(model, rng):
    neuron = ng.component("glif", model=model)
    steps = 5000
    current = np.array([320.0, 450.0, 600.0]) + _ou(rng, steps, 3, neuron.dt)
    raw = np.rint(current * P).astype(np.int64)
    out = neuron.model(3).run({"i_in": raw})
    v, s = glif_float(neuron, raw / P)
    for i in range(3):
        ref, got = np.flatnonzero(s[:, i]), np.flatnonzero(out["spike"][:, i])
        rms = float(np.sqrt(np.mean((out["v"][:, i] / Q + neuron.E_L - v[:, i]) ** 2)))
        print(f"model {model} column {i}: {got.size} vs {ref.size} spikes, RMS {rms:.2e} mV")
        assert abs(got.size - ref.size) <= 0.02 * ref.size
        assert spike_match(ref, got, 10) >= 0.9
        assert ref.size >= 5


# -- bit-true --------------------------------------------------------------------------------------
def _random_params(rng, model):
    e_l = float(rng.uniform(-80, -60))
    return {
        "model": model,
        "dt": float(rng.choice([0.05, 0.1, 0.25])),
        "g": float(rng.uniform(3, 20)),
        "E_L": e_l,
        "V_th": e_l + float(rng.uniform(10, 30)),
        "C_m": float(rng.uniform(30, 200)),
        "t_ref": float(rng.uniform(0.5, 5)),
        "V_reset": e_l + float(rng.uniform(-5, 5)),
        "th_spike_add": float(rng.uniform(0, 5)),
        "th_spike_decay": float(rng.uniform(0.005, 0.5)),
        "voltage_reset_fraction": float(rng.uniform(0, 1)),
        "voltage_reset_add": float(rng.uniform(0, 10)),
        "th_voltage_index": float(rng.uniform(-0.05, 0.05)),
        "th_voltage_decay": float(rng.uniform(0.01, 0.5)),
        "asc_decay": tuple(float(x) for x in rng.uniform(0.002, 0.5, 2)),
        "asc_amps": tuple(float(x) for x in rng.uniform(-300, 100, 2)),
        "asc_r": tuple(float(x) for x in rng.uniform(0, 1, 2)),
        "asc_init": tuple(float(x) for x in rng.uniform(-50, 50, 2)),
    }


@pytest.mark.parametrize("model", range(1, 6))
def test_model_vs_pysim(model, rng, rng_seed):
    neuron = ng.component("glif", model=model, t_ref=0.5)
    ng.sim.compare(neuron, steps=60, n=2, seed=rng_seed)  # full range: saturation
    cmp = ng.sim.compare(neuron, {"i_in": rng.integers(0, 3000 * P, size=(100, 2))})
    assert cmp.outputs["model"]["spike"].sum() >= 4
    params = _random_params(rng, model)
    print(params)
    ng.sim.compare(
        ng.component("glif", **params), {"i_in": rng.integers(-200 * P, 2000 * P, size=(80, 2))}
    )


def _core_run(kernel, inputs):
    """Run ``inputs`` ({port: (T, n)}) through a NeuronCore in EBR; return (events, states)."""
    n = next(iter(inputs.values())).shape[1]
    return run_neuron_core(NeuronCore(kernel, n, fifo_depth=n + 1), inputs)


@pytest.mark.parametrize("model", [2, 5])
def test_neuron_core_matches_model(model, rng):
    kernel = ng.component("glif", model=model, t_ref=0.2)
    inputs = {"i_in": rng.integers(1000 * P, 8000 * P, size=(10, 4))}
    out = kernel.model(4).run(inputs)
    events, states = _core_run(kernel, inputs)
    for t in range(10):
        assert events[t] == np.flatnonzero(out["spike"][t]).tolist(), f"events at step {t}"
        for key in kernel.state_fields():
            assert states[t][key] == out[key][t].tolist(), f"{key} after step {t}"
    assert out["spike"].sum() >= 8


@pytest.mark.parametrize(
    ("model", "stages", "n"), [(5, 4, 1), (5, 4, 4), (5, 4, 9), (5, 2, 2), (4, 1, 3), (1, 3, 5)]
)
def test_pipelined_core_matches_model(model, stages, n, rng, rng_seed):
    # n below, at and above the pipeline; a slow consumer and a 2-entry FIFO: stalls
    kernel = ng.component("glif", model=model, t_ref=0.2, stages=stages)
    assert kernel.pipeline_stages == stages
    inputs = {"i_in": rng.integers(-(1 << 23), 1 << 23, size=(14, n))}
    inputs["i_in"][:, 0] = rng.integers(3000 * P, 8000 * P, size=14)
    out = kernel.model(n).run(inputs)
    core = NeuronCore(kernel, n, fifo_depth=2)
    events, states = run_neuron_core(core, inputs, p_ready=0.3, seed=rng_seed)
    for t in range(14):
        assert events[t] == np.flatnonzero(out["spike"][t]).tolist(), f"events at step {t}"
        for key in kernel.state_fields():
            assert states[t][key] == out[key][t].tolist(), f"{key} after step {t}"
    assert out["spike"].sum() >= 3


def test_stages():
    from amaranth.back import rtlil

    assert ng.component("glif").stages == 4
    assert NeuronCore(ng.component("glif", model=3), 8).cycles_per_step == 8 + 4 + 4
    msg = "glif.stages must be an int in 0..4, not 5"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        ng.component("glif", stages=5)

    def text(kernel):
        return rtlil.convert(kernel.create(), emit_src=False)

    # the parallel wrapper ignores the cuts
    assert text(ng.component("glif", model=5, stages=0)) == text(ng.component("glif", model=5))


# -- errors ----------------------------------------------------------------------------------------
NEST_COMBINATION = (
    "glif: Incorrect model mechanism combination setting.See documentation for setting of "
    "model mechanism parameters:spike_dependent_threshold, after_spike_currents, "
    "adapting_threshold."
)


@pytest.mark.parametrize(
    ("params", "msg"),
    [
        ({"adapting_threshold": True}, NEST_COMBINATION),
        ({"spike_dependent_threshold": True, "adapting_threshold": True}, NEST_COMBINATION),
        ({"after_spike_currents": True, "adapting_threshold": True}, NEST_COMBINATION),
        (
            {"model": 3, "after_spike_currents": False},
            "glif.after_spike_currents = False contradicts model=3 (which has "
            "after_spike_currents=True)",
        ),
        ({"C_m": 0.0}, "glif.C_m: Capacitance must be strictly positive."),
        ({"g": -1.0}, "glif.g: Membrane conductance must be strictly positive."),
        ({"t_ref": 0.0}, "glif.t_ref: Refractory time constant must be strictly positive."),
        ({"V_reset": -51.68}, "glif.V_reset: Reset potential must be smaller than threshold."),
        (
            {"model": 3, "asc_decay": (0.003, 0.0)},
            "glif.asc_decay: After-spike current time constant must be strictly positive.",
        ),
        (
            {"model": 4, "asc_r": (1.0, 1.5)},
            "glif.asc_r: After spike current fraction following spike coefficients r must be "
            "within [0.0, 1.0].",
        ),
        (
            {"model": 3, "asc_amps": (1.0, 2.0, 3.0)},
            "glif.asc_decay: All after spike current parameters (i.e., asc_init, k, asc_amps, "
            "r) must have the same size.",
        ),
        (
            {"model": 3, "asc_amps": (1.0,), "asc_init": (0.0,), "asc_r": (1.0,),
             "asc_decay": (0.1,)},
            "glif.asc_decay: glif has exactly two after-spike currents, not 1",
        ),
        (
            {"model": 2, "th_spike_decay": 0.0},
            "glif.th_spike_decay: Spike induced threshold time constant must be strictly "
            "positive.",
        ),
        (
            {"model": 2, "voltage_reset_fraction": 1.2},
            "glif.voltage_reset_fraction: Voltage fraction coefficient following spike must be "
            "within [0.0, 1.0].",
        ),
        (
            {"model": 5, "th_voltage_decay": -0.1},
            "glif.th_voltage_decay: Voltage-induced threshold time constant must be strictly "
            "positive.",
        ),
        (
            {"model": 5, "th_voltage_decay": 0.25, "g": 10.0, "C_m": 40.0},
            "glif.th_voltage_decay = 0.25 /ms equals g / C_m: NEST's voltage-threshold update "
            "divides by their difference",
        ),
        (
            {"dt": 10.0},
            "glif.dt = 10.0 ms is too coarse: the refractory period t_ref = 3.75 ms must be at "
            "least one step (dt < 2 t_ref)",
        ),
        ({"V_th": 3000.0}, "glif.V_th: 3078.85 mV overflows its fixed-point format (-2048..2048)"),
        (
            {"model": 3, "asc_amps": (-9.18, -40000.0)},
            "glif.asc_amps[1]: -40000.0 pA overflows its fixed-point format (-32768..32768)",
        ),
        ({"dt": -0.1}, "glif.dt must be a real > 0, not -0.1"),
    ],
)  # fmt: skip
def test_parameter_errors(params, msg):
    with pytest.raises(ValueError, match=_exact(msg)):
        ng.component("glif", **params)


def test_type_errors():
    with pytest.raises(
        TypeError, match=_exact("glif.model_number must be None or an int, not 2.0")
    ):
        GLIF(model=2.0)
    with pytest.raises(
        ValueError, match=_exact("glif.model_number must be None or an int in 1..5, not 6")
    ):
        ng.component("glif", model=6)
    with pytest.raises(
        TypeError, match=_exact("glif.asc_amps must be a sequence of reals, not 3.0")
    ):
        ng.component("glif", asc_amps=3.0)


# -- planted faults -----------------------------------------------------------------------------
class _ShortRefractory(GLIF):
    """The gateware counts one refractory step too few (wrong on purpose)."""

    name = "test_glif_short_refractory"

    def update_hdl(self, m, state, inputs):
        new, spike = super().update_hdl(m, state, inputs)
        new["refr"] = new["refr"] - (new["refr"] == self.refractory_steps)
        return new, spike


def test_planted_fault_in_the_refractory_count_is_caught(rng):
    with pytest.raises(ng.sim.MismatchError):
        ng.sim.compare(
            _ShortRefractory(model=2, t_ref=0.5), {"i_in": rng.integers(0, 3000 * P, (60, 2))}
        )
