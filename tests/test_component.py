"""The component contract, checked on the base class and on every registered component."""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.hdl import Fragment
from amaranth.lib import wiring

import neurogate as ng
from neurogate.core.component import Bool, Choice, Int, Optional, Param, Port

ALL = sorted(ng.get_plugin_manager(autoload=False).components())


class Toy(ng.Component):
    name = "toy"
    kind = "arith"
    width = Param(8, Int(1, 16), "bits")
    mode = Param("a", Choice("a", "b"), "mode")
    flag = Param(False, Bool(), "flag")
    limit = Param(None, Optional(Int(0, 9)), "limit")
    needed = Param(rule=Int(), doc="a required parameter")


def exact(msg: str) -> str:
    return f"^{re.escape(msg)}$"


@pytest.mark.parametrize(
    ("params", "exc", "msg"),
    [
        ({"width": 0}, ValueError, "toy.width must be an int in 1..16, not 0"),
        ({"width": True}, TypeError, "toy.width must be an int, not True"),
        ({"width": 2.0}, TypeError, "toy.width must be an int, not 2.0"),
        ({"width": "8"}, TypeError, "toy.width must be an int, not '8'"),
        ({"mode": "c"}, ValueError, "toy.mode must be one of 'a', 'b', not 'c'"),
        ({"flag": 1}, TypeError, "toy.flag must be a bool, not 1"),
        ({"limit": 10}, ValueError, "toy.limit must be None or an int in 0..9, not 10"),
        ({"limit": "x"}, TypeError, "toy.limit must be None or an int, not 'x'"),
        ({"colour": 1}, TypeError,
         "toy has no parameter 'colour'; its parameters are: width, mode, flag, limit, needed"),
    ],
)  # fmt: skip
def test_parameter_errors(params, exc, msg):
    with pytest.raises(exc, match=exact(msg)):
        Toy(needed=1, **params)


def test_required_parameter():
    with pytest.raises(TypeError, match=exact("toy.needed is required")):
        Toy()


def test_frozen_equal_hashable():
    a = Toy(needed=1, width=np.int64(4))
    assert type(a.width) is int
    with pytest.raises(AttributeError, match=exact(
        "toy parameters are frozen; use .replace(width=...) to make a changed copy"
    )):  # fmt: skip
        a.width = 5
    with pytest.raises(AttributeError, match=exact("toy parameters are frozen")):
        a.other = 5
    assert a == Toy(needed=1, width=4)
    assert len({a, Toy(needed=1, width=4), Toy(needed=2, width=4)}) == 2
    assert a.replace(width=5).width == 5
    assert a.width == 4
    assert repr(a) == "toy(width=4, mode='a', flag=False, limit=None, needed=1)"
    assert a.params == {"width": 4, "mode": "a", "flag": False, "limit": None, "needed": 1}


def test_replace_keeps_defaults_that_depend_on_other_parameters():
    enc = ng.component("lfsr")
    small = enc.replace(width=8)
    assert (small.seed, small.taps) == (0xE1, (8, 6, 5, 4))
    assert enc.replace(seed=5).replace(width=8).seed == 5
    assert small == ng.component("lfsr", width=8)
    assert hash(small) == hash(ng.component("lfsr", width=8))
    assert small != enc


def test_model_n_must_be_positive():
    lif = ng.component("lif")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=exact(f"n must be a positive int, not {bad!r}")):
            lif.model(bad)


