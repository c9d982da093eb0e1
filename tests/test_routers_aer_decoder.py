"""aer_decoder: cycle-exact and timestep models against the gateware, range check, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import neurogate as ng
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
