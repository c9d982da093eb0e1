"""``sc_dense`` SC synapses: known answers, the lfsr encoder's streams, model against pysim."""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.plugins.encoders.lfsr import LFSR
from neurogate.sc import SeedAllocator, SeedCollisionError


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def random_weights(rng, n_in, n_out, weight_bits):
    lo, hi = -(1 << (weight_bits - 1)), (1 << (weight_bits - 1)) - 1
    w = rng.integers(lo, hi + 1, size=(n_in, n_out))
    corner = rng.random((n_in, n_out))
    w[corner < 0.15], w[corner > 0.85] = lo, hi
    w[(corner > 0.4) & (corner < 0.5)] = 0
    return w


# -- parameters -----------------------------------------------------------------------------------
def test_defaults_seeds_and_ports():
    syn = ng.component("sc_dense", weights=np.zeros((3, 2), int))
    assert (syn.n_in, syn.n_out, syn.weight_bits, syn.lfsr_width, syn.latency) == (3, 2, 8, 16, 2)
    # the default seeds are the lfsr allocations 0, 1, 2 (allocation 0 is the lfsr default)
    assert syn.seeds == tuple(LFSR(width=16).allocate_seed(i).seed for i in range(3))
    assert syn.seeds[0] == 0xACE1
    assert sorted(syn.ports) == ["x0", "x1", "x2", "y0", "y1"]
    assert (syn.ports["y1"].width, syn.ports["y1"].signed) == (3, True)  # -3 .. 3
    assert ng.component("sc_dense").weights.shape == (1, 1)
    assert ng.component("sc_dense", n_in=4, n_out=2).ports["y0"].width == 4  # -4 .. 4
    # M = |w| << (lfsr_width - weight_bits + 1): |w| = 128 is all ones (2**16)
    wide = ng.component("sc_dense", weights=[[-128, 1, 0]])
    assert wide.magnitudes.tolist() == [[65536, 512, 0]]
    assert ng.component(
        "sc_dense", weights=[[-8, 7]], weight_bits=4, lfsr_width=3
    ).magnitudes.tolist() == [[8, 7]]


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        (
            {"weights": [[1, 2]], "weight_bits": 8, "lfsr_width": 6},
            ValueError,
            "sc_dense.lfsr_width must be >= weight_bits - 1 = 7, not 6",
        ),
        (
            {"weights": [[1], [2]], "seeds": [5]},
            ValueError,
            "sc_dense.seeds must have one seed per input row (2), not 1",
        ),
        (
            {"weights": [[1], [2]], "seeds": [5, 0], "lfsr_width": 8},
            ValueError,
            "sc_dense.seeds must be in 1..255 (nonzero 8-bit LFSR states), not 0 (row 1)",
        ),
        (
            {"weights": [[1], [2], [3]], "seeds": [5, 9, 5]},
            ValueError,
            "sc_dense.seeds must differ (no two rows share a weight sequence), not 0x5 for "
            "rows 0 and 2",
        ),
        (
            {"seeds": "abc"},
            TypeError,
            "sc_dense.seeds must be None or a sequence of ints, not 'abc'",
        ),
        (
            {"weights": [[128]]},
            ValueError,
            "sc_dense.weights must fit signed 8-bit [-128, 127], not 128 at (i, j) = (0, 0)",
        ),
        (
            {"weights": np.zeros((257, 1), int)},
            ValueError,
            "sc_dense.weights must have 1..256 n_in (shape (257, 1)), not 257",
        ),
        (
            {"weights": np.zeros((2, 1), int), "n_in": 3},
            ValueError,
            "sc_dense.weights must have shape (n_in, n_out) = (3, 1), not (2, 1)",
        ),
        ({"lfsr_width": 2}, ValueError, "sc_dense.lfsr_width must be an int in 3..32, not 2"),
    ],
)
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("sc_dense", **params)


def test_clip_with_a_warning_when_not_strict():
    msg = (
        "sc_dense.weights: 1 value(s) outside signed 4-bit [-8, 7] clipped "
        "(the first: 9 at (i, j) = (1, 0))"
    )
    with pytest.warns(UserWarning, match=exact(msg)):
        syn = ng.component("sc_dense", weights=[[1], [9]], weight_bits=4, strict=False)
    assert syn.weights.array.tolist() == [[1], [7]]


# -- model ----------------------------------------------------------------------------------------
def test_known_answer_by_hand():
    # Rows seeded 0xE1 and 0x91, 8-bit LFSRs (taps 8, 6, 5, 4: feedback = b7 ^ b5 ^ b4 ^ b3):
    #   row 0: 0xE1 = 225, 194, 133, 11      row 1: 0x91 = 145, 34, 69, 138
    # Weights [[127, -128], [64, 0]] at 8 bits: M = 2|w| = [[254, 256], [128, 0]].
    # y0 = x0 & (s0 < 254) + x1 & (s1 < 128) = 1 + [0, 1, 1, 0]; y1 = -(x0 & (s0 < 256)) = -x0.
    syn = ng.component("sc_dense", weights=[[127, -128], [64, 0]], lfsr_width=8, seeds=[225, 145])
    out = syn.model().run({"x0": [1, 1, 1, 1], "x1": [1, 1, 1, 1]})
    assert out["y0"][:, 0].tolist() == [1, 2, 2, 1]
    assert out["y1"][:, 0].tolist() == [-1, -1, -1, -1]
    out = syn.model().run({"x0": [0, 1, 0, 1], "x1": [1, 1, 0, 0]})
    assert out["y0"][:, 0].tolist() == [0, 2, 0, 1]
    assert out["y1"][:, 0].tolist() == [0, -1, 0, -1]


