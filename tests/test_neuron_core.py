"""The time-multiplexed neuron core: model against a reference, gateware against the model."""

from __future__ import annotations

import re

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module, Mux
from amaranth.sim import Simulator

import neurogate as ng
from neurogate.core.component import Int, Param, Port
from neurogate.gateware.neuron_core import NeuronCore, memory_blocks
from neurogate.sim.backends import reset


class ShiftLIF(ng.NeuronKernel):
    """Test kernel: v -= v >> 2; v += x (saturated to 10 bits); fire at th, subtract th; count."""

    name = "test_shift_lif"
    th = Param(60, Int(1, 511), "threshold")

    def state_fields(self):
        return {
            "v": Port("out", 10, True, "potential", init=-3),
            "count": Port("out", 3, False, "spikes modulo 8", init=5),
        }

    def input_ports(self):
        return {"x": Port("in", 9, True, "input")}

    def update_np(self, state, inputs):
        v = np.clip(state["v"] - (state["v"] >> 2) + inputs["x"], -512, 511)
        spike = v >= self.th
        return {"v": np.where(spike, v - self.th, v), "count": (state["count"] + spike) % 8}, spike

    def update_hdl(self, m, state, inputs):
        t = state["v"] - (state["v"] >> 2) + inputs["x"]
        v = Mux(t > 511, 511, Mux(t < -512, -512, t))
        spike = v >= self.th
        return {"v": Mux(spike, v - self.th, v), "count": (state["count"] + spike)[:3]}, spike


def reference_step(v, count, x, th):
    """One neuron, one step, straight from ShiftLIF's docstring (plain Python ints)."""
    v = min(511, max(-512, v - (v >> 2) + x))
    if v >= th:
        return v - th, (count + 1) % 8, True
    return v, count, False


def random_inputs(rng, n, steps):
    return rng.integers(-256, 256, size=(steps, n))


# -- model --------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 5, 64])
@pytest.mark.parametrize("th", [1, 60, 300])
def test_model_matches_reference(rng, n, th):
    core = NeuronCore(ShiftLIF(th=th), n)
    model = core.model()
    xs = random_inputs(rng, n, 30)
    v, count = [-3] * n, [5] * n
    for row in xs:
        spiking = []
        for i in range(n):
            v[i], count[i], fired = reference_step(v[i], count[i], int(row[i]), th)
            if fired:
                spiking.append(i)
        assert model.step({"x": row}).tolist() == spiking
        assert model.state["v"].tolist() == v
        assert model.state["count"].tolist() == count


def test_model_known_answer():
    model = NeuronCore(ShiftLIF(th=60), 3).model()
    # v: -3 -> -3 - (-1) + x; count starts at 5.
    assert model.step({"x": np.array([70, 0, 255])}).tolist() == [0, 2]
    assert model.state["v"].tolist() == [8, -2, 193]
    assert model.state["count"].tolist() == [6, 5, 6]
    # inputs persist; a partial write changes one word.
    model.write(1, {"x": 100})
    assert model.inputs["x"].tolist() == [70, 100, 255]
    assert model.step().tolist() == [0, 1, 2]
    assert model.state["v"].tolist() == [16, 39, 340]
    assert model.state["count"].tolist() == [7, 6, 7]


def test_model_state_matches_parallel_model(rng):
    kernel = ShiftLIF(th=40)
    model = NeuronCore(kernel, 17).model()
    xs = random_inputs(rng, 17, 25)
    out = kernel.model(17).run({"x": xs})
    for t, row in enumerate(xs):
        assert model.step({"x": row}).tolist() == np.flatnonzero(out["spike"][t]).tolist()
        for key in ("v", "count"):
            assert model.state[key].tolist() == out[key][t].tolist()


def test_model_reset_and_errors():
    model = NeuronCore(ShiftLIF(), 2).model()
    model.step({"x": np.array([100, 100])})
    model.reset()
    assert model.state["v"].tolist() == [-3, -3]
    assert model.inputs["x"].tolist() == [0, 0]
    msg = "neuron core input must be one of ['x'], not 'y'"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        model.write(0, {"y": 1})
    msg = "neuron core input 'x' must fit signed 9-bit [-256, 255], not 256"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        model.step({"x": np.array([-3, 256])})
    assert model.inputs["x"].tolist() == [0, 0]  # nothing written
    msg = "neuron core input 'x' must be ints, not float64"
    with pytest.raises(TypeError, match=f"^{re.escape(msg)}$"):
        model.write(1, {"x": 1.5})


