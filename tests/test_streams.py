"""The stream test bench: seeded random valid/ready, transfer logs, and the stream rules checked."""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from neurogate.gateware.aer import aer_signature, event_layout
from neurogate.sim import streams
from neurogate.sim.streams import StreamProtocolError, StreamTimeoutError, decode, encode


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


class Stage(wiring.Component):
    """A correct registered pipeline stage (addr + 1), with a value port counting transfers."""

    def __init__(self, ts_width=0):
        super().__init__(
            {
                "i": In(aer_signature(6, ts_width)),
                "o": Out(aer_signature(6, ts_width)),
                "gain": In(3),
                "count": Out(8),
            }
        )

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.ready):
            m.d.sync += [
                self.o.valid.eq(self.i.valid),
                self.o.payload.eq(self.i.payload),
                self.o.payload.addr.eq(self.i.payload.addr + self.gain),
            ]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.count.eq(self.count + 1)
        return m


class DropsValid(wiring.Component):
    """Broken on purpose: offers each payload for one cycle only, taken or not."""

    def __init__(self):
        super().__init__({"o": Out(aer_signature(4))})

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.o.valid.eq(~self.o.valid)
        with m.If(self.o.valid):
            m.d.sync += self.o.payload.addr.eq(self.o.payload.addr + 1)
        return m


