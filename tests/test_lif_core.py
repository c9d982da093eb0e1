"""``lif`` as a NeuronKernel: its update functions against its fast model, and in NeuronCore."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

import neurogate as ng
from neurogate.core.neuron import ParallelNeuronModel
from neurogate.gateware.neuron_core import NeuronCore
from neurogate.sim.backends import reset

CONFIGS = [
    {"refractory": 2, "v_threshold": 200, "v_rest": 30, "v_reset": -40},
    {"leak_k": None, "gain_k": None, "v_threshold": 150, "v_rest": -10},
    {"leak_k": None, "gain_k": None, "refractory": 3, "overflow": "wrap", "noise": True},
    {"data_width": 10, "fraction": 4, "leak_k": 3, "gain_k": 40, "v_threshold": -300},
]


def stimulus(lif, rng, steps, n):
    """Random words over each input's whole range, with runs of large currents (to spike)."""
    out = {}
    for key, port in lif.input_ports().items():
        fmt = port.format
        out[key] = rng.integers(fmt.min, fmt.max + 1, size=(steps, n))
        if key == "current":
            out[key][rng.random((steps, n)) < 0.5] = fmt.max // 2
    return out


@pytest.mark.parametrize("params", [*CONFIGS, {"data_width": 32, "fraction": 20}])
@pytest.mark.parametrize("n", [3, 40])
def test_update_np_matches_fast_model(rng, params, n):
    # update_np stepped by the generic wrapper against LIFModel (scalar and vector paths)
    lif = ng.component("lif", **params)
    stim = stimulus(lif, rng, 200, n)
    fast = lif.model(n).run(stim)
    slow = ParallelNeuronModel(lif, n).run(stim)
    assert set(fast) == set(slow) == set(lif.outputs)
    assert fast["spike"].any()
    for key in slow:
        np.testing.assert_array_equal(fast[key], slow[key], err_msg=key)


def test_refr_output_known_answer():
    # spike at step 3 (as in the module doctest), then refr 2, 1, 0 while v is clamped at 0.
    lif = ng.component("lif", v_threshold=300, leak_k=16, gain_k=256, refractory=2)
    for n in (1, 20):  # scalar and vector paths
        out = lif.model(n).run({"current": [100] * 7})
        assert out["spike"][:, -1].tolist() == [0, 0, 0, 1, 0, 0, 0]
        assert out["refr"][:, -1].tolist() == [0, 0, 0, 2, 1, 0, 0]
        assert out["v"][:, -1].tolist() == [100, 193, 280, 0, 0, 0, 100]
    assert list(lif.ports) == ["current", "spike", "v", "refr"]
    assert lif.ports["refr"].width == 2


def simulate_core(core, xs, rng):
    """Run timesteps ``xs`` (``{port: (T, n)}``) on the gateware; check each against the model."""
    kernel, n = core.kernel, core.n_neurons
    dut = core.create()
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.dut = dut
    model = core.model()
    events = []
    steps = len(next(iter(xs.values())))

    async def consumer(ctx):
        while True:
            ready = bool(rng.random() < 0.7)
            ctx.set(dut.aer.ready, ready)
            *_, valid, addr = await ctx.tick().sample(dut.aer.valid, dut.aer.payload.addr)
            if ready and valid:
                events.append(addr)

    async def bench(ctx):
        await reset(ctx, domain)
        while ctx.get(dut.busy):
            await ctx.tick()
        expected = []
        for t in range(steps):
            row = {key: a[t] for key, a in xs.items()}
            for i in range(n):
                ctx.set(dut.in_addr, i)
                for key in kernel.input_ports():
                    ctx.set(getattr(dut.in_data, key), int(row[key][i]))
                ctx.set(dut.in_we, 1)
                await ctx.tick()
            ctx.set(dut.in_we, 0)
            expected += model.step(row).tolist()
            ctx.set(dut.step, 1)
            await ctx.tick()
            ctx.set(dut.step, 0)
            while not ctx.get(dut.done):
                await ctx.tick()
            for _ in range(100 + 20 * n):
                if len(events) >= len(expected):
                    break
                await ctx.tick()
            assert events == expected, f"events differ after step {t}"
            state = model.state
            for i in range(n):
                ctx.set(dut.rd_addr, i)
                await ctx.tick()
                for key in kernel.state_fields():
                    got = ctx.get(getattr(dut.rd_data, key))
                    assert got == state[key][i], f"{key}[{i}] after step {t}"

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(consumer, background=True)
    sim.add_testbench(bench)
    sim.run()
    return events


# SPRAM holds a 16-bit state word and 32 bits of inputs: narrower neurons there.
SPRAM_CONFIGS = [
    {"data_width": 12, "refractory": 2, "v_threshold": 200, "v_rest": 30, "v_reset": -40},
    {
        "data_width": 8,
        "fraction": 5,
        "leak_k": None,
        "gain_k": None,
        "refractory": 2,
        "v_threshold": 60,
        "v_rest": -10,
    },
]


@pytest.mark.parametrize(
    ("params", "memory"),
    [(p, "ebr") for p in CONFIGS[:3]] + [(p, "spram") for p in SPRAM_CONFIGS],
)
def test_lif_in_neuron_core(rng, params, memory):
    lif = ng.component("lif", **params)
    core = NeuronCore(lif, 5, memory=memory, fifo_depth=4)
    xs = stimulus(lif, rng, 12, 5)
    events = simulate_core(core, xs, rng)
    assert events  # some neuron fired
    # the core's model is the kernel's parallel (fast) model, step by step
    out = lif.model(5).run(xs)
    model = core.model()
    for t in range(12):
        row = {key: a[t] for key, a in xs.items()}
        assert model.step(row).tolist() == np.flatnonzero(out["spike"][t]).tolist()
        for key in lif.state_fields():
            assert model.state[key].tolist() == out[key][t].tolist()
