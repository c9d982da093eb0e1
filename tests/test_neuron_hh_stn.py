"""``hh_stn``: the Hodgkin-Huxley STN cell, bit-true in both wrappers and close to float64.

Known answers are from the sigmoids' midpoints and ``math.exp`` by hand; the fidelity tier
compares spike trains with the float64 forward-Euler run of the same equations
(:func:`neurogate.plugins.neurons.hh_stn.reference`).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.gateware.neuron_core import NeuronCore
from neurogate.plugins.neurons.hh_stn import HHSTN, reference
from neurogate.testing import run_neuron_core

Q16 = 1 << 16


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def spike_fidelity(ref_spikes, spikes, dt: float, tol_ms: float = 1.0):
    """Return ``(count ratio, fraction of reference spikes with a spike within tol_ms)``."""
    ref_t = np.flatnonzero(ref_spikes) * dt
    got_t = np.flatnonzero(spikes) * dt
    if not len(ref_t):
        return (1.0 if not len(got_t) else math.inf), 1.0
    near = [np.min(np.abs(got_t - t)) <= tol_ms if len(got_t) else False for t in ref_t]
    return len(got_t) / len(ref_t), float(np.mean(near))


# -- known answers ----------------------------------------------------------------------------
def test_tables_known_answers():
    vtab = HHSTN().tables()[0]
    row = (-30 + 128) * 4  # lut_bits 2: row of v = -30 mV, m_inf = 1/2 there
    assert vtab[row, 0] == (1 << 20) // 8
    assert vtab[(-39 + 128) * 4, 5] == 1 << 27  # h_inf(-39 mV) = 1/2
    assert vtab[(-67 + 128) * 4, 7] == 1 << 27  # r_inf(-67 mV) = 1/2
    # k_n at -80 mV: dt * phi_n / tau_n = 0.025 * 0.75 / (1 + 100 / 2)
    assert vtab[(-80 + 128) * 4, 4] == round(0.025 * 0.75 / 51 * 2**28)


def test_reset_state_known_answer():
    state = HHSTN().reset_state()
    assert state["v"] == -65 * Q16
    assert state["n"] == round(2**28 / (1 + math.exp(33 / 8)))  # n_inf(-65 mV), on a grid point
    assert state["h"] == round(2**28 / (1 + math.exp(-26 / 3.1)))
    assert state["ca"] == round(0.1 * 2**28)


def test_first_step_close_to_float():
    # from rest with no input: v moves by dt * (sum of currents); float64 by hand-checked code
    out = HHSTN().model(1).run({"i_app": [0, 0, 0]})
    ref = reference(np.zeros((3, 1)))
    np.testing.assert_allclose(out["v"][:, 0] / Q16, ref["v"][:, 0], atol=1e-3)
    np.testing.assert_allclose(out["ca"][:, 0] / 2**28, ref["ca"][:, 0], atol=1e-7)


def test_fires_and_rate_rises_with_current():
    steps = 4000  # 100 ms
    i_app = np.array([-5, 10, 40], dtype=np.int64) * Q16
    out = HHSTN().model(3).run({"i_app": np.tile(i_app, (steps, 1))})
    counts = out["spike"].sum(axis=0).tolist()
    assert counts == [1, 2, 5]  # float64 reference: the same (checked in test_fidelity_fast)


# -- bit-true ---------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{}, {"lut_bits": 0}, {"lut_bits": 3, "dt": 0.01}])
def test_model_matches_pysim_random(params, rng_seed):
    ng.sim.compare(HHSTN(**params), steps=40, n=2, seed=rng_seed)  # full-range random input


def test_model_matches_pysim_spiking(rng):
    i_app = rng.integers(10 * Q16, 60 * Q16, size=(200, 2))  # 5 ms, spikes in both
    cmp = ng.sim.compare(HHSTN(), {"i_app": i_app})
    assert cmp.outputs["model"]["spike"].any()


def test_registered():
    assert ng.component("hh_stn") == HHSTN()
    assert ng.component("hh_stn").kind == "neuron"


def test_state_continues_across_runs(rng):
    i_app = rng.integers(0, 50 * Q16, size=(600, 2))
    whole = HHSTN().model(2).run({"i_app": i_app})
    model = HHSTN().model(2)
    parts = [model.run({"i_app": i_app[:250]}), model.run({"i_app": i_app[250:]})]
    for key in whole:
        np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), whole[key])


def _core_run(core, xs, **kwargs):
    """Run timesteps ``xs`` (T x n currents) on the core's gateware; return events and states."""
    return run_neuron_core(core, {"i_app": xs}, **kwargs)


def test_core_matches_parallel_model(rng):
    kernel = HHSTN(lut_bits=1)
    n, steps = 3, 30
    xs = rng.integers(-(1 << 23), 1 << 23, size=(steps, n))  # full range
    xs[:, 0] = rng.integers(100 * Q16, 127 * Q16, size=steps)  # fires within 30 steps
    events, states = _core_run(NeuronCore(kernel, n, memory="bram", fifo_depth=2 * n), xs)
    out = kernel.model(n).run({"i_app": xs})
    assert any(events)
    for t in range(steps):
        assert events[t] == np.flatnonzero(out["spike"][t]).tolist(), t
        for key, got in states[t].items():
            assert got == out[key][t].tolist(), (t, key)


def _spiking_inputs(rng, steps, n):
    """Full-range random currents, with neuron 0 (and every third) driven to fire."""
    xs = rng.integers(-(1 << 23), 1 << 23, size=(steps, n))
    xs[:, ::3] = rng.integers(100 * Q16, 127 * Q16, size=(steps, len(range(0, n, 3))))
    return xs