# -- parameters ---------------------------------------------------------------------------------
def test_capacity():
    # ShiftLIF: 13-bit state word, 9-bit input word. Per 2048 neurons, 2048 x 2 EBR: 7 blocks of
    # state + 5 of input = 12; 4096 neurons take 24 of the 30 EBR, 25 with the FIFO's. One more
    # neuron needs 17 blocks of state (256 x 16) + 15 of input (1024 x 4: 5 x 3) + 1 = 33.
    assert memory_blocks("ebr", 256, 13) == 1
    assert memory_blocks("ebr", 256, 9) == 1
    assert memory_blocks("ebr", 2048, 2) == 1
    assert memory_blocks("ebr", 2049, 2) == 2
    assert memory_blocks("bram", 16384, 1) == 1
    assert memory_blocks("ebr", 10, 0) == 0
    assert memory_blocks("ebr", 4096, 13) == 14
    assert memory_blocks("ebr", 4097, 9) == 15
    assert NeuronCore.max_neurons(ShiftLIF(), "ebr") == 4096
    assert NeuronCore.max_neurons(ShiftLIF(), "bram") == 65536
    assert NeuronCore(ShiftLIF(), 4096).blocks() == 24 + 1
    # ECP5: 13 bits as 13 x four 16384 x 1 blocks, 9 bits as 32 blocks of 2048 x 9.
    assert NeuronCore(ShiftLIF(), 65536, memory="bram").blocks() == 52 + 32 + 1
    msg = (
        "neuron core holds at most 4096 test_shift_lif neurons in iCE40 UP5K EBR (30 x 4 kbit), "
        "not 4097"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        NeuronCore(ShiftLIF(), 4097)


@pytest.mark.parametrize(
    ("kwargs", "exc", "msg"),
    [
        ({"n_neurons": 0}, ValueError, "neuron core n_neurons must be an int in 1..65536, not 0"),
        (
            {"n_neurons": 65537, "memory": "bram"},
            ValueError,
            "neuron core n_neurons must be an int in 1..65536, not 65537",
        ),
        (
            {"n_neurons": 4.0},
            TypeError,
            "neuron core n_neurons must be an int in 1..65536, not 4.0",
        ),
        (
            {"n_neurons": 4, "memory": "dram"},
            ValueError,
            "neuron core memory must be one of 'ebr', 'bram', 'spram', not 'dram'",
        ),
        (
            {"n_neurons": 4, "fifo_depth": 0},
            ValueError,
            "neuron core fifo_depth must be an int in 1..1024, not 0",
        ),
    ],
)
def test_parameter_errors(kwargs, exc, msg):
    with pytest.raises(exc, match=f"^{re.escape(msg)}$"):
        NeuronCore(ShiftLIF(), **kwargs)


def test_kernel_must_be_a_kernel():
    lfsr = ng.component("lfsr")
    msg = f"neuron core kernel must be a NeuronKernel, not {lfsr!r}"
    with pytest.raises(TypeError, match=f"^{re.escape(msg)}$"):
        NeuronCore(lfsr, 4)


def test_properties():
    core = NeuronCore(ShiftLIF(), 5, fifo_depth=3)
    assert (core.n_neurons, core.memory, core.fifo_depth) == (5, "ebr", 3)
    assert core.addr_width == 3
    assert NeuronCore(ShiftLIF(), 1).addr_width == 1
    assert NeuronCore(ShiftLIF(), 256).addr_width == 8
    assert core.cycles_per_step == 9
    assert core.state_layout.size == 13
    assert core.input_layout.size == 9
    assert core.event_layout.size == 3


# -- gateware -----------------------------------------------------------------------------------
def simulate(core, xs, rng, *, p_ready, partial=True, poke_busy=False):
    """Run ``len(xs)`` timesteps on the gateware; check every one against the model.

    Inputs are written word by word (only changed words when ``partial``), ``step`` strobed,
    the AER stream consumed with ready high with probability ``p_ready``; after ``done`` every
    expected event must arrive and every neuron's state is read back through ``rd_addr``.
    Returns the cycles each timestep took, strobe to ``done``.
    """
    n = core.n_neurons
    dut = core.create()
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.dut = dut
    model = core.model()
    events = []
    cycles = []
    consumer_rng = np.random.default_rng(rng.integers(1 << 32))

    async def consumer(ctx):
        while True:
            ready = bool(consumer_rng.random() < p_ready)
            ctx.set(dut.aer.ready, ready)
            *_, valid, addr = await ctx.tick().sample(dut.aer.valid, dut.aer.payload.addr)
            if ready and valid:
                events.append(addr)

    async def bench(ctx):
        await reset(ctx, domain)
        clearing = 0
        while ctx.get(dut.busy):  # SPRAM: the memories are cleared after reset
            await ctx.tick()
            clearing += 1
        assert clearing == (n if core.memory == "spram" else 0)
        memory = np.zeros(n, dtype=np.int64)
        expected = []
        for t, row in enumerate(xs):
            for i in range(n):
                if not partial or row[i] != memory[i]:
                    ctx.set(dut.in_addr, i)
                    ctx.set(dut.in_data.x, int(row[i]))
                    ctx.set(dut.in_we, 1)
                    await ctx.tick()
            ctx.set(dut.in_we, 0)
            memory[:] = row
            for _ in range(int(rng.integers(0, 3))):
                await ctx.tick()
            expected += model.step({"x": row}).tolist()
            ctx.set(dut.step, 1)
            await ctx.tick()
            ctx.set(dut.step, 0)
            count = 1
            while not ctx.get(dut.done):
                assert ctx.get(dut.busy)
                if poke_busy:
                    ctx.set(dut.step, int(rng.integers(2)))
                await ctx.tick()
                ctx.set(dut.step, 0)
                count += 1
                assert count < 100 * (n + 10), f"step {t} never finished"
            cycles.append(count)
            assert not ctx.get(dut.busy)
            for _ in range(200 + 20 * n):
                if len(events) >= len(expected):
                    break
                await ctx.tick()
            await ctx.tick().repeat(4)
            assert events == expected, f"events differ after step {t}"
            state = model.state
            for i in range(n):
                ctx.set(dut.rd_addr, i)
                await ctx.tick()
                assert ctx.get(dut.rd_data.v) == state["v"][i], f"v[{i}] after step {t}"
                assert ctx.get(dut.rd_data.count) == state["count"][i], f"count[{i}] step {t}"

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(consumer, background=True)
    sim.add_testbench(bench)
    sim.run()
    return cycles


@pytest.mark.parametrize("memory", ["ebr", "spram"])
@pytest.mark.parametrize("n", [1, 5, 64])
def test_gateware_matches_model(rng, n, memory):
    core = NeuronCore(ShiftLIF(th=50), n, memory=memory, fifo_depth=2)
    xs = random_inputs(rng, n, 6)
    xs[2] = xs[1]  # an unchanged input row (no writes at all for it)
    cycles = simulate(core, xs, rng, p_ready=0.4)
    assert min(cycles) >= core.cycles_per_step


@pytest.mark.parametrize("memory", ["ebr", "spram"])
def test_gateware_one_neuron_per_clock(rng, memory):
    # ready always high and a FIFO deeper than one step's events: no stalls, N + 4 cycles.
    core = NeuronCore(ShiftLIF(th=200), 20, memory=memory, fifo_depth=32)
    xs = random_inputs(rng, 20, 4)
    cycles = simulate(core, xs, rng, p_ready=1.0, partial=False)
    assert cycles == [core.cycles_per_step] * 4


@pytest.mark.parametrize("memory", ["ebr", "spram"])
def test_gateware_stalls_without_losing_events(rng, memory):
    # every neuron fires (large inputs, low threshold) into a 1-entry FIFO read rarely.
    core = NeuronCore(ShiftLIF(th=1), 8, memory=memory, fifo_depth=1)
    xs = np.full((3, 8), 255)
    cycles = simulate(core, xs, rng, p_ready=0.2)
    assert max(cycles) > core.cycles_per_step + 8


@pytest.mark.parametrize("memory", ["ebr", "spram"])
def test_gateware_ignores_step_while_busy(rng, memory):
    core = NeuronCore(ShiftLIF(th=30), 6, memory=memory, fifo_depth=4)
    xs = random_inputs(rng, 6, 4)
    simulate(core, xs, rng, p_ready=0.7, poke_busy=True)


def test_gateware_full_rate_when_every_neuron_fires(rng):
    # the documented bound: with ready always high, fifo_depth 6 never stalls; 5 does.
    xs = np.full((2, 12), 255)
    core = NeuronCore(ShiftLIF(th=1), 12, fifo_depth=6)
    assert simulate(core, xs, rng, p_ready=1.0, partial=False) == [core.cycles_per_step] * 2
    core = NeuronCore(ShiftLIF(th=1), 12, fifo_depth=5)
    assert min(simulate(core, xs, rng, p_ready=1.0, partial=False)) > core.cycles_per_step


def test_spram_capacity():
    # 16384 x 16 per block, 4 blocks, two state banks: 16-bit state + 16-bit input = 3 blocks.
    assert memory_blocks("spram", 16384, 16) == 1
    assert memory_blocks("spram", 16384, 17) == 2
    assert memory_blocks("spram", 16385, 16) == 2
    lif16 = ng.component("lif_shift", data_width=16)
    assert NeuronCore.max_neurons(lif16, "spram") == 16384
    assert NeuronCore(lif16, 16384, memory="spram").blocks() == 3
    # ShiftLIF: 13-bit state, 9-bit input: also 3; 17-bit state would need 2 x 2 + 1 = 5.
    assert NeuronCore(ShiftLIF(), 16384, memory="spram").blocks() == 3
    assert NeuronCore.max_neurons(ng.component("lif_shift", data_width=17), "spram") == 0
    msg = (
        "neuron core holds at most 16384 test_shift_lif neurons in iCE40 UP5K SPRAM "
        "(4 x 256 kbit), not 16385"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        NeuronCore(ShiftLIF(), 16385, memory="spram")


def test_spram_instances_with_a_platform():
    # with a platform the SPRAM blocks are SB_SPRAM256KA instances (no inferred memory).
    from amaranth.back import rtlil

    core = NeuronCore(ShiftLIF(), 300, memory="spram")
    text = rtlil.convert(core.create(), platform=object())
    assert text.count("cell \\SB_SPRAM256KA") == 3
    sim_text = rtlil.convert(core.create())
    assert "SB_SPRAM256KA" not in sim_text


def test_spram_state_survives_between_banks(rng):
    # an odd and an even number of timesteps end in different banks; read-back must follow.
    core = NeuronCore(ShiftLIF(th=70), 7, memory="spram", fifo_depth=8)
    simulate(core, random_inputs(rng, 7, 3), rng, p_ready=1.0)
