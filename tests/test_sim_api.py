"""The ``ng.sim.run`` / ``ng.sim.compare`` contract, the same for every backend."""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.plugins.neurons.lif import LIF, LIFModel
from neurogate.sim import BackendUnavailableError, MismatchError
from neurogate.sim.backends import PysimBackend

BACKENDS = ("model", "pysim")


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


COMPONENTS = {
    "lif": {"name": "lif", "v_threshold": 300},
    "lif-runtime": {"name": "lif", "leak_k": None, "gain_k": None, "noise": True},
    "lfsr8": {"name": "lfsr", "width": 8},
}


def _make(key: str):
    params = dict(COMPONENTS[key])
    return ng.component(params.pop("name"), **params)


def _random_stimulus(component, rng, steps, n):
    stim = {}
    for key, port in component.inputs.items():
        fmt = port.format
        stim[key] = rng.integers(fmt.min, fmt.max, size=(steps, n), endpoint=True)
    return stim


# -- same keys and shapes from every backend -----------------------------------------------------
@pytest.mark.parametrize(("steps", "n"), [(0, 1), (0, 3), (1, 1), (7, 3)])
@pytest.mark.parametrize("key", list(COMPONENTS))
def test_every_backend_returns_output_ports_as_t_by_n(rng, key, steps, n):
    component = _make(key)
    stim = _random_stimulus(component, rng, steps, n)
    outs = {b: ng.sim.run(component, stim, b) for b in BACKENDS}
    for backend, out in outs.items():
        assert set(out) == set(component.outputs), backend
        for port, arr in out.items():
            assert isinstance(arr, np.ndarray), (backend, port)
            assert arr.shape == (steps, n), (backend, port)
            assert arr.dtype.kind in "iu", (backend, port)
    for port in component.outputs:
        np.testing.assert_array_equal(outs["model"][port], outs["pysim"][port])


@pytest.mark.parametrize("key", list(COMPONENTS))
def test_model_run_returns_outputs_and_documented_state(rng, key):
    component = _make(key)
    stim = _random_stimulus(component, rng, 5, 2)
    out = component.model(n=2).run(stim)
    assert set(out) == set(component.outputs) | set(component.state)
    assert all(a.shape == (5, 2) for a in out.values())


# -- (T,) stimulus broadcasts -------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("key", list(COMPONENTS))
def test_1d_stimulus_drives_every_instance(rng, key, backend):
    component = _make(key)
    stim_1d = {k: a[:, 0] for k, a in _random_stimulus(component, rng, 40, 1).items()}
    tiled = {k: np.repeat(a[:, None], 3, axis=1) for k, a in stim_1d.items()}
    one = ng.sim.run(component, stim_1d, backend)
    broadcast = ng.sim.run(component, stim_1d, backend, n=3)
    explicit = ng.sim.run(component, tiled, backend)
    for port in component.outputs:
        assert one[port].shape == (40, 1)
        assert broadcast[port].shape == (40, 3)
        np.testing.assert_array_equal(broadcast[port], explicit[port])
        np.testing.assert_array_equal(broadcast[port], np.repeat(one[port], 3, axis=1))


