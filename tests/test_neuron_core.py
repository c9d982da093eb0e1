"""The time-multiplexed neuron core: model against a reference, gateware against the model."""

from __future__ import annotations

import gc
import re

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Fragment, Module, Mux, Signal
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
def random_words(rng, layout, kernel, n):
    """Return ``{field: (n,) ints}``, each over its input port's whole range."""
    ports = kernel.input_ports()
    return {
        key: rng.integers(ports[key].format.min, ports[key].format.max + 1, size=n)
        for key in layout.members
    }


def simulate(
    core, xs, rng, *, p_ready, partial=True, poke_busy=False, param_writes=None, model=None
):
    """Run ``len(xs)`` timesteps on the gateware; check every one against the model.

    ``xs`` is ``(T, n)`` (for the input word's one field) or ``{field: (T, n)}``. Inputs are
    written word by word (only changed words when ``partial``), ``step`` strobed, the AER stream
    consumed with ready high with probability ``p_ready``; after ``done`` every expected event
    must arrive and every neuron's state is read back through ``rd_addr``. ``param_writes``
    maps a timestep to ``(addrs, {field: values})``, written through ``par_*`` (and
    :meth:`NeuronCoreModel.write_params`) before that step. With ``poke_busy``, ``step``,
    ``in_we`` and ``par_we`` are pulsed with random words while busy (all must be ignored).
    Returns the cycles each timestep took, strobe to ``done``.
    """
    n, kernel = core.n_neurons, core.kernel
    fields = list(core.input_layout.members)
    if not isinstance(xs, dict):
        (field,) = fields
        xs = {field: np.asarray(xs)}
    steps = len(next(iter(xs.values()))) if xs else len(param_writes)
    param_writes = param_writes or {}
    dut = core.create()
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.dut = dut
    model = model or core.model()
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

    def set_word(ctx, view, words, i):
        for key, values in words.items():
            ctx.set(getattr(view, key), int(values[i]))

    def poke(ctx):
        """Strobe step and both write ports with random words (while busy: ignored)."""
        ctx.set(dut.step, int(rng.integers(2)))
        if fields:
            ctx.set(dut.in_addr, int(rng.integers(n)))
            set_word(ctx, dut.in_data, random_words(rng, core.input_layout, kernel, 1), 0)
            ctx.set(dut.in_we, int(rng.integers(2)))
        if core.params:
            ctx.set(dut.par_addr, int(rng.integers(n)))
            set_word(ctx, dut.par_data, random_words(rng, core.param_layout, kernel, 1), 0)
            ctx.set(dut.par_we, int(rng.integers(2)))

    def unpoke(ctx):
        ctx.set(dut.step, 0)
        if fields:
            ctx.set(dut.in_we, 0)
        if core.params:
            ctx.set(dut.par_we, 0)

    async def bench(ctx):
        await reset(ctx, domain)
        clearing = 0
        while ctx.get(dut.busy):  # SPRAM: the memories are cleared after reset
            if poke_busy:
                poke(ctx)
            await ctx.tick()
            unpoke(ctx)
            clearing += 1
        assert clearing == (n if core.memory == "spram" else 0)
        memory = {key: np.zeros(n, dtype=np.int64) for key in fields}
        expected = []
        for t in range(steps):
            if t in param_writes:
                addrs, words = param_writes[t]
                for j, i in enumerate(addrs):
                    ctx.set(dut.par_addr, int(i))
                    set_word(ctx, dut.par_data, words, j)
                    ctx.set(dut.par_we, 1)
                    await ctx.tick()
                    model.write_params(int(i), {key: v[j] for key, v in words.items()})
                ctx.set(dut.par_we, 0)
            row = {key: xs[key][t] for key in fields}
            for i in range(n if fields else 0):
                if not partial or any(row[key][i] != memory[key][i] for key in fields):
                    ctx.set(dut.in_addr, i)
                    set_word(ctx, dut.in_data, row, i)
                    ctx.set(dut.in_we, 1)
                    await ctx.tick()
                    ctx.set(dut.in_we, 0)
            for key in fields:
                memory[key][:] = row[key]
            for _ in range(int(rng.integers(0, 3))):
                await ctx.tick()
            expected += model.step(row).tolist()
            ctx.set(dut.step, 1)
            await ctx.tick()
            ctx.set(dut.step, 0)
            count = 1
            while not ctx.get(dut.done):
                assert ctx.get(dut.busy)
                if poke_busy:
                    poke(ctx)
                await ctx.tick()
                unpoke(ctx)
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
                for key in kernel.state_fields():
                    got = ctx.get(getattr(dut.rd_data, key))
                    assert got == state[key][i], f"{key}[{i}] after step {t}"

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