@pytest.mark.parametrize(("width", "weight_bits", "w"), [(16, 8, 77), (8, 8, -128), (5, 4, 3)])
def test_weight_stream_is_the_lfsr_encoders(rng, width, weight_bits, w):
    # one synapse, input always 1: y is +-(the lfsr encoder's bit with x = M), same seed
    seed = int(rng.integers(1, 1 << width))
    syn = ng.component(
        "sc_dense", weights=[[w]], weight_bits=weight_bits, lfsr_width=width, seeds=[seed]
    )
    magnitude = int(syn.magnitudes[0, 0])
    steps = 3000
    out = syn.model().run({"x0": np.ones(steps, dtype=np.int64)})["y0"][:, 0]
    enc = ng.component("lfsr", width=width, seed=seed)
    if magnitude < 1 << width:
        bits = enc.model().run({"x": np.full(steps, magnitude)})["bit"][:, 0]
    else:  # the encoder's x port cannot hold 2**width: every state is below it
        bits = np.ones(steps, dtype=np.int64)
    assert out.tolist() == (np.sign(w) * bits).tolist()


def test_run_in_pieces_and_step_match_one_run(rng):
    w = random_weights(rng, 5, 4, 6)
    syn = ng.component("sc_dense", weights=w, weight_bits=6, lfsr_width=7)
    x = {f"x{i}": rng.integers(0, 2, size=(300, 2)) for i in range(5)}
    whole = syn.model(2).run(x)
    model = syn.model(2)
    parts = [
        model.run({k: v[a:b] for k, v in x.items()}) for a, b in ((0, 7), (7, 200), (200, 300))
    ]
    for key in whole:
        assert np.concatenate([p[key] for p in parts]).tolist() == whole[key].tolist()
    stepper = syn.model()
    for t in range(40):
        got = stepper.step(np.array([x[f"x{i}"][t, 0] for i in range(5)]))
        assert got.tolist() == [int(whole[f"y{j}"][t, 0]) for j in range(4)]


def test_expected_value(rng):
    # The ideal-maths tier (a tolerance): inputs from lfsr encoders seeded around the weight
    # rows by one SeedAllocator; over 2**16 - 1 steps the mean of y[j] approaches
    # sum_i P(x[i]) * w[i, j] / 128.
    w = random_weights(rng, 4, 3, 8)
    syn = ng.component("sc_dense", weights=w)
    alloc = SeedAllocator()
    for name, source in syn.random_sources().items():
        alloc.add(name, source, pin=True)
    p_in = rng.integers(1, 1 << 16, size=4)
    for i in range(4):
        alloc.add(f"enc{i}", ng.component("lfsr"))
    comps = alloc.components
    keys = [c.sequence_key() for c in comps.values()]
    assert len(set(keys)) == len(keys)  # the encoders avoided the rows' sequences
    steps = (1 << 16) - 1
    x = {
        f"x{i}": comps[f"enc{i}"].model().run({"x": np.full(steps, p_in[i])})["bit"]
        for i in range(4)
    }
    out = syn.model().run(x)
    ideal = (p_in / 65536) @ w / 128
    mean = np.array([out[f"y{j}"].mean() for j in range(3)])
    np.testing.assert_allclose(mean, ideal, atol=0.03)


def test_seed_allocator_flags_a_shared_sequence():
    syn = ng.component("sc_dense", weights=[[1], [2]])
    alloc = SeedAllocator()
    for name, source in syn.random_sources("layer").items():
        alloc.add(name, source, pin=True)
    msg = (
        "enc would produce the same sequence as layer.row0: lfsr width=16 taps=(16, 14, 13, 11) "
        "seed=0xace1 (add it with share=True if that is intended)"
    )
    with pytest.raises(SeedCollisionError, match=exact(msg)):
        alloc.add("enc", ng.component("lfsr"), pin=True)  # the default seed is row 0's


# -- gateware -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n_in", "n_out", "weight_bits", "lfsr_width"),
    [(1, 1, 8, 16), (3, 5, 8, 8), (7, 2, 1, 3), (4, 4, 2, 3), (5, 3, 16, 15), (2, 6, 4, 32)],
)
def test_gateware_matches_model(rng, rng_seed, n_in, n_out, weight_bits, lfsr_width):
    w = random_weights(rng, n_in, n_out, weight_bits)
    syn = ng.component("sc_dense", weights=w, weight_bits=weight_bits, lfsr_width=lfsr_width)
    ng.sim.compare(syn, steps=300, n=2, seed=rng_seed)


def test_gateware_explicit_seeds_and_all_ones(rng_seed):
    syn = ng.component("sc_dense", weights=[[-128, 127], [-128, -1]], lfsr_width=7, seeds=[3, 100])
    stim = {"x0": np.ones((200, 1), int), "x1": np.ones((200, 1), int)}
    cmp = ng.sim.compare(syn, stim)
    y0 = cmp.outputs["pysim"]["y0"][:, 0]
    assert y0.tolist() == [-2] * 200  # |w| = 128 is an all-ones stream


def test_rtl_converts():
    from amaranth.back import verilog

    text = verilog.convert(ng.component("sc_dense", weights=[[1, 0], [0, -1]]).create())
    assert "[-1:0]" not in text
