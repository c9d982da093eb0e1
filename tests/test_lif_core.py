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


def simulate_core(core, xs, rng, param_writes=None):
    """Run timesteps ``xs`` (``{port: (T, n)}``) on the gateware; check each against the model.

    ``param_writes`` maps a timestep to ``(addrs, {port: values})``, written through ``par_*``
    (and :meth:`NeuronCoreModel.write_params`) before that step.
    """
    kernel, n = core.kernel, core.n_neurons
    param_writes = param_writes or {}
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
            if t in param_writes:
                addrs, words = param_writes[t]
                for j, i in enumerate(addrs):
                    ctx.set(dut.par_addr, int(i))
                    for key, values in words.items():
                        ctx.set(getattr(dut.par_data, key), int(values[j]))
                    ctx.set(dut.par_we, 1)
                    await ctx.tick()
                    model.write_params(int(i), {key: v[j] for key, v in words.items()})
                ctx.set(dut.par_we, 0)
            row = {key: a[t] for key, a in xs.items()}
            for i in range(n):
                ctx.set(dut.in_addr, i)
                for key in row:
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


# -- per-neuron leak_k and gain_k in the parameter memory --------------------------------------
def test_lif_params_known_answer():
    # By hand from the module docstring's update (f = 8, v_threshold 300, current 100):
    #   neuron 0, leak 16, gain 256: the module doctest, 100 193 280 0* 100 193
    #   neuron 1, leak 0, gain 128: +50 a step, no leak: 50 100 150 200 250 0*
    #   neuron 2, leak 128, gain 512: 200, 200 - 100 + 200 = 300* -> 0, 200, 0*, 200, 0*
    lif = ng.component("lif", v_threshold=300, leak_k=None, gain_k=None)
    leak, gain = [16, 0, 128], [256, 128, 512]
    core = NeuronCore(lif, 3, params={"leak_k": leak, "gain_k": gain})
    model = core.model()
    events, vs = [], []
    for _ in range(6):
        events.append(model.step({"current": np.array([100, 100, 100])}).tolist())
        vs.append(model.state["v"].tolist())
    assert events == [[], [2], [], [0, 2], [], [1, 2]]
    assert [v[0] for v in vs] == [100, 193, 280, 0, 100, 193]
    assert [v[1] for v in vs] == [50, 100, 150, 200, 250, 0]
    assert [v[2] for v in vs] == [200, 0, 200, 0, 200, 0]
    # the same against lif's fast parallel model, the per-neuron arrays given as inputs
    out = lif.model(3).run(
        {"current": np.full((6, 3), 100), "leak_k": np.tile(leak, (6, 1)),
         "gain_k": np.tile(gain, (6, 1))}
    )  # fmt: skip
    assert [np.flatnonzero(row).tolist() for row in out["spike"]] == events
    assert out["v"].tolist() == vs


def random_params(lif, rng, n, keys):
    """Per-neuron values: half over the port's whole range, half moderate (leak 0..1, gain up
    to 2, in Q(fraction)), so that some neurons leak and fire and some saturate."""
    out = {}
    for key in keys:
        fmt = lif.input_ports()[key].format
        full = rng.integers(fmt.min, fmt.max + 1, size=n)
        top = min(fmt.max, (1 << lif.fraction) * (1 if key == "leak_k" else 2))
        moderate = rng.integers(0, top + 1, size=n)
        out[key] = np.where(rng.random(n) < 0.5, full, moderate)
    return out


def params_as_inputs(params, steps, writes):
    """The per-neuron parameters of each step as ``(steps, n)`` arrays (writes applied)."""
    current = {key: value.copy() for key, value in params.items()}
    out = {key: np.empty((steps, value.size), dtype=np.int64) for key, value in params.items()}
    for t in range(steps):
        if t in writes:
            addrs, words = writes[t]
            for key, values in words.items():
                current[key][addrs] = values
        for key in out:
            out[key][t] = current[key]
    return out


# (kernel parameters, per-neuron ones, memory); the rest of the inputs stay in the input word
PARAM_CONFIGS = [
    ({"leak_k": None, "gain_k": None, "v_threshold": 150, "v_rest": -10}, ("leak_k", "gain_k"),
     "ebr"),
    ({"leak_k": None, "gain_k": None, "refractory": 3, "overflow": "wrap", "noise": True},
     ("gain_k", "noise"), "ebr"),
    ({"data_width": 10, "fraction": 6, "leak_k": None, "gain_k": None, "refractory": 2,
      "v_threshold": 200, "v_rest": -10}, ("leak_k", "gain_k"), "spram"),
    # 16 bits with runtime leak_k and gain_k fits SPRAM only with both as parameters (in EBR)
    ({"leak_k": None, "gain_k": None, "v_threshold": 150}, ("leak_k", "gain_k"), "spram"),
]  # fmt: skip


@pytest.mark.parametrize(("params", "keys", "memory"), PARAM_CONFIGS)
def test_lif_params_in_neuron_core(rng, params, keys, memory):
    lif = ng.component("lif", **params)
    n, steps = 6, 10
    init = random_params(lif, rng, n, keys)
    core = NeuronCore(lif, n, memory=memory, fifo_depth=4, params=init)
    stim = stimulus(lif, rng, steps, n)
    xs = {key: value for key, value in stim.items() if key not in keys}
    writes = {}
    for t in (3, 4, 7):
        addrs = rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)
        writes[t] = (addrs, random_params(lif, rng, addrs.size, keys))
    events = simulate_core(core, xs, rng, writes)
    assert events  # some neuron fired
    # the core's model against lif's parallel (fast) model, parameters given as inputs
    out = lif.model(n).run({**xs, **params_as_inputs(init, steps, writes)})
    model = core.model()
    for t in range(steps):
        if t in writes:
            model.write_params(writes[t][0], writes[t][1])
        row = {key: a[t] for key, a in xs.items()}
        assert model.step(row).tolist() == np.flatnonzero(out["spike"][t]).tolist()
        for key in lif.state_fields():
            assert model.state[key].tolist() == out[key][t].tolist()