# -- per-neuron parameters ----------------------------------------------------------------------
class ShiftLIFTh(ShiftLIF):
    """ShiftLIF with its threshold a runtime input port ``th`` (unsigned 9 bits)."""

    name = "test_shift_lif_th"

    def input_ports(self):
        return {"x": Port("in", 9, True, "input"), "th": Port("in", 9, False, "threshold")}

    def update_np(self, state, inputs):
        th = inputs["th"]
        v = np.clip(state["v"] - (state["v"] >> 2) + inputs["x"], -512, 511)
        spike = v >= th
        return {"v": np.where(spike, v - th, v), "count": (state["count"] + spike) % 8}, spike

    def update_hdl(self, m, state, inputs):
        th = inputs["th"]
        t = state["v"] - (state["v"] >> 2) + inputs["x"]
        v = Mux(t > 511, 511, Mux(t < -512, -512, t))
        spike = v >= th
        return {"v": Mux(spike, v - th, v)[:10], "count": (state["count"] + spike)[:3]}, spike


def random_thresholds(rng, n):
    """Per-neuron thresholds over the port's range, with some at its ends (0 and 511)."""
    th = rng.integers(0, 512, size=n)
    th[rng.random(n) < 0.2] = 511
    th[rng.random(n) < 0.1] = 0
    return th


def test_params_model_known_answer():
    # By hand from ShiftLIF's rule (v: -3 -> -3 - (-1) + x = 18; count starts at 5), with
    # thresholds 10, 100, 1; then neuron 1's threshold is written to 30.
    core = NeuronCore(ShiftLIFTh(), 3, params={"th": [10, 100, 1]})
    assert list(core.input_layout.members) == ["x"]
    assert list(core.param_layout.members) == ["th"]
    model = core.model()
    x = np.array([20, 20, 20])
    assert model.step({"x": x}).tolist() == [0, 2]
    assert model.state["v"].tolist() == [8, 18, 17]
    assert model.state["count"].tolist() == [6, 5, 6]
    model.write_params(1, {"th": 30})
    assert model.params["th"].tolist() == [10, 30, 1]
    assert model.step().tolist() == [0, 1, 2]
    assert model.state["v"].tolist() == [16, 4, 32]
    assert model.state["count"].tolist() == [7, 6, 7]
    # the core's own arrays are not changed by writes; reset restores them (configuration)
    assert core.params["th"].tolist() == [10, 100, 1]
    model.reset()
    assert model.params["th"].tolist() == [10, 100, 1]
    assert model.inputs["x"].tolist() == [0, 0, 0]


