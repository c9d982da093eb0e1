"""aer_encoder: gateware against the cycle-exact model, transaction order, overflow, fairness."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

import neurogate as ng
from neurogate.sim import streams


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def bits(indices) -> int:
    return sum(1 << int(i) for i in indices)


def run_encoder(enc, spikes, strobe, seed, p_ready):
    res = streams.run(
        enc, values={"spikes": spikes, "strobe": strobe}, p_ready=p_ready, seed=seed, settle=12
    )
    events = [(t.cycle, t.payload["addr"]) for t in res.transfers["aer"]]
    return res, events


# -- known answers (hand-derived from the documented order and latency) ------------------------
def test_known_answer_order_round_robin_and_priority():
    # n = 40: words of 8 (0..7, 8..15, 16..23, 24..31, 32..39).
    rr = ng.component("aer_encoder", n=40).model()
    assert rr.run([{3, 20, 33}]) == [[3, 20, 33]]  # words 0, 2, 4; last moved: 4
    assert rr.run([{17, 5, 18}]) == [[5, 17, 18]]  # wraps to word 0, then word 2; last: 2
    assert rr.run([{2, 35, 30}]) == [[30, 35, 2]]  # after word 2: words 3, 4, then 0
    assert rr.run([{39, 38, 0}]) == [[38, 39, 0]]  # after word 0 (the last moved): 4, then 0
    pr = ng.component("aer_encoder", n=40, arbiter="priority").model()
    assert pr.run([{2, 35, 30}, {39, 0, 8}]) == [[2, 30, 35], [0, 8, 39]]


def test_word_sizes():
    # the documented rule: the smallest power of two >= sqrt(n) and >= n / 8
    sizes = {n: ng.component("aer_encoder", n=n) for n in (1, 2, 8, 16, 64, 100, 129, 256, 1024)}
    assert [(e.word, e.words) for e in sizes.values()] == [
        (1, 1), (2, 1), (4, 2), (4, 4), (8, 8), (16, 7), (32, 5), (32, 8), (128, 8)
    ]  # fmt: skip


def test_known_answer_cycles():
    # n = 8: words of 4. Vector {1, 2, 6} strobed at cycle 0 with ready always high: the first
    # event is offered 4 cycles after the strobe, then one per clock; busy from cycle 1 (input
    # register) to the last event's cycle.
    enc = ng.component("aer_encoder", n=8)
    assert (enc.word, enc.latency) == (4, 4)
    res, events = run_encoder(enc, [bits([1, 2, 6])], [1], seed=0, p_ready=1.0)
    assert events == [(4, 1), (5, 2), (6, 6)]
    assert res.values["busy"][:9].tolist() == [0, 1, 1, 1, 1, 1, 1, 0, 0]
    # the cycle model says the same
    out = enc.model().cycles([bits([1, 2, 6])], [1], [1] * 9)
    assert out["transfers"] == events
    assert out["busy"].tolist() == [0, 1, 1, 1, 1, 1, 1, 0, 0]


def test_known_answer_overflow():
    # n = 8 (words 0..3, 4..7), ready low for 20 cycles. {5} strobed at 0 is pending at 2,
    # moves to the current word at 2 and to the output at 3. {1} strobed at 3 is pending at 5
    # and moves to the current word (the output is full). {2} strobed at 6 is pending at 8, and
    # stays there (the current word holds 1). {2} strobed again at 8 meets it at 9: lost;
    # overflow and the count change 3 cycles after that strobe, at 11. When ready rises at 20:
    # 5, then 1, then 2.
    enc = ng.component("aer_encoder", n=8)
    spikes = [bits([5]), 0, 0, bits([1]), 0, 0, bits([2]), 0, bits([2])]
    strobe = [1, 0, 0, 1, 0, 0, 1, 0, 1]
    ready = [0] * 20 + [1] * 10
    expected_overflow = [0] * 11 + [1] * 19
    for got in (
        enc.model().cycles(spikes, strobe, ready),
        _gateware_cycles(enc, spikes, strobe, ready),
    ):
        assert got["transfers"] == [(20, 5), (21, 1), (22, 2)]
        assert got["overflow"][:30].tolist() == expected_overflow
        assert got["overflow_count"][:30].tolist() == expected_overflow


def _gateware_cycles(enc, spikes, strobe, ready):
    res = streams.run(
        enc, values={"spikes": spikes, "strobe": strobe}, ready={"aer": ready}, settle=4
    )
    return {
        "transfers": [(t.cycle, t.payload["addr"]) for t in res.transfers["aer"]],
        **res.values,
    }


# -- gateware == cycle-exact model, swept ------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "arbiter"),
    [(1, "round_robin"), (3, "priority"), (16, "round_robin"), (40, "round_robin"),
     (40, "priority"), (64, "round_robin")],
)  # fmt: skip
@pytest.mark.parametrize("p_ready", [1.0, 0.5, 0.15])
def test_gateware_matches_cycle_model(n, arbiter, p_ready, rng_seed):
    rng = np.random.default_rng(rng_seed)
    enc = ng.component("aer_encoder", n=n, arbiter=arbiter, count_width=3)
    steps = 160
    density = rng.choice([0.05, 0.3, 0.9])
    spikes = [bits(np.flatnonzero(rng.random(n) < density)) for _ in range(steps)]
    strobe = (rng.random(steps) < rng.choice([0.05, 0.2, 0.6])).astype(int).tolist()
    res, events = run_encoder(enc, spikes, strobe, rng_seed, p_ready)
    exp = enc.model().cycles(spikes, strobe, res.ready["aer"])
    assert events == exp["transfers"]
    for key in ("busy", "overflow", "overflow_count"):
        np.testing.assert_array_equal(res.values[key], exp[key], err_msg=key)
    # no spike lost unseen: without overflow every strobed spike comes out exactly once
    sent = Counter(
        i for s, b in zip(spikes, strobe, strict=True) if b for i in range(n) if s >> i & 1
    )
    got = Counter(a for _, a in events)
    if res.values["overflow"][-1] == 0:
        assert got == sent
    else:
        assert got <= sent
        assert got != sent
        assert res.values["overflow_count"][-1] >= 1


@pytest.mark.parametrize(("n", "arbiter"), [(200, "round_robin"), (256, "priority")])
def test_gateware_matches_cycle_model_large(n, arbiter, rng_seed):
    # words of 32 (at most 8 words): a shorter run, one ready probability
    rng = np.random.default_rng(rng_seed)
    enc = ng.component("aer_encoder", n=n, arbiter=arbiter, count_width=3)
    assert enc.word == 32
    steps = 60
    spikes = [bits(np.flatnonzero(rng.random(n) < rng.choice([0.02, 0.2]))) for _ in range(steps)]
    strobe = (rng.random(steps) < 0.3).astype(int).tolist()
    res, events = run_encoder(enc, spikes, strobe, rng_seed, 0.6)
    exp = enc.model().cycles(spikes, strobe, res.ready["aer"])
    assert events == exp["transfers"]
    for key in ("busy", "overflow", "overflow_count"):
        np.testing.assert_array_equal(res.values[key], exp[key], err_msg=key)


# -- transaction level: vectors taken while idle -----------------------------------------------
@pytest.mark.parametrize(("n", "arbiter"), [(13, "round_robin"), (40, "round_robin"),
                                            (40, "priority"), (100, "round_robin")])  # fmt: skip
def test_gateware_matches_transaction_model(n, arbiter, rng_seed):
    rng = np.random.default_rng(rng_seed)
    enc = ng.component("aer_encoder", n=n, arbiter=arbiter)
    p_ready = 0.5
    vectors = [
        set(np.flatnonzero(rng.random(n) < rng.choice([0.1, 0.5])).tolist()) for _ in range(6)
    ]
    spikes, strobe, starts = [], [], []
    for v in vectors:
        starts.append(len(spikes))
        gap = 10 + int(4 * len(v) / p_ready)  # generous: the encoder is idle again by then
        spikes += [bits(v)] + [0] * gap
        strobe += [1] + [0] * gap
    res, events = run_encoder(enc, spikes, strobe, rng_seed, p_ready)
    assert all(res.values["busy"][s] == 0 for s in starts)  # the precondition of run()
    groups = [
        [a for c, a in events if lo <= c < hi]
        for lo, hi in zip(starts, [*starts[1:], 10**9], strict=True)
    ]
    assert groups == enc.model().run(vectors)
    if arbiter == "priority":
        assert groups == [sorted(v) for v in vectors]


# -- fairness ------------------------------------------------------------------------------------
def test_round_robin_serves_a_word_that_priority_starves():
    # n = 16 (words of 4). Neurons 0..3 fire on every cycle; neuron 15 fires once, at cycle 0.
    n, steps = 16, 60
    spikes = [bits([0, 1, 2, 3, 15])] + [bits([0, 1, 2, 3])] * (steps - 1)
    strobe = [1] * steps
    for arbiter, served in (("round_robin", True), ("priority", False)):
        enc = ng.component("aer_encoder", n=n, arbiter=arbiter)
        out = enc.model().cycles(spikes, strobe, [1] * steps)
        addrs = [a for c, a in out["transfers"] if c < steps]
        assert (15 in addrs) is served, arbiter
        if served:
            # word 3 waits for at most words - 1 = 3 other words: within 4 + 4 events
            assert addrs.index(15) < 2 * enc.word
        assert out["overflow"][-1] == 1  # neurons 0..3 fire faster than one word per 4 events


def test_counter_saturates():
    enc = ng.component("aer_encoder", n=4, count_width=2)
    steps = 40
    out = enc.model().cycles([0b1111] * steps, [1] * steps, [0] * steps)
    assert out["overflow_count"].max() == 3
    assert out["overflow_count"][-1] == 3


# -- parameters and model arguments ----------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"n": 0}, ValueError, "aer_encoder.n must be an int in 1..4096, not 0"),
        ({"n": 4097}, ValueError, "aer_encoder.n must be an int in 1..4096, not 4097"),
        ({"n": 4.0}, TypeError, "aer_encoder.n must be an int, not 4.0"),
        ({"arbiter": "fair"}, ValueError,
         "aer_encoder.arbiter must be one of 'round_robin', 'priority', not 'fair'"),
        ({"count_width": 0}, ValueError, "aer_encoder.count_width must be an int in 1..32, not 0"),
    ],
)  # fmt: skip
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("aer_encoder", **params)


def test_model_argument_errors():
    enc = ng.component("aer_encoder", n=8)
    with pytest.raises(ValueError, match=exact("vectors[1] names neuron 8, outside 0..7")):
        enc.model().run([{1}, {8}])
    with pytest.raises(ValueError, match=exact("spikes[0] must fit 8 bits, not 256")):
        enc.model().cycles([256], [1], [1])
    model = enc.model()
    model.cycles([1], [1], [0, 0])
    with pytest.raises(ValueError, match=exact(
        "aer_encoder model: run() needs an idle encoder (cycles() left events)"
    )):  # fmt: skip
        model.run([{1}])
    with pytest.raises(ValueError, match=exact("aer_encoder models one encoder, not n=2")):
        enc.model(2)


def test_ports_and_widths():
    enc = ng.component("aer_encoder", n=100, count_width=5)
    assert enc.addr_width == 7
    ports = enc.ports
    assert ports["aer"].width == 7
    assert ports["spikes"].width == 100
    assert ports["overflow_count"].width == 5
    assert isinstance(ports["aer"], ng.StreamPort)
