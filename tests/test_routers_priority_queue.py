"""priority_queue: the documented rules checked on the bench's logs, and the cycle-exact model."""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.sim import streams


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def ev(addr, prio, ts=None):
    event = {"addr": addr} if ts is None else {"addr": addr, "ts": ts}
    return {"event": event, "prio": prio}


def check_rules(pq, res) -> None:
    """The module docstring's rules, checked on the transfer logs (not with the model).

    Every input event carries a unique address, so outputs can be matched to inputs.
    """

    def level(payload):
        return min(payload["prio"], pq.levels - 1)

    ins = res.transfers["i"]
    arrival = {t.payload["event"]["addr"]: (t.cycle, level(t.payload)) for t in ins}
    outs = res.transfers["o"]
    out_addrs = [t.payload["addr"] for t in outs]
    assert len(set(out_addrs)) == len(out_addrs), "an event came out twice"
    assert set(out_addrs) <= set(arrival), "an event came out that never went in"
    loaded = {t.payload["addr"]: t.offered - 1 for t in outs}  # taken from its level
    sent = {t.payload["addr"]: t.cycle for t in outs}
    # FIFO among equals
    for q in range(pq.levels):
        order_in = [a for a in arrival if arrival[a][1] == q and a in sent]
        order_out = [a for a in out_addrs if arrival[a][1] == q]
        assert order_out == sorted(order_in, key=lambda a: arrival[a][0])
    # strict priority: when e was taken, no kept event more urgent had been waiting since an
    # earlier cycle
    for e in out_addrs:
        for u in out_addrs:
            if arrival[u][1] < arrival[e][1] and arrival[u][0] < loaded[e]:
                assert loaded[u] < loaded[e], (e, u)
    # drops: exactly the events that met a full level (every kept event comes out: the bench
    # drains the queue), where a level holds the kept events that arrived in earlier cycles and
    # were not taken from it yet
    dropped = 0
    for t in ins:
        a, q = t.cycle, level(t.payload)
        held = sum(1 for u in sent if arrival[u][1] == q and arrival[u][0] < a and loaded[u] >= a)
        addr = t.payload["event"]["addr"]
        assert (addr not in sent) == (held >= pq.depth), (addr, held)
        dropped += addr not in sent
    top = (1 << pq.count_width) - 1
    assert res.values["drop_count"][-1] == min(dropped, top)
    assert res.values["dropped"][-1] == (dropped > 0)
    # deadline: first high at min(in + max_latency + 2) over the events that waited longer
    if pq.max_latency is None:
        assert not res.values["deadline"].any()
        return
    late = [
        arrival[e][0] + pq.max_latency + 2 for e in sent if sent[e] - arrival[e][0] > pq.max_latency
    ]
    flag = res.values["deadline"]
    first = int(np.argmax(flag)) if flag.any() else None
    assert first == (min(late) if late else None)


def model_of(pq, res):
    inputs = {t.cycle: t.payload for t in res.transfers["i"]}
    return pq.model().cycles(inputs, res.ready["o"])


# -- known answers -----------------------------------------------------------------------------
def test_known_answer_drop_and_priority():
    # The module docstring's example, on the gateware: arrivals at cycles 0..4, ready from 6.
    pq = ng.component("priority_queue", levels=4, depth=2, addr_width=4)
    events = [ev(1, 3), ev(2, 3), ev(3, 0), ev(4, 3), ev(5, 3)]
    res = streams.run(pq, {"i": events}, p_valid=1.0, ready={"o": [0] * 6}, p_ready=1.0)
    assert res.cycles_of("i") == [0, 1, 2, 3, 4]
    assert [(t.cycle, t.payload["addr"]) for t in res.transfers["o"]] == [
        (6, 1), (7, 3), (8, 2), (9, 4)
    ]  # fmt: skip
    assert res.values["drop_count"].tolist()[:7] == [0, 0, 0, 0, 0, 1, 1]
    check_rules(pq, res)


def test_known_answer_deadline():
    # max_latency 3. Through an idle queue an event waits 2 cycles (latency 2): no flag. An
    # event that arrives at cycle 0 while o is blocked reaches age 4 at cycle 4: the flag is
    # high from cycle 5.
    pq = ng.component("priority_queue", levels=2, depth=4, max_latency=3)
    fast = streams.run(pq, {"i": [ev(7, 1)]}, p_valid=1.0, p_ready=1.0, settle=8)
    assert fast.cycles_of("o") == [2]
    assert not fast.values["deadline"].any()
    slow = streams.run(pq, {"i": [ev(7, 1)]}, p_valid=1.0, ready={"o": [0] * 10}, p_ready=1.0)
    assert slow.cycles_of("o") == [10]
    assert slow.values["deadline"].tolist()[:7] == [0, 0, 0, 0, 0, 1, 1]
    # the cutoff: blocked until cycle 3 -> taken at 3 after waiting exactly 3 cycles: no flag
    edge = streams.run(pq, {"i": [ev(7, 1)]}, p_valid=1.0, ready={"o": [0] * 3}, p_ready=1.0)
    assert edge.cycles_of("o") == [3]
    assert not edge.values["deadline"].any()


