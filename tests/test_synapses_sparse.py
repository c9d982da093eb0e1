"""``sparse`` synapses: model against the plain-Python reference, gateware against the model."""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_synapses_dense import random_steps, reference_step, simulate

import neurogate as ng
from neurogate.plugins.synapses.sparse import connections_from_matrix


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def random_connections(rng, n_in, n_out, weight_bits, density):
    """Distinct (source, target) pairs with random weights (extremes often), shuffled."""
    lo, hi = -(1 << (weight_bits - 1)), (1 << (weight_bits - 1)) - 1
    mask = rng.random((n_in, n_out)) < density
    i, j = np.nonzero(mask)
    w = rng.integers(lo, hi + 1, size=i.size)
    corner = rng.random(i.size)
    w[corner < 0.15], w[corner > 0.85] = lo, hi
    conns = np.stack([i, j, w], axis=1)
    return conns[rng.permutation(len(conns))]


def as_matrix(conns, n_in, n_out):
    w = [[0] * n_out for _ in range(n_in)]
    for i, j, x in conns.tolist():
        w[i][j] = x
    return w


# -- parameters -----------------------------------------------------------------------------------
def test_csr_and_sizes():
    conns = [[2, 0, 4], [0, 3, -1], [2, 5, 9], [0, 1, 2]]
    syn = ng.component("sparse", connections=conns)
    assert (syn.n_in, syn.n_out, syn.n_connections, syn.max_events) == (3, 6, 4, 3)
    # sorted by source, stably: source 0's connections in the order given, then source 2's
    assert syn.csr.ptr.tolist() == [0, 2, 2, 4]
    assert syn.csr.target.tolist() == [3, 1, 0, 5]
    assert syn.csr.weight.tolist() == [-1, 2, 4, 9]
    assert (syn.pointer_width, syn.target_width, syn.sum_width) == (3, 3, 10)
    assert syn.ports["w_data"].width == 3 + 8
    assert syn.ports["w_addr"].width == 2
    assert syn.flush_cycles == 6 + 6
    sized = ng.component("sparse", connections=conns, n_in=10, n_out=7)
    assert (sized.n_in, sized.n_out) == (10, 7)
    empty = ng.component("sparse")
    assert (empty.n_in, empty.n_out, empty.n_connections) == (1, 1, 0)
    assert empty.model().step([1]).tolist() == [0]
    assert connections_from_matrix([[0, 3], [0, 0], [-1, 5]]).tolist() == [
        [0, 1, 3],
        [2, 0, -1],
        [2, 1, 5],
    ]


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        (
            {"connections": [[0, 1]]},
            ValueError,
            "sparse.connections must have 3 columns (source, target, weight), not 2",
        ),
        (
            {"connections": [0, 1, 2]},
            ValueError,
            "sparse.connections must be None or a 2-D array (k, 3) of (source, target, "
            "weight), not shape (3,)",
        ),
        (
            {"connections": [[0.0, 1.0, 2.0]]},
            TypeError,
            "sparse.connections must be None or an integer array, not dtype float64",
        ),
        (
            {"connections": [[0, 1, 2], [3, 0, 1]], "n_in": 3},
            ValueError,
            "sparse.connections source must be in 0..n_in - 1 = 0..2, not 3 (connection 1)",
        ),
        (
            {"connections": [[0, -1, 2]], "n_out": 4},
            ValueError,
            "sparse.connections target must be in 0..n_out - 1 = 0..3, not -1 (connection 0)",
        ),
        (
            {"connections": [[0, 1, 2], [1, 1, 2], [0, 1, -5]]},
            ValueError,
            "sparse.connections must not repeat a (source, target) pair, not (0, 1) "
            "(connections 0 and 2)",
        ),
        (
            {"connections": [[0, 1, 2], [1, 1, -9]], "weight_bits": 4},
            ValueError,
            "sparse.connections weight must fit signed 4-bit [-8, 7], not -9 (connection 1)",
        ),
        (
            {"connections": [[70000, 0, 1]]},
            ValueError,
            "sparse.connections source must be in 0..65535, not 70000",
        ),
        (
            {"memory": "spram"},
            ValueError,
            "sparse.memory must be one of 'ebr', 'bram', not 'spram'",
        ),
    ],
)
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("sparse", **params)


def test_clip_with_a_warning_when_not_strict():
    msg = (
        "sparse.connections: 2 weight(s) outside signed 4-bit [-8, 7] clipped "
        "(the first: 8, connection 1)"
    )
    with pytest.warns(UserWarning, match=exact(msg)):
        syn = ng.component(
            "sparse", connections=[[0, 0, 1], [0, 1, 8], [1, 0, -20]], weight_bits=4, strict=False
        )
    assert syn.csr.weight.tolist() == [1, 7, -8]


