#!/usr/bin/env python3
"""Synthesise the time-multiplexed neuron core for the iCE40 UP5K with YoWASP; area and Fmax.

For each configuration (kernel, neurons, memory) this writes the core's Verilog (with a
platform, so ``memory="spram"`` instantiates ``SB_SPRAM256KA``), runs Yosys ``synth_ice40`` on
the core alone (LUT4, carry, flip-flops, EBR, SPRAM) and nextpnr-ice40 for the UP5K-SG48 on the
core inside a harness that drives every input from a shift register and registers the XOR of
every output, so every timed path starts and ends at a flip-flop. The core updates one neuron
per clock, so a timestep takes ``n_neurons + 3`` cycles: the table also gives the timestep rate
at Fmax.

    python benchmarks/bench_neuron_core.py                  # lif_shift 16-bit, EBR and SPRAM
    python benchmarks/bench_neuron_core.py --seeds 3 --json core.json

Measured (Yosys and nextpnr from YoWASP, best of 2 seeds; four-stage core, N + 4 cycles/step;
after lif_shift compares the exact sum with its threshold in saturate mode):

  configuration                                neurons  LUT4 carry   FF EBR SPRAM Fmax MHz step kHz
  lif_shift 16-bit, EBR, most that fit            3584   387    63  228  29     0     43.0    11.99
  lif_shift 16-bit, SPRAM, 4096                   4096   301    74  157   1     3     42.9    10.47
  lif_shift 16-bit, SPRAM, 16384                 16384   320    78  171   1     3     43.0     2.63

The issue's target for the UP5K core, at least 16,384 LIF neurons at one update per clock and at
least 40 MHz, is met by the SPRAM configuration (a 2.6 kHz timestep at Fmax). The critical path
is the kernel's update between two registers (the memories' outputs are registered first).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Elaboratable, Module, Signal, Value

# The YoWASP calls are bench_synth's (this script runs from benchmarks/, beside it).
from bench_synth import place_route, yosys

import neurogate as ng
from neurogate.gateware.neuron_core import NeuronCore

# (label, kernel parameters, n_neurons or None for the most that fit, memory)
CONFIGS = [
    ("lif_shift 16-bit, EBR, most that fit", {"data_width": 16}, None, "ebr"),
    ("lif_shift 16-bit, SPRAM, 4096", {"data_width": 16}, 4096, "spram"),
    ("lif_shift 16-bit, SPRAM, 16384", {"data_width": 16}, 16384, "spram"),
    ("lif_shift 16-bit wrap, EBR, most that fit", {"overflow": "wrap"}, None, "ebr"),
    ("lif_shift 16-bit wrap, SPRAM, 16384", {"overflow": "wrap"}, 16384, "spram"),
]
CELLS = {
    "lut4": ("SB_LUT4",),
    "carry": ("SB_CARRY",),
    "ff": ("SB_DFF",),
    "ebr": ("SB_RAM40_4K",),
    "spram": ("SB_SPRAM256KA",),
}


class _Platform:
    """A stand-in platform: the core only checks that there is one (SPRAM instances)."""


class Harness(Elaboratable):
    """Every core input from a shift register, the XOR of every output registered."""

    def __init__(self, core: NeuronCore):
        self.dut = core.create()
        self.sin = Signal()
        self.sout = Signal()

    def elaborate(self, platform):
        m = Module()
        dut = m.submodules.dut = self.dut
        ins = [dut.step, dut.in_addr, dut.in_data, dut.in_we, dut.rd_addr, dut.aer.ready]
        outs = [dut.busy, dut.done, dut.rd_data, dut.aer.valid, dut.aer.payload]
        width = sum(Value.cast(v).shape().width for v in ins)
        chain = Signal(width)
        m.d.sync += chain.eq((chain << 1) | self.sin)
        pos = 0
        for v in ins:
            w = Value.cast(v).shape().width
            m.d.comb += v.eq(chain[pos : pos + w])
            pos += w
        acc = Value.cast(outs[0]).xor()
        for v in outs[1:]:
            acc = acc ^ Value.cast(v).xor()
        m.d.sync += self.sout.eq(acc)
        return m


def synthesise(label, core: NeuronCore, workdir: Path, seeds: int, freq: float) -> dict:
    t0 = time.perf_counter()
    platform = _Platform()
    (workdir / "dut.v").write_text(
        verilog.convert(core.create(), name="dut", platform=platform, emit_src=False)
    )
    yosys(workdir, "dut.v", "dut", "up5k", False, "stat")
    cells = json.loads((workdir / "stat.json").read_text())["modules"]["\\dut"]["num_cells_by_type"]
    area = {
        col: sum(v for k, v in cells.items() if k.startswith(prefixes))
        for col, prefixes in CELLS.items()
    }
    top = Harness(core)
    text = verilog.convert(
        top, name="top", platform=platform, ports=[top.sin, top.sout], emit_src=False
    )
    (workdir / "top.v").write_text(text)
    yosys(workdir, "top.v", "top", "up5k", False, "json")
    fmax = place_route(workdir, "up5k", seeds, freq, label)
    best = max(fmax) if fmax else None
    return {
        "label": label,
        "core": repr(core),
        "neurons": core.n_neurons,
        **area,
        "fmax_mhz": best,
        "cycles_per_step": core.cycles_per_step,
        "timestep_khz": best * 1e3 / core.cycles_per_step if best else None,
        "seeds": seeds,
        "seconds": time.perf_counter() - t0,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="nextpnr seeds (best Fmax reported)")
    parser.add_argument("--freq", type=float, default=60.0, help="nextpnr target, MHz")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'configuration':44} {'neurons':>7} {'LUT4':>5} {'carry':>5} {'FF':>4} "
          f"{'EBR':>3} {'SPRAM':>5} {'Fmax MHz':>8} {'step kHz':>8}")  # fmt: skip
    for label, params, n, memory in CONFIGS:
        kernel = ng.component("lif_shift", **params)
        n = n or NeuronCore.max_neurons(kernel, memory)
        core = NeuronCore(kernel, n, memory=memory)
        with tempfile.TemporaryDirectory() as tmp:
            r = synthesise(label, core, Path(tmp), args.seeds, args.freq)
        rows.append(r)
        print(f"{label:44} {r['neurons']:7} {r['lut4']:5} {r['carry']:5} {r['ff']:4} "
              f"{r['ebr']:3} {r['spram']:5} {r['fmax_mhz'] or 0:8.1f} "
              f"{r['timestep_khz'] or 0:8.2f}", flush=True)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
