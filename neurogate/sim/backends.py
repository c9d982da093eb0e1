"""Simulation backends behind one contract: ``model`` (NumPy) and ``pysim`` (Amaranth).

Every backend takes a component, a validated stimulus ``{input_port: (T, n) array}`` and
returns ``{output_port: (T, n) int array}`` aligned so that row ``t`` is the value after step
``t`` (the gateware's outputs are sampled ``latency`` cycles after the input of step ``t``).
Backends are plugins: :func:`neurogate_register_sim_backends` registers the built-in ones.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import ClockDomain, Elaboratable, Module
from amaranth.sim import Simulator

from neurogate.core.component import Component
from neurogate.core.hookspecs import hookimpl

__all__ = ["Backend", "ModelBackend", "PysimBackend", "Side", "reset"]


async def reset(ctx, domain: ClockDomain) -> None:
    """Assert ``domain``'s reset for one clock cycle, as a board does at power-up.

    Every gateware backend starts this way, so a component may load its reset state on reset
    rather than rely on power-on values (which FPGAs support only partly).
    """
    ctx.set(domain.rst, 1)
    await ctx.tick(domain.name)
    ctx.set(domain.rst, 0)


class Top(Elaboratable):
    """``dut`` with an explicit ``sync`` clock domain (whose reset :func:`reset` drives)."""

    def __init__(self, dut):
        self.dut = dut
        self.domain = ClockDomain("sync")

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = self.domain
        m.submodules.dut = self.dut
        return m


def simulate(top: Elaboratable, testbench, vcd: str | None = None) -> None:
    """Run ``testbench`` (an async testbench) on ``top`` with a 1 MHz clock, until it returns.

    With ``vcd``, a waveform of the whole run is written to that path.
    """
    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()


class Backend:
    """A simulation backend. Subclasses set :attr:`name` and implement :meth:`run`."""

    #: Name used by ``neurogate.sim.run(..., backend=name)``.
    name = ""
    #: One line for ``neurogate plugins``.
    description = ""

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Return why this backend cannot run here (a missing simulator), or ``None``."""
        return None

    def run(
        self,
        component: Component,
        inputs: dict,
        steps: int,
        n: int,
        *,
        progress=None,
        vcd: str | None = None,
    ) -> dict[str, np.ndarray]:
        """Run ``steps`` steps of ``n`` instances; return every output port as ``(T, n)``."""
        raise NotImplementedError


class ModelBackend(Backend):
    """The component's bit-true NumPy model."""

    name = "model"
    description = "bit-true NumPy model (vectorised over instances)"

    def run(self, component, inputs, steps, n, *, progress=None, vcd=None):
        out = component.model(n).run(inputs, steps=steps)
        return {key: out[key] for key in component.outputs}


class Side(Elaboratable):
    """Several gateware objects side by side in one ``sync`` domain, for one simulation.

    They are submodules ``<prefix>0``, ``<prefix>1``, ...; :func:`reset` drives the domain.
    """

    def __init__(self, duts, prefix: str = "u"):
        self.duts = list(duts)
        self.prefix = prefix
        self.domain = ClockDomain("sync")

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = self.domain
        for i, dut in enumerate(self.duts):
            m.submodules[f"{self.prefix}{i}"] = dut
        return m


class PysimBackend(Backend):
    """Amaranth's Python simulator, driven by an async testbench, one clock cycle per step."""

    name = "pysim"
    description = "Amaranth simulator (async testbench, one clock per step)"

    def run(self, component, inputs, steps, n, *, progress=None, vcd=None):
        top = Side(component.create() for _ in range(n))
        latency = component.latency
        in_names = list(component.inputs)
        out_names = list(component.outputs)
        in_sigs = [[getattr(d, k) for d in top.duts] for k in in_names]
        out_sigs = [[getattr(d, k) for d in top.duts] for k in out_names]
        in_vals = [inputs[k].tolist() for k in in_names]
        results = [np.zeros((steps, n), dtype=np.int64) for _ in out_names]

        async def testbench(ctx):
            await reset(ctx, top.domain)
            for cycle in range(steps + latency):
                if cycle < steps:
                    for sigs, vals in zip(in_sigs, in_vals, strict=True):
                        row = vals[cycle]
                        for sig, value in zip(sigs, row, strict=True):
                            ctx.set(sig, value)
                t = cycle - latency
                if t >= 0:
                    for sigs, res in zip(out_sigs, results, strict=True):
                        res[t] = [ctx.get(sig) for sig in sigs]
                await ctx.tick()
                if progress is not None:
                    progress(1)

        simulate(top, testbench, vcd)
        return {k: res for k, res in zip(out_names, results, strict=True)}


@hookimpl
def neurogate_register_sim_backends():
    return [ModelBackend, PysimBackend]
