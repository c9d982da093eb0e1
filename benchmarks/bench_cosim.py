"""Co-simulation throughput: clock cycles per second of each gateware backend, same design.

    python benchmarks/bench_cosim.py            # the table in benchmarks/README.md
    python benchmarks/bench_cosim.py --quick    # fewer cycles (a smoke run)

Designs: one ``lif`` neuron (n=1) and 64 ``lif`` neurons side by side (n=64, the 64-neuron
population as parallel datapaths); and a 64-neuron *network* (16 spike inputs, a ``dense``
layer, 64 ``lif_shift`` neurons in a time-multiplexed core, ``v`` probed), whose host is a
bench program on ``pysim``, ``verilator`` and ``icarus`` (no bulk mode: the host waits on
``ready`` and ``done``). Each backend runs ``ng.sim.run`` on seeded random input
currents; the time is the whole call with a warm build cache (the compile is timed separately,
as ``build s``): stimulus packing, simulator start-up, the run and reading the results back.
``verilator``/``icarus`` step the clock from Python through cocotb; ``*-bulk`` run the
file-driven, self-clocked testbench. Every run is checked against the NumPy model.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np

import neurogate as ng

#: (backend, cycles for n=1, cycles for n=64) in the full run.
PLAN = [
    ("pysim", 20_000, 2_000),
    ("verilator", 100_000, 20_000),
    ("icarus", 50_000, 5_000),
    ("verilator-bulk", 2_000_000, 1_000_000),
    ("icarus-bulk", 200_000, 20_000),
]


def measure(backend: str, n: int, cycles: int, seed: int = 1) -> dict:
    lif = ng.component("lif", v_threshold=300)
    stim = ng.sim.random_inputs(lif, steps=cycles, n=n, seed=seed)
    small = {k: v[:50] for k, v in stim.items()}
    start = time.perf_counter()
    ng.sim.run(lif, small, backend=backend, progress=False)  # builds (or finds) the model
    build = time.perf_counter() - start
    start = time.perf_counter()
    got = ng.sim.run(lif, stim, backend=backend, progress=False)
    took = time.perf_counter() - start
    ref = lif.model(n).run(stim)
    for port in lif.outputs:
        if not np.array_equal(ref[port], got[port]):
            raise AssertionError(f"{backend} differs from the model on {port!r} (n={n})")
    return {"backend": backend, "n": n, "cycles": cycles, "seconds": took, "build": build}


#: (backend, timesteps) of the network rows in the full run.
NETWORK_PLAN = [("pysim", 40), ("verilator", 400), ("icarus", 100)]


def network(seed: int = 1):
    """The 64-neuron network of the benchmark and its input spikes (rate 0.2)."""
    rng = np.random.default_rng(seed)
    net = ng.Network("net64")
    net.input("x", 16)
    net.population("p", "lif_shift", 64, threshold=60)
    net.connect("x", "p", "dense", weights=rng.integers(-8, 24, (16, 64)))
    net.probe("p", "v")
    return net


def cycles_per_step(net, inputs) -> float:
    """Clock cycles of a run in pysim (counted at the bench's clock edges) per timestep."""
    from neurogate.sim import harness

    count = [0]
    edge = harness._PysimIO.edge

    async def counted(self):
        count[0] += 1
        await edge(self)

    harness._PysimIO.edge = counted
    try:
        ng.sim.run(net, inputs, backend="pysim")
    finally:
        harness._PysimIO.edge = edge
    return count[0] / len(next(iter(inputs.values())))


def measure_network(backend: str, steps: int, seed: int = 1) -> dict:
    net = network(seed)
    rng = np.random.default_rng(seed)
    inputs = {"x": (rng.random((steps, 16)) < 0.2).astype(np.uint8)}
    start = time.perf_counter()
    ng.sim.run(net, {"x": inputs["x"][:2]}, backend=backend)  # builds (or finds) the model
    build = time.perf_counter() - start
    start = time.perf_counter()
    got = ng.sim.run(net, inputs, backend=backend)
    took = time.perf_counter() - start
    want = net.model().run(inputs)
    for key in ("spike", "v"):
        if not np.array_equal(want["p"][key], got["p"][key]):
            raise AssertionError(f"{backend} differs from the model on p.{key}")
    return {"backend": backend, "steps": steps, "seconds": took, "build": build}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the cycles")
    parser.add_argument("--no-network", action="store_true", help="only the lif rows")
    parser.add_argument("--fresh-cache", action="store_true", help="time the compiles too")
    args = parser.parse_args()
    if args.fresh_cache:
        os.environ["NEUROGATE_CACHE_DIR"] = tempfile.mkdtemp(prefix="ng-bench-cache-")
    available = ng.sim.available_backends()
    rows = []
    for backend, c1, c64 in PLAN:
        reason = available[backend].unavailable_reason()
        if reason:
            print(f"{backend}: skipped ({reason})", flush=True)
            continue
        for n, cycles in ((1, c1), (64, c64)):
            cycles = cycles // 10 if args.quick else cycles
            row = measure(backend, n, cycles)
            rows.append(row)
            rate = row["cycles"] / row["seconds"]
            print(f"{backend:<15} n={n:<3} {cycles:>9} cycles {row['seconds']:8.2f} s "
                  f"{rate:>12,.0f} cycles/s  (first call incl. build {row['build']:.1f} s)",
                  flush=True)  # fmt: skip
    net_rows = []
    if not args.no_network:
        net = network()
        rng = np.random.default_rng(1)
        per_step = cycles_per_step(net, {"x": (rng.random((20, 16)) < 0.2).astype(np.uint8)})
        print(f"net64: {per_step:.1f} clock cycles per timestep (pysim, 20 steps)", flush=True)
        for backend, steps in NETWORK_PLAN:
            reason = available[backend].unavailable_reason()
            if reason:
                print(f"{backend}: skipped ({reason})", flush=True)
                continue
            steps = max(4, steps // 10) if args.quick else steps
            row = measure_network(backend, steps)
            net_rows.append(row)
            print(f"{backend:<15} net64 {steps:>6} steps {row['seconds']:8.2f} s "
                  f"{steps / row['seconds']:10.1f} steps/s  (first call incl. build "
                  f"{row['build']:.1f} s)", flush=True)  # fmt: skip
    base = {r["n"]: r["cycles"] / r["seconds"] for r in rows if r["backend"] == "verilator"}
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs")
    print("| backend | design | cycles | s | cycles/s | neuron-steps/s | vs verilator |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        rate = r["cycles"] / r["seconds"]
        vs = f"{rate / base[r['n']]:.1f}x" if r["n"] in base else "-"
        design = "lif" if r["n"] == 1 else f"{r['n']} x lif"
        print(f"| {r['backend']} | {design} | {r['cycles']:,} | {r['seconds']:.2f} | "
              f"{rate:,.0f} | {rate * r['n']:,.0f} | {vs} |")  # fmt: skip
    if net_rows:
        print()
        print(f"net64: {per_step:.1f} cycles per timestep")
        print("| backend | design | timesteps | s | timesteps/s | cycles/s | neuron-steps/s |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for r in net_rows:
            rate = r["steps"] / r["seconds"]
            print(f"| {r['backend']} | 64-neuron network | {r['steps']:,} | {r['seconds']:.2f} | "
                  f"{rate:,.1f} | {rate * per_step:,.0f} | {rate * 64:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