# (stages, n): n smaller than, equal to and larger than the pipeline; every cut pattern is
# covered by the stage counts 1, 3, 5 and 8 between them.
@pytest.mark.parametrize(("stages", "n"), [(8, 1), (8, 8), (8, 13), (1, 2), (3, 3), (5, 9), (0, 4)])
def test_core_pipelined_matches_parallel_model(stages, n, rng, rng_seed):
    kernel = HHSTN(lut_bits=1, stages=stages)
    steps = 12
    xs = _spiking_inputs(rng, steps, n)
    core = NeuronCore(kernel, n, memory="bram", fifo_depth=2)
    assert core.cycles_per_step == n + 4 + stages
    # a slow consumer and a 2-entry FIFO: the core stalls on spike backpressure
    events, states = _core_run(core, xs, p_ready=0.3, seed=rng_seed)
    out = kernel.model(n).run({"i_app": xs})
    assert any(events)
    for t in range(steps):
        assert events[t] == np.flatnonzero(out["spike"][t]).tolist(), t
        for key, got in states[t].items():
            assert got == out[key][t].tolist(), (t, key)


def test_stages_cuts():
    assert HHSTN().stages == 8
    assert HHSTN().pipeline_stages == 8
    assert HHSTN(stages=0).cuts() == ()
    assert HHSTN(stages=1).cuts() == (0,)  # the table read first
    assert HHSTN(stages=2).cuts() == (0, 4)
    assert HHSTN(stages=4).cuts() == (0, 2, 4, 6)
    assert HHSTN(stages=8).cuts() == tuple(range(8))
    assert NeuronCore(HHSTN(), 10, memory="bram").fifo_depth == 16  # 8 + stages


def test_parallel_wrapper_ignores_stages():
    from amaranth.back import rtlil

    def text(kernel):
        return rtlil.convert(kernel.create(), emit_src=False)

    assert text(HHSTN(stages=0, lut_bits=0)) == text(HHSTN(stages=8, lut_bits=0))
    assert HHSTN(stages=3).latency == 1


def test_core_tables_are_synchronous_roms():
    # in the core the v table, b_inf**2 and the AHP factor are read across the first cut
    # (synchronous read ports: block RAM); without cuts they are combinational (LUTs).
    from amaranth.back import rtlil

    def read_ports(kernel):
        text = rtlil.convert(NeuronCore(kernel, 4, memory="bram").create(), emit_src=False)
        cells = [c.split("\n  end\n")[0] for c in text.split("cell $memrd_v2")[1:]]
        return sum("CLK_ENABLE 1\n" in c for c in cells), sum("CLK_ENABLE 0\n" in c for c in cells)

    tables = 2 * 11 + 2  # base and slope of 11 columns, b_inf**2, AHP
    sync, comb = read_ports(HHSTN(stages=0, lut_bits=0))  # sync: state, input, spike FIFO
    assert comb == tables
    assert read_ports(HHSTN(stages=1, lut_bits=0)) == (sync + tables, 0)


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        (
            {"dt": 0.1},
            ValueError,
            "hh_stn.dt must be a number of ms in (0, 0.05], not 0.1 (forward Euler of the "
            "sodium spike is unstable above 0.05 ms)",
        ),
        (
            {"dt": 0},
            ValueError,
            "hh_stn.dt must be a number of ms in (0, 0.05], not 0.0 (forward Euler of the "
            "sodium spike is unstable above 0.05 ms)",
        ),
        ({"dt": "0.025"}, TypeError, "hh_stn.dt must be a number of ms in (0, 0.05], not '0.025'"),
        ({"lut_bits": 5}, ValueError, "hh_stn.lut_bits must be an int in 0..4, not 5"),
        ({"stages": 9}, ValueError, "hh_stn.stages must be an int in 0..8, not 9"),
        ({"stages": -1}, ValueError, "hh_stn.stages must be an int in 0..8, not -1"),
        ({"stages": 2.0}, TypeError, "hh_stn.stages must be an int, not 2.0"),
    ],
)
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        HHSTN(**params)


# -- fidelity tier ----------------------------------------------------------------------------
def _fidelity(ms: float, rng, n_noisy: int = 2):
    dt = 0.025
    steps = round(ms / dt)
    const = np.array([10.0, 25.0, 40.0])
    mean = rng.uniform(15, 40, size=n_noisy)
    i_float = np.concatenate(
        [np.tile(const, (steps, 1)), mean + rng.normal(0, 30, size=(steps, n_noisy))], axis=1
    )
    i_float = np.clip(i_float, -127, 127)
    i_raw = np.round(i_float * Q16).astype(np.int64)
    out = HHSTN().model(i_raw.shape[1]).run({"i_app": i_raw})
    ref = reference(i_raw / Q16, dt)
    rows = []
    for j in range(i_raw.shape[1]):
        ratio, near = spike_fidelity(ref["spike"][:, j], out["spike"][:, j], dt)
        rms = float(np.sqrt(np.mean((out["v"][:, j] / Q16 - ref["v"][:, j]) ** 2)))
        rows.append((int(ref["spike"][:, j].sum()), ratio, near, rms))
        print(f"neuron {j}: ref spikes {rows[-1][0]}, ratio {ratio:.4f}, within 1 ms {near:.3f}, "
              f"v RMS error {rms:.3f} mV")  # fmt: skip
    return rows


def _check_fidelity(rows):
    total_ref = sum(r[0] for r in rows)
    assert total_ref > 0
    for n_ref, ratio, near, _ in rows:
        assert n_ref > 0
        assert abs(ratio - 1) <= 0.02, (n_ref, ratio)
        assert near >= 0.9


def test_fidelity_fast(rng):
    _check_fidelity(_fidelity(100, rng))


@pytest.mark.slow
def test_fidelity_500ms(rng):
    _check_fidelity(_fidelity(500, rng))