@pytest.mark.parametrize("n", [1, 7, 50])
def test_params_model_matches_reference(rng, n):
    th = random_thresholds(rng, n)
    model = NeuronCore(ShiftLIFTh(), n, params={"th": th}).model()
    v, count = [-3] * n, [5] * n
    th = th.tolist()
    for t, row in enumerate(random_inputs(rng, n, 30)):
        if t % 7 == 3:  # rewrite some thresholds between timesteps
            addrs = rng.choice(n, size=max(1, n // 3), replace=False)
            new = rng.integers(0, 512, size=addrs.size)
            model.write_params(addrs, {"th": new})
            for i, value in zip(addrs.tolist(), new.tolist(), strict=True):
                th[i] = value
        spiking = []
        for i in range(n):
            v[i], count[i], fired = reference_step(v[i], count[i], int(row[i]), th[i])
            if fired:
                spiking.append(i)
        assert model.step({"x": row}).tolist() == spiking
        assert model.state["v"].tolist() == v
        assert model.state["count"].tolist() == count


def threshold_writes(rng, n, steps):
    """Parameter writes before some timesteps: ``{t: (addrs, {"th": values})}``."""
    writes = {}
    for t in range(1, steps):
        if rng.random() < 0.5:
            addrs = rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)
            writes[t] = (addrs, {"th": random_thresholds(rng, addrs.size)})
    return writes


@pytest.mark.parametrize("memory", ["ebr", "spram"])
@pytest.mark.parametrize("n", [1, 6, 40])
def test_params_gateware_matches_model(rng, n, memory):
    core = NeuronCore(
        ShiftLIFTh(), n, memory=memory, fifo_depth=3, params={"th": random_thresholds(rng, n)}
    )
    xs = random_inputs(rng, n, 6)
    simulate(core, xs, rng, p_ready=0.6, param_writes=threshold_writes(rng, n, 6))


@pytest.mark.parametrize("memory", ["ebr", "spram"])
def test_params_writes_ignored_while_busy(rng, memory):
    core = NeuronCore(
        ShiftLIFTh(), 6, memory=memory, fifo_depth=4, params={"th": random_thresholds(rng, 6)}
    )
    xs = random_inputs(rng, 6, 8)
    simulate(core, xs, rng, p_ready=0.7, poke_busy=True, param_writes=threshold_writes(rng, 6, 8))


@pytest.mark.parametrize("memory", ["ebr", "spram"])
def test_params_only_kernel(rng, memory):
    # every input port a parameter: a constant per-neuron drive, no input memory at all.
    kernel = ng.component("if_neuron", data_width=8, threshold=50)
    core = NeuronCore(kernel, 5, memory=memory, params={"current": [1, 10, 20, 30, 60]})
    assert core.input_layout.size == 0
    dut = core.create()
    Fragment.get(dut, None)
    assert "in_data" not in dut.signature.members  # no input memory, no write port
    model = core.model()
    # by hand: v += current; at 50 subtract 50.
    assert model.step().tolist() == [4]
    assert model.state["v"].tolist() == [1, 10, 20, 30, 10]
    assert model.step().tolist() == [3, 4]
    assert model.state["v"].tolist() == [2, 20, 40, 10, 20]
    assert model.step().tolist() == [2, 4]
    assert model.state["v"].tolist() == [3, 30, 10, 40, 30]
    writes = {2: (np.array([0, 2]), {"current": np.array([-128, 127])})}
    writes.update(
        {t: (np.array([1]), {"current": rng.integers(-128, 128, size=1)}) for t in (4, 5)}
    )
    simulate(
        core,
        {},
        rng,
        p_ready=0.5,
        param_writes={t: writes.get(t, ([], {"current": []})) for t in range(7)},
        poke_busy=True,
    )


def test_params_signature_and_properties():
    core = NeuronCore(ShiftLIFTh(), 5, params={"th": np.arange(5)})
    assert (core.input_layout.size, core.param_layout.size) == (9, 9)

    def members(core):
        dut = core.create()
        Fragment.get(dut, None)  # elaborate it (a created, unused elaboratable warns)
        return dut.signature.members

    assert {"par_addr", "par_data", "par_we"} <= set(members(core))
    assert members(core)["par_addr"].shape == 3
    assert members(core)["par_data"].shape == core.param_layout
    assert "par_we" not in members(NeuronCore(ShiftLIFTh(), 5))
    assert NeuronCore(ShiftLIFTh(), 5).input_layout.size == 18  # no params: both in the word
    assert core.params["th"].tolist() == [0, 1, 2, 3, 4]
    assert core.params["th"].dtype == np.int64
    with pytest.raises(ValueError, match="read-only"):
        core.params["th"][0] = 7
    assert repr(core) == (
        f"NeuronCore({ShiftLIFTh()!r}, n_neurons=5, memory='ebr', fifo_depth=8, "
        "params={'th': <5 values>})"
    )


def test_params_spram_instances_with_a_platform():
    from amaranth.back import rtlil

    core = NeuronCore(ShiftLIFTh(), 300, memory="spram", params={"th": np.full(300, 9)})
    text = rtlil.convert(core.create(), platform=object())
    assert text.count("cell \\SB_SPRAM256KA") == 3  # two state banks, the input x
    assert "param_mem" in text  # an inferred (EBR) memory


def test_params_capacity():
    # lif 16-bit with runtime leak_k and gain_k: 16-bit state, 48 bits of inputs.
    lif = ng.component("lif", leak_k=None, gain_k=None)
    both = ("leak_k", "gain_k")
    # EBR, 256 x 16 per block: 1792 neurons are 7 blocks per 16 bits, 4 x 7 + 1 = 29 blocks
    # with or without the parameter memory; 1793 take 8 per 16 bits (33).
    assert NeuronCore.max_neurons(lif, "ebr") == 1792
    assert NeuronCore.max_neurons(lif, "ebr", both) == 1792
    core = NeuronCore(lif, 1792, params={k: np.zeros(1792, dtype=int) for k in both})
    assert (core.blocks(), core.param_blocks()) == (29, 14)
    # SPRAM: without parameters 2 state banks + 3 input blocks = 5 > 4: none fit. With both in
    # EBR: 2 + 1 SPRAM; 3584 x 32 bits is 14 x 2 EBR + 1 for the FIFO = 29, 3585 need 31.
    # With leak_k only: 2 + 2 SPRAM; 7424 x 16 is 29 EBR + 1 = 30.
    assert NeuronCore.max_neurons(lif, "spram") == 0
    assert NeuronCore.max_neurons(lif, "spram", both) == 3584
    assert NeuronCore.max_neurons(lif, "spram", {"leak_k": None}) == 7424
    core = NeuronCore(lif, 3584, "spram", params={k: np.zeros(3584, dtype=int) for k in both})
    assert (core.blocks(), core.param_blocks()) == (3, 28)
    # a 16384-neuron SPRAM core has room for 6 bits of parameters (3 x 8 EBR of 2048 x 2)
    assert memory_blocks("ebr", 16384, 6) == 24
    assert memory_blocks("ebr", 16384, 7) == 32
    msg = (
        "neuron core holds at most 3584 lif neurons with per-neuron leak_k, gain_k in iCE40 "
        "UP5K SPRAM (4 x 256 kbit) with the parameters in iCE40 UP5K EBR (30 x 4 kbit), not 3585"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        NeuronCore(lif, 3585, "spram", params={k: np.zeros(3585, dtype=int) for k in both})
    msg = (
        "neuron core holds at most 1792 lif neurons with per-neuron gain_k in iCE40 UP5K EBR "
        "(30 x 4 kbit), not 1793"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        NeuronCore(lif, 1793, params={"gain_k": np.zeros(1793, dtype=int)})
    msg = (
        "neuron core params key must be one of lif's input ports ('current', 'leak_k', "
        "'gain_k'), not 'bias'"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        NeuronCore.max_neurons(lif, "ebr", ("bias",))
    # ECP5: separate memories pack better here (52224 without parameters)
    assert NeuronCore.max_neurons(lif, "bram") == 52224
    assert NeuronCore.max_neurons(lif, "bram", both) == 52736


def _lif_runtime():
    return ng.component("lif", leak_k=None, gain_k=None)


@pytest.mark.parametrize(
    ("kernel", "params", "exc", "msg"),
    [
        (
            _lif_runtime(),
            {"leak": [1, 2, 3]},
            ValueError,
            "neuron core params key must be one of lif's input ports ('current', 'leak_k', "
            "'gain_k'), not 'leak'",
        ),
        (
            ng.component("lif"),
            {"leak_k": [1, 2, 3]},
            ValueError,
            "neuron core params key 'leak_k' is a constant of lif (leak_k=16), not one of its "
            "input ports ('current'); only a parameter the kernel takes at runtime, as an input "
            "port, can be per-neuron",
        ),
        (
            ng.component("if_neuron"),
            {"threshold": [1, 2, 3]},
            ValueError,
            "neuron core params key 'threshold' is a constant of if_neuron (threshold=256), not "
            "one of its input ports ('current'); only a parameter the kernel takes at runtime, "
            "as an input port, can be per-neuron",
        ),
        (
            _lif_runtime(),
            {"leak_k": [1, 2]},
            ValueError,
            "neuron core params 'leak_k' must have shape (3,) (one value per neuron), not (2,)",
        ),
        (
            _lif_runtime(),
            {"leak_k": 16},
            ValueError,
            "neuron core params 'leak_k' must have shape (3,) (one value per neuron), not ()",
        ),
        (
            _lif_runtime(),
            {"gain_k": [1, -32769, 40000]},
            ValueError,
            "neuron core params 'gain_k' must fit signed 16-bit [-32768, 32767], not -32769 "
            "(neuron 1)",
        ),
        (
            ShiftLIFTh(),
            {"th": [0, 511, 512]},
            ValueError,
            "neuron core params 'th' must fit unsigned 9-bit [0, 511], not 512 (neuron 2)",
        ),
        (
            _lif_runtime(),
            {"gain_k": [1.0, 2.0, 3.0]},
            TypeError,
            "neuron core params 'gain_k' must be ints, not float64",
        ),
        (
            _lif_runtime(),
            [("gain_k", [1, 2, 3])],
            TypeError,
            "neuron core params must be a dict {input port: array of n_neurons ints}, not "
            "[('gain_k', [1, 2, 3])]",
        ),
    ],
)
def test_params_errors(kernel, params, exc, msg):
    with pytest.raises(exc, match=f"^{re.escape(msg)}$"):
        NeuronCore(kernel, 3, params=params)


def test_params_model_write_errors():
    core = NeuronCore(ShiftLIFTh(), 3, params={"th": [1, 2, 3]})
    model = core.model()
    msg = (
        "neuron core input must be one of ['x'], not 'th' ('th' is a per-neuron parameter: "
        "write it with write_params)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        model.write(0, {"x": 1, "th": 5})
    msg = (
        "neuron core parameter must be one of ['th'], not 'x' ('x' is in the input word: "
        "write it with write)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        model.write_params(0, {"x": 1})
    msg = "neuron core parameter must be one of ['th'], not 'y'"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        model.write_params(0, {"y": 1})
    msg = "neuron core parameter 'th' must fit unsigned 9-bit [0, 511], not -1"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        model.write_params(slice(None), {"th": np.array([4, -1, 5])})
    msg = "neuron core parameter 'th' must be ints, not float64"
    with pytest.raises(TypeError, match=f"^{re.escape(msg)}$"):
        model.write_params(1, {"th": 2.0})
    assert model.params["th"].tolist() == [1, 2, 3]  # nothing written
    lif = ng.component("lif", data_width=8, fraction=4, v_threshold=100, leak_k=None, gain_k=None)
    model = NeuronCore(lif, 2, params={"leak_k": [1, 2], "gain_k": [3, 4]}).model()
    msg = "neuron core write needs every parameter word field, not 'gain_k'"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        model.write_params(0, {"leak_k": 5})


def test_input_init_is_the_first_steps_input():
    kernel = ng.component("if_neuron", threshold=10)
    core = NeuronCore(kernel, 3, input_init={"current": np.array([4, 11, -2])})
    model = core.model()
    assert model.step().tolist() == [1]  # the initial input, no write needed
    with pytest.raises(ValueError, match="input_init needs memory 'ebr' or 'bram'"):
        NeuronCore(kernel, 3, memory="spram", input_init={"current": np.zeros(3, int)})


# -- pipelined kernels --------------------------------------------------------------------------
class PipeShiftLIF(ShiftLIFTh):
    """ShiftLIFTh's update in ``stages`` + 1 clock cycles in the core: the leak ``v - (v >> 2)``
    is a table read across the first cut, the other cuts fall between the add, the saturation,
    the threshold and the outputs (and, beyond four, pass everything through)."""

    name = "test_pipe_shift_lif"
    stages = Param(2, Int(0, 8), "pipeline cuts")

    @property
    def pipeline_stages(self):
        return self.stages

    def update_hdl(self, m, state, inputs):
        points = iter(range(max(4, self.stages)))

        def cut(live, tables=None):
            return self.stage(m, live, tables, cut=next(points) < self.stages)

        leak = [v - (v >> 2) for v in range(-512, 512)]
        x = cut(
            {"x": inputs["x"], "th": inputs["th"], "count": state["count"]},
            {"leak": (leak, (state["v"] + 512)[:10])},
        )
        x = cut({"t": x["leak"] + x["x"], "th": x["th"], "count": x["count"]})
        t = x["t"]
        v = Mux(t > 511, 511, Mux(t < -512, -512, t))
        x = cut({"v": v, "th": x["th"], "count": x["count"]})
        x = cut({**x, "spike": x["v"] >= x["th"]})
        for _ in range(self.stages - 4):
            x = cut(x)
        spike = x["spike"]
        v = Mux(spike, x["v"] - x["th"], x["v"])[:10]
        return {"v": v, "count": (x["count"] + spike)[:3]}, spike


def pipe_inputs(rng, n, steps):
    return {
        "x": random_inputs(rng, n, steps),
        "th": np.stack([random_thresholds(rng, n) for _ in range(steps)]),
    }


@pytest.mark.parametrize("memory", ["ebr", "spram"])
@pytest.mark.parametrize(("stages", "n"), [(1, 1), (2, 2), (3, 9), (4, 1), (5, 5), (8, 3), (8, 20)])
def test_pipelined_gateware_matches_model(rng, stages, n, memory):
    # n below, at and above the pipeline depth; a 2-entry FIFO read 40 % of the time: stalls
    kernel = PipeShiftLIF(stages=stages)
    core = NeuronCore(kernel, n, memory=memory, fifo_depth=2)
    assert core.pipeline_stages == stages
    assert core.cycles_per_step == n + 4 + stages
    cycles = simulate(core, pipe_inputs(rng, n, 6), rng, p_ready=0.4)
    assert min(cycles) >= core.cycles_per_step


@pytest.mark.parametrize("stages", [0, 1, 3, 6])
def test_pipelined_one_neuron_per_clock(rng, stages):
    # the default FIFO (8 + stages) with ready high: no stall at all, n + 4 + stages cycles
    core = NeuronCore(PipeShiftLIF(stages=stages), 16)
    assert core.fifo_depth == 8 + stages
    cycles = simulate(core, pipe_inputs(rng, 16, 3), rng, p_ready=1.0, partial=False)
    assert cycles == [16 + 4 + stages] * 3


@pytest.mark.parametrize("stages", [1, 4])
def test_pipelined_full_rate_bound(rng, stages):
    # every neuron fires, ready always high: fifo_depth 6 + stages never stalls, 5 + stages does
    xs = {"x": np.full((2, 14), 255), "th": np.zeros((2, 14), dtype=int)}
    core = NeuronCore(PipeShiftLIF(stages=stages), 14, fifo_depth=6 + stages)
    assert simulate(core, xs, rng, p_ready=1.0, partial=False) == [core.cycles_per_step] * 2
    core = NeuronCore(PipeShiftLIF(stages=stages), 14, fifo_depth=5 + stages)
    assert min(simulate(core, xs, rng, p_ready=1.0, partial=False)) > core.cycles_per_step


@pytest.mark.parametrize("memory", ["ebr", "spram"])
def test_pipelined_params_and_writes_while_busy(rng, memory):
    n = 7
    core = NeuronCore(
        PipeShiftLIF(stages=3),
        n,
        memory=memory,
        fifo_depth=3,
        params={"th": random_thresholds(rng, n)},
    )
    simulate(
        core,
        random_inputs(rng, n, 6),
        rng,
        p_ready=0.5,
        poke_busy=True,
        param_writes=threshold_writes(rng, n, 6),
    )


def test_pipelined_every_neuron_fires_into_one_entry(rng):
    core = NeuronCore(PipeShiftLIF(stages=5), 9, fifo_depth=1)
    xs = {"x": np.full((3, 9), 255), "th": np.zeros((3, 9), dtype=int)}
    cycles = simulate(core, xs, rng, p_ready=0.3)
    assert max(cycles) > core.cycles_per_step + 9


@pytest.mark.parametrize("stage", [1, 3])
def test_planted_fault_address_off_by_one(rng, monkeypatch, stage):
    # a pipeline stage that carries the wrong address must fail the bit-true check
    from neurogate.gateware.neuron_core import NeuronCoreGateware

    carry = NeuronCoreGateware._carry

    def faulty(self, m, valid, addr, stages):
        valids, addrs = carry(self, m, valid, addr, stages)
        bad = Signal.like(addrs[stage - 1], name="bad_addr")
        m.d.comb += bad.eq(addrs[stage - 1] + 1)
        if stage < stages:  # the next stage takes the wrong address on
            m.d.sync += addrs[stage].eq(bad)
        else:
            addrs[stage - 1] = bad
        return valids, addrs

    core = NeuronCore(PipeShiftLIF(stages=3), 6, fifo_depth=4)
    xs = pipe_inputs(rng, 6, 3)
    simulate(core, xs, np.random.default_rng(1), p_ready=1.0)  # without the fault: passes
    monkeypatch.setattr(NeuronCoreGateware, "_carry", faulty)
    with pytest.raises(AssertionError, match="after step 0"):
        simulate(core, xs, np.random.default_rng(1), p_ready=1.0)


class MixedStages(ShiftLIF):
    """Uses ``state["v"]`` after a cut: the core must refuse it."""

    name = "test_mixed_stages"

    @property
    def pipeline_stages(self):
        return 1

    def update_hdl(self, m, state, inputs):
        x = self.stage(m, {"x": inputs["x"], "count": state["count"]})
        t = state["v"] - (state["v"] >> 2) + x["x"]
        return {"v": t[:10], "count": x["count"]}, t >= self.th


class CountsWrong(PipeShiftLIF):
    name = "test_counts_wrong"

    @property
    def pipeline_stages(self):
        return self.stages + 1


# the refused elaborations leave elaboratables that are never used: that is the point
@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_pipeline_check_errors():
    def elaborate(kernel):
        Fragment.get(NeuronCore(kernel, 3).create(), None)

    msg = (
        "test_mixed_stages.update_hdl result 'v' must be computed from what cut 1 returned, not "
        "from 'r_state' of state and inputs: pass what is needed after a cut through it"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        elaborate(MixedStages())
    msg = "test_counts_wrong.update_hdl must make 3 pipeline cuts (its pipeline_stages), not 2"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        elaborate(CountsWrong(stages=2))
    gc.collect()  # their warnings now, under this test's filter


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_stage_call_errors_and_pass_through():
    kernel = PipeShiftLIF()
    m = Module()
    v = Signal(8)
    assert kernel.stage(m, {"v": v, "k": 3})["v"] is v  # no core: a pass-through
    msg = "test_pipe_shift_lif.stage values must be a dict {name: value}, not [1]"
    with pytest.raises(TypeError, match=f"^{re.escape(msg)}$"):
        kernel.stage(m, [1])
    msg = "test_pipe_shift_lif.stage table name must differ from the value names, not 'v'"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        kernel.stage(m, {"v": v}, {"v": ([1, 2], v)})
    msg = "test_pipe_shift_lif.stage table 't' must be a tuple (words, addr), not [1, 2]"
    with pytest.raises(TypeError, match=f"^{re.escape(msg)}$"):
        kernel.stage(m, {"v": v}, {"t": [1, 2]})
    del m
    gc.collect()  # the unused module's warning now, under this test's filter


class BadStages(ShiftLIF):
    name = "test_bad_stages"

    @property
    def pipeline_stages(self):
        return -1


class FloatStages(ShiftLIF):
    name = "test_float_stages"

    @property
    def pipeline_stages(self):
        return 1.0


def test_pipeline_stages_must_be_valid():
    msg = "neuron core kernel pipeline_stages must be an int >= 0, not -1"
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        NeuronCore(BadStages(), 4)
    msg = "neuron core kernel pipeline_stages must be an int >= 0, not 1.0"
    with pytest.raises(TypeError, match=f"^{re.escape(msg)}$"):
        NeuronCore(FloatStages(), 4)


def test_pipelined_kernel_parallel_wrapper_is_bit_true(rng_seed):
    # the parallel wrapper ignores the cuts (and reads the table combinationally)
    ng.sim.compare(PipeShiftLIF(stages=5), steps=60, n=4, seed=rng_seed)
