#!/usr/bin/env python3
"""Synthesise the time-multiplexed neuron core for the iCE40 UP5K with YoWASP; area and Fmax.

For each configuration (kernel, neurons, memory, per-neuron parameters) this writes the core's
Verilog (with a platform, so ``memory="spram"`` instantiates ``SB_SPRAM256KA``), runs Yosys
``synth_ice40`` on the core alone (LUT4, carry, flip-flops, DSP, EBR, SPRAM; ``-dsp`` for the
configurations that multiply by a runtime value) and nextpnr-ice40 for the UP5K-SG48 on the
core inside a harness that drives every input from a shift register and registers the XOR of
every output, so every timed path starts and ends at a flip-flop. The core updates one neuron
per clock, so a timestep takes ``n_neurons + 4`` cycles: the table also gives the timestep rate
at Fmax. Per-neuron parameters are initialised with seeded random values (the contents do not
change the area).

    python benchmarks/bench_neuron_core.py                  # every configuration below
    python benchmarks/bench_neuron_core.py --only lif --seeds 3 --json core.json

Measured (Yosys 0.70 and nextpnr-ice40 0.11 from YoWASP, best of 2 seeds; commit edd89a5):

  configuration                                neurons  LUT4 carry   FF DSP EBR SPRAM  MHz  step kHz
  lif_shift 16-bit, EBR, most that fit            3584   389    63  228   0  29     0  40.6    11.31
  lif_shift 16-bit, SPRAM, 4096                   4096   301    74  157   0   1     3  42.6    10.39
  lif_shift 16-bit, SPRAM, 16384                 16384   320    78  171   0   1     3  42.8     2.61
  lif_shift 16-bit wrap, EBR, most that fit       3584   363    43  228   0  29     0  43.3    12.06
  lif_shift 16-bit wrap, SPRAM, 16384            16384   300    58  171   0   1     3  43.5     2.65
  lif 16-bit, per-neuron leak/gain, EBR           1792   685   112  330   2  29     0  33.0    18.38
  lif 16-bit, per-neuron leak/gain, SPRAM+EBR     3584   577   123  269   2  29     3  32.2     8.98

The issue's target for the UP5K core, at least 16,384 LIF neurons at one update per clock and at
least 40 MHz, is met by the SPRAM configuration (a 2.6 kHz timestep at Fmax). The critical path
is the kernel's update between two registers (the memories' outputs are registered first).
Per-neuron leak_k and gain_k (32 bits) fit 1792 neurons in EBR and 3584 with the state in SPRAM
(the parameters take 28 EBR); 16384 neurons leave room for 6 bits of parameters in EBR. The lif
rows use two SB_MAC16, whose combinational delay nextpnr-ice40 does not time (see the caveat in
benchmarks/README.md): their Fmax is optimistic.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# The YoWASP calls are bench_synth's (this script runs from benchmarks/, beside it).
from bench_synth import synthesise_gateware

import neurogate as ng
from neurogate.gateware.neuron_core import NeuronCore

RUNTIME_LIF = ("lif", {"leak_k": None, "gain_k": None})
PER_NEURON = ("leak_k", "gain_k")
# (label, (kernel, kernel parameters), n_neurons or None for the most that fit, memory,
#  input ports held as per-neuron parameters, Yosys -dsp)
CONFIGS = [
    ("lif_shift 16-bit, EBR, most that fit", ("lif_shift", {}), None, "ebr", (), False),
    ("lif_shift 16-bit, SPRAM, 4096", ("lif_shift", {}), 4096, "spram", (), False),
    ("lif_shift 16-bit, SPRAM, 16384", ("lif_shift", {}), 16384, "spram", (), False),
    ("lif_shift 16-bit wrap, EBR, most that fit", ("lif_shift", {"overflow": "wrap"}), None,
     "ebr", (), False),
    ("lif_shift 16-bit wrap, SPRAM, 16384", ("lif_shift", {"overflow": "wrap"}), 16384, "spram",
     (), False),
    ("lif 16-bit, per-neuron leak/gain, EBR, most that fit", RUNTIME_LIF, None, "ebr",
     PER_NEURON, True),
    ("lif 16-bit, per-neuron leak/gain, SPRAM + EBR params, most", RUNTIME_LIF, None, "spram",
     PER_NEURON, True),
]  # fmt: skip
CELLS = {
    "lut4": ("SB_LUT4",),
    "carry": ("SB_CARRY",),
    "ff": ("SB_DFF",),
    "dsp": ("SB_MAC16",),
    "ebr": ("SB_RAM40_4K",),
    "spram": ("SB_SPRAM256KA",),
}


class _Platform:
    """A stand-in platform: the core only checks that there is one (SPRAM instances)."""


def synthesise(
    label, core: NeuronCore, workdir: Path, seeds: int, freq: float, dsp: bool = False
) -> dict:
    t0 = time.perf_counter()
    cells, fmax = synthesise_gateware(
        label, core.create, workdir, "up5k", dsp, seeds, freq, platform=_Platform()
    )
    area = {
        col: sum(v for k, v in cells.items() if k.startswith(prefixes))
        for col, prefixes in CELLS.items()
    }
    best = max(fmax) if fmax else None
    return {
        "label": label,
        "core": repr(core),
        "neurons": core.n_neurons,
        "param_blocks": core.param_blocks(),
        "dsp_allowed": dsp,
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
    parser.add_argument("--only", default="", help="run the configurations whose label has this")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'configuration':60} {'neurons':>7} {'LUT4':>5} {'carry':>5} {'FF':>4} {'DSP':>3} "
          f"{'EBR':>3} {'SPRAM':>5} {'Fmax MHz':>8} {'step kHz':>8}")  # fmt: skip
    rng = np.random.default_rng(1)
    for label, (name, kernel_params), n, memory, keys, dsp in CONFIGS:
        if args.only not in label:
            continue
        kernel = ng.component(name, **kernel_params)
        n = n or NeuronCore.max_neurons(kernel, memory, keys)
        ports = kernel.input_ports()
        params = {
            key: rng.integers(ports[key].format.min, ports[key].format.max + 1, size=n)
            for key in keys
        }
        core = NeuronCore(kernel, n, memory=memory, params=params)
        with tempfile.TemporaryDirectory() as tmp:
            r = synthesise(label, core, Path(tmp), args.seeds, args.freq, dsp)
        rows.append(r)
        print(f"{label:60} {r['neurons']:7} {r['lut4']:5} {r['carry']:5} {r['ff']:4} "
              f"{r['dsp']:3} {r['ebr']:3} {r['spram']:5} {r['fmax_mhz'] or 0:8.1f} "
              f"{r['timestep_khz'] or 0:8.2f}", flush=True)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
