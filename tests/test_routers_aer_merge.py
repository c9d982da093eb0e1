"""aer_merge: no loss or duplication, per-input order, the fairness bound, backlogged order."""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
from neurogate.sim import streams


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


def check_guarantees(res, inputs: int) -> None:
    """The documented guarantees, checked on the bench's transfer logs."""
    log = sorted(
        (t.cycle, k, t.payload, t.offered) for k in range(inputs) for t in res.transfers[f"i{k}"]
    )
    cycles = [c for c, *_ in log]
    assert len(set(cycles)) == len(cycles), "two inputs taken in one cycle"
    # the output is the input transfers in cycle order (nothing lost, nothing duplicated)
    assert res.payloads("o") == [p for _, _, p, _ in log]
    # fairness: while input k offers an event, the others are served at most inputs - 1 times
    for cycle, k, _, offered in log:
        others = [j for c, j, _, _ in log if offered <= c < cycle and j != k]
        assert len(others) <= inputs - 1, (k, offered, cycle, others)
        assert len(set(others)) == len(others), "another input served twice while k waited"


def test_known_answer_backlogged():
    # Hand-derived round robin over the inputs that still have events, one per clock from
    # cycle 1 (latency 1).
    merge = ng.component("aer_merge", inputs=3, addr_width=5)
    queues = [[1, 2, 3, 4], [10, 11], [20]]
    expected = [1, 10, 20, 2, 11, 3, 4]
    assert merge.model().run(queues) == expected
    res = streams.run(
        merge, {f"i{k}": q for k, q in enumerate(queues)}, p_valid=1.0, p_ready=1.0, settle=4
    )
    assert [p["addr"] for p in res.payloads("o")] == expected
    assert res.cycles_of("o") == list(range(1, 8))


def test_model_keeps_the_pointer_between_calls():
    model = ng.component("aer_merge", inputs=2).model()
    assert model.run([[1], [2, 3]]) == [1, 2, 3]  # last served: input 1
    assert model.run([[4, 5], [6]]) == [4, 6, 5]  # starts after input 1: input 0


@pytest.mark.parametrize("inputs", [2, 3, 5, 8])
@pytest.mark.parametrize(("p_valid", "p_ready"), [(1.0, 1.0), (0.5, 0.5), (0.9, 0.3), (0.2, 1.0)])
def test_guarantees_under_random_handshakes(inputs, p_valid, p_ready, rng_seed):
    rng = np.random.default_rng(rng_seed)
    merge = ng.component("aer_merge", inputs=inputs, addr_width=6, ts_width=4)
    feeds = {
        f"i{k}": [
            {"addr": int(a), "ts": k} for a in rng.integers(0, 64, size=int(rng.integers(0, 25)))
        ]
        for k in range(inputs)
    }
    res = streams.run(merge, feeds, p_valid=p_valid, p_ready=p_ready, seed=rng_seed)
    check_guarantees(res, inputs)
    for k in range(inputs):  # each input's events, in order, all of them
        assert [p for p in res.payloads("o") if p["ts"] == k] == feeds[f"i{k}"]
    if p_valid == 1.0:
        queues = [feeds[f"i{k}"] for k in range(inputs)]
        assert res.payloads("o") == merge.model().run(queues)


def test_one_event_per_clock_and_the_bound_is_reached():
    # All inputs backlogged, ready always high: one event per clock, and input 3 (served
    # last in the first round) waits exactly inputs - 1 = 3 transfers of the others.
    merge = ng.component("aer_merge", inputs=4, addr_width=4)
    feeds = {f"i{k}": [k] * 10 for k in range(4)}
    res = streams.run(merge, feeds, p_valid=1.0, p_ready=1.0)
    assert res.cycles_of("o") == list(range(1, 41))
    waited = [t.cycle - t.offered for t in res.transfers["i3"]]
    assert max(waited) == 3


def test_the_checker_catches_unfairness():
    # A fake log in which input 2 waits while input 0 is served twice fails the check (and
    # one where the only other input of two is served twice fails the bound).
    class Fake:
        pass

    fake = Fake()
    t = streams.Transfer
    fake.transfers = {"i0": [t(0, 1, 0), t(1, 2, 1)], "i1": [], "i2": [t(2, 9, 0)]}
    fake.payloads = lambda port: [1, 2, 9]
    with pytest.raises(AssertionError, match="another input served twice"):
        check_guarantees(fake, 3)
    fake.transfers = {"i0": [t(0, 1, 0), t(1, 2, 1)], "i1": [t(2, 9, 0)]}
    with pytest.raises(AssertionError, match=re.escape("assert 2 <= (2 - 1)")):
        check_guarantees(fake, 2)


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"inputs": 1}, ValueError, "aer_merge.inputs must be an int in 2..32, not 1"),
        ({"inputs": 33}, ValueError, "aer_merge.inputs must be an int in 2..32, not 33"),
        ({"addr_width": 0}, ValueError, "aer_merge.addr_width must be an int in 1..32, not 0"),
    ],
)
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        ng.component("aer_merge", **params)


def test_model_argument_errors():
    merge = ng.component("aer_merge", inputs=3)
    with pytest.raises(ValueError, match=exact("aer_merge model needs 3 queues, not 2")):
        merge.model().run([[1], [2]])
    with pytest.raises(ValueError, match=exact("aer_merge models one merge, not n=2")):
        merge.model(2)
