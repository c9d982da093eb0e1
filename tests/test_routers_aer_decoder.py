"""aer_decoder: cycle-exact and timestep models against the gateware, range check, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.plugins.synapses.sparse import connections_from_matrix
from neurogate.sim import streams


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def as_ints(spikes: np.ndarray) -> list[int]:
    """Rows of 0/1 as ints (bit i = neuron i), the way the bench reports the value port."""
    return [sum(1 << int(i) for i in np.flatnonzero(row)) for row in spikes]


def test_known_answer_cycles():
    # n = 4, events back to back: 2 (cycle 0), 0 (1), 2 (2), 5 (3: beyond n, dropped), 3 (4).
    # Strobes at cycles 2 and 4: step 1 = {2, 0} plus the event of cycle 2 -> 0b0101, shown from
    # cycle 3; step 2 = {5 dropped, 3} -> 0b1000, from cycle 5. The flag and counter change
    # the cycle after the bad event (cycle 4).
    dec = ng.component("aer_decoder", n=4, addr_width=3)
    res = streams.run(
        dec, {"i": [2, 0, 2, 5, 3]}, {"strobe": [0, 0, 1, 0, 1]}, p_valid=1.0, settle=3
    )
    assert res.cycles_of("i") == [0, 1, 2, 3, 4]
    assert res.values["spikes"].tolist()[:7] == [0, 0, 0, 0b0101, 0b0101, 0b1000, 0b1000]
    assert res.values["range_error"].tolist()[:6] == [0, 0, 0, 0, 1, 1]
    assert res.values["dropped"].tolist()[:6] == [0, 0, 0, 0, 1, 1]


@pytest.mark.parametrize(
    ("n", "addr_width", "ts_width"), [(1, 1, 0), (5, 3, 0), (16, 4, 3), (40, 7, 0), (100, 8, 0)]
)
@pytest.mark.parametrize("p_valid", [1.0, 0.4])
def test_gateware_matches_cycle_model(n, addr_width, ts_width, p_valid, rng_seed):
    rng = np.random.default_rng(rng_seed)
    dec = ng.component("aer_decoder", n=n, addr_width=addr_width, ts_width=ts_width, count_width=2)
    top = min(1 << addr_width, n + 3)  # mostly in range, some beyond n when there is room
    addrs = rng.integers(0, top, size=80).tolist()
    events = (
        [{"addr": a, "ts": int(rng.integers(1 << ts_width))} for a in addrs] if ts_width else addrs
    )
    strobe = (rng.random(150) < 0.15).astype(int).tolist()
    res = streams.run(dec, {"i": events}, {"strobe": strobe}, p_valid=p_valid, seed=rng_seed)
    log = [(t.cycle, t.payload) for t in res.transfers["i"]]
    exp = dec.model().cycles(log, strobe, res.cycles)
    assert res.values["spikes"].tolist() == as_ints(exp["spikes"])
    np.testing.assert_array_equal(res.values["range_error"], exp["range_error"])
    np.testing.assert_array_equal(res.values["dropped"], exp["dropped"])
    assert res.ready["i"].all()  # never stalls


def test_timestep_model_matches_gateware(rng_seed):
    # Timesteps separated by strobes on the bench's transfer log: each step's events are
    # those taken after the previous strobe up to and including the strobe's cycle.
    rng = np.random.default_rng(rng_seed)
    dec = ng.component("aer_decoder", n=12, addr_width=4)
    addrs = rng.integers(0, 16, size=60).tolist()
    strobe = (rng.random(120) < 0.2).astype(int).tolist()
    res = streams.run(dec, {"i": addrs}, {"strobe": strobe}, p_valid=0.5, seed=rng_seed)
    cuts = [t for t, s in enumerate(strobe) if s]
    steps, lo = [], -1
    for cut in cuts:
        steps.append([t.payload["addr"] for t in res.transfers["i"] if lo < t.cycle <= cut])
        lo = cut
    out = dec.model().run(steps)
    shown = [int(res.values["spikes"][c + 1]) for c in cuts if c + 1 < res.cycles]
    assert shown == as_ints(out["spikes"])[: len(shown)]
    # independent of the model: a bit is set iff its neuron had an event in the step
    for row, events in zip(out["spikes"], steps, strict=True):
        assert set(np.flatnonzero(row).tolist()) == {a for a in events if a < 12}


def test_duplicates_set_the_bit_once_and_counter_saturates():
    dec = ng.component("aer_decoder", n=3, addr_width=4, count_width=2)
    out = dec.model().run([[2, 2, 2, 9, 10], [15, 15, 1]])
    assert out["spikes"].tolist() == [[0, 0, 1], [0, 1, 0]]
    assert out["dropped"].tolist() == [2, 3]  # 4 dropped, held at 3
    assert out["range_error"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"n": 0}, ValueError, "aer_decoder.n must be an int in 1..4096, not 0"),
        ({"n": 300, "addr_width": 8}, ValueError,
         "aer_decoder.addr_width must be >= 9 to address n=300 neurons, not 8"),
        ({"addr_width": 0}, ValueError,
         "aer_decoder.addr_width must be None or an int in 1..32, not 0"),
        ({"count_width": 40}, ValueError,
         "aer_decoder.count_width must be an int in 1..32, not 40"),
    ],
)  # fmt: skip
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("aer_decoder", **params)


def test_model_argument_errors():
    dec = ng.component("aer_decoder", n=4)
    assert dec.addr_width == 2
    with pytest.raises(ValueError, match=exact("steps[0][1] address must be in 0..3, not 4")):
        dec.model().run([[0, 4]])
    with pytest.raises(ValueError, match=exact("aer_decoder models one decoder, not n=2")):
        dec.model(2)


# -- mode="rows": synapse-row lookup -------------------------------------------------------------
# Sources 0..3; the rows in the order given (source 1 has none): 0 -> (2, 5), (0, -3);
# 2 -> (1, 7); 3 -> (3, -1), (3, 2), (0, 0).
KA_CONNECTIONS = [[3, 3, -1], [0, 2, 5], [2, 1, 7], [0, 0, -3], [3, 3, 2], [3, 0, 0]]


def beats(pairs) -> list[dict]:
    return [{"target": t, "weight": w} for t, w in pairs]


def offers_of(res, port="i") -> list:
    """The input's offer on each cycle (None while valid is low), from the bench's log."""
    offers = [None] * res.cycles
    for t in res.transfers[port]:
        for cycle in range(t.offered, t.cycle + 1):
            offers[cycle] = t.payload
    return offers


def row_reference(connections, events, n):
    """Beats by a plain walk of the connection list (not the CSR the component builds)."""
    out = []
    for e in events:
        addr = e["addr"] if isinstance(e, dict) else e
        for source, target, weight in connections:
            if source == addr and addr < n:
                beat = {"target": target, "weight": weight}
                if isinstance(e, dict) and "ts" in e:
                    beat["ts"] = e["ts"]
                out.append(beat)
    return out


def test_rows_known_answer_cycles():
    # Events 0, 2, 1, 5 (beyond n = 4: dropped), 3 offered back to back, o.ready always high.
    # 0 is taken at cycle 0 (index read), moves to the row pointer at 1, issues at 2 and 3: its
    # beats are offered at 3 and 4 (latency 3). 2 is taken at 1 and waits in the index stage
    # until 0's last synapse issues (3): its beat at 5. 1 (empty row) is taken at 3 and leaves
    # at once; 5 is taken at 4 (flag and counter from 5); 3 is taken at 5, moves at 6, beats at
    # 8, 9, 10.
    dec = ng.component("aer_decoder", mode="rows", n=4, addr_width=3, connections=KA_CONNECTIONS)
    assert (dec.n_out, dec.latency, dec.target_width) == (4, 3, 2)
    res = streams.run(dec, {"i": [0, 2, 1, 5, 3]}, p_valid=1.0, p_ready=1.0, settle=4)
    assert res.cycles_of("i") == [0, 1, 3, 4, 5]
    assert res.cycles_of("o") == [3, 4, 5, 8, 9, 10]
    assert res.payloads("o") == beats([(2, 5), (0, -3), (1, 7), (3, -1), (3, 2), (0, 0)])
    assert res.values["range_error"].tolist()[:7] == [0, 0, 0, 0, 0, 1, 1]
    assert res.values["dropped"].tolist()[:7] == [0, 0, 0, 0, 0, 1, 1]
    out = dec.model().cycles([0, 2, 2, 1, 5, 3], [1] * 12)
    assert out["taken"] == [(0, 0), (1, 2), (3, 1), (4, 5), (5, 3)]
    assert out["transfers"] == list(zip(res.cycles_of("o"), res.payloads("o"), strict=True))
    assert dec.model().rows([0, 2, 1, 5, 3]) == res.payloads("o")


def test_rows_known_answer_timestamps_and_widths():
    # 9-bit weights, 3-bit timestamps: each beat carries its event's ts.
    dec = ng.component(
        "aer_decoder", mode="rows", n=2, ts_width=3, weight_bits=9,
        connections=[[1, 6, -256], [1, 0, 255], [0, 2, 1]], n_out=7,
    )  # fmt: skip
    assert dec.ports["o"].width == 3 + 9 + 3
    res = streams.run(dec, {"i": [{"addr": 1, "ts": 5}, {"addr": 0, "ts": 2}]}, seed=3)
    assert res.payloads("o") == [
        {"target": 6, "weight": -256, "ts": 5},
        {"target": 0, "weight": 255, "ts": 5},
        {"target": 2, "weight": 1, "ts": 2},
    ]


def _random_connections(rng, n, n_out, weight_bits, fanout):
    lo, hi = -(1 << (weight_bits - 1)), (1 << (weight_bits - 1)) - 1
    rows = []
    for source in rng.permutation(n).tolist():
        for _ in range(int(rng.integers(fanout[0], fanout[1] + 1))):
            rows.append([source, int(rng.integers(n_out)), int(rng.integers(lo, hi + 1))])
    if not rows:
        rows.append([0, 0, lo])
    order = rng.permutation(len(rows))  # sources interleaved: the CSR sorts them stably
    return [rows[k] for k in order]


@pytest.mark.parametrize(
    ("n", "addr_width", "ts_width", "n_out", "weight_bits", "fanout"),
    [(1, 1, 0, 1, 1, (1, 1)), (5, 3, 0, 9, 4, (0, 3)), (16, 4, 2, 300, 8, (1, 1)),
     (40, 7, 0, 40, 16, (0, 6)), (100, 7, 4, 7, 5, (0, 2))],
)  # fmt: skip
@pytest.mark.parametrize(("p_valid", "p_ready"), [(1.0, 1.0), (0.6, 0.4), (0.3, 0.9)])
def test_rows_gateware_matches_cycle_model(
    n, addr_width, ts_width, n_out, weight_bits, fanout, p_valid, p_ready, rng_seed
):
    rng = np.random.default_rng(rng_seed)
    conns = _random_connections(rng, n, n_out, weight_bits, fanout)
    dec = ng.component(
        "aer_decoder", mode="rows", n=n, addr_width=addr_width, ts_width=ts_width,
        connections=conns, n_out=n_out, weight_bits=weight_bits, count_width=2,
    )  # fmt: skip
    top = min(1 << addr_width, n + 3)  # mostly in range, some beyond n when there is room
    addrs = rng.integers(0, top, size=60).tolist()
    events = (
        [{"addr": a, "ts": int(rng.integers(1 << ts_width))} for a in addrs] if ts_width else addrs
    )
    res = streams.run(dec, {"i": events}, p_valid=p_valid, p_ready=p_ready, seed=rng_seed)
    exp = dec.model().cycles(offers_of(res), res.ready["o"])
    assert [c for c, _ in exp["taken"]] == res.cycles_of("i")
    assert exp["transfers"] == [(t.cycle, t.payload) for t in res.transfers["o"]]
    np.testing.assert_array_equal(res.ready["i"], exp["i_ready"])
    np.testing.assert_array_equal(res.valid["o"], exp["valid"])
    np.testing.assert_array_equal(res.values["range_error"], exp["range_error"])
    np.testing.assert_array_equal(res.values["dropped"], exp["dropped"])
    # transaction level, against a plain walk of the list
    assert res.payloads("o") == row_reference(conns, events, n)
    assert dec.model().rows(events) == res.payloads("o")


@pytest.mark.parametrize("fanout", [(1, 1), (1, 4), (0, 3)])
def test_rows_one_beat_per_clock(fanout, rng_seed):
    # valid and ready always high: no gap between beats once the first is out (empty rows
    # leave the index stage at once), so beats == cycles from the first to the last beat
    rng = np.random.default_rng(rng_seed)
    conns = _random_connections(rng, 32, 64, 8, fanout)
    dec = ng.component("aer_decoder", mode="rows", n=32, connections=conns)
    full = sorted({s for s, _, _ in conns})  # sources with a row
    events = [full[0], *rng.integers(0, 32, size=100).tolist()]
    res = streams.run(dec, {"i": events}, p_valid=1.0, p_ready=1.0, seed=rng_seed)
    cycles = res.cycles_of("o")
    assert len(cycles) == len(row_reference(conns, events, 32))
    # an event with an empty row still takes its input cycle (one event per clock in), so at
    # most one idle output cycle per such event
    empty = sum(1 for e in events[1:] if e not in full)
    assert cycles[-1] - cycles[0] + 1 <= len(cycles) + empty
    if fanout[0] >= 1:
        assert cycles == list(range(cycles[0], cycles[0] + len(cycles)))


def test_rows_csr_and_reference_helpers():
    dec = ng.component(
        "aer_decoder", mode="rows", n=5,
        connections=connections_from_matrix([[0, 4], [-2, 0], [0, 0], [1, 1], [0, 0]]),
    )  # fmt: skip
    assert dec.csr.ptr.tolist() == [0, 1, 2, 2, 4, 4]
    assert dec.csr.target.tolist() == [1, 0, 0, 1]
    assert dec.csr.weight.tolist() == [4, -2, 1, 1]
    assert dec.blocks() == (1, 1)


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"mode": "rows"}, ValueError, "aer_decoder.connections must be given with mode='rows'"),
        ({"mode": "rows", "connections": [[0, 1]]}, ValueError,
         "aer_decoder.connections must have 3 columns (source, target, weight), not 2"),
        ({"mode": "rows", "connections": [0, 1, 2]}, ValueError,
         "aer_decoder.connections must be None or a 2-D array (k, 3) of (source, target, "
         "weight), not shape (3,)"),
        ({"mode": "rows", "n": 4, "connections": [[0, 1, 2], [4, 0, 1]]}, ValueError,
         "aer_decoder.connections source must be in 0..n - 1 = 0..3, not 4 (synapse 1)"),
        ({"mode": "rows", "n": 4, "connections": [[0, 1, 2], [1, -1, 1]]}, ValueError,
         "aer_decoder.connections target must be in 0..n_out - 1 = 0..1, not -1 (synapse 1)"),
        ({"mode": "rows", "n": 4, "n_out": 3, "connections": [[0, 1, 2], [1, 3, 1]]},
         ValueError,
         "aer_decoder.connections target must be in 0..n_out - 1 = 0..2, not 3 (synapse 1)"),
        ({"mode": "rows", "n": 4, "connections": [[0, 1, 2], [1, 0, 128]]}, ValueError,
         "aer_decoder.connections weight must fit signed 8-bit [-128, 127] (weight_bits=8), "
         "not 128 (synapse 1)"),
        ({"mode": "rows", "n": 4, "weight_bits": 3, "connections": [[2, 1, -5]]}, ValueError,
         "aer_decoder.connections weight must fit signed 3-bit [-4, 3] (weight_bits=3), "
         "not -5 (synapse 0)"),
        ({"mode": "rows", "connections": [[0, 0, 1.5]]}, TypeError,
         "aer_decoder.connections must be None or an integer array, not dtype float64"),
        ({"connections": [[0, 0, 1]]}, ValueError,
         "aer_decoder.connections is for mode='rows', not mode='spikes' (leave it None)"),
        ({"n_out": 3}, ValueError,
         "aer_decoder.n_out is for mode='rows', not mode='spikes' (leave it None)"),
        ({"mode": "row"}, ValueError,
         "aer_decoder.mode must be one of 'spikes', 'rows', not 'row'"),
        # synapses of 1 + 3 bits, 30000 in 1024 x 4 blocks: 30; index words of 15 + 15 bits
        # (start, count) in 256 x 16 blocks: 2
        ({"mode": "rows", "n": 16, "n_out": 2, "weight_bits": 3,
          "connections": [[0, 0, 1]] * 30000}, ValueError,
         "aer_decoder needs 32 blocks of iCE40 UP5K EBR (30 x 4 kbit) for 16 rows and 30000 "
         "synapses, more than its 30"),
    ],
)  # fmt: skip
def test_rows_table_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("aer_decoder", **params)


def test_rows_model_argument_errors():
    dec = ng.component("aer_decoder", mode="rows", n=4, ts_width=2, connections=[[0, 1, 1]])
    with pytest.raises(ValueError, match=exact("events[1] address must be in 0..3, not 4")):
        dec.model().rows([0, 4])
    with pytest.raises(ValueError, match=exact("events[0] timestamp must be in 0..3, not 4")):
        dec.model().rows([{"addr": 0, "ts": 4}])
    with pytest.raises(ValueError, match=exact("aer_decoder model: run() is for mode='spikes'")):
        dec.model().run([[0]])
    spikes = ng.component("aer_decoder", n=4)
    with pytest.raises(ValueError, match=exact("aer_decoder model: rows() is for mode='rows'")):
        spikes.model().rows([0])
