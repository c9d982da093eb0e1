"""Temporal spike encoders against hand-computed trains and pure-Python references.

Each reference below is a per-step loop over plain ints written from the component's module
docstring, not from its code. The models are checked against the references over random
stimuli (held runs, per-step noise, the edge values 0 and full scale) and parameter sweeps,
split into several ``run()`` calls; the gateware is checked against the model in pysim.
"""

from __future__ import annotations

import re
from fractions import Fraction
from itertools import pairwise

import numpy as np
import pytest

import neurogate as ng
from neurogate.plugins.encoders.lfsr import MAXIMAL_TAPS

ENCODERS = ("rate", "latency", "delta", "sigma_delta", "phase", "burst", "rank_order")


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


# -- pure-Python references, one instance, straight from the docstrings ----------------------------
def ref_rate(width, xs):
    acc, out = 0, []
    for x in xs:
        s = acc + x
        out.append(int(s >= 2**width))
        acc = s % 2**width
    return {"spike": out}


def ref_lfsr_states(width, seed, count):
    taps, s, out = MAXIMAL_TAPS[width], seed, []
    for _ in range(count):
        out.append(s)
        fb = 0
        for t in taps:
            fb ^= (s >> (t - 1)) & 1
        s = ((s << 1) & (2**width - 1)) | fb
    return out


def ref_rate_stochastic(width, seed, xs):
    states = ref_lfsr_states(width, seed, len(xs))
    return {"spike": [int(s <= x) for s, x in zip(states, xs, strict=True)]}


def ref_sigma_delta(width, bipolar, xs):
    e, out = 0, []
    for x in xs:
        u = x + 2 ** (width - 1) if bipolar else x
        s = e + u
        spike = int(s >= 2 ** (width - 1))
        e = s - spike * 2**width
        assert -(2 ** (width - 1)) <= e < 2 ** (width - 1)
        out.append(spike)
    return {"spike": out}


def ref_latency(width, window, zero_spikes, xs):
    full, out, sampled = 2**width - 1, [], None
    for t, x in enumerate(xs):
        k = t % window
        if k == 0:
            sampled = x
        phase = (full - sampled) * window // 2**width
        out.append(int(k == phase and (sampled != 0 or zero_spikes)))
    return {"spike": out}


def ref_delta(width, threshold, xs):
    r, up, down, ref = 0, [], [], []
    for x in xs:
        u = d = 0
        if x - r >= threshold:
            u, r = 1, r + threshold
        elif r - x >= threshold:
            d, r = 1, r - threshold
        assert 0 <= r < 2**width
        up.append(u)
        down.append(d)
        ref.append(r)
    return {"up": up, "down": down, "ref": ref}


def ref_phase(width, phases, xs):
    out, sampled = [], None
    for t, x in enumerate(xs):
        k = t % phases
        if k == 0:
            sampled = x
        out.append((sampled >> (width - 1 - k)) & 1)
    return {"spike": out}


