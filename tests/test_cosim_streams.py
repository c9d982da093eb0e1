"""Stream components (routers, event-driven synapses) under Verilator and Icarus via cocotb.

The stream bench (:mod:`neurogate.sim.streams`) is one program (:mod:`neurogate.sim.harness`)
on every backend, with the same seeded ``valid``/``ready`` draws, so a co-simulated run must
equal the ``pysim`` run *cycle for cycle*: every transfer with its cycle, every ``valid`` and
``ready``, every value-port output. Every built-in stream component, at its defaults and at
other parameter points, goes into one generated top (``streams.run_many``): one compile per
simulator. The ``pysim`` runs themselves are checked against the models in the
``test_routers_*``/``test_synapses_*`` files; here a stream-only component is also checked
against its transaction-level model directly on each backend (``check_bit_true``).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

import neurogate as ng
from neurogate.core.component import StreamPort
from neurogate.gateware.aer import aer_signature, event_layout
from neurogate.sim import streams
from neurogate.testing import check_bit_true

#: Parameter points besides the defaults.
EXTRA_PARAMS = {
    "aer_encoder": [{"n": 40, "arbiter": "priority", "count_width": 3}],
    "aer_decoder": [
        {"n": 6, "addr_width": 4, "ts_width": 2, "count_width": 2},
        {
            "mode": "rows",
            "n": 4,
            "addr_width": 3,
            "connections": [[0, 1, 5], [0, 3, -2], [2, 0, 7], [3, 3, 1], [3, 2, -8]],
        },
    ],
    "aer_merge": [{"inputs": 3, "addr_width": 5, "ts_width": 3}],
    "mesh_router": [{"width": 3, "height": 2, "x": 1, "y": 0, "local_width": 3, "ts_width": 2}],
    "priority_queue": [{"levels": 2, "depth": 4, "max_latency": 3}],
    "routing_table": [{"table": ((5, 1), (), (7,), (2, 2, 6)), "ts_width": 2}],
    "dense": [{"n_in": 5, "n_out": 3, "weights": [[1, -2, 3]] * 5, "lanes": 2}],
    "sparse": [{"n_in": 4, "n_out": 3, "connections": [[0, 1, 5], [1, 2, -3], [3, 0, 2]]}],
}


def _stream_components() -> list:
    pm = ng.get_plugin_manager(autoload=False)
    comps = []
    for name, reg in sorted(pm.components().items()):
        cls = reg.obj
        if not any(isinstance(p, StreamPort) for p in cls().ports.values()):
            continue
        for params in [{}, *EXTRA_PARAMS.get(name, [])]:
            comps.append(cls(**params))
    return comps


def _random_value(port, rng) -> int:
    bits = int.from_bytes(rng.bytes((port.width + 7) // 8), "little") % (1 << port.width)
    return bits - (1 << port.width) if port.signed and bits >> (port.width - 1) else bits


def _job(comp, rng, cycles=160):
    """Random payloads on every input stream, random values on every input value port."""
    feeds, values = {}, {}
    for key, port in comp.ports.items():
        if port.direction != "in":
            continue
        if isinstance(port, StreamPort):
            count = int(rng.integers(5, 30))
            raw = rng.integers(0, 1 << min(port.width, 62), size=count).tolist()
            feeds[key] = [streams.decode(port.layout, int(b)) for b in raw]
        elif port.width == 1:  # strobes, flushes, write enables: now and then
            values[key] = (rng.random(cycles) < 0.04).astype(int).tolist()
        else:
            values[key] = [_random_value(port, rng) for _ in range(cycles)]
    options = {"seed": int(rng.integers(1 << 30)), "p_valid": float(rng.uniform(0.3, 1.0)),
               "p_ready": float(rng.uniform(0.3, 1.0)), "max_cycles": 20_000}  # fmt: skip
    return (comp, feeds, values, options)


def _same_run(a: streams.StreamRun, b: streams.StreamRun, what: str) -> None:
    assert a.cycles == b.cycles, f"{what}: {a.cycles} cycles in pysim, {b.cycles}"
    assert a.transfers == b.transfers, what
    for trace in ("valid", "ready", "values"):
        mine, theirs = getattr(a, trace), getattr(b, trace)
        assert mine.keys() == theirs.keys(), what
        for key in mine:
            assert np.array_equal(mine[key], theirs[key]), f"{what}: {trace} of {key!r} differ"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["verilator", "icarus"])
def test_every_stream_component_equals_pysim_cycle_for_cycle(
    backend, rng, quick_builds, require_backend
):
    require_backend(backend)
    comps = _stream_components()
    assert {c.name for c in comps} >= {"aer_encoder", "aer_decoder", "aer_merge", "dense",
                                       "mesh_router", "priority_queue", "routing_table",
                                       "sparse"}  # fmt: skip
    jobs = [_job(c, rng) for c in comps]
    want = streams.run_many(jobs, "pysim")
    got = streams.run_many(jobs, backend)
    moved = 0
    for (comp, *_), a, b in zip(jobs, want, got, strict=True):
        _same_run(a, b, f"{comp!r} on {backend}")
        moved += sum(len(t) for t in a.transfers.values())
    assert moved > 200  # the benches did move payloads


class Relay(ng.Component):
    """A registered AER stage with a transaction-level model: events out as they came in."""

    name = "t_relay"
    kind = "router"
    plus = 0  # the gateware adds this to every address; the model never does

    @property
    def ports(self):
        layout = event_layout(5)
        return {"i": ng.StreamPort("in", layout), "o": ng.StreamPort("out", layout)}

    def model(self, n=1):
        return RelayModel()

    def create(self):
        return RelayGateware(self)


class RelayModel:
    def run(self, streams):
        return {"o": list(streams["i"])}


class RelayGateware(ng.Gateware):
    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.ready):
            m.d.sync += [
                self.o.valid.eq(self.i.valid),
                self.o.payload.addr.eq(self.i.payload.addr + type(self.params).plus),
            ]
        return m


class BrokenRelay(Relay):
    name = "t_broken_relay"
    plus = 1


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["verilator", "icarus"])
def test_stream_model_check_on_cosim(backend, rng_seed, quick_builds, require_backend):
    """check_bit_true runs a stream component's transaction model against co-simulation."""
    require_backend(backend)
    (result,) = check_bit_true(Relay(), backends=("model", "pysim", backend), steps=30,
                               seed=rng_seed)  # fmt: skip
    assert result.backends == ("model", "pysim", backend)
    assert len(result.outputs["o"]) == 30
    message = (
        rf"^model and {backend} differ first at transfer 0 of output stream 'o': "
        rf"model=\{{'addr': (\d+)\}}, {backend}=\{{'addr': (\d+)\}} \(model 30 payloads, "
        rf"{backend} 30; p_valid=1\.0, p_ready=1\.0, seed={rng_seed}; t_broken_relay\(\)\)$"
    )
    with pytest.raises(ng.sim.MismatchError, match=message) as caught:
        check_bit_true(BrokenRelay(), backends=("model", backend), steps=30, seed=rng_seed)
    assert caught.value.actual["addr"] == (caught.value.expected["addr"] + 1) % 32


