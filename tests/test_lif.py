"""``lif``: the bit-true model and gateware against a pure-Python reference written from the spec.

Spec (per step; raw ``data_width``-bit signed ints, ``>>`` arithmetic/floor, products exact)::

    if refr > 0: refr -= 1; v = v_rest; spike = 0                   (inputs ignored)
    else: v_next = fit(v + (((v_rest - v) * leak_k) >> fraction)
                         + ((current * gain_k) >> fraction) + noise)
          if v_next >= v_threshold: spike = 1; v = v_reset; refr = refractory
          else:                     spike = 0; v = v_next
    reset: v = v_rest, refr = 0, spike = 0; fit saturates or wraps; outputs registered (latency 1)
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import neurogate as ng

# Thresholds at the smallest potential are part of the sweeps (the warning has its own test).
pytestmark = pytest.mark.filterwarnings("ignore:lif.v_threshold=.*smallest:UserWarning")


# -- the independent reference ----------------------------------------------------------------
def ref_fit(x: int, dw: int, overflow: str) -> int:
    half = 2 ** (dw - 1)
    if overflow == "wrap":
        return ((x + half) % (2 * half)) - half
    return max(-half, min(half - 1, x))


def ref_lif(p, stim: dict, steps: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (spike, v), each ``(T, n)``, with Python ints straight from the spec."""
    cols = {
        k: np.broadcast_to(np.asarray(a).reshape(steps, -1), (steps, n)).tolist()
        for k, a in stim.items()
    }
    spikes = [[0] * n for _ in range(steps)]
    vs = [[0] * n for _ in range(steps)]
    for i in range(n):
        v, refr = p.v_rest, 0
        for t in range(steps):
            if refr > 0:
                refr -= 1
                v = p.v_rest
                spike = 0
            else:
                leak_k = p.leak_k if p.leak_k is not None else cols["leak_k"][t][i]
                gain_k = p.gain_k if p.gain_k is not None else cols["gain_k"][t][i]
                noise = cols["noise"][t][i] if p.noise else 0
                current = cols["current"][t][i]
                total = (
                    v
                    + (((p.v_rest - v) * leak_k) >> p.fraction)
                    + ((current * gain_k) >> p.fraction)
                    + noise
                )
                v_next = ref_fit(total, p.data_width, p.overflow)
                if v_next >= p.v_threshold:
                    spike, v, refr = 1, p.v_reset, p.refractory
                else:
                    spike, v = 0, v_next
            spikes[t][i] = spike
            vs[t][i] = v
    return np.array(spikes, dtype=np.int64), np.array(vs, dtype=np.int64)