# -- every registered component keeps the contract ------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_contract_of_registered_component(name, rng):
    comp = ng.component(name)
    assert comp.kind in ng.core.component.KINDS
    assert comp.latency >= 0
    assert comp.name == name
    # The gateware's signature has exactly the declared ports, widths and signedness.
    gw = comp.create()
    assert isinstance(gw, wiring.Component)
    Fragment.get(gw, None)  # it elaborates
    members = dict(gw.signature.members.items())
    assert set(members) == set(comp.ports)
    streams = [key for key, port in comp.ports.items() if isinstance(port, ng.StreamPort)]
    for key, port in comp.ports.items():
        member = members[key]
        assert member.flow == (wiring.In if port.direction == "in" else wiring.Out)
        if key in streams:
            assert member.signature.members["payload"].shape == port.layout, key
        else:
            assert member.shape == port.shape
    if streams:
        # Stream components have transaction-level models (their transfers depend on
        # valid/ready); their own tests run them on neurogate.sim.streams.
        with pytest.raises(TypeError, match="has stream ports"):
            ng.sim.random_inputs(comp, 4, 1)
        return
    # The model returns every output port (and documented state) as (T, n) integer arrays.
    steps, n = 17, 3
    stim = ng.sim.random_inputs(comp, steps, n, seed=int(rng.integers(2**31)))
    out = comp.model(n).run(stim)
    assert set(out) == set(comp.outputs) | set(comp.state)
    for key, arr in out.items():
        assert arr.shape == (steps, n), key
        assert arr.dtype.kind in "iu", key
        if key in comp.outputs:
            fmt = comp.outputs[key].format
            assert fmt.min <= arr.min()
            assert arr.max() <= fmt.max
    # Zero steps is valid and changes nothing.
    model = comp.model(n)
    empty = model.run({k: np.zeros((0, n), dtype=np.int64) for k in comp.inputs}, steps=0)
    assert all(a.shape == (0, n) for a in empty.values())
    again = model.run(stim)
    for key in out:
        np.testing.assert_array_equal(again[key], out[key])
    # reset() goes back to the reset state.
    model.reset()
    for key, arr in model.run(stim).items():
        np.testing.assert_array_equal(arr, out[key])


@pytest.mark.parametrize("name", ALL)
def test_random_source_protocol(name):
    comp = ng.component(name)
    if comp.sequence_key() is None:
        with pytest.raises(TypeError, match=exact(f"{name} has no random source to allocate a "
                                                  "seed for")):  # fmt: skip
            comp.allocate_seed(0)
        return
    allocated = [comp.allocate_seed(i) for i in range(16)]
    keys = [c.sequence_key() for c in allocated]
    assert len(set(keys)) == len(keys), "the first 16 allocations must differ"
    hash(keys[0])
    assert allocated[3] == comp.allocate_seed(3)  # deterministic


def test_lfsr_allocations_are_far_apart_on_the_cycle():
    from neurogate.plugins.encoders.lfsr import lfsr_states

    enc = ng.component("lfsr", width=12)
    period = 4095
    cycle = lfsr_states(12, enc.taps, enc.seed, period).tolist()
    where = {s: i for i, s in enumerate(cycle)}
    offsets = sorted(where[enc.allocate_seed(i).seed] for i in range(8))
    gaps = np.diff([*offsets, offsets[0] + period])
    assert gaps.min() > period // 16, gaps  # no two streams are a few steps apart


class _Relay(ng.Component):
    """A one-register AER relay: the smallest component with stream ports."""

    name = "test_relay"
    kind = "router"

    @property
    def ports(self):
        from neurogate.gateware.aer import event_layout

        return {
            "i": ng.StreamPort("in", event_layout(4), "events in"),
            "o": ng.StreamPort("out", event_layout(4), "events out"),
            "count": Port("out", 8, False, "events passed"),
        }


def test_stream_ports_in_signature_and_rejected_by_value_simulation():
    from amaranth.lib import stream, wiring

    relay = _Relay()
    sig = relay.signature()
    assert isinstance(sig.members["i"].signature, stream.Signature)
    assert sig.members["i"].flow == wiring.In
    assert sig.members["o"].flow == wiring.Out
    assert relay.ports["o"].width == 4
    assert relay.ports["i"].describe() == "in  stream 4"
    msg = (
        "test_relay has stream ports (i, o): simulate it with neurogate.sim.streams, "
        "not with one value per cycle"
    )
    with pytest.raises(TypeError, match=re.escape(msg)):
        ng.sim.random_inputs(relay, steps=4)
    with pytest.raises(TypeError, match=re.escape(msg)):
        ng.sim.run(relay, {}, backend="model")
