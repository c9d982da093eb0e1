"""The main demo: a population of LIF neurons, each driven by its own LFSR stochastic encoder.

Neuron ``i`` receives a constant intensity ``x_i``; its ``lfsr`` encoder (a distinct seed per
neuron) turns it into a bitstream with ``P(1) = x_i / 2**width``, and each 1 injects a current
pulse into the neuron. The same population runs as NumPy models and as gateware in the Amaranth
simulator, and the two must agree on every spike and membrane value, cycle by cycle.

>>> from neurogate.demo import simulate
>>> res = simulate(neurons=3, steps=60, seed=1)
>>> res["match"], res["spikes_model"].shape
(True, (60, 3))
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from amaranth.hdl import ClockDomain, Elaboratable, Module, Mux
from amaranth.sim import Simulator

import neurogate as ng
from neurogate.sim.backends import reset

__all__ = ["build_population", "run_demo", "simulate"]

ENC_WIDTH = 12
PULSE = 96  # current of one encoder pulse (raw Q8: 0.375)


def build_population(neurons: int, seed: int):
    """Return ``(encoders, lif, intensities)`` for a population of ``neurons``."""
    rng = np.random.default_rng(seed)
    top = (1 << ENC_WIDTH) - 1
    # Intensities spread over the range, jittered; seeds distinct and nonzero.
    base = np.linspace(0.05, 0.95, neurons)
    x = np.clip(np.rint((base + rng.uniform(-0.03, 0.03, neurons)) * top), 1, top).astype(int)
    seeds = rng.choice(np.arange(1, top + 1), size=neurons, replace=False)
    encoders = [ng.component("lfsr", width=ENC_WIDTH, seed=int(s)) for s in seeds]
    lif = ng.component("lif", v_threshold=256, leak_k=8, gain_k=256, refractory=2)
    return encoders, lif, x


class _PopulationTop(Elaboratable):
    """Gateware: encoder ``i`` -> pulse current -> LIF ``i``, for every neuron."""

    def __init__(self, encoders, lif):
        self.encs = [e.create() for e in encoders]
        self.lifs = [lif.create() for _ in encoders]
        self.domain = ClockDomain("sync")

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = self.domain
        for i, (enc, neuron) in enumerate(zip(self.encs, self.lifs, strict=True)):
            m.submodules[f"enc{i}"] = enc
            m.submodules[f"lif{i}"] = neuron
            m.d.comb += neuron.current.eq(Mux(enc.bit, PULSE, 0))
        return m


def _model(encoders, lif, x, steps):
    """NumPy: the encoders' bits (registered, so the neurons see them one step later)."""
    n = len(encoders)
    bits = np.zeros((steps, n), dtype=np.int64)
    for i, enc in enumerate(encoders):
        bits[:, i] = enc.model(1).run({"x": np.full(steps, x[i])})["bit"][:, 0]
    current = np.zeros((steps, n), dtype=np.int64)
    current[1:] = bits[:-1] * PULSE  # step 0 sees the encoder's reset output (0)
    out = lif.model(n).run({"current": current})
    return bits, out["spike"], out["v"]


def _gateware(encoders, lif, x, steps):
    """Amaranth simulator: the same population as one design, sampled every cycle."""
    top = _PopulationTop(encoders, lif)
    n = len(encoders)
    spikes = np.zeros((steps, n), dtype=np.int64)
    v = np.zeros((steps, n), dtype=np.int64)

    async def testbench(ctx):
        await reset(ctx, top.domain)
        for enc, xi in zip(top.encs, x, strict=True):
            ctx.set(enc.x, int(xi))
        for cycle in range(steps + lif.latency):
            if cycle >= lif.latency:  # after step t the LIF outputs show step t
                t = cycle - lif.latency
                spikes[t] = [ctx.get(u.spike) for u in top.lifs]
                v[t] = [ctx.get(u.v) for u in top.lifs]
            await ctx.tick()

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    sim.run()
    return spikes, v


def simulate(neurons: int = 8, steps: int = 400, seed: int = 1) -> dict:
    """Run the population on both backends and return the results and the comparison."""
    encoders, lif, x = build_population(neurons, seed)
    t0 = time.perf_counter()
    bits, spikes_m, v_m = _model(encoders, lif, x, steps)
    t1 = time.perf_counter()
    spikes_g, v_g = _gateware(encoders, lif, x, steps)
    t2 = time.perf_counter()
    mismatch = None
    for name, a, b in (("spike", spikes_m, spikes_g), ("v", v_m, v_g)):
        diff = np.argwhere(a != b)
        if len(diff) and mismatch is None:
            t, i = diff[0]
            mismatch = f"{name} differs first at step {t}, neuron {i}: model={a[t, i]}, " + (
                f"gateware={b[t, i]}"
            )
    return {
        "encoders": encoders,
        "lif": lif,
        "x": x,
        "bits": bits,
        "spikes_model": spikes_m,
        "v_model": v_m,
        "spikes_gateware": spikes_g,
        "v_gateware": v_g,
        "match": mismatch is None,
        "mismatch": mismatch,
        "model_seconds": t1 - t0,
        "gateware_seconds": t2 - t1,
    }


def _raster(spikes: np.ndarray, width: int = 72) -> list[str]:
    steps = spikes.shape[0]
    cols = min(width, steps)
    edges = np.linspace(0, steps, cols + 1).astype(int)
    lines = []
    for i in range(spikes.shape[1]):
        row = "".join("|" if spikes[a:b, i].any() else "." for a, b in itertools.pairwise(edges))
        lines.append(row)
    return lines


def run_demo(neurons: int = 8, steps: int = 400, seed: int = 1, quiet: bool = False) -> int:
    """Print the demo's report; return 0 when model == gateware, 1 otherwise."""
    if neurons < 1 or steps < 1:
        raise ValueError(f"neurons and steps must be >= 1, not {neurons!r} and {steps!r}")
    res = simulate(neurons, steps, seed)
    lif, x = res["lif"], res["x"]
    full = (1 << ENC_WIDTH) - 1
    spikes = res["spikes_model"]
    if not quiet:
        print(f"neurogate {ng.__version__} demo: {neurons} LIF neurons, each driven by an lfsr")
        print(f"encoder ({ENC_WIDTH}-bit, distinct seeds), {steps} steps, seed {seed}")
        print(f"neuron: {lif!r}\n")
        print(" neuron  intensity  encoder ones  spikes  rate (spikes/step)  raster")
        raster = _raster(spikes)
        for i in range(neurons):
            ones = int(res["bits"][:, i].sum())
            count = int(spikes[:, i].sum())
            print(
                f"  {i:>5}  {x[i] / full:>9.3f}  {ones:>12d}  {count:>6d}  "
                f"{count / steps:>18.3f}  {raster[i]}"
            )
        rates = spikes.sum(axis=0)
        monotone = bool(np.all(np.diff(rates) >= -2))
        print(f"\nfiring rate rises with intensity: {'yes' if monotone else 'no'}")
        print(
            f"model: {res['model_seconds'] * 1e3:.1f} ms; gateware (Amaranth pysim): "
            f"{res['gateware_seconds']:.2f} s"
        )
    total = 2 * neurons * steps
    if res["match"]:
        print(
            f"model == gateware: OK ({total} values: spike and v of {neurons} neurons "
            f"x {steps} steps, bit for bit)"
        )
        return 0
    print(f"model == gateware: MISMATCH: {res['mismatch']}")
    return 1
