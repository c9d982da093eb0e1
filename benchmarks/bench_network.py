#!/usr/bin/env python3
"""Speed of the network model: a 3-layer feed-forward SNN of dense layers, 1000 timesteps.

The issue's target: a 3-layer 1000-neuron network at 1000 timesteps in under 1 s. Two shapes
are timed: ``--sizes 1000,1000,1000`` (three populations of 1000 neurons, two 1000 x 1000
dense layers behind a 1000-element spike input: the harder reading) and e.g.
``--sizes 400,400,200`` (1000 neurons in all). Inputs fire with probability ``--rate`` per
element and step; weights are uniform in ``[-8, 8]`` (8-bit) and thresholds 60, so each
layer spikes sparsely.

    python benchmarks/bench_network.py                      # both shapes, best of 5
    python benchmarks/bench_network.py --sizes 1000,1000,1000 --steps 1000 --repeat 3
    python benchmarks/bench_network.py --synth 64,128,10    # gateware on iCE40 UP5K
    python benchmarks/bench_network.py --synth 64,128,10 --mesh 2x2   # the same on 4 cores

``--synth IN,HIDDEN,OUT`` builds the gateware of a two-layer network (``lif_shift`` hidden
layer, ``if_neuron`` output layer, 8-bit dense weights) and reports its UP5K area (Yosys) and
Fmax (nextpnr, inside a harness that drives every input from a shift register and XORs every
output into one flip-flop, as bench_synth.py does for components).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

import neurogate as ng


def build(sizes, n_in, seed):
    rng = np.random.default_rng(seed)
    net = ng.Network("ff3")
    net.input("x", n_in)
    prev, prev_n = "x", n_in
    for i, n in enumerate(sizes):
        name = f"l{i}"
        net.population(name, "lif_shift", n, threshold=60)
        net.connect(prev, name, "dense", weights=rng.integers(-8, 9, size=(prev_n, n)))
        prev, prev_n = name, n
    return net


def synth(spec: str, seeds: int, mesh: str | None = None) -> None:
    """Area and Fmax of the gateware of a two-layer network on the UP5K."""
    import tempfile
    from pathlib import Path

    from bench_synth import columns, synthesise_gateware

    from neurogate.gateware.network import NetworkGateware

    n_in, n_hid, n_out = (int(x) for x in spec.split(","))
    rng = np.random.default_rng(1)
    net = ng.Network("net")
    net.input("x", n_in)
    net.population("h", "lif_shift", n_hid, threshold=60)
    net.population("o", "if_neuron", n_out, threshold=100)
    net.connect("x", "h", "dense", weights=rng.integers(-8, 9, size=(n_in, n_hid)))
    net.connect("h", "o", "dense", weights=rng.integers(-8, 9, size=(n_hid, n_out)))
    where = ""
    if mesh:
        width, height = (int(v) for v in mesh.lower().split("x"))
        nodes = [(x, y) for y in range(height) for x in range(width)]
        net.mesh(width, height, place={"h": nodes[-1], "o": nodes[len(nodes) // 2]})
        where = f", on a {width} x {height} mesh (x at {nodes[0]}, h at {nodes[-1]}, o at " + (
            f"{nodes[len(nodes) // 2]})"
        )

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cells, fmax = synthesise_gateware(
            "network", lambda: NetworkGateware(net), Path(tmp), "up5k", False, seeds, 100.0
        )
        area = columns(cells, "up5k")
    print(
        f"network {n_in} -> {n_hid} lif_shift -> {n_out} if_neuron (dense, 8-bit weights"
        f"{where}) on UP5K: {area['lut']} LUT4, {area['carry']} carry, {area['ff']} FF, "
        f"{area['ram']} EBR; "
        f"Fmax {max(fmax):.1f} MHz (best of {seeds} seeds; {time.perf_counter() - t0:.0f} s)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", action="append", help="comma list of layer sizes")
    parser.add_argument("--inputs", type=int, default=1000, help="spike input size")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synth", metavar="IN,HIDDEN,OUT", help="gateware area/Fmax on UP5K")
    parser.add_argument("--seeds", type=int, default=2, help="nextpnr seeds for --synth")
    parser.add_argument("--mesh", metavar="WxH", help="--synth on a mesh of routers, e.g. 2x2")
    args = parser.parse_args(argv)
    if args.synth:
        return synth(args.synth, args.seeds, args.mesh)
    shapes = [
        tuple(int(x) for x in s.split(","))
        for s in (args.sizes or ["1000,1000,1000", "400,400,200"])
    ]
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, {args.steps} steps, input rate {args.rate}")  # fmt: skip
    for sizes in shapes:
        net = build(sizes, args.inputs, args.seed)
        rng = np.random.default_rng(args.seed)
        x = (rng.random((args.steps, args.inputs)) < args.rate).astype(np.uint8)
        times, out = [], None
        for _ in range(args.repeat + 1):
            model = net.model()
            t0 = time.perf_counter()
            out = model.run({"x": x}, progress=False)
            times.append(time.perf_counter() - t0)
        times = times[1:]
        spikes = [int(out[f"l{i}"]["spike"].sum()) for i in range(len(sizes))]
        events = sum(s * n for s, n in zip([int(x.sum()), *spikes[:-1]], sizes, strict=True))
        best = min(times)
        print(
            f"layers {sizes}: best {best:.3f} s, median {statistics.median(times):.3f} s "
            f"for {args.steps} steps; spikes per layer {spikes}; "
            f"{events / best / 1e6:.0f} M synaptic events/s"
        )


if __name__ == "__main__":
    main()