def ref_burst(width, window, max_burst, isi, xs):
    full, out, n = 2**width - 1, [], None
    for t, x in enumerate(xs):
        k = t % window
        if k == 0:
            exact_len = Fraction(x * max_burst, full)
            n = int(exact_len + Fraction(1, 2))  # nearest (never a tie)
            assert abs(n - exact_len) < Fraction(1, 2)
        out.append(int(k % isi == 0 and k // isi < n))
    return {"spike": out}


def ref_rank_order(n_inputs, window, xs):
    """``xs``: a list of per-step tuples of the ``n_inputs`` values."""
    out = {f"s{i}": [] for i in range(n_inputs)}
    for t, row in enumerate(xs):
        k = t % window
        if k == 0:
            order = sorted(range(n_inputs), key=lambda i: (-row[i], i))
            rank = {i: order.index(i) for i in range(n_inputs)}
        for i in range(n_inputs):
            out[f"s{i}"].append(int(rank[i] == k))
    return out


def reference(comp, stim):
    """The reference outputs of ``comp`` for a ``(T, n)`` stimulus, as ``(T, n)`` arrays."""
    p = comp.params
    n = next(iter(stim.values())).shape[1]
    per_instance = []
    for j in range(n):
        if comp.name == "rank_order":
            columns = [stim[f"x{i}"][:, j].tolist() for i in range(p["n_inputs"])]
            xs = list(zip(*columns, strict=True))
            per_instance.append(ref_rank_order(p["n_inputs"], p["window"], xs))
            continue
        xs = stim["x"][:, j].tolist()
        if comp.name == "rate" and p["stochastic"]:
            per_instance.append(ref_rate_stochastic(p["width"], p["seed"], xs))
        elif comp.name == "rate":
            per_instance.append(ref_rate(p["width"], xs))
        elif comp.name == "sigma_delta":
            per_instance.append(ref_sigma_delta(p["width"], p["bipolar"], xs))
        elif comp.name == "latency":
            per_instance.append(ref_latency(p["width"], p["window"], p["zero_spikes"], xs))
        elif comp.name == "delta":
            per_instance.append(ref_delta(p["width"], p["threshold"], xs))
        elif comp.name == "phase":
            per_instance.append(ref_phase(p["width"], p["phases"], xs))
        elif comp.name == "burst":
            args = (p["width"], p["window"], p["max_burst"], p["isi"])
            per_instance.append(ref_burst(*args, xs))
    return {
        key: np.array([r[key] for r in per_instance], dtype=np.int64).T for key in per_instance[0]
    }


# -- stimuli ---------------------------------------------------------------------------------------
def stimulus(rng, comp, steps, n):
    """Random stimuli per input port: held runs (some at 0 or full scale) and per-step noise."""
    stim = {}
    for key, port in comp.inputs.items():
        lo, hi = port.format.min, port.format.max
        x = np.empty((steps, n), dtype=np.int64)
        for j in range(n):
            t = 0
            while t < steps:
                run = int(rng.integers(1, 40))
                kind = rng.integers(5)
                if kind == 0:
                    x[t : t + run, j] = rng.integers(
                        lo, hi, size=len(x[t : t + run]), endpoint=True
                    )
                else:
                    x[t : t + run, j] = rng.choice([lo, hi, int(rng.integers(lo, hi + 1))])
                t += run
        stim[key] = x
    return stim


def run_split(comp, stim, rng, n):
    """Run the model on ``stim`` in a few ``run()`` calls (including an empty one)."""
    steps = next(iter(stim.values())).shape[0]
    cuts = sorted({0, steps, *rng.integers(0, steps + 1, size=4).tolist()})
    model = comp.model(n)
    parts = [model.run({k: v[a:b] for k, v in stim.items()}) for a, b in pairwise(cuts)]
    model.run({k: v[:0] for k, v in stim.items()})
    return {key: np.concatenate([p[key] for p in parts]) for key in comp.outputs}


# Parameter sweeps for the model-vs-reference checks (including the extremes of each range).
SWEEP = {
    "rate": [
        {"width": 1}, {"width": 3}, {"width": 8}, {"width": 32},
        {"width": 3, "stochastic": True}, {"width": 5, "stochastic": True, "seed": 19},
        {"width": 16, "stochastic": True}, {"width": 32, "stochastic": True, "seed": 2**32 - 1},
    ],
    "sigma_delta": [
        {"width": 1}, {"width": 2}, {"width": 8}, {"width": 32},
        {"width": 1, "bipolar": True}, {"width": 5, "bipolar": True},
        {"width": 32, "bipolar": True},
    ],
    "latency": [
        {"width": 1, "window": 1}, {"width": 1, "window": 3}, {"width": 4, "window": 4},
        {"width": 4, "window": 5, "zero_spikes": True}, {"width": 3, "window": 20},
        {"width": 8}, {"width": 32, "window": 7, "zero_spikes": True},
        {"width": 2, "window": 65536},
    ],
    "delta": [
        {"width": 1, "threshold": 1}, {"width": 4, "threshold": 1}, {"width": 4, "threshold": 5},
        {"width": 4, "threshold": 15}, {"width": 8}, {"width": 32, "threshold": 12345},
    ],
    "phase": [
        {"width": 1}, {"width": 4}, {"width": 5, "phases": 2}, {"width": 8, "phases": 1},
        {"width": 32}, {"width": 32, "phases": 7},
    ],
    "burst": [
        {"width": 1, "window": 1, "max_burst": 1, "isi": 1},
        {"width": 1, "window": 9, "max_burst": 3, "isi": 3},
        {"width": 3, "window": 7, "max_burst": 7, "isi": 1},
        {"width": 4, "window": 10, "max_burst": 2, "isi": 4},
        {"width": 8},
        {"width": 32, "window": 11, "max_burst": 5, "isi": 2},
        {"width": 2, "window": 3, "max_burst": 1, "isi": 7},
    ],
    "rank_order": [
        {"n_inputs": 1}, {"n_inputs": 1, "window": 3}, {"n_inputs": 2, "width": 1},
        {"n_inputs": 4}, {"n_inputs": 5, "width": 2, "window": 9},
        {"n_inputs": 8, "width": 32, "window": 8},
    ],
}  # fmt: skip
SWEEP_CASES = [(name, params) for name, sets in SWEEP.items() for params in sets]


def _case_id(case):
    name, params = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in params.items())


# -- known answers, by hand ------------------------------------------------------------------------
def run_both(comp, stim):
    """Run model and pysim on a 1-instance stimulus; return the model's outputs as lists."""
    stim = {k: np.asarray(v)[:, None] for k, v in stim.items()}
    outs = [ng.sim.run(comp, stim, backend) for backend in ("model", "pysim")]
    for key in comp.outputs:
        np.testing.assert_array_equal(outs[0][key], outs[1][key], err_msg=key)
    return {key: outs[0][key][:, 0].tolist() for key in comp.outputs}


def test_rate_known_answers():
    enc = ng.component("rate", width=2)  # spikes on the carry out of a 2-bit accumulator
    assert run_both(enc, {"x": [1] * 8})["spike"] == [0, 0, 0, 1, 0, 0, 0, 1]
    assert run_both(enc, {"x": [2] * 4})["spike"] == [0, 1, 0, 1]
    assert run_both(enc, {"x": [0] * 6})["spike"] == [0] * 6
    # full scale: all but one step in each 4 (steps 0, 4, 8)
    assert run_both(enc, {"x": [3] * 9})["spike"] == [0, 1, 1, 1, 0, 1, 1, 1, 0]
    # x changes every step: acc 3, 6 -> carry, 2, 3
    assert run_both(enc, {"x": [3, 3, 0, 1]})["spike"] == [0, 1, 0, 0]


def test_rate_stochastic_known_answers():
    # width 4, taps (4, 3), seed 1; by hand the states are
    # 1 2 4 9 3 6 13 10 5 11 7 15 14 12 8 (then 1 again), and spike = s <= x.
    enc = ng.component("rate", width=4, stochastic=True, seed=1)
    assert enc.taps == (4, 3)
    assert run_both(enc, {"x": [5] * 15})["spike"] == [1, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert run_both(enc, {"x": [15] * 16})["spike"] == [1] * 16
    assert run_both(enc, {"x": [0] * 16})["spike"] == [0] * 16
    assert run_both(enc, {"x": [1, 1, 4, 8, 2]})["spike"] == [1, 0, 1, 0, 0]


def test_sigma_delta_known_answers():
    sd = ng.component("sigma_delta", width=2)  # threshold 2, feedback 4, e_0 = 0
    # x = 1: s = 1, 2 (spike, e = -2), -1, 0, 1, 2 (spike), ...
    assert run_both(sd, {"x": [1] * 8})["spike"] == [0, 1, 0, 0, 0, 1, 0, 0]
    # full scale: s = 3 (e = -1), 2 (e = -2), 1 (no spike, e = 1), 4 (e = 0): misses step 2
    assert run_both(sd, {"x": [3] * 8})["spike"] == [1, 1, 0, 1, 1, 1, 0, 1]
    assert run_both(sd, {"x": [0] * 5})["spike"] == [0] * 5
    bi = ng.component("sigma_delta", width=2, bipolar=True)  # u = x + 2
    assert run_both(bi, {"x": [-2, -1, 0, 1]})["spike"] == [0, 0, 1, 1]
    assert run_both(bi, {"x": [0] * 6})["spike"] == [1, 0, 1, 0, 1, 0]
    assert run_both(bi, {"x": [-2] * 4})["spike"] == [0] * 4


def test_latency_known_answers():
    # width 3, window 4: phase = (7 - x) * 4 // 8, i.e. x = 7, 6 -> 0; 5, 4 -> 1; 3, 2 -> 2;
    # 1, 0 -> 3. Windows sample 6, 3, 0, 1; the later steps of a window are ignored.
    enc = ng.component("latency", width=3, window=4)
    x = [6, 0, 0, 0, 3, 7, 7, 7, 0, 7, 7, 7, 1, 0, 0, 0]
    silent = [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert run_both(enc, {"x": x})["spike"] == silent
    zero = enc.replace(zero_spikes=True)
    assert run_both(zero, {"x": x})["spike"] == [*silent[:11], 1, *silent[12:]]
    # window 5: x = 0 -> 35 // 8 = 4 (the last step), x = 1 -> 30 // 8 = 3, full scale -> 0
    enc5 = ng.component("latency", width=3, window=5, zero_spikes=True)
    assert run_both(enc5, {"x": [0] * 5 + [1] * 5 + [7] * 5})["spike"] == [
        0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0,
    ]  # fmt: skip
    # window 10 > 2**width: x = 0 -> 70 // 8 = 8, phase 9 is never used
    enc10 = ng.component("latency", width=3, window=10, zero_spikes=True)
    assert run_both(enc10, {"x": [0] * 10})["spike"] == [0] * 8 + [1, 0]


def test_delta_known_answers():
    enc = ng.component("delta", width=3, threshold=3)
    out = run_both(enc, {"x": [7, 7, 7, 7, 0, 0, 0, 2]})
    # full scale from reset: floor(7 / 3) = 2 ups; then down twice to 0; 2 is inside the band
    assert out["up"] == [1, 1, 0, 0, 0, 0, 0, 0]
    assert out["down"] == [0, 0, 0, 0, 1, 1, 0, 0]
    assert out["ref"] == [3, 6, 6, 6, 3, 0, 0, 0]
    out = run_both(enc, {"x": [0, 0, 2, 3, 4, 1]})
    assert (out["up"], out["down"], out["ref"]) == (
        [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 3, 3, 3]
    )  # fmt: skip


def test_phase_known_answers():
    enc = ng.component("phase", width=3)  # window of 3 phases, weights 4 2 1
    x = [5, 0, 0, 7, 0, 0, 0, 7, 7, 2, 7, 7]  # sampled 5, 7, 0, 2
    assert run_both(enc, {"x": x})["spike"] == [1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0]
    top2 = ng.component("phase", width=3, phases=2)  # bits 2 and 1 only
    assert run_both(top2, {"x": [6, 0, 1, 7, 3, 0]})["spike"] == [1, 1, 0, 0, 0, 1]


def test_burst_known_answers():
    # width 2, max_burst 3: n = round(x * 3 / 3) = x; spikes at phases 0, 2, 4
    enc = ng.component("burst", width=2, window=6, max_burst=3, isi=2)
    x = [3] * 6 + [2, 0, 0, 0, 0, 0] + [1, 3, 3, 3, 3, 3] + [0] * 6
    assert run_both(enc, {"x": x})["spike"] == [
        1, 0, 1, 0, 1, 0,  1, 0, 1, 0, 0, 0,  1, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0,
    ]  # fmt: skip
    # width 3, max_burst 2: n = round(2x / 7): x = 1 -> 0, 2 -> 1, 5 -> 1, 6 -> 2, 7 -> 2
    enc = ng.component("burst", width=3, window=2, max_burst=2, isi=1)
    out = run_both(enc, {"x": np.repeat([1, 2, 5, 6, 7], 2)})["spike"]
    assert out == [0, 0, 1, 0, 1, 0, 1, 1, 1, 1]


def test_rank_order_known_answers():
    enc = ng.component("rank_order", n_inputs=3, width=2)  # window defaults to 3
    assert enc.window == 3
    stim = {  # windows sample (2, 3, 2), (0, 0, 0), (3, 0, 3)
        "x0": [2, 0, 0, 0, 3, 3, 3, 1, 1],
        "x1": [3, 0, 0, 0, 3, 3, 0, 2, 2],
        "x2": [2, 0, 0, 0, 3, 3, 3, 0, 0],
    }
    out = run_both(enc, stim)
    assert out["s0"] == [0, 1, 0, 1, 0, 0, 1, 0, 0]
    assert out["s1"] == [1, 0, 0, 0, 1, 0, 0, 0, 1]
    assert out["s2"] == [0, 0, 1, 0, 0, 1, 0, 1, 0]
    long = ng.component("rank_order", n_inputs=2, width=2, window=4)
    out = run_both(long, {"x0": [1] * 8, "x1": [2, 2, 2, 2, 0, 0, 0, 0]})
    assert (out["s0"], out["s1"]) == ([0, 1, 0, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 1, 0, 0])


def test_references_agree_with_known_answers():
    # The references, on the docstring examples (independent of the components).
    assert ref_rate(3, [3] * 8)["spike"] == [0, 0, 1, 0, 0, 1, 0, 1]
    assert ref_rate_stochastic(3, 1, [3] * 7)["spike"] == [1, 1, 0, 1, 0, 0, 0]
    assert ref_sigma_delta(3, False, [7] * 8)["spike"] == [1, 1, 1, 1, 0, 1, 1, 1]
    assert ref_latency(4, 4, False, [15] * 4 + [9] * 4)["spike"] == [1, 0, 0, 0, 0, 1, 0, 0]
    assert ref_delta(4, 4, [10, 10, 10])["ref"] == [4, 8, 8]
    assert ref_phase(4, 4, [0b1011] * 4)["spike"] == [1, 0, 1, 1]
    assert ref_burst(4, 8, 3, 2, [15] * 8)["spike"] == [1, 0, 1, 0, 1, 0, 0, 0]
    assert ref_rank_order(3, 4, [(5, 9, 5)] * 4)["s2"] == [0, 0, 1, 0]


# -- model against the references, swept -----------------------------------------------------------
@pytest.mark.parametrize("case", SWEEP_CASES, ids=_case_id)
def test_model_matches_reference(case, rng):
    name, params = case
    comp = ng.component(name, **params)
    n = 3
    stim = stimulus(rng, comp, 400, n)
    expected = reference(comp, stim)
    got = run_split(comp, stim, rng, n)
    assert set(got) == set(expected)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


@pytest.mark.parametrize("name", ENCODERS)
def test_model_matches_reference_on_random_parameters(name, rng):
    for _ in range(6):
        width = int(rng.integers(1, 33))
        if name == "rate":
            stochastic = bool(rng.integers(2)) and width >= 3
            params = {"width": width, "stochastic": stochastic}
            if stochastic:
                params["seed"] = int(rng.integers(1, 2**width))
        elif name == "sigma_delta":
            params = {"width": width, "bipolar": bool(rng.integers(2))}
        elif name == "latency":
            params = {"width": width, "window": int(rng.integers(1, 40)),
                      "zero_spikes": bool(rng.integers(2))}  # fmt: skip
        elif name == "delta":
            params = {"width": width, "threshold": int(rng.integers(1, 2**width))}
        elif name == "phase":
            params = {"width": width, "phases": int(rng.integers(1, width + 1))}
        elif name == "burst":
            max_burst, isi = int(rng.integers(1, 6)), int(rng.integers(1, 5))
            window = (max_burst - 1) * isi + 1 + int(rng.integers(0, 6))
            params = {"width": width, "window": window, "max_burst": max_burst, "isi": isi}
        else:
            count = int(rng.integers(1, 7))
            params = {"n_inputs": count, "width": width,
                      "window": count + int(rng.integers(0, 4))}  # fmt: skip
        comp = ng.component(name, **params)
        stim = stimulus(rng, comp, 150, 2)
        expected = reference(comp, stim)
        got = run_split(comp, stim, rng, 2)
        for key in expected:
            np.testing.assert_array_equal(got[key], expected[key], err_msg=f"{comp!r} {key}")


# -- gateware against the model --------------------------------------------------------------------
PYSIM_CASES = [
    ("rate", {}), ("rate", {"width": 3}), ("rate", {"width": 5, "stochastic": True, "seed": 9}),
    ("sigma_delta", {"width": 3}), ("sigma_delta", {"width": 6, "bipolar": True}),
    ("latency", {}), ("latency", {"width": 3, "window": 5, "zero_spikes": True}),
    ("latency", {"width": 2, "window": 1}),
    ("delta", {}), ("delta", {"width": 4, "threshold": 1}), ("delta", {"width": 3, "threshold": 7}),
    ("phase", {}), ("phase", {"width": 5, "phases": 3}), ("phase", {"width": 1}),
    ("burst", {}), ("burst", {"width": 3, "window": 7, "max_burst": 7, "isi": 1}),
    ("burst", {"width": 2, "window": 9, "max_burst": 3, "isi": 4}),
    ("rank_order", {}), ("rank_order", {"n_inputs": 1, "window": 2}),
    ("rank_order", {"n_inputs": 5, "width": 2, "window": 7}),
]  # fmt: skip


@pytest.mark.parametrize("case", PYSIM_CASES, ids=_case_id)
def test_pysim_matches_model(case, rng_seed):
    name, params = case
    comp = ng.component(name, **params)
    # Uniform noise on every step (later steps of a window must be ignored) ...
    ng.sim.compare(comp, steps=300, n=2, seed=rng_seed)
    # ... and held runs that reach the edge values.
    stim = stimulus(np.random.default_rng(rng_seed), comp, 300, 2)
    ng.sim.compare(comp, stim)


@pytest.mark.parametrize("width", [16, 32])
def test_pysim_wide(width, rng_seed):
    for comp in (
        ng.component("rate", width=width),
        ng.component("rate", width=width, stochastic=True),
        ng.component("sigma_delta", width=width, bipolar=True),
        ng.component("latency", width=width, window=300),
        ng.component("delta", width=width, threshold=2 ** (width - 3)),
        ng.component("burst", width=width, window=20, max_burst=9, isi=2),
    ):
        stim = stimulus(np.random.default_rng(rng_seed), comp, 200, 2)
        ng.sim.compare(comp, stim)


@pytest.mark.parametrize(
    "comp",
    [
        ng.component("latency", width=4, window=5),
        ng.component("latency", width=3, window=11, zero_spikes=True),
        ng.component("phase", width=4, phases=3),
        ng.component("burst", width=3, window=8, max_burst=8, isi=1),
        ng.component("burst", width=1, window=40, max_burst=20, isi=2),
        ng.component("burst", width=4, window=13, max_burst=5, isi=3),
    ],
    ids=repr,
)
def test_pysim_every_value(comp):
    """Every input value, held for a window, in the gateware against the reference."""
    window = comp.window
    values = np.arange(2**comp.width)
    x = np.repeat(values, window)[:, None]
    expected = reference(comp, {"x": x})
    got = ng.sim.run(comp, {"x": x}, "pysim")
    np.testing.assert_array_equal(got["spike"], expected["spike"])


# -- properties the docstrings promise -------------------------------------------------------------
def test_rate_count_is_floor_of_cumulative_input(rng):
    for width in (1, 4, 9, 32):
        x = rng.integers(0, 2**width, size=(3000, 4), dtype=np.int64)
        x[:, 0] = 2**width - 1
        x[:, 1] = 0
        spikes = ng.component("rate", width=width).model(4).run({"x": x})["spike"]
        total = np.cumsum(x, axis=0, dtype=object)
        np.testing.assert_array_equal(np.cumsum(spikes, axis=0), total // 2**width)


def test_rate_constant_input_density_and_period():
    width = 6
    xs = np.arange(2**width)
    x = np.broadcast_to(xs, (2 * 2**width, len(xs)))
    spikes = ng.component("rate", width=width).model(len(xs)).run({"x": x})["spike"]
    assert spikes[: 2**width].sum(axis=0).tolist() == xs.tolist()
    np.testing.assert_array_equal(spikes[: 2**width], spikes[2**width :])


def test_rate_stochastic_exact_count_per_period():
    width, period = 7, 127
    xs = np.arange(2**width)
    x = np.broadcast_to(xs, (2 * period, len(xs)))
    enc = ng.component("rate", width=width, stochastic=True, seed=77)
    spikes = enc.model(len(xs)).run({"x": x})["spike"]
    assert spikes[:period].sum(axis=0).tolist() == xs.tolist()
    np.testing.assert_array_equal(spikes[:period], spikes[period:])


def test_sigma_delta_count_is_rounded_cumulative_input(rng):
    for width, bipolar in ((1, False), (5, False), (5, True), (32, True)):
        fmt = ng.component("sigma_delta", width=width, bipolar=bipolar).inputs["x"].format
        x = rng.integers(fmt.min, fmt.max, size=(3000, 3), endpoint=True, dtype=np.int64)
        sd = ng.component("sigma_delta", width=width, bipolar=bipolar)
        spikes = sd.model(3).run({"x": x})["spike"]
        u = x + (2 ** (width - 1) if bipolar else 0)
        total = np.cumsum(u, axis=0, dtype=object)
        count = np.cumsum(spikes, axis=0).astype(object)
        err = count * 2**width - total  # within half a spike, the upper half-point included
        assert ((-(2 ** (width - 1)) < err) & (err <= 2 ** (width - 1))).all()


def test_latency_phases_share_the_range_equally():
    for width, window in ((4, 4), (6, 8), (5, 32)):
        enc = ng.component("latency", width=width, window=window)
        phases = enc.phase_of(np.arange(2**width))
        assert np.bincount(phases).tolist() == [2**width // window] * window
        assert (np.diff(phases) <= 0).all()  # larger values spike earlier
        assert (phases[-1], phases[0]) == (0, window - 1)


def test_one_spike_per_window(rng):
    enc = ng.component("latency", width=5, window=6, zero_spikes=True)
    x = rng.integers(0, 32, size=(600, 3))
    spikes = enc.model(3).run({"x": x})["spike"]
    assert (spikes.reshape(100, 6, 3).sum(axis=1) == 1).all()
    enc = ng.component("rank_order", n_inputs=4, width=3, window=6)
    stim = {f"x{i}": rng.integers(0, 8, size=(600, 3)) for i in range(4)}
    out = enc.model(3).run(stim)
    per_window = np.stack([out[f"s{i}"].reshape(100, 6, 3) for i in range(4)])
    assert (per_window.sum(axis=2) == 1).all()  # each output once per window
    assert (per_window.sum(axis=0)[:, :4] == 1).all()  # one spike per step on steps 0..3
    assert (per_window.sum(axis=0)[:, 4:] == 0).all()


def test_delta_reference_reconstructs_input(rng):
    enc = ng.component("delta", width=10, threshold=37)
    x = np.cumsum(rng.integers(-20, 21, size=(2000, 3)), axis=0) % 1024
    out = enc.model(3).run({"x": x})
    assert not (out["up"] & out["down"]).any()
    recon = 37 * np.cumsum(out["up"].astype(np.int64) - out["down"], axis=0)
    np.testing.assert_array_equal(recon, out["ref"])
    # Held input settles within threshold of x.
    held = enc.model(3).run({"x": np.full((100, 3), 1000)})["ref"]
    assert held[-1].tolist() == [37 * 27] * 3


def test_phase_decodes_to_the_top_bits(rng):
    width, phases = 9, 5
    enc = ng.component("phase", width=width, phases=phases)
    values = rng.integers(0, 2**width, size=(40, 2))
    x = np.repeat(values, phases, axis=0)
    spikes = enc.model(2).run({"x": x})["spike"].reshape(40, phases, 2).astype(np.int64)
    weights = 2 ** (width - 1 - np.arange(phases))
    decoded = (spikes * weights[None, :, None]).sum(axis=1)
    np.testing.assert_array_equal(decoded, values & ~(2 ** (width - phases) - 1))


def test_burst_full_scale_is_max_burst():
    for width, max_burst in ((1, 5), (8, 4), (32, 100)):
        enc = ng.component("burst", width=width, window=2 * max_burst, max_burst=max_burst)
        spikes = enc.model().run({"x": [2**width - 1] * (2 * max_burst)})["spike"]
        assert spikes.sum() == max_burst
        assert int(enc.burst_length(0)) == 0


# -- state across run() calls, reset ---------------------------------------------------------------
@pytest.mark.parametrize("name", ENCODERS)
def test_runs_continue_and_reset(name, rng):
    comp = ng.component(name)
    stim = stimulus(rng, comp, 101, 2)
    whole = comp.model(2).run(stim)
    model = comp.model(2)
    first = model.run({k: v[:37] for k, v in stim.items()})
    rest = model.run({k: v[37:] for k, v in stim.items()})
    for key in whole:
        np.testing.assert_array_equal(np.concatenate([first[key], rest[key]]), whole[key])
    model.reset()
    again = model.run(stim)
    for key in whole:
        np.testing.assert_array_equal(again[key], whole[key])


# -- the random source of the stochastic rate code -------------------------------------------------
def test_rate_random_source_protocol():
    det = ng.component("rate")
    assert det.sequence_key() is None
    with pytest.raises(TypeError, match=exact("rate has no random source to allocate a seed for")):
        det.allocate_seed(0)
    sto = ng.component("rate", width=12, stochastic=True)
    lfsr = ng.component("lfsr", width=12)
    assert sto.seed == lfsr.seed == 0xCE1
    assert sto.sequence_key() == lfsr.sequence_key()  # the same generator sequence
    allocated = [sto.allocate_seed(i) for i in range(8)]
    assert [a.seed for a in allocated] == [lfsr.allocate_seed(i).seed for i in range(8)]
    assert len({a.sequence_key() for a in allocated}) == 8
    assert all(a.stochastic and a.width == 12 for a in allocated)


def test_defaults_follow_their_parameters():
    assert ng.component("phase", width=5).phases == 5
    assert ng.component("phase", width=5).replace(width=3).phases == 3
    assert ng.component("rank_order", n_inputs=6).window == 6
    assert ng.component("rank_order").replace(n_inputs=7).window == 7
    assert ng.component("rate", stochastic=True).replace(width=5).seed == 0xACE1 & 31


def test_ports():
    def describe(comp):
        return {k: p.describe() for k, p in comp.ports.items()}

    assert describe(ng.component("rate", width=5)) == {
        "x": "in  unsigned 5", "spike": "out unsigned 1"}  # fmt: skip
    assert describe(ng.component("sigma_delta", width=5, bipolar=True))["x"] == "in  signed 5"
    assert describe(ng.component("delta", width=6)) == {
        "x": "in  unsigned 6", "up": "out unsigned 1", "down": "out unsigned 1",
        "ref": "out unsigned 6"}  # fmt: skip
    assert list(ng.component("rank_order", n_inputs=3).ports) == [
        "x0", "x1", "x2", "s0", "s1", "s2"]  # fmt: skip
    for name in ENCODERS:
        comp = ng.component(name)
        assert (comp.kind, comp.latency) == ("encoder", 1), name


# -- bad parameters and inputs ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "params", "exc", "msg"),
    [
        ("rate", {"width": 0}, ValueError, "rate.width must be an int in 1..32, not 0"),
        ("rate", {"stochastic": 1}, TypeError, "rate.stochastic must be a bool, not 1"),
        ("rate", {"stochastic": True, "width": 2}, ValueError,
         "rate.width must be an int in 3..32 when stochastic=True, not 2"),
        ("rate", {"seed": 5}, ValueError, "rate.seed must be None when stochastic=False, not 5"),
        ("rate", {"stochastic": True, "seed": 0}, ValueError,
         "rate.seed must be nonzero (0 is the LFSR lock-up state), not 0"),
        ("rate", {"stochastic": True, "seed": 256}, ValueError,
         "rate.seed must fit unsigned 8-bit [0, 255], not 256"),
        ("rate", {"stochastic": True, "seed": 1.0}, TypeError,
         "rate.seed must be None or an int, not 1.0"),
        ("sigma_delta", {"width": 33}, ValueError,
         "sigma_delta.width must be an int in 1..32, not 33"),
        ("sigma_delta", {"bipolar": None}, TypeError,
         "sigma_delta.bipolar must be a bool, not None"),
        ("latency", {"window": 0}, ValueError, "latency.window must be an int in 1..65536, not 0"),
        ("latency", {"window": 65537}, ValueError,
         "latency.window must be an int in 1..65536, not 65537"),
        ("latency", {"zero_spikes": "yes"}, TypeError,
         "latency.zero_spikes must be a bool, not 'yes'"),
        ("delta", {"threshold": 0}, ValueError, "delta.threshold must be an int >= 1, not 0"),
        ("delta", {"width": 4, "threshold": 16}, ValueError,
         "delta.threshold must be an int in 1..15 (2**width - 1), not 16"),
        ("delta", {"threshold": 2.5}, TypeError, "delta.threshold must be an int, not 2.5"),
        ("phase", {"phases": 9}, ValueError,
         "phase.phases must be None or an int in 1..8 (width), not 9"),
        ("phase", {"phases": 0}, ValueError, "phase.phases must be None or an int in 1..32, not 0"),
        ("burst", {"window": 6}, ValueError,
         "burst.window must be >= (max_burst - 1) * isi + 1 = 7, not 6"),
        ("burst", {"isi": 0}, ValueError, "burst.isi must be an int in 1..65536, not 0"),
        ("burst", {"max_burst": 0}, ValueError,
         "burst.max_burst must be an int in 1..65536, not 0"),
        ("rank_order", {"n_inputs": 0}, ValueError,
         "rank_order.n_inputs must be an int in 1..64, not 0"),
        ("rank_order", {"window": 3}, ValueError,
         "rank_order.window must be None or an int in 4..65536 (at least n_inputs), not 3"),
        ("rank_order", {"window": 0}, ValueError,
         "rank_order.window must be None or an int in 1..65536, not 0"),
    ],
)  # fmt: skip
def test_parameter_errors(name, params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component(name, **params)


def test_input_out_of_range():
    with pytest.raises(ValueError, match=exact(
        "latency input 'x' must fit unsigned 4-bit [0, 15], not 16 (step 1, instance 0)"
    )):  # fmt: skip
        ng.component("latency", width=4).model().run({"x": [3, 16]})
    with pytest.raises(ValueError, match=exact(
        "sigma_delta input 'x' must fit signed 3-bit [-4, 3], not 4 (step 0, instance 0)"
    )):  # fmt: skip
        ng.component("sigma_delta", width=3, bipolar=True).model().run({"x": [4]})
    with pytest.raises(
        ValueError, match=exact("rank_order input 'x2' is missing from the stimulus")
    ):
        ng.component("rank_order", n_inputs=3).model().run({"x0": [1], "x1": [1]})