class ChangesPayload(wiring.Component):
    """Broken on purpose: valid always high, the payload a free-running counter."""

    def __init__(self):
        super().__init__({"o": Out(aer_signature(4))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.o.valid.eq(1)
        m.d.sync += self.o.payload.addr.eq(self.o.payload.addr + 1)
        return m


class NeverReady(wiring.Component):
    def __init__(self):
        super().__init__({"i": In(aer_signature(4))})

    def elaborate(self, platform):
        m = Module()
        dummy = Signal()
        m.d.sync += dummy.eq(~dummy)
        return m


@pytest.mark.parametrize(("p_valid", "p_ready"), [(1.0, 1.0), (0.5, 0.5), (0.2, 0.9), (0.9, 0.2)])
def test_stage_passes_every_payload_in_order(p_valid, p_ready, rng_seed):
    rng = np.random.default_rng(rng_seed)
    addrs = rng.integers(0, 60, size=40).tolist()
    res = streams.run(
        Stage(),
        {"i": [{"addr": a} for a in addrs]},
        {"gain": [1]},
        p_valid=p_valid,
        p_ready=p_ready,
        seed=rng_seed,
    )
    # gain is 1 on cycle 0 only, then 0: the first payload may or may not get +1, so compare
    # the ones taken after cycle 0.
    taken = res.transfers["i"]
    out = res.payloads("o")
    assert len(out) == len(addrs)
    for t, o in zip(taken, out, strict=True):
        assert o["addr"] == t.payload["addr"] + (1 if t.cycle == 0 else 0)
    # every output transfer comes after its input transfer, in order, and is counted
    assert all(o.cycle > t.cycle for t, o in zip(taken, res.transfers["o"], strict=True))
    assert res.values["count"][-1] == len(addrs)
    assert res.values["count"].shape == (res.cycles,)
    # the bench's inputs keep the stream rules: valid held until ready
    v, r = res.valid["i"], res.ready["i"]
    held = (v[:-1] == 1) & (r[:-1] == 0)
    assert (v[1:][held] == 1).all()
    # the recorded ready of an output is the bench's draw, and transfers are exactly v & r
    vo, ro = res.valid["o"], res.ready["o"]
    assert res.cycles_of("o") == np.flatnonzero(vo & ro).tolist()
    assert res.cycles_of("i") == np.flatnonzero(v & r).tolist()


def test_known_answer_back_to_back():
    # Hand-derived: with valid and ready always high, input k moves in cycle k and comes out
    # of the one-register stage in cycle k + 1; gain 2 on cycles 0..1, then 0.
    res = streams.run(
        Stage(), {"i": [5, 9, {"addr": 1}]}, {"gain": [2, 2]}, p_valid=1.0, p_ready=1.0, settle=4
    )
    assert res.cycles_of("i") == [0, 1, 2]
    assert res.cycles_of("o") == [1, 2, 3]
    assert res.payloads("o") == [{"addr": 7}, {"addr": 11}, {"addr": 1}]
    assert [t.offered for t in res.transfers["o"]] == [1, 2, 3]
    assert res.values["count"].tolist()[:5] == [0, 0, 1, 2, 3]
    assert res.cycles == 4 + 4  # the last offer is at cycle 3, then 4 quiet cycles


def test_timestamps_pass_and_offered_counts_the_wait(rng_seed):
    events = [{"addr": i, "ts": 100 + i} for i in range(20)]
    res = streams.run(Stage(ts_width=8), {"i": events}, p_ready=0.3, seed=rng_seed)
    assert res.payloads("o") == events
    waits = [t.cycle - t.offered for t in res.transfers["o"]]
    assert min(waits) >= 0
    assert max(waits) > 0  # with p_ready 0.3, some offer waits


def test_same_seed_same_run_other_seed_other_timing():
    events = list(range(30))
    a = streams.run(Stage(), {"i": events}, seed=3)
    b = streams.run(Stage(), {"i": events}, seed=3)
    c = streams.run(Stage(), {"i": events}, seed=4)
    assert a.cycles_of("o") == b.cycles_of("o")
    assert a.cycles_of("o") != c.cycles_of("o")
    assert a.payloads("o") == c.payloads("o")


def test_ready_probability_is_respected(rng_seed):
    res = streams.run(Stage(), {"i": list(range(60))}, p_ready=0.25, p_valid=1.0, seed=rng_seed)
    assert 0.15 < res.ready["o"].mean() < 0.35


def test_catches_valid_dropped_before_ready():
    # DropsValid's valid register is 0 after reset (cycle 0), offers addr 0 in cycle 1 and
    # drops it in cycle 2: with ready (almost) never high that is a protocol error at cycle 2.
    with pytest.raises(StreamProtocolError) as info:
        streams.run(DropsValid(), p_ready={"o": 1e-9}, seed=0)
    assert info.value.port == "o"
    assert str(info.value) == (
        "DropsValid: output stream 'o' dropped valid at cycle 2 before ready "
        "(payload {'addr': 0} offered at cycle 1; seed=0)"
    )


def test_catches_payload_changed_before_ready():
    with pytest.raises(StreamProtocolError, match=exact(
        "ChangesPayload: output stream 'o' changed its payload from {'addr': 0} to {'addr': 1} "
        "at cycle 1 before ready (offered at cycle 0; seed=5)"
    )):  # fmt: skip
        streams.run(ChangesPayload(), p_ready=1e-9, seed=5)


def test_broken_component_passes_when_always_ready():
    # With ready high on every cycle nothing waits, so nothing can break the rules: the check
    # is about offers that wait.
    with pytest.raises(StreamTimeoutError, match="output 'o' still offering"):
        streams.run(ChangesPayload(), p_ready=1.0, max_cycles=50)


def test_timeout_names_what_is_left():
    with pytest.raises(StreamTimeoutError, match=exact(
        "NeverReady: not done after 40 cycles: input 'i' sent 0 of 3 payloads (seed=2)"
    )):  # fmt: skip
        streams.run(NeverReady(), {"i": [1, 2, 3]}, seed=2, max_cycles=40)


@pytest.mark.parametrize(
    ("kwargs", "exc", "msg"),
    [
        ({"streams": {"x": [1]}}, ValueError,
         "Stage has no input stream 'x'; its input streams are: i"),
        ({"values": {"count": [1]}}, ValueError,
         "Stage has no input value port 'count'; its input value ports are: gain"),
        ({"values": {"gain": [8]}}, ValueError, "values['gain'][0] must fit unsigned(3) (0..7), "
         "not 8"),
        ({"p_valid": 0}, ValueError, "p_valid for 'i' must be a number in (0, 1], not 0"),
        ({"p_ready": {"q": 0.5}}, ValueError, "p_ready names 'q', which is not one of: o"),
        ({"streams": {"i": [{"adr": 1}]}}, ValueError,
         "i[0] has no field 'adr'; its fields are: addr"),
        ({"streams": {"i": [64]}}, ValueError, "i[0] must fit unsigned(6) (0..63), not 64"),
        ({"streams": {"i": [1.5]}}, TypeError,
         "i[0] must be an int or a dict of fields, not 1.5"),
    ],
)  # fmt: skip
def test_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        streams.run(Stage(), **kwargs)


def test_encode_decode_round_trip(rng):
    layout = event_layout(10, ts_width=7)
    for _ in range(50):
        ev = {"addr": int(rng.integers(1024)), "ts": int(rng.integers(128))}
        bits = encode(layout, ev)
        assert bits == ev["addr"] | ev["ts"] << 10
        assert decode(layout, bits) == ev
    from amaranth.hdl import signed

    assert decode(signed(4), encode(signed(4), -3)) == -3


def test_ready_schedule_overrides_the_random_draw():
    # ready low for cycles 0..5 and high at 6: the first output (offered at cycle 1) waits
    # there; after the schedule ends ready is random again.
    res = streams.run(
        Stage(), {"i": [1, 2]}, p_valid=1.0, ready={"o": [0] * 6 + [1]}, p_ready=1.0, settle=4
    )
    assert res.ready["o"][:7].tolist() == [0] * 6 + [1]
    assert res.cycles_of("o") == [6, 7]
    assert res.transfers["o"][0].offered == 1
    with pytest.raises(ValueError, match=exact(
        "Stage has no output stream 'i'; its output streams are: o"
    )):  # fmt: skip
        streams.run(Stage(), ready={"i": [1]})


def test_decode_takes_raw_bits_or_signed_values():
    from amaranth.hdl import signed

    from neurogate.sim.streams import decode

    assert decode(signed(12), 4096 - 482) == -482  # raw bits
    assert decode(signed(12), -482) == -482  # a signed signal's value, as ctx.get gives it
    assert decode(signed(12), 482) == 482
