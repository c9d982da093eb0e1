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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", action="append", help="comma list of layer sizes")
    parser.add_argument("--inputs", type=int, default=1000, help="spike input size")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
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
