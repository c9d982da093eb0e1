"""routing_table: exact transaction model against the gateware, throughput, latency, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.sim import streams


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def random_table(rng, sources, max_fanout, dests):
    return tuple(
        tuple(int(d) for d in rng.integers(0, dests, size=int(rng.integers(0, max_fanout + 1))))
        for _ in range(sources)
    )


# -- known answers -----------------------------------------------------------------------------
def test_known_answer_multicast_order_and_cycles():
    # Hand-derived: sources 0 -> (5, 1), 1 -> (), 2 -> (7,), 3 -> (2, 2, 6). Inputs 3, 1, 0, 2
    # back to back with ready high: 3's destinations are offered from cycle 3 (latency 3), one
    # per clock; source 1 has none; then 0's and 2's follow without a gap.
    rt = ng.component("routing_table", table=((5, 1), (), (7,), (2, 2, 6)))
    assert (rt.addr_width, rt.dest_width, rt.latency) == (2, 3, 3)
    res = streams.run(rt, {"i": [3, 1, 0, 2]}, p_valid=1.0, p_ready=1.0, settle=6)
    assert [p["addr"] for p in res.payloads("o")] == [2, 2, 6, 5, 1, 7]
    assert res.cycles_of("o") == [3, 4, 5, 6, 7, 8]
    # source 1 (no destinations) leaves the lookup stage at once, so 0 is taken behind it at
    # cycle 2; 0 then waits in the lookup stage until 3's last destination is issued (cycle 4),
    # and 2 is taken in that cycle
    assert res.cycles_of("i") == [0, 1, 2, 4]
    assert rt.model().run([3, 1, 0, 2]) == [{"addr": a} for a in (2, 2, 6, 5, 1, 7)]


def test_known_answer_timestamps_and_range_error():
    # 3 sources in a 2-bit address space: source 3 is beyond the table (dropped, sticky flag).
    rt = ng.component("routing_table", table=((1,), (0, 1), ()), ts_width=4)
    events = [{"addr": 1, "ts": 9}, {"addr": 3, "ts": 2}, {"addr": 0, "ts": 15}]
    expected = [{"addr": 0, "ts": 9}, {"addr": 1, "ts": 9}, {"addr": 1, "ts": 15}]
    model = rt.model()
    assert model.run(events) == expected
    assert model.range_error
    res = streams.run(rt, {"i": events}, p_valid=1.0, p_ready=1.0, settle=6)
    assert res.payloads("o") == expected
    # the flag rises the cycle after the bad event is taken (cycle 1) and stays
    assert res.values["range_error"].tolist()[:4] == [0, 0, 1, 1]
    assert res.values["range_error"][-1] == 1


# -- gateware == model, swept --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sources", "max_fanout", "dests", "extra"),
    [(1, 3, 4, {}), (5, 0, 2, {"addr_width": 3}), (16, 4, 256, {"ts_width": 5}),
     (37, 6, 1000, {"addr_width": 7}), (200, 2, 64, {})],
)  # fmt: skip
@pytest.mark.parametrize(("p_valid", "p_ready"), [(1.0, 1.0), (0.6, 0.4), (0.3, 0.9)])
def test_gateware_matches_model(sources, max_fanout, dests, extra, p_valid, p_ready, rng_seed):
    rng = np.random.default_rng(rng_seed)
    table = random_table(rng, sources, max_fanout, dests)
    if not any(table):
        table = ((0,), *table[1:])
    rt = ng.component("routing_table", table=table, **extra)
    top = 1 << rt.addr_width
    events = [
        {"addr": int(a), "ts": int(rng.integers(1 << rt.ts_width))} if rt.ts_width else int(a)
        for a in rng.integers(0, top, size=60)
    ]
    model = rt.model()
    expected = model.run(events)
    res = streams.run(rt, {"i": events}, p_valid=p_valid, p_ready=p_ready, seed=rng_seed)
    assert res.payloads("o") == expected
    assert res.values["range_error"][-1] == model.range_error


@pytest.mark.parametrize("fanout", [1, 3])
def test_one_event_per_clock(fanout, rng_seed):
    rng = np.random.default_rng(rng_seed)
    table = tuple(tuple(int(d) for d in rng.integers(0, 64, fanout)) for _ in range(64))
    rt = ng.component("routing_table", table=table)
    res = streams.run(rt, {"i": rng.integers(0, 64, 100).tolist()}, p_valid=1.0, p_ready=1.0)
    cycles = res.cycles_of("o")
    assert len(cycles) == 100 * fanout
    assert cycles == list(range(3, 3 + 100 * fanout))  # no gaps, first after 3 cycles


# -- parameters ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"table": 5}, TypeError, "routing_table.table must be a non-empty sequence of "
         "destination lists (ints >= 0), not 5"),
        ({"table": ()}, ValueError, "routing_table.table must have 1..1048576 sources, not 0"),
        ({"table": ((1,), 2)}, TypeError,
         "routing_table.table[1] must be a list of destinations (ints >= 0), not 2"),
        ({"table": ((1, -2),)}, ValueError,
         "routing_table.table[0][1] must be an int >= 0, not -2"),
        ({"table": ((1, 1.0),)}, TypeError,
         "routing_table.table[0][1] must be an int >= 0, not 1.0"),
        ({"table": ((1,), (300,)), "dest_width": 8}, ValueError,
         "routing_table.table[1][0] must be a destination in 0..255 (dest_width=8), not 300"),
        ({"table": ((1,),) * 5, "addr_width": 2}, ValueError,
         "routing_table.table has 5 sources, more than addr_width=2 can address (4)"),
        ({"table": tuple((i % 65536,) for i in range(70000))}, ValueError,
         "routing_table needs 589 blocks of iCE40 UP5K EBR (30 x 4 kbit) for its table "
         "(index 315 + destinations 274), more than the 30 there are"),
        ({"memory": "spram"}, ValueError,
         "routing_table.memory must be one of 'ebr', 'bram', not 'spram'"),
        ({"ts_width": 33}, ValueError, "routing_table.ts_width must be an int in 0..32, not 33"),
    ],
)  # fmt: skip
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("routing_table", **params)


def test_bigger_table_fits_ecp5_and_widths_follow_the_table():
    table = tuple((i % 65536,) for i in range(70000))
    rt = ng.component("routing_table", table=table, memory="bram")
    assert (rt.addr_width, rt.dest_width, rt.entries) == (17, 16, 70000)
    small = rt.replace(table=((3,), (0, 1)), memory="ebr")
    assert (small.addr_width, small.dest_width) == (1, 2)
    assert ng.component("routing_table").table == tuple((i,) for i in range(16))


def test_model_argument_errors():
    rt = ng.component("routing_table", table=((1,), (0,)))
    with pytest.raises(ValueError, match=exact("events[1] address must be in 0..1, not 2")):
        rt.model().run([0, 2])
    with pytest.raises(ValueError, match=exact("routing_table models one table, not n=3")):
        rt.model(3)