def test_one_event_per_clock_from_a_backlog():
    pq = ng.component("priority_queue", levels=3, depth=8, addr_width=5)
    events = [ev(a, a % 3) for a in range(20)]
    res = streams.run(pq, {"i": events}, p_valid=1.0, ready={"o": [0] * 25}, p_ready=1.0)
    assert res.cycles_of("o") == list(range(25, 45))
    # the first taken (addr 0, before the others arrived) goes first, then by priority
    assert [p["addr"] for p in res.payloads("o")][:8] == [0, 3, 6, 9, 12, 15, 18, 1]


# -- random handshakes: the rules and the cycle-exact model --------------------------------------
@pytest.mark.parametrize(
    ("levels", "depth", "max_latency", "ts_width"),
    [(2, 2, None, 0), (3, 3, 1, 0), (3, 8, 6, 3), (5, 4, 20, 0), (16, 2, 3, 0)],
)
@pytest.mark.parametrize(("p_valid", "p_ready"), [(1.0, 1.0), (0.8, 0.3), (0.4, 0.6)])
def test_rules_and_model_under_random_handshakes(
    levels, depth, max_latency, ts_width, p_valid, p_ready, rng_seed
):
    rng = np.random.default_rng(rng_seed)
    pq = ng.component(
        "priority_queue", levels=levels, depth=depth, addr_width=7, ts_width=ts_width,
        max_latency=max_latency, count_width=3,
    )  # fmt: skip
    top_prio = (1 << pq.prio_width) - 1  # levels=3 or 5: some values beyond, counted as last
    events = [
        ev(
            a,
            int(rng.integers(0, top_prio + 1)),
            int(rng.integers(1 << ts_width)) if ts_width else None,
        )
        for a in range(70)
    ]
    res = streams.run(pq, {"i": events}, p_valid=p_valid, p_ready=p_ready, seed=rng_seed)
    assert res.ready["i"].all()
    check_rules(pq, res)
    exp = model_of(pq, res)
    assert [(t.cycle, t.payload) for t in res.transfers["o"]] == exp["transfers"]
    for key in ("dropped", "drop_count", "deadline"):
        np.testing.assert_array_equal(res.values[key], exp[key], err_msg=key)


def test_rule_checker_catches_a_broken_order():
    # Swap two outputs of different priority in a real log: the strict-priority rule fails.
    pq = ng.component("priority_queue", levels=2, depth=4, addr_width=4)
    events = [ev(1, 1), ev(2, 1), ev(3, 0)]
    res = streams.run(pq, {"i": events}, p_valid=1.0, ready={"o": [0] * 6}, p_ready=1.0)
    check_rules(pq, res)
    o = res.transfers["o"]
    assert [t.payload["addr"] for t in o] == [1, 3, 2]
    res.transfers["o"] = [o[0], o[2].__class__(o[1].cycle, o[2].payload, o[1].offered),
                          o[1].__class__(o[2].cycle, o[1].payload, o[2].offered)]  # fmt: skip
    with pytest.raises(AssertionError):
        check_rules(pq, res)


# -- parameters ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"levels": 1}, ValueError, "priority_queue.levels must be an int in 2..16, not 1"),
        ({"depth": 1}, ValueError, "priority_queue.depth must be an int in 2..1024, not 1"),
        ({"max_latency": 0}, ValueError,
         "priority_queue.max_latency must be None or an int in 1..1048576, not 0"),
        ({"max_latency": 2.5}, TypeError,
         "priority_queue.max_latency must be None or an int, not 2.5"),
    ],
)  # fmt: skip
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("priority_queue", **params)


def test_layout_and_widths():
    pq = ng.component("priority_queue", levels=5, addr_width=9, ts_width=4, max_latency=100)
    assert (pq.prio_width, pq.age_width) == (3, 7)
    assert list(dict(pq.input_layout.members)) == ["event", "prio"]
    assert pq.ports["i"].width == 9 + 4 + 3
    assert pq.ports["o"].width == 13
    with pytest.raises(ValueError, match=exact("priority_queue models one queue, not n=2")):
        pq.model(2)
