"""Simulate a whole :class:`~neurogate.core.network.Network` as gateware (Amaranth pysim).

:func:`run_pysim` builds :class:`~neurogate.gateware.network.NetworkGateware` and plays the
host: before each timestep it writes the value inputs into the input memories and pushes the
spike inputs' address-events (with seeded random ``valid`` gaps), strobes ``step``, records the
address-events each core sends, waits for ``done``, then reads back every probed state field
through the cores' read ports. The result has the shape of
:meth:`~neurogate.core.network.NetworkModel.run`'s, so the two compare directly
(:func:`compare`).
"""

from __future__ import annotations

import numpy as np

from neurogate.core.network import Network, NetworkError
from neurogate.gateware.network import NetworkGateware, plan

from .backends import Top, reset, simulate

__all__ = ["NetworkMismatchError", "compare", "run_pysim"]


class NetworkMismatchError(AssertionError):
    """The model and the gateware of a network differ (the message names the first place)."""


def run_pysim(
    net: Network,
    inputs,
    steps: int | None = None,
    *,
    seed: int = 0,
    p_valid: float = 0.7,
    memory: str = "ebr",
    vcd: str | None = None,
    max_cycles_per_step: int = 1_000_000,
) -> dict:
    """Run ``net`` in the Amaranth simulator; return what ``net.model().run(inputs)`` returns."""
    model = net.model()
    arrays, steps = model._check_inputs(inputs, steps)
    plan(net, memory)  # unsupported networks fail here, before any gateware is made
    dut = NetworkGateware(net, memory)
    top = Top(dut)
    rng = np.random.default_rng(seed)
    cores = dut.plan["cores"]
    out = {
        name: {
            "spike": np.zeros((steps, p.size), dtype=np.bool_),
            **{f: np.zeros((steps, p.size), dtype=np.int64) for f in net.probes.get(name, ())},
        }
        for name, p in net.populations.items()
    }
    value_edges = [
        c for c in net.connections if c.synapse is None and net.inputs[c.source].kind == "value"
    ]
    spike_inputs = [k for k, node in net.inputs.items() if node.kind == "spike"]

    async def testbench(ctx):
        await reset(ctx, top.domain)
        for t in range(steps):
            # host phase: value inputs of step t - delay, then spike inputs of step t
            for conn in value_edges:
                core = cores[conn.target]
                src = t - conn.delay
                values = (
                    arrays[conn.source][src] if src >= 0 else np.zeros(core.n_neurons, np.int64)
                )
                addr, data, we, whole_word = dut.value_port(conn)
                zero = {key: 0 for key in core.input_layout.members}
                for i, value in enumerate(values.tolist()):
                    ctx.set(addr, i)
                    ctx.set(data, zero | {conn.port: value} if whole_word else value)
                    ctx.set(we, 1)
                    await ctx.tick()
                ctx.set(we, 0)
            for name, enc in net.encoders.items():
                addr = getattr(dut, f"{name}_in_addr")
                data = getattr(dut, f"{name}_in_data")
                we = getattr(dut, f"{name}_in_we")
                for i, value in enumerate(arrays[enc.source][t].tolist()):
                    ctx.set(addr, i)
                    ctx.set(data, value)
                    ctx.set(we, 1)
                    await ctx.tick()
                ctx.set(we, 0)
            for key in spike_inputs:
                stream = getattr(dut, f"{key}_aer")
                for i in np.flatnonzero(arrays[key][t]).tolist():
                    while rng.random() > p_valid:
                        await ctx.tick()
                    ctx.set(stream.payload.addr, i)
                    ctx.set(stream.valid, 1)
                    await ctx.tick().until(stream.ready)
                    ctx.set(stream.valid, 0)
            # fire + route, recording every core's events
            ctx.set(dut.step, 1)
            await ctx.tick()
            ctx.set(dut.step, 0)
            for _ in range(max_cycles_per_step):
                for name, core in dut.cores.items():
                    if ctx.get(core.aer.valid) and ctx.get(core.aer.ready):
                        out[name]["spike"][t, ctx.get(core.aer.payload.addr)] = True
                if ctx.get(dut.done):
                    break
                await ctx.tick()
            else:
                raise NetworkError(
                    f"{net.name}: timestep {t} did not finish in {max_cycles_per_step} cycles"
                )
            await ctx.tick()
            # read back the probed state
            for name, fields in net.probes.items():
                if not fields:
                    continue
                addr = getattr(dut, f"{name}_rd_addr")
                data = getattr(dut, f"{name}_rd_data")
                for i in range(cores[name].n_neurons):
                    ctx.set(addr, i)
                    await ctx.tick()
                    word = ctx.get(data)
                    for f in fields:
                        out[name][f][t, i] = getattr(word, f)

    simulate(top, testbench, vcd)
    return out


def compare(net: Network, inputs, steps: int | None = None, *, seed: int = 0, **kwargs) -> dict:
    """Run ``net`` on its model and in pysim; raise :class:`NetworkMismatchError` at the first
    differing timestep (naming the population, field, neuron and both values); return the run.
    """
    want = net.model().run(inputs, steps)
    got = run_pysim(net, inputs, steps, seed=seed, **kwargs)
    steps = next(iter(want.values()))["spike"].shape[0]
    for t in range(steps):
        for name, rec in want.items():
            for key, arr in rec.items():
                diff = np.flatnonzero(arr[t] != got[name][key][t])
                if diff.size:
                    i = int(diff[0])
                    raise NetworkMismatchError(
                        f"{net.name}: model and pysim differ first at timestep {t}, "
                        f"{name}.{key}[{i}]: model={int(arr[t, i])}, "
                        f"pysim={int(got[name][key][t, i])} (seed={seed})"
                    )
    return want