@pytest.mark.parametrize("first", ["1d", "2d"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_run_mixes_1d_and_2d_inputs(rng, backend, first):
    """A (T,) input drives every instance whatever the order of the stimulus dict."""
    lif = _make("lif-runtime")
    full = _random_stimulus(lif, rng, 30, 3)
    mixed = {"current": full["current"][:, 0]}
    mixed.update({k: a for k, a in full.items() if k != "current"})
    if first == "2d":
        mixed = dict(reversed(mixed.items()))
    tiled = {k: np.broadcast_to(np.asarray(a).reshape(30, -1), (30, 3)) for k, a in mixed.items()}
    expected = ng.sim.run(lif, tiled, backend)
    got = ng.sim.run(lif, mixed, backend)
    for port in lif.outputs:
        np.testing.assert_array_equal(got[port], expected[port])
    # compare() already accepts the same mixed stimulus.
    assert ng.sim.compare(lif, mixed, seed=0).outputs["model"]["v"].shape == (30, 3)


def test_bool_input_is_taken_as_0_1(rng):
    enc = ng.component("lfsr", width=3)
    x = rng.integers(0, 2, size=20).astype(bool)
    for backend in BACKENDS:
        a = ng.sim.run(enc, {"x": x}, backend)
        b = ng.sim.run(enc, {"x": x.astype(np.int64)}, backend)
        np.testing.assert_array_equal(a["bit"], b["bit"])


# -- stimulus errors -----------------------------------------------------------------------------
LIF_ERRORS = [
    ({}, ValueError, "lif input 'current' is missing from the stimulus"),
    ({"foo": [1]}, ValueError, "lif has no input port 'foo'; its inputs are: current"),
    (
        {"current": [1], "foo": [1]},
        ValueError,
        "lif has no input port 'foo'; its inputs are: current",
    ),
    (
        {"current": np.array([0.0, 1.0])},
        TypeError,
        "lif input 'current' must be an integer array, not dtype float64",
    ),
    (
        {"current": np.array([0, 1], dtype=np.float32)},
        TypeError,
        "lif input 'current' must be an integer array, not dtype float32",
    ),
    (
        {"current": [[0, 0], [0, 0], [0, 40000], [0, 0], [-40000, 0]]},
        ValueError,
        "lif input 'current' must fit signed 16-bit [-32768, 32767], "
        "not 40000 (step 2, instance 1)",
    ),
    (
        {"current": [0, -32769]},
        ValueError,
        "lif input 'current' must fit signed 16-bit [-32768, 32767], "
        "not -32769 (step 1, instance 0)",
    ),
    (
        {"current": np.zeros((5, 1, 1), dtype=np.int64)},
        ValueError,
        "lif input 'current' must have shape (T, 1) or (T,), not (5, 1, 1)",
    ),
]


def _entry_points(lif, stim):
    first = next((np.asarray(a) for a in stim.values()), np.zeros(0))
    n = first.shape[1] if first.ndim == 2 else 1
    return {
        "run-model": lambda: ng.sim.run(lif, stim, "model"),
        "run-pysim": lambda: ng.sim.run(lif, stim, "pysim"),
        "model.run": lambda: lif.model(n=n).run(stim),
        "compare": lambda: ng.sim.compare(lif, stim, seed=0),
    }


@pytest.mark.parametrize("where", ["run-model", "run-pysim", "model.run", "compare"])
@pytest.mark.parametrize(("stim", "exc", "msg"), LIF_ERRORS, ids=[m for _, _, m in LIF_ERRORS])
def test_stimulus_errors(where, stim, exc, msg):
    call = _entry_points(ng.component("lif", v_threshold=300), stim)[where]
    with pytest.raises(exc, match=_exact(msg)):
        call()


def test_stimulus_shape_and_length_errors():
    lif = ng.component("lif", v_threshold=300)
    msg = "lif input 'current' must have shape (T, 3) or (T,), not (5, 2)"
    with pytest.raises(ValueError, match=_exact(msg)):
        ng.sim.run(lif, {"current": np.zeros((5, 2), dtype=np.int64)}, n=3)
    with pytest.raises(ValueError, match=_exact(msg)):
        lif.model(n=3).run({"current": np.zeros((5, 2), dtype=np.int64)})
    rt = ng.component("lif", leak_k=None, gain_k=None)
    stim = {"current": np.zeros(5, dtype=np.int64), "leak_k": np.zeros(4, dtype=np.int64)}
    stim["gain_k"] = np.zeros(5, dtype=np.int64)
    msg = "lif input 'leak_k' has 4 steps, expected 5"
    for backend in BACKENDS:
        with pytest.raises(ValueError, match=_exact(msg)):
            ng.sim.run(rt, stim, backend)


def _registered_backend_names() -> list[str]:
    return list(ng.plugin_manager().sim_backends())


def test_unknown_backend():
    lif = ng.component("lif")
    known = ", ".join(_registered_backend_names())
    msg = f"no simulation backend named 'nope'; known: {known}"
    with pytest.raises(BackendUnavailableError, match=_exact(msg)):
        ng.sim.run(lif, {"current": [1, 2]}, backend="nope")
    with pytest.raises(BackendUnavailableError, match=_exact(msg)):
        ng.sim.compare(lif, {"current": [1, 2]}, backends=("model", "nope"))


def test_available_backends_lists_model_and_pysim():
    """``ng.sim.available_backends()`` works, also after the plugin modules have loaded."""
    ng.sim.run(ng.component("lif"), {"current": [1]})  # loads the plugin modules
    assert "available_backends" in ng.sim.__all__
    found = ng.sim.available_backends()
    assert list(found) == _registered_backend_names()
    assert {"model", "pysim"} <= set(found)
    assert found["pysim"] is PysimBackend


def test_unavailable_backend(monkeypatch):
    monkeypatch.setattr(PysimBackend, "unavailable_reason", classmethod(lambda cls: "no sim"))
    msg = "backend 'pysim' cannot run here: no sim"
    with pytest.raises(BackendUnavailableError, match=_exact(msg)):
        ng.sim.run(ng.component("lif"), {"current": [1]}, backend="pysim")


def test_compare_needs_two_backends():
    msg = "compare needs at least two backends, not ('model',)"
    with pytest.raises(ValueError, match=_exact(msg)):
        ng.sim.compare(ng.component("lif"), backends=("model",), seed=0)


# -- compare: success ------------------------------------------------------------------------------
def test_compare_success_result(rng_seed):
    lif = ng.component("lif", v_threshold=300, refractory=1)
    result = ng.sim.compare(lif, steps=60, n=3, seed=rng_seed)
    assert result.component == lif
    assert result.backends == ("model", "pysim")
    assert result.seed == rng_seed
    assert result.steps == 60
    assert set(result.inputs) == {"current"}
    assert result.inputs["current"].shape == (60, 3)
    np.testing.assert_array_equal(
        result.inputs["current"], ng.sim.random_inputs(lif, 60, 3, rng_seed)["current"]
    )
    for backend in result.backends:
        assert set(result.outputs[backend]) == {"spike", "v", "refr"}
        assert result.outputs[backend]["v"].shape == (60, 3)


def test_random_inputs_are_seeded_and_in_range(rng_seed):
    lif = ng.component("lif", data_width=8, v_threshold=100, leak_k=None, gain_k=4)
    a = ng.sim.random_inputs(lif, 500, 2, rng_seed)
    b = ng.sim.random_inputs(lif, 500, 2, rng_seed)
    c = ng.sim.random_inputs(lif, 500, 2, rng_seed + 1)
    assert set(a) == {"current", "leak_k"}
    for key in a:
        assert a[key].shape == (500, 2)
        np.testing.assert_array_equal(a[key], b[key])
        assert not np.array_equal(a[key], c[key])
        assert a[key].min() == -128  # covers the full range (500 draws of 256 values)
        assert a[key].max() == 127


# -- compare: a deliberately broken model must be caught --------------------------------------
class _BrokenModel(LIFModel):
    """The LIF model with chosen output values nudged after the fact."""

    def _run(self, inputs, steps):
        out = super()._run(inputs, steps)
        out = {k: a.copy() for k, a in out.items()}
        for port, step, inst, delta in self.component.faults:
            if step < steps:
                out[port][step, inst] += delta
        if self.component.truncate:
            out["v"] = out["v"][:-1]
        return out


class BrokenLIF(LIF):
    """A LIF whose model disagrees with its gateware where ``faults`` say."""

    faults: tuple = ()
    truncate = False

    def model(self, n=1):
        return _BrokenModel(self, n)


def _broken(faults, truncate=False, **params):
    cls = type("BrokenLIFCase", (BrokenLIF,), {"faults": faults, "truncate": truncate})
    return cls(**params)


def test_compare_reports_first_mismatch_exactly(rng_seed):
    step, inst = 17, 2
    broken = _broken((("v", step, inst, 1),), v_threshold=300)
    good = ng.component("lif", v_threshold=300)
    stim = ng.sim.random_inputs(broken, 40, 3, rng_seed)
    ref = ng.sim.run(good, stim, "pysim")["v"]
    v = int(ref[step, inst])
    cur = int(stim["current"][step, inst])
    msg = (
        f"model and pysim differ first at step {step} (cycle {step + 1}), port 'v', "
        f"instance {inst}: model={v + 1}, pysim={v} [inputs: current={cur}] "
        f"(1 differing values; seed={rng_seed}; {broken!r})"
    )
    with pytest.raises(MismatchError, match=_exact(msg)) as info:
        ng.sim.compare(broken, steps=40, n=3, seed=rng_seed)
    err = info.value
    assert isinstance(err, AssertionError)
    assert (err.step, err.port, err.instance) == (step, "v", inst)
    assert (err.expected, err.actual) == (v + 1, v)
    assert err.backends == ("model", "pysim")
    assert err.seed == rng_seed
    # The unbroken component passes on the same stimulus.
    ng.sim.compare(good, steps=40, n=3, seed=rng_seed)


def test_compare_names_backends_in_the_order_given(rng_seed):
    broken = _broken((("spike", 3, 0, 1),), v_threshold=300)
    with pytest.raises(MismatchError) as info:
        ng.sim.compare(broken, steps=10, n=1, seed=rng_seed, backends=("pysim", "model"))
    err = info.value
    assert str(err).startswith("pysim and model differ first at step 3 (cycle 4), port 'spike'")
    assert err.backends == ("pysim", "model")
    assert err.actual == err.expected + 1


def test_compare_reports_earliest_step_across_ports(rng_seed):
    """The first difference is the earliest step, whichever port it is on."""
    broken = _broken((("spike", 20, 0, 1), ("v", 5, 1, -1)), v_threshold=300)
    with pytest.raises(MismatchError) as info:
        ng.sim.compare(broken, steps=30, n=2, seed=rng_seed)
    err = info.value
    assert (err.step, err.port, err.instance) == (5, "v", 1), str(err)
    assert str(err).startswith("model and pysim differ first at step 5 (cycle 6), port 'v'")


def test_compare_reports_shape_mismatch(rng_seed):
    broken = _broken((), truncate=True, v_threshold=300)
    msg = f"{broken!r}: port 'v' has shape (24, 2) on model but (25, 2) on pysim (seed={rng_seed})"
    with pytest.raises(MismatchError, match=_exact(msg)) as info:
        ng.sim.compare(broken, steps=25, n=2, seed=rng_seed)
    assert (info.value.port, info.value.step, info.value.instance) == ("v", None, None)


def test_compare_without_seed_reports_a_replayable_seed():
    broken = _broken((("v", 9, 0, 1),), v_threshold=300)
    with pytest.raises(MismatchError) as first:
        ng.sim.compare(broken, steps=12, n=1)
    seed = first.value.seed
    assert isinstance(seed, int)
    assert f"seed={seed};" in str(first.value)
    with pytest.raises(MismatchError) as replay:
        ng.sim.compare(broken, steps=12, n=1, seed=seed)
    assert str(replay.value) == str(first.value)


def test_compare_with_given_stimulus_reports_given_seed(rng_seed, rng):
    broken = _broken((("v", 2, 1, 1),), v_threshold=300)
    stim = {"current": rng.integers(-500, 500, size=(6, 2))}
    with pytest.raises(MismatchError) as info:
        ng.sim.compare(broken, stim, seed=rng_seed)
    assert info.value.seed == rng_seed
    assert f"seed={rng_seed};" in str(info.value)
    assert f"[inputs: current={int(stim['current'][2, 1])}]" in str(info.value)


# -- waveforms -------------------------------------------------------------------------------------
def test_pysim_writes_vcd(tmp_path):
    path = tmp_path / "lif.vcd"
    ng.sim.run(ng.component("lif"), {"current": [100] * 5}, "pysim", vcd=str(path))
    text = path.read_text()
    assert "$var" in text
    assert "spike" in text