@pytest.mark.slow
def test_protocol_error_comes_back_from_the_simulator(quick_builds, require_backend):
    """A bench program's exception inside cocotb is raised here, with its message."""
    require_backend("verilator")

    class Flaky(wiring.Component):
        """Offers each payload for one cycle only: breaks the stream rules when not taken."""

        def __init__(self):
            super().__init__({"i": In(aer_signature(4)), "o": Out(aer_signature(4))})

        def elaborate(self, platform):
            m = Module()
            m.d.comb += self.i.ready.eq(1)
            m.d.sync += [self.o.valid.eq(self.i.valid), self.o.payload.eq(self.i.payload)]
            return m

    message = (
        r"^Flaky: output stream 'o' dropped valid at cycle \d+ before ready \(payload "
        r"\{'addr': \d+\} offered at cycle \d+; seed=4\)$"
    )
    feeds = {"i": [{"addr": a} for a in range(10)]}
    with pytest.raises(streams.StreamProtocolError, match=message) as pysim_error:
        streams.run(Flaky(), feeds, seed=4, p_ready=0.3)
    with pytest.raises(streams.StreamProtocolError, match=message) as cosim_error:
        streams.run(Flaky(), feeds, seed=4, p_ready=0.3, backend="verilator")
    assert str(pysim_error.value) == str(cosim_error.value)
    assert (cosim_error.value.port, cosim_error.value.cycle) == (
        pysim_error.value.port,
        pysim_error.value.cycle,
    )


def test_bulk_backends_are_refused_for_streams():
    message = "a bench program runs on 'pysim', 'verilator', 'icarus', not 'verilator-bulk'"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        streams.run(ng.component("aer_merge"), {}, backend="verilator-bulk")