def test_pack_connection_and_errors():
    syn = ng.component("sparse", connections=[[0, 4, 1]], n_out=5, weight_bits=6)
    assert syn.pack_connection(4, -1) == 4 | (63 << 3)
    assert syn.unpack_connection(4 | (63 << 3)) == (4, -1)
    with pytest.raises(ValueError, match=exact("sparse connection target must be in 0..4, not 5")):
        syn.pack_connection(5, 0)
    msg = "sparse connection weight must fit signed 6-bit [-32, 31], not 32"
    with pytest.raises(ValueError, match=exact(msg)):
        syn.pack_connection(0, 32)


# -- model ----------------------------------------------------------------------------------------
def test_model_known_answers():
    # Worked by hand. Source 0 -> targets 1 (+5), 3 (+7); source 2 -> target 1 (-3).
    syn = ng.component(
        "sparse", n_in=3, n_out=4, connections=[[0, 1, 5], [2, 1, -3], [0, 3, 7]], acc_bits=4
    )
    model = syn.model()
    assert model.step([1, 1, 1]).tolist() == [0, 2, 0, 7]
    assert model.step([0, 1, 0]).tolist() == [0, 0, 0, 0]  # source 1 has no connection
    assert model.step([2, 0, 0]).tolist() == [0, 7, 0, 7]  # 10 and 14 saturate to 4 bits
    assert model.overrun is False  # two events, max_events 3
    assert model.step_events([2, 2, 2, 2]).tolist() == [0, -8, 0, 0]  # -12 saturates
    assert model.overrun  # four events
    # sum_width = 8 + 2 = 10 bits: [-512, 511]; five events of 127 make 635, which wraps to
    # 635 - 1024 = -389.
    wide = ng.component("sparse", connections=[[0, 0, 127]], max_events=4, acc_bits=16)
    assert wide.model().step([5]).tolist() == [-389]
    model = syn.model()
    model.write_connection(1, syn.pack_connection(0, -2))  # csr connection 1: (0 -> 3) now to 0
    assert model.csr.target.tolist() == [1, 0, 1]
    assert model.step([1, 0, 0]).tolist() == [-2, 5, 0, 0]
    msg = "sparse connection index must be in 0..2, not 3"
    with pytest.raises(ValueError, match=exact(msg)):
        model.write_connection(3, 0)


@pytest.mark.parametrize(
    ("n_in", "n_out", "weight_bits", "acc_bits", "overflow", "density"),
    [
        (1, 1, 8, 16, "saturate", 1.0),
        (9, 13, 5, 6, "saturate", 0.3),
        (9, 13, 5, 6, "wrap", 0.3),
        (40, 7, 16, 17, "saturate", 0.5),
        (6, 30, 1, 2, "saturate", 0.2),
    ],
)
def test_model_matches_reference_and_dense(
    rng, n_in, n_out, weight_bits, acc_bits, overflow, density
):
    conns = random_connections(rng, n_in, n_out, weight_bits, density)
    params = {"weight_bits": weight_bits, "acc_bits": acc_bits, "overflow": overflow}
    syn = ng.component("sparse", connections=conns, n_in=n_in, n_out=n_out, **params)
    matrix = as_matrix(conns, n_in, n_out)
    dense = ng.component("dense", weights=matrix, **params).model()
    model = syn.model()
    spikes = []
    for _ in range(15):
        events = rng.integers(0, n_in, size=int(rng.integers(0, 2 * n_in + 1))).tolist()
        expected = reference_step(matrix, events, weight_bits, syn.max_events, acc_bits, overflow)
        assert model.step_events(events).tolist() == expected
        assert dense.step_events(events).tolist() == expected
        spikes.append(np.bincount(events, minlength=n_in))
    assert syn.model().run(np.array(spikes)).tolist() == dense.run(np.array(spikes)).tolist()


def test_model_large_counts_take_the_exact_integer_path(rng):
    # counts so large that float64 would round: the int64 path must be exact (mod 2**64)
    conns = random_connections(rng, 5, 4, 16, 1.0)
    syn = ng.component("sparse", connections=conns, weight_bits=16, max_events=1 << 24)
    counts = np.array([1 << 40, 3, 0, 1 << 39, 7])
    sums = [sum(int(c) * int(w) for c, w in zip(counts, col, strict=True))
            for col in np.array(as_matrix(conns, 5, 4)).T]  # fmt: skip
    width = syn.sum_width
    wrapped = [((s + (1 << (width - 1))) % (1 << width)) - (1 << (width - 1)) for s in sums]
    expected = [min((1 << 15) - 1, max(-(1 << 15), s)) for s in wrapped]
    assert syn.model().step(counts).tolist() == expected


