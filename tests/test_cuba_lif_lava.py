"""``cuba_lif``, model and pysim gateware, against vectors recorded from Lava's bit-accurate LIF.

``tests/data/lava_cuba_lif.npz`` holds the traces of a real run of Lava 0.10.0's ``LIF`` process
with its bit-accurate model (not neurogate's output). It was written, from the repository root,
by::

    python3.10 -m venv /tmp/venv310
    /tmp/venv310/bin/pip install lava-nc==0.10.0 "amaranth[builtin-yosys]>=0.5.10,<0.6" pluggy tqdm
    PYTHONPATH=. /tmp/venv310/bin/python benchmarks/crosscheck_lava.py \\
        --write-vectors tests/data/lava_cuba_lif.npz

which also compares many more neurons and steps than it stores (see that script). Each column
is one neuron from reset: its parameters ``du``, ``dv``, ``vth``, ``bias_mant``, ``bias_exp``
and ``corner`` (a fixed corner case rather than a random draw), shape ``(n,)``, and per step
Lava's input ``a_in`` and its ``u``, ``v`` and ``s_out`` (``spike``) after the step, shape
``(T, n)``; ``source`` names the versions and the command. The corner cases come first (``u``
driven exactly to the wrap edges, ``v`` at the lower clip, ``du``/``dv`` at 0 and 4095, negative
decays, ``vth = 0``, the largest biases), then seeded random parameter sets and stimuli.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import neurogate as ng

DATA = Path(__file__).parent / "data" / "lava_cuba_lif.npz"
PARAMS = ("du", "dv", "vth", "bias_mant", "bias_exp")
MAX_UV = 1 << 23


@pytest.fixture(scope="module")
def lava():
    with np.load(DATA) as f:
        return {key: f[key] for key in f.files}


def params_of(lava, col: int) -> dict:
    return {key: int(lava[key][col]) for key in PARAMS}


def check_column(lava, col: int, out: dict) -> None:
    """Assert ``out`` (``(T, 1)`` arrays) equals Lava's column ``col``; name the first step."""
    for ours, theirs in (("u", "u"), ("v", "v"), ("spike", "spike")):
        got, want = out[ours][:, 0], lava[theirs][:, col].astype(np.int64)
        bad = np.flatnonzero(got != want)
        assert not len(bad), (
            f"column {col} ({params_of(lava, col)}): {ours} differs from Lava first at step "
            f"{bad[0]} (a_in={lava['a_in'][bad[0], col]}): neurogate {got[bad[0]]}, "
            f"Lava {want[bad[0]]}"
        )


def test_vectors_are_lava_and_cover_the_corners(lava):
    assert str(lava["source"]).startswith("lava-nc 0.10.0 PyLifModelBitAcc")
    steps, n = lava["u"].shape
    assert lava["a_in"].shape == lava["v"].shape == lava["spike"].shape == (steps, n)
    u, v = lava["u"].astype(np.int64), lava["v"].astype(np.int64)
    assert (u == MAX_UV).any()  # the kept upper bound of u
    assert (u == -MAX_UV + 1).any()
    assert (np.abs(np.diff(u, axis=0)) > MAX_UV).any()  # wrapped
    assert (v == -MAX_UV + 1).any()  # the lower clip of v
    assert {0, 4095} <= set(lava["du"].tolist())
    assert {0, 4095} <= set(lava["dv"].tolist())
    assert 0 in lava["vth"]
    assert 131071 in lava["vth"]
    bias = lava["bias_mant"].astype(np.int64) << lava["bias_exp"]
    assert bias.min() == -4096 << 7
    assert bias.max() == 4095 << 7
    assert lava["a_in"].min() == -32768
    assert lava["a_in"].max() == 32767
    assert 0 < lava["spike"].mean() < 1
    # one negative input, then none: truncation toward zero brings u back to 0 (a floor shift
    # would stop at -1)
    decay = (lava["a_in"][0] < 0) & (lava["a_in"][1:] == 0).all(axis=0)
    assert decay.sum() >= 3
    assert (u[0, decay] < 0).all()
    assert (u[-1, decay] == 0).all()


def test_model_matches_lava(lava):
    n = lava["u"].shape[1]
    groups: dict[tuple, list[int]] = {}
    for col in range(n):
        groups.setdefault(tuple(params_of(lava, col).values()), []).append(col)
    for key, cols in groups.items():
        comp = ng.component("cuba_lif", **dict(zip(PARAMS, key, strict=True)))
        out = comp.model(len(cols)).run({"a_in": lava["a_in"][:, cols].astype(np.int64)})
        for j, col in enumerate(cols):
            check_column(lava, col, {k: a[:, j : j + 1] for k, a in out.items()})


# One column per corner for the gateware (pysim is slow): the first column that shows it.
PYSIM_CORNERS = {
    "u at +2**23 (kept)": lambda L: (L["u"] == MAX_UV).any(axis=0),
    "u wraps": lambda L: (np.abs(np.diff(L["u"].astype(np.int64), axis=0)) > MAX_UV).any(axis=0),
    "v at the lower clip": lambda L: (L["v"] == -MAX_UV + 1).any(axis=0),
    "du = dv = 4095": lambda L: (L["du"] == 4095) & (L["dv"] == 4095),
    "du = dv = 0": lambda L: (L["du"] == 0) & (L["dv"] == 0) & (L["spike"].sum(axis=0) > 0),
    "vth = 0, largest negative bias": lambda L: (L["vth"] == 0) & (L["bias_mant"] == -4096),
    "negative u decaying to 0": lambda L: (L["a_in"][0] < 0) & (L["a_in"][1:] == 0).all(axis=0),
}


@pytest.mark.parametrize("corner", PYSIM_CORNERS)
def test_pysim_matches_lava_at_corner(lava, corner):
    col = int(np.flatnonzero(PYSIM_CORNERS[corner](lava))[0])
    comp = ng.component("cuba_lif", **params_of(lava, col))
    out = ng.sim.run(comp, {"a_in": lava["a_in"][:, [col]].astype(np.int64)}, backend="pysim")
    check_column(lava, col, out)


def test_pysim_matches_lava_random_column(lava, rng):
    col = int(rng.choice(np.flatnonzero(~lava["corner"])))
    print(f"column {col}")
    comp = ng.component("cuba_lif", **params_of(lava, col))
    out = ng.sim.run(comp, {"a_in": lava["a_in"][:, [col]].astype(np.int64)}, backend="pysim")
    check_column(lava, col, out)