def stimulus(lif, rng, steps: int, n: int) -> dict[str, np.ndarray]:
    """A mixed random stimulus: per instance and port, full-range, small, near-constant or
    positive-biased values, so that both overflow and ordinary integration occur."""
    stim = {}
    for j, (key, port) in enumerate(lif.inputs.items()):
        lo, hi = port.format.min, port.format.max
        small = max(1, 2 ** (port.width // 2))
        cols = []
        for i in range(n):
            mode = (i + j) % 4
            if mode == 0:
                col = rng.integers(lo, hi, size=steps, endpoint=True)
            elif mode == 1:
                col = rng.integers(-small, small, size=steps, endpoint=True)
            elif mode == 2:
                col = int(rng.integers(lo, hi, endpoint=True)) + rng.integers(-3, 3, size=steps)
            else:
                col = rng.integers(0, max(hi >> 2, 1), size=steps, endpoint=True)
            cols.append(np.clip(col, lo, hi))
        stim[key] = np.stack(cols, axis=1).astype(np.int64)
    return stim


def _exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def _check_against_reference(lif, stim, out):
    steps, n = next(iter(stim.values())).shape
    spike, v = ref_lif(lif, stim, steps, n)
    assert out["v"].shape == (steps, n)
    assert out["spike"].shape == (steps, n)
    bad = np.argwhere((out["v"] != v) | (out["spike"] != spike))
    if len(bad):
        t, i = (int(x) for x in bad[0])
        inputs = {k: int(a[t, i]) for k, a in stim.items()}
        raise AssertionError(
            f"{lif!r}: first difference at step {t}, instance {i}, inputs {inputs}: "
            f"got v={int(out['v'][t, i])} spike={int(out['spike'][t, i])}, "
            f"reference v={int(v[t, i])} spike={int(spike[t, i])} ({len(bad)} differing)"
        )


# -- the parameter sweep -------------------------------------------------------------------------
def _sweep() -> list[dict]:
    """Deterministic parameter sets covering the axes of the spec.

    Each (data_width, fraction, overflow) gets one set; the other parameters cycle through
    their menus with co-prime periods so that their combinations vary.
    """
    cases = []
    k = 0
    for dw in (2, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 24, 32):
        half = 2 ** (dw - 1)

        def fit(x, half=half):
            return max(-half, min(half - 1, x))

        for f in sorted({0, 1, dw // 2, min(8, dw), dw}):
            for overflow in ("saturate", "wrap"):
                k += 1
                unity = 2**f
                leak = [None, max(1, unity // 16), -(unity // 8) - 1, half - 1, -half, 0, unity]
                gain = [None, unity, half - 1, -half, 3]
                v_rest = fit([0, half // 4, -(half // 3)][k % 3])
                v_reset = fit([0, -(half // 2), half // 5, v_rest][(k // 3) % 4])
                th = [half - 1, half // 2, -half, 1, half - 2, half // 8][(k // 5) % 6]
                leak_k = leak[k % 7]
                gain_k = gain[k % 5]
                cases.append(
                    {
                        "data_width": dw,
                        "fraction": f,
                        "overflow": overflow,
                        "leak_k": None if leak_k is None else fit(leak_k),
                        "gain_k": None if gain_k is None else fit(gain_k),
                        "noise": bool((k // 2) % 2),
                        "refractory": (k // 4) % 4,
                        "v_rest": v_rest,
                        "v_reset": v_reset,
                        "v_threshold": fit(th),
                    }
                )
    return cases


EXTRA_CASES = [
    # SC-NeuroCore-compatible configuration.
    {"overflow": "wrap", "leak_k": None, "gain_k": None, "noise": True},
    {},  # defaults
    {"data_width": 32, "fraction": 32, "v_threshold": 2**31 - 1, "leak_k": 5, "gain_k": -7},
    {"data_width": 32, "fraction": 16, "overflow": "wrap", "leak_k": None, "gain_k": None},
    {"data_width": 32, "fraction": 31, "leak_k": None, "gain_k": None, "noise": True},
    {"data_width": 16, "fraction": 16, "overflow": "wrap", "v_rest": -30000, "leak_k": -32768},
    {"data_width": 12, "fraction": 3, "refractory": 3, "v_threshold": -2048, "v_rest": 100},
]


def _case_id(params: dict) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # thresholds at the minimum are swept
        p = ng.component("lif", **params)
    leak = "port" if p.leak_k is None else p.leak_k
    gain = "port" if p.gain_k is None else p.gain_k
    return (
        f"dw{p.data_width}-f{p.fraction}-{p.overflow}-leak{leak}-gain{gain}"
        f"-{'noise' if p.noise else 'quiet'}-r{p.refractory}"
        f"-rest{p.v_rest}-reset{p.v_reset}-th{p.v_threshold}"
    )


#: Instances for "population" runs (a fast model may step few instances differently).
WIDE_N = 16

SWEEP = _sweep() + EXTRA_CASES
# A representative third of the sweep (every width and both policies) for the slower pysim.
PYSIM_SWEEP = _sweep()[::3] + EXTRA_CASES


def test_sweep_covers_the_axes():
    assert len(SWEEP) > 100
    assert len(set(map(_case_id, SWEEP))) == len(SWEEP)
    for cases in (SWEEP, PYSIM_SWEEP):
        assert {c.get("data_width", 16) for c in cases} >= {2, 4, *range(8, 17), 24, 32}
        assert {c.get("overflow", "saturate") for c in cases} == {"saturate", "wrap"}
        assert {c.get("refractory", 0) for c in cases} == {0, 1, 2, 3}
        assert {c.get("noise", False) for c in cases} == {True, False}
        for key in ("leak_k", "gain_k"):
            for policy in ("saturate", "wrap"):
                kinds = {c.get(key, 0) is None for c in cases if c.get("overflow") == policy}
                assert kinds == {True, False}, (key, policy)


@pytest.mark.parametrize("params", SWEEP, ids=_case_id)
def test_model_matches_reference(rng, params):
    lif = ng.component("lif", **params)
    # A few instances and a population: a fast model may take different paths for each.
    for n in (2, WIDE_N):
        stim = stimulus(lif, rng, steps=300, n=n)
        _check_against_reference(lif, stim, lif.model(n=n).run(stim))


@pytest.mark.parametrize("params", SWEEP[::16] + EXTRA_CASES[:3], ids=_case_id)
def test_model_matches_reference_large_population_long_run(rng, params):
    lif = ng.component("lif", **params)
    stim = stimulus(lif, rng, steps=700, n=160)
    _check_against_reference(lif, stim, lif.model(n=160).run(stim))


@pytest.mark.parametrize("params", PYSIM_SWEEP, ids=_case_id)
def test_compare_model_pysim(rng_seed, rng, params):
    lif = ng.component("lif", **params)
    stim = stimulus(lif, rng, steps=300, n=3)
    result = ng.sim.compare(lif, stim, seed=rng_seed)
    assert result.backends == ("model", "pysim")
    assert result.steps == 300


@pytest.mark.parametrize("params", SWEEP[1::12] + EXTRA_CASES[:2], ids=_case_id)
def test_compare_model_pysim_population(rng_seed, rng, params):
    lif = ng.component("lif", **params)
    stim = stimulus(lif, rng, steps=80, n=WIDE_N)
    ng.sim.compare(lif, stim, seed=rng_seed)


@pytest.mark.parametrize(
    "params",
    [{"data_width": 16}, {"overflow": "wrap", "leak_k": None, "gain_k": None, "noise": True}],
    ids=_case_id,
)
def test_compare_model_pysim_uniform_inputs(rng_seed, params):
    lif = ng.component("lif", **params)
    result = ng.sim.compare(lif, steps=300, n=3, seed=rng_seed)
    assert result.seed == rng_seed


# -- wide wrap-mode parameters: the model must not overflow its own integer type ------------------
WRAP_WIDE = [
    c | {"overflow": "wrap", "v_threshold": 2 ** (c["data_width"] - 1) - 1}
    for c in (
        # v_rest * leak_k does not fit 32 bits although data_width + fraction <= 32.
        {"data_width": 17, "fraction": 15, "v_rest": 65535, "leak_k": -65536},
        {"data_width": 24, "fraction": 8, "v_rest": 2**22, "leak_k": 2**22},
        {"data_width": 32, "fraction": 0, "v_rest": 100000, "leak_k": 100000},
        # 2**fraction - leak_k = 2**31 + 1 does not fit int32.
        {"data_width": 32, "fraction": 0, "leak_k": -(2**31)},
    )
]


@pytest.mark.parametrize("params", WRAP_WIDE, ids=_case_id)
def test_model_wrap_wide_constants_match_reference(rng, params):
    lif = ng.component("lif", **params)
    for n in (3, WIDE_N):
        stim = stimulus(lif, rng, steps=100, n=n)
        _check_against_reference(lif, stim, lif.model(n=n).run(stim))


@pytest.mark.parametrize("params", WRAP_WIDE, ids=_case_id)
def test_pysim_wrap_wide_constants_match_reference(rng, params):
    lif = ng.component("lif", **params)
    stim = stimulus(lif, rng, steps=100, n=2)
    _check_against_reference(lif, stim, ng.sim.run(lif, stim, "pysim"))


# -- hand-computed vectors -----------------------------------------------------------------------
def _runs(lif, stim_1d: dict) -> dict[str, dict[str, np.ndarray]]:
    """Run a (T,) stimulus on pysim, on the model for one instance and on the model for
    ``WIDE_N`` instances (every column reported on its own); check each against the reference.
    """
    outs = {b: ng.sim.run(lif, stim_1d, b) for b in ("model", "pysim")}
    wide = ng.sim.run(lif, stim_1d, "model", n=WIDE_N)
    for i in range(WIDE_N):
        outs[f"model[{i} of {WIDE_N}]"] = {k: a[:, i : i + 1] for k, a in wide.items()}
    for out in outs.values():
        _check_against_reference(lif, {k: np.asarray(a)[:, None] for k, a in stim_1d.items()}, out)
    return outs


def _both(lif, current, **extra):
    """Return the distinct ``(v, spike)`` traces of every run of :func:`_runs`."""
    stim = {"current": np.asarray(current), **{k: np.asarray(v) for k, v in extra.items()}}
    outs = _runs(lif, stim).values()
    traces = [(o["v"][:, 0].tolist(), o["spike"][:, 0].tolist()) for o in outs]
    return [t for i, t in enumerate(traces) if t not in traces[:i]]


def test_hand_vector_basic():
    # fraction 8, v_rest 0, leak_k 16, gain_k 256, current 100 (drive = 100*256 >> 8 = 100):
    #   0 + ((0 - 0)*16 >> 8 = 0) + 100 = 100
    #   100 + ((0 - 100)*16 = -1600 >> 8 = floor(-6.25) = -7) + 100 = 193
    #   193 + (-3088 >> 8 = floor(-12.06) = -13) + 100 = 280
    #   280 + (-4480 >> 8 = floor(-17.5) = -18) + 100 = 362 >= 300: spike, v = v_reset = 0
    #   then 100, 193 again.
    lif = ng.component("lif", v_threshold=300, leak_k=16, gain_k=256)
    expected = ([100, 193, 280, 0, 100, 193], [0, 0, 0, 1, 0, 0])
    assert _both(lif, [100] * 6) == [expected]


def test_hand_vector_refractory():
    # As above with refractory=2: after the spike, two steps clamped at v_rest = 0.
    lif = ng.component("lif", v_threshold=300, leak_k=16, gain_k=256, refractory=2)
    expected = ([100, 193, 280, 0, 0, 0, 100, 193], [0, 0, 0, 1, 0, 0, 0, 0])
    assert _both(lif, [100] * 8) == [expected]


def test_hand_vector_rest_reset():
    # v_rest 50, v_reset -20, leak_k 64 (1/4), gain_k 128 (1/2), current 120 -> drive 60:
    #   50 + ((50-50)*64 >> 8 = 0) + 60 = 110
    #   110 + (-60*64 = -3840 >> 8 = -15) + 60 = 155
    #   155 + (-105*64 = -6720 >> 8 = floor(-26.25) = -27) + 60 = 188
    #   188 + (-138*64 = -8832 >> 8 = floor(-34.5) = -35) + 60 = 213 >= 200: spike, v = -20
    #   refractory 1: v = v_rest = 50; then 50 + 0 + 60 = 110.
    lif = ng.component(
        "lif", v_rest=50, v_reset=-20, leak_k=64, gain_k=128, v_threshold=200, refractory=1
    )
    expected = ([110, 155, 188, -20, 50, 110], [0, 0, 0, 1, 0, 0])
    assert _both(lif, [120] * 6) == [expected]


def test_hand_vector_floor_shift():
    # fraction 2, leak_k 1, gain_k 3, current -3: drive = -9 >> 2 = floor(-2.25) = -3
    # (truncation toward zero would give -2):
    #   0 + 0 - 3 = -3;  -3 + (3 >> 2 = 0) - 3 = -6;  -6 + (6 >> 2 = 1) - 3 = -8;
    #   -8 + 2 - 3 = -9;  -9 + 2 - 3 = -10;  -10 + 2 - 3 = -11;  -11 + 2 - 3 = -12;
    #   -12 + (12 >> 2 = 3) - 3 = -12 (fixed point).
    lif = ng.component("lif", fraction=2, leak_k=1, gain_k=3, v_threshold=100)
    expected = ([-3, -6, -8, -9, -10, -11, -12, -12], [0] * 8)
    assert _both(lif, [-3] * 8) == [expected]


def test_saturate_and_wrap_differ_at_large_currents():
    # data_width 8, fraction 0, leak_k 0, gain_k 1, v_threshold 127, current 100:
    #   saturate: 100; 200 -> 127 >= 127: spike, v = 0; 100; spike ...
    #   wrap:     100; 200 -> -56; 44; 144 -> -112; -12; 88; 188 -> -68 (never >= 127)
    params = {"data_width": 8, "fraction": 0, "leak_k": 0, "gain_k": 1, "v_threshold": 127}
    sat = ng.component("lif", **params)
    wrap = ng.component("lif", overflow="wrap", **params)
    sat_expected = ([100, 0, 100, 0, 100, 0, 100], [0, 1, 0, 1, 0, 1, 0])
    wrap_expected = ([100, -56, 44, -112, -12, 88, -68], [0] * 7)
    assert _both(sat, [100] * 7) == [sat_expected]
    assert _both(wrap, [100] * 7) == [wrap_expected]
    # Negative: saturate pins at -128; wrap: -100; -200 -> 56; -44; -144 -> 112; 12; -88.
    sat_neg = ([-100, -128, -128, -128, -128, -128], [0] * 6)
    wrap_neg = ([-100, 56, -44, 112, 12, -88], [0] * 6)
    assert _both(sat, [-100] * 6) == [sat_neg]
    assert _both(wrap, [-100] * 6) == [wrap_neg]


def test_saturate_and_wrap_random_large_currents(rng):
    params = {"data_width": 10, "fraction": 4, "leak_k": 3, "gain_k": 200, "v_threshold": 500}
    current = rng.integers(-512, 511, size=(200, WIDE_N), endpoint=True)
    outs = {}
    for overflow in ("saturate", "wrap"):
        lif = ng.component("lif", overflow=overflow, **params)
        stim = {"current": current}
        for backend in ("model", "pysim"):
            out = ng.sim.run(lif, stim, backend)
            _check_against_reference(lif, stim, out)
        outs[overflow] = out["v"]
    assert not np.array_equal(outs["saturate"], outs["wrap"])


# -- refractory period -----------------------------------------------------------------------------
def test_refractory_clamps_and_ignores_inputs(rng):
    # Integrating steps always spike (current 1000 at unity gain is far above 100), so the
    # pattern is spike, 3 clamped steps, spike, ...
    lif = ng.component(
        "lif",
        v_threshold=100,
        leak_k=0,
        gain_k=256,
        refractory=3,
        v_rest=7,
        v_reset=-3,
        noise=True,
    )
    steps = 13
    current = np.full(steps, 1000)
    noise = np.zeros(steps, dtype=np.int64)
    expected_v = [-3, 7, 7, 7] * 3 + [-3]
    expected_spike = [1, 0, 0, 0] * 3 + [1]
    # During the refractory steps, any input (huge or very negative) is ignored.
    refr_steps = [t for t in range(steps) if t % 4]
    wild = current.copy()
    wild[refr_steps] = rng.integers(-32768, 32767, size=len(refr_steps), endpoint=True)
    wild_noise = noise.copy()
    wild_noise[refr_steps] = rng.integers(-32768, 32767, size=len(refr_steps), endpoint=True)
    for cur, nz in ((current, noise), (wild, wild_noise)):
        for label, out in _runs(lif, {"current": cur, "noise": nz}).items():
            assert out["v"][:, 0].tolist() == expected_v, label
            assert out["spike"][:, 0].tolist() == expected_spike, label


def test_refractory_holds_even_when_v_rest_is_above_threshold():
    # v_threshold below everything: every integrating step spikes; refractory steps never do.
    lif = ng.component("lif", v_threshold=-32768, refractory=2, v_rest=5, v_reset=9)
    for label, out in _runs(lif, {"current": np.zeros(7, dtype=np.int64)}).items():
        assert out["spike"][:, 0].tolist() == [1, 0, 0, 1, 0, 0, 1], label
        assert out["v"][:, 0].tolist() == [9, 5, 5, 9, 5, 5, 9], label


@pytest.mark.parametrize("refractory", [0, 1, 2, 3, 7])
def test_refractory_periods_match_reference(rng, refractory):
    lif = ng.component("lif", refractory=refractory, v_threshold=200, leak_k=20, v_rest=-40)
    for n in (3, WIDE_N):
        stim = {"current": rng.integers(-100, 400, size=(200, n))}
        _check_against_reference(lif, stim, lif.model(n=n).run(stim))
        _check_against_reference(lif, stim, ng.sim.run(lif, stim, "pysim"))


# -- state across runs ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"refractory": 2, "v_threshold": 300, "v_rest": -12, "v_reset": 40},
        {"overflow": "wrap", "leak_k": None, "gain_k": None, "noise": True, "refractory": 1},
        {"data_width": 32, "fraction": 32, "v_threshold": 2**30, "refractory": 3, "gain_k": -9},
    ],
    ids=_case_id,
)
@pytest.mark.parametrize("n", [4, WIDE_N])
def test_model_continues_across_runs(rng, params, n):
    lif = ng.component("lif", **params)
    stim = stimulus(lif, rng, steps=120, n=n)
    whole = lif.model(n=n).run(stim)
    _check_against_reference(lif, stim, whole)
    model = lif.model(n=n)
    parts = [
        model.run({k: a[lo:hi] for k, a in stim.items()})
        for lo, hi in [(0, 50), (50, 50), (50, 51), (51, 120)]
    ]
    for port in ("spike", "v"):
        np.testing.assert_array_equal(np.concatenate([p[port] for p in parts]), whole[port])
    model.reset()
    np.testing.assert_array_equal(
        model.run({k: a[:50] for k, a in stim.items()})["v"], whole["v"][:50]
    )


# -- ports, latency, parameters ------------------------------------------------------------------
def _port_table(lif):
    return {k: (p.direction, p.width, p.signed) for k, p in lif.ports.items()}


def test_default_ports_and_latency():
    lif = ng.component("lif")
    assert (lif.kind, lif.latency) == ("neuron", 1)
    assert _port_table(lif) == {
        "current": ("in", 16, True),
        "spike": ("out", 1, False),
        "v": ("out", 16, True),
    }


@pytest.mark.parametrize("dw", [8, 16, 32])
def test_runtime_parameter_ports(dw):
    lif = ng.component("lif", data_width=dw, leak_k=None, gain_k=None, noise=True, v_threshold=100)
    assert _port_table(lif) == {
        "current": ("in", dw, True),
        "leak_k": ("in", dw, True),
        "gain_k": ("in", dw, True),
        "noise": ("in", dw, True),
        "spike": ("out", 1, False),
        "v": ("out", dw, True),
    }
    only_gain = ng.component("lif", data_width=dw, gain_k=None, v_threshold=100, leak_k=1)
    assert list(only_gain.inputs) == ["current", "gain_k"]
    assert only_gain.inputs["gain_k"].shape == lif.inputs["gain_k"].shape


def test_sc_neurocore_configuration(rng_seed):
    lif = ng.component("lif", overflow="wrap", leak_k=None, gain_k=None, noise=True)
    assert set(lif.inputs) == {"current", "leak_k", "gain_k", "noise"}
    assert all(p.signed and p.width == 16 for p in lif.inputs.values())
    ng.sim.compare(lif, steps=200, n=2, seed=rng_seed)


def _names():
    return (
        "data_width, fraction, v_rest, v_reset, v_threshold, refractory, leak_k, gain_k, "
        "noise, overflow"
    )


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        (
            {"data_width": 8, "v_threshold": 100},
            ValueError,
            "lif.gain_k must fit signed 8-bit [-128, 127], not 256",
        ),
        (
            {"data_width": 8, "v_threshold": 100, "gain_k": 100, "leak_k": -129},
            ValueError,
            "lif.leak_k must fit signed 8-bit [-128, 127], not -129",
        ),
        (
            {"v_threshold": 32768},
            ValueError,
            "lif.v_threshold must fit signed 16-bit [-32768, 32767], not 32768",
        ),
        (
            {"v_rest": -32769},
            ValueError,
            "lif.v_rest must fit signed 16-bit [-32768, 32767], not -32769",
        ),
        (
            {"v_reset": 2**20},
            ValueError,
            "lif.v_reset must fit signed 16-bit [-32768, 32767], not 1048576",
        ),
        (
            {"data_width": 8, "fraction": 9},
            ValueError,
            "lif.fraction must be an int in 0..8 (data_width), not 9",
        ),
        ({"fraction": 33}, ValueError, "lif.fraction must be an int in 0..32, not 33"),
        ({"fraction": -1}, ValueError, "lif.fraction must be an int in 0..32, not -1"),
        ({"data_width": 1}, ValueError, "lif.data_width must be an int in 2..32, not 1"),
        ({"data_width": 33}, ValueError, "lif.data_width must be an int in 2..32, not 33"),
        ({"data_width": 16.0}, TypeError, "lif.data_width must be an int, not 16.0"),
        ({"refractory": -1}, ValueError, "lif.refractory must be an int in 0..65535, not -1"),
        ({"refractory": 65536}, ValueError, "lif.refractory must be an int in 0..65535, not 65536"),
        ({"refractory": True}, TypeError, "lif.refractory must be an int, not True"),
        ({"leak_k": 1.5}, TypeError, "lif.leak_k must be None or an int, not 1.5"),
        ({"gain_k": "256"}, TypeError, "lif.gain_k must be None or an int, not '256'"),
        ({"v_threshold": None}, TypeError, "lif.v_threshold must be an int, not None"),
        ({"noise": 1}, TypeError, "lif.noise must be a bool, not 1"),
        ({"noise": None}, TypeError, "lif.noise must be a bool, not None"),
        (
            {"overflow": "clip"},
            ValueError,
            "lif.overflow must be one of 'saturate', 'wrap', not 'clip'",
        ),
        (
            {"overflow": None},
            ValueError,
            "lif.overflow must be one of 'saturate', 'wrap', not None",
        ),
        ({"foo": 1}, TypeError, f"lif has no parameter 'foo'; its parameters are: {_names()}"),
    ],
    ids=repr,
)
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=_exact(msg)):
        ng.component("lif", **params)


def test_frozen_and_replace():
    lif = ng.component("lif", v_threshold=300)
    msg = "lif parameters are frozen; use .replace(v_threshold=...) to make a changed copy"
    with pytest.raises(AttributeError, match=_exact(msg)):
        lif.v_threshold = 5
    with pytest.raises(AttributeError, match=_exact("lif parameters are frozen")):
        lif.foo = 1
    assert lif.v_threshold == 300
    changed = lif.replace(v_threshold=5)
    assert (changed.v_threshold, lif.v_threshold) == (5, 300)
    assert changed != lif
    assert lif.replace(v_threshold=300) == lif
    with pytest.raises(
        ValueError, match=_exact("lif.fraction must be an int in 0..4 (data_width), not 8")
    ):
        lif.replace(data_width=4)


def test_numpy_ints_accepted():
    lif = ng.component("lif", data_width=np.int64(12), v_threshold=np.int16(100), leak_k=np.int8(3))
    assert (lif.data_width, lif.v_threshold, lif.leak_k) == (12, 100, 3)
    assert all(type(v) is int for v in (lif.data_width, lif.v_threshold, lif.leak_k))


def test_threshold_always_reached_warns():
    msg = (
        "lif.v_threshold=-128 is the smallest 8-bit potential: the neuron spikes on every step "
        "it is not refractory"
    )
    with pytest.warns(UserWarning, match=_exact(msg)) as record:
        lif = ng.component("lif", data_width=8, fraction=4, v_threshold=-128, leak_k=1, gain_k=16)
    assert record[0].filename == __file__  # points at the caller, not at neurogate
    out = lif.model(n=1).run({"current": [0, -100, 50]})
    assert out["spike"][:, 0].tolist() == [1, 1, 1]