# -- gateware -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n_in", "n_out", "weight_bits", "acc_bits", "overflow", "density"),
    [
        (1, 1, 8, 16, "saturate", 1.0),  # one connection: every event hits the same target
        (3, 2, 8, 8, "saturate", 1.0),  # few targets: forwarding from both add cycles
        (5, 7, 6, 7, "wrap", 0.4),
        (11, 6, 16, 12, "saturate", 0.3),  # empty rows likely
        (6, 9, 1, 2, "saturate", 0.5),
        (4, 3, 8, 16, "saturate", 0.0),  # no connection at all
    ],
)
def test_gateware_matches_model(rng, n_in, n_out, weight_bits, acc_bits, overflow, density):
    conns = random_connections(rng, n_in, n_out, weight_bits, density)
    syn = ng.component(
        "sparse",
        connections=conns,
        n_in=n_in,
        n_out=n_out,
        weight_bits=weight_bits,
        acc_bits=acc_bits,
        overflow=overflow,
    )
    steps = random_steps(rng, n_in, 6, 2 * n_in + 2, bad=True)
    steps.insert(1, [])
    flush, _ = simulate(syn, steps, rng)
    assert flush[1] == syn.flush_cycles


def test_gateware_overrun_and_saturation_corners(rng):
    conns = [[0, 0, 127], [0, 1, -128], [1, 0, 127], [1, 2, -128], [1, 1, 1]]
    syn = ng.component("sparse", connections=conns, acc_bits=9, max_events=3)
    model = syn.model()
    simulate(syn, [[0, 0, 1], [1, 1, 1, 1, 1], [0, 1]], rng, model=model)
    assert model.overrun
    hand = syn.model()
    assert hand.step_events([0, 0, 1]).tolist() == [255, -255, -128]  # 381; -256 + 1; -128


def test_gateware_one_connection_per_clock(rng):
    # rows of 4, 1, 0 and 3 connections; with valid always high the transfers are 4, 2, 2
    # cycles apart (a row's connections, at least two cycles per event)
    conns = [[0, j, j + 1] for j in range(4)] + [[1, 2, 5]] + [[3, j, -j] for j in range(3)]
    syn = ng.component("sparse", connections=conns, n_in=4, n_out=5)
    for events, span in (([0, 0, 3], 4 + 4), ([1, 2, 0, 3], 2 + 2 + 4), ([3, 1], 3)):
        _, spans = simulate(syn, [events], rng, p_valid=1.0)
        assert spans == [span], events


def test_gateware_connection_writes_and_ignored_pokes(rng):
    conns = random_connections(rng, 5, 6, 7, 0.5)
    syn = ng.component("sparse", connections=conns, n_in=5, n_out=6, weight_bits=7)
    k = syn.n_connections
    writes = {
        t: [
            (
                int(rng.integers(k)),
                int(rng.integers(8)) | (int(rng.integers(128)) << syn.target_width),
            )  # targets 6 and 7 do not exist: those writes are ignored
            for _ in range(4)
        ]
        for t in (1, 3)
    }
    steps = random_steps(rng, 5, 5, 9)
    simulate(syn, steps, rng, writes=writes, poke_busy=True)


def test_capacity_and_rtl():
    from amaranth.back import verilog

    syn = ng.component("sparse", connections=[[0, 0, 1]], n_in=8192, n_out=8192)
    # rows 8192 x 2 bits: 4 EBR of 2048 x 2; 1 connection of 13 + 8 bits: 2 of 256 x 16;
    # accumulators 8192 x 21 bits (sum_width 8 + 13): 44 of 2048 x 2 (4 deep, 11 wide)
    assert syn.blocks() == {"ebr": 4 + 2 + 44}
    msg = (
        "sparse needs 50 blocks of iCE40 UP5K EBR (30 x 4 kbit) for 8192 rows, 1 connections "
        "and 8192 accumulators, more than its 30"
    )
    with pytest.raises(ValueError, match=exact(msg)):
        syn.create()
    # ECP5: one 8192 x 2 block, one 512 x 36, and 8192 x 21 in eleven 8192 x 2
    assert syn.replace(memory="bram").blocks() == {"bram": 1 + 1 + 11}
    for conns in ([[0, 0, 1]], [[0, 2, 1], [4, 0, -1]], None):
        text = verilog.convert(ng.component("sparse", connections=conns).create())
        assert "[-1:0]" not in text


def test_with_the_shared_stream_bench(rng, rng_seed):
    from neurogate.sim import streams

    conns = random_connections(rng, 8, 5, 8, 0.5)
    syn = ng.component("sparse", connections=conns, n_in=8, n_out=5, acc_bits=10)
    events = rng.integers(0, 8, size=10).tolist()
    flush_at = 10 * 5 * 8 + 40
    res = streams.run(
        syn, {"aer": [{"addr": a} for a in events]}, {"flush": [0] * flush_at + [1]}, seed=rng_seed
    )
    assert max(res.cycles_of("aer")) < flush_at
    we = res.values["out_we"].astype(bool)
    assert res.values["out_addr"][we].tolist() == list(range(5))
    got = [(int(v) + 512) % 1024 - 512 for v in res.values["out_data"][we]]  # see test_dense
    assert got == syn.model().step_events(events).tolist()
