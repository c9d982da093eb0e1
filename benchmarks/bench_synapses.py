#!/usr/bin/env python3
"""Synapse layers: NumPy model throughput, and UP5K area and Fmax of their gateware.

Model: a ``dense`` 1024 x 1024 layer of 8-bit weights (seeded random) and a ``sparse`` one with
10% of the pairs connected, 1000 timesteps whose input spikes are Bernoulli with rate 5%
(seeded), run once with ``model.run`` (all steps at once) and once with ``model.step`` per
timestep (as a network with recurrence must). Synaptic events are input spikes x fan-out
(``n_out`` for ``dense``); the rate is events over wall time, best and median of ``--repeat``
runs.

Synthesis: for each configuration the layer's Verilog (with a stand-in platform, so
``memory="spram"`` instantiates ``SB_SPRAM256KA``), Yosys ``synth_ice40`` on the layer alone
(LUT4, carry, flip-flops, EBR, SPRAM) and nextpnr-ice40 for the UP5K-SG48 on the layer inside
a harness that drives every input from a shift register and registers the XOR of every output
(every timed path starts and ends at a flip-flop), with bench_synth's YoWASP calls. The table
gives the synaptic events per second at Fmax (``dense``: ``lanes`` weights per clock;
``sparse``: one connection per clock; ``sc_dense``: every synapse's AND gate every clock) and
the flush time of one step.

    python benchmarks/bench_synapses.py                     # model and every configuration
    python benchmarks/bench_synapses.py --no-synth          # model only
    python benchmarks/bench_synapses.py --only 64x64 --seeds 3 --json synapses.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# The YoWASP calls are bench_synth's (this script runs from benchmarks/, beside it).
from bench_synth import synthesise_gateware

import neurogate as ng

# (label, component name, parameters without weights/connections, n_in, n_out, density):
# weights are seeded random over the full range, sparse connections a seeded random
# `density` of all pairs.
CONFIGS = [
    ("dense 64x64, 8-bit, 2 lanes, EBR", "dense", {}, 64, 64, 1.0),
    ("dense 64x64, 8-bit, 4 lanes, EBR", "dense", {"lanes": 4}, 64, 64, 1.0),
    ("dense 128x96, 8-bit, 2 lanes, EBR", "dense", {}, 128, 96, 1.0),
    ("dense 256x256, 8-bit, 2 lanes, SPRAM", "dense", {"memory": "spram"}, 256, 256, 1.0),
    ("dense 256x256, 4-bit, 4 lanes, SPRAM", "dense", {"memory": "spram", "weight_bits": 4},
     256, 256, 1.0),
    ("sparse 256x256, 8-bit, 5% (3277 conn.)", "sparse", {}, 256, 256, 0.05),
    ("sc_dense 16x16, 8-bit, 16-bit LFSRs", "sc_dense", {}, 16, 16, 1.0),
    ("sc_dense 16x16, 8-bit, 8-bit LFSRs", "sc_dense", {"lfsr_width": 8}, 16, 16, 1.0),
]  # fmt: skip
CELLS = {
    "lut4": ("SB_LUT4",),
    "carry": ("SB_CARRY",),
    "ff": ("SB_DFF",),
    "ebr": ("SB_RAM40_4K",),
    "spram": ("SB_SPRAM256KA",),
}


# -- model ----------------------------------------------------------------------------------------
def bench_model(name: str, density: float, rate: float, steps: int, repeat: int) -> dict:
    """Time ``name`` (1024 x 1024, seeded random 8-bit weights; ``sparse``: that density)."""
    n_in = n_out = 1024
    rng = np.random.default_rng(2026)
    syn = build(rng, name, {}, n_in, n_out, density)
    spikes = (rng.random((steps, n_in)) < rate).astype(np.uint8)
    if name == "sparse":
        fan_out = np.diff(syn.csr.ptr)
        events = int((spikes.astype(np.int64) @ fan_out).sum())
    else:
        events = int(spikes.sum()) * n_out
    result = {"component": name, "n_in": n_in, "n_out": n_out, "density": density,
              "rate": rate, "steps": steps, "events": events}  # fmt: skip
    reference = None
    for how in ("run", "step"):
        times = []
        for _ in range(repeat):
            model = syn.model()
            t0 = time.perf_counter()
            if how == "run":
                out = model.run(spikes)
            else:
                out = np.stack([model.step(row) for row in spikes])
            times.append(time.perf_counter() - t0)
            if reference is None:
                reference = out
            assert np.array_equal(out, reference), "run and step disagree"
        result[how] = {
            "best_s": min(times),
            "median_s": statistics.median(times),
            "best_mevents_s": events / min(times) / 1e6,
            "median_mevents_s": events / statistics.median(times) / 1e6,
        }
    return result


# -- synthesis -------------------------------------------------------------------------------------
class _Platform:
    """A stand-in platform: the layer only checks that there is one (SPRAM instances)."""


def build(rng, name, params, n_in, n_out, density):
    """Return the component of one configuration, with seeded random weights."""
    bits = params.get("weight_bits", 8)
    weights = rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=(n_in, n_out))
    if name == "sparse":
        i, j = np.nonzero(rng.random((n_in, n_out)) < density)
        conns = np.stack([i, j, weights[i, j]], axis=1)
        return ng.component(name, connections=conns, n_in=n_in, n_out=n_out, **params)
    return ng.component(name, weights=weights, **params)


def synthesise(label, syn, workdir: Path, seeds: int, freq: float) -> dict:
    t0 = time.perf_counter()
    cells, fmax = synthesise_gateware(
        label, syn.create, workdir, "up5k", False, seeds, freq, platform=_Platform()
    )
    area = {
        col: sum(v for k, v in cells.items() if k.startswith(prefixes))
        for col, prefixes in CELLS.items()
    }
    best = max(fmax) if fmax else None
    # synaptic events per clock: dense adds `lanes` weights, sparse one connection, sc_dense
    # every synapse (an AND gate each) every cycle
    per_clock = {"dense": getattr(syn, "lanes", 1), "sparse": 1, "sc_dense": syn.n_in * syn.n_out}
    flush = getattr(syn, "flush_cycles", None)
    return {
        "label": label,
        "component": repr(syn),
        "n_in": syn.n_in,
        "n_out": syn.n_out,
        "weight_bits": syn.weight_bits,
        **area,
        "fmax_mhz": best,
        "fmax_all_mhz": fmax,
        "mevents_s_at_fmax": best * per_clock[syn.name] if best else None,
        "flush_us_at_fmax": flush / best if best and flush else None,
        "seeds": seeds,
        "seconds": time.perf_counter() - t0,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="model runs (best and median)")
    parser.add_argument("--no-synth", action="store_true", help="the model benchmark only")
    parser.add_argument("--no-model", action="store_true", help="the synthesis only")
    parser.add_argument("--seeds", type=int, default=2, help="nextpnr seeds (best Fmax reported)")
    parser.add_argument("--freq", type=float, default=60.0, help="nextpnr target, MHz")
    parser.add_argument(
        "--only", default="", help="synthesise the configurations whose label has this"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results: dict = {"machine": f"{platform.machine()} {platform.processor()}".strip()}
    if not args.no_model:
        results["model"] = []
        for name, density in (("dense", 1.0), ("sparse", 0.1)):
            r = bench_model(name, density, 0.05, 1000, args.repeat)
            results["model"].append(r)
            conn = "" if name == "dense" else f", {density:.0%} connected"
            print(f"{name} 1024 x 1024{conn}, 5% input rate, {r['steps']} steps, "
                  f"{r['events']} events:")  # fmt: skip
            for how in ("run", "step"):
                x = r[how]
                print(f"  {how:5} best {x['best_s'] * 1e3:7.1f} ms  {x['best_mevents_s']:7.0f} M "
                      f"events/s  (median {x['median_mevents_s']:.0f})")  # fmt: skip
    if not args.no_synth:
        rows = []
        print(f"\n{'configuration':40} {'LUT4':>5} {'carry':>5} {'FF':>4} {'EBR':>3} "
              f"{'SPRAM':>5} {'Fmax MHz':>8} {'Mev/s':>6} {'flush us':>8}")  # fmt: skip
        rng = np.random.default_rng(1)
        for label, name, params, n_in, n_out, density in CONFIGS:
            if args.only not in label:
                continue
            syn = build(rng, name, params, n_in, n_out, density)
            with tempfile.TemporaryDirectory() as tmp:
                r = synthesise(label, syn, Path(tmp), args.seeds, args.freq)
            rows.append(r)
            flush = f"{r['flush_us_at_fmax']:8.2f}" if r["flush_us_at_fmax"] else f"{'-':>8}"
            print(f"{label:40} {r['lut4']:5} {r['carry']:5} {r['ff']:4} {r['ebr']:3} "
                  f"{r['spram']:5} {r['fmax_mhz'] or 0:8.1f} {r['mevents_s_at_fmax'] or 0:6.0f} "
                  f"{flush}", flush=True)  # fmt: skip
        results["synth"] = rows
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
